//! SOAP Autodiscover ([MS-OXWSADISC]): `GetUserSettings` on `/autodiscover/autodiscover.svc`, the
//! Autodiscover the hybrid side uses (Exchange 2010 and later; POX is `autodiscover.xml`).
//!
//! The request is the one of Microsoft's "GetUserSettings operation (SOAP)" page as first published
//! (MicrosoftDocs/office-developer-exchange-docs@0fb052e7ee69f88873612ec4986d32fe679e29ad:
//! docs/web-service-reference/getusersettings-operation-soap.md, 2018; a 2020 edit of the live page
//! turned the namespaces into `https://`, which no server writes): SOAP 1.1, `RequestedServerVersion`
//! Exchange2010, WS-Addressing `Action` and `To`, one user. The answer is read with quick-xml's
//! namespace-aware reader, by local name inside the Autodiscover namespace, bounded in what it keeps.
//! The logon is the POX probe's: an anonymous POST, then after its 401, when the caller allows it,
//! the credentials on the same connection (Basic when offered, else NTLM with the channel binding).

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::ProbeError;
use crate::probe::auth::{self, Attempt, Credentials};

pub const PATH: &str = "/autodiscover/autodiscover.svc";

/// The Autodiscover SOAP namespace (http, as servers write it).
const AUTODISCOVER: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
const ACTION: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";

/// The settings asked for: what the diagnosis shows ([MS-OXWSADISC] 2.2.4.26 names them all).
pub const SETTINGS: [&str; 8] = [
    "UserDisplayName",
    "CasVersion",
    "EwsSupportedSchemas",
    "ExternalEwsUrl",
    "InternalEwsUrl",
    "ExternalMailboxServer",
    "ExternalMailboxServerRequiresSSL",
    "MapiHttpEnabled",
];

/// Kept from one answer: settings and setting errors (a real answer has a few dozen at most), and the
/// characters of one value.
const MAX_SETTINGS: usize = 64;
const MAX_VALUE_CHARS: usize = 2048;
/// More namespace declarations than a real answer carries end the reading.
const MAX_NAMESPACE_BINDINGS: usize = 64;

const HEADERS: [(&str, &str); 2] = [("content-type", "text/xml; charset=utf-8"), ("user-agent", "migcheck")];

/// The request for `mailbox`, addressed to `https://{authority}/autodiscover/autodiscover.svc`.
pub fn request_body(authority: &str, mailbox: &str) -> String {
    let mailbox = quick_xml::escape::escape(mailbox);
    let to = quick_xml::escape::escape(format!("https://{authority}{PATH}")).into_owned();
    let settings: String = SETTINGS
        .iter()
        .map(|s| format!("          <a:Setting>{s}</a:Setting>\n"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:a="{AUTODISCOVER}" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header>
    <a:RequestedServerVersion>Exchange2010</a:RequestedServerVersion>
    <wsa:Action>{ACTION}</wsa:Action>
    <wsa:To>{to}</wsa:To>
  </soap:Header>
  <soap:Body>
    <a:GetUserSettingsRequestMessage xmlns:a="{AUTODISCOVER}">
      <a:Request>
        <a:Users>
          <a:User>
            <a:Mailbox>{mailbox}</a:Mailbox>
          </a:User>
        </a:Users>
        <a:RequestedSettings>
{settings}        </a:RequestedSettings>
      </a:Request>
    </a:GetUserSettingsRequestMessage>
  </soap:Body>
</soap:Envelope>
"#
    )
}

/// What a GetUserSettings answer says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoapAnswer {
    /// The response's own `ErrorCode` (`NoError`, `InvalidRequest`...).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The first (and, asked for one user, only) `UserResponse`.
    pub user: Option<UserResponse>,
}

/// One user's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserResponse {
    /// `NoError`, `InvalidUser`, `RedirectAddress`...
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub redirect_target: Option<String>,
    /// (Name, Value) of each `UserSetting`, in the answer's order.
    pub settings: Vec<(String, String)>,
    pub setting_errors: Vec<SettingError>,
}

impl UserResponse {
    /// The value of setting `name`.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error the server gave for setting `name`.
    pub fn setting_error(&self, name: &str) -> Option<&SettingError> {
        self.setting_errors.iter().find(|e| e.name.eq_ignore_ascii_case(name))
    }
}

/// A `UserSettingError`: a setting the server could not give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingError {
    pub name: String,
    /// `SettingIsNotAvailable`, `InvalidSetting`...
    pub code: String,
    pub message: String,
}

/// Why an answer is not a GetUserSettings answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    #[error("not XML: {0}")]
    Malformed(String),
    /// A SOAP fault (WCF's, or a proxy's): its faultstring.
    #[error("a SOAP fault: {0}")]
    Fault(String),
    #[error("not a GetUserSettings answer (no GetUserSettingsResponseMessage)")]
    NotGetUserSettings,
}

/// Which text the reader is collecting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    ErrorCode,
    ErrorMessage,
    RedirectTarget,
    Name,
    Value,
    SettingName,
    FaultString,
}

fn in_autodiscover(ns: &ResolveResult<'_>) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == AUTODISCOVER)
}

/// Where the reader is: the open elements that matter, by local name.
#[derive(Default)]
struct Place {
    message: bool,
    user_responses: usize,
    in_user: bool,
    in_setting: bool,
    in_setting_error: bool,
}

/// Reads a GetUserSettings answer. Elements outside the Autodiscover namespace are ignored (but a SOAP
/// fault's `faultstring`); what is kept is bounded ([`MAX_SETTINGS`], [`MAX_VALUE_CHARS`]).
pub fn parse(body: &[u8]) -> Result<SoapAnswer, SoapError> {
    let mut reader = NsReader::from_reader(body);
    reader.resolver_mut().set_max_namespace_bindings(MAX_NAMESPACE_BINDINGS);
    let mut out = SoapAnswer::default();
    let mut place = Place::default();
    let mut user = UserResponse::default();
    let (mut name, mut value) = (String::new(), String::new());
    let mut error = SettingError::default();
    let mut fault: Option<String> = None;
    let mut field: Option<Field> = None;
    let mut text = String::new();
    let mut buf = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| SoapError::Malformed(e.to_string()))?;
        match event {
            Event::Start(e) => {
                let local = e.local_name().into_inner().to_string();
                text.clear();
                field = None;
                if local == "faultstring" {
                    field = Some(Field::FaultString);
                    continue;
                }
                if !in_autodiscover(&ns) {
                    continue;
                }
                match local.as_str() {
                    "GetUserSettingsResponseMessage" => place.message = true,
                    "UserResponse" if place.message => {
                        place.user_responses += 1;
                        place.in_user = place.user_responses == 1;
                    }
                    "UserSetting" if place.in_user => {
                        place.in_setting = true;
                        name.clear();
                        value.clear();
                    }
                    "UserSettingError" if place.in_user => {
                        place.in_setting_error = true;
                        error = SettingError::default();
                    }
                    "ErrorCode" => field = Some(Field::ErrorCode),
                    "ErrorMessage" => field = Some(Field::ErrorMessage),
                    "RedirectTarget" if place.in_user => field = Some(Field::RedirectTarget),
                    "Name" if place.in_setting => field = Some(Field::Name),
                    "Value" if place.in_setting => field = Some(Field::Value),
                    "SettingName" if place.in_setting_error => field = Some(Field::SettingName),
                    _ => {}
                }
            }
            Event::Text(t) => push(&mut text, field, &t.xml10_content()),
            // Predefined entities arrive apart from the text around them; custom ones are never expanded.
            Event::GeneralRef(r) => {
                if let Some(c) = quick_xml::escape::resolve_predefined_entity(&r.xml10_content()) {
                    push(&mut text, field, c);
                }
            }
            Event::End(e) => {
                let local = e.local_name().into_inner().to_string();
                let got = field.take().map(|f| (f, text.trim().to_string()));
                text.clear();
                if let Some((f, t)) = got {
                    keep(
                        f,
                        t,
                        &place,
                        &mut out,
                        &mut user,
                        (&mut name, &mut value),
                        &mut error,
                        &mut fault,
                    );
                }
                match local.as_str() {
                    "UserSetting" if place.in_setting => {
                        place.in_setting = false;
                        if user.settings.len() < MAX_SETTINGS && !name.is_empty() {
                            user.settings
                                .push((std::mem::take(&mut name), std::mem::take(&mut value)));
                        }
                    }
                    "UserSettingError" if place.in_setting_error => {
                        place.in_setting_error = false;
                        if user.setting_errors.len() < MAX_SETTINGS {
                            user.setting_errors.push(std::mem::take(&mut error));
                        }
                    }
                    "UserResponse" if place.in_user => {
                        place.in_user = false;
                        out.user = Some(std::mem::take(&mut user));
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !place.message {
        return Err(match fault {
            Some(f) => SoapError::Fault(f),
            None => SoapError::NotGetUserSettings,
        });
    }
    Ok(out)
}

/// Adds a piece of text to the field being read, up to [`MAX_VALUE_CHARS`].
fn push(text: &mut String, field: Option<Field>, piece: &str) {
    let room = MAX_VALUE_CHARS.saturating_sub(text.chars().count());
    if field.is_some() && room > 0 {
        text.extend(piece.chars().take(room));
    }
}

/// Puts a finished text where it belongs.
#[allow(clippy::too_many_arguments)]
fn keep(
    field: Field,
    text: String,
    place: &Place,
    out: &mut SoapAnswer,
    user: &mut UserResponse,
    (name, value): (&mut String, &mut String),
    error: &mut SettingError,
    fault: &mut Option<String>,
) {
    let some = Some(text.clone()).filter(|t| !t.is_empty());
    match field {
        Field::FaultString => *fault = Some(text),
        Field::Name => *name = text,
        Field::Value => *value = text,
        Field::SettingName => error.name = text,
        Field::ErrorCode if place.in_setting_error => error.code = text,
        Field::ErrorMessage if place.in_setting_error => error.message = text,
        Field::ErrorCode if place.in_user => user.error_code = some,
        Field::ErrorMessage if place.in_user => user.error_message = some,
        Field::RedirectTarget => user.redirect_target = some,
        Field::ErrorCode if place.message && place.user_responses == 0 => out.error_code = some,
        Field::ErrorMessage if place.message && place.user_responses == 0 => out.error_message = some,
        Field::ErrorCode | Field::ErrorMessage => {}
    }
}

/// The anonymous POST and, when allowed, the logon after its 401.
#[derive(Debug)]
pub struct SoapProbe {
    pub anonymous: HttpAnswer,
    /// None: no logon (no 401, or the caller did not allow one).
    pub logon: Option<Result<Attempt, ProbeError>>,
}

impl SoapProbe {
    /// The last answer: the logon's, else the anonymous one.
    pub fn answer(&self) -> &HttpAnswer {
        match &self.logon {
            Some(Ok(a)) => &a.answer,
            _ => &self.anonymous,
        }
    }
}

/// GetUserSettings for `mailbox` at `https://host[:port]/autodiscover/autodiscover.svc`. The password
/// goes only when the anonymous POST got a 401 and `may_log_on` holds.
pub async fn get_user_settings(
    net: &Net,
    (host, port): (&str, u16),
    mailbox: &str,
    creds: &Credentials<'_>,
    may_log_on: bool,
) -> Result<SoapProbe, ProbeError> {
    let authority = crate::net::http::authority(host, port);
    let body = request_body(&authority, mailbox);
    let mut conn = net.open_http(host, port, true).await?;
    let anonymous = conn
        .send(net, "POST", PATH, &HEADERS, body.clone().into_bytes())
        .await?;
    if anonymous.status != 401 || !may_log_on {
        return Ok(SoapProbe { anonymous, logon: None });
    }
    let offered: Vec<String> = anonymous
        .header_values("www-authenticate")
        .iter()
        .map(|v| v.to_string())
        .collect();
    let logon = auth::authenticate(net, &mut conn, PATH, &HEADERS, &body, creds, &offered).await;
    Ok(SoapProbe {
        anonymous,
        logon: Some(logon),
    })
}

#[cfg(test)]
mod tests;

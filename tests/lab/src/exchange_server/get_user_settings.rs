//! SOAP Autodiscover (`/autodiscover/autodiscover.svc`): `GetUserSettings` for one user, answered from
//! the host's configuration ([MS-OXWSADISC]).
//!
//! The shape is real servers' (sources named beside each part):
//! - the envelope, `Action` header, `Response` and `UserResponse`: Microsoft's "GetUserSettings
//!   operation (SOAP)" response example as first published
//!   (MicrosoftDocs/office-developer-exchange-docs@0fb052e7ee69f88873612ec4986d32fe679e29ad:
//!   docs/web-service-reference/getusersettings-operation-soap.md; http:// namespaces, as servers write
//!   them, not the https:// of the page's 2020 edit), whose `CasVersion` is written `14.00.0478.000`;
//! - `UserSettingErrors` with `SettingIsNotAvailable` and the message "User setting 'X' is not
//!   available. ": a captured Exchange Online answer (gautamsi/ews-javascript-api@17c9b2e5:
//!   src/js/Core/Requests/SimpleServiceRequestBase.ts), whose `CasVersion` is `15.01.0049.012` and
//!   whose `EwsSupportedSchemas` list is the one 2013 and later answer here;
//! - `InvalidUser` for an unknown mailbox, its message beginning "Invalid user '<address>'": what
//!   exchangelib's test asserts of a real server (ecederstrand/exchangelib@527d240c:
//!   tests/test_autodiscover.py, `test_get_user_settings`); the rest of that message is not published,
//!   so the lab ends it with a full stop.
//!
//! Modelled, not published: which settings a server lists under `UserSettingErrors` when it cannot
//! give them (the lab lists every requested one it has no value for, as the capture lists the two it
//! lacks), and an Exchange 2010's `EwsSupportedSchemas` (its RequestServerVersion values, `ews.rs`).

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::LabMailbox;

const AUTODISCOVER: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
/// Elements nested deeper than this make the request invalid (a real request needs 7).
const MAX_DEPTH: usize = 32;
/// Settings read from one request.
const MAX_SETTINGS: usize = 64;

/// What the host knows of itself.
pub(crate) struct SoapHost<'a> {
    /// The host name: the external URLs are on it.
    pub name: &'a str,
    /// The EWS build, `a.b.c.d`.
    pub build: &'a str,
    pub mail_domain: &'a str,
    /// The EWS virtual directory has an ExternalUrl (`Set-WebServicesVirtualDirectory -ExternalUrl`).
    pub external_ews: bool,
}

/// What a GetUserSettings request asks.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct SettingsRequest {
    pub mailbox: Option<String>,
    pub settings: Vec<String>,
}

/// Reads the request by local names; `Err` when it is not XML with a `GetUserSettingsRequestMessage`.
pub(crate) fn parse(body: &[u8]) -> Result<SettingsRequest, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the request is not UTF-8".to_string())?;
    let mut reader = Reader::from_str(text);
    let mut out = SettingsRequest::default();
    let mut stack: Vec<String> = Vec::new();
    let mut seen = false;
    loop {
        match reader.read_event().map_err(|e| format!("malformed XML: {e}"))? {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                let name = e.local_name().into_inner().to_string();
                seen |= name == "GetUserSettingsRequestMessage";
                stack.push(name);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let value = AsRef::<str>::as_ref(&t).trim().to_string();
                match stack.last().map(String::as_str) {
                    Some("Mailbox") if out.mailbox.is_none() && !value.is_empty() => out.mailbox = Some(value),
                    Some("Setting") if out.settings.len() < MAX_SETTINGS && !value.is_empty() => {
                        out.settings.push(value)
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen {
        return Err("no GetUserSettingsRequestMessage".into());
    }
    Ok(out)
}

/// `15.02.2562.017`: a build as `CasVersion` writes it (two, two, four and three digits).
pub(crate) fn cas_version(build: &str) -> String {
    let parts: Vec<u32> = build.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or(0);
    format!("{:02}.{:02}.{:04}.{:03}", part(0), part(1), part(2), part(3))
}

/// The value of `setting` for `mailbox` on `host` (None: the host cannot give it).
fn value(host: &SoapHost<'_>, mailbox: LabMailbox, setting: &str) -> Option<String> {
    let modern = !host.build.starts_with("14.");
    let ews = format!("https://{}/EWS/Exchange.asmx", host.name);
    match setting {
        "UserDisplayName" => Some(mailbox.local_part().to_string()),
        "CasVersion" => Some(cas_version(host.build)),
        "EwsSupportedSchemas" if modern => Some(
            "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1"
                .into(),
        ),
        "EwsSupportedSchemas" => {
            Some("Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2".into())
        }
        "InternalEwsUrl" => Some(ews),
        "ExternalEwsUrl" if host.external_ews => Some(ews),
        "ExternalMailboxServer" => Some(host.name.to_string()),
        "ExternalMailboxServerRequiresSSL" => Some("True".into()),
        "MapiHttpEnabled" if modern => Some("True".into()),
        _ => None,
    }
}

/// The `(HTTP status, SOAP document)` answer to an authenticated POST of `body`.
pub(crate) fn answer(host: &SoapHost<'_>, body: &[u8]) -> (u16, String) {
    let request = match parse(body) {
        Ok(r) => r,
        Err(why) => return (500, fault(&why)),
    };
    let address = request.mailbox.unwrap_or_default();
    // `nobody@` is the lab's address without a mailbox (EWS: ErrorNonExistentMailbox).
    let known = LabMailbox::find(&address, host.mail_domain).filter(|m| *m != LabMailbox::Missing);
    let user = match known {
        None => user_response("InvalidUser", &format!("Invalid user '{}'.", escape(&address)), "", ""),
        Some(mailbox) => {
            let (mut settings, mut errors) = (String::new(), String::new());
            for name in &request.settings {
                let name = escape(name);
                match value(host, mailbox, &name) {
                    Some(v) => settings.push_str(&format!(
                        "<UserSetting i:type=\"StringSetting\"><Name>{name}</Name><Value>{}</Value></UserSetting>",
                        escape(&v)
                    )),
                    None => errors.push_str(&format!(
                        "<UserSettingError><ErrorCode>SettingIsNotAvailable</ErrorCode><ErrorMessage>User setting '{name}' is not available. </ErrorMessage><SettingName>{name}</SettingName></UserSettingError>"
                    )),
                }
            }
            user_response("NoError", "No error.", &errors, &settings)
        }
    };
    (200, envelope(&user))
}

fn user_response(code: &str, message: &str, errors: &str, settings: &str) -> String {
    let errors = if errors.is_empty() {
        "<UserSettingErrors />".to_string()
    } else {
        format!("<UserSettingErrors>{errors}</UserSettingErrors>")
    };
    let settings = if settings.is_empty() {
        "<UserSettings />".to_string()
    } else {
        format!("<UserSettings>{settings}</UserSettings>")
    };
    format!(
        "<UserResponse><ErrorCode>{code}</ErrorCode><ErrorMessage>{message}</ErrorMessage><RedirectTarget i:nil=\"true\" />{errors}{settings}</UserResponse>"
    )
}

fn envelope(user: &str) -> String {
    format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action s:mustUnderstand=\"1\">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action></s:Header><s:Body><GetUserSettingsResponseMessage xmlns=\"{AUTODISCOVER}\"><Response xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><ErrorCode>NoError</ErrorCode><ErrorMessage /><UserResponses>{user}</UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"
    )
}

/// What a request that is not a GetUserSettings request gets. Modelled: WCF's fault for a message it
/// cannot dispatch (the same form as `web::ws_security_fault`'s).
fn fault(why: &str) -> String {
    format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode xmlns:a=\"http://schemas.microsoft.com/ws/2005/05/addressing/none\">a:ActionNotSupported</faultcode><faultstring xml:lang=\"en-US\">The message cannot be processed: {}</faultstring></s:Fault></s:Body></s:Envelope>",
        escape(why)
    )
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header><a:RequestedServerVersion>Exchange2010</a:RequestedServerVersion></soap:Header>
  <soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>alice@ewslab.test</a:Mailbox></a:User></a:Users>
  <a:RequestedSettings><a:Setting>CasVersion</a:Setting><a:Setting>ExternalEwsUrl</a:Setting><a:Setting>PublicFolderServer</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>"#;

    fn host(build: &'static str, external_ews: bool) -> SoapHost<'static> {
        SoapHost {
            name: "healthy.ewslab.test",
            build,
            mail_domain: "ewslab.test",
            external_ews,
        }
    }

    #[test]
    fn cas_version_is_written_as_servers_write_it() {
        assert_eq!(cas_version("14.0.478.0"), "14.00.0478.000");
        assert_eq!(cas_version("15.1.49.12"), "15.01.0049.012");
        assert_eq!(cas_version("15.2.2562.17"), "15.02.2562.017");
    }

    #[test]
    fn the_requested_settings_come_back_or_are_listed_as_not_available() {
        let (status, xml) = answer(&host("15.2.2562.17", true), REQUEST.as_bytes());
        assert_eq!(status, 200);
        assert!(
            xml.contains("<Name>CasVersion</Name><Value>15.02.2562.017</Value>"),
            "{xml}"
        );
        assert!(
            xml.contains("<Name>ExternalEwsUrl</Name><Value>https://healthy.ewslab.test/EWS/Exchange.asmx</Value>")
        );
        assert!(xml.contains("<ErrorMessage>User setting 'PublicFolderServer' is not available. </ErrorMessage>"));
        let (_, xml) = answer(&host("14.3.513.0", false), REQUEST.as_bytes());
        assert!(xml.contains("<Value>14.03.0513.000</Value>"));
        assert!(xml.contains("<SettingName>ExternalEwsUrl</SettingName>"), "{xml}");
        for unknown in ["zoe@", "nobody@"] {
            let request = REQUEST.replace("alice@", unknown);
            let (_, xml) = answer(&host("15.2.2562.17", true), request.as_bytes());
            let said = format!(
                "<ErrorCode>InvalidUser</ErrorCode><ErrorMessage>Invalid user '{unknown}ewslab.test'.</ErrorMessage>"
            );
            assert!(xml.contains(&said), "{xml}");
        }
        assert_eq!(answer(&host("15.2.2562.17", true), b"<not-soap").0, 500);
    }
}

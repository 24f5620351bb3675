//! EWS (Exchange Web Services, SOAP 1.1): what IIS offers on the EWS URL, and a `GetFolder` of an Inbox
//! as the migration account, which proves the logon, tells the exact build (ServerVersionInfo) and,
//! for another user's mailbox, whether the account has Full Access (KB step 4).

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::ProbeError;
use crate::probe::auth::{self, Attempt, Credentials, https_target};
use crate::probe::version::ExchangeBuild;

/// What the authenticated `GetFolder` said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EwsAnswer {
    /// From the SOAP header's ServerVersionInfo.
    pub version: Option<ExchangeBuild>,
    /// ServerVersionInfo as sent: "15.1.2507.6".
    pub version_text: Option<String>,
    /// `Success`, `Warning` or `Error`.
    pub response_class: Option<String>,
    /// `NoError`, `ErrorAccessDenied`...
    pub response_code: Option<String>,
    pub message: Option<String>,
    /// A SOAP fault's text, when the server answered with one.
    pub fault: Option<String>,
}

/// The anonymous answer, and the authenticated one with what it said.
#[derive(Debug)]
pub struct Exchange {
    pub anonymous: HttpAnswer,
    pub authenticated: Option<(Attempt, EwsAnswer)>,
}

/// The SOAP request: GetFolder of the Inbox, of `mailbox` when given (else the account's own).
pub fn get_folder_request(mailbox: Option<&str>) -> String {
    let target = mailbox
        .map(|m| {
            format!(
                "<t:Mailbox><t:EmailAddress>{}</t:EmailAddress></t:Mailbox>",
                quick_xml::escape::escape(m)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2013"/></soap:Header>
  <soap:Body>
    <m:GetFolder>
      <m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
      <m:FolderIds><t:DistinguishedFolderId Id="inbox">{target}</t:DistinguishedFolderId></m:FolderIds>
    </m:GetFolder>
  </soap:Body>
</soap:Envelope>"#
    )
}

/// Reads the parts of an EWS answer that matter (the first response message).
pub fn parse_answer(body: &[u8]) -> EwsAnswer {
    let mut reader = Reader::from_reader(body);
    let mut out = EwsAnswer::default();
    let mut text_of: Option<&'static str> = None;
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().into_inner() == name)
                        .and_then(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                };
                match e.local_name().into_inner() {
                    "ServerVersionInfo" if out.version_text.is_none() => {
                        let parts: Vec<String> =
                            ["MajorVersion", "MinorVersion", "MajorBuildNumber", "MinorBuildNumber"]
                                .iter()
                                .filter_map(|n| attr(n))
                                .collect();
                        if parts.len() >= 3 {
                            let text = parts.join(".");
                            out.version = ExchangeBuild::parse(&text);
                            out.version_text = Some(text);
                        }
                    }
                    name if name.ends_with("ResponseMessage") && out.response_class.is_none() => {
                        out.response_class = attr("ResponseClass");
                    }
                    "ResponseCode" if out.response_code.is_none() => text_of = Some("code"),
                    "MessageText" if out.message.is_none() => text_of = Some("message"),
                    "faultstring" if out.fault.is_none() => text_of = Some("fault"),
                    _ => text_of = None,
                }
            }
            Ok(Event::Text(t)) => push_text(&mut out, text_of, &t.xml10_content()),
            // Predefined entities arrive apart from the text around them; custom ones are never expanded.
            Ok(Event::GeneralRef(r)) => {
                let name = r.xml10_content();
                if let Some(c) = quick_xml::escape::resolve_predefined_entity(&name) {
                    push_text(&mut out, text_of, c);
                }
            }
            Ok(Event::End(_)) => text_of = None,
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn push_text(out: &mut EwsAnswer, field: Option<&'static str>, text: &str) {
    let slot = match field {
        Some("code") => &mut out.response_code,
        Some("message") => &mut out.message,
        Some(_) => &mut out.fault,
        None => return,
    };
    let value = slot.get_or_insert_with(String::new);
    if value.len() < 4096 {
        value.push_str(text);
    }
}

const HEADERS: [(&str, &str); 2] = [("content-type", "text/xml; charset=utf-8"), ("user-agent", "migcheck")];

/// The anonymous POST, then (when it asked for credentials) the GetFolder with them on the same
/// connection. `mailbox`: the target mailbox, or the account's own.
pub async fn get_folder(
    net: &Net,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
) -> Result<Exchange, ProbeError> {
    let (host, port, path) = https_target(url)?;
    let body = get_folder_request(mailbox);
    let logon = auth::post(net, &host, port, &path, &HEADERS, &body, creds).await?;
    let authenticated = match logon.authenticated {
        Ok(Some(attempt)) => {
            let parsed = parse_answer(&attempt.answer.body);
            Some((attempt, parsed))
        }
        // No scheme migcheck can answer: the auth check says what IIS offers.
        Ok(None) | Err(ProbeError::NoScheme { .. }) => None,
        Err(other) => return Err(other),
    };
    Ok(Exchange {
        anonymous: logon.anonymous,
        authenticated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer shaped like Exchange 2016's to GetFolder of another user's Inbox without Full Access.
    const ACCESS_DENIED: &str = r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></s:Header><s:Body><m:GetFolderResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:GetFolderResponseMessage ResponseClass="Error"><m:MessageText>Access is denied. Check credentials and try again.</m:MessageText><m:ResponseCode>ErrorAccessDenied</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Folders/></m:GetFolderResponseMessage></m:ResponseMessages></m:GetFolderResponse></s:Body></s:Envelope>"#;

    #[test]
    fn an_error_answer_gives_its_code_message_and_build() {
        let a = parse_answer(ACCESS_DENIED.as_bytes());
        assert_eq!(a.version_text.as_deref(), Some("15.1.2507.6"));
        assert_eq!(a.version, Some(ExchangeBuild::new(15, 1, 2507)));
        assert_eq!(a.response_class.as_deref(), Some("Error"));
        assert_eq!(a.response_code.as_deref(), Some("ErrorAccessDenied"));
        assert_eq!(
            a.message.as_deref(),
            Some("Access is denied. Check credentials and try again.")
        );
    }

    #[test]
    fn the_request_names_the_mailbox_escaped() {
        let r = get_folder_request(Some("o'brien&co@contoso.com"));
        assert!(
            r.contains("<t:EmailAddress>o&apos;brien&amp;co@contoso.com</t:EmailAddress>"),
            "{r}"
        );
        assert!(!get_folder_request(None).contains("Mailbox"));
    }

    #[test]
    fn hostile_bodies_give_nothing_not_a_panic() {
        for body in [
            &b""[..],
            b"<",
            b"<a><b>",
            b"\xff\xfe<x/>",
            &ACCESS_DENIED.as_bytes()[..200],
        ] {
            let _ = parse_answer(body);
        }
        let bomb = r#"<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><x><ResponseCode>&b;</ResponseCode></x>"#;
        let a = parse_answer(bomb.as_bytes());
        assert_ne!(
            a.response_code.as_deref().map(str::len),
            Some(60),
            "custom entities are not expanded"
        );
    }

    #[test]
    fn deep_nesting_is_read_without_recursion() {
        let depth = 200_000;
        let body = format!(
            "<s:Envelope>{}<m:ResponseCode>NoError</m:ResponseCode>{}</s:Envelope>",
            "<x>".repeat(depth),
            "</x>".repeat(depth)
        );
        let answer = parse_answer(body.as_bytes());
        assert_eq!(answer.response_code.as_deref(), Some("NoError"));
        let _ = parse_answer("<x>".repeat(depth).as_bytes());
    }
}

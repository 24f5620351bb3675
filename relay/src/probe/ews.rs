//! EWS (Exchange Web Services, SOAP 1.1): what IIS offers on the EWS URL, and a `GetFolder` of an Inbox
//! as the migration account, which proves the logon, tells the exact build (ServerVersionInfo) and,
//! for another user's mailbox, whether the account has Full Access (KB step 4).
//!
//! One request, one version: [`REQUEST_SERVER_VERSION`] is `Exchange2007_SP1`, which every Exchange a
//! migration starts from accepts (2007 SP1 to Subscription Edition, and Exchange Online), so no server
//! needs a second try (exchangelib starts at its newest version and steps down on
//! ErrorInvalidServerVersion, one more authenticated request per step). A server that refuses it
//! anyway answers a SOAP fault without a SOAP header (so without ServerVersionInfo): that is EWS
//! speaking, and the answer says so ([`EwsAnswer::fault_code`]).

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, QName, ResolveResult};

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::ProbeError;
use crate::probe::auth::{self, Attempt, Credentials, https_target};
use crate::probe::version::ExchangeBuild;

/// The schema version every request asks for. Microsoft Learn, EWS reference "RequestServerVersion":
/// "Exchange2007_SP1 — Target the schema files for Exchange 2007 Service Pack 1 (SP1), Exchange 2007
/// Service Pack 2 (SP2), and Exchange 2007 Service Pack 3 (SP3)"; "EWS schema versions in Exchange":
/// "applications designed against earlier versions of EWS will work, in most cases, with later
/// versions of EWS", each new schema containing "the schema entities from the previous version"; and
/// Exchange Online answers every version but the invalid `Exchange2007_SP2`/`_SP3` (php-ews issue #346).
/// An Exchange 2010 SP3 refuses `Exchange2013` with ErrorInvalidServerVersion (node-ews issue #18),
/// which is what the previous choice met. Exchange 2007 without a service pack predates the header
/// ("This element was introduced in Microsoft Exchange Server 2007 Service Pack 1", the Exchange 2007
/// reference) and is out of support since 2009.
pub const REQUEST_SERVER_VERSION: &str = "Exchange2007_SP1";

/// The SOAP 1.1 envelope, EWS's types (fault codes) and errors (a fault's detail) namespaces.
const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const TYPES: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
const ERRORS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
/// More namespace declarations than a real answer carries (about ten) end the reading.
const MAX_NAMESPACE_BINDINGS: usize = 64;

/// What the authenticated `GetFolder` said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EwsAnswer {
    /// From the SOAP header's ServerVersionInfo.
    pub version: Option<ExchangeBuild>,
    /// ServerVersionInfo as sent: "15.1.2507.6".
    pub version_text: Option<String>,
    /// `Success`, `Warning` or `Error`.
    pub response_class: Option<String>,
    /// `NoError`, `ErrorAccessDenied`... of the first response message.
    pub response_code: Option<String>,
    pub message: Option<String>,
    /// A SOAP fault's text, when the server answered with one.
    pub fault: Option<String>,
    /// EWS's own error code of a SOAP fault (`ErrorInvalidServerVersion`): its `faultcode` in EWS's
    /// types namespace, or the `ResponseCode` of EWS's errors namespace in its detail. Set only when EWS
    /// wrote the fault, so a fault without ServerVersionInfo is still known to be EWS's.
    pub fault_code: Option<String>,
}

impl EwsAnswer {
    /// EWS answered with a SOAP fault of its own (not another SOAP service's, not a proxy's page).
    pub fn ews_fault(&self) -> Option<&str> {
        self.fault_code.as_deref()
    }
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
  <soap:Header><t:RequestServerVersion Version="{REQUEST_SERVER_VERSION}"/></soap:Header>
  <soap:Body>
    <m:GetFolder>
      <m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape>
      <m:FolderIds><t:DistinguishedFolderId Id="inbox">{target}</t:DistinguishedFolderId></m:FolderIds>
    </m:GetFolder>
  </soap:Body>
</soap:Envelope>"#
    )
}

/// Which text the reader is collecting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Collect {
    Code,
    Message,
    FaultString,
    /// `faultcode`: a QName, resolved when complete.
    FaultCode,
    /// A fault detail's `ResponseCode` in EWS's errors namespace.
    FaultResponseCode,
}

fn bound_to(ns: &ResolveResult<'_>, uri: &str) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == uri)
}

/// Reads the parts of an EWS answer that matter (the first response message, or the fault).
pub fn parse_answer(body: &[u8]) -> EwsAnswer {
    let mut reader = NsReader::from_reader(body);
    reader.resolver_mut().set_max_namespace_bindings(MAX_NAMESPACE_BINDINGS);
    let mut out = EwsAnswer::default();
    let mut collect: Option<Collect> = None;
    // Depth of the open SOAP Fault element (0: not inside one), and of the elements open.
    let (mut fault_depth, mut depth) = (0usize, 0usize);
    let mut fault_qname = String::new();
    let mut buf = Vec::new();
    // A reading error (malformed XML, the bounds above) ends it with what was read so far.
    while let Ok((ns, event)) = reader.read_resolved_event_into(&mut buf) {
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => {
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
                let local = e.local_name().into_inner();
                collect = match local {
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
                        None
                    }
                    "Fault" if bound_to(&ns, SOAP) && fault_depth == 0 && !empty => {
                        fault_depth = depth + 1;
                        None
                    }
                    name if name.ends_with("ResponseMessage") && out.response_class.is_none() => {
                        out.response_class = attr("ResponseClass");
                        None
                    }
                    "ResponseCode" if fault_depth > 0 && bound_to(&ns, ERRORS) => {
                        Some(Collect::FaultResponseCode).filter(|_| out.fault_code.is_none())
                    }
                    "ResponseCode" if fault_depth == 0 && out.response_code.is_none() => Some(Collect::Code),
                    "MessageText" if out.message.is_none() => Some(Collect::Message),
                    "faultstring" if out.fault.is_none() => Some(Collect::FaultString),
                    "faultcode" if fault_depth > 0 && fault_qname.is_empty() => Some(Collect::FaultCode),
                    _ => None,
                };
                if !empty {
                    depth += 1;
                }
            }
            Event::Text(t) => push_text(&mut out, &mut fault_qname, collect, &t.xml10_content()),
            // Predefined entities arrive apart from the text around them; custom ones are never expanded.
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                if let Some(c) = quick_xml::escape::resolve_predefined_entity(&name) {
                    push_text(&mut out, &mut fault_qname, collect, c);
                }
            }
            Event::End(_) => {
                if collect == Some(Collect::FaultCode) && out.fault_code.is_none() {
                    // `a:ErrorInvalidServerVersion`, its prefix bound on the faultcode element itself.
                    let qname = fault_qname.trim();
                    let (prefix_ns, local) = reader.resolver().resolve(QName(qname), false);
                    if bound_to(&prefix_ns, TYPES) {
                        out.fault_code = Some(local.into_inner().to_string());
                    }
                }
                collect = None;
                depth = depth.saturating_sub(1);
                if depth < fault_depth {
                    fault_depth = 0;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

fn push_text(out: &mut EwsAnswer, fault_qname: &mut String, field: Option<Collect>, text: &str) {
    let slot = match field {
        Some(Collect::Code) => &mut out.response_code,
        Some(Collect::Message) => &mut out.message,
        Some(Collect::FaultString) => &mut out.fault,
        Some(Collect::FaultResponseCode) => &mut out.fault_code,
        Some(Collect::FaultCode) => {
            if fault_qname.len() < 256 {
                fault_qname.push_str(text);
            }
            return;
        }
        None => return,
    };
    let value = slot.get_or_insert_with(String::new);
    if value.len() < 4096 {
        value.push_str(text);
    }
}

/// The headers of every request; `X-AnchorMailbox` joins them when a mailbox is named.
const HEADERS: [(&str, &str); 2] = [("content-type", "text/xml; charset=utf-8"), ("user-agent", "migcheck")];

/// The anonymous POST, then (when it asked for credentials) the GetFolder with them on the same
/// connection. `mailbox`: the target mailbox, or the account's own. With a target mailbox the requests
/// carry `X-AnchorMailbox: <mailbox>`, as exchangelib sends it on every request for a mailbox (and
/// Microsoft asks of impersonation): a front end in coexistence routes the request to the server
/// holding that mailbox.
pub async fn get_folder(
    net: &Net,
    url: &str,
    creds: &Credentials<'_>,
    mailbox: Option<&str>,
) -> Result<Exchange, ProbeError> {
    let (host, port, path) = https_target(url)?;
    let body = get_folder_request(mailbox);
    let mut headers = HEADERS.to_vec();
    if let Some(m) = mailbox {
        headers.push(("x-anchormailbox", m));
    }
    let logon = auth::post(net, &host, port, &path, &headers, &body, creds).await?;
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

    /// A real Exchange's answer refusing a RequestServerVersion (`Exchange2010_SP1`) it does not know:
    /// HTTP 500, a SOAP fault and no SOAP header. Verbatim from Ericsson/exchangecalendar issue #377
    /// (comment of 2015-11-14, https://github.com/Ericsson/exchangecalendar/issues/377), a German server.
    const INVALID_VERSION_DE: &str = r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorInvalidServerVersion</faultcode><faultstring xml:lang="de-DE">Die angegebene Serverversion ist ungültig.</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorInvalidServerVersion</e:ResponseCode><e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">Die angegebene Serverversion ist ungültig.</e:Message></detail></s:Fault></s:Body></s:Envelope>"#;

    #[test]
    fn a_fault_without_a_header_is_ews_speaking() {
        let a = parse_answer(INVALID_VERSION_DE.as_bytes());
        assert_eq!(a.ews_fault(), Some("ErrorInvalidServerVersion"));
        assert_eq!(a.fault.as_deref(), Some("Die angegebene Serverversion ist ungültig."));
        assert_eq!((a.version, a.response_code.as_deref()), (None, None));

        // Only the faultcode, in EWS's types namespace: still EWS's.
        let code_only = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorSchemaValidation</faultcode><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>"#;
        assert_eq!(
            parse_answer(code_only.as_bytes()).ews_fault(),
            Some("ErrorSchemaValidation")
        );

        // Another SOAP service's fault (WCF's form, as a service that is not EWS answers): not EWS's.
        let wcf = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/ws/2005/05/addressing/none">a:ActionNotSupported</faultcode><faultstring xml:lang="en-US">The message cannot be processed.</faultstring></s:Fault></s:Body></s:Envelope>"#;
        let a = parse_answer(wcf.as_bytes());
        assert_eq!(
            (a.ews_fault(), a.fault.as_deref()),
            (None, Some("The message cannot be processed."))
        );

        // The errors namespace's ResponseCode outside a Fault, or a fault code whose prefix is unbound.
        for not_a_fault in [
            r#"<x><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorX</e:ResponseCode></x>"#,
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>a:ErrorX</faultcode></s:Fault></s:Body></s:Envelope>"#,
        ] {
            assert_eq!(parse_answer(not_a_fault.as_bytes()).ews_fault(), None, "{not_a_fault}");
        }
    }

    #[test]
    fn the_request_asks_for_exchange_2007_sp1() {
        assert!(get_folder_request(None).contains(r#"<t:RequestServerVersion Version="Exchange2007_SP1"/>"#));
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
            &INVALID_VERSION_DE.as_bytes()[..300],
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
        let nested = |depth: usize| {
            format!(
                "<s:Envelope>{}<m:ResponseCode>NoError</m:ResponseCode>{}</s:Envelope>",
                "<x>".repeat(depth),
                "</x>".repeat(depth)
            )
        };
        // Far deeper than any real answer (about 8 levels) is still read...
        let answer = parse_answer(nested(10_000).as_bytes());
        assert_eq!(answer.response_code.as_deref(), Some("NoError"));
        // ...and past the namespace resolver's bound (65535 open elements) the reading stops, no panic.
        let answer = parse_answer(nested(200_000).as_bytes());
        assert_eq!(answer.response_code, None);
        let _ = parse_answer("<x>".repeat(200_000).as_bytes());
    }

    #[test]
    fn namespace_declarations_beyond_the_bound_end_the_reading() {
        let many: String = (0..1000).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
        let body = format!("<x{many}><ResponseCode>NoError</ResponseCode></x>");
        assert_eq!(parse_answer(body.as_bytes()).response_code, None);
    }
}

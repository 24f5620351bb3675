//! EWS (`/EWS/Exchange.asmx`, SOAP 1.1) as far as a migration check and exchangelib need it, written
//! from the EWS schema (messages.xsd, types.xsd) and Microsoft's operation reference pages:
//! `GetFolder` of distinguished folders (with or without a `Mailbox`), `FindItem`, `ConvertId`
//! (exchangelib's version probe) and, for any other operation, an `ErrorInvalidRequest` response
//! message. Every answer carries the host's `ServerVersionInfo` in the SOAP header, but a SOAP fault:
//! Exchange writes none in a fault (the captures below), so a fault names no version.
//!
//! Versions: an Exchange 2010 (SP3) host answers only the `RequestServerVersion` values of its schemas
//! (`Exchange2007` to `Exchange2010_SP2`, or none: Microsoft Learn, "RequestServerVersion", "If the
//! version is not specified, the initial release version of Exchange 2010 is targeted"); a later value,
//! or a name that is not a version at all, gets HTTP 500 and the ErrorInvalidServerVersion fault
//! ([`invalid_server_version`]). Hosts of 2013 and later take every value the lab's peers send.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::LabMailbox;

const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const TYPES: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
/// The namespace of a fault's detail (`e:ResponseCode`, `e:Message`) in the captures below.
const ERRORS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
const MESSAGES: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XSD: &str = "http://www.w3.org/2001/XMLSchema";
/// The largest SOAP request read (larger ones get 413).
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// Elements nested deeper than this make the request invalid (a real request needs about 8).
const MAX_DEPTH: usize = 32;

/// What a request asks, by local names (namespace prefixes ignored).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct EwsRequest {
    /// The first element in the SOAP `Body`, e.g. `GetFolder`.
    pub operation: String,
    /// `DistinguishedFolderId Id` values, in order.
    pub distinguished: Vec<String>,
    /// `FolderId Id` values, in order.
    pub folder_ids: Vec<String>,
    /// The first `Mailbox/EmailAddress` (the target mailbox).
    pub mailbox: Option<String>,
    /// `RequestServerVersion Version`.
    pub version: Option<String>,
}

/// Parses a SOAP request; `Err` when it is not well-formed XML with a SOAP `Body` element.
pub(crate) fn parse(body: &[u8]) -> Result<EwsRequest, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the request is not UTF-8".to_string())?;
    let mut reader = Reader::from_str(text);
    let mut out = EwsRequest::default();
    // Local names of the open elements.
    let mut stack: Vec<String> = Vec::new();
    let mut body_depth: Option<usize> = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("malformed XML: {e}"))?;
        match event {
            Event::Start(e) | Event::Empty(e) if stack.len() >= MAX_DEPTH => {
                return Err(format!("elements nested deeper than {MAX_DEPTH} ({})", local(&e)));
            }
            Event::Start(e) => {
                element(&e, &stack, body_depth, &mut out);
                if local(&e) == "Body" && body_depth.is_none() {
                    body_depth = Some(stack.len() + 1);
                }
                stack.push(local(&e));
            }
            Event::Empty(e) => element(&e, &stack, body_depth, &mut out),
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let open = stack.len();
                if open >= 2
                    && stack[open - 1] == "EmailAddress"
                    && stack[open - 2] == "Mailbox"
                    && out.mailbox.is_none()
                {
                    let s = AsRef::<str>::as_ref(&t).trim().to_string();
                    if !s.is_empty() {
                        out.mailbox = Some(s);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if body_depth.is_none() {
        return Err("no SOAP Body".into());
    }
    if out.operation.is_empty() {
        return Err("an empty SOAP Body".into());
    }
    Ok(out)
}

fn local(e: &BytesStart<'_>) -> String {
    e.local_name().into_inner().to_string()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == name)
        .map(|a| a.value.into_owned())
}

fn element(e: &BytesStart<'_>, stack: &[String], body_depth: Option<usize>, out: &mut EwsRequest) {
    let name = local(e);
    if body_depth == Some(stack.len()) && out.operation.is_empty() {
        out.operation = name.clone();
    }
    match name.as_str() {
        "DistinguishedFolderId" => out.distinguished.extend(attr(e, "Id")),
        "FolderId" => out.folder_ids.extend(attr(e, "Id")),
        "RequestServerVersion" => out.version = attr(e, "Version"),
        _ => {}
    }
}

/// The host's side of an answer: its EWS build and whose mailboxes it holds.
pub(crate) struct Host<'a> {
    /// `a.b.c.d`.
    pub build: &'a str,
    pub mail_domain: &'a str,
}

/// `<h:ServerVersionInfo .../>` as Exchange writes it.
pub(crate) fn server_version_info(build: &str) -> String {
    let mut parts = build.split('.');
    let mut next = || parts.next().unwrap_or("0");
    let (major, minor, build_major, build_minor) = (next(), next(), next(), next());
    // 2013 and later report a schema date; 2010 SP3 reports its highest API version.
    let version = if major == "14" {
        "Exchange2010_SP2"
    } else {
        "V2017_07_11"
    };
    format!(
        "<h:ServerVersionInfo MajorVersion=\"{major}\" MinorVersion=\"{minor}\" MajorBuildNumber=\"{build_major}\" MinorBuildNumber=\"{build_minor}\" Version=\"{version}\" xmlns:h=\"{TYPES}\" xmlns=\"{TYPES}\" xmlns:xsi=\"{XSI}\" xmlns:xsd=\"{XSD}\"/>"
    )
}

fn envelope(build: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"{SOAP}\"><s:Header>{}</s:Header><s:Body xmlns:xsi=\"{XSI}\" xmlns:xsd=\"{XSD}\">{body}</s:Body></s:Envelope>",
        server_version_info(build)
    )
}

/// The `RequestServerVersion` values an Exchange 2010 SP3 takes: its schemas' (Microsoft Learn,
/// "RequestServerVersion": `Exchange2010_SP2` covers SP2 and SP3), the 2007 ones before them, and none.
const EXCHANGE_2010_VERSIONS: [&str; 5] = [
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
];

/// Whether a host of `build` takes a request for the schema `requested`.
pub(crate) fn accepts_version(build: &str, requested: Option<&str>) -> bool {
    match requested {
        Some(v) if build.starts_with("14.") => EXCHANGE_2010_VERSIONS.contains(&v),
        _ => true,
    }
}

/// The `(HTTP status, SOAP document)` answer to an authenticated POST of `body`.
pub(crate) fn answer(host: &Host<'_>, body: &[u8]) -> (u16, String) {
    let req = match parse(body) {
        Ok(r) => r,
        Err(why) => return (500, schema_fault(&why)),
    };
    if !accepts_version(host.build, req.version.as_deref()) {
        return (500, invalid_server_version());
    }
    let op = req.operation.as_str();
    // The target mailbox: its error answers every operation on it.
    let target = req.mailbox.as_deref().map(|a| {
        LabMailbox::find(a, host.mail_domain).map_or(Err(LabMailbox::Missing), |m| match m.message_text() {
            None => Ok(m),
            Some(_) => Err(m),
        })
    });
    let count = (req.distinguished.len() + req.folder_ids.len()).max(1);
    let messages = match (op, target) {
        ("ConvertId", _) => {
            // exchangelib's version probe converts the id "DUMMY": not an id at all.
            error_message(op, "ErrorInvalidIdMalformed", "Id is malformed.")
        }
        (_, Some(Err(m))) => {
            let (code, text) = (m.response_code(), m.message_text().unwrap_or(""));
            error_message(op, code, text).repeat(count)
        }
        ("GetFolder", _) => {
            let owner = req.mailbox.as_deref().unwrap_or("migadmin");
            let folders = req
                .distinguished
                .iter()
                .map(|id| (id.as_str(), true))
                .chain(req.folder_ids.iter().map(|id| (id.as_str(), false)));
            folders.map(|(id, distinguished)| get_folder(owner, id, distinguished)).collect()
        }
        ("FindItem", _) => success(
            op,
            "<m:RootFolder IndexedPagingOffset=\"0\" TotalItemsInView=\"0\" IncludesLastItemInRange=\"true\"><t:Items/></m:RootFolder>",
        )
        .repeat(count),
        _ => error_message(op, "ErrorInvalidRequest", "The request is invalid."),
    };
    let body = format!(
        "<m:{op}Response xmlns:m=\"{MESSAGES}\" xmlns:t=\"{TYPES}\"><m:ResponseMessages>{messages}</m:ResponseMessages></m:{op}Response>"
    );
    (200, envelope(host.build, &body))
}

fn success(op: &str, inner: &str) -> String {
    format!(
        "<m:{op}ResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError</m:ResponseCode>{inner}</m:{op}ResponseMessage>"
    )
}

fn error_message(op: &str, code: &str, text: &str) -> String {
    format!(
        "<m:{op}ResponseMessage ResponseClass=\"Error\"><m:MessageText>{}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:{op}ResponseMessage>",
        escape(text)
    )
}

/// One `GetFolderResponseMessage`: the folder, or `ErrorFolderNotFound` for an id the lab does not know.
fn get_folder(owner: &str, id: &str, distinguished: bool) -> String {
    let name = if distinguished {
        id.to_string()
    } else {
        // A FolderId the lab handed out: `base64("<owner>/<distinguished name>")`.
        match folder_name_of(id) {
            Some(n) => n,
            None => return error_message("GetFolder", "ErrorInvalidIdMalformed", "Id is malformed."),
        }
    };
    let (element, class, display, total, unread, children) = match name.as_str() {
        "root" => ("Folder", "", "", 0, 0, 16),
        "msgfolderroot" => ("Folder", "IPF.Note", "Top of Information Store", 0, 0, 12),
        "inbox" => ("Folder", "IPF.Note", "Inbox", 3, 1, 0),
        "sentitems" => ("Folder", "IPF.Note", "Sent Items", 2, 0, 0),
        "deleteditems" => ("Folder", "IPF.Note", "Deleted Items", 0, 0, 0),
        "drafts" => ("Folder", "IPF.Note", "Drafts", 0, 0, 0),
        "calendar" => ("CalendarFolder", "IPF.Appointment", "Calendar", 0, 0, 0),
        "contacts" => ("ContactsFolder", "IPF.Contact", "Contacts", 0, 0, 0),
        "tasks" => ("TasksFolder", "IPF.Task", "Tasks", 0, 0, 0),
        _ => {
            return error_message(
                "GetFolder",
                "ErrorFolderNotFound",
                "The specified folder could not be found in the store.",
            );
        }
    };
    let class = if class.is_empty() {
        String::new()
    } else {
        format!("<t:FolderClass>{class}</t:FolderClass>")
    };
    let parent = if name == "root" {
        String::new()
    } else {
        format!(
            "<t:ParentFolderId Id=\"{}\" ChangeKey=\"AQAAAA==\"/>",
            folder_id(owner, "root")
        )
    };
    let unread = if element == "Folder" {
        format!("<t:UnreadCount>{unread}</t:UnreadCount>")
    } else {
        String::new()
    };
    success(
        "GetFolder",
        &format!(
            "<m:Folders><t:{element}><t:FolderId Id=\"{}\" ChangeKey=\"AQAAABYAAAB2lab==\"/>{parent}{class}<t:DisplayName>{display}</t:DisplayName><t:TotalCount>{total}</t:TotalCount><t:ChildFolderCount>{children}</t:ChildFolderCount>{unread}</t:{element}></m:Folders>",
            folder_id(owner, &name)
        ),
    )
}

/// A stable, opaque folder id (real ones are base64 too, starting `AAMk`).
fn folder_id(owner: &str, name: &str) -> String {
    use base64::Engine as _;
    let raw = format!("lab/{}/{name}", owner.to_ascii_lowercase());
    format!("AAMk{}", base64::engine::general_purpose::STANDARD.encode(raw))
}

fn folder_name_of(id: &str) -> Option<String> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(id.strip_prefix("AAMk")?)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    text.strip_prefix("lab/")?.rsplit_once('/').map(|(_, n)| n.to_string())
}

/// A SOAP fault for a request that is not a SOAP message (EWS: HTTP 500, `ErrorSchemaValidation`), in
/// the form of the real answer quoted in exchangelib PR #306
/// (https://github.com/ecederstrand/exchangelib/pull/306): `s:Envelope` straight to `s:Body`, no SOAP
/// header, the detail's `e:ResponseCode` and `e:Message` in EWS's errors namespace (that capture goes on
/// with a `t:MessageXml` of line, position and violation, cut in the quote, so left out here).
fn schema_fault(why: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"{SOAP}\"><s:Body><s:Fault><faultcode xmlns:a=\"{TYPES}\">a:ErrorSchemaValidation</faultcode><faultstring xml:lang=\"en-US\">The request failed schema validation: {}</faultstring><detail><e:ResponseCode xmlns:e=\"{ERRORS}\">ErrorSchemaValidation</e:ResponseCode><e:Message xmlns:e=\"{ERRORS}\">The request failed schema validation.</e:Message></detail></s:Fault></s:Body></s:Envelope>",
        escape(why)
    )
}

/// Exchange's answer to a `RequestServerVersion` it does not take (HTTP 500, no SOAP header, so no
/// ServerVersionInfo). Assembled from two public sources, not one capture:
/// - the bytes are a real server's answer refusing `Exchange2010_SP1` (an Exchange 2007 or 2010 RTM,
///   German), verbatim from Ericsson/exchangecalendar issue #377 (comment of 2015-11-14,
///   https://github.com/Ericsson/exchangecalendar/issues/377), with `xml:lang="de-DE"` and
///   "Die angegebene Serverversion ist ungültig." replaced by the English below;
/// - the English text and the trigger are an Exchange 2010 SP3's (14.3.123.4) answer to
///   `Exchange2013`, "ErrorInvalidServerVersion: The specified server version is invalid."
///   (nmarus/node-ews issue #18, https://github.com/nmarus/node-ews/issues/18); the same words for
///   names that are no version at all (jamesiarmes/php-ews issue #346, `Exchange2007_SP2`).
pub(crate) fn invalid_server_version() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"{SOAP}\"><s:Body><s:Fault><faultcode xmlns:a=\"{TYPES}\">a:ErrorInvalidServerVersion</faultcode><faultstring xml:lang=\"en-US\">The specified server version is invalid.</faultstring><detail><e:ResponseCode xmlns:e=\"{ERRORS}\">ErrorInvalidServerVersion</e:ResponseCode><e:Message xmlns:e=\"{ERRORS}\">The specified server version is invalid.</e:Message></detail></s:Fault></s:Body></s:Envelope>"
    )
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET_INBOX: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
  <soap:Header><t:RequestServerVersion Version="Exchange2013"/></soap:Header>
  <soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>
    <m:FolderIds><t:DistinguishedFolderId Id="inbox"><t:Mailbox><t:EmailAddress>MAILBOX</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:FolderIds>
  </m:GetFolder></soap:Body></soap:Envelope>"#;

    fn ask(mailbox: &str) -> String {
        let host = Host {
            build: "15.1.2507.6",
            mail_domain: "ewslab.test",
        };
        let (status, xml) = answer(&host, GET_INBOX.replace("MAILBOX", mailbox).as_bytes());
        assert_eq!(status, 200);
        xml
    }

    #[test]
    fn request_parses_by_local_name() {
        let r = parse(GET_INBOX.replace("MAILBOX", "bob@ewslab.test").as_bytes()).expect("parses");
        assert_eq!(r.operation, "GetFolder");
        assert_eq!(r.distinguished, vec!["inbox".to_string()]);
        assert_eq!(r.mailbox.as_deref(), Some("bob@ewslab.test"));
        assert_eq!(r.version.as_deref(), Some("Exchange2013"));
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"<Envelope><Header/></Envelope>").is_err());
        let deep = "<x>".repeat(40) + &"</x>".repeat(40);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn each_mailbox_answers_its_code() {
        for &m in LabMailbox::ALL {
            let xml = ask(&m.address("ewslab.test"));
            assert!(
                xml.contains(&format!("<m:ResponseCode>{}</m:ResponseCode>", m.response_code())),
                "{xml}"
            );
            assert!(xml.contains("MajorBuildNumber=\"2507\""), "{xml}");
            match m.message_text() {
                None => assert!(xml.contains("<t:DisplayName>Inbox</t:DisplayName>"), "{xml}"),
                Some(t) => assert!(xml.contains(&escape(t)), "{xml}"),
            }
        }
        assert!(ask("stranger@elsewhere.test").contains("ErrorNonExistentMailbox"));
    }

    #[test]
    fn exchange_2010_refuses_later_versions_with_a_fault_without_a_header() {
        let host = Host {
            build: "14.3.513.0",
            mail_domain: "ewslab.test",
        };
        let ask = |version: &str| {
            answer(
                &host,
                GET_INBOX
                    .replace("Exchange2013", version)
                    .replace("MAILBOX", "alice@ewslab.test")
                    .as_bytes(),
            )
        };
        for version in ["Exchange2013", "Exchange2016", "Exchange2019", "Exchange2007_SP2"] {
            let (status, xml) = ask(version);
            assert_eq!(status, 500, "{version}");
            assert!(xml.contains("a:ErrorInvalidServerVersion"), "{xml}");
            assert!(!xml.contains("Header") && !xml.contains("ServerVersionInfo"), "{xml}");
        }
        for version in EXCHANGE_2010_VERSIONS {
            let (status, xml) = ask(version);
            assert_eq!(status, 200, "{version}: {xml}");
            assert!(xml.contains("MajorVersion=\"14\""), "{xml}");
        }
        // Later Exchange takes them all.
        let modern = Host {
            build: "15.2.2562.17",
            mail_domain: "ewslab.test",
        };
        assert_eq!(
            answer(&modern, GET_INBOX.replace("MAILBOX", "alice@ewslab.test").as_bytes()).0,
            200
        );
        // Not SOAP: ErrorSchemaValidation, no header either.
        let (status, xml) = answer(&modern, b"<not-soap");
        assert_eq!(status, 500);
        assert!(xml.contains(ERRORS) && !xml.contains("ServerVersionInfo"), "{xml}");
    }

    #[test]
    fn folder_ids_round_trip() {
        let id = folder_id("alice@ewslab.test", "inbox");
        assert_eq!(folder_name_of(&id).as_deref(), Some("inbox"));
        assert!(folder_name_of("AAMkZm9v").is_none());
    }
}

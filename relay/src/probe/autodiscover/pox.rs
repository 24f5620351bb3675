//! Autodiscover "POX" (plain old XML, [MS-OXDSCLI]): the request body and the answer, parsed with
//! quick-xml into what the diagnosis needs. The caller caps the body size before parsing.

use serde::Deserialize;

use crate::probe::version::ExchangeBuild;

const REQUEST_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const RESPONSE_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// The request body for `email` (XML-escaped).
pub fn request_body(email: &str) -> String {
    let email = quick_xml::escape::escape(email);
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{REQUEST_SCHEMA}\">\n  <Request>\n    <EMailAddress>{email}</EMailAddress>\n    <AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema>\n  </Request>\n</Autodiscover>\n"
    )
}

/// What an Autodiscover answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoxAnswer {
    Settings(Box<Settings>),
    /// Start again with another e-mail address (its domain may differ).
    RedirectAddr(String),
    /// POST the same request to another https URL.
    RedirectUrl(String),
    /// An `Error` element: the code and the server's message (the KB says what the code means).
    Error {
        code: String,
        message: String,
    },
}

/// The settings a migration needs, from the `User` and `Account` elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub display_name: Option<String>,
    pub legacy_dn: Option<String>,
    pub exch: Option<ProtocolBlock>,
    pub expr: Option<ProtocolBlock>,
    pub web: Option<ProtocolBlock>,
    pub mapi_http: Option<MapiHttp>,
}

/// One `Protocol` block (EXCH, EXPR, WEB): the fields migcheck uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtocolBlock {
    /// EXCH: the RPC server name (2013+: mailbox GUID @ domain); EXPR: the RPC proxy host.
    pub server: Option<String>,
    pub server_dn: Option<String>,
    pub server_version: Option<ExchangeBuild>,
    /// The raw 8 hex digits, kept for the evidence.
    pub server_version_raw: Option<String>,
    pub ssl: Option<bool>,
    pub auth_package: Option<String>,
    pub cert_principal_name: Option<String>,
    pub ews_url: Option<String>,
}

/// The `mapiHttp` block (Exchange 2013 SP1 and later, when asked for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapiHttp {
    pub mail_store_external: Option<String>,
    pub mail_store_internal: Option<String>,
    pub address_book_external: Option<String>,
    pub address_book_internal: Option<String>,
}

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoxError {
    /// Not XML, or not the Autodiscover schema.
    #[error("the answer is not Autodiscover XML: {0}")]
    Malformed(String),
    /// XML of the right shape that says nothing usable (no Account, no Error).
    #[error("the Autodiscover answer has neither settings, a redirect nor an error")]
    Empty,
}

// The XML shapes, matched by local name (quick-xml ignores namespaces here); unknown elements are ignored.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Option<RawResponse>,
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(rename = "User")]
    user: Option<RawUser>,
    #[serde(rename = "Account")]
    account: Option<RawAccount>,
    #[serde(rename = "Error")]
    error: Option<RawError>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(rename = "DisplayName")]
    display_name: Option<String>,
    #[serde(rename = "LegacyDN")]
    legacy_dn: Option<String>,
}

#[derive(Deserialize)]
struct RawAccount {
    #[serde(rename = "Action")]
    action: Option<String>,
    #[serde(rename = "RedirectAddr")]
    redirect_addr: Option<String>,
    #[serde(rename = "RedirectUrl")]
    redirect_url: Option<String>,
    #[serde(rename = "Protocol", default)]
    protocols: Vec<RawProtocol>,
}

#[derive(Deserialize)]
struct RawProtocol {
    #[serde(rename = "@Type")]
    type_attribute: Option<String>,
    #[serde(rename = "Type")]
    type_element: Option<String>,
    #[serde(rename = "Server")]
    server: Option<String>,
    #[serde(rename = "ServerDN")]
    server_dn: Option<String>,
    #[serde(rename = "ServerVersion")]
    server_version: Option<String>,
    #[serde(rename = "SSL")]
    ssl: Option<String>,
    #[serde(rename = "AuthPackage")]
    auth_package: Option<String>,
    #[serde(rename = "CertPrincipalName")]
    cert_principal_name: Option<String>,
    #[serde(rename = "EwsUrl")]
    ews_url: Option<String>,
    #[serde(rename = "MailStore")]
    mail_store: Option<RawUrls>,
    #[serde(rename = "AddressBook")]
    address_book: Option<RawUrls>,
}

#[derive(Deserialize)]
struct RawUrls {
    #[serde(rename = "InternalUrl")]
    internal: Option<String>,
    #[serde(rename = "ExternalUrl")]
    external: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    #[serde(rename = "ErrorCode")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl From<RawProtocol> for ProtocolBlock {
    fn from(p: RawProtocol) -> Self {
        let raw_version = clean(p.server_version);
        ProtocolBlock {
            server: clean(p.server),
            server_dn: clean(p.server_dn),
            server_version: raw_version.as_deref().and_then(ExchangeBuild::from_autodiscover),
            server_version_raw: raw_version,
            ssl: clean(p.ssl).map(|s| s.eq_ignore_ascii_case("on")),
            auth_package: clean(p.auth_package),
            cert_principal_name: clean(p.cert_principal_name),
            ews_url: clean(p.ews_url),
        }
    }
}

/// Parses an Autodiscover answer body.
pub fn parse(body: &[u8]) -> Result<PoxAnswer, PoxError> {
    let text = std::str::from_utf8(body).map_err(|e| PoxError::Malformed(format!("not UTF-8: {e}")))?;
    let envelope: Envelope = quick_xml::de::from_str(text).map_err(|e| PoxError::Malformed(e.to_string()))?;
    let response = envelope.response.ok_or(PoxError::Empty)?;
    if let Some(error) = response.error {
        let code = clean(error.code).unwrap_or_default();
        return Ok(PoxAnswer::Error {
            message: clean(error.message).unwrap_or_default(),
            code,
        });
    }
    let account = response.account.ok_or(PoxError::Empty)?;
    match clean(account.action).map(|a| a.to_ascii_lowercase()).as_deref() {
        Some("redirectaddr") => {
            return clean(account.redirect_addr)
                .map(PoxAnswer::RedirectAddr)
                .ok_or(PoxError::Empty);
        }
        Some("redirecturl") => {
            return clean(account.redirect_url)
                .map(PoxAnswer::RedirectUrl)
                .ok_or(PoxError::Empty);
        }
        _ => {}
    }
    let mut settings = Settings {
        display_name: response.user.as_ref().and_then(|u| clean(u.display_name.clone())),
        legacy_dn: response.user.and_then(|u| clean(u.legacy_dn)),
        ..Settings::default()
    };
    for protocol in account.protocols {
        let kind = clean(protocol.type_element.clone())
            .or_else(|| clean(protocol.type_attribute.clone()))
            .unwrap_or_default();
        match kind.to_ascii_uppercase().as_str() {
            "EXCH" => settings.exch = Some(protocol.into()),
            "EXPR" => settings.expr = Some(protocol.into()),
            "WEB" => settings.web = Some(protocol.into()),
            "MAPIHTTP" => {
                settings.mapi_http = Some(MapiHttp {
                    mail_store_external: protocol.mail_store.as_ref().and_then(|u| clean(u.external.clone())),
                    mail_store_internal: protocol.mail_store.and_then(|u| clean(u.internal)),
                    address_book_external: protocol.address_book.as_ref().and_then(|u| clean(u.external.clone())),
                    address_book_internal: protocol.address_book.and_then(|u| clean(u.internal)),
                })
            }
            _ => {}
        }
    }
    Ok(PoxAnswer::Settings(Box::new(settings)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shaped like an Exchange 2016 answer (names changed), with the mapiHttp block asked for by
    // X-MapiHttpCapability and the namespaces as Exchange writes them.
    const SETTINGS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>Adele Vance</DisplayName>
      <LegacyDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=adele</LegacyDN>
      <AutoDiscoverSMTPAddress>adele@contoso.com</AutoDiscoverSMTPAddress>
      <DeploymentId>1b8c6a4e-9f3e-4b9a-9f06-1c2d3e4f5a6b</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <MicrosoftOnline>False</MicrosoftOnline>
      <Protocol>
        <Type>EXCH</Type>
        <Server>0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com</Server>
        <ServerDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com</ServerDN>
        <ServerVersion>73C189CB</ServerVersion>
        <MdbDN>/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com/cn=Microsoft Private MDB</MdbDN>
        <AuthPackage>Anonymous</AuthPackage>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>mail.contoso.com</Server>
        <SSL>On</SSL>
        <AuthPackage>Basic</AuthPackage>
        <CertPrincipalName>msstd:mail.contoso.com</CertPrincipalName>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal><OWAUrl AuthenticationMethod="Basic, Fba">https://mail.contoso.com/owa/</OWAUrl></Internal>
      </Protocol>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://mail.contoso.com/mapi/emsmdb/?MailboxId=0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com</InternalUrl>
          <ExternalUrl>https://mail.contoso.com/mapi/emsmdb/?MailboxId=0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com</ExternalUrl>
        </MailStore>
        <AddressBook>
          <ExternalUrl>https://mail.contoso.com/mapi/nspi/?MailboxId=0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com</ExternalUrl>
        </AddressBook>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

    #[test]
    fn settings_give_the_migration_endpoint() {
        let PoxAnswer::Settings(s) = parse(SETTINGS.as_bytes()).expect("parse") else {
            panic!("not settings")
        };
        assert_eq!(s.display_name.as_deref(), Some("Adele Vance"));
        let exch = s.exch.expect("EXCH");
        assert_eq!(
            exch.server.as_deref(),
            Some("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d@contoso.com")
        );
        assert_eq!(exch.server_version.map(|v| v.to_string()).as_deref(), Some("15.1.2507"));
        let expr = s.expr.expect("EXPR");
        assert_eq!(expr.server.as_deref(), Some("mail.contoso.com"));
        assert_eq!(expr.ssl, Some(true));
        assert_eq!(expr.auth_package.as_deref(), Some("Basic"));
        assert_eq!(expr.cert_principal_name.as_deref(), Some("msstd:mail.contoso.com"));
        assert!(s.web.is_some());
        assert!(
            s.mapi_http
                .expect("mapiHttp")
                .mail_store_external
                .expect("url")
                .contains("/mapi/emsmdb/")
        );
    }

    #[test]
    fn redirects_and_errors_are_told_apart() {
        let addr = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectAddr</Action><RedirectAddr>adele@fabrikam.com</RedirectAddr></Account></Response></Autodiscover>"#;
        assert_eq!(
            parse(addr.as_bytes()),
            Ok(PoxAnswer::RedirectAddr("adele@fabrikam.com".into()))
        );
        let url = addr.replace("redirectAddr</Action><RedirectAddr>adele@fabrikam.com</RedirectAddr>", "redirectUrl</Action><RedirectUrl>https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml</RedirectUrl>");
        assert!(
            matches!(parse(url.as_bytes()), Ok(PoxAnswer::RedirectUrl(u)) if u.starts_with("https://autodiscover.fabrikam.com/"))
        );
        let error = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error Time="16:59:04.0987656" Id="2877864413"><ErrorCode>500</ErrorCode><Message>The e-mail address cannot be found.</Message><DebugData /></Error></Response></Autodiscover>"#;
        match parse(error.as_bytes()) {
            Ok(PoxAnswer::Error { code, message }) => {
                assert_eq!(code, "500");
                assert_eq!(message, "The e-mail address cannot be found.");
                assert!(migcheck_shared::kb::autodiscover_error_meaning(&code).contains("not known"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_bodies_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"<html><body>IIS 10.0 Detailed Error - 404.0 - Not Found</body></html>",
            b"\xff\xfe<A",
            // Entities are not expanded: an entity bomb is an error, not gigabytes.
            b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"xx\"><!ENTITY y \"&x;&x;&x;\">]><Autodiscover><Response><Account><Action>&y;</Action></Account></Response></Autodiscover>",
            b"<Autodiscover><Response></Response></Autodiscover>",
        ] {
            let outcome = parse(body);
            assert!(outcome.is_err(), "{:?} gave {outcome:?}", String::from_utf8_lossy(body));
        }
        assert_eq!(
            parse(b"<Autodiscover><Response></Response></Autodiscover>"),
            Err(PoxError::Empty)
        );
    }

    #[test]
    fn deep_nesting_is_read_without_recursion() {
        // 200,000 levels (1.4 MB, above what the relay reads): a recursive parser would overflow its stack.
        let depth = 200_000;
        let mut body = "<Autodiscover><Response>".to_string();
        body.push_str(&"<Account>".repeat(depth));
        body.push_str("<Action>redirectAddr</Action><RedirectAddr>x@evil.test</RedirectAddr>");
        body.push_str(&"</Account>".repeat(depth));
        body.push_str("</Response></Autodiscover>");
        // What is buried inside unknown elements is not taken for the account's own answer.
        let outcome = parse(body.as_bytes());
        assert!(!matches!(outcome, Ok(PoxAnswer::RedirectAddr(_))), "{outcome:?}");
        let unclosed = "<a>".repeat(depth);
        assert!(parse(unclosed.as_bytes()).is_err());
    }

    #[test]
    fn request_escapes_the_address() {
        let body = request_body("a<b@contoso.com");
        assert!(body.contains("<EMailAddress>a&lt;b@contoso.com</EMailAddress>"));
        assert!(body.contains(RESPONSE_SCHEMA));
    }
}

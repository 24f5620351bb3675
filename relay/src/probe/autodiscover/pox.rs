//! Autodiscover "POX" (plain old XML, [MS-OXDSCLI]): the request body and the answer, parsed with
//! quick-xml into what the diagnosis needs. The caller caps the body size before parsing.

use serde::Deserialize;

use crate::probe::version::ExchangeBuild;

const REQUEST_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const RESPONSE_SCHEMA: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// EXHTTP blocks kept from one answer.
const MAX_EXHTTP: usize = 4;

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

/// The settings a migration needs, from the `User` element and the `Protocol` children of `Account`
/// (only those: a mapiHttp answer nests EXCH and EXPR blocks with an ASUrl under WEB's `Internal` and
/// `External`, [MS-OXDSCLI] 4.4, and they are not the Outlook Anywhere settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub display_name: Option<String>,
    pub legacy_dn: Option<String>,
    pub exch: Option<ProtocolBlock>,
    pub expr: Option<ProtocolBlock>,
    pub web: Option<ProtocolBlock>,
    pub mapi_http: Option<MapiHttp>,
    /// EXHTTP blocks: RPC over HTTP for clients other than Outlook, sent (by 15.00.0995.014 and later)
    /// only to a request whose `X-ClientCanHandle` holds `ExHttpInfo` (POX reference, type-pox).
    pub exhttp: Vec<ProtocolBlock>,
}

/// Which element of a block named the EWS URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EwsUrlElement {
    EwsUrl,
    /// The Availability service's URL, which is EWS itself on Exchange 2007 (whose answers carry no
    /// `EwsUrl`); the EWS Managed API falls back to it the same way (`EwsUrl ?? ASUrl`).
    AsUrl,
}

impl EwsUrlElement {
    pub fn name(self) -> &'static str {
        match self {
            EwsUrlElement::EwsUrl => "EwsUrl",
            EwsUrlElement::AsUrl => "ASUrl",
        }
    }
}

/// One `Protocol` block (EXCH, EXPR, EXHTTP, WEB): the fields migcheck uses.
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
    /// `ASUrl`: the Availability service, EWS's own URL on Exchange 2007.
    pub as_url: Option<String>,
}

impl ProtocolBlock {
    /// The EWS URL this block gives: `EwsUrl`, else `ASUrl` (as the EWS Managed API reads it).
    pub fn ews(&self) -> Option<(&str, EwsUrlElement)> {
        self.ews_url
            .as_deref()
            .map(|u| (u, EwsUrlElement::EwsUrl))
            .or_else(|| self.as_url.as_deref().map(|u| (u, EwsUrlElement::AsUrl)))
    }
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
    #[serde(rename = "ASUrl")]
    as_url: Option<String>,
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
            as_url: clean(p.as_url),
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
            // Real answers carry one or two (internal, external); a few more are kept, not thousands.
            "EXHTTP" if settings.exhttp.len() < MAX_EXHTTP => settings.exhttp.push(protocol.into()),
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

    fn settings_of(xml: &str) -> Settings {
        match parse(xml.as_bytes()).expect("parse") {
            PoxAnswer::Settings(s) => *s,
            other => panic!("not settings: {other:?}"),
        }
    }

    // Shaped like an Exchange 2016 answer (names changed) to a request without X-MapiHttpCapability
    // (EXCH and EXPR; no mapiHttp block, which replaces them when asked for: see MS_OXDSCLI_4_4), with
    // the namespaces as Exchange writes them.
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
    </Account>
  </Response>
</Autodiscover>"#;

    #[test]
    fn settings_give_the_migration_endpoint() {
        let s = settings_of(SETTINGS);
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
        assert_eq!(s.mapi_http, None);
        assert_eq!(
            expr.ews(),
            Some(("https://mail.contoso.com/EWS/Exchange.asmx", EwsUrlElement::EwsUrl))
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

    // [MS-OXDSCLI] 4.4 "MapiHttp Response", verbatim (the `https:/Internal` typo is Microsoft's):
    // what Exchange 2013 SP1 and later answer to a request with X-MapiHttpCapability when MAPI over
    // HTTP is on (3.2.5.1): no top-level EXCH or EXPR; EXPR and EXCH blocks nested under WEB.
    const MS_OXDSCLI_4_4: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>User Display Name</DisplayName>
      <LegacyDN>/o=microsoft/ou=Contoso/cn=Recipients/cn=486021</LegacyDN>
      <AutoDiscoverSMTPAddress>user@Contoso.com</AutoDiscoverSMTPAddress>
      <DeploymentId>30c3a927-42aa-5de8-91e3-8e5b4655ed00</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol Type="mapiHttp" Version="1">
        <MailStore>
          <InternalUrl>https://mail.Contoso.com/mapi/emsmdb/?MailboxId=416c6368-656d-794a-6f45-57615272456e@Contoso.com</InternalUrl>
        </MailStore>
        <AddressBook>
          <InternalUrl>https://mail.Contoso.com/mapi/nspi/?MailboxId=416c6368-656d-794a-6f45-57615272456e@Contoso.com</InternalUrl>
        </AddressBook>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <External>
          <OWAUrl AuthenticationMethod="Fba">https://mail.Contoso.com/owa</OWAUrl>
          <Protocol>
            <Type>EXPR</Type>
            <ASUrl>https://mail.Contoso.com/ews/exchange.asmx</ASUrl>
          </Protocol>
        </External>
        <Internal>
          <OWAUrl AuthenticationMethod="Ntlm, WindowsIntegrated">https:/Internal.mail.Contoso.com/owa</OWAUrl>
          <OWAUrl AuthenticationMethod="Basic, Fba">https://mail.Contoso.com/owa</OWAUrl>
          <Protocol>
            <Type>EXCH</Type>
            <ASUrl>https://mail.Contoso.com/ews/exchange.asmx</ASUrl>
          </Protocol>
        </Internal>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

    #[test]
    fn a_mapi_http_answer_has_no_outlook_anywhere_settings_even_nested() {
        let s = settings_of(MS_OXDSCLI_4_4);
        // The EXPR and EXCH under WEB are not the account's: no Outlook Anywhere settings here.
        assert_eq!(s.expr, None);
        assert_eq!(s.exch, None);
        assert!(s.web.is_some());
        let mapi = s.mapi_http.expect("mapiHttp");
        assert_eq!(mapi.mail_store_external, None);
        assert_eq!(
            mapi.mail_store_internal.as_deref(),
            Some("https://mail.Contoso.com/mapi/emsmdb/?MailboxId=416c6368-656d-794a-6f45-57615272456e@Contoso.com")
        );
        assert!(mapi.address_book_internal.expect("nspi").contains("/mapi/nspi/"));
    }

    // Microsoft's "POX Autodiscover response for Exchange" (office-developer-exchange-docs, revision
    // 775012d of 2018-05-25, the last before the 2020 rewrite turned the namespaces into https://),
    // verbatim, as the lab serves it: an Exchange 2007 answer with ASUrl and no EwsUrl, no SSL,
    // AuthPackage or CertPrincipalName in EXPR, and no XML declaration.
    use migcheck_lab::POX_EXCHANGE_2007;

    #[test]
    fn an_exchange_2007_answer_gives_ews_through_as_url() {
        let s = settings_of(POX_EXCHANGE_2007);
        let expr = s.expr.expect("EXPR");
        assert_eq!(expr.server.as_deref(), Some("Exchange.contoso.com"));
        assert_eq!(
            (
                expr.ssl,
                expr.auth_package.as_deref(),
                expr.cert_principal_name.as_deref()
            ),
            (None, None, None)
        );
        assert_eq!(expr.ews_url, None);
        assert_eq!(
            expr.ews(),
            Some(("https://mail.contoso.com/ews/exchange.asmx", EwsUrlElement::AsUrl))
        );
        let exch = s.exch.expect("EXCH");
        assert_eq!(exch.server.as_deref(), Some("MBX-SERVER.mail.internal.contoso.com"));
        assert_eq!(exch.server_version.map(|v| v.to_string()).as_deref(), Some("8.0.647"));
        assert_eq!(s.mapi_http, None);
        assert!(s.exhttp.is_empty());
        // An EwsUrl, where there is one, wins over the ASUrl.
        let both = ProtocolBlock {
            ews_url: Some("https://a/EWS/Exchange.asmx".into()),
            as_url: Some("https://b/EWS/Exchange.asmx".into()),
            ..ProtocolBlock::default()
        };
        assert_eq!(both.ews(), Some(("https://a/EWS/Exchange.asmx", EwsUrlElement::EwsUrl)));
    }

    #[test]
    fn exhttp_blocks_are_read_beside_expr() {
        // No published example exists: the elements of an EXHTTP block as the POX reference names them
        // (type-pox, protocol-pox, authpackage-pox), names made up.
        let xml = SETTINGS.replace(
            "      <Protocol>\n        <Type>WEB</Type>",
            "      <Protocol>\n        <Type>EXHTTP</Type>\n        <Server>mail.contoso.com</Server>\n        <SSL>On</SSL>\n        <AuthPackage>Ntlm</AuthPackage>\n        <ASUrl>https://mail.contoso.com/EWS/Exchange.asmx</ASUrl>\n        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>\n      </Protocol>\n      <Protocol>\n        <Type>WEB</Type>",
        );
        let s = settings_of(&xml);
        assert_eq!(s.exhttp.len(), 1, "{xml}");
        assert_eq!(s.exhttp[0].server.as_deref(), Some("mail.contoso.com"));
        assert_eq!(s.exhttp[0].auth_package.as_deref(), Some("Ntlm"));
        // EXPR is still the block the migration service reads.
        assert_eq!(s.expr.expect("EXPR").auth_package.as_deref(), Some("Basic"));
        let many = xml.replace(
            "<Type>EXHTTP</Type>",
            "<Type>EXHTTP</Type></Protocol><Protocol><Type>EXHTTP</Type></Protocol><Protocol><Type>EXHTTP</Type></Protocol><Protocol><Type>EXHTTP</Type></Protocol><Protocol><Type>EXHTTP</Type></Protocol><Protocol><Type>EXHTTP</Type>",
        );
        let s = settings_of(&many);
        assert_eq!(s.exhttp.len(), MAX_EXHTTP);
    }

    #[test]
    fn request_escapes_the_address() {
        let body = request_body("a<b@contoso.com");
        assert!(body.contains("<EMailAddress>a&lt;b@contoso.com</EMailAddress>"));
        assert!(body.contains(RESPONSE_SCHEMA));
    }
}

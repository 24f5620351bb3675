//! The POX Autodiscover answers, written from [MS-OXDSCLI] and Microsoft's POX reference pages:
//! outer namespace `.../autodiscover/responseschema/2006`, inner `.../outlook/responseschema/2006a`
//! (the http:// names real servers write; Microsoft's pages show https:// since a 2020 edit).
//!
//! A server answers two requests differently ([`Form`]): with `X-MapiHttpCapability` and MAPI over
//! HTTP on, Exchange 2013 SP1 and later answer a mapiHttp block and no top-level EXCH or EXPR
//! ([MS-OXDSCLI] 3.2.5.1, example 4.4); with `ExHttpInfo` in `X-ClientCanHandle`, 15.00.0995.014 and
//! later add an EXHTTP block (POX reference, type-pox).

use crate::AdScenario;
use crate::autodiscover::{AD_ZONE, Answer, ERROR_500, ERROR_600, SERVER_VERSION, expr_host, mailbox_guid};

/// What the request asked for beyond the plain settings (what nginx picks the document by).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Form {
    /// `X-MapiHttpCapability` with an integer above zero (3.2.5.1: otherwise the header is ignored).
    pub mapi_header: bool,
    /// `X-ClientCanHandle` holding `ExHttpInfo`.
    pub exhttp: bool,
}

impl Form {
    pub(crate) const ALL: [Form; 4] = [
        Form {
            mapi_header: false,
            exhttp: false,
        },
        Form {
            mapi_header: false,
            exhttp: true,
        },
        Form {
            mapi_header: true,
            exhttp: false,
        },
        Form {
            mapi_header: true,
            exhttp: true,
        },
    ];

    /// `autodiscover-rpc.xml`, `autodiscover-mapi-exhttp.xml`...: the names nginx's maps build.
    pub(crate) fn file_name(self) -> String {
        format!(
            "autodiscover-{}{}.xml",
            if self.mapi_header { "mapi" } else { "rpc" },
            if self.exhttp { "-exhttp" } else { "" }
        )
    }
}

/// Exchange 2007's `ServerVersion` in Microsoft's example (8.0.647).
pub(crate) const EXCHANGE_2007_SERVER_VERSION: &str = "72008287";

const OUTER: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const INNER: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const ORG: &str = "/o=Contoso Lab/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)";

/// The XML document a POX endpoint answers for `s` (after authentication) to a request of `form`.
pub(crate) fn body(s: AdScenario, answer: &Answer, form: Form) -> String {
    let inner = match answer {
        Answer::Settings {
            domain,
            expr,
            ntlm,
            mapi,
        } if *mapi && form.mapi_header => mapi_http(s, domain, *ntlm, form.exhttp),
        Answer::Settings { domain, expr, ntlm, .. } => settings(s, domain, *expr, *ntlm, form.exhttp),
        // Exchange 2007 knows neither header: the same answer to every request.
        Answer::Exchange2007 { domain } => return exchange_2007(domain),
        Answer::RedirectAddr(addr) => account(&format!(
            "      <Action>redirectAddr</Action>\n      <RedirectAddr>{addr}</RedirectAddr>\n"
        )),
        Answer::RedirectUrl(url) => account(&format!(
            "      <Action>redirectUrl</Action>\n      <RedirectUrl>{url}</RedirectUrl>\n"
        )),
        // "The e-mail address cannot be found." comes from the Outlook provider: inner namespace.
        Answer::Error500 => {
            return document(&format!(
                "  <Response xmlns=\"{INNER}\">\n{}  </Response>\n",
                error(500, ERROR_500, s)
            ));
        }
        // "Invalid Request" is raised before any provider is picked: the outer namespace only.
        Answer::Error600 => return document(&format!("  <Response>\n{}  </Response>\n", error(600, ERROR_600, s))),
    };
    document(&format!("  <Response xmlns=\"{INNER}\">\n{inner}  </Response>\n"))
}

fn document(response: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{OUTER}\">\n{response}</Autodiscover>\n")
}

fn account(action: &str) -> String {
    format!("    <Account>\n      <AccountType>email</AccountType>\n{action}    </Account>\n")
}

fn error(code: u16, message: &str, s: AdScenario) -> String {
    // Time and Id as Exchange writes them (a time of day, a decimal number); fixed, the file is static.
    format!(
        "    <Error Time=\"09:14:27.4531250\" Id=\"{}\">\n      <ErrorCode>{code}</ErrorCode>\n      <Message>{message}</Message>\n      <DebugData />\n    </Error>\n",
        2_776_000_000u32 + u32::from(s.number())
    )
}

/// The names every settings answer of `s` for domain `d` uses.
struct Names {
    guid: String,
    /// The LegacyDN root of the organisation.
    org: String,
    /// The Exchange front end (EWS, OWA, OAB, MAPI): the Outlook Anywhere host, which serves them all
    /// (`mail.D`; `outlook.D` in HttpRedirectOnly, where mail.D only serves Autodiscover).
    mail: String,
    ews: String,
    oab: String,
}

impl Names {
    fn of(s: AdScenario, d: &str) -> Names {
        let mail = expr_host(s, d);
        let org_name = if d == format!("newco.{AD_ZONE}") {
            "NewCo Lab"
        } else {
            "Contoso Lab"
        };
        Names {
            guid: mailbox_guid(s),
            org: ORG.replace("Contoso Lab", org_name),
            ews: format!("https://{mail}/EWS/Exchange.asmx"),
            oab: format!("https://{mail}/OAB/3e2b0a1c-9d8f-4e7a-b6c5-{:012x}/", s.number()),
            mail,
        }
    }
}

/// `<User>` and the start of `<Account>` of a settings answer.
fn user_and_account(s: AdScenario, d: &str, n: &Names) -> String {
    let mut x = String::new();
    x.push_str("    <User>\n");
    x.push_str("      <DisplayName>Alice Lab</DisplayName>\n");
    x.push_str(&format!(
        "      <LegacyDN>{}/cn=Recipients/cn={}-alice</LegacyDN>\n",
        n.org,
        &n.guid[..8]
    ));
    x.push_str(&format!(
        "      <AutoDiscoverSMTPAddress>alice@{d}</AutoDiscoverSMTPAddress>\n"
    ));
    x.push_str(&format!(
        "      <DeploymentId>0d6e3c4b-2a19-4f8e-8d7c-{:012x}</DeploymentId>\n",
        s.number()
    ));
    x.push_str("    </User>\n");
    x.push_str("    <Account>\n");
    x.push_str("      <AccountType>email</AccountType>\n");
    x.push_str("      <Action>settings</Action>\n");
    x.push_str("      <MicrosoftOnline>False</MicrosoftOnline>\n");
    x
}

/// The answer to a request without `X-MapiHttpCapability` (or with MAPI over HTTP off): EXCH, EXPR
/// (when published), WEB, and EXHTTP when asked.
fn settings(s: AdScenario, d: &str, expr: bool, ntlm: bool, exhttp: bool) -> String {
    let n = Names::of(s, d);
    let Names {
        guid,
        org,
        mail,
        ews,
        oab,
    } = &n;
    let mut x = user_and_account(s, d, &n);
    // EXCH: the internal RPC endpoint; Server is the mailbox GUID (Exchange 2013+).
    x.push_str("      <Protocol>\n");
    x.push_str("        <Type>EXCH</Type>\n");
    x.push_str(&format!("        <Server>{guid}@{d}</Server>\n"));
    x.push_str(&format!(
        "        <ServerDN>{org}/cn=Configuration/cn=Servers/cn={guid}@{d}</ServerDN>\n"
    ));
    x.push_str(&format!("        <ServerVersion>{SERVER_VERSION}</ServerVersion>\n"));
    x.push_str(&format!(
        "        <MdbDN>{org}/cn=Configuration/cn=Servers/cn={guid}@{d}/cn=Microsoft Private MDB</MdbDN>\n"
    ));
    x.push_str(&format!("        <PublicFolderServer>{mail}</PublicFolderServer>\n"));
    x.push_str(&format!("        <AD>dc01.{d}</AD>\n"));
    x.push_str(&format!("        <ASUrl>{ews}</ASUrl>\n"));
    x.push_str(&format!("        <EwsUrl>{ews}</EwsUrl>\n"));
    x.push_str(&format!(
        "        <EmwsUrl>https://{mail}/EWS/Exchange.asmx</EmwsUrl>\n"
    ));
    x.push_str(&format!("        <EcpUrl>https://{mail}/ecp/</EcpUrl>\n"));
    x.push_str(&format!("        <OOFUrl>{ews}</OOFUrl>\n"));
    x.push_str(&format!("        <OABUrl>{oab}</OABUrl>\n"));
    x.push_str("        <ServerExclusiveConnect>off</ServerExclusiveConnect>\n");
    x.push_str("      </Protocol>\n");
    if expr {
        // EXPR: Outlook Anywhere (RPC over HTTP) through the proxy (`mail.D`, see `expr_host`).
        x.push_str("      <Protocol>\n");
        x.push_str("        <Type>EXPR</Type>\n");
        x.push_str(&format!("        <Server>{mail}</Server>\n"));
        x.push_str("        <SSL>On</SSL>\n");
        x.push_str(&format!("        <AuthPackage>{}</AuthPackage>\n", auth_package(ntlm)));
        x.push_str(&format!(
            "        <CertPrincipalName>msstd:{mail}</CertPrincipalName>\n"
        ));
        x.push_str(&format!("        <ASUrl>{ews}</ASUrl>\n"));
        x.push_str(&format!("        <EwsUrl>{ews}</EwsUrl>\n"));
        x.push_str(&format!("        <OOFUrl>{ews}</OOFUrl>\n"));
        x.push_str(&format!("        <OABUrl>{oab}</OABUrl>\n"));
        x.push_str("        <ServerExclusiveConnect>On</ServerExclusiveConnect>\n");
        x.push_str("      </Protocol>\n");
    }
    x.push_str(&web(&n, expr));
    if exhttp && expr {
        x.push_str(&exhttp_block(&n, ntlm));
    }
    x.push_str("    </Account>\n");
    x
}

fn auth_package(ntlm: bool) -> &'static str {
    if ntlm { "Ntlm" } else { "Basic" }
}

/// WEB: the OWA URLs, with EXCH and EXPR blocks nested under Internal and External that carry only
/// an ASUrl (as in [MS-OXDSCLI] 4.4): not the account's Outlook Anywhere settings.
fn web(n: &Names, expr: bool) -> String {
    let (mail, ews) = (&n.mail, &n.ews);
    let mut x = String::new();
    x.push_str("      <Protocol>\n");
    x.push_str("        <Type>WEB</Type>\n");
    x.push_str("        <Internal>\n");
    x.push_str(&format!(
        "          <OWAUrl AuthenticationMethod=\"Basic, Fba\">https://{mail}/owa/</OWAUrl>\n"
    ));
    x.push_str(&format!(
        "          <Protocol>\n            <Type>EXCH</Type>\n            <ASUrl>{ews}</ASUrl>\n          </Protocol>\n"
    ));
    x.push_str("        </Internal>\n");
    x.push_str("        <External>\n");
    x.push_str(&format!(
        "          <OWAUrl AuthenticationMethod=\"Fba\">https://{mail}/owa/</OWAUrl>\n"
    ));
    if expr {
        x.push_str(&format!(
            "          <Protocol>\n            <Type>EXPR</Type>\n            <ASUrl>{ews}</ASUrl>\n          </Protocol>\n"
        ));
    }
    x.push_str("        </External>\n");
    x.push_str("      </Protocol>\n");
    x
}

/// The answer to `X-MapiHttpCapability: 1` with MAPI over HTTP on, in the shape of [MS-OXDSCLI] 4.4:
/// the mapiHttp block (Version 1: MailStore and AddressBook, each with InternalUrl and ExternalUrl, as
/// 3.2.5.1's table lists them), then WEB; no top-level EXCH or EXPR (3.2.5.1 step 3).
fn mapi_http(s: AdScenario, d: &str, ntlm: bool, exhttp: bool) -> String {
    let n = Names::of(s, d);
    let mut x = user_and_account(s, d, &n);
    let mailbox = format!("MailboxId={}@{d}", n.guid);
    let mail = &n.mail;
    // A Type ATTRIBUTE here, not a child element.
    x.push_str("      <Protocol Type=\"mapiHttp\" Version=\"1\">\n");
    for (element, path) in [("MailStore", "emsmdb"), ("AddressBook", "nspi")] {
        x.push_str(&format!("        <{element}>\n"));
        x.push_str(&format!(
            "          <InternalUrl>https://{mail}/mapi/{path}/?{mailbox}</InternalUrl>\n"
        ));
        x.push_str(&format!(
            "          <ExternalUrl>https://{mail}/mapi/{path}/?{mailbox}</ExternalUrl>\n"
        ));
        x.push_str(&format!("        </{element}>\n"));
    }
    x.push_str("      </Protocol>\n");
    x.push_str(&web(&n, true));
    if exhttp {
        x.push_str(&exhttp_block(&n, ntlm));
    }
    x.push_str("    </Account>\n");
    x
}

/// EXHTTP (15.00.0995.014 and later, to `X-ClientCanHandle: ExHttpInfo`): RPC over HTTP for clients
/// other than Outlook. Microsoft publishes no example; the elements are those the POX reference gives
/// a Protocol of this type (type-pox: EXHTTP; authpackage-pox: used with EXCH, EXPR or EXHTTP), with
/// the EXPR values: the same Outlook Anywhere host, SSL and AuthPackage.
fn exhttp_block(n: &Names, ntlm: bool) -> String {
    let (mail, ews, oab) = (&n.mail, &n.ews, &n.oab);
    let mut x = String::new();
    x.push_str("      <Protocol>\n");
    x.push_str("        <Type>EXHTTP</Type>\n");
    x.push_str(&format!("        <Server>{mail}</Server>\n"));
    x.push_str("        <SSL>On</SSL>\n");
    x.push_str(&format!("        <AuthPackage>{}</AuthPackage>\n", auth_package(ntlm)));
    x.push_str(&format!("        <ASUrl>{ews}</ASUrl>\n"));
    x.push_str(&format!("        <EwsUrl>{ews}</EwsUrl>\n"));
    x.push_str(&format!("        <OOFUrl>{ews}</OOFUrl>\n"));
    x.push_str(&format!("        <OABUrl>{oab}</OABUrl>\n"));
    x.push_str("        <ServerExclusiveConnect>On</ServerExclusiveConnect>\n");
    x.push_str("      </Protocol>\n");
    x
}

/// Microsoft's "POX Autodiscover response for Exchange" (MicrosoftDocs/office-developer-exchange-docs,
/// docs/web-service-reference/pox-autodiscover-response-for-exchange.md at 775012d, 2018-05-25: the
/// last revision before the 2020 edit that turned the namespaces into https://), verbatim, with
/// `contoso.com` replaced by the scenario's domain. An Exchange 2007 answer: ASUrl and no EwsUrl; EXPR
/// without SSL, AuthPackage or CertPrincipalName. The example omits the XML declaration, which the same
/// page's error example and every other Exchange answer ([MS-OXDSCLI] 4.4) carry: the lab adds it
/// (exchangelib 4.9, for one, takes a body without it for no XML at all; migcheck reads both). Public:
/// the relay's parser is tested on the same bytes.
pub const POX_EXCHANGE_2007: &str = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>First Last</DisplayName>
      <LegacyDN>/o=contoso/ou=First Administrative Group/cn=Recipients/cn=iuser885646</LegacyDN>
      <DeploymentId>644560b8-a1ce-429c-8ace-23395843f701</DeploymentId>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>MBX-SERVER.mail.internal.contoso.com</Server>
        <ServerDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER</ServerDN>
        <ServerVersion>72008287</ServerVersion>
        <MdbDN>/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX-SERVER/cn=Microsoft Private MDB</MdbDN>
        <ASUrl>https://mail.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.contoso.com/ews/exchange.asmx</OOFUrl>
        <UMUrl>https://mail.contoso.com/unifiedmessaging/service.asmx</UMUrl>
        <OABUrl>https://mail.contoso.com/OAB/d29844a9-724e-468c-8820-0f7b345b767b/</OABUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>Exchange.contoso.com</Server>
        <ASUrl>https://mail.contoso.com/ews/exchange.asmx</ASUrl>
        <OOFUrl>https://mail.contoso.com/ews/exchange.asmx</OOFUrl>
        <UMUrl>https://mail.contoso.com/unifiedmessaging/service.asmx</UMUrl>
        <OABUrl>https://mail.contoso.com/OAB/d29844a9-724e-468c-8820-0f7b345b767b/</OABUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal>
          <OWAUrl AuthenticationMethod="Ntlm, WindowsIntegrated">https://cas-01-server.mail.internal.contoso.com/owa</OWAUrl>
          <OWAUrl AuthenticationMethod="Ntlm, WindowsIntegrated">https://cas-02-server.mail.internal.contoso.com/owa</OWAUrl>
          <OWAUrl AuthenticationMethod="Basic">https://cas-04-server.mail.internal.contoso.com/owa</OWAUrl>
          <OWAUrl AuthenticationMethod="Ntlm, WindowsIntegrated">https://cas-05-server.mail.internal.contoso.com/owa</OWAUrl>
        </Internal>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

fn exchange_2007(domain: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{}\n",
        POX_EXCHANGE_2007.replace("contoso.com", domain)
    )
}

/// The Autodiscover V2 answer for `Protocol=Ews` (Healthy only).
pub(crate) fn v2_ews(d: &str) -> String {
    format!("{{\"Protocol\":\"Ews\",\"Url\":\"https://mail.{d}/EWS/Exchange.asmx\"}}")
}

/// The V2 answer for any other protocol value (the shape Exchange Online uses; UNCONFIRMED on-premises).
pub(crate) fn v2_bad_protocol() -> &'static str {
    "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol value is invalid. Supported values are 'Ews,ActiveSync,AutodiscoverV1'\"}"
}

/// The file nginx and Apache answer SOAP Autodiscover (`/autodiscover/autodiscover.svc`) with.
pub(crate) const SOAP_FILE: &str = "autodiscover-soap.xml";

/// The settings the static answer gives: a static file cannot read the request, so it answers what a
/// hybrid client (and migcheck) asks of [MS-OXWSADISC]'s list.
const SOAP_SETTINGS: [&str; 8] = [
    "UserDisplayName",
    "CasVersion",
    "EwsSupportedSchemas",
    "ExternalEwsUrl",
    "InternalEwsUrl",
    "ExternalMailboxServer",
    "ExternalMailboxServerRequiresSSL",
    "MapiHttpEnabled",
];

/// GetUserSettings for `alice@<domain>` on a host whose POX answers settings (None: it answers none),
/// written by the lab's own SOAP Autodiscover (`exchange_server::get_user_settings`, which names the
/// sources) as Exchange 2016 CU23: ExternalEwsUrl is the EWS URL of the POX answer's EXPR block.
/// Modelled: nginx and Apache serve this one answer whatever mailbox is asked (a real server answers per
/// mailbox; the tests ask only for alice@).
pub(crate) fn soap_body(s: AdScenario, answer: &Answer) -> Option<String> {
    use crate::exchange_server::get_user_settings::{SoapHost, answer as soap_answer};
    let Answer::Settings { domain, .. } = answer else {
        return None;
    };
    let settings: String = SOAP_SETTINGS
        .iter()
        .map(|n| format!("<a:Setting>{n}</a:Setting>"))
        .collect();
    let request = format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:a=\"http://schemas.microsoft.com/exchange/2010/Autodiscover\"><soap:Body><a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>alice@{domain}</a:Mailbox></a:User></a:Users><a:RequestedSettings>{settings}</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>"
    );
    let name = expr_host(s, domain);
    let host = SoapHost {
        name: &name,
        build: crate::autodiscover::OWA_VERSION,
        mail_domain: domain,
        external_ews: true,
    };
    Some(soap_answer(&host, request.as_bytes()).1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two forms of one server's answer: EXCH/EXPR as asked by the migration service, mapiHttp
    /// without top-level EXCH/EXPR to X-MapiHttpCapability (MAPI on), EXHTTP only to ExHttpInfo.
    #[test]
    fn the_answer_follows_the_request_headers() {
        let s = AdScenario::Healthy;
        let d = s.domain();
        let answer = Answer::Settings {
            domain: d.clone(),
            expr: true,
            ntlm: false,
            mapi: true,
        };
        let top = |xml: &str, ty: &str| xml.contains(&format!("      <Protocol>\n        <Type>{ty}</Type>"));
        for form in Form::ALL {
            let xml = body(s, &answer, form);
            assert_eq!(
                xml.contains("<Protocol Type=\"mapiHttp\" Version=\"1\">"),
                form.mapi_header,
                "{form:?}"
            );
            assert_eq!(top(&xml, "EXPR"), !form.mapi_header, "{form:?}: {xml}");
            assert_eq!(top(&xml, "EXCH"), !form.mapi_header, "{form:?}: {xml}");
            assert_eq!(top(&xml, "EXHTTP"), form.exhttp, "{form:?}");
            // Nested under WEB in both forms.
            assert!(
                xml.contains("          <Protocol>\n            <Type>EXPR</Type>"),
                "{xml}"
            );
        }
        // MAPI over HTTP off: EXCH/EXPR whatever the request says.
        let off = Answer::Settings {
            domain: d.clone(),
            expr: true,
            ntlm: false,
            mapi: false,
        };
        let with_header = Form {
            mapi_header: true,
            exhttp: false,
        };
        assert_eq!(body(s, &off, with_header), body(s, &off, Form::ALL[0]));
        // Exchange 2007 knows neither header.
        let ex2007 = Answer::Exchange2007 { domain: d.clone() };
        let xml = body(AdScenario::Exchange2007, &ex2007, Form::ALL[3]);
        assert_eq!(xml, body(AdScenario::Exchange2007, &ex2007, Form::ALL[0]));
        assert!(xml.contains(&format!("<Server>Exchange.{d}</Server>")) && !xml.contains("contoso.com"));
        assert!(!xml.contains("EwsUrl") && xml.contains("\n<Autodiscover xmlns=\"http://schemas"));
    }

    /// Every URL of the settings names the host that serves EWS (the Outlook Anywhere host).
    #[test]
    fn settings_urls_name_the_exchange_front_end() {
        for &s in AdScenario::ALL {
            let d = s.domain();
            let xml = settings(s, &d, true, false, true);
            let ews = format!("<EwsUrl>https://{}/EWS/Exchange.asmx</EwsUrl>", expr_host(s, &d));
            assert!(xml.contains(&ews), "{s}: {xml}");
            assert!(!xml.contains(&format!("https://mail.{d}/")) || expr_host(s, &d) == format!("mail.{d}"));
        }
    }
}

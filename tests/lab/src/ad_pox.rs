//! The POX Autodiscover answers, written from [MS-OXDSCLI] and Microsoft's POX reference pages:
//! outer namespace `.../autodiscover/responseschema/2006`, inner `.../outlook/responseschema/2006a`.

use crate::AdScenario;
use crate::autodiscover::{AD_ZONE, Answer, ERROR_500, ERROR_600, SERVER_VERSION, expr_host, mailbox_guid};

const OUTER: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const INNER: &str = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const ORG: &str = "/o=Contoso Lab/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)";

/// The XML document a POX endpoint answers for `s` (after authentication).
pub(crate) fn body(s: AdScenario, answer: &Answer) -> String {
    let inner = match answer {
        Answer::Settings {
            domain,
            expr,
            ntlm,
            mapi,
        } => settings(s, domain, *expr, *ntlm, *mapi),
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

fn settings(s: AdScenario, d: &str, expr: bool, ntlm: bool, mapi: bool) -> String {
    let guid = mailbox_guid(s);
    // The Exchange front end (EWS, OWA, OAB, MAPI): the Outlook Anywhere host, which serves them all
    // (`mail.D`; `outlook.D` in HttpRedirectOnly, where mail.D only serves Autodiscover).
    let mail = expr_host(s, d);
    let ews = format!("https://{mail}/EWS/Exchange.asmx");
    let oab = format!("https://{mail}/OAB/3e2b0a1c-9d8f-4e7a-b6c5-{:012x}/", s.number());
    let org_name = if d == format!("newco.{AD_ZONE}") {
        "NewCo Lab"
    } else {
        "Contoso Lab"
    };
    let org = ORG.replace("Contoso Lab", org_name);
    let mut x = String::new();
    x.push_str("    <User>\n");
    x.push_str("      <DisplayName>Alice Lab</DisplayName>\n");
    x.push_str(&format!(
        "      <LegacyDN>{org}/cn=Recipients/cn={guid_short}-alice</LegacyDN>\n",
        guid_short = &guid[..8]
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
        let proxy = &mail;
        x.push_str("      <Protocol>\n");
        x.push_str("        <Type>EXPR</Type>\n");
        x.push_str(&format!("        <Server>{proxy}</Server>\n"));
        x.push_str("        <SSL>On</SSL>\n");
        x.push_str(&format!(
            "        <AuthPackage>{}</AuthPackage>\n",
            if ntlm { "Ntlm" } else { "Basic" }
        ));
        x.push_str(&format!(
            "        <CertPrincipalName>msstd:{proxy}</CertPrincipalName>\n"
        ));
        x.push_str(&format!("        <ASUrl>{ews}</ASUrl>\n"));
        x.push_str(&format!("        <EwsUrl>{ews}</EwsUrl>\n"));
        x.push_str(&format!("        <OOFUrl>{ews}</OOFUrl>\n"));
        x.push_str(&format!("        <OABUrl>{oab}</OABUrl>\n"));
        x.push_str("        <ServerExclusiveConnect>On</ServerExclusiveConnect>\n");
        x.push_str("      </Protocol>\n");
    }
    // WEB: the OWA URLs.
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
    if mapi {
        // mapiHttp (Exchange 2013 SP1+): a Type ATTRIBUTE, not a child element.
        let mailbox = format!("MailboxId={guid}@{d}");
        x.push_str("      <Protocol Type=\"mapiHttp\" Version=\"1\">\n");
        x.push_str("        <MailStore>\n");
        x.push_str(&format!(
            "          <InternalUrl>https://{mail}/mapi/emsmdb/?{mailbox}</InternalUrl>\n"
        ));
        x.push_str(&format!(
            "          <ExternalUrl>https://{mail}/mapi/emsmdb/?{mailbox}</ExternalUrl>\n"
        ));
        x.push_str("        </MailStore>\n");
        x.push_str("        <AddressBook>\n");
        x.push_str(&format!(
            "          <InternalUrl>https://{mail}/mapi/nspi/?{mailbox}</InternalUrl>\n"
        ));
        x.push_str(&format!(
            "          <ExternalUrl>https://{mail}/mapi/nspi/?{mailbox}</ExternalUrl>\n"
        ));
        x.push_str("        </AddressBook>\n");
        x.push_str("      </Protocol>\n");
    }
    x.push_str("    </Account>\n");
    x
}

/// The Autodiscover V2 answer for `Protocol=Ews` (Healthy only).
pub(crate) fn v2_ews(d: &str) -> String {
    format!("{{\"Protocol\":\"Ews\",\"Url\":\"https://mail.{d}/EWS/Exchange.asmx\"}}")
}

/// The V2 answer for any other protocol value (the shape Exchange Online uses; UNCONFIRMED on-premises).
pub(crate) fn v2_bad_protocol() -> &'static str {
    "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol value is invalid. Supported values are 'Ews,ActiveSync,AutodiscoverV1'\"}"
}

#[cfg(test)]
mod tests {
    use super::*;

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

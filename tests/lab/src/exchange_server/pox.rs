//! POX Autodiscover on an Outlook Anywhere scenario host itself, for the scenarios whose point is the
//! EXPR block's `CertPrincipalName` ([`super::Mode::OwnAutodiscover`]): an address in the host's own
//! domain (`alice@<host>`) finds it as its first candidate, `https://<host>/autodiscover/autodiscover.xml`.
//!
//! The answer is Microsoft's POX response example, verbatim but for the names and the version
//! (MicrosoftDocs/office-developer-exchange-docs@775012d35c2ef8a711d993c8c45b0f1d972a2cdd,
//! docs/web-service-reference/pox-autodiscover-response-for-exchange.md, the last revision before the
//! 2020 edit that rewrote the namespaces to https; no XML declaration, as there). Its EXPR block has no
//! `CertPrincipalName`, so "the default is set to msstd:SERVER" (certprincipalname-pox.md); where the
//! scenario sets one, it is the line `Set-OutlookProvider EXPR -CertPrincipalName <value>` makes Exchange
//! write (certprincipalname-pox.md's syntax: `<CertPrincipalName>none or servername</CertPrincipalName>`).

use super::Vdir;
use super::conn::{self, Ctx, Stream};
use super::http::{Conn, Request};

/// The path the host answers.
pub(crate) const PATH: &str = "/autodiscover/autodiscover.xml";

/// ServerVersion of Exchange Subscription Edition 15.2.2562 (the build the host's EWS and OWA announce),
/// encoded as serverversion-pox.md decodes it: 4 bits ignored (0111 as in the example's 72008287), 6 bits
/// major, 6 bits minor, the flag bit, 15 bits build. The example's own 72008287 is Exchange 2007 8.0.647,
/// which would make the scenario about the version instead.
const SERVER_VERSION: &str = "73C28A02";

/// Microsoft's error example on the same page, verbatim: what a request that is not a POX request gets.
const INVALID_REQUEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
    <Error Time="21:25:04.8897083" Id="4130155072">
      <ErrorCode>600</ErrorCode>
      <Message>Invalid Request</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>
"#;

/// Serves `PATH` behind the host's authentication: the settings to a POST, the 600 error otherwise.
pub(crate) async fn serve(
    ctx: &Ctx,
    conn: &mut Conn<Stream>,
    req: &Request,
    ntlm_user: &mut Option<String>,
    cert_principal: Option<&str>,
) -> bool {
    let user = match conn::authenticate(ctx, req, ntlm_user, Vdir::Autodiscover).await {
        Ok(u) => u,
        Err(challenge) => return conn::unauthorized(ctx, conn, req, challenge).await,
    };
    let body = if req.method == "POST" {
        let server = ctx.host.rpc_servers.first().map_or("ex01", String::as_str);
        settings(&ctx.host.name, server, cert_principal)
    } else {
        INVALID_REQUEST.to_string()
    };
    ctx.log(req, 200, &user);
    let headers = vec![("Content-Type", "text/xml; charset=utf-8".to_string())];
    conn::finish(ctx, conn, req, 200, "OK", headers, body.as_bytes()).await
}

/// The example with a host's names: the RPC proxy is `host` (EXPR Server), the RPC server `server`, the
/// one its proxy knows (EXCH Server), the web URLs on the host.
pub(crate) fn settings(host: &str, server: &str, cert_principal: Option<&str>) -> String {
    let label = server.split('.').next().unwrap_or(server).to_ascii_uppercase();
    let ews = format!("https://{host}/ews/exchange.asmx");
    let oab = format!("https://{host}/OAB/d29844a9-724e-468c-8820-0f7b345b767b/");
    let um = format!("https://{host}/unifiedmessaging/service.asmx");
    let org = "/o=contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers";
    let cert_principal = cert_principal
        .map(|v| format!("        <CertPrincipalName>{v}</CertPrincipalName>\n"))
        .unwrap_or_default();
    let owa = format!("https://{host}/owa");
    format!(
        r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
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
        <Server>{server}</Server>
        <ServerDN>{org}/cn={label}</ServerDN>
        <ServerVersion>{SERVER_VERSION}</ServerVersion>
        <MdbDN>{org}/cn={label}/cn=Microsoft Private MDB</MdbDN>
        <ASUrl>{ews}</ASUrl>
        <OOFUrl>{ews}</OOFUrl>
        <UMUrl>{um}</UMUrl>
        <OABUrl>{oab}</OABUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <Server>{host}</Server>
{cert_principal}        <ASUrl>{ews}</ASUrl>
        <OOFUrl>{ews}</OOFUrl>
        <UMUrl>{um}</UMUrl>
        <OABUrl>{oab}</OABUrl>
      </Protocol>
      <Protocol>
        <Type>WEB</Type>
        <Internal>
          <OWAUrl AuthenticationMethod="Basic">{owa}</OWAUrl>
        </Internal>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
"#
    )
}

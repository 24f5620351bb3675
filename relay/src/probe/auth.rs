//! The migration account and how it logs on: the one conversation Autodiscover, EWS, MRS Proxy and
//! MAPI over HTTP share (an anonymous request on a fresh https connection shows what IIS offers; after
//! its 401, the same request with the credentials on that connection, Basic when offered, else NTLM;
//! MRS Proxy always NTLM, see [`Schemes::WindowsOnly`]), and the Basic and NTLM messages RPC over HTTP
//! sends on its channels.
//!
//! Basic goes as UTF-8 (RFC 7617 2.1's `charset="UTF-8"`, and what .NET (Core) and later's
//! SocketsHttpHandler sends). How Exchange Online's migration service encodes it is not documented.
//! Every NTLM logon carries the channel binding of the certificate of the very TLS connection it runs
//! on (Extended Protection for Authentication: tls-server-end-point, RFC 5929, in MsvAvChannelBindings,
//! [MS-NLMP] 2.2.2.1), as Windows clients do.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use url::Url;

use migcheck_shared::Password;

use super::ProbeError;
use crate::net::Net;
use crate::net::http::{HttpAnswer, HttpConnection};
use crate::net::ntlm::{EndPointHash, NtlmClient};

/// The migration account. Its `Debug` shows no password ([`Password`] redacts itself).
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// `DOMAIN\user`, `user@domain` or a bare name, as the user typed it.
    pub user: &'a str,
    pub password: &'a Password,
    /// Whether NTLM binds the logon to its TLS connection: always, but for the one retry that shows
    /// a device in front re-encrypting with another certificate (`diagnose::extended_protection`).
    pub binding: BindingPolicy,
}

/// Whether an NTLM logon carries the channel binding of its connection's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingPolicy {
    /// tls-server-end-point of the leaf certificate, as Windows clients send it.
    Send,
    /// Sixteen zero bytes, which Windows reads as no binding at all: what a client without Extended
    /// Protection support sends.
    Omit,
}

/// How an NTLM logon was bound to its TLS connection (the fact the evidence shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelBinding {
    /// tls-server-end-point of the certificate the connection got (`thumbprint`: its SHA-1, as
    /// `Get-ExchangeCertificate` shows it), hashed with `hash`.
    Sent { hash: EndPointHash, thumbprint: String },
    /// None (zeros): the retry without it.
    Omitted,
    /// None (zeros): the certificate gives none (`why`).
    Unavailable { why: String },
}

impl ChannelBinding {
    /// Whether the logon carried a binding a server checks (not zeros).
    pub fn sent(&self) -> bool {
        matches!(self, ChannelBinding::Sent { .. })
    }

    /// The evidence's words.
    pub fn words(&self) -> String {
        match self {
            ChannelBinding::Sent { hash, thumbprint } => format!(
                "tls-server-end-point ({}) of the certificate migcheck got, thumbprint {thumbprint}",
                hash.name()
            ),
            ChannelBinding::Omitted => "none (zeros): the one try without it".to_string(),
            ChannelBinding::Unavailable { why } => format!("none (zeros): {why}"),
        }
    }
}

impl<'a> Credentials<'a> {
    /// The account, its NTLM logons bound to their connections.
    pub fn new(user: &'a str, password: &'a Password) -> Self {
        Credentials {
            user,
            password,
            binding: BindingPolicy::Send,
        }
    }

    /// The same account for the one try without the channel binding.
    pub fn without_binding(self) -> Self {
        Credentials {
            binding: BindingPolicy::Omit,
            ..self
        }
    }

    /// The `Authorization` value of a Basic logon: `user:password` in UTF-8.
    pub fn basic(&self) -> String {
        let token = BASE64.encode(format!("{}:{}", self.user, self.password.expose()));
        format!("Basic {token}")
    }

    /// The password has characters outside ASCII, which servers may decode in another encoding than
    /// the UTF-8 of [`Self::basic`]. Says nothing else about the password.
    pub fn password_beyond_ascii(&self) -> bool {
        !self.password.expose().is_ascii()
    }

    /// An NTLM client for one connection: `DOMAIN\user` gives the domain, any other form goes as the
    /// user name with no domain (the server's own, as Windows does).
    fn ntlm(&self) -> NtlmClient {
        let (domain, user) = self.user.split_once('\\').unwrap_or(("", self.user));
        NtlmClient::new(user, domain, self.password.expose())
    }

    /// An NTLM client bound (as the policy says) to the connection whose server certificate is `leaf`.
    pub fn ntlm_bound(&self, leaf: Option<&[u8]>) -> (NtlmClient, ChannelBinding) {
        let mut client = self.ntlm();
        let binding = match (self.binding, leaf) {
            (BindingPolicy::Omit, _) => ChannelBinding::Omitted,
            (BindingPolicy::Send, None) => ChannelBinding::Unavailable {
                why: "the connection has no server certificate".to_string(),
            },
            (BindingPolicy::Send, Some(der)) => match client.set_channel_binding_cert(der) {
                Ok(hash) => ChannelBinding::Sent {
                    hash,
                    thumbprint: thumbprint(der),
                },
                Err(e) => ChannelBinding::Unavailable { why: e.to_string() },
            },
        };
        (client, binding)
    }
}

/// The SHA-1 of a certificate in upper-case hex, as `Get-ExchangeCertificate` shows its Thumbprint.
fn thumbprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Host, port and path (with the query) of an https URL; credentials never go over plain http.
pub fn https_target(url: &str) -> Result<(String, u16, String), ProbeError> {
    let parsed = Url::parse(url).map_err(|e| ProbeError::NotAUrl {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if parsed.scheme() != "https" {
        return Err(ProbeError::NotHttps { url: url.to_string() });
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| ProbeError::NoHost { url: url.to_string() })?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(443);
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    Ok((host, port, path))
}

/// The anonymous answer, and what the logon that followed a 401 gave (`Ok(None)`: no 401, no logon).
pub struct Logon {
    pub anonymous: HttpAnswer,
    pub authenticated: Result<Option<Attempt>, ProbeError>,
}

/// One logon with the credentials: how it was made and what came back.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// `Basic` or `NTLM`.
    pub scheme: &'static str,
    /// NTLM: how the logon was bound to its connection.
    pub binding: Option<ChannelBinding>,
    pub answer: HttpAnswer,
}

/// Which schemes a logon may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schemes {
    /// Basic when offered (the migration service's choice for Outlook Anywhere, EWS, Autodiscover),
    /// else NTLM.
    BasicFirst,
    /// NTLM only, even when Basic is offered: Exchange Online's MRS client logs on to
    /// `/EWS/mrsproxy.svc` with Negotiate (its errors quote "client authentication scheme
    /// 'Negotiate'", KB 3063913), and "Exchange Online requires Windows authentication for the MRS
    /// proxy endpoint" (Microsoft Learn, "Enable the MRS Proxy endpoint for remote moves").
    WindowsOnly,
}

/// Whether a list of `WWW-Authenticate` values offers `scheme` (its first word, any case).
pub fn offers(offered: &[String], scheme: &str) -> bool {
    offered.iter().any(|o| {
        o.split_whitespace()
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    })
}

/// The anonymous POST on a fresh https connection to `host`, then, after a 401, the logon on it.
pub async fn post(
    net: &Net,
    host: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    creds: &Credentials<'_>,
) -> Result<Logon, ProbeError> {
    post_with(net, (host, port, path), headers, body, creds, Schemes::BasicFirst).await
}

/// [`post`] with the schemes the logon may use. With [`Schemes::WindowsOnly`], a 401 that offers
/// neither NTLM nor Negotiate gets no logon (`Ok(None)`): the password is not sent.
pub async fn post_with(
    net: &Net,
    (host, port, path): (&str, u16, &str),
    headers: &[(&str, &str)],
    body: &str,
    creds: &Credentials<'_>,
    schemes: Schemes,
) -> Result<Logon, ProbeError> {
    let mut conn = net.open_http(host, port, true).await?;
    let anonymous = conn.send(net, "POST", path, headers, body.as_bytes().to_vec()).await?;
    let offered: Vec<String> = anonymous
        .header_values("www-authenticate")
        .iter()
        .map(|v| v.to_string())
        .collect();
    let windows = offers(&offered, "NTLM") || offers(&offered, "Negotiate");
    if anonymous.status != 401 || (schemes == Schemes::WindowsOnly && !windows) {
        return Ok(Logon {
            anonymous,
            authenticated: Ok(None),
        });
    }
    let authenticated = authenticate_with(net, &mut conn, (path, headers, body), creds, &offered, schemes)
        .await
        .map(Some);
    Ok(Logon {
        anonymous,
        authenticated,
    })
}

/// Answers a 401 whose `WWW-Authenticate` values are `offered`: Basic when offered (the migration
/// service's own choice), else NTLM on the same connection, bound to its certificate. Returns how the
/// logon was made and the answer to the request sent with the credentials.
pub async fn authenticate(
    net: &Net,
    conn: &mut HttpConnection,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    creds: &Credentials<'_>,
    offered: &[String],
) -> Result<Attempt, ProbeError> {
    authenticate_with(net, conn, (path, headers, body), creds, offered, Schemes::BasicFirst).await
}

/// [`authenticate`] with the schemes the logon may use. Windows authentication goes as NTLM; a server
/// offering `Negotiate` alone (Kerberos) gets no logon: [`ProbeError::NoScheme`].
async fn authenticate_with(
    net: &Net,
    conn: &mut HttpConnection,
    (path, headers, body): (&str, &[(&str, &str)], &str),
    creds: &Credentials<'_>,
    offered: &[String],
    schemes: Schemes,
) -> Result<Attempt, ProbeError> {
    let offers = |scheme: &str| offers(offered, scheme);
    if schemes == Schemes::BasicFirst && offers("Basic") {
        let answer = send_with(net, conn, path, headers, &creds.basic(), body.as_bytes().to_vec())
            .await
            .map_err(after_credentials)?;
        return Ok(Attempt {
            scheme: "Basic",
            binding: None,
            answer,
        });
    }
    if offers("NTLM") {
        let (mut ntlm, binding) = creds.ntlm_bound(conn.leaf.as_deref());
        let challenge = send_with(net, conn, path, headers, &ntlm.negotiate_header(), Vec::new()).await?;
        let values = challenge.header_values("www-authenticate");
        let (authorization, _) = ntlm.authenticate_header(&values).map_err(|error| ProbeError::Ntlm {
            status_line: challenge.status_line(),
            error,
        })?;
        let answer = send_with(net, conn, path, headers, &authorization, body.as_bytes().to_vec())
            .await
            .map_err(after_credentials)?;
        return Ok(Attempt {
            scheme: "NTLM",
            binding: Some(binding),
            answer,
        });
    }
    Err(ProbeError::NoScheme {
        offered: offered.to_vec(),
    })
}

/// A failure of the request that carried the password (Basic) or the proof of it (NTLM's AUTHENTICATE):
/// the server may have checked it before the connection failed.
fn after_credentials(error: ProbeError) -> ProbeError {
    ProbeError::AfterCredentials(Box::new(error))
}

/// Sends the request again with an `Authorization` header, on the same connection.
async fn send_with(
    net: &Net,
    conn: &mut HttpConnection,
    path: &str,
    headers: &[(&str, &str)],
    authorization: &str,
    body: Vec<u8>,
) -> Result<HttpAnswer, ProbeError> {
    let mut all = headers.to_vec();
    all.push(("authorization", authorization));
    Ok(conn.send(net, "POST", path, &all, body).await?)
}

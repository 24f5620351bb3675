//! The migration account and how it logs on: the one conversation Autodiscover, EWS, MRS Proxy and
//! MAPI over HTTP share (an anonymous request on a fresh https connection shows what IIS offers; after
//! its 401, the same request with the credentials on that connection, Basic when offered, else NTLM),
//! and the Basic and NTLM messages RPC over HTTP sends on its channels.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use url::Url;

use migcheck_shared::Password;

use super::ProbeError;
use crate::net::Net;
use crate::net::http::{HttpAnswer, HttpConnection};
use crate::net::ntlm::NtlmClient;

/// The migration account. Its `Debug` shows no password ([`Password`] redacts itself).
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// `DOMAIN\user`, `user@domain` or a bare name, as the user typed it.
    pub user: &'a str,
    pub password: &'a Password,
}

impl Credentials<'_> {
    /// The `Authorization` value of a Basic logon.
    pub fn basic(&self) -> String {
        let token = BASE64.encode(format!("{}:{}", self.user, self.password.expose()));
        format!("Basic {token}")
    }

    /// An NTLM client for one connection: `DOMAIN\user` gives the domain, any other form goes as the
    /// user name with no domain (the server's own, as Windows does).
    pub fn ntlm(&self) -> NtlmClient {
        let (domain, user) = self.user.split_once('\\').unwrap_or(("", self.user));
        NtlmClient::new(user, domain, self.password.expose())
    }
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
    pub authenticated: Result<Option<(&'static str, HttpAnswer)>, ProbeError>,
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
    let mut conn = net.open_http(host, port, true).await?;
    let anonymous = conn.send(net, "POST", path, headers, body.as_bytes().to_vec()).await?;
    if anonymous.status != 401 {
        return Ok(Logon {
            anonymous,
            authenticated: Ok(None),
        });
    }
    let offered: Vec<String> = anonymous
        .header_values("www-authenticate")
        .iter()
        .map(|v| v.to_string())
        .collect();
    let authenticated = authenticate(net, &mut conn, path, headers, body, creds, &offered)
        .await
        .map(Some);
    Ok(Logon {
        anonymous,
        authenticated,
    })
}

/// Answers a 401 whose `WWW-Authenticate` values are `offered`: Basic when offered (the migration
/// service's own choice), else NTLM on the same connection. Returns the scheme and the answer to the
/// request sent with the credentials.
pub async fn authenticate(
    net: &Net,
    conn: &mut HttpConnection,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    creds: &Credentials<'_>,
    offered: &[String],
) -> Result<(&'static str, HttpAnswer), ProbeError> {
    let offers = |scheme: &str| {
        offered.iter().any(|o| {
            o.split_whitespace()
                .next()
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        })
    };
    if offers("Basic") {
        let answer = send_with(net, conn, path, headers, &creds.basic(), body.as_bytes().to_vec()).await?;
        return Ok(("Basic", answer));
    }
    if offers("NTLM") {
        let mut ntlm = creds.ntlm();
        let challenge = send_with(net, conn, path, headers, &ntlm.negotiate_header(), Vec::new()).await?;
        let values = challenge.header_values("www-authenticate");
        let (authorization, _) = ntlm.authenticate_header(&values).map_err(|error| ProbeError::Ntlm {
            status_line: challenge.status_line(),
            error,
        })?;
        let answer = send_with(net, conn, path, headers, &authorization, body.as_bytes().to_vec()).await?;
        return Ok(("NTLM", answer));
    }
    Err(ProbeError::NoScheme {
        offered: offered.to_vec(),
    })
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

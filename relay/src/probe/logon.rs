//! The conversation EWS, MRS Proxy and MAPI over HTTP share: an anonymous POST on a fresh https
//! connection (what IIS offers), then, when it answers 401, the same POST with the credentials on
//! that connection (Basic when offered, else NTLM).

use url::Url;

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::autodiscover::client::{Credentials, Failure, authenticate};

/// Host, port and path (with the query) of an https URL; credentials never go over plain http.
pub fn https_target(url: &str) -> Result<(String, u16, String), String> {
    let parsed = Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    if parsed.scheme() != "https" {
        return Err(format!("'{url}' is not https: credentials would travel in clear"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("'{url}' has no host"))?
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
    pub authenticated: Result<Option<(&'static str, HttpAnswer)>, Failure>,
}

pub async fn post(
    net: &Net,
    host: &str,
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    creds: &Credentials<'_>,
) -> Result<Logon, String> {
    let mut conn = net.open_http(host, port, true).await.map_err(|e| e.to_string())?;
    let anonymous = conn
        .send(net, "POST", path, headers, body.as_bytes().to_vec())
        .await
        .map_err(|e| e.to_string())?;
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

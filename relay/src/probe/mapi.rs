//! MAPI over HTTP ([MS-OXCMAPIHTTP]): the PING request on a MailStore or AddressBook URL, anonymous
//! first (what IIS offers), then with the credentials on the same connection.

use url::Url;

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::autodiscover::client::{Credentials, Failure, authenticate, describe};

/// What a PING got.
#[derive(Debug)]
pub struct Ping {
    /// The anonymous answer (normally 401 with the schemes).
    pub anonymous: HttpAnswer,
    /// The scheme used and the authenticated answer, when the anonymous one asked for credentials.
    pub authenticated: Option<(&'static str, HttpAnswer)>,
}

impl Ping {
    /// The answer that decides: the authenticated one when there is one.
    pub fn last(&self) -> &HttpAnswer {
        self.authenticated.as_ref().map(|(_, a)| a).unwrap_or(&self.anonymous)
    }
}

/// `X-ResponseCode` in words ([MS-OXCMAPIHTTP] 2.2.3.3.3).
pub fn response_code(code: &str) -> &'static str {
    match code.trim() {
        "0" => "success",
        "1" => "unknown failure",
        "2" => "invalid verb",
        "3" => "invalid path",
        "4" => "invalid header",
        "5" => "invalid request type",
        "6" => "invalid context cookie",
        "7" => "missing header",
        "8" => "anonymous not allowed",
        "9" => "request too large",
        "10" => "context not found",
        "11" => "no privilege",
        "12" => "invalid request body",
        "13" => "missing cookie",
        _ => "a code not in the protocol",
    }
}

/// POSTs a PING to `url` (https only).
pub async fn ping(net: &Net, url: &str, creds: &Credentials<'_>) -> Result<Ping, String> {
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
    let mut conn = net.open_http(&host, port, true).await.map_err(|e| e.to_string())?;
    let request_id = "{6a2f4b3c-1d5e-4f70-8a9b-0c1d2e3f4a5b}:1";
    let client_info = "{6a2f4b3c-1d5e-4f70-8a9b-0c1d2e3f4a5b}";
    let headers = [
        ("x-requesttype", "PING"),
        ("x-requestid", request_id),
        ("x-clientinfo", client_info),
        ("x-clientapplication", "migcheck/1.0"),
        ("content-type", "application/mapi-http"),
        ("user-agent", "migcheck"),
    ];
    let anonymous = conn
        .send(net, "POST", &path, &headers, Vec::new())
        .await
        .map_err(|e| e.to_string())?;
    if anonymous.status != 401 {
        return Ok(Ping {
            anonymous,
            authenticated: None,
        });
    }
    let offered: Vec<String> = anonymous
        .header_values("www-authenticate")
        .iter()
        .map(|v| v.to_string())
        .collect();
    let authenticated = match authenticate(net, &mut conn, &path, &headers, "", creds, &offered).await {
        Ok(done) => Some(done),
        Err(Failure::NoScheme { offered }) => {
            return Err(format!(
                "it offers no authentication migcheck can use ({})",
                offered.join("; ")
            ));
        }
        Err(other) => return Err(describe(&other)),
    };
    Ok(Ping {
        anonymous,
        authenticated,
    })
}

//! MAPI over HTTP ([MS-OXCMAPIHTTP]): the PING request on a MailStore or AddressBook URL, anonymous
//! first (what IIS offers), then with the credentials on the same connection.

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::ProbeError;
use crate::probe::auth::{self, Attempt, Credentials, https_target};

/// What a PING got.
#[derive(Debug)]
pub struct Ping {
    /// The anonymous answer (normally 401 with the schemes).
    pub anonymous: HttpAnswer,
    /// The scheme used and the authenticated answer, when the anonymous one asked for credentials.
    pub authenticated: Option<Attempt>,
}

impl Ping {
    /// The answer that decides: the authenticated one when there is one.
    pub fn last(&self) -> &HttpAnswer {
        self.authenticated.as_ref().map_or(&self.anonymous, |a| &a.answer)
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
pub async fn ping(net: &Net, url: &str, creds: &Credentials<'_>) -> Result<Ping, ProbeError> {
    let (host, port, path) = https_target(url)?;
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
    let logon = auth::post(net, &host, port, &path, &headers, "", creds).await?;
    Ok(Ping {
        anonymous: logon.anonymous,
        authenticated: logon.authenticated?,
    })
}

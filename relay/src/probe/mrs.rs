//! The MRS Proxy endpoint (`/EWS/mrsproxy.svc`), which remote moves go through: anonymous first (IIS
//! asks for credentials when the path exists), then with the migration account on the same connection.

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::ProbeError;
use crate::probe::auth::{self, Attempt, Credentials};

pub const PATH: &str = "/EWS/mrsproxy.svc";

const HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/soap+xml; charset=utf-8"),
    ("user-agent", "migcheck"),
];

/// What the endpoint answered, raw: the evidence is the status lines and headers.
#[derive(Debug)]
pub struct MrsProbe {
    pub anonymous: HttpAnswer,
    pub authenticated: Option<Attempt>,
}

/// Whether an answer means the MRS Proxy service runs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MrsState {
    /// Answered as a running WCF service (any answer but 401, 404 and 503).
    Enabled,
    /// 503 (the service is off) or 404 (no such endpoint).
    Disabled,
    /// Still 401 with the credentials.
    Rejected,
}

impl MrsProbe {
    pub fn state(&self) -> MrsState {
        let last = self.authenticated.as_ref().map_or(&self.anonymous, |a| &a.answer);
        match last.status {
            401 => MrsState::Rejected,
            404 | 503 => MrsState::Disabled,
            _ => MrsState::Enabled,
        }
    }
}

pub async fn probe(net: &Net, host: &str, port: u16, creds: &Credentials<'_>) -> Result<MrsProbe, ProbeError> {
    let logon = auth::post(net, host, port, PATH, &HEADERS, "", creds).await?;
    Ok(MrsProbe {
        anonymous: logon.anonymous,
        authenticated: logon.authenticated?,
    })
}

//! The MRS Proxy endpoint (`/EWS/mrsproxy.svc`), which remote moves go through: anonymous first (IIS
//! asks for credentials when the path exists), then with the migration account on the same connection,
//! always with Windows authentication (NTLM, bound to the connection's certificate) as Exchange
//! Online's MRS client does, never Basic ([`Schemes::WindowsOnly`]).

use crate::net::Net;
use crate::net::http::HttpAnswer;
use crate::probe::ProbeError;
use crate::probe::auth::{self, Attempt, Credentials, Schemes};

pub const PATH: &str = "/EWS/mrsproxy.svc";

const HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/soap+xml; charset=utf-8"),
    ("user-agent", "migcheck"),
];

/// What the endpoint answered, raw: the evidence is the status lines and headers.
#[derive(Debug)]
pub struct MrsProbe {
    pub anonymous: HttpAnswer,
    /// None: no logon (no 401, or a 401 offering no Windows authentication), or a logon cut off.
    pub authenticated: Option<Attempt>,
    /// The logon failed after its AUTHENTICATE went out, with no answer: the password may have been
    /// checked, and a refusal counted, without migcheck seeing it.
    pub cut: Option<ProbeError>,
}

pub async fn probe(net: &Net, host: &str, port: u16, creds: &Credentials<'_>) -> Result<MrsProbe, ProbeError> {
    let logon = auth::post_with(net, (host, port, PATH), &HEADERS, "", creds, Schemes::WindowsOnly).await?;
    let (authenticated, cut) = match logon.authenticated {
        Ok(attempt) => (attempt, None),
        Err(e @ ProbeError::AfterCredentials(_)) => (None, Some(e)),
        Err(e) => return Err(e),
    };
    Ok(MrsProbe {
        anonymous: logon.anonymous,
        authenticated,
        cut,
    })
}

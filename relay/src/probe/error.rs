//! Why a probe over HTTP could not get its answer. Messages name what was asked and never carry the
//! password.

use crate::net::NetError;
use crate::net::ntlm::NtlmError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    /// DNS, the egress policy, TCP, TLS or HTTP did not work.
    #[error(transparent)]
    Net(#[from] NetError),
    /// A URL (from Autodiscover, or made from a name) that does not parse.
    #[error("'{url}' is not a URL: {reason}")]
    NotAUrl { url: String, reason: String },
    /// Credentials never go over plain http.
    #[error("'{url}' is not https: credentials would travel in clear")]
    NotHttps { url: String },
    #[error("'{url}' has no host")]
    NoHost { url: String },
    /// The 401 offered no scheme migcheck can answer (Basic, NTLM); `offered`: its WWW-Authenticate
    /// values.
    #[error("no authentication scheme migcheck can use is offered ({})", offered.join("; "))]
    NoScheme { offered: Vec<String> },
    /// The NTLM handshake could not go on after the server's answer to the NEGOTIATE.
    #[error("answered {status_line} (NTLM: {error})")]
    Ntlm { status_line: String, error: NtlmError },
    /// The connection failed after the request carrying the credentials went out, before its answer:
    /// the server may have checked them (and counted a refusal toward the account's lockout).
    #[error("{0} (after the credentials were sent)")]
    AfterCredentials(Box<ProbeError>),
    /// A 200 whose body is not the JSON asked for.
    #[error("{status_line}, not JSON: {reason}")]
    NotJson { status_line: String, reason: String },
}

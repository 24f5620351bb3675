//! The MRS Proxy endpoint (`/EWS/mrsproxy.svc`) that remote moves go through.

use super::{Cause, FIX_CREDENTIALS};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MrsProblem {
    /// The endpoint at `url` on `host` cannot be reached, or offers no usable authentication.
    Unreachable { url: String, host: String, error: String },
    /// Without credentials it answers 404 or 503 (`status_line`): off or not published.
    Off {
        url: String,
        host: String,
        status_line: String,
    },
    /// With the credentials it answers 404 or 503: the service is off on the server behind `host`.
    OffWithCredentials {
        url: String,
        host: String,
        status_line: String,
    },
    /// Still 401 with the credentials.
    CredentialsRefused { url: String, user: String, scheme: String },
}

const FIX_MRS: &str = r#"# Enable the MRS Proxy endpoint on EVERY Exchange server behind HOST, then recycle the EWS app pool
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -MRSProxyEnabled $true
Get-WebServicesVirtualDirectory | Format-Table Server,MRSProxyEnabled"#;

impl MrsProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            MrsProblem::CredentialsRefused { .. } => Cause::Permissions,
            MrsProblem::Unreachable { .. } | MrsProblem::Off { .. } | MrsProblem::OffWithCredentials { .. } => {
                Cause::ExternalAccess
            }
        }
    }

    pub(super) fn summary(&self) -> String {
        match self {
            MrsProblem::Unreachable { url, error, .. } => format!("MRS Proxy at {url}: {error}."),
            MrsProblem::Off { url, status_line, .. } => format!(
                "{url} answers {status_line}: the MRS Proxy endpoint is off or not published (MRSProxyEnabled is false)."
            ),
            MrsProblem::OffWithCredentials { url, host, status_line } => format!(
                "MRS Proxy at {url} is off: with credentials it answers {status_line} (MRSProxyEnabled is false on the server behind {host}). Remote moves need it on every server behind the name."
            ),
            MrsProblem::CredentialsRefused { url, user, scheme } => {
                format!("MRS Proxy at {url} rejects the credentials of {user} ({scheme}).")
            }
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            MrsProblem::Unreachable { host, .. }
            | MrsProblem::Off { host, .. }
            | MrsProblem::OffWithCredentials { host, .. } => FIX_MRS.replace("HOST", host),
            MrsProblem::CredentialsRefused { .. } => FIX_CREDENTIALS.to_string(),
        }
    }
}

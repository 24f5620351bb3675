//! The MRS Proxy endpoint (`/EWS/mrsproxy.svc`) that remote moves go through.

use super::{BindingRefused, Cause, RefusedLogon, Severity};

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
    CredentialsRefused {
        url: String,
        user: String,
        logon: RefusedLogon,
    },
    /// Extended Protection refuses NTLM logons bound to the certificate migcheck got.
    ChannelBindingRefused(BindingRefused),
}

const FIX_MRS: &str = r#"# Enable the MRS Proxy endpoint on EVERY Exchange server behind HOST, then recycle the EWS app pool
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -MRSProxyEnabled $true
Get-WebServicesVirtualDirectory | Format-Table Server,MRSProxyEnabled"#;

impl MrsProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            MrsProblem::CredentialsRefused { .. } => Cause::Permissions,
            MrsProblem::ChannelBindingRefused(b) => b.cause(),
            MrsProblem::Unreachable { .. } | MrsProblem::Off { .. } | MrsProblem::OffWithCredentials { .. } => {
                Cause::ExternalAccess
            }
        }
    }

    pub(super) fn severity(&self) -> Severity {
        match self {
            MrsProblem::ChannelBindingRefused(b) => b.severity(),
            MrsProblem::Unreachable { .. }
            | MrsProblem::Off { .. }
            | MrsProblem::OffWithCredentials { .. }
            | MrsProblem::CredentialsRefused { .. } => Severity::Fail,
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
            MrsProblem::CredentialsRefused { url, user, logon } => format!(
                "MRS Proxy at {url} rejects the credentials of {user} ({}).{}",
                logon.scheme(),
                logon.hint()
            ),
            MrsProblem::ChannelBindingRefused(b) => b.summary(),
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            MrsProblem::Unreachable { host, .. }
            | MrsProblem::Off { host, .. }
            | MrsProblem::OffWithCredentials { host, .. } => FIX_MRS.replace("HOST", host),
            // The account MRS Proxy refuses is the one the move runs as: its role matters as much as its password.
            MrsProblem::CredentialsRefused { logon, user, .. } => {
                format!("{}\n{}", logon.fix(), super::remote_move_role_fix(user))
            }
            MrsProblem::ChannelBindingRefused(b) => b.fix(),
        }
    }
}

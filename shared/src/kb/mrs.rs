//! The MRS Proxy endpoint (`/EWS/mrsproxy.svc`) that remote moves go through, and the paths Exchange
//! Online calls without pre-authentication.
//!
//! Sources:
//! - "Enable the MRS Proxy endpoint for remote moves" (Microsoft Learn): "Exchange Online requires
//!   Windows authentication for the MRS proxy endpoint"; Exchange Online's errors quote "client
//!   authentication scheme 'Negotiate'" (KB 3063913; Microsoft Q&A 2188108 with only Basic offered:
//!   "The authentication header received from the server was 'Basic realm=...'"). The hybrid
//!   prerequisites' endpoint table lists mrsproxy.svc as "NTLM" / "Basic": its Basic column is not
//!   evidence that Exchange Online falls back to Basic.
//! - "Troubleshoot migration issues in Exchange hybrid" (KB 10094): "allow certain EWS and Autodiscover
//!   endpoints to come through to the Exchange servers without being authenticated at a perimeter
//!   device": /ews/mrsproxy.svc, /ews/exchange.asmx/wssecurity, /autodiscover/autodiscover.svc/wssecurity,
//!   /autodiscover/autodiscover.svc, in a rule "higher in priority than any existing Exchange-Related
//!   Firewall rules"; the prerequisites table: "Pre-Auth Supported? No".
//! - KB 3063913: MRS Proxy disabled answers 403 after the logon ("The HTTP request was forbidden with
//!   client authentication scheme 'Negotiate'"; event 1309 "MRS proxy service is disabled"); the fix
//!   sets MRSProxyEnabled and runs iisreset.

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
    /// The 401 at `url` offers no Windows authentication, only `offered` (the `WWW-Authenticate`
    /// values joined with `,`, as Exchange Online's error quotes them; empty: none at all).
    NoWindowsAuth { url: String, host: String, offered: String },
    /// Something other than Exchange answered one or more paths Exchange Online calls without
    /// pre-authentication at `host`: each with what showed it (the status line and the signs).
    DeviceInFront { host: String, answers: Vec<DeviceAnswer> },
    /// The connection ended after the request carrying the credentials went out, before any answer:
    /// the server may have checked them, so the logon may have counted as a failure (`error`: how it
    /// ended).
    LogonCut {
        url: String,
        host: String,
        user: String,
        error: String,
    },
    /// 403 after a Windows logon that went through: MRS Proxy is disabled (KB 3063913).
    ForbiddenAfterLogon {
        url: String,
        host: String,
        user: String,
        status_line: String,
    },
}

/// One path a device in front answered, and what showed it was not Exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAnswer {
    pub url: String,
    pub seen: String,
}

const FIX_MRS: &str = r#"# Enable the MRS Proxy endpoint on EVERY Exchange server behind HOST, then recycle the EWS app pool
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -MRSProxyEnabled $true
Get-WebServicesVirtualDirectory | Format-Table Server,MRSProxyEnabled"#;

/// KB 3063913's fix: enable it, then restart IIS so the setting takes effect (when MRS Proxy "shows as
/// Enabled but is disabled", disable it, wait, enable it and restart IIS).
const FIX_MRS_IISRESET: &str = r#"
# Then on each of those servers (KB 3063913: the setting takes effect after IIS restarts):
iisreset /noforce"#;

/// Publish the four paths without pre-authentication (KB 10094).
pub(super) const FIX_PREAUTH: &str = r#"# Exchange Online calls these paths WITHOUT pre-authentication ("Pre-Auth Supported? No" in the hybrid deployment
# prerequisites; KB 10094 "Troubleshoot migration issues in Exchange hybrid"). On the reverse proxy, WAF or load
# balancer in front of HOST, publish them in a rule that does not pre-authenticate and passes Windows authentication
# (NTLM) through, placed above every other Exchange rule:
#   /ews/mrsproxy.svc
#   /ews/exchange.asmx/wssecurity
#   /autodiscover/autodiscover.svc
#   /autodiscover/autodiscover.svc/wssecurity"#;

/// Windows authentication on the EWS virtual directory, where MRS Proxy lives.
const FIX_WINDOWS_AUTH: &str = r#"
# If nothing in front rewrites the answer: Windows authentication is off on the EWS virtual directory. Exchange Online
# requires it for MRS Proxy: turn it on on EVERY Exchange server behind HOST
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -WindowsAuthentication $true
Get-WebServicesVirtualDirectory | Format-Table Server,WindowsAuthentication,BasicAuthentication,MRSProxyEnabled"#;

/// Where a dropped logon shows: the device's logs, IIS's HTTPERR log, the EWS pool's crashes.
const FIX_LOGON_CUT: &str = r#"
# Then find what drops the connection on the logon: the device's logs for the MRS Proxy request, and on each
# Exchange server behind HOST, IIS's %SystemRoot%\System32\LogFiles\HTTPERR log and the System/Application
# event logs (WAS, MSExchangeServicesAppPool)
Get-WinEvent -LogName System -MaxEvents 50 | Where-Object ProviderName -eq 'Microsoft-Windows-WAS'"#;

impl MrsProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            MrsProblem::CredentialsRefused { .. } => Cause::Permissions,
            MrsProblem::ChannelBindingRefused(b) => b.cause(),
            MrsProblem::Unreachable { .. }
            | MrsProblem::Off { .. }
            | MrsProblem::OffWithCredentials { .. }
            | MrsProblem::NoWindowsAuth { .. }
            | MrsProblem::DeviceInFront { .. }
            | MrsProblem::LogonCut { .. }
            | MrsProblem::ForbiddenAfterLogon { .. } => Cause::ExternalAccess,
        }
    }

    pub(super) fn severity(&self) -> Severity {
        match self {
            MrsProblem::ChannelBindingRefused(b) => b.severity(),
            MrsProblem::Unreachable { .. }
            | MrsProblem::Off { .. }
            | MrsProblem::OffWithCredentials { .. }
            | MrsProblem::CredentialsRefused { .. }
            | MrsProblem::NoWindowsAuth { .. }
            | MrsProblem::DeviceInFront { .. }
            | MrsProblem::LogonCut { .. }
            | MrsProblem::ForbiddenAfterLogon { .. } => Severity::Fail,
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
            MrsProblem::NoWindowsAuth { url, offered, .. } => {
                let only = if offered.is_empty() {
                    "no authentication scheme at all".to_string()
                } else {
                    format!("only {offered}")
                };
                format!(
                    "MRS Proxy at {url} offers no Windows authentication (Negotiate or NTLM), {only}: Exchange Online's migration service logs on to MRS Proxy with Negotiate (NTLM) and fails with \"The HTTP request is unauthorized with client authentication scheme 'Negotiate'. The authentication header received from the server was '{offered}'.\" Either a device in front pre-authenticates and rewrites Exchange's answer, or Windows authentication is off on the EWS virtual directory."
                )
            }
            MrsProblem::DeviceInFront { answers, .. } => devices_in_front(answers),
            MrsProblem::LogonCut { url, user, error, .. } => format!(
                "MRS Proxy at {url} cut the connection after migcheck sent the NTLM logon of {user}, without answering ({error}). The server may have checked the password, so this logon may count toward the account's lockout: migcheck sends it nowhere else in this run. Exchange Online's own logon meets the same cut: something in front of Exchange (a reverse proxy, a WAF, an IDS) or IIS itself drops the logon."
            ),
            MrsProblem::ForbiddenAfterLogon {
                url, user, status_line, ..
            } => format!(
                "MRS Proxy at {url} is disabled: Exchange accepted the NTLM logon of {user} and answered {status_line}, as it does when MRSProxyEnabled is false (\"MRS proxy service is disabled\", KB 3063913). Exchange Online reports \"The HTTP request was forbidden with client authentication scheme 'Negotiate'.\" Remote moves need it on every server behind the name."
            ),
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
            MrsProblem::NoWindowsAuth { host, .. } => format!("{FIX_PREAUTH}{FIX_WINDOWS_AUTH}").replace("HOST", host),
            MrsProblem::DeviceInFront { host, .. } => FIX_PREAUTH.replace("HOST", host),
            MrsProblem::LogonCut { host, .. } => format!("{FIX_PREAUTH}{FIX_LOGON_CUT}").replace("HOST", host),
            MrsProblem::ForbiddenAfterLogon { host, .. } => {
                format!("{FIX_MRS}{FIX_MRS_IISRESET}").replace("HOST", host)
            }
        }
    }
}

impl MrsProblem {
    /// Folds `other` into this problem when both are one device in front of the same host: its fix (publish
    /// the four paths without pre-authentication) is one change, so it is one finding. Whether it folded.
    pub(super) fn absorb(&mut self, other: &MrsProblem) -> bool {
        match (self, other) {
            (
                MrsProblem::DeviceInFront { host, answers },
                MrsProblem::DeviceInFront {
                    host: other_host,
                    answers: more,
                },
            ) if host == other_host => {
                for answer in more {
                    if !answers.iter().any(|a| a.url == answer.url) {
                        answers.push(answer.clone());
                    }
                }
                // Probes finish in any order; the sentence does not.
                answers.sort_by(|a, b| a.url.cmp(&b.url));
                true
            }
            _ => false,
        }
    }
}

/// One sentence for the paths a device answered: what it sent once when it sent the same everywhere.
fn devices_in_front(answers: &[DeviceAnswer]) -> String {
    const STOP: &str =
        "Exchange Online calls these paths without pre-authentication, so its calls stop at that device.";
    match answers {
        [one] => format!(
            "Something in front of Exchange answered {} instead of Exchange: {}. Exchange Online calls this path without pre-authentication, so its calls stop at that device.",
            one.url, one.seen
        ),
        [first, rest @ ..] if rest.iter().all(|a| a.seen == first.seen) => {
            let urls: Vec<&str> = answers.iter().map(|a| a.url.as_str()).collect();
            format!(
                "Something in front of Exchange answered {} instead of Exchange: {}. {STOP}",
                urls.join(", "),
                first.seen
            )
        }
        _ => {
            let each: Vec<String> = answers.iter().map(|a| format!("{} ({})", a.url, a.seen)).collect();
            format!(
                "Something in front of Exchange answered instead of Exchange at {}. {STOP}",
                each.join("; ")
            )
        }
    }
}

//! "Check it now": the diagnosis the names in a paste call for, as a request without a password.

use super::extract::{Extracted, url_host};
use crate::request::{AutodiscoverTarget, DiagnoseRequest, HostTarget, OutlookAnywhereTarget, RemoteMoveTarget};
use crate::secret::Password;

/// The mode and the names for a diagnosis: a remote move when the MRS Proxy or EWS is named (or
/// `-RemoteServer`), Outlook Anywhere when an RPC proxy or an RPC error is, Autodiscover when an e-mail
/// address is, the certificate of a host otherwise; none when the paste names no server at all. The
/// account and the password are left for the user to give.
pub fn suggest(x: &Extracted) -> Option<DiagnoseRequest> {
    let url_host = |needles: &[&str]| {
        x.urls.iter().find_map(|u| {
            let lower = u.to_ascii_lowercase();
            needles
                .iter()
                .any(|n| lower.contains(n))
                .then(|| url_host(&lower).filter(|h| !h.is_empty()).map(str::to_string))
                .flatten()
        })
    };
    if let Some(remote) = x.remote_server.clone().or_else(|| url_host(&["mrsproxy.svc", "/ews/"])) {
        return Some(DiagnoseRequest::RemoteMove(RemoteMoveTarget {
            remote_server: remote,
            user: String::new(),
            password: Password::default(),
            target_mailbox: String::new(),
            servers: String::new(),
            agent_target: String::new(),
        }));
    }
    let proxy = x.rpc_proxy_server.clone().or_else(|| url_host(&["/rpc/"])).or_else(|| {
        (!x.rpc_errors.is_empty() || x.exchange_server.is_some())
            .then(|| x.hosts.first().cloned())
            .flatten()
    });
    if let Some(rpc_proxy) = proxy {
        return Some(DiagnoseRequest::OutlookAnywhere(OutlookAnywhereTarget {
            rpc_proxy,
            exchange_server: x.exchange_server.clone().unwrap_or_default(),
            auth: Default::default(),
            user: String::new(),
            password: Password::default(),
            target_mailbox: String::new(),
        }));
    }
    if let Some(email) = x.emails.first() {
        return Some(DiagnoseRequest::Autodiscover(AutodiscoverTarget {
            email: email.clone(),
            user: String::new(),
            password: Password::default(),
            allow_credential_redirect: false,
            target_mailbox: String::new(),
        }));
    }
    x.hosts.first().map(|host| {
        DiagnoseRequest::Host(HostTarget {
            host: host.clone(),
            port: None,
        })
    })
}

/// What the user fills in before running the suggestion: the account where the mode needs one, the
/// Exchange server of Outlook Anywhere when the paste did not name it.
pub const ACCOUNT_PLACEHOLDER: &str = r"DOMAIN\user";
pub const EXCHANGE_SERVER_PLACEHOLDER: &str = "EXCHANGE-SERVER-FQDN";

/// The `migcheck check` line for a suggestion, with placeholders for what the paste cannot tell.
pub fn command_line(request: &DiagnoseRequest) -> String {
    let mut filled = request.clone();
    match &mut filled {
        DiagnoseRequest::RemoteMove(t) if t.user.is_empty() => t.user = ACCOUNT_PLACEHOLDER.into(),
        DiagnoseRequest::OutlookAnywhere(t) => {
            if t.user.is_empty() {
                t.user = ACCOUNT_PLACEHOLDER.into();
            }
            if t.exchange_server.is_empty() {
                t.exchange_server = EXCHANGE_SERVER_PLACEHOLDER.into();
            }
        }
        _ => {}
    }
    filled.migcheck_line()
}

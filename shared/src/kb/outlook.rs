//! Outlook Anywhere, RPC over HTTP through the proxy (KB step 1), as the migration service uses it.

use super::logon::FIX_CREDENTIALS;
use super::{BindingRefused, Cause, RefusedLogon};
use crate::request::AuthMethod;

/// What stops the migration service on the way through the RPC proxy to the RPC server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutlookAnywhereProblem {
    /// The proxy cannot be reached over HTTPS at all.
    ProxyUnreachable { proxy: String, error: String },
    /// IIS does not offer the method the migration uses; `offered`: the schemes it does offer.
    MethodNotOffered {
        proxy: String,
        method: AuthMethod,
        offered: Vec<String>,
    },
    /// A device in front answers the anonymous RPC_IN_DATA with 405 or 501 (`allow`, `server`: its
    /// Allow and Server headers, empty when absent).
    VerbsBlocked {
        proxy: String,
        status: u16,
        reason: String,
        allow: String,
        server: String,
    },
    /// No /rpc/rpcproxy.dll (404).
    NotPublished { proxy: String },
    /// Something answers RPC_IN_DATA, but not as an RPC proxy does.
    NotRpcProxy { proxy: String, status: u16, reason: String },
    /// Autodiscover's CertPrincipalName (`msstd:NAME`) is not on the proxy's certificate: "Mutual
    /// Authentication could not be established". `on_certificate`: the certificate's name to set.
    CertPrincipalMismatch {
        principal: String,
        proxy: String,
        names: Vec<String>,
        on_certificate: String,
    },
    /// The proxy refuses the account's logon; `domain`: the NetBIOS domain an NTLM challenge revealed.
    CredentialsRefused {
        proxy: String,
        user: String,
        logon: RefusedLogon,
        domain: Option<String>,
    },
    /// Extended Protection refuses NTLM logons bound to the certificate migcheck got.
    ChannelBindingRefused(BindingRefused),
    /// `503 RPC Error: 6ba` or a fault 0x6BA: the proxy cannot reach the RPC server.
    ServerUnavailable {
        proxy: String,
        server: String,
        endpoint: u16,
    },
    /// A channel gets 405 or 501: a device in front does not pass the verbs.
    ChannelVerbsBlocked { proxy: String, status: u16, reason: String },
    /// A channel gets 404: the RPC server name is not one the proxy allows.
    ServerNotAllowed {
        proxy: String,
        server: String,
        endpoint: u16,
    },
    /// A channel gets another status.
    ChannelAnswered { proxy: String, status: u16, reason: String },
    /// A channel broke (closed, reset, not HTTP, a PDU that cannot be read).
    ChannelBroke { proxy: String, error: String },
    /// A channel went silent, or chattered without ever answering.
    ChannelSilent { error: String },
    /// Both channels were accepted (200), then nothing came: no CONN/A3 or CONN/C2.
    ConnectionSilent {
        proxy: String,
        secs: u64,
        server: String,
        endpoint: u16,
    },
    /// The endpoint `name` at `at` (`server:port`) refuses the bind with access denied.
    BindAccessDenied { name: String, at: String },
    /// The endpoint rejects the bind (`answer`: the bind answer in words).
    BindRejected { name: String, at: String, answer: String },
    /// The bind got no answer on an open connection.
    BindUnanswered { name: String, at: String, error: String },
}

const SERVER_UNAVAILABLE: &str = r#"# Use the RPC server name Autodiscover gives (EXCH Server): for Exchange 2013 and later the mailbox GUID form
Get-Mailbox <mailbox> | Format-List ExchangeGuid,PrimarySmtpAddress   # -> <ExchangeGuid>@<primary SMTP domain>
# On Exchange 2010 and earlier: the mailbox server or CAS array FQDN, reachable from the proxy on 6001, 6002, 6004
Test-NetConnection <mailbox server FQDN> -Port 6001
# Then in Exchange Online PowerShell: Test-MigrationServerAvailability -ExchangeServer <that name> ..."#;

const FRONT_PROXY: &str = r#"# A reverse proxy, load balancer or firewall in front of Exchange drops the RPC over HTTP verbs.
# Publish /rpc/* to Exchange with RPC_IN_DATA and RPC_OUT_DATA allowed, 1 GB request bodies streamed
# (not buffered), and idle timeouts of at least 15 minutes; then check from outside that this answers 401:
#   RPC_IN_DATA https://HOST/rpc/rpcproxy.dll"#;

const NOT_INSTALLED: &str = r#"# Outlook Anywhere is not published at this name: install the RPC over HTTP proxy and enable it
Install-WindowsFeature RPC-over-HTTP-proxy          # Exchange 2010
Enable-OutlookAnywhere -Server <CAS> -ExternalHostname HOST -ExternalClientAuthenticationMethod Basic -SSLOffloading $false
Get-OutlookAnywhere | Format-List Server,ExternalHostname,ExternalClientAuthenticationMethod,IISAuthenticationMethods"#;

const SILENT: &str = r#"# The channel opened but nothing came back: something between the client and the RPC proxy buffers the
# response (a reverse proxy or load balancer that waits for the whole body), or the proxy cannot reach the
# mailbox server. Publish /rpc/* without response buffering, then test from the proxy itself:
Test-NetConnection <mailbox server FQDN> -Port 6001"#;

const BIND: &str = r#"# The RPC server behind the proxy does not offer this Exchange endpoint: check the server name, and that
# the Exchange services run on it
Get-Service MSExchangeRPC, MSExchangeAB, MSExchangeIS | Format-Table Name,Status
Get-OutlookAnywhere | Format-List Server,ExternalHostname"#;

const CERT_PRINCIPAL: &str = r#"# Outlook and the migration service compare CertPrincipalName with the proxy's certificate ("Mutual
# Authentication could not be established"). Set it to the name on the certificate:
Set-OutlookProvider EXPR -CertPrincipalName "msstd:NAME"
# Or clear it so clients match on the host name:
Set-OutlookProvider EXPR -CertPrincipalName $null"#;

/// The fix when IIS does not offer the method the migration uses.
fn fix_auth_method(method: &str, proxy: &str) -> String {
    format!(
        r#"# Offer {method} on /rpc for external clients (on every Client Access server behind {proxy})
Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalClientAuthenticationMethod {method} -IISAuthenticationMethods Basic,NTLM,Negotiate
# Check what IIS offers now
Get-OutlookAnywhere | Format-List Server,ExternalClientAuthenticationMethod,IISAuthenticationMethods"#
    )
}

/// The name form of an account as the migration service sends it.
fn name_form(user: &str) -> &'static str {
    if user.contains('\\') {
        "DOMAIN\\user"
    } else if user.contains('@') {
        "user@domain (UPN)"
    } else {
        "a bare user name"
    }
}

impl OutlookAnywhereProblem {
    pub(super) fn cause(&self) -> Cause {
        use OutlookAnywhereProblem as P;
        match self {
            P::ProxyUnreachable { .. }
            | P::ChannelBroke { .. }
            | P::ChannelSilent { .. }
            | P::ConnectionSilent { .. }
            | P::BindUnanswered { .. } => Cause::Network,
            P::MethodNotOffered { .. }
            | P::VerbsBlocked { .. }
            | P::NotPublished { .. }
            | P::NotRpcProxy { .. }
            | P::ChannelVerbsBlocked { .. }
            | P::ChannelAnswered { .. } => Cause::ExternalAccess,
            P::CertPrincipalMismatch { .. } => Cause::Certificate,
            P::ChannelBindingRefused(b) => b.cause(),
            P::CredentialsRefused { .. } | P::BindAccessDenied { .. } => Cause::Permissions,
            P::ServerUnavailable { .. } | P::ServerNotAllowed { .. } | P::BindRejected { .. } => Cause::WrongServerName,
        }
    }

    pub(super) fn summary(&self) -> String {
        use OutlookAnywhereProblem as P;
        match self {
            P::ProxyUnreachable { proxy, error } => {
                format!("The RPC proxy {proxy} cannot be reached over HTTPS: {error}.")
            }
            P::MethodNotOffered { proxy, method, offered } => {
                let chosen = method.label();
                let offers = |name: &str| offered.iter().any(|s| s.eq_ignore_ascii_case(name));
                let other = match method {
                    AuthMethod::Basic if offers("NTLM") => format!(
                        " NTLM is offered: run the migration endpoint with -Authentication NTLM, or offer {chosen}."
                    ),
                    _ => format!(" Turn on {chosen} authentication for the /rpc virtual directory."),
                };
                format!(
                    "IIS on {proxy} does not offer {chosen} authentication on /rpc/rpcproxy.dll (it offers {}), so the migration service cannot log on.{other}",
                    if offered.is_empty() {
                        "nothing".to_string()
                    } else {
                        offered.join(", ")
                    }
                )
            }
            P::VerbsBlocked {
                proxy,
                status,
                reason,
                allow,
                server,
            } => format!(
                "{proxy} answers RPC_IN_DATA with {status} {reason}{}{}: a reverse proxy or firewall in front of Exchange does not pass the RPC over HTTP verbs RPC_IN_DATA and RPC_OUT_DATA.",
                if allow.is_empty() {
                    String::new()
                } else {
                    format!(" (Allow: {allow})")
                },
                if server.is_empty() {
                    String::new()
                } else {
                    format!(" from '{server}'")
                },
            ),
            P::NotPublished { proxy } => {
                format!("{proxy} has no /rpc/rpcproxy.dll (404): Outlook Anywhere is not published at this name.")
            }
            P::NotRpcProxy { proxy, status, reason } => format!(
                "{proxy} answers RPC_IN_DATA with {status} {reason} instead of asking for credentials: this is not an Exchange RPC proxy answer."
            ),
            P::CertPrincipalMismatch {
                principal,
                proxy,
                names,
                ..
            } => format!(
                "CertPrincipalName is {principal}, but the certificate of {proxy} is for {}: clients fail with \"Mutual Authentication could not be established\".",
                names.join(", ")
            ),
            P::CredentialsRefused {
                proxy,
                user,
                logon,
                domain,
            } => format!(
                "The RPC proxy {proxy} rejects the credentials of {user} ({}, the name form tried: {}): the password is wrong, the account is locked or disabled, or IIS wants the other name form.{}{}",
                logon.scheme(),
                name_form(user),
                domain
                    .as_ref()
                    .map(|d| format!(" The server is in the domain {d}."))
                    .unwrap_or_default(),
                logon.hint()
            ),
            P::ChannelBindingRefused(b) => b.summary(),
            P::ServerUnavailable {
                proxy,
                server,
                endpoint,
            } => format!(
                "{proxy} accepted the logon but cannot reach the RPC server {server}:{endpoint} (RPC error 0x6ba, \"the RPC server is unavailable\"): the server name is wrong, or Exchange 2013 and later want the mailbox GUID form (<guid>@<domain>) that Autodiscover gives as the EXCH Server, or a firewall or DNS between the proxy and the mailbox server blocks it."
            ),
            P::ChannelVerbsBlocked { proxy, status, reason } => format!(
                "{proxy} answers {status} {reason}: something in front of Exchange does not pass the RPC over HTTP verbs."
            ),
            P::ServerNotAllowed {
                proxy,
                server,
                endpoint,
            } => format!(
                "{proxy} answers 404 for {server}:{endpoint}: the RPC server name is not one the proxy allows (ValidPorts), or a publishing proxy rewrites the path."
            ),
            P::ChannelAnswered { proxy, status, reason } => {
                format!("{proxy} answers {status} {reason} on the RPC channel.")
            }
            P::ChannelBroke { error, .. } | P::ChannelSilent { error } => format!("{error}."),
            P::ConnectionSilent {
                proxy,
                secs,
                server,
                endpoint,
            } => format!(
                "{proxy} accepted the channels (200) but then sent nothing for {secs} s: no CONN/A3 or CONN/C2, so the virtual connection to {server}:{endpoint} never opened. A device in between buffers the response, or the proxy cannot reach the RPC server."
            ),
            P::BindAccessDenied { name, at } => format!("The {name} at {at} refuses the bind: access denied."),
            P::BindRejected { name, at, answer } => format!(
                "The {name} at {at} rejects the bind ({answer}): the server behind that name does not offer this Exchange endpoint."
            ),
            P::BindUnanswered { name, at, error } => format!("The bind of the {name} at {at} got no answer: {error}."),
        }
    }

    pub(super) fn fix(&self) -> String {
        use OutlookAnywhereProblem as P;
        match self {
            P::ProxyUnreachable { proxy, .. }
            | P::VerbsBlocked { proxy, .. }
            | P::ChannelVerbsBlocked { proxy, .. }
            | P::ChannelAnswered { proxy, .. }
            | P::ChannelBroke { proxy, .. } => FRONT_PROXY.replace("HOST", proxy),
            P::MethodNotOffered { proxy, method, .. } => fix_auth_method(method.label(), proxy),
            P::NotPublished { proxy } | P::NotRpcProxy { proxy, .. } => NOT_INSTALLED.replace("HOST", proxy),
            P::CertPrincipalMismatch { on_certificate, .. } => CERT_PRINCIPAL.replace("NAME", on_certificate),
            P::CredentialsRefused { logon, .. } => logon.fix(),
            P::BindAccessDenied { .. } => FIX_CREDENTIALS.to_string(),
            P::ChannelBindingRefused(b) => b.fix(),
            P::ServerUnavailable { .. } | P::ServerNotAllowed { .. } => SERVER_UNAVAILABLE.to_string(),
            P::ChannelSilent { .. } | P::ConnectionSilent { .. } | P::BindUnanswered { .. } => SILENT.to_string(),
            P::BindRejected { .. } => BIND.to_string(),
        }
    }
}

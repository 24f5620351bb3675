//! What an RPC over HTTP answer means for a migration, in Exchange terms, and the fix.

use super::pdu::BindAnswer;

/// 0x6BA, RPC_S_SERVER_UNAVAILABLE (error 1722): the proxy could not reach the RPC server.
pub const SERVER_UNAVAILABLE: u32 = 0x6BA;

/// Why a proxy answers `503 RPC Error: 6ba` (or faults with 0x6BA): it cannot reach the RPC server.
pub fn server_unavailable(proxy: &str, server: &str, endpoint: u16) -> String {
    format!(
        "{proxy} accepted the logon but cannot reach the RPC server {server}:{endpoint} (RPC error 0x6ba, \"the RPC server is unavailable\"): the server name is wrong, or Exchange 2013 and later want the mailbox GUID form (<guid>@<domain>) that Autodiscover gives as the EXCH Server, or a firewall or DNS between the proxy and the mailbox server blocks it."
    )
}

pub const FIX_SERVER_UNAVAILABLE: &str = r#"# Use the RPC server name Autodiscover gives (EXCH Server): for Exchange 2013 and later the mailbox GUID form
Get-Mailbox <mailbox> | Format-List ExchangeGuid,PrimarySmtpAddress   # -> <ExchangeGuid>@<primary SMTP domain>
# On Exchange 2010 and earlier: the mailbox server or CAS array FQDN, reachable from the proxy on 6001, 6002, 6004
Test-NetConnection <mailbox server FQDN> -Port 6001
# Then in Exchange Online PowerShell: Test-MigrationServerAvailability -ExchangeServer <that name> ..."#;

pub const FIX_FRONT_PROXY: &str = r#"# A reverse proxy, load balancer or firewall in front of Exchange drops the RPC over HTTP verbs.
# Publish /rpc/* to Exchange with RPC_IN_DATA and RPC_OUT_DATA allowed, 1 GB request bodies streamed
# (not buffered), and idle timeouts of at least 15 minutes; then check from outside that this answers 401:
#   RPC_IN_DATA https://HOST/rpc/rpcproxy.dll"#;

pub const FIX_NOT_INSTALLED: &str = r#"# Outlook Anywhere is not published at this name: install the RPC over HTTP proxy and enable it
Install-WindowsFeature RPC-over-HTTP-proxy          # Exchange 2010
Enable-OutlookAnywhere -Server <CAS> -ExternalHostname HOST -ExternalClientAuthenticationMethod Basic -SSLOffloading $false
Get-OutlookAnywhere | Format-List Server,ExternalHostname,ExternalClientAuthenticationMethod,IISAuthenticationMethods"#;

/// The fix when IIS does not offer the method the migration uses.
pub fn fix_auth_method(method: &str) -> String {
    format!(
        r#"# Offer {method} on /rpc for external clients (on every Client Access server behind HOST)
Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalClientAuthenticationMethod {method} -IISAuthenticationMethods Basic,NTLM,Negotiate
# Check what IIS offers now
Get-OutlookAnywhere | Format-List Server,ExternalClientAuthenticationMethod,IISAuthenticationMethods"#
    )
}

pub const FIX_CREDENTIALS: &str = r#"# The proxy rejected the migration account: check the password, that the account is enabled and not locked,
# and try the other name form (DOMAIN\user instead of user@domain, or the reverse)
Get-User <account> | Format-List UserPrincipalName,SamAccountName,RecipientTypeDetails
Get-ADUser <account> -Properties LockedOut,Enabled,PasswordExpired | Format-List LockedOut,Enabled,PasswordExpired"#;

pub const FIX_SILENT: &str = r#"# The channel opened but nothing came back: something between the client and the RPC proxy buffers the
# response (a reverse proxy or load balancer that waits for the whole body), or the proxy cannot reach the
# mailbox server. Publish /rpc/* without response buffering, then test from the proxy itself:
Test-NetConnection <mailbox server FQDN> -Port 6001"#;

pub const FIX_BIND: &str = r#"# The RPC server behind the proxy does not offer this Exchange endpoint: check the server name, and that
# the Exchange services run on it
Get-Service MSExchangeRPC, MSExchangeAB, MSExchangeIS | Format-Table Name,Status
Get-OutlookAnywhere | Format-List Server,ExternalHostname"#;

pub const FIX_CERT_PRINCIPAL: &str = r#"# Outlook and the migration service compare CertPrincipalName with the proxy's certificate ("Mutual
# Authentication could not be established"). Set it to the name on the certificate:
Set-OutlookProvider EXPR -CertPrincipalName "msstd:NAME"
# Or clear it so clients match on the host name:
Set-OutlookProvider EXPR -CertPrincipalName $null"#;

/// What a fault status means ([MS-RPCE] 2.2.2.11 and [MS-ERREF]).
pub fn fault_status(status: u32) -> String {
    let meaning = match status {
        SERVER_UNAVAILABLE => "the RPC server is unavailable",
        0x5 => "access denied",
        0x1C01_0003 => "unknown interface: the endpoint does not offer it",
        0x1C01_0002 => "operation range error",
        0x1C00_001A => "protocol error",
        0x6F7 => "the stub received bad data",
        _ => "an RPC failure",
    };
    format!("fault 0x{status:x} ({meaning})")
}

/// A bind_ack result's words ([C706] 12.6.3.1).
fn result_text(result: u16, reason: u16) -> String {
    let why = match reason {
        0 => "",
        1 => ", abstract syntax not supported: the interface does not listen there",
        2 => ", proposed transfer syntaxes not supported",
        3 => ", local limit exceeded",
        _ => ", reason unknown",
    };
    match result {
        0 => "accepted".into(),
        1 => format!("user rejection{why}"),
        2 => format!("provider rejection{why}"),
        3 => "negotiate_ack".into(),
        n => format!("result {n}{why}"),
    }
}

/// A bind_nak reason's words.
fn nak_text(reason: u16) -> &'static str {
    match reason {
        0 => "reason not specified",
        1 => "temporary congestion",
        2 => "local limit exceeded",
        4 => "protocol version not supported",
        8 => "authentication type not recognised",
        9 => "invalid checksum",
        _ => "unknown reason",
    }
}

/// What a bind got, in words, and whether the endpoint answered as it should.
pub fn bind_answer(answer: &BindAnswer) -> (bool, String) {
    match answer {
        BindAnswer::Ack {
            secondary_address,
            results,
        } => {
            let accepted = results.first().is_some_and(|(r, _)| *r == 0);
            let words = results
                .iter()
                .map(|(r, why)| result_text(*r, *why))
                .collect::<Vec<_>>()
                .join("; ");
            let at = if secondary_address.is_empty() {
                String::new()
            } else {
                format!(" (endpoint {secondary_address})")
            };
            (accepted, format!("bind_ack{at}: {words}"))
        }
        BindAnswer::Nak { reason } => (false, format!("bind_nak: {}", nak_text(*reason))),
        BindAnswer::Fault { status } => (false, fault_status(*status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_words() {
        let ack = BindAnswer::Ack {
            secondary_address: "6001".into(),
            results: vec![(0, 0)],
        };
        assert_eq!(bind_answer(&ack), (true, "bind_ack (endpoint 6001): accepted".into()));
        let rejected = BindAnswer::Ack {
            secondary_address: String::new(),
            results: vec![(2, 1)],
        };
        assert_eq!(
            bind_answer(&rejected),
            (
                false,
                "bind_ack: provider rejection, abstract syntax not supported: the interface does not listen there"
                    .into()
            )
        );
        assert_eq!(
            bind_answer(&BindAnswer::Nak { reason: 2 }),
            (false, "bind_nak: local limit exceeded".into())
        );
        assert_eq!(
            bind_answer(&BindAnswer::Fault { status: 0x6BA }).1,
            "fault 0x6ba (the RPC server is unavailable)"
        );
    }
}

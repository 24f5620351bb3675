//! What every refused logon shares, wherever the migration account logs on: the words on how the logon
//! was made (Basic with a password beyond ASCII, NTLM bound to the TLS certificate), and Extended
//! Protection refusing NTLM logons bound to another certificate than the one Exchange serves.
//!
//! Sources:
//! - Basic: RFC 7617 2.1 leaves the encoding of `user:password` open ("most implementations chose
//!   either a locale-specific encoding such as ISO-8859-1, or UTF-8"); IIS decodes it as UTF-8 and then
//!   in the server's code page (KB 981280); .NET Framework's client sends the client's code page,
//!   .NET (Core) UTF-8. What Exchange Online's migration service sends is not documented.
//! - Extended Protection: "Configure Windows Extended Protection in Exchange Server" (Microsoft Learn,
//!   https://learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/security-best-practices/exchange-extended-protection):
//!   on by default from Exchange 2019 CU14 on; CSS-Exchange's ExchangeExtendedProtectionManagement.ps1
//!   sets /rpc and /mapi to Require, the front end's /EWS to Allow, Autodiscover to None; "Extended
//!   Protection isn't supported in environments that use SSL Offloading", and with SSL bridging "you must
//!   use the same SSL certificate on Exchange and your Load Balancers".

use super::{Cause, Severity};

/// The KB's words for the fix of a refused logon, wherever it happens.
pub(super) const FIX_CREDENTIALS: &str = r#"# The server rejected the migration account: check the password, that the account is enabled and not locked,
# and try the other name form (DOMAIN\user instead of user@domain, or the reverse)
Get-User <account> | Format-List UserPrincipalName,SamAccountName,RecipientTypeDetails
Get-ADUser <account> -Properties LockedOut,Enabled,PasswordExpired | Format-List LockedOut,Enabled,PasswordExpired"#;

/// How a refused logon was made, for what its finding adds to "the password is wrong".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedLogon {
    /// Basic, the password all ASCII.
    Basic,
    /// Basic, the password with characters outside ASCII (sent as UTF-8).
    BasicBeyondAscii,
    /// NTLM without a channel binding, or where Exchange never checks one (Autodiscover).
    Ntlm,
    /// NTLM carrying the channel binding of the certificate migcheck got, where Extended Protection
    /// may check it.
    NtlmBound,
}

impl RefusedLogon {
    /// `Basic` or `NTLM`.
    pub fn scheme(self) -> &'static str {
        match self {
            RefusedLogon::Basic | RefusedLogon::BasicBeyondAscii => "Basic",
            RefusedLogon::Ntlm | RefusedLogon::NtlmBound => "NTLM",
        }
    }

    /// The sentence a finding adds after its own (with its leading space), or nothing.
    pub fn hint(self) -> &'static str {
        match self {
            RefusedLogon::Basic | RefusedLogon::Ntlm => "",
            RefusedLogon::BasicBeyondAscii => {
                " The password has characters outside ASCII: migcheck sends Basic credentials as UTF-8, and IIS may decode them in the server's code page instead, so even the right password can be refused. migcheck did not try another encoding: each refused try counts toward the account's lockout."
            }
            RefusedLogon::NtlmBound => {
                " If the password is right, Extended Protection may be the reason: the NTLM logon carried the TLS channel binding of the certificate migcheck got, and Exchange refuses it when a load balancer or firewall in front ends TLS and re-encrypts with another certificate (SSL bridging) or passes the traffic on unencrypted (SSL offloading)."
            }
        }
    }

    /// The fix of a refused logon made this way.
    pub fn fix(self) -> String {
        format!("{FIX_CREDENTIALS}{}", self.fix_note())
    }

    /// What the fix adds for a logon made this way (with its leading line break), or nothing.
    pub(super) fn fix_note(self) -> &'static str {
        match self {
            RefusedLogon::Basic | RefusedLogon::Ntlm => "",
            RefusedLogon::BasicBeyondAscii => {
                "\n# A password with characters outside ASCII (ä, é, €...) can be decoded differently by IIS: to rule that out,\n# give the migration account a password of ASCII characters only and try again"
            }
            RefusedLogon::NtlmBound => EXTENDED_PROTECTION_CHECK,
        }
    }
}

/// The fix's lines that show whether Extended Protection and a device in front are in play.
const EXTENDED_PROTECTION_CHECK: &str = r#"
# If the password is right: does Extended Protection meet a device that ends TLS in front of Exchange?
# (CSS-Exchange's ExchangeExtendedProtectionManagement.ps1, https://aka.ms/ExchangeEPScript)
.\ExchangeExtendedProtectionManagement.ps1 -ShowExtendedProtection
Get-ExchangeCertificate | Where-Object { $_.Services -match 'IIS' } | Format-List Thumbprint,Subject"#;

/// Extended Protection refuses NTLM logons bound to the certificate migcheck got, because Exchange
/// checks the binding against the certificate it serves itself: a device in front ends TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingRefused {
    /// Where the logon was refused: the URL (`https://HOST/rpc/rpcproxy.dll` for Outlook Anywhere).
    pub url: String,
    /// The host name migcheck connected to (the device in front answers for it).
    pub host: String,
    pub user: String,
    /// The SHA-1 thumbprint of the certificate migcheck got from `host`.
    pub thumbprint: String,
    /// What shows it.
    pub shown_by: BindingEvidence,
}

/// What shows that Extended Protection, not the password, refused the logon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindingEvidence {
    /// Refused with the binding, accepted by the one try without it (IIS `Allow`).
    AcceptedWithout,
    /// Refused, though the same credentials were accepted at `at` (Basic, or a place that checks no
    /// binding), so the password is right.
    PasswordAcceptedAt { at: String },
}

const FIX_BINDING: &str = r#"# Extended Protection checks the NTLM channel binding against the certificate Exchange itself serves. A load
# balancer or firewall in front of HOST ends TLS with another certificate (thumbprint THUMBPRINT):
# per Microsoft's "Configure Windows Extended Protection in Exchange Server"
# (https://learn.microsoft.com/exchange/plan-and-deploy/post-installation-tasks/security-best-practices/exchange-extended-protection),
# either pass TLS through to Exchange (SSL offloading is not supported with Extended Protection), or bridge
# with the SAME certificate on the device and on Exchange. Compare Exchange's certificate with THUMBPRINT:
Get-ExchangeCertificate | Where-Object { $_.Services -match 'IIS' } | Format-List Thumbprint,Subject,NotAfter
# Outlook Anywhere must not expect SSL offloading (on every server):
Set-OutlookAnywhere '<SERVER>\Rpc (Default Web Site)' -SSLOffloading $false -InternalClientsRequireSsl $true -ExternalClientsRequireSsl $true
# What Extended Protection each virtual directory has (CSS-Exchange, https://aka.ms/ExchangeEPScript):
.\ExchangeExtendedProtectionManagement.ps1 -ShowExtendedProtection"#;

impl BindingRefused {
    pub(super) fn cause(&self) -> Cause {
        Cause::ExternalAccess
    }

    /// Accepted without the binding (`Allow`): only clients that send one are refused, and whether Exchange
    /// Online's migration service does is not documented. Refused outright otherwise.
    pub(super) fn severity(&self) -> Severity {
        match self.shown_by {
            BindingEvidence::AcceptedWithout => Severity::Warn,
            BindingEvidence::PasswordAcceptedAt { .. } => Severity::Fail,
        }
    }

    pub(super) fn summary(&self) -> String {
        let BindingRefused {
            url,
            host,
            user,
            thumbprint,
            shown_by,
        } = self;
        let device = "a load balancer or firewall in front of Exchange ends TLS and re-encrypts with its own certificate (SSL bridging) or passes the traffic on unencrypted (SSL offloading)";
        match shown_by {
            BindingEvidence::AcceptedWithout => format!(
                "{url} refuses the NTLM logon of {user} that carries the TLS channel binding of the certificate migcheck got from {host} (thumbprint {thumbprint}), and accepts the same logon without it: Extended Protection on Exchange checks the binding against another certificate, because {device}. Clients that send the binding, as Windows does, are refused there; whether Exchange Online's migration service sends it is not documented."
            ),
            BindingEvidence::PasswordAcceptedAt { at } => format!(
                "{url} refuses the NTLM logon of {user}, yet {at} accepted the same credentials: the logon carried the TLS channel binding of the certificate migcheck got from {host} (thumbprint {thumbprint}), and Extended Protection on Exchange refuses it when {device}."
            ),
        }
    }

    pub(super) fn fix(&self) -> String {
        FIX_BINDING
            .replace("THUMBPRINT", &self.thumbprint)
            .replace("HOST", &self.host)
    }
}

//! The Autodiscover sequence and the settings it returns (KB step 3).

use super::soap_autodiscover::SoapProblem;
use super::{Cause, RefusedLogon, Severity};

/// What stops the migration service from getting the Outlook Anywhere settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutodiscoverProblem {
    /// A redirectAddr answer that cannot be followed (a loop, too many, not an address): `why` says which.
    RedirectAddrStops { address: String, why: String },
    /// The sequence leads to `host`, outside the user's domain `home`, and the user did not agree to send
    /// the password there. `domain`: the domain asked in this round.
    PasswordWouldLeave {
        address: String,
        host: String,
        home: String,
        domain: String,
    },
    /// No candidate answered at all.
    NoCandidate { address: String, domain: String },
    /// The deciding candidate answered with an Autodiscover error.
    ErrorAnswer { url: String, code: String, message: String },
    /// The deciding candidate refused the credentials; `offered`: its WWW-Authenticate values.
    CredentialsRefused { logon: RefusedLogon, offered: Vec<String> },
    /// Redirects that go in circles or never end: `what` says which, `path` where they went.
    RedirectsCircle { what: String, path: String },
    /// Settings without an EXPR block: Outlook Anywhere is not published externally.
    NoExpr,
    /// EXPR names something that is not a host name.
    ExprNotAHost { server: String },
    /// EXPR says SSL is off.
    ExprWithoutSsl,
    /// SOAP Autodiscover (GetUserSettings), which the hybrid side uses, beside POX.
    Soap(SoapProblem),
}

impl AutodiscoverProblem {
    pub(super) fn severity(&self) -> Severity {
        match self {
            AutodiscoverProblem::Soap(p) => p.severity(),
            _ => Severity::Fail,
        }
    }

    pub(super) fn cause(&self) -> Cause {
        match self {
            AutodiscoverProblem::Soap(p) => p.cause(),
            AutodiscoverProblem::CredentialsRefused { .. } => Cause::Permissions,
            AutodiscoverProblem::NoExpr
            | AutodiscoverProblem::ExprNotAHost { .. }
            | AutodiscoverProblem::ExprWithoutSsl => Cause::ExternalAccess,
            AutodiscoverProblem::RedirectAddrStops { .. }
            | AutodiscoverProblem::PasswordWouldLeave { .. }
            | AutodiscoverProblem::NoCandidate { .. }
            | AutodiscoverProblem::ErrorAnswer { .. }
            | AutodiscoverProblem::RedirectsCircle { .. } => Cause::Autodiscover,
        }
    }

    pub(super) fn summary(&self) -> String {
        match self {
            AutodiscoverProblem::Soap(p) => p.summary(),
            AutodiscoverProblem::RedirectAddrStops { address, why } => {
                format!("Autodiscover for {address} cannot be followed: {why}.")
            }
            AutodiscoverProblem::PasswordWouldLeave { address, host, home, .. } => format!(
                "Autodiscover for {address} leads to {host}, outside {home}; migcheck did not send your password there."
            ),
            AutodiscoverProblem::NoCandidate { address, .. } => format!(
                "No Autodiscover candidate answered for {address}: the migration service cannot find the Outlook Anywhere settings."
            ),
            AutodiscoverProblem::ErrorAnswer { url, code, message } => format!(
                "Autodiscover at {url} answered error {code}: {} (\"{message}\").",
                error_meaning(code)
            ),
            AutodiscoverProblem::CredentialsRefused { logon, offered } => format!(
                "The server refused the migration account's credentials ({}); it offered: {}.{}",
                logon.scheme(),
                offered.join(" | "),
                logon.hint()
            ),
            AutodiscoverProblem::RedirectsCircle { what, path } => {
                format!("Autodiscover goes in circles: {what} ({path}).")
            }
            AutodiscoverProblem::NoExpr => "Autodiscover answers, but without an EXPR block: Outlook Anywhere is not published for external clients, so the migration service has no server to connect to.".into(),
            AutodiscoverProblem::ExprNotAHost { server } => {
                format!("Autodiscover names the Outlook Anywhere host '{server}', which is not a host name.")
            }
            AutodiscoverProblem::ExprWithoutSsl => {
                "Outlook Anywhere is published without SSL; the migration service connects only over SSL.".into()
            }
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            AutodiscoverProblem::Soap(p) => p.fix(),
            AutodiscoverProblem::RedirectAddrStops { .. } => "# Fix the Autodiscover redirect (the mailbox's TargetAddress / the redirect rule) so it ends at a server that answers settings\nGet-RemoteMailbox -Identity <address> | Format-List PrimarySmtpAddress,RemoteRoutingAddress".into(),
            AutodiscoverProblem::PasswordWouldLeave { host, domain, .. } => format!(
                "# If {host} is yours (a hosting provider or another domain of the organisation), allow the password to go there:\n# tick \"Allow my password to go to servers outside the e-mail address's domain\" on the page, or add --allow-credential-redirect\n# Otherwise publish Autodiscover for {domain} itself (autodiscover.{domain} or an SRV record)"
            ),
            AutodiscoverProblem::NoCandidate { domain, .. } => format!(
                "# Publish Autodiscover for {domain}: an A record for autodiscover.{domain} pointing at Exchange (the name on its certificate),\n# or an SRV record _autodiscover._tcp.{domain} -> mail.{domain}, port 443. Then check the virtual directory:\nGet-AutodiscoverVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl,BasicAuthentication,WindowsAuthentication"
            ),
            AutodiscoverProblem::ErrorAnswer { code, .. } => error_fix(code).into(),
            AutodiscoverProblem::CredentialsRefused { logon, .. } => format!(
                "# Check the account name and password (try both DOMAIN\\user and user@domain), and that the account is enabled and not locked\nGet-User <migration account> | Format-List UserPrincipalName,SamAccountName,RecipientTypeDetails{}",
                logon.fix_note()
            ),
            AutodiscoverProblem::RedirectsCircle { .. } => "# Fix the redirect: each Autodiscover answer (redirectUrl) or HTTP redirect must lead closer to the server that answers settings\nGet-AutodiscoverVirtualDirectory | Format-List Server,ExternalUrl".into(),
            AutodiscoverProblem::NoExpr => "# Publish Outlook Anywhere externally (on every Client Access server)\nGet-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.<your domain> -ExternalClientsRequireSsl $true -ExternalClientAuthenticationMethod Basic".into(),
            AutodiscoverProblem::ExprNotAHost { .. } => "# Set a proper external host name for Outlook Anywhere\nGet-OutlookAnywhere | Set-OutlookAnywhere -ExternalHostname mail.<your domain> -ExternalClientsRequireSsl $true".into(),
            AutodiscoverProblem::ExprWithoutSsl => "Get-OutlookAnywhere | Set-OutlookAnywhere -ExternalClientsRequireSsl $true".into(),
        }
    }
}

/// The fix for an Autodiscover error code ([MS-OXDSCLI] 2.2.4.1.2.1 lists them).
fn error_fix(code: &str) -> &'static str {
    match code {
        "500" | "501" | "602" => {
            "# Check that the address is a mailbox of this Exchange organisation (and the right one)\nGet-Recipient <e-mail address> | Format-List RecipientTypeDetails,PrimarySmtpAddress,EmailAddresses"
        }
        "600" => {
            "# Something between the internet and Exchange changes the request (drops the body, or turns the POST into a GET):\n# publish /autodiscover/ on the reverse proxy or firewall without rewriting it"
        }
        "601" => "# The Outlook provider is missing: check that it exists and is published\nGet-OutlookProvider",
        _ => {
            "# Look at the Autodiscover logs on the Exchange server (Logging\\Autodiscover) for the request at that time\nGet-AutodiscoverVirtualDirectory | Format-List Server,ExternalUrl"
        }
    }
}

/// What an Autodiscover error code means, in words a user can act on ([MS-OXDSCLI] 2.2.4.1.2.1).
pub fn error_meaning(code: &str) -> &'static str {
    match code.trim() {
        "500" => {
            "the e-mail address is not known to this Exchange organisation (wrong address, or the mailbox is not on this server)"
        }
        "501" => "the e-mail address is not valid for this server (bad address)",
        "600" => "the request was not a valid Autodiscover request (often a GET, or a proxy that dropped the body)",
        "601" => "the server has no provider for the requested response schema (Outlook settings are not published)",
        "602" => "the e-mail address is not valid (bad address)",
        "603" => "the Autodiscover service had an internal error",
        _ => "an Autodiscover error code migcheck does not know",
    }
}

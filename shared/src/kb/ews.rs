//! EWS and the mailbox permission (KB step 4): the migration account logs on and opens the mailbox.
//!
//! Sources:
//! - EWS is on a remote move's path (MRS Proxy is `/EWS/mrsproxy.svc`), not on a cutover's or staged
//!   migration's: "The email migration service uses Outlook Anywhere (also known as RPC over HTTP), to
//!   connect to your on-premises Exchange Server" (Microsoft Learn, "Perform a cutover migration to
//!   Microsoft 365", and the staged migration's page; neither mentions EWS), and the permission the
//!   service needs is "the FullAccess permission for each on-premises mailbox" or "the Receive As
//!   permission on the on-premises mailbox database".
//! - Response codes: Microsoft Learn, EWS reference "ResponseCode": "ErrorInvalidServerVersion — This
//!   error indicates that an invalid request server version was specified in the request",
//!   "ErrorSchemaValidation — This error occurs when the request cannot be validated against the schema".

use super::{BindingRefused, Cause, RefusedLogon, Severity};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EwsProblem {
    /// EWS at `url` cannot be reached.
    Unreachable { url: String, error: String },
    /// IIS asks for credentials but offers neither Basic nor NTLM (`schemes`: what it offers).
    NoUsableScheme { url: String, schemes: Vec<String> },
    /// 404: no EWS at this name (or older than Exchange 2007).
    NotFound { url: String },
    /// It answers without asking for credentials (`status_line`).
    Anonymous { url: String, status_line: String },
    /// 401 after the credentials.
    CredentialsRefused {
        url: String,
        user: String,
        logon: RefusedLogon,
    },
    /// Extended Protection refuses NTLM logons bound to the certificate migcheck got.
    ChannelBindingRefused(BindingRefused),
    /// It answers, but not as EWS (no ServerVersionInfo); `fault`: a SOAP fault's text.
    NotEws {
        url: String,
        status: u16,
        fault: Option<String>,
    },
    /// ErrorAccessDenied on the target mailbox: no Full Access.
    AccessDenied { user: String, mailbox: String },
    /// ErrorImpersonateUserDenied.
    ImpersonateDenied { user: String, mailbox: String },
    /// ErrorNonExistentMailbox.
    NoSuchMailbox { mailbox: String },
    /// ErrorMailboxMoveInProgress.
    MoveInProgress { mailbox: String },
    /// ErrorMailboxStoreUnavailable.
    StoreUnavailable { mailbox: String },
    /// Any other error opening the mailbox: `answer` is the response code (or class), `message` the
    /// server's MessageText.
    MailboxRefused {
        user: String,
        mailbox: String,
        answer: String,
        message: Option<String>,
    },
    /// EWS cannot be used (`missing`: why), in a migration that does not go through it (cutover or
    /// staged: Outlook Anywhere): not a failure of the migration, but the permission check could not run.
    MissingOffPath {
        missing: Box<EwsProblem>,
        user: String,
        mailbox: Option<String>,
    },
    /// EWS took the logon and answered the request itself with a SOAP fault (`code`, `text`): EWS speaks,
    /// but the mailbox permission could not be checked. `requested`: the RequestServerVersion sent.
    RequestFault {
        url: String,
        user: String,
        mailbox: Option<String>,
        code: String,
        text: Option<String>,
        requested: String,
    },
}

const FIX_EWS: &str = r#"# Publish EWS externally with an authentication the migration service can use
Get-WebServicesVirtualDirectory | Format-List Server,ExternalUrl,BasicAuthentication,WindowsAuthentication
Get-WebServicesVirtualDirectory | Set-WebServicesVirtualDirectory -ExternalUrl https://<host>/EWS/Exchange.asmx -BasicAuthentication $true"#;

const FIX_FULL_ACCESS: &str = r#"# Give the migration account Full Access to the mailbox (or Receive As on every database)
Add-MailboxPermission -Identity MAILBOX -User USER -AccessRights FullAccess -InheritanceType All -AutoMapping $false
Get-MailboxDatabase | Add-ADPermission -User USER -ExtendedRights Receive-As
# Members of Domain Admins or Enterprise Admins are explicitly denied mailbox access on premises: use an
# account outside those groups, and check for Deny entries:
Get-MailboxPermission -Identity MAILBOX | Where-Object { $_.Deny -eq $true }"#;

fn full_access(mailbox: &str, user: &str) -> String {
    FIX_FULL_ACCESS.replace("MAILBOX", mailbox).replace("USER", user)
}

/// Checking by hand what migcheck checks through EWS: the permission as Exchange stores it, and the
/// migration service's own test (Exchange Online PowerShell), which logs on to the mailbox.
const FIX_BY_HAND: &str = r#"# Check by hand that the migration account has Full Access to the mailbox (or Receive As on its database)
Get-MailboxPermission -Identity MAILBOX -User USER | Format-List Identity,User,AccessRights,Deny,IsInherited
Get-MailboxDatabase | Get-ADPermission -User USER | Where-Object { $_.ExtendedRights -like '*Receive-As*' } | Format-Table Identity,User,Deny
# In Exchange Online PowerShell, the migration service's own test logs on to the mailbox:
Test-MigrationServerAvailability -ExchangeOutlookAnywhere -Autodiscover -EmailAddress MAILBOX -Credentials (Get-Credential USER)"#;

fn by_hand(mailbox: Option<&str>, user: &str) -> String {
    FIX_BY_HAND
        .replace("MAILBOX", mailbox.unwrap_or("<mailbox>"))
        .replace("USER", user)
}

/// The fault codes that say the request's schema version, not the mailbox, was refused.
const VERSION_FAULTS: [&str; 3] = [
    "ErrorInvalidServerVersion",
    "ErrorIncorrectSchemaVersion",
    "ErrorInvalidSchemaVersionForMailboxVersion",
];

impl EwsProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            EwsProblem::Unreachable { .. }
            | EwsProblem::NoUsableScheme { .. }
            | EwsProblem::NotFound { .. }
            | EwsProblem::Anonymous { .. }
            | EwsProblem::NotEws { .. }
            | EwsProblem::MoveInProgress { .. }
            | EwsProblem::StoreUnavailable { .. } => Cause::ExternalAccess,
            EwsProblem::CredentialsRefused { .. }
            | EwsProblem::AccessDenied { .. }
            | EwsProblem::ImpersonateDenied { .. }
            | EwsProblem::MailboxRefused { .. } => Cause::Permissions,
            EwsProblem::NoSuchMailbox { .. } => Cause::WrongServerName,
            EwsProblem::ChannelBindingRefused(b) => b.cause(),
            // What could not run is the permission check: the finding is about it.
            EwsProblem::MissingOffPath { .. } | EwsProblem::RequestFault { .. } => Cause::Permissions,
        }
    }

    pub(super) fn severity(&self) -> Severity {
        match self {
            // Another move holds the mailbox for now: it clears by itself.
            EwsProblem::MoveInProgress { .. } => Severity::Warn,
            // Neither stops the migration: the permission is unchecked, not refused.
            EwsProblem::MissingOffPath { .. } | EwsProblem::RequestFault { .. } => Severity::Warn,
            EwsProblem::ChannelBindingRefused(b) => b.severity(),
            EwsProblem::Unreachable { .. }
            | EwsProblem::NoUsableScheme { .. }
            | EwsProblem::NotFound { .. }
            | EwsProblem::Anonymous { .. }
            | EwsProblem::CredentialsRefused { .. }
            | EwsProblem::NotEws { .. }
            | EwsProblem::AccessDenied { .. }
            | EwsProblem::ImpersonateDenied { .. }
            | EwsProblem::NoSuchMailbox { .. }
            | EwsProblem::StoreUnavailable { .. }
            | EwsProblem::MailboxRefused { .. } => Severity::Fail,
        }
    }

    pub(super) fn summary(&self) -> String {
        match self {
            EwsProblem::Unreachable { url, error } => format!("EWS at {url} cannot be reached: {error}."),
            EwsProblem::NoUsableScheme { url, schemes } => format!(
                "EWS at {url} offers only {}: neither Basic nor NTLM.",
                schemes.join(", ")
            ),
            EwsProblem::NotFound { url } => format!(
                "There is no EWS at {url} (404): EWS is not published at this name, or the server is older than Exchange 2007."
            ),
            EwsProblem::Anonymous { url, status_line } => {
                format!("EWS at {url} answers {status_line} without asking for credentials.")
            }
            EwsProblem::CredentialsRefused { url, user, logon } => format!(
                "EWS at {url} rejects the credentials of {user} ({}).{}",
                logon.scheme(),
                logon.hint()
            ),
            EwsProblem::ChannelBindingRefused(b) => b.summary(),
            EwsProblem::NotEws { url, status, fault } => format!(
                "EWS at {url} answers {status}{} but not as EWS (no ServerVersionInfo).",
                fault.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
            ),
            EwsProblem::AccessDenied { user, mailbox } => format!(
                "{user} may not open the mailbox {mailbox} (ErrorAccessDenied): the migration account needs Full Access to it or Receive As on its database. Members of Domain Admins and Enterprise Admins are often explicitly denied mailbox access on premises."
            ),
            EwsProblem::ImpersonateDenied { user, mailbox } => format!(
                "{user} may not act as {mailbox} (ErrorImpersonateUserDenied): give it Full Access to the mailbox (or the ApplicationImpersonation role)."
            ),
            EwsProblem::NoSuchMailbox { mailbox } => format!(
                "There is no mailbox {mailbox} behind this server (ErrorNonExistentMailbox): check the address (the primary SMTP address), or whether the mailbox was already moved."
            ),
            EwsProblem::MoveInProgress { mailbox } => format!(
                "The mailbox {mailbox} is being moved right now (ErrorMailboxMoveInProgress): wait for that move or remove it before migrating."
            ),
            EwsProblem::StoreUnavailable { mailbox } => format!(
                "The database of {mailbox} is not available (ErrorMailboxStoreUnavailable): it is dismounted or its server cannot be reached."
            ),
            EwsProblem::MailboxRefused {
                mailbox,
                answer,
                message,
                ..
            } => format!(
                "EWS answered {answer} for the Inbox of {mailbox}{}.",
                // Exchange's MessageText ends with its own full stop.
                message
                    .as_deref()
                    .map(|m| format!(": {}", m.trim_end_matches('.')))
                    .unwrap_or_default()
            ),
            EwsProblem::MissingOffPath { missing, user, mailbox } => format!(
                "{} A cutover or staged migration goes through Outlook Anywhere and does not use EWS, so this does not stop it; but migcheck checks the mailbox permission through EWS, so {}: check it by hand.",
                missing.summary(),
                match mailbox {
                    Some(m) => format!("whether {user} has Full Access to {m} was not checked"),
                    None => format!("the Full Access of {user} to the mailboxes was not checked"),
                }
            ),
            EwsProblem::RequestFault {
                url,
                user,
                code,
                text,
                requested,
                ..
            } => {
                let meaning = if VERSION_FAULTS.contains(&code.as_str()) {
                    format!(
                        "it does not accept RequestServerVersion {requested}, which every Exchange from 2007 SP1 on accepts, so the server answering is older (Exchange 2007 without a service pack)"
                    )
                } else if code == "ErrorSchemaValidation" {
                    "its schema does not accept migcheck's GetFolder request, which every Exchange from 2007 SP1 on accepts".to_string()
                } else {
                    "the server failed the request, not the mailbox".to_string()
                };
                format!(
                    "EWS at {url} takes the logon of {user} but answers the request itself with a SOAP fault, {code}{}: {meaning}. The mailbox permission could not be checked through EWS.",
                    text.as_deref()
                        .map(|t| format!(" ({})", t.trim_end_matches('.')))
                        .unwrap_or_default()
                )
            }
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            EwsProblem::Unreachable { .. }
            | EwsProblem::NoUsableScheme { .. }
            | EwsProblem::NotFound { .. }
            | EwsProblem::Anonymous { .. }
            | EwsProblem::NotEws { .. } => FIX_EWS.to_string(),
            EwsProblem::CredentialsRefused { logon, .. } => logon.fix(),
            EwsProblem::ChannelBindingRefused(b) => b.fix(),
            EwsProblem::AccessDenied { user, mailbox } | EwsProblem::MailboxRefused { user, mailbox, .. } => {
                full_access(mailbox, user)
            }
            EwsProblem::ImpersonateDenied { user, mailbox } => format!(
                "{}\nNew-ManagementRoleAssignment -Role ApplicationImpersonation -User {user}",
                full_access(mailbox, user)
            ),
            EwsProblem::NoSuchMailbox { mailbox } => {
                format!("Get-Recipient {mailbox} | Format-List RecipientTypeDetails,PrimarySmtpAddress,Database")
            }
            EwsProblem::MoveInProgress { mailbox } => format!(
                "Get-MoveRequest {mailbox} | Format-List Status,PercentComplete\n# then: Remove-MoveRequest {mailbox}"
            ),
            EwsProblem::StoreUnavailable { mailbox } => format!(
                "Get-Mailbox {mailbox} | Format-List Database\nGet-MailboxDatabase -Status | Format-Table Name,Server,Mounted"
            ),
            EwsProblem::MissingOffPath { user, mailbox, .. } => by_hand(mailbox.as_deref(), user),
            EwsProblem::RequestFault { user, mailbox, .. } => format!(
                "# EWS refused migcheck's request: which Exchange answers, and the permission by hand\nGet-ExchangeServer | Format-Table Name,ServerRole,AdminDisplayVersion\n{}",
                by_hand(mailbox.as_deref(), user)
            ),
        }
    }
}

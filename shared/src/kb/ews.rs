//! EWS and the mailbox permission (KB step 4): the migration account logs on and opens the mailbox.

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
        }
    }

    pub(super) fn severity(&self) -> Severity {
        match self {
            // Another move holds the mailbox for now: it clears by itself.
            EwsProblem::MoveInProgress { .. } => Severity::Warn,
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
        }
    }
}

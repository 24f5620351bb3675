//! MAPI over HTTP ([MS-OXCMAPIHTTP]), when Autodiscover names it. The migration service goes through
//! Outlook Anywhere, so every problem here is a warning: Outlook needs MAPI over HTTP after the move.

use super::{BindingRefused, Cause, RefusedLogon};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapiProblem {
    /// The endpoint `name` (mail store, address book) at `url` cannot be reached.
    Unreachable { name: String, url: String, error: String },
    /// 401 after the credentials.
    CredentialsRefused { url: String, logon: RefusedLogon },
    /// Extended Protection refuses NTLM logons bound to the certificate migcheck got.
    ChannelBindingRefused(BindingRefused),
    /// An X-ResponseCode that is not 0 (`meaning`: the code in words).
    ResponseCode {
        url: String,
        status: u16,
        code: String,
        meaning: String,
    },
    /// No X-ResponseCode at all: not a MAPI over HTTP endpoint.
    NotMapi { url: String, status_line: String },
}

const FIX_MAPI: &str = r#"# Check the MAPI virtual directory and that MAPI over HTTP is enabled
Get-OrganizationConfig | Format-List MapiHttpEnabled
Get-MapiVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl,IISAuthenticationMethods
Set-MapiVirtualDirectory -Identity "<server>\mapi (Default Web Site)" -ExternalUrl https://<host>/mapi -IISAuthenticationMethods Ntlm,OAuth,Negotiate,Basic"#;

impl MapiProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            MapiProblem::CredentialsRefused { .. } => Cause::Permissions,
            MapiProblem::ChannelBindingRefused(b) => b.cause(),
            MapiProblem::Unreachable { .. } | MapiProblem::ResponseCode { .. } | MapiProblem::NotMapi { .. } => {
                Cause::ExternalAccess
            }
        }
    }

    pub(super) fn summary(&self) -> String {
        match self {
            MapiProblem::Unreachable { name, url, error } => {
                format!("MAPI over HTTP: the {name} at {url} cannot be pinged: {error}.")
            }
            MapiProblem::CredentialsRefused { url, logon } => format!(
                "MAPI over HTTP at {url} rejects the credentials ({}, 401).{}",
                logon.scheme(),
                logon.hint()
            ),
            MapiProblem::ChannelBindingRefused(b) => b.summary(),
            MapiProblem::ResponseCode {
                url,
                status,
                code,
                meaning,
            } => format!("MAPI over HTTP at {url} answers {status} with X-ResponseCode {code} ({meaning})."),
            MapiProblem::NotMapi { url, status_line } => {
                format!("{url} answers {status_line} without an X-ResponseCode: it is not a MAPI over HTTP endpoint.")
            }
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            MapiProblem::Unreachable { .. } | MapiProblem::ResponseCode { .. } | MapiProblem::NotMapi { .. } => {
                FIX_MAPI.to_string()
            }
            MapiProblem::CredentialsRefused { logon, .. } => logon.fix(),
            MapiProblem::ChannelBindingRefused(b) => b.fix(),
        }
    }
}

//! SOAP Autodiscover (`/autodiscover/autodiscover.svc`, GetUserSettings, [MS-OXWSADISC]): the
//! Autodiscover the hybrid side uses, beside the POX Autodiscover a cutover or staged migration reads.
//! Exchange Online calls it without pre-authentication (Microsoft's hybrid deployment prerequisites,
//! issue 19 research §2), and the Hybrid Configuration Wizard and the hybrid's free/busy and MailTips
//! lookups find EWS through it. None of these stop a migration's mailbox data, so each is a warning.

use super::{Cause, Severity};

/// What SOAP Autodiscover shows wrong while POX Autodiscover (or MRS Proxy) works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SoapProblem {
    /// The path answers something that is not a GetUserSettings answer (404, a WCF fault, an HTML page):
    /// `said` is what came back.
    NotPublished { url: String, said: String },
    /// Something in front of Exchange answered instead of Exchange: `seen` names its signs.
    DeviceAnswered { url: String, seen: String },
    /// Credentials that POX Autodiscover (or MRS Proxy) accepted, `accepted_at`, are refused here (in a
    /// logon made with `scheme`, which may differ from the one that worked).
    LogonRefused {
        url: String,
        scheme: String,
        accepted_at: String,
    },
    /// An `ErrorCode` other than NoError (the response's or the user's), with the server's message.
    ErrorCode { url: String, code: String, message: String },
    /// The user's `ErrorCode` is InvalidUser: the server knows no such mailbox.
    InvalidUser {
        url: String,
        mailbox: String,
        message: String,
    },
    /// ExternalEwsUrl is not in the settings (the server lists it under `UserSettingErrors`,
    /// SettingIsNotAvailable, when the EWS virtual directory has no ExternalUrl). `internal`: the
    /// InternalEwsUrl it gave, if any.
    NoExternalEwsUrl {
        url: String,
        mailbox: String,
        internal: Option<String>,
        /// The `UserSettingError` code the answer gave for ExternalEwsUrl; None: the setting is simply
        /// not in the answer.
        code: Option<String>,
    },
}

/// What the hybrid side does with SOAP Autodiscover, for the summaries.
const HYBRID_USES_IT: &str = "Exchange Online's hybrid features (free/busy, MailTips) and the Hybrid Configuration Wizard find this organisation's EWS through autodiscover.svc, not through POX autodiscover.xml";

impl SoapProblem {
    pub(super) fn cause(&self) -> Cause {
        match self {
            SoapProblem::NotPublished { .. }
            | SoapProblem::DeviceAnswered { .. }
            | SoapProblem::LogonRefused { .. }
            | SoapProblem::NoExternalEwsUrl { .. } => Cause::ExternalAccess,
            SoapProblem::ErrorCode { .. } | SoapProblem::InvalidUser { .. } => Cause::Autodiscover,
        }
    }

    pub(super) fn severity(&self) -> Severity {
        Severity::Warn
    }

    pub(super) fn summary(&self) -> String {
        match self {
            SoapProblem::NotPublished { url, said } => {
                format!("SOAP Autodiscover at {url} does not answer GetUserSettings ({said}): {HYBRID_USES_IT}.")
            }
            SoapProblem::DeviceAnswered { url, seen } => format!(
                "Something in front of Exchange answered SOAP Autodiscover at {url} instead of Exchange: {seen}. Exchange Online calls this path without pre-authentication."
            ),
            SoapProblem::LogonRefused {
                url,
                scheme,
                accepted_at,
            } => format!(
                "SOAP Autodiscover at {url} refused a {scheme} logon with the credentials that {accepted_at} accepted: the password is right, so the authentication of the Autodiscover virtual directory differs from the rest of the server."
            ),
            SoapProblem::ErrorCode { url, code, message } => format!(
                "SOAP Autodiscover at {url} answered ErrorCode {code} (\"{message}\"): {}.",
                soap_error_meaning(code)
            ),
            SoapProblem::InvalidUser { url, mailbox, message } => format!(
                "SOAP Autodiscover at {url} does not know {mailbox} (ErrorCode InvalidUser, \"{message}\"): the hybrid side finds no settings for this mailbox there."
            ),
            SoapProblem::NoExternalEwsUrl {
                url,
                mailbox,
                internal,
                code,
            } => {
                let internal = internal
                    .as_ref()
                    .map(|i| format!("; InternalEwsUrl {i}"))
                    .unwrap_or_default();
                // Only SettingIsNotAvailable says the virtual directory has none ([MS-OXWSADISC]).
                let (said, why) = match code.as_deref() {
                    Some("SettingIsNotAvailable") => (
                        "SettingIsNotAvailable".to_string(),
                        "the EWS virtual directory has no external URL",
                    ),
                    Some(other) => (other.to_string(), "the server did not give it"),
                    None => ("not in the answer".to_string(), "the server did not give it"),
                };
                format!(
                    "SOAP Autodiscover at {url} gives no ExternalEwsUrl for {mailbox} ({said}{internal}): {why}, and the hybrid side needs it to reach EWS from the internet."
                )
            }
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            SoapProblem::NotPublished { .. } | SoapProblem::DeviceAnswered { .. } => "# Publish /autodiscover/autodiscover.svc (and /autodiscover/autodiscover.svc/wssecurity) like /autodiscover/autodiscover.xml,\n# without pre-authentication on the reverse proxy or firewall. On Exchange, check the virtual directory:\nGet-AutodiscoverVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl,WSSecurityAuthentication,WindowsAuthentication,BasicAuthentication".into(),
            SoapProblem::LogonRefused { accepted_at, .. } => format!("# Give the Autodiscover virtual directory the authentication that took the same credentials at {accepted_at}:\n# compare the two virtual directories, then turn on what Autodiscover lacks (on every server that faces the internet)\nGet-AutodiscoverVirtualDirectory | Format-List Server,BasicAuthentication,WindowsAuthentication,WSSecurityAuthentication,OAuthAuthentication\nGet-WebServicesVirtualDirectory | Format-List Server,BasicAuthentication,WindowsAuthentication,WSSecurityAuthentication,OAuthAuthentication"),
            SoapProblem::ErrorCode { .. } => "# Look at the Autodiscover logs on the Exchange server (Logging\\Autodiscover) for the request at that time\nGet-AutodiscoverVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl".into(),
            SoapProblem::InvalidUser { .. } => "# Check that the address is a mailbox (or remote mailbox) of this organisation, as SOAP Autodiscover reads it\nGet-Recipient <e-mail address> | Format-List RecipientTypeDetails,PrimarySmtpAddress,EmailAddresses".into(),
            SoapProblem::NoExternalEwsUrl { .. } => "# Set the external URL of EWS on every Exchange server that faces the internet, then check it\nGet-WebServicesVirtualDirectory | Format-List Server,InternalUrl,ExternalUrl\nSet-WebServicesVirtualDirectory -Identity \"<server>\\EWS (Default Web Site)\" -ExternalUrl https://mail.<your domain>/EWS/Exchange.asmx".into(),
        }
    }
}

/// What a SOAP Autodiscover `ErrorCode` means ([MS-OXWSADISC] 2.2.5.4, the ErrorCode simple type).
pub fn soap_error_meaning(code: &str) -> &'static str {
    match code.trim() {
        "NoError" => "there was no error",
        "RedirectAddress" => "the mailbox is found under another address, which the answer names",
        "RedirectUrl" => "another Autodiscover server answers for this mailbox",
        "InvalidUser" => "the user in the request is not valid for this server",
        "InvalidRequest" => "the server found the request invalid",
        "InvalidSetting" => "a requested setting is not valid",
        "SettingIsNotAvailable" => "a requested setting is not available",
        "ServerBusy" => "the server is too busy to answer",
        "InvalidDomain" => "the domain is not valid",
        "NotFederated" => "the organisation is not federated",
        "InternalServerError" => "the Autodiscover service had an internal error",
        _ => "an ErrorCode migcheck does not know",
    }
}

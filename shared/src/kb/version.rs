//! The KB's "unsupported version" cause: Exchange 2003 is not a source for a migration to Exchange
//! Online; versions past their end of support still migrate but get no fixes.

use super::Severity;

/// `server` fields: the product and update in words (`Exchange Server 2016 CU23 (15.1.2507)`).
/// `disagreement`: the sources that told different builds, each as `SOURCE says PRODUCT`; empty when
/// they agree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionProblem {
    /// Exchange 2003 told by its fingerprint (no EWS, no X-OWA-Version; `/exchange/` on IIS 6).
    Exchange2003 { fingerprint: String },
    /// A build older than any supported source.
    NotASource { server: String, disagreement: Vec<String> },
    /// Past its end of support (`date`).
    EndOfSupport {
        server: String,
        date: String,
        disagreement: Vec<String>,
    },
    /// A supported (or unknown) version, but the servers behind the name disagree.
    SourcesDisagree { server: String, disagreement: Vec<String> },
}

const FIX_2003: &str = r#"# Exchange 2003 is not a supported source for a migration to Exchange Online.
# Move the mailboxes to a supported on-premises version first (Exchange 2010 or later, then migrate),
# or migrate the mail with IMAP or a third-party tool."#;

const FIX_OUT_OF_SUPPORT: &str = r#"# Migrations from this version still work, but it gets no fixes: finish the move soon, and keep the
# servers on their last update meanwhile
Get-ExchangeServer | Format-Table Name,AdminDisplayVersion"#;

/// Microsoft's own sentence (the KB's cause 5).
const NOT_SUPPORTED: &str = "Migrating users from on-premises Exchange 2003 isn't supported in Office 365.";

/// The sentence that says the sources disagree, or nothing when they agree.
fn disagree(said: &[String]) -> String {
    if said.is_empty() {
        return String::new();
    }
    format!(
        " The sources disagree ({}): the servers behind the name run different versions (a load balancer in front of mixed servers?); the oldest is what the migration may meet.",
        said.join(", ")
    )
}

impl VersionProblem {
    pub(super) fn severity(&self) -> Severity {
        match self {
            VersionProblem::Exchange2003 { .. } | VersionProblem::NotASource { .. } => Severity::Fail,
            VersionProblem::EndOfSupport { .. } | VersionProblem::SourcesDisagree { .. } => Severity::Warn,
        }
    }

    pub(super) fn summary(&self) -> String {
        match self {
            VersionProblem::Exchange2003 { fingerprint } => {
                format!("The server is Exchange Server 2003 ({fingerprint}; no EWS, no X-OWA-Version). {NOT_SUPPORTED}")
            }
            VersionProblem::NotASource { server, disagreement } => {
                format!("The server is {server}. {NOT_SUPPORTED}{}", disagree(disagreement))
            }
            VersionProblem::EndOfSupport {
                server,
                date,
                disagreement,
            } => format!(
                "The server is {server}, past its end of support ({date}): the migration still works, but the version gets no fixes.{}",
                disagree(disagreement)
            ),
            VersionProblem::SourcesDisagree { server, disagreement } => {
                format!("The server is {server}.{}", disagree(disagreement))
            }
        }
    }

    pub(super) fn fix(&self) -> String {
        match self {
            VersionProblem::Exchange2003 { .. } | VersionProblem::NotASource { .. } => FIX_2003.to_string(),
            VersionProblem::EndOfSupport { .. } | VersionProblem::SourcesDisagree { .. } => {
                FIX_OUT_OF_SUPPORT.to_string()
            }
        }
    }
}

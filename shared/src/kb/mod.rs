//! The KB's knowledge in one place: the steps of KB 2389390, its causes, and every problem migcheck can
//! find, each with its cause, its step, what it means in words and the fix.
//!
//! The relay's probes return facts; its plan (`diagnose`) turns facts into a [`Problem`]; the words and
//! the fix come from here and nowhere else. Pure data and text: the page uses it too.
//!
//! A fix is PowerShell a user can paste into the Exchange Management Shell, its prose in `#` comments, so
//! the whole text stays runnable.

mod autodiscover;
pub mod compare;
mod ews;
pub mod explain;
mod hybrid;
mod logon;
mod mapi;
mod mrs;
mod outlook;
mod reach;
mod remote;
mod servers;
mod soap_autodiscover;
mod step;
mod suites;
mod tls;
mod version;

use serde::{Deserialize, Serialize};

pub use autodiscover::{AutodiscoverProblem, error_meaning as autodiscover_error_meaning};
pub use ews::EwsProblem;
pub use hybrid::{
    AGENT_ENDPOINTS, AGENT_WILDCARDS, AgentEndpoint, HybridProblem, NO_AGENT_TARGET, OUTBOUND_FROM_INTERNET,
    agent_by_hand, agent_name, private_root_behind_agent,
};
pub use logon::{BindingEvidence, BindingRefused, RefusedLogon};
pub use mapi::MapiProblem;
pub use mrs::{DeviceAnswer, MrsProblem};
pub use outlook::OutlookAnywhereProblem;
pub use reach::ReachProblem;
pub use remote::{EXCHANGE_ONLINE_ENDPOINTS_URL, hosted_relay_allow_list, remote_move_role, remote_move_role_fix};
pub use servers::OnServer;
pub use soap_autodiscover::{SoapProblem, soap_error_meaning};
pub use step::KbStep;
pub use suites::{EXCHANGE_ONLINE_SUITES, EXCHANGE_ONLINE_SUITES_SOURCE, SuiteJudgement, exchange_online_lists};
pub use tls::{ChainPosition, EXPIRY_WARNING_DAYS, ExtraFlaw, MIN_RSA_BITS, PrivateTrust, TlsProblem, Vantage};
pub use version::VersionProblem;

use crate::report::Status;

/// Which of the KB's causes a finding belongs to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Outlook Anywhere, MRS Proxy or IIS authentication not open to the migration service.
    ExternalAccess,
    Certificate,
    Autodiscover,
    Permissions,
    WrongServerName,
    UnsupportedVersion,
    /// DNS, TCP or the TLS version.
    Network,
    /// Not a connection problem: the service or the MRS Proxy limits or slows the work (too many
    /// connections, a test repeated too soon, a timeout while exporting data). Only pasted error text
    /// (`explain`) names it; no check finds it.
    Throttling,
    /// Not a connection problem: the mailbox or its directory object stops the move (no recipient with
    /// the mailbox GUID, an archive database not set, corrupt search folders or checkpoint data). Only
    /// pasted error text (`explain`) names it.
    MailboxData,
}

impl Cause {
    /// Whether a connectivity check can find it: throttling and mailbox data are no connection problem,
    /// so "Check it now" has nothing to check for them.
    pub fn is_connection_problem(self) -> bool {
        !matches!(self, Cause::Throttling | Cause::MailboxData)
    }

    pub fn label(self) -> &'static str {
        match self {
            Cause::ExternalAccess => "external access",
            Cause::Certificate => "certificate",
            Cause::Autodiscover => "Autodiscover",
            Cause::Permissions => "permissions",
            Cause::WrongServerName => "wrong server name",
            Cause::UnsupportedVersion => "unsupported version",
            Cause::Network => "network",
            Cause::Throttling => "throttling",
            Cause::MailboxData => "mailbox data",
        }
    }
}

/// How much a problem weighs: a failure stops the migration, a warning does not (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Fail,
    Warn,
}

impl From<Severity> for Status {
    fn from(s: Severity) -> Status {
        match s {
            Severity::Fail => Status::Fail,
            Severity::Warn => Status::Warn,
        }
    }
}

/// One thing that can be wrong, grouped by where migcheck finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// DNS, TCP, or a TLS handshake that does not complete (KB step 2).
    Reach(ReachProblem),
    /// The TLS version and the certificate (KB step 2).
    Tls(TlsProblem),
    /// The Autodiscover sequence and the settings it returns (KB step 3).
    Autodiscover(AutodiscoverProblem),
    /// RPC over HTTP through the proxy (KB step 1).
    OutlookAnywhere(OutlookAnywhereProblem),
    /// MAPI over HTTP (beside KB step 1: the migration itself does not use it).
    Mapi(MapiProblem),
    /// EWS and the mailbox permission (KB step 4).
    Ews(EwsProblem),
    /// The MRS Proxy endpoint of remote moves (beside KB step 1).
    Mrs(MrsProblem),
    /// The Exchange version (the KB's "unsupported version" cause, no step).
    Version(VersionProblem),
    /// Any of the above, found on one server behind the name checked directly (`--servers`).
    OnServer(Box<OnServer>),
    /// The Hybrid Agent's machine and what it publishes (Modern Hybrid; beside KB step 2).
    Hybrid(HybridProblem),
}

impl Problem {
    pub fn cause(&self) -> Cause {
        match self {
            Problem::Reach(p) => p.cause(),
            Problem::Tls(p) => p.cause(),
            Problem::Autodiscover(p) => p.cause(),
            Problem::OutlookAnywhere(p) => p.cause(),
            Problem::Mapi(p) => p.cause(),
            Problem::Ews(p) => p.cause(),
            Problem::Mrs(p) => p.cause(),
            Problem::Version(_) => Cause::UnsupportedVersion,
            Problem::OnServer(p) => p.cause(),
            Problem::Hybrid(p) => p.cause(),
        }
    }

    pub fn kb_step(&self) -> Option<KbStep> {
        match self {
            Problem::Reach(_) | Problem::Tls(_) | Problem::Hybrid(_) => Some(KbStep::Certificate),
            Problem::Autodiscover(_) => Some(KbStep::Autodiscover),
            Problem::OutlookAnywhere(_) | Problem::Mapi(_) | Problem::Mrs(_) => Some(KbStep::OutlookAnywhere),
            Problem::Ews(_) => Some(KbStep::Permissions),
            Problem::Version(_) => None,
            Problem::OnServer(p) => p.kb_step(),
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Problem::Reach(_) | Problem::OutlookAnywhere(_) | Problem::Hybrid(_) => Severity::Fail,
            Problem::Mrs(p) => p.severity(),
            // The migration goes through Outlook Anywhere: MAPI over HTTP matters to Outlook afterwards.
            Problem::Mapi(_) => Severity::Warn,
            Problem::Tls(p) => p.severity(),
            Problem::Autodiscover(p) => p.severity(),
            Problem::Ews(p) => p.severity(),
            Problem::Version(p) => p.severity(),
            Problem::OnServer(p) => p.severity(),
        }
    }

    /// What is wrong, in one or two sentences a user can act on.
    pub fn summary(&self) -> String {
        match self {
            Problem::Reach(p) => p.summary(),
            Problem::Tls(p) => p.summary(),
            Problem::Autodiscover(p) => p.summary(),
            Problem::OutlookAnywhere(p) => p.summary(),
            Problem::Mapi(p) => p.summary(),
            Problem::Ews(p) => p.summary(),
            Problem::Mrs(p) => p.summary(),
            Problem::Version(p) => p.summary(),
            Problem::OnServer(p) => p.summary(),
            Problem::Hybrid(p) => p.summary(),
        }
    }

    /// The fix: PowerShell to paste, its prose in `#` comments.
    pub fn fix(&self) -> String {
        match self {
            Problem::Reach(p) => p.fix(),
            Problem::Tls(p) => p.fix(),
            Problem::Autodiscover(p) => p.fix(),
            Problem::OutlookAnywhere(p) => p.fix(),
            Problem::Mapi(p) => p.fix(),
            Problem::Ews(p) => p.fix(),
            Problem::Mrs(p) => p.fix(),
            Problem::Version(p) => p.fix(),
            Problem::OnServer(p) => p.fix(),
            Problem::Hybrid(p) => p.fix(),
        }
    }

    /// Folds `other` into this problem when both are one thing to fix, found by several checks (one
    /// device in front of several paths, on the same server): the report then shows one finding. Whether
    /// it folded.
    pub fn absorb(&mut self, other: &Problem) -> bool {
        match (self, other) {
            (Problem::Mrs(a), Problem::Mrs(b)) => a.absorb(b),
            (Problem::OnServer(a), Problem::OnServer(b)) if a.server == b.server && a.name == b.name => {
                a.problem.absorb(&b.problem)
            }
            // A server behind the name with the name's own problem: one finding, the name's.
            (a, Problem::OnServer(b)) if *a == b.problem => true,
            _ => false,
        }
    }
}

macro_rules! from_area {
    ($($area:ident($ty:ty)),*) => {
        $(impl From<$ty> for Problem {
            fn from(p: $ty) -> Problem {
                Problem::$area(p)
            }
        })*
    };
}
impl From<SoapProblem> for Problem {
    fn from(p: SoapProblem) -> Problem {
        Problem::Autodiscover(AutodiscoverProblem::Soap(p))
    }
}

from_area!(
    Reach(ReachProblem),
    Tls(TlsProblem),
    Autodiscover(AutodiscoverProblem),
    OutlookAnywhere(OutlookAnywhereProblem),
    Mapi(MapiProblem),
    Ews(EwsProblem),
    Mrs(MrsProblem),
    Version(VersionProblem),
    Hybrid(HybridProblem)
);

/// Fills `HOST` and `DOMAIN` (the host without its first label) into a fix template.
fn fill(template: &str, host: &str) -> String {
    let domain = host.split_once('.').map(|(_, d)| d).unwrap_or(host);
    template.replace("HOST", host).replace("DOMAIN", domain)
}

#[cfg(test)]
mod tests;

//! The report: a tree of checks, the findings drawn from them and one verdict.

use serde::{Deserialize, Serialize};

pub use crate::kb::Cause;
use crate::kb::KbStep;
use crate::request::DiagnoseRequest;

/// The overall outcome. `migcheck check` exits 0 for pass and warn, 1 for fail.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// The outcome of one check. `Skip` and `Info` never decide the verdict.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    Info,
}

impl Status {
    /// How much this status weighs on the verdict; `None` for skip and info.
    pub fn verdict(self) -> Option<Verdict> {
        match self {
            Status::Pass => Some(Verdict::Pass),
            Status::Warn => Some(Verdict::Warn),
            Status::Fail => Some(Verdict::Fail),
            Status::Skip | Status::Info => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Info => "info",
        }
    }
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        }
    }
}

/// A network phase, for the waterfall.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Dns,
    Tcp,
    Tls,
    Http,
    Rpc,
}

/// When a phase started (milliseconds since the diagnosis started) and how long it took.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseTiming {
    pub phase: Phase,
    pub start_ms: u64,
    pub duration_ms: u64,
}

/// One labelled fact (`Negotiated version: TLS 1.3`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A certificate as the server presented it, decoded.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses from the subjectAltName extension.
    pub san: Vec<String>,
    /// RFC 3339, UTC.
    pub not_before: String,
    /// RFC 3339, UTC.
    pub not_after: String,
    /// `RSA`, `ECDSA P-256`, `Ed25519` ...
    pub key_type: String,
    pub key_bits: u32,
    /// `sha256WithRSAEncryption`, `ecdsa-with-SHA384` ...
    pub signature_algorithm: String,
    /// SHA-256 of the DER, upper-case hex with colons, as openssl shows it.
    pub sha256: String,
    /// SHA-1 of the DER, upper-case hex without separators: the `Thumbprint` of Get-ExchangeCertificate.
    pub thumbprint: String,
    pub serial: String,
    pub self_signed: bool,
}

/// The structured evidence behind a check. Every part is in the JSON, empty or not, so a script can
/// walk it (`jq '.checks[].evidence.facts[]'`) without testing for keys.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    #[serde(default)]
    pub facts: Vec<Fact>,
    /// A certificate chain in the order the server sent it (leaf first).
    #[serde(default)]
    pub certificates: Vec<CertificateInfo>,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty() && self.certificates.is_empty()
    }

    pub fn fact(mut self, label: &str, value: impl Into<String>) -> Self {
        self.facts.push(Fact {
            label: label.to_string(),
            value: value.into(),
        });
        self
    }
}

/// One node of the check tree.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Stable and dotted (`tls.chain`); documented in the README.
    pub id: String,
    pub title: String,
    pub status: Status,
    /// One sentence a user can act on.
    pub summary: String,
    #[serde(default)]
    pub evidence: Evidence,
    pub elapsed_ms: u64,
    #[serde(default)]
    pub timings: Vec<PhaseTiming>,
    /// The KB 2389390 step this check belongs to (1-5 on the wire); none for the version check.
    pub kb_step: Option<KbStep>,
    #[serde(default)]
    pub children: Vec<Check>,
}

impl Check {
    /// Finds a check by id anywhere below (and including) this one.
    pub fn find(&self, id: &str) -> Option<&Check> {
        if self.id == id {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(id))
    }
}

/// A conclusion drawn from one or more checks: the cause, what is wrong and how to fix it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub cause: Cause,
    /// `fail` or `warn`: how serious the finding is.
    pub severity: Status,
    pub kb_step: Option<KbStep>,
    pub summary: String,
    /// The PowerShell line to run or the concrete change to make.
    pub fix: String,
    pub check_ids: Vec<String>,
}

/// The whole result of one diagnosis: the last event of the stream and the `--json` output.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub schema_version: u32,
    pub verdict: Verdict,
    /// The verdict in one sentence.
    pub headline: String,
    /// What was asked, without the password.
    pub inputs: DiagnoseRequest,
    pub checks: Vec<Check>,
    /// Most important first.
    pub findings: Vec<Finding>,
    pub elapsed_ms: u64,
    /// The view from outside beside this one (`--compare-with`); absent when none was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Box<Comparison>>,
}

/// The inside view (this relay) and the outside view (a relay on the internet) of the same diagnosis,
/// side by side. The outside view comes first in what a user reads: it is what Exchange Online sees.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// The relay that looked from outside, as configured (its URL, never its token).
    pub relay: String,
    /// What went to it, without the password.
    pub sent: DiagnoseRequest,
    /// Whether the migration account's password went to it (only with its own consent).
    pub password_sent: bool,
    /// How asking it went.
    pub outcome: CompareOutcome,
    /// The outcome in one sentence: what was compared, or why nothing was (unreachable, refused, older).
    pub message: String,
    /// What it saw, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<Box<Report>>,
    /// The same request run here, when it is not this report's own (the password-less view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<Box<Report>>,
    /// Each difference explained, most serious first.
    #[serde(default)]
    pub differences: Vec<Difference>,
    /// Every check on either side, differing ones first.
    #[serde(default)]
    pub rows: Vec<ComparedCheck>,
}

/// How asking the outside relay went.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CompareOutcome {
    /// Both views came; `differences` says what differs.
    Compared,
    /// No connection to it, or no answer in time.
    Unreachable,
    /// It answered with a refusal: its egress policy, rate limit, access token or input check.
    Refused,
    /// It is older and has no outside view (no `outside` mode in its `/api/v1/info`).
    TooOld,
    /// It answered, but not as a migcheck relay does (a stream cut short, not JSON).
    Failed,
}

/// One check as each side saw it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ComparedCheck {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<Seen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<Seen>,
    /// Whether the two differ (in status, or in what the comparison reads: addresses, certificate,
    /// who answered).
    pub differs: bool,
}

/// A check's status and summary on one side.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub status: Status,
    pub summary: String,
}

/// A difference between the two views, explained.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The check where it shows.
    pub check_id: String,
    pub cause: Cause,
    /// `fail`, `warn` or `info` (a difference that is expected, as split DNS reaching the same server).
    pub severity: Status,
    /// What differs and what it means, in one or two sentences.
    pub summary: String,
    /// What to do.
    pub fix: String,
    /// What each side saw, in words.
    pub inside: String,
    pub outside: String,
}

impl Report {
    /// Finds a check by id anywhere in the tree.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find_map(|c| c.find(id))
    }
}

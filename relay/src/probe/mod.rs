//! The probes: each takes typed inputs and returns typed outcomes, knowing nothing of routes or the UI.

pub mod autodiscover;
pub mod certificate;
pub mod ews;
pub mod fixes;
pub mod logon;
pub mod mapi;
pub mod mrs;
pub mod owa;
pub mod rpch;
pub mod tls;
pub mod version;

use migcheck_shared::{Cause, Evidence, Status};

/// What one check concluded, before the plan gives it an id, a place in the tree and timings.
pub struct Outcome {
    pub status: Status,
    pub summary: String,
    pub evidence: Evidence,
    /// The finding this outcome raises, when it is a problem a user must act on.
    pub finding: Option<Problem>,
}

/// A problem in KB terms: its cause, what it means for the migration, and the fix.
pub struct Problem {
    pub cause: Cause,
    pub summary: String,
    pub fix: String,
}

impl Outcome {
    pub fn new(status: Status, summary: impl Into<String>) -> Self {
        Outcome {
            status,
            summary: summary.into(),
            evidence: Evidence::default(),
            finding: None,
        }
    }

    pub fn pass(summary: impl Into<String>) -> Self {
        Self::new(Status::Pass, summary)
    }

    pub fn skip(summary: impl Into<String>) -> Self {
        Self::new(Status::Skip, summary)
    }

    /// A failure (or warning) that raises a finding with the same summary.
    pub fn problem(status: Status, cause: Cause, summary: impl Into<String>, fix: impl Into<String>) -> Self {
        let summary = summary.into();
        Outcome {
            status,
            summary: summary.clone(),
            evidence: Evidence::default(),
            finding: Some(Problem {
                cause,
                summary,
                fix: fix.into(),
            }),
        }
    }

    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = evidence;
        self
    }

    pub fn fact(mut self, label: &str, value: impl Into<String>) -> Self {
        self.evidence = self.evidence.fact(label, value);
        self
    }
}

//! What one check concluded, before the plan gives it an id, a place in the tree and timings.

use migcheck_shared::{Evidence, Problem, Status};

pub(crate) struct Outcome {
    pub status: Status,
    pub summary: String,
    pub evidence: Evidence,
    /// The problem this outcome raises as a finding, when it is one a user must act on.
    pub problem: Option<Problem>,
}

impl Outcome {
    pub fn new(status: Status, summary: impl Into<String>) -> Self {
        Outcome {
            status,
            summary: summary.into(),
            evidence: Evidence::default(),
            problem: None,
        }
    }

    pub fn pass(summary: impl Into<String>) -> Self {
        Self::new(Status::Pass, summary)
    }

    pub fn skip(summary: impl Into<String>) -> Self {
        Self::new(Status::Skip, summary)
    }

    /// A failure (or warning, as the KB weighs it) that raises the problem as a finding, in the KB's
    /// words.
    pub fn problem(problem: impl Into<Problem>) -> Self {
        let problem = problem.into();
        Outcome {
            status: problem.severity().into(),
            summary: problem.summary(),
            evidence: Evidence::default(),
            problem: Some(problem),
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

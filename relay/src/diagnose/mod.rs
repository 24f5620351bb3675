//! The plan: runs the KB's checks for a request as a tree, streams `started`/`finished` events as they
//! happen, and ends with the report (verdict, headline, findings in order of importance).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use migcheck_shared::kb::{self, EwsProblem, MrsProblem, Problem, Vantage};
use migcheck_shared::request::ValidRequest;
use migcheck_shared::{
    Check, DiagnoseRequest, Event, Finding, KbStep, Phase, PhaseTiming, Report, SCHEMA_VERSION, Status, Verdict,
};

use crate::net::Net;

mod autodiscover;
mod certificate;
mod endpoints;
mod ews;
pub(crate) mod host;
mod hybrid;
mod logon;
mod mapi;
mod outcome;
mod outlook;
mod outside;
mod remote;
mod servers;
mod soap;
mod suite;
mod version;

pub(crate) use outcome::Outcome;

/// Builds the tree and the findings while the checks run, and tells the listener as it goes.
pub(crate) struct Recorder {
    events: UnboundedSender<Event>,
    t0: Instant,
    // Checks of concurrent probes finish in any order; the plan sorts the findings at the end.
    // Each with its problem, which a later check may fold into it (`raise`).
    findings: Mutex<Vec<(Finding, Problem)>>,
    /// Set on a [`Recorder::detached`] one: its problems, each with the id of the check that raised it,
    /// kept as problems (not findings) for the plan to place.
    kept: Option<Mutex<Vec<(String, Problem)>>>,
    /// Whether a server refused the migration account's password, or cut a logon off after it went out
    /// (it may have counted a refusal): no later logon is tried (lockout).
    refused: AtomicBool,
}

/// A check underway: when it started, and its phases so far.
pub(crate) struct Running {
    id: String,
    title: String,
    kb_step: Option<KbStep>,
    started: Instant,
    /// When its own work ended, if that was before it is finished (its report waited for others).
    ended: Option<Instant>,
    timings: Vec<PhaseTiming>,
}

impl Running {
    /// Its own work ended at `at`: its time is up to there, however long its report waits.
    pub(crate) fn ended_at(&mut self, at: Instant) {
        self.ended = Some(at);
    }
}

impl Recorder {
    pub(crate) fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.t0).as_millis() as u64
    }

    /// A check of the KB step `kb_step` (a [`KbStep`], or `None` for a check of no step) begins: the
    /// listener is told at once, so the page can place it in its group while it runs.
    pub(crate) fn start(
        &self,
        kb_step: impl Into<Option<KbStep>>,
        id: impl Into<String>,
        title: impl Into<String>,
        parent: Option<&str>,
    ) -> Running {
        let id = id.into();
        let title = title.into();
        let kb_step = kb_step.into();
        // A listener that went away (a closed page) is not an error for the diagnosis itself.
        let _ = self.events.send(Event::Started {
            id: id.clone(),
            title: title.clone(),
            parent: parent.map(str::to_string),
            kb_step,
        });
        Running {
            id,
            title,
            kb_step,
            started: Instant::now(),
            ended: None,
            timings: Vec::new(),
        }
    }

    pub(crate) fn phase(&self, run: &mut Running, phase: Phase, from: Instant) {
        run.timings.push(PhaseTiming {
            phase,
            start_ms: self.ms(from),
            duration_ms: from.elapsed().as_millis() as u64,
        });
    }

    pub(crate) fn finish(&self, run: Running, outcome: Outcome, children: Vec<Check>) -> Check {
        let check = Check {
            id: run.id,
            title: run.title,
            status: outcome.status,
            summary: outcome.summary,
            evidence: outcome.evidence,
            elapsed_ms: run
                .ended
                .unwrap_or_else(Instant::now)
                .saturating_duration_since(run.started)
                .as_millis() as u64,
            timings: run.timings,
            kb_step: run.kb_step,
            children,
        };
        if let Some(problem) = outcome.problem {
            if matches!(
                problem,
                Problem::Mrs(MrsProblem::CredentialsRefused { .. } | MrsProblem::LogonCut { .. })
                    | Problem::Ews(EwsProblem::CredentialsRefused { .. })
            ) {
                self.refused.store(true, Ordering::Relaxed);
            }
            // The KB places every problem in a step; a check of another step raising it is a slip in
            // the plan, caught by the tests.
            debug_assert_eq!(problem.kb_step(), check.kb_step, "{} raises {problem:?}", check.id);
            match &self.kept {
                Some(kept) => {
                    if let Ok(mut kept) = kept.lock() {
                        kept.push((check.id.clone(), problem));
                    }
                }
                None => self.raise(check.id.clone(), check.status, &problem),
            }
        }
        let _ = self.events.send(Event::Finished { check: check.clone() });
        check
    }

    /// A parent takes the worst status of its children.
    /// Adds the finding of `problem`, raised by the check `check_id`; or, when an earlier finding of the
    /// same severity is the same thing to fix ([`Problem::absorb`]), adds the check to that finding.
    pub(crate) fn raise(&self, check_id: String, severity: Status, problem: &Problem) {
        if let Ok(mut findings) = self.findings.lock() {
            for (finding, earlier) in findings.iter_mut() {
                if finding.severity == severity && earlier.absorb(problem) {
                    finding.summary = earlier.summary();
                    finding.check_ids.push(check_id);
                    return;
                }
            }
            let finding = Finding {
                cause: problem.cause(),
                severity,
                kb_step: problem.kb_step(),
                summary: problem.summary(),
                fix: problem.fix(),
                check_ids: vec![check_id],
            };
            findings.push((finding, problem.clone()));
        }
    }

    /// A recorder whose events go nowhere and whose problems are kept ([`Recorder::kept`]): for checks
    /// the plan reshapes before they are shown (one server behind a name).
    pub(crate) fn detached(&self) -> Recorder {
        Recorder {
            events: tokio::sync::mpsc::unbounded_channel().0,
            t0: self.t0,
            findings: Mutex::new(Vec::new()),
            kept: Some(Mutex::new(Vec::new())),
            refused: AtomicBool::new(false),
        }
    }

    /// Whether a check recorded here saw the password refused.
    pub(crate) fn password_refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    /// The problems a detached recorder kept, each with the id of its check.
    pub(crate) fn kept(&self) -> Vec<(String, Problem)> {
        self.kept
            .as_ref()
            .and_then(|k| k.lock().ok().map(|mut k| std::mem::take(&mut *k)))
            .unwrap_or_default()
    }

    pub(crate) fn finish_parent(&self, run: Running, children: Vec<Check>, summary: String) -> Check {
        let status = worst(&children).unwrap_or(Status::Skip);
        self.finish(run, Outcome::new(status, summary), children)
    }
}

#[cfg(test)]
impl Recorder {
    /// A recorder whose events nobody reads, for unit tests of single checks.
    pub(crate) fn quiet() -> Self {
        Recorder {
            events: tokio::sync::mpsc::unbounded_channel().0,
            t0: Instant::now(),
            findings: Mutex::new(Vec::new()),
            kept: None,
            refused: AtomicBool::new(false),
        }
    }

    pub(crate) fn findings(&self) -> Vec<Finding> {
        let findings = self.findings.lock().map(|f| f.clone()).unwrap_or_default();
        findings.into_iter().map(|(f, _)| f).collect()
    }
}

pub(crate) fn worst(checks: &[Check]) -> Option<Status> {
    let rank = |s: Status| match s {
        Status::Fail => 4,
        Status::Warn => 3,
        Status::Pass => 2,
        Status::Info => 1,
        Status::Skip => 0,
    };
    checks.iter().map(|c| c.status).max_by_key(|s| rank(*s))
}

/// Runs a validated request to its report, sending events to `events` as checks start and finish.
pub async fn run(net: &Net, request: DiagnoseRequest, valid: ValidRequest, events: UnboundedSender<Event>) -> Report {
    let rec = Recorder {
        events,
        t0: Instant::now(),
        findings: Mutex::new(Vec::new()),
        kept: None,
        refused: AtomicBool::new(false),
    };
    let (checks, pass_headline) = match valid {
        ValidRequest::Host(target) => {
            let checks = host::host_checks(net, &rec, &target).await;
            let headline = host::pass_headline(&target, &checks);
            (checks, headline)
        }
        ValidRequest::Autodiscover(target) => autodiscover::checks(net, &rec, &target).await,
        ValidRequest::OutlookAnywhere(target) => outlook::manual_checks(net, &rec, &target).await,
        ValidRequest::RemoteMove(target) => remote::checks(net, &rec, &target).await,
        ValidRequest::Outside(target) => outside::checks(net, &rec, &target).await,
    };
    let findings = rec
        .findings
        .lock()
        .map(|mut f| std::mem::take(&mut *f))
        .unwrap_or_default()
        .into_iter()
        .map(|(finding, _)| finding)
        .collect();
    let report = conclude(request.redacted(), checks, findings, rec.t0, pass_headline, net.vantage);
    let _ = rec.events.send(Event::Done { report: report.clone() });
    report
}

/// Whether any check passed: something was reached (a Hybrid Agent's name seen from the internet reaches
/// nothing, and its verdict has no allow list to name).
fn reached(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Pass || reached(&c.children))
}

fn conclude(
    inputs: DiagnoseRequest,
    checks: Vec<Check>,
    mut findings: Vec<Finding>,
    t0: Instant,
    pass_headline: String,
    vantage: Vantage,
) -> Report {
    let verdict = checks
        .iter()
        .filter_map(|c| c.status.verdict())
        .max()
        .unwrap_or(Verdict::Pass);
    // Failures before warnings; within each, the order of their checks in the tree (the plan's order),
    // whatever order concurrent probes finished in.
    let mut order = Vec::new();
    fn walk<'a>(checks: &'a [Check], order: &mut Vec<&'a str>) {
        for c in checks {
            order.push(c.id.as_str());
            walk(&c.children, order);
        }
    }
    walk(&checks, &mut order);
    let position = |f: &Finding| {
        f.check_ids
            .first()
            .and_then(|id| order.iter().position(|o| o == id))
            .unwrap_or(usize::MAX)
    };
    // A finding several checks raised lists them in the tree's order too.
    for f in &mut findings {
        f.check_ids
            .sort_by_key(|id| order.iter().position(|o| o == id).unwrap_or(usize::MAX));
    }
    findings.sort_by_key(|f| (if f.severity == Status::Fail { 0 } else { 1 }, position(f)));
    let mut headline = match findings.first() {
        Some(f) if verdict != Verdict::Pass => f.summary.clone(),
        _ => pass_headline,
    };
    // From the internet the relay connects from its own address: what passed there says nothing of
    // Exchange Online's addresses, which the customer's firewall may still keep out.
    if vantage == Vantage::Internet && verdict != Verdict::Fail && reached(&checks) {
        headline = format!("{headline} {}", kb::hosted_relay_allow_list());
    }
    Report {
        schema_version: SCHEMA_VERSION,
        verdict,
        headline,
        inputs,
        checks,
        findings,
        elapsed_ms: t0.elapsed().as_millis() as u64,
        comparison: None,
    }
}

#[cfg(test)]
mod tests {
    use migcheck_shared::kb::{self, Vantage};
    use migcheck_shared::{Check, DiagnoseRequest, HostTarget, Status, Verdict};

    use super::conclude;

    /// The verdict and headline of a host diagnosis whose one check has `status`, seen from `vantage`.
    fn headline(vantage: Vantage, status: Status) -> (Verdict, String) {
        let inputs = DiagnoseRequest::Host(HostTarget {
            host: "mail.contoso.com".into(),
            port: None,
        });
        let passed = Check {
            id: "net".into(),
            title: "Reach mail.contoso.com:443".into(),
            status,
            summary: "mail.contoso.com:443 accepts connections.".into(),
            evidence: Default::default(),
            elapsed_ms: 0,
            timings: Vec::new(),
            kb_step: None,
            children: Vec::new(),
        };
        let report = conclude(
            inputs,
            vec![passed],
            Vec::new(),
            std::time::Instant::now(),
            "mail.contoso.com answers.".into(),
            vantage,
        );
        (report.verdict, report.headline)
    }

    /// Issue 19, point 7: only the public relay's verdict names Exchange Online's allow list.
    #[test]
    fn a_pass_from_the_internet_names_the_allow_list_and_one_from_inside_does_not() {
        let (verdict, outside) = headline(Vantage::Internet, Status::Pass);
        assert_eq!(verdict, Verdict::Pass);
        assert_eq!(
            outside,
            format!("mail.contoso.com answers. {}", kb::hosted_relay_allow_list())
        );
        assert_eq!(headline(Vantage::Inside, Status::Pass).1, "mail.contoso.com answers.");
        // Nothing reached (a Hybrid Agent's name from the internet): no allow list to name.
        assert_eq!(headline(Vantage::Internet, Status::Info).1, "mail.contoso.com answers.");
    }
}

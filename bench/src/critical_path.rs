//! The critical path of one diagnosis, from the phase timings its report carries: walked back from the
//! step that ended last, each time to the step that ended last before it began (the one it waited for,
//! or the one the plan ran before it). At a round-trip time r, a step's length ÷ r is about how many
//! round trips it waited for; a stretch where no timed step ran is listed as a gap (work the probes do
//! not time: a check waiting on a lock or a gate, or the CPU).

use migcheck_shared::{Check, Phase, Report};

/// One timed step: a check's phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub check: String,
    pub phase: Option<Phase>,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Every timed step of the report.
pub fn spans(report: &Report) -> Vec<Span> {
    fn walk(checks: &[Check], all: &mut Vec<Span>) {
        for c in checks {
            for t in &c.timings {
                all.push(Span {
                    check: c.id.clone(),
                    phase: Some(t.phase),
                    start_ms: t.start_ms,
                    end_ms: t.start_ms + t.duration_ms,
                });
            }
            walk(&c.children, all);
        }
    }
    let mut all = Vec::new();
    walk(&report.checks, &mut all);
    all
}

/// The chain of steps from the start to the last step's end, in time order; gaps have no phase and
/// the check `(untimed)`. `slack_ms`: how far a step may end after the next one began and still be
/// the one it waited for (timings are whole milliseconds).
pub fn critical_path(spans: &[Span], slack_ms: u64) -> Vec<Span> {
    let Some(mut current) = spans.iter().max_by_key(|s| (s.end_ms, s.end_ms - s.start_ms)).cloned() else {
        return Vec::new();
    };
    let mut path = vec![current.clone()];
    loop {
        let before = spans
            .iter()
            .filter(|s| s.end_ms <= current.start_ms + slack_ms && s.start_ms < current.start_ms)
            .max_by_key(|s| (s.end_ms, s.end_ms - s.start_ms));
        let Some(before) = before else {
            if current.start_ms > slack_ms {
                path.push(gap(0, current.start_ms));
            }
            break;
        };
        if before.end_ms + slack_ms < current.start_ms {
            path.push(gap(before.end_ms, current.start_ms));
        }
        current = before.clone();
        path.push(current.clone());
    }
    path.reverse();
    path
}

fn gap(start_ms: u64, end_ms: u64) -> Span {
    Span {
        check: "(untimed)".into(),
        phase: None,
        start_ms,
        end_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(check: &str, start_ms: u64, end_ms: u64) -> Span {
        Span {
            check: check.into(),
            phase: Some(Phase::Http),
            start_ms,
            end_ms,
        }
    }

    #[test]
    fn the_path_follows_what_each_step_waited_for() {
        // a (0-100) then b (100-300) waits on it; c (0-150) runs beside them and is not on the path;
        // d (320-400) starts after a 20 ms stretch nothing timed.
        let all = [
            span("c", 0, 150),
            span("a", 0, 100),
            span("b", 101, 300),
            span("d", 320, 400),
        ];
        let path: Vec<(String, u64, u64)> = critical_path(&all, 2)
            .into_iter()
            .map(|s| (s.check, s.start_ms, s.end_ms))
            .collect();
        assert_eq!(
            path,
            [
                ("a".to_string(), 0, 100),
                ("b".to_string(), 101, 300),
                ("(untimed)".to_string(), 300, 320),
                ("d".to_string(), 320, 400),
            ]
        );
        assert!(critical_path(&[], 2).is_empty());
    }
}

//! Where the time of one diagnosis goes, from the phase timings its report carries (DNS, TCP, TLS, HTTP,
//! RPC): for each phase, the wall time during which at least one probe was in it (probes overlap).

use std::collections::BTreeSet;

use migcheck_shared::{Check, Phase, Report};

pub struct PhaseShare {
    pub phase: Phase,
    /// Milliseconds of the diagnosis during which some probe was in this phase.
    pub busy_ms: u64,
    /// How many timed steps of this phase the diagnosis made.
    pub steps: usize,
}

pub fn phases(report: &Report) -> Vec<PhaseShare> {
    let mut all = BTreeSet::new();
    fn walk(checks: &[Check], all: &mut BTreeSet<(u8, u64, u64)>) {
        for c in checks {
            for t in &c.timings {
                all.insert((t.phase as u8, t.start_ms, t.duration_ms));
            }
            walk(&c.children, all);
        }
    }
    walk(&report.checks, &mut all);
    [Phase::Dns, Phase::Tcp, Phase::Tls, Phase::Http, Phase::Rpc]
        .into_iter()
        .map(|phase| {
            let spans: Vec<(u64, u64)> = all
                .iter()
                .filter(|(p, _, _)| *p == phase as u8)
                .map(|&(_, start, len)| (start, start + len))
                .collect();
            PhaseShare {
                phase,
                busy_ms: union_ms(&spans),
                steps: spans.len(),
            }
        })
        .collect()
}

/// The length of the union of `[start, end)` spans.
fn union_ms(spans: &[(u64, u64)]) -> u64 {
    let mut sorted = spans.to_vec();
    sorted.sort_unstable();
    let (mut total, mut reach) = (0, 0);
    for (start, end) in sorted {
        let from = start.max(reach);
        if end > from {
            total += end - from;
        }
        reach = reach.max(end);
    }
    total
}

/// The slowest checks, by their own elapsed time: (id, ms).
pub fn slowest(report: &Report, n: usize) -> Vec<(String, u64)> {
    let mut all = Vec::new();
    fn walk(checks: &[Check], all: &mut Vec<(String, u64)>) {
        for c in checks {
            if c.children.is_empty() {
                all.push((c.id.clone(), c.elapsed_ms));
            }
            walk(&c.children, all);
        }
    }
    walk(&report.checks, &mut all);
    all.sort_by_key(|c| std::cmp::Reverse(c.1));
    all.truncate(n);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_spans_count_once() {
        assert_eq!(union_ms(&[(0, 10), (5, 15), (20, 25)]), 20);
        assert_eq!(union_ms(&[(3, 4), (0, 10)]), 10);
        assert_eq!(union_ms(&[]), 0);
    }
}

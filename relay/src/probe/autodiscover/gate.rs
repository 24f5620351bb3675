//! The order in which the candidates of one Autodiscover round may send the password. They run at the
//! same time (a dead one costs one timeout, not one each), but a client tries them one after the other
//! and stops at the first that decides, and every candidate that gets the password is a logon that
//! counts toward the account's lockout when it is refused. So a candidate sends the password only once
//! every earlier candidate has ended without deciding; its anonymous request does not wait.

use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    Running,
    /// Ended, and a client would go on to the next candidate.
    Undecided,
    /// Ended, and a client would stop here.
    Decided,
}

/// The logon order of one round's candidates.
pub struct LogonGate {
    progress: watch::Sender<Vec<Progress>>,
}

/// One candidate's place in the order.
#[derive(Clone, Copy)]
pub struct Turn<'a> {
    gate: Option<&'a LogonGate>,
    index: usize,
}

impl LogonGate {
    pub fn new(candidates: usize) -> Self {
        let (progress, _) = watch::channel(vec![Progress::Running; candidates]);
        LogonGate { progress }
    }

    /// The place of candidate `index` (0 = the first a client tries).
    pub fn turn(&self, index: usize) -> Turn<'_> {
        Turn {
            gate: Some(self),
            index,
        }
    }

    /// Candidate `index` ended; `decided`: a client stops there, so later candidates keep the password.
    pub fn finish(&self, index: usize, decided: bool) {
        self.progress.send_modify(|p| {
            if let Some(slot) = p.get_mut(index) {
                *slot = if decided {
                    Progress::Decided
                } else {
                    Progress::Undecided
                };
            }
        });
    }
}

impl Turn<'static> {
    /// A request on its own, with no earlier candidate to wait for.
    pub fn alone() -> Self {
        Turn { gate: None, index: 0 }
    }
}

impl Turn<'_> {
    /// Waits until every earlier candidate has ended without deciding. `Err(j)`: candidate `j`
    /// decided, so this candidate's logon is not needed and the password stays here.
    pub async fn wait(&self) -> Result<(), usize> {
        let Some(gate) = self.gate else { return Ok(()) };
        let mut rx = gate.progress.subscribe();
        loop {
            {
                let progress = rx.borrow_and_update();
                let earlier = &progress[..self.index.min(progress.len())];
                if let Some(j) = earlier.iter().position(|p| *p == Progress::Decided) {
                    return Err(j);
                }
                if earlier.iter().all(|p| *p == Progress::Undecided) {
                    return Ok(());
                }
            }
            // The sender lives as long as the gate, which outlives every turn.
            if rx.changed().await.is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_candidate_waits_for_every_earlier_one_and_stops_after_a_decision() {
        let gate = LogonGate::new(4);
        assert_eq!(gate.turn(0).wait().await, Ok(()), "the first never waits");
        let third = gate.turn(2);
        let waiting = tokio::time::timeout(Duration::from_millis(50), third.wait()).await;
        assert!(waiting.is_err(), "the third waits while the first two run");
        gate.finish(1, false);
        let still = tokio::time::timeout(Duration::from_millis(50), third.wait()).await;
        assert!(still.is_err(), "the first still runs");
        gate.finish(0, false);
        assert_eq!(third.wait().await, Ok(()));
        // The third decides: the fourth keeps the password, whatever the others do.
        gate.finish(2, true);
        assert_eq!(gate.turn(3).wait().await, Err(2));
        assert_eq!(Turn::alone().wait().await, Ok(()));
    }

    #[tokio::test]
    async fn a_decision_before_the_others_end_releases_the_waiters_at_once() {
        let gate = LogonGate::new(3);
        gate.finish(1, true);
        // The first still runs, but whatever it does, the third is not needed.
        assert_eq!(gate.turn(2).wait().await, Err(1));
    }
}

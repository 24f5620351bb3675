//! Figures from repeated runs.

use std::time::Duration;

/// Sorted durations of repeated runs.
pub struct Samples(Vec<Duration>);

impl Samples {
    pub fn new(mut runs: Vec<Duration>) -> Self {
        runs.sort();
        Samples(runs)
    }

    /// The value below which `percent` of the runs fall (nearest rank).
    pub fn percentile(&self, percent: usize) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = (self.0.len() * percent).div_ceil(100).max(1);
        self.0[rank.min(self.0.len()) - 1]
    }

    pub fn median(&self) -> Duration {
        self.percentile(50)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Samples::new((1..=20).rev().map(Duration::from_millis).collect());
        assert_eq!(s.median(), Duration::from_millis(10));
        assert_eq!(s.percentile(95), Duration::from_millis(19));
        assert_eq!(s.percentile(100), Duration::from_millis(20));
        assert_eq!(Samples::new(vec![]).median(), Duration::ZERO);
    }
}

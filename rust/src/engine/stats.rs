//! Counters the worker exposes as metrics (read by the Python side for Prometheus).

use std::sync::atomic::{AtomicU64, Ordering};

pub struct Stats {
    pub claimed: AtomicU64,
    pub claim_batches: AtomicU64,
    pub completed: AtomicU64,
    pub retried: AtomicU64,
    pub failed: AtomicU64,
    pub cancelled: AtomicU64,
    pub timed_out: AtomicU64,
    pub rescued: AtomicU64,
    pub released: AtomicU64,
    pub discarded_results: AtomicU64,
    pub hooks_run: AtomicU64,
    pub hooks_failed: AtomicU64,
    pub cron_fires: AtomicU64,
    pub lease_losses: AtomicU64,
    pub pruned: AtomicU64,
    pub claim_batch_size: Histogram<10>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            claimed: AtomicU64::new(0),
            claim_batches: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            rescued: AtomicU64::new(0),
            released: AtomicU64::new(0),
            discarded_results: AtomicU64::new(0),
            hooks_run: AtomicU64::new(0),
            hooks_failed: AtomicU64::new(0),
            cron_fires: AtomicU64::new(0),
            lease_losses: AtomicU64::new(0),
            pruned: AtomicU64::new(0),
            claim_batch_size: Histogram::new(&BATCH_BUCKETS),
        }
    }
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// (name, value) pairs, for export.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("claimed", read(&self.claimed)),
            ("claim_batches", read(&self.claim_batches)),
            ("completed", read(&self.completed)),
            ("retried", read(&self.retried)),
            ("failed", read(&self.failed)),
            ("cancelled", read(&self.cancelled)),
            ("timed_out", read(&self.timed_out)),
            ("rescued", read(&self.rescued)),
            ("released", read(&self.released)),
            ("discarded_results", read(&self.discarded_results)),
            ("hooks_run", read(&self.hooks_run)),
            ("hooks_failed", read(&self.hooks_failed)),
            ("cron_fires", read(&self.cron_fires)),
            ("lease_losses", read(&self.lease_losses)),
            ("pruned", read(&self.pruned)),
        ]
    }
}

/// Upper bounds (seconds) of the attempt-duration histogram buckets.
pub const DURATION_BUCKETS: [f64; 12] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0];
/// Upper bounds of the claim-batch-size histogram buckets.
pub const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

/// A histogram with fixed buckets, lock-free to record.
pub struct Histogram<const N: usize> {
    bounds: &'static [f64; N],
    /// Per bucket (not cumulative), plus the +Inf bucket at the end.
    counts: [AtomicU64; N],
    overflow: AtomicU64,
    /// Sum of observations in microseconds (or units for counts).
    sum_micros: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    #[must_use]
    pub fn new(bounds: &'static [f64; N]) -> Self {
        Self {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            overflow: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        match self.bounds.iter().position(|bound| value <= *bound) {
            Some(i) => self.counts[i].fetch_add(1, Ordering::Relaxed),
            None => self.overflow.fetch_add(1, Ordering::Relaxed),
        };
        self.sum_micros.fetch_add((value * 1e6) as u64, Ordering::Relaxed);
    }

    /// (cumulative (bound, count) pairs ending with +Inf, sum).
    #[must_use]
    pub fn snapshot(&self) -> (Vec<(f64, u64)>, f64) {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(N + 1);
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            total += count.load(Ordering::Relaxed);
            buckets.push((*bound, total));
        }
        total += self.overflow.load(Ordering::Relaxed);
        buckets.push((f64::INFINITY, total));
        (buckets, self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6)
    }
}

/// What one task name did in this worker (the decisions the worker made; a result later found
/// stale by the database still counts here).
pub struct TaskMetrics {
    pub started: AtomicU64,
    pub completed: AtomicU64,
    pub retried: AtomicU64,
    pub failed: AtomicU64,
    /// From claim to result, in seconds.
    pub duration: Histogram<12>,
}

impl Default for TaskMetrics {
    fn default() -> Self {
        Self {
            started: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            duration: Histogram::new(&DURATION_BUCKETS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new(&BATCH_BUCKETS);
        for v in [1.0, 3.0, 3.0, 2000.0] {
            h.observe(v);
        }
        let (buckets, sum) = h.snapshot();
        assert_eq!(buckets[0], (1.0, 1));
        assert_eq!(buckets[2], (5.0, 3));
        assert_eq!(buckets.last().copied(), Some((f64::INFINITY, 4)));
        assert!((sum - 2007.0).abs() < 1e-6);
    }
}

//! Counters the worker exposes as metrics (read by the Python side for Prometheus).

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
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

//! Worker settings: every default a named constant, validated once when the worker is built.

use std::time::Duration;

use crate::error::{Error, Result};

/// Executor threads (sync tasks in flight) per worker process.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Coroutines (async tasks in flight) per worker process.
pub const DEFAULT_ASYNC_CONCURRENCY: usize = 1000;
/// A worker that stops heartbeating loses its tasks after this long.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);
/// The safety-net poll when no notification arrives (LISTEN/NOTIFY is the primary wake-up).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a graceful stop lets running attempts finish before releasing them.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);
/// How long a task may run past its deadline (after `TaskTimeout` was raised into it) before the
/// worker gives its slot up and finalizes the attempt without it.
pub const DEFAULT_TIMEOUT_GRACE: Duration = Duration::from_secs(10);
pub const DEFAULT_RETENTION_COMPLETED: Duration = Duration::from_secs(24 * 3600);
pub const DEFAULT_RETENTION_FAILED: Duration = Duration::from_secs(7 * 24 * 3600);
pub const DEFAULT_MAINTENANCE_INTERVAL: Duration = Duration::from_secs(30);
/// Upper bound of one claim statement, whatever the concurrency.
pub const MAX_CLAIM_BATCH: usize = 1000;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub concurrency: usize,
    pub async_concurrency: usize,
    pub labels: Vec<String>,
    /// Claim only these task names (None: any name).
    pub task_names: Option<Vec<String>>,
    /// Task names whose executor is `async def` (claimed into coroutine slots).
    pub async_task_names: Vec<String>,
    pub lease_ttl: Duration,
    pub poll_interval: Duration,
    pub shutdown_grace: Duration,
    pub timeout_grace: Duration,
    /// None: keep forever.
    pub retention_completed: Option<Duration>,
    pub retention_failed: Option<Duration>,
    pub maintenance_interval: Duration,
    pub pool_size: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            async_concurrency: DEFAULT_ASYNC_CONCURRENCY,
            labels: Vec::new(),
            task_names: None,
            async_task_names: Vec::new(),
            lease_ttl: DEFAULT_LEASE_TTL,
            poll_interval: DEFAULT_POLL_INTERVAL,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            timeout_grace: DEFAULT_TIMEOUT_GRACE,
            retention_completed: Some(DEFAULT_RETENTION_COMPLETED),
            retention_failed: Some(DEFAULT_RETENTION_FAILED),
            maintenance_interval: DEFAULT_MAINTENANCE_INTERVAL,
            pool_size: 6,
        }
    }
}

impl WorkerConfig {
    pub fn validate(&self) -> Result<()> {
        let invalid = |message: String| Err(Error::Invalid(message));
        if self.concurrency == 0 && self.async_task_names.is_empty() {
            return invalid("concurrency must be at least 1".to_owned());
        }
        if self.concurrency > 10_000 {
            return invalid(format!(
                "concurrency {} is more threads than is sensible (max 10000)",
                self.concurrency
            ));
        }
        if !self.async_task_names.is_empty() && self.async_concurrency == 0 {
            return invalid("async_concurrency must be at least 1 when the executor has async methods".to_owned());
        }
        if self.lease_ttl < Duration::from_secs(1) {
            return invalid(format!("lease_ttl must be at least 1s, got {:?}", self.lease_ttl));
        }
        if self.poll_interval < Duration::from_millis(10) {
            return invalid(format!(
                "poll_interval must be at least 10ms, got {:?}",
                self.poll_interval
            ));
        }
        if let Some(label) = self.labels.iter().find(|l| l.is_empty()) {
            return invalid(format!("labels must be non-empty strings, got {label:?}"));
        }
        if let Some(problem) = self
            .labels
            .iter()
            .find_map(|l| crate::db::text::nul_problem("label", l))
        {
            return invalid(problem);
        }
        if self.pool_size < 3 {
            return invalid(
                "pool_size must be at least 3 (2 for the engine's housekeeping, the rest for failure hooks)".to_owned(),
            );
        }
        Ok(())
    }

    /// Heartbeats extend the lease three times per TTL, so two can be lost without losing it.
    #[must_use]
    pub fn heartbeat_interval(&self) -> Duration {
        self.lease_ttl / 3
    }

    /// Pooled connections kept for the engine's housekeeping (registration, releases, cron,
    /// retention); the other `pool_size - 2` are for failure hooks.
    pub const HOUSEKEEPING_CONNECTIONS: usize = 2;

    /// The deadline of the engine's own round trips (claims, results, rescues): a statement
    /// that takes longer is cancelled and its connection made anew. Long enough for a big batch
    /// on a busy server, short enough to notice a frozen server well within the lease.
    #[must_use]
    pub fn round_trip_timeout(&self) -> Duration {
        self.lease_ttl.clamp(Duration::from_secs(2), Duration::from_secs(10))
    }

    /// Heartbeats get a tighter deadline: one that hangs must be retried before the lease ends.
    #[must_use]
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_interval()
            .clamp(Duration::from_secs(1), Duration::from_secs(10))
    }

    #[must_use]
    pub fn rescue_interval(&self) -> Duration {
        self.lease_ttl / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        WorkerConfig::default().validate().unwrap();
    }

    #[test]
    fn rejects_nonsense() {
        let bad = [
            WorkerConfig {
                concurrency: 0,
                ..WorkerConfig::default()
            },
            WorkerConfig {
                lease_ttl: Duration::from_millis(10),
                ..WorkerConfig::default()
            },
            WorkerConfig {
                labels: vec![String::new()],
                ..WorkerConfig::default()
            },
            WorkerConfig {
                pool_size: 1,
                ..WorkerConfig::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}

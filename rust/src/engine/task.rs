//! A claimed task, what its attempt produced, and what that means for the row (SEMANTICS.md §2).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::retry::retry_index;

/// The lifecycle of one attempt inside a worker. Whoever moves it out of `RUNNING` decides how
/// the attempt ends: the executor (it returned), or the deadline watcher (it timed out).
pub mod attempt_state {
    pub const RUNNING: u8 = 0;
    /// The executor reported a result that counts.
    pub const DONE: u8 = 1;
    /// The deadline passed: `TaskTimeout` was raised into the task; whatever it returns is discarded.
    pub const TIMED_OUT: u8 = 2;
    /// Still running long after the deadline: the worker gave up its slot and finalized the attempt.
    pub const ABANDONED: u8 = 3;
}

/// Names one attempt inside this process: the key of every in-memory structure that tracks
/// attempts (running set, unrecorded results, executor threads, the asyncio bridge). Task ids
/// are not enough: after a lease loss or a release, a worker can run a new attempt of a task
/// while the old one is still winding down.
pub type AttemptKey = u64;

static NEXT_ATTEMPT_KEY: AtomicU64 = AtomicU64::new(1);

/// A fresh, process-unique attempt key (never 0, which means "none" in thread slots).
#[must_use]
pub fn next_attempt_key() -> AttemptKey {
    NEXT_ATTEMPT_KEY.fetch_add(1, Ordering::Relaxed)
}

/// One attempt handed to an executor.
#[derive(Debug, Clone)]
pub struct ClaimedTask {
    pub id: i64,
    /// The row's `claim_token` as this claim set it: bumped by every claim and never decremented,
    /// so (id, token) names this attempt in the database forever; every write about the attempt
    /// is fenced on it.
    pub token: i64,
    /// This attempt's key in the worker's in-memory structures.
    pub key: AttemptKey,
    pub name: String,
    /// JSON text of the parameters.
    pub payload: Vec<u8>,
    /// 1 on the first execution.
    pub attempt: i32,
    pub max_attempts: i32,
    pub retry_intervals_ms: Vec<i64>,
    pub labels: Arc<[String]>,
    pub deadline: DateTime<Utc>,
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    pub timeout_ms: i64,
    /// The task's lane (name, labels, priority): where a retry of it comes due.
    pub lane: i32,
    /// When this worker claimed it (for the attempt-duration metric).
    pub claimed_at: std::time::Instant,
    pub control: Arc<AttemptControl>,
}

/// Shared between the executor running an attempt and the worker's control loops.
#[derive(Debug, Default)]
pub struct AttemptControl {
    /// `ctx.cancelled`: cancel requested, deadline passed or lease lost.
    pub cancelled: Arc<AtomicBool>,
    pub state: AtomicU8,
}

impl AttemptControl {
    /// The executor finished: true when its result counts (else the deadline won).
    pub fn finish(&self) -> Finish {
        match self.state.compare_exchange(
            attempt_state::RUNNING,
            attempt_state::DONE,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Finish::Counts,
            Err(attempt_state::TIMED_OUT) => {
                // The deadline fired first: the attempt fails as timed out, whatever it returned.
                if self
                    .state
                    .compare_exchange(
                        attempt_state::TIMED_OUT,
                        attempt_state::DONE,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    )
                    .is_ok()
                {
                    Finish::TimedOut
                } else {
                    Finish::Abandoned
                }
            }
            Err(_) => Finish::Abandoned,
        }
    }

    /// The deadline passed: true if the attempt was still running (and is now timed out).
    pub fn time_out(&self) -> bool {
        self.cancelled.store(true, Ordering::Release);
        self.state
            .compare_exchange(
                attempt_state::RUNNING,
                attempt_state::TIMED_OUT,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// The grace period after the deadline ended too: true if the worker now gives up the attempt.
    pub fn abandon(&self) -> bool {
        self.state
            .compare_exchange(
                attempt_state::TIMED_OUT,
                attempt_state::ABANDONED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// The worker handed the task back to the queue while this attempt still runs (a stop past
    /// its grace period): whatever the attempt returns is ignored.
    pub fn release(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.state.store(attempt_state::ABANDONED, Ordering::Release);
    }

    #[must_use]
    pub fn is_timed_out(&self) -> bool {
        self.state.load(Ordering::Acquire) == attempt_state::TIMED_OUT
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Counts,
    TimedOut,
    Abandoned,
}

impl ClaimedTask {
    /// A claim past `max_attempts` happens only after a rescued final attempt: fail it unrun.
    #[must_use]
    pub fn attempts_exhausted_at_claim(&self) -> bool {
        self.max_attempts >= 0 && self.attempt > self.max_attempts
    }

    #[must_use]
    pub fn has_attempts_left(&self) -> bool {
        self.max_attempts < 0 || self.attempt < self.max_attempts
    }
}

/// How an attempt failed, as classified from the exception it raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Any exception: retry per the policy.
    Error,
    /// `FatalTaskError`: fail now.
    Fatal,
    /// `RetryWithoutErrorEvent`: retry, no TaskError event (unless attempts are exhausted).
    Silent,
    /// The deadline passed (`TaskTimeout`).
    Timeout,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub traceback: Option<String>,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            traceback: None,
        }
    }
}

/// What becomes of the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Complete,
    /// Back to pending after `delay`; `error_event`: write a TaskError event.
    Retry {
        delay: Duration,
        error_event: bool,
    },
    /// Permanently failed; `error_event`: also write a TaskError event (attempts exhausted).
    Fail {
        error_event: bool,
    },
}

/// The SEMANTICS.md §2 table.
#[must_use]
pub fn decide(task: &ClaimedTask, failure: Option<&Failure>) -> Decision {
    let Some(failure) = failure else {
        return Decision::Complete;
    };
    if failure.kind == FailureKind::Fatal {
        return Decision::Fail { error_event: false };
    }
    if task.attempts_exhausted_at_claim() || !task.has_attempts_left() {
        return Decision::Fail {
            error_event: !task.attempts_exhausted_at_claim(),
        };
    }
    let retry_number = NonZeroU32::new(u32::try_from(task.attempt).unwrap_or(1)).unwrap_or(NonZeroU32::MIN);
    Decision::Retry {
        delay: retry_delay(&task.retry_intervals_ms, retry_number),
        error_event: failure.kind != FailureKind::Silent,
    }
}

/// The delay before retry `retry_number` from a row's stored schedule (the retry module's rule:
/// the k-th interval, the last one repeating). A row without intervals retries at once.
#[must_use]
pub fn retry_delay(intervals_ms: &[i64], retry_number: NonZeroU32) -> Duration {
    retry_index(intervals_ms.len(), retry_number)
        .map_or(Duration::ZERO, |i| Duration::from_millis(intervals_ms[i].max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(attempt: i32, max_attempts: i32) -> ClaimedTask {
        ClaimedTask {
            id: 1,
            token: 1,
            key: next_attempt_key(),
            name: "t".into(),
            payload: b"{}".to_vec(),
            attempt,
            max_attempts,
            retry_intervals_ms: vec![1000, 2000, 4000],
            labels: Arc::from(Vec::new()),
            deadline: Utc::now(),
            priority: 0,
            run_at: Utc::now(),
            timeout_ms: 1000,
            lane: 1,
            claimed_at: std::time::Instant::now(),
            control: Arc::default(),
        }
    }

    fn failure(kind: FailureKind) -> Failure {
        Failure::new(kind, "boom")
    }

    #[test]
    fn success_completes() {
        assert_eq!(decide(&task(1, 1), None), Decision::Complete);
    }

    #[test]
    fn errors_retry_with_the_schedule_then_fail() {
        let retry = |attempt| decide(&task(attempt, 5), Some(&failure(FailureKind::Error)));
        assert_eq!(
            retry(1),
            Decision::Retry {
                delay: Duration::from_secs(1),
                error_event: true
            }
        );
        assert_eq!(
            retry(2),
            Decision::Retry {
                delay: Duration::from_secs(2),
                error_event: true
            }
        );
        assert_eq!(
            retry(4),
            Decision::Retry {
                delay: Duration::from_secs(4),
                error_event: true
            }
        );
        assert_eq!(retry(5), Decision::Fail { error_event: true });
    }

    #[test]
    fn unlimited_attempts_never_exhaust() {
        assert!(matches!(
            decide(&task(1000, -1), Some(&failure(FailureKind::Error))),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn fatal_fails_at_once_without_error_event() {
        assert_eq!(
            decide(&task(1, 5), Some(&failure(FailureKind::Fatal))),
            Decision::Fail { error_event: false }
        );
    }

    #[test]
    fn silent_retries_without_event_until_exhausted() {
        assert_eq!(
            decide(&task(1, 2), Some(&failure(FailureKind::Silent))),
            Decision::Retry {
                delay: Duration::from_secs(1),
                error_event: false
            }
        );
        assert_eq!(
            decide(&task(2, 2), Some(&failure(FailureKind::Silent))),
            Decision::Fail { error_event: true }
        );
    }

    #[test]
    fn claim_past_the_limit_fails_unrun() {
        let t = task(4, 3);
        assert!(t.attempts_exhausted_at_claim());
        assert_eq!(
            decide(&t, Some(&failure(FailureKind::Error))),
            Decision::Fail { error_event: false }
        );
    }

    #[test]
    fn deadline_and_executor_race_is_decided_once() {
        let control = AttemptControl::default();
        assert!(control.time_out());
        assert!(control.cancelled.load(Ordering::Acquire));
        assert_eq!(control.finish(), Finish::TimedOut);
        let control = AttemptControl::default();
        assert_eq!(control.finish(), Finish::Counts);
        assert!(!control.time_out());
        let control = AttemptControl::default();
        assert!(control.time_out());
        assert!(control.abandon());
        assert_eq!(control.finish(), Finish::Abandoned);
    }
}

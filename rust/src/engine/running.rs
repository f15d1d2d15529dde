//! The attempts running in this worker (keyed by `AttemptKey`: one task can have an old attempt
//! winding down beside a new one), with their deadlines in a timer heap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::engine::slots::SlotKind;
use crate::engine::task::{AttemptKey, ClaimedTask};
use crate::schedule::TimerHeap;

#[derive(Debug, Clone)]
pub struct RunningAttempt {
    pub kind: SlotKind,
    pub task: Arc<ClaimedTask>,
}

#[derive(Default)]
struct Inner {
    attempts: HashMap<AttemptKey, RunningAttempt>,
    deadlines: TimerHeap<AttemptKey, DateTime<Utc>>,
}

#[derive(Default)]
pub struct Running {
    inner: Mutex<Inner>,
    /// Signalled when a deadline earlier than the current earliest is added.
    pub deadline_changed: Notify,
    /// Signalled when the last running attempt finishes (a stop waits for that).
    pub drained: Notify,
}

impl Running {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn insert(&self, attempt: RunningAttempt) {
        let mut inner = self.lock();
        let key = attempt.task.key;
        let deadline = attempt.task.deadline;
        let earlier = inner.deadlines.peek().is_none_or(|(_, due)| deadline < due);
        inner.deadlines.insert(key, deadline);
        inner.attempts.insert(key, attempt);
        drop(inner);
        if earlier {
            self.deadline_changed.notify_one();
        }
    }

    pub fn remove(&self, key: AttemptKey) -> Option<RunningAttempt> {
        let mut inner = self.lock();
        inner.deadlines.remove(&key);
        let removed = inner.attempts.remove(&key);
        let empty = inner.attempts.is_empty();
        drop(inner);
        if empty {
            self.drained.notify_waiters();
        }
        removed
    }

    #[must_use]
    pub fn get(&self, key: AttemptKey) -> Option<RunningAttempt> {
        self.lock().attempts.get(&key).cloned()
    }

    /// Every attempt of task `task_id` running here (usually none or one).
    #[must_use]
    pub fn of_task(&self, task_id: i64) -> Vec<RunningAttempt> {
        self.lock()
            .attempts
            .values()
            .filter(|a| a.task.id == task_id)
            .cloned()
            .collect()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().attempts.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every running attempt.
    #[must_use]
    pub fn snapshot(&self) -> Vec<RunningAttempt> {
        self.lock().attempts.values().cloned().collect()
    }

    #[must_use]
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.lock().deadlines.peek().map(|(_, due)| due)
    }

    /// Remove from the deadline heap (not from the running set) every attempt due by `now`.
    pub fn pop_due_deadlines(&self, now: DateTime<Utc>) -> Vec<RunningAttempt> {
        let mut inner = self.lock();
        let due: Vec<AttemptKey> = inner.deadlines.pop_due(now).map(|(key, _)| key).collect();
        due.into_iter()
            .filter_map(|key| inner.attempts.get(&key).cloned())
            .collect()
    }
}

//! The attempts running in this worker, with their deadlines in a timer heap.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::engine::slots::SlotKind;
use crate::engine::task::ClaimedTask;
use crate::schedule::TimerHeap;

#[derive(Debug, Clone)]
pub struct RunningAttempt {
    pub kind: SlotKind,
    pub task: Arc<ClaimedTask>,
}

#[derive(Default)]
struct Inner {
    attempts: HashMap<i64, RunningAttempt>,
    deadlines: TimerHeap<i64, DateTime<Utc>>,
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

    pub fn insert(&self, task_id: i64, attempt: RunningAttempt) {
        let mut inner = self.lock();
        let deadline = attempt.task.deadline;
        let earlier = inner.deadlines.peek().is_none_or(|(_, due)| deadline < due);
        inner.deadlines.insert(task_id, deadline);
        inner.attempts.insert(task_id, attempt);
        drop(inner);
        if earlier {
            self.deadline_changed.notify_one();
        }
    }

    pub fn remove(&self, task_id: i64) -> Option<RunningAttempt> {
        let mut inner = self.lock();
        inner.deadlines.remove(&task_id);
        let removed = inner.attempts.remove(&task_id);
        let empty = inner.attempts.is_empty();
        drop(inner);
        if empty {
            self.drained.notify_waiters();
        }
        removed
    }

    #[must_use]
    pub fn get(&self, task_id: i64) -> Option<RunningAttempt> {
        self.lock().attempts.get(&task_id).cloned()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().attempts.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every running attempt (id, attempt).
    #[must_use]
    pub fn snapshot(&self) -> Vec<(i64, RunningAttempt)> {
        self.lock().attempts.iter().map(|(id, a)| (*id, a.clone())).collect()
    }

    #[must_use]
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.lock().deadlines.peek().map(|(_, due)| due)
    }

    /// Remove from the deadline heap (not from the running set) every attempt due by `now`.
    pub fn pop_due_deadlines(&self, now: DateTime<Utc>) -> Vec<(i64, RunningAttempt)> {
        let mut inner = self.lock();
        let due: Vec<i64> = inner.deadlines.pop_due(now).map(|(id, _)| id).collect();
        due.into_iter()
            .filter_map(|id| inner.attempts.get(&id).map(|a| (id, a.clone())))
            .collect()
    }
}

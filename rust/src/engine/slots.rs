//! Free executor capacity: threads for sync tasks, coroutine slots for async ones. Only the claim
//! loop takes slots (after a claim), executors give them back, so a claim never over-commits.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotKind {
    Sync,
    Async,
}

pub struct Slots {
    sync_total: usize,
    async_total: usize,
    sync_idle: AtomicUsize,
    async_idle: AtomicUsize,
    pub freed: Notify,
}

impl Slots {
    #[must_use]
    pub fn new(sync_total: usize, async_total: usize) -> Self {
        Self {
            sync_total,
            async_total,
            sync_idle: AtomicUsize::new(sync_total),
            async_idle: AtomicUsize::new(async_total),
            freed: Notify::new(),
        }
    }

    fn counter(&self, kind: SlotKind) -> &AtomicUsize {
        match kind {
            SlotKind::Sync => &self.sync_idle,
            SlotKind::Async => &self.async_idle,
        }
    }

    #[must_use]
    pub fn total(&self, kind: SlotKind) -> usize {
        match kind {
            SlotKind::Sync => self.sync_total,
            SlotKind::Async => self.async_total,
        }
    }

    #[must_use]
    pub fn idle(&self, kind: SlotKind) -> usize {
        self.counter(kind).load(Ordering::Acquire)
    }

    #[must_use]
    pub fn busy(&self) -> usize {
        (self.sync_total - self.idle(SlotKind::Sync)) + (self.async_total - self.idle(SlotKind::Async))
    }

    /// Called by the claim loop for the attempts it just started.
    pub fn take(&self, kind: SlotKind, n: usize) {
        self.counter(kind).fetch_sub(n, Ordering::AcqRel);
    }

    pub fn release(&self, kind: SlotKind) {
        self.counter(kind).fetch_add(1, Ordering::AcqRel);
        self.freed.notify_one();
    }
}

//! What the claim loop knows about lanes: which ones this worker can serve, which may have work
//! due now, and when the others next will. Pure bookkeeping, driven by notifications, claim
//! results and next-due answers; the claim loop (`claim.rs`) does the I/O.
//!
//! A lane is (task name, label set, priority): the unit of routing (docs/architecture.md, "Lanes").
//! A claim names the lanes it takes from, in preference order: higher priority first, and within
//! one priority a rotation that moves on every claim, so lanes of equal priority take turns being
//! drained first.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::engine::SlotKind;
use crate::schedule::TimerHeap;

pub type LaneId = i32;

/// A lane as stored in `anclax.lanes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneRow {
    pub id: LaneId,
    pub name: String,
    pub labels: Vec<String>,
    pub priority: i32,
}

/// Which lanes a worker serves: all of a lane's labels must be among the worker's, and its task
/// name among the names the worker serves (`None`: any name; names without a method are claimed
/// and failed clearly, SEMANTICS §2). Names with `async def` methods go to coroutine slots.
#[derive(Debug, Clone)]
pub struct Served {
    pub labels: Vec<String>,
    pub names: Option<Vec<String>>,
    pub async_names: Vec<String>,
}

impl Served {
    #[must_use]
    pub fn kind_of(&self, lane: &LaneRow) -> Option<SlotKind> {
        if !lane.labels.iter().all(|l| self.labels.contains(l)) {
            return None;
        }
        if self.async_names.contains(&lane.name) {
            return Some(SlotKind::Async);
        }
        match &self.names {
            Some(names) if !names.contains(&lane.name) => None,
            _ => Some(SlotKind::Sync),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Lane {
    kind: SlotKind,
    priority: i32,
}

/// Timers are per lane; a legacy notification (a due time without a lane) schedules every lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TimerKey {
    Lane(LaneId),
    Every,
}

#[derive(Debug, Default)]
pub struct LaneBook {
    /// Lanes this worker serves.
    served: HashMap<LaneId, Lane>,
    /// Every lane id in `anclax.lanes` as of the last refresh (served or not).
    seen: HashSet<LaneId>,
    /// Served lanes that may have work due now.
    ready: HashSet<LaneId>,
    /// Served lanes whose next due time is known (a timer, or known to have no later task), so a
    /// drained lane need not be asked again until something new happens in it.
    future_known: HashSet<LaneId>,
    timers: TimerHeap<TimerKey, DateTime<Utc>>,
    /// A notification named a lane this worker has not seen: reload `anclax.lanes`.
    refresh_needed: bool,
    turn: usize,
}

impl LaneBook {
    #[must_use]
    pub fn new() -> Self {
        Self {
            refresh_needed: true,
            ..Self::default()
        }
    }

    #[must_use]
    pub fn refresh_needed(&self) -> bool {
        self.refresh_needed
    }

    pub fn request_refresh(&mut self) {
        self.refresh_needed = true;
    }

    /// Replace what is known of `anclax.lanes`. Lanes served for the first time may already hold
    /// work: they are ready.
    pub fn set_lanes(&mut self, rows: &[LaneRow], served: &Served) {
        self.refresh_needed = false;
        self.seen = rows.iter().map(|r| r.id).collect();
        let mut lanes = HashMap::new();
        for row in rows {
            if let Some(kind) = served.kind_of(row) {
                lanes.insert(
                    row.id,
                    Lane {
                        kind,
                        priority: row.priority,
                    },
                );
                if !self.served.contains_key(&row.id) {
                    self.ready.insert(row.id);
                }
            }
        }
        self.served = lanes;
        self.ready.retain(|id| self.served.contains_key(id));
        self.future_known.retain(|id| self.served.contains_key(id));
    }

    #[must_use]
    pub fn served_count(&self) -> usize {
        self.served.len()
    }

    /// Anything may be due (a poll, a reconnect, a release or rescue).
    pub fn wake_all(&mut self) {
        self.ready.extend(self.served.keys().copied());
    }

    /// As `wake_all`, and forget what was known of later work (it may have changed unseen).
    pub fn invalidate_all(&mut self) {
        self.wake_all();
        self.future_known.clear();
    }

    /// Work arrived in `lane`, due now.
    pub fn wake(&mut self, lane: LaneId) {
        if self.served.contains_key(&lane) {
            self.ready.insert(lane);
        } else if !self.seen.contains(&lane) {
            self.refresh_needed = true;
        }
    }

    /// Work in `lane` comes due at `at`.
    pub fn wake_at(&mut self, lane: LaneId, at: DateTime<Utc>) {
        if self.served.contains_key(&lane) {
            self.schedule(TimerKey::Lane(lane), at);
        } else if !self.seen.contains(&lane) {
            self.refresh_needed = true;
        }
    }

    /// Some lane's work comes due at `at` (a notification that did not say which).
    pub fn wake_all_at(&mut self, at: DateTime<Utc>) {
        self.schedule(TimerKey::Every, at);
    }

    fn schedule(&mut self, key: TimerKey, at: DateTime<Utc>) {
        if self.timers.due(&key).is_none_or(|due| at < due) {
            self.timers.insert(key, at);
        }
    }

    /// The earliest timer.
    #[must_use]
    pub fn next_timer(&self) -> Option<DateTime<Utc>> {
        self.timers.peek().map(|(_, at)| at)
    }

    /// Make the lanes whose timers are due by `now` ready.
    pub fn pop_due(&mut self, now: DateTime<Utc>) {
        let due: Vec<TimerKey> = self.timers.pop_due(now).map(|(key, _)| key).collect();
        for key in due {
            match key {
                TimerKey::Lane(lane) => {
                    if self.served.contains_key(&lane) {
                        self.ready.insert(lane);
                        // Its next task after this one is not known.
                        self.future_known.remove(&lane);
                    }
                }
                TimerKey::Every => self.invalidate_all(),
            }
        }
    }

    #[must_use]
    pub fn has_ready(&self, kind: SlotKind) -> bool {
        self.ready.iter().any(|id| self.served[id].kind == kind)
    }

    /// The ready lanes of `kind` in claim order: priority descending; within a priority, lane id
    /// order rotated by a turn that advances with each call.
    pub fn claim_order(&mut self, kind: SlotKind) -> Vec<LaneId> {
        let mut lanes: Vec<(i32, LaneId)> = self
            .ready
            .iter()
            .filter(|id| self.served[*id].kind == kind)
            .map(|id| (self.served[id].priority, *id))
            .collect();
        lanes.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let turn = self.turn;
        self.turn = self.turn.wrapping_add(1);
        let mut order = Vec::with_capacity(lanes.len());
        for group in lanes.chunk_by(|a, b| a.0 == b.0) {
            let start = turn % group.len();
            order.extend(group[start..].iter().chain(&group[..start]).map(|(_, id)| *id));
        }
        order
    }

    /// Of these lanes, the ones whose next not-yet-due task is not known.
    pub fn future_unknown<'a>(&self, lanes: impl IntoIterator<Item = &'a LaneId>) -> Vec<LaneId> {
        lanes
            .into_iter()
            .filter(|lane| !self.future_known.contains(*lane))
            .copied()
            .collect()
    }

    /// A claim asked `order` for `wanted` tasks and got `got(lane)` from each. A claim takes from
    /// its lanes in order until it has enough, so every lane before the one that completed the
    /// batch — all of them, when the batch came back short — has nothing left due now: those are
    /// no longer ready. Returns the ones whose next due time is still unknown.
    pub fn claimed(&mut self, order: &[LaneId], wanted: usize, got: impl Fn(LaneId) -> usize) -> Vec<LaneId> {
        let mut taken = 0;
        let mut drained = Vec::new();
        for &lane in order {
            taken += got(lane);
            if taken >= wanted {
                break;
            }
            self.ready.remove(&lane);
            if !self.future_known.contains(&lane) {
                drained.push(lane);
            }
        }
        drained
    }

    /// The answer to a next-due question: `Some(at)` sets the lane's timer, `None` means nothing
    /// later is pending in it. Either way it stays known until new work arrives in the lane.
    pub fn next_due(&mut self, lane: LaneId, at: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        if !self.served.contains_key(&lane) {
            return;
        }
        self.future_known.insert(lane);
        if let Some(at) = at {
            if at <= now {
                self.ready.insert(lane);
            } else {
                self.schedule(TimerKey::Lane(lane), at);
            }
        }
    }

    /// New work arrived in a lane: what was known about its later work may be stale.
    pub fn forget_future(&mut self, lane: LaneId) {
        self.future_known.remove(&lane);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: LaneId, name: &str, labels: &[&str], priority: i32) -> LaneRow {
        LaneRow {
            id,
            name: name.to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            priority,
        }
    }

    fn served(labels: &[&str], names: Option<&[&str]>, async_names: &[&str]) -> Served {
        let strings = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        Served {
            labels: strings(labels),
            names: names.map(strings),
            async_names: strings(async_names),
        }
    }

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000 + ms).unwrap()
    }

    #[test]
    fn serves_lanes_by_labels_and_names_and_splits_async() {
        let s = served(&["gpu"], Some(&["A", "B"]), &["B"]);
        assert_eq!(s.kind_of(&row(1, "A", &[], 0)), Some(SlotKind::Sync));
        assert_eq!(s.kind_of(&row(2, "A", &["gpu"], 0)), Some(SlotKind::Sync));
        assert_eq!(s.kind_of(&row(3, "A", &["gpu", "eu"], 0)), None);
        assert_eq!(s.kind_of(&row(4, "B", &[], 0)), Some(SlotKind::Async));
        assert_eq!(s.kind_of(&row(5, "C", &[], 0)), None);
        // Serving any name: names without a method are claimed (and failed clearly).
        let any = served(&[], None, &["B"]);
        assert_eq!(any.kind_of(&row(5, "C", &[], 0)), Some(SlotKind::Sync));
        assert_eq!(any.kind_of(&row(6, "C", &["gpu"], 0)), None);
    }

    #[test]
    fn claim_order_is_priority_first_then_rotates_within_a_priority() {
        let mut book = LaneBook::new();
        let rows = [
            row(1, "A", &[], 0),
            row(2, "B", &[], 0),
            row(3, "C", &[], 5),
            row(4, "D", &[], 0),
        ];
        book.set_lanes(&rows, &served(&[], None, &[]));
        assert_eq!(book.claim_order(SlotKind::Sync), vec![3, 1, 2, 4]);
        assert_eq!(book.claim_order(SlotKind::Sync), vec![3, 2, 4, 1]);
        assert_eq!(book.claim_order(SlotKind::Sync), vec![3, 4, 1, 2]);
        assert!(book.claim_order(SlotKind::Async).is_empty());
    }

    #[test]
    fn a_short_claim_drains_every_lane_it_named() {
        let mut book = LaneBook::new();
        book.set_lanes(&[row(1, "A", &[], 0), row(2, "B", &[], 0)], &served(&[], None, &[]));
        let order = book.claim_order(SlotKind::Sync);
        let drained = book.claimed(&order, 10, |lane| if lane == 1 { 3 } else { 0 });
        assert_eq!(drained.len(), 2);
        assert!(!book.has_ready(SlotKind::Sync));
    }

    #[test]
    fn a_full_claim_keeps_the_lane_that_filled_it_and_those_after() {
        let mut book = LaneBook::new();
        book.set_lanes(
            &[row(1, "A", &[], 9), row(2, "B", &[], 5), row(3, "C", &[], 1)],
            &served(&[], None, &[]),
        );
        let order = book.claim_order(SlotKind::Sync);
        assert_eq!(order, vec![1, 2, 3]);
        let drained = book.claimed(&order, 10, |lane| if lane == 1 { 4 } else { 6 });
        assert_eq!(drained, vec![1]);
        assert_eq!(book.claim_order(SlotKind::Sync), vec![2, 3]);
    }

    #[test]
    fn drained_lanes_with_known_futures_are_not_asked_again() {
        let mut book = LaneBook::new();
        book.set_lanes(&[row(1, "A", &[], 0)], &served(&[], None, &[]));
        let order = book.claim_order(SlotKind::Sync);
        assert_eq!(book.claimed(&order, 4, |_| 0), vec![1]);
        book.next_due(1, None, at(0));
        book.wake_all();
        let order = book.claim_order(SlotKind::Sync);
        assert_eq!(book.claimed(&order, 4, |_| 0), Vec::<LaneId>::new());
        // New work in the lane: its future is unknown again.
        book.wake(1);
        book.forget_future(1);
        let order = book.claim_order(SlotKind::Sync);
        assert_eq!(book.claimed(&order, 4, |_| 0), vec![1]);
    }

    #[test]
    fn a_drained_lane_whose_next_task_is_due_by_now_stays_ready() {
        // The claim ran a moment before the task came due by the database's clock (the timer
        // fired on the local estimate): it took nothing, and learnt the task is due "later".
        let mut book = LaneBook::new();
        book.set_lanes(&[row(1, "A", &[], 0)], &served(&[], None, &[]));
        let order = book.claim_order(SlotKind::Sync);
        book.claimed(&order, 4, |_| 0);
        book.next_due(1, Some(at(5)), at(6));
        assert_eq!(book.claim_order(SlotKind::Sync), vec![1]);
    }

    #[test]
    fn timers_make_lanes_ready_when_due() {
        let mut book = LaneBook::new();
        book.set_lanes(&[row(1, "A", &[], 0), row(2, "B", &[], 0)], &served(&[], None, &[]));
        let order = book.claim_order(SlotKind::Sync);
        book.claimed(&order, 4, |_| 0);
        book.next_due(1, Some(at(500)), at(0));
        book.wake_at(2, at(300));
        book.wake_at(2, at(900)); // a later time does not postpone the earlier one
        assert_eq!(book.next_timer(), Some(at(300)));
        book.pop_due(at(300));
        assert_eq!(book.claim_order(SlotKind::Sync), vec![2]);
        book.pop_due(at(500));
        assert_eq!(book.claim_order(SlotKind::Sync).len(), 2);
        assert_eq!(book.next_timer(), None);
    }

    #[test]
    fn unknown_lanes_ask_for_a_refresh_and_new_lanes_start_ready() {
        let mut book = LaneBook::new();
        let s = served(&[], None, &[]);
        book.set_lanes(&[row(1, "A", &[], 0)], &s);
        let order = book.claim_order(SlotKind::Sync);
        book.claimed(&order, 4, |_| 0);
        assert!(!book.refresh_needed());
        book.wake(7);
        assert!(book.refresh_needed());
        book.set_lanes(
            &[row(1, "A", &[], 0), row(7, "B", &["gpu"], 0), row(8, "C", &[], 0)],
            &s,
        );
        assert!(!book.refresh_needed());
        // Lane 7 is not served (gpu), lane 8 is new: ready. Lane 1 stays drained.
        assert_eq!(book.claim_order(SlotKind::Sync), vec![8]);
        // A lane seen but not served never asks for another refresh.
        book.wake(7);
        assert!(!book.refresh_needed());
    }

    #[test]
    fn a_timer_without_a_lane_wakes_every_lane() {
        let mut book = LaneBook::new();
        book.set_lanes(&[row(1, "A", &[], 0), row(2, "B", &[], 0)], &served(&[], None, &[]));
        let order = book.claim_order(SlotKind::Sync);
        book.claimed(&order, 4, |_| 0);
        book.wake_all_at(at(100));
        book.pop_due(at(100));
        assert_eq!(book.claim_order(SlotKind::Sync).len(), 2);
    }
}

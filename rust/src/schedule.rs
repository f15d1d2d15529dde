//! `TimerHeap`: keyed timers (delayed tasks, retries, cron fires) ordered by due time.
//!
//! An indexed binary min-heap. Each key gets a handle (a slot in `handles`, reused once freed)
//! recording where its entry sits in the heap, so the heap can move entries without hashing keys,
//! and the one `HashMap` lookup of an operation finds a key's entry directly. Chosen over
//! `BinaryHeap` with lazy deletion because the scheduler reschedules and cancels often (every
//! cron fire, every cancel): memory stays at one entry per key, `peek` is always exact (no stale
//! tops to skip), and every operation is O(log n) with no garbage to collect.
//!
//! Equal due times come out in the order they were (last) scheduled.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug, Clone)]
struct Entry<T> {
    due: T,
    /// Scheduling order, the tie-breaker between equal due times.
    seq: u64,
    handle: usize,
}

impl<T: Ord> Entry<T> {
    fn before(&self, other: &Self) -> bool {
        (&self.due, self.seq) < (&other.due, other.seq)
    }
}

#[derive(Debug, Clone)]
struct Handle<K> {
    /// `None` while the handle is free.
    key: Option<K>,
    /// Where the key's entry is in `heap`.
    slot: usize,
}

#[derive(Debug, Clone)]
pub struct TimerHeap<K, T> {
    heap: Vec<Entry<T>>,
    handles: Vec<Handle<K>>,
    free: Vec<usize>,
    by_key: HashMap<K, usize>,
    next_seq: u64,
}

impl<K, T> Default for TimerHeap<K, T> {
    fn default() -> Self {
        Self {
            heap: Vec::new(),
            handles: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<K: Eq + Hash + Clone, T: Ord + Copy> TimerHeap<K, T> {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.by_key.contains_key(key)
    }

    /// When `key` is due, if it is scheduled.
    pub fn due<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<T>
    where
        K: Borrow<Q>,
    {
        let &handle = self.by_key.get(key)?;
        Some(self.heap[self.handles[handle].slot].due)
    }

    /// Schedules `key` at `due`, replacing its previous due time; returns that previous time.
    pub fn insert(&mut self, key: K, due: T) -> Option<T> {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(&handle) = self.by_key.get(&key) {
            let slot = self.handles[handle].slot;
            let entry = &mut self.heap[slot];
            let previous = std::mem::replace(&mut entry.due, due);
            entry.seq = seq;
            self.restore(slot);
            return Some(previous);
        }
        let slot = self.heap.len();
        let handle = Handle {
            key: Some(key.clone()),
            slot,
        };
        let handle = if let Some(free) = self.free.pop() {
            self.handles[free] = handle;
            free
        } else {
            self.handles.push(handle);
            self.handles.len() - 1
        };
        self.by_key.insert(key, handle);
        self.heap.push(Entry { due, seq, handle });
        self.sift_up(slot);
        None
    }

    /// Unschedules `key`; returns when it was due.
    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<T>
    where
        K: Borrow<Q>,
    {
        let handle = self.by_key.remove(key)?;
        let entry = self.take(self.handles[handle].slot);
        self.release(handle);
        Some(entry.due)
    }

    /// The earliest key and its due time.
    #[must_use]
    pub fn peek(&self) -> Option<(&K, T)> {
        let entry = self.heap.first()?;
        Some((self.handles[entry.handle].key.as_ref()?, entry.due))
    }

    /// Removes and returns the earliest key and its due time.
    pub fn pop(&mut self) -> Option<(K, T)> {
        if self.heap.is_empty() {
            return None;
        }
        let entry = self.take(0);
        let key = self.release(entry.handle)?;
        self.by_key.remove(&key);
        Some((key, entry.due))
    }

    /// Removes and yields, earliest first, every key due at or before `now`. Keys are removed as
    /// they are yielded: dropping the iterator early leaves the rest scheduled.
    pub fn pop_due(&mut self, now: T) -> PopDue<'_, K, T> {
        PopDue { heap: self, now }
    }

    pub fn clear(&mut self) {
        self.heap.clear();
        self.handles.clear();
        self.free.clear();
        self.by_key.clear();
    }

    /// Frees a handle for reuse and returns the key it held.
    fn release(&mut self, handle: usize) -> Option<K> {
        self.free.push(handle);
        self.handles[handle].key.take()
    }

    /// Removes the entry at `slot`, filling the hole with the last entry.
    fn take(&mut self, slot: usize) -> Entry<T> {
        let entry = self.heap.swap_remove(slot);
        if slot < self.heap.len() {
            self.handles[self.heap[slot].handle].slot = slot;
            self.restore(slot);
        }
        entry
    }

    /// Moves the entry at `slot` up or down until the heap order holds again.
    fn restore(&mut self, slot: usize) {
        if slot > 0 && self.heap[slot].before(&self.heap[(slot - 1) / 2]) {
            self.sift_up(slot);
        } else {
            self.sift_down(slot);
        }
    }

    fn sift_up(&mut self, mut slot: usize) {
        while slot > 0 {
            let parent = (slot - 1) / 2;
            if !self.heap[slot].before(&self.heap[parent]) {
                break;
            }
            self.swap(slot, parent);
            slot = parent;
        }
    }

    fn sift_down(&mut self, mut slot: usize) {
        loop {
            let (left, right) = (2 * slot + 1, 2 * slot + 2);
            let mut smallest = slot;
            if left < self.heap.len() && self.heap[left].before(&self.heap[smallest]) {
                smallest = left;
            }
            if right < self.heap.len() && self.heap[right].before(&self.heap[smallest]) {
                smallest = right;
            }
            if smallest == slot {
                break;
            }
            self.swap(slot, smallest);
            slot = smallest;
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.handles[self.heap[a].handle].slot = a;
        self.handles[self.heap[b].handle].slot = b;
    }
}

/// See [`TimerHeap::pop_due`].
#[derive(Debug)]
pub struct PopDue<'a, K, T> {
    heap: &'a mut TimerHeap<K, T>,
    now: T,
}

impl<K: Eq + Hash + Clone, T: Ord + Copy> Iterator for PopDue<'_, K, T> {
    type Item = (K, T);

    fn next(&mut self) -> Option<(K, T)> {
        if self.heap.peek()?.1 > self.now {
            return None;
        }
        self.heap.pop()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn pops_in_due_order_with_fifo_ties() {
        let mut heap = TimerHeap::new();
        for (key, due) in [("c", 3), ("a", 1), ("b2", 2), ("b1", 2), ("d", 4)] {
            assert_eq!(heap.insert(key, due), None);
        }
        assert_eq!(heap.len(), 5);
        assert_eq!(heap.peek(), Some((&"a", 1)));
        let due: Vec<_> = heap.pop_due(3).collect();
        assert_eq!(due, [("a", 1), ("b2", 2), ("b1", 2), ("c", 3)]);
        assert_eq!(heap.pop_due(3).next(), None);
        assert_eq!(heap.pop(), Some(("d", 4)));
        assert!(heap.is_empty());
        assert_eq!(heap.pop(), None);
        assert_eq!(heap.peek(), None);
    }

    #[test]
    fn insert_updates_an_existing_key() {
        let mut heap = TimerHeap::new();
        heap.insert("a".to_owned(), 10);
        heap.insert("b".to_owned(), 20);
        assert_eq!(heap.insert("b".to_owned(), 5), Some(20));
        assert_eq!(heap.len(), 2);
        assert_eq!(heap.due("b"), Some(5));
        assert_eq!(heap.peek(), Some((&"b".to_owned(), 5)));
        assert_eq!(heap.insert("b".to_owned(), 30), Some(5));
        assert_eq!(heap.peek(), Some((&"a".to_owned(), 10)));
    }

    #[test]
    fn remove_by_borrowed_key() {
        let mut heap = TimerHeap::new();
        heap.insert("a".to_owned(), 1);
        heap.insert("b".to_owned(), 2);
        assert!(heap.contains("a"));
        assert_eq!(heap.remove("a"), Some(1));
        assert_eq!(heap.remove("a"), None);
        assert!(!heap.contains("a"));
        assert_eq!(heap.peek(), Some((&"b".to_owned(), 2)));
        heap.clear();
        assert!(heap.is_empty() && !heap.contains("b"));
    }

    #[test]
    fn handles_are_reused() {
        let mut heap = TimerHeap::new();
        for round in 0..100 {
            heap.insert(round, round);
            heap.insert(round + 1000, round);
            assert_eq!(heap.pop(), Some((round, round)));
            assert_eq!(heap.remove(&(round + 1000)), Some(round));
        }
        assert!(heap.is_empty());
        assert!(
            heap.handles.len() <= 2,
            "{} handles for at most 2 live keys",
            heap.handles.len()
        );
    }

    #[test]
    fn pop_due_stops_early_when_dropped() {
        let mut heap: TimerHeap<u32, u32> = (0..10).fold(TimerHeap::new(), |mut h, k| {
            h.insert(k, k);
            h
        });
        assert_eq!(heap.pop_due(100).take(3).count(), 3);
        assert_eq!(heap.len(), 7);
        assert_eq!(heap.peek(), Some((&3, 3)));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        Pop,
        PopDue(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..32u8, 0..200u16).prop_map(|(k, t)| Op::Insert(k, t)),
            2 => (0..32u8).prop_map(Op::Remove),
            1 => Just(Op::Pop),
            1 => (0..200u16).prop_map(Op::PopDue),
        ]
    }

    /// The reference: a sorted map from (due, seq) to key, and each key's current (due, seq).
    #[derive(Default)]
    struct Model {
        order: BTreeMap<(u16, u64), u8>,
        keys: HashMap<u8, (u16, u64)>,
        seq: u64,
    }

    impl Model {
        fn insert(&mut self, key: u8, due: u16) -> Option<u16> {
            let previous = self.remove(key);
            self.order.insert((due, self.seq), key);
            self.keys.insert(key, (due, self.seq));
            self.seq += 1;
            previous
        }

        fn remove(&mut self, key: u8) -> Option<u16> {
            let at = self.keys.remove(&key)?;
            self.order.remove(&at);
            Some(at.0)
        }

        fn pop(&mut self) -> Option<(u8, u16)> {
            let ((due, _), key) = self.order.pop_first()?;
            self.keys.remove(&key);
            Some((key, due))
        }
    }

    proptest! {
        #[test]
        fn behaves_like_a_sorted_map(ops in prop::collection::vec(op(), 0..300)) {
            let mut heap = TimerHeap::new();
            let mut model = Model::default();
            for op in ops {
                match op {
                    Op::Insert(k, t) => prop_assert_eq!(heap.insert(k, t), model.insert(k, t)),
                    Op::Remove(k) => prop_assert_eq!(heap.remove(&k), model.remove(k)),
                    Op::Pop => prop_assert_eq!(heap.pop(), model.pop()),
                    Op::PopDue(now) => {
                        let mut expected = Vec::new();
                        while model.order.first_key_value().is_some_and(|(&(due, _), _)| due <= now) {
                            expected.extend(model.pop());
                        }
                        prop_assert_eq!(heap.pop_due(now).collect::<Vec<_>>(), expected);
                    }
                }
                prop_assert_eq!(heap.len(), model.keys.len());
                let model_peek = model.order.first_key_value().map(|(&(due, _), &key)| (key, due));
                prop_assert_eq!(heap.peek().map(|(&k, t)| (k, t)), model_peek);
                for key in 0..32u8 {
                    prop_assert_eq!(heap.due(&key), model.keys.get(&key).map(|&(due, _)| due));
                }
            }
        }
    }
}

//! The hand-off from the claim loop to executor threads.
//!
//! Executor threads run Python, so only one of them makes progress at a time unless a task
//! releases the GIL (sleeps, does I/O). Waking a thread per queued task would make every woken
//! thread queue up for the GIL, a convoy of context switches per task. Instead at most one thread
//! is on its way to work at any time: a thread that takes an item wakes one more only if items
//! remain and nobody else is already waking up. CPU-bound tasks then run back to back on the
//! thread holding the GIL, while tasks that block release the GIL and the wake-up chain spreads
//! work over as many threads as there are blocked tasks.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

struct State<T> {
    items: VecDeque<T>,
    /// Threads blocked in `wait`.
    sleeping: usize,
    /// Wake-ups issued that no sleeping thread has taken yet.
    permits: usize,
    /// Threads that returned from `wait` and have not called `try_pop` yet.
    waking: usize,
    closed: bool,
}

pub struct WorkQueue<T> {
    state: Mutex<State<T>>,
    cond: Condvar,
}

impl<T> Default for WorkQueue<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                items: VecDeque::new(),
                sleeping: 0,
                permits: 0,
                waking: 0,
                closed: false,
            }),
            cond: Condvar::new(),
        }
    }
}

impl<T> WorkQueue<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake_if_needed(&self, state: &mut State<T>) {
        if !state.items.is_empty() && state.permits + state.waking == 0 && state.sleeping > state.permits {
            state.permits += 1;
            self.cond.notify_one();
        }
    }

    /// Queue items (in order). Ignored once the queue is closed.
    pub fn push_all(&self, items: impl IntoIterator<Item = T>) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.items.extend(items);
        self.wake_if_needed(&mut state);
    }

    /// Take the next item. `was_woken`: the caller just returned `true` from `wait`.
    pub fn try_pop(&self, was_woken: bool) -> Option<T> {
        let mut state = self.lock();
        if was_woken {
            state.waking = state.waking.saturating_sub(1);
        }
        let item = state.items.pop_front();
        if item.is_some() {
            self.wake_if_needed(&mut state);
        }
        item
    }

    /// Block until woken for work (`true`) or the queue is closed (`false`). The caller must then
    /// call `try_pop(true)`, which may still find nothing if another thread was faster.
    pub fn wait(&self) -> bool {
        let mut state = self.lock();
        state.sleeping += 1;
        loop {
            if state.closed {
                state.sleeping -= 1;
                return false;
            }
            if state.permits > 0 {
                state.permits -= 1;
                state.sleeping -= 1;
                state.waking += 1;
                return true;
            }
            state = self.cond.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Stop handing out work: waiting threads return `false`. Items still queued are returned.
    pub fn close(&self) -> Vec<T> {
        let mut state = self.lock();
        state.closed = true;
        self.cond.notify_all();
        state.items.drain(..).collect()
    }

    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn worker(queue: &WorkQueue<u32>, done: &AtomicUsize, work: impl Fn(u32)) {
        let mut woken = false;
        loop {
            if let Some(item) = queue.try_pop(woken) {
                woken = false;
                work(item);
                done.fetch_add(1, Ordering::SeqCst);
            } else {
                woken = queue.wait();
                if !woken {
                    return;
                }
            }
        }
    }

    #[test]
    fn every_item_is_processed_once() {
        let queue = Arc::new(WorkQueue::default());
        let done = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (q, d) = (Arc::clone(&queue), Arc::clone(&done));
                std::thread::spawn(move || worker(&q, &d, |_| {}))
            })
            .collect();
        for chunk in 0..100 {
            queue.push_all(chunk * 100..(chunk + 1) * 100);
        }
        while done.load(Ordering::SeqCst) < 10_000 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(queue.close().is_empty());
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 10_000);
    }

    #[test]
    fn blocking_items_spread_over_threads() {
        // 8 items that each block 100 ms on 8 threads finish in about 100 ms, not 800 ms.
        let queue = Arc::new(WorkQueue::default());
        let done = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (q, d) = (Arc::clone(&queue), Arc::clone(&done));
                std::thread::spawn(move || worker(&q, &d, |_| std::thread::sleep(Duration::from_millis(100))))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        let start = std::time::Instant::now();
        queue.push_all(0..8);
        while done.load(Ordering::SeqCst) < 8 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(start.elapsed() < Duration::from_millis(400), "{:?}", start.elapsed());
        queue.close();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn close_wakes_sleepers_and_returns_leftovers() {
        let queue: Arc<WorkQueue<u32>> = Arc::new(WorkQueue::default());
        let q = Arc::clone(&queue);
        let sleeper = std::thread::spawn(move || q.wait());
        std::thread::sleep(Duration::from_millis(20));
        assert!(queue.close().is_empty());
        assert!(!sleeper.join().unwrap());
        queue.push_all([1, 2]);
        assert_eq!(queue.len(), 0);
    }
}

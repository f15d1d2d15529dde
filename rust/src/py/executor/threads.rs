//! The executor threads. Each attaches to the interpreter once and detaches only to wait for work.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use pyo3::prelude::*;

use crate::engine::task::{AttemptKey, ClaimedTask};
use crate::py::executor::Executor;

/// One executor thread, as seen by the interrupter.
#[derive(Default)]
pub struct ThreadSlot {
    /// `threading.get_ident()` of the thread, the target of `PyThreadState_SetAsyncExc`.
    ident: AtomicU64,
    /// The attempt (`AttemptKey`) whose Python code the thread is inside (0: none). Written only
    /// with the GIL held, so the interrupter (which holds the GIL too) never hits the wrong attempt.
    current: AtomicU64,
    /// A replacement took over: the thread exits as soon as its stuck task returns.
    abandoned: AtomicBool,
}

impl ThreadSlot {
    /// Call task code with the thread marked as running `task`; afterwards clear a timeout
    /// exception that was raised into the thread but not delivered before the call returned, so
    /// it cannot hit the next task.
    pub fn run_interruptibly<T>(&self, task: &ClaimedTask, call: impl FnOnce() -> T) -> T {
        // (A deadline that passed before the call starts still gets the task interrupted: the
        // interrupter finds `current` set once it gets the GIL, which this thread holds now.)
        self.current.store(task.key, Ordering::Release);
        let result = call();
        self.current.store(0, Ordering::Release);
        if task.control.is_timed_out() {
            clear_pending_interrupt(self.ident.load(Ordering::Acquire));
        }
        result
    }
}

#[allow(unsafe_code)]
fn clear_pending_interrupt(ident: u64) {
    // SAFETY: called with the GIL held (from task code's thread right after the call returned);
    // a NULL exception clears the thread's pending asynchronous exception.
    unsafe {
        pyo3::ffi::PyThreadState_SetAsyncExc(ident as std::ffi::c_long, std::ptr::null_mut());
    }
}

pub struct ThreadPool {
    executor: Weak<Executor>,
    slots: Mutex<Vec<Arc<ThreadSlot>>>,
    spawned: AtomicUsize,
}

impl ThreadPool {
    pub fn new(executor: Weak<Executor>) -> Self {
        Self {
            executor,
            slots: Mutex::default(),
            spawned: AtomicUsize::new(0),
        }
    }

    pub fn spawn(&self, count: usize) -> PyResult<()> {
        for _ in 0..count {
            let slot = Arc::new(ThreadSlot::default());
            self.slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::clone(&slot));
            let n = self.spawned.fetch_add(1, Ordering::Relaxed);
            let executor = self.executor.clone();
            std::thread::Builder::new()
                .name(format!("anclax-exec-{n}"))
                .spawn(move || thread_main(&executor, &slot))
                .map_err(|err| {
                    pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start an executor thread: {err}"))
                })?;
        }
        Ok(())
    }

    /// The thread inside the code of attempt `key` (call with the GIL held).
    pub fn ident_running(&self, key: AttemptKey) -> Option<u64> {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots
            .iter()
            .find(|s| s.current.load(Ordering::Acquire) == key)
            .map(|s| s.ident.load(Ordering::Acquire))
    }

    /// The thread running attempt `key` is stuck: let it go and start a replacement.
    pub fn replace_thread_running(&self, key: AttemptKey) {
        let stuck = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let position = slots.iter().position(|s| s.current.load(Ordering::Acquire) == key);
            position.map(|i| slots.swap_remove(i))
        };
        if let Some(stuck) = stuck {
            stuck.abandoned.store(true, Ordering::Release);
            if let Err(err) = self.spawn(1) {
                log::error!("could not replace an abandoned executor thread: {err}");
            }
        }
    }
}

/// Give the thread's Python view (`threading.current_thread()`) the OS thread's name, so logs
/// and tracebacks say `anclax-exec-3` rather than `Dummy-3`.
pub fn name_python_thread(py: Python<'_>) {
    let Some(name) = std::thread::current().name().map(str::to_owned) else {
        return;
    };
    let named = py
        .import("threading")
        .and_then(|threading| threading.call_method0("current_thread"))
        .and_then(|thread| thread.setattr("name", name));
    if let Err(err) = named {
        log::debug!("could not name a Python thread: {err}");
    }
}

fn thread_main(executor: &Weak<Executor>, slot: &Arc<ThreadSlot>) {
    let Some(executor) = executor.upgrade() else { return };
    Python::attach(|py| {
        name_python_thread(py);
        #[allow(unsafe_code)]
        // SAFETY: plain getter of the current thread's identifier.
        let ident = unsafe { pyo3::ffi::PyThread_get_thread_ident() };
        // c_ulong is 32 bits on some platforms: widen explicitly.
        #[allow(clippy::useless_conversion)]
        slot.ident.store(u64::from(ident), Ordering::Release);
        let mut woken = false;
        loop {
            if slot.abandoned.load(Ordering::Acquire) {
                return;
            }
            if let Some(job) = executor.queue.try_pop(woken) {
                woken = false;
                executor.run_job(py, slot, job);
                continue;
            }
            woken = py.detach(|| executor.queue.wait());
            if !woken {
                return;
            }
        }
    });
}

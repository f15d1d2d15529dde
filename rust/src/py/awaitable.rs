//! Awaitables resolved by a Rust runtime, for the asyncio API (`AsyncClient`, `AsyncTx`).
//!
//! A call creates an `asyncio.Future` on the caller's event loop and spawns the database work on
//! the client's runtime; the Python thread returns at once. When the work ends, the runtime
//! thread does not take the GIL: it queues the result in the loop's `Completions` and, if the
//! queue was idle, writes one byte to a socket the loop watches (`loop.add_reader`). The loop
//! thread then drains every queued result in one callback, converting each to Python objects and
//! resolving its future. So a runtime thread never waits for an interpreter busy running the
//! application's coroutines, and a burst of completions costs the loop one wake-up, not one each
//! (the mechanism of asyncio's own `call_soon_threadsafe`, without the GIL on the writer's side).

use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use pyo3::prelude::*;
use pyo3::{IntoPyObjectExt, intern};
use tokio::task::AbortHandle;

use crate::error::Result;
use crate::runtime::RuntimeHandle;

/// Turns a finished operation into the future's result, on the loop thread (with the GIL).
type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

struct Completion {
    future: Py<PyAny>,
    outcome: Outcome,
}

/// The finished operations of one event loop, waiting for the loop thread to pick them up.
#[pyclass(frozen, module = "anclax_fast._core")]
pub struct Completions {
    event_loop: Py<PyAny>,
    queue: Mutex<Vec<Completion>>,
    /// A wake-up byte is on its way; later completions need not write another.
    signalled: AtomicBool,
    reader: UnixStream,
    writer: UnixStream,
}

impl Completions {
    fn push(&self, completion: Completion) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(completion);
        if !self.signalled.swap(true, Ordering::AcqRel) {
            // A full socket buffer (WouldBlock) already holds wake-ups the loop has not read:
            // nothing is lost by skipping this one.
            let _ = (&self.writer).write(&[1]);
        }
    }

    fn discard_wakeups(&self) -> PyResult<()> {
        let mut buffer = [0_u8; 256];
        loop {
            match (&self.reader).read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
}

#[pymethods]
impl Completions {
    #[new]
    fn new(event_loop: Py<PyAny>) -> PyResult<Self> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(Self {
            event_loop,
            queue: Mutex::default(),
            signalled: AtomicBool::new(false),
            reader,
            writer,
        })
    }

    /// The descriptor the loop watches (`loop.add_reader(completions.fileno(), completions.drain)`).
    fn fileno(&self) -> i32 {
        self.reader.as_raw_fd()
    }

    #[getter]
    fn event_loop(&self, py: Python<'_>) -> Py<PyAny> {
        self.event_loop.clone_ref(py)
    }

    /// Resolve the futures of every finished operation (on the loop thread). Futures cancelled
    /// meanwhile are skipped; their operations' results are dropped.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        // Read the wake-ups before clearing the flag and taking the queue: a completion pushed
        // after the take then writes a new byte, so none is left without a wake-up.
        self.discard_wakeups()?;
        self.signalled.store(false, Ordering::Release);
        let completions = std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
        let mut first_error = None;
        for Completion { future, outcome } in completions {
            if let Err(err) = resolve(py, future.bind(py), outcome) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn resolve(py: Python<'_>, future: &Bound<'_, PyAny>, outcome: Outcome) -> PyResult<()> {
    if future.call_method0(intern!(py, "cancelled"))?.is_truthy()? {
        return Ok(());
    }
    match outcome(py) {
        Ok(value) => future.call_method1(intern!(py, "set_result"), (value,))?,
        Err(err) => future.call_method1(intern!(py, "set_exception"), (err.into_value(py),))?,
    };
    Ok(())
}

/// Cancels the runtime's work when the awaiting coroutine is cancelled (a long `wait()`).
#[pyclass(frozen)]
struct AbortOnCancel(AbortHandle);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0(intern!(future.py(), "cancelled"))?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}

/// Whether cancelling the awaiting coroutine also stops the database work. Worth a done
/// callback for operations that can last (waiting for a task); short ones just run to the end.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnCancel {
    Finish,
    Abort,
}

/// Spawn `work` on `runtime`; the returned `asyncio.Future` gets `convert(result)` on the loop of
/// `completions`, or the error as an exception.
pub fn spawn<'py, T, F, C>(
    completions: &Bound<'py, Completions>,
    runtime: &RuntimeHandle,
    on_cancel: OnCancel,
    work: F,
    convert: C,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let py = completions.py();
    let future = completions
        .get()
        .event_loop
        .bind(py)
        .call_method0(intern!(py, "create_future"))?;
    let target = completions.clone().unbind();
    let pending = future.clone().unbind();
    let handle = runtime.spawn(async move {
        let result = work.await;
        let outcome: Outcome = Box::new(move |py| match result {
            Ok(value) => convert(py, value),
            Err(err) => Err(err.into()),
        });
        target.get().push(Completion {
            future: pending,
            outcome,
        });
    });
    if on_cancel == OnCancel::Abort {
        future.call_method1(
            intern!(py, "add_done_callback"),
            (AbortOnCancel(handle.abort_handle()),),
        )?;
    }
    Ok(future)
}

/// `convert` for results that are plain values.
pub fn into_py<T>(py: Python<'_>, value: T) -> PyResult<Py<PyAny>>
where
    T: for<'a> IntoPyObject<'a>,
{
    value.into_py_any(py)
}

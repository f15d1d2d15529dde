//! `async def` executor methods: a feeder thread prepares claimed attempts (decode, context) and
//! submits them to the worker's asyncio loop (`anclax_fast._async_bridge.AsyncBridge`), which
//! calls `AsyncDone` when each coroutine ends.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyTuple, PyType};

use crate::engine::SlotKind;
use crate::engine::task::{AttemptKey, ClaimedTask, Failure, FailureKind, Finish};
use crate::py::executor::{Executor, outcome};

static CANCELLED_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

pub struct AsyncTasks {
    bridge: Py<PyAny>,
    feed: Mutex<Option<Sender<Vec<Arc<ClaimedTask>>>>>,
}

impl AsyncTasks {
    pub fn start(py: Python<'_>, executor: Weak<Executor>, factory: &Py<PyAny>) -> PyResult<Self> {
        let done = Py::new(
            py,
            AsyncDone {
                executor: executor.clone(),
            },
        )?;
        let bridge = factory.call1(py, (done,))?;
        let (sender, receiver) = channel::<Vec<Arc<ClaimedTask>>>();
        let feeder_bridge = bridge.clone_ref(py);
        std::thread::Builder::new()
            .name("anclax-async-feed".to_owned())
            .spawn(move || {
                Python::attach(super::threads::name_python_thread);
                while let Ok(batch) = receiver.recv() {
                    let Some(executor) = executor.upgrade() else { return };
                    Python::attach(|py| feed(py, &executor, &feeder_bridge, batch));
                }
            })
            .map_err(|err| {
                pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the async feeder: {err}"))
            })?;
        Ok(Self {
            bridge,
            feed: Mutex::new(Some(sender)),
        })
    }

    pub fn submit(&self, tasks: Vec<Arc<ClaimedTask>>) {
        if let Some(feed) = self.feed.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            let _ = feed.send(tasks);
        }
    }

    pub fn cancel(&self, py: Python<'_>, key: AttemptKey) {
        if let Err(err) = self.bridge.call_method1(py, "cancel", (key,)) {
            log::warn!("cancelling the coroutine of attempt {key} failed: {err}");
        }
    }

    pub fn stop(&self, py: Python<'_>) {
        self.feed.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Err(err) = self.bridge.call_method0(py, "stop") {
            log::warn!("stopping the asyncio loop failed: {err}");
        }
    }
}

/// Prepare each attempt and submit the batch to the loop; attempts that cannot start (unknown
/// name, undecodable parameters) end here.
fn feed(py: Python<'_>, executor: &Executor, bridge: &Py<PyAny>, batch: Vec<Arc<ClaimedTask>>) {
    let jobs = PyList::empty(py);
    for task in batch {
        match prepare(py, executor, &task) {
            Ok(job) => {
                if let Err(err) = jobs.append(job) {
                    executor.conclude_off_thread(task, Some(outcome::classify(py, &err)));
                }
            }
            Err(failure) => executor.conclude_off_thread(task, Some(failure)),
        }
    }
    if !jobs.is_empty() {
        if let Err(err) = bridge.call_method1(py, "submit", (jobs,)) {
            log::error!("submitting coroutines to the asyncio loop failed: {err}");
        }
    }
}

fn prepare<'py>(py: Python<'py>, executor: &Executor, task: &ClaimedTask) -> Result<Bound<'py, PyTuple>, Failure> {
    if task.attempts_exhausted_at_claim() {
        return Err(Failure::new(
            FailureKind::Error,
            "the worker running the final attempt stopped (lease expired); the task is not run again",
        ));
    }
    let handler = executor
        .handlers
        .get(&task.name)
        .ok_or_else(|| outcome::unknown_task_failure(task))?;
    handler
        .metrics
        .started
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let params = outcome::decode_params(py, handler, task)?;
    let ctx = outcome::make_context(py, handler, task).map_err(|err| outcome::classify(py, &err))?;
    // The bridge knows attempts by their key: two attempts of one task can overlap (an old one
    // winding down after a lease loss while the task was claimed again).
    let id = task.key.into_pyobject(py).map_err(|never| match never {})?.into_any();
    PyTuple::new(
        py,
        [
            id,
            handler.execute.bind(py).clone(),
            ctx.into_bound(py).into_any(),
            params,
        ],
    )
    .map_err(|err| outcome::classify(py, &err))
}

/// Called on the event loop thread when an attempt's coroutine ends (`error`: what it raised).
#[pyclass(frozen, module = "anclax_fast._core")]
pub struct AsyncDone {
    executor: Weak<Executor>,
}

#[pymethods]
impl AsyncDone {
    #[pyo3(signature = (key, error=None))]
    fn __call__(&self, py: Python<'_>, key: AttemptKey, error: Option<Bound<'_, PyAny>>) -> PyResult<()> {
        let Some(executor) = self.executor.upgrade() else {
            return Ok(());
        };
        let Some(attempt) = executor.engine.running.get(key) else {
            return Ok(());
        };
        let failure = match error {
            None => None,
            Some(error) => {
                let cancelled = CANCELLED_ERROR.import(py, "asyncio", "CancelledError")?;
                let mut failure = outcome::classify(py, &PyErr::from_value(error.clone()));
                if error.is_instance(cancelled)? && !attempt.task.control.is_timed_out() {
                    "the coroutine was cancelled (the task was cancelled, or the worker lost its lease)"
                        .clone_into(&mut failure.message);
                }
                Some(failure)
            }
        };
        executor.conclude_off_thread(attempt.task, failure);
        Ok(())
    }
}

impl Executor {
    /// `conclude` for attempts that ended off the executor threads.
    pub(super) fn conclude_off_thread(&self, task: Arc<ClaimedTask>, failure: Option<Failure>) {
        let failure = match task.control.finish() {
            Finish::Counts => failure,
            Finish::TimedOut => Some(outcome::timeout_failure(&task, false)),
            Finish::Abandoned => return,
        };
        self.record_off_thread(SlotKind::Async, task, failure);
    }

    pub(super) fn cancel_coroutine(&self, py: Python<'_>, key: AttemptKey) {
        if let Some(tasks) = self.async_tasks.get() {
            tasks.cancel(py, key);
        }
    }
}

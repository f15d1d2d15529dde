//! `TaskContext`: what an executor learns about the attempt it runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Built once per attempt by the worker; `deadline` and `labels` are materialised lazily because
/// most executors never read them and the per-task cost is on the hot path.
#[pyclass(frozen, module = "anclax_fast._core")]
pub struct TaskContext {
    #[pyo3(get)]
    task_id: i64,
    #[pyo3(get)]
    task_name: Py<pyo3::types::PyString>,
    #[pyo3(get)]
    attempt: i32,
    #[pyo3(get)]
    max_attempts: i32,
    deadline: DateTime<Utc>,
    labels: Arc<[String]>,
    cancelled: Arc<AtomicBool>,
}

impl TaskContext {
    pub fn new(
        task_id: i64,
        task_name: Py<pyo3::types::PyString>,
        attempt: i32,
        max_attempts: i32,
        deadline: DateTime<Utc>,
        labels: Arc<[String]>,
        cancelled: Arc<AtomicBool>,
    ) -> Self {
        Self {
            task_id,
            task_name,
            attempt,
            max_attempts,
            deadline,
            labels,
            cancelled,
        }
    }
}

#[pymethods]
impl TaskContext {
    /// When the attempt times out (UTC, tz-aware).
    #[getter]
    fn deadline(&self) -> DateTime<Utc> {
        self.deadline
    }

    #[getter]
    fn labels<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.labels.iter())
    }

    /// True once the task is cancelled, its deadline passed, or the worker lost its lease.
    #[getter]
    fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "TaskContext(task_id={}, task_name={:?}, attempt={}, max_attempts={})",
            self.task_id,
            self.task_name.bind(py).to_string(),
            self.attempt,
            self.max_attempts
        )
    }
}

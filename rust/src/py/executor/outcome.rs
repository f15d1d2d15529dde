//! Turning what Python did into a `Failure`: exception class, message and traceback.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString};

use crate::engine::task::{ClaimedTask, Failure, FailureKind};
use crate::py::context::TaskContext;
use crate::py::errors::{FatalTaskError, RetryWithoutErrorEvent, TaskTimeout};
use crate::py::executor::handlers::Handler;

static FORMAT_EXCEPTION: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Classify an exception raised by task code. Never fails: a broken `__str__` or a failing
/// traceback formatter still yields a message.
pub fn classify(py: Python<'_>, err: &PyErr) -> Failure {
    let value = err.value(py);
    let kind = if value.is_instance_of::<FatalTaskError>() {
        FailureKind::Fatal
    } else if value.is_instance_of::<RetryWithoutErrorEvent>() {
        FailureKind::Silent
    } else if value.is_instance_of::<TaskTimeout>() {
        FailureKind::Timeout
    } else {
        FailureKind::Error
    };
    let type_name = value
        .get_type()
        .qualname()
        .map_or_else(|_| "Exception".to_owned(), |n| n.to_string());
    let text = match value.str() {
        Ok(text) => text.to_string(),
        Err(str_err) => format!(
            "<str() of the exception raised {}>",
            str_err
                .get_type(py)
                .name()
                .map_or_else(|_| "an error".to_owned(), |n| n.to_string())
        ),
    };
    let message = if text.is_empty() {
        type_name
    } else {
        format!("{type_name}: {text}")
    };
    Failure {
        kind,
        message,
        traceback: format_traceback(py, err),
    }
}

fn format_traceback(py: Python<'_>, err: &PyErr) -> Option<String> {
    let formatter = FORMAT_EXCEPTION.import(py, "traceback", "format_exception").ok()?;
    // The three-argument form: on Python < 3.12 the traceback is not yet attached to the value.
    let lines = formatter
        .call1((err.get_type(py), err.value(py), err.traceback(py)))
        .ok()?;
    let joined = PyString::new(py, "").call_method1("join", (lines,)).ok()?;
    joined.extract::<String>().ok()
}

/// Decode the payload into the task's parameter model.
pub fn decode_params<'py>(
    py: Python<'py>,
    handler: &Handler,
    task: &ClaimedTask,
) -> Result<Bound<'py, PyAny>, Failure> {
    handler
        .validate
        .bind(py)
        .call1((PyBytes::new(py, &task.payload),))
        .map_err(|err| {
            let mut failure = classify(py, &err);
            failure.kind = FailureKind::Error;
            failure.message = format!("the task's parameters do not decode: {}", failure.message);
            failure
        })
}

pub fn make_context(py: Python<'_>, handler: &Handler, task: &ClaimedTask) -> PyResult<Py<TaskContext>> {
    Py::new(
        py,
        TaskContext::new(
            task.id,
            handler.name.clone_ref(py),
            task.attempt,
            task.max_attempts,
            task.deadline,
            std::sync::Arc::clone(&task.labels),
            std::sync::Arc::clone(&task.control.cancelled),
        ),
    )
}

pub fn timeout_failure(task: &ClaimedTask, abandoned: bool) -> Failure {
    let seconds = task.timeout_ms as f64 / 1000.0;
    let message = if abandoned {
        format!(
            "TaskTimeout: the attempt exceeded its timeout of {seconds}s and did not stop when interrupted \
             (stuck outside Python code); the worker abandoned it"
        )
    } else {
        format!("TaskTimeout: the attempt exceeded its timeout of {seconds}s")
    };
    Failure::new(FailureKind::Timeout, message)
}

pub fn unknown_task_failure(task: &ClaimedTask) -> Failure {
    Failure::new(
        FailureKind::Error,
        format!(
            "no executor method for task {:?}: this worker's spec does not define it (deploy a worker that serves it, \
             or cancel the task)",
            task.name
        ),
    )
}

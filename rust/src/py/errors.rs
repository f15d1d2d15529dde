//! The one conversion from the crate's `Error` into the exceptions of `anclax_fast.errors`.
//!
//! The classes are defined in Python (so `except` and `isinstance` work the same whichever side
//! raised) and imported once, on first use.

use pyo3::call::PyCallArgs;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::cron::CronField;
use crate::error::Error;

/// A class of `anclax_fast.errors`, imported on first use and cached for the process.
struct ErrorClass {
    name: &'static str,
    class: PyOnceLock<Py<PyType>>,
}

impl ErrorClass {
    const fn new(name: &'static str) -> Self {
        Self {
            name,
            class: PyOnceLock::new(),
        }
    }

    /// An instance built from `args`; if importing or constructing fails, that failure is what
    /// gets raised, so a broken install never hides behind a different error.
    fn error<'py>(&self, py: Python<'py>, args: impl PyCallArgs<'py>) -> PyErr {
        match self
            .class
            .import(py, "anclax_fast.errors", self.name)
            .and_then(|class| class.call1(args))
        {
            Ok(instance) => PyErr::from_value(instance),
            Err(err) => err,
        }
    }
}

static CONFIGURATION_ERROR: ErrorClass = ErrorClass::new("ConfigurationError");
static CRON_ERROR: ErrorClass = ErrorClass::new("CronError");
static INTERVAL_ERROR: ErrorClass = ErrorClass::new("IntervalError");

impl From<Error> for PyErr {
    fn from(err: Error) -> Self {
        Python::attach(|py| match err {
            Error::Invalid(message) => CONFIGURATION_ERROR.error(py, (message,)),
            Error::Cron(err) => {
                let field = err.field().map(CronField::name);
                CRON_ERROR.error(py, (err.expression(), err.message(), field))
            }
            Error::Duration(err) => INTERVAL_ERROR.error(py, (err.text(), err.reason(), err.position())),
        })
    }
}

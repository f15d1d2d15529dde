//! The one conversion from the Rust `Error` to Python exceptions. The classes are defined in
//! `anclax_fast/errors.py` and imported here; the Rust side defines none of its own.

use pyo3::prelude::*;

use crate::cron::CronField;
use crate::error::Error;

pyo3::import_exception!(anclax_fast.errors, ConfigurationError);
pyo3::import_exception!(anclax_fast.errors, DatabaseError);
pyo3::import_exception!(anclax_fast.errors, DatabaseUnavailable);
pyo3::import_exception!(anclax_fast.errors, SchemaNotMigrated);
pyo3::import_exception!(anclax_fast.errors, TaskNotFound);
pyo3::import_exception!(anclax_fast.errors, TaskAlreadyExists);
pyo3::import_exception!(anclax_fast.errors, WaitTimeout);
pyo3::import_exception!(anclax_fast.errors, FatalTaskError);
pyo3::import_exception!(anclax_fast.errors, RetryWithoutErrorEvent);
pyo3::import_exception!(anclax_fast.errors, TaskTimeout);
pyo3::import_exception!(anclax_fast.errors, CronError);
pyo3::import_exception!(anclax_fast.errors, IntervalError);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        match err {
            Error::Invalid(message) => ConfigurationError::new_err(message),
            Error::Parameter {
                message,
                type_error: true,
            } => pyo3::exceptions::PyTypeError::new_err(message),
            Error::Parameter { message, .. } => pyo3::exceptions::PyValueError::new_err(message),
            Error::Unavailable(message) => DatabaseUnavailable::new_err((message, None::<String>)),
            Error::Database { message, sqlstate } => DatabaseError::new_err((message, sqlstate)),
            Error::SchemaNotMigrated(message) => SchemaNotMigrated::new_err((message, None::<String>)),
            Error::TaskNotFound(id) => TaskNotFound::new_err(format!("no task with id {id}")),
            Error::AlreadyExists { tag, id } => TaskAlreadyExists::new_err((tag, id)),
            err @ Error::WaitTimeout(_) => WaitTimeout::new_err(err.to_string()),
            Error::Cron(err) => CronError::new_err((
                err.expression().to_owned(),
                err.message(),
                err.field().map(CronField::name),
            )),
            Error::Duration(err) => {
                IntervalError::new_err((err.text().to_owned(), err.reason().to_owned(), err.position()))
            }
        }
    }
}

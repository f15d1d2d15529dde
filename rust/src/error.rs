//! The one error type of the Rust side; `py::errors` converts it into the Python hierarchy
//! defined in `python/anclax_fast/errors.py`.

use thiserror::Error;

use crate::cron::CronError;
use crate::duration::DurationError;

#[derive(Debug, Error)]
pub enum Error {
    /// Invalid configuration or argument, raised as `ValueError`-family.
    #[error("{0}")]
    Invalid(String),
    /// An invalid cron expression, raised as `CronError`.
    #[error(transparent)]
    Cron(#[from] CronError),
    /// An invalid duration or retry interval, raised as `IntervalError`.
    #[error(transparent)]
    Duration(#[from] DurationError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The one error type of the Rust side; `py::errors` converts it into the Python hierarchy
//! defined in `python/anclax_fast/errors.py`.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// Invalid configuration or argument, raised as `ValueError`-family.
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

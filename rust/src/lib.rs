//! anclax-fast's Rust core.
//!
//! The pure modules (`cron`, `retry`, `schedule`, `db`, `engine`, ...) never touch Python; the PyO3 binding
//! layer lives under `py/` and is compiled only with the default `python` feature, so
//! `cargo test --no-default-features` exercises the core without an interpreter.

pub mod backoff;
pub mod client;
pub mod cron;
pub mod db;
pub mod dsn;
pub mod duration;
pub mod engine;
pub mod error;
pub mod retry;
pub mod runtime;
pub mod schedule;
pub mod work_queue;

#[cfg(feature = "python")]
mod py;

#[cfg(feature = "python")]
use pyo3::prelude::*;

/// The compiled extension module `anclax_fast._core`.
#[cfg(feature = "python")]
#[pymodule(gil_used = true)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}

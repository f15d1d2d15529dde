//! The PyO3 binding layer: every `#[pyclass]` and `#[pyfunction]` of `anclax_fast._core`.

use pyo3::prelude::*;

mod context;
mod cron;
mod errors;
mod retry;

pub use context::TaskContext;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<TaskContext>()?;
    m.add_class::<cron::CronSchedule>()?;
    m.add_class::<cron::CronIterator>()?;
    m.add_function(wrap_pyfunction!(retry::parse_duration, m)?)?;
    m.add_function(wrap_pyfunction!(retry::parse_interval, m)?)?;
    m.add_function(wrap_pyfunction!(retry::delay_for_retry, m)?)?;
    Ok(())
}

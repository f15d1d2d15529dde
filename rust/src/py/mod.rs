//! The PyO3 binding layer: every `#[pyclass]` and `#[pyfunction]` of `anclax_fast._core`.

use pyo3::prelude::*;

mod async_client;
mod async_tx;
mod awaitable;
mod blocking;
mod client;
mod context;
mod convert;
mod cron;
mod errors;
mod executor;
mod logging;
mod notifications;
mod options;
mod retry;
mod tx;
mod worker;

pub use context::TaskContext;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install(m.py())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("ENQUEUE_SQL", crate::db::sql::ENQUEUE)?;
    m.add("REGISTER_SCHEDULE_SQL", crate::db::sql::REGISTER_SCHEDULE)?;
    m.add("SCHEMA_VERSION", crate::db::migrate::LATEST_VERSION)?;
    m.add_class::<TaskContext>()?;
    m.add_class::<tx::Tx>()?;
    m.add_class::<client::ClientCore>()?;
    m.add_class::<notifications::Notifications>()?;
    m.add_class::<async_client::AsyncClientCore>()?;
    m.add_class::<async_tx::AsyncTx>()?;
    m.add_class::<awaitable::Completions>()?;
    m.add_class::<worker::WorkerCore>()?;
    m.add_class::<executor::AsyncDone>()?;
    m.add_function(wrap_pyfunction!(redact_dsn, m)?)?;
    m.add_class::<cron::CronSchedule>()?;
    m.add_class::<cron::CronIterator>()?;
    m.add_function(wrap_pyfunction!(retry::parse_duration, m)?)?;
    m.add_function(wrap_pyfunction!(retry::parse_interval, m)?)?;
    m.add_function(wrap_pyfunction!(retry::delay_for_retry, m)?)?;
    Ok(())
}

/// The DSN with its password replaced by `***` (for messages and logs).
#[pyfunction]
fn redact_dsn(dsn: &str) -> String {
    crate::dsn::redact(dsn)
}

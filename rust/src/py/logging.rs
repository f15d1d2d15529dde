//! Engine log records go to Python's `logging` (through pyo3-log), under the `anclax_fast`
//! logger: `_core::engine::claim` becomes `anclax_fast.engine.claim`, so applications configure
//! one logger name for everything the library logs. Other crates keep their own names.

use log::{Log, Metadata, Record};
use pyo3::prelude::*;

const CRATE_TARGET: &str = "_core::";

struct Renamed(pyo3_log::Logger);

impl Log for Renamed {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        match record.target().strip_prefix(CRATE_TARGET) {
            Some(rest) => {
                let target = format!("anclax_fast::{rest}");
                self.0.log(
                    &Record::builder()
                        .args(*record.args())
                        .level(record.level())
                        .target(&target)
                        .module_path(record.module_path())
                        .file(record.file())
                        .line(record.line())
                        .build(),
                );
            }
            None => self.0.log(record),
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Install the bridge (once per process; later calls are no-ops).
pub fn install(py: Python<'_>) -> PyResult<()> {
    let logger = pyo3_log::Logger::new(py, pyo3_log::Caching::LoggersAndLevels)?;
    if log::set_boxed_logger(Box::new(Renamed(logger))).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    Ok(())
}

//! The PyO3 binding layer: every `#[pyclass]` and `#[pyfunction]` of `anclax_fast._core`.

use pyo3::prelude::*;

mod context;

pub use context::TaskContext;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<TaskContext>()?;
    Ok(())
}

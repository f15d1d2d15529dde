//! The one options object that crosses into Rust: Python's `ResolvedOptions` (already validated by
//! `anclax_fast.runner.resolve_options`) read attribute by attribute into `client::EnqueueOptions`.
//! A new enqueue option is one line here, beside its field in both structs.

use pyo3::prelude::*;
use pyo3::{Borrowed, intern};

use crate::client::EnqueueOptions;
use crate::py::convert::aware_to_utc;

impl<'a, 'py> FromPyObject<'a, 'py> for EnqueueOptions {
    type Error = PyErr;

    fn extract(options: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = options.py();
        let field = |name: &Bound<'py, pyo3::types::PyString>| options.getattr(name);
        let run_at = field(intern!(py, "run_at"))?;
        Ok(Self {
            priority: field(intern!(py, "priority"))?.extract()?,
            run_at: if run_at.is_none() {
                None
            } else {
                Some(aware_to_utc(&run_at)?)
            },
            max_attempts: field(intern!(py, "max_attempts"))?.extract()?,
            retry_intervals_ms: field(intern!(py, "retry_intervals_ms"))?.extract()?,
            timeout_ms: field(intern!(py, "timeout_ms"))?.extract()?,
            labels: field(intern!(py, "labels"))?.extract()?,
            unique_tag: field(intern!(py, "unique_tag"))?.extract()?,
            parent_id: field(intern!(py, "parent_id"))?.extract()?,
            if_exists_raise: field(intern!(py, "if_exists_raise"))?.extract()?,
            headers: field(intern!(py, "headers"))?.extract()?,
            tags: field(intern!(py, "tags"))?.extract()?,
        })
    }
}

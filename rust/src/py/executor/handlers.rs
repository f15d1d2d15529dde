//! What the worker calls for each task name: the executor method, the parameter model's JSON
//! validator, and the failure hook. Resolved once, at worker start, by `anclax_fast.worker`.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::engine::stats::TaskMetrics;

pub struct Handler {
    /// The task name as a Python string, shared by every `TaskContext`.
    pub name: Py<PyString>,
    pub execute: Py<PyAny>,
    /// `Model.model_validate_json`.
    pub validate: Py<PyAny>,
    pub is_async: bool,
    pub hook: Option<Py<PyAny>>,
    pub metrics: TaskMetrics,
}

#[derive(Default)]
pub struct Handlers(HashMap<String, Handler>);

impl Handlers {
    /// From `{name: (execute, validate_json, is_async, hook_or_None)}`.
    pub fn from_dict(table: &Bound<'_, PyDict>) -> PyResult<Self> {
        let mut handlers = HashMap::with_capacity(table.len());
        for (name, entry) in table.iter() {
            let name_str: String = name.extract()?;
            let (execute, validate, is_async, hook): (Py<PyAny>, Py<PyAny>, bool, Option<Py<PyAny>>) =
                entry.extract()?;
            let name = PyString::intern(table.py(), &name_str).unbind();
            handlers.insert(
                name_str,
                Handler {
                    name,
                    execute,
                    validate,
                    is_async,
                    hook,
                    metrics: TaskMetrics::default(),
                },
            );
        }
        Ok(Self(handlers))
    }

    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Handler> {
        self.0.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Handler)> {
        self.0.iter()
    }

    #[must_use]
    pub fn async_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .0
            .iter()
            .filter(|(_, h)| h.is_async)
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names
    }
}

//! `Tx`: a database transaction driven from Python (`Client.transaction()`, failure hooks).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::db::query::QueryResult;
use crate::db::transaction::Transaction;
use crate::error::Error;
use crate::py::blocking::block_on;
use crate::py::convert::{to_py, to_sql_values};
use crate::runtime::RuntimeHandle;

/// Shared with the engine code that opened the transaction, which takes it back when the
/// Python side is done (a hook returning); `None` means closed.
pub type SharedTransaction = Arc<tokio::sync::Mutex<Option<Transaction>>>;

#[pyclass(frozen, module = "anclax_fast._core")]
pub struct Tx {
    inner: SharedTransaction,
    runtime: RuntimeHandle,
    /// Failure hooks get a Tx they must not end: the engine commits it with the failure.
    owned_by_caller: bool,
}

impl Tx {
    pub fn new(inner: SharedTransaction, runtime: RuntimeHandle, owned_by_caller: bool) -> Self {
        Self {
            inner,
            runtime,
            owned_by_caller,
        }
    }

    fn query(&self, py: Python<'_>, sql: &str, args: &Bound<'_, PyTuple>) -> PyResult<QueryResult> {
        let values = to_sql_values(args)?;
        let inner = Arc::clone(&self.inner);
        block_on(py, &self.runtime, async move {
            let mut guard = inner.lock().await;
            let tx = guard.as_mut().ok_or_else(closed)?;
            tx.query(sql, &values).await
        })
    }
}

pub fn closed() -> Error {
    Error::Invalid("this transaction is closed (a hook's Tx is only valid while the hook runs)".to_owned())
}

pub fn rows_to_dicts<'py>(py: Python<'py>, result: QueryResult) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for row in result.rows {
        list.append(row_to_dict(py, &result.columns, row)?)?;
    }
    Ok(list)
}

pub fn row_to_dict<'py>(
    py: Python<'py>,
    columns: &[String],
    row: Vec<crate::db::value::SqlOut>,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (column, value) in columns.iter().zip(row) {
        dict.set_item(column, to_py(py, value)?)?;
    }
    Ok(dict)
}

#[pymethods]
impl Tx {
    /// Run a statement; returns the number of rows it affected.
    #[pyo3(signature = (sql, *args))]
    fn execute(&self, py: Python<'_>, sql: &str, args: &Bound<'_, PyTuple>) -> PyResult<u64> {
        let values = to_sql_values(args)?;
        let inner = Arc::clone(&self.inner);
        block_on(py, &self.runtime, async move {
            let mut guard = inner.lock().await;
            let tx = guard.as_mut().ok_or_else(closed)?;
            tx.execute(sql, &values).await
        })
    }

    #[pyo3(signature = (sql, *args))]
    fn fetch<'py>(&self, py: Python<'py>, sql: &str, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyList>> {
        let result = self.query(py, sql, args)?;
        rows_to_dicts(py, result)
    }

    #[pyo3(signature = (sql, *args))]
    fn fetchrow<'py>(
        &self,
        py: Python<'py>,
        sql: &str,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let mut result = self.query(py, sql, args)?;
        if result.rows.is_empty() {
            return Ok(None);
        }
        let row = result.rows.swap_remove(0);
        row_to_dict(py, &result.columns, row).map(Some)
    }

    /// The first column of the first row (None when there is no row).
    #[pyo3(signature = (sql, *args))]
    fn fetchval<'py>(&self, py: Python<'py>, sql: &str, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        let mut result = self.query(py, sql, args)?;
        match result
            .rows
            .first_mut()
            .and_then(|row| (!row.is_empty()).then(|| row.swap_remove(0)))
        {
            Some(value) => to_py(py, value),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// Whether the transaction can still run statements.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        let inner = Arc::clone(&self.inner);
        block_on(py, &self.runtime, async move {
            Ok(inner.lock().await.as_ref().is_none_or(|tx| !tx.is_open()))
        })
    }

    /// End a transaction from `Client.transaction()`: commit or roll back, then release it.
    fn _finish(&self, py: Python<'_>, commit: bool) -> PyResult<()> {
        if !self.owned_by_caller {
            return Err(Error::Invalid(
                "a failure hook's transaction is committed by the engine together with the failure; \
                 it cannot be ended by the hook"
                    .to_owned(),
            )
            .into());
        }
        let inner = Arc::clone(&self.inner);
        block_on(py, &self.runtime, async move {
            let mut guard = inner.lock().await;
            let Some(mut tx) = guard.take() else { return Ok(()) };
            tx.finish(commit).await
        })
    }

    fn __repr__(&self) -> &'static str {
        if self.owned_by_caller {
            "<anclax_fast.Tx>"
        } else {
            "<anclax_fast.Tx (failure hook)>"
        }
    }
}

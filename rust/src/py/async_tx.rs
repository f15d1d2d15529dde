//! `AsyncTx`: a transaction driven from asyncio (`AsyncClient.transaction()`). The same
//! transaction object as `Tx`; each statement is an awaitable resolved by the client's runtime.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::db::query::QueryResult;
use crate::db::value::SqlValue;
use crate::error::Result;
use crate::py::awaitable::{Completions, OnCancel, into_py, spawn};
use crate::py::convert::{to_py, to_sql_values};
use crate::py::tx::{SharedTransaction, closed, row_to_dict, rows_to_dicts};
use crate::runtime::RuntimeHandle;

#[pyclass(frozen, module = "anclax_fast._core")]
pub struct AsyncTx {
    inner: SharedTransaction,
    runtime: RuntimeHandle,
    /// The loop of the coroutine that began the transaction, which awaits its statements.
    completions: Py<Completions>,
}

impl AsyncTx {
    pub fn new(inner: SharedTransaction, runtime: RuntimeHandle, completions: Py<Completions>) -> Self {
        Self {
            inner,
            runtime,
            completions,
        }
    }

    fn query<'py, C>(
        &self,
        py: Python<'py>,
        sql: &str,
        args: &Bound<'py, PyTuple>,
        convert: C,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        C: FnOnce(Python<'_>, QueryResult) -> PyResult<Py<PyAny>> + Send + 'static,
    {
        let values = to_sql_values(args)?;
        let inner = Arc::clone(&self.inner);
        let sql = sql.to_owned();
        spawn(
            self.completions.bind(py),
            &self.runtime,
            OnCancel::Finish,
            query(inner, sql, values),
            convert,
        )
    }
}

async fn query(inner: SharedTransaction, sql: String, values: Vec<SqlValue>) -> Result<QueryResult> {
    let mut guard = inner.lock().await;
    let tx = guard.as_mut().ok_or_else(closed)?;
    tx.query(&sql, &values).await
}

#[pymethods]
impl AsyncTx {
    /// Run a statement; resolves to the number of rows it affected.
    #[pyo3(signature = (sql, *args))]
    fn execute<'py>(&self, py: Python<'py>, sql: &str, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        let values = to_sql_values(args)?;
        let inner = Arc::clone(&self.inner);
        let sql = sql.to_owned();
        let work = async move {
            let mut guard = inner.lock().await;
            let tx = guard.as_mut().ok_or_else(closed)?;
            tx.execute(&sql, &values).await
        };
        spawn(
            self.completions.bind(py),
            &self.runtime,
            OnCancel::Finish,
            work,
            into_py,
        )
    }

    #[pyo3(signature = (sql, *args))]
    fn fetch<'py>(&self, py: Python<'py>, sql: &str, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, sql, args, |py, result| {
            Ok(rows_to_dicts(py, result)?.into_any().unbind())
        })
    }

    #[pyo3(signature = (sql, *args))]
    fn fetchrow<'py>(&self, py: Python<'py>, sql: &str, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, sql, args, |py, mut result| {
            if result.rows.is_empty() {
                return Ok(py.None());
            }
            let row = result.rows.swap_remove(0);
            Ok(row_to_dict(py, &result.columns, row)?.into_any().unbind())
        })
    }

    /// The first column of the first row (None when there is no row).
    #[pyo3(signature = (sql, *args))]
    fn fetchval<'py>(&self, py: Python<'py>, sql: &str, args: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        self.query(py, sql, args, |py, mut result| {
            match result
                .rows
                .first_mut()
                .and_then(|row| (!row.is_empty()).then(|| row.swap_remove(0)))
            {
                Some(value) => Ok(to_py(py, value)?.unbind()),
                None => Ok(py.None()),
            }
        })
    }

    /// Whether the transaction can still run statements (one running a statement can).
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .try_lock()
            .is_ok_and(|guard| guard.as_ref().is_none_or(|tx| !tx.is_open()))
    }

    /// End the transaction: commit or roll back, then release its connection.
    fn _finish<'py>(&self, py: Python<'py>, commit: bool) -> PyResult<Bound<'py, PyAny>> {
        let inner = Arc::clone(&self.inner);
        let work = async move {
            let mut guard = inner.lock().await;
            let Some(mut tx) = guard.take() else { return Ok(()) };
            tx.finish(commit).await
        };
        spawn(
            self.completions.bind(py),
            &self.runtime,
            OnCancel::Finish,
            work,
            into_py,
        )
    }

    #[allow(clippy::unused_self)]
    fn __repr__(&self) -> &'static str {
        "<anclax_fast.AsyncTx>"
    }
}

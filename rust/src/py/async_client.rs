//! `AsyncClientCore`: the Rust half of `anclax_fast.AsyncClient`. The same operations as
//! `ClientCore`, on the same kind of pool and runtime, returned as awaitables (`py::awaitable`)
//! instead of blocking the calling thread. Each method takes the `Completions` of the caller's
//! event loop first.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;

use crate::client::{ClientCore as Core, EnqueueOptions, ScheduleRegistration};
use crate::db::transaction::Transaction;
use crate::dsn;
use crate::error::Error;
use crate::py::async_tx::AsyncTx;
use crate::py::awaitable::{Completions, OnCancel, into_py, spawn};
use crate::py::client::{check_process, open};
use crate::py::tx::{row_to_dict, rows_to_dicts};
use crate::runtime::RuntimeHandle;

#[pyclass(frozen, module = "anclax_fast._core")]
pub struct AsyncClientCore {
    core: Arc<Core>,
    runtime: RuntimeHandle,
    redacted_dsn: String,
    pid: u32,
}

fn list_of_dicts(py: Python<'_>, result: crate::db::query::QueryResult) -> PyResult<Py<PyAny>> {
    Ok(rows_to_dicts(py, result)?.into_any().unbind())
}

#[pymethods]
impl AsyncClientCore {
    #[new]
    #[pyo3(signature = (dsn, pool_size))]
    fn new(dsn: &str, pool_size: usize) -> PyResult<Self> {
        let (core, runtime) = open(dsn, pool_size)?;
        Ok(Self {
            core,
            runtime,
            redacted_dsn: dsn::redact(dsn),
            pid: std::process::id(),
        })
    }

    /// Apply missing migrations; resolves to the versions applied.
    fn migrate<'py>(&self, completions: &Bound<'py, Completions>) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        spawn(
            completions,
            &self.runtime,
            OnCancel::Finish,
            async move { core.migrate().await },
            into_py,
        )
    }

    /// Insert one task; resolves to (id, inserted). TaskAlreadyExists when the unique tag is
    /// taken and `options.if_exists_raise`.
    fn enqueue<'py>(
        &self,
        completions: &Bound<'py, Completions>,
        name: String,
        payload: PyBackedBytes,
        options: EnqueueOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        let work = async move { core.enqueue(&name, &payload, &options).await };
        spawn(completions, &self.runtime, OnCancel::Finish, work, into_py)
    }

    /// Insert many tasks of one name in one round trip; resolves to their ids in input order.
    fn enqueue_many<'py>(
        &self,
        completions: &Bound<'py, Completions>,
        name: String,
        payloads: Vec<PyBackedBytes>,
        options: EnqueueOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        let work = async move {
            let slices: Vec<&[u8]> = payloads.iter().map(|p| &p[..]).collect();
            core.enqueue_many(&name, &slices, &options).await
        };
        spawn(completions, &self.runtime, OnCancel::Finish, work, into_py)
    }

    /// Create the lane of (name, labels, priority) in its own transaction if it is new (before an
    /// enqueue inside a caller's transaction; see `Core::ensure_lane`). Cached per client.
    fn ensure_lane<'py>(
        &self,
        completions: &Bound<'py, Completions>,
        name: String,
        labels: Vec<String>,
        priority: i32,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        let work = async move { core.ensure_lane(&name, &labels, priority).await };
        spawn(completions, &self.runtime, OnCancel::Finish, work, into_py)
    }

    /// The task row as a dict (TaskNotFound).
    fn task<'py>(&self, completions: &Bound<'py, Completions>, task_id: i64) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        let work = async move { core.task(task_id).await };
        spawn(completions, &self.runtime, OnCancel::Finish, work, |py, mut result| {
            let row = result.rows.swap_remove(0);
            Ok(row_to_dict(py, &result.columns, row)?.into_any().unbind())
        })
    }

    fn events<'py>(&self, completions: &Bound<'py, Completions>, task_id: i64) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        spawn(
            completions,
            &self.runtime,
            OnCancel::Finish,
            async move { core.events(task_id).await },
            list_of_dicts,
        )
    }

    /// 'cancelled', 'requested' or 'final' (TaskNotFound).
    fn cancel<'py>(&self, completions: &Bound<'py, Completions>, task_id: i64) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        spawn(
            completions,
            &self.runtime,
            OnCancel::Finish,
            async move { core.cancel(task_id).await },
            into_py,
        )
    }

    /// Resolves to the task's final status (WaitTimeout, TaskNotFound). Cancelling the awaiting
    /// coroutine stops the wait.
    #[pyo3(signature = (completions, task_id, timeout=None))]
    fn wait<'py>(
        &self,
        completions: &Bound<'py, Completions>,
        task_id: i64,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let timeout = timeout
            .map(|t| {
                Duration::try_from_secs_f64(t.max(0.0)).map_err(|_| Error::Invalid(format!("invalid timeout {t}")))
            })
            .transpose()?;
        let core = Arc::clone(&self.core);
        let work = async move { core.wait(task_id, timeout).await };
        spawn(completions, &self.runtime, OnCancel::Abort, work, into_py)
    }

    /// Register or update a cron task's schedule; resolves to the task id of its next fire.
    #[allow(clippy::too_many_arguments)]
    fn register_schedule<'py>(
        &self,
        completions: &Bound<'py, Completions>,
        name: String,
        unique_tag: String,
        expression: String,
        payload: PyBackedBytes,
        source: String,
        options: EnqueueOptions,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        let work = async move {
            let registration = ScheduleRegistration {
                task_name: &name,
                unique_tag: &unique_tag,
                expression: &expression,
                payload: &payload,
                source: &source,
                options: &options,
            };
            core.register_schedule(&registration).await
        };
        spawn(completions, &self.runtime, OnCancel::Finish, work, into_py)
    }

    fn unschedule<'py>(
        &self,
        completions: &Bound<'py, Completions>,
        task_name: String,
        unique_tag: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        let work = async move { core.unschedule(&task_name, &unique_tag).await };
        spawn(completions, &self.runtime, OnCancel::Finish, work, into_py)
    }

    fn schedules<'py>(&self, completions: &Bound<'py, Completions>) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        spawn(
            completions,
            &self.runtime,
            OnCancel::Finish,
            async move { core.schedules().await },
            list_of_dicts,
        )
    }

    /// Start a transaction on a pooled connection; resolves to an `AsyncTx` bound to this loop.
    fn begin<'py>(&self, completions: &Bound<'py, Completions>) -> PyResult<Bound<'py, PyAny>> {
        check_process(self.pid)?;
        let core = Arc::clone(&self.core);
        let runtime = self.runtime.clone();
        let owner = completions.clone().unbind();
        let work = async move { Transaction::begin(&core.pool).await };
        spawn(completions, &self.runtime, OnCancel::Finish, work, move |py, tx| {
            let tx = AsyncTx::new(Arc::new(tokio::sync::Mutex::new(Some(tx))), runtime, owner);
            Ok(Bound::new(py, tx)?.into_any().unbind())
        })
    }

    fn close(&self) {
        self.core.close();
    }

    fn __repr__(&self) -> String {
        format!("AsyncClientCore(dsn={:?})", self.redacted_dsn)
    }
}

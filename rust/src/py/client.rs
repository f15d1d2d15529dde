//! `ClientCore`: the Rust half of `anclax_fast.Client` (pool, runtime, enqueue, inspection).

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyDict, PyList};

use crate::client::{ClientCore as Core, EnqueueOptions, ScheduleRegistration};
use crate::db::transaction::Transaction;
use crate::dsn;
use crate::error::Error;
use crate::py::blocking::block_on;
use crate::py::tx::{Tx, row_to_dict, rows_to_dicts};
use crate::runtime::RuntimeHandle;

#[pyclass(frozen, module = "anclax_fast._core")]
pub struct ClientCore {
    core: Arc<Core>,
    runtime: RuntimeHandle,
    redacted_dsn: String,
    pid: u32,
}

/// A client's runtime threads do not survive `fork()`: refuse to run in a child process.
pub fn check_process(pid: u32) -> PyResult<()> {
    if std::process::id() == pid {
        Ok(())
    } else {
        Err(Error::Invalid(
            "this Client was created in another process (before a fork); create Clients after forking".to_owned(),
        )
        .into())
    }
}

/// The pool and the runtime its connections live on, shared by `ClientCore` and `AsyncClientCore`.
pub fn open(dsn: &str, pool_size: usize) -> PyResult<(Arc<Core>, RuntimeHandle)> {
    let config = dsn::parse(dsn, "anclax-fast client")?;
    let runtime = RuntimeHandle::new("anclax-client", 1)?;
    let core = {
        let _guard = runtime.handle().enter();
        Core::new(config, pool_size)?
    };
    Ok((Arc::new(core), runtime))
}

impl ClientCore {
    fn check_process(&self) -> PyResult<()> {
        check_process(self.pid)
    }

    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    pub fn runtime(&self) -> &RuntimeHandle {
        &self.runtime
    }

    pub fn redacted_dsn(&self) -> &str {
        &self.redacted_dsn
    }
}

#[pymethods]
impl ClientCore {
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

    /// Apply missing migrations; returns the versions applied.
    fn migrate(&self, py: Python<'_>) -> PyResult<Vec<i32>> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move { core.migrate().await })
    }

    fn check_schema(&self, py: Python<'_>) -> PyResult<()> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move { core.check_schema().await })
    }

    /// Insert one task; returns (id, inserted). Raises TaskAlreadyExists when the unique tag is
    /// taken and `options.if_exists_raise`.
    fn enqueue(
        &self,
        py: Python<'_>,
        name: String,
        payload: PyBackedBytes,
        options: EnqueueOptions,
    ) -> PyResult<(i64, bool)> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move {
            core.enqueue(&name, &payload, &options).await
        })
    }

    /// Insert many tasks of one name with shared options in one round trip; ids in input order.
    fn enqueue_many(
        &self,
        py: Python<'_>,
        name: String,
        payloads: Vec<PyBackedBytes>,
        options: EnqueueOptions,
    ) -> PyResult<Vec<i64>> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move {
            let slices: Vec<&[u8]> = payloads.iter().map(|p| &p[..]).collect();
            core.enqueue_many(&name, &slices, &options).await
        })
    }

    /// Create the lane of (name, labels, priority) in its own transaction if it is new (before an
    /// enqueue inside a caller's transaction; see `Core::ensure_lane`). Cached per client.
    fn ensure_lane(&self, py: Python<'_>, name: String, labels: Vec<String>, priority: i32) -> PyResult<()> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move {
            core.ensure_lane(&name, &labels, priority).await
        })
    }

    /// The task row as a dict (raises TaskNotFound).
    fn task<'py>(&self, py: Python<'py>, task_id: i64) -> PyResult<Bound<'py, PyDict>> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        let mut result = block_on(py, &self.runtime, async move { core.task(task_id).await })?;
        let row = result.rows.swap_remove(0);
        row_to_dict(py, &result.columns, row)
    }

    fn events<'py>(&self, py: Python<'py>, task_id: i64) -> PyResult<Bound<'py, PyList>> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        let result = block_on(py, &self.runtime, async move { core.events(task_id).await })?;
        rows_to_dicts(py, result)
    }

    /// 'cancelled', 'requested' or 'final' (raises TaskNotFound).
    fn cancel(&self, py: Python<'_>, task_id: i64) -> PyResult<String> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move { core.cancel(task_id).await })
    }

    /// Block until the task is final; returns its status (raises WaitTimeout, TaskNotFound).
    #[pyo3(signature = (task_id, timeout=None))]
    fn wait(&self, py: Python<'_>, task_id: i64, timeout: Option<f64>) -> PyResult<String> {
        self.check_process()?;
        let timeout = timeout
            .map(|t| {
                Duration::try_from_secs_f64(t.max(0.0)).map_err(|_| Error::Invalid(format!("invalid timeout {t}")))
            })
            .transpose()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move { core.wait(task_id, timeout).await })
    }

    /// Register or update a cron task's schedule; returns the task id of its next fire.
    #[allow(clippy::too_many_arguments)]
    fn register_schedule(
        &self,
        py: Python<'_>,
        name: String,
        unique_tag: String,
        expression: String,
        payload: PyBackedBytes,
        source: String,
        options: EnqueueOptions,
    ) -> PyResult<i64> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move {
            let registration = ScheduleRegistration {
                task_name: &name,
                unique_tag: &unique_tag,
                expression: &expression,
                payload: &payload,
                source: &source,
                options: &options,
            };
            core.register_schedule(&registration).await
        })
    }

    fn unschedule(&self, py: Python<'_>, task_name: String, unique_tag: String) -> PyResult<bool> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        block_on(py, &self.runtime, async move {
            core.unschedule(&task_name, &unique_tag).await
        })
    }

    fn schedules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        let result = block_on(py, &self.runtime, async move { core.schedules().await })?;
        rows_to_dicts(py, result)
    }

    /// Start a transaction on a pooled connection.
    fn begin(&self, py: Python<'_>) -> PyResult<Tx> {
        self.check_process()?;
        let core = Arc::clone(&self.core);
        let tx = block_on(py, &self.runtime, async move { Transaction::begin(&core.pool).await })?;
        Ok(Tx::new(
            Arc::new(tokio::sync::Mutex::new(Some(tx))),
            self.runtime.clone(),
            true,
        ))
    }

    fn close(&self) {
        self.core.close();
    }

    fn __repr__(&self) -> String {
        format!("ClientCore(dsn={:?})", self.redacted_dsn)
    }
}

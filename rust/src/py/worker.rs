//! `WorkerCore`: the Rust half of `anclax_fast.Worker`: owns the worker's tokio runtime, its
//! engine loops and its executor threads.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::db::connect::ConnectConfig;
use crate::db::pool;
use crate::dsn;
use crate::engine::lifecycle::{self, EngineTasks, Identity};
use crate::engine::{Dispatch, Engine, WorkerConfig};
use crate::error::Error;
use crate::py::blocking::block_on;
use crate::py::executor::Executor;
use crate::py::executor::handlers::Handlers;
use crate::runtime::RuntimeHandle;

/// Tokio threads of a worker: the engine's loops are I/O-bound.
const RUNTIME_THREADS: usize = 2;

struct Started {
    engine: Arc<Engine>,
    executor: Arc<Executor>,
    tasks: EngineTasks,
}

#[pyclass(frozen, module = "anclax_fast._core")]
pub struct WorkerCore {
    config: WorkerConfig,
    pg_config: ConnectConfig,
    handlers: Mutex<Option<Handlers>>,
    bridge_factory: Option<Py<PyAny>>,
    runtime: RuntimeHandle,
    auto_migrate: bool,
    hostname: String,
    started: Mutex<Option<Started>>,
    /// Kept after a stop for `stats()`.
    last_engine: Mutex<Option<Arc<Engine>>>,
    /// The process that built the worker: its runtime threads do not survive `fork()`.
    pid: u32,
}

fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| Error::Invalid(format!("{name} must be a non-negative number of seconds, got {value}")).into())
}

#[pymethods]
impl WorkerCore {
    #[new]
    #[pyo3(signature = (
        dsn, handlers, *, bridge_factory=None, concurrency, async_concurrency, labels, task_names, lease_ttl,
        poll_interval, shutdown_grace, timeout_grace, retention_completed, retention_failed,
        maintenance_interval, pool_size, auto_migrate, hostname
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        dsn: &str,
        handlers: &Bound<'_, PyDict>,
        bridge_factory: Option<Py<PyAny>>,
        concurrency: usize,
        async_concurrency: usize,
        labels: Vec<String>,
        task_names: Option<Vec<String>>,
        lease_ttl: f64,
        poll_interval: f64,
        shutdown_grace: f64,
        timeout_grace: f64,
        retention_completed: Option<f64>,
        retention_failed: Option<f64>,
        maintenance_interval: f64,
        pool_size: usize,
        auto_migrate: bool,
        hostname: String,
    ) -> PyResult<Self> {
        let handlers = Handlers::from_dict(handlers)?;
        let async_task_names = handlers.async_names();
        if !async_task_names.is_empty() && bridge_factory.is_none() {
            return Err(Error::Invalid("async executor methods need an asyncio bridge".to_owned()).into());
        }
        let config = WorkerConfig {
            concurrency,
            async_concurrency,
            labels,
            task_names,
            async_task_names,
            lease_ttl: seconds("lease_ttl", lease_ttl)?,
            poll_interval: seconds("poll_interval", poll_interval)?,
            shutdown_grace: seconds("shutdown_grace", shutdown_grace)?,
            timeout_grace: seconds("timeout_grace", timeout_grace)?,
            retention_completed: retention_completed
                .map(|s| seconds("retention_completed", s))
                .transpose()?,
            retention_failed: retention_failed.map(|s| seconds("retention_failed", s)).transpose()?,
            maintenance_interval: seconds("maintenance_interval", maintenance_interval)?,
            pool_size,
        };
        config.validate()?;
        let pg_config = dsn::parse(dsn, "anclax-fast worker")?;
        Ok(Self {
            config,
            pg_config,
            handlers: Mutex::new(Some(handlers)),
            bridge_factory,
            runtime: RuntimeHandle::new("anclax-worker", RUNTIME_THREADS)?,
            auto_migrate,
            hostname,
            started: Mutex::new(None),
            last_engine: Mutex::new(None),
            pid: std::process::id(),
        })
    }

    /// Connect, migrate or check the schema, register, and start working. Returns the worker id.
    fn start(&self, py: Python<'_>) -> PyResult<i64> {
        if std::process::id() != self.pid {
            // Its runtime's threads stayed in the parent: starting would wait for them forever.
            return Err(Error::Invalid(
                "this Worker was created in another process (before a fork); create Workers after forking".to_owned(),
            )
            .into());
        }
        let handlers = self
            .handlers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| Error::Invalid("a worker can only be started once; create a new one".to_owned()))?;
        let housekeeping = crate::engine::WorkerConfig::HOUSEKEEPING_CONNECTIONS;
        let (pool, hook_pool) = {
            let _guard = self.runtime.handle().enter();
            (
                pool::build(self.pg_config.clone(), housekeeping)?,
                pool::build(
                    self.pg_config.clone(),
                    self.config.pool_size.saturating_sub(housekeeping).max(1),
                )?,
            )
        };
        let (engine, channels) = Engine::new(self.config.clone(), self.pg_config.clone(), pool, hook_pool)?;
        let executor = Executor::new(Arc::clone(&engine), self.runtime.clone(), handlers);
        let dispatcher: Arc<dyn Dispatch> = executor.clone();
        let identity = Identity {
            hostname: self.hostname.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        let start_engine = Arc::clone(&engine);
        let auto_migrate = self.auto_migrate;
        let tasks = block_on(py, &self.runtime, async move {
            lifecycle::start(&start_engine, channels, dispatcher, identity, auto_migrate).await
        })?;
        executor.start(
            py,
            self.config.concurrency,
            self.bridge_factory.as_ref().map(|f| f.clone_ref(py)),
        )?;
        let worker_id = engine.worker_id();
        *self.last_engine.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&engine));
        *self.started.lock().unwrap_or_else(PoisonError::into_inner) = Some(Started {
            engine,
            executor,
            tasks,
        });
        Ok(worker_id)
    }

    /// Stop gracefully (see `lifecycle::stop`); `grace` overrides the configured shutdown grace.
    #[pyo3(signature = (grace=None))]
    fn stop(&self, py: Python<'_>, grace: Option<f64>) -> PyResult<()> {
        let Some(started) = self.started.lock().unwrap_or_else(PoisonError::into_inner).take() else {
            return Ok(());
        };
        let grace = grace
            .map(|g| seconds("grace", g))
            .transpose()?
            .unwrap_or(self.config.shutdown_grace);
        let engine = Arc::clone(&started.engine);
        block_on(py, &self.runtime, async move {
            lifecycle::stop(&engine, started.tasks, grace).await;
            Ok(())
        })?;
        started.executor.shutdown(py);
        Ok(())
    }

    #[getter]
    fn running(&self) -> bool {
        self.started.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    #[getter]
    fn worker_id(&self) -> Option<i64> {
        self.last_engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|e| e.worker_id())
    }

    /// Why the engine failed (one of its loops panicked or ended; the worker must stop), or None.
    #[getter]
    fn failure(&self) -> Option<String> {
        self.last_engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|e| e.failure())
    }

    /// Metrics since start: `{"tasks": {name: {started, completed, retried, failed, duration}},
    /// "claim_batch_size": histogram, "in_flight": n, "busy_slots": n}`; a histogram is
    /// `(buckets [(upper bound, cumulative count)], sum)`.
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        let tasks = PyDict::new(py);
        if let Some(started) = self.started.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            for (name, metrics) in started.executor.task_metrics() {
                let entry = PyDict::new(py);
                entry.set_item("started", metrics.started.load(Ordering::Relaxed))?;
                entry.set_item("completed", metrics.completed.load(Ordering::Relaxed))?;
                entry.set_item("retried", metrics.retried.load(Ordering::Relaxed))?;
                entry.set_item("failed", metrics.failed.load(Ordering::Relaxed))?;
                entry.set_item("duration", metrics.duration.snapshot())?;
                tasks.set_item(name, entry)?;
            }
            dict.set_item("claim_batch_size", started.engine.stats.claim_batch_size.snapshot())?;
            dict.set_item("in_flight", started.engine.running.len())?;
            dict.set_item("busy_slots", started.engine.slots.busy())?;
        }
        dict.set_item("tasks", tasks)?;
        Ok(dict)
    }

    /// Counters since start, plus gauges: in_flight (attempts running).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        if let Some(engine) = self.last_engine.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            for (name, value) in engine.stats.snapshot() {
                dict.set_item(name, value)?;
            }
            dict.set_item("in_flight", engine.running.len())?;
        }
        Ok(dict)
    }
}

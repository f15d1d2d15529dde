//! The failure hook path (SEMANTICS.md §3), on an executor thread: the transaction that marks the
//! task failed runs the hook inside a savepoint and commits both together.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::backoff::Backoff;
use crate::db::transaction::Transaction;
use crate::engine::failure_tx::{self, FailureStart};
use crate::engine::stats::Stats;
use crate::engine::task::{ClaimedTask, Failure};
use crate::error::Error;
use crate::py::executor::handlers::Handler;
use crate::py::executor::{Executor, outcome};
use crate::py::tx::Tx;

/// Keep trying while the database is unreachable, up to this many times: the hook's writes
/// must commit with the failure, and an attempt whose transaction broke left no trace.
const MAX_TRIES: u32 = 20;

pub fn run_failure_transaction(
    executor: &Executor,
    py: Python<'_>,
    handler: &Handler,
    task: &ClaimedTask,
    failure: &Failure,
    error_event: bool,
) {
    let mut backoff = Backoff::default();
    for _ in 0..MAX_TRIES {
        match try_once(executor, py, handler, task, failure, error_event) {
            Ok(()) => return,
            Err(err) if err.is_transient() => {
                let delay = backoff.next_delay();
                log::warn!(
                    "failure transaction of task {} broke ({err}); retrying in {delay:?}",
                    task.id
                );
                py.detach(|| std::thread::sleep(delay));
            }
            Err(err) => {
                log::error!(
                    "failure transaction of task {} failed: {err}; the task stays running until rescued",
                    task.id
                );
                return;
            }
        }
    }
    log::error!(
        "gave up recording the failure of task {}; it stays running until rescued",
        task.id
    );
}

fn try_once(
    executor: &Executor,
    py: Python<'_>,
    handler: &Handler,
    task: &ClaimedTask,
    failure: &Failure,
    error_event: bool,
) -> Result<(), Error> {
    let engine = &executor.engine;
    let worker = engine.worker_id();
    let start = py.detach(|| {
        executor
            .runtime
            .block_on(failure_tx::begin(&engine.pool, task, failure, error_event, worker))
    })?;
    let (conn, attempts) = match start {
        FailureStart::LeaseLost => {
            Stats::add(&engine.stats.discarded_results, 1);
            return Ok(());
        }
        FailureStart::Cancelled => {
            Stats::add(&engine.stats.cancelled, 1);
            return Ok(());
        }
        FailureStart::Failed { conn, attempts } => (*conn, attempts),
    };
    let shared = Arc::new(tokio::sync::Mutex::new(Some(Transaction::from_open(conn))));
    let hook_error = call_hook(py, executor, handler, task, &shared);
    let (conn, sql_failure) = py.detach(|| {
        executor.runtime.block_on(async {
            let mut guard = shared.lock().await;
            let mut tx = guard
                .take()
                .ok_or_else(|| Error::Invalid("the hook's transaction vanished".to_owned()))?;
            let failure = tx.failure().map(str::to_owned);
            let conn = tx
                .take_connection()
                .ok_or_else(|| Error::Invalid("the hook's transaction was closed".to_owned()))?;
            Ok::<_, Error>((conn, failure))
        })
    })?;
    let hook_error = hook_error.or_else(|| {
        sql_failure.map(|message| {
            (
                format!(
                    "a statement of the hook failed ({message}); the hook caught the error, but the transaction \
                     could not go on, so the hook's writes were rolled back"
                ),
                None,
            )
        })
    });
    let failed = hook_error.is_some();
    py.detach(|| {
        executor
            .runtime
            .block_on(failure_tx::finish(conn, task.id, attempts, hook_error, worker))
    })?;
    Stats::add(&engine.stats.failed, 1);
    Stats::add(&engine.stats.hooks_run, 1);
    if failed {
        Stats::add(&engine.stats.hooks_failed, 1);
    }
    Ok(())
}

/// Call `on_<task>_failed(ctx, task_id, params, tx)`; returns why it failed, if it did.
fn call_hook(
    py: Python<'_>,
    executor: &Executor,
    handler: &Handler,
    task: &ClaimedTask,
    shared: &crate::py::tx::SharedTransaction,
) -> Option<(String, Option<String>)> {
    let hook = handler.hook.as_ref()?;
    let params = match outcome::decode_params(py, handler, task) {
        Ok(params) => params,
        Err(failure) => {
            return Some((
                format!("the hook was not called: {}", failure.message),
                failure.traceback,
            ));
        }
    };
    let run = || -> PyResult<()> {
        let ctx = outcome::make_context(py, handler, task)?;
        let tx = Py::new(py, Tx::new(Arc::clone(shared), executor.runtime.clone(), false))?;
        hook.bind(py).call1((ctx, task.id, params, tx))?;
        Ok(())
    };
    match run() {
        Ok(()) => None,
        Err(err) => {
            let failure = outcome::classify(py, &err);
            log::warn!(
                "failure hook of task {} ({}) raised: {}",
                task.id,
                task.name,
                failure.message
            );
            Some((failure.message, failure.traceback))
        }
    }
}

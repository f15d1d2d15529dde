//! The failure hook path (SEMANTICS.md §3), on an executor thread: the transaction that marks the
//! task failed runs the hook inside a savepoint and commits both together.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::backoff::Backoff;
use crate::engine::Completion;
use crate::engine::failure_tx::{self, FailureStart};
use crate::engine::stats::Stats;
use crate::engine::task::{ClaimedTask, Decision, Failure};
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
                // Retrying the same transaction would fail the same way: record the failure
                // without the hook instead, so the task still ends (a task left running would be
                // released and run again, past its max_attempts).
                log::error!(
                    "failure transaction of task {} failed: {err}; recording the failure without the hook",
                    task.id
                );
                let mut failure = failure.clone();
                failure.message = format!(
                    "{} (the failure hook's transaction failed and was rolled back: {err})",
                    failure.message
                );
                executor.engine.complete(Completion {
                    task_id: task.id,
                    token: task.token,
                    decision: Decision::Fail { error_event },
                    failure: Some(failure),
                });
                Stats::add(&executor.engine.stats.hooks_failed, 1);
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
            .block_on(failure_tx::begin(&engine.hook_pool, task, failure, error_event, worker))
    })?;
    let (tx, attempts) = match start {
        FailureStart::LeaseLost => {
            Stats::add(&engine.stats.discarded_results, 1);
            return Ok(());
        }
        FailureStart::Cancelled => {
            Stats::add(&engine.stats.cancelled, 1);
            return Ok(());
        }
        FailureStart::Failed { tx, attempts } => (*tx, attempts),
    };
    let shared = Arc::new(tokio::sync::Mutex::new(Some(tx)));
    let hook_error = call_hook(py, executor, handler, task, &shared);
    let (tx, sql_failure) = py.detach(|| {
        executor.runtime.block_on(async {
            let mut guard = shared.lock().await;
            let tx = guard
                .take()
                .ok_or_else(|| Error::Invalid("the hook's transaction vanished".to_owned()))?;
            let failure = tx.failure().map(str::to_owned);
            Ok::<_, Error>((tx, failure))
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
            .block_on(failure_tx::finish(tx, task.id, attempts, hook_error, worker))
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

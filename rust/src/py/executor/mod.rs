//! Running tasks in Python: dedicated executor threads for sync methods, an asyncio loop for
//! `async def` methods, and the Python side of timeouts, cancels and failure hooks.
//!
//! Threads attach to the interpreter once and detach only while they wait for work (see
//! `work_queue`); the tokio runtime never waits on the GIL.

mod async_tasks;
pub mod handlers;
mod hook;
mod interrupt;
mod outcome;
mod threads;

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;

use crate::engine::stats::TaskMetrics;
use crate::engine::task::{AttemptKey, ClaimedTask, Decision, Failure, Finish, decide};
use crate::engine::{Completion, Dispatch, Engine, SlotKind};
use crate::runtime::RuntimeHandle;
use crate::work_queue::WorkQueue;

pub use async_tasks::AsyncDone;
use handlers::Handlers;

/// Work for an executor thread.
pub enum Job {
    /// Run an attempt.
    Run(Arc<ClaimedTask>),
    /// Record how an attempt ended, possibly running its failure hook: for attempts that ended
    /// somewhere a hook must not run (the event loop) or that were abandoned.
    Finalize {
        kind: SlotKind,
        task: Arc<ClaimedTask>,
        failure: Option<Failure>,
    },
}

pub struct Executor {
    engine: Arc<Engine>,
    runtime: RuntimeHandle,
    handlers: Handlers,
    queue: WorkQueue<Job>,
    threads: threads::ThreadPool,
    interrupts: interrupt::Interrupter,
    async_tasks: OnceLock<async_tasks::AsyncTasks>,
}

impl Executor {
    pub fn new(engine: Arc<Engine>, runtime: RuntimeHandle, handlers: Handlers) -> Arc<Self> {
        Arc::new_cyclic(|weak| Self {
            threads: threads::ThreadPool::new(weak.clone()),
            interrupts: interrupt::Interrupter::new(weak.clone()),
            async_tasks: OnceLock::new(),
            engine,
            runtime,
            handlers,
            queue: WorkQueue::default(),
        })
    }

    /// Start the threads, and the asyncio bridge when `bridge_factory` is given (it is called
    /// with the completion callback and returns a started `anclax_fast._async_bridge.AsyncBridge`).
    pub fn start(
        self: &Arc<Self>,
        py: Python<'_>,
        thread_count: usize,
        bridge_factory: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        if let Some(factory) = bridge_factory {
            let tasks = async_tasks::AsyncTasks::start(py, Arc::downgrade(self), &factory)?;
            let _ = self.async_tasks.set(tasks);
        }
        // At least one thread even for an all-async executor: failure hooks run on threads.
        self.threads.spawn(thread_count.max(1))?;
        self.interrupts.start()?;
        Ok(())
    }

    /// Stop handing out work and let idle threads exit. Threads stuck in a task stay until it returns.
    pub fn shutdown(&self, py: Python<'_>) {
        drop(self.queue.close());
        self.interrupts.stop();
        if let Some(tasks) = self.async_tasks.get() {
            tasks.stop(py);
        }
    }

    fn run_job(&self, py: Python<'_>, slot: &threads::ThreadSlot, job: Job) {
        match job {
            Job::Run(task) => {
                let failure = self.run_attempt(py, slot, &task);
                self.conclude(py, SlotKind::Sync, task, failure);
            }
            Job::Finalize { kind, task, failure } => self.record(py, kind, &task, failure),
        }
    }

    /// Run one sync attempt on this thread; `None` when it succeeded.
    fn run_attempt(&self, py: Python<'_>, slot: &threads::ThreadSlot, task: &ClaimedTask) -> Option<Failure> {
        if task.attempts_exhausted_at_claim() {
            return Some(Failure::new(
                crate::engine::FailureKind::Error,
                "the worker running the final attempt stopped (lease expired); the task is not run again",
            ));
        }
        let Some(handler) = self.handlers.get(&task.name) else {
            return Some(outcome::unknown_task_failure(task));
        };
        handler.metrics.started.fetch_add(1, Ordering::Relaxed);
        let params = match outcome::decode_params(py, handler, task) {
            Ok(params) => params,
            Err(failure) => return Some(failure),
        };
        let ctx = match outcome::make_context(py, handler, task) {
            Ok(ctx) => ctx,
            Err(err) => return Some(outcome::classify(py, &err)),
        };
        let result = slot.run_interruptibly(task, || handler.execute.bind(py).call1((ctx, params)));
        match result {
            Ok(value) => returned_awaitable(py, &value),
            Err(err) => Some(outcome::classify(py, &err)),
        }
    }

    /// The executor finished an attempt: settle the race with its deadline, then record it.
    fn conclude(&self, py: Python<'_>, kind: SlotKind, task: Arc<ClaimedTask>, failure: Option<Failure>) {
        match task.control.finish() {
            Finish::Counts => self.record(py, kind, &task, failure),
            Finish::TimedOut => {
                // A result that arrives after the deadline is discarded; keep the traceback of the
                // TaskTimeout raised into the task, if that is how it ended.
                let mut timeout = outcome::timeout_failure(&task, false);
                if let Some(f) = failure.filter(|f| f.kind == crate::engine::FailureKind::Timeout) {
                    timeout.traceback = f.traceback;
                }
                self.record(py, kind, &task, Some(timeout));
            }
            // The deadline watcher gave up on this attempt and finalized it already.
            Finish::Abandoned => {}
        }
    }

    /// The handler whose failure hook must run for this decision, if any.
    fn hook_for(&self, task: &ClaimedTask, decision: &Decision) -> Option<&handlers::Handler> {
        match decision {
            Decision::Fail { .. } => self.handlers.get(&task.name).filter(|h| h.hook.is_some()),
            _ => None,
        }
    }

    /// On an executor thread: hand the result to the batcher, or run the failure transaction
    /// with its hook right here.
    fn record(&self, py: Python<'_>, kind: SlotKind, task: &ClaimedTask, failure: Option<Failure>) {
        let decision = decide(task, failure.as_ref());
        self.observe(task, &decision, failure.as_ref());
        match (self.hook_for(task, &decision), &decision, failure) {
            (Some(handler), Decision::Fail { error_event }, Some(failure)) => {
                hook::run_failure_transaction(self, py, handler, task, &failure, *error_event);
            }
            (_, _, failure) => {
                self.engine.complete(Completion {
                    task_id: task.id,
                    token: task.token,
                    decision,
                    failure,
                });
            }
        }
        self.engine.finish_attempt(task.key, kind);
    }

    /// Off the executor threads (the event loop): a failure hook is queued for a thread.
    fn record_off_thread(&self, kind: SlotKind, task: Arc<ClaimedTask>, failure: Option<Failure>) {
        let decision = decide(&task, failure.as_ref());
        if self.hook_for(&task, &decision).is_some() {
            // Counted by `record` when a thread takes the job.
            self.queue.push_all([Job::Finalize { kind, task, failure }]);
        } else {
            self.observe(&task, &decision, failure.as_ref());
            self.engine.complete(Completion {
                task_id: task.id,
                token: task.token,
                decision,
                failure,
            });
            self.engine.finish_attempt(task.key, kind);
        }
    }

    /// Per-task-name metrics (and the log line of a failure) of an attempt that ended.
    fn observe(&self, task: &ClaimedTask, decision: &Decision, failure: Option<&Failure>) {
        if let Some(failure) = failure {
            let next = match decision {
                Decision::Retry { delay, .. } => format!("retrying in {delay:?}"),
                _ => "failed for good".to_owned(),
            };
            let attempts = if task.max_attempts < 0 {
                "∞".to_owned()
            } else {
                task.max_attempts.to_string()
            };
            log::warn!(
                "task {} ({}) attempt {}/{attempts} failed, {next}: {}{}",
                task.id,
                task.name,
                task.attempt,
                failure.message,
                failure
                    .traceback
                    .as_deref()
                    .map(|tb| format!("\n{tb}"))
                    .unwrap_or_default()
            );
        }
        let Some(handler) = self.handlers.get(&task.name) else {
            return;
        };
        let metrics = &handler.metrics;
        let counter = match decision {
            Decision::Complete => &metrics.completed,
            Decision::Retry { .. } => &metrics.retried,
            Decision::Fail { .. } => &metrics.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics.duration.observe(task.claimed_at.elapsed().as_secs_f64());
    }

    /// Per-task-name metrics of every handler.
    pub fn task_metrics(&self) -> impl Iterator<Item = (&String, &TaskMetrics)> {
        self.handlers.iter().map(|(name, handler)| (name, &handler.metrics))
    }
}

/// A sync method that returned a coroutine was declared without `async`: fail clearly (and close
/// the coroutine so Python does not warn that it was never awaited).
fn returned_awaitable(py: Python<'_>, value: &Bound<'_, PyAny>) -> Option<Failure> {
    // Executors return None: checking that first skips a failing attribute lookup (and the
    // AttributeError it builds) per task.
    if value.is_none() {
        return None;
    }
    let is_coroutine = value.hasattr("__await__").unwrap_or(false);
    if !is_coroutine {
        return None;
    }
    if value.hasattr("close").unwrap_or(false) {
        let _ = value.call_method0("close");
    }
    let _ = py;
    Some(Failure::new(
        crate::engine::FailureKind::Error,
        "the executor method returned an awaitable but is not declared `async def`; declare it async so the \
         worker runs it on its event loop",
    ))
}

impl Dispatch for Executor {
    fn dispatch(&self, kind: SlotKind, tasks: Vec<Arc<ClaimedTask>>) {
        match (kind, self.async_tasks.get()) {
            (SlotKind::Async, Some(async_tasks)) => async_tasks.submit(tasks),
            _ => self.queue.push_all(tasks.into_iter().map(Job::Run)),
        }
    }

    fn interrupt(&self, key: AttemptKey) {
        self.interrupts.request(interrupt::Request::Timeout(key));
    }

    fn cancel(&self, key: AttemptKey) {
        if self.engine.running.get(key).is_some_and(|a| a.kind == SlotKind::Async) {
            self.interrupts.request(interrupt::Request::CancelAsync(key));
        }
    }

    fn abandon(&self, kind: SlotKind, task: Arc<ClaimedTask>) {
        if kind == SlotKind::Sync {
            self.threads.replace_thread_running(task.key);
        }
        let failure = outcome::timeout_failure(&task, true);
        self.queue.push_all([Job::Finalize {
            kind,
            task,
            failure: Some(failure),
        }]);
    }
}

//! Ownership of tokio runtimes. A `Client` and each `Worker` own one; Python threads enter them
//! through `block_on` only after detaching from the interpreter, so no tokio task ever waits on
//! the GIL held by a thread that is waiting on tokio.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::{Error, Result};

/// A multi-thread runtime with few threads: the engine's work is I/O-bound.
#[derive(Clone)]
pub struct RuntimeHandle {
    runtime: Arc<Runtime>,
}

impl RuntimeHandle {
    pub fn new(name: &str, threads: usize) -> Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|err| Error::Unavailable(format!("cannot start the {name} runtime: {err}")))?;
        Ok(Self {
            runtime: Arc::new(runtime),
        })
    }

    #[must_use]
    pub fn handle(&self) -> &Handle {
        self.runtime.handle()
    }

    /// Run a future to completion from a thread outside the runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }
}

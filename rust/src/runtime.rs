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
    runtime: Arc<OwnedRuntime>,
}

/// The last reference to a runtime can go away anywhere Python collects garbage, including a
/// tokio thread of another runtime (a log call there allocates, allocation runs the collector).
/// Dropping a runtime in such a context panics because it would block, so there it is shut down
/// in the background instead.
struct OwnedRuntime(Option<Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            if Handle::try_current().is_ok() {
                runtime.shutdown_background();
            } else {
                drop(runtime);
            }
        }
    }
}

impl OwnedRuntime {
    fn get(&self) -> &Runtime {
        self.0
            .as_ref()
            .expect("a runtime is present until its owner is dropped")
    }
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
            runtime: Arc::new(OwnedRuntime(Some(runtime))),
        })
    }

    #[must_use]
    pub fn handle(&self) -> &Handle {
        self.runtime.get().handle()
    }

    /// Run a future to completion from a thread outside the runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.get().block_on(future)
    }

    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.get().spawn(future)
    }
}

#[cfg(test)]
mod tests {
    use super::RuntimeHandle;

    #[test]
    fn a_runtime_dropped_inside_another_runtime_does_not_panic() {
        let outer = RuntimeHandle::new("outer", 1).unwrap_or_else(|err| panic!("{err}"));
        let inner = RuntimeHandle::new("inner", 1).unwrap_or_else(|err| panic!("{err}"));
        inner.spawn(std::future::pending::<()>());
        outer.block_on(async move { drop(inner) });
    }
}

//! Running engine futures from Python threads: detached from the interpreter, and in slices so
//! that Ctrl-C (and other signal handlers) still get through during a long wait.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Result;
use crate::runtime::RuntimeHandle;

const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

pub fn block_on<F, T>(py: Python<'_>, runtime: &RuntimeHandle, future: F) -> PyResult<T>
where
    F: Future<Output = Result<T>> + Send,
    T: Send,
{
    let mut future = Box::pin(future);
    loop {
        // The timer must be created inside the runtime: build it in the async block.
        let step =
            py.detach(|| runtime.block_on(async { tokio::time::timeout(SIGNAL_CHECK_INTERVAL, &mut future).await }));
        match step {
            Ok(result) => return result.map_err(Into::into),
            Err(_elapsed) => py.check_signals()?,
        }
    }
}

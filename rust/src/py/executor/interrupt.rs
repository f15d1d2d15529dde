//! Raising `TaskTimeout` into a running sync task (`PyThreadState_SetAsyncExc`) and cancelling
//! async ones, from a thread of its own: it needs the GIL, which tokio tasks must not wait for.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Mutex, PoisonError, Weak};

use pyo3::prelude::*;
use pyo3::type_object::PyTypeInfo;

use crate::engine::{AttemptKey, SlotKind};
use crate::py::errors::TaskTimeout;
use crate::py::executor::Executor;

pub enum Request {
    Timeout(AttemptKey),
    CancelAsync(AttemptKey),
}

pub struct Interrupter {
    executor: Weak<Executor>,
    sender: Mutex<Option<Sender<Request>>>,
}

impl Interrupter {
    pub fn new(executor: Weak<Executor>) -> Self {
        Self {
            executor,
            sender: Mutex::new(None),
        }
    }

    pub fn start(&self) -> PyResult<()> {
        let (sender, receiver) = channel();
        *self.sender.lock().unwrap_or_else(PoisonError::into_inner) = Some(sender);
        let executor = self.executor.clone();
        std::thread::Builder::new()
            .name("anclax-interrupt".to_owned())
            .spawn(move || serve(&executor, &receiver))
            .map_err(|err| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the interrupter: {err}")))?;
        Ok(())
    }

    pub fn request(&self, request: Request) {
        if let Some(sender) = self.sender.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            let _ = sender.send(request);
        }
    }

    pub fn stop(&self) {
        self.sender.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
}

fn serve(executor: &Weak<Executor>, receiver: &Receiver<Request>) {
    while let Ok(request) = receiver.recv() {
        let Some(executor) = executor.upgrade() else { return };
        Python::attach(|py| handle(py, &executor, request));
    }
}

fn handle(py: Python<'_>, executor: &Executor, request: Request) {
    match request {
        Request::Timeout(key) => match executor.engine.running.get(key).map(|a| a.kind) {
            Some(SlotKind::Sync) => {
                if let Some(ident) = executor.threads.ident_running(key) {
                    raise_timeout(py, ident);
                }
            }
            Some(SlotKind::Async) => executor.cancel_coroutine(py, key),
            None => {}
        },
        Request::CancelAsync(key) => executor.cancel_coroutine(py, key),
    }
}

#[allow(unsafe_code)]
fn raise_timeout(py: Python<'_>, ident: u64) {
    let exception = TaskTimeout::type_object(py);
    // SAFETY: the GIL is held and the exception class outlives the call (it is a module global).
    // The thread is inside the timed-out task's code: `ident_running` was read under this GIL.
    unsafe {
        pyo3::ffi::PyThreadState_SetAsyncExc(ident as std::ffi::c_long, exception.as_ptr());
    }
}

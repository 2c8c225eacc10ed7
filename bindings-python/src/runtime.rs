//! The binding's one tokio runtime and how Python waits on it: blocking calls
//! ([`Blocking`], the GIL released while the core works) and awaitables for asyncio
//! ([`Awaitable`]). Every core future runs as a task of this runtime, so a panic in it
//! comes back as an `InternalError` instead of unwinding into Python.
//!
//! Interpreter exit: a runtime thread must never touch Python once finalization has
//! begun (CPython frees the interpreter under it: the process dies with SIGSEGV or
//! SIGABRT in `PyGILState_Release`). So an `atexit` hook, which runs while the
//! interpreter is still whole, shuts the runtime down with the GIL released: running
//! deliveries finish, queued ones and unfinished calls are dropped without touching
//! Python, and the runtime's threads are joined. After that a new call from the exiting
//! thread (a later exit hook) is refused; a daemon thread, coming back from a blocking
//! call or making a new one, parks instead of running Python during finalization (an
//! exception it raised there would be printed to a stderr the interpreter is tearing
//! down, which aborts the process).

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::{AbortHandle, JoinError};

use crate::errors::{BindingError, exception_instance};

/// The runtime, created on first use and taken down by the exit hook.
static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

/// Set by the exit hook: the runtime is gone or going.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// The thread that ran the exit hook: the one finalizing the interpreter.
static EXITING_THREAD: Mutex<Option<std::thread::ThreadId>> = Mutex::new(None);

/// How long the exit hook waits for calls still in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn closed_error() -> BindingError {
    BindingError::Internal {
        code: "runtime_closed",
        message: "the interpreter is exiting: billbridge's runtime is shut down".to_owned(),
    }
}

/// A handle on the runtime for a new call. Once the exit hook has run, the exiting
/// thread gets an error, and any other thread (a daemon thread still calling in while
/// the interpreter finalizes) parks for good with the GIL released.
fn handle_for_call(py: Python<'_>) -> Result<Handle, BindingError> {
    let handle = handle();
    if handle.is_err() && CLOSED.load(Ordering::SeqCst) {
        let exiting = EXITING_THREAD.lock().ok().and_then(|thread| *thread);
        if exiting.is_some_and(|thread| thread != std::thread::current().id()) {
            py.detach(|| {
                loop {
                    std::thread::park();
                }
            });
        }
    }
    handle
}

/// A handle on the runtime, built on first use.
fn handle() -> Result<Handle, BindingError> {
    if CLOSED.load(Ordering::SeqCst) {
        return Err(closed_error());
    }
    let mut slot = RUNTIME.lock().map_err(|_| BindingError::Internal {
        code: "runtime_unavailable",
        message: "billbridge's runtime lock was poisoned".to_owned(),
    })?;
    if let Some(runtime) = slot.as_ref() {
        return Ok(runtime.handle().clone());
    }
    let runtime = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("billbridge")
        .enable_all()
        .build()
        .map_err(|error| BindingError::Internal {
            code: "runtime_unavailable",
            message: format!("could not start the async runtime: {error}"),
        })?;
    let handle = runtime.handle().clone();
    *slot = Some(runtime);
    Ok(handle)
}

fn task_failed(error: &JoinError) -> BindingError {
    if error.is_panic() {
        BindingError::Internal {
            code: "panic",
            message: "a billbridge task panicked; this is a bug in billbridge".to_owned(),
        }
    } else {
        closed_error()
    }
}

/// Runs `future` to completion on the runtime with the GIL released.
pub fn block_on<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = Result<T, BindingError>> + Send + 'static,
    T: Send + 'static,
{
    let handle = handle_for_call(py)?;
    let result = py.detach(|| {
        let joined = handle.block_on(handle.spawn(future));
        if CLOSED.load(Ordering::SeqCst) {
            // Only a daemon thread is still here while the interpreter exits; taking
            // the GIL now would crash the process, so it waits to be torn down.
            loop {
                std::thread::park();
            }
        }
        joined.unwrap_or_else(|error| Err(task_failed(&error)))
    });
    result.map_err(PyErr::from)
}

/// Resolves an asyncio future on its loop, unless it was cancelled meanwhile.
#[pyfunction]
fn _resolve(future: &Bound<'_, PyAny>, ok: bool, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    let method = if ok { "set_result" } else { "set_exception" };
    future.call_method1(method, (value,))?;
    Ok(())
}

/// Cancels the Rust task when asyncio cancels its future.
#[pyclass(frozen)]
struct CancelTask(AbortHandle);

#[pymethods]
impl CancelTask {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}

/// Hands `outcome` to `future` on `event_loop`, from a thread of the runtime's blocking
/// pool (an async worker never waits for the GIL).
fn deliver(
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
    outcome: Result<Py<PyAny>, BindingError>,
    convert_error: fn(Python<'_>, &BindingError) -> PyResult<Py<PyAny>>,
) {
    Python::attach(|py| {
        let (ok, value) = match outcome {
            Ok(value) => (true, Ok(value)),
            Err(error) => (false, convert_error(py, &error)),
        };
        let delivered = value.and_then(|value| {
            let resolve = wrap_pyfunction!(_resolve, py)?;
            let arguments = PyTuple::new(
                py,
                [
                    resolve.into_any(),
                    future.bind(py).clone(),
                    ok.into_bound_py_any(py)?,
                    value.into_bound(py),
                ],
            )?;
            event_loop
                .bind(py)
                .call_method1("call_soon_threadsafe", arguments)
        });
        // A loop closed before the call finished has nobody left to tell.
        drop(delivered);
    });
}

/// Runs `future` on the runtime and returns an asyncio future of its result,
/// converted by `wrap`.
pub fn awaitable<'py, F, T, O>(
    py: Python<'py>,
    future: F,
    wrap: fn(T) -> O,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, BindingError>> + Send + 'static,
    T: Send + 'static,
    O: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let handle = handle_for_call(py)?;
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let py_future = event_loop.call_method0("create_future")?;
    let task = handle.spawn(future);
    py_future.call_method1("add_done_callback", (CancelTask(task.abort_handle()),))?;
    let event_loop = event_loop.unbind();
    let future_ref = py_future.clone().unbind();
    handle.spawn(async move {
        let outcome = task.await.unwrap_or_else(|error| Err(task_failed(&error)));
        let blocking = tokio::task::spawn_blocking(move || {
            let converted = outcome.and_then(|value| {
                Python::attach(|py| {
                    wrap(value)
                        .into_py_any(py)
                        .map_err(|error| BindingError::Internal {
                            code: "conversion_failed",
                            message: error.to_string(),
                        })
                })
            });
            deliver(event_loop, future_ref, converted, exception_instance);
        });
        drop(blocking);
    });
    Ok(py_future)
}

/// Runs one bridge or offline-billing call, blocking or as an awaitable: the two
/// classes of each API are the same methods over these two flavours.
pub trait Flavour {
    /// Runs `future`, converting its value with `wrap`.
    fn run<'py, F, T, O>(
        py: Python<'py>,
        future: F,
        wrap: fn(T) -> O,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = Result<T, BindingError>> + Send + 'static,
        T: Send + 'static,
        O: for<'a> IntoPyObject<'a> + Send + 'static;
}

/// Blocks the calling thread, with the GIL released.
pub struct Blocking;

impl Flavour for Blocking {
    fn run<'py, F, T, O>(
        py: Python<'py>,
        future: F,
        wrap: fn(T) -> O,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = Result<T, BindingError>> + Send + 'static,
        T: Send + 'static,
        O: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        let value = block_on(py, future)?;
        wrap(value).into_bound_py_any(py)
    }
}

/// Returns an asyncio awaitable.
pub struct Awaitable;

impl Flavour for Awaitable {
    fn run<'py, F, T, O>(
        py: Python<'py>,
        future: F,
        wrap: fn(T) -> O,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = Result<T, BindingError>> + Send + 'static,
        T: Send + 'static,
        O: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        awaitable(py, future, wrap)
    }
}

/// The exit hook: shuts the runtime down while the interpreter is still whole.
#[pyfunction]
fn _shutdown_runtime(py: Python<'_>) {
    if let Ok(mut thread) = EXITING_THREAD.lock() {
        *thread = Some(std::thread::current().id());
    }
    CLOSED.store(true, Ordering::SeqCst);
    let runtime = RUNTIME.lock().ok().and_then(|mut slot| slot.take());
    if let Some(runtime) = runtime {
        py.detach(|| runtime.shutdown_timeout(SHUTDOWN_GRACE));
    }
}

/// The fork hook, in the child: the inherited runtime has no threads there (fork copies
/// only the forking thread), so every call would wait forever on it. Forget it without
/// dropping it (dropping would join threads that do not exist); the child's first call
/// builds its own.
#[pyfunction]
fn _forget_runtime_after_fork() {
    if let Ok(mut slot) = RUNTIME.try_lock() {
        std::mem::forget(slot.take());
    }
    CLOSED.store(false, Ordering::SeqCst);
}

/// Registers the exit hook, and the fork hook (`multiprocessing`'s default start method
/// on Linux forks).
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let hook = wrap_pyfunction!(_shutdown_runtime, module)?;
    module.add_function(hook.clone())?;
    py.import("atexit")?.call_method1("register", (hook,))?;
    let after_fork = wrap_pyfunction!(_forget_runtime_after_fork, module)?;
    module.add_function(after_fork.clone())?;
    let keywords = pyo3::types::PyDict::new(py);
    keywords.set_item("after_in_child", after_fork)?;
    py.import("os")?
        .call_method("register_at_fork", (), Some(&keywords))?;
    Ok(())
}

//! The binding's one tokio runtime, built on first use and shared by the blocking
//! methods (`block_on` with the GIL released) and the asyncio flavour
//! (pyo3-async-runtimes is handed the same runtime).

use std::future::Future;
use std::sync::OnceLock;

use pyo3::prelude::*;
use tokio::runtime::{Builder, Runtime};

use crate::errors::BindingError;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// The runtime, built on first use.
pub fn runtime() -> Result<&'static Runtime, BindingError> {
    let built = RUNTIME.get_or_init(|| {
        let runtime = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("billbridge")
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?;
        Ok(runtime)
    });
    match built {
        Ok(runtime) => {
            // Hand the same runtime to pyo3-async-runtimes; a second call is a no-op.
            let _already_set = pyo3_async_runtimes::tokio::init_with_runtime(runtime);
            Ok(runtime)
        }
        Err(message) => Err(BindingError::Internal {
            code: "runtime_unavailable",
            message: format!("could not start the async runtime: {message}"),
        }),
    }
}

/// Runs `future` to completion on the runtime with the GIL released.
///
/// The future runs as a spawned task so that a panic inside it comes back as an
/// `InternalError` rather than unwinding through Python.
pub fn block_on<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = Result<T, BindingError>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = runtime()?;
    py.detach(|| {
        let joined = runtime.block_on(runtime.spawn(future));
        match joined {
            Ok(result) => result,
            Err(error) => Err(BindingError::Internal {
                code: "panic",
                message: format!("billbridge task failed: {error}"),
            }),
        }
    })
    .map_err(PyErr::from)
}

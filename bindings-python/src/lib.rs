//! The native module `billbridge._native` behind the `billbridge` Python package.
//!
//! Every file here is a table of translations between Python values and the core's
//! types, one area each: money, parties, invoices, rates, metadata, the mock, stores,
//! records, the bridge, offline billing, reports, webhooks, the Stripe edge, errors.
//! Every rule lives in the `billbridge` and `billbridge-mock` crates. Calls run on the
//! one tokio runtime of [`runtime`], with the GIL released.

mod bridge;
mod convert;
mod errors;
mod invoices;
mod metadata;
mod mock;
mod money;
mod offline;
mod parties;
mod postgres;
mod practices;
mod rates;
mod records;
mod reports;
mod runtime;
mod stores;
mod stripe;
mod webhooks;

use pyo3::prelude::*;

/// Panics on purpose, so that tests can check that a Rust panic reaches Python as an
/// exception instead of aborting the interpreter, blocking or awaited.
#[pyfunction]
#[pyo3(signature = (message, *, in_task=false))]
fn _panic_for_tests(py: Python<'_>, message: String, in_task: bool) -> PyResult<()> {
    if in_task {
        return runtime::block_on(py, async move {
            #[allow(clippy::panic)] // the whole point of this test hook
            {
                panic!("{message}");
            }
        });
    }
    #[allow(clippy::panic)] // the whole point of this test hook
    {
        panic!("{message}");
    }
}

/// [`_panic_for_tests`] inside an awaitable: the panic happens in a runtime task and
/// must reach the awaiting coroutine as an `InternalError` (code `panic`).
#[pyfunction]
fn _panic_for_tests_async(py: Python<'_>, message: String) -> PyResult<Bound<'_, PyAny>> {
    runtime::awaitable(py, panicking(message), |()| ())
}

async fn panicking(message: String) -> Result<(), errors::BindingError> {
    #[allow(clippy::panic)] // the whole point of this test hook
    {
        panic!("{message}");
    }
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    runtime::register(module)?;
    errors::register(module)?;
    money::register(module)?;
    parties::register(module)?;
    invoices::register(module)?;
    rates::register(module)?;
    metadata::register(module)?;
    webhooks::register(module)?;
    stripe::register(module)?;
    mock::register(module)?;
    stores::register(module)?;
    postgres::register(module)?;
    practices::register(module)?;
    records::register(module)?;
    bridge::register(module)?;
    reports::register(module)?;
    offline::register(module)?;
    module.add_function(wrap_pyfunction!(_panic_for_tests, module)?)?;
    module.add_function(wrap_pyfunction!(_panic_for_tests_async, module)?)?;
    Ok(())
}

//! The native module `billbridge._native` behind the `billbridge` Python package.
//!
//! Every class and function here translates between Python values and the core's
//! types; the billing rules all live in the `billbridge` crate. Blocking calls run on
//! the one tokio runtime this crate owns, with the GIL released.

mod bridge;
mod convert;
mod domain;
mod errors;
mod money;
mod offline;
mod report;
mod runtime;
mod stripe;
mod webhook;

use pyo3::prelude::*;

/// Panics on purpose, so that tests can check that a Rust panic reaches Python as an
/// exception instead of aborting the interpreter.
#[pyfunction]
fn _panic_for_tests(message: &str) {
    // A deliberate panic: this function exists only to exercise pyo3's panic catching.
    #[allow(clippy::panic)] // the whole point of this test hook
    {
        panic!("{message}");
    }
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(module)?;
    module.add_class::<money::PyCurrency>()?;
    module.add_class::<money::PyMoney>()?;
    domain::register(module)?;
    webhook::register(module)?;
    stripe::register(module)?;
    bridge::register(module)?;
    report::register(module)?;
    offline::register(module)?;
    module.add_function(wrap_pyfunction!(_panic_for_tests, module)?)?;
    Ok(())
}

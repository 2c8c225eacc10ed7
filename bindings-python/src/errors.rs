//! The exception hierarchy under `billbridge.BillbridgeError`, one class per core
//! [`ErrorCategory`], and the one place a core error becomes a Python exception: every
//! exception carries the core's stable `code` and `category`, and Stripe's details
//! from [`billbridge::Error::details`] where they apply (`status`, `stripe_type`,
//! `stripe_code`, `decline_code`, `param`, `request_id`, `doc_url`, and `message`,
//! Stripe's human text, which stays out of `str()` because Stripe can echo input in it).

use billbridge::ErrorCategory;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

pyo3::create_exception!(
    billbridge,
    BillbridgeError,
    PyException,
    "Base class of every error billbridge raises; `.code` is the stable machine code."
);
pyo3::create_exception!(
    billbridge,
    ValidationError,
    BillbridgeError,
    "The input was wrong; retrying the same call cannot succeed."
);
pyo3::create_exception!(
    billbridge,
    InvalidStateError,
    BillbridgeError,
    "The object is in the wrong state for the operation; nothing was sent."
);
pyo3::create_exception!(
    billbridge,
    StripeApiError,
    BillbridgeError,
    "Stripe answered with an error (`.status`, `.stripe_type`, `.stripe_code`, `.decline_code`, `.param`, `.request_id`; `.message` is Stripe's text, kept out of str())."
);
pyo3::create_exception!(
    billbridge,
    TransportError,
    BillbridgeError,
    "Stripe could not be reached, or the answer was lost on the way."
);
pyo3::create_exception!(
    billbridge,
    SignatureError,
    BillbridgeError,
    "A webhook signature did not verify."
);
pyo3::create_exception!(
    billbridge,
    StoreError,
    BillbridgeError,
    "The sync store failed."
);
pyo3::create_exception!(
    billbridge,
    InternalError,
    BillbridgeError,
    "A bug in billbridge: an invariant that should hold did not."
);
pyo3::create_exception!(
    billbridge,
    IoError,
    BillbridgeError,
    "A file or stream the host gave billbridge (a CSV destination) failed."
);

/// Any error the binding turns into a Python exception: the core's, or the binding's
/// own failure (its runtime could not start, a task panicked).
#[derive(Debug)]
pub enum BindingError {
    /// An error of the core.
    Core(billbridge::Error),
    /// The binding itself failed.
    Internal {
        /// Stable machine code.
        code: &'static str,
        /// What happened.
        message: String,
    },
}

impl BindingError {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            BindingError::Core(error) => error.code(),
            BindingError::Internal { code, .. } => code,
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            BindingError::Core(error) => error.category(),
            BindingError::Internal { .. } => ErrorCategory::Internal,
        }
    }
}

impl<E: Into<billbridge::Error>> From<E> for BindingError {
    fn from(error: E) -> Self {
        BindingError::Core(error.into())
    }
}

/// The exception class of a category; `None` for a category added to the core that
/// this binding does not map yet (a test walks `ErrorCategory::ALL` so that cannot
/// ship).
pub fn exception_class(py: Python<'_>, category: ErrorCategory) -> Option<Bound<'_, PyType>> {
    Some(match category {
        ErrorCategory::Validation => py.get_type::<ValidationError>(),
        ErrorCategory::InvalidState => py.get_type::<InvalidStateError>(),
        ErrorCategory::StripeApi => py.get_type::<StripeApiError>(),
        ErrorCategory::Transport => py.get_type::<TransportError>(),
        ErrorCategory::Signature => py.get_type::<SignatureError>(),
        ErrorCategory::Store => py.get_type::<StoreError>(),
        ErrorCategory::Internal => py.get_type::<InternalError>(),
        ErrorCategory::Io => py.get_type::<IoError>(),
        _ => return None,
    })
}

fn build_exception(py: Python<'_>, error: &BindingError) -> PyResult<PyErr> {
    let category = error.category();
    let class = exception_class(py, category).unwrap_or_else(|| py.get_type::<InternalError>());
    let message = match error {
        BindingError::Core(error) => error.to_string(),
        BindingError::Internal { message, .. } => message.clone(),
    };
    let instance = class.call1((message,))?;
    instance.setattr("code", error.code())?;
    instance.setattr("category", category.as_str())?;
    let (details, stripe_message) = match error {
        BindingError::Core(error) => (error.details(), error.stripe_message()),
        BindingError::Internal { .. } => (billbridge::ErrorDetails::default(), None),
    };
    instance.setattr("status", details.http_status)?;
    instance.setattr("stripe_type", details.stripe_type)?;
    instance.setattr("stripe_code", details.stripe_code)?;
    instance.setattr("decline_code", details.decline_code)?;
    instance.setattr("param", details.param)?;
    instance.setattr("request_id", details.request_id)?;
    instance.setattr("doc_url", details.doc_url)?;
    instance.setattr("message", stripe_message)?;
    Ok(PyErr::from_value(instance))
}

/// The exception object for `error`, for results that carry an error rather than
/// raising it (one failed invoice among many).
pub fn exception_instance(py: Python<'_>, error: &BindingError) -> PyResult<Py<PyAny>> {
    Ok(build_exception(py, error)?.into_value(py).into_any())
}

impl From<BindingError> for PyErr {
    fn from(error: BindingError) -> PyErr {
        Python::attach(|py| build_exception(py, &error).unwrap_or_else(|failure| failure))
    }
}

/// Turns any core error into the matching Python exception.
pub fn raise(error: impl Into<billbridge::Error>) -> PyErr {
    PyErr::from(BindingError::Core(error.into()))
}

/// Every core category with its exception class, for the test that no category is
/// left unmapped.
#[pyfunction]
fn _exception_classes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let classes = PyDict::new(py);
    for category in ErrorCategory::ALL {
        classes.set_item(category.as_str(), exception_class(py, category))?;
    }
    Ok(classes)
}

/// Registers the exception classes on the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("BillbridgeError", py.get_type::<BillbridgeError>())?;
    module.add("ValidationError", py.get_type::<ValidationError>())?;
    module.add("InvalidStateError", py.get_type::<InvalidStateError>())?;
    module.add("StripeApiError", py.get_type::<StripeApiError>())?;
    module.add("TransportError", py.get_type::<TransportError>())?;
    module.add("SignatureError", py.get_type::<SignatureError>())?;
    module.add("StoreError", py.get_type::<StoreError>())?;
    module.add("InternalError", py.get_type::<InternalError>())?;
    module.add("IoError", py.get_type::<IoError>())?;
    module.add_function(wrap_pyfunction!(_exception_classes, module)?)?;
    Ok(())
}

//! The exception hierarchy under `billbridge.BillbridgeError` and the one place where
//! core errors become Python exceptions: one subclass per [`ErrorCategory`], every
//! exception carrying the core's machine `code` (and `category`), Stripe API errors
//! also their status, Stripe code, decline code and request id.

use billbridge::ErrorCategory;
use billbridge::stripe::http::HttpTransportError;
use billbridge::stripe::key::KeyError;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

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
    "Stripe answered with an error (`.status`, `.stripe_code`, `.decline_code`, `.request_id`)."
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

/// Details of a Stripe API error, copied onto the exception.
#[derive(Debug, Default)]
pub struct StripeDetails {
    status: Option<u16>,
    stripe_code: Option<String>,
    decline_code: Option<String>,
    request_id: Option<String>,
}

/// Any error the binding turns into a Python exception.
///
/// The core's top-level [`billbridge::Error`] carries every billbridge error, with its
/// code and category; the binding adds only its own failures.
#[derive(Debug)]
pub enum BindingError {
    /// An error of the core's top-level type.
    Core(billbridge::Error),
    /// The binding itself failed (the runtime could not start, a task panicked).
    Internal {
        /// Stable machine code.
        code: &'static str,
        /// What happened.
        message: String,
    },
}

impl BindingError {
    /// The stable machine code (the core's `code()`).
    pub fn code(&self) -> &'static str {
        match self {
            BindingError::Core(error) => error.code(),
            BindingError::Internal { code, .. } => code,
        }
    }

    /// The category that picks the exception class.
    pub fn category(&self) -> ErrorCategory {
        match self {
            BindingError::Core(error) => error.category(),
            BindingError::Internal { .. } => ErrorCategory::Internal,
        }
    }

    fn message(&self) -> String {
        match self {
            BindingError::Core(error) => error.to_string(),
            BindingError::Internal { message, .. } => message.clone(),
        }
    }

    fn stripe_details(&self) -> StripeDetails {
        match self {
            BindingError::Core(billbridge::Error::Stripe(error)) => StripeDetails {
                status: error.status(),
                stripe_code: error.stripe_code().map(str::to_owned),
                decline_code: error.decline_code().map(str::to_owned),
                request_id: error.request_id().map(str::to_owned),
            },
            _ => StripeDetails::default(),
        }
    }
}

/// The exception class of a category. Every category has its own class; a category
/// added to the core later falls back to `InternalError` until it gets one.
pub fn exception_class(py: Python<'_>, category: ErrorCategory) -> Bound<'_, pyo3::types::PyType> {
    match category {
        ErrorCategory::Validation => py.get_type::<ValidationError>(),
        ErrorCategory::InvalidState => py.get_type::<InvalidStateError>(),
        ErrorCategory::StripeApi => py.get_type::<StripeApiError>(),
        ErrorCategory::Transport => py.get_type::<TransportError>(),
        ErrorCategory::Signature => py.get_type::<SignatureError>(),
        ErrorCategory::Store => py.get_type::<StoreError>(),
        ErrorCategory::Internal => py.get_type::<InternalError>(),
        _ => py.get_type::<InternalError>(),
    }
}

fn build_exception(py: Python<'_>, error: &BindingError) -> PyResult<PyErr> {
    let category = error.category();
    let class = exception_class(py, category);
    let instance = class.call1((error.message(),))?;
    instance.setattr("code", error.code())?;
    instance.setattr("category", category.as_str())?;
    if category == ErrorCategory::StripeApi {
        let details = error.stripe_details();
        instance.setattr("status", details.status)?;
        instance.setattr("stripe_code", details.stripe_code)?;
        instance.setattr("decline_code", details.decline_code)?;
        instance.setattr("request_id", details.request_id)?;
    }
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

impl From<billbridge::Error> for BindingError {
    fn from(error: billbridge::Error) -> Self {
        BindingError::Core(error)
    }
}

impl From<KeyError> for BindingError {
    fn from(error: KeyError) -> Self {
        BindingError::Core(error.into())
    }
}

impl From<HttpTransportError> for BindingError {
    fn from(error: HttpTransportError) -> Self {
        BindingError::Core(error.into())
    }
}

/// Turns any core error into the matching Python exception.
pub fn raise(error: impl Into<billbridge::Error>) -> PyErr {
    PyErr::from(BindingError::Core(error.into()))
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
    Ok(())
}

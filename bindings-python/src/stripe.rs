//! The Stripe edge: API keys and the HTTP transport a bridge sends requests through.
//! Secrets never appear in a `repr` or an error message.

use std::time::Duration;

use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::{ApiKey, KeyKind, KeyMode};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::BindingError;

/// A Stripe secret (`sk_…`) or restricted (`rk_…`) API key.
#[pyclass(name = "ApiKey", module = "billbridge", frozen)]
pub struct PyApiKey(pub ApiKey);

#[pymethods]
impl PyApiKey {
    #[new]
    fn new(key: String) -> PyResult<Self> {
        ApiKey::parse(key)
            .map(PyApiKey)
            .map_err(|error| BindingError::from(error).into())
    }

    /// `"secret"` or `"restricted"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.0.kind() {
            KeyKind::Secret => "secret",
            KeyKind::Restricted => "restricted",
        }
    }

    /// `"test"` or `"live"`.
    #[getter]
    fn mode(&self) -> &'static str {
        match self.0.mode() {
            KeyMode::Test => "test",
            KeyMode::Live => "live",
        }
    }

    /// True for a test-mode key.
    #[getter]
    fn is_test_mode(&self) -> bool {
        self.0.is_test_mode()
    }

    fn __repr__(&self) -> String {
        format!("ApiKey('{}')", self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }
}

/// A key given as an `ApiKey` or as its text.
pub fn key_from_py(value: &Bound<'_, PyAny>) -> PyResult<ApiKey> {
    if let Ok(key) = value.cast::<PyApiKey>() {
        return Ok(key.get().0.clone());
    }
    let text: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err("api_key must be a str or an ApiKey"))?;
    ApiKey::parse(text).map_err(|error| BindingError::from(error).into())
}

/// Carries requests to Stripe over HTTPS.
#[pyclass(name = "HttpTransport", module = "billbridge", frozen)]
pub struct PyHttpTransport(pub HttpTransport);

#[pymethods]
impl PyHttpTransport {
    /// `HttpTransport("sk_test_…", timeout=30.0)`; `base_url` for a Stripe-compatible
    /// server such as stripe-mock.
    #[new]
    #[pyo3(signature = (api_key, *, base_url=None, timeout=None, connect_timeout=None))]
    fn new(
        api_key: &Bound<'_, PyAny>,
        base_url: Option<String>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let mut builder = HttpTransport::builder(key_from_py(api_key)?);
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        if let Some(seconds) = timeout {
            builder = builder.timeout(seconds_to_duration(seconds)?);
        }
        if let Some(seconds) = connect_timeout {
            builder = builder.connect_timeout(seconds_to_duration(seconds)?);
        }
        builder
            .build()
            .map(PyHttpTransport)
            .map_err(|error| BindingError::from(error).into())
    }

    /// Where requests go.
    #[getter]
    fn base_url(&self) -> &str {
        self.0.base_url()
    }

    fn __repr__(&self) -> String {
        format!("HttpTransport(base_url='{}')", self.0.base_url())
    }
}

fn seconds_to_duration(seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        pyo3::exceptions::PyValueError::new_err("a timeout must be a positive number of seconds")
    })
}

/// Registers the Stripe-edge classes on the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyApiKey>()?;
    module.add_class::<PyHttpTransport>()?;
    Ok(())
}

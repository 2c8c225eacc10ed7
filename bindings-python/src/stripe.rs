//! The Stripe edge: API keys and the HTTP transport a bridge sends requests through.
//! Secrets never appear in a `repr` or an error message.

use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use pyo3::Borrowed;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert::{Wrap, seconds};
use crate::errors::raise;

/// A Stripe secret (`sk_…`) or restricted (`rk_…`) API key.
#[pyclass(name = "ApiKey", module = "billbridge", frozen)]
pub struct PyApiKey(pub ApiKey);

#[pymethods]
impl PyApiKey {
    #[new]
    fn new(key: String) -> PyResult<Self> {
        ApiKey::parse(key).map(PyApiKey).map_err(raise)
    }

    /// `"secret"` or `"restricted"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind().as_str()
    }

    /// `"test"` or `"live"`.
    #[getter]
    fn mode(&self) -> &'static str {
        self.0.mode().as_str()
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
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<ApiKey> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(key) = value.cast::<PyApiKey>() {
            return Ok(Wrap(key.get().0.clone()));
        }
        let text: String = value
            .extract()
            .map_err(|_| PyTypeError::new_err("api_key must be a str or an ApiKey"))?;
        ApiKey::parse(text).map(Wrap).map_err(raise)
    }
}

/// Carries requests to Stripe over HTTPS.
#[pyclass(name = "HttpTransport", module = "billbridge", frozen)]
pub struct PyHttpTransport(pub HttpTransport);

#[pymethods]
impl PyHttpTransport {
    /// `HttpTransport("sk_test_…", timeout=30.0)`; `base_url` for a Stripe-compatible
    /// server such as billbridge's own mock server or stripe-mock.
    #[new]
    #[pyo3(signature = (api_key, *, base_url=None, timeout=None, connect_timeout=None))]
    fn new(
        api_key: Wrap<ApiKey>,
        base_url: Option<String>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let mut builder = HttpTransport::builder(api_key.0);
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        if let Some(value) = timeout {
            builder = builder.timeout(seconds("timeout", value)?);
        }
        if let Some(value) = connect_timeout {
            builder = builder.connect_timeout(seconds("connect_timeout", value)?);
        }
        builder.build().map(PyHttpTransport).map_err(raise)
    }

    /// Where requests go.
    #[getter]
    fn base_url(&self) -> &str {
        self.0.base_url()
    }

    /// The base URL without any credentials written into it.
    fn __repr__(&self) -> String {
        format!("HttpTransport(base_url='{}')", self.0.redacted_base_url())
    }
}

/// Registers the Stripe-edge classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyApiKey>()?;
    module.add_class::<PyHttpTransport>()?;
    Ok(())
}

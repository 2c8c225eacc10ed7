//! Webhook helpers: `verify`, `parse`, `construct_event`, `sign_payload`, the
//! `WebhookSecret` wrapper and the `Event` view. An event is decoded once by the core;
//! Python sees typed getters, and the JSON tree becomes Python objects only when
//! `.object`, `.previous_attributes` or `to_dict()` is asked for.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use billbridge::stripe::models::{Event, EventObject, HasId};
use billbridge::stripe::webhook::{self, DEFAULT_TOLERANCE, WebhookSecret};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::{json_to_py, to_py};

/// A webhook endpoint's signing secret (`whsec_…`); its `repr` never shows it.
#[pyclass(name = "WebhookSecret", module = "billbridge", frozen)]
pub struct PyWebhookSecret(pub WebhookSecret);

#[pymethods]
impl PyWebhookSecret {
    #[new]
    fn new(secret: &str) -> PyResult<Self> {
        WebhookSecret::new(secret)
            .map(PyWebhookSecret)
            .map_err(crate::errors::raise)
    }

    fn __repr__(&self) -> String {
        format!("WebhookSecret('{}')", self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }
}

/// A secret given as a `WebhookSecret` or as its `whsec_…` text.
pub fn secret_from_py(value: &Bound<'_, PyAny>) -> PyResult<WebhookSecret> {
    if let Ok(secret) = value.cast::<PyWebhookSecret>() {
        return Ok(secret.get().0.clone());
    }
    let text: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err("secret must be a str or a WebhookSecret"))?;
    WebhookSecret::new(text).map_err(crate::errors::raise)
}

/// The raw body: `bytes`, `bytearray`, `memoryview` or `str` (sent as UTF-8).
pub fn body_bytes(payload: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(bytes) = payload.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    if let Ok(text) = payload.cast::<PyString>() {
        return Ok(text.to_cow()?.as_bytes().to_vec());
    }
    payload
        .extract::<Vec<u8>>()
        .map_err(|_| PyTypeError::new_err("payload must be the raw request body as bytes (or str)"))
}

/// Runs `work` on the body, borrowing `bytes` without a copy when it can.
fn with_body<T>(
    payload: &Bound<'_, PyAny>,
    work: impl FnOnce(&[u8]) -> PyResult<T>,
) -> PyResult<T> {
    if let Ok(bytes) = payload.cast::<PyBytes>() {
        return work(bytes.as_bytes());
    }
    work(&body_bytes(payload)?)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn tolerance(seconds: Option<u64>) -> Duration {
    seconds.map_or(DEFAULT_TOLERANCE, Duration::from_secs)
}

/// Checks the `Stripe-Signature` header against the raw body; returns the signed
/// timestamp. Raises `SignatureError` with `.code` saying why.
#[pyfunction]
#[pyo3(signature = (payload, header, secret, *, tolerance=None, now=None))]
fn verify(
    payload: &Bound<'_, PyAny>,
    header: Option<&str>,
    secret: &Bound<'_, PyAny>,
    tolerance: Option<u64>,
    now: Option<i64>,
) -> PyResult<i64> {
    let secret = secret_from_py(secret)?;
    let now = now.unwrap_or_else(unix_now);
    with_body(payload, |body| {
        webhook::verify(body, header, &secret, self::tolerance(tolerance), now)
            .map(|timestamp| timestamp.unix_seconds())
            .map_err(crate::errors::raise)
    })
}

/// Decodes an event without checking a signature (use `construct_event` for
/// deliveries).
#[pyfunction]
fn parse(payload: &Bound<'_, PyAny>) -> PyResult<PyEvent> {
    with_body(payload, |body| {
        webhook::parse(body)
            .map(PyEvent::new)
            .map_err(crate::errors::raise)
    })
}

/// Verifies then decodes a delivery: the event of a genuine, recent webhook.
#[pyfunction]
#[pyo3(signature = (payload, header, secret, *, tolerance=None, now=None))]
fn construct_event(
    payload: &Bound<'_, PyAny>,
    header: Option<&str>,
    secret: &Bound<'_, PyAny>,
    tolerance: Option<u64>,
    now: Option<i64>,
) -> PyResult<PyEvent> {
    let secret = secret_from_py(secret)?;
    let now = now.unwrap_or_else(unix_now);
    with_body(payload, |body| {
        webhook::construct_event(body, header, &secret, self::tolerance(tolerance), now)
            .map(PyEvent::new)
            .map_err(crate::errors::raise)
    })
}

/// The `Stripe-Signature` header Stripe would send for `payload` (for tests).
#[pyfunction]
#[pyo3(signature = (payload, secret, *, timestamp=None))]
fn sign_payload(
    payload: &Bound<'_, PyAny>,
    secret: &Bound<'_, PyAny>,
    timestamp: Option<i64>,
) -> PyResult<String> {
    let secret = secret_from_py(secret)?;
    let timestamp = timestamp.unwrap_or_else(unix_now);
    with_body(payload, |body| Ok(webhook::sign(&secret, timestamp, body)))
}

/// One Stripe event, decoded by the core.
#[pyclass(name = "Event", module = "billbridge", frozen)]
pub struct PyEvent(pub Arc<Event>);

impl PyEvent {
    /// Wraps a decoded event.
    pub fn new(event: Event) -> Self {
        PyEvent(Arc::new(event))
    }

    fn raw_object_field(&self, field: &str) -> Option<serde_json::Value> {
        match &self.0.data.object {
            EventObject::Other(raw) => {
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(raw.get())
                    .ok()
                    .and_then(|mut map| map.remove(field))
            }
            _ => None,
        }
    }
}

#[pymethods]
impl PyEvent {
    /// `evt_…`: deduplicate deliveries by it.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// The event type, e.g. `"invoice.paid"` (unknown types as Stripe sent them).
    #[getter]
    fn r#type(&self) -> &str {
        self.0.event_type.as_str()
    }

    /// When it happened, unix seconds.
    #[getter]
    fn created(&self) -> i64 {
        self.0.created
    }

    /// True for live-mode events.
    #[getter]
    fn livemode(&self) -> bool {
        self.0.livemode
    }

    /// The connected account (`acct_…`) for Connect events.
    #[getter]
    fn account(&self) -> Option<&str> {
        self.0.account.as_deref()
    }

    /// The kind of the snapshot in `data.object`, e.g. `"invoice"`.
    #[getter]
    fn object_type(&self) -> Option<String> {
        match &self.0.data.object {
            EventObject::Invoice(_) => Some("invoice".to_owned()),
            EventObject::Customer(_) => Some("customer".to_owned()),
            EventObject::InvoiceItem(_) => Some("invoiceitem".to_owned()),
            EventObject::CustomerBalanceTransaction(_) => {
                Some("customer_balance_transaction".to_owned())
            }
            EventObject::Other(_) => self
                .raw_object_field("object")
                .and_then(|value| value.as_str().map(str::to_owned)),
        }
    }

    /// The id of the object in `data.object` (`in_…`, `cus_…`, …).
    #[getter]
    fn object_id(&self) -> Option<String> {
        match &self.0.data.object {
            EventObject::Invoice(invoice) => Some(invoice.id().to_owned()),
            EventObject::Customer(customer) => Some(customer.id().to_owned()),
            EventObject::InvoiceItem(item) => Some(item.id().to_owned()),
            EventObject::CustomerBalanceTransaction(transaction) => Some(transaction.id.clone()),
            EventObject::Other(_) => self
                .raw_object_field("id")
                .and_then(|value| value.as_str().map(str::to_owned)),
        }
    }

    /// The invoice's status, for invoice events.
    #[getter]
    fn status(&self) -> Option<&str> {
        self.0
            .data
            .object
            .as_invoice()
            .and_then(|invoice| invoice.status.as_ref())
            .map(|status| status.as_str())
    }

    /// The invoice's currency (or the balance transaction's), lowercase.
    #[getter]
    fn currency(&self) -> Option<&str> {
        match &self.0.data.object {
            EventObject::Invoice(invoice) => Some(invoice.currency.as_str()),
            EventObject::CustomerBalanceTransaction(transaction) => {
                Some(transaction.currency.as_str())
            }
            _ => None,
        }
    }

    /// The invoice's customer id (`cus_…`), for invoice events.
    #[getter]
    fn customer_id(&self) -> Option<&str> {
        self.0
            .data
            .object
            .as_invoice()
            .and_then(|invoice| invoice.customer.as_ref())
            .map(|customer| customer.id())
    }

    /// The invoice's total, in Stripe's integer amount.
    #[getter]
    fn total(&self) -> Option<i64> {
        self.0.data.object.as_invoice().map(|invoice| invoice.total)
    }

    /// The invoice's amount due.
    #[getter]
    fn amount_due(&self) -> Option<i64> {
        self.0
            .data
            .object
            .as_invoice()
            .map(|invoice| invoice.amount_due)
    }

    /// The invoice's amount paid.
    #[getter]
    fn amount_paid(&self) -> Option<i64> {
        self.0
            .data
            .object
            .as_invoice()
            .map(|invoice| invoice.amount_paid)
    }

    /// The invoice's amount remaining.
    #[getter]
    fn amount_remaining(&self) -> Option<i64> {
        self.0
            .data
            .object
            .as_invoice()
            .map(|invoice| invoice.amount_remaining)
    }

    /// The snapshot in `data.object` as a dict (converted on access).
    #[getter]
    fn object<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.0.data.object {
            EventObject::Other(raw) => {
                let value: serde_json::Value = serde_json::from_str(raw.get())
                    .map_err(|error| PyValueError::new_err(error.to_string()))?;
                json_to_py(py, &value)
            }
            object => to_py(py, object),
        }
    }

    /// For `*.updated` events: the previous values of the fields that changed.
    #[getter]
    fn previous_attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.0.data.previous_attributes {
            Some(map) => to_py(py, map),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// The whole event as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, self.0.as_ref())
    }

    fn __repr__(&self) -> String {
        format!(
            "Event(id='{}', type='{}')",
            self.0.id,
            self.0.event_type.as_str()
        )
    }
}

/// Registers the webhook helpers on the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyWebhookSecret>()?;
    module.add_class::<PyEvent>()?;
    module.add_function(wrap_pyfunction!(verify, module)?)?;
    module.add_function(wrap_pyfunction!(parse, module)?)?;
    module.add_function(wrap_pyfunction!(construct_event, module)?)?;
    module.add_function(wrap_pyfunction!(sign_payload, module)?)?;
    Ok(())
}

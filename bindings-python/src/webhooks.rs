//! Webhook helpers: `verify`, `parse`, `construct_event`, `sign_payload`, the
//! `WebhookSecret` wrapper, the `Event` view, and what the bridge made of a delivery
//! (`WebhookOutcome` with its `WebhookChange`s). An event is decoded once by the core;
//! Python sees typed getters (amounts as `Money`), and the JSON tree becomes Python
//! objects only when `.object`, `.previous_attributes` or `to_dict()` is asked for.

use std::sync::Arc;
use std::time::Duration;

use billbridge::stripe::models::Event;
use billbridge::stripe::webhook::{self, VerifyOptions, WebhookSecret};
use pyo3::Borrowed;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use billbridge::sync::{WebhookChange, WebhookOutcome};

use crate::convert::{Wrap, body, json_to_py, optional_repr, to_py};
use crate::errors::raise;
use crate::money::{PyCurrency, PyMoney};

/// A webhook endpoint's signing secret (`whsec_…`); its `repr` never shows it.
#[pyclass(name = "WebhookSecret", module = "billbridge", frozen)]
pub struct PyWebhookSecret(pub WebhookSecret);

#[pymethods]
impl PyWebhookSecret {
    #[new]
    fn new(secret: &str) -> PyResult<Self> {
        WebhookSecret::new(secret)
            .map(PyWebhookSecret)
            .map_err(raise)
    }

    fn __repr__(&self) -> String {
        format!("WebhookSecret('{}')", self.0)
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }
}

/// A secret given as a `WebhookSecret` or as its `whsec_…` text.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<WebhookSecret> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(secret) = value.cast::<PyWebhookSecret>() {
            return Ok(Wrap(secret.get().0.clone()));
        }
        let text: String = value
            .extract()
            .map_err(|_| PyTypeError::new_err("secret must be a str or a WebhookSecret"))?;
        WebhookSecret::new(text).map(Wrap).map_err(raise)
    }
}

/// The core's options; what is not given takes the core's defaults.
fn options(tolerance: Option<u64>, now: Option<i64>) -> VerifyOptions {
    VerifyOptions {
        tolerance: tolerance.map(Duration::from_secs),
        now,
    }
}

/// Checks the `Stripe-Signature` header against the raw body; returns the signed
/// timestamp. Raises `SignatureError` with `.code` saying why.
#[pyfunction]
#[pyo3(signature = (payload, header, secret, *, tolerance=None, now=None))]
fn verify(
    payload: &Bound<'_, PyAny>,
    header: Option<&str>,
    secret: Wrap<WebhookSecret>,
    tolerance: Option<u64>,
    now: Option<i64>,
) -> PyResult<i64> {
    webhook::verify_with(&body(payload)?, header, &secret.0, options(tolerance, now))
        .map(|timestamp| timestamp.unix_seconds())
        .map_err(raise)
}

/// Decodes an event without checking a signature (use `construct_event` for
/// deliveries).
#[pyfunction]
fn parse(payload: &Bound<'_, PyAny>) -> PyResult<PyEvent> {
    webhook::parse(&body(payload)?)
        .map(PyEvent::new)
        .map_err(raise)
}

/// Verifies then decodes a delivery: the event of a genuine, recent webhook. `now`
/// (unix seconds) defaults to the system clock; a delivery from a `MockStripe` that
/// signs at its own clock verifies with `now=delivery.signed_at`.
#[pyfunction]
#[pyo3(signature = (payload, header, secret, *, tolerance=None, now=None))]
fn construct_event(
    payload: &Bound<'_, PyAny>,
    header: Option<&str>,
    secret: Wrap<WebhookSecret>,
    tolerance: Option<u64>,
    now: Option<i64>,
) -> PyResult<PyEvent> {
    webhook::construct_event_with(&body(payload)?, header, &secret.0, options(tolerance, now))
        .map(PyEvent::new)
        .map_err(raise)
}

/// The `Stripe-Signature` header Stripe would send for `payload` (for tests).
#[pyfunction]
#[pyo3(signature = (payload, secret, *, timestamp=None))]
fn sign_payload(
    payload: &Bound<'_, PyAny>,
    secret: Wrap<WebhookSecret>,
    timestamp: Option<i64>,
) -> PyResult<String> {
    Ok(webhook::sign_at(&secret.0, timestamp, &body(payload)?))
}

/// One Stripe event, decoded by the core.
#[pyclass(name = "Event", module = "billbridge", frozen)]
pub struct PyEvent(pub Arc<Event>);

impl PyEvent {
    /// Wraps a decoded event.
    pub fn new(event: Event) -> Self {
        PyEvent(Arc::new(event))
    }

    fn amount(
        &self,
        pick: fn(&billbridge::stripe::models::InvoiceAmounts) -> billbridge::domain::money::Money,
    ) -> PyResult<Option<PyMoney>> {
        let amounts = self.0.data.object.invoice_amounts().map_err(raise)?;
        Ok(amounts.as_ref().map(|amounts| PyMoney(pick(amounts))))
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
        self.0.data.object.kind()
    }

    /// The id of the object in `data.object` (`in_…`, `cus_…`, …).
    #[getter]
    fn object_id(&self) -> Option<String> {
        self.0.data.object.id()
    }

    /// The invoice's status, for invoice events.
    #[getter]
    fn status(&self) -> Option<&str> {
        self.0.data.object.invoice_status()
    }

    /// The invoice's (or the balance transaction's) currency.
    #[getter]
    fn currency(&self) -> PyResult<Option<PyCurrency>> {
        let currency = self.0.data.object.currency().map_err(raise)?;
        Ok(currency.map(PyCurrency))
    }

    /// The invoice's customer id (`cus_…`), for invoice events.
    #[getter]
    fn customer_id(&self) -> Option<&str> {
        self.0.data.object.invoice_customer_id()
    }

    /// The invoice's total, for invoice events.
    #[getter]
    fn total(&self) -> PyResult<Option<PyMoney>> {
        self.amount(|amounts| amounts.total)
    }

    /// The invoice's amount due.
    #[getter]
    fn amount_due(&self) -> PyResult<Option<PyMoney>> {
        self.amount(|amounts| amounts.amount_due)
    }

    /// The invoice's amount paid.
    #[getter]
    fn amount_paid(&self) -> PyResult<Option<PyMoney>> {
        self.amount(|amounts| amounts.amount_paid)
    }

    /// The invoice's amount remaining.
    #[getter]
    fn amount_remaining(&self) -> PyResult<Option<PyMoney>> {
        self.amount(|amounts| amounts.amount_remaining)
    }

    /// The snapshot in `data.object` as a dict (converted on access).
    #[getter]
    fn object<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.0.data.object {
            billbridge::stripe::models::EventObject::Other(raw) => {
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

/// One change a webhook made to the host's records.
#[pyclass(name = "WebhookChange", module = "billbridge", frozen)]
pub struct PyWebhookChange(WebhookChange);

#[pymethods]
impl PyWebhookChange {
    /// `"invoice_status_changed"`, `"invoice_paid"`, `"invoice_amounts_changed"`,
    /// `"invoice_status_unrecognised"`, `"invoice_deleted"` or `"customer_updated"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// The host invoice changed, for invoice changes.
    #[getter]
    fn host_invoice_id(&self) -> Option<&str> {
        self.0.host_invoice_id()
    }

    /// The status before, for `invoice_status_changed`.
    #[getter]
    fn status_before(&self) -> Option<&str> {
        match &self.0 {
            WebhookChange::InvoiceStatusChanged { from, .. } => Some(from.as_str()),
            _ => None,
        }
    }

    /// The status now, for `invoice_status_changed` (and the status kept, for
    /// `invoice_status_unrecognised`).
    #[getter]
    fn status_after(&self) -> Option<&str> {
        match &self.0 {
            WebhookChange::InvoiceStatusChanged { to, .. } => Some(to.as_str()),
            WebhookChange::InvoiceStatusUnrecognised { status, .. } => Some(status.as_str()),
            _ => None,
        }
    }

    /// Stripe's status as it spelled it, for `invoice_status_unrecognised`.
    #[getter]
    fn stripe_status(&self) -> Option<&str> {
        match &self.0 {
            WebhookChange::InvoiceStatusUnrecognised { stripe_status, .. } => Some(stripe_status),
            _ => None,
        }
    }

    /// What the invoice asks now, for `invoice_amounts_changed`.
    #[getter]
    fn amount_due(&self) -> Option<PyMoney> {
        match &self.0 {
            WebhookChange::InvoiceAmountsChanged { amount_due, .. } => Some(PyMoney(*amount_due)),
            _ => None,
        }
    }

    /// What was paid, for `invoice_paid` and `invoice_amounts_changed`.
    #[getter]
    fn amount_paid(&self) -> Option<PyMoney> {
        match &self.0 {
            WebhookChange::InvoicePaid { amount_paid, .. }
            | WebhookChange::InvoiceAmountsChanged { amount_paid, .. } => {
                Some(PyMoney(*amount_paid))
            }
            _ => None,
        }
    }

    /// What is left, for `invoice_amounts_changed`.
    #[getter]
    fn amount_remaining(&self) -> Option<PyMoney> {
        match &self.0 {
            WebhookChange::InvoiceAmountsChanged {
                amount_remaining, ..
            } => Some(PyMoney(*amount_remaining)),
            _ => None,
        }
    }

    /// The host party updated, for `customer_updated`.
    #[getter]
    fn host_party_id(&self) -> Option<&str> {
        match &self.0 {
            WebhookChange::CustomerUpdated { host_party_id, .. } => Some(host_party_id),
            _ => None,
        }
    }

    /// The change as plain Python values (its `"change"` key is `kind`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "WebhookChange(kind='{}', host_invoice_id={})",
            self.0.kind(),
            optional_repr(self.0.host_invoice_id())
        )
    }
}

/// What became of one webhook delivery.
#[pyclass(name = "WebhookOutcome", module = "billbridge", frozen)]
pub struct PyWebhookOutcome(pub WebhookOutcome);

#[pymethods]
impl PyWebhookOutcome {
    /// The event id.
    #[getter]
    fn event_id(&self) -> &str {
        &self.0.event_id
    }

    /// The event type.
    #[getter]
    fn event_type(&self) -> &str {
        &self.0.event_type
    }

    /// `"applied"`, `"duplicate"` or `"ignored"`.
    #[getter]
    fn disposition(&self) -> &'static str {
        self.0.disposition.as_str()
    }

    /// What changed for the host.
    #[getter]
    fn changes(&self) -> Vec<PyWebhookChange> {
        self.0
            .changes
            .iter()
            .cloned()
            .map(PyWebhookChange)
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "WebhookOutcome(event_id='{}', event_type='{}', disposition='{}')",
            self.0.event_id, self.0.event_type, self.0.disposition
        )
    }
}

/// Registers the webhook helpers.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyWebhookSecret>()?;
    module.add_class::<PyEvent>()?;
    module.add_class::<PyWebhookChange>()?;
    module.add_class::<PyWebhookOutcome>()?;
    module.add_function(wrap_pyfunction!(verify, module)?)?;
    module.add_function(wrap_pyfunction!(parse, module)?)?;
    module.add_function(wrap_pyfunction!(construct_event, module)?)?;
    module.add_function(wrap_pyfunction!(sign_payload, module)?)?;
    Ok(())
}

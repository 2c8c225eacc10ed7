//! The stateful side: `MockStripe` (faults, clock, request log, webhooks, HTTP front),
//! the sync stores, and `Billbridge` with its builder options as keyword arguments.
//! `Billbridge` blocks with the GIL released; `AsyncBillbridge` (exported as
//! `billbridge.aio.Billbridge`) returns awaitables. Both call the same core methods.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use billbridge::domain::catalogue::{Catalogue, Service};
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{OrganisationId, Party, Patient, PatientId, PayerRef};
use billbridge::store::{MemoryStore, PartyKind, SqliteStore, SyncStore};
use billbridge::stripe::client::{PayInvoice, RequestContext, StripeClient};
use billbridge::stripe::transport::TransportErrorKind;
use billbridge::sync::{
    BalanceAdjustment, BulkItem, BulkOptions, BulkProgress, CustomerRecord, IdempotencySecret,
    InvoicePreview, InvoiceRecord, InvoiceRequest, PaidOutside, PaymentMethod, ProgressCallback,
    Raise, ServiceBilling, ServiceInvoiceOutcome, WebhookDisposition, WebhookOutcome,
};
use billbridge::{Billbridge, Error};
use billbridge_mock::{
    Fault, MockServer, MockStripe, RateLimit, RequestOutcome, SignatureTime, WebhookOptions,
};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{date_from_py, optional_date, to_py};
use crate::domain::{
    PyCatalogueItem, PyInvoiceDraft, PyMetadataPolicy, PyOrganisation, PyPatient, PyPayerRef,
    payer_from_py,
};
use crate::domain::{PyService, rates_from_py};
use crate::errors::{BindingError, exception_instance, raise};
use crate::money::{PyMoney, currency_from_py};
use crate::runtime::{block_on, runtime};
use crate::stripe::PyHttpTransport;
use crate::webhook::{body_bytes, secret_from_py};

/// A stateful in-memory Stripe for tests and demos; clones share one state.
#[pyclass(name = "MockStripe", module = "billbridge", frozen)]
pub struct PyMockStripe(pub MockStripe);

fn fault_from_name(name: &str, status: Option<u16>) -> PyResult<Fault> {
    Ok(match name {
        "rate_limited" => Fault::RateLimited,
        "lock_timeout" => Fault::LockTimeout,
        "server_error" => Fault::ServerError {
            status: status.unwrap_or(500),
            should_retry: None,
        },
        "unavailable_retry" => Fault::UNAVAILABLE_RETRY,
        "timeout" => Fault::Timeout,
        "connection_reset" => Fault::ConnectionReset,
        "response_lost" => Fault::AppliedResponseLost(TransportErrorKind::Timeout),
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown fault {other:?}: expected rate_limited, lock_timeout, server_error, unavailable_retry, timeout, connection_reset or response_lost"
            )));
        }
    })
}

#[pymethods]
impl PyMockStripe {
    /// `MockStripe(seed=0, start_time=None)`.
    #[new]
    #[pyo3(signature = (*, seed=None, start_time=None))]
    fn new(seed: Option<u64>, start_time: Option<i64>) -> Self {
        let mut builder = MockStripe::builder();
        if let Some(seed) = seed {
            builder = builder.seed(seed);
        }
        if let Some(start) = start_time {
            builder = builder.start_time(start);
        }
        PyMockStripe(builder.build())
    }

    /// The mock clock, unix seconds.
    #[getter]
    fn now(&self) -> i64 {
        self.0.clock().now()
    }

    /// Sets the mock clock.
    fn set_time(&self, unix: i64) {
        self.0.clock().set(unix);
    }

    /// Moves the mock clock forward.
    fn advance(&self, seconds: i64) {
        self.0.clock().advance(seconds);
    }

    /// The `whsec_…` secret the mock signs its webhook deliveries with.
    #[getter]
    fn webhook_secret(&self) -> String {
        self.0.webhook_secret()
    }

    /// Makes the next `times` requests whose path starts with `path_prefix` fail with
    /// `fault` (`"rate_limited"`, `"lock_timeout"`, `"server_error"`,
    /// `"unavailable_retry"`, `"timeout"`, `"connection_reset"`, `"response_lost"`).
    #[pyo3(signature = (path_prefix, fault, *, times=1, status=None))]
    fn fail_next(
        &self,
        path_prefix: &str,
        fault: &str,
        times: u32,
        status: Option<u16>,
    ) -> PyResult<()> {
        let fault = fault_from_name(fault, status)?;
        self.0
            .faults()
            .next_requests_to(None, path_prefix, fault, times);
        Ok(())
    }

    /// How webhook deliveries misbehave and which time their signature carries:
    /// `signature_time="mock_clock"` signs at the mock's time (what a bridge over this
    /// mock expects), `"system"` (the default) at the real time.
    #[pyo3(signature = (*, signature_time="system", duplicate_rate=0.0, reorder=false, delay_seconds=0))]
    fn set_webhook_options(
        &self,
        signature_time: &str,
        duplicate_rate: f64,
        reorder: bool,
        delay_seconds: i64,
    ) -> PyResult<()> {
        let signature_time = match signature_time {
            "system" => SignatureTime::System,
            "mock_clock" => SignatureTime::MockClock,
            other => {
                return Err(PyValueError::new_err(format!(
                    "signature_time must be \"system\" or \"mock_clock\", got {other:?}"
                )));
            }
        };
        self.0.set_webhook_options(WebhookOptions {
            duplicate_rate,
            reorder,
            delay_seconds,
            signature_time,
        });
        Ok(())
    }

    /// Makes every request whose path starts with `path_prefix` (`"/"` for all) fail
    /// with `fault` (the names of `fail_next`) with probability `rate`, from 0 to 1,
    /// rolled on a generator seeded from the mock's seed.
    #[pyo3(signature = (path_prefix, fault, *, rate, status=None))]
    fn fail_randomly(
        &self,
        path_prefix: &str,
        fault: &str,
        rate: f64,
        status: Option<u16>,
    ) -> PyResult<()> {
        let fault = fault_from_name(fault, status)?;
        self.0.faults().random(path_prefix, fault, rate);
        Ok(())
    }

    /// Delays every request by `seconds` (None removes the delay).
    fn set_latency(&self, seconds: Option<f64>) -> PyResult<()> {
        let latency = seconds
            .map(Duration::try_from_secs_f64)
            .transpose()
            .map_err(|_| {
                PyValueError::new_err("latency must be a finite number of seconds, 0 or more")
            })?;
        self.0.faults().latency(latency);
        Ok(())
    }

    /// Answers 429 `rate_limit` past `per_second` requests per second (None removes the
    /// limit): a token bucket that starts full and refills as the mock clock advances,
    /// or as real time passes with `real_time=True`.
    #[pyo3(signature = (per_second, *, real_time=false))]
    fn set_rate_limit(&self, per_second: Option<u32>, real_time: bool) {
        let limit = per_second.map(|rate| {
            let limit = RateLimit::per_second(rate);
            if real_time { limit.real_time() } else { limit }
        });
        self.0.faults().rate_limit(limit);
    }

    /// Removes every fault, the latency and the rate limit.
    fn clear_faults(&self) {
        self.0.faults().clear();
    }

    /// Every request received so far.
    fn requests(&self) -> Vec<PyRecordedRequest> {
        self.0
            .requests()
            .into_iter()
            .map(|request| PyRecordedRequest {
                method: request.method.as_str(),
                path: request.path,
                params: request.params,
                idempotency_key: request.idempotency_key,
                stripe_account: request.stripe_account,
                status: match request.outcome {
                    RequestOutcome::Answered(status) => Some(status),
                    RequestOutcome::NoResponse { .. } => None,
                },
                replayed: request.replayed,
            })
            .collect()
    }

    /// The webhook deliveries queued since the last call, oldest first.
    fn take_webhooks(&self) -> Vec<PyWebhookDelivery> {
        self.0
            .take_webhooks()
            .into_iter()
            .map(|delivery| PyWebhookDelivery {
                body: delivery.body,
                signature_header: delivery.signature_header,
                event_id: delivery.event_id,
                event_type: delivery.event_type,
            })
            .collect()
    }

    /// Pays an open invoice as the payer would on its hosted page (test card
    /// `pm_card_visa` unless told otherwise); the mock then queues the webhooks.
    #[pyo3(signature = (stripe_invoice_id, *, payment_method="pm_card_visa"))]
    fn pay_invoice(
        &self,
        py: Python<'_>,
        stripe_invoice_id: String,
        payment_method: &str,
    ) -> PyResult<()> {
        let client = StripeClient::new(self.0.clone());
        let payment = PayInvoice {
            payment_method: Some(payment_method.to_owned()),
            ..PayInvoice::default()
        };
        block_on(py, async move {
            client
                .invoices()
                .pay(&stripe_invoice_id, &payment, &RequestContext::new())
                .await
                .map(|_| ())
                .map_err(|error| BindingError::Core(Error::from(error)))
        })
    }

    /// Serves the mock over HTTP on loopback (port 0: any free port), for SDKs such as
    /// stripe-python; stop it with `MockServer.shutdown()`.
    #[pyo3(signature = (*, port=0))]
    fn serve(&self, py: Python<'_>, port: u16) -> PyResult<PyMockServer> {
        let mock = self.0.clone();
        let server = block_on(py, async move {
            mock.serve(("127.0.0.1", port))
                .await
                .map_err(|error| BindingError::Internal {
                    code: "serve_failed",
                    message: format!("could not serve the mock on port {port}: {error}"),
                })
        })?;
        Ok(PyMockServer(Mutex::new(Some(server))))
    }

    fn __repr__(&self) -> String {
        format!("MockStripe(now={})", self.0.clock().now())
    }
}

/// One request the mock received.
#[pyclass(name = "RecordedRequest", module = "billbridge", frozen, get_all)]
pub struct PyRecordedRequest {
    /// `"GET"`, `"POST"` or `"DELETE"`.
    method: &'static str,
    /// The path, e.g. `/v1/customers`.
    path: String,
    /// The form pairs as received.
    params: Vec<(String, String)>,
    /// The `Idempotency-Key`, if any.
    idempotency_key: Option<String>,
    /// The `Stripe-Account`, if any.
    stripe_account: Option<String>,
    /// The HTTP status answered, or None when no response was given (a fault).
    status: Option<u16>,
    /// Whether the answer was an idempotent replay.
    replayed: bool,
}

#[pymethods]
impl PyRecordedRequest {
    // Parameter values can be personal data: keys only.
    fn __repr__(&self) -> String {
        let status = self
            .status
            .map_or_else(|| "None".to_owned(), |status| status.to_string());
        format!(
            "RecordedRequest({} {}, status={status})",
            self.method, self.path
        )
    }
}

/// One webhook delivery as an endpoint would receive it.
#[pyclass(name = "WebhookDelivery", module = "billbridge", frozen)]
pub struct PyWebhookDelivery {
    body: Vec<u8>,
    signature_header: String,
    event_id: String,
    event_type: String,
}

#[pymethods]
impl PyWebhookDelivery {
    /// The raw request body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.body)
    }

    /// The `Stripe-Signature` header value.
    #[getter]
    fn signature_header(&self) -> &str {
        &self.signature_header
    }

    /// The event id.
    #[getter]
    fn event_id(&self) -> &str {
        &self.event_id
    }

    /// The event type.
    #[getter]
    fn event_type(&self) -> &str {
        &self.event_type
    }

    fn __repr__(&self) -> String {
        format!(
            "WebhookDelivery(event_id='{}', event_type='{}')",
            self.event_id, self.event_type
        )
    }
}

/// The mock's HTTP front.
#[pyclass(name = "MockServer", module = "billbridge", frozen)]
pub struct PyMockServer(Mutex<Option<MockServer>>);

#[pymethods]
impl PyMockServer {
    /// `http://127.0.0.1:<port>`.
    #[getter]
    fn url(&self) -> PyResult<String> {
        let guard = self
            .0
            .lock()
            .map_err(|_| PyRuntimeError::new_err("server lock poisoned"))?;
        guard
            .as_ref()
            .map(MockServer::url)
            .ok_or_else(|| PyRuntimeError::new_err("the mock server was shut down"))
    }

    /// Stops serving.
    fn shutdown(&self) -> PyResult<()> {
        let mut guard = self
            .0
            .lock()
            .map_err(|_| PyRuntimeError::new_err("server lock poisoned"))?;
        if let Some(server) = guard.take() {
            // Shutting down wakes the server task, which lives on the binding's runtime.
            let _entered = runtime()?.enter();
            server.shutdown();
        }
        Ok(())
    }
}

/// The in-memory sync store (lost when the process ends).
#[pyclass(name = "MemoryStore", module = "billbridge", frozen)]
pub struct PyMemoryStore(Arc<MemoryStore>);

#[pymethods]
impl PyMemoryStore {
    #[new]
    fn new() -> Self {
        PyMemoryStore(Arc::new(MemoryStore::new()))
    }
}

/// The SQLite sync store: the host ↔ Stripe links survive restarts.
#[pyclass(name = "SqliteStore", module = "billbridge", frozen)]
pub struct PySqliteStore {
    store: Arc<SqliteStore>,
    path: String,
}

#[pymethods]
impl PySqliteStore {
    /// Opens (or creates) the database at `path` (`str` or `os.PathLike`).
    #[new]
    fn new(path: std::path::PathBuf) -> PyResult<Self> {
        let store = SqliteStore::open(&path).map_err(raise)?;
        Ok(PySqliteStore {
            store: Arc::new(store),
            path: path.display().to_string(),
        })
    }

    fn __repr__(&self) -> String {
        format!("SqliteStore({:?})", self.path)
    }
}

impl PySqliteStore {
    /// The core store, shared (offline billing keeps its books in it too).
    pub fn shared(&self) -> Arc<SqliteStore> {
        Arc::clone(&self.store)
    }
}

/// A customer after an upsert.
#[pyclass(name = "CustomerRecord", module = "billbridge", frozen)]
pub struct PyCustomerRecord(CustomerRecord);

#[pymethods]
impl PyCustomerRecord {
    /// `"patient"` or `"organisation"`.
    #[getter]
    fn party_kind(&self) -> &'static str {
        self.0.party_kind.as_str()
    }

    /// The host's id of the party.
    #[getter]
    fn host_party_id(&self) -> &str {
        &self.0.host_party_id
    }

    /// Stripe's customer id (`cus_…`).
    #[getter]
    fn stripe_customer_id(&self) -> &str {
        &self.0.stripe_customer_id
    }

    /// `"created"`, `"updated"` or `"unchanged"` (nothing sent).
    #[getter]
    fn outcome(&self) -> &'static str {
        self.0.outcome.as_str()
    }

    fn __repr__(&self) -> String {
        format!(
            "CustomerRecord(host_party_id={:?}, stripe_customer_id={:?}, outcome='{}')",
            self.0.host_party_id,
            self.0.stripe_customer_id,
            self.0.outcome.as_str()
        )
    }
}

/// A credit or debit recorded on a payer's balance.
#[pyclass(name = "BalanceAdjustment", module = "billbridge", frozen)]
pub struct PyBalanceAdjustment(BalanceAdjustment);

#[pymethods]
impl PyBalanceAdjustment {
    /// Stripe's balance transaction id.
    #[getter]
    fn stripe_transaction_id(&self) -> &str {
        &self.0.stripe_transaction_id
    }

    /// The adjustment (negative: a credit to the payer).
    #[getter]
    fn amount(&self) -> PyMoney {
        PyMoney(self.0.amount)
    }

    /// The balance after it.
    #[getter]
    fn ending_balance(&self) -> PyMoney {
        PyMoney(self.0.ending_balance)
    }

    fn __repr__(&self) -> String {
        format!(
            "BalanceAdjustment(amount={}, ending_balance={})",
            self.0.amount, self.0.ending_balance
        )
    }
}

/// What the payer's next invoice for a draft would ask (no side effects).
#[pyclass(name = "InvoicePreview", module = "billbridge", frozen)]
pub struct PyInvoicePreview(InvoicePreview);

#[pymethods]
impl PyInvoicePreview {
    /// Who would be billed.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.payer.clone())
    }

    /// The draft's total.
    #[getter]
    fn total(&self) -> PyMoney {
        PyMoney(self.0.total)
    }

    /// The payer's balance now.
    #[getter]
    fn starting_balance(&self) -> PyMoney {
        PyMoney(self.0.starting_balance)
    }

    /// The part of the balance the invoice would use.
    #[getter]
    fn applied_balance(&self) -> PyMoney {
        PyMoney(self.0.applied_balance)
    }

    /// What the invoice would ask for.
    #[getter]
    fn amount_due(&self) -> PyMoney {
        PyMoney(self.0.amount_due)
    }

    /// The payer's balance after finalization.
    #[getter]
    fn ending_balance(&self) -> PyMoney {
        PyMoney(self.0.ending_balance)
    }

    /// Whether Stripe would mark the invoice paid at finalization.
    #[getter]
    fn paid_at_finalization(&self) -> bool {
        self.0.paid_at_finalization
    }

    fn __repr__(&self) -> String {
        format!(
            "InvoicePreview(total={}, amount_due={})",
            self.0.total, self.0.amount_due
        )
    }
}

/// A Stripe-unit amount of a mirror as `Money`.
pub fn stripe_money(amount: i64, currency: &str) -> PyResult<PyMoney> {
    let currency = Currency::new(currency).map_err(raise)?;
    Money::from_stripe_amount(amount, currency)
        .map(PyMoney)
        .map_err(raise)
}

/// The host's mirror of a Stripe invoice, as the store keeps it.
#[pyclass(name = "InvoiceRecord", module = "billbridge", frozen)]
pub struct PyInvoiceRecord(pub InvoiceRecord);

#[pymethods]
impl PyInvoiceRecord {
    /// The host's invoice id.
    #[getter]
    fn host_invoice_id(&self) -> &str {
        &self.0.host_invoice_id
    }

    /// Stripe's invoice id (`in_…`).
    #[getter]
    fn stripe_invoice_id(&self) -> &str {
        &self.0.stripe_invoice_id
    }

    /// Stripe's customer id (`cus_…`).
    #[getter]
    fn stripe_customer_id(&self) -> &str {
        &self.0.stripe_customer_id
    }

    /// `"draft"`, `"open"`, `"paid"`, `"void"`, `"uncollectible"` (or Stripe's newer
    /// value as sent).
    #[getter]
    fn status(&self) -> &str {
        self.0.status.as_str()
    }

    /// The invoice number, once finalized.
    #[getter]
    fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }

    /// Σ lines.
    #[getter]
    fn total(&self) -> PyResult<PyMoney> {
        stripe_money(self.0.total, &self.0.currency)
    }

    /// What the invoice asks.
    #[getter]
    fn amount_due(&self) -> PyResult<PyMoney> {
        stripe_money(self.0.amount_due, &self.0.currency)
    }

    /// What was paid.
    #[getter]
    fn amount_paid(&self) -> PyResult<PyMoney> {
        stripe_money(self.0.amount_paid, &self.0.currency)
    }

    /// What is left to pay.
    #[getter]
    fn amount_remaining(&self) -> PyResult<PyMoney> {
        stripe_money(self.0.amount_remaining, &self.0.currency)
    }

    /// The payer's balance when the invoice was finalized.
    #[getter]
    fn starting_balance(&self) -> PyResult<PyMoney> {
        stripe_money(self.0.starting_balance, &self.0.currency)
    }

    /// The payer's balance after it.
    #[getter]
    fn ending_balance(&self) -> PyResult<Option<PyMoney>> {
        self.0
            .ending_balance
            .map(|amount| stripe_money(amount, &self.0.currency))
            .transpose()
    }

    /// The payment page.
    #[getter]
    fn hosted_invoice_url(&self) -> Option<&str> {
        self.0.hosted_invoice_url.as_deref()
    }

    /// The PDF.
    #[getter]
    fn invoice_pdf(&self) -> Option<&str> {
        self.0.invoice_pdf.as_deref()
    }

    /// Due date, unix seconds.
    #[getter]
    fn due_date(&self) -> Option<i64> {
        self.0.due_date
    }

    /// Who pays.
    #[getter]
    fn payer(&self) -> PyResult<PyPayerRef> {
        let id = self.0.payer_host_id.as_str();
        Ok(PyPayerRef(match self.0.payer_kind {
            PartyKind::Patient => PayerRef::Patient(patient_id(id)?),
            PartyKind::Organisation => PayerRef::Organisation(organisation_id(id)?),
        }))
    }

    /// The patient the invoice is about.
    #[getter]
    fn patient_id(&self) -> Option<&str> {
        self.0.patient_host_id.as_deref()
    }

    /// The invoice's Stripe metadata.
    #[getter]
    fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// How it was paid outside Stripe, if it was.
    #[getter]
    fn paid_outside_method(&self) -> Option<&str> {
        self.0
            .paid_outside
            .as_ref()
            .map(|payment| payment.method.as_str())
    }

    /// The record as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "InvoiceRecord(host_invoice_id={:?}, status='{}', number={})",
            self.0.host_invoice_id,
            self.0.status.as_str(),
            crate::convert::optional_repr(self.0.number.as_deref())
        )
    }
}

/// What became of one webhook delivery.
#[pyclass(name = "WebhookOutcome", module = "billbridge", frozen)]
pub struct PyWebhookOutcome(WebhookOutcome);

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
        match self.0.disposition {
            WebhookDisposition::Applied => "applied",
            WebhookDisposition::Duplicate => "duplicate",
            _ => "ignored",
        }
    }

    /// What changed for the host, each a dict whose `"change"` names it
    /// (`invoice_status_changed`, `invoice_paid`, `invoice_amounts_changed`,
    /// `invoice_deleted`, `customer_updated`).
    #[getter]
    fn changes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.changes)
    }

    fn __repr__(&self) -> String {
        format!(
            "WebhookOutcome(event_id='{}', event_type='{}', disposition='{}')",
            self.0.event_id,
            self.0.event_type,
            self.disposition()
        )
    }
}

/// One payer's invoice for a group of services.
#[pyclass(name = "ServiceInvoiceOutcome", module = "billbridge", frozen)]
pub struct PyServiceInvoiceOutcome {
    payer: PayerRef,
    host_invoice_id: String,
    services: Vec<Service>,
    record: Option<InvoiceRecord>,
    error: Option<BindingError>,
}

#[pymethods]
impl PyServiceInvoiceOutcome {
    /// Who the invoice bills.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.payer.clone())
    }

    /// The derived host invoice id (stable across re-runs).
    #[getter]
    fn host_invoice_id(&self) -> &str {
        &self.host_invoice_id
    }

    /// The services, stamped with the invoiced date when the invoice was raised.
    #[getter]
    fn services(&self) -> Vec<PyService> {
        self.services.iter().cloned().map(PyService).collect()
    }

    /// The invoice raised, or None when it failed.
    #[getter]
    fn record(&self) -> Option<PyInvoiceRecord> {
        self.record.clone().map(PyInvoiceRecord)
    }

    /// Why the invoice was not raised, as the exception the call would have raised.
    #[getter]
    fn error(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        match &self.error {
            Some(error) => Ok(Some(exception_instance(py, error)?)),
            None => Ok(None),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "ServiceInvoiceOutcome(host_invoice_id={:?}, raised={})",
            self.host_invoice_id,
            if self.record.is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
}

impl From<ServiceInvoiceOutcome> for PyServiceInvoiceOutcome {
    fn from(outcome: ServiceInvoiceOutcome) -> Self {
        let (record, error) = match outcome.result {
            Ok(record) => (Some(record), None),
            Err(error) => (None, Some(BindingError::Core(error))),
        };
        PyServiceInvoiceOutcome {
            payer: outcome.payer,
            host_invoice_id: outcome.host_invoice_id,
            services: outcome.services,
            record,
            error,
        }
    }
}

/// What one item of a bulk call produced.
enum BulkValue {
    Customer(CustomerRecord),
    Invoice(Box<InvoiceRecord>),
}

/// One item of a bulk call: its position in the input and its record or error.
#[pyclass(name = "BulkResult", module = "billbridge", frozen)]
pub struct PyBulkResult {
    index: usize,
    value: Option<BulkValue>,
    error: Option<BindingError>,
}

impl PyBulkResult {
    fn new<T>(item: BulkItem<T>, wrap: fn(T) -> BulkValue) -> Self {
        match item.result {
            Ok(value) => PyBulkResult {
                index: item.index,
                value: Some(wrap(value)),
                error: None,
            },
            Err(error) => PyBulkResult {
                index: item.index,
                value: None,
                error: Some(BindingError::Core(error)),
            },
        }
    }
}

#[pymethods]
impl PyBulkResult {
    /// The item's position in the input.
    #[getter]
    fn index(&self) -> usize {
        self.index
    }

    /// True when the item succeeded.
    #[getter]
    fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The `CustomerRecord` or `InvoiceRecord`, when it succeeded.
    #[getter]
    fn value(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        Ok(match &self.value {
            Some(BulkValue::Customer(record)) => Some(
                PyCustomerRecord(record.clone())
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            ),
            Some(BulkValue::Invoice(record)) => Some(
                PyInvoiceRecord(record.as_ref().clone())
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            ),
            None => None,
        })
    }

    /// The exception the item would have raised, when it failed.
    #[getter]
    fn error(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.error
            .as_ref()
            .map(|error| exception_instance(py, error))
            .transpose()
    }

    fn __repr__(&self) -> String {
        let outcome = match &self.error {
            Some(error) => error.code().to_owned(),
            None => "ok".to_owned(),
        };
        format!("BulkResult(index={}, outcome='{outcome}')", self.index)
    }
}

/// Bulk options from keyword arguments; `progress(done, failed, total)` is called
/// with the GIL taken, and an exception it raises is reported, not propagated.
fn bulk_options(
    concurrency: usize,
    requests_per_second: Option<u32>,
    progress: Option<Py<PyAny>>,
) -> BulkOptions {
    let progress: Option<ProgressCallback> = progress.map(|callback| {
        let callback: ProgressCallback = Arc::new(move |step: BulkProgress| {
            Python::attach(|py| {
                if let Err(error) = callback.call1(py, (step.done, step.failed, step.total)) {
                    error.write_unraisable(py, Some(callback.bind(py)));
                }
            });
        });
        callback
    });
    BulkOptions {
        concurrency,
        requests_per_second,
        progress,
    }
}

fn invoice_requests(items: &Bound<'_, PyAny>) -> PyResult<Vec<InvoiceRequest>> {
    let mut requests = Vec::new();
    for item in items.try_iter()? {
        let item = item?;
        let (draft, patient) = if let Ok(draft) = item.cast::<PyInvoiceDraft>() {
            (draft.borrow().0.clone(), None)
        } else {
            let (draft, patient): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
                item.extract().map_err(|_| {
                    PyTypeError::new_err(
                        "items must be InvoiceDraft or (InvoiceDraft, Patient) pairs",
                    )
                })?;
            let draft = draft
                .cast::<PyInvoiceDraft>()
                .map_err(|_| PyTypeError::new_err("expected an InvoiceDraft"))?
                .borrow()
                .0
                .clone();
            let patient = patient
                .cast::<PyPatient>()
                .map_err(|_| PyTypeError::new_err("expected a Patient"))?
                .get()
                .0
                .clone();
            (draft, Some(patient))
        };
        requests.push(InvoiceRequest { draft, patient });
    }
    Ok(requests)
}

fn raise_mode(mode: &str) -> PyResult<Raise> {
    match mode {
        "draft" => Ok(Raise::Draft),
        "finalize" => Ok(Raise::Finalize),
        "finalize_and_send" => Ok(Raise::FinalizeAndSend),
        other => Err(PyValueError::new_err(format!(
            "mode must be \"draft\", \"finalize\" or \"finalize_and_send\", got {other:?}"
        ))),
    }
}

fn optional_patient(patient: Option<&Bound<'_, PyPatient>>) -> Option<Patient> {
    patient.map(|patient| patient.get().0.clone())
}

pub fn services_from_py(services: &Bound<'_, PyAny>) -> PyResult<Vec<Service>> {
    let mut list = Vec::new();
    for service in services.try_iter()? {
        let service = service?;
        let service = service
            .cast::<PyService>()
            .map_err(|_| PyTypeError::new_err("services must be Service objects"))?;
        list.push(service.get().0.clone());
    }
    Ok(list)
}

fn patients_from_py(patients: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Patient>> {
    let mut list = Vec::new();
    if let Some(patients) = patients {
        for patient in patients.try_iter()? {
            let patient = patient?;
            let patient = patient
                .cast::<PyPatient>()
                .map_err(|_| PyTypeError::new_err("patients must be Patient objects"))?;
            list.push(patient.get().0.clone());
        }
    }
    Ok(list)
}

fn party_from_py(value: &Bound<'_, PyAny>) -> PyResult<Party> {
    if let Ok(patient) = value.cast::<PyPatient>() {
        return Ok(Party::Patient(patient.get().0.clone()));
    }
    if let Ok(organisation) = value.cast::<PyOrganisation>() {
        return Ok(Party::Organisation(organisation.get().0.clone()));
    }
    Err(PyTypeError::new_err(
        "party must be a Patient or an Organisation",
    ))
}

fn idempotency_secret_from_py(value: &Bound<'_, PyAny>) -> PyResult<IdempotencySecret> {
    let bytes: Vec<u8> = if let Ok(text) = value.extract::<String>() {
        text.into_bytes()
    } else {
        value
            .extract()
            .map_err(|_| PyTypeError::new_err("idempotency_secret must be str or bytes"))?
    };
    IdempotencySecret::new(bytes).map_err(raise)
}

/// A `MemoryStore` or a `SqliteStore` as the core's shared store.
pub fn store_from_py(store: &Bound<'_, PyAny>) -> PyResult<Arc<dyn SyncStore>> {
    if let Ok(memory) = store.cast::<PyMemoryStore>() {
        Ok(memory.get().0.clone() as Arc<dyn SyncStore>)
    } else if let Ok(sqlite) = store.cast::<PySqliteStore>() {
        Ok(sqlite.get().store.clone() as Arc<dyn SyncStore>)
    } else {
        Err(PyTypeError::new_err(
            "store must be a MemoryStore or a SqliteStore",
        ))
    }
}

/// Builds the core bridge from the keyword arguments both flavours take.
#[allow(clippy::too_many_arguments)] // one keyword argument per builder option
fn build_bridge(
    stripe: &Bound<'_, PyAny>,
    idempotency_secret: &Bound<'_, PyAny>,
    metadata_policy: Option<&Bound<'_, PyMetadataPolicy>>,
    store: Option<&Bound<'_, PyAny>>,
    account: Option<String>,
    webhook_secret: Option<&Bound<'_, PyAny>>,
    webhook_tolerance: Option<u64>,
    catalogue: Option<&Bound<'_, PyAny>>,
    currency: Option<&Bound<'_, PyAny>>,
    default_days_until_due: Option<u32>,
    requests_per_second: Option<u32>,
) -> PyResult<Billbridge> {
    let (client, clock) = if let Ok(mock) = stripe.cast::<PyMockStripe>() {
        let mock = mock.get().0.clone();
        // A bridge over the mock lives on the mock's clock, so "today" follows it.
        let clock = mock.clock();
        (StripeClient::new(mock), Some(clock))
    } else if let Ok(http) = stripe.cast::<PyHttpTransport>() {
        (StripeClient::new(http.get().0.clone()), None)
    } else {
        return Err(PyTypeError::new_err(
            "stripe must be a MockStripe or an HttpTransport",
        ));
    };
    let mut builder = Billbridge::builder(client)
        .idempotency_secret(idempotency_secret_from_py(idempotency_secret)?);
    if let Some(clock) = clock {
        builder = builder.clock(move || clock.now());
    }
    if let Some(policy) = metadata_policy {
        builder = builder.metadata_policy(policy.get().0.clone());
    }
    if let Some(store) = store.filter(|store| !store.is_none()) {
        builder = builder.shared_store(store_from_py(store)?);
    }
    if let Some(account) = account {
        builder = builder.account(account);
    }
    if let Some(secret) = webhook_secret.filter(|secret| !secret.is_none()) {
        builder = builder.webhook_secret(secret_from_py(secret)?);
    }
    if let Some(seconds) = webhook_tolerance {
        builder = builder.webhook_tolerance(Duration::from_secs(seconds));
    }
    if let Some(items) = catalogue.filter(|items| !items.is_none()) {
        let mut list = Vec::new();
        for item in items.try_iter()? {
            let item = item?;
            let item = item
                .cast::<PyCatalogueItem>()
                .map_err(|_| PyTypeError::new_err("catalogue must hold CatalogueItem objects"))?;
            list.push(item.get().0.clone());
        }
        builder = builder.catalogue(Catalogue::try_from(list).map_err(raise)?);
    }
    if let Some(currency) = currency {
        builder = builder.currency(currency_from_py(currency)?);
    }
    if let Some(days) = default_days_until_due {
        builder = builder.default_days_until_due(days);
    }
    if let Some(rate) = requests_per_second {
        builder = builder.requests_per_second(rate);
    }
    builder.build().map_err(raise)
}

fn patient_id(id: &str) -> PyResult<PatientId> {
    PatientId::new(id).map_err(raise)
}

fn organisation_id(id: &str) -> PyResult<OrganisationId> {
    OrganisationId::new(id).map_err(raise)
}

fn payer(value: &Bound<'_, PyAny>) -> PyResult<PayerRef> {
    payer_from_py(value)
}

pub fn core<T>(result: Result<T, Error>) -> Result<T, BindingError> {
    result.map_err(BindingError::Core)
}

/// Runs one bridge call, blocking (GIL released) or as an awaitable; the offline
/// billing classes use the same two flavours.
pub trait Flavour {
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
        runtime()?;
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let value = future.await.map_err(PyErr::from)?;
            Ok(wrap(value))
        })
    }
}

macro_rules! bridge_methods {
    ($class:ident, $flavour:ty, $name:literal, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(name = $name, module = "billbridge", frozen)]
        pub struct $class(Billbridge);

        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (*, stripe, idempotency_secret, metadata_policy=None, store=None, account=None, webhook_secret=None, webhook_tolerance=None, catalogue=None, currency=None, default_days_until_due=None, requests_per_second=None))]
            #[allow(clippy::too_many_arguments)] // one keyword argument per builder option
            fn new(
                stripe: &Bound<'_, PyAny>,
                idempotency_secret: &Bound<'_, PyAny>,
                metadata_policy: Option<&Bound<'_, PyMetadataPolicy>>,
                store: Option<&Bound<'_, PyAny>>,
                account: Option<String>,
                webhook_secret: Option<&Bound<'_, PyAny>>,
                webhook_tolerance: Option<u64>,
                catalogue: Option<&Bound<'_, PyAny>>,
                currency: Option<&Bound<'_, PyAny>>,
                default_days_until_due: Option<u32>,
                requests_per_second: Option<u32>,
            ) -> PyResult<Self> {
                build_bridge(
                    stripe,
                    idempotency_secret,
                    metadata_policy,
                    store,
                    account,
                    webhook_secret,
                    webhook_tolerance,
                    catalogue,
                    currency,
                    default_days_until_due,
                    requests_per_second,
                )
                .map($class)
            }

            /// The connected account (`acct_…`), if any.
            #[getter]
            fn account(&self) -> Option<&str> {
                self.0.account()
            }

            /// The bridge's default currency.
            #[getter]
            fn currency(&self) -> crate::money::PyCurrency {
                crate::money::PyCurrency(self.0.currency())
            }

            /// Creates or updates the payer's Stripe customer; nothing is sent when
            /// nothing changed.
            fn upsert_customer<'py>(&self, py: Python<'py>, party: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let party = party_from_py(party)?;
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.upsert_customer(&party).await) }, PyCustomerRecord)
            }

            /// The Stripe customer id linked to `payer`, if synced.
            fn customer_id<'py>(&self, py: Python<'py>, payer: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let payer = self::payer(payer)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.customer(&payer).await) },
                    |link| link.map(|link| link.stripe_customer_id),
                )
            }

            /// Makes `organisation_id` pay `patient_id`'s invoices.
            fn set_default_payer<'py>(&self, py: Python<'py>, patient_id: &str, organisation_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let patient = self::patient_id(patient_id)?;
                let organisation = self::organisation_id(organisation_id)?;
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.set_default_payer(&patient, &organisation).await) }, |()| ())
            }

            /// Makes the patient pay their own invoices again; returns whether a
            /// default payer was set.
            fn clear_default_payer<'py>(&self, py: Python<'py>, patient_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let patient = self::patient_id(patient_id)?;
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.clear_default_payer(&patient).await) }, |cleared| cleared)
            }

            /// The patient's default payer organisation id, if any.
            fn default_payer<'py>(&self, py: Python<'py>, patient_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let patient = self::patient_id(patient_id)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.default_payer(&patient).await) },
                    |payer| payer.map(|id| id.as_str().to_owned()),
                )
            }

            /// Records a credit (negative) or debit on the payer's balance; the
            /// `adjustment_id` makes a re-run a no-op.
            #[pyo3(signature = (payer, amount, *, reason, adjustment_id))]
            fn adjust_balance<'py>(
                &self,
                py: Python<'py>,
                payer: &Bound<'py, PyAny>,
                amount: &Bound<'py, PyMoney>,
                reason: String,
                adjustment_id: String,
            ) -> PyResult<Bound<'py, PyAny>> {
                let payer = self::payer(payer)?;
                let amount = amount.get().0;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.adjust_balance(&payer, amount, &reason, &adjustment_id).await) },
                    PyBalanceAdjustment,
                )
            }

            /// The payer's customer balance (negative: credit).
            fn balance<'py>(&self, py: Python<'py>, payer: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let payer = self::payer(payer)?;
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.balance(&payer).await) }, PyMoney)
            }

            /// What the payer's invoice for `draft` would ask, without side effects.
            fn preview<'py>(&self, py: Python<'py>, draft: &Bound<'py, PyInvoiceDraft>) -> PyResult<Bound<'py, PyAny>> {
                let draft = draft.borrow().0.clone();
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.preview(&draft).await) }, PyInvoicePreview)
            }

            /// Raises `draft` in Stripe (exactly once, resumable): `mode` is
            /// `"draft"`, `"finalize"` or `"finalize_and_send"`. `patient` supplies
            /// the patient metadata when an organisation pays.
            #[pyo3(signature = (draft, *, mode="draft", patient=None))]
            fn raise_invoice<'py>(
                &self,
                py: Python<'py>,
                draft: &Bound<'py, PyInvoiceDraft>,
                mode: &str,
                patient: Option<&Bound<'py, PyPatient>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mode = raise_mode(mode)?;
                let draft = draft.borrow().0.clone();
                let patient = optional_patient(patient);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.raise_invoice(&draft, patient.as_ref(), mode).await) },
                    PyInvoiceRecord,
                )
            }

            /// Replaces a Stripe draft's lines with the edited `draft`'s.
            #[pyo3(signature = (draft, *, patient=None))]
            fn edit_draft<'py>(
                &self,
                py: Python<'py>,
                draft: &Bound<'py, PyInvoiceDraft>,
                patient: Option<&Bound<'py, PyPatient>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let draft = draft.borrow().0.clone();
                let patient = optional_patient(patient);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.edit_draft(&draft, patient.as_ref()).await) },
                    PyInvoiceRecord,
                )
            }

            /// The mirror of the host's invoice, if raised.
            fn invoice<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.invoice(&host_invoice_id).await) },
                    |record| record.map(PyInvoiceRecord),
                )
            }

            /// Finalizes a draft (number, payment page, balance applied).
            fn finalize<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.finalize(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Sends an open invoice to the payer.
            fn send<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.send(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Voids an open invoice.
            fn void<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.void(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Marks an open invoice uncollectible.
            fn mark_uncollectible<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.mark_uncollectible(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Deletes a draft.
            fn delete_draft<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.delete_draft(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Records a payment received outside Stripe (`method`: `"cash"`,
            /// `"cheque"`, `"bank_transfer"`, `"card_outside_stripe"`, `"insurance"` or
            /// the host's own name).
            #[pyo3(signature = (host_invoice_id, *, method, reference=None, paid_on=None))]
            fn mark_paid_outside_stripe<'py>(
                &self,
                py: Python<'py>,
                host_invoice_id: String,
                method: &str,
                reference: Option<String>,
                paid_on: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mut payment = PaidOutside::new(PaymentMethod::from(method));
                if let Some(reference) = reference {
                    payment = payment.reference(reference);
                }
                if let Some(date) = optional_date(paid_on)? {
                    payment = payment.on(date);
                }
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.mark_paid_outside_stripe(&host_invoice_id, &payment).await) },
                    PyInvoiceRecord,
                )
            }

            /// Handles one webhook delivery: the raw body exactly as received and the
            /// `Stripe-Signature` header. Answer Stripe 2xx when this returns.
            fn handle_webhook<'py>(
                &self,
                py: Python<'py>,
                payload: &Bound<'py, PyAny>,
                signature_header: Option<String>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let body = body_bytes(payload)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.handle_webhook(&body, signature_header.as_deref()).await) },
                    PyWebhookOutcome,
                )
            }

            /// Overwrites the mirror with Stripe's current invoice.
            fn resync_invoice<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.resync_invoice(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Re-fetches every invoice with events since `since` (unix seconds): the
            /// missed-webhook recovery job.
            fn resync_changed_since<'py>(&self, py: Python<'py>, since: i64) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.resync_changed_since(since).await) },
                    |records| records.into_iter().map(PyInvoiceRecord).collect::<Vec<_>>(),
                )
            }

            /// The invoices in the store matching every filter given: `status`,
            /// `payer`, `patient_id`, `customer_id`, `created` / `due` as
            /// `(first, last)` date pairs, `metadata` key/value pairs.
            #[pyo3(signature = (*, status=None, payer=None, patient_id=None, customer_id=None, created=None, due=None, metadata=None))]
            #[allow(clippy::too_many_arguments)] // one keyword argument per filter
            fn invoices<'py>(
                &self,
                py: Python<'py>,
                status: Option<&str>,
                payer: Option<&Bound<'py, PyAny>>,
                patient_id: Option<String>,
                customer_id: Option<String>,
                created: Option<&Bound<'py, PyAny>>,
                due: Option<&Bound<'py, PyAny>>,
                metadata: Option<BTreeMap<String, String>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let payer = payer.map(self::payer).transpose()?;
                let query = crate::report::query_from_py(status, payer, patient_id, customer_id, created, due, metadata)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let store = bridge.store().clone();
                        let found = billbridge::report::invoices(store.as_ref(), bridge.account(), &query)
                            .collect_all()
                            .await;
                        core(found.map_err(Error::from))
                    },
                    |records| records.into_iter().map(PyInvoiceRecord).collect::<Vec<_>>(),
                )
            }

            /// The open invoices, oldest first.
            fn outstanding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let store = bridge.store().clone();
                        let found = billbridge::report::outstanding(store.as_ref(), bridge.account())
                            .collect_all()
                            .await;
                        core(found.map_err(Error::from))
                    },
                    |records| records.into_iter().map(PyInvoiceRecord).collect::<Vec<_>>(),
                )
            }

            /// Payments received on or off Stripe between two dates, both included.
            fn payments_received<'py>(&self, py: Python<'py>, first: &Bound<'py, PyAny>, last: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let range = billbridge::report::DateRange::new(date_from_py(first)?, date_from_py(last)?).map_err(raise)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let store = bridge.store().clone();
                        let found = billbridge::report::payments_received(store.as_ref(), bridge.account(), range)
                            .collect_all()
                            .await;
                        core(found.map_err(Error::from))
                    },
                    |payments| payments.into_iter().map(crate::report::PyPayment).collect::<Vec<_>>(),
                )
            }

            /// The portal view of `payer`: their finalized invoices, paid and unpaid,
            /// with pay links and what remains to pay per currency.
            fn portal<'py>(&self, py: Python<'py>, payer: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let payer = self::payer(payer)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let store = bridge.store().clone();
                        let portal = billbridge::report::portal(store.as_ref(), bridge.account(), &payer).await;
                        core(portal.map_err(Error::from))
                    },
                    crate::report::PyPortal,
                )
            }

            /// Upserts every party with at most `concurrency` requests in flight, paced
            /// under `requests_per_second`; one failure does not stop the rest.
            #[pyo3(signature = (parties, *, concurrency=8, requests_per_second=None, progress=None))]
            fn upsert_customers<'py>(
                &self,
                py: Python<'py>,
                parties: &Bound<'py, PyAny>,
                concurrency: usize,
                requests_per_second: Option<u32>,
                progress: Option<Py<PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mut list = Vec::new();
                for party in parties.try_iter()? {
                    list.push(party_from_py(&party?)?);
                }
                let options = bulk_options(concurrency, requests_per_second, progress);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.upsert_customers(&list, &options).await) },
                    |items| {
                        items
                            .into_iter()
                            .map(|item| PyBulkResult::new(item, BulkValue::Customer))
                            .collect::<Vec<_>>()
                    },
                )
            }

            /// Raises every draft (or `(draft, patient)` pair) to `mode`, bounded and
            /// paced like `upsert_customers`.
            #[pyo3(signature = (drafts, *, mode="draft", concurrency=8, requests_per_second=None, progress=None))]
            #[allow(clippy::too_many_arguments)] // the bulk options are keyword arguments
            fn raise_invoices<'py>(
                &self,
                py: Python<'py>,
                drafts: &Bound<'py, PyAny>,
                mode: &str,
                concurrency: usize,
                requests_per_second: Option<u32>,
                progress: Option<Py<PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let requests = invoice_requests(drafts)?;
                let mode = raise_mode(mode)?;
                let options = bulk_options(concurrency, requests_per_second, progress);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.raise_invoices(&requests, mode, &options).await) },
                    |items| {
                        items
                            .into_iter()
                            .map(|item| PyBulkResult::new(item, |record| BulkValue::Invoice(Box::new(record))))
                            .collect::<Vec<_>>()
                    },
                )
            }

            /// One invoice per payer for the invoiceable services; each outcome holds
            /// the services stamped with `invoiced_on` or the error of that invoice.
            #[pyo3(signature = (services, rates, *, invoiced_on, patients=None, mode="finalize_and_send"))]
            fn raise_for_services<'py>(
                &self,
                py: Python<'py>,
                services: &Bound<'py, PyAny>,
                rates: &Bound<'py, PyAny>,
                invoiced_on: &Bound<'py, PyAny>,
                patients: Option<&Bound<'py, PyAny>>,
                mode: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let services = services_from_py(services)?;
                let rates = rates_from_py(rates)?;
                let patients = patients_from_py(patients)?;
                let billing = ServiceBilling {
                    invoiced_on: date_from_py(invoiced_on)?,
                    mode: raise_mode(mode)?,
                };
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.raise_for_services(&services, &rates, &patients, &billing).await) },
                    |outcomes| outcomes.into_iter().map(PyServiceInvoiceOutcome::from).collect::<Vec<_>>(),
                )
            }

            fn __repr__(&self) -> String {
                format!(
                    "{}(account={}, currency='{}')",
                    $name,
                    crate::convert::optional_repr(self.0.account()),
                    self.0.currency()
                )
            }
        }
    };
}

bridge_methods!(
    PyBillbridge,
    Blocking,
    "Billbridge",
    "The bridge between the host's records and Stripe; every method blocks with the GIL released."
);
bridge_methods!(
    PyAsyncBillbridge,
    Awaitable,
    "AsyncBillbridge",
    "The bridge with every method returning an awaitable (exported as `billbridge.aio.Billbridge`)."
);

/// Registers the stateful classes on the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyMockStripe>()?;
    module.add_class::<PyRecordedRequest>()?;
    module.add_class::<PyWebhookDelivery>()?;
    module.add_class::<PyMockServer>()?;
    module.add_class::<PyMemoryStore>()?;
    module.add_class::<PySqliteStore>()?;
    module.add_class::<PyCustomerRecord>()?;
    module.add_class::<PyBalanceAdjustment>()?;
    module.add_class::<PyInvoicePreview>()?;
    module.add_class::<PyInvoiceRecord>()?;
    module.add_class::<PyWebhookOutcome>()?;
    module.add_class::<PyServiceInvoiceOutcome>()?;
    module.add_class::<PyBulkResult>()?;
    module.add_class::<PyBillbridge>()?;
    module.add_class::<PyAsyncBillbridge>()?;
    Ok(())
}

//! The stateful side: `MockStripe` (faults, clock, request log, webhooks, HTTP front),
//! the sync stores, and `Billbridge` with its builder options as keyword arguments.
//! `Billbridge` blocks with the GIL released; `AsyncBillbridge` (exported as
//! `billbridge.aio.Billbridge`) returns awaitables. Both call the same core methods.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use billbridge::domain::catalogue::Catalogue;
use billbridge::domain::party::{OrganisationId, Party, PatientId, PayerRef};
use billbridge::mock::{Fault, MockClock, MockServer, MockStripe, RequestOutcome};
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::transport::TransportErrorKind;
use billbridge::sync::store::{MemoryStore, SqliteStore, SyncStore};
use billbridge::sync::{BalanceAdjustment, CustomerRecord, InvoicePreview};
use billbridge::sync::{Clock, IdempotencySecret};
use billbridge::{Billbridge, Error};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::domain::{
    PyCatalogueItem, PyInvoiceDraft, PyMetadataPolicy, PyOrganisation, PyPatient, PyPayerRef,
    payer_from_py,
};
use crate::errors::{BindingError, raise};
use crate::money::{PyMoney, currency_from_py};
use crate::runtime::{block_on, runtime};
use crate::stripe::PyHttpTransport;
use crate::webhook::secret_from_py;

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

    /// Removes every fault.
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

/// The mock's clock as the bridge's clock, so "today" follows the mock.
struct MockTime(MockClock);

impl Clock for MockTime {
    fn now_unix(&self) -> i64 {
        self.0.now()
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
        let clock = MockTime(mock.clock());
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
        builder = builder.clock(clock);
    }
    if let Some(policy) = metadata_policy {
        builder = builder.metadata_policy(policy.get().0.clone());
    }
    if let Some(store) = store.filter(|store| !store.is_none()) {
        if let Ok(memory) = store.cast::<PyMemoryStore>() {
            builder = builder.shared_store(memory.get().0.clone() as Arc<dyn SyncStore>);
        } else if let Ok(sqlite) = store.cast::<PySqliteStore>() {
            builder = builder.shared_store(sqlite.get().store.clone() as Arc<dyn SyncStore>);
        } else {
            return Err(PyTypeError::new_err(
                "store must be a MemoryStore or a SqliteStore",
            ));
        }
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

fn core<T>(result: Result<T, Error>) -> Result<T, BindingError> {
    result.map_err(BindingError::Core)
}

/// Runs one bridge call, blocking (GIL released) or as an awaitable.
trait Flavour {
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

struct Blocking;

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

struct Awaitable;

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
    module.add_class::<PyBillbridge>()?;
    module.add_class::<PyAsyncBillbridge>()?;
    Ok(())
}

//! The mock Stripe for tests: `MockStripe` (faults, clock, request log, webhooks),
//! the deliveries it signs, and its HTTP server. Fault kinds and signature times are
//! the mock crate's words; every rule is the mock's.

use std::sync::Mutex;

use billbridge::vocabulary::probability;
use billbridge_mock::{
    FaultKind, KeyPolicy, MockServer, MockStripe, RateLimit, RequestOutcome, SignatureTime,
    WebhookOptions,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::{Word, seconds};
use crate::errors::{BindingError, raise};
use crate::runtime::block_on;

/// A stateful in-memory Stripe for tests and demos; clones share one state.
#[pyclass(name = "MockStripe", module = "billbridge", frozen)]
pub struct PyMockStripe(pub MockStripe);

#[pymethods]
impl PyMockStripe {
    /// `MockStripe(seed=0, start_time=None, api_key=None, key_policy="any_test_key",
    /// search_lag=0)`.
    #[new]
    #[pyo3(signature = (*, seed=None, start_time=None, api_key=None, key_policy=None, search_lag=0))]
    fn new(
        seed: Option<u64>,
        start_time: Option<i64>,
        api_key: Option<String>,
        key_policy: Option<Word<KeyPolicy>>,
        search_lag: i64,
    ) -> Self {
        let mut builder = MockStripe::builder().search_lag(search_lag);
        if let Some(seed) = seed {
            builder = builder.seed(seed);
        }
        if let Some(start) = start_time {
            builder = builder.start_time(start);
        }
        if let Some(key) = api_key {
            builder = builder.api_key(key);
        }
        if let Some(Word(policy)) = key_policy {
            builder = builder.key_policy(policy);
        }
        PyMockStripe(builder.build())
    }

    /// Seconds after a write before search finds it (0: at once).
    fn set_search_lag(&self, seconds: i64) {
        self.0.set_search_lag(seconds);
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
        fault: Word<FaultKind>,
        times: u32,
        status: Option<u16>,
    ) -> PyResult<()> {
        let fault = fault.0.fault(status).map_err(raise)?;
        self.0
            .faults()
            .next_requests_to(None, path_prefix, fault, times);
        Ok(())
    }

    /// Makes every request whose path starts with `path_prefix` (`"/"` for all) fail
    /// with `fault` (the names of `fail_next`) with probability `rate`, from 0 to 1,
    /// rolled on a generator seeded from the mock's seed.
    #[pyo3(signature = (path_prefix, fault, *, rate, status=None))]
    fn fail_randomly(
        &self,
        path_prefix: &str,
        fault: Word<FaultKind>,
        rate: f64,
        status: Option<u16>,
    ) -> PyResult<()> {
        let fault = fault.0.fault(status).map_err(raise)?;
        let rate = probability("rate", rate).map_err(raise)?;
        self.0.faults().random(path_prefix, fault, rate);
        Ok(())
    }

    /// How webhook deliveries misbehave and which time their signature carries:
    /// `"system"` (the default: any verifier accepts them) or `"mock_clock"`. A bridge
    /// over this mock follows either.
    #[pyo3(signature = (*, signature_time="system", duplicate_rate=0.0, reorder=false, delay_seconds=0))]
    fn set_webhook_options(
        &self,
        signature_time: &str,
        duplicate_rate: f64,
        reorder: bool,
        delay_seconds: i64,
    ) -> PyResult<()> {
        self.0.set_webhook_options(WebhookOptions {
            duplicate_rate: probability("duplicate_rate", duplicate_rate).map_err(raise)?,
            reorder,
            delay_seconds,
            signature_time: signature_time.parse::<SignatureTime>().map_err(raise)?,
        });
        Ok(())
    }

    /// Delays every request by `seconds` (None removes the delay).
    fn set_latency(&self, seconds: Option<f64>) -> PyResult<()> {
        let latency = seconds
            .map(|value| self::seconds("latency", value))
            .transpose()?;
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

    /// The webhook deliveries due since the last call, oldest first.
    fn take_webhooks(&self) -> Vec<PyWebhookDelivery> {
        self.0
            .take_webhooks()
            .into_iter()
            .map(PyWebhookDelivery)
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
        let payment_method = payment_method.to_owned();
        let mock = self.0.clone();
        block_on(py, async move {
            Ok(mock
                .pay_invoice(&stripe_invoice_id, &payment_method)
                .await?)
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

/// A `MockStripe` given as the `stripe` of a bridge.
pub fn mock_from_py(value: &Bound<'_, PyAny>) -> Option<MockStripe> {
    value
        .cast::<PyMockStripe>()
        .ok()
        .map(|mock| mock.get().0.clone())
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
pub struct PyWebhookDelivery(billbridge_mock::WebhookDelivery);

#[pymethods]
impl PyWebhookDelivery {
    /// The raw request body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.body)
    }

    /// The `Stripe-Signature` header value.
    #[getter]
    fn signature_header(&self) -> &str {
        &self.0.signature_header
    }

    /// The unix time the signature carries: the system's time unless the mock signs
    /// at its own clock (pass it as `now=` to `construct_event` then).
    #[getter]
    fn signed_at(&self) -> i64 {
        self.0.signed_at
    }

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

    fn __repr__(&self) -> String {
        format!(
            "WebhookDelivery(event_id='{}', event_type='{}')",
            self.0.event_id, self.0.event_type
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
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        let server = self
            .0
            .lock()
            .map_err(|_| PyRuntimeError::new_err("server lock poisoned"))?
            .take();
        if let Some(server) = server {
            // Shutting down wakes the server task, which lives on the binding's runtime.
            block_on(py, async move {
                server.shutdown();
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// The `billbridge-mock` console script (`billbridge.mock_server.main`): hands the
/// command line (without the program name) to the mock crate's command, which parses
/// it, serves until Ctrl-C or SIGTERM and returns the exit code. The GIL is released
/// for the whole run; the command runs its own loop, not the binding's runtime.
#[pyfunction]
fn _run_mock_command(py: Python<'_>, arguments: Vec<String>) -> u8 {
    py.detach(|| billbridge_mock::cli::main(arguments))
}

/// Registers the mock's classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyMockStripe>()?;
    module.add_class::<PyRecordedRequest>()?;
    module.add_class::<PyWebhookDelivery>()?;
    module.add_class::<PyMockServer>()?;
    module.add_function(wrap_pyfunction!(_run_mock_command, module)?)?;
    Ok(())
}

//! `MockStripe`: a stateful in-memory Stripe behind the [`billbridge::stripe::transport::Transport`] trait.
//!
//! It speaks Stripe's HTTP-level protocol (form pairs in, Stripe-shaped JSON out) for
//! everything billbridge uses: customers and their balance transactions, products and
//! prices, invoice items, invoices through their whole life, events and signed webhook
//! deliveries, idempotency, connected accounts, and faults on demand. It can also be
//! served over loopback HTTP ([`MockStripe::serve`]) so any Stripe SDK can use it.
//!
//! # Which rules the mock shares with billbridge, and which it checks independently
//!
//! The mock is billbridge's own crate, so it could call every domain rule; it calls
//! only those where a second implementation could only drift: the money arithmetic of
//! finalization ([`billbridge::domain::balance::apply_balance`] with each currency's
//! minimum charge), and Stripe's currency table and amount limit from
//! [`billbridge::domain::money`]. Those are published Stripe rules with one right
//! answer; the mock's own tests pin them to Stripe's documented examples.
//!
//! Everything else it implements as Stripe does, independently of the domain, so that
//! it is an oracle for billbridge rather than an echo of it: which action each invoice
//! status allows (its own table per route), which fields stay editable after
//! finalization, events and their `previous_attributes`, idempotency, metadata merging,
//! pagination and search. Where the two legitimately differ, the mock follows Stripe and
//! the domain states the host's policy: Stripe sends (`/send`) a paid invoice again as a
//! receipt, so the mock allows it, while the domain's state machine
//! ([`billbridge::domain::status::InvoiceStatus::apply`]) refuses `send` for anything but
//! an open invoice, because a practice does not re-send a settled bill by mistake.
//!
//! Every request passes the same layers as at Stripe, in this order:
//! latency → API key (401; any test key by default, each with its own isolated state,
//! see [`KeyPolicy`]) → `Stripe-Account` → rate limit (429) → scripted or random faults
//! → idempotency (replay / 400 on another endpoint or with other parameters / 409 in
//! flight; a counted fault applies to a replay too) → pause → the parameters, checked
//! against Stripe's published schema (see `mock/PARAMETERS.md` for those the mock does
//! not model; refused requests are not saved under their key) → the handler and
//! `expand[]` → faults after execution (a response lost, or a 5xx saved under the key).
//!
//! Search follows Stripe's query language and, with [`MockStripeBuilder::search_lag`],
//! its indexing delay: hosts can test that they never rely on search right after a
//! write.
//!
//! ```
//! # async fn demo() {
//! use billbridge_mock::MockStripe;
//! use billbridge::stripe::transport::{Method, StripeRequest, Transport};
//!
//! let mock = MockStripe::new();
//! let response = mock
//!     .send(&StripeRequest {
//!         method: Method::Post,
//!         path: "/v1/customers".into(),
//!         params: vec![("name".into(), "Ada".into())],
//!         idempotency_key: Some("create-ada".into()),
//!         stripe_account: None,
//!         stripe_version: String::new(),
//!     })
//!     .await
//!     .unwrap();
//! assert_eq!(response.status, 200);
//! # }
//! ```

pub mod cli;
mod clock;
mod error;
mod expand;
mod faults;
mod form;
pub mod forward;
pub mod fuzzing;
mod http;
mod idempotency;
mod objects;
mod params;
mod routes;
mod rules;
mod search;
mod state;
mod webhooks;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use billbridge::clock::{Clock, SystemClock, TransportClocks};
use serde_json::Value;

pub use clock::{DEFAULT_START_TIME, MockClock};
pub use faults::{Fault, FaultKind, Faults, Pause, RateClock, RateLimit};
pub use http::{DEFAULT_MAX_BODY_BYTES, MockServer, ServeOptions};
pub use routes::{Operation, check_parameters, operations};
pub use state::InvoiceNumbering;
pub use webhooks::{SignatureTime, WebhookDelivery, WebhookOptions};

use error::ApiError;
use form::Form;
use idempotency::{Check, Fingerprint, StoredResponse};
use state::{Settings, State};

use billbridge::stripe::transport::{
    Method, StripeRequest, StripeResponse, Transport, TransportError, TransportErrorKind,
};

/// The API key a mock accepts unless built with another.
pub const DEFAULT_API_KEY: &str = "sk_test_mock";

/// The API version the mock reports when a request names none.
pub const DEFAULT_API_VERSION: &str = "2026-07-29.dahlia";

/// Which API keys the mock accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyPolicy {
    /// Any test-mode secret or restricted key (`sk_test_…`, `rk_test_…`), as Stripe's
    /// own stripe-mock accepts; each distinct key has its own isolated state
    /// (customers, invoices, events, sequences, idempotency keys), so test suites
    /// sharing one mock server cannot see each other's objects. The default.
    #[default]
    AnyTestKey,
    /// Only the mock's own key ([`MockStripeBuilder::api_key`]); any other is refused
    /// with Stripe's 401.
    OnlyOwnKey,
}

billbridge::vocabulary!(KeyPolicy, "key policy", "unknown_key_policy", {
    KeyPolicy::AnyTestKey => "any_test_key",
    KeyPolicy::OnlyOwnKey => "own_key_only",
});

/// What happened to one request, for [`MockStripe::requests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// An HTTP response with this status was returned.
    Answered(u16),
    /// No response: a transport error of this kind. `applied` says whether the change
    /// happened anyway (the "response lost" fault).
    NoResponse {
        /// The transport error the caller saw.
        kind: TransportErrorKind,
        /// Whether the request took effect.
        applied: bool,
    },
}

/// One request the mock received.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// GET, POST or DELETE.
    pub method: Method,
    /// The path, e.g. `/v1/invoices/in_…/finalize`.
    pub path: String,
    /// The form pairs as received.
    pub params: Vec<(String, String)>,
    /// The `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// The `Stripe-Account`, if any.
    pub stripe_account: Option<String>,
    /// The `Request-Id` the mock answered with (or would have).
    pub request_id: String,
    /// The mock time it arrived.
    pub at: i64,
    /// What the caller got.
    pub outcome: RequestOutcome,
    /// Whether the answer was an idempotent replay.
    pub replayed: bool,
}

impl fmt::Debug for RecordedRequest {
    // Parameter values can be personal data or metadata values: show keys only.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self.params.iter().map(|(key, _)| key.as_str()).collect();
        formatter
            .debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("param_keys", &keys)
            .field("idempotency_key", &self.idempotency_key)
            .field("stripe_account", &self.stripe_account)
            .field("request_id", &self.request_id)
            .field("at", &self.at)
            .field("outcome", &self.outcome)
            .field("replayed", &self.replayed)
            .finish()
    }
}

/// Builds a [`MockStripe`] with non-default settings.
#[derive(Clone)]
pub struct MockStripeBuilder {
    search_lag_seconds: i64,
    api_key: String,
    key_policy: KeyPolicy,
    seed: u64,
    start_time: i64,
    api_version: String,
    default_currency: String,
    account_country: String,
    numbering: InvoiceNumbering,
}

impl fmt::Debug for MockStripeBuilder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MockStripeBuilder")
            .field("api_key", &"<redacted>")
            .field("key_policy", &self.key_policy)
            .field("search_lag_seconds", &self.search_lag_seconds)
            .field("seed", &self.seed)
            .field("start_time", &self.start_time)
            .field("api_version", &self.api_version)
            .field("default_currency", &self.default_currency)
            .field("account_country", &self.account_country)
            .field("numbering", &self.numbering)
            .finish()
    }
}

impl MockStripeBuilder {
    /// The mock's own API key: the one requests made through the [`Transport`]
    /// trait carry, and under [`KeyPolicy::OnlyOwnKey`] the only one accepted over HTTP
    /// (a live key makes every request fail with 401, as the mock refuses to pretend
    /// to be live Stripe). [`DEFAULT_API_KEY`] unless set.
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// Model Stripe's search lag: an object written (created or changed) is left out of
    /// search results until `seconds` of mock time have passed. Stripe documents that
    /// search is not read-after-write ("typically under a minute"); a host that finds
    /// objects by search right after writing them fails its tests with a lag set, as it
    /// would in production. 0 (the default) makes every write searchable at once.
    pub fn search_lag(mut self, seconds: i64) -> Self {
        self.search_lag_seconds = seconds.max(0);
        self
    }

    /// Which keys the mock accepts; [`KeyPolicy::AnyTestKey`] unless set.
    pub fn key_policy(mut self, policy: KeyPolicy) -> Self {
        self.key_policy = policy;
        self
    }

    /// The seed of ids, invoice prefixes, the webhook secret and random faults.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The mock clock's start (unix seconds).
    pub fn start_time(mut self, unix: i64) -> Self {
        self.start_time = unix;
        self
    }

    /// The API version events carry and responses report by default.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// The account's default currency (invoices of customers without one).
    pub fn default_currency(mut self, currency: impl Into<String>) -> Self {
        self.default_currency = currency.into().to_ascii_lowercase();
        self
    }

    /// The account's country (`account_country` on invoices).
    pub fn account_country(mut self, country: impl Into<String>) -> Self {
        self.account_country = country.into();
        self
    }

    /// Per-customer (default) or per-account invoice numbers.
    pub fn numbering(mut self, numbering: InvoiceNumbering) -> Self {
        self.numbering = numbering;
        self
    }

    /// The mock.
    pub fn build(self) -> MockStripe {
        let mut secret_source = clock::Random::new(self.seed ^ 0x5EC2_E7ED);
        let settings = Settings {
            api_version: self.api_version,
            default_currency: self.default_currency,
            account_country: self.account_country,
            numbering: self.numbering,
            webhook_secret: format!("whsec_{}", secret_source.alphanumeric(32)),
            search_lag_seconds: self.search_lag_seconds,
        };
        MockStripe {
            inner: Arc::new(Inner {
                state: Mutex::new(State::new(self.seed, settings)),
                clock: MockClock::new(self.start_time),
                api_key: self.api_key,
                key_policy: self.key_policy,
            }),
        }
    }
}

struct Inner {
    state: Mutex<State>,
    clock: MockClock,
    api_key: String,
    key_policy: KeyPolicy,
}

/// A stateful in-memory Stripe. Cheap to create (no threads or sockets until
/// [`MockStripe::serve`]) and cheap to clone: clones share one state.
#[derive(Clone)]
pub struct MockStripe {
    inner: Arc<Inner>,
}

impl fmt::Debug for MockStripe {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("MockStripe")
            .field("now", &self.inner.clock.now())
            .finish_non_exhaustive()
    }
}

impl Default for MockStripe {
    fn default() -> Self {
        Self::new()
    }
}

/// What the layers before the handler decided.
enum Admission {
    Answer(StripeResponse),
    Fail(TransportError),
    Proceed {
        request_id: String,
        /// The isolated state the request acts on: its API key's, and within it the
        /// `Stripe-Account`'s.
        tenant: String,
        after: Option<AfterExecution>,
        pause: Option<Arc<faults::PauseShared>>,
        key: Option<(String, String)>,
    },
}

/// Forgets an in-flight idempotency key if the request is dropped before it finishes.
struct InFlightGuard<'a> {
    mock: &'a MockStripe,
    key: Option<(String, String)>,
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if let Some((account, key)) = self.key.take() {
            self.mock.lock().idempotency.abandon(&account, &key);
        }
    }
}

fn response(
    status: u16,
    body: &Value,
    request_id: &str,
    extra: &[(String, String)],
) -> StripeResponse {
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Request-Id".to_owned(), request_id.to_owned()),
    ];
    headers.extend(extra.iter().cloned());
    StripeResponse {
        status,
        headers,
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

fn error_response(error: &ApiError, request_id: &str) -> StripeResponse {
    response(
        error.status,
        &error.body(request_id),
        request_id,
        &error.headers(),
    )
}

impl MockStripe {
    /// A mock with key [`DEFAULT_API_KEY`], seed 0 and the clock at
    /// [`DEFAULT_START_TIME`].
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A default mock with another seed.
    pub fn with_seed(seed: u64) -> Self {
        Self::builder().seed(seed).build()
    }

    /// Start from the defaults.
    pub fn builder() -> MockStripeBuilder {
        MockStripeBuilder {
            search_lag_seconds: 0,
            api_key: DEFAULT_API_KEY.to_owned(),
            key_policy: KeyPolicy::AnyTestKey,
            seed: 0,
            start_time: DEFAULT_START_TIME,
            api_version: DEFAULT_API_VERSION.to_owned(),
            default_currency: "usd".to_owned(),
            account_country: "US".to_owned(),
            numbering: InvoiceNumbering::PerCustomer,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written in a way
        // that matters more than losing the mock, so keep going with it.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The mock's clock.
    pub fn clock(&self) -> MockClock {
        self.inner.clock.clone()
    }

    /// Fault injection controls.
    pub fn faults(&self) -> Faults<'_> {
        Faults { mock: self }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The webhook signing secret (`whsec_…`) of the mock's endpoint.
    pub fn webhook_secret(&self) -> String {
        self.lock().settings.webhook_secret.clone()
    }

    /// Sign deliveries from now on with `secret` instead of the one generated from the
    /// seed: a host whose configuration already holds a `whsec_…` secret keeps it.
    pub fn set_webhook_secret(&self, secret: impl Into<String>) {
        self.lock().settings.webhook_secret = secret.into();
    }

    /// Change the search lag (see [`MockStripeBuilder::search_lag`]) from now on.
    pub fn set_search_lag(&self, seconds: i64) {
        self.lock().settings.search_lag_seconds = seconds.max(0);
    }

    /// Change how webhook deliveries misbehave.
    pub fn set_webhook_options(&self, options: WebhookOptions) {
        self.lock().webhooks.options = options;
    }

    /// Take the deliveries that are due, signed; each event is delivered once unless
    /// the options duplicate it.
    pub fn take_webhooks(&self) -> Vec<WebhookDelivery> {
        let now = self.inner.clock.now();
        let signed_at = self.signature_now();
        let mut state = self.lock();
        let secret = state.settings.webhook_secret.clone();
        state.webhooks.take(now, signed_at, &secret)
    }

    /// Pays an open invoice as its payer would on the hosted page, with a test payment
    /// method (`pm_card_visa` pays; Stripe's decline test cards such as
    /// `pm_card_chargeDeclined` are declined with a card error). The mock then queues
    /// the invoice's payment webhooks.
    ///
    /// # Errors
    /// The Stripe error the payment met (a card error, an invoice that is not open).
    pub async fn pay_invoice(
        &self,
        stripe_invoice_id: &str,
        payment_method: &str,
    ) -> Result<(), billbridge::Error> {
        let payment = billbridge::stripe::client::PayInvoice {
            payment_method: Some(payment_method.to_owned()),
            ..billbridge::stripe::client::PayInvoice::default()
        };
        billbridge::stripe::client::StripeClient::new(self.clone())
            .invoices()
            .pay(
                stripe_invoice_id,
                &payment,
                &billbridge::stripe::client::RequestContext::new(),
            )
            .await?;
        Ok(())
    }

    /// The time webhook signatures carry now: the mock clock or the system's, as the
    /// webhook options say ([`SignatureTime`]).
    fn signature_now(&self) -> i64 {
        match self.lock().webhooks.options.signature_time {
            SignatureTime::MockClock => self.inner.clock.now(),
            SignatureTime::System => SystemClock.now_unix(),
        }
    }

    /// Answer one request as if it carried `api_key` in `Authorization`.
    pub(crate) async fn process(
        &self,
        request: &StripeRequest,
        api_key: Option<&str>,
    ) -> Result<StripeResponse, TransportError> {
        let latency = self.lock().faults.latency;
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
        let (request_id, tenant, after, pause, key) = match self.admit(request, api_key) {
            Admission::Answer(response) => return Ok(response),
            Admission::Fail(error) => return Err(error),
            Admission::Proceed {
                request_id,
                tenant,
                after,
                pause,
                key,
            } => (request_id, tenant, after, pause, key),
        };
        let mut guard = InFlightGuard { mock: self, key };
        if let Some(pause) = pause {
            pause.hold().await;
        }
        let key = guard.key.take();
        let failure = match after {
            Some(AfterExecution::ServerError { status, applied }) => Some((status, applied)),
            _ => None,
        };
        let answer = self.apply(request, &request_id, &tenant, key.as_ref(), failure);
        drop(guard);
        match after {
            Some(AfterExecution::ResponseLost(kind)) => {
                self.record(
                    request,
                    &request_id,
                    RequestOutcome::NoResponse {
                        kind,
                        applied: true,
                    },
                    false,
                );
                Err(TransportError::new(
                    kind,
                    format!(
                        "mock: response to {} {} lost after it was applied",
                        request.method, request.path
                    ),
                ))
            }
            _ => {
                self.record(
                    request,
                    &request_id,
                    RequestOutcome::Answered(answer.status),
                    false,
                );
                Ok(answer)
            }
        }
    }

    fn record(
        &self,
        request: &StripeRequest,
        request_id: &str,
        outcome: RequestOutcome,
        replayed: bool,
    ) {
        let at = self.inner.clock.now();
        let mut state = self.lock();
        record_into(&mut state, request, request_id, outcome, replayed, at);
    }

    fn admit(&self, request: &StripeRequest, api_key: Option<&str>) -> Admission {
        let now = self.inner.clock.now();
        let mut state = self.lock();
        let request_id = state.random.id("req");
        let answer = |state: &mut State, error: ApiError| {
            let response = error_response(&error, &request_id);
            record_into(
                state,
                request,
                &request_id,
                RequestOutcome::Answered(response.status),
                false,
                now,
            );
            Admission::Answer(response)
        };
        let scope = match check_key(api_key, &self.inner.api_key, self.inner.key_policy) {
            Ok(scope) => scope,
            Err(error) => return answer(&mut state, error),
        };
        let tenant = state::tenant(scope, request.stripe_account.as_deref());
        if let Some(account) = &request.stripe_account
            && !account.starts_with("acct_")
        {
            return answer(
                &mut state,
                ApiError::invalid(
                    Some("account_invalid"),
                    "The provided Stripe-Account header is not a valid account id.",
                    None,
                ),
            );
        }
        if !state.faults.admit(now) {
            return answer(&mut state, rate_limited("rate_limit"));
        }
        let mut after = None;
        match state.faults.pick(request.method, &request.path) {
            None => {}
            Some(Fault::RateLimited) => return answer(&mut state, rate_limited("rate_limit")),
            Some(Fault::LockTimeout) => return answer(&mut state, rate_limited("lock_timeout")),
            Some(Fault::ServerError {
                status,
                should_retry,
            }) => return answer(&mut state, injected_server_error(status, should_retry)),
            Some(Fault::Timeout) => {
                let kind = TransportErrorKind::Timeout;
                record_into(
                    &mut state,
                    request,
                    &request_id,
                    RequestOutcome::NoResponse {
                        kind,
                        applied: false,
                    },
                    false,
                    now,
                );
                return Admission::Fail(TransportError::new(
                    kind,
                    "mock: request timed out before it was applied",
                ));
            }
            Some(Fault::ConnectionReset) => {
                let kind = TransportErrorKind::Connection;
                record_into(
                    &mut state,
                    request,
                    &request_id,
                    RequestOutcome::NoResponse {
                        kind,
                        applied: false,
                    },
                    false,
                    now,
                );
                return Admission::Fail(TransportError::new(
                    kind,
                    "mock: connection reset before the request was applied",
                ));
            }
            Some(Fault::AppliedResponseLost(kind)) => {
                after = Some(AfterExecution::ResponseLost(kind));
            }
            Some(Fault::ServerErrorAfterExecution { status, applied }) => {
                after = Some(AfterExecution::ServerError { status, applied });
            }
        }
        let pause = state.faults.take_pause(request.method, &request.path);
        let mut key = None;
        if request.method == Method::Post
            && let Some(idempotency_key) = &request.idempotency_key
        {
            if idempotency_key.len() > 255 {
                return answer(
                    &mut state,
                    ApiError::invalid(
                        None,
                        "Idempotency keys can be at most 255 characters long.",
                        Some("Idempotency-Key".into()),
                    ),
                );
            }
            let account = tenant.clone();
            let fingerprint = Fingerprint::new(request.method, &request.path, &request.params);
            match state
                .idempotency
                .begin(&account, idempotency_key, fingerprint, now)
            {
                Check::Proceed => key = Some((account, idempotency_key.clone())),
                Check::Replay(stored) => {
                    // A fault counted for this request applies to its replay too: the
                    // replayed answer is lost, or a server error hides it.
                    match after {
                        Some(AfterExecution::ResponseLost(kind)) => {
                            record_into(
                                &mut state,
                                request,
                                &request_id,
                                RequestOutcome::NoResponse {
                                    kind,
                                    applied: false,
                                },
                                true,
                                now,
                            );
                            return Admission::Fail(TransportError::new(
                                kind,
                                "mock: the replayed response was lost",
                            ));
                        }
                        Some(AfterExecution::ServerError { status, .. }) => {
                            return answer(&mut state, injected_server_error(status, None));
                        }
                        None => {}
                    }
                    let mut headers = stored.headers;
                    headers.push(("Idempotent-Replayed".into(), "true".into()));
                    record_into(
                        &mut state,
                        request,
                        &request_id,
                        RequestOutcome::Answered(stored.status),
                        true,
                        now,
                    );
                    return Admission::Answer(StripeResponse {
                        status: stored.status,
                        headers,
                        body: stored.body,
                    });
                }
                Check::OtherParameters => {
                    return answer(
                        &mut state,
                        ApiError::idempotency(format!(
                            "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{idempotency_key}' if you meant to execute a different request."
                        )),
                    );
                }
                Check::OtherEndpoint(first_path) => {
                    return answer(
                        &mut state,
                        ApiError::idempotency(format!(
                            "Keys for idempotent requests can only be used for the same endpoint they were first used for ('{first_path}' vs '{}'). Try using a key other than '{idempotency_key}' if you meant to execute a different request.",
                            request.path
                        )),
                    );
                }
                Check::InFlight => {
                    let error = ApiError {
                        status: 409,
                        ..ApiError::invalid(
                            Some("idempotency_key_in_use"),
                            format!(
                                "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): {idempotency_key}. Please try again later."
                            ),
                            None,
                        )
                    };
                    return answer(&mut state, error);
                }
            }
        }
        Admission::Proceed {
            request_id,
            tenant,
            after,
            pause,
            key,
        }
    }

    /// Run the handler and store its answer under the idempotency key.
    fn apply(
        &self,
        request: &StripeRequest,
        request_id: &str,
        tenant: &str,
        key: Option<&(String, String)>,
        failure: Option<(u16, bool)>,
    ) -> StripeResponse {
        let now = self.inner.clock.now();
        let mut state = self.lock();
        let decoded = Form::decode(&request.params).and_then(|form| {
            let routed = routes::route(request.method, &request.path, &form)?;
            Ok((form, routed))
        });
        let (form, routed) = match decoded {
            Ok(decoded) => decoded,
            Err(error) => {
                // Requests that fail validation never reach the endpoint: nothing is
                // stored under their idempotency key, so a corrected retry may reuse it.
                if let Some((account, key)) = key {
                    state.idempotency.abandon(account, key);
                }
                return error_response(&error, request_id);
            }
        };
        let (account, random, settings) = state.split(tenant, request.stripe_account.as_deref());
        let settings = settings.clone();
        let mut ctx = routes::Ctx {
            acct: account,
            random,
            settings: &settings,
            now,
            request_id: request_id.to_owned(),
            idempotency_key: request.idempotency_key.clone(),
            events: Vec::new(),
        };
        let result = match failure {
            // Failed before changing anything.
            Some((status, false)) => Err(injected_server_error(status, None)),
            _ => routed.run(&mut ctx, &form),
        };
        let events = std::mem::take(&mut ctx.events);
        let version = if request.stripe_version.is_empty() {
            settings.api_version.clone()
        } else {
            request.stripe_version.clone()
        };
        let mut extra = vec![("Stripe-Version".to_owned(), version)];
        if let Some(key) = &request.idempotency_key {
            extra.push(("Idempotency-Key".to_owned(), key.clone()));
        }
        // A failure after execution began keeps the request's changes and is what
        // its idempotency key remembers.
        let result = match failure {
            Some((status, _)) => Err(injected_server_error(status, None)),
            None => result,
        };
        let answer = match result {
            Ok(body) => response(200, &body, request_id, &extra),
            Err(error) => {
                extra.extend(error.headers());
                response(error.status, &error.body(request_id), request_id, &extra)
            }
        };
        for event in events {
            state.webhooks.push(event);
        }
        if let Some((account, key)) = key {
            state.idempotency.finish(
                account,
                key,
                StoredResponse {
                    status: answer.status,
                    headers: answer.headers.clone(),
                    body: answer.body.clone(),
                },
                now,
            );
        }
        answer
    }

    /// Serve the mock over HTTP/1.1 on `addr` (use port 0 for any free port) until the
    /// returned handle is dropped or shut down. Needs a tokio runtime.
    ///
    /// # Errors
    /// The I/O error when the address cannot be bound.
    pub async fn serve(&self, addr: impl tokio::net::ToSocketAddrs) -> std::io::Result<MockServer> {
        http::serve(self.clone(), addr).await
    }
}

fn record_into(
    state: &mut State,
    request: &StripeRequest,
    request_id: &str,
    outcome: RequestOutcome,
    replayed: bool,
    at: i64,
) {
    state.requests.push(RecordedRequest {
        method: request.method,
        path: request.path.clone(),
        params: request.params.clone(),
        idempotency_key: request.idempotency_key.clone(),
        stripe_account: request.stripe_account.clone(),
        request_id: request_id.to_owned(),
        at,
        outcome,
        replayed,
    });
}

/// What a fault does once the endpoint has run.
#[derive(Debug, Clone, Copy)]
enum AfterExecution {
    /// The answer never reaches the caller.
    ResponseLost(TransportErrorKind),
    /// The answer is a 5xx, which is what the idempotency key keeps; the request's
    /// changes are made first when `applied`.
    ServerError { status: u16, applied: bool },
}

/// An injected 5xx `api_error`.
fn injected_server_error(status: u16, should_retry: Option<bool>) -> ApiError {
    ApiError {
        status,
        kind: "api_error",
        code: None,
        message: "An unknown error occurred (injected by the mock).".into(),
        param: None,
        decline_code: None,
        should_retry,
    }
}

fn rate_limited(code: &'static str) -> ApiError {
    let message = if code == "lock_timeout" {
        "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. Please retry."
    } else {
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."
    };
    ApiError {
        status: 429,
        ..ApiError::invalid(Some(code), message, None)
    }
}

/// Stripe's key check: which key's state the request acts on. A refused key is
/// echoed only as Stripe echoes it, masked to its prefix and last four characters.
///
/// # Errors
/// 401 for no key, a live key, a key that is not a test key, or (in
/// [`KeyPolicy::OnlyOwnKey`]) any other key.
fn check_key<'k>(
    given: Option<&'k str>,
    own: &str,
    policy: KeyPolicy,
) -> Result<&'k str, ApiError> {
    let Some(given) = given.filter(|key| !key.is_empty()) else {
        return Err(ApiError::authentication(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        ));
    };
    if given.starts_with("sk_live_") || given.starts_with("rk_live_") {
        return Err(ApiError::authentication(
            "This mock Stripe refuses live-mode keys: use a test key (sk_test_… or rk_test_…).",
        ));
    }
    let accepted = match policy {
        KeyPolicy::AnyTestKey => ["sk_test_", "rk_test_"]
            .iter()
            .any(|prefix| given.len() > prefix.len() && given.starts_with(prefix)),
        KeyPolicy::OnlyOwnKey => given == own,
    };
    if accepted {
        Ok(given)
    } else {
        Err(ApiError::authentication(format!(
            "Invalid API Key provided: {}",
            masked_key(given)
        )))
    }
}

/// A key as Stripe shows it in errors: its `sk_test_`-style prefix, then `*` for all
/// but the last four characters.
fn masked_key(key: &str) -> String {
    let prefix_len = [
        "sk_test_", "rk_test_", "pk_test_", "sk_live_", "rk_live_", "pk_live_",
    ]
    .iter()
    .find(|prefix| key.starts_with(*prefix))
    .map_or(0, |prefix| prefix.len());
    let rest: Vec<char> = key[prefix_len..].chars().collect();
    let shown = rest.len().saturating_sub(4);
    let mut masked = key[..prefix_len].to_owned();
    masked.extend(std::iter::repeat_n('*', shown));
    masked.extend(&rest[shown..]);
    masked
}

/// The clock webhook signatures carry, following the mock's [`SignatureTime`] option.
struct SignatureClock(MockStripe);

impl Clock for SignatureClock {
    fn now_unix(&self) -> i64 {
        self.0.signature_now()
    }
}

#[async_trait]
impl Transport for MockStripe {
    /// The mock refuses live keys: it is always test mode.
    fn livemode(&self) -> Option<bool> {
        Some(false)
    }

    /// A bridge over the mock lives on the mock's clock, and verifies the mock's
    /// webhook deliveries against the time their signatures carry.
    fn clocks(&self) -> Option<TransportClocks> {
        Some(TransportClocks {
            now: Arc::new(self.inner.clock.clone()),
            webhook_signatures: Arc::new(SignatureClock(self.clone())),
        })
    }

    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        let key = self.inner.api_key.clone();
        self.process(request, Some(&key)).await
    }
}

//! The typed Stripe client: one generic [`StripeClient::send`] that stamps the API
//! version, idempotency key and connected account on a request, retries it by the
//! [`RetryPolicy`] and decodes the answer or the error; then one handle per resource
//! (customers, invoices, …) with typed parameters.
//!
//! Nothing here is global: the transport, the API version, the retry policy, the sleeper
//! and the jitter belong to one client, and the account and idempotency key to one call
//! ([`RequestContext`]).
//!
//! ```
//! use billbridge::stripe::client::{CreateCustomer, RequestContext, StripeClient};
//! use billbridge::stripe::transport::{
//!     Method, StripeRequest, StripeResponse, Transport, TransportError,
//! };
//!
//! /// Answers every call with one customer; production code passes an `HttpTransport`.
//! struct Canned;
//!
//! #[async_trait::async_trait]
//! impl Transport for Canned {
//!     async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
//!         assert_eq!((request.method, request.path.as_str()), (Method::Post, "/v1/customers"));
//!         assert!(request.idempotency_key.is_some(), "every POST gets a key");
//!         Ok(StripeResponse {
//!             status: 200,
//!             headers: vec![("Request-Id".into(), "req_1".into())],
//!             body: br#"{"id": "cus_1", "created": 1700000000}"#.to_vec(),
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), billbridge::stripe::error::StripeError> {
//! let stripe = StripeClient::new(Canned);
//! let params = CreateCustomer {
//!     name: Some("Jane Doe".into()),
//!     metadata: vec![("ehr_patient_id".into(), "P-1".into())],
//!     ..CreateCustomer::default()
//! };
//! let customer = stripe.customers().create(&params, &RequestContext::new()).await?;
//! assert_eq!(customer.id, "cus_1");
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

mod balance_transactions;
mod customers;
mod invoice_items;
mod invoices;
mod prices;
mod products;

pub use balance_transactions::{BalanceTransactions, CreateBalanceTransaction};
pub use customers::{AddressParams, CreateCustomer, Customers, ListCustomers, UpdateCustomer};
pub use invoice_items::{CreateInvoiceItem, InvoiceItemPricing, InvoiceItems};
pub use invoices::{
    CreateInvoice, CreatePreview, CustomFieldParams, InvoiceLineParams, Invoices, LinePricing,
    ListInvoices, MAX_CUSTOM_FIELDS, MAX_LINES_PER_INVOICE, PayInvoice,
    PendingInvoiceItemsBehavior, PreviewItemParams, ProductRef, UpdateInvoice,
};
pub use prices::{CreatePrice, ListPrices, Prices};
pub use products::{CreateProduct, Products};

use super::error::{ApiError, ApiErrorClass, DecodeError, InputError, StripeError};
use super::form::{Form, FormValue};
use super::models::ErrorBody;
use super::retry::{AttemptOutcome, Jitter, RandomJitter, RetryDecision, RetryPolicy, Sleeper};
use super::transport::{Method, StripeRequest, StripeResponse, Transport};

/// The Stripe API version every request speaks unless the client overrides it.
pub const API_VERSION: &str = "2026-07-29.dahlia";

/// Longest idempotency key Stripe accepts.
pub const MAX_IDEMPOTENCY_KEY_LENGTH: usize = 255;

/// Pages a pager walks before giving up with [`StripeError::PageCapExceeded`]
/// (1,000 pages of 100 = 100,000 objects).
pub const DEFAULT_MAX_PAGES: u32 = 1000;

/// Metadata in parameters: ordered key → value pairs. In an update an empty value
/// removes that key; keys not listed stay as they are.
pub type MetadataParams = Vec<(String, String)>;

/// A unix-seconds range filter (`created[gte]=…&created[lt]=…`); unset bounds are omitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Strictly after.
    pub gt: Option<i64>,
    /// At or after.
    pub gte: Option<i64>,
    /// Strictly before.
    pub lt: Option<i64>,
    /// At or before.
    pub lte: Option<i64>,
}

impl TimeRange {
    /// `[start, end)`: at or after `start`, strictly before `end`.
    pub fn between(start: i64, end: i64) -> Self {
        Self {
            gte: Some(start),
            lt: Some(end),
            ..Self::default()
        }
    }

    pub(crate) fn to_value(self) -> FormValue {
        FormValue::from(
            Form::new()
                .opt_field("gt", self.gt)
                .opt_field("gte", self.gte)
                .opt_field("lt", self.lt)
                .opt_field("lte", self.lte),
        )
    }
}

/// Adds `metadata[k]=v` pairs in order; nothing when empty.
pub(crate) fn encode_metadata(form: Form, metadata: &MetadataParams) -> Form {
    form.map(
        "metadata",
        metadata
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )
}

/// Checks a page size against Stripe's 1–100.
pub(crate) fn check_limit(limit: Option<u32>) -> Result<(), InputError> {
    match limit {
        Some(limit) if !(1..=100).contains(&limit) => Err(InputError::LimitOutOfRange { limit }),
        _ => Ok(()),
    }
}

/// A pager over a `…/search` endpoint for a Stripe search `query`, after checking the
/// page size: the one shape every searchable resource shares.
pub(crate) fn search_pager<T: DeserializeOwned + crate::stripe::models::HasId>(
    client: &StripeClient,
    path: &str,
    query: &str,
    limit: Option<u32>,
    context: &RequestContext,
) -> Result<crate::stripe::pagination::Pager<T>, StripeError> {
    check_limit(limit)?;
    let form = Form::new().field("query", query).opt_field("limit", limit);
    Ok(crate::stripe::pagination::Pager::search(
        client,
        path,
        form.encode(),
        context,
    ))
}

/// Per-call settings: which connected account to act on, and the idempotency key of a
/// write. Defaults to the platform account and a generated key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// `Stripe-Account`: act on this connected account (`acct_…`) instead of the platform.
    pub stripe_account: Option<String>,
    /// `Idempotency-Key` of a POST (or DELETE); when absent a POST gets a random key.
    /// The same key is sent on every retry of the call.
    pub idempotency_key: Option<String>,
}

impl RequestContext {
    /// The platform account and a generated idempotency key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Act on a connected account.
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.stripe_account = Some(account.into());
        self
    }

    /// Use this idempotency key (≤ 255 visible ASCII characters, no personal data).
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    fn validate(&self) -> Result<(), InputError> {
        if let Some(key) = &self.idempotency_key {
            if key.chars().count() > MAX_IDEMPOTENCY_KEY_LENGTH {
                return Err(InputError::IdempotencyKeyTooLong {
                    length: key.chars().count(),
                });
            }
            if key.is_empty() || !key.bytes().all(|byte| byte.is_ascii_graphic()) {
                return Err(InputError::IdempotencyKeyInvalid);
            }
        }
        if let Some(account) = &self.stripe_account
            && (account.is_empty() || !account.bytes().all(|byte| byte.is_ascii_graphic()))
        {
            return Err(InputError::StripeAccountInvalid);
        }
        Ok(())
    }
}

/// Builds a [`StripeClient`] with a non-default API version, retry policy, sleeper or jitter.
pub struct StripeClientBuilder {
    transport: Arc<dyn Transport>,
    api_version: String,
    retry: RetryPolicy,
    sleeper: Option<Arc<dyn Sleeper>>,
    jitter: Arc<dyn Jitter>,
    max_pages: u32,
}

impl fmt::Debug for StripeClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClientBuilder")
            .field("api_version", &self.api_version)
            .field("retry", &self.retry)
            .field("max_pages", &self.max_pages)
            .finish_non_exhaustive()
    }
}

impl StripeClientBuilder {
    /// Speak this API version instead of [`API_VERSION`].
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Retry by this policy instead of the default (2 retries).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Wait between retries with this sleeper (tests record delays instead of waiting).
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Some(Arc::new(sleeper));
        self
    }

    /// Draw retry jitter from this source.
    pub fn jitter(mut self, jitter: impl Jitter + 'static) -> Self {
        self.jitter = Arc::new(jitter);
        self
    }

    /// Stop pagers after this many pages (at least 1).
    pub fn max_pages(mut self, max_pages: u32) -> Self {
        self.max_pages = max_pages.max(1);
        self
    }

    /// The client.
    pub fn build(self) -> StripeClient {
        #[cfg(feature = "runtime")]
        let sleeper = self
            .sleeper
            .unwrap_or_else(|| Arc::new(super::retry::TokioSleeper));
        // Without a timer, retrying would hammer Stripe: retries need an explicit sleeper.
        #[cfg(not(feature = "runtime"))]
        let (sleeper, retry) = match self.sleeper {
            Some(sleeper) => (sleeper, self.retry),
            None => (Arc::new(NoSleeper) as Arc<dyn Sleeper>, RetryPolicy::none()),
        };
        #[cfg(feature = "runtime")]
        let retry = self.retry;
        StripeClient {
            inner: Arc::new(ClientInner {
                transport: self.transport,
                api_version: self.api_version,
                retry,
                sleeper,
                jitter: self.jitter,
                max_pages: self.max_pages,
            }),
        }
    }
}

#[cfg(not(feature = "runtime"))]
struct NoSleeper;

#[cfg(not(feature = "runtime"))]
#[async_trait::async_trait]
impl Sleeper for NoSleeper {
    async fn sleep(&self, _duration: std::time::Duration) {}
}

struct ClientInner {
    transport: Arc<dyn Transport>,
    api_version: String,
    retry: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
    jitter: Arc<dyn Jitter>,
    max_pages: u32,
}

/// The typed Stripe client. Cheap to clone (shares one transport); safe to use from
/// many tasks at once.
#[derive(Clone)]
pub struct StripeClient {
    inner: Arc<ClientInner>,
}

impl fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClient")
            .field("api_version", &self.inner.api_version)
            .field("retry", &self.inner.retry)
            .field("max_pages", &self.inner.max_pages)
            .finish_non_exhaustive()
    }
}

impl StripeClient {
    /// A client over `transport` with the pinned API version and default retries.
    pub fn new(transport: impl Transport + 'static) -> Self {
        Self::builder(transport).build()
    }

    /// A builder over `transport`.
    pub fn builder(transport: impl Transport + 'static) -> StripeClientBuilder {
        Self::builder_shared(Arc::new(transport))
    }

    /// A builder over an already shared transport.
    pub fn builder_shared(transport: Arc<dyn Transport>) -> StripeClientBuilder {
        StripeClientBuilder {
            transport,
            api_version: API_VERSION.to_owned(),
            retry: RetryPolicy::default(),
            sleeper: None,
            jitter: Arc::new(RandomJitter),
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Whether the transport acts on live data, test data, or cannot tell
    /// ([`Transport::livemode`]).
    pub fn livemode(&self) -> Option<bool> {
        self.inner.transport.livemode()
    }

    /// The clocks of the transport, when it keeps its own time ([`Transport::clocks`]).
    pub fn clocks(&self) -> Option<crate::clock::TransportClocks> {
        self.inner.transport.clocks()
    }

    /// The API version this client speaks.
    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// The retry policy of this client.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// Customer endpoints.
    pub fn customers(&self) -> Customers<'_> {
        Customers { client: self }
    }

    /// Customer balance transaction endpoints.
    pub fn balance_transactions(&self) -> BalanceTransactions<'_> {
        BalanceTransactions { client: self }
    }

    /// Invoice endpoints.
    pub fn invoices(&self) -> Invoices<'_> {
        Invoices { client: self }
    }

    /// Invoice item endpoints.
    pub fn invoice_items(&self) -> InvoiceItems<'_> {
        InvoiceItems { client: self }
    }

    /// Product endpoints.
    pub fn products(&self) -> Products<'_> {
        Products { client: self }
    }

    /// Price endpoints.
    pub fn prices(&self) -> Prices<'_> {
        Prices { client: self }
    }

    /// The sleeper this client waits with between retries, for callers that pace their
    /// own requests (a client-side rate limiter) on the same timer.
    pub fn sleeper(&self) -> Arc<dyn Sleeper> {
        Arc::clone(&self.inner.sleeper)
    }

    /// A client with the same API version, retry policy, sleeper, jitter and page cap
    /// whose transport is `wrap` applied to this client's transport: how a layer such as
    /// a rate limiter is put in front of every attempt, retries included.
    pub fn with_transport_layer(
        &self,
        wrap: impl FnOnce(Arc<dyn Transport>) -> Arc<dyn Transport>,
    ) -> StripeClient {
        StripeClient {
            inner: Arc::new(ClientInner {
                transport: wrap(Arc::clone(&self.inner.transport)),
                api_version: self.inner.api_version.clone(),
                retry: self.inner.retry,
                sleeper: Arc::clone(&self.inner.sleeper),
                jitter: Arc::clone(&self.inner.jitter),
                max_pages: self.inner.max_pages,
            }),
        }
    }

    /// The page cap of this client's pagers.
    pub fn max_pages(&self) -> u32 {
        self.inner.max_pages
    }

    /// Sends one call and decodes a success body as `T`.
    ///
    /// `path` starts with `/v1/`; `params` are already-flattened form pairs (see
    /// [`crate::stripe::form::Form::encode`]). POSTs get the caller's idempotency key or
    /// a random one, the same on every retry.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a bad context (idempotency key, account) or
    /// a path with a query, fragment or spaces,
    /// [`StripeError::Api`] for an error status after retries, [`StripeError::Transport`]
    /// when no response came, [`StripeError::Decode`] for an unreadable success body.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        context: &RequestContext,
    ) -> Result<T, StripeError> {
        let response = self.send_raw(method, path, params, context).await?;
        decode(&response)
    }

    /// Like [`StripeClient::send`], returning the successful response undecoded.
    ///
    /// # Errors
    /// As [`StripeClient::send`], without decode errors.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
        context: &RequestContext,
    ) -> Result<StripeResponse, StripeError> {
        context.validate()?;
        if !path.starts_with('/')
            || path
                .bytes()
                .any(|byte| matches!(byte, b'?' | b'#') || !byte.is_ascii_graphic())
        {
            return Err(InputError::InvalidParameters {
                reason: "the path must start with / and carry no query, fragment or spaces",
            }
            .into());
        }
        let idempotency_key = match (method, &context.idempotency_key) {
            (Method::Get, _) => None,
            (_, Some(key)) => Some(key.clone()),
            (Method::Post, None) => Some(generate_idempotency_key()?),
            (Method::Delete, None) => None,
        };
        let request = StripeRequest {
            method,
            path: path.to_owned(),
            params,
            idempotency_key,
            stripe_account: context.stripe_account.clone(),
            stripe_version: self.inner.api_version.clone(),
        };
        let mut retry = 0_u32;
        loop {
            retry = retry.saturating_add(1);
            let (outcome, error) = match self.inner.transport.send(&request).await {
                Ok(response) if (200..300).contains(&response.status) => return Ok(response),
                Ok(response) => (
                    AttemptOutcome::from_response(
                        response.status,
                        response.header("stripe-should-retry"),
                    ),
                    StripeError::from(api_error(&response)),
                ),
                Err(error) => (
                    AttemptOutcome::Transport(error.kind),
                    StripeError::from(error),
                ),
            };
            match self
                .inner
                .retry
                .decide(retry, &outcome, self.inner.jitter.unit())
            {
                RetryDecision::Retry { delay } => self.inner.sleeper.sleep(delay).await,
                RetryDecision::Stop => return Err(error),
            }
        }
    }
}

/// A random key: 128 bits from the operating system, hex-encoded.
fn generate_idempotency_key() -> Result<String, StripeError> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| StripeError::Randomness {
        detail: error.to_string(),
    })?;
    let mut key = String::with_capacity(11 + 32);
    key.push_str("billbridge-");
    for byte in bytes {
        key.push_str(&format!("{byte:02x}"));
    }
    Ok(key)
}

/// Checks an object id before it goes into a URL path.
///
/// # Errors
/// [`InputError::EmptyId`] or [`InputError::InvalidId`] as a [`StripeError::InvalidRequest`].
pub(crate) fn path_id<'a>(what: &'static str, id: &'a str) -> Result<&'a str, StripeError> {
    if id.is_empty() {
        return Err(InputError::EmptyId { what }.into());
    }
    if !id
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
    {
        return Err(InputError::InvalidId { what }.into());
    }
    Ok(id)
}

/// Decodes a success body as `T`.
pub(crate) fn decode<T: DeserializeOwned>(response: &StripeResponse) -> Result<T, StripeError> {
    serde_json::from_slice(&response.body).map_err(|source| {
        DecodeError::new(
            response.status,
            response.request_id().map(str::to_owned),
            std::any::type_name::<T>(),
            source,
        )
        .into()
    })
}

/// Builds the API error of a non-success response; a body that is not Stripe's error
/// shape still yields an error classified by status.
fn api_error(response: &StripeResponse) -> ApiError {
    let request_id = response.request_id().map(str::to_owned);
    let mut error = ApiError::from_status(response.status, request_id);
    error.idempotent_replayed = response
        .header("Idempotent-Replayed")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let Ok(body) = serde_json::from_slice::<ErrorBody>(&response.body) else {
        return error;
    };
    let fields = body.error;
    error.class = ApiErrorClass::classify(
        response.status,
        Some(&fields.error_type),
        fields.code.as_deref(),
    );
    error.error_type = Some(fields.error_type);
    error.code = fields.code;
    error.message = fields.message;
    error.param = fields.param;
    error.decline_code = fields.decline_code;
    error.doc_url = fields.doc_url;
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_unique_and_header_safe() {
        let first = generate_idempotency_key().unwrap();
        let second = generate_idempotency_key().unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), 43);
        assert!(first.bytes().all(|byte| byte.is_ascii_graphic()));
    }

    #[test]
    fn context_rejects_long_or_unsafe_keys_and_accounts() {
        let long = RequestContext::new().with_idempotency_key("k".repeat(256));
        assert_eq!(
            long.validate(),
            Err(InputError::IdempotencyKeyTooLong { length: 256 })
        );
        assert!(
            RequestContext::new()
                .with_idempotency_key("k".repeat(255))
                .validate()
                .is_ok()
        );
        assert_eq!(
            RequestContext::new()
                .with_idempotency_key("a\r\nb")
                .validate(),
            Err(InputError::IdempotencyKeyInvalid)
        );
        assert_eq!(
            RequestContext::new().with_account("").validate(),
            Err(InputError::StripeAccountInvalid)
        );
    }

    #[test]
    fn path_ids_cannot_escape_their_segment() {
        assert!(path_id("customer", "cus_123").is_ok());
        for bad in [
            "",
            "cus_1/../balance",
            "cus 1",
            "cus_1?x=1",
            "cus_1#",
            "in_%2F",
        ] {
            let error = path_id("customer", bad).unwrap_err();
            assert_eq!(error.code(), "stripe_invalid_input", "{bad}");
        }
    }
}

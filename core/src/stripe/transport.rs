//! The one seam between billbridge and Stripe: a request described as plain data goes
//! in, status, headers and body bytes come out. The real HTTP transport and the
//! in-memory mock both implement [`Transport`], so encoding, decoding, retries and
//! idempotency run the same way in tests as in production.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::TransportClocks;
use crate::redact;

/// HTTP method of a Stripe API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Reads; parameters travel in the query string.
    Get,
    /// Writes; parameters travel form-encoded in the body, with an `Idempotency-Key`.
    Post,
    /// Deletes; parameters (rarely any) travel in the query string.
    Delete,
}

impl Method {
    /// The method as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Stripe API call, described as data so that it can be logged, retried,
/// compared and replayed without knowing which transport will carry it.
///
/// `Debug` shows the parameter keys, never their values: they are names, emails,
/// descriptions and metadata values.
#[derive(Clone, PartialEq, Eq)]
pub struct StripeRequest {
    /// GET, POST or DELETE.
    pub method: Method,
    /// Path below the API base, starting with `/v1/`, ids already percent-safe.
    pub path: String,
    /// Already-encoded form pairs in Stripe's bracket notation
    /// (`metadata[k]`, `lines[0][quantity]`), in order. The query string for GET
    /// and DELETE, the `application/x-www-form-urlencoded` body for POST.
    pub params: Vec<(String, String)>,
    /// `Idempotency-Key` header; the client sets one on every POST and keeps it
    /// identical across retries of the same request.
    pub idempotency_key: Option<String>,
    /// `Stripe-Account` header: act on a connected account (one practice of a platform).
    pub stripe_account: Option<String>,
    /// `Stripe-Version` header: the API version the request and response speak.
    pub stripe_version: String,
}

impl fmt::Debug for StripeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let StripeRequest {
            method,
            path,
            params,
            idempotency_key,
            stripe_account,
            stripe_version,
        } = self;
        f.debug_struct("StripeRequest")
            .field("method", method)
            .field("path", path)
            .field("params", &redact::form_pairs(params))
            .field("idempotency_key", idempotency_key)
            .field("stripe_account", stripe_account)
            .field("stripe_version", stripe_version)
            .finish()
    }
}

/// What came back from Stripe (or from something that behaves like it).
///
/// `Debug` shows the status, the headers and the body's length: the body is Stripe's
/// copy of the objects, with their personal fields and metadata values.
#[derive(Clone, PartialEq, Eq)]
pub struct StripeResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names as received (look them up with [`StripeResponse::header`]).
    pub headers: Vec<(String, String)>,
    /// The raw JSON body.
    pub body: Vec<u8>,
}

impl fmt::Debug for StripeResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let StripeResponse {
            status,
            headers,
            body,
        } = self;
        f.debug_struct("StripeResponse")
            .field("status", status)
            .field("headers", headers)
            .field("body", &redact::Body(body.len()))
            .finish()
    }
}

impl StripeResponse {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Stripe's `Request-Id`, which support asks for when something went wrong.
    pub fn request_id(&self) -> Option<&str> {
        self.header("request-id")
    }
}

/// Why a request produced no HTTP response. Each kind means the outcome of a write is
/// unknown: the request may or may not have been applied by Stripe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// No response within the configured time.
    Timeout,
    /// The connection could not be made, or broke before the response was read.
    Connection,
    /// Anything else below HTTP (TLS, malformed response framing, a closed mock).
    Other,
}

/// A request that got no HTTP response.
#[derive(Debug, thiserror::Error)]
#[error("{kind:?} while calling Stripe: {message}")]
pub struct TransportError {
    /// What went wrong, for retry decisions.
    pub kind: TransportErrorKind,
    /// Human-readable detail (never contains a key or a request body).
    pub message: String,
    /// The underlying error, kept for callers that walk `source()`.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// A transport error of `kind` with a message and no underlying cause.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, keeping `source` as its cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

/// Carries one [`StripeRequest`] to Stripe and brings back its [`StripeResponse`].
///
/// Object-safe and shareable: a client holds an `Arc<dyn Transport>`. Implementations
/// do not retry; the client owns the retry policy.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Send one request and return the HTTP response, whatever its status.
    ///
    /// # Errors
    /// A [`TransportError`] when no HTTP response was received.
    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError>;

    /// Whether this transport acts on live data (`Some(true)`), test data
    /// (`Some(false)`), or cannot tell (`None`, the default). Callers use it for defaults
    /// that differ by mode, such as Stripe's rate limit (100 requests/s live, 25 in test).
    fn livemode(&self) -> Option<bool> {
        None
    }

    /// The clocks of a transport that keeps its own time, such as the mock Stripe;
    /// `None` (the default) for real Stripe, whose time is the system's. A
    /// [`crate::sync::Billbridge`] over this transport lives on these clocks unless
    /// told otherwise.
    fn clocks(&self) -> Option<TransportClocks> {
        None
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Arc<T> {
    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        (**self).send(request).await
    }

    fn livemode(&self) -> Option<bool> {
        (**self).livemode()
    }

    fn clocks(&self) -> Option<TransportClocks> {
        (**self).clocks()
    }
}

#[async_trait]
impl<T: Transport + ?Sized> Transport for Box<T> {
    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        (**self).send(request).await
    }

    fn livemode(&self) -> Option<bool> {
        (**self).livemode()
    }

    fn clocks(&self) -> Option<TransportClocks> {
        (**self).clocks()
    }
}

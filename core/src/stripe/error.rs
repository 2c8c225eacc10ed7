//! Errors of the typed Stripe client: what Stripe answered with ([`ApiError`], classified
//! by status and type as Stripe's official SDKs do), what never got an answer
//! ([`TransportError`]), answers that could not be read ([`DecodeError`]) and input
//! refused before anything was sent ([`InputError`]).
//!
//! Messages name statuses, types, codes, parameters and request ids, never the key,
//! never a request or response body, and never Stripe's free-text `message` (it can
//! echo submitted values such as an email address); that text stays available through
//! [`ApiError::message`].

use crate::classify::{Classify, ErrorCategory};
use std::fmt;

use super::transport::{TransportError, TransportErrorKind};

/// Stripe's `error.type`, forward-compatible (unknown types are kept verbatim).
pub use super::models::ErrorType as ApiErrorType;

/// What a caller can do about an API error, derived from the HTTP status (and for
/// 400/402/404/429 from Stripe's type or code), as Stripe's SDKs classify errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorClass {
    /// 400 or 404: bad parameters or an unknown object. Fix the request.
    InvalidRequest,
    /// 400 or 404 with type `idempotency_error`: the key was used for a different request.
    Idempotency,
    /// 401: the key is wrong, expired or revoked.
    Authentication,
    /// 402 with type `card_error`: the card was declined (see the decline code).
    Card,
    /// 402 otherwise: valid parameters but the request failed.
    RequestFailed,
    /// 403: the key may not do this (restricted key or account permissions).
    Permission,
    /// 409: a conflicting request, e.g. the same idempotency key still in flight.
    Conflict,
    /// 429: too many requests.
    RateLimited,
    /// 429 with code `lock_timeout`: another request holds the object; try again.
    LockTimeout,
    /// 5xx: Stripe failed; the outcome of a write is unknown.
    Server,
    /// Any other status.
    Other,
}

impl ApiErrorClass {
    /// Classifies a status with Stripe's error type and code.
    pub fn classify(status: u16, error_type: Option<&ApiErrorType>, code: Option<&str>) -> Self {
        match status {
            400 | 404 if error_type == Some(&ApiErrorType::IdempotencyError) => {
                ApiErrorClass::Idempotency
            }
            400 | 404 => ApiErrorClass::InvalidRequest,
            401 => ApiErrorClass::Authentication,
            402 if error_type == Some(&ApiErrorType::CardError) => ApiErrorClass::Card,
            402 => ApiErrorClass::RequestFailed,
            403 => ApiErrorClass::Permission,
            409 => ApiErrorClass::Conflict,
            429 if code == Some("lock_timeout") => ApiErrorClass::LockTimeout,
            429 => ApiErrorClass::RateLimited,
            500..=599 => ApiErrorClass::Server,
            _ => ApiErrorClass::Other,
        }
    }

    /// Stable machine code for bindings.
    pub fn code(self) -> &'static str {
        match self {
            ApiErrorClass::InvalidRequest => "stripe_invalid_request",
            ApiErrorClass::Idempotency => "stripe_idempotency_error",
            ApiErrorClass::Authentication => "stripe_authentication_failed",
            ApiErrorClass::Card => "stripe_card_error",
            ApiErrorClass::RequestFailed => "stripe_request_failed",
            ApiErrorClass::Permission => "stripe_permission_denied",
            ApiErrorClass::Conflict => "stripe_conflict",
            ApiErrorClass::RateLimited => "stripe_rate_limited",
            ApiErrorClass::LockTimeout => "stripe_lock_timeout",
            ApiErrorClass::Server => "stripe_server_error",
            ApiErrorClass::Other => "stripe_api_error",
        }
    }
}

/// An error response from Stripe (any non-2xx status).
///
/// `Debug` shows the length of Stripe's message, not its text.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// What a caller can do about it.
    pub class: ApiErrorClass,
    /// Stripe's `error.type`; `None` when the body was not a Stripe error body.
    pub error_type: Option<ApiErrorType>,
    /// Stripe's `error.code`, e.g. `resource_missing`, `card_declined`, `lock_timeout`.
    pub code: Option<String>,
    /// Stripe's human-readable `error.message`; may echo submitted values, so it is
    /// kept out of this error's `Display`.
    pub message: Option<String>,
    /// The parameter Stripe objected to, e.g. `email` or `lines[0][quantity]`.
    pub param: Option<String>,
    /// For card errors: the issuer's reason, e.g. `insufficient_funds`.
    pub decline_code: Option<String>,
    /// Link to Stripe's documentation of the code.
    pub doc_url: Option<String>,
    /// The `Request-Id` response header.
    pub request_id: Option<String>,
    /// Whether Stripe answered with a response saved under the request's idempotency
    /// key (`Idempotent-Replayed: true`) rather than by running the request.
    pub idempotent_replayed: bool,
}

impl ApiError {
    /// An error for `status` with nothing known beyond it (no readable error body).
    pub fn from_status(status: u16, request_id: Option<String>) -> Self {
        Self {
            status,
            class: ApiErrorClass::classify(status, None, None),
            error_type: None,
            code: None,
            message: None,
            param: None,
            decline_code: None,
            doc_url: None,
            request_id,
            idempotent_replayed: false,
        }
    }

    /// Whether this is a server error (5xx) Stripe saved under the idempotency key and
    /// replays: it happened after the request began executing, so the request may have
    /// taken effect, and every retry with that key gets the same error for 24 hours
    /// (<https://docs.stripe.com/api/idempotent_requests>).
    pub fn is_saved_server_error(&self) -> bool {
        self.idempotent_replayed && self.status >= 500
    }

    /// Stable billbridge code of the class, e.g. `stripe_card_error`.
    pub fn billbridge_code(&self) -> &'static str {
        self.class.code()
    }

    /// Stripe's own `error.code`.
    pub fn stripe_code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Stripe's human-readable message (may contain submitted values; do not log blindly).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The issuer's decline reason for card errors.
    pub fn decline_code(&self) -> Option<&str> {
        self.decline_code.as_deref()
    }

    /// The parameter Stripe objected to.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// The `Request-Id` to quote to Stripe support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stripe answered HTTP {}", self.status)?;
        if let Some(error_type) = &self.error_type {
            write!(f, " {error_type}")?;
        }
        if let Some(code) = &self.code {
            write!(f, ", code {code}")?;
        }
        if let Some(decline_code) = &self.decline_code {
            write!(f, ", decline code {decline_code}")?;
        }
        if let Some(param) = &self.param {
            write!(f, ", parameter {param}")?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " (request {request_id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("class", &self.class)
            .field("error_type", &self.error_type)
            .field("code", &self.code)
            .field(
                "message",
                &self
                    .message
                    .as_ref()
                    .map(|message| format!("[{} characters]", message.chars().count())),
            )
            .field("param", &self.param)
            .field("decline_code", &self.decline_code)
            .field("doc_url", &self.doc_url)
            .field("request_id", &self.request_id)
            .field("idempotent_replayed", &self.idempotent_replayed)
            .finish()
    }
}

impl std::error::Error for ApiError {}

/// A response that could not be decoded into the expected type.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not decode Stripe's HTTP {status} response as {expected} ({category} error at line {line}, column {column}{})",
    request_id.as_deref().map(|id| format!(", request {id}")).unwrap_or_default()
)]
pub struct DecodeError {
    /// HTTP status of the response.
    pub status: u16,
    /// The `Request-Id` response header.
    pub request_id: Option<String>,
    /// The Rust type that was expected.
    pub expected: &'static str,
    /// `syntax`, `data` (wrong shape) or `eof` (truncated).
    pub category: &'static str,
    /// Line of the body where decoding failed.
    pub line: usize,
    /// Column of the body where decoding failed.
    pub column: usize,
    /// The JSON error; its own message may quote body content, so it is only a source.
    #[source]
    pub source: serde_json::Error,
}

impl DecodeError {
    /// Wraps a JSON error without copying any body content into the message.
    pub fn new(
        status: u16,
        request_id: Option<String>,
        expected: &'static str,
        source: serde_json::Error,
    ) -> Self {
        let category = match source.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "eof",
        };
        Self {
            status,
            request_id,
            expected,
            category,
            line: source.line(),
            column: source.column(),
            source,
        }
    }
}

/// Input refused before sending: sending it could only fail, or would be unsafe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// An idempotency key longer than Stripe's 255 characters.
    #[error("idempotency key is {length} characters long; Stripe accepts at most 255")]
    IdempotencyKeyTooLong {
        /// Length of the key given.
        length: usize,
    },
    /// An idempotency key that is empty or holds characters unsafe in a header.
    #[error("idempotency key must be 1 to 255 visible ASCII characters")]
    IdempotencyKeyInvalid,
    /// A `Stripe-Account` value that is empty or holds characters unsafe in a header.
    #[error("Stripe-Account must be a connected account id such as acct_123")]
    StripeAccountInvalid,
    /// An object id that is empty.
    #[error("{what} id is empty")]
    EmptyId {
        /// Which id, e.g. `customer`.
        what: &'static str,
    },
    /// An object id with characters Stripe ids never have (it would change the URL path).
    #[error("{what} id may contain only letters, digits, '_', '-' and '.'")]
    InvalidId {
        /// Which id, e.g. `invoice`.
        what: &'static str,
    },
    /// A page size outside Stripe's 1–100.
    #[error("limit {limit} is outside Stripe's 1 to 100")]
    LimitOutOfRange {
        /// The limit given.
        limit: u32,
    },
    /// A parameter combination Stripe would reject.
    #[error("invalid parameters: {reason}")]
    InvalidParameters {
        /// What is wrong, naming parameters only.
        reason: &'static str,
    },
}

impl Classify for InputError {
    fn code(&self) -> &'static str {
        match self {
            InputError::IdempotencyKeyTooLong { .. } | InputError::IdempotencyKeyInvalid => {
                "invalid_idempotency_key"
            }
            InputError::StripeAccountInvalid => "invalid_stripe_account",
            InputError::EmptyId { .. } | InputError::InvalidId { .. } => "invalid_stripe_id",
            InputError::LimitOutOfRange { .. } => "limit_out_of_range",
            InputError::InvalidParameters { .. } => "invalid_parameters",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

/// Everything a call through [`crate::stripe::client::StripeClient`] can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StripeError {
    /// Stripe answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// No response: timeout, connection failure (the outcome of a write is unknown).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A response that could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Refused before sending.
    #[error("request not sent: {0}")]
    InvalidRequest(#[from] InputError),
    /// A pager reached its page cap with pages still left.
    #[error("stopped after {max_pages} pages of {path} with more pages remaining")]
    PageCapExceeded {
        /// The cap that was reached.
        max_pages: u32,
        /// The list or search path being walked.
        path: String,
    },
    /// The system random source failed while generating an idempotency key.
    #[error("could not generate an idempotency key: no system randomness ({detail})")]
    Randomness {
        /// What the operating system's random source reported.
        detail: String,
    },
}

impl From<ApiError> for StripeError {
    fn from(error: ApiError) -> Self {
        StripeError::Api(Box::new(error))
    }
}

impl StripeError {
    /// Stable machine code for bindings, e.g. `stripe_card_error`, `stripe_timeout`.
    pub fn code(&self) -> &'static str {
        match self {
            StripeError::Api(error) => error.class.code(),
            StripeError::Transport(error) => match error.kind {
                TransportErrorKind::Timeout => "stripe_timeout",
                TransportErrorKind::Connection => "stripe_connection_error",
                TransportErrorKind::Other => "stripe_transport_error",
            },
            StripeError::Decode(_) => "stripe_decode_error",
            StripeError::InvalidRequest(_) => "stripe_invalid_input",
            StripeError::PageCapExceeded { .. } => "stripe_page_cap_exceeded",
            StripeError::Randomness { .. } => "stripe_randomness_unavailable",
        }
    }

    /// The API error, when Stripe answered with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            StripeError::Api(error) => Some(error),
            _ => None,
        }
    }

    /// The class of an API error.
    pub fn class(&self) -> Option<ApiErrorClass> {
        self.api_error().map(|error| error.class)
    }

    /// HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            StripeError::Api(error) => Some(error.status),
            StripeError::Decode(error) => Some(error.status),
            _ => None,
        }
    }

    /// Stripe's own `error.code`.
    pub fn stripe_code(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::stripe_code)
    }

    /// The issuer's decline reason for card errors.
    pub fn decline_code(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::decline_code)
    }

    /// The `Request-Id` of the response, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            StripeError::Api(error) => error.request_id(),
            StripeError::Decode(error) => error.request_id.as_deref(),
            _ => None,
        }
    }

    /// True when a write may or may not have been applied: server errors, transport
    /// failures and unreadable success responses. Repeat it with the same idempotency key.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            StripeError::Api(error) => error.class == ApiErrorClass::Server,
            StripeError::Transport(_) => true,
            StripeError::Decode(error) => (200..300).contains(&error.status),
            _ => false,
        }
    }
}

impl Classify for StripeError {
    fn code(&self) -> &'static str {
        match self {
            StripeError::Api(error) => error.class.code(),
            StripeError::Transport(error) => match error.kind {
                TransportErrorKind::Timeout => "stripe_timeout",
                TransportErrorKind::Connection => "stripe_connection_error",
                TransportErrorKind::Other => "stripe_transport_error",
            },
            StripeError::Decode(_) => "stripe_decode_error",
            StripeError::InvalidRequest(_) => "stripe_invalid_input",
            StripeError::PageCapExceeded { .. } => "stripe_page_cap_exceeded",
            StripeError::Randomness { .. } => "stripe_randomness_unavailable",
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            StripeError::Transport(_) => ErrorCategory::Transport,
            StripeError::InvalidRequest(_) => ErrorCategory::Validation,
            StripeError::Randomness { .. } => ErrorCategory::Internal,
            _ => ErrorCategory::StripeApi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_classes_as_the_official_sdks_do() {
        let idempotency = ApiErrorType::IdempotencyError;
        let card = ApiErrorType::CardError;
        let invalid = ApiErrorType::InvalidRequestError;
        let cases = [
            (400, Some(&invalid), None, ApiErrorClass::InvalidRequest),
            (404, Some(&invalid), None, ApiErrorClass::InvalidRequest),
            (400, Some(&idempotency), None, ApiErrorClass::Idempotency),
            (404, Some(&idempotency), None, ApiErrorClass::Idempotency),
            (401, None, None, ApiErrorClass::Authentication),
            (402, Some(&card), None, ApiErrorClass::Card),
            (402, Some(&invalid), None, ApiErrorClass::RequestFailed),
            (403, None, None, ApiErrorClass::Permission),
            (409, None, None, ApiErrorClass::Conflict),
            (429, None, None, ApiErrorClass::RateLimited),
            (429, None, Some("lock_timeout"), ApiErrorClass::LockTimeout),
            (500, Some(&idempotency), None, ApiErrorClass::Server),
            (503, None, None, ApiErrorClass::Server),
            (418, None, None, ApiErrorClass::Other),
        ];
        for (status, error_type, code, expected) in cases {
            assert_eq!(
                ApiErrorClass::classify(status, error_type, code),
                expected,
                "status {status}"
            );
        }
    }

    #[test]
    fn unknown_error_types_are_kept() {
        let parsed = ApiErrorType::from("brand_new_error");
        assert_eq!(parsed, ApiErrorType::Unknown("brand_new_error".into()));
        assert_eq!(parsed.as_str(), "brand_new_error");
        assert_eq!(ApiErrorType::from("card_error"), ApiErrorType::CardError);
    }

    #[test]
    fn api_error_display_leaves_out_stripes_message() {
        let error = ApiError {
            message: Some("Invalid email address: jane@example.com".into()),
            code: Some("email_invalid".into()),
            param: Some("email".into()),
            error_type: Some(ApiErrorType::InvalidRequestError),
            request_id: Some("req_123".into()),
            ..ApiError::from_status(400, None)
        };
        let text = StripeError::from(error).to_string();
        assert!(!text.contains("jane@example.com"), "{text}");
        assert!(
            text.contains("email_invalid") && text.contains("req_123"),
            "{text}"
        );
    }

    #[test]
    fn decode_error_message_quotes_no_body_content() {
        let source = serde_json::from_str::<u64>("\"secret-ish value\"").unwrap_err();
        let error = StripeError::from(DecodeError::new(200, Some("req_9".into()), "u64", source));
        let text = error.to_string();
        assert!(!text.contains("secret-ish"), "{text}");
        assert!(text.contains("req_9") && text.contains("200"), "{text}");
        assert_eq!(error.code(), "stripe_decode_error");
        assert!(std::error::Error::source(&error).is_some());
    }
}

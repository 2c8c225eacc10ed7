//! The error body of a failed Stripe request: `{"error": {type, code, message, …}}`.

use serde::{Deserialize, Serialize};

string_enum! {
    /// The broad class of a Stripe error (`error.type`).
    pub enum ErrorType {
        /// A problem on Stripe's side.
        ApiError = "api_error",
        /// The card or payment was declined.
        CardError = "card_error",
        /// An idempotency key was reused with different parameters.
        IdempotencyError = "idempotency_error",
        /// The request had invalid parameters.
        InvalidRequestError = "invalid_request_error",
    }
}

/// The whole body of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ApiError,
}

/// What Stripe says went wrong. Also used for an invoice's `last_finalization_error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The broad class of error.
    #[serde(rename = "type")]
    pub error_type: ErrorType,
    /// A short machine code (`resource_missing`, `lock_timeout`, …).
    #[serde(default)]
    pub code: Option<String>,
    /// A human-readable explanation.
    #[serde(default)]
    pub message: Option<String>,
    /// The parameter the error is about, in bracket notation.
    #[serde(default)]
    pub param: Option<String>,
    /// The issuer's reason for a card decline.
    #[serde(default)]
    pub decline_code: Option<String>,
    /// A page of Stripe's documentation about this code.
    #[serde(default)]
    pub doc_url: Option<String>,
    /// The dashboard log of the failing request.
    #[serde(default)]
    pub request_log_url: Option<String>,
}

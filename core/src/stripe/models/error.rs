//! The error body of a failed Stripe request: `{"error": {type, code, message, …}}`.
//! `Debug` shows the length of Stripe's message, not its text: it can echo the values
//! sent (an email address, a name).

use std::fmt;

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
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ApiError {
            error_type,
            code,
            message,
            param,
            decline_code,
            doc_url,
            request_log_url,
        } = self;
        f.debug_struct("ApiError")
            .field("error_type", error_type)
            .field("code", code)
            .field(
                "message",
                &message
                    .as_ref()
                    .map(|message| format!("[{} characters]", message.chars().count())),
            )
            .field("param", param)
            .field("decline_code", decline_code)
            .field("doc_url", doc_url)
            .field("request_log_url", request_log_url)
            .finish()
    }
}

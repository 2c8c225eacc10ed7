//! The crate's top-level [`Error`]: one enum wrapping every module's error, with a
//! stable machine [`Error::code`] and a coarse [`ErrorCategory`] that the Python, Node
//! and Swift bindings map onto their own exception classes.

use thiserror::Error as ThisError;

use crate::domain::catalogue::CatalogueError;
use crate::domain::date::DateError;
use crate::domain::invoice::InvoiceError;
use crate::domain::ledger::LedgerError;
use crate::domain::metadata::MetadataError;
use crate::domain::money::MoneyError;
use crate::domain::party::PartyError;
use crate::domain::status::IllegalTransition;
use crate::report::ReportError;
use crate::stripe::error::StripeError;
#[cfg(feature = "http")]
use crate::stripe::http::HttpTransportError;
use crate::stripe::key::KeyError;
use crate::stripe::webhook::WebhookError;
use crate::sync::error::SyncError;
use crate::sync::offline::OfflineError;
use crate::sync::store::StoreError;

/// The coarse kind of an error: what a caller can act on differently.
///
/// Bindings turn each category into one exception class (Python), `err.category`
/// (Node) or one case (Swift), and expose [`Error::code`] as the fine-grained code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCategory {
    /// The input was wrong (bad amount, unknown currency, over-long field, …); retrying
    /// the same call cannot succeed.
    Validation,
    /// The input was well formed but the object is in the wrong state for the
    /// operation (paying a void invoice, editing a finalized one, …).
    InvalidState,
    /// Stripe answered with an error.
    StripeApi,
    /// Stripe could not be reached, or the answer was lost on the way.
    Transport,
    /// A webhook signature did not verify.
    Signature,
    /// The host's store failed.
    Store,
    /// A bug in billbridge: an invariant that should hold did not.
    Internal,
    /// A writer or reader the host supplied (a file, a socket) failed.
    Io,
}

impl ErrorCategory {
    /// The category as a stable snake_case string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Validation => "validation",
            ErrorCategory::InvalidState => "invalid_state",
            ErrorCategory::StripeApi => "stripe_api",
            ErrorCategory::Transport => "transport",
            ErrorCategory::Signature => "signature",
            ErrorCategory::Store => "store",
            ErrorCategory::Internal => "internal",
            ErrorCategory::Io => "io",
        }
    }
}

/// Any error billbridge returns. Later layers (Stripe client, sync, store) add their
/// variants here; match with a wildcard arm.
#[derive(Debug, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// Money: parsing, currency, arithmetic, Stripe amount limits.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// Calendar dates.
    #[error(transparent)]
    Date(#[from] DateError),
    /// Patients, organisations and their host ids.
    #[error(transparent)]
    Party(#[from] PartyError),
    /// Invoice drafts and lines.
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    /// An invoice action that its status does not allow.
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// Catalogue, billing rates and services.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The offline ledger.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The metadata policy, or metadata it could not render.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// A call to Stripe: an API error, no response, an unreadable answer, or a request
    /// refused before sending.
    #[error(transparent)]
    Stripe(#[from] StripeError),
    /// A Stripe API key that cannot be used (publishable, malformed, unknown mode).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The HTTP transport could not be set up (bad base URL, TLS initialisation).
    #[cfg(feature = "http")]
    #[error(transparent)]
    HttpTransport(#[from] HttpTransportError),
    /// A webhook delivery that did not verify or parse.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// The sync store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A workflow of [`crate::sync::Billbridge`].
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Reports and CSV export.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The offline billing workflow.
    #[error(transparent)]
    Offline(#[from] OfflineError),
}

impl Error {
    /// Stable snake_case machine code of the underlying error (e.g. `"currency_mismatch"`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Money(inner) => inner.code(),
            Error::Date(inner) => inner.code(),
            Error::Party(inner) => inner.code(),
            Error::Invoice(inner) => inner.code(),
            Error::IllegalTransition(inner) => inner.code(),
            Error::Catalogue(inner) => inner.code(),
            Error::Ledger(inner) => inner.code(),
            Error::Metadata(inner) => inner.code(),
            Error::Stripe(inner) => inner.code(),
            Error::Key(inner) => inner.code(),
            #[cfg(feature = "http")]
            Error::HttpTransport(inner) => inner.code(),
            Error::Webhook(inner) => inner.code(),
            Error::Store(inner) => inner.code(),
            Error::Sync(inner) => inner.code(),
            Error::Report(inner) => inner.code(),
            Error::Offline(inner) => inner.code(),
        }
    }

    /// What kind of failure this is, for mapping onto a binding's exception classes.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Error::Money(inner) => inner.category(),
            Error::Date(inner) => inner.category(),
            Error::Party(inner) => inner.category(),
            Error::Invoice(inner) => inner.category(),
            Error::IllegalTransition(inner) => inner.category(),
            Error::Catalogue(inner) => inner.category(),
            Error::Ledger(inner) => inner.category(),
            Error::Metadata(inner) => inner.category(),
            Error::Stripe(inner) => stripe_category(inner),
            Error::Key(_) => ErrorCategory::Validation,
            #[cfg(feature = "http")]
            Error::HttpTransport(HttpTransportError::InvalidBaseUrl { .. }) => {
                ErrorCategory::Validation
            }
            #[cfg(feature = "http")]
            Error::HttpTransport(HttpTransportError::Client(_)) => ErrorCategory::Transport,
            Error::Webhook(inner) => webhook_category(inner),
            Error::Store(_) => ErrorCategory::Store,
            Error::Sync(inner) => inner.category(),
            Error::Report(inner) => inner.category(),
            Error::Offline(inner) => inner.category(),
        }
    }

    /// Whether the error is an illegal invoice transition refused before anything was
    /// sent.
    pub fn is_illegal_transition(&self) -> bool {
        matches!(self, Error::IllegalTransition(_))
    }
}

fn stripe_category(error: &StripeError) -> ErrorCategory {
    match error {
        StripeError::Transport(_) => ErrorCategory::Transport,
        StripeError::InvalidRequest(_) => ErrorCategory::Validation,
        StripeError::Randomness { .. } => ErrorCategory::Internal,
        _ => ErrorCategory::StripeApi,
    }
}

fn webhook_category(error: &WebhookError) -> ErrorCategory {
    match error {
        WebhookError::MalformedPayload { .. } | WebhookError::InvalidSecret => {
            ErrorCategory::Validation
        }
        _ => ErrorCategory::Signature,
    }
}

/// Shorthand for results carrying the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stripe::key::ApiKey;

    #[test]
    fn a_publishable_key_is_a_validation_error_with_its_own_code() {
        let error = Error::from(ApiKey::parse("pk_test_abc123").unwrap_err());
        assert_eq!(error.code(), "publishable_key");
        assert_eq!(error.category(), ErrorCategory::Validation);
        assert!(!error.to_string().contains("abc123"));
    }

    #[cfg(feature = "http")]
    #[test]
    fn an_unusable_base_url_is_a_validation_error() {
        let key = ApiKey::parse("sk_test_abc123").unwrap();
        let error = crate::stripe::http::HttpTransport::builder(key)
            .base_url("ftp://example.invalid")
            .build()
            .map(|_| ())
            .map_err(Error::from)
            .unwrap_err();
        assert_eq!(error.code(), "invalid_base_url");
        assert_eq!(error.category(), ErrorCategory::Validation);
    }
}

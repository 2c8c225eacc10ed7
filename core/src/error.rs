//! The crate's top-level [`Error`]: one enum aggregating every module's error. Each
//! module's error classifies itself ([`Classify`]: a stable machine code and an
//! [`ErrorCategory`]); this module only forwards to it, and gathers the details of a
//! Stripe answer ([`Error::details`]) so that a binding never matches internal variants.

use thiserror::Error as ThisError;

pub use crate::classify::{Classify, ErrorCategory};
use crate::domain::catalogue::CatalogueError;
use crate::domain::date::DateError;
use crate::domain::invoice::InvoiceError;
use crate::domain::ledger::LedgerError;
use crate::domain::metadata::MetadataError;
use crate::domain::money::MoneyError;
use crate::domain::party::PartyError;
use crate::domain::status::IllegalTransition;
use crate::offline::OfflineError;
use crate::report::ReportError;
use crate::store::StoreError;
use crate::stripe::error::{ApiError, StripeError};
#[cfg(feature = "http")]
use crate::stripe::http::HttpTransportError;
use crate::stripe::key::KeyError;
use crate::stripe::webhook::WebhookError;
use crate::sync::error::SyncError;
use crate::vocabulary::ArgumentError;

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
    /// A word billbridge does not know, or arguments that do not go together.
    #[error(transparent)]
    Argument(#[from] ArgumentError),
}

/// What a binding shows about an error that came from Stripe's answer, without matching
/// internal variants: every field is `None` for errors that never reached Stripe.
///
/// Stripe's human-readable message is not here: it can echo submitted values back (an
/// email address, a name), so it is only reachable through [`Error::stripe_message`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetails {
    /// The HTTP status of Stripe's answer (402 for a declined card, 429 when rate limited).
    pub http_status: Option<u16>,
    /// Stripe's `error.type`: `card_error`, `invalid_request_error`, `api_error`,
    /// `idempotency_error`, or a newer type as Stripe spells it.
    pub stripe_type: Option<String>,
    /// Stripe's `error.code`, e.g. `card_declined`, `resource_missing`, `lock_timeout`.
    pub stripe_code: Option<String>,
    /// For card errors: the issuer's reason, e.g. `insufficient_funds`.
    pub decline_code: Option<String>,
    /// The request parameter Stripe objected to, e.g. `lines[0][quantity]`.
    pub param: Option<String>,
    /// Stripe's `Request-Id`, to quote to Stripe support.
    pub request_id: Option<String>,
    /// Stripe's page documenting the code.
    pub doc_url: Option<String>,
}

impl Error {
    /// Stable snake_case machine code of the underlying error (e.g. `"currency_mismatch"`).
    pub fn code(&self) -> &'static str {
        self.classified().code()
    }

    /// What kind of failure this is, for mapping onto a binding's exception classes.
    pub fn category(&self) -> ErrorCategory {
        self.classified().category()
    }

    fn classified(&self) -> &dyn Classify {
        match self {
            Error::Money(inner) => inner,
            Error::Date(inner) => inner,
            Error::Party(inner) => inner,
            Error::Invoice(inner) => inner,
            Error::IllegalTransition(inner) => inner,
            Error::Catalogue(inner) => inner,
            Error::Ledger(inner) => inner,
            Error::Metadata(inner) => inner,
            Error::Stripe(inner) => inner,
            Error::Key(inner) => inner,
            #[cfg(feature = "http")]
            Error::HttpTransport(inner) => inner,
            Error::Webhook(inner) => inner,
            Error::Store(inner) => inner,
            Error::Sync(inner) => inner,
            Error::Report(inner) => inner,
            Error::Offline(inner) => inner,
            Error::Argument(inner) => inner,
        }
    }

    /// Whether the error is an illegal invoice transition refused before anything was
    /// sent.
    pub fn is_illegal_transition(&self) -> bool {
        matches!(self, Error::IllegalTransition(_))
    }

    /// The failed call to Stripe behind this error, if it is one.
    pub fn stripe_error(&self) -> Option<&StripeError> {
        match self {
            Error::Stripe(inner) | Error::Report(ReportError::Stripe(inner)) => Some(inner),
            _ => None,
        }
    }

    fn api_error(&self) -> Option<&ApiError> {
        self.stripe_error().and_then(StripeError::api_error)
    }

    /// Whether Stripe keeps answering this request's idempotency key with a saved
    /// server error (see [`ApiError::is_saved_server_error`]).
    pub fn is_saved_server_error(&self) -> bool {
        self.api_error()
            .is_some_and(ApiError::is_saved_server_error)
    }

    /// Stripe's status, type, code, decline code, parameter, request id and doc link,
    /// where the error came from Stripe's answer (all `None` otherwise).
    pub fn details(&self) -> ErrorDetails {
        let Some(stripe) = self.stripe_error() else {
            return ErrorDetails::default();
        };
        let api = stripe.api_error();
        ErrorDetails {
            http_status: stripe.status(),
            stripe_type: api
                .and_then(|api| api.error_type.as_ref())
                .map(|error_type| error_type.as_str().to_owned()),
            stripe_code: stripe.stripe_code().map(str::to_owned),
            decline_code: stripe.decline_code().map(str::to_owned),
            param: api.and_then(ApiError::param).map(str::to_owned),
            request_id: stripe.request_id().map(str::to_owned),
            doc_url: api.and_then(|api| api.doc_url.clone()),
        }
    }

    /// Stripe's human-readable message for an API error, e.g. the reason a card was
    /// declined, for a front desk to show.
    ///
    /// It is kept out of `Display`, `Debug` and every log line because Stripe can echo
    /// submitted values in it (an email address, a name): show it to the person who
    /// made the request, do not store or log it.
    pub fn stripe_message(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::message)
    }
}

impl Classify for Error {
    fn code(&self) -> &'static str {
        Error::code(self)
    }

    fn category(&self) -> ErrorCategory {
        Error::category(self)
    }
}

/// Shorthand for results carrying the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stripe::key::ApiKey;

    #[test]
    fn every_category_is_reached_by_some_error() {
        let samples: Vec<Error> = vec![
            MoneyError::Overflow { operation: "test" }.into(),
            IllegalTransition {
                from: crate::domain::status::InvoiceStatus::Paid,
                action: crate::domain::status::InvoiceAction::Void,
            }
            .into(),
            StripeError::from(ApiError::from_status(500, None)).into(),
            StripeError::from(crate::stripe::transport::TransportError::new(
                crate::stripe::transport::TransportErrorKind::Timeout,
                "test",
            ))
            .into(),
            WebhookError::SignatureMismatch.into(),
            StoreError::backend("test", "broken").into(),
            StripeError::Randomness {
                detail: "test".to_owned(),
            }
            .into(),
            ReportError::Io {
                rows_written: 0,
                source: std::io::Error::other("test"),
            }
            .into(),
        ];
        let reached: std::collections::BTreeSet<ErrorCategory> =
            samples.iter().map(Error::category).collect();
        assert_eq!(reached.len(), ErrorCategory::ALL.len(), "{reached:?}");
    }

    #[test]
    fn stripe_details_and_message_come_from_the_api_error_but_never_print() {
        let api = ApiError {
            status: 402,
            class: crate::stripe::error::ApiErrorClass::Card,
            error_type: Some(crate::stripe::error::ApiErrorType::CardError),
            code: Some("card_declined".to_owned()),
            message: Some("Your card was declined, john@example.com.".to_owned()),
            param: Some("payment_method".to_owned()),
            decline_code: Some("insufficient_funds".to_owned()),
            doc_url: Some("https://stripe.com/docs/error-codes/card-declined".to_owned()),
            request_id: Some("req_123".to_owned()),
            idempotent_replayed: false,
        };
        let error = Error::from(StripeError::from(api));
        let details = error.details();
        assert_eq!(details.http_status, Some(402));
        assert_eq!(details.stripe_type.as_deref(), Some("card_error"));
        assert_eq!(details.stripe_code.as_deref(), Some("card_declined"));
        assert_eq!(details.decline_code.as_deref(), Some("insufficient_funds"));
        assert_eq!(details.param.as_deref(), Some("payment_method"));
        assert_eq!(details.request_id.as_deref(), Some("req_123"));
        assert_eq!(
            error.stripe_message(),
            Some("Your card was declined, john@example.com.")
        );
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("john@example.com"), "{shown}");
            assert!(!shown.contains("Your card"), "{shown}");
        }
        let local = Error::from(MoneyError::Overflow { operation: "test" });
        assert_eq!(local.details(), ErrorDetails::default());
        assert_eq!(local.stripe_message(), None);
    }

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

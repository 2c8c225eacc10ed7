//! [`BillbridgeError`], the one error every export throws, and the one place a core
//! error or a panic becomes it: one case per core `billbridge::ErrorCategory` (Swift
//! `BillbridgeError.Validation(code:reason:stripe:)`, Kotlin
//! `BillbridgeException.Validation`), each with the core's stable `code`, its `reason`
//! (the core's `Display`, free of secrets and personal data) and, when the error came
//! from a call to Stripe, Stripe's details ([`StripeErrorDetails`]).
//!
//! Every field is printed by the generated code (Kotlin's `message` is `field=value`
//! text, Swift's `errorDescription` reflects the case), so nothing here may carry what
//! must stay out of logs. That is why Stripe's own human-readable text is not carried:
//! it can echo submitted values (an email address, a name); show a message of your own
//! chosen by `code`, `stripe.stripeCode` or `stripe.declineCode` instead.
//!
//! [`guard`] and [`guarded`] run every export's body, so that a panic is thrown as
//! `Internal` (code `panic`) instead of unwinding into the host or aborting it.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use billbridge::ErrorCategory as CoreCategory;
use futures_util::FutureExt;

/// What Stripe said about a failed call, when the error came from a call to Stripe.
/// Every field is `None` when Stripe's answer did not carry it (no answer at all for a
/// transport failure).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StripeErrorDetails {
    /// The HTTP status of Stripe's answer (402 for a declined card, 429 when rate
    /// limited).
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

/// Every error billbridge throws. The case is the core's category: what the app can act
/// on differently. `code` is the stable snake_case machine code (e.g.
/// `too_many_decimals`, `card_declined` arrives as `stripe_api` with
/// `stripe.stripeCode`), `reason` a sentence for developers and logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum BillbridgeError {
    /// The input was wrong (bad amount, unknown currency, over-long field, a word
    /// billbridge does not know); retrying the same call cannot succeed.
    #[error("{reason} ({code})")]
    Validation {
        /// Stable machine code.
        code: String,
        /// What was wrong, for developers and logs.
        reason: String,
        /// Stripe's details, when Stripe refused the input.
        stripe: Option<StripeErrorDetails>,
    },
    /// Well-formed input, but the object is in the wrong state for it (voiding a paid
    /// invoice, paying a void one, a customer not synced yet); nothing was sent.
    #[error("{reason} ({code})")]
    InvalidState {
        /// Stable machine code.
        code: String,
        /// What was wrong, for developers and logs.
        reason: String,
        /// Stripe's details, when Stripe reported the state.
        stripe: Option<StripeErrorDetails>,
    },
    /// Stripe answered with an error (declined card, missing object, rate limit after
    /// retries, server error after retries).
    #[error("{reason} ({code})")]
    StripeApi {
        /// Stable machine code.
        code: String,
        /// What happened, for developers and logs.
        reason: String,
        /// Stripe's details.
        stripe: Option<StripeErrorDetails>,
    },
    /// Stripe could not be reached, or its answer was lost on the way (after retries).
    #[error("{reason} ({code})")]
    Transport {
        /// Stable machine code.
        code: String,
        /// What happened, for developers and logs.
        reason: String,
        /// Stripe's details (usually none: no answer arrived).
        stripe: Option<StripeErrorDetails>,
    },
    /// A webhook delivery's signature did not verify (forged, stale, wrong secret).
    #[error("{reason} ({code})")]
    Signature {
        /// Stable machine code.
        code: String,
        /// What was wrong, for developers and logs.
        reason: String,
        /// Always `None`.
        stripe: Option<StripeErrorDetails>,
    },
    /// The store (the SQLite file, or memory) failed.
    #[error("{reason} ({code})")]
    Store {
        /// Stable machine code.
        code: String,
        /// What happened, for developers and logs.
        reason: String,
        /// Always `None`.
        stripe: Option<StripeErrorDetails>,
    },
    /// A bug in billbridge: an invariant did not hold, or the library panicked (code
    /// `panic`). The app keeps running; report it.
    #[error("{reason} ({code})")]
    Internal {
        /// Stable machine code.
        code: String,
        /// What happened, for developers and logs.
        reason: String,
        /// Stripe's details, when the failure happened around a call to Stripe.
        stripe: Option<StripeErrorDetails>,
    },
    /// A file the app named (a CSV destination) could not be written.
    #[error("{reason} ({code})")]
    Io {
        /// Stable machine code.
        code: String,
        /// What happened, for developers and logs.
        reason: String,
        /// Always `None`.
        stripe: Option<StripeErrorDetails>,
    },
}

impl BillbridgeError {
    /// The error of `category` with these parts. A category added to the core after
    /// this binding is thrown as `Internal` until the binding maps it (a test walks
    /// [`CoreCategory::ALL`] so that cannot ship unnoticed).
    fn of(
        category: CoreCategory,
        code: String,
        reason: String,
        stripe: Option<StripeErrorDetails>,
    ) -> BillbridgeError {
        match category {
            CoreCategory::Validation => BillbridgeError::Validation {
                code,
                reason,
                stripe,
            },
            CoreCategory::InvalidState => BillbridgeError::InvalidState {
                code,
                reason,
                stripe,
            },
            CoreCategory::StripeApi => BillbridgeError::StripeApi {
                code,
                reason,
                stripe,
            },
            CoreCategory::Transport => BillbridgeError::Transport {
                code,
                reason,
                stripe,
            },
            CoreCategory::Signature => BillbridgeError::Signature {
                code,
                reason,
                stripe,
            },
            CoreCategory::Store => BillbridgeError::Store {
                code,
                reason,
                stripe,
            },
            CoreCategory::Io => BillbridgeError::Io {
                code,
                reason,
                stripe,
            },
            _ => BillbridgeError::Internal {
                code,
                reason,
                stripe,
            },
        }
    }

    /// The stable machine code.
    pub fn code_str(&self) -> &str {
        match self {
            BillbridgeError::Validation { code, .. }
            | BillbridgeError::InvalidState { code, .. }
            | BillbridgeError::StripeApi { code, .. }
            | BillbridgeError::Transport { code, .. }
            | BillbridgeError::Signature { code, .. }
            | BillbridgeError::Store { code, .. }
            | BillbridgeError::Internal { code, .. }
            | BillbridgeError::Io { code, .. } => code,
        }
    }

    /// The category, as its case says.
    pub fn error_category(&self) -> ErrorCategory {
        match self {
            BillbridgeError::Validation { .. } => ErrorCategory::Validation,
            BillbridgeError::InvalidState { .. } => ErrorCategory::InvalidState,
            BillbridgeError::StripeApi { .. } => ErrorCategory::StripeApi,
            BillbridgeError::Transport { .. } => ErrorCategory::Transport,
            BillbridgeError::Signature { .. } => ErrorCategory::Signature,
            BillbridgeError::Store { .. } => ErrorCategory::Store,
            BillbridgeError::Internal { .. } => ErrorCategory::Internal,
            BillbridgeError::Io { .. } => ErrorCategory::Io,
        }
    }

    /// The failure of the binding itself (not of the core): always `Internal`.
    pub(crate) fn internal(code: &str, reason: impl Into<String>) -> BillbridgeError {
        BillbridgeError::Internal {
            code: code.to_owned(),
            reason: reason.into(),
            stripe: None,
        }
    }
}

/// What kind of failure an error is: the case of [`BillbridgeError`], as a value (for
/// logging or metrics without matching every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ErrorCategory {
    /// `Validation`.
    Validation,
    /// `InvalidState`.
    InvalidState,
    /// `StripeApi`.
    StripeApi,
    /// `Transport`.
    Transport,
    /// `Signature`.
    Signature,
    /// `Store`.
    Store,
    /// `Internal`.
    Internal,
    /// `Io`.
    Io,
}

// Both read a field of the value the foreign side hands back: nothing here can panic,
// so they need no `Result`.
#[uniffi::export]
impl BillbridgeError {
    /// The stable machine code, whatever the case.
    pub fn code(&self) -> String {
        self.code_str().to_owned()
    }

    /// The case as an [`ErrorCategory`].
    pub fn category(&self) -> ErrorCategory {
        self.error_category()
    }
}

impl From<billbridge::Error> for BillbridgeError {
    fn from(error: billbridge::Error) -> Self {
        // Details exist exactly for errors that were a call to Stripe.
        let stripe = error.stripe_error().map(|_| {
            let details = error.details();
            StripeErrorDetails {
                http_status: details.http_status,
                stripe_type: details.stripe_type,
                stripe_code: details.stripe_code,
                decline_code: details.decline_code,
                param: details.param,
                request_id: details.request_id,
                doc_url: details.doc_url,
            }
        });
        BillbridgeError::of(
            error.category(),
            error.code().to_owned(),
            error.to_string(),
            stripe,
        )
    }
}

/// Every module error of the core converts through [`billbridge::Error`].
macro_rules! from_core_errors {
    ($($error:ty),+ $(,)?) => {
        $(impl From<$error> for BillbridgeError {
            fn from(error: $error) -> Self {
                BillbridgeError::from(billbridge::Error::from(error))
            }
        })+
    };
}

from_core_errors!(
    billbridge::domain::money::MoneyError,
    billbridge::domain::date::DateError,
    billbridge::domain::party::PartyError,
    billbridge::domain::invoice::InvoiceError,
    billbridge::domain::metadata::MetadataError,
    billbridge::stripe::key::KeyError,
    billbridge::stripe::http::HttpTransportError,
    billbridge::stripe::webhook::WebhookError,
    billbridge::store::StoreError,
    billbridge::sync::SyncError,
    billbridge::report::ReportError,
    billbridge::offline::OfflineError,
    billbridge::vocabulary::ArgumentError,
);

/// The text of a panic payload (`panic!` with a message gives a `&str` or a `String`).
fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "a panic without a message"
    }
}

/// The error a caught panic is thrown as.
fn panicked(payload: &(dyn Any + Send)) -> BillbridgeError {
    BillbridgeError::internal(
        "panic",
        format!(
            "billbridge panicked: {}; this is a bug in billbridge",
            panic_text(payload)
        ),
    )
}

/// Runs a synchronous export's body; a panic in it becomes [`BillbridgeError::Internal`].
pub(crate) fn guard<T>(
    body: impl FnOnce() -> Result<T, BillbridgeError>,
) -> Result<T, BillbridgeError> {
    // The body owns or borrows nothing that outlives a panic in a broken state: a
    // panic only ever discards the call's own values.
    std::panic::catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
}

/// Runs an async export's body; a panic while it is polled becomes
/// [`BillbridgeError::Internal`]. Bodies own what they use (a clone of the core object,
/// the converted arguments), so the future is `Send` and `'static` as UniFFI needs.
pub(crate) async fn guarded<T>(
    body: impl Future<Output = Result<T, BillbridgeError>>,
) -> Result<T, BillbridgeError> {
    AssertUnwindSafe(body)
        .catch_unwind()
        .await
        .unwrap_or_else(|payload| Err(panicked(payload.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::mem::discriminant;

    #[test]
    fn every_core_category_has_its_own_case() {
        let mut cases = Vec::new();
        for category in CoreCategory::ALL {
            let error = BillbridgeError::of(category, "code".into(), "reason".into(), None);
            assert_eq!(format!("{:?}", error.category()), format!("{category:?}"));
            let expected_internal = category == CoreCategory::Internal;
            assert_eq!(
                matches!(error, BillbridgeError::Internal { .. }),
                expected_internal,
                "{category} fell back to Internal: map it to its own case"
            );
            cases.push(format!("{:?}", discriminant(&error)));
        }
        let distinct: BTreeSet<&String> = cases.iter().collect();
        assert_eq!(distinct.len(), CoreCategory::ALL.len());
    }

    #[test]
    fn a_core_error_keeps_its_code_and_stripe_details_only_when_stripe_was_called() {
        let money = billbridge::domain::money::Money::parse(
            "12.345",
            billbridge::domain::money::Currency::GBP,
        )
        .map_err(BillbridgeError::from);
        let Err(BillbridgeError::Validation { code, stripe, .. }) = money else {
            panic!("expected a validation error, got {money:?}");
        };
        assert_eq!(code, "too_many_decimals");
        assert_eq!(stripe, None);

        let api = billbridge::stripe::error::ApiError::from_status(500, None);
        let error = BillbridgeError::from(billbridge::Error::from(
            billbridge::stripe::error::StripeError::from(api),
        ));
        let BillbridgeError::StripeApi { stripe, .. } = error else {
            panic!("expected a Stripe error, got {error:?}");
        };
        assert_eq!(stripe.and_then(|details| details.http_status), Some(500));
    }

    #[tokio::test]
    async fn a_panic_becomes_an_internal_error_sync_and_async() {
        let sync: Result<(), BillbridgeError> = guard(|| panic!("boom sync"));
        let error = sync.unwrap_err();
        assert_eq!(error.code(), "panic");
        assert!(error.to_string().contains("boom sync"), "{error}");

        let asynchronous: Result<(), BillbridgeError> =
            guarded(async { panic!("boom async") }).await;
        assert!(matches!(
            asynchronous,
            Err(BillbridgeError::Internal { ref code, .. }) if code == "panic"
        ));
    }
}

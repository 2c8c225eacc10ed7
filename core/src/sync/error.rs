//! [`SyncError`]: what the host-facing workflows ([`crate::sync::Billbridge`]) refuse or
//! detect on their own, as opposed to errors of the domain, the Stripe client, webhook
//! verification or the store, which keep their own types inside [`crate::Error`].
//!
//! Messages name host ids, Stripe ids, revisions and amounts, never a secret, a metadata
//! value or any other personal data.

use crate::classify::{Classify, ErrorCategory};
use crate::store::PartyKind;

/// A workflow refused an operation, or found Stripe in a state it must not build on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// [`crate::sync::BillbridgeBuilder::build`] was called without an idempotency secret.
    #[error(
        "no idempotency secret: set one with BillbridgeBuilder::idempotency_secret; it must stay the same across restarts so that re-runs repeat the same requests"
    )]
    MissingIdempotencySecret,
    /// The idempotency secret is too short to key a hash safely.
    #[error("the idempotency secret is {length} bytes, at least {min} are required")]
    IdempotencySecretTooShort {
        /// Its length in bytes.
        length: usize,
        /// The minimum length in bytes.
        min: usize,
    },
    /// A webhook arrived but no webhook secret was configured to verify it.
    #[error("no webhook secret configured: set one with BillbridgeBuilder::webhook_secret")]
    NoWebhookSecret,
    /// The rate limit given is zero.
    #[error("requests per second must be at least 1, got {requests_per_second}")]
    InvalidRateLimit {
        /// The rate given.
        requests_per_second: u32,
    },
    /// An invoice draft without a host invoice id cannot be raised: the id is what makes
    /// raising it exactly once possible.
    #[error("the invoice draft has no host invoice id")]
    MissingInvoiceId,
    /// The host's id of a balance adjustment is empty or unusable.
    #[error("the balance adjustment id is empty or has control characters")]
    InvalidAdjustmentId,
    /// The patient given with a draft is not the draft's patient.
    #[error("patient {given} was given for a draft whose patient is {expected}")]
    PatientMismatch {
        /// The id of the patient given.
        given: String,
        /// The id of the draft's patient.
        expected: String,
    },
    /// The party has no Stripe customer yet.
    #[error("{party_kind} {host_party_id} has no Stripe customer yet: upsert it first")]
    CustomerNotSynced {
        /// Patient or organisation.
        party_kind: PartyKind,
        /// The host's id of the party.
        host_party_id: String,
    },
    /// No invoice was raised for this host invoice id.
    #[error("invoice {host_invoice_id} has not been raised")]
    InvoiceNotRaised {
        /// The host's id of the invoice.
        host_invoice_id: String,
    },
    /// The invoice's draft was deleted; raising it again needs a new draft revision.
    #[error(
        "invoice {host_invoice_id} was deleted at revision {revision}; raise it again with a new draft revision"
    )]
    InvoiceDeleted {
        /// The host's id of the invoice.
        host_invoice_id: String,
        /// The revision that was deleted.
        revision: u64,
    },
    /// The invoice was finalized from another revision of the draft; a finalized invoice
    /// cannot take new lines.
    #[error(
        "invoice {host_invoice_id} was finalized at draft revision {raised}; revision {requested} cannot replace it (void it and raise a new invoice)"
    )]
    RevisionConflict {
        /// The host's id of the invoice.
        host_invoice_id: String,
        /// The revision that was finalized.
        raised: u64,
        /// The revision asked for.
        requested: u64,
    },
    /// Stripe's invoice does not add up to the draft: it is left as a draft, never
    /// finalized.
    #[error(
        "Stripe's invoice {stripe_invoice_id} for {host_invoice_id} totals {stripe_total} with {stripe_lines} lines, the draft {draft_total} with {draft_lines}; it was not finalized"
    )]
    TotalMismatch {
        /// The host's id of the invoice.
        host_invoice_id: String,
        /// Stripe's id of the invoice.
        stripe_invoice_id: String,
        /// The draft's total, in Stripe's minor units.
        draft_total: i64,
        /// Stripe's total, in minor units.
        stripe_total: i64,
        /// The draft's number of lines.
        draft_lines: usize,
        /// Stripe's number of lines.
        stripe_lines: usize,
    },
    /// Raising the invoice stopped before its lines were added: finishing it with
    /// `finalize` would finalize a partial invoice. Run `raise_invoice` again.
    #[error(
        "raising invoice {host_invoice_id} stopped before its lines were added; run raise_invoice again to finish it"
    )]
    RaiseIncomplete {
        /// The host's id of the invoice.
        host_invoice_id: String,
    },
    /// Stripe answered without a field the workflow needs.
    #[error("Stripe's {object} {id} came back without {field}")]
    UnexpectedResponse {
        /// The kind of object.
        object: &'static str,
        /// Its Stripe id.
        id: String,
        /// The missing field.
        field: &'static str,
    },
    /// Concurrent updates kept replacing an invoice's mirror while this one tried to
    /// write it.
    #[error("the mirror of invoice {host_invoice_id} kept changing under concurrent updates")]
    MirrorContention {
        /// The host's id of the invoice.
        host_invoice_id: String,
    },
    /// No practice of a [`crate::sync::Practices`] acts on this Stripe account (an
    /// empty account is the platform's own).
    #[error("no practice here acts on Stripe account {account:?}")]
    UnknownPractice {
        /// The account asked for; empty for the platform account.
        account: String,
    },
    /// A second practice was added for a Stripe account that already has one.
    #[error("a practice already acts on Stripe account {account:?}: one practice per account")]
    DuplicatePractice {
        /// The account; empty for the platform account.
        account: String,
    },
}

impl Classify for SyncError {
    fn code(&self) -> &'static str {
        match self {
            SyncError::MissingIdempotencySecret => "missing_idempotency_secret",
            SyncError::IdempotencySecretTooShort { .. } => "idempotency_secret_too_short",
            SyncError::NoWebhookSecret => "no_webhook_secret",
            SyncError::InvalidRateLimit { .. } => "invalid_rate_limit",
            SyncError::MissingInvoiceId => "missing_invoice_id",
            SyncError::InvalidAdjustmentId => "invalid_adjustment_id",
            SyncError::PatientMismatch { .. } => "patient_mismatch",
            SyncError::CustomerNotSynced { .. } => "customer_not_synced",
            SyncError::InvoiceNotRaised { .. } => "invoice_not_raised",
            SyncError::InvoiceDeleted { .. } => "invoice_deleted",
            SyncError::RevisionConflict { .. } => "revision_conflict",
            SyncError::TotalMismatch { .. } => "total_mismatch",
            SyncError::RaiseIncomplete { .. } => "raise_incomplete",
            SyncError::UnexpectedResponse { .. } => "unexpected_stripe_response",
            SyncError::MirrorContention { .. } => "mirror_contention",
            SyncError::UnknownPractice { .. } => "unknown_practice",
            SyncError::DuplicatePractice { .. } => "duplicate_practice",
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            SyncError::MissingIdempotencySecret
            | SyncError::IdempotencySecretTooShort { .. }
            | SyncError::NoWebhookSecret
            | SyncError::InvalidRateLimit { .. }
            | SyncError::MissingInvoiceId
            | SyncError::InvalidAdjustmentId
            | SyncError::PatientMismatch { .. }
            | SyncError::UnknownPractice { .. }
            | SyncError::DuplicatePractice { .. } => ErrorCategory::Validation,
            SyncError::CustomerNotSynced { .. }
            | SyncError::InvoiceNotRaised { .. }
            | SyncError::InvoiceDeleted { .. }
            | SyncError::RevisionConflict { .. }
            | SyncError::TotalMismatch { .. }
            | SyncError::RaiseIncomplete { .. } => ErrorCategory::InvalidState,
            SyncError::UnexpectedResponse { .. } => ErrorCategory::StripeApi,
            SyncError::MirrorContention { .. } => ErrorCategory::Store,
        }
    }
}

//! Webhooks for apps that receive them: [`construct_webhook_event`] verifies a delivery
//! on its raw bytes and reads its typed fields ([`WebhookEvent`]), and what a bridge
//! made of a delivery ([`WebhookOutcome`] with its [`WebhookChange`]s). Verification,
//! its defaults (Stripe's tolerance, the system clock) and the event's reading are the
//! core's.

use std::time::{Duration, SystemTime};

use billbridge::stripe::models::Event;
use billbridge::stripe::webhook::{VerifyOptions, WebhookSecret, construct_event_with};
use billbridge::sync::{
    WebhookChange as CoreChange, WebhookDisposition as CoreDisposition,
    WebhookOutcome as CoreOutcome,
};

use crate::error::{BillbridgeError, guard};
use crate::money::{Money, instant, unix_seconds};
use crate::parties::PartyKind;
use crate::records::InvoiceStatus;

/// The amounts of an invoice event's snapshot.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceAmounts {
    /// Total after discounts and taxes.
    pub total: Money,
    /// What the payer is asked to pay after their balance.
    pub amount_due: Money,
    /// What was paid.
    pub amount_paid: Money,
    /// What is left to pay.
    pub amount_remaining: Money,
}

/// A verified Stripe event, read without building its whole JSON tree.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookEvent {
    /// The event id (`evt_…`): deduplicate deliveries by it.
    pub id: String,
    /// The event type as Stripe names it (`invoice.paid`).
    pub event_type: String,
    /// When it happened.
    pub created: SystemTime,
    /// Live mode (`true`) or test mode.
    pub livemode: bool,
    /// The connected account it happened on, if any.
    pub account: Option<String>,
    /// The kind of object it carries (`invoice`, `customer`, …).
    pub object_kind: Option<String>,
    /// The id of that object (`in_…`, `cus_…`).
    pub object_id: Option<String>,
    /// For invoice events: the invoice's amounts.
    pub invoice_amounts: Option<InvoiceAmounts>,
}

impl WebhookEvent {
    fn from_core(event: &Event) -> Result<WebhookEvent, BillbridgeError> {
        let object = &event.data.object;
        let amounts = object.invoice_amounts()?.map(|amounts| InvoiceAmounts {
            total: amounts.total.into(),
            amount_due: amounts.amount_due.into(),
            amount_paid: amounts.amount_paid.into(),
            amount_remaining: amounts.amount_remaining.into(),
        });
        Ok(WebhookEvent {
            id: event.id.clone(),
            event_type: event.event_type.as_str().to_owned(),
            created: instant(event.created),
            livemode: event.livemode,
            account: event.account.clone(),
            object_kind: object.kind(),
            object_id: object.id(),
            invoice_amounts: amounts,
        })
    }
}

/// Verifies a webhook delivery — `body` exactly as received and its `Stripe-Signature`
/// header — against the endpoint's signing secret (`whsec_…`), then reads the event.
/// `toleranceSeconds` defaults to Stripe's 300 and `now` to the device clock (give a
/// mock delivery's `signedAt` when the mock signs at its own clock).
///
/// # Errors
/// `Signature` (`missing_signature_header`, `malformed_signature_header`,
/// `no_v1_signature`, `signature_mismatch`, `timestamp_out_of_tolerance`);
/// `Validation` for a secret that is not `whsec_…` or a body that is not an event.
#[uniffi::export(default(tolerance_seconds = None, now = None))]
pub fn construct_webhook_event(
    body: Vec<u8>,
    signature_header: Option<String>,
    secret: String,
    tolerance_seconds: Option<u32>,
    now: Option<SystemTime>,
) -> Result<WebhookEvent, BillbridgeError> {
    guard(|| {
        let secret = WebhookSecret::new(secret)?;
        let options = VerifyOptions {
            tolerance: tolerance_seconds.map(|seconds| Duration::from_secs(u64::from(seconds))),
            now: now.map(unix_seconds),
        };
        let event = construct_event_with(&body, signature_header.as_deref(), &secret, options)?;
        WebhookEvent::from_core(&event)
    })
}

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum WebhookDisposition {
    /// Applied (its changes, possibly none, are listed).
    Applied,
    /// Already handled: a repeated delivery, nothing done.
    Duplicate,
    /// Acknowledged and ignored (a type billbridge does not follow, an object it does
    /// not know).
    Ignored,
}

/// A change the app may want to act on (refresh a screen, tell the front desk).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum WebhookChange {
    /// The invoice moved to another status.
    InvoiceStatusChanged {
        /// The app's id of the invoice.
        host_invoice_id: String,
        /// The status before.
        from: InvoiceStatus,
        /// The status now.
        to: InvoiceStatus,
    },
    /// The invoice is now paid.
    InvoicePaid {
        /// The app's id of the invoice.
        host_invoice_id: String,
        /// What was paid.
        amount_paid: Money,
    },
    /// Amounts changed without a status change (a partial payment).
    InvoiceAmountsChanged {
        /// The app's id of the invoice.
        host_invoice_id: String,
        /// What the invoice asks.
        amount_due: Money,
        /// What was paid so far.
        amount_paid: Money,
        /// What is left.
        amount_remaining: Money,
    },
    /// Stripe sent a status this version does not know; the record keeps its last
    /// known status.
    InvoiceStatusUnrecognised {
        /// The app's id of the invoice.
        host_invoice_id: String,
        /// The status kept.
        status: InvoiceStatus,
        /// Stripe's value.
        stripe_status: String,
    },
    /// The invoice's draft was deleted in Stripe.
    InvoiceDeleted {
        /// The app's id of the invoice.
        host_invoice_id: String,
    },
    /// A linked customer was changed in Stripe (in the dashboard, say).
    CustomerUpdated {
        /// Patient or organisation.
        party_kind: PartyKind,
        /// The host's id of the party.
        host_party_id: String,
        /// Stripe's customer id.
        stripe_customer_id: String,
    },
}

impl From<CoreChange> for WebhookChange {
    fn from(change: CoreChange) -> Self {
        match change {
            CoreChange::InvoiceStatusChanged {
                host_invoice_id,
                from,
                to,
            } => WebhookChange::InvoiceStatusChanged {
                host_invoice_id,
                from: InvoiceStatus::from(&from),
                to: InvoiceStatus::from(&to),
            },
            CoreChange::InvoicePaid {
                host_invoice_id,
                amount_paid,
            } => WebhookChange::InvoicePaid {
                host_invoice_id,
                amount_paid: amount_paid.into(),
            },
            CoreChange::InvoiceAmountsChanged {
                host_invoice_id,
                amount_due,
                amount_paid,
                amount_remaining,
            } => WebhookChange::InvoiceAmountsChanged {
                host_invoice_id,
                amount_due: amount_due.into(),
                amount_paid: amount_paid.into(),
                amount_remaining: amount_remaining.into(),
            },
            CoreChange::InvoiceStatusUnrecognised {
                host_invoice_id,
                status,
                stripe_status,
            } => WebhookChange::InvoiceStatusUnrecognised {
                host_invoice_id,
                status: InvoiceStatus::from(&status),
                stripe_status,
            },
            CoreChange::InvoiceDeleted { host_invoice_id } => {
                WebhookChange::InvoiceDeleted { host_invoice_id }
            }
            CoreChange::CustomerUpdated {
                party_kind,
                host_party_id,
                stripe_customer_id,
            } => WebhookChange::CustomerUpdated {
                party_kind: party_kind.into(),
                host_party_id,
                stripe_customer_id,
            },
        }
    }
}

/// What a bridge made of one delivery. Answer Stripe 2xx whenever it is returned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookOutcome {
    /// The event id (`evt_…`).
    pub event_id: String,
    /// The event type (`invoice.paid`).
    pub event_type: String,
    /// Applied, duplicate or ignored.
    pub disposition: WebhookDisposition,
    /// What changed for the app.
    pub changes: Vec<WebhookChange>,
}

impl From<CoreOutcome> for WebhookOutcome {
    fn from(outcome: CoreOutcome) -> Self {
        WebhookOutcome {
            event_id: outcome.event_id,
            event_type: outcome.event_type,
            disposition: match outcome.disposition {
                CoreDisposition::Applied => WebhookDisposition::Applied,
                CoreDisposition::Duplicate => WebhookDisposition::Duplicate,
                CoreDisposition::Ignored => WebhookDisposition::Ignored,
            },
            changes: outcome.changes.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use billbridge::stripe::webhook::sign;

    const BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"customer.created","created":1780000000,"livemode":false,"api_version":null,"data":{"object":{"id":"cus_1","object":"customer","balance":0,"created":1780000000,"livemode":false,"metadata":{}}}}"#;

    #[test]
    fn a_signed_delivery_verifies_and_a_forged_one_is_a_signature_error() {
        let secret = "whsec_test_secret";
        let signed_at = 1_780_000_000;
        let header = sign(&WebhookSecret::new(secret).unwrap(), signed_at, BODY);
        let event = construct_webhook_event(
            BODY.to_vec(),
            Some(header.clone()),
            secret.into(),
            None,
            Some(instant(signed_at + 10)),
        )
        .unwrap();
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.object_id.as_deref(), Some("cus_1"));

        let forged = construct_webhook_event(
            b"{}".to_vec(),
            Some(header),
            secret.into(),
            None,
            Some(instant(signed_at)),
        );
        assert!(matches!(forged, Err(BillbridgeError::Signature { .. })));
    }
}

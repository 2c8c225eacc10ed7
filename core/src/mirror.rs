//! The host's mirror of each invoice, in one home: the public [`InvoiceRecord`] (typed
//! money, currency and dates), its store row ([`InvoiceMirror`], Stripe's minor units,
//! private to the store), building a row from a Stripe [`Invoice`], the two named merge
//! policies ([`MergePolicy::Monotonic`] for webhooks, [`MergePolicy::Authoritative`] for
//! re-sync and Stripe-backed reports), recovering the host's ids from an invoice's
//! metadata ([`HostIdKeys`]), and the codec of a payment made outside Stripe that
//! billbridge keeps on the invoice's metadata ([`PaidOutside`]).
//!
//! Stripe owns an invoice's status, number, amounts, balances, links, due date, payment
//! time and metadata; the host owns its ids, the payer and patient, and any payment
//! made outside Stripe (with the day the host says it was received). Every place that
//! turns Stripe's invoice into the host's copy (actions, webhooks, re-sync, reports)
//! goes through this module, so they cannot disagree.
//!
//! An invoice status this version of billbridge does not know never replaces a known
//! one: the mirror keeps the last known status and records Stripe's raw value in
//! [`InvoiceRecord::unrecognised_status`] until Stripe sends a known status again.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::date::Date;
use crate::domain::ledger::PaymentMethod;
use crate::domain::metadata::{Field, MetadataMap, MetadataPolicy, MetadataTarget};
use crate::domain::money::{Currency, Money, MoneyError};
use crate::domain::party::{OrganisationId, PartyError, PatientId, PayerRef};
use crate::domain::status::InvoiceStatus;
use crate::redact::redacted;
use crate::store::{CustomerLink, InvoiceMirror, OutsidePayment, PartyKind, StoreError};
use crate::stripe::models::Invoice;

/// Metadata key recording on the Stripe invoice how it was paid outside Stripe.
pub const PAID_OUTSIDE_METHOD_KEY: &str = "paid_outside_method";
/// Metadata key of the host's reference of a payment outside Stripe.
pub const PAID_OUTSIDE_REFERENCE_KEY: &str = "paid_outside_reference";
/// Metadata key of the day (`YYYY-MM-DD`) a payment outside Stripe was received.
pub const PAID_OUTSIDE_ON_KEY: &str = "paid_outside_on";

/// A payment received outside Stripe (cash, cheque, bank transfer, insurance, …), as
/// [`crate::sync::Billbridge::mark_paid_outside_stripe`] takes it and as an
/// [`InvoiceRecord`] reports it. Kept on the Stripe invoice's metadata under
/// [`PAID_OUTSIDE_METHOD_KEY`], [`PAID_OUTSIDE_REFERENCE_KEY`] and
/// [`PAID_OUTSIDE_ON_KEY`], so that a host that lost its store can read it back.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PaidOutside {
    /// How it was paid.
    pub method: PaymentMethod,
    /// The host's reference for the payment (receipt, cheque number, remittance id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The day it was received. `None` only for records written before billbridge kept
    /// the day, or read back from an invoice whose metadata does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_on: Option<Date>,
}

impl fmt::Debug for PaidOutside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A reference can be a bank reference or a claim number: presence only.
        let PaidOutside {
            method,
            reference,
            paid_on,
        } = self;
        f.debug_struct("PaidOutside")
            .field("method", method)
            .field("reference", &redacted(reference))
            .field("paid_on", paid_on)
            .finish()
    }
}

impl PaidOutside {
    /// A payment by `method`, with no reference or date yet.
    pub fn new(method: PaymentMethod) -> Self {
        PaidOutside {
            method,
            reference: None,
            paid_on: None,
        }
    }

    /// Sets the host's reference for the payment.
    #[must_use]
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Sets the day it was received.
    #[must_use]
    pub fn on(mut self, date: Date) -> Self {
        self.paid_on = Some(date);
        self
    }

    /// The metadata entries that record this payment on the Stripe invoice. Only a day
    /// the host gave is written: a defaulted day would change the update's content
    /// between a call and its retry on another day, under the same idempotency key.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let mut entries = vec![(
            PAID_OUTSIDE_METHOD_KEY.to_owned(),
            self.method.as_str().to_owned(),
        )];
        if let Some(reference) = &self.reference {
            entries.push((PAID_OUTSIDE_REFERENCE_KEY.to_owned(), reference.clone()));
        }
        if let Some(day) = self.paid_on {
            entries.push((PAID_OUTSIDE_ON_KEY.to_owned(), day.to_string()));
        }
        entries
    }

    /// The payment recorded on an invoice's metadata by [`PaidOutside::to_metadata`],
    /// if any. A day that does not parse is left out rather than failing the read.
    pub fn from_metadata(metadata: &MetadataMap) -> Option<PaidOutside> {
        let method = metadata_value(metadata, Some(PAID_OUTSIDE_METHOD_KEY))?;
        Some(PaidOutside {
            method: PaymentMethod::from(method),
            reference: metadata_value(metadata, Some(PAID_OUTSIDE_REFERENCE_KEY))
                .map(str::to_owned),
            paid_on: metadata_value(metadata, Some(PAID_OUTSIDE_ON_KEY))
                .and_then(|day| Date::parse(day).ok()),
        })
    }

    pub(crate) fn from_stored(stored: &OutsidePayment) -> PaidOutside {
        PaidOutside {
            method: PaymentMethod::from(stored.method.as_str()),
            reference: stored.reference.clone(),
            paid_on: stored.paid_on,
        }
    }

    pub(crate) fn to_stored(&self) -> OutsidePayment {
        OutsidePayment {
            method: self.method.as_str().to_owned(),
            reference: self.reference.clone(),
            paid_on: self.paid_on,
        }
    }
}

/// The invoice metadata keys under which the host's ids are read back from a Stripe
/// invoice billbridge has no record of. `None` means the policy sends no such key.
///
/// [`Default`] holds the preset keys (`host_invoice_id`, `host_payer_id`,
/// `host_patient_id`); a practice that renamed them builds the keys from its policy with
/// [`HostIdKeys::from_policy`] (the bridge does so itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIdKeys {
    /// Key of [`Field::HostInvoiceId`] on the invoice.
    pub invoice: Option<String>,
    /// Key of [`Field::HostPayerId`] on the invoice.
    pub payer: Option<String>,
    /// Key of [`Field::HostPatientId`] on the invoice.
    pub patient: Option<String>,
}

impl HostIdKeys {
    /// The invoice keys `policy` writes the host ids under.
    pub fn from_policy(policy: &MetadataPolicy) -> Self {
        let key = |field| {
            policy
                .key_for(field, MetadataTarget::Invoice)
                .map(str::to_owned)
        };
        HostIdKeys {
            invoice: key(Field::HostInvoiceId),
            payer: key(Field::HostPayerId),
            patient: key(Field::HostPatientId),
        }
    }

    /// The host invoice id the invoice's metadata names, if any.
    pub fn host_invoice_id<'i>(&self, invoice: &'i Invoice) -> Option<&'i str> {
        metadata_value(&invoice.metadata, self.invoice.as_deref())
    }
}

impl Default for HostIdKeys {
    /// The keys of the default policy, which are the preset keys of every built-in
    /// policy.
    fn default() -> Self {
        HostIdKeys::from_policy(&MetadataPolicy::default())
    }
}

impl From<&MetadataPolicy> for HostIdKeys {
    fn from(policy: &MetadataPolicy) -> Self {
        HostIdKeys::from_policy(policy)
    }
}

/// The value under `key` in `metadata`, when the key is set and the value not empty.
fn metadata_value<'m>(metadata: &'m MetadataMap, key: Option<&str>) -> Option<&'m str> {
    key.and_then(|key| metadata.get(key))
        .filter(|value| !value.is_empty())
}

/// What the host knows of an invoice and Stripe does not: who pays, for which patient,
/// and how it was paid outside Stripe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostFacts {
    pub(crate) payer_kind: PartyKind,
    pub(crate) payer_host_id: String,
    pub(crate) patient_host_id: Option<String>,
    pub(crate) paid_outside: Option<OutsidePayment>,
}

impl HostFacts {
    /// The facts a stored row already holds.
    pub(crate) fn of(row: &InvoiceMirror) -> Self {
        HostFacts {
            payer_kind: row.payer_kind,
            payer_host_id: row.payer_host_id.clone(),
            patient_host_id: row.patient_host_id.clone(),
            paid_outside: row.paid_outside.clone(),
        }
    }

    /// The facts of an invoice billbridge has no row for, recovered by one rule:
    /// the payer is the host party linked to the invoice's customer when the store
    /// links one (`customer`); otherwise the payer id under the policy's key, an
    /// organisation when it differs from the patient id written beside it, a patient
    /// when it is the same or no patient is named; failing both, the Stripe customer
    /// id stands in as a patient's. The patient and a payment outside Stripe are read
    /// from the metadata.
    pub(crate) fn recover(
        invoice: &Invoice,
        keys: &HostIdKeys,
        customer: Option<&CustomerLink>,
    ) -> Self {
        let metadata = &invoice.metadata;
        let patient_host_id = metadata_value(metadata, keys.patient.as_deref()).map(str::to_owned);
        let (payer_kind, payer_host_id) = match customer {
            Some(link) => (link.party_kind, link.host_party_id.clone()),
            None => match metadata_value(metadata, keys.payer.as_deref()) {
                Some(payer) if patient_host_id.as_deref().is_some_and(|p| p != payer) => {
                    (PartyKind::Organisation, payer.to_owned())
                }
                Some(payer) => (PartyKind::Patient, payer.to_owned()),
                None => (PartyKind::Patient, customer_id(invoice)),
            },
        };
        HostFacts {
            payer_kind,
            payer_host_id,
            patient_host_id,
            paid_outside: PaidOutside::from_metadata(metadata).map(|paid| paid.to_stored()),
        }
    }
}

fn customer_id(invoice: &Invoice) -> String {
    invoice
        .customer
        .as_ref()
        .map(|customer| customer.id().to_owned())
        .unwrap_or_default()
}

/// The latest time Stripe reports for the invoice: its creation or its last status
/// transition, so that a newer snapshot orders after an older one.
pub(crate) fn latest_stripe_time(invoice: &Invoice) -> i64 {
    let transitions = &invoice.status_transitions;
    [
        transitions.finalized_at,
        transitions.marked_uncollectible_at,
        transitions.paid_at,
        transitions.voided_at,
    ]
    .into_iter()
    .flatten()
    .fold(invoice.created, i64::max)
}

/// The row Stripe's `invoice` describes for `host_invoice_id`, current at
/// `observed_at`, with the host's `facts`. A status this version does not know is kept
/// as [`InvoiceStatus::Unknown`] here; the merge decides what the row keeps.
pub(crate) fn row_from_stripe(
    account: Option<&str>,
    host_invoice_id: &str,
    invoice: &Invoice,
    observed_at: i64,
    facts: &HostFacts,
) -> InvoiceMirror {
    let status = invoice
        .status
        .clone()
        .unwrap_or_else(|| InvoiceStatus::Unknown(String::new()));
    let unrecognised_status = match &status {
        InvoiceStatus::Unknown(raw) => Some(raw.clone()),
        _ => None,
    };
    InvoiceMirror {
        account: account.filter(|id| !id.is_empty()).map(str::to_owned),
        host_invoice_id: host_invoice_id.to_owned(),
        stripe_invoice_id: invoice.id.clone(),
        stripe_customer_id: customer_id(invoice),
        status,
        unrecognised_status,
        number: invoice.number.clone(),
        currency: invoice.currency.clone(),
        subtotal: invoice.subtotal,
        total: invoice.total,
        amount_due: invoice.amount_due,
        amount_paid: invoice.amount_paid,
        amount_remaining: invoice.amount_remaining,
        starting_balance: invoice.starting_balance,
        ending_balance: invoice.ending_balance,
        hosted_invoice_url: invoice.hosted_invoice_url.clone(),
        invoice_pdf: invoice.invoice_pdf.clone(),
        due_date: invoice.due_date,
        created: invoice.created,
        metadata: invoice.metadata.clone(),
        paid_at: invoice.status_transitions.paid_at,
        paid_outside: facts.paid_outside.clone(),
        stripe_updated_at: observed_at,
        payer_kind: facts.payer_kind,
        payer_host_id: facts.payer_host_id.clone(),
        patient_host_id: facts.patient_host_id.clone(),
    }
}

/// How a fresh Stripe snapshot of an invoice is folded into the row the host holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MergePolicy {
    /// For webhook deliveries, which arrive late, twice and in any order: a status only
    /// moves forward ([`InvoiceStatus::may_move_to`]), so a late `invoice.finalized`
    /// never reopens a paid invoice; with the same status an older snapshot never
    /// replaces a newer one; a status this version does not know only records Stripe's
    /// raw value.
    Monotonic,
    /// For re-sync and Stripe-backed reports, where the snapshot is Stripe's answer
    /// now: the row says what Stripe says, except that a status this version does not
    /// know never replaces the last known one (its raw value is recorded).
    Authoritative,
}

/// What to store when Stripe's `invoice` arrives for the row `current` of
/// `host_invoice_id` in `account` (`current` is `None` when the host has no row yet,
/// and then `facts` says who pays). Returns `None` to keep `current` as it is.
///
/// Under either policy a snapshot of another Stripe invoice than the mirrored one (an
/// older draft that a new revision replaced) is ignored, and nothing revives a deleted
/// draft (a new raise replaces the row instead).
pub(crate) fn merge(
    account: Option<&str>,
    current: Option<&InvoiceMirror>,
    facts: Option<&HostFacts>,
    host_invoice_id: &str,
    invoice: &Invoice,
    observed_at: i64,
    policy: MergePolicy,
) -> Option<InvoiceMirror> {
    let Some(current) = current else {
        return facts
            .map(|facts| row_from_stripe(account, host_invoice_id, invoice, observed_at, facts));
    };
    if invoice.id != current.stripe_invoice_id || current.status == InvoiceStatus::Deleted {
        return None;
    }
    let snapshot = row_from_stripe(
        account,
        host_invoice_id,
        invoice,
        observed_at.max(match policy {
            MergePolicy::Monotonic => i64::MIN,
            MergePolicy::Authoritative => current.stripe_updated_at,
        }),
        &HostFacts::of(current),
    );
    if let InvoiceStatus::Unknown(raw) = &snapshot.status
        && !matches!(current.status, InvoiceStatus::Unknown(_))
    {
        // Never erase a known status: keep it, and record what Stripe said.
        let raw = raw.clone();
        return match policy {
            MergePolicy::Monotonic => {
                if snapshot.stripe_updated_at < current.stripe_updated_at
                    || current.unrecognised_status.as_ref() == Some(&raw)
                {
                    return None;
                }
                Some(InvoiceMirror {
                    unrecognised_status: Some(raw),
                    stripe_updated_at: snapshot.stripe_updated_at,
                    ..current.clone()
                })
            }
            MergePolicy::Authoritative => Some(InvoiceMirror {
                status: current.status.clone(),
                ..snapshot
            }),
        };
    }
    match policy {
        MergePolicy::Authoritative => Some(snapshot),
        MergePolicy::Monotonic => {
            if current.status == snapshot.status {
                if snapshot.stripe_updated_at < current.stripe_updated_at {
                    return None;
                }
            } else if !current.status.may_move_to(&snapshot.status) {
                return None;
            }
            let stripe_updated_at = snapshot.stripe_updated_at.max(current.stripe_updated_at);
            Some(InvoiceMirror {
                stripe_updated_at,
                ..snapshot
            })
        }
    }
}

/// `current` with its draft recorded as deleted at `at`, when it mirrors the Stripe
/// invoice `stripe_invoice_id` and is not deleted already; `None` to keep it.
pub(crate) fn mark_deleted(
    current: &InvoiceMirror,
    stripe_invoice_id: &str,
    at: i64,
) -> Option<InvoiceMirror> {
    (current.stripe_invoice_id == stripe_invoice_id && current.status != InvoiceStatus::Deleted)
        .then(|| InvoiceMirror {
            status: InvoiceStatus::Deleted,
            unrecognised_status: None,
            stripe_updated_at: at.max(current.stripe_updated_at),
            ..current.clone()
        })
}

/// An invoice as the host sees it: the Stripe invoice's number, status, amounts, links
/// and metadata, with the host's ids, payer and patient, and any payment made outside
/// Stripe. Kept current by every action, webhook and re-sync; returned by every
/// workflow and report. Offline invoices ([`crate::offline`]) are reported in the same
/// shape.
///
/// Amounts are [`Money`] in the invoice's [`Currency`] (for ISK and UGX, whole krónur
/// and shillings, not Stripe's ×100 wire amounts).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    /// The Stripe account the invoice lives in; `None` for the platform account.
    pub account: Option<String>,
    /// The host's id of the invoice.
    pub host_invoice_id: String,
    /// Stripe's invoice id (`in_…`; `offline:<host id>` for offline invoices).
    pub stripe_invoice_id: String,
    /// Stripe's id of the customer billed (`cus_…`).
    pub stripe_customer_id: String,
    /// The last known status. [`InvoiceStatus::Deleted`] for a deleted draft;
    /// [`InvoiceStatus::Unknown`] only when Stripe never sent a known one.
    pub status: InvoiceStatus,
    /// A status Stripe sent that this version of billbridge does not know, as Stripe
    /// spelled it; `None` when Stripe's latest status is a known one. The host may want
    /// to re-sync or upgrade when this is set.
    pub unrecognised_status: Option<String>,
    /// The invoice number, assigned by Stripe at finalization.
    pub number: Option<String>,
    /// The invoice's currency.
    pub currency: Currency,
    /// Sum of the lines before discounts and taxes.
    pub subtotal: Money,
    /// Total after discounts and taxes.
    pub total: Money,
    /// What the payer is asked to pay after the customer balance is applied.
    pub amount_due: Money,
    /// What has been paid so far.
    pub amount_paid: Money,
    /// `amount_due − amount_paid`.
    pub amount_remaining: Money,
    /// The payer's customer balance when the invoice was finalized (negative: credit).
    pub starting_balance: Money,
    /// The payer's balance after finalization; `None` on drafts.
    pub ending_balance: Option<Money>,
    /// The hosted payment page, once finalized.
    pub hosted_invoice_url: Option<String>,
    /// The PDF download link, once finalized.
    pub invoice_pdf: Option<String>,
    /// The UTC day payment is due, for invoices sent for payment.
    pub due_on: Option<Date>,
    /// When Stripe created the invoice (unix seconds).
    pub created: i64,
    /// The invoice's metadata as Stripe holds it.
    pub metadata: MetadataMap,
    /// When the invoice became paid (unix seconds): Stripe's `status_transitions.paid_at`,
    /// or for offline invoices midnight UTC of the day of the payment that settled it.
    pub paid_at: Option<i64>,
    /// Set when the invoice was marked paid outside Stripe.
    pub paid_outside: Option<PaidOutside>,
    /// When the state held here was current at Stripe (unix seconds).
    pub updated_at: i64,
    /// Who pays.
    pub payer: PayerRef,
    /// The patient the invoice is for, when it is for one.
    pub patient: Option<PatientId>,
}

impl fmt::Debug for InvoiceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let InvoiceRecord {
            account,
            host_invoice_id,
            stripe_invoice_id,
            stripe_customer_id,
            status,
            unrecognised_status,
            number,
            currency,
            subtotal,
            total,
            amount_due,
            amount_paid,
            amount_remaining,
            starting_balance,
            ending_balance,
            hosted_invoice_url,
            invoice_pdf,
            due_on,
            created,
            metadata,
            paid_at,
            paid_outside,
            updated_at,
            payer,
            patient,
        } = self;
        f.debug_struct("InvoiceRecord")
            .field("account", account)
            .field("host_invoice_id", host_invoice_id)
            .field("stripe_invoice_id", stripe_invoice_id)
            .field("stripe_customer_id", stripe_customer_id)
            .field("status", status)
            .field("unrecognised_status", unrecognised_status)
            .field("number", number)
            .field("currency", currency)
            .field("subtotal", subtotal)
            .field("total", total)
            .field("amount_due", amount_due)
            .field("amount_paid", amount_paid)
            .field("amount_remaining", amount_remaining)
            .field("starting_balance", starting_balance)
            .field("ending_balance", ending_balance)
            // Hosted invoice pages and PDF links open the invoice, payer name included,
            // to whoever holds them.
            .field("hosted_invoice_url", &redacted(hosted_invoice_url))
            .field("invoice_pdf", &redacted(invoice_pdf))
            .field("due_on", due_on)
            .field("created", created)
            .field("metadata", metadata)
            .field("paid_at", paid_at)
            .field("paid_outside", paid_outside)
            .field("updated_at", updated_at)
            .field("payer", payer)
            .field("patient", patient)
            .finish()
    }
}

impl InvoiceRecord {
    /// The remainder below Stripe's minimum charge that finalizing this invoice moved to
    /// the payer's balance as a debit (Stripe then shows it paid, with nothing due and
    /// nothing paid): owed on the next invoice, never received. Zero for every other
    /// invoice. Recomputed from the total and the starting balance by Stripe's rule
    /// ([`crate::domain::balance::apply_balance`]).
    pub fn carried_to_balance(&self) -> Money {
        let zero = Money::zero(self.currency);
        let settled_without_payment = self.status == InvoiceStatus::Paid
            && self.ending_balance.is_some()
            && self.amount_due.is_zero()
            && self.amount_paid.is_zero();
        if !settled_without_payment {
            return zero;
        }
        crate::domain::balance::apply_balance(self.total, self.starting_balance)
            .map_or(zero, |application| application.deferred_to_balance())
    }

    /// The record a store row describes.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the row holds a currency billbridge does not know,
    /// an ISK or UGX amount that is not whole, a due date outside the calendar, or a
    /// host id that is not one.
    pub fn from_row(row: &InvoiceMirror) -> Result<InvoiceRecord, StoreError> {
        let corrupt = |field: &'static str, source: Box<dyn std::error::Error + Send + Sync>| {
            StoreError::Corrupt {
                table: "invoice_mirrors",
                field,
                key: row.host_invoice_id.clone(),
                source: Some(source),
            }
        };
        let currency =
            Currency::new(&row.currency).map_err(|error| corrupt("currency", error.into()))?;
        let money = |field: &'static str, amount: i64| {
            Money::from_stripe_amount(amount, currency)
                .map_err(|error: MoneyError| corrupt(field, error.into()))
        };
        let due_on = row
            .due_date
            .map(Date::from_unix_timestamp)
            .transpose()
            .map_err(|error| corrupt("due_date", error.into()))?;
        let payer = match row.payer_kind {
            PartyKind::Patient => PatientId::new(&row.payer_host_id).map(PayerRef::Patient),
            PartyKind::Organisation => {
                OrganisationId::new(&row.payer_host_id).map(PayerRef::Organisation)
            }
        }
        .map_err(|error: PartyError| corrupt("payer_host_id", error.into()))?;
        let patient = row
            .patient_host_id
            .as_deref()
            .map(PatientId::new)
            .transpose()
            .map_err(|error| corrupt("patient_host_id", error.into()))?;
        Ok(InvoiceRecord {
            account: row.account.clone(),
            host_invoice_id: row.host_invoice_id.clone(),
            stripe_invoice_id: row.stripe_invoice_id.clone(),
            stripe_customer_id: row.stripe_customer_id.clone(),
            status: row.status.clone(),
            unrecognised_status: row.unrecognised_status.clone(),
            number: row.number.clone(),
            currency,
            subtotal: money("subtotal", row.subtotal)?,
            total: money("total", row.total)?,
            amount_due: money("amount_due", row.amount_due)?,
            amount_paid: money("amount_paid", row.amount_paid)?,
            amount_remaining: money("amount_remaining", row.amount_remaining)?,
            starting_balance: money("starting_balance", row.starting_balance)?,
            ending_balance: row
                .ending_balance
                .map(|amount| money("ending_balance", amount))
                .transpose()?,
            hosted_invoice_url: row.hosted_invoice_url.clone(),
            invoice_pdf: row.invoice_pdf.clone(),
            due_on,
            created: row.created,
            metadata: row.metadata.clone(),
            paid_at: row.paid_at,
            paid_outside: row.paid_outside.as_ref().map(PaidOutside::from_stored),
            updated_at: row.stripe_updated_at,
            payer,
            patient,
        })
    }

    /// Whether the payer still owes money on it: open or uncollectible.
    pub fn is_outstanding(&self) -> bool {
        self.status.is_outstanding()
    }
}

impl TryFrom<&InvoiceMirror> for InvoiceRecord {
    type Error = StoreError;

    fn try_from(row: &InvoiceMirror) -> Result<Self, Self::Error> {
        InvoiceRecord::from_row(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(status: &str, amount_paid: i64, metadata: &str) -> Invoice {
        serde_json::from_str(&format!(
            r#"{{"id":"in_1","object":"invoice","customer":"cus_1","currency":"gbp",
            "collection_method":"send_invoice",
            "status":"{status}","subtotal":5000,"total":5000,"amount_due":5000,
            "amount_paid":{amount_paid},"amount_remaining":{remaining},"created":100,
            "metadata":{metadata},"status_transitions":{{}}}}"#,
            remaining = 5000 - amount_paid
        ))
        .unwrap_or_else(|error| panic!("{error}"))
    }

    fn facts() -> HostFacts {
        HostFacts {
            payer_kind: PartyKind::Patient,
            payer_host_id: "P-1".to_owned(),
            patient_host_id: Some("P-1".to_owned()),
            paid_outside: None,
        }
    }

    fn absorb(
        current: Option<&InvoiceMirror>,
        invoice: &Invoice,
        at: i64,
        policy: MergePolicy,
    ) -> Option<InvoiceMirror> {
        merge(None, current, Some(&facts()), "INV-1", invoice, at, policy)
    }

    #[test]
    fn a_status_never_moves_backwards_under_webhooks_but_follows_stripe_on_resync() {
        let paid = absorb(
            None,
            &invoice("paid", 5000, "{}"),
            200,
            MergePolicy::Monotonic,
        )
        .unwrap_or_else(|| panic!("a first snapshot makes a row"));
        let late_open = invoice("open", 0, "{}");
        assert_eq!(
            absorb(Some(&paid), &late_open, 300, MergePolicy::Monotonic),
            None
        );
        let resynced = absorb(Some(&paid), &late_open, 300, MergePolicy::Authoritative)
            .unwrap_or_else(|| panic!("re-sync takes Stripe's answer"));
        assert_eq!(resynced.status, InvoiceStatus::Open);
    }

    #[test]
    fn an_unknown_status_keeps_the_known_one_and_records_stripes_value() {
        let open = absorb(None, &invoice("open", 0, "{}"), 200, MergePolicy::Monotonic)
            .unwrap_or_else(|| panic!("a first snapshot makes a row"));
        for policy in [MergePolicy::Monotonic, MergePolicy::Authoritative] {
            let held = absorb(Some(&open), &invoice("in_review", 0, "{}"), 300, policy)
                .unwrap_or_else(|| panic!("the raw value is recorded"));
            assert_eq!(held.status, InvoiceStatus::Open, "{policy:?}");
            assert_eq!(held.unrecognised_status.as_deref(), Some("in_review"));
            // A known status later clears it, and still may only move forward.
            let paid = absorb(Some(&held), &invoice("paid", 5000, "{}"), 400, policy)
                .unwrap_or_else(|| panic!("a known status moves on"));
            assert_eq!(paid.status, InvoiceStatus::Paid);
            assert_eq!(paid.unrecognised_status, None);
        }
        // An unknown status never erases a final one either.
        let paid = absorb(
            None,
            &invoice("paid", 5000, "{}"),
            200,
            MergePolicy::Monotonic,
        )
        .unwrap_or_else(|| panic!("a first snapshot makes a row"));
        let held = absorb(
            Some(&paid),
            &invoice("in_review", 0, "{}"),
            300,
            MergePolicy::Monotonic,
        )
        .unwrap_or_else(|| panic!("the raw value is recorded"));
        assert_eq!((held.status, held.amount_paid), (InvoiceStatus::Paid, 5000));
    }

    #[test]
    fn nothing_revives_a_deleted_draft() {
        let draft = absorb(
            None,
            &invoice("draft", 0, "{}"),
            200,
            MergePolicy::Monotonic,
        )
        .unwrap_or_else(|| panic!("a first snapshot makes a row"));
        let deleted = mark_deleted(&draft, "in_1", 250).unwrap_or_else(|| panic!("deleted"));
        assert_eq!(deleted.status, InvoiceStatus::Deleted);
        assert_eq!(mark_deleted(&deleted, "in_1", 260), None);
        for policy in [MergePolicy::Monotonic, MergePolicy::Authoritative] {
            assert_eq!(
                absorb(Some(&deleted), &invoice("open", 0, "{}"), 300, policy),
                None
            );
        }
    }

    #[test]
    fn host_facts_of_an_unknown_invoice_come_from_the_linked_customer_first() {
        let keys = HostIdKeys::default();
        let organisation = invoice(
            "open",
            0,
            r#"{"host_payer_id":"ORG-1","host_patient_id":"P-1","host_invoice_id":"INV-9"}"#,
        );
        let guessed = HostFacts::recover(&organisation, &keys, None);
        assert_eq!(
            (guessed.payer_kind, guessed.payer_host_id.as_str()),
            (PartyKind::Organisation, "ORG-1")
        );
        let link = CustomerLink {
            account: None,
            party_kind: PartyKind::Patient,
            host_party_id: "P-7".to_owned(),
            stripe_customer_id: "cus_1".to_owned(),
            metadata_sent: MetadataMap::new(),
        };
        let linked = HostFacts::recover(&organisation, &keys, Some(&link));
        assert_eq!(
            (linked.payer_kind, linked.payer_host_id.as_str()),
            (PartyKind::Patient, "P-7")
        );
        assert_eq!(keys.host_invoice_id(&organisation), Some("INV-9"));
        let bare = HostFacts::recover(&invoice("open", 0, "{}"), &keys, None);
        assert_eq!(
            (bare.payer_kind, bare.payer_host_id.as_str()),
            (PartyKind::Patient, "cus_1")
        );
    }

    #[test]
    fn paid_outside_round_trips_through_invoice_metadata() {
        let payment = PaidOutside::new(PaymentMethod::BankTransfer)
            .reference("BACS-1")
            .on(Date::parse("2026-11-21").unwrap_or_else(|error| panic!("{error}")));
        let mut metadata = MetadataMap::new();
        for (key, value) in payment.to_metadata() {
            metadata.insert(key, value);
        }
        assert_eq!(PaidOutside::from_metadata(&metadata), Some(payment.clone()));
        assert!(!format!("{payment:?}").contains("BACS-1"));
        let undated = PaidOutside::new(PaymentMethod::Cash);
        assert_eq!(undated.to_metadata().len(), 1, "no day invented");
    }

    #[test]
    fn a_record_carries_money_in_whole_units_for_isk() {
        let mut row = absorb(None, &invoice("open", 0, "{}"), 200, MergePolicy::Monotonic)
            .unwrap_or_else(|| panic!("a first snapshot makes a row"));
        row.currency = "isk".to_owned();
        let record = InvoiceRecord::from_row(&row).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            record.total,
            Money::new(50, Currency::new("isk").unwrap_or_else(|e| panic!("{e}")))
        );
        row.total = 5001;
        assert!(matches!(
            InvoiceRecord::from_row(&row),
            Err(StoreError::Corrupt { field: "total", .. })
        ));
    }
}

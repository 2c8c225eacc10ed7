//! What billbridge returns: the app's record of an invoice ([`InvoiceRecord`]: status,
//! amounts, remaining balance, payment page and PDF links), a customer after an upsert,
//! a balance adjustment, the preview of a next invoice, a payer's portal view, payment
//! rows, and the words they use (statuses, payment methods). Converted from the core's
//! records field by field; amounts stay [`Money`].

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use billbridge::domain::ledger::PaymentMethod as CorePaymentMethod;
use billbridge::domain::status::InvoiceStatus as CoreStatus;
use billbridge::report::{
    Payment as CorePayment, PaymentChannel as CoreChannel, Portal as CorePortal,
};
use billbridge::sync::{
    BalanceAdjustment as CoreAdjustment, CustomerRecord as CoreCustomer,
    InvoicePreview as CorePreview, InvoiceRecord as CoreRecord, PaidOutside,
    UpsertOutcome as CoreOutcome,
};

use crate::error::BillbridgeError;
use crate::money::{Money, day_text, instant, optional_day};
use crate::parties::{PartyKind, PayerRef};

/// Where an invoice is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum InvoiceStatus {
    /// Editable; not yet visible to the payer.
    Draft,
    /// Finalized and awaiting payment.
    Open,
    /// Paid, by card or outside Stripe.
    Paid,
    /// Cancelled after finalization; nothing is owed.
    Void,
    /// Written off; it can still be paid or voided.
    Uncollectible,
    /// A draft that was deleted.
    Deleted,
    /// A status this version of billbridge does not know, as Stripe spelled it.
    Unknown {
        /// Stripe's value.
        stripe_status: String,
    },
}

impl From<&CoreStatus> for InvoiceStatus {
    fn from(status: &CoreStatus) -> Self {
        match status {
            CoreStatus::Draft => InvoiceStatus::Draft,
            CoreStatus::Open => InvoiceStatus::Open,
            CoreStatus::Paid => InvoiceStatus::Paid,
            CoreStatus::Void => InvoiceStatus::Void,
            CoreStatus::Uncollectible => InvoiceStatus::Uncollectible,
            CoreStatus::Deleted => InvoiceStatus::Deleted,
            CoreStatus::Unknown(value) => InvoiceStatus::Unknown {
                stripe_status: value.clone(),
            },
        }
    }
}

impl From<&InvoiceStatus> for CoreStatus {
    fn from(status: &InvoiceStatus) -> Self {
        match status {
            InvoiceStatus::Draft => CoreStatus::Draft,
            InvoiceStatus::Open => CoreStatus::Open,
            InvoiceStatus::Paid => CoreStatus::Paid,
            InvoiceStatus::Void => CoreStatus::Void,
            InvoiceStatus::Uncollectible => CoreStatus::Uncollectible,
            InvoiceStatus::Deleted => CoreStatus::Deleted,
            InvoiceStatus::Unknown { stripe_status } => CoreStatus::from(stripe_status.as_str()),
        }
    }
}

/// How a payment outside Stripe was made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PaymentMethod {
    /// Cash.
    Cash,
    /// Cheque.
    Cheque,
    /// Bank transfer.
    BankTransfer,
    /// A card terminal not run through Stripe.
    CardOutsideStripe,
    /// Paid by an insurer.
    Insurance,
    /// Another method, by the practice's own name for it (a word without control
    /// characters).
    Other {
        /// The practice's name for the method.
        name: String,
    },
}

impl PaymentMethod {
    pub(crate) fn to_core(&self) -> Result<CorePaymentMethod, BillbridgeError> {
        Ok(match self {
            PaymentMethod::Cash => CorePaymentMethod::Cash,
            PaymentMethod::Cheque => CorePaymentMethod::Cheque,
            PaymentMethod::BankTransfer => CorePaymentMethod::BankTransfer,
            PaymentMethod::CardOutsideStripe => CorePaymentMethod::CardOutsideStripe,
            PaymentMethod::Insurance => CorePaymentMethod::Insurance,
            // The core checks the name, and reads a known method's word as that method.
            PaymentMethod::Other { name } => name.parse::<CorePaymentMethod>()?,
        })
    }

    pub(crate) fn from_core(method: &CorePaymentMethod) -> PaymentMethod {
        match method {
            CorePaymentMethod::Cash => PaymentMethod::Cash,
            CorePaymentMethod::Cheque => PaymentMethod::Cheque,
            CorePaymentMethod::BankTransfer => PaymentMethod::BankTransfer,
            CorePaymentMethod::CardOutsideStripe => PaymentMethod::CardOutsideStripe,
            CorePaymentMethod::Insurance => PaymentMethod::Insurance,
            CorePaymentMethod::Other(name) => PaymentMethod::Other { name: name.clone() },
        }
    }
}

/// A payment received outside Stripe (cash at reception, a cheque, an insurer's
/// remittance), for `markPaidOutsideStripe` and as records report it. Printing it shows
/// whether a reference is set, not the reference.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct OutsidePayment {
    /// How it was paid.
    pub method: PaymentMethod,
    /// The practice's reference (receipt, cheque number, remittance id).
    #[uniffi(default = None)]
    pub reference: Option<String>,
    /// The day it was received, `YYYY-MM-DD`; by default today by the bridge's clock.
    #[uniffi(default = None)]
    pub paid_on: Option<String>,
}

impl fmt::Debug for OutsidePayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for OutsidePayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A reference can be a bank reference or a claim number: presence only.
        write!(
            f,
            "OutsidePayment(method={:?}, reference={}, paidOn={:?})",
            self.method,
            if self.reference.is_some() {
                "set"
            } else {
                "none"
            },
            self.paid_on,
        )
    }
}

impl OutsidePayment {
    pub(crate) fn to_core(&self) -> Result<PaidOutside, BillbridgeError> {
        let mut payment = PaidOutside::new(self.method.to_core()?);
        payment.reference = self.reference.clone();
        payment.paid_on = optional_day(self.paid_on.as_ref())?;
        Ok(payment)
    }

    fn from_core(payment: &PaidOutside) -> OutsidePayment {
        OutsidePayment {
            method: PaymentMethod::from_core(&payment.method),
            reference: payment.reference.clone(),
            paid_on: payment.paid_on.map(day_text),
        }
    }
}

/// An invoice as the app sees it, kept current by every action, webhook and re-sync.
/// Amounts are in the invoice's currency; `amountRemaining` is `amountDue −
/// amountPaid`. Printing it shows ids, status and amounts only.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct InvoiceRecord {
    /// The app's id of the invoice.
    pub host_invoice_id: String,
    /// Stripe's invoice id (`in_…`; `offline:<id>` for offline invoices).
    pub stripe_invoice_id: String,
    /// Stripe's customer id of the payer (`cus_…`).
    pub stripe_customer_id: String,
    /// The connected account the invoice lives in, if not the platform's own.
    pub account: Option<String>,
    /// The last known status.
    pub status: InvoiceStatus,
    /// A status Stripe sent that this version does not know, while `status` keeps the
    /// last known one.
    pub unrecognised_status: Option<String>,
    /// The invoice number, from finalization on.
    pub number: Option<String>,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Sum of the lines.
    pub subtotal: Money,
    /// Total after discounts and taxes.
    pub total: Money,
    /// What the payer is asked to pay after their customer balance.
    pub amount_due: Money,
    /// What was paid so far.
    pub amount_paid: Money,
    /// What remains to pay.
    pub amount_remaining: Money,
    /// A remainder below the currency's minimum charge that Stripe carried to the
    /// payer's balance when it marked the invoice paid (owed, not received; zero
    /// otherwise).
    pub carried_to_balance: Money,
    /// The payer's balance when the invoice was finalized (negative: credit).
    pub starting_balance: Money,
    /// The payer's balance after finalization; none on drafts.
    pub ending_balance: Option<Money>,
    /// The payment page, from finalization on. It opens the invoice to whoever holds it.
    pub hosted_invoice_url: Option<String>,
    /// The PDF link, from finalization on.
    pub invoice_pdf: Option<String>,
    /// The day payment is due (`YYYY-MM-DD`, UTC), for invoices sent for payment.
    pub due_on: Option<String>,
    /// When Stripe created the invoice.
    pub created: SystemTime,
    /// The invoice's metadata as Stripe holds it.
    pub metadata: HashMap<String, String>,
    /// When it became paid.
    pub paid_at: Option<SystemTime>,
    /// Set when it was marked paid outside Stripe.
    pub paid_outside: Option<OutsidePayment>,
    /// When the state held here was current at Stripe.
    pub updated_at: SystemTime,
    /// Who pays.
    pub payer: PayerRef,
    /// The patient the invoice is about, if any.
    pub patient_id: Option<String>,
}

impl fmt::Debug for InvoiceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for InvoiceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Links open the invoice and metadata holds personal data: neither is shown.
        write!(
            f,
            "InvoiceRecord(hostInvoiceId={:?}, stripeInvoiceId={:?}, status={:?}, number={:?}, total={} {}, amountRemaining={} {})",
            self.host_invoice_id,
            self.stripe_invoice_id,
            self.status,
            self.number,
            self.total.amount,
            self.total.currency,
            self.amount_remaining.amount,
            self.amount_remaining.currency,
        )
    }
}

impl From<CoreRecord> for InvoiceRecord {
    fn from(record: CoreRecord) -> Self {
        let carried_to_balance = record.carried_to_balance();
        InvoiceRecord {
            host_invoice_id: record.host_invoice_id,
            stripe_invoice_id: record.stripe_invoice_id,
            stripe_customer_id: record.stripe_customer_id,
            account: record.account,
            status: InvoiceStatus::from(&record.status),
            unrecognised_status: record.unrecognised_status,
            number: record.number,
            currency: record.currency.code().to_owned(),
            subtotal: record.subtotal.into(),
            total: record.total.into(),
            amount_due: record.amount_due.into(),
            amount_paid: record.amount_paid.into(),
            amount_remaining: record.amount_remaining.into(),
            carried_to_balance: carried_to_balance.into(),
            starting_balance: record.starting_balance.into(),
            ending_balance: record.ending_balance.map(Money::from),
            hosted_invoice_url: record.hosted_invoice_url,
            invoice_pdf: record.invoice_pdf,
            due_on: record.due_on.map(day_text),
            created: instant(record.created),
            metadata: record.metadata.into_map().into_iter().collect(),
            paid_at: record.paid_at.map(instant),
            paid_outside: record.paid_outside.as_ref().map(OutsidePayment::from_core),
            updated_at: instant(record.updated_at),
            payer: PayerRef::from_core(&record.payer),
            patient_id: record.patient.map(String::from),
        }
    }
}

/// The records of a list.
pub(crate) fn records(records: Vec<CoreRecord>) -> Vec<InvoiceRecord> {
    records.into_iter().map(InvoiceRecord::from).collect()
}

/// What `upsertCustomer` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum UpsertOutcome {
    /// A Stripe customer was created and linked.
    Created,
    /// The linked customer was updated.
    Updated,
    /// Nothing changed since the last sync; nothing was sent.
    Unchanged,
}

/// A host party and its Stripe customer after an upsert.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CustomerRecord {
    /// Patient or organisation.
    pub party_kind: PartyKind,
    /// The host's id of the party.
    pub host_party_id: String,
    /// Stripe's customer id (`cus_…`).
    pub stripe_customer_id: String,
    /// What the upsert did.
    pub outcome: UpsertOutcome,
}

impl From<CoreCustomer> for CustomerRecord {
    fn from(record: CoreCustomer) -> Self {
        CustomerRecord {
            party_kind: record.party_kind.into(),
            host_party_id: record.host_party_id,
            stripe_customer_id: record.stripe_customer_id,
            outcome: match record.outcome {
                CoreOutcome::Created => UpsertOutcome::Created,
                CoreOutcome::Updated => UpsertOutcome::Updated,
                CoreOutcome::Unchanged => UpsertOutcome::Unchanged,
            },
        }
    }
}

/// A credit or debit recorded on a payer's customer balance.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BalanceAdjustment {
    /// Stripe's id of the balance transaction (`cbtxn_…`).
    pub stripe_transaction_id: String,
    /// The adjustment: negative is a credit to the payer, positive a debit.
    pub amount: Money,
    /// The payer's balance after it.
    pub ending_balance: Money,
}

impl From<CoreAdjustment> for BalanceAdjustment {
    fn from(adjustment: CoreAdjustment) -> Self {
        BalanceAdjustment {
            stripe_transaction_id: adjustment.stripe_transaction_id,
            amount: adjustment.amount.into(),
            ending_balance: adjustment.ending_balance.into(),
        }
    }
}

/// What the payer's next invoice for a draft would ask, by Stripe's balance rule
/// against the payer's current balance; computed with no side effect.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoicePreview {
    /// Who would be billed.
    pub payer: PayerRef,
    /// The draft's total.
    pub total: Money,
    /// The payer's balance now (negative: credit).
    pub starting_balance: Money,
    /// The part of the balance the invoice would use (negative for a credit applied).
    pub applied_balance: Money,
    /// What the invoice would ask for, as Stripe will show it: 0 when what is left after
    /// the balance is below the currency's minimum charge.
    pub amount_due: Money,
    /// That remainder below the minimum charge, which Stripe would move to the payer's
    /// balance as a debit for the next invoice (zero otherwise).
    pub carried_to_balance: Money,
    /// The payer's balance after finalization (the carried remainder included).
    pub ending_balance: Money,
    /// Whether Stripe would mark it paid at finalization (nothing due, or less than
    /// the minimum charge).
    pub paid_at_finalization: bool,
}

impl From<CorePreview> for InvoicePreview {
    fn from(preview: CorePreview) -> Self {
        InvoicePreview {
            payer: PayerRef::from_core(&preview.payer),
            total: preview.total.into(),
            starting_balance: preview.starting_balance.into(),
            applied_balance: preview.applied_balance.into(),
            amount_due: preview.amount_due.into(),
            carried_to_balance: preview.carried_to_balance.into(),
            ending_balance: preview.ending_balance.into(),
            paid_at_finalization: preview.paid_at_finalization,
        }
    }
}

/// One invoice of a payer's portal view. Printing it shows whether there is a pay link,
/// not the link: it opens the invoice to whoever holds it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct PortalInvoice {
    /// The invoice.
    pub invoice: InvoiceRecord,
    /// Where to pay it (Stripe's payment page), for invoices still owing.
    pub pay_link: Option<String>,
}

impl fmt::Debug for PortalInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for PortalInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PortalInvoice(invoice={}, payLink={})",
            self.invoice,
            if self.pay_link.is_some() {
                "set"
            } else {
                "none"
            },
        )
    }
}

/// A payer's portal view: their invoices paid and unpaid, and what they still owe.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Portal {
    /// The payer.
    pub payer: PayerRef,
    /// Every finalized invoice of the payer (drafts are not shown), oldest first.
    pub invoices: Vec<PortalInvoice>,
    /// What remains to pay on open and uncollectible invoices, one amount per currency,
    /// ordered by currency code; empty when nothing is owed.
    pub remaining: Vec<Money>,
}

impl From<CorePortal> for Portal {
    fn from(portal: CorePortal) -> Self {
        Portal {
            payer: PayerRef::from_core(&portal.payer),
            invoices: portal
                .invoices
                .into_iter()
                .map(|entry| PortalInvoice {
                    invoice: entry.invoice.into(),
                    pay_link: entry.pay_link,
                })
                .collect(),
            remaining: portal.remaining.into_iter().map(Money::from).collect(),
        }
    }
}

/// How a payment reached the practice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PaymentChannel {
    /// Through Stripe (the payment page, or charged automatically).
    Stripe,
    /// Outside Stripe, recorded by hand.
    Outside {
        /// How.
        method: PaymentMethod,
    },
}

/// One payment received against an invoice. Printing it shows ids, the amount, the day
/// and the channel: the reference can be a bank reference or a claim number.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct Payment {
    /// The app's id of the invoice paid.
    pub host_invoice_id: String,
    /// Its number, when it has one.
    pub invoice_number: Option<String>,
    /// Who paid.
    pub payer: PayerRef,
    /// The patient the invoice is about, if any.
    pub patient_id: Option<String>,
    /// The amount received.
    pub amount: Money,
    /// The day it was received, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Through Stripe or which method outside it.
    pub channel: PaymentChannel,
    /// The practice's reference, for payments outside Stripe.
    pub reference: Option<String>,
}

impl fmt::Debug for Payment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Payment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Payment(hostInvoiceId={:?}, amount={} {}, day={:?}, channel={:?})",
            self.host_invoice_id, self.amount.amount, self.amount.currency, self.day, self.channel,
        )
    }
}

impl From<CorePayment> for Payment {
    fn from(payment: CorePayment) -> Self {
        Payment {
            host_invoice_id: payment.host_invoice_id,
            invoice_number: payment.invoice_number,
            payer: PayerRef::from_core(&payment.payer),
            patient_id: payment.patient.map(String::from),
            amount: payment.amount.into(),
            day: day_text(payment.date),
            channel: match &payment.channel {
                CoreChannel::Stripe => PaymentChannel::Stripe,
                CoreChannel::Outside(method) => PaymentChannel::Outside {
                    method: PaymentMethod::from_core(method),
                },
            },
            reference: payment.reference,
        }
    }
}

/// The payments of a list.
pub(crate) fn payments(payments: Vec<CorePayment>) -> Vec<Payment> {
    payments.into_iter().map(Payment::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_and_an_other_method_is_checked_by_the_core() {
        for status in [
            CoreStatus::Draft,
            CoreStatus::Open,
            CoreStatus::Paid,
            CoreStatus::Void,
            CoreStatus::Uncollectible,
            CoreStatus::Deleted,
            CoreStatus::Unknown("in_review".into()),
        ] {
            assert_eq!(CoreStatus::from(&InvoiceStatus::from(&status)), status);
        }
        let named = PaymentMethod::Other {
            name: "voucher".into(),
        };
        assert_eq!(named.to_core().unwrap().as_str(), "voucher");
        let known = PaymentMethod::Other {
            name: "cash".into(),
        };
        assert_eq!(known.to_core().unwrap(), CorePaymentMethod::Cash);
        let empty = PaymentMethod::Other { name: " ".into() };
        assert_eq!(empty.to_core().unwrap_err().code(), "argument_out_of_range");
    }
}

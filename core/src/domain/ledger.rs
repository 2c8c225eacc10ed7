//! The host-side invoice when there is no Stripe at all: a [`LedgerInvoice`] follows the
//! same statuses and state machine as a Stripe invoice, takes manual payments (cash,
//! cheque, bank transfer, card outside Stripe, insurance), partial ones included, and
//! becomes paid when nothing remains. An overpayment is refused, never absorbed.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::date::Date;
use super::invoice::{InvoiceDraft, InvoiceError, InvoiceId, InvoiceLine};
use super::money::{Currency, Money, MoneyError};
use super::party::{PatientId, PayerRef};
use super::status::{IllegalTransition, InvoiceAction, InvoiceStatus, Transition};
use crate::classify::{Classify, ErrorCategory};
use crate::redact::redacted;

/// Errors of the offline ledger.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The invoice's status does not allow the action.
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// The draft or its lines are invalid.
    #[error(transparent)]
    Invoice(#[from] InvoiceError),
    /// Amount arithmetic or currency error.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A payment larger than what remains.
    #[error("payment of {amount} exceeds the {remaining} remaining")]
    Overpayment {
        /// The payment.
        amount: Money,
        /// What remained before it.
        remaining: Money,
    },
    /// A payment of zero or less.
    #[error("payment amount {amount} must be positive")]
    NonPositivePayment {
        /// The payment.
        amount: Money,
    },
    /// The invoice was deleted.
    #[error("invoice {invoice} was deleted")]
    Deleted {
        /// The invoice.
        invoice: InvoiceId,
    },
}

impl Classify for LedgerError {
    fn code(&self) -> &'static str {
        match self {
            LedgerError::IllegalTransition(inner) => inner.code(),
            LedgerError::Invoice(inner) => inner.code(),
            LedgerError::Money(inner) => inner.code(),
            LedgerError::Overpayment { .. } => "overpayment",
            LedgerError::NonPositivePayment { .. } => "non_positive_payment",
            LedgerError::Deleted { .. } => "invoice_deleted",
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            LedgerError::IllegalTransition(_) | LedgerError::Deleted { .. } => {
                ErrorCategory::InvalidState
            }
            LedgerError::Invoice(inner) => inner.category(),
            LedgerError::Money(inner) => inner.category(),
            LedgerError::Overpayment { .. } | LedgerError::NonPositivePayment { .. } => {
                ErrorCategory::Validation
            }
        }
    }
}

/// How a payment outside Stripe was made. Unrecognised values are kept in
/// [`PaymentMethod::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum PaymentMethod {
    /// `"cash"`.
    Cash,
    /// `"cheque"`.
    Cheque,
    /// `"bank_transfer"`.
    BankTransfer,
    /// `"card_outside_stripe"`: a card terminal not run through Stripe.
    CardOutsideStripe,
    /// `"insurance"`: paid by an insurer.
    Insurance,
    /// Anything else, as the host wrote it.
    Other(String),
}

impl PaymentMethod {
    /// The method as a snake_case word.
    pub fn as_str(&self) -> &str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Cheque => "cheque",
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::CardOutsideStripe => "card_outside_stripe",
            PaymentMethod::Insurance => "insurance",
            PaymentMethod::Other(other) => other,
        }
    }
}

impl From<String> for PaymentMethod {
    fn from(value: String) -> Self {
        match value.as_str() {
            "cash" => PaymentMethod::Cash,
            "cheque" => PaymentMethod::Cheque,
            "bank_transfer" => PaymentMethod::BankTransfer,
            "card_outside_stripe" => PaymentMethod::CardOutsideStripe,
            "insurance" => PaymentMethod::Insurance,
            _ => PaymentMethod::Other(value),
        }
    }
}

impl std::str::FromStr for PaymentMethod {
    type Err = crate::vocabulary::ArgumentError;

    /// A known method's word (`cash`, `cheque`, `bank_transfer`, `card_outside_stripe`,
    /// `insurance`), or the host's own name for another method.
    fn from_str(word: &str) -> Result<Self, Self::Err> {
        if word.trim().is_empty() || word.chars().any(char::is_control) {
            return Err(crate::vocabulary::ArgumentError::OutOfRange {
                argument: "payment method",
                reason: "a method is a word without control characters",
            });
        }
        Ok(PaymentMethod::from(word))
    }
}

impl From<&str> for PaymentMethod {
    fn from(value: &str) -> Self {
        PaymentMethod::from(value.to_owned())
    }
}

impl From<PaymentMethod> for String {
    fn from(method: PaymentMethod) -> Self {
        match method {
            PaymentMethod::Other(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payment recorded by hand. `Debug` shows whether a reference is set, not the
/// reference.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualPayment {
    /// How it was paid.
    pub method: PaymentMethod,
    /// How much (> 0).
    pub amount: Money,
    /// When.
    pub date: Date,
    /// Cheque number, transfer reference, claim number…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl fmt::Debug for ManualPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A reference can be a bank reference or a claim number: presence only.
        let ManualPayment {
            method,
            amount,
            date,
            reference,
        } = self;
        f.debug_struct("ManualPayment")
            .field("method", method)
            .field("amount", amount)
            .field("date", date)
            .field("reference", &redacted(reference))
            .finish()
    }
}

impl ManualPayment {
    /// A payment without a reference.
    pub fn new(method: PaymentMethod, amount: Money, date: Date) -> ManualPayment {
        ManualPayment {
            method,
            amount,
            date,
            reference: None,
        }
    }

    /// Sets the reference.
    pub fn with_reference(mut self, reference: impl Into<String>) -> ManualPayment {
        self.reference = Some(reference.into());
        self
    }
}

/// An invoice kept by the host alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerInvoice {
    /// Host id.
    pub id: InvoiceId,
    /// Who pays.
    pub payer: PayerRef,
    /// The patient it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<PatientId>,
    /// Currency of every amount.
    pub currency: Currency,
    /// Lines (editable while draft).
    pub lines: Vec<InvoiceLine>,
    /// Σ lines.
    pub total: Money,
    /// What the payer owes: max(total, 0). No customer balance exists offline.
    pub amount_due: Money,
    /// Payments recorded, in order.
    #[serde(default)]
    pub payments: Vec<ManualPayment>,
    /// Status, following Stripe's state machine.
    pub status: InvoiceStatus,
    /// Date the invoice was issued (finalized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced_on: Option<Date>,
    /// Whether the draft was deleted.
    #[serde(default)]
    pub deleted: bool,
}

impl LedgerInvoice {
    /// A draft ledger invoice from a validated [`InvoiceDraft`].
    ///
    /// # Errors
    /// [`LedgerError::Invoice`] when the draft does not validate.
    pub fn from_draft(id: InvoiceId, draft: &InvoiceDraft) -> Result<LedgerInvoice, LedgerError> {
        let total = draft.validate()?;
        let currency = total.currency();
        Ok(LedgerInvoice {
            id,
            payer: draft.payer.clone(),
            subject: draft.subject.clone(),
            currency,
            lines: draft.lines.clone(),
            total,
            amount_due: total.checked_max(Money::zero(currency))?,
            payments: Vec::new(),
            status: InvoiceStatus::Draft,
            invoiced_on: None,
            deleted: false,
        })
    }

    /// Σ payments.
    ///
    /// # Errors
    /// [`LedgerError::Money`] on overflow.
    pub fn amount_paid(&self) -> Result<Money, LedgerError> {
        Ok(Money::checked_sum(
            self.currency,
            self.payments.iter().map(|payment| payment.amount),
        )?)
    }

    /// amount_due − amount_paid.
    ///
    /// # Errors
    /// [`LedgerError::Money`] on overflow.
    pub fn amount_remaining(&self) -> Result<Money, LedgerError> {
        Ok(self.amount_due.checked_sub(self.amount_paid()?)?)
    }

    fn transition(&self, action: InvoiceAction) -> Result<Transition, LedgerError> {
        if self.deleted {
            return Err(LedgerError::Deleted {
                invoice: self.id.clone(),
            });
        }
        Ok(self.status.apply(action)?)
    }

    fn move_to(&mut self, action: InvoiceAction) -> Result<(), LedgerError> {
        match self.transition(action)? {
            Transition::Status(next) => self.status = next,
            Transition::Deleted => self.deleted = true,
        }
        Ok(())
    }

    /// Replaces the lines of a draft and recomputes the totals.
    ///
    /// # Errors
    /// [`LedgerError::IllegalTransition`] unless draft; [`LedgerError::Invoice`] for
    /// invalid lines (the invoice is then unchanged).
    pub fn edit_lines(&mut self, lines: Vec<InvoiceLine>) -> Result<(), LedgerError> {
        self.transition(InvoiceAction::EditLines)?;
        let draft = InvoiceDraft::for_payer(self.payer.clone())
            .currency(self.currency)
            .lines(lines);
        let total = draft.validate()?;
        self.amount_due = total.checked_max(Money::zero(self.currency))?;
        self.total = total;
        self.lines = draft.lines;
        Ok(())
    }

    /// Issues the invoice on `on`: it becomes open, or paid at once when nothing is due.
    ///
    /// # Errors
    /// [`LedgerError::IllegalTransition`] unless draft.
    pub fn finalize(&mut self, on: Date) -> Result<(), LedgerError> {
        self.move_to(InvoiceAction::Finalize)?;
        self.invoiced_on = Some(on);
        if self.amount_due.is_zero() {
            self.status = InvoiceStatus::Paid;
        }
        Ok(())
    }

    /// Records a payment; the invoice becomes paid when nothing remains.
    ///
    /// # Errors
    /// [`LedgerError::IllegalTransition`] unless open or uncollectible,
    /// [`LedgerError::NonPositivePayment`], [`LedgerError::Money`] on a currency
    /// mismatch, [`LedgerError::Overpayment`] when the payment exceeds what remains. On
    /// error nothing is recorded.
    pub fn record_payment(&mut self, payment: ManualPayment) -> Result<(), LedgerError> {
        self.transition(InvoiceAction::MarkPaidOutOfBand)?;
        if !payment.amount.is_positive() {
            return Err(LedgerError::NonPositivePayment {
                amount: payment.amount,
            });
        }
        let remaining = self.amount_remaining()?;
        let after = remaining.checked_sub(payment.amount)?;
        if after.is_negative() {
            return Err(LedgerError::Overpayment {
                amount: payment.amount,
                remaining,
            });
        }
        self.payments.push(payment);
        if after.is_zero() {
            self.move_to(InvoiceAction::MarkPaidOutOfBand)?;
        }
        Ok(())
    }

    /// Cancels an open or uncollectible invoice.
    ///
    /// # Errors
    /// [`LedgerError::IllegalTransition`].
    pub fn void(&mut self) -> Result<(), LedgerError> {
        self.move_to(InvoiceAction::Void)
    }

    /// Writes an open invoice off; it can still be paid or voided.
    ///
    /// # Errors
    /// [`LedgerError::IllegalTransition`].
    pub fn mark_uncollectible(&mut self) -> Result<(), LedgerError> {
        self.move_to(InvoiceAction::MarkUncollectible)
    }

    /// Deletes a draft.
    ///
    /// # Errors
    /// [`LedgerError::IllegalTransition`] unless draft, [`LedgerError::Deleted`] if
    /// already deleted.
    pub fn delete(&mut self) -> Result<(), LedgerError> {
        self.move_to(InvoiceAction::Delete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::party::{Patient, PatientId};

    fn day() -> Date {
        Date::parse("2026-11-21").unwrap()
    }

    fn ben_invoice() -> LedgerInvoice {
        let ben = Patient::new(PatientId::new("P-1004").unwrap(), "Ben", "Carter");
        let draft = InvoiceDraft::for_patient(&ben).line(InvoiceLine::ad_hoc(
            "Follow-up session",
            Money::gbp(5000),
            1,
        ));
        LedgerInvoice::from_draft(InvoiceId::new("INV-5").unwrap(), &draft).unwrap()
    }

    fn cash(amount: i64) -> ManualPayment {
        ManualPayment::new(PaymentMethod::Cash, Money::gbp(amount), day())
    }

    #[test]
    fn finalize_sets_open_and_invoiced_date() {
        let mut invoice = ben_invoice();
        assert_eq!(invoice.status, InvoiceStatus::Draft);
        invoice.finalize(day()).unwrap();
        assert_eq!(invoice.status, InvoiceStatus::Open);
        assert_eq!(invoice.invoiced_on, Some(day()));
        assert_eq!(invoice.amount_remaining().unwrap(), Money::gbp(5000));
        assert_eq!(
            invoice.finalize(day()).unwrap_err().code(),
            "illegal_transition"
        );
    }

    #[test]
    fn full_cash_payment_marks_paid() {
        let mut invoice = ben_invoice();
        invoice.finalize(day()).unwrap();
        invoice.record_payment(cash(5000)).unwrap();
        assert_eq!(invoice.status, InvoiceStatus::Paid);
        assert_eq!(invoice.amount_paid().unwrap(), Money::gbp(5000));
        assert_eq!(invoice.amount_remaining().unwrap(), Money::gbp(0));
        assert!(invoice.void().is_err(), "paid is final");
    }

    #[test]
    fn partial_payments_accumulate_until_paid() {
        let mut invoice = ben_invoice();
        invoice.finalize(day()).unwrap();
        let insurer = ManualPayment::new(PaymentMethod::Insurance, Money::gbp(3000), day())
            .with_reference("CLAIM-77");
        invoice.record_payment(insurer).unwrap();
        assert_eq!(invoice.status, InvoiceStatus::Open);
        assert_eq!(invoice.amount_remaining().unwrap(), Money::gbp(2000));
        invoice
            .record_payment(ManualPayment::new(
                PaymentMethod::BankTransfer,
                Money::gbp(2000),
                day(),
            ))
            .unwrap();
        assert_eq!(invoice.status, InvoiceStatus::Paid);
        assert_eq!(invoice.payments.len(), 2);
    }

    #[test]
    fn overpayment_is_refused_and_nothing_is_recorded() {
        let mut invoice = ben_invoice();
        invoice.finalize(day()).unwrap();
        invoice.record_payment(cash(4000)).unwrap();
        let error = invoice.record_payment(cash(1001)).unwrap_err();
        assert_eq!(
            error,
            LedgerError::Overpayment {
                amount: Money::gbp(1001),
                remaining: Money::gbp(1000)
            }
        );
        assert_eq!(invoice.payments.len(), 1);
        assert_eq!(
            invoice.record_payment(cash(0)).unwrap_err().code(),
            "non_positive_payment"
        );
        let dollars = ManualPayment::new(PaymentMethod::Cash, Money::usd(10), day());
        assert_eq!(
            invoice.record_payment(dollars).unwrap_err().code(),
            "currency_mismatch"
        );
    }

    #[test]
    fn payments_need_a_finalized_invoice() {
        let mut invoice = ben_invoice();
        let error = invoice.record_payment(cash(5000)).unwrap_err();
        assert_eq!(error.code(), "illegal_transition");
        assert_eq!(error.category(), ErrorCategory::InvalidState);
    }

    #[test]
    fn uncollectible_can_be_paid_later() {
        let mut invoice = ben_invoice();
        invoice.finalize(day()).unwrap();
        invoice.mark_uncollectible().unwrap();
        invoice.record_payment(cash(1000)).unwrap();
        assert_eq!(invoice.status, InvoiceStatus::Uncollectible);
        invoice.record_payment(cash(4000)).unwrap();
        assert_eq!(invoice.status, InvoiceStatus::Paid);
    }

    #[test]
    fn void_and_delete_follow_the_state_machine() {
        let mut open = ben_invoice();
        open.finalize(day()).unwrap();
        open.void().unwrap();
        assert_eq!(open.status, InvoiceStatus::Void);
        assert!(open.record_payment(cash(1)).is_err());
        assert!(open.delete().is_err(), "only drafts can be deleted");

        let mut draft = ben_invoice();
        assert!(draft.void().is_err(), "drafts are deleted, not voided");
        draft.delete().unwrap();
        assert!(draft.deleted);
        assert_eq!(draft.finalize(day()).unwrap_err().code(), "invoice_deleted");
    }

    #[test]
    fn lines_are_editable_only_in_draft() {
        let mut invoice = ben_invoice();
        invoice
            .edit_lines(vec![
                InvoiceLine::ad_hoc("Follow-up session", Money::gbp(5000), 1),
                InvoiceLine::ad_hoc("Postage", Money::gbp(450), 1),
            ])
            .unwrap();
        assert_eq!(invoice.total, Money::gbp(5450));
        let bad = invoice.edit_lines(vec![InvoiceLine::ad_hoc("Item", Money::usd(1), 1)]);
        assert_eq!(bad.unwrap_err().code(), "currency_mismatch");
        assert_eq!(invoice.lines.len(), 2, "unchanged after an invalid edit");
        invoice.finalize(day()).unwrap();
        assert!(invoice.edit_lines(Vec::new()).is_err());
    }

    #[test]
    fn zero_and_credit_invoices_are_paid_at_issue() {
        let ben = Patient::new(PatientId::new("P-1004").unwrap(), "Ben", "Carter");
        let draft = InvoiceDraft::for_patient(&ben).line(InvoiceLine::ad_hoc(
            "Goodwill credit",
            Money::gbp(-500),
            1,
        ));
        let mut invoice =
            LedgerInvoice::from_draft(InvoiceId::new("INV-6").unwrap(), &draft).unwrap();
        assert_eq!(invoice.amount_due, Money::gbp(0));
        invoice.finalize(day()).unwrap();
        assert_eq!(invoice.status, InvoiceStatus::Paid);
    }

    #[test]
    fn payment_methods_are_forward_compatible() {
        let method: PaymentMethod = serde_json::from_str("\"voucher\"").unwrap();
        assert_eq!(method, PaymentMethod::Other("voucher".into()));
        assert_eq!(
            serde_json::to_string(&PaymentMethod::BankTransfer).unwrap(),
            "\"bank_transfer\""
        );
    }
}

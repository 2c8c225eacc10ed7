//! Customer balance transactions (`cbtxn_…`): every change to a customer's balance.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Customer, Expandable, HasId, Invoice, MetadataMap};
use crate::redact::redacted;

string_enum! {
    /// Why a customer's balance changed.
    pub enum BalanceTransactionType {
        /// Set through the API (the only type that can be created).
        Adjustment = "adjustment",
        /// Applied to an invoice at finalization.
        AppliedToInvoice = "applied_to_invoice",
        /// Returned from a voided invoice.
        UnappliedFromInvoice = "unapplied_from_invoice",
        /// An amount below the minimum charge moved onto the balance.
        InvoiceTooSmall = "invoice_too_small",
        /// The balance the customer was created with.
        Initial = "initial",
        /// From a credit note.
        CreditNote = "credit_note",
        /// An overpayment credited back.
        InvoiceOverpaid = "invoice_overpaid",
        /// Moved from another balance.
        Migration = "migration",
        /// Unspent funds of a receiver.
        UnspentReceiverCredit = "unspent_receiver_credit",
    }
}

/// One change to a customer's balance. Immutable: undo by adding the reverse.
///
/// `Debug` shows ids, amounts and metadata keys; the description (free text the host
/// writes) shows only whether it is set.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerBalanceTransaction {
    /// `cbtxn_…`.
    pub id: String,
    /// Change in minor units: negative credits the customer, positive debits.
    pub amount: i64,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// The customer whose balance changed.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// Internal description.
    #[serde(default)]
    pub description: Option<String>,
    /// The balance after this transaction.
    pub ending_balance: i64,
    /// The invoice involved, for invoice-related types.
    #[serde(default)]
    pub invoice: Option<Expandable<Invoice>>,
    /// The credit note involved, if any.
    #[serde(default)]
    pub credit_note: Option<String>,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Why the balance changed.
    #[serde(rename = "type")]
    pub transaction_type: BalanceTransactionType,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl fmt::Debug for CustomerBalanceTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CustomerBalanceTransaction {
            id,
            amount,
            currency,
            customer,
            description,
            ending_balance,
            invoice,
            credit_note,
            metadata,
            transaction_type,
            created,
            livemode,
        } = self;
        f.debug_struct("CustomerBalanceTransaction")
            .field("id", id)
            .field("amount", amount)
            .field("currency", currency)
            .field("customer", customer)
            .field("description", &redacted(description))
            .field("ending_balance", ending_balance)
            .field("invoice", invoice)
            .field("credit_note", credit_note)
            .field("metadata", metadata)
            .field("transaction_type", transaction_type)
            .field("created", created)
            .field("livemode", livemode)
            .finish()
    }
}

impl HasId for CustomerBalanceTransaction {
    fn id(&self) -> &str {
        &self.id
    }
}

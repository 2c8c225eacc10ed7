//! The plain records the host-facing workflows take and return: what an upsert did, a
//! balance adjustment, a preview of the next invoice, how far to raise an invoice, and
//! how an invoice was paid outside Stripe. Owned strings, `i64` amounts inside
//! [`Money`], plain enums: simple to carry across the language bindings.

use serde::{Deserialize, Serialize};

use crate::domain::money::Money;
use crate::domain::party::PayerRef;
use crate::store::PartyKind;

/// An invoice as the host sees it, kept current by every action, webhook and re-sync.
pub use crate::mirror::InvoiceRecord;

/// What [`crate::sync::Billbridge::upsert_customer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsertOutcome {
    /// A Stripe customer was created and linked.
    Created,
    /// The linked customer was updated (contact details or metadata changed).
    Updated,
    /// Nothing changed since the last sync; nothing was sent.
    Unchanged,
}

crate::vocabulary!(UpsertOutcome, "upsert outcome", "unknown_upsert_outcome", {
    UpsertOutcome::Created => "created",
    UpsertOutcome::Updated => "updated",
    UpsertOutcome::Unchanged => "unchanged",
});

/// A host party and its Stripe customer after an upsert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// A credit or debit recorded on a payer's customer balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceAdjustment {
    /// Stripe's id of the balance transaction (`cbtxn_…`).
    pub stripe_transaction_id: String,
    /// The adjustment: negative is a credit to the payer, positive a debit.
    pub amount: Money,
    /// The customer's balance after it.
    pub ending_balance: Money,
}

/// What the payer's next invoice for a draft would ask, by Stripe's balance rule
/// against the payer's current balance. Computed without any side effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePreview {
    /// Who would be billed.
    pub payer: PayerRef,
    /// The draft's total.
    pub total: Money,
    /// The payer's balance now (negative: credit).
    pub starting_balance: Money,
    /// The part of the balance the invoice would use (negative for a credit applied).
    pub applied_balance: Money,
    /// What the invoice would ask for, as Stripe will show it: 0 when what is left
    /// after the balance is below the currency's minimum charge.
    pub amount_due: Money,
    /// That remainder below the minimum charge, which Stripe would move to the payer's
    /// balance as a debit for the next invoice (zero otherwise).
    pub carried_to_balance: Money,
    /// The payer's balance after finalization (the carried remainder included).
    pub ending_balance: Money,
    /// Whether Stripe would mark the invoice paid at finalization (nothing due, or less
    /// than the minimum charge).
    pub paid_at_finalization: bool,
}

/// How far [`crate::sync::Billbridge::raise_invoice`] takes an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Raise {
    /// Create it with its lines and leave it as an editable draft.
    Draft,
    /// Also finalize it (number, payment page and PDF assigned; balance applied).
    Finalize,
    /// Also send it to the payer.
    FinalizeAndSend,
}

/// A raise leaves an editable draft unless told otherwise: nothing reaches the payer by
/// default.
impl Default for Raise {
    fn default() -> Self {
        Raise::Draft
    }
}

crate::vocabulary!(Raise, "raise mode", "unknown_raise_mode", {
    Raise::Draft => "draft",
    Raise::Finalize => "finalize",
    Raise::FinalizeAndSend => "finalize_and_send",
});

/// How an invoice paid outside Stripe was paid: the same methods the offline ledger
/// records.
pub use crate::domain::ledger::PaymentMethod;

/// A payment received outside Stripe, for
/// [`crate::sync::Billbridge::mark_paid_outside_stripe`].
pub use crate::mirror::PaidOutside;

//! Credit notes (`cn_…`): reductions of a finalized invoice. Decoded so that replies
//! and events about them are readable; billbridge does not create them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Customer, Expandable, HasId, Invoice, MetadataMap};
use crate::redact::redacted;

string_enum! {
    /// Whether a credit note is in effect.
    pub enum CreditNoteStatus {
        /// In effect.
        Issued = "issued",
        /// Voided.
        Void = "void",
    }
}

/// A credit note.
///
/// `Debug` shows ids, amounts and metadata keys; the memo (free text the host writes)
/// shows only whether it is set.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditNote {
    /// `cn_…`.
    pub id: String,
    /// Credit note number.
    #[serde(default)]
    pub number: Option<String>,
    /// The invoice credited.
    #[serde(default)]
    pub invoice: Option<Expandable<Invoice>>,
    /// The customer credited.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// Amount credited in minor units, tax included.
    pub amount: i64,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Total in minor units.
    #[serde(default)]
    pub total: i64,
    /// In effect or voided.
    pub status: CreditNoteStatus,
    /// Shown to the payer.
    #[serde(default)]
    pub memo: Option<String>,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl fmt::Debug for CreditNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CreditNote {
            id,
            number,
            invoice,
            customer,
            amount,
            currency,
            total,
            status,
            memo,
            metadata,
            created,
            livemode,
        } = self;
        f.debug_struct("CreditNote")
            .field("id", id)
            .field("number", number)
            .field("invoice", invoice)
            .field("customer", customer)
            .field("amount", amount)
            .field("currency", currency)
            .field("total", total)
            .field("status", status)
            .field("memo", &redacted(memo))
            .field("metadata", metadata)
            .field("created", created)
            .field("livemode", livemode)
            .finish()
    }
}

impl HasId for CreditNote {
    fn id(&self) -> &str {
        &self.id
    }
}

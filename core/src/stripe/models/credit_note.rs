//! Credit notes (`cn_…`): reductions of a finalized invoice. Decoded so that replies
//! and events about them are readable; billbridge does not create them.

use serde::{Deserialize, Serialize};

use super::{Customer, Expandable, HasId, Invoice, MetadataMap};

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

impl HasId for CreditNote {
    fn id(&self) -> &str {
        &self.id
    }
}

//! Invoice payments: one payment (or attempt) towards an invoice, since partial
//! payments exist. Decoded so that replies and events about them are readable.

use serde::{Deserialize, Serialize};

use super::HasId;

/// One payment towards an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePayment {
    /// The payment's id.
    pub id: String,
    /// The invoice paid (`in_…`).
    #[serde(default)]
    pub invoice: Option<String>,
    /// Amount paid in minor units, once paid.
    #[serde(default)]
    pub amount_paid: Option<i64>,
    /// Amount requested in minor units.
    #[serde(default)]
    pub amount_requested: Option<i64>,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Status as Stripe sends it (`open`, `paid`, `canceled`, …).
    #[serde(default)]
    pub status: Option<String>,
    /// Whether this is the invoice's default payment.
    #[serde(default)]
    pub is_default: bool,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl HasId for InvoicePayment {
    fn id(&self) -> &str {
        &self.id
    }
}

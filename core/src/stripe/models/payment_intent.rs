//! Payment intents (`pi_…`): decoded only far enough to identify one; its client
//! secret is deliberately not read.

use serde::{Deserialize, Serialize};

use super::{HasId, MetadataMap};

/// A payment intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentIntent {
    /// `pi_…`.
    pub id: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Amount received so far in minor units.
    #[serde(default)]
    pub amount_received: i64,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Status as Stripe sends it (`requires_payment_method`, `succeeded`, …).
    pub status: String,
    /// The customer, when there is one (`cus_…`).
    #[serde(default)]
    pub customer: Option<String>,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl HasId for PaymentIntent {
    fn id(&self) -> &str {
        &self.id
    }
}

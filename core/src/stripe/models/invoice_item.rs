//! Invoice items (`ii_…`): pending or attached amounts that become invoice lines.

use serde::{Deserialize, Serialize};

use super::{Customer, Expandable, HasId, Invoice, Metadata, Period, Pricing, null_as_default};

string_enum! {
    /// What an invoice item was generated from.
    pub enum InvoiceItemParentType {
        /// A subscription.
        SubscriptionDetails = "subscription_details",
    }
}

/// An invoice item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceItem {
    /// `ii_…`.
    pub id: String,
    /// The customer billed.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// The invoice it is attached to; `None` while pending.
    #[serde(default)]
    pub invoice: Option<Expandable<Invoice>>,
    /// Amount in minor units (unit amount × quantity); negative is a credit.
    pub amount: i64,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Shown to the payer.
    #[serde(default)]
    pub description: Option<String>,
    /// Quantity.
    #[serde(default = "one")]
    pub quantity: i64,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Metadata,
    /// The service period.
    #[serde(default)]
    pub period: Option<Period>,
    /// How the item is priced.
    #[serde(default)]
    pub pricing: Option<Pricing>,
    /// What generated the item.
    #[serde(default)]
    pub parent: Option<InvoiceItemParent>,
    /// Whether discounts apply.
    #[serde(default)]
    pub discountable: bool,
    /// Whether it is a proration.
    #[serde(default)]
    pub proration: bool,
    /// When the item was created, unix seconds.
    #[serde(default)]
    pub date: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

fn one() -> i64 {
    1
}

impl HasId for InvoiceItem {
    fn id(&self) -> &str {
        &self.id
    }
}

/// The `parent` of an invoice item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceItemParent {
    /// Which of the details below applies.
    #[serde(rename = "type")]
    pub parent_type: InvoiceItemParentType,
    /// For items from a subscription.
    #[serde(default)]
    pub subscription_details: Option<SubscriptionDetails>,
}

/// The subscription an invoice item came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionDetails {
    /// `sub_…`.
    #[serde(default)]
    pub subscription: Option<String>,
}

//! Invoice line items (`il_…`): post-basil lines carry `pricing` and `parent`
//! instead of `price`, `plan` and `invoice_item`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{HasId, MetadataMap};
use crate::redact::redacted;

string_enum! {
    /// How a line (or invoice item) is priced.
    pub enum PricingType {
        /// Priced from a Price object (`pricing.price_details`).
        PriceDetails = "price_details",
    }
}

string_enum! {
    /// What a line was generated from.
    pub enum LineParentType {
        /// A one-off invoice item.
        InvoiceItemDetails = "invoice_item_details",
        /// A subscription item.
        SubscriptionItemDetails = "subscription_item_details",
    }
}

/// One line of an invoice.
///
/// `Debug` shows the description only as set or not: the host writes it and it may
/// name the patient or the care given.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLineItem {
    /// `il_…`.
    pub id: String,
    /// The invoice this line belongs to.
    #[serde(default)]
    pub invoice: Option<String>,
    /// Line amount in minor units (unit amount × quantity), before discounts and taxes.
    pub amount: i64,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Shown to the payer.
    #[serde(default)]
    pub description: Option<String>,
    /// Quantity, when the line has one.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// The service period the line covers.
    #[serde(default)]
    pub period: Option<Period>,
    /// How the line is priced.
    #[serde(default)]
    pub pricing: Option<Pricing>,
    /// What the line was generated from.
    #[serde(default)]
    pub parent: Option<LineParent>,
    /// Whether discounts apply to the line.
    #[serde(default)]
    pub discountable: bool,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl fmt::Debug for InvoiceLineItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let InvoiceLineItem {
            id,
            invoice,
            amount,
            currency,
            description,
            quantity,
            metadata,
            period,
            pricing,
            parent,
            discountable,
            livemode,
        } = self;
        f.debug_struct("InvoiceLineItem")
            .field("id", id)
            .field("invoice", invoice)
            .field("amount", amount)
            .field("currency", currency)
            .field("description", &redacted(description))
            .field("quantity", quantity)
            .field("metadata", metadata)
            .field("period", period)
            .field("pricing", pricing)
            .field("parent", parent)
            .field("discountable", discountable)
            .field("livemode", livemode)
            .finish()
    }
}

impl HasId for InvoiceLineItem {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A service period, unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Start of the period.
    pub start: i64,
    /// End of the period.
    pub end: i64,
}

/// The `pricing` of a line or invoice item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pricing {
    /// Which kind of pricing follows.
    #[serde(rename = "type")]
    pub pricing_type: PricingType,
    /// The Price used, for `price_details`.
    #[serde(default)]
    pub price_details: Option<PriceDetails>,
    /// Unit amount in minor units as a decimal string (may carry decimals).
    #[serde(default)]
    pub unit_amount_decimal: Option<String>,
}

/// Which Price and Product a line was priced from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceDetails {
    /// `price_…`.
    pub price: String,
    /// `prod_…`.
    #[serde(default)]
    pub product: Option<String>,
}

/// The `parent` of a line: what generated it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineParent {
    /// Which of the details below applies.
    #[serde(rename = "type")]
    pub parent_type: LineParentType,
    /// For lines from invoice items.
    #[serde(default)]
    pub invoice_item_details: Option<InvoiceItemDetails>,
    /// For lines from subscription items.
    #[serde(default)]
    pub subscription_item_details: Option<SubscriptionItemDetails>,
}

/// A line generated from an invoice item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceItemDetails {
    /// `ii_…`.
    #[serde(default)]
    pub invoice_item: Option<String>,
    /// Whether it is a proration.
    #[serde(default)]
    pub proration: bool,
    /// The subscription, when there is one.
    #[serde(default)]
    pub subscription: Option<String>,
}

/// A line generated from a subscription item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionItemDetails {
    /// The invoice item, when the line came from one.
    #[serde(default)]
    pub invoice_item: Option<String>,
    /// Whether it is a proration.
    #[serde(default)]
    pub proration: bool,
    /// `sub_…`.
    #[serde(default)]
    pub subscription: Option<String>,
    /// `si_…`.
    #[serde(default)]
    pub subscription_item: Option<String>,
}

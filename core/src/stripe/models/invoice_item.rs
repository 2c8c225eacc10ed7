//! Invoice items (`ii_…`): pending or attached amounts that become invoice lines.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Customer, Expandable, HasId, Invoice, MetadataMap, Period, Pricing};
use crate::redact::redacted;

string_enum! {
    /// What an invoice item was generated from.
    pub enum InvoiceItemParentType {
        /// A subscription.
        SubscriptionDetails = "subscription_details",
    }
}

/// An invoice item.
///
/// `Debug` shows the description only as set or not: the host writes it and it may
/// name the patient or the care given.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub metadata: MetadataMap,
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

impl fmt::Debug for InvoiceItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let InvoiceItem {
            id,
            customer,
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
            proration,
            date,
            livemode,
        } = self;
        f.debug_struct("InvoiceItem")
            .field("id", id)
            .field("customer", customer)
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
            .field("proration", proration)
            .field("date", date)
            .field("livemode", livemode)
            .finish()
    }
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

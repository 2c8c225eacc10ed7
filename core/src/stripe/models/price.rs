//! Prices (`price_…`): an amount and currency for a product, one-off or recurring.

use serde::{Deserialize, Serialize};

use super::{Expandable, HasId, MetadataMap, Product};

string_enum! {
    /// One-off or recurring.
    pub enum PriceType {
        /// Charged once.
        OneTime = "one_time",
        /// Charged every interval (subscriptions).
        Recurring = "recurring",
    }
}

string_enum! {
    /// How the amount is computed from the quantity.
    pub enum BillingScheme {
        /// `unit_amount` × quantity.
        PerUnit = "per_unit",
        /// From tiers.
        Tiered = "tiered",
    }
}

string_enum! {
    /// Whether the amount includes tax.
    pub enum TaxBehavior {
        /// Tax is added on top.
        Exclusive = "exclusive",
        /// Tax is included.
        Inclusive = "inclusive",
        /// Not yet decided.
        Unspecified = "unspecified",
    }
}

string_enum! {
    /// Billing frequency of a recurring price.
    pub enum RecurringInterval {
        /// Daily.
        Day = "day",
        /// Weekly.
        Week = "week",
        /// Monthly.
        Month = "month",
        /// Yearly.
        Year = "year",
    }
}

/// A Stripe price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// `price_…`.
    pub id: String,
    /// Whether it can be used for new purchases.
    #[serde(default = "yes")]
    pub active: bool,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Unit amount in minor units; `None` for tiered or custom prices.
    #[serde(default)]
    pub unit_amount: Option<i64>,
    /// Unit amount as a decimal string of minor units (may carry decimals).
    #[serde(default)]
    pub unit_amount_decimal: Option<String>,
    /// The product sold, as an id unless expanded.
    pub product: Expandable<Product>,
    /// One-off or recurring.
    #[serde(rename = "type")]
    pub price_type: PriceType,
    /// How the amount is computed.
    #[serde(default)]
    pub billing_scheme: Option<BillingScheme>,
    /// Whether the amount includes tax.
    #[serde(default)]
    pub tax_behavior: Option<TaxBehavior>,
    /// Frequency, for recurring prices.
    #[serde(default)]
    pub recurring: Option<Recurring>,
    /// A stable key to look the price up by.
    #[serde(default)]
    pub lookup_key: Option<String>,
    /// Internal name.
    #[serde(default)]
    pub nickname: Option<String>,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

fn yes() -> bool {
    true
}

impl HasId for Price {
    fn id(&self) -> &str {
        &self.id
    }
}

/// The frequency of a recurring price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurring {
    /// The unit of the interval.
    pub interval: RecurringInterval,
    /// How many units between charges.
    #[serde(default = "one")]
    pub interval_count: i64,
}

fn one() -> i64 {
    1
}

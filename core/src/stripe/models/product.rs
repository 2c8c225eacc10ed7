//! Products (`prod_…`): what a price sells; its name is shown to the payer.

use serde::{Deserialize, Serialize};

use super::{Expandable, HasId, MetadataMap, Price};

/// A Stripe product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// `prod_…`.
    pub id: String,
    /// Shown to the payer on invoices and receipts.
    pub name: String,
    /// Whether it can be used in new prices and invoices.
    #[serde(default = "yes")]
    pub active: bool,
    /// Shown to the payer.
    #[serde(default)]
    pub description: Option<String>,
    /// The default price, as an id unless expanded.
    #[serde(default)]
    pub default_price: Option<Expandable<Price>>,
    /// Unit name shown on invoices ("session").
    #[serde(default)]
    pub unit_label: Option<String>,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Last update, unix seconds.
    #[serde(default)]
    pub updated: Option<i64>,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

fn yes() -> bool {
    true
}

impl HasId for Product {
    fn id(&self) -> &str {
        &self.id
    }
}

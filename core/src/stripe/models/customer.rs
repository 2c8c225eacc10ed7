//! The customer object: who an invoice is billed to, and their running balance.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{HasId, MetadataMap, null_as_default};
use crate::redact::redacted;

/// A Stripe customer (`cus_…`).
///
/// `Debug` shows ids, amounts, times and metadata keys; name, email, phone, description
/// and address show only whether they are set.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
    /// Display name, shown on invoices.
    #[serde(default)]
    pub name: Option<String>,
    /// Where invoices are sent (≤ 512 characters).
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number (≤ 20 characters).
    #[serde(default)]
    pub phone: Option<String>,
    /// Free-form internal description.
    #[serde(default)]
    pub description: Option<String>,
    /// Billing address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Balance in minor units of [`Customer::currency`]: negative is a credit owed to
    /// the customer, positive a debit the customer owes. Applied to the next invoice
    /// in that currency when it is finalized.
    #[serde(default)]
    pub balance: i64,
    /// The currency of the balance, once the customer has one (lowercase ISO code).
    #[serde(default)]
    pub currency: Option<String>,
    /// Key-value pairs set by billbridge; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Languages for emails and invoices, most preferred first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub preferred_locales: Vec<String>,
    /// Invoice defaults for this customer.
    #[serde(default)]
    pub invoice_settings: Option<CustomerInvoiceSettings>,
    /// Prefix of this customer's invoice numbers.
    #[serde(default)]
    pub invoice_prefix: Option<String>,
    /// Whether the latest invoice is past due.
    #[serde(default)]
    pub delinquent: Option<bool>,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let Customer {
            id,
            name,
            email,
            phone,
            description,
            address,
            balance,
            currency,
            metadata,
            preferred_locales,
            invoice_settings,
            invoice_prefix,
            delinquent,
            created,
            livemode,
        } = self;
        f.debug_struct("Customer")
            .field("id", id)
            .field("name", &redacted(name))
            .field("email", &redacted(email))
            .field("phone", &redacted(phone))
            .field("description", &redacted(description))
            .field("address", &redacted(address))
            .field("balance", balance)
            .field("currency", currency)
            .field("metadata", metadata)
            .field("preferred_locales", preferred_locales)
            .field("invoice_settings", invoice_settings)
            .field("invoice_prefix", invoice_prefix)
            .field("delinquent", delinquent)
            .field("created", created)
            .field("livemode", livemode)
            .finish()
    }
}

impl HasId for Customer {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A postal address; every part may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street line 1.
    #[serde(default)]
    pub line1: Option<String>,
    /// Street line 2.
    #[serde(default)]
    pub line2: Option<String>,
    /// City or town.
    #[serde(default)]
    pub city: Option<String>,
    /// State, county, province or region.
    #[serde(default)]
    pub state: Option<String>,
    /// Postal or ZIP code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// Two-letter ISO country code.
    #[serde(default)]
    pub country: Option<String>,
}

/// `invoice_settings` of a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerInvoiceSettings {
    /// Payment method used for invoices by default (`pm_…`), when set and not expanded.
    #[serde(default, deserialize_with = "id_or_expanded")]
    pub default_payment_method: Option<String>,
    /// Default footer for this customer's invoices.
    #[serde(default)]
    pub footer: Option<String>,
}

/// Reads an id that may arrive expanded into an object, keeping only the id.
fn id_or_expanded<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct WithId {
        id: String,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IdOrObject {
        Id(String),
        Object(WithId),
    }
    Ok(
        Option::<IdOrObject>::deserialize(deserializer)?.map(|value| match value {
            IdOrObject::Id(id) => id,
            IdOrObject::Object(object) => object.id,
        }),
    )
}

//! The JSON objects Stripe returns, as serde types: only the fields billbridge reads
//! plus the important ones, shaped as in API versions since `2025-03-31.basil`
//! (invoices without `paid`/`charge`/`payment_intent`, lines priced through `pricing`).
//!
//! Decoding is lenient where Stripe evolves: unknown fields are ignored, every enum
//! keeps values it does not know in an `Unknown(String)` variant, nullable fields are
//! `Option`, and a `null` metadata or list decodes as empty.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum as Stripe sends it, with an `Unknown(String)` variant that
/// keeps values added after this version, `as_str`, `Display`, `From<&str>`,
/// `From<String>` and serde support that never fails on an unknown value.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
            /// A value this version of billbridge does not know yet, as Stripe sent it.
            Unknown(String),
        }

        impl $name {
            /// The value as Stripe spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => $name::$variant, )+
                    _ => $name::Unknown(value),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str($crate::stripe::models::StringEnumVisitor::<$name>::new(
                    stringify!($name),
                ))
            }
        }
    };
}

mod balance_transaction;
mod credit_note;
mod customer;
mod deleted;
mod error;
mod event;
mod invoice;
mod invoice_item;
mod invoice_payment;
mod line_item;
mod payment_intent;
mod price;
mod product;
mod webhook_endpoint;

pub use balance_transaction::{BalanceTransactionType, CustomerBalanceTransaction};
pub use credit_note::{CreditNote, CreditNoteStatus};
pub use customer::{Address, Customer, CustomerInvoiceSettings};
pub use deleted::{Deleted, DeletedCustomer, DeletedInvoice, DeletedInvoiceItem};
pub use error::{ApiError, ErrorBody, ErrorType};
pub use event::{Event, EventData, EventObject, EventType, InvoiceAmounts};
pub use invoice::{CollectionMethod, CustomField, Invoice, StatusTransitions};
pub use invoice_item::{
    InvoiceItem, InvoiceItemParent, InvoiceItemParentType, SubscriptionDetails,
};
pub use invoice_payment::InvoicePayment;
pub use line_item::{
    InvoiceItemDetails, InvoiceLineItem, LineParent, LineParentType, Period, PriceDetails, Pricing,
    PricingType, SubscriptionItemDetails,
};
pub use payment_intent::PaymentIntent;
pub use price::{BillingScheme, Price, PriceType, Recurring, RecurringInterval, TaxBehavior};
pub use product::Product;
pub use webhook_endpoint::WebhookEndpoint;

/// The invoice status shared with the domain layer.
pub use crate::domain::status::InvoiceStatus;

/// Stripe metadata: string keys to string values, sorted by key; `Debug` shows keys only.
pub use crate::domain::metadata::MetadataMap;

/// Anything Stripe identifies by an `id`.
pub trait HasId {
    /// The Stripe id (`cus_…`, `in_…`, …).
    fn id(&self) -> &str;
}

/// A reference Stripe returns either as an id or, when asked to `expand` it, as the
/// whole object.
#[derive(Debug, Clone, PartialEq)]
pub enum Expandable<T> {
    /// Not expanded: only the id.
    Id(String),
    /// Expanded: the object itself.
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    /// The referenced object's id, expanded or not.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(object) => object.id(),
        }
    }
}

impl<T> Expandable<T> {
    /// The object when it was expanded.
    pub fn as_object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(object) => Some(object),
        }
    }
}

impl<T: Serialize> Serialize for Expandable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expandable::Id(id) => serializer.serialize_str(id),
            Expandable::Object(object) => object.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Expandable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor instead of `#[serde(untagged)]`: untagged buffers the whole object
        // before trying each shape, which doubles the work on every decode.
        struct ExpandableVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ExpandableVisitor<T> {
            type Value = Expandable<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id string or an expanded object")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Expandable::Id(value.to_owned()))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Expandable::Id(value))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|object| Expandable::Object(Box::new(object)))
            }
        }

        deserializer.deserialize_any(ExpandableVisitor(PhantomData))
    }
}

/// One page of a list endpoint: `{object: "list", data, has_more, url}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct List<T> {
    /// Always `"list"`.
    #[serde(default = "list_object")]
    pub object: String,
    /// The items of this page, newest first for most endpoints.
    #[serde(default = "Vec::new", deserialize_with = "null_as_default")]
    pub data: Vec<T>,
    /// Whether more items follow; page on with `starting_after=<last id>`.
    #[serde(default)]
    pub has_more: bool,
    /// The endpoint this list comes from (`/v1/invoices/in_…/lines`).
    #[serde(default)]
    pub url: String,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            object: list_object(),
            data: Vec::new(),
            has_more: false,
            url: String::new(),
        }
    }
}

fn list_object() -> String {
    "list".to_owned()
}

/// One page of a search endpoint: `{object: "search_result", data, has_more, next_page}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct SearchResult<T> {
    /// The matches on this page.
    #[serde(default = "Vec::new", deserialize_with = "null_as_default")]
    pub data: Vec<T>,
    /// Whether more matches follow.
    #[serde(default)]
    pub has_more: bool,
    /// The cursor for the next page (`page=<next_page>`), when there is one.
    #[serde(default)]
    pub next_page: Option<String>,
    /// The search endpoint, when Stripe sends it.
    #[serde(default)]
    pub url: Option<String>,
}

/// Decodes `null` (or a missing field, with `#[serde(default)]`) as the type's default.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Serde visitor behind [`string_enum!`]: reads a string without failing on values it
/// does not know.
#[doc(hidden)]
pub struct StringEnumVisitor<T> {
    name: &'static str,
    marker: PhantomData<T>,
}

impl<T> StringEnumVisitor<T> {
    /// A visitor for the enum called `name` (used in error messages).
    pub fn new(name: &'static str) -> Self {
        StringEnumVisitor {
            name,
            marker: PhantomData,
        }
    }
}

impl<'de, T> Visitor<'de> for StringEnumVisitor<T>
where
    T: for<'a> From<&'a str> + From<String>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string value of {}", self.name)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Ok(T::from(value))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<T, E> {
        Ok(T::from(value))
    }
}

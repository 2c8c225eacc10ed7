//! The objects the mock stores and how each renders to Stripe's JSON: every key that
//! Stripe's published example of the object carries, with values taken from the state
//! (null where Stripe has nothing to say).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::rules;
use super::state::{Account, Settings};
use billbridge::domain::status::InvoiceStatus;
use billbridge::redact::redacted;

pub(crate) use billbridge::domain::metadata::MetadataMap;

/// A postal address; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl Address {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "city": self.city,
            "country": self.country,
            "line1": self.line1,
            "line2": self.line2,
            "postal_code": self.postal_code,
            "state": self.state,
        })
    }
}

/// A customer. `Debug` hides the personal fields.
#[derive(Clone)]
pub(crate) struct Customer {
    pub id: String,
    pub created: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub address: Option<Address>,
    pub metadata: MetadataMap,
    pub preferred_locales: Vec<String>,
    pub default_payment_method: Option<String>,
    pub invoice_footer: Option<String>,
    /// Negative = credit owed to the customer; positive = debit.
    pub balance: i64,
    pub currency: Option<String>,
    pub invoice_prefix: String,
    pub next_invoice_sequence: u64,
    pub deleted: bool,
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("created", &self.created)
            .field("name", &redacted(&self.name))
            .field("email", &redacted(&self.email))
            .field("phone", &redacted(&self.phone))
            .field("description", &redacted(&self.description))
            .field("address", &redacted(&self.address))
            .field("metadata", &self.metadata)
            .field("preferred_locales", &self.preferred_locales)
            .field("default_payment_method", &self.default_payment_method)
            .field("invoice_footer", &redacted(&self.invoice_footer))
            .field("balance", &self.balance)
            .field("currency", &self.currency)
            .field("invoice_prefix", &self.invoice_prefix)
            .field("next_invoice_sequence", &self.next_invoice_sequence)
            .field("deleted", &self.deleted)
            .finish()
    }
}

impl Customer {
    pub(crate) fn to_json(&self) -> Value {
        if self.deleted {
            return json!({"id": self.id, "object": "customer", "deleted": true});
        }
        json!({
            "id": self.id,
            "object": "customer",
            "address": self.address.as_ref().map(Address::to_json),
            "balance": self.balance,
            "created": self.created,
            "currency": self.currency,
            "default_source": null,
            "delinquent": false,
            "description": self.description,
            "discount": null,
            "email": self.email,
            "invoice_prefix": self.invoice_prefix,
            "invoice_settings": {
                "custom_fields": null,
                "default_payment_method": self.default_payment_method,
                "footer": self.invoice_footer,
                "rendering_options": null,
            },
            "livemode": false,
            "metadata": self.metadata,
            "name": self.name,
            "next_invoice_sequence": self.next_invoice_sequence,
            "phone": self.phone,
            "preferred_locales": self.preferred_locales,
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null,
        })
    }
}

/// A customer balance transaction (immutable once written).
#[derive(Debug, Clone)]
pub(crate) struct BalanceTransaction {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub ending_balance: i64,
    pub invoice: Option<String>,
    pub metadata: Option<MetadataMap>,
    /// `adjustment`, `applied_to_invoice`, `unapplied_from_invoice`, `invoice_too_small`.
    pub kind: &'static str,
}

impl BalanceTransaction {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "customer_balance_transaction",
            "amount": self.amount,
            "checkout_session": null,
            "created": self.created,
            "credit_note": null,
            "currency": self.currency,
            "customer": self.customer,
            "customer_account": null,
            "description": self.description,
            "ending_balance": self.ending_balance,
            "invoice": self.invoice,
            "livemode": false,
            "metadata": self.metadata,
            "type": self.kind,
        })
    }
}

/// A product of the catalogue.
#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: String,
    pub created: i64,
    pub updated: i64,
    pub name: String,
    pub description: Option<String>,
    pub metadata: MetadataMap,
    pub active: bool,
    pub default_price: Option<String>,
    pub unit_label: Option<String>,
    pub url: Option<String>,
    pub statement_descriptor: Option<String>,
    pub tax_code: Option<String>,
}

impl Product {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "product",
            "active": self.active,
            "created": self.created,
            "default_price": self.default_price,
            "description": self.description,
            "images": [],
            "livemode": false,
            "marketing_features": [],
            "metadata": self.metadata,
            "name": self.name,
            "package_dimensions": null,
            "shippable": null,
            "statement_descriptor": self.statement_descriptor,
            "tax_code": self.tax_code,
            "unit_label": self.unit_label,
            "updated": self.updated,
            "url": self.url,
        })
    }
}

/// A one-time price.
#[derive(Debug, Clone)]
pub(crate) struct Price {
    pub id: String,
    pub created: i64,
    pub product: String,
    pub currency: String,
    pub unit_amount: i64,
    pub lookup_key: Option<String>,
    pub nickname: Option<String>,
    pub metadata: MetadataMap,
    pub active: bool,
    /// Made from `price_data` on a line: retrievable, never listed.
    pub inline: bool,
}

impl Price {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "price",
            "active": self.active,
            "billing_scheme": "per_unit",
            "created": self.created,
            "currency": self.currency,
            "custom_unit_amount": null,
            "livemode": false,
            "lookup_key": self.lookup_key,
            "metadata": self.metadata,
            "nickname": self.nickname,
            "product": self.product,
            "recurring": null,
            "tax_behavior": "unspecified",
            "tiers_mode": null,
            "transform_quantity": null,
            "type": "one_time",
            "unit_amount": self.unit_amount,
            "unit_amount_decimal": self.unit_amount.to_string(),
        })
    }
}

/// An invoice item; on an invoice it shows as one line item. `Debug` hides the
/// description, which may name the patient or the care given.
#[derive(Clone)]
pub(crate) struct InvoiceItem {
    pub id: String,
    pub line_id: String,
    pub created: i64,
    pub customer: String,
    /// `None` while pending (not yet on an invoice).
    pub invoice: Option<String>,
    pub currency: String,
    pub amount: i64,
    /// Per-unit amount when priced; `None` when created with a flat `amount`.
    pub unit_amount: Option<i64>,
    pub quantity: i64,
    pub description: Option<String>,
    pub metadata: MetadataMap,
    pub period_start: i64,
    pub period_end: i64,
    pub price: Option<String>,
    pub product: Option<String>,
    pub discountable: bool,
}

impl fmt::Debug for InvoiceItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceItem")
            .field("id", &self.id)
            .field("line_id", &self.line_id)
            .field("created", &self.created)
            .field("customer", &self.customer)
            .field("invoice", &self.invoice)
            .field("currency", &self.currency)
            .field("amount", &self.amount)
            .field("unit_amount", &self.unit_amount)
            .field("quantity", &self.quantity)
            .field("description", &redacted(&self.description))
            .field("metadata", &self.metadata)
            .field("period_start", &self.period_start)
            .field("period_end", &self.period_end)
            .field("price", &self.price)
            .field("product", &self.product)
            .field("discountable", &self.discountable)
            .finish()
    }
}

impl InvoiceItem {
    fn pricing(&self) -> Value {
        let unit = self.unit_amount.unwrap_or(self.amount);
        let mut pricing = json!({
            "type": "price_details",
            "unit_amount_decimal": unit.to_string(),
        });
        // `price_details` is absent, never null, when no price is behind the item.
        if let Some(price) = &self.price {
            pricing["price_details"] = json!({"price": price, "product": self.product});
        }
        pricing
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "invoiceitem",
            "amount": self.amount,
            "currency": self.currency,
            "customer": self.customer,
            "customer_account": null,
            "date": self.created,
            "description": self.description,
            "discountable": self.discountable,
            "discounts": [],
            "invoice": self.invoice,
            "livemode": false,
            "metadata": self.metadata,
            "net_amount": self.amount,
            "parent": null,
            "period": {"end": self.period_end, "start": self.period_start},
            "pricing": self.pricing(),
            "proration": false,
            "quantity": self.quantity,
            "quantity_decimal": self.quantity.to_string(),
            "tax_rates": [],
            "test_clock": null,
        })
    }

    pub(crate) fn line_json(&self) -> Value {
        json!({
            "id": self.line_id,
            "object": "line_item",
            "amount": self.amount,
            "currency": self.currency,
            "description": self.description,
            "discount_amounts": [],
            "discountable": self.discountable,
            "discounts": [],
            "invoice": self.invoice,
            "livemode": false,
            "metadata": self.metadata,
            "parent": {
                "type": "invoice_item_details",
                "invoice_item_details": {
                    "invoice_item": self.id,
                    "proration": false,
                    "proration_details": {"credited_items": null},
                    "subscription": null,
                },
                "subscription_item_details": null,
            },
            "period": {"end": self.period_end, "start": self.period_start},
            "pretax_credit_amounts": [],
            "pricing": self.pricing(),
            "quantity": self.quantity,
            "quantity_decimal": self.quantity.to_string(),
            "subscription": null,
            "subtotal": self.amount,
            "taxes": [],
        })
    }
}

/// Customer details copied onto an invoice when it is finalized. `Debug` shows only
/// which are set.
#[derive(Clone, Default)]
pub(crate) struct CustomerSnapshot {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Address>,
}

impl fmt::Debug for CustomerSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerSnapshot")
            .field("name", &redacted(&self.name))
            .field("email", &redacted(&self.email))
            .field("phone", &redacted(&self.phone))
            .field("address", &redacted(&self.address))
            .finish()
    }
}

impl CustomerSnapshot {
    pub(crate) fn of(customer: Option<&Customer>) -> Self {
        customer.map_or_else(Self::default, |customer| Self {
            name: customer.name.clone(),
            email: customer.email.clone(),
            phone: customer.phone.clone(),
            address: customer.address.clone(),
        })
    }
}

/// The money fixed at finalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Finalized {
    pub starting_balance: i64,
    pub ending_balance: i64,
    pub amount_due: i64,
    /// Sum of the balance transactions this invoice wrote, undone on void.
    pub balance_moved: i64,
}

/// An invoice. `Debug` hides the free text shown to the payer, the links that open
/// the invoice and the customer details frozen onto it.
#[derive(Clone)]
pub(crate) struct Invoice {
    pub id: String,
    pub created: i64,
    pub customer: String,
    pub currency: String,
    pub collection_method: String,
    pub days_until_due: Option<i64>,
    pub due_date: Option<i64>,
    pub auto_advance: bool,
    pub description: Option<String>,
    pub footer: Option<String>,
    pub custom_fields: Vec<(String, String)>,
    pub metadata: MetadataMap,
    pub status: InvoiceStatus,
    pub number: Option<String>,
    pub hosted_invoice_url: Option<String>,
    pub invoice_pdf: Option<String>,
    pub frozen_customer: Option<CustomerSnapshot>,
    /// Invoice item ids in line order.
    pub items: Vec<String>,
    pub finalized: Option<Finalized>,
    pub amount_paid: i64,
    /// The part of `amount_paid` paid outside Stripe (`paid_out_of_band`).
    pub amount_paid_off_stripe: i64,
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub voided_at: Option<i64>,
    pub marked_uncollectible_at: Option<i64>,
    pub attempt_count: i64,
    pub attempted: bool,
    pub default_payment_method: Option<String>,
    pub statement_descriptor: Option<String>,
}

impl fmt::Debug for Invoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let custom_field_labels: Vec<&str> = self
            .custom_fields
            .iter()
            .map(|(label, _)| label.as_str())
            .collect();
        f.debug_struct("Invoice")
            .field("id", &self.id)
            .field("created", &self.created)
            .field("customer", &self.customer)
            .field("currency", &self.currency)
            .field("collection_method", &self.collection_method)
            .field("days_until_due", &self.days_until_due)
            .field("due_date", &self.due_date)
            .field("auto_advance", &self.auto_advance)
            .field("description", &redacted(&self.description))
            .field("footer", &redacted(&self.footer))
            .field("custom_field_labels", &custom_field_labels)
            .field("metadata", &self.metadata)
            .field("status", &self.status)
            .field("number", &self.number)
            .field("hosted_invoice_url", &redacted(&self.hosted_invoice_url))
            .field("invoice_pdf", &redacted(&self.invoice_pdf))
            .field("frozen_customer", &self.frozen_customer)
            .field("items", &self.items)
            .field("finalized", &self.finalized)
            .field("amount_paid", &self.amount_paid)
            .field("amount_paid_off_stripe", &self.amount_paid_off_stripe)
            .field("finalized_at", &self.finalized_at)
            .field("paid_at", &self.paid_at)
            .field("voided_at", &self.voided_at)
            .field("marked_uncollectible_at", &self.marked_uncollectible_at)
            .field("attempt_count", &self.attempt_count)
            .field("attempted", &self.attempted)
            .field("default_payment_method", &self.default_payment_method)
            .field("statement_descriptor", &self.statement_descriptor)
            .finish()
    }
}

/// The amounts of an invoice as Stripe shows them at this moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Amounts {
    pub subtotal: i64,
    pub total: i64,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub amount_remaining: i64,
    pub starting_balance: i64,
    pub ending_balance: Option<i64>,
}

impl Account {
    /// The invoice items of an invoice, in line order.
    pub(crate) fn lines_of<'a>(
        &'a self,
        invoice: &'a Invoice,
    ) -> impl Iterator<Item = &'a InvoiceItem> {
        invoice
            .items
            .iter()
            .filter_map(|id| self.invoice_items.get(id))
    }

    /// The balance that finalization would meet now: the customer's, when it is kept in
    /// the invoice's currency (a customer without a currency has no balance yet).
    pub(crate) fn applicable_balance(&self, invoice: &Invoice) -> i64 {
        match self.customers.get(&invoice.customer) {
            Some(customer) if customer.currency.as_deref() == Some(invoice.currency.as_str()) => {
                customer.balance
            }
            _ => 0,
        }
    }

    pub(crate) fn amounts(&self, invoice: &Invoice) -> Amounts {
        let subtotal: i64 = self
            .lines_of(invoice)
            .fold(0i64, |sum, item| sum.saturating_add(item.amount));
        let total = subtotal;
        let (amount_due, starting_balance, ending_balance) = match invoice.finalized {
            Some(finalized) => (
                finalized.amount_due,
                finalized.starting_balance,
                Some(finalized.ending_balance),
            ),
            None => {
                // A draft previews what finalization would ask with today's balance.
                let balance = self.applicable_balance(invoice);
                (
                    rules::apply_balance(balance, total, &invoice.currency)
                        .map_or(total.max(0), |application| application.amount_due),
                    balance,
                    None,
                )
            }
        };
        Amounts {
            subtotal,
            total,
            amount_due,
            amount_paid: invoice.amount_paid,
            amount_remaining: match invoice.status {
                InvoiceStatus::Void => 0,
                _ => amount_due - invoice.amount_paid,
            },
            starting_balance,
            ending_balance,
        }
    }

    pub(crate) fn invoice_json(&self, invoice: &Invoice, settings: &Settings) -> Value {
        let amounts = self.amounts(invoice);
        let live;
        let snapshot = match &invoice.frozen_customer {
            Some(snapshot) => snapshot,
            None => {
                live = CustomerSnapshot::of(self.customers.get(&invoice.customer));
                &live
            }
        };
        let all_lines: Vec<&InvoiceItem> = self.lines_of(invoice).collect();
        let shown: Vec<Value> = all_lines
            .iter()
            .take(10)
            .map(|item| item.line_json())
            .collect();
        let custom_fields = if invoice.custom_fields.is_empty() {
            Value::Null
        } else {
            Value::Array(
                invoice
                    .custom_fields
                    .iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect(),
            )
        };
        let mut object = Map::new();
        let mut put = |key: &str, value: Value| {
            object.insert(key.to_owned(), value);
        };
        put("id", json!(invoice.id));
        put("object", json!("invoice"));
        put("account_country", json!(settings.account_country));
        put("account_name", Value::Null);
        put("account_tax_ids", Value::Null);
        put("amount_due", json!(amounts.amount_due));
        put("amount_overpaid", json!(0));
        put("amount_paid", json!(amounts.amount_paid));
        put(
            "amount_paid_off_stripe",
            json!(invoice.amount_paid_off_stripe),
        );
        put("amount_remaining", json!(amounts.amount_remaining));
        put("amount_shipping", json!(0));
        put("application", Value::Null);
        put("attempt_count", json!(invoice.attempt_count));
        put("attempted", json!(invoice.attempted));
        put("auto_advance", json!(invoice.auto_advance));
        put(
            "automatic_tax",
            json!({"disabled_reason": null, "enabled": false, "liability": null, "provider": null, "status": null}),
        );
        put("automatically_finalizes_at", Value::Null);
        put("billing_reason", json!("manual"));
        put("collection_method", json!(invoice.collection_method));
        put("created", json!(invoice.created));
        put("currency", json!(invoice.currency));
        put("custom_fields", custom_fields);
        put("customer", json!(invoice.customer));
        put("customer_account", Value::Null);
        put(
            "customer_address",
            json!(snapshot.address.as_ref().map(Address::to_json)),
        );
        put("customer_email", json!(snapshot.email));
        put("customer_name", json!(snapshot.name));
        put("customer_phone", json!(snapshot.phone));
        put("customer_shipping", Value::Null);
        put("customer_tax_exempt", json!("none"));
        put("customer_tax_ids", json!([]));
        put(
            "default_payment_method",
            json!(invoice.default_payment_method),
        );
        put("default_source", Value::Null);
        put("default_tax_rates", json!([]));
        put("description", json!(invoice.description));
        put("discounts", json!([]));
        put("due_date", json!(invoice.due_date));
        put("effective_at", json!(invoice.finalized_at));
        put("ending_balance", json!(amounts.ending_balance));
        put("footer", json!(invoice.footer));
        put("from_invoice", Value::Null);
        put("hosted_invoice_url", json!(invoice.hosted_invoice_url));
        put("invoice_pdf", json!(invoice.invoice_pdf));
        put("issuer", json!({"type": "self"}));
        put("last_finalization_error", Value::Null);
        put("latest_revision", Value::Null);
        put(
            "lines",
            json!({
                "object": "list",
                "data": shown,
                "has_more": all_lines.len() > 10,
                "url": format!("/v1/invoices/{}/lines", invoice.id),
            }),
        );
        put("livemode", json!(false));
        put("metadata", json!(invoice.metadata));
        put("next_payment_attempt", Value::Null);
        put("number", json!(invoice.number));
        put("on_behalf_of", Value::Null);
        put("parent", Value::Null);
        put(
            "payment_settings",
            json!({"default_mandate": null, "payment_method_options": null, "payment_method_types": null}),
        );
        put("period_end", json!(invoice.created));
        put("period_start", json!(invoice.created));
        put("post_payment_credit_notes_amount", json!(0));
        put("pre_payment_credit_notes_amount", json!(0));
        put("receipt_number", Value::Null);
        put(
            "rendering",
            json!({"amount_tax_display": null, "pdf": null, "template": null, "template_version": null}),
        );
        put("shipping_cost", Value::Null);
        put("shipping_details", Value::Null);
        put("starting_balance", json!(amounts.starting_balance));
        put("statement_descriptor", json!(invoice.statement_descriptor));
        put("status", json!(invoice.status.as_str()));
        put(
            "status_transitions",
            json!({
                "finalized_at": invoice.finalized_at,
                "marked_uncollectible_at": invoice.marked_uncollectible_at,
                "paid_at": invoice.paid_at,
                "voided_at": invoice.voided_at,
            }),
        );
        put("subtotal", json!(amounts.subtotal));
        put("subtotal_excluding_tax", json!(amounts.subtotal));
        put("test_clock", Value::Null);
        put("total", json!(amounts.total));
        put("total_discount_amounts", json!([]));
        put("total_excluding_tax", json!(amounts.total));
        put("total_pretax_credit_amounts", json!([]));
        put("total_taxes", json!([]));
        put("webhooks_delivered_at", json!(invoice.created));
        Value::Object(object)
    }
}

/// A recorded event. The snapshot is kept as JSON text, not as a tree: a mock that has
/// answered thousands of invoices holds every event of them (as Stripe keeps events for
/// 30 days), and a tree takes several times the memory of its text. The text is shared,
/// not copied, between the account's event list and the webhook queue, and written out
/// as it is ([`Serialize`]).
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub id: String,
    pub kind: String,
    pub created: i64,
    pub object: Arc<RawValue>,
    pub previous_attributes: Option<Arc<RawValue>>,
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub account: Option<String>,
    pub api_version: String,
}

impl Event {
    /// A snapshot of `object` as JSON text (`null` if it cannot be written, which a tree
    /// of JSON values never fails to be).
    pub(crate) fn snapshot(object: &Value) -> Arc<RawValue> {
        serde_json::value::to_raw_value(object)
            .unwrap_or_else(|_| RawValue::NULL.to_owned())
            .into()
    }

    /// The event as a JSON tree (for event lists and retrieves).
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Data<'a>(&'a Event);
        impl Serialize for Data<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut data = serializer.serialize_map(None)?;
                data.serialize_entry("object", self.0.object.as_ref())?;
                if let Some(previous) = &self.0.previous_attributes {
                    data.serialize_entry("previous_attributes", previous.as_ref())?;
                }
                data.end()
            }
        }
        // Keys in the order Stripe writes them.
        let mut event = serializer.serialize_map(None)?;
        event.serialize_entry("id", &self.id)?;
        event.serialize_entry("object", "event")?;
        if let Some(account) = &self.account {
            event.serialize_entry("account", account)?;
        }
        event.serialize_entry("api_version", &self.api_version)?;
        event.serialize_entry("created", &self.created)?;
        event.serialize_entry("data", &Data(self))?;
        event.serialize_entry("livemode", &false)?;
        event.serialize_entry("pending_webhooks", &1)?;
        event.serialize_entry(
            "request",
            &json!({"id": self.request_id, "idempotency_key": self.idempotency_key}),
        )?;
        event.serialize_entry("type", &self.kind)?;
        event.end()
    }
}

/// The top-level keys whose values differ, with their old values, as Stripe puts in
/// `data.previous_attributes`. Metadata differences are given key by key.
pub(crate) fn previous_attributes(before: &Value, after: &Value) -> Option<Value> {
    let (Value::Object(before), Value::Object(after)) = (before, after) else {
        return None;
    };
    let mut previous = Map::new();
    for (key, old) in before {
        let new = after.get(key).unwrap_or(&Value::Null);
        if old == new {
            continue;
        }
        if key == "metadata"
            && let (Value::Object(old_map), Value::Object(new_map)) = (old, new)
        {
            let mut changed = Map::new();
            for (name, old_value) in old_map {
                if new_map.get(name) != Some(old_value) {
                    changed.insert(name.clone(), old_value.clone());
                }
            }
            for name in new_map.keys() {
                if !old_map.contains_key(name) {
                    changed.insert(name.clone(), Value::Null);
                }
            }
            previous.insert(key.clone(), Value::Object(changed));
            continue;
        }
        previous.insert(key.clone(), old.clone());
    }
    if previous.is_empty() {
        None
    } else {
        Some(Value::Object(previous))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSONAL: &[&str] = &[
        "John Deer",
        "john@example.com",
        "+447700900123",
        "12 Harley Street",
        "W1G 9PF",
        "1971-03-02",
        "Knee physiotherapy",
        "NHS 485 777 3456",
        "secret_link",
    ];

    fn metadata() -> MetadataMap {
        MetadataMap::from([
            ("patient_name", "John Deer"),
            ("date_of_birth", "1971-03-02"),
        ])
    }

    fn customer() -> Customer {
        Customer {
            id: "cus_Mock1".to_owned(),
            created: 1_700_000_000,
            name: Some("John Deer".to_owned()),
            email: Some("john@example.com".to_owned()),
            phone: Some("+447700900123".to_owned()),
            description: None,
            address: Some(Address {
                line1: Some("12 Harley Street".to_owned()),
                postal_code: Some("W1G 9PF".to_owned()),
                ..Address::default()
            }),
            metadata: metadata(),
            preferred_locales: vec!["en-GB".to_owned()],
            default_payment_method: None,
            invoice_footer: None,
            balance: -2500,
            currency: Some("gbp".to_owned()),
            invoice_prefix: "ABCD1234".to_owned(),
            next_invoice_sequence: 1,
            deleted: false,
        }
    }

    fn assert_nothing_personal(shown: &str) {
        for value in PERSONAL {
            assert!(!shown.contains(value), "`{value}` printed in: {shown}");
        }
    }

    #[test]
    fn customer_invoice_and_item_print_ids_and_amounts_but_no_personal_value() {
        let customer = customer();
        let shown = format!("{customer:?}");
        assert_nothing_personal(&shown);
        assert!(
            shown.contains("cus_Mock1") && shown.contains("-2500"),
            "{shown}"
        );
        assert!(shown.contains("date_of_birth"), "{shown}");
        assert!(shown.contains("description: None"), "{shown}");

        let item = InvoiceItem {
            id: "ii_Mock1".to_owned(),
            line_id: "il_Mock1".to_owned(),
            created: 1_700_000_000,
            customer: customer.id.clone(),
            invoice: Some("in_Mock1".to_owned()),
            currency: "gbp".to_owned(),
            amount: 6500,
            unit_amount: Some(6500),
            quantity: 1,
            description: Some("Knee physiotherapy".to_owned()),
            metadata: metadata(),
            period_start: 1_700_000_000,
            period_end: 1_700_000_000,
            price: None,
            product: None,
            discountable: true,
        };
        let shown = format!("{item:?}");
        assert_nothing_personal(&shown);
        assert!(
            shown.contains("ii_Mock1") && shown.contains("6500"),
            "{shown}"
        );

        let invoice = Invoice {
            id: "in_Mock1".to_owned(),
            created: 1_700_000_000,
            customer: customer.id.clone(),
            currency: "gbp".to_owned(),
            collection_method: "send_invoice".to_owned(),
            days_until_due: Some(30),
            due_date: None,
            auto_advance: false,
            description: Some("Knee physiotherapy".to_owned()),
            footer: None,
            custom_fields: vec![("NHS number".to_owned(), "NHS 485 777 3456".to_owned())],
            metadata: metadata(),
            status: InvoiceStatus::Open,
            number: Some("ABCD1234-0001".to_owned()),
            hosted_invoice_url: Some("https://invoice.stripe.com/i/secret_link".to_owned()),
            invoice_pdf: None,
            frozen_customer: Some(CustomerSnapshot::of(Some(&customer))),
            items: vec![item.id.clone()],
            finalized: None,
            amount_paid: 0,
            amount_paid_off_stripe: 0,
            finalized_at: Some(1_700_000_100),
            paid_at: None,
            voided_at: None,
            marked_uncollectible_at: None,
            attempt_count: 0,
            attempted: false,
            default_payment_method: None,
            statement_descriptor: None,
        };
        let shown = format!("{invoice:?}");
        assert_nothing_personal(&shown);
        for expected in [
            "in_Mock1",
            "cus_Mock1",
            "ii_Mock1",
            "ABCD1234-0001",
            "NHS number",
        ] {
            assert!(
                shown.contains(expected),
                "`{expected}` missing from: {shown}"
            );
        }
    }
}

//! The invoice object (post-basil shape: no `paid`, `charge` or `payment_intent`;
//! "is it paid" is `status == paid`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{
    ApiError, Customer, Expandable, HasId, InvoiceLineItem, InvoiceStatus, List, MetadataMap,
    null_as_default,
};
use crate::redact::{Redacted, redacted};

string_enum! {
    /// How Stripe collects an invoice.
    pub enum CollectionMethod {
        /// Stripe charges the customer's default payment method (the default).
        ChargeAutomatically = "charge_automatically",
        /// Stripe emails the invoice with a payment page; needs a due date.
        SendInvoice = "send_invoice",
    }
}

/// A Stripe invoice (`in_…`).
///
/// `Debug` shows ids, statuses, amounts, times and metadata keys; the customer's frozen
/// name and email, the free text shown to the payer and the links that open the invoice
/// show only whether they are set.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    /// `in_…` (`upcoming_in_…` for previews).
    pub id: String,
    /// The customer billed, as an id unless expanded.
    #[serde(default)]
    pub customer: Option<Expandable<Customer>>,
    /// Lowercase ISO currency code.
    pub currency: String,
    /// Where the invoice is in its life; `None` only in unusual previews.
    #[serde(default)]
    pub status: Option<InvoiceStatus>,
    /// Charge automatically or send the invoice.
    pub collection_method: CollectionMethod,
    /// Whether Stripe finalizes, sends and retries on its own.
    #[serde(default)]
    pub auto_advance: bool,
    /// Sum of the lines before discounts and taxes, minor units.
    pub subtotal: i64,
    /// Total after discounts and taxes, minor units; can be negative.
    pub total: i64,
    /// What the customer owes after the balance is applied (≥ 0).
    pub amount_due: i64,
    /// What has been paid so far (partial payments are possible).
    pub amount_paid: i64,
    /// `amount_due − amount_paid`.
    pub amount_remaining: i64,
    /// Paid above `amount_due`, credited back to the customer's balance.
    #[serde(default)]
    pub amount_overpaid: i64,
    /// The customer's balance when the invoice was finalized (before then: now).
    #[serde(default)]
    pub starting_balance: i64,
    /// The customer's balance after this invoice; `None` until finalized.
    #[serde(default)]
    pub ending_balance: Option<i64>,
    /// Invoice number, assigned at finalization.
    #[serde(default)]
    pub number: Option<String>,
    /// The payment page, assigned at finalization.
    #[serde(default)]
    pub hosted_invoice_url: Option<String>,
    /// The PDF, assigned at finalization.
    #[serde(default)]
    pub invoice_pdf: Option<String>,
    /// When payment is due, unix seconds (`send_invoice` only).
    #[serde(default)]
    pub due_date: Option<i64>,
    /// The memo shown on the invoice (shown to the payer).
    #[serde(default)]
    pub description: Option<String>,
    /// The footer shown on the invoice (shown to the payer).
    #[serde(default)]
    pub footer: Option<String>,
    /// Up to four label/value pairs shown on the invoice.
    #[serde(default, deserialize_with = "null_as_default")]
    pub custom_fields: Vec<CustomField>,
    /// Key-value pairs set by billbridge; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// When the invoice moved through each status.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status_transitions: StatusTransitions,
    /// The customer's name frozen onto the invoice at finalization.
    #[serde(default)]
    pub customer_name: Option<String>,
    /// The customer's email frozen onto the invoice at finalization.
    #[serde(default)]
    pub customer_email: Option<String>,
    /// Why the last finalization failed, if it did.
    #[serde(default)]
    pub last_finalization_error: Option<ApiError>,
    /// The first page of line items.
    #[serde(default, deserialize_with = "null_as_default")]
    pub lines: List<InvoiceLineItem>,
    /// Creation time, unix seconds.
    pub created: i64,
    /// When the invoice took effect (finalization or a chosen date), unix seconds.
    #[serde(default)]
    pub effective_at: Option<i64>,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl fmt::Debug for Invoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let Invoice {
            id,
            customer,
            currency,
            status,
            collection_method,
            auto_advance,
            subtotal,
            total,
            amount_due,
            amount_paid,
            amount_remaining,
            amount_overpaid,
            starting_balance,
            ending_balance,
            number,
            hosted_invoice_url,
            invoice_pdf,
            due_date,
            description,
            footer,
            custom_fields,
            metadata,
            status_transitions,
            customer_name,
            customer_email,
            last_finalization_error,
            lines,
            created,
            effective_at,
            livemode,
        } = self;
        f.debug_struct("Invoice")
            .field("id", id)
            .field("customer", customer)
            .field("currency", currency)
            .field("status", status)
            .field("collection_method", collection_method)
            .field("auto_advance", auto_advance)
            .field("subtotal", subtotal)
            .field("total", total)
            .field("amount_due", amount_due)
            .field("amount_paid", amount_paid)
            .field("amount_remaining", amount_remaining)
            .field("amount_overpaid", amount_overpaid)
            .field("starting_balance", starting_balance)
            .field("ending_balance", ending_balance)
            .field("number", number)
            // Whoever holds these links sees the invoice, payer name included.
            .field("hosted_invoice_url", &redacted(hosted_invoice_url))
            .field("invoice_pdf", &redacted(invoice_pdf))
            .field("due_date", due_date)
            .field("description", &redacted(description))
            .field("footer", &redacted(footer))
            .field("custom_fields", custom_fields)
            .field("metadata", metadata)
            .field("status_transitions", status_transitions)
            .field("customer_name", &redacted(customer_name))
            .field("customer_email", &redacted(customer_email))
            .field("last_finalization_error", last_finalization_error)
            .field("lines", lines)
            .field("created", created)
            .field("effective_at", effective_at)
            .field("livemode", livemode)
            .finish()
    }
}

impl HasId for Invoice {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Unix times at which an invoice changed status; `None` for steps not taken.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusTransitions {
    /// Finalized (draft → open).
    #[serde(default)]
    pub finalized_at: Option<i64>,
    /// Marked uncollectible.
    #[serde(default)]
    pub marked_uncollectible_at: Option<i64>,
    /// Paid.
    #[serde(default)]
    pub paid_at: Option<i64>,
    /// Voided.
    #[serde(default)]
    pub voided_at: Option<i64>,
}

/// A label/value pair printed on an invoice. `Debug` shows the label only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// The label.
    pub name: String,
    /// The value.
    pub value: String,
}

impl fmt::Debug for CustomField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomField")
            .field("name", &self.name)
            .field("value", &Redacted)
            .finish()
    }
}

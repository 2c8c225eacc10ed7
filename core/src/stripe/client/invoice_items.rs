//! `/v1/invoiceitems`: single items attached to a draft invoice or left pending on a
//! customer for the next invoice.

use std::fmt;

use super::{MetadataParams, RequestContext, StripeClient, encode_metadata, path_id};
use crate::redact::{metadata_pairs, redacted};
use crate::stripe::error::{InputError, StripeError};
use crate::stripe::form::Form;
use crate::stripe::models::{Deleted, InvoiceItem, Period};
use crate::stripe::transport::Method;

/// How an invoice item is priced; one of the three, never a mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceItemPricing {
    /// A fixed amount (negative = credit), `amount` + `currency`.
    Amount {
        /// Minor units; negative for a credit.
        amount: i64,
        /// Lowercase ISO currency.
        currency: String,
    },
    /// An ad-hoc unit price of an existing product.
    PriceData {
        /// Lowercase ISO currency.
        currency: String,
        /// The product (`prod_…`).
        product: String,
        /// Minor units per unit.
        unit_amount: i64,
    },
    /// A catalogue price: `pricing[price]=price_…`.
    Price(String),
}

/// Parameters of `POST /v1/invoiceitems`.
///
/// `Debug` shows ids, quantity, pricing, period and metadata keys; the description and
/// metadata values show only whether they are set.
#[derive(Clone, PartialEq, Eq)]
pub struct CreateInvoiceItem {
    /// The customer it bills.
    pub customer: String,
    /// A draft invoice to attach it to; without it the item stays pending.
    pub invoice: Option<String>,
    /// Text shown to the payer; keep health details out.
    pub description: Option<String>,
    /// Units (for `PriceData` and `Price` pricing).
    pub quantity: Option<u64>,
    /// Amount, ad-hoc price or catalogue price.
    pub pricing: InvoiceItemPricing,
    /// Metadata, in order.
    pub metadata: MetadataParams,
    /// Service period.
    pub period: Option<Period>,
}

impl fmt::Debug for CreateInvoiceItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CreateInvoiceItem {
            customer,
            invoice,
            description,
            quantity,
            pricing,
            metadata,
            period,
        } = self;
        f.debug_struct("CreateInvoiceItem")
            .field("customer", customer)
            .field("invoice", invoice)
            .field("description", &redacted(description))
            .field("quantity", quantity)
            .field("pricing", pricing)
            .field("metadata", &metadata_pairs(metadata))
            .field("period", period)
            .finish()
    }
}

impl CreateInvoiceItem {
    /// Checks what Stripe would reject before anything is sent.
    ///
    /// # Errors
    /// [`InputError::EmptyId`] for an empty customer; [`InputError::InvalidParameters`]
    /// for a quantity with a fixed amount, or a negative unit amount (a credit is a
    /// negative fixed amount).
    pub fn validate(&self) -> Result<(), InputError> {
        if self.customer.is_empty() {
            return Err(InputError::EmptyId { what: "customer" });
        }
        if matches!(self.pricing, InvoiceItemPricing::Amount { .. }) && self.quantity.is_some() {
            return Err(InputError::InvalidParameters {
                reason: "quantity applies to a unit price, not to a fixed amount",
            });
        }
        if matches!(self.pricing, InvoiceItemPricing::PriceData { unit_amount, .. } if unit_amount < 0)
        {
            return Err(super::invoices::NEGATIVE_PRICE);
        }
        Ok(())
    }

    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let mut form = Form::new()
            .field("customer", &self.customer)
            .opt_field("invoice", self.invoice.as_ref())
            .opt_field("description", self.description.as_ref())
            .opt_field("quantity", self.quantity);
        form = match &self.pricing {
            InvoiceItemPricing::Amount { amount, currency } => {
                form.field("amount", *amount).field("currency", currency)
            }
            InvoiceItemPricing::PriceData {
                currency,
                product,
                unit_amount,
            } => form.field(
                "price_data",
                Form::new()
                    .field("currency", currency)
                    .field("product", product)
                    .field("unit_amount", *unit_amount),
            ),
            InvoiceItemPricing::Price(price) => form.map("pricing", [("price", price)]),
        };
        form = encode_metadata(form, &self.metadata);
        if let Some(period) = &self.period {
            form = form.map("period", [("start", period.start), ("end", period.end)]);
        }
        form
    }
}

/// Invoice item endpoints; from [`StripeClient::invoice_items`].
#[derive(Debug, Clone, Copy)]
pub struct InvoiceItems<'a> {
    pub(super) client: &'a StripeClient,
}

impl InvoiceItems<'_> {
    /// `POST /v1/invoiceitems`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] from [`CreateInvoiceItem::validate`], then any
    /// error of [`StripeClient::send`].
    pub async fn create(
        &self,
        params: &CreateInvoiceItem,
        context: &RequestContext,
    ) -> Result<InvoiceItem, StripeError> {
        params.validate()?;
        self.client
            .send(
                Method::Post,
                "/v1/invoiceitems",
                params.to_form().encode(),
                context,
            )
            .await
    }

    /// `DELETE /v1/invoiceitems/{id}` (pending items and items on drafts).
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn delete(&self, id: &str, context: &RequestContext) -> Result<Deleted, StripeError> {
        let path = format!("/v1/invoiceitems/{}", path_id("invoice item", id)?);
        self.client
            .send(Method::Delete, &path, Vec::new(), context)
            .await
    }
}

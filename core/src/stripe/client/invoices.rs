//! `/v1/invoices`: drafts, their lines, the lifecycle actions (finalize, send, pay,
//! void, mark uncollectible, delete), listing and search, and previews.

use std::fmt;

use super::{
    MetadataParams, RequestContext, StripeClient, TimeRange, check_limit, encode_metadata, path_id,
    search_pager,
};
use crate::redact::{Redacted, metadata_pairs, redacted};
use crate::stripe::error::{InputError, StripeError};
use crate::stripe::form::{Form, FormValue};
use crate::stripe::models::{
    CollectionMethod, Deleted, Invoice, InvoiceLineItem, InvoiceStatus, Period,
};
use crate::stripe::pagination::Pager;
use crate::stripe::transport::Method;

/// Most custom fields an invoice may carry.
pub const MAX_CUSTOM_FIELDS: usize = 4;
/// Most lines one `add_lines` call (and one invoice) may carry.
pub const MAX_LINES_PER_INVOICE: usize = 250;

/// Whether pending invoice items of the customer are pulled into a new invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingInvoiceItemsBehavior {
    /// Leave them pending (Stripe's default).
    Exclude,
    /// Include every pending item of the customer.
    Include,
    /// A value this version does not know, sent as is.
    Other(String),
}

impl PendingInvoiceItemsBehavior {
    /// Stripe's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            PendingInvoiceItemsBehavior::Exclude => "exclude",
            PendingInvoiceItemsBehavior::Include => "include",
            PendingInvoiceItemsBehavior::Other(other) => other,
        }
    }
}

/// A name/value pair printed on the invoice (`custom_fields[i][name|value]`). `Debug`
/// shows the label only.
#[derive(Clone, PartialEq, Eq)]
pub struct CustomFieldParams {
    /// Label, ≤ 40 characters.
    pub name: String,
    /// Value, ≤ 140 characters.
    pub value: String,
}

impl fmt::Debug for CustomFieldParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CustomFieldParams { name, value: _ } = self;
        f.debug_struct("CustomFieldParams")
            .field("name", name)
            .field("value", &Redacted)
            .finish()
    }
}

fn custom_fields_value(fields: &[CustomFieldParams]) -> FormValue {
    FormValue::List(
        fields
            .iter()
            .map(|field| {
                FormValue::from(
                    Form::new()
                        .field("name", &field.name)
                        .field("value", &field.value),
                )
            })
            .collect(),
    )
}

fn check_due(days_until_due: Option<u32>, due_date: Option<i64>) -> Result<(), InputError> {
    if days_until_due.is_some() && due_date.is_some() {
        return Err(InputError::InvalidParameters {
            reason: "days_until_due and due_date are mutually exclusive",
        });
    }
    Ok(())
}

fn check_custom_fields(fields: &[CustomFieldParams]) -> Result<(), InputError> {
    if fields.len() > MAX_CUSTOM_FIELDS {
        return Err(InputError::InvalidParameters {
            reason: "an invoice takes at most 4 custom_fields",
        });
    }
    Ok(())
}

/// Parameters of `POST /v1/invoices`.
///
/// `Debug` shows ids, terms, custom field labels and metadata keys; the description,
/// footer and metadata values show only whether they are set.
#[derive(Clone, PartialEq, Eq)]
pub struct CreateInvoice {
    /// The paying customer (`cus_…`).
    pub customer: String,
    /// Lowercase ISO currency; defaults to the customer's.
    pub currency: Option<String>,
    /// `charge_automatically` (Stripe's default) or `send_invoice`.
    pub collection_method: Option<CollectionMethod>,
    /// Days to pay after finalization (`send_invoice` only; excludes `due_date`).
    pub days_until_due: Option<u32>,
    /// Unix time the invoice is due (`send_invoice` only, in the future).
    pub due_date: Option<i64>,
    /// Let Stripe finalize and collect on its own (default false).
    pub auto_advance: Option<bool>,
    /// The memo shown to the payer.
    pub description: Option<String>,
    /// Footer shown to the payer.
    pub footer: Option<String>,
    /// Metadata, in order.
    pub metadata: MetadataParams,
    /// Up to 4 name/value pairs printed on the invoice.
    pub custom_fields: Vec<CustomFieldParams>,
    /// Whether pending invoice items are included (Stripe's default: exclude).
    pub pending_invoice_items_behavior: Option<PendingInvoiceItemsBehavior>,
}

impl fmt::Debug for CreateInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CreateInvoice {
            customer,
            currency,
            collection_method,
            days_until_due,
            due_date,
            auto_advance,
            description,
            footer,
            metadata,
            custom_fields,
            pending_invoice_items_behavior,
        } = self;
        f.debug_struct("CreateInvoice")
            .field("customer", customer)
            .field("currency", currency)
            .field("collection_method", collection_method)
            .field("days_until_due", days_until_due)
            .field("due_date", due_date)
            .field("auto_advance", auto_advance)
            .field("description", &redacted(description))
            .field("footer", &redacted(footer))
            .field("metadata", &metadata_pairs(metadata))
            .field("custom_fields", custom_fields)
            .field(
                "pending_invoice_items_behavior",
                pending_invoice_items_behavior,
            )
            .finish()
    }
}

impl CreateInvoice {
    /// A draft for `customer` with every other parameter left to Stripe's default.
    pub fn new(customer: impl Into<String>) -> Self {
        Self {
            customer: customer.into(),
            currency: None,
            collection_method: None,
            days_until_due: None,
            due_date: None,
            auto_advance: None,
            description: None,
            footer: None,
            metadata: Vec::new(),
            custom_fields: Vec::new(),
            pending_invoice_items_behavior: None,
        }
    }

    /// Checks what Stripe would reject before anything is sent.
    ///
    /// # Errors
    /// [`InputError::InvalidParameters`] for both `days_until_due` and `due_date`, or more
    /// than 4 custom fields; [`InputError::EmptyId`] for an empty customer.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.customer.is_empty() {
            return Err(InputError::EmptyId { what: "customer" });
        }
        check_due(self.days_until_due, self.due_date)?;
        check_custom_fields(&self.custom_fields)
    }

    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let form = Form::new()
            .field("customer", &self.customer)
            .opt_field("currency", self.currency.as_ref())
            .opt_field(
                "collection_method",
                self.collection_method
                    .as_ref()
                    .map(CollectionMethod::as_str),
            )
            .opt_field("days_until_due", self.days_until_due)
            .opt_field("due_date", self.due_date)
            .opt_field("auto_advance", self.auto_advance)
            .opt_field("description", self.description.as_ref())
            .opt_field("footer", self.footer.as_ref());
        encode_metadata(form, &self.metadata)
            .field("custom_fields", custom_fields_value(&self.custom_fields))
            .opt_field(
                "pending_invoice_items_behavior",
                self.pending_invoice_items_behavior
                    .as_ref()
                    .map(PendingInvoiceItemsBehavior::as_str),
            )
    }
}

/// Parameters of `POST /v1/invoices/{id}`. Once finalized only `description`, `footer`,
/// `metadata` and a few more stay editable. `Some("")` clears a text field.
///
/// `Debug` shows terms, custom field labels and metadata keys; the description, footer
/// and metadata values show only whether they are set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UpdateInvoice {
    /// New memo.
    pub description: Option<String>,
    /// New footer.
    pub footer: Option<String>,
    /// Metadata changes, in order (`""` removes a key).
    pub metadata: MetadataParams,
    /// New collection method (drafts only).
    pub collection_method: Option<CollectionMethod>,
    /// New days until due (excludes `due_date`).
    pub days_until_due: Option<u32>,
    /// New due date (excludes `days_until_due`).
    pub due_date: Option<i64>,
    /// New auto-advance setting.
    pub auto_advance: Option<bool>,
    /// Replacement custom fields; `Some(vec![])` removes them all.
    pub custom_fields: Option<Vec<CustomFieldParams>>,
}

impl fmt::Debug for UpdateInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let UpdateInvoice {
            description,
            footer,
            metadata,
            collection_method,
            days_until_due,
            due_date,
            auto_advance,
            custom_fields,
        } = self;
        f.debug_struct("UpdateInvoice")
            .field("description", &redacted(description))
            .field("footer", &redacted(footer))
            .field("metadata", &metadata_pairs(metadata))
            .field("collection_method", collection_method)
            .field("days_until_due", days_until_due)
            .field("due_date", due_date)
            .field("auto_advance", auto_advance)
            .field("custom_fields", custom_fields)
            .finish()
    }
}

impl UpdateInvoice {
    /// Checks what Stripe would reject before anything is sent.
    ///
    /// # Errors
    /// [`InputError::InvalidParameters`] for both due settings or more than 4 custom fields.
    pub fn validate(&self) -> Result<(), InputError> {
        check_due(self.days_until_due, self.due_date)?;
        check_custom_fields(self.custom_fields.as_deref().unwrap_or_default())
    }

    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let mut form = Form::new()
            .opt_field("description", self.description.as_ref())
            .opt_field("footer", self.footer.as_ref());
        form = encode_metadata(form, &self.metadata)
            .opt_field(
                "collection_method",
                self.collection_method
                    .as_ref()
                    .map(CollectionMethod::as_str),
            )
            .opt_field("days_until_due", self.days_until_due)
            .opt_field("due_date", self.due_date)
            .opt_field("auto_advance", self.auto_advance);
        match &self.custom_fields {
            Some(fields) if fields.is_empty() => form.unset("custom_fields"),
            Some(fields) => form.field("custom_fields", custom_fields_value(fields)),
            None => form,
        }
    }
}

/// Filters of `GET /v1/invoices`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListInvoices {
    /// Only this customer's invoices.
    pub customer: Option<String>,
    /// Only invoices in this status.
    pub status: Option<InvoiceStatus>,
    /// Creation time range (unix seconds).
    pub created: Option<TimeRange>,
    /// Only this collection method.
    pub collection_method: Option<CollectionMethod>,
    /// Page size, 1–100.
    pub limit: Option<u32>,
}

impl ListInvoices {
    /// The query parameters.
    pub fn to_form(&self) -> Form {
        let mut form = Form::new()
            .opt_field("customer", self.customer.as_ref())
            .opt_field("status", self.status.as_ref().map(InvoiceStatus::as_str));
        if let Some(created) = &self.created {
            form = form.field("created", created.to_value());
        }
        form.opt_field(
            "collection_method",
            self.collection_method
                .as_ref()
                .map(CollectionMethod::as_str),
        )
        .opt_field("limit", self.limit)
    }
}

/// The product of an ad-hoc price: an existing one or one created on the fly.
///
/// `Debug` shows the id, never the name of a product created on the fly: billbridge names
/// it after the line's text.
#[derive(Clone, PartialEq, Eq)]
pub enum ProductRef {
    /// `product=prod_…`.
    Id(String),
    /// `product_data[name]=…`: a product created with the line.
    Data {
        /// Product name, shown to the payer.
        name: String,
    },
}

impl fmt::Debug for ProductRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProductRef::Id(id) => f.debug_tuple("Id").field(id).finish(),
            ProductRef::Data { name: _ } => {
                f.debug_struct("Data").field("name", &Redacted).finish()
            }
        }
    }
}

/// How a line is priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinePricing {
    /// A catalogue price: `pricing[price]=price_…`.
    Price(String),
    /// An ad-hoc price: `price_data{currency, product | product_data, unit_amount}`.
    PriceData {
        /// Lowercase ISO currency.
        currency: String,
        /// The product it belongs to.
        product: ProductRef,
        /// Minor units per unit; never negative (Stripe refuses a negative price).
        unit_amount: i64,
    },
    /// A flat amount for the whole line, in minor units of the invoice's currency:
    /// `lines[i][amount]`. Negative for a credit line (a voucher, a refund of a returned
    /// item): Stripe's documented way to reduce an invoice, as prices cannot be
    /// negative. Sent without `quantity`, which Stripe refuses beside an amount.
    Amount(i64),
}

/// One line of `POST /v1/invoices/{id}/add_lines`.
///
/// `Debug` shows quantity, metadata keys, period and pricing; the description and
/// metadata values show only whether they are set.
#[derive(Clone, PartialEq, Eq)]
pub struct InvoiceLineParams {
    /// Text shown to the payer; keep health details out.
    pub description: Option<String>,
    /// Units; the line amount is unit amount × quantity.
    pub quantity: Option<u64>,
    /// Metadata, in order.
    pub metadata: MetadataParams,
    /// Service period.
    pub period: Option<Period>,
    /// Catalogue or ad-hoc price.
    pub pricing: LinePricing,
}

impl fmt::Debug for InvoiceLineParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let InvoiceLineParams {
            description,
            quantity,
            metadata,
            period,
            pricing,
        } = self;
        f.debug_struct("InvoiceLineParams")
            .field("description", &redacted(description))
            .field("quantity", quantity)
            .field("metadata", &metadata_pairs(metadata))
            .field("period", period)
            .field("pricing", pricing)
            .finish()
    }
}

impl InvoiceLineParams {
    /// The line as a nested form value.
    pub fn to_form(&self) -> Form {
        let quantity = match self.pricing {
            LinePricing::Amount(_) => None,
            _ => self.quantity,
        };
        let mut form = Form::new()
            .opt_field("description", self.description.as_ref())
            .opt_field("quantity", quantity);
        form = encode_metadata(form, &self.metadata);
        if let Some(period) = &self.period {
            form = form.map("period", [("start", period.start), ("end", period.end)]);
        }
        match &self.pricing {
            LinePricing::Amount(amount) => form.field("amount", *amount),
            LinePricing::Price(price) => form.map("pricing", [("price", price)]),
            LinePricing::PriceData {
                currency,
                product,
                unit_amount,
            } => {
                let mut data = Form::new().field("currency", currency);
                data = match product {
                    ProductRef::Id(id) => data.field("product", id),
                    ProductRef::Data { name } => data.map("product_data", [("name", name)]),
                };
                form.field("price_data", data.field("unit_amount", *unit_amount))
            }
        }
    }
}

/// Stripe refuses a negative price (`Invalid non-negative integer`); a credit goes as a
/// negative amount instead.
pub(crate) const NEGATIVE_PRICE: InputError = InputError::InvalidParameters {
    reason: "unit_amount cannot be negative: send a credit as a negative amount",
};

/// Parameters of `POST /v1/invoices/{id}/pay`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayInvoice {
    /// `true`: mark paid outside Stripe (cash, cheque, bank transfer), no charge made.
    pub paid_out_of_band: Option<bool>,
    /// Charge this payment method instead of the default.
    pub payment_method: Option<String>,
}

impl PayInvoice {
    /// Marks the invoice paid outside Stripe.
    pub fn out_of_band() -> Self {
        Self {
            paid_out_of_band: Some(true),
            payment_method: None,
        }
    }

    /// The form parameters.
    pub fn to_form(&self) -> Form {
        Form::new()
            .opt_field("paid_out_of_band", self.paid_out_of_band)
            .opt_field("payment_method", self.payment_method.as_ref())
    }
}

/// One pending item to include in a preview (`invoice_items[i]`). `Debug` shows whether
/// the description is set, not its text.
#[derive(Clone, PartialEq, Eq)]
pub struct PreviewItemParams {
    /// Text of the line.
    pub description: Option<String>,
    /// Units.
    pub quantity: Option<u64>,
    /// Ad-hoc price of the item: currency, product id, unit amount.
    pub currency: String,
    /// The product it belongs to.
    pub product: String,
    /// Minor units per unit.
    pub unit_amount: i64,
}

impl fmt::Debug for PreviewItemParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let PreviewItemParams {
            description,
            quantity,
            currency,
            product,
            unit_amount,
        } = self;
        f.debug_struct("PreviewItemParams")
            .field("description", &redacted(description))
            .field("quantity", quantity)
            .field("currency", currency)
            .field("product", product)
            .field("unit_amount", unit_amount)
            .finish()
    }
}

/// Parameters of `POST /v1/invoices/create_preview`: what the customer's next invoice
/// would ask (balance applied), without creating anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePreview {
    /// The customer.
    pub customer: String,
    /// Lowercase ISO currency of the preview.
    pub currency: Option<String>,
    /// Extra items to include.
    pub invoice_items: Vec<PreviewItemParams>,
}

impl CreatePreview {
    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let items = self.invoice_items.iter().map(|item| {
            FormValue::from(
                Form::new()
                    .opt_field("description", item.description.as_ref())
                    .opt_field("quantity", item.quantity)
                    .field(
                        "price_data",
                        Form::new()
                            .field("currency", &item.currency)
                            .field("product", &item.product)
                            .field("unit_amount", item.unit_amount),
                    ),
            )
        });
        Form::new()
            .field("customer", &self.customer)
            .opt_field("currency", self.currency.as_ref())
            .list("invoice_items", items)
    }
}

/// Invoice endpoints; from [`StripeClient::invoices`].
#[derive(Debug, Clone, Copy)]
pub struct Invoices<'a> {
    pub(super) client: &'a StripeClient,
}

fn invoice_path(id: &str, action: &str) -> Result<String, StripeError> {
    Ok(format!("/v1/invoices/{}{action}", path_id("invoice", id)?))
}

impl Invoices<'_> {
    async fn action(
        &self,
        id: &str,
        action: &str,
        form: Form,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        let path = invoice_path(id, action)?;
        self.client
            .send(Method::Post, &path, form.encode(), context)
            .await
    }

    /// `POST /v1/invoices`: a new draft.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] from [`CreateInvoice::validate`], then any error
    /// of [`StripeClient::send`].
    pub async fn create(
        &self,
        params: &CreateInvoice,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        params.validate()?;
        self.client
            .send(
                Method::Post,
                "/v1/invoices",
                params.to_form().encode(),
                context,
            )
            .await
    }

    /// `POST /v1/invoices/{id}`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id or from
    /// [`UpdateInvoice::validate`], then any error of [`StripeClient::send`].
    pub async fn update(
        &self,
        id: &str,
        params: &UpdateInvoice,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        params.validate()?;
        self.action(id, "", params.to_form(), context).await
    }

    /// `GET /v1/invoices/{id}`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn retrieve(
        &self,
        id: &str,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        let path = invoice_path(id, "")?;
        self.client
            .send(Method::Get, &path, Vec::new(), context)
            .await
    }

    /// `GET /v1/invoices` with filters, newest first, as a pager.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a limit outside 1–100, or the status
    /// [`InvoiceStatus::Deleted`] (billbridge's record of a deleted draft, which Stripe
    /// does not list).
    pub fn list(
        &self,
        params: &ListInvoices,
        context: &RequestContext,
    ) -> Result<Pager<Invoice>, StripeError> {
        check_limit(params.limit)?;
        if params.status == Some(InvoiceStatus::Deleted) {
            return Err(InputError::InvalidParameters {
                reason: "status: Stripe lists no deleted invoices (`deleted` is billbridge's record of a deleted draft)",
            }
            .into());
        }
        Ok(Pager::list(
            self.client,
            "/v1/invoices",
            params.to_form().encode(),
            context,
        ))
    }

    /// `GET /v1/invoices/search` (eventually consistent; for reports, not for
    /// "was it just created").
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a limit outside 1–100.
    pub fn search(
        &self,
        query: &str,
        limit: Option<u32>,
        context: &RequestContext,
    ) -> Result<Pager<Invoice>, StripeError> {
        search_pager(self.client, "/v1/invoices/search", query, limit, context)
    }

    /// `POST /v1/invoices/{id}/finalize`: draft → open; assigns number, payment page
    /// and PDF. `auto_advance` optionally changes the invoice's setting.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn finalize(
        &self,
        id: &str,
        auto_advance: Option<bool>,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        let form = Form::new().opt_field("auto_advance", auto_advance);
        self.action(id, "/finalize", form, context).await
    }

    /// `POST /v1/invoices/{id}/send`: email the invoice (test mode only emits the event).
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn send(&self, id: &str, context: &RequestContext) -> Result<Invoice, StripeError> {
        self.action(id, "/send", Form::new(), context).await
    }

    /// `POST /v1/invoices/{id}/pay`: charge it, or with `paid_out_of_band` mark it paid.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`] (a 402 card error for a declined charge).
    pub async fn pay(
        &self,
        id: &str,
        params: &PayInvoice,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        self.action(id, "/pay", params.to_form(), context).await
    }

    /// `POST /v1/invoices/{id}/void`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn void(&self, id: &str, context: &RequestContext) -> Result<Invoice, StripeError> {
        self.action(id, "/void", Form::new(), context).await
    }

    /// `POST /v1/invoices/{id}/mark_uncollectible`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn mark_uncollectible(
        &self,
        id: &str,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        self.action(id, "/mark_uncollectible", Form::new(), context)
            .await
    }

    /// `DELETE /v1/invoices/{id}`: drafts only.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn delete(&self, id: &str, context: &RequestContext) -> Result<Deleted, StripeError> {
        let path = invoice_path(id, "")?;
        self.client
            .send(Method::Delete, &path, Vec::new(), context)
            .await
    }

    /// `POST /v1/invoices/{id}/add_lines`: drafts only, at most 250 lines.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, no lines or more than 250, or
    /// a negative `unit_amount` (a credit line is a negative [`LinePricing::Amount`]),
    /// then any error of [`StripeClient::send`].
    pub async fn add_lines(
        &self,
        id: &str,
        lines: &[InvoiceLineParams],
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        if lines.is_empty() || lines.len() > MAX_LINES_PER_INVOICE {
            return Err(InputError::InvalidParameters {
                reason: "add_lines takes 1 to 250 lines",
            }
            .into());
        }
        if lines.iter().any(|line| {
            matches!(line.pricing, LinePricing::PriceData { unit_amount, .. } if unit_amount < 0)
        }) {
            return Err(NEGATIVE_PRICE.into());
        }
        let form = Form::new().list("lines", lines.iter().map(InvoiceLineParams::to_form));
        self.action(id, "/add_lines", form, context).await
    }

    /// `GET /v1/invoices/{id}/lines` as a pager.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id or a limit outside 1–100.
    pub fn list_lines(
        &self,
        id: &str,
        limit: Option<u32>,
        context: &RequestContext,
    ) -> Result<Pager<InvoiceLineItem>, StripeError> {
        check_limit(limit)?;
        let path = invoice_path(id, "/lines")?;
        let params = Form::new().opt_field("limit", limit).encode();
        Ok(Pager::list(self.client, path, params, context))
    }

    /// `POST /v1/invoices/create_preview`: the next invoice as Stripe would compute it.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for an empty customer, then any error of
    /// [`StripeClient::send`].
    pub async fn create_preview(
        &self,
        params: &CreatePreview,
        context: &RequestContext,
    ) -> Result<Invoice, StripeError> {
        path_id("customer", &params.customer)?;
        self.client
            .send(
                Method::Post,
                "/v1/invoices/create_preview",
                params.to_form().encode(),
                context,
            )
            .await
    }
}

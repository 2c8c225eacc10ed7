//! `/v1/invoiceitems`, and the line building shared with `add_lines`: an amount, inline
//! `price_data` or a catalogue price (`pricing[price]`), times a quantity.

use serde_json::{Value, json};

use super::catalogue::{product_for_price, unit_amount};
use super::customers::referenced;
use super::{Answer, Ctx, apply_metadata, metadata_change, new_metadata, paginate};
use crate::error::ApiError;
use crate::form::Obj;
use crate::objects::{InvoiceItem, Price, previous_attributes};
use billbridge::domain::status::InvoiceStatus;

/// Stripe's limit of lines on one invoice.
pub(crate) const MAX_LINES: usize = 250;

/// Check that `invoice` can take `adding` more lines for `customer`; its currency.
///
/// # Errors
/// 404 for an unknown invoice; 400 `invoice_not_editable` unless it is a draft of
/// this customer with room left.
pub(crate) fn invoice_accepts(
    ctx: &Ctx<'_>,
    invoice_id: &str,
    customer: Option<&str>,
    adding: usize,
    param: &str,
) -> Result<String, ApiError> {
    let invoice = ctx.acct.invoices.get(invoice_id).ok_or_else(|| {
        // `invoice=in_…` in the body, or the invoice the URL names.
        if param == "invoice" {
            ApiError::no_such("invoice", invoice_id, param)
        } else {
            ApiError::not_found("invoice", invoice_id, Some("id"))
        }
    })?;
    if invoice.status != InvoiceStatus::Draft {
        return Err(ApiError::not_editable(
            format!(
                "You can only add lines to draft invoices; invoice {invoice_id} is {}.",
                invoice.status
            ),
            Some(param),
        ));
    }
    if let Some(customer) = customer
        && invoice.customer != customer
    {
        return Err(ApiError::invalid(
            None,
            format!("Invoice {invoice_id} belongs to another customer."),
            Some(param.to_owned()),
        ));
    }
    if invoice.items.len() + adding > MAX_LINES {
        return Err(ApiError::invalid(
            None,
            format!("An invoice can have at most {MAX_LINES} line items."),
            Some(param.to_owned()),
        ));
    }
    Ok(invoice.currency.clone())
}

/// Build (not store) an invoice item from `data`.
///
/// # Errors
/// 400 for missing or conflicting pricing, bad amounts or a currency mismatch; 404 for
/// unknown prices or products.
pub(crate) fn build_item(
    ctx: &mut Ctx<'_>,
    data: Obj<'_>,
    customer: &str,
    invoice: Option<(&str, &str)>,
) -> Result<InvoiceItem, ApiError> {
    let quantity = data.integer("quantity")?.unwrap_or(1);
    if quantity < 0 {
        return Err(ApiError::invalid(
            None,
            "Invalid quantity: must be at least 0",
            Some(data.path_of("quantity")),
        ));
    }
    let pricing_price = match data.object("pricing")? {
        Some(pricing) => {
            let pricing = pricing.view();
            Some((
                pricing.required_text("price")?.to_owned(),
                pricing.path_of("price"),
            ))
        }
        None => None,
    };
    // A preview's `invoice_items[i][price]` names a price directly.
    let listed_price = match data.text("price")? {
        Some(price) if !price.is_empty() => Some((price.to_owned(), data.path_of("price"))),
        _ => None,
    };
    let own_unit = data.has("unit_amount") || data.has("unit_amount_decimal");
    if data.has("amount") && data.has("quantity") {
        return Err(ApiError::invalid(
            Some("parameters_exclusive"),
            "You may only specify one of these parameters: amount, quantity.",
            Some(data.path_of("amount")),
        ));
    }
    let sources = [
        ("amount", data.has("amount")),
        ("price_data", data.has("price_data")),
        ("pricing[price]", pricing_price.is_some()),
        ("price", listed_price.is_some()),
        ("unit_amount_decimal", own_unit),
    ];
    let given: Vec<&str> = sources
        .iter()
        .filter(|(_, given)| *given)
        .map(|(name, _)| *name)
        .collect();
    match given.as_slice() {
        [] => {
            return Err(ApiError::invalid(
                Some("parameter_missing"),
                "Missing required param: one of amount, price_data, pricing[price] or unit_amount_decimal.",
                Some(data.path_of("price_data")),
            ));
        }
        [_] => {}
        [first, second, ..] => {
            return Err(ApiError::invalid(
                Some("parameters_exclusive"),
                format!("You may only specify one of these parameters: {first}, {second}."),
                Some(data.path_of(second)),
            ));
        }
    }
    let (currency, unit, price, product) =
        if let Some((price_id, param)) = pricing_price.or(listed_price) {
            let price = ctx
                .acct
                .prices
                .get(&price_id)
                .ok_or_else(|| ApiError::no_such("price", &price_id, &param))?;
            (
                price.currency.clone(),
                Some(price.unit_amount),
                Some(price.id.clone()),
                Some(price.product.clone()),
            )
        } else if let Some(price_data) = data.object("price_data")? {
            let price_data = price_data.view();
            let currency = super::currency(
                price_data.required_text("currency")?,
                &price_data.path_of("currency"),
            )?;
            let unit = unit_amount(price_data)?;
            let product = product_for_price(ctx, price_data)?;
            let price = Price {
                id: ctx.random.id("price"),
                created: ctx.now,
                product: product.clone(),
                currency: currency.clone(),
                unit_amount: unit,
                lookup_key: None,
                nickname: None,
                metadata: Default::default(),
                active: false,
                inline: true,
            };
            let price_id = price.id.clone();
            ctx.acct.prices.insert(price_id.clone(), price);
            (currency, Some(unit), Some(price_id), Some(product))
        } else {
            let unit = if own_unit {
                Some(super::catalogue::signed_unit_amount(data)?)
            } else {
                None
            };
            let currency = match data.text("currency")? {
                Some(currency) => super::currency(currency, &data.path_of("currency"))?,
                None => match invoice {
                    Some((_, currency)) => currency.to_owned(),
                    None => ctx
                        .acct
                        .customers
                        .get(customer)
                        .and_then(|customer| customer.currency.clone())
                        .unwrap_or_else(|| ctx.settings.default_currency.clone()),
                },
            };
            (currency, unit, None, None)
        };
    let amount = match unit {
        Some(unit) => unit.checked_mul(quantity).ok_or_else(|| {
            ApiError::invalid(
                Some("amount_too_large"),
                "unit_amount × quantity is too large",
                Some(data.path_of("quantity")),
            )
        })?,
        None => data.required_integer("amount")?,
    };
    let amount = super::amount_within_limits(amount, &data.path_of("amount"))?;
    if let Some((invoice_id, invoice_currency)) = invoice
        && invoice_currency != currency
    {
        return Err(ApiError::invalid(
            None,
            format!(
                "The currency {currency} does not match invoice {invoice_id}'s currency {invoice_currency}."
            ),
            Some(data.path_of("currency")),
        ));
    }
    let description = match data.nullable_text("description")? {
        Some(description) => description,
        None => product
            .as_ref()
            .and_then(|product| ctx.acct.products.get(product))
            .map(|product| product.name.clone()),
    };
    let (period_start, period_end) = match data.object("period")? {
        Some(period) => {
            let period = period.view();
            (
                period.required_integer("start")?,
                period.required_integer("end")?,
            )
        }
        None => (ctx.now, ctx.now),
    };
    Ok(InvoiceItem {
        id: ctx.random.id("ii"),
        line_id: ctx.random.id("il"),
        created: ctx.now,
        customer: customer.to_owned(),
        invoice: invoice.map(|(id, _)| id.to_owned()),
        currency,
        amount,
        unit_amount: unit,
        quantity,
        description,
        metadata: new_metadata(data)?,
        period_start,
        period_end,
        price,
        product,
        discountable: data.boolean("discountable")?.unwrap_or(true),
    })
}

/// Store a built item (and put it on its invoice), emitting `invoiceitem.created`.
pub(crate) fn store_item(ctx: &mut Ctx<'_>, item: InvoiceItem) -> Value {
    if let Some(invoice) = item
        .invoice
        .as_ref()
        .and_then(|id| ctx.acct.invoices.get_mut(id))
    {
        invoice.items.push(item.id.clone());
    }
    let json = item.to_json();
    ctx.acct.invoice_items.insert(item.id.clone(), item);
    ctx.emit("invoiceitem.created", json.clone(), None);
    json
}

/// The parameters invoice item creation models.
pub(crate) const CREATE: &[&str] = &[
    "customer",
    "invoice",
    "description",
    "quantity",
    "amount",
    "currency",
    "unit_amount_decimal",
    "price_data[currency]",
    "price_data[product]",
    "price_data[unit_amount]",
    "price_data[unit_amount_decimal]",
    "pricing[price]",
    "metadata",
    "period",
    "discountable",
];

pub(crate) fn create(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let customer = params.required_text("customer")?;
    referenced(ctx, customer, "customer")?;
    let invoice = match params.text("invoice")? {
        Some(id) if !id.is_empty() => {
            let currency = invoice_accepts(ctx, id, Some(customer), 1, "invoice")?;
            Some((id, currency))
        }
        _ => None,
    };
    let item = build_item(
        ctx,
        params,
        customer,
        invoice
            .as_ref()
            .map(|(id, currency)| (*id, currency.as_str())),
    )?;
    Ok(store_item(ctx, item))
}

fn editable<'a>(ctx: &'a mut Ctx<'_>, id: &str) -> Result<&'a mut InvoiceItem, ApiError> {
    let item = ctx
        .acct
        .invoice_items
        .get(id)
        .ok_or_else(|| ApiError::not_found("invoiceitem", id, Some("id")))?;
    if let Some(invoice) = item
        .invoice
        .as_ref()
        .and_then(|invoice| ctx.acct.invoices.get(invoice))
        && invoice.status != InvoiceStatus::Draft
    {
        return Err(ApiError::not_editable(
            format!(
                "Invoice item {id} is on invoice {} which is {}: only items of draft invoices can change.",
                invoice.id, invoice.status
            ),
            None,
        ));
    }
    ctx.acct
        .invoice_items
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("invoiceitem", id, Some("id")))
}

pub(crate) fn retrieve(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    ctx.acct
        .invoice_items
        .get(id)
        .map(InvoiceItem::to_json)
        .ok_or_else(|| ApiError::not_found("invoiceitem", id, Some("id")))
}

pub(crate) fn update(ctx: &mut Ctx<'_>, id: &str, params: Obj<'_>) -> Result<Answer, ApiError> {
    let change = metadata_change(params)?;
    let item = editable(ctx, id)?;
    let before = item.to_json();
    let mut updated = item.clone();
    if let Some(description) = params.nullable_text("description")? {
        updated.description = description;
    }
    if let Some(quantity) = params.integer("quantity")? {
        if quantity < 0 {
            return Err(ApiError::invalid(
                None,
                "Invalid quantity: must be at least 0",
                Some("quantity".into()),
            ));
        }
        updated.quantity = quantity;
    }
    match (updated.unit_amount, params.integer("amount")?) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                None,
                "This item is priced per unit: change quantity, not amount.",
                Some("amount".into()),
            ));
        }
        (Some(unit), None) => {
            updated.amount =
                super::amount_within_limits(unit.saturating_mul(updated.quantity), "quantity")?;
        }
        (None, Some(amount)) => updated.amount = super::amount_within_limits(amount, "amount")?,
        (None, None) => {}
    }
    if let Some(period) = params.object("period")? {
        let period = period.view();
        updated.period_start = period.required_integer("start")?;
        updated.period_end = period.required_integer("end")?;
    }
    if let Some(discountable) = params.boolean("discountable")? {
        updated.discountable = discountable;
    }
    apply_metadata(&mut updated.metadata, change)?;
    *item = updated;
    let after = Answer::new(item.to_json());
    if let Some(previous) = previous_attributes(&before, &after) {
        ctx.emit("invoiceitem.updated", Answer::clone(&after), Some(previous));
    }
    Ok(after)
}

pub(crate) fn delete(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    editable(ctx, id)?;
    let item = ctx
        .acct
        .invoice_items
        .remove(id)
        .ok_or_else(|| ApiError::not_found("invoiceitem", id, Some("id")))?;
    if let Some(invoice) = item
        .invoice
        .as_ref()
        .and_then(|invoice| ctx.acct.invoices.get_mut(invoice))
    {
        invoice.items.retain(|line| line != id);
    }
    ctx.emit("invoiceitem.deleted", item.to_json(), None);
    Ok(json!({"id": id, "object": "invoiceitem", "deleted": true}))
}

pub(crate) fn list(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let customer = params.text("customer")?;
    let invoice = params.text("invoice")?;
    let pending = params.boolean("pending")?;
    let created = super::RangeFilter::read(params, "created")?;
    let items: Vec<&InvoiceItem> = ctx
        .acct
        .invoice_items
        .newest_first()
        .filter(|item| customer.is_none_or(|customer| item.customer == customer))
        .filter(|item| invoice.is_none_or(|invoice| item.invoice.as_deref() == Some(invoice)))
        .filter(|item| pending.is_none_or(|pending| item.invoice.is_none() == pending))
        .filter(|item| created.matches(item.created))
        .collect();
    paginate(
        items,
        |item| &item.id,
        InvoiceItem::to_json,
        params,
        "invoiceitem",
        "/v1/invoiceitems",
    )
}

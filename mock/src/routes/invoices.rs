//! `/v1/invoices`: the invoice life cycle (draft → open → paid | void | uncollectible),
//! what each status lets a caller edit, balance application and the minimum charge at
//! finalization, test-card payments, lists and search.

use serde_json::Value;

use super::balance::{Movement, record};
use super::customers::{live, referenced};
use super::invoiceitems::{build_item, invoice_accepts, store_item};
use super::{Answer, Ctx, apply_metadata, metadata_change, new_metadata, paginate};
use crate::error::ApiError;
use crate::form::Obj;
use crate::objects::{CustomerSnapshot, Finalized, Invoice, previous_attributes};
use crate::rules;
use crate::search::{Field, INVOICES, Query, page};
use crate::state::InvoiceNumbering;
use billbridge::domain::status::InvoiceStatus;

const DAY: i64 = 86_400;

fn invoice<'a>(ctx: &'a Ctx<'_>, id: &str) -> Result<&'a Invoice, ApiError> {
    ctx.acct
        .invoices
        .get(id)
        .ok_or_else(|| ApiError::not_found("invoice", id, Some("id")))
}

fn invoice_mut<'a>(ctx: &'a mut Ctx<'_>, id: &str) -> Result<&'a mut Invoice, ApiError> {
    ctx.acct
        .invoices
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("invoice", id, Some("id")))
}

fn render(ctx: &Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    let invoice = invoice(ctx, id)?;
    Ok(ctx.acct.invoice_json(invoice, ctx.settings))
}

/// Change an invoice and emit `kind` with the new snapshot; `.updated` events carry
/// `previous_attributes`.
fn change(
    ctx: &mut Ctx<'_>,
    id: &str,
    kinds: &[&str],
    apply: impl FnOnce(&mut Invoice),
) -> Result<Answer, ApiError> {
    // Only `.updated` events carry `previous_attributes`; rendering the whole invoice
    // before every change would double the cost of each request.
    let before = if kinds.iter().any(|kind| kind.ends_with(".updated")) {
        Some(render(ctx, id)?)
    } else {
        None
    };
    apply(invoice_mut(ctx, id)?);
    let after = Answer::new(render(ctx, id)?);
    for kind in kinds {
        let previous = match &before {
            Some(before) if kind.ends_with(".updated") => previous_attributes(before, &after),
            _ => None,
        };
        ctx.emit(kind, Answer::clone(&after), previous);
    }
    Ok(after)
}

/// The parameters invoice creation models.
pub(crate) const CREATE: &[&str] = &[
    "customer",
    "currency",
    "collection_method",
    "days_until_due",
    "due_date",
    "auto_advance",
    "description",
    "footer",
    "custom_fields",
    "metadata",
    "pending_invoice_items_behavior",
    "default_payment_method",
    "statement_descriptor",
    "automatic_tax[enabled]",
];

/// The parameters an invoice update models (which of them a status allows is
/// Stripe's rule, checked by the handler).
pub(crate) const UPDATE: &[&str] = &[
    "collection_method",
    "days_until_due",
    "due_date",
    "auto_advance",
    "description",
    "footer",
    "custom_fields",
    "metadata",
    "default_payment_method",
    "statement_descriptor",
    "automatic_tax[enabled]",
];

/// The parameters the preview models.
pub(crate) const PREVIEW: &[&str] = &[
    "customer",
    "currency",
    "automatic_tax[enabled]",
    "invoice_items[][amount]",
    "invoice_items[][currency]",
    "invoice_items[][description]",
    "invoice_items[][discountable]",
    "invoice_items[][metadata]",
    "invoice_items[][period]",
    "invoice_items[][price]",
    "invoice_items[][price_data][currency]",
    "invoice_items[][price_data][product]",
    "invoice_items[][price_data][unit_amount]",
    "invoice_items[][price_data][unit_amount_decimal]",
    "invoice_items[][quantity]",
    "invoice_items[][unit_amount]",
    "invoice_items[][unit_amount_decimal]",
];

/// The parameters `add_lines` models.
pub(crate) const ADD_LINES: &[&str] = &[
    "invoice_metadata",
    "lines[][amount]",
    "lines[][description]",
    "lines[][discountable]",
    "lines[][metadata]",
    "lines[][period]",
    "lines[][price_data][currency]",
    "lines[][price_data][product]",
    "lines[][price_data][product_data][name]",
    "lines[][price_data][product_data][metadata]",
    "lines[][price_data][product_data][tax_code]",
    "lines[][price_data][product_data][unit_label]",
    "lines[][price_data][unit_amount]",
    "lines[][price_data][unit_amount_decimal]",
    "lines[][pricing][price]",
    "lines[][quantity]",
];

/// Fields that stay editable once an invoice is open or uncollectible.
const OPEN_EDITABLE: &[&str] = &[
    "description",
    "footer",
    "metadata",
    "custom_fields",
    "auto_advance",
    "default_payment_method",
    "due_date",
];

fn collection_method(params: Obj<'_>) -> Result<Option<String>, ApiError> {
    match params.text("collection_method")? {
        None => Ok(None),
        Some(method @ ("charge_automatically" | "send_invoice")) => Ok(Some(method.to_owned())),
        Some(other) => Err(ApiError::invalid(
            None,
            format!(
                "Invalid collection_method: must be one of charge_automatically or send_invoice (got {other})"
            ),
            Some("collection_method".into()),
        )),
    }
}

fn custom_fields(params: Obj<'_>) -> Result<Option<Vec<(String, String)>>, ApiError> {
    if params.text("custom_fields").ok().flatten() == Some("") {
        return Ok(Some(Vec::new()));
    }
    if !params.has("custom_fields") {
        return Ok(None);
    }
    let fields = params.object_list("custom_fields")?;
    if fields.len() > 4 {
        return Err(ApiError::invalid(
            None,
            "An invoice can have at most 4 custom fields.",
            Some("custom_fields".into()),
        ));
    }
    fields
        .iter()
        .map(|field| {
            let field = field.view();
            Ok((
                field.required_text("name")?.to_owned(),
                field.required_text("value")?.to_owned(),
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()
        .map(Some)
}

/// Apply the editable fields in `params` to `invoice`, checking the due-date rules.
fn write_fields(invoice: &mut Invoice, params: Obj<'_>, now: i64) -> Result<(), ApiError> {
    if let Some(method) = collection_method(params)? {
        invoice.collection_method = method;
    }
    if let Some(auto_advance) = params.boolean("auto_advance")? {
        invoice.auto_advance = auto_advance;
    }
    if let Some(description) = params.nullable_text("description")? {
        invoice.description = description;
    }
    if let Some(footer) = params.nullable_text("footer")? {
        invoice.footer = footer;
    }
    if let Some(fields) = custom_fields(params)? {
        invoice.custom_fields = fields;
    }
    if let Some(method) = params.nullable_text("default_payment_method")? {
        invoice.default_payment_method = method;
    }
    if let Some(descriptor) = params.nullable_text("statement_descriptor")? {
        invoice.statement_descriptor = descriptor;
    }
    let days = params.integer("days_until_due")?;
    let due = params.integer("due_date")?;
    if days.is_some() && due.is_some() {
        return Err(ApiError::invalid(
            Some("parameters_exclusive"),
            "You may only specify one of these parameters: days_until_due, due_date.",
            Some("due_date".into()),
        ));
    }
    if let Some(days) = days {
        if days < 0 {
            return Err(ApiError::invalid(
                None,
                "Invalid days_until_due: must be at least 0",
                Some("days_until_due".into()),
            ));
        }
        invoice.days_until_due = Some(days);
        invoice.due_date = Some(invoice.finalized_at.unwrap_or(now) + days * DAY);
    }
    if let Some(due) = due {
        if due < now {
            return Err(ApiError::invalid(
                Some("invoice_due_date_in_past"),
                "The due_date must be in the future.",
                Some("due_date".into()),
            ));
        }
        invoice.due_date = Some(due);
        invoice.days_until_due = None;
    }
    match invoice.collection_method.as_str() {
        "send_invoice" if invoice.due_date.is_none() => Err(ApiError::invalid(
            Some("parameter_missing"),
            "Invoices with collection_method=send_invoice need days_until_due or due_date.",
            Some("days_until_due".into()),
        )),
        "charge_automatically" if invoice.due_date.is_some() => Err(ApiError::invalid(
            None,
            "days_until_due and due_date can only be set when collection_method is send_invoice.",
            Some(
                if days.is_some() {
                    "days_until_due"
                } else {
                    "due_date"
                }
                .into(),
            ),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn create(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Answer, ApiError> {
    let customer_id = params.required_text("customer")?.to_owned();
    let customer = referenced(ctx, &customer_id, "customer")?;
    let customer_currency = customer.currency.clone();
    let customer_footer = customer.invoice_footer.clone();
    let currency = match params.text("currency")? {
        Some(currency) => super::currency(currency, "currency")?,
        None => customer_currency.unwrap_or_else(|| ctx.settings.default_currency.clone()),
    };
    let include_pending = match params.text("pending_invoice_items_behavior")? {
        None | Some("exclude") => false,
        Some("include") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                None,
                format!("Invalid pending_invoice_items_behavior: {other}"),
                Some("pending_invoice_items_behavior".into()),
            ));
        }
    };
    let mut invoice = blank_invoice(ctx.random.id("in"), &customer_id, currency, ctx.now);
    invoice.footer = customer_footer;
    invoice.metadata = new_metadata(params)?;
    write_fields(&mut invoice, params, ctx.now)?;
    if include_pending {
        let pending: Vec<String> = ctx
            .acct
            .invoice_items
            .iter()
            .filter(|item| {
                item.invoice.is_none()
                    && item.customer == customer_id
                    && item.currency == invoice.currency
            })
            .map(|item| item.id.clone())
            .take(rules_max_lines())
            .collect();
        for id in &pending {
            if let Some(item) = ctx.acct.invoice_items.get_mut(id) {
                item.invoice = Some(invoice.id.clone());
            }
        }
        invoice.items = pending;
    }
    let id = invoice.id.clone();
    ctx.acct.invoices.insert(id.clone(), invoice);
    let json = Answer::new(render(ctx, &id)?);
    ctx.emit("invoice.created", Answer::clone(&json), None);
    Ok(json)
}

/// A new draft with Stripe's defaults.
fn blank_invoice(id: String, customer: &str, currency: String, now: i64) -> Invoice {
    Invoice {
        id,
        created: now,
        customer: customer.to_owned(),
        currency,
        collection_method: "charge_automatically".into(),
        days_until_due: None,
        due_date: None,
        auto_advance: false,
        description: None,
        footer: None,
        custom_fields: Vec::new(),
        metadata: Default::default(),
        status: InvoiceStatus::Draft,
        number: None,
        hosted_invoice_url: None,
        invoice_pdf: None,
        frozen_customer: None,
        items: Vec::new(),
        finalized: None,
        amount_paid: 0,
        amount_paid_off_stripe: 0,
        finalized_at: None,
        paid_at: None,
        voided_at: None,
        marked_uncollectible_at: None,
        attempt_count: 0,
        attempted: false,
        default_payment_method: None,
        statement_descriptor: None,
    }
}

/// `POST /v1/invoices/create_preview`: the customer's next invoice as finalization
/// would compute it (pending items and `invoice_items[i]` as lines, balance applied),
/// without creating anything: the work happens on a scratch copy of the account.
pub(crate) fn create_preview(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let customer_id = params.required_text("customer")?.to_owned();
    let customer = referenced(ctx, &customer_id, "customer")?;
    let customer_currency = customer.currency.clone();
    let currency = match params.text("currency")? {
        Some(currency) => super::currency(currency, "currency")?,
        None => customer_currency.unwrap_or_else(|| ctx.settings.default_currency.clone()),
    };
    let include_pending = params.text("pending_invoice_items_behavior")? != Some("exclude");
    let mut account = ctx.acct.clone();
    let mut random = ctx.random.clone();
    let mut scratch = Ctx {
        acct: &mut account,
        random: &mut random,
        settings: ctx.settings,
        now: ctx.now,
        request_id: ctx.request_id.clone(),
        idempotency_key: None,
        events: Vec::new(),
    };
    let id = format!("upcoming_{}", scratch.random.id("in"));
    let mut invoice = blank_invoice(id.clone(), &customer_id, currency.clone(), ctx.now);
    if include_pending {
        let pending: Vec<String> = scratch
            .acct
            .invoice_items
            .iter()
            .filter(|item| {
                item.invoice.is_none() && item.customer == customer_id && item.currency == currency
            })
            .map(|item| item.id.clone())
            .collect();
        for item_id in &pending {
            if let Some(item) = scratch.acct.invoice_items.get_mut(item_id) {
                item.invoice = Some(id.clone());
            }
        }
        invoice.items = pending;
    }
    for line in params.object_list("invoice_items")? {
        let line = line.view();
        let mut item = build_item(&mut scratch, line, &customer_id, Some((&id, &currency)))?;
        item.line_id = format!("il_tmp_{}", scratch.random.alphanumeric(24));
        invoice.items.push(item.id.clone());
        scratch.acct.invoice_items.insert(item.id.clone(), item);
    }
    let balance = scratch.acct.applicable_balance(&invoice);
    let total = scratch.acct.amounts(&invoice).total;
    let application = rules::apply_balance(balance, total, &invoice.currency)
        .map_err(|error| ApiError::invalid(None, error.to_string(), None))?;
    invoice.finalized = Some(Finalized {
        starting_balance: balance,
        ending_balance: application.ending_balance,
        amount_due: application.amount_due,
        balance_moved: 0,
    });
    Ok(account.invoice_json(&invoice, ctx.settings))
}

fn rules_max_lines() -> usize {
    super::invoiceitems::MAX_LINES
}

pub(crate) fn retrieve(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    render(ctx, id)
}

pub(crate) fn update(ctx: &mut Ctx<'_>, id: &str, params: Obj<'_>) -> Result<Answer, ApiError> {
    let now = ctx.now;
    let current = invoice(ctx, id)?;
    let status = current.status.clone();
    let allowed: &[&str] = match status {
        InvoiceStatus::Draft => UPDATE,
        InvoiceStatus::Open | InvoiceStatus::Uncollectible => OPEN_EDITABLE,
        _ => &["metadata"],
    };
    for key in params.keys() {
        if key == "customer" {
            return Err(ApiError::invalid(
                None,
                "The customer of an invoice cannot be changed.",
                Some("customer".into()),
            ));
        }
        if key != "expand" && !allowed.contains(&key.as_str()) {
            return Err(ApiError::not_editable(
                format!("You can't change {key} of an invoice that is {status}."),
                Some(key),
            ));
        }
    }
    let change_metadata = metadata_change(params)?;
    let mut updated = current.clone();
    if params.has("due_date")
        && status != InvoiceStatus::Draft
        && updated.collection_method != "send_invoice"
    {
        return Err(ApiError::not_editable(
            "due_date can only be changed on send_invoice invoices.",
            Some("due_date"),
        ));
    }
    write_fields(&mut updated, params, now)?;
    apply_metadata(&mut updated.metadata, change_metadata)?;
    let before = render(ctx, id)?;
    *invoice_mut(ctx, id)? = updated;
    let after = Answer::new(render(ctx, id)?);
    if let Some(previous) = previous_attributes(&before, &after) {
        ctx.emit("invoice.updated", Answer::clone(&after), Some(previous));
    }
    Ok(after)
}

pub(crate) fn delete(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    let current = invoice(ctx, id)?;
    if current.status != InvoiceStatus::Draft {
        return Err(ApiError::unexpected_status(format!(
            "You can only delete draft invoices; invoice {id} is {}.",
            current.status
        )));
    }
    let snapshot = render(ctx, id)?;
    if let Some(removed) = ctx.acct.invoices.remove(id) {
        for item in &removed.items {
            ctx.acct.invoice_items.remove(item);
        }
    }
    ctx.emit("invoice.deleted", snapshot, None);
    Ok(serde_json::json!({"id": id, "object": "invoice", "deleted": true}))
}

pub(crate) fn lines(ctx: &mut Ctx<'_>, id: &str, params: Obj<'_>) -> Result<Value, ApiError> {
    let current = invoice(ctx, id)?;
    // Lines keep their order; the cursor walks forward through it.
    let items: Vec<_> = ctx.acct.lines_of(current).collect();
    paginate(
        items,
        |item| &item.line_id,
        |item| item.line_json(),
        params,
        "line item",
        &format!("/v1/invoices/{id}/lines"),
    )
}

pub(crate) fn add_lines(ctx: &mut Ctx<'_>, id: &str, params: Obj<'_>) -> Result<Answer, ApiError> {
    let lines = params.object_list("lines")?;
    if lines.is_empty() {
        return Err(ApiError::missing("lines"));
    }
    let customer = invoice(ctx, id)?.customer.clone();
    let currency = invoice_accepts(ctx, id, None, lines.len(), "lines")?;
    let mut built = Vec::new();
    for line in &lines {
        let line = line.view();
        built.push(build_item(ctx, line, &customer, Some((id, &currency)))?);
    }
    let before = render(ctx, id)?;
    for item in built {
        store_item(ctx, item);
    }
    if let Some(metadata) = params.object("invoice_metadata")? {
        let view = metadata.view();
        let mut changes = Vec::new();
        for key in view.keys() {
            changes.push((key.clone(), view.nullable_text(key)?.flatten()));
        }
        let invoice = invoice_mut(ctx, id)?;
        apply_metadata(
            &mut invoice.metadata,
            Some(super::MetadataChange::Merge(changes)),
        )?;
    }
    let after = Answer::new(render(ctx, id)?);
    if let Some(previous) = previous_attributes(&before, &after) {
        ctx.emit("invoice.updated", Answer::clone(&after), Some(previous));
    }
    Ok(after)
}

fn require_status(
    invoice: &Invoice,
    allowed: &[InvoiceStatus],
    action: &str,
) -> Result<(), ApiError> {
    if allowed.contains(&invoice.status) {
        Ok(())
    } else {
        Err(ApiError::unexpected_status(format!(
            "You can't {action} invoice {} because it is {}.",
            invoice.id, invoice.status
        )))
    }
}

pub(crate) fn finalize(ctx: &mut Ctx<'_>, id: &str, params: Obj<'_>) -> Result<Answer, ApiError> {
    let current = invoice(ctx, id)?;
    require_status(current, &[InvoiceStatus::Draft], "finalize")?;
    let total = ctx.acct.amounts(current).total;
    let balance = ctx.acct.applicable_balance(current);
    let currency = current.currency.clone();
    let customer_id = current.customer.clone();
    let application = rules::apply_balance(balance, total, &currency)
        .map_err(|error| ApiError::invalid(None, error.to_string(), None))?;
    let mut moved = 0;
    let mut ending = application.ending_balance;
    if application.applied != 0 {
        record(
            ctx,
            Movement {
                customer: &customer_id,
                amount: application.applied,
                currency: &currency,
                kind: "applied_to_invoice",
                invoice: Some(id),
                description: None,
                metadata: None,
            },
        )?;
        moved = application.applied;
    }
    let due = application.amount_due;
    let too_small = application.too_small;
    if too_small > 0 {
        let transaction = record(
            ctx,
            Movement {
                customer: &customer_id,
                amount: too_small,
                currency: &currency,
                kind: "invoice_too_small",
                invoice: Some(id),
                description: None,
                metadata: None,
            },
        )?;
        ending = transaction.ending_balance;
    }
    let numbering = ctx.settings.numbering;
    let customer = live(ctx, &customer_id, Some("customer"))?;
    let snapshot = CustomerSnapshot::of(Some(customer));
    let number = match numbering {
        InvoiceNumbering::PerCustomer => {
            let number = format!(
                "{}-{:04}",
                customer.invoice_prefix, customer.next_invoice_sequence
            );
            customer.next_invoice_sequence += 1;
            number
        }
        InvoiceNumbering::PerAccount => {
            let number = format!(
                "{}-{:04}",
                ctx.acct.account_invoice_prefix, ctx.acct.next_account_invoice_sequence
            );
            ctx.acct.next_account_invoice_sequence += 1;
            number
        }
    };
    let token = ctx.random.alphanumeric(40);
    let account = ctx.acct.id.clone().unwrap_or_else(|| "acct_mock".into());
    let now = ctx.now;
    let auto_advance = params.boolean("auto_advance")?;
    let after_finalized = change(ctx, id, &["invoice.finalized"], |invoice| {
        invoice.status = InvoiceStatus::Open;
        invoice.number = Some(number);
        invoice.hosted_invoice_url = Some(format!(
            "https://invoice.stripe.com/i/{account}/test_{token}"
        ));
        invoice.invoice_pdf = Some(format!(
            "https://pay.stripe.com/invoice/{account}/test_{token}/pdf"
        ));
        invoice.frozen_customer = Some(snapshot);
        invoice.finalized_at = Some(now);
        if let Some(days) = invoice.days_until_due {
            invoice.due_date = Some(now + days * DAY);
        }
        if let Some(auto_advance) = auto_advance {
            invoice.auto_advance = auto_advance;
        }
        invoice.finalized = Some(Finalized {
            starting_balance: balance,
            ending_balance: ending,
            amount_due: due,
            balance_moved: moved,
        });
    })?;
    if due == 0 {
        // Nothing to collect (or too little to charge, carried to the balance): paid at
        // once, with no payment, so nothing shows as paid.
        return change(ctx, id, &["invoice.paid"], |invoice| {
            invoice.status = InvoiceStatus::Paid;
            invoice.paid_at = Some(now);
            invoice.amount_paid = 0;
            invoice.attempted = true;
        });
    }
    Ok(after_finalized)
}

pub(crate) fn send(ctx: &mut Ctx<'_>, id: &str) -> Result<Answer, ApiError> {
    require_status(
        invoice(ctx, id)?,
        &[
            InvoiceStatus::Open,
            InvoiceStatus::Paid,
            InvoiceStatus::Uncollectible,
        ],
        "send",
    )?;
    // Test mode sends no email; the event is the observable effect.
    change(ctx, id, &["invoice.sent"], |_| {})
}

/// What a test payment method does when charged.
enum CardOutcome {
    Succeeds,
    Declines(&'static str),
}

fn card_outcome(payment_method: &str) -> Option<CardOutcome> {
    match payment_method {
        "pm_card_chargeDeclined" => Some(CardOutcome::Declines("generic_decline")),
        "pm_card_chargeDeclinedInsufficientFunds" => {
            Some(CardOutcome::Declines("insufficient_funds"))
        }
        "pm_card_chargeDeclinedExpiredCard" => Some(CardOutcome::Declines("expired_card")),
        method if method.starts_with("pm_") => Some(CardOutcome::Succeeds),
        _ => None,
    }
}

pub(crate) fn pay(ctx: &mut Ctx<'_>, id: &str, params: Obj<'_>) -> Result<Answer, ApiError> {
    let current = invoice(ctx, id)?;
    if current.status == InvoiceStatus::Paid {
        return Err(ApiError::unexpected_status(format!(
            "Invoice {id} is already paid."
        )));
    }
    require_status(
        current,
        &[InvoiceStatus::Open, InvoiceStatus::Uncollectible],
        "pay",
    )?;
    let now = ctx.now;
    if params.boolean("paid_out_of_band")? == Some(true) {
        return change(ctx, id, &["invoice.paid"], |invoice| {
            invoice.status = InvoiceStatus::Paid;
            invoice.paid_at = Some(now);
            invoice.amount_paid = invoice
                .finalized
                .map_or(0, |finalized| finalized.amount_due);
            invoice.amount_paid_off_stripe = invoice.amount_paid;
        });
    }
    let payment_method = match params.text("payment_method")? {
        Some(method) => Some(method.to_owned()),
        None => current.default_payment_method.clone().or_else(|| {
            ctx.acct
                .customers
                .get(&current.customer)
                .and_then(|customer| customer.default_payment_method.clone())
        }),
    };
    let Some(payment_method) = payment_method else {
        return Err(ApiError::invalid(
            Some("invoice_no_payment_method_types"),
            "This customer has no attached payment source or default payment method.",
            Some("payment_method".into()),
        ));
    };
    match card_outcome(&payment_method) {
        None => Err(ApiError::no_such(
            "PaymentMethod",
            &payment_method,
            "payment_method",
        )),
        Some(CardOutcome::Declines(decline_code)) => {
            change(
                ctx,
                id,
                &["invoice.payment_failed", "invoice.updated"],
                |invoice| {
                    invoice.attempt_count += 1;
                    invoice.attempted = true;
                },
            )?;
            Err(ApiError::card_declined(
                decline_code,
                "Your card was declined.",
            ))
        }
        Some(CardOutcome::Succeeds) => change(
            ctx,
            id,
            &["invoice.paid", "invoice.payment_succeeded"],
            |invoice| {
                invoice.attempt_count += 1;
                invoice.attempted = true;
                invoice.status = InvoiceStatus::Paid;
                invoice.paid_at = Some(now);
                invoice.amount_paid = invoice
                    .finalized
                    .map_or(0, |finalized| finalized.amount_due);
            },
        ),
    }
}

pub(crate) fn void(ctx: &mut Ctx<'_>, id: &str) -> Result<Answer, ApiError> {
    let current = invoice(ctx, id)?;
    require_status(
        current,
        &[InvoiceStatus::Open, InvoiceStatus::Uncollectible],
        "void",
    )?;
    let moved = current
        .finalized
        .map_or(0, |finalized| finalized.balance_moved);
    let customer_id = current.customer.clone();
    let currency = current.currency.clone();
    if moved != 0 {
        // The balance this invoice used (or added) goes back where it came from.
        record(
            ctx,
            Movement {
                customer: &customer_id,
                amount: -moved,
                currency: &currency,
                kind: "unapplied_from_invoice",
                invoice: Some(id),
                description: None,
                metadata: None,
            },
        )?;
    }
    let now = ctx.now;
    change(ctx, id, &["invoice.voided"], |invoice| {
        invoice.status = InvoiceStatus::Void;
        invoice.voided_at = Some(now);
    })
}

pub(crate) fn mark_uncollectible(ctx: &mut Ctx<'_>, id: &str) -> Result<Answer, ApiError> {
    require_status(
        invoice(ctx, id)?,
        &[InvoiceStatus::Open],
        "mark uncollectible",
    )?;
    let now = ctx.now;
    change(ctx, id, &["invoice.marked_uncollectible"], |invoice| {
        invoice.status = InvoiceStatus::Uncollectible;
        invoice.marked_uncollectible_at = Some(now);
    })
}

pub(crate) fn list(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let customer = params.text("customer")?;
    let status = params.text("status")?;
    if let Some(status) = status
        && !matches!(status, "draft" | "open" | "paid" | "void" | "uncollectible")
    {
        return Err(ApiError::invalid(
            None,
            format!(
                "Invalid status: must be one of draft, open, paid, uncollectible, or void (got {status})"
            ),
            Some("status".into()),
        ));
    }
    let method = collection_method(params)?;
    let created = super::RangeFilter::read(params, "created")?;
    let due = super::RangeFilter::read(params, "due_date")?;
    let due_filtered = params.has("due_date");
    let items: Vec<&Invoice> = ctx
        .acct
        .invoices
        .newest_first()
        .filter(|invoice| customer.is_none_or(|customer| invoice.customer == customer))
        .filter(|invoice| status.is_none_or(|status| invoice.status.as_str() == status))
        .filter(|invoice| {
            method
                .as_ref()
                .is_none_or(|method| &invoice.collection_method == method)
        })
        .filter(|invoice| created.matches(invoice.created))
        .filter(|invoice| {
            !due_filtered
                || invoice
                    .due_date
                    .is_some_and(|due_date| due.matches(due_date))
        })
        .collect();
    paginate(
        items,
        |invoice| &invoice.id,
        |invoice| ctx.acct.invoice_json(invoice, ctx.settings),
        params,
        "invoice",
        "/v1/invoices",
    )
}

pub(crate) fn search(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let query = Query::parse(params.required_text("query")?, &INVOICES)?;
    let matches: Vec<&Invoice> = ctx
        .acct
        .invoices
        .newest_first()
        .filter(|invoice| {
            query.matches(|field| match field {
                Field::Metadata(key) => invoice.metadata.get(key).map(str::to_owned),
                Field::Plain(name) => match *name {
                    "customer" => Some(invoice.customer.clone()),
                    "status" => Some(invoice.status.as_str().to_owned()),
                    "number" => invoice.number.clone(),
                    "created" => Some(invoice.created.to_string()),
                    "currency" => Some(invoice.currency.clone()),
                    "total" => Some(ctx.acct.amounts(invoice).total.to_string()),
                    _ => None,
                },
            })
        })
        .collect();
    page(
        ctx,
        matches,
        |invoice| &invoice.id,
        |invoice| ctx.acct.invoice_json(invoice, ctx.settings),
        params,
        "/v1/invoices/search",
    )
}

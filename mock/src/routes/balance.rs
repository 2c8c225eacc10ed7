//! `/v1/customers/{id}/balance_transactions`: adjustments written by the caller, and the
//! one place where every balance movement (invoice ones included) is recorded so that
//! the customer's `balance` always equals the last transaction's `ending_balance`.

use serde_json::{Value, json};

use super::customers::live;
use super::{Ctx, apply_metadata, metadata_change, paginate};
use crate::error::ApiError;
use crate::form::Obj;
use crate::objects::{BalanceTransaction, MetadataMap};

/// One balance movement to record.
pub(crate) struct Movement<'a> {
    pub customer: &'a str,
    /// Negative adds credit, positive adds debit.
    pub amount: i64,
    pub currency: &'a str,
    pub kind: &'static str,
    pub invoice: Option<&'a str>,
    pub description: Option<String>,
    pub metadata: Option<MetadataMap>,
}

/// Move a customer's balance by `amount` and write the transaction that says why.
/// Emits `customer.updated` with the previous balance.
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    movement: Movement<'_>,
) -> Result<BalanceTransaction, ApiError> {
    let Movement {
        customer: customer_id,
        amount,
        currency,
        kind,
        invoice,
        description,
        metadata,
    } = movement;
    let id = ctx.random.id("cbtxn");
    let now = ctx.now;
    let customer = live(ctx, customer_id, Some("customer"))?;
    let before = json!({"balance": customer.balance, "currency": customer.currency});
    customer.balance = customer.balance.saturating_add(amount);
    if customer.currency.is_none() {
        customer.currency = Some(currency.to_owned());
    }
    let transaction = BalanceTransaction {
        id: id.clone(),
        created: now,
        customer: customer_id.to_owned(),
        amount,
        currency: currency.to_owned(),
        description,
        ending_balance: customer.balance,
        invoice: invoice.map(str::to_owned),
        metadata,
        kind,
    };
    let snapshot = customer.to_json();
    let mut previous = serde_json::Map::new();
    if before["balance"] != snapshot["balance"] {
        previous.insert("balance".into(), before["balance"].clone());
    }
    if before["currency"] != snapshot["currency"] {
        previous.insert("currency".into(), before["currency"].clone());
    }
    ctx.acct
        .balance_transactions
        .insert(id, transaction.clone());
    if !previous.is_empty() {
        ctx.emit("customer.updated", snapshot, Some(Value::Object(previous)));
    }
    Ok(transaction)
}

pub(crate) fn create(
    ctx: &mut Ctx<'_>,
    customer_id: &str,
    params: Obj<'_>,
) -> Result<Value, ApiError> {
    let customer = live(ctx, customer_id, Some("customer"))?;
    let customer_currency = customer.currency.clone();
    let amount = super::amount_within_limits(params.required_integer("amount")?, "amount")?;
    if amount == 0 {
        return Err(ApiError::invalid(
            Some("parameter_invalid_integer"),
            "Invalid amount: a balance adjustment cannot be zero.",
            Some("amount".into()),
        ));
    }
    let currency = super::currency(params.required_text("currency")?, "currency")?;
    if let Some(existing) = customer_currency
        && existing != currency
    {
        return Err(ApiError::invalid(
            Some("customer_currency_mismatch"),
            format!(
                "The currency {currency} does not match the customer's balance currency {existing}."
            ),
            Some("currency".into()),
        ));
    }
    let description = params.nullable_text("description")?.flatten();
    let mut metadata = MetadataMap::new();
    apply_metadata(&mut metadata, metadata_change(params)?)?;
    let metadata = if params.has("metadata") {
        Some(metadata)
    } else {
        None
    };
    let transaction = record(
        ctx,
        Movement {
            customer: customer_id,
            amount,
            currency: &currency,
            kind: "adjustment",
            invoice: None,
            description,
            metadata,
        },
    )?;
    Ok(transaction.to_json())
}

fn owned<'a>(
    ctx: &'a mut Ctx<'_>,
    customer_id: &str,
    id: &str,
) -> Result<&'a mut BalanceTransaction, ApiError> {
    live(ctx, customer_id, Some("customer"))?;
    match ctx.acct.balance_transactions.get_mut(id) {
        Some(transaction) if transaction.customer == customer_id => Ok(transaction),
        _ => Err(ApiError::not_found(
            "customer balance transaction",
            id,
            Some("id"),
        )),
    }
}

pub(crate) fn retrieve(ctx: &mut Ctx<'_>, customer_id: &str, id: &str) -> Result<Value, ApiError> {
    Ok(owned(ctx, customer_id, id)?.to_json())
}

pub(crate) fn update(
    ctx: &mut Ctx<'_>,
    customer_id: &str,
    id: &str,
    params: Obj<'_>,
) -> Result<Value, ApiError> {
    let change = metadata_change(params)?;
    let description = params.nullable_text("description")?;
    let transaction = owned(ctx, customer_id, id)?;
    if let Some(description) = description {
        transaction.description = description;
    }
    if change.is_some() {
        let mut metadata = transaction.metadata.clone().unwrap_or_default();
        apply_metadata(&mut metadata, change)?;
        transaction.metadata = Some(metadata);
    }
    Ok(transaction.to_json())
}

pub(crate) fn list(
    ctx: &mut Ctx<'_>,
    customer_id: &str,
    params: Obj<'_>,
) -> Result<Value, ApiError> {
    live(ctx, customer_id, Some("customer"))?;
    let invoice = params.text("invoice")?;
    let created = super::RangeFilter::read(params, "created")?;
    let items: Vec<&BalanceTransaction> = ctx
        .acct
        .balance_transactions
        .newest_first()
        .filter(|transaction| transaction.customer == customer_id)
        .filter(|transaction| created.matches(transaction.created))
        .filter(|transaction| invoice.is_none_or(|id| transaction.invoice.as_deref() == Some(id)))
        .collect();
    paginate(
        items,
        |transaction| &transaction.id,
        BalanceTransaction::to_json,
        params,
        "customer balance transaction",
        &format!("/v1/customers/{customer_id}/balance_transactions"),
    )
}

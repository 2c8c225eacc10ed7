//! `expand[]`, for every operation alike: each requested path (`customer`,
//! `data.customer`, `invoice.customer`, up to four levels) has the id it reaches
//! replaced by the object it names, rendered as a retrieve would render it. Lists are
//! walked through `data`, as Stripe spells it; a path that reaches no expandable id is
//! refused as Stripe refuses it.

use serde_json::Value;

use super::error::ApiError;
use super::state::{Account, Settings};

/// Stripe's limit on the depth of one expansion path.
const MAX_LEVELS: usize = 4;

/// Expand `paths` in an answer of the account `account`.
///
/// # Errors
/// 400 when a path is deeper than four levels or names no expandable property.
pub(crate) fn expand(
    account: &Account,
    settings: &Settings,
    body: &mut Value,
    paths: &[String],
) -> Result<(), ApiError> {
    for path in paths {
        // Search results count their matches on request; the page handles that.
        if path == "total_count" && body["object"] == "search_result" {
            continue;
        }
        let segments: Vec<&str> = path.split('.').collect();
        let levels = segments
            .iter()
            .filter(|segment| **segment != "data")
            .count();
        if levels > MAX_LEVELS {
            return Err(ApiError::invalid(
                None,
                format!(
                    "You cannot expand more than {MAX_LEVELS} levels of a property. Property: {path}"
                ),
                Some("expand".into()),
            ));
        }
        walk(account, settings, body, &segments, path)?;
    }
    Ok(())
}

fn walk(
    account: &Account,
    settings: &Settings,
    value: &mut Value,
    segments: &[&str],
    path: &str,
) -> Result<(), ApiError> {
    let Some((first, rest)) = segments.split_first() else {
        return Ok(());
    };
    let is_list = matches!(value["object"].as_str(), Some("list" | "search_result"));
    if is_list && *first == "data" {
        if let Some(items) = value["data"].as_array_mut() {
            for item in items {
                walk(account, settings, item, rest, path)?;
            }
        }
        return Ok(());
    }
    let refused = || {
        ApiError::invalid(
            None,
            format!("This property cannot be expanded ({path})."),
            Some("expand".into()),
        )
    };
    let field = value
        .as_object_mut()
        .and_then(|object| object.get_mut(*first))
        .ok_or_else(refused)?;
    match field {
        Value::Null => return Ok(()),
        Value::String(id) => {
            *field = render(account, settings, id).ok_or_else(refused)?;
        }
        Value::Object(_) => {}
        _ => return Err(refused()),
    }
    walk(account, settings, field, rest, path)
}

/// The object `id` names in `account`, rendered as its retrieve answers it.
fn render(account: &Account, settings: &Settings, id: &str) -> Option<Value> {
    let prefix = id.split('_').next().unwrap_or_default();
    match prefix {
        "cus" => account.customers.get(id).map(|customer| customer.to_json()),
        "in" => account
            .invoices
            .get(id)
            .map(|invoice| account.invoice_json(invoice, settings)),
        "ii" => account.invoice_items.get(id).map(|item| item.to_json()),
        "prod" => account.products.get(id).map(|product| product.to_json()),
        "price" => account.prices.get(id).map(|price| price.to_json()),
        "cbtxn" => account
            .balance_transactions
            .get(id)
            .map(|transaction| transaction.to_json()),
        _ => None,
    }
}

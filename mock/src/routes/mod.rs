//! Request routing: which handler answers which method and path, and the helpers every
//! resource shares (metadata merging, list pagination, `created` filters, events).

mod balance;
mod catalogue;
mod customers;
mod events;
mod invoiceitems;
mod invoices;

use serde_json::{Value, json};

use super::clock::Random;
use super::error::ApiError;
use super::form::{Form, Obj};
use super::objects::{Event, MetadataMap};
use super::state::{Account, Settings};
use billbridge::domain::money::{Currency, MAX_STRIPE_AMOUNT};
use billbridge::stripe::transport::Method;

/// Everything a handler may touch while answering one request.
pub(crate) struct Ctx<'a> {
    pub acct: &'a mut Account,
    pub random: &'a mut Random,
    pub settings: &'a Settings,
    pub now: i64,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    /// Events this request emitted, queued for webhook delivery afterwards.
    pub events: Vec<Event>,
}

impl Ctx<'_> {
    /// Record an event with a snapshot of the object.
    pub(crate) fn emit(&mut self, kind: &str, object: Value, previous: Option<Value>) {
        let event = Event {
            id: self.random.id("evt"),
            kind: kind.to_owned(),
            created: self.now,
            object,
            previous_attributes: previous,
            request_id: Some(self.request_id.clone()),
            idempotency_key: self.idempotency_key.clone(),
            account: self.acct.id.clone(),
            api_version: self.settings.api_version.clone(),
        };
        self.acct.events.insert(event.id.clone(), event.clone());
        self.events.push(event);
    }
}

/// Answer one request on the account in `ctx`.
///
/// # Errors
/// Any Stripe-shaped error the request deserves.
pub(crate) fn route(
    ctx: &mut Ctx<'_>,
    method: Method,
    path: &str,
    form: &Form,
) -> Result<Value, ApiError> {
    let unknown = || ApiError::unknown_route(method.as_str(), path);
    let rest = path.strip_prefix("/v1/").ok_or_else(unknown)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let params = form.obj();
    use Method::{Delete, Get, Post};
    match (method, segments.as_slice()) {
        (Post, ["customers"]) => customers::create(ctx, params),
        (Get, ["customers"]) => customers::list(ctx, params),
        (Get, ["customers", "search"]) => customers::search(ctx, params),
        (Get, ["customers", id]) => customers::retrieve(ctx, id),
        (Post, ["customers", id]) => customers::update(ctx, id, params),
        (Delete, ["customers", id]) => customers::delete(ctx, id),
        (Post, ["customers", id, "balance_transactions"]) => balance::create(ctx, id, params),
        (Get, ["customers", id, "balance_transactions"]) => balance::list(ctx, id, params),
        (Get, ["customers", id, "balance_transactions", txn]) => balance::retrieve(ctx, id, txn),
        (Post, ["customers", id, "balance_transactions", txn]) => {
            balance::update(ctx, id, txn, params)
        }
        (Post, ["products"]) => catalogue::create_product(ctx, params),
        (Get, ["products"]) => catalogue::list_products(ctx, params),
        (Get, ["products", id]) => catalogue::retrieve_product(ctx, id),
        (Post, ["products", id]) => catalogue::update_product(ctx, id, params),
        (Delete, ["products", id]) => catalogue::delete_product(ctx, id),
        (Post, ["prices"]) => catalogue::create_price(ctx, params),
        (Get, ["prices"]) => catalogue::list_prices(ctx, params),
        (Get, ["prices", id]) => catalogue::retrieve_price(ctx, id),
        (Post, ["prices", id]) => catalogue::update_price(ctx, id, params),
        (Post, ["invoiceitems"]) => invoiceitems::create(ctx, params),
        (Get, ["invoiceitems"]) => invoiceitems::list(ctx, params),
        (Get, ["invoiceitems", id]) => invoiceitems::retrieve(ctx, id),
        (Post, ["invoiceitems", id]) => invoiceitems::update(ctx, id, params),
        (Delete, ["invoiceitems", id]) => invoiceitems::delete(ctx, id),
        (Post, ["invoices"]) => invoices::create(ctx, params),
        (Get, ["invoices"]) => invoices::list(ctx, params),
        (Get, ["invoices", "search"]) => invoices::search(ctx, params),
        (Post, ["invoices", "create_preview"]) => invoices::create_preview(ctx, params),
        (Get, ["invoices", id]) => invoices::retrieve(ctx, id),
        (Post, ["invoices", id]) => invoices::update(ctx, id, params),
        (Delete, ["invoices", id]) => invoices::delete(ctx, id),
        (Get, ["invoices", id, "lines"]) => invoices::lines(ctx, id, params),
        (Post, ["invoices", id, "add_lines"]) => invoices::add_lines(ctx, id, params),
        (Post, ["invoices", id, "finalize"]) => invoices::finalize(ctx, id, params),
        (Post, ["invoices", id, "send"]) => invoices::send(ctx, id, params),
        (Post, ["invoices", id, "pay"]) => invoices::pay(ctx, id, params),
        (Post, ["invoices", id, "void"]) => invoices::void(ctx, id, params),
        (Post, ["invoices", id, "mark_uncollectible"]) => {
            invoices::mark_uncollectible(ctx, id, params)
        }
        (Get, ["events"]) => events::list(ctx, params),
        (Get, ["events", id]) => events::retrieve(ctx, id),
        _ => Err(unknown()),
    }
}

/// A metadata change as sent: clear everything, or set / delete key by key.
pub(crate) enum MetadataChange {
    Clear,
    Merge(Vec<(String, Option<String>)>),
}

/// Read `metadata` from a request.
///
/// # Errors
/// 400 when it is neither `""` nor a hash of strings.
pub(crate) fn metadata_change(params: Obj<'_>) -> Result<Option<MetadataChange>, ApiError> {
    use super::form::Param;
    match params.raw("metadata") {
        None => Ok(None),
        Some(Param::Text(text)) if text.is_empty() => Ok(Some(MetadataChange::Clear)),
        Some(Param::Text(_)) => Err(ApiError::invalid(
            None,
            "Invalid object: metadata must be a hash",
            Some("metadata".into()),
        )),
        Some(Param::Map(map)) => {
            let mut changes = Vec::new();
            for (key, value) in map {
                match value {
                    Param::Text(text) if text.is_empty() => changes.push((key.clone(), None)),
                    Param::Text(text) => changes.push((key.clone(), Some(text.clone()))),
                    Param::Map(_) => {
                        return Err(ApiError::invalid(
                            None,
                            format!(
                                "Invalid value for metadata[{key}]: metadata values must be strings"
                            ),
                            Some(format!("metadata[{key}]")),
                        ));
                    }
                }
            }
            Ok(Some(MetadataChange::Merge(changes)))
        }
    }
}

/// Apply a change to stored metadata under Stripe's limits (≤ 50 keys, key ≤ 40
/// characters, value ≤ 500 characters). Nothing changes when the result is invalid.
///
/// # Errors
/// 400 naming the limit that was exceeded (never the value).
pub(crate) fn apply_metadata(
    target: &mut MetadataMap,
    change: Option<MetadataChange>,
) -> Result<(), ApiError> {
    let Some(change) = change else {
        return Ok(());
    };
    let mut result = target.clone();
    match change {
        MetadataChange::Clear => result.clear(),
        MetadataChange::Merge(changes) => {
            for (key, value) in changes {
                let param = Some(format!("metadata[{key}]"));
                if key.chars().count() > 40 {
                    return Err(ApiError::invalid(
                        None,
                        format!(
                            "Metadata keys can have up to 40 characters, but you passed in a key that is {} characters long.",
                            key.chars().count()
                        ),
                        param,
                    ));
                }
                match value {
                    None => {
                        result.remove(&key);
                    }
                    Some(value) => {
                        if value.chars().count() > 500 {
                            return Err(ApiError::invalid(
                                None,
                                format!(
                                    "Metadata values can have up to 500 characters, but you passed in a value that is {} characters long.",
                                    value.chars().count()
                                ),
                                param,
                            ));
                        }
                        result.insert(key, value);
                    }
                }
            }
        }
    }
    if result.len() > 50 {
        return Err(ApiError::invalid(
            None,
            format!(
                "Invalid metadata: metadata can have up to 50 keys, but you passed in {} keys.",
                result.len()
            ),
            Some("metadata".into()),
        ));
    }
    *target = result;
    Ok(())
}

/// Metadata for a new object.
///
/// # Errors
/// As [`apply_metadata`].
pub(crate) fn new_metadata(params: Obj<'_>) -> Result<MetadataMap, ApiError> {
    let mut metadata = MetadataMap::new();
    apply_metadata(&mut metadata, metadata_change(params)?)?;
    Ok(metadata)
}

/// A `created`-style filter: an exact value or `gt`/`gte`/`lt`/`lte` bounds.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RangeFilter {
    eq: Option<i64>,
    gt: Option<i64>,
    gte: Option<i64>,
    lt: Option<i64>,
    lte: Option<i64>,
}

impl RangeFilter {
    pub(crate) fn read(params: Obj<'_>, name: &str) -> Result<Self, ApiError> {
        let mut filter = Self::default();
        if let Some(bounds) = params.object(name).ok().flatten() {
            let bounds = bounds.view();
            bounds.only(&["gt", "gte", "lt", "lte"])?;
            filter.gt = bounds.integer("gt")?;
            filter.gte = bounds.integer("gte")?;
            filter.lt = bounds.integer("lt")?;
            filter.lte = bounds.integer("lte")?;
        } else {
            filter.eq = params.integer(name)?;
        }
        Ok(filter)
    }

    pub(crate) fn matches(&self, value: i64) -> bool {
        self.eq.is_none_or(|bound| value == bound)
            && self.gt.is_none_or(|bound| value > bound)
            && self.gte.is_none_or(|bound| value >= bound)
            && self.lt.is_none_or(|bound| value < bound)
            && self.lte.is_none_or(|bound| value <= bound)
    }
}

/// One page of a newest-first list, paged with `limit`, `starting_after`, `ending_before`.
///
/// # Errors
/// 400 for a bad `limit`; 404 when the cursor id is not in the list.
pub(crate) fn paginate<T>(
    items: Vec<&T>,
    id_of: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
    params: Obj<'_>,
    object_name: &str,
    url: &str,
) -> Result<Value, ApiError> {
    let limit = read_limit(params)?;
    let position = |param: &str| -> Result<Option<usize>, ApiError> {
        match params.text(param)? {
            None | Some("") => Ok(None),
            Some(cursor) => items
                .iter()
                .position(|item| id_of(item) == cursor)
                .map(Some)
                .ok_or_else(|| ApiError::not_found(object_name, cursor, Some(param))),
        }
    };
    let (page, has_more): (Vec<&T>, bool) = if let Some(after) = position("starting_after")? {
        let rest = &items[after + 1..];
        (
            rest.iter().take(limit).copied().collect(),
            rest.len() > limit,
        )
    } else if let Some(before) = position("ending_before")? {
        let earlier = &items[..before];
        let start = earlier.len().saturating_sub(limit);
        (earlier[start..].to_vec(), start > 0)
    } else {
        (
            items.iter().take(limit).copied().collect(),
            items.len() > limit,
        )
    };
    Ok(json!({
        "object": "list",
        "data": page.into_iter().map(render).collect::<Vec<_>>(),
        "has_more": has_more,
        "url": url,
    }))
}

/// `limit`: 1 to 100, default 10.
///
/// # Errors
/// 400 outside that range.
pub(crate) fn read_limit(params: Obj<'_>) -> Result<usize, ApiError> {
    match params.integer("limit")? {
        None => Ok(10),
        Some(limit) if (1..=100).contains(&limit) => Ok(usize::try_from(limit).unwrap_or(10)),
        Some(limit) => Err(ApiError::invalid(
            Some("parameter_invalid_integer"),
            format!("Invalid limit: {limit}. Limit must be between 1 and 100."),
            Some("limit".into()),
        )),
    }
}

/// Check a currency code and lowercase it.
///
/// # Errors
/// 400 unless it is a currency Stripe supports.
pub(crate) fn currency(value: &str, param: &str) -> Result<String, ApiError> {
    if let Ok(currency) = Currency::new(value) {
        Ok(currency.code().to_owned())
    } else {
        Err(ApiError::invalid(
            None,
            format!("Invalid currency: {value}."),
            Some(param.to_owned()),
        ))
    }
}

/// Check an amount against Stripe's 8-digit limit.
///
/// # Errors
/// 400 `amount_too_large` / `amount_too_small`.
pub(crate) fn amount_within_limits(amount: i64, param: &str) -> Result<i64, ApiError> {
    if amount > MAX_STRIPE_AMOUNT {
        return Err(ApiError::invalid(
            Some("amount_too_large"),
            format!("Amount must be no more than {}", MAX_STRIPE_AMOUNT),
            Some(param.to_owned()),
        ));
    }
    if amount < -MAX_STRIPE_AMOUNT {
        return Err(ApiError::invalid(
            Some("amount_too_small"),
            format!("Amount must be no less than -{}", MAX_STRIPE_AMOUNT),
            Some(param.to_owned()),
        ));
    }
    Ok(amount)
}

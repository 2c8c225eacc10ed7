//! Request routing: which handler answers which method and path, and the helpers every
//! resource shares (metadata merging, list pagination, `created` filters, events).

mod balance;
mod catalogue;
mod customers;
mod events;
mod invoiceitems;
mod invoices;

use std::fmt;
use std::sync::Arc;

use serde_json::{Value, json};

use super::clock::Random;
use super::error::ApiError;
use super::expand;
use super::form::{Form, Obj};
use super::objects::{Event, MetadataMap};
use super::params;
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
    pub(crate) fn emit(&mut self, kind: &str, object: impl Into<Answer>, previous: Option<Value>) {
        let object: Answer = object.into();
        if let Some(id) = object["id"].as_str() {
            self.acct.written_at.insert(id.to_owned(), self.now);
        }
        let event = Event {
            id: self.random.id("evt"),
            kind: kind.to_owned(),
            created: self.now,
            object: Event::snapshot(&object),
            previous_attributes: previous.map(|previous| Event::snapshot(&previous)),
            request_id: Some(self.request_id.clone()),
            idempotency_key: self.idempotency_key.clone(),
            account: self.acct.id.clone(),
            api_version: self.settings.api_version.clone(),
        };
        self.acct.events.insert(event.id.clone(), event.clone());
        self.events.push(event);
    }

    /// Whether search finds the object `id` now: always, unless a search lag is set
    /// and the object was written within it.
    pub(crate) fn searchable(&self, id: &str) -> bool {
        self.settings.search_lag_seconds == 0
            || self
                .acct
                .written_at
                .get(id)
                .is_none_or(|written| self.now - written >= self.settings.search_lag_seconds)
    }
}

/// A handler: the account context, the path's `{…}` segments in order, the parameters.
type Handler = fn(&mut Ctx<'_>, &[&str], Obj<'_>) -> Result<Answer, ApiError>;

/// An answer body. Shared, so that an object rendered once serves as the answer and as
/// the snapshot of the events it caused, without a copy of its tree.
pub(crate) type Answer = Arc<Value>;

/// One operation the mock serves: its method and path template in the spelling of
/// Stripe's OpenAPI description, the parameters it models, and its handler.
pub struct Operation {
    /// GET, POST or DELETE.
    pub method: Method,
    /// The path template, e.g. `/v1/invoices/{invoice}/finalize`.
    pub template: &'static str,
    /// The request parameters the mock models, as bracket paths (`[]` for any array
    /// index, `[*]` for any map key); a path covers everything below it. Every other
    /// parameter of the operation's published schema is answered with a 400 naming it
    /// (see `mock/PARAMETERS.md`); `expand[]` is modelled everywhere.
    pub modelled: &'static [&'static str],
    handler: Handler,
}

impl fmt::Debug for Operation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.method, self.template)
    }
}

impl Operation {
    /// The parameters of the published schema this operation does not model, each at
    /// the highest path where nothing below is modelled.
    pub fn unmodelled(&self) -> Vec<String> {
        params::operation_shape(self.method.as_str(), self.template)
            .map(|shape| params::unmodelled(shape, self.modelled))
            .unwrap_or_default()
    }

    /// The path's `{…}` segments when `segments` matches this template.
    fn matches<'p>(&self, segments: &[&'p str]) -> Option<Vec<&'p str>> {
        let template = self.template.strip_prefix('/')?.split('/');
        let mut ids = Vec::new();
        let mut count = 0;
        for (expected, given) in template.zip(segments) {
            count += 1;
            if expected.starts_with('{') {
                if given.is_empty() {
                    return None;
                }
                ids.push(*given);
            } else if expected != *given {
                return None;
            }
        }
        (count == segments.len() && count == self.template.matches('/').count()).then_some(ids)
    }
}

const SEARCH: &[&str] = &["query", "limit", "page"];
const NONE: &[&str] = &[];

macro_rules! op {
    ($method:ident $template:literal, $modelled:expr,
     |$ctx:tt, $ids:tt, $params:tt| $body:expr) => {
        Operation {
            method: Method::$method,
            template: $template,
            modelled: $modelled,
            // Handlers answer a `Value` or an already shared `Answer`.
            handler: |$ctx: &mut Ctx<'_>, $ids: &[&str], $params: Obj<'_>| $body.map(Into::into),
        }
    };
}

/// Every operation the mock serves. A literal segment wins over a `{…}` one
/// (`/v1/customers/search` is not a customer id); any other request is answered as
/// Stripe answers an unknown URL (404 `invalid_request_error`).
static OPERATIONS: &[Operation] = &[
    op!(Post "/v1/customers", customers::CREATE, |ctx, _, params| customers::create(ctx, params)),
    op!(Get "/v1/customers", &["limit", "starting_after", "ending_before", "created", "email"],
        |ctx, _, params| customers::list(ctx, params)),
    op!(Get "/v1/customers/search", SEARCH, |ctx, _, params| customers::search(ctx, params)),
    op!(Get "/v1/customers/{customer}", NONE, |ctx, ids, _| customers::retrieve(ctx, ids[0])),
    op!(Post "/v1/customers/{customer}", customers::UPDATE,
        |ctx, ids, params| customers::update(ctx, ids[0], params)),
    op!(Delete "/v1/customers/{customer}", NONE, |ctx, ids, _| customers::delete(ctx, ids[0])),
    op!(Post "/v1/customers/{customer}/balance_transactions",
        &["amount", "currency", "description", "metadata"],
        |ctx, ids, params| balance::create(ctx, ids[0], params)),
    op!(Get "/v1/customers/{customer}/balance_transactions",
        &["limit", "starting_after", "ending_before", "created", "invoice"],
        |ctx, ids, params| balance::list(ctx, ids[0], params)),
    op!(Get "/v1/customers/{customer}/balance_transactions/{transaction}", NONE,
        |ctx, ids, _| balance::retrieve(ctx, ids[0], ids[1])),
    op!(Post "/v1/customers/{customer}/balance_transactions/{transaction}",
        &["description", "metadata"],
        |ctx, ids, params| balance::update(ctx, ids[0], ids[1], params)),
    op!(Post "/v1/products", catalogue::PRODUCT_CREATE,
        |ctx, _, params| catalogue::create_product(ctx, params)),
    op!(Get "/v1/products", &["limit", "starting_after", "ending_before", "created", "active", "ids"],
        |ctx, _, params| catalogue::list_products(ctx, params)),
    op!(Get "/v1/products/search", SEARCH, |ctx, _, params| catalogue::search_products(ctx, params)),
    op!(Get "/v1/products/{id}", NONE, |ctx, ids, _| catalogue::retrieve_product(ctx, ids[0])),
    op!(Post "/v1/products/{id}", catalogue::PRODUCT_UPDATE,
        |ctx, ids, params| catalogue::update_product(ctx, ids[0], params)),
    op!(Delete "/v1/products/{id}", NONE, |ctx, ids, _| catalogue::delete_product(ctx, ids[0])),
    op!(Post "/v1/prices", catalogue::PRICE_CREATE, |ctx, _, params| catalogue::create_price(ctx, params)),
    op!(Get "/v1/prices", catalogue::PRICE_LIST, |ctx, _, params| catalogue::list_prices(ctx, params)),
    op!(Get "/v1/prices/search", SEARCH, |ctx, _, params| catalogue::search_prices(ctx, params)),
    op!(Get "/v1/prices/{price}", NONE, |ctx, ids, _| catalogue::retrieve_price(ctx, ids[0])),
    op!(Post "/v1/prices/{price}", &["lookup_key", "transfer_lookup_key", "nickname", "metadata", "active"],
        |ctx, ids, params| catalogue::update_price(ctx, ids[0], params)),
    op!(Post "/v1/invoiceitems", invoiceitems::CREATE, |ctx, _, params| invoiceitems::create(ctx, params)),
    op!(Get "/v1/invoiceitems",
        &["limit", "starting_after", "ending_before", "created", "customer", "invoice", "pending"],
        |ctx, _, params| invoiceitems::list(ctx, params)),
    op!(Get "/v1/invoiceitems/{invoiceitem}", NONE, |ctx, ids, _| invoiceitems::retrieve(ctx, ids[0])),
    op!(Post "/v1/invoiceitems/{invoiceitem}",
        &["description", "quantity", "amount", "metadata", "period", "discountable"],
        |ctx, ids, params| invoiceitems::update(ctx, ids[0], params)),
    op!(Delete "/v1/invoiceitems/{invoiceitem}", NONE, |ctx, ids, _| invoiceitems::delete(ctx, ids[0])),
    op!(Post "/v1/invoices", invoices::CREATE, |ctx, _, params| invoices::create(ctx, params)),
    op!(Get "/v1/invoices",
        &["limit", "starting_after", "ending_before", "created", "customer", "status",
          "collection_method", "due_date"],
        |ctx, _, params| invoices::list(ctx, params)),
    op!(Get "/v1/invoices/search", SEARCH, |ctx, _, params| invoices::search(ctx, params)),
    op!(Post "/v1/invoices/create_preview", invoices::PREVIEW,
        |ctx, _, params| invoices::create_preview(ctx, params)),
    op!(Get "/v1/invoices/{invoice}", NONE, |ctx, ids, _| invoices::retrieve(ctx, ids[0])),
    op!(Post "/v1/invoices/{invoice}", invoices::UPDATE,
        |ctx, ids, params| invoices::update(ctx, ids[0], params)),
    op!(Delete "/v1/invoices/{invoice}", NONE, |ctx, ids, _| invoices::delete(ctx, ids[0])),
    op!(Get "/v1/invoices/{invoice}/lines", &["limit", "starting_after", "ending_before"],
        |ctx, ids, params| invoices::lines(ctx, ids[0], params)),
    op!(Post "/v1/invoices/{invoice}/add_lines", invoices::ADD_LINES,
        |ctx, ids, params| invoices::add_lines(ctx, ids[0], params)),
    op!(Post "/v1/invoices/{invoice}/finalize", &["auto_advance"],
        |ctx, ids, params| invoices::finalize(ctx, ids[0], params)),
    op!(Post "/v1/invoices/{invoice}/send", NONE, |ctx, ids, _| invoices::send(ctx, ids[0])),
    op!(Post "/v1/invoices/{invoice}/pay", &["paid_out_of_band", "payment_method"],
        |ctx, ids, params| invoices::pay(ctx, ids[0], params)),
    op!(Post "/v1/invoices/{invoice}/void", NONE, |ctx, ids, _| invoices::void(ctx, ids[0])),
    op!(Post "/v1/invoices/{invoice}/mark_uncollectible", NONE,
        |ctx, ids, _| invoices::mark_uncollectible(ctx, ids[0])),
    op!(Get "/v1/events", &["limit", "starting_after", "ending_before", "created", "type", "types"],
        |ctx, _, params| events::list(ctx, params)),
    op!(Get "/v1/events/{id}", NONE, |ctx, ids, _| events::retrieve(ctx, ids[0])),
];

/// Check a request against the published schema of the operation it names, as Stripe
/// would (unknown, missing and mistyped parameters), whether or not the mock models
/// every parameter: for checking what a client sends.
///
/// # Errors
/// Stripe's error message for the first problem, or for a path the mock does not serve.
pub fn check_parameters(
    method: Method,
    path: &str,
    params: &[(String, String)],
) -> Result<(), String> {
    let form = Form::decode(params).map_err(|error| error.message)?;
    let (operation, _) = find(method, path)
        .ok_or_else(|| format!("{method} {path} is not an operation the mock serves"))?;
    let shape = params::operation_shape(method.as_str(), operation.template)
        .ok_or_else(|| format!("{operation:?} has no published schema"))?;
    params::check(shape, &form, None, &format!("{operation:?}")).map_err(|error| {
        format!(
            "{operation:?}: {} ({})",
            error.message,
            error.param.unwrap_or_default()
        )
    })
}

/// Every operation the mock serves, in the order of its routing table.
pub fn operations() -> &'static [Operation] {
    OPERATIONS
}

/// The operation `method` `path` names, with its path segments: a literal segment
/// beats a `{…}` one.
pub(crate) fn find(method: Method, path: &str) -> Option<(&'static Operation, Vec<&str>)> {
    let rest = path.strip_prefix('/')?;
    let segments: Vec<&str> = rest.split('/').collect();
    OPERATIONS
        .iter()
        .filter(|operation| operation.method == method)
        .filter_map(|operation| operation.matches(&segments).map(|ids| (operation, ids)))
        .min_by_key(|(_, ids)| ids.len())
}

/// A request matched to its operation, its parameters checked.
pub(crate) struct Routed<'p> {
    operation: &'static Operation,
    ids: Vec<&'p str>,
}

impl Routed<'_> {
    /// Run the operation's handler on the account in `ctx`.
    ///
    /// # Errors
    /// Any Stripe-shaped error the request deserves.
    pub(crate) fn run(&self, ctx: &mut Ctx<'_>, form: &Form) -> Result<Answer, ApiError> {
        let paths = form.obj().text_list("expand")?;
        if paths.is_empty() {
            return (self.operation.handler)(ctx, &self.ids, form.obj());
        }
        // A path that cannot be expanded is known only once the answer exists; the
        // request must then change nothing, so its changes are undone.
        let before = (ctx.acct.clone(), ctx.random.clone());
        let mut body = (self.operation.handler)(ctx, &self.ids, form.obj())?;
        match expand::expand(ctx.acct, ctx.settings, Arc::make_mut(&mut body), &paths) {
            Ok(()) => Ok(body),
            Err(error) => {
                (*ctx.acct, *ctx.random) = before;
                ctx.events.clear();
                Err(error)
            }
        }
    }
}

/// Match a request to its operation and check its parameters against the operation's
/// published schema and the parameters it models. Nothing has run yet, so a failure
/// here is not saved under an idempotency key (Stripe saves only answers of requests
/// whose execution began).
///
/// # Errors
/// 404 for an unknown URL; 400 for unknown, missing, invalid or unmodelled parameters.
pub(crate) fn route<'p>(
    method: Method,
    path: &'p str,
    form: &Form,
) -> Result<Routed<'p>, ApiError> {
    let (operation, ids) =
        find(method, path).ok_or_else(|| ApiError::unknown_route(method.as_str(), path))?;
    if let Some(shape) = params::operation_shape(method.as_str(), operation.template) {
        params::check(
            shape,
            form,
            Some(operation.modelled),
            &format!("{operation:?}"),
        )?;
    }
    Ok(Routed { operation, ids })
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
                .ok_or_else(|| ApiError::no_such(object_name, cursor, param)),
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
/// Whether the request's `expand[]` names `path`.
pub(crate) fn expands(params: Obj<'_>, path: &str) -> bool {
    params
        .text_list("expand")
        .is_ok_and(|paths| paths.iter().any(|expanded| expanded == path))
}

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

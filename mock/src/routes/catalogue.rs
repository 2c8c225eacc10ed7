//! `/v1/products` and `/v1/prices`: the catalogue (one-time prices with lookup keys).

use serde_json::{Value, json};

use super::{Answer, Ctx, apply_metadata, metadata_change, new_metadata, paginate};
use crate::error::ApiError;
use crate::form::Obj;
use crate::objects::{Price, Product};
use crate::search::{Field, PRICES, PRODUCTS, Query, page};

/// The parameters product creation models.
pub(crate) const PRODUCT_CREATE: &[&str] = &[
    "id",
    "name",
    "description",
    "metadata",
    "active",
    "unit_label",
    "url",
    "statement_descriptor",
    "tax_code",
    "default_price_data[currency]",
    "default_price_data[unit_amount]",
    "default_price_data[unit_amount_decimal]",
];

/// The parameters a product update models.
pub(crate) const PRODUCT_UPDATE: &[&str] = &[
    "name",
    "description",
    "metadata",
    "active",
    "unit_label",
    "url",
    "statement_descriptor",
    "tax_code",
    "default_price",
];

/// The parameters price creation models.
pub(crate) const PRICE_CREATE: &[&str] = &[
    "currency",
    "unit_amount",
    "unit_amount_decimal",
    "product",
    "product_data[name]",
    "product_data[metadata]",
    "product_data[tax_code]",
    "product_data[unit_label]",
    "lookup_key",
    "transfer_lookup_key",
    "nickname",
    "metadata",
    "active",
];

/// The filters the price list models.
pub(crate) const PRICE_LIST: &[&str] = &[
    "limit",
    "starting_after",
    "ending_before",
    "created",
    "active",
    "currency",
    "product",
    "lookup_keys",
    "type",
];

pub(crate) fn create_product(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Answer, ApiError> {
    let name = params.required_text("name")?.to_owned();
    let id = match params.text("id")? {
        Some(id) if !id.is_empty() => {
            if ctx.acct.products.get(id).is_some() {
                return Err(ApiError::invalid(
                    Some("resource_already_exists"),
                    format!("Product already exists with id {id}"),
                    Some("id".into()),
                ));
            }
            id.to_owned()
        }
        _ => ctx.random.id("prod"),
    };
    let mut product = Product {
        id: id.clone(),
        created: ctx.now,
        updated: ctx.now,
        name,
        description: params.nullable_text("description")?.flatten(),
        metadata: new_metadata(params)?,
        active: params.boolean("active")?.unwrap_or(true),
        default_price: None,
        unit_label: params.nullable_text("unit_label")?.flatten(),
        url: params.nullable_text("url")?.flatten(),
        statement_descriptor: params.nullable_text("statement_descriptor")?.flatten(),
        tax_code: params.nullable_text("tax_code")?.flatten(),
    };
    if let Some(data) = params.object("default_price_data")? {
        let data = data.view();
        let price = Price {
            id: ctx.random.id("price"),
            created: ctx.now,
            product: id.clone(),
            currency: super::currency(data.required_text("currency")?, &data.path_of("currency"))?,
            unit_amount: unit_amount(data)?,
            lookup_key: None,
            nickname: None,
            metadata: Default::default(),
            active: true,
            inline: false,
        };
        product.default_price = Some(price.id.clone());
        ctx.acct.prices.insert(price.id.clone(), price);
    }
    let json = Answer::new(product.to_json());
    ctx.acct.products.insert(id, product);
    ctx.emit("product.created", Answer::clone(&json), None);
    Ok(json)
}

/// `unit_amount` (or `unit_amount_decimal` without a fraction) of a price, within
/// limits: never negative (a price is "a positive integer … or 0 for a free price").
///
/// # Errors
/// 400 `parameter_missing` when neither is sent, or an invalid value.
pub(crate) fn unit_amount(data: Obj<'_>) -> Result<i64, ApiError> {
    let amount = signed_unit_amount(data)?;
    if amount < 0 {
        let param = if data.has("unit_amount") {
            "unit_amount"
        } else {
            "unit_amount_decimal"
        };
        return Err(ApiError::invalid(
            None,
            "Invalid non-negative integer",
            Some(data.path_of(param)),
        ));
    }
    Ok(amount)
}

/// `unit_amount` or `unit_amount_decimal` as sent, which may be negative where Stripe
/// allows it (an invoice item's own `unit_amount_decimal` reduces the amount due).
///
/// # Errors
/// 400 `parameter_missing` when neither is sent; a fractional decimal.
pub(crate) fn signed_unit_amount(data: Obj<'_>) -> Result<i64, ApiError> {
    let amount = match data.integer("unit_amount")? {
        Some(amount) => amount,
        None => match data.text("unit_amount_decimal")? {
            Some(decimal) => decimal.parse::<i64>().map_err(|_| {
                ApiError::invalid(
                    None,
                    "Fractional unit_amount_decimal is not supported by the mock",
                    Some(data.path_of("unit_amount_decimal")),
                )
            })?,
            None => return Err(ApiError::missing(&data.path_of("unit_amount"))),
        },
    };
    super::amount_within_limits(amount, &data.path_of("unit_amount"))
}

fn product_mut<'a>(
    ctx: &'a mut Ctx<'_>,
    id: &str,
    param: &str,
) -> Result<&'a mut Product, ApiError> {
    ctx.acct
        .products
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("product", id, Some(param)))
}

pub(crate) fn retrieve_product(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    Ok(product_mut(ctx, id, "id")?.to_json())
}

pub(crate) fn update_product(
    ctx: &mut Ctx<'_>,
    id: &str,
    params: Obj<'_>,
) -> Result<Answer, ApiError> {
    let change = metadata_change(params)?;
    if let Some(Some(price)) = params.nullable_text("default_price")?
        && ctx.acct.prices.get(&price).is_none()
    {
        return Err(ApiError::no_such("price", &price, "default_price"));
    }
    let now = ctx.now;
    let product = product_mut(ctx, id, "id")?;
    let before = product.to_json();
    let mut updated = product.clone();
    if let Some(name) = params.text("name")? {
        if name.is_empty() {
            return Err(ApiError::missing("name"));
        }
        updated.name = name.to_owned();
    }
    if let Some(description) = params.nullable_text("description")? {
        updated.description = description;
    }
    if let Some(active) = params.boolean("active")? {
        updated.active = active;
    }
    if let Some(label) = params.nullable_text("unit_label")? {
        updated.unit_label = label;
    }
    if let Some(url) = params.nullable_text("url")? {
        updated.url = url;
    }
    if let Some(descriptor) = params.nullable_text("statement_descriptor")? {
        updated.statement_descriptor = descriptor;
    }
    if let Some(code) = params.nullable_text("tax_code")? {
        updated.tax_code = code;
    }
    if let Some(price) = params.nullable_text("default_price")? {
        updated.default_price = price;
    }
    apply_metadata(&mut updated.metadata, change)?;
    updated.updated = now;
    *product = updated;
    let after = Answer::new(product.to_json());
    if let Some(previous) = crate::objects::previous_attributes(&before, &after) {
        ctx.emit("product.updated", Answer::clone(&after), Some(previous));
    }
    Ok(after)
}

pub(crate) fn delete_product(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    product_mut(ctx, id, "id")?;
    if ctx
        .acct
        .prices
        .iter()
        .any(|price| price.product == id && !price.inline)
    {
        return Err(ApiError::invalid(
            None,
            "This product cannot be deleted because it has one or more user-created prices.",
            None,
        ));
    }
    let product = ctx
        .acct
        .products
        .remove(id)
        .ok_or_else(|| ApiError::not_found("product", id, Some("id")))?;
    ctx.emit("product.deleted", product.to_json(), None);
    Ok(json!({"id": id, "object": "product", "deleted": true}))
}

pub(crate) fn list_products(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let active = params.boolean("active")?;
    let created = super::RangeFilter::read(params, "created")?;
    let ids = params.text_list("ids")?;
    let items: Vec<&Product> = ctx
        .acct
        .products
        .newest_first()
        .filter(|product| active.is_none_or(|active| product.active == active))
        .filter(|product| created.matches(product.created))
        .filter(|product| ids.is_empty() || ids.contains(&product.id))
        .collect();
    paginate(
        items,
        |product| &product.id,
        Product::to_json,
        params,
        "product",
        "/v1/products",
    )
}

pub(crate) fn search_products(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let query = Query::parse(params.required_text("query")?, &PRODUCTS)?;
    let matches: Vec<&Product> = ctx
        .acct
        .products
        .newest_first()
        .filter(|product| {
            query.matches(|field| match field {
                Field::Metadata(key) => product.metadata.get(key).map(str::to_owned),
                Field::Plain(name) => match *name {
                    "active" => Some(product.active.to_string()),
                    "description" => product.description.clone(),
                    "name" => Some(product.name.clone()),
                    "shippable" => None,
                    "url" => product.url.clone(),
                    _ => None,
                },
            })
        })
        .collect();
    page(
        ctx,
        matches,
        |product| &product.id,
        Product::to_json,
        params,
        "/v1/products/search",
    )
}

/// Free `lookup_key` for a new price: an error if taken, unless the caller asked to
/// transfer it (then the old price loses it).
fn claim_lookup_key(ctx: &mut Ctx<'_>, key: &str, transfer: bool) -> Result<(), ApiError> {
    let holder = ctx
        .acct
        .prices
        .iter()
        .find(|price| price.lookup_key.as_deref() == Some(key))
        .map(|price| price.id.clone());
    if let Some(holder) = holder {
        if !transfer {
            return Err(ApiError::invalid(
                None,
                format!(
                    "A price ({holder}) already uses that lookup key. Set transfer_lookup_key=true to move it."
                ),
                Some("lookup_key".into()),
            ));
        }
        if let Some(price) = ctx.acct.prices.get_mut(&holder) {
            price.lookup_key = None;
        }
    }
    Ok(())
}

/// The product a price belongs to: `product` (must exist) or a new one from
/// `product_data{name}`.
///
/// # Errors
/// 404 for an unknown product; 400 when neither is given.
pub(crate) fn product_for_price(ctx: &mut Ctx<'_>, data: Obj<'_>) -> Result<String, ApiError> {
    if let Some(product) = data.text("product")? {
        if ctx.acct.products.get(product).is_none() {
            return Err(ApiError::no_such(
                "product",
                product,
                &data.path_of("product"),
            ));
        }
        return Ok(product.to_owned());
    }
    if let Some(product_data) = data.object("product_data")? {
        let product_data = product_data.view();
        let product = Product {
            id: ctx.random.id("prod"),
            created: ctx.now,
            updated: ctx.now,
            name: product_data.required_text("name")?.to_owned(),
            description: product_data.nullable_text("description")?.flatten(),
            metadata: new_metadata(product_data)?,
            active: true,
            default_price: None,
            unit_label: product_data.nullable_text("unit_label")?.flatten(),
            url: None,
            statement_descriptor: None,
            tax_code: product_data.nullable_text("tax_code")?.flatten(),
        };
        let id = product.id.clone();
        let json = product.to_json();
        ctx.acct.products.insert(id.clone(), product);
        ctx.emit("product.created", json, None);
        return Ok(id);
    }
    Err(ApiError::missing(&data.path_of("product")))
}

pub(crate) fn create_price(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Answer, ApiError> {
    let currency = super::currency(params.required_text("currency")?, "currency")?;
    let amount = unit_amount(params)?;
    let metadata = new_metadata(params)?;
    let lookup_key = params.nullable_text("lookup_key")?.flatten();
    if let Some(key) = &lookup_key {
        claim_lookup_key(
            ctx,
            key,
            params.boolean("transfer_lookup_key")?.unwrap_or(false),
        )?;
    }
    let product = product_for_price(ctx, params)?;
    let price = Price {
        id: ctx.random.id("price"),
        created: ctx.now,
        product,
        currency,
        unit_amount: amount,
        lookup_key,
        nickname: params.nullable_text("nickname")?.flatten(),
        metadata,
        active: params.boolean("active")?.unwrap_or(true),
        inline: false,
    };
    let json = Answer::new(price.to_json());
    ctx.acct.prices.insert(price.id.clone(), price);
    ctx.emit("price.created", Answer::clone(&json), None);
    Ok(json)
}

pub(crate) fn retrieve_price(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    ctx.acct
        .prices
        .get(id)
        .map(Price::to_json)
        .ok_or_else(|| ApiError::not_found("price", id, Some("id")))
}

pub(crate) fn update_price(
    ctx: &mut Ctx<'_>,
    id: &str,
    params: Obj<'_>,
) -> Result<Answer, ApiError> {
    if ctx.acct.prices.get(id).is_none() {
        return Err(ApiError::not_found("price", id, Some("id")));
    }
    let change = metadata_change(params)?;
    let lookup_key = params.nullable_text("lookup_key")?;
    if let Some(Some(key)) = &lookup_key {
        let held_by_other = ctx
            .acct
            .prices
            .iter()
            .any(|price| price.id != id && price.lookup_key.as_deref() == Some(key.as_str()));
        if held_by_other {
            claim_lookup_key(
                ctx,
                key,
                params.boolean("transfer_lookup_key")?.unwrap_or(false),
            )?;
        }
    }
    let nickname = params.nullable_text("nickname")?;
    let active = params.boolean("active")?;
    let price = ctx
        .acct
        .prices
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found("price", id, Some("id")))?;
    let before = price.to_json();
    let mut updated = price.clone();
    if let Some(key) = lookup_key {
        updated.lookup_key = key;
    }
    if let Some(nickname) = nickname {
        updated.nickname = nickname;
    }
    if let Some(active) = active {
        updated.active = active;
    }
    apply_metadata(&mut updated.metadata, change)?;
    *price = updated;
    let after = Answer::new(price.to_json());
    if let Some(previous) = crate::objects::previous_attributes(&before, &after) {
        ctx.emit("price.updated", Answer::clone(&after), Some(previous));
    }
    Ok(after)
}

pub(crate) fn list_prices(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let active = params.boolean("active")?;
    let currency = params.text("currency")?;
    let product = params.text("product")?;
    let lookup_keys = params.text_list("lookup_keys")?;
    let kind = params.text("type")?;
    let created = super::RangeFilter::read(params, "created")?;
    let items: Vec<&Price> = ctx
        .acct
        .prices
        .newest_first()
        .filter(|price| !price.inline)
        .filter(|price| active.is_none_or(|active| price.active == active))
        .filter(|price| currency.is_none_or(|currency| price.currency == currency))
        .filter(|price| product.is_none_or(|product| price.product == product))
        .filter(|price| {
            lookup_keys.is_empty()
                || price
                    .lookup_key
                    .as_ref()
                    .is_some_and(|key| lookup_keys.contains(key))
        })
        .filter(|_| kind.is_none_or(|kind| kind == "one_time"))
        .filter(|price| created.matches(price.created))
        .collect();
    paginate(
        items,
        |price| &price.id,
        Price::to_json,
        params,
        "price",
        "/v1/prices",
    )
}

pub(crate) fn search_prices(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let query = Query::parse(params.required_text("query")?, &PRICES)?;
    let matches: Vec<&Price> = ctx
        .acct
        .prices
        .newest_first()
        .filter(|price| !price.inline)
        .filter(|price| {
            query.matches(|field| match field {
                Field::Metadata(key) => price.metadata.get(key).map(str::to_owned),
                Field::Plain(name) => match *name {
                    "active" => Some(price.active.to_string()),
                    "currency" => Some(price.currency.clone()),
                    "lookup_key" => price.lookup_key.clone(),
                    "product" => Some(price.product.clone()),
                    "type" => Some("one_time".to_owned()),
                    _ => None,
                },
            })
        })
        .collect();
    page(
        ctx,
        matches,
        |price| &price.id,
        Price::to_json,
        params,
        "/v1/prices/search",
    )
}

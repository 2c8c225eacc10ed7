//! `/v1/customers`: create, retrieve, update (metadata merged key by key), delete,
//! list and search.

use serde_json::Value;

use super::{Answer, Ctx, apply_metadata, metadata_change, new_metadata, paginate};
use crate::error::ApiError;
use crate::form::Obj;
use crate::objects::{Address, Customer, previous_attributes};
use crate::search::{CUSTOMERS, Field, Query, page};

/// The parameters an update models (the routing table checks them).
pub(crate) const UPDATE: &[&str] = &[
    "name",
    "email",
    "phone",
    "description",
    "address",
    "metadata",
    "preferred_locales",
    "invoice_settings[default_payment_method]",
    "invoice_settings[footer]",
    "balance",
    "invoice_prefix",
    "next_invoice_sequence",
];

/// The parameters creation models: an update's, and the first payment method.
pub(crate) const CREATE: &[&str] = &[
    "name",
    "email",
    "phone",
    "description",
    "address",
    "metadata",
    "preferred_locales",
    "invoice_settings[default_payment_method]",
    "invoice_settings[footer]",
    "balance",
    "invoice_prefix",
    "next_invoice_sequence",
    "payment_method",
];

/// A customer named in the request's parameters (`param`) that exists and is not
/// deleted.
///
/// # Errors
/// 400 `resource_missing`.
pub(crate) fn referenced<'a>(
    ctx: &'a mut Ctx<'_>,
    id: &str,
    param: &str,
) -> Result<&'a mut Customer, ApiError> {
    match ctx.acct.customers.get_mut(id) {
        Some(customer) if !customer.deleted => Ok(customer),
        _ => Err(ApiError::no_such("customer", id, param)),
    }
}

/// A customer named in the URL that exists and is not deleted.
///
/// # Errors
/// 404 `resource_missing`.
pub(crate) fn live<'a>(
    ctx: &'a mut Ctx<'_>,
    id: &str,
    param: Option<&str>,
) -> Result<&'a mut Customer, ApiError> {
    match ctx.acct.customers.get_mut(id) {
        Some(customer) if !customer.deleted => Ok(customer),
        _ => Err(ApiError::not_found("customer", id, param)),
    }
}

fn read_address(params: Obj<'_>) -> Result<Option<Option<Address>>, ApiError> {
    if params.text("address").ok().flatten() == Some("") {
        return Ok(Some(None));
    }
    let Some(address) = params.object("address")? else {
        return Ok(None);
    };
    let address = address.view();
    let part = |name: &str| -> Result<Option<String>, ApiError> {
        Ok(address.nullable_text(name)?.flatten())
    };
    Ok(Some(Some(Address {
        line1: part("line1")?,
        line2: part("line2")?,
        city: part("city")?,
        state: part("state")?,
        postal_code: part("postal_code")?,
        country: part("country")?,
    })))
}

fn limited(
    value: Option<Option<String>>,
    limit: usize,
    param: &str,
) -> Result<Option<Option<String>>, ApiError> {
    if let Some(Some(text)) = &value
        && text.chars().count() > limit
    {
        return Err(ApiError::invalid(
            None,
            format!("Invalid {param}: must be at most {limit} characters"),
            Some(param.to_owned()),
        ));
    }
    Ok(value)
}

/// Apply every writable field present in `params`.
fn write_fields(customer: &mut Customer, params: Obj<'_>) -> Result<(), ApiError> {
    if let Some(name) = limited(params.nullable_text("name")?, 256, "name")? {
        customer.name = name;
    }
    if let Some(email) = limited(params.nullable_text("email")?, 512, "email")? {
        if let Some(text) = &email
            && !text.contains('@')
        {
            return Err(ApiError::invalid(
                Some("email_invalid"),
                "Invalid email address",
                Some("email".into()),
            ));
        }
        customer.email = email;
    }
    if let Some(phone) = limited(params.nullable_text("phone")?, 20, "phone")? {
        customer.phone = phone;
    }
    if let Some(description) = params.nullable_text("description")? {
        customer.description = description;
    }
    if let Some(address) = read_address(params)? {
        customer.address = address;
    }
    if params.has("preferred_locales") {
        customer.preferred_locales = params.text_list("preferred_locales")?;
    }
    if let Some(settings) = params.object("invoice_settings")? {
        let settings = settings.view();
        if let Some(method) = settings.nullable_text("default_payment_method")? {
            customer.default_payment_method = method;
        }
        if let Some(footer) = settings.nullable_text("footer")? {
            customer.invoice_footer = footer;
        }
    }
    if let Some(method) = params.nullable_text("payment_method")?
        && customer.default_payment_method.is_none()
    {
        customer.default_payment_method = method;
    }
    if let Some(balance) = params.integer("balance")? {
        customer.balance = super::amount_within_limits(balance, "balance")?;
    }
    if let Some(prefix) = params.text("invoice_prefix")? {
        if !(3..=12).contains(&prefix.len()) || !prefix.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ApiError::invalid(
                None,
                "Invalid invoice_prefix: 3 to 12 uppercase letters or digits",
                Some("invoice_prefix".into()),
            ));
        }
        customer.invoice_prefix = prefix.to_ascii_uppercase();
    }
    if let Some(sequence) = params.integer("next_invoice_sequence")? {
        customer.next_invoice_sequence = u64::try_from(sequence.max(1)).unwrap_or(1);
    }
    apply_metadata(&mut customer.metadata, metadata_change(params)?)
}

pub(crate) fn create(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Answer, ApiError> {
    let mut customer = Customer {
        id: ctx.random.id("cus"),
        created: ctx.now,
        name: None,
        email: None,
        phone: None,
        description: None,
        address: None,
        metadata: new_metadata(params)?,
        preferred_locales: Vec::new(),
        default_payment_method: None,
        invoice_footer: None,
        balance: 0,
        currency: None,
        invoice_prefix: ctx.random.invoice_prefix(),
        next_invoice_sequence: 1,
        deleted: false,
    };
    write_fields(&mut customer, params)?;
    let json = Answer::new(customer.to_json());
    ctx.acct.customers.insert(customer.id.clone(), customer);
    ctx.emit("customer.created", Answer::clone(&json), None);
    Ok(json)
}

pub(crate) fn retrieve(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    // Stripe still answers a deleted customer, as `{id, object, deleted: true}`.
    ctx.acct
        .customers
        .get(id)
        .map(Customer::to_json)
        .ok_or_else(|| ApiError::not_found("customer", id, Some("id")))
}

pub(crate) fn update(ctx: &mut Ctx<'_>, id: &str, params: Obj<'_>) -> Result<Answer, ApiError> {
    let customer = live(ctx, id, Some("id"))?;
    let before = customer.to_json();
    let mut updated = customer.clone();
    write_fields(&mut updated, params)?;
    *customer = updated;
    let after = Answer::new(customer.to_json());
    if let Some(previous) = previous_attributes(&before, &after) {
        ctx.emit("customer.updated", Answer::clone(&after), Some(previous));
    }
    Ok(after)
}

pub(crate) fn delete(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    let customer = live(ctx, id, Some("id"))?;
    let snapshot = customer.to_json();
    customer.deleted = true;
    let answer = customer.to_json();
    ctx.emit("customer.deleted", snapshot, None);
    Ok(answer)
}

pub(crate) fn list(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let created = super::RangeFilter::read(params, "created")?;
    let email = params.text("email")?;
    let items: Vec<&Customer> = ctx
        .acct
        .customers
        .newest_first()
        .filter(|customer| !customer.deleted)
        .filter(|customer| created.matches(customer.created))
        .filter(|customer| email.is_none_or(|email| customer.email.as_deref() == Some(email)))
        .collect();
    paginate(
        items,
        |customer| &customer.id,
        Customer::to_json,
        params,
        "customer",
        "/v1/customers",
    )
}

pub(crate) fn search(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let query = Query::parse(params.required_text("query")?, &CUSTOMERS)?;
    let matches: Vec<&Customer> = ctx
        .acct
        .customers
        .newest_first()
        .filter(|customer| !customer.deleted)
        .filter(|customer| {
            query.matches(|field| match field {
                Field::Metadata(key) => customer.metadata.get(key).map(str::to_owned),
                Field::Plain(name) => match *name {
                    "email" => customer.email.clone(),
                    "name" => customer.name.clone(),
                    "phone" => customer.phone.clone(),
                    "created" => Some(customer.created.to_string()),
                    _ => None,
                },
            })
        })
        .collect();
    page(
        ctx,
        matches,
        |customer| &customer.id,
        Customer::to_json,
        params,
        "/v1/customers/search",
    )
}

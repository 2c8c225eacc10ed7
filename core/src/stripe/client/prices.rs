//! `/v1/prices`: one-off unit prices of products, found again by `lookup_key`.

use std::fmt;

use super::{MetadataParams, RequestContext, StripeClient, check_limit, encode_metadata, path_id};
use crate::redact::{metadata_pairs, redacted};
use crate::stripe::error::StripeError;
use crate::stripe::form::Form;
use crate::stripe::models::Price;
use crate::stripe::pagination::Pager;
use crate::stripe::transport::Method;

pub use super::invoices::ProductRef;

/// Parameters of `POST /v1/prices` (one-off prices; billbridge does not sell subscriptions).
///
/// `Debug` shows the currency, amount, product, lookup key and metadata keys; the
/// nickname and metadata values show only whether they are set.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatePrice {
    /// Lowercase ISO currency.
    pub currency: String,
    /// Minor units per unit.
    pub unit_amount: i64,
    /// The product: existing id or `product_data[name]`.
    pub product: ProductRef,
    /// A stable key to find the price again (`lookup_keys[]` when listing).
    pub lookup_key: Option<String>,
    /// Move the lookup key from the price that currently holds it.
    pub transfer_lookup_key: Option<bool>,
    /// Internal nickname.
    pub nickname: Option<String>,
    /// Metadata, in order.
    pub metadata: MetadataParams,
}

impl fmt::Debug for CreatePrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CreatePrice {
            currency,
            unit_amount,
            product,
            lookup_key,
            transfer_lookup_key,
            nickname,
            metadata,
        } = self;
        f.debug_struct("CreatePrice")
            .field("currency", currency)
            .field("unit_amount", unit_amount)
            .field("product", product)
            .field("lookup_key", lookup_key)
            .field("transfer_lookup_key", transfer_lookup_key)
            .field("nickname", &redacted(nickname))
            .field("metadata", &metadata_pairs(metadata))
            .finish()
    }
}

impl CreatePrice {
    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let mut form = Form::new()
            .field("currency", &self.currency)
            .field("unit_amount", self.unit_amount);
        form = match &self.product {
            ProductRef::Id(id) => form.field("product", id),
            ProductRef::Data { name } => form.map("product_data", [("name", name)]),
        };
        form = form
            .opt_field("lookup_key", self.lookup_key.as_ref())
            .opt_field("transfer_lookup_key", self.transfer_lookup_key)
            .opt_field("nickname", self.nickname.as_ref());
        encode_metadata(form, &self.metadata)
    }
}

/// Filters of `GET /v1/prices`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPrices {
    /// Only prices with one of these lookup keys (`lookup_keys[i]`, up to 10).
    pub lookup_keys: Vec<String>,
    /// Only this product's prices.
    pub product: Option<String>,
    /// Only active (or inactive) prices.
    pub active: Option<bool>,
    /// Page size, 1–100.
    pub limit: Option<u32>,
}

impl ListPrices {
    /// The query parameters.
    pub fn to_form(&self) -> Form {
        Form::new()
            .list("lookup_keys", self.lookup_keys.iter())
            .opt_field("product", self.product.as_ref())
            .opt_field("active", self.active)
            .opt_field("limit", self.limit)
    }
}

/// Price endpoints; from [`StripeClient::prices`].
#[derive(Debug, Clone, Copy)]
pub struct Prices<'a> {
    pub(super) client: &'a StripeClient,
}

impl Prices<'_> {
    /// `POST /v1/prices`.
    ///
    /// # Errors
    /// Any error of [`StripeClient::send`].
    pub async fn create(
        &self,
        params: &CreatePrice,
        context: &RequestContext,
    ) -> Result<Price, StripeError> {
        self.client
            .send(
                Method::Post,
                "/v1/prices",
                params.to_form().encode(),
                context,
            )
            .await
    }

    /// `GET /v1/prices/{id}`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn retrieve(&self, id: &str, context: &RequestContext) -> Result<Price, StripeError> {
        let path = format!("/v1/prices/{}", path_id("price", id)?);
        self.client
            .send(Method::Get, &path, Vec::new(), context)
            .await
    }

    /// `GET /v1/prices` with filters (e.g. by lookup key), as a pager.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a limit outside 1–100.
    pub fn list(
        &self,
        params: &ListPrices,
        context: &RequestContext,
    ) -> Result<Pager<Price>, StripeError> {
        check_limit(params.limit)?;
        Ok(Pager::list(
            self.client,
            "/v1/prices",
            params.to_form().encode(),
            context,
        ))
    }
}

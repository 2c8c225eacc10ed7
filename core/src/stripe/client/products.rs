//! `/v1/products`: catalogue entries that prices belong to.

use std::fmt;

use super::{MetadataParams, RequestContext, StripeClient, encode_metadata, path_id};
use crate::redact::{metadata_pairs, redacted};
use crate::stripe::error::StripeError;
use crate::stripe::form::Form;
use crate::stripe::models::Product;
use crate::stripe::transport::Method;

/// Parameters of `POST /v1/products`.
///
/// `Debug` shows the name, id, state and metadata keys (a catalogue entry names a
/// service, not a person); the description and metadata values show only whether they
/// are set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CreateProduct {
    /// Name shown to the payer on invoices.
    pub name: String,
    /// Optional longer description.
    pub description: Option<String>,
    /// Whether it can be sold (Stripe's default true).
    pub active: Option<bool>,
    /// Our own id for it (`id`), so a retried creation cannot duplicate it.
    pub id: Option<String>,
    /// Metadata, in order.
    pub metadata: MetadataParams,
}

impl fmt::Debug for CreateProduct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CreateProduct {
            name,
            description,
            active,
            id,
            metadata,
        } = self;
        f.debug_struct("CreateProduct")
            .field("name", name)
            .field("description", &redacted(description))
            .field("active", active)
            .field("id", id)
            .field("metadata", &metadata_pairs(metadata))
            .finish()
    }
}

impl CreateProduct {
    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let form = Form::new()
            .opt_field("id", self.id.as_ref())
            .field("name", &self.name)
            .opt_field("description", self.description.as_ref())
            .opt_field("active", self.active);
        encode_metadata(form, &self.metadata)
    }
}

/// Product endpoints; from [`StripeClient::products`].
#[derive(Debug, Clone, Copy)]
pub struct Products<'a> {
    pub(super) client: &'a StripeClient,
}

impl Products<'_> {
    /// `POST /v1/products`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed explicit id, then any error of
    /// [`StripeClient::send`].
    pub async fn create(
        &self,
        params: &CreateProduct,
        context: &RequestContext,
    ) -> Result<Product, StripeError> {
        if let Some(id) = &params.id {
            path_id("product", id)?;
        }
        self.client
            .send(
                Method::Post,
                "/v1/products",
                params.to_form().encode(),
                context,
            )
            .await
    }

    /// `GET /v1/products/{id}`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn retrieve(
        &self,
        id: &str,
        context: &RequestContext,
    ) -> Result<Product, StripeError> {
        let path = format!("/v1/products/{}", path_id("product", id)?);
        self.client
            .send(Method::Get, &path, Vec::new(), context)
            .await
    }
}

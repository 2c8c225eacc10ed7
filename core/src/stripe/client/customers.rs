//! `/v1/customers`: create, update, retrieve, list, search and delete customers.

use std::fmt;

use super::{
    MetadataParams, RequestContext, StripeClient, TimeRange, check_limit, encode_metadata, path_id,
    search_pager,
};
use crate::redact::{metadata_pairs, redacted};
use crate::stripe::error::{InputError, StripeError};
use crate::stripe::form::{Form, FormValue};
use crate::stripe::models::{Customer, Deleted};
use crate::stripe::pagination::Pager;
use crate::stripe::transport::Method;

/// A postal address as sent to Stripe. In an update, `Some("")` clears a line.
///
/// `Debug` shows which lines are set, never their text (the country included).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AddressParams {
    /// Street, PO box or company name.
    pub line1: Option<String>,
    /// Apartment, suite, unit or building.
    pub line2: Option<String>,
    /// City, district, suburb, town or village.
    pub city: Option<String>,
    /// State, county, province or region.
    pub state: Option<String>,
    /// ZIP or postal code.
    pub postal_code: Option<String>,
    /// Two-letter country code (ISO 3166-1 alpha-2).
    pub country: Option<String>,
}

impl fmt::Debug for AddressParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let AddressParams {
            line1,
            line2,
            city,
            state,
            postal_code,
            country,
        } = self;
        f.debug_struct("AddressParams")
            .field("line1", &redacted(line1))
            .field("line2", &redacted(line2))
            .field("city", &redacted(city))
            .field("state", &redacted(state))
            .field("postal_code", &redacted(postal_code))
            .field("country", &redacted(country))
            .finish()
    }
}

impl AddressParams {
    fn to_value(&self) -> FormValue {
        FormValue::from(
            Form::new()
                .opt_field("line1", self.line1.as_ref())
                .opt_field("line2", self.line2.as_ref())
                .opt_field("city", self.city.as_ref())
                .opt_field("state", self.state.as_ref())
                .opt_field("postal_code", self.postal_code.as_ref())
                .opt_field("country", self.country.as_ref()),
        )
    }
}

/// Parameters of `POST /v1/customers`.
///
/// `Debug` shows metadata keys, locales and the payment method; name, email, phone,
/// description, address and metadata values show only whether they are set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CreateCustomer {
    /// Full name or business name.
    pub name: Option<String>,
    /// Email address (≤ 512 characters).
    pub email: Option<String>,
    /// Phone number (≤ 20 characters).
    pub phone: Option<String>,
    /// Internal description (not shown to the customer).
    pub description: Option<String>,
    /// Billing address.
    pub address: Option<AddressParams>,
    /// Metadata, in order.
    pub metadata: MetadataParams,
    /// Preferred languages, most preferred first (`en-GB`).
    pub preferred_locales: Vec<String>,
    /// `invoice_settings[default_payment_method]`.
    pub default_payment_method: Option<String>,
}

impl fmt::Debug for CreateCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CreateCustomer {
            name,
            email,
            phone,
            description,
            address,
            metadata,
            preferred_locales,
            default_payment_method,
        } = self;
        f.debug_struct("CreateCustomer")
            .field("name", &redacted(name))
            .field("email", &redacted(email))
            .field("phone", &redacted(phone))
            .field("description", &redacted(description))
            .field("address", address)
            .field("metadata", &metadata_pairs(metadata))
            .field("preferred_locales", preferred_locales)
            .field("default_payment_method", default_payment_method)
            .finish()
    }
}

impl CreateCustomer {
    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let mut form = Form::new()
            .opt_field("name", self.name.as_ref())
            .opt_field("email", self.email.as_ref())
            .opt_field("phone", self.phone.as_ref())
            .opt_field("description", self.description.as_ref());
        if let Some(address) = &self.address {
            form = form.field("address", address.to_value());
        }
        form = encode_metadata(form, &self.metadata)
            .list("preferred_locales", self.preferred_locales.iter());
        if let Some(method) = &self.default_payment_method {
            form = form.map("invoice_settings", [("default_payment_method", method)]);
        }
        form
    }
}

/// Parameters of `POST /v1/customers/{id}`. `None` leaves a field as it is; `Some("")`
/// clears it; metadata pairs merge key by key and an empty value removes a key.
///
/// `Debug` shows metadata keys, locales and the payment method; name, email, phone,
/// description, address and metadata values show only whether they are set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UpdateCustomer {
    /// New name.
    pub name: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New phone number.
    pub phone: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New address (only the lines given change).
    pub address: Option<AddressParams>,
    /// Metadata changes, in order (`""` removes a key).
    pub metadata: MetadataParams,
    /// New preferred locales, replacing the old ones. Stripe's published schema has
    /// no value for an empty list (no `""` for this field), so `Some(vec![])` is
    /// refused by [`UpdateCustomer::validate`] rather than sent.
    pub preferred_locales: Option<Vec<String>>,
    /// New `invoice_settings[default_payment_method]`; `Some("")` clears it.
    pub default_payment_method: Option<String>,
}

impl fmt::Debug for UpdateCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let UpdateCustomer {
            name,
            email,
            phone,
            description,
            address,
            metadata,
            preferred_locales,
            default_payment_method,
        } = self;
        f.debug_struct("UpdateCustomer")
            .field("name", &redacted(name))
            .field("email", &redacted(email))
            .field("phone", &redacted(phone))
            .field("description", &redacted(description))
            .field("address", address)
            .field("metadata", &metadata_pairs(metadata))
            .field("preferred_locales", preferred_locales)
            .field("default_payment_method", default_payment_method)
            .finish()
    }
}

impl UpdateCustomer {
    /// Checks what Stripe's schema cannot express before anything is sent.
    ///
    /// # Errors
    /// [`InputError::InvalidParameters`] for an empty `preferred_locales` (the schema
    /// has no way to send an empty list).
    pub fn validate(&self) -> Result<(), InputError> {
        if self.preferred_locales.as_ref().is_some_and(Vec::is_empty) {
            return Err(InputError::InvalidParameters {
                reason: "preferred_locales cannot be emptied: Stripe's schema has no value for an empty list",
            });
        }
        Ok(())
    }

    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let mut form = Form::new()
            .opt_field("name", self.name.as_ref())
            .opt_field("email", self.email.as_ref())
            .opt_field("phone", self.phone.as_ref())
            .opt_field("description", self.description.as_ref());
        if let Some(address) = &self.address {
            form = form.field("address", address.to_value());
        }
        form = encode_metadata(form, &self.metadata);
        if let Some(locales) = &self.preferred_locales {
            form = form.list("preferred_locales", locales.iter());
        }
        if let Some(method) = &self.default_payment_method {
            form = form.map("invoice_settings", [("default_payment_method", method)]);
        }
        form
    }
}

/// Filters of `GET /v1/customers`. `Debug` shows whether the email filter is set, not
/// the address.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ListCustomers {
    /// Exact, case-sensitive email.
    pub email: Option<String>,
    /// Creation time range (unix seconds).
    pub created: Option<TimeRange>,
    /// Page size, 1–100 (Stripe's default 10).
    pub limit: Option<u32>,
}

impl fmt::Debug for ListCustomers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let ListCustomers {
            email,
            created,
            limit,
        } = self;
        f.debug_struct("ListCustomers")
            .field("email", &redacted(email))
            .field("created", created)
            .field("limit", limit)
            .finish()
    }
}

impl ListCustomers {
    /// The query parameters.
    pub fn to_form(&self) -> Form {
        let mut form = Form::new().opt_field("email", self.email.as_ref());
        if let Some(created) = &self.created {
            form = form.field("created", created.to_value());
        }
        form.opt_field("limit", self.limit)
    }
}

/// Customer endpoints; from [`StripeClient::customers`].
#[derive(Debug, Clone, Copy)]
pub struct Customers<'a> {
    pub(super) client: &'a StripeClient,
}

impl Customers<'_> {
    /// `POST /v1/customers`.
    ///
    /// # Errors
    /// Any [`StripeError`] of [`StripeClient::send`].
    pub async fn create(
        &self,
        params: &CreateCustomer,
        context: &RequestContext,
    ) -> Result<Customer, StripeError> {
        self.client
            .send(
                Method::Post,
                "/v1/customers",
                params.to_form().encode(),
                context,
            )
            .await
    }

    /// `POST /v1/customers/{id}`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id or parameters
    /// [`UpdateCustomer::validate`] refuses (nothing sent), then any error of
    /// [`StripeClient::send`].
    pub async fn update(
        &self,
        id: &str,
        params: &UpdateCustomer,
        context: &RequestContext,
    ) -> Result<Customer, StripeError> {
        params.validate()?;
        let path = format!("/v1/customers/{}", path_id("customer", id)?);
        self.client
            .send(Method::Post, &path, params.to_form().encode(), context)
            .await
    }

    /// `GET /v1/customers/{id}`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`] (404 for an unknown id).
    pub async fn retrieve(
        &self,
        id: &str,
        context: &RequestContext,
    ) -> Result<Customer, StripeError> {
        let path = format!("/v1/customers/{}", path_id("customer", id)?);
        self.client
            .send(Method::Get, &path, Vec::new(), context)
            .await
    }

    /// `GET /v1/customers`, newest first, as a lazy pager.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a limit outside 1–100.
    pub fn list(
        &self,
        params: &ListCustomers,
        context: &RequestContext,
    ) -> Result<Pager<Customer>, StripeError> {
        check_limit(params.limit)?;
        Ok(Pager::list(
            self.client,
            "/v1/customers",
            params.to_form().encode(),
            context,
        ))
    }

    /// `GET /v1/customers/search` with a Stripe search query such as
    /// `metadata['ehr_patient_id']:'P-1'`. Eventually consistent: never use it to find
    /// what was just created.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a limit outside 1–100.
    pub fn search(
        &self,
        query: &str,
        limit: Option<u32>,
        context: &RequestContext,
    ) -> Result<Pager<Customer>, StripeError> {
        search_pager(self.client, "/v1/customers/search", query, limit, context)
    }

    /// `DELETE /v1/customers/{id}`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed id, then any error of
    /// [`StripeClient::send`].
    pub async fn delete(&self, id: &str, context: &RequestContext) -> Result<Deleted, StripeError> {
        let path = format!("/v1/customers/{}", path_id("customer", id)?);
        self.client
            .send(Method::Delete, &path, Vec::new(), context)
            .await
    }
}

//! `/v1/customers/{id}/balance_transactions`: credits and debits on a customer's balance.
//! Negative amounts are credits owed to the customer, positive ones debits it owes;
//! transactions are immutable (undo one by creating its reverse).

use std::fmt;

use super::{MetadataParams, RequestContext, StripeClient, check_limit, encode_metadata, path_id};
use crate::redact::{metadata_pairs, redacted};
use crate::stripe::error::StripeError;
use crate::stripe::form::Form;
use crate::stripe::models::CustomerBalanceTransaction;
use crate::stripe::pagination::Pager;
use crate::stripe::transport::Method;

/// Parameters of `POST /v1/customers/{id}/balance_transactions` (type `adjustment`).
///
/// `Debug` shows the amount, currency and metadata keys; the description and metadata
/// values show only whether they are set.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CreateBalanceTransaction {
    /// Minor units of `currency`: negative = credit to the customer, positive = debit.
    pub amount: i64,
    /// Lowercase ISO currency code; must match the customer's currency once it has one.
    pub currency: String,
    /// Shown to the customer on invoices; keep health details out.
    pub description: Option<String>,
    /// Metadata, in order.
    pub metadata: MetadataParams,
}

impl fmt::Debug for CreateBalanceTransaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CreateBalanceTransaction {
            amount,
            currency,
            description,
            metadata,
        } = self;
        f.debug_struct("CreateBalanceTransaction")
            .field("amount", amount)
            .field("currency", currency)
            .field("description", &redacted(description))
            .field("metadata", &metadata_pairs(metadata))
            .finish()
    }
}

impl CreateBalanceTransaction {
    /// The form parameters.
    pub fn to_form(&self) -> Form {
        let form = Form::new()
            .field("amount", self.amount)
            .field("currency", &self.currency)
            .opt_field("description", self.description.as_ref());
        encode_metadata(form, &self.metadata)
    }
}

/// Balance transaction endpoints; from [`StripeClient::balance_transactions`].
#[derive(Debug, Clone, Copy)]
pub struct BalanceTransactions<'a> {
    pub(super) client: &'a StripeClient,
}

impl BalanceTransactions<'_> {
    /// `POST /v1/customers/{customer}/balance_transactions`.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed customer id, then any error of
    /// [`StripeClient::send`].
    pub async fn create(
        &self,
        customer: &str,
        params: &CreateBalanceTransaction,
        context: &RequestContext,
    ) -> Result<CustomerBalanceTransaction, StripeError> {
        let path = format!(
            "/v1/customers/{}/balance_transactions",
            path_id("customer", customer)?
        );
        self.client
            .send(Method::Post, &path, params.to_form().encode(), context)
            .await
    }

    /// `GET /v1/customers/{customer}/balance_transactions`, newest first, as a pager.
    ///
    /// # Errors
    /// [`StripeError::InvalidRequest`] for a malformed customer id or a limit outside 1–100.
    pub fn list(
        &self,
        customer: &str,
        limit: Option<u32>,
        context: &RequestContext,
    ) -> Result<Pager<CustomerBalanceTransaction>, StripeError> {
        check_limit(limit)?;
        let path = format!(
            "/v1/customers/{}/balance_transactions",
            path_id("customer", customer)?
        );
        let params = Form::new().opt_field("limit", limit).encode();
        Ok(Pager::list(self.client, path, params, context))
    }
}

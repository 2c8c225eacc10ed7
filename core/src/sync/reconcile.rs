//! Writes that happen exactly once even when Stripe keeps answering their idempotency
//! key with a saved server error.
//!
//! Stripe saves the answer of a request once its endpoint began executing, a 500
//! included, and replays it to every retry with the same key for 24 hours
//! (<https://docs.stripe.com/api/idempotent_requests>). Such a request may or may not
//! have taken effect, and retrying its key cannot tell. So a keyed write that meets a
//! saved server error asks Stripe what happened — by id where the object is known, by
//! the host's ids and the other metadata it sent where it is not — takes the object it
//! finds, and otherwise sends the write again under the next key of the same
//! derivation (`revision#1`, `#2`, …), which every worker and every re-run derives
//! alike. Lookups use retrieve and list, never search, which is not read-after-write,
//! and never a time window: the host's clock and Stripe's (or a mock's) need not agree,
//! so lists are narrowed by what the write named (the customer, the email) and read
//! newest first, where a write of the last 24 hours is.

use super::bridge::Billbridge;
use crate::domain::metadata::MetadataMap;
use crate::error::Error;
use crate::stripe::client::MetadataParams;
use crate::stripe::models::{Customer, CustomerBalanceTransaction, Invoice};

/// How many further keys one write may move on to after saved server errors.
const MAX_FURTHER_KEYS: u32 = 3;

/// The most objects a lookup reads, newest first, before it gives up (pages of 100).
const LOOKUP_PAGES: u32 = 20;

/// Sends a keyed write exactly once: `write_once!(bridge, subject, operation,
/// revision, |context| <the write's future>, found: <the lookup's future>)`. The write
/// gets the request context with the key of `operation` on `subject` at `revision`.
/// When the key answers a saved server error, the lookup (a
/// `Result<Option<T>, Error>`) asks Stripe whether the write took effect: what it finds
/// is the result; when it finds nothing the write goes again under the next key.
/// Evaluates to the write's `Result<T, Error>`: its own error, the lookup's, or a saved
/// server error once [`MAX_FURTHER_KEYS`] further keys have met one too.
///
/// A macro rather than a function taking closures: the futures stay `Send` for the
/// bindings' runtimes without boxing.
macro_rules! write_once {
    ($bridge:expr, $subject:expr, $operation:expr, $revision:expr,
     |$context:ident| $send:expr, found: $find:expr $(,)?) => {{
        let mut attempts = $crate::sync::reconcile::Attempts::new($revision);
        loop {
            let $context = $bridge.keyed($subject, $operation, &attempts.revision());
            match $send.await.map_err($crate::Error::from) {
                Err(error) if attempts.may_reconcile(&error) => match $find.await {
                    Ok(Some(done)) => break Ok(done),
                    Ok(None) => attempts.advance(),
                    Err(error) => break Err(error),
                },
                result => break result,
            }
        }
    }};
}
pub(crate) use write_once;

/// The keys one write goes through: its own, then `revision#1`, `#2`, … after saved
/// server errors.
#[derive(Debug)]
pub(crate) struct Attempts<'r> {
    revision: &'r str,
    generation: u32,
}

impl<'r> Attempts<'r> {
    pub(crate) fn new(revision: &'r str) -> Self {
        Attempts {
            revision,
            generation: 0,
        }
    }

    /// The revision the key of this attempt is derived from.
    pub(crate) fn revision(&self) -> String {
        if self.generation == 0 {
            self.revision.to_owned()
        } else {
            format!("{}#{}", self.revision, self.generation)
        }
    }

    /// Whether `error` calls for finding out what happened (and then a further key).
    pub(crate) fn may_reconcile(&self, error: &Error) -> bool {
        error.is_saved_server_error() && self.generation < MAX_FURTHER_KEYS
    }

    pub(crate) fn advance(&mut self) {
        self.generation += 1;
    }
}

impl Billbridge {
    /// The customer a create with `name`, `email` and `metadata` made: the newest with
    /// that name and every metadata pair sent, among those with that email.
    ///
    /// # Errors
    /// A Stripe error from listing.
    pub(crate) async fn find_created_customer(
        &self,
        name: Option<&str>,
        email: Option<&str>,
        metadata: &MetadataParams,
    ) -> Result<Option<Customer>, Error> {
        let params = crate::stripe::client::ListCustomers {
            email: email.map(str::to_owned),
            limit: Some(100),
            ..Default::default()
        };
        let customers = self
            .inner
            .client
            .customers()
            .list(&params, &self.context(None))?
            .with_max_pages(LOOKUP_PAGES)
            .collect_all()
            .await?;
        Ok(customers.into_iter().find(|customer| {
            customer.name.as_deref() == name && carries(&customer.metadata, metadata)
        }))
    }

    /// The invoice of `customer` a create with `metadata` made: the newest of the
    /// customer's invoices with every metadata pair sent.
    ///
    /// # Errors
    /// A Stripe error from listing.
    pub(crate) async fn find_created_invoice(
        &self,
        customer: &str,
        metadata: &MetadataParams,
    ) -> Result<Option<Invoice>, Error> {
        let params = crate::stripe::client::ListInvoices {
            customer: Some(customer.to_owned()),
            limit: Some(100),
            ..Default::default()
        };
        let invoices = self
            .inner
            .client
            .invoices()
            .list(&params, &self.context(None))?
            .with_max_pages(LOOKUP_PAGES)
            .collect_all()
            .await?;
        Ok(invoices
            .into_iter()
            .find(|invoice| carries(&invoice.metadata, metadata)))
    }

    /// The balance transaction of `customer` whose metadata names `key` = `value`.
    ///
    /// # Errors
    /// A Stripe error from listing.
    pub(crate) async fn find_balance_transaction(
        &self,
        customer: &str,
        key: &str,
        value: &str,
    ) -> Result<Option<CustomerBalanceTransaction>, Error> {
        let transactions = self
            .inner
            .client
            .balance_transactions()
            .list(customer, Some(100), &self.context(None))?
            .with_max_pages(LOOKUP_PAGES)
            .collect_all()
            .await?;
        Ok(transactions
            .into_iter()
            .find(|transaction| transaction.metadata.get(key) == Some(value)))
    }

    /// The invoice `stripe_invoice_id` as it is now, when `done` says the write being
    /// reconciled shows on it.
    ///
    /// # Errors
    /// A Stripe error from retrieving.
    pub(crate) async fn invoice_showing(
        &self,
        stripe_invoice_id: &str,
        done: impl Fn(&Invoice) -> bool,
    ) -> Result<Option<Invoice>, Error> {
        let invoice = self
            .inner
            .client
            .invoices()
            .retrieve(stripe_invoice_id, &self.context(None))
            .await?;
        Ok(done(&invoice).then_some(invoice))
    }
}

/// Whether `metadata` holds every non-empty pair of `sent` (an empty value deletes a
/// key, so it is not on the object).
fn carries(metadata: &MetadataMap, sent: &MetadataParams) -> bool {
    sent.iter()
        .filter(|(_, value)| !value.is_empty())
        .all(|(key, value)| metadata.get(key) == Some(value.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn further_keys_are_numbered_and_limited() {
        let mut attempts = Attempts::new("7");
        assert_eq!(attempts.revision(), "7");
        attempts.advance();
        assert_eq!(attempts.revision(), "7#1");
        let saved = Error::from(crate::stripe::error::StripeError::from(
            crate::stripe::error::ApiError {
                idempotent_replayed: true,
                ..crate::stripe::error::ApiError::from_status(500, None)
            },
        ));
        assert!(attempts.may_reconcile(&saved));
        let fresh = Error::from(crate::stripe::error::StripeError::from(
            crate::stripe::error::ApiError::from_status(500, None),
        ));
        assert!(
            !attempts.may_reconcile(&fresh),
            "a 500 that was not saved is retried as such"
        );
        for _ in 0..MAX_FURTHER_KEYS {
            attempts.advance();
        }
        assert!(!attempts.may_reconcile(&saved));
    }

    #[test]
    fn carries_every_sent_pair_and_ignores_deletions() {
        let metadata = MetadataMap::from([("a", "1"), ("b", "2")]);
        let sent = |pairs: &[(&str, &str)]| -> MetadataParams {
            pairs
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect()
        };
        assert!(carries(&metadata, &sent(&[("a", "1")])));
        assert!(carries(&metadata, &sent(&[("a", "1"), ("c", "")])));
        assert!(!carries(&metadata, &sent(&[("a", "2")])));
        assert!(!carries(&metadata, &sent(&[("z", "1")])));
    }
}

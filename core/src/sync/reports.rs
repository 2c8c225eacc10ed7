//! The bridge's reports: the [`crate::report`] listings over the bridge's own store,
//! account and metadata policy, so that a host (and every language binding) asks the
//! bridge rather than wiring stores, accounts and host-id keys itself.

use super::bridge::Billbridge;
use crate::domain::party::PayerRef;
use crate::error::Error;
use crate::mirror::HostIdKeys;
use crate::report::{
    self, DateRange, InvoicePager, InvoiceQuery, PaymentPager, Portal, StripeInvoicePager,
};
use crate::store::SyncStore;

impl Billbridge {
    /// The host's invoices matching `query`, oldest first, read lazily from the store
    /// one page at a time (no Stripe call).
    pub fn invoices(&self, query: &InvoiceQuery) -> InvoicePager<'_, dyn SyncStore> {
        report::invoices(self.store().as_ref(), self.account(), query)
    }

    /// Open invoices, oldest first.
    pub fn outstanding(&self) -> InvoicePager<'_, dyn SyncStore> {
        report::outstanding(self.store().as_ref(), self.account())
    }

    /// Payments received on the days of `range`, through Stripe and outside it
    /// ([`report::payments_received`]).
    pub fn payments_received(&self, range: DateRange) -> PaymentPager<'_, dyn SyncStore> {
        report::payments_received(self.store().as_ref(), self.account(), range)
    }

    /// The portal view of `payer`: their finalized invoices, paid and unpaid, with pay
    /// links and what remains to pay per currency.
    ///
    /// # Errors
    /// As [`report::portal`].
    pub async fn portal(&self, payer: &PayerRef) -> Result<Portal, Error> {
        Ok(report::portal(self.store().as_ref(), self.account(), payer).await?)
    }

    /// Stripe's own list of invoices matching `query`, joined with the host's records;
    /// host ids of invoices the store does not know are read under this bridge's
    /// metadata policy ([`report::stripe_invoices`]).
    ///
    /// # Errors
    /// As [`report::stripe_invoices`].
    pub async fn stripe_invoices(
        &self,
        query: &InvoiceQuery,
    ) -> Result<StripeInvoicePager<'_, dyn SyncStore>, Error> {
        let keys = HostIdKeys::from_policy(self.metadata_policy());
        Ok(report::stripe_invoices(
            self.client(),
            self.store().as_ref(),
            self.account(),
            query,
            &keys,
        )
        .await?)
    }
}

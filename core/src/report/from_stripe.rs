//! Stripe's view of the invoices as report rows: [`stripe_invoices`], a pager over
//! `GET /v1/invoices` joined with the store. An invoice the store mirrors keeps the
//! host's identity and payments outside Stripe, merged with Stripe's answer under
//! [`MergePolicy::Authoritative`]; an invoice it does not know gets its host ids from
//! its metadata ([`HostIdKeys`]). Both go through [`crate::mirror`], as webhooks and
//! re-sync do.

use std::fmt;

use super::{InvoiceQuery, ReportError};
use crate::mirror::{
    HostFacts, HostIdKeys, InvoiceRecord, MergePolicy, latest_stripe_time, merge, row_from_stripe,
};
use crate::store::{InvoiceMirror, SyncStore};
use crate::stripe::client::{ListInvoices, RequestContext, StripeClient, TimeRange};
use crate::stripe::models::Invoice;
use crate::stripe::pagination::Pager;

/// The row of a Stripe invoice for a report: the stored row merged with Stripe's answer
/// when the store mirrors it, otherwise built from the invoice with the host ids its
/// metadata names under `keys` and the payer the store links to its customer.
async fn report_row<S: SyncStore + ?Sized>(
    store: &S,
    account: Option<&str>,
    invoice: &Invoice,
    keys: &HostIdKeys,
) -> Result<InvoiceMirror, ReportError> {
    let observed_at = latest_stripe_time(invoice);
    if let Some(current) = store
        .invoice_mirror_by_stripe_id(account, &invoice.id)
        .await?
    {
        let host = current.host_invoice_id.clone();
        return Ok(merge(
            account,
            Some(&current),
            None,
            &host,
            invoice,
            observed_at,
            MergePolicy::Authoritative,
        )
        .unwrap_or(current));
    }
    let customer = match &invoice.customer {
        Some(customer) => {
            store
                .customer_link_by_stripe_id(account, customer.id())
                .await?
        }
        None => None,
    };
    let facts = HostFacts::recover(invoice, keys, customer.as_ref());
    let host = keys.host_invoice_id(invoice).unwrap_or(invoice.id.as_str());
    Ok(row_from_stripe(account, host, invoice, observed_at, &facts))
}

/// Walks Stripe's invoice list (newest first, as Stripe returns it) page by page and
/// turns each invoice into a report row joined with the store.
pub struct StripeInvoicePager<'s, S: SyncStore + ?Sized> {
    pager: Option<Pager<Invoice>>,
    store: &'s S,
    account: Option<String>,
    keys: HostIdKeys,
    filter: InvoiceQuery,
}

impl<S: SyncStore + ?Sized> fmt::Debug for StripeInvoicePager<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeInvoicePager")
            .field("pager", &self.pager)
            .field("account", &self.account)
            .field("keys", &self.keys)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl<S: SyncStore + ?Sized> StripeInvoicePager<'_, S> {
    /// The next non-empty page of rows, or `None` when Stripe has no more.
    ///
    /// # Errors
    /// [`ReportError::Stripe`] when listing fails (the page can be asked for again),
    /// [`ReportError::Store`] when the mirror lookup fails or a row cannot be read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<InvoiceRecord>>, ReportError> {
        loop {
            let Some(pager) = self.pager.as_mut() else {
                return Ok(None);
            };
            let Some(page) = pager.next_page().await? else {
                self.pager = None;
                return Ok(None);
            };
            let mut rows = Vec::with_capacity(page.len());
            for invoice in &page {
                let row =
                    report_row(self.store, self.account.as_deref(), invoice, &self.keys).await?;
                let row = InvoiceRecord::from_row(&row)?;
                if self.filter.matches(&row) {
                    rows.push(row);
                }
            }
            if !rows.is_empty() {
                return Ok(Some(rows));
            }
        }
    }

    /// Every remaining row in one vector (memory grows with the result).
    ///
    /// # Errors
    /// As [`StripeInvoicePager::next_page`].
    pub async fn collect_all(mut self) -> Result<Vec<InvoiceRecord>, ReportError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}

/// Stripe's invoices of `account` matching `query`, auto-paginated, for hosts that want
/// Stripe's truth rather than the mirror. Status, customer and creation range are
/// filtered by Stripe; the payer is turned into its Stripe customer through the store's
/// customer link (a payer without one has no invoices); due dates and metadata are
/// filtered here. Each invoice is joined with its mirror (host identity, outside
/// payment) when the store has one; an invoice it does not know gets its host ids from
/// the metadata under `keys` (the bridge passes its policy's keys; [`HostIdKeys::default`]
/// holds the preset keys).
///
/// # Errors
/// [`ReportError::Store`] when the customer link lookup fails, [`ReportError::Stripe`]
/// for an invalid Stripe account id.
pub async fn stripe_invoices<'s, S: SyncStore + ?Sized>(
    client: &StripeClient,
    store: &'s S,
    account: Option<&str>,
    query: &InvoiceQuery,
    keys: &HostIdKeys,
) -> Result<StripeInvoicePager<'s, S>, ReportError> {
    let account = account.filter(|id| !id.is_empty());
    let mut filter = query.clone();
    let mut customer = query.stripe_customer_id.clone();
    if let (Some(kind), Some(host_id)) = (query.payer_kind, query.payer_host_id.as_deref()) {
        match store.customer_link(account, kind, host_id).await? {
            Some(link) => {
                if customer
                    .as_ref()
                    .is_some_and(|wanted| *wanted != link.stripe_customer_id)
                {
                    return Ok(empty(store, account, keys, filter));
                }
                customer = Some(link.stripe_customer_id);
                // Stripe already filters by the payer's customer; rows of invoices the
                // store does not know carry only a guessed payer kind.
                filter.payer_kind = None;
                filter.payer_host_id = None;
            }
            None => return Ok(empty(store, account, keys, filter)),
        }
    }
    let params = ListInvoices {
        customer,
        status: query.status.clone(),
        created: query
            .created
            .map(|range| TimeRange::between(range.start_unix(), range.end_unix_exclusive())),
        collection_method: None,
        limit: Some(u32::try_from(query.page_size.clamp(1, 100)).unwrap_or(100)),
    };
    let mut context = RequestContext::new();
    if let Some(account) = account {
        context = context.with_account(account);
    }
    let pager = client.invoices().list(&params, &context)?;
    Ok(StripeInvoicePager {
        pager: Some(pager),
        store,
        account: account.map(str::to_owned),
        keys: keys.clone(),
        filter,
    })
}

fn empty<'s, S: SyncStore + ?Sized>(
    store: &'s S,
    account: Option<&str>,
    keys: &HostIdKeys,
    filter: InvoiceQuery,
) -> StripeInvoicePager<'s, S> {
    StripeInvoicePager {
        pager: None,
        store,
        account: account.map(str::to_owned),
        keys: keys.clone(),
        filter,
    }
}

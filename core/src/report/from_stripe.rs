//! Stripe's view of the invoices as report rows: the conversion of a Stripe
//! [`Invoice`] into an [`InvoiceMirror`], the merge of a fresh Stripe invoice into a
//! stored mirror, and [`stripe_invoices`], a pager over `GET /v1/invoices` joined with
//! the store.

use std::fmt;

use super::{InvoiceQuery, ReportError};
use crate::domain::status::InvoiceStatus;
use crate::stripe::client::{ListInvoices, RequestContext, StripeClient, TimeRange};
use crate::stripe::models::Invoice;
use crate::stripe::pagination::Pager;
use crate::sync::store::{InvoiceMirror, PartyKind, SyncStore};
use crate::sync::{MirrorParties, mirror_with_status};

/// Invoice metadata key holding the host's invoice id (see the metadata policy).
const HOST_INVOICE_ID_KEY: &str = "host_invoice_id";
/// Invoice metadata key holding the host's payer id.
const HOST_PAYER_ID_KEY: &str = "host_payer_id";
/// Invoice metadata key holding the host's patient id.
const HOST_PATIENT_ID_KEY: &str = "host_patient_id";

/// The latest time Stripe reports for the invoice: its creation or its last status
/// transition, so that a newer snapshot orders after an older one.
fn latest_stripe_time(invoice: &Invoice) -> i64 {
    let transitions = &invoice.status_transitions;
    [
        transitions.finalized_at,
        transitions.marked_uncollectible_at,
        transitions.paid_at,
        transitions.voided_at,
    ]
    .into_iter()
    .flatten()
    .fold(invoice.created, i64::max)
}

fn status_of(invoice: &Invoice) -> InvoiceStatus {
    invoice
        .status
        .clone()
        .unwrap_or_else(|| InvoiceStatus::Unknown(String::new()))
}

/// The mirror of a Stripe invoice billbridge has no record of, in `account`.
///
/// The host identity comes from the invoice metadata billbridge writes
/// (`host_invoice_id`, `host_payer_id`, `host_patient_id`), falling back to Stripe's
/// invoice and customer ids. The payer kind is a best guess: an organisation when the
/// payer id differs from the patient id, a patient otherwise. Rows of invoices the store
/// knows should come from [`merge_stripe_invoice`] instead, which keeps the store's
/// identity.
pub fn mirror_from_stripe(invoice: &Invoice, account: Option<&str>) -> InvoiceMirror {
    let customer = invoice
        .customer
        .as_ref()
        .map(|customer| customer.id().to_owned())
        .unwrap_or_default();
    let metadata = &invoice.metadata;
    let patient_host_id = metadata.get(HOST_PATIENT_ID_KEY).map(str::to_owned);
    let payer_host_id = metadata
        .get(HOST_PAYER_ID_KEY)
        .map_or(customer, str::to_owned);
    let payer_kind = match &patient_host_id {
        Some(patient) if *patient != payer_host_id => PartyKind::Organisation,
        _ => PartyKind::Patient,
    };
    let parties = MirrorParties {
        payer_kind,
        payer_host_id,
        patient_host_id,
        paid_outside: None,
    };
    let host_invoice_id = metadata
        .get(HOST_INVOICE_ID_KEY)
        .unwrap_or(invoice.id.as_str());
    mirror_with_status(
        account.filter(|id| !id.is_empty()).map(str::to_owned),
        host_invoice_id,
        invoice,
        status_of(invoice),
        latest_stripe_time(invoice),
        &parties,
    )
}

impl From<&Invoice> for InvoiceMirror {
    /// [`mirror_from_stripe`] for the platform account.
    fn from(invoice: &Invoice) -> Self {
        mirror_from_stripe(invoice, None)
    }
}

/// `mirror` brought up to date with `invoice`, Stripe's current state of the same
/// invoice: status, number, amounts, balances, links, due date and metadata come from
/// Stripe; the host identity (account, host ids, payer, patient) and the outside-payment
/// record stay as the store has them.
pub fn merge_stripe_invoice(mirror: &InvoiceMirror, invoice: &Invoice) -> InvoiceMirror {
    let mut merged = mirror_with_status(
        mirror.account.clone(),
        &mirror.host_invoice_id,
        invoice,
        status_of(invoice),
        mirror.stripe_updated_at.max(latest_stripe_time(invoice)),
        &MirrorParties::of(mirror),
    );
    merged
        .stripe_customer_id
        .clone_from(&mirror.stripe_customer_id);
    if merged.number.is_none() {
        merged.number.clone_from(&mirror.number);
    }
    merged
}

/// Walks Stripe's invoice list (newest first, as Stripe returns it) page by page and
/// turns each invoice into a report row joined with the store.
pub struct StripeInvoicePager<'s, S: SyncStore + ?Sized> {
    pager: Option<Pager<Invoice>>,
    store: &'s S,
    account: Option<String>,
    filter: InvoiceQuery,
}

impl<S: SyncStore + ?Sized> fmt::Debug for StripeInvoicePager<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeInvoicePager")
            .field("pager", &self.pager)
            .field("account", &self.account)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl<S: SyncStore + ?Sized> StripeInvoicePager<'_, S> {
    /// The next non-empty page of rows, or `None` when Stripe has no more.
    ///
    /// # Errors
    /// [`ReportError::Stripe`] when listing fails (the page can be asked for again),
    /// [`ReportError::Store`] when the mirror lookup fails.
    pub async fn next_page(&mut self) -> Result<Option<Vec<InvoiceMirror>>, ReportError> {
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
                let row = match self
                    .store
                    .invoice_mirror_by_stripe_id(self.account.as_deref(), &invoice.id)
                    .await?
                {
                    Some(mirror) => merge_stripe_invoice(&mirror, invoice),
                    None => mirror_from_stripe(invoice, self.account.as_deref()),
                };
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
    pub async fn collect_all(mut self) -> Result<Vec<InvoiceMirror>, ReportError> {
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
/// payment) when the store has one.
///
/// # Errors
/// [`ReportError::Store`] when the customer link lookup fails, [`ReportError::Stripe`]
/// for an invalid Stripe account id.
pub async fn stripe_invoices<'s, S: SyncStore + ?Sized>(
    client: &StripeClient,
    store: &'s S,
    account: Option<&str>,
    query: &InvoiceQuery,
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
                    return Ok(empty(store, account, filter));
                }
                customer = Some(link.stripe_customer_id);
                // Stripe already filters by the payer's customer; rows of invoices the
                // store does not know carry only a guessed payer kind.
                filter.payer_kind = None;
                filter.payer_host_id = None;
            }
            None => return Ok(empty(store, account, filter)),
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
        filter,
    })
}

fn empty<'s, S: SyncStore + ?Sized>(
    store: &'s S,
    account: Option<&str>,
    filter: InvoiceQuery,
) -> StripeInvoicePager<'s, S> {
    StripeInvoicePager {
        pager: None,
        store,
        account: account.map(str::to_owned),
        filter,
    }
}

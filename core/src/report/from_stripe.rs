//! Stripe's view of the invoices as report rows: the conversion of a Stripe
//! [`Invoice`] into an [`InvoiceMirror`], the merge of a fresh Stripe invoice into a
//! stored mirror, and [`stripe_invoices`], a pager over `GET /v1/invoices` joined with
//! the store. Host ids of invoices the store does not know are read from the invoice
//! metadata under the keys of the practice's metadata policy ([`HostIdKeys`]).

use std::fmt;

use super::{InvoiceQuery, ReportError};
use crate::domain::date::Date;
use crate::domain::metadata::{Field, MetadataMap, MetadataPolicy, MetadataTarget};
use crate::domain::status::InvoiceStatus;
use crate::store::{InvoiceMirror, OutsidePayment, PartyKind, SyncStore};
use crate::stripe::client::{ListInvoices, RequestContext, StripeClient, TimeRange};
use crate::stripe::models::Invoice;
use crate::stripe::pagination::Pager;
use crate::sync::{
    MirrorParties, PAID_OUTSIDE_METHOD_KEY, PAID_OUTSIDE_ON_KEY, PAID_OUTSIDE_REFERENCE_KEY,
    mirror_with_status,
};

/// The invoice metadata keys under which the host's ids are read back from a Stripe
/// invoice the store does not know. `None` means the policy sends no such key, so that
/// id falls back as [`mirror_from_stripe`] describes.
///
/// [`Default`] holds the preset keys (`host_invoice_id`, `host_payer_id`,
/// `host_patient_id`); a practice that renamed them builds the keys from its policy with
/// [`HostIdKeys::from_policy`] (or `From<&MetadataPolicy>`), e.g.
/// `HostIdKeys::from_policy(bridge.metadata_policy())`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostIdKeys {
    /// Key of [`Field::HostInvoiceId`] on the invoice.
    pub invoice: Option<String>,
    /// Key of [`Field::HostPayerId`] on the invoice.
    pub payer: Option<String>,
    /// Key of [`Field::HostPatientId`] on the invoice.
    pub patient: Option<String>,
}

impl HostIdKeys {
    /// The invoice keys `policy` writes the host ids under.
    pub fn from_policy(policy: &MetadataPolicy) -> Self {
        let key = |field| {
            policy
                .key_for(field, MetadataTarget::Invoice)
                .map(str::to_owned)
        };
        HostIdKeys {
            invoice: key(Field::HostInvoiceId),
            payer: key(Field::HostPayerId),
            patient: key(Field::HostPatientId),
        }
    }
}

impl Default for HostIdKeys {
    /// The keys of the default policy, which are the preset keys of every built-in
    /// policy.
    fn default() -> Self {
        HostIdKeys::from_policy(&MetadataPolicy::default())
    }
}

impl From<&MetadataPolicy> for HostIdKeys {
    fn from(policy: &MetadataPolicy) -> Self {
        HostIdKeys::from_policy(policy)
    }
}

/// The value under `key` in `metadata`, when the key is set and the value not empty.
fn metadata_value<'m>(metadata: &'m MetadataMap, key: Option<&str>) -> Option<&'m str> {
    key.and_then(|key| metadata.get(key))
        .filter(|value| !value.is_empty())
}

/// The payment outside Stripe that billbridge recorded on the invoice metadata, if any.
/// A day that does not parse is left out rather than failing the row.
fn paid_outside_from(metadata: &MetadataMap) -> Option<OutsidePayment> {
    let method = metadata_value(metadata, Some(PAID_OUTSIDE_METHOD_KEY))?;
    Some(OutsidePayment {
        method: method.to_owned(),
        reference: metadata_value(metadata, Some(PAID_OUTSIDE_REFERENCE_KEY)).map(str::to_owned),
        paid_on: metadata_value(metadata, Some(PAID_OUTSIDE_ON_KEY))
            .and_then(|day| Date::parse(day).ok()),
    })
}

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
/// The host identity comes from the invoice metadata billbridge writes, under `keys`
/// (the policy's keys for the host invoice, payer and patient ids), falling back to
/// Stripe's invoice and customer ids. A payment outside Stripe comes from the
/// `paid_outside_*` metadata ([`PAID_OUTSIDE_METHOD_KEY`] and its siblings) when the
/// invoice carries it. The payer kind is a best guess: an organisation when the
/// payer id differs from the patient id, a patient otherwise. Rows of invoices the store
/// knows should come from [`merge_stripe_invoice`] instead, which keeps the store's
/// identity.
pub fn mirror_from_stripe(
    invoice: &Invoice,
    account: Option<&str>,
    keys: &HostIdKeys,
) -> InvoiceMirror {
    let customer = invoice
        .customer
        .as_ref()
        .map(|customer| customer.id().to_owned())
        .unwrap_or_default();
    let metadata = &invoice.metadata;
    let patient_host_id = metadata_value(metadata, keys.patient.as_deref()).map(str::to_owned);
    let payer_host_id =
        metadata_value(metadata, keys.payer.as_deref()).map_or(customer, str::to_owned);
    let payer_kind = match &patient_host_id {
        Some(patient) if *patient != payer_host_id => PartyKind::Organisation,
        _ => PartyKind::Patient,
    };
    let parties = MirrorParties {
        payer_kind,
        payer_host_id,
        patient_host_id,
        paid_outside: paid_outside_from(metadata),
    };
    let host_invoice_id =
        metadata_value(metadata, keys.invoice.as_deref()).unwrap_or(invoice.id.as_str());
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
    /// [`mirror_from_stripe`] for the platform account, with the preset host-id keys.
    fn from(invoice: &Invoice) -> Self {
        mirror_from_stripe(invoice, None, &HostIdKeys::default())
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
                    None => mirror_from_stripe(invoice, self.account.as_deref(), &self.keys),
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
/// payment) when the store has one; an invoice it does not know gets its host ids from
/// the metadata under `keys` (pass `HostIdKeys::from_policy(bridge.metadata_policy())`,
/// or [`HostIdKeys::default`] for the preset keys).
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

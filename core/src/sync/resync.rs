//! Re-sync: overwrite the mirror with Stripe's truth for one invoice, or for every
//! invoice with an event since a time (the recovery job for missed webhooks).

use std::collections::BTreeSet;

use super::bridge::Billbridge;
use crate::domain::status::InvoiceStatus;
use crate::error::Error;
use crate::mirror::{InvoiceRecord, MergePolicy, mark_deleted};
use crate::stripe::models::{Event, EventObject};
use crate::stripe::pagination::Pager;

impl Billbridge {
    /// Fetches the invoice from Stripe and makes the mirror say exactly what Stripe
    /// says (a draft Stripe no longer has is recorded as deleted). The host's own
    /// facts (payer, patient, payment outside Stripe) are kept.
    ///
    /// # Errors
    /// [`super::SyncError::InvoiceNotRaised`], Stripe and store errors.
    pub async fn resync_invoice(&self, host_invoice_id: &str) -> Result<InvoiceRecord, Error> {
        let mirror = self.require_mirror(host_invoice_id).await?;
        if mirror.status == InvoiceStatus::Deleted {
            return Ok(InvoiceRecord::from_row(&mirror)?);
        }
        let fetched = self
            .inner
            .client
            .invoices()
            .retrieve(&mirror.stripe_invoice_id, &self.context(None))
            .await;
        let now = self.now();
        let invoice = match fetched {
            Ok(invoice) => invoice,
            Err(error) if error.status() == Some(404) && mirror.status == InvoiceStatus::Draft => {
                let stripe_invoice_id = mirror.stripe_invoice_id.clone();
                let (_, after) = self
                    .update_mirror(host_invoice_id, |current| {
                        mark_deleted(current?, &stripe_invoice_id, now)
                    })
                    .await?;
                return Ok(InvoiceRecord::from_row(&after.unwrap_or(mirror))?);
            }
            Err(error) => return Err(error.into()),
        };
        // A row that mirrors another Stripe invoice by now (a new raise) is left as it is.
        let (_, after) = self
            .absorb_invoice(
                host_invoice_id,
                &invoice,
                now,
                None,
                MergePolicy::Authoritative,
            )
            .await?;
        Ok(InvoiceRecord::from_row(&after)?)
    }

    /// Re-syncs every known invoice that has an `invoice.*` event created at or after
    /// `since` (unix seconds), each fetched once, newest events first. Invoices
    /// billbridge does not know are skipped. Returns the records re-synced.
    ///
    /// # Errors
    /// Stripe and store errors (the records re-synced before the error are kept).
    pub async fn resync_changed_since(&self, since: i64) -> Result<Vec<InvoiceRecord>, Error> {
        let params = vec![
            ("created[gte]".to_owned(), since.to_string()),
            ("type".to_owned(), "invoice.*".to_owned()),
            ("limit".to_owned(), "100".to_owned()),
        ];
        let mut pager: Pager<Event> = Pager::list(
            &self.inner.client,
            "/v1/events",
            params,
            &self.context(None),
        );
        let mut seen = BTreeSet::new();
        let mut hosts = Vec::new();
        while let Some(page) = pager.next_page().await? {
            for event in page {
                let EventObject::Invoice(invoice) = &event.data.object else {
                    continue;
                };
                if !seen.insert(invoice.id.clone()) {
                    continue;
                }
                if let Some(link) = self
                    .inner
                    .store
                    .invoice_link_by_stripe_id(self.account(), &invoice.id)
                    .await?
                {
                    hosts.push(link.host_invoice_id);
                }
            }
        }
        let mut records = Vec::with_capacity(hosts.len());
        for host in hosts {
            records.push(self.resync_invoice(&host).await?);
        }
        Ok(records)
    }
}

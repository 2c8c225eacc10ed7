//! Webhooks: [`Billbridge::handle_webhook`] verifies a delivery on its raw bytes,
//! claims its event id in the store (Stripe delivers at least once), folds the invoice
//! snapshot into the mirror without ever moving a status backwards (deliveries arrive
//! in any order), and tells the host what changed. Unknown event types and events for
//! invoices billbridge does not know are acknowledged and ignored; an invoice raised
//! elsewhere for a known customer with a host invoice id in its metadata is adopted.

use serde::{Deserialize, Serialize};

use super::bridge::Billbridge;
use super::error::SyncError;
use crate::domain::money::Money;
use crate::domain::status::InvoiceStatus;
use crate::error::Error;
use crate::mirror::{
    HostFacts, HostIdKeys, InvoiceRecord, MergePolicy, mark_deleted, row_from_stripe,
};
use crate::store::{InvoiceLink, InvoiceMirror, PartyKind};
use crate::stripe::models::{Event, EventObject, EventType, Invoice};
use crate::stripe::webhook::construct_event;

/// What became of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookDisposition {
    /// The event was applied (its changes, possibly none, are listed).
    Applied,
    /// The event was already handled: a repeated delivery, nothing done.
    Duplicate,
    /// Acknowledged and ignored: a type billbridge does not follow, another account's
    /// event, or an object it does not know.
    Ignored,
}

crate::vocabulary!(WebhookDisposition, "webhook disposition", "unknown_webhook_disposition", {
    WebhookDisposition::Applied => "applied",
    WebhookDisposition::Duplicate => "duplicate",
    WebhookDisposition::Ignored => "ignored",
});

/// A change the host may want to act on, reported by [`Billbridge::handle_webhook`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum WebhookChange {
    /// The invoice moved to another status.
    InvoiceStatusChanged {
        /// The host's id of the invoice.
        host_invoice_id: String,
        /// The status before.
        from: InvoiceStatus,
        /// The status now.
        to: InvoiceStatus,
    },
    /// The invoice is now paid.
    InvoicePaid {
        /// The host's id of the invoice.
        host_invoice_id: String,
        /// What was paid.
        amount_paid: Money,
    },
    /// Amounts changed without a status change (a partial payment, say).
    InvoiceAmountsChanged {
        /// The host's id of the invoice.
        host_invoice_id: String,
        /// What the invoice asks.
        amount_due: Money,
        /// What was paid so far.
        amount_paid: Money,
        /// What is left.
        amount_remaining: Money,
    },
    /// Stripe sent a status this version of billbridge does not know. The host's record
    /// keeps its last known status; re-sync later, or upgrade billbridge.
    InvoiceStatusUnrecognised {
        /// The host's id of the invoice.
        host_invoice_id: String,
        /// The status kept.
        status: InvoiceStatus,
        /// Stripe's value, as Stripe spelled it.
        stripe_status: String,
    },
    /// The invoice's draft was deleted in Stripe.
    InvoiceDeleted {
        /// The host's id of the invoice.
        host_invoice_id: String,
    },
    /// A linked customer was updated in Stripe (in the dashboard, say).
    CustomerUpdated {
        /// Patient or organisation.
        party_kind: PartyKind,
        /// The host's id of the party.
        host_party_id: String,
        /// Stripe's customer id.
        stripe_customer_id: String,
    },
}

impl WebhookChange {
    /// The change's stable word, as its serde tag says: `invoice_status_changed`,
    /// `invoice_paid`, `invoice_amounts_changed`, `invoice_status_unrecognised`,
    /// `invoice_deleted` or `customer_updated`.
    pub fn kind(&self) -> &'static str {
        match self {
            WebhookChange::InvoiceStatusChanged { .. } => "invoice_status_changed",
            WebhookChange::InvoicePaid { .. } => "invoice_paid",
            WebhookChange::InvoiceAmountsChanged { .. } => "invoice_amounts_changed",
            WebhookChange::InvoiceStatusUnrecognised { .. } => "invoice_status_unrecognised",
            WebhookChange::InvoiceDeleted { .. } => "invoice_deleted",
            WebhookChange::CustomerUpdated { .. } => "customer_updated",
        }
    }

    /// The host invoice the change is about, for invoice changes.
    pub fn host_invoice_id(&self) -> Option<&str> {
        match self {
            WebhookChange::InvoiceStatusChanged {
                host_invoice_id, ..
            }
            | WebhookChange::InvoicePaid {
                host_invoice_id, ..
            }
            | WebhookChange::InvoiceAmountsChanged {
                host_invoice_id, ..
            }
            | WebhookChange::InvoiceStatusUnrecognised {
                host_invoice_id, ..
            }
            | WebhookChange::InvoiceDeleted { host_invoice_id } => Some(host_invoice_id),
            WebhookChange::CustomerUpdated { .. } => None,
        }
    }
}

/// The result of handling one delivery. Answer Stripe with 2xx whenever this is `Ok`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookOutcome {
    /// The event id (`evt_…`).
    pub event_id: String,
    /// The event type as Stripe names it (`invoice.paid`).
    pub event_type: String,
    /// Applied, duplicate or ignored.
    pub disposition: WebhookDisposition,
    /// What changed for the host.
    pub changes: Vec<WebhookChange>,
}

/// The changes between two records of one invoice.
pub(crate) fn record_changes(
    before: Option<&InvoiceRecord>,
    after: &InvoiceRecord,
) -> Vec<WebhookChange> {
    let host_invoice_id = after.host_invoice_id.clone();
    let mut changes = Vec::new();
    if let Some(raw) = &after.unrecognised_status
        && before.and_then(|before| before.unrecognised_status.as_ref()) != Some(raw)
    {
        changes.push(WebhookChange::InvoiceStatusUnrecognised {
            host_invoice_id: host_invoice_id.clone(),
            status: after.status.clone(),
            stripe_status: raw.clone(),
        });
    }
    let status_before = before.map(|record| record.status.clone());
    if status_before.as_ref() != Some(&after.status) {
        if let Some(from) = status_before {
            changes.push(WebhookChange::InvoiceStatusChanged {
                host_invoice_id: host_invoice_id.clone(),
                from,
                to: after.status.clone(),
            });
        }
        match after.status {
            InvoiceStatus::Paid => changes.push(WebhookChange::InvoicePaid {
                host_invoice_id,
                amount_paid: after.amount_paid,
            }),
            InvoiceStatus::Deleted => {
                changes.push(WebhookChange::InvoiceDeleted { host_invoice_id });
            }
            _ => {}
        }
    } else if let Some(before) = before
        && (
            before.amount_due,
            before.amount_paid,
            before.amount_remaining,
        ) != (after.amount_due, after.amount_paid, after.amount_remaining)
    {
        changes.push(WebhookChange::InvoiceAmountsChanged {
            host_invoice_id,
            amount_due: after.amount_due,
            amount_paid: after.amount_paid,
            amount_remaining: after.amount_remaining,
        });
    }
    changes
}

/// The changes between two rows of one invoice, as the host's records see them.
fn row_changes(
    before: Option<&InvoiceMirror>,
    after: &InvoiceMirror,
) -> Result<Vec<WebhookChange>, Error> {
    let before = before.map(InvoiceRecord::from_row).transpose()?;
    Ok(record_changes(
        before.as_ref(),
        &InvoiceRecord::from_row(after)?,
    ))
}

impl Billbridge {
    /// Handles one webhook delivery: `raw_body` exactly as received, `signature_header`
    /// the `Stripe-Signature` header.
    ///
    /// Verified before anything is parsed; claimed by event id so a repeated delivery
    /// is reported as [`WebhookDisposition::Duplicate`] and changes nothing; applied to
    /// the mirror so that a status never moves backwards (a late `invoice.finalized`
    /// after `invoice.paid` leaves the invoice paid). If applying fails, the claim is
    /// released so Stripe's retry is processed.
    ///
    /// # Errors
    /// [`SyncError::NoWebhookSecret`]; a webhook error for a missing, malformed,
    /// forged or stale signature or a body that is not an event (answer 400); store
    /// errors (answer 5xx so Stripe retries).
    pub async fn handle_webhook(
        &self,
        raw_body: &[u8],
        signature_header: Option<&str>,
    ) -> Result<WebhookOutcome, Error> {
        let secret = self
            .inner
            .webhook_secret
            .as_ref()
            .ok_or(SyncError::NoWebhookSecret)?;
        let event = construct_event(
            raw_body,
            signature_header,
            secret,
            self.inner.webhook_tolerance,
            self.inner.webhook_clock.now_unix(),
        )?;
        let outcome = |disposition, changes| WebhookOutcome {
            event_id: event.id.clone(),
            event_type: event.event_type.as_str().to_owned(),
            disposition,
            changes,
        };
        let ours = event
            .account
            .as_deref()
            .filter(|account| !account.is_empty())
            == self.account();
        let followed = matches!(
            (&event.event_type, &event.data.object),
            (EventType::CustomerUpdated, EventObject::Customer(_)) | (_, EventObject::Invoice(_))
        );
        if !ours || !followed {
            return Ok(outcome(WebhookDisposition::Ignored, Vec::new()));
        }
        let store = &self.inner.store;
        if !store
            .mark_event_processed(self.account(), &event.id)
            .await?
        {
            return Ok(outcome(WebhookDisposition::Duplicate, Vec::new()));
        }
        let applied = self.apply_event(&event).await;
        if applied.is_ok() {
            // Ends the claim's lease where the store keeps one. Ignoring a failure is
            // safe: the event is applied, and a redelivery after the lease merges the same
            // snapshot again, which the monotonic merge turns into no change.
            let _ = store.complete_event(self.account(), &event.id).await;
        }
        match applied {
            Ok(Some(changes)) => Ok(outcome(WebhookDisposition::Applied, changes)),
            Ok(None) => Ok(outcome(WebhookDisposition::Ignored, Vec::new())),
            Err(error) => {
                // Let Stripe's next delivery try again; the original error matters more
                // than a failure to release the claim.
                let _ = store.forget_event(self.account(), &event.id).await;
                Err(error)
            }
        }
    }

    /// Applies a verified, claimed event; `None` when it concerns nothing billbridge
    /// knows.
    async fn apply_event(&self, event: &Event) -> Result<Option<Vec<WebhookChange>>, Error> {
        match &event.data.object {
            EventObject::Customer(customer) => {
                let link = self
                    .inner
                    .store
                    .customer_link_by_stripe_id(self.account(), &customer.id)
                    .await?;
                Ok(link.map(|link| {
                    vec![WebhookChange::CustomerUpdated {
                        party_kind: link.party_kind,
                        host_party_id: link.host_party_id,
                        stripe_customer_id: link.stripe_customer_id,
                    }]
                }))
            }
            EventObject::Invoice(invoice) => {
                let Some(host) = self.host_invoice_for(invoice, event.created).await? else {
                    return Ok(None);
                };
                if event.event_type != EventType::InvoiceDeleted
                    && self.raise_in_progress(&host, &invoice.id).await?
                {
                    // The raise writes the record once the lines are in: the bare draft's
                    // amounts are not what the host billed.
                    return Ok(Some(Vec::new()));
                }
                let (before, after) = if event.event_type == EventType::InvoiceDeleted {
                    let (before, after) = self
                        .update_mirror(&host, |current| {
                            mark_deleted(current?, &invoice.id, event.created)
                        })
                        .await?;
                    match after {
                        Some(after) => (before, after),
                        None => return Ok(Some(Vec::new())),
                    }
                } else if self
                    .same_second_conflict(&host, invoice, event.created)
                    .await?
                {
                    // Stripe's times are whole seconds: two different snapshots with the
                    // same status and second cannot be ordered by them (a late
                    // `invoice.created` of a draft whose lines the host already holds),
                    // so Stripe itself says which is current.
                    let current = self
                        .inner
                        .client
                        .invoices()
                        .retrieve(&invoice.id, &self.context(None))
                        .await?;
                    self.absorb_invoice(
                        &host,
                        &current,
                        event.created,
                        None,
                        MergePolicy::Authoritative,
                    )
                    .await?
                } else {
                    self.absorb_invoice(&host, invoice, event.created, None, MergePolicy::Monotonic)
                        .await?
                };
                Ok(Some(row_changes(before.as_ref(), &after)?))
            }
            _ => Ok(None),
        }
    }

    /// The host invoice a Stripe invoice belongs to: by the id map, or adopted when its
    /// metadata names a host invoice id that has no invoice yet and its customer is
    /// linked.
    async fn host_invoice_for(&self, invoice: &Invoice, at: i64) -> Result<Option<String>, Error> {
        let store = &self.inner.store;
        if let Some(link) = store
            .invoice_link_by_stripe_id(self.account(), &invoice.id)
            .await?
        {
            return Ok(Some(link.host_invoice_id));
        }
        let keys = HostIdKeys::from_policy(&self.inner.policy);
        let Some(host) = keys.host_invoice_id(invoice) else {
            return Ok(None);
        };
        if store.invoice_link(self.account(), host).await?.is_some() {
            return Ok(None);
        }
        let Some(customer_id) = invoice
            .customer
            .as_ref()
            .map(|customer| customer.id().to_owned())
        else {
            return Ok(None);
        };
        let Some(customer) = store
            .customer_link_by_stripe_id(self.account(), &customer_id)
            .await?
        else {
            return Ok(None);
        };
        store
            .put_invoice_link(&InvoiceLink {
                account: self.inner.account.clone(),
                host_invoice_id: host.to_owned(),
                stripe_invoice_id: invoice.id.clone(),
            })
            .await?;
        let facts = HostFacts::recover(invoice, &keys, Some(&customer));
        self.absorb_invoice(host, invoice, at, Some(&facts), MergePolicy::Monotonic)
            .await?;
        Ok(Some(host.to_owned()))
    }

    /// Whether `invoice`, in an event of second `at`, differs from the record of `host`
    /// that was current at that same second with the same status: neither is provably
    /// newer.
    async fn same_second_conflict(
        &self,
        host: &str,
        invoice: &Invoice,
        at: i64,
    ) -> Result<bool, Error> {
        let Some(current) = self
            .inner
            .store
            .invoice_mirror(self.account(), host)
            .await?
        else {
            return Ok(false);
        };
        if current.stripe_invoice_id != invoice.id || current.stripe_updated_at != at {
            return Ok(false);
        }
        let snapshot = row_from_stripe(self.account(), host, invoice, at, &HostFacts::of(&current));
        Ok(snapshot.status == current.status && snapshot != current)
    }

    /// Whether `stripe_invoice_id` is the draft of a raise of `host` that has not added
    /// its lines yet.
    async fn raise_in_progress(&self, host: &str, stripe_invoice_id: &str) -> Result<bool, Error> {
        let checkpoint = self
            .inner
            .store
            .raise_checkpoint(self.account(), host)
            .await?;
        Ok(checkpoint.is_some_and(|checkpoint| {
            checkpoint.lines_added.is_empty()
                && checkpoint.stripe_invoice_id.as_deref() == Some(stripe_invoice_id)
        }))
    }

    /// The host's record after a webhook, for hosts that want it at once.
    ///
    /// # Errors
    /// A store error.
    pub async fn invoice_after_webhook(
        &self,
        change: &WebhookChange,
    ) -> Result<Option<InvoiceRecord>, Error> {
        match change.host_invoice_id() {
            Some(host_invoice_id) => self.invoice(host_invoice_id).await,
            None => Ok(None),
        }
    }
}

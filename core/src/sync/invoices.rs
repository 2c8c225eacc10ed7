//! Actions on raised invoices: edit a draft, finalize, send, mark paid outside Stripe,
//! void, mark uncollectible, delete a draft, re-send metadata, and read the host's
//! record. Each action first checks the domain state machine against the mirror: an
//! illegal transition is a typed error and nothing is sent.

use super::bridge::{Billbridge, invoice_subject};
use super::raise::invoice_fields;
use super::reconcile::write_once;
use super::records::Raise;
use crate::domain::invoice::InvoiceDraft;
use crate::domain::metadata::{MetadataTarget, diff_managed};
use crate::domain::party::Patient;
use crate::domain::status::{IllegalTransition, InvoiceAction, InvoiceStatus};
use crate::error::Error;
use crate::mirror::{HostFacts, InvoiceRecord, PaidOutside, mark_deleted};
use crate::store::InvoiceMirror;
use crate::stripe::client::{PayInvoice, UpdateInvoice};
use crate::stripe::models::Invoice;

impl Billbridge {
    /// The host's record of an invoice, if it was raised.
    ///
    /// # Errors
    /// A store error.
    pub async fn invoice(&self, host_invoice_id: &str) -> Result<Option<InvoiceRecord>, Error> {
        let row = self
            .inner
            .store
            .invoice_mirror(self.account(), host_invoice_id)
            .await?;
        Ok(row.as_ref().map(InvoiceRecord::from_row).transpose()?)
    }

    /// Checks `action` against the mirror's status; returns the mirror and the draft
    /// revision its Stripe invoice was raised at (part of the action's key).
    async fn allow(
        &self,
        host_invoice_id: &str,
        action: InvoiceAction,
    ) -> Result<(InvoiceMirror, String), Error> {
        let mirror = self.require_mirror(host_invoice_id).await?;
        mirror.status.apply(action)?;
        let revision = self
            .inner
            .store
            .raise_checkpoint(self.account(), host_invoice_id)
            .await?
            .map_or(0, |checkpoint| checkpoint.draft_revision);
        Ok((mirror, revision.to_string()))
    }

    async fn record(
        &self,
        mirror: &InvoiceMirror,
        invoice: &Invoice,
    ) -> Result<InvoiceRecord, Error> {
        self.record_after_action(
            &mirror.host_invoice_id,
            invoice,
            Some(&HostFacts::of(mirror)),
        )
        .await
    }

    /// Finalizes a draft: Stripe assigns its number, payment page and PDF and applies
    /// the payer's balance.
    ///
    /// # Errors
    /// [`IllegalTransition`] unless the invoice is a draft (nothing sent),
    /// [`super::SyncError::RaiseIncomplete`] when raising it stopped before its lines
    /// were added, Stripe and store errors.
    pub async fn finalize(&self, host_invoice_id: &str) -> Result<InvoiceRecord, Error> {
        let (mirror, revision) = self.allow(host_invoice_id, InvoiceAction::Finalize).await?;
        let store = &self.inner.store;
        let checkpoint = store
            .raise_checkpoint(self.account(), host_invoice_id)
            .await?;
        if checkpoint
            .as_ref()
            .is_some_and(|checkpoint| checkpoint.lines_added.is_empty())
        {
            return Err(super::SyncError::RaiseIncomplete {
                host_invoice_id: host_invoice_id.to_owned(),
            }
            .into());
        }
        let invoices = self.inner.client.invoices();
        let stripe_id = mirror.stripe_invoice_id.as_str();
        let invoice = write_once!(
            self,
            &invoice_subject(host_invoice_id),
            "invoice.finalize",
            &revision,
            |context| invoices.finalize(stripe_id, None, &context),
            found: self.invoice_showing(stripe_id, super::raise::is_finalized),
        )?;
        if let Some(mut checkpoint) = checkpoint {
            checkpoint.finalized = true;
            store.put_raise_checkpoint(&checkpoint).await?;
        }
        self.record(&mirror, &invoice).await
    }

    /// Sends a finalized invoice to its payer (Stripe emails the payment link).
    ///
    /// # Errors
    /// [`IllegalTransition`] unless the invoice is open (nothing sent), Stripe and
    /// store errors.
    pub async fn send(&self, host_invoice_id: &str) -> Result<InvoiceRecord, Error> {
        let (mirror, revision) = self.allow(host_invoice_id, InvoiceAction::Send).await?;
        let invoices = self.inner.client.invoices();
        let invoice = write_once!(
            self,
            &invoice_subject(host_invoice_id),
            "invoice.send",
            &revision,
            |context| invoices.send(&mirror.stripe_invoice_id, &context),
            // Whether the email went out does not show on the invoice; a second
            // email is better than none.
            found: std::future::ready(Ok(None)),
        )?;
        let store = &self.inner.store;
        if let Some(mut checkpoint) = store
            .raise_checkpoint(self.account(), host_invoice_id)
            .await?
        {
            checkpoint.sent = true;
            store.put_raise_checkpoint(&checkpoint).await?;
        }
        self.record(&mirror, &invoice).await
    }

    /// Records that an open or uncollectible invoice was paid outside Stripe (cash,
    /// cheque, bank transfer, insurance, …): Stripe marks it paid with no charge, the
    /// method, reference and the date given go onto the invoice's metadata, and the
    /// mirror keeps the method, reference and day received (`paid_on`, or today by the
    /// bridge's clock when not given), which payment reports date the payment by.
    ///
    /// # Errors
    /// [`IllegalTransition`] unless the invoice is open or uncollectible (nothing
    /// sent), a date error when no day is given and the clock reads outside the
    /// supported calendar, Stripe and store errors.
    pub async fn mark_paid_outside_stripe(
        &self,
        host_invoice_id: &str,
        payment: &PaidOutside,
    ) -> Result<InvoiceRecord, Error> {
        let (mirror, revision) = self
            .allow(host_invoice_id, InvoiceAction::MarkPaidOutOfBand)
            .await?;
        let paid_on = match payment.paid_on {
            Some(day) => day,
            None => self.today()?,
        };
        let subject = invoice_subject(host_invoice_id);
        let invoices = self.inner.client.invoices();
        let stripe_id = mirror.stripe_invoice_id.as_str();
        write_once!(
            self,
            &subject,
            "invoice.pay_outside",
            &revision,
            |context| invoices.pay(stripe_id, &PayInvoice::out_of_band(), &context),
            found: self.invoice_showing(stripe_id, |invoice| {
                invoice.status == Some(InvoiceStatus::Paid)
            }),
        )?;
        let update = UpdateInvoice {
            metadata: payment.to_metadata(),
            ..UpdateInvoice::default()
        };
        let invoice = write_once!(
            self,
            &subject,
            "invoice.paid_outside_metadata",
            &revision,
            |context| invoices.update(stripe_id, &update, &context),
            found: std::future::ready(Ok(None)),
        )?;
        let outside = PaidOutside {
            paid_on: Some(paid_on),
            ..payment.clone()
        }
        .to_stored();
        let facts = HostFacts {
            paid_outside: Some(outside.clone()),
            ..HostFacts::of(&mirror)
        };
        self.record_after_action(host_invoice_id, &invoice, Some(&facts))
            .await?;
        // The payment is the host's fact: it holds whatever the merge decided.
        let (_, after) = self
            .update_mirror(host_invoice_id, |current| {
                let current = current?;
                (current.paid_outside.as_ref() != Some(&outside)).then(|| InvoiceMirror {
                    paid_outside: Some(outside.clone()),
                    ..current.clone()
                })
            })
            .await?;
        let after = after.unwrap_or(mirror);
        Ok(InvoiceRecord::from_row(&after)?)
    }

    /// Voids an open or uncollectible invoice: nothing is owed any more, and Stripe
    /// returns any balance it applied to the payer.
    ///
    /// # Errors
    /// [`IllegalTransition`] otherwise (nothing sent), Stripe and store errors.
    pub async fn void(&self, host_invoice_id: &str) -> Result<InvoiceRecord, Error> {
        let (mirror, revision) = self.allow(host_invoice_id, InvoiceAction::Void).await?;
        let invoices = self.inner.client.invoices();
        let stripe_id = mirror.stripe_invoice_id.as_str();
        let invoice = write_once!(
            self,
            &invoice_subject(host_invoice_id),
            "invoice.void",
            &revision,
            |context| invoices.void(stripe_id, &context),
            found: self.invoice_showing(stripe_id, |invoice| {
                invoice.status == Some(InvoiceStatus::Void)
            }),
        )?;
        self.record(&mirror, &invoice).await
    }

    /// Marks an open invoice uncollectible (it can still be paid or voided later).
    ///
    /// # Errors
    /// [`IllegalTransition`] unless the invoice is open (nothing sent), Stripe and
    /// store errors.
    pub async fn mark_uncollectible(&self, host_invoice_id: &str) -> Result<InvoiceRecord, Error> {
        let (mirror, revision) = self
            .allow(host_invoice_id, InvoiceAction::MarkUncollectible)
            .await?;
        let invoices = self.inner.client.invoices();
        let stripe_id = mirror.stripe_invoice_id.as_str();
        let invoice = write_once!(
            self,
            &invoice_subject(host_invoice_id),
            "invoice.mark_uncollectible",
            &revision,
            |context| invoices.mark_uncollectible(stripe_id, &context),
            found: self.invoice_showing(stripe_id, |invoice| {
                invoice.status == Some(InvoiceStatus::Uncollectible)
            }),
        )?;
        self.record(&mirror, &invoice).await
    }

    /// Deletes a draft in Stripe. The host's record is kept with status
    /// [`InvoiceStatus::Deleted`]; raising the host invoice again needs a new draft
    /// revision.
    ///
    /// # Errors
    /// [`IllegalTransition`] unless the invoice is a draft (nothing sent), Stripe and
    /// store errors.
    pub async fn delete_draft(&self, host_invoice_id: &str) -> Result<InvoiceRecord, Error> {
        let (mirror, _) = self.allow(host_invoice_id, InvoiceAction::Delete).await?;
        self.delete_stripe_draft(&mirror.stripe_invoice_id).await?;
        let now = self.now();
        let stripe_invoice_id = mirror.stripe_invoice_id.clone();
        let (_, after) = self
            .update_mirror(host_invoice_id, |current| {
                mark_deleted(current?, &stripe_invoice_id, now)
            })
            .await?;
        Ok(InvoiceRecord::from_row(&after.unwrap_or(mirror))?)
    }

    /// Applies an edited draft to its Stripe draft. Memo, footer and metadata changes
    /// are sent as an update; a new draft revision (lines changed) replaces the Stripe
    /// draft with one raised from the new revision, since a draft has no number yet.
    ///
    /// # Errors
    /// [`IllegalTransition`] unless the invoice is a draft (nothing sent), then as
    /// [`Billbridge::raise_invoice`].
    pub async fn edit_draft(
        &self,
        draft: &InvoiceDraft,
        patient: Option<&Patient>,
    ) -> Result<InvoiceRecord, Error> {
        let prepared = self.prepare(draft, patient, false).await?;
        let (mirror, revision) = self.allow(&prepared.host, InvoiceAction::EditLines).await?;
        if revision != prepared.revision.to_string() {
            return self.raise_invoice(draft, patient, Raise::Draft).await;
        }
        let diff = diff_managed(&mirror.metadata, &prepared.metadata, &self.inner.policy);
        let update = UpdateInvoice {
            description: Some(draft.memo.clone().unwrap_or_default()),
            footer: Some(draft.footer.clone().unwrap_or_default()),
            metadata: diff
                .as_map()
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            ..UpdateInvoice::default()
        };
        self.send_update(&mirror, &update, "invoice.edit").await
    }

    /// Sends the invoice's metadata again under the current policy: keys of fields
    /// switched off since are deleted, changed values replaced. Works in any status
    /// (Stripe keeps metadata editable); nothing is sent when nothing changed.
    ///
    /// # Errors
    /// [`super::SyncError::InvoiceNotRaised`], metadata, Stripe and store errors.
    pub async fn sync_invoice_metadata(
        &self,
        draft: &InvoiceDraft,
        patient: Option<&Patient>,
    ) -> Result<InvoiceRecord, Error> {
        let host = draft
            .host_id
            .as_ref()
            .ok_or(super::SyncError::MissingInvoiceId)?
            .as_str();
        let mirror = self.require_mirror(host).await?;
        if mirror.status == InvoiceStatus::Deleted {
            return Err(IllegalTransition {
                from: mirror.status.clone(),
                action: InvoiceAction::EditLines,
            }
            .into());
        }
        let payer = self.resolve_payer(draft).await?;
        let wanted = self.inner.policy.render(
            MetadataTarget::Invoice,
            &invoice_fields(draft, patient, &payer, host),
        )?;
        let diff = diff_managed(&mirror.metadata, &wanted, &self.inner.policy);
        if diff.is_empty() {
            return Ok(InvoiceRecord::from_row(&mirror)?);
        }
        let update = UpdateInvoice {
            metadata: diff
                .as_map()
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            ..UpdateInvoice::default()
        };
        self.send_update(&mirror, &update, "invoice.metadata").await
    }

    /// Sends an invoice update under a key derived from its content, so a re-run
    /// repeats it and a different update never collides with it.
    async fn send_update(
        &self,
        mirror: &InvoiceMirror,
        update: &UpdateInvoice,
        operation: &str,
    ) -> Result<InvoiceRecord, Error> {
        let flat: Vec<u8> = update
            .to_form()
            .encode()
            .iter()
            .flat_map(|(key, value)| key.bytes().chain([0]).chain(value.bytes()).chain([0]))
            .collect();
        let revision = self
            .inner
            .keys
            .digest(&[mirror.stripe_invoice_id.as_bytes(), &flat]);
        let invoices = self.inner.client.invoices();
        // Sending an update again is harmless.
        let invoice = write_once!(
            self,
            &invoice_subject(&mirror.host_invoice_id),
            operation,
            &revision,
            |context| invoices.update(&mirror.stripe_invoice_id, update, &context),
            found: std::future::ready(Ok(None)),
        )?;
        self.record(mirror, &invoice).await
    }
}

//! Raising an invoice from a host draft, exactly once and resumably: create the invoice
//! (metadata from the policy) → add every line in one `add_lines` call (atomic, so there
//! is never a partial invoice) → check that Stripe's total and line count match the
//! draft → finalize → send. Each step's idempotency key is derived from (account, host
//! invoice id, operation, draft revision), and a checkpoint is written to the store after
//! each step, so a crash or error after any step followed by a re-run finishes the same
//! invoice instead of creating a second one or adding lines twice. An invoice whose
//! lines do not match the draft is never finalized.

use super::bridge::{Billbridge, invoice_subject, payer_kind};
use super::customers::patient_fields;
use super::error::SyncError;
use super::reconcile::write_once;
use super::records::{InvoiceRecord, Raise};
use crate::domain::invoice::{CollectionMethod, Due, InvoiceDraft, InvoiceLine, LineSource};
use crate::domain::metadata::{Field, FieldValues, MetadataError, MetadataMap, MetadataTarget};
use crate::domain::money::Money;
use crate::domain::party::{Patient, PayerRef};
use crate::error::Error;
use crate::mirror::{HostFacts, MergePolicy, mark_deleted, merge, row_from_stripe};
use crate::store::{AddedLine, CustomerLink, InvoiceLink, RaiseCheckpoint};
use crate::stripe::client::{CreateInvoice, InvoiceLineParams, LinePricing, ProductRef};
use crate::stripe::models::{CollectionMethod as WireCollection, Invoice, InvoiceStatus, Period};

/// Everything checked and looked up before the first request of a raise.
pub(crate) struct Prepared {
    pub(crate) host: String,
    pub(crate) revision: u64,
    pub(crate) total: Money,
    pub(crate) customer: CustomerLink,
    pub(crate) metadata: MetadataMap,
    pub(crate) facts: HostFacts,
}

/// The host fields of an invoice: the patient's (when given), the appointment's, and
/// the host ids of patient, payer and invoice.
pub(crate) fn invoice_fields(
    draft: &InvoiceDraft,
    patient: Option<&Patient>,
    payer: &PayerRef,
    host_invoice_id: &str,
) -> FieldValues {
    let mut values = patient.map(patient_fields).unwrap_or_default();
    if let Some(subject) = &draft.subject {
        values.set(Field::HostPatientId, subject.as_str());
    }
    values.set(Field::HostPayerId, payer.host_id());
    values.set(Field::HostInvoiceId, host_invoice_id);
    if let Some(context) = &draft.context {
        if let Some(location) = &context.location {
            values.set(Field::AppointmentLocation, location.name.clone());
        }
        if let Some(practitioner) = &context.practitioner {
            values.set(Field::AppointmentPractitioner, practitioner.name.clone());
        }
        if let Some(text) = &context.billing_and_collection {
            values.set(Field::BillingAndCollection, text.clone());
        }
    }
    values
}

/// A draft line as an `add_lines` entry: a catalogue price when the item has one, else
/// the unit amount on the item's product, else an ad-hoc product named after the line.
/// A credit line (negative unit amount) goes as a flat negative amount for the whole
/// line, Stripe's documented way to reduce an invoice: prices cannot be negative.
fn line_params(line: &InvoiceLine) -> Result<InvoiceLineParams, Error> {
    let unit_amount = line.unit_amount.stripe_amount()?;
    let currency = line.unit_amount.currency().code().to_owned();
    if unit_amount < 0 {
        let amount = line.amount()?.stripe_amount()?;
        return Ok(priced(line, LinePricing::Amount(amount)));
    }
    let ad_hoc = || LinePricing::PriceData {
        currency: currency.clone(),
        product: ProductRef::Data {
            name: line.description.clone(),
        },
        unit_amount,
    };
    let pricing = match &line.source {
        LineSource::Catalogue {
            stripe_price: Some(price),
            ..
        } => LinePricing::Price(price.clone()),
        LineSource::Catalogue {
            stripe_product: Some(product),
            ..
        } => LinePricing::PriceData {
            currency: currency.clone(),
            product: ProductRef::Id(product.clone()),
            unit_amount,
        },
        _ => ad_hoc(),
    };
    Ok(priced(line, pricing))
}

/// The line's text, quantity, metadata and service period, priced by `pricing`.
fn priced(line: &InvoiceLine, pricing: LinePricing) -> InvoiceLineParams {
    let period = line.service_date.map(|date| {
        let (start, end) = date.bounds();
        Period {
            start: start.to_unix_timestamp(),
            end: end.to_unix_timestamp(),
        }
    });
    InvoiceLineParams {
        description: Some(line.description.clone()),
        quantity: Some(u64::from(line.quantity)),
        metadata: line
            .metadata
            .iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
        period,
        pricing,
    }
}

impl Billbridge {
    /// Checks a draft and looks up its payer's customer: nothing is sent before this
    /// succeeds.
    pub(crate) async fn prepare(
        &self,
        draft: &InvoiceDraft,
        patient: Option<&Patient>,
        payer_is_final: bool,
    ) -> Result<Prepared, Error> {
        let host = draft
            .host_id
            .as_ref()
            .ok_or(SyncError::MissingInvoiceId)?
            .as_str()
            .to_owned();
        let total = draft.validate()?;
        draft.validate_due_date(self.today()?)?;
        if let (Some(patient), Some(subject)) = (patient, &draft.subject)
            && patient.id != *subject
        {
            return Err(SyncError::PatientMismatch {
                given: patient.id.to_string(),
                expected: subject.to_string(),
            }
            .into());
        }
        let payer = if payer_is_final {
            draft.payer.clone()
        } else {
            self.resolve_payer(draft).await?
        };
        let customer = self.require_customer(&payer).await?;
        let metadata = self.inner.policy.render(
            MetadataTarget::Invoice,
            &invoice_fields(draft, patient, &payer, &host),
        )?;
        // A line's own metadata cannot carry a key the policy manages: a field switched
        // off must not come back through a line.
        for line in &draft.lines {
            if let Some(key) = line
                .metadata
                .iter()
                .map(|(key, _)| key)
                .find(|key| self.inner.policy.manages_key(key))
            {
                return Err(MetadataError::DuplicateKey {
                    target: MetadataTarget::Invoice,
                    key: key.to_owned(),
                }
                .into());
            }
        }
        let facts = HostFacts {
            payer_kind: payer_kind(&payer),
            payer_host_id: payer.host_id().to_owned(),
            patient_host_id: draft
                .subject
                .as_ref()
                .map(|subject| subject.as_str().to_owned())
                .or_else(|| patient.map(|patient| patient.id.as_str().to_owned())),
            paid_outside: None,
        };
        Ok(Prepared {
            host,
            revision: u64::from(draft.revision),
            total,
            customer,
            metadata,
            facts,
        })
    }

    fn create_params(&self, draft: &InvoiceDraft, prepared: &Prepared) -> CreateInvoice {
        let mut params = CreateInvoice::new(prepared.customer.stripe_customer_id.clone());
        params.currency = Some(prepared.total.currency().code().to_owned());
        let collection = match (draft.collection, self.inner.default_days_until_due) {
            (CollectionMethod::ChargeAutomatically, Some(days)) => CollectionMethod::SendInvoice {
                due: Due::DaysUntilDue(days),
            },
            (collection, _) => collection,
        };
        match collection {
            CollectionMethod::ChargeAutomatically => {
                params.collection_method = Some(WireCollection::ChargeAutomatically);
            }
            CollectionMethod::SendInvoice { due } => {
                params.collection_method = Some(WireCollection::SendInvoice);
                match due {
                    Due::DaysUntilDue(days) => params.days_until_due = Some(days),
                    Due::DueDate(date) => params.due_date = Some(date.to_unix_timestamp()),
                }
            }
        }
        // Stripe must not advance the invoice on its own: each step is ours.
        params.auto_advance = Some(false);
        params.description = draft.memo.clone();
        params.footer = draft.footer.clone();
        params.metadata = prepared
            .metadata
            .iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        params
    }

    /// Deletes a Stripe draft left by an earlier revision; one already gone is fine.
    pub(crate) async fn delete_stripe_draft(&self, stripe_invoice_id: &str) -> Result<(), Error> {
        match self
            .inner
            .client
            .invoices()
            .delete(stripe_invoice_id, &self.context(None))
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.status() == Some(404) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// After Stripe refused a draft's lines for good, removes the empty draft so that
    /// nothing is left half-raised: the Stripe draft is deleted and the host's record
    /// says [`InvoiceStatus::Deleted`] (raising it again takes a revised draft). Returns
    /// `error`, the cause; when the clean-up itself fails, the raise's checkpoint stays
    /// and a re-run meets the refusal and cleans up again.
    async fn abandon_draft(
        &self,
        host: &str,
        created: &Invoice,
        facts: &HostFacts,
        error: Error,
    ) -> Error {
        let cleanup = async {
            self.delete_stripe_draft(&created.id).await?;
            let now = self.now();
            let row = row_from_stripe(self.account(), host, created, now, facts);
            self.inner.store.put_invoice_mirror(&row).await?;
            self.update_mirror(host, |current| mark_deleted(current?, &created.id, now))
                .await?;
            Ok::<(), Error>(())
        };
        // The refusal is what the host must act on; a failed clean-up is retried by the
        // next run.
        let _ = cleanup.await;
        error
    }

    /// Raises the invoice for `draft` in Stripe and takes it as far as `mode` says:
    /// a draft with all its lines, finalized, or finalized and sent.
    ///
    /// `patient` supplies the patient fields of the invoice's metadata (name, mobile,
    /// …, as the policy allows); without it only host ids and the appointment context
    /// are sent. The payer is [`Billbridge::resolve_payer`]'s and must have been
    /// upserted. The draft needs a host id.
    ///
    /// Exactly once: running this again for the same host id and draft revision,
    /// after a crash or an error at any step, finishes the same invoice. A new
    /// revision of a draft that was not finalized replaces the Stripe draft. An
    /// invoice already complete is returned as it is (finalized if `mode` asks and it
    /// is still a draft).
    ///
    /// # Errors
    /// Before anything is sent: [`SyncError::MissingInvoiceId`], invoice validation
    /// errors, [`SyncError::PatientMismatch`], [`SyncError::CustomerNotSynced`],
    /// metadata errors, [`SyncError::InvoiceDeleted`], [`SyncError::RevisionConflict`].
    /// After: [`SyncError::TotalMismatch`] (left as a draft), Stripe and store errors
    /// (run it again).
    pub async fn raise_invoice(
        &self,
        draft: &InvoiceDraft,
        patient: Option<&Patient>,
        mode: Raise,
    ) -> Result<InvoiceRecord, Error> {
        self.raise_with(draft, patient, mode, false).await
    }

    /// [`Billbridge::raise_invoice`]; `payer_is_final` bills the draft's payer as it
    /// is, without looking up a default payer.
    pub(crate) async fn raise_with(
        &self,
        draft: &InvoiceDraft,
        patient: Option<&Patient>,
        mode: Raise,
        payer_is_final: bool,
    ) -> Result<InvoiceRecord, Error> {
        let prepared = self.prepare(draft, patient, payer_is_final).await?;
        let host = prepared.host.as_str();
        let store = &self.inner.store;
        let mirror = store.invoice_mirror(self.account(), host).await?;
        let deleted = mirror
            .as_ref()
            .is_some_and(|mirror| mirror.status == InvoiceStatus::Deleted);
        let checkpoint = store.raise_checkpoint(self.account(), host).await?;
        let fresh = || RaiseCheckpoint {
            account: self.inner.account.clone(),
            host_invoice_id: host.to_owned(),
            draft_revision: prepared.revision,
            stripe_invoice_id: None,
            lines_added: Vec::new(),
            finalized: false,
            sent: false,
        };
        let checkpoint = match checkpoint {
            Some(checkpoint) if checkpoint.draft_revision == prepared.revision => {
                if deleted {
                    return Err(SyncError::InvoiceDeleted {
                        host_invoice_id: host.to_owned(),
                        revision: prepared.revision,
                    }
                    .into());
                }
                checkpoint
            }
            Some(checkpoint) => {
                if !deleted {
                    if checkpoint.finalized {
                        return Err(SyncError::RevisionConflict {
                            host_invoice_id: host.to_owned(),
                            raised: checkpoint.draft_revision,
                            requested: prepared.revision,
                        }
                        .into());
                    }
                    if let Some(old) = &checkpoint.stripe_invoice_id {
                        self.delete_stripe_draft(old).await?;
                    }
                }
                fresh()
            }
            None => match mirror {
                Some(existing) if !deleted => {
                    // Raised without a checkpoint (adopted from a webhook): take it
                    // from where it is.
                    if mode >= Raise::Finalize && existing.status == InvoiceStatus::Draft {
                        return self.finalize(host).await;
                    }
                    return Ok(InvoiceRecord::from_row(&existing)?);
                }
                _ => fresh(),
            },
        };
        self.run_raise(draft, &prepared, checkpoint, mode).await
    }

    async fn run_raise(
        &self,
        draft: &InvoiceDraft,
        prepared: &Prepared,
        mut checkpoint: RaiseCheckpoint,
        mode: Raise,
    ) -> Result<InvoiceRecord, Error> {
        let host = prepared.host.as_str();
        let subject = invoice_subject(host);
        let revision = prepared.revision.to_string();
        let store = &self.inner.store;
        let invoices = self.inner.client.invoices();
        let mut latest: Option<Invoice> = None;

        // Step 1: the invoice itself.
        let stripe_id = match &checkpoint.stripe_invoice_id {
            Some(id) => id.clone(),
            None => {
                let params = self.create_params(draft, prepared);
                let invoice = write_once!(
                    self,
                    &subject,
                    "invoice.create",
                    &revision,
                    |context| invoices.create(&params, &context),
                    found: self.find_created_invoice(&params.customer, &params.metadata),
                )?;
                store
                    .put_invoice_link(&InvoiceLink {
                        account: self.inner.account.clone(),
                        host_invoice_id: host.to_owned(),
                        stripe_invoice_id: invoice.id.clone(),
                    })
                    .await?;
                // No record yet: the bare draft's 0.00 is not what the host billed. The
                // record appears with the lines (step 2).
                checkpoint.stripe_invoice_id = Some(invoice.id.clone());
                store.put_raise_checkpoint(&checkpoint).await?;
                let id = invoice.id.clone();
                latest = Some(invoice);
                id
            }
        };

        // Step 2: every line in one atomic call, then the totals check.
        if checkpoint.lines_added.is_empty() {
            let current = match latest.take() {
                Some(created) => created,
                // A lost answer to add_lines may hide lines that were added: look first.
                None => invoices.retrieve(&stripe_id, &self.context(None)).await?,
            };
            let invoice = if current.lines.data.is_empty() {
                let lines = draft
                    .lines
                    .iter()
                    .map(line_params)
                    .collect::<Result<Vec<_>, _>>()?;
                let added = write_once!(
                    self,
                    &subject,
                    "invoice.add_lines",
                    &revision,
                    |context| invoices.add_lines(&stripe_id, &lines, &context),
                    found: self.invoice_showing(&stripe_id, |invoice| {
                        !invoice.lines.data.is_empty()
                    }),
                );
                match added {
                    Ok(invoice) => invoice,
                    Err(error) if lines_refused(&error) => {
                        return Err(self
                            .abandon_draft(host, &current, &prepared.facts, error)
                            .await);
                    }
                    Err(error) => return Err(error),
                }
            } else {
                current
            };
            // The record appears with the lines, as Stripe holds them: a new Stripe
            // invoice (first raise or new revision) replaces any earlier record; the
            // same invoice is merged, so a worker that lags behind another on the same
            // raise never moves the record back.
            let account = self.account();
            let now = self.now();
            self.update_mirror(host, |current| match current {
                Some(current) if current.stripe_invoice_id == invoice.id => merge(
                    account,
                    Some(current),
                    Some(&prepared.facts),
                    host,
                    &invoice,
                    now,
                    MergePolicy::Monotonic,
                ),
                _ => Some(row_from_stripe(
                    account,
                    host,
                    &invoice,
                    now,
                    &prepared.facts,
                )),
            })
            .await?;
            check_total(prepared, draft, &invoice)?;
            checkpoint.lines_added = invoice
                .lines
                .data
                .iter()
                .enumerate()
                .map(|(index, line)| AddedLine {
                    line_index: u32::try_from(index).unwrap_or(u32::MAX),
                    stripe_line_id: Some(line.id.clone()),
                })
                .collect();
            if checkpoint.lines_added.is_empty() {
                // Only a listing that omits lines gets here; record the draft's lines.
                checkpoint.lines_added = (0..draft.lines.len())
                    .map(|index| AddedLine {
                        line_index: u32::try_from(index).unwrap_or(u32::MAX),
                        stripe_line_id: None,
                    })
                    .collect();
            }
            store.put_raise_checkpoint(&checkpoint).await?;
            latest = Some(invoice);
        }

        // Step 3: finalize.
        if mode >= Raise::Finalize && !checkpoint.finalized {
            let invoice = write_once!(
                self,
                &subject,
                "invoice.finalize",
                &revision,
                |context| invoices.finalize(&stripe_id, None, &context),
                found: self.invoice_showing(&stripe_id, is_finalized),
            )?;
            self.record_after_action(host, &invoice, Some(&prepared.facts))
                .await?;
            checkpoint.finalized = true;
            store.put_raise_checkpoint(&checkpoint).await?;
            latest = Some(invoice);
        }

        // Step 4: send (an invoice paid at finalization has nothing to ask).
        if mode == Raise::FinalizeAndSend && !checkpoint.sent {
            let status = match &latest {
                Some(invoice) => invoice.status.clone(),
                None => store
                    .invoice_mirror(self.account(), host)
                    .await?
                    .map(|mirror| mirror.status),
            };
            if status == Some(InvoiceStatus::Open) {
                let invoice = write_once!(
                    self,
                    &subject,
                    "invoice.send",
                    &revision,
                    |context| invoices.send(&stripe_id, &context),
                    // Whether the email went out does not show on the invoice; a
                    // second email is better than none.
                    found: std::future::ready(Ok(None)),
                )?;
                self.record_after_action(host, &invoice, Some(&prepared.facts))
                    .await?;
                checkpoint.sent = true;
                store.put_raise_checkpoint(&checkpoint).await?;
                latest = Some(invoice);
            }
        }

        match latest {
            Some(invoice) => {
                self.record_after_action(host, &invoice, Some(&prepared.facts))
                    .await
            }
            None => Ok(InvoiceRecord::from_row(&self.require_mirror(host).await?)?),
        }
    }
}

/// Whether Stripe refused the lines for good (bad input, a vanished draft), as opposed
/// to a failure a re-run may get past.
fn lines_refused(error: &Error) -> bool {
    matches!(error.details().http_status, Some(400 | 402 | 404))
}

/// Whether a finalization shows on the invoice: it has left draft.
pub(crate) fn is_finalized(invoice: &Invoice) -> bool {
    invoice
        .status
        .as_ref()
        .is_some_and(|status| *status != InvoiceStatus::Draft)
}

/// Stripe's invoice must add up to the draft before it may be finalized.
fn check_total(prepared: &Prepared, draft: &InvoiceDraft, invoice: &Invoice) -> Result<(), Error> {
    let draft_total = prepared.total.stripe_amount()?;
    let stripe_lines = invoice.lines.data.len();
    let lines_differ = !invoice.lines.has_more && stripe_lines != draft.lines.len();
    if invoice.total != draft_total || lines_differ {
        return Err(SyncError::TotalMismatch {
            host_invoice_id: prepared.host.clone(),
            stripe_invoice_id: invoice.id.clone(),
            draft_total,
            stripe_total: invoice.total,
            draft_lines: draft.lines.len(),
            stripe_lines,
        }
        .into());
    }
    Ok(())
}

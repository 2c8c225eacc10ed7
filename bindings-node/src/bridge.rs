//! `Billbridge`: the bridge between the host's records and Stripe. The constructor
//! takes the builder's options as one plain object; every other method translates its
//! arguments, runs one core method on the runtime and returns a Promise.

use std::sync::Arc;

use billbridge::domain::catalogue::Catalogue;
use billbridge::domain::invoice::InvoiceDraft as CoreDraft;
use billbridge::domain::ledger::PaymentMethod;
use billbridge::domain::party::{OrganisationId, Party, Patient as CorePatient, PatientId};
use billbridge::stripe::client::StripeClient;
use billbridge::sync::{
    Billbridge as CoreBridge, BulkOptions, BulkProgress, IdempotencySecret, InvoiceRequest,
    PaidOutside, ProgressCallback, Raise, ServiceBilling,
};
use billbridge::vocabulary;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::convert::{Body, body_bytes, date, integer, optional_date, optional_unsigned, word};
use crate::errors::{BindingError, OrThrow};
use crate::invoices::{CatalogueItem, InvoiceDraft};
use crate::metadata::MetadataPolicy;
use crate::mock::StripeLike;
use crate::money::{Currency, CurrencyLike, Money, currency};
use crate::parties::{PartyLike, Patient, PayerLike, party, payer};
use crate::rates::{BillingRate, Service, rates, services};
use crate::records::{
    BalanceAdjustment, BulkResult, BulkValue, CustomerRecord, InvoicePreview, InvoiceRecord,
    ServiceInvoiceOutcome, records,
};
use crate::reports::{InvoiceFilters, Payment, Portal, payments, query, range};
use crate::runtime::{promise, run};
use crate::stores::{StoreLike, sync_store};
use crate::webhooks::{SecretLike, WebhookOutcome, secret};

/// The options of `new Billbridge(...)`: the Stripe to talk to and the bridge's
/// settings. Only `stripe` and `idempotencySecret` are required.
#[napi(object, object_to_js = false)]
pub struct BillbridgeOptions {
    /// A `MockStripe` or an `HttpTransport` with the account's key.
    pub stripe: StripeLike<'static>,
    /// The key of derived idempotency keys (at least 16 bytes, a string or `Buffer`):
    /// keep it secret and the same across restarts and workers.
    pub idempotency_secret: Either<String, Uint8Array>,
    /// Which host fields reach Stripe metadata (default: `MetadataPolicy.heroCompatible()`).
    pub metadata_policy: Option<&'static MetadataPolicy>,
    /// Where links, processed webhooks and invoice records live (default: in memory).
    pub store: Option<StoreLike<'static>>,
    /// A connected account (`acct_…`) to act on.
    pub account: Option<String>,
    /// The endpoint's `whsec_…` secret, for `handleWebhook` (a bridge over a
    /// `MockStripe` knows the mock's).
    pub webhook_secret: Option<SecretLike<'static>>,
    /// How far, in whole seconds, a webhook signature's time may be from now.
    pub webhook_tolerance: Option<f64>,
    /// The practice's price list, for catalogue lines.
    pub catalogue: Option<Vec<&'static CatalogueItem>>,
    /// The default currency.
    pub currency: Option<CurrencyLike<'static>>,
    /// Days until payment is due for invoices sent without a due date.
    pub default_days_until_due: Option<f64>,
    /// The request rate to stay under (default: Stripe's for the key's mode).
    pub requests_per_second: Option<f64>,
}

/// Options of `raiseInvoice`.
#[napi(object, object_to_js = false)]
pub struct RaiseOptions {
    /// `"draft"` (the default), `"finalize"` or `"finalize_and_send"`.
    pub mode: Option<String>,
    /// The patient the invoice is about, for their metadata when an organisation pays.
    pub patient: Option<&'static Patient>,
}

/// Options of `editDraft` and `syncInvoiceMetadata`.
#[napi(object, object_to_js = false)]
pub struct PatientOption {
    /// The patient the invoice is about, for their metadata when an organisation pays.
    pub patient: Option<&'static Patient>,
}

/// How an invoice was paid outside Stripe.
#[napi(object, object_to_js = false)]
pub struct PaidOutsideInit {
    /// `"cash"`, `"cheque"`, `"bank_transfer"`, `"card_outside_stripe"`, `"insurance"`
    /// or the host's own name.
    pub method: String,
    /// The host's reference (receipt, cheque number).
    pub reference: Option<String>,
    /// The day it was received, ISO.
    pub paid_on: Option<String>,
}

/// Options of `adjustBalance`.
#[napi(object, object_to_js = false)]
pub struct AdjustmentInit {
    /// Why, shown on the customer's balance history.
    pub reason: String,
    /// The host's id of this adjustment: running it again is a no-op.
    pub adjustment_id: String,
}

/// Progress of a bulk call.
#[napi(object)]
pub struct Progress {
    /// Items finished (succeeded or failed).
    pub done: u32,
    /// Items that failed so far.
    pub failed: u32,
    /// Items in all.
    pub total: u32,
}

/// A progress callback, called on the JS thread after each item.
pub type ProgressFunction = ThreadsafeFunction<Progress, (), Progress, Status, false>;

/// Options of the bulk calls.
#[napi(object, object_to_js = false)]
pub struct BulkInit {
    /// How many items are in flight at once (default 8).
    pub concurrency: Option<f64>,
    /// The request rate to stay under (default: the bridge's).
    pub requests_per_second: Option<f64>,
    /// Called after each item with `{ done, failed, total }`.
    pub progress: Option<ProgressFunction>,
    /// For `raiseInvoices`: `"draft"` (the default), `"finalize"` or `"finalize_and_send"`.
    pub mode: Option<String>,
}

/// One draft of `raiseInvoices`: a draft, or a draft with the patient it is about.
#[napi(object, object_to_js = false)]
pub struct DraftItem {
    /// The draft.
    pub draft: &'static InvoiceDraft,
    /// The patient it is about.
    pub patient: Option<&'static Patient>,
}

/// Options of `raiseForServices`.
#[napi(object, object_to_js = false)]
pub struct ServiceBillingInit {
    /// The day stamped on every service invoiced, ISO.
    pub invoiced_on: String,
    /// The patients, for their metadata.
    pub patients: Option<Vec<&'static Patient>>,
    /// `"draft"`, `"finalize"` or `"finalize_and_send"` (the default).
    pub mode: Option<String>,
}

fn count(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn bulk_options(env: &Env, init: Option<BulkInit>) -> Result<(BulkOptions, Option<String>)> {
    let mut options = BulkOptions::default();
    let Some(init) = init else {
        return Ok((options, None));
    };
    if let Some(concurrency) = optional_unsigned::<usize>(env, "concurrency", init.concurrency)? {
        options.concurrency = concurrency;
    }
    options.requests_per_second =
        optional_unsigned::<u32>(env, "requestsPerSecond", init.requests_per_second)?;
    options.progress = init.progress.map(|callback| -> ProgressCallback {
        let callback = Arc::new(callback);
        Arc::new(move |step: BulkProgress| {
            let progress = Progress {
                done: count(step.done),
                failed: count(step.failed),
                total: count(step.total),
            };
            // Never wait on JS from a worker: a full queue drops a progress tick.
            callback.call(progress, ThreadsafeFunctionCallMode::NonBlocking);
        })
    });
    Ok((options, init.mode))
}

fn patient_of(patient: Option<&Patient>) -> Option<CorePatient> {
    patient.map(|patient| patient.0.clone())
}

fn mode(env: &Env, mode: Option<&str>) -> Result<Raise> {
    mode.map_or_else(|| Ok(Raise::default()), |mode| word::<Raise>(env, mode))
}

/// The bridge between the host's records and Stripe. Every method that talks to
/// Stripe or the store returns a Promise; errors are `BillbridgeError` subclasses.
#[napi]
pub struct Billbridge(CoreBridge);

#[napi]
impl Billbridge {
    /// `new Billbridge({ stripe, idempotencySecret })`; throws `ValidationError` for
    /// options the core refuses (a short secret, an unknown currency, …).
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, options: BillbridgeOptions) -> Result<Self> {
        let client = match &options.stripe {
            Either::A(mock) => StripeClient::new(mock.0.clone()),
            Either::B(http) => StripeClient::new(http.0.clone()),
        };
        let idempotency = match options.idempotency_secret {
            Either::A(text) => IdempotencySecret::new(text.into_bytes()),
            Either::B(bytes) => IdempotencySecret::new(&bytes),
        }
        .or_throw(env)?;
        // A bridge over the mock lives on the mock's clock and accepts its deliveries:
        // the core wires that from the transport.
        let mut builder = CoreBridge::builder(client).idempotency_secret(idempotency);
        if let Some(policy) = options.metadata_policy {
            builder = builder.metadata_policy(policy.0.clone());
        }
        if let Some(store) = &options.store {
            builder = builder.shared_store(sync_store(store));
        }
        if let Some(account) = options.account {
            builder = builder.account(account);
        }
        if let Some(value) = &options.webhook_secret {
            builder = builder.webhook_secret(secret(env, value)?);
        }
        if let Some(seconds) = options.webhook_tolerance {
            builder = builder.webhook_tolerance(
                vocabulary::whole_seconds("webhookTolerance", seconds).or_throw(env)?,
            );
        }
        if let Some(items) = options.catalogue {
            let items: Vec<_> = items.into_iter().map(|item| item.0.clone()).collect();
            builder = builder.catalogue(Catalogue::try_from(items).or_throw(env)?);
        }
        if let Some(value) = &options.currency {
            builder = builder.currency(currency(env, value)?);
        }
        if let Some(days) =
            optional_unsigned::<u32>(env, "defaultDaysUntilDue", options.default_days_until_due)?
        {
            builder = builder.default_days_until_due(days);
        }
        if let Some(rate) =
            optional_unsigned::<u32>(env, "requestsPerSecond", options.requests_per_second)?
        {
            builder = builder.requests_per_second(rate);
        }
        builder.build().map(Billbridge).or_throw(env)
    }

    /// The connected account (`acct_…`), if any.
    #[napi(getter, catch_unwind)]
    pub fn account(&self) -> Option<String> {
        self.0.account().map(str::to_owned)
    }

    /// The bridge's default currency.
    #[napi(getter, catch_unwind)]
    pub fn currency(&self) -> Currency {
        Currency(self.0.currency())
    }

    /// Creates or updates the party's Stripe customer; nothing is sent when nothing
    /// changed.
    #[napi(ts_return_type = "Promise<CustomerRecord>", catch_unwind)]
    pub fn upsert_customer<'env>(
        &self,
        env: &'env Env,
        party: PartyLike,
    ) -> Result<PromiseRaw<'env, CustomerRecord>> {
        let party: Party = self::party(&party);
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.upsert_customer(&party).await?) },
            |_, record| Ok(CustomerRecord(record)),
        )
    }

    /// The Stripe customer id linked to `payer`, or `null` when not synced.
    #[napi(ts_return_type = "Promise<string | null>", catch_unwind)]
    pub fn customer_id<'env>(
        &self,
        env: &'env Env,
        payer: PayerLike,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let payer = self::payer(&payer);
        let bridge = self.0.clone();
        run(env, async move {
            Ok(bridge
                .customer(&payer)
                .await?
                .map(|link| link.stripe_customer_id))
        })
    }

    /// Makes `organisationId` pay `patientId`'s invoices.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn set_default_payer<'env>(
        &self,
        env: &'env Env,
        patient_id: String,
        organisation_id: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let patient = PatientId::new(patient_id).or_throw(env)?;
        let organisation = OrganisationId::new(organisation_id).or_throw(env)?;
        let bridge = self.0.clone();
        run(env, async move {
            Ok(bridge.set_default_payer(&patient, &organisation).await?)
        })
    }

    /// Makes the patient pay their own invoices again; resolves to whether a default
    /// payer was set.
    #[napi(ts_return_type = "Promise<boolean>", catch_unwind)]
    pub fn clear_default_payer<'env>(
        &self,
        env: &'env Env,
        patient_id: String,
    ) -> Result<PromiseRaw<'env, bool>> {
        let patient = PatientId::new(patient_id).or_throw(env)?;
        let bridge = self.0.clone();
        run(env, async move {
            Ok(bridge.clear_default_payer(&patient).await?)
        })
    }

    /// The patient's default payer organisation id, or `null`.
    #[napi(ts_return_type = "Promise<string | null>", catch_unwind)]
    pub fn default_payer<'env>(
        &self,
        env: &'env Env,
        patient_id: String,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let patient = PatientId::new(patient_id).or_throw(env)?;
        let bridge = self.0.clone();
        run(env, async move {
            Ok(bridge.default_payer(&patient).await?.map(String::from))
        })
    }

    /// Records a credit (negative) or debit on the payer's Stripe balance; Stripe
    /// applies it to the next invoice. The `adjustmentId` makes a re-run a no-op.
    #[napi(ts_return_type = "Promise<BalanceAdjustment>", catch_unwind)]
    pub fn adjust_balance<'env>(
        &self,
        env: &'env Env,
        payer: PayerLike,
        amount: &Money,
        adjustment: AdjustmentInit,
    ) -> Result<PromiseRaw<'env, BalanceAdjustment>> {
        let payer = self::payer(&payer);
        let amount = amount.0;
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                Ok(bridge
                    .adjust_balance(
                        &payer,
                        amount,
                        &adjustment.reason,
                        &adjustment.adjustment_id,
                    )
                    .await?)
            },
            |_, adjustment| Ok(BalanceAdjustment(adjustment)),
        )
    }

    /// The payer's customer balance (negative: credit).
    #[napi(ts_return_type = "Promise<Money>", catch_unwind)]
    pub fn balance<'env>(
        &self,
        env: &'env Env,
        payer: PayerLike,
    ) -> Result<PromiseRaw<'env, Money>> {
        let payer = self::payer(&payer);
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.balance(&payer).await?) },
            |_, amount| Ok(Money(amount)),
        )
    }

    /// What the payer's invoice for `draft` would ask, without side effects.
    #[napi(ts_return_type = "Promise<InvoicePreview>", catch_unwind)]
    pub fn preview<'env>(
        &self,
        env: &'env Env,
        draft: &InvoiceDraft,
    ) -> Result<PromiseRaw<'env, InvoicePreview>> {
        let draft: CoreDraft = draft.0.clone();
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.preview(&draft).await?) },
            |_, preview| Ok(InvoicePreview(preview)),
        )
    }

    /// Raises `draft` in Stripe, exactly once and resumable: `mode` `"draft"` (the
    /// default), `"finalize"` or `"finalize_and_send"`. Rejects with
    /// `ValidationError`, `InvalidStateError` or `StripeApiError`.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn raise_invoice<'env>(
        &self,
        env: &'env Env,
        draft: &InvoiceDraft,
        options: Option<RaiseOptions>,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let (mode, patient) = match options {
            Some(options) => (
                self::mode(env, options.mode.as_deref())?,
                patient_of(options.patient),
            ),
            None => (Raise::default(), None),
        };
        let draft = draft.0.clone();
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.raise_invoice(&draft, patient.as_ref(), mode).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Applies the edited `draft` to its Stripe draft.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn edit_draft<'env>(
        &self,
        env: &'env Env,
        draft: &InvoiceDraft,
        options: Option<PatientOption>,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let patient = patient_of(options.and_then(|options| options.patient));
        let draft = draft.0.clone();
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.edit_draft(&draft, patient.as_ref()).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Sends the invoice's metadata again under the current policy: keys of fields
    /// switched off since are removed from Stripe.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn sync_invoice_metadata<'env>(
        &self,
        env: &'env Env,
        draft: &InvoiceDraft,
        options: Option<PatientOption>,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let patient = patient_of(options.and_then(|options| options.patient));
        let draft = draft.0.clone();
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                Ok(bridge
                    .sync_invoice_metadata(&draft, patient.as_ref())
                    .await?)
            },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// The host's record of the invoice, or `null` when it was never raised.
    #[napi(ts_return_type = "Promise<InvoiceRecord | null>", catch_unwind)]
    pub fn invoice<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, Option<InvoiceRecord>>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.invoice(&host_invoice_id).await?) },
            |_, record| Ok(record.map(InvoiceRecord)),
        )
    }

    /// Finalizes a draft (number, payment page, balance applied).
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn finalize<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.finalize(&host_invoice_id).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Sends an open invoice to the payer.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.send(&host_invoice_id).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Voids an open invoice; rejects with `InvalidStateError` (nothing sent) for a
    /// status that does not allow it.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn void<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.void(&host_invoice_id).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Marks an open invoice uncollectible.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn mark_uncollectible<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.mark_uncollectible(&host_invoice_id).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Deletes a draft.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn delete_draft<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.delete_draft(&host_invoice_id).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Records a payment received outside Stripe:
    /// `markPaidOutsideStripe("INV-1", { method: "cash", reference: "R-42" })`.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn mark_paid_outside_stripe<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
        payment: PaidOutsideInit,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let mut paid = PaidOutside::new(payment.method.parse::<PaymentMethod>().or_throw(env)?);
        paid.reference = payment.reference;
        paid.paid_on = optional_date(env, payment.paid_on.as_deref())?;
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                Ok(bridge
                    .mark_paid_outside_stripe(&host_invoice_id, &paid)
                    .await?)
            },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Handles one webhook delivery: the raw body exactly as received (a `Buffer`) and
    /// the `Stripe-Signature` header. Verified, deduplicated and never moving a status
    /// backwards; answer Stripe 2xx once it resolves. Rejects with `SignatureError` for
    /// a forged or stale delivery.
    #[napi(ts_return_type = "Promise<WebhookOutcome>", catch_unwind)]
    pub fn handle_webhook<'env>(
        &self,
        env: &'env Env,
        payload: Body,
        signature_header: Option<String>,
    ) -> Result<PromiseRaw<'env, WebhookOutcome>> {
        let body = body_bytes(&payload).to_vec();
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                Ok(bridge
                    .handle_webhook(&body, signature_header.as_deref())
                    .await?)
            },
            |_, outcome| Ok(WebhookOutcome(outcome)),
        )
    }

    /// Overwrites the record with Stripe's current invoice.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn resync_invoice<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.resync_invoice(&host_invoice_id).await?) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Re-fetches every invoice with events since `since` (unix seconds): the
    /// missed-webhook recovery job.
    #[napi(ts_return_type = "Promise<Array<InvoiceRecord>>", catch_unwind)]
    pub fn resync_changed_since<'env>(
        &self,
        env: &'env Env,
        since: f64,
    ) -> Result<PromiseRaw<'env, Vec<InvoiceRecord>>> {
        let since = integer(env, "since", since)?;
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.resync_changed_since(since).await?) },
            |_, found| Ok(records(found)),
        )
    }

    /// The invoices in the store matching every filter given (no Stripe call).
    #[napi(ts_return_type = "Promise<Array<InvoiceRecord>>", catch_unwind)]
    pub fn invoices<'env>(
        &self,
        env: &'env Env,
        filters: Option<InvoiceFilters>,
    ) -> Result<PromiseRaw<'env, Vec<InvoiceRecord>>> {
        let query = query(env, filters)?;
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                bridge
                    .invoices(&query)
                    .collect_all()
                    .await
                    .map_err(BindingError::from)
            },
            |_, found| Ok(records(found)),
        )
    }

    /// Stripe's own list of invoices matching the same filters, joined with the host's
    /// records (invoices the store does not know get their host ids from metadata).
    #[napi(ts_return_type = "Promise<Array<InvoiceRecord>>", catch_unwind)]
    pub fn stripe_invoices<'env>(
        &self,
        env: &'env Env,
        filters: Option<InvoiceFilters>,
    ) -> Result<PromiseRaw<'env, Vec<InvoiceRecord>>> {
        let query = query(env, filters)?;
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                let pager = bridge.stripe_invoices(&query).await?;
                pager.collect_all().await.map_err(BindingError::from)
            },
            |_, found| Ok(records(found)),
        )
    }

    /// The open invoices, oldest first.
    #[napi(ts_return_type = "Promise<Array<InvoiceRecord>>", catch_unwind)]
    pub fn outstanding<'env>(
        &self,
        env: &'env Env,
    ) -> Result<PromiseRaw<'env, Vec<InvoiceRecord>>> {
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                bridge
                    .outstanding()
                    .collect_all()
                    .await
                    .map_err(BindingError::from)
            },
            |_, found| Ok(records(found)),
        )
    }

    /// Payments received on or off Stripe between two ISO days, both included.
    #[napi(ts_return_type = "Promise<Array<Payment>>", catch_unwind)]
    pub fn payments_received<'env>(
        &self,
        env: &'env Env,
        first: String,
        last: String,
    ) -> Result<PromiseRaw<'env, Vec<Payment>>> {
        let range = range(env, &[first, last])?;
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                bridge
                    .payments_received(range)
                    .collect_all()
                    .await
                    .map_err(BindingError::from)
            },
            |_, found| Ok(payments(found)),
        )
    }

    /// The portal view of `payer`: their finalized invoices, paid and unpaid, with pay
    /// links and what remains to pay per currency.
    #[napi(ts_return_type = "Promise<Portal>", catch_unwind)]
    pub fn portal<'env>(
        &self,
        env: &'env Env,
        payer: PayerLike,
    ) -> Result<PromiseRaw<'env, Portal>> {
        let payer = self::payer(&payer);
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.portal(&payer).await?) },
            |_, portal| Ok(Portal(portal)),
        )
    }

    /// One invoice per payer for the invoiceable services; each outcome holds the
    /// services stamped with `invoicedOn`, or the error of that invoice.
    #[napi(ts_return_type = "Promise<Array<ServiceInvoiceOutcome>>", catch_unwind)]
    pub fn raise_for_services<'env>(
        &self,
        env: &'env Env,
        services: Vec<&Service>,
        rates: Vec<&BillingRate>,
        billing: ServiceBillingInit,
    ) -> Result<PromiseRaw<'env, Vec<ServiceInvoiceOutcome>>> {
        let services = self::services(&services);
        let rates = self::rates(env, &rates)?;
        let mut plan = ServiceBilling::on(date(env, &billing.invoiced_on)?);
        if let Some(mode) = billing.mode {
            plan.mode = word::<Raise>(env, &mode)?;
        }
        let patients: Vec<CorePatient> = billing
            .patients
            .unwrap_or_default()
            .into_iter()
            .map(|patient| patient.0.clone())
            .collect();
        let bridge = self.0.clone();
        promise(
            env,
            async move {
                Ok(bridge
                    .raise_for_services(&services, &rates, &patients, &plan)
                    .await?)
            },
            |_, outcomes| {
                Ok(outcomes
                    .into_iter()
                    .map(ServiceInvoiceOutcome::from)
                    .collect())
            },
        )
    }

    /// Upserts every party with at most `concurrency` requests in flight, paced under
    /// `requestsPerSecond`; one failure does not stop the rest.
    #[napi(ts_return_type = "Promise<Array<BulkResult>>", catch_unwind)]
    pub fn upsert_customers<'env>(
        &self,
        env: &'env Env,
        parties: Vec<PartyLike>,
        options: Option<BulkInit>,
    ) -> Result<PromiseRaw<'env, Vec<BulkResult>>> {
        let parties: Vec<Party> = parties.iter().map(party).collect();
        let (options, _) = bulk_options(env, options)?;
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.upsert_customers(&parties, &options).await?) },
            |_, items| {
                Ok(items
                    .into_iter()
                    .map(|item| BulkResult::new(item, BulkValue::Customer))
                    .collect())
            },
        )
    }

    /// Raises every draft (`{ draft, patient? }` items) to `mode`, bounded and paced
    /// like `upsertCustomers`.
    #[napi(ts_return_type = "Promise<Array<BulkResult>>", catch_unwind)]
    pub fn raise_invoices<'env>(
        &self,
        env: &'env Env,
        drafts: Vec<DraftItem>,
        options: Option<BulkInit>,
    ) -> Result<PromiseRaw<'env, Vec<BulkResult>>> {
        let requests: Vec<InvoiceRequest> = drafts
            .into_iter()
            .map(|item| InvoiceRequest {
                draft: item.draft.0.clone(),
                patient: patient_of(item.patient),
            })
            .collect();
        let (options, mode) = bulk_options(env, options)?;
        let mode = self::mode(env, mode.as_deref())?;
        let bridge = self.0.clone();
        promise(
            env,
            async move { Ok(bridge.raise_invoices(&requests, mode, &options).await?) },
            |_, items| {
                Ok(items
                    .into_iter()
                    .map(|item| {
                        BulkResult::new(item, |record| BulkValue::Invoice(Box::new(record)))
                    })
                    .collect())
            },
        )
    }
}

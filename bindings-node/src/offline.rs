//! Offline billing for a practice with no Stripe account: `OfflineBilling` over the
//! core's `SharedOfflineBilling`, with `LedgerRecord` and the invoices raised for
//! services. Invoices come back as the same `InvoiceRecord` the bridge returns and
//! payments as report `Payment` rows; every rule, store defaults included, is the core's.

use std::collections::BTreeMap;
use std::sync::Arc;

use billbridge::domain::catalogue::default_payers;
use billbridge::domain::ledger::{ManualPayment, PaymentMethod};
use billbridge::offline::{ServiceInvoice, SharedOfflineBilling};
use billbridge::store::{LedgerRecord as CoreLedgerRecord, MetadataMap};
use billbridge::sync::InvoiceRecord as CoreRecord;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{date, date_text, number, to_plain};
use crate::errors::{BindingError, OrThrow};
use crate::invoices::{InvoiceDraft, InvoiceLine};
use crate::money::{Currency, Money};
use crate::parties::{PayerLike, PayerRef, payer};
use crate::rates::{BillingRate, Service, rates, services};
use crate::records::{InvoiceRecord, records};
use crate::reports::{InvoiceFilters, Payment, Portal, payments, query, range};
use crate::runtime::{promise, run};
use crate::stores::{LedgerLike, StoreLike, ledger_store, sync_store};

/// One offline invoice as the ledger keeps it, with its payment history.
#[napi]
pub struct LedgerRecord(CoreLedgerRecord);

#[napi]
impl LedgerRecord {
    /// The host's invoice id.
    #[napi(getter, catch_unwind)]
    pub fn host_invoice_id(&self) -> String {
        self.0.host_invoice_id().to_owned()
    }

    /// The locally assigned invoice number (`OFF-0001`, …).
    #[napi(getter, catch_unwind)]
    pub fn number(&self) -> String {
        self.0.number.clone()
    }

    /// The account the books are kept under, if any.
    #[napi(getter, catch_unwind)]
    pub fn account(&self) -> Option<String> {
        self.0.account.clone()
    }

    /// `"open"`, `"paid"`, `"void"`, `"uncollectible"` (or `"draft"`).
    #[napi(getter, catch_unwind)]
    pub fn status(&self) -> String {
        self.0.invoice.status.as_str().to_owned()
    }

    /// Who pays.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.0.invoice.payer.clone())
    }

    /// The patient the invoice is about.
    #[napi(getter, catch_unwind)]
    pub fn patient_id(&self) -> Option<String> {
        self.0
            .invoice
            .subject
            .as_ref()
            .map(|id| id.as_str().to_owned())
    }

    /// The invoice's currency.
    #[napi(getter, catch_unwind)]
    pub fn currency(&self) -> Currency {
        Currency(self.0.invoice.currency)
    }

    /// The invoice lines.
    #[napi(getter, catch_unwind)]
    pub fn lines(&self) -> Vec<InvoiceLine> {
        self.0
            .invoice
            .lines
            .iter()
            .cloned()
            .map(InvoiceLine)
            .collect()
    }

    /// Σ lines.
    #[napi(getter, catch_unwind)]
    pub fn total(&self) -> Money {
        Money(self.0.invoice.total)
    }

    /// What the invoice asks.
    #[napi(getter, catch_unwind)]
    pub fn amount_due(&self) -> Money {
        Money(self.0.invoice.amount_due)
    }

    /// What was paid so far.
    #[napi(getter, catch_unwind)]
    pub fn amount_paid(&self, env: &Env) -> Result<Money> {
        self.0.invoice.amount_paid().map(Money).or_throw(env)
    }

    /// What is left to pay.
    #[napi(getter, catch_unwind)]
    pub fn amount_remaining(&self, env: &Env) -> Result<Money> {
        self.0.invoice.amount_remaining().map(Money).or_throw(env)
    }

    /// The day the invoice was issued, ISO.
    #[napi(getter, catch_unwind)]
    pub fn invoiced_on(&self) -> Option<String> {
        self.0.invoice.invoiced_on.map(date_text)
    }

    /// The day payment is due, ISO, for invoices sent for payment.
    #[napi(getter, catch_unwind)]
    pub fn due_on(&self) -> Option<String> {
        self.0.due_on.map(date_text)
    }

    /// The day of the last change, ISO.
    #[napi(getter, catch_unwind)]
    pub fn updated_on(&self) -> String {
        date_text(self.0.updated_on)
    }

    /// Incremented on every change.
    #[napi(getter, catch_unwind)]
    pub fn revision(&self, env: &Env) -> Result<f64> {
        number(
            env,
            "revision",
            i64::try_from(self.0.revision).unwrap_or(i64::MAX),
        )
    }

    /// The metadata reported with the invoice.
    #[napi(getter, catch_unwind)]
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// The draft the invoice was raised from.
    #[napi(getter, catch_unwind)]
    pub fn draft(&self) -> InvoiceDraft {
        InvoiceDraft(self.0.draft.clone())
    }

    /// Every payment recorded, oldest first, as report rows.
    #[napi(getter, catch_unwind)]
    pub fn payments(&self) -> Vec<Payment> {
        self.0.payments().into_iter().map(Payment).collect()
    }

    /// The report row of the invoice, as reports and CSV export see it.
    #[napi(catch_unwind)]
    pub fn to_record(&self, env: &Env) -> Result<InvoiceRecord> {
        let row = self.0.to_mirror().or_throw(env)?;
        CoreRecord::from_row(&row).map(InvoiceRecord).or_throw(env)
    }

    /// The record as plain values (the core's JSON form).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }
}

/// The invoice offline billing raised for one payer's services.
#[napi]
pub struct OfflineServiceInvoice(ServiceInvoice);

#[napi]
impl OfflineServiceInvoice {
    /// The invoice raised.
    #[napi(getter, catch_unwind)]
    pub fn invoice(&self) -> InvoiceRecord {
        InvoiceRecord(self.0.invoice.clone())
    }

    /// The ids of the services it bills.
    #[napi(getter, catch_unwind)]
    pub fn service_ids(&self) -> Vec<String> {
        self.0
            .services
            .iter()
            .map(|service| service.id.as_str().to_owned())
            .collect()
    }

    /// The services it bills, stamped with the invoiced date.
    #[napi(getter, catch_unwind)]
    pub fn services(&self) -> Vec<Service> {
        self.0.services.iter().cloned().map(Service).collect()
    }
}

/// Options of `new OfflineBilling()`; every one has the core's default.
#[napi(object, object_to_js = false)]
pub struct OfflineBillingOptions {
    /// Where invoice records go (reports read them there); default: in memory.
    pub store: Option<StoreLike<'static>>,
    /// Where invoices and payments are kept. Without it, a `SqliteStore` given as
    /// `store` keeps the books too (they survive restarts); otherwise a new
    /// `MemoryLedgerStore` does.
    pub ledger: Option<LedgerLike<'static>>,
    /// The account the books are kept under.
    pub account: Option<String>,
    /// The invoice number prefix (default `"OFF"`).
    pub number_prefix: Option<String>,
}

/// Options of `OfflineBilling.raiseInvoice`.
#[napi(object, object_to_js = false)]
pub struct OfflineRaiseInit {
    /// The day the invoice is issued, ISO.
    pub on: String,
    /// Metadata that rides along for reports.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// A payment made outside Stripe.
#[napi(object, object_to_js = false)]
pub struct ManualPaymentInit {
    /// `"cash"`, `"cheque"`, `"bank_transfer"`, `"card_outside_stripe"`, `"insurance"`
    /// or the host's own name.
    pub method: String,
    /// The day it was received, ISO.
    pub on: String,
    /// The host's reference (receipt, cheque number).
    pub reference: Option<String>,
}

/// Options of `OfflineBilling.raiseForServices`.
#[napi(object, object_to_js = false)]
pub struct OfflineServicesInit {
    /// The day stamped on every service invoiced, ISO.
    pub invoiced_on: String,
    /// Patient id → organisation id of the patients' default payers.
    pub default_payers: Option<BTreeMap<String, String>>,
}

fn offline<T>(
    result: std::result::Result<T, impl Into<billbridge::Error>>,
) -> std::result::Result<T, BindingError> {
    result.map_err(|error| BindingError::Core(error.into()))
}

/// Invoicing without Stripe: invoices numbered locally and paid by hand, with the
/// same records, reports and portal as the bridge. Every method returns a Promise.
#[napi]
pub struct OfflineBilling(Arc<SharedOfflineBilling>);

#[napi]
impl OfflineBilling {
    /// `new OfflineBilling({ store, ledger, account, numberPrefix })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(options: Option<OfflineBillingOptions>) -> Self {
        let options = options.unwrap_or(OfflineBillingOptions {
            store: None,
            ledger: None,
            account: None,
            number_prefix: None,
        });
        let mut billing = SharedOfflineBilling::over(
            options.store.as_ref().map(sync_store),
            options.ledger.as_ref().map(ledger_store),
        );
        if let Some(account) = options.account {
            billing = billing.account(account);
        }
        if let Some(prefix) = options.number_prefix {
            billing = billing.number_prefix(prefix);
        }
        OfflineBilling(Arc::new(billing))
    }

    /// The account the books are kept under, if any.
    #[napi(getter, catch_unwind)]
    pub fn account(&self) -> Option<String> {
        self.0.account_id().map(str::to_owned)
    }

    /// The offline invoice with its payments, or `null` when never raised.
    #[napi(ts_return_type = "Promise<LedgerRecord | null>", catch_unwind)]
    pub fn invoice<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
    ) -> Result<PromiseRaw<'env, Option<LedgerRecord>>> {
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.invoice(&host_invoice_id).await) },
            |_, record| Ok(record.map(LedgerRecord)),
        )
    }

    /// Raises `draft` (which needs a `hostId`) on the day `on`: issued at once,
    /// numbered and dated. Raising the same draft again returns the invoice already
    /// raised.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn raise_invoice<'env>(
        &self,
        env: &'env Env,
        draft: &InvoiceDraft,
        options: OfflineRaiseInit,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let on = date(env, &options.on)?;
        let metadata = options.metadata.map(MetadataMap::from).unwrap_or_default();
        let draft = draft.0.clone();
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.raise_with_metadata(&draft, on, metadata).await) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Records a payment made outside Stripe; partial payments are allowed and the
    /// invoice is paid when nothing remains. Rejects with `ValidationError` for an
    /// overpayment or a currency mismatch, `InvalidStateError` for a void invoice.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn record_payment<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
        amount: &Money,
        payment: ManualPaymentInit,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let method = payment.method.parse::<PaymentMethod>().or_throw(env)?;
        let mut manual = ManualPayment::new(method, amount.0, date(env, &payment.on)?);
        if let Some(reference) = payment.reference {
            manual = manual.with_reference(reference);
        }
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.record_payment(&host_invoice_id, manual).await) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Voids an open or uncollectible invoice on the ISO day `on`.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn void<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
        on: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let on = date(env, &on)?;
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.void(&host_invoice_id, on).await) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// Writes an open invoice off on the ISO day `on`; it can still be paid or voided.
    #[napi(ts_return_type = "Promise<InvoiceRecord>", catch_unwind)]
    pub fn mark_uncollectible<'env>(
        &self,
        env: &'env Env,
        host_invoice_id: String,
        on: String,
    ) -> Result<PromiseRaw<'env, InvoiceRecord>> {
        let on = date(env, &on)?;
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.mark_uncollectible(&host_invoice_id, on).await) },
            |_, record| Ok(InvoiceRecord(record)),
        )
    }

    /// One invoice per payer for the invoiceable services (under an invoiced rate, not
    /// yet invoiced), each service stamped with `invoicedOn`. An insurance rate bills
    /// the patient's organisation from `defaultPayers`, else the patient.
    #[napi(ts_return_type = "Promise<Array<OfflineServiceInvoice>>", catch_unwind)]
    pub fn raise_for_services<'env>(
        &self,
        env: &'env Env,
        services: Vec<&Service>,
        rates: Vec<&BillingRate>,
        options: OfflineServicesInit,
    ) -> Result<PromiseRaw<'env, Vec<OfflineServiceInvoice>>> {
        let mut services = self::services(&services);
        let rates = self::rates(env, &rates)?;
        let invoiced_on = date(env, &options.invoiced_on)?;
        let payers = default_payers(options.default_payers.unwrap_or_default()).or_throw(env)?;
        let billing = self.0.clone();
        promise(
            env,
            async move {
                offline(
                    billing
                        .raise_services(&mut services, &rates, &payers, invoiced_on)
                        .await,
                )
            },
            |_, invoices| Ok(invoices.into_iter().map(OfflineServiceInvoice).collect()),
        )
    }

    /// Every payment received between two ISO days, both included, one row per
    /// payment (partial payments itemised).
    #[napi(ts_return_type = "Promise<Array<Payment>>", catch_unwind)]
    pub fn payments_received<'env>(
        &self,
        env: &'env Env,
        first: String,
        last: String,
    ) -> Result<PromiseRaw<'env, Vec<Payment>>> {
        let range = range(env, &[first, last])?;
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.payments_received(range).collect_all().await) },
            |_, found| Ok(payments(found)),
        )
    }

    /// Rewrites every invoice record from the ledger (after a failed write, or into a
    /// new store); resolves to how many were written.
    #[napi(ts_return_type = "Promise<number>", catch_unwind)]
    pub fn rebuild_mirrors<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, u32>> {
        let billing = self.0.clone();
        run(env, async move {
            let written = offline(billing.rebuild_mirrors().await)?;
            Ok(u32::try_from(written).unwrap_or(u32::MAX))
        })
    }

    /// The offline invoices matching every filter given.
    #[napi(ts_return_type = "Promise<Array<InvoiceRecord>>", catch_unwind)]
    pub fn invoices<'env>(
        &self,
        env: &'env Env,
        filters: Option<InvoiceFilters>,
    ) -> Result<PromiseRaw<'env, Vec<InvoiceRecord>>> {
        let query = query(env, filters)?;
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.invoices(&query).collect_all().await) },
            |_, found| Ok(records(found)),
        )
    }

    /// The open invoices, oldest first.
    #[napi(ts_return_type = "Promise<Array<InvoiceRecord>>", catch_unwind)]
    pub fn outstanding<'env>(
        &self,
        env: &'env Env,
    ) -> Result<PromiseRaw<'env, Vec<InvoiceRecord>>> {
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.outstanding().collect_all().await) },
            |_, found| Ok(records(found)),
        )
    }

    /// The portal view of `payer`: their invoices, paid and unpaid, and what remains
    /// to pay per currency.
    #[napi(ts_return_type = "Promise<Portal>", catch_unwind)]
    pub fn portal<'env>(
        &self,
        env: &'env Env,
        payer: PayerLike,
    ) -> Result<PromiseRaw<'env, Portal>> {
        let payer = self::payer(&payer);
        let billing = self.0.clone();
        promise(
            env,
            async move { offline(billing.portal(&payer).await) },
            |_, portal| Ok(Portal(portal)),
        )
    }
}

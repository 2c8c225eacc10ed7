//! What the bridge and offline billing hand back, as read-only classes over the core's
//! typed records: amounts are `Money`, days ISO text, times unix seconds, words the
//! core's. Report rows are in `reports`, webhook outcomes in `webhooks`.

use std::collections::BTreeMap;

use billbridge::domain::catalogue::Service as CoreService;
use billbridge::domain::party::PayerRef as CorePayerRef;
use billbridge::sync::{
    BalanceAdjustment as CoreAdjustment, BulkItem, CustomerRecord as CoreCustomer,
    InvoicePreview as CorePreview, InvoiceRecord as CoreRecord,
    ServiceInvoiceOutcome as CoreServiceOutcome,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{date_text, number, to_plain};
use crate::errors::{BindingError, to_js_value};
use crate::money::{Currency, Money};
use crate::parties::PayerRef;
use crate::rates::Service;

/// A customer after an upsert.
#[napi]
pub struct CustomerRecord(pub(crate) CoreCustomer);

#[napi]
impl CustomerRecord {
    /// `"patient"` or `"organisation"`.
    #[napi(getter, catch_unwind)]
    pub fn party_kind(&self) -> &'static str {
        self.0.party_kind.as_str()
    }

    /// The host's id of the party.
    #[napi(getter, catch_unwind)]
    pub fn host_party_id(&self) -> String {
        self.0.host_party_id.clone()
    }

    /// Stripe's customer id (`cus_…`).
    #[napi(getter, catch_unwind)]
    pub fn stripe_customer_id(&self) -> String {
        self.0.stripe_customer_id.clone()
    }

    /// `"created"`, `"updated"` or `"unchanged"` (nothing sent).
    #[napi(getter, catch_unwind)]
    pub fn outcome(&self) -> &'static str {
        self.0.outcome.as_str()
    }
}

/// A credit or debit recorded on a payer's balance.
#[napi]
pub struct BalanceAdjustment(pub(crate) CoreAdjustment);

#[napi]
impl BalanceAdjustment {
    /// Stripe's balance transaction id.
    #[napi(getter, catch_unwind)]
    pub fn stripe_transaction_id(&self) -> String {
        self.0.stripe_transaction_id.clone()
    }

    /// The adjustment (negative: a credit to the payer).
    #[napi(getter, catch_unwind)]
    pub fn amount(&self) -> Money {
        Money(self.0.amount)
    }

    /// The balance after it.
    #[napi(getter, catch_unwind)]
    pub fn ending_balance(&self) -> Money {
        Money(self.0.ending_balance)
    }
}

/// What the payer's next invoice for a draft would ask (no side effects).
#[napi]
pub struct InvoicePreview(pub(crate) CorePreview);

#[napi]
impl InvoicePreview {
    /// Who would be billed.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.0.payer.clone())
    }

    /// The draft's total.
    #[napi(getter, catch_unwind)]
    pub fn total(&self) -> Money {
        Money(self.0.total)
    }

    /// The payer's balance now (negative: credit).
    #[napi(getter, catch_unwind)]
    pub fn starting_balance(&self) -> Money {
        Money(self.0.starting_balance)
    }

    /// The part of the balance the invoice would use.
    #[napi(getter, catch_unwind)]
    pub fn applied_balance(&self) -> Money {
        Money(self.0.applied_balance)
    }

    /// What the invoice would ask for, as Stripe will show it: 0 when what is left after
    /// the balance is below the currency's minimum charge.
    #[napi(getter, catch_unwind)]
    pub fn amount_due(&self) -> Money {
        Money(self.0.amount_due)
    }

    /// A remainder below the currency's minimum charge, which Stripe would move to the
    /// payer's balance as a debit for the next invoice (zero otherwise).
    #[napi(getter, catch_unwind)]
    pub fn carried_to_balance(&self) -> Money {
        Money(self.0.carried_to_balance)
    }

    /// The payer's balance after finalization.
    #[napi(getter, catch_unwind)]
    pub fn ending_balance(&self) -> Money {
        Money(self.0.ending_balance)
    }

    /// Whether Stripe would mark the invoice paid at finalization.
    #[napi(getter, catch_unwind)]
    pub fn paid_at_finalization(&self) -> bool {
        self.0.paid_at_finalization
    }
}

/// The host's record of an invoice: Stripe's state kept in step with the host's ids.
#[napi]
#[derive(Clone)]
pub struct InvoiceRecord(pub(crate) CoreRecord);

/// Records as JS objects.
pub fn records(records: Vec<CoreRecord>) -> Vec<InvoiceRecord> {
    records.into_iter().map(InvoiceRecord).collect()
}

#[napi]
impl InvoiceRecord {
    /// The host's invoice id.
    #[napi(getter, catch_unwind)]
    pub fn host_invoice_id(&self) -> String {
        self.0.host_invoice_id.clone()
    }

    /// Stripe's invoice id (`in_…`; `offline:…` for offline invoices).
    #[napi(getter, catch_unwind)]
    pub fn stripe_invoice_id(&self) -> String {
        self.0.stripe_invoice_id.clone()
    }

    /// Stripe's customer id (`cus_…`).
    #[napi(getter, catch_unwind)]
    pub fn stripe_customer_id(&self) -> String {
        self.0.stripe_customer_id.clone()
    }

    /// `"draft"`, `"open"`, `"paid"`, `"void"`, `"uncollectible"` or `"deleted"`: the
    /// last status billbridge knows.
    #[napi(getter, catch_unwind)]
    pub fn status(&self) -> String {
        self.0.status.as_str().to_owned()
    }

    /// A status Stripe sent that this version of billbridge does not know, as Stripe
    /// spelled it; `null` when Stripe's status is known.
    #[napi(getter, catch_unwind)]
    pub fn unrecognised_status(&self) -> Option<String> {
        self.0.unrecognised_status.clone()
    }

    /// The invoice number, once finalized.
    #[napi(getter, catch_unwind)]
    pub fn number(&self) -> Option<String> {
        self.0.number.clone()
    }

    /// The invoice's currency.
    #[napi(getter, catch_unwind)]
    pub fn currency(&self) -> Currency {
        Currency(self.0.currency)
    }

    /// Σ lines before discounts.
    #[napi(getter, catch_unwind)]
    pub fn subtotal(&self) -> Money {
        Money(self.0.subtotal)
    }

    /// Σ lines.
    #[napi(getter, catch_unwind)]
    pub fn total(&self) -> Money {
        Money(self.0.total)
    }

    /// What the invoice asks, after the customer balance.
    #[napi(getter, catch_unwind)]
    pub fn amount_due(&self) -> Money {
        Money(self.0.amount_due)
    }

    /// What was paid.
    #[napi(getter, catch_unwind)]
    pub fn amount_paid(&self) -> Money {
        Money(self.0.amount_paid)
    }

    /// What is left to pay.
    #[napi(getter, catch_unwind)]
    pub fn amount_remaining(&self) -> Money {
        Money(self.0.amount_remaining)
    }

    /// A remainder below the currency's minimum charge that Stripe carried to the
    /// payer's balance when it marked the invoice paid (owed, not received; zero
    /// otherwise).
    #[napi(getter, catch_unwind)]
    pub fn carried_to_balance(&self) -> Money {
        Money(self.0.carried_to_balance())
    }

    /// The payer's balance when the invoice was finalized.
    #[napi(getter, catch_unwind)]
    pub fn starting_balance(&self) -> Money {
        Money(self.0.starting_balance)
    }

    /// The payer's balance after it; `null` on drafts.
    #[napi(getter, catch_unwind)]
    pub fn ending_balance(&self) -> Option<Money> {
        self.0.ending_balance.map(Money)
    }

    /// The payment page.
    #[napi(getter, catch_unwind)]
    pub fn hosted_invoice_url(&self) -> Option<String> {
        self.0.hosted_invoice_url.clone()
    }

    /// The PDF.
    #[napi(getter, catch_unwind)]
    pub fn invoice_pdf(&self) -> Option<String> {
        self.0.invoice_pdf.clone()
    }

    /// The day payment is due (UTC), ISO, for invoices sent for payment.
    #[napi(getter, catch_unwind)]
    pub fn due_on(&self) -> Option<String> {
        self.0.due_on.map(date_text)
    }

    /// When Stripe created the invoice, unix seconds.
    #[napi(getter, catch_unwind)]
    pub fn created(&self, env: &Env) -> Result<f64> {
        number(env, "created", self.0.created)
    }

    /// When the invoice became paid, unix seconds.
    #[napi(getter, catch_unwind)]
    pub fn paid_at(&self, env: &Env) -> Result<Option<f64>> {
        self.0
            .paid_at
            .map(|seconds| number(env, "paidAt", seconds))
            .transpose()
    }

    /// Who pays.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.0.payer.clone())
    }

    /// The patient the invoice is about.
    #[napi(getter, catch_unwind)]
    pub fn patient_id(&self) -> Option<String> {
        self.0.patient.as_ref().map(|id| id.as_str().to_owned())
    }

    /// The invoice's Stripe metadata.
    #[napi(getter, catch_unwind)]
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// How it was paid outside Stripe, if it was (`"cash"`, `"cheque"`, …).
    #[napi(getter, catch_unwind)]
    pub fn paid_outside_method(&self) -> Option<String> {
        self.0
            .paid_outside
            .as_ref()
            .map(|payment| payment.method.as_str().to_owned())
    }

    /// The host's reference for the payment outside Stripe.
    #[napi(getter, catch_unwind)]
    pub fn paid_outside_reference(&self) -> Option<String> {
        self.0
            .paid_outside
            .as_ref()
            .and_then(|payment| payment.reference.clone())
    }

    /// The day the payment outside Stripe was received, ISO.
    #[napi(getter, catch_unwind)]
    pub fn paid_outside_on(&self) -> Option<String> {
        self.0
            .paid_outside
            .as_ref()
            .and_then(|payment| payment.paid_on)
            .map(date_text)
    }

    /// The record as plain values (the core's JSON form).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }

    /// `InvoiceRecord(INV-1, open, number)`: ids and status only.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        format!(
            "InvoiceRecord({}, {}, {})",
            self.0.host_invoice_id,
            self.0.status,
            self.0.number.as_deref().unwrap_or("no number")
        )
    }
}

/// One payer's invoice for a group of services.
#[napi]
pub struct ServiceInvoiceOutcome {
    payer: CorePayerRef,
    host_invoice_id: String,
    services: Vec<CoreService>,
    record: Option<CoreRecord>,
    error: Option<BindingError>,
}

impl From<CoreServiceOutcome> for ServiceInvoiceOutcome {
    fn from(outcome: CoreServiceOutcome) -> Self {
        let (record, error) = match outcome.result {
            Ok(record) => (Some(record), None),
            Err(error) => (None, Some(BindingError::Core(error))),
        };
        ServiceInvoiceOutcome {
            payer: outcome.payer,
            host_invoice_id: outcome.host_invoice_id,
            services: outcome.services,
            record,
            error,
        }
    }
}

#[napi]
impl ServiceInvoiceOutcome {
    /// Who the invoice bills.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.payer.clone())
    }

    /// The derived host invoice id (stable across re-runs).
    #[napi(getter, catch_unwind)]
    pub fn host_invoice_id(&self) -> String {
        self.host_invoice_id.clone()
    }

    /// The services, stamped with the invoiced date when the invoice was raised.
    #[napi(getter, catch_unwind)]
    pub fn services(&self) -> Vec<Service> {
        self.services.iter().cloned().map(Service).collect()
    }

    /// The invoice raised, or `null` when it failed.
    #[napi(getter, catch_unwind)]
    pub fn record(&self) -> Option<InvoiceRecord> {
        self.record.clone().map(InvoiceRecord)
    }

    /// Why the invoice was not raised, as the error the call would have thrown.
    #[napi(getter, ts_return_type = "BillbridgeError | null", catch_unwind)]
    pub fn error<'env>(&self, env: &'env Env) -> Result<Option<Unknown<'env>>> {
        self.error
            .as_ref()
            .map(|error| to_js_value(env, error))
            .transpose()
    }
}

/// What one item of a bulk call produced.
pub enum BulkValue {
    /// An upserted customer.
    Customer(CoreCustomer),
    /// A raised invoice.
    Invoice(Box<CoreRecord>),
}

/// One item of a bulk call: its position in the input and its record or error.
#[napi]
pub struct BulkResult {
    index: usize,
    value: Option<BulkValue>,
    error: Option<BindingError>,
}

impl BulkResult {
    /// The result of one bulk item, its value wrapped as `wrap` says.
    pub fn new<T>(item: BulkItem<T>, wrap: fn(T) -> BulkValue) -> Self {
        let (value, error) = match item.result {
            Ok(value) => (Some(wrap(value)), None),
            Err(error) => (None, Some(BindingError::Core(error))),
        };
        BulkResult {
            index: item.index,
            value,
            error,
        }
    }
}

#[napi]
impl BulkResult {
    /// The item's position in the input.
    #[napi(getter, catch_unwind)]
    pub fn index(&self) -> u32 {
        u32::try_from(self.index).unwrap_or(u32::MAX)
    }

    /// True when the item succeeded.
    #[napi(getter, catch_unwind)]
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The `CustomerRecord` or `InvoiceRecord`, when it succeeded.
    #[napi(getter, catch_unwind)]
    pub fn value(&self) -> Option<Either<CustomerRecord, InvoiceRecord>> {
        self.value.as_ref().map(|value| match value {
            BulkValue::Customer(record) => Either::A(CustomerRecord(record.clone())),
            BulkValue::Invoice(record) => Either::B(InvoiceRecord(record.as_ref().clone())),
        })
    }

    /// The error the item would have thrown, when it failed.
    #[napi(getter, ts_return_type = "BillbridgeError | null", catch_unwind)]
    pub fn error<'env>(&self, env: &'env Env) -> Result<Option<Unknown<'env>>> {
        self.error
            .as_ref()
            .map(|error| to_js_value(env, error))
            .transpose()
    }
}

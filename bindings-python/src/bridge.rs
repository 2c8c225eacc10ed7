//! `Billbridge` (blocking, GIL released) and `AsyncBillbridge` (exported as
//! `billbridge.aio.Billbridge`): the same methods over the two flavours of
//! [`crate::runtime`], each translating its keyword arguments and calling one core
//! method. The builder options are keyword arguments of the constructor.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use billbridge::domain::catalogue::{BillingRates, Catalogue, CatalogueItem, Service};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::InvoiceDraft;
use billbridge::domain::ledger::PaymentMethod;
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{OrganisationId, Party, Patient, PatientId, PayerRef};
use billbridge::store::SyncStore;
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{Billbridge, IdempotencySecret, PaidOutside, Raise, ServiceBilling};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert::{Wrap, body, each, each_of, optional_date, optional_repr};
use crate::errors::raise;
use crate::invoices::PyCatalogueItem;
use crate::metadata::PyMetadataPolicy;
use crate::mock::mock_from_py;
use crate::money::{PyCurrency, PyMoney};
use crate::parties::PyPatient;
use crate::records::{
    BulkValue, PyBalanceAdjustment, PyBulkResult, PyCustomerRecord, PyInvoicePreview,
    PyInvoiceRecord, PyServiceInvoiceOutcome, bulk_options, core, invoice_requests,
};
use crate::reports::{PyPayment, PyPortal, query, range};
use crate::runtime::{Awaitable, Blocking, Flavour};
use crate::stripe::PyHttpTransport;
use crate::webhooks::PyWebhookOutcome;

/// The Stripe client over a `MockStripe` or an `HttpTransport`.
fn client(stripe: &Bound<'_, PyAny>) -> PyResult<StripeClient> {
    if let Some(mock) = mock_from_py(stripe) {
        return Ok(StripeClient::new(mock));
    }
    if let Ok(http) = stripe.cast::<PyHttpTransport>() {
        return Ok(StripeClient::new(http.get().0.clone()));
    }
    Err(PyTypeError::new_err(
        "stripe must be a MockStripe or an HttpTransport",
    ))
}

/// The idempotency secret, as `str` or `bytes`.
fn idempotency_secret(value: &Bound<'_, PyAny>) -> PyResult<IdempotencySecret> {
    let bytes: Vec<u8> = match value.extract::<String>() {
        Ok(text) => text.into_bytes(),
        Err(_) => value
            .extract()
            .map_err(|_| PyTypeError::new_err("idempotency_secret must be str or bytes"))?,
    };
    IdempotencySecret::new(bytes).map_err(raise)
}

/// The bridge from the keyword arguments both flavours take.
#[allow(clippy::too_many_arguments)] // one keyword argument per builder option
fn build(
    stripe: &Bound<'_, PyAny>,
    idempotency_secret: &Bound<'_, PyAny>,
    metadata_policy: Option<&Bound<'_, PyMetadataPolicy>>,
    store: Option<Wrap<Arc<dyn SyncStore>>>,
    account: Option<String>,
    webhook_secret: Option<Wrap<WebhookSecret>>,
    webhook_tolerance: Option<u64>,
    catalogue: Option<&Bound<'_, PyAny>>,
    currency: Option<Wrap<Currency>>,
    default_days_until_due: Option<u32>,
    requests_per_second: Option<u32>,
) -> PyResult<Billbridge> {
    // A bridge over the mock lives on the mock's clock and accepts its deliveries:
    // the core wires that from the transport.
    let mut builder = Billbridge::builder(client(stripe)?)
        .idempotency_secret(self::idempotency_secret(idempotency_secret)?);
    if let Some(policy) = metadata_policy {
        builder = builder.metadata_policy(policy.get().0.clone());
    }
    if let Some(store) = store {
        builder = builder.shared_store(store.0);
    }
    if let Some(account) = account {
        builder = builder.account(account);
    }
    if let Some(secret) = webhook_secret {
        builder = builder.webhook_secret(secret.0);
    }
    if let Some(seconds) = webhook_tolerance {
        builder = builder.webhook_tolerance(Duration::from_secs(seconds));
    }
    if let Some(items) = catalogue.filter(|items| !items.is_none()) {
        let items: Vec<CatalogueItem> =
            each_of::<PyCatalogueItem, _>(items, "CatalogueItem objects", |item| item.0.clone())?;
        builder = builder.catalogue(Catalogue::try_from(items).map_err(raise)?);
    }
    if let Some(currency) = currency {
        builder = builder.currency(currency.0);
    }
    if let Some(days) = default_days_until_due {
        builder = builder.default_days_until_due(days);
    }
    if let Some(rate) = requests_per_second {
        builder = builder.requests_per_second(rate);
    }
    builder.build().map_err(raise)
}

fn patient_of(patient: Option<&Bound<'_, PyPatient>>) -> Option<Patient> {
    patient.map(|patient| patient.get().0.clone())
}

fn records(records: Vec<billbridge::sync::InvoiceRecord>) -> Vec<PyInvoiceRecord> {
    records.into_iter().map(PyInvoiceRecord).collect()
}

macro_rules! bridge_methods {
    ($class:ident, $flavour:ty, $name:literal, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(name = $name, module = "billbridge", frozen)]
        pub struct $class(pub(crate) Billbridge);

        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (*, stripe, idempotency_secret, metadata_policy=None, store=None, account=None, webhook_secret=None, webhook_tolerance=None, catalogue=None, currency=None, default_days_until_due=None, requests_per_second=None))]
            #[allow(clippy::too_many_arguments)] // one keyword argument per builder option
            fn new(
                stripe: &Bound<'_, PyAny>,
                idempotency_secret: &Bound<'_, PyAny>,
                metadata_policy: Option<&Bound<'_, PyMetadataPolicy>>,
                store: Option<Wrap<Arc<dyn SyncStore>>>,
                account: Option<String>,
                webhook_secret: Option<Wrap<WebhookSecret>>,
                webhook_tolerance: Option<u64>,
                catalogue: Option<&Bound<'_, PyAny>>,
                currency: Option<Wrap<Currency>>,
                default_days_until_due: Option<u32>,
                requests_per_second: Option<u32>,
            ) -> PyResult<Self> {
                build(
                    stripe, idempotency_secret, metadata_policy, store, account, webhook_secret,
                    webhook_tolerance, catalogue, currency, default_days_until_due, requests_per_second,
                )
                .map($class)
            }

            /// The connected account (`acct_…`), if any.
            #[getter]
            fn account(&self) -> Option<&str> {
                self.0.account()
            }

            /// The bridge's default currency.
            #[getter]
            fn currency(&self) -> PyCurrency {
                PyCurrency(self.0.currency())
            }

            /// Creates or updates the payer's Stripe customer; nothing is sent when
            /// nothing changed.
            fn upsert_customer<'py>(&self, py: Python<'py>, party: Wrap<Party>) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.upsert_customer(&party.0).await) }, PyCustomerRecord)
            }

            /// The Stripe customer id linked to `payer`, if synced.
            fn customer_id<'py>(&self, py: Python<'py>, payer: Wrap<PayerRef>) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.customer(&payer.0).await) },
                    |link| link.map(|link| link.stripe_customer_id),
                )
            }

            /// Makes `organisation_id` pay `patient_id`'s invoices.
            fn set_default_payer<'py>(&self, py: Python<'py>, patient_id: &str, organisation_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let patient = PatientId::new(patient_id).map_err(raise)?;
                let organisation = OrganisationId::new(organisation_id).map_err(raise)?;
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.set_default_payer(&patient, &organisation).await) }, |()| ())
            }

            /// Makes the patient pay their own invoices again; returns whether a
            /// default payer was set.
            fn clear_default_payer<'py>(&self, py: Python<'py>, patient_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let patient = PatientId::new(patient_id).map_err(raise)?;
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.clear_default_payer(&patient).await) }, |cleared| cleared)
            }

            /// The patient's default payer organisation id, if any.
            fn default_payer<'py>(&self, py: Python<'py>, patient_id: &str) -> PyResult<Bound<'py, PyAny>> {
                let patient = PatientId::new(patient_id).map_err(raise)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.default_payer(&patient).await) },
                    |payer| payer.map(String::from),
                )
            }

            /// Records a credit (negative) or debit on the payer's balance; the
            /// `adjustment_id` makes a re-run a no-op.
            #[pyo3(signature = (payer, amount, *, reason, adjustment_id))]
            fn adjust_balance<'py>(
                &self,
                py: Python<'py>,
                payer: Wrap<PayerRef>,
                amount: Wrap<Money>,
                reason: String,
                adjustment_id: String,
            ) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.adjust_balance(&payer.0, amount.0, &reason, &adjustment_id).await) },
                    PyBalanceAdjustment,
                )
            }

            /// The payer's customer balance (negative: credit).
            fn balance<'py>(&self, py: Python<'py>, payer: Wrap<PayerRef>) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.balance(&payer.0).await) }, PyMoney)
            }

            /// What the payer's invoice for `draft` would ask, without side effects.
            fn preview<'py>(&self, py: Python<'py>, draft: Wrap<InvoiceDraft>) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.preview(&draft.0).await) }, PyInvoicePreview)
            }

            /// Raises `draft` in Stripe (exactly once, resumable): `mode` is
            /// `"draft"`, `"finalize"` or `"finalize_and_send"`. `patient` supplies
            /// the patient metadata when an organisation pays.
            #[pyo3(signature = (draft, *, mode="draft", patient=None))]
            fn raise_invoice<'py>(
                &self,
                py: Python<'py>,
                draft: Wrap<InvoiceDraft>,
                mode: &str,
                patient: Option<&Bound<'py, PyPatient>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mode = mode.parse::<Raise>().map_err(raise)?;
                let patient = patient_of(patient);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.raise_invoice(&draft.0, patient.as_ref(), mode).await) },
                    PyInvoiceRecord,
                )
            }

            /// Applies the edited `draft` to its Stripe draft.
            #[pyo3(signature = (draft, *, patient=None))]
            fn edit_draft<'py>(
                &self,
                py: Python<'py>,
                draft: Wrap<InvoiceDraft>,
                patient: Option<&Bound<'py, PyPatient>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let patient = patient_of(patient);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.edit_draft(&draft.0, patient.as_ref()).await) },
                    PyInvoiceRecord,
                )
            }

            /// Sends the invoice's metadata again under the current policy: keys of
            /// fields switched off since are removed from Stripe.
            #[pyo3(signature = (draft, *, patient=None))]
            fn sync_invoice_metadata<'py>(
                &self,
                py: Python<'py>,
                draft: Wrap<InvoiceDraft>,
                patient: Option<&Bound<'py, PyPatient>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let patient = patient_of(patient);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.sync_invoice_metadata(&draft.0, patient.as_ref()).await) },
                    PyInvoiceRecord,
                )
            }

            /// The host's record of the invoice, if raised.
            fn invoice<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.invoice(&host_invoice_id).await) },
                    |record| record.map(PyInvoiceRecord),
                )
            }

            /// Finalizes a draft (number, payment page, balance applied).
            fn finalize<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.finalize(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Sends an open invoice to the payer.
            fn send<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.send(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Voids an open invoice.
            fn void<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.void(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Marks an open invoice uncollectible.
            fn mark_uncollectible<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.mark_uncollectible(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Deletes a draft.
            fn delete_draft<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.delete_draft(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Records a payment received outside Stripe (`method`: `"cash"`,
            /// `"cheque"`, `"bank_transfer"`, `"card_outside_stripe"`, `"insurance"` or
            /// the host's own name).
            #[pyo3(signature = (host_invoice_id, *, method, reference=None, paid_on=None))]
            fn mark_paid_outside_stripe<'py>(
                &self,
                py: Python<'py>,
                host_invoice_id: String,
                method: &str,
                reference: Option<String>,
                paid_on: Option<Wrap<Date>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mut payment = PaidOutside::new(method.parse::<PaymentMethod>().map_err(raise)?);
                payment.reference = reference;
                payment.paid_on = optional_date(paid_on);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.mark_paid_outside_stripe(&host_invoice_id, &payment).await) },
                    PyInvoiceRecord,
                )
            }

            /// Handles one webhook delivery: the raw body exactly as received and the
            /// `Stripe-Signature` header. Answer Stripe 2xx when this returns.
            fn handle_webhook<'py>(
                &self,
                py: Python<'py>,
                payload: &Bound<'py, PyAny>,
                signature_header: Option<String>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let body = body(payload)?.into_owned();
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.handle_webhook(&body, signature_header.as_deref()).await) },
                    PyWebhookOutcome,
                )
            }

            /// Overwrites the record with Stripe's current invoice.
            fn resync_invoice<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.resync_invoice(&host_invoice_id).await) }, PyInvoiceRecord)
            }

            /// Re-fetches every invoice with events since `since` (unix seconds): the
            /// missed-webhook recovery job.
            fn resync_changed_since<'py>(&self, py: Python<'py>, since: i64) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.resync_changed_since(since).await) }, records)
            }

            /// The invoices in the store matching every filter given: `status`,
            /// `payer`, `patient_id`, `customer_id`, `created` / `due` as
            /// `(first, last)` date pairs, `metadata` key/value pairs.
            #[pyo3(signature = (*, status=None, payer=None, patient_id=None, customer_id=None, created=None, due=None, metadata=None))]
            #[allow(clippy::too_many_arguments)] // one keyword argument per filter
            fn invoices<'py>(
                &self,
                py: Python<'py>,
                status: Option<&str>,
                payer: Option<Wrap<PayerRef>>,
                patient_id: Option<String>,
                customer_id: Option<String>,
                created: Option<(Wrap<Date>, Wrap<Date>)>,
                due: Option<(Wrap<Date>, Wrap<Date>)>,
                metadata: Option<BTreeMap<String, String>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let query = query(status, payer, patient_id, customer_id, created, due, metadata)?;
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.invoices(&query).collect_all().await.map_err(Into::into)) }, records)
            }

            /// Stripe's own list of invoices matching the same filters, joined with the
            /// host's records (invoices the store does not know get their host ids
            /// from their metadata).
            #[pyo3(signature = (*, status=None, payer=None, patient_id=None, customer_id=None, created=None, due=None, metadata=None))]
            #[allow(clippy::too_many_arguments)] // one keyword argument per filter
            fn stripe_invoices<'py>(
                &self,
                py: Python<'py>,
                status: Option<&str>,
                payer: Option<Wrap<PayerRef>>,
                patient_id: Option<String>,
                customer_id: Option<String>,
                created: Option<(Wrap<Date>, Wrap<Date>)>,
                due: Option<(Wrap<Date>, Wrap<Date>)>,
                metadata: Option<BTreeMap<String, String>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let query = query(status, payer, patient_id, customer_id, created, due, metadata)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let pager = core(bridge.stripe_invoices(&query).await)?;
                        core(pager.collect_all().await.map_err(Into::into))
                    },
                    records,
                )
            }

            /// The open invoices, oldest first.
            fn outstanding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.outstanding().collect_all().await.map_err(Into::into)) }, records)
            }

            /// Payments received on or off Stripe between two dates, both included.
            fn payments_received<'py>(&self, py: Python<'py>, first: Wrap<Date>, last: Wrap<Date>) -> PyResult<Bound<'py, PyAny>> {
                let range = range(first, last)?;
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.payments_received(range).collect_all().await.map_err(Into::into)) },
                    |payments| payments.into_iter().map(PyPayment).collect::<Vec<_>>(),
                )
            }

            /// The portal view of `payer`: their finalized invoices, paid and unpaid,
            /// with pay links and what remains to pay per currency.
            fn portal<'py>(&self, py: Python<'py>, payer: Wrap<PayerRef>) -> PyResult<Bound<'py, PyAny>> {
                let bridge = self.0.clone();
                <$flavour>::run(py, async move { core(bridge.portal(&payer.0).await) }, PyPortal)
            }

            /// Upserts every party with at most `concurrency` requests in flight, paced
            /// under `requests_per_second`; one failure does not stop the rest.
            #[pyo3(signature = (parties, *, concurrency=8, requests_per_second=None, progress=None))]
            fn upsert_customers<'py>(
                &self,
                py: Python<'py>,
                parties: &Bound<'py, PyAny>,
                concurrency: usize,
                requests_per_second: Option<u32>,
                progress: Option<Py<PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let parties: Vec<Party> = each(parties, |party| party.extract::<Wrap<Party>>().map(|party| party.0))?;
                let options = bulk_options(concurrency, requests_per_second, progress);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.upsert_customers(&parties, &options).await) },
                    |items| items.into_iter().map(|item| PyBulkResult::new(item, BulkValue::Customer)).collect::<Vec<_>>(),
                )
            }

            /// Raises every draft (or `(draft, patient)` pair) to `mode`, bounded and
            /// paced like `upsert_customers`.
            #[pyo3(signature = (drafts, *, mode="draft", concurrency=8, requests_per_second=None, progress=None))]
            fn raise_invoices<'py>(
                &self,
                py: Python<'py>,
                drafts: &Bound<'py, PyAny>,
                mode: &str,
                concurrency: usize,
                requests_per_second: Option<u32>,
                progress: Option<Py<PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mode = mode.parse::<Raise>().map_err(raise)?;
                let requests = invoice_requests(drafts)?;
                let options = bulk_options(concurrency, requests_per_second, progress);
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.raise_invoices(&requests, mode, &options).await) },
                    |items| {
                        items
                            .into_iter()
                            .map(|item| PyBulkResult::new(item, |record| BulkValue::Invoice(Box::new(record))))
                            .collect::<Vec<_>>()
                    },
                )
            }

            /// One invoice per payer for the invoiceable services; each outcome holds
            /// the services stamped with `invoiced_on` or the error of that invoice.
            #[pyo3(signature = (services, rates, *, invoiced_on, patients=None, mode="finalize_and_send"))]
            fn raise_for_services<'py>(
                &self,
                py: Python<'py>,
                services: Wrap<Vec<Service>>,
                rates: Wrap<BillingRates>,
                invoiced_on: Wrap<Date>,
                patients: Option<&Bound<'py, PyAny>>,
                mode: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let patients: Vec<Patient> = match patients {
                    Some(patients) => each(patients, |patient| patient.extract::<Wrap<Patient>>().map(|patient| patient.0))?,
                    None => Vec::new(),
                };
                let billing = ServiceBilling {
                    invoiced_on: invoiced_on.0,
                    mode: mode.parse::<Raise>().map_err(raise)?,
                };
                let bridge = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { core(bridge.raise_for_services(&services.0, &rates.0, &patients, &billing).await) },
                    |outcomes| outcomes.into_iter().map(PyServiceInvoiceOutcome::from).collect::<Vec<_>>(),
                )
            }

            fn __repr__(&self) -> String {
                format!(
                    "{}(account={}, currency='{}')",
                    $name,
                    optional_repr(self.0.account()),
                    self.0.currency()
                )
            }
        }
    };
}

bridge_methods!(
    PyBillbridge,
    Blocking,
    "Billbridge",
    "The bridge between the host's records and Stripe; every method blocks with the GIL released."
);
bridge_methods!(
    PyAsyncBillbridge,
    Awaitable,
    "AsyncBillbridge",
    "The bridge with every method returning an awaitable (exported as `billbridge.aio.Billbridge`)."
);

/// Registers the bridge classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyBillbridge>()?;
    module.add_class::<PyAsyncBillbridge>()?;
    Ok(())
}

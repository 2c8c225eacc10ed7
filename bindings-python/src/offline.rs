//! Offline billing for a practice with no Stripe account: `OfflineBilling` (blocking,
//! GIL released) and `AsyncOfflineBilling` (exported as `billbridge.aio.OfflineBilling`)
//! over the core's `offline::OfflineBilling`, with its `MemoryLedgerStore` (or a
//! `SqliteStore` as the ledger), `LedgerRecord` and service invoices. Invoices come back as the same `InvoiceRecord`
//! the bridge returns and payments as report `Payment` rows; every rule is the core's.

use std::collections::BTreeMap;
use std::sync::Arc;

use billbridge::Error;
use billbridge::domain::catalogue::{self, Service};
use billbridge::domain::ledger::{ManualPayment, PaymentMethod};
use billbridge::domain::party::{OrganisationId, PatientId};
use billbridge::offline::{OfflineBilling, ServiceInvoice, service_invoice_id};
use billbridge::report::DateRange;
use billbridge::store::{LedgerRecord, LedgerStore, MemoryLedgerStore, MemoryStore, SyncStore};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDate;

use crate::bridge::{
    Awaitable, Blocking, Flavour, PyInvoiceRecord, PySqliteStore, core, services_from_py,
    store_from_py,
};
use crate::convert::{date_from_py, date_to_py, from_py, to_py};
use crate::domain::{
    PyInvoiceDraft, PyInvoiceLine, PyPayerRef, PyService, payer_from_py as payer, rates_from_py,
};
use crate::errors::raise;
use crate::money::{PyCurrency, PyMoney};
use crate::report::{PyPayment, PyPortal, query_from_py};

/// The core's offline billing over the binding's stores.
type CoreOffline = OfflineBilling<Arc<dyn SyncStore>, Arc<dyn LedgerStore>>;

/// The in-memory ledger of offline invoices and their payments (lost when the process
/// ends); give the same one to several `OfflineBilling` objects to share the books.
#[pyclass(name = "MemoryLedgerStore", module = "billbridge", frozen)]
pub struct PyMemoryLedgerStore(MemoryLedgerStore);

#[pymethods]
impl PyMemoryLedgerStore {
    #[new]
    fn new() -> Self {
        PyMemoryLedgerStore(MemoryLedgerStore::new())
    }

    fn __repr__(&self) -> &'static str {
        "MemoryLedgerStore()"
    }
}

/// One offline invoice as the ledger keeps it, with its payment history.
#[pyclass(name = "LedgerRecord", module = "billbridge", frozen)]
pub struct PyLedgerRecord(LedgerRecord);

#[pymethods]
impl PyLedgerRecord {
    /// The host's invoice id.
    #[getter]
    fn host_invoice_id(&self) -> &str {
        self.0.host_invoice_id()
    }

    /// The locally assigned invoice number (`OFF-0001`, …).
    #[getter]
    fn number(&self) -> &str {
        &self.0.number
    }

    /// The account the books are kept under, if any.
    #[getter]
    fn account(&self) -> Option<&str> {
        self.0.account.as_deref()
    }

    /// `"open"`, `"paid"`, `"void"`, `"uncollectible"` (or `"draft"`).
    #[getter]
    fn status(&self) -> &str {
        self.0.invoice.status.as_str()
    }

    /// Who pays.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.invoice.payer.clone())
    }

    /// The patient the invoice is about.
    #[getter]
    fn patient_id(&self) -> Option<&str> {
        self.0.invoice.subject.as_ref().map(PatientId::as_str)
    }

    /// The invoice's currency.
    #[getter]
    fn currency(&self) -> PyCurrency {
        PyCurrency(self.0.invoice.currency)
    }

    /// The invoice lines.
    #[getter]
    fn lines(&self) -> Vec<PyInvoiceLine> {
        self.0
            .invoice
            .lines
            .iter()
            .cloned()
            .map(PyInvoiceLine)
            .collect()
    }

    /// Σ lines.
    #[getter]
    fn total(&self) -> PyMoney {
        PyMoney(self.0.invoice.total)
    }

    /// What the invoice asks.
    #[getter]
    fn amount_due(&self) -> PyMoney {
        PyMoney(self.0.invoice.amount_due)
    }

    /// What was paid so far.
    #[getter]
    fn amount_paid(&self) -> PyResult<PyMoney> {
        self.0.invoice.amount_paid().map(PyMoney).map_err(raise)
    }

    /// What is left to pay.
    #[getter]
    fn amount_remaining(&self) -> PyResult<PyMoney> {
        self.0
            .invoice
            .amount_remaining()
            .map(PyMoney)
            .map_err(raise)
    }

    /// The day the invoice was issued.
    #[getter]
    fn invoiced_on<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        self.0
            .invoice
            .invoiced_on
            .map(|date| date_to_py(py, date))
            .transpose()
    }

    /// The day payment is due, for invoices sent for payment.
    #[getter]
    fn due_on<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        self.0.due_on.map(|date| date_to_py(py, date)).transpose()
    }

    /// The day of the last change.
    #[getter]
    fn updated_on<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDate>> {
        date_to_py(py, self.0.updated_on)
    }

    /// Incremented on every change.
    #[getter]
    fn revision(&self) -> u64 {
        self.0.revision
    }

    /// The metadata reported with the invoice.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.metadata)
    }

    /// The draft the invoice was raised from.
    #[getter]
    fn draft(&self) -> PyInvoiceDraft {
        PyInvoiceDraft(self.0.draft.clone())
    }

    /// Every payment recorded, oldest first, as report rows.
    #[getter]
    fn payments(&self) -> PyResult<Vec<PyPayment>> {
        let payments = self.0.payments().map_err(raise)?;
        Ok(payments.into_iter().map(PyPayment).collect())
    }

    /// The report row of the invoice, as reports and CSV export see it.
    fn to_record(&self) -> PyResult<PyInvoiceRecord> {
        self.0.to_mirror().map(PyInvoiceRecord).map_err(raise)
    }

    /// The record as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    // Metadata values and line descriptions can be personal data: ids and status only.
    fn __repr__(&self) -> String {
        format!(
            "LedgerRecord(host_invoice_id={:?}, number={:?}, status='{}', revision={})",
            self.0.host_invoice_id(),
            self.0.number,
            self.0.invoice.status.as_str(),
            self.0.revision
        )
    }
}

/// The invoice offline billing raised for one payer's services.
#[pyclass(name = "OfflineServiceInvoice", module = "billbridge", frozen)]
pub struct PyOfflineServiceInvoice {
    invoice: ServiceInvoice,
    services: Vec<Service>,
}

#[pymethods]
impl PyOfflineServiceInvoice {
    /// The invoice raised.
    #[getter]
    fn invoice(&self) -> PyInvoiceRecord {
        PyInvoiceRecord(self.invoice.invoice.clone())
    }

    /// The ids of the services it bills.
    #[getter]
    fn service_ids(&self) -> Vec<&str> {
        self.invoice.services.iter().map(|id| id.as_str()).collect()
    }

    /// The services it bills, stamped with the invoiced date.
    #[getter]
    fn services(&self) -> Vec<PyService> {
        self.services.iter().cloned().map(PyService).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "OfflineServiceInvoice(host_invoice_id={:?}, services={})",
            self.invoice.invoice.host_invoice_id,
            self.invoice.services.len()
        )
    }
}

/// Pairs each service invoice with its services as the core stamped them.
fn service_invoices(
    (services, invoices): (Vec<Service>, Vec<ServiceInvoice>),
) -> Vec<PyOfflineServiceInvoice> {
    invoices
        .into_iter()
        .map(|invoice| {
            let billed = services
                .iter()
                .filter(|service| invoice.services.contains(&service.id))
                .cloned()
                .collect();
            PyOfflineServiceInvoice {
                invoice,
                services: billed,
            }
        })
        .collect()
}

fn default_payers_from_py(
    default_payers: Option<BTreeMap<String, String>>,
) -> PyResult<BTreeMap<PatientId, OrganisationId>> {
    let mut payers = BTreeMap::new();
    for (patient, organisation) in default_payers.unwrap_or_default() {
        payers.insert(
            PatientId::new(patient).map_err(raise)?,
            OrganisationId::new(organisation).map_err(raise)?,
        );
    }
    Ok(payers)
}

fn build_offline(
    store: Option<&Bound<'_, PyAny>>,
    ledger: Option<&Bound<'_, PyAny>>,
    account: Option<String>,
    number_prefix: Option<String>,
) -> PyResult<Arc<CoreOffline>> {
    let store = store.filter(|store| !store.is_none());
    let ledger = match ledger.filter(|ledger| !ledger.is_none()) {
        Some(ledger) => ledger_from_py(ledger)?,
        // A SQLite sync store keeps the books too, so they survive restarts.
        None => match store.and_then(|store| store.cast::<PySqliteStore>().ok()) {
            Some(sqlite) => sqlite.get().shared() as Arc<dyn LedgerStore>,
            None => Arc::new(MemoryLedgerStore::new()) as Arc<dyn LedgerStore>,
        },
    };
    let store = match store {
        Some(store) => store_from_py(store)?,
        None => Arc::new(MemoryStore::new()) as Arc<dyn SyncStore>,
    };
    let mut billing = OfflineBilling::new(store, ledger);
    if let Some(account) = account {
        billing = billing.account(account);
    }
    if let Some(prefix) = number_prefix {
        billing = billing.number_prefix(prefix);
    }
    Ok(Arc::new(billing))
}

/// A `MemoryLedgerStore` or a `SqliteStore` as the core's ledger store.
fn ledger_from_py(ledger: &Bound<'_, PyAny>) -> PyResult<Arc<dyn LedgerStore>> {
    if let Ok(memory) = ledger.cast::<PyMemoryLedgerStore>() {
        Ok(Arc::new(memory.get().0.clone()) as Arc<dyn LedgerStore>)
    } else if let Ok(sqlite) = ledger.cast::<PySqliteStore>() {
        Ok(sqlite.get().shared() as Arc<dyn LedgerStore>)
    } else {
        Err(PyTypeError::new_err(
            "ledger must be a MemoryLedgerStore or a SqliteStore",
        ))
    }
}

fn offline<T>(result: Result<T, impl Into<Error>>) -> Result<T, crate::errors::BindingError> {
    core(result.map_err(Into::into))
}

macro_rules! offline_methods {
    ($class:ident, $flavour:ty, $name:literal, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(name = $name, module = "billbridge", frozen)]
        pub struct $class(Arc<CoreOffline>);

        #[pymethods]
        impl $class {
            /// `OfflineBilling(store=MemoryStore(), ledger=MemoryLedgerStore(),
            /// account=None, number_prefix="OFF")`: invoice mirrors go to `store`
            /// (reports read them there), invoices and payments to `ledger`: a
            /// `MemoryLedgerStore` (lost when the process ends) or a `SqliteStore`
            /// (the books survive restarts). Without `ledger`, a `SqliteStore` given
            /// as `store` keeps the books too; otherwise a new `MemoryLedgerStore` does.
            #[new]
            #[pyo3(signature = (*, store=None, ledger=None, account=None, number_prefix=None))]
            fn new(
                store: Option<&Bound<'_, PyAny>>,
                ledger: Option<&Bound<'_, PyAny>>,
                account: Option<String>,
                number_prefix: Option<String>,
            ) -> PyResult<Self> {
                build_offline(store, ledger, account, number_prefix).map($class)
            }

            /// The account the books are kept under, if any.
            #[getter]
            fn account(&self) -> Option<&str> {
                self.0.account_id()
            }

            /// The offline invoice `host_invoice_id` with its payments, if raised.
            fn invoice<'py>(&self, py: Python<'py>, host_invoice_id: String) -> PyResult<Bound<'py, PyAny>> {
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { offline(billing.invoice(&host_invoice_id).await) },
                    |record| record.map(PyLedgerRecord),
                )
            }

            /// Raises `draft` (which needs a `host_id`) on the day `on`: issued at once,
            /// numbered and dated; `metadata` rides along for reports. Raising the same
            /// draft again returns the invoice already raised.
            #[pyo3(signature = (draft, *, on, metadata=None))]
            fn raise_invoice<'py>(
                &self,
                py: Python<'py>,
                draft: &Bound<'py, PyInvoiceDraft>,
                on: &Bound<'py, PyAny>,
                metadata: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let draft = draft.borrow().0.clone();
                let on = date_from_py(on)?;
                let metadata = match metadata.filter(|metadata| !metadata.is_none()) {
                    Some(metadata) => Some(from_py(metadata, "metadata")?),
                    None => None,
                };
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let raised = match metadata {
                            Some(metadata) => billing.raise_with_metadata(&draft, on, metadata).await,
                            None => billing.raise(&draft, on).await,
                        };
                        offline(raised)
                    },
                    PyInvoiceRecord,
                )
            }

            /// Records a payment made outside Stripe on the day `on` (`method`:
            /// `"cash"`, `"cheque"`, `"bank_transfer"`, `"card_outside_stripe"`,
            /// `"insurance"` or the host's own name). Partial payments are allowed;
            /// the invoice is paid when nothing remains.
            #[pyo3(signature = (host_invoice_id, amount, *, method, on, reference=None))]
            fn record_payment<'py>(
                &self,
                py: Python<'py>,
                host_invoice_id: String,
                amount: &Bound<'py, PyMoney>,
                method: &str,
                on: &Bound<'py, PyAny>,
                reference: Option<String>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mut payment = ManualPayment::new(PaymentMethod::from(method), amount.get().0, date_from_py(on)?);
                if let Some(reference) = reference {
                    payment = payment.with_reference(reference);
                }
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { offline(billing.record_payment(&host_invoice_id, payment).await) },
                    PyInvoiceRecord,
                )
            }

            /// Voids an open or uncollectible invoice on the day `on`.
            #[pyo3(signature = (host_invoice_id, *, on))]
            fn void<'py>(&self, py: Python<'py>, host_invoice_id: String, on: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let on = date_from_py(on)?;
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.void(&host_invoice_id, on).await) }, PyInvoiceRecord)
            }

            /// Writes an open invoice off on the day `on`; it can still be paid or voided.
            #[pyo3(signature = (host_invoice_id, *, on))]
            fn mark_uncollectible<'py>(&self, py: Python<'py>, host_invoice_id: String, on: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let on = date_from_py(on)?;
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.mark_uncollectible(&host_invoice_id, on).await) }, PyInvoiceRecord)
            }

            /// One invoice per payer for the invoiceable services (under an invoiced
            /// rate, not yet invoiced), each invoiced service stamped with
            /// `invoiced_on`. An insurance rate bills the patient's organisation from
            /// `default_payers` (patient id → organisation id), else the patient.
            /// On an error the invoices raised before it stay raised; running again
            /// with the same services raises the rest.
            #[pyo3(signature = (services, rates, *, invoiced_on, default_payers=None))]
            fn raise_for_services<'py>(
                &self,
                py: Python<'py>,
                services: &Bound<'py, PyAny>,
                rates: &Bound<'py, PyAny>,
                invoiced_on: &Bound<'py, PyAny>,
                default_payers: Option<BTreeMap<String, String>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let mut services = services_from_py(services)?;
                let rates = rates_from_py(rates)?;
                let on = date_from_py(invoiced_on)?;
                let payers = default_payers_from_py(default_payers)?;
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let raised = billing
                            .raise_for_services(
                                &mut services,
                                &rates,
                                |service, rate| catalogue::payer_for_service(service, rate, &payers),
                                service_invoice_id,
                                on,
                            )
                            .await;
                        offline(raised).map(|invoices| (services, invoices))
                    },
                    service_invoices,
                )
            }

            /// Every payment received between two dates, both included, one row per
            /// payment (partial payments itemised).
            fn payments_received<'py>(&self, py: Python<'py>, first: &Bound<'py, PyAny>, last: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let range = DateRange::new(date_from_py(first)?, date_from_py(last)?).map_err(raise)?;
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { offline(billing.payments_received(range).collect_all().await) },
                    |payments| payments.into_iter().map(PyPayment).collect::<Vec<_>>(),
                )
            }

            /// Rewrites every invoice mirror from the ledger (after a failed mirror
            /// write, or into a new store); returns how many were written.
            fn rebuild_mirrors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.rebuild_mirrors().await) }, |written| written)
            }

            /// The offline invoices matching every filter given, as
            /// `Billbridge.invoices` filters them.
            #[pyo3(signature = (*, status=None, payer=None, patient_id=None, customer_id=None, created=None, due=None, metadata=None))]
            #[allow(clippy::too_many_arguments)] // one keyword argument per filter
            fn invoices<'py>(
                &self,
                py: Python<'py>,
                status: Option<&str>,
                payer: Option<&Bound<'py, PyAny>>,
                patient_id: Option<String>,
                customer_id: Option<String>,
                created: Option<&Bound<'py, PyAny>>,
                due: Option<&Bound<'py, PyAny>>,
                metadata: Option<BTreeMap<String, String>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let payer = payer.map(self::payer).transpose()?;
                let query = query_from_py(status, payer, patient_id, customer_id, created, due, metadata)?;
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let found = billbridge::report::invoices(billing.store().as_ref(), billing.account_id(), &query)
                            .collect_all()
                            .await;
                        offline(found)
                    },
                    |records| records.into_iter().map(PyInvoiceRecord).collect::<Vec<_>>(),
                )
            }

            /// The open invoices, oldest first.
            fn outstanding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let found = billbridge::report::outstanding(billing.store().as_ref(), billing.account_id())
                            .collect_all()
                            .await;
                        offline(found)
                    },
                    |records| records.into_iter().map(PyInvoiceRecord).collect::<Vec<_>>(),
                )
            }

            /// The portal view of `payer`: their invoices, paid and unpaid, and what
            /// remains to pay per currency.
            fn portal<'py>(&self, py: Python<'py>, payer: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let payer = self::payer(payer)?;
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move {
                        let portal = billbridge::report::portal(billing.store().as_ref(), billing.account_id(), &payer).await;
                        offline(portal)
                    },
                    PyPortal,
                )
            }

            fn __repr__(&self) -> String {
                format!(
                    "{}(account={})",
                    $name,
                    crate::convert::optional_repr(self.0.account_id())
                )
            }
        }
    };
}

offline_methods!(
    PyOfflineBilling,
    Blocking,
    "OfflineBilling",
    "Invoicing without Stripe: invoices numbered locally and paid by hand; every method blocks with the GIL released."
);
offline_methods!(
    PyAsyncOfflineBilling,
    Awaitable,
    "AsyncOfflineBilling",
    "Offline billing with every method returning an awaitable (exported as `billbridge.aio.OfflineBilling`)."
);

/// Registers the offline billing classes on the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyMemoryLedgerStore>()?;
    module.add_class::<PyLedgerRecord>()?;
    module.add_class::<PyOfflineServiceInvoice>()?;
    module.add_class::<PyOfflineBilling>()?;
    module.add_class::<PyAsyncOfflineBilling>()?;
    Ok(())
}

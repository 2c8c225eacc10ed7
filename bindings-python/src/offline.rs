//! Offline billing for a practice with no Stripe account: `OfflineBilling` (blocking,
//! GIL released) and `AsyncOfflineBilling` (exported as `billbridge.aio.OfflineBilling`)
//! over the core's `SharedOfflineBilling`, with `LedgerRecord` and the invoices raised
//! for services. Invoices come back as the same `InvoiceRecord` the bridge returns and
//! payments as report `Payment` rows; every rule, store defaults included, is the core's.

use std::collections::BTreeMap;
use std::sync::Arc;

use billbridge::Error;
use billbridge::domain::catalogue::{BillingRates, Service};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::InvoiceDraft;
use billbridge::domain::ledger::{ManualPayment, PaymentMethod};
use billbridge::domain::money::Money;
use billbridge::domain::party::{OrganisationId, PatientId, PayerRef};
use billbridge::offline::{ServiceInvoice, SharedOfflineBilling};
use billbridge::store::{LedgerRecord, LedgerStore, MetadataMap, SyncStore};
use pyo3::prelude::*;
use pyo3::types::PyDate;

use crate::convert::{Wrap, date_to_py, from_py, optional_date_to_py, optional_repr, to_py};
use crate::errors::{BindingError, raise};
use crate::invoices::{PyInvoiceDraft, PyInvoiceLine};
use crate::money::{PyCurrency, PyMoney};
use crate::parties::PyPayerRef;
use crate::rates::PyService;
use crate::records::PyInvoiceRecord;
use crate::reports::{PyPayment, PyPortal, query, range};
use crate::runtime::{Awaitable, Blocking, Flavour};

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
        optional_date_to_py(py, self.0.invoice.invoiced_on)
    }

    /// The day payment is due, for invoices sent for payment.
    #[getter]
    fn due_on<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        optional_date_to_py(py, self.0.due_on)
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
    fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// The draft the invoice was raised from.
    #[getter]
    fn draft(&self) -> PyInvoiceDraft {
        PyInvoiceDraft(self.0.draft.clone())
    }

    /// Every payment recorded, oldest first, as report rows.
    #[getter]
    fn payments(&self) -> Vec<PyPayment> {
        self.0.payments().into_iter().map(PyPayment).collect()
    }

    /// The report row of the invoice, as reports and CSV export see it.
    fn to_record(&self) -> PyResult<PyInvoiceRecord> {
        let row = self.0.to_mirror().map_err(raise)?;
        billbridge::sync::InvoiceRecord::from_row(&row)
            .map(PyInvoiceRecord)
            .map_err(raise)
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
            self.0.invoice.status,
            self.0.revision
        )
    }
}

/// The invoice offline billing raised for one payer's services.
#[pyclass(name = "OfflineServiceInvoice", module = "billbridge", frozen)]
pub struct PyOfflineServiceInvoice(ServiceInvoice);

#[pymethods]
impl PyOfflineServiceInvoice {
    /// The invoice raised.
    #[getter]
    fn invoice(&self) -> PyInvoiceRecord {
        PyInvoiceRecord(self.0.invoice.clone())
    }

    /// The ids of the services it bills.
    #[getter]
    fn service_ids(&self) -> Vec<&str> {
        self.0
            .services
            .iter()
            .map(|service| service.id.as_str())
            .collect()
    }

    /// The services it bills, stamped with the invoiced date.
    #[getter]
    fn services(&self) -> Vec<PyService> {
        self.0.services.iter().cloned().map(PyService).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "OfflineServiceInvoice(host_invoice_id={:?}, services={})",
            self.0.invoice.host_invoice_id,
            self.0.services.len()
        )
    }
}

fn default_payers(
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

fn offline<T>(result: Result<T, impl Into<Error>>) -> Result<T, BindingError> {
    result.map_err(|error| BindingError::Core(error.into()))
}

fn records(records: Vec<billbridge::sync::InvoiceRecord>) -> Vec<PyInvoiceRecord> {
    records.into_iter().map(PyInvoiceRecord).collect()
}

macro_rules! offline_methods {
    ($class:ident, $flavour:ty, $name:literal, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(name = $name, module = "billbridge", frozen)]
        pub struct $class(Arc<SharedOfflineBilling>);

        #[pymethods]
        impl $class {
            /// `OfflineBilling(store=MemoryStore(), ledger=MemoryLedgerStore(),
            /// account=None, number_prefix="OFF")`: invoice records go to `store`
            /// (reports read them there), invoices and payments to `ledger`. Without
            /// `ledger`, a `SqliteStore` given as `store` keeps the books too, so they
            /// survive restarts; otherwise a new `MemoryLedgerStore` does.
            #[new]
            #[pyo3(signature = (*, store=None, ledger=None, account=None, number_prefix=None))]
            fn new(
                store: Option<Wrap<Arc<dyn SyncStore>>>,
                ledger: Option<Wrap<Arc<dyn LedgerStore>>>,
                account: Option<String>,
                number_prefix: Option<String>,
            ) -> Self {
                let mut billing = SharedOfflineBilling::over(store.map(|store| store.0), ledger.map(|ledger| ledger.0));
                if let Some(account) = account {
                    billing = billing.account(account);
                }
                if let Some(prefix) = number_prefix {
                    billing = billing.number_prefix(prefix);
                }
                $class(Arc::new(billing))
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
                draft: Wrap<InvoiceDraft>,
                on: Wrap<Date>,
                metadata: Option<&Bound<'py, PyAny>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let metadata: MetadataMap = match metadata.filter(|metadata| !metadata.is_none()) {
                    Some(metadata) => from_py(metadata, "metadata")?,
                    None => MetadataMap::new(),
                };
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { offline(billing.raise_with_metadata(&draft.0, on.0, metadata).await) },
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
                amount: Wrap<Money>,
                method: &str,
                on: Wrap<Date>,
                reference: Option<String>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let method = method.parse::<PaymentMethod>().map_err(raise)?;
                let mut payment = ManualPayment::new(method, amount.0, on.0);
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
            fn void<'py>(&self, py: Python<'py>, host_invoice_id: String, on: Wrap<Date>) -> PyResult<Bound<'py, PyAny>> {
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.void(&host_invoice_id, on.0).await) }, PyInvoiceRecord)
            }

            /// Writes an open invoice off on the day `on`; it can still be paid or voided.
            #[pyo3(signature = (host_invoice_id, *, on))]
            fn mark_uncollectible<'py>(&self, py: Python<'py>, host_invoice_id: String, on: Wrap<Date>) -> PyResult<Bound<'py, PyAny>> {
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.mark_uncollectible(&host_invoice_id, on.0).await) }, PyInvoiceRecord)
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
                services: Wrap<Vec<Service>>,
                rates: Wrap<BillingRates>,
                invoiced_on: Wrap<Date>,
                default_payers: Option<BTreeMap<String, String>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let payers = self::default_payers(default_payers)?;
                let mut services = services.0;
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { offline(billing.raise_services(&mut services, &rates.0, &payers, invoiced_on.0).await) },
                    |invoices| invoices.into_iter().map(PyOfflineServiceInvoice).collect::<Vec<_>>(),
                )
            }

            /// Every payment received between two dates, both included, one row per
            /// payment (partial payments itemised).
            fn payments_received<'py>(&self, py: Python<'py>, first: Wrap<Date>, last: Wrap<Date>) -> PyResult<Bound<'py, PyAny>> {
                let range = range(first, last)?;
                let billing = self.0.clone();
                <$flavour>::run(
                    py,
                    async move { offline(billing.payments_received(range).collect_all().await) },
                    |payments| payments.into_iter().map(PyPayment).collect::<Vec<_>>(),
                )
            }

            /// Rewrites every invoice record from the ledger (after a failed write, or
            /// into a new store); returns how many were written.
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
                payer: Option<Wrap<PayerRef>>,
                patient_id: Option<String>,
                customer_id: Option<String>,
                created: Option<(Wrap<Date>, Wrap<Date>)>,
                due: Option<(Wrap<Date>, Wrap<Date>)>,
                metadata: Option<BTreeMap<String, String>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let query = query(status, payer, patient_id, customer_id, created, due, metadata)?;
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.invoices(&query).collect_all().await) }, records)
            }

            /// The open invoices, oldest first.
            fn outstanding<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.outstanding().collect_all().await) }, records)
            }

            /// The portal view of `payer`: their invoices, paid and unpaid, and what
            /// remains to pay per currency.
            fn portal<'py>(&self, py: Python<'py>, payer: Wrap<PayerRef>) -> PyResult<Bound<'py, PyAny>> {
                let billing = self.0.clone();
                <$flavour>::run(py, async move { offline(billing.portal(&payer.0).await) }, PyPortal)
            }

            fn __repr__(&self) -> String {
                format!("{}(account={})", $name, optional_repr(self.0.account_id()))
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

/// Registers the offline billing classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyLedgerRecord>()?;
    module.add_class::<PyOfflineServiceInvoice>()?;
    module.add_class::<PyOfflineBilling>()?;
    module.add_class::<PyAsyncOfflineBilling>()?;
    Ok(())
}

//! What the bridge and offline billing hand back, as read-only Python classes over the
//! core's typed records: amounts are `Money`, days are `datetime.date`, words are the
//! core's. Report rows are in `reports`, webhook outcomes in `webhooks`.

use std::collections::BTreeMap;

use billbridge::Error;
use billbridge::domain::catalogue::Service;
use billbridge::domain::party::PayerRef;
use billbridge::sync::{
    BalanceAdjustment, BulkItem, CustomerRecord, InvoicePreview, InvoiceRecord,
    ServiceInvoiceOutcome,
};
use pyo3::IntoPyObjectExt;
use std::sync::Arc;

use billbridge::domain::invoice::InvoiceDraft;
use billbridge::domain::party::Patient;
use billbridge::sync::{BulkOptions, BulkProgress, InvoiceRequest, ProgressCallback};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDate;

use crate::convert::{Wrap, each, optional_date_to_py, optional_repr, to_py};
use crate::errors::{BindingError, exception_instance};
use crate::money::PyMoney;
use crate::parties::PyPayerRef;
use crate::rates::PyService;

/// A customer after an upsert.
#[pyclass(name = "CustomerRecord", module = "billbridge", frozen)]
pub struct PyCustomerRecord(pub CustomerRecord);

#[pymethods]
impl PyCustomerRecord {
    /// `"patient"` or `"organisation"`.
    #[getter]
    fn party_kind(&self) -> &'static str {
        self.0.party_kind.as_str()
    }

    /// The host's id of the party.
    #[getter]
    fn host_party_id(&self) -> &str {
        &self.0.host_party_id
    }

    /// Stripe's customer id (`cus_…`).
    #[getter]
    fn stripe_customer_id(&self) -> &str {
        &self.0.stripe_customer_id
    }

    /// `"created"`, `"updated"` or `"unchanged"` (nothing sent).
    #[getter]
    fn outcome(&self) -> &'static str {
        self.0.outcome.as_str()
    }

    fn __repr__(&self) -> String {
        format!(
            "CustomerRecord(host_party_id={:?}, stripe_customer_id={:?}, outcome='{}')",
            self.0.host_party_id, self.0.stripe_customer_id, self.0.outcome
        )
    }
}

/// A credit or debit recorded on a payer's balance.
#[pyclass(name = "BalanceAdjustment", module = "billbridge", frozen)]
pub struct PyBalanceAdjustment(pub BalanceAdjustment);

#[pymethods]
impl PyBalanceAdjustment {
    /// Stripe's balance transaction id.
    #[getter]
    fn stripe_transaction_id(&self) -> &str {
        &self.0.stripe_transaction_id
    }

    /// The adjustment (negative: a credit to the payer).
    #[getter]
    fn amount(&self) -> PyMoney {
        PyMoney(self.0.amount)
    }

    /// The balance after it.
    #[getter]
    fn ending_balance(&self) -> PyMoney {
        PyMoney(self.0.ending_balance)
    }

    fn __repr__(&self) -> String {
        format!(
            "BalanceAdjustment(amount={}, ending_balance={})",
            self.0.amount, self.0.ending_balance
        )
    }
}

/// What the payer's next invoice for a draft would ask (no side effects).
#[pyclass(name = "InvoicePreview", module = "billbridge", frozen)]
pub struct PyInvoicePreview(pub InvoicePreview);

#[pymethods]
impl PyInvoicePreview {
    /// Who would be billed.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.payer.clone())
    }

    /// The draft's total.
    #[getter]
    fn total(&self) -> PyMoney {
        PyMoney(self.0.total)
    }

    /// The payer's balance now.
    #[getter]
    fn starting_balance(&self) -> PyMoney {
        PyMoney(self.0.starting_balance)
    }

    /// The part of the balance the invoice would use.
    #[getter]
    fn applied_balance(&self) -> PyMoney {
        PyMoney(self.0.applied_balance)
    }

    /// What the invoice would ask for.
    #[getter]
    fn amount_due(&self) -> PyMoney {
        PyMoney(self.0.amount_due)
    }

    /// The payer's balance after finalization.
    #[getter]
    fn ending_balance(&self) -> PyMoney {
        PyMoney(self.0.ending_balance)
    }

    /// Whether Stripe would mark the invoice paid at finalization.
    #[getter]
    fn paid_at_finalization(&self) -> bool {
        self.0.paid_at_finalization
    }

    /// A remainder below the minimum charge Stripe would carry to the balance.
    #[getter]
    fn carried_to_balance(&self) -> PyMoney {
        PyMoney(self.0.carried_to_balance)
    }

    fn __repr__(&self) -> String {
        format!(
            "InvoicePreview(total={}, amount_due={})",
            self.0.total, self.0.amount_due
        )
    }
}

/// The host's record of an invoice: Stripe's state kept in step with the host's ids.
#[pyclass(name = "InvoiceRecord", module = "billbridge", frozen)]
pub struct PyInvoiceRecord(pub InvoiceRecord);

/// A record given as an `InvoiceRecord`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<InvoiceRecord> {
    type Error = PyErr;

    fn extract(value: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        value
            .cast::<PyInvoiceRecord>()
            .map(|record| Wrap(record.get().0.clone()))
            .map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("records must be InvoiceRecord objects")
            })
    }
}

#[pymethods]
impl PyInvoiceRecord {
    /// The host's invoice id.
    #[getter]
    fn host_invoice_id(&self) -> &str {
        &self.0.host_invoice_id
    }

    /// Stripe's invoice id (`in_…`; `offline:…` for offline invoices).
    #[getter]
    fn stripe_invoice_id(&self) -> &str {
        &self.0.stripe_invoice_id
    }

    /// Stripe's customer id (`cus_…`).
    #[getter]
    fn stripe_customer_id(&self) -> &str {
        &self.0.stripe_customer_id
    }

    /// `"draft"`, `"open"`, `"paid"`, `"void"`, `"uncollectible"` or `"deleted"`: the
    /// last status billbridge knows.
    #[getter]
    fn status(&self) -> &str {
        self.0.status.as_str()
    }

    /// A status Stripe sent that this version of billbridge does not know, as Stripe
    /// spelled it (re-sync later, or upgrade); None when Stripe's status is known.
    #[getter]
    fn unrecognised_status(&self) -> Option<&str> {
        self.0.unrecognised_status.as_deref()
    }

    /// The invoice number, once finalized.
    #[getter]
    fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }

    /// The invoice's currency.
    #[getter]
    fn currency(&self) -> crate::money::PyCurrency {
        crate::money::PyCurrency(self.0.currency)
    }

    /// Σ lines before discounts.
    #[getter]
    fn subtotal(&self) -> PyMoney {
        PyMoney(self.0.subtotal)
    }

    /// Σ lines.
    #[getter]
    fn total(&self) -> PyMoney {
        PyMoney(self.0.total)
    }

    /// What the invoice asks, after the customer balance.
    #[getter]
    fn amount_due(&self) -> PyMoney {
        PyMoney(self.0.amount_due)
    }

    /// What was paid.
    #[getter]
    fn amount_paid(&self) -> PyMoney {
        PyMoney(self.0.amount_paid)
    }

    /// What is left to pay.
    #[getter]
    fn amount_remaining(&self) -> PyMoney {
        PyMoney(self.0.amount_remaining)
    }

    /// A remainder below the minimum charge carried to the payer's balance (owed,
    /// not received).
    #[getter]
    fn carried_to_balance(&self) -> PyMoney {
        PyMoney(self.0.carried_to_balance())
    }

    /// The payer's balance when the invoice was finalized.
    #[getter]
    fn starting_balance(&self) -> PyMoney {
        PyMoney(self.0.starting_balance)
    }

    /// The payer's balance after it; None on drafts.
    #[getter]
    fn ending_balance(&self) -> Option<PyMoney> {
        self.0.ending_balance.map(PyMoney)
    }

    /// The payment page.
    #[getter]
    fn hosted_invoice_url(&self) -> Option<&str> {
        self.0.hosted_invoice_url.as_deref()
    }

    /// The PDF.
    #[getter]
    fn invoice_pdf(&self) -> Option<&str> {
        self.0.invoice_pdf.as_deref()
    }

    /// The day payment is due (UTC), for invoices sent for payment.
    #[getter]
    fn due_on<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        optional_date_to_py(py, self.0.due_on)
    }

    /// When Stripe created the invoice, unix seconds.
    #[getter]
    fn created(&self) -> i64 {
        self.0.created
    }

    /// When the invoice became paid, unix seconds.
    #[getter]
    fn paid_at(&self) -> Option<i64> {
        self.0.paid_at
    }

    /// Who pays.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.payer.clone())
    }

    /// The patient the invoice is about.
    #[getter]
    fn patient_id(&self) -> Option<&str> {
        self.0.patient.as_ref().map(|id| id.as_str())
    }

    /// The invoice's Stripe metadata.
    #[getter]
    fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// How it was paid outside Stripe, if it was.
    #[getter]
    fn paid_outside_method(&self) -> Option<&str> {
        self.0
            .paid_outside
            .as_ref()
            .map(|payment| payment.method.as_str())
    }

    /// The host's reference for the payment outside Stripe.
    #[getter]
    fn paid_outside_reference(&self) -> Option<&str> {
        self.0
            .paid_outside
            .as_ref()
            .and_then(|payment| payment.reference.as_deref())
    }

    /// The day the payment outside Stripe was received.
    #[getter]
    fn paid_outside_on<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        optional_date_to_py(
            py,
            self.0
                .paid_outside
                .as_ref()
                .and_then(|payment| payment.paid_on),
        )
    }

    /// The record as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "InvoiceRecord(host_invoice_id={:?}, status='{}', number={})",
            self.0.host_invoice_id,
            self.0.status,
            optional_repr(self.0.number.as_deref())
        )
    }
}

/// A result that carries an error rather than raising it, as the exception the call
/// would have raised.
fn error_object(py: Python<'_>, error: &Option<BindingError>) -> PyResult<Option<Py<PyAny>>> {
    error
        .as_ref()
        .map(|error| exception_instance(py, error))
        .transpose()
}

/// One payer's invoice for a group of services.
#[pyclass(name = "ServiceInvoiceOutcome", module = "billbridge", frozen)]
pub struct PyServiceInvoiceOutcome {
    payer: PayerRef,
    host_invoice_id: String,
    services: Vec<Service>,
    record: Option<InvoiceRecord>,
    error: Option<BindingError>,
}

impl From<ServiceInvoiceOutcome> for PyServiceInvoiceOutcome {
    fn from(outcome: ServiceInvoiceOutcome) -> Self {
        let (record, error) = match outcome.result {
            Ok(record) => (Some(record), None),
            Err(error) => (None, Some(BindingError::Core(error))),
        };
        PyServiceInvoiceOutcome {
            payer: outcome.payer,
            host_invoice_id: outcome.host_invoice_id,
            services: outcome.services,
            record,
            error,
        }
    }
}

#[pymethods]
impl PyServiceInvoiceOutcome {
    /// Who the invoice bills.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.payer.clone())
    }

    /// The derived host invoice id (stable across re-runs).
    #[getter]
    fn host_invoice_id(&self) -> &str {
        &self.host_invoice_id
    }

    /// The services, stamped with the invoiced date when the invoice was raised.
    #[getter]
    fn services(&self) -> Vec<PyService> {
        self.services.iter().cloned().map(PyService).collect()
    }

    /// The invoice raised, or None when it failed.
    #[getter]
    fn record(&self) -> Option<PyInvoiceRecord> {
        self.record.clone().map(PyInvoiceRecord)
    }

    /// Why the invoice was not raised, as the exception the call would have raised.
    #[getter]
    fn error(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        error_object(py, &self.error)
    }

    fn __repr__(&self) -> String {
        let raised = if self.record.is_some() {
            "True"
        } else {
            "False"
        };
        format!(
            "ServiceInvoiceOutcome(host_invoice_id={:?}, raised={raised})",
            self.host_invoice_id
        )
    }
}

/// What one item of a bulk call produced.
pub enum BulkValue {
    /// An upserted customer.
    Customer(CustomerRecord),
    /// A raised invoice.
    Invoice(Box<InvoiceRecord>),
}

/// One item of a bulk call: its position in the input and its record or error.
#[pyclass(name = "BulkResult", module = "billbridge", frozen)]
pub struct PyBulkResult {
    index: usize,
    value: Option<BulkValue>,
    error: Option<BindingError>,
}

impl PyBulkResult {
    /// The result of one bulk item, its value wrapped as `wrap` says.
    pub fn new<T>(item: BulkItem<T>, wrap: fn(T) -> BulkValue) -> Self {
        let (value, error) = match item.result {
            Ok(value) => (Some(wrap(value)), None),
            Err(error) => (None, Some(BindingError::Core(error))),
        };
        PyBulkResult {
            index: item.index,
            value,
            error,
        }
    }
}

#[pymethods]
impl PyBulkResult {
    /// The item's position in the input.
    #[getter]
    fn index(&self) -> usize {
        self.index
    }

    /// True when the item succeeded.
    #[getter]
    fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The `CustomerRecord` or `InvoiceRecord`, when it succeeded.
    #[getter]
    fn value(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.value
            .as_ref()
            .map(|value| match value {
                BulkValue::Customer(record) => PyCustomerRecord(record.clone()).into_py_any(py),
                BulkValue::Invoice(record) => {
                    PyInvoiceRecord(record.as_ref().clone()).into_py_any(py)
                }
            })
            .transpose()
    }

    /// The exception the item would have raised, when it failed.
    #[getter]
    fn error(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        error_object(py, &self.error)
    }

    fn __repr__(&self) -> String {
        let outcome = self.error.as_ref().map_or("ok", BindingError::code);
        format!("BulkResult(index={}, outcome='{outcome}')", self.index)
    }
}

/// Bulk options from keyword arguments; `progress(done, failed, total)` is called with
/// the GIL taken, and an exception it raises is reported, not propagated.
pub fn bulk_options(
    concurrency: usize,
    requests_per_second: Option<u32>,
    progress: Option<Py<PyAny>>,
) -> BulkOptions {
    let progress = progress.map(|callback| -> ProgressCallback {
        Arc::new(move |step: BulkProgress| {
            Python::attach(|py| {
                if let Err(error) = callback.call1(py, (step.done, step.failed, step.total)) {
                    error.write_unraisable(py, Some(callback.bind(py)));
                }
            });
        })
    });
    BulkOptions {
        concurrency,
        requests_per_second,
        progress,
    }
}

/// Drafts to raise in bulk: `InvoiceDraft` items or `(InvoiceDraft, Patient)` pairs.
pub fn invoice_requests(items: &Bound<'_, PyAny>) -> PyResult<Vec<InvoiceRequest>> {
    each(items, |item| {
        if let Ok(draft) = item.extract::<Wrap<InvoiceDraft>>() {
            return Ok(InvoiceRequest {
                draft: draft.0,
                patient: None,
            });
        }
        let (draft, patient): (Wrap<InvoiceDraft>, Wrap<Patient>) =
            item.extract().map_err(|_| {
                PyTypeError::new_err("items must be InvoiceDraft or (InvoiceDraft, Patient) pairs")
            })?;
        Ok(InvoiceRequest {
            draft: draft.0,
            patient: Some(patient.0),
        })
    })
}

/// Converts a core result of the bridge or offline billing.
pub fn core<T>(result: Result<T, Error>) -> Result<T, BindingError> {
    result.map_err(BindingError::Core)
}

/// Registers the record classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyCustomerRecord>()?;
    module.add_class::<PyBalanceAdjustment>()?;
    module.add_class::<PyInvoicePreview>()?;
    module.add_class::<PyInvoiceRecord>()?;
    module.add_class::<PyServiceInvoiceOutcome>()?;
    module.add_class::<PyBulkResult>()?;
    Ok(())
}

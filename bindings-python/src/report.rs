//! Reports and CSV export: the query keyword arguments, `Payment` rows, a payer's
//! `Portal`, and the `write_csv` / `write_payments_csv` functions that stream to a path
//! or to any Python file object (text or binary).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use billbridge::domain::party::PayerRef;
use billbridge::report::{
    Column, DateRange, InvoiceQuery, Payment, PaymentColumn, Portal, PortalInvoice,
    write_csv as core_write_csv, write_payments_csv as core_write_payments_csv,
};
use billbridge::store::PartyKind;
use billbridge::sync::InvoiceRecord;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDate, PyString};

use crate::bridge::{PyInvoiceRecord, stripe_money};
use crate::convert::{date_from_py, date_to_py, to_py};
use crate::domain::PyPayerRef;
use crate::errors::raise;
use crate::money::{PyMoney, currency_from_py};

/// A date range from a `(first, last)` pair of dates, both included.
pub fn range_from_py(range: &Bound<'_, PyAny>) -> PyResult<DateRange> {
    let (from, to): (Bound<'_, PyAny>, Bound<'_, PyAny>) = range.extract().map_err(|_| {
        PyTypeError::new_err("a date range is a (first, last) pair of datetime.date")
    })?;
    DateRange::new(date_from_py(&from)?, date_from_py(&to)?).map_err(raise)
}

/// The query of `Billbridge.invoices(...)` from its keyword arguments.
#[allow(clippy::too_many_arguments)] // one keyword argument per filter
pub fn query_from_py(
    status: Option<&str>,
    payer: Option<PayerRef>,
    patient_id: Option<String>,
    customer_id: Option<String>,
    created: Option<&Bound<'_, PyAny>>,
    due: Option<&Bound<'_, PyAny>>,
    metadata: Option<std::collections::BTreeMap<String, String>>,
) -> PyResult<InvoiceQuery> {
    let mut query = InvoiceQuery::new();
    if let Some(status) = status {
        query = query.status(status.to_owned().into());
    }
    if let Some(payer) = payer {
        query = query.payer(&payer);
    }
    if let Some(patient) = patient_id {
        query = query.patient(patient);
    }
    if let Some(customer) = customer_id {
        query = query.customer(customer);
    }
    if let Some(range) = created {
        query = query.created(range_from_py(range)?);
    }
    if let Some(range) = due {
        query = query.due(range_from_py(range)?);
    }
    for (key, value) in metadata.unwrap_or_default() {
        query = query.metadata(key, value);
    }
    Ok(query)
}

/// One payment received, on or off Stripe.
#[pyclass(name = "Payment", module = "billbridge", frozen)]
pub struct PyPayment(pub Payment);

#[pymethods]
impl PyPayment {
    /// The host's invoice id.
    #[getter]
    fn host_invoice_id(&self) -> &str {
        &self.0.host_invoice_id
    }

    /// The invoice number.
    #[getter]
    fn invoice_number(&self) -> Option<&str> {
        self.0.invoice_number.as_deref()
    }

    /// Who paid.
    #[getter]
    fn payer(&self) -> PyResult<PyPayerRef> {
        let id = self.0.payer_host_id.as_str();
        let payer = match self.0.payer_kind {
            PartyKind::Patient => {
                PayerRef::Patient(billbridge::domain::party::PatientId::new(id).map_err(raise)?)
            }
            PartyKind::Organisation => PayerRef::Organisation(
                billbridge::domain::party::OrganisationId::new(id).map_err(raise)?,
            ),
        };
        Ok(PyPayerRef(payer))
    }

    /// The metadata of the invoice paid (what `"meta:<key>"` CSV columns show).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.metadata)
    }

    /// The patient the invoice was about.
    #[getter]
    fn patient_id(&self) -> Option<&str> {
        self.0.patient_host_id.as_deref()
    }

    /// What was paid.
    #[getter]
    fn amount(&self) -> PyResult<PyMoney> {
        self.0.money().map(PyMoney).map_err(raise)
    }

    /// When.
    #[getter]
    fn date<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDate>> {
        date_to_py(py, self.0.date)
    }

    /// `"stripe"`, or the outside method (`"cash"`, `"cheque"`, …).
    #[getter]
    fn channel(&self) -> &str {
        self.0.channel.as_str()
    }

    /// The host's reference for an outside payment.
    #[getter]
    fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "Payment(host_invoice_id={:?}, channel='{}', date={})",
            self.0.host_invoice_id,
            self.0.channel.as_str(),
            self.0.date
        )
    }
}

/// An `io::Write` over a Python file object: bytes for a binary file, UTF-8 text
/// for a text file (decided on the first write).
struct PyFileWriter<'py> {
    file: Bound<'py, PyAny>,
    text: Option<bool>,
}

impl PyFileWriter<'_> {
    fn write_all_py(&mut self, buffer: &[u8]) -> PyResult<()> {
        let py = self.file.py();
        if self.text != Some(true) {
            match self.file.call_method1("write", (PyBytes::new(py, buffer),)) {
                Ok(_) => {
                    self.text = Some(false);
                    return Ok(());
                }
                Err(error) if self.text.is_none() && error.is_instance_of::<PyTypeError>(py) => {
                    self.text = Some(true);
                }
                Err(error) => return Err(error),
            }
        }
        // The CSV writer hands over whole records, so a buffer never splits a character.
        let text = std::str::from_utf8(buffer)
            .map_err(|_| PyValueError::new_err("CSV output is not valid UTF-8"))?;
        self.file
            .call_method1("write", (PyString::new(py, text),))?;
        Ok(())
    }
}

impl Write for PyFileWriter<'_> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.write_all_py(buffer)
            .map_err(|error| io::Error::other(error.to_string()))?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `write` into a path (created or truncated) or a file object.
fn with_destination<T>(
    destination: &Bound<'_, PyAny>,
    write: impl FnOnce(&mut dyn Write) -> PyResult<T>,
) -> PyResult<T> {
    if destination.hasattr("write")? {
        let mut writer = BufWriter::with_capacity(
            64 * 1024,
            PyFileWriter {
                file: destination.clone(),
                text: None,
            },
        );
        let result = write(&mut writer)?;
        writer
            .flush()
            .map_err(|error| PyValueError::new_err(error.to_string()))?;
        return Ok(result);
    }
    let path: PathBuf = destination
        .extract()
        .map_err(|_| PyTypeError::new_err("destination must be a path or a file object"))?;
    let file = File::create(&path)?;
    let mut writer = BufWriter::new(file);
    let result = write(&mut writer)?;
    writer.flush()?;
    Ok(result)
}

fn invoice_column(name: &str) -> PyResult<Column> {
    if let Some(key) = name.strip_prefix("meta:") {
        return Ok(Column::meta(key));
    }
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|_| {
        PyValueError::new_err(format!(
            "unknown column {name:?}: use a column name such as \"number\" or \"meta:<key>\""
        ))
    })
}

fn payment_column(name: &str) -> PyResult<PaymentColumn> {
    if let Some(key) = name.strip_prefix("meta:") {
        return Ok(PaymentColumn::meta(key));
    }
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| PyValueError::new_err(format!("unknown payment column {name:?}")))
}

/// Writes invoice records as CSV to a path or a file object; returns the rows
/// written. Columns are names (`"number"`, `"status"`, `"amount_due"`, …) or
/// `"meta:<key>"` for a metadata value.
#[pyfunction]
fn write_csv(
    records: &Bound<'_, PyAny>,
    columns: Vec<String>,
    destination: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let columns = columns
        .iter()
        .map(|name| invoice_column(name))
        .collect::<PyResult<Vec<_>>>()?;
    let mut rows: Vec<InvoiceRecord> = Vec::new();
    for record in records.try_iter()? {
        let record = record?;
        let record = record
            .cast::<PyInvoiceRecord>()
            .map_err(|_| PyTypeError::new_err("records must be InvoiceRecord objects"))?;
        rows.push(record.get().0.clone());
    }
    with_destination(destination, |writer| {
        core_write_csv(&rows, &columns, writer).map_err(raise)
    })
}

/// Writes payments as CSV to a path or a file object; returns the rows written.
/// Columns are names (`"date"`, `"host_invoice_id"`, `"method"`, `"amount"`, …) or
/// `"meta:<key>"` for a metadata value of the invoice paid.
#[pyfunction]
fn write_payments_csv(
    payments: &Bound<'_, PyAny>,
    columns: Vec<String>,
    destination: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let columns = columns
        .iter()
        .map(|name| payment_column(name))
        .collect::<PyResult<Vec<_>>>()?;
    let mut rows: Vec<Payment> = Vec::new();
    for payment in payments.try_iter()? {
        let payment = payment?;
        let payment = payment
            .cast::<PyPayment>()
            .map_err(|_| PyTypeError::new_err("payments must be Payment objects"))?;
        rows.push(payment.get().0.clone());
    }
    with_destination(destination, |writer| {
        core_write_payments_csv(&rows, &columns, writer).map_err(raise)
    })
}

fn payer_of(kind: PartyKind, id: &str) -> PyResult<PyPayerRef> {
    let payer = match kind {
        PartyKind::Patient => {
            PayerRef::Patient(billbridge::domain::party::PatientId::new(id).map_err(raise)?)
        }
        PartyKind::Organisation => PayerRef::Organisation(
            billbridge::domain::party::OrganisationId::new(id).map_err(raise)?,
        ),
    };
    Ok(PyPayerRef(payer))
}

/// One invoice as its payer sees it in a portal.
#[pyclass(name = "PortalInvoice", module = "billbridge", frozen)]
pub struct PyPortalInvoice(PortalInvoice);

#[pymethods]
impl PyPortalInvoice {
    /// The invoice.
    #[getter]
    fn invoice(&self) -> PyInvoiceRecord {
        PyInvoiceRecord(self.0.invoice.clone())
    }

    /// Where to pay it (Stripe's hosted page), for an invoice still owing.
    #[getter]
    fn pay_link(&self) -> Option<&str> {
        self.0.pay_link.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "PortalInvoice(host_invoice_id={:?}, status='{}')",
            self.0.invoice.host_invoice_id,
            self.0.invoice.status.as_str()
        )
    }
}

/// A payer's invoices, paid and unpaid (drafts excluded), and what they still owe.
#[pyclass(name = "Portal", module = "billbridge", frozen)]
pub struct PyPortal(pub Portal);

#[pymethods]
impl PyPortal {
    /// Whose portal this is.
    #[getter]
    fn payer(&self) -> PyResult<PyPayerRef> {
        payer_of(self.0.payer_kind, &self.0.payer_host_id)
    }

    /// Every finalized invoice of the payer, oldest first.
    #[getter]
    fn invoices(&self) -> Vec<PyPortalInvoice> {
        self.0
            .invoices
            .iter()
            .cloned()
            .map(PyPortalInvoice)
            .collect()
    }

    /// The invoices still owing (open or uncollectible).
    fn unpaid(&self) -> Vec<PyPortalInvoice> {
        self.0.unpaid().cloned().map(PyPortalInvoice).collect()
    }

    /// The paid invoices.
    fn paid(&self) -> Vec<PyPortalInvoice> {
        self.0.paid().cloned().map(PyPortalInvoice).collect()
    }

    /// What remains to pay, keyed by lowercase currency code.
    #[getter]
    fn remaining(&self) -> PyResult<std::collections::BTreeMap<String, PyMoney>> {
        self.0
            .remaining
            .iter()
            .map(|(currency, amount)| Ok((currency.clone(), stripe_money(*amount, currency)?)))
            .collect()
    }

    /// What remains to pay in `currency` (zero when nothing).
    fn remaining_in(&self, currency: &Bound<'_, PyAny>) -> PyResult<PyMoney> {
        let currency = currency_from_py(currency)?;
        stripe_money(self.0.remaining_in(currency.code()), currency.code())
    }

    /// The portal as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Portal(payer={}:{:?}, invoices={})",
            self.0.payer_kind.as_str(),
            self.0.payer_host_id,
            self.0.invoices.len()
        )
    }
}

/// Registers the report classes and functions.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyPayment>()?;
    module.add_class::<PyPortalInvoice>()?;
    module.add_class::<PyPortal>()?;
    module.add_function(wrap_pyfunction!(write_csv, module)?)?;
    module.add_function(wrap_pyfunction!(write_payments_csv, module)?)?;
    Ok(())
}

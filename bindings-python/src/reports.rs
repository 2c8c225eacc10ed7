//! Reports: filters from keyword arguments, payment rows, a payer's portal view, and
//! CSV export of records and payments to a path or to any Python file object (text or
//! binary). Column words and the CSV rules
//! are the core's.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use billbridge::domain::date::Date;
use billbridge::domain::party::PayerRef;
use billbridge::domain::status::InvoiceStatus;
use billbridge::report::ReportError;
use billbridge::report::{
    Column, DateRange, InvoiceQuery, PaymentColumn, write_csv as core_write_csv,
    write_payments_csv as core_write_payments_csv,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use billbridge::domain::money::Currency;
use billbridge::report::{Payment, Portal, PortalInvoice};
use pyo3::types::PyDate;

use crate::convert::{Wrap, date_to_py, each, to_py};
use crate::errors::raise;
use crate::money::PyMoney;
use crate::parties::PyPayerRef;
use crate::records::PyInvoiceRecord;

/// A date range from a `(first, last)` pair of dates, both included.
pub fn range(first: Wrap<Date>, last: Wrap<Date>) -> PyResult<DateRange> {
    DateRange::new(first.0, last.0).map_err(raise)
}

/// The query of `invoices(...)` from its keyword arguments.
pub fn query(
    status: Option<&str>,
    payer: Option<Wrap<PayerRef>>,
    patient_id: Option<String>,
    customer_id: Option<String>,
    created: Option<(Wrap<Date>, Wrap<Date>)>,
    due: Option<(Wrap<Date>, Wrap<Date>)>,
    metadata: Option<BTreeMap<String, String>>,
) -> PyResult<InvoiceQuery> {
    let mut query = InvoiceQuery::new();
    if let Some(status) = status {
        query = query.status(status.parse::<InvoiceStatus>().map_err(raise)?);
    }
    if let Some(payer) = payer {
        query = query.payer(&payer.0);
    }
    if let Some(patient) = patient_id {
        query = query.patient(patient);
    }
    if let Some(customer) = customer_id {
        query = query.customer(customer);
    }
    if let Some((first, last)) = created {
        query = query.created(range(first, last)?);
    }
    if let Some((first, last)) = due {
        query = query.due(range(first, last)?);
    }
    for (key, value) in metadata.unwrap_or_default() {
        query = query.metadata(key, value);
    }
    Ok(query)
}

/// An `io::Write` over a Python file object: bytes for a binary file, UTF-8 text for a
/// text file (decided on the first write).
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

/// Runs `write` into a path (created or truncated) or a file object; a failing
/// destination is the core's I/O error (`IoError`, with the rows written so far).
fn with_destination(
    destination: &Bound<'_, PyAny>,
    write: impl FnOnce(&mut dyn Write) -> Result<usize, ReportError>,
) -> PyResult<usize> {
    let failed = |source: io::Error| {
        raise(ReportError::Io {
            rows_written: 0,
            source,
        })
    };
    if destination.hasattr("write")? {
        let file = PyFileWriter {
            file: destination.clone(),
            text: None,
        };
        let mut writer = BufWriter::with_capacity(64 * 1024, file);
        let written = write(&mut writer).map_err(raise)?;
        writer.flush().map_err(failed)?;
        return Ok(written);
    }
    let path: PathBuf = destination
        .extract()
        .map_err(|_| PyTypeError::new_err("destination must be a path or a file object"))?;
    let mut writer = BufWriter::new(File::create(&path).map_err(failed)?);
    let written = write(&mut writer).map_err(raise)?;
    writer.flush().map_err(failed)?;
    Ok(written)
}

/// Writes invoice records as CSV to a path or a file object; returns the rows
/// written. Columns are the core's words (`"number"`, `"status"`, `"amount_due"`, …) or
/// `"meta:<key>"` for a metadata value.
#[pyfunction]
fn write_csv(
    records: &Bound<'_, PyAny>,
    columns: Vec<String>,
    destination: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let columns = columns
        .iter()
        .map(|word| word.parse::<Column>().map_err(raise))
        .collect::<PyResult<Vec<_>>>()?;
    let records = each(records, |record| {
        record.extract::<Wrap<_>>().map(|record| record.0)
    })?;
    with_destination(destination, |writer| {
        core_write_csv(&records, &columns, writer)
    })
}

/// Writes payments as CSV to a path or a file object; returns the rows written.
#[pyfunction]
fn write_payments_csv(
    payments: &Bound<'_, PyAny>,
    columns: Vec<String>,
    destination: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    let columns = columns
        .iter()
        .map(|word| word.parse::<PaymentColumn>().map_err(raise))
        .collect::<PyResult<Vec<_>>>()?;
    let payments = each(payments, |payment| {
        payment.extract::<Wrap<_>>().map(|payment| payment.0)
    })?;
    with_destination(destination, |writer| {
        core_write_payments_csv(&payments, &columns, writer)
    })
}

/// One payment received, on or off Stripe.
#[pyclass(name = "Payment", module = "billbridge", frozen)]
pub struct PyPayment(pub Payment);

/// A payment given as a `Payment`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Payment> {
    type Error = PyErr;

    fn extract(value: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        value
            .cast::<PyPayment>()
            .map(|payment| Wrap(payment.get().0.clone()))
            .map_err(|_| pyo3::exceptions::PyTypeError::new_err("payments must be Payment objects"))
    }
}

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
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.payer.clone())
    }

    /// The metadata of the invoice paid (what `"meta:<key>"` CSV columns show).
    #[getter]
    fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// The patient the invoice was about.
    #[getter]
    fn patient_id(&self) -> Option<&str> {
        self.0.patient.as_ref().map(|id| id.as_str())
    }

    /// What was paid.
    #[getter]
    fn amount(&self) -> PyMoney {
        PyMoney(self.0.amount)
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
            self.0.host_invoice_id, self.0.channel, self.0.date
        )
    }
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
            self.0.invoice.host_invoice_id, self.0.invoice.status
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
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.payer.clone())
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
    fn remaining(&self) -> BTreeMap<&'static str, PyMoney> {
        self.0
            .remaining
            .iter()
            .map(|amount| (amount.currency().code(), PyMoney(*amount)))
            .collect()
    }

    /// What remains to pay in `currency` (zero when nothing).
    fn remaining_in(&self, currency: Wrap<Currency>) -> PyMoney {
        PyMoney(self.0.remaining_in(currency.0))
    }

    /// The portal as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Portal(payer={}, invoices={})",
            self.0.payer,
            self.0.invoices.len()
        )
    }
}

/// Registers the report classes and the CSV functions.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyPayment>()?;
    module.add_class::<PyPortalInvoice>()?;
    module.add_class::<PyPortal>()?;
    module.add_function(wrap_pyfunction!(write_csv, module)?)?;
    module.add_function(wrap_pyfunction!(write_payments_csv, module)?)?;
    Ok(())
}

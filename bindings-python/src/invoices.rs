//! Invoice drafts and what they are made of: catalogue items, lines, the appointment
//! context. Constructors take keyword arguments; which arguments go together is the
//! core's rule (`served`, `due`, `Location::from_parts`).

use std::collections::BTreeMap;

use billbridge::domain::catalogue::{CatalogueItem, CatalogueKey};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{
    AppointmentContext, AppointmentId, InvoiceDraft, InvoiceId, InvoiceLine, LineSource, Location,
    ServiceDate,
};
use billbridge::domain::metadata::MetadataMap;
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{LocationId, PayerRef, Practitioner};
use pyo3::Borrowed;
use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyDate;

use crate::convert::{
    Wrap, date_to_py, each, each_of, from_py, optional_date, optional_date_to_py, optional_repr,
    to_py,
};
use crate::errors::raise;
use crate::money::{PyCurrency, PyMoney};
use crate::parties::{PyPatient, PyPayerRef};

/// An item of the practice's price list.
#[pyclass(name = "CatalogueItem", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyCatalogueItem(pub CatalogueItem);

#[pymethods]
impl PyCatalogueItem {
    #[new]
    #[pyo3(signature = (key, name, unit_amount, *, stripe_product=None, stripe_price=None, slot_type=None))]
    fn new(
        key: &str,
        name: &str,
        unit_amount: Wrap<Money>,
        stripe_product: Option<String>,
        stripe_price: Option<String>,
        slot_type: Option<String>,
    ) -> PyResult<Self> {
        let mut item =
            CatalogueItem::new(CatalogueKey::new(key).map_err(raise)?, name, unit_amount.0);
        item.stripe_product = stripe_product;
        item.stripe_price = stripe_price;
        item.slot_type = slot_type;
        Ok(PyCatalogueItem(item))
    }

    /// Catalogue key.
    #[getter]
    fn key(&self) -> &str {
        self.0.key.as_str()
    }

    /// Name (the default line description).
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// Price of one unit.
    #[getter]
    fn unit_amount(&self) -> PyMoney {
        PyMoney(self.0.unit_amount)
    }

    /// Stripe product id, once synced.
    #[getter]
    fn stripe_product(&self) -> Option<&str> {
        self.0.stripe_product.as_deref()
    }

    /// Stripe price id, once synced.
    #[getter]
    fn stripe_price(&self) -> Option<&str> {
        self.0.stripe_price.as_deref()
    }

    /// The host's appointment slot type this item bills.
    #[getter]
    fn slot_type(&self) -> Option<&str> {
        self.0.slot_type.as_deref()
    }

    fn __repr__(&self) -> String {
        format!(
            "CatalogueItem(key={:?}, unit_amount={})",
            self.0.key.as_str(),
            self.0.unit_amount
        )
    }
}

/// One invoice line: `quantity × unit_amount` (negative unit amount: a credit).
#[pyclass(name = "InvoiceLine", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyInvoiceLine(pub InvoiceLine);

/// A line given as an `InvoiceLine`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<InvoiceLine> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        value
            .cast::<PyInvoiceLine>()
            .map(|line| Wrap(line.get().0.clone()))
            .map_err(|_| PyTypeError::new_err("lines must be InvoiceLine objects"))
    }
}

/// The line with its service day or period and metadata, as the core allows them.
fn served(
    line: InvoiceLine,
    service_date: Option<Wrap<Date>>,
    period: Option<(Wrap<Date>, Wrap<Date>)>,
    metadata: Option<BTreeMap<String, String>>,
) -> PyResult<PyInvoiceLine> {
    let period = period.map(|(start, end)| (start.0, end.0));
    let mut line = line
        .served(optional_date(service_date), period)
        .map_err(raise)?;
    line.metadata = metadata.map(MetadataMap::from).unwrap_or_default();
    Ok(PyInvoiceLine(line))
}

#[pymethods]
impl PyInvoiceLine {
    /// An ad-hoc line: `InvoiceLine("Dressing", Money(1200, "gbp"), quantity=2)`.
    #[new]
    #[pyo3(signature = (description, unit_amount, *, quantity=1, service_date=None, period=None, metadata=None))]
    fn new(
        description: &str,
        unit_amount: Wrap<Money>,
        quantity: u32,
        service_date: Option<Wrap<Date>>,
        period: Option<(Wrap<Date>, Wrap<Date>)>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Self> {
        let line = InvoiceLine::ad_hoc(description, unit_amount.0, quantity);
        served(line, service_date, period, metadata)
    }

    /// A line for a catalogue item, its name as description unless one is given.
    #[staticmethod]
    #[pyo3(signature = (item, *, quantity=1, description=None, service_date=None, period=None, metadata=None))]
    fn from_catalogue(
        item: &Bound<'_, PyCatalogueItem>,
        quantity: u32,
        description: Option<&str>,
        service_date: Option<Wrap<Date>>,
        period: Option<(Wrap<Date>, Wrap<Date>)>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Self> {
        let mut line = InvoiceLine::catalogue(&item.get().0, quantity);
        if let Some(description) = description {
            line = line.described(description);
        }
        served(line, service_date, period, metadata)
    }

    /// Shown to the payer.
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    /// Quantity (at least 1).
    #[getter]
    fn quantity(&self) -> u32 {
        self.0.quantity
    }

    /// Price of one unit.
    #[getter]
    fn unit_amount(&self) -> PyMoney {
        PyMoney(self.0.unit_amount)
    }

    /// `quantity × unit_amount`.
    #[getter]
    fn amount(&self) -> PyResult<PyMoney> {
        self.0.amount().map(PyMoney).map_err(raise)
    }

    /// True for a credit line.
    #[getter]
    fn is_credit(&self) -> bool {
        self.0.is_credit()
    }

    /// The catalogue key, for a catalogue line.
    #[getter]
    fn catalogue_key(&self) -> Option<&str> {
        match &self.0.source {
            LineSource::Catalogue { key, .. } => Some(key.as_str()),
            _ => None,
        }
    }

    /// First and last day of service (the same day for a one-day service).
    #[getter]
    fn service_dates<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Option<(Bound<'py, PyDate>, Bound<'py, PyDate>)>> {
        let (start, end) = match self.0.service_date {
            Some(ServiceDate::On(date)) => (date, date),
            Some(ServiceDate::Period { start, end }) => (start, end),
            _ => return Ok(None),
        };
        Ok(Some((date_to_py(py, start)?, date_to_py(py, end)?)))
    }

    /// Line metadata.
    #[getter]
    fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// The line as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "InvoiceLine(quantity={}, unit_amount={})",
            self.0.quantity, self.0.unit_amount
        )
    }
}

/// The appointment an invoice is for.
#[pyclass(name = "AppointmentContext", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyAppointmentContext(pub AppointmentContext);

#[pymethods]
impl PyAppointmentContext {
    #[new]
    #[pyo3(signature = (*, appointment_id=None, date=None, location_id=None, location_name=None, practitioner=None, billing_and_collection=None))]
    fn new(
        appointment_id: Option<&str>,
        date: Option<Wrap<Date>>,
        location_id: Option<&str>,
        location_name: Option<String>,
        practitioner: Option<Wrap<Practitioner>>,
        billing_and_collection: Option<String>,
    ) -> PyResult<Self> {
        let appointment = appointment_id
            .map(AppointmentId::new)
            .transpose()
            .map_err(raise)?;
        let location_id = location_id
            .map(LocationId::new)
            .transpose()
            .map_err(raise)?;
        let location = Location::from_parts(location_id, location_name).map_err(raise)?;
        Ok(PyAppointmentContext(AppointmentContext {
            appointment,
            date: optional_date(date),
            location,
            practitioner: practitioner.map(|practitioner| practitioner.0),
            billing_and_collection,
        }))
    }

    /// Host appointment id.
    #[getter]
    fn appointment_id(&self) -> Option<&str> {
        self.0.appointment.as_ref().map(AppointmentId::as_str)
    }

    /// Appointment date.
    #[getter]
    fn date<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        optional_date_to_py(py, self.0.date)
    }

    /// Location name.
    #[getter]
    fn location_name(&self) -> Option<&str> {
        self.0
            .location
            .as_ref()
            .map(|location| location.name.as_str())
    }

    fn __repr__(&self) -> String {
        format!(
            "AppointmentContext(appointment_id={})",
            optional_repr(self.appointment_id())
        )
    }
}

/// An invoice being prepared by the host. Editing methods bump `revision`, so a
/// changed draft gets new idempotency keys when raised again.
#[pyclass(name = "InvoiceDraft", module = "billbridge")]
#[derive(Clone)]
pub struct PyInvoiceDraft(pub InvoiceDraft);

/// A draft given as an `InvoiceDraft` (copied: editing it later changes nothing sent).
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<InvoiceDraft> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        value
            .cast::<PyInvoiceDraft>()
            .map(|draft| Wrap(draft.borrow().0.clone()))
            .map_err(|_| PyTypeError::new_err("expected an InvoiceDraft"))
    }
}

#[pymethods]
impl PyInvoiceDraft {
    /// `InvoiceDraft(patient, lines=[...], host_id="INV-1", due_in_days=14)`.
    ///
    /// `payer` is a `Patient` (the invoice is about them and their default payer
    /// pays), an `Organisation` or a `PayerRef`; `paid_by` overrides who pays.
    #[new]
    #[pyo3(signature = (payer, *, lines=None, host_id=None, paid_by=None, currency=None, memo=None, footer=None, due_in_days=None, due_on=None, context=None))]
    #[allow(clippy::too_many_arguments)] // one keyword argument per draft field
    fn new(
        payer: &Bound<'_, PyAny>,
        lines: Option<&Bound<'_, PyAny>>,
        host_id: Option<&str>,
        paid_by: Option<Wrap<PayerRef>>,
        currency: Option<Wrap<Currency>>,
        memo: Option<String>,
        footer: Option<String>,
        due_in_days: Option<u32>,
        due_on: Option<Wrap<Date>>,
        context: Option<&Bound<'_, PyAppointmentContext>>,
    ) -> PyResult<Self> {
        let mut draft = match payer.cast::<PyPatient>() {
            Ok(patient) => InvoiceDraft::for_patient(&patient.get().0),
            Err(_) => InvoiceDraft::for_payer(payer.extract::<Wrap<PayerRef>>()?.0),
        };
        if let Some(id) = host_id {
            draft = draft.host_id(InvoiceId::new(id).map_err(raise)?);
        }
        if let Some(paid_by) = paid_by {
            draft = draft.paid_by(paid_by.0);
        }
        if let Some(currency) = currency {
            draft = draft.currency(currency.0);
        }
        if let Some(lines) = lines.filter(|lines| !lines.is_none()) {
            draft = draft.lines(each(lines, |line| {
                line.extract::<Wrap<InvoiceLine>>().map(|line| line.0)
            })?);
        }
        if let Some(memo) = memo {
            draft = draft.memo(memo);
        }
        if let Some(footer) = footer {
            draft = draft.footer(footer);
        }
        draft = draft
            .due(due_in_days, optional_date(due_on))
            .map_err(raise)?;
        if let Some(context) = context {
            draft = draft.context(context.get().0.clone());
        }
        Ok(PyInvoiceDraft(draft))
    }

    /// A draft from its dict form (as `to_dict()` gives it).
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        from_py(data, "invoice draft").map(PyInvoiceDraft)
    }

    /// The host's id for this invoice.
    #[getter]
    fn host_id(&self) -> Option<&str> {
        self.0.host_id.as_ref().map(InvoiceId::as_str)
    }

    /// Who pays.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.payer.clone())
    }

    /// The patient the invoice is about.
    #[getter]
    fn patient_id(&self) -> Option<&str> {
        self.0.subject.as_ref().map(|id| id.as_str())
    }

    /// The lines, in order.
    #[getter]
    fn lines(&self) -> Vec<PyInvoiceLine> {
        self.0.lines.iter().cloned().map(PyInvoiceLine).collect()
    }

    /// Memo shown on the invoice.
    #[getter]
    fn memo(&self) -> Option<&str> {
        self.0.memo.as_deref()
    }

    /// Footer shown on the invoice.
    #[getter]
    fn footer(&self) -> Option<&str> {
        self.0.footer.as_deref()
    }

    /// `"charge_automatically"` or `"send_invoice"`.
    #[getter]
    fn collection_method(&self) -> &'static str {
        self.0.collection.as_str()
    }

    /// Incremented on every edit.
    #[getter]
    fn revision(&self) -> u32 {
        self.0.revision
    }

    /// The invoice currency (the first line's unless set).
    #[getter]
    fn currency(&self) -> Option<PyCurrency> {
        self.0.invoice_currency().map(PyCurrency)
    }

    /// Σ lines; raises `ValidationError` for mixed currencies or no lines.
    fn total(&self) -> PyResult<PyMoney> {
        self.0.total().map(PyMoney).map_err(raise)
    }

    /// Checks everything Stripe would refuse; returns the total.
    fn validate(&self) -> PyResult<PyMoney> {
        self.0.validate().map(PyMoney).map_err(raise)
    }

    /// Appends a line (bumps `revision`).
    fn add_line(&mut self, line: Wrap<InvoiceLine>) {
        self.0.push_line(line.0);
    }

    /// Removes and returns the line at `index` (bumps `revision`).
    fn remove_line(&mut self, index: usize) -> PyResult<PyInvoiceLine> {
        self.0
            .remove_line(index)
            .map(PyInvoiceLine)
            .ok_or_else(|| PyIndexError::new_err(format!("no line at index {index}")))
    }

    /// Replaces every line (bumps `revision`).
    fn replace_lines(&mut self, lines: &Bound<'_, PyAny>) -> PyResult<()> {
        let lines =
            each_of::<PyInvoiceLine, _>(lines, "InvoiceLine objects", |line| line.0.clone())?;
        self.0.replace_lines(lines);
        Ok(())
    }

    /// Sets or clears the memo (bumps `revision`).
    #[pyo3(signature = (memo))]
    fn set_memo(&mut self, memo: Option<String>) {
        self.0.set_memo(memo);
    }

    /// The draft as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "InvoiceDraft(host_id={}, lines={}, revision={})",
            optional_repr(self.host_id()),
            self.0.lines.len(),
            self.0.revision
        )
    }
}

/// Registers the invoice-building classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyCatalogueItem>()?;
    module.add_class::<PyInvoiceLine>()?;
    module.add_class::<PyAppointmentContext>()?;
    module.add_class::<PyInvoiceDraft>()?;
    Ok(())
}

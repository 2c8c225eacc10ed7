//! The pure domain as Python classes: parties, payer references, invoice lines and
//! drafts, appointment context, catalogue items, billing rates and services, the
//! metadata policy and the balance rule. Each class wraps the core type; constructors
//! take keyword arguments and call the core's constructors and checks.

use std::collections::BTreeMap;

use billbridge::domain::balance::{self, BalanceApplication, FinalizationOutcome};
use billbridge::domain::catalogue::{
    self, BillingRate, BillingRates, CatalogueItem, CatalogueKey, RateId, RatePayer, Service,
    ServiceId,
};
use billbridge::domain::invoice::{
    AppointmentContext, AppointmentId, InvoiceDraft, InvoiceId, InvoiceLine, LineSource, Location,
    ServiceDate,
};
use billbridge::domain::metadata::{
    Field, FieldValues, MetadataMap, MetadataPolicy, MetadataTarget, PracticeSecret,
};
use billbridge::domain::party::{
    LocationId, Organisation, OrganisationId, Patient, PatientId, PayerRef, Practitioner,
    PractitionerId,
};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyList};

use crate::convert::{date_from_py, date_to_py, from_py, optional_date, to_py};
use crate::errors::raise;
use crate::money::PyMoney;

fn money_from_py(value: &Bound<'_, PyAny>) -> PyResult<billbridge::domain::money::Money> {
    value
        .cast::<PyMoney>()
        .map(|money| money.get().0)
        .map_err(|_| PyTypeError::new_err("expected Money"))
}

fn optional_money(
    value: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<billbridge::domain::money::Money>> {
    match value {
        Some(value) if !value.is_none() => money_from_py(value).map(Some),
        _ => Ok(None),
    }
}

fn optional_date_to_py<'py>(
    py: Python<'py>,
    date: Option<billbridge::domain::date::Date>,
) -> PyResult<Option<Bound<'py, PyDate>>> {
    date.map(|date| date_to_py(py, date)).transpose()
}

/// A practitioner as invoices and metadata name them.
#[pyclass(name = "Practitioner", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyPractitioner(pub Practitioner);

#[pymethods]
impl PyPractitioner {
    #[new]
    fn new(id: &str, name: &str) -> PyResult<Self> {
        Ok(PyPractitioner(Practitioner::new(
            PractitionerId::new(id).map_err(raise)?,
            name,
        )))
    }

    /// Host id.
    #[getter]
    fn id(&self) -> &str {
        self.0.id.as_str()
    }

    /// Display name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    fn __repr__(&self) -> String {
        format!(
            "Practitioner(id={:?}, name={:?})",
            self.0.id.as_str(),
            self.0.name
        )
    }
}

fn optional_practitioner(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Practitioner>> {
    match value {
        Some(value) if !value.is_none() => value
            .cast::<PyPractitioner>()
            .map(|practitioner| Some(practitioner.get().0.clone()))
            .map_err(|_| PyTypeError::new_err("expected a Practitioner")),
        _ => Ok(None),
    }
}

/// Who pays an invoice: a patient or an organisation, by host id.
#[pyclass(name = "PayerRef", module = "billbridge", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PyPayerRef(pub PayerRef);

#[pymethods]
impl PyPayerRef {
    /// A patient pays.
    #[staticmethod]
    fn patient(id: &str) -> PyResult<Self> {
        Ok(PyPayerRef(PayerRef::Patient(
            PatientId::new(id).map_err(raise)?,
        )))
    }

    /// An organisation pays.
    #[staticmethod]
    fn organisation(id: &str) -> PyResult<Self> {
        Ok(PyPayerRef(PayerRef::Organisation(
            OrganisationId::new(id).map_err(raise)?,
        )))
    }

    /// `"patient"` or `"organisation"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// The host id.
    #[getter]
    fn id(&self) -> &str {
        self.0.host_id()
    }

    fn __repr__(&self) -> String {
        format!("PayerRef.{}({:?})", self.kind(), self.0.host_id())
    }
}

/// A payer given as a `Patient`, an `Organisation` or a `PayerRef`.
pub fn payer_from_py(value: &Bound<'_, PyAny>) -> PyResult<PayerRef> {
    if let Ok(payer) = value.cast::<PyPayerRef>() {
        return Ok(payer.get().0.clone());
    }
    if let Ok(patient) = value.cast::<PyPatient>() {
        return Ok(PayerRef::Patient(patient.get().0.id.clone()));
    }
    if let Ok(organisation) = value.cast::<PyOrganisation>() {
        return Ok(PayerRef::Organisation(organisation.get().0.id.clone()));
    }
    Err(PyTypeError::new_err(
        "payer must be a Patient, an Organisation or a PayerRef",
    ))
}

/// A patient (client) of the practice.
#[pyclass(name = "Patient", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyPatient(pub Patient);

#[pymethods]
impl PyPatient {
    #[new]
    #[pyo3(signature = (id, given_name, family_name, *, date_of_birth=None, gender=None, mobile=None, email=None, postcode=None, registered_practitioner=None, default_payer=None))]
    #[allow(clippy::too_many_arguments)] // one keyword argument per patient field
    fn new(
        id: &str,
        given_name: &str,
        family_name: &str,
        date_of_birth: Option<&Bound<'_, PyAny>>,
        gender: Option<&str>,
        mobile: Option<String>,
        email: Option<String>,
        postcode: Option<String>,
        registered_practitioner: Option<&Bound<'_, PyAny>>,
        default_payer: Option<&str>,
    ) -> PyResult<Self> {
        let mut patient = Patient::new(PatientId::new(id).map_err(raise)?, given_name, family_name);
        patient.date_of_birth = optional_date(date_of_birth)?;
        patient.gender = gender.map(Into::into);
        patient.mobile = mobile;
        patient.email = email;
        patient.postcode = postcode;
        patient.registered_practitioner = optional_practitioner(registered_practitioner)?;
        patient.default_payer = default_payer
            .map(OrganisationId::new)
            .transpose()
            .map_err(raise)?;
        patient.validate().map_err(raise)?;
        Ok(PyPatient(patient))
    }

    /// A patient from its dict form (as `to_dict()` gives it).
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let patient: Patient = from_py(data, "patient")?;
        patient.validate().map_err(raise)?;
        Ok(PyPatient(patient))
    }

    /// Host id.
    #[getter]
    fn id(&self) -> &str {
        self.0.id.as_str()
    }

    /// Given (first) name.
    #[getter]
    fn given_name(&self) -> &str {
        &self.0.given_name
    }

    /// Family (last) name.
    #[getter]
    fn family_name(&self) -> &str {
        &self.0.family_name
    }

    /// "Given Family".
    #[getter]
    fn full_name(&self) -> String {
        self.0.full_name()
    }

    /// Date of birth.
    #[getter]
    fn date_of_birth<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        optional_date_to_py(py, self.0.date_of_birth)
    }

    /// Gender as the host records it.
    #[getter]
    fn gender(&self) -> Option<&str> {
        self.0.gender.as_ref().map(|gender| gender.as_str())
    }

    /// Mobile number.
    #[getter]
    fn mobile(&self) -> Option<&str> {
        self.0.mobile.as_deref()
    }

    /// Email.
    #[getter]
    fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Postcode.
    #[getter]
    fn postcode(&self) -> Option<&str> {
        self.0.postcode.as_deref()
    }

    /// Registered practitioner.
    #[getter]
    fn registered_practitioner(&self) -> Option<PyPractitioner> {
        self.0.registered_practitioner.clone().map(PyPractitioner)
    }

    /// Host id of the default payer organisation.
    #[getter]
    fn default_payer(&self) -> Option<&str> {
        self.0.default_payer.as_ref().map(|id| id.as_str())
    }

    /// Who pays this patient's invoices by default.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(self.0.payer())
    }

    /// The patient as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    // Personal data stays out of reprs: they end up in logs and tracebacks.
    fn __repr__(&self) -> String {
        format!("Patient(id={:?})", self.0.id.as_str())
    }
}

/// An organisation that can pay invoices (insurer, employer, charity).
#[pyclass(name = "Organisation", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyOrganisation(pub Organisation);

#[pymethods]
impl PyOrganisation {
    #[new]
    #[pyo3(signature = (id, name, *, email=None, phone=None))]
    fn new(id: &str, name: &str, email: Option<String>, phone: Option<String>) -> PyResult<Self> {
        let mut organisation = Organisation::new(OrganisationId::new(id).map_err(raise)?, name);
        organisation.email = email;
        organisation.phone = phone;
        organisation.validate().map_err(raise)?;
        Ok(PyOrganisation(organisation))
    }

    /// An organisation from its dict form.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let organisation: Organisation = from_py(data, "organisation")?;
        organisation.validate().map_err(raise)?;
        Ok(PyOrganisation(organisation))
    }

    /// Host id.
    #[getter]
    fn id(&self) -> &str {
        self.0.id.as_str()
    }

    /// Name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// Billing email.
    #[getter]
    fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Phone.
    #[getter]
    fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    /// The reference that names this organisation as payer.
    #[getter]
    fn payer(&self) -> PyPayerRef {
        PyPayerRef(PayerRef::Organisation(self.0.id.clone()))
    }

    /// The organisation as plain Python values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Organisation(id={:?}, name={:?})",
            self.0.id.as_str(),
            self.0.name
        )
    }
}

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
        unit_amount: &Bound<'_, PyAny>,
        stripe_product: Option<String>,
        stripe_price: Option<String>,
        slot_type: Option<String>,
    ) -> PyResult<Self> {
        let mut item = CatalogueItem::new(
            CatalogueKey::new(key).map_err(raise)?,
            name,
            money_from_py(unit_amount)?,
        );
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

fn dress_line(
    mut line: InvoiceLine,
    service_date: Option<&Bound<'_, PyAny>>,
    period: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
    metadata: Option<BTreeMap<String, String>>,
) -> PyResult<InvoiceLine> {
    if let Some(date) = optional_date(service_date)? {
        line = line.on(date);
    }
    if let Some((start, end)) = period {
        if service_date.is_some_and(|date| !date.is_none()) {
            return Err(PyValueError::new_err(
                "give service_date or period, not both",
            ));
        }
        line = line.period(date_from_py(&start)?, date_from_py(&end)?);
    }
    line.metadata = metadata.map(MetadataMap::from).unwrap_or_default();
    Ok(line)
}

#[pymethods]
impl PyInvoiceLine {
    /// An ad-hoc line: `InvoiceLine("Dressing", Money(1200, "gbp"), quantity=2)`.
    #[new]
    #[pyo3(signature = (description, unit_amount, *, quantity=1, service_date=None, period=None, metadata=None))]
    fn new(
        description: &str,
        unit_amount: &Bound<'_, PyAny>,
        quantity: u32,
        service_date: Option<&Bound<'_, PyAny>>,
        period: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Self> {
        let line = InvoiceLine::ad_hoc(description, money_from_py(unit_amount)?, quantity);
        dress_line(line, service_date, period, metadata).map(PyInvoiceLine)
    }

    /// A line for a catalogue item, its name as description unless one is given.
    #[staticmethod]
    #[pyo3(signature = (item, *, quantity=1, description=None, service_date=None, period=None, metadata=None))]
    fn from_catalogue(
        item: &Bound<'_, PyCatalogueItem>,
        quantity: u32,
        description: Option<&str>,
        service_date: Option<&Bound<'_, PyAny>>,
        period: Option<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Self> {
        let mut line = InvoiceLine::catalogue(&item.get().0, quantity);
        if let Some(description) = description {
            line = line.described(description);
        }
        dress_line(line, service_date, period, metadata).map(PyInvoiceLine)
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
        match self.0.service_date {
            Some(ServiceDate::On(date)) => Ok(Some((date_to_py(py, date)?, date_to_py(py, date)?))),
            Some(ServiceDate::Period { start, end }) => {
                Ok(Some((date_to_py(py, start)?, date_to_py(py, end)?)))
            }
            _ => Ok(None),
        }
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

fn lines_from_py(lines: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<InvoiceLine>> {
    let Some(lines) = lines.filter(|lines| !lines.is_none()) else {
        return Ok(Vec::new());
    };
    let mut result = Vec::new();
    for line in lines.try_iter()? {
        let line = line?;
        let line = line
            .cast::<PyInvoiceLine>()
            .map_err(|_| PyTypeError::new_err("lines must be InvoiceLine objects"))?;
        result.push(line.get().0.clone());
    }
    Ok(result)
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
        date: Option<&Bound<'_, PyAny>>,
        location_id: Option<&str>,
        location_name: Option<&str>,
        practitioner: Option<&Bound<'_, PyAny>>,
        billing_and_collection: Option<String>,
    ) -> PyResult<Self> {
        let appointment = appointment_id
            .map(AppointmentId::new)
            .transpose()
            .map_err(raise)?;
        let location = match (location_id, location_name) {
            (Some(id), Some(name)) => {
                Some(Location::new(LocationId::new(id).map_err(raise)?, name))
            }
            (None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "give location_id and location_name together",
                ));
            }
        };
        Ok(PyAppointmentContext(AppointmentContext {
            appointment,
            date: optional_date(date)?,
            location,
            practitioner: optional_practitioner(practitioner)?,
            billing_and_collection,
        }))
    }

    /// Host appointment id.
    #[getter]
    fn appointment_id(&self) -> Option<&str> {
        self.0.appointment.as_ref().map(|id| id.as_str())
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
            crate::convert::optional_repr(self.appointment_id())
        )
    }
}

/// An invoice being prepared by the host. Editing methods bump `revision`, so a
/// changed draft gets new idempotency keys when raised again.
#[pyclass(name = "InvoiceDraft", module = "billbridge")]
#[derive(Clone)]
pub struct PyInvoiceDraft(pub InvoiceDraft);

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
        paid_by: Option<&Bound<'_, PyAny>>,
        currency: Option<&Bound<'_, PyAny>>,
        memo: Option<String>,
        footer: Option<String>,
        due_in_days: Option<u32>,
        due_on: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAppointmentContext>>,
    ) -> PyResult<Self> {
        let mut draft = if let Ok(patient) = payer.cast::<PyPatient>() {
            InvoiceDraft::for_patient(&patient.get().0)
        } else {
            InvoiceDraft::for_payer(payer_from_py(payer)?)
        };
        if let Some(id) = host_id {
            draft = draft.host_id(InvoiceId::new(id).map_err(raise)?);
        }
        if let Some(paid_by) = paid_by {
            draft = draft.paid_by(payer_from_py(paid_by)?);
        }
        if let Some(currency) = currency {
            draft = draft.currency(crate::money::currency_from_py(currency)?);
        }
        draft = draft.lines(lines_from_py(lines)?);
        if let Some(memo) = memo {
            draft = draft.memo(memo);
        }
        if let Some(footer) = footer {
            draft = draft.footer(footer);
        }
        match (due_in_days, optional_date(due_on)?) {
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err(
                    "give due_in_days or due_on, not both",
                ));
            }
            (Some(days), None) => draft = draft.due_in_days(days),
            (None, Some(date)) => draft = draft.due_on(date),
            (None, None) => {}
        }
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
        self.0.host_id.as_ref().map(|id| id.as_str())
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
    fn currency(&self) -> Option<crate::money::PyCurrency> {
        self.0.invoice_currency().map(crate::money::PyCurrency)
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
    fn add_line(&mut self, line: &Bound<'_, PyInvoiceLine>) {
        self.0.push_line(line.get().0.clone());
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
        self.0.replace_lines(lines_from_py(Some(lines))?);
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
            crate::convert::optional_repr(self.host_id()),
            self.0.lines.len(),
            self.0.revision
        )
    }
}

/// One of the host's billing rates.
#[pyclass(name = "BillingRate", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyBillingRate(pub BillingRate);

#[pymethods]
impl PyBillingRate {
    /// `BillingRate("R-SELF", "General Service (Self-Pay)", invoiced=True, payer="client")`.
    #[new]
    #[pyo3(signature = (id, name, *, invoiced, payer))]
    fn new(id: &str, name: &str, invoiced: bool, payer: &str) -> PyResult<Self> {
        let payer = match payer {
            "client" => RatePayer::Client,
            "insurance" => RatePayer::Insurance,
            other => {
                return Err(PyValueError::new_err(format!(
                    "payer must be \"client\" or \"insurance\", got {other:?}"
                )));
            }
        };
        Ok(PyBillingRate(BillingRate::new(
            RateId::new(id).map_err(raise)?,
            name,
            invoiced,
            payer,
        )))
    }

    /// Host id.
    #[getter]
    fn id(&self) -> &str {
        self.0.id.as_str()
    }

    /// Name (the line description).
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether services under this rate are invoiced.
    #[getter]
    fn invoiced(&self) -> bool {
        self.0.invoiced
    }

    /// `"client"` or `"insurance"`.
    #[getter]
    fn payer(&self) -> &'static str {
        match self.0.payer {
            RatePayer::Client => "client",
            RatePayer::Insurance => "insurance",
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "BillingRate(id={:?}, name={:?})",
            self.0.id.as_str(),
            self.0.name
        )
    }
}

/// Billing rates as the core's unique-by-id set.
pub fn rates_from_py(rates: &Bound<'_, PyAny>) -> PyResult<BillingRates> {
    let mut list = Vec::new();
    for rate in rates.try_iter()? {
        let rate = rate?;
        let rate = rate
            .cast::<PyBillingRate>()
            .map_err(|_| PyTypeError::new_err("rates must be BillingRate objects"))?;
        list.push(rate.get().0.clone());
    }
    BillingRates::try_from(list).map_err(raise)
}

/// A service delivered to a patient under a billing rate.
#[pyclass(name = "Service", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyService(pub Service);

#[pymethods]
impl PyService {
    #[new]
    #[pyo3(signature = (id, *, patient_id, date, rate_id, amount, insurer_payment=None, invoiced_on=None))]
    fn new(
        id: &str,
        patient_id: &str,
        date: &Bound<'_, PyAny>,
        rate_id: &str,
        amount: &Bound<'_, PyAny>,
        insurer_payment: Option<&Bound<'_, PyAny>>,
        invoiced_on: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut service = Service::new(
            ServiceId::new(id).map_err(raise)?,
            PatientId::new(patient_id).map_err(raise)?,
            date_from_py(date)?,
            RateId::new(rate_id).map_err(raise)?,
            money_from_py(amount)?,
        );
        service.insurer_payment = optional_money(insurer_payment)?;
        service.invoiced_on = optional_date(invoiced_on)?;
        Ok(PyService(service))
    }

    /// Host id.
    #[getter]
    fn id(&self) -> &str {
        self.0.id.as_str()
    }

    /// The patient's host id.
    #[getter]
    fn patient_id(&self) -> &str {
        self.0.patient.as_str()
    }

    /// The day of service.
    #[getter]
    fn date<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDate>> {
        date_to_py(py, self.0.date)
    }

    /// The billing rate's host id.
    #[getter]
    fn rate_id(&self) -> &str {
        self.0.rate.as_str()
    }

    /// The service's amount.
    #[getter]
    fn amount(&self) -> PyMoney {
        PyMoney(self.0.amount)
    }

    /// What an insurer paid.
    #[getter]
    fn insurer_payment(&self) -> Option<PyMoney> {
        self.0.insurer_payment.map(PyMoney)
    }

    /// When it was invoiced.
    #[getter]
    fn invoiced_on<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDate>>> {
        optional_date_to_py(py, self.0.invoiced_on)
    }

    /// What the client owes: amount − insurer payment.
    fn client_part(&self) -> PyResult<PyMoney> {
        self.0.client_part().map(PyMoney).map_err(raise)
    }

    /// The invoice line for this service under `rate`.
    fn to_line(&self, rate: &Bound<'_, PyBillingRate>) -> PyResult<PyInvoiceLine> {
        self.0
            .to_line(&rate.get().0)
            .map(PyInvoiceLine)
            .map_err(raise)
    }

    fn __repr__(&self) -> String {
        format!(
            "Service(id={:?}, amount={})",
            self.0.id.as_str(),
            self.0.amount
        )
    }
}

fn field_from_py(name: &str) -> PyResult<Field> {
    name.parse::<Field>().map_err(raise)
}

fn target_from_py(name: &str) -> PyResult<MetadataTarget> {
    match name {
        "customer" => Ok(MetadataTarget::Customer),
        "invoice" => Ok(MetadataTarget::Invoice),
        other => Err(PyValueError::new_err(format!(
            "target must be \"customer\" or \"invoice\", got {other:?}"
        ))),
    }
}

/// The practice's rules for turning host fields into Stripe metadata. Methods return
/// a new policy; the practice secret never appears in a `repr`.
#[pyclass(name = "MetadataPolicy", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyMetadataPolicy(pub MetadataPolicy);

#[pymethods]
impl PyMetadataPolicy {
    /// The default policy (the same as `hero_compatible()`).
    #[new]
    fn new() -> Self {
        PyMetadataPolicy(MetadataPolicy::default())
    }

    /// The preset matching the keys practice-management products already use.
    #[staticmethod]
    fn hero_compatible() -> Self {
        PyMetadataPolicy(MetadataPolicy::hero_compatible())
    }

    /// Host ids only, no personal data.
    #[staticmethod]
    fn minimal() -> Self {
        PyMetadataPolicy(MetadataPolicy::minimal())
    }

    /// The policy with these fields switched off: `without("patient_gender")`.
    #[pyo3(signature = (*fields))]
    fn without(&self, fields: Vec<String>) -> PyResult<Self> {
        self.0
            .clone()
            .without_all(fields)
            .map(PyMetadataPolicy)
            .map_err(raise)
    }

    /// The policy with these fields switched on.
    #[pyo3(signature = (*fields))]
    fn with_fields(&self, fields: Vec<String>) -> PyResult<Self> {
        let mut policy = self.0.clone();
        for name in fields {
            policy = policy.with(field_from_py(&name)?);
        }
        Ok(PyMetadataPolicy(policy))
    }

    /// The policy writing `field` under `key` on `target` (`"customer"` or `"invoice"`).
    fn with_key(&self, field: &str, target: &str, key: &str) -> PyResult<Self> {
        Ok(PyMetadataPolicy(self.0.clone().key(
            field_from_py(field)?,
            target_from_py(target)?,
            key,
        )))
    }

    /// The policy with a practice secret for pseudonymised fields (≥ 16 bytes).
    fn with_pseudonym_secret(&self, secret: Vec<u8>) -> PyResult<Self> {
        let secret = PracticeSecret::new(secret).map_err(raise)?;
        Ok(PyMetadataPolicy(self.0.clone().pseudonym_secret(secret)))
    }

    /// Checks the policy; raises `ValidationError`.
    fn validate(&self) -> PyResult<()> {
        self.0.validate().map_err(raise)
    }

    /// Names of the switched-on fields.
    #[getter]
    fn enabled_fields(&self) -> Vec<&'static str> {
        self.0
            .enabled_fields()
            .into_iter()
            .map(Field::as_str)
            .collect()
    }

    /// Names of the switched-off fields.
    #[getter]
    fn disabled_fields(&self) -> Vec<&'static str> {
        self.0
            .disabled_fields()
            .into_iter()
            .map(Field::as_str)
            .collect()
    }

    /// Whether `field` is switched on.
    fn is_enabled(&self, field: &str) -> PyResult<bool> {
        Ok(self.0.is_enabled(field_from_py(field)?))
    }

    /// The metadata for one Stripe object from field values keyed by field name:
    /// `render("customer", {"patient_name": "Ada Lovelace"})`.
    #[pyo3(signature = (target, values, *, extra=None))]
    fn render(
        &self,
        target: &str,
        values: BTreeMap<String, String>,
        extra: Option<BTreeMap<String, String>>,
    ) -> PyResult<BTreeMap<String, String>> {
        let mut fields = FieldValues::new();
        for (name, value) in values {
            fields.set(field_from_py(&name)?, value);
        }
        let extra = extra.unwrap_or_default().into_iter().collect();
        self.0
            .render_with(target_from_py(target)?, &fields, &extra)
            .map(|map| map.into_map())
            .map_err(raise)
    }

    fn __repr__(&self) -> String {
        format!(
            "MetadataPolicy(enabled={:?}, pseudonym_secret={})",
            self.enabled_fields(),
            if self.0.has_pseudonym_secret() {
                "set"
            } else {
                "unset"
            }
        )
    }
}

/// Stripe's finalization rule applied to an invoice total and a customer balance.
#[pyclass(name = "BalanceApplication", module = "billbridge", frozen)]
pub struct PyBalanceApplication(pub BalanceApplication);

#[pymethods]
impl PyBalanceApplication {
    /// The invoice's total.
    #[getter]
    fn total(&self) -> PyMoney {
        PyMoney(self.0.total)
    }

    /// The balance before finalization (negative: credit).
    #[getter]
    fn starting_balance(&self) -> PyMoney {
        PyMoney(self.0.starting_balance)
    }

    /// How much of the balance the invoice consumed, in balance sign.
    #[getter]
    fn applied(&self) -> PyMoney {
        PyMoney(self.0.applied)
    }

    /// The invoice's `amount_due`.
    #[getter]
    fn amount_due(&self) -> PyMoney {
        PyMoney(self.0.amount_due)
    }

    /// The balance after finalization.
    #[getter]
    fn ending_balance(&self) -> PyMoney {
        PyMoney(self.0.ending_balance)
    }

    /// What the payer must actually pay.
    #[getter]
    fn amount_to_collect(&self) -> PyMoney {
        PyMoney(self.0.amount_to_collect())
    }

    /// Whether the invoice is paid as soon as it is finalized.
    #[getter]
    fn paid_at_finalization(&self) -> bool {
        self.0.paid_at_finalization()
    }

    /// `"open"`, `"paid_nothing_due"` or `"paid_below_minimum"`.
    #[getter]
    fn outcome(&self) -> &'static str {
        match self.0.outcome {
            FinalizationOutcome::Open { .. } => "open",
            FinalizationOutcome::PaidNothingDue { .. } => "paid_nothing_due",
            _ => "paid_below_minimum",
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "BalanceApplication(outcome='{}', amount_due={}, ending_balance={})",
            self.outcome(),
            self.0.amount_due,
            self.0.ending_balance
        )
    }
}

/// Applies a customer balance to an invoice total as Stripe does at finalization.
#[pyfunction]
fn apply_balance(
    total: &Bound<'_, PyAny>,
    balance: &Bound<'_, PyAny>,
) -> PyResult<PyBalanceApplication> {
    balance::apply_balance(money_from_py(total)?, money_from_py(balance)?)
        .map(PyBalanceApplication)
        .map_err(raise)
}

/// Groups what is invoiceable per payer: services under an invoiced rate, not yet
/// invoiced, billed as the core's `payer_for_service` decides (an insurance rate to the
/// patient's default payer from `default_payers`, else the patient). Returns
/// `(payer, service ids, lines)` tuples.
#[pyfunction]
#[pyo3(signature = (services, rates, *, default_payers=None))]
fn select_invoiceable<'py>(
    py: Python<'py>,
    services: &Bound<'py, PyAny>,
    rates: &Bound<'py, PyAny>,
    default_payers: Option<BTreeMap<String, String>>,
) -> PyResult<Bound<'py, PyList>> {
    let mut list = Vec::new();
    for service in services.try_iter()? {
        let service = service?;
        let service = service
            .cast::<PyService>()
            .map_err(|_| PyTypeError::new_err("services must be Service objects"))?;
        list.push(service.get().0.clone());
    }
    let rates = rates_from_py(rates)?;
    let default_payers = default_payers.unwrap_or_default();
    let mut payers = BTreeMap::new();
    for (patient, organisation) in &default_payers {
        payers.insert(
            PatientId::new(patient.as_str()).map_err(raise)?,
            OrganisationId::new(organisation.as_str()).map_err(raise)?,
        );
    }
    let groups = catalogue::select_invoiceable(&list, &rates, |service, rate| {
        catalogue::payer_for_service(service, rate, &payers)
    })
    .map_err(raise)?;
    let result = PyList::empty(py);
    for group in groups {
        let ids: Vec<String> = group
            .services
            .iter()
            .map(|id| id.as_str().to_owned())
            .collect();
        let lines: Vec<PyInvoiceLine> = group.lines.iter().cloned().map(PyInvoiceLine).collect();
        result.append((PyPayerRef(group.payer.clone()), ids, lines))?;
    }
    Ok(result)
}

/// The names of every metadata field, in render order.
#[pyfunction]
fn metadata_fields() -> Vec<&'static str> {
    Field::ALL.into_iter().map(Field::as_str).collect()
}

/// Registers the domain classes and functions on the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyPractitioner>()?;
    module.add_class::<PyPayerRef>()?;
    module.add_class::<PyPatient>()?;
    module.add_class::<PyOrganisation>()?;
    module.add_class::<PyCatalogueItem>()?;
    module.add_class::<PyInvoiceLine>()?;
    module.add_class::<PyAppointmentContext>()?;
    module.add_class::<PyInvoiceDraft>()?;
    module.add_class::<PyBillingRate>()?;
    module.add_class::<PyService>()?;
    module.add_class::<PyMetadataPolicy>()?;
    module.add_class::<PyBalanceApplication>()?;
    module.add_function(wrap_pyfunction!(apply_balance, module)?)?;
    module.add_function(wrap_pyfunction!(select_invoiceable, module)?)?;
    module.add_function(wrap_pyfunction!(metadata_fields, module)?)?;
    Ok(())
}

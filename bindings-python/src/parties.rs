//! Patients, organisations, practitioners and payer references. Constructors take
//! keyword arguments and call the core's constructors and checks; `repr`s show host
//! ids only, never personal data.

use billbridge::domain::date::Date;
use billbridge::domain::party::{
    Organisation, OrganisationId, Party, Patient, PatientId, PayerRef, Practitioner, PractitionerId,
};
use pyo3::Borrowed;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDate;

use crate::convert::{Wrap, from_py, optional_date, optional_date_to_py, to_py};
use crate::errors::raise;

/// A practitioner as invoices and metadata name them.
#[pyclass(name = "Practitioner", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyPractitioner(pub Practitioner);

#[pymethods]
impl PyPractitioner {
    #[new]
    fn new(id: &str, name: &str) -> PyResult<Self> {
        let id = PractitionerId::new(id).map_err(raise)?;
        Ok(PyPractitioner(Practitioner::new(id, name)))
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

    /// The host id only: a practitioner's name is a person's name.
    fn __repr__(&self) -> String {
        format!("Practitioner(id={:?})", self.0.id.as_str())
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

/// A payer given as a `Patient` (the patient pays), an `Organisation` or a `PayerRef`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<PayerRef> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(payer) = value.cast::<PyPayerRef>() {
            return Ok(Wrap(payer.get().0.clone()));
        }
        if let Ok(patient) = value.cast::<PyPatient>() {
            return Ok(Wrap(PayerRef::Patient(patient.get().0.id.clone())));
        }
        if let Ok(organisation) = value.cast::<PyOrganisation>() {
            return Ok(Wrap(PayerRef::Organisation(
                organisation.get().0.id.clone(),
            )));
        }
        Err(PyTypeError::new_err(
            "payer must be a Patient, an Organisation or a PayerRef",
        ))
    }
}

/// A party given as a `Patient` or an `Organisation`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Party> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(patient) = value.cast::<PyPatient>() {
            return Ok(Wrap(Party::Patient(patient.get().0.clone())));
        }
        if let Ok(organisation) = value.cast::<PyOrganisation>() {
            return Ok(Wrap(Party::Organisation(organisation.get().0.clone())));
        }
        Err(PyTypeError::new_err(
            "party must be a Patient or an Organisation",
        ))
    }
}

/// A patient given as a `Patient`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Patient> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        value
            .cast::<PyPatient>()
            .map(|patient| Wrap(patient.get().0.clone()))
            .map_err(|_| PyTypeError::new_err("expected a Patient"))
    }
}

/// A practitioner given as a `Practitioner`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Practitioner> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        value
            .cast::<PyPractitioner>()
            .map(|practitioner| Wrap(practitioner.get().0.clone()))
            .map_err(|_| PyTypeError::new_err("expected a Practitioner"))
    }
}

impl<'py> IntoPyObject<'py> for Wrap<PayerRef> {
    type Target = PyPayerRef;
    type Output = Bound<'py, PyPayerRef>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        Bound::new(py, PyPayerRef(self.0))
    }
}

/// A patient (or client) of the practice.
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
        date_of_birth: Option<Wrap<Date>>,
        gender: Option<&str>,
        mobile: Option<String>,
        email: Option<String>,
        postcode: Option<String>,
        registered_practitioner: Option<Wrap<Practitioner>>,
        default_payer: Option<&str>,
    ) -> PyResult<Self> {
        let mut patient = Patient::new(PatientId::new(id).map_err(raise)?, given_name, family_name);
        patient.date_of_birth = optional_date(date_of_birth);
        patient.gender = gender.map(Into::into);
        patient.mobile = mobile;
        patient.email = email;
        patient.postcode = postcode;
        patient.registered_practitioner =
            registered_practitioner.map(|practitioner| practitioner.0);
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
        self.0.default_payer.as_ref().map(OrganisationId::as_str)
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
        format!("Organisation(id={:?})", self.0.id.as_str())
    }
}

/// Registers the party classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyPractitioner>()?;
    module.add_class::<PyPayerRef>()?;
    module.add_class::<PyPatient>()?;
    module.add_class::<PyOrganisation>()?;
    Ok(())
}

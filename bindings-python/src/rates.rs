//! Billing rates, services and Stripe's balance rule: which services are invoiced, who
//! pays them and what a balance leaves due are all the core's rules.

use std::collections::BTreeMap;

use billbridge::domain::balance::{self, BalanceApplication};
use billbridge::domain::catalogue::{
    self, BillingRate, BillingRates, RateId, RatePayer, Service, ServiceId,
};
use billbridge::domain::date::Date;
use billbridge::domain::money::Money;
use billbridge::domain::party::{OrganisationId, PatientId};
use pyo3::Borrowed;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyList};

use crate::convert::{Word, Wrap, date_to_py, each, optional_date, optional_date_to_py};
use crate::errors::raise;
use crate::invoices::PyInvoiceLine;
use crate::money::PyMoney;
use crate::parties::PyPayerRef;

/// One of the host's billing rates.
#[pyclass(name = "BillingRate", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyBillingRate(pub BillingRate);

#[pymethods]
impl PyBillingRate {
    /// `BillingRate("R-SELF", "General Service (Self-Pay)", invoiced=True, payer="client")`.
    #[new]
    #[pyo3(signature = (id, name, *, invoiced, payer))]
    fn new(id: &str, name: &str, invoiced: bool, payer: Word<RatePayer>) -> PyResult<Self> {
        let id = RateId::new(id).map_err(raise)?;
        Ok(PyBillingRate(BillingRate::new(id, name, invoiced, payer.0)))
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
        self.0.payer.as_str()
    }

    fn __repr__(&self) -> String {
        format!(
            "BillingRate(id={:?}, name={:?})",
            self.0.id.as_str(),
            self.0.name
        )
    }
}

/// Billing rates given as an iterable of `BillingRate`, unique by id (the core's set).
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<BillingRates> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let rates = each(&value, |rate| {
            rate.cast::<PyBillingRate>()
                .map(|rate| rate.get().0.clone())
                .map_err(|_| PyTypeError::new_err("rates must be BillingRate objects"))
        })?;
        BillingRates::try_from(rates).map(Wrap).map_err(raise)
    }
}

/// A service delivered to a patient under a billing rate.
#[pyclass(name = "Service", module = "billbridge", frozen)]
#[derive(Clone)]
pub struct PyService(pub Service);

/// Services given as an iterable of `Service`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Vec<Service>> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        each(&value, |service| {
            service
                .cast::<PyService>()
                .map(|service| service.get().0.clone())
                .map_err(|_| PyTypeError::new_err("services must be Service objects"))
        })
        .map(Wrap)
    }
}

#[pymethods]
impl PyService {
    #[new]
    #[pyo3(signature = (id, *, patient_id, date, rate_id, amount, insurer_payment=None, invoiced_on=None))]
    fn new(
        id: &str,
        patient_id: &str,
        date: Wrap<Date>,
        rate_id: &str,
        amount: Wrap<Money>,
        insurer_payment: Option<Wrap<Money>>,
        invoiced_on: Option<Wrap<Date>>,
    ) -> PyResult<Self> {
        let mut service = Service::new(
            ServiceId::new(id).map_err(raise)?,
            PatientId::new(patient_id).map_err(raise)?,
            date.0,
            RateId::new(rate_id).map_err(raise)?,
            amount.0,
        );
        service.insurer_payment = insurer_payment.map(|money| money.0);
        service.invoiced_on = optional_date(invoiced_on);
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

    /// A remainder below the minimum charge, moved to the balance as a debit.
    #[getter]
    fn deferred_to_balance(&self) -> PyMoney {
        PyMoney(self.0.deferred_to_balance())
    }

    /// `"open"`, `"paid_nothing_due"` or `"paid_below_minimum"`.
    #[getter]
    fn outcome(&self) -> &'static str {
        self.0.outcome.kind()
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
fn apply_balance(total: Wrap<Money>, balance: Wrap<Money>) -> PyResult<PyBalanceApplication> {
    balance::apply_balance(total.0, balance.0)
        .map(PyBalanceApplication)
        .map_err(raise)
}

/// Groups what is invoiceable per payer with the core's payer rule (an insurance rate
/// bills the patient's default payer from `default_payers`, else the patient). Returns
/// `(payer, service ids, lines)` tuples.
#[pyfunction]
#[pyo3(signature = (services, rates, *, default_payers=None))]
fn select_invoiceable<'py>(
    py: Python<'py>,
    services: Wrap<Vec<Service>>,
    rates: Wrap<BillingRates>,
    default_payers: Option<BTreeMap<String, String>>,
) -> PyResult<Bound<'py, PyList>> {
    let mut payers = BTreeMap::new();
    for (patient, organisation) in default_payers.unwrap_or_default() {
        payers.insert(
            PatientId::new(patient).map_err(raise)?,
            OrganisationId::new(organisation).map_err(raise)?,
        );
    }
    let groups = catalogue::invoiceable_by_payer(&services.0, &rates.0, &payers).map_err(raise)?;
    let result = PyList::empty(py);
    for group in groups {
        let ids: Vec<&str> = group.services.iter().map(ServiceId::as_str).collect();
        let lines: Vec<PyInvoiceLine> = group.lines.iter().cloned().map(PyInvoiceLine).collect();
        result.append((PyPayerRef(group.payer.clone()), ids, lines))?;
    }
    Ok(result)
}

/// Registers the rate, service and balance classes and functions.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyBillingRate>()?;
    module.add_class::<PyService>()?;
    module.add_class::<PyBalanceApplication>()?;
    module.add_function(wrap_pyfunction!(apply_balance, module)?)?;
    module.add_function(wrap_pyfunction!(select_invoiceable, module)?)?;
    Ok(())
}

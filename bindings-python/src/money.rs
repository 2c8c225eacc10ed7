//! `Money` and `Currency`: exact amounts in integer minor units. Every rule (parsing,
//! decimals, currencies that do not mix, Stripe amounts, overflow) is the core's.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use billbridge::domain::money::{Currency, Money};
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::{Borrowed, IntoPyObjectExt};

use crate::convert::{Amount, Wrap, integer};
use crate::errors::raise;

/// A currency Stripe supports, as its lowercase ISO 4217 code.
#[pyclass(
    name = "Currency",
    module = "billbridge",
    frozen,
    eq,
    hash,
    from_py_object
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyCurrency(pub Currency);

#[pymethods]
impl PyCurrency {
    #[new]
    fn new(code: &str) -> PyResult<Self> {
        Currency::new(code).map(PyCurrency).map_err(raise)
    }

    /// The lowercase code, e.g. `"gbp"`.
    #[getter]
    fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the currency (0 for JPY, 2 for GBP, 3 for BHD).
    #[getter]
    fn exponent(&self) -> u8 {
        self.0.exponent()
    }

    /// Stripe's minimum charge in this currency, when Stripe publishes one.
    #[getter]
    fn minimum_charge(&self) -> Option<PyMoney> {
        self.0.minimum_charge().map(PyMoney)
    }

    fn __str__(&self) -> &'static str {
        self.0.code()
    }

    fn __repr__(&self) -> String {
        format!("Currency('{}')", self.0.code())
    }
}

/// A currency given as a `Currency` or its code.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Currency> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(currency) = value.cast::<PyCurrency>() {
            return Ok(Wrap(currency.get().0));
        }
        let code: String = value
            .extract()
            .map_err(|_| PyTypeError::new_err("currency must be a str code or a Currency"))?;
        Currency::new(&code).map(Wrap).map_err(raise)
    }
}

/// An exact amount: integer minor units and a currency.
#[pyclass(name = "Money", module = "billbridge", frozen, from_py_object)]
#[derive(Clone, Copy)]
pub struct PyMoney(pub Money);

/// Money given as a `Money` object.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Money> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        value
            .cast::<PyMoney>()
            .map(|money| Wrap(money.get().0))
            .map_err(|_| {
                PyTypeError::new_err("expected Money (integer minor units and a currency)")
            })
    }
}

impl<'py> IntoPyObject<'py> for Wrap<Money> {
    type Target = PyMoney;
    type Output = Bound<'py, PyMoney>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        Bound::new(py, PyMoney(self.0))
    }
}

#[pymethods]
impl PyMoney {
    /// `Money(1250, "gbp")`: £12.50.
    #[new]
    fn new(amount: Amount, currency: Wrap<Currency>) -> Self {
        PyMoney(Money::new(amount.0, currency.0))
    }

    /// Parses decimal text, never rounding: `Money.parse("12.50", "gbp")`.
    #[staticmethod]
    fn parse(text: &str, currency: Wrap<Currency>) -> PyResult<Self> {
        Money::parse(text, currency.0).map(PyMoney).map_err(raise)
    }

    /// Zero in `currency`.
    #[staticmethod]
    fn zero(currency: Wrap<Currency>) -> Self {
        PyMoney(Money::zero(currency.0))
    }

    /// Reads an amount as Stripe sends it (÷100 for ISK and UGX).
    #[staticmethod]
    fn from_stripe_amount(amount: Amount, currency: Wrap<Currency>) -> PyResult<Self> {
        Money::from_stripe_amount(amount.0, currency.0)
            .map(PyMoney)
            .map_err(raise)
    }

    /// Integer minor units (pence, cents, yen).
    #[getter]
    fn amount(&self) -> i64 {
        self.0.amount()
    }

    /// The currency.
    #[getter]
    fn currency(&self) -> PyCurrency {
        PyCurrency(self.0.currency())
    }

    /// The amount as decimal text, e.g. `"12.50"`.
    #[allow(clippy::wrong_self_convention)] // pyo3 methods take `&self`; the name is the core's
    fn to_decimal_string(&self) -> String {
        self.0.to_decimal_string()
    }

    /// The integer amount to send to Stripe.
    fn stripe_amount(&self) -> PyResult<i64> {
        self.0.stripe_amount().map_err(raise)
    }

    /// True for zero.
    fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// True below zero (a credit).
    fn is_negative(&self) -> bool {
        self.0.is_negative()
    }

    /// Sum; raises `ValidationError` (`currency_mismatch`, `amount_overflow`).
    fn add(&self, other: Wrap<Money>) -> PyResult<Self> {
        self.0.checked_add(other.0).map(PyMoney).map_err(raise)
    }

    /// Difference; raises like `add`.
    fn sub(&self, other: Wrap<Money>) -> PyResult<Self> {
        self.0.checked_sub(other.0).map(PyMoney).map_err(raise)
    }

    /// Product with an integer factor; raises `ValidationError` (`amount_overflow`).
    fn mul(&self, factor: &Bound<'_, PyAny>) -> PyResult<Self> {
        let factor = integer(factor, "a factor of an amount")?;
        self.0.checked_mul(factor).map(PyMoney).map_err(raise)
    }

    fn __add__(&self, other: Wrap<Money>) -> PyResult<Self> {
        self.add(other)
    }

    fn __sub__(&self, other: Wrap<Money>) -> PyResult<Self> {
        self.sub(other)
    }

    fn __mul__(&self, factor: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.mul(factor)
    }

    fn __rmul__(&self, factor: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.mul(factor)
    }

    fn __neg__(&self) -> PyResult<Self> {
        self.0.checked_neg().map(PyMoney).map_err(raise)
    }

    fn __bool__(&self) -> bool {
        !self.0.is_zero()
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<PyMoney>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.get().0;
        let result = match op {
            CompareOp::Eq => self.0 == other,
            CompareOp::Ne => self.0 != other,
            _ => {
                let ordering = self.0.checked_cmp(other).map_err(raise)?;
                match op {
                    CompareOp::Lt => ordering.is_lt(),
                    CompareOp::Le => ordering.is_le(),
                    CompareOp::Gt => ordering.is_gt(),
                    _ => ordering.is_ge(),
                }
            }
        };
        result.into_py_any(py)
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.0.hash(&mut hasher);
        hasher.finish()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Money({}, '{}')", self.0.amount(), self.0.currency())
    }

    fn __getnewargs__(&self) -> (i64, &'static str) {
        (self.0.amount(), self.0.currency().code())
    }
}

/// Registers the money classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyCurrency>()?;
    module.add_class::<PyMoney>()?;
    Ok(())
}

//! `Money` and `Currency`: exact amounts in integer minor units; every rule (parsing,
//! decimals, currency mismatch, Stripe amounts) is the core's.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use billbridge::domain::money::{Currency, Money};
use pyo3::basic::CompareOp;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

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

    fn __str__(&self) -> &'static str {
        self.0.code()
    }

    fn __repr__(&self) -> String {
        format!("Currency('{}')", self.0.code())
    }
}

/// A currency given as a `Currency` or its code.
pub fn currency_from_py(value: &Bound<'_, PyAny>) -> PyResult<Currency> {
    if let Ok(currency) = value.cast::<PyCurrency>() {
        return Ok(currency.get().0);
    }
    let code: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err("currency must be a str code or a Currency"))?;
    Currency::new(&code).map_err(raise)
}

/// An exact amount: integer minor units and a currency.
#[pyclass(name = "Money", module = "billbridge", frozen, from_py_object)]
#[derive(Clone, Copy)]
pub struct PyMoney(pub Money);

impl PyMoney {
    fn other(other: &Bound<'_, PyAny>) -> PyResult<Money> {
        other
            .cast::<PyMoney>()
            .map(|money| money.get().0)
            .map_err(|_| PyTypeError::new_err("expected Money"))
    }
}

#[pymethods]
impl PyMoney {
    /// `Money(1250, "gbp")`: £12.50.
    #[new]
    fn new(amount: i64, currency: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyMoney(Money::new(amount, currency_from_py(currency)?)))
    }

    /// Parses decimal text, never rounding: `Money.parse("12.50", "gbp")`.
    #[staticmethod]
    fn parse(text: &str, currency: &Bound<'_, PyAny>) -> PyResult<Self> {
        Money::parse(text, currency_from_py(currency)?)
            .map(PyMoney)
            .map_err(raise)
    }

    /// Zero in `currency`.
    #[staticmethod]
    fn zero(currency: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PyMoney(Money::zero(currency_from_py(currency)?)))
    }

    /// Reads an amount as Stripe sends it (÷100 for ISK and UGX).
    #[staticmethod]
    fn from_stripe_amount(amount: i64, currency: &Bound<'_, PyAny>) -> PyResult<Self> {
        Money::from_stripe_amount(amount, currency_from_py(currency)?)
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
    fn add(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.0
            .checked_add(Self::other(other)?)
            .map(PyMoney)
            .map_err(raise)
    }

    /// Difference; raises like `add`.
    fn sub(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.0
            .checked_sub(Self::other(other)?)
            .map(PyMoney)
            .map_err(raise)
    }

    /// Product with an integer factor.
    fn mul(&self, factor: i64) -> PyResult<Self> {
        self.0.checked_mul(factor).map(PyMoney).map_err(raise)
    }

    fn __add__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.add(other)
    }

    fn __sub__(&self, other: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.sub(other)
    }

    fn __mul__(&self, factor: i64) -> PyResult<Self> {
        self.mul(factor)
    }

    fn __rmul__(&self, factor: i64) -> PyResult<Self> {
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
        match op {
            CompareOp::Eq => return Ok(bool_object(py, self.0 == other)),
            CompareOp::Ne => return Ok(bool_object(py, self.0 != other)),
            _ => {}
        }
        // Ordering amounts of different currencies is the same mistake as adding them.
        self.0.checked_max(other).map_err(raise)?;
        let ordering = self.0.amount().cmp(&other.amount());
        let result = match op {
            CompareOp::Lt => ordering.is_lt(),
            CompareOp::Le => ordering.is_le(),
            CompareOp::Gt => ordering.is_gt(),
            _ => ordering.is_ge(),
        };
        Ok(bool_object(py, result))
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

fn bool_object(py: Python<'_>, value: bool) -> Py<PyAny> {
    pyo3::types::PyBool::new(py, value)
        .to_owned()
        .into_any()
        .unbind()
}

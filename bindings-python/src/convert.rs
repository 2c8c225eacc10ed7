//! The one place Python values become core values and back: [`Wrap`] (words of a core
//! vocabulary, dates, amounts, integers), the JSON-shaped values of the core's serde
//! forms, and raw request bodies. Every refusal is the core's typed error.

use std::borrow::Cow;

use billbridge::domain::date::Date;
use billbridge::domain::money::MoneyError;
use billbridge::vocabulary::Vocabulary;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyBytes, PyDate, PyDateAccess, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString,
    PyTuple,
};
use pyo3::{Borrowed, IntoPyObjectExt};
use serde_json::{Map, Value};

use crate::errors::raise;

/// A core value crossing into or out of Python.
pub struct Wrap<T>(pub T);

/// A word of a core vocabulary (`"finalize_and_send"`, `"patient"`, …), parsed by the
/// core: an unknown word is a `ValidationError` with the vocabulary's code.
pub struct Word<T>(pub T);

/// Parses a word of the vocabulary `T`.
pub fn word<T: Vocabulary>(value: &Bound<'_, PyAny>) -> PyResult<T> {
    let text = value
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("a {} is given as a str", T::NAME)))?;
    T::from_word(&text.to_cow()?).map_err(raise)
}

impl<'a, 'py, T: Vocabulary> FromPyObject<'a, 'py> for Word<T> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        word(&value).map(Word)
    }
}

/// An `int` as the core's `i64`: one outside its range is the core's overflow error
/// (`ValidationError`, code `amount_overflow`), like every other bad amount.
pub fn integer(value: &Bound<'_, PyAny>, what: &'static str) -> PyResult<i64> {
    if !value.is_instance_of::<PyInt>() || value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be an int (money is never a float)"
        )));
    }
    value.extract::<i64>().map_err(|error| {
        if error.is_instance_of::<PyOverflowError>(value.py()) {
            raise(MoneyError::Overflow { operation: what })
        } else {
            error
        }
    })
}

/// An `int` amount in minor units.
pub struct Amount(pub i64);

impl<'a, 'py> FromPyObject<'a, 'py> for Amount {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        integer(&value, "an amount in minor units").map(Amount)
    }
}

/// A `datetime.date` (not a `datetime.datetime`, whose time would be silently dropped).
pub fn date_from_py(value: &Bound<'_, PyAny>) -> PyResult<Date> {
    if value.is_instance_of::<PyDateTime>() {
        return Err(PyTypeError::new_err(
            "expected a datetime.date, got a datetime.datetime: pass .date() explicitly",
        ));
    }
    let date = value
        .cast::<PyDate>()
        .map_err(|_| PyTypeError::new_err("expected a datetime.date"))?;
    Date::new(
        date.get_year(),
        u32::from(date.get_month()),
        u32::from(date.get_day()),
    )
    .map_err(raise)
}

impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Date> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        date_from_py(&value).map(Wrap)
    }
}

impl<'py> IntoPyObject<'py> for Wrap<Date> {
    type Target = PyDate;
    type Output = Bound<'py, PyDate>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        date_to_py(py, self.0)
    }
}

/// An optional `datetime.date` (`None` stays `None`).
pub fn optional_date(value: Option<Wrap<Date>>) -> Option<Date> {
    value.map(|date| date.0)
}

/// A [`Date`] as a `datetime.date`.
pub fn date_to_py(py: Python<'_>, date: Date) -> PyResult<Bound<'_, PyDate>> {
    let month =
        u8::try_from(date.month()).map_err(|_| PyValueError::new_err("month out of range"))?;
    let day = u8::try_from(date.day()).map_err(|_| PyValueError::new_err("day out of range"))?;
    PyDate::new(py, date.year(), month, day)
}

/// An optional [`Date`] as an optional `datetime.date`.
pub fn optional_date_to_py(
    py: Python<'_>,
    date: Option<Date>,
) -> PyResult<Option<Bound<'_, PyDate>>> {
    date.map(|date| date_to_py(py, date)).transpose()
}

/// A number of seconds given as an int or a float, checked by the core.
pub fn seconds(argument: &'static str, value: f64) -> PyResult<std::time::Duration> {
    billbridge::vocabulary::seconds(argument, value).map_err(raise)
}

/// The raw body: `bytes`, `bytearray`, `memoryview` or `str` (sent as UTF-8), borrowed
/// without a copy when it is `bytes`.
pub fn body<'a>(payload: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(bytes) = payload.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(bytes.as_bytes()));
    }
    if let Ok(text) = payload.cast::<PyString>() {
        return Ok(Cow::Owned(text.to_cow()?.as_bytes().to_vec()));
    }
    payload
        .extract::<Vec<u8>>()
        .map(Cow::Owned)
        .map_err(|_| PyTypeError::new_err("payload must be the raw request body as bytes (or str)"))
}

/// A Python value with a JSON shape as a `serde_json::Value`. Dates become ISO text
/// (the core's serde form of a date); floats are refused, as money is never a float.
pub fn json_from_py(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(Value::from(integer(value, "an integer")?));
    }
    if value.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(
            "floats are not accepted: give amounts as int minor units or decimal text",
        ));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Value::String(text.to_cow()?.into_owned()));
    }
    if value.is_instance_of::<PyDate>() {
        return Ok(Value::String(date_from_py(value)?.to_string()));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let key: String = key
                .extract()
                .map_err(|_| PyTypeError::new_err("dictionary keys must be str"))?;
            map.insert(key, json_from_py(&item)?);
        }
        return Ok(Value::Object(map));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in value.try_iter()? {
            items.push(json_from_py(&item?)?);
        }
        return Ok(Value::Array(items));
    }
    if let Ok(method) = value.getattr("to_dict") {
        return json_from_py(&method.call0()?);
    }
    Err(PyTypeError::new_err(format!(
        "cannot convert a {} to a billbridge value",
        value.get_type().name()?
    )))
}

/// A `serde_json::Value` as plain Python values.
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(integer), _) => integer.into_bound_py_any(py)?,
            (None, Some(integer)) => integer.into_bound_py_any(py)?,
            // Stripe sends no fractional numbers billbridge reads; keep them exact text.
            (None, None) => PyString::new(py, &number.to_string()).into_any(),
        },
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, json_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Any serialisable core value as plain Python values.
pub fn to_py<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|error| PyValueError::new_err(format!("cannot serialise value: {error}")))?;
    json_to_py(py, &json)
}

/// A core value from its serde form given as plain Python values.
pub fn from_py<T: serde::de::DeserializeOwned>(
    value: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<T> {
    let json = json_from_py(value)?;
    // serde quotes the value it could not read, which can be a name or a birth date.
    serde_json::from_value(json).map_err(|error| {
        PyValueError::new_err(format!(
            "invalid {what}: {}",
            billbridge::redact::decode_message(&error.to_string())
        ))
    })
}

/// Every item of a Python iterable, each converted by `convert`.
pub fn each<T>(
    items: &Bound<'_, PyAny>,
    convert: impl Fn(&Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let mut converted = Vec::new();
    for item in items.try_iter()? {
        converted.push(convert(&item?)?);
    }
    Ok(converted)
}

/// Every item of a Python iterable of `class` objects, cloned out of their wrappers.
pub fn each_of<C, T>(
    items: &Bound<'_, PyAny>,
    what: &'static str,
    inner: fn(&C) -> T,
) -> PyResult<Vec<T>>
where
    C: pyo3::PyClass + Sync,
    C: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::True>,
{
    each(items, |item| {
        item.cast::<C>()
            .map(|object| inner(object.get()))
            .map_err(|_| PyTypeError::new_err(format!("expected {what}")))
    })
}

/// An optional text as Python would show it: `'text'` or `None`.
pub fn optional_repr(value: Option<&str>) -> String {
    value.map_or_else(|| "None".to_owned(), |text| format!("{text:?}"))
}

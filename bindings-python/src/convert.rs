//! Plain Python values in and out: `datetime.date` ↔ [`Date`], currency codes,
//! and JSON-shaped values (dicts, lists, str, int, bool, None) ↔ `serde_json::Value`
//! for the core's serde forms.

use billbridge::domain::date::Date;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyDate, PyDateAccess, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use serde_json::{Map, Value};

use crate::errors::raise;

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

/// An optional `datetime.date`.
pub fn optional_date(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Date>> {
    match value {
        Some(value) if !value.is_none() => date_from_py(value).map(Some),
        _ => Ok(None),
    }
}

/// A [`Date`] as a `datetime.date`.
pub fn date_to_py(py: Python<'_>, date: Date) -> PyResult<Bound<'_, PyDate>> {
    let month =
        u8::try_from(date.month()).map_err(|_| PyValueError::new_err("month out of range"))?;
    let day = u8::try_from(date.day()).map_err(|_| PyValueError::new_err("day out of range"))?;
    PyDate::new(py, date.year(), month, day)
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
        let number: i64 = value.extract()?;
        return Ok(Value::from(number));
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
        Value::Number(number) => {
            if let Some(integer) = number.as_i64() {
                integer.into_pyobject(py)?.into_any()
            } else if let Some(integer) = number.as_u64() {
                integer.into_pyobject(py)?.into_any()
            } else {
                number
                    .as_f64()
                    .unwrap_or_default()
                    .into_pyobject(py)?
                    .into_any()
            }
        }
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
    serde_json::from_value(json)
        .map_err(|error| PyValueError::new_err(format!("invalid {what}: {error}")))
}

/// An optional text as Python would show it: `'text'` or `None`.
pub fn optional_repr(value: Option<&str>) -> String {
    value.map_or_else(|| "None".to_owned(), |text| format!("{text:?}"))
}

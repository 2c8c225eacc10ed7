//! Stripe's request encoding: nested parameters flattened into ordered
//! `application/x-www-form-urlencoded` pairs in bracket notation
//! (`metadata[k]=v`, `lines[0][price_data][currency]=gbp`), and the percent-encoding
//! of those pairs into a body or query string.
//!
//! The pairs, and their order, are the ones stripe-python's encoder produces for the
//! same structure, with two deliberate differences where its output is not something
//! Stripe accepts: a boolean inside a list encodes as `true`/`false` (stripe-python
//! writes `True`), and a list nested in a list is indexed again (`k[0][1]=v`) instead
//! of being written as a Python list literal. Absent entries inside a list are dropped
//! before indexing, so Stripe always sees a dense `k[0]`, `k[1]`, ….
//!
//! `Debug` of a form shows its keys, numbers and booleans, never its text values: they
//! are names, emails, descriptions and metadata values.

use std::fmt;
use std::fmt::Write as _;

use crate::redact::Redacted;

/// One parameter value, possibly nested. Build these through [`Form`] and the
/// `From` conversions rather than by hand.
#[derive(Clone, PartialEq, Eq)]
pub enum FormValue {
    /// A string sent as is. The empty string clears the field on Stripe's side.
    Text(String),
    /// A whole number (amounts in minor units, timestamps, quantities).
    Integer(i64),
    /// A boolean, sent as `true` / `false`.
    Bool(bool),
    /// A nested object; entries keep their insertion order. Empty encodes to nothing.
    Map(Vec<(String, FormValue)>),
    /// An array, indexed from 0. Empty encodes to nothing.
    List(Vec<FormValue>),
    /// Clears the field: encodes `key=` (for a map, `metadata=` removes every key).
    Unset,
    /// Leaves the field out entirely (`None` of an optional parameter).
    Absent,
}

impl From<&str> for FormValue {
    fn from(value: &str) -> Self {
        FormValue::Text(value.to_owned())
    }
}

impl From<String> for FormValue {
    fn from(value: String) -> Self {
        FormValue::Text(value)
    }
}

impl From<&String> for FormValue {
    fn from(value: &String) -> Self {
        FormValue::Text(value.clone())
    }
}

impl From<i64> for FormValue {
    fn from(value: i64) -> Self {
        FormValue::Integer(value)
    }
}

impl From<i32> for FormValue {
    fn from(value: i32) -> Self {
        FormValue::Integer(i64::from(value))
    }
}

impl From<u32> for FormValue {
    fn from(value: u32) -> Self {
        FormValue::Integer(i64::from(value))
    }
}

impl From<u64> for FormValue {
    fn from(value: u64) -> Self {
        // Written out as text so that values above i64::MAX keep every digit.
        FormValue::Text(value.to_string())
    }
}

impl From<usize> for FormValue {
    fn from(value: usize) -> Self {
        FormValue::Text(value.to_string())
    }
}

impl From<bool> for FormValue {
    fn from(value: bool) -> Self {
        FormValue::Bool(value)
    }
}

impl<T: Into<FormValue>> From<Option<T>> for FormValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(FormValue::Absent, Into::into)
    }
}

impl<T: Into<FormValue>> From<Vec<T>> for FormValue {
    fn from(values: Vec<T>) -> Self {
        FormValue::List(values.into_iter().map(Into::into).collect())
    }
}

impl From<Form> for FormValue {
    fn from(form: Form) -> Self {
        FormValue::Map(form.entries)
    }
}

impl FormValue {
    /// A nested object from `(key, value)` pairs, in the order given.
    pub fn map<K, V, I>(entries: I) -> Self
    where
        K: Into<String>,
        V: Into<FormValue>,
        I: IntoIterator<Item = (K, V)>,
    {
        let mut form = Form::new();
        for (key, value) in entries {
            form = form.field(key, value);
        }
        FormValue::from(form)
    }

    /// Appends this value's pairs under `key` to `out`, in Stripe's bracket notation.
    fn encode_into(&self, key: &str, out: &mut Vec<(String, String)>) {
        match self {
            FormValue::Text(text) => out.push((key.to_owned(), text.clone())),
            FormValue::Integer(number) => out.push((key.to_owned(), number.to_string())),
            FormValue::Bool(flag) => out.push((key.to_owned(), flag.to_string())),
            FormValue::Unset => out.push((key.to_owned(), String::new())),
            FormValue::Absent => {}
            FormValue::Map(entries) => {
                for (sub_key, value) in entries {
                    value.encode_into(&format!("{key}[{sub_key}]"), out);
                }
            }
            FormValue::List(items) => {
                let present = items.iter().filter(|item| **item != FormValue::Absent);
                for (index, item) in present.enumerate() {
                    item.encode_into(&format!("{key}[{index}]"), out);
                }
            }
        }
    }
}

/// The top-level parameters of one request, in insertion order.
///
/// ```
/// use billbridge::stripe::form::{Form, FormValue};
///
/// let form = Form::new()
///     .field("customer", "cus_123")
///     .opt_field("due_date", None::<i64>)
///     .map("metadata", [("ehr_visit_id", "V-9")])
///     .list(
///         "lines",
///         vec![Form::new().field("quantity", 2).map(
///             "price_data",
///             [("currency", FormValue::from("gbp")), ("unit_amount", 4500.into())],
///         )],
///     );
/// assert_eq!(
///     form.encode(),
///     vec![
///         ("customer".to_owned(), "cus_123".to_owned()),
///         ("metadata[ehr_visit_id]".to_owned(), "V-9".to_owned()),
///         ("lines[0][quantity]".to_owned(), "2".to_owned()),
///         ("lines[0][price_data][currency]".to_owned(), "gbp".to_owned()),
///         ("lines[0][price_data][unit_amount]".to_owned(), "4500".to_owned()),
///     ]
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    entries: Vec<(String, FormValue)>,
}

impl fmt::Debug for FormValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormValue::Text(text) if text.is_empty() => f.write_str("Text(\"\")"),
            FormValue::Text(_) => f.debug_tuple("Text").field(&Redacted).finish(),
            FormValue::Integer(number) => f.debug_tuple("Integer").field(number).finish(),
            FormValue::Bool(flag) => f.debug_tuple("Bool").field(flag).finish(),
            FormValue::Map(entries) => f
                .debug_map()
                .entries(entries.iter().map(|(key, value)| (key, value)))
                .finish(),
            FormValue::List(items) => f.debug_list().entries(items).finish(),
            FormValue::Unset => f.write_str("Unset"),
            FormValue::Absent => f.write_str("Absent"),
        }
    }
}

impl Form {
    /// An empty set of parameters.
    pub fn new() -> Self {
        Form::default()
    }

    /// Sets `key` to `value`. Setting a key again replaces its value but keeps its
    /// first position, as a Python dict does.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<FormValue>) -> Self {
        self.insert(key.into(), value.into());
        self
    }

    /// Sets `key` when `value` is `Some`; `None` leaves the parameter out.
    pub fn opt_field<T: Into<FormValue>>(self, key: impl Into<String>, value: Option<T>) -> Self {
        self.field(key, FormValue::from(value))
    }

    /// Sets `key` to a nested object built from `(key, value)` pairs, in order
    /// (`metadata[k]=v`). No pairs encodes to nothing.
    pub fn map<K, V, I>(self, key: impl Into<String>, entries: I) -> Self
    where
        K: Into<String>,
        V: Into<FormValue>,
        I: IntoIterator<Item = (K, V)>,
    {
        self.field(key, FormValue::map(entries))
    }

    /// Sets `key` to an indexed array (`lines[0][…]`). No items encodes to nothing.
    pub fn list<V, I>(self, key: impl Into<String>, items: I) -> Self
    where
        V: Into<FormValue>,
        I: IntoIterator<Item = V>,
    {
        self.field(
            key,
            FormValue::List(items.into_iter().map(Into::into).collect()),
        )
    }

    /// Clears `key` on Stripe's side by sending it empty (`key=`).
    pub fn unset(self, key: impl Into<String>) -> Self {
        self.field(key, FormValue::Unset)
    }

    /// Whether no parameter has been set (absent ones included).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The flattened `(key, value)` pairs, in order, ready for
    /// [`StripeRequest::params`](crate::stripe::transport::StripeRequest::params).
    pub fn encode(&self) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(self.entries.len());
        for (key, value) in &self.entries {
            value.encode_into(key, &mut out);
        }
        out
    }

    /// The percent-encoded body or query string (see [`encode_pairs`]).
    pub fn to_urlencoded(&self) -> String {
        encode_pairs(&self.encode())
    }

    fn insert(&mut self, key: String, value: FormValue) {
        match self
            .entries
            .iter_mut()
            .find(|(existing, _)| *existing == key)
        {
            Some((_, slot)) => *slot = value,
            None => self.entries.push((key, value)),
        }
    }
}

/// Percent-encodes pairs as `application/x-www-form-urlencoded`: `k=v` joined by `&`,
/// UTF-8 bytes outside `A-Z a-z 0-9 - . _ ~` escaped as `%XX`, spaces as `+`, and `[`
/// `]` left as they are (Stripe reads bracketed keys either way; unescaped keeps logs
/// readable).
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    let mut out = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        escape_into(key, &mut out);
        out.push('=');
        escape_into(value, &mut out);
    }
    out
}

fn escape_into(text: &str, out: &mut String) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'[' | b']' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => {
                // Writing to a String cannot fail.
                let _ = write!(out, "%{other:02X}");
            }
        }
    }
}

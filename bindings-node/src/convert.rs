//! The one place JS values become core values and back: numbers (checked by the core
//! to be safe integers), ISO dates, words of the core's vocabularies, raw bodies, and
//! the core's JSON forms. Every refusal is the core's typed error.

use billbridge::domain::date::Date;
use billbridge::vocabulary::{self, Vocabulary};
use napi::bindgen_prelude::*;

use crate::errors::{BindingError, OrThrow};

/// An integer given as a JS number: the core refuses fractions, NaN, infinities and
/// anything beyond `Number.MAX_SAFE_INTEGER`.
pub fn integer(env: &Env, argument: &'static str, value: f64) -> Result<i64> {
    vocabulary::safe_integer(argument, value).or_throw(env)
}

/// A count (quantity, days, concurrency, port) given as a JS number, 0 or more.
pub fn unsigned<T: TryFrom<i64>>(env: &Env, argument: &'static str, value: f64) -> Result<T> {
    vocabulary::safe_unsigned::<T>(argument, value).or_throw(env)
}

/// An optional count.
pub fn optional_unsigned<T: TryFrom<i64>>(
    env: &Env,
    argument: &'static str,
    value: Option<f64>,
) -> Result<Option<T>> {
    value
        .map(|value| unsigned(env, argument, value))
        .transpose()
}

/// An integer handed to JS as a number (refused beyond the safe range, never rounded).
pub fn number(env: &Env, argument: &'static str, value: i64) -> Result<f64> {
    vocabulary::to_safe_float(argument, value).or_throw(env)
}

/// A word of the vocabulary `T` (`"finalize_and_send"`, `"patient"`, …), parsed by the
/// core: an unknown word is a `ValidationError` with the vocabulary's code.
pub fn word<T: Vocabulary>(env: &Env, text: &str) -> Result<T> {
    T::from_word(text).or_throw(env)
}

/// A day given as ISO text, `"2026-01-31"`.
pub fn date(env: &Env, text: &str) -> Result<Date> {
    Date::parse(text).or_throw(env)
}

/// An optional ISO day.
pub fn optional_date(env: &Env, text: Option<&str>) -> Result<Option<Date>> {
    text.map(|text| date(env, text)).transpose()
}

/// A day as ISO text.
pub fn date_text(date: Date) -> String {
    date.to_string()
}

/// The raw request body: a `Buffer`/`Uint8Array` (as received, never re-serialised) or
/// a string (sent as its UTF-8 bytes).
pub type Body = Either<Uint8Array, String>;

/// The bytes of a body.
pub fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Either::A(bytes) => bytes,
        Either::B(text) => text.as_bytes(),
    }
}

/// A core value as plain JS values through its serde form (by way of a JSON tree, so
/// that raw JSON kept by the core, such as an untyped event snapshot, stays JSON).
pub fn to_plain<'env, T: serde::Serialize>(env: &'env Env, value: &T) -> Result<Unknown<'env>> {
    let json = serde_json::to_value(value).map_err(|error| {
        crate::errors::to_js(
            env,
            &BindingError::internal("conversion_failed", error.to_string()),
        )
    })?;
    env.to_js_value(&json)
}

/// A core value from its serde form given as plain JS values.
pub fn from_plain<T: serde::de::DeserializeOwned>(
    env: &Env,
    value: Unknown,
    what: &'static str,
) -> Result<T> {
    env.from_js_value::<T, _>(value).map_err(|error| {
        crate::errors::to_js(
            env,
            // serde quotes the value it could not read, which can be a name or a
            // birth date.
            &BindingError::wrong_type(format!(
                "invalid {what}: {}",
                billbridge::redact::decode_message(&error.reason)
            )),
        )
    })
}

//! Request parameters checked against Stripe's published request schemas, before any
//! handler runs: unknown parameters, missing required ones, and values of the wrong type
//! get the 400 Stripe answers (`parameter_unknown`, `parameter_missing`,
//! `parameter_invalid_integer`, `parameter_invalid_empty`, …), and a valid parameter the
//! mock deliberately does not model gets a 400 saying so, never a silent success.
//!
//! The shapes come from `spec/request_parameters.json`, generated from Stripe's OpenAPI
//! description (`tests/data/stripe/openapi/spec3.json`) for exactly the operations the
//! mock serves; `mock/tests/spec_parameters.rs` regenerates it and fails when it is
//! stale. Which parameters each operation models is declared beside its handler in the
//! routing table ([`crate::routes`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Deserialize;

use super::error::ApiError;
use super::form::{Form, Param};

/// The schema of one request parameter, reduced to what validation needs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "t", rename_all = "lowercase")]
pub(crate) enum Shape {
    /// A string, optionally limited in length or to an enumeration.
    String {
        #[serde(default)]
        max: Option<usize>,
        #[serde(default, rename = "enum")]
        one_of: Option<Vec<String>>,
        /// `decimal`, `unix-time`, `currency`, … as the spec says.
        #[serde(default)]
        format: Option<String>,
    },
    /// A whole number (`i64`).
    Integer,
    /// A decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A hash with named properties, or a map (`metadata`) whose values share a shape.
    Object {
        #[serde(default)]
        props: BTreeMap<String, Shape>,
        #[serde(default)]
        req: Vec<String>,
        #[serde(default)]
        extra: Option<Box<Shape>>,
    },
    /// An indexed array (`lines[0][…]`, `expand[]`).
    Array { items: Box<Shape> },
    /// Any one of several shapes (`anyOf`), e.g. a hash or `""` to unset it.
    Any { of: Vec<Shape> },
}

/// The request schemas of every served operation, keyed `"METHOD /v1/template"`.
fn shapes() -> &'static HashMap<String, Shape> {
    static SHAPES: OnceLock<HashMap<String, Shape>> = OnceLock::new();
    SHAPES.get_or_init(|| {
        // The file is generated and checked by the test suite, so a parse failure is a
        // build defect; an empty table then refuses nothing rather than panicking.
        serde_json::from_str(include_str!("spec/request_parameters.json")).unwrap_or_default()
    })
}

/// The request schema of `method` on `template`, if the spec has one.
pub(crate) fn operation_shape(method: &str, template: &str) -> Option<&'static Shape> {
    shapes().get(&format!("{method} {template}"))
}

/// Check a decoded request against its operation's schema and, when `modelled` is
/// given, the parameters the mock models for it (bracket paths, `[]` standing for any
/// array index; a path covers everything below it).
///
/// # Errors
/// The first problem, in Stripe's order: unknown parameters (all of them named), then
/// the first invalid or missing one, then the first valid one the mock does not model.
pub(crate) fn check(
    shape: &Shape,
    form: &Form,
    modelled: Option<&[&str]>,
    operation: &str,
) -> Result<(), ApiError> {
    let mut walk = Walk {
        modelled,
        unknown: Vec::new(),
        invalid: None,
        unmodelled: None,
    };
    walk.object_level(shape, form.root(), "", "", false);
    if let Some(first) = walk.unknown.first() {
        let message = if walk.unknown.len() == 1 {
            format!("Received unknown parameter: {first}")
        } else {
            format!("Received unknown parameters: {}", walk.unknown.join(", "))
        };
        return Err(ApiError::invalid(
            Some("parameter_unknown"),
            message,
            Some(first.clone()),
        ));
    }
    if let Some(error) = walk.invalid {
        return Err(error);
    }
    if let Some(path) = walk.unmodelled {
        return Err(ApiError::invalid(
            None,
            format!(
                "billbridge-mock does not model the parameter {path} of {operation}; Stripe accepts it, but the mock cannot answer for it as Stripe would. See the list of parameters the mock does not model in its documentation."
            ),
            Some(path),
        ));
    }
    Ok(())
}

/// The parameters of `shape` that `modelled` does not cover, each at the highest path
/// where nothing below is modelled (`[]` for array indices, `[*]` for map keys).
pub(crate) fn unmodelled(shape: &Shape, modelled: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    collect_unmodelled(shape, "", modelled, &mut found);
    found
}

fn collect_unmodelled(shape: &Shape, norm: &str, modelled: &[&str], found: &mut Vec<String>) {
    if !norm.is_empty() {
        if covered(modelled, norm) {
            return;
        }
        if !modelled_below(modelled, norm) {
            found.push(norm.to_owned());
            return;
        }
    }
    match shape {
        Shape::Object { props, extra, .. } => {
            for (name, inner) in props {
                if norm.is_empty() && name == "expand" {
                    continue;
                }
                collect_unmodelled(inner, &join(norm, name), modelled, found);
            }
            if let Some(inner) = extra {
                collect_unmodelled(inner, &join(norm, "*"), modelled, found);
            }
        }
        Shape::Array { items } => collect_unmodelled(items, &join(norm, ""), modelled, found),
        Shape::Any { of } => {
            // Report each nested path once, even when several alternatives share it.
            let before = found.len();
            for alternative in of {
                let mut more = Vec::new();
                collect_unmodelled(alternative, norm, modelled, &mut more);
                for path in more {
                    if !found[before..].contains(&path) {
                        found.push(path);
                    }
                }
            }
        }
        _ => {}
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}[{name}]")
    }
}

/// Whether a modelled path equals `norm` or lies above it. `expand` is modelled by
/// every operation (the mock expands generically).
fn covered(modelled: &[&str], norm: &str) -> bool {
    norm == "expand"
        || norm.starts_with("expand[")
        || modelled.iter().any(|path| {
            norm == *path
                || (norm.starts_with(path) && norm.as_bytes().get(path.len()) == Some(&b'['))
        })
}

/// Whether some modelled path lies strictly below `norm`.
fn modelled_below(modelled: &[&str], norm: &str) -> bool {
    modelled.iter().any(|path| {
        path.len() > norm.len()
            && path.starts_with(norm)
            && path.as_bytes().get(norm.len()) == Some(&b'[')
    })
}

struct Walk<'m> {
    /// `None`: only the schema is checked.
    modelled: Option<&'m [&'m str]>,
    unknown: Vec<String>,
    invalid: Option<ApiError>,
    unmodelled: Option<String>,
}

impl Walk<'_> {
    fn invalid(&mut self, error: ApiError) {
        if self.invalid.is_none() {
            self.invalid = Some(error);
        }
    }

    /// `path` is the bracket path as sent; `norm` the same with array indices as `[]`
    /// and map keys as `[*]`, as modelled lists spell them. `covered` is true once an
    /// ancestor is modelled.
    fn value(&mut self, shape: &Shape, param: &Param, path: &str, norm: &str, covered_above: bool) {
        let covered_here = match self.modelled {
            None => true,
            Some(modelled) => covered_above || covered(modelled, norm),
        };
        if !covered_here
            && !self
                .modelled
                .is_some_and(|modelled| modelled_below(modelled, norm))
            && self.unmodelled.is_none()
        {
            // Validate first (a wrong value is reported as Stripe would), then refuse.
            let mut probe = Walk {
                modelled: None,
                unknown: Vec::new(),
                invalid: None,
                unmodelled: None,
            };
            probe.value(shape, param, path, norm, true);
            self.unknown.extend(probe.unknown);
            if let Some(error) = probe.invalid {
                self.invalid(error);
            } else {
                self.unmodelled = Some(path.to_owned());
            }
            return;
        }
        match (shape, param) {
            (Shape::Any { of }, _) => self.any(of, param, path, norm, covered_here),
            (Shape::Object { .. }, Param::Map(map)) => {
                self.object_level(shape, map, path, norm, covered_here);
            }
            (Shape::Array { items }, Param::Map(map)) => {
                for (index, element) in map {
                    if index.parse::<usize>().is_err() {
                        self.invalid(ApiError::invalid(
                            None,
                            format!("Invalid array: {path} must be an array"),
                            Some(path.to_owned()),
                        ));
                        return;
                    }
                    let element_path = format!("{path}[{index}]");
                    self.value(items, element, &element_path, &join(norm, ""), covered_here);
                }
            }
            (Shape::Array { items }, Param::Text(text)) if !text.is_empty() => {
                // `expand=customer` is read as a one-element array, as Stripe does.
                self.value(items, param, path, &join(norm, ""), covered_here);
            }
            (_, Param::Text(text)) => {
                if let Err(error) = scalar(shape, text, path) {
                    self.invalid(error);
                }
            }
            (_, Param::Map(_)) => self.invalid(ApiError::invalid(
                None,
                format!(
                    "Invalid {}: {path} must be {}",
                    kind_word(shape),
                    a_kind(shape)
                ),
                Some(path.to_owned()),
            )),
        }
    }

    fn any(&mut self, of: &[Shape], param: &Param, path: &str, norm: &str, covered: bool) {
        if let Param::Text(text) = param
            && of.iter().any(|shape| scalar(shape, text, path).is_ok())
        {
            return;
        }
        // The alternative that takes this kind of value decides the answer: a hash for a
        // hash, an array for indexed values, otherwise the first scalar.
        let fitting = of.iter().find(|shape| match (shape, param) {
            (Shape::Object { .. }, Param::Map(map)) => {
                !map.keys().all(|key| key.parse::<usize>().is_ok()) || !has_array(of)
            }
            (Shape::Array { .. }, Param::Map(_)) => true,
            (Shape::Object { .. } | Shape::Array { .. }, Param::Text(_)) => false,
            (_, Param::Text(_)) => true,
            _ => false,
        });
        match fitting {
            Some(shape) => self.value(shape, param, path, norm, covered),
            None => {
                let expected = of.first().map_or("a value", a_kind);
                self.invalid(ApiError::invalid(
                    None,
                    format!("Invalid value for {path}: must be {expected}"),
                    Some(path.to_owned()),
                ));
            }
        }
    }

    fn object_level(
        &mut self,
        shape: &Shape,
        map: &BTreeMap<String, Param>,
        path: &str,
        norm: &str,
        covered: bool,
    ) {
        let Shape::Object { props, req, extra } = shape else {
            return;
        };
        for (name, param) in map {
            let child_path = join(path, name);
            match props.get(name) {
                Some(inner) => self.value(inner, param, &child_path, &join(norm, name), covered),
                None => match extra {
                    Some(inner) => {
                        self.value(inner, param, &child_path, &join(norm, "*"), covered);
                    }
                    None => self.unknown.push(child_path),
                },
            }
        }
        for name in req {
            if !map.contains_key(name) {
                self.invalid(ApiError::missing(&join(path, name)));
            }
        }
    }
}

fn has_array(of: &[Shape]) -> bool {
    of.iter().any(|shape| matches!(shape, Shape::Array { .. }))
}

fn kind_word(shape: &Shape) -> &'static str {
    match shape {
        Shape::String { .. } => "string",
        Shape::Integer => "integer",
        Shape::Number => "decimal",
        Shape::Boolean => "boolean",
        Shape::Object { .. } => "object",
        Shape::Array { .. } => "array",
        Shape::Any { .. } => "value",
    }
}

fn a_kind(shape: &Shape) -> &'static str {
    match shape {
        Shape::String { .. } => "a string",
        Shape::Integer => "an integer",
        Shape::Number => "a decimal number",
        Shape::Boolean => "a boolean",
        Shape::Object { .. } => "a hash",
        Shape::Array { .. } => "an array",
        Shape::Any { .. } => "a value",
    }
}

/// Check one leaf value against a scalar shape (or `""` against a hash or array,
/// which is how Stripe's form encoding asks to unset them).
fn scalar(shape: &Shape, text: &str, path: &str) -> Result<(), ApiError> {
    let invalid = |code: Option<&'static str>, message: String| {
        Err(ApiError::invalid(code, message, Some(path.to_owned())))
    };
    match shape {
        Shape::String {
            max,
            one_of,
            format,
        } => {
            if let Some(allowed) = one_of {
                if allowed.iter().any(|value| value == text) {
                    return Ok(());
                }
                if text.is_empty() {
                    return Err(ApiError::invalid_empty(path));
                }
                return invalid(
                    None,
                    format!("Invalid {path}: must be one of {}", one_of_words(allowed)),
                );
            }
            if let Some(max) = max
                && text.chars().count() > *max
            {
                let shown: String = text.chars().take(20).collect();
                return invalid(
                    None,
                    format!("Invalid string: {shown}...; must be at most {max} characters"),
                );
            }
            if format.as_deref() == Some("decimal") && !text.is_empty() && !is_decimal(text) {
                return invalid(None, format!("Invalid decimal: {text}"));
            }
            Ok(())
        }
        Shape::Integer => {
            if text.is_empty() {
                return Err(ApiError::invalid_empty(path));
            }
            match text.parse::<i64>() {
                Ok(_) => Ok(()),
                Err(_) => invalid(
                    Some("parameter_invalid_integer"),
                    format!("Invalid integer: {text}"),
                ),
            }
        }
        Shape::Number => {
            if text.is_empty() {
                return Err(ApiError::invalid_empty(path));
            }
            if is_decimal(text) {
                Ok(())
            } else {
                invalid(None, format!("Invalid decimal: {text}"))
            }
        }
        Shape::Boolean => match text {
            "true" | "false" => Ok(()),
            "" => Err(ApiError::invalid_empty(path)),
            other => invalid(None, format!("Invalid boolean: {other}")),
        },
        Shape::Object { .. } | Shape::Array { .. } => {
            if text.is_empty() {
                Err(ApiError::invalid_empty(path))
            } else {
                let expected = a_kind(shape);
                invalid(
                    None,
                    format!("Invalid {}: {path} must be {expected}", kind_word(shape)),
                )
            }
        }
        Shape::Any { of } => {
            if of.iter().any(|inner| scalar(inner, text, path).is_ok()) {
                Ok(())
            } else {
                of.first().map_or(Ok(()), |first| scalar(first, text, path))
            }
        }
    }
}

fn is_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let all_digits =
        |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// `a, b, or c` as Stripe words its enumerations.
fn one_of_words(values: &[String]) -> String {
    let shown: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .collect();
    match shown.as_slice() {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first, second] => format!("{first} or {second}"),
        [rest @ .., last] => format!("{}, or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        Form::decode(&pairs).unwrap_or_default()
    }

    fn customers() -> &'static Shape {
        operation_shape("POST", "/v1/customers").unwrap_or_else(|| unreachable!("generated"))
    }

    const MODELLED: &[&str] = &["name", "email", "metadata", "address", "balance"];

    #[test]
    fn every_unknown_parameter_is_named_and_the_first_is_the_param() {
        let error = check(
            customers(),
            &form(&[("zeta", "1"), ("name", "Ada"), ("alpha", "2")]),
            Some(MODELLED),
            "POST /v1/customers",
        )
        .unwrap_err();
        assert_eq!(error.code, Some("parameter_unknown"));
        assert_eq!(error.message, "Received unknown parameters: alpha, zeta");
        assert_eq!(error.param.as_deref(), Some("alpha"));
    }

    #[test]
    fn nested_unknown_parameter_is_spelled_in_brackets() {
        let error = check(
            customers(),
            &form(&[("address[planet]", "Mars")]),
            Some(MODELLED),
            "POST /v1/customers",
        )
        .unwrap_err();
        assert_eq!(error.message, "Received unknown parameter: address[planet]");
    }

    #[test]
    fn integers_booleans_enums_and_empty_values_are_checked() {
        let op = "POST /v1/customers";
        let error = check(
            customers(),
            &form(&[("balance", "12.5")]),
            Some(MODELLED),
            op,
        )
        .unwrap_err();
        assert_eq!(error.code, Some("parameter_invalid_integer"));
        assert_eq!(error.param.as_deref(), Some("balance"));
        let error = check(customers(), &form(&[("balance", "")]), Some(MODELLED), op).unwrap_err();
        assert_eq!(error.code, Some("parameter_invalid_empty"));
        let error = check(
            customers(),
            &form(&[("tax_exempt", "sometimes")]),
            Some(&["tax_exempt"]),
            op,
        )
        .unwrap_err();
        assert_eq!(
            error.message,
            "Invalid tax_exempt: must be one of exempt, none, or reverse"
        );
        // `""` unsets where the schema allows it (address, metadata, a plain string).
        for pairs in [[("address", "")], [("metadata", "")], [("email", "")]] {
            check(customers(), &form(&pairs), Some(MODELLED), op).unwrap();
        }
    }

    #[test]
    fn a_valid_parameter_the_mock_does_not_model_is_refused_by_name() {
        let error = check(
            customers(),
            &form(&[("name", "Ada"), ("invoice_prefix", "ABCD")]),
            Some(MODELLED),
            "POST /v1/customers",
        )
        .unwrap_err();
        assert_eq!(error.param.as_deref(), Some("invoice_prefix"));
        assert!(error.message.contains("does not model"));
        // A wrong value is still reported as Stripe reports it.
        let error = check(
            customers(),
            &form(&[("next_invoice_sequence", "x")]),
            Some(MODELLED),
            "POST /v1/customers",
        )
        .unwrap_err();
        assert_eq!(error.code, Some("parameter_invalid_integer"));
    }

    #[test]
    fn unmodelled_list_stops_at_the_highest_unmodelled_path() {
        let list = unmodelled(customers(), &["name", "address[city]", "metadata"]);
        assert!(list.contains(&"email".to_owned()));
        assert!(list.contains(&"address[line1]".to_owned()));
        assert!(!list.iter().any(|path| path.starts_with("address[city]")));
        assert!(list.contains(&"shipping".to_owned()));
        assert!(!list.iter().any(|path| path.starts_with("shipping[")));
        assert!(!list.iter().any(|path| path == "expand"));
    }

    #[test]
    fn decimals_and_enumerations_read_as_stripe_words_them() {
        assert!(is_decimal("12.50") && is_decimal("-3") && !is_decimal("1e3") && !is_decimal("."));
        let words = |values: &[&str]| {
            one_of_words(
                &values
                    .iter()
                    .map(|value| (*value).to_owned())
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(words(&["a", "b"]), "a or b");
        assert_eq!(words(&["a", "b", "c"]), "a, b, or c");
    }
}

//! Stripe's published OpenAPI description (`tests/data/stripe/openapi/spec3.json`, API
//! version 2026-08-26.dahlia, from the official stripe-mock) turned into strict JSON
//! Schema, for checking every answer of the mock with the `jsonschema` crate.
//!
//! OpenAPI 3.0 differs from JSON Schema in two ways that matter here, and the
//! translation handles both: `nullable: true` admits `null`, and a schema with
//! `properties` lists every property Stripe returns (the spec's README: Stripe never
//! returns a key that is not listed), so such objects get `additionalProperties: false`
//! unless they say otherwise (metadata maps do).
#![allow(dead_code)] // each test target uses a part of this module
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

/// The spec as published.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/stripe/openapi/spec3.json");
        let text = std::fs::read_to_string(&path).expect("the OpenAPI spec is in the repository");
        serde_json::from_str(&text).expect("the spec is JSON")
    })
}

/// The component schemas, translated to strict JSON Schema.
fn definitions() -> &'static Map<String, Value> {
    static DEFS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        spec()["components"]["schemas"]
            .as_object()
            .expect("component schemas")
            .iter()
            .map(|(name, schema)| (name.clone(), strict(schema)))
            .collect()
    })
}

/// One OpenAPI 3.0 schema as strict JSON Schema (see the module docs).
pub fn strict(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return json!({ "$ref": format!("#/$defs/{name}") });
    }
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "nullable" | "description" | "title" | "discriminator" | "example" => {}
            key if key.starts_with("x-") => {}
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|properties| {
                        properties
                            .iter()
                            .map(|(name, schema)| (name.clone(), strict(schema)))
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" | "additionalProperties" if value.is_object() => {
                out.insert(key.clone(), strict(value));
            }
            "anyOf" | "oneOf" | "allOf" => {
                let alternatives = value
                    .as_array()
                    .map(|items| items.iter().map(strict).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(alternatives));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if out.contains_key("properties") && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    let strict = Value::Object(out);
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        json!({ "anyOf": [strict, { "type": "null" }] })
    } else {
        strict
    }
}

/// The names of the component schemas `schema` refers to, transitively.
fn reachable(schema: &Value, found: &mut BTreeSet<String>) {
    match schema {
        Value::Object(object) => {
            if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
                let name = reference.trim_start_matches("#/$defs/").to_owned();
                if found.insert(name.clone())
                    && let Some(definition) = definitions().get(&name)
                {
                    reachable(definition, found);
                }
            }
            for value in object.values() {
                reachable(value, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| reachable(item, found)),
        _ => {}
    }
}

/// A compiled validator for a root schema (already strict).
pub struct Checker {
    validator: jsonschema::Validator,
}

impl Checker {
    /// A checker of `root`, with the definitions it reaches.
    pub fn new(root: &Value) -> Checker {
        let mut names = BTreeSet::new();
        reachable(root, &mut names);
        let defs: Map<String, Value> = names
            .into_iter()
            .filter_map(|name| {
                definitions()
                    .get(&name)
                    .map(|schema| (name, schema.clone()))
            })
            .collect();
        let mut document = root.as_object().cloned().unwrap_or_default();
        document.insert("$defs".to_owned(), Value::Object(defs));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&Value::Object(document))
            .expect("the translated schema compiles");
        Checker { validator }
    }

    /// Every way `instance` breaks the schema, one line each (empty when valid).
    pub fn errors(&self, instance: &Value) -> Vec<String> {
        self.validator
            .iter_errors(instance)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect()
    }
}

/// The strict schema of a component, e.g. `invoice`.
pub fn component(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

/// The strict schema of the answer `status` to `method` on `template`: the operation's
/// own response for that status, or its `default` (Stripe's `error` object).
pub fn response(method: &str, template: &str, status: u16) -> Option<Value> {
    let operation = spec()["paths"]
        .get(template)?
        .get(method.to_ascii_lowercase())?;
    let responses = operation.get("responses")?;
    let answer = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))?;
    Some(strict(
        answer
            .get("content")?
            .get("application/json")?
            .get("schema")?,
    ))
}

/// The request-body schema (form parameters) of an operation, as published.
pub fn request_parameters(method: &str, template: &str) -> Option<&'static Value> {
    let operation = spec()["paths"]
        .get(template)?
        .get(method.to_ascii_lowercase())?;
    if method.eq_ignore_ascii_case("get") || method.eq_ignore_ascii_case("delete") {
        return operation.get("parameters");
    }
    operation
        .get("requestBody")?
        .get("content")?
        .get("application/x-www-form-urlencoded")?
        .get("schema")
}

/// A cache of checkers by key, so each schema compiles once per test.
#[derive(Default)]
pub struct Checkers {
    compiled: BTreeMap<String, Checker>,
}

impl Checkers {
    /// The checker under `key`, compiled from `root` the first time.
    pub fn get(&mut self, key: &str, root: impl FnOnce() -> Value) -> &Checker {
        self.compiled
            .entry(key.to_owned())
            .or_insert_with(|| Checker::new(&root()))
    }
}

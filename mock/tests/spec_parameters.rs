//! The mock's request schemas and its list of unmodelled parameters are generated from
//! Stripe's OpenAPI description and must be current: this test rebuilds
//! `mock/src/spec/request_parameters.json` (the schema of every parameter of every
//! operation the mock serves) and `mock/PARAMETERS.md` (the parameters the mock
//! deliberately does not model) and fails when the committed files differ.
//! `BILLBRIDGE_REGENERATE=1 cargo test -p billbridge-mock --test spec_parameters`
//! writes them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod spec_common;

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Map, Value, json};
use spec_common::spec;

/// One OpenAPI request schema in the compact form `params.rs` reads.
fn compact(schema: &Value) -> Value {
    let object = schema.as_object().expect("request schemas are objects");
    assert!(
        !object.contains_key("$ref"),
        "request schemas are inlined in this spec"
    );
    if let Some(alternatives) = object.get("anyOf").and_then(Value::as_array) {
        return json!({ "t": "any", "of": alternatives.iter().map(compact).collect::<Vec<_>>() });
    }
    match object.get("type").and_then(Value::as_str) {
        Some("string") => {
            let mut out = Map::new();
            out.insert("t".into(), json!("string"));
            if let Some(max) = object.get("maxLength") {
                out.insert("max".into(), max.clone());
            }
            // Values Stripe marks `x-stripeBypassValidation` are not checked by Stripe
            // either (it accepts values newer than the published list).
            let bypass = object.get("x-stripeBypassValidation") == Some(&Value::Bool(true));
            if let Some(values) = object.get("enum")
                && !bypass
            {
                out.insert("enum".into(), values.clone());
            }
            if let Some(format) = object.get("format") {
                out.insert("format".into(), format.clone());
            }
            Value::Object(out)
        }
        Some(kind @ ("integer" | "number" | "boolean")) => json!({ "t": kind }),
        Some("array") => json!({ "t": "array", "items": compact(&object["items"]) }),
        Some("object") => {
            let mut out = Map::new();
            out.insert("t".into(), json!("object"));
            let properties: Map<String, Value> = object
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| {
                    properties
                        .iter()
                        .map(|(name, inner)| (name.clone(), compact(inner)))
                        .collect()
                })
                .unwrap_or_default();
            if !properties.is_empty() {
                out.insert("props".into(), Value::Object(properties));
            }
            if let Some(required) = object.get("required") {
                out.insert("req".into(), required.clone());
            }
            if let Some(extra) = object.get("additionalProperties").filter(|v| v.is_object()) {
                out.insert("extra".into(), compact(extra));
            }
            Value::Object(out)
        }
        other => panic!("unexpected request schema type {other:?}: {schema}"),
    }
}

/// The parameters of one operation (query and form body together; path parameters
/// are part of the URL) as one compact object schema.
fn operation_parameters(method: &str, template: &str) -> Value {
    let operation = &spec()["paths"][template][method.to_ascii_lowercase()];
    assert!(operation.is_object(), "{method} {template} is in the spec");
    let mut properties = Map::new();
    let mut required = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        if parameter["in"] != "query" {
            continue;
        }
        let name = parameter["name"]
            .as_str()
            .expect("parameter name")
            .to_owned();
        if parameter["required"] == Value::Bool(true) {
            required.push(json!(name));
        }
        properties.insert(name, compact(&parameter["schema"]));
    }
    let body = &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    if let Some(body_properties) = body["properties"].as_object() {
        for (name, schema) in body_properties {
            properties.insert(name.clone(), compact(schema));
        }
        for name in body["required"].as_array().into_iter().flatten() {
            required.push(name.clone());
        }
    }
    let mut out = Map::new();
    out.insert("t".into(), json!("object"));
    if !properties.is_empty() {
        out.insert("props".into(), Value::Object(properties));
    }
    if !required.is_empty() {
        out.insert("req".into(), Value::Array(required));
    }
    Value::Object(out)
}

fn generated_schemas() -> String {
    let mut text = String::from("{\n");
    let operations = billbridge_mock::operations();
    for (position, operation) in operations.iter().enumerate() {
        let key = format!("{} {}", operation.method, operation.template);
        let shape = operation_parameters(operation.method.as_str(), operation.template);
        let separator = if position + 1 == operations.len() {
            ""
        } else {
            ","
        };
        writeln!(text, "{}: {}{separator}", json!(key), shape).unwrap();
    }
    text.push_str("}\n");
    text
}

fn generated_docs() -> String {
    let mut text = String::from(
        "# Parameters the mock does not model\n\n\
         Generated from Stripe's OpenAPI description by `mock/tests/spec_parameters.rs`; do not edit.\n\n\
         The mock accepts every parameter of Stripe's published schema for the operations it\n\
         serves and checks each one's type as Stripe does (unknown parameters, missing\n\
         required ones and wrong types get Stripe's 400 answers). The parameters below are\n\
         valid at Stripe but not modelled: the mock answers a request that sends one with a\n\
         400 `invalid_request_error` naming the parameter, rather than succeed without doing\n\
         what Stripe would. A path covers everything below it; `[]` stands for any array\n\
         index and `[*]` for any map key. `expand[]` is modelled on every operation.\n",
    );
    for operation in billbridge_mock::operations() {
        let unmodelled = operation.unmodelled();
        write!(text, "\n## {} {}\n\n", operation.method, operation.template).unwrap();
        if unmodelled.is_empty() {
            text.push_str("Every parameter is modelled.\n");
        } else {
            for path in unmodelled {
                writeln!(text, "- `{path}`").unwrap();
            }
        }
    }
    text
}

fn check_or_write(relative: &str, generated: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("BILLBRIDGE_REGENERATE").is_some() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{relative} is stale: run BILLBRIDGE_REGENERATE=1 cargo test -p billbridge-mock --test spec_parameters"
    );
}

#[test]
fn request_schemas_are_generated_from_the_published_spec() {
    check_or_write("src/spec/request_parameters.json", &generated_schemas());
}

#[test]
fn unmodelled_parameters_are_listed_in_the_docs() {
    check_or_write("PARAMETERS.md", &generated_docs());
}

#[test]
fn every_served_operation_is_in_the_spec_and_models_only_spec_parameters() {
    let mut undefined = Vec::new();
    for operation in billbridge_mock::operations() {
        let shape = operation_parameters(operation.method.as_str(), operation.template);
        for modelled in operation.modelled {
            // Walk the modelled path through the spec's shape.
            let mut here = vec![&shape];
            for segment in modelled.replace(']', "").split('[') {
                let mut next = Vec::new();
                for node in here {
                    collect_children(node, segment, &mut next);
                }
                if next.is_empty() {
                    undefined.push(format!("{operation:?} models `{modelled}`"));
                    break;
                }
                here = next;
            }
        }
    }
    assert!(
        undefined.is_empty(),
        "parameters the spec does not define:\n{}",
        undefined.join("\n")
    );
}

fn collect_children<'a>(node: &'a Value, segment: &str, out: &mut Vec<&'a Value>) {
    match node["t"].as_str() {
        Some("any") => node["of"]
            .as_array()
            .into_iter()
            .flatten()
            .for_each(|alternative| collect_children(alternative, segment, out)),
        Some("object") => {
            if let Some(child) = node["props"].get(segment) {
                out.push(child);
            } else if segment == "*"
                && let Some(extra) = node.get("extra")
            {
                out.push(extra);
            }
        }
        Some("array") if segment.is_empty() => out.push(&node["items"]),
        _ => {}
    }
}

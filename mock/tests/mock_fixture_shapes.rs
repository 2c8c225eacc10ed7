//! Every key of Stripe's published example objects (tests/data/stripe/fixtures) is present in
//! what MockStripe answers, recursively. Where the mock has `null` (nothing to say, as
//! Stripe would) or an empty list, the nested keys are not required. The OpenAPI spec is
//! the schema of record: a fixture key that the spec no longer lists for its object
//! (`type` on a product) is not required — `schema_conformance` forbids it.

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_common;
mod spec_common;

use billbridge::stripe::transport::Method;
use billbridge_mock::MockStripe;
use mock_common::*;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../tests/data/stripe/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap()
}

fn missing_keys(expected: &Value, actual: &Value, path: &str, missing: &mut Vec<String>) {
    match (expected, actual) {
        (_, Value::Null) => {}
        (Value::Object(expected), Value::Object(actual)) => {
            let listed = actual
                .get("object")
                .and_then(Value::as_str)
                .and_then(|name| {
                    spec_common::spec()["components"]["schemas"][name]["properties"].as_object()
                });
            for (key, value) in expected {
                if listed.is_some_and(|properties| !properties.contains_key(key)) {
                    continue;
                }
                let child = format!("{path}.{key}");
                match actual.get(key) {
                    None => missing.push(child),
                    Some(found) => missing_keys(value, found, &child, missing),
                }
            }
        }
        (Value::Object(_), other) => missing.push(format!("{path} (object expected, got {other})")),
        (Value::Array(expected), Value::Array(actual)) => {
            if let (Some(first_expected), Some(first_actual)) = (expected.first(), actual.first()) {
                missing_keys(first_expected, first_actual, &format!("{path}[0]"), missing);
            }
        }
        _ => {}
    }
}

fn assert_shape(name: &str, actual: &Value) {
    let mut missing = Vec::new();
    missing_keys(&fixture(name), actual, name, &mut missing);
    assert!(missing.is_empty(), "{name}: missing keys {missing:?}");
}

#[tokio::test]
async fn objects_carry_every_key_of_stripes_examples() {
    let mock = MockStripe::new();
    let customer = post(
        &mock,
        "/v1/customers",
        &[
            ("name", "Ada"),
            ("address[line1]", "1 Main St"),
            ("address[country]", "GB"),
        ],
    )
    .await;
    assert_shape("customer", &customer);
    let cus = customer["id"].as_str().unwrap();
    let transaction = adjust(&mock, cus, -500, "gbp").await;
    assert_shape("customer_balance_transaction", &transaction);
    let product = post(&mock, "/v1/products", &[("name", "Follow-up")]).await;
    assert_shape("product", &product);
    let price = post(
        &mock,
        "/v1/prices",
        &[
            ("currency", "gbp"),
            ("unit_amount", "4500"),
            ("product", product["id"].as_str().unwrap()),
        ],
    )
    .await;
    assert_shape("price", &price);
    let invoice = draft_with_line(&mock, cus, "gbp", 1099, 1).await;
    let item = post(
        &mock,
        "/v1/invoiceitems",
        &[
            ("customer", cus),
            ("invoice", &invoice),
            ("pricing[price]", price["id"].as_str().unwrap()),
        ],
    )
    .await;
    assert_shape("invoiceitem", &item);
    let finalized = post(&mock, &format!("/v1/invoices/{invoice}/finalize"), &[]).await;
    assert!(!finalized["lines"]["data"].as_array().unwrap().is_empty());
    assert_shape("invoice", &finalized);
    let lines = get(&mock, &format!("/v1/invoices/{invoice}/lines"), &[]).await;
    assert_shape("line_item", &lines["data"][0]);
    let events = get(&mock, "/v1/events", &[]).await;
    let mut event = events["data"][0].clone();
    // The example event's object is a plan; compare the envelope only.
    event["data"]["object"] = Value::Null;
    assert_shape("event", &event);
    assert!(events["data"][0]["data"]["object"]["object"].is_string());

    let (_, deleted_item) = call(
        &mock,
        Method::Delete,
        &format!("/v1/invoiceitems/{}", item["id"].as_str().unwrap()),
        &[],
    )
    .await;
    // Items of an open invoice cannot be deleted; a pending one can.
    assert_eq!(deleted_item["error"]["code"], "invoice_not_editable");
    let pending = post(
        &mock,
        "/v1/invoiceitems",
        &[("customer", cus), ("amount", "100"), ("currency", "gbp")],
    )
    .await;
    let (_, deleted_item) = call(
        &mock,
        Method::Delete,
        &format!("/v1/invoiceitems/{}", pending["id"].as_str().unwrap()),
        &[],
    )
    .await;
    assert_shape("deleted_invoiceitem", &deleted_item);
    let draft = post(&mock, "/v1/invoices", &[("customer", cus)]).await;
    let (_, deleted_invoice) = call(
        &mock,
        Method::Delete,
        &format!("/v1/invoices/{}", draft["id"].as_str().unwrap()),
        &[],
    )
    .await;
    assert_shape("deleted_invoice", &deleted_invoice);
    let (_, deleted_customer) =
        call(&mock, Method::Delete, &format!("/v1/customers/{cus}"), &[]).await;
    assert_shape("deleted_customer", &deleted_customer);
}

#[test]
fn the_comparison_catches_a_missing_nested_key() {
    let expected = serde_json::json!({"a": {"b": 1, "c": [ {"d": 1} ]}});
    let mut missing = Vec::new();
    missing_keys(
        &expected,
        &serde_json::json!({"a": {"b": 2, "c": [ {} ]}}),
        "x",
        &mut missing,
    );
    assert_eq!(missing, vec!["x.a.c[0].d".to_owned()]);
    missing.clear();
    missing_keys(
        &expected,
        &serde_json::json!({"a": null}),
        "x",
        &mut missing,
    );
    assert!(missing.is_empty());
}

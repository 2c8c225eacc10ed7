//! How the mock reads requests, as Stripe does: every parameter of the published schema
//! accepted and type-checked (unknown, missing, invalid and empty values answered with
//! Stripe's codes), parameters the mock does not model refused by name, `expand[]` on
//! every operation, and idempotency keys reused elsewhere named as such.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_common;

use billbridge::stripe::transport::Method;
use billbridge_mock::MockStripe;
use mock_common::*;
use serde_json::Value;

fn error_field<'a>(body: &'a Value, field: &str) -> &'a str {
    body["error"][field].as_str().unwrap_or("")
}

#[tokio::test]
async fn unknown_missing_and_invalid_parameters_get_stripes_answers() {
    let mock = MockStripe::new();
    let (status, body) = call(
        &mock,
        Method::Post,
        "/v1/customers",
        &[("name", "Ada"), ("shoe_size", "9"), ("hat", "x")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "parameter_unknown");
    assert_eq!(
        error_field(&body, "message"),
        "Received unknown parameters: hat, shoe_size"
    );
    assert_eq!(error_field(&body, "param"), "hat");
    assert_eq!(
        error_field(&body, "doc_url"),
        "https://stripe.com/docs/error-codes/parameter-unknown"
    );
    assert_eq!(error_field(&body, "type"), "invalid_request_error");

    let ada = customer(&mock, &[("name", "Ada")]).await;
    let path = format!("/v1/customers/{ada}/balance_transactions");
    let (status, body) = call(&mock, Method::Post, &path, &[("amount", "100")]).await;
    assert_eq!((status, code(&body)), (400, "parameter_missing"));
    assert_eq!(
        error_field(&body, "message"),
        "Missing required param: currency."
    );
    let (_, body) = call(
        &mock,
        Method::Post,
        &path,
        &[("amount", "1.5"), ("currency", "gbp")],
    )
    .await;
    assert_eq!(code(&body), "parameter_invalid_integer");
    let (_, body) = call(
        &mock,
        Method::Post,
        &path,
        &[("amount", ""), ("currency", "gbp")],
    )
    .await;
    assert_eq!(code(&body), "parameter_invalid_empty");
    assert_eq!(error_field(&body, "param"), "amount");

    // Nested: the whole bracket path is named.
    let invoice = draft_with_line(&mock, &ada, "gbp", 1000, 1).await;
    let (_, body) = call(
        &mock,
        Method::Post,
        &format!("/v1/invoices/{invoice}/add_lines"),
        &[
            ("lines[0][price_data][currency]", "gbp"),
            ("lines[0][price_data][colour]", "red"),
        ],
    )
    .await;
    assert_eq!(
        error_field(&body, "message"),
        "Received unknown parameter: lines[0][price_data][colour]"
    );
    let (_, body) = call(
        &mock,
        Method::Post,
        &format!("/v1/invoices/{invoice}"),
        &[("collection_method", "by_pigeon")],
    )
    .await;
    assert_eq!(
        error_field(&body, "message"),
        "Invalid collection_method: must be one of charge_automatically or send_invoice"
    );
    // A list has no `""` in Stripe's schema (unlike metadata or address).
    let (_, body) = call(
        &mock,
        Method::Post,
        &format!("/v1/customers/{ada}"),
        &[("preferred_locales", "")],
    )
    .await;
    assert_eq!(code(&body), "parameter_invalid_empty");
    // Nothing was changed by any refused request.
    let customers = get(&mock, "/v1/customers", &[]).await;
    assert_eq!(customers["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_spec_parameter_the_mock_does_not_model_is_refused_by_name_and_changes_nothing() {
    let mock = MockStripe::new();
    let (status, body) = call(
        &mock,
        Method::Post,
        "/v1/customers",
        &[("name", "Ada"), ("tax_exempt", "exempt")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error_field(&body, "param"), "tax_exempt");
    assert!(error_field(&body, "message").contains("does not model"));
    assert!(
        get(&mock, "/v1/customers", &[]).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let documented = billbridge_mock::operations()
        .iter()
        .find(|operation| operation.template == "/v1/customers" && operation.method == Method::Post)
        .unwrap()
        .unmodelled();
    assert!(documented.contains(&"tax_exempt".to_owned()));
}

#[tokio::test]
async fn a_preview_prices_lines_by_price_id_as_stripe_allows() {
    let mock = MockStripe::new();
    let ada = customer(&mock, &[("name", "Ada")]).await;
    let product = post(&mock, "/v1/products", &[("name", "Visit")]).await;
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
    let preview = post(
        &mock,
        "/v1/invoices/create_preview",
        &[
            ("customer", &ada),
            ("currency", "gbp"),
            ("invoice_items[0][price]", price["id"].as_str().unwrap()),
            ("invoice_items[0][quantity]", "2"),
            ("invoice_items[1][unit_amount]", "-500"),
            ("invoice_items[1][description]", "Loyalty discount"),
        ],
    )
    .await;
    assert_eq!(preview["total"], 8500);
}

#[tokio::test]
async fn expand_replaces_ids_with_objects_everywhere() {
    let mock = MockStripe::new();
    let ada = customer(&mock, &[("name", "Ada")]).await;
    let invoice = draft_with_line(&mock, &ada, "gbp", 1000, 1).await;
    let expanded = get(
        &mock,
        &format!("/v1/invoices/{invoice}"),
        &[("expand[]", "customer")],
    )
    .await;
    assert_eq!(expanded["customer"]["object"], "customer");
    assert_eq!(expanded["customer"]["name"], "Ada");
    // Not asked: an id.
    let plain = get(&mock, &format!("/v1/invoices/{invoice}"), &[]).await;
    assert_eq!(plain["customer"], Value::String(ada.clone()));
    // Inside list items, and two levels deep.
    let listed = get(&mock, "/v1/invoices", &[("expand[]", "data.customer")]).await;
    assert_eq!(
        listed["data"][0]["customer"]["id"],
        Value::String(ada.clone())
    );
    let items = get(
        &mock,
        "/v1/invoiceitems",
        &[("expand[]", "data.invoice.customer")],
    )
    .await;
    assert_eq!(items["data"][0]["invoice"]["object"], "invoice");
    assert_eq!(
        items["data"][0]["invoice"]["customer"]["object"],
        "customer"
    );
    // On a balance transaction, and on the answer of a write.
    let credit = post(
        &mock,
        &format!("/v1/customers/{ada}/balance_transactions"),
        &[
            ("amount", "-500"),
            ("currency", "gbp"),
            ("expand[]", "customer"),
        ],
    )
    .await;
    assert_eq!(credit["customer"]["balance"], -500);
}

#[tokio::test]
async fn a_path_that_cannot_be_expanded_is_refused_and_the_write_undone() {
    let mock = MockStripe::new();
    let ada = customer(&mock, &[("name", "Ada")]).await;
    let (status, body) = call(
        &mock,
        Method::Post,
        "/v1/invoices",
        &[("customer", &ada), ("expand[]", "currency")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_field(&body, "message"),
        "This property cannot be expanded (currency)."
    );
    assert!(
        get(&mock, "/v1/invoices", &[]).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let created_events = get(&mock, "/v1/events", &[("type", "invoice.created")]).await;
    assert!(created_events["data"].as_array().unwrap().is_empty());
    // A list is expanded through `data.`, as at Stripe.
    let (status, _) = call(
        &mock,
        Method::Get,
        "/v1/invoices",
        &[("expand[]", "customer")],
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = call(
        &mock,
        Method::Get,
        &format!("/v1/customers/{ada}"),
        &[("expand[]", "a.b.c.d.e")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(error_field(&body, "message").contains("more than 4 levels"));
}

#[tokio::test]
async fn an_idempotency_key_reused_elsewhere_says_which_mismatch_it_is() {
    let mock = MockStripe::new();
    let keyed = |path: &str, params: &[(&str, &str)]| {
        let mut request = request(Method::Post, path, params);
        request.idempotency_key = Some("reused-key".into());
        request
    };
    let (status, _, _) = send(&mock, &keyed("/v1/customers", &[("name", "Ada")]))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, body, _) = send(&mock, &keyed("/v1/customers", &[("name", "Bob")]))
        .await
        .unwrap();
    assert_eq!(
        (status, error_field(&body, "type")),
        (400, "idempotency_error")
    );
    assert!(error_field(&body, "message").contains("same parameters"));
    let (status, body, _) = send(&mock, &keyed("/v1/products", &[("name", "Visit")]))
        .await
        .unwrap();
    assert_eq!(
        (status, error_field(&body, "type")),
        (400, "idempotency_error")
    );
    assert_eq!(
        error_field(&body, "message"),
        "Keys for idempotent requests can only be used for the same endpoint they were first used for ('/v1/customers' vs '/v1/products'). Try using a key other than 'reused-key' if you meant to execute a different request."
    );
    // A request refused for its parameters is not saved: the key stays free.
    let mut refused = request(Method::Post, "/v1/products", &[("colour", "red")]);
    refused.idempotency_key = Some("fresh-key".into());
    assert_eq!(send(&mock, &refused).await.unwrap().0, 400);
    let mut corrected = request(Method::Post, "/v1/products", &[("name", "Visit")]);
    corrected.idempotency_key = Some("fresh-key".into());
    assert_eq!(send(&mock, &corrected).await.unwrap().0, 200);
}

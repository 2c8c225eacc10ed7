//! MockStripe behaves like Stripe for everything billbridge does, checked through
//! `Transport::send` with raw form pairs.

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_common;

use billbridge::stripe::transport::{Method, Transport};
use billbridge_mock::{InvoiceNumbering, MockStripe};
use mock_common::*;
use serde_json::Value;

async fn finalize(mock: &MockStripe, invoice: &str) -> Value {
    post(mock, &format!("/v1/invoices/{invoice}/finalize"), &[]).await
}

async fn balance_of(mock: &MockStripe, customer: &str) -> i64 {
    get(mock, &format!("/v1/customers/{customer}"), &[]).await["balance"]
        .as_i64()
        .unwrap()
}

async fn transaction_types(mock: &MockStripe, customer: &str) -> Vec<(String, i64, i64)> {
    let list = get(
        mock,
        &format!("/v1/customers/{customer}/balance_transactions"),
        &[],
    )
    .await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|txn| {
            (
                txn["type"].as_str().unwrap().to_owned(),
                txn["amount"].as_i64().unwrap(),
                txn["ending_balance"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn stripe_example_credit_500_on_1099_leaves_599_due() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[("name", "Ada"), ("email", "ada@example.com")]).await;
    let credit = adjust(&mock, &cus, -500, "gbp").await;
    assert_eq!(credit["type"], "adjustment");
    assert_eq!(credit["ending_balance"], -500);
    let invoice = draft_with_line(&mock, &cus, "gbp", 1099, 1).await;
    let draft = get(&mock, &format!("/v1/invoices/{invoice}"), &[]).await;
    assert_eq!(draft["starting_balance"], -500);
    assert_eq!(draft["ending_balance"], Value::Null);
    assert_eq!(draft["number"], Value::Null);
    let open = finalize(&mock, &invoice).await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["total"], 1099);
    assert_eq!(open["subtotal"], 1099);
    assert_eq!(open["amount_due"], 599);
    assert_eq!(open["amount_remaining"], 599);
    assert_eq!(open["amount_paid"], 0);
    assert_eq!(open["starting_balance"], -500);
    assert_eq!(open["ending_balance"], 0);
    assert_eq!(open["customer_name"], "Ada");
    assert!(open["number"].as_str().unwrap().ends_with("-0001"));
    assert!(
        open["hosted_invoice_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert!(open["invoice_pdf"].as_str().unwrap().ends_with("/pdf"));
    assert!(open["status_transitions"]["finalized_at"].is_i64());
    assert_eq!(balance_of(&mock, &cus).await, 0);
    assert_eq!(
        transaction_types(&mock, &cus).await,
        vec![
            ("adjustment".to_owned(), -500, -500),
            ("applied_to_invoice".to_owned(), 500, 0)
        ]
    );
}

#[tokio::test]
async fn credit_larger_than_total_pays_invoice_and_keeps_the_rest() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    adjust(&mock, &cus, -2000, "usd").await;
    let invoice = draft_with_line(&mock, &cus, "usd", 700, 2).await;
    let paid = finalize(&mock, &invoice).await;
    assert_eq!(paid["total"], 1400);
    assert_eq!(paid["amount_due"], 0);
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["ending_balance"], -600);
    assert_eq!(balance_of(&mock, &cus).await, -600);
    let events = get(&mock, "/v1/events", &[("type", "invoice.paid")]).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1);
    let succeeded = get(
        &mock,
        "/v1/events",
        &[("type", "invoice.payment_succeeded")],
    )
    .await;
    assert!(succeeded["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn debit_is_added_to_amount_due() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    adjust(&mock, &cus, 250, "gbp").await;
    let invoice = draft_with_line(&mock, &cus, "gbp", 1000, 1).await;
    let open = finalize(&mock, &invoice).await;
    assert_eq!(open["amount_due"], 1250);
    assert_eq!(open["starting_balance"], 250);
    assert_eq!(open["ending_balance"], 0);
    assert_eq!(balance_of(&mock, &cus).await, 0);
}

#[tokio::test]
async fn below_minimum_charge_is_paid_and_moved_to_balance() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let invoice = draft_with_line(&mock, &cus, "gbp", 20, 1).await;
    let paid = finalize(&mock, &invoice).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_remaining"], 0);
    assert_eq!(paid["ending_balance"], 20);
    assert_eq!(balance_of(&mock, &cus).await, 20);
    let types = transaction_types(&mock, &cus).await;
    assert_eq!(types, vec![("invoice_too_small".to_owned(), 20, 20)]);
    // The same 20 pence debit is collected on the next invoice.
    let next = draft_with_line(&mock, &cus, "gbp", 1000, 1).await;
    assert_eq!(finalize(&mock, &next).await["amount_due"], 1020);
    // 30 pence is the GBP minimum: exactly 30 is charged normally.
    let other = customer(&mock, &[]).await;
    let at_minimum = draft_with_line(&mock, &other, "gbp", 30, 1).await;
    assert_eq!(finalize(&mock, &at_minimum).await["status"], "open");
}

#[tokio::test]
async fn zero_amount_due_is_paid_at_finalization() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let invoice = post(
        &mock,
        "/v1/invoices",
        &[("customer", &cus), ("currency", "eur")],
    )
    .await;
    let id = invoice["id"].as_str().unwrap();
    let paid = finalize(&mock, id).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_due"], 0);
    assert!(paid["status_transitions"]["paid_at"].is_i64());
}

#[tokio::test]
async fn voiding_returns_the_applied_balance() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    adjust(&mock, &cus, -500, "gbp").await;
    let invoice = draft_with_line(&mock, &cus, "gbp", 1099, 1).await;
    finalize(&mock, &invoice).await;
    assert_eq!(balance_of(&mock, &cus).await, 0);
    let void = post(&mock, &format!("/v1/invoices/{invoice}/void"), &[]).await;
    assert_eq!(void["status"], "void");
    assert_eq!(void["amount_remaining"], 0);
    assert!(void["status_transitions"]["voided_at"].is_i64());
    assert_eq!(balance_of(&mock, &cus).await, -500);
    let types = transaction_types(&mock, &cus).await;
    assert_eq!(
        types.last().unwrap(),
        &("unapplied_from_invoice".to_owned(), -500, -500)
    );
}

#[tokio::test]
async fn illegal_transitions_are_refused_with_stripe_codes() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let invoice = draft_with_line(&mock, &cus, "usd", 1000, 1).await;
    let path = |action: &str| format!("/v1/invoices/{invoice}/{action}");
    // A draft cannot be paid, voided or marked uncollectible.
    for action in ["pay", "void", "mark_uncollectible", "send"] {
        let (status, body) = call(&mock, Method::Post, &path(action), &[]).await;
        assert_eq!(status, 400, "{action} on a draft");
        assert_eq!(code(&body), "invoice_unexpected_status", "{action}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    finalize(&mock, &invoice).await;
    // Open: no more lines, no currency change, no second finalization, no deletion.
    let (status, body) = call(
        &mock,
        Method::Post,
        &path("add_lines"),
        &[("lines[0][amount]", "100")],
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invoice_not_editable"));
    let (status, body) = call(
        &mock,
        Method::Post,
        &format!("/v1/invoices/{invoice}"),
        &[("currency", "eur")],
    )
    .await;
    // Stripe's schema has no `currency` on an invoice update at all.
    assert_eq!((status, code(&body)), (400, "parameter_unknown"));
    assert_eq!(body["error"]["param"], "currency");
    let (status, body) = call(&mock, Method::Post, &path("finalize"), &[]).await;
    assert_eq!((status, code(&body)), (400, "invoice_unexpected_status"));
    let (status, body) = call(
        &mock,
        Method::Delete,
        &format!("/v1/invoices/{invoice}"),
        &[],
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invoice_unexpected_status"));
    // Open invoices keep description, footer and metadata editable.
    let updated = post(
        &mock,
        &format!("/v1/invoices/{invoice}"),
        &[
            ("description", "Thanks"),
            ("footer", "Practice Ltd"),
            ("metadata[k]", "v"),
        ],
    )
    .await;
    assert_eq!(updated["description"], "Thanks");
    // Paid is final.
    let paid = post(&mock, &path("pay"), &[("paid_out_of_band", "true")]).await;
    assert_eq!(paid["status"], "paid");
    for action in ["pay", "void", "mark_uncollectible"] {
        let (status, body) = call(&mock, Method::Post, &path(action), &[]).await;
        assert_eq!(
            (status, code(&body)),
            (400, "invoice_unexpected_status"),
            "{action} on paid"
        );
    }
    let (status, body) = call(
        &mock,
        Method::Post,
        &format!("/v1/invoices/{invoice}"),
        &[("description", "x")],
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invoice_not_editable"));
}

#[tokio::test]
async fn unknown_ids_and_missing_params_are_stripe_errors() {
    let mock = MockStripe::new();
    let (status, body) = call(&mock, Method::Get, "/v1/invoices/in_missing", &[]).await;
    assert_eq!((status, code(&body)), (404, "resource_missing"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in_missing")
    );
    let (status, body) = call(&mock, Method::Post, "/v1/invoices", &[]).await;
    assert_eq!((status, code(&body)), (400, "parameter_missing"));
    assert_eq!(body["error"]["param"], "customer");
    let (status, body) = call(
        &mock,
        Method::Post,
        "/v1/invoices",
        &[("customer", "cus_nope")],
    )
    .await;
    // An unknown id in the body is a 400 naming the parameter; only the object a URL
    // names answers 404.
    assert_eq!((status, code(&body)), (400, "resource_missing"));
    assert_eq!(body["error"]["param"], "customer");
    let (status, _) = call(&mock, Method::Get, "/v1/customers/cus_nope", &[]).await;
    assert_eq!(status, 404);
    let cus = customer(&mock, &[]).await;
    let (status, body) = call(
        &mock,
        Method::Post,
        &format!("/v1/customers/{cus}/balance_transactions"),
        &[("amount", "ten"), ("currency", "usd")],
    )
    .await;
    assert_eq!((status, code(&body)), (400, "parameter_invalid_integer"));
    let (status, body) = call(&mock, Method::Post, "/v1/customers", &[("colour", "red")]).await;
    assert_eq!((status, code(&body)), (400, "parameter_unknown"));
    let (status, _) = call(&mock, Method::Get, "/v1/nothing", &[]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn send_invoice_needs_a_future_due_date() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let (status, body) = call(
        &mock,
        Method::Post,
        "/v1/invoices",
        &[("customer", &cus), ("collection_method", "send_invoice")],
    )
    .await;
    assert_eq!((status, code(&body)), (400, "parameter_missing"));
    let past = (mock.clock().now() - 10).to_string();
    let (status, body) = call(
        &mock,
        Method::Post,
        "/v1/invoices",
        &[
            ("customer", &cus),
            ("collection_method", "send_invoice"),
            ("due_date", &past),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "due_date");
    let invoice = post(
        &mock,
        "/v1/invoices",
        &[
            ("customer", &cus),
            ("collection_method", "send_invoice"),
            ("days_until_due", "14"),
        ],
    )
    .await;
    assert_eq!(invoice["due_date"], mock.clock().now() + 14 * 86_400);
    let id = invoice["id"].as_str().unwrap();
    post(
        &mock,
        "/v1/invoiceitems",
        &[
            ("customer", &cus),
            ("invoice", id),
            ("amount", "5000"),
            ("currency", "usd"),
        ],
    )
    .await;
    mock.clock().advance(3600);
    let open = finalize(&mock, id).await;
    assert_eq!(open["due_date"], mock.clock().now() + 14 * 86_400);
    post(&mock, &format!("/v1/invoices/{id}/send"), &[]).await;
    let sent = get(&mock, "/v1/events", &[("type", "invoice.sent")]).await;
    assert_eq!(sent["data"][0]["data"]["object"]["id"], id);
}

#[tokio::test]
async fn card_payments_succeed_or_decline_like_test_cards() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let invoice = draft_with_line(&mock, &cus, "usd", 1500, 1).await;
    finalize(&mock, &invoice).await;
    let pay = format!("/v1/invoices/{invoice}/pay");
    let (status, body) = call(
        &mock,
        Method::Post,
        &pay,
        &[("payment_method", "pm_card_chargeDeclined")],
    )
    .await;
    assert_eq!(status, 402);
    assert_eq!(body["error"]["type"], "card_error");
    assert_eq!(code(&body), "card_declined");
    let still_open = get(&mock, &format!("/v1/invoices/{invoice}"), &[]).await;
    assert_eq!(still_open["status"], "open");
    assert_eq!(still_open["attempt_count"], 1);
    let failed = get(&mock, "/v1/events", &[("type", "invoice.payment_failed")]).await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1);
    let paid = post(&mock, &pay, &[("payment_method", "pm_card_visa")]).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_paid"], 1500);
    assert_eq!(paid["amount_remaining"], 0);
    let succeeded = get(
        &mock,
        "/v1/events",
        &[("type", "invoice.payment_succeeded")],
    )
    .await;
    assert_eq!(succeeded["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn customer_default_payment_method_is_charged() {
    let mock = MockStripe::new();
    let cus = customer(
        &mock,
        &[("invoice_settings[default_payment_method]", "pm_card_visa")],
    )
    .await;
    let invoice = draft_with_line(&mock, &cus, "usd", 900, 1).await;
    finalize(&mock, &invoice).await;
    let paid = post(&mock, &format!("/v1/invoices/{invoice}/pay"), &[]).await;
    assert_eq!(paid["status"], "paid");
    let bare = customer(&mock, &[]).await;
    let other = draft_with_line(&mock, &bare, "usd", 900, 1).await;
    finalize(&mock, &other).await;
    let (status, _) = call(
        &mock,
        Method::Post,
        &format!("/v1/invoices/{other}/pay"),
        &[],
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn uncollectible_can_still_be_paid_or_voided() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let invoice = draft_with_line(&mock, &cus, "usd", 900, 1).await;
    finalize(&mock, &invoice).await;
    let written_off = post(
        &mock,
        &format!("/v1/invoices/{invoice}/mark_uncollectible"),
        &[],
    )
    .await;
    assert_eq!(written_off["status"], "uncollectible");
    let paid = post(
        &mock,
        &format!("/v1/invoices/{invoice}/pay"),
        &[("paid_out_of_band", "true")],
    )
    .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_remaining"], 0);
}

#[tokio::test]
async fn metadata_merges_unsets_and_clears() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[("metadata[a]", "1"), ("metadata[b]", "2")]).await;
    let path = format!("/v1/customers/{cus}");
    let merged = post(&mock, &path, &[("metadata[c]", "3"), ("metadata[a]", "")]).await;
    assert_eq!(merged["metadata"], serde_json::json!({"b": "2", "c": "3"}));
    let updated = get(&mock, "/v1/events", &[("type", "customer.updated")]).await;
    assert_eq!(
        updated["data"][0]["data"]["previous_attributes"]["metadata"],
        serde_json::json!({"a": "1", "c": null})
    );
    let cleared = post(&mock, &path, &[("metadata", "")]).await;
    assert_eq!(cleared["metadata"], serde_json::json!({}));
    let long_key = "k".repeat(41);
    let (status, _) = call(
        &mock,
        Method::Post,
        &path,
        &[(&format!("metadata[{long_key}]"), "v")],
    )
    .await;
    assert_eq!(status, 400);
    let too_many: Vec<(String, String)> = (0..51)
        .map(|n| (format!("metadata[k{n}]"), "v".to_owned()))
        .collect();
    let pairs: Vec<(&str, &str)> = too_many
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _) = call(&mock, Method::Post, &path, &pairs).await;
    assert_eq!(status, 400);
    // A refused update changes nothing.
    assert_eq!(
        get(&mock, &path, &[]).await["metadata"],
        serde_json::json!({})
    );
}

#[tokio::test]
async fn search_by_metadata_email_and_status() {
    let mock = MockStripe::new();
    let ada = customer(
        &mock,
        &[
            ("email", "ada@example.com"),
            ("metadata[ehr_patient_id]", "P-1"),
        ],
    )
    .await;
    let bob = customer(
        &mock,
        &[
            ("email", "bob@example.com"),
            ("name", "Bob"),
            ("metadata[ehr_patient_id]", "P-2"),
        ],
    )
    .await;
    let found = get(
        &mock,
        "/v1/customers/search",
        &[("query", "metadata['ehr_patient_id']:'P-1'")],
    )
    .await;
    assert_eq!(found["object"], "search_result");
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(found["data"][0]["id"], ada.as_str());
    let either = get(
        &mock,
        "/v1/customers/search",
        &[("query", "email:'ada@example.com' OR name:'Bob'")],
    )
    .await;
    assert_eq!(either["data"].as_array().unwrap().len(), 2);
    let both = get(
        &mock,
        "/v1/customers/search",
        &[("query", "email:'bob@example.com' AND name:'Bob'")],
    )
    .await;
    assert_eq!(both["data"][0]["id"], bob.as_str());
    let (status, body) = call(
        &mock,
        Method::Get,
        "/v1/customers/search",
        &[("query", "email:'a' AND name:'b' OR name:'c'")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "query");
    let invoice = draft_with_line(&mock, &ada, "usd", 1000, 1).await;
    post(
        &mock,
        &format!("/v1/invoices/{invoice}"),
        &[("metadata[visit]", "V-9")],
    )
    .await;
    finalize(&mock, &invoice).await;
    let query = format!("customer:'{ada}' AND status:'open' AND metadata['visit']:'V-9'");
    let invoices = get(&mock, "/v1/invoices/search", &[("query", &query)]).await;
    assert_eq!(invoices["data"][0]["id"], invoice.as_str());
    let number = invoices["data"][0]["number"].as_str().unwrap().to_owned();
    let by_number = get(
        &mock,
        "/v1/invoices/search",
        &[("query", &format!("number:'{number}'"))],
    )
    .await;
    assert_eq!(by_number["data"].as_array().unwrap().len(), 1);
    let none = get(&mock, "/v1/invoices/search", &[("query", "status:'paid'")]).await;
    assert!(none["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn lists_are_newest_first_and_paginate() {
    let mock = MockStripe::new();
    let mut ids = Vec::new();
    for n in 0..25 {
        ids.push(customer(&mock, &[("name", &format!("C{n}"))]).await);
    }
    let first = get(&mock, "/v1/customers", &[]).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 10);
    assert_eq!(first["has_more"], true);
    assert_eq!(first["data"][0]["id"], ids[24].as_str());
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut params = vec![("limit", "7")];
        if let Some(cursor) = &cursor {
            params.push(("starting_after", cursor.as_str()));
        }
        let page = get(&mock, "/v1/customers", &params).await;
        for customer in page["data"].as_array().unwrap() {
            seen.push(customer["id"].as_str().unwrap().to_owned());
        }
        if page["has_more"] == false {
            break;
        }
        cursor = seen.last().cloned();
    }
    let expected: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, expected);
    for bad in ["0", "101"] {
        let (status, _) = call(&mock, Method::Get, "/v1/customers", &[("limit", bad)]).await;
        assert_eq!(status, 400, "limit {bad}");
    }
}

#[tokio::test]
async fn invoice_list_filters_by_customer_status_and_created() {
    let mock = MockStripe::new();
    let ada = customer(&mock, &[]).await;
    let bob = customer(&mock, &[]).await;
    let early = draft_with_line(&mock, &ada, "usd", 1000, 1).await;
    mock.clock().advance(100);
    let later = draft_with_line(&mock, &ada, "usd", 1000, 1).await;
    draft_with_line(&mock, &bob, "usd", 1000, 1).await;
    finalize(&mock, &later).await;
    let ada_invoices = get(&mock, "/v1/invoices", &[("customer", &ada)]).await;
    assert_eq!(ada_invoices["data"].as_array().unwrap().len(), 2);
    let open = get(&mock, "/v1/invoices", &[("status", "open")]).await;
    assert_eq!(open["data"].as_array().unwrap().len(), 1);
    assert_eq!(open["data"][0]["id"], later.as_str());
    let since = (mock.clock().now() - 50).to_string();
    let recent = get(
        &mock,
        "/v1/invoices",
        &[("created[gte]", &since), ("customer", &ada)],
    )
    .await;
    assert_eq!(recent["data"][0]["id"], later.as_str());
    assert_eq!(recent["data"].as_array().unwrap().len(), 1);
    let before = get(&mock, "/v1/invoices", &[("created[lt]", &since)]).await;
    assert_eq!(before["data"][0]["id"], early.as_str());
}

#[tokio::test]
async fn lines_come_from_prices_price_data_and_amounts() {
    let mock = MockStripe::new();
    let product = post(&mock, "/v1/products", &[("name", "Follow-up")]).await;
    let product_id = product["id"].as_str().unwrap();
    let price = post(
        &mock,
        "/v1/prices",
        &[
            ("currency", "gbp"),
            ("unit_amount", "4500"),
            ("product", product_id),
            ("lookup_key", "follow-up"),
        ],
    )
    .await;
    let by_key = get(&mock, "/v1/prices", &[("lookup_keys[]", "follow-up")]).await;
    assert_eq!(by_key["data"][0]["id"], price["id"]);
    let none = get(&mock, "/v1/prices", &[("lookup_keys[]", "other")]).await;
    assert!(none["data"].as_array().unwrap().is_empty());
    let cus = customer(&mock, &[]).await;
    let invoice = post(
        &mock,
        "/v1/invoices",
        &[("customer", &cus), ("currency", "gbp")],
    )
    .await;
    let id = invoice["id"].as_str().unwrap();
    let with_lines = post(
        &mock,
        &format!("/v1/invoices/{id}/add_lines"),
        &[
            ("lines[0][pricing][price]", price["id"].as_str().unwrap()),
            ("lines[0][quantity]", "2"),
            ("lines[1][price_data][currency]", "gbp"),
            ("lines[1][price_data][product]", product_id),
            ("lines[1][price_data][unit_amount]", "1250"),
            ("lines[1][quantity]", "3"),
        ],
    )
    .await;
    let item = post(
        &mock,
        "/v1/invoiceitems",
        &[
            ("customer", &cus),
            ("invoice", id),
            ("amount", "-500"),
            ("description", "Discount"),
        ],
    )
    .await;
    assert_eq!(item["amount"], -500);
    assert_eq!(item["currency"], "gbp");
    let lines = with_lines["lines"]["data"].as_array().unwrap();
    assert_eq!(lines[0]["amount"], 9000);
    assert_eq!(lines[0]["description"], "Follow-up");
    assert_eq!(lines[1]["amount"], 3750);
    let current = get(&mock, &format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(current["total"], 9000 + 3750 - 500);
    // Deleting the credit item takes its line off the draft.
    let item_id = item["id"].as_str().unwrap();
    let (status, body) = call(
        &mock,
        Method::Delete,
        &format!("/v1/invoiceitems/{item_id}"),
        &[],
    )
    .await;
    assert_eq!((status, body["deleted"].clone()), (200, Value::Bool(true)));
    assert_eq!(
        get(&mock, &format!("/v1/invoices/{id}"), &[]).await["total"],
        12750
    );
    // A currency that differs from the invoice is refused.
    let (status, _) = call(
        &mock,
        Method::Post,
        "/v1/invoiceitems",
        &[
            ("customer", &cus),
            ("invoice", id),
            ("amount", "100"),
            ("currency", "usd"),
        ],
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn add_lines_refuses_more_than_250_lines() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let invoice = post(
        &mock,
        "/v1/invoices",
        &[("customer", &cus), ("currency", "usd")],
    )
    .await;
    let id = invoice["id"].as_str().unwrap();
    let pairs: Vec<(String, String)> = (0..251)
        .map(|n| (format!("lines[{n}][amount]"), "100".to_owned()))
        .collect();
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _) = call(
        &mock,
        Method::Post,
        &format!("/v1/invoices/{id}/add_lines"),
        &borrowed,
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = call(
        &mock,
        Method::Post,
        &format!("/v1/invoices/{id}/add_lines"),
        &borrowed[..250],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 25_000);
    assert_eq!(body["lines"]["has_more"], true);
    let page = get(
        &mock,
        &format!("/v1/invoices/{id}/lines"),
        &[("limit", "100")],
    )
    .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn deleting_draft_and_customer() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    let invoice = draft_with_line(&mock, &cus, "usd", 100, 1).await;
    let (status, body) = call(
        &mock,
        Method::Delete,
        &format!("/v1/invoices/{invoice}"),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["deleted"], true);
    let (status, _) = call(&mock, Method::Get, &format!("/v1/invoices/{invoice}"), &[]).await;
    assert_eq!(status, 404);
    let (status, body) = call(&mock, Method::Delete, &format!("/v1/customers/{cus}"), &[]).await;
    assert_eq!((status, body["deleted"].clone()), (200, Value::Bool(true)));
    let deleted = get(&mock, &format!("/v1/customers/{cus}"), &[]).await;
    assert_eq!(deleted["deleted"], true);
    assert!(
        get(&mock, "/v1/customers", &[]).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let kinds: Vec<String> = get(&mock, "/v1/events", &[("limit", "100")]).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"invoice.deleted".to_owned()));
    assert!(kinds.contains(&"customer.deleted".to_owned()));
    assert!(kinds.contains(&"invoiceitem.created".to_owned()));
}

#[tokio::test]
async fn idempotent_replay_conflict_and_errors_replayed() {
    let mock = MockStripe::new();
    let mut create = request(Method::Post, "/v1/customers", &[("name", "Ada")]);
    create.idempotency_key = Some("key-1".into());
    let (status, first, first_response) = send(&mock, &create).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(first_response.header("Idempotent-Replayed"), None);
    let (_, again, again_response) = send(&mock, &create).await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again_response.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        get(&mock, "/v1/customers", &[]).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let mut changed = create.clone();
    changed.params = vec![("name".into(), "Bob".into())];
    let (status, body, _) = send(&mock, &changed).await.unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "idempotency_error");
    let mut other_path = create.clone();
    other_path.path = "/v1/products".into();
    assert_eq!(send(&mock, &other_path).await.unwrap().0, 400);
    // An error answer is stored and replayed too.
    let mut failing = request(Method::Post, "/v1/invoices", &[("customer", "cus_missing")]);
    failing.idempotency_key = Some("key-2".into());
    let (status, _, _) = send(&mock, &failing).await.unwrap();
    assert_eq!(status, 400);
    let (status, _, replay) = send(&mock, &failing).await.unwrap();
    assert_eq!(status, 400);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    // Keys are per account.
    let mut elsewhere = create.clone();
    elsewhere.stripe_account = Some("acct_other".into());
    let (_, created_elsewhere, response) = send(&mock, &elsewhere).await.unwrap();
    assert_eq!(response.header("Idempotent-Replayed"), None);
    assert_ne!(created_elsewhere["id"], first["id"]);
}

#[tokio::test]
async fn concurrent_request_with_key_in_flight_gets_409() {
    let mock = MockStripe::new();
    let pause = mock
        .faults()
        .pause_next(Some(Method::Post), "/v1/customers");
    let mut create = request(Method::Post, "/v1/customers", &[("name", "Ada")]);
    create.idempotency_key = Some("key-in-flight".into());
    let background = {
        let mock = mock.clone();
        let create = create.clone();
        tokio::spawn(async move { mock.send(&create).await })
    };
    pause.reached().await;
    let (status, body, _) = send(&mock, &create).await.unwrap();
    assert_eq!(status, 409);
    assert_eq!(code(&body), "idempotency_key_in_use");
    pause.release();
    let first = background.await.unwrap().unwrap();
    assert_eq!(first.status, 200);
    let (status, _, replay) = send(&mock, &create).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
}

#[tokio::test]
async fn live_keys_and_wrong_keys_get_401() {
    for key in ["sk_live_abc", "rk_live_abc"] {
        let mock = MockStripe::builder().api_key(key).build();
        let (status, body) = call(&mock, Method::Get, "/v1/customers", &[]).await;
        assert_eq!(status, 401);
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(!body.to_string().contains(key), "the key is never echoed");
    }
    let mock = MockStripe::builder().api_key("sk_test_custom").build();
    assert_eq!(call(&mock, Method::Get, "/v1/customers", &[]).await.0, 200);
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let mock = MockStripe::new();
    let (_, _, ok) = send(&mock, &request(Method::Get, "/v1/customers", &[]))
        .await
        .unwrap();
    let (_, _, missing) = send(&mock, &request(Method::Get, "/v1/customers/cus_x", &[]))
        .await
        .unwrap();
    for response in [&ok, &missing] {
        assert!(response.request_id().unwrap().starts_with("req_"));
    }
    assert_ne!(ok.request_id(), missing.request_id());
}

#[tokio::test]
async fn connected_accounts_are_isolated() {
    let mock = MockStripe::new();
    let mut create = request(
        Method::Post,
        "/v1/customers",
        &[("name", "Practice A patient")],
    );
    create.stripe_account = Some("acct_practice_a".into());
    let (_, created, _) = send(&mock, &create).await.unwrap();
    let id = created["id"].as_str().unwrap();
    let mut read_a = request(Method::Get, &format!("/v1/customers/{id}"), &[]);
    read_a.stripe_account = Some("acct_practice_a".into());
    assert_eq!(send(&mock, &read_a).await.unwrap().0, 200);
    let mut read_b = read_a.clone();
    read_b.stripe_account = Some("acct_practice_b".into());
    assert_eq!(send(&mock, &read_b).await.unwrap().0, 404);
    let platform = request(Method::Get, &format!("/v1/customers/{id}"), &[]);
    assert_eq!(send(&mock, &platform).await.unwrap().0, 404);
    let mut events = request(Method::Get, "/v1/events", &[]);
    events.stripe_account = Some("acct_practice_a".into());
    let (_, list, _) = send(&mock, &events).await.unwrap();
    assert_eq!(list["data"][0]["account"], "acct_practice_a");
}

#[tokio::test]
async fn same_seed_gives_same_ids_and_other_seed_differs() {
    async fn run(mock: &MockStripe) -> Vec<String> {
        let cus = customer(mock, &[("name", "Ada")]).await;
        let invoice = draft_with_line(mock, &cus, "usd", 1000, 1).await;
        let open = finalize(mock, &invoice).await;
        vec![
            cus,
            invoice,
            open["number"].as_str().unwrap().to_owned(),
            open["lines"]["data"][0]["id"].as_str().unwrap().to_owned(),
        ]
    }
    let first = run(&MockStripe::with_seed(42)).await;
    let second = run(&MockStripe::with_seed(42)).await;
    let third = run(&MockStripe::with_seed(43)).await;
    assert_eq!(first, second);
    assert_ne!(first, third);
    assert!(first[0].starts_with("cus_"));
    assert!(first[1].starts_with("in_"));
    assert!(first[3].starts_with("il_"));
    assert_eq!(
        MockStripe::with_seed(42).webhook_secret(),
        MockStripe::with_seed(42).webhook_secret()
    );
}

#[tokio::test]
async fn per_account_numbering_counts_across_customers() {
    let mock = MockStripe::builder()
        .numbering(InvoiceNumbering::PerAccount)
        .build();
    let ada = customer(&mock, &[]).await;
    let bob = customer(&mock, &[]).await;
    let first = draft_with_line(&mock, &ada, "usd", 1000, 1).await;
    let second = draft_with_line(&mock, &bob, "usd", 1000, 1).await;
    let one = finalize(&mock, &first).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let two = finalize(&mock, &second).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(one.ends_with("-0001") && two.ends_with("-0002"));
    assert_eq!(one[..one.len() - 5], two[..two.len() - 5]);
}

#[tokio::test]
async fn webhooks_are_signed_and_can_be_duplicated_or_reordered() {
    use billbridge_mock::{SignatureTime, WebhookOptions};
    let mock = MockStripe::new();
    mock.set_webhook_options(WebhookOptions {
        signature_time: SignatureTime::MockClock,
        ..WebhookOptions::default()
    });
    let cus = customer(&mock, &[]).await;
    let invoice = draft_with_line(&mock, &cus, "usd", 1000, 1).await;
    finalize(&mock, &invoice).await;
    let deliveries = mock.take_webhooks();
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "customer.created",
            "invoice.created",
            "product.created",
            "invoiceitem.created",
            "invoice.updated",
            "invoice.finalized"
        ]
    );
    let secret = mock.webhook_secret();
    assert!(secret.starts_with("whsec_"));
    for delivery in &deliveries {
        let expected = billbridge::stripe::webhook::signature_header(
            &secret,
            mock.clock().now(),
            &delivery.body,
        );
        assert_eq!(delivery.signature_header, expected);
        let event: Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(event["id"], delivery.event_id.as_str());
    }
    assert!(mock.take_webhooks().is_empty(), "taken deliveries are gone");

    mock.set_webhook_options(WebhookOptions {
        duplicate_rate: 1.0,
        reorder: true,
        delay_seconds: 60,
        signature_time: SignatureTime::MockClock,
    });
    post(
        &mock,
        &format!("/v1/invoices/{invoice}/pay"),
        &[("paid_out_of_band", "true")],
    )
    .await;
    assert!(
        mock.take_webhooks().is_empty(),
        "delayed until the clock passes"
    );
    mock.clock().advance(60);
    let late = mock.take_webhooks();
    assert_eq!(late.len(), 2);
    assert_eq!(late[0].event_id, late[1].event_id);
    assert_eq!(late[0].event_type, "invoice.paid");
}

#[tokio::test]
async fn balance_currency_must_match() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    adjust(&mock, &cus, -500, "gbp").await;
    let (status, _) = call(
        &mock,
        Method::Post,
        &format!("/v1/customers/{cus}/balance_transactions"),
        &[("amount", "100"), ("currency", "usd")],
    )
    .await;
    assert_eq!(status, 400);
    // An invoice in another currency does not touch the balance.
    let invoice = draft_with_line(&mock, &cus, "usd", 1000, 1).await;
    let open = finalize(&mock, &invoice).await;
    assert_eq!(open["amount_due"], 1000);
    assert_eq!(balance_of(&mock, &cus).await, -500);
    let customer_json = get(&mock, &format!("/v1/customers/{cus}"), &[]).await;
    assert_eq!(customer_json["currency"], "gbp");
}

#[tokio::test]
async fn finalized_invoice_keeps_customer_details_frozen() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[("name", "Ada"), ("email", "ada@example.com")]).await;
    let invoice = draft_with_line(&mock, &cus, "usd", 1000, 1).await;
    finalize(&mock, &invoice).await;
    post(
        &mock,
        &format!("/v1/customers/{cus}"),
        &[("name", "Ada Lovelace")],
    )
    .await;
    let read = get(&mock, &format!("/v1/invoices/{invoice}"), &[]).await;
    assert_eq!(read["customer_name"], "Ada");
    assert_eq!(read["customer_email"], "ada@example.com");
    let draft = draft_with_line(&mock, &cus, "usd", 1000, 1).await;
    assert_eq!(
        get(&mock, &format!("/v1/invoices/{draft}"), &[]).await["customer_name"],
        "Ada Lovelace"
    );
}

#[tokio::test]
async fn request_log_counts_calls() {
    let mock = MockStripe::new();
    customer(&mock, &[]).await;
    let _ = mock.send(&request(Method::Get, "/v1/customers", &[])).await;
    let log = mock.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].path, "/v1/customers");
    assert_eq!(log[0].method, Method::Post);
    assert_eq!(
        log[1].outcome,
        billbridge_mock::RequestOutcome::Answered(200)
    );
}

#[tokio::test]
async fn preview_applies_the_balance_and_creates_nothing() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    adjust(&mock, &cus, -500, "gbp").await;
    let product = post(&mock, "/v1/products", &[("name", "Consultation")]).await;
    let product = product["id"].as_str().unwrap();
    post(
        &mock,
        "/v1/invoiceitems",
        &[
            ("customer", &cus),
            ("amount", "200"),
            ("currency", "gbp"),
            ("description", "Postage"),
        ],
    )
    .await;
    let events_before = get(&mock, "/v1/events", &[("limit", "100")]).await["data"]
        .as_array()
        .unwrap()
        .len();
    let preview = post(
        &mock,
        "/v1/invoices/create_preview",
        &[
            ("customer", &cus),
            ("currency", "gbp"),
            ("invoice_items[0][price_data][currency]", "gbp"),
            ("invoice_items[0][price_data][product]", product),
            ("invoice_items[0][price_data][unit_amount]", "1099"),
        ],
    )
    .await;
    assert_eq!(preview["total"], 1299);
    assert_eq!(preview["amount_due"], 799);
    assert_eq!(preview["starting_balance"], -500);
    assert_eq!(preview["ending_balance"], 0);
    assert_eq!(preview["lines"]["data"].as_array().unwrap().len(), 2);
    assert!(preview["id"].as_str().unwrap().starts_with("upcoming_"));
    // Nothing changed: no invoice, the item still pending, the balance untouched, no events.
    assert!(
        get(&mock, "/v1/invoices", &[]).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let pending = get(&mock, "/v1/invoiceitems", &[("pending", "true")]).await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    assert_eq!(balance_of(&mock, &cus).await, -500);
    let events_after = get(&mock, "/v1/events", &[("limit", "100")]).await["data"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events_before, events_after);
    // Pending items join a real invoice only when asked.
    let invoice = post(
        &mock,
        "/v1/invoices",
        &[
            ("customer", &cus),
            ("pending_invoice_items_behavior", "include"),
        ],
    )
    .await;
    assert_eq!(invoice["total"], 200);
}

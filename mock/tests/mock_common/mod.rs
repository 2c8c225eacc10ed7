//! Helpers shared by the mock's test targets: raw form-pair requests through
//! `Transport::send`, as the typed client will send them.
#![allow(dead_code)] // Each test target uses a different subset of the helpers.

use billbridge::stripe::transport::{
    Method, StripeRequest, StripeResponse, Transport, TransportError,
};
use billbridge_mock::MockStripe;
use serde_json::Value;

/// A request with these pairs.
pub fn request(method: Method, path: &str, params: &[(&str, &str)]) -> StripeRequest {
    StripeRequest {
        method,
        path: path.to_owned(),
        params: params
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        idempotency_key: None,
        stripe_account: None,
        stripe_version: "2026-07-29.dahlia".to_owned(),
    }
}

/// Send and decode, whatever the status.
pub async fn send(
    mock: &MockStripe,
    request: &StripeRequest,
) -> Result<(u16, Value, StripeResponse), TransportError> {
    let response = mock.send(request).await?;
    let body: Value = serde_json::from_slice(&response.body).expect("JSON body");
    Ok((response.status, body, response))
}

/// Send; expect an HTTP answer; return status and body.
pub async fn call(
    mock: &MockStripe,
    method: Method,
    path: &str,
    params: &[(&str, &str)],
) -> (u16, Value) {
    let (status, body, _) = send(mock, &request(method, path, params))
        .await
        .expect("an HTTP answer");
    (status, body)
}

/// POST expecting 200.
pub async fn post(mock: &MockStripe, path: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = call(mock, Method::Post, path, params).await;
    assert_eq!(status, 200, "POST {path} failed: {body}");
    body
}

/// GET expecting 200.
pub async fn get(mock: &MockStripe, path: &str, params: &[(&str, &str)]) -> Value {
    let (status, body) = call(mock, Method::Get, path, params).await;
    assert_eq!(status, 200, "GET {path} failed: {body}");
    body
}

/// A customer id.
pub async fn customer(mock: &MockStripe, params: &[(&str, &str)]) -> String {
    post(mock, "/v1/customers", params).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Add a balance adjustment (negative = credit).
pub async fn adjust(mock: &MockStripe, customer: &str, amount: i64, currency: &str) -> Value {
    let amount = amount.to_string();
    post(
        mock,
        &format!("/v1/customers/{customer}/balance_transactions"),
        &[("amount", &amount), ("currency", currency)],
    )
    .await
}

/// A draft invoice with one line of `unit_amount` × `quantity`; its id.
pub async fn draft_with_line(
    mock: &MockStripe,
    customer: &str,
    currency: &str,
    unit_amount: i64,
    quantity: i64,
) -> String {
    let invoice = post(
        mock,
        "/v1/invoices",
        &[("customer", customer), ("currency", currency)],
    )
    .await;
    let id = invoice["id"].as_str().unwrap().to_owned();
    let unit = unit_amount.to_string();
    let quantity = quantity.to_string();
    post(
        mock,
        &format!("/v1/invoices/{id}/add_lines"),
        &[
            ("lines[0][description]", "Consultation"),
            ("lines[0][quantity]", &quantity),
            ("lines[0][price_data][currency]", currency),
            ("lines[0][price_data][product_data][name]", "Consultation"),
            ("lines[0][price_data][unit_amount]", &unit),
        ],
    )
    .await;
    id
}

/// The error code of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

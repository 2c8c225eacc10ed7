//! MockStripe's faults: each kind answers as Stripe (or the network) would, "applied
//! but response lost" leaves exactly one object that a keyed retry replays, and the
//! rate limit is measured on the mock clock.

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod mock_common;

use std::time::Duration;

use billbridge::stripe::transport::{Method, Transport, TransportErrorKind};
use billbridge_mock::{Fault, MockStripe, RateLimit, RequestOutcome};
use mock_common::*;

fn create_customer() -> billbridge::stripe::transport::StripeRequest {
    let mut create = request(Method::Post, "/v1/customers", &[("name", "Ada")]);
    create.idempotency_key = Some("create-ada".into());
    create
}

async fn customer_count(mock: &MockStripe) -> usize {
    get(mock, "/v1/customers", &[("limit", "100")]).await["data"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn rate_limited_and_lock_timeout_are_429_with_codes() {
    let mock = MockStripe::new();
    mock.faults()
        .next_request_to("/v1/customers", Fault::RateLimited);
    mock.faults()
        .next_request_to("/v1/customers", Fault::LockTimeout);
    let (status, body, _) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!((status, code(&body)), (429, "rate_limit"));
    let (status, body, _) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!((status, code(&body)), (429, "lock_timeout"));
    assert_eq!(customer_count(&mock).await, 0, "nothing applied");
    // The key was not consumed: the retry runs for real.
    let (status, _, response) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(response.header("Idempotent-Replayed"), None);
    assert_eq!(customer_count(&mock).await, 1);
}

#[tokio::test]
async fn server_errors_carry_should_retry_when_asked() {
    let mock = MockStripe::new();
    mock.faults()
        .next_request_to("/v1/customers", Fault::SERVER_ERROR);
    mock.faults()
        .next_request_to("/v1/customers", Fault::UNAVAILABLE_RETRY);
    mock.faults().next_request_to(
        "/v1/customers",
        Fault::ServerError {
            status: 500,
            should_retry: Some(false),
        },
    );
    let (status, body, response) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(status, 500);
    assert_eq!(body["error"]["type"], "api_error");
    assert_eq!(response.header("Stripe-Should-Retry"), None);
    let (status, _, response) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(status, 503);
    assert_eq!(response.header("Stripe-Should-Retry"), Some("true"));
    let (_, _, response) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(response.header("Stripe-Should-Retry"), Some("false"));
    assert_eq!(customer_count(&mock).await, 0);
}

#[tokio::test]
async fn timeout_and_reset_are_transport_errors_without_effect() {
    let mock = MockStripe::new();
    mock.faults()
        .next_request_to("/v1/customers", Fault::Timeout);
    mock.faults()
        .next_request_to("/v1/customers", Fault::ConnectionReset);
    let error = mock.send(&create_customer()).await.unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Timeout);
    let error = mock.send(&create_customer()).await.unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Connection);
    assert_eq!(customer_count(&mock).await, 0);
    let log = mock.requests();
    assert_eq!(
        log[0].outcome,
        RequestOutcome::NoResponse {
            kind: TransportErrorKind::Timeout,
            applied: false
        }
    );
}

#[tokio::test]
async fn applied_but_lost_then_keyed_retry_yields_one_object() {
    let mock = MockStripe::new();
    mock.faults().next_request_to(
        "/v1/customers",
        Fault::AppliedResponseLost(TransportErrorKind::Timeout),
    );
    let error = mock.send(&create_customer()).await.unwrap_err();
    assert_eq!(error.kind, TransportErrorKind::Timeout);
    assert_eq!(customer_count(&mock).await, 1, "the change happened");
    let (status, body, response) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(response.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(customer_count(&mock).await, 1, "no duplicate");
    let listed = get(&mock, "/v1/customers", &[]).await;
    assert_eq!(listed["data"][0]["id"], body["id"]);
    // Without a key the retry would have duplicated it: that is why keys exist.
    mock.faults().next_request_to(
        "/v1/customers",
        Fault::AppliedResponseLost(TransportErrorKind::Connection),
    );
    let unkeyed = request(Method::Post, "/v1/customers", &[("name", "Bob")]);
    assert!(mock.send(&unkeyed).await.is_err());
    mock.send(&unkeyed).await.unwrap();
    assert_eq!(customer_count(&mock).await, 3);
}

#[tokio::test]
async fn lost_finalization_is_replayed_not_repeated() {
    let mock = MockStripe::new();
    let cus = customer(&mock, &[]).await;
    adjust(&mock, &cus, -500, "gbp").await;
    let invoice = draft_with_line(&mock, &cus, "gbp", 1099, 1).await;
    mock.faults().next_request_to(
        &format!("/v1/invoices/{invoice}/finalize"),
        Fault::AppliedResponseLost(TransportErrorKind::Connection),
    );
    let mut finalize = request(
        Method::Post,
        &format!("/v1/invoices/{invoice}/finalize"),
        &[],
    );
    finalize.idempotency_key = Some("finalize-1".into());
    assert!(mock.send(&finalize).await.is_err());
    let (status, body, _) = send(&mock, &finalize).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["amount_due"], 599);
    let transactions = get(
        &mock,
        &format!("/v1/customers/{cus}/balance_transactions"),
        &[],
    )
    .await;
    assert_eq!(
        transactions["data"].as_array().unwrap().len(),
        2,
        "credit applied once"
    );
}

#[tokio::test]
async fn scripted_faults_match_method_path_prefix_and_count() {
    let mock = MockStripe::new();
    mock.faults()
        .next_requests_to(Some(Method::Post), "/v1/invoices", Fault::RateLimited, 2);
    // A GET under the same prefix and a POST elsewhere are untouched.
    assert_eq!(call(&mock, Method::Get, "/v1/invoices", &[]).await.0, 200);
    let cus = customer(&mock, &[]).await;
    let params = [("customer", cus.as_str())];
    assert_eq!(
        call(&mock, Method::Post, "/v1/invoices", &params).await.0,
        429
    );
    assert_eq!(
        call(&mock, Method::Post, "/v1/invoices", &params).await.0,
        429
    );
    assert_eq!(
        call(&mock, Method::Post, "/v1/invoices", &params).await.0,
        200
    );
}

#[tokio::test]
async fn random_faults_are_seeded_and_roughly_at_rate() {
    async fn pattern(seed: u64) -> Vec<u16> {
        let mock = MockStripe::with_seed(seed);
        mock.faults()
            .random("/v1/customers", Fault::SERVER_ERROR, 0.3);
        let mut statuses = Vec::new();
        for _ in 0..200 {
            statuses.push(call(&mock, Method::Get, "/v1/customers", &[]).await.0);
        }
        statuses
    }
    let first = pattern(5).await;
    assert_eq!(first, pattern(5).await, "same seed, same faults");
    assert_ne!(first, pattern(6).await);
    let failures = first.iter().filter(|status| **status == 500).count();
    assert!(
        (30..=90).contains(&failures),
        "about 30% of 200, got {failures}"
    );
}

#[tokio::test]
async fn rate_limit_follows_the_mock_clock() {
    let mock = MockStripe::new();
    mock.faults().rate_limit(Some(RateLimit::per_second(3)));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(call(&mock, Method::Get, "/v1/customers", &[]).await.0);
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    let (_, body) = call(&mock, Method::Get, "/v1/customers", &[]).await;
    assert_eq!(code(&body), "rate_limit");
    mock.clock().advance(1);
    assert_eq!(call(&mock, Method::Get, "/v1/customers", &[]).await.0, 200);
    mock.faults().rate_limit(None);
    for _ in 0..10 {
        assert_eq!(call(&mock, Method::Get, "/v1/customers", &[]).await.0, 200);
    }
}

#[tokio::test]
async fn rate_limit_comes_before_idempotency() {
    let mock = MockStripe::new();
    let (status, _, _) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(status, 200);
    mock.faults().rate_limit(Some(RateLimit::per_second(1)));
    // First request uses the one token; the keyed replay is then refused with 429.
    call(&mock, Method::Get, "/v1/customers", &[]).await;
    let (status, _, _) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(status, 429);
}

#[tokio::test]
async fn latency_is_applied_and_clearable() {
    let mock = MockStripe::new();
    mock.faults().latency(Some(Duration::from_millis(1)));
    // Not a timing assertion: only that a delayed request still completes.
    assert_eq!(call(&mock, Method::Get, "/v1/customers", &[]).await.0, 200);
    mock.faults().clear();
    assert_eq!(call(&mock, Method::Get, "/v1/customers", &[]).await.0, 200);
}

#[tokio::test]
async fn request_log_records_every_outcome() {
    let mock = MockStripe::new();
    mock.faults().next_request_to(
        "/v1/customers",
        Fault::AppliedResponseLost(TransportErrorKind::Timeout),
    );
    let _ = mock.send(&create_customer()).await;
    let _ = mock.send(&create_customer()).await;
    let log = mock.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].outcome,
        RequestOutcome::NoResponse {
            kind: TransportErrorKind::Timeout,
            applied: true
        }
    );
    assert!(log[1].replayed);
    assert_eq!(log[1].idempotency_key.as_deref(), Some("create-ada"));
    let posts = log
        .iter()
        .filter(|entry| entry.method == Method::Post)
        .count();
    assert_eq!(posts, 2);
}

#[tokio::test]
async fn a_counted_lost_response_fault_applies_to_idempotent_replays_too() {
    let mock = MockStripe::new();
    mock.faults().next_requests_to(
        Some(Method::Post),
        "/v1/customers",
        Fault::AppliedResponseLost(TransportErrorKind::Timeout),
        3,
    );
    // Every retry with the same key loses its response, three times in all.
    for attempt in 0..3 {
        let error = send(&mock, &create_customer()).await.unwrap_err();
        assert_eq!(error.kind, TransportErrorKind::Timeout, "attempt {attempt}");
    }
    let (status, body, response) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(response.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(customer_count(&mock).await, 1, "applied exactly once");
    let log = mock.requests();
    let replays_lost = log
        .iter()
        .filter(|request| {
            request.replayed && matches!(request.outcome, RequestOutcome::NoResponse { .. })
        })
        .count();
    assert_eq!(replays_lost, 2);
    assert!(body["id"].as_str().is_some());
}

#[tokio::test]
async fn a_server_error_before_execution_is_not_saved_but_one_after_it_is() {
    let mock = MockStripe::new();
    // Before: nothing applied, nothing saved; the retry with the key runs.
    mock.faults()
        .next_request_to("/v1/customers", Fault::SERVER_ERROR);
    assert_eq!(send(&mock, &create_customer()).await.unwrap().0, 500);
    assert_eq!(customer_count(&mock).await, 0);
    let (status, _, response) = send(&mock, &create_customer()).await.unwrap();
    assert_eq!(
        (status, response.header("Idempotent-Replayed")),
        (200, None)
    );

    // After: applied, and the 500 is what the key answers from then on.
    let mut create_bob = request(Method::Post, "/v1/customers", &[("name", "Bob")]);
    create_bob.idempotency_key = Some("create-bob".into());
    let kind: billbridge_mock::FaultKind = "server_error_after_execution".parse().unwrap();
    mock.faults()
        .next_request_to("/v1/customers", kind.fault(None).unwrap());
    let (status, body, _) = send(&mock, &create_bob).await.unwrap();
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (500, Some("api_error"))
    );
    assert_eq!(customer_count(&mock).await, 2, "Bob exists despite the 500");
    for _ in 0..3 {
        let (status, _, response) = send(&mock, &create_bob).await.unwrap();
        assert_eq!(status, 500);
        assert_eq!(response.header("Idempotent-Replayed"), Some("true"));
    }
    // 24 hours later the key is forgotten.
    mock.clock().advance(24 * 60 * 60);
    let (status, _, response) = send(&mock, &create_bob).await.unwrap();
    assert_eq!(
        (status, response.header("Idempotent-Replayed")),
        (200, None)
    );
}

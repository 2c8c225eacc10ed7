//! Webhooks pushed to the host as Stripe pushes them: a receiving server on loopback
//! gets every event of an invoice cycle, signed with the mock's secret (checked with
//! billbridge's own verifier), exactly once after failed first attempts, with Stripe's
//! headers; duplicates and reordering when the mock's webhook options ask for them;
//! every attempt on record, through the library and the server's endpoint.

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http_common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use billbridge::stripe::transport::{Method, StripeRequest, Transport};
use billbridge::stripe::webhook::{
    DEFAULT_TOLERANCE, VerifyOptions, WebhookSecret, construct_event_with,
};
use billbridge_mock::forward::{
    AttemptOutcome, DeliveryState, Endpoint, ForwardOptions, Forwarder, RetrySchedule,
    STRIPE_USER_AGENT,
};
use billbridge_mock::{MockServer, MockStripe, ServeOptions, WebhookOptions};
use http_common::{Received, Receiver, event_ids, exchange, get, invoice_cycle};
use tokio::net::TcpStream;

/// Quick retries: the tests wait for outcomes, never for durations.
fn quick(attempts: u32) -> RetrySchedule {
    RetrySchedule {
        attempts,
        first_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

fn forward_options(urls: &[String], retry: RetrySchedule) -> ForwardOptions {
    ForwardOptions {
        retry,
        ..ForwardOptions::new(
            urls.iter()
                .map(|url| Endpoint::parse(url).unwrap())
                .collect(),
        )
    }
}

async fn serve_forwarding(mock: &MockStripe, forwarder: &Forwarder) -> MockServer {
    mock.serve_with(
        "127.0.0.1:0",
        ServeOptions {
            forwarder: Some(forwarder.clone()),
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap()
}

/// `flush`, with a guard against hanging (not a timing assertion).
async fn flush(forwarder: &Forwarder) {
    tokio::time::timeout(Duration::from_secs(60), forwarder.flush())
        .await
        .expect("deliveries settled");
}

/// The event each received body carries, verified against `secret` at the system's
/// time, as a host's endpoint checks it.
fn verified_event_id(received: &Received, secret: &str) -> String {
    let secret = WebhookSecret::new(secret).unwrap();
    let event = construct_event_with(
        &received.body,
        received.signature.as_deref(),
        &secret,
        VerifyOptions::default(),
    )
    .unwrap_or_else(|error| panic!("{}: {error}", received.event_id));
    assert_eq!(event.id, received.event_id);
    event.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_of_an_invoice_cycle_arrives_signed_once_after_failed_first_attempts() {
    let receiver = Receiver::start(2).await;
    let mock = MockStripe::new();
    let forwarder = Forwarder::start(&mock, forward_options(&[receiver.url()], quick(5))).unwrap();
    let server = serve_forwarding(&mock, &forwarder).await;
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    invoice_cycle(&mut stream).await;
    flush(&forwarder).await;

    let events = event_ids(&mut stream).await;
    let types: BTreeSet<String> = forwarder
        .deliveries()
        .into_iter()
        .map(|record| record.event_type)
        .collect();
    for expected in [
        "customer.created",
        "invoice.created",
        "invoiceitem.created",
        "invoice.finalized",
        "invoice.paid",
    ] {
        assert!(
            types.contains(expected),
            "{expected} missing from {types:?}"
        );
    }
    // Every event accepted exactly once, each after its two refused attempts, and each
    // attempt signed so that billbridge's verifier accepts it.
    let secret = mock.webhook_secret();
    let accepted = receiver.accepted();
    let mut accepted_ids: Vec<String> = accepted
        .iter()
        .map(|received| verified_event_id(received, &secret))
        .collect();
    accepted_ids.sort();
    let mut expected_ids = events.clone();
    expected_ids.sort();
    assert_eq!(accepted_ids, expected_ids);
    let received = receiver.received();
    assert_eq!(received.len(), 3 * events.len());
    for attempt in &received {
        verified_event_id(attempt, &secret);
        assert_eq!(
            attempt.content_type.as_deref(),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(attempt.user_agent.as_deref(), Some(STRIPE_USER_AGENT));
        assert_eq!(attempt.authorization, None);
    }
    // The record: one delivery per event, delivered on its third attempt.
    for event in &events {
        let records = forwarder.deliveries_of(event);
        assert_eq!(records.len(), 1, "{event}");
        let record = &records[0];
        assert_eq!(record.state, DeliveryState::Delivered);
        assert_eq!(record.endpoint, receiver.url());
        let outcomes: Vec<&AttemptOutcome> = record
            .attempts
            .iter()
            .map(|attempt| &attempt.outcome)
            .collect();
        assert_eq!(
            outcomes,
            [
                &AttemptOutcome::Status(500),
                &AttemptOutcome::Status(500),
                &AttemptOutcome::Status(200)
            ]
        );
        let numbers: Vec<u32> = record
            .attempts
            .iter()
            .map(|attempt| attempt.number)
            .collect();
        assert_eq!(numbers, [1, 2, 3]);
    }
    // The same record over HTTP, for hosts in any language.
    let first = &events[0];
    let shown = exchange(
        &mut stream,
        &get(
            &format!("/_billbridge/webhook_deliveries?event={first}"),
            "",
        ),
    )
    .await
    .unwrap();
    assert_eq!(shown.body["forwarding"], true);
    let data = shown.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["event"], first.as_str());
    assert_eq!(data[0]["state"], "delivered");
    assert_eq!(data[0]["endpoint"], receiver.url());
    let statuses: Vec<u64> = data[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| attempt["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    let everything = exchange(&mut stream, &get("/_billbridge/webhook_deliveries", ""))
        .await
        .unwrap();
    assert_eq!(
        everything.body["data"].as_array().unwrap().len(),
        events.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_asked_by_the_webhook_options_arrive_twice() {
    let receiver = Receiver::start(0).await;
    let mock = MockStripe::new();
    mock.set_webhook_options(WebhookOptions {
        duplicate_rate: 1.0,
        ..WebhookOptions::default()
    });
    let forwarder = Forwarder::start(&mock, forward_options(&[receiver.url()], quick(3))).unwrap();
    let server = serve_forwarding(&mock, &forwarder).await;
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    invoice_cycle(&mut stream).await;
    flush(&forwarder).await;
    let events = event_ids(&mut stream).await;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for received in receiver.accepted() {
        *counts
            .entry(verified_event_id(&received, &mock.webhook_secret()))
            .or_default() += 1;
    }
    assert_eq!(counts.len(), events.len());
    assert!(counts.values().all(|count| *count == 2), "{counts:?}");
    for event in &events {
        let records = forwarder.deliveries_of(event);
        assert_eq!(records.len(), 2, "one record per copy");
        assert!(
            records
                .iter()
                .all(|record| record.state == DeliveryState::Delivered)
        );
    }
}

/// Creates `count` customers through the mock's own API (no HTTP, so the forwarder is
/// not woken): their `customer.created` events wait as one batch.
async fn customers_in_process(mock: &MockStripe, count: usize) {
    for index in 0..count {
        let response = mock
            .send(&StripeRequest {
                method: Method::Post,
                path: "/v1/customers".into(),
                params: vec![("name".into(), format!("Patient {index}"))],
                idempotency_key: None,
                stripe_account: None,
                stripe_version: String::new(),
            })
            .await
            .unwrap();
        assert_eq!(response.status, 200);
    }
}

/// The events in the order the forwarder sent them.
fn dispatch_order(forwarder: &Forwarder) -> Vec<String> {
    forwarder
        .deliveries()
        .into_iter()
        .map(|record| record.event_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_asked_by_the_webhook_options_shuffles_a_batch_and_loses_nothing() {
    let receiver = Receiver::start(0).await;
    let batch = 12;

    // Without reordering a batch leaves in the order the events happened.
    let ordered = MockStripe::new();
    let forwarder =
        Forwarder::start(&ordered, forward_options(&[receiver.url()], quick(3))).unwrap();
    customers_in_process(&ordered, batch).await;
    flush(&forwarder).await;
    let server = ordered.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let happened = event_ids(&mut stream).await;
    assert_eq!(happened.len(), batch);
    assert_eq!(dispatch_order(&forwarder), happened);

    // With it, the same events leave shuffled, each exactly once.
    let shuffled = MockStripe::new();
    shuffled.set_webhook_options(WebhookOptions {
        reorder: true,
        ..WebhookOptions::default()
    });
    let forwarder =
        Forwarder::start(&shuffled, forward_options(&[receiver.url()], quick(3))).unwrap();
    customers_in_process(&shuffled, batch).await;
    flush(&forwarder).await;
    let sent = dispatch_order(&forwarder);
    assert_ne!(sent, happened, "a seeded shuffle of 12 events moves some");
    let mut sorted_sent = sent.clone();
    sorted_sent.sort();
    let mut sorted_happened = happened.clone();
    sorted_happened.sort();
    assert_eq!(sorted_sent, sorted_happened);
    // Both mocks made the same ids (same seed), so the receiver saw each id twice: once
    // from each mock.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for received in receiver.accepted() {
        *counts.entry(received.event_id).or_default() += 1;
    }
    assert!(counts.values().all(|count| *count == 2), "{counts:?}");
    assert_eq!(counts.len(), batch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_keeps_failing_is_given_up_after_the_schedule() {
    let receiver = Receiver::start(usize::MAX).await;
    // Nothing listens on a port just released.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = format!("http://127.0.0.1:{closed_port}/hook");
    let mock = MockStripe::new();
    let forwarder = Forwarder::start(
        &mock,
        forward_options(&[receiver.url(), unreachable.clone()], quick(3)),
    )
    .unwrap();
    customers_in_process(&mock, 1).await;
    flush(&forwarder).await;
    let records = forwarder.deliveries();
    assert_eq!(records.len(), 2, "one delivery per endpoint");
    for record in &records {
        assert_eq!(record.state, DeliveryState::Failed, "{record:?}");
        assert_eq!(record.attempts.len(), 3);
    }
    let failing = records
        .iter()
        .find(|record| record.endpoint == receiver.url())
        .unwrap();
    assert!(
        failing
            .attempts
            .iter()
            .all(|attempt| attempt.outcome == AttemptOutcome::Status(500))
    );
    let refused = records
        .iter()
        .find(|record| record.endpoint == unreachable)
        .unwrap();
    assert!(
        refused
            .attempts
            .iter()
            .all(|attempt| matches!(attempt.outcome, AttemptOutcome::ConnectionFailed(_))),
        "{refused:?}"
    );
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_what_is_due_and_abandons_waiting_retries() {
    let receiver = Receiver::start(1).await;
    let mock = MockStripe::new();
    let forwarder = Forwarder::start(
        &mock,
        forward_options(
            &[receiver.url()],
            RetrySchedule {
                attempts: 5,
                // Far longer than any test: only shutdown ends the wait.
                first_delay: Duration::from_secs(3600),
                max_delay: Duration::from_secs(3600),
            },
        ),
    )
    .unwrap();
    customers_in_process(&mock, 2).await;
    tokio::time::timeout(
        Duration::from_secs(60),
        forwarder.shutdown(Duration::from_secs(30)),
    )
    .await
    .expect("shutdown returned");
    let records = forwarder.deliveries();
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record.state, DeliveryState::Abandoned, "{record:?}");
        assert_eq!(record.attempts.len(), 1, "the first attempt was made");
    }
    // Nothing more leaves after shutdown.
    customers_in_process(&mock, 1).await;
    forwarder.nudge();
    forwarder.flush().await;
    assert_eq!(forwarder.deliveries().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_endpoint_url_are_sent_as_basic_auth_and_hidden_in_records() {
    let receiver = Receiver::start(0).await;
    let url = format!(
        "http://practice:hook-secret@{}/stripe/webhooks",
        receiver.addr
    );
    let mock = MockStripe::new();
    let forwarder = Forwarder::start(&mock, forward_options(&[url], quick(2))).unwrap();
    customers_in_process(&mock, 1).await;
    flush(&forwarder).await;
    let received = receiver.accepted();
    assert_eq!(received.len(), 1);
    // "practice:hook-secret"
    assert_eq!(
        received[0].authorization.as_deref(),
        Some("Basic cHJhY3RpY2U6aG9vay1zZWNyZXQ=")
    );
    let record = &forwarder.deliveries()[0];
    assert_eq!(
        record.endpoint,
        format!("http://***@{}/stripe/webhooks", receiver.addr)
    );
    assert!(!format!("{forwarder:?}{record:?}").contains("hook-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_with_a_secret_the_host_sets() {
    let receiver = Receiver::start(1).await;
    let mock = MockStripe::new();
    mock.set_webhook_secret("whsec_configured_by_the_host");
    let forwarder = Forwarder::start(&mock, forward_options(&[receiver.url()], quick(3))).unwrap();
    customers_in_process(&mock, 1).await;
    flush(&forwarder).await;
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    for attempt in &received {
        verified_event_id(attempt, "whsec_configured_by_the_host");
        let secret = WebhookSecret::new("whsec_another").unwrap();
        assert!(
            construct_event_with(
                &attempt.body,
                attempt.signature.as_deref(),
                &secret,
                VerifyOptions {
                    tolerance: Some(DEFAULT_TOLERANCE),
                    now: None
                },
            )
            .is_err()
        );
    }
}

#[tokio::test]
async fn a_forwarder_needs_an_endpoint() {
    let mock = MockStripe::new();
    let error = Forwarder::start(&mock, ForwardOptions::new(Vec::new())).unwrap_err();
    assert_eq!(error.code(), "no_endpoints");
}

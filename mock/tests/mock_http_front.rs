//! MockStripe over HTTP/1.1: raw requests on a TCP socket get Stripe's answers;
//! keep-alive (many requests on one connection, pipelined ones too), chunked bodies,
//! `Expect: 100-continue` and the body limit behave as HTTP says; auth comes from
//! `Authorization`; a lost response closes the connection; shutdown is graceful.

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod http_common;

use std::time::Duration;

use billbridge::stripe::transport::{Method, TransportErrorKind};
use billbridge_mock::{DEFAULT_MAX_BODY_BYTES, Fault, KeyPolicy, MockStripe, ServeOptions};
use http_common::{exchange, get, post, read_answer, with_key};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn customer_and_invoice_over_loopback_with_keep_alive() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let created = exchange(
        &mut stream,
        &post(
            "/v1/customers",
            "name=Ada+L&metadata%5Behr_patient_id%5D=P-1",
            "Idempotency-Key: k1\r\n",
        ),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 200);
    assert_eq!(created.body["name"], "Ada L");
    assert_eq!(created.body["metadata"]["ehr_patient_id"], "P-1");
    assert!(created.header("Request-Id").unwrap().starts_with("req_"));
    let id = created.body["id"].as_str().unwrap().to_owned();
    // Same connection: keep-alive.
    let credit = exchange(
        &mut stream,
        &post(
            &format!("/v1/customers/{id}/balance_transactions"),
            "amount=-500&currency=gbp",
            "",
        ),
    )
    .await
    .unwrap();
    assert_eq!(credit.body["ending_balance"], -500);
    let replay = exchange(
        &mut stream,
        &post(
            "/v1/customers",
            "name=Ada+L&metadata%5Behr_patient_id%5D=P-1",
            "Idempotency-Key: k1\r\n",
        ),
    )
    .await
    .unwrap();
    assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(replay.body["id"], id.as_str());
    let listed = exchange(&mut stream, &get("/v1/customers?limit=1", ""))
        .await
        .unwrap();
    assert_eq!(listed.body["data"][0]["id"], id.as_str());
    assert_eq!(listed.body["data"][0]["balance"], -500);
    // Through the in-process handle, the same state.
    assert_eq!(mock.requests().len(), 4);
}

#[tokio::test]
async fn authorization_header_is_required_and_live_keys_refused() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let none = exchange(&mut stream, "GET /v1/customers HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(none.status, 401);
    let live = exchange(
        &mut stream,
        "GET /v1/customers HTTP/1.1\r\nAuthorization: Bearer sk_live_123\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(live.status, 401);
    assert_eq!(live.body["error"]["type"], "invalid_request_error");
    // Basic auth as curl -u sk_test_mock: sends it.
    let basic = exchange(
        &mut stream,
        "GET /v1/customers HTTP/1.1\r\nAuthorization: Basic c2tfdGVzdF9tb2NrOg==\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(basic.status, 200);
}

#[tokio::test]
async fn any_test_key_is_accepted_and_each_key_has_its_own_state() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let suite_a = "sk_test_suite_a";
    let suite_b = "rk_test_suite_b";
    let created = exchange(
        &mut stream,
        &with_key(&post("/v1/customers", "name=A", ""), suite_a),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 200);
    let id = created.body["id"].as_str().unwrap().to_owned();
    // Another key sees nothing of it: not by id, not in lists, not in events.
    let other = exchange(
        &mut stream,
        &with_key(&get(&format!("/v1/customers/{id}"), ""), suite_b),
    )
    .await
    .unwrap();
    assert_eq!(other.status, 404);
    let listed = exchange(&mut stream, &with_key(&get("/v1/customers", ""), suite_b))
        .await
        .unwrap();
    assert_eq!(listed.body["data"], Value::Array(Vec::new()));
    let events = exchange(&mut stream, &with_key(&get("/v1/events", ""), suite_b))
        .await
        .unwrap();
    assert_eq!(events.body["data"], Value::Array(Vec::new()));
    // The same idempotency key under two keys is two requests.
    let keyed = "Idempotency-Key: same-key\r\n";
    let first = exchange(
        &mut stream,
        &with_key(&post("/v1/customers", "name=B", keyed), suite_a),
    )
    .await
    .unwrap();
    let second = exchange(
        &mut stream,
        &with_key(&post("/v1/customers", "name=C", keyed), suite_b),
    )
    .await
    .unwrap();
    assert_eq!((first.status, second.status), (200, 200));
    assert_ne!(first.body["id"], second.body["id"]);
    // The owner still sees it, and Stripe-Account works inside a key's state.
    let own = exchange(
        &mut stream,
        &with_key(&get(&format!("/v1/customers/{id}"), ""), suite_a),
    )
    .await
    .unwrap();
    assert_eq!(own.status, 200);
    let connected = exchange(
        &mut stream,
        &with_key(
            &get(&format!("/v1/customers/{id}"), "Stripe-Account: acct_x\r\n"),
            suite_a,
        ),
    )
    .await
    .unwrap();
    assert_eq!(connected.status, 404);
}

#[tokio::test]
async fn keys_that_are_not_test_keys_get_stripes_401_with_the_key_masked() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    for key in ["pk_test_publishable1234", "sk_test_", "whatever-c123"] {
        let refused = exchange(&mut stream, &with_key(&get("/v1/customers", ""), key))
            .await
            .unwrap();
        assert_eq!(refused.status, 401, "{key}");
        assert_eq!(refused.body["error"]["type"], "invalid_request_error");
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Invalid API Key provided: "),
            "{message}"
        );
        if key.len() > 8 {
            assert!(!message.contains(key), "{message} echoes the key");
        }
    }
    let masked = exchange(
        &mut stream,
        &with_key(&get("/v1/customers", ""), "pk_test_publishable1234"),
    )
    .await
    .unwrap();
    assert_eq!(
        masked.body["error"]["message"],
        "Invalid API Key provided: pk_test_***********1234"
    );
}

#[tokio::test]
async fn strict_mode_accepts_only_the_mocks_own_key() {
    let mock = MockStripe::builder()
        .api_key("sk_test_only_this_one")
        .key_policy(KeyPolicy::OnlyOwnKey)
        .build();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let other = exchange(&mut stream, &get("/v1/customers", ""))
        .await
        .unwrap();
    assert_eq!(other.status, 401);
    let own = exchange(
        &mut stream,
        &with_key(&get("/v1/customers", ""), "sk_test_only_this_one"),
    )
    .await
    .unwrap();
    assert_eq!(own.status, 200);
}

#[tokio::test]
async fn stripe_account_header_selects_the_account() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let created = exchange(
        &mut stream,
        &post("/v1/customers", "name=A", "Stripe-Account: acct_a\r\n"),
    )
    .await
    .unwrap();
    let id = created.body["id"].as_str().unwrap();
    let elsewhere = exchange(
        &mut stream,
        &get(&format!("/v1/customers/{id}"), "Stripe-Account: acct_b\r\n"),
    )
    .await
    .unwrap();
    assert_eq!(elsewhere.status, 404);
    let here = exchange(
        &mut stream,
        &get(&format!("/v1/customers/{id}"), "Stripe-Account: acct_a\r\n"),
    )
    .await
    .unwrap();
    assert_eq!(here.status, 200);
}

#[tokio::test]
async fn lost_response_closes_the_connection_and_connection_close_is_honoured() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    mock.faults().next_request_to(
        "/v1/customers",
        Fault::AppliedResponseLost(TransportErrorKind::Connection),
    );
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    assert!(
        exchange(&mut stream, &post("/v1/customers", "name=A", ""))
            .await
            .is_none()
    );
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let answer = exchange(&mut stream, &get("/v1/customers", "Connection: close\r\n"))
        .await
        .unwrap();
    assert_eq!(answer.header("Connection"), Some("close"));
    assert_eq!(
        answer.body["data"].as_array().unwrap().len(),
        1,
        "the lost request was applied"
    );
    let mut rest = Vec::new();
    assert_eq!(
        stream.read_to_end(&mut rest).await.unwrap(),
        0,
        "server closed"
    );
}

#[tokio::test]
async fn dropping_the_server_stops_accepting() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let addr = server.addr();
    server.shutdown();
    tokio::task::yield_now().await;
    let refused = match TcpStream::connect(addr).await {
        Err(_) => true,
        // A guard against hanging, not a timing assertion.
        Ok(mut stream) => tokio::time::timeout(
            std::time::Duration::from_secs(5),
            exchange(&mut stream, &get("/v1/customers", "")),
        )
        .await
        .map_or(true, |answer| answer.is_none()),
    };
    assert!(refused);
}

#[tokio::test]
async fn many_requests_on_one_keep_alive_connection_are_each_answered() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let rounds = 300;
    let mut ids = Vec::new();
    for round in 0..rounds {
        let created = exchange(
            &mut stream,
            &post("/v1/customers", &format!("name=Patient+{round}"), ""),
        )
        .await
        .unwrap_or_else(|| panic!("connection closed at request {}", 2 * round));
        assert_eq!(created.status, 200);
        assert_ne!(created.header("Connection"), Some("close"));
        let id = created.body["id"].as_str().unwrap().to_owned();
        let fetched = exchange(&mut stream, &get(&format!("/v1/customers/{id}"), ""))
            .await
            .unwrap_or_else(|| panic!("connection closed at request {}", 2 * round + 1));
        assert_eq!(fetched.body["name"], format!("Patient {round}"));
        ids.push(id);
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), rounds, "every create made its own customer");
    assert_eq!(mock.requests().len(), 2 * rounds);
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let count = 25;
    let batch: String = (0..count)
        .map(|index| post("/v1/customers", &format!("name=P{index}"), ""))
        .collect();
    stream.write_all(batch.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    for index in 0..count {
        let answer = read_answer(&mut stream, &mut buffer).await.unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["name"], format!("P{index}"));
    }
}

#[tokio::test]
async fn headers_are_written_in_stripes_case_with_a_request_id_on_every_answer() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let created = exchange(
        &mut stream,
        &post("/v1/customers", "name=A", "Idempotency-Key: case-check\r\n"),
    )
    .await
    .unwrap();
    assert!(
        created.head.contains("\r\nRequest-Id: req_"),
        "{}",
        created.head
    );
    assert!(created.head.contains("\r\nContent-Type: application/json"));
    assert!(created.head.contains("\r\nIdempotency-Key: case-check"));
    assert!(created.head.contains("\r\nStripe-Version: "));
    let replayed = exchange(
        &mut stream,
        &post("/v1/customers", "name=A", "Idempotency-Key: case-check\r\n"),
    )
    .await
    .unwrap();
    assert!(replayed.head.contains("\r\nIdempotent-Replayed: true"));
    mock.faults()
        .next_request_to("/v1/customers", Fault::UNAVAILABLE_RETRY);
    let unavailable = exchange(&mut stream, &post("/v1/customers", "name=B", ""))
        .await
        .unwrap();
    assert_eq!(unavailable.status, 503);
    assert!(unavailable.head.contains("\r\nStripe-Should-Retry: true"));
}

/// `body` as chunks of `size` bytes, with a chunk extension on the first, as HTTP/1.1
/// allows.
fn chunked(body: &str, size: usize) -> String {
    let mut encoded = String::new();
    for (index, chunk) in body.as_bytes().chunks(size).enumerate() {
        let extension = if index == 0 { ";note=first" } else { "" };
        encoded.push_str(&format!("{:x}{extension}\r\n", chunk.len()));
        encoded.push_str(std::str::from_utf8(chunk).unwrap());
        encoded.push_str("\r\n");
    }
    encoded.push_str("0\r\n\r\n");
    encoded
}

fn chunked_post(path: &str, body: &str, size: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_mock\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n{}",
        chunked(body, size)
    )
}

#[tokio::test]
async fn chunked_bodies_are_decoded_like_sized_ones_and_keep_the_connection() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let body = "name=Ada+Lovelace&email=ada%40example.com&metadata%5Behr_patient_id%5D=P-1&metadata%5Bpractice%5D=North+Street";
    // Chunks of 7 bytes split keys, values and percent escapes alike.
    let created = exchange(&mut stream, &chunked_post("/v1/customers", body, 7))
        .await
        .unwrap();
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["name"], "Ada Lovelace");
    assert_eq!(created.body["email"], "ada@example.com");
    assert_eq!(created.body["metadata"]["ehr_patient_id"], "P-1");
    assert_eq!(created.body["metadata"]["practice"], "North Street");
    let id = created.body["id"].as_str().unwrap();
    // The same connection carries the next request.
    let fetched = exchange(&mut stream, &get(&format!("/v1/customers/{id}"), ""))
        .await
        .unwrap();
    assert_eq!(fetched.body["metadata"]["practice"], "North Street");
    // An empty chunked body is an empty form.
    let empty = exchange(&mut stream, &chunked_post("/v1/customers", "", 1))
        .await
        .unwrap();
    assert_eq!(empty.status, 200);
}

#[tokio::test]
async fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let body = "name=Grace+Hopper";
    let head = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_mock\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut interim = Vec::new();
    while !interim.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "closed before 100"
        );
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue\r\n"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    stream.write_all(body.as_bytes()).await.unwrap();
    let created = read_answer(&mut stream, &mut Vec::new()).await.unwrap();
    assert_eq!(created.status, 200);
    assert_eq!(created.body["name"], "Grace Hopper");
}

/// Checks a refused body: Stripe's error shape, and the connection closed after it.
async fn assert_refused_as_too_large(stream: &mut TcpStream, mut buffer: Vec<u8>, limit: usize) {
    let refused = read_answer(stream, &mut buffer).await.unwrap();
    assert_eq!(refused.status, 413);
    assert_eq!(refused.body["error"]["type"], "invalid_request_error");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(message.contains(&limit.to_string()), "{message}");
    let request_id = refused.header("Request-Id").unwrap();
    assert!(request_id.starts_with("req_"));
    assert_eq!(
        refused.body["error"]["request_log_url"],
        format!("https://dashboard.stripe.com/test/logs/{request_id}")
    );
    assert_eq!(refused.header("Connection"), Some("close"));
    let mut rest = Vec::new();
    // What is left unread of the refused body may reset the connection instead of a
    // clean close; either way nothing more is answered.
    let _ = stream.read_to_end(&mut rest).await;
    assert!(
        !String::from_utf8_lossy(&rest).contains("HTTP/1.1"),
        "answered more after refusing"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_stripes_error_before_being_read() {
    let mock = MockStripe::new();
    let limit = 1024;
    let server = mock
        .serve_with(
            "127.0.0.1:0",
            ServeOptions {
                max_body_bytes: limit,
                ..ServeOptions::default()
            },
        )
        .await
        .unwrap();

    // Announced by Content-Length with Expect: 100-continue: refused at once, no 100.
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_mock\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                limit + 1
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).await.unwrap();
    assert_eq!(
        &first, b"HTTP/1.1 413",
        "no 100 Continue for a refused body"
    );
    assert_refused_as_too_large(&mut stream, first.to_vec(), limit).await;

    // Chunked: refused once the chunks pass the limit.
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let long_name = "x".repeat(limit + 100);
    stream
        .write_all(chunked_post("/v1/customers", &format!("name={long_name}"), 256).as_bytes())
        .await
        .unwrap();
    assert_refused_as_too_large(&mut stream, Vec::new(), limit).await;

    // Exactly at the limit reaches the mock (which judges the over-long name itself).
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let name = "y".repeat(limit - "name=".len());
    let judged = exchange(
        &mut stream,
        &post("/v1/customers", &format!("name={name}"), ""),
    )
    .await
    .unwrap();
    assert_ne!(judged.status, 413);
    assert_eq!(
        mock.requests().len(),
        1,
        "refused bodies never reach the mock"
    );
}

#[tokio::test]
async fn the_default_limit_refuses_a_body_announced_over_it() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_mock\r\nContent-Length: {}\r\n\r\nname=",
                DEFAULT_MAX_BODY_BYTES + 1
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    assert_refused_as_too_large(&mut stream, Vec::new(), DEFAULT_MAX_BODY_BYTES).await;
}

#[tokio::test]
async fn methods_stripe_does_not_serve_get_its_unknown_url_error() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let answer = exchange(
        &mut stream,
        "PUT /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_test_mock\r\nContent-Length: 0\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["error"]["type"], "invalid_request_error");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized request URL (PUT: /v1/customers)")
    );
    // The connection stays usable.
    let listed = exchange(&mut stream, &get("/v1/customers", ""))
        .await
        .unwrap();
    assert_eq!(listed.status, 200);
}

#[tokio::test]
async fn the_servers_own_endpoints_live_outside_stripes_paths() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    // No key needed: they hold no Stripe data.
    let health = exchange(
        &mut stream,
        "GET /_billbridge/health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(
        (health.status, &health.body["status"]),
        (200, &Value::from("ok"))
    );
    let deliveries = exchange(
        &mut stream,
        "GET /_billbridge/webhook_deliveries HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(deliveries.body["forwarding"], false);
    assert_eq!(deliveries.body["data"], Value::Array(Vec::new()));
    let unknown = exchange(
        &mut stream,
        "GET /_billbridge/nothing HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(unknown.status, 404);
    assert!(mock.requests().is_empty(), "not requests to the Stripe API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_answers_the_request_in_progress_and_closes_idle_connections() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let addr = server.addr();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        exchange(&mut idle, &get("/v1/customers", ""))
            .await
            .unwrap()
            .status,
        200
    );
    let pause = mock
        .faults()
        .pause_next(Some(Method::Post), "/v1/customers");
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(post("/v1/customers", "name=In+flight", "").as_bytes())
        .await
        .unwrap();
    pause.reached().await;
    let stopping = tokio::spawn(server.shutdown_gracefully(Duration::from_secs(30)));
    // The idle keep-alive connection is closed without an answer.
    let mut rest = Vec::new();
    assert_eq!(idle.read_to_end(&mut rest).await.unwrap_or(0), 0);
    // New connections are refused once the listener is gone.
    let refused = loop {
        match TcpStream::connect(addr).await {
            Err(_) => break true,
            Ok(mut stream) => {
                if exchange(&mut stream, &get("/v1/customers", ""))
                    .await
                    .is_none()
                {
                    break true;
                }
                // Accepted by the kernel before the listener closed: try again.
                tokio::task::yield_now().await;
            }
        }
    };
    assert!(refused);
    assert!(!stopping.is_finished(), "waits for the request in progress");
    pause.release();
    let answered = read_answer(&mut busy, &mut Vec::new()).await.unwrap();
    assert_eq!(answered.status, 200);
    assert_eq!(answered.body["name"], "In flight");
    assert_eq!(answered.header("Connection"), Some("close"));
    // A guard against hanging, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .expect("shutdown finished")
        .unwrap();
    assert_eq!(busy.read_to_end(&mut rest).await.unwrap_or(0), 0);
}

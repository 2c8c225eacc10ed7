//! MockStripe over loopback HTTP/1.1: raw requests on a TCP socket get Stripe's answers,
//! keep-alive works, auth comes from `Authorization`, and a lost response closes the
//! connection.

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use billbridge::stripe::transport::TransportErrorKind;
use billbridge_mock::{Fault, KeyPolicy, MockStripe};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Send one raw request on `stream` and read one response (`None` if the server closed).
async fn exchange(stream: &mut TcpStream, raw: &str) -> Option<Answer> {
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break position;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8(buffer[..header_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .unwrap()
        .1
        .parse()
        .unwrap();
    while buffer.len() < header_end + 4 + length {
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "body cut short");
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = serde_json::from_slice(&buffer[header_end + 4..header_end + 4 + length]).unwrap();
    Some(Answer {
        status,
        headers,
        body,
    })
}

fn post(path: &str, body: &str, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_mock\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

fn get(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_mock\r\n{extra}\r\n"
    )
}

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

/// A request with another `Authorization` key.
fn with_key(raw: &str, key: &str) -> String {
    raw.replace("Bearer sk_test_mock", &format!("Bearer {key}"))
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

//! The table of bad inputs (`tests/data/bad_inputs.json`), run against the core: every
//! row gives its typed error (the stable code and the category the table names), never
//! a panic, and nothing half-sent — the mock's request log is unchanged (or holds only
//! its 401 refusals), the loopback stub saw exactly the expected attempts under one
//! idempotency key, and the host recorded nothing. The Python, Node and Kotlin tests
//! read the same table through their bindings.
#![cfg(feature = "http")]
// Helpers outside `#[test]` functions unwrap too: a panic there is a failed row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use billbridge::Error;
use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::ledger::PaymentMethod;
use billbridge::domain::metadata::{Field, MetadataMap, MetadataPolicy, MetadataTarget};
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{Party, Patient, PatientId, PayerRef};
use billbridge::mirror::PaidOutside;
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::stripe::retry::Sleeper;
use billbridge::stripe::transport::{Method, StripeRequest, Transport};
use billbridge::stripe::webhook::{
    DEFAULT_TOLERANCE, WebhookSecret, construct_event, signature_header,
};
use billbridge::sync::{Billbridge, IdempotencySecret, Raise};
use billbridge_mock::{MockStripe, RequestOutcome};
use serde_json::Value;

const TABLE: &str = include_str!("../../tests/data/bad_inputs.json");
const SECRET: &str = "bad-input-idempotency-secret";
/// The time `construct_event` checks signatures against in the pure webhook path.
const NOW: i64 = 1_790_000_000;
const ENDPOINT_SECRET: &str = "whsec_bad_input_endpoint";

fn table() -> Value {
    serde_json::from_str(TABLE).expect("tests/data/bad_inputs.json is JSON")
}

/// The table's generated values: `{"repeat"…}` strings and `{"entries"…}` maps.
fn expand(value: &Value) -> Value {
    match value {
        Value::Object(object) if object.contains_key("repeat") => {
            let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
            let times = object["times"].as_u64().expect("times") as usize;
            Value::String(format!(
                "{}{}{}",
                text("prefix"),
                text("repeat").repeat(times),
                text("suffix")
            ))
        }
        Value::Object(object) if object.contains_key("entries") => {
            let count = object["entries"].as_u64().expect("entries");
            let key = object["key"].as_str().expect("key");
            Value::Object(
                (0..count)
                    .map(|index| (format!("{key}{index}"), object["value"].clone()))
                    .collect(),
            )
        }
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), expand(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        other => other.clone(),
    }
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected text, got {value}"))
}

fn currency(code: &str) -> Currency {
    Currency::new(code).unwrap()
}

fn john() -> Patient {
    Patient::new(PatientId::new("P-1001").unwrap(), "John", "Deer")
}

fn bridge_over(client: StripeClient, webhook_secret: Option<&str>) -> Result<Billbridge, Error> {
    let mut builder =
        Billbridge::builder(client).idempotency_secret(IdempotencySecret::new(SECRET)?);
    if let Some(secret) = webhook_secret {
        builder = builder.webhook_secret(WebhookSecret::new(secret)?);
    }
    builder.build()
}

/// A bridge over a fresh mock, with John's customer already created.
async fn practice() -> (MockStripe, Billbridge) {
    let mock = MockStripe::new();
    let bridge = bridge_over(
        StripeClient::new(mock.clone()),
        Some(&mock.webhook_secret()),
    )
    .unwrap();
    bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    (mock, bridge)
}

fn line(spec: &Value, index: usize) -> InvoiceLine {
    let code = spec
        .get("currency")
        .and_then(Value::as_str)
        .unwrap_or("gbp");
    let amount = Money::new(
        spec["unit_amount"].as_i64().expect("unit_amount"),
        currency(code),
    );
    let quantity = spec.get("quantity").and_then(Value::as_u64).unwrap_or(1);
    let mut line = InvoiceLine::ad_hoc(
        format!("Session {}", index + 1),
        amount,
        u32::try_from(quantity).unwrap(),
    );
    if let Some(metadata) = spec.get("metadata").and_then(Value::as_object) {
        for (key, value) in metadata {
            line = line.with_metadata(key.clone(), text(value));
        }
    }
    line
}

fn draft(host_id: &str, lines: &[Value]) -> InvoiceDraft {
    let mut draft = InvoiceDraft::for_patient(&john()).host_id(InvoiceId::new(host_id).unwrap());
    for (index, spec) in lines.iter().enumerate() {
        draft = draft.line(line(spec, index));
    }
    draft
}

/// Every request the mock has logged so far.
fn logged(mock: &MockStripe) -> usize {
    mock.requests().len()
}

// ---------------------------------------------------------------- pure kinds

fn money_parse(input: &Value) -> Result<(), Error> {
    Money::parse(
        text(&input["text"]),
        Currency::new(text(&input["currency"]))?,
    )?;
    Ok(())
}

fn currency_kind(input: &Value) -> Result<(), Error> {
    Currency::new(text(&input["code"]))?;
    Ok(())
}

fn money_arithmetic(input: &Value) -> Result<(), Error> {
    let money = |spec: &Value| -> Result<Money, Error> {
        Ok(Money::new(
            spec["amount"].as_i64().expect("amount"),
            Currency::new(text(&spec["currency"]))?,
        ))
    };
    let left = money(input)?;
    match text(&input["op"]) {
        "add" => left.checked_add(money(&input["other"])?)?,
        "sub" => left.checked_sub(money(&input["other"])?)?,
        "mul" => left.checked_mul(input["factor"].as_i64().expect("factor"))?,
        other => panic!("unknown operation {other}"),
    };
    Ok(())
}

fn invoice_total(input: &Value) -> Result<(), Error> {
    let lines = input["lines"].as_array().expect("lines");
    draft("INV-TOTAL", lines).total()?;
    Ok(())
}

fn metadata_render(input: &Value) -> Result<(), Error> {
    let extra: MetadataMap = input["extra"]
        .as_object()
        .expect("extra")
        .iter()
        .map(|(key, value)| (key.clone(), text(value).to_owned()))
        .collect();
    MetadataPolicy::default().render_with(MetadataTarget::Invoice, &Default::default(), &extra)?;
    Ok(())
}

fn metadata_policy_key(input: &Value) -> Result<(), Error> {
    let field: Field = text(&input["field"]).parse()?;
    let target: MetadataTarget = text(&input["target"]).parse()?;
    MetadataPolicy::default()
        .key(field, target, text(&input["key"]))
        .validate()?;
    Ok(())
}

// ---------------------------------------------------------------- over the mock

async fn raise_lines(input: &Value) -> Result<(), Error> {
    let (mock, bridge) = practice().await;
    let before = logged(&mock);
    let lines = input["lines"].as_array().expect("lines");
    let result = bridge
        .raise_invoice(&draft("INV-1", lines), Some(&john()), Raise::Draft)
        .await;
    assert_eq!(logged(&mock), before, "a refused raise sent a request");
    assert!(bridge.invoice("INV-1").await.unwrap().is_none());
    result.map(|_| ())
}

async fn act(bridge: &Billbridge, action: &str) -> Result<(), Error> {
    let host = "INV-1";
    match action {
        "finalize" => bridge.finalize(host).await,
        "send" => bridge.send(host).await,
        "void" => bridge.void(host).await,
        "mark_uncollectible" => bridge.mark_uncollectible(host).await,
        "delete_draft" => bridge.delete_draft(host).await,
        "mark_paid_outside_stripe" => {
            bridge
                .mark_paid_outside_stripe(host, &PaidOutside::new(PaymentMethod::Cash))
                .await
        }
        other => panic!("unknown action {other}"),
    }
    .map(|_| ())
}

async fn transition(input: &Value) -> Result<(), Error> {
    let (mock, bridge) = practice().await;
    let lines = [serde_json::json!({"unit_amount": 5000})];
    bridge
        .raise_invoice(&draft("INV-1", &lines), Some(&john()), Raise::Draft)
        .await
        .unwrap();
    for step in input["steps"].as_array().expect("steps") {
        act(&bridge, text(step)).await.unwrap();
    }
    let status = bridge.invoice("INV-1").await.unwrap().unwrap().status;
    let before = logged(&mock);
    let result = act(&bridge, text(&input["action"])).await;
    assert_eq!(
        logged(&mock),
        before,
        "an illegal transition sent a request"
    );
    assert_eq!(
        bridge.invoice("INV-1").await.unwrap().unwrap().status,
        status
    );
    result
}

/// Sends `key` straight to the mock's HTTP front as a customer creation, the way any
/// HTTP client would, and returns the status line's code.
fn raw_create_customer(address: &str, key: &str) -> u16 {
    let host = address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    let body = "name=Ada";
    let request = format!(
        "POST /v1/customers HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

fn only_refusals(mock: &MockStripe) {
    for request in mock.requests() {
        assert_eq!(
            request.outcome,
            RequestOutcome::Answered(401),
            "the mock did more than refuse {request:?}"
        );
    }
}

async fn api_key(row: &Value, input: &Value) -> Result<(), Error> {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let url = server.url();
    let result = async {
        let key = ApiKey::parse(text(&input["key"]))?;
        let transport = HttpTransport::builder(key).base_url(url.clone()).build()?;
        let bridge = bridge_over(StripeClient::new(transport), None)?;
        bridge.upsert_customer(&Party::Patient(john())).await?;
        Ok(())
    }
    .await;
    if result
        .as_ref()
        .is_err_and(|error: &Error| error.category() == billbridge::ErrorCategory::Validation)
    {
        assert_eq!(
            logged(&mock),
            0,
            "a key refused by the client reached the mock"
        );
    }
    only_refusals(&mock);
    if let Some(status) = row.get("mock_http_status").and_then(Value::as_u64) {
        let key = text(&input["key"]).to_owned();
        let answered = tokio::task::spawn_blocking(move || raw_create_customer(&url, &key))
            .await
            .unwrap();
        assert_eq!(
            u64::from(answered),
            status,
            "the mock's answer to the key itself"
        );
        only_refusals(&mock);
    }
    server.shutdown();
    result
}

// ---------------------------------------------------------------- a loopback stub

/// One request the stub received.
#[derive(Debug, Clone)]
struct Received {
    idempotency_key: Option<String>,
}

/// A loopback HTTP server answering every request with the same bytes, then closing
/// the connection: bodies, content types and framings Stripe never sends.
struct Stub {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stub {
    fn start(response: Vec<u8>) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let received = received.clone();
            let stop = stop.clone();
            move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        Stub::answer(stream, &response, &received);
                    }
                }
            }
        });
        Stub {
            address,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn answer(mut stream: TcpStream, response: &[u8], received: &Mutex<Vec<Received>>) {
        // A safety net only: the client always sends a whole request.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut request = Vec::new();
        let mut buffer = [0_u8; 4096];
        let head_end = loop {
            if let Some(end) = request.windows(4).position(|window| window == b"\r\n\r\n") {
                break end + 4;
            }
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(read) => request.extend_from_slice(&buffer[..read]),
            }
        };
        let head = String::from_utf8_lossy(&request[..head_end]).to_string();
        let header = |name: &str| {
            head.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let length: usize = header("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        while request.len() < head_end + length {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => request.extend_from_slice(&buffer[..read]),
            }
        }
        received.lock().unwrap().push(Received {
            idempotency_key: header("idempotency-key"),
        });
        let _ = stream.write_all(response);
        let _ = stream.flush();
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }

    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn reason(status: u64) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        502 => "Bad Gateway",
        _ => "Status",
    }
}

/// The response bytes of an `api_response` row.
fn response_bytes(input: &Value) -> Vec<u8> {
    let status = input["status"].as_u64().expect("status");
    let body = text(&input["body"]);
    let length = input
        .get("declared_length")
        .and_then(Value::as_u64)
        .unwrap_or(body.len() as u64);
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {}\r\nContent-Length: {length}\r\nRequest-Id: req_stub\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        text(&input["content_type"]),
    )
    .into_bytes()
}

/// Retries without waiting: the attempts are counted, the clock is not read.
struct NoWait;

#[async_trait::async_trait]
impl Sleeper for NoWait {
    async fn sleep(&self, _duration: Duration) {}
}

async fn api_response(row: &Value, input: &Value) -> Result<(), Error> {
    let stub = Stub::start(response_bytes(input));
    let key = ApiKey::parse("sk_test_51BadInputStub").unwrap();
    let transport = HttpTransport::builder(key)
        .base_url(stub.url())
        .build()
        .unwrap();
    let client = StripeClient::builder(transport).sleeper(NoWait).build();
    let bridge = bridge_over(client, None).unwrap();
    let result = bridge.upsert_customer(&Party::Patient(john())).await;
    let received = stub.received();
    let attempts = row["attempts"].as_u64().expect("attempts") as usize;
    assert_eq!(received.len(), attempts, "requests the stub saw");
    let key = received[0].idempotency_key.clone();
    assert!(key.is_some(), "a POST without an idempotency key");
    assert!(
        received
            .iter()
            .all(|request| request.idempotency_key == key),
        "the retries changed the idempotency key"
    );
    let payer = PayerRef::Patient(john().id);
    assert!(
        bridge.customer(&payer).await.unwrap().is_none(),
        "the host recorded a customer from an unreadable answer"
    );
    let error = result.map(|_| ()).err();
    if let Some(error) = &error {
        let expected = row["http_status"].as_u64().map(|status| status as u16);
        assert_eq!(
            error.details().http_status,
            expected,
            "status in the details"
        );
    }
    error.map_or(Ok(()), Err)
}

// ---------------------------------------------------------------- webhooks

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default()
}

/// The row's header: its literal text, none, or the body signed as `sign` says, `now`
/// being the time the verifier will check against.
fn webhook_header(input: &Value, body: &[u8], endpoint: &str, now: i64) -> Option<String> {
    match input.get("sign") {
        Some(sign) => {
            let secret = sign
                .get("secret")
                .and_then(Value::as_str)
                .unwrap_or(endpoint);
            let age = sign["age"].as_i64().expect("age");
            Some(signature_header(secret, now - age, body))
        }
        None => input["header"].as_str().map(str::to_owned),
    }
}

async fn webhook(input: &Value) -> Result<(), Error> {
    let body = text(&input["body"]).as_bytes();
    let secret = WebhookSecret::new(ENDPOINT_SECRET).unwrap();
    let header = webhook_header(input, body, ENDPOINT_SECRET, NOW);
    let pure = construct_event(body, header.as_deref(), &secret, DEFAULT_TOLERANCE, NOW)
        .map(|_| ())
        .map_err(Error::from);

    let (mock, bridge) = practice().await;
    let before = logged(&mock);
    let endpoint = mock.webhook_secret();
    let header = webhook_header(input, body, &endpoint, unix_now());
    let handled = bridge
        .handle_webhook(body, header.as_deref())
        .await
        .map(|_| ());
    assert_eq!(logged(&mock), before, "a refused delivery sent a request");
    assert_eq!(
        pure.as_ref().err().map(Error::code),
        handled.as_ref().err().map(Error::code),
        "construct_event and handle_webhook disagree"
    );
    handled
}

// ---------------------------------------------------------------- the table

async fn run(row: Value) -> Result<(), Error> {
    let input = expand(&row["input"]);
    match text(&row["kind"]) {
        "money_parse" => money_parse(&input),
        "currency" => currency_kind(&input),
        "money_arithmetic" => money_arithmetic(&input),
        "invoice_total" => invoice_total(&input),
        "metadata_render" => metadata_render(&input),
        "metadata_policy_key" => metadata_policy_key(&input),
        "raise_lines" => raise_lines(&input).await,
        "transition" => transition(&input).await,
        "api_key" => api_key(&row, &input).await,
        "api_response" => api_response(&row, &input).await,
        "webhook" => webhook(&input).await,
        other => panic!("a kind this test does not run: {other}"),
    }
}

fn category_name(error: &Error) -> String {
    serde_json::to_value(error.category())
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gives_its_typed_error_and_sends_nothing() {
    let table = table();
    let rows = table["rows"].as_array().expect("rows").clone();
    let mut failures = Vec::new();
    for row in &rows {
        let name = text(&row["name"]).to_owned();
        // Each row in its own task: a panic fails the row, not the rest of the table.
        let outcome = tokio::spawn(run(row.clone())).await;
        let problem = match outcome {
            Err(join) => Some(format!("panicked: {join}")),
            Ok(Ok(())) => Some("no error".to_owned()),
            Ok(Err(error)) => {
                let (code, category) = (error.code(), category_name(&error));
                // Rendering the error must not panic either.
                let _ = (error.to_string(), format!("{error:?}"));
                (code != text(&row["code"]) || category != text(&row["category"])).then(|| {
                    format!(
                        "{code} / {category}, expected {} / {}",
                        text(&row["code"]),
                        text(&row["category"])
                    )
                })
            }
        };
        if let Some(problem) = problem {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_is_well_formed() {
    let table = table();
    let kinds = table["kinds"].as_object().expect("kinds");
    let categories: Vec<String> = billbridge::ErrorCategory::ALL
        .iter()
        .map(|category| {
            serde_json::to_value(category)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut names = BTreeMap::new();
    for row in table["rows"].as_array().expect("rows") {
        let name = text(&row["name"]);
        assert!(names.insert(name, ()).is_none(), "two rows named {name}");
        assert!(
            kinds.contains_key(text(&row["kind"])),
            "{name}: unknown kind"
        );
        assert!(
            categories.contains(&text(&row["category"]).to_owned()),
            "{name}"
        );
        assert!(!text(&row["code"]).is_empty(), "{name}");
    }
    for (kind, description) in kinds {
        assert!(
            table["rows"]
                .as_array()
                .unwrap()
                .iter()
                .any(|row| row["kind"] == kind.as_str()),
            "kind {kind} has no row"
        );
        for binding in description["bindings"].as_array().expect("bindings") {
            assert!(
                ["python", "node", "kotlin"].contains(&text(binding)),
                "{kind}: unknown binding {binding}"
            );
        }
    }
}

/// The mock accepts what the table's stub and raw requests assume: its own key works,
/// so each 401 above is about the key under test.
#[tokio::test]
async fn the_mock_accepts_a_test_key_over_http() {
    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let url = server.url();
    let status = tokio::task::spawn_blocking(move || raw_create_customer(&url, "sk_test_51Good"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let response = mock
        .send(&StripeRequest {
            method: Method::Get,
            path: "/v1/customers".into(),
            params: Vec::new(),
            idempotency_key: None,
            stripe_account: None,
            stripe_version: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    server.shutdown();
}

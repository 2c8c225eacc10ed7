//! Helpers shared by the tests of the mock's HTTP front, its command and its webhook
//! forwarding: raw HTTP/1.1 exchanges on a socket (so the tests see exactly what goes
//! over the wire), and a tiny webhook receiver on loopback that can fail the first
//! attempts of each event.
#![allow(dead_code)] // Each test target uses a different subset of the helpers.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One HTTP response as read off the socket.
pub struct Answer {
    pub status: u16,
    /// The status line and headers as sent.
    pub head: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Read one response from `stream` (`None` if the server closed first). `buffer`
/// carries bytes of the next responses between calls (pipelining).
pub async fn read_answer(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Answer> {
    let mut chunk = [0u8; 8192];
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
        .map_or(0, |(_, value)| value.parse().unwrap());
    while buffer.len() < header_end + 4 + length {
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "body cut short");
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body_bytes = &buffer[header_end + 4..header_end + 4 + length];
    let body = if body_bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body_bytes).unwrap()
    };
    buffer.drain(..header_end + 4 + length);
    Some(Answer {
        status,
        head,
        headers,
        body,
    })
}

/// Send one raw request on `stream` and read one response (`None` if the server closed).
pub async fn exchange(stream: &mut TcpStream, raw: &str) -> Option<Answer> {
    stream.write_all(raw.as_bytes()).await.unwrap();
    read_answer(stream, &mut Vec::new()).await
}

/// A form POST with the mock's default key.
pub fn post(path: &str, body: &str, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_mock\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
}

/// A GET with the mock's default key.
pub fn get(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk_test_mock\r\n{extra}\r\n"
    )
}

/// A request with another `Authorization` key.
pub fn with_key(raw: &str, key: &str) -> String {
    raw.replace("Bearer sk_test_mock", &format!("Bearer {key}"))
}

/// `POST`, expecting a 200; the object's `id`.
pub async fn create(stream: &mut TcpStream, path: &str, body: &str) -> String {
    let answer = exchange(stream, &post(path, body, "")).await.unwrap();
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

/// Customer → invoice → invoice item → finalize → pay out of band, over `stream`: the
/// events of a whole invoice cycle.
pub async fn invoice_cycle(stream: &mut TcpStream) -> String {
    let customer = create(stream, "/v1/customers", "name=Ada+Lovelace").await;
    let invoice = create(
        stream,
        "/v1/invoices",
        &format!("customer={customer}&currency=gbp"),
    )
    .await;
    create(
        stream,
        "/v1/invoiceitems",
        &format!("customer={customer}&invoice={invoice}&amount=1500&currency=gbp"),
    )
    .await;
    create(stream, &format!("/v1/invoices/{invoice}/finalize"), "").await;
    create(
        stream,
        &format!("/v1/invoices/{invoice}/pay"),
        "paid_out_of_band=true",
    )
    .await;
    invoice
}

/// Every event id of the default key's platform account, oldest first.
pub async fn event_ids(stream: &mut TcpStream) -> Vec<String> {
    let listed = exchange(stream, &get("/v1/events?limit=100", ""))
        .await
        .unwrap();
    assert_eq!(listed.body["has_more"], false);
    let mut ids: Vec<String> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["id"].as_str().unwrap().to_owned())
        .collect();
    ids.reverse();
    ids
}

/// One webhook request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub event_id: String,
    pub body: Vec<u8>,
    pub signature: Option<String>,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    pub authorization: Option<String>,
    /// What the receiver answered.
    pub status: u16,
}

struct ReceiverState {
    /// Attempts of each event to answer 500 before accepting it.
    fail_first: usize,
    attempts: HashMap<String, usize>,
    received: Vec<Received>,
}

/// A webhook endpoint on loopback: records every request, answers 500 to the first
/// `fail_first` attempts of each event and 200 after.
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<Mutex<ReceiverState>>,
    changed: Arc<Notify>,
}

impl Receiver {
    pub async fn start(fail_first: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(ReceiverState {
            fail_first,
            attempts: HashMap::new(),
            received: Vec::new(),
        }));
        let changed = Arc::new(Notify::new());
        let (accept_state, accept_changed) = (Arc::clone(&state), Arc::clone(&changed));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&accept_state);
                let changed = Arc::clone(&accept_changed);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let state = Arc::clone(&state);
                        let changed = Arc::clone(&changed);
                        async move {
                            let header = |name: &str| {
                                request
                                    .headers()
                                    .get(name)
                                    .map(|value| value.to_str().unwrap().to_owned())
                            };
                            let signature = header("stripe-signature");
                            let content_type = header("content-type");
                            let user_agent = header("user-agent");
                            let authorization = header("authorization");
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            let event: Value = serde_json::from_slice(&body).unwrap();
                            let event_id = event["id"].as_str().unwrap().to_owned();
                            let status = {
                                let mut state = state.lock().unwrap();
                                let fail_first = state.fail_first;
                                let count = state.attempts.entry(event_id.clone()).or_insert(0);
                                *count += 1;
                                let status = if *count <= fail_first { 500 } else { 200 };
                                state.received.push(Received {
                                    event_id,
                                    body: body.to_vec(),
                                    signature,
                                    content_type,
                                    user_agent,
                                    authorization,
                                    status,
                                });
                                status
                            };
                            changed.notify_waiters();
                            let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
                            *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            addr,
            state,
            changed,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/stripe/webhooks", self.addr)
    }

    /// Change how many first attempts of each event fail.
    pub fn fail_first(&self, attempts: usize) {
        self.state.lock().unwrap().fail_first = attempts;
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The requests answered 200, in arrival order.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|received| received.status == 200)
            .collect()
    }

    /// Wait until `done` holds for what was received. The caller guards against a hang
    /// with a timeout; nothing here measures time.
    pub async fn wait_until(&self, done: impl Fn(&[Received]) -> bool) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(&self.received()) {
                return;
            }
            notified.await;
        }
    }
}

//! The mock's HTTP/1.1 front: [`MockStripe`] served over TCP with hyper, so that any
//! Stripe client — the official SDKs of every language included — can talk to it by
//! changing its API base.
//!
//! This module owns the translation between HTTP and the mock's request:
//! `Authorization` (Bearer or Basic, as `curl -u sk_test_…:` sends it), `Idempotency-Key`,
//! `Stripe-Account` and `Stripe-Version` headers; the path percent-decoded; the query
//! string and (for POST) the form body decoded into the form pairs that
//! [`MockStripe::process`] takes; the mock's answer written back with its headers
//! (`Request-Id`, `Idempotent-Replayed`, `Stripe-Should-Retry`, …). Everything Stripe
//! itself would decide is the mock's, not this module's.
//!
//! What HTTP itself needs is hyper's: keep-alive, chunked request bodies, `Expect:
//! 100-continue` (answered when the body is first read, so a refused request never
//! gets a `100`), pipelining. `TCP_NODELAY` is set on every accepted socket: without
//! it a response written in two segments waits for the client's delayed ACK (Nagle),
//! about 40 ms per request on Linux.
//!
//! Two answers come from here rather than from the mock: a body over
//! [`ServeOptions::max_body_bytes`] is refused with a Stripe-shaped 413 before it is
//! read (from `Content-Length`) or as soon as it passes the limit (chunked), and a
//! request the mock fails without a response (a timeout, reset or lost-response fault)
//! closes the connection with nothing written, as a dropped connection would.
//!
//! Paths under `/_billbridge/` are the server's own and never Stripe's:
//! `GET /_billbridge/health` and, with a [`Forwarder`], `GET
//! /_billbridge/webhook_deliveries` (each forwarded delivery and its attempts).
//!
//! Shutdown is graceful: the listener closes at once, idle keep-alive connections
//! close, and a request in progress is answered before its connection closes
//! ([`MockServer::shutdown_gracefully`] waits for that).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONNECTION, CONTENT_LENGTH, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::MockStripe;
use super::error::ApiError;
use super::forward::Forwarder;
use billbridge::stripe::transport::{Method, StripeRequest, StripeResponse};

/// The default request body limit: far above any request Stripe's API takes (250
/// invoice lines with 50 metadata keys each stay under it), low enough that a runaway
/// client cannot exhaust the host's memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The path prefix of the server's own endpoints; Stripe's API lives under `/v1/`.
pub const CONTROL_PREFIX: &str = "/_billbridge/";

/// How the HTTP front behaves; [`ServeOptions::default`] is what
/// [`MockStripe::serve`] uses.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Request bodies above this many bytes are refused with a 413
    /// `invalid_request_error`.
    pub max_body_bytes: usize,
    /// Forward webhook deliveries: the server wakes it after each request, so events
    /// leave as soon as they happen, and shows its record at
    /// `/_billbridge/webhook_deliveries`.
    pub forwarder: Option<Forwarder>,
    /// Write one line per request to stderr (method, path, status, request id: never
    /// parameters, keys or bodies).
    pub log_requests: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            forwarder: None,
            log_requests: false,
        }
    }
}

/// A running HTTP front. Dropping it or [`MockServer::shutdown`] closes the listener
/// and lets open connections finish their current request;
/// [`MockServer::shutdown_gracefully`] also waits for them.
pub struct MockServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept: Option<JoinHandle<()>>,
    /// Every connection task holds a sender; `recv` yields `None` once all are gone.
    connections: mpsc::Receiver<Infallible>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the value for an SDK's API base. An unspecified bind
    /// address (`0.0.0.0`, `::`) is shown as the loopback address, which is where a
    /// client on the same machine reaches it.
    pub fn url(&self) -> String {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{addr}")
    }

    /// Stop accepting connections; open connections close after their current request.
    pub fn shutdown(self) {
        drop(self);
    }

    /// Stop accepting connections and wait until every open connection has answered
    /// its request in progress and closed, or until `grace` has passed (connections
    /// still open then are dropped).
    pub async fn shutdown_gracefully(mut self, grace: Duration) {
        self.stop.send_replace(true);
        if let Some(accept) = self.accept.take() {
            // The accept loop ends on the stop signal; waiting for it means the
            // listener is closed when this returns.
            let _ = accept.await;
        }
        let _ = tokio::time::timeout(grace, self.connections.recv()).await;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Everything one connection's requests need.
#[derive(Clone)]
struct Front {
    mock: MockStripe,
    options: ServeOptions,
    stopped: watch::Receiver<bool>,
}

/// Answered with no response at all: hyper closes the connection.
#[derive(Debug, thiserror::Error)]
#[error("the mock gave no response (injected fault)")]
struct NoResponse;

/// [`MockStripe::serve`]: the default options.
pub(crate) async fn serve(
    mock: MockStripe,
    addr: impl ToSocketAddrs,
) -> std::io::Result<MockServer> {
    serve_with(mock, addr, ServeOptions::default()).await
}

impl MockStripe {
    /// [`MockStripe::serve`] with other [`ServeOptions`]: a body limit, a webhook
    /// [`Forwarder`] woken after each request, request logging. Needs a tokio runtime.
    ///
    /// # Errors
    /// The I/O error when the address cannot be bound.
    pub async fn serve_with(
        &self,
        addr: impl ToSocketAddrs,
        options: ServeOptions,
    ) -> std::io::Result<MockServer> {
        serve_with(self.clone(), addr, options).await
    }
}

async fn serve_with(
    mock: MockStripe,
    addr: impl ToSocketAddrs,
    options: ServeOptions,
) -> std::io::Result<MockServer> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let (alive, connections) = mpsc::channel::<Infallible>(1);
    let front = Front {
        mock,
        options,
        stopped: stopped.clone(),
    };
    let accept = tokio::spawn(accept_loop(listener, front, stopped, alive));
    Ok(MockServer {
        addr: bound,
        stop,
        accept: Some(accept),
        connections,
    })
}

async fn accept_loop(
    listener: TcpListener,
    front: Front,
    mut stopped: watch::Receiver<bool>,
    alive: mpsc::Sender<Infallible>,
) {
    let mut builder = http1::Builder::new();
    // Header names as Stripe's documentation writes them (`Request-Id`): clients that
    // match header names case-sensitively exist, and the cost is a few bytes.
    builder.title_case_headers(true);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop_requested(&mut stopped) => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: a later accept may work; pausing
            // keeps the loop from spinning meanwhile.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        // Without it each response waits for the client's delayed ACK (see the top).
        let _ = stream.set_nodelay(true);
        let front = front.clone();
        let builder = builder.clone();
        let mut stopped = stopped.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let service = service_fn(move |request| {
                let front = front.clone();
                async move { front.answer(request).await }
            });
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                // An error ends only this connection (a lost-response fault, a client
                // that went away, a malformed request hyper already answered).
                _ = connection.as_mut() => {}
                _ = stop_requested(&mut stopped) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
}

/// Completes once a stop is requested (or the server handle is gone). The guard that
/// `wait_for` returns is not `Send`; it is dropped here, inside.
async fn stop_requested(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

type Answer = Result<Response<Full<Bytes>>, NoResponse>;

impl Front {
    async fn answer(&self, request: Request<Incoming>) -> Answer {
        let (parts, body) = request.into_parts();
        let method_text = parts.method.as_str().to_owned();
        let raw_path = parts.uri.path().to_owned();
        let mut answer = self.dispatch(parts, body).await;
        if *self.stopped.borrow()
            && let Ok(response) = &mut answer
        {
            // Stopping: this connection closes after the answer, so say so, and the
            // client's pool opens a new one instead of reusing it.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        if self.options.log_requests {
            log_request(&method_text, &raw_path, &answer);
        }
        if let Some(forwarder) = &self.options.forwarder {
            // After every request, answered or not: a lost response was still applied
            // and may have raised events.
            forwarder.nudge();
        }
        answer
    }

    async fn dispatch(&self, parts: hyper::http::request::Parts, body: Incoming) -> Answer {
        let path = percent_decode(parts.uri.path());
        if path.starts_with(CONTROL_PREFIX) {
            return Ok(self.control(&parts.method, &path, parts.uri.query()));
        }
        let method = match parts.method.as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "DELETE" => Method::Delete,
            // Stripe answers a method it does not serve as an unknown URL.
            other => {
                let error = ApiError::unknown_route(other, &path);
                return Ok(self.error(&error, false));
            }
        };
        let limit = self.options.max_body_bytes;
        if content_length(&parts.headers).is_some_and(|length| length > limit) {
            // Refused before reading: an `Expect: 100-continue` client never sends it.
            return Ok(self.too_large(limit));
        }
        let body = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
                return Ok(self.too_large(limit));
            }
            // The client went away mid-body: nobody to answer.
            Err(_) => return Err(NoResponse),
        };
        let mut params = parts.uri.query().map(decode_pairs).unwrap_or_default();
        if method == Method::Post {
            params.extend(decode_pairs(&String::from_utf8_lossy(&body)));
        }
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
        };
        let api_key = header("authorization").and_then(bearer_or_basic);
        let request = StripeRequest {
            method,
            path,
            params,
            idempotency_key: header("idempotency-key").map(str::to_owned),
            stripe_account: header("stripe-account").map(str::to_owned),
            stripe_version: header("stripe-version").unwrap_or_default().to_owned(),
        };
        match self.mock.process(&request, api_key.as_deref()).await {
            Ok(answer) => Ok(to_http(answer, false)),
            // The mock decided there is no response: close the connection unanswered.
            Err(_) => Err(NoResponse),
        }
    }

    /// The server's own endpoints under [`CONTROL_PREFIX`].
    fn control(
        &self,
        method: &hyper::Method,
        path: &str,
        query: Option<&str>,
    ) -> Response<Full<Bytes>> {
        let json_response = |status: u16, body: serde_json::Value| {
            to_http(
                StripeResponse {
                    status,
                    headers: vec![("Content-Type".into(), "application/json".into())],
                    body: serde_json::to_vec_pretty(&body).unwrap_or_default(),
                },
                false,
            )
        };
        if method != hyper::Method::GET {
            return self.error(&ApiError::unknown_route(method.as_str(), path), false);
        }
        match path.strip_prefix(CONTROL_PREFIX) {
            Some("health") => json_response(200, json!({ "status": "ok" })),
            Some("webhook_deliveries") => {
                let event = query
                    .map(decode_pairs)
                    .unwrap_or_default()
                    .into_iter()
                    .find(|(key, _)| key == "event")
                    .map(|(_, value)| value);
                let records = self
                    .options
                    .forwarder
                    .as_ref()
                    .map(|forwarder| forwarder.deliveries())
                    .unwrap_or_default();
                let data: Vec<serde_json::Value> = records
                    .iter()
                    .filter(|record| event.as_deref().is_none_or(|id| record.event_id == id))
                    .map(super::forward::DeliveryRecord::to_json)
                    .collect();
                json_response(
                    200,
                    json!({
                        "object": "list",
                        "forwarding": self.options.forwarder.is_some(),
                        "data": data,
                    }),
                )
            }
            _ => self.error(&ApiError::unknown_route("GET", path), false),
        }
    }

    /// A Stripe-shaped error answered by the front itself, with a request id from the
    /// mock's generator as every answer has.
    fn error(&self, error: &ApiError, close: bool) -> Response<Full<Bytes>> {
        let request_id = self.mock.lock().random.id("req");
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Request-Id".to_owned(), request_id.clone()),
        ];
        headers.extend(error.headers());
        let body = serde_json::to_vec(&error.body(&request_id)).unwrap_or_default();
        to_http(
            StripeResponse {
                status: error.status,
                headers,
                body,
            },
            close,
        )
    }

    fn too_large(&self, limit: usize) -> Response<Full<Bytes>> {
        let error = ApiError {
            status: 413,
            ..ApiError::invalid(
                None,
                format!(
                    "The request body is larger than this server accepts ({limit} bytes). Send fewer parameters per request."
                ),
                None,
            )
        };
        // The rest of an unread body is still on the wire: the connection cannot carry
        // another request.
        self.error(&error, true)
    }
}

fn content_length(headers: &hyper::HeaderMap) -> Option<usize> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn to_http(answer: StripeResponse, close: bool) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in answer.headers {
        // The mock's headers are plain ASCII; one that is not would only be dropped.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    if close {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

fn log_request(method: &str, path: &str, answer: &Answer) {
    use std::io::Write;
    // `writeln!`, not `eprintln!`: a closed stderr must not panic a connection.
    let mut stderr = std::io::stderr();
    let _ = match answer {
        Ok(response) => {
            let request_id = response
                .headers()
                .get("request-id")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("-");
            writeln!(
                stderr,
                "{method} {path} {} {request_id}",
                response.status().as_u16()
            )
        }
        Err(_) => writeln!(stderr, "{method} {path} no response (fault)"),
    };
}

/// The API key of an `Authorization` header: a Bearer token, or the user part of
/// Basic credentials (`curl -u sk_test_…:`).
fn bearer_or_basic(header: &str) -> Option<String> {
    if let Some(token) = header.strip_prefix("Bearer ") {
        return Some(token.trim().to_owned());
    }
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64_decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next().unwrap_or_default().to_owned())
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut output = Vec::new();
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            output.push(((bits >> count) & 0xff) as u8);
        }
    }
    Some(output)
}

/// `application/x-www-form-urlencoded` pairs, in order: the query string and POST
/// bodies alike.
fn decode_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (form_decode(key), form_decode(value)),
            None => (form_decode(pair), String::new()),
        })
        .collect()
}

fn form_decode(text: &str) -> String {
    percent_decode(&text.replace('+', " "))
}

pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut output = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let high = char::from(bytes[index + 1]).to_digit(16);
            let low = char::from(bytes[index + 2]).to_digit(16);
            if let (Some(high), Some(low)) = (high, low) {
                output.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
        }
        output.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&output).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_decode_brackets_plus_and_percent() {
        let pairs = decode_pairs("metadata%5Bk%5D=a+b%26c&lines[0][quantity]=2&empty=");
        assert_eq!(
            pairs,
            vec![
                ("metadata[k]".to_owned(), "a b&c".to_owned()),
                ("lines[0][quantity]".to_owned(), "2".to_owned()),
                ("empty".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn basic_auth_gives_the_user_part() {
        // "sk_test_mock:" in base64.
        assert_eq!(
            bearer_or_basic("Basic c2tfdGVzdF9tb2NrOg==").as_deref(),
            Some("sk_test_mock")
        );
        assert_eq!(
            bearer_or_basic("Bearer sk_test_x").as_deref(),
            Some("sk_test_x")
        );
    }

    #[test]
    fn truncated_percent_is_kept_literally() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41"), "A");
    }

    #[test]
    fn an_unspecified_bind_address_is_shown_as_loopback() {
        let (stop, _) = watch::channel(false);
        let (_, connections) = mpsc::channel(1);
        let server = MockServer {
            addr: "0.0.0.0:12111".parse().unwrap(),
            stop,
            accept: None,
            connections,
        };
        assert_eq!(server.url(), "http://127.0.0.1:12111");
    }
}

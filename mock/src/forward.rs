//! Webhook forwarding: the mock's signed deliveries POSTed to the host's endpoints as
//! Stripe sends them, like `stripe listen --forward-to`.
//!
//! This module owns the delivery side of webhooks: which endpoints receive them
//! ([`Endpoint`], plain `http://` with optional basic-auth credentials, as Stripe
//! allows in endpoint URLs), Stripe's request (`POST`, the event JSON,
//! `Stripe-Signature`, `Content-Type: application/json; charset=utf-8`, a `Stripe/1.0`
//! user agent), what counts as delivered (any 2xx; redirects are not followed, as at
//! Stripe), retries with exponential backoff ([`RetrySchedule`]), and a record of every
//! delivery and its attempts ([`Forwarder::deliveries`]). Which events exist, their
//! bodies, duplicates and reordering are the mock's ([`super::WebhookOptions`]): the
//! forwarder sends exactly what [`MockStripe::take_webhooks`] hands it.
//!
//! Each delivery runs on its own, as at Stripe: an endpoint that fails one event does
//! not hold up the next, so retried events arrive after later ones. Every attempt is
//! signed afresh (a new `t=`), so a retry minutes later still passes a verifier's
//! five-minute tolerance.
//!
//! Once a forwarder runs, it takes the mock's deliveries: a test that also calls
//! `take_webhooks` itself competes with it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::io::Write;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::Request;
use hyper::Uri;
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, USER_AGENT};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, watch};

use super::MockStripe;
use super::webhooks::WebhookDelivery;
use billbridge::stripe::webhook::signature_header;

/// The `User-Agent` Stripe's webhook requests carry.
pub const STRIPE_USER_AGENT: &str = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";

/// How many delivery records are kept; the oldest go first. A mock left running for
/// days with a chatty host must not grow without bound.
pub const MAX_RECORDS: usize = 10_000;

/// How much of an endpoint's answer is read (and thrown away) before the connection
/// is reused.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why forwarding cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardError {
    /// The URL does not parse, or names no host.
    #[error("invalid webhook endpoint URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// Not an `http://` URL.
    #[error(
        "webhook endpoint {url} is not an http:// URL: the mock forwards over plain HTTP, to the host's local listener"
    )]
    UnsupportedScheme {
        /// The URL, credentials removed.
        url: String,
    },
    /// A forwarder with no endpoint would only swallow the mock's deliveries.
    #[error("no webhook endpoint to forward to")]
    NoEndpoints,
}

impl ForwardError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ForwardError::InvalidUrl { .. } => "invalid_url",
            ForwardError::UnsupportedScheme { .. } => "unsupported_scheme",
            ForwardError::NoEndpoints => "no_endpoints",
        }
    }
}

/// One webhook endpoint of the host: an `http://` URL, optionally with basic-auth
/// credentials (`http://user:password@host/path`), which are sent as `Authorization:
/// Basic` and never shown.
#[derive(Clone)]
pub struct Endpoint {
    uri: Uri,
    shown: String,
    authorization: Option<HeaderValue>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("Endpoint")
            .field(&self.shown)
            .finish()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.shown)
    }
}

impl PartialEq for Endpoint {
    fn eq(&self, other: &Self) -> bool {
        self.uri == other.uri && self.authorization == other.authorization
    }
}

impl Eq for Endpoint {}

impl Endpoint {
    /// Parses an endpoint URL.
    ///
    /// # Errors
    /// [`ForwardError::InvalidUrl`] when it does not parse or names no host;
    /// [`ForwardError::UnsupportedScheme`] for anything but `http://`.
    pub fn parse(text: &str) -> Result<Self, ForwardError> {
        let invalid = |reason: &str| ForwardError::InvalidUrl {
            reason: reason.to_owned(),
        };
        let uri: Uri = text
            .trim()
            .parse()
            .map_err(|_| invalid("not a URL (expected http://HOST[:PORT]/PATH)"))?;
        let authority = uri
            .authority()
            .ok_or_else(|| invalid("no host (expected http://HOST[:PORT]/PATH)"))?
            .as_str();
        let (credentials, host) = match authority.rsplit_once('@') {
            Some((credentials, host)) => (Some(credentials), host),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(invalid("no host (expected http://HOST[:PORT]/PATH)"));
        }
        let path = uri
            .path_and_query()
            .map_or("/", hyper::http::uri::PathAndQuery::as_str);
        let shown = format!(
            "{}://{}{host}{path}",
            uri.scheme_str().unwrap_or_default(),
            if credentials.is_some() { "***@" } else { "" },
        );
        if uri.scheme_str() != Some("http") {
            return Err(ForwardError::UnsupportedScheme { url: shown });
        }
        let uri = Uri::builder()
            .scheme("http")
            .authority(host)
            .path_and_query(path)
            .build()
            .map_err(|_| invalid("not a URL (expected http://HOST[:PORT]/PATH)"))?;
        let authorization = credentials
            .map(|credentials| {
                let decoded = super::http::percent_decode(credentials);
                HeaderValue::from_str(&format!("Basic {}", base64_encode(decoded.as_bytes())))
                    .map(|mut value| {
                        value.set_sensitive(true);
                        value
                    })
                    .map_err(|_| invalid("credentials that cannot be sent in a header"))
            })
            .transpose()?;
        Ok(Self {
            uri,
            shown,
            authorization,
        })
    }

    /// The URL as shown in records and logs (credentials replaced by `***`).
    pub fn url(&self) -> &str {
        &self.shown
    }
}

impl FromStr for Endpoint {
    type Err = ForwardError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut output = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let value = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for index in 0..4 {
            if index <= chunk.len() {
                output.push(char::from(
                    ALPHABET[((value >> (18 - 6 * index)) & 63) as usize],
                ));
            } else {
                output.push('=');
            }
        }
    }
    output
}

/// When failed deliveries are tried again: exponential backoff, as Stripe retries
/// (Stripe keeps trying for three days; a local mock gives up much sooner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Attempts per delivery, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; each next wait is twice the last.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for RetrySchedule {
    /// 8 attempts, 1 s, 2 s, 4 s … apart, at most 60 s: a host endpoint that restarts
    /// within two minutes misses nothing.
    fn default() -> Self {
        Self {
            attempts: 8,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetrySchedule {
    /// The wait before attempt `number` (1 for the first): `None` for the first
    /// attempt and for any beyond [`RetrySchedule::attempts`].
    pub fn delay_before(&self, number: u32) -> Option<Duration> {
        if number < 2 || number > self.attempts.max(1) {
            return None;
        }
        let doublings = (number - 2).min(31);
        Some(
            self.first_delay
                .saturating_mul(1 << doublings)
                .min(self.max_delay),
        )
    }
}

/// How a [`Forwarder`] delivers.
#[derive(Debug, Clone)]
pub struct ForwardOptions {
    /// Where each event goes; every endpoint gets every event.
    pub endpoints: Vec<Endpoint>,
    /// When failed deliveries are tried again.
    pub retry: RetrySchedule,
    /// Time allowed for one attempt (connect, send, answer).
    pub timeout: Duration,
    /// Also look for due deliveries this often, for events raised in-process (the
    /// mock's own API, a clock moved past a delivery delay); `None`: only when
    /// [`Forwarder::nudge`]d (the HTTP front nudges after each request) or
    /// [`Forwarder::flush`]ed.
    pub poll_interval: Option<Duration>,
    /// One line per attempt on stderr: event type and id, endpoint, outcome. Never the
    /// body or the signature.
    pub log: bool,
}

impl ForwardOptions {
    /// Forward to `endpoints` with the default schedule, a 10 s timeout per attempt,
    /// no polling and no log.
    pub fn new(endpoints: Vec<Endpoint>) -> Self {
        Self {
            endpoints,
            retry: RetrySchedule::default(),
            timeout: Duration::from_secs(10),
            poll_interval: None,
            log: false,
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Being attempted, or waiting for its next attempt.
    Pending,
    /// An attempt was answered with a 2xx.
    Delivered,
    /// Every attempt of the schedule failed.
    Failed,
    /// The forwarder stopped before the delivery succeeded or ran out of attempts.
    Abandoned,
}

impl DeliveryState {
    /// `pending`, `delivered`, `failed` or `abandoned`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Abandoned => "abandoned",
        }
    }
}

/// What one attempt met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered with this HTTP status (2xx: delivered).
    Status(u16),
    /// No answer within [`ForwardOptions::timeout`].
    TimedOut,
    /// The connection failed (refused, reset, closed before an answer).
    ConnectionFailed(String),
}

impl AttemptOutcome {
    /// Whether this attempt delivered the event.
    pub fn delivered(&self) -> bool {
        matches!(self, AttemptOutcome::Status(status) if (200..300).contains(status))
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// When it started, unix milliseconds (system clock).
    pub started_at_ms: i64,
    /// The `t=` its signature carried.
    pub signed_at: i64,
    /// How long it took.
    pub duration: Duration,
    /// What it met.
    pub outcome: AttemptOutcome,
}

/// One event's delivery to one endpoint. A duplicated event (the mock's
/// `duplicate_rate`) has one record per copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Dispatch order across the forwarder, from 1.
    pub sequence: u64,
    /// `evt_…`.
    pub event_id: String,
    /// `invoice.paid` and so on.
    pub event_type: String,
    /// The connected account the event happened on, if any.
    pub account: Option<String>,
    /// The endpoint URL (credentials hidden).
    pub endpoint: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Its attempts so far, oldest first.
    pub attempts: Vec<Attempt>,
}

impl DeliveryRecord {
    /// The record as the server's `/_billbridge/webhook_deliveries` shows it.
    pub fn to_json(&self) -> Value {
        let attempts: Vec<Value> = self
            .attempts
            .iter()
            .map(|attempt| {
                let (status, error) = match &attempt.outcome {
                    AttemptOutcome::Status(status) => (Some(*status), None),
                    AttemptOutcome::TimedOut => (None, Some("timed out".to_owned())),
                    AttemptOutcome::ConnectionFailed(message) => (None, Some(message.clone())),
                };
                json!({
                    "number": attempt.number,
                    "started_at_ms": attempt.started_at_ms,
                    "signed_at": attempt.signed_at,
                    "duration_ms": attempt.duration.as_millis() as u64,
                    "status": status,
                    "error": error,
                })
            })
            .collect();
        json!({
            "object": "webhook_delivery",
            "sequence": self.sequence,
            "event": self.event_id,
            "type": self.event_type,
            "account": self.account,
            "endpoint": self.endpoint,
            "state": self.state.as_str(),
            "attempts": attempts,
        })
    }
}

struct Records {
    next_sequence: u64,
    list: VecDeque<DeliveryRecord>,
}

struct Shared {
    mock: MockStripe,
    options: ForwardOptions,
    client: Client<HttpConnector, Full<Bytes>>,
    wake: Notify,
    closed: watch::Sender<bool>,
    /// Deliveries not yet delivered, failed or abandoned.
    pending: watch::Sender<usize>,
    records: Mutex<Records>,
    /// Cloned into every delivery task; taken at shutdown, so that the receiver below
    /// yields `None` once the last task has ended.
    running: Mutex<Option<mpsc::Sender<Infallible>>>,
    finished: tokio::sync::Mutex<mpsc::Receiver<Infallible>>,
}

impl Shared {
    fn records(&self) -> MutexGuard<'_, Records> {
        // Records are plain data; a panic elsewhere leaves them readable.
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn update(&self, sequence: u64, change: impl FnOnce(&mut DeliveryRecord)) {
        let mut records = self.records();
        if let Some(record) = records
            .list
            .iter_mut()
            .rev()
            .find(|record| record.sequence == sequence)
        {
            change(record);
        }
    }
}

/// Ends the forwarder when the last [`Forwarder`] handle is dropped.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.closed.send_replace(true);
    }
}

/// POSTs the mock's webhook deliveries to the host's endpoints, retrying failures;
/// cheap to clone (clones share one forwarder). It stops when [`Forwarder::shutdown`]
/// or when the last clone is dropped.
#[derive(Clone)]
pub struct Forwarder {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

impl fmt::Debug for Forwarder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Forwarder")
            .field("endpoints", &self.shared.options.endpoints)
            .field("retry", &self.shared.options.retry)
            .finish_non_exhaustive()
    }
}

impl Forwarder {
    /// Starts forwarding `mock`'s deliveries. Needs a tokio runtime (with time).
    ///
    /// # Errors
    /// [`ForwardError::NoEndpoints`] when `options` has no endpoint.
    pub fn start(mock: &MockStripe, options: ForwardOptions) -> Result<Forwarder, ForwardError> {
        if options.endpoints.is_empty() {
            return Err(ForwardError::NoEndpoints);
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(options.timeout));
        let client = Client::builder(TokioExecutor::new())
            // `Stripe-Signature` as Stripe writes it: PHP's `getallheaders()` and
            // similar hand header names over exactly as received.
            .http1_title_case_headers(true)
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        let (running, finished) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            mock: mock.clone(),
            client,
            wake: Notify::new(),
            closed: watch::channel(false).0,
            pending: watch::channel(0).0,
            records: Mutex::new(Records {
                next_sequence: 1,
                list: VecDeque::new(),
            }),
            running: Mutex::new(Some(running)),
            finished: tokio::sync::Mutex::new(finished),
            options,
        });
        tokio::spawn(pump(Arc::clone(&shared)));
        Ok(Forwarder {
            _owner: Arc::new(Owner(Arc::clone(&shared))),
            shared,
        })
    }

    /// The endpoints it forwards to.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.shared.options.endpoints
    }

    /// Look for due deliveries now (without waiting for them).
    pub fn nudge(&self) {
        self.shared.wake.notify_one();
    }

    /// Send every delivery due now, then wait until each delivery so far has been
    /// delivered, has failed or was abandoned (retries included: with the default
    /// schedule an endpoint that stays down holds this for about two minutes).
    pub async fn flush(&self) {
        dispatch_due(&self.shared);
        let mut pending = self.shared.pending.subscribe();
        let _ = pending.wait_for(|count| *count == 0).await;
    }

    /// Every delivery recorded (the last [`MAX_RECORDS`]), in dispatch order.
    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.shared.records().list.iter().cloned().collect()
    }

    /// The deliveries of one event (several with duplicates or several endpoints).
    pub fn deliveries_of(&self, event_id: &str) -> Vec<DeliveryRecord> {
        self.shared
            .records()
            .list
            .iter()
            .filter(|record| record.event_id == event_id)
            .cloned()
            .collect()
    }

    /// Stop: deliveries due now are sent (one attempt each), attempts in progress may
    /// finish within `grace`, and no retry is started any more (those deliveries are
    /// [`DeliveryState::Abandoned`]).
    pub async fn shutdown(&self, grace: Duration) {
        dispatch_due(&self.shared);
        self.shared.closed.send_replace(true);
        let running = self
            .shared
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(running);
        let mut finished = self.shared.finished.lock().await;
        let _ = tokio::time::timeout(grace, finished.recv()).await;
    }
}

/// Completes once the forwarder is closed. The guard that `wait_for` returns is not
/// `Send`; it is dropped here, inside.
async fn closing(closed: &mut watch::Receiver<bool>) {
    let _ = closed.wait_for(|closed| *closed).await;
}

/// Takes due deliveries when nudged (or on the poll interval) until closed.
async fn pump(shared: Arc<Shared>) {
    let mut closed = shared.closed.subscribe();
    let poll = shared.options.poll_interval;
    loop {
        let tick = async {
            match poll {
                Some(interval) => tokio::time::sleep(interval).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tick => {}
            _ = closing(&mut closed) => return,
        }
        dispatch_due(&shared);
    }
}

/// Takes the mock's due deliveries and starts one task per delivery and endpoint.
fn dispatch_due(shared: &Arc<Shared>) {
    let Some(running) = shared
        .running
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
    else {
        return;
    };
    for delivery in shared.mock.take_webhooks() {
        let WebhookDelivery {
            body,
            signature_header,
            signed_at,
            event_id,
            event_type,
            account,
        } = delivery;
        let body = Bytes::from(body);
        for endpoint in &shared.options.endpoints {
            let sequence = {
                let mut records = shared.records();
                let sequence = records.next_sequence;
                records.next_sequence += 1;
                records.list.push_back(DeliveryRecord {
                    sequence,
                    event_id: event_id.clone(),
                    event_type: event_type.clone(),
                    account: account.clone(),
                    endpoint: endpoint.url().to_owned(),
                    state: DeliveryState::Pending,
                    attempts: Vec::new(),
                });
                while records.list.len() > MAX_RECORDS {
                    records.list.pop_front();
                }
                sequence
            };
            shared.pending.send_modify(|count| *count += 1);
            let job = Job {
                sequence,
                endpoint: endpoint.clone(),
                body: body.clone(),
                first_signature: (signature_header.clone(), signed_at),
                label: format!("{event_type} [{event_id}]"),
            };
            tokio::spawn(deliver(Arc::clone(shared), running.clone(), job));
        }
    }
}

struct Job {
    sequence: u64,
    endpoint: Endpoint,
    body: Bytes,
    first_signature: (String, i64),
    /// `invoice.paid [evt_…]`, for the log.
    label: String,
}

async fn deliver(shared: Arc<Shared>, _running: mpsc::Sender<Infallible>, job: Job) {
    let schedule = shared.options.retry;
    let mut closed = shared.closed.subscribe();
    let mut state = DeliveryState::Failed;
    for number in 1..=schedule.attempts.max(1) {
        if let Some(delay) = schedule.delay_before(number) {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(delay) => false,
                _ = closing(&mut closed) => true,
            };
            if stopping {
                state = DeliveryState::Abandoned;
                break;
            }
        }
        let (header, signed_at) = if number == 1 {
            job.first_signature.clone()
        } else {
            // A fresh `t=` for every attempt, as Stripe signs each one.
            let signed_at = shared.mock.signature_now();
            let secret = shared.mock.webhook_secret();
            (signature_header(&secret, signed_at, &job.body), signed_at)
        };
        let started = Instant::now();
        let started_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as i64);
        let outcome = attempt(&shared, &job, &header).await;
        let delivered = outcome.delivered();
        if shared.options.log {
            // `writeln!`, not `eprintln!`: a closed stderr must not stop deliveries.
            let _ = writeln!(
                std::io::stderr(),
                "webhook {} -> {} attempt {number}: {}",
                job.label,
                job.endpoint,
                describe(&outcome)
            );
        }
        shared.update(job.sequence, |record| {
            record.attempts.push(Attempt {
                number,
                started_at_ms,
                signed_at,
                duration: started.elapsed(),
                outcome,
            });
        });
        if delivered {
            state = DeliveryState::Delivered;
            break;
        }
    }
    shared.update(job.sequence, |record| record.state = state);
    shared
        .pending
        .send_modify(|count| *count = count.saturating_sub(1));
}

fn describe(outcome: &AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::Status(status) => format!("HTTP {status}"),
        AttemptOutcome::TimedOut => "timed out".to_owned(),
        AttemptOutcome::ConnectionFailed(message) => message.clone(),
    }
}

async fn attempt(shared: &Shared, job: &Job, signature: &str) -> AttemptOutcome {
    let request = Request::post(job.endpoint.uri.clone())
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .header(USER_AGENT, STRIPE_USER_AGENT)
        .header(ACCEPT, "*/*; q=0.5, application/xml")
        .header(CACHE_CONTROL, "no-cache")
        .header("Stripe-Signature", signature)
        .body(Full::new(job.body.clone()));
    let mut request = match request {
        Ok(request) => request,
        Err(error) => return AttemptOutcome::ConnectionFailed(error.to_string()),
    };
    if let Some(authorization) = &job.endpoint.authorization {
        request
            .headers_mut()
            .insert(AUTHORIZATION, authorization.clone());
    }
    let exchange = async {
        let response = shared.client.request(request).await?;
        let status = response.status().as_u16();
        // Read the answer so the connection can be reused; its content is not used.
        let _ = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await;
        Ok::<u16, hyper_util::client::legacy::Error>(status)
    };
    match tokio::time::timeout(shared.options.timeout, exchange).await {
        Ok(Ok(status)) => AttemptOutcome::Status(status),
        Ok(Err(error)) => AttemptOutcome::ConnectionFailed(error_chain(&error)),
        Err(_) => AttemptOutcome::TimedOut,
    }
}

/// An error and its causes on one line ("client error (Connect): tcp connect error:
/// Connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_the_first_delay_up_to_the_cap() {
        let schedule = RetrySchedule {
            attempts: 6,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(3),
        };
        let delays: Vec<Option<Duration>> = (1..=7).map(|n| schedule.delay_before(n)).collect();
        assert_eq!(
            delays,
            vec![
                None,
                Some(Duration::from_millis(500)),
                Some(Duration::from_secs(1)),
                Some(Duration::from_secs(2)),
                Some(Duration::from_secs(3)),
                Some(Duration::from_secs(3)),
                None,
            ]
        );
    }

    #[test]
    fn a_huge_attempt_count_does_not_overflow() {
        let schedule = RetrySchedule {
            attempts: u32::MAX,
            ..RetrySchedule::default()
        };
        assert_eq!(schedule.delay_before(200), Some(Duration::from_secs(60)));
    }

    #[test]
    fn endpoints_are_plain_http_with_their_path_and_query() {
        let endpoint =
            Endpoint::parse("http://127.0.0.1:8000/stripe/webhooks?source=mock").unwrap();
        assert_eq!(
            endpoint.url(),
            "http://127.0.0.1:8000/stripe/webhooks?source=mock"
        );
        assert_eq!(endpoint.authorization, None);
        assert_eq!(
            Endpoint::parse("http://localhost").unwrap().url(),
            "http://localhost/"
        );
        assert_eq!(
            Endpoint::parse("https://example.com/hook").unwrap_err(),
            ForwardError::UnsupportedScheme {
                url: "https://example.com/hook".into()
            }
        );
        for bad in ["", "not a url", "/relative/path", "http://"] {
            assert!(
                matches!(Endpoint::parse(bad), Err(ForwardError::InvalidUrl { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn credentials_in_the_url_become_basic_auth_and_are_never_shown() {
        let endpoint = Endpoint::parse("http://hook%40practice:s3cr%3At@127.0.0.1:9/in").unwrap();
        assert_eq!(endpoint.url(), "http://***@127.0.0.1:9/in");
        assert!(!format!("{endpoint:?}").contains("s3cr"));
        // "hook@practice:s3cr:t"
        assert_eq!(
            endpoint.authorization.unwrap().to_str().unwrap(),
            "Basic aG9va0BwcmFjdGljZTpzM2NyOnQ="
        );
        assert_eq!(endpoint.uri.to_string(), "http://127.0.0.1:9/in");
    }

    #[test]
    fn base64_pads_like_rfc_4648() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
    }
}

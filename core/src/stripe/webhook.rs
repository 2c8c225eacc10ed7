//! Webhook signatures: verifying `Stripe-Signature` on the raw body, parsing the event,
//! and signing payloads for tests and for the mock's deliveries.
//!
//! The header is read the way stripe-python reads it, so that both accept and reject
//! the same deliveries: items are split on `,` and each on `=` without trimming (so
//! `t=…, v1=…` has no `v1` item), the first `t` wins, every `v1` is a candidate and
//! other schemes are ignored. Checks run in stripe-python's order (header, presence of
//! a `v1`, signature, then age), with one addition: a timestamp more than the
//! tolerance in the future is rejected too.

use crate::classify::{Classify, ErrorCategory};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::stripe::models::Event;

/// How far a signature's timestamp may be from now, either way, by default (as in
/// Stripe's SDKs).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The prefix of every webhook signing secret.
const SECRET_PREFIX: &str = "whsec_";

/// A webhook endpoint's signing secret (`whsec_…`). Never printed: `Debug` and
/// `Display` show only the prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Wraps a signing secret as shown in Stripe's dashboard or by `stripe listen`.
    ///
    /// # Errors
    /// [`WebhookError::InvalidSecret`] when it does not start with `whsec_` followed by
    /// at least one character.
    pub fn new(secret: impl Into<String>) -> Result<Self, WebhookError> {
        let secret = secret.into();
        match secret.strip_prefix(SECRET_PREFIX) {
            Some(rest) if !rest.is_empty() => Ok(WebhookSecret(secret)),
            _ => Err(WebhookError::InvalidSecret),
        }
    }

    /// The whole secret, the HMAC key.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for WebhookSecret {
    type Err = WebhookError;

    fn from_str(secret: &str) -> Result<Self, Self::Err> {
        WebhookSecret::new(secret)
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookSecret({SECRET_PREFIX}…redacted)")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SECRET_PREFIX}…redacted")
    }
}

/// Why a webhook delivery was rejected. Messages never include the secret, the body
/// or a signature.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `Stripe-Signature` header, or an empty one.
    #[error("the Stripe-Signature header is missing or empty")]
    MissingHeader,
    /// The header has no usable timestamp (`t` missing or not an integer) or an item
    /// that cannot be read.
    #[error("the Stripe-Signature header is malformed: {reason}")]
    MalformedHeader {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header carries no `v1` signature (only other schemes).
    #[error("the Stripe-Signature header has no v1 signature")]
    NoV1Signature,
    /// No `v1` signature matches the body signed with this secret.
    #[error("no v1 signature matches the payload for this webhook secret")]
    SignatureMismatch,
    /// Signed too long ago, or too far in the future.
    #[error(
        "signature timestamp {timestamp} is more than {tolerance_seconds} s away from now ({now})"
    )]
    TimestampOutOfTolerance {
        /// The signed timestamp, unix seconds.
        timestamp: i64,
        /// The time it was checked against, unix seconds.
        now: i64,
        /// The allowed distance, seconds.
        tolerance_seconds: u64,
    },
    /// The body is not a Stripe event.
    #[error("the webhook payload is not a valid Stripe event (line {line}, column {column})")]
    MalformedPayload {
        /// Line of the first problem in the body.
        line: usize,
        /// Column of the first problem in the body.
        column: usize,
        /// The decoder's account of it (may quote a value from the body).
        #[source]
        source: serde_json::Error,
    },
    /// A webhook secret that does not look like `whsec_…`.
    #[error("a webhook secret must start with \"whsec_\"")]
    InvalidSecret,
}

impl WebhookError {
    /// A stable machine code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingHeader => "missing_header",
            WebhookError::MalformedHeader { .. } => "malformed_header",
            WebhookError::NoV1Signature => "no_v1_signature",
            WebhookError::SignatureMismatch => "signature_mismatch",
            WebhookError::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
            WebhookError::MalformedPayload { .. } => "malformed_payload",
            WebhookError::InvalidSecret => "invalid_secret",
        }
    }

    fn malformed_payload(source: serde_json::Error) -> Self {
        WebhookError::MalformedPayload {
            line: source.line(),
            column: source.column(),
            source,
        }
    }
}

impl Classify for WebhookError {
    fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingHeader => "missing_header",
            WebhookError::MalformedHeader { .. } => "malformed_header",
            WebhookError::NoV1Signature => "no_v1_signature",
            WebhookError::SignatureMismatch => "signature_mismatch",
            WebhookError::TimestampOutOfTolerance { .. } => "timestamp_out_of_tolerance",
            WebhookError::MalformedPayload { .. } => "malformed_payload",
            WebhookError::InvalidSecret => "invalid_secret",
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            WebhookError::MalformedPayload { .. } | WebhookError::InvalidSecret => {
                ErrorCategory::Validation
            }
            _ => ErrorCategory::Signature,
        }
    }
}

/// The signed timestamp of a delivery that passed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VerifiedTimestamp(i64);

impl VerifiedTimestamp {
    /// When Stripe signed the delivery, unix seconds.
    pub fn unix_seconds(self) -> i64 {
        self.0
    }
}

/// Checks that `raw_body` was signed by Stripe with `secret`, within `tolerance` of
/// `now_unix`. Call it on the exact bytes received, before any JSON parsing.
///
/// # Errors
/// In this order: [`WebhookError::MissingHeader`], [`WebhookError::MalformedHeader`],
/// [`WebhookError::NoV1Signature`], [`WebhookError::SignatureMismatch`],
/// [`WebhookError::TimestampOutOfTolerance`].
pub fn verify(
    raw_body: &[u8],
    signature_header: Option<&str>,
    secret: &WebhookSecret,
    tolerance: Duration,
    now_unix: i64,
) -> Result<VerifiedTimestamp, WebhookError> {
    let header = match signature_header {
        Some(header) if !header.trim().is_empty() => header,
        _ => return Err(WebhookError::MissingHeader),
    };
    let (timestamp, mut candidates) = parse_header(header)?;
    if candidates.clone().next().is_none() {
        return Err(WebhookError::NoV1Signature);
    }

    let mac = signing_mac(secret.expose(), timestamp, raw_body);
    let matches = candidates.any(|candidate| {
        let mut digest = [0u8; 32];
        decode_lowercase_hex(candidate, &mut digest) && mac.clone().verify_slice(&digest).is_ok()
    });
    if !matches {
        return Err(WebhookError::SignatureMismatch);
    }

    let tolerance_seconds = tolerance.as_secs();
    let distance = now_unix.abs_diff(timestamp);
    if distance > tolerance_seconds {
        return Err(WebhookError::TimestampOutOfTolerance {
            timestamp,
            now: now_unix,
            tolerance_seconds,
        });
    }
    Ok(VerifiedTimestamp(timestamp))
}

/// Decodes a webhook body into an [`Event`]. Invoice, customer, invoice item and
/// balance transaction snapshots are typed; any other event type keeps its object as
/// raw JSON. Does not check the signature: see [`construct_event`].
///
/// # Errors
/// [`WebhookError::MalformedPayload`] when the body is not JSON, not an event, or a
/// typed snapshot does not have its object's shape.
pub fn parse(raw_body: &[u8]) -> Result<Event, WebhookError> {
    Event::from_slice(raw_body).map_err(WebhookError::malformed_payload)
}

/// [`verify`] then [`parse`]: the event of a genuine, recent delivery.
///
/// # Errors
/// Any error of [`verify`], then of [`parse`].
pub fn construct_event(
    raw_body: &[u8],
    signature_header: Option<&str>,
    secret: &WebhookSecret,
    tolerance: Duration,
    now_unix: i64,
) -> Result<Event, WebhookError> {
    verify(raw_body, signature_header, secret, tolerance, now_unix)?;
    parse(raw_body)
}

/// What [`verify_with`] and [`construct_event_with`] check against; a field left
/// `None` takes Stripe's SDK default, so every binding verifies alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// How far the signature's timestamp may be from now; [`DEFAULT_TOLERANCE`] when
    /// `None`.
    pub tolerance: Option<Duration>,
    /// Now, unix seconds; the system clock when `None` (give a mock's clock to verify
    /// deliveries signed at its time).
    pub now: Option<i64>,
}

impl VerifyOptions {
    fn resolve(self) -> (Duration, i64) {
        (
            self.tolerance.unwrap_or(DEFAULT_TOLERANCE),
            self.now
                .unwrap_or_else(|| crate::clock::Clock::now_unix(&crate::clock::SystemClock)),
        )
    }
}

/// [`verify`] with the defaults of [`VerifyOptions`] for what is not given.
///
/// # Errors
/// As [`verify`].
pub fn verify_with(
    raw_body: &[u8],
    signature_header: Option<&str>,
    secret: &WebhookSecret,
    options: VerifyOptions,
) -> Result<VerifiedTimestamp, WebhookError> {
    let (tolerance, now) = options.resolve();
    verify(raw_body, signature_header, secret, tolerance, now)
}

/// [`construct_event`] with the defaults of [`VerifyOptions`] for what is not given.
///
/// # Errors
/// As [`construct_event`].
pub fn construct_event_with(
    raw_body: &[u8],
    signature_header: Option<&str>,
    secret: &WebhookSecret,
    options: VerifyOptions,
) -> Result<Event, WebhookError> {
    let (tolerance, now) = options.resolve();
    construct_event(raw_body, signature_header, secret, tolerance, now)
}

/// [`sign`] at `timestamp`, or now on the system clock when `None`: the header a test
/// hands to its own webhook endpoint.
pub fn sign_at(secret: &WebhookSecret, timestamp: Option<i64>, payload: &[u8]) -> String {
    let timestamp =
        timestamp.unwrap_or_else(|| crate::clock::Clock::now_unix(&crate::clock::SystemClock));
    sign(secret, timestamp, payload)
}

/// The `Stripe-Signature` header value Stripe would send for `payload` signed with
/// `secret` (the whole `whsec_…` string) at unix time `timestamp`: `t=…,v1=…`.
pub fn signature_header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let digest = signing_mac(secret, timestamp, payload)
        .finalize()
        .into_bytes();
    let mut header = format!("t={timestamp},v1=");
    header.reserve(digest.len() * 2);
    for byte in digest {
        header.push(hex_digit(byte >> 4));
        header.push(hex_digit(byte & 0xf));
    }
    header
}

/// [`signature_header`] for a [`WebhookSecret`].
pub fn sign(secret: &WebhookSecret, timestamp: i64, payload: &[u8]) -> String {
    signature_header(secret.expose(), timestamp, payload)
}

/// HMAC-SHA256 keyed with `secret`, fed `"{timestamp}.{payload}"`, not yet finalized.
fn signing_mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Splits the header into the first `t` and the `v1` values, as stripe-python does:
/// each `,`-separated item is `key=value[=…]` with the value ending at the next `=`;
/// an item named `t` or `v1` without `=` makes the header unreadable.
fn parse_header(header: &str) -> Result<(i64, impl Iterator<Item = &str> + Clone), WebhookError> {
    let mut timestamp = None;
    for item in header.split(',') {
        match item.split_once('=') {
            Some(("t", rest)) if timestamp.is_none() => timestamp = Some(first_value(rest)),
            Some(_) => {}
            None if item == "t" || item == "v1" => {
                return Err(WebhookError::MalformedHeader {
                    reason: "an item has no value",
                });
            }
            None => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedHeader {
        reason: "no t= timestamp",
    })?;
    let timestamp = parse_timestamp(timestamp).ok_or(WebhookError::MalformedHeader {
        reason: "the t= timestamp is not an integer",
    })?;
    let candidates = header
        .split(',')
        .filter_map(|item| match item.split_once('=') {
            Some(("v1", rest)) => Some(first_value(rest)),
            _ => None,
        });
    Ok((timestamp, candidates))
}

/// The value of `key=value=more`: up to the next `=` (Python's `split("=", 2)[1]`).
fn first_value(rest: &str) -> &str {
    rest.split_once('=').map_or(rest, |(value, _)| value)
}

/// A decimal integer with optional sign and surrounding whitespace, as Python's
/// `int()` reads it (digit-group underscores and non-ASCII digits are not accepted).
fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.strip_prefix('+').unwrap_or(text).parse().ok()
}

/// Decodes 64 lowercase hex digits into `out`. Anything else (uppercase included,
/// as Stripe's SDKs compare the lowercase text) is not a match.
fn decode_lowercase_hex(text: &str, out: &mut [u8; 32]) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != out.len() * 2 {
        return false;
    }
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        match (lower_hex_value(pair[0]), lower_hex_value(pair[1])) {
            (Some(high), Some(low)) => *slot = (high << 4) | low,
            _ => return false,
        }
    }
    true
}

fn lower_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0xf)])
}

//! Failure on demand: scripted faults for the next matching requests, seeded random
//! faults, latency, a token-bucket rate limit, and pauses that hold a request in flight
//! until the test releases it (for concurrency tests that do not depend on timing).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore};

use super::clock::Random;
use billbridge::stripe::transport::{Method, TransportErrorKind};
use billbridge::vocabulary::ArgumentError;

/// One way a request can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// 429 with `code: rate_limit`; nothing applied.
    RateLimited,
    /// 429 with `code: lock_timeout` (the object was locked by another request);
    /// nothing applied.
    LockTimeout,
    /// A 5xx `api_error` before the endpoint began executing, with
    /// `Stripe-Should-Retry` when `should_retry` is given: nothing applied and nothing
    /// stored under the idempotency key, so a retry runs.
    ServerError {
        /// 500, 502, 503...
        status: u16,
        /// The `Stripe-Should-Retry` header, if any.
        should_retry: Option<bool>,
    },
    /// A 5xx `api_error` after the endpoint began executing: the error is saved under
    /// the request's idempotency key and replayed to every retry with that key for 24
    /// hours, as Stripe's idempotency layer does, so only a new key (after finding out
    /// what happened) gets past it. Whether the request took effect is `applied`.
    ServerErrorAfterExecution {
        /// 500, 502, 503...
        status: u16,
        /// Whether the request's changes were made (and kept) before it failed.
        applied: bool,
    },
    /// No response ([`TransportErrorKind::Timeout`]); nothing applied.
    Timeout,
    /// No response ([`TransportErrorKind::Connection`]); nothing applied.
    ConnectionReset,
    /// The request is applied and its response stored under its idempotency key, then
    /// lost: the caller sees a transport error of this kind. A retry with the same key
    /// replays the stored response.
    AppliedResponseLost(TransportErrorKind),
}

impl Fault {
    /// A plain 500 without `Stripe-Should-Retry`.
    pub const SERVER_ERROR: Fault = Fault::ServerError {
        status: 500,
        should_retry: None,
    };
    /// A 503 with `Stripe-Should-Retry: true`.
    pub const UNAVAILABLE_RETRY: Fault = Fault::ServerError {
        status: 503,
        should_retry: Some(true),
    };
}

/// A fault by name, as hosts and bindings give it (`fail_next("/v1/invoices",
/// "response_lost")`); [`FaultKind::fault`] makes the [`Fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// [`Fault::RateLimited`].
    RateLimited,
    /// [`Fault::LockTimeout`].
    LockTimeout,
    /// [`Fault::ServerError`], 500 unless a status is given.
    ServerError,
    /// [`Fault::ServerErrorAfterExecution`] with its changes made, 500 unless a status
    /// is given.
    ServerErrorAfterExecution,
    /// [`Fault::UNAVAILABLE_RETRY`].
    UnavailableRetry,
    /// [`Fault::Timeout`].
    Timeout,
    /// [`Fault::ConnectionReset`].
    ConnectionReset,
    /// [`Fault::AppliedResponseLost`] with a timeout.
    ResponseLost,
}

billbridge::vocabulary!(FaultKind, "fault kind", "unknown_fault_kind", {
    FaultKind::RateLimited => "rate_limited",
    FaultKind::LockTimeout => "lock_timeout",
    FaultKind::ServerError => "server_error",
    FaultKind::ServerErrorAfterExecution => "server_error_after_execution",
    FaultKind::UnavailableRetry => "unavailable_retry",
    FaultKind::Timeout => "timeout",
    FaultKind::ConnectionReset => "connection_reset",
    FaultKind::ResponseLost => "response_lost",
});

impl FaultKind {
    /// The fault of this kind; `status` sets a server error's HTTP status (500 to 599).
    ///
    /// # Errors
    /// [`ArgumentError::OutOfRange`] for a status outside 500–599, or a status given
    /// for a kind that has none.
    pub fn fault(self, status: Option<u16>) -> Result<Fault, ArgumentError> {
        if let Some(status) = status
            && (!matches!(
                self,
                FaultKind::ServerError | FaultKind::ServerErrorAfterExecution
            ) || !(500..=599).contains(&status))
        {
            return Err(ArgumentError::OutOfRange {
                argument: "status",
                reason: "a 5xx status, for server error faults only",
            });
        }
        Ok(match self {
            FaultKind::RateLimited => Fault::RateLimited,
            FaultKind::LockTimeout => Fault::LockTimeout,
            FaultKind::ServerError => Fault::ServerError {
                status: status.unwrap_or(500),
                should_retry: None,
            },
            FaultKind::ServerErrorAfterExecution => Fault::ServerErrorAfterExecution {
                status: status.unwrap_or(500),
                applied: true,
            },
            FaultKind::UnavailableRetry => Fault::UNAVAILABLE_RETRY,
            FaultKind::Timeout => Fault::Timeout,
            FaultKind::ConnectionReset => Fault::ConnectionReset,
            FaultKind::ResponseLost => Fault::AppliedResponseLost(TransportErrorKind::Timeout),
        })
    }
}

/// Which requests a rule applies to.
#[derive(Debug, Clone)]
struct Matcher {
    method: Option<Method>,
    path_prefix: String,
}

impl Matcher {
    fn matches(&self, method: Method, path: &str) -> bool {
        self.method.is_none_or(|expected| expected == method) && path.starts_with(&self.path_prefix)
    }
}

#[derive(Debug, Clone)]
struct Scripted {
    matcher: Matcher,
    fault: Fault,
    remaining: u32,
}

#[derive(Debug, Clone)]
struct Probabilistic {
    matcher: Matcher,
    fault: Fault,
    rate: f64,
}

/// Which clock refills the rate limiter's bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClock {
    /// The mock clock: `N` requests per mock second; tests advance the clock to refill,
    /// so they never depend on real time.
    Mock,
    /// Wall-clock time, for servers and benchmarks.
    Real,
}

/// A token-bucket limit: a bucket of `per_second` tokens, refilled continuously.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests allowed per second (and the burst size).
    pub per_second: u32,
    /// What time refills the bucket.
    pub clock: RateClock,
}

impl RateLimit {
    /// `per_second` requests per mock-clock second.
    pub fn per_second(per_second: u32) -> Self {
        Self {
            per_second,
            clock: RateClock::Mock,
        }
    }

    /// The same limit measured in real time.
    pub fn real_time(mut self) -> Self {
        self.clock = RateClock::Real;
        self
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last_mock: i64,
    last_real: Instant,
}

impl Bucket {
    fn take(&mut self, mock_now: i64) -> bool {
        let capacity = f64::from(self.limit.per_second);
        let elapsed = match self.limit.clock {
            RateClock::Mock => (mock_now - self.last_mock).max(0) as f64,
            RateClock::Real => self.last_real.elapsed().as_secs_f64(),
        };
        self.last_mock = mock_now;
        self.last_real = Instant::now();
        self.tokens = (self.tokens + elapsed * capacity).min(capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub(crate) struct PauseShared {
    reached: Notify,
    release: Semaphore,
}

/// A request held in flight until [`Pause::release`] (or until the handle is dropped).
pub struct Pause {
    shared: Arc<PauseShared>,
}

impl fmt::Debug for Pause {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Pause")
    }
}

impl Pause {
    /// Wait until the paused request has arrived (and holds its idempotency key).
    pub async fn reached(&self) {
        self.shared.reached.notified().await;
    }

    /// Let the paused request continue.
    pub fn release(&self) {
        self.shared.release.add_permits(1);
    }
}

impl Drop for Pause {
    fn drop(&mut self) {
        // Never leave a request hanging because a test forgot to release it.
        self.shared.release.add_permits(1);
    }
}

impl PauseShared {
    pub(crate) async fn hold(&self) {
        self.reached.notify_one();
        if let Ok(permit) = self.release.acquire().await {
            permit.forget();
        }
    }
}

struct PauseRule {
    matcher: Matcher,
    shared: Arc<PauseShared>,
}

/// The fault configuration, behind the mock's lock.
pub(crate) struct FaultState {
    random: Random,
    scripted: Vec<Scripted>,
    probabilistic: Vec<Probabilistic>,
    pauses: Vec<PauseRule>,
    pub(crate) latency: Option<Duration>,
    bucket: Option<Bucket>,
}

impl fmt::Debug for FaultState {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("FaultState")
            .field("scripted", &self.scripted)
            .field("probabilistic", &self.probabilistic)
            .field("pauses", &self.pauses.len())
            .field("latency", &self.latency)
            .field("bucket", &self.bucket)
            .finish()
    }
}

impl FaultState {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            random: Random::new(seed),
            scripted: Vec::new(),
            probabilistic: Vec::new(),
            pauses: Vec::new(),
            latency: None,
            bucket: None,
        }
    }

    /// Whether the rate limit lets this request through.
    pub(crate) fn admit(&mut self, mock_now: i64) -> bool {
        self.bucket
            .as_mut()
            .is_none_or(|bucket| bucket.take(mock_now))
    }

    /// The fault (if any) this request suffers: scripted rules first, in the order
    /// given, then the random ones.
    pub(crate) fn pick(&mut self, method: Method, path: &str) -> Option<Fault> {
        if let Some(rule) = self
            .scripted
            .iter_mut()
            .find(|rule| rule.remaining > 0 && rule.matcher.matches(method, path))
        {
            rule.remaining -= 1;
            let fault = rule.fault;
            self.scripted.retain(|rule| rule.remaining > 0);
            return Some(fault);
        }
        for rule in &self.probabilistic {
            if rule.matcher.matches(method, path) && self.random.unit() < rule.rate {
                return Some(rule.fault);
            }
        }
        None
    }

    /// A pause waiting for this request, if any (used once).
    pub(crate) fn take_pause(&mut self, method: Method, path: &str) -> Option<Arc<PauseShared>> {
        let position = self
            .pauses
            .iter()
            .position(|rule| rule.matcher.matches(method, path))?;
        Some(self.pauses.remove(position).shared)
    }
}

/// Controls for a mock's faults; from [`super::MockStripe::faults`].
pub struct Faults<'a> {
    pub(crate) mock: &'a super::MockStripe,
}

impl fmt::Debug for Faults<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Faults")
    }
}

impl Faults<'_> {
    fn with<R>(&self, change: impl FnOnce(&mut FaultState) -> R) -> R {
        let mut state = self.mock.lock();
        change(&mut state.faults)
    }

    /// The next request (any method) whose path starts with `path_prefix` suffers `fault`.
    pub fn next_request_to(&self, path_prefix: &str, fault: Fault) {
        self.next_requests_to(None, path_prefix, fault, 1);
    }

    /// The next `times` requests matching `method` (any if `None`) and `path_prefix`
    /// suffer `fault`. Rules apply in the order they were added.
    pub fn next_requests_to(
        &self,
        method: Option<Method>,
        path_prefix: &str,
        fault: Fault,
        times: u32,
    ) {
        self.with(|faults| {
            faults.scripted.push(Scripted {
                matcher: Matcher {
                    method,
                    path_prefix: path_prefix.to_owned(),
                },
                fault,
                remaining: times,
            });
        });
    }

    /// Every request under `path_prefix` (`"/"` for all) suffers `fault` with
    /// probability `rate` (0 to 1), rolled on a generator seeded from the mock's seed.
    pub fn random(&self, path_prefix: &str, fault: Fault, rate: f64) {
        self.with(|faults| {
            faults.probabilistic.push(Probabilistic {
                matcher: Matcher {
                    method: None,
                    path_prefix: path_prefix.to_owned(),
                },
                fault,
                rate: rate.clamp(0.0, 1.0),
            });
        });
    }

    /// Delay every request by `latency` (a tokio sleep: needs a tokio runtime with time).
    pub fn latency(&self, latency: Option<Duration>) {
        self.with(|faults| faults.latency = latency);
    }

    /// Answer 429 `rate_limit` past the limit (`None` removes it). The bucket starts full.
    pub fn rate_limit(&self, limit: Option<RateLimit>) {
        let now = self.mock.clock().now();
        self.with(|faults| {
            faults.bucket = limit.map(|limit| Bucket {
                limit,
                tokens: f64::from(limit.per_second),
                last_mock: now,
                last_real: Instant::now(),
            });
        });
    }

    /// Hold the next request matching `method` and `path_prefix` once it holds its
    /// idempotency key, until the returned [`Pause`] is released or dropped.
    pub fn pause_next(&self, method: Option<Method>, path_prefix: &str) -> Pause {
        let shared = Arc::new(PauseShared {
            reached: Notify::new(),
            release: Semaphore::new(0),
        });
        self.with(|faults| {
            faults.pauses.push(PauseRule {
                matcher: Matcher {
                    method,
                    path_prefix: path_prefix.to_owned(),
                },
                shared: Arc::clone(&shared),
            });
        });
        Pause { shared }
    }

    /// Remove every fault, latency, rate limit and pending pause.
    pub fn clear(&self) {
        self.with(|faults| {
            faults.scripted.clear();
            faults.probabilistic.clear();
            faults.pauses.clear();
            faults.latency = None;
            faults.bucket = None;
        });
    }
}

//! The retry policy: a pure decision, from the attempt number and what the last attempt
//! produced, whether to send the request again and after how long; plus the injectable
//! [`Sleeper`] and [`Jitter`] the client uses to wait, so tests run instantly and can
//! record every delay.
//!
//! The rule follows Stripe's official SDKs: a `Stripe-Should-Retry` header decides when
//! present; otherwise connection errors, timeouts, 409 and 5xx are retried, other 4xx are
//! not. billbridge also retries 429 (rate limits and `lock_timeout`): every POST carries
//! an idempotency key, so a repeat cannot apply twice.

use std::time::Duration;

use async_trait::async_trait;

use super::transport::TransportErrorKind;

/// What one attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// An HTTP response with a non-success status.
    Response {
        /// HTTP status code.
        status: u16,
        /// The `Stripe-Should-Retry` header, when Stripe sent one.
        should_retry: Option<bool>,
    },
    /// No HTTP response at all.
    Transport(TransportErrorKind),
}

impl AttemptOutcome {
    /// Reads `Stripe-Should-Retry` (`true`/`false`, any case); anything else counts as absent.
    pub fn from_response(status: u16, should_retry_header: Option<&str>) -> Self {
        let should_retry = should_retry_header.and_then(|value| {
            let value = value.trim();
            if value.eq_ignore_ascii_case("true") {
                Some(true)
            } else if value.eq_ignore_ascii_case("false") {
                Some(false)
            } else {
                None
            }
        });
        AttemptOutcome::Response {
            status,
            should_retry,
        }
    }
}

/// The policy's answer for one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then send the same request (same idempotency key) again.
    Retry {
        /// How long to wait first.
        delay: Duration,
    },
    /// Give up and report the last outcome.
    Stop,
}

/// How many times, and how patiently, a failed request is repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (Stripe's SDKs default to 2); 0 disables retries.
    pub max_retries: u32,
    /// Delay before the first retry, doubled on each further retry; also the floor
    /// after jitter (Stripe: 0.5 s).
    pub initial_delay: Duration,
    /// Ceiling of the doubling, before jitter (Stripe: 5 s).
    pub max_delay: Duration,
    /// Retry 429 responses (rate limit and `lock_timeout`) when Stripe sends no
    /// `Stripe-Should-Retry` header. On by default; Stripe's SDKs leave it off.
    pub retry_rate_limited: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
            retry_rate_limited: true,
        }
    }
}

impl RetryPolicy {
    /// The default policy with `max_retries` retries.
    pub fn with_max_retries(max_retries: u32) -> Self {
        Self {
            max_retries,
            ..Self::default()
        }
    }

    /// A policy that never retries.
    pub fn none() -> Self {
        Self::with_max_retries(0)
    }

    /// Whether this outcome is worth repeating, ignoring the retry budget.
    pub fn is_retryable(&self, outcome: &AttemptOutcome) -> bool {
        match *outcome {
            AttemptOutcome::Transport(kind) => {
                matches!(
                    kind,
                    TransportErrorKind::Timeout | TransportErrorKind::Connection
                )
            }
            AttemptOutcome::Response {
                should_retry: Some(decided),
                ..
            } => decided,
            AttemptOutcome::Response {
                status,
                should_retry: None,
            } => status == 409 || status >= 500 || (status == 429 && self.retry_rate_limited),
        }
    }

    /// The wait before retry number `retry` (1 for the first retry):
    /// `min(initial · 2^(retry−1), max) × (½ + ½·unit)`, never below `initial`.
    /// `unit` is a random sample in `[0, 1]` (clamped; NaN counts as 1).
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        let base = self
            .initial_delay
            .saturating_mul(1_u32 << doublings)
            .min(self.max_delay);
        let unit = if unit.is_nan() {
            1.0
        } else {
            unit.clamp(0.0, 1.0)
        };
        base.mul_f64(0.5 + 0.5 * unit).max(self.initial_delay)
    }

    /// The whole decision for a failed attempt: `retry` is the number of the retry that
    /// would follow (1 after the first attempt), `unit` the jitter sample in `[0, 1]`.
    pub fn decide(&self, retry: u32, outcome: &AttemptOutcome, unit: f64) -> RetryDecision {
        if retry == 0 || retry > self.max_retries || !self.is_retryable(outcome) {
            return RetryDecision::Stop;
        }
        RetryDecision::Retry {
            delay: self.backoff(retry, unit),
        }
    }
}

/// Waits between retries. Injected so tests neither wait nor depend on a runtime.
#[async_trait]
pub trait Sleeper: Send + Sync {
    /// Resolve after `duration`.
    async fn sleep(&self, duration: Duration);
}

#[async_trait]
impl<T: Sleeper + ?Sized> Sleeper for std::sync::Arc<T> {
    async fn sleep(&self, duration: Duration) {
        (**self).sleep(duration).await;
    }
}

/// Sleeps on tokio's timer (feature `runtime`); needs a tokio runtime with time enabled.
#[cfg(feature = "runtime")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[cfg(feature = "runtime")]
#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Source of the random sample that spreads retries of many clients apart.
pub trait Jitter: Send + Sync {
    /// A sample in `[0, 1]`.
    fn unit(&self) -> f64;
}

impl<T: Jitter + ?Sized> Jitter for std::sync::Arc<T> {
    fn unit(&self) -> f64 {
        (**self).unit()
    }
}

/// Jitter from the operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn unit(&self) -> f64 {
        // Without randomness the full delay is the safe choice: it never shortens a wait.
        match getrandom::u32() {
            Ok(value) => f64::from(value) / f64::from(u32::MAX),
            Err(_) => 1.0,
        }
    }
}

/// The same sample every time, for deterministic tests (`FixedJitter(1.0)` = no jitter).
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn unit(&self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16) -> AttemptOutcome {
        AttemptOutcome::Response {
            status,
            should_retry: None,
        }
    }

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    #[test]
    fn server_errors_conflicts_and_rate_limits_are_retried() {
        let policy = RetryPolicy::default();
        for status in [409, 429, 500, 502, 503, 504] {
            assert!(
                matches!(
                    policy.decide(1, &response(status), 1.0),
                    RetryDecision::Retry { .. }
                ),
                "status {status}"
            );
        }
    }

    #[test]
    fn other_client_errors_are_not_retried() {
        let policy = RetryPolicy::default();
        for status in [400, 401, 402, 403, 404, 405, 422] {
            assert_eq!(
                policy.decide(1, &response(status), 1.0),
                RetryDecision::Stop,
                "status {status}"
            );
        }
    }

    #[test]
    fn rate_limits_can_be_excluded() {
        let policy = RetryPolicy {
            retry_rate_limited: false,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.decide(1, &response(429), 1.0), RetryDecision::Stop);
    }

    #[test]
    fn should_retry_header_overrides_status() {
        let policy = RetryPolicy::default();
        let told_no = AttemptOutcome::from_response(500, Some("false"));
        assert_eq!(policy.decide(1, &told_no, 1.0), RetryDecision::Stop);
        let told_yes = AttemptOutcome::from_response(400, Some("True"));
        assert!(matches!(
            policy.decide(1, &told_yes, 1.0),
            RetryDecision::Retry { .. }
        ));
        let nonsense = AttemptOutcome::from_response(503, Some("maybe"));
        assert!(matches!(
            policy.decide(1, &nonsense, 1.0),
            RetryDecision::Retry { .. }
        ));
    }

    #[test]
    fn timeouts_and_connection_errors_are_retried_other_transport_errors_not() {
        let policy = RetryPolicy::default();
        for kind in [TransportErrorKind::Timeout, TransportErrorKind::Connection] {
            assert!(matches!(
                policy.decide(1, &AttemptOutcome::Transport(kind), 1.0),
                RetryDecision::Retry { .. }
            ));
        }
        assert_eq!(
            policy.decide(
                1,
                &AttemptOutcome::Transport(TransportErrorKind::Other),
                1.0
            ),
            RetryDecision::Stop
        );
    }

    #[test]
    fn retry_budget_is_respected() {
        let policy = RetryPolicy::default();
        assert!(matches!(
            policy.decide(2, &response(500), 1.0),
            RetryDecision::Retry { .. }
        ));
        assert_eq!(policy.decide(3, &response(500), 1.0), RetryDecision::Stop);
        assert_eq!(
            RetryPolicy::none().decide(1, &response(500), 1.0),
            RetryDecision::Stop
        );
        assert_eq!(policy.decide(0, &response(500), 1.0), RetryDecision::Stop);
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling_without_jitter() {
        let policy = RetryPolicy::default();
        let delays: Vec<Duration> = (1..=6).map(|retry| policy.backoff(retry, 1.0)).collect();
        assert_eq!(
            delays,
            vec![ms(500), ms(1000), ms(2000), ms(4000), ms(5000), ms(5000)]
        );
    }

    #[test]
    fn jitter_halves_at_most_and_never_goes_below_the_floor() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(3, 0.0), ms(1000));
        assert_eq!(policy.backoff(3, 0.5), ms(1500));
        assert_eq!(policy.backoff(1, 0.0), ms(500));
        assert_eq!(policy.backoff(2, 0.0), ms(500));
        assert_eq!(policy.backoff(10, 0.0), ms(2500));
    }

    #[test]
    fn out_of_range_jitter_is_clamped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.backoff(3, 7.0), ms(2000));
        assert_eq!(policy.backoff(3, -1.0), ms(1000));
        assert_eq!(policy.backoff(3, f64::NAN), ms(2000));
        assert_eq!(policy.backoff(u32::MAX, 1.0), ms(5000));
    }

    #[test]
    fn random_jitter_stays_in_unit_range() {
        for _ in 0..100 {
            let unit = RandomJitter.unit();
            assert!((0.0..=1.0).contains(&unit), "{unit}");
        }
    }

    proptest::proptest! {
        #[test]
        fn backoff_is_always_between_floor_and_ceiling(retry in 0_u32..64, unit in -2.0_f64..3.0) {
            let policy = RetryPolicy::default();
            let delay = policy.backoff(retry, unit);
            proptest::prop_assert!(delay >= policy.initial_delay);
            proptest::prop_assert!(delay <= policy.max_delay);
        }
    }
}

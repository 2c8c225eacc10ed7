//! The mock Stripe for tests: `MockStripe` (faults, clock, request log, webhooks), the
//! deliveries it signs, and its HTTP server for official SDKs. Fault kinds and
//! signature times are the mock crate's words; every rule and default is the mock's.

use std::sync::Mutex;

use billbridge::vocabulary::{self, probability};
use billbridge_mock::{
    FaultKind, KeyPolicy, MockServer as CoreServer, MockStripe as CoreMock, RateLimit,
    RecordedRequest as CoreRequest, RequestOutcome, SignatureTime, WebhookDelivery as CoreDelivery,
    WebhookOptions,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{integer, number, optional_unsigned, word};
use crate::errors::{BindingError, OrThrow};
use crate::runtime::{promise, run};

/// Options of `new MockStripe()`.
#[napi(object, object_to_js = false)]
pub struct MockStripeOptions {
    /// Seed of ids, invoice prefixes, the webhook secret and random faults (default 0).
    pub seed: Option<f64>,
    /// The mock clock's start, unix seconds.
    pub start_time: Option<f64>,
    /// The mock's own API key (what `keyPolicy: "own_key_only"` accepts).
    pub api_key: Option<String>,
    /// `"any_test_key"` (the default: any `sk_test_…`/`rk_test_…` key, each with its own
    /// isolated state) or `"own_key_only"`.
    pub key_policy: Option<String>,
    /// Seconds after a write before search finds it (default 0: at once), as Stripe's
    /// search is not read-after-write.
    pub search_lag: Option<f64>,
}

/// A stateful in-memory Stripe for tests and demos. Give it to a `Billbridge` as
/// `stripe`, or serve it over HTTP for an official SDK.
#[napi]
#[derive(Clone)]
pub struct MockStripe(pub(crate) CoreMock);

/// Options of `failNext`.
#[napi(object, object_to_js = false)]
pub struct FailNextOptions {
    /// How many requests fail (default 1).
    pub times: Option<f64>,
    /// The HTTP status, for the faults that answer one.
    pub status: Option<f64>,
}

/// Options of `failRandomly`.
#[napi(object, object_to_js = false)]
pub struct FailRandomlyOptions {
    /// Probability, from 0 to 1, that a request fails.
    pub rate: f64,
    /// The HTTP status, for the faults that answer one.
    pub status: Option<f64>,
}

/// How webhook deliveries misbehave; what is not given keeps the mock's default.
#[napi(object, object_to_js = false)]
pub struct WebhookOptionsInit {
    /// Which time signatures carry: `"system"` (default: any verifier accepts them) or
    /// `"mock_clock"`. A bridge over the mock follows either.
    pub signature_time: Option<String>,
    /// Probability, from 0 to 1, that a delivery is sent twice.
    pub duplicate_rate: Option<f64>,
    /// Shuffle each batch (seeded).
    pub reorder: Option<bool>,
    /// Hold each delivery until the mock clock is this many seconds past the event.
    pub delay_seconds: Option<f64>,
}

/// Options of `setRateLimit`.
#[napi(object, object_to_js = false)]
pub struct RateLimitOptions {
    /// Refill as real time passes instead of as the mock clock advances.
    pub real_time: Option<bool>,
}

/// Options of `payInvoice`.
#[napi(object, object_to_js = false)]
pub struct PayOptions {
    /// A Stripe test payment method (default `"pm_card_visa"`; decline cards such as
    /// `"pm_card_chargeDeclined"` are declined with a card error).
    pub payment_method: Option<String>,
}

/// Options of `serve`.
#[napi(object, object_to_js = false)]
pub struct ServeOptions {
    /// The loopback port (default 0: any free port).
    pub port: Option<f64>,
}

/// The Stripe test payment method that pays.
const PAYING_CARD: &str = "pm_card_visa";

fn fault_status(env: &Env, status: Option<f64>) -> Result<Option<u16>> {
    optional_unsigned::<u16>(env, "status", status)
}

#[napi]
impl MockStripe {
    /// `new MockStripe({ seed: 0 })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, options: Option<MockStripeOptions>) -> Result<Self> {
        let mut builder = CoreMock::builder();
        if let Some(options) = options {
            if let Some(seed) = optional_unsigned::<u64>(env, "seed", options.seed)? {
                builder = builder.seed(seed);
            }
            if let Some(start) = options.start_time {
                builder = builder.start_time(integer(env, "startTime", start)?);
            }
            if let Some(key) = options.api_key {
                builder = builder.api_key(key);
            }
            if let Some(policy) = options.key_policy {
                builder = builder.key_policy(word::<KeyPolicy>(env, &policy)?);
            }
            if let Some(lag) = options.search_lag {
                builder = builder.search_lag(integer(env, "searchLag", lag)?);
            }
        }
        Ok(MockStripe(builder.build()))
    }

    /// Seconds after a write before search finds it (0: at once).
    #[napi(catch_unwind)]
    pub fn set_search_lag(&self, env: &Env, seconds: f64) -> Result<()> {
        self.0.set_search_lag(integer(env, "seconds", seconds)?);
        Ok(())
    }

    /// The mock clock, unix seconds.
    #[napi(getter, catch_unwind)]
    pub fn now(&self, env: &Env) -> Result<f64> {
        number(env, "now", self.0.clock().now())
    }

    /// Sets the mock clock, unix seconds.
    #[napi(catch_unwind)]
    pub fn set_time(&self, env: &Env, unix: f64) -> Result<()> {
        self.0.clock().set(integer(env, "unix", unix)?);
        Ok(())
    }

    /// Moves the mock clock forward by whole seconds.
    #[napi(catch_unwind)]
    pub fn advance(&self, env: &Env, seconds: f64) -> Result<()> {
        self.0.clock().advance(integer(env, "seconds", seconds)?);
        Ok(())
    }

    /// The `whsec_…` secret the mock signs its webhook deliveries with.
    #[napi(getter, catch_unwind)]
    pub fn webhook_secret(&self) -> String {
        self.0.webhook_secret()
    }

    /// Makes the next requests whose path starts with `pathPrefix` fail with `fault`
    /// (`"rate_limited"`, `"lock_timeout"`, `"server_error"`,
    /// `"server_error_after_execution"`, `"unavailable_retry"`, `"timeout"`,
    /// `"connection_reset"`, `"response_lost"`).
    #[napi(catch_unwind)]
    pub fn fail_next(
        &self,
        env: &Env,
        path_prefix: String,
        fault: String,
        options: Option<FailNextOptions>,
    ) -> Result<()> {
        let (times, status) = match options {
            Some(options) => (
                optional_unsigned::<u32>(env, "times", options.times)?,
                fault_status(env, options.status)?,
            ),
            None => (None, None),
        };
        let fault = word::<FaultKind>(env, &fault)?
            .fault(status)
            .or_throw(env)?;
        self.0
            .faults()
            .next_requests_to(None, &path_prefix, fault, times.unwrap_or(1));
        Ok(())
    }

    /// Makes every request whose path starts with `pathPrefix` (`"/"` for all) fail
    /// with `fault` (the words of `failNext`) with probability `rate`, rolled on a
    /// generator seeded from the mock's seed.
    #[napi(catch_unwind)]
    pub fn fail_randomly(
        &self,
        env: &Env,
        path_prefix: String,
        fault: String,
        options: FailRandomlyOptions,
    ) -> Result<()> {
        let status = fault_status(env, options.status)?;
        let fault = word::<FaultKind>(env, &fault)?
            .fault(status)
            .or_throw(env)?;
        let rate = probability("rate", options.rate).or_throw(env)?;
        self.0.faults().random(&path_prefix, fault, rate);
        Ok(())
    }

    /// How webhook deliveries misbehave and which time their signature carries.
    #[napi(catch_unwind)]
    pub fn set_webhook_options(&self, env: &Env, options: WebhookOptionsInit) -> Result<()> {
        let mut webhook = WebhookOptions::default();
        if let Some(time) = options.signature_time {
            webhook.signature_time = word::<SignatureTime>(env, &time)?;
        }
        if let Some(rate) = options.duplicate_rate {
            webhook.duplicate_rate = probability("duplicateRate", rate).or_throw(env)?;
        }
        if let Some(reorder) = options.reorder {
            webhook.reorder = reorder;
        }
        if let Some(delay) = options.delay_seconds {
            webhook.delay_seconds = integer(env, "delaySeconds", delay)?;
        }
        self.0.set_webhook_options(webhook);
        Ok(())
    }

    /// Delays every request by `seconds` (`null` removes the delay).
    #[napi(catch_unwind)]
    pub fn set_latency(&self, env: &Env, seconds: Option<f64>) -> Result<()> {
        let latency = seconds
            .map(|value| vocabulary::seconds("latency", value))
            .transpose()
            .or_throw(env)?;
        self.0.faults().latency(latency);
        Ok(())
    }

    /// Answers 429 `rate_limit` past `perSecond` requests per second (`null` removes
    /// the limit): a token bucket that starts full and refills as the mock clock
    /// advances, or as real time passes with `realTime: true`.
    #[napi(catch_unwind)]
    pub fn set_rate_limit(
        &self,
        env: &Env,
        per_second: Option<f64>,
        options: Option<RateLimitOptions>,
    ) -> Result<()> {
        let real_time = options.and_then(|options| options.real_time) == Some(true);
        let limit = optional_unsigned::<u32>(env, "perSecond", per_second)?.map(|rate| {
            let limit = RateLimit::per_second(rate);
            if real_time { limit.real_time() } else { limit }
        });
        self.0.faults().rate_limit(limit);
        Ok(())
    }

    /// Removes every fault, the latency and the rate limit.
    #[napi(catch_unwind)]
    pub fn clear_faults(&self) {
        self.0.faults().clear();
    }

    /// Every request received so far, oldest first.
    #[napi(catch_unwind)]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.0.requests().into_iter().map(RecordedRequest).collect()
    }

    /// The webhook deliveries due since the last call, oldest first.
    #[napi(catch_unwind)]
    pub fn take_webhooks(&self) -> Vec<WebhookDelivery> {
        self.0
            .take_webhooks()
            .into_iter()
            .map(WebhookDelivery)
            .collect()
    }

    /// Pays an open invoice as the payer would on its hosted page; the mock then queues
    /// the payment's webhooks. Rejects with `StripeApiError` (a declined card, an
    /// invoice that is not open).
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn pay_invoice<'env>(
        &self,
        env: &'env Env,
        stripe_invoice_id: String,
        options: Option<PayOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let method = options
            .and_then(|options| options.payment_method)
            .unwrap_or_else(|| PAYING_CARD.to_owned());
        let mock = self.0.clone();
        run(env, async move {
            Ok(mock.pay_invoice(&stripe_invoice_id, &method).await?)
        })
    }

    /// Serves the mock over HTTP on loopback, for official SDKs (`stripe` on npm with
    /// `host`, `port` and `protocol: "http"`, and any `sk_test_…` key the mock
    /// accepts). Close it with `MockServer.close()`.
    #[napi(ts_return_type = "Promise<MockServer>", catch_unwind)]
    pub fn serve<'env>(
        &self,
        env: &'env Env,
        options: Option<ServeOptions>,
    ) -> Result<PromiseRaw<'env, MockServer>> {
        let port = optional_unsigned::<u16>(env, "port", options.and_then(|options| options.port))?
            .unwrap_or(0);
        let mock = self.0.clone();
        promise(
            env,
            async move {
                mock.serve(("127.0.0.1", port)).await.map_err(|error| {
                    BindingError::internal(
                        "serve_failed",
                        format!("could not serve the mock on port {port}: {error}"),
                    )
                })
            },
            |_, server| {
                Ok(MockServer {
                    url: server.url(),
                    port: u32::from(server.addr().port()),
                    server: Mutex::new(Some(server)),
                })
            },
        )
    }
}

/// One request the mock received. Its parameters are names, emails and metadata
/// values, so printing it (`toString()`, `util.inspect`, `console.log`) shows the
/// method, path and status only; read `params` for the values.
#[napi]
pub struct RecordedRequest(CoreRequest);

#[napi]
impl RecordedRequest {
    /// `"GET"`, `"POST"` or `"DELETE"`.
    #[napi(getter, catch_unwind)]
    pub fn method(&self) -> &'static str {
        self.0.method.as_str()
    }

    /// The path, e.g. `/v1/customers`.
    #[napi(getter, catch_unwind)]
    pub fn path(&self) -> String {
        self.0.path.clone()
    }

    /// The form pairs as received, `[key, value]`.
    #[napi(getter, catch_unwind)]
    pub fn params(&self) -> Vec<Vec<String>> {
        self.0
            .params
            .iter()
            .map(|(key, value)| vec![key.clone(), value.clone()])
            .collect()
    }

    /// The `Idempotency-Key`, if any.
    #[napi(getter, catch_unwind)]
    pub fn idempotency_key(&self) -> Option<String> {
        self.0.idempotency_key.clone()
    }

    /// The `Stripe-Account`, if any.
    #[napi(getter, catch_unwind)]
    pub fn stripe_account(&self) -> Option<String> {
        self.0.stripe_account.clone()
    }

    /// The HTTP status answered, or `null` when no response was given (a fault).
    #[napi(getter, catch_unwind)]
    pub fn status(&self) -> Option<u32> {
        match self.0.outcome {
            RequestOutcome::Answered(status) => Some(u32::from(status)),
            RequestOutcome::NoResponse { .. } => None,
        }
    }

    /// Whether the answer was an idempotent replay.
    #[napi(getter, catch_unwind)]
    pub fn replayed(&self) -> bool {
        self.0.replayed
    }

    /// `RecordedRequest(POST /v1/customers, 200)`: no parameter value.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        let status = self
            .status()
            .map_or_else(|| "no response".to_owned(), |s| s.to_string());
        format!(
            "RecordedRequest({} {}, {status})",
            self.method(),
            self.0.path
        )
    }
}

/// One webhook delivery as an endpoint would receive it.
#[napi]
pub struct WebhookDelivery(CoreDelivery);

#[napi]
impl WebhookDelivery {
    /// The raw request body, exactly the bytes to POST.
    #[napi(getter, catch_unwind)]
    pub fn body(&self) -> Buffer {
        Buffer::from(self.0.body.clone())
    }

    /// The `Stripe-Signature` header value.
    #[napi(getter, catch_unwind)]
    pub fn signature_header(&self) -> String {
        self.0.signature_header.clone()
    }

    /// The unix time the signature carries: the system's time unless the mock signs
    /// at its own clock (give it as `now` to `constructEvent` then).
    #[napi(getter, catch_unwind)]
    pub fn signed_at(&self, env: &Env) -> Result<f64> {
        number(env, "signedAt", self.0.signed_at)
    }

    /// The event id.
    #[napi(getter, catch_unwind)]
    pub fn event_id(&self) -> String {
        self.0.event_id.clone()
    }

    /// The event type.
    #[napi(getter, catch_unwind)]
    pub fn event_type(&self) -> String {
        self.0.event_type.clone()
    }
}

/// The mock's HTTP front on loopback.
#[napi]
pub struct MockServer {
    url: String,
    port: u32,
    server: Mutex<Option<CoreServer>>,
}

#[napi]
impl MockServer {
    /// `http://127.0.0.1:<port>`.
    #[napi(getter, catch_unwind)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The port it listens on.
    #[napi(getter, catch_unwind)]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Stops accepting connections; open connections close after their current
    /// request. Closing twice does nothing.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let server = self
            .server
            .lock()
            .map_err(|_| {
                crate::errors::to_js(
                    env,
                    &BindingError::internal("lock_poisoned", "server lock poisoned"),
                )
            })?
            .take();
        // Shutting down wakes the server's task, which lives on the runtime.
        run(env, async move {
            if let Some(server) = server {
                server.shutdown();
            }
            Ok(())
        })
    }
}

/// A `MockStripe` or an `HttpTransport`, what a bridge sends requests through.
pub type StripeLike<'a> = Either<&'a MockStripe, &'a crate::stripe::HttpTransport>;

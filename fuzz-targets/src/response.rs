//! Response decoding: any status with any body, carried by an in-memory transport to
//! the typed client, must give the typed model or a typed [`StripeError`] — the
//! decoding of success bodies into the client's models and of error bodies into
//! [`ApiError`] details, with the retry decision in between.

use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_trait::async_trait;
use billbridge::Classify;
use billbridge::stripe::client::{RequestContext, StripeClient};
use billbridge::stripe::error::{ApiErrorClass, StripeError};
use billbridge::stripe::models::{
    CreditNote, Customer, CustomerBalanceTransaction, DeletedCustomer, ErrorBody, Event, Invoice,
    InvoiceItem, InvoiceLineItem, InvoicePayment, List, PaymentIntent, Price, Product,
    SearchResult, WebhookEndpoint,
};
use billbridge::stripe::retry::{AttemptOutcome, FixedJitter, RetryPolicy, Sleeper};
use billbridge::stripe::transport::{
    Method, StripeRequest, StripeResponse, Transport, TransportError,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bytes::Bytes;

/// Answers every request with the same response and counts the attempts.
struct Canned {
    response: StripeResponse,
    attempts: AtomicU32,
    keys: Mutex<Vec<Option<String>>>,
}

#[async_trait]
impl Transport for Canned {
    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut keys) = self.keys.lock() {
            keys.push(request.idempotency_key.clone());
        }
        Ok(self.response.clone())
    }
}

/// Retries without waiting: the policy's decisions run, the clock does not.
struct NoWait;

#[async_trait]
impl Sleeper for NoWait {
    async fn sleep(&self, _duration: Duration) {}
}

/// Drives a future whose every await is ready at once (the canned transport and the
/// sleeper above never wait), without a runtime.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("a call over the canned transport kept waiting");
}

/// Statuses worth telling apart: success, each error class, and odd ones.
const STATUSES: [u16; 16] = [
    200, 201, 204, 299, 400, 401, 402, 403, 404, 409, 429, 500, 502, 503, 418, 302,
];

/// The input: a status choice, a `Stripe-Should-Retry` choice, the POST/GET choice and
/// the model to decode into, then the body.
///
/// Properties: a success body gives the model exactly when it is that model's JSON,
/// else a `stripe_decode_error` with the status, after one attempt; a decoded model
/// survives a JSON round trip unchanged; an error status gives an API error classified
/// by status and Stripe's type and code, whose details are the body's, whose `Display`
/// leaves Stripe's message out, after as many attempts as the retry policy allows,
/// all with one idempotency key.
pub fn response_decode(data: &[u8]) {
    let mut input = Bytes::new(data);
    let status = STATUSES[usize::from(input.byte()) % STATUSES.len()];
    let should_retry = match input.byte() % 4 {
        0 => None,
        1 => Some("true"),
        2 => Some("false"),
        _ => Some("maybe"),
    };
    let method = if input.byte() & 1 == 0 {
        Method::Get
    } else {
        Method::Post
    };
    let model = input.byte();
    let body = input.remainder().to_vec();
    let mut headers = vec![("Request-Id".to_owned(), "req_fuzz".to_owned())];
    if let Some(value) = should_retry {
        headers.push(("Stripe-Should-Retry".to_owned(), value.to_owned()));
    }
    let call = Call {
        method,
        response: StripeResponse {
            status,
            headers,
            body,
        },
    };
    match model % 16 {
        0 => call.check::<Customer>(),
        1 => call.check::<Invoice>(),
        2 => call.check::<InvoiceItem>(),
        3 => call.check::<InvoiceLineItem>(),
        4 => call.check::<CustomerBalanceTransaction>(),
        5 => call.check::<Price>(),
        6 => call.check::<Product>(),
        7 => call.check::<CreditNote>(),
        8 => call.check::<PaymentIntent>(),
        9 => call.check::<InvoicePayment>(),
        10 => call.check::<WebhookEndpoint>(),
        11 => call.check::<DeletedCustomer>(),
        12 => call.check::<List<Invoice>>(),
        13 => call.check::<SearchResult<Customer>>(),
        14 => call.check::<List<InvoiceLineItem>>(),
        _ => call.check_event(),
    }
}

struct Call {
    method: Method,
    response: StripeResponse,
}

impl Call {
    fn send<T: DeserializeOwned>(&self) -> (Result<T, StripeError>, Vec<Option<String>>) {
        let transport = std::sync::Arc::new(Canned {
            response: self.response.clone(),
            attempts: AtomicU32::new(0),
            keys: Mutex::new(Vec::new()),
        });
        let client = StripeClient::builder(transport.clone())
            .retry_policy(RetryPolicy::default())
            .sleeper(NoWait)
            .jitter(FixedJitter(1.0))
            .build();
        let result = ready(client.send::<T>(
            self.method,
            "/v1/fuzzed",
            Vec::new(),
            &RequestContext::new(),
        ));
        let keys = transport
            .keys
            .lock()
            .map(|keys| keys.clone())
            .unwrap_or_default();
        assert_eq!(
            keys.len(),
            transport.attempts.load(Ordering::Relaxed) as usize
        );
        (result, keys)
    }

    fn check<T: DeserializeOwned + Serialize + PartialEq + Debug>(&self) {
        let (result, keys) = self.send::<T>();
        self.check_attempts(&keys);
        let status = self.response.status;
        if (200..300).contains(&status) {
            let direct = serde_json::from_slice::<T>(&self.response.body);
            match (result, direct) {
                (Ok(model), Ok(_)) => round_trip(&model),
                (Err(error), Err(_)) => {
                    assert_eq!(error.code(), "stripe_decode_error", "{error:?}");
                    assert_eq!(error.status(), Some(status));
                    assert_eq!(error.request_id(), Some("req_fuzz"));
                    assert!(
                        error.outcome_unknown(),
                        "an unreadable success may have applied"
                    );
                }
                (result, direct) => panic!(
                    "the client and serde disagree: {:?} / {:?}",
                    result.map(|_| ()),
                    direct.map(|_| ())
                ),
            }
        } else {
            match result {
                Ok(model) => panic!("HTTP {status} decoded as a success: {model:?}"),
                Err(error) => self.check_api_error(&error),
            }
        }
    }

    fn check_event(&self) {
        let (result, keys) = self.send::<Event>();
        self.check_attempts(&keys);
        if (200..300).contains(&self.response.status) {
            let direct = Event::from_slice(&self.response.body);
            assert_eq!(
                result.is_ok(),
                direct.is_ok(),
                "client and Event::from_slice"
            );
        } else if let Err(error) = result {
            self.check_api_error(&error);
        }
    }

    fn check_attempts(&self, keys: &[Option<String>]) {
        let status = self.response.status;
        let outcome =
            AttemptOutcome::from_response(status, self.response.header("stripe-should-retry"));
        let policy = RetryPolicy::default();
        let expected = if (200..300).contains(&status) || !policy.is_retryable(&outcome) {
            1
        } else {
            1 + policy.max_retries as usize
        };
        assert_eq!(keys.len(), expected, "attempts for HTTP {status}");
        // Every attempt of a POST carries one idempotency key, a GET none.
        match self.method {
            Method::Post => {
                assert!(keys[0].is_some());
                assert!(keys.iter().all(|key| *key == keys[0]));
            }
            _ => assert!(keys.iter().all(Option::is_none)),
        }
    }

    fn check_api_error(&self, error: &StripeError) {
        let status = self.response.status;
        let Some(api) = error.api_error() else {
            panic!("HTTP {status} is not an API error: {error:?}");
        };
        assert_eq!(api.status, status);
        assert_eq!(error.request_id(), Some("req_fuzz"));
        let body = serde_json::from_slice::<ErrorBody>(&self.response.body).ok();
        let fields = body.as_ref().map(|body| &body.error);
        assert_eq!(
            api.error_type.as_ref(),
            fields.map(|fields| &fields.error_type)
        );
        assert_eq!(api.code, fields.and_then(|fields| fields.code.clone()));
        assert_eq!(api.param, fields.and_then(|fields| fields.param.clone()));
        assert_eq!(
            api.class,
            ApiErrorClass::classify(
                status,
                fields.map(|fields| &fields.error_type),
                fields.and_then(|fields| fields.code.as_deref()),
            )
        );
        assert_eq!(Classify::code(error), api.class.code());
        // Stripe's message can echo what was submitted: Display must not depend on it.
        let mut without_message = api.clone();
        without_message.message = None;
        assert_eq!(api.to_string(), without_message.to_string());
        let _ = format!("{error:?}");
    }
}

/// A decoded model encodes to JSON that decodes to the same model.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + Debug>(model: &T) {
    let json = match serde_json::to_vec(model) {
        Ok(json) => json,
        Err(error) => panic!("a decoded model does not encode: {error}"),
    };
    match serde_json::from_slice::<T>(&json) {
        Ok(again) => assert!(
            again == *model,
            "a model changed on a JSON round trip: {}",
            String::from_utf8_lossy(&json)
        ),
        Err(error) => panic!(
            "a decoded model's own JSON does not decode ({error}): {}",
            String::from_utf8_lossy(&json)
        ),
    }
}

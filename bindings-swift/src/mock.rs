//! The mock Stripe for app tests and demos: [`MockStripe`] (in-process, stateful, with
//! its own clock, signed webhook deliveries and faults on demand) and its loopback
//! HTTP front ([`MockServer`]). Every rule is the mock crate's; this file only
//! translates.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use billbridge_mock::{FaultKind, MockServer as CoreServer, MockStripe as CoreMock};

use crate::error::{BillbridgeError, guard, guarded};
use crate::money::{instant, unix_seconds};

/// A way the mock fails a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MockFault {
    /// 429 `rate_limit`; nothing applied.
    RateLimited,
    /// 429 `lock_timeout`; nothing applied.
    LockTimeout,
    /// A 5xx `api_error` (500 unless a status is given); nothing applied.
    ServerError,
    /// A 5xx `api_error` (500 unless a status is given) after the request was applied:
    /// Stripe saves that answer under the idempotency key and replays it to a retry with
    /// the same key.
    ServerErrorAfterExecution,
    /// 503 with `Stripe-Should-Retry: true`; nothing applied.
    UnavailableRetry,
    /// No answer (a timeout); nothing applied.
    Timeout,
    /// No answer (the connection reset); nothing applied.
    ConnectionReset,
    /// Applied, then the answer lost: a retry with the same idempotency key replays it.
    ResponseLost,
}

impl From<MockFault> for FaultKind {
    fn from(fault: MockFault) -> Self {
        match fault {
            MockFault::RateLimited => FaultKind::RateLimited,
            MockFault::LockTimeout => FaultKind::LockTimeout,
            MockFault::ServerError => FaultKind::ServerError,
            MockFault::ServerErrorAfterExecution => FaultKind::ServerErrorAfterExecution,
            MockFault::UnavailableRetry => FaultKind::UnavailableRetry,
            MockFault::Timeout => FaultKind::Timeout,
            MockFault::ConnectionReset => FaultKind::ConnectionReset,
            MockFault::ResponseLost => FaultKind::ResponseLost,
        }
    }
}

/// One webhook delivery as an endpoint would receive it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct WebhookDelivery {
    /// The raw request body: hand it unchanged to `handleWebhook`.
    pub body: Vec<u8>,
    /// The `Stripe-Signature` header.
    pub signature_header: String,
    /// The time the signature carries.
    pub signed_at: SystemTime,
    /// The event id (`evt_…`).
    pub event_id: String,
    /// The event type (`invoice.paid`).
    pub event_type: String,
}

impl fmt::Debug for WebhookDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for WebhookDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body holds metadata values: its length only.
        write!(
            f,
            "WebhookDelivery(eventId={:?}, eventType={:?}, body={} bytes)",
            self.event_id,
            self.event_type,
            self.body.len()
        )
    }
}

/// A stateful in-memory Stripe for app tests and demos: customers, balances and
/// invoices behave as at Stripe, webhooks come signed, and faults happen on demand.
/// Give it to `Billbridge.overMock`; serve it over loopback HTTP with `serve`.
#[derive(uniffi::Object)]
pub struct MockStripe {
    core: CoreMock,
}

impl fmt::Debug for MockStripe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.core, f)
    }
}

impl MockStripe {
    /// The mock behind this object.
    pub(crate) fn core(&self) -> &CoreMock {
        &self.core
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl MockStripe {
    /// A new, empty mock. The same `seed` gives the same ids and webhook secret;
    /// `startTime` sets its clock (a fixed date by default).
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    #[uniffi::constructor(default(seed = None, start_time = None))]
    pub fn new(
        seed: Option<i64>,
        start_time: Option<SystemTime>,
    ) -> Result<Arc<Self>, BillbridgeError> {
        guard(|| {
            let mut builder = CoreMock::builder();
            if let Some(seed) = seed {
                // Any 64 bits make a seed: reinterpret, do not clamp.
                builder = builder.seed(u64::from_ne_bytes(seed.to_ne_bytes()));
            }
            if let Some(start) = start_time {
                builder = builder.start_time(unix_seconds(start));
            }
            Ok(Arc::new(MockStripe {
                core: builder.build(),
            }))
        })
    }

    /// The mock's clock.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn now(&self) -> Result<SystemTime, BillbridgeError> {
        guard(|| Ok(instant(self.core.clock().now())))
    }

    /// Sets the mock's clock.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn set_time(&self, time: SystemTime) -> Result<(), BillbridgeError> {
        guard(|| {
            self.core.clock().set(unix_seconds(time));
            Ok(())
        })
    }

    /// Moves the mock's clock forward by `seconds`.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn advance(&self, seconds: i64) -> Result<(), BillbridgeError> {
        guard(|| {
            self.core.clock().advance(seconds);
            Ok(())
        })
    }

    /// The signing secret (`whsec_…`) of the mock's webhook endpoint: give it to
    /// `BridgeOptions.webhookSecret`.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn webhook_secret(&self) -> Result<String, BillbridgeError> {
        guard(|| Ok(self.core.webhook_secret()))
    }

    /// The webhook deliveries due since the last call, oldest first, each signed.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn take_webhooks(&self) -> Result<Vec<WebhookDelivery>, BillbridgeError> {
        guard(|| {
            Ok(self
                .core
                .take_webhooks()
                .into_iter()
                .map(|delivery| WebhookDelivery {
                    body: delivery.body,
                    signature_header: delivery.signature_header,
                    signed_at: instant(delivery.signed_at),
                    event_id: delivery.event_id,
                    event_type: delivery.event_type,
                })
                .collect())
        })
    }

    /// How many requests the mock has received.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn request_count(&self) -> Result<i64, BillbridgeError> {
        guard(|| Ok(i64::try_from(self.core.requests().len()).unwrap_or(i64::MAX)))
    }

    /// Makes the next `times` requests whose path starts with `pathPrefix`
    /// (`/v1/invoices`, `/` for any) fail with `fault`; `status` sets a server error's
    /// status (500–599).
    ///
    /// # Errors
    /// `Validation` (`argument_out_of_range`) for a status outside 500–599 or given
    /// with another fault.
    #[uniffi::method(default(times = 1, status = None))]
    pub fn fail_next(
        &self,
        path_prefix: String,
        fault: MockFault,
        times: u32,
        status: Option<u16>,
    ) -> Result<(), BillbridgeError> {
        guard(|| {
            let fault = FaultKind::from(fault).fault(status)?;
            self.core
                .faults()
                .next_requests_to(None, &path_prefix, fault, times);
            Ok(())
        })
    }

    /// Removes every fault, latency and rate limit.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn clear_faults(&self) -> Result<(), BillbridgeError> {
        guard(|| {
            self.core.faults().clear();
            Ok(())
        })
    }

    /// Pays an open invoice as its payer would on the payment page, with a Stripe test
    /// payment method (`pm_card_visa` pays; `pm_card_chargeDeclined` is declined). The
    /// mock then queues the payment's webhooks.
    ///
    /// # Errors
    /// `StripeApi` with Stripe's details for a declined card or an invoice that is not
    /// open.
    pub async fn pay_invoice(
        &self,
        stripe_invoice_id: String,
        payment_method: String,
    ) -> Result<(), BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            Ok(core
                .pay_invoice(&stripe_invoice_id, &payment_method)
                .await?)
        })
        .await
    }

    /// Serves the mock over HTTP on `127.0.0.1:port` (0: any free port), for Stripe
    /// clients that take a base URL (`Billbridge.overServer`).
    ///
    /// # Errors
    /// `Internal` (`serve_failed`) when the port cannot be bound.
    #[uniffi::method(default(port = 0))]
    pub async fn serve(&self, port: u16) -> Result<Arc<MockServer>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let server = core.serve(("127.0.0.1", port)).await.map_err(|error| {
                BillbridgeError::internal(
                    "serve_failed",
                    format!("could not serve the mock on port {port}: {error}"),
                )
            })?;
            Ok(Arc::new(MockServer {
                url: server.url(),
                server: Mutex::new(Some(server)),
            }))
        })
        .await
    }
}

/// The mock's loopback HTTP front; it stops on `shutdown` or when released.
#[derive(uniffi::Object)]
pub struct MockServer {
    url: String,
    server: Mutex<Option<CoreServer>>,
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url)
            .finish()
    }
}

#[uniffi::export]
impl MockServer {
    /// `http://127.0.0.1:<port>`: the base URL for `Billbridge.overServer`.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn url(&self) -> Result<String, BillbridgeError> {
        guard(|| Ok(self.url.clone()))
    }

    /// Stops serving; open connections close after their current request.
    ///
    /// # Errors
    /// `Internal` only if the library panicked.
    pub fn shutdown(&self) -> Result<(), BillbridgeError> {
        guard(|| {
            let server = self
                .server
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(server) = server {
                server.shutdown();
            }
            Ok(())
        })
    }
}

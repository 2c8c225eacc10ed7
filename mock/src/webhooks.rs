//! Webhook deliveries of the mock's events: raw bodies signed with the mock's `whsec_…`
//! secret, taken by the test, optionally duplicated, reordered or delayed as Stripe's
//! at-least-once, unordered delivery allows.

use std::fmt;

use super::clock::Random;
use super::objects::Event;
use billbridge::stripe::webhook::signature_header;

/// One webhook delivery as an endpoint would receive it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The raw request body (the event JSON).
    pub body: Vec<u8>,
    /// The `Stripe-Signature` header value.
    pub signature_header: String,
    /// The unix time the signature carries (`t=`): the system's time by default, so
    /// any verifier checking the tolerance against the system clock accepts it (the
    /// core's `construct_event` with the system time, Stripe's own SDKs); the mock's
    /// time with [`SignatureTime::MockClock`], when a verifier must be given this time
    /// as its "now". A bridge over the mock follows either without being told.
    pub signed_at: i64,
    /// The event id (`evt_…`).
    pub event_id: String,
    /// The event type (`invoice.paid`).
    pub event_type: String,
    /// The connected account the event happened on, if any.
    pub account: Option<String>,
}

impl fmt::Debug for WebhookDelivery {
    // The body holds metadata values: keep it out of logs.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("WebhookDelivery")
            .field("event_id", &self.event_id)
            .field("event_type", &self.event_type)
            .field("account", &self.account)
            .field("signed_at", &self.signed_at)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Which time the signature's `t=` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureTime {
    /// The real time at [`super::MockStripe::take_webhooks`], so verifiers that check
    /// the tolerance against the system clock accept it (the default).
    #[default]
    System,
    /// The mock clock, for fully reproducible headers.
    MockClock,
}

billbridge::vocabulary!(SignatureTime, "signature time", "unknown_signature_time", {
    SignatureTime::System => "system",
    SignatureTime::MockClock => "mock_clock",
});

/// How deliveries misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WebhookOptions {
    /// Probability (0 to 1) that a delivery is sent twice.
    pub duplicate_rate: f64,
    /// Shuffle each batch (seeded).
    pub reorder: bool,
    /// Hold each delivery until the mock clock is this many seconds past the event.
    pub delay_seconds: i64,
    /// The time the signature carries.
    pub signature_time: SignatureTime,
}

/// An event waiting to be delivered. Its body is serialised only when the host takes
/// the deliveries: most test suites never do, and serialising every event eagerly was
/// the largest cost of a mock request.
#[derive(Debug, Clone)]
struct Pending {
    event: Event,
}

/// Deliveries not yet taken.
#[derive(Debug)]
pub(crate) struct WebhookQueue {
    random: Random,
    pub(crate) options: WebhookOptions,
    pending: Vec<Pending>,
}

impl WebhookQueue {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            random: Random::new(seed),
            options: WebhookOptions::default(),
            pending: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, event: Event) {
        self.pending.push(Pending { event });
    }

    /// The deliveries due at `mock_now`, signed with `secret` at `signed_at`.
    pub(crate) fn take(
        &mut self,
        mock_now: i64,
        signed_at: i64,
        secret: &str,
    ) -> Vec<WebhookDelivery> {
        let delay = self.options.delay_seconds;
        let (due, later): (Vec<Pending>, Vec<Pending>) = self
            .pending
            .drain(..)
            .partition(|pending| pending.event.created + delay <= mock_now);
        self.pending = later;
        let timestamp = signed_at;
        let mut deliveries = Vec::new();
        for pending in due {
            let copies = if self.random.unit() < self.options.duplicate_rate {
                2
            } else {
                1
            };
            let event = pending.event;
            let (event_id, event_type, account) =
                (event.id.clone(), event.kind.clone(), event.account.clone());
            let body = serde_json::to_vec_pretty(&event).unwrap_or_default();
            let header = signature_header(secret, timestamp, &body);
            for _ in 0..copies {
                deliveries.push(WebhookDelivery {
                    signature_header: header.clone(),
                    signed_at: timestamp,
                    body: body.clone(),
                    event_id: event_id.clone(),
                    event_type: event_type.clone(),
                    account: account.clone(),
                });
            }
        }
        if self.options.reorder {
            // Fisher–Yates on the seeded generator.
            for index in (1..deliveries.len()).rev() {
                let other = self.random.below(index + 1);
                deliveries.swap(index, other);
            }
        }
        deliveries
    }
}

//! Webhook helpers: `verify`, `parse`, `constructEvent`, `signPayload`, the
//! `WebhookSecret` wrapper, the `Event` view, and what the bridge made of a delivery
//! (`WebhookOutcome` with its `WebhookChange`s). An event is decoded once by the core;
//! JS reads typed getters (amounts as `Money`), and the JSON tree becomes JS objects
//! only when `object`, `previousAttributes` or `toJSON()` is asked for.

use std::sync::Arc;

use billbridge::domain::money::Money as CoreMoney;
use billbridge::stripe::models::{Event as CoreEvent, InvoiceAmounts};
use billbridge::stripe::webhook::{
    self, VerifyOptions as CoreVerifyOptions, WebhookSecret as CoreSecret,
};
use billbridge::sync::{WebhookChange as CoreChange, WebhookOutcome as CoreOutcome};
use billbridge::vocabulary;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{Body, body_bytes, integer, number, to_plain};
use crate::errors::OrThrow;
use crate::money::{Currency, Money};

/// A webhook endpoint's signing secret (`whsec_…`); `toString()` never shows it.
#[napi]
#[derive(Clone)]
pub struct WebhookSecret(pub(crate) CoreSecret);

#[napi]
impl WebhookSecret {
    /// `new WebhookSecret("whsec_…")`; throws `ValidationError` for anything else.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, secret: String) -> Result<Self> {
        CoreSecret::new(secret).map(WebhookSecret).or_throw(env)
    }

    /// `whsec_…` with the secret itself left out.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        self.0.to_string()
    }

    /// The same redacted text, so `JSON.stringify` cannot leak the secret either.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json(&self) -> String {
        self.0.to_string()
    }
}

/// A secret given as a `WebhookSecret` or as its `whsec_…` text.
pub type SecretLike<'a> = Either<String, &'a WebhookSecret>;

/// The core secret of a `SecretLike`.
pub fn secret(env: &Env, value: &SecretLike) -> Result<CoreSecret> {
    match value {
        Either::A(text) => CoreSecret::new(text.as_str()).or_throw(env),
        Either::B(secret) => Ok(secret.0.clone()),
    }
}

/// What a signature is checked against.
#[napi(object, object_to_js = false)]
pub struct VerifyOptions {
    /// How far, in whole seconds, the signature's time may be from now (default 300).
    pub tolerance: Option<f64>,
    /// Now, unix seconds (default: the system clock). A delivery from a `MockStripe`
    /// that signs at its own clock verifies with `now: delivery.signedAt`.
    pub now: Option<f64>,
}

fn options(env: &Env, options: Option<VerifyOptions>) -> Result<CoreVerifyOptions> {
    let Some(options) = options else {
        return Ok(CoreVerifyOptions::default());
    };
    Ok(CoreVerifyOptions {
        tolerance: options
            .tolerance
            .map(|seconds| vocabulary::whole_seconds("tolerance", seconds))
            .transpose()
            .or_throw(env)?,
        now: options
            .now
            .map(|now| integer(env, "now", now))
            .transpose()?,
    })
}

/// Checks the `Stripe-Signature` header against the raw body (a `Buffer` exactly as
/// received); returns the signed time, unix seconds. Throws `SignatureError` with
/// `code` saying why (`missing_header`, `malformed_header`, `no_v1_signature`,
/// `signature_mismatch`, `timestamp_out_of_tolerance`).
#[napi(catch_unwind)]
pub fn verify(
    env: &Env,
    payload: Body,
    header: Option<String>,
    secret: SecretLike,
    options: Option<VerifyOptions>,
) -> Result<f64> {
    let secret = self::secret(env, &secret)?;
    let options = self::options(env, options)?;
    let timestamp = webhook::verify_with(body_bytes(&payload), header.as_deref(), &secret, options)
        .or_throw(env)?;
    number(env, "timestamp", timestamp.unix_seconds())
}

/// Decodes an event without checking a signature (use `constructEvent` for
/// deliveries); throws `ValidationError` (`malformed_payload`).
#[napi(catch_unwind)]
pub fn parse(env: &Env, payload: Body) -> Result<Event> {
    webhook::parse(body_bytes(&payload))
        .map(Event::new)
        .or_throw(env)
}

/// Verifies then decodes a delivery: the event of a genuine, recent webhook. Throws
/// `SignatureError` as `verify` does, `ValidationError` for a body that is no event.
#[napi(catch_unwind)]
pub fn construct_event(
    env: &Env,
    payload: Body,
    header: Option<String>,
    secret: SecretLike,
    options: Option<VerifyOptions>,
) -> Result<Event> {
    let secret = self::secret(env, &secret)?;
    let options = self::options(env, options)?;
    webhook::construct_event_with(body_bytes(&payload), header.as_deref(), &secret, options)
        .map(Event::new)
        .or_throw(env)
}

/// Options of `signPayload`.
#[napi(object, object_to_js = false)]
pub struct SignOptions {
    /// The signature's time, unix seconds (default: now on the system clock).
    pub timestamp: Option<f64>,
}

/// The `Stripe-Signature` header Stripe would send for `payload` (for tests of a
/// webhook endpoint).
#[napi(catch_unwind)]
pub fn sign_payload(
    env: &Env,
    payload: Body,
    secret: SecretLike,
    options: Option<SignOptions>,
) -> Result<String> {
    let secret = self::secret(env, &secret)?;
    let timestamp = options
        .and_then(|options| options.timestamp)
        .map(|timestamp| integer(env, "timestamp", timestamp))
        .transpose()?;
    Ok(webhook::sign_at(&secret, timestamp, body_bytes(&payload)))
}

/// One Stripe event, decoded by the core.
#[napi]
pub struct Event(Arc<CoreEvent>);

impl Event {
    /// Wraps a decoded event.
    pub fn new(event: CoreEvent) -> Self {
        Event(Arc::new(event))
    }

    fn amount(&self, env: &Env, pick: fn(&InvoiceAmounts) -> CoreMoney) -> Result<Option<Money>> {
        let amounts = self.0.data.object.invoice_amounts().or_throw(env)?;
        Ok(amounts.as_ref().map(|amounts| Money(pick(amounts))))
    }
}

#[napi]
impl Event {
    /// `evt_…`: deduplicate deliveries by it.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.0.id.clone()
    }

    /// The event type, e.g. `"invoice.paid"` (unknown types as Stripe sent them).
    #[napi(getter, js_name = "type", catch_unwind)]
    pub fn event_type(&self) -> String {
        self.0.event_type.as_str().to_owned()
    }

    /// When it happened, unix seconds.
    #[napi(getter, catch_unwind)]
    pub fn created(&self, env: &Env) -> Result<f64> {
        number(env, "created", self.0.created)
    }

    /// True for live-mode events.
    #[napi(getter, catch_unwind)]
    pub fn livemode(&self) -> bool {
        self.0.livemode
    }

    /// The connected account (`acct_…`) for Connect events.
    #[napi(getter, catch_unwind)]
    pub fn account(&self) -> Option<String> {
        self.0.account.clone()
    }

    /// The kind of the snapshot in `data.object`, e.g. `"invoice"`.
    #[napi(getter, catch_unwind)]
    pub fn object_type(&self) -> Option<String> {
        self.0.data.object.kind()
    }

    /// The id of the object in `data.object` (`in_…`, `cus_…`, …).
    #[napi(getter, catch_unwind)]
    pub fn object_id(&self) -> Option<String> {
        self.0.data.object.id()
    }

    /// The invoice's status, for invoice events.
    #[napi(getter, catch_unwind)]
    pub fn status(&self) -> Option<String> {
        self.0.data.object.invoice_status().map(str::to_owned)
    }

    /// The invoice's (or the balance transaction's) currency.
    #[napi(getter, catch_unwind)]
    pub fn currency(&self, env: &Env) -> Result<Option<Currency>> {
        let currency = self.0.data.object.currency().or_throw(env)?;
        Ok(currency.map(Currency))
    }

    /// The invoice's customer id (`cus_…`), for invoice events.
    #[napi(getter, catch_unwind)]
    pub fn customer_id(&self) -> Option<String> {
        self.0.data.object.invoice_customer_id().map(str::to_owned)
    }

    /// The invoice's total, for invoice events.
    #[napi(getter, catch_unwind)]
    pub fn total(&self, env: &Env) -> Result<Option<Money>> {
        self.amount(env, |amounts| amounts.total)
    }

    /// The invoice's amount due.
    #[napi(getter, catch_unwind)]
    pub fn amount_due(&self, env: &Env) -> Result<Option<Money>> {
        self.amount(env, |amounts| amounts.amount_due)
    }

    /// The invoice's amount paid.
    #[napi(getter, catch_unwind)]
    pub fn amount_paid(&self, env: &Env) -> Result<Option<Money>> {
        self.amount(env, |amounts| amounts.amount_paid)
    }

    /// The invoice's amount remaining.
    #[napi(getter, catch_unwind)]
    pub fn amount_remaining(&self, env: &Env) -> Result<Option<Money>> {
        self.amount(env, |amounts| amounts.amount_remaining)
    }

    /// The snapshot in `data.object` as plain JS values (converted on access).
    #[napi(getter, catch_unwind)]
    pub fn object<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0.data.object)
    }

    /// For `*.updated` events: the previous values of the fields that changed.
    #[napi(getter, catch_unwind)]
    pub fn previous_attributes<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0.data.previous_attributes)
    }

    /// The whole event as plain JS values.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, self.0.as_ref())
    }

    /// `Event(evt_…, invoice.paid)`.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        format!("Event({}, {})", self.0.id, self.0.event_type.as_str())
    }
}

/// One change a webhook made to the host's records.
#[napi]
pub struct WebhookChange(CoreChange);

#[napi]
impl WebhookChange {
    /// `"invoice_status_changed"`, `"invoice_paid"`, `"invoice_amounts_changed"`,
    /// `"invoice_status_unrecognised"`, `"invoice_deleted"` or `"customer_updated"`.
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// The host invoice changed, for invoice changes.
    #[napi(getter, catch_unwind)]
    pub fn host_invoice_id(&self) -> Option<String> {
        self.0.host_invoice_id().map(str::to_owned)
    }

    /// The status before, for `invoice_status_changed`.
    #[napi(getter, catch_unwind)]
    pub fn status_before(&self) -> Option<String> {
        match &self.0 {
            CoreChange::InvoiceStatusChanged { from, .. } => Some(from.as_str().to_owned()),
            _ => None,
        }
    }

    /// The status now, for `invoice_status_changed` (and the status kept, for
    /// `invoice_status_unrecognised`).
    #[napi(getter, catch_unwind)]
    pub fn status_after(&self) -> Option<String> {
        match &self.0 {
            CoreChange::InvoiceStatusChanged { to, .. } => Some(to.as_str().to_owned()),
            CoreChange::InvoiceStatusUnrecognised { status, .. } => {
                Some(status.as_str().to_owned())
            }
            _ => None,
        }
    }

    /// Stripe's status as it spelled it, for `invoice_status_unrecognised`.
    #[napi(getter, catch_unwind)]
    pub fn stripe_status(&self) -> Option<String> {
        match &self.0 {
            CoreChange::InvoiceStatusUnrecognised { stripe_status, .. } => {
                Some(stripe_status.clone())
            }
            _ => None,
        }
    }

    /// What the invoice asks now, for `invoice_amounts_changed`.
    #[napi(getter, catch_unwind)]
    pub fn amount_due(&self) -> Option<Money> {
        match &self.0 {
            CoreChange::InvoiceAmountsChanged { amount_due, .. } => Some(Money(*amount_due)),
            _ => None,
        }
    }

    /// What was paid, for `invoice_paid` and `invoice_amounts_changed`.
    #[napi(getter, catch_unwind)]
    pub fn amount_paid(&self) -> Option<Money> {
        match &self.0 {
            CoreChange::InvoicePaid { amount_paid, .. }
            | CoreChange::InvoiceAmountsChanged { amount_paid, .. } => Some(Money(*amount_paid)),
            _ => None,
        }
    }

    /// What is left, for `invoice_amounts_changed`.
    #[napi(getter, catch_unwind)]
    pub fn amount_remaining(&self) -> Option<Money> {
        match &self.0 {
            CoreChange::InvoiceAmountsChanged {
                amount_remaining, ..
            } => Some(Money(*amount_remaining)),
            _ => None,
        }
    }

    /// The host party updated, for `customer_updated`.
    #[napi(getter, catch_unwind)]
    pub fn host_party_id(&self) -> Option<String> {
        match &self.0 {
            CoreChange::CustomerUpdated { host_party_id, .. } => Some(host_party_id.clone()),
            _ => None,
        }
    }

    /// The change as plain values (its `change` key is `kind`).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }
}

/// What became of one webhook delivery.
#[napi]
pub struct WebhookOutcome(pub(crate) CoreOutcome);

#[napi]
impl WebhookOutcome {
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

    /// `"applied"`, `"duplicate"` or `"ignored"`.
    #[napi(getter, catch_unwind)]
    pub fn disposition(&self) -> &'static str {
        self.0.disposition.as_str()
    }

    /// What changed for the host.
    #[napi(getter, catch_unwind)]
    pub fn changes(&self) -> Vec<WebhookChange> {
        self.0.changes.iter().cloned().map(WebhookChange).collect()
    }
}

//! Events (`evt_…`), as listed by `/v1/events` and delivered to webhooks. The
//! snapshot in `data.object` is decoded into its model when the event type names an
//! object billbridge reads (invoices, customers, invoice items, balance transactions)
//! and kept as raw JSON otherwise, so an unknown event never fails to decode.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Customer, CustomerBalanceTransaction, HasId, Invoice, InvoiceItem};
use crate::domain::money::{Currency, Money, MoneyError};

string_enum! {
    /// What happened. Only the types billbridge reacts to are named; every other
    /// type is kept in `Unknown` as Stripe sent it.
    pub enum EventType {
        /// A customer was created.
        CustomerCreated = "customer.created",
        /// A customer changed.
        CustomerUpdated = "customer.updated",
        /// A customer was deleted.
        CustomerDeleted = "customer.deleted",
        /// An invoice was created (as a draft).
        InvoiceCreated = "invoice.created",
        /// A draft was finalized (number, payment page and PDF assigned).
        InvoiceFinalized = "invoice.finalized",
        /// Finalization failed; see `last_finalization_error`.
        InvoiceFinalizationFailed = "invoice.finalization_failed",
        /// The invoice was sent (emitted in test mode too, without an email).
        InvoiceSent = "invoice.sent",
        /// The invoice became paid, by payment or out of band.
        InvoicePaid = "invoice.paid",
        /// A real payment succeeded.
        InvoicePaymentSucceeded = "invoice.payment_succeeded",
        /// A payment attempt failed; the invoice stays open.
        InvoicePaymentFailed = "invoice.payment_failed",
        /// The invoice was voided.
        InvoiceVoided = "invoice.voided",
        /// The invoice was marked uncollectible.
        InvoiceMarkedUncollectible = "invoice.marked_uncollectible",
        /// The invoice changed; see `previous_attributes`.
        InvoiceUpdated = "invoice.updated",
        /// A draft was deleted.
        InvoiceDeleted = "invoice.deleted",
        /// An invoice item was created.
        InvoiceItemCreated = "invoiceitem.created",
        /// An invoice item was deleted.
        InvoiceItemDeleted = "invoiceitem.deleted",
    }
}

/// One Stripe event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `evt_…`: deduplicate deliveries by this id.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When it happened, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    pub livemode: bool,
    /// The API version `data.object` is rendered in.
    pub api_version: Option<String>,
    /// The connected account it happened on (`acct_…`), for Connect platforms.
    pub account: Option<String>,
    /// The object concerned and, for updates, its previous values.
    pub data: EventData,
}

impl HasId for Event {
    fn id(&self) -> &str {
        &self.id
    }
}

/// `data` of an event.
#[derive(Debug, Clone, Serialize)]
pub struct EventData {
    /// A snapshot of the object when the event happened.
    pub object: EventObject,
    /// For `*.updated` events: the previous values of the fields that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Map<String, Value>>,
}

/// The snapshot carried by an event, typed by the event's object kind.
#[derive(Debug, Clone)]
pub enum EventObject {
    /// From `invoice.*` events.
    Invoice(Box<Invoice>),
    /// From `customer.created|updated|deleted` (not `customer.subscription.*` and
    /// other sub-objects).
    Customer(Box<Customer>),
    /// From `invoiceitem.*` events.
    InvoiceItem(Box<InvoiceItem>),
    /// From `customer_balance_transaction.*` events.
    CustomerBalanceTransaction(Box<CustomerBalanceTransaction>),
    /// Any other event type, as the raw JSON Stripe sent.
    Other(Box<RawValue>),
}

impl EventObject {
    /// The invoice, when this snapshot is one.
    pub fn as_invoice(&self) -> Option<&Invoice> {
        match self {
            EventObject::Invoice(invoice) => Some(invoice),
            _ => None,
        }
    }

    /// The customer, when this snapshot is one.
    pub fn as_customer(&self) -> Option<&Customer> {
        match self {
            EventObject::Customer(customer) => Some(customer),
            _ => None,
        }
    }
}

impl Serialize for EventObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EventObject::Invoice(invoice) => invoice.serialize(serializer),
            EventObject::Customer(customer) => customer.serialize(serializer),
            EventObject::InvoiceItem(item) => item.serialize(serializer),
            EventObject::CustomerBalanceTransaction(transaction) => {
                transaction.serialize(serializer)
            }
            EventObject::Other(raw) => raw.serialize(serializer),
        }
    }
}

/// The event as it arrives, with `data.object` left undecoded: its type is only
/// known once `type` has been read, and `type` may come after `data`.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    #[serde(default)]
    livemode: bool,
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    account: Option<String>,
    data: EnvelopeData,
}

#[derive(Deserialize)]
struct EnvelopeData {
    object: Box<RawValue>,
    #[serde(default)]
    previous_attributes: Option<Map<String, Value>>,
}

impl Envelope {
    fn into_event(self) -> Result<Event, serde_json::Error> {
        let raw = self.data.object;
        let object = match object_kind(&self.event_type) {
            "invoice" => EventObject::Invoice(serde_json::from_str(raw.get())?),
            "customer" => EventObject::Customer(serde_json::from_str(raw.get())?),
            "invoiceitem" => EventObject::InvoiceItem(serde_json::from_str(raw.get())?),
            "customer_balance_transaction" => {
                EventObject::CustomerBalanceTransaction(serde_json::from_str(raw.get())?)
            }
            _ => EventObject::Other(raw),
        };
        Ok(Event {
            id: self.id,
            event_type: EventType::from(self.event_type),
            created: self.created,
            livemode: self.livemode,
            api_version: self.api_version,
            account: self.account,
            data: EventData {
                object,
                previous_attributes: self.data.previous_attributes,
            },
        })
    }
}

/// The object kind an event type is about: everything before its last dot
/// (`invoice.paid` → `invoice`, `customer.subscription.updated` →
/// `customer.subscription`).
fn object_kind(event_type: &str) -> &str {
    event_type.rsplit_once('.').map_or("", |(kind, _)| kind)
}

/// The amounts of an invoice snapshot, typed: the invoice's currency and its amounts as
/// [`Money`] (whole units for ISK and UGX, not Stripe's ×100 wire amounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceAmounts {
    /// The invoice's currency.
    pub currency: Currency,
    /// Total after discounts and taxes.
    pub total: Money,
    /// What the payer is asked to pay after the customer balance.
    pub amount_due: Money,
    /// What has been paid.
    pub amount_paid: Money,
    /// What is left to pay.
    pub amount_remaining: Money,
}

/// The `object` and `id` fields of a snapshot of a kind billbridge does not type.
#[derive(Deserialize)]
struct Identity {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

impl EventObject {
    /// The snapshot's object kind as Stripe names it (`invoice`, `customer`,
    /// `invoiceitem`, `customer_balance_transaction`, or what an untyped snapshot's
    /// `object` says).
    pub fn kind(&self) -> Option<String> {
        match self {
            EventObject::Invoice(_) => Some("invoice".to_owned()),
            EventObject::Customer(_) => Some("customer".to_owned()),
            EventObject::InvoiceItem(_) => Some("invoiceitem".to_owned()),
            EventObject::CustomerBalanceTransaction(_) => {
                Some("customer_balance_transaction".to_owned())
            }
            EventObject::Other(raw) => serde_json::from_str::<Identity>(raw.get())
                .ok()
                .and_then(|identity| identity.object),
        }
    }

    /// The snapshot's id (`in_…`, `cus_…`, …).
    pub fn id(&self) -> Option<String> {
        match self {
            EventObject::Invoice(invoice) => Some(invoice.id.clone()),
            EventObject::Customer(customer) => Some(customer.id.clone()),
            EventObject::InvoiceItem(item) => Some(item.id.clone()),
            EventObject::CustomerBalanceTransaction(transaction) => Some(transaction.id.clone()),
            EventObject::Other(raw) => serde_json::from_str::<Identity>(raw.get())
                .ok()
                .and_then(|identity| identity.id),
        }
    }

    /// The currency of an invoice or balance-transaction snapshot.
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`] for a code billbridge does not know.
    pub fn currency(&self) -> Result<Option<Currency>, MoneyError> {
        let code = match self {
            EventObject::Invoice(invoice) => &invoice.currency,
            EventObject::CustomerBalanceTransaction(transaction) => &transaction.currency,
            _ => return Ok(None),
        };
        Currency::new(code).map(Some)
    }

    /// The amounts of an invoice snapshot, typed.
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`] for a currency billbridge does not know,
    /// [`MoneyError::StripeAmountNotWhole`] for an ISK or UGX amount that is not whole.
    pub fn invoice_amounts(&self) -> Result<Option<InvoiceAmounts>, MoneyError> {
        let Some(invoice) = self.as_invoice() else {
            return Ok(None);
        };
        let currency = Currency::new(&invoice.currency)?;
        let money = |amount| Money::from_stripe_amount(amount, currency);
        Ok(Some(InvoiceAmounts {
            currency,
            total: money(invoice.total)?,
            amount_due: money(invoice.amount_due)?,
            amount_paid: money(invoice.amount_paid)?,
            amount_remaining: money(invoice.amount_remaining)?,
        }))
    }
}

impl Event {
    /// Decodes an event from JSON bytes in one pass over the envelope plus one over
    /// the typed snapshot, without building an intermediate JSON tree. Does not check
    /// a signature: for webhooks use [`crate::stripe::webhook::construct_event`].
    ///
    /// # Errors
    /// The bytes are not JSON, or not an event, or the snapshot of a typed event type
    /// does not have that object's shape.
    pub fn from_slice(bytes: &[u8]) -> Result<Event, serde_json::Error> {
        serde_json::from_slice::<Envelope>(bytes)?.into_event()
    }
}

impl<'de> Deserialize<'de> for Event {
    /// Works with `serde_json` deserializers only (the snapshot is held as raw JSON).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Envelope::deserialize(deserializer)?
            .into_event()
            .map_err(D::Error::custom)
    }
}

//! Events (`evt_…`), as listed by `/v1/events` and delivered to webhooks. The
//! snapshot in `data.object` is decoded into its model when the event type names an
//! object billbridge reads (invoices, customers, invoice items, balance transactions)
//! and kept as raw JSON otherwise, so an unknown event never fails to decode.
//! `Debug` shows the decoded snapshot through its model's redacting `Debug`, and of the
//! raw JSON and the previous values only their size and keys.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Customer, CustomerBalanceTransaction, HasId, Invoice, InvoiceItem};
use crate::domain::money::{Currency, Money, MoneyError};
use crate::redact;

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
#[derive(Clone, Serialize)]
pub struct EventData {
    /// A snapshot of the object when the event happened.
    pub object: EventObject,
    /// For `*.updated` events: the previous values of the fields that changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Map<String, Value>>,
}

impl fmt::Debug for EventData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The previous values of a customer are its old name, email and metadata values.
        let EventData {
            object,
            previous_attributes,
        } = self;
        f.debug_struct("EventData")
            .field("object", object)
            .field(
                "previous_attributes",
                &previous_attributes
                    .as_ref()
                    .map(|previous| previous.keys().collect::<Vec<_>>()),
            )
            .finish()
    }
}

/// The snapshot carried by an event, typed by the event's object kind.
#[derive(Clone)]
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

impl fmt::Debug for EventObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventObject::Invoice(invoice) => f.debug_tuple("Invoice").field(invoice).finish(),
            EventObject::Customer(customer) => f.debug_tuple("Customer").field(customer).finish(),
            EventObject::InvoiceItem(item) => f.debug_tuple("InvoiceItem").field(item).finish(),
            EventObject::CustomerBalanceTransaction(transaction) => f
                .debug_tuple("CustomerBalanceTransaction")
                .field(transaction)
                .finish(),
            // A payment's or a charge's JSON holds billing names, emails and addresses.
            EventObject::Other(raw) => f
                .debug_tuple("Other")
                .field(&redact::Body(raw.get().len()))
                .finish(),
        }
    }
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
        let object = match Kind::of(&self.event_type) {
            Kind::Invoice => EventObject::Invoice(serde_json::from_str(raw.get())?),
            Kind::Customer => EventObject::Customer(serde_json::from_str(raw.get())?),
            Kind::InvoiceItem => EventObject::InvoiceItem(serde_json::from_str(raw.get())?),
            Kind::CustomerBalanceTransaction => {
                EventObject::CustomerBalanceTransaction(serde_json::from_str(raw.get())?)
            }
            Kind::Other => EventObject::Other(raw),
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

/// The snapshot types billbridge decodes, by the event type they come with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invoice,
    Customer,
    InvoiceItem,
    CustomerBalanceTransaction,
    Other,
}

impl Kind {
    /// The kind of snapshot an event type carries: decided by everything before its
    /// last dot (`invoice.paid` → invoice; `customer.subscription.updated` is not a
    /// customer).
    fn of(event_type: &str) -> Kind {
        match event_type.rsplit_once('.').map_or("", |(kind, _)| kind) {
            "invoice" => Kind::Invoice,
            "customer" => Kind::Customer,
            "invoiceitem" => Kind::InvoiceItem,
            "customer_balance_transaction" => Kind::CustomerBalanceTransaction,
            _ => Kind::Other,
        }
    }

    /// A guess of the event type from the end of the bytes, where Stripe writes it
    /// (`…"type": "invoice.paid"}`): lets the snapshot be decoded in the same pass as the
    /// envelope. Only a guess: the decoded type confirms it, or decoding starts over.
    fn guess(bytes: &[u8]) -> Kind {
        const TAIL: usize = 256;
        let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
        let Some(key) = tail.windows(6).rposition(|window| window == b"\"type\"") else {
            return Kind::Other;
        };
        fn skip(rest: &[u8], byte: u8) -> Option<&[u8]> {
            let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
            (rest.get(start) == Some(&byte)).then(|| &rest[start + 1..])
        }
        let rest = &tail[key + 6..];
        let Some(value) = skip(rest, b':').and_then(|rest| skip(rest, b'"')) else {
            return Kind::Other;
        };
        let end = value
            .iter()
            .position(|byte| *byte == b'"')
            .unwrap_or(value.len());
        std::str::from_utf8(&value[..end]).map_or(Kind::Other, Kind::of)
    }
}

/// Decodes an event in one pass when its snapshot is of kind `guess` (Stripe's usual
/// field order), `None` when the guess was wrong and the two-pass path must decide.
fn decode_guessed(bytes: &[u8], guess: Kind) -> Option<Event> {
    use serde::de::DeserializeSeed;
    // One UTF-8 check of the whole body is cheaper than serde_json checking every
    // string and key it decodes from bytes; from a `str` it checks none.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let event = EnvelopeSeed(guess).deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    (Kind::of(event.event_type.as_str()) == guess).then_some(event)
}

/// Decodes the envelope with `data.object` decoded as the seed's kind.
struct EnvelopeSeed(Kind);

impl<'de> serde::de::DeserializeSeed<'de> for EnvelopeSeed {
    type Value = Event;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Event, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for EnvelopeSeed {
    type Value = Event;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a Stripe event")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut id = None;
        let mut event_type = None;
        let mut created = None;
        let mut livemode = false;
        let mut api_version = None;
        let mut account = None;
        let mut data = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "id" => id = Some(map.next_value::<String>()?),
                "type" => event_type = Some(map.next_value::<String>()?),
                "created" => created = Some(map.next_value::<i64>()?),
                "livemode" => livemode = map.next_value::<Option<bool>>()?.unwrap_or_default(),
                "api_version" => api_version = map.next_value::<Option<String>>()?,
                "account" => account = map.next_value::<Option<String>>()?,
                "data" => data = Some(map.next_value_seed(DataSeed(self.0))?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let missing = |field| A::Error::missing_field(field);
        let event_type = event_type.ok_or_else(|| missing("type"))?;
        Ok(Event {
            id: id.ok_or_else(|| missing("id"))?,
            event_type: EventType::from(event_type),
            created: created.ok_or_else(|| missing("created"))?,
            livemode,
            api_version,
            account,
            data: data.ok_or_else(|| missing("data"))?,
        })
    }
}

/// Decodes `data` with its `object` as the seed's kind.
struct DataSeed(Kind);

impl<'de> serde::de::DeserializeSeed<'de> for DataSeed {
    type Value = EventData;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<EventData, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for DataSeed {
    type Value = EventData;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an event's data")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<EventData, A::Error> {
        let mut object = None;
        let mut previous_attributes = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "object" => {
                    object = Some(match self.0 {
                        Kind::Invoice => EventObject::Invoice(map.next_value()?),
                        Kind::Customer => EventObject::Customer(map.next_value()?),
                        Kind::InvoiceItem => EventObject::InvoiceItem(map.next_value()?),
                        Kind::CustomerBalanceTransaction => {
                            EventObject::CustomerBalanceTransaction(map.next_value()?)
                        }
                        Kind::Other => EventObject::Other(map.next_value()?),
                    });
                }
                "previous_attributes" => previous_attributes = map.next_value()?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(EventData {
            object: object.ok_or_else(|| A::Error::missing_field("object"))?,
            previous_attributes,
        })
    }
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

    /// The status of an invoice snapshot as Stripe spelled it (`draft`, `open`, `paid`,
    /// `void`, `uncollectible`, or a value this version does not know).
    pub fn invoice_status(&self) -> Option<&str> {
        self.as_invoice()
            .and_then(|invoice| invoice.status.as_ref())
            .map(|status| status.as_str())
    }

    /// The customer id (`cus_…`) of an invoice snapshot, expanded or not.
    pub fn invoice_customer_id(&self) -> Option<&str> {
        self.as_invoice()
            .and_then(|invoice| invoice.customer.as_ref())
            .map(|customer| customer.id())
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
        if let Some(event) = decode_guessed(bytes, Kind::guess(bytes)) {
            return Ok(event);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice_event(type_first: bool, event_type: &str) -> String {
        let object = r#"{"id":"in_1","object":"invoice","currency":"gbp","collection_method":"send_invoice","subtotal":100,"total":100,"amount_due":100,"amount_paid":0,"amount_remaining":100,"created":1}"#;
        let head = r#""id":"evt_1","object":"event","created":2"#;
        if type_first {
            format!(r#"{{"type":"{event_type}",{head},"data":{{"object":{object}}}}}"#)
        } else {
            format!("{{{head},\"data\":{{\"object\":{object}}},\n  \"type\": \"{event_type}\"\n}}")
        }
    }

    #[test]
    fn the_type_is_guessed_from_the_end_where_stripe_writes_it() {
        let guessed = invoice_event(false, "invoice.paid");
        assert_eq!(Kind::guess(guessed.as_bytes()), Kind::Invoice);
        assert!(decode_guessed(guessed.as_bytes(), Kind::Invoice).is_some());
        assert_eq!(Kind::guess(b"{}"), Kind::Other);
        assert_eq!(Kind::of("customer.subscription.updated"), Kind::Other);
    }

    #[test]
    fn any_field_order_and_a_wrong_guess_decode_the_same() {
        for type_first in [false, true] {
            let event =
                Event::from_slice(invoice_event(type_first, "invoice.paid").as_bytes()).unwrap();
            assert_eq!(event.data.object.id().as_deref(), Some("in_1"));
            assert!(event.data.object.as_invoice().is_some());
        }
        // An event type billbridge does not type keeps its snapshot raw, whatever the
        // guess said.
        let other = invoice_event(false, "invoice_payment.paid");
        assert!(decode_guessed(other.as_bytes(), Kind::Invoice).is_none());
        let event = Event::from_slice(other.as_bytes()).unwrap();
        assert!(matches!(event.data.object, EventObject::Other(_)));
        // A snapshot that is not what its type says is an error on both paths.
        let broken =
            invoice_event(false, "invoice.paid").replace(r#""total":100"#, r#""total":"x""#);
        assert!(Event::from_slice(broken.as_bytes()).is_err());
    }
}

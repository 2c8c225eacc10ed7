//! What the practice sells and how services are billed: the [`Catalogue`] of priced
//! items (looked up by key or by appointment slot type), [`BillingRate`]s flagged
//! *invoiced* or not with their payer, and [`Service`]s delivered under a rate. From
//! these it selects what is invoiceable, groups it per payer into invoice lines, splits
//! a service between insurer and client, and stamps the invoiced date.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::date::Date;
use super::invoice::{InvoiceDraft, InvoiceLine};
use super::money::{Money, MoneyError};
use super::party::{OrganisationId, PartyError, PatientId, PayerRef, host_id};
use crate::classify::{Classify, ErrorCategory};

host_id!(
    /// The key of a catalogue item, e.g. `"follow-up"`.
    CatalogueKey,
    "catalogue item"
);
host_id!(
    /// The host's id for a billing rate.
    RateId,
    "billing rate"
);
host_id!(
    /// The host's id for a delivered service.
    ServiceId,
    "service"
);

/// Line metadata key carrying the host's service id on lines built from services.
pub const SERVICE_ID_METADATA_KEY: &str = "service_id";

/// Suffix of the id given to the client's remainder of an insurance split.
pub const CLIENT_REMAINDER_SUFFIX: &str = "-self-pay";

/// Errors about the catalogue, billing rates and services.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// Two catalogue items share a key.
    #[error("catalogue key {key} is used twice")]
    DuplicateKey {
        /// The repeated key.
        key: CatalogueKey,
    },
    /// No catalogue item has this key.
    #[error("no catalogue item with key {key}")]
    UnknownItem {
        /// The key looked up.
        key: String,
    },
    /// Two billing rates share an id.
    #[error("billing rate {rate} is defined twice")]
    DuplicateRate {
        /// The repeated id.
        rate: RateId,
    },
    /// A service refers to a rate that is not defined.
    #[error("service {service} uses unknown billing rate {rate}")]
    UnknownRate {
        /// The service.
        service: ServiceId,
        /// The missing rate.
        rate: RateId,
    },
    /// A service id that is not among the services given.
    #[error("no service with id {service}")]
    UnknownService {
        /// The id looked up.
        service: ServiceId,
    },
    /// The insurer paid more than the service cost.
    #[error("insurer payment {insurer_payment} exceeds the service amount {amount}")]
    InsurerPaymentExceedsAmount {
        /// The service amount.
        amount: Money,
        /// The insurer's payment.
        insurer_payment: Money,
    },
    /// An insurer payment below zero.
    #[error("insurer payment {insurer_payment} is negative")]
    NegativeInsurerPayment {
        /// The insurer's payment.
        insurer_payment: Money,
    },
    /// The remainder of an insurance split must go onto an invoiced rate paid by the client.
    #[error("billing rate {rate} is not an invoiced client rate")]
    NotClientInvoicedRate {
        /// The rate given.
        rate: RateId,
    },
    /// The service was already invoiced.
    #[error("service {service} was already invoiced on {invoiced_on}")]
    AlreadyInvoiced {
        /// The service.
        service: ServiceId,
        /// When it was invoiced.
        invoiced_on: Date,
    },
    /// Amount arithmetic failed.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// A derived id is not a valid host id.
    #[error(transparent)]
    Id(#[from] PartyError),
}

impl Classify for CatalogueError {
    fn code(&self) -> &'static str {
        match self {
            CatalogueError::DuplicateKey { .. } => "duplicate_catalogue_key",
            CatalogueError::UnknownItem { .. } => "unknown_catalogue_item",
            CatalogueError::DuplicateRate { .. } => "duplicate_billing_rate",
            CatalogueError::UnknownRate { .. } => "unknown_billing_rate",
            CatalogueError::UnknownService { .. } => "unknown_service",
            CatalogueError::InsurerPaymentExceedsAmount { .. } => "insurer_payment_exceeds_amount",
            CatalogueError::NegativeInsurerPayment { .. } => "negative_insurer_payment",
            CatalogueError::NotClientInvoicedRate { .. } => "not_client_invoiced_rate",
            CatalogueError::AlreadyInvoiced { .. } => "already_invoiced",
            CatalogueError::Money(inner) => inner.code(),
            CatalogueError::Id(inner) => inner.code(),
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            CatalogueError::AlreadyInvoiced { .. } => ErrorCategory::InvalidState,
            _ => ErrorCategory::Validation,
        }
    }
}

/// A priced item the practice sells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    /// Unique key.
    pub key: CatalogueKey,
    /// Name shown on invoices.
    pub name: String,
    /// Price of one unit.
    pub unit_amount: Money,
    /// Stripe product id (`prod_…`) once synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_product: Option<String>,
    /// Stripe price id (`price_…`) once synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_price: Option<String>,
    /// The appointment slot type this item bills, e.g. "Follow-up (30 min)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_type: Option<String>,
}

impl CatalogueItem {
    /// An item with a name and price.
    pub fn new(key: CatalogueKey, name: impl Into<String>, unit_amount: Money) -> CatalogueItem {
        CatalogueItem {
            key,
            name: name.into(),
            unit_amount,
            stripe_product: None,
            stripe_price: None,
            slot_type: None,
        }
    }

    /// Sets the Stripe product id.
    pub fn with_stripe_product(mut self, product: impl Into<String>) -> CatalogueItem {
        self.stripe_product = Some(product.into());
        self
    }

    /// Sets the Stripe price id.
    pub fn with_stripe_price(mut self, price: impl Into<String>) -> CatalogueItem {
        self.stripe_price = Some(price.into());
        self
    }

    /// Sets the appointment slot type.
    pub fn with_slot_type(mut self, slot_type: impl Into<String>) -> CatalogueItem {
        self.slot_type = Some(slot_type.into());
        self
    }
}

/// The practice's items, unique by key, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<CatalogueItem>", into = "Vec<CatalogueItem>")]
pub struct Catalogue {
    items: Vec<CatalogueItem>,
}

impl Catalogue {
    /// A catalogue of `items`.
    ///
    /// # Errors
    /// [`CatalogueError::DuplicateKey`].
    pub fn new(
        items: impl IntoIterator<Item = CatalogueItem>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut catalogue = Catalogue::default();
        for item in items {
            catalogue.insert(item)?;
        }
        Ok(catalogue)
    }

    /// Adds an item.
    ///
    /// # Errors
    /// [`CatalogueError::DuplicateKey`] when the key is taken.
    pub fn insert(&mut self, item: CatalogueItem) -> Result<(), CatalogueError> {
        if self.items.iter().any(|existing| existing.key == item.key) {
            return Err(CatalogueError::DuplicateKey { key: item.key });
        }
        self.items.push(item);
        Ok(())
    }

    /// The item with `key`.
    pub fn get(&self, key: &str) -> Option<&CatalogueItem> {
        self.items.iter().find(|item| item.key.as_str() == key)
    }

    /// The item with `key`, or an error naming it.
    ///
    /// # Errors
    /// [`CatalogueError::UnknownItem`].
    pub fn require(&self, key: &str) -> Result<&CatalogueItem, CatalogueError> {
        self.get(key).ok_or_else(|| CatalogueError::UnknownItem {
            key: key.to_owned(),
        })
    }

    /// The first item billing appointment slot type `slot_type`.
    pub fn for_slot_type(&self, slot_type: &str) -> Option<&CatalogueItem> {
        self.items
            .iter()
            .find(|item| item.slot_type.as_deref() == Some(slot_type))
    }

    /// Every item, in order.
    pub fn items(&self) -> &[CatalogueItem] {
        &self.items
    }
}

impl TryFrom<Vec<CatalogueItem>> for Catalogue {
    type Error = CatalogueError;

    fn try_from(items: Vec<CatalogueItem>) -> Result<Self, Self::Error> {
        Catalogue::new(items)
    }
}

impl From<Catalogue> for Vec<CatalogueItem> {
    fn from(catalogue: Catalogue) -> Self {
        catalogue.items
    }
}

/// Who a billing rate's services are billed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatePayer {
    /// An insurer pays.
    Insurance,
    /// The client (patient) pays.
    Client,
}

crate::vocabulary!(RatePayer, "rate payer", "unknown_rate_payer", {
    RatePayer::Insurance => "insurance",
    RatePayer::Client => "client",
});

/// A billing rate of the host's: services under a rate flagged `invoiced` become
/// invoice lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingRate {
    /// Host id.
    pub id: RateId,
    /// Name, used as the line description (e.g. "General Service (Self-Pay)").
    pub name: String,
    /// Whether services under this rate are invoiced.
    pub invoiced: bool,
    /// Who pays.
    pub payer: RatePayer,
}

impl BillingRate {
    /// A billing rate.
    pub fn new(
        id: RateId,
        name: impl Into<String>,
        invoiced: bool,
        payer: RatePayer,
    ) -> BillingRate {
        BillingRate {
            id,
            name: name.into(),
            invoiced,
            payer,
        }
    }
}

/// The host's billing rates, unique by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<BillingRate>", into = "Vec<BillingRate>")]
pub struct BillingRates {
    rates: Vec<BillingRate>,
}

impl BillingRates {
    /// A table of `rates`.
    ///
    /// # Errors
    /// [`CatalogueError::DuplicateRate`].
    pub fn new(
        rates: impl IntoIterator<Item = BillingRate>,
    ) -> Result<BillingRates, CatalogueError> {
        let mut table = BillingRates::default();
        for rate in rates {
            if table.get(&rate.id).is_some() {
                return Err(CatalogueError::DuplicateRate { rate: rate.id });
            }
            table.rates.push(rate);
        }
        Ok(table)
    }

    /// The rate with `id`.
    pub fn get(&self, id: &RateId) -> Option<&BillingRate> {
        self.rates.iter().find(|rate| &rate.id == id)
    }

    /// Every rate, in order.
    pub fn rates(&self) -> &[BillingRate] {
        &self.rates
    }
}

impl TryFrom<Vec<BillingRate>> for BillingRates {
    type Error = CatalogueError;

    fn try_from(rates: Vec<BillingRate>) -> Result<Self, Self::Error> {
        BillingRates::new(rates)
    }
}

impl From<BillingRates> for Vec<BillingRate> {
    fn from(table: BillingRates) -> Self {
        table.rates
    }
}

/// A service delivered to a patient under a billing rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Host id.
    pub id: ServiceId,
    /// Who received it.
    pub patient: PatientId,
    /// When.
    pub date: Date,
    /// Under which rate.
    pub rate: RateId,
    /// What it costs.
    pub amount: Money,
    /// What an insurer paid towards it (recorded, never invoiced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurer_payment: Option<Money>,
    /// When it was invoiced; `None` until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoiced_on: Option<Date>,
}

/// The result of [`Service::split_insurance`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsuranceSplit {
    /// The original service, now for the insurer's part only, with the insurer payment
    /// recorded.
    pub insurer_service: Service,
    /// What the insurer paid (recorded, not invoiced).
    pub insurer_part: Money,
    /// What the client owes: amount − insurer payment (never negative).
    pub client_part: Money,
    /// The client's remainder as a new service on the client rate, ready to invoice;
    /// `None` when the insurer paid everything.
    pub client_service: Option<Service>,
}

impl Service {
    /// A service not yet invoiced, with no insurer payment.
    pub fn new(
        id: ServiceId,
        patient: PatientId,
        date: Date,
        rate: RateId,
        amount: Money,
    ) -> Service {
        Service {
            id,
            patient,
            date,
            rate,
            amount,
            insurer_payment: None,
            invoiced_on: None,
        }
    }

    /// What the client owes on this service: amount − insurer payment.
    ///
    /// # Errors
    /// [`CatalogueError::InsurerPaymentExceedsAmount`],
    /// [`CatalogueError::NegativeInsurerPayment`], or a money error on a currency mismatch.
    pub fn client_part(&self) -> Result<Money, CatalogueError> {
        match self.insurer_payment {
            None => Ok(self.amount),
            Some(insurer_payment) => client_remainder(self.amount, insurer_payment),
        }
    }

    /// Records an insurer payment of `insurer_payment` and moves the client's remainder
    /// onto `client_rate` as a new service (id = this id + `"-self-pay"`), as a biller
    /// does when insurance pays part of a session. The original service keeps the
    /// insurer's part as its amount, so nothing is counted twice.
    ///
    /// # Errors
    /// [`CatalogueError::InsurerPaymentExceedsAmount`] when I > A,
    /// [`CatalogueError::NegativeInsurerPayment`],
    /// [`CatalogueError::NotClientInvoicedRate`] when `client_rate` is not an invoiced
    /// client rate, [`CatalogueError::AlreadyInvoiced`], or a money error.
    pub fn split_insurance(
        &self,
        insurer_payment: Money,
        client_rate: &BillingRate,
    ) -> Result<InsuranceSplit, CatalogueError> {
        if let Some(invoiced_on) = self.invoiced_on {
            return Err(CatalogueError::AlreadyInvoiced {
                service: self.id.clone(),
                invoiced_on,
            });
        }
        if !client_rate.invoiced || client_rate.payer != RatePayer::Client {
            return Err(CatalogueError::NotClientInvoicedRate {
                rate: client_rate.id.clone(),
            });
        }
        let client_part = client_remainder(self.amount, insurer_payment)?;
        let insurer_service = Service {
            amount: insurer_payment,
            insurer_payment: Some(insurer_payment),
            ..self.clone()
        };
        let client_service = if client_part.is_zero() {
            None
        } else {
            Some(Service::new(
                ServiceId::new(format!("{}{CLIENT_REMAINDER_SUFFIX}", self.id))?,
                self.patient.clone(),
                self.date,
                client_rate.id.clone(),
                client_part,
            ))
        };
        Ok(InsuranceSplit {
            insurer_service,
            insurer_part: insurer_payment,
            client_part,
            client_service,
        })
    }

    /// Stamps the invoiced date.
    ///
    /// # Errors
    /// [`CatalogueError::AlreadyInvoiced`].
    pub fn mark_invoiced(&mut self, on: Date) -> Result<(), CatalogueError> {
        if let Some(invoiced_on) = self.invoiced_on {
            return Err(CatalogueError::AlreadyInvoiced {
                service: self.id.clone(),
                invoiced_on,
            });
        }
        self.invoiced_on = Some(on);
        Ok(())
    }

    /// The invoice line for this service: the rate's name, the client part, the date,
    /// and the service id in line metadata.
    ///
    /// # Errors
    /// As [`Service::client_part`].
    pub fn to_line(&self, rate: &BillingRate) -> Result<InvoiceLine, CatalogueError> {
        Ok(
            InvoiceLine::ad_hoc(rate.name.clone(), self.client_part()?, 1)
                .on(self.date)
                .with_metadata(SERVICE_ID_METADATA_KEY, self.id.as_str()),
        )
    }
}

fn client_remainder(amount: Money, insurer_payment: Money) -> Result<Money, CatalogueError> {
    if insurer_payment.is_negative() {
        return Err(CatalogueError::NegativeInsurerPayment { insurer_payment });
    }
    let remainder = amount.checked_sub(insurer_payment)?;
    if remainder.is_negative() {
        return Err(CatalogueError::InsurerPaymentExceedsAmount {
            amount,
            insurer_payment,
        });
    }
    Ok(remainder)
}

/// Invoiceable services of one payer, as invoice lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceGroup {
    /// Who pays them.
    pub payer: PayerRef,
    /// The services, in the order given.
    pub services: Vec<ServiceId>,
    /// The patients they were delivered to, without repeats, in order.
    pub patients: Vec<PatientId>,
    /// One line per service.
    pub lines: Vec<InvoiceLine>,
}

impl InvoiceGroup {
    /// A draft with these lines for this payer; the subject is the patient when the
    /// group covers exactly one.
    pub fn to_draft(&self) -> InvoiceDraft {
        let mut draft = InvoiceDraft::for_payer(self.payer.clone()).lines(self.lines.clone());
        if let [patient] = self.patients.as_slice() {
            draft.subject = Some(patient.clone());
        }
        draft
    }
}

/// The patients' default payers from host id pairs (patient id, organisation id), as
/// hosts and bindings hand them over (a dict, a JS object), each id checked.
///
/// # Errors
/// The [`PartyError`] of the first id that is not a valid host id.
pub fn default_payers<P, O>(
    pairs: impl IntoIterator<Item = (P, O)>,
) -> Result<BTreeMap<PatientId, OrganisationId>, PartyError>
where
    P: Into<String>,
    O: Into<String>,
{
    pairs
        .into_iter()
        .map(|(patient, organisation)| {
            Ok((PatientId::new(patient)?, OrganisationId::new(organisation)?))
        })
        .collect()
}

/// Who is billed for `service` under `rate`, the rule billbridge applies everywhere: a
/// client rate bills the patient; an insurance rate bills the patient's default payer
/// (their insurer) when `default_payers` names one, and the patient otherwise.
pub fn payer_for_service(
    service: &Service,
    rate: &BillingRate,
    default_payers: &BTreeMap<PatientId, OrganisationId>,
) -> PayerRef {
    match (rate.payer, default_payers.get(&service.patient)) {
        (RatePayer::Insurance, Some(organisation)) => PayerRef::Organisation(organisation.clone()),
        _ => PayerRef::Patient(service.patient.clone()),
    }
}

/// [`select_invoiceable`] with billbridge's payer rule ([`payer_for_service`]): the
/// groups a host raises invoices from, given its patients' default payers.
///
/// # Errors
/// As [`select_invoiceable`].
pub fn invoiceable_by_payer(
    services: &[Service],
    rates: &BillingRates,
    default_payers: &BTreeMap<PatientId, OrganisationId>,
) -> Result<Vec<InvoiceGroup>, CatalogueError> {
    select_invoiceable(services, rates, |service, rate| {
        payer_for_service(service, rate, default_payers)
    })
}

/// Selects what is invoiceable — services under an invoiced rate, not yet invoiced — and
/// groups it per payer (ordered by payer) into invoice lines. `payer_for` says who pays a
/// service (typically the patient, or the patient's default payer).
///
/// # Errors
/// [`CatalogueError::UnknownRate`] for a service whose rate is not in `rates`, or a
/// client-part error.
pub fn select_invoiceable(
    services: &[Service],
    rates: &BillingRates,
    payer_for: impl Fn(&Service, &BillingRate) -> PayerRef,
) -> Result<Vec<InvoiceGroup>, CatalogueError> {
    let mut groups: BTreeMap<PayerRef, InvoiceGroup> = BTreeMap::new();
    for service in services {
        let rate = rates
            .get(&service.rate)
            .ok_or_else(|| CatalogueError::UnknownRate {
                service: service.id.clone(),
                rate: service.rate.clone(),
            })?;
        if !rate.invoiced || service.invoiced_on.is_some() {
            continue;
        }
        let line = service.to_line(rate)?;
        let payer = payer_for(service, rate);
        let group = groups.entry(payer.clone()).or_insert_with(|| InvoiceGroup {
            payer,
            services: Vec::new(),
            patients: Vec::new(),
            lines: Vec::new(),
        });
        group.services.push(service.id.clone());
        if !group.patients.contains(&service.patient) {
            group.patients.push(service.patient.clone());
        }
        group.lines.push(line);
    }
    Ok(groups.into_values().collect())
}

/// Stamps `on` as the invoiced date of every service in `ids`, all or nothing.
///
/// # Errors
/// [`CatalogueError::UnknownService`] or [`CatalogueError::AlreadyInvoiced`]; then no
/// service is changed.
pub fn stamp_invoiced(
    services: &mut [Service],
    ids: &[ServiceId],
    on: Date,
) -> Result<(), CatalogueError> {
    let wanted: HashSet<&ServiceId> = ids.iter().collect();
    for id in ids {
        let service = services
            .iter()
            .find(|service| &service.id == id)
            .ok_or_else(|| CatalogueError::UnknownService {
                service: id.clone(),
            })?;
        if let Some(invoiced_on) = service.invoiced_on {
            return Err(CatalogueError::AlreadyInvoiced {
                service: id.clone(),
                invoiced_on,
            });
        }
    }
    for service in services
        .iter_mut()
        .filter(|service| wanted.contains(&service.id))
    {
        service.invoiced_on = Some(on);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> CatalogueKey {
        CatalogueKey::new(text).unwrap()
    }

    fn rate(id: &str) -> RateId {
        RateId::new(id).unwrap()
    }

    fn patient(id: &str) -> PatientId {
        PatientId::new(id).unwrap()
    }

    fn day() -> Date {
        Date::parse("2026-11-21").unwrap()
    }

    fn practice_catalogue() -> Catalogue {
        Catalogue::new([
            CatalogueItem::new(
                key("initial-assessment"),
                "Initial assessment",
                Money::gbp(7500),
            )
            .with_slot_type("Initial assessment (45 min)"),
            CatalogueItem::new(key("follow-up"), "Follow-up session", Money::gbp(5000))
                .with_slot_type("Follow-up (30 min)"),
            CatalogueItem::new(
                key("blood-test-kit"),
                "Home blood test kit",
                Money::gbp(3500),
            ),
            CatalogueItem::new(key("postage"), "Postage", Money::gbp(450)),
        ])
        .unwrap()
    }

    fn practice_rates() -> BillingRates {
        BillingRates::new([
            BillingRate::new(
                rate("RATE-GEN"),
                "General Service",
                false,
                RatePayer::Insurance,
            ),
            BillingRate::new(
                rate("RATE-GEN-SELF"),
                "General Service (Self-Pay)",
                true,
                RatePayer::Client,
            ),
            BillingRate::new(rate("RATE-GROUP"), "Group Session", true, RatePayer::Client),
        ])
        .unwrap()
    }

    fn service(id: &str, who: &str, rate_id: &str, amount: i64) -> Service {
        Service::new(
            ServiceId::new(id).unwrap(),
            patient(who),
            day(),
            rate(rate_id),
            Money::gbp(amount),
        )
    }

    #[test]
    fn catalogue_looks_up_by_key_and_slot_type() {
        let catalogue = practice_catalogue();
        assert_eq!(
            catalogue.get("postage").unwrap().unit_amount,
            Money::gbp(450)
        );
        assert_eq!(
            catalogue.for_slot_type("Follow-up (30 min)").unwrap().key,
            key("follow-up")
        );
        assert!(catalogue.for_slot_type("Massage (60 min)").is_none());
        assert_eq!(
            catalogue.require("massage").unwrap_err().code(),
            "unknown_catalogue_item"
        );
        let duplicate = Catalogue::new([
            CatalogueItem::new(key("postage"), "Postage", Money::gbp(450)),
            CatalogueItem::new(key("postage"), "Postage again", Money::gbp(500)),
        ]);
        assert_eq!(duplicate.unwrap_err().code(), "duplicate_catalogue_key");
    }

    #[test]
    fn catalogue_round_trips_through_json_and_rejects_duplicates() {
        let catalogue = practice_catalogue();
        let json = serde_json::to_string(&catalogue).unwrap();
        assert_eq!(serde_json::from_str::<Catalogue>(&json).unwrap(), catalogue);
        let doubled = format!(
            "[{0},{0}]",
            serde_json::to_string(&catalogue.items()[0]).unwrap()
        );
        assert!(serde_json::from_str::<Catalogue>(&doubled).is_err());
    }

    #[test]
    fn an_insurance_rate_bills_the_default_payer_and_a_client_rate_the_patient() {
        let rates = practice_rates();
        let northwind = OrganisationId::new("ORG-1").unwrap();
        let default_payers = BTreeMap::from([(patient("P-1002"), northwind.clone())]);
        let insured = service("S-1", "P-1002", "RATE-GEN", 7500);
        let self_pay = service("S-2", "P-1002", "RATE-GEN-SELF", 4000);
        let no_insurer = service("S-3", "P-1004", "RATE-GEN", 7500);
        let payer = |service: &Service| {
            let rate = rates.get(&service.rate).unwrap();
            payer_for_service(service, rate, &default_payers)
        };
        assert_eq!(payer(&insured), PayerRef::Organisation(northwind));
        assert_eq!(payer(&self_pay), PayerRef::Patient(patient("P-1002")));
        assert_eq!(payer(&no_insurer), PayerRef::Patient(patient("P-1004")));
    }

    #[test]
    fn only_uninvoiced_services_under_invoiced_rates_are_selected_per_payer() {
        let mut invoiced = service("S-3", "P-1003", "RATE-GROUP", 2000);
        invoiced.invoiced_on = Some(day());
        let services = vec![
            service("S-1", "P-1001", "RATE-GROUP", 2000),
            service("S-2", "P-1001", "RATE-GEN", 12_000),
            invoiced,
            service("S-4", "P-1004", "RATE-GEN-SELF", 4000),
            service("S-5", "P-1001", "RATE-GEN-SELF", 1500),
        ];
        let groups = select_invoiceable(&services, &practice_rates(), |service, _| {
            PayerRef::Patient(service.patient.clone())
        })
        .unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].payer, PayerRef::Patient(patient("P-1001")));
        assert_eq!(
            groups[0].services,
            vec![
                ServiceId::new("S-1").unwrap(),
                ServiceId::new("S-5").unwrap()
            ]
        );
        assert_eq!(groups[0].lines[0].description, "Group Session");
        assert_eq!(groups[0].lines[1].unit_amount, Money::gbp(1500));
        assert_eq!(
            groups[0].lines[1].metadata.get(SERVICE_ID_METADATA_KEY),
            Some("S-5")
        );
        let draft = groups[0].to_draft();
        assert_eq!(draft.subject, Some(patient("P-1001")));
        assert_eq!(draft.validate().unwrap(), Money::gbp(3500));
        assert_eq!(groups[1].payer, PayerRef::Patient(patient("P-1004")));
    }

    #[test]
    fn unknown_rate_is_an_error() {
        let services = vec![service("S-1", "P-1001", "RATE-NONE", 100)];
        let error = select_invoiceable(&services, &practice_rates(), |service, _| {
            PayerRef::Patient(service.patient.clone())
        })
        .unwrap_err();
        assert_eq!(error.code(), "unknown_billing_rate");
    }

    #[test]
    fn insurance_split_moves_the_remainder_to_self_pay() {
        let rates = practice_rates();
        let session = service("S-9", "P-1007", "RATE-GEN", 12_000);
        let self_pay = rates.get(&rate("RATE-GEN-SELF")).unwrap();
        let split = session.split_insurance(Money::gbp(8000), self_pay).unwrap();
        assert_eq!(split.insurer_part, Money::gbp(8000));
        assert_eq!(split.client_part, Money::gbp(4000));
        assert_eq!(split.insurer_service.amount, Money::gbp(8000));
        assert_eq!(
            split.insurer_service.insurer_payment,
            Some(Money::gbp(8000))
        );
        let remainder = split.client_service.clone().unwrap();
        assert_eq!(remainder.id.as_str(), "S-9-self-pay");
        assert_eq!(remainder.rate, rate("RATE-GEN-SELF"));
        assert_eq!(remainder.amount, Money::gbp(4000));

        let mut services = vec![split.insurer_service, remainder];
        let groups = select_invoiceable(&services, &rates, |service, _| {
            PayerRef::Patient(service.patient.clone())
        })
        .unwrap();
        assert_eq!(groups.len(), 1, "the insurer's part is not invoiced");
        assert_eq!(groups[0].lines[0].description, "General Service (Self-Pay)");
        assert_eq!(groups[0].to_draft().validate().unwrap(), Money::gbp(4000));

        stamp_invoiced(&mut services, &groups[0].services, day()).unwrap();
        assert_eq!(services[1].invoiced_on, Some(day()));
        assert_eq!(services[0].invoiced_on, None);
    }

    #[test]
    fn insurer_paying_everything_leaves_nothing_to_invoice() {
        let rates = practice_rates();
        let session = service("S-9", "P-1007", "RATE-GEN", 12_000);
        let self_pay = rates.get(&rate("RATE-GEN-SELF")).unwrap();
        let split = session
            .split_insurance(Money::gbp(12_000), self_pay)
            .unwrap();
        assert_eq!(split.client_part, Money::gbp(0));
        assert!(split.client_service.is_none());
    }

    #[test]
    fn insurance_split_errors_are_typed() {
        let rates = practice_rates();
        let session = service("S-9", "P-1007", "RATE-GEN", 12_000);
        let self_pay = rates.get(&rate("RATE-GEN-SELF")).unwrap();
        let error = session
            .split_insurance(Money::gbp(12_001), self_pay)
            .unwrap_err();
        assert_eq!(error.code(), "insurer_payment_exceeds_amount");
        let error = session
            .split_insurance(Money::gbp(-1), self_pay)
            .unwrap_err();
        assert_eq!(error.code(), "negative_insurer_payment");
        let error = session
            .split_insurance(Money::usd(100), self_pay)
            .unwrap_err();
        assert_eq!(error.code(), "currency_mismatch");
        let insurer_rate = rates.get(&rate("RATE-GEN")).unwrap();
        let error = session
            .split_insurance(Money::gbp(100), insurer_rate)
            .unwrap_err();
        assert_eq!(error.code(), "not_client_invoiced_rate");
        let mut recorded = session.clone();
        recorded.insurer_payment = Some(Money::gbp(13_000));
        assert_eq!(
            recorded.client_part().unwrap_err().code(),
            "insurer_payment_exceeds_amount"
        );
        recorded.insurer_payment = Some(Money::gbp(2000));
        assert_eq!(recorded.client_part().unwrap(), Money::gbp(10_000));
    }

    #[test]
    fn stamping_is_all_or_nothing() {
        let mut services = vec![
            service("S-1", "P-1001", "RATE-GROUP", 2000),
            service("S-2", "P-1001", "RATE-GROUP", 2000),
        ];
        services[1].mark_invoiced(day()).unwrap();
        let ids = [
            ServiceId::new("S-1").unwrap(),
            ServiceId::new("S-2").unwrap(),
        ];
        let error = stamp_invoiced(&mut services, &ids, day()).unwrap_err();
        assert_eq!(error.code(), "already_invoiced");
        assert_eq!(error.category(), ErrorCategory::InvalidState);
        assert_eq!(
            services[0].invoiced_on, None,
            "nothing stamped after an error"
        );
        let missing = [ServiceId::new("S-404").unwrap()];
        assert_eq!(
            stamp_invoiced(&mut services, &missing, day())
                .unwrap_err()
                .code(),
            "unknown_service"
        );
        assert!(services[1].mark_invoiced(day()).is_err());
    }
}

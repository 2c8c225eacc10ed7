//! One working day at Harbour Health (`examples/data/practice_day.json`) played through
//! `Billbridge`: the scenario loaded into domain objects ([`Scenario`]) and its ten steps
//! played in order ([`play`]), returning a [`DayReport`] with what each step did, every
//! invoice with its amounts, the end-of-day reports and the CSV files written.
//!
//! The quickstart prints the report; `tests/practice_day.rs` includes this same file and
//! asserts on it, so the README's main command and the integration test cannot drift.

// The binary prints part of the report and the test asserts on the rest: each leaves
// some of it unread.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use billbridge::domain::catalogue::{
    BillingRate, BillingRates, Catalogue, CatalogueItem, CatalogueKey, InsuranceSplit, RateId,
    RatePayer, Service, ServiceId,
};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{
    AppointmentContext, AppointmentId, InvoiceDraft, InvoiceId, InvoiceLine, Location,
};
use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{
    LocationId, Organisation, OrganisationId, Party, Patient, PatientId, PayerRef, Practitioner,
    PractitionerId,
};
use billbridge::domain::status::InvoiceStatus;
use billbridge::report::{self, Column, CsvOptions, DateRange, Payment, PaymentColumn};
use billbridge::store::SyncStore;
use billbridge::stripe::client::{PayInvoice, RequestContext, StripeClient};
use billbridge::stripe::transport::Method;
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{
    BalanceAdjustment, Billbridge, CustomerRecord, IdempotencySecret, InvoicePreview,
    InvoiceRecord, PaidOutside, PaymentMethod, Raise, ServiceBilling, ServiceInvoiceOutcome,
    WebhookChange,
};
use billbridge_mock::MockStripe;
use serde::Deserialize;

/// The practice day shipped with the repository.
pub const SCENARIO_JSON: &str = include_str!("../data/practice_day.json");

/// The idempotency secret of the mock practice. A real host keeps its own in its
/// secret store; it only has to stay the same between runs against one account.
pub const MOCK_IDEMPOTENCY_SECRET: &str = "harbour-health-idempotency-secret";

/// The metadata keys shown as report columns next to the amounts.
pub const PATIENT_NAME: &str = "patient_name";
/// See [`PATIENT_NAME`].
pub const APPOINTMENT_PRACTITIONER: &str = "appointment_practitioner";

/// Why the day could not be played.
#[derive(Debug, thiserror::Error)]
pub enum DayError {
    /// The scenario file is not JSON of the expected shape.
    #[error("the practice day data is not in the expected shape")]
    Json(#[from] serde_json::Error),
    /// The scenario refers to something it does not define.
    #[error("the practice day data has no {what} {id}")]
    Missing {
        /// What kind of thing (`patient`, `catalogue item`…).
        what: &'static str,
        /// The id it was looked up by.
        id: String,
    },
    /// A billbridge call failed.
    #[error(transparent)]
    Billbridge(#[from] billbridge::Error),
    /// Writing a CSV file failed.
    #[error("writing {} failed", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A step of the day failed.
    #[error("step {step} of the practice day failed")]
    Step {
        /// The step (1–10).
        step: u32,
        /// Why.
        #[source]
        source: Box<DayError>,
    },
    /// Billbridge answered, but not as the day expects (a bug worth reporting).
    #[error("step {step}: {problem}")]
    Unexpected {
        /// The step of the day.
        step: u32,
        /// What was off.
        problem: String,
    },
}

impl DayError {
    fn missing(what: &'static str, id: &str) -> DayError {
        DayError::Missing {
            what,
            id: id.to_owned(),
        }
    }
}

/// Module errors of billbridge reach the day through its top-level error.
macro_rules! through_billbridge_error {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for DayError {
            fn from(error: $error) -> DayError {
                DayError::Billbridge(billbridge::Error::from(error))
            }
        })*
    };
}

through_billbridge_error!(
    billbridge::domain::party::PartyError,
    billbridge::domain::catalogue::CatalogueError,
    billbridge::domain::money::MoneyError,
    billbridge::domain::date::DateError,
    billbridge::domain::invoice::InvoiceError,
    billbridge::domain::metadata::MetadataError,
    billbridge::report::ReportError,
    billbridge::stripe::error::StripeError,
    billbridge::sync::SyncError,
    billbridge::stripe::webhook::WebhookError,
);

// The file's shape. Amounts are integer minor units (pence).

#[derive(Deserialize)]
struct DayFile {
    practice: PracticeData,
    practitioners: Vec<NamedData>,
    locations: Vec<NamedData>,
    catalogue: Vec<CatalogueData>,
    billing_rates: Vec<RateData>,
    organisations: Vec<OrganisationData>,
    patients: Vec<PatientData>,
    appointments: Vec<Appointment>,
    services: Vec<ServiceData>,
    events_of_the_day: Vec<EventData>,
}

#[derive(Deserialize)]
struct PracticeData {
    name: String,
    currency: String,
    metadata_fields_off: Vec<String>,
    default_days_until_due: u32,
}

#[derive(Deserialize)]
struct NamedData {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct CatalogueData {
    key: String,
    name: String,
    unit_amount: i64,
    slot_type: Option<String>,
}

#[derive(Deserialize)]
struct RateData {
    id: String,
    name: String,
    invoiced: bool,
    payer: String,
}

#[derive(Deserialize)]
struct OrganisationData {
    id: String,
    name: String,
    email: String,
}

#[derive(Deserialize)]
struct PatientData {
    id: String,
    given_name: String,
    family_name: String,
    date_of_birth: String,
    gender: String,
    mobile: String,
    email: String,
    postcode: String,
    registered_practitioner: String,
    default_payer: Option<String>,
}

/// One appointment of the day, as the host's diary holds it.
#[derive(Debug, Clone, Deserialize)]
pub struct Appointment {
    /// The host's id (`APT-2`).
    pub id: String,
    /// The patient's scenario id.
    pub patient: String,
    /// The practitioner's scenario id.
    pub practitioner: String,
    /// The location's scenario id.
    pub location: String,
    /// The slot type, which picks the catalogue item.
    pub slot_type: String,
    /// `attended`, `missed_late_notice`, `cancelled_after_invoicing`.
    pub status: String,
    /// What was paid in advance, in minor units.
    #[serde(default)]
    pub prepaid: Option<i64>,
}

#[derive(Deserialize)]
struct ServiceData {
    id: String,
    patient: String,
    rate: String,
    amount: i64,
    insurer_paid: i64,
    client_rate: String,
}

#[derive(Deserialize)]
struct EventData {
    step: u32,
    what: String,
}

/// A session billed on a rate rather than per appointment, with what the insurer paid.
#[derive(Debug, Clone)]
pub struct RatedService {
    /// The service as delivered (its id carries the run suffix).
    pub service: Service,
    /// What the insurer paid towards it.
    pub insurer_paid: Money,
    /// The client rate the remainder moves to.
    pub client_rate: RateId,
}

/// The practice day as domain objects. Host ids (patients, organisation, invoices,
/// services, balance adjustments) carry the run suffix, if any, so that a run against a
/// real Stripe test account never collides with an earlier run; the maps are keyed by the
/// ids of the file.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The practice's name.
    pub practice: String,
    /// The practice's currency.
    pub currency: Currency,
    /// Days a sent invoice gives the payer.
    pub days_until_due: u32,
    /// The metadata policy: the practice's fields with the switched-off ones removed.
    pub policy: MetadataPolicy,
    /// The metadata fields the practice keeps out of Stripe.
    pub metadata_fields_off: Vec<String>,
    /// What the practice sells.
    pub catalogue: Catalogue,
    /// The billing rates.
    pub rates: BillingRates,
    /// Practitioners by file id.
    pub practitioners: BTreeMap<String, Practitioner>,
    /// Locations by file id.
    pub locations: BTreeMap<String, Location>,
    /// The insurer.
    pub organisation: Organisation,
    /// Patients by file id.
    pub patients: BTreeMap<String, Patient>,
    /// Appointments by id.
    pub appointments: BTreeMap<String, Appointment>,
    /// Rate-billed services.
    pub services: Vec<RatedService>,
    /// Each step's description, by step number.
    pub steps: BTreeMap<u32, String>,
    run_suffix: Option<String>,
}

impl Scenario {
    /// The practice day shipped with the repository, host ids as in the file.
    ///
    /// # Errors
    /// As [`Scenario::parse`].
    pub fn shipped() -> Result<Scenario, DayError> {
        Scenario::parse(SCENARIO_JSON, None)
    }

    /// Reads a practice day from `json`; with `run_suffix`, every host id gets `-suffix`
    /// appended.
    ///
    /// # Errors
    /// [`DayError::Json`] for a file of another shape, [`DayError::Missing`] for a
    /// reference to something the file does not define, and billbridge's validation
    /// errors (bad ids, currency, dates, metadata field names).
    pub fn parse(json: &str, run_suffix: Option<&str>) -> Result<Scenario, DayError> {
        let file: DayFile = serde_json::from_str(json)?;
        let run_suffix = run_suffix.map(str::to_owned);
        let host = |id: &str| match &run_suffix {
            Some(suffix) => format!("{id}-{suffix}"),
            None => id.to_owned(),
        };
        let currency = Currency::new(&file.practice.currency)?;
        let practitioners = file
            .practitioners
            .iter()
            .map(|p| {
                Ok((
                    p.id.clone(),
                    Practitioner::new(PractitionerId::new(&p.id)?, &p.name),
                ))
            })
            .collect::<Result<BTreeMap<_, _>, DayError>>()?;
        let locations = file
            .locations
            .iter()
            .map(|l| {
                Ok((
                    l.id.clone(),
                    Location::new(LocationId::new(&l.id)?, &l.name),
                ))
            })
            .collect::<Result<BTreeMap<_, _>, DayError>>()?;
        let mut items = Vec::new();
        for item in &file.catalogue {
            let mut entry = CatalogueItem::new(
                CatalogueKey::new(&item.key)?,
                &item.name,
                Money::new(item.unit_amount, currency),
            );
            if let Some(slot) = &item.slot_type {
                entry = entry.with_slot_type(slot);
            }
            items.push(entry);
        }
        let catalogue = Catalogue::new(items)?;
        let mut rates = Vec::new();
        for rate in &file.billing_rates {
            let payer = match rate.payer.as_str() {
                "insurance" => RatePayer::Insurance,
                "client" => RatePayer::Client,
                other => return Err(DayError::missing("rate payer", other)),
            };
            rates.push(BillingRate::new(
                RateId::new(&rate.id)?,
                &rate.name,
                rate.invoiced,
                payer,
            ));
        }
        let rates = BillingRates::new(rates)?;
        let organisation = file
            .organisations
            .first()
            .ok_or_else(|| DayError::missing("organisation", "(first)"))?;
        let organisation = Organisation::new(
            OrganisationId::new(host(&organisation.id))?,
            &organisation.name,
        )
        .with_email(&organisation.email);
        let mut patients = BTreeMap::new();
        for p in &file.patients {
            let registered = practitioners
                .get(&p.registered_practitioner)
                .ok_or_else(|| DayError::missing("practitioner", &p.registered_practitioner))?;
            let mut patient =
                Patient::new(PatientId::new(host(&p.id))?, &p.given_name, &p.family_name)
                    .with_date_of_birth(Date::parse(&p.date_of_birth)?)
                    .with_gender(p.gender.as_str())
                    .with_mobile(&p.mobile)
                    .with_email(&p.email)
                    .with_postcode(&p.postcode)
                    .with_registered_practitioner(registered.clone());
            if let Some(payer) = &p.default_payer {
                patient = patient.with_default_payer(OrganisationId::new(host(payer))?);
            }
            patients.insert(p.id.clone(), patient);
        }
        let mut services = Vec::new();
        for s in &file.services {
            let patient = patients
                .get(&s.patient)
                .ok_or_else(|| DayError::missing("patient", &s.patient))?;
            services.push(RatedService {
                // The service date is the day it is billed: set when the day is played.
                service: Service::new(
                    ServiceId::new(host(&s.id))?,
                    patient.id.clone(),
                    Date::from_unix_days(0)?,
                    RateId::new(&s.rate)?,
                    Money::new(s.amount, currency),
                ),
                insurer_paid: Money::new(s.insurer_paid, currency),
                client_rate: RateId::new(&s.client_rate)?,
            });
        }
        let policy = MetadataPolicy::hero_compatible()
            .without_all(file.practice.metadata_fields_off.iter().map(String::as_str))?;
        Ok(Scenario {
            practice: file.practice.name,
            currency,
            days_until_due: file.practice.default_days_until_due,
            policy,
            metadata_fields_off: file.practice.metadata_fields_off,
            catalogue,
            rates,
            practitioners,
            locations,
            organisation,
            patients,
            appointments: file
                .appointments
                .into_iter()
                .map(|appointment| (appointment.id.clone(), appointment))
                .collect(),
            services,
            steps: file
                .events_of_the_day
                .into_iter()
                .map(|event| (event.step, event.what))
                .collect(),
            run_suffix,
        })
    }

    /// The host id of `id` in this run (`id`, or `id-suffix`).
    pub fn host_id(&self, id: &str) -> String {
        match &self.run_suffix {
            Some(suffix) => format!("{id}-{suffix}"),
            None => id.to_owned(),
        }
    }

    /// The patient with file id `id`.
    ///
    /// # Errors
    /// [`DayError::Missing`] when the file has no such patient.
    pub fn patient(&self, id: &str) -> Result<&Patient, DayError> {
        self.patients
            .get(id)
            .ok_or_else(|| DayError::missing("patient", id))
    }

    /// The appointment `id`.
    ///
    /// # Errors
    /// [`DayError::Missing`] when the file has no such appointment.
    pub fn appointment(&self, id: &str) -> Result<&Appointment, DayError> {
        self.appointments
            .get(id)
            .ok_or_else(|| DayError::missing("appointment", id))
    }

    /// The name a payer is shown by: the patient's full name or the organisation's name.
    pub fn payer_name(&self, payer_host_id: &str) -> String {
        if self.organisation.id.as_str() == payer_host_id {
            return self.organisation.name.clone();
        }
        self.patients
            .values()
            .find(|patient| patient.id.as_str() == payer_host_id)
            .map_or_else(|| payer_host_id.to_owned(), Patient::full_name)
    }

    /// The host invoice id of an appointment's invoice (`INV-APT-2`).
    pub fn invoice_id_for(&self, appointment_id: &str) -> String {
        self.host_id(&format!("INV-{appointment_id}"))
    }

    /// The invoice draft of an appointment: its slot's catalogue item, its location and
    /// practitioner.
    ///
    /// # Errors
    /// [`DayError::Missing`] for an appointment, patient, slot type, location or
    /// practitioner the file does not define.
    pub fn draft_for(&self, appointment_id: &str) -> Result<InvoiceDraft, DayError> {
        let appointment = self.appointment(appointment_id)?;
        let patient = self.patient(&appointment.patient)?;
        let item = self
            .catalogue
            .for_slot_type(&appointment.slot_type)
            .ok_or_else(|| DayError::missing("catalogue slot type", &appointment.slot_type))?;
        let location = self
            .locations
            .get(&appointment.location)
            .ok_or_else(|| DayError::missing("location", &appointment.location))?;
        let practitioner = self
            .practitioners
            .get(&appointment.practitioner)
            .ok_or_else(|| DayError::missing("practitioner", &appointment.practitioner))?;
        let context =
            AppointmentContext::for_appointment(AppointmentId::new(self.host_id(appointment_id))?)
                .at(location.clone())
                .with_practitioner(practitioner.clone());
        Ok(InvoiceDraft::for_patient(patient)
            .host_id(InvoiceId::new(self.invoice_id_for(appointment_id))?)
            .line(InvoiceLine::catalogue(item, 1))
            .context(context))
    }
}

/// A bridge over `mock` with the scenario's policy, catalogue, currency and due days,
/// the mock's webhook secret, and `store`. A bridge over the mock lives on the mock's
/// clock and verifies its webhook deliveries with no wiring of its own.
///
/// # Errors
/// Billbridge's builder errors.
pub fn mock_bridge(
    scenario: &Scenario,
    mock: &MockStripe,
    store: impl SyncStore + 'static,
) -> Result<Billbridge, DayError> {
    Ok(Billbridge::builder(StripeClient::new(mock.clone()))
        .metadata_policy(scenario.policy.clone())
        .store(store)
        .idempotency_secret(IdempotencySecret::new(MOCK_IDEMPOTENCY_SECRET)?)
        .webhook_secret(WebhookSecret::new(mock.webhook_secret())?)
        .catalogue(scenario.catalogue.clone())
        .currency(scenario.currency)
        .default_days_until_due(scenario.days_until_due)
        .build()?)
}

/// How the host learns that a payer paid on Stripe's hosted page (step 7).
#[derive(Debug, Clone)]
pub enum PaymentNotice {
    /// The mock's webhook deliveries are handed to `handle_webhook`, as the host's
    /// webhook endpoint would.
    Webhooks(MockStripe),
    /// A real Stripe test account: its webhooks cannot reach a program on this machine,
    /// so the invoice is read back with `resync_invoice` (the missed-webhook recovery).
    Resync,
}

/// One step of the day as it happened.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// The step's number (1–10).
    pub number: u32,
    /// A short name for the step.
    pub title: &'static str,
    /// What the scenario says happens.
    pub what: String,
    /// What billbridge did, in a line or two.
    pub lines: Vec<String>,
}

/// How Chloé's card payment reached the host (step 7).
#[derive(Debug, Clone)]
pub struct CardPayment {
    /// The invoice paid.
    pub host_invoice_id: String,
    /// The host's status right after the payment, before any notice.
    pub status_before_notice: InvoiceStatus,
    /// Webhook deliveries handled (0 when re-synced).
    pub deliveries: usize,
    /// The changes the webhooks reported to the host.
    pub changes: Vec<WebhookChange>,
    /// Whether the invoice was read back with `resync_invoice` instead.
    pub resynced: bool,
}

/// Eli's rate-billed session (step 9).
#[derive(Debug)]
pub struct ServiceStep {
    /// The session as delivered, on the insured rate, before the split.
    pub session: Service,
    /// The session split into the insurer's part and the client's remainder.
    pub split: InsuranceSplit,
    /// The services handed to `raise_for_services`.
    pub services: Vec<Service>,
    /// One outcome per payer invoiced.
    pub outcomes: Vec<ServiceInvoiceOutcome>,
}

/// The CSV files written at the end of the day.
#[derive(Debug, Clone)]
pub struct CsvFiles {
    /// Outstanding (open) invoices.
    pub outstanding: PathBuf,
    /// Payments received today.
    pub payments: PathBuf,
}

/// Everything the day did, for printing or asserting.
#[derive(Debug)]
pub struct DayReport {
    /// The day played (the bridge's clock).
    pub today: Date,
    /// Each step, in order.
    pub steps: Vec<StepReport>,
    /// The customers synced in step 1.
    pub customers: Vec<CustomerRecord>,
    /// John's credit (step 2).
    pub credit: BalanceAdjustment,
    /// Aiko's postage debit (step 5).
    pub debit: BalanceAdjustment,
    /// What each previewed invoice would ask, by host invoice id.
    pub previews: BTreeMap<String, InvoicePreview>,
    /// Payer balances right after their invoice, by payer host id.
    pub balances_after: BTreeMap<String, Money>,
    /// Each invoice as it stood when raised, in the order raised.
    pub raised: Vec<InvoiceRecord>,
    /// Chloé's payment on the hosted page.
    pub card_payment: CardPayment,
    /// Eli's rate-billed session.
    pub service_step: ServiceStep,
    /// Every invoice of the day as it stands at the end, in the order raised.
    pub invoices: Vec<InvoiceRecord>,
    /// The outstanding report's rows.
    pub outstanding: Vec<InvoiceRecord>,
    /// The payments report's rows.
    pub payments: Vec<Payment>,
    /// Where the CSV files are.
    pub csv: CsvFiles,
}

impl DayReport {
    /// The invoice `host_invoice_id` as it was when raised.
    pub fn raised(&self, host_invoice_id: &str) -> Option<&InvoiceRecord> {
        self.raised
            .iter()
            .find(|record| record.host_invoice_id == host_invoice_id)
    }

    /// The invoice `host_invoice_id` at the end of the day.
    pub fn invoice(&self, host_invoice_id: &str) -> Option<&InvoiceRecord> {
        self.invoices
            .iter()
            .find(|record| record.host_invoice_id == host_invoice_id)
    }
}

/// Shows `money` with its currency symbol, via the domain's exact decimal text.
pub fn show_money(money: Money) -> String {
    let text = money.to_decimal_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", text.as_str()),
    };
    match money.currency().code() {
        "gbp" => format!("{sign}£{digits}"),
        "eur" => format!("{sign}€{digits}"),
        "usd" => format!("{sign}${digits}"),
        code => format!("{text} {}", code.to_ascii_uppercase()),
    }
}

/// `1 payment`, `2 payments`.
pub fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn unexpected(step: u32, problem: impl Into<String>) -> DayError {
    DayError::Unexpected {
        step,
        problem: problem.into(),
    }
}

/// `invoice 31F9AE87-0001, open`.
fn invoice_label(record: &InvoiceRecord) -> String {
    format!(
        "invoice {}, {}",
        record.number.as_deref().unwrap_or("(draft)"),
        record.status.as_str()
    )
}

/// Plays the ten steps of the day through `bridge` and writes the end-of-day CSV files
/// into `out_dir`.
///
/// # Errors
/// The first billbridge error of any step, [`DayError::Missing`] for scenario data a
/// step needs, [`DayError::Io`] when a CSV file cannot be created,
/// and [`DayError::Unexpected`] when billbridge answers differently than the day
/// expects.
pub async fn play(
    bridge: &Billbridge,
    scenario: &Scenario,
    notice: &PaymentNotice,
    out_dir: &Path,
) -> Result<DayReport, DayError> {
    let mut at = 0;
    play_steps(bridge, scenario, notice, out_dir, &mut at)
        .await
        .map_err(|error| match error {
            DayError::Unexpected { .. } => error,
            other => DayError::Step {
                step: at,
                source: Box::new(other),
            },
        })
}

/// The day's steps; `at` follows the step being played, to say where a failure was.
async fn play_steps(
    bridge: &Billbridge,
    scenario: &Scenario,
    notice: &PaymentNotice,
    out_dir: &Path,
    at: &mut u32,
) -> Result<DayReport, DayError> {
    let mut steps = Vec::new();
    let mut step = |number: u32, title: &'static str, lines: Vec<String>| {
        steps.push(StepReport {
            number,
            title,
            what: scenario.steps.get(&number).cloned().unwrap_or_default(),
            lines,
        });
    };
    let show = show_money;
    let today = bridge.today()?;
    let mut raised = Vec::new();
    let mut previews = BTreeMap::new();
    let mut balances_after = BTreeMap::new();

    *at = 1;
    // Step 1: every patient and the organisation become Stripe customers; the metadata
    // policy keeps the switched-off fields out.
    let mut customers = Vec::new();
    let parties = scenario
        .patients
        .values()
        .cloned()
        .map(Party::Patient)
        .chain([Party::Organisation(scenario.organisation.clone())]);
    for party in parties {
        customers.push(bridge.upsert_customer(&party).await?);
    }
    let created = customers
        .iter()
        .filter(|record| record.outcome == billbridge::sync::UpsertOutcome::Created)
        .count();
    step(
        1,
        "Customers",
        vec![
            format!(
                "{} synced ({created} created): {} and {}",
                counted(customers.len(), "Stripe customer", "Stripe customers"),
                counted(scenario.patients.len(), "patient", "patients"),
                scenario.organisation.name
            ),
            format!(
                "metadata switched off, kept out of Stripe: {}",
                scenario.metadata_fields_off.join(", ")
            ),
        ],
    );

    *at = 2;
    // Step 2: John's prepaid follow-up, missed at late notice, stays as a credit.
    let johns_missed = scenario.appointment("APT-1")?;
    let john = scenario.patient(&johns_missed.patient)?;
    let john_payer = PayerRef::Patient(john.id.clone());
    let prepaid = Money::new(johns_missed.prepaid.unwrap_or(0), scenario.currency);
    let credit = bridge
        .adjust_balance(
            &john_payer,
            prepaid.checked_neg()?,
            "Missed appointment kept as credit",
            &scenario.host_id("APT-1-credit"),
        )
        .await?;
    step(
        2,
        "Credit",
        vec![format!(
            "{} missed a prepaid {} visit at late notice: kept as credit, balance {}",
            john.full_name(),
            show(prepaid),
            show(credit.ending_balance)
        )],
    );

    *at = 3;
    // Step 3: APT-2 and a home test kit on one invoice; the credit applies at
    // finalization.
    let kit = scenario.catalogue.require("blood-test-kit")?;
    let visit_name = scenario
        .catalogue
        .for_slot_type(&scenario.appointment("APT-2")?.slot_type)
        .map_or("visit", |item| item.name.as_str());
    let johns = scenario
        .draft_for("APT-2")?
        .line(InvoiceLine::catalogue(kit, 1));
    let preview = bridge.preview(&johns).await?;
    let johns = bridge
        .raise_invoice(&johns, Some(john), Raise::FinalizeAndSend)
        .await?;
    let balance = bridge.balance(&john_payer).await?;
    step(
        3,
        "Invoice",
        vec![
            format!(
                "{}: {} {} + {} {} = {}",
                john.full_name(),
                visit_name.to_lowercase(),
                show(preview.total.checked_sub(kit.unit_amount)?),
                kit.name.to_lowercase(),
                show(kit.unit_amount),
                show(preview.total),
            ),
            format!(
                "the credit applies at finalization: {} due, balance {} ({})",
                show_money(johns.amount_due),
                show(balance),
                invoice_label(&johns)
            ),
        ],
    );
    previews.insert(johns.host_invoice_id.clone(), preview);
    balances_after.insert(john.id.as_str().to_owned(), balance);
    raised.push(johns);

    *at = 4;
    // Step 4: María's appointment is billed to her default payer, with her patient
    // fields on the invoice.
    let maria_appointment = scenario.appointment("APT-3")?;
    let maria = scenario.patient(&maria_appointment.patient)?;
    let marias = scenario.draft_for("APT-3")?;
    let marias = bridge
        .raise_invoice(&marias, Some(maria), Raise::FinalizeAndSend)
        .await?;
    step(
        4,
        "Insurer",
        vec![
            format!(
                "{}'s visit billed to her default payer {}: {} due",
                maria.full_name(),
                scenario.payer_name(marias.payer.host_id()),
                show_money(marias.amount_due),
            ),
            format!(
                "invoice {} ({}) carries her {}",
                marias.number.as_deref().unwrap_or("(draft)"),
                marias.status.as_str(),
                marias
                    .metadata
                    .keys()
                    .filter(|key| key.starts_with("patient_"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ],
    );
    raised.push(marias);

    *at = 5;
    // Step 5: Aiko's postage is a debit on her balance; her next invoice asks it too.
    let aiko_appointment = scenario.appointment("APT-4")?;
    let aiko = scenario.patient(&aiko_appointment.patient)?;
    let aiko_payer = PayerRef::Patient(aiko.id.clone());
    let postage = scenario.catalogue.require("postage")?.unit_amount;
    let debit = bridge
        .adjust_balance(
            &aiko_payer,
            postage,
            "Postage for a home test kit",
            &scenario.host_id("P-1003-postage"),
        )
        .await?;
    let aikos = scenario.draft_for("APT-4")?;
    let preview = bridge.preview(&aikos).await?;
    let aikos = bridge
        .raise_invoice(&aikos, Some(aiko), Raise::FinalizeAndSend)
        .await?;
    let balance = bridge.balance(&aiko_payer).await?;
    step(
        5,
        "Debit",
        vec![
            format!(
                "{}: {} postage debit on her balance, then her {} visit",
                aiko.full_name(),
                show(debit.amount),
                show(preview.total),
            ),
            format!(
                "the debit is added at finalization: {} due, balance {} ({})",
                show_money(aikos.amount_due),
                show(balance),
                invoice_label(&aikos)
            ),
        ],
    );
    previews.insert(aikos.host_invoice_id.clone(), preview);
    balances_after.insert(aiko.id.as_str().to_owned(), balance);
    raised.push(aikos);

    *at = 6;
    // Step 6: Ben pays cash at reception.
    let ben_appointment = scenario.appointment("APT-5")?;
    let ben = scenario.patient(&ben_appointment.patient)?;
    let bens = scenario.draft_for("APT-5")?;
    let bens = bridge
        .raise_invoice(&bens, Some(ben), Raise::FinalizeAndSend)
        .await?;
    raised.push(bens.clone());
    let bens = bridge
        .mark_paid_outside_stripe(
            &bens.host_invoice_id,
            &PaidOutside::new(PaymentMethod::Cash).reference("RECEPTION-1"),
        )
        .await?;
    step(
        6,
        "Cash",
        vec![format!(
            "{} paid {} cash at reception: marked paid outside Stripe ({})",
            ben.full_name(),
            show_money(bens.amount_paid),
            invoice_label(&bens)
        )],
    );

    *at = 7;
    // Step 7: Chloé pays on the hosted page; the host hears of it by webhook (or, against
    // a real account from this machine, by re-syncing the invoice).
    let chloe_appointment = scenario.appointment("APT-6")?;
    let chloe = scenario.patient(&chloe_appointment.patient)?;
    let chloes = scenario.draft_for("APT-6")?;
    let chloes = bridge
        .raise_invoice(&chloes, Some(chloe), Raise::FinalizeAndSend)
        .await?;
    let due_on = match chloes.due_on {
        Some(due) => due.to_string(),
        None => return Err(unexpected(7, "the sent invoice has no due date")),
    };
    raised.push(chloes.clone());
    let card_payment = pay_by_card(bridge, &chloes, notice).await?;
    let chloes = bridge
        .invoice(&chloes.host_invoice_id)
        .await?
        .ok_or_else(|| unexpected(7, "the paid invoice is not in the store"))?;
    let how = if card_payment.resynced {
        "resync_invoice read it back".to_owned()
    } else {
        format!(
            "{} webhook deliveries reported the payment",
            card_payment.deliveries
        )
    };
    step(
        7,
        "Card",
        vec![
            format!(
                "{}'s {} invoice sent, due {due_on}; she pays on the hosted page (test card)",
                chloe.full_name(),
                show_money(chloes.amount_due),
            ),
            format!(
                "the host saw it {} until {how}: {}",
                card_payment.status_before_notice.as_str(),
                invoice_label(&chloes)
            ),
        ],
    );

    *at = 8;
    // Step 8: Dev's appointment was cancelled after invoicing: void the invoice.
    let dev_appointment = scenario.appointment("APT-7")?;
    let dev = scenario.patient(&dev_appointment.patient)?;
    let devs = scenario.draft_for("APT-7")?;
    let devs = bridge
        .raise_invoice(&devs, Some(dev), Raise::Finalize)
        .await?;
    raised.push(devs.clone());
    let voided = bridge.void(&devs.host_invoice_id).await?;
    let balance = bridge.balance(&PayerRef::Patient(dev.id.clone())).await?;
    balances_after.insert(dev.id.as_str().to_owned(), balance);
    step(
        8,
        "Void",
        vec![format!(
            "{}'s {} invoice voided after the cancellation: {} owed ({})",
            dev.full_name(),
            show_money(devs.amount_due),
            show_money(voided.amount_remaining),
            invoice_label(&voided)
        )],
    );

    *at = 9;
    // Step 9: Eli's session on the insured rate: the insurer's payment is recorded, the
    // remainder moves to the self-pay rate and is invoiced to Eli.
    let service_step = bill_services(bridge, scenario, today).await?;
    let mut service_lines = Vec::new();
    for outcome in &service_step.outcomes {
        let record = outcome.result.as_ref().map_err(|error| {
            unexpected(9, format!("the service invoice failed: {}", error.code()))
        })?;
        raised.push(record.clone());
        service_lines.push(format!(
            "invoiced to {}: {} due, invoiced date {} stamped ({})",
            scenario.payer_name(record.payer.host_id()),
            show_money(record.amount_due),
            billing_day(outcome),
            invoice_label(record)
        ));
    }
    let split = &service_step.split;
    let client_rate = split
        .client_service
        .as_ref()
        .and_then(|service| scenario.rates.get(&service.rate))
        .map_or("the client rate", |rate| rate.name.as_str());
    let mut lines = vec![format!(
        "{}: {} session, insurer paid {}; {} moves to {}",
        scenario.payer_name(service_step.session.patient.as_str()),
        show(service_step.session.amount),
        show(split.insurer_part),
        show(split.client_part),
        client_rate,
    )];
    lines.extend(service_lines);
    step(9, "Rates", lines);

    // Every invoice as it stands at the end of the day.
    let mut invoices = Vec::with_capacity(raised.len());
    for record in &raised {
        invoices.push(
            bridge
                .invoice(&record.host_invoice_id)
                .await?
                .ok_or_else(|| unexpected(10, "an invoice of the day is not in the store"))?,
        );
    }

    *at = 10;
    // Step 10: the outstanding and payments reports, exported as CSV.
    let store = bridge.store().as_ref();
    let outstanding = report::outstanding(store, bridge.account())
        .collect_all()
        .await?;
    let payments = report::payments_received(store, bridge.account(), DateRange::day(today)?)
        .collect_all()
        .await?;
    let csv = CsvFiles {
        outstanding: out_dir.join("outstanding.csv"),
        payments: out_dir.join("payments.csv"),
    };
    write_outstanding_csv(&outstanding, &csv.outstanding)?;
    write_payments_csv(&payments, &csv.payments)?;
    let owed = Money::checked_sum(
        scenario.currency,
        outstanding.iter().map(|row| row.amount_remaining),
    )?;
    let received = Money::checked_sum(scenario.currency, payments.iter().map(|row| row.amount))?;
    step(
        10,
        "Reports",
        vec![
            format!(
                "{} still owe {}; {} received today, {} in total",
                counted(outstanding.len(), "open invoice", "open invoices"),
                show_money(owed),
                counted(payments.len(), "payment", "payments"),
                show_money(received)
            ),
            "both exported as CSV with patient name and appointment practitioner columns"
                .to_owned(),
        ],
    );

    Ok(DayReport {
        today,
        steps,
        customers,
        credit,
        debit,
        previews,
        balances_after,
        raised,
        card_payment,
        service_step,
        invoices,
        outstanding,
        payments,
        csv,
    })
}

fn billing_day(outcome: &ServiceInvoiceOutcome) -> String {
    outcome
        .services
        .first()
        .and_then(|service| service.invoiced_on)
        .map_or_else(|| "(none)".to_owned(), |day| day.to_string())
}

/// Pays `invoice` with Stripe's test Visa card and lets the host learn of it.
async fn pay_by_card(
    bridge: &Billbridge,
    invoice: &InvoiceRecord,
    notice: &PaymentNotice,
) -> Result<CardPayment, DayError> {
    let context = RequestContext::new();
    let payment_method = match notice {
        PaymentNotice::Webhooks(mock) => {
            // Only the payment's own deliveries are of interest here.
            mock.take_webhooks();
            "pm_card_visa".to_owned()
        }
        PaymentNotice::Resync => {
            // A real account charges only a payment method attached to the customer:
            // attaching the test token gives the customer a card of its own.
            let attached: serde_json::Value = bridge
                .client()
                .send(
                    Method::Post,
                    "/v1/payment_methods/pm_card_visa/attach",
                    vec![("customer".to_owned(), invoice.stripe_customer_id.clone())],
                    &context,
                )
                .await?;
            attached["id"]
                .as_str()
                .ok_or_else(|| unexpected(7, "attaching the test card returned no id"))?
                .to_owned()
        }
    };
    let card = PayInvoice {
        payment_method: Some(payment_method),
        ..PayInvoice::default()
    };
    bridge
        .client()
        .invoices()
        .pay(&invoice.stripe_invoice_id, &card, &context)
        .await?;
    let status_before_notice = bridge
        .invoice(&invoice.host_invoice_id)
        .await?
        .ok_or_else(|| unexpected(7, "the invoice is not in the store"))?
        .status;
    let mut payment = CardPayment {
        host_invoice_id: invoice.host_invoice_id.clone(),
        status_before_notice,
        deliveries: 0,
        changes: Vec::new(),
        resynced: false,
    };
    match notice {
        PaymentNotice::Webhooks(mock) => {
            for delivery in mock.take_webhooks() {
                let outcome = bridge
                    .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                    .await?;
                payment.deliveries += 1;
                payment.changes.extend(outcome.changes);
            }
        }
        PaymentNotice::Resync => {
            bridge.resync_invoice(&invoice.host_invoice_id).await?;
            payment.resynced = true;
        }
    }
    Ok(payment)
}

/// Splits Eli's session between the insurer and Eli and invoices what Eli owes.
async fn bill_services(
    bridge: &Billbridge,
    scenario: &Scenario,
    today: Date,
) -> Result<ServiceStep, DayError> {
    let rated = scenario
        .services
        .first()
        .ok_or_else(|| DayError::missing("service", "(first)"))?;
    let mut session = rated.service.clone();
    session.date = today;
    let client_rate = scenario
        .rates
        .get(&rated.client_rate)
        .ok_or_else(|| DayError::missing("billing rate", rated.client_rate.as_str()))?;
    let split = session.split_insurance(rated.insurer_paid, client_rate)?;
    let mut services = vec![split.insurer_service.clone()];
    services.extend(split.client_service.clone());
    let patients: Vec<Patient> = scenario
        .patients
        .values()
        .filter(|patient| patient.id == session.patient)
        .cloned()
        .collect();
    let billing = ServiceBilling {
        invoiced_on: today,
        mode: Raise::FinalizeAndSend,
    };
    let outcomes = bridge
        .raise_for_services(&services, &scenario.rates, &patients, &billing)
        .await?;
    Ok(ServiceStep {
        session,
        split,
        services,
        outcomes,
    })
}

/// The columns of the outstanding invoices CSV.
pub fn outstanding_columns() -> Vec<Column> {
    vec![
        Column::Number,
        Column::HostInvoiceId,
        Column::PayerId,
        Column::meta(PATIENT_NAME),
        Column::meta(APPOINTMENT_PRACTITIONER),
        Column::Status,
        Column::Currency,
        Column::Total,
        Column::AmountDue,
        Column::AmountPaid,
        Column::AmountRemaining,
        Column::DueDate,
    ]
}

fn create(path: &Path) -> Result<BufWriter<File>, DayError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| DayError::Io {
            path: path.to_owned(),
            source,
        })
}

fn write_outstanding_csv(rows: &[InvoiceRecord], path: &Path) -> Result<(), DayError> {
    let file = create(path)?;
    report::write_csv_with(rows, &outstanding_columns(), &CsvOptions::new(), file)?;
    Ok(())
}

/// The columns of the payments CSV.
pub fn payments_columns() -> Vec<PaymentColumn> {
    vec![
        PaymentColumn::Date,
        PaymentColumn::InvoiceNumber,
        PaymentColumn::HostInvoiceId,
        PaymentColumn::PayerId,
        PaymentColumn::meta(PATIENT_NAME),
        PaymentColumn::meta(APPOINTMENT_PRACTITIONER),
        PaymentColumn::Method,
        PaymentColumn::Reference,
        PaymentColumn::Currency,
        PaymentColumn::Amount,
    ]
}

fn write_payments_csv(payments: &[Payment], path: &Path) -> Result<(), DayError> {
    let file = create(path)?;
    report::write_payments_csv(payments, &payments_columns(), file)?;
    Ok(())
}

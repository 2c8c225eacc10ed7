//! Shared set-up for the Billbridge workflow tests: a MockStripe, a bridge over it with
//! the mock's clock and webhook secret, and the people of a small practice.
#![allow(dead_code)]
// each test target uses a different part of this module
// Helpers outside #[test] functions are not covered by clippy's `allow-unwrap-in-tests`;
// a panic here is a failed test, as intended.
#![allow(clippy::unwrap_used)]

use billbridge::domain::catalogue::{CatalogueItem, CatalogueKey};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{
    AppointmentContext, InvoiceDraft, InvoiceId, InvoiceLine, Location,
};
use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::Money;
use billbridge::domain::party::{
    LocationId, Organisation, OrganisationId, Patient, PatientId, Practitioner, PractitionerId,
};
use billbridge::store::MemoryStore;
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::retry::RetryPolicy;
use billbridge::stripe::transport::Method;
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{Billbridge, IdempotencySecret};
use billbridge_mock::{MockStripe, SignatureTime, WebhookOptions};

pub const SECRET: &str = "harbour-health-idempotency-secret";

pub struct Practice {
    pub mock: MockStripe,
    pub store: MemoryStore,
    pub bridge: Billbridge,
}

/// A bridge over a fresh mock; `retries` false makes every injected fault reach the
/// workflow (as a crash would), true lets the client retry as in production.
pub fn practice(policy: MetadataPolicy, retries: bool) -> Practice {
    let mock = MockStripe::new();
    let store = MemoryStore::new();
    let bridge = bridge_over(&mock, &store, policy, retries);
    Practice {
        mock,
        store,
        bridge,
    }
}

/// Another bridge over the same mock and store: a restarted process.
pub fn bridge_over(
    mock: &MockStripe,
    store: &MemoryStore,
    policy: MetadataPolicy,
    retries: bool,
) -> Billbridge {
    mock.set_webhook_options(WebhookOptions {
        signature_time: SignatureTime::MockClock,
        ..WebhookOptions::default()
    });
    let retry = if retries {
        RetryPolicy::default()
    } else {
        RetryPolicy::none()
    };
    let client = StripeClient::builder(mock.clone())
        .retry_policy(retry)
        .build();
    Billbridge::builder(client)
        .metadata_policy(policy)
        .store(store.clone())
        .idempotency_secret(IdempotencySecret::new(SECRET).unwrap())
        .webhook_secret(WebhookSecret::new(mock.webhook_secret()).unwrap())
        .build()
        .unwrap()
}

pub fn dr_okafor() -> Practitioner {
    Practitioner::new(PractitionerId::new("PR-1").unwrap(), "Dr Amara Okafor")
}

pub fn john() -> Patient {
    Patient::new(PatientId::new("P-1001").unwrap(), "John", "Deer")
        .with_date_of_birth(Date::parse("1971-03-02").unwrap())
        .with_gender("male")
        .with_mobile("+447700900101")
        .with_email("john.deer@example.com")
        .with_postcode("BS1 4DJ")
        .with_registered_practitioner(dr_okafor())
}

pub fn maria() -> Patient {
    Patient::new(PatientId::new("P-1002").unwrap(), "María", "López")
        .with_date_of_birth(Date::parse("1988-11-23").unwrap())
        .with_gender("female")
        .with_mobile("+447700900102")
        .with_email("maria.lopez@example.com")
        .with_postcode("BS8 1TH")
        .with_registered_practitioner(dr_okafor())
}

pub fn northwind() -> Organisation {
    Organisation::new(
        OrganisationId::new("ORG-1").unwrap(),
        "Northwind Insurance Ltd",
    )
    .with_email("claims@northwind.example")
}

pub fn follow_up() -> CatalogueItem {
    CatalogueItem::new(
        CatalogueKey::new("follow-up").unwrap(),
        "Follow-up session",
        Money::gbp(5000),
    )
}

pub fn kit() -> CatalogueItem {
    CatalogueItem::new(
        CatalogueKey::new("blood-test-kit").unwrap(),
        "Home blood test kit",
        Money::gbp(3500),
    )
}

pub fn clinic_visit() -> AppointmentContext {
    AppointmentContext::default()
        .at(Location::new(
            LocationId::new("LOC-1").unwrap(),
            "Harbour Street Clinic",
        ))
        .with_practitioner(dr_okafor())
}

/// John's follow-up and kit: 5000 + 3500.
pub fn johns_draft(host_id: &str) -> InvoiceDraft {
    InvoiceDraft::for_patient(&john())
        .host_id(InvoiceId::new(host_id).unwrap())
        .line(InvoiceLine::catalogue(&follow_up(), 1))
        .line(InvoiceLine::catalogue(&kit(), 1))
        .due_in_days(14)
        .context(clinic_visit())
}

/// Requests the mock received that change something (POST or DELETE).
pub fn writes(mock: &MockStripe) -> Vec<(Method, String)> {
    mock.requests()
        .into_iter()
        .filter(|request| request.method != Method::Get)
        .map(|request| (request.method, request.path))
        .collect()
}

/// How many invoices the mock holds.
pub async fn stripe_invoice_count(bridge: &Billbridge) -> usize {
    let mut pager = bridge
        .client()
        .invoices()
        .list(&Default::default(), &Default::default())
        .unwrap();
    let mut count = 0;
    while let Some(page) = pager.next_page().await.unwrap() {
        count += page.len();
    }
    count
}

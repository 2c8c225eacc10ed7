//! One working day at Harbour Health (`examples/data/practice_day.json`) played through
//! `Billbridge` on MockStripe, asserting every amount Stripe produces: customers with
//! the practice's metadata rules, John's credit, María's invoice to her insurer, Aiko's
//! postage debit, Ben's cash payment, Chloé's card payment reported by webhook, Dev's
//! voided invoice and Eli's self-pay remainder after insurance.

// Helpers outside #[test] functions are not covered by clippy's `allow-unwrap-in-tests`;
// a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used)]

mod bridge_common;

use std::collections::{BTreeMap, BTreeSet};

use billbridge::domain::catalogue::{
    BillingRate, BillingRates, Catalogue, CatalogueItem, CatalogueKey, RateId, RatePayer, Service,
    ServiceId,
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
use billbridge::mock::{MockStripe, SignatureTime, WebhookOptions};
use billbridge::stripe::client::{PayInvoice, RequestContext, StripeClient};
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::store::MemoryStore;
use billbridge::sync::{
    Billbridge, IdempotencySecret, InvoiceRecord, PaidOutside, PaymentMethod, Raise,
    ServiceBilling, UpsertOutcome, WebhookChange,
};
use serde_json::Value;

struct Day {
    data: Value,
    mock: MockStripe,
    bridge: Billbridge,
    catalogue: Catalogue,
    patients: BTreeMap<String, Patient>,
    organisation: Organisation,
    practitioners: BTreeMap<String, Practitioner>,
    locations: BTreeMap<String, Location>,
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is text"))
}

fn load() -> Day {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/data/practice_day.json"
    );
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let currency = Currency::new(text(&data["practice"], "currency")).unwrap();
    let practitioners: BTreeMap<String, Practitioner> = data["practitioners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let id = text(p, "id");
            (
                id.to_owned(),
                Practitioner::new(PractitionerId::new(id).unwrap(), text(p, "name")),
            )
        })
        .collect();
    let locations = data["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let id = text(l, "id");
            (
                id.to_owned(),
                Location::new(LocationId::new(id).unwrap(), text(l, "name")),
            )
        })
        .collect();
    let catalogue = Catalogue::new(data["catalogue"].as_array().unwrap().iter().map(|item| {
        let mut entry = CatalogueItem::new(
            CatalogueKey::new(text(item, "key")).unwrap(),
            text(item, "name"),
            Money::new(item["unit_amount"].as_i64().unwrap(), currency),
        );
        if let Some(slot) = item["slot_type"].as_str() {
            entry = entry.with_slot_type(slot);
        }
        entry
    }))
    .unwrap();
    let organisation_data = &data["organisations"][0];
    let organisation = Organisation::new(
        OrganisationId::new(text(organisation_data, "id")).unwrap(),
        text(organisation_data, "name"),
    )
    .with_email(text(organisation_data, "email"));
    let patients = data["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let id = text(p, "id");
            let mut patient = Patient::new(
                PatientId::new(id).unwrap(),
                text(p, "given_name"),
                text(p, "family_name"),
            )
            .with_date_of_birth(Date::parse(text(p, "date_of_birth")).unwrap())
            .with_gender(text(p, "gender"))
            .with_mobile(text(p, "mobile"))
            .with_email(text(p, "email"))
            .with_postcode(text(p, "postcode"))
            .with_registered_practitioner(
                practitioners[text(p, "registered_practitioner")].clone(),
            );
            if let Some(payer) = p["default_payer"].as_str() {
                patient = patient.with_default_payer(OrganisationId::new(payer).unwrap());
            }
            (id.to_owned(), patient)
        })
        .collect();

    let fields_off: Vec<&str> = data["practice"]["metadata_fields_off"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field.as_str().unwrap())
        .collect();
    let policy = MetadataPolicy::hero_compatible()
        .without_all(fields_off)
        .unwrap();
    let mock = MockStripe::new();
    mock.set_webhook_options(WebhookOptions {
        signature_time: SignatureTime::MockClock,
        ..WebhookOptions::default()
    });
    let clock = mock.clock();
    let days = u32::try_from(data["practice"]["default_days_until_due"].as_u64().unwrap()).unwrap();
    let bridge = Billbridge::builder(StripeClient::new(mock.clone()))
        .metadata_policy(policy)
        .store(MemoryStore::new())
        .idempotency_secret(IdempotencySecret::new(bridge_common::SECRET).unwrap())
        .webhook_secret(WebhookSecret::new(mock.webhook_secret()).unwrap())
        .catalogue(catalogue.clone())
        .currency(currency)
        .default_days_until_due(days)
        .clock(move || clock.now())
        .build()
        .unwrap();
    Day {
        data,
        mock,
        bridge,
        catalogue,
        patients,
        organisation,
        practitioners,
        locations,
    }
}

impl Day {
    fn appointment(&self, id: &str) -> &Value {
        self.data["appointments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|appointment| appointment["id"] == id)
            .unwrap()
    }

    fn patient(&self, id: &str) -> &Patient {
        &self.patients[id]
    }

    /// The invoice draft for an appointment: its slot's catalogue item, its context.
    fn draft_for(&self, appointment_id: &str, host_invoice_id: &str) -> InvoiceDraft {
        let appointment = self.appointment(appointment_id);
        let patient = self.patient(text(appointment, "patient"));
        let item = self
            .catalogue
            .for_slot_type(text(appointment, "slot_type"))
            .unwrap();
        let context =
            AppointmentContext::for_appointment(AppointmentId::new(appointment_id).unwrap())
                .at(self.locations[text(appointment, "location")].clone())
                .with_practitioner(self.practitioners[text(appointment, "practitioner")].clone());
        InvoiceDraft::for_patient(patient)
            .host_id(InvoiceId::new(host_invoice_id).unwrap())
            .line(InvoiceLine::catalogue(item, 1))
            .context(context)
    }

    async fn raise(&self, draft: &InvoiceDraft, patient_id: &str, mode: Raise) -> InvoiceRecord {
        self.bridge
            .raise_invoice(draft, Some(self.patient(patient_id)), mode)
            .await
            .unwrap()
    }

    async fn stripe_customer(&self, id: &str) -> billbridge::stripe::models::Customer {
        self.bridge
            .client()
            .customers()
            .retrieve(id, &RequestContext::new())
            .await
            .unwrap()
    }
}

fn keys(record: &InvoiceRecord) -> BTreeSet<&str> {
    record.metadata.keys().map(String::as_str).collect()
}

#[tokio::test]
async fn practice_day_plays_every_workflow_with_stripes_amounts() {
    let day = load();
    let bridge = &day.bridge;

    // Step 1: every patient and the organisation become customers; gender and date of
    // birth stay out of Stripe.
    let mut customers = BTreeMap::new();
    let parties = day
        .patients
        .values()
        .cloned()
        .map(Party::Patient)
        .chain([Party::Organisation(day.organisation.clone())]);
    for party in parties {
        let record = bridge.upsert_customer(&party).await.unwrap();
        assert_eq!(record.outcome, UpsertOutcome::Created);
        customers.insert(record.host_party_id.clone(), record.stripe_customer_id);
    }
    assert_eq!(customers.len(), 8);
    for id in day.patients.keys() {
        let customer = day.stripe_customer(&customers[id]).await;
        assert!(!customer.metadata.contains_key("gender"), "{id}");
        assert!(!customer.metadata.contains_key("date_of_birth"), "{id}");
        assert_eq!(customer.metadata.get("host_patient_id"), Some(id));
        assert_eq!(
            customer.metadata.get("full_name").map(String::as_str),
            Some(day.patient(id).full_name().as_str())
        );
    }
    assert_eq!(
        bridge
            .default_payer(&day.patient("P-1002").id)
            .await
            .unwrap(),
        Some(day.organisation.id.clone())
    );

    // Step 2: John's prepaid, missed follow-up is kept as a credit.
    let john = PayerRef::Patient(day.patient("P-1001").id.clone());
    let prepaid = day.appointment("APT-1")["prepaid"].as_i64().unwrap();
    let credit = bridge
        .adjust_balance(
            &john,
            Money::gbp(-prepaid),
            "Missed appointment kept as credit",
            "APT-1-credit",
        )
        .await
        .unwrap();
    assert_eq!(credit.amount, Money::gbp(-5000));
    assert_eq!(bridge.balance(&john).await.unwrap(), Money::gbp(-5000));

    // Step 3: APT-2 and a home test kit, 5000 + 3500; the credit leaves 3500 due.
    let kit = day.catalogue.require("blood-test-kit").unwrap();
    let johns = day
        .draft_for("APT-2", "INV-APT-2")
        .line(InvoiceLine::catalogue(kit, 1));
    let preview = bridge.preview(&johns).await.unwrap();
    assert_eq!(preview.total, Money::gbp(8500));
    assert_eq!(preview.amount_due, Money::gbp(3500));
    let johns = day.raise(&johns, "P-1001", Raise::FinalizeAndSend).await;
    assert_eq!(johns.status, InvoiceStatus::Open);
    assert_eq!(johns.total, 8500);
    assert_eq!(johns.starting_balance, -5000);
    assert_eq!(johns.amount_due, 3500);
    assert_eq!(johns.ending_balance, Some(0));
    assert_eq!(bridge.balance(&john).await.unwrap(), Money::gbp(0));

    // Step 4: María's APT-3 goes to Northwind, with her patient fields as metadata.
    let marias = day.draft_for("APT-3", "INV-APT-3");
    let marias = day.raise(&marias, "P-1002", Raise::FinalizeAndSend).await;
    assert_eq!(marias.stripe_customer_id, customers["ORG-1"]);
    assert_eq!(marias.payer_host_id, "ORG-1");
    assert_eq!(marias.patient_host_id.as_deref(), Some("P-1002"));
    assert_eq!(marias.amount_due, 7500);
    assert_eq!(
        keys(&marias),
        BTreeSet::from([
            "appointment_location",
            "appointment_practitioner",
            "host_invoice_id",
            "host_patient_id",
            "host_payer_id",
            "patient_email",
            "patient_mobile",
            "patient_name",
            "patient_postcode",
            "registered_practitioner",
        ])
    );
    let meta = |key: &str| marias.metadata.get(key).map(String::as_str);
    assert_eq!(meta("patient_name"), Some("María López"));
    assert_eq!(meta("appointment_practitioner"), Some("Sam Lee"));
    assert_eq!(meta("appointment_location"), Some("Riverside Studio"));
    assert_eq!(meta("host_payer_id"), Some("ORG-1"));

    // Step 5: Aiko's postage debit is added to her APT-4 invoice: 7500 + 450.
    let aiko = PayerRef::Patient(day.patient("P-1003").id.clone());
    let postage = day.catalogue.require("postage").unwrap().unit_amount;
    bridge
        .adjust_balance(
            &aiko,
            postage,
            "Postage for a home test kit",
            "P-1003-postage",
        )
        .await
        .unwrap();
    let aikos = day.draft_for("APT-4", "INV-APT-4");
    assert_eq!(
        bridge.preview(&aikos).await.unwrap().amount_due,
        Money::gbp(7950)
    );
    let aikos = day.raise(&aikos, "P-1003", Raise::FinalizeAndSend).await;
    assert_eq!(aikos.total, 7500);
    assert_eq!(aikos.starting_balance, 450);
    assert_eq!(aikos.amount_due, 7950);
    assert_eq!(bridge.balance(&aiko).await.unwrap(), Money::gbp(0));

    // Step 6: Ben pays cash at reception.
    let bens = day.draft_for("APT-5", "INV-APT-5");
    let bens = day.raise(&bens, "P-1004", Raise::FinalizeAndSend).await;
    let bens = bridge
        .mark_paid_outside_stripe(
            &bens.host_invoice_id,
            &PaidOutside::new(PaymentMethod::Cash).reference("RECEPTION-1"),
        )
        .await
        .unwrap();
    assert_eq!(bens.status, InvoiceStatus::Paid);
    assert_eq!(bens.amount_paid, 5000);
    assert_eq!(bens.amount_remaining, 0);
    assert_eq!(bens.paid_outside.as_ref().unwrap().method, "cash");

    // Step 7: Chloé's invoice is due in 14 days; she pays on the hosted page and the
    // webhook marks it paid in the host.
    let chloes = day.draft_for("APT-6", "INV-APT-6");
    let chloes = day.raise(&chloes, "P-1005", Raise::FinalizeAndSend).await;
    assert_eq!(chloes.status, InvoiceStatus::Open);
    assert!(chloes.hosted_invoice_url.is_some());
    let due = chloes.due_date.unwrap();
    assert_eq!(due - day.mock.clock().now(), 14 * 86_400);
    day.mock.take_webhooks();
    let card = PayInvoice {
        payment_method: Some("pm_card_visa".to_owned()),
        ..PayInvoice::default()
    };
    bridge
        .client()
        .invoices()
        .pay(&chloes.stripe_invoice_id, &card, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(
        bridge.invoice("INV-APT-6").await.unwrap().unwrap().status,
        InvoiceStatus::Open,
        "the host learns of the payment from the webhook"
    );
    let mut reported_paid = false;
    for delivery in day.mock.take_webhooks() {
        let outcome = bridge
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
        reported_paid |= outcome.changes.iter().any(|change| {
            matches!(change, WebhookChange::InvoicePaid { host_invoice_id, amount_paid, .. }
                if host_invoice_id == "INV-APT-6" && *amount_paid == 7500)
        });
    }
    assert!(reported_paid);
    let chloes = bridge.invoice("INV-APT-6").await.unwrap().unwrap();
    assert_eq!(chloes.status, InvoiceStatus::Paid);
    assert_eq!(chloes.amount_paid, 7500);
    assert_eq!(chloes.amount_remaining, 0);

    // Step 8: Dev's APT-7 was cancelled after invoicing: void it, nothing is owed.
    let devs = day.draft_for("APT-7", "INV-APT-7");
    let devs = day.raise(&devs, "P-1006", Raise::Finalize).await;
    assert_eq!(devs.amount_due, 5000);
    let devs = bridge.void(&devs.host_invoice_id).await.unwrap();
    assert_eq!(devs.status, InvoiceStatus::Void);
    assert_eq!(devs.amount_remaining, 0);
    assert!(!devs.status.is_outstanding());
    let dev = PayerRef::Patient(day.patient("P-1006").id.clone());
    assert_eq!(bridge.balance(&dev).await.unwrap(), Money::gbp(0));

    // Step 9: Eli's 12000 General Service: insurance paid 8000, the 4000 remainder
    // moves to the self-pay rate, is invoiced to Eli and stamped with the date.
    let rates = BillingRates::new(day.data["billing_rates"].as_array().unwrap().iter().map(
        |rate| {
            BillingRate::new(
                RateId::new(text(rate, "id")).unwrap(),
                text(rate, "name"),
                rate["invoiced"].as_bool().unwrap(),
                if text(rate, "payer") == "insurance" {
                    RatePayer::Insurance
                } else {
                    RatePayer::Client
                },
            )
        },
    ))
    .unwrap();
    let today = bridge.today().unwrap();
    let eli = day.patient("P-1007");
    let session = Service::new(
        ServiceId::new("SVC-ELI-1").unwrap(),
        eli.id.clone(),
        today,
        RateId::new("RATE-GEN").unwrap(),
        Money::gbp(12000),
    );
    let self_pay = rates.get(&RateId::new("RATE-GEN-SELF").unwrap()).unwrap();
    let split = session.split_insurance(Money::gbp(8000), self_pay).unwrap();
    assert_eq!(split.client_part, Money::gbp(4000));
    let services = vec![
        split.insurer_service.clone(),
        split.client_service.clone().unwrap(),
    ];
    let billing = ServiceBilling {
        invoiced_on: today,
        mode: Raise::FinalizeAndSend,
    };
    let outcomes = bridge
        .raise_for_services(&services, &rates, std::slice::from_ref(eli), &billing)
        .await
        .unwrap();
    assert_eq!(
        outcomes.len(),
        1,
        "only the self-pay remainder is invoiceable"
    );
    let outcome = &outcomes[0];
    assert_eq!(outcome.payer, PayerRef::Patient(eli.id.clone()));
    let elis = outcome.result.as_ref().unwrap();
    assert_eq!(elis.total, 4000);
    assert_eq!(elis.amount_due, 4000);
    assert_eq!(elis.stripe_customer_id, customers["P-1007"]);
    assert_eq!(outcome.services.len(), 1);
    assert_eq!(outcome.services[0].amount, Money::gbp(4000));
    assert_eq!(outcome.services[0].invoiced_on, Some(today));
    // Raising the same services again returns the same invoice.
    let again = bridge
        .raise_for_services(&services, &rates, std::slice::from_ref(eli), &billing)
        .await
        .unwrap();
    assert_eq!(
        again[0].result.as_ref().unwrap().stripe_invoice_id,
        elis.stripe_invoice_id
    );

    // What is still owed at the end of the day: John 3500, María (Northwind) 7500,
    // Aiko 7950, Eli 4000; Ben and Chloé paid, Dev void.
    let mut outstanding = BTreeMap::new();
    for host in [
        "INV-APT-2",
        "INV-APT-3",
        "INV-APT-4",
        "INV-APT-5",
        "INV-APT-6",
        "INV-APT-7",
        elis.host_invoice_id.as_str(),
    ] {
        let record = bridge.invoice(host).await.unwrap().unwrap();
        if record.status.is_outstanding() {
            outstanding.insert(record.payer_host_id.clone(), record.amount_remaining);
        }
    }
    assert_eq!(
        outstanding,
        BTreeMap::from([
            ("ORG-1".to_owned(), 7500),
            ("P-1001".to_owned(), 3500),
            ("P-1003".to_owned(), 7950),
            ("P-1007".to_owned(), 4000),
        ])
    );
}

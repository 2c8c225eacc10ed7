//! One working day at Harbour Health (`examples/data/practice_day.json`) played through
//! `Billbridge` on MockStripe by the quickstart's own code
//! (`examples/quickstart/practice_day.rs`), asserting every amount Stripe produces:
//! customers with the practice's metadata rules, John's credit, María's invoice to her
//! insurer, Aiko's postage debit, Ben's cash payment, Chloé's card payment reported by
//! webhook, Dev's voided invoice, Eli's self-pay remainder after insurance, and the
//! end-of-day reports exported as CSV.
#![cfg(all(feature = "csv", feature = "sqlite", feature = "http"))]
// Helpers outside #[test] functions are not covered by clippy's `allow-unwrap-in-tests`;
// a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used)]

#[path = "../../examples/quickstart/practice_day.rs"]
mod practice_day;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use billbridge::domain::money::Money;
use billbridge::domain::party::PayerRef;
use billbridge::domain::status::InvoiceStatus;
use billbridge::report::PaymentChannel;
use billbridge::store::MemoryStore;
use billbridge::stripe::client::RequestContext;
use billbridge::sync::{
    Billbridge, InvoiceRecord, Raise, ServiceBilling, UpsertOutcome, WebhookChange,
};
use billbridge_mock::MockStripe;

use practice_day::{DayReport, PaymentNotice, Scenario};

/// A played day and the folder its CSV files were written to (removed on drop).
struct Played {
    scenario: Scenario,
    mock: MockStripe,
    bridge: Billbridge,
    day: DayReport,
    folder: PathBuf,
}

impl Drop for Played {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

static RUNS: AtomicU32 = AtomicU32::new(0);

async fn played() -> Played {
    let scenario = Scenario::shipped().unwrap();
    let mock = MockStripe::new();
    let bridge = practice_day::mock_bridge(&scenario, &mock, MemoryStore::new()).unwrap();
    let folder = std::env::temp_dir().join(format!(
        "billbridge-practice-day-test-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&folder).unwrap();
    let notice = PaymentNotice::Webhooks(mock.clone());
    let day = practice_day::play(&bridge, &scenario, &notice, &folder)
        .await
        .unwrap();
    Played {
        scenario,
        mock,
        bridge,
        day,
        folder,
    }
}

impl Played {
    fn raised(&self, host_invoice_id: &str) -> &InvoiceRecord {
        self.day.raised(host_invoice_id).unwrap()
    }

    fn invoice(&self, host_invoice_id: &str) -> &InvoiceRecord {
        self.day.invoice(host_invoice_id).unwrap()
    }

    fn number(&self, host_invoice_id: &str) -> &str {
        self.invoice(host_invoice_id).number.as_deref().unwrap()
    }

    fn customers(&self) -> BTreeMap<String, String> {
        self.day
            .customers
            .iter()
            .map(|record| {
                (
                    record.host_party_id.clone(),
                    record.stripe_customer_id.clone(),
                )
            })
            .collect()
    }

    fn payer(&self, patient: &str) -> PayerRef {
        PayerRef::Patient(self.scenario.patient(patient).unwrap().id.clone())
    }

    /// Eli's invoice: the one `raise_for_services` raised.
    fn elis(&self) -> &InvoiceRecord {
        let outcomes = &self.day.service_step.outcomes;
        assert_eq!(
            outcomes.len(),
            1,
            "only the self-pay remainder is invoiceable"
        );
        outcomes[0].result.as_ref().unwrap()
    }
}

fn keys(record: &InvoiceRecord) -> BTreeSet<&str> {
    record.metadata.keys().collect()
}

#[tokio::test]
async fn every_step_of_the_day_is_reported_in_order() {
    let played = played().await;
    let numbers: Vec<u32> = played.day.steps.iter().map(|step| step.number).collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
    for step in &played.day.steps {
        assert!(!step.lines.is_empty(), "step {}", step.number);
        assert!(!step.what.is_empty(), "step {}", step.number);
    }
    assert_eq!(played.day.today, played.bridge.today().unwrap());
}

#[tokio::test]
async fn customers_are_synced_without_gender_or_date_of_birth() {
    let played = played().await;
    assert_eq!(played.day.customers.len(), 8);
    assert!(
        played
            .day
            .customers
            .iter()
            .all(|record| record.outcome == UpsertOutcome::Created)
    );
    let customers = played.customers();
    for (id, patient) in &played.scenario.patients {
        let customer = played
            .bridge
            .client()
            .customers()
            .retrieve(&customers[id], &RequestContext::new())
            .await
            .unwrap();
        assert!(!customer.metadata.contains_key("gender"), "{id}");
        assert!(!customer.metadata.contains_key("date_of_birth"), "{id}");
        assert_eq!(customer.metadata.get("host_patient_id"), Some(id.as_str()));
        assert_eq!(
            customer.metadata.get("full_name"),
            Some(patient.full_name().as_str())
        );
    }
    let maria = played.scenario.patient("P-1002").unwrap();
    assert_eq!(
        played.bridge.default_payer(&maria.id).await.unwrap(),
        Some(played.scenario.organisation.id.clone())
    );
}

#[tokio::test]
async fn johns_5000_credit_leaves_3500_due_on_his_8500_invoice() {
    let played = played().await;
    assert_eq!(played.day.credit.amount, Money::gbp(-5000));
    assert_eq!(played.day.credit.ending_balance, Money::gbp(-5000));

    let preview = &played.day.previews["INV-APT-2"];
    assert_eq!(preview.total, Money::gbp(8500));
    assert_eq!(preview.amount_due, Money::gbp(3500));
    let johns = played.raised("INV-APT-2");
    assert_eq!(johns.status, InvoiceStatus::Open);
    assert_eq!(johns.total, Money::gbp(8500));
    assert_eq!(johns.starting_balance, Money::gbp(-5000));
    assert_eq!(johns.amount_due, Money::gbp(3500));
    assert_eq!(johns.ending_balance, Some(Money::gbp(0)));
    assert_eq!(played.day.balances_after["P-1001"], Money::gbp(0));
    assert_eq!(
        played
            .bridge
            .balance(&played.payer("P-1001"))
            .await
            .unwrap(),
        Money::gbp(0)
    );
}

#[tokio::test]
async fn marias_invoice_bills_northwind_with_her_patient_metadata() {
    let played = played().await;
    let customers = played.customers();
    let marias = played.raised("INV-APT-3");
    assert_eq!(marias.stripe_customer_id, customers["ORG-1"]);
    assert_eq!(marias.payer.host_id(), "ORG-1");
    assert_eq!(marias.payer.kind(), "organisation");
    assert_eq!(
        marias.patient.as_ref().map(|patient| patient.as_str()),
        Some("P-1002")
    );
    assert_eq!(marias.amount_due, Money::gbp(7500));
    assert_eq!(
        keys(marias),
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
    let meta = |key: &str| marias.metadata.get(key);
    assert_eq!(meta("patient_name"), Some("María López"));
    assert_eq!(meta("appointment_practitioner"), Some("Sam Lee"));
    assert_eq!(meta("appointment_location"), Some("Riverside Studio"));
    assert_eq!(meta("host_payer_id"), Some("ORG-1"));
}

#[tokio::test]
async fn aikos_450_postage_debit_makes_7950_due() {
    let played = played().await;
    assert_eq!(played.day.debit.amount, Money::gbp(450));
    assert_eq!(
        played.day.previews["INV-APT-4"].amount_due,
        Money::gbp(7950)
    );
    let aikos = played.raised("INV-APT-4");
    assert_eq!(aikos.total, Money::gbp(7500));
    assert_eq!(aikos.starting_balance, Money::gbp(450));
    assert_eq!(aikos.amount_due, Money::gbp(7950));
    assert_eq!(played.day.balances_after["P-1003"], Money::gbp(0));
}

#[tokio::test]
async fn bens_cash_payment_is_recorded_outside_stripe() {
    let played = played().await;
    assert_eq!(played.raised("INV-APT-5").status, InvoiceStatus::Open);
    let bens = played.invoice("INV-APT-5");
    assert_eq!(bens.status, InvoiceStatus::Paid);
    assert_eq!(bens.amount_paid, Money::gbp(5000));
    assert_eq!(bens.amount_remaining, Money::gbp(0));
    let outside = bens.paid_outside.as_ref().unwrap();
    assert_eq!(
        outside.method,
        billbridge::domain::ledger::PaymentMethod::Cash
    );
    assert_eq!(outside.reference.as_deref(), Some("RECEPTION-1"));
}

#[tokio::test]
async fn chloes_card_payment_reaches_the_host_by_webhook() {
    let played = played().await;
    let raised = played.raised("INV-APT-6");
    assert_eq!(raised.status, InvoiceStatus::Open);
    assert!(raised.hosted_invoice_url.is_some());
    let today =
        billbridge::domain::date::Date::from_unix_timestamp(played.mock.clock().now()).unwrap();
    assert_eq!(raised.due_on, Some(today.add_days(14).unwrap()));

    let payment = &played.day.card_payment;
    assert_eq!(
        payment.status_before_notice,
        InvoiceStatus::Open,
        "the host learns of the payment from the webhook"
    );
    assert!(!payment.resynced);
    assert!(payment.deliveries > 0);
    assert!(payment.changes.iter().any(|change| matches!(
        change,
        WebhookChange::InvoicePaid { host_invoice_id, amount_paid, .. }
            if host_invoice_id == "INV-APT-6" && *amount_paid == Money::gbp(7500)
    )));
    let chloes = played.invoice("INV-APT-6");
    assert_eq!(chloes.status, InvoiceStatus::Paid);
    assert_eq!(chloes.amount_paid, Money::gbp(7500));
    assert_eq!(chloes.amount_remaining, Money::gbp(0));
    assert_eq!(chloes.paid_outside, None);
}

#[tokio::test]
async fn devs_voided_invoice_owes_nothing() {
    let played = played().await;
    assert_eq!(played.raised("INV-APT-7").amount_due, Money::gbp(5000));
    let devs = played.invoice("INV-APT-7");
    assert_eq!(devs.status, InvoiceStatus::Void);
    assert_eq!(devs.amount_remaining, Money::gbp(0));
    assert!(!devs.status.is_outstanding());
    assert_eq!(played.day.balances_after["P-1006"], Money::gbp(0));
}

#[tokio::test]
async fn elis_4000_remainder_is_invoiced_once_and_stamped() {
    let played = played().await;
    let step = &played.day.service_step;
    assert_eq!(step.session.amount, Money::gbp(12000));
    assert_eq!(step.split.insurer_part, Money::gbp(8000));
    assert_eq!(step.split.client_part, Money::gbp(4000));

    let eli = played.scenario.patient("P-1007").unwrap();
    let outcome = &step.outcomes[0];
    assert_eq!(outcome.payer, PayerRef::Patient(eli.id.clone()));
    let elis = played.elis();
    assert_eq!(elis.total, Money::gbp(4000));
    assert_eq!(elis.amount_due, Money::gbp(4000));
    assert_eq!(elis.stripe_customer_id, played.customers()["P-1007"]);
    assert_eq!(outcome.services.len(), 1);
    assert_eq!(outcome.services[0].amount, Money::gbp(4000));
    assert_eq!(outcome.services[0].invoiced_on, Some(played.day.today));

    // Raising the same services again returns the same invoice.
    let billing = ServiceBilling {
        invoiced_on: played.day.today,
        mode: Raise::FinalizeAndSend,
    };
    let again = played
        .bridge
        .raise_for_services(
            &step.services,
            &played.scenario.rates,
            std::slice::from_ref(eli),
            &billing,
        )
        .await
        .unwrap();
    assert_eq!(
        again[0].result.as_ref().unwrap().stripe_invoice_id,
        elis.stripe_invoice_id
    );
}

#[tokio::test]
async fn end_of_day_reports_list_what_is_owed_and_what_was_received() {
    let played = played().await;
    // Still owed: John 3500, María (Northwind) 7500, Aiko 7950, Eli 4000; Ben and
    // Chloé paid, Dev void.
    let outstanding: BTreeMap<&str, i64> = played
        .day
        .outstanding
        .iter()
        .map(|row| (row.payer.host_id(), row.amount_remaining.amount()))
        .collect();
    assert_eq!(
        outstanding,
        BTreeMap::from([
            ("ORG-1", 7500),
            ("P-1001", 3500),
            ("P-1003", 7950),
            ("P-1007", 4000)
        ])
    );
    let payments: Vec<(&str, i64, &PaymentChannel)> = played
        .day
        .payments
        .iter()
        .map(|row| {
            (
                row.host_invoice_id.as_str(),
                row.amount.amount(),
                &row.channel,
            )
        })
        .collect();
    assert_eq!(
        payments,
        vec![
            (
                "INV-APT-5",
                5000,
                &PaymentChannel::Outside(billbridge::domain::ledger::PaymentMethod::Cash)
            ),
            ("INV-APT-6", 7500, &PaymentChannel::Stripe),
        ]
    );
}

#[tokio::test]
async fn end_of_day_csv_files_carry_patient_name_and_practitioner() {
    let played = played().await;
    let due = played.day.today.add_days(14).unwrap();
    let elis = played.elis();
    let eli_number = elis.number.as_deref().unwrap();
    let outstanding = std::fs::read_to_string(&played.day.csv.outstanding).unwrap();
    let expected = [
        "number,host_invoice_id,payer_id,patient_name,appointment_practitioner,status,currency,total,amount_due,amount_paid,amount_remaining,due_date".to_owned(),
        format!("{},INV-APT-2,P-1001,John Deer,Dr Amara Okafor,open,gbp,85.00,35.00,0.00,35.00,{due}", played.number("INV-APT-2")),
        format!("{},INV-APT-3,ORG-1,María López,Sam Lee,open,gbp,75.00,75.00,0.00,75.00,{due}", played.number("INV-APT-3")),
        format!("{},INV-APT-4,P-1003,Aiko Tanaka,Sam Lee,open,gbp,75.00,79.50,0.00,79.50,{due}", played.number("INV-APT-4")),
        format!("{eli_number},{},P-1007,Eli Brooks,,open,gbp,40.00,40.00,0.00,40.00,{due}", elis.host_invoice_id),
    ];
    assert_eq!(outstanding.lines().collect::<Vec<_>>(), expected);

    let today = played.day.today;
    let payments = std::fs::read_to_string(&played.day.csv.payments).unwrap();
    let expected = [
        "date,invoice_number,host_invoice_id,payer_id,patient_name,appointment_practitioner,method,reference,currency,amount".to_owned(),
        format!("{today},{},INV-APT-5,P-1004,Ben Carter,Sam Lee,cash,RECEPTION-1,gbp,50.00", played.number("INV-APT-5")),
        format!("{today},{},INV-APT-6,P-1005,Chloé Martin,Dr Amara Okafor,stripe,,gbp,75.00", played.number("INV-APT-6")),
    ];
    assert_eq!(payments.lines().collect::<Vec<_>>(), expected);
}

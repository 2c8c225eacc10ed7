//! The host-facing workflows of `Billbridge` against MockStripe: customers and their
//! metadata, default payers, balances and previews, raising invoices (with crashes at
//! every step), every invoice action and the illegal ones, webhooks delivered twice and
//! out of order, re-sync and bulk operations.

mod bridge_common;

use billbridge::domain::invoice::InvoiceId;
use billbridge::domain::metadata::{Field, MetadataPolicy};
use billbridge::domain::money::Money;
use billbridge::domain::party::{Party, PayerRef};
use billbridge::domain::status::InvoiceStatus;
use billbridge::stripe::client::RequestContext;
use billbridge::stripe::transport::Method;
use billbridge::sync::{Raise, UpsertOutcome};
use bridge_common::*;

fn hero() -> MetadataPolicy {
    MetadataPolicy::hero_compatible()
}

#[tokio::test]
async fn upsert_creates_once_then_sends_nothing_when_unchanged() {
    let practice = practice(hero(), true);
    let bridge = &practice.bridge;
    let created = bridge.upsert_customer(&Party::Patient(john())).await.unwrap();
    assert_eq!(created.outcome, UpsertOutcome::Created);
    assert_eq!(created.host_party_id, "P-1001");
    let before = writes(&practice.mock).len();
    let again = bridge.upsert_customer(&Party::Patient(john())).await.unwrap();
    assert_eq!(again.outcome, UpsertOutcome::Unchanged);
    assert_eq!(again.stripe_customer_id, created.stripe_customer_id);
    assert_eq!(writes(&practice.mock).len(), before, "nothing sent when unchanged");

    let customer = bridge
        .client()
        .customers()
        .retrieve(&created.stripe_customer_id, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(customer.name.as_deref(), Some("John Deer"));
    assert_eq!(customer.email.as_deref(), Some("john.deer@example.com"));
    assert_eq!(customer.metadata.get("gender").map(String::as_str), Some("male"));
    assert_eq!(customer.metadata.get("date_of_birth").map(String::as_str), Some("1971-03-02"));
    assert_eq!(customer.metadata.get("host_patient_id").map(String::as_str), Some("P-1001"));

    let moved = john().with_mobile("+447700900999");
    let updated = bridge.upsert_customer(&Party::Patient(moved)).await.unwrap();
    assert_eq!(updated.outcome, UpsertOutcome::Updated);
    let customer = bridge
        .client()
        .customers()
        .retrieve(&created.stripe_customer_id, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(customer.phone.as_deref(), Some("+447700900999"));
    assert_eq!(customer.metadata.get("mobile").map(String::as_str), Some("+447700900999"));
}

#[tokio::test]
async fn switching_a_field_off_removes_it_from_the_customer_and_the_invoice() {
    let practice = practice(hero(), true);
    let bridge = &practice.bridge;
    let record = bridge.upsert_customer(&Party::Patient(john())).await.unwrap();
    let draft = johns_draft("INV-META");
    let raised = bridge
        .raise_invoice(&draft, Some(&john()), Raise::Finalize)
        .await
        .unwrap();
    assert_eq!(raised.metadata.get("patient_gender").map(String::as_str), Some("male"));

    let stricter = hero().without(Field::PatientGender);
    let restarted = bridge_over(&practice.mock, &practice.store, stricter, true);
    let outcome = restarted.upsert_customer(&Party::Patient(john())).await.unwrap();
    assert_eq!(outcome.outcome, UpsertOutcome::Updated);
    let customer = restarted
        .client()
        .customers()
        .retrieve(&record.stripe_customer_id, &RequestContext::new())
        .await
        .unwrap();
    assert!(!customer.metadata.contains_key("gender"));
    assert_eq!(customer.metadata.get("full_name").map(String::as_str), Some("John Deer"));

    let synced = restarted
        .sync_invoice_metadata(&draft, Some(&john()))
        .await
        .unwrap();
    assert!(!synced.metadata.contains_key("patient_gender"));
    let invoice = restarted
        .client()
        .invoices()
        .retrieve(&raised.stripe_invoice_id, &RequestContext::new())
        .await
        .unwrap();
    assert!(!invoice.metadata.contains_key("patient_gender"));
    assert_eq!(invoice.metadata.get("patient_name").map(String::as_str), Some("John Deer"));
    assert_eq!(
        invoice.metadata.get("appointment_location").map(String::as_str),
        Some("Harbour Street Clinic")
    );
    let again = restarted.upsert_customer(&Party::Patient(john())).await.unwrap();
    assert_eq!(again.outcome, UpsertOutcome::Unchanged);
}

#[tokio::test]
async fn default_payer_receives_the_patients_invoice() {
    let practice = practice(hero(), true);
    let bridge = &practice.bridge;
    bridge.upsert_customer(&Party::Patient(maria())).await.unwrap();
    let org = bridge.upsert_customer(&Party::Organisation(northwind())).await.unwrap();
    bridge
        .set_default_payer(&maria().id, &northwind().id)
        .await
        .unwrap();
    let draft = billbridge::domain::invoice::InvoiceDraft::for_patient(&maria())
        .host_id(InvoiceId::new("INV-M").unwrap())
        .line(billbridge::domain::invoice::InvoiceLine::catalogue(&follow_up(), 1));
    assert_eq!(
        bridge.resolve_payer(&draft).await.unwrap(),
        PayerRef::Organisation(northwind().id)
    );
    let raised = bridge.raise_invoice(&draft, Some(&maria()), Raise::Draft).await.unwrap();
    assert_eq!(raised.stripe_customer_id, org.stripe_customer_id);
    assert_eq!(raised.payer_host_id, "ORG-1");
    assert_eq!(raised.patient_host_id.as_deref(), Some("P-1002"));
    assert_eq!(raised.metadata.get("patient_name").map(String::as_str), Some("María López"));
    assert_eq!(raised.metadata.get("host_payer_id").map(String::as_str), Some("ORG-1"));

    assert!(bridge.clear_default_payer(&maria().id).await.unwrap());
    assert_eq!(
        bridge.resolve_payer(&draft).await.unwrap(),
        PayerRef::Patient(maria().id)
    );
}

#[tokio::test]
async fn credit_and_debit_balances_apply_to_the_next_invoice_as_previewed() {
    let practice = practice(hero(), true);
    let bridge = &practice.bridge;
    bridge.upsert_customer(&Party::Patient(john())).await.unwrap();
    let john_pays = PayerRef::Patient(john().id);
    let credit = bridge
        .adjust_balance(&john_pays, Money::gbp(-5000), "Missed appointment kept as credit", "ADJ-1")
        .await
        .unwrap();
    assert_eq!(credit.ending_balance, Money::gbp(-5000));
    let repeated = bridge
        .adjust_balance(&john_pays, Money::gbp(-5000), "Missed appointment kept as credit", "ADJ-1")
        .await
        .unwrap();
    assert_eq!(repeated.stripe_transaction_id, credit.stripe_transaction_id, "never doubled");
    assert_eq!(bridge.balance(&john_pays).await.unwrap(), Money::gbp(-5000));

    let draft = johns_draft("INV-BAL");
    let requests_before = practice.mock.requests().len();
    let preview = bridge.preview(&draft).await.unwrap();
    let sent: Vec<_> = practice.mock.requests()[requests_before..]
        .iter()
        .map(|request| request.method)
        .collect();
    assert!(sent.iter().all(|method| *method == Method::Get), "preview only reads");
    assert_eq!(preview.total, Money::gbp(8500));
    assert_eq!(preview.amount_due, Money::gbp(3500));
    assert_eq!(preview.ending_balance, Money::gbp(0));

    let raised = bridge.raise_invoice(&draft, Some(&john()), Raise::Finalize).await.unwrap();
    assert_eq!(raised.total, 8500);
    assert_eq!(raised.amount_due, preview.amount_due.amount());
    assert_eq!(raised.starting_balance, -5000);
    assert_eq!(raised.ending_balance, Some(0));

    let debit = bridge
        .adjust_balance(&john_pays, Money::gbp(450), "Postage", "ADJ-2")
        .await
        .unwrap();
    assert_eq!(debit.ending_balance, Money::gbp(450));
    let preview = bridge.preview(&johns_draft("INV-BAL-2")).await.unwrap();
    assert_eq!(preview.amount_due, Money::gbp(8950));
}

#[tokio::test]
async fn raise_stops_at_draft_finalize_or_send() {
    let practice = practice(hero(), true);
    let bridge = &practice.bridge;
    bridge.upsert_customer(&Party::Patient(john())).await.unwrap();
    let draft = bridge
        .raise_invoice(&johns_draft("INV-D"), Some(&john()), Raise::Draft)
        .await
        .unwrap();
    assert_eq!(draft.status, InvoiceStatus::Draft);
    assert_eq!(draft.total, 8500);
    assert!(draft.number.is_none());

    let finalized = bridge
        .raise_invoice(&johns_draft("INV-F"), Some(&john()), Raise::Finalize)
        .await
        .unwrap();
    assert_eq!(finalized.status, InvoiceStatus::Open);
    assert!(finalized.number.is_some());
    assert!(finalized.hosted_invoice_url.is_some());
    assert!(finalized.invoice_pdf.is_some());
    assert_eq!(finalized.amount_due, 8500);

    let before = writes(&practice.mock);
    let sent = bridge
        .raise_invoice(&johns_draft("INV-S"), Some(&john()), Raise::FinalizeAndSend)
        .await
        .unwrap();
    assert_eq!(sent.status, InvoiceStatus::Open);
    let after = writes(&practice.mock);
    let new: Vec<_> = after[before.len()..].iter().map(|(_, path)| path.clone()).collect();
    assert_eq!(new.len(), 4, "create, add_lines, finalize, send: {new:?}");
    assert!(new[3].ends_with("/send"));
    assert_eq!(stripe_invoice_count(bridge).await, 3);

    // Raising again returns the same invoice and sends nothing.
    let again = bridge
        .raise_invoice(&johns_draft("INV-S"), Some(&john()), Raise::FinalizeAndSend)
        .await
        .unwrap();
    assert_eq!(again.stripe_invoice_id, sent.stripe_invoice_id);
    assert_eq!(writes(&practice.mock).len(), after.len());
}

//! The billing cases practices hit, each as a kind: credit and other line shapes in
//! every currency exponent, no orphan draft after a failed raise, a remainder below
//! Stripe's minimum charge, a status the library does not know yet, and personal
//! fields kept out of every place in Stripe when the policy switches them off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_common;

use billbridge::domain::catalogue::{CatalogueItem, CatalogueKey};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::metadata::{Field, MetadataPolicy};
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::domain::status::InvoiceStatus;
use billbridge::report::{self, Column, DateRange};
use billbridge::store::MemoryStore;
use billbridge::stripe::client::{CreatePrice, CreateProduct, ProductRef, RequestContext};
use billbridge::stripe::transport::Method;
use billbridge::sync::{PaidOutside, PaymentMethod, Raise, WebhookChange};
use billbridge_mock::{Fault, MockStripe};
use bridge_common::*;
use serde_json::Value;

fn hero() -> MetadataPolicy {
    MetadataPolicy::hero_compatible()
}

fn patient(id: &str) -> Patient {
    Patient::new(PatientId::new(id).unwrap(), "Ana", "Sato")
        .with_email("ana.sato@example.com")
        .with_mobile("+819012345678")
        .with_postcode("150-0002")
}

fn draft(host: &str, who: &Patient, lines: Vec<InvoiceLine>) -> InvoiceDraft {
    let mut draft = InvoiceDraft::for_patient(who)
        .host_id(InvoiceId::new(host).unwrap())
        .due_in_days(14);
    for line in lines {
        draft = draft.line(line);
    }
    draft
}

async fn get_json(mock: &MockStripe, path: &str) -> Value {
    use billbridge::stripe::transport::{StripeRequest, Transport};
    let answer = mock
        .send(&StripeRequest {
            method: Method::Get,
            path: path.to_owned(),
            params: Vec::new(),
            idempotency_key: None,
            stripe_account: None,
            stripe_version: String::new(),
        })
        .await
        .unwrap();
    serde_json::from_slice(&answer.body).unwrap()
}

mod credit_lines {
    use super::*;

    /// Raises `lines` for a new patient and returns the record after finalization.
    async fn raise(lines: Vec<InvoiceLine>) -> billbridge::mirror::InvoiceRecord {
        let practice = practice(hero(), false);
        let ana = patient("P-CREDIT");
        practice
            .bridge
            .upsert_customer(&Party::Patient(ana.clone()))
            .await
            .unwrap();
        let record = practice
            .bridge
            .raise_invoice(
                &draft("INV-CREDIT", &ana, lines),
                Some(&ana),
                Raise::Finalize,
            )
            .await
            .unwrap();
        assert_eq!(stripe_invoice_count(&practice.bridge).await, 1);
        record
    }

    #[tokio::test]
    async fn a_voucher_reduces_the_invoice_and_leaves_it_open() {
        let record = raise(vec![
            InvoiceLine::ad_hoc("Consultation", Money::gbp(2000), 1),
            InvoiceLine::ad_hoc("Voucher", Money::gbp(-500), 1),
        ])
        .await;
        assert_eq!(record.total, Money::gbp(1500));
        assert_eq!(record.amount_due, Money::gbp(1500));
        assert_eq!(record.status, InvoiceStatus::Open);
    }

    #[tokio::test]
    async fn a_credit_equal_to_the_charge_is_paid_at_finalization() {
        let record = raise(vec![
            InvoiceLine::ad_hoc("Consultation", Money::gbp(2000), 1),
            InvoiceLine::ad_hoc("Goodwill credit", Money::gbp(-2000), 1),
        ])
        .await;
        assert_eq!(record.total, Money::gbp(0));
        assert_eq!(record.amount_due, Money::gbp(0));
        assert_eq!(record.status, InvoiceStatus::Paid);
    }

    #[tokio::test]
    async fn every_line_shape_reaches_stripe_and_adds_up_in_every_exponent() {
        let practice = practice(hero(), false);
        let ana = patient("P-SHAPES");
        practice
            .bridge
            .upsert_customer(&Party::Patient(ana.clone()))
            .await
            .unwrap();
        let client = practice.bridge.client();
        let context = RequestContext::new();
        let day = Date::parse("2026-11-02").unwrap();
        for (index, currency) in [Currency::GBP, Currency::JPY, Currency::new("kwd").unwrap()]
            .into_iter()
            .enumerate()
        {
            let unit = |minor: i64| Money::new(minor * 10, currency);
            let product = client
                .products()
                .create(
                    &CreateProduct {
                        name: format!("Visit {index}"),
                        ..CreateProduct::default()
                    },
                    &context,
                )
                .await
                .unwrap();
            let price = client
                .prices()
                .create(
                    &CreatePrice {
                        currency: currency.code().to_owned(),
                        unit_amount: unit(450).stripe_amount().unwrap(),
                        product: ProductRef::Id(product.id.clone()),
                        lookup_key: None,
                        transfer_lookup_key: None,
                        nickname: None,
                        metadata: Vec::new(),
                    },
                    &context,
                )
                .await
                .unwrap();
            let priced = CatalogueItem::new(
                CatalogueKey::new(format!("visit-{index}")).unwrap(),
                "Visit",
                unit(450),
            )
            .with_stripe_price(price.id.clone());
            let on_product = CatalogueItem::new(
                CatalogueKey::new(format!("kit-{index}")).unwrap(),
                "Kit",
                unit(120),
            )
            .with_stripe_product(product.id.clone());
            let lines = vec![
                InvoiceLine::ad_hoc("Ad hoc", unit(1000), 1),
                InvoiceLine::catalogue(&priced, 1),
                InvoiceLine::catalogue(&on_product, 3),
                InvoiceLine::ad_hoc("Returned kit", unit(-120), 2),
                InvoiceLine::ad_hoc("Free check", unit(0), 1),
                InvoiceLine::ad_hoc("Course", unit(300), 2).period(day, day.add_days(6).unwrap()),
                InvoiceLine::ad_hoc("Tagged", unit(50), 1).with_metadata("service_ref", "S-1"),
            ];
            let expected = unit(1000 + 450 + 3 * 120 - 2 * 120 + 600 + 50);
            let host = format!("INV-SHAPES-{index}");
            let record = practice
                .bridge
                .raise_invoice(&draft(&host, &ana, lines), Some(&ana), Raise::Draft)
                .await
                .unwrap_or_else(|error| panic!("{currency}: {error}"));
            assert_eq!(record.total, expected, "{currency}");
            let stripe = get_json(
                &practice.mock,
                &format!("/v1/invoices/{}", record.stripe_invoice_id),
            )
            .await;
            assert_eq!(
                stripe["total"],
                expected.stripe_amount().unwrap(),
                "{currency}"
            );
            assert_eq!(stripe["lines"]["data"].as_array().unwrap().len(), 7);
        }
    }
}

mod orphans {
    use super::*;

    #[tokio::test]
    async fn lines_stripe_refuses_leave_no_draft_and_a_record_that_says_deleted() {
        let practice = practice(hero(), false);
        let ana = patient("P-ORPHAN");
        practice
            .bridge
            .upsert_customer(&Party::Patient(ana.clone()))
            .await
            .unwrap();
        let missing =
            CatalogueItem::new(CatalogueKey::new("gone").unwrap(), "Gone", Money::gbp(900))
                .with_stripe_price("price_deleted_long_ago");
        let bad = draft(
            "INV-ORPHAN",
            &ana,
            vec![
                InvoiceLine::ad_hoc("Visit", Money::gbp(2000), 1),
                InvoiceLine::catalogue(&missing, 1),
            ],
        );
        let error = practice
            .bridge
            .raise_invoice(&bad, Some(&ana), Raise::Finalize)
            .await
            .unwrap_err();
        assert_eq!(
            error.details().stripe_code.as_deref(),
            Some("resource_missing")
        );
        // Nothing half-raised in Stripe, and the host's record says so.
        let drafts = get_json(&practice.mock, "/v1/invoices").await;
        assert!(drafts["data"].as_array().unwrap().is_empty(), "{drafts}");
        let record = practice
            .bridge
            .invoice("INV-ORPHAN")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.status, InvoiceStatus::Deleted);
        // The same draft again is refused before sending; a corrected one is raised.
        assert!(
            practice
                .bridge
                .raise_invoice(&bad, Some(&ana), Raise::Finalize)
                .await
                .is_err()
        );
        let mut fixed = bad.clone();
        fixed.remove_line(1).unwrap();
        let raised = practice
            .bridge
            .raise_invoice(&fixed, Some(&ana), Raise::Finalize)
            .await
            .unwrap();
        assert_eq!(
            (raised.status, raised.total),
            (InvoiceStatus::Open, Money::gbp(2000))
        );
        assert_eq!(stripe_invoice_count(&practice.bridge).await, 1);
    }

    #[tokio::test]
    async fn a_transient_failure_shows_no_zero_record_and_a_re_run_completes() {
        let practice = practice(hero(), false);
        let ana = patient("P-RETRY");
        practice
            .bridge
            .upsert_customer(&Party::Patient(ana.clone()))
            .await
            .unwrap();
        let invoice = draft(
            "INV-RETRY",
            &ana,
            vec![InvoiceLine::ad_hoc("Visit", Money::gbp(2000), 1)],
        );
        practice.mock.faults().next_requests_to(
            Some(Method::Post),
            "/v1/invoices/in_",
            Fault::SERVER_ERROR,
            1,
        );
        assert!(
            practice
                .bridge
                .raise_invoice(&invoice, Some(&ana), Raise::Finalize)
                .await
                .is_err()
        );
        // The webhook of the bare draft does not make a 0.00 record either.
        for delivery in practice.mock.take_webhooks() {
            practice
                .bridge
                .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                .await
                .unwrap();
        }
        assert!(
            practice
                .bridge
                .invoice("INV-RETRY")
                .await
                .unwrap()
                .is_none()
        );
        let raised = practice
            .bridge
            .raise_invoice(&invoice, Some(&ana), Raise::Finalize)
            .await
            .unwrap();
        assert_eq!(
            (raised.status, raised.total),
            (InvoiceStatus::Open, Money::gbp(2000))
        );
        assert_eq!(stripe_invoice_count(&practice.bridge).await, 1);
    }
}

mod below_minimum_charge {
    use super::*;

    #[tokio::test]
    async fn a_yen_remainder_below_fifty_is_carried_not_received() {
        let practice = practice(hero(), false);
        let ana = patient("P-YEN");
        let bridge = &practice.bridge;
        bridge
            .upsert_customer(&Party::Patient(ana.clone()))
            .await
            .unwrap();
        bridge
            .adjust_balance(&ana.payer(), Money::jpy(-6570), "Prepaid package", "PKG-1")
            .await
            .unwrap();
        let invoice = draft(
            "INV-YEN",
            &ana,
            vec![InvoiceLine::ad_hoc("Treatment", Money::jpy(6600), 1)],
        );

        let preview = bridge.preview(&invoice).await.unwrap();
        assert_eq!(preview.amount_due, Money::jpy(0));
        assert_eq!(preview.carried_to_balance, Money::jpy(30));
        assert_eq!(preview.ending_balance, Money::jpy(30));
        assert!(preview.paid_at_finalization);

        practice.mock.take_webhooks();
        let record = bridge
            .raise_invoice(&invoice, Some(&ana), Raise::Finalize)
            .await
            .unwrap();
        // What Stripe shows: paid, nothing due, nothing paid; the ¥30 is owed next time.
        assert_eq!(record.status, InvoiceStatus::Paid);
        assert_eq!(
            (record.amount_due, record.amount_paid),
            (Money::jpy(0), Money::jpy(0))
        );
        assert_eq!(record.carried_to_balance(), Money::jpy(30));
        assert_eq!(bridge.balance(&ana.payer()).await.unwrap(), Money::jpy(30));
        assert_eq!(preview.amount_due, record.amount_due, "the preview agrees");
        let kinds: Vec<String> = practice
            .mock
            .take_webhooks()
            .into_iter()
            .map(|delivery| delivery.event_type)
            .collect();
        assert!(kinds.contains(&"invoice.paid".to_owned()));
        assert!(
            !kinds.contains(&"invoice.payment_succeeded".to_owned()),
            "no payment happened"
        );

        // No report counts it as received; the invoice report shows it as carried.
        let today = bridge.today().unwrap();
        let payments = bridge
            .payments_received(DateRange::new(today, today).unwrap())
            .collect_all()
            .await
            .unwrap();
        assert!(payments.is_empty(), "{payments:?}");
        let mut csv = Vec::new();
        report::write_csv(
            std::slice::from_ref(&record),
            &[
                Column::HostInvoiceId,
                Column::AmountPaid,
                Column::CarriedToBalance,
            ],
            &mut csv,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "host_invoice_id,amount_paid,carried_to_balance\nINV-YEN,0,30\n"
        );

        // The next invoice collects it.
        let next = draft(
            "INV-YEN-2",
            &ana,
            vec![InvoiceLine::ad_hoc("Treatment", Money::jpy(1000), 1)],
        );
        let second = bridge
            .raise_invoice(&next, Some(&ana), Raise::Finalize)
            .await
            .unwrap();
        assert_eq!(second.amount_due, Money::jpy(1030));
    }
}

mod unknown_statuses {
    use super::*;

    #[tokio::test]
    async fn an_unknown_status_keeps_the_known_one_is_reported_and_blocks_nothing() {
        let practice = practice(hero(), false);
        let bridge = &practice.bridge;
        bridge
            .upsert_customer(&Party::Patient(john()))
            .await
            .unwrap();
        let record = bridge
            .raise_invoice(
                &johns_draft("INV-NEW-STATUS"),
                Some(&john()),
                Raise::Finalize,
            )
            .await
            .unwrap();
        assert_eq!(record.status, InvoiceStatus::Open);
        // Stripe sends a status this library has never heard of.
        let mut body: Value = serde_json::from_slice(
            &practice
                .mock
                .take_webhooks()
                .into_iter()
                .rev()
                .find(|delivery| delivery.event_type.starts_with("invoice."))
                .unwrap()
                .body,
        )
        .unwrap();
        body["id"] = Value::from("evt_from_the_future");
        body["type"] = Value::from("invoice.updated");
        body["created"] = Value::from(practice.mock.clock().now() + 10);
        body["data"]["object"]["status"] = Value::from("in_review");
        let payload = serde_json::to_vec(&body).unwrap();
        let header = billbridge::stripe::webhook::signature_header(
            &practice.mock.webhook_secret(),
            practice.mock.clock().now(),
            &payload,
        );
        let outcome = bridge
            .handle_webhook(&payload, Some(&header))
            .await
            .unwrap();
        assert!(outcome.changes.iter().any(|change| matches!(
            change,
            WebhookChange::InvoiceStatusUnrecognised { status: InvoiceStatus::Open, stripe_status, .. }
                if stripe_status == "in_review"
        )));
        let kept = bridge.invoice("INV-NEW-STATUS").await.unwrap().unwrap();
        assert_eq!(kept.status, InvoiceStatus::Open);
        assert_eq!(kept.unrecognised_status.as_deref(), Some("in_review"));
        // The host can still act on what it knows.
        let paid = bridge
            .mark_paid_outside_stripe("INV-NEW-STATUS", &PaidOutside::new(PaymentMethod::Cash))
            .await
            .unwrap();
        assert_eq!(paid.status, InvoiceStatus::Paid);
        assert_eq!(paid.unrecognised_status, None);
    }
}

mod personal_fields {
    use super::*;

    /// The raw host values of each personal field of John (and his appointment).
    fn values() -> Vec<(Field, &'static str)> {
        vec![
            (Field::PatientFirstName, "John"),
            (Field::PatientLastName, "Deer"),
            (Field::PatientName, "John Deer"),
            (Field::PatientDateOfBirth, "1971-03-02"),
            (Field::PatientGender, "male"),
            (Field::PatientMobile, "+447700900101"),
            (Field::PatientEmail, "john.deer@example.com"),
            (Field::PatientPostcode, "BS1 4DJ"),
            (Field::RegisteredPractitioner, "Dr Amara Okafor"),
            (Field::AppointmentLocation, "Harbour Street Clinic"),
        ]
    }

    /// Every string value anywhere in a JSON document.
    fn strings(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
            Value::Object(map) => map.values().for_each(|item| strings(item, out)),
            _ => {}
        }
    }

    #[tokio::test]
    async fn a_field_switched_off_is_found_nowhere_in_stripe_after_the_next_sync() {
        for (field, raw) in values() {
            let mock = MockStripe::new();
            let store = MemoryStore::new();
            let before = bridge_over(&mock, &store, hero(), false);
            before
                .upsert_customer(&Party::Patient(john()))
                .await
                .unwrap();
            let customer = before.customer(&john().payer()).await.unwrap().unwrap();
            let path = format!("/v1/customers/{}", customer.stripe_customer_id);
            let mut sent = Vec::new();
            strings(&get_json(&mock, &path).await, &mut sent);
            if matches!(
                field,
                Field::PatientName
                    | Field::PatientEmail
                    | Field::PatientMobile
                    | Field::PatientPostcode
                    | Field::PatientFirstName
                    | Field::PatientLastName
                    | Field::PatientDateOfBirth
                    | Field::PatientGender
                    | Field::RegisteredPractitioner
            ) {
                assert!(
                    sent.iter().any(|text| text == raw),
                    "{field} reached Stripe first"
                );
            }

            // The practice switches the field off; the next sync removes it everywhere.
            let after = bridge_over(&mock, &store, hero().without(field), false);
            after
                .upsert_customer(&Party::Patient(john()))
                .await
                .unwrap();
            let invoice = after
                .raise_invoice(&johns_draft("INV-POLICY"), Some(&john()), Raise::Finalize)
                .await
                .unwrap();
            let mut found = Vec::new();
            strings(&get_json(&mock, &path).await, &mut found);
            strings(
                &get_json(
                    &mock,
                    &format!("/v1/invoices/{}", invoice.stripe_invoice_id),
                )
                .await,
                &mut found,
            );
            let leaked: Vec<&String> = found.iter().filter(|text| text.contains(raw)).collect();
            // A full name contains the first and last names: those are only checked
            // where they stand alone.
            let leaked: Vec<&&String> = leaked
                .iter()
                .filter(|text| {
                    !matches!(field, Field::PatientFirstName | Field::PatientLastName)
                        || text.as_str() == raw
                })
                .collect();
            // The practitioner is also the appointment's practitioner, a field of its own.
            let leaked: Vec<&&&String> = leaked
                .iter()
                .filter(|_| field != Field::RegisteredPractitioner)
                .collect();
            assert!(leaked.is_empty(), "{field} still in Stripe: {leaked:?}");
        }
    }

    #[tokio::test]
    async fn a_line_cannot_bring_back_a_field_the_policy_manages() {
        let practice = practice(hero().without(Field::PatientMobile), false);
        practice
            .bridge
            .upsert_customer(&Party::Patient(john()))
            .await
            .unwrap();
        let mut sneaky = johns_draft("INV-SNEAKY");
        sneaky.lines[0] = sneaky.lines[0]
            .clone()
            .with_metadata("patient_mobile", "+447700900101");
        let error = practice
            .bridge
            .raise_invoice(&sneaky, Some(&john()), Raise::Draft)
            .await
            .unwrap_err();
        assert_eq!(error.code(), "metadata_duplicate_key");
        assert_eq!(
            stripe_invoice_count(&practice.bridge).await,
            0,
            "nothing sent"
        );
    }
}

//! The host-facing workflows of `Billbridge` against MockStripe: customers and their
//! metadata, default payers, balances and previews, raising invoices (with crashes at
//! every step), every invoice action and the illegal ones, webhooks delivered twice and
//! out of order, re-sync and bulk operations.

// Helpers outside #[test] functions are not covered by clippy's `allow-unwrap-in-tests`;
// a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used)]

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
    let created = bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    assert_eq!(created.outcome, UpsertOutcome::Created);
    assert_eq!(created.host_party_id, "P-1001");
    let before = writes(&practice.mock).len();
    let again = bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    assert_eq!(again.outcome, UpsertOutcome::Unchanged);
    assert_eq!(again.stripe_customer_id, created.stripe_customer_id);
    assert_eq!(
        writes(&practice.mock).len(),
        before,
        "nothing sent when unchanged"
    );

    let customer = bridge
        .client()
        .customers()
        .retrieve(&created.stripe_customer_id, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(customer.name.as_deref(), Some("John Deer"));
    assert_eq!(customer.email.as_deref(), Some("john.deer@example.com"));
    assert_eq!(customer.metadata.get("gender"), Some("male"));
    assert_eq!(customer.metadata.get("date_of_birth"), Some("1971-03-02"));
    assert_eq!(customer.metadata.get("host_patient_id"), Some("P-1001"));

    let moved = john().with_mobile("+447700900999");
    let updated = bridge
        .upsert_customer(&Party::Patient(moved))
        .await
        .unwrap();
    assert_eq!(updated.outcome, UpsertOutcome::Updated);
    let customer = bridge
        .client()
        .customers()
        .retrieve(&created.stripe_customer_id, &RequestContext::new())
        .await
        .unwrap();
    assert_eq!(customer.phone.as_deref(), Some("+447700900999"));
    assert_eq!(customer.metadata.get("mobile"), Some("+447700900999"));
}

#[tokio::test]
async fn switching_a_field_off_removes_it_from_the_customer_and_the_invoice() {
    let practice = practice(hero(), true);
    let bridge = &practice.bridge;
    let record = bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    let draft = johns_draft("INV-META");
    let raised = bridge
        .raise_invoice(&draft, Some(&john()), Raise::Finalize)
        .await
        .unwrap();
    assert_eq!(raised.metadata.get("patient_gender"), Some("male"));

    let stricter = hero().without(Field::PatientGender);
    let restarted = bridge_over(&practice.mock, &practice.store, stricter, true);
    let outcome = restarted
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    assert_eq!(outcome.outcome, UpsertOutcome::Updated);
    let customer = restarted
        .client()
        .customers()
        .retrieve(&record.stripe_customer_id, &RequestContext::new())
        .await
        .unwrap();
    assert!(!customer.metadata.contains_key("gender"));
    assert_eq!(customer.metadata.get("full_name"), Some("John Deer"));

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
    assert_eq!(invoice.metadata.get("patient_name"), Some("John Deer"));
    assert_eq!(
        invoice.metadata.get("appointment_location"),
        Some("Harbour Street Clinic")
    );
    let again = restarted
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    assert_eq!(again.outcome, UpsertOutcome::Unchanged);
}

#[tokio::test]
async fn default_payer_receives_the_patients_invoice() {
    let practice = practice(hero(), true);
    let bridge = &practice.bridge;
    bridge
        .upsert_customer(&Party::Patient(maria()))
        .await
        .unwrap();
    let org = bridge
        .upsert_customer(&Party::Organisation(northwind()))
        .await
        .unwrap();
    bridge
        .set_default_payer(&maria().id, &northwind().id)
        .await
        .unwrap();
    let draft = billbridge::domain::invoice::InvoiceDraft::for_patient(&maria())
        .host_id(InvoiceId::new("INV-M").unwrap())
        .line(billbridge::domain::invoice::InvoiceLine::catalogue(
            &follow_up(),
            1,
        ));
    assert_eq!(
        bridge.resolve_payer(&draft).await.unwrap(),
        PayerRef::Organisation(northwind().id)
    );
    let raised = bridge
        .raise_invoice(&draft, Some(&maria()), Raise::Draft)
        .await
        .unwrap();
    assert_eq!(raised.stripe_customer_id, org.stripe_customer_id);
    assert_eq!(raised.payer.host_id(), "ORG-1");
    assert_eq!(raised.payer.kind(), "organisation");
    assert_eq!(
        raised.patient.as_ref().map(|patient| patient.as_str()),
        Some("P-1002")
    );
    assert_eq!(raised.metadata.get("patient_name"), Some("María López"));
    assert_eq!(raised.metadata.get("host_payer_id"), Some("ORG-1"));

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
    bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    let john_pays = PayerRef::Patient(john().id);
    let credit = bridge
        .adjust_balance(
            &john_pays,
            Money::gbp(-5000),
            "Missed appointment kept as credit",
            "ADJ-1",
        )
        .await
        .unwrap();
    assert_eq!(credit.ending_balance, Money::gbp(-5000));
    let repeated = bridge
        .adjust_balance(
            &john_pays,
            Money::gbp(-5000),
            "Missed appointment kept as credit",
            "ADJ-1",
        )
        .await
        .unwrap();
    assert_eq!(
        repeated.stripe_transaction_id, credit.stripe_transaction_id,
        "never doubled"
    );
    assert_eq!(bridge.balance(&john_pays).await.unwrap(), Money::gbp(-5000));

    let draft = johns_draft("INV-BAL");
    let requests_before = practice.mock.requests().len();
    let preview = bridge.preview(&draft).await.unwrap();
    let sent: Vec<_> = practice.mock.requests()[requests_before..]
        .iter()
        .map(|request| request.method)
        .collect();
    assert!(
        sent.iter().all(|method| *method == Method::Get),
        "preview only reads"
    );
    assert_eq!(preview.total, Money::gbp(8500));
    assert_eq!(preview.amount_due, Money::gbp(3500));
    assert_eq!(preview.ending_balance, Money::gbp(0));

    let raised = bridge
        .raise_invoice(&draft, Some(&john()), Raise::Finalize)
        .await
        .unwrap();
    assert_eq!(raised.total, Money::gbp(8500));
    assert_eq!(raised.amount_due, preview.amount_due);
    assert_eq!(raised.starting_balance, Money::gbp(-5000));
    assert_eq!(raised.ending_balance, Some(Money::gbp(0)));

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
    bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    let draft = bridge
        .raise_invoice(&johns_draft("INV-D"), Some(&john()), Raise::Draft)
        .await
        .unwrap();
    assert_eq!(draft.status, InvoiceStatus::Draft);
    assert_eq!(draft.total, Money::gbp(8500));
    assert!(draft.number.is_none());

    let finalized = bridge
        .raise_invoice(&johns_draft("INV-F"), Some(&john()), Raise::Finalize)
        .await
        .unwrap();
    assert_eq!(finalized.status, InvoiceStatus::Open);
    assert!(finalized.number.is_some());
    assert!(finalized.hosted_invoice_url.is_some());
    assert!(finalized.invoice_pdf.is_some());
    assert_eq!(finalized.amount_due, Money::gbp(8500));

    let before = writes(&practice.mock);
    let sent = bridge
        .raise_invoice(&johns_draft("INV-S"), Some(&john()), Raise::FinalizeAndSend)
        .await
        .unwrap();
    assert_eq!(sent.status, InvoiceStatus::Open);
    let after = writes(&practice.mock);
    let new: Vec<_> = after[before.len()..]
        .iter()
        .map(|(_, path)| path.clone())
        .collect();
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

mod actions {
    use super::*;
    use billbridge::sync::{PaidOutside, PaymentMethod};

    async fn raised(
        practice: &Practice,
        host: &str,
        mode: Raise,
    ) -> billbridge::sync::InvoiceRecord {
        practice
            .bridge
            .upsert_customer(&Party::Patient(john()))
            .await
            .unwrap();
        practice
            .bridge
            .raise_invoice(&johns_draft(host), Some(&john()), mode)
            .await
            .unwrap()
    }

    /// Asserts `result` is an illegal transition and that the mock received no write.
    async fn refused<T: std::fmt::Debug>(
        practice: &Practice,
        result: impl std::future::Future<Output = Result<T, billbridge::Error>>,
    ) {
        let before = writes(&practice.mock).len();
        let error = result.await.unwrap_err();
        assert_eq!(error.code(), "illegal_transition", "{error}");
        assert_eq!(error.category(), billbridge::ErrorCategory::InvalidState);
        assert_eq!(writes(&practice.mock).len(), before, "nothing sent");
    }

    #[tokio::test]
    async fn draft_allows_only_finalize_edit_and_delete() {
        let practice = practice(hero(), true);
        let record = raised(&practice, "INV-A1", Raise::Draft).await;
        let bridge = &practice.bridge;
        let host = record.host_invoice_id.as_str();
        refused(&practice, bridge.send(host)).await;
        refused(&practice, bridge.void(host)).await;
        refused(&practice, bridge.mark_uncollectible(host)).await;
        refused(
            &practice,
            bridge.mark_paid_outside_stripe(host, &PaidOutside::new(PaymentMethod::Cash)),
        )
        .await;
        let open = bridge.finalize(host).await.unwrap();
        assert_eq!(open.status, InvoiceStatus::Open);
        refused(&practice, bridge.finalize(host)).await;
        refused(&practice, bridge.delete_draft(host)).await;
        refused(
            &practice,
            bridge.edit_draft(&johns_draft(host), Some(&john())),
        )
        .await;
    }

    #[tokio::test]
    async fn paid_outside_keeps_method_and_reference_and_is_final() {
        let practice = practice(hero(), true);
        let record = raised(&practice, "INV-A2", Raise::FinalizeAndSend).await;
        let bridge = &practice.bridge;
        let host = record.host_invoice_id.as_str();
        let payment = PaidOutside::new(PaymentMethod::Cash)
            .reference("RECEIPT-77")
            .on(billbridge::domain::date::Date::parse("2026-11-21").unwrap());
        let paid = bridge
            .mark_paid_outside_stripe(host, &payment)
            .await
            .unwrap();
        assert_eq!(paid.status, InvoiceStatus::Paid);
        assert_eq!(paid.amount_paid, Money::gbp(8500));
        assert_eq!(paid.amount_remaining, Money::gbp(0));
        let outside = paid.paid_outside.clone().unwrap();
        assert_eq!(outside.method, PaymentMethod::Cash);
        assert_eq!(outside.reference.as_deref(), Some("RECEIPT-77"));
        assert_eq!(paid.metadata.get("paid_outside_method"), Some("cash"));
        assert_eq!(paid.metadata.get("paid_outside_on"), Some("2026-11-21"));
        refused(&practice, bridge.void(host)).await;
        refused(&practice, bridge.mark_paid_outside_stripe(host, &payment)).await;
        refused(&practice, bridge.mark_uncollectible(host)).await;
        // A re-sync keeps the host's own record of the payment.
        let resynced = bridge.resync_invoice(host).await.unwrap();
        assert_eq!(resynced.paid_outside, paid.paid_outside);
    }

    #[tokio::test]
    async fn paid_outside_day_lands_in_the_mirror_and_dates_the_payment() {
        use billbridge::domain::date::Date;
        use billbridge::report::{self, DateRange};
        use billbridge::store::SyncStore;

        let practice = practice(hero(), true);
        let bridge = &practice.bridge;
        let transfer = raised(&practice, "INV-A6", Raise::FinalizeAndSend)
            .await
            .host_invoice_id;
        let cash = raised(&practice, "INV-A7", Raise::FinalizeAndSend)
            .await
            .host_invoice_id;
        // Marked on 9 March 2026 at 10:00 UTC.
        let marked_at = 1_773_050_400;
        practice.mock.clock().set(marked_at);
        practice.mock.take_webhooks();

        let received = Date::parse("2026-03-02").unwrap();
        let paid = bridge
            .mark_paid_outside_stripe(
                &transfer,
                &PaidOutside::new(PaymentMethod::BankTransfer).on(received),
            )
            .await
            .unwrap();
        assert_eq!(paid.paid_outside.as_ref().unwrap().paid_on, Some(received));
        assert_eq!(
            paid.paid_at,
            Some(marked_at),
            "Stripe's time of the marking"
        );
        let stored = practice
            .store
            .invoice_mirror(None, &transfer)
            .await
            .unwrap();
        let stored = stored.map(|row| billbridge::sync::InvoiceRecord::from_row(&row).unwrap());
        assert_eq!(stored.as_ref(), Some(&paid));

        // Without a day given: today by the bridge's clock, kept off Stripe's metadata.
        let today = bridge
            .mark_paid_outside_stripe(&cash, &PaidOutside::new(PaymentMethod::Cash))
            .await
            .unwrap();
        assert_eq!(
            today.paid_outside.as_ref().unwrap().paid_on,
            Some(Date::parse("2026-03-09").unwrap())
        );
        assert_eq!(today.metadata.get("paid_outside_on"), None);

        // The webhooks of the markings, and a re-sync, keep the host's record.
        for delivery in practice.mock.take_webhooks() {
            bridge
                .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                .await
                .unwrap();
        }
        let resynced = bridge.resync_invoice(&transfer).await.unwrap();
        assert_eq!(resynced.paid_outside, paid.paid_outside);
        assert_eq!(
            bridge.invoice(&cash).await.unwrap().unwrap().paid_outside,
            today.paid_outside
        );

        let on = |day: &str| DateRange::day(Date::parse(day).unwrap()).unwrap();
        let second = report::payments_received(&practice.store, None, on("2026-03-02"))
            .collect_all()
            .await
            .unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].host_invoice_id, transfer);
        assert_eq!(second[0].date, received);
        let ninth = report::payments_received(&practice.store, None, on("2026-03-09"))
            .collect_all()
            .await
            .unwrap();
        let ids: Vec<&str> = ninth.iter().map(|p| p.host_invoice_id.as_str()).collect();
        assert_eq!(
            ids,
            [cash.as_str()],
            "the transfer is not dated by its marking"
        );
    }

    #[tokio::test]
    async fn void_and_uncollectible_follow_the_state_machine() {
        let practice = practice(hero(), true);
        let bridge = &practice.bridge;
        let voided_host = raised(&practice, "INV-A3", Raise::Finalize)
            .await
            .host_invoice_id;
        let voided = bridge.void(&voided_host).await.unwrap();
        assert_eq!(voided.status, InvoiceStatus::Void);
        refused(&practice, bridge.void(&voided_host)).await;
        refused(&practice, bridge.send(&voided_host)).await;

        let doubtful = raised(&practice, "INV-A4", Raise::Finalize)
            .await
            .host_invoice_id;
        let uncollectible = bridge.mark_uncollectible(&doubtful).await.unwrap();
        assert_eq!(uncollectible.status, InvoiceStatus::Uncollectible);
        refused(&practice, bridge.mark_uncollectible(&doubtful)).await;
        let paid = bridge
            .mark_paid_outside_stripe(&doubtful, &PaidOutside::new(PaymentMethod::BankTransfer))
            .await
            .unwrap();
        assert_eq!(paid.status, InvoiceStatus::Paid);
    }

    #[tokio::test]
    async fn deleted_draft_needs_a_new_revision_to_be_raised_again() {
        let practice = practice(hero(), true);
        let bridge = &practice.bridge;
        let host = raised(&practice, "INV-A5", Raise::Draft)
            .await
            .host_invoice_id;
        let deleted = bridge.delete_draft(&host).await.unwrap();
        assert_eq!(deleted.status, InvoiceStatus::Deleted);
        refused(&practice, bridge.finalize(&host)).await;
        let again = bridge
            .raise_invoice(&johns_draft(&host), Some(&john()), Raise::Draft)
            .await
            .unwrap_err();
        assert_eq!(again.code(), "invoice_deleted");
        let mut revised = johns_draft(&host);
        revised.bump_revision();
        let raised = bridge
            .raise_invoice(&revised, Some(&john()), Raise::Finalize)
            .await
            .unwrap();
        assert_eq!(raised.status, InvoiceStatus::Open);
        assert_ne!(raised.stripe_invoice_id, deleted.stripe_invoice_id);
    }

    #[tokio::test]
    async fn editing_a_draft_replaces_its_lines_and_keeps_one_invoice() {
        let practice = practice(hero(), true);
        let bridge = &practice.bridge;
        let first = raised(&practice, "INV-A6", Raise::Draft).await;
        let mut edited = johns_draft("INV-A6");
        edited.remove_line(1);
        edited.set_memo(Some("Follow-up only".to_owned()));
        let record = bridge.edit_draft(&edited, Some(&john())).await.unwrap();
        assert_eq!(record.status, InvoiceStatus::Draft);
        assert_eq!(record.total, Money::gbp(5000));
        assert_ne!(record.stripe_invoice_id, first.stripe_invoice_id);
        let finalized = bridge
            .raise_invoice(&edited, Some(&john()), Raise::Finalize)
            .await
            .unwrap();
        assert_eq!(finalized.stripe_invoice_id, record.stripe_invoice_id);
        assert_eq!(finalized.amount_due, Money::gbp(5000));
        let open = billbridge::stripe::client::ListInvoices {
            status: Some(InvoiceStatus::Draft),
            ..Default::default()
        };
        let mut pager = bridge
            .client()
            .invoices()
            .list(&open, &RequestContext::new())
            .unwrap();
        let drafts = pager.next_page().await.unwrap().unwrap_or_default();
        assert!(drafts.is_empty(), "the first draft was deleted");
    }
}

mod crashes {
    use super::*;
    use billbridge::stripe::transport::TransportErrorKind;
    use billbridge_mock::Fault;

    /// Raises John's invoice to sending, with `fault` injected on the first POST whose
    /// path starts with `path` after `prepare` brought the raise to the step under
    /// test; then restarts and raises again. Exactly one invoice must exist, with both
    /// lines, finalized and sent once.
    async fn crash_then_resume(prepare: Option<Raise>, path: &str, fault: Fault) {
        let practice = practice(hero(), false);
        practice
            .bridge
            .upsert_customer(&Party::Patient(john()))
            .await
            .unwrap();
        let draft = johns_draft("INV-CRASH");
        if let Some(mode) = prepare {
            practice
                .bridge
                .raise_invoice(&draft, Some(&john()), mode)
                .await
                .unwrap();
        }
        practice
            .mock
            .faults()
            .next_requests_to(Some(Method::Post), path, fault, 1);
        let first = practice
            .bridge
            .raise_invoice(&draft, Some(&john()), Raise::FinalizeAndSend)
            .await;
        assert!(first.is_err(), "the fault must reach the workflow");

        let restarted = bridge_over(&practice.mock, &practice.store, hero(), false);
        let record = restarted
            .raise_invoice(&draft, Some(&john()), Raise::FinalizeAndSend)
            .await
            .unwrap();
        assert_eq!(record.status, InvoiceStatus::Open);
        assert_eq!(record.total, Money::gbp(8500));
        assert_eq!(record.amount_due, Money::gbp(8500));
        assert_eq!(
            stripe_invoice_count(&restarted).await,
            1,
            "{path} {fault:?}"
        );
        let mut lines = restarted
            .client()
            .invoices()
            .list_lines(&record.stripe_invoice_id, None, &RequestContext::new())
            .unwrap();
        let lines = lines.next_page().await.unwrap().unwrap();
        let mut amounts: Vec<i64> = lines.iter().map(|line| line.amount).collect();
        amounts.sort_unstable();
        assert_eq!(amounts, [3500, 5000]);
        let sends = practice
            .mock
            .requests()
            .into_iter()
            .filter(|request| request.path.ends_with("/send") && !request.replayed)
            .filter(|request| {
                matches!(
                    request.outcome,
                    billbridge_mock::RequestOutcome::Answered(200)
                        | billbridge_mock::RequestOutcome::NoResponse { applied: true, .. }
                )
            })
            .count();
        assert_eq!(sends, 1, "sent exactly once");
    }

    const LOST: Fault = Fault::AppliedResponseLost(TransportErrorKind::Timeout);

    #[tokio::test]
    async fn create_answer_lost() {
        crash_then_resume(None, "/v1/invoices", LOST).await;
    }

    #[tokio::test]
    async fn create_server_error() {
        crash_then_resume(None, "/v1/invoices", Fault::SERVER_ERROR).await;
    }

    #[tokio::test]
    async fn add_lines_answer_lost() {
        crash_then_resume(None, "/v1/invoices/", LOST).await;
    }

    #[tokio::test]
    async fn add_lines_server_error() {
        crash_then_resume(None, "/v1/invoices/", Fault::SERVER_ERROR).await;
    }

    #[tokio::test]
    async fn finalize_answer_lost() {
        crash_then_resume(Some(Raise::Draft), "/v1/invoices/", LOST).await;
    }

    #[tokio::test]
    async fn finalize_server_error() {
        crash_then_resume(Some(Raise::Draft), "/v1/invoices/", Fault::SERVER_ERROR).await;
    }

    #[tokio::test]
    async fn send_answer_lost() {
        crash_then_resume(Some(Raise::Finalize), "/v1/invoices/", LOST).await;
    }

    #[tokio::test]
    async fn send_connection_reset() {
        crash_then_resume(
            Some(Raise::Finalize),
            "/v1/invoices/",
            Fault::ConnectionReset,
        )
        .await;
    }
}

mod webhooks {
    use super::*;
    use billbridge::stripe::client::PayInvoice;
    use billbridge::sync::{WebhookChange, WebhookDisposition};
    use billbridge_mock::{SignatureTime, WebhookOptions};

    async fn paid_on_hosted_page(practice: &Practice, host: &str) -> String {
        practice
            .bridge
            .upsert_customer(&Party::Patient(john()))
            .await
            .unwrap();
        let record = practice
            .bridge
            .raise_invoice(&johns_draft(host), Some(&john()), Raise::FinalizeAndSend)
            .await
            .unwrap();
        let pay = PayInvoice {
            payment_method: Some("pm_card_visa".to_owned()),
            ..PayInvoice::default()
        };
        practice
            .bridge
            .client()
            .invoices()
            .pay(&record.stripe_invoice_id, &pay, &RequestContext::new())
            .await
            .unwrap();
        record.host_invoice_id
    }

    #[tokio::test]
    async fn a_card_payment_webhook_records_stripes_payment_time() {
        let practice = practice(hero(), true);
        practice.mock.take_webhooks();
        let paid_at = practice.mock.clock().now();
        let host = paid_on_hosted_page(&practice, "INV-CARD").await;
        for delivery in practice.mock.take_webhooks() {
            practice
                .bridge
                .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                .await
                .unwrap();
        }
        let mirror = practice.bridge.invoice(&host).await.unwrap().unwrap();
        assert_eq!(mirror.status, InvoiceStatus::Paid);
        assert_eq!(mirror.paid_at, Some(paid_at));
        assert_eq!(mirror.paid_outside, None);
    }

    #[tokio::test]
    async fn duplicated_and_shuffled_deliveries_end_paid() {
        for seed_round in 0..4 {
            let practice = practice(hero(), true);
            practice.mock.set_webhook_options(WebhookOptions {
                duplicate_rate: 1.0,
                reorder: true,
                signature_time: SignatureTime::MockClock,
                ..WebhookOptions::default()
            });
            let host = paid_on_hosted_page(&practice, &format!("INV-W{seed_round}")).await;
            let mut deliveries = practice.mock.take_webhooks();
            if seed_round % 2 == 1 {
                deliveries.reverse();
            }
            assert!(deliveries.len() >= 8, "every event twice");
            let mut duplicates = 0;
            let mut paid_changes = 0;
            let mut applied = std::collections::BTreeSet::new();
            for delivery in &deliveries {
                let outcome = practice
                    .bridge
                    .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                    .await
                    .unwrap();
                assert_eq!(outcome.event_id, delivery.event_id);
                match outcome.disposition {
                    WebhookDisposition::Duplicate => duplicates += 1,
                    WebhookDisposition::Applied => {
                        assert!(applied.insert(outcome.event_id.clone()), "applied twice");
                    }
                    WebhookDisposition::Ignored => {}
                }
                paid_changes += outcome
                    .changes
                    .iter()
                    .filter(|change| matches!(change, WebhookChange::InvoicePaid { .. }))
                    .count();
            }
            assert_eq!(duplicates, applied.len(), "every applied event came twice");
            let record = practice.bridge.invoice(&host).await.unwrap().unwrap();
            assert_eq!(record.status, InvoiceStatus::Paid, "round {seed_round}");
            assert_eq!(record.amount_paid, Money::gbp(8500));
            assert_eq!(record.amount_remaining, Money::gbp(0));
            assert_eq!(paid_changes, 1, "paid is reported once");
        }
    }

    #[tokio::test]
    async fn forged_or_stale_deliveries_are_rejected_and_change_nothing() {
        let practice = practice(hero(), true);
        let host = paid_on_hosted_page(&practice, "INV-FORGED").await;
        let deliveries = practice.mock.take_webhooks();
        let paid = deliveries
            .iter()
            .find(|delivery| delivery.event_type == "invoice.paid")
            .unwrap();
        let mut forged = paid.body.clone();
        let position = forged.len() / 2;
        forged[position] = forged[position].wrapping_add(1);
        let error = practice
            .bridge
            .handle_webhook(&forged, Some(&paid.signature_header))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "signature_mismatch");
        assert_eq!(error.category(), billbridge::ErrorCategory::Signature);
        let wrong_secret = billbridge::stripe::webhook::signature_header(
            "whsec_not_the_endpoint_secret",
            practice.mock.clock().now(),
            &paid.body,
        );
        let error = practice
            .bridge
            .handle_webhook(&paid.body, Some(&wrong_secret))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "signature_mismatch");
        assert_eq!(
            practice
                .bridge
                .handle_webhook(&paid.body, None)
                .await
                .unwrap_err()
                .code(),
            "missing_header"
        );
        practice.mock.clock().advance(3600);
        let error = practice
            .bridge
            .handle_webhook(&paid.body, Some(&paid.signature_header))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "timestamp_out_of_tolerance");
        let record = practice.bridge.invoice(&host).await.unwrap().unwrap();
        assert_eq!(record.status, InvoiceStatus::Open, "nothing applied");
    }

    #[tokio::test]
    async fn unknown_invoices_and_event_types_are_acknowledged_and_ignored() {
        let practice = practice(hero(), true);
        let customer = practice
            .bridge
            .upsert_customer(&Party::Patient(john()))
            .await
            .unwrap();
        practice.mock.take_webhooks();
        // An invoice raised outside billbridge, without a host invoice id.
        let params = billbridge::stripe::client::CreateInvoice::new(customer.stripe_customer_id);
        practice
            .bridge
            .client()
            .invoices()
            .create(&params, &RequestContext::new())
            .await
            .unwrap();
        for delivery in practice.mock.take_webhooks() {
            let outcome = practice
                .bridge
                .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                .await
                .unwrap();
            assert_eq!(
                outcome.disposition,
                WebhookDisposition::Ignored,
                "{}",
                outcome.event_type
            );
            assert!(outcome.changes.is_empty());
        }
    }

    #[tokio::test]
    async fn resync_recovers_missed_webhooks() {
        let practice = practice(hero(), true);
        let since = practice.mock.clock().now();
        let host = paid_on_hosted_page(&practice, "INV-MISSED").await;
        practice.mock.take_webhooks(); // lost
        assert_eq!(
            practice
                .bridge
                .invoice(&host)
                .await
                .unwrap()
                .unwrap()
                .status,
            InvoiceStatus::Open
        );
        let records = practice.bridge.resync_changed_since(since).await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, InvoiceStatus::Paid);
        assert_eq!(records[0].amount_paid, Money::gbp(8500));
        let one = practice.bridge.resync_invoice(&host).await.unwrap();
        assert_eq!(one.status, InvoiceStatus::Paid);
    }
}

mod bulk {
    use super::*;
    use billbridge::domain::invoice::{InvoiceDraft, InvoiceLine};
    use billbridge::domain::party::{Patient, PatientId};
    use billbridge::sync::{BulkOptions, BulkProgress, InvoiceRequest};
    use std::sync::{Arc, Mutex};

    #[test]
    fn the_default_rate_follows_the_key_mode_and_can_be_set() {
        use billbridge::stripe::client::StripeClient;
        use billbridge::stripe::http::HttpTransport;
        use billbridge::stripe::key::ApiKey;
        use billbridge::sync::{
            Billbridge, IdempotencySecret, LIVE_MODE_REQUESTS_PER_SECOND,
            TEST_MODE_REQUESTS_PER_SECOND,
        };
        let bridge_over = |client: StripeClient, rate: Option<u32>| {
            let builder = Billbridge::builder(client)
                .idempotency_secret(IdempotencySecret::new(bridge_common::SECRET).unwrap());
            match rate {
                Some(rate) => builder.requests_per_second(rate),
                None => builder,
            }
            .build()
            .unwrap()
            .requests_per_second()
        };
        let http =
            |key: &str| StripeClient::new(HttpTransport::new(ApiKey::parse(key).unwrap()).unwrap());
        assert_eq!(
            bridge_over(http("sk_live_abc123"), None),
            LIVE_MODE_REQUESTS_PER_SECOND
        );
        assert_eq!(
            bridge_over(http("rk_test_abc123"), None),
            TEST_MODE_REQUESTS_PER_SECOND
        );
        assert_eq!(
            bridge_over(StripeClient::new(billbridge_mock::MockStripe::new()), None),
            TEST_MODE_REQUESTS_PER_SECOND
        );
        assert_eq!(bridge_over(http("sk_live_abc123"), Some(40)), 40);
    }

    fn patient(number: usize) -> Patient {
        Patient::new(
            PatientId::new(format!("P-{number}")).unwrap(),
            "Test",
            format!("Patient {number}"),
        )
        .with_email(format!("patient{number}@example.com"))
    }

    #[tokio::test]
    async fn one_failing_customer_does_not_stop_the_rest() {
        let practice = practice(hero(), true);
        let mut parties: Vec<Party> = (0..12).map(|n| Party::Patient(patient(n))).collect();
        parties[5] = Party::Patient(patient(5).with_email("not-an-email"));
        let seen: Arc<Mutex<Vec<BulkProgress>>> = Arc::default();
        let log = Arc::clone(&seen);
        let options = BulkOptions {
            concurrency: 4,
            requests_per_second: Some(100),
            progress: Some(Arc::new(move |progress| log.lock().unwrap().push(progress))),
        };
        let outcomes = practice
            .bridge
            .upsert_customers(&parties, &options)
            .await
            .unwrap();
        assert_eq!(outcomes.len(), 12);
        for (position, outcome) in outcomes.iter().enumerate() {
            assert_eq!(outcome.index, position);
            if position == 5 {
                assert_eq!(outcome.result.as_ref().unwrap_err().code(), "invalid_email");
            } else {
                let record = outcome.result.as_ref().unwrap();
                assert_eq!(record.outcome, UpsertOutcome::Created);
                assert_eq!(record.host_party_id, format!("P-{position}"));
            }
        }
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 12);
        assert_eq!(seen.last().unwrap().done, 12);
        assert_eq!(seen.last().unwrap().failed, 1);
        let created = practice
            .mock
            .requests()
            .iter()
            .filter(|request| request.method == Method::Post && request.path == "/v1/customers")
            .count();
        assert_eq!(created, 11, "no duplicate customers");
    }

    #[tokio::test]
    async fn invoices_raise_in_bulk_and_report_each_outcome() {
        let practice = practice(hero(), true);
        let parties: Vec<Party> = (0..6).map(|n| Party::Patient(patient(n))).collect();
        practice
            .bridge
            .upsert_customers(&parties[..5], &BulkOptions::default())
            .await
            .unwrap();
        let requests: Vec<InvoiceRequest> = (0..6)
            .map(|n| InvoiceRequest {
                draft: InvoiceDraft::for_patient(&patient(n))
                    .host_id(InvoiceId::new(format!("INV-B{n}")).unwrap())
                    .line(InvoiceLine::catalogue(&follow_up(), n as u32 + 1)),
                patient: Some(patient(n)),
            })
            .collect();
        let outcomes = practice
            .bridge
            .raise_invoices(&requests, Raise::Finalize, &BulkOptions::default())
            .await
            .unwrap();
        for (n, outcome) in outcomes.iter().enumerate() {
            match &outcome.result {
                Ok(record) => assert_eq!(record.amount_due, Money::gbp(5000 * (n as i64 + 1))),
                Err(error) => {
                    assert_eq!(n, 5, "only the patient without a customer fails");
                    assert_eq!(error.code(), "customer_not_synced");
                }
            }
        }
        assert_eq!(
            outcomes
                .iter()
                .filter(|outcome| outcome.result.is_ok())
                .count(),
            5
        );
        assert_eq!(stripe_invoice_count(&practice.bridge).await, 5);
    }
}

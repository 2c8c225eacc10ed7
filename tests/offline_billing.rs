//! A small practice day with no Stripe account: invoices raised on the ledger, paid by
//! hand in parts, voided and written off, a service split between insurer and client
//! invoiced from billing rates, and the same reports and CSV export as with Stripe.

// Helpers outside #[test] functions unwrap too, which clippy's allow-unwrap-in-tests
// does not cover; a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use billbridge::domain::catalogue::{
    BillingRate, BillingRates, RateId, RatePayer, Service, ServiceId,
};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::ledger::{LedgerError, ManualPayment, PaymentMethod};
use billbridge::domain::money::Money;
use billbridge::domain::party::{Patient, PatientId, PayerRef};
use billbridge::domain::status::InvoiceStatus;
use billbridge::report::{self, Column, DateRange, PaymentChannel, PaymentColumn};
use billbridge::sync::offline::{
    MemoryLedgerStore, OfflineBilling, OfflineError, service_invoice_id,
};
use billbridge::sync::store::{MemoryStore, MetadataMap, SyncStore};

fn day() -> Date {
    Date::parse("2026-11-21").unwrap()
}

fn next_day() -> Date {
    Date::parse("2026-11-22").unwrap()
}

fn patient(id: &str, given: &str, family: &str) -> Patient {
    Patient::new(PatientId::new(id).unwrap(), given, family)
}

fn john_draft() -> InvoiceDraft {
    InvoiceDraft::for_patient(&patient("P-1001", "John", "Deer"))
        .host_id(InvoiceId::new("INV-1001").unwrap())
        .line(InvoiceLine::ad_hoc(
            "Follow-up session",
            Money::gbp(5000),
            1,
        ))
        .line(InvoiceLine::ad_hoc(
            "Home blood test kit",
            Money::gbp(3500),
            1,
        ))
        .due_in_days(14)
}

fn ben_draft(id: &str) -> InvoiceDraft {
    InvoiceDraft::for_patient(&patient("P-1004", "Ben", "Carter"))
        .host_id(InvoiceId::new(id).unwrap())
        .line(InvoiceLine::ad_hoc(
            "Follow-up session",
            Money::gbp(5000),
            1,
        ))
}

fn names(name: &str) -> MetadataMap {
    MetadataMap::from([("patient_name".to_owned(), name.to_owned())])
}

fn billing() -> OfflineBilling<MemoryStore> {
    OfflineBilling::new(MemoryStore::new(), MemoryLedgerStore::new())
}

#[tokio::test]
async fn raising_issues_a_numbered_dated_open_invoice_and_is_idempotent() {
    let billing = billing();
    let raised = billing
        .raise_with_metadata(&john_draft(), day(), names("John Deer"))
        .await
        .unwrap();
    assert_eq!(raised.status, InvoiceStatus::Open);
    assert_eq!(raised.number.as_deref(), Some("OFF-0001"));
    assert_eq!(raised.total, 8500);
    assert_eq!(raised.amount_due, 8500);
    assert_eq!(raised.amount_remaining, 8500);
    assert_eq!(raised.created, day().to_unix_timestamp());
    assert_eq!(
        raised.due_date,
        Some(Date::parse("2026-12-05").unwrap().to_unix_timestamp()),
        "due 14 days after the invoiced date"
    );
    assert_eq!(raised.stripe_invoice_id, "offline:INV-1001");
    assert_eq!(raised.stripe_customer_id, "offline:patient:P-1001");
    assert_eq!(raised.patient_host_id.as_deref(), Some("P-1001"));
    let stored = billing.invoice("INV-1001").await.unwrap().unwrap();
    assert_eq!(stored.invoice.invoiced_on, Some(day()));

    let again = billing
        .raise_with_metadata(&john_draft(), day(), names("John Deer"))
        .await
        .unwrap();
    assert_eq!(
        again, raised,
        "a re-run returns the same invoice, same number"
    );

    let changed = john_draft().line(InvoiceLine::ad_hoc("Postage", Money::gbp(450), 1));
    let error = billing.raise(&changed, day()).await.unwrap_err();
    assert!(matches!(error, OfflineError::AlreadyRaised { .. }));
    assert_eq!(error.code(), "invoice_already_raised");

    let mut no_id = john_draft();
    no_id.host_id = None;
    let error = billing.raise(&no_id, day()).await.unwrap_err();
    assert_eq!(error.code(), "missing_host_invoice_id");

    let second = billing.raise(&ben_draft("INV-1004"), day()).await.unwrap();
    assert_eq!(second.number.as_deref(), Some("OFF-0002"));
}

#[tokio::test]
async fn manual_payments_add_up_until_paid_and_overpayment_is_refused() {
    let billing = billing();
    billing.raise(&john_draft(), day()).await.unwrap();

    let cash = ManualPayment::new(PaymentMethod::Cash, Money::gbp(5000), day());
    let partly = billing.record_payment("INV-1001", cash).await.unwrap();
    assert_eq!(partly.status, InvoiceStatus::Open);
    assert_eq!(partly.amount_paid, 5000);
    assert_eq!(partly.amount_remaining, 3500);
    assert_eq!(partly.paid_outside.as_ref().unwrap().method, "cash");

    let too_much = ManualPayment::new(PaymentMethod::Cheque, Money::gbp(3501), next_day());
    let error = billing
        .record_payment("INV-1001", too_much)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        OfflineError::Ledger(LedgerError::Overpayment { .. })
    ));
    assert_eq!(error.code(), "overpayment");
    let unchanged = billing.invoice("INV-1001").await.unwrap().unwrap();
    assert_eq!(unchanged.invoice.payments.len(), 1, "nothing recorded");

    let rest = ManualPayment::new(PaymentMethod::BankTransfer, Money::gbp(3500), next_day())
        .with_reference("BACS-7781");
    let paid = billing.record_payment("INV-1001", rest).await.unwrap();
    assert_eq!(paid.status, InvoiceStatus::Paid);
    assert_eq!(paid.amount_paid, 8500);
    assert_eq!(paid.amount_remaining, 0);
    let outside = paid.paid_outside.unwrap();
    assert_eq!(outside.method, "bank_transfer");
    assert_eq!(outside.reference.as_deref(), Some("BACS-7781"));
    assert_eq!(paid.stripe_updated_at, next_day().to_unix_timestamp());

    let stored = billing
        .store()
        .invoice_mirror(None, "INV-1001")
        .await
        .unwrap();
    assert_eq!(
        stored.unwrap().status,
        InvoiceStatus::Paid,
        "mirror kept in step"
    );

    let error = billing
        .record_payment(
            "INV-404",
            ManualPayment::new(PaymentMethod::Cash, Money::gbp(1), day()),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unknown_invoice");
}

#[tokio::test]
async fn void_and_uncollectible_follow_the_state_machine() {
    let billing = billing();
    billing.raise(&ben_draft("INV-1004"), day()).await.unwrap();
    let voided = billing.void("INV-1004", day()).await.unwrap();
    assert_eq!(voided.status, InvoiceStatus::Void);
    let error = billing
        .record_payment(
            "INV-1004",
            ManualPayment::new(PaymentMethod::Cash, Money::gbp(100), day()),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "illegal_transition");
    assert!(billing.mark_uncollectible("INV-1004", day()).await.is_err());

    billing.raise(&ben_draft("INV-1005"), day()).await.unwrap();
    let written_off = billing.mark_uncollectible("INV-1005", day()).await.unwrap();
    assert_eq!(written_off.status, InvoiceStatus::Uncollectible);
    let insurer = ManualPayment::new(PaymentMethod::Insurance, Money::gbp(5000), next_day())
        .with_reference("CLAIM-77");
    let paid = billing.record_payment("INV-1005", insurer).await.unwrap();
    assert_eq!(
        paid.status,
        InvoiceStatus::Paid,
        "an uncollectible invoice can still be paid"
    );
}

fn rates() -> BillingRates {
    BillingRates::new([
        BillingRate::new(
            RateId::new("RATE-GEN").unwrap(),
            "General Service",
            false,
            RatePayer::Insurance,
        ),
        BillingRate::new(
            RateId::new("RATE-GEN-SELF").unwrap(),
            "General Service (Self-Pay)",
            true,
            RatePayer::Client,
        ),
    ])
    .unwrap()
}

#[tokio::test]
async fn billing_rates_invoice_the_clients_part_after_the_insurer_paid() {
    let billing = billing();
    let rates = rates();
    let eli = PatientId::new("P-1007").unwrap();
    let session = Service::new(
        ServiceId::new("SVC-9").unwrap(),
        eli.clone(),
        day(),
        RateId::new("RATE-GEN").unwrap(),
        Money::gbp(12000),
    );
    let self_pay = rates.get(&RateId::new("RATE-GEN-SELF").unwrap()).unwrap();
    let split = session.split_insurance(Money::gbp(8000), self_pay).unwrap();
    assert_eq!(split.client_part, Money::gbp(4000));
    let mut services = vec![split.insurer_service, split.client_service.unwrap()];

    let raised = billing
        .raise_for_services(
            &mut services,
            &rates,
            |service, _| PayerRef::Patient(service.patient.clone()),
            service_invoice_id,
            day(),
        )
        .await
        .unwrap();
    assert_eq!(
        raised.len(),
        1,
        "one invoice for Eli; the insurer's part is not invoiced"
    );
    let invoice = &raised[0].invoice;
    assert_eq!(invoice.total, 4000);
    assert_eq!(invoice.amount_due, 4000);
    assert_eq!(invoice.payer_host_id, "P-1007");
    assert_eq!(invoice.patient_host_id.as_deref(), Some("P-1007"));
    assert_eq!(invoice.host_invoice_id, "svc-SVC-9-self-pay");
    assert_eq!(
        raised[0].services,
        [ServiceId::new("SVC-9-self-pay").unwrap()]
    );

    assert_eq!(
        services[0].invoiced_on, None,
        "the insurer's service stays uninvoiced"
    );
    assert_eq!(
        services[1].invoiced_on,
        Some(day()),
        "invoiced date stamped"
    );
    let ledger = billing
        .invoice("svc-SVC-9-self-pay")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ledger.invoice.lines.len(), 1);
    assert_eq!(
        ledger.invoice.lines[0].description,
        "General Service (Self-Pay)"
    );

    let rerun = billing
        .raise_for_services(
            &mut services,
            &rates,
            |service, _| PayerRef::Patient(service.patient.clone()),
            service_invoice_id,
            next_day(),
        )
        .await
        .unwrap();
    assert!(rerun.is_empty(), "stamped services are not invoiced twice");
}

#[tokio::test]
async fn the_offline_day_reports_and_exports_like_a_stripe_day() {
    let billing = billing();
    billing
        .raise_with_metadata(&john_draft(), day(), names("John Deer"))
        .await
        .unwrap();
    billing
        .raise_with_metadata(&ben_draft("INV-1004"), day(), names("Ben Carter"))
        .await
        .unwrap();
    billing
        .raise_with_metadata(&ben_draft("INV-1005"), day(), names("Ben Carter"))
        .await
        .unwrap();
    billing
        .record_payment(
            "INV-1001",
            ManualPayment::new(PaymentMethod::Cash, Money::gbp(5000), day()),
        )
        .await
        .unwrap();
    billing
        .record_payment(
            "INV-1001",
            ManualPayment::new(PaymentMethod::BankTransfer, Money::gbp(3500), next_day())
                .with_reference("BACS-7781"),
        )
        .await
        .unwrap();
    billing
        .record_payment(
            "INV-1005",
            ManualPayment::new(PaymentMethod::Cheque, Money::gbp(2000), day())
                .with_reference("CHQ-12"),
        )
        .await
        .unwrap();
    billing.void("INV-1004", day()).await.unwrap();

    let store = billing.store();
    let outstanding = report::outstanding(store, None)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(outstanding.len(), 1);
    assert_eq!(outstanding[0].host_invoice_id, "INV-1005");
    assert_eq!(outstanding[0].amount_remaining, 3000);

    let ben = PayerRef::Patient(PatientId::new("P-1004").unwrap());
    let portal = report::portal(store, None, &ben).await.unwrap();
    assert_eq!(portal.invoices.len(), 2);
    assert_eq!(portal.remaining_in("gbp"), 3000);
    assert!(
        portal.unpaid().all(|entry| entry.pay_link.is_none()),
        "no hosted payment page without Stripe"
    );

    let both_days = DateRange::new(day(), next_day()).unwrap();
    let itemised = billing
        .payments_received(both_days)
        .collect_all()
        .await
        .unwrap();
    let amounts: Vec<(&str, i64, &str)> = itemised
        .iter()
        .map(|p| (p.host_invoice_id.as_str(), p.amount, p.channel.as_str()))
        .collect();
    assert_eq!(
        amounts,
        [
            ("INV-1001", 5000, "cash"),
            ("INV-1001", 3500, "bank_transfer"),
            ("INV-1005", 2000, "cheque"),
        ]
    );
    let first_day = billing
        .payments_received(DateRange::day(day()).unwrap())
        .collect_all()
        .await
        .unwrap();
    assert_eq!(first_day.len(), 2, "the bank transfer came on the next day");
    assert_eq!(
        first_day[1].channel,
        PaymentChannel::Outside(PaymentMethod::Cheque)
    );

    let columns = [
        Column::Number,
        Column::HostInvoiceId,
        Column::Status,
        Column::Total,
        Column::AmountPaid,
        Column::AmountRemaining,
        Column::Created,
        Column::DueDate,
        Column::PayerId,
        Column::PaidOutsideMethod,
        Column::PaidOutsideReference,
        Column::meta("patient_name"),
    ];
    let rows = report::invoices(store, None, &report::InvoiceQuery::new())
        .collect_all()
        .await
        .unwrap();
    let mut out = Vec::new();
    assert_eq!(report::write_csv(&rows, &columns, &mut out).unwrap(), 3);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "number,host_invoice_id,status,total,amount_paid,amount_remaining,created,due_date,\
         payer_id,paid_outside_method,paid_outside_reference,patient_name\n\
         OFF-0001,INV-1001,paid,85.00,85.00,0.00,2026-11-21,2026-12-05,P-1001,bank_transfer,BACS-7781,John Deer\n\
         OFF-0002,INV-1004,void,50.00,0.00,50.00,2026-11-21,,P-1004,,,Ben Carter\n\
         OFF-0003,INV-1005,open,50.00,20.00,30.00,2026-11-21,,P-1004,cheque,CHQ-12,Ben Carter\n"
    );

    let mut out = Vec::new();
    report::write_payments_csv(
        &itemised,
        &[
            PaymentColumn::Date,
            PaymentColumn::InvoiceNumber,
            PaymentColumn::Method,
            PaymentColumn::Reference,
            PaymentColumn::Amount,
        ],
        &mut out,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "date,invoice_number,method,reference,amount\n\
         2026-11-21,OFF-0001,cash,,50.00\n\
         2026-11-22,OFF-0001,bank_transfer,BACS-7781,35.00\n\
         2026-11-21,OFF-0003,cheque,CHQ-12,20.00\n"
    );
}

#[tokio::test]
async fn mirrors_are_rebuilt_from_the_ledger_into_a_fresh_store() {
    let ledger = MemoryLedgerStore::new();
    let first = OfflineBilling::new(MemoryStore::new(), ledger.clone());
    for n in 0..150 {
        first
            .raise(&ben_draft(&format!("INV-{n:03}")), day())
            .await
            .unwrap();
    }
    let fresh = OfflineBilling::new(MemoryStore::new(), ledger);
    assert_eq!(fresh.rebuild_mirrors().await.unwrap(), 150);
    let rows = report::outstanding(fresh.store(), None)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(rows.len(), 150);
    let total: i64 = rows.iter().map(|row| row.amount_remaining).sum();
    assert_eq!(total, 150 * 5000);
}

#[tokio::test]
async fn books_of_two_accounts_are_kept_apart() {
    let store = MemoryStore::new();
    let ledger = MemoryLedgerStore::new();
    let north = OfflineBilling::new(store.clone(), ledger.clone()).account("practice-north");
    let south = OfflineBilling::new(store.clone(), ledger)
        .account("practice-south")
        .number_prefix("S");
    north.raise(&ben_draft("INV-1"), day()).await.unwrap();
    let south_invoice = south.raise(&ben_draft("INV-1"), day()).await.unwrap();
    assert_eq!(
        south_invoice.number.as_deref(),
        Some("S-0001"),
        "numbered per account"
    );
    south.void("INV-1", day()).await.unwrap();
    let north_rows = report::outstanding(&store, Some("practice-north"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(north_rows.len(), 1);
    assert_eq!(north_rows[0].number.as_deref(), Some("OFF-0001"));
    assert!(
        report::outstanding(&store, Some("practice-south"))
            .collect_all()
            .await
            .unwrap()
            .is_empty()
    );
}

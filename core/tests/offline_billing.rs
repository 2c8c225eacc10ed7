//! A small practice day with no Stripe account: invoices raised on the ledger, paid by
//! hand in parts, voided and written off, a service split between insurer and client
//! invoiced from billing rates, and the same reports and CSV export as with Stripe.
//!
//! Every check runs against each ledger store: [`MemoryLedgerStore`], with feature
//! `sqlite` [`SqliteStore`] in memory and on file, and with feature `postgres` the
//! PostgreSQL store on a real server. The ledger contract itself
//! (compare-and-set, paging, numbering, concurrency) is checked at the end, then what
//! only a file can show: the books survive reopening it.
#![cfg(feature = "csv")]
// Helpers outside #[test] functions unwrap too, which clippy's allow-unwrap-in-tests
// does not cover; a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "sqlite")]
mod temp_database;
#[cfg(feature = "sqlite")]
use billbridge::Classify;
use temp_database::TempDatabase;

use billbridge::domain::catalogue::{
    BillingRate, BillingRates, RateId, RatePayer, Service, ServiceId,
};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::ledger::{LedgerError, ManualPayment, PaymentMethod};
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{Patient, PatientId, PayerRef};
use billbridge::domain::status::InvoiceStatus;
use billbridge::offline::{OfflineBilling, OfflineError, service_invoice_id};
use billbridge::report::{self, Column, DateRange, PaymentChannel, PaymentColumn};
use billbridge::store::{
    LedgerRecord, LedgerStore, MemoryLedgerStore, MemoryStore, MetadataMap, SyncStore,
};

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

/// A ledger store under test; clones share the same books.
trait Ledger: LedgerStore + Clone + 'static {}

impl<L: LedgerStore + Clone + 'static> Ledger for L {}

fn billing<L: Ledger>(ledger: L) -> OfflineBilling<MemoryStore, L> {
    OfflineBilling::new(MemoryStore::new(), ledger)
}

async fn raising_issues_a_numbered_dated_open_invoice_and_is_idempotent<L: Ledger>(ledger: L) {
    let billing = billing(ledger);
    let raised = billing
        .raise_with_metadata(&john_draft(), day(), names("John Deer"))
        .await
        .unwrap();
    assert_eq!(raised.status, InvoiceStatus::Open);
    assert_eq!(raised.number.as_deref(), Some("OFF-0001"));
    assert_eq!(raised.total, Money::gbp(8500));
    assert_eq!(raised.amount_due, Money::gbp(8500));
    assert_eq!(raised.amount_remaining, Money::gbp(8500));
    assert_eq!(raised.created, day().to_unix_timestamp());
    assert_eq!(
        raised.due_on,
        Some(Date::parse("2026-12-05").unwrap()),
        "due 14 days after the invoiced date"
    );
    assert_eq!(raised.stripe_invoice_id, "offline:INV-1001");
    assert_eq!(raised.stripe_customer_id, "offline:patient:P-1001");
    assert_eq!(
        raised.patient.as_ref().map(|patient| patient.as_str()),
        Some("P-1001")
    );
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

async fn manual_payments_add_up_until_paid_and_overpayment_is_refused<L: Ledger>(ledger: L) {
    let billing = billing(ledger);
    billing.raise(&john_draft(), day()).await.unwrap();

    let cash = ManualPayment::new(PaymentMethod::Cash, Money::gbp(5000), day());
    let partly = billing.record_payment("INV-1001", cash).await.unwrap();
    assert_eq!(partly.status, InvoiceStatus::Open);
    assert_eq!(partly.amount_paid, Money::gbp(5000));
    assert_eq!(partly.amount_remaining, Money::gbp(3500));
    assert_eq!(
        partly.paid_outside.as_ref().unwrap().method,
        PaymentMethod::Cash
    );
    assert_eq!(partly.paid_outside.as_ref().unwrap().paid_on, Some(day()));
    assert_eq!(partly.paid_at, None, "not paid in full yet");

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
    assert_eq!(paid.amount_paid, Money::gbp(8500));
    assert_eq!(paid.amount_remaining, Money::gbp(0));
    let outside = paid.paid_outside.unwrap();
    assert_eq!(outside.method, PaymentMethod::BankTransfer);
    assert_eq!(outside.reference.as_deref(), Some("BACS-7781"));
    assert_eq!(outside.paid_on, Some(next_day()));
    assert_eq!(paid.paid_at, Some(next_day().to_unix_timestamp()));
    assert_eq!(paid.updated_at, next_day().to_unix_timestamp());

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

async fn void_and_uncollectible_follow_the_state_machine<L: Ledger>(ledger: L) {
    let billing = billing(ledger);
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

async fn billing_rates_invoice_the_clients_part_after_the_insurer_paid<L: Ledger>(ledger: L) {
    let billing = billing(ledger);
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
    assert_eq!(invoice.total, Money::gbp(4000));
    assert_eq!(invoice.amount_due, Money::gbp(4000));
    assert_eq!(invoice.payer.host_id(), "P-1007");
    assert_eq!(
        invoice.patient.as_ref().map(|patient| patient.as_str()),
        Some("P-1007")
    );
    assert_eq!(invoice.host_invoice_id, "svc-SVC-9-self-pay");
    let billed: Vec<&ServiceId> = raised[0]
        .services
        .iter()
        .map(|service| &service.id)
        .collect();
    assert_eq!(billed, [&ServiceId::new("SVC-9-self-pay").unwrap()]);
    assert_eq!(raised[0].services[0].invoiced_on, Some(day()));

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

async fn the_offline_day_reports_and_exports_like_a_stripe_day<L: Ledger>(ledger: L) {
    let billing = billing(ledger);
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
    assert_eq!(outstanding[0].amount_remaining, Money::gbp(3000));

    let ben = PayerRef::Patient(PatientId::new("P-1004").unwrap());
    let portal = report::portal(store, None, &ben).await.unwrap();
    assert_eq!(portal.invoices.len(), 2);
    assert_eq!(portal.remaining_in(Currency::GBP), Money::gbp(3000));
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
        .map(|p| {
            (
                p.host_invoice_id.as_str(),
                p.amount.amount(),
                p.channel.as_str(),
            )
        })
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

async fn the_mirror_dates_a_payment_as_the_ledger_does_after_later_changes<L: Ledger>(ledger: L) {
    let billing = billing(ledger);
    billing.raise(&john_draft(), day()).await.unwrap();
    billing
        .record_payment(
            "INV-1001",
            ManualPayment::new(PaymentMethod::Cash, Money::gbp(5000), day()),
        )
        .await
        .unwrap();
    // Written off the next day: the mirror's last update moves, the payment day not.
    let written_off = billing
        .mark_uncollectible("INV-1001", next_day())
        .await
        .unwrap();
    assert_eq!(written_off.updated_at, next_day().to_unix_timestamp());

    let store = billing.store();
    let first_day = DateRange::day(day()).unwrap();
    let from_mirror = report::payments_received(store, None, first_day)
        .collect_all()
        .await
        .unwrap();
    let from_ledger = billing
        .payments_received(first_day)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(from_mirror.len(), 1);
    assert_eq!(from_ledger.len(), 1);
    assert_eq!(from_mirror[0].date, day());
    assert_eq!(from_mirror[0].date, from_ledger[0].date);
    assert_eq!(from_mirror[0].amount, from_ledger[0].amount);
    let second_day = DateRange::day(next_day()).unwrap();
    assert!(
        report::payments_received(store, None, second_day)
            .collect_all()
            .await
            .unwrap()
            .is_empty()
    );
}

async fn mirrors_are_rebuilt_from_the_ledger_into_a_fresh_store<L: Ledger>(ledger: L) {
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
    let total =
        Money::checked_sum(Currency::GBP, rows.iter().map(|row| row.amount_remaining)).unwrap();
    assert_eq!(total, Money::gbp(150 * 5000));
}

async fn books_of_two_accounts_are_kept_apart<L: Ledger>(ledger: L) {
    let store = MemoryStore::new();
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

/// The stored record of `host_invoice_id` in the practice's own books.
async fn stored<L: Ledger>(ledger: &L, host_invoice_id: &str) -> LedgerRecord {
    ledger
        .ledger_invoice(None, host_invoice_id)
        .await
        .unwrap()
        .unwrap()
}

fn host_ids(records: &[LedgerRecord]) -> Vec<&str> {
    records.iter().map(LedgerRecord::host_invoice_id).collect()
}

async fn ledger_swap_writes_only_over_the_expected_revision<L: Ledger>(ledger: L) {
    let billing = billing(ledger.clone());
    billing.raise(&john_draft(), day()).await.unwrap();
    let current = stored(&ledger, "INV-1001").await;
    assert_eq!(current.revision, 1);

    let mut next = current.clone();
    next.updated_on = next_day();
    next.metadata = names("John Deer");
    // The largest revision must round-trip through every store.
    next.revision = u64::MAX;
    assert!(!ledger.swap_ledger_invoice(None, &next).await.unwrap());
    assert!(!ledger.swap_ledger_invoice(Some(2), &next).await.unwrap());
    assert_eq!(
        stored(&ledger, "INV-1001").await,
        current,
        "nothing written"
    );

    assert!(ledger.swap_ledger_invoice(Some(1), &next).await.unwrap());
    assert_eq!(stored(&ledger, "INV-1001").await, next);
    assert!(!ledger.swap_ledger_invoice(Some(1), &current).await.unwrap());
    assert!(
        ledger
            .swap_ledger_invoice(Some(u64::MAX), &current)
            .await
            .unwrap()
    );
    assert_eq!(stored(&ledger, "INV-1001").await, current);
}

async fn ledger_pages_in_host_id_order_within_one_account<L: Ledger>(ledger: L) {
    let north = billing(ledger.clone()).account("practice-north");
    let south = billing(ledger.clone()).account("practice-south");
    for id in ["INV-3", "INV-1", "INV-2"] {
        north.raise(&ben_draft(id), day()).await.unwrap();
    }
    south.raise(&ben_draft("INV-0"), day()).await.unwrap();

    let north_account = Some("practice-north");
    let first = ledger
        .ledger_invoices(north_account, None, 2)
        .await
        .unwrap();
    assert_eq!(host_ids(&first), ["INV-1", "INV-2"]);
    assert_eq!(first[0].account.as_deref(), north_account);
    let rest = ledger
        .ledger_invoices(north_account, Some("INV-2"), 2)
        .await
        .unwrap();
    assert_eq!(host_ids(&rest), ["INV-3"]);
    assert!(
        ledger
            .ledger_invoices(north_account, Some("INV-3"), 2)
            .await
            .unwrap()
            .is_empty()
    );
    let south_books = ledger
        .ledger_invoices(Some("practice-south"), None, 10)
        .await
        .unwrap();
    assert_eq!(host_ids(&south_books), ["INV-0"]);
    assert!(
        ledger
            .ledger_invoices(None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(ledger.ledger_invoice(None, "INV-1").await.unwrap(), None);
}

async fn invoice_numbers_never_repeat_under_concurrency<L: Ledger>(ledger: L) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let ledger = ledger.clone();
            tokio::spawn(async move {
                let mut taken = Vec::new();
                for _ in 0..10 {
                    taken.push(ledger.next_invoice_number(Some("acct")).await.unwrap());
                }
                taken
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.extend(task.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=80).collect::<Vec<u64>>());
    assert_eq!(ledger.next_invoice_number(None).await.unwrap(), 1);
    assert_eq!(ledger.next_invoice_number(Some("acct")).await.unwrap(), 81);
}

async fn concurrent_swaps_from_one_revision_let_exactly_one_win<L: Ledger>(ledger: L) {
    let billing = billing(ledger.clone());
    billing.raise(&john_draft(), day()).await.unwrap();
    let current = stored(&ledger, "INV-1001").await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let ledger = ledger.clone();
            let mut next = current.clone();
            next.revision = 2;
            next.metadata = names(&format!("writer {n}"));
            tokio::spawn(async move {
                let won = ledger.swap_ledger_invoice(Some(1), &next).await.unwrap();
                (won, next)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (won, record) = task.await.unwrap();
        if won {
            winners.push(record);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    assert_eq!(stored(&ledger, "INV-1001").await, winners[0]);
}

/// Generates one test per check for a ledger store: `$make` returns the store and a
/// guard that cleans up after it (dropped after the check).
macro_rules! ledger_tests {
    ($module:ident, $make:expr) => {
        mod $module {
            #[allow(unused_imports)] // Only the file-backed module uses the helpers.
            use super::*;
            ledger_tests!(@checks $make;
                raising_issues_a_numbered_dated_open_invoice_and_is_idempotent,
                manual_payments_add_up_until_paid_and_overpayment_is_refused,
                void_and_uncollectible_follow_the_state_machine,
                billing_rates_invoice_the_clients_part_after_the_insurer_paid,
                the_offline_day_reports_and_exports_like_a_stripe_day,
                the_mirror_dates_a_payment_as_the_ledger_does_after_later_changes,
                mirrors_are_rebuilt_from_the_ledger_into_a_fresh_store,
                books_of_two_accounts_are_kept_apart,
                ledger_swap_writes_only_over_the_expected_revision,
                ledger_pages_in_host_id_order_within_one_account,
                invoice_numbers_never_repeat_under_concurrency,
                concurrent_swaps_from_one_revision_let_exactly_one_win,
            );
        }
    };
    (@checks $make:expr; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (ledger, _cleanup) = ($make)();
                super::$check(ledger).await;
            }
        )+
    };
}

ledger_tests!(memory, || (MemoryLedgerStore::new(), ()));

#[cfg(feature = "sqlite")]
ledger_tests!(sqlite_in_memory, || (
    std::sync::Arc::new(SqliteStore::in_memory().unwrap()),
    ()
));

#[cfg(feature = "sqlite")]
ledger_tests!(sqlite_file, || {
    let file = TempDatabase::new("offline_billing");
    let store = std::sync::Arc::new(SqliteStore::open(&file.path).unwrap());
    (store, file)
});

// The books in PostgreSQL, each check in a schema of its own (see `postgres_support`).
#[cfg(feature = "postgres")]
mod postgres_support;
#[cfg(feature = "postgres")]
ledger_tests!(postgres, || {
    let (store, schema) = postgres_support::contract_store();
    (std::sync::Arc::new(store), schema)
});

#[cfg(feature = "sqlite")]
use billbridge::store::SqliteStore;

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;

    /// Offline billing keeping its mirrors and its books in one SQLite file.
    fn books_in(path: &PathBuf) -> OfflineBilling<Arc<SqliteStore>, Arc<SqliteStore>> {
        let store = Arc::new(SqliteStore::open(path).unwrap());
        OfflineBilling::new(Arc::clone(&store), store)
    }

    #[tokio::test]
    async fn books_survive_reopening_the_file() {
        let file = TempDatabase::new("offline_billing");
        {
            let billing = books_in(&file.path);
            billing
                .raise_with_metadata(&john_draft(), day(), names("John Deer"))
                .await
                .unwrap();
            let partly = billing
                .record_payment(
                    "INV-1001",
                    ManualPayment::new(PaymentMethod::Cash, Money::gbp(5000), day()),
                )
                .await
                .unwrap();
            assert_eq!(partly.amount_remaining, Money::gbp(3500));
        }

        let billing = books_in(&file.path);
        let reopened = billing.invoice("INV-1001").await.unwrap().unwrap();
        assert_eq!(reopened.number, "OFF-0001");
        assert_eq!(reopened.revision, 2);
        assert_eq!(reopened.invoice.payments.len(), 1);
        assert_eq!(reopened.metadata, names("John Deer"));
        let paid = billing
            .record_payment(
                "INV-1001",
                ManualPayment::new(PaymentMethod::BankTransfer, Money::gbp(3500), next_day())
                    .with_reference("BACS-7781"),
            )
            .await
            .unwrap();
        assert_eq!(paid.status, InvoiceStatus::Paid);
        assert_eq!(paid.amount_paid, Money::gbp(8500));
        let next = billing.raise(&ben_draft("INV-1004"), day()).await.unwrap();
        assert_eq!(
            next.number.as_deref(),
            Some("OFF-0002"),
            "numbering continues after reopening"
        );

        let payments = billing
            .payments_received(DateRange::new(day(), next_day()).unwrap())
            .collect_all()
            .await
            .unwrap();
        let amounts: Vec<Money> = payments.iter().map(|payment| payment.amount).collect();
        assert_eq!(amounts, [Money::gbp(5000), Money::gbp(3500)]);
        let outstanding = report::outstanding(billing.store(), None)
            .collect_all()
            .await
            .unwrap();
        assert_eq!(outstanding.len(), 1);
        assert_eq!(outstanding[0].host_invoice_id, "INV-1004");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn swaps_through_separate_connections_let_exactly_one_win() {
        let file = TempDatabase::new("offline_billing");
        let billing = books_in(&file.path);
        billing.raise(&john_draft(), day()).await.unwrap();
        let current = billing.invoice("INV-1001").await.unwrap().unwrap();
        let tasks: Vec<_> = (0..6)
            .map(|n| {
                // Each writer has its own connection, as separate processes would.
                let ledger = SqliteStore::open(&file.path).unwrap();
                let mut next = current.clone();
                next.revision = 2;
                next.metadata = names(&format!("writer {n}"));
                tokio::spawn(async move {
                    let won = ledger.swap_ledger_invoice(Some(1), &next).await.unwrap();
                    let number = ledger.next_invoice_number(None).await.unwrap();
                    (won, next, number)
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut numbers = Vec::new();
        for task in tasks {
            let (won, record, number) = task.await.unwrap();
            numbers.push(number);
            if won {
                winners.push(record);
            }
        }
        assert_eq!(winners.len(), 1, "exactly one writer wins");
        assert_eq!(
            billing.invoice("INV-1001").await.unwrap(),
            Some(winners.remove(0))
        );
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            [2, 3, 4, 5, 6, 7],
            "OFF-0001 was taken by the raise"
        );
    }

    #[tokio::test]
    async fn an_unreadable_ledger_row_is_reported_as_corrupt_without_its_values() {
        let file = TempDatabase::new("offline_billing");
        {
            let billing = books_in(&file.path);
            billing
                .raise_with_metadata(&john_draft(), day(), names("John Deer"))
                .await
                .unwrap();
        }
        let connection = rusqlite::Connection::open(&file.path).unwrap();
        connection
            .execute(
                "UPDATE ledger_invoices SET record = substr(record, 1, length(record) - 1)",
                [],
            )
            .unwrap();
        drop(connection);

        let billing = books_in(&file.path);
        let error = billing.invoice("INV-1001").await.unwrap_err();
        assert_eq!(error.code(), "store_corrupt");
        let message = format!("{}", std::error::Error::source(&error).unwrap());
        assert!(
            message.contains("ledger_invoices") && message.contains("INV-1001"),
            "{message}"
        );
        assert!(!message.contains("John"), "{message}");
        let error = billing.rebuild_mirrors().await.unwrap_err();
        assert_eq!(error.code(), "store_corrupt");
    }
}

//! Reports over the invoice mirror (filters, paging, payments on and off Stripe, the
//! portal view), the Stripe-backed listing, and CSV export, against a `MemoryStore` and
//! a `SqliteStore` filled with the same mirrors.
#![cfg(all(feature = "sqlite", feature = "csv"))]
// Helpers outside #[test] functions unwrap too, which clippy's allow-unwrap-in-tests
// does not cover; a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use billbridge::Classify;
use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use billbridge::domain::date::Date;
use billbridge::domain::ledger::PaymentMethod;
use billbridge::domain::metadata::{Field, MetadataPolicy, MetadataTarget};
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{OrganisationId, PatientId, PayerRef};
use billbridge::domain::status::InvoiceStatus;
use billbridge::mirror::{InvoiceRecord, PaidOutside};
use billbridge::report::{
    self, AmountFormat, Column, CsvOptions, DateRange, HostIdKeys, InvoiceQuery, PaymentChannel,
    PaymentColumn, ReportError,
};
use billbridge::store::{
    CustomerLink, InvoiceMirror, MemoryStore, MetadataMap, OutsidePayment, PartyKind, SqliteStore,
    SyncStore,
};
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::transport::{
    Method, StripeRequest, StripeResponse, Transport, TransportError,
};

fn day(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn at(text: &str, hour: i64) -> i64 {
    day(text).to_unix_timestamp() + hour * 3600
}

fn mirror(host_id: &str, status: InvoiceStatus, total: i64, created: i64) -> InvoiceMirror {
    let open_or_later = status != InvoiceStatus::Draft;
    InvoiceMirror {
        account: None,
        host_invoice_id: host_id.to_owned(),
        stripe_invoice_id: format!("in_{host_id}"),
        stripe_customer_id: "cus_john".to_owned(),
        status,
        unrecognised_status: None,
        number: open_or_later.then(|| format!("N-{host_id}")),
        currency: "gbp".to_owned(),
        subtotal: total,
        total,
        amount_due: total,
        amount_paid: 0,
        amount_remaining: total,
        starting_balance: 0,
        ending_balance: open_or_later.then_some(0),
        hosted_invoice_url: open_or_later
            .then(|| format!("https://invoice.stripe.com/i/{host_id}")),
        invoice_pdf: None,
        due_date: None,
        created,
        metadata: MetadataMap::new(),
        paid_at: None,
        paid_outside: None,
        stripe_updated_at: created,
        payer_kind: PartyKind::Patient,
        payer_host_id: "P-1001".to_owned(),
        patient_host_id: Some("P-1001".to_owned()),
    }
}

fn paid(mut invoice: InvoiceMirror, on: i64) -> InvoiceMirror {
    invoice.status = InvoiceStatus::Paid;
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.stripe_updated_at = on;
    invoice
}

/// A small practice's invoices over three days of November.
fn practice_mirrors() -> Vec<InvoiceMirror> {
    let mut john_open = mirror("INV-1", InvoiceStatus::Open, 8500, at("2026-11-20", 9));
    john_open.amount_due = 3500;
    john_open.amount_remaining = 3500;
    john_open.starting_balance = -5000;
    john_open.due_date = Some(day("2026-12-04").to_unix_timestamp());
    john_open.metadata.insert("patient_name", "John Deer");
    john_open.metadata.insert("appointment_location", "Bristol");

    let mut aiko_card = paid(
        mirror("INV-2", InvoiceStatus::Open, 7950, at("2026-11-20", 10)),
        at("2026-11-21", 15),
    );
    aiko_card.payer_host_id = "P-1002".into();
    aiko_card.patient_host_id = Some("P-1002".into());
    aiko_card.stripe_customer_id = "cus_aiko".into();
    aiko_card.metadata.insert("appointment_location", "Bath");

    let mut maria_org = mirror("INV-3", InvoiceStatus::Open, 12000, at("2026-11-21", 11));
    maria_org.payer_kind = PartyKind::Organisation;
    maria_org.payer_host_id = "ORG-1".into();
    maria_org.patient_host_id = Some("P-1003".into());
    maria_org.stripe_customer_id = "cus_northwind".into();
    maria_org.due_date = Some(day("2026-12-21").to_unix_timestamp());
    maria_org.metadata.insert("appointment_location", "Bristol");

    let mut ben_cash = paid(
        mirror("INV-4", InvoiceStatus::Open, 5000, at("2026-11-21", 12)),
        at("2026-11-21", 16),
    );
    ben_cash.payer_host_id = "P-1004".into();
    ben_cash.patient_host_id = Some("P-1004".into());
    ben_cash.paid_outside = Some(OutsidePayment {
        method: "cheque".into(),
        reference: Some("CHQ-000123".into()),
        paid_on: None,
    });

    let mut voided = mirror("INV-5", InvoiceStatus::Void, 6000, at("2026-11-21", 13));
    voided.amount_remaining = 6000;

    let draft = mirror("INV-6", InvoiceStatus::Draft, 2000, at("2026-11-22", 9));

    let mut john_paid = paid(
        mirror("INV-7", InvoiceStatus::Open, 4000, at("2026-11-10", 9)),
        at("2026-11-12", 9),
    );
    john_paid.metadata.insert("patient_name", "John Deer");

    vec![
        john_open, aiko_card, maria_org, ben_cash, voided, draft, john_paid,
    ]
}

async fn fill(store: &dyn SyncStore, rows: &[InvoiceMirror]) {
    for row in rows {
        store.put_invoice_mirror(row).await.unwrap();
    }
}

/// The records a report returns for `rows` as the store holds them.
fn records(rows: &[InvoiceMirror]) -> Vec<InvoiceRecord> {
    rows.iter()
        .map(|row| InvoiceRecord::from_row(row).unwrap())
        .collect()
}

fn ids(rows: &[InvoiceRecord]) -> Vec<&str> {
    rows.iter()
        .map(|row| row.host_invoice_id.as_str())
        .collect()
}

fn november() -> DateRange {
    DateRange::new(day("2026-11-01"), day("2026-11-30")).unwrap()
}

/// Runs the same report checks against one store.
async fn check_reports(store: &dyn SyncStore) {
    fill(store, &practice_mirrors()).await;

    let all = report::invoices(store, None, &InvoiceQuery::new().page_size(2))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        ids(&all),
        [
            "INV-7", "INV-1", "INV-2", "INV-3", "INV-4", "INV-5", "INV-6"
        ],
        "every mirror, oldest first, across pages of two"
    );

    let outstanding = report::outstanding(store, None)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&outstanding), ["INV-1", "INV-3"]);
    let owed = Money::checked_sum(
        Currency::GBP,
        outstanding.iter().map(|row| row.amount_remaining),
    )
    .unwrap();
    assert_eq!(owed, Money::gbp(3500 + 12000));

    let on_the_21st = InvoiceQuery::new().created(DateRange::day(day("2026-11-21")).unwrap());
    let rows = report::invoices(store, None, &on_the_21st)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&rows), ["INV-3", "INV-4", "INV-5"]);

    let due_in_december =
        InvoiceQuery::new().due(DateRange::new(day("2026-12-01"), day("2026-12-10")).unwrap());
    let rows = report::invoices(store, None, &due_in_december.page_size(1))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        ids(&rows),
        ["INV-1"],
        "due-date filter applied across pages"
    );

    let northwind = PayerRef::Organisation(OrganisationId::new("ORG-1").unwrap());
    let rows = report::invoices(store, None, &InvoiceQuery::new().payer(&northwind))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&rows), ["INV-3"]);

    let rows = report::invoices(store, None, &InvoiceQuery::new().customer("cus_aiko"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&rows), ["INV-2"]);

    let bristol_open = InvoiceQuery::outstanding().metadata("appointment_location", "Bristol");
    let rows = report::invoices(store, None, &bristol_open)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&rows), ["INV-1", "INV-3"]);

    let other_account = report::invoices(store, Some("acct_other"), &InvoiceQuery::new())
        .collect_all()
        .await
        .unwrap();
    assert!(other_account.is_empty(), "reports are scoped by account");

    // Payments: Aiko by card through Stripe, Ben by cheque outside it, both on the 21st;
    // John's older invoice was paid on the 12th.
    let payments =
        report::payments_received(store, None, DateRange::day(day("2026-11-21")).unwrap())
            .collect_all()
            .await
            .unwrap();
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0].host_invoice_id, "INV-2");
    assert_eq!(payments[0].channel, PaymentChannel::Stripe);
    assert_eq!(payments[0].amount, Money::gbp(7950));
    assert_eq!(payments[0].reference, None);
    assert_eq!(payments[1].host_invoice_id, "INV-4");
    assert_eq!(
        payments[1].channel,
        PaymentChannel::Outside(PaymentMethod::Cheque)
    );
    assert_eq!(payments[1].reference.as_deref(), Some("CHQ-000123"));
    assert_eq!(payments[1].date, day("2026-11-21"));
    assert_eq!(payments[1].payer.host_id(), "P-1004");

    let month = report::payments_received(store, None, november())
        .collect_all()
        .await
        .unwrap();
    let paid_ids: Vec<&str> = month.iter().map(|p| p.host_invoice_id.as_str()).collect();
    assert_eq!(paid_ids, ["INV-7", "INV-2", "INV-4"]);

    // John's portal: one open invoice with its pay link and one paid, no drafts.
    let john = PayerRef::Patient(PatientId::new("P-1001").unwrap());
    let portal = report::portal(store, None, &john).await.unwrap();
    let shown: Vec<&str> = portal
        .invoices
        .iter()
        .map(|entry| entry.invoice.host_invoice_id.as_str())
        .collect();
    assert_eq!(
        shown,
        ["INV-7", "INV-1", "INV-5"],
        "drafts hidden, void shown"
    );
    assert_eq!(portal.remaining_in(Currency::GBP), Money::gbp(3500));
    assert_eq!(portal.remaining, [Money::gbp(3500)]);
    let unpaid: Vec<_> = portal.unpaid().collect();
    assert_eq!(unpaid.len(), 1);
    assert_eq!(
        unpaid[0].pay_link.as_deref(),
        Some("https://invoice.stripe.com/i/INV-1")
    );
    assert_eq!(portal.paid().count(), 1);
    assert!(
        portal.paid().all(|entry| entry.pay_link.is_none()),
        "nothing to pay on a paid invoice"
    );
    let voided = &portal.invoices[2];
    assert_eq!(voided.invoice.status, InvoiceStatus::Void);
    assert_eq!(voided.pay_link, None);

    // The pager hands out rows one by one as well.
    let mut pager = report::invoices(store, None, &InvoiceQuery::outstanding().page_size(1));
    let first = pager.next().await.unwrap().unwrap();
    let second = pager.next().await.unwrap().unwrap();
    assert_eq!(
        (
            first.host_invoice_id.as_str(),
            second.host_invoice_id.as_str()
        ),
        ("INV-1", "INV-3")
    );
    assert!(pager.next().await.unwrap().is_none());
}

#[tokio::test]
async fn reports_filter_page_and_summarise_a_memory_store() {
    check_reports(&MemoryStore::new()).await;
}

#[tokio::test]
async fn reports_filter_page_and_summarise_a_sqlite_store() {
    let dir = std::env::temp_dir().join(format!("billbridge-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("reports.sqlite");
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path).unwrap();
    check_reports(&store).await;
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// March payments whose day received differs from the mirror's last update.
fn march_payments() -> Vec<InvoiceMirror> {
    // A bank transfer received on the 2nd and marked paid a week later; Stripe's
    // paid_at is the marking.
    let mut transfer = paid(
        mirror("M-1", InvoiceStatus::Open, 6000, at("2026-02-20", 9)),
        at("2026-03-09", 10),
    );
    transfer.paid_at = Some(at("2026-03-09", 10));
    transfer.paid_outside = Some(OutsidePayment {
        method: "bank_transfer".into(),
        reference: Some("BACS-1".into()),
        paid_on: Some(day("2026-03-02")),
    });
    // A card payment on the 4th; the mirror was updated again on the 20th.
    let mut card = paid(
        mirror("M-2", InvoiceStatus::Open, 4500, at("2026-02-25", 9)),
        at("2026-03-20", 8),
    );
    card.paid_at = Some(at("2026-03-04", 14));
    // Cash the host dates the 10th (its own day, ahead of UTC) but recorded at 20:00
    // UTC on the 9th, which is the mirror's last update.
    let mut cash = paid(
        mirror("M-3", InvoiceStatus::Open, 3000, at("2026-03-01", 9)),
        at("2026-03-09", 20),
    );
    cash.paid_at = Some(at("2026-03-09", 20));
    cash.paid_outside = Some(OutsidePayment {
        method: "cash".into(),
        reference: None,
        paid_on: Some(day("2026-03-10")),
    });
    // A mirror from before payment days were kept: dated by its last update.
    let legacy = paid(
        mirror("M-4", InvoiceStatus::Open, 2000, at("2026-03-02", 9)),
        at("2026-03-06", 11),
    );
    vec![transfer, card, cash, legacy]
}

async fn payment_ids(store: &dyn SyncStore, from: &str, to: &str) -> Vec<String> {
    let range = DateRange::new(day(from), day(to)).unwrap();
    report::payments_received(store, None, range)
        .collect_all()
        .await
        .unwrap()
        .into_iter()
        .map(|payment| payment.host_invoice_id)
        .collect()
}

async fn check_payment_days(store: &dyn SyncStore) {
    fill(store, &march_payments()).await;

    assert_eq!(
        payment_ids(store, "2026-03-01", "2026-03-03").await,
        ["M-1"]
    );
    assert_eq!(
        payment_ids(store, "2026-03-04", "2026-03-04").await,
        ["M-2"]
    );
    assert_eq!(
        payment_ids(store, "2026-03-05", "2026-03-09").await,
        ["M-4"]
    );
    assert_eq!(
        payment_ids(store, "2026-03-10", "2026-03-31").await,
        ["M-3"]
    );
    assert!(
        payment_ids(store, "2026-02-01", "2026-02-28")
            .await
            .is_empty()
    );
    assert!(
        payment_ids(store, "2026-03-11", "2026-03-31")
            .await
            .is_empty()
    );

    let march = DateRange::new(day("2026-03-01"), day("2026-03-31")).unwrap();
    let mut out = Vec::new();
    let written = report::payments_received(store, None, march)
        .write_csv(
            &[
                PaymentColumn::Date,
                PaymentColumn::HostInvoiceId,
                PaymentColumn::Method,
                PaymentColumn::Amount,
            ],
            &CsvOptions::default(),
            &mut out,
        )
        .await
        .unwrap();
    assert_eq!(written, 4);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "date,host_invoice_id,method,amount
\
         2026-03-02,M-1,bank_transfer,60.00
\
         2026-03-04,M-2,stripe,45.00
\
         2026-03-10,M-3,cash,30.00
\
         2026-03-06,M-4,stripe,20.00
"
    );
}

#[tokio::test]
async fn payments_are_dated_by_the_day_received_in_a_memory_store() {
    check_payment_days(&MemoryStore::new()).await;
}

#[tokio::test]
async fn payments_are_dated_by_the_day_received_in_a_sqlite_store() {
    check_payment_days(&SqliteStore::in_memory().unwrap()).await;
}

#[test]
fn the_payment_day_prefers_the_recorded_day_then_paid_at_then_the_last_update() {
    let mut row = records(&[paid(
        mirror("INV-1", InvoiceStatus::Open, 1000, at("2026-03-01", 9)),
        at("2026-03-20", 9),
    )])
    .remove(0);
    assert_eq!(report::payment_date(&row).unwrap(), day("2026-03-20"));
    row.paid_at = Some(at("2026-03-04", 23));
    assert_eq!(report::payment_date(&row).unwrap(), day("2026-03-04"));
    // Marked paid outside before the day was kept: Stripe's time of the marking.
    row.paid_outside = Some(PaidOutside::new(PaymentMethod::Cash));
    assert_eq!(report::payment_date(&row).unwrap(), day("2026-03-04"));
    row.paid_outside = Some(PaidOutside::new(PaymentMethod::Cash).on(day("2026-03-02")));
    assert_eq!(report::payment_date(&row).unwrap(), day("2026-03-02"));
}

#[tokio::test]
async fn reports_stream_straight_into_csv() {
    let store = MemoryStore::new();
    fill(&store, &practice_mirrors()).await;
    let mut out = Vec::new();
    let written = report::outstanding(&store, None)
        .write_csv(
            &[Column::Number, Column::AmountRemaining, Column::DueDate],
            &CsvOptions::default(),
            &mut out,
        )
        .await
        .unwrap();
    assert_eq!(written, 2);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "number,amount_remaining,due_date\nN-INV-1,35.00,2026-12-04\nN-INV-3,120.00,2026-12-21\n"
    );

    let mut out = Vec::new();
    let written = report::payments_received(&store, None, november())
        .write_csv(PaymentColumn::ALL, &CsvOptions::default(), &mut out)
        .await
        .unwrap();
    assert_eq!(written, 3);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "date,invoice_number,host_invoice_id,payer_kind,payer_id,patient_id,method,reference,currency,amount"
    );
    assert_eq!(
        lines[3],
        "2026-11-21,N-INV-4,INV-4,patient,P-1004,P-1004,cheque,CHQ-000123,gbp,50.00"
    );
    assert_eq!(
        lines[2],
        "2026-11-21,N-INV-2,INV-2,patient,P-1002,P-1002,stripe,,gbp,79.50"
    );
}

#[test]
fn csv_rows_carry_metadata_columns_and_quote_what_needs_quoting() {
    let mut row = mirror("INV-1", InvoiceStatus::Open, 8500, at("2026-11-20", 9));
    row.amount_due = 3500;
    row.amount_remaining = 3500;
    row.metadata.insert("patient_name", "Deer, John \"Jack\"");
    row.metadata
        .insert("appointment_location", "Zürich – Ärztehaus 東京");
    let mut second = mirror("INV-2", InvoiceStatus::Paid, 5000, at("2026-11-21", 9));
    second.amount_paid = 5000;
    second.amount_remaining = 0;
    second.paid_outside = Some(OutsidePayment {
        method: "bank_transfer".into(),
        reference: Some("REF\nline".into()),
        paid_on: None,
    });

    let columns = [
        Column::Number,
        Column::HostInvoiceId,
        Column::Status,
        Column::Currency,
        Column::Total,
        Column::AmountDue,
        Column::Created,
        Column::PaidOutsideMethod,
        Column::PaidOutsideReference,
        Column::meta("patient_name"),
        Column::meta("appointment_location"),
        Column::meta("not_there"),
    ];
    let mut out = Vec::new();
    let written = report::write_csv(records(&[row, second]), &columns, &mut out).unwrap();
    assert_eq!(written, 2);
    let expected = concat!(
        "number,host_invoice_id,status,currency,total,amount_due,created,paid_outside_method,",
        "paid_outside_reference,patient_name,appointment_location,not_there\n",
        "N-INV-1,INV-1,open,gbp,85.00,35.00,2026-11-20,,,\"Deer, John \"\"Jack\"\"\",",
        "Zürich – Ärztehaus 東京,\n",
        "N-INV-2,INV-2,paid,gbp,50.00,50.00,2026-11-21,bank_transfer,\"REF\nline\",,,\n",
    );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn csv_amounts_are_exact_decimals_in_each_currency_or_raw_minor_units() {
    let mut gbp = mirror("GBP-1", InvoiceStatus::Open, 3500, at("2026-11-20", 9));
    gbp.amount_paid = 5;
    let mut jpy = mirror("JPY-1", InvoiceStatus::Open, 5000, at("2026-11-20", 9));
    jpy.currency = "jpy".into();
    jpy.amount_paid = 0;
    let mut kwd = mirror("KWD-1", InvoiceStatus::Open, 1250, at("2026-11-20", 9));
    kwd.currency = "kwd".into();
    kwd.amount_paid = 1;
    let mut credit = mirror("GBP-2", InvoiceStatus::Paid, -450, at("2026-11-20", 9));
    credit.amount_paid = 0;
    let rows = records(&[gbp, jpy, kwd, credit]);
    let columns = [
        Column::HostInvoiceId,
        Column::Currency,
        Column::Total,
        Column::AmountPaid,
    ];

    let mut out = Vec::new();
    report::write_csv(&rows, &columns, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "host_invoice_id,currency,total,amount_paid\n\
         GBP-1,gbp,35.00,0.05\n\
         JPY-1,jpy,5000,0\n\
         KWD-1,kwd,1.250,0.001\n\
         GBP-2,gbp,-4.50,0.00\n"
    );

    let mut out = Vec::new();
    let options = CsvOptions::new()
        .amounts(AmountFormat::MinorUnits)
        .header(false)
        .delimiter(b';');
    report::write_csv_with(&rows, &columns, &options, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "GBP-1;gbp;3500;5\nJPY-1;jpy;5000;0\nKWD-1;kwd;1250;1\nGBP-2;gbp;-450;0\n"
    );
}

#[tokio::test]
async fn a_stored_row_in_an_unknown_currency_is_a_typed_store_error_in_reports() {
    let store = MemoryStore::new();
    let mut row = mirror("XXX-1", InvoiceStatus::Open, 100, at("2026-11-20", 9));
    row.currency = "zzz".into();
    fill(&store, &[row]).await;
    let error = report::invoices(&store, None, &InvoiceQuery::new())
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        matches!(error, ReportError::Store(billbridge::store::StoreError::Corrupt { ref key, field: "currency", .. }) if key == "XXX-1"),
        "{error:?}"
    );
    assert_eq!(error.code(), "store_corrupt");
    assert_eq!(error.category(), billbridge::ErrorCategory::Store);
}

/// A writer that accepts `capacity` bytes, then fails like a full disk.
struct FullDisk {
    capacity: usize,
}

impl io::Write for FullDisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.capacity == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        let taken = buf.len().min(self.capacity);
        self.capacity -= taken;
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_is_a_typed_io_error() {
    let rows: Vec<InvoiceMirror> = (0..10_000)
        .map(|n| {
            mirror(
                &format!("INV-{n}"),
                InvoiceStatus::Open,
                100,
                at("2026-11-20", 9),
            )
        })
        .collect();
    let rows = records(&rows);
    let error = report::write_csv(&rows, Column::ALL, FullDisk { capacity: 50_000 }).unwrap_err();
    match &error {
        ReportError::Io {
            rows_written,
            source,
        } => {
            assert!(*rows_written > 0 && *rows_written < rows.len());
            assert_eq!(source.kind(), io::ErrorKind::StorageFull);
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert_eq!(error.code(), "report_io_failed");
    assert_eq!(error.category(), billbridge::ErrorCategory::Io);
    assert!(std::error::Error::source(&error).is_some(), "cause kept");
}

#[test]
fn date_ranges_reject_an_end_before_the_start() {
    let error = DateRange::new(day("2026-11-30"), day("2026-11-01")).unwrap_err();
    assert_eq!(error.code(), "invalid_date_range");
    let range = DateRange::day(day("2026-11-21")).unwrap();
    assert!(range.contains_unix(at("2026-11-21", 23)));
    assert!(!range.contains_unix(at("2026-11-22", 0)));
}

/// Replays canned responses and records each request.
#[derive(Clone, Default)]
struct CannedStripe {
    responses: Arc<Mutex<VecDeque<String>>>,
    requests: Arc<Mutex<Vec<StripeRequest>>>,
}

#[async_trait]
impl Transport for CannedStripe {
    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        self.requests.lock().unwrap().push(request.clone());
        let body = self
            .responses
            .lock()
            .unwrap()
            .pop_front()
            .expect("a canned response for every request");
        Ok(StripeResponse {
            status: 200,
            headers: Vec::new(),
            body: body.into_bytes(),
        })
    }
}

fn stripe_invoice(id: &str, status: &str, amount_due: i64, metadata: &str) -> String {
    format!(
        r#"{{"id":"{id}","object":"invoice","customer":"cus_john","currency":"gbp","status":"{status}",
        "collection_method":"send_invoice","subtotal":{amount_due},"total":{amount_due},
        "amount_due":{amount_due},"amount_paid":0,"amount_remaining":{amount_due},
        "number":"NUM-{id}","hosted_invoice_url":"https://invoice.stripe.com/i/{id}",
        "created":{created},"metadata":{metadata},
        "status_transitions":{{"finalized_at":{created}}}}}"#,
        created = at("2026-11-21", 10)
    )
}

fn john_link(account: Option<&str>) -> CustomerLink {
    CustomerLink {
        account: account.map(str::to_owned),
        party_kind: PartyKind::Patient,
        host_party_id: "P-1001".into(),
        stripe_customer_id: "cus_john".into(),
        metadata_sent: MetadataMap::new(),
    }
}

fn list_page(has_more: bool, invoice: String) -> String {
    format!(r#"{{"object":"list","url":"/v1/invoices","has_more":{has_more},"data":[{invoice}]}}"#)
}

#[tokio::test]
async fn the_stripe_backed_listing_pages_through_stripe_and_joins_the_mirror() {
    let store = MemoryStore::new();
    // The store knows INV-1 under Stripe id in_known, as a draft with a recorded cheque.
    let mut known = mirror("INV-1", InvoiceStatus::Draft, 3500, at("2026-11-20", 9));
    known.stripe_invoice_id = "in_known".into();
    known.paid_outside = Some(OutsidePayment {
        method: "cheque".into(),
        reference: None,
        paid_on: None,
    });
    store.put_invoice_mirror(&known).await.unwrap();
    store.put_customer_link(&john_link(None)).await.unwrap();

    let stripe = CannedStripe::default();
    {
        let mut responses = stripe.responses.lock().unwrap();
        responses.push_back(list_page(
            true,
            stripe_invoice("in_known", "open", 3500, "{}"),
        ));
        responses.push_back(list_page(
            false,
            stripe_invoice(
                "in_adopted",
                "open",
                1200,
                r#"{"host_invoice_id":"INV-9","host_payer_id":"P-1001","host_patient_id":"P-1001"}"#,
            ),
        ));
    }
    let client = StripeClient::new(stripe.clone());
    let john = PayerRef::Patient(PatientId::new("P-1001").unwrap());
    let query = InvoiceQuery::outstanding()
        .payer(&john)
        .created(november())
        .page_size(1);
    let rows = report::stripe_invoices(&client, &store, None, &query, &HostIdKeys::default())
        .await
        .unwrap()
        .collect_all()
        .await
        .unwrap();

    let requests = stripe.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "two pages fetched");
    assert!(
        requests
            .iter()
            .all(|r| r.method == Method::Get && r.path == "/v1/invoices")
    );
    let first: Vec<(&str, &str)> = requests[0]
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert!(
        first.contains(&("customer", "cus_john")),
        "payer resolved to its customer"
    );
    assert!(first.contains(&("status", "open")));
    assert!(first.contains(&("limit", "1")));
    let november_start = day("2026-11-01").to_unix_timestamp().to_string();
    assert!(first.contains(&("created[gte]", november_start.as_str())));
    assert!(
        requests[1]
            .params
            .iter()
            .any(|(k, v)| k == "starting_after" && v == "in_known")
    );

    assert_eq!(ids(&rows), ["INV-1", "INV-9"]);
    let joined = &rows[0];
    assert_eq!(joined.status, InvoiceStatus::Open, "Stripe's status wins");
    assert_eq!(joined.number.as_deref(), Some("NUM-in_known"));
    assert_eq!(
        joined.paid_outside.as_ref().map(|p| p.method.as_str()),
        Some("cheque"),
        "host-side facts kept from the mirror"
    );
    let adopted = &rows[1];
    assert_eq!(adopted.stripe_invoice_id, "in_adopted");
    assert_eq!(
        adopted.payer,
        PayerRef::Patient(PatientId::new("P-1001").unwrap())
    );
    assert_eq!(adopted.amount_due, Money::gbp(1200));
    assert_eq!(adopted.stripe_customer_id, "cus_john");
}

#[tokio::test]
async fn the_stripe_backed_listing_uses_the_connect_account_and_skips_unlinked_payers() {
    let store = MemoryStore::new();
    store
        .put_customer_link(&john_link(Some("acct_practice")))
        .await
        .unwrap();
    let stripe = CannedStripe::default();
    stripe.responses.lock().unwrap().push_back(list_page(
        false,
        stripe_invoice("in_other", "open", 900, "{}"),
    ));
    let client = StripeClient::new(stripe.clone());
    let john = PayerRef::Patient(PatientId::new("P-1001").unwrap());

    let rows = report::stripe_invoices(
        &client,
        &store,
        Some("acct_practice"),
        &InvoiceQuery::new().payer(&john),
        &HostIdKeys::default(),
    )
    .await
    .unwrap()
    .collect_all()
    .await
    .unwrap();
    assert_eq!(
        ids(&rows),
        ["in_other"],
        "no host id in metadata: Stripe's id"
    );
    assert_eq!(rows[0].account.as_deref(), Some("acct_practice"));
    let requests = stripe.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].stripe_account.as_deref(), Some("acct_practice"));

    // Under the platform account John has no customer: nothing to ask Stripe.
    let rows = report::stripe_invoices(
        &client,
        &store,
        None,
        &InvoiceQuery::new().payer(&john),
        &HostIdKeys::default(),
    )
    .await
    .unwrap()
    .collect_all()
    .await
    .unwrap();
    assert!(rows.is_empty());
    assert_eq!(stripe.requests.lock().unwrap().len(), 1, "no request sent");
}

/// A policy that renamed every host-id key on the invoice.
fn renamed_host_id_policy() -> MetadataPolicy {
    MetadataPolicy::default()
        .key(
            Field::HostInvoiceId,
            MetadataTarget::Invoice,
            "ehr_invoice_ref",
        )
        .key(Field::HostPayerId, MetadataTarget::Invoice, "ehr_payer_ref")
        .key(
            Field::HostPatientId,
            MetadataTarget::Invoice,
            "ehr_patient_ref",
        )
}

#[tokio::test]
async fn an_unknown_stripe_invoice_takes_its_host_ids_from_the_policys_renamed_keys() {
    let store = MemoryStore::new();
    let stripe = CannedStripe::default();
    // The preset keys hold stale values: only the renamed keys are the policy's.
    stripe.responses.lock().unwrap().push_back(list_page(
        false,
        stripe_invoice(
            "in_renamed",
            "open",
            4800,
            r#"{"ehr_invoice_ref":"INV-42","ehr_payer_ref":"ORG-7","ehr_patient_ref":"P-1001",
                "host_invoice_id":"INV-stale","host_payer_id":"P-stale"}"#,
        ),
    ));
    let client = StripeClient::new(stripe.clone());
    let keys = HostIdKeys::from_policy(&renamed_host_id_policy());
    assert_eq!(keys.invoice.as_deref(), Some("ehr_invoice_ref"));

    let rows = report::stripe_invoices(&client, &store, None, &InvoiceQuery::new(), &keys)
        .await
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(&rows), ["INV-42"]);
    let row = &rows[0];
    assert_eq!(row.stripe_invoice_id, "in_renamed");
    assert_eq!(
        row.payer,
        PayerRef::Organisation(OrganisationId::new("ORG-7").unwrap())
    );
    assert_eq!(row.patient.as_ref().map(PatientId::as_str), Some("P-1001"));

    // The preset keys read the stale values: the keys decide, not the invoice alone.
    let invoice: billbridge::stripe::models::Invoice = serde_json::from_str(&stripe_invoice(
        "in_renamed",
        "open",
        4800,
        r#"{"ehr_invoice_ref":"INV-42","host_invoice_id":"INV-stale"}"#,
    ))
    .unwrap();
    assert_eq!(
        HostIdKeys::default().host_invoice_id(&invoice),
        Some("INV-stale")
    );
    assert_eq!(keys.host_invoice_id(&invoice), Some("INV-42"));
    assert_eq!(
        HostIdKeys::default(),
        HostIdKeys::from_policy(&MetadataPolicy::hero_compatible()),
        "hosts without a custom policy read the preset keys"
    );
}

#[test]
fn paid_outside_metadata_on_an_unknown_stripe_invoice_becomes_paid_outside() {
    let invoice: billbridge::stripe::models::Invoice = serde_json::from_str(&stripe_invoice(
        "in_cash",
        "paid",
        0,
        r#"{"host_invoice_id":"INV-5","paid_outside_method":"cash",
            "paid_outside_reference":"receipt 17","paid_outside_on":"2026-11-21"}"#,
    ))
    .unwrap();
    assert_eq!(
        HostIdKeys::default().host_invoice_id(&invoice),
        Some("INV-5")
    );
    assert_eq!(
        PaidOutside::from_metadata(&invoice.metadata),
        Some(
            PaidOutside::new(PaymentMethod::Cash)
                .reference("receipt 17")
                .on(day("2026-11-21"))
        )
    );

    // Only the method is required; an unreadable day is left out, not an error.
    let invoice: billbridge::stripe::models::Invoice = serde_json::from_str(&stripe_invoice(
        "in_cheque",
        "paid",
        0,
        r#"{"paid_outside_method":"cheque","paid_outside_on":"21/11/2026"}"#,
    ))
    .unwrap();
    assert_eq!(
        PaidOutside::from_metadata(&invoice.metadata),
        Some(PaidOutside::new(PaymentMethod::Cheque))
    );

    let invoice: billbridge::stripe::models::Invoice =
        serde_json::from_str(&stripe_invoice("in_card", "paid", 0, "{}")).unwrap();
    assert_eq!(PaidOutside::from_metadata(&invoice.metadata), None);
}

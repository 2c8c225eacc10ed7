//! Measures CSV export: "CSV export of 100,000 invoices streams in constant memory".
//!
//! Invoice rows are generated lazily, one at a time, and streamed to `io::sink()`. The
//! peak resident memory (`VmHWM` in `/proc/self/status`, Linux only) is printed after
//! 10,000 and after 100,000 rows: when the export streams, the two peaks are about the
//! same. With `--sqlite` the rows are first written to a SQLite store in a temporary
//! directory and then exported through the report pager, page by page.
//!
//! Run with `cargo run --release -p billbridge --example bench_csv_export [-- --sqlite]`.
//! A measurement, not a test: nothing fails on speed.

use std::error::Error;
use std::io;
use std::time::Instant;

use billbridge::domain::status::InvoiceStatus;
use billbridge::mirror::InvoiceRecord;
use billbridge::report::{self, Column, CsvOptions, InvoiceQuery};
use billbridge::store::{InvoiceMirror, MetadataMap, PartyKind, SqliteStore, SyncStore};

/// 2026-11-01T00:00:00Z.
const FIRST_CREATED: i64 = 1_793_491_200;

fn row(n: u64) -> InvoiceMirror {
    let n_signed = i64::try_from(n).unwrap_or(i64::MAX);
    let total = 5_000 + (n_signed % 97) * 50;
    let mut metadata = MetadataMap::new();
    metadata.insert("patient_name", format!("Patient {n}, \"test\""));
    metadata.insert("appointment_location", "Bristol");
    InvoiceMirror {
        account: None,
        host_invoice_id: format!("INV-{n:07}"),
        stripe_invoice_id: format!("in_{n:014}"),
        stripe_customer_id: format!("cus_{:08}", n % 5_000),
        status: if n.is_multiple_of(3) {
            InvoiceStatus::Paid
        } else {
            InvoiceStatus::Open
        },
        unrecognised_status: None,
        number: Some(format!("BB-{n:07}")),
        currency: "gbp".into(),
        subtotal: total,
        total,
        amount_due: total,
        amount_paid: 0,
        amount_remaining: total,
        starting_balance: 0,
        ending_balance: Some(0),
        hosted_invoice_url: Some(format!("https://invoice.stripe.com/i/acct_x/test_{n}")),
        invoice_pdf: None,
        due_date: Some(FIRST_CREATED + n_signed * 60 + 14 * 86_400),
        created: FIRST_CREATED + n_signed * 60,
        metadata,
        paid_at: None,
        paid_outside: None,
        stripe_updated_at: FIRST_CREATED + n_signed * 60,
        payer_kind: PartyKind::Patient,
        payer_host_id: format!("P-{:06}", n % 5_000),
        patient_host_id: Some(format!("P-{:06}", n % 5_000)),
    }
}

fn columns() -> Vec<Column> {
    let mut columns = Column::ALL.to_vec();
    columns.push(Column::meta("patient_name"));
    columns.push(Column::meta("appointment_location"));
    columns
}

/// Peak resident set size in kB, when the platform reports it.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn show_peak() -> String {
    peak_rss_kb().map_or_else(|| "n/a".to_owned(), |kb| format!("{kb} kB"))
}

fn measure(
    label: &str,
    rows: u64,
    export: impl FnOnce() -> Result<usize, Box<dyn Error>>,
) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let written = export()?;
    let seconds = started.elapsed().as_secs_f64();
    let per_second = if seconds > 0.0 {
        format!("{:.0}", written as f64 / seconds)
    } else {
        "n/a".to_owned()
    };
    println!(
        "{label}: {written} of {rows} rows in {seconds:.3} s ({per_second} rows/s), peak RSS {}",
        show_peak()
    );
    Ok(())
}

fn from_iterator() -> Result<(), Box<dyn Error>> {
    let columns = columns();
    println!("lazy rows → io::sink(), peak RSS before: {}", show_peak());
    for rows in [10_000u64, 100_000] {
        measure("iterator", rows, || {
            let records = (0..rows).map(|n| InvoiceRecord::from_row(&row(n)));
            let mut written = 0_usize;
            let mut csv = report::InvoiceCsvWriter::new(io::sink(), &columns, &Default::default())?;
            for record in records {
                csv.write(&record?)?;
                written = written.saturating_add(1);
            }
            csv.finish()?;
            Ok(written)
        })?;
    }
    Ok(())
}

fn from_sqlite() -> Result<(), Box<dyn Error>> {
    let directory = std::env::temp_dir().join(format!("billbridge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&directory)?;
    let path = directory.join("bench.sqlite");
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let result = runtime.block_on(async {
        let store = SqliteStore::open(&path)?;
        let columns = columns();
        let mut filled = 0u64;
        for rows in [10_000u64, 100_000] {
            let started = Instant::now();
            while filled < rows {
                store.put_invoice_mirror(&row(filled)).await?;
                filled += 1;
            }
            println!(
                "filled the SQLite store to {rows} rows in {:.1} s, peak RSS {}",
                started.elapsed().as_secs_f64(),
                show_peak()
            );
            let started = Instant::now();
            let written = report::invoices(&store, None, &InvoiceQuery::new().page_size(500))
                .write_csv(&columns, &CsvOptions::default(), io::sink())
                .await?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "sqlite pager: {written} rows in {seconds:.3} s ({:.0} rows/s), peak RSS {}",
                written as f64 / seconds.max(f64::EPSILON),
                show_peak()
            );
        }
        Ok::<(), Box<dyn Error>>(())
    });
    let _ = std::fs::remove_dir_all(&directory);
    result
}

fn main() -> Result<(), Box<dyn Error>> {
    if std::env::args().any(|argument| argument == "--sqlite") {
        from_sqlite()
    } else {
        from_iterator()
    }
}

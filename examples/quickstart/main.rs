//! The README's main command: one working day at a small practice
//! (`examples/data/practice_day.json`) played through billbridge on the embedded mock
//! Stripe, with the SQLite sync store in a fresh temporary folder. It prints each step,
//! every invoice with its amounts and the outstanding report, and writes the outstanding
//! and payments reports as CSV files.
//!
//! ```text
//! make quickstart                  # or: cargo run -p billbridge --example quickstart
//! ```
//!
//! Against a real Stripe **test** account instead (live keys are refused):
//!
//! ```text
//! STRIPE_API_KEY=sk_test_… cargo run -p billbridge --example quickstart
//! ```
//!
//! Each such run suffixes every host id with a run id, so runs never collide. Stripe's
//! webhooks cannot reach a program on this machine, so in that mode the card payment of
//! step 7 is read back with `resync_invoice` (the missed-webhook recovery) instead.

mod practice_day;

use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use billbridge::domain::money::Money;
use billbridge::store::SqliteStore;
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::sync::{Billbridge, IdempotencySecret, InvoiceRecord};
use billbridge_mock::MockStripe;

use practice_day::{DayError, DayReport, PaymentNotice, Scenario, show_money};

/// Where the day runs.
enum Target {
    Mock,
    StripeTestAccount(ApiKey),
}

#[tokio::main]
async fn main() -> ExitCode {
    let target = match std::env::var("STRIPE_API_KEY") {
        Ok(key) if !key.trim().is_empty() => match ApiKey::parse(key.trim()) {
            Ok(key) if key.is_test_mode() => Target::StripeTestAccount(key),
            Ok(_) => {
                eprintln!(
                    "STRIPE_API_KEY is a live key. The quickstart creates customers and \
                     invoices and pays one with a test card, so it only runs against a test \
                     account: use a sk_test_… (or rk_test_…) key, or unset STRIPE_API_KEY to \
                     play the day on the embedded mock Stripe."
                );
                return ExitCode::from(2);
            }
            Err(error) => {
                eprintln!("STRIPE_API_KEY is not usable: {error}.");
                return ExitCode::from(2);
            }
        },
        _ => Target::Mock,
    };
    match run(target).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("The practice day stopped: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(target: Target) -> Result<(), DayError> {
    let run_id = run_id();
    let folder = std::env::temp_dir().join(format!("billbridge-quickstart-{run_id}"));
    let io_error = |path: &Path| {
        let path = path.to_owned();
        move |source| DayError::Io { path, source }
    };
    std::fs::create_dir_all(&folder).map_err(io_error(&folder))?;
    let database = folder.join("billbridge.sqlite3");
    let store = SqliteStore::open(&database).map_err(billbridge::Error::from)?;

    let (scenario, bridge, notice, where_) = match target {
        Target::Mock => {
            let scenario = Scenario::shipped()?;
            let mock = MockStripe::new();
            let bridge = practice_day::mock_bridge(&scenario, &mock, store)?;
            let notice = PaymentNotice::Webhooks(mock);
            (
                scenario,
                bridge,
                notice,
                "the embedded mock Stripe".to_owned(),
            )
        }
        Target::StripeTestAccount(key) => {
            let scenario = Scenario::parse(practice_day::SCENARIO_JSON, Some(&run_id))?;
            let bridge = stripe_bridge(&scenario, key, store, &run_id)?;
            let place = format!("your Stripe test account (host ids end in -{run_id})");
            (scenario, bridge, PaymentNotice::Resync, place)
        }
    };

    println!("billbridge quickstart: a day at {}", scenario.practice);
    println!("  played on  {where_}");
    println!("  store      SQLite, {}", database.display());
    if matches!(notice, PaymentNotice::Resync) {
        println!(
            "  note       Stripe's webhooks cannot reach this machine: step 7 pays with a \
             test card and reads the invoice back with resync_invoice"
        );
    }
    println!();

    let day = practice_day::play(&bridge, &scenario, &notice, &folder).await?;
    print_day(&scenario, &day);
    Ok(())
}

/// A short id unique to this run: the time and the process id, in base 36.
fn run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut value = nanos ^ (u128::from(std::process::id()) << 64);
    let mut id = String::new();
    while value > 0 && id.len() < 8 {
        let digit = u32::try_from(value % 36).unwrap_or(0);
        id.push(char::from_digit(digit, 36).unwrap_or('0'));
        value /= 36;
    }
    id
}

/// A bridge over a real Stripe test account. The idempotency secret only has to stay
/// the same for one account between runs of one host; every run here has new host ids.
fn stripe_bridge(
    scenario: &Scenario,
    key: ApiKey,
    store: SqliteStore,
    run_id: &str,
) -> Result<Billbridge, DayError> {
    let transport = HttpTransport::new(key).map_err(|error| DayError::Unexpected {
        step: 0,
        problem: format!("the HTTP client could not start: {error}"),
    })?;
    let secret = IdempotencySecret::new(format!("billbridge-quickstart-{run_id}"))?;
    Ok(Billbridge::builder(StripeClient::new(transport))
        .metadata_policy(scenario.policy.clone())
        .store(store)
        .idempotency_secret(secret)
        .catalogue(scenario.catalogue.clone())
        .currency(scenario.currency)
        .default_days_until_due(scenario.days_until_due)
        .build()?)
}

fn print_day(scenario: &Scenario, day: &DayReport) {
    println!("The day ({})", day.today);
    let title_width = day
        .steps
        .iter()
        .map(|step| step.title.chars().count())
        .max()
        .unwrap_or(0);
    for step in &day.steps {
        for (index, line) in step.lines.iter().enumerate() {
            if index == 0 {
                println!("  {:>2}  {:<title_width$}  {line}", step.number, step.title);
            } else {
                println!("      {:<title_width$}  {line}", "");
            }
        }
    }
    println!();

    println!("Invoices at the end of the day");
    let rows: Vec<Vec<String>> = day
        .invoices
        .iter()
        .map(|invoice| {
            let show = show_money;
            vec![
                invoice
                    .number
                    .clone()
                    .unwrap_or_else(|| "(draft)".to_owned()),
                scenario.payer_name(invoice.payer.host_id()),
                invoice.status.as_str().to_owned(),
                show(invoice.total),
                show(invoice.amount_due),
                show(invoice.amount_paid),
                show(invoice.amount_remaining),
                show(invoice.starting_balance),
                invoice.ending_balance.map_or_else(|| "-".to_owned(), show),
            ]
        })
        .collect();
    print_table(
        &[
            ("Number", Align::Left),
            ("Payer", Align::Left),
            ("Status", Align::Left),
            ("Total", Align::Right),
            ("Due", Align::Right),
            ("Paid", Align::Right),
            ("Remaining", Align::Right),
            ("Start balance", Align::Right),
            ("End balance", Align::Right),
        ],
        &rows,
    );
    println!();

    println!("Outstanding (open) invoices");
    let rows: Vec<Vec<String>> = day
        .outstanding
        .iter()
        .map(|invoice| {
            vec![
                invoice.number.clone().unwrap_or_default(),
                scenario.payer_name(invoice.payer.host_id()),
                meta(invoice, practice_day::PATIENT_NAME),
                meta(invoice, practice_day::APPOINTMENT_PRACTITIONER),
                invoice
                    .due_on
                    .map_or_else(String::new, |due| due.to_string()),
                show_money(invoice.amount_remaining),
            ]
        })
        .collect();
    print_table(
        &[
            ("Number", Align::Left),
            ("Payer", Align::Left),
            ("Patient", Align::Left),
            ("Practitioner", Align::Left),
            ("Due on", Align::Left),
            ("Remaining", Align::Right),
        ],
        &rows,
    );
    let owed = Money::checked_sum(
        scenario.currency,
        day.outstanding.iter().map(|row| row.amount_remaining),
    )
    .map_or_else(|error| error.to_string(), show_money);
    println!("  Total still owed: {owed}");
    println!();

    println!("Payments received today");
    let rows: Vec<Vec<String>> = day
        .payments
        .iter()
        .map(|payment| {
            vec![
                payment.invoice_number.clone().unwrap_or_default(),
                scenario.payer_name(payment.payer.host_id()),
                payment.channel.as_str().to_owned(),
                payment.reference.clone().unwrap_or_default(),
                show_money(payment.amount),
            ]
        })
        .collect();
    print_table(
        &[
            ("Number", Align::Left),
            ("Payer", Align::Left),
            ("Method", Align::Left),
            ("Reference", Align::Left),
            ("Amount", Align::Right),
        ],
        &rows,
    );
    println!();

    println!("CSV files");
    print_file("outstanding", &day.csv.outstanding, day.outstanding.len());
    print_file("payments", &day.csv.payments, day.payments.len());
}

fn meta(invoice: &InvoiceRecord, key: &str) -> String {
    invoice.metadata.get(key).unwrap_or_default().to_owned()
}

fn print_file(name: &str, path: &Path, rows: usize) {
    println!(
        "  {name:<12} {}  ({})",
        path.display(),
        practice_day::counted(rows, "row", "rows")
    );
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Prints rows under their headers, each column as wide as its widest cell.
fn print_table(columns: &[(&str, Align)], rows: &[Vec<String>]) {
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(index, (header, _))| {
            rows.iter()
                .filter_map(|row| row.get(index))
                .map(|cell| cell.chars().count())
                .chain([header.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for ((cell, (_, align)), width) in cells.iter().zip(columns).zip(&widths) {
            match align {
                Align::Left => text.push_str(&format!("  {cell:<width$}")),
                Align::Right => text.push_str(&format!("  {cell:>width$}")),
            }
        }
        println!("{}", text.trim_end());
    };
    line(columns.iter().map(|(header, _)| *header).collect());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

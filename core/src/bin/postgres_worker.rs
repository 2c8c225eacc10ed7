//! One worker process of a billbridge deployment, for the exactly-once test across
//! processes (`tests/postgres_workers.rs`) and the store benchmark
//! (`core/examples/bench_postgres.rs`): a bridge of its own over a Stripe reached by HTTP (the
//! mock's server) and a store shared with the other workers (PostgreSQL, or SQLite for
//! the single-process comparison).
//!
//! ```text
//! billbridge-postgres-worker --stripe URL [--api-key sk_test_…]
//!     --store postgres|sqlite --database URL|PATH [--schema NAME] [--account acct_…] [--worker N] [--event-lease-ms N]
//!     work --patients N --invoices N --lines N --adjustments N
//!   | webhooks --deliveries FILE
//!   | bench --patients N
//! ```
//!
//! `work` upserts every patient, adjusts each balance and raises (finalizes and sends)
//! every invoice of the shared plan, in an order of its own, retrying each operation
//! until it succeeds as a host's job queue would. `webhooks` handles every delivery of a
//! JSON file (`[{"body": "…", "signature": "…"}]`) in an order of its own. `bench` upserts
//! its own patients, prints `armed`, waits for a line on stdin, then raises one invoice
//! for each and reports `bench COUNT START_MS END_MS`.
//! Progress goes to stdout, one line per operation, so a test can stop a worker
//! part-way.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::money::Money;
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::store::{PostgresStore, SqliteStore, SyncStore};
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{Billbridge, IdempotencySecret, Raise};
use billbridge::{Error, ErrorCategory};

/// The idempotency secret every worker of the deployment shares.
const SECRET: &str = "worker-deployment-idempotency-secret";

/// How many times one operation is tried before the worker gives up.
const ATTEMPTS: u32 = 60;

struct Options {
    stripe: String,
    api_key: String,
    store: String,
    database: String,
    schema: String,
    account: Option<String>,
    worker: u64,
    event_lease_ms: u64,
    webhook_secret: Option<String>,
    command: String,
    patients: u32,
    invoices: u32,
    lines: u32,
    adjustments: u32,
    deliveries: Option<String>,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        stripe: String::new(),
        api_key: String::from("sk_test_mock"),
        store: String::from("postgres"),
        database: String::new(),
        schema: String::from("billbridge"),
        account: None,
        worker: 0,
        event_lease_ms: 120_000,
        webhook_secret: None,
        command: String::new(),
        patients: 0,
        invoices: 0,
        lines: 1,
        adjustments: 0,
        deliveries: None,
    };
    let mut arguments = std::env::args().skip(1);
    while let Some(argument) = arguments.next() {
        let mut value = || {
            arguments
                .next()
                .ok_or_else(|| format!("{argument} needs a value"))
        };
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("not a number: {text}"))
        };
        match argument.as_str() {
            "--stripe" => options.stripe = value()?,
            "--api-key" => options.api_key = value()?,
            "--store" => options.store = value()?,
            "--database" => options.database = value()?,
            "--schema" => options.schema = value()?,
            "--account" => options.account = Some(value()?),
            "--worker" => options.worker = number(value()?)?,
            "--event-lease-ms" => options.event_lease_ms = number(value()?)?,
            "--webhook-secret" => options.webhook_secret = Some(value()?),
            "--patients" => options.patients = number(value()?)? as u32,
            "--invoices" => options.invoices = number(value()?)? as u32,
            "--lines" => options.lines = number(value()?)? as u32,
            "--adjustments" => options.adjustments = number(value()?)? as u32,
            "--deliveries" => options.deliveries = Some(value()?),
            "work" | "webhooks" | "bench" => options.command = argument.clone(),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if options.stripe.is_empty() || options.database.is_empty() || options.command.is_empty() {
        return Err(String::from(
            "usage: billbridge-postgres-worker --stripe URL --database URL|PATH [--store postgres|sqlite] work|webhooks|bench …",
        ));
    }
    Ok(options)
}

/// A small deterministic shuffle, different per worker, so that workers meet the same
/// objects in different orders.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for index in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let other = (state % (index as u64 + 1)) as usize;
        items.swap(index, other);
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default()
}

/// Whether a failed operation may succeed when run again: Stripe unreachable or
/// throttled, a 5xx or 409, a store that failed, a draft another worker is finishing.
fn transient(error: &Error) -> bool {
    matches!(
        error.category(),
        ErrorCategory::Transport | ErrorCategory::Store | ErrorCategory::InvalidState
    ) || error
        .details()
        .http_status
        .is_some_and(|status| status == 409 || status == 429 || status >= 500)
}

/// Runs `operation` until it succeeds, as a job queue retries a failed job.
async fn until_done<T, F, Fut>(what: &str, mut operation: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        match operation().await {
            Ok(value) => return Ok(value),
            Err(error) if transient(&error) => {
                last = format!("{} ({})", error, error.code());
                let pause = 20 * u64::from(attempt.min(20) + 1);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            Err(error) => return Err(format!("{what}: {error} ({})", error.code())),
        }
    }
    Err(format!(
        "{what}: still failing after {ATTEMPTS} attempts: {last}"
    ))
}

fn patient(number: u32, prefix: &str) -> Result<Patient, String> {
    let id = PatientId::new(format!("{prefix}{number}")).map_err(|error| error.to_string())?;
    Ok(Patient::new(id, format!("Patient{number}"), "Example").with_postcode("LS1 4AP"))
}

/// Invoice `index` of `patient`: `lines` lines of distinct amounts.
fn draft(patient: &Patient, index: u32, lines: u32) -> Result<InvoiceDraft, String> {
    let id = InvoiceId::new(format!("INV-{}-{index}", patient.id.as_str()))
        .map_err(|error| error.to_string())?;
    Ok(InvoiceDraft::for_patient(patient)
        .host_id(id)
        .lines((0..lines).map(|line| {
            InvoiceLine::ad_hoc(
                format!("Session {line}"),
                Money::gbp(i64::from(1_000 + 100 * line + index)),
                1,
            )
        })))
}

async fn open_store(options: &Options) -> Result<Arc<dyn SyncStore>, String> {
    match options.store.as_str() {
        "postgres" => {
            let store = PostgresStore::builder(options.database.clone())
                .schema(options.schema.clone())
                .event_lease(Duration::from_millis(options.event_lease_ms.max(1)))
                .connect()
                .await
                .map_err(|error| format!("postgres: {error}"))?;
            Ok(Arc::new(store))
        }
        "sqlite" => {
            let store =
                SqliteStore::open(&options.database).map_err(|error| format!("sqlite: {error}"))?;
            Ok(Arc::new(store))
        }
        other => Err(format!("unknown store: {other}")),
    }
}

async fn bridge(options: &Options, store: Arc<dyn SyncStore>) -> Result<Billbridge, String> {
    let key = ApiKey::secret(options.api_key.clone()).map_err(|error| error.to_string())?;
    let transport = HttpTransport::builder(key)
        .base_url(options.stripe.clone())
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|error| error.to_string())?;
    let mut builder = Billbridge::builder(StripeClient::new(transport))
        .shared_store(store)
        .idempotency_secret(IdempotencySecret::new(SECRET).map_err(|error| error.to_string())?);
    if let Some(account) = &options.account {
        builder = builder.account(account.clone());
    }
    if let Some(secret) = &options.webhook_secret {
        builder = builder
            .webhook_secret(WebhookSecret::new(secret.clone()).map_err(|error| error.to_string())?)
            // Deliveries are signed once and handled again after the lease: the test's
            // own time, not Stripe's five minutes, bounds how old they get.
            .webhook_tolerance(Duration::from_secs(3_600));
    }
    builder.build().map_err(|error| error.to_string())
}

async fn work(options: &Options, bridge: &Billbridge) -> Result<(), String> {
    let patients = (0..options.patients)
        .map(|number| patient(number, "P-"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut steps: Vec<(u32, u32)> = Vec::new();
    for number in 0..options.patients {
        steps.push((number, u32::MAX));
    }
    shuffle(&mut steps, options.worker + 1);
    for (number, _) in &steps {
        let party = Party::from(patients[*number as usize].clone());
        until_done("upsert", || bridge.upsert_customer(&party)).await?;
        say(&format!("progress customer {number}"));
    }
    let mut adjustments: Vec<(u32, u32)> = (0..options.patients)
        .flat_map(|number| (0..options.adjustments).map(move |index| (number, index)))
        .collect();
    shuffle(&mut adjustments, options.worker + 7);
    for (number, index) in adjustments {
        let payer = patients[number as usize].payer();
        let id = format!("ADJ-{number}-{index}");
        until_done("adjust", || {
            bridge.adjust_balance(&payer, Money::gbp(-250), "Missed appointment kept", &id)
        })
        .await?;
        say(&format!("progress adjustment {id}"));
    }
    let mut raises: Vec<(u32, u32)> = (0..options.patients)
        .flat_map(|number| (0..options.invoices).map(move |index| (number, index)))
        .collect();
    shuffle(&mut raises, options.worker + 13);
    for (number, index) in raises {
        let patient = &patients[number as usize];
        let draft = draft(patient, index, options.lines)?;
        until_done("raise", || {
            bridge.raise_invoice(&draft, Some(patient), Raise::FinalizeAndSend)
        })
        .await?;
        say(&format!("progress invoice {number} {index}"));
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct Delivery {
    body: String,
    signature: String,
}

async fn webhooks(options: &Options, bridge: &Billbridge) -> Result<(), String> {
    let path = options
        .deliveries
        .as_deref()
        .ok_or("webhooks needs --deliveries FILE")?;
    let text = std::fs::read_to_string(path).map_err(|error| format!("{path}: {error}"))?;
    let mut deliveries: Vec<Delivery> =
        serde_json::from_str(&text).map_err(|error| format!("{path}: {error}"))?;
    shuffle(&mut deliveries, options.worker + 29);
    for delivery in &deliveries {
        let outcome = until_done("webhook", || {
            bridge.handle_webhook(delivery.body.as_bytes(), Some(&delivery.signature))
        })
        .await?;
        say(&format!(
            "outcome {} {} {}",
            outcome.event_id,
            outcome.disposition.as_str(),
            outcome.changes.len()
        ));
    }
    Ok(())
}

async fn bench(options: &Options, bridge: &Billbridge) -> Result<(), String> {
    let prefix = format!("B{}-", options.worker);
    let patients = (0..options.patients)
        .map(|number| patient(number, &prefix))
        .collect::<Result<Vec<_>, _>>()?;
    for patient in &patients {
        let party = Party::from(patient.clone());
        until_done("upsert", || bridge.upsert_customer(&party)).await?;
    }
    let drafts = patients
        .iter()
        .map(|patient| draft(patient, 0, options.lines))
        .collect::<Result<Vec<_>, _>>()?;
    // Set up; then wait on stdin for the driver's start, so that every worker of a run
    // starts raising at the same moment.
    say("armed");
    let mut go = String::new();
    std::io::stdin()
        .read_line(&mut go)
        .map_err(|error| format!("stdin: {error}"))?;
    let started = now_ms();
    for (patient, draft) in patients.iter().zip(&drafts) {
        until_done("raise", || {
            bridge.raise_invoice(draft, Some(patient), Raise::FinalizeAndSend)
        })
        .await?;
    }
    say(&format!("bench {} {started} {}", drafts.len(), now_ms()));
    Ok(())
}

async fn run(options: Options) -> Result<(), String> {
    let store = open_store(&options).await?;
    let bridge = bridge(&options, store).await?;
    say("ready");
    match options.command.as_str() {
        "work" => work(&options, &bridge).await,
        "webhooks" => webhooks(&options, &bridge).await,
        _ => bench(&options, &bridge).await,
    }?;
    say("done");
    Ok(())
}

fn main() {
    let options = match parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("runtime: {error}");
            std::process::exit(1);
        }
    };
    if let Err(message) = runtime.block_on(run(options)) {
        eprintln!("worker failed: {message}");
        std::process::exit(1);
    }
}

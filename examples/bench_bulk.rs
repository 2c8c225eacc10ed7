//! Measures bulk sync against a rate-limited server: thousands of customer upserts and
//! invoices through the HTTP transport against the mock's HTTP server (the
//! `billbridge-mock` command, in its own process so that the figures are the bridge's
//! alone), with the server's rate limit on and latency injected. Prints the achieved
//! request rate against the limit (DESIGN.md: at least 95 %), the 429s seen, failed and
//! duplicated objects (0 and 0), and the peak resident memory of the bridge's process
//! and of the server's.
//!
//! Run with `cargo build --release -p billbridge-mock --bin billbridge-mock && cargo run
//! --release --features http --example bench_bulk` (`BENCH_BULK_ITEMS=500` for a
//! shorter run; `BENCH_BULK_RATE`, `BENCH_BULK_LATENCY_MS`; `BILLBRIDGE_MOCK_SERVER` names
//! the server program, by default the `billbridge-mock` built beside this one).
//! A measurement, not a test.

use std::collections::BTreeMap;
use std::error::Error;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::Money;
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::stripe::client::{ListCustomers, ListInvoices, RequestContext, StripeClient};
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::sync::{Billbridge, BulkOptions, IdempotencySecret, InvoiceRequest, Raise};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The peak resident memory of a process (`self` or a pid), in KiB.
fn peak_resident_kib(process: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "unknown".to_owned(),
        |kib| format!("{:.1} MiB", kib as f64 / 1024.0),
    )
}

/// The mock server program: `BILLBRIDGE_MOCK_SERVER`, or `billbridge-mock` in the target
/// folder this example was built in.
fn server_program() -> Result<PathBuf, Box<dyn Error>> {
    if let Some(path) = std::env::var_os("BILLBRIDGE_MOCK_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    let profile = exe
        .parent()
        .and_then(|examples| examples.parent())
        .ok_or("no target folder")?;
    Ok(profile.join("billbridge-mock"))
}

/// The server, its URL, and a count of the requests it answered with something other
/// than 429 and with 429 (read from its `--verbose` lines).
struct Server {
    child: Child,
    url: String,
    answered: Arc<AtomicUsize>,
    rate_limited: Arc<AtomicUsize>,
}

fn start_server(rate: u32, latency: Duration) -> Result<Server, Box<dyn Error>> {
    let program = server_program()?;
    let mut child = Command::new(&program)
        .args([
            "--port",
            "0",
            "--verbose",
            "--rate-limit",
            &rate.to_string(),
        ])
        .args(["--latency", &format!("{}ms", latency.as_millis())])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| {
            format!(
                "{}: {error} (build it with `cargo build --release -p billbridge-mock`)",
                program.display()
            )
        })?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut ready = String::new();
    BufReader::new(stdout).read_line(&mut ready)?;
    let url = ready
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .ok_or_else(|| format!("no readiness line from the server: {ready:?}"))?
        .to_owned();
    let answered = Arc::new(AtomicUsize::new(0));
    let rate_limited = Arc::new(AtomicUsize::new(0));
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (ok, limited) = (answered.clone(), rate_limited.clone());
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // `METHOD /path STATUS req_…`
            match line.split_whitespace().nth(2) {
                Some("429") => limited.fetch_add(1, Ordering::Relaxed),
                Some(_) => ok.fetch_add(1, Ordering::Relaxed),
                None => 0,
            };
        }
    });
    Ok(Server {
        child,
        url,
        answered,
        rate_limited,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let items = env("BENCH_BULK_ITEMS", 5_000) as usize;
    let rate = env("BENCH_BULK_RATE", 200) as u32;
    let latency = Duration::from_millis(env("BENCH_BULK_LATENCY_MS", 20));

    let mut server = start_server(rate, latency)?;
    let transport = HttpTransport::builder(ApiKey::secret("sk_test_bulk")?)
        .base_url(server.url.as_str())
        .build()?;
    let bridge = Billbridge::builder(StripeClient::new(transport))
        .metadata_policy(MetadataPolicy::hero_compatible())
        .idempotency_secret(IdempotencySecret::new("bulk-benchmark-secret-0001")?)
        .requests_per_second(rate)
        .build()?;
    let options = BulkOptions {
        concurrency: 32,
        requests_per_second: Some(rate),
        progress: None,
    };

    let patients: Vec<Patient> = (0..items)
        .map(|index| {
            Ok(Patient::new(
                PatientId::new(format!("P-{index:06}"))?,
                format!("Given{index}"),
                "Bulk",
            )
            .with_email(format!("bulk{index}@example.com")))
        })
        .collect::<Result<_, billbridge::domain::party::PartyError>>()?;
    let parties: Vec<Party> = patients.iter().cloned().map(Party::Patient).collect();
    let requests: Vec<InvoiceRequest> = patients
        .iter()
        .map(|patient| {
            Ok(InvoiceRequest {
                draft: InvoiceDraft::for_patient(patient)
                    .host_id(InvoiceId::new(format!("INV-{}", patient.id.as_str()))?)
                    .line(InvoiceLine::ad_hoc("Consultation", Money::gbp(5_000), 1))
                    .line(InvoiceLine::ad_hoc("Kit", Money::gbp(1_250), 2))
                    .due_in_days(14),
                patient: Some(patient.clone()),
            })
        })
        .collect::<Result<_, billbridge::domain::party::PartyError>>()?;

    let start = Instant::now();
    let customers = bridge.upsert_customers(&parties, &options).await?;
    let invoices = bridge
        .raise_invoices(&requests, Raise::Finalize, &options)
        .await?;
    let elapsed = start.elapsed();
    let failed = customers.iter().filter(|item| item.result.is_err()).count()
        + invoices.iter().filter(|item| item.result.is_err()).count();

    // The server writes its line after answering; let the last lines arrive.
    std::thread::sleep(Duration::from_millis(200));
    let answered = server.answered.load(Ordering::Relaxed);
    let rate_limited = server.rate_limited.load(Ordering::Relaxed);
    let achieved = answered as f64 / elapsed.as_secs_f64();
    let bridge_peak = peak_resident_kib("self");

    let client = bridge.client();
    let context = RequestContext::new();
    let stripe_customers = client
        .customers()
        .list(
            &ListCustomers {
                limit: Some(100),
                ..ListCustomers::default()
            },
            &context,
        )?
        .with_max_pages(100_000)
        .collect_all()
        .await?;
    let stripe_invoices = client
        .invoices()
        .list(
            &ListInvoices {
                limit: Some(100),
                ..ListInvoices::default()
            },
            &context,
        )?
        .with_max_pages(100_000)
        .collect_all()
        .await?;
    let mut per_host: BTreeMap<String, usize> = BTreeMap::new();
    for customer in &stripe_customers {
        *per_host
            .entry(
                customer
                    .metadata
                    .get("host_patient_id")
                    .unwrap_or("?")
                    .to_owned(),
            )
            .or_default() += 1;
    }
    for invoice in &stripe_invoices {
        *per_host
            .entry(
                invoice
                    .metadata
                    .get("host_invoice_id")
                    .unwrap_or("?")
                    .to_owned(),
            )
            .or_default() += 1;
    }
    let duplicates = per_host.values().filter(|count| **count > 1).count();
    let missing = 2 * items - per_host.len().min(2 * items);

    println!("bulk: {items} customer upserts + {items} invoices (raised and finalized) over HTTP");
    println!(
        "  limit {rate} requests/s, latency {} ms, concurrency {}",
        latency.as_millis(),
        options.concurrency
    );
    println!(
        "  {answered} requests answered in {:.1} s: {achieved:.1} requests/s = {:.1} % of the limit (target ≥ 95 %)",
        elapsed.as_secs_f64(),
        100.0 * achieved / f64::from(rate)
    );
    println!(
        "  429s seen: {rate_limited}; failed operations: {failed}; duplicated objects: {duplicates}; missing: {missing}"
    );
    println!(
        "  peak resident memory: bridge process {}, mock server process {}",
        mib(bridge_peak),
        mib(peak_resident_kib(&server.child.id().to_string()))
    );
    server.child.kill()?;
    server.child.wait()?;
    Ok(())
}

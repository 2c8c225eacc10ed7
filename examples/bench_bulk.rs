//! Measures bulk sync against a rate-limited server: thousands of customer upserts and
//! invoices through the HTTP transport against the mock's HTTP front, with the mock's
//! rate limit on (real time) and latency injected. Prints the achieved request rate
//! against the limit (DESIGN.md: at least 95 %), the 429s seen, failed and duplicated
//! objects (0 and 0) and the peak resident memory.
//!
//! Run with `cargo run --release --features http --example bench_bulk`
//! (`BENCH_BULK_ITEMS=500` for a shorter run; `BENCH_BULK_RATE`, `BENCH_BULK_LATENCY_MS`).
//! A measurement, not a test.

use std::collections::BTreeMap;
use std::error::Error;
use std::time::{Duration, Instant};

use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::Money;
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::stripe::client::{ListCustomers, ListInvoices, RequestContext, StripeClient};
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::sync::{Billbridge, BulkOptions, IdempotencySecret, InvoiceRequest, Raise};
use billbridge_mock::{MockStripe, RateLimit, RequestOutcome};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let items = env("BENCH_BULK_ITEMS", 5_000) as usize;
    let rate = env("BENCH_BULK_RATE", 200) as u32;
    let latency = Duration::from_millis(env("BENCH_BULK_LATENCY_MS", 20));

    let mock = MockStripe::new();
    let server = mock.serve("127.0.0.1:0").await?;
    mock.faults()
        .rate_limit(Some(RateLimit::per_second(rate).real_time()));
    mock.faults().latency(Some(latency));
    let transport = HttpTransport::builder(ApiKey::secret("sk_test_bulk")?)
        .base_url(server.url())
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

    let log = mock.requests();
    let answered = log
        .iter()
        .filter(
            |request| matches!(request.outcome, RequestOutcome::Answered(status) if status != 429),
        )
        .count();
    let rate_limited = log
        .iter()
        .filter(|request| request.outcome == RequestOutcome::Answered(429))
        .count();
    let achieved = answered as f64 / elapsed.as_secs_f64();

    mock.faults().rate_limit(None);
    mock.faults().latency(None);
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
    if let Some(peak) = peak_resident_kib() {
        println!("  peak resident memory: {:.1} MiB", peak as f64 / 1024.0);
    }
    server.shutdown();
    Ok(())
}

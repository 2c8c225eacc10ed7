//! Exactly once across processes: several worker processes (the
//! `billbridge-postgres-worker` program, not threads), each with its own bridge over the
//! same PostgreSQL store and the mock's HTTP front, upsert the same patients, adjust the
//! same balances and raise the same drafts at once, then handle the same webhook
//! deliveries at once — with lost responses, 5xx and 429 injected, and one worker killed
//! part-way through each phase. Afterwards Stripe holds each customer, invoice, line and
//! balance transaction exactly once, nothing is missing, each delivery was applied once,
//! and every mirror equals Stripe's invoice.
#![cfg(all(feature = "postgres", feature = "sqlite", feature = "http"))]
// Helpers outside #[test] functions unwrap too, which clippy's allow-unwrap-in-tests
// does not cover; a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postgres_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use billbridge::domain::status::InvoiceStatus as HostStatus;
use billbridge::stripe::client::{ListCustomers, ListInvoices, StripeClient};
use billbridge::stripe::models::InvoiceStatus;
use billbridge::stripe::transport::TransportErrorKind;
use billbridge::sync::{Billbridge, IdempotencySecret};
use billbridge_mock::{Fault, MockStripe, WebhookOptions};
use postgres_support::{TempSchema, connect_raw, database_url};

const WORKERS: usize = 4;
const PATIENTS: u32 = 6;
const INVOICES: u32 = 2;
const LINES: u32 = 2;
const ADJUSTMENTS: u32 = 2;
/// Must match the worker program's secret: the test's own bridge reads the same rows.
const SECRET: &str = "worker-deployment-idempotency-secret";

/// What one worker printed, and how it ended.
struct Run {
    lines: Vec<String>,
    killed: bool,
}

/// Runs `WORKERS` worker processes with `arguments` at once; the first is killed after
/// printing `kill_after` progress or outcome lines. Every other worker must succeed.
fn run_workers(arguments: &[String], workers: usize, kill_after: Option<usize>) -> Vec<Run> {
    let children: Vec<_> = (0..workers)
        .map(|worker| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_billbridge-postgres-worker"));
            command
                .args(["--worker", &worker.to_string()])
                .args(arguments)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.spawn().expect("start a worker process")
        })
        .collect();
    let handles: Vec<_> = children
        .into_iter()
        .enumerate()
        .map(|(worker, mut child)| {
            std::thread::spawn(move || {
                let stdout = child.stdout.take().expect("piped stdout");
                let mut lines = Vec::new();
                let mut killed = false;
                for line in BufReader::new(stdout).lines() {
                    let line = line.expect("worker output");
                    let counted = line.starts_with("progress") || line.starts_with("outcome");
                    lines.push(line);
                    if worker == 0
                        && !killed
                        && counted
                        && kill_after.is_some_and(|after| {
                            lines.iter().filter(|l| !l.starts_with("ready")).count() >= after
                        })
                    {
                        // SIGKILL: no clean-up, no answer, as when a host's worker dies.
                        child.kill().expect("kill the worker");
                        killed = true;
                    }
                }
                let status = child.wait().expect("worker exit");
                let mut errors = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    use std::io::Read;
                    let _ = stderr.read_to_string(&mut errors);
                }
                assert!(
                    killed || status.success(),
                    "worker {worker} failed ({status}): {errors}"
                );
                Run { lines, killed }
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|handle| handle.join().expect("worker thread"))
        .collect()
}

fn common(url: &str, schema: &TempSchema, stripe: &str) -> Vec<String> {
    [
        "--stripe",
        stripe,
        "--store",
        "postgres",
        "--database",
        url,
        "--schema",
        &schema.name,
    ]
    .iter()
    .map(|argument| (*argument).to_owned())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_in_separate_processes_act_exactly_once_under_faults() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // The mock's clock at the real time: the workers' bridges read the system clock.
    let mock = MockStripe::builder().start_time(now).seed(16).build();
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let stripe = server.url();
    let url = database_url();
    let schema = TempSchema::new("workers");
    let store = schema.store().await;

    // Phase 1: every worker upserts, adjusts and raises the same plan.
    let faults = mock.faults();
    faults.random(
        "/v1/",
        Fault::AppliedResponseLost(TransportErrorKind::Timeout),
        0.04,
    );
    faults.random("/v1/", Fault::UNAVAILABLE_RETRY, 0.04);
    faults.random("/v1/", Fault::SERVER_ERROR, 0.03);
    faults.random("/v1/", Fault::RateLimited, 0.04);
    let mut arguments = common(&url, &schema, &stripe);
    arguments.extend(
        [
            "work",
            "--patients",
            &PATIENTS.to_string(),
            "--invoices",
            &INVOICES.to_string(),
            "--lines",
            &LINES.to_string(),
            "--adjustments",
            &ADJUSTMENTS.to_string(),
        ]
        .map(str::to_owned),
    );
    let runs = tokio::task::spawn_blocking(move || run_workers(&arguments, WORKERS, Some(9)))
        .await
        .unwrap();
    assert!(runs[0].killed, "the first worker was stopped part-way");
    assert!(
        runs[1..]
            .iter()
            .all(|run| run.lines.last().map(String::as_str) == Some("done"))
    );
    mock.faults().clear();

    // Stripe holds each object exactly once.
    let client = StripeClient::new(mock.clone());
    let context = billbridge::stripe::client::RequestContext::new();
    let customers = client
        .customers()
        .list(&ListCustomers::default(), &context)
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let patients: BTreeSet<_> = customers
        .iter()
        .filter_map(|c| c.metadata.get("host_patient_id"))
        .collect();
    assert_eq!(customers.len(), PATIENTS as usize, "no duplicate customer");
    assert_eq!(patients.len(), PATIENTS as usize);
    for customer in &customers {
        let transactions = client
            .balance_transactions()
            .list(&customer.id, Some(100), &context)
            .unwrap()
            .collect_all()
            .await
            .unwrap();
        let adjustments: Vec<_> = transactions
            .iter()
            .filter_map(|t| t.metadata.get("host_adjustment_id"))
            .collect();
        let distinct: BTreeSet<_> = adjustments.iter().collect();
        assert_eq!(
            adjustments.len(),
            ADJUSTMENTS as usize,
            "no duplicate credit"
        );
        assert_eq!(distinct.len(), ADJUSTMENTS as usize);
    }
    let invoices = client
        .invoices()
        .list(&ListInvoices::default(), &context)
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        invoices.len(),
        (PATIENTS * INVOICES) as usize,
        "no duplicate invoice"
    );
    let mut by_host = BTreeMap::new();
    for invoice in &invoices {
        let host = invoice.metadata.get("host_invoice_id").unwrap().to_owned();
        assert_eq!(
            invoice.lines.data.len(),
            LINES as usize,
            "no duplicate line"
        );
        assert_eq!(invoice.status, Some(InvoiceStatus::Open));
        assert!(by_host.insert(host, invoice.id.clone()).is_none());
    }

    // Phase 2: payments, then every worker handles every delivery, some twice.
    for (index, invoice) in invoices.iter().enumerate() {
        if index % 2 == 0 {
            mock.pay_invoice(&invoice.id, "pm_card_visa").await.unwrap();
        }
    }
    mock.set_webhook_options(WebhookOptions {
        duplicate_rate: 0.3,
        reorder: true,
        ..WebhookOptions::default()
    });
    let deliveries: Vec<serde_json::Value> = mock
        .take_webhooks()
        .into_iter()
        .map(|delivery| {
            serde_json::json!({
                "body": String::from_utf8(delivery.body).unwrap(),
                "signature": delivery.signature_header,
            })
        })
        .collect();
    assert!(deliveries.len() > 40, "{} deliveries", deliveries.len());
    let file = std::env::temp_dir().join(format!("{}-deliveries.json", schema.name));
    std::fs::write(&file, serde_json::to_vec(&deliveries).unwrap()).unwrap();
    let mut arguments = common(&url, &schema, &stripe);
    arguments.extend(
        [
            "--webhook-secret",
            &mock.webhook_secret(),
            "--event-lease-ms",
            "1500",
            "webhooks",
            "--deliveries",
            &file.display().to_string(),
        ]
        .map(str::to_owned),
    );
    let phase = arguments.clone();
    let mut runs = tokio::task::spawn_blocking(move || run_workers(&phase, WORKERS, Some(7)))
        .await
        .unwrap();
    assert!(runs[0].killed);
    // Stripe redelivers what was never answered; by then the dead worker's lease ran out.
    tokio::time::sleep(Duration::from_millis(1_700)).await;
    let retry = arguments.clone();
    runs.extend(
        tokio::task::spawn_blocking(move || run_workers(&retry, 1, None))
            .await
            .unwrap(),
    );
    let _ = std::fs::remove_file(&file);

    // Each delivery's changes were reported once, and every claim was completed.
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for line in runs.iter().flat_map(|run| &run.lines) {
        let fields: Vec<&str> = line.split(' ').collect();
        if let ["outcome", event, "applied", changes] = fields[..]
            && changes != "0"
        {
            *applied.entry(event.to_owned()).or_default() += 1;
        }
    }
    assert!(!applied.is_empty());
    assert!(
        applied.values().all(|&count| count == 1),
        "an event applied twice: {applied:?}"
    );
    let open_claims = connect_raw()
        .await
        .query_one(
            &format!(
                "SELECT count(*) FROM {}.processed_events WHERE completed_at IS NULL",
                schema.name
            ),
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(open_claims, 0, "every claimed event was applied");

    // Every mirror equals Stripe's invoice.
    let bridge = Billbridge::builder(StripeClient::new(mock.clone()))
        .store(store.clone())
        .idempotency_secret(IdempotencySecret::new(SECRET).unwrap())
        .build()
        .unwrap();
    for (host, stripe_id) in &by_host {
        let at_stripe = client
            .invoices()
            .retrieve(stripe_id, &context)
            .await
            .unwrap();
        let record = bridge.invoice(host).await.unwrap().unwrap();
        assert_eq!(&record.stripe_invoice_id, stripe_id);
        let status = at_stripe.status.as_ref().map(|s| s.as_str().to_owned());
        assert_eq!(Some(record.status.as_str().to_owned()), status, "{host}");
        assert_eq!(
            record.amount_paid.stripe_amount().unwrap(),
            at_stripe.amount_paid
        );
        assert_eq!(
            record.amount_remaining.stripe_amount().unwrap(),
            at_stripe.amount_remaining
        );
        assert_eq!(record.number, at_stripe.number);
    }
    let paid = paid_in_mirrors(&bridge, &by_host).await;
    assert_eq!(paid, by_host.len().div_ceil(2));
    server.shutdown();
}

async fn paid_in_mirrors(bridge: &Billbridge, by_host: &BTreeMap<String, String>) -> usize {
    let mut paid = 0;
    for host in by_host.keys() {
        if bridge.invoice(host).await.unwrap().unwrap().status == HostStatus::Paid {
            paid += 1;
        }
    }
    paid
}

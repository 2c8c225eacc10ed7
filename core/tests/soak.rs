//! Exactly once under faults: a seeded soak runs many practice workflows (customers,
//! credits and debits, raises with several lines including credit lines, sends,
//! payments outside Stripe, voids, write-offs, webhooks) through the HTTP transport
//! against the mock's HTTP front, with mixed faults on every request — responses lost
//! after the change was applied, 5xx before and after execution, 429, `lock_timeout`,
//! timeouts, connection resets — and several concurrent workers sharing one store, two
//! of them on each workflow at once. Afterwards Stripe's state equals that of a
//! fault-free run with the same seed (no duplicate customer, invoice, line or balance
//! transaction, none missing, every amount and status the same) and the host's mirror
//! equals Stripe's state.
//!
//! `BILLBRIDGE_SOAK_SEED` and `BILLBRIDGE_SOAK_WORKFLOWS` replay or widen a run; the
//! test prints its counts and its seed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::Money;
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::domain::status::InvoiceStatus;
use billbridge::store::{MemoryStore, SyncStore};
use billbridge::stripe::client::{RequestContext, StripeClient};
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::stripe::retry::RetryPolicy;
use billbridge::stripe::transport::TransportErrorKind;
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{Billbridge, IdempotencySecret, PaidOutside, PaymentMethod, Raise};
use billbridge_mock::{Fault, MockStripe, RequestOutcome};

const SECRET: &str = "soak-idempotency-secret-0001";
const KEY: &str = "sk_test_soak";
const WORKERS: usize = 4;

/// A small deterministic generator, so a seed replays the same workflows.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// How a workflow ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    LeftOpen,
    PaidOutside,
    Voided,
    WrittenOff,
}

/// One patient's day: a balance movement, an invoice of a few lines, and an ending.
#[derive(Debug, Clone)]
struct Workflow {
    patient: Patient,
    balance: i64,
    lines: Vec<(String, i64, u32)>,
    ending: Ending,
}

fn workflows(seed: u64, count: usize) -> Vec<Workflow> {
    let mut dice = Dice(seed | 1);
    (0..count)
        .map(|index| {
            let patient = Patient::new(
                PatientId::new(format!("P-{index:05}")).unwrap(),
                format!("Given{index}"),
                "Soak",
            )
            .with_email(format!("patient{index}@example.com"));
            let balance = match dice.below(3) {
                0 => -(100 * (1 + dice.below(30) as i64)),
                1 => 100 * (1 + dice.below(10) as i64),
                _ => 0,
            };
            let mut lines: Vec<(String, i64, u32)> = (0..1 + dice.below(3))
                .map(|line| {
                    (
                        format!("Service {line}"),
                        500 * (1 + dice.below(20) as i64),
                        1 + dice.below(3) as u32,
                    )
                })
                .collect();
            if dice.below(4) == 0 {
                lines.push(("Voucher".to_owned(), -500, 1));
            }
            let ending = match dice.below(4) {
                0 => Ending::LeftOpen,
                1 => Ending::PaidOutside,
                2 => Ending::Voided,
                _ => Ending::WrittenOff,
            };
            Workflow {
                patient,
                balance,
                lines,
                ending,
            }
        })
        .collect()
}

fn draft(workflow: &Workflow) -> InvoiceDraft {
    let mut draft = InvoiceDraft::for_patient(&workflow.patient)
        .host_id(InvoiceId::new(format!("INV-{}", workflow.patient.id.as_str())).unwrap())
        .due_in_days(14);
    for (description, unit, quantity) in &workflow.lines {
        draft = draft.line(InvoiceLine::ad_hoc(
            description,
            Money::gbp(*unit),
            *quantity,
        ));
    }
    draft
}

/// Runs one workflow to its end. Every step is idempotent, so a step that failed (the
/// fault got through the client's retries) is run again, as a host's job queue would.
async fn run(bridge: &Billbridge, workflow: &Workflow) {
    // A macro, not a closure-taking function: the futures must stay `Send` for the
    // multi-threaded runtime.
    macro_rules! again {
        ($step:expr) => {{
            let mut attempt = 0;
            loop {
                match $step.await {
                    Ok(value) => break value,
                    Err(error) => {
                        attempt += 1;
                        assert!(attempt < 40, "a step kept failing: {error}");
                    }
                }
            }
        }};
    }
    let patient = &workflow.patient;
    again!(bridge.upsert_customer(&Party::Patient(patient.clone())));
    if workflow.balance != 0 {
        again!(bridge.adjust_balance(
            &patient.payer(),
            Money::gbp(workflow.balance),
            "Soak",
            "ADJ-1"
        ));
    }
    let draft = draft(workflow);
    let host = draft.host_id.as_ref().unwrap().as_str().to_owned();
    let raised = again!(bridge.raise_invoice(&draft, Some(patient), Raise::FinalizeAndSend));
    if raised.status != InvoiceStatus::Open {
        return;
    }
    match workflow.ending {
        Ending::LeftOpen => {}
        Ending::PaidOutside => {
            again!(async {
                match bridge
                    .mark_paid_outside_stripe(&host, &PaidOutside::new(PaymentMethod::Cash))
                    .await
                {
                    // The other worker on this workflow got there first.
                    Err(error) if error.code() == "illegal_transition" => {
                        Ok(bridge.invoice(&host).await?.unwrap())
                    }
                    other => other,
                }
            });
        }
        Ending::Voided | Ending::WrittenOff => {
            again!(async {
                let done = match workflow.ending {
                    Ending::Voided => bridge.void(&host).await,
                    _ => bridge.mark_uncollectible(&host).await,
                };
                match done {
                    Err(error) if error.code() == "illegal_transition" => {
                        Ok(bridge.invoice(&host).await?.unwrap())
                    }
                    other => other,
                }
            });
        }
    }
}

fn bridge(url: &str, store: Arc<dyn SyncStore>, secret: &str) -> Billbridge {
    let transport = HttpTransport::builder(ApiKey::secret(KEY).unwrap())
        .base_url(url)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let client = StripeClient::builder(transport)
        .retry_policy(RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            retry_rate_limited: true,
        })
        .build();
    Billbridge::builder(client)
        .metadata_policy(MetadataPolicy::hero_compatible())
        .shared_store(store)
        .idempotency_secret(IdempotencySecret::new(SECRET).unwrap())
        .webhook_secret(WebhookSecret::new(secret).unwrap())
        .build()
        .unwrap()
}

/// Stripe's state, by host ids: what must come out the same with and without faults.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    customers: BTreeMap<String, (usize, i64)>,
    invoices: BTreeMap<String, (usize, String, i64, i64, i64, usize)>,
    balance_transactions: BTreeMap<String, Vec<(String, i64)>>,
}

async fn snapshot(client: &StripeClient) -> Snapshot {
    use billbridge::stripe::client::{ListCustomers, ListInvoices};
    let context = RequestContext::new();
    let all_customers = client
        .customers()
        .list(
            &ListCustomers {
                limit: Some(100),
                ..Default::default()
            },
            &context,
        )
        .unwrap()
        .with_max_pages(10_000)
        .collect_all()
        .await
        .unwrap();
    let mut customers = BTreeMap::new();
    let mut balance_transactions = BTreeMap::new();
    let mut host_of = BTreeMap::new();
    for customer in &all_customers {
        let host = customer
            .metadata
            .get("host_patient_id")
            .unwrap_or("?")
            .to_owned();
        let entry = customers.entry(host.clone()).or_insert((0, 0));
        entry.0 += 1;
        entry.1 = customer.balance;
        host_of.insert(customer.id.clone(), host.clone());
        let mut kinds: Vec<(String, i64)> = client
            .balance_transactions()
            .list(&customer.id, Some(100), &context)
            .unwrap()
            .collect_all()
            .await
            .unwrap()
            .into_iter()
            .map(|transaction| {
                (
                    transaction.transaction_type.as_str().to_owned(),
                    transaction.amount,
                )
            })
            .collect();
        kinds.sort();
        balance_transactions.insert(host, kinds);
    }
    let all_invoices = client
        .invoices()
        .list(
            &ListInvoices {
                limit: Some(100),
                ..Default::default()
            },
            &context,
        )
        .unwrap()
        .with_max_pages(10_000)
        .collect_all()
        .await
        .unwrap();
    let mut invoices = BTreeMap::new();
    for invoice in &all_invoices {
        let host = invoice
            .metadata
            .get("host_invoice_id")
            .unwrap_or("?")
            .to_owned();
        let entry = invoices
            .entry(host)
            .or_insert((0, String::new(), 0, 0, 0, 0));
        entry.0 += 1;
        entry.1 = invoice
            .status
            .as_ref()
            .map(|status| status.as_str().to_owned())
            .unwrap_or_default();
        entry.2 = invoice.total;
        entry.3 = invoice.amount_due;
        entry.4 = invoice.amount_paid;
        entry.5 = invoice.lines.data.len();
    }
    Snapshot {
        customers,
        invoices,
        balance_transactions,
    }
}

/// Runs every workflow with `workers` concurrent workers (each workflow taken by two of
/// them at once), then delivers the webhooks across the workers; returns Stripe's
/// state and the store.
async fn day(
    mock: &MockStripe,
    plan: &[Workflow],
    faulty: bool,
) -> (Snapshot, Arc<dyn SyncStore>, StripeClient) {
    let server = mock.serve("127.0.0.1:0").await.unwrap();
    let url = server.url();
    if faulty {
        let faults = mock.faults();
        faults.random(
            "/v1/",
            Fault::AppliedResponseLost(TransportErrorKind::Timeout),
            0.03,
        );
        faults.random("/v1/", Fault::SERVER_ERROR, 0.02);
        faults.random(
            "/v1/",
            Fault::ServerErrorAfterExecution {
                status: 500,
                applied: true,
            },
            0.01,
        );
        faults.random(
            "/v1/",
            Fault::ServerErrorAfterExecution {
                status: 500,
                applied: false,
            },
            0.01,
        );
        faults.random("/v1/", Fault::RateLimited, 0.02);
        faults.random("/v1/", Fault::LockTimeout, 0.01);
        faults.random("/v1/", Fault::Timeout, 0.01);
        faults.random("/v1/", Fault::ConnectionReset, 0.01);
    }
    let store: Arc<dyn SyncStore> = Arc::new(MemoryStore::new());
    let secret = mock.webhook_secret();
    let next = Arc::new(AtomicUsize::new(0));
    let plan = Arc::new(plan.to_vec());
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let bridge = bridge(&url, store.clone(), &secret);
        let next = next.clone();
        let plan = plan.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                // Each workflow is handed out twice: two workers race on it.
                let ticket = next.fetch_add(1, Ordering::SeqCst);
                let Some(workflow) = plan.get(ticket / 2) else {
                    break;
                };
                run(&bridge, workflow).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    mock.faults().clear();
    // Webhooks, each delivered to one worker; duplicates among them by the mock's options.
    let deliveries = mock.take_webhooks();
    let bridges: Vec<Billbridge> = (0..WORKERS)
        .map(|_| bridge(&url, store.clone(), &secret))
        .collect();
    for (index, delivery) in deliveries.iter().enumerate() {
        bridges[index % WORKERS]
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
    }
    let client = bridges[0].client().clone();
    let state = snapshot(&client).await;
    server.shutdown();
    (state, store, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_workflow_happens_exactly_once_under_mixed_faults() {
    let seed: u64 = std::env::var("BILLBRIDGE_SOAK_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(20_261_130);
    let count: usize = std::env::var("BILLBRIDGE_SOAK_WORKFLOWS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(500);
    let plan = workflows(seed, count);

    let clean = MockStripe::builder().seed(seed).build();
    let (expected, _, _) = day(&clean, &plan, false).await;

    let faulty = MockStripe::builder().seed(seed).build();
    let (actual, store, _) = day(&faulty, &plan, true).await;

    // Counts, and the seed to replay a failure.
    let requests = faulty.requests();
    let mut injected: BTreeMap<String, usize> = BTreeMap::new();
    for request in &requests {
        let kind = match request.outcome {
            RequestOutcome::NoResponse {
                kind,
                applied: true,
            } => format!("lost after applied ({kind:?})"),
            RequestOutcome::NoResponse {
                kind,
                applied: false,
            } => format!("no answer ({kind:?})"),
            RequestOutcome::Answered(status) if status >= 500 => format!("HTTP {status}"),
            RequestOutcome::Answered(429) => "HTTP 429".to_owned(),
            RequestOutcome::Answered(_) => continue,
        };
        *injected.entry(kind).or_default() += 1;
    }
    let replays = requests.iter().filter(|request| request.replayed).count();
    println!(
        "soak seed {seed}: {count} workflows × 2 workers, {} requests with faults against {} without ({replays} idempotent replays); faults: {injected:?}",
        requests.len(),
        clean.requests().len()
    );
    assert!(
        injected.values().sum::<usize>() > count / 10,
        "faults were injected: {injected:?}"
    );

    assert_eq!(actual.customers.len(), count, "seed {seed}");
    assert!(
        actual.customers.values().all(|(copies, _)| *copies == 1),
        "seed {seed}: duplicate customers"
    );
    let duplicated: Vec<_> = actual
        .invoices
        .iter()
        .filter(|(_, invoice)| invoice.0 != 1)
        .collect();
    assert!(
        duplicated.is_empty(),
        "seed {seed}: duplicate invoices {duplicated:?}"
    );
    assert_eq!(
        actual, expected,
        "seed {seed}: Stripe's state differs from a fault-free run"
    );

    // The host's mirror equals Stripe's state.
    for (host, (_, status, total, amount_due, amount_paid, _)) in &actual.invoices {
        let record = billbridge::mirror::InvoiceRecord::from_row(
            &store.invoice_mirror(None, host).await.unwrap().unwrap(),
        )
        .unwrap();
        assert_eq!(record.status.as_str(), status, "{host}");
        assert_eq!(
            (
                record.total.amount(),
                record.amount_due.amount(),
                record.amount_paid.amount()
            ),
            (*total, *amount_due, *amount_paid),
            "{host}"
        );
    }
}

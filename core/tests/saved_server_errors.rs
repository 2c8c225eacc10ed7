//! Every workflow finishes exactly once when Stripe keeps answering its idempotency
//! key with a saved server error (a 500 after execution began, replayed for 24 hours):
//! the bridge finds out from Stripe whether the write happened and continues under a
//! fresh key, never making a second object — whether or not the failed request took
//! effect, with the client's own retries and across a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_common;

use std::time::Duration;

use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::Money;
use billbridge::domain::party::Party;
use billbridge::domain::status::InvoiceStatus;
use billbridge::store::MemoryStore;
use billbridge::stripe::client::{RequestContext, StripeClient};
use billbridge::stripe::retry::RetryPolicy;
use billbridge::stripe::transport::Method;
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{Billbridge, IdempotencySecret, PaidOutside, PaymentMethod, Raise};
use billbridge_mock::{Fault, MockStripe};
use bridge_common::*;

/// A bridge whose client retries quickly (the retries meet the saved error too), or
/// not at all (the error reaches the workflow, as a crash would; a re-run meets it).
fn bridge(mock: &MockStripe, store: &MemoryStore, retries: bool) -> Billbridge {
    let retry = if retries {
        RetryPolicy {
            max_retries: 2,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            retry_rate_limited: true,
        }
    } else {
        RetryPolicy::none()
    };
    Billbridge::builder(
        StripeClient::builder(mock.clone())
            .retry_policy(retry)
            .build(),
    )
    .metadata_policy(MetadataPolicy::hero_compatible())
    .store(store.clone())
    .idempotency_secret(IdempotencySecret::new(SECRET).unwrap())
    .webhook_secret(WebhookSecret::new(mock.webhook_secret()).unwrap())
    .build()
    .unwrap()
}

/// The next POST whose path starts with `path` fails with a saved 500.
fn saved_500(mock: &MockStripe, path: &str, applied: bool) {
    mock.faults().next_requests_to(
        Some(Method::Post),
        path,
        Fault::ServerErrorAfterExecution {
            status: 500,
            applied,
        },
        1,
    );
}

/// Runs `step` until it succeeds: once with retries, or (without) once to meet the
/// fault and once more, as a re-run after a failed run would.
async fn finish<T>(retries: bool, step: impl AsyncFn() -> Result<T, billbridge::Error>) -> T {
    let first = step().await;
    if retries {
        return first.unwrap();
    }
    let error = first
        .err()
        .expect("without retries the saved error reaches the workflow");
    assert_eq!(error.details().http_status, Some(500));
    step().await.unwrap()
}

async fn count<T>(pager: billbridge::stripe::pagination::Pager<T>) -> usize
where
    T: serde::de::DeserializeOwned + billbridge::stripe::models::HasId,
{
    pager.collect_all().await.unwrap().len()
}

async fn every_workflow_once(applied: bool, retries: bool) {
    let mock = MockStripe::new();
    let store = MemoryStore::new();
    let bridge = bridge(&mock, &store, retries);
    let context = RequestContext::new();
    let client = bridge.client().clone();

    // A customer.
    saved_500(&mock, "/v1/customers", applied);
    let customer = finish(retries, async || {
        bridge.upsert_customer(&Party::Patient(john())).await
    })
    .await;
    let customers = client
        .customers()
        .list(&Default::default(), &context)
        .unwrap();
    assert_eq!(
        count(customers).await,
        1,
        "one customer (applied: {applied}, retries: {retries})"
    );

    // A credit on their balance.
    let balance_path = format!(
        "/v1/customers/{}/balance_transactions",
        customer.stripe_customer_id
    );
    saved_500(&mock, &balance_path, applied);
    finish(retries, async || {
        bridge
            .adjust_balance(&john().payer(), Money::gbp(-1000), "Missed visit", "APT-7")
            .await
    })
    .await;
    let transactions = client
        .balance_transactions()
        .list(&customer.stripe_customer_id, None, &context)
        .unwrap();
    assert_eq!(count(transactions).await, 1, "one balance transaction");
    assert_eq!(
        bridge.balance(&john().payer()).await.unwrap(),
        Money::gbp(-1000)
    );

    // An invoice: its creation, its lines, its finalization, its sending.
    let draft = johns_draft("INV-SAVED");
    saved_500(&mock, "/v1/invoices", applied);
    finish(retries, async || {
        bridge
            .raise_invoice(&draft, Some(&john()), Raise::Draft)
            .await
    })
    .await;
    assert_eq!(stripe_invoice_count(&bridge).await, 1, "one invoice");
    let drafted = bridge.invoice("INV-SAVED").await.unwrap().unwrap();
    assert_eq!(drafted.total, Money::gbp(8500));
    let stripe_id = drafted.stripe_invoice_id.clone();
    let lines = client
        .invoices()
        .list_lines(&stripe_id, None, &context)
        .unwrap();
    assert_eq!(count(lines).await, 2, "the lines were added once");

    saved_500(
        &mock,
        &format!("/v1/invoices/{stripe_id}/finalize"),
        applied,
    );
    finish(retries, async || {
        bridge
            .raise_invoice(&draft, Some(&john()), Raise::Finalize)
            .await
    })
    .await;
    saved_500(&mock, &format!("/v1/invoices/{stripe_id}/send"), applied);
    let sent = finish(retries, async || {
        bridge
            .raise_invoice(&draft, Some(&john()), Raise::FinalizeAndSend)
            .await
    })
    .await;
    assert_eq!(sent.status, InvoiceStatus::Open);
    assert_eq!(sent.amount_due, Money::gbp(7500), "the credit applied once");
    assert_eq!(stripe_invoice_count(&bridge).await, 1);

    // Paid at reception.
    saved_500(&mock, &format!("/v1/invoices/{stripe_id}/pay"), applied);
    let paid = finish(retries, async || {
        bridge
            .mark_paid_outside_stripe("INV-SAVED", &PaidOutside::new(PaymentMethod::Cash))
            .await
    })
    .await;
    assert_eq!(paid.status, InvoiceStatus::Paid);
    assert_eq!(stripe_invoice_count(&bridge).await, 1);
}

#[tokio::test]
async fn applied_saved_errors_are_reconciled_with_client_retries() {
    every_workflow_once(true, true).await;
}

#[tokio::test]
async fn applied_saved_errors_are_reconciled_on_a_re_run() {
    every_workflow_once(true, false).await;
}

#[tokio::test]
async fn unapplied_saved_errors_go_again_under_a_fresh_key() {
    every_workflow_once(false, true).await;
    every_workflow_once(false, false).await;
}

#[tokio::test]
async fn a_void_that_met_a_saved_error_is_found_void() {
    let mock = MockStripe::new();
    let store = MemoryStore::new();
    let bridge = bridge(&mock, &store, true);
    bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    let raised = bridge
        .raise_invoice(&johns_draft("INV-VOID"), Some(&john()), Raise::Finalize)
        .await
        .unwrap();
    saved_500(
        &mock,
        &format!("/v1/invoices/{}/void", raised.stripe_invoice_id),
        true,
    );
    let voided = bridge.void("INV-VOID").await.unwrap();
    assert_eq!(voided.status, InvoiceStatus::Void);
}

#[tokio::test]
async fn the_bridge_never_searches_and_works_with_stripes_search_lag() {
    let mock = MockStripe::builder().search_lag(60).build();
    let store = MemoryStore::new();
    let bridge = bridge(&mock, &store, true);
    saved_500(&mock, "/v1/customers", true);
    bridge
        .upsert_customer(&Party::Patient(john()))
        .await
        .unwrap();
    saved_500(&mock, "/v1/invoices", true);
    let raised = bridge
        .raise_invoice(
            &johns_draft("INV-LAG"),
            Some(&john()),
            Raise::FinalizeAndSend,
        )
        .await
        .unwrap();
    assert_eq!(raised.status, InvoiceStatus::Open);
    assert_eq!(stripe_invoice_count(&bridge).await, 1);
    assert!(
        mock.requests()
            .iter()
            .all(|request| !request.path.contains("/search")),
        "reconciled by retrieve and list, not search"
    );
}

//! billbridge's typed `StripeClient` over `MockStripe`: the whole client stack (form
//! encoding, idempotency keys, retries, error decoding, pagination) against the mock's
//! Stripe rules, including faults the client must ride out without duplicates.

// Helpers outside #[test] functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use billbridge::stripe::client::{
    CreateBalanceTransaction, CreateCustomer, CreateInvoice, CreatePreview, InvoiceLineParams,
    LinePricing, ListCustomers, ListInvoices, PayInvoice, PreviewItemParams, ProductRef,
    RequestContext, StripeClient,
};
use billbridge::stripe::error::{ApiErrorClass, StripeError};
use billbridge::stripe::models::InvoiceStatus;
use billbridge::stripe::retry::{RetryPolicy, Sleeper};
use billbridge::stripe::transport::{Method, TransportErrorKind};
use billbridge_mock::{Fault, MockStripe};

/// Retries without waiting: the mock's faults are deterministic, time is not needed.
struct NoWait;

#[async_trait::async_trait]
impl Sleeper for NoWait {
    async fn sleep(&self, _duration: Duration) {}
}

fn client(mock: &MockStripe) -> StripeClient {
    StripeClient::builder(mock.clone())
        .retry_policy(RetryPolicy {
            max_retries: 3,
            ..RetryPolicy::default()
        })
        .sleeper(NoWait)
        .build()
}

fn line(unit_amount: i64) -> InvoiceLineParams {
    InvoiceLineParams {
        description: Some("Consultation".into()),
        quantity: Some(1),
        metadata: Vec::new(),
        period: None,
        pricing: LinePricing::PriceData {
            currency: "gbp".into(),
            product: ProductRef::Data {
                name: "Consultation".into(),
            },
            unit_amount,
        },
    }
}

async fn credited_customer(stripe: &StripeClient, credit: i64) -> String {
    let context = RequestContext::new();
    let customer = stripe
        .customers()
        .create(
            &CreateCustomer {
                name: Some("Ada".into()),
                metadata: vec![("ehr_patient_id".into(), "P-1".into())],
                ..CreateCustomer::default()
            },
            &context,
        )
        .await
        .unwrap();
    stripe
        .balance_transactions()
        .create(
            &customer.id,
            &CreateBalanceTransaction {
                amount: credit,
                currency: "gbp".into(),
                description: Some("Credit".into()),
                metadata: Vec::new(),
            },
            &context,
        )
        .await
        .unwrap();
    customer.id
}

#[tokio::test]
async fn raise_finalize_and_mark_paid_through_the_client() {
    let mock = MockStripe::new();
    let stripe = client(&mock);
    let context = RequestContext::new();
    let customer = credited_customer(&stripe, -500).await;
    let mut create = CreateInvoice::new(&customer);
    create.currency = Some("gbp".into());
    let draft = stripe.invoices().create(&create, &context).await.unwrap();
    let draft = stripe
        .invoices()
        .add_lines(&draft.id, &[line(1099)], &context)
        .await
        .unwrap();
    assert_eq!(draft.total, 1099);
    let open = stripe
        .invoices()
        .finalize(&draft.id, None, &context)
        .await
        .unwrap();
    assert_eq!(open.status, Some(InvoiceStatus::Open));
    assert_eq!(open.amount_due, 599);
    assert_eq!(open.ending_balance, Some(0));
    assert!(open.number.is_some());
    let paid = stripe
        .invoices()
        .pay(&open.id, &PayInvoice::out_of_band(), &context)
        .await
        .unwrap();
    assert_eq!(paid.status, Some(InvoiceStatus::Paid));
    assert_eq!(paid.amount_remaining, 0);
    let listed = stripe
        .invoices()
        .list(
            &ListInvoices {
                customer: Some(customer.clone()),
                ..ListInvoices::default()
            },
            &context,
        )
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, open.id);
}

#[tokio::test]
async fn preview_through_the_client_matches_finalization() {
    let mock = MockStripe::new();
    let stripe = client(&mock);
    let context = RequestContext::new();
    let customer = credited_customer(&stripe, -500).await;
    let product = stripe
        .products()
        .create(
            &billbridge::stripe::client::CreateProduct {
                name: "Consultation".into(),
                ..Default::default()
            },
            &context,
        )
        .await
        .unwrap();
    let preview = stripe
        .invoices()
        .create_preview(
            &CreatePreview {
                customer: customer.clone(),
                currency: Some("gbp".into()),
                invoice_items: vec![PreviewItemParams {
                    description: None,
                    quantity: Some(1),
                    currency: "gbp".into(),
                    product: product.id.clone(),
                    unit_amount: 1099,
                }],
            },
            &context,
        )
        .await
        .unwrap();
    let mut create = CreateInvoice::new(&customer);
    create.currency = Some("gbp".into());
    let draft = stripe.invoices().create(&create, &context).await.unwrap();
    stripe
        .invoices()
        .add_lines(&draft.id, &[line(1099)], &context)
        .await
        .unwrap();
    let open = stripe
        .invoices()
        .finalize(&draft.id, None, &context)
        .await
        .unwrap();
    assert_eq!(preview.amount_due, open.amount_due);
    assert_eq!(preview.amount_due, 599);
}

#[tokio::test]
async fn lost_responses_and_server_errors_leave_one_object() {
    let mock = MockStripe::new();
    let stripe = client(&mock);
    mock.faults().next_request_to(
        "/v1/customers",
        Fault::AppliedResponseLost(TransportErrorKind::Timeout),
    );
    mock.faults()
        .next_request_to("/v1/customers", Fault::UNAVAILABLE_RETRY);
    mock.faults()
        .next_request_to("/v1/customers", Fault::RateLimited);
    let customer = credited_customer(&stripe, -500).await;
    let all = stripe
        .customers()
        .list(&ListCustomers::default(), &RequestContext::new())
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        all.len(),
        1,
        "one customer despite a lost response and retries"
    );
    assert_eq!(all[0].id, customer);
    let creates: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|entry| entry.method == Method::Post && entry.path == "/v1/customers")
        .collect();
    assert_eq!(creates.len(), 4, "first attempt + three retries");
    assert!(
        creates
            .windows(2)
            .all(|pair| pair[0].idempotency_key == pair[1].idempotency_key)
    );
    assert!(creates[3].replayed);
}

#[tokio::test]
async fn card_decline_and_illegal_transition_decode_as_api_errors() {
    let mock = MockStripe::new();
    let stripe = client(&mock);
    let context = RequestContext::new();
    let customer = credited_customer(&stripe, -100).await;
    let mut create = CreateInvoice::new(&customer);
    create.currency = Some("gbp".into());
    let draft = stripe.invoices().create(&create, &context).await.unwrap();
    stripe
        .invoices()
        .add_lines(&draft.id, &[line(2000)], &context)
        .await
        .unwrap();
    let error = stripe
        .invoices()
        .void(&draft.id, &context)
        .await
        .unwrap_err();
    let StripeError::Api(api) = error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(api.class, ApiErrorClass::InvalidRequest);
    assert_eq!(api.code.as_deref(), Some("invoice_unexpected_status"));
    assert!(api.request_id.as_deref().unwrap().starts_with("req_"));
    stripe
        .invoices()
        .finalize(&draft.id, None, &context)
        .await
        .unwrap();
    let declined = stripe
        .invoices()
        .pay(
            &draft.id,
            &PayInvoice {
                paid_out_of_band: None,
                payment_method: Some("pm_card_chargeDeclined".into()),
            },
            &context,
        )
        .await
        .unwrap_err();
    let StripeError::Api(api) = declined else {
        panic!("expected an API error, got {declined:?}");
    };
    assert_eq!(api.class, ApiErrorClass::Card);
    assert_eq!(api.code.as_deref(), Some("card_declined"));
    let still = stripe
        .invoices()
        .retrieve(&draft.id, &context)
        .await
        .unwrap();
    assert_eq!(still.status, Some(InvoiceStatus::Open));
}

#[tokio::test]
async fn every_webhook_delivery_verifies_and_parses_with_billbridges_verifier() {
    use billbridge::stripe::webhook::{WebhookSecret, construct_event};
    use billbridge_mock::{SignatureTime, WebhookOptions};
    let mock = MockStripe::new();
    mock.set_webhook_options(WebhookOptions {
        signature_time: SignatureTime::MockClock,
        duplicate_rate: 0.5,
        reorder: true,
        ..WebhookOptions::default()
    });
    let stripe = client(&mock);
    let context = RequestContext::new();
    let customer = credited_customer(&stripe, -500).await;
    let mut create = CreateInvoice::new(&customer);
    create.currency = Some("gbp".into());
    let draft = stripe.invoices().create(&create, &context).await.unwrap();
    stripe
        .invoices()
        .add_lines(&draft.id, &[line(1099)], &context)
        .await
        .unwrap();
    stripe
        .invoices()
        .finalize(&draft.id, None, &context)
        .await
        .unwrap();
    stripe
        .invoices()
        .pay(&draft.id, &PayInvoice::out_of_band(), &context)
        .await
        .unwrap();
    let secret = WebhookSecret::new(mock.webhook_secret()).unwrap();
    let deliveries = mock.take_webhooks();
    let mut distinct: Vec<&str> = deliveries.iter().map(|d| d.event_id.as_str()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        deliveries.len() > distinct.len(),
        "some deliveries were duplicated"
    );
    for delivery in &deliveries {
        let event = construct_event(
            &delivery.body,
            Some(&delivery.signature_header),
            &secret,
            Duration::from_secs(300),
            mock.clock().now(),
        )
        .unwrap_or_else(|error| panic!("{} did not verify: {error}", delivery.event_type));
        assert_eq!(event.id, delivery.event_id);
    }
    let kinds: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    for expected in [
        "customer.created",
        "customer.updated",
        "invoice.finalized",
        "invoice.paid",
    ] {
        assert!(kinds.contains(&expected), "{expected} delivered");
    }
    // A tampered body fails.
    let mut forged = deliveries[0].body.clone();
    forged.push(b' ');
    assert!(
        construct_event(
            &forged,
            Some(&deliveries[0].signature_header),
            &secret,
            Duration::from_secs(300),
            mock.clock().now(),
        )
        .is_err()
    );
}

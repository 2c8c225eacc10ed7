//! Many practices in one deployment: two practices, each with its own Stripe account
//! (`Stripe-Account`), metadata policy and idempotency namespace, share one PostgreSQL
//! store, and a webhook router hands each delivery to the practice of its event's
//! account. Their patients share a host id and never meet.
#![cfg(feature = "postgres")]
// Helpers outside #[test] functions unwrap too, which clippy's allow-unwrap-in-tests
// does not cover; a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postgres_support;

use std::sync::Arc;

use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::Money;
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::domain::status::InvoiceStatus;
use billbridge::store::{MirrorQuery, PartyKind, SyncStore};
use billbridge::stripe::client::{PayInvoice, RequestContext, StripeClient};
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{Billbridge, IdempotencySecret, Practices, Raise, WebhookDisposition};
use billbridge_mock::{MockStripe, SignatureTime, WebhookOptions};
use postgres_support::TempSchema;

const HARBOUR: &str = "acct_1HarbourClinic";
const MEADOW: &str = "acct_1MeadowPhysio";

fn practice(
    mock: &MockStripe,
    store: &Arc<dyn SyncStore>,
    account: &str,
    policy: MetadataPolicy,
    secret: &str,
) -> Billbridge {
    Billbridge::builder(StripeClient::new(mock.clone()))
        .account(account)
        .metadata_policy(policy)
        .shared_store(Arc::clone(store))
        .idempotency_secret(IdempotencySecret::new(secret).unwrap())
        .webhook_secret(WebhookSecret::new(mock.webhook_secret()).unwrap())
        .build()
        .unwrap()
}

/// Each practice's patient with the host id `P-1`: two different people.
fn patient(given: &str, family: &str) -> Patient {
    Patient::new(PatientId::new("P-1").unwrap(), given, family).with_postcode("LS1 4AP")
}

fn draft(patient: &Patient, amount: i64) -> InvoiceDraft {
    InvoiceDraft::for_patient(patient)
        .host_id(InvoiceId::new("INV-1").unwrap())
        .line(InvoiceLine::ad_hoc("Assessment", Money::gbp(amount), 1))
}

fn connected(account: &str) -> RequestContext {
    RequestContext {
        stripe_account: Some(account.to_owned()),
        idempotency_key: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_practices_patients_with_the_same_host_id_never_meet() {
    let mock = MockStripe::new();
    mock.set_webhook_options(WebhookOptions {
        signature_time: SignatureTime::MockClock,
        ..WebhookOptions::default()
    });
    let schema = TempSchema::new("practices");
    let store: Arc<dyn SyncStore> = Arc::new(schema.store().await);
    let harbour = practice(
        &mock,
        &store,
        HARBOUR,
        MetadataPolicy::hero_compatible(),
        "harbour-clinic-idempotency-secret",
    );
    let meadow = practice(
        &mock,
        &store,
        MEADOW,
        MetadataPolicy::minimal(),
        "meadow-physio-idempotency-secret",
    );
    let practices = Practices::new()
        .with(harbour.clone())
        .unwrap()
        .with(meadow.clone())
        .unwrap();
    assert_eq!(
        practices.accounts().collect::<Vec<_>>(),
        [Some(HARBOUR), Some(MEADOW)]
    );
    let duplicate = Practices::new()
        .with(harbour.clone())
        .unwrap()
        .with(harbour.clone())
        .unwrap_err();
    assert_eq!(duplicate.code(), "duplicate_practice");

    let ada = patient("Ada", "Harbour");
    let bo = patient("Bo", "Meadow");
    let ada_customer = practices
        .get(Some(HARBOUR))
        .unwrap()
        .upsert_customer(&Party::from(ada.clone()))
        .await
        .unwrap();
    let bo_customer = practices
        .get(Some(MEADOW))
        .unwrap()
        .upsert_customer(&Party::from(bo.clone()))
        .await
        .unwrap();
    assert_ne!(
        ada_customer.stripe_customer_id,
        bo_customer.stripe_customer_id
    );
    let ada_invoice = harbour
        .raise_invoice(&draft(&ada, 9_000), Some(&ada), Raise::FinalizeAndSend)
        .await
        .unwrap();
    let bo_invoice = meadow
        .raise_invoice(&draft(&bo, 4_500), Some(&bo), Raise::FinalizeAndSend)
        .await
        .unwrap();
    assert_ne!(ada_invoice.stripe_invoice_id, bo_invoice.stripe_invoice_id);

    // One database, rows kept apart by account.
    let link = |account: &str| {
        let store = Arc::clone(&store);
        let account = account.to_owned();
        async move {
            store
                .customer_link(Some(&account), PartyKind::Patient, "P-1")
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        link(HARBOUR).await.stripe_customer_id,
        ada_customer.stripe_customer_id
    );
    assert_eq!(
        link(MEADOW).await.stripe_customer_id,
        bo_customer.stripe_customer_id
    );
    assert_eq!(
        store
            .customer_link(None, PartyKind::Patient, "P-1")
            .await
            .unwrap(),
        None
    );
    for (account, expected) in [(HARBOUR, &ada_invoice), (MEADOW, &bo_invoice)] {
        let mirrors = store
            .query_invoice_mirrors(&MirrorQuery::for_account(Some(account)))
            .await
            .unwrap();
        assert_eq!(mirrors.len(), 1);
        assert_eq!(mirrors[0].stripe_invoice_id, expected.stripe_invoice_id);
    }
    assert_eq!(
        harbour.invoice("INV-1").await.unwrap().unwrap().total,
        Money::gbp(9_000)
    );
    assert_eq!(
        meadow.invoice("INV-1").await.unwrap().unwrap().total,
        Money::gbp(4_500)
    );

    // At Stripe each customer lives in its practice's account only, with its practice's
    // metadata policy: Harbour sends names, Meadow host ids only.
    let client = StripeClient::new(mock.clone());
    let customers = client.customers();
    let ada_at_stripe = customers
        .retrieve(&ada_customer.stripe_customer_id, &connected(HARBOUR))
        .await
        .unwrap();
    assert!(
        ada_at_stripe
            .metadata
            .iter()
            .any(|(_, value)| value == "Ada")
    );
    let bo_at_stripe = customers
        .retrieve(&bo_customer.stripe_customer_id, &connected(MEADOW))
        .await
        .unwrap();
    assert!(!bo_at_stripe.metadata.iter().any(|(_, value)| value == "Bo"));
    let crossed = customers
        .retrieve(&ada_customer.stripe_customer_id, &connected(MEADOW))
        .await
        .unwrap_err();
    assert_eq!(crossed.status(), Some(404));

    // Each practice's keys are its own: no request of one repeats a key of the other.
    let keys = |account: &str| -> std::collections::BTreeSet<String> {
        mock.requests()
            .into_iter()
            .filter(|request| request.stripe_account.as_deref() == Some(account))
            .filter_map(|request| request.idempotency_key)
            .collect()
    };
    let (harbour_keys, meadow_keys) = (keys(HARBOUR), keys(MEADOW));
    assert!(!harbour_keys.is_empty() && !meadow_keys.is_empty());
    assert!(harbour_keys.is_disjoint(&meadow_keys));

    // Ada pays; every delivery goes to the practice of its event's account.
    client
        .invoices()
        .pay(
            &ada_invoice.stripe_invoice_id,
            &PayInvoice {
                payment_method: Some(String::from("pm_card_visa")),
                ..PayInvoice::default()
            },
            &connected(HARBOUR),
        )
        .await
        .unwrap();
    let deliveries = mock.take_webhooks();
    assert!(
        deliveries
            .iter()
            .any(|d| d.account.as_deref() == Some(MEADOW))
    );
    let mut paid = Vec::new();
    for delivery in &deliveries {
        let outcome = practices
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
        assert_ne!(outcome.disposition, WebhookDisposition::Duplicate);
        if outcome
            .changes
            .iter()
            .any(|change| change.kind() == "invoice_paid")
        {
            paid.push(delivery.account.clone());
        }
        // A repeat is a duplicate for the practice that applied it.
        let again = practices
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
        assert_ne!(again.disposition, WebhookDisposition::Applied);
    }
    assert_eq!(paid, [Some(HARBOUR.to_owned())]);
    assert_eq!(
        harbour.invoice("INV-1").await.unwrap().unwrap().status,
        InvoiceStatus::Paid
    );
    assert_eq!(
        meadow.invoice("INV-1").await.unwrap().unwrap().status,
        InvoiceStatus::Open
    );

    // A body re-addressed to the other practice fails that practice's verification, and
    // an account no practice serves is named in a typed error.
    let harbour_delivery = deliveries
        .iter()
        .find(|delivery| delivery.account.as_deref() == Some(HARBOUR))
        .unwrap();
    let text = String::from_utf8(harbour_delivery.body.clone()).unwrap();
    let forged = text.replace(HARBOUR, MEADOW);
    let error = practices
        .handle_webhook(forged.as_bytes(), Some(&harbour_delivery.signature_header))
        .await
        .unwrap_err();
    assert_eq!(error.category(), billbridge::ErrorCategory::Signature);
    let stranger = text.replace(HARBOUR, "acct_1Elsewhere");
    let error = practices
        .handle_webhook(
            stranger.as_bytes(),
            Some(&harbour_delivery.signature_header),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "unknown_practice");
    let error = practices
        .handle_webhook(b"not json", Some(&harbour_delivery.signature_header))
        .await
        .unwrap_err();
    assert_eq!(error.category(), billbridge::ErrorCategory::Signature);
}

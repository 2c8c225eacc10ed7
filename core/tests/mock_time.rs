//! A bridge over the mock Stripe and the mock agree on time out of the box: the bridge
//! lives on the mock's clock and verifies the mock's webhook deliveries with no wiring
//! by the host, whichever time the mock signs them at; and a delivery taken from the
//! mock verifies with `construct_event` as its `signed_at` documents.
// Helpers outside #[test] functions unwrap too; a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use billbridge::Error;
use billbridge::clock::{Clock, SystemClock};
use billbridge::domain::date::Date;
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::webhook::{DEFAULT_TOLERANCE, WebhookSecret, construct_event};
use billbridge::sync::{Billbridge, IdempotencySecret};
use billbridge_mock::{MockStripe, SignatureTime, WebhookOptions};

fn bridge(mock: &MockStripe) -> Billbridge {
    Billbridge::builder(StripeClient::new(mock.clone()))
        .idempotency_secret(IdempotencySecret::new("a secret kept by the host").unwrap())
        .webhook_secret(WebhookSecret::new(mock.webhook_secret()).unwrap())
        .build()
        .unwrap()
}

fn patient(id: &str) -> Party {
    Party::Patient(Patient::new(PatientId::new(id).unwrap(), "Ada", "Lovelace"))
}

#[tokio::test]
async fn a_bridge_over_the_mock_lives_on_its_clock_and_accepts_its_deliveries() {
    let mock = MockStripe::new();
    // Far from the system's time in both directions: nothing may depend on the two
    // clocks being close.
    for offset in [0, 45 * 86_400, -400 * 86_400] {
        mock.clock().advance(offset);
        let bridge = bridge(&mock);
        assert_eq!(bridge.now(), mock.clock().now());
        assert_eq!(
            bridge.today().unwrap(),
            Date::from_unix_timestamp(mock.clock().now()).unwrap()
        );
        bridge
            .upsert_customer(&patient(&format!("P-{offset}")))
            .await
            .unwrap();
        let deliveries = mock.take_webhooks();
        assert!(!deliveries.is_empty());
        for delivery in deliveries {
            let outcome = bridge
                .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                .await
                .unwrap();
            assert_eq!(outcome.event_id, delivery.event_id);
            // Signed at the system's time by default: any verifier accepts it.
            let event = construct_event(
                &delivery.body,
                Some(&delivery.signature_header),
                &WebhookSecret::new(mock.webhook_secret()).unwrap(),
                DEFAULT_TOLERANCE,
                SystemClock.now_unix(),
            )
            .unwrap();
            assert_eq!(event.id, delivery.event_id);
        }
    }
}

#[tokio::test]
async fn the_bridge_follows_the_mock_when_it_signs_at_its_own_time() {
    let mock = MockStripe::new();
    mock.clock().advance(90 * 86_400);
    mock.set_webhook_options(WebhookOptions {
        signature_time: SignatureTime::MockClock,
        ..WebhookOptions::default()
    });
    let bridge = bridge(&mock);
    bridge.upsert_customer(&patient("P-1")).await.unwrap();
    let secret = WebhookSecret::new(mock.webhook_secret()).unwrap();
    for delivery in mock.take_webhooks() {
        assert_eq!(delivery.signed_at, mock.clock().now());
        bridge
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
        // A verifier on the system's time refuses it; given the signed time, it accepts.
        let stale = construct_event(
            &delivery.body,
            Some(&delivery.signature_header),
            &secret,
            DEFAULT_TOLERANCE,
            SystemClock.now_unix(),
        )
        .unwrap_err();
        assert_eq!(Error::from(stale).code(), "timestamp_out_of_tolerance");
        construct_event(
            &delivery.body,
            Some(&delivery.signature_header),
            &secret,
            DEFAULT_TOLERANCE,
            delivery.signed_at,
        )
        .unwrap();
    }
}

#[tokio::test]
async fn an_explicit_clock_still_wins_for_the_bridge_but_not_for_the_mocks_signatures() {
    let mock = MockStripe::new();
    let fixed = 1_800_000_000;
    let bridge = Billbridge::builder(StripeClient::new(mock.clone()))
        .idempotency_secret(IdempotencySecret::new("a secret kept by the host").unwrap())
        .webhook_secret(WebhookSecret::new(mock.webhook_secret()).unwrap())
        .clock(move || fixed)
        .build()
        .unwrap();
    assert_eq!(bridge.now(), fixed);
    bridge.upsert_customer(&patient("P-2")).await.unwrap();
    for delivery in mock.take_webhooks() {
        bridge
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
    }
}

//! Webhook verification and parsing: agreement with every signature case produced by
//! stripe-python's verifier, typed and raw event parsing, and tamper detection.
// Helpers outside `#[test]` functions unwrap too: a panic there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use billbridge::domain::status::InvoiceStatus;
use billbridge::stripe::models::{EventObject, EventType};
use billbridge::stripe::webhook::{
    DEFAULT_TOLERANCE, WebhookError, WebhookSecret, construct_event, parse, sign, signature_header,
    verify,
};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct VectorFile {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    secret: String,
    payload: String,
    header: String,
    now: i64,
    tolerance: u64,
    expected: String,
}

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/stripe")
        .join(name)
}

fn vectors() -> Vec<Vector> {
    let bytes = std::fs::read(data_path("webhook_vectors.json")).unwrap();
    serde_json::from_slice::<VectorFile>(&bytes)
        .unwrap()
        .vectors
}

fn secret() -> WebhookSecret {
    WebhookSecret::new("whsec_test_4eC39HqLyjWDarjtT1zdp7dc").unwrap()
}

const NOW: i64 = 1_790_000_000;

#[test]
fn verify_agrees_with_every_stripe_python_vector() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 60);
    let mut disagreements = Vec::new();
    for vector in &vectors {
        let secret = WebhookSecret::new(vector.secret.as_str()).unwrap();
        // stripe-python is handed the header string as is; an empty one is "missing".
        let result = verify(
            vector.payload.as_bytes(),
            Some(vector.header.as_str()),
            &secret,
            Duration::from_secs(vector.tolerance),
            vector.now,
        );
        let got = match &result {
            Ok(_) => "ok",
            Err(error) => error.code(),
        };
        if got != vector.expected {
            disagreements.push(format!(
                "{}: expected {}, got {got}",
                vector.name, vector.expected
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

#[test]
fn verify_returns_the_first_timestamp_of_the_header() {
    for vector in vectors().iter().filter(|v| v.expected == "ok") {
        let secret = WebhookSecret::new(vector.secret.as_str()).unwrap();
        let verified = verify(
            vector.payload.as_bytes(),
            Some(&vector.header),
            &secret,
            Duration::from_secs(vector.tolerance),
            vector.now,
        )
        .unwrap();
        let first_t: i64 = vector
            .header
            .split(',')
            .find_map(|i| i.strip_prefix("t="))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(verified.unix_seconds(), first_t, "{}", vector.name);
    }
}

#[test]
fn absent_header_is_missing_header() {
    let error = verify(b"{}", None, &secret(), DEFAULT_TOLERANCE, NOW).unwrap_err();
    assert_eq!(error.code(), "missing_header");
}

#[test]
fn sign_then_verify_round_trips_and_a_wrong_secret_does_not() {
    let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    let header = sign(&secret(), NOW - 10, body);
    assert_eq!(
        header,
        signature_header("whsec_test_4eC39HqLyjWDarjtT1zdp7dc", NOW - 10, body)
    );
    let verified = verify(body, Some(&header), &secret(), DEFAULT_TOLERANCE, NOW).unwrap();
    assert_eq!(verified.unix_seconds(), NOW - 10);

    let other = WebhookSecret::new("whsec_other").unwrap();
    let error = verify(body, Some(&header), &other, DEFAULT_TOLERANCE, NOW).unwrap_err();
    assert_eq!(error.code(), "signature_mismatch");
}

#[test]
fn tolerance_bounds_are_inclusive_on_both_sides() {
    let body = b"{}";
    for (signed_at, expected_ok) in [
        (NOW - 300, true),
        (NOW - 301, false),
        (NOW + 300, true),
        (NOW + 301, false),
    ] {
        let header = sign(&secret(), signed_at, body);
        let result = verify(body, Some(&header), &secret(), DEFAULT_TOLERANCE, NOW);
        assert_eq!(
            result.is_ok(),
            expected_ok,
            "signed at now{:+}",
            signed_at - NOW
        );
        if let Err(error) = result {
            assert_eq!(error.code(), "timestamp_out_of_tolerance");
        }
    }
}

#[test]
fn header_items_follow_stripe_python_reading() {
    let body = b"{}";
    let good = sign(&secret(), NOW, body);
    let v1 = good.split_once(",v1=").unwrap().1;
    let check =
        |header: String| match verify(body, Some(&header), &secret(), DEFAULT_TOLERANCE, NOW) {
            Ok(_) => "ok",
            Err(error) => error.code(),
        };
    // Other schemes and unknown items are ignored; v1 may come first.
    assert_eq!(check(format!("v0=abc,v1={v1},x=y,t={NOW}")), "ok");
    // A bare `t` or `v1` item makes the header unreadable, a bare other item does not.
    assert_eq!(check(format!("t={NOW},v1={v1},t")), "malformed_header");
    assert_eq!(check(format!("t={NOW},v1={v1},v1")), "malformed_header");
    assert_eq!(check(format!("t={NOW},v1={v1},junk")), "ok");
    // Only the first `t` is read, even when a later one is unreadable.
    assert_eq!(check(format!("t={NOW},t=zzz,v1={v1}")), "ok");
    assert_eq!(check(format!("t=zzz,t={NOW},v1={v1}")), "malformed_header");
    // A value ends at the next `=`.
    assert_eq!(check(format!("t={NOW}=1,v1={v1}=tail")), "ok");
    // A space before a key hides it.
    assert_eq!(check(format!("v1={v1}, t={NOW}")), "malformed_header");
    assert_eq!(check(format!("t=,v1={v1}")), "malformed_header");
    // A signature of the wrong length or alphabet is simply not a match.
    assert_eq!(
        check(format!("t={NOW},v1={}", &v1[..62])),
        "signature_mismatch"
    );
    assert_eq!(check(format!("t={NOW},v1={v1}00")), "signature_mismatch");
    assert_eq!(
        check(format!("t={NOW},v1=zz{}", &v1[2..])),
        "signature_mismatch"
    );
}

#[test]
fn signature_is_checked_before_the_timestamp() {
    let body = b"{}";
    let header = sign(&secret(), NOW - 10_000, body);
    let tampered = b"{ }";
    let error = verify(tampered, Some(&header), &secret(), DEFAULT_TOLERANCE, NOW).unwrap_err();
    assert_eq!(error.code(), "signature_mismatch");
    let error = verify(body, Some(&header), &secret(), DEFAULT_TOLERANCE, NOW).unwrap_err();
    assert!(
        matches!(error, WebhookError::TimestampOutOfTolerance { timestamp, .. } if timestamp == NOW - 10_000)
    );
}

#[test]
fn webhook_secret_is_validated_and_never_printed() {
    let secret = secret();
    assert!(!format!("{secret:?}").contains("4eC39"));
    assert!(!format!("{secret}").contains("4eC39"));
    assert_eq!(
        WebhookSecret::new("sk_test_123").unwrap_err().code(),
        "invalid_secret"
    );
    assert_eq!(
        WebhookSecret::new("whsec_").unwrap_err().code(),
        "invalid_secret"
    );
    assert!("whsec_abc".parse::<WebhookSecret>().is_ok());
}

fn invoice_event_body() -> String {
    let invoice = std::fs::read_to_string(data_path("fixtures/invoice.json")).unwrap();
    format!(
        r#"{{"id":"evt_1","object":"event","api_version":"2026-07-29.dahlia","created":1790000000,
        "data":{{"object":{invoice},"previous_attributes":{{"status":"draft","amount_due":0}}}},
        "livemode":false,"pending_webhooks":1,"request":{{"id":null,"idempotency_key":null}},
        "account":"acct_123","type":"invoice.finalized"}}"#
    )
}

#[test]
fn construct_event_types_an_invoice_event() {
    let body = invoice_event_body();
    let header = sign(&secret(), NOW, body.as_bytes());
    let event = construct_event(
        body.as_bytes(),
        Some(&header),
        &secret(),
        DEFAULT_TOLERANCE,
        NOW,
    )
    .unwrap();
    assert_eq!(event.id, "evt_1");
    assert_eq!(event.event_type, EventType::InvoiceFinalized);
    assert_eq!(event.created, 1_790_000_000);
    assert_eq!(event.api_version.as_deref(), Some("2026-07-29.dahlia"));
    assert_eq!(event.account.as_deref(), Some("acct_123"));
    let invoice = event.data.object.as_invoice().unwrap();
    assert_eq!(invoice.id, "in_1Pgc6tB7WZ01zgkWu9fdqL6I");
    assert_eq!(invoice.status, Some(InvoiceStatus::Draft));
    assert_eq!(invoice.amount_due, 1000);
    let previous = event.data.previous_attributes.unwrap();
    assert_eq!(previous["status"], "draft");
}

#[test]
fn customer_events_are_typed_but_customer_sub_objects_stay_raw() {
    let customer = std::fs::read_to_string(data_path("fixtures/customer.json")).unwrap();
    let body = format!(
        r#"{{"id":"evt_2","type":"customer.updated","created":1,"livemode":true,"data":{{"object":{customer}}}}}"#
    );
    let event = parse(body.as_bytes()).unwrap();
    assert_eq!(
        event.data.object.as_customer().map(|c| c.id.as_str()),
        Some("cus_QXg1o8vcGmoR32")
    );
    assert!(event.livemode);

    let body = r#"{"id":"evt_3","type":"customer.subscription.updated","created":1,"livemode":false,
        "data":{"object":{"id":"sub_1","object":"subscription"}}}"#;
    let event = parse(body.as_bytes()).unwrap();
    assert!(matches!(event.data.object, EventObject::Other(_)));
}

#[test]
fn unknown_event_type_keeps_its_object_raw() {
    let body = r#"{"id":"evt_4","type":"radar.early_fraud_warning.created","created":5,"livemode":false,
        "data":{"object":{"id":"issfr_1","object":"radar.early_fraud_warning","fraud_type":"misc", "n": [1, {"deep": true}]}}}"#;
    let event = parse(body.as_bytes()).unwrap();
    assert_eq!(
        event.event_type,
        EventType::Unknown("radar.early_fraud_warning.created".to_owned())
    );
    match &event.data.object {
        EventObject::Other(raw) => {
            let value: serde_json::Value = serde_json::from_str(raw.get()).unwrap();
            assert_eq!(value["fraud_type"], "misc");
            assert_eq!(value["n"][1]["deep"], true);
        }
        other => panic!("expected a raw object, got {other:?}"),
    }
    // Serializing puts the raw object back unchanged.
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["data"]["object"]["id"], "issfr_1");
    assert_eq!(json["type"], "radar.early_fraud_warning.created");
}

#[test]
fn malformed_bodies_are_malformed_payload_errors() {
    for body in [
        &b"not json"[..],
        b"",
        b"{\"id\":\"evt_5\"}",
        b"{\"id\":\"evt_5\",\"type\":\"invoice.paid\",\"created\":1,\"data\":{\"object\":{\"id\":\"in_1\"}}}",
        b"{\"id\":\"evt_5\",\"type\":\"x.y\",\"created\":1,\"data\":{\"object\":{}}} trailing",
        b"\xff\xfe",
    ] {
        let error = parse(body).unwrap_err();
        assert_eq!(error.code(), "malformed_payload", "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn malformed_payload_message_does_not_quote_the_body() {
    let body = br#"{"id":"evt_6","type":"invoice.paid","created":1,"data":{"object":{"id":"in_1","currency":"usd","collection_method":"send_invoice","subtotal":"patient Jane Doe"}}}"#;
    let error = parse(body).unwrap_err();
    assert_eq!(error.code(), "malformed_payload");
    assert!(!error.to_string().contains("Jane"), "{error}");
}

#[test]
fn construct_event_rejects_before_parsing() {
    let header = sign(&secret(), NOW, b"something else");
    let error = construct_event(
        b"not json",
        Some(&header),
        &secret(),
        DEFAULT_TOLERANCE,
        NOW,
    )
    .unwrap_err();
    assert_eq!(error.code(), "signature_mismatch");
}

proptest! {
    #[test]
    fn any_tampered_byte_fails_verification(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let body = invoice_event_body().into_bytes();
        let header = sign(&secret(), NOW, &body);
        let mut tampered = body.clone();
        let at = index.index(tampered.len());
        tampered[at] ^= flip;
        let error = verify(&tampered, Some(&header), &secret(), DEFAULT_TOLERANCE, NOW).unwrap_err();
        prop_assert_eq!(error.code(), "signature_mismatch");
    }

    #[test]
    fn any_body_signed_now_verifies(body in prop::collection::vec(any::<u8>(), 0..512), offset in -300i64..=300) {
        let header = sign(&secret(), NOW + offset, &body);
        let verified = verify(&body, Some(&header), &secret(), DEFAULT_TOLERANCE, NOW).unwrap();
        prop_assert_eq!(verified.unix_seconds(), NOW + offset);
    }

    #[test]
    fn verify_never_panics_on_arbitrary_headers(header in ".{0,200}") {
        let _ = verify(b"{}", Some(&header), &secret(), DEFAULT_TOLERANCE, NOW);
    }
}

#[test]
fn verify_with_takes_stripes_defaults_for_what_is_not_given() {
    use billbridge::stripe::webhook::{VerifyOptions, construct_event_with, sign_at, verify_with};
    let payload = br#"{"id":"evt_1","object":"event","type":"charge.succeeded","created":1,"livemode":false,"data":{"object":{"id":"ch_1","object":"charge"}}}"#;
    // Signed now on the system clock: the default `now` and tolerance accept it.
    let fresh = sign_at(&secret(), None, payload);
    assert!(verify_with(payload, Some(&fresh), &secret(), VerifyOptions::default()).is_ok());
    // Signed at NOW: the system clock is years away, so only a given `now` accepts it.
    let old = sign_at(&secret(), Some(NOW), payload);
    let stale = verify_with(payload, Some(&old), &secret(), VerifyOptions::default());
    assert!(matches!(
        stale,
        Err(WebhookError::TimestampOutOfTolerance { .. })
    ));
    let at_signing = VerifyOptions {
        tolerance: None,
        now: Some(NOW + 299),
    };
    assert!(verify_with(payload, Some(&old), &secret(), at_signing).is_ok());
    let tight = VerifyOptions {
        tolerance: Some(Duration::from_secs(10)),
        now: Some(NOW + 299),
    };
    assert!(verify_with(payload, Some(&old), &secret(), tight).is_err());
    let event = construct_event_with(payload, Some(&old), &secret(), at_signing).unwrap();
    assert_eq!(event.id, "evt_1");
    assert_eq!(DEFAULT_TOLERANCE, Duration::from_secs(300));
}

//! Webhook verification: any `Stripe-Signature` header and any body must give an event
//! or a typed [`WebhookError`], and a forged header must never verify.

use std::time::Duration;

use billbridge::Classify;
use billbridge::ErrorCategory;
use billbridge::stripe::models::Event;
use billbridge::stripe::webhook::{
    DEFAULT_TOLERANCE, WebhookError, WebhookSecret, construct_event, parse, sign, verify,
};

use crate::bytes::Bytes;

/// The time every check runs at, so a replayed input behaves the same on every day.
const NOW: i64 = 1_790_000_000;

fn secret() -> WebhookSecret {
    match WebhookSecret::new("whsec_fuzzing_secret") {
        Ok(secret) => secret,
        Err(error) => panic!("the fixed test secret is valid: {error}"),
    }
}

/// The `v1` signature of `body` at `timestamp`, as [`sign`] writes it after `v1=`.
fn expected_signature(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> String {
    let header = sign(secret, timestamp, body);
    match header.split_once(",v1=") {
        Some((_, signature)) => signature.to_owned(),
        None => panic!("sign writes t=…,v1=…: {header}"),
    }
}

fn check_refusal(error: &WebhookError) {
    let known = [
        "missing_header",
        "malformed_header",
        "no_v1_signature",
        "signature_mismatch",
        "timestamp_out_of_tolerance",
        "malformed_payload",
    ];
    assert!(
        known.contains(&error.code()),
        "unknown code {}",
        error.code()
    );
    let expected = if error.code() == "malformed_payload" {
        ErrorCategory::Validation
    } else {
        ErrorCategory::Signature
    };
    assert_eq!(Classify::category(error), expected, "{error:?}");
    // Rendering must not panic either; its length stays bounded (no body echoed).
    assert!(error.to_string().len() < 512, "{error}");
    let _ = format!("{error:?}");
}

/// `Stripe-Signature` header parsing: the input is the header (with a body signed at
/// a timestamp read from the input as well).
///
/// Properties: never a panic; a refusal has a known code and category; a header that
/// verifies carries the genuine `v1` signature of the body at the accepted time; a
/// genuine header verifies at its own time whatever that time is.
pub fn webhook_header(data: &[u8]) {
    let secret = secret();
    let body = br#"{"id":"evt_1","object":"event","type":"ping","created":1,"data":{"object":{}}}"#;
    let header = String::from_utf8_lossy(data);
    match verify(body, Some(&header), &secret, DEFAULT_TOLERANCE, NOW) {
        Ok(timestamp) => {
            let genuine = expected_signature(&secret, timestamp.unix_seconds(), body);
            assert!(
                header.contains(&genuine),
                "a header without the genuine signature verified: {header:?}"
            );
        }
        Err(error) => check_refusal(&error),
    }
    // The same header against the empty body: a different message, the same rules.
    if let Err(error) = verify(b"", Some(&header), &secret, DEFAULT_TOLERANCE, NOW) {
        check_refusal(&error);
    }

    // Any timestamp, the extremes included, survives signing and parsing.
    let timestamp = Bytes::new(data).i64();
    let genuine = sign(&secret, timestamp, body);
    match verify(body, Some(&genuine), &secret, Duration::ZERO, timestamp) {
        Ok(verified) => assert_eq!(verified.unix_seconds(), timestamp),
        Err(error) => panic!("a genuine header at t={timestamp} was refused: {error:?}"),
    }
}

/// Verify + parse of webhook bodies: the input is the body (after a mode byte).
///
/// Properties: parsing never panics, and neither do the event's accessors; a body
/// signed with the endpoint's secret verifies and then parses exactly when
/// [`parse`] accepts it; a parsed event serialises to JSON that parses to the same
/// event; the header of another body, or of another secret, never verifies.
pub fn webhook_event(data: &[u8]) {
    let mut input = Bytes::new(data);
    let mode = input.byte();
    let body = input.remainder();
    let secret = secret();

    let parsed = parse(body);
    match &parsed {
        Ok(event) => exercise(event),
        Err(error) => check_refusal(error),
    }

    let header = sign(&secret, NOW, body);
    let constructed = construct_event(body, Some(&header), &secret, DEFAULT_TOLERANCE, NOW);
    match (&parsed, &constructed) {
        (Ok(_), Ok(_)) => {}
        (Err(_), Err(WebhookError::MalformedPayload { .. })) => {}
        (parsed, constructed) => panic!(
            "parse and construct_event disagree: {:?} / {:?}",
            parsed.as_ref().map(|_| ()),
            constructed.as_ref().map(|_| ())
        ),
    }

    // Forgeries: a header signed over another body, or with another secret.
    let mut other = body.to_vec();
    match other.get_mut(usize::from(mode) % body.len().max(1)) {
        Some(byte) => *byte ^= 1 | (mode >> 1),
        None => other.push(mode),
    }
    let forged = construct_event(&other, Some(&header), &secret, DEFAULT_TOLERANCE, NOW);
    assert!(
        matches!(forged, Err(WebhookError::SignatureMismatch)),
        "a body changed after signing was not refused as a mismatch"
    );
    if let Ok(stranger) = WebhookSecret::new("whsec_another_endpoint") {
        let foreign = sign(&stranger, NOW, body);
        let result = construct_event(body, Some(&foreign), &secret, DEFAULT_TOLERANCE, NOW);
        assert!(matches!(result, Err(WebhookError::SignatureMismatch)));
    }
}

fn exercise(event: &Event) {
    let object = &event.data.object;
    let _ = (object.kind(), object.id(), object.currency());
    let _ = object.invoice_amounts();
    let _ = (object.as_invoice(), object.as_customer());
    let _ = format!("{event:?}");
    let first = match serde_json::to_vec(event) {
        Ok(json) => json,
        Err(error) => panic!("a parsed event does not serialise: {error}"),
    };
    let again = match parse(&first) {
        Ok(event) => event,
        Err(error) => panic!("a parsed event's own JSON does not parse: {error:?}"),
    };
    match serde_json::to_vec(&again) {
        Ok(second) => assert!(
            first == second,
            "an event changed on a JSON round trip:\n{}\n{}",
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&second)
        ),
        Err(error) => panic!("a reparsed event does not serialise: {error}"),
    }
}

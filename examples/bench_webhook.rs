//! Measures webhook verification + typed parsing against the raw bound DESIGN.md sets:
//! HMAC-SHA256 over the bytes plus one validating JSON pass. Prints figures; it is a
//! measurement, not a test. Run with `cargo run --release --example bench_webhook`.
//!
//! The payload is an `invoice.paid` event built from Stripe's published invoice example
//! with 5 lines and 6 metadata keys (about 8 KB), as in DESIGN.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use billbridge::stripe::webhook::{WebhookSecret, construct_event, parse, sign, verify};
use serde_json::{Value, json};

const ITERATIONS: u32 = 20_000;
const NOW: i64 = 1_790_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let payload = invoice_paid_event()?;
    let secret = WebhookSecret::new("whsec_benchmark_secret_0123456789")?;
    let header = sign(&secret, NOW, &payload);
    let tolerance = Duration::from_secs(300);

    let verify_only =
        per_call(|| verify(black_box(&payload), Some(&header), &secret, tolerance, NOW).is_ok());
    // The least a correct verifier must do beyond the HMAC: one pass that validates the
    // JSON, building nothing (a `Value` tree would be a slow path, not a bound).
    let json_pass =
        per_call(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&payload)).is_ok());
    let parse_only = per_call(|| parse(black_box(&payload)).is_ok());
    let typed = per_call(|| {
        construct_event(black_box(&payload), Some(&header), &secret, tolerance, NOW).is_ok()
    });

    let raw_bound = verify_only + json_pass;
    println!("payload: invoice.paid, {} bytes", payload.len());
    println!("verify (HMAC-SHA256 over the bytes):   {verify_only:>8.2} µs");
    println!("one validating JSON pass (IgnoredAny): {json_pass:>8.2} µs");
    println!("raw bound (sum):                       {raw_bound:>8.2} µs");
    println!("typed parse alone (parse):             {parse_only:>8.2} µs");
    println!("construct_event (verify + typed parse): {typed:>7.2} µs");
    println!(
        "ratio to the raw bound: {:.2}× (target ≤ 1.5×)",
        typed / raw_bound
    );
    Ok(())
}

/// Mean microseconds per call over `ITERATIONS`, after a warm-up; panics if the call
/// ever reports failure, so a broken verifier cannot look fast.
fn per_call(mut call: impl FnMut() -> bool) -> f64 {
    for _ in 0..ITERATIONS / 10 {
        assert!(call(), "the measured call failed");
    }
    let start = Instant::now();
    for _ in 0..ITERATIONS {
        assert!(call(), "the measured call failed");
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(ITERATIONS)
}

fn invoice_paid_event() -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let fixture = include_str!("../tests/data/stripe/fixtures/invoice.json");
    let mut invoice: Value = serde_json::from_str(fixture)?;
    let line = invoice["lines"]["data"][0].clone();
    let lines: Vec<Value> = (0..5)
        .map(|index| {
            let mut line = line.clone();
            line["id"] = json!(format!("il_benchmark{index:04}"));
            line["description"] = json!(format!("Follow-up session {index}"));
            line
        })
        .collect();
    invoice["lines"]["data"] = Value::Array(lines);
    invoice["status"] = json!("paid");
    invoice["metadata"] = json!({
        "host_patient_id": "P-1001",
        "host_invoice_id": "INV-2026-0042",
        "patient_name": "John Deer",
        "registered_practitioner": "Dr Amara Okafor",
        "appointment_location": "Harbour Street Clinic",
        "appointment_practitioner": "Dr Amara Okafor"
    });
    let event = json!({
        "id": "evt_1BenchmarkInvoicePaid",
        "object": "event",
        "api_version": "2026-07-29.dahlia",
        "created": NOW,
        "data": { "object": invoice },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": "invoice.paid"
    });
    Ok(serde_json::to_vec(&event)?)
}

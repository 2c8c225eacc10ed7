//! Measures form encoding of the same invoice parameters `bench/compare` gives
//! stripe-python's encoder: an invoice with metadata and ten lines with metadata, each
//! encoded to the `application/x-www-form-urlencoded` body Stripe receives. Prints the
//! median of several rounds in microseconds per body. A measurement, not a test.
//!
//! Run with `cargo run --release --example bench_form`.

use std::hint::black_box;
use std::time::Instant;

use billbridge::stripe::client::{CreateInvoice, InvoiceLineParams, LinePricing, ProductRef};

const ROUNDS: usize = 9;
const PER_ROUND: u32 = 20_000;

fn body() -> String {
    let mut invoice = CreateInvoice::new("cus_benchmark0001");
    invoice.currency = Some("gbp".into());
    invoice.description = Some("Treatment plan".into());
    invoice.metadata = (0..6)
        .map(|index| (format!("key_{index}"), format!("value {index}")))
        .collect();
    let lines: Vec<InvoiceLineParams> = (0..10)
        .map(|index| InvoiceLineParams {
            description: Some(format!("Session {index}")),
            quantity: Some(1 + index),
            metadata: vec![("service_id".into(), format!("S-{index}"))],
            period: None,
            pricing: LinePricing::PriceData {
                currency: "gbp".into(),
                product: ProductRef::Data {
                    name: format!("Session {index}"),
                },
                unit_amount: 4_500,
            },
        })
        .collect();
    invoice
        .to_form()
        .list("lines", lines.iter().map(InvoiceLineParams::to_form))
        .to_urlencoded()
}

fn main() {
    let encoded = body();
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..PER_ROUND {
            black_box(body());
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / f64::from(PER_ROUND));
    }
    rounds.sort_by(f64::total_cmp);
    println!(
        "form: {} pairs, {} bytes; median {:.2} µs per body (build + encode), spread {:.2}–{:.2}",
        encoded.split('&').count(),
        encoded.len(),
        rounds[ROUNDS / 2],
        rounds[0],
        rounds[ROUNDS - 1]
    );
}

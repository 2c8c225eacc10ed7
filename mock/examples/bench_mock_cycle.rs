//! Measures one raise–finalize–pay cycle through the typed client against the in-process
//! `MockStripe` (create invoice, add a line, finalize, pay out of band), the cost a host's
//! test suite pays per invoice. DESIGN.md's target is ≤ 100 µs per cycle. Prints figures;
//! run with `cargo run --release -p billbridge-mock --example bench_mock_cycle`
//! (`BENCH_CYCLES=200` for a shorter run, e.g. under a profiler).
//!
//! Beside it, the least work any client of any Stripe must do for the same cycle: decode
//! the four invoice answers into typed invoices (measured on the mock's own final answer,
//! decoded four times).

use std::time::Instant;

use billbridge::stripe::client::{
    CreateCustomer, CreateInvoice, InvoiceLineParams, LinePricing, PayInvoice, ProductRef,
    RequestContext, StripeClient,
};
use billbridge_mock::MockStripe;

const DEFAULT_CYCLES: u32 = 5_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stripe = StripeClient::new(MockStripe::new());
    let context = RequestContext::new();
    let customer = stripe
        .customers()
        .create(
            &CreateCustomer {
                name: Some("Benchmark patient".into()),
                ..CreateCustomer::default()
            },
            &context,
        )
        .await?;
    let line = InvoiceLineParams {
        description: Some("Follow-up session".into()),
        quantity: Some(1),
        metadata: Vec::new(),
        period: None,
        pricing: LinePricing::PriceData {
            currency: "gbp".into(),
            product: ProductRef::Data {
                name: "Follow-up session".into(),
            },
            unit_amount: 5000,
        },
    };
    let mut create = CreateInvoice::new(&customer.id);
    create.currency = Some("gbp".into());

    let cycles: u32 = std::env::var("BENCH_CYCLES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_CYCLES);
    let mut checkpoints = Vec::new();
    let mut last_invoice = String::new();
    let start = Instant::now();
    for cycle in 1..=cycles {
        let draft = stripe.invoices().create(&create, &context).await?;
        stripe
            .invoices()
            .add_lines(&draft.id, std::slice::from_ref(&line), &context)
            .await?;
        let open = stripe
            .invoices()
            .finalize(&draft.id, None, &context)
            .await?;
        let paid = stripe
            .invoices()
            .pay(&open.id, &PayInvoice::out_of_band(), &context)
            .await?;
        if paid.amount_paid != 5000 {
            return Err(format!("cycle {cycle}: paid {} instead of 5000", paid.amount_paid).into());
        }
        if cycle % (cycles / 5).max(1) == 0 {
            checkpoints.push((cycle, start.elapsed()));
        }
        last_invoice = paid.id;
    }
    let total = start.elapsed();
    println!(
        "{cycles} raise–finalize–pay cycles through StripeClient + MockStripe (4 requests each)"
    );
    let mut previous = (0, std::time::Duration::ZERO);
    for (cycle, elapsed) in checkpoints {
        let per_cycle = (elapsed - previous.1).as_secs_f64() * 1e6 / f64::from(cycle - previous.0);
        println!(
            "  cycles {:>5}–{cycle:>5}: {per_cycle:>8.1} µs per cycle",
            previous.0 + 1
        );
        previous = (cycle, elapsed);
    }
    let mean = total.as_secs_f64() * 1e6 / f64::from(cycles);
    println!("mean: {mean:.1} µs per cycle (target ≤ 100 µs)");
    let floor = decode_floor(&stripe, &last_invoice).await?;
    println!(
        "floor: decoding the cycle's 4 invoice answers takes {floor:.1} µs ({:.1}× of the cycle is the mock and the client's requests)",
        mean / floor
    );
    Ok(())
}

/// Microseconds to decode an invoice answer four times, as any client must per cycle.
async fn decode_floor(
    stripe: &StripeClient,
    invoice_id: &str,
) -> Result<f64, Box<dyn std::error::Error>> {
    let response = stripe
        .send_raw(
            billbridge::stripe::transport::Method::Get,
            &format!("/v1/invoices/{invoice_id}"),
            Vec::new(),
            &RequestContext::new(),
        )
        .await?;
    const ROUNDS: u32 = 2_000;
    let start = Instant::now();
    for _ in 0..ROUNDS * 4 {
        let invoice: billbridge::stripe::models::Invoice =
            serde_json::from_slice(std::hint::black_box(&response.body))?;
        std::hint::black_box(invoice);
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS))
}

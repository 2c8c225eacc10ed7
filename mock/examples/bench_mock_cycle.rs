//! Measures one raise–finalize–pay cycle through the typed client against the in-process
//! `MockStripe` (create invoice, add a line, finalize, pay out of band), the cost a host's
//! test suite pays per invoice. DESIGN.md's target is ≤ 100 µs per cycle. Prints figures;
//! run with `cargo run --release --example bench_mock_cycle`.

use std::time::Instant;

use billbridge::stripe::client::{
    CreateCustomer, CreateInvoice, InvoiceLineParams, LinePricing, PayInvoice, ProductRef,
    RequestContext, StripeClient,
};
use billbridge_mock::MockStripe;

const CYCLES: u32 = 5_000;

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

    let mut checkpoints = Vec::new();
    let start = Instant::now();
    for cycle in 1..=CYCLES {
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
        if cycle % 1_000 == 0 {
            checkpoints.push((cycle, start.elapsed()));
        }
    }
    let total = start.elapsed();
    println!(
        "{CYCLES} raise–finalize–pay cycles through StripeClient + MockStripe (4 requests each)"
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
    println!(
        "mean: {:.1} µs per cycle (target ≤ 100 µs)",
        total.as_secs_f64() * 1e6 / f64::from(CYCLES)
    );
    Ok(())
}

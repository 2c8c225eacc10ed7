//! The README's main command: a few of the practice day's invoices, computed with the
//! pure domain (no Stripe needed). Replaced by the full practice day on the mock Stripe
//! later.
//!
//! Run with `cargo run -p billbridge --example quickstart`.

use billbridge::domain::balance::{FinalizationOutcome, apply_balance};
use billbridge::domain::catalogue::{Catalogue, CatalogueItem, CatalogueKey};
use billbridge::domain::invoice::{InvoiceDraft, InvoiceLine};
use billbridge::domain::money::Money;
use billbridge::domain::party::{Patient, PatientId};

fn main() -> Result<(), billbridge::Error> {
    let catalogue = Catalogue::new([
        CatalogueItem::new(
            CatalogueKey::new("initial-assessment")?,
            "Initial assessment",
            Money::gbp(7500),
        ),
        CatalogueItem::new(
            CatalogueKey::new("follow-up")?,
            "Follow-up session",
            Money::gbp(5000),
        ),
        CatalogueItem::new(
            CatalogueKey::new("blood-test-kit")?,
            "Home blood test kit",
            Money::gbp(3500),
        ),
    ])?;

    let john = Patient::new(PatientId::new("P-1001")?, "John", "Deer");
    let aiko = Patient::new(PatientId::new("P-1003")?, "Aiko", "Tanaka");
    let chloe = Patient::new(PatientId::new("P-1005")?, "Chloé", "Martin");

    // (who, draft, customer balance: negative = credit, positive = debit)
    let invoices = [
        (
            &john,
            InvoiceDraft::for_patient(&john)
                .line(InvoiceLine::catalogue(catalogue.require("follow-up")?, 1))
                .line(InvoiceLine::catalogue(
                    catalogue.require("blood-test-kit")?,
                    1,
                )),
            Money::gbp(-5000),
        ),
        (
            &aiko,
            InvoiceDraft::for_patient(&aiko).line(InvoiceLine::catalogue(
                catalogue.require("initial-assessment")?,
                1,
            )),
            Money::gbp(450),
        ),
        (
            &chloe,
            InvoiceDraft::for_patient(&chloe)
                .line(InvoiceLine::catalogue(
                    catalogue.require("initial-assessment")?,
                    1,
                ))
                .due_in_days(14),
            Money::gbp(0),
        ),
    ];

    for (patient, draft, balance) in invoices {
        let total = draft.validate()?;
        let finalized = apply_balance(total, balance)?;
        println!("{} ({})", patient.full_name(), draft.payer);
        for line in &draft.lines {
            println!(
                "  {:<24} {:>3} x {:>8}",
                line.description,
                line.quantity,
                line.unit_amount.to_decimal_string()
            );
        }
        println!("  total            {total}");
        println!("  starting balance {}", finalized.starting_balance);
        println!("  amount due       {}", finalized.amount_due);
        println!("  ending balance   {}", finalized.ending_balance);
        let outcome = match finalized.outcome {
            FinalizationOutcome::Open { .. } => "open",
            FinalizationOutcome::PaidNothingDue { .. } => "paid (nothing due)",
            FinalizationOutcome::PaidBelowMinimum { .. } => "paid (below minimum charge)",
        };
        println!("  after finalize   {outcome}\n");
    }
    Ok(())
}

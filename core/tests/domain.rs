//! Domain tests across modules: parties, catalogue, invoice drafts, Stripe's balance rule,
//! the state machine, billing rates and the offline ledger working together on the
//! practice day's cases (amounts in pence).

// Fixture helpers sit outside `#[test]` functions; a panic there is a failed test.
#![allow(clippy::unwrap_used)]

use billbridge::domain::balance::{FinalizationOutcome, apply_balance};
use billbridge::domain::catalogue::{
    BillingRate, BillingRates, Catalogue, CatalogueItem, CatalogueKey, RateId, RatePayer, Service,
    ServiceId, select_invoiceable, stamp_invoiced,
};
use billbridge::domain::date::Date;
use billbridge::domain::invoice::{
    AppointmentContext, AppointmentId, InvoiceDraft, InvoiceId, InvoiceLine, Location,
};
use billbridge::domain::ledger::{LedgerInvoice, ManualPayment, PaymentMethod};
use billbridge::domain::money::{Currency, Money};
use billbridge::domain::party::{
    LocationId, Organisation, OrganisationId, Patient, PatientId, PayerRef, Practitioner,
    PractitionerId,
};
use billbridge::domain::status::{InvoiceAction, InvoiceStatus, Transition};
use billbridge::{Error, ErrorCategory};

fn day() -> Date {
    Date::parse("2026-11-21").unwrap()
}

fn dr_okafor() -> Practitioner {
    Practitioner::new(PractitionerId::new("PR-1").unwrap(), "Dr Amara Okafor")
}

fn catalogue() -> Catalogue {
    let key = |text| CatalogueKey::new(text).unwrap();
    Catalogue::new([
        CatalogueItem::new(
            key("initial-assessment"),
            "Initial assessment",
            Money::gbp(7500),
        )
        .with_slot_type("Initial assessment (45 min)"),
        CatalogueItem::new(key("follow-up"), "Follow-up session", Money::gbp(5000))
            .with_slot_type("Follow-up (30 min)"),
        CatalogueItem::new(
            key("blood-test-kit"),
            "Home blood test kit",
            Money::gbp(3500),
        ),
        CatalogueItem::new(key("postage"), "Postage", Money::gbp(450)),
    ])
    .unwrap()
}

fn patient(id: &str, given: &str, family: &str) -> Patient {
    Patient::new(PatientId::new(id).unwrap(), given, family)
        .with_registered_practitioner(dr_okafor())
}

#[test]
fn johns_missed_appointment_credit_pays_most_of_his_next_invoice() {
    let catalogue = catalogue();
    let john = patient("P-1001", "John", "Deer").with_email("john.deer@example.com");
    john.validate().unwrap();

    // APT-2 is a follow-up; the slot type finds the catalogue item.
    let follow_up = catalogue.for_slot_type("Follow-up (30 min)").unwrap();
    let context = AppointmentContext::for_appointment(AppointmentId::new("APT-2").unwrap())
        .on(day())
        .at(Location::new(
            LocationId::new("LOC-1").unwrap(),
            "Harbour Street Clinic",
        ))
        .with_practitioner(dr_okafor());
    let draft = InvoiceDraft::for_patient(&john)
        .line(InvoiceLine::catalogue(follow_up, 1))
        .line(InvoiceLine::catalogue(
            catalogue.require("blood-test-kit").unwrap(),
            1,
        ))
        .context(context);
    let total = draft.validate().unwrap();
    assert_eq!(total, Money::gbp(8500));

    // The 5000 prepaid for APT-1 stayed on his balance as a credit (negative).
    let finalized = apply_balance(total, Money::gbp(-5000)).unwrap();
    assert_eq!(finalized.amount_due, Money::gbp(3500));
    assert_eq!(finalized.ending_balance, Money::gbp(0));
    assert_eq!(
        finalized.outcome,
        FinalizationOutcome::Open {
            amount_due: Money::gbp(3500)
        }
    );
    assert_eq!(
        InvoiceStatus::Draft.apply(InvoiceAction::Finalize).unwrap(),
        Transition::Status(InvoiceStatus::Open)
    );
}

#[test]
fn aikos_postage_debit_is_added_to_her_invoice() {
    let catalogue = catalogue();
    let aiko = patient("P-1003", "Aiko", "Tanaka");
    let postage = catalogue.require("postage").unwrap().unit_amount;
    let draft = InvoiceDraft::for_patient(&aiko).line(InvoiceLine::catalogue(
        catalogue
            .for_slot_type("Initial assessment (45 min)")
            .unwrap(),
        1,
    ));
    let finalized = apply_balance(draft.validate().unwrap(), postage).unwrap();
    assert_eq!(finalized.amount_due, Money::gbp(7950));
    assert_eq!(finalized.starting_balance, Money::gbp(450));
    assert_eq!(finalized.ending_balance, Money::gbp(0));
}

#[test]
fn marias_invoice_is_paid_by_her_default_payer() {
    let northwind = Organisation::new(
        OrganisationId::new("ORG-1").unwrap(),
        "Northwind Insurance Ltd",
    )
    .with_email("claims@northwind.example");
    northwind.validate().unwrap();
    let maria = patient("P-1002", "María", "López").with_default_payer(northwind.id.clone());
    let draft = InvoiceDraft::for_patient(&maria).line(InvoiceLine::catalogue(
        catalogue().require("initial-assessment").unwrap(),
        1,
    ));
    assert_eq!(draft.payer, PayerRef::Organisation(northwind.id.clone()));
    assert_eq!(draft.subject.as_ref(), Some(&maria.id));
    // Northwind holds no balance: the whole total is due.
    let finalized = apply_balance(draft.validate().unwrap(), Money::gbp(0)).unwrap();
    assert_eq!(finalized.amount_to_collect(), Money::gbp(7500));
}

#[test]
fn elis_insured_session_leaves_a_self_pay_remainder_to_invoice() {
    let rates = BillingRates::new([
        BillingRate::new(
            RateId::new("RATE-GEN").unwrap(),
            "General Service",
            false,
            RatePayer::Insurance,
        ),
        BillingRate::new(
            RateId::new("RATE-GEN-SELF").unwrap(),
            "General Service (Self-Pay)",
            true,
            RatePayer::Client,
        ),
    ])
    .unwrap();
    let eli = patient("P-1007", "Eli", "Brooks").with_gender("non-binary");
    let session = Service::new(
        ServiceId::new("SVC-9").unwrap(),
        eli.id.clone(),
        day(),
        RateId::new("RATE-GEN").unwrap(),
        Money::gbp(12_000),
    );
    let self_pay = rates.get(&RateId::new("RATE-GEN-SELF").unwrap()).unwrap();
    let split = session.split_insurance(Money::gbp(8000), self_pay).unwrap();
    assert_eq!(split.client_part, Money::gbp(4000));

    let mut services = vec![split.insurer_service.clone()];
    services.extend(split.client_service.clone());
    let groups = select_invoiceable(&services, &rates, |_, _| eli.payer()).unwrap();
    assert_eq!(groups.len(), 1);
    let draft = groups[0].to_draft();
    assert_eq!(draft.payer, PayerRef::Patient(eli.id.clone()));
    assert_eq!(draft.lines[0].description, "General Service (Self-Pay)");
    assert_eq!(draft.validate().unwrap(), Money::gbp(4000));

    stamp_invoiced(&mut services, &groups[0].services, day()).unwrap();
    assert!(
        select_invoiceable(&services, &rates, |_, _| eli.payer())
            .unwrap()
            .is_empty(),
        "stamped services are not invoiced twice"
    );
}

#[test]
fn bens_cash_payment_closes_a_ledger_invoice() {
    let ben = patient("P-1004", "Ben", "Carter");
    let draft = InvoiceDraft::for_patient(&ben)
        .line(InvoiceLine::catalogue(
            catalogue().require("follow-up").unwrap(),
            1,
        ))
        .due_in_days(14);
    let mut invoice =
        LedgerInvoice::from_draft(InvoiceId::new("INV-APT-5").unwrap(), &draft).unwrap();
    invoice.finalize(day()).unwrap();
    invoice
        .record_payment(ManualPayment::new(
            PaymentMethod::Cash,
            Money::gbp(5000),
            day(),
        ))
        .unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Paid);
    assert_eq!(invoice.amount_remaining().unwrap(), Money::gbp(0));

    // A late "open" snapshot must not undo the payment; voiding is refused as illegal.
    assert!(!invoice.status.may_move_to(&InvoiceStatus::Open));
    let error: Error = invoice.void().unwrap_err().into();
    assert_eq!(error.code(), "illegal_transition");
    assert_eq!(error.category(), ErrorCategory::InvalidState);
}

#[test]
fn top_level_error_keeps_codes_and_categories() {
    let error: Error = Money::parse("12.345", Currency::GBP).unwrap_err().into();
    assert_eq!(error.code(), "too_many_decimals");
    assert_eq!(error.category(), ErrorCategory::Validation);
    let error: Error = Currency::new("abc").unwrap_err().into();
    assert_eq!(error.code(), "unknown_currency");
    let error: Error = InvoiceDraft::for_patient(&patient("P-1", "A", "B"))
        .validate()
        .unwrap_err()
        .into();
    assert_eq!(error.code(), "no_lines");
    let error: Error = Date::parse("2026-02-29").unwrap_err().into();
    assert_eq!(error.code(), "invalid_date");
    assert_eq!(ErrorCategory::InvalidState.as_str(), "invalid_state");
}

#[test]
fn default_payers_come_from_host_id_pairs_each_checked() {
    use billbridge::domain::catalogue::default_payers;
    use billbridge::domain::party::{OrganisationId, PatientId};
    let payers = default_payers([("P-1", "ORG-1"), ("P-2", "ORG-2")]).unwrap();
    assert_eq!(
        payers.get(&PatientId::new("P-1").unwrap()),
        Some(&OrganisationId::new("ORG-1").unwrap())
    );
    assert_eq!(payers.len(), 2);
    let refused = default_payers([("P-1", "")]).unwrap_err();
    assert_eq!(
        billbridge::Error::from(refused).category(),
        billbridge::ErrorCategory::Validation
    );
}

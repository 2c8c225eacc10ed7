//! Model-based test: proptest generates random sequences of practice operations
//! (customers, credits, debits, drafts with credit lines, finalize, send, card payments
//! that succeed or are declined, payments outside Stripe, voids, write-offs, deleted
//! drafts, illegal moves, webhooks delivered late and shuffled). After every step the
//! mock's invoices and balances are checked against a model of Stripe's rules written
//! here, independently of billbridge's domain and of the mock (totals, balance applied
//! at finalization with the minimum charge, statuses, balance returned on void); at the
//! end the host's mirror is checked against the mock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_common;

use std::collections::BTreeMap;

use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::money::Money;
use billbridge::domain::party::{Party, Patient, PatientId};
use billbridge::domain::status::InvoiceStatus;
use billbridge::stripe::client::RequestContext;
use billbridge::sync::{PaidOutside, PaymentMethod, Raise};
use bridge_common::practice;
use proptest::prelude::*;

/// GBP's minimum charge (Stripe's published table).
const MINIMUM_CHARGE: i64 = 30;
const PATIENTS: usize = 2;
const INVOICES: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Adjust {
        patient: usize,
        amount: i64,
    },
    Raise {
        invoice: usize,
        patient: usize,
        lines: Vec<(i64, u32)>,
        finalize: bool,
    },
    Finalize(usize),
    Send(usize),
    PayCard {
        invoice: usize,
        declined: bool,
    },
    PayOutside(usize),
    Void(usize),
    WriteOff(usize),
    DeleteDraft(usize),
    Webhooks {
        reverse: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let patient = 0..PATIENTS;
    let invoice = 0..INVOICES;
    prop_oneof![
        (patient.clone(), -40..40_i64).prop_map(|(patient, hundreds)| Op::Adjust {
            patient,
            amount: hundreds * 100 + if hundreds % 3 == 0 { 15 } else { 0 },
        }),
        (
            invoice.clone(),
            patient,
            prop::collection::vec((-20..60_i64, 1..4_u32), 1..4),
            any::<bool>()
        )
            .prop_map(|(invoice, patient, lines, finalize)| Op::Raise {
                invoice,
                patient,
                lines: lines
                    .into_iter()
                    .map(|(unit, quantity)| (unit * 50 + 5, quantity))
                    .collect(),
                finalize,
            }),
        invoice.clone().prop_map(Op::Finalize),
        invoice.clone().prop_map(Op::Send),
        (invoice.clone(), any::<bool>())
            .prop_map(|(invoice, declined)| Op::PayCard { invoice, declined }),
        invoice.clone().prop_map(Op::PayOutside),
        invoice.clone().prop_map(Op::Void),
        invoice.clone().prop_map(Op::WriteOff),
        invoice.prop_map(Op::DeleteDraft),
        any::<bool>().prop_map(|reverse| Op::Webhooks { reverse }),
    ]
}

/// One invoice as Stripe's rules say it must be.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ModelInvoice {
    patient: usize,
    status: InvoiceStatus,
    total: i64,
    amount_due: i64,
    amount_paid: i64,
    /// What finalization took from (positive) or added to the balance, returned on void.
    moved: i64,
}

#[derive(Debug, Default)]
struct Model {
    balances: [i64; PATIENTS],
    invoices: BTreeMap<usize, ModelInvoice>,
}

/// Stripe's balance rule at finalization (docs.stripe.com/billing/customer/balance):
/// credit covers up to the total, a debit is added, a negative total is credited, and
/// a remainder below the minimum charge is carried to the balance as a debit. Returns
/// (amount due, balance after, what the invoice moved, carried below the minimum).
fn balance_rule(total: i64, balance: i64) -> (i64, i64, i64, i64) {
    let chargeable = total.max(0);
    let (due, mut ending) = if balance < 0 {
        let used = (-balance).min(chargeable);
        (chargeable - used, balance + used)
    } else {
        (chargeable + balance, 0)
    };
    if total < 0 {
        ending += total;
    }
    let moved = ending - balance;
    if due > 0 && due < MINIMUM_CHARGE {
        (0, ending + due, moved, due)
    } else {
        (due, ending, moved, 0)
    }
}

impl Model {
    /// What an invoice shows due: fixed at finalization; a draft previews it against
    /// the customer's balance now.
    fn amount_due(&self, model: &ModelInvoice) -> i64 {
        if model.status == InvoiceStatus::Draft {
            balance_rule(model.total, self.balances[model.patient]).0
        } else {
            model.amount_due
        }
    }

    fn finalize(&mut self, invoice: usize) {
        let model = self.invoices.get_mut(&invoice).unwrap();
        let balance = self.balances[model.patient];
        let (due, ending, moved, carried) = balance_rule(model.total, balance);
        model.moved = moved;
        model.status = if due == 0 || carried > 0 {
            InvoiceStatus::Paid
        } else {
            InvoiceStatus::Open
        };
        model.amount_due = due;
        self.balances[model.patient] = ending;
    }
}

fn patient(index: usize) -> Patient {
    Patient::new(
        PatientId::new(format!("P-MODEL-{index}")).unwrap(),
        "Pat",
        format!("Model{index}"),
    )
    .with_email(format!("model{index}@example.com"))
}

fn host(invoice: usize) -> String {
    format!("INV-MODEL-{invoice}")
}

async fn check_against_stripe(practice: &bridge_common::Practice, model: &Model, step: usize) {
    let client = practice.bridge.client();
    let context = RequestContext::new();
    for (index, expected) in &model.invoices {
        let Some(record) = practice.bridge.invoice(&host(*index)).await.unwrap() else {
            panic!("step {step}: invoice {index} has no record");
        };
        if expected.status == InvoiceStatus::Deleted {
            assert_eq!(record.status, InvoiceStatus::Deleted, "step {step}");
            continue;
        }
        let stripe = client
            .invoices()
            .retrieve(&record.stripe_invoice_id, &context)
            .await
            .unwrap();
        let seen = (
            stripe.status.clone().unwrap(),
            stripe.total,
            stripe.amount_due,
            stripe.amount_paid,
        );
        let wanted = (
            expected.status.clone(),
            expected.total,
            model.amount_due(expected),
            expected.amount_paid,
        );
        assert_eq!(seen, wanted, "step {step}: invoice {index}");
    }
    for (index, balance) in model.balances.iter().enumerate() {
        if practice
            .bridge
            .customer(&patient(index).payer())
            .await
            .unwrap()
            .is_some()
        {
            let stripe = practice
                .bridge
                .balance(&patient(index).payer())
                .await
                .unwrap();
            assert_eq!(
                stripe.amount(),
                *balance,
                "step {step}: balance of patient {index}"
            );
        }
    }
}

async fn play(ops: Vec<Op>) {
    let practice = practice(MetadataPolicy::hero_compatible(), false);
    let bridge = &practice.bridge;
    let mut model = Model::default();
    for index in 0..PATIENTS {
        bridge
            .upsert_customer(&Party::Patient(patient(index)))
            .await
            .unwrap();
    }
    for (step, op) in ops.into_iter().enumerate() {
        let status =
            |model: &Model, invoice: usize| model.invoices.get(&invoice).map(|m| m.status.clone());
        match op {
            Op::Adjust {
                patient: who,
                amount,
            } => {
                bridge
                    .adjust_balance(
                        &patient(who).payer(),
                        Money::gbp(amount),
                        "Model",
                        &format!("ADJ-{step}"),
                    )
                    .await
                    .unwrap();
                model.balances[who] += amount;
            }
            Op::Raise {
                invoice,
                patient: who,
                lines,
                finalize,
            } => {
                if model.invoices.contains_key(&invoice) {
                    continue;
                }
                let mut draft = InvoiceDraft::for_patient(&patient(who))
                    .host_id(InvoiceId::new(host(invoice)).unwrap())
                    .due_in_days(7);
                for (unit, quantity) in &lines {
                    draft = draft.line(InvoiceLine::ad_hoc("Care", Money::gbp(*unit), *quantity));
                }
                let mode = if finalize {
                    Raise::Finalize
                } else {
                    Raise::Draft
                };
                bridge
                    .raise_invoice(&draft, Some(&patient(who)), mode)
                    .await
                    .unwrap();
                let total = lines
                    .iter()
                    .map(|(unit, quantity)| unit * i64::from(*quantity))
                    .sum();
                model.invoices.insert(
                    invoice,
                    ModelInvoice {
                        patient: who,
                        status: InvoiceStatus::Draft,
                        total,
                        amount_due: total.max(0),
                        amount_paid: 0,
                        moved: 0,
                    },
                );
                if finalize {
                    model.finalize(invoice);
                }
            }
            Op::Finalize(invoice) => {
                let result = bridge.finalize(&host(invoice)).await;
                if status(&model, invoice) == Some(InvoiceStatus::Draft) {
                    result.unwrap();
                    model.finalize(invoice);
                } else {
                    assert!(
                        result.is_err(),
                        "step {step}: finalize of {:?}",
                        status(&model, invoice)
                    );
                }
            }
            Op::Send(invoice) => {
                // The host sends what its own record says is open; a card payment whose
                // webhook has not arrived yet leaves that record open, and Stripe then
                // sends the paid invoice as a receipt.
                let believed = bridge
                    .invoice(&host(invoice))
                    .await
                    .unwrap()
                    .map(|record| record.status);
                let result = bridge.send(&host(invoice)).await;
                assert_eq!(
                    result.is_ok(),
                    believed == Some(InvoiceStatus::Open),
                    "step {step}"
                );
            }
            Op::PayCard { invoice, declined } => {
                let Some(record) = bridge.invoice(&host(invoice)).await.unwrap() else {
                    continue;
                };
                let method = if declined {
                    "pm_card_chargeDeclined"
                } else {
                    "pm_card_visa"
                };
                let result = practice
                    .mock
                    .pay_invoice(&record.stripe_invoice_id, method)
                    .await;
                let payable = matches!(
                    status(&model, invoice),
                    Some(InvoiceStatus::Open | InvoiceStatus::Uncollectible)
                );
                if payable && !declined {
                    result.unwrap();
                    let model = model.invoices.get_mut(&invoice).unwrap();
                    model.status = InvoiceStatus::Paid;
                    model.amount_paid = model.amount_due;
                } else {
                    assert!(result.is_err(), "step {step}");
                }
            }
            Op::PayOutside(invoice) => {
                let result = bridge
                    .mark_paid_outside_stripe(
                        &host(invoice),
                        &PaidOutside::new(PaymentMethod::Cheque),
                    )
                    .await;
                if matches!(
                    status(&model, invoice),
                    Some(InvoiceStatus::Open | InvoiceStatus::Uncollectible)
                ) {
                    result.unwrap();
                    let model = model.invoices.get_mut(&invoice).unwrap();
                    model.status = InvoiceStatus::Paid;
                    model.amount_paid = model.amount_due;
                } else {
                    assert!(result.is_err(), "step {step}");
                }
            }
            Op::Void(invoice) => {
                let result = bridge.void(&host(invoice)).await;
                if matches!(
                    status(&model, invoice),
                    Some(InvoiceStatus::Open | InvoiceStatus::Uncollectible)
                ) {
                    result.unwrap();
                    let voided = model.invoices.get_mut(&invoice).unwrap();
                    voided.status = InvoiceStatus::Void;
                    let (who, moved) = (voided.patient, voided.moved);
                    model.balances[who] -= moved;
                } else {
                    assert!(result.is_err(), "step {step}");
                }
            }
            Op::WriteOff(invoice) => {
                let result = bridge.mark_uncollectible(&host(invoice)).await;
                if status(&model, invoice) == Some(InvoiceStatus::Open) {
                    result.unwrap();
                    model.invoices.get_mut(&invoice).unwrap().status = InvoiceStatus::Uncollectible;
                } else {
                    assert!(result.is_err(), "step {step}");
                }
            }
            Op::DeleteDraft(invoice) => {
                let result = bridge.delete_draft(&host(invoice)).await;
                if status(&model, invoice) == Some(InvoiceStatus::Draft) {
                    result.unwrap();
                    model.invoices.get_mut(&invoice).unwrap().status = InvoiceStatus::Deleted;
                } else {
                    assert!(result.is_err(), "step {step}");
                }
            }
            Op::Webhooks { reverse } => {
                let mut deliveries = practice.mock.take_webhooks();
                if reverse {
                    deliveries.reverse();
                }
                for delivery in deliveries {
                    bridge
                        .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                        .await
                        .unwrap();
                }
            }
        }
        check_against_stripe(&practice, &model, step).await;
    }
    // Late webhooks, then the host's mirror must equal the mock.
    let mut deliveries = practice.mock.take_webhooks();
    deliveries.reverse();
    for delivery in deliveries {
        bridge
            .handle_webhook(&delivery.body, Some(&delivery.signature_header))
            .await
            .unwrap();
    }
    let client = bridge.client();
    for index in model.invoices.keys() {
        let record = bridge.invoice(&host(*index)).await.unwrap().unwrap();
        if record.status == InvoiceStatus::Deleted {
            continue;
        }
        let stripe = client
            .invoices()
            .retrieve(&record.stripe_invoice_id, &RequestContext::new())
            .await
            .unwrap();
        assert_eq!(
            Some(record.status.clone()),
            stripe.status,
            "mirror of invoice {index}"
        );
        assert_eq!(
            (record.total.amount(), record.amount_paid.amount()),
            (stripe.total, stripe.amount_paid),
            "mirror of invoice {index}"
        );
        // A draft's amount due follows the customer's balance until finalization, and
        // Stripe sends no invoice event when the balance moves: only a finalized
        // invoice's amount due is a settled fact.
        if record.status != InvoiceStatus::Draft {
            assert_eq!(
                record.amount_due.amount(),
                stripe.amount_due,
                "mirror of invoice {index}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_practice_days_follow_stripes_rules(ops in prop::collection::vec(op(), 1..28)) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(play(ops));
    }
}

//! Webhook chaos: the deliveries of many invoices' lives (paid on the hosted page, paid
//! outside Stripe, voided, written off then paid, left open) arrive duplicated,
//! shuffled and delayed, mixed with forgeries — replayed with an old timestamp,
//! re-signed with a wrong secret, truncated, altered by one byte. Every forged or stale
//! delivery is rejected with its error and changes nothing; the host's mirror ends
//! equal to Stripe's state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bridge_common;

use billbridge::domain::metadata::MetadataPolicy;
use billbridge::domain::party::Party;
use billbridge::mirror::InvoiceRecord;
use billbridge::stripe::client::{PayInvoice, RequestContext};
use billbridge::stripe::webhook::signature_header;
use billbridge::sync::Raise;
use bridge_common::*;

/// A forged or stale variant of a genuine delivery, and the error it must meet.
struct Forgery {
    body: Vec<u8>,
    header: String,
    expected: &'static str,
}

/// What a delivery in the chaotic stream is.
enum Arrival {
    Genuine(usize),
    Forged(Forgery),
}

struct Dice(u64);

impl Dice {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}

async fn mirrors(practice: &Practice, hosts: &[String]) -> Vec<Option<InvoiceRecord>> {
    let mut records = Vec::new();
    for host in hosts {
        records.push(practice.bridge.invoice(host).await.unwrap());
    }
    records
}

#[tokio::test]
async fn forged_stale_duplicated_and_shuffled_deliveries_leave_the_mirror_equal_to_stripe() {
    for seed in [7_u64, 2_026, 99_991] {
        let practice = practice(MetadataPolicy::hero_compatible(), false);
        let client = practice.bridge.client().clone();
        let context = RequestContext::new();
        practice
            .bridge
            .upsert_customer(&Party::Patient(john()))
            .await
            .unwrap();
        let mut dice = Dice(seed);
        let mut hosts = Vec::new();
        // Every invoice's life happens in Stripe; the host learns it only from webhooks.
        for index in 0..12 {
            let host = format!("INV-CHAOS-{index}");
            let raised = practice
                .bridge
                .raise_invoice(&johns_draft(&host), Some(&john()), Raise::FinalizeAndSend)
                .await
                .unwrap();
            let id = raised.stripe_invoice_id.clone();
            match index % 5 {
                0 => practice
                    .mock
                    .pay_invoice(&id, "pm_card_visa")
                    .await
                    .unwrap(),
                1 => {
                    client.invoices().void(&id, &context).await.unwrap();
                }
                2 => {
                    client
                        .invoices()
                        .mark_uncollectible(&id, &context)
                        .await
                        .unwrap();
                    client
                        .invoices()
                        .pay(&id, &PayInvoice::out_of_band(), &context)
                        .await
                        .unwrap();
                }
                3 => {
                    client
                        .invoices()
                        .pay(&id, &PayInvoice::out_of_band(), &context)
                        .await
                        .unwrap();
                }
                _ => {}
            }
            hosts.push(host);
        }
        let deliveries = practice.mock.take_webhooks();
        let secret = practice.mock.webhook_secret();
        let now = practice.mock.clock().now();

        let mut stream = Vec::new();
        for (index, delivery) in deliveries.iter().enumerate() {
            for _ in 0..1 + dice.below(3) {
                stream.push(Arrival::Genuine(index));
            }
            let body = &delivery.body;
            let mut altered = body.clone();
            let position = dice.below(altered.len());
            altered[position] ^= 0x01;
            let cut = &body[..body.len() / 2];
            let forgeries = [
                Forgery {
                    body: body.clone(),
                    header: signature_header(&secret, now - 600, body),
                    expected: "timestamp_out_of_tolerance",
                },
                Forgery {
                    body: body.clone(),
                    header: signature_header("whsec_someone_else_entirely", now, body),
                    expected: "signature_mismatch",
                },
                Forgery {
                    body: cut.to_vec(),
                    header: delivery.signature_header.clone(),
                    expected: "signature_mismatch",
                },
                Forgery {
                    body: cut.to_vec(),
                    header: signature_header(&secret, now, cut),
                    expected: "malformed_payload",
                },
                Forgery {
                    body: altered,
                    header: delivery.signature_header.clone(),
                    expected: "signature_mismatch",
                },
            ];
            for forgery in forgeries {
                stream.push(Arrival::Forged(forgery));
            }
        }
        // Shuffled: late deliveries arrive after what followed them.
        for index in (1..stream.len()).rev() {
            let other = dice.below(index + 1);
            stream.swap(index, other);
        }

        let mut rejected = 0;
        for arrival in &stream {
            match arrival {
                Arrival::Genuine(index) => {
                    let delivery = &deliveries[*index];
                    practice
                        .bridge
                        .handle_webhook(&delivery.body, Some(&delivery.signature_header))
                        .await
                        .unwrap();
                }
                Arrival::Forged(forgery) => {
                    let before = mirrors(&practice, &hosts).await;
                    let error = practice
                        .bridge
                        .handle_webhook(&forgery.body, Some(&forgery.header))
                        .await
                        .unwrap_err();
                    assert_eq!(error.code(), forgery.expected, "seed {seed}");
                    assert_eq!(
                        mirrors(&practice, &hosts).await,
                        before,
                        "seed {seed}: a forgery changed the mirror"
                    );
                    rejected += 1;
                }
            }
        }
        assert_eq!(rejected, deliveries.len() * 5);

        for host in &hosts {
            let record = practice.bridge.invoice(host).await.unwrap().unwrap();
            let stripe = client
                .invoices()
                .retrieve(&record.stripe_invoice_id, &context)
                .await
                .unwrap();
            assert_eq!(
                Some(record.status.clone()),
                stripe.status,
                "seed {seed}, {host}"
            );
            assert_eq!(
                record.amount_paid.amount(),
                stripe.amount_paid,
                "seed {seed}, {host}"
            );
            assert_eq!(
                record.amount_remaining.amount(),
                stripe.amount_remaining,
                "seed {seed}, {host}"
            );
        }
    }
}

//! The contract every `SyncStore` keeps, run against `MemoryStore`, `SqliteStore` (in
//! memory and on disk) and `PostgresStore` (a real server, see `postgres_support`), plus
//! what only the SQLite store promises: surviving a restart, refusing a newer schema and
//! reporting unreadable rows (`tests/postgres_store.rs` holds the PostgreSQL ones).
//!
//! A host implementing `SyncStore` on its own database can copy the `checks` module and
//! run it against its store.

// The checks are plain async functions shared by generated tests, outside the reach of
// clippy's `allow-unwrap-in-tests`; a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used)]

#[cfg(feature = "postgres")]
mod postgres_support;
#[cfg(feature = "sqlite")]
mod temp_database;
#[cfg(feature = "sqlite")]
use temp_database::TempDatabase;

use std::collections::BTreeMap;
use std::sync::Arc;

use billbridge::domain::date::Date;
use billbridge::domain::status::InvoiceStatus;
use billbridge::store::{
    AddedLine, CustomerLink, InvoiceLink, InvoiceMirror, MemoryStore, MetadataMap, MirrorCursor,
    MirrorQuery, OutsidePayment, PartyKind, RaiseCheckpoint, StoreError, SyncStore,
};

const ACCOUNT: Option<&str> = Some("acct_1Practice");

fn metadata(pairs: &[(&str, &str)]) -> MetadataMap {
    pairs.iter().copied().collect()
}

fn customer(account: Option<&str>, kind: PartyKind, host: &str, stripe: &str) -> CustomerLink {
    CustomerLink {
        account: account.map(str::to_owned),
        party_kind: kind,
        host_party_id: host.to_owned(),
        stripe_customer_id: stripe.to_owned(),
        metadata_sent: metadata(&[("patient_first_name", "Ada"), ("postcode", "N1 9GU")]),
    }
}

fn invoice_link(account: Option<&str>, host: &str, stripe: &str) -> InvoiceLink {
    InvoiceLink {
        account: account.map(str::to_owned),
        host_invoice_id: host.to_owned(),
        stripe_invoice_id: stripe.to_owned(),
    }
}

/// A finalized, partly paid invoice with every optional field set.
fn mirror(account: Option<&str>, host: &str, created: i64) -> InvoiceMirror {
    InvoiceMirror {
        account: account.map(str::to_owned),
        host_invoice_id: host.to_owned(),
        stripe_invoice_id: format!("in_{host}"),
        stripe_customer_id: String::from("cus_P42"),
        status: InvoiceStatus::Open,
        unrecognised_status: None,
        number: Some(format!("ABC-{host}")),
        currency: String::from("gbp"),
        subtotal: 12_000,
        total: 12_000,
        amount_due: 7_000,
        amount_paid: 2_000,
        amount_remaining: 5_000,
        starting_balance: -5_000,
        ending_balance: Some(0),
        hosted_invoice_url: Some(format!("https://invoice.stripe.com/i/{host}")),
        invoice_pdf: Some(format!("https://pay.stripe.com/invoice/{host}/pdf")),
        due_date: Some(created + 86_400 * 14),
        created,
        metadata: metadata(&[
            ("ehr_patient_id", "P-42"),
            ("appointment_location", "Leeds"),
        ]),
        paid_at: Some(created + 45),
        paid_outside: Some(OutsidePayment {
            method: String::from("cheque"),
            reference: Some(String::from("CHQ-000123")),
            paid_on: Some(Date::parse("2026-03-02").unwrap()),
        }),
        stripe_updated_at: created + 60,
        payer_kind: PartyKind::Patient,
        payer_host_id: String::from("P-42"),
        patient_host_id: Some(String::from("P-42")),
    }
}

/// A draft: everything Stripe fills in later is empty.
fn draft_mirror(account: Option<&str>, host: &str, created: i64) -> InvoiceMirror {
    InvoiceMirror {
        status: InvoiceStatus::Draft,
        unrecognised_status: None,
        number: None,
        amount_paid: 0,
        amount_remaining: 7_000,
        ending_balance: None,
        hosted_invoice_url: None,
        invoice_pdf: None,
        due_date: None,
        metadata: MetadataMap::new(),
        paid_at: None,
        paid_outside: None,
        patient_host_id: None,
        payer_kind: PartyKind::Organisation,
        payer_host_id: String::from("ORG-7"),
        ..mirror(account, host, created)
    }
}

fn checkpoint(account: Option<&str>, host: &str) -> RaiseCheckpoint {
    RaiseCheckpoint {
        account: account.map(str::to_owned),
        host_invoice_id: host.to_owned(),
        draft_revision: 3,
        stripe_invoice_id: None,
        lines_added: Vec::new(),
        finalized: false,
        sent: false,
    }
}

fn host_ids(mirrors: &[InvoiceMirror]) -> Vec<&str> {
    mirrors.iter().map(|m| m.host_invoice_id.as_str()).collect()
}

/// The checks, generic over the store; each takes a fresh, empty store.
mod checks {
    use super::*;

    pub async fn customer_link_round_trips<S: SyncStore>(store: S) {
        let patient = customer(None, PartyKind::Patient, "42", "cus_P42");
        let organisation = customer(None, PartyKind::Organisation, "42", "cus_O42");
        assert_eq!(
            store
                .customer_link(None, PartyKind::Patient, "42")
                .await
                .unwrap(),
            None
        );
        store.put_customer_link(&patient).await.unwrap();
        store.put_customer_link(&organisation).await.unwrap();

        let found = store
            .customer_link(None, PartyKind::Patient, "42")
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(&patient));
        let found = store
            .customer_link(None, PartyKind::Organisation, "42")
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(&organisation));
        let by_stripe = store
            .customer_link_by_stripe_id(None, "cus_O42")
            .await
            .unwrap();
        assert_eq!(by_stripe.as_ref(), Some(&organisation));

        // A field switched off since the last sync disappears from what was sent.
        let mut resent = patient.clone();
        resent.metadata_sent.remove("postcode");
        store.put_customer_link(&resent).await.unwrap();
        let found = store
            .customer_link(None, PartyKind::Patient, "42")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            found.metadata_sent,
            metadata(&[("patient_first_name", "Ada")])
        );

        assert!(
            store
                .remove_customer_link(None, PartyKind::Patient, "42")
                .await
                .unwrap()
        );
        assert!(
            !store
                .remove_customer_link(None, PartyKind::Patient, "42")
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .customer_link_by_stripe_id(None, "cus_P42")
                .await
                .unwrap(),
            None
        );
        assert!(
            store
                .customer_link(None, PartyKind::Organisation, "42")
                .await
                .unwrap()
                .is_some()
        );
    }

    pub async fn customer_link_refuses_a_stripe_customer_of_another_party<S: SyncStore>(store: S) {
        store
            .put_customer_link(&customer(None, PartyKind::Patient, "1", "cus_A"))
            .await
            .unwrap();
        let error = store
            .put_customer_link(&customer(None, PartyKind::Patient, "2", "cus_A"))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "store_conflict");
        assert!(
            matches!(error, StoreError::Conflict { ref stripe_id, .. } if stripe_id == "cus_A")
        );
        assert_eq!(
            store
                .customer_link(None, PartyKind::Patient, "2")
                .await
                .unwrap(),
            None
        );

        // Relinking a party (its customer was recreated) frees the old Stripe id.
        store
            .put_customer_link(&customer(None, PartyKind::Patient, "1", "cus_B"))
            .await
            .unwrap();
        assert_eq!(
            store
                .customer_link_by_stripe_id(None, "cus_A")
                .await
                .unwrap(),
            None
        );
        store
            .put_customer_link(&customer(None, PartyKind::Patient, "2", "cus_A"))
            .await
            .unwrap();
        let owner = store
            .customer_link_by_stripe_id(None, "cus_A")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(owner.host_party_id, "2");
    }

    pub async fn invoice_link_round_trips<S: SyncStore>(store: S) {
        let link = invoice_link(None, "INV-1", "in_1");
        assert_eq!(store.invoice_link(None, "INV-1").await.unwrap(), None);
        store.put_invoice_link(&link).await.unwrap();
        assert_eq!(
            store.invoice_link(None, "INV-1").await.unwrap().as_ref(),
            Some(&link)
        );
        assert_eq!(
            store
                .invoice_link_by_stripe_id(None, "in_1")
                .await
                .unwrap()
                .as_ref(),
            Some(&link)
        );

        let error = store
            .put_invoice_link(&invoice_link(None, "INV-2", "in_1"))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "store_conflict");

        // Re-raised after a void: the host invoice now points at the new Stripe invoice.
        let relinked = invoice_link(None, "INV-1", "in_2");
        store.put_invoice_link(&relinked).await.unwrap();
        assert_eq!(
            store.invoice_link(None, "INV-1").await.unwrap().as_ref(),
            Some(&relinked)
        );
        assert_eq!(
            store.invoice_link_by_stripe_id(None, "in_1").await.unwrap(),
            None
        );
    }

    pub async fn every_key_is_scoped_by_account<S: SyncStore>(store: S) {
        store
            .put_customer_link(&customer(None, PartyKind::Patient, "42", "cus_X"))
            .await
            .unwrap();
        // The same host id and even the same Stripe id live apart in another account.
        store
            .put_customer_link(&customer(ACCOUNT, PartyKind::Patient, "42", "cus_X"))
            .await
            .unwrap();
        store
            .put_invoice_link(&invoice_link(None, "INV-1", "in_platform"))
            .await
            .unwrap();
        store
            .put_invoice_link(&invoice_link(ACCOUNT, "INV-1", "in_connected"))
            .await
            .unwrap();
        store
            .set_default_payer(ACCOUNT, "42", "ORG-7")
            .await
            .unwrap();
        store
            .put_invoice_mirror(&mirror(ACCOUNT, "INV-1", 100))
            .await
            .unwrap();
        store
            .put_raise_checkpoint(&checkpoint(ACCOUNT, "INV-1"))
            .await
            .unwrap();

        let platform = store
            .customer_link(None, PartyKind::Patient, "42")
            .await
            .unwrap()
            .unwrap();
        let connected = store
            .customer_link(ACCOUNT, PartyKind::Patient, "42")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(platform.account, None);
        assert_eq!(connected.account.as_deref(), ACCOUNT);
        assert_eq!(
            store
                .customer_link(Some("acct_2Other"), PartyKind::Patient, "42")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .invoice_link(None, "INV-1")
                .await
                .unwrap()
                .unwrap()
                .stripe_invoice_id,
            "in_platform"
        );
        assert_eq!(
            store
                .invoice_link(ACCOUNT, "INV-1")
                .await
                .unwrap()
                .unwrap()
                .stripe_invoice_id,
            "in_connected"
        );
        assert_eq!(
            store
                .invoice_link_by_stripe_id(None, "in_connected")
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.default_payer(None, "42").await.unwrap(), None);
        assert_eq!(
            store.default_payer(ACCOUNT, "42").await.unwrap().as_deref(),
            Some("ORG-7")
        );
        assert_eq!(store.invoice_mirror(None, "INV-1").await.unwrap(), None);
        assert!(
            store
                .invoice_mirror(ACCOUNT, "INV-1")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .query_invoice_mirrors(&MirrorQuery::for_account(None))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.raise_checkpoint(None, "INV-1").await.unwrap(), None);
        assert!(
            store
                .raise_checkpoint(ACCOUNT, "INV-1")
                .await
                .unwrap()
                .is_some()
        );
        assert!(store.mark_event_processed(None, "evt_1").await.unwrap());
        assert!(store.mark_event_processed(ACCOUNT, "evt_1").await.unwrap());

        // An empty account id is the platform account, not a third one.
        assert_eq!(
            store
                .customer_link(Some(""), PartyKind::Patient, "42")
                .await
                .unwrap(),
            Some(platform)
        );
        assert!(!store.mark_event_processed(Some(""), "evt_1").await.unwrap());
    }

    pub async fn default_payer_is_set_replaced_and_cleared<S: SyncStore>(store: S) {
        assert_eq!(store.default_payer(None, "P-1").await.unwrap(), None);
        assert!(!store.clear_default_payer(None, "P-1").await.unwrap());
        store.set_default_payer(None, "P-1", "ORG-1").await.unwrap();
        store.set_default_payer(None, "P-2", "ORG-1").await.unwrap();
        assert_eq!(
            store.default_payer(None, "P-1").await.unwrap().as_deref(),
            Some("ORG-1")
        );
        store.set_default_payer(None, "P-1", "ORG-2").await.unwrap();
        assert_eq!(
            store.default_payer(None, "P-1").await.unwrap().as_deref(),
            Some("ORG-2")
        );
        assert!(store.clear_default_payer(None, "P-1").await.unwrap());
        assert_eq!(store.default_payer(None, "P-1").await.unwrap(), None);
        assert_eq!(
            store.default_payer(None, "P-2").await.unwrap().as_deref(),
            Some("ORG-1")
        );
    }

    pub async fn event_is_claimed_once_and_can_be_released<S: SyncStore>(store: S) {
        assert!(store.mark_event_processed(None, "evt_A").await.unwrap());
        assert!(!store.mark_event_processed(None, "evt_A").await.unwrap());
        assert!(!store.mark_event_processed(None, "evt_A").await.unwrap());
        assert!(store.mark_event_processed(None, "evt_B").await.unwrap());

        assert!(store.forget_event(None, "evt_A").await.unwrap());
        assert!(!store.forget_event(None, "evt_A").await.unwrap());
        assert!(store.mark_event_processed(None, "evt_A").await.unwrap());
        assert!(!store.mark_event_processed(None, "evt_B").await.unwrap());
    }

    pub async fn a_completed_claim_stays_claimed<S: SyncStore>(store: S) {
        assert!(store.mark_event_processed(ACCOUNT, "evt_A").await.unwrap());
        store.complete_event(ACCOUNT, "evt_A").await.unwrap();
        assert!(!store.mark_event_processed(ACCOUNT, "evt_A").await.unwrap());
        // Completing twice, or an event never claimed, changes nothing.
        store.complete_event(ACCOUNT, "evt_A").await.unwrap();
        store.complete_event(ACCOUNT, "evt_never").await.unwrap();
        assert!(!store.mark_event_processed(ACCOUNT, "evt_A").await.unwrap());
        assert!(
            store
                .mark_event_processed(ACCOUNT, "evt_never")
                .await
                .unwrap()
        );
        // A completed claim can still be released for a deliberate replay.
        assert!(store.forget_event(ACCOUNT, "evt_A").await.unwrap());
        assert!(store.mark_event_processed(ACCOUNT, "evt_A").await.unwrap());
    }

    pub async fn concurrent_deliveries_of_one_event_claim_it_exactly_once<S>(store: S)
    where
        S: SyncStore + 'static,
    {
        let store: Arc<dyn SyncStore> = Arc::new(store);
        let mut tasks = Vec::new();
        for worker in 0..96 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                let event = format!("evt_{}", worker % 6);
                let account = if (worker / 6) % 2 == 0 { None } else { ACCOUNT };
                let first = store.mark_event_processed(account, &event).await.unwrap();
                (account.is_some(), event, first)
            }));
        }
        let mut winners: BTreeMap<(bool, String), usize> = BTreeMap::new();
        for task in tasks {
            let (connected, event, first) = task.await.unwrap();
            *winners.entry((connected, event)).or_default() += usize::from(first);
        }
        // Six event ids under each of the two accounts, each claimed by exactly one worker.
        assert_eq!(winners.len(), 12);
        assert!(
            winners.values().all(|&count| count == 1),
            "claims per event: {winners:?}"
        );
    }

    pub async fn mirror_round_trips_every_field<S: SyncStore>(store: S) {
        let full = mirror(ACCOUNT, "INV-1", 1_700_000_000);
        let draft = draft_mirror(None, "INV-2", 1_700_000_100);
        store.put_invoice_mirror(&full).await.unwrap();
        store.put_invoice_mirror(&draft).await.unwrap();
        assert_eq!(
            store
                .invoice_mirror(ACCOUNT, "INV-1")
                .await
                .unwrap()
                .as_ref(),
            Some(&full)
        );
        assert_eq!(
            store
                .invoice_mirror_by_stripe_id(ACCOUNT, "in_INV-1")
                .await
                .unwrap()
                .as_ref(),
            Some(&full)
        );
        assert_eq!(
            store.invoice_mirror(None, "INV-2").await.unwrap().as_ref(),
            Some(&draft)
        );

        // Paid outside Stripe without a reference or a day (a record from before the
        // day was kept), and no payment time from Stripe.
        let mut paid = full.clone();
        paid.status = InvoiceStatus::Paid;
        paid.amount_paid = 7_000;
        paid.amount_remaining = 0;
        paid.paid_at = None;
        paid.paid_outside = Some(OutsidePayment {
            method: String::from("cash"),
            reference: None,
            paid_on: None,
        });
        paid.metadata.remove("appointment_location");
        paid.stripe_updated_at += 10;
        store.put_invoice_mirror(&paid).await.unwrap();
        assert_eq!(
            store.invoice_mirror(ACCOUNT, "INV-1").await.unwrap(),
            Some(paid.clone())
        );

        // The payment days come back exactly, through a query as well.
        let mut dated = paid;
        dated.paid_at = Some(1_772_409_600 + 3_600);
        dated.paid_outside = Some(OutsidePayment {
            method: String::from("bank_transfer"),
            reference: None,
            paid_on: Some(Date::parse("2026-03-02").unwrap()),
        });
        store.put_invoice_mirror(&dated).await.unwrap();
        let queried = store
            .query_invoice_mirrors(&MirrorQuery::for_account(ACCOUNT))
            .await
            .unwrap();
        assert_eq!(queried, [dated.clone()]);
        assert_eq!(
            queried[0].paid_outside.as_ref().unwrap().paid_on,
            Some(Date::parse("2026-03-02").unwrap())
        );
        assert_eq!(queried[0].paid_at, Some(1_772_413_200));

        let mut stolen = draft_mirror(ACCOUNT, "INV-3", 5);
        stolen.stripe_invoice_id = String::from("in_INV-1");
        let error = store.put_invoice_mirror(&stolen).await.unwrap_err();
        assert_eq!(error.code(), "store_conflict");
        assert_eq!(store.invoice_mirror(ACCOUNT, "INV-3").await.unwrap(), None);
    }

    pub async fn unknown_status_round_trips_and_is_queryable<S: SyncStore>(store: S) {
        let mut pending = mirror(None, "INV-9", 10);
        pending.status = InvoiceStatus::from("payment_pending");
        store.put_invoice_mirror(&pending).await.unwrap();
        store
            .put_invoice_mirror(&mirror(None, "INV-8", 5))
            .await
            .unwrap();
        let found = store.invoice_mirror(None, "INV-9").await.unwrap().unwrap();
        assert_eq!(
            found.status,
            InvoiceStatus::Unknown(String::from("payment_pending"))
        );
        let queried = store
            .query_invoice_mirrors(
                &MirrorQuery::for_account(None).status(InvoiceStatus::from("payment_pending")),
            )
            .await
            .unwrap();
        assert_eq!(host_ids(&queried), ["INV-9"]);
    }

    /// Six mirrors, inserted out of order, with two sharing a `created` second.
    async fn seed_report<S: SyncStore>(store: &S) {
        let mut seeds = Vec::new();

        let mut paid = mirror(None, "INV-C", 300);
        paid.status = InvoiceStatus::Paid;
        paid.stripe_updated_at = 1_000;
        seeds.push(paid);

        let mut org_open = mirror(None, "INV-B", 200);
        org_open.payer_kind = PartyKind::Organisation;
        org_open.payer_host_id = String::from("ORG-7");
        org_open.metadata = metadata(&[("ehr_patient_id", "P-43"), ("billing", "insurer")]);
        org_open.stripe_updated_at = 900;
        seeds.push(org_open);

        let mut tie_later_id = mirror(None, "INV-E", 200);
        tie_later_id.stripe_updated_at = 950;
        seeds.push(tie_later_id);

        let mut first = mirror(None, "INV-A", 100);
        first.stripe_updated_at = 500;
        seeds.push(first);

        let mut void = mirror(None, "INV-D", 400);
        void.status = InvoiceStatus::Void;
        void.metadata = metadata(&[("ehr_patient_id", "P-42"), ("billing", "insurer")]);
        void.stripe_updated_at = 2_000;
        seeds.push(void);

        // A payer host id equal to an organisation's, but the payer is a patient.
        let mut patient_7 = draft_mirror(None, "INV-F", 500);
        patient_7.payer_kind = PartyKind::Patient;
        patient_7.payer_host_id = String::from("ORG-7");
        patient_7.stripe_updated_at = 600;
        seeds.push(patient_7);

        // Another account's invoice never shows in this account's reports.
        seeds.push(mirror(ACCOUNT, "INV-0", 150));

        for seed in &seeds {
            store.put_invoice_mirror(seed).await.unwrap();
        }
    }

    pub async fn mirror_queries_filter_and_order_deterministically<S: SyncStore>(store: S) {
        seed_report(&store).await;
        let query = |q: MirrorQuery| {
            let store = &store;
            async move { store.query_invoice_mirrors(&q).await.unwrap() }
        };
        let all = MirrorQuery::for_account(None);

        assert_eq!(
            host_ids(&query(all.clone()).await),
            ["INV-A", "INV-B", "INV-E", "INV-C", "INV-D", "INV-F"]
        );
        assert_eq!(
            host_ids(&query(MirrorQuery::for_account(ACCOUNT)).await),
            ["INV-0"]
        );
        assert_eq!(
            host_ids(&query(all.clone().status(InvoiceStatus::Open)).await),
            ["INV-A", "INV-B", "INV-E"]
        );
        assert_eq!(
            host_ids(&query(all.clone().payer(PartyKind::Organisation, "ORG-7")).await),
            ["INV-B"]
        );
        assert_eq!(
            host_ids(&query(all.clone().payer(PartyKind::Patient, "P-42")).await),
            ["INV-A", "INV-E", "INV-C", "INV-D"]
        );
        // Half-open: from is included, before is not.
        assert_eq!(
            host_ids(&query(all.clone().created_between(200, 400)).await),
            ["INV-B", "INV-E", "INV-C"]
        );
        assert_eq!(
            host_ids(&query(all.clone().metadata("billing", "insurer")).await),
            ["INV-B", "INV-D"]
        );
        assert_eq!(
            host_ids(
                &query(
                    all.clone()
                        .metadata("billing", "insurer")
                        .metadata("ehr_patient_id", "P-42")
                )
                .await
            ),
            ["INV-D"]
        );
        assert!(
            query(all.clone().metadata("billing", "P-42"))
                .await
                .is_empty()
        );
        // Inclusive: a change in the same second as the last re-sync is not missed.
        assert_eq!(
            host_ids(&query(all.clone().changed_since(950)).await),
            ["INV-E", "INV-C", "INV-D"]
        );
        assert_eq!(
            host_ids(
                &query(
                    all.clone()
                        .status(InvoiceStatus::Open)
                        .created_between(150, 1_000)
                        .changed_since(900)
                )
                .await
            ),
            ["INV-B", "INV-E"]
        );
    }

    pub async fn mirror_pages_visit_every_match_once_in_order<S: SyncStore>(store: S) {
        seed_report(&store).await;
        let mut seen = Vec::new();
        let mut query = MirrorQuery::for_account(None).limit(2);
        loop {
            let page = store.query_invoice_mirrors(&query).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            query = query.after(MirrorCursor::after(last));
            seen.extend(page.into_iter().map(|m| m.host_invoice_id));
        }
        assert_eq!(seen, ["INV-A", "INV-B", "INV-E", "INV-C", "INV-D", "INV-F"]);

        // The cursor sits between the two invoices created in the same second.
        let after_b = MirrorQuery::for_account(None)
            .status(InvoiceStatus::Open)
            .after(MirrorCursor {
                created: 200,
                host_invoice_id: String::from("INV-B"),
            });
        let page = store.query_invoice_mirrors(&after_b).await.unwrap();
        assert_eq!(host_ids(&page), ["INV-E"]);
        assert!(
            store
                .query_invoice_mirrors(&MirrorQuery::for_account(None).limit(0))
                .await
                .unwrap()
                .is_empty()
        );
    }

    pub async fn mirror_swap_writes_only_over_the_expected_state<S: SyncStore>(store: S) {
        let open = mirror(None, "INV-1", 100);
        assert!(store.swap_invoice_mirror(None, &open).await.unwrap());
        // Someone else created it first.
        assert!(!store.swap_invoice_mirror(None, &open).await.unwrap());

        let mut paid = open.clone();
        paid.status = InvoiceStatus::Paid;
        paid.stripe_updated_at = 300;
        assert!(store.swap_invoice_mirror(Some(&open), &paid).await.unwrap());

        // A late `invoice.finalized` merged into the stale read loses the race.
        let mut stale = open.clone();
        stale.stripe_updated_at = 200;
        assert!(
            !store
                .swap_invoice_mirror(Some(&open), &stale)
                .await
                .unwrap()
        );
        assert_eq!(
            store.invoice_mirror(None, "INV-1").await.unwrap().as_ref(),
            Some(&paid)
        );

        // The platform account may be spelled `Some("")` in the expected record.
        let mut spelled = paid.clone();
        spelled.account = Some(String::new());
        let mut annotated = paid.clone();
        annotated.number = Some(String::from("ABC-0099"));
        assert!(
            store
                .swap_invoice_mirror(Some(&spelled), &annotated)
                .await
                .unwrap()
        );
    }

    pub async fn concurrent_mirror_swaps_lose_no_update<S>(store: S)
    where
        S: SyncStore + 'static,
    {
        let store: Arc<dyn SyncStore> = Arc::new(store);
        store
            .put_invoice_mirror(&mirror(ACCOUNT, "INV-1", 100))
            .await
            .unwrap();
        let workers = 24;
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                loop {
                    let current = store.invoice_mirror(ACCOUNT, "INV-1").await.unwrap();
                    let current = current.unwrap();
                    let mut next = current.clone();
                    next.stripe_updated_at += 1;
                    if store
                        .swap_invoice_mirror(Some(&current), &next)
                        .await
                        .unwrap()
                    {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let last = store
            .invoice_mirror(ACCOUNT, "INV-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last.stripe_updated_at, 160 + workers);
    }

    pub async fn raise_checkpoint_is_kept_until_cleared<S: SyncStore>(store: S) {
        assert_eq!(store.raise_checkpoint(None, "INV-1").await.unwrap(), None);
        let started = checkpoint(None, "INV-1");
        store.put_raise_checkpoint(&started).await.unwrap();
        assert_eq!(
            store
                .raise_checkpoint(None, "INV-1")
                .await
                .unwrap()
                .as_ref(),
            Some(&started)
        );

        let progressed = RaiseCheckpoint {
            draft_revision: u64::MAX,
            stripe_invoice_id: Some(String::from("in_1")),
            lines_added: vec![
                AddedLine {
                    line_index: 0,
                    stripe_line_id: Some(String::from("il_0")),
                },
                AddedLine {
                    line_index: 2,
                    stripe_line_id: None,
                },
            ],
            finalized: true,
            sent: false,
            ..started.clone()
        };
        store.put_raise_checkpoint(&progressed).await.unwrap();
        assert_eq!(
            store
                .raise_checkpoint(None, "INV-1")
                .await
                .unwrap()
                .as_ref(),
            Some(&progressed)
        );

        let sent = RaiseCheckpoint {
            sent: true,
            ..progressed
        };
        store.put_raise_checkpoint(&sent).await.unwrap();
        assert!(
            store
                .raise_checkpoint(None, "INV-1")
                .await
                .unwrap()
                .unwrap()
                .sent
        );
        assert!(store.clear_raise_checkpoint(None, "INV-1").await.unwrap());
        assert!(!store.clear_raise_checkpoint(None, "INV-1").await.unwrap());
        assert_eq!(store.raise_checkpoint(None, "INV-1").await.unwrap(), None);
    }
}

/// Generates one test per check for a store: `$make` returns the store and a guard that
/// cleans up after it (dropped after the check).
macro_rules! contract_tests {
    ($module:ident, $make:expr) => {
        contract_tests!(
            $module,
            $make;
            customer_link_round_trips,
            customer_link_refuses_a_stripe_customer_of_another_party,
            invoice_link_round_trips,
            every_key_is_scoped_by_account,
            default_payer_is_set_replaced_and_cleared,
            event_is_claimed_once_and_can_be_released,
            a_completed_claim_stays_claimed,
            concurrent_deliveries_of_one_event_claim_it_exactly_once,
            mirror_round_trips_every_field,
            unknown_status_round_trips_and_is_queryable,
            mirror_queries_filter_and_order_deterministically,
            mirror_pages_visit_every_match_once_in_order,
            mirror_swap_writes_only_over_the_expected_state,
            concurrent_mirror_swaps_lose_no_update,
            raise_checkpoint_is_kept_until_cleared,
        );
    };
    ($module:ident, $make:expr; $($check:ident),+ $(,)?) => {
        mod $module {
            #[allow(unused_imports)] // Only the SQLite modules use the helpers.
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let (store, _cleanup) = ($make)();
                    super::checks::$check(store).await;
                }
            )+
        }
    };
}

contract_tests!(memory, || (MemoryStore::new(), ()));

#[cfg(feature = "sqlite")]
contract_tests!(sqlite_in_memory, || (
    billbridge::store::SqliteStore::in_memory().unwrap(),
    ()
));

#[cfg(feature = "sqlite")]
contract_tests!(sqlite_file, || {
    let file = TempDatabase::new("store_contract");
    let store = billbridge::store::SqliteStore::open(&file.path).unwrap();
    (store, file)
});

// Each check on a schema of its own in the test server (see `postgres_support`).
#[cfg(feature = "postgres")]
contract_tests!(postgres, postgres_support::contract_store);

#[tokio::test]
async fn memory_store_clones_share_one_state() {
    let store = MemoryStore::new();
    let handle = store.clone();
    store.set_default_payer(None, "P-1", "ORG-1").await.unwrap();
    assert_eq!(
        handle.default_payer(None, "P-1").await.unwrap().as_deref(),
        Some("ORG-1")
    );
    assert!(store.mark_event_processed(None, "evt_1").await.unwrap());
    assert!(!handle.mark_event_processed(None, "evt_1").await.unwrap());
}

#[test]
fn debug_output_hides_metadata_values_and_invoice_links() {
    let link = customer(None, PartyKind::Patient, "42", "cus_P42");
    let shown = format!("{link:?}");
    assert!(shown.contains("patient_first_name"), "{shown}");
    assert!(
        !shown.contains("Ada") && !shown.contains("N1 9GU"),
        "{shown}"
    );

    let invoice = mirror(None, "INV-1", 100);
    let shown = format!("{invoice:?}");
    assert!(shown.contains("appointment_location"), "{shown}");
    assert!(!shown.contains("Leeds"), "{shown}");
    assert!(!shown.contains("https://"), "{shown}");

    let query = MirrorQuery::for_account(None).metadata("ehr_patient_id", "P-77");
    assert!(!format!("{query:?}").contains("P-77"));
}

#[test]
fn records_serialise_with_stable_field_names() {
    let invoice = draft_mirror(ACCOUNT, "INV-1", 100);
    let json = serde_json::to_value(&invoice).unwrap();
    let object = json.as_object().unwrap();
    let mut fields: Vec<&str> = object.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "account",
            "amount_due",
            "amount_paid",
            "amount_remaining",
            "created",
            "currency",
            "due_date",
            "ending_balance",
            "host_invoice_id",
            "hosted_invoice_url",
            "invoice_pdf",
            "metadata",
            "number",
            "paid_at",
            "paid_outside",
            "patient_host_id",
            "payer_host_id",
            "payer_kind",
            "starting_balance",
            "status",
            "stripe_customer_id",
            "stripe_invoice_id",
            "stripe_updated_at",
            "subtotal",
            "total",
            "unrecognised_status",
        ]
    );
    assert_eq!(object["status"], "draft");
    assert_eq!(object["payer_kind"], "organisation");
    let back: InvoiceMirror = serde_json::from_value(json).unwrap();
    assert_eq!(back, invoice);

    let mut json = serde_json::to_value(&invoice).unwrap();
    json["status"] = serde_json::Value::from("payment_pending");
    let unknown: InvoiceMirror = serde_json::from_value(json).unwrap();
    assert_eq!(
        unknown.status,
        InvoiceStatus::Unknown(String::from("payment_pending"))
    );
}

#[test]
fn mirror_json_written_before_payment_days_still_reads() {
    let invoice = mirror(None, "INV-1", 100);
    let mut json = serde_json::to_value(&invoice).unwrap();
    json.as_object_mut().unwrap().remove("paid_at");
    json["paid_outside"]
        .as_object_mut()
        .unwrap()
        .remove("paid_on");
    let read: InvoiceMirror = serde_json::from_value(json).unwrap();
    assert_eq!(read.paid_at, None);
    let outside = read.paid_outside.as_ref().unwrap();
    assert_eq!(outside.paid_on, None);
    assert_eq!(outside.reference.as_deref(), Some("CHQ-000123"));
    assert_eq!(
        InvoiceMirror {
            paid_at: invoice.paid_at,
            paid_outside: invoice.paid_outside.clone(),
            ..read
        },
        invoice
    );

    let json = serde_json::to_value(&invoice).unwrap();
    assert_eq!(json["paid_outside"]["paid_on"], "2026-03-02");
    assert_eq!(json["paid_at"], 145);
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::path::PathBuf;

    use billbridge::store::SqliteStore;

    use super::*;

    fn raw(path: &PathBuf) -> rusqlite::Connection {
        rusqlite::Connection::open(path).unwrap()
    }

    #[tokio::test]
    async fn reopening_after_drop_keeps_every_record() {
        let file = TempDatabase::new("store_contract");
        let patient = customer(ACCOUNT, PartyKind::Patient, "42", "cus_P42");
        let link = invoice_link(ACCOUNT, "INV-1", "in_INV-1");
        let invoice = mirror(ACCOUNT, "INV-1", 1_700_000_000);
        let progress = RaiseCheckpoint {
            stripe_invoice_id: Some(String::from("in_INV-1")),
            lines_added: vec![AddedLine {
                line_index: 0,
                stripe_line_id: Some(String::from("il_0")),
            }],
            ..checkpoint(ACCOUNT, "INV-2")
        };
        {
            let store = SqliteStore::open(&file.path).unwrap();
            store.put_customer_link(&patient).await.unwrap();
            store.put_invoice_link(&link).await.unwrap();
            store.put_invoice_mirror(&invoice).await.unwrap();
            store.put_raise_checkpoint(&progress).await.unwrap();
            store
                .set_default_payer(ACCOUNT, "42", "ORG-7")
                .await
                .unwrap();
            assert!(store.mark_event_processed(ACCOUNT, "evt_1").await.unwrap());
        }

        let store = SqliteStore::open(&file.path).unwrap();
        assert_eq!(
            store
                .customer_link(ACCOUNT, PartyKind::Patient, "42")
                .await
                .unwrap(),
            Some(patient)
        );
        assert_eq!(
            store
                .invoice_link_by_stripe_id(ACCOUNT, "in_INV-1")
                .await
                .unwrap(),
            Some(link)
        );
        assert_eq!(
            store.invoice_mirror(ACCOUNT, "INV-1").await.unwrap(),
            Some(invoice)
        );
        assert_eq!(
            store.raise_checkpoint(ACCOUNT, "INV-2").await.unwrap(),
            Some(progress)
        );
        assert_eq!(
            store.default_payer(ACCOUNT, "42").await.unwrap().as_deref(),
            Some("ORG-7")
        );
        assert!(!store.mark_event_processed(ACCOUNT, "evt_1").await.unwrap());
        drop(store);

        let connection = raw(&file.path);
        let mode: String = connection
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SqliteStore::SCHEMA_VERSION);
    }

    #[test]
    fn the_schema_version_counts_every_migration() {
        // Version 2 added the payment days, version 3 the offline ledger, version 4 the
        // unrecognised status; a new migration must raise this on purpose and come with
        // its own upgrade test.
        assert_eq!(SqliteStore::SCHEMA_VERSION, 4);
    }

    /// A database as billbridge's schema version 1 wrote it, holding one paid invoice
    /// marked paid outside Stripe and one open invoice.
    fn version_1_database(path: &PathBuf) {
        let schema = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/sqlite_schema_v1.sql"),
        )
        .unwrap();
        let connection = raw(path);
        connection.execute_batch(&schema).unwrap();
        connection.pragma_update(None, "user_version", 1).unwrap();
        let insert = "INSERT INTO invoice_mirrors (account, host_invoice_id, \
            stripe_invoice_id, stripe_customer_id, status, number, currency, subtotal, total, \
            amount_due, amount_paid, amount_remaining, starting_balance, ending_balance, \
            hosted_invoice_url, invoice_pdf, due_date, created, metadata, paid_outside_method, \
            paid_outside_reference, stripe_updated_at, payer_kind, payer_host_id, \
            patient_host_id) VALUES (?1, ?2, ?3, 'cus_P42', ?4, 'ABC-1', 'gbp', 12000, 12000, \
            12000, ?5, ?6, 0, 0, NULL, NULL, NULL, ?7, '{\"ehr_patient_id\":\"P-42\"}', ?8, ?9, \
            ?10, 'patient', 'P-42', 'P-42')";
        connection
            .execute(
                insert,
                rusqlite::params![
                    "acct_1Practice",
                    "INV-1",
                    "in_1",
                    "paid",
                    12_000,
                    0,
                    1_700_000_000,
                    "cheque",
                    "CHQ-000123",
                    1_700_000_600,
                ],
            )
            .unwrap();
        connection
            .execute(
                insert,
                rusqlite::params![
                    "",
                    "INV-2",
                    "in_2",
                    "open",
                    0,
                    12_000,
                    1_700_000_100,
                    None::<String>,
                    None::<String>,
                    1_700_000_100,
                ],
            )
            .unwrap();
        connection
            .execute(
                "INSERT INTO customer_links VALUES ('', 'patient', 'P-42', 'cus_P42', '{}')",
                [],
            )
            .unwrap();
    }

    #[tokio::test]
    async fn a_version_1_database_migrates_and_keeps_its_rows() {
        let file = TempDatabase::new("store_contract");
        version_1_database(&file.path);

        let store = SqliteStore::open(&file.path).unwrap();
        let version: i64 = raw(&file.path)
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SqliteStore::SCHEMA_VERSION);

        let paid = store
            .invoice_mirror(ACCOUNT, "INV-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(paid.status, InvoiceStatus::Paid);
        assert_eq!(paid.amount_paid, 12_000);
        assert_eq!(paid.created, 1_700_000_000);
        assert_eq!(paid.stripe_updated_at, 1_700_000_600);
        assert_eq!(paid.metadata, metadata(&[("ehr_patient_id", "P-42")]));
        assert_eq!(paid.paid_at, None);
        assert_eq!(
            paid.paid_outside,
            Some(OutsidePayment {
                method: String::from("cheque"),
                reference: Some(String::from("CHQ-000123")),
                paid_on: None,
            })
        );
        let open = store.invoice_mirror(None, "INV-2").await.unwrap().unwrap();
        assert_eq!(open.status, InvoiceStatus::Open);
        assert_eq!(open.paid_outside, None);
        assert_eq!(open.paid_at, None);
        assert_eq!(
            store
                .customer_link(None, PartyKind::Patient, "P-42")
                .await
                .unwrap()
                .map(|link| link.stripe_customer_id),
            Some(String::from("cus_P42"))
        );

        // The migrated rows take the new fields, and survive another open.
        let dated = InvoiceMirror {
            paid_at: Some(1_700_000_300),
            paid_outside: Some(OutsidePayment {
                paid_on: Some(Date::parse("2023-11-14").unwrap()),
                ..paid.paid_outside.clone().unwrap()
            }),
            ..paid
        };
        store.put_invoice_mirror(&dated).await.unwrap();
        drop(store);
        let store = SqliteStore::open(&file.path).unwrap();
        assert_eq!(
            store.invoice_mirror(ACCOUNT, "INV-1").await.unwrap(),
            Some(dated)
        );
        let all = store
            .query_invoice_mirrors(&MirrorQuery::for_account(None))
            .await
            .unwrap();
        assert_eq!(host_ids(&all), ["INV-2"]);
    }

    /// A database as schema version 2 left it: version 1's rows, the payment-day
    /// columns, and the paid invoice dated.
    fn version_2_database(path: &PathBuf) {
        version_1_database(path);
        let connection = raw(path);
        connection
            .execute_batch(
                "ALTER TABLE invoice_mirrors ADD COLUMN paid_at INTEGER;
                 ALTER TABLE invoice_mirrors ADD COLUMN paid_outside_on TEXT;
                 UPDATE invoice_mirrors SET paid_at = 1700000300, paid_outside_on = '2023-11-14'
                 WHERE host_invoice_id = 'INV-1';",
            )
            .unwrap();
        connection.pragma_update(None, "user_version", 2).unwrap();
    }

    #[tokio::test]
    async fn a_version_2_database_migrates_keeping_its_mirrors_and_gains_a_ledger() {
        use billbridge::store::LedgerStore;

        let file = TempDatabase::new("store_contract");
        version_2_database(&file.path);

        let store = SqliteStore::open(&file.path).unwrap();
        let version: i64 = raw(&file.path)
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SqliteStore::SCHEMA_VERSION);

        let paid = store
            .invoice_mirror(ACCOUNT, "INV-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(paid.status, InvoiceStatus::Paid);
        assert_eq!(paid.amount_paid, 12_000);
        assert_eq!(paid.metadata, metadata(&[("ehr_patient_id", "P-42")]));
        assert_eq!(paid.paid_at, Some(1_700_000_300));
        assert_eq!(
            paid.paid_outside.and_then(|outside| outside.paid_on),
            Some(Date::parse("2023-11-14").unwrap())
        );
        let open = store.invoice_mirror(None, "INV-2").await.unwrap().unwrap();
        assert_eq!(open.status, InvoiceStatus::Open);
        assert_eq!(open.amount_remaining, 12_000);

        // The ledger starts empty and its numbering from 1, kept across opens.
        assert!(
            store
                .ledger_invoices(None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.next_invoice_number(None).await.unwrap(), 1);
        drop(store);
        let store = SqliteStore::open(&file.path).unwrap();
        assert_eq!(store.next_invoice_number(None).await.unwrap(), 2);
        assert_eq!(
            store
                .query_invoice_mirrors(&MirrorQuery::for_account(None))
                .await
                .unwrap()
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn a_version_3_database_migrates_and_keeps_an_unrecognised_status_beside_the_known_one() {
        let file = TempDatabase::new("store_contract");
        version_2_database(&file.path);
        drop(SqliteStore::open(&file.path).unwrap());
        let connection = raw(&file.path);
        // Back to version 3 as it shipped: no unrecognised status column.
        connection
            .execute_batch("ALTER TABLE invoice_mirrors DROP COLUMN unrecognised_status;")
            .unwrap();
        connection.pragma_update(None, "user_version", 3).unwrap();
        drop(connection);

        let store = SqliteStore::open(&file.path).unwrap();
        let open = store.invoice_mirror(None, "INV-2").await.unwrap().unwrap();
        assert_eq!(open.status, InvoiceStatus::Open);
        assert_eq!(open.unrecognised_status, None);

        let held = InvoiceMirror {
            unrecognised_status: Some("payment_pending".to_owned()),
            ..open
        };
        store.put_invoice_mirror(&held).await.unwrap();
        drop(store);
        let store = SqliteStore::open(&file.path).unwrap();
        assert_eq!(
            store.invoice_mirror(None, "INV-2").await.unwrap(),
            Some(held)
        );
    }

    #[tokio::test]
    async fn two_stores_on_one_file_share_event_claims() {
        let file = TempDatabase::new("store_contract");
        let first = SqliteStore::open(&file.path).unwrap();
        let second = SqliteStore::open(&file.path).unwrap();
        assert!(first.mark_event_processed(None, "evt_1").await.unwrap());
        assert!(!second.mark_event_processed(None, "evt_1").await.unwrap());
        second
            .set_default_payer(None, "P-1", "ORG-1")
            .await
            .unwrap();
        assert_eq!(
            first.default_payer(None, "P-1").await.unwrap().as_deref(),
            Some("ORG-1")
        );
    }

    #[test]
    fn a_database_from_a_newer_version_is_refused() {
        let file = TempDatabase::new("store_contract");
        drop(SqliteStore::open(&file.path).unwrap());
        let future = SqliteStore::SCHEMA_VERSION + 1;
        raw(&file.path)
            .pragma_update(None, "user_version", future)
            .unwrap();

        let error = SqliteStore::open(&file.path).unwrap_err();
        assert_eq!(error.code(), "store_schema_too_new");
        assert!(
            matches!(
                error,
                StoreError::SchemaTooNew { found, supported }
                    if found == future && supported == SqliteStore::SCHEMA_VERSION
            ),
            "{error:?}"
        );
        // Refusing leaves the file as it was.
        let version: i64 = raw(&file.path)
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, future);
    }

    #[tokio::test]
    async fn an_unreadable_row_is_reported_as_corrupt_without_its_values() {
        let file = TempDatabase::new("store_contract");
        {
            let store = SqliteStore::open(&file.path).unwrap();
            store
                .put_invoice_mirror(&mirror(None, "INV-1", 100))
                .await
                .unwrap();
            store
                .put_customer_link(&customer(None, PartyKind::Patient, "42", "cus_1"))
                .await
                .unwrap();
        }
        let connection = raw(&file.path);
        connection
            .execute(
                "UPDATE invoice_mirrors SET metadata = '{\"ehr_patient_id\": \"P-42\"'",
                [],
            )
            .unwrap();
        connection
            .execute("UPDATE customer_links SET party_kind = 'robot'", [])
            .unwrap();
        drop(connection);

        let store = SqliteStore::open(&file.path).unwrap();
        let error = store.invoice_mirror(None, "INV-1").await.unwrap_err();
        assert_eq!(error.code(), "store_corrupt");
        let message = error.to_string();
        assert!(
            message.contains("metadata") && message.contains("INV-1"),
            "{message}"
        );
        assert!(!message.contains("P-42"), "{message}");
        let error = store
            .query_invoice_mirrors(&MirrorQuery::for_account(None))
            .await
            .unwrap_err();
        assert_eq!(error.code(), "store_corrupt");

        let error = store
            .customer_link_by_stripe_id(None, "cus_1")
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                StoreError::Corrupt {
                    table: "customer_links",
                    field: "party_kind",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}

//! What only the PostgreSQL store promises, on a real server (see `postgres_support`):
//! migrations that run once when many processes start together, a newer schema refused
//! untouched, records that outlive the connection, claims held as leases that a dead
//! worker cannot keep, unreadable rows reported without their values, settings it
//! cannot use refused, and a password that never shows.
#![cfg(feature = "postgres")]
// Helpers outside #[test] functions unwrap too, which clippy's allow-unwrap-in-tests
// does not cover; a panic there is a failed test, as intended.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postgres_support;

use std::time::Duration;

use billbridge::domain::status::InvoiceStatus;
use billbridge::store::{
    CustomerLink, InvoiceMirror, MetadataMap, MirrorQuery, PartyKind, PostgresStore, StoreError,
    SyncStore,
};
use postgres_support::{TempSchema, database_url};

const ACCOUNT: Option<&str> = Some("acct_1Practice");

fn link(host: &str, stripe: &str) -> CustomerLink {
    CustomerLink {
        account: ACCOUNT.map(str::to_owned),
        party_kind: PartyKind::Patient,
        host_party_id: host.to_owned(),
        stripe_customer_id: stripe.to_owned(),
        metadata_sent: MetadataMap::from([("postcode".to_owned(), "LS1 4AP".to_owned())]),
    }
}

fn mirror(host: &str) -> InvoiceMirror {
    InvoiceMirror {
        account: ACCOUNT.map(str::to_owned),
        host_invoice_id: host.to_owned(),
        stripe_invoice_id: format!("in_{host}"),
        stripe_customer_id: String::from("cus_1"),
        status: InvoiceStatus::Open,
        unrecognised_status: None,
        number: Some(String::from("ABC-0001")),
        currency: String::from("gbp"),
        subtotal: 5_000,
        total: 5_000,
        amount_due: 5_000,
        amount_paid: 0,
        amount_remaining: 5_000,
        starting_balance: 0,
        ending_balance: Some(0),
        hosted_invoice_url: None,
        invoice_pdf: None,
        due_date: None,
        created: 1_700_000_000,
        metadata: MetadataMap::from([("ehr_patient_id".to_owned(), "P-42".to_owned())]),
        paid_at: None,
        paid_outside: None,
        stripe_updated_at: 1_700_000_000,
        payer_kind: PartyKind::Patient,
        payer_host_id: String::from("P-42"),
        patient_host_id: Some(String::from("P-42")),
    }
}

/// The first cell of every row a simple query returned.
fn cells(messages: Vec<tokio_postgres::SimpleQueryMessage>) -> Vec<String> {
    messages
        .into_iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_run_once_when_many_processes_start_together() {
    let schema = TempSchema::new("migrate");
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let name = schema.name.clone();
            tokio::spawn(async move {
                PostgresStore::builder(database_url())
                    .schema(name)
                    .max_connections(2)
                    .connect()
                    .await
            })
        })
        .collect();
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.unwrap().unwrap());
    }
    for store in &stores {
        assert_eq!(
            store.schema_version().await.unwrap(),
            PostgresStore::SCHEMA_VERSION
        );
    }
    let versions = cells(
        schema
            .sql("SELECT version::text FROM schema_migrations ORDER BY version")
            .await,
    );
    let expected: Vec<String> = (1..=PostgresStore::SCHEMA_VERSION)
        .map(|version| version.to_string())
        .collect();
    assert_eq!(versions, expected, "each migration applied exactly once");

    // Every store sees the others' writes: they are processes sharing one database.
    stores[0]
        .put_customer_link(&link("42", "cus_42"))
        .await
        .unwrap();
    assert_eq!(
        stores[7]
            .customer_link(ACCOUNT, PartyKind::Patient, "42")
            .await
            .unwrap(),
        Some(link("42", "cus_42"))
    );
    assert!(stores[3].mark_event_processed(None, "evt_1").await.unwrap());
    assert!(!stores[5].mark_event_processed(None, "evt_1").await.unwrap());
}

#[tokio::test]
async fn the_schema_version_counts_every_migration() {
    // A new migration must raise this on purpose and come with its own upgrade test.
    assert_eq!(PostgresStore::SCHEMA_VERSION, 1);
}

#[tokio::test]
async fn a_schema_from_a_newer_version_is_refused_untouched() {
    let schema = TempSchema::new("newer");
    drop(schema.store().await);
    let future = PostgresStore::SCHEMA_VERSION + 1;
    schema
        .sql(&format!(
            "INSERT INTO schema_migrations (version) VALUES ({future})"
        ))
        .await;

    let error = PostgresStore::builder(database_url())
        .schema(schema.name.clone())
        .connect()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "store_schema_too_new");
    assert!(
        matches!(
            error,
            StoreError::SchemaTooNew { found, supported }
                if found == future && supported == PostgresStore::SCHEMA_VERSION
        ),
        "{error:?}"
    );
    let rows = cells(
        schema
            .sql("SELECT count(*)::text FROM schema_migrations")
            .await,
    );
    assert_eq!(rows, [(PostgresStore::SCHEMA_VERSION + 1).to_string()]);
}

#[tokio::test]
async fn records_outlive_the_store_that_wrote_them() {
    let schema = TempSchema::new("restart");
    {
        let store = schema.store().await;
        store
            .put_customer_link(&link("42", "cus_42"))
            .await
            .unwrap();
        store.put_invoice_mirror(&mirror("INV-1")).await.unwrap();
        assert!(store.mark_event_processed(ACCOUNT, "evt_1").await.unwrap());
        store.complete_event(ACCOUNT, "evt_1").await.unwrap();
    }
    let store = schema.store().await;
    assert_eq!(
        store
            .customer_link_by_stripe_id(ACCOUNT, "cus_42")
            .await
            .unwrap(),
        Some(link("42", "cus_42"))
    );
    assert_eq!(
        store.invoice_mirror(ACCOUNT, "INV-1").await.unwrap(),
        Some(mirror("INV-1"))
    );
    assert!(!store.mark_event_processed(ACCOUNT, "evt_1").await.unwrap());
    // The tables live in the store's own schema, never in the host's.
    let tables = cells(
        schema
            .sql(&format!(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = '{}' AND table_name = 'invoice_mirrors'",
                schema.name
            ))
            .await,
    );
    assert_eq!(tables, ["invoice_mirrors"]);
}

#[tokio::test]
async fn a_claim_nobody_completes_is_claimed_again_after_its_lease() {
    let schema = TempSchema::new("lease");
    drop(schema.store().await);
    let store = PostgresStore::builder(database_url())
        .schema(schema.name.clone())
        .event_lease(Duration::from_millis(800))
        .max_connections(16)
        .connect()
        .await
        .unwrap();
    // Every connection open first, so that the race below is not spread over the time
    // it takes to open them (longer than a lease this short).
    let warm: Vec<_> = (0..16)
        .map(|index| {
            let store = store.clone();
            tokio::spawn(async move { store.forget_event(None, &format!("evt_{index}")).await })
        })
        .collect();
    for task in warm {
        task.await.unwrap().unwrap();
    }
    // A worker claims evt_dead and is killed before applying it.
    assert!(store.mark_event_processed(None, "evt_dead").await.unwrap());
    assert!(store.mark_event_processed(None, "evt_done").await.unwrap());
    store.complete_event(None, "evt_done").await.unwrap();
    // While the lease runs, a redelivery is a duplicate.
    assert!(!store.mark_event_processed(None, "evt_dead").await.unwrap());
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // Then exactly one of racing redeliveries takes it over; a completed claim stays.
    let racing: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.mark_event_processed(None, "evt_dead").await })
        })
        .collect();
    let mut winners = 0;
    for task in racing {
        winners += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(winners, 1);
    assert!(!store.mark_event_processed(None, "evt_done").await.unwrap());
    store.complete_event(None, "evt_dead").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(!store.mark_event_processed(None, "evt_dead").await.unwrap());
}

#[tokio::test]
async fn an_unreadable_row_is_reported_as_corrupt_without_its_values() {
    let schema = TempSchema::new("corrupt");
    let store = schema.store().await;
    store.put_invoice_mirror(&mirror("INV-1")).await.unwrap();
    schema
        .sql("UPDATE invoice_mirrors SET metadata = '[\"P-42\"]'")
        .await;
    let error = store.invoice_mirror(ACCOUNT, "INV-1").await.unwrap_err();
    assert_eq!(error.code(), "store_corrupt");
    let message = error.to_string();
    assert!(
        message.contains("metadata") && message.contains("INV-1"),
        "{message}"
    );
    assert!(!message.contains("P-42"), "{message}");
    let error = store
        .query_invoice_mirrors(&MirrorQuery::for_account(ACCOUNT))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "store_corrupt");
}

#[tokio::test]
async fn the_password_never_shows() {
    let url = database_url();
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password.to_owned())
        .unwrap();
    assert!(password.len() >= 8);

    let schema = TempSchema::new("secret");
    let store = schema.store().await;
    let shown = format!("{store:?}");
    assert!(
        !shown.contains(&password) && shown.contains("***"),
        "{shown}"
    );
    let builder = PostgresStore::builder(url.clone());
    assert!(!format!("{builder:?}").contains(&password));

    // A wrong password: the server refuses, and nothing shows either one.
    let wrong = url.replace(&password, "not-the-password-0000");
    let error = PostgresStore::builder(wrong)
        .schema(schema.name.clone())
        .connect()
        .await
        .unwrap_err();
    assert_eq!(error.code(), "store_backend");
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        source_chain(&error),
    ] {
        assert!(
            !shown.contains("not-the-password") && !shown.contains(&password),
            "{shown}"
        );
    }

    // A URL that cannot be read is refused without echoing it.
    let garbled = format!("postgres://billbridge:{password}@127.0.0.1:notaport/billbridge");
    let error = PostgresStore::connect(&garbled).await.unwrap_err();
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        source_chain(&error),
    ] {
        assert!(!shown.contains(&password), "{shown}");
    }
    assert!(source_chain(&error).contains("could not be read"));
}

fn source_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(" <- ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

#[tokio::test]
async fn settings_it_cannot_use_are_refused_before_connecting() {
    for builder in [
        PostgresStore::builder(database_url()).schema("Robert'); DROP TABLE x;--"),
        PostgresStore::builder(database_url()).schema("pg_catalog"),
        PostgresStore::builder(database_url()).max_connections(0),
        PostgresStore::builder(database_url()).event_lease(Duration::ZERO),
        PostgresStore::builder("postgres://billbridge@127.0.0.1:1/billbridge?sslmode=require"),
    ] {
        let error = builder.connect().await.unwrap_err();
        assert_eq!(error.code(), "store_backend", "{error}");
        assert!(
            matches!(
                &error,
                StoreError::Backend {
                    operation: "connect",
                    ..
                }
            ),
            "{error:?}"
        );
    }
}

//! [`PostgresStore`]: the [`SyncStore`] and the offline [`LedgerStore`] in PostgreSQL, for
//! a host that runs many web and worker processes, serves many practices from one
//! deployment, and already keeps its records in PostgreSQL.
//!
//! # Which guarantee rests on which database mechanism
//!
//! | guarantee | mechanism |
//! |---|---|
//! | a Stripe id maps to one host record per account ([`StoreError::Conflict`]) | `UNIQUE (account, stripe_…_id)` constraints; a violation (`23505`) becomes `Conflict` |
//! | a host record has one link, mirror, checkpoint, payer | primary keys on `(account, host id)`; writes are `INSERT … ON CONFLICT … DO UPDATE` |
//! | a webhook event is claimed by one worker ([`SyncStore::mark_event_processed`]) | one `INSERT … ON CONFLICT DO UPDATE … WHERE <lease expired and not completed> RETURNING`: the primary key lets one insert win; the conflicting row's lock serialises re-claims |
//! | a claim outlives no crashed worker | the claim is a lease (`lease_until`) ended by [`SyncStore::complete_event`]; a worker killed in between leaves it to expire, and the next delivery claims it again |
//! | a mirror's compare-and-set ([`SyncStore::swap_invoice_mirror`]) | a transaction holding the row lock of `SELECT … FOR UPDATE` across the comparison and the write; a first insert races through `ON CONFLICT DO NOTHING` |
//! | the ledger's compare-and-set ([`LedgerStore::swap_ledger_invoice`]) | one `UPDATE … WHERE revision = $expected` (row lock), or `INSERT … ON CONFLICT DO NOTHING` for a new record |
//! | invoice numbers are never handed out twice ([`LedgerStore::next_invoice_number`]) | one `INSERT … ON CONFLICT DO UPDATE SET last_number = last_number + 1 RETURNING` |
//! | migrations run once, in order, even when every process starts at once | one transaction per start holding `pg_advisory_xact_lock` on the schema's name; DDL is transactional, so a failed migration leaves nothing half-applied |
//! | practices sharing the database never see each other's rows | `account` is the first column of every key, and every statement names it |
//!
//! Raising an invoice needs no lock of its own: every Stripe write carries a key derived
//! from (account, host id, operation, revision), so workers racing on one draft send the
//! same requests and Stripe applies them once; the checkpoint and the links they write
//! name the same Stripe objects.
//!
//! # Client and pool
//!
//! `tokio-postgres` is the maintained pure-Rust async client (no libpq to link), and
//! `deadpool-postgres` its small pool: a bounded set of connections, each checked out for
//! one statement or one transaction, a wait timeout instead of an unbounded queue, and
//! per-connection prepared-statement caches. Both are tokio-based (the connection tasks
//! are spawned on the runtime that calls the store), which is what every binding already
//! runs. sqlx would bring a macro and migration toolkit billbridge does not need, and
//! diesel a synchronous ORM; bb8 is an equally good pool with a larger API.
//!
//! # Connection settings
//!
//! From a URL (`postgres://user:password@host:port/database?application_name=…`) or a
//! key=value string, as libpq reads them, plus [`PostgresStoreBuilder`] options: the
//! schema (default `billbridge`, so the tables never meet the host's own), the pool size,
//! the wait timeout and the event lease. The password is never shown: `Debug` and every
//! error carry the URL with its password replaced. TLS is not built in: connect over a
//! loopback address, a Unix socket (`host=/var/run/postgresql`) or a private network.
//!
//! # Schema
//!
//! Versioned by the table `schema_migrations` (one row per migration applied) and
//! upgraded by ordered, append-only migrations; a schema written by a newer billbridge is
//! refused before anything is written. The platform account is stored as `''`. Host ids
//! that reports page through are `COLLATE "C"`, so the order is the same byte order as
//! the other stores'. Metadata maps and checkpoint lines are `jsonb` (metadata queries
//! use containment, served by a GIN index).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::{
    AddedLine, CustomerLink, InvoiceLink, InvoiceMirror, LedgerRecord, LedgerStore, MetadataMap,
    MirrorQuery, OutsidePayment, PartyKind, RaiseCheckpoint, StoreError, SyncStore, account_field,
    account_key,
};
use crate::domain::date::Date;
use crate::domain::status::InvoiceStatus;

/// The ordered schema migrations; migration `n` (1-based) brings the schema to version
/// `n`. Append only: a shipped migration never changes.
const MIGRATIONS: &[&str] = &[
    // 1: the sync store and the offline books, as the SQLite store's version 4 holds them.
    r#"
    CREATE TABLE customer_links (
        account            text NOT NULL,
        party_kind         text NOT NULL CHECK (party_kind IN ('patient', 'organisation')),
        host_party_id      text NOT NULL,
        stripe_customer_id text NOT NULL,
        metadata_sent      jsonb NOT NULL,
        PRIMARY KEY (account, party_kind, host_party_id),
        UNIQUE (account, stripe_customer_id)
    );

    CREATE TABLE invoice_links (
        account           text NOT NULL,
        host_invoice_id   text NOT NULL,
        stripe_invoice_id text NOT NULL,
        PRIMARY KEY (account, host_invoice_id),
        UNIQUE (account, stripe_invoice_id)
    );

    CREATE TABLE default_payers (
        account              text NOT NULL,
        patient_host_id      text NOT NULL,
        organisation_host_id text NOT NULL,
        PRIMARY KEY (account, patient_host_id)
    );

    -- A claim is a lease until completed: lease_until is NULL once the event is applied.
    -- claimed_at lets an operator prune events older than Stripe's retry window.
    CREATE TABLE processed_events (
        account      text NOT NULL,
        event_id     text NOT NULL,
        claimed_at   timestamptz NOT NULL,
        lease_until  timestamptz,
        completed_at timestamptz,
        PRIMARY KEY (account, event_id)
    );

    CREATE TABLE invoice_mirrors (
        account                text NOT NULL,
        host_invoice_id        text COLLATE "C" NOT NULL,
        stripe_invoice_id      text NOT NULL,
        stripe_customer_id     text NOT NULL,
        status                 text NOT NULL,
        unrecognised_status    text,
        number                 text,
        currency               text NOT NULL,
        subtotal               bigint NOT NULL,
        total                  bigint NOT NULL,
        amount_due             bigint NOT NULL,
        amount_paid            bigint NOT NULL,
        amount_remaining       bigint NOT NULL,
        starting_balance       bigint NOT NULL,
        ending_balance         bigint,
        hosted_invoice_url     text,
        invoice_pdf            text,
        due_date               bigint,
        created                bigint NOT NULL,
        metadata               jsonb NOT NULL,
        paid_at                bigint,
        paid_outside_method    text,
        paid_outside_reference text,
        paid_outside_on        date,
        stripe_updated_at      bigint NOT NULL,
        payer_kind             text NOT NULL CHECK (payer_kind IN ('patient', 'organisation')),
        payer_host_id          text NOT NULL,
        patient_host_id        text,
        PRIMARY KEY (account, host_invoice_id),
        UNIQUE (account, stripe_invoice_id)
    );
    CREATE INDEX invoice_mirrors_by_created
        ON invoice_mirrors (account, created, host_invoice_id);
    CREATE INDEX invoice_mirrors_by_status
        ON invoice_mirrors (account, status, created, host_invoice_id);
    CREATE INDEX invoice_mirrors_by_payer
        ON invoice_mirrors (account, payer_host_id, created, host_invoice_id);
    CREATE INDEX invoice_mirrors_by_update
        ON invoice_mirrors (account, stripe_updated_at);
    CREATE INDEX invoice_mirrors_by_metadata
        ON invoice_mirrors USING gin (metadata jsonb_path_ops);

    CREATE TABLE raise_checkpoints (
        account           text NOT NULL,
        host_invoice_id   text NOT NULL,
        draft_revision    bigint NOT NULL,
        stripe_invoice_id text,
        lines_added       jsonb NOT NULL,
        finalized         boolean NOT NULL,
        sent              boolean NOT NULL,
        PRIMARY KEY (account, host_invoice_id)
    );

    -- The record is the ledger's own JSON; its revision is a column too, so the
    -- compare-and-set reads it without decoding the record.
    CREATE TABLE ledger_invoices (
        account         text NOT NULL,
        host_invoice_id text COLLATE "C" NOT NULL,
        revision        bigint NOT NULL,
        record          jsonb NOT NULL,
        PRIMARY KEY (account, host_invoice_id)
    );

    CREATE TABLE ledger_invoice_numbers (
        account     text NOT NULL PRIMARY KEY,
        last_number bigint NOT NULL
    );
    "#,
];

/// The schema the tables live in unless the builder names another.
pub const DEFAULT_SCHEMA: &str = "billbridge";

/// How long a webhook claim is held for a worker that has not confirmed it: longer than
/// any handler takes, far shorter than Stripe's first retry of an unanswered delivery.
const DEFAULT_EVENT_LEASE: Duration = Duration::from_secs(120);

/// How long a call waits for a free connection before failing.
const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long opening one connection may take.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections per store: enough for a worker's concurrent workflows, few enough that
/// dozens of processes stay within PostgreSQL's default of 100 connections.
const DEFAULT_MAX_CONNECTIONS: usize = 8;

const MIRROR_COLUMNS: &str = "account, host_invoice_id, stripe_invoice_id, stripe_customer_id, \
    status, unrecognised_status, number, currency, subtotal, total, amount_due, amount_paid, \
    amount_remaining, starting_balance, ending_balance, hosted_invoice_url, invoice_pdf, \
    due_date, created, metadata, paid_at, paid_outside_method, paid_outside_reference, \
    paid_outside_on, stripe_updated_at, payer_kind, payer_host_id, patient_host_id";

/// The columns as read back: the payment day as text (`YYYY-MM-DD`), so no date library
/// is needed on this side.
const MIRROR_SELECT: &str = "account, host_invoice_id, stripe_invoice_id, stripe_customer_id, \
    status, unrecognised_status, number, currency, subtotal, total, amount_due, amount_paid, \
    amount_remaining, starting_balance, ending_balance, hosted_invoice_url, invoice_pdf, \
    due_date, created, metadata, paid_at, paid_outside_method, paid_outside_reference, \
    paid_outside_on::text AS paid_outside_on, stripe_updated_at, payer_kind, payer_host_id, \
    patient_host_id";

/// A configuration the store cannot use. Never echoes the URL's text: a password in it
/// must not reach a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresConfigError {
    /// The connection URL or key=value string could not be read.
    #[error(
        "the PostgreSQL connection URL could not be read; expected postgres://user:password@host:port/database"
    )]
    InvalidUrl,
    /// The schema name is not a plain lowercase identifier.
    #[error(
        "the PostgreSQL schema name {schema:?} must be 1 to 63 lowercase letters, digits or underscores, not starting with a digit"
    )]
    InvalidSchema {
        /// The name given.
        schema: String,
    },
    /// A pool of no connections, or a zero timeout or lease.
    #[error("{setting} must be greater than zero")]
    Zero {
        /// Which setting.
        setting: &'static str,
    },
    /// The URL asks for TLS, which this store does not include.
    #[error(
        "the PostgreSQL URL asks for TLS (sslmode=require), which this store does not include: connect over loopback, a Unix socket or a private network"
    )]
    TlsUnsupported,
}

/// Configures a [`PostgresStore`]. Start with [`PostgresStore::builder`].
pub struct PostgresStoreBuilder {
    url: String,
    schema: String,
    max_connections: usize,
    wait_timeout: Duration,
    event_lease: Duration,
}

impl fmt::Debug for PostgresStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out unnoticed.
        let PostgresStoreBuilder {
            url,
            schema,
            max_connections,
            wait_timeout,
            event_lease,
        } = self;
        f.debug_struct("PostgresStoreBuilder")
            .field("url", &redact_url(url))
            .field("schema", schema)
            .field("max_connections", max_connections)
            .field("wait_timeout", wait_timeout)
            .field("event_lease", event_lease)
            .finish()
    }
}

impl PostgresStoreBuilder {
    /// The schema holding billbridge's tables (default `billbridge`), created if missing.
    /// Several deployments, or test runs, can share one database in schemas of their own.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The most connections this store opens (default 8).
    #[must_use]
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// How long a call waits for a free connection before failing (default 30 s).
    #[must_use]
    pub fn wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// How long a webhook claim that was never confirmed blocks redeliveries of its
    /// event (default 120 s): the time after which a worker that died while handling
    /// it is presumed dead. Keep it longer than any handler takes.
    #[must_use]
    pub fn event_lease(mut self, lease: Duration) -> Self {
        self.event_lease = lease;
        self
    }

    /// Connects, creates the schema if needed and brings it up to date. Safe to run from
    /// many processes at once: migrations take a lock and run once.
    ///
    /// Needs a tokio runtime: the connections' tasks are spawned on it, and the store
    /// must be used while it runs.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] with a [`PostgresConfigError`] for settings it cannot use,
    /// or the database's error when it cannot connect or migrate;
    /// [`StoreError::SchemaTooNew`] when the schema was written by a newer billbridge.
    pub async fn connect(self) -> Result<PostgresStore, StoreError> {
        const OPERATION: &str = "connect";
        let config_error = |error: PostgresConfigError| StoreError::backend(OPERATION, error);
        if !valid_schema(&self.schema) {
            return Err(config_error(PostgresConfigError::InvalidSchema {
                schema: self.schema,
            }));
        }
        if self.max_connections == 0 {
            return Err(config_error(PostgresConfigError::Zero {
                setting: "max_connections",
            }));
        }
        if self.wait_timeout.is_zero() {
            return Err(config_error(PostgresConfigError::Zero {
                setting: "wait_timeout",
            }));
        }
        if self.event_lease.is_zero() {
            return Err(config_error(PostgresConfigError::Zero {
                setting: "event_lease",
            }));
        }
        let mut config: tokio_postgres::Config = self
            .url
            .parse()
            // The parser's message can quote a character of the URL: keep it out.
            .map_err(|_| config_error(PostgresConfigError::InvalidUrl))?;
        if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
            return Err(config_error(PostgresConfigError::TlsUnsupported));
        }
        // Every statement names its tables unqualified: the schema comes from the
        // session, so one store never reads another schema's rows.
        let search_path = format!("-c search_path={}", self.schema);
        let options = match config.get_options() {
            Some(existing) if !existing.trim().is_empty() => format!("{existing} {search_path}"),
            _ => search_path,
        };
        config.options(options);
        if config.get_application_name().is_none() {
            config.application_name("billbridge");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A broken connection shows on its next statement, which fails as a
                // backend error the caller retries; no round trip on every checkout.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(self.wait_timeout))
            .create_timeout(Some(DEFAULT_CONNECT_TIMEOUT))
            .build()
            .map_err(|error| StoreError::backend(OPERATION, error))?;
        let store = PostgresStore {
            inner: Arc::new(Inner {
                pool,
                schema: self.schema,
                target: redact_url(&self.url),
                event_lease: self.event_lease,
            }),
        };
        store.migrate().await?;
        Ok(store)
    }
}

struct Inner {
    pool: Pool,
    schema: String,
    /// The URL with its password replaced, for `Debug`.
    target: String,
    event_lease: Duration,
}

/// A [`SyncStore`] and [`LedgerStore`] in PostgreSQL, shared by every process and every
/// practice of a deployment. See the module documentation for which guarantee rests on
/// which database mechanism.
///
/// Cheap to clone: clones share one pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), billbridge::store::StoreError> {
/// use billbridge::store::PostgresStore;
///
/// let store = PostgresStore::builder("postgres://billing:secret@127.0.0.1:5432/ehr")
///     .schema("billbridge")
///     .max_connections(8)
///     .connect()
///     .await?;
/// assert!(!format!("{store:?}").contains("secret"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.inner.target)
            .field("schema", &self.inner.schema)
            .finish_non_exhaustive()
    }
}

/// `url` with any password replaced by `***`: the `user:password@` of a URL and the
/// `password=` of a key=value string or a URL's query.
pub(crate) fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?'])
            .map_or(out.len(), |end| authority_start + end);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo_end = authority_start + at;
            if let Some(colon) = out[authority_start..userinfo_end].find(':') {
                out.replace_range(authority_start + colon + 1..userinfo_end, "***");
            }
        }
    }
    // `password=…` up to the next separator, in a query string or key=value form.
    let mut redacted = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(found) = rest.find("password=") {
        let value_start = found + "password=".len();
        let preceded_ok = found == 0
            || rest[..found]
                .chars()
                .next_back()
                .is_some_and(|c| matches!(c, '?' | '&' | ' '));
        redacted.push_str(&rest[..value_start]);
        rest = &rest[value_start..];
        if preceded_ok {
            let value_end = if let Some(quoted) = rest.strip_prefix('\'') {
                quoted.find('\'').map_or(rest.len(), |end| end + 2)
            } else {
                rest.find(['&', ' ']).unwrap_or(rest.len())
            };
            redacted.push_str("***");
            rest = &rest[value_end..];
        }
    }
    redacted.push_str(rest);
    redacted
}

fn valid_schema(schema: &str) -> bool {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    first_ok
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with("pg_")
}

fn backend(operation: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |error| StoreError::backend(operation, error)
}

fn pool_backend(
    operation: &'static str,
) -> impl FnOnce(deadpool_postgres::PoolError) -> StoreError {
    move |error| StoreError::backend(operation, error)
}

/// Maps a failed write, turning a broken uniqueness of a Stripe id into
/// [`StoreError::Conflict`].
fn write_error(
    operation: &'static str,
    table: &'static str,
    stripe_id: &str,
) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |error| {
        if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            StoreError::Conflict {
                table,
                stripe_id: stripe_id.to_owned(),
            }
        } else {
            StoreError::backend(operation, error)
        }
    }
}

fn json_value<T: serde::Serialize>(
    operation: &'static str,
    value: &T,
) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|error| StoreError::backend(operation, error))
}

/// Reads the columns of one row, reporting an unreadable column as
/// [`StoreError::Corrupt`] with the row's key.
struct RowReader<'a> {
    row: &'a Row,
    table: &'static str,
    key: String,
}

impl<'a> RowReader<'a> {
    fn new(row: &'a Row, table: &'static str, key_column: &'static str) -> Self {
        let key = row
            .try_get::<_, String>(key_column)
            .unwrap_or_else(|_| String::from("?"));
        RowReader { row, table, key }
    }

    fn get<T: for<'r> tokio_postgres::types::FromSql<'r>>(
        &self,
        field: &'static str,
    ) -> Result<T, StoreError> {
        self.row
            .try_get(field)
            .map_err(|error| self.corrupt(field, Some(Box::new(error))))
    }

    fn json<T: serde::de::DeserializeOwned>(&self, field: &'static str) -> Result<T, StoreError> {
        let value: serde_json::Value = self.get(field)?;
        serde_json::from_value(value).map_err(|error| self.corrupt(field, Some(Box::new(error))))
    }

    fn party_kind(&self, field: &'static str) -> Result<PartyKind, StoreError> {
        let name: String = self.get(field)?;
        name.parse::<PartyKind>()
            .map_err(|_| self.corrupt(field, None))
    }

    fn account(&self) -> Result<Option<String>, StoreError> {
        Ok(account_field(&self.get::<String>("account")?))
    }

    fn corrupt(&self, field: &'static str, source: Option<super::BackendError>) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            field,
            key: self.key.clone(),
            source,
        }
    }
}

fn read_customer(row: &Row) -> Result<CustomerLink, StoreError> {
    let reader = RowReader::new(row, "customer_links", "host_party_id");
    Ok(CustomerLink {
        account: reader.account()?,
        party_kind: reader.party_kind("party_kind")?,
        host_party_id: reader.get("host_party_id")?,
        stripe_customer_id: reader.get("stripe_customer_id")?,
        metadata_sent: reader.json::<MetadataMap>("metadata_sent")?,
    })
}

fn read_invoice_link(row: &Row) -> Result<InvoiceLink, StoreError> {
    let reader = RowReader::new(row, "invoice_links", "host_invoice_id");
    Ok(InvoiceLink {
        account: reader.account()?,
        host_invoice_id: reader.get("host_invoice_id")?,
        stripe_invoice_id: reader.get("stripe_invoice_id")?,
    })
}

fn read_mirror(row: &Row) -> Result<InvoiceMirror, StoreError> {
    let reader = RowReader::new(row, "invoice_mirrors", "host_invoice_id");
    let method: Option<String> = reader.get("paid_outside_method")?;
    let reference: Option<String> = reader.get("paid_outside_reference")?;
    let paid_on = match reader.get::<Option<String>>("paid_outside_on")? {
        Some(text) => Some(
            Date::parse(&text)
                .map_err(|error| reader.corrupt("paid_outside_on", Some(Box::new(error))))?,
        ),
        None => None,
    };
    let paid_outside = match (method, reference, paid_on) {
        (Some(method), reference, paid_on) => Some(OutsidePayment {
            method,
            reference,
            paid_on,
        }),
        (None, None, None) => None,
        (None, Some(_), _) | (None, None, Some(_)) => {
            return Err(reader.corrupt("paid_outside_method", None));
        }
    };
    Ok(InvoiceMirror {
        account: reader.account()?,
        host_invoice_id: reader.get("host_invoice_id")?,
        stripe_invoice_id: reader.get("stripe_invoice_id")?,
        stripe_customer_id: reader.get("stripe_customer_id")?,
        status: InvoiceStatus::from(reader.get::<String>("status")?),
        unrecognised_status: reader.get("unrecognised_status")?,
        number: reader.get("number")?,
        currency: reader.get("currency")?,
        subtotal: reader.get("subtotal")?,
        total: reader.get("total")?,
        amount_due: reader.get("amount_due")?,
        amount_paid: reader.get("amount_paid")?,
        amount_remaining: reader.get("amount_remaining")?,
        starting_balance: reader.get("starting_balance")?,
        ending_balance: reader.get("ending_balance")?,
        hosted_invoice_url: reader.get("hosted_invoice_url")?,
        invoice_pdf: reader.get("invoice_pdf")?,
        due_date: reader.get("due_date")?,
        created: reader.get("created")?,
        metadata: reader.json::<MetadataMap>("metadata")?,
        paid_at: reader.get("paid_at")?,
        paid_outside,
        stripe_updated_at: reader.get("stripe_updated_at")?,
        payer_kind: reader.party_kind("payer_kind")?,
        payer_host_id: reader.get("payer_host_id")?,
        patient_host_id: reader.get("patient_host_id")?,
    })
}

fn read_checkpoint(row: &Row) -> Result<RaiseCheckpoint, StoreError> {
    let reader = RowReader::new(row, "raise_checkpoints", "host_invoice_id");
    let revision: i64 = reader.get("draft_revision")?;
    Ok(RaiseCheckpoint {
        account: reader.account()?,
        host_invoice_id: reader.get("host_invoice_id")?,
        // Stored by reinterpreting the bits (bigint is signed), so every u64 round-trips.
        draft_revision: revision as u64,
        stripe_invoice_id: reader.get("stripe_invoice_id")?,
        lines_added: reader.json::<Vec<AddedLine>>("lines_added")?,
        finalized: reader.get("finalized")?,
        sent: reader.get("sent")?,
    })
}

fn read_ledger_record(row: &Row) -> Result<LedgerRecord, StoreError> {
    let reader = RowReader::new(row, "ledger_invoices", "host_invoice_id");
    let revision: i64 = reader.get("revision")?;
    let record = reader.json::<LedgerRecord>("record")?;
    if record.host_invoice_id() != reader.key {
        return Err(reader.corrupt("record", None));
    }
    Ok(LedgerRecord {
        // The key columns are authoritative, as the compare-and-set reads them.
        account: reader.account()?,
        // Stored by reinterpreting the bits, so every u64 round-trips.
        revision: revision as u64,
        ..record
    })
}

/// The mirror's columns as statement parameters, in [`MIRROR_COLUMNS`] order.
struct MirrorParams {
    account: String,
    status: String,
    metadata: serde_json::Value,
    paid_on: Option<String>,
    method: Option<String>,
    reference: Option<String>,
    payer_kind: &'static str,
}

impl MirrorParams {
    fn new(operation: &'static str, mirror: &InvoiceMirror) -> Result<Self, StoreError> {
        Ok(MirrorParams {
            account: account_key(mirror.account.as_deref()).to_owned(),
            status: mirror.status.as_str().to_owned(),
            metadata: json_value(operation, &mirror.metadata)?,
            paid_on: mirror
                .paid_outside
                .as_ref()
                .and_then(|paid| paid.paid_on)
                .map(|day| day.to_string()),
            method: mirror.paid_outside.as_ref().map(|paid| paid.method.clone()),
            reference: mirror
                .paid_outside
                .as_ref()
                .and_then(|paid| paid.reference.clone()),
            payer_kind: mirror.payer_kind.as_str(),
        })
    }

    fn values<'a>(&'a self, mirror: &'a InvoiceMirror) -> [&'a (dyn ToSql + Sync); 28] {
        [
            &self.account,
            &mirror.host_invoice_id,
            &mirror.stripe_invoice_id,
            &mirror.stripe_customer_id,
            &self.status,
            &mirror.unrecognised_status,
            &mirror.number,
            &mirror.currency,
            &mirror.subtotal,
            &mirror.total,
            &mirror.amount_due,
            &mirror.amount_paid,
            &mirror.amount_remaining,
            &mirror.starting_balance,
            &mirror.ending_balance,
            &mirror.hosted_invoice_url,
            &mirror.invoice_pdf,
            &mirror.due_date,
            &mirror.created,
            &self.metadata,
            &mirror.paid_at,
            &self.method,
            &self.reference,
            &self.paid_on,
            &mirror.stripe_updated_at,
            &self.payer_kind,
            &mirror.payer_host_id,
            &mirror.patient_host_id,
        ]
    }
}

/// `INSERT` of every mirror column with the day cast from text; `conflict` says what to
/// do when the host invoice already has a row.
fn mirror_insert(conflict: &str) -> String {
    let placeholders = (1..=28)
        .map(|n| {
            if n == 24 {
                String::from("$24::text::date")
            } else {
                format!("${n}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("INSERT INTO invoice_mirrors ({MIRROR_COLUMNS}) VALUES ({placeholders}) {conflict}")
}

const MIRROR_UPSERT_TAIL: &str = "ON CONFLICT (account, host_invoice_id) DO UPDATE SET \
    stripe_invoice_id = excluded.stripe_invoice_id, \
    stripe_customer_id = excluded.stripe_customer_id, status = excluded.status, \
    unrecognised_status = excluded.unrecognised_status, number = excluded.number, \
    currency = excluded.currency, subtotal = excluded.subtotal, total = excluded.total, \
    amount_due = excluded.amount_due, amount_paid = excluded.amount_paid, \
    amount_remaining = excluded.amount_remaining, \
    starting_balance = excluded.starting_balance, ending_balance = excluded.ending_balance, \
    hosted_invoice_url = excluded.hosted_invoice_url, invoice_pdf = excluded.invoice_pdf, \
    due_date = excluded.due_date, created = excluded.created, metadata = excluded.metadata, \
    paid_at = excluded.paid_at, paid_outside_method = excluded.paid_outside_method, \
    paid_outside_reference = excluded.paid_outside_reference, \
    paid_outside_on = excluded.paid_outside_on, \
    stripe_updated_at = excluded.stripe_updated_at, payer_kind = excluded.payer_kind, \
    payer_host_id = excluded.payer_host_id, patient_host_id = excluded.patient_host_id";

/// Builds the statement and parameters of a mirror query.
fn mirror_query_sql(query: &MirrorQuery) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut conditions = Vec::new();
    let mut push = |condition: &str, value: Box<dyn ToSql + Sync + Send>| {
        values.push(value);
        conditions.push(condition.replace('?', &format!("${}", values.len())));
    };
    push(
        "account = ?",
        Box::new(account_key(query.account.as_deref()).to_owned()),
    );
    if let Some(status) = &query.status {
        push("status = ?", Box::new(status.as_str().to_owned()));
    }
    if let Some(kind) = query.payer_kind {
        push("payer_kind = ?", Box::new(kind.as_str().to_owned()));
    }
    if let Some(payer) = &query.payer_host_id {
        push("payer_host_id = ?", Box::new(payer.clone()));
    }
    if let Some(from) = query.created_from {
        push("created >= ?", Box::new(from));
    }
    if let Some(before) = query.created_before {
        push("created < ?", Box::new(before));
    }
    if let Some(since) = query.changed_since {
        push("stripe_updated_at >= ?", Box::new(since));
    }
    if !query.metadata.is_empty() {
        // Containment of an object of strings: every pair present with that text value,
        // served by the GIN index.
        let wanted: serde_json::Map<String, serde_json::Value> = query
            .metadata
            .iter()
            .map(|(key, value)| (key.to_owned(), serde_json::Value::from(value)))
            .collect();
        push("metadata @> ?", Box::new(serde_json::Value::Object(wanted)));
    }
    if let Some(cursor) = &query.after {
        // A row-value comparison seeks the (account, …, created, host_invoice_id) index
        // straight to the cursor.
        values.push(Box::new(cursor.created));
        values.push(Box::new(cursor.host_invoice_id.clone()));
        conditions.push(format!(
            "(created, host_invoice_id) > (${}, ${})",
            values.len() - 1,
            values.len()
        ));
    }
    let mut sql = format!(
        "SELECT {MIRROR_SELECT} FROM invoice_mirrors WHERE {} ORDER BY created, host_invoice_id",
        conditions.join(" AND ")
    );
    if let Some(limit) = query.limit {
        values.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        sql.push_str(&format!(" LIMIT ${}", values.len()));
    }
    (sql, values)
}

impl PostgresStore {
    /// The newest schema version this build writes and reads.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// Starts configuring a store on the database at `url`
    /// (`postgres://user:password@host:port/database`, or libpq's key=value form).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            url: url.into(),
            schema: DEFAULT_SCHEMA.to_owned(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            wait_timeout: DEFAULT_WAIT_TIMEOUT,
            event_lease: DEFAULT_EVENT_LEASE,
        }
    }

    /// Connects to `url` with the default settings (schema `billbridge`): see
    /// [`PostgresStoreBuilder::connect`].
    ///
    /// # Errors
    ///
    /// As [`PostgresStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::builder(url).connect().await
    }

    /// The connection URL with its password replaced by `***`, for logs and reprs.
    pub fn redacted_url(&self) -> &str {
        &self.inner.target
    }

    /// The schema holding the tables.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// The schema version found in the database.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when the database cannot be read.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        const OPERATION: &str = "read_schema_version";
        let client = self.client(OPERATION).await?;
        let row = client
            .query_one(
                "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations",
                &[],
            )
            .await
            .map_err(backend(OPERATION))?;
        row.try_get(0).map_err(backend(OPERATION))
    }

    async fn client(
        &self,
        operation: &'static str,
    ) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(pool_backend(operation))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        const OPERATION: &str = "migrate";
        let mut client = self.client(OPERATION).await?;
        let transaction = client.transaction().await.map_err(backend(OPERATION))?;
        // Every process starting at once queues here; each then finds the version the
        // first one wrote and skips what is done. The lock ends with the transaction.
        transaction
            .execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('billbridge.migrate:' || $1, 0))",
                &[&self.inner.schema],
            )
            .await
            .map_err(backend(OPERATION))?;
        let exists = transaction
            .query_opt(
                "SELECT 1 FROM pg_namespace WHERE nspname = $1",
                &[&self.inner.schema],
            )
            .await
            .map_err(backend(OPERATION))?
            .is_some();
        if !exists {
            // Validated as a plain identifier by the builder, so it needs no quoting.
            transaction
                .batch_execute(&format!("CREATE SCHEMA {}", self.inner.schema))
                .await
                .map_err(backend(OPERATION))?;
        }
        transaction
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )",
            )
            .await
            .map_err(backend(OPERATION))?;
        let found: i64 = transaction
            .query_one(
                "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations",
                &[],
            )
            .await
            .map_err(backend(OPERATION))?
            .try_get(0)
            .map_err(backend(OPERATION))?;
        if found > PostgresStore::SCHEMA_VERSION {
            // Dropped without commit: nothing written.
            return Err(StoreError::SchemaTooNew {
                found,
                supported: PostgresStore::SCHEMA_VERSION,
            });
        }
        for (version, migration) in (1_i32..).zip(MIGRATIONS) {
            if i64::from(version) <= found {
                continue;
            }
            transaction
                .batch_execute(migration)
                .await
                .map_err(backend(OPERATION))?;
            transaction
                .execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[&version],
                )
                .await
                .map_err(backend(OPERATION))?;
        }
        transaction.commit().await.map_err(backend(OPERATION))
    }

    async fn query_one_row<T>(
        &self,
        operation: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        read: fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let client = self.client(operation).await?;
        let statement = client
            .prepare_cached(sql)
            .await
            .map_err(backend(operation))?;
        let row = client
            .query_opt(&statement, params)
            .await
            .map_err(backend(operation))?;
        row.as_ref().map(read).transpose()
    }

    async fn execute(
        &self,
        operation: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.client(operation).await?;
        let statement = client
            .prepare_cached(sql)
            .await
            .map_err(backend(operation))?;
        client
            .execute(&statement, params)
            .await
            .map_err(backend(operation))
    }

    async fn mirror_by(
        &self,
        operation: &'static str,
        column: &str,
        account: &str,
        id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        self.query_one_row(
            operation,
            &format!(
                "SELECT {MIRROR_SELECT} FROM invoice_mirrors WHERE account = $1 AND {column} = $2"
            ),
            &[&account, &id],
            read_mirror,
        )
        .await
    }

    async fn invoice_link_by(
        &self,
        operation: &'static str,
        column: &str,
        account: &str,
        id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        self.query_one_row(
            operation,
            &format!(
                "SELECT account, host_invoice_id, stripe_invoice_id FROM invoice_links \
                 WHERE account = $1 AND {column} = $2"
            ),
            &[&account, &id],
            read_invoice_link,
        )
        .await
    }
}

#[async_trait]
impl SyncStore for PostgresStore {
    fn as_ledger(self: Arc<Self>) -> Option<Arc<dyn LedgerStore>> {
        Some(self)
    }

    async fn customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        self.query_one_row(
            "customer_link",
            "SELECT account, party_kind, host_party_id, stripe_customer_id, metadata_sent \
             FROM customer_links WHERE account = $1 AND party_kind = $2 AND host_party_id = $3",
            &[&account_key(account), &party_kind.as_str(), &host_party_id],
            read_customer,
        )
        .await
    }

    async fn customer_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        self.query_one_row(
            "customer_link_by_stripe_id",
            "SELECT account, party_kind, host_party_id, stripe_customer_id, metadata_sent \
             FROM customer_links WHERE account = $1 AND stripe_customer_id = $2",
            &[&account_key(account), &stripe_customer_id],
            read_customer,
        )
        .await
    }

    async fn put_customer_link(&self, link: &CustomerLink) -> Result<(), StoreError> {
        const OPERATION: &str = "put_customer_link";
        let metadata = json_value(OPERATION, &link.metadata_sent)?;
        let client = self.client(OPERATION).await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO customer_links \
                 (account, party_kind, host_party_id, stripe_customer_id, metadata_sent) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (account, party_kind, host_party_id) DO UPDATE SET \
                 stripe_customer_id = excluded.stripe_customer_id, \
                 metadata_sent = excluded.metadata_sent",
            )
            .await
            .map_err(backend(OPERATION))?;
        client
            .execute(
                &statement,
                &[
                    &account_key(link.account.as_deref()),
                    &link.party_kind.as_str(),
                    &link.host_party_id,
                    &link.stripe_customer_id,
                    &metadata,
                ],
            )
            .await
            .map_err(write_error(
                OPERATION,
                "customer_links",
                &link.stripe_customer_id,
            ))?;
        Ok(())
    }

    async fn remove_customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self
            .execute(
                "remove_customer_link",
                "DELETE FROM customer_links \
                 WHERE account = $1 AND party_kind = $2 AND host_party_id = $3",
                &[&account_key(account), &party_kind.as_str(), &host_party_id],
            )
            .await?;
        Ok(removed > 0)
    }

    async fn invoice_link(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        self.invoice_link_by(
            "invoice_link",
            "host_invoice_id",
            account_key(account),
            host_invoice_id,
        )
        .await
    }

    async fn invoice_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        self.invoice_link_by(
            "invoice_link_by_stripe_id",
            "stripe_invoice_id",
            account_key(account),
            stripe_invoice_id,
        )
        .await
    }

    async fn put_invoice_link(&self, link: &InvoiceLink) -> Result<(), StoreError> {
        const OPERATION: &str = "put_invoice_link";
        let client = self.client(OPERATION).await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO invoice_links (account, host_invoice_id, stripe_invoice_id) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (account, host_invoice_id) DO UPDATE SET \
                 stripe_invoice_id = excluded.stripe_invoice_id",
            )
            .await
            .map_err(backend(OPERATION))?;
        client
            .execute(
                &statement,
                &[
                    &account_key(link.account.as_deref()),
                    &link.host_invoice_id,
                    &link.stripe_invoice_id,
                ],
            )
            .await
            .map_err(write_error(
                OPERATION,
                "invoice_links",
                &link.stripe_invoice_id,
            ))?;
        Ok(())
    }

    async fn default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.query_one_row(
            "default_payer",
            "SELECT organisation_host_id FROM default_payers \
             WHERE account = $1 AND patient_host_id = $2",
            &[&account_key(account), &patient_host_id],
            |row| {
                RowReader::new(row, "default_payers", "organisation_host_id")
                    .get("organisation_host_id")
            },
        )
        .await
    }

    async fn set_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
        organisation_host_id: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "set_default_payer",
            "INSERT INTO default_payers (account, patient_host_id, organisation_host_id) \
             VALUES ($1, $2, $3) ON CONFLICT (account, patient_host_id) DO UPDATE SET \
             organisation_host_id = excluded.organisation_host_id",
            &[
                &account_key(account),
                &patient_host_id,
                &organisation_host_id,
            ],
        )
        .await?;
        Ok(())
    }

    async fn clear_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self
            .execute(
                "clear_default_payer",
                "DELETE FROM default_payers WHERE account = $1 AND patient_host_id = $2",
                &[&account_key(account), &patient_host_id],
            )
            .await?;
        Ok(removed > 0)
    }

    async fn mark_event_processed(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        let lease = self.inner.event_lease.as_secs_f64();
        // One statement decides the claim across every process: the insert that creates
        // the row wins; on a conflict the row is locked and taken over only when its
        // lease ran out without a completion (its worker died), so two racing
        // re-claimers cannot both win. RETURNING yields a row only for the winner.
        let claimed = self
            .execute(
                "mark_event_processed",
                "INSERT INTO processed_events (account, event_id, claimed_at, lease_until) \
                 VALUES ($1, $2, now(), now() + make_interval(secs => $3)) \
                 ON CONFLICT (account, event_id) DO UPDATE SET \
                 claimed_at = excluded.claimed_at, lease_until = excluded.lease_until \
                 WHERE processed_events.completed_at IS NULL \
                 AND processed_events.lease_until < now()",
                &[&account_key(account), &event_id, &lease],
            )
            .await?;
        Ok(claimed == 1)
    }

    async fn forget_event(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self
            .execute(
                "forget_event",
                "DELETE FROM processed_events WHERE account = $1 AND event_id = $2",
                &[&account_key(account), &event_id],
            )
            .await?;
        Ok(removed > 0)
    }

    async fn complete_event(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "complete_event",
            "UPDATE processed_events SET completed_at = now(), lease_until = NULL \
             WHERE account = $1 AND event_id = $2 AND completed_at IS NULL",
            &[&account_key(account), &event_id],
        )
        .await?;
        Ok(())
    }

    async fn invoice_mirror(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        self.mirror_by(
            "invoice_mirror",
            "host_invoice_id",
            account_key(account),
            host_invoice_id,
        )
        .await
    }

    async fn invoice_mirror_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        self.mirror_by(
            "invoice_mirror_by_stripe_id",
            "stripe_invoice_id",
            account_key(account),
            stripe_invoice_id,
        )
        .await
    }

    async fn put_invoice_mirror(&self, mirror: &InvoiceMirror) -> Result<(), StoreError> {
        const OPERATION: &str = "put_invoice_mirror";
        let params = MirrorParams::new(OPERATION, mirror)?;
        let client = self.client(OPERATION).await?;
        let statement = client
            .prepare_cached(&mirror_insert(MIRROR_UPSERT_TAIL))
            .await
            .map_err(backend(OPERATION))?;
        client
            .execute(&statement, &params.values(mirror))
            .await
            .map_err(write_error(
                OPERATION,
                "invoice_mirrors",
                &mirror.stripe_invoice_id,
            ))?;
        Ok(())
    }

    async fn swap_invoice_mirror(
        &self,
        expected: Option<&InvoiceMirror>,
        new: &InvoiceMirror,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "swap_invoice_mirror";
        let params = MirrorParams::new(OPERATION, new)?;
        let account = account_key(new.account.as_deref());
        let expected = expected.map(|mirror| InvoiceMirror {
            account: account_field(account_key(mirror.account.as_deref())),
            ..mirror.clone()
        });
        let mut client = self.client(OPERATION).await?;
        let transaction = client.transaction().await.map_err(backend(OPERATION))?;
        // The row lock is held from this read to the commit: no other writer can change
        // the mirror between the comparison and the write.
        let current = transaction
            .query_opt(
                &format!(
                    "SELECT {MIRROR_SELECT} FROM invoice_mirrors \
                     WHERE account = $1 AND host_invoice_id = $2 FOR UPDATE"
                ),
                &[&account, &new.host_invoice_id],
            )
            .await
            .map_err(backend(OPERATION))?
            .as_ref()
            .map(read_mirror)
            .transpose()?;
        if current != expected {
            return Ok(false);
        }
        let written = match current {
            // No row to lock: concurrent first writers race on the primary key, and the
            // one whose insert does nothing lost.
            None => transaction
                .execute(
                    &mirror_insert("ON CONFLICT (account, host_invoice_id) DO NOTHING"),
                    &params.values(new),
                )
                .await
                .map_err(write_error(
                    OPERATION,
                    "invoice_mirrors",
                    &new.stripe_invoice_id,
                ))?,
            Some(_) => transaction
                .execute(&mirror_insert(MIRROR_UPSERT_TAIL), &params.values(new))
                .await
                .map_err(write_error(
                    OPERATION,
                    "invoice_mirrors",
                    &new.stripe_invoice_id,
                ))?,
        };
        transaction.commit().await.map_err(backend(OPERATION))?;
        Ok(written == 1)
    }

    async fn query_invoice_mirrors(
        &self,
        query: &MirrorQuery,
    ) -> Result<Vec<InvoiceMirror>, StoreError> {
        const OPERATION: &str = "query_invoice_mirrors";
        let (sql, values) = mirror_query_sql(query);
        let params: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|value| value.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let client = self.client(OPERATION).await?;
        let statement = client
            .prepare_cached(&sql)
            .await
            .map_err(backend(OPERATION))?;
        let rows = client
            .query(&statement, &params)
            .await
            .map_err(backend(OPERATION))?;
        rows.iter().map(read_mirror).collect()
    }

    async fn raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<RaiseCheckpoint>, StoreError> {
        self.query_one_row(
            "raise_checkpoint",
            "SELECT account, host_invoice_id, draft_revision, stripe_invoice_id, lines_added, \
             finalized, sent FROM raise_checkpoints WHERE account = $1 AND host_invoice_id = $2",
            &[&account_key(account), &host_invoice_id],
            read_checkpoint,
        )
        .await
    }

    async fn put_raise_checkpoint(&self, checkpoint: &RaiseCheckpoint) -> Result<(), StoreError> {
        const OPERATION: &str = "put_raise_checkpoint";
        let lines = json_value(OPERATION, &checkpoint.lines_added)?;
        // bigint is signed 64-bit: reinterpret the bits so every u64 round-trips.
        let revision = checkpoint.draft_revision as i64;
        self.execute(
            OPERATION,
            "INSERT INTO raise_checkpoints \
             (account, host_invoice_id, draft_revision, stripe_invoice_id, lines_added, \
              finalized, sent) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (account, host_invoice_id) DO UPDATE SET \
             draft_revision = excluded.draft_revision, \
             stripe_invoice_id = excluded.stripe_invoice_id, \
             lines_added = excluded.lines_added, finalized = excluded.finalized, \
             sent = excluded.sent",
            &[
                &account_key(checkpoint.account.as_deref()),
                &checkpoint.host_invoice_id,
                &revision,
                &checkpoint.stripe_invoice_id,
                &lines,
                &checkpoint.finalized,
                &checkpoint.sent,
            ],
        )
        .await?;
        Ok(())
    }

    async fn clear_raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self
            .execute(
                "clear_raise_checkpoint",
                "DELETE FROM raise_checkpoints WHERE account = $1 AND host_invoice_id = $2",
                &[&account_key(account), &host_invoice_id],
            )
            .await?;
        Ok(removed > 0)
    }
}

/// The books of [`crate::offline`], in the same schema as the mirrors.
#[async_trait]
impl LedgerStore for PostgresStore {
    async fn ledger_invoice(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<LedgerRecord>, StoreError> {
        self.query_one_row(
            "ledger_invoice",
            "SELECT account, host_invoice_id, revision, record FROM ledger_invoices \
             WHERE account = $1 AND host_invoice_id = $2",
            &[&account_key(account), &host_invoice_id],
            read_ledger_record,
        )
        .await
    }

    async fn swap_ledger_invoice(
        &self,
        expected_revision: Option<u64>,
        record: &LedgerRecord,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "swap_ledger_invoice";
        let text = json_value(OPERATION, record)?;
        let account = account_key(record.account.as_deref());
        // bigint is signed 64-bit: reinterpret the bits.
        let revision = record.revision as i64;
        let written = match expected_revision {
            // A new record: the primary key lets one of racing inserts win.
            None => {
                self.execute(
                    OPERATION,
                    "INSERT INTO ledger_invoices (account, host_invoice_id, revision, record) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (account, host_invoice_id) DO NOTHING",
                    &[&account, &record.host_invoice_id(), &revision, &text],
                )
                .await?
            }
            // One statement compares and writes under the row's lock.
            Some(expected) => {
                let expected = expected as i64;
                self.execute(
                    OPERATION,
                    "UPDATE ledger_invoices SET revision = $3, record = $4 \
                     WHERE account = $1 AND host_invoice_id = $2 AND revision = $5",
                    &[
                        &account,
                        &record.host_invoice_id(),
                        &revision,
                        &text,
                        &expected,
                    ],
                )
                .await?
            }
        };
        Ok(written == 1)
    }

    async fn ledger_invoices(
        &self,
        account: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        const OPERATION: &str = "ledger_invoices";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client(OPERATION).await?;
        // Without `after` (NULL) the condition holds for every row: the first page.
        let statement = client
            .prepare_cached(
                "SELECT account, host_invoice_id, revision, record FROM ledger_invoices \
                 WHERE account = $1 AND ($2::text IS NULL OR host_invoice_id > $2) \
                 ORDER BY host_invoice_id LIMIT $3",
            )
            .await
            .map_err(backend(OPERATION))?;
        let rows = client
            .query(&statement, &[&account_key(account), &after, &limit])
            .await
            .map_err(backend(OPERATION))?;
        rows.iter().map(read_ledger_record).collect()
    }

    async fn next_invoice_number(&self, account: Option<&str>) -> Result<u64, StoreError> {
        const OPERATION: &str = "next_invoice_number";
        let account = account_key(account);
        // One statement takes the number under the row's lock, so racing processes get
        // consecutive numbers and never the same one.
        let number: i64 = self
            .query_one_row(
                OPERATION,
                "INSERT INTO ledger_invoice_numbers (account, last_number) VALUES ($1, 1) \
                 ON CONFLICT (account) DO UPDATE SET \
                 last_number = ledger_invoice_numbers.last_number + 1 \
                 RETURNING account, last_number",
                &[&account],
                |row| RowReader::new(row, "ledger_invoice_numbers", "account").get("last_number"),
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                table: "ledger_invoice_numbers",
                field: "last_number",
                key: account.to_owned(),
                source: None,
            })?;
        u64::try_from(number).map_err(|error| StoreError::Corrupt {
            table: "ledger_invoice_numbers",
            field: "last_number",
            key: account.to_owned(),
            source: Some(Box::new(error)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_replaced_in_every_url_form() {
        for (url, shown) in [
            (
                "postgres://billing:s3cr%40t@db.internal:5432/ehr",
                "postgres://billing:***@db.internal:5432/ehr",
            ),
            (
                "postgresql://billing:p@ss@127.0.0.1/ehr?sslmode=disable",
                "postgresql://billing:***@127.0.0.1/ehr?sslmode=disable",
            ),
            (
                "postgres://127.0.0.1/ehr?user=billing&password=hunter2&application_name=x",
                "postgres://127.0.0.1/ehr?user=billing&password=***&application_name=x",
            ),
            (
                "host=/run/postgresql user=billing password='a b c' dbname=ehr",
                "host=/run/postgresql user=billing password=*** dbname=ehr",
            ),
            (
                "postgres://billing@127.0.0.1/ehr",
                "postgres://billing@127.0.0.1/ehr",
            ),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["billbridge", "practice_7", "_tests"] {
            assert!(valid_schema(good), "{good}");
        }
        for bad in [
            "",
            "Billbridge",
            "7days",
            "a-b",
            "a;drop table x",
            "pg_catalog",
            "\"quoted\"",
        ] {
            assert!(!valid_schema(bad), "{bad}");
        }
        assert!(!valid_schema(&"a".repeat(64)));
    }

    #[test]
    fn mirror_queries_number_their_parameters_in_order() {
        let query = MirrorQuery::for_account(Some("acct_1"))
            .status(InvoiceStatus::Open)
            .metadata("billing", "insurer")
            .after(super::super::MirrorCursor {
                created: 5,
                host_invoice_id: String::from("INV-1"),
            })
            .limit(10);
        let (sql, values) = mirror_query_sql(&query);
        assert_eq!(values.len(), 6);
        assert!(sql.contains("account = $1 AND status = $2 AND metadata @> $3"));
        assert!(sql.contains("(created, host_invoice_id) > ($4, $5)"));
        assert!(sql.ends_with("LIMIT $6"));
    }
}

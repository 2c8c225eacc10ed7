//! [`SqliteStore`]: a [`SyncStore`] in an embedded SQLite database (compiled in, no
//! system library), for hosts that want billbridge's state to survive restarts without
//! mapping it onto their own database.
//!
//! The schema is versioned with `PRAGMA user_version` and upgraded by ordered migrations,
//! each in its own transaction; a database written by a newer billbridge is refused
//! rather than misread. Metadata maps and checkpoint lines are JSON text columns.
//!
//! The same database also keeps the books of offline billing ([`LedgerStore`], schema
//! version 3): each [`LedgerRecord`] as JSON keyed by account and host invoice id, and
//! the last invoice number handed out per account. One [`SqliteStore`] can then serve
//! as both the sync store and the ledger store of an
//! [`OfflineBilling`](crate::offline::OfflineBilling).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::{FromSql, Value};
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};

use super::{
    AddedLine, CustomerLink, InvoiceLink, InvoiceMirror, MetadataMap, MirrorQuery, OutsidePayment,
    PartyKind, RaiseCheckpoint, StoreError, SyncStore, account_field, account_key,
};
use super::{LedgerRecord, LedgerStore};
use crate::domain::date::Date;
use crate::domain::status::InvoiceStatus;

/// The ordered schema migrations; migration `n` (1-based) brings the database to
/// `user_version = n`. Append only: a shipped migration never changes.
///
/// The platform account is stored as `''`, not `NULL`: SQLite treats `NULL`s as distinct
/// in keys, which would let the same host id be stored twice.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "
    CREATE TABLE customer_links (
        account            TEXT NOT NULL,
        party_kind         TEXT NOT NULL,
        host_party_id      TEXT NOT NULL,
        stripe_customer_id TEXT NOT NULL,
        metadata_sent      TEXT NOT NULL,
        PRIMARY KEY (account, party_kind, host_party_id),
        UNIQUE (account, stripe_customer_id)
    ) WITHOUT ROWID;

    CREATE TABLE invoice_links (
        account           TEXT NOT NULL,
        host_invoice_id   TEXT NOT NULL,
        stripe_invoice_id TEXT NOT NULL,
        PRIMARY KEY (account, host_invoice_id),
        UNIQUE (account, stripe_invoice_id)
    ) WITHOUT ROWID;

    CREATE TABLE default_payers (
        account              TEXT NOT NULL,
        patient_host_id      TEXT NOT NULL,
        organisation_host_id TEXT NOT NULL,
        PRIMARY KEY (account, patient_host_id)
    ) WITHOUT ROWID;

    -- processed_at lets a later version prune events older than Stripe's retry window.
    CREATE TABLE processed_events (
        account      TEXT NOT NULL,
        event_id     TEXT NOT NULL,
        processed_at INTEGER NOT NULL,
        PRIMARY KEY (account, event_id)
    ) WITHOUT ROWID;

    CREATE TABLE invoice_mirrors (
        account                TEXT NOT NULL,
        host_invoice_id        TEXT NOT NULL,
        stripe_invoice_id      TEXT NOT NULL,
        stripe_customer_id     TEXT NOT NULL,
        status                 TEXT NOT NULL,
        number                 TEXT,
        currency               TEXT NOT NULL,
        subtotal               INTEGER NOT NULL,
        total                  INTEGER NOT NULL,
        amount_due             INTEGER NOT NULL,
        amount_paid            INTEGER NOT NULL,
        amount_remaining       INTEGER NOT NULL,
        starting_balance       INTEGER NOT NULL,
        ending_balance         INTEGER,
        hosted_invoice_url     TEXT,
        invoice_pdf            TEXT,
        due_date               INTEGER,
        created                INTEGER NOT NULL,
        metadata               TEXT NOT NULL,
        paid_outside_method    TEXT,
        paid_outside_reference TEXT,
        stripe_updated_at      INTEGER NOT NULL,
        payer_kind             TEXT NOT NULL,
        payer_host_id          TEXT NOT NULL,
        patient_host_id        TEXT,
        PRIMARY KEY (account, host_invoice_id),
        UNIQUE (account, stripe_invoice_id)
    ) WITHOUT ROWID;
    CREATE INDEX invoice_mirrors_by_created
        ON invoice_mirrors (account, created, host_invoice_id);
    CREATE INDEX invoice_mirrors_by_status
        ON invoice_mirrors (account, status, created, host_invoice_id);
    CREATE INDEX invoice_mirrors_by_payer
        ON invoice_mirrors (account, payer_host_id, created, host_invoice_id);
    CREATE INDEX invoice_mirrors_by_update
        ON invoice_mirrors (account, stripe_updated_at);

    CREATE TABLE raise_checkpoints (
        account           TEXT NOT NULL,
        host_invoice_id   TEXT NOT NULL,
        draft_revision    INTEGER NOT NULL,
        stripe_invoice_id TEXT,
        lines_added       TEXT NOT NULL,
        finalized         INTEGER NOT NULL,
        sent              INTEGER NOT NULL,
        PRIMARY KEY (account, host_invoice_id)
    ) WITHOUT ROWID;
    ",
    // 2: when an invoice was paid, so reports date payments by when they were received.
    // Rows from before keep NULL: unknown, reported by their last update instead.
    // (Queries ordered and paged by (created, host_invoice_id) are served by
    // invoice_mirrors_by_created of migration 1.)
    "
    ALTER TABLE invoice_mirrors ADD COLUMN paid_at INTEGER;
    ALTER TABLE invoice_mirrors ADD COLUMN paid_outside_on TEXT;
    ",
    // 3: the books of offline billing. The record is the ledger's own JSON; its revision
    // is a column too, so the compare-and-set reads it without decoding the record.
    "
    CREATE TABLE ledger_invoices (
        account         TEXT NOT NULL,
        host_invoice_id TEXT NOT NULL,
        revision        INTEGER NOT NULL,
        record          TEXT NOT NULL,
        PRIMARY KEY (account, host_invoice_id)
    ) WITHOUT ROWID;

    CREATE TABLE ledger_invoice_numbers (
        account     TEXT NOT NULL PRIMARY KEY,
        last_number INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // 4: a status Stripe sent that billbridge did not know, kept beside the last known
    // status instead of replacing it. Rows from before have none.
    "
    ALTER TABLE invoice_mirrors ADD COLUMN unrecognised_status TEXT;
    ",
];

/// How long a call waits for another process holding the database's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const MIRROR_COLUMNS: &str = "account, host_invoice_id, stripe_invoice_id, stripe_customer_id, \
    status, number, currency, subtotal, total, amount_due, amount_paid, amount_remaining, \
    starting_balance, ending_balance, hosted_invoice_url, invoice_pdf, due_date, created, \
    metadata, paid_outside_method, paid_outside_reference, stripe_updated_at, payer_kind, \
    payer_host_id, patient_host_id, paid_at, paid_outside_on, unrecognised_status";

/// A [`SyncStore`] in an embedded SQLite database.
///
/// SQLite calls here are short local operations (microseconds to a few milliseconds), so
/// each async method runs its statements synchronously under a [`std::sync::Mutex`]
/// around the one connection instead of handing them to a thread pool: the store then
/// needs no async runtime, which keeps the core runtime-agnostic for every binding. The
/// lock is taken and released inside plain synchronous helpers, never held across an
/// `.await`. Several processes may open the same file: WAL mode lets readers proceed
/// while one writes, and writers wait up to five seconds for each other.
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// The newest schema version this build writes and reads.
    pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] when the database was written by a newer billbridge;
    /// [`StoreError::Corrupt`] when its schema version is negative; [`StoreError::Backend`]
    /// when the file cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let connection = Connection::open(path).map_err(backend("open"))?;
        SqliteStore::prepare(connection)
    }

    /// A private database in memory, gone when the store is dropped (tests, demos).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] when SQLite cannot allocate the database.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let connection = Connection::open_in_memory().map_err(backend("open"))?;
        SqliteStore::prepare(connection)
    }

    fn prepare(mut connection: Connection) -> Result<SqliteStore, StoreError> {
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(backend("open"))?;
        // Refuse a newer schema before anything writes to the file.
        schema_version(&connection)?;
        // An in-memory database answers "memory": it has no file to log ahead of.
        connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(backend("open"))?;
        migrate(&mut connection)?;
        Ok(SqliteStore {
            connection: Mutex::new(connection),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-applied change: every write
        // is one statement or a transaction that rolls back when dropped.
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Reads `user_version`, refusing versions this build cannot read.
fn schema_version(connection: &Connection) -> Result<i64, StoreError> {
    let found: i64 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(backend("read_schema_version"))?;
    if found > SqliteStore::SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SqliteStore::SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(StoreError::Corrupt {
            table: "schema",
            field: "user_version",
            key: found.to_string(),
            source: None,
        });
    }
    Ok(found)
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    for (target, migration) in (1..).zip(MIGRATIONS) {
        // Immediate: another process opening the same file at the same moment waits
        // here, then sees the version it wrote and skips the migration.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend("migrate"))?;
        if schema_version(&transaction)? >= target {
            continue;
        }
        transaction
            .execute_batch(migration)
            .map_err(backend("migrate"))?;
        transaction
            .pragma_update(None, "user_version", target)
            .map_err(backend("migrate"))?;
        transaction.commit().map_err(backend("migrate"))?;
    }
    Ok(())
}

fn backend(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |error| StoreError::backend(operation, error)
}

/// Maps a failed write, turning a broken uniqueness of a Stripe id into
/// [`StoreError::Conflict`].
fn write_error(
    operation: &'static str,
    table: &'static str,
    stripe_id: &str,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |error| {
        let unique = matches!(
            &error,
            rusqlite::Error::SqliteFailure(failure, _)
                if failure.code == ErrorCode::ConstraintViolation
                    && failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        );
        if unique {
            StoreError::Conflict {
                table,
                stripe_id: stripe_id.to_owned(),
            }
        } else {
            StoreError::backend(operation, error)
        }
    }
}

/// Reads the columns of one row, reporting an unreadable column as
/// [`StoreError::Corrupt`] with the row's key.
struct RowReader<'a, 'row> {
    row: &'a Row<'row>,
    table: &'static str,
    key: String,
}

impl<'a, 'row> RowReader<'a, 'row> {
    fn new(row: &'a Row<'row>, table: &'static str, key_column: &'static str) -> Self {
        let key = row
            .get::<_, String>(key_column)
            .unwrap_or_else(|_| String::from("?"));
        RowReader { row, table, key }
    }

    fn get<T: FromSql>(&self, field: &'static str) -> Result<T, StoreError> {
        self.row
            .get(field)
            .map_err(|error| self.corrupt(field, error))
    }

    fn json<T: serde::de::DeserializeOwned>(&self, field: &'static str) -> Result<T, StoreError> {
        let text: String = self.get(field)?;
        serde_json::from_str(&text).map_err(|error| self.corrupt(field, error))
    }

    fn party_kind(&self, field: &'static str) -> Result<PartyKind, StoreError> {
        let name: String = self.get(field)?;
        name.parse::<PartyKind>().map_err(|_| StoreError::Corrupt {
            table: self.table,
            field,
            key: self.key.clone(),
            source: None,
        })
    }

    fn account(&self) -> Result<Option<String>, StoreError> {
        Ok(account_field(&self.get::<String>("account")?))
    }

    fn corrupt(
        &self,
        field: &'static str,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            field,
            key: self.key.clone(),
            source: Some(Box::new(error)),
        }
    }
}

fn json_text<T: serde::Serialize>(
    operation: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::backend(operation, error))
}

fn read_customer(row: &Row<'_>) -> Result<CustomerLink, StoreError> {
    let reader = RowReader::new(row, "customer_links", "host_party_id");
    Ok(CustomerLink {
        account: reader.account()?,
        party_kind: reader.party_kind("party_kind")?,
        host_party_id: reader.get("host_party_id")?,
        stripe_customer_id: reader.get("stripe_customer_id")?,
        metadata_sent: reader.json::<MetadataMap>("metadata_sent")?,
    })
}

fn read_invoice_link(row: &Row<'_>) -> Result<InvoiceLink, StoreError> {
    let reader = RowReader::new(row, "invoice_links", "host_invoice_id");
    Ok(InvoiceLink {
        account: reader.account()?,
        host_invoice_id: reader.get("host_invoice_id")?,
        stripe_invoice_id: reader.get("stripe_invoice_id")?,
    })
}

fn read_mirror(row: &Row<'_>) -> Result<InvoiceMirror, StoreError> {
    let reader = RowReader::new(row, "invoice_mirrors", "host_invoice_id");
    let method: Option<String> = reader.get("paid_outside_method")?;
    let reference: Option<String> = reader.get("paid_outside_reference")?;
    let paid_on = match reader.get::<Option<String>>("paid_outside_on")? {
        Some(text) => {
            Some(Date::parse(&text).map_err(|error| reader.corrupt("paid_outside_on", error))?)
        }
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
            return Err(StoreError::Corrupt {
                table: reader.table,
                field: "paid_outside_method",
                key: reader.key.clone(),
                source: None,
            });
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

fn read_checkpoint(row: &Row<'_>) -> Result<RaiseCheckpoint, StoreError> {
    let reader = RowReader::new(row, "raise_checkpoints", "host_invoice_id");
    let revision: i64 = reader.get("draft_revision")?;
    Ok(RaiseCheckpoint {
        account: reader.account()?,
        host_invoice_id: reader.get("host_invoice_id")?,
        // Stored by reinterpreting the bits (see `put`), so every u64 round-trips.
        draft_revision: revision as u64,
        stripe_invoice_id: reader.get("stripe_invoice_id")?,
        lines_added: reader.json::<Vec<AddedLine>>("lines_added")?,
        finalized: reader.get("finalized")?,
        sent: reader.get("sent")?,
    })
}

fn read_ledger_record(row: &Row<'_>) -> Result<LedgerRecord, StoreError> {
    let reader = RowReader::new(row, "ledger_invoices", "host_invoice_id");
    let revision: i64 = reader.get("revision")?;
    let record = reader.json::<LedgerRecord>("record")?;
    if record.host_invoice_id() != reader.key {
        return Err(StoreError::Corrupt {
            table: reader.table,
            field: "record",
            key: reader.key.clone(),
            source: None,
        });
    }
    Ok(LedgerRecord {
        // The key columns are authoritative, as the compare-and-set reads them.
        account: reader.account()?,
        // Stored by reinterpreting the bits, so every u64 round-trips.
        revision: revision as u64,
        ..record
    })
}

fn read_ledger_revision(row: &Row<'_>) -> Result<u64, StoreError> {
    let reader = RowReader::new(row, "ledger_invoices", "host_invoice_id");
    Ok(reader.get::<i64>("revision")? as u64)
}

/// Runs a query expected to return at most one row and decodes it.
fn query_one<T>(
    connection: &Connection,
    operation: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
    read: fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut statement = connection.prepare(sql).map_err(backend(operation))?;
    let mut rows = statement.query(params).map_err(backend(operation))?;
    match rows.next().map_err(backend(operation))? {
        Some(row) => read(row).map(Some),
        None => Ok(None),
    }
}

fn mirror_by_host_id(
    connection: &Connection,
    account: &str,
    host_invoice_id: &str,
) -> Result<Option<InvoiceMirror>, StoreError> {
    query_one(
        connection,
        "invoice_mirror",
        &format!(
            "SELECT {MIRROR_COLUMNS} FROM invoice_mirrors WHERE account = ?1 AND host_invoice_id = ?2"
        ),
        params![account, host_invoice_id],
        read_mirror,
    )
}

fn write_mirror(
    connection: &Connection,
    operation: &'static str,
    mirror: &InvoiceMirror,
) -> Result<(), StoreError> {
    let metadata = json_text(operation, &mirror.metadata)?;
    let (method, reference, paid_on) = match &mirror.paid_outside {
        Some(paid) => (
            Some(paid.method.as_str()),
            paid.reference.as_deref(),
            paid.paid_on.map(|day| day.to_string()),
        ),
        None => (None, None, None),
    };
    connection
        .execute(
            &format!(
                "INSERT INTO invoice_mirrors ({MIRROR_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
                  ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28) \
                 ON CONFLICT (account, host_invoice_id) DO UPDATE SET \
                 stripe_invoice_id = excluded.stripe_invoice_id, \
                 stripe_customer_id = excluded.stripe_customer_id, \
                 status = excluded.status, number = excluded.number, \
                 currency = excluded.currency, subtotal = excluded.subtotal, \
                 total = excluded.total, amount_due = excluded.amount_due, \
                 amount_paid = excluded.amount_paid, \
                 amount_remaining = excluded.amount_remaining, \
                 starting_balance = excluded.starting_balance, \
                 ending_balance = excluded.ending_balance, \
                 hosted_invoice_url = excluded.hosted_invoice_url, \
                 invoice_pdf = excluded.invoice_pdf, due_date = excluded.due_date, \
                 created = excluded.created, metadata = excluded.metadata, \
                 paid_outside_method = excluded.paid_outside_method, \
                 paid_outside_reference = excluded.paid_outside_reference, \
                 stripe_updated_at = excluded.stripe_updated_at, \
                 payer_kind = excluded.payer_kind, payer_host_id = excluded.payer_host_id, \
                 patient_host_id = excluded.patient_host_id, \
                 paid_at = excluded.paid_at, paid_outside_on = excluded.paid_outside_on, \
                 unrecognised_status = excluded.unrecognised_status"
            ),
            params![
                account_key(mirror.account.as_deref()),
                mirror.host_invoice_id,
                mirror.stripe_invoice_id,
                mirror.stripe_customer_id,
                mirror.status.as_str(),
                mirror.number,
                mirror.currency,
                mirror.subtotal,
                mirror.total,
                mirror.amount_due,
                mirror.amount_paid,
                mirror.amount_remaining,
                mirror.starting_balance,
                mirror.ending_balance,
                mirror.hosted_invoice_url,
                mirror.invoice_pdf,
                mirror.due_date,
                mirror.created,
                metadata,
                method,
                reference,
                mirror.stripe_updated_at,
                mirror.payer_kind.as_str(),
                mirror.payer_host_id,
                mirror.patient_host_id,
                mirror.paid_at,
                paid_on,
                mirror.unrecognised_status,
            ],
        )
        .map_err(write_error(
            operation,
            "invoice_mirrors",
            &mirror.stripe_invoice_id,
        ))?;
    Ok(())
}

/// Builds the `WHERE` clause and parameters of a mirror query.
fn mirror_query_sql(query: &MirrorQuery) -> (String, Vec<Value>) {
    let mut conditions = vec![String::from("account = ?")];
    let mut values = vec![Value::Text(
        account_key(query.account.as_deref()).to_owned(),
    )];
    if let Some(status) = &query.status {
        conditions.push(String::from("status = ?"));
        values.push(Value::Text(status.as_str().to_owned()));
    }
    if let Some(kind) = query.payer_kind {
        conditions.push(String::from("payer_kind = ?"));
        values.push(Value::Text(kind.as_str().to_owned()));
    }
    if let Some(payer) = &query.payer_host_id {
        conditions.push(String::from("payer_host_id = ?"));
        values.push(Value::Text(payer.clone()));
    }
    if let Some(from) = query.created_from {
        conditions.push(String::from("created >= ?"));
        values.push(Value::Integer(from));
    }
    if let Some(before) = query.created_before {
        conditions.push(String::from("created < ?"));
        values.push(Value::Integer(before));
    }
    if let Some(since) = query.changed_since {
        conditions.push(String::from("stripe_updated_at >= ?"));
        values.push(Value::Integer(since));
    }
    for (key, value) in &query.metadata {
        // json_each compares the key as text, so keys needing JSON-path quoting are safe.
        conditions.push(String::from(
            "EXISTS (SELECT 1 FROM json_each(invoice_mirrors.metadata) AS entry \
             WHERE entry.key = ? AND entry.type = 'text' AND entry.value = ?)",
        ));
        values.push(Value::Text(key.clone()));
        values.push(Value::Text(value.clone()));
    }
    if let Some(cursor) = &query.after {
        // A row-value comparison lets SQLite seek the (account, …, created,
        // host_invoice_id) index straight to the cursor; the equivalent `created > ? OR
        // (created = ? AND …)` made it scan every earlier row again on each page.
        conditions.push(String::from("(created, host_invoice_id) > (?, ?)"));
        values.push(Value::Integer(cursor.created));
        values.push(Value::Text(cursor.host_invoice_id.clone()));
    }
    let mut sql = format!(
        "SELECT {MIRROR_COLUMNS} FROM invoice_mirrors WHERE {} ORDER BY created, host_invoice_id",
        conditions.join(" AND ")
    );
    if let Some(limit) = query.limit {
        sql.push_str(" LIMIT ?");
        values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    }
    (sql, values)
}

impl SqliteStore {
    fn customer_link_now(
        &self,
        account: &str,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        query_one(
            &self.lock(),
            "customer_link",
            "SELECT account, party_kind, host_party_id, stripe_customer_id, metadata_sent \
             FROM customer_links WHERE account = ?1 AND party_kind = ?2 AND host_party_id = ?3",
            params![account, party_kind.as_str(), host_party_id],
            read_customer,
        )
    }

    fn customer_link_by_stripe_id_now(
        &self,
        account: &str,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        query_one(
            &self.lock(),
            "customer_link_by_stripe_id",
            "SELECT account, party_kind, host_party_id, stripe_customer_id, metadata_sent \
             FROM customer_links WHERE account = ?1 AND stripe_customer_id = ?2",
            params![account, stripe_customer_id],
            read_customer,
        )
    }

    fn put_customer_link_now(&self, link: &CustomerLink) -> Result<(), StoreError> {
        const OPERATION: &str = "put_customer_link";
        let metadata = json_text(OPERATION, &link.metadata_sent)?;
        self.lock()
            .execute(
                "INSERT INTO customer_links \
                 (account, party_kind, host_party_id, stripe_customer_id, metadata_sent) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (account, party_kind, host_party_id) DO UPDATE SET \
                 stripe_customer_id = excluded.stripe_customer_id, \
                 metadata_sent = excluded.metadata_sent",
                params![
                    account_key(link.account.as_deref()),
                    link.party_kind.as_str(),
                    link.host_party_id,
                    link.stripe_customer_id,
                    metadata,
                ],
            )
            .map_err(write_error(
                OPERATION,
                "customer_links",
                &link.stripe_customer_id,
            ))?;
        Ok(())
    }

    fn execute_now(
        &self,
        operation: &'static str,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<usize, StoreError> {
        self.lock().execute(sql, params).map_err(backend(operation))
    }

    fn invoice_link_now(
        &self,
        operation: &'static str,
        column: &str,
        account: &str,
        id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        query_one(
            &self.lock(),
            operation,
            &format!(
                "SELECT account, host_invoice_id, stripe_invoice_id FROM invoice_links \
                 WHERE account = ?1 AND {column} = ?2"
            ),
            params![account, id],
            read_invoice_link,
        )
    }

    fn put_invoice_link_now(&self, link: &InvoiceLink) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "INSERT INTO invoice_links (account, host_invoice_id, stripe_invoice_id) \
                 VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account, host_invoice_id) DO UPDATE SET \
                 stripe_invoice_id = excluded.stripe_invoice_id",
                params![
                    account_key(link.account.as_deref()),
                    link.host_invoice_id,
                    link.stripe_invoice_id,
                ],
            )
            .map_err(write_error(
                "put_invoice_link",
                "invoice_links",
                &link.stripe_invoice_id,
            ))?;
        Ok(())
    }

    fn default_payer_now(
        &self,
        account: &str,
        patient_host_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.lock()
            .query_row(
                "SELECT organisation_host_id FROM default_payers \
                 WHERE account = ?1 AND patient_host_id = ?2",
                params![account, patient_host_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(backend("default_payer"))
    }

    fn mirror_by_stripe_id_now(
        &self,
        account: &str,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        query_one(
            &self.lock(),
            "invoice_mirror_by_stripe_id",
            &format!(
                "SELECT {MIRROR_COLUMNS} FROM invoice_mirrors \
                 WHERE account = ?1 AND stripe_invoice_id = ?2"
            ),
            params![account, stripe_invoice_id],
            read_mirror,
        )
    }

    fn swap_mirror_now(
        &self,
        expected: Option<&InvoiceMirror>,
        new: &InvoiceMirror,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "swap_invoice_mirror";
        let mut connection = self.lock();
        // Immediate: the read and the write hold the write lock together, so another
        // process cannot slip a write between them.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend(OPERATION))?;
        let current = mirror_by_host_id(
            &transaction,
            account_key(new.account.as_deref()),
            &new.host_invoice_id,
        )?;
        let expected = expected.map(|mirror| InvoiceMirror {
            account: account_field(account_key(mirror.account.as_deref())),
            ..mirror.clone()
        });
        if current != expected {
            return Ok(false);
        }
        write_mirror(&transaction, OPERATION, new)?;
        transaction.commit().map_err(backend(OPERATION))?;
        Ok(true)
    }

    fn query_mirrors_now(&self, query: &MirrorQuery) -> Result<Vec<InvoiceMirror>, StoreError> {
        const OPERATION: &str = "query_invoice_mirrors";
        let (sql, values) = mirror_query_sql(query);
        let connection = self.lock();
        let mut statement = connection.prepare(&sql).map_err(backend(OPERATION))?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(values))
            .map_err(backend(OPERATION))?;
        let mut found = Vec::new();
        while let Some(row) = rows.next().map_err(backend(OPERATION))? {
            found.push(read_mirror(row)?);
        }
        Ok(found)
    }

    fn checkpoint_now(
        &self,
        account: &str,
        host_invoice_id: &str,
    ) -> Result<Option<RaiseCheckpoint>, StoreError> {
        query_one(
            &self.lock(),
            "raise_checkpoint",
            "SELECT account, host_invoice_id, draft_revision, stripe_invoice_id, lines_added, \
             finalized, sent FROM raise_checkpoints WHERE account = ?1 AND host_invoice_id = ?2",
            params![account, host_invoice_id],
            read_checkpoint,
        )
    }

    fn put_checkpoint_now(&self, checkpoint: &RaiseCheckpoint) -> Result<(), StoreError> {
        const OPERATION: &str = "put_raise_checkpoint";
        let lines = json_text(OPERATION, &checkpoint.lines_added)?;
        // SQLite integers are signed 64-bit: reinterpret the bits so every u64 round-trips.
        let revision = checkpoint.draft_revision as i64;
        self.execute_now(
            OPERATION,
            "INSERT INTO raise_checkpoints \
             (account, host_invoice_id, draft_revision, stripe_invoice_id, lines_added, \
              finalized, sent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (account, host_invoice_id) DO UPDATE SET \
             draft_revision = excluded.draft_revision, \
             stripe_invoice_id = excluded.stripe_invoice_id, \
             lines_added = excluded.lines_added, finalized = excluded.finalized, \
             sent = excluded.sent",
            params![
                account_key(checkpoint.account.as_deref()),
                checkpoint.host_invoice_id,
                revision,
                checkpoint.stripe_invoice_id,
                lines,
                checkpoint.finalized,
                checkpoint.sent,
            ],
        )?;
        Ok(())
    }
}

impl SqliteStore {
    fn ledger_invoice_now(
        &self,
        account: &str,
        host_invoice_id: &str,
    ) -> Result<Option<LedgerRecord>, StoreError> {
        query_one(
            &self.lock(),
            "ledger_invoice",
            "SELECT account, host_invoice_id, revision, record FROM ledger_invoices \
             WHERE account = ?1 AND host_invoice_id = ?2",
            params![account, host_invoice_id],
            read_ledger_record,
        )
    }

    fn swap_ledger_now(
        &self,
        expected_revision: Option<u64>,
        record: &LedgerRecord,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "swap_ledger_invoice";
        let text = json_text(OPERATION, record)?;
        let account = account_key(record.account.as_deref());
        let mut connection = self.lock();
        // Immediate: the read and the write hold the write lock together, so another
        // connection or process cannot slip a write between them.
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend(OPERATION))?;
        let current = query_one(
            &transaction,
            OPERATION,
            "SELECT host_invoice_id, revision FROM ledger_invoices \
             WHERE account = ?1 AND host_invoice_id = ?2",
            params![account, record.host_invoice_id()],
            read_ledger_revision,
        )?;
        if current != expected_revision {
            return Ok(false);
        }
        transaction
            .execute(
                "INSERT INTO ledger_invoices (account, host_invoice_id, revision, record) \
                 VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (account, host_invoice_id) DO UPDATE SET \
                 revision = excluded.revision, record = excluded.record",
                params![
                    account,
                    record.host_invoice_id(),
                    // SQLite integers are signed 64-bit: reinterpret the bits.
                    record.revision as i64,
                    text,
                ],
            )
            .map_err(backend(OPERATION))?;
        transaction.commit().map_err(backend(OPERATION))?;
        Ok(true)
    }

    fn ledger_invoices_now(
        &self,
        account: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        const OPERATION: &str = "ledger_invoices";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let connection = self.lock();
        // Without `after` (NULL) the condition holds for every row: the first page.
        let mut statement = connection
            .prepare(
                "SELECT account, host_invoice_id, revision, record FROM ledger_invoices \
                 WHERE account = ?1 AND (?2 IS NULL OR host_invoice_id > ?2) \
                 ORDER BY host_invoice_id LIMIT ?3",
            )
            .map_err(backend(OPERATION))?;
        let mut rows = statement
            .query(params![account, after, limit])
            .map_err(backend(OPERATION))?;
        let mut found = Vec::new();
        while let Some(row) = rows.next().map_err(backend(OPERATION))? {
            found.push(read_ledger_record(row)?);
        }
        Ok(found)
    }

    fn next_invoice_number_now(&self, account: &str) -> Result<u64, StoreError> {
        const OPERATION: &str = "next_invoice_number";
        // One statement takes the number, so it is atomic across connections and
        // processes too.
        let number: i64 = self
            .lock()
            .query_row(
                "INSERT INTO ledger_invoice_numbers (account, last_number) VALUES (?1, 1) \
                 ON CONFLICT (account) DO UPDATE SET last_number = last_number + 1 \
                 RETURNING last_number",
                params![account],
                |row| row.get(0),
            )
            .map_err(backend(OPERATION))?;
        u64::try_from(number).map_err(|error| StoreError::Corrupt {
            table: "ledger_invoice_numbers",
            field: "last_number",
            key: account.to_owned(),
            source: Some(Box::new(error)),
        })
    }
}

/// The books of [`crate::offline`], in the same database as the mirrors (schema
/// version 3). Like every method of the store, these run synchronously under the
/// connection's lock (see [`SqliteStore`]).
#[async_trait]
impl LedgerStore for SqliteStore {
    async fn ledger_invoice(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<LedgerRecord>, StoreError> {
        self.ledger_invoice_now(account_key(account), host_invoice_id)
    }

    async fn swap_ledger_invoice(
        &self,
        expected_revision: Option<u64>,
        record: &LedgerRecord,
    ) -> Result<bool, StoreError> {
        self.swap_ledger_now(expected_revision, record)
    }

    async fn ledger_invoices(
        &self,
        account: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        self.ledger_invoices_now(account_key(account), after, limit)
    }

    async fn next_invoice_number(&self, account: Option<&str>) -> Result<u64, StoreError> {
        self.next_invoice_number_now(account_key(account))
    }
}

#[async_trait]
impl SyncStore for SqliteStore {
    fn as_ledger(self: std::sync::Arc<Self>) -> Option<std::sync::Arc<dyn LedgerStore>> {
        Some(self)
    }

    async fn customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        self.customer_link_now(account_key(account), party_kind, host_party_id)
    }

    async fn customer_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        self.customer_link_by_stripe_id_now(account_key(account), stripe_customer_id)
    }

    async fn put_customer_link(&self, link: &CustomerLink) -> Result<(), StoreError> {
        self.put_customer_link_now(link)
    }

    async fn remove_customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self.execute_now(
            "remove_customer_link",
            "DELETE FROM customer_links \
             WHERE account = ?1 AND party_kind = ?2 AND host_party_id = ?3",
            params![account_key(account), party_kind.as_str(), host_party_id],
        )?;
        Ok(removed > 0)
    }

    async fn invoice_link(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        self.invoice_link_now(
            "invoice_link",
            "host_invoice_id",
            account_key(account),
            host_invoice_id,
        )
    }

    async fn invoice_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        self.invoice_link_now(
            "invoice_link_by_stripe_id",
            "stripe_invoice_id",
            account_key(account),
            stripe_invoice_id,
        )
    }

    async fn put_invoice_link(&self, link: &InvoiceLink) -> Result<(), StoreError> {
        self.put_invoice_link_now(link)
    }

    async fn default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.default_payer_now(account_key(account), patient_host_id)
    }

    async fn set_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
        organisation_host_id: &str,
    ) -> Result<(), StoreError> {
        self.execute_now(
            "set_default_payer",
            "INSERT INTO default_payers (account, patient_host_id, organisation_host_id) \
             VALUES (?1, ?2, ?3) ON CONFLICT (account, patient_host_id) DO UPDATE SET \
             organisation_host_id = excluded.organisation_host_id",
            params![account_key(account), patient_host_id, organisation_host_id],
        )?;
        Ok(())
    }

    async fn clear_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self.execute_now(
            "clear_default_payer",
            "DELETE FROM default_payers WHERE account = ?1 AND patient_host_id = ?2",
            params![account_key(account), patient_host_id],
        )?;
        Ok(removed > 0)
    }

    async fn mark_event_processed(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        // One statement decides the claim, so it is atomic across connections and
        // processes too: only the insert that creates the row reports a change.
        let inserted = self.execute_now(
            "mark_event_processed",
            "INSERT INTO processed_events (account, event_id, processed_at) \
             VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER)) \
             ON CONFLICT (account, event_id) DO NOTHING",
            params![account_key(account), event_id],
        )?;
        Ok(inserted == 1)
    }

    async fn forget_event(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self.execute_now(
            "forget_event",
            "DELETE FROM processed_events WHERE account = ?1 AND event_id = ?2",
            params![account_key(account), event_id],
        )?;
        Ok(removed > 0)
    }

    async fn invoice_mirror(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        mirror_by_host_id(&self.lock(), account_key(account), host_invoice_id)
    }

    async fn invoice_mirror_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        self.mirror_by_stripe_id_now(account_key(account), stripe_invoice_id)
    }

    async fn put_invoice_mirror(&self, mirror: &InvoiceMirror) -> Result<(), StoreError> {
        write_mirror(&self.lock(), "put_invoice_mirror", mirror)
    }

    async fn swap_invoice_mirror(
        &self,
        expected: Option<&InvoiceMirror>,
        new: &InvoiceMirror,
    ) -> Result<bool, StoreError> {
        self.swap_mirror_now(expected, new)
    }

    async fn query_invoice_mirrors(
        &self,
        query: &MirrorQuery,
    ) -> Result<Vec<InvoiceMirror>, StoreError> {
        self.query_mirrors_now(query)
    }

    async fn raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<RaiseCheckpoint>, StoreError> {
        self.checkpoint_now(account_key(account), host_invoice_id)
    }

    async fn put_raise_checkpoint(&self, checkpoint: &RaiseCheckpoint) -> Result<(), StoreError> {
        self.put_checkpoint_now(checkpoint)
    }

    async fn clear_raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<bool, StoreError> {
        let removed = self.execute_now(
            "clear_raise_checkpoint",
            "DELETE FROM raise_checkpoints WHERE account = ?1 AND host_invoice_id = ?2",
            params![account_key(account), host_invoice_id],
        )?;
        Ok(removed > 0)
    }
}

//! Where a bridge and offline billing keep their state: the in-memory stores and the
//! SQLite store (one file can hold both the sync state and the offline books).

use std::path::PathBuf;
use std::sync::Arc;

use billbridge::store::{
    LedgerStore, MemoryLedgerStore as CoreMemoryLedger, MemoryStore as CoreMemoryStore,
    SqliteStore as CoreSqliteStore, SyncStore,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::BindingError;
use crate::runtime::promise;

/// The in-memory sync store (lost when the process ends).
#[napi]
pub struct MemoryStore(Arc<CoreMemoryStore>);

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore(Arc::new(CoreMemoryStore::new()))
    }
}

#[napi]
impl MemoryStore {
    /// An empty store.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        MemoryStore(Arc::new(CoreMemoryStore::new()))
    }
}

/// The SQLite store: host ↔ Stripe links, processed webhooks, invoice records and the
/// offline books survive restarts. One process at a time.
#[napi]
pub struct SqliteStore {
    store: Arc<CoreSqliteStore>,
    path: String,
}

#[napi]
impl SqliteStore {
    /// Opens (or creates) the database at `path`; rejects with `StoreError` when it
    /// cannot.
    #[napi(ts_return_type = "Promise<SqliteStore>", catch_unwind)]
    pub fn open<'env>(env: &'env Env, path: String) -> Result<PromiseRaw<'env, SqliteStore>> {
        promise(
            env,
            async move {
                let file = PathBuf::from(&path);
                let opened = tokio::task::spawn_blocking(move || CoreSqliteStore::open(&file))
                    .await
                    .map_err(|error| BindingError::internal("task_failed", error.to_string()))?;
                Ok((opened?, path))
            },
            |_, (store, path)| {
                Ok(SqliteStore {
                    store: Arc::new(store),
                    path,
                })
            },
        )
    }

    /// The database file.
    #[napi(getter, catch_unwind)]
    pub fn path(&self) -> String {
        self.path.clone()
    }
}

/// The in-memory ledger of offline invoices and their payments (lost when the process
/// ends); give the same one to several `OfflineBilling` objects to share the books.
#[napi]
pub struct MemoryLedgerStore(CoreMemoryLedger);

impl Default for MemoryLedgerStore {
    fn default() -> Self {
        MemoryLedgerStore(CoreMemoryLedger::new())
    }
}

#[napi]
impl MemoryLedgerStore {
    /// An empty ledger.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        MemoryLedgerStore(CoreMemoryLedger::new())
    }
}

/// A sync store given as a `MemoryStore` or a `SqliteStore`.
pub type StoreLike<'a> = Either<&'a MemoryStore, &'a SqliteStore>;

/// The core store of a `StoreLike`.
pub fn sync_store(value: &StoreLike) -> Arc<dyn SyncStore> {
    match value {
        Either::A(memory) => memory.0.clone(),
        Either::B(sqlite) => sqlite.store.clone(),
    }
}

/// A ledger given as a `MemoryLedgerStore` or a `SqliteStore`.
pub type LedgerLike<'a> = Either<&'a MemoryLedgerStore, &'a SqliteStore>;

/// The core ledger of a `LedgerLike`.
pub fn ledger_store(value: &LedgerLike) -> Arc<dyn LedgerStore> {
    match value {
        Either::A(memory) => Arc::new(memory.0.clone()),
        Either::B(sqlite) => sqlite.store.clone(),
    }
}

//! Where a bridge and offline billing keep their state: the in-memory stores and the
//! SQLite store (one file can hold both the sync state and the offline books); the
//! PostgreSQL store lives in `postgres.rs`.

use std::path::PathBuf;
use std::sync::Arc;

use billbridge::store::{LedgerStore, MemoryLedgerStore, MemoryStore, SqliteStore, SyncStore};
use pyo3::Borrowed;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::convert::Wrap;
use crate::errors::raise;

/// The in-memory sync store (lost when the process ends).
#[pyclass(name = "MemoryStore", module = "billbridge", frozen)]
pub struct PyMemoryStore(Arc<MemoryStore>);

#[pymethods]
impl PyMemoryStore {
    #[new]
    fn new() -> Self {
        PyMemoryStore(Arc::new(MemoryStore::new()))
    }

    fn __repr__(&self) -> &'static str {
        "MemoryStore()"
    }
}

/// The SQLite store: the host ↔ Stripe links and the offline books survive restarts.
#[pyclass(name = "SqliteStore", module = "billbridge", frozen)]
pub struct PySqliteStore {
    store: Arc<SqliteStore>,
    path: String,
}

#[pymethods]
impl PySqliteStore {
    /// Opens (or creates) the database at `path` (`str` or `os.PathLike`).
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        let store = SqliteStore::open(&path).map_err(raise)?;
        Ok(PySqliteStore {
            store: Arc::new(store),
            path: path.display().to_string(),
        })
    }

    fn __repr__(&self) -> String {
        format!("SqliteStore({:?})", self.path)
    }
}

/// The in-memory ledger of offline invoices and their payments (lost when the process
/// ends); give the same one to several `OfflineBilling` objects to share the books.
#[pyclass(name = "MemoryLedgerStore", module = "billbridge", frozen)]
pub struct PyMemoryLedgerStore(MemoryLedgerStore);

#[pymethods]
impl PyMemoryLedgerStore {
    #[new]
    fn new() -> Self {
        PyMemoryLedgerStore(MemoryLedgerStore::new())
    }

    fn __repr__(&self) -> &'static str {
        "MemoryLedgerStore()"
    }
}

/// A sync store given as a `MemoryStore` or a `SqliteStore`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Arc<dyn SyncStore>> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(memory) = value.cast::<PyMemoryStore>() {
            return Ok(Wrap(memory.get().0.clone()));
        }
        if let Ok(sqlite) = value.cast::<PySqliteStore>() {
            return Ok(Wrap(sqlite.get().store.clone()));
        }
        if let Some(postgres) = crate::postgres::sync_store(&value) {
            return Ok(Wrap(postgres));
        }
        Err(PyTypeError::new_err(
            "store must be a MemoryStore, a SqliteStore or a PostgresStore",
        ))
    }
}

/// A ledger store given as a `MemoryLedgerStore` or a `SqliteStore`.
impl<'a, 'py> FromPyObject<'a, 'py> for Wrap<Arc<dyn LedgerStore>> {
    type Error = PyErr;

    fn extract(value: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(memory) = value.cast::<PyMemoryLedgerStore>() {
            return Ok(Wrap(Arc::new(memory.get().0.clone())));
        }
        if let Ok(sqlite) = value.cast::<PySqliteStore>() {
            return Ok(Wrap(sqlite.get().store.clone()));
        }
        if let Some(postgres) = crate::postgres::ledger_store(&value) {
            return Ok(Wrap(postgres));
        }
        Err(PyTypeError::new_err(
            "ledger must be a MemoryLedgerStore, a SqliteStore or a PostgresStore",
        ))
    }
}

/// Registers the store classes.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyMemoryStore>()?;
    module.add_class::<PySqliteStore>()?;
    module.add_class::<PyMemoryLedgerStore>()?;
    Ok(())
}

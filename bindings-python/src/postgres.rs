//! `PostgresStore`: the sync store and offline books in PostgreSQL, for hosts running
//! many processes and many practices on one database. Connecting runs on the binding's
//! runtime, which then drives the store's connections.

use std::sync::Arc;

use billbridge::store::{LedgerStore, PostgresStore, SyncStore};
use pyo3::Borrowed;
use pyo3::prelude::*;

use crate::errors::BindingError;
use crate::runtime::block_on;

/// The PostgreSQL store; its URL's password never shows in `repr()` or errors.
#[pyclass(name = "PostgresStore", module = "billbridge", frozen)]
pub struct PyPostgresStore {
    store: Arc<PostgresStore>,
}

#[pymethods]
impl PyPostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database`) and brings the
    /// schema up to date; blocks with the GIL released.
    #[new]
    #[pyo3(signature = (url, *, schema=None, max_connections=None))]
    fn new(
        py: Python<'_>,
        url: String,
        schema: Option<String>,
        max_connections: Option<usize>,
    ) -> PyResult<Self> {
        let store = block_on(py, async move {
            let mut builder = PostgresStore::builder(url);
            if let Some(schema) = schema {
                builder = builder.schema(schema);
            }
            if let Some(connections) = max_connections {
                builder = builder.max_connections(connections);
            }
            builder
                .connect()
                .await
                .map_err(|error| BindingError::Core(error.into()))
        })?;
        Ok(PyPostgresStore {
            store: Arc::new(store),
        })
    }

    /// The schema holding billbridge's tables.
    #[getter]
    fn schema(&self) -> &str {
        self.store.schema()
    }

    fn __repr__(&self) -> String {
        format!(
            "PostgresStore({:?}, schema={:?})",
            self.store.redacted_url(),
            self.store.schema()
        )
    }
}

/// The store of a `PostgresStore` object, for `stores.rs`.
pub fn sync_store(value: &Borrowed<'_, '_, PyAny>) -> Option<Arc<dyn SyncStore>> {
    let store = value.cast::<PyPostgresStore>().ok()?;
    Some(store.get().store.clone())
}

/// The books of a `PostgresStore` object, for `stores.rs`.
pub fn ledger_store(value: &Borrowed<'_, '_, PyAny>) -> Option<Arc<dyn LedgerStore>> {
    let store = value.cast::<PyPostgresStore>().ok()?;
    Some(store.get().store.clone())
}

/// Registers the class.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<PyPostgresStore>()
}

//! The offline ledger's storage: [`LedgerRecord`] (one offline invoice with its payment
//! history, the source of truth of [`crate::offline`]) and the [`LedgerStore`] trait
//! that keeps them, with its in-memory implementation [`MemoryLedgerStore`]. The SQLite
//! store implements it too, in the same database file as its mirrors.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{MetadataMap, StoreError};
use crate::domain::date::Date;
use crate::domain::invoice::InvoiceDraft;
use crate::domain::ledger::LedgerInvoice;

/// One offline invoice as the ledger store keeps it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRecord {
    /// The account the invoice belongs to; `None` for the practice's own books.
    pub account: Option<String>,
    /// The invoice, its lines, payments and status.
    pub invoice: LedgerInvoice,
    /// The locally assigned invoice number.
    pub number: String,
    /// The draft it was raised from, so that raising it again is recognised.
    pub draft: InvoiceDraft,
    /// When payment is due, for invoices sent for payment.
    pub due_on: Option<Date>,
    /// Metadata reported with the invoice (CSV metadata columns, filters).
    pub metadata: MetadataMap,
    /// The day of the last change.
    pub updated_on: Date,
    /// Incremented on every write; the compare-and-set token of
    /// [`LedgerStore::swap_ledger_invoice`].
    pub revision: u64,
}

impl fmt::Debug for LedgerRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerRecord")
            .field("account", &self.account)
            .field("host_invoice_id", &self.invoice.id)
            .field("number", &self.number)
            .field("status", &self.invoice.status)
            .field("total", &self.invoice.total)
            .field("payments", &self.invoice.payments.len())
            .field("due_on", &self.due_on)
            .field("metadata", &self.metadata)
            .field("updated_on", &self.updated_on)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

impl LedgerRecord {
    /// The host id of the invoice.
    pub fn host_invoice_id(&self) -> &str {
        self.invoice.id.as_str()
    }
}

/// Where offline invoices and their payment history are kept.
///
/// Every key is scoped by account (`None`: the practice's own books), as in
/// [`super::SyncStore`]. Implementations must make [`LedgerStore::swap_ledger_invoice`] atomic
/// and [`LedgerStore::next_invoice_number`] never return the same number twice for an
/// account.
///
/// # Errors
/// Every method returns [`StoreError`] when the database underneath fails.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// The offline invoice `host_invoice_id`, if any.
    ///
    /// # Errors
    /// See the trait.
    async fn ledger_invoice(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<LedgerRecord>, StoreError>;

    /// Compare-and-set: writes `record` only if the stored record of its invoice has
    /// revision `expected_revision` (`None`: no record yet). Returns whether it wrote.
    ///
    /// # Errors
    /// See the trait.
    async fn swap_ledger_invoice(
        &self,
        expected_revision: Option<u64>,
        record: &LedgerRecord,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` records of `account` in host invoice id order, strictly after the
    /// host id `after` when given (for paging).
    ///
    /// # Errors
    /// See the trait.
    async fn ledger_invoices(
        &self,
        account: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, StoreError>;

    /// The next invoice sequence number of `account`: 1, 2, 3, …
    ///
    /// # Errors
    /// See the trait.
    async fn next_invoice_number(&self, account: Option<&str>) -> Result<u64, StoreError>;
}

#[async_trait]
impl<T: LedgerStore + ?Sized> LedgerStore for Arc<T> {
    async fn ledger_invoice(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<LedgerRecord>, StoreError> {
        (**self).ledger_invoice(account, host_invoice_id).await
    }

    async fn swap_ledger_invoice(
        &self,
        expected_revision: Option<u64>,
        record: &LedgerRecord,
    ) -> Result<bool, StoreError> {
        (**self)
            .swap_ledger_invoice(expected_revision, record)
            .await
    }

    async fn ledger_invoices(
        &self,
        account: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        (**self).ledger_invoices(account, after, limit).await
    }

    async fn next_invoice_number(&self, account: Option<&str>) -> Result<u64, StoreError> {
        (**self).next_invoice_number(account).await
    }
}

#[derive(Default)]
struct LedgerState {
    /// `(account, host invoice id)` → record.
    records: BTreeMap<(String, String), LedgerRecord>,
    /// account → last number handed out.
    numbers: BTreeMap<String, u64>,
}

/// An in-memory [`LedgerStore`]; clones share the same data.
#[derive(Clone, Default)]
pub struct MemoryLedgerStore {
    state: Arc<Mutex<LedgerState>>,
}

impl fmt::Debug for MemoryLedgerStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLedgerStore").finish_non_exhaustive()
    }
}

impl MemoryLedgerStore {
    /// An empty ledger.
    pub fn new() -> MemoryLedgerStore {
        MemoryLedgerStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, LedgerState> {
        // Each write below is a single insert, so a poisoned lock still guards
        // consistent data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn account_key(account: Option<&str>) -> String {
    account.unwrap_or("").to_owned()
}

#[async_trait]
impl LedgerStore for MemoryLedgerStore {
    async fn ledger_invoice(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<LedgerRecord>, StoreError> {
        let key = (account_key(account), host_invoice_id.to_owned());
        Ok(self.lock().records.get(&key).cloned())
    }

    async fn swap_ledger_invoice(
        &self,
        expected_revision: Option<u64>,
        record: &LedgerRecord,
    ) -> Result<bool, StoreError> {
        let key = (
            account_key(record.account.as_deref()),
            record.host_invoice_id().to_owned(),
        );
        let mut state = self.lock();
        let current = state.records.get(&key).map(|stored| stored.revision);
        if current != expected_revision {
            return Ok(false);
        }
        state.records.insert(key, record.clone());
        Ok(true)
    }

    async fn ledger_invoices(
        &self,
        account: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        use std::ops::Bound;
        let account = account_key(account);
        let start = match after {
            Some(after) => Bound::Excluded((account.clone(), after.to_owned())),
            None => Bound::Included((account.clone(), String::new())),
        };
        let state = self.lock();
        Ok(state
            .records
            .range((start, Bound::Unbounded))
            .take_while(|((record_account, _), _)| *record_account == account)
            .take(limit)
            .map(|(_, record)| record.clone())
            .collect())
    }

    async fn next_invoice_number(&self, account: Option<&str>) -> Result<u64, StoreError> {
        let mut state = self.lock();
        let number = state.numbers.entry(account_key(account)).or_insert(0);
        *number = number.saturating_add(1);
        Ok(*number)
    }
}

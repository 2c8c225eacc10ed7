//! [`SyncStore`]: where billbridge keeps what it knows about the host ↔ Stripe
//! relationship, and the records it keeps.
//!
//! The store answers the questions Stripe cannot answer reliably: "did we already create
//! this customer / invoice?" (Stripe's idempotency keys expire after a day and Search is
//! eventually consistent, so the long-term answer is our own id map), "did we already
//! handle this webhook event?" (delivery is at least once), "what is the last state we
//! saw of this invoice?" (so a late or reordered event never moves a status backwards),
//! and "how far did raising this invoice get?" (so a crashed or retried raise resumes
//! instead of duplicating lines).
//!
//! Every key is scoped by Stripe account: `None` is the platform's own account, `Some`
//! a Connect account (`acct_…`). The same host id under two accounts is two records.
//! An empty account id (`Some("")`) is treated as the platform account.
//!
//! billbridge ships [`MemoryStore`] (the default), with feature `sqlite` `SqliteStore`
//! (one process), and with feature `postgres` `PostgresStore` (many worker processes
//! and many practices sharing the host's PostgreSQL); a host can implement [`SyncStore`]
//! on its own database. Every implementation must pass the same contract
//! (`tests/store_contract.rs`).

use crate::classify::{Classify, ErrorCategory};
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::date::Date;
use crate::domain::status::InvoiceStatus;
use crate::redact::redacted;

mod ledger;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use ledger::{LedgerRecord, LedgerStore, MemoryLedgerStore};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresConfigError, PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Metadata as billbridge keeps it: ordered by key so that stored and serialised forms
/// are deterministic; `Debug` shows keys only.
pub use crate::domain::metadata::MetadataMap;

/// Which kind of host record a party id names. Host ids of patients and organisations may
/// come from different tables and collide, so the kind is part of every party key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// A patient (or client) of the practice.
    Patient,
    /// An organisation that pays for patients: insurer, employer, charity, another practice.
    Organisation,
}

crate::vocabulary!(PartyKind, "payer kind", "unknown_payer_kind", {
    PartyKind::Patient => "patient",
    PartyKind::Organisation => "organisation",
});

/// The link between a host party (patient or organisation) and its Stripe customer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerLink {
    /// The Stripe account the customer lives in; `None` for the platform account.
    pub account: Option<String>,
    /// Whether the host id names a patient or an organisation.
    pub party_kind: PartyKind,
    /// The host's id of the party.
    pub host_party_id: String,
    /// Stripe's customer id (`cus_…`).
    pub stripe_customer_id: String,
    /// The metadata last sent to Stripe for this customer, so that the next sync can send
    /// only the difference and remove keys that were switched off since.
    pub metadata_sent: MetadataMap,
}

/// The link between a host invoice and the Stripe invoice raised for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InvoiceLink {
    /// The Stripe account the invoice lives in; `None` for the platform account.
    pub account: Option<String>,
    /// The host's id of the invoice.
    pub host_invoice_id: String,
    /// Stripe's invoice id (`in_…`).
    pub stripe_invoice_id: String,
}

/// How an invoice was paid when it was marked paid outside Stripe (cash, cheque, bank
/// transfer, insurance…). `Debug` shows whether a reference is set, not the reference.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OutsidePayment {
    /// The payment method as the host names it, e.g. `cash` or `bank_transfer`.
    pub method: String,
    /// The host's reference for the payment (cheque number, remittance id), if any.
    pub reference: Option<String>,
    /// The day the payment was received, as the host recorded it (serialised
    /// `YYYY-MM-DD`). `None` only in records written before billbridge kept the day.
    #[serde(default)]
    pub paid_on: Option<Date>,
}

impl fmt::Debug for OutsidePayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A reference can be a bank reference or a claim number: presence only.
        let OutsidePayment {
            method,
            reference,
            paid_on,
        } = self;
        f.debug_struct("OutsidePayment")
            .field("method", method)
            .field("reference", &redacted(reference))
            .field("paid_on", paid_on)
            .finish()
    }
}

/// The host's copy of one invoice's Stripe state, kept current by webhooks and re-syncs
/// and used for reporting without calling Stripe.
///
/// Amounts are integer minor units of [`InvoiceMirror::currency`], as Stripe sends them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceMirror {
    /// The Stripe account the invoice lives in; `None` for the platform account.
    pub account: Option<String>,
    /// The host's id of the invoice.
    pub host_invoice_id: String,
    /// Stripe's invoice id (`in_…`).
    pub stripe_invoice_id: String,
    /// Stripe's id of the customer billed (`cus_…`).
    pub stripe_customer_id: String,
    /// The last known status ([`InvoiceStatus::Deleted`] for a deleted draft).
    pub status: InvoiceStatus,
    /// A status Stripe sent that this version of billbridge does not know, as Stripe
    /// spelled it; `None` when Stripe's latest status is a known one.
    #[serde(default)]
    pub unrecognised_status: Option<String>,
    /// The invoice number, assigned by Stripe at finalization.
    pub number: Option<String>,
    /// Three-letter ISO currency code, lowercase as Stripe sends it.
    pub currency: String,
    /// Sum of the lines before discounts and taxes.
    pub subtotal: i64,
    /// Total after discounts and taxes.
    pub total: i64,
    /// What the payer is asked to pay after the customer balance is applied.
    pub amount_due: i64,
    /// What has been paid so far.
    pub amount_paid: i64,
    /// `amount_due - amount_paid`.
    pub amount_remaining: i64,
    /// The customer balance when the invoice was finalized.
    pub starting_balance: i64,
    /// The customer balance after the invoice was finalized; Stripe leaves it empty on drafts.
    pub ending_balance: Option<i64>,
    /// The hosted payment page, once finalized.
    pub hosted_invoice_url: Option<String>,
    /// The PDF download link, once finalized.
    pub invoice_pdf: Option<String>,
    /// When payment is due (unix seconds), for invoices sent for payment.
    pub due_date: Option<i64>,
    /// When Stripe created the invoice (unix seconds).
    pub created: i64,
    /// The invoice's metadata as Stripe holds it.
    pub metadata: MetadataMap,
    /// When the invoice became paid (unix seconds): Stripe's
    /// `status_transitions.paid_at`, or for offline invoices midnight UTC of the day of
    /// the payment that settled it. `None` while unpaid, and in records written before
    /// billbridge kept it.
    #[serde(default)]
    pub paid_at: Option<i64>,
    /// Set when the invoice was marked paid outside Stripe.
    pub paid_outside: Option<OutsidePayment>,
    /// When the state held here was current at Stripe (unix seconds): the `created` time
    /// of the last event applied, or the time of the last fetch. Orders updates so that
    /// an older snapshot does not overwrite a newer one.
    pub stripe_updated_at: i64,
    /// Whether the payer is a patient or an organisation.
    pub payer_kind: PartyKind,
    /// The host's id of the party who pays.
    pub payer_host_id: String,
    /// The host's id of the patient the invoice is for, when it is for one.
    pub patient_host_id: Option<String>,
}

/// One draft line already added to the Stripe invoice while raising it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddedLine {
    /// The line's position in the host's draft.
    pub line_index: u32,
    /// Stripe's id of the created line item, when known.
    pub stripe_line_id: Option<String>,
}

/// How far raising one host invoice got, so that a retry resumes where it stopped
/// instead of creating a second invoice or adding a line twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RaiseCheckpoint {
    /// The Stripe account the invoice is raised in; `None` for the platform account.
    pub account: Option<String>,
    /// The host's id of the invoice being raised.
    pub host_invoice_id: String,
    /// The revision of the host's draft this checkpoint belongs to; a new revision
    /// starts over.
    pub draft_revision: u64,
    /// Stripe's invoice id once the invoice was created.
    pub stripe_invoice_id: Option<String>,
    /// Lines already added, in the order they were added.
    pub lines_added: Vec<AddedLine>,
    /// Whether the invoice was finalized.
    pub finalized: bool,
    /// Whether the invoice was sent to the payer.
    pub sent: bool,
}

/// Where a page of [`SyncStore::query_invoice_mirrors`] stopped: results continue strictly
/// after this `(created, host_invoice_id)` position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MirrorCursor {
    /// `created` of the last mirror returned.
    pub created: i64,
    /// `host_invoice_id` of the last mirror returned.
    pub host_invoice_id: String,
}

impl MirrorCursor {
    /// The cursor positioned on `mirror`, to ask for the mirrors that follow it.
    pub fn after(mirror: &InvoiceMirror) -> MirrorCursor {
        MirrorCursor {
            created: mirror.created,
            host_invoice_id: mirror.host_invoice_id.clone(),
        }
    }
}

/// A filter over the invoice mirrors of one account. Every condition set must hold.
/// Results are ordered by `created`, then `host_invoice_id`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorQuery {
    /// The account searched; `None` for the platform account.
    pub account: Option<String>,
    /// Only mirrors with this status.
    pub status: Option<InvoiceStatus>,
    /// Only mirrors whose payer is of this kind.
    pub payer_kind: Option<PartyKind>,
    /// Only mirrors with this payer host id.
    pub payer_host_id: Option<String>,
    /// Only mirrors created at or after this time (unix seconds).
    pub created_from: Option<i64>,
    /// Only mirrors created strictly before this time (unix seconds).
    pub created_before: Option<i64>,
    /// Only mirrors whose metadata holds every one of these key/value pairs.
    pub metadata: MetadataMap,
    /// Only mirrors whose `stripe_updated_at` is at or after this time: what changed since
    /// the last re-sync. Inclusive, so a change in the same second is not missed.
    pub changed_since: Option<i64>,
    /// Only mirrors after this position in the result order (for paging).
    pub after: Option<MirrorCursor>,
    /// At most this many mirrors.
    pub limit: Option<usize>,
}

impl MirrorQuery {
    /// Every mirror of `account` (`None` for the platform account).
    pub fn for_account(account: Option<&str>) -> MirrorQuery {
        MirrorQuery {
            account: account.map(str::to_owned),
            ..MirrorQuery::default()
        }
    }

    /// Keeps only mirrors with `status`.
    pub fn status(mut self, status: InvoiceStatus) -> MirrorQuery {
        self.status = Some(status);
        self
    }

    /// Keeps only mirrors paid by this party.
    pub fn payer(mut self, kind: PartyKind, host_id: &str) -> MirrorQuery {
        self.payer_kind = Some(kind);
        self.payer_host_id = Some(host_id.to_owned());
        self
    }

    /// Keeps only mirrors created in `[from, before)` (unix seconds).
    pub fn created_between(mut self, from: i64, before: i64) -> MirrorQuery {
        self.created_from = Some(from);
        self.created_before = Some(before);
        self
    }

    /// Keeps only mirrors whose metadata maps `key` to `value`.
    pub fn metadata(mut self, key: &str, value: &str) -> MirrorQuery {
        self.metadata.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Keeps only mirrors updated at or after `since` (unix seconds).
    pub fn changed_since(mut self, since: i64) -> MirrorQuery {
        self.changed_since = Some(since);
        self
    }

    /// Continues after `cursor`.
    pub fn after(mut self, cursor: MirrorCursor) -> MirrorQuery {
        self.after = Some(cursor);
        self
    }

    /// Returns at most `limit` mirrors.
    pub fn limit(mut self, limit: usize) -> MirrorQuery {
        self.limit = Some(limit);
        self
    }

    /// Whether `mirror` passes every condition of this query, the account and the cursor
    /// included (the limit is not a condition). Stores without their own query language
    /// can filter with this, then sort by `(created, host_invoice_id)`.
    pub fn matches(&self, mirror: &InvoiceMirror) -> bool {
        if account_key(self.account.as_deref()) != account_key(mirror.account.as_deref()) {
            return false;
        }
        if self.status.as_ref().is_some_and(|s| *s != mirror.status) {
            return false;
        }
        if self.payer_kind.is_some_and(|k| k != mirror.payer_kind) {
            return false;
        }
        if self
            .payer_host_id
            .as_ref()
            .is_some_and(|p| *p != mirror.payer_host_id)
        {
            return false;
        }
        if self.created_from.is_some_and(|t| mirror.created < t) {
            return false;
        }
        if self.created_before.is_some_and(|t| mirror.created >= t) {
            return false;
        }
        if self
            .changed_since
            .is_some_and(|t| mirror.stripe_updated_at < t)
        {
            return false;
        }
        if self
            .metadata
            .iter()
            .any(|(k, v)| mirror.metadata.get(k) != Some(v))
        {
            return false;
        }
        if let Some(cursor) = &self.after {
            let position = (mirror.created, mirror.host_invoice_id.as_str());
            if position <= (cursor.created, cursor.host_invoice_id.as_str()) {
                return false;
            }
        }
        true
    }
}

/// The account key used inside stores: the platform account and an empty account id are
/// the same account.
pub(crate) fn account_key(account: Option<&str>) -> &str {
    account.unwrap_or("")
}

/// The account as records carry it: `None` for the platform account.
pub(crate) fn account_field(account: &str) -> Option<String> {
    if account.is_empty() {
        None
    } else {
        Some(account.to_owned())
    }
}

/// The cause of a [`StoreError::Backend`]: any error of the database underneath.
pub type BackendError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure of a [`SyncStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database underneath failed (I/O, locking, a full disk, a closed connection).
    #[error("sync store backend failed during {operation}")]
    Backend {
        /// What the store was doing, e.g. `put_invoice_mirror`.
        operation: &'static str,
        /// The database's own error.
        #[source]
        source: BackendError,
    },
    /// The database was written by a newer billbridge whose schema this version cannot read.
    #[error(
        "sync store schema version {found} is newer than the newest this version of billbridge knows ({supported})"
    )]
    SchemaTooNew {
        /// The schema version found in the database.
        found: i64,
        /// The newest schema version this build can read.
        supported: i64,
    },
    /// A stored value could not be read back (a record edited by hand, or damage).
    #[error("sync store holds an unreadable {field} in {table} for key {key:?}")]
    Corrupt {
        /// The table or collection holding the value.
        table: &'static str,
        /// The field that could not be read.
        field: &'static str,
        /// The record's key (ids only, never a metadata value).
        key: String,
        /// Why it could not be read, when a parser said so.
        #[source]
        source: Option<BackendError>,
    },
    /// The write would link a Stripe id that is already linked to a different host record.
    #[error(
        "{stripe_id} is already linked to another host record in {table}; a Stripe object maps to one host record"
    )]
    Conflict {
        /// The table or collection whose uniqueness would break.
        table: &'static str,
        /// The Stripe id already linked elsewhere.
        stripe_id: String,
    },
}

impl StoreError {
    /// A [`StoreError::Backend`] for host implementations: `operation` names the store
    /// method, `source` is the database's error.
    pub fn backend(operation: &'static str, source: impl Into<BackendError>) -> StoreError {
        StoreError::Backend {
            operation,
            source: source.into(),
        }
    }

    /// A stable machine code for this error, shared by every language binding.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Backend { .. } => "store_backend",
            StoreError::SchemaTooNew { .. } => "store_schema_too_new",
            StoreError::Corrupt { .. } => "store_corrupt",
            StoreError::Conflict { .. } => "store_conflict",
        }
    }
}

impl Classify for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::Backend { .. } => "store_backend",
            StoreError::SchemaTooNew { .. } => "store_schema_too_new",
            StoreError::Corrupt { .. } => "store_corrupt",
            StoreError::Conflict { .. } => "store_conflict",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Store
    }
}

/// Where billbridge keeps what it knows about the host ↔ Stripe relationship.
///
/// Callers share one store as `Arc<dyn SyncStore>`. Every method is atomic on its own;
/// the compare-and-set [`SyncStore::swap_invoice_mirror`] and the claim
/// [`SyncStore::mark_event_processed`] are what concurrent workers rely on.
///
/// Implementations must keep the contract in `tests/store_contract.rs`: round trips of
/// every record, account scoping, uniqueness of Stripe ids per account
/// ([`StoreError::Conflict`]), the first-caller-wins event claim, and query order
/// `(created, host_invoice_id)`.
///
/// # Errors
///
/// Every method returns [`StoreError`] when the database underneath fails
/// ([`StoreError::Backend`]) or holds a record it cannot read ([`StoreError::Corrupt`]).
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// The same store as a [`LedgerStore`], when it can also keep the offline books (the
    /// SQLite store keeps both in one database file); `None` by default.
    fn as_ledger(self: Arc<Self>) -> Option<Arc<dyn LedgerStore>> {
        None
    }

    /// The customer linked to a host party, if any.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError>;

    /// The host party linked to a Stripe customer, if any (webhooks name the customer).
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn customer_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError>;

    /// Inserts or replaces the link of `link`'s host party.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when the Stripe customer is already linked to another host
    /// party of the same account; otherwise see the trait.
    async fn put_customer_link(&self, link: &CustomerLink) -> Result<(), StoreError>;

    /// Forgets a host party's customer link; returns whether there was one.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure.
    async fn remove_customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<bool, StoreError>;

    /// The Stripe invoice linked to a host invoice, if any.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn invoice_link(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError>;

    /// The host invoice linked to a Stripe invoice, if any.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn invoice_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError>;

    /// Inserts or replaces the link of `link`'s host invoice.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when the Stripe invoice is already linked to another host
    /// invoice of the same account; otherwise see the trait.
    async fn put_invoice_link(&self, link: &InvoiceLink) -> Result<(), StoreError>;

    /// The organisation set as a patient's default payer, if any.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure.
    async fn default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Sets (or replaces) the organisation that pays a patient's invoices by default.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure.
    async fn set_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
        organisation_host_id: &str,
    ) -> Result<(), StoreError>;

    /// Removes a patient's default payer, so the patient pays again; returns whether one
    /// was set.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure.
    async fn clear_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<bool, StoreError>;

    /// Claims a webhook event: returns `true` only for the first caller ever to mark this
    /// event id, even when many callers race, and `false` for every later delivery.
    ///
    /// A store shared by several processes may hold a claim as a lease until
    /// [`SyncStore::complete_event`] confirms it: a worker killed between claiming and
    /// applying never completes, and once its lease has run out the next delivery of
    /// the event claims it again (`true`), so the event is not lost with the worker.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure. On error the claim state is unknown; retry.
    async fn mark_event_processed(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError>;

    /// Releases a claim taken by [`SyncStore::mark_event_processed`], so that a redelivery
    /// is processed again (for a handler that failed after claiming). Returns whether the
    /// event was marked.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure.
    async fn forget_event(&self, account: Option<&str>, event_id: &str)
    -> Result<bool, StoreError>;

    /// Confirms a claim taken by [`SyncStore::mark_event_processed`] once the event is
    /// applied, so that it stays claimed for good. Stores whose claims are final at once
    /// (the in-memory and SQLite stores: a process that dies takes its work with it)
    /// keep the default, which does nothing; the PostgreSQL store ends the claim's lease.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure. The event is applied either way; an unconfirmed
    /// claim only lets a redelivery after the lease apply the same state again.
    async fn complete_event(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<(), StoreError> {
        let _ = (account, event_id);
        Ok(())
    }

    /// The mirror of a host invoice, if any.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn invoice_mirror(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError>;

    /// The mirror of a Stripe invoice, if any (webhooks name the Stripe invoice).
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn invoice_mirror_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError>;

    /// Inserts or replaces the mirror of `mirror`'s host invoice unconditionally.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when the Stripe invoice is already mirrored for another host
    /// invoice of the same account; otherwise see the trait.
    async fn put_invoice_mirror(&self, mirror: &InvoiceMirror) -> Result<(), StoreError>;

    /// Compare-and-set: writes `new` only if the mirror stored for `new`'s host invoice is
    /// exactly `expected` (`None`: no mirror yet). Returns whether it wrote. A caller that
    /// read a mirror, merged an event into it and lost a race gets `false`, re-reads and
    /// merges again, so concurrent webhooks cannot move a status backwards.
    ///
    /// # Errors
    ///
    /// As [`SyncStore::put_invoice_mirror`].
    async fn swap_invoice_mirror(
        &self,
        expected: Option<&InvoiceMirror>,
        new: &InvoiceMirror,
    ) -> Result<bool, StoreError>;

    /// The mirrors matching `query`, ordered by `created`, then `host_invoice_id`.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn query_invoice_mirrors(
        &self,
        query: &MirrorQuery,
    ) -> Result<Vec<InvoiceMirror>, StoreError>;

    /// The checkpoint of raising a host invoice, if a raise is under way.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure or an unreadable record.
    async fn raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<RaiseCheckpoint>, StoreError>;

    /// Inserts or replaces the checkpoint of `checkpoint`'s host invoice.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure.
    async fn put_raise_checkpoint(&self, checkpoint: &RaiseCheckpoint) -> Result<(), StoreError>;

    /// Removes the checkpoint of a host invoice once raising it is complete; returns
    /// whether there was one.
    ///
    /// # Errors
    ///
    /// See the trait: backend failure.
    async fn clear_raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
impl<T: SyncStore + ?Sized> SyncStore for Arc<T> {
    fn as_ledger(self: Arc<Self>) -> Option<Arc<dyn LedgerStore>> {
        T::as_ledger(Arc::clone(&*self))
    }

    async fn customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        (**self)
            .customer_link(account, party_kind, host_party_id)
            .await
    }

    async fn customer_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        (**self)
            .customer_link_by_stripe_id(account, stripe_customer_id)
            .await
    }

    async fn put_customer_link(&self, link: &CustomerLink) -> Result<(), StoreError> {
        (**self).put_customer_link(link).await
    }

    async fn remove_customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<bool, StoreError> {
        (**self)
            .remove_customer_link(account, party_kind, host_party_id)
            .await
    }

    async fn invoice_link(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        (**self).invoice_link(account, host_invoice_id).await
    }

    async fn invoice_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        (**self)
            .invoice_link_by_stripe_id(account, stripe_invoice_id)
            .await
    }

    async fn put_invoice_link(&self, link: &InvoiceLink) -> Result<(), StoreError> {
        (**self).put_invoice_link(link).await
    }

    async fn default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<Option<String>, StoreError> {
        (**self).default_payer(account, patient_host_id).await
    }

    async fn set_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
        organisation_host_id: &str,
    ) -> Result<(), StoreError> {
        (**self)
            .set_default_payer(account, patient_host_id, organisation_host_id)
            .await
    }

    async fn clear_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<bool, StoreError> {
        (**self).clear_default_payer(account, patient_host_id).await
    }

    async fn mark_event_processed(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        (**self).mark_event_processed(account, event_id).await
    }

    async fn forget_event(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        (**self).forget_event(account, event_id).await
    }

    async fn complete_event(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<(), StoreError> {
        (**self).complete_event(account, event_id).await
    }

    async fn invoice_mirror(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        (**self).invoice_mirror(account, host_invoice_id).await
    }

    async fn invoice_mirror_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        (**self)
            .invoice_mirror_by_stripe_id(account, stripe_invoice_id)
            .await
    }

    async fn put_invoice_mirror(&self, mirror: &InvoiceMirror) -> Result<(), StoreError> {
        (**self).put_invoice_mirror(mirror).await
    }

    async fn swap_invoice_mirror(
        &self,
        expected: Option<&InvoiceMirror>,
        new: &InvoiceMirror,
    ) -> Result<bool, StoreError> {
        (**self).swap_invoice_mirror(expected, new).await
    }

    async fn query_invoice_mirrors(
        &self,
        query: &MirrorQuery,
    ) -> Result<Vec<InvoiceMirror>, StoreError> {
        (**self).query_invoice_mirrors(query).await
    }

    async fn raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<RaiseCheckpoint>, StoreError> {
        (**self).raise_checkpoint(account, host_invoice_id).await
    }

    async fn put_raise_checkpoint(&self, checkpoint: &RaiseCheckpoint) -> Result<(), StoreError> {
        (**self).put_raise_checkpoint(checkpoint).await
    }

    async fn clear_raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<bool, StoreError> {
        (**self)
            .clear_raise_checkpoint(account, host_invoice_id)
            .await
    }
}

impl fmt::Debug for CustomerLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let CustomerLink {
            account,
            party_kind,
            host_party_id,
            stripe_customer_id,
            metadata_sent,
        } = self;
        f.debug_struct("CustomerLink")
            .field("account", account)
            .field("party_kind", party_kind)
            .field("host_party_id", host_party_id)
            .field("stripe_customer_id", stripe_customer_id)
            .field("metadata_sent", metadata_sent)
            .finish()
    }
}

impl fmt::Debug for InvoiceMirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let InvoiceMirror {
            account,
            host_invoice_id,
            stripe_invoice_id,
            stripe_customer_id,
            status,
            unrecognised_status,
            number,
            currency,
            subtotal,
            total,
            amount_due,
            amount_paid,
            amount_remaining,
            starting_balance,
            ending_balance,
            hosted_invoice_url,
            invoice_pdf,
            due_date,
            created,
            metadata,
            paid_at,
            paid_outside,
            stripe_updated_at,
            payer_kind,
            payer_host_id,
            patient_host_id,
        } = self;
        f.debug_struct("InvoiceMirror")
            .field("account", account)
            .field("host_invoice_id", host_invoice_id)
            .field("stripe_invoice_id", stripe_invoice_id)
            .field("stripe_customer_id", stripe_customer_id)
            .field("status", status)
            .field("unrecognised_status", unrecognised_status)
            .field("number", number)
            .field("currency", currency)
            .field("subtotal", subtotal)
            .field("total", total)
            .field("amount_due", amount_due)
            .field("amount_paid", amount_paid)
            .field("amount_remaining", amount_remaining)
            .field("starting_balance", starting_balance)
            .field("ending_balance", ending_balance)
            // Hosted invoice pages and PDF links open the invoice, payer name included,
            // to whoever holds them.
            .field("hosted_invoice_url", &redacted(hosted_invoice_url))
            .field("invoice_pdf", &redacted(invoice_pdf))
            .field("due_date", due_date)
            .field("created", created)
            .field("metadata", metadata)
            .field("paid_at", paid_at)
            .field("paid_outside", paid_outside)
            .field("stripe_updated_at", stripe_updated_at)
            .field("payer_kind", payer_kind)
            .field("payer_host_id", payer_host_id)
            .field("patient_host_id", patient_host_id)
            .finish()
    }
}

impl fmt::Debug for MirrorQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let MirrorQuery {
            account,
            status,
            payer_kind,
            payer_host_id,
            created_from,
            created_before,
            metadata,
            changed_since,
            after,
            limit,
        } = self;
        f.debug_struct("MirrorQuery")
            .field("account", account)
            .field("status", status)
            .field("payer_kind", payer_kind)
            .field("payer_host_id", payer_host_id)
            .field("created_from", created_from)
            .field("created_before", created_before)
            .field("metadata", metadata)
            .field("changed_since", changed_since)
            .field("after", after)
            .field("limit", limit)
            .finish()
    }
}

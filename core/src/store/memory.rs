//! [`MemoryStore`]: the default [`SyncStore`], held in process memory. It forgets
//! everything when the process ends, so it suits tests, demos and hosts that rebuild
//! state on start; production hosts use `SqliteStore` (feature `sqlite`) or their own
//! database.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    CustomerLink, InvoiceLink, InvoiceMirror, MirrorQuery, PartyKind, RaiseCheckpoint, StoreError,
    SyncStore, account_field, account_key,
};

/// `(account, host or Stripe id)`.
type Key = (String, String);
/// `(account, party kind, host party id)`.
type PartyKey = (String, PartyKind, String);

#[derive(Default)]
struct State {
    customers: BTreeMap<PartyKey, CustomerLink>,
    customers_by_stripe_id: BTreeMap<Key, (PartyKind, String)>,
    invoices: BTreeMap<Key, InvoiceLink>,
    invoices_by_stripe_id: BTreeMap<Key, String>,
    default_payers: BTreeMap<Key, String>,
    processed_events: BTreeSet<Key>,
    mirrors: BTreeMap<Key, InvoiceMirror>,
    mirrors_by_stripe_id: BTreeMap<Key, String>,
    checkpoints: BTreeMap<Key, RaiseCheckpoint>,
}

/// An in-memory [`SyncStore`]. Cloning gives another handle to the same data, so one
/// store can be shared between a bridge and the test that inspects it.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation below checks before it writes and cannot panic part-way, so a
        // poisoned lock (a panic elsewhere while holding it) still guards consistent data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn key(account: Option<&str>, id: &str) -> Key {
    (account_key(account).to_owned(), id.to_owned())
}

fn record_account(account: &Option<String>) -> Option<String> {
    account_field(account_key(account.as_deref()))
}

#[async_trait]
impl SyncStore for MemoryStore {
    async fn customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        let party = (
            account_key(account).to_owned(),
            party_kind,
            host_party_id.to_owned(),
        );
        Ok(self.lock().customers.get(&party).cloned())
    }

    async fn customer_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerLink>, StoreError> {
        let state = self.lock();
        let found = state
            .customers_by_stripe_id
            .get(&key(account, stripe_customer_id))
            .and_then(|(kind, host_id)| {
                state
                    .customers
                    .get(&(account_key(account).to_owned(), *kind, host_id.clone()))
            });
        Ok(found.cloned())
    }

    async fn put_customer_link(&self, link: &CustomerLink) -> Result<(), StoreError> {
        let mut link = link.clone();
        link.account = record_account(&link.account);
        let account = account_key(link.account.as_deref()).to_owned();
        let party = (account.clone(), link.party_kind, link.host_party_id.clone());
        let stripe_key = (account, link.stripe_customer_id.clone());
        let mut state = self.lock();
        if let Some(owner) = state.customers_by_stripe_id.get(&stripe_key)
            && *owner != (link.party_kind, link.host_party_id.clone())
        {
            return Err(StoreError::Conflict {
                table: "customer_links",
                stripe_id: link.stripe_customer_id,
            });
        }
        if let Some(previous) = state.customers.get(&party) {
            let previous_key = (party.0.clone(), previous.stripe_customer_id.clone());
            state.customers_by_stripe_id.remove(&previous_key);
        }
        state
            .customers_by_stripe_id
            .insert(stripe_key, (link.party_kind, link.host_party_id.clone()));
        state.customers.insert(party, link);
        Ok(())
    }

    async fn remove_customer_link(
        &self,
        account: Option<&str>,
        party_kind: PartyKind,
        host_party_id: &str,
    ) -> Result<bool, StoreError> {
        let party = (
            account_key(account).to_owned(),
            party_kind,
            host_party_id.to_owned(),
        );
        let mut state = self.lock();
        match state.customers.remove(&party) {
            Some(previous) => {
                let stripe_key = (party.0, previous.stripe_customer_id);
                state.customers_by_stripe_id.remove(&stripe_key);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn invoice_link(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        Ok(self
            .lock()
            .invoices
            .get(&key(account, host_invoice_id))
            .cloned())
    }

    async fn invoice_link_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceLink>, StoreError> {
        let state = self.lock();
        let found = state
            .invoices_by_stripe_id
            .get(&key(account, stripe_invoice_id))
            .and_then(|host_id| state.invoices.get(&key(account, host_id)));
        Ok(found.cloned())
    }

    async fn put_invoice_link(&self, link: &InvoiceLink) -> Result<(), StoreError> {
        let mut link = link.clone();
        link.account = record_account(&link.account);
        let account = link.account.as_deref();
        let host_key = key(account, &link.host_invoice_id);
        let stripe_key = key(account, &link.stripe_invoice_id);
        let mut state = self.lock();
        if state
            .invoices_by_stripe_id
            .get(&stripe_key)
            .is_some_and(|owner| *owner != link.host_invoice_id)
        {
            return Err(StoreError::Conflict {
                table: "invoice_links",
                stripe_id: link.stripe_invoice_id,
            });
        }
        if let Some(previous) = state.invoices.get(&host_key) {
            let previous_key = key(account, &previous.stripe_invoice_id);
            state.invoices_by_stripe_id.remove(&previous_key);
        }
        state
            .invoices_by_stripe_id
            .insert(stripe_key, link.host_invoice_id.clone());
        state.invoices.insert(host_key, link);
        Ok(())
    }

    async fn default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .default_payers
            .get(&key(account, patient_host_id))
            .cloned())
    }

    async fn set_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
        organisation_host_id: &str,
    ) -> Result<(), StoreError> {
        self.lock().default_payers.insert(
            key(account, patient_host_id),
            organisation_host_id.to_owned(),
        );
        Ok(())
    }

    async fn clear_default_payer(
        &self,
        account: Option<&str>,
        patient_host_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .default_payers
            .remove(&key(account, patient_host_id))
            .is_some())
    }

    async fn mark_event_processed(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().processed_events.insert(key(account, event_id)))
    }

    async fn forget_event(
        &self,
        account: Option<&str>,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().processed_events.remove(&key(account, event_id)))
    }

    async fn invoice_mirror(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        Ok(self
            .lock()
            .mirrors
            .get(&key(account, host_invoice_id))
            .cloned())
    }

    async fn invoice_mirror_by_stripe_id(
        &self,
        account: Option<&str>,
        stripe_invoice_id: &str,
    ) -> Result<Option<InvoiceMirror>, StoreError> {
        let state = self.lock();
        let found = state
            .mirrors_by_stripe_id
            .get(&key(account, stripe_invoice_id))
            .and_then(|host_id| state.mirrors.get(&key(account, host_id)));
        Ok(found.cloned())
    }

    async fn put_invoice_mirror(&self, mirror: &InvoiceMirror) -> Result<(), StoreError> {
        let mut state = self.lock();
        write_mirror(&mut state, mirror)
    }

    async fn swap_invoice_mirror(
        &self,
        expected: Option<&InvoiceMirror>,
        new: &InvoiceMirror,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        let current = state
            .mirrors
            .get(&key(new.account.as_deref(), &new.host_invoice_id));
        if !same_mirror(current, expected) {
            return Ok(false);
        }
        write_mirror(&mut state, new)?;
        Ok(true)
    }

    async fn query_invoice_mirrors(
        &self,
        query: &MirrorQuery,
    ) -> Result<Vec<InvoiceMirror>, StoreError> {
        let state = self.lock();
        let mut found: Vec<InvoiceMirror> = state
            .mirrors
            .values()
            .filter(|mirror| query.matches(mirror))
            .cloned()
            .collect();
        drop(state);
        found.sort_by(|a, b| (a.created, &a.host_invoice_id).cmp(&(b.created, &b.host_invoice_id)));
        if let Some(limit) = query.limit {
            found.truncate(limit);
        }
        Ok(found)
    }

    async fn raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<Option<RaiseCheckpoint>, StoreError> {
        Ok(self
            .lock()
            .checkpoints
            .get(&key(account, host_invoice_id))
            .cloned())
    }

    async fn put_raise_checkpoint(&self, checkpoint: &RaiseCheckpoint) -> Result<(), StoreError> {
        let mut checkpoint = checkpoint.clone();
        checkpoint.account = record_account(&checkpoint.account);
        let host_key = key(checkpoint.account.as_deref(), &checkpoint.host_invoice_id);
        self.lock().checkpoints.insert(host_key, checkpoint);
        Ok(())
    }

    async fn clear_raise_checkpoint(
        &self,
        account: Option<&str>,
        host_invoice_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .checkpoints
            .remove(&key(account, host_invoice_id))
            .is_some())
    }
}

/// Whether the stored mirror is the one the caller expects, treating the platform account
/// spelled `None` or `Some("")` alike.
fn same_mirror(current: Option<&InvoiceMirror>, expected: Option<&InvoiceMirror>) -> bool {
    match (current, expected) {
        (None, None) => true,
        (Some(current), Some(expected)) => {
            let mut expected = expected.clone();
            expected.account = record_account(&expected.account);
            *current == expected
        }
        _ => false,
    }
}

fn write_mirror(state: &mut State, mirror: &InvoiceMirror) -> Result<(), StoreError> {
    let mut mirror = mirror.clone();
    mirror.account = record_account(&mirror.account);
    let account = mirror.account.as_deref();
    let host_key = key(account, &mirror.host_invoice_id);
    let stripe_key = key(account, &mirror.stripe_invoice_id);
    if state
        .mirrors_by_stripe_id
        .get(&stripe_key)
        .is_some_and(|owner| *owner != mirror.host_invoice_id)
    {
        return Err(StoreError::Conflict {
            table: "invoice_mirrors",
            stripe_id: mirror.stripe_invoice_id,
        });
    }
    if let Some(previous) = state.mirrors.get(&host_key) {
        let previous_key = key(account, &previous.stripe_invoice_id);
        state.mirrors_by_stripe_id.remove(&previous_key);
    }
    state
        .mirrors_by_stripe_id
        .insert(stripe_key, mirror.host_invoice_id.clone());
    state.mirrors.insert(host_key, mirror);
    Ok(())
}

//! The mock's state: one [`Account`] per Stripe account (the platform and each
//! connected account, fully separate), insertion-ordered tables of objects, and the
//! shared pieces (ids, idempotency records, webhook queue, faults, request log).

use std::collections::{BTreeMap, HashMap};

use super::RecordedRequest;
use super::clock::Random;
use super::faults::FaultState;
use super::idempotency::IdempotencyStore;
use super::objects::{BalanceTransaction, Customer, Event, Invoice, InvoiceItem, Price, Product};
use super::webhooks::WebhookQueue;

/// Objects of one kind in creation order, looked up by id. "Newest first" lists walk
/// the order backwards, so objects created in the same mock second still sort stably.
#[derive(Debug, Clone)]
pub(crate) struct Table<T> {
    rows: Vec<Option<T>>,
    index: HashMap<String, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T> Table<T> {
    pub(crate) fn insert(&mut self, id: String, row: T) {
        self.index.insert(id, self.rows.len());
        self.rows.push(Some(row));
    }

    pub(crate) fn get(&self, id: &str) -> Option<&T> {
        self.index
            .get(id)
            .and_then(|position| self.rows.get(*position))
            .and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        match self.index.get(id) {
            Some(position) => self.rows.get_mut(*position).and_then(Option::as_mut),
            None => None,
        }
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<T> {
        let position = self.index.remove(id)?;
        self.rows.get_mut(position).and_then(Option::take)
    }

    /// Oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.rows.iter().filter_map(Option::as_ref)
    }

    /// Newest first.
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &T> {
        self.iter().rev()
    }
}

/// Everything one Stripe account holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Account {
    /// `None` for the platform (no `Stripe-Account` header).
    pub id: Option<String>,
    pub customers: Table<Customer>,
    pub balance_transactions: Table<BalanceTransaction>,
    pub products: Table<Product>,
    pub prices: Table<Price>,
    pub invoice_items: Table<InvoiceItem>,
    pub invoices: Table<Invoice>,
    pub events: Table<Event>,
    /// When each object was last written (mock seconds), for the search lag.
    pub written_at: HashMap<String, i64>,
    /// Next number for account-wide invoice numbering.
    pub next_account_invoice_sequence: u64,
    /// Prefix for account-wide invoice numbering.
    pub account_invoice_prefix: String,
}

/// How invoice numbers are assigned at finalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InvoiceNumbering {
    /// `{customer.invoice_prefix}-{customer sequence:04}` (Stripe's default).
    #[default]
    PerCustomer,
    /// `{account prefix}-{account sequence:04}`.
    PerAccount,
}

/// Settings fixed when the mock is built.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub api_version: String,
    pub default_currency: String,
    pub account_country: String,
    pub numbering: InvoiceNumbering,
    pub webhook_secret: String,
    /// How long after a write an object becomes searchable (0: at once).
    pub search_lag_seconds: i64,
}

/// The name of the isolated state of API key `scope` and `Stripe-Account` `account`
/// (the platform when `None`). Keys and account ids contain no line breaks, so the
/// name cannot collide.
pub(crate) fn tenant(scope: &str, account: Option<&str>) -> String {
    format!("{scope}\n{}", account.unwrap_or(""))
}

/// All mutable state behind the mock's one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub random: Random,
    /// Accounts by [`tenant`]: each API key's platform and connected accounts.
    pub accounts: BTreeMap<String, Account>,
    pub idempotency: IdempotencyStore,
    pub webhooks: WebhookQueue,
    pub faults: FaultState,
    pub requests: Vec<RecordedRequest>,
    pub settings: Settings,
}

impl State {
    pub(crate) fn new(seed: u64, settings: Settings) -> Self {
        Self {
            random: Random::new(seed),
            // Fault dice roll on their own stream so that enabling a fault does not
            // change the ids of the objects a test creates.
            faults: FaultState::new(seed ^ 0x5EED_FA17),
            accounts: BTreeMap::new(),
            idempotency: IdempotencyStore::default(),
            webhooks: WebhookQueue::new(seed ^ 0x00E7_E575),
            requests: Vec::new(),
            settings,
        }
    }

    /// The account a request acts on (created on first use), with the id generator
    /// and settings borrowed alongside it. `tenant` comes from [`tenant`]; `account`
    /// is the `Stripe-Account` it names.
    pub(crate) fn split(
        &mut self,
        tenant: &str,
        account: Option<&str>,
    ) -> (&mut Account, &mut Random, &Settings) {
        let random = &mut self.random;
        let entry = self
            .accounts
            .entry(tenant.to_owned())
            .or_insert_with(|| Account {
                id: account.map(str::to_owned),
                account_invoice_prefix: random.invoice_prefix(),
                next_account_invoice_sequence: 1,
                ..Account::default()
            });
        (entry, random, &self.settings)
    }
}

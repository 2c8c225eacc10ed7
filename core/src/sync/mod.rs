//! The sync layer: what keeps the host's records and Stripe in step. [`store`] is where
//! billbridge remembers the host ↔ Stripe relationship; [`offline`] runs the same
//! billing workflow with no Stripe account, on the domain ledger; the Stripe workflows
//! (raise, pay, webhooks, re-sync) build on top of the store.

pub mod offline;
pub mod store;

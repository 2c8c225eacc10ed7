//! The sync layer: what keeps the host's records and Stripe in step. For now it holds
//! only [`store`], where billbridge remembers the host ↔ Stripe relationship; the
//! workflows that use it (raise, pay, webhooks, re-sync) build on top of it.

pub mod offline;
pub mod store;

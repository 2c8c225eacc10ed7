//! billbridge: invoice through Stripe from an EHR, practice-management or CRM product.
//!
//! ```
//! use billbridge::domain::balance::{apply_balance, FinalizationOutcome};
//! use billbridge::domain::money::{Currency, Money};
//!
//! // A follow-up and a home test kit, entered as decimal text: exact, never rounded.
//! let follow_up = Money::parse("50.00", Currency::GBP)?;
//! let kit = Money::parse("35", Currency::GBP)?;
//! let total = follow_up.checked_add(kit)?;
//! assert_eq!(total, Money::gbp(8500));
//!
//! // The patient holds a £50 credit (negative balance) from a missed, prepaid visit.
//! // Stripe applies it when the invoice is finalized:
//! let finalized = apply_balance(total, Money::gbp(-5000))?;
//! assert_eq!(finalized.amount_due.to_decimal_string(), "35.00");
//! assert_eq!(finalized.ending_balance, Money::gbp(0));
//! assert!(matches!(finalized.outcome, FinalizationOutcome::Open { .. }));
//!
//! // Bad input is a typed error with a stable machine code, never a rounding or a panic.
//! let error = billbridge::Error::from(Money::parse("12.345", Currency::GBP).unwrap_err());
//! assert_eq!(error.code(), "too_many_decimals");
//! # Ok::<(), billbridge::Error>(())
//! ```
//!
//! The crate owns every rule: exact money, the metadata policy, Stripe's balance and
//! invoice rules, the typed Stripe client and its wire format, webhook verification,
//! and the host's stores. The stateful in-memory Stripe for tests is the crate
//! `billbridge-mock`. Language bindings only translate types
//! and map [`Error::category`] and [`Error::code`] onto their own error idioms.
//!
//! Module map:
//! - [`domain`]: pure domain logic (no I/O, no async): [`domain::money`],
//!   [`domain::date`], [`domain::party`], [`domain::invoice`], [`domain::status`],
//!   [`domain::balance`], [`domain::catalogue`], [`domain::ledger`], [`domain::metadata`].
//! - [`classify`]: [`ErrorCategory`] and the [`Classify`] trait every error implements;
//!   [`error`]: the top-level [`Error`] aggregating them, with [`Error::details`].
//! - [`store`]: [`store::SyncStore`] (host ↔ Stripe ids, processed webhooks, invoice
//!   mirrors) and [`store::LedgerStore`] (the offline books), in memory or in SQLite.
//! - [`sync`]: the host-facing [`Billbridge`] (customers, balances, invoices, webhooks,
//!   re-sync, bulk, billing rates).
//! - [`offline`]: the same billing workflow for a practice with no Stripe account.
//! - [`report`]: outstanding invoices, payments received, a payer's portal view and
//!   CSV export, over the store's invoice mirror or Stripe's list.
//! - [`stripe`]: the edge to Stripe: [`stripe::transport::Transport`], wire format,
//!   typed client, webhooks.
//! - The mock Stripe is its own crate, `billbridge-mock`: `MockStripe`, an in-memory
//!   Stripe behind the same [`stripe::transport::Transport`] trait, and its HTTP server.

pub mod classify;
pub mod clock;
pub mod domain;
pub mod error;
pub mod mirror;
pub mod offline;
pub mod redact;
pub mod report;
pub mod store;
pub mod stripe;
pub mod sync;
pub mod vocabulary;

pub use classify::{Classify, ErrorCategory};
pub use error::{Error, ErrorDetails};
pub use sync::{Billbridge, BillbridgeBuilder, IdempotencySecret, Raise};

/// The README's code runs as a doctest, so the quick tour cannot drift from the API.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

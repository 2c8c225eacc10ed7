//! billbridge: invoice through Stripe from an EHR, practice-management or CRM product.
//!
//! The crate owns every rule: exact money, the metadata policy, Stripe's balance and
//! invoice rules, the typed Stripe client and its wire format, webhook verification,
//! and a stateful in-memory Stripe for tests. Language bindings only translate.
//!
//! Module map:
//! - [`domain`]: pure domain logic (no I/O, no async).
//! - [`stripe`]: the edge to Stripe: [`stripe::transport::Transport`], wire format,
//!   typed client, webhooks.
//! - `mock` (feature `mock`): `MockStripe`, an in-memory Stripe behind the same trait.

pub mod domain;
pub mod error;
pub mod stripe;

#[cfg(feature = "mock")]
pub mod mock;

pub use error::{Error, ErrorCategory};

//! Pure domain logic: money, parties, invoices, Stripe's balance rule, the metadata
//! policy, catalogue and billing rates, and the offline ledger. Nothing here performs
//! I/O or needs an async runtime.

pub mod balance;
pub mod catalogue;
pub mod date;
pub mod invoice;
pub mod ledger;
pub mod metadata;
pub mod money;
pub mod party;
pub mod status;

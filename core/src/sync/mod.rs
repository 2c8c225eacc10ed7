//! The sync layer: what keeps the host's records and Stripe in step. [`Billbridge`] is
//! the host-facing API (customers, balances, invoices, webhooks, re-sync, bulk); [`store`]
//! is where billbridge remembers the host ↔ Stripe relationship.

mod balances;
mod bridge;
mod builder;
mod customers;
pub mod error;
pub mod keys;
pub mod records;
pub mod store;

pub use balances::ADJUSTMENT_ID_METADATA_KEY;
pub use bridge::{Billbridge, Clock, DELETED_STATUS, SystemClock};
pub use builder::{
    BillbridgeBuilder, LIVE_MODE_REQUESTS_PER_SECOND, TEST_MODE_REQUESTS_PER_SECOND,
};
pub use error::SyncError;
pub use keys::{IdempotencySecret, MIN_IDEMPOTENCY_SECRET_BYTES};
pub use records::{
    BalanceAdjustment, CustomerRecord, InvoicePreview, InvoiceRecord, PaidOutside,
    PaymentMethod, Raise, UpsertOutcome,
};

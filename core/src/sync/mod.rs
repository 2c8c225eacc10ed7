//! The sync layer: what keeps the host's records and Stripe in step. [`Billbridge`] is
//! the host-facing API (customers, balances, invoices, webhooks, re-sync, bulk). The host ↔
//! Stripe relationship is kept in [`crate::store`]; billing with no Stripe account is
//! [`crate::offline`].

mod balances;
mod bridge;
mod builder;
mod bulk;
mod customers;
pub mod error;
mod invoices;
pub mod keys;
mod practices;
mod raise;
mod reconcile;
pub mod records;
mod reports;
mod resync;
mod services;
mod webhooks;

pub use crate::clock::{Clock, SystemClock};
pub use balances::ADJUSTMENT_ID_METADATA_KEY;
pub use bridge::Billbridge;
pub use builder::{
    BillbridgeBuilder, LIVE_MODE_REQUESTS_PER_SECOND, TEST_MODE_REQUESTS_PER_SECOND,
};
pub use bulk::{BulkItem, BulkOptions, BulkProgress, InvoiceRequest, ProgressCallback};
pub use error::SyncError;
pub use keys::{IdempotencySecret, MIN_IDEMPOTENCY_SECRET_BYTES};
pub use practices::Practices;
pub use records::{
    BalanceAdjustment, CustomerRecord, InvoicePreview, InvoiceRecord, PaidOutside, PaymentMethod,
    Raise, UpsertOutcome,
};
pub use services::{SERVICE_INVOICE_PREFIX, ServiceBilling, ServiceInvoiceOutcome};
pub use webhooks::{WebhookChange, WebhookDisposition, WebhookOutcome};

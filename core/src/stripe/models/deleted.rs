//! What Stripe answers to a delete: `{id, object, deleted: true}`.

use serde::{Deserialize, Serialize};

use super::HasId;

/// The reply to `DELETE /v1/<objects>/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// The id of the object that was deleted.
    pub id: String,
    /// The kind of object (`customer`, `invoice`, `invoiceitem`).
    #[serde(default)]
    pub object: String,
    /// Always `true` in a delete reply.
    #[serde(default)]
    pub deleted: bool,
}

impl HasId for Deleted {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Reply to `DELETE /v1/customers/{id}`.
pub type DeletedCustomer = Deleted;
/// Reply to `DELETE /v1/invoices/{id}` (drafts only).
pub type DeletedInvoice = Deleted;
/// Reply to `DELETE /v1/invoiceitems/{id}`.
pub type DeletedInvoiceItem = Deleted;

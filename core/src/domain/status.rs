//! The invoice status as Stripe names it, shared by the domain state machine, the wire
//! models, the offline ledger and the host's mirror of each invoice.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an invoice is in its life. Stripe may add statuses: an unrecognised value is
/// kept in [`InvoiceStatus::Unknown`] instead of failing to decode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum InvoiceStatus {
    /// Editable; not yet visible to the payer.
    Draft,
    /// Finalized and awaiting payment.
    Open,
    /// Paid, by card or marked paid outside Stripe.
    Paid,
    /// Cancelled after finalization; nothing is owed.
    Void,
    /// Written off as unlikely to be paid; can still be paid or voided.
    Uncollectible,
    /// A status this version of billbridge does not know yet, as Stripe sent it.
    Unknown(String),
}

impl InvoiceStatus {
    /// The status as Stripe spells it.
    pub fn as_str(&self) -> &str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
            InvoiceStatus::Uncollectible => "uncollectible",
            InvoiceStatus::Unknown(other) => other,
        }
    }
}

impl From<String> for InvoiceStatus {
    fn from(value: String) -> Self {
        match value.as_str() {
            "draft" => InvoiceStatus::Draft,
            "open" => InvoiceStatus::Open,
            "paid" => InvoiceStatus::Paid,
            "void" => InvoiceStatus::Void,
            "uncollectible" => InvoiceStatus::Uncollectible,
            _ => InvoiceStatus::Unknown(value),
        }
    }
}

impl From<&str> for InvoiceStatus {
    fn from(value: &str) -> Self {
        InvoiceStatus::from(value.to_owned())
    }
}

impl From<InvoiceStatus> for String {
    fn from(status: InvoiceStatus) -> Self {
        match status {
            InvoiceStatus::Unknown(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

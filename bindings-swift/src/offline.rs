//! [`OfflineBilling`]: the billing workflow for a clinic with no Stripe account, on the
//! core's offline ledger. Invoices are numbered locally and paid by hand (partial
//! payments included), and come back as the same [`InvoiceRecord`] the bridge returns,
//! so the app shows both alike. Which stores keep the books is the core's rule
//! (`SharedOfflineBilling::over`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use billbridge::domain::ledger::ManualPayment;
use billbridge::offline::SharedOfflineBilling;
use billbridge::store::{SqliteStore, SyncStore};

use crate::bridge::{DayRange, InvoiceFilter, write_records_csv};
use crate::error::{BillbridgeError, guard, guarded};
use crate::invoices::{InvoiceDraft, metadata};
use crate::money::{Money, day};
use crate::parties::PayerRef;
use crate::records::{InvoiceRecord, Payment, PaymentMethod, Portal, payments, records};

/// A payment taken by hand against an offline invoice. Printing it shows whether a
/// reference is set, not the reference.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct ManualPaymentEntry {
    /// How it was paid.
    pub method: PaymentMethod,
    /// The amount received (at most what remains).
    pub amount: Money,
    /// The day it was received, `YYYY-MM-DD`.
    pub day: String,
    /// The practice's reference (receipt, cheque number).
    #[uniffi(default = None)]
    pub reference: Option<String>,
}

impl fmt::Debug for ManualPaymentEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ManualPaymentEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A reference can be a bank reference or a claim number: presence only.
        write!(
            f,
            "ManualPaymentEntry(method={:?}, amount={} {}, day={:?}, reference={})",
            self.method,
            self.amount.amount,
            self.amount.currency,
            self.day,
            if self.reference.is_some() {
                "set"
            } else {
                "none"
            },
        )
    }
}

/// An offline invoice with every payment recorded against it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OfflineInvoice {
    /// The invoice as reports show it (`stripeInvoiceId` is `offline:<id>`).
    pub record: InvoiceRecord,
    /// Every payment, oldest first.
    pub payments: Vec<Payment>,
}

/// Invoicing with no Stripe account: invoices numbered `<prefix>-0001`, … and paid by
/// hand. With `storePath` the books live in that SQLite file and survive restarts;
/// without it they live in memory.
#[derive(uniffi::Object)]
pub struct OfflineBilling {
    core: Arc<SharedOfflineBilling>,
}

impl fmt::Debug for OfflineBilling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.core, f)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl OfflineBilling {
    /// Offline billing, its books in the SQLite file at `storePath` (created if
    /// missing) or in memory; under `account` for a platform keeping several practices
    /// in one file; numbered with `numberPrefix` (`OFF` by default).
    ///
    /// # Errors
    /// `Store` when the file cannot be opened.
    #[uniffi::constructor(default(store_path = None, account = None, number_prefix = None))]
    pub fn new(
        store_path: Option<String>,
        account: Option<String>,
        number_prefix: Option<String>,
    ) -> Result<Arc<Self>, BillbridgeError> {
        guard(|| {
            let store = store_path
                .map(|path| {
                    SqliteStore::open(path).map(|store| Arc::new(store) as Arc<dyn SyncStore>)
                })
                .transpose()?;
            let mut core = SharedOfflineBilling::over(store, None);
            if let Some(account) = account {
                core = core.account(account);
            }
            if let Some(prefix) = number_prefix {
                core = core.number_prefix(prefix);
            }
            Ok(Arc::new(OfflineBilling {
                core: Arc::new(core),
            }))
        })
    }

    /// Raises the draft on the day `on` (`YYYY-MM-DD`): issued at once, numbered and
    /// dated; `metadata` rides along for reports. Raising the same draft again returns
    /// the invoice already raised.
    ///
    /// # Errors
    /// `Validation` for an invalid draft; `InvalidState`
    /// (`invoice_already_raised` from a different draft); store errors.
    #[uniffi::method(default(metadata))]
    pub async fn raise_invoice(
        &self,
        draft: InvoiceDraft,
        on: String,
        metadata: HashMap<String, String>,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let (draft, _) = draft.to_core()?;
            let on = day(&on)?;
            let entries = self::metadata(&metadata);
            Ok(core
                .raise_with_metadata(&draft, on, entries)
                .await
                .map_err(billbridge::Error::from)?
                .into())
        })
        .await
    }

    /// Records a payment taken by hand; the invoice is paid when nothing remains.
    ///
    /// # Errors
    /// `Validation` (`overpayment`, `currency_mismatch`, `unknown_invoice`);
    /// `InvalidState` for a paid or void invoice; store errors.
    pub async fn record_payment(
        &self,
        host_invoice_id: String,
        payment: ManualPaymentEntry,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let mut entry = ManualPayment::new(
                payment.method.to_core()?,
                payment.amount.to_core()?,
                day(&payment.day)?,
            );
            if let Some(reference) = payment.reference {
                entry = entry.with_reference(reference);
            }
            Ok(core
                .record_payment(&host_invoice_id, entry)
                .await
                .map_err(billbridge::Error::from)?
                .into())
        })
        .await
    }

    /// Voids an open or uncollectible invoice on the day `on`.
    ///
    /// # Errors
    /// `InvalidState` otherwise; `Validation` (`unknown_invoice`); store errors.
    pub async fn void(
        &self,
        host_invoice_id: String,
        on: String,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let on = day(&on)?;
            Ok(core
                .void(&host_invoice_id, on)
                .await
                .map_err(billbridge::Error::from)?
                .into())
        })
        .await
    }

    /// Writes an open invoice off on the day `on`; it can still be paid or voided.
    ///
    /// # Errors
    /// As [`OfflineBilling::void`].
    pub async fn mark_uncollectible(
        &self,
        host_invoice_id: String,
        on: String,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let on = day(&on)?;
            Ok(core
                .mark_uncollectible(&host_invoice_id, on)
                .await
                .map_err(billbridge::Error::from)?
                .into())
        })
        .await
    }

    /// The offline invoice with its payments, if raised.
    ///
    /// # Errors
    /// Store errors.
    pub async fn invoice(
        &self,
        host_invoice_id: String,
    ) -> Result<Option<OfflineInvoice>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let Some(entry) = core
                .invoice(&host_invoice_id)
                .await
                .map_err(billbridge::Error::from)?
            else {
                return Ok(None);
            };
            let row = entry.to_mirror().map_err(billbridge::Error::from)?;
            let record =
                billbridge::sync::InvoiceRecord::from_row(&row).map_err(billbridge::Error::from)?;
            Ok(Some(OfflineInvoice {
                record: record.into(),
                payments: payments(entry.payments()),
            }))
        })
        .await
    }

    /// The offline invoices matching `filter`, oldest first.
    ///
    /// # Errors
    /// `Validation` for a bad filter; store errors.
    pub async fn invoices(
        &self,
        filter: InvoiceFilter,
    ) -> Result<Vec<InvoiceRecord>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let query = filter.to_core()?;
            let found = core
                .invoices(&query)
                .collect_all()
                .await
                .map_err(billbridge::Error::from)?;
            Ok(records(found))
        })
        .await
    }

    /// The open offline invoices, oldest first.
    ///
    /// # Errors
    /// Store errors.
    pub async fn outstanding(&self) -> Result<Vec<InvoiceRecord>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let found = core
                .outstanding()
                .collect_all()
                .await
                .map_err(billbridge::Error::from)?;
            Ok(records(found))
        })
        .await
    }

    /// Every payment received on the days of `days`, one row per payment.
    ///
    /// # Errors
    /// `Validation` for a bad range; store errors.
    pub async fn payments_received(&self, days: DayRange) -> Result<Vec<Payment>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let range = days.to_core()?;
            let found = core
                .payments_received(range)
                .collect_all()
                .await
                .map_err(billbridge::Error::from)?;
            Ok(payments(found))
        })
        .await
    }

    /// The payer's portal view of their offline invoices.
    ///
    /// # Errors
    /// `Validation` for an invalid id; store errors.
    pub async fn portal(&self, payer: PayerRef) -> Result<Portal, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let payer = payer.to_core()?;
            Ok(core
                .portal(&payer)
                .await
                .map_err(billbridge::Error::from)?
                .into())
        })
        .await
    }

    /// Writes the offline invoices matching `filter` as CSV to `path`; columns and
    /// errors as `Billbridge.exportInvoicesCsv`. Returns the rows written.
    ///
    /// # Errors
    /// `Validation` (`unknown_report_column`); `Io`; store errors.
    pub async fn export_invoices_csv(
        &self,
        filter: InvoiceFilter,
        columns: Vec<String>,
        path: String,
    ) -> Result<i64, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let query = filter.to_core()?;
            let found = core
                .invoices(&query)
                .collect_all()
                .await
                .map_err(billbridge::Error::from)?;
            write_records_csv(&found, &columns, &path)
        })
        .await
    }
}

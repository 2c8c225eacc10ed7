//! Offline billing: the invoicing workflow for a practice with no Stripe account at all,
//! on the domain ledger ([`crate::domain::ledger`]). Invoices are raised from drafts or
//! from services and billing rates, numbered locally, paid by hand (cash, cheque, bank
//! transfer, card outside Stripe, insurance; partial payments included), voided or
//! written off, and reported exactly like Stripe invoices.
//!
//! Two stores hold the state:
//! - a [`LedgerStore`] keeps each [`LedgerInvoice`] with its payment history, the source
//!   of truth of the workflow: [`MemoryLedgerStore`] (lost when the process ends),
//!   `SqliteStore` (feature `sqlite`, in the same database file as its mirrors, so one
//!   store can serve both roles), or the host's own database implementing the trait,
//!   as for [`SyncStore`];
//! - the [`SyncStore`] keeps an [`InvoiceMirror`] of every offline invoice, so that
//!   [`crate::report`] (outstanding, portal, CSV export) works on offline invoices
//!   unchanged. The mirror is written after the ledger; should that write fail,
//!   [`OfflineBilling::rebuild_mirrors`] rewrites every mirror from the ledger.
//!
//! Offline mirrors use synthetic ids that can never collide with Stripe's:
//! `stripe_invoice_id` is `offline:<host invoice id>` and `stripe_customer_id` is
//! `offline:<patient|organisation>:<host payer id>`. Amounts are in Stripe's minor units
//! like every mirror; there is no customer balance, so `starting_balance` is 0. The
//! invoice number is `<prefix>-<sequence>` (`OFF-0001`, …), the sequence kept per
//! account by the ledger store; a lost race can leave a gap in the sequence, never a
//! duplicate. `created` is the invoiced day and `stripe_updated_at` the day of the last
//! change (midnight UTC).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::classify::{Classify, ErrorCategory};
use crate::domain::catalogue::{
    BillingRate, BillingRates, CatalogueError, InvoiceGroup, Service, payer_for_service,
    select_invoiceable, stamp_invoiced,
};
use crate::domain::date::{Date, DateError};
use crate::domain::invoice::{CollectionMethod, Due, InvoiceDraft, InvoiceId};
use crate::domain::ledger::{LedgerError, LedgerInvoice, ManualPayment};
use crate::domain::money::MoneyError;
use crate::domain::party::{OrganisationId, PartyError, PatientId, PayerRef};
use crate::domain::status::InvoiceStatus;
use crate::mirror::InvoiceRecord;
use crate::report::{
    self, DateRange, InvoicePager, InvoiceQuery, Payment, PaymentChannel, Portal, ReportError,
};
use crate::store::{
    InvoiceMirror, LedgerRecord, LedgerStore, MemoryLedgerStore, MemoryStore, MetadataMap,
    OutsidePayment, PartyKind, StoreError, SyncStore,
};

/// Prefix of the synthetic Stripe ids of offline mirrors.
pub const OFFLINE_ID_PREFIX: &str = "offline:";

/// The invoice number prefix unless [`OfflineBilling::number_prefix`] sets another.
pub const DEFAULT_NUMBER_PREFIX: &str = "OFF";

/// Ledger invoices read per page by [`OfflinePaymentPager`] and
/// [`OfflineBilling::rebuild_mirrors`].
const LEDGER_PAGE_SIZE: usize = 100;

/// A failure of the offline workflow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineError {
    /// The ledger refused the action (illegal transition, overpayment, invalid draft…).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Services or billing rates could not be invoiced.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// The ledger store or the sync store failed.
    #[error("offline billing store failed")]
    Store(#[from] StoreError),
    /// A date outside the supported calendar (a due date too far ahead).
    #[error(transparent)]
    Date(#[from] DateError),
    /// An amount that does not fit Stripe's minor units.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// An invalid host id (e.g. an empty invoice id built for a service group).
    #[error(transparent)]
    Party(#[from] PartyError),
    /// The draft has no host invoice id; offline invoices are keyed by it.
    #[error("the draft has no host invoice id")]
    MissingHostId,
    /// No offline invoice with this host id.
    #[error("no offline invoice {host_invoice_id}")]
    UnknownInvoice {
        /// The host id asked for.
        host_invoice_id: String,
    },
    /// The host id was already raised from a different draft.
    #[error("invoice {host_invoice_id} was already raised from a different draft")]
    AlreadyRaised {
        /// The host id.
        host_invoice_id: String,
    },
    /// Another caller changed the invoice between read and write; read it and retry.
    #[error("invoice {host_invoice_id} was changed concurrently; retry")]
    ConcurrentUpdate {
        /// The host id.
        host_invoice_id: String,
    },
}

impl Classify for OfflineError {
    fn code(&self) -> &'static str {
        match self {
            OfflineError::Ledger(inner) => inner.code(),
            OfflineError::Catalogue(inner) => inner.code(),
            OfflineError::Store(inner) => inner.code(),
            OfflineError::Date(inner) => inner.code(),
            OfflineError::Money(inner) => inner.code(),
            OfflineError::Party(inner) => inner.code(),
            OfflineError::MissingHostId => "missing_host_invoice_id",
            OfflineError::UnknownInvoice { .. } => "unknown_invoice",
            OfflineError::AlreadyRaised { .. } => "invoice_already_raised",
            OfflineError::ConcurrentUpdate { .. } => "concurrent_update",
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            OfflineError::Ledger(inner) => inner.category(),
            OfflineError::Catalogue(inner) => inner.category(),
            OfflineError::Store(_) => ErrorCategory::Store,
            OfflineError::Date(inner) => inner.category(),
            OfflineError::Money(inner) => inner.category(),
            OfflineError::Party(inner) => inner.category(),
            OfflineError::MissingHostId | OfflineError::UnknownInvoice { .. } => {
                ErrorCategory::Validation
            }
            OfflineError::AlreadyRaised { .. } | OfflineError::ConcurrentUpdate { .. } => {
                ErrorCategory::InvalidState
            }
        }
    }
}

fn party_kind(payer: &PayerRef) -> PartyKind {
    match payer {
        PayerRef::Patient(_) => PartyKind::Patient,
        PayerRef::Organisation(_) => PartyKind::Organisation,
    }
}

impl LedgerRecord {
    /// The report row of this invoice (see the module docs for the synthetic ids). Its
    /// outside payment is the last payment recorded, dated by that payment's day, and a
    /// paid invoice's `paid_at` is midnight UTC of that day (of its issue when nothing
    /// was due), so [`crate::report::payments_received`] dates it as
    /// [`OfflineBilling::payments_received`] dates the last payment.
    ///
    /// # Errors
    /// [`OfflineError::Money`] when an amount overflows Stripe's minor units.
    pub fn to_mirror(&self) -> Result<InvoiceMirror, OfflineError> {
        let invoice = &self.invoice;
        let payer = &invoice.payer;
        let created_on = invoice.invoiced_on.unwrap_or(self.updated_on);
        let total = invoice.total.stripe_units()?;
        let last_payment = invoice.payments.last();
        // A zero invoice is paid at issue, with no payment.
        let paid_on = if invoice.status == InvoiceStatus::Paid {
            last_payment.map_or(invoice.invoiced_on, |payment| Some(payment.date))
        } else {
            None
        };
        Ok(InvoiceMirror {
            account: self.account.clone(),
            host_invoice_id: invoice.id.as_str().to_owned(),
            stripe_invoice_id: format!("{OFFLINE_ID_PREFIX}{}", invoice.id),
            stripe_customer_id: format!("{OFFLINE_ID_PREFIX}{}:{}", payer.kind(), payer.host_id()),
            status: invoice.status.clone(),
            unrecognised_status: None,
            number: Some(self.number.clone()),
            currency: invoice.currency.code().to_owned(),
            subtotal: total,
            total,
            amount_due: invoice.amount_due.stripe_units()?,
            amount_paid: invoice.amount_paid()?.stripe_units()?,
            amount_remaining: invoice.amount_remaining()?.stripe_units()?,
            starting_balance: 0,
            ending_balance: invoice.invoiced_on.map(|_| 0),
            hosted_invoice_url: None,
            invoice_pdf: None,
            due_date: self.due_on.map(Date::to_unix_timestamp),
            created: created_on.to_unix_timestamp(),
            metadata: self.metadata.clone(),
            paid_at: paid_on.map(Date::to_unix_timestamp),
            paid_outside: last_payment.map(|payment| OutsidePayment {
                method: payment.method.as_str().to_owned(),
                reference: payment.reference.clone(),
                paid_on: Some(payment.date),
            }),
            stripe_updated_at: self.updated_on.to_unix_timestamp(),
            payer_kind: party_kind(payer),
            payer_host_id: payer.host_id().to_owned(),
            patient_host_id: invoice.subject.as_ref().map(|id| id.as_str().to_owned()),
        })
    }

    /// Every manual payment of the invoice as a report row.
    pub fn payments(&self) -> Vec<Payment> {
        let invoice = &self.invoice;
        invoice
            .payments
            .iter()
            .map(|payment| Payment {
                host_invoice_id: invoice.id.as_str().to_owned(),
                invoice_number: Some(self.number.clone()),
                payer: invoice.payer.clone(),
                patient: invoice.subject.clone(),
                amount: payment.amount,
                date: payment.date,
                channel: PaymentChannel::Outside(payment.method.clone()),
                reference: payment.reference.clone(),
                metadata: self.metadata.clone(),
            })
            .collect()
    }
}

/// What [`OfflineBilling::raise_for_services`] raised for one payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInvoice {
    /// The invoice, as reports show it.
    pub invoice: InvoiceRecord,
    /// The services it bills, as stamped with the invoiced date.
    pub services: Vec<Service>,
}

/// The host invoice id [`OfflineBilling::raise_for_services`] gives a payer's group
/// unless the host names its own: `svc-` and the group's first service id. Each service
/// is invoiced once, so the id is unique, and a re-run after a failure derives the same
/// id for the same group.
pub fn service_invoice_id(group: &InvoiceGroup) -> String {
    match group.services.first() {
        Some(first) => format!("svc-{first}"),
        None => format!("svc-{}", group.payer.host_id()),
    }
}

/// Offline billing over shared stores, as language bindings and hosts that pick their
/// stores at run time hold it.
pub type SharedOfflineBilling = OfflineBilling<Arc<dyn SyncStore>, Arc<dyn LedgerStore>>;

impl SharedOfflineBilling {
    /// Offline billing whose mirrors go to `store` (default: a new [`MemoryStore`]) and
    /// whose books go to `ledger`; without one, to `store` itself when it can keep them
    /// ([`SyncStore::as_ledger`]: the SQLite store keeps both in one file, so the books
    /// survive restarts), else to a new [`MemoryLedgerStore`].
    pub fn over(
        store: Option<Arc<dyn SyncStore>>,
        ledger: Option<Arc<dyn LedgerStore>>,
    ) -> SharedOfflineBilling {
        let store = store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let ledger = ledger
            .or_else(|| Arc::clone(&store).as_ledger())
            .unwrap_or_else(|| Arc::new(MemoryLedgerStore::new()));
        OfflineBilling::new(store, ledger)
    }
}

/// The billing workflow without Stripe; see the module docs.
///
/// ```
/// # tokio_test_block(async {
/// use billbridge::domain::date::Date;
/// use billbridge::domain::invoice::{InvoiceDraft, InvoiceId, InvoiceLine};
/// use billbridge::domain::ledger::{ManualPayment, PaymentMethod};
/// use billbridge::domain::money::Money;
/// use billbridge::domain::party::{Patient, PatientId};
/// use billbridge::domain::status::InvoiceStatus;
/// use billbridge::offline::OfflineBilling;
/// use billbridge::store::MemoryLedgerStore;
/// use billbridge::store::MemoryStore;
///
/// let billing = OfflineBilling::new(MemoryStore::new(), MemoryLedgerStore::new());
/// let ben = Patient::new(PatientId::new("P-1004")?, "Ben", "Carter");
/// let day = Date::parse("2026-11-21")?;
/// let draft = InvoiceDraft::for_patient(&ben)
///     .host_id(InvoiceId::new("INV-5")?)
///     .line(InvoiceLine::ad_hoc("Follow-up session", Money::gbp(5000), 1));
/// let raised = billing.raise(&draft, day).await?;
/// assert_eq!(raised.number.as_deref(), Some("OFF-0001"));
/// let paid = billing
///     .record_payment("INV-5", ManualPayment::new(PaymentMethod::Cash, Money::gbp(5000), day))
///     .await?;
/// assert_eq!(paid.status, InvoiceStatus::Paid);
/// # Ok::<(), billbridge::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future>(future: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
/// # }
/// ```
pub struct OfflineBilling<S, L = MemoryLedgerStore> {
    store: S,
    ledger: L,
    account: Option<String>,
    number_prefix: String,
}

impl<S, L> fmt::Debug for OfflineBilling<S, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfflineBilling")
            .field("account", &self.account)
            .field("number_prefix", &self.number_prefix)
            .finish_non_exhaustive()
    }
}

impl<S: SyncStore, L: LedgerStore> OfflineBilling<S, L> {
    /// Offline billing keeping mirrors in `store` and invoices in `ledger`.
    pub fn new(store: S, ledger: L) -> OfflineBilling<S, L> {
        OfflineBilling {
            store,
            ledger,
            account: None,
            number_prefix: DEFAULT_NUMBER_PREFIX.to_owned(),
        }
    }

    /// Keeps this practice's books under `account` (for a platform holding several
    /// practices in one store); empty means none.
    pub fn account(mut self, account: impl Into<String>) -> OfflineBilling<S, L> {
        let account = account.into();
        self.account = (!account.is_empty()).then_some(account);
        self
    }

    /// Numbers invoices `<prefix>-0001`, `<prefix>-0002`, … (default `OFF`).
    pub fn number_prefix(mut self, prefix: impl Into<String>) -> OfflineBilling<S, L> {
        self.number_prefix = prefix.into();
        self
    }

    /// The sync store holding the mirrors (give it to [`crate::report`]).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The ledger store.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// The account the books are kept under.
    pub fn account_id(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The offline invoice `host_invoice_id`, with its payments.
    ///
    /// # Errors
    /// [`OfflineError::Store`] when the ledger store fails.
    pub async fn invoice(
        &self,
        host_invoice_id: &str,
    ) -> Result<Option<LedgerRecord>, OfflineError> {
        Ok(self
            .ledger
            .ledger_invoice(self.account.as_deref(), host_invoice_id)
            .await?)
    }

    /// Raises `draft` (which must carry a host id) on `on`: the invoice is issued at
    /// once (open, or paid when nothing is due), numbered and dated. Raising the same
    /// draft again returns the invoice already raised.
    ///
    /// # Errors
    /// [`OfflineError::MissingHostId`], [`OfflineError::AlreadyRaised`] for a different
    /// draft under the same id, [`OfflineError::Ledger`] for an invalid draft,
    /// [`OfflineError::Store`].
    pub async fn raise(
        &self,
        draft: &InvoiceDraft,
        on: Date,
    ) -> Result<InvoiceRecord, OfflineError> {
        self.raise_with_metadata(draft, on, MetadataMap::new())
            .await
    }

    /// [`OfflineBilling::raise`] with metadata for reports (e.g. `patient_name` for a
    /// CSV column).
    ///
    /// # Errors
    /// As [`OfflineBilling::raise`].
    pub async fn raise_with_metadata(
        &self,
        draft: &InvoiceDraft,
        on: Date,
        metadata: MetadataMap,
    ) -> Result<InvoiceRecord, OfflineError> {
        let id = draft.host_id.clone().ok_or(OfflineError::MissingHostId)?;
        if let Some(existing) = self.invoice(id.as_str()).await? {
            return self.already_raised(existing, draft, &metadata).await;
        }
        let mut invoice = LedgerInvoice::from_draft(id.clone(), draft)?;
        invoice.finalize(on)?;
        let due_on = match draft.collection {
            CollectionMethod::ChargeAutomatically => None,
            CollectionMethod::SendInvoice {
                due: Due::DaysUntilDue(days),
            } => Some(on.add_days(i64::from(days))?),
            CollectionMethod::SendInvoice {
                due: Due::DueDate(date),
            } => Some(date),
        };
        let sequence = self
            .ledger
            .next_invoice_number(self.account.as_deref())
            .await?;
        let record = LedgerRecord {
            account: self.account.clone(),
            invoice,
            number: format!("{}-{sequence:04}", self.number_prefix),
            draft: draft.clone(),
            due_on,
            metadata: metadata.clone(),
            updated_on: on,
            revision: 1,
        };
        if !self.ledger.swap_ledger_invoice(None, &record).await? {
            // Raised concurrently by another caller: same answer as a re-run.
            let existing =
                self.invoice(id.as_str())
                    .await?
                    .ok_or_else(|| OfflineError::ConcurrentUpdate {
                        host_invoice_id: id.as_str().to_owned(),
                    })?;
            return self.already_raised(existing, draft, &metadata).await;
        }
        self.write_mirror(&record).await
    }

    async fn already_raised(
        &self,
        existing: LedgerRecord,
        draft: &InvoiceDraft,
        metadata: &MetadataMap,
    ) -> Result<InvoiceRecord, OfflineError> {
        if existing.draft != *draft || existing.metadata != *metadata {
            return Err(OfflineError::AlreadyRaised {
                host_invoice_id: existing.host_invoice_id().to_owned(),
            });
        }
        // Rewriting the mirror repairs a run that stopped between the two stores.
        self.write_mirror(&existing).await
    }

    async fn write_mirror(&self, record: &LedgerRecord) -> Result<InvoiceRecord, OfflineError> {
        let mirror = record.to_mirror()?;
        self.store.put_invoice_mirror(&mirror).await?;
        Ok(InvoiceRecord::from_row(&mirror)?)
    }

    /// Reads the invoice, applies `change` to a copy, and writes it back if nobody
    /// changed it meanwhile.
    async fn update(
        &self,
        host_invoice_id: &str,
        on: Date,
        change: impl FnOnce(&mut LedgerInvoice) -> Result<(), LedgerError>,
    ) -> Result<InvoiceRecord, OfflineError> {
        let current =
            self.invoice(host_invoice_id)
                .await?
                .ok_or_else(|| OfflineError::UnknownInvoice {
                    host_invoice_id: host_invoice_id.to_owned(),
                })?;
        let mut next = current.clone();
        change(&mut next.invoice)?;
        next.updated_on = next.updated_on.max(on);
        next.revision = current.revision.saturating_add(1);
        if !self
            .ledger
            .swap_ledger_invoice(Some(current.revision), &next)
            .await?
        {
            return Err(OfflineError::ConcurrentUpdate {
                host_invoice_id: host_invoice_id.to_owned(),
            });
        }
        self.write_mirror(&next).await
    }

    /// Records a payment made outside Stripe (partial payments allowed); the invoice
    /// becomes paid when nothing remains.
    ///
    /// # Errors
    /// [`OfflineError::Ledger`] with [`LedgerError::Overpayment`] when the payment
    /// exceeds what remains (nothing is recorded), an illegal transition for a paid,
    /// void or draft invoice, a currency mismatch; [`OfflineError::UnknownInvoice`];
    /// [`OfflineError::ConcurrentUpdate`]; [`OfflineError::Store`].
    pub async fn record_payment(
        &self,
        host_invoice_id: &str,
        payment: ManualPayment,
    ) -> Result<InvoiceRecord, OfflineError> {
        let on = payment.date;
        self.update(host_invoice_id, on, |invoice| {
            invoice.record_payment(payment)
        })
        .await
    }

    /// Voids an open or uncollectible invoice on `on`: nothing is owed any more.
    ///
    /// # Errors
    /// [`OfflineError::Ledger`] for an illegal transition; otherwise as
    /// [`OfflineBilling::record_payment`].
    pub async fn void(
        &self,
        host_invoice_id: &str,
        on: Date,
    ) -> Result<InvoiceRecord, OfflineError> {
        self.update(host_invoice_id, on, LedgerInvoice::void).await
    }

    /// Writes an open invoice off on `on`; it can still be paid or voided.
    ///
    /// # Errors
    /// As [`OfflineBilling::void`].
    pub async fn mark_uncollectible(
        &self,
        host_invoice_id: &str,
        on: Date,
    ) -> Result<InvoiceRecord, OfflineError> {
        self.update(host_invoice_id, on, LedgerInvoice::mark_uncollectible)
            .await
    }

    /// Raises one invoice per payer for what is invoiceable among `services` (services
    /// under an invoiced rate, not yet invoiced) and stamps each invoiced service with
    /// `on`. `payer_for` names a service's payer (the patient, or the patient's default
    /// payer); `invoice_id_for` names each group's invoice ([`service_invoice_id`] is a
    /// deterministic choice). An insurer's part is split off beforehand with
    /// [`Service::split_insurance`], so only the client's remainder is invoiced.
    ///
    /// Groups are raised in payer order. On an error the groups raised before it stay
    /// raised and stamped; running again with the same services raises the rest.
    ///
    /// # Errors
    /// [`OfflineError::Catalogue`] for an unknown rate; [`OfflineError::Party`] for an
    /// invalid invoice id; otherwise as [`OfflineBilling::raise`].
    pub async fn raise_for_services(
        &self,
        services: &mut [Service],
        rates: &BillingRates,
        payer_for: impl Fn(&Service, &BillingRate) -> PayerRef,
        invoice_id_for: impl Fn(&InvoiceGroup) -> String,
        on: Date,
    ) -> Result<Vec<ServiceInvoice>, OfflineError> {
        let groups = select_invoiceable(services, rates, payer_for)?;
        let mut raised = Vec::with_capacity(groups.len());
        for group in groups {
            let id = InvoiceId::new(invoice_id_for(&group))?;
            let draft = group.to_draft().host_id(id);
            let invoice = self.raise(&draft, on).await?;
            stamp_invoiced(services, &group.services, on)?;
            let billed = services
                .iter()
                .filter(|service| group.services.contains(&service.id))
                .cloned()
                .collect();
            raised.push(ServiceInvoice {
                invoice,
                services: billed,
            });
        }
        Ok(raised)
    }

    /// [`OfflineBilling::raise_for_services`] with billbridge's payer rule
    /// ([`crate::domain::catalogue::payer_for_service`]: an insurance rate bills the
    /// patient's organisation from `default_payers`, else the patient) and the
    /// deterministic invoice ids of [`service_invoice_id`]; `services` come back
    /// stamped in place.
    ///
    /// # Errors
    /// As [`OfflineBilling::raise_for_services`].
    pub async fn raise_services(
        &self,
        services: &mut [Service],
        rates: &BillingRates,
        default_payers: &BTreeMap<PatientId, OrganisationId>,
        on: Date,
    ) -> Result<Vec<ServiceInvoice>, OfflineError> {
        self.raise_for_services(
            services,
            rates,
            |service, rate| payer_for_service(service, rate, default_payers),
            service_invoice_id,
            on,
        )
        .await
    }

    /// The offline invoices matching `query`, oldest first, as the reports list them.
    pub fn invoices(&self, query: &InvoiceQuery) -> InvoicePager<'_, S> {
        report::invoices(&self.store, self.account.as_deref(), query)
    }

    /// The open offline invoices, oldest first.
    pub fn outstanding(&self) -> InvoicePager<'_, S> {
        report::outstanding(&self.store, self.account.as_deref())
    }

    /// The portal view of `payer`'s offline invoices.
    ///
    /// # Errors
    /// As [`report::portal`].
    pub async fn portal(&self, payer: &PayerRef) -> Result<Portal, ReportError> {
        report::portal(&self.store, self.account.as_deref(), payer).await
    }

    /// Every manual payment received on the days of `range`, one row per payment
    /// (partial payments itemised), read from the ledger one page at a time.
    pub fn payments_received(&self, range: DateRange) -> OfflinePaymentPager<'_, L> {
        OfflinePaymentPager {
            ledger: &self.ledger,
            account: self.account.clone(),
            range,
            after: None,
            done: false,
        }
    }

    /// Rewrites the mirror of every offline invoice from the ledger (after a mirror
    /// write failed, or into a new sync store); returns how many were written.
    ///
    /// # Errors
    /// [`OfflineError::Store`] when either store fails.
    pub async fn rebuild_mirrors(&self) -> Result<usize, OfflineError> {
        let mut after: Option<String> = None;
        let mut written = 0usize;
        loop {
            let page = self
                .ledger
                .ledger_invoices(self.account.as_deref(), after.as_deref(), LEDGER_PAGE_SIZE)
                .await?;
            for record in &page {
                self.write_mirror(record).await?;
                written = written.saturating_add(1);
            }
            match page.last() {
                Some(last) if page.len() >= LEDGER_PAGE_SIZE => {
                    after = Some(last.host_invoice_id().to_owned());
                }
                _ => return Ok(written),
            }
        }
    }
}

/// Walks the manual payments of the ledger received in a date range (see
/// [`OfflineBilling::payments_received`]).
pub struct OfflinePaymentPager<'l, L: ?Sized> {
    ledger: &'l L,
    account: Option<String>,
    range: DateRange,
    after: Option<String>,
    done: bool,
}

impl<L: ?Sized> fmt::Debug for OfflinePaymentPager<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfflinePaymentPager")
            .field("account", &self.account)
            .field("range", &self.range)
            .field("after", &self.after)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<L: LedgerStore + ?Sized> OfflinePaymentPager<'_, L> {
    /// The next non-empty page of payments in host invoice id order (each invoice's in
    /// the order recorded), or `None` when none is left.
    ///
    /// # Errors
    /// [`ReportError::Store`] when the ledger store fails; [`ReportError::Amount`] when
    /// an amount overflows Stripe's minor units.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Payment>>, ReportError> {
        while !self.done {
            let page = self
                .ledger
                .ledger_invoices(
                    self.account.as_deref(),
                    self.after.as_deref(),
                    LEDGER_PAGE_SIZE,
                )
                .await?;
            match page.last() {
                Some(last) if page.len() >= LEDGER_PAGE_SIZE => {
                    self.after = Some(last.host_invoice_id().to_owned());
                }
                _ => self.done = true,
            }
            let mut payments = Vec::new();
            for record in &page {
                payments.extend(
                    record
                        .payments()
                        .into_iter()
                        .filter(|payment| self.range.contains(payment.date)),
                );
            }
            if !payments.is_empty() {
                return Ok(Some(payments));
            }
        }
        Ok(None)
    }

    /// Every remaining payment in one vector (memory grows with the result).
    ///
    /// # Errors
    /// As [`OfflinePaymentPager::next_page`].
    pub async fn collect_all(mut self) -> Result<Vec<Payment>, ReportError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}

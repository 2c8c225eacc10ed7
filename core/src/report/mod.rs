//! Reports over the host's invoices: filtered invoice listings, outstanding invoices,
//! payments received (through Stripe and outside it), a payer's portal view, and CSV
//! export (feature `csv`).
//!
//! The rows are [`InvoiceRecord`]s read from the store's mirror, so a report needs no
//! Stripe call
//! and works the same for invoices raised through Stripe and for offline invoices
//! ([`crate::offline`]). Listings are lazy: a pager asks the store for one page
//! at a time with its cursor (`created`, then host invoice id), so memory stays constant
//! however many invoices match. Hosts that want Stripe's own view instead use
//! [`stripe_invoices`], which walks Stripe's list endpoint and joins each invoice with
//! its mirror.
//!
//! Dates in filters are UTC calendar days; a [`DateRange`] includes both ends.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};

use crate::classify::{Classify, ErrorCategory};
use crate::domain::date::{Date, DateError};
use crate::domain::ledger::PaymentMethod;
use crate::domain::money::{Currency, Money, MoneyError};
use crate::domain::party::{PatientId, PayerRef};
use crate::domain::status::InvoiceStatus;
use crate::mirror::InvoiceRecord;
use crate::redact::redacted;
use crate::store::{MetadataMap, MirrorCursor, MirrorQuery, PartyKind, StoreError, SyncStore};
use crate::stripe::error::StripeError;

#[cfg(feature = "csv")]
mod export;
mod from_stripe;

pub use crate::mirror::HostIdKeys;
#[cfg(feature = "csv")]
pub use export::{
    AmountFormat, Column, CsvOptions, InvoiceCsvWriter, PaymentColumn, PaymentCsvWriter, write_csv,
    write_csv_with, write_payments_csv, write_payments_csv_with,
};
pub use from_stripe::{StripeInvoicePager, stripe_invoices};

/// How many mirrors a pager asks the store for at a time, unless the query says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// A report failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The sync store failed while reading rows.
    #[error("reading the report rows failed")]
    Store(#[from] StoreError),
    /// Stripe failed while listing invoices.
    #[error("listing invoices from Stripe failed")]
    Stripe(#[from] StripeError),
    /// A date range whose start is after its end.
    #[error("date range starts on {from}, after its end {to}")]
    InvalidDateRange {
        /// The first day asked for.
        from: Date,
        /// The last day asked for.
        to: Date,
    },
    /// A date outside the supported calendar (years 1–9999).
    #[error("date out of range in a report")]
    Date(#[from] DateError),
    /// An amount that cannot be shown in its currency (an unknown currency code, or an
    /// ISK/UGX amount that is not whole).
    #[error("amount of invoice {host_invoice_id} cannot be shown as a decimal")]
    Amount {
        /// The invoice whose amount failed.
        host_invoice_id: String,
        /// Why.
        #[source]
        source: MoneyError,
    },
    /// The writer a report was exported to failed.
    #[error("writing the report failed after {rows_written} rows")]
    Io {
        /// Data rows written before the failure (the header not counted).
        rows_written: usize,
        /// The writer's error.
        #[source]
        source: io::Error,
    },
    /// The CSV encoder refused a record.
    #[cfg(feature = "csv")]
    #[error("encoding CSV row {row} failed")]
    Csv {
        /// The data row (from 1) that failed.
        row: usize,
        /// The encoder's error.
        #[source]
        source: ::csv::Error,
    },
}

impl Classify for ReportError {
    fn code(&self) -> &'static str {
        match self {
            ReportError::Store(inner) => inner.code(),
            ReportError::Stripe(inner) => inner.code(),
            ReportError::InvalidDateRange { .. } => "invalid_date_range",
            ReportError::Date(inner) => inner.code(),
            ReportError::Amount { source, .. } => source.code(),
            ReportError::Io { .. } => "report_io_failed",
            #[cfg(feature = "csv")]
            ReportError::Csv { .. } => "csv_encoding_failed",
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            ReportError::Store(_) => ErrorCategory::Store,
            ReportError::Stripe(inner) => inner.category(),
            ReportError::InvalidDateRange { .. } => ErrorCategory::Validation,
            ReportError::Date(inner) => inner.category(),
            ReportError::Amount { source, .. } => source.category(),
            ReportError::Io { .. } => ErrorCategory::Io,
            #[cfg(feature = "csv")]
            ReportError::Csv { .. } => ErrorCategory::Validation,
        }
    }
}

/// Both ends' raw form, for deserialising a [`DateRange`] through its checks.
#[derive(Deserialize)]
struct DateRangeFields {
    from: Date,
    to: Date,
}

impl TryFrom<DateRangeFields> for DateRange {
    type Error = ReportError;

    fn try_from(fields: DateRangeFields) -> Result<Self, Self::Error> {
        DateRange::new(fields.from, fields.to)
    }
}

/// A range of UTC calendar days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "DateRangeFields")]
pub struct DateRange {
    from: Date,
    to: Date,
    #[serde(skip)]
    end_unix: i64,
}

impl DateRange {
    /// The days `from` to `to`, both included.
    ///
    /// # Errors
    /// [`ReportError::InvalidDateRange`] when `from` is after `to`;
    /// [`ReportError::Date`] when `to` is the last supported day (9999-12-31).
    pub fn new(from: Date, to: Date) -> Result<DateRange, ReportError> {
        if from > to {
            return Err(ReportError::InvalidDateRange { from, to });
        }
        let end_unix = to.add_days(1)?.to_unix_timestamp();
        Ok(DateRange { from, to, end_unix })
    }

    /// One day.
    ///
    /// # Errors
    /// As [`DateRange::new`].
    pub fn day(day: Date) -> Result<DateRange, ReportError> {
        DateRange::new(day, day)
    }

    /// The first day.
    pub fn from(&self) -> Date {
        self.from
    }

    /// The last day.
    pub fn to(&self) -> Date {
        self.to
    }

    /// Whether `day` falls in the range.
    pub fn contains(&self, day: Date) -> bool {
        self.from <= day && day <= self.to
    }

    /// Unix seconds of the range's first instant (midnight UTC of the first day).
    pub fn start_unix(&self) -> i64 {
        self.from.to_unix_timestamp()
    }

    /// Unix seconds of the first instant after the range.
    pub fn end_unix_exclusive(&self) -> i64 {
        self.end_unix
    }

    /// Whether the unix time `seconds` falls in the range.
    pub fn contains_unix(&self, seconds: i64) -> bool {
        self.start_unix() <= seconds && seconds < self.end_unix
    }
}

/// Which invoices a report lists. Every condition set must hold; build it with the
/// consuming methods:
///
/// ```
/// use billbridge::domain::date::Date;
/// use billbridge::report::{DateRange, InvoiceQuery};
///
/// let november = DateRange::new(Date::parse("2026-11-01")?, Date::parse("2026-11-30")?)?;
/// let query = InvoiceQuery::outstanding()
///     .created(november)
///     .metadata("appointment_location", "Bristol");
/// # Ok::<(), billbridge::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceQuery {
    /// Only invoices in this status.
    #[serde(default)]
    pub status: Option<InvoiceStatus>,
    /// Only invoices created on these days.
    #[serde(default)]
    pub created: Option<DateRange>,
    /// Only invoices due on these days (invoices without a due date never match).
    #[serde(default)]
    pub due: Option<DateRange>,
    /// Only invoices of payers of this kind.
    #[serde(default)]
    pub payer_kind: Option<PartyKind>,
    /// Only invoices paid by this host party.
    #[serde(default)]
    pub payer_host_id: Option<String>,
    /// Only invoices billed to this Stripe customer (`cus_…`).
    #[serde(default)]
    pub stripe_customer_id: Option<String>,
    /// Only invoices about this patient.
    #[serde(default)]
    pub patient_host_id: Option<String>,
    /// Only invoices whose metadata holds every one of these key/value pairs.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Rows fetched per page (at least 1).
    #[serde(default = "default_page_size")]
    pub page_size: usize,
}

fn default_page_size() -> usize {
    DEFAULT_PAGE_SIZE
}

impl Default for InvoiceQuery {
    fn default() -> Self {
        InvoiceQuery {
            status: None,
            created: None,
            due: None,
            payer_kind: None,
            payer_host_id: None,
            stripe_customer_id: None,
            patient_host_id: None,
            metadata: MetadataMap::new(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl fmt::Debug for InvoiceQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceQuery")
            .field("status", &self.status)
            .field("created", &self.created)
            .field("due", &self.due)
            .field("payer_kind", &self.payer_kind)
            .field("payer_host_id", &self.payer_host_id)
            .field("stripe_customer_id", &self.stripe_customer_id)
            .field("patient_host_id", &self.patient_host_id)
            .field("metadata", &self.metadata)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl InvoiceQuery {
    /// Every invoice.
    pub fn new() -> InvoiceQuery {
        InvoiceQuery::default()
    }

    /// Open invoices: finalized, not yet paid, voided or written off.
    pub fn outstanding() -> InvoiceQuery {
        InvoiceQuery::new().status(InvoiceStatus::Open)
    }

    /// Keeps only invoices in `status`.
    pub fn status(mut self, status: InvoiceStatus) -> InvoiceQuery {
        self.status = Some(status);
        self
    }

    /// Keeps only invoices created on the days of `range`.
    pub fn created(mut self, range: DateRange) -> InvoiceQuery {
        self.created = Some(range);
        self
    }

    /// Keeps only invoices due on the days of `range`.
    pub fn due(mut self, range: DateRange) -> InvoiceQuery {
        self.due = Some(range);
        self
    }

    /// Keeps only invoices paid by `payer`.
    pub fn payer(self, payer: &PayerRef) -> InvoiceQuery {
        let kind = match payer {
            PayerRef::Patient(_) => PartyKind::Patient,
            PayerRef::Organisation(_) => PartyKind::Organisation,
        };
        self.payer_id(kind, payer.host_id())
    }

    /// Keeps only invoices paid by the host party `host_id` of `kind`.
    pub fn payer_id(mut self, kind: PartyKind, host_id: impl Into<String>) -> InvoiceQuery {
        self.payer_kind = Some(kind);
        self.payer_host_id = Some(host_id.into());
        self
    }

    /// Keeps only invoices billed to the Stripe customer `customer` (`cus_…`).
    pub fn customer(mut self, customer: impl Into<String>) -> InvoiceQuery {
        self.stripe_customer_id = Some(customer.into());
        self
    }

    /// Keeps only invoices about the patient `host_id`.
    pub fn patient(mut self, host_id: impl Into<String>) -> InvoiceQuery {
        self.patient_host_id = Some(host_id.into());
        self
    }

    /// Keeps only invoices whose metadata maps `key` to `value`.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> InvoiceQuery {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Fetches `size` rows per page (at least 1).
    pub fn page_size(mut self, size: usize) -> InvoiceQuery {
        self.page_size = size.max(1);
        self
    }

    /// The store query for the conditions the store evaluates itself; the rest is
    /// checked by [`InvoiceQuery::matches`].
    pub fn to_mirror_query(&self, account: Option<&str>) -> MirrorQuery {
        let mut query = MirrorQuery::for_account(account);
        query.status = self.status.clone();
        query.payer_kind = self.payer_kind;
        query.payer_host_id = self.payer_host_id.clone();
        query.created_from = self.created.map(|range| range.start_unix());
        query.created_before = self.created.map(|range| range.end_unix_exclusive());
        query.metadata = self.metadata.clone();
        query.limit = Some(self.page_size.max(1));
        query
    }

    /// Whether `record` passes every condition (the account is not checked).
    pub fn matches(&self, record: &InvoiceRecord) -> bool {
        if self.status.as_ref().is_some_and(|s| *s != record.status) {
            return false;
        }
        if self
            .created
            .is_some_and(|range| !range.contains_unix(record.created))
        {
            return false;
        }
        if let Some(range) = self.due {
            match record.due_on {
                Some(due) if range.contains(due) => {}
                _ => return false,
            }
        }
        if self
            .payer_kind
            .is_some_and(|kind| kind.as_str() != record.payer.kind())
        {
            return false;
        }
        if self
            .payer_host_id
            .as_ref()
            .is_some_and(|id| id != record.payer.host_id())
        {
            return false;
        }
        if self
            .stripe_customer_id
            .as_ref()
            .is_some_and(|id| *id != record.stripe_customer_id)
        {
            return false;
        }
        if self
            .patient_host_id
            .as_ref()
            .is_some_and(|id| record.patient.as_ref().map(PatientId::as_str) != Some(id.as_str()))
        {
            return false;
        }
        self.metadata
            .iter()
            .all(|(key, value)| record.metadata.get(key) == Some(value))
    }
}

/// Walks the store's mirrors one page at a time with the store's cursor, keeping only
/// rows that match an [`InvoiceQuery`]. Holds at most one page in memory.
pub struct InvoicePager<'s, S: SyncStore + ?Sized> {
    store: &'s S,
    base: MirrorQuery,
    filter: InvoiceQuery,
    /// Extra condition of derived reports (payments: something was paid in the range).
    keep: fn(&InvoiceQuery, &InvoiceRecord) -> bool,
    cursor: Option<MirrorCursor>,
    done: bool,
    buffer: VecDeque<InvoiceRecord>,
    pages_fetched: u64,
}

impl<S: SyncStore + ?Sized> fmt::Debug for InvoicePager<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoicePager")
            .field("filter", &self.filter)
            .field("cursor", &self.cursor)
            .field("done", &self.done)
            .field("pages_fetched", &self.pages_fetched)
            .finish_non_exhaustive()
    }
}

impl<'s, S: SyncStore + ?Sized> InvoicePager<'s, S> {
    fn new(store: &'s S, account: Option<&str>, filter: &InvoiceQuery) -> InvoicePager<'s, S> {
        InvoicePager {
            store,
            base: filter.to_mirror_query(account),
            filter: filter.clone(),
            keep: |query, record| query.matches(record),
            cursor: None,
            done: false,
            buffer: VecDeque::new(),
            pages_fetched: 0,
        }
    }

    /// Store pages read so far.
    pub fn pages_fetched(&self) -> u64 {
        self.pages_fetched
    }

    /// The next non-empty page of matching rows, or `None` when no row is left. Rows
    /// come in `(created, host_invoice_id)` order.
    ///
    /// # Errors
    /// [`ReportError::Store`] when the store fails (the same page can be asked for
    /// again) or holds a row that cannot be read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<InvoiceRecord>>, ReportError> {
        if !self.buffer.is_empty() {
            return Ok(Some(self.buffer.drain(..).collect()));
        }
        while !self.done {
            let mut query = self.base.clone();
            query.after = self.cursor.clone();
            let page = self.store.query_invoice_mirrors(&query).await?;
            self.pages_fetched = self.pages_fetched.saturating_add(1);
            let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE);
            match page.last() {
                Some(last) if page.len() >= limit => {
                    self.cursor = Some(MirrorCursor::after(last));
                }
                _ => self.done = true,
            }
            let keep = self.keep;
            let mut rows = Vec::with_capacity(page.len());
            for row in &page {
                let record = InvoiceRecord::from_row(row)?;
                if keep(&self.filter, &record) {
                    rows.push(record);
                }
            }
            if !rows.is_empty() {
                return Ok(Some(rows));
            }
        }
        Ok(None)
    }

    /// The next matching row, or `None` when no row is left.
    ///
    /// # Errors
    /// As [`InvoicePager::next_page`].
    pub async fn next(&mut self) -> Result<Option<InvoiceRecord>, ReportError> {
        if self.buffer.is_empty() {
            match self.next_page().await? {
                Some(page) => self.buffer.extend(page),
                None => return Ok(None),
            }
        }
        Ok(self.buffer.pop_front())
    }

    /// Every remaining row in one vector. Memory grows with the result: for exports use
    /// [`InvoicePager::next_page`] or the CSV helpers instead.
    ///
    /// # Errors
    /// As [`InvoicePager::next_page`].
    pub async fn collect_all(mut self) -> Result<Vec<InvoiceRecord>, ReportError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// Streams every remaining row to `writer` as CSV, one page at a time, and returns
    /// the number of data rows written.
    ///
    /// # Errors
    /// As [`InvoicePager::next_page`] and [`write_csv`].
    #[cfg(feature = "csv")]
    pub async fn write_csv<W: io::Write>(
        mut self,
        columns: &[Column],
        options: &CsvOptions,
        writer: W,
    ) -> Result<usize, ReportError> {
        let mut csv = InvoiceCsvWriter::new(writer, columns, options)?;
        while let Some(page) = self.next_page().await? {
            for row in &page {
                csv.write(row)?;
            }
        }
        csv.finish()
    }
}

/// Invoices of `account` (`None`: the platform account) matching `query`, as a lazy
/// pager over the store.
pub fn invoices<'s, S: SyncStore + ?Sized>(
    store: &'s S,
    account: Option<&str>,
    query: &InvoiceQuery,
) -> InvoicePager<'s, S> {
    InvoicePager::new(store, account, query)
}

/// Open invoices of `account`, oldest first.
pub fn outstanding<'s, S: SyncStore + ?Sized>(
    store: &'s S,
    account: Option<&str>,
) -> InvoicePager<'s, S> {
    invoices(store, account, &InvoiceQuery::outstanding())
}

/// How a payment reached the practice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "channel", content = "method", rename_all = "snake_case")]
pub enum PaymentChannel {
    /// Paid through Stripe (card, bank debit… on the hosted page or charged
    /// automatically).
    Stripe,
    /// Paid outside Stripe and recorded by hand.
    Outside(PaymentMethod),
}

impl PaymentChannel {
    /// `stripe`, or the outside method's name (`cash`, `cheque`, `bank_transfer`…).
    pub fn as_str(&self) -> &str {
        match self {
            PaymentChannel::Stripe => "stripe",
            PaymentChannel::Outside(method) => method.as_str(),
        }
    }
}

impl fmt::Display for PaymentChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One payment received against an invoice.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The host's id of the invoice paid.
    pub host_invoice_id: String,
    /// The invoice number, when the invoice has one.
    pub invoice_number: Option<String>,
    /// Who paid.
    pub payer: PayerRef,
    /// The patient the invoice is about, when there is one.
    pub patient: Option<PatientId>,
    /// The amount received.
    pub amount: Money,
    /// The UTC day the payment was received.
    pub date: Date,
    /// Through Stripe, or which method outside it.
    pub channel: PaymentChannel,
    /// The host's reference (cheque number, remittance id), for payments outside Stripe.
    pub reference: Option<String>,
    /// The metadata of the invoice paid (patient name, appointment practitioner, …), so
    /// payment exports can carry the same metadata columns as invoice exports.
    pub metadata: MetadataMap,
}

impl fmt::Debug for Payment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let Payment {
            host_invoice_id,
            invoice_number,
            payer,
            patient,
            amount,
            date,
            channel,
            reference,
            metadata,
        } = self;
        // A reference can be a bank reference or a claim number: presence only.
        f.debug_struct("Payment")
            .field("host_invoice_id", host_invoice_id)
            .field("invoice_number", invoice_number)
            .field("payer", payer)
            .field("patient", patient)
            .field("amount", amount)
            .field("date", date)
            .field("channel", channel)
            .field("reference", &redacted(reference))
            .field("metadata", metadata)
            .finish()
    }
}

impl Payment {
    /// The payment recorded on `record`, if anything was paid: the amount paid, through
    /// Stripe or by the method the invoice was marked paid with, dated by
    /// [`payment_date`].
    ///
    /// # Errors
    /// [`ReportError::Date`] for a payment time outside the supported calendar.
    pub fn from_record(record: &InvoiceRecord) -> Result<Option<Payment>, ReportError> {
        if !record.amount_paid.is_positive() {
            return Ok(None);
        }
        let (channel, reference) = match &record.paid_outside {
            Some(outside) => (
                PaymentChannel::Outside(outside.method.clone()),
                outside.reference.clone(),
            ),
            None => (PaymentChannel::Stripe, None),
        };
        Ok(Some(Payment {
            host_invoice_id: record.host_invoice_id.clone(),
            invoice_number: record.number.clone(),
            payer: record.payer.clone(),
            patient: record.patient.clone(),
            amount: record.amount_paid,
            date: payment_date(record)?,
            channel,
            reference,
            metadata: record.metadata.clone(),
        }))
    }
}

/// The UTC day the payment on `record` was received:
///
/// 1. for a payment outside Stripe, the day the host recorded
///    ([`PaidOutside::paid_on`](crate::mirror::PaidOutside::paid_on));
/// 2. otherwise the day Stripe marked the invoice paid ([`InvoiceRecord::paid_at`]);
/// 3. when neither is known (records written before billbridge kept them, or a partial
///    Stripe payment on an invoice not yet paid), the day of the record's last update
///    (`updated_at`): for a paid invoice usually the payment's event or the mark-paid
///    call, but any later update moves it.
///
/// # Errors
/// [`ReportError::Date`] for a time outside the supported calendar.
pub fn payment_date(record: &InvoiceRecord) -> Result<Date, ReportError> {
    if let Some(day) = record.paid_outside.as_ref().and_then(|paid| paid.paid_on) {
        return Ok(day);
    }
    Ok(Date::from_unix_timestamp(
        record.paid_at.unwrap_or(record.updated_at),
    )?)
}

/// Walks the payments received in a date range, page by page (see
/// [`payments_received`]).
pub struct PaymentPager<'s, S: SyncStore + ?Sized> {
    invoices: InvoicePager<'s, S>,
    range: DateRange,
}

impl<S: SyncStore + ?Sized> fmt::Debug for PaymentPager<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentPager")
            .field("range", &self.range)
            .field("invoices", &self.invoices)
            .finish()
    }
}

impl<S: SyncStore + ?Sized> PaymentPager<'_, S> {
    /// The next non-empty page of payments, or `None` when none is left.
    ///
    /// # Errors
    /// [`ReportError::Store`] when the store fails.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Payment>>, ReportError> {
        while let Some(page) = self.invoices.next_page().await? {
            let mut payments = Vec::with_capacity(page.len());
            for record in &page {
                if let Some(payment) = Payment::from_record(record)?
                    && self.range.contains(payment.date)
                {
                    payments.push(payment);
                }
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
    /// As [`PaymentPager::next_page`].
    pub async fn collect_all(mut self) -> Result<Vec<Payment>, ReportError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// Streams every remaining payment to `writer` as CSV; returns the rows written.
    ///
    /// # Errors
    /// As [`PaymentPager::next_page`] and [`write_payments_csv`].
    #[cfg(feature = "csv")]
    pub async fn write_csv<W: io::Write>(
        mut self,
        columns: &[PaymentColumn],
        options: &CsvOptions,
        writer: W,
    ) -> Result<usize, ReportError> {
        let mut csv = PaymentCsvWriter::new(writer, columns, options)?;
        while let Some(page) = self.next_page().await? {
            for payment in &page {
                csv.write(payment)?;
            }
        }
        csv.finish()
    }
}

/// Payments received on the days of `range`: invoices paid through Stripe and invoices
/// marked paid outside Stripe (with their method and reference), one row per invoice
/// with something paid, each dated and filtered by [`payment_date`]. Offline invoices
/// with several partial payments are itemised by
/// [`crate::offline::OfflineBilling::payments_received`] instead.
///
/// Every mirror of the account is read, page by page: a payment's day can be earlier
/// than the invoice's creation or later than its last update (a day the host recorded
/// in its own time zone, or ahead), so no stored time bounds the search safely.
pub fn payments_received<'s, S: SyncStore + ?Sized>(
    store: &'s S,
    account: Option<&str>,
    range: DateRange,
) -> PaymentPager<'s, S> {
    let mut invoices = InvoicePager::new(store, account, &InvoiceQuery::new());
    invoices.keep = |_, record| record.amount_paid.is_positive();
    PaymentPager { invoices, range }
}

/// One invoice as its payer sees it in a portal. `Debug` shows whether there is a pay
/// link, not the link: it opens the invoice to whoever holds it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalInvoice {
    /// The invoice.
    pub invoice: InvoiceRecord,
    /// Where to pay it: Stripe's hosted page, for invoices still owing.
    pub pay_link: Option<String>,
}

impl fmt::Debug for PortalInvoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PortalInvoice { invoice, pay_link } = self;
        f.debug_struct("PortalInvoice")
            .field("invoice", invoice)
            .field("pay_link", &redacted(pay_link))
            .finish()
    }
}

/// A payer's invoices, paid and unpaid, and what they still owe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portal {
    /// The payer.
    pub payer: PayerRef,
    /// Every finalized invoice of the payer (drafts and deleted drafts are not shown),
    /// oldest first.
    pub invoices: Vec<PortalInvoice>,
    /// What remains to pay on open and uncollectible invoices, one amount per currency
    /// owed in, ordered by currency code.
    pub remaining: Vec<Money>,
}

impl Portal {
    /// Invoices still owing (open or uncollectible).
    pub fn unpaid(&self) -> impl Iterator<Item = &PortalInvoice> {
        self.invoices
            .iter()
            .filter(|entry| entry.invoice.status.is_outstanding())
    }

    /// Paid invoices.
    pub fn paid(&self) -> impl Iterator<Item = &PortalInvoice> {
        self.invoices
            .iter()
            .filter(|entry| entry.invoice.status == InvoiceStatus::Paid)
    }

    /// What remains to pay in `currency` (zero when nothing).
    pub fn remaining_in(&self, currency: Currency) -> Money {
        self.remaining
            .iter()
            .copied()
            .find(|amount| amount.currency() == currency)
            .unwrap_or_else(|| Money::zero(currency))
    }
}

/// The portal view of `payer`: their invoices paid and unpaid (drafts excluded), the
/// total remaining per currency, and the pay link of each invoice still owing.
///
/// # Errors
/// [`ReportError::Store`] when the store fails; [`ReportError::Amount`] when a remaining
/// total overflows.
pub async fn portal<S: SyncStore + ?Sized>(
    store: &S,
    account: Option<&str>,
    payer: &PayerRef,
) -> Result<Portal, ReportError> {
    let query = InvoiceQuery::new().payer(payer);
    let mut pager = invoices(store, account, &query);
    let mut invoices_seen = Vec::new();
    let mut remaining: BTreeMap<Currency, Money> = BTreeMap::new();
    while let Some(page) = pager.next_page().await? {
        for invoice in page {
            if matches!(
                invoice.status,
                InvoiceStatus::Draft | InvoiceStatus::Deleted
            ) {
                continue;
            }
            let owing = invoice.status.is_outstanding();
            if owing {
                let total = remaining
                    .entry(invoice.currency)
                    .or_insert_with(|| Money::zero(invoice.currency));
                *total = total
                    .checked_add(invoice.amount_remaining)
                    .map_err(|source| ReportError::Amount {
                        host_invoice_id: invoice.host_invoice_id.clone(),
                        source,
                    })?;
            }
            let pay_link = if owing {
                invoice.hosted_invoice_url.clone()
            } else {
                None
            };
            invoices_seen.push(PortalInvoice { invoice, pay_link });
        }
    }
    Ok(Portal {
        payer: payer.clone(),
        invoices: invoices_seen,
        remaining: remaining.into_values().collect(),
    })
}

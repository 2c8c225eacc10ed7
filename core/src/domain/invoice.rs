//! Invoices as the host raises them: [`InvoiceDraft`] (payer, subject patient, lines,
//! memo, footer, collection method, appointment context, revision) and [`InvoiceLine`]
//! (catalogue or ad-hoc, quantity × unit amount, service date, line metadata), with
//! totals and validation against Stripe's rules before anything is sent.
//!
//! ```
//! use billbridge::domain::invoice::{InvoiceDraft, InvoiceLine};
//! use billbridge::domain::money::Money;
//! use billbridge::domain::party::{Patient, PatientId};
//!
//! let patient = Patient::new(PatientId::new("P-1001")?, "John", "Deer");
//! let draft = InvoiceDraft::for_patient(&patient)
//!     .line(InvoiceLine::ad_hoc("Follow-up session", Money::gbp(5000), 1))
//!     .line(InvoiceLine::ad_hoc("Home blood test kit", Money::gbp(3500), 1))
//!     .due_in_days(14);
//! assert_eq!(draft.validate()?, Money::gbp(8500));
//! # Ok::<(), billbridge::Error>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::catalogue::{CatalogueItem, CatalogueKey};
use super::date::Date;
use super::metadata::{MetadataError, MetadataMap, MetadataTarget};
use super::money::{Currency, Money, MoneyError};
use super::party::{LocationId, Organisation, Patient, PatientId, PayerRef, Practitioner, host_id};
use crate::classify::{Classify, ErrorCategory};
use crate::redact::{Redacted, redacted};
use crate::vocabulary::ArgumentError;

/// Stripe's limit on lines per invoice.
pub const MAX_LINES: usize = 250;

host_id!(
    /// The host's id for an invoice.
    InvoiceId,
    "invoice"
);
host_id!(
    /// The host's id for an appointment.
    AppointmentId,
    "appointment"
);

/// Errors about invoice drafts and lines. Line positions are 0-based.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InvoiceError {
    /// The draft has no lines.
    #[error("the invoice has no lines")]
    NoLines,
    /// More lines than Stripe allows on one invoice.
    #[error("the invoice has {count} lines, Stripe allows at most {max}")]
    TooManyLines {
        /// Lines in the draft.
        count: usize,
        /// Stripe's limit.
        max: usize,
    },
    /// Neither the draft nor any line says which currency to invoice in.
    #[error("the invoice has no currency: set one or add a line")]
    NoCurrency,
    /// A line's quantity is 0.
    #[error("line {line} has quantity 0, at least 1 is required")]
    ZeroQuantity {
        /// Line position.
        line: usize,
    },
    /// A line has a blank description.
    #[error("line {line} has no description")]
    EmptyDescription {
        /// Line position.
        line: usize,
    },
    /// A line is in another currency than the invoice.
    #[error("line {line} is in {found}, the invoice is in {expected}")]
    CurrencyMismatch {
        /// Line position.
        line: usize,
        /// The invoice's currency.
        expected: Currency,
        /// The line's currency.
        found: Currency,
    },
    /// A line's amount is invalid (overflow, Stripe's digit limit, three-decimal rule).
    #[error("line {line}: {source}")]
    LineAmount {
        /// Line position.
        line: usize,
        /// What is wrong with the amount.
        #[source]
        source: MoneyError,
    },
    /// The invoice total overflows.
    #[error("invoice total: {source}")]
    Total {
        /// The arithmetic error.
        #[source]
        source: MoneyError,
    },
    /// A line's service period ends before it starts.
    #[error("line {line} has a service period ending before it starts")]
    InvalidPeriod {
        /// Line position.
        line: usize,
    },
    /// A line's metadata breaks Stripe's limits.
    #[error("line {line} metadata: {source}")]
    LineMetadata {
        /// Line position.
        line: usize,
        /// Which limit is broken (names the key, never the value).
        #[source]
        source: MetadataError,
    },
    /// `send_invoice` with a due date that is not in the future.
    #[error("due date {due} is not after today ({today})")]
    DueDateNotInFuture {
        /// The requested due date.
        due: Date,
        /// Today.
        today: Date,
    },
}

impl Classify for InvoiceError {
    fn code(&self) -> &'static str {
        match self {
            InvoiceError::NoLines => "no_lines",
            InvoiceError::TooManyLines { .. } => "too_many_lines",
            InvoiceError::NoCurrency => "no_currency",
            InvoiceError::ZeroQuantity { .. } => "zero_quantity",
            InvoiceError::EmptyDescription { .. } => "empty_description",
            InvoiceError::CurrencyMismatch { .. } => "currency_mismatch",
            InvoiceError::LineAmount { source, .. } | InvoiceError::Total { source } => {
                source.code()
            }
            InvoiceError::InvalidPeriod { .. } => "invalid_period",
            InvoiceError::LineMetadata { .. } => "invalid_line_metadata",
            InvoiceError::DueDateNotInFuture { .. } => "due_date_not_in_future",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

/// When a `send_invoice` invoice is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// This many days after finalization (`days_until_due`).
    DaysUntilDue(u32),
    /// On this date (`due_date`, midnight UTC; must be in the future).
    DueDate(Date),
}

/// How Stripe collects payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum CollectionMethod {
    /// Charge the customer's default payment method at finalization (Stripe's default).
    ChargeAutomatically,
    /// Email the invoice with a payment page link; the payer pays by the due date.
    SendInvoice {
        /// When it is due.
        due: Due,
    },
}

impl CollectionMethod {
    /// The value of Stripe's `collection_method` parameter.
    pub fn as_str(&self) -> &'static str {
        match self {
            CollectionMethod::ChargeAutomatically => "charge_automatically",
            CollectionMethod::SendInvoice { .. } => "send_invoice",
        }
    }
}

/// A practice location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Host id.
    pub id: LocationId,
    /// Display name, e.g. "Harbour Street Clinic".
    pub name: String,
}

impl Location {
    /// A location with a name.
    pub fn new(id: LocationId, name: impl Into<String>) -> Location {
        Location {
            id,
            name: name.into(),
        }
    }

    /// The location an id and a name given as separate optional arguments describe:
    /// both or neither.
    ///
    /// # Errors
    /// [`ArgumentError::Incomplete`] when only one is given.
    pub fn from_parts(
        id: Option<LocationId>,
        name: Option<String>,
    ) -> Result<Option<Location>, ArgumentError> {
        Ok(
            ArgumentError::both_or_neither(("location_id", id), ("location_name", name))?
                .map(|(id, name)| Location::new(id, name)),
        )
    }
}

/// The appointment an invoice is for, as invoice metadata describes it.
///
/// `Debug` shows ids, the date and the location; the practitioner's name and the
/// billing arrangement (host free text) only as present or not.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentContext {
    /// Host id of the appointment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<AppointmentId>,
    /// When it took place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// With whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner: Option<Practitioner>,
    /// The host's billing and collection arrangement (e.g. "Self-pay", "Insurer").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_and_collection: Option<String>,
}

impl fmt::Debug for AppointmentContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out of the output unnoticed.
        let AppointmentContext {
            appointment,
            date,
            location,
            practitioner,
            billing_and_collection,
        } = self;
        f.debug_struct("AppointmentContext")
            .field("appointment", appointment)
            .field("date", date)
            .field("location", location)
            .field("practitioner", practitioner)
            .field("billing_and_collection", &redacted(billing_and_collection))
            .finish()
    }
}

impl AppointmentContext {
    /// A context for one appointment.
    pub fn for_appointment(appointment: AppointmentId) -> AppointmentContext {
        AppointmentContext {
            appointment: Some(appointment),
            ..AppointmentContext::default()
        }
    }

    /// Sets the date.
    pub fn on(mut self, date: Date) -> AppointmentContext {
        self.date = Some(date);
        self
    }

    /// Sets the location.
    pub fn at(mut self, location: Location) -> AppointmentContext {
        self.location = Some(location);
        self
    }

    /// Sets the practitioner.
    pub fn with_practitioner(mut self, practitioner: Practitioner) -> AppointmentContext {
        self.practitioner = Some(practitioner);
        self
    }

    /// Sets the billing and collection arrangement.
    pub fn billing_and_collection(mut self, text: impl Into<String>) -> AppointmentContext {
        self.billing_and_collection = Some(text.into());
        self
    }
}

/// Where a line's price comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineSource {
    /// A catalogue item, with its Stripe product and price when it has been synced.
    Catalogue {
        /// Catalogue key.
        key: CatalogueKey,
        /// Stripe price id (`price_…`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stripe_price: Option<String>,
        /// Stripe product id (`prod_…`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stripe_product: Option<String>,
    },
    /// A price typed in for this invoice only.
    AdHoc,
}

/// When a line's service was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceDate {
    /// On one day.
    On(Date),
    /// Over a period, both days included.
    Period {
        /// First day.
        start: Date,
        /// Last day.
        end: Date,
    },
}

impl ServiceDate {
    /// First and last day (the same day for [`ServiceDate::On`]).
    pub fn bounds(&self) -> (Date, Date) {
        match *self {
            ServiceDate::On(date) => (date, date),
            ServiceDate::Period { start, end } => (start, end),
        }
    }
}

/// One line of an invoice: `quantity × unit_amount`. A negative unit amount is a credit.
///
/// `Debug` shows amounts, dates and metadata keys; the description is the host's free
/// text about a patient's care, so it is not shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    /// Shown to the payer (keep health details out: Stripe shows it in emails and PDFs).
    pub description: String,
    /// At least 1.
    pub quantity: u32,
    /// Price of one unit; negative for a credit.
    pub unit_amount: Money,
    /// Catalogue item or ad-hoc.
    pub source: LineSource,
    /// When the service was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_date: Option<ServiceDate>,
    /// Line metadata (Stripe's limits apply).
    #[serde(default, skip_serializing_if = "MetadataMap::is_empty")]
    pub metadata: MetadataMap,
}

impl fmt::Debug for InvoiceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InvoiceLine {
            description: _,
            quantity,
            unit_amount,
            source,
            service_date,
            metadata,
        } = self;
        f.debug_struct("InvoiceLine")
            .field("description", &Redacted)
            .field("quantity", quantity)
            .field("unit_amount", unit_amount)
            .field("source", source)
            .field("service_date", service_date)
            .field("metadata", metadata)
            .finish()
    }
}

impl InvoiceLine {
    /// A line for `quantity` of a catalogue item at its catalogue price.
    pub fn catalogue(item: &CatalogueItem, quantity: u32) -> InvoiceLine {
        InvoiceLine {
            description: item.name.clone(),
            quantity,
            unit_amount: item.unit_amount,
            source: LineSource::Catalogue {
                key: item.key.clone(),
                stripe_price: item.stripe_price.clone(),
                stripe_product: item.stripe_product.clone(),
            },
            service_date: None,
            metadata: MetadataMap::new(),
        }
    }

    /// An ad-hoc line.
    pub fn ad_hoc(
        description: impl Into<String>,
        unit_amount: Money,
        quantity: u32,
    ) -> InvoiceLine {
        InvoiceLine {
            description: description.into(),
            quantity,
            unit_amount,
            source: LineSource::AdHoc,
            service_date: None,
            metadata: MetadataMap::new(),
        }
    }

    /// Replaces the description.
    pub fn described(mut self, description: impl Into<String>) -> InvoiceLine {
        self.description = description.into();
        self
    }

    /// Service delivered on `date`.
    pub fn on(mut self, date: Date) -> InvoiceLine {
        self.service_date = Some(ServiceDate::On(date));
        self
    }

    /// Service delivered from `start` to `end` inclusive.
    pub fn period(mut self, start: Date, end: Date) -> InvoiceLine {
        self.service_date = Some(ServiceDate::Period { start, end });
        self
    }

    /// Sets the service day or the service period, given as separate optional
    /// arguments (a binding's keyword arguments): at most one of them.
    ///
    /// # Errors
    /// [`ArgumentError::Conflicting`] when both are given.
    pub fn served(
        self,
        service_date: Option<Date>,
        period: Option<(Date, Date)>,
    ) -> Result<InvoiceLine, ArgumentError> {
        ArgumentError::at_most_one(("service_date", &service_date), ("period", &period))?;
        Ok(match (service_date, period) {
            (Some(date), _) => self.on(date),
            (None, Some((start, end))) => self.period(start, end),
            (None, None) => self,
        })
    }

    /// Adds one metadata entry.
    pub fn with_metadata(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> InvoiceLine {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// `quantity × unit_amount`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn amount(&self) -> Result<Money, MoneyError> {
        self.unit_amount.checked_mul(i64::from(self.quantity))
    }

    /// Whether the line reduces the total.
    pub fn is_credit(&self) -> bool {
        self.unit_amount.is_negative()
    }

    fn validate_at(&self, line: usize, currency: Currency) -> Result<Money, InvoiceError> {
        if self.quantity == 0 {
            return Err(InvoiceError::ZeroQuantity { line });
        }
        if self.description.trim().is_empty() {
            return Err(InvoiceError::EmptyDescription { line });
        }
        if self.unit_amount.currency() != currency {
            return Err(InvoiceError::CurrencyMismatch {
                line,
                expected: currency,
                found: self.unit_amount.currency(),
            });
        }
        let line_error = |source| InvoiceError::LineAmount { line, source };
        self.unit_amount.stripe_amount().map_err(line_error)?;
        let amount = self.amount().map_err(line_error)?;
        amount.stripe_amount().map_err(line_error)?;
        if let Some(ServiceDate::Period { start, end }) = self.service_date
            && end < start
        {
            return Err(InvoiceError::InvalidPeriod { line });
        }
        check_metadata(line, &self.metadata)?;
        Ok(amount)
    }
}

fn check_metadata(line: usize, metadata: &MetadataMap) -> Result<(), InvoiceError> {
    metadata
        .check_limits(MetadataTarget::Invoice)
        .map_err(|source| InvoiceError::LineMetadata { line, source })
}

/// An invoice being prepared by the host, before or while it is a Stripe draft.
///
/// Built with [`InvoiceDraft::for_patient`] (or [`InvoiceDraft::for_payer`]) and the
/// consuming builder methods. Once raised, edit it with the `&mut` methods, which bump
/// [`InvoiceDraft::revision`] so that a changed draft gets new idempotency keys.
///
/// `Debug` shows ids, lines and amounts; the memo and footer (host free text) only as
/// present or not.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDraft {
    /// The host's id for this invoice, if it has one yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<InvoiceId>,
    /// Who pays (becomes the Stripe customer).
    pub payer: PayerRef,
    /// The patient the invoice is about, when there is one (their metadata travels on
    /// the invoice even when an organisation pays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<PatientId>,
    /// Invoice currency; when unset, the first line's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Lines, in order.
    #[serde(default)]
    pub lines: Vec<InvoiceLine>,
    /// Memo shown on the invoice (Stripe's `description`). The host's own text, sent as
    /// it is: the metadata policy governs host fields, not free text, so keep personal
    /// and health details out of it (Stripe shows it in emails and PDFs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<String>,
    /// Footer shown on the invoice; the host's own text, like the memo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    /// How payment is collected.
    pub collection: CollectionMethod,
    /// The appointment the invoice is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<AppointmentContext>,
    /// Incremented on every edit made through the `&mut` methods.
    #[serde(default)]
    pub revision: u32,
}

impl fmt::Debug for InvoiceDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InvoiceDraft {
            host_id,
            payer,
            subject,
            currency,
            lines,
            memo,
            footer,
            collection,
            context,
            revision,
        } = self;
        f.debug_struct("InvoiceDraft")
            .field("host_id", host_id)
            .field("payer", payer)
            .field("subject", subject)
            .field("currency", currency)
            .field("lines", lines)
            .field("memo", &redacted(memo))
            .field("footer", &redacted(footer))
            .field("collection", collection)
            .field("context", context)
            .field("revision", revision)
            .finish()
    }
}

impl InvoiceDraft {
    /// A draft paid by `payer`, with no subject patient, charged automatically.
    pub fn for_payer(payer: PayerRef) -> InvoiceDraft {
        InvoiceDraft {
            host_id: None,
            payer,
            subject: None,
            currency: None,
            lines: Vec::new(),
            memo: None,
            footer: None,
            collection: CollectionMethod::ChargeAutomatically,
            context: None,
            revision: 0,
        }
    }

    /// A draft about `patient`, paid by the patient's default payer if set, else by the
    /// patient.
    pub fn for_patient(patient: &Patient) -> InvoiceDraft {
        InvoiceDraft {
            subject: Some(patient.id.clone()),
            ..InvoiceDraft::for_payer(patient.payer())
        }
    }

    /// A draft paid by `organisation`, with no subject patient.
    pub fn for_organisation(organisation: &Organisation) -> InvoiceDraft {
        InvoiceDraft::for_payer(PayerRef::Organisation(organisation.id.clone()))
    }

    /// Sets the host's invoice id.
    pub fn host_id(mut self, id: InvoiceId) -> InvoiceDraft {
        self.host_id = Some(id);
        self
    }

    /// Overrides the payer (e.g. an organisation paying for this one invoice).
    pub fn paid_by(mut self, payer: PayerRef) -> InvoiceDraft {
        self.payer = payer;
        self
    }

    /// Sets the invoice currency explicitly.
    pub fn currency(mut self, currency: Currency) -> InvoiceDraft {
        self.currency = Some(currency);
        self
    }

    /// Appends a line.
    pub fn line(mut self, line: InvoiceLine) -> InvoiceDraft {
        self.lines.push(line);
        self
    }

    /// Appends several lines.
    pub fn lines(mut self, lines: impl IntoIterator<Item = InvoiceLine>) -> InvoiceDraft {
        self.lines.extend(lines);
        self
    }

    /// Sets the memo.
    pub fn memo(mut self, memo: impl Into<String>) -> InvoiceDraft {
        self.memo = Some(memo.into());
        self
    }

    /// Sets the footer.
    pub fn footer(mut self, footer: impl Into<String>) -> InvoiceDraft {
        self.footer = Some(footer.into());
        self
    }

    /// Charge the payer's default payment method at finalization.
    pub fn charge_automatically(mut self) -> InvoiceDraft {
        self.collection = CollectionMethod::ChargeAutomatically;
        self
    }

    /// Send the invoice, due `days` after finalization.
    pub fn due_in_days(mut self, days: u32) -> InvoiceDraft {
        self.collection = CollectionMethod::SendInvoice {
            due: Due::DaysUntilDue(days),
        };
        self
    }

    /// Send the invoice, due on `date`.
    pub fn due_on(mut self, date: Date) -> InvoiceDraft {
        self.collection = CollectionMethod::SendInvoice {
            due: Due::DueDate(date),
        };
        self
    }

    /// Send the invoice, due in `days` days or on a `date` given as separate optional
    /// arguments (a binding's keyword arguments): at most one of them; neither keeps
    /// the collection method as it is.
    ///
    /// # Errors
    /// [`ArgumentError::Conflicting`] when both are given.
    pub fn due(self, days: Option<u32>, date: Option<Date>) -> Result<InvoiceDraft, ArgumentError> {
        ArgumentError::at_most_one(("due_in_days", &days), ("due_on", &date))?;
        Ok(match (days, date) {
            (Some(days), _) => self.due_in_days(days),
            (None, Some(date)) => self.due_on(date),
            (None, None) => self,
        })
    }

    /// Sets the appointment context.
    pub fn context(mut self, context: AppointmentContext) -> InvoiceDraft {
        self.context = Some(context);
        self
    }

    /// Marks the draft as changed outside the `&mut` helpers.
    pub fn bump_revision(&mut self) {
        self.revision = self.revision.saturating_add(1);
    }

    /// Appends a line to a raised draft.
    pub fn push_line(&mut self, line: InvoiceLine) {
        self.lines.push(line);
        self.bump_revision();
    }

    /// Removes and returns the line at `index`, if there is one.
    pub fn remove_line(&mut self, index: usize) -> Option<InvoiceLine> {
        if index >= self.lines.len() {
            return None;
        }
        let removed = self.lines.remove(index);
        self.bump_revision();
        Some(removed)
    }

    /// Replaces every line.
    pub fn replace_lines(&mut self, lines: Vec<InvoiceLine>) {
        self.lines = lines;
        self.bump_revision();
    }

    /// Changes the memo.
    pub fn set_memo(&mut self, memo: Option<String>) {
        self.memo = memo;
        self.bump_revision();
    }

    /// Changes the footer.
    pub fn set_footer(&mut self, footer: Option<String>) {
        self.footer = footer;
        self.bump_revision();
    }

    /// Changes the collection method.
    pub fn set_collection(&mut self, collection: CollectionMethod) {
        self.collection = collection;
        self.bump_revision();
    }

    /// The invoice currency: the explicit one, else the first line's.
    pub fn invoice_currency(&self) -> Option<Currency> {
        self.currency
            .or_else(|| self.lines.first().map(|line| line.unit_amount.currency()))
    }

    /// Σ quantity × unit amount over the lines (credits subtract).
    ///
    /// # Errors
    /// [`InvoiceError::NoCurrency`], [`InvoiceError::CurrencyMismatch`],
    /// [`InvoiceError::LineAmount`] or [`InvoiceError::Total`] on overflow.
    pub fn total(&self) -> Result<Money, InvoiceError> {
        let currency = self.invoice_currency().ok_or(InvoiceError::NoCurrency)?;
        let mut total = Money::zero(currency);
        for (line, item) in self.lines.iter().enumerate() {
            if item.unit_amount.currency() != currency {
                return Err(InvoiceError::CurrencyMismatch {
                    line,
                    expected: currency,
                    found: item.unit_amount.currency(),
                });
            }
            let amount = item
                .amount()
                .map_err(|source| InvoiceError::LineAmount { line, source })?;
            total = total
                .checked_add(amount)
                .map_err(|source| InvoiceError::Total { source })?;
        }
        Ok(total)
    }

    /// Checks everything Stripe would refuse (line count, quantities, currencies,
    /// amounts and their digit limit, periods, line metadata) and returns the total.
    /// A due date in the past is checked separately by
    /// [`InvoiceDraft::validate_due_date`], which needs today's date.
    ///
    /// # Errors
    /// The first [`InvoiceError`] found.
    pub fn validate(&self) -> Result<Money, InvoiceError> {
        if self.lines.is_empty() {
            return Err(InvoiceError::NoLines);
        }
        if self.lines.len() > MAX_LINES {
            return Err(InvoiceError::TooManyLines {
                count: self.lines.len(),
                max: MAX_LINES,
            });
        }
        let currency = self.invoice_currency().ok_or(InvoiceError::NoCurrency)?;
        let mut total = Money::zero(currency);
        for (line, item) in self.lines.iter().enumerate() {
            let amount = item.validate_at(line, currency)?;
            total = total
                .checked_add(amount)
                .map_err(|source| InvoiceError::Total { source })?;
        }
        Ok(total)
    }

    /// Checks that a `due_date` lies after `today`, as Stripe requires.
    ///
    /// # Errors
    /// [`InvoiceError::DueDateNotInFuture`].
    pub fn validate_due_date(&self, today: Date) -> Result<(), InvoiceError> {
        match self.collection {
            CollectionMethod::SendInvoice {
                due: Due::DueDate(due),
            } if due <= today => Err(InvoiceError::DueDateNotInFuture { due, today }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::party::{OrganisationId, PractitionerId};

    fn john() -> Patient {
        Patient::new(PatientId::new("P-1001").unwrap(), "John", "Deer")
    }

    fn follow_up() -> CatalogueItem {
        CatalogueItem::new(
            CatalogueKey::new("follow-up").unwrap(),
            "Follow-up session",
            Money::gbp(5000),
        )
        .with_stripe_price("price_123")
        .with_slot_type("Follow-up (30 min)")
    }

    #[test]
    fn builder_reads_like_the_workflow() {
        let context = AppointmentContext::for_appointment(AppointmentId::new("APT-2").unwrap())
            .on(Date::parse("2026-11-21").unwrap())
            .at(Location::new(
                LocationId::new("LOC-1").unwrap(),
                "Harbour Street Clinic",
            ))
            .with_practitioner(Practitioner::new(
                PractitionerId::new("PR-1").unwrap(),
                "Dr Amara Okafor",
            ));
        let draft = InvoiceDraft::for_patient(&john())
            .line(InvoiceLine::catalogue(&follow_up(), 1))
            .line(InvoiceLine::ad_hoc(
                "Home blood test kit",
                Money::gbp(3500),
                1,
            ))
            .memo("Thank you")
            .context(context);
        assert_eq!(
            draft.payer,
            PayerRef::Patient(PatientId::new("P-1001").unwrap())
        );
        assert_eq!(draft.subject, Some(PatientId::new("P-1001").unwrap()));
        assert_eq!(draft.validate().unwrap(), Money::gbp(8500));
        assert_eq!(draft.revision, 0);
        match &draft.lines[0].source {
            LineSource::Catalogue {
                key, stripe_price, ..
            } => {
                assert_eq!(key.as_str(), "follow-up");
                assert_eq!(stripe_price.as_deref(), Some("price_123"));
            }
            LineSource::AdHoc => panic!("expected a catalogue line"),
        }
    }

    #[test]
    fn default_payer_organisation_pays_for_the_patient() {
        let maria = Patient::new(PatientId::new("P-1002").unwrap(), "María", "López")
            .with_default_payer(OrganisationId::new("ORG-1").unwrap());
        let draft = InvoiceDraft::for_patient(&maria);
        assert_eq!(
            draft.payer,
            PayerRef::Organisation(OrganisationId::new("ORG-1").unwrap())
        );
        assert_eq!(draft.subject, Some(maria.id.clone()));
    }

    #[test]
    fn totals_multiply_quantities_and_subtract_credits() {
        let draft = InvoiceDraft::for_patient(&john())
            .line(InvoiceLine::ad_hoc("Session", Money::gbp(5000), 3))
            .line(InvoiceLine::ad_hoc("Goodwill credit", Money::gbp(-2500), 1));
        assert_eq!(draft.total().unwrap(), Money::gbp(12_500));
        assert!(draft.lines[1].is_credit());
        let credit_only = InvoiceDraft::for_patient(&john()).line(InvoiceLine::ad_hoc(
            "Refund",
            Money::gbp(-100),
            2,
        ));
        assert_eq!(credit_only.validate().unwrap(), Money::gbp(-200));
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let draft = InvoiceDraft::for_patient(&john())
            .line(InvoiceLine::ad_hoc("Session", Money::gbp(5000), 1))
            .line(InvoiceLine::ad_hoc("Session", Money::usd(5000), 1));
        let error = draft.validate().unwrap_err();
        assert_eq!(
            error,
            InvoiceError::CurrencyMismatch {
                line: 1,
                expected: Currency::GBP,
                found: Currency::USD
            }
        );
        assert_eq!(error.code(), "currency_mismatch");
        let explicit = InvoiceDraft::for_patient(&john())
            .currency(Currency::EUR)
            .line(InvoiceLine::ad_hoc("Session", Money::gbp(5000), 1));
        assert!(explicit.validate().is_err());
    }

    #[test]
    fn line_rules_are_enforced() {
        let base = InvoiceDraft::for_patient(&john());
        assert_eq!(base.validate().unwrap_err(), InvoiceError::NoLines);
        assert_eq!(base.total().unwrap_err(), InvoiceError::NoCurrency);
        let zero = base
            .clone()
            .line(InvoiceLine::ad_hoc("Session", Money::gbp(1), 0));
        assert_eq!(zero.validate().unwrap_err().code(), "zero_quantity");
        let blank = base
            .clone()
            .line(InvoiceLine::ad_hoc("  ", Money::gbp(1), 1));
        assert_eq!(blank.validate().unwrap_err().code(), "empty_description");
        let too_big = base
            .clone()
            .line(InvoiceLine::ad_hoc("Surgery", Money::gbp(60_000_000), 2));
        assert_eq!(too_big.validate().unwrap_err().code(), "amount_too_large");
        let overflow = base
            .clone()
            .line(InvoiceLine::ad_hoc("Session", Money::gbp(i64::MAX), 2));
        assert_eq!(overflow.total().unwrap_err().code(), "amount_overflow");
        let day = Date::parse("2026-11-21").unwrap();
        let backwards = base.clone().line(
            InvoiceLine::ad_hoc("Course", Money::gbp(1000), 1)
                .period(day, day.add_days(-1).unwrap()),
        );
        assert_eq!(backwards.validate().unwrap_err().code(), "invalid_period");
        let fils = base.clone().line(InvoiceLine::ad_hoc(
            "Session",
            Money::new(1235, Currency::BHD),
            1,
        ));
        assert_eq!(
            fils.validate().unwrap_err().code(),
            "three_decimal_not_rounded"
        );
    }

    #[test]
    fn at_most_250_lines() {
        let line = InvoiceLine::ad_hoc("Item", Money::gbp(100), 1);
        let full = InvoiceDraft::for_patient(&john()).lines(vec![line.clone(); MAX_LINES]);
        assert_eq!(full.validate().unwrap(), Money::gbp(25_000));
        let over = full.line(line);
        assert_eq!(
            over.validate().unwrap_err(),
            InvoiceError::TooManyLines {
                count: 251,
                max: 250
            }
        );
    }

    #[test]
    fn line_metadata_follows_stripe_limits() {
        let line = |key: &str, value: &str| {
            InvoiceDraft::for_patient(&john())
                .line(InvoiceLine::ad_hoc("Item", Money::gbp(100), 1).with_metadata(key, value))
        };
        assert!(line("service_id", "S-1").validate().is_ok());
        assert!(line(&"k".repeat(41), "v").validate().is_err());
        assert!(line("a[b]", "v").validate().is_err());
        let error = line("note", &"v".repeat(501)).validate().unwrap_err();
        assert_eq!(error.code(), "invalid_line_metadata");
        assert!(
            !error.to_string().contains("vvvv"),
            "values never appear in errors"
        );
    }

    #[test]
    fn due_date_must_be_in_the_future() {
        let today = Date::parse("2026-11-21").unwrap();
        let draft = InvoiceDraft::for_patient(&john()).due_on(today);
        assert_eq!(
            draft.validate_due_date(today).unwrap_err().code(),
            "due_date_not_in_future"
        );
        let later = draft.due_on(today.add_days(1).unwrap());
        assert!(later.validate_due_date(today).is_ok());
        assert_eq!(later.collection.as_str(), "send_invoice");
    }

    #[test]
    fn edits_bump_the_revision() {
        let mut draft = InvoiceDraft::for_patient(&john()).line(InvoiceLine::ad_hoc(
            "Session",
            Money::gbp(5000),
            1,
        ));
        draft.push_line(InvoiceLine::ad_hoc("Postage", Money::gbp(450), 1));
        assert_eq!(draft.revision, 1);
        assert!(draft.remove_line(7).is_none());
        assert_eq!(draft.revision, 1);
        assert!(draft.remove_line(0).is_some());
        draft.set_memo(Some("Posted kit".into()));
        assert_eq!(draft.revision, 3);
        assert_eq!(draft.total().unwrap(), Money::gbp(450));
    }

    #[test]
    fn draft_round_trips_through_json() {
        let draft = InvoiceDraft::for_patient(&john())
            .host_id(InvoiceId::new("INV-1").unwrap())
            .line(InvoiceLine::catalogue(&follow_up(), 1).on(Date::parse("2026-11-21").unwrap()))
            .due_in_days(14);
        let json = serde_json::to_value(&draft).unwrap();
        assert_eq!(json["collection"]["method"], "send_invoice");
        assert_eq!(json["collection"]["due"]["days_until_due"], 14);
        assert_eq!(json["lines"][0]["source"]["kind"], "catalogue");
        assert_eq!(json["lines"][0]["service_date"]["on"], "2026-11-21");
        assert_eq!(serde_json::from_value::<InvoiceDraft>(json).unwrap(), draft);
    }
}

//! CSV export of invoice and payment rows with the `csv` crate: chosen columns,
//! metadata columns by key, exact decimal amounts, streamed row by row to any
//! [`io::Write`] so memory does not grow with the number of rows.

use std::borrow::Borrow;
use std::fmt;
use std::io;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Payment, ReportError};
use crate::domain::date::Date;
use crate::domain::money::Money;
use crate::mirror::InvoiceRecord;
use crate::vocabulary::ArgumentError;

/// One column of an invoice CSV. The header row holds each column's
/// [`Column::header`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// `number`: the invoice number (empty on drafts).
    Number,
    /// `host_invoice_id`.
    HostInvoiceId,
    /// `stripe_invoice_id` (`in_…`; `offline:…` for offline invoices).
    StripeInvoiceId,
    /// `status`: `draft`, `open`, `paid`, `void`, `uncollectible`.
    Status,
    /// `currency`: lowercase ISO code.
    Currency,
    /// `total`.
    Total,
    /// `amount_due`.
    AmountDue,
    /// `amount_paid`.
    AmountPaid,
    /// `amount_remaining`.
    AmountRemaining,
    /// `carried_to_balance`: a remainder below Stripe's minimum charge that the invoice
    /// moved to the payer's balance as a debit for the next invoice (owed, not
    /// received); `0.00` for every other invoice.
    CarriedToBalance,
    /// `created`: the UTC day, `YYYY-MM-DD`.
    Created,
    /// `due_date`: the UTC day, `YYYY-MM-DD`, empty when none.
    DueDate,
    /// `payer_id`: the host id of the payer.
    PayerId,
    /// `patient_id`: the host id of the patient, empty when none.
    PatientId,
    /// `hosted_invoice_url`: the payment page.
    HostedInvoiceUrl,
    /// `paid_outside_method`: e.g. `cash`, empty unless marked paid outside Stripe.
    PaidOutsideMethod,
    /// `paid_outside_reference`.
    PaidOutsideReference,
    /// A metadata value by key; the header is the key itself (empty when absent).
    Meta(String),
}

impl Column {
    /// Every fixed column, in the order listed above.
    pub const ALL: &'static [Column] = &[
        Column::Number,
        Column::HostInvoiceId,
        Column::StripeInvoiceId,
        Column::Status,
        Column::Currency,
        Column::Total,
        Column::AmountDue,
        Column::AmountPaid,
        Column::AmountRemaining,
        Column::CarriedToBalance,
        Column::Created,
        Column::DueDate,
        Column::PayerId,
        Column::PatientId,
        Column::HostedInvoiceUrl,
        Column::PaidOutsideMethod,
        Column::PaidOutsideReference,
    ];

    /// A metadata column for `key`.
    pub fn meta(key: impl Into<String>) -> Column {
        Column::Meta(key.into())
    }

    /// The header cell of this column.
    pub fn header(&self) -> &str {
        match self {
            Column::Number => "number",
            Column::HostInvoiceId => "host_invoice_id",
            Column::StripeInvoiceId => "stripe_invoice_id",
            Column::Status => "status",
            Column::Currency => "currency",
            Column::Total => "total",
            Column::AmountDue => "amount_due",
            Column::AmountPaid => "amount_paid",
            Column::AmountRemaining => "amount_remaining",
            Column::CarriedToBalance => "carried_to_balance",
            Column::Created => "created",
            Column::DueDate => "due_date",
            Column::PayerId => "payer_id",
            Column::PatientId => "patient_id",
            Column::HostedInvoiceUrl => "hosted_invoice_url",
            Column::PaidOutsideMethod => "paid_outside_method",
            Column::PaidOutsideReference => "paid_outside_reference",
            Column::Meta(key) => key,
        }
    }
}

/// The words of [`Column`]: each fixed column's header, and `meta:<key>`.
const COLUMN_WORDS: &[&str] = &[
    "number",
    "host_invoice_id",
    "stripe_invoice_id",
    "status",
    "currency",
    "total",
    "amount_due",
    "amount_paid",
    "amount_remaining",
    "carried_to_balance",
    "created",
    "due_date",
    "payer_id",
    "patient_id",
    "hosted_invoice_url",
    "paid_outside_method",
    "paid_outside_reference",
    "meta:<key>",
];

/// The words of [`PaymentColumn`]: each fixed column's header, and `meta:<key>`.
const PAYMENT_COLUMN_WORDS: &[&str] = &[
    "date",
    "invoice_number",
    "host_invoice_id",
    "payer_kind",
    "payer_id",
    "patient_id",
    "method",
    "reference",
    "currency",
    "amount",
    "meta:<key>",
];

/// Parses a column word: a fixed column's header, or `meta:<key>` for a metadata
/// column (`meta(key)`).
fn parse_column<C: Clone>(
    word: &str,
    fixed: &[C],
    header: for<'c> fn(&'c C) -> &'c str,
    meta: fn(&str) -> C,
    vocabulary: &'static str,
    code: &'static str,
    expected: &'static [&'static str],
) -> Result<C, ArgumentError> {
    if let Some(key) = word.strip_prefix("meta:") {
        if key.is_empty() {
            return Err(ArgumentError::OutOfRange {
                argument: vocabulary,
                reason: "a metadata column names its key: meta:<key>",
            });
        }
        return Ok(meta(key));
    }
    fixed
        .iter()
        .find(|column| header(column) == word)
        .cloned()
        .ok_or_else(|| ArgumentError::UnknownWord {
            vocabulary,
            code,
            given: word.chars().take(40).collect(),
            expected,
        })
}

impl FromStr for Column {
    type Err = ArgumentError;

    /// `"number"`, `"amount_due"`, … or `"meta:patient_name"`.
    fn from_str(word: &str) -> Result<Self, Self::Err> {
        parse_column(
            word,
            Column::ALL,
            Column::header,
            |key| Column::meta(key),
            "report column",
            "unknown_report_column",
            COLUMN_WORDS,
        )
    }
}

/// One column of a payments CSV.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentColumn {
    /// `date`: the UTC day received, `YYYY-MM-DD`.
    Date,
    /// `invoice_number`.
    InvoiceNumber,
    /// `host_invoice_id`.
    HostInvoiceId,
    /// `payer_kind`: `patient` or `organisation`.
    PayerKind,
    /// `payer_id`.
    PayerId,
    /// `patient_id`.
    PatientId,
    /// `method`: `stripe`, or the outside method (`cash`, `cheque`…).
    Method,
    /// `reference`.
    Reference,
    /// `currency`.
    Currency,
    /// `amount`.
    Amount,
    /// The metadata value under this key of the invoice paid; the header is the key.
    Meta(String),
}

impl PaymentColumn {
    /// Every payment column, in the order listed above.
    pub const ALL: &'static [PaymentColumn] = &[
        PaymentColumn::Date,
        PaymentColumn::InvoiceNumber,
        PaymentColumn::HostInvoiceId,
        PaymentColumn::PayerKind,
        PaymentColumn::PayerId,
        PaymentColumn::PatientId,
        PaymentColumn::Method,
        PaymentColumn::Reference,
        PaymentColumn::Currency,
        PaymentColumn::Amount,
    ];

    /// A metadata column of the invoice paid, e.g. `PaymentColumn::meta("patient_name")`.
    pub fn meta(key: impl Into<String>) -> PaymentColumn {
        PaymentColumn::Meta(key.into())
    }

    /// The header cell of this column.
    pub fn header(&self) -> &str {
        match self {
            PaymentColumn::Date => "date",
            PaymentColumn::InvoiceNumber => "invoice_number",
            PaymentColumn::HostInvoiceId => "host_invoice_id",
            PaymentColumn::PayerKind => "payer_kind",
            PaymentColumn::PayerId => "payer_id",
            PaymentColumn::PatientId => "patient_id",
            PaymentColumn::Method => "method",
            PaymentColumn::Reference => "reference",
            PaymentColumn::Currency => "currency",
            PaymentColumn::Amount => "amount",
            PaymentColumn::Meta(key) => key,
        }
    }
}

impl FromStr for PaymentColumn {
    type Err = ArgumentError;

    /// `"date"`, `"amount"`, … or `"meta:patient_name"`.
    fn from_str(word: &str) -> Result<Self, Self::Err> {
        parse_column(
            word,
            PaymentColumn::ALL,
            PaymentColumn::header,
            |key| PaymentColumn::meta(key),
            "payment column",
            "unknown_payment_column",
            PAYMENT_COLUMN_WORDS,
        )
    }
}

/// How amounts are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountFormat {
    /// Exact decimals in major units with the currency's digits: `35.00` (GBP), `5000`
    /// (JPY), `1.250` (KWD). Never rounded, never a float.
    #[default]
    Decimal,
    /// The integer in minor units as Stripe's API counts them: `3500` (GBP), and for
    /// ISK and UGX the whole amount ×100 as Stripe takes it.
    MinorUnits,
}

crate::vocabulary!(AmountFormat, "amount format", "unknown_amount_format", {
    AmountFormat::Decimal => "decimal",
    AmountFormat::MinorUnits => "minor_units",
});

/// Options of a CSV export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// How amounts are written (default: decimal).
    pub amounts: AmountFormat,
    /// Whether the first row names the columns (default: yes).
    pub header: bool,
    /// The field separator (default: `,`).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            amounts: AmountFormat::Decimal,
            header: true,
            delimiter: b',',
        }
    }
}

impl CsvOptions {
    /// Comma-separated, with a header row, decimal amounts.
    pub fn new() -> CsvOptions {
        CsvOptions::default()
    }

    /// Writes amounts in `format`.
    pub fn amounts(mut self, format: AmountFormat) -> CsvOptions {
        self.amounts = format;
        self
    }

    /// Writes (or leaves out) the header row.
    pub fn header(mut self, header: bool) -> CsvOptions {
        self.header = header;
        self
    }

    /// Separates fields with `delimiter` (e.g. `b';'` for spreadsheets in locales with
    /// a decimal comma).
    pub fn delimiter(mut self, delimiter: u8) -> CsvOptions {
        self.delimiter = delimiter;
        self
    }
}

/// Encodes rows one at a time; shared by the invoice and payment writers.
struct Encoder<W: io::Write> {
    inner: ::csv::Writer<W>,
    amounts: AmountFormat,
    rows: usize,
    /// Cells of the row being written, reused so that a row allocates nothing new once
    /// the buffers have grown to the widest row.
    cells: Vec<String>,
}

impl<W: io::Write> Encoder<W> {
    fn new(writer: W, options: &CsvOptions) -> Encoder<W> {
        let inner = ::csv::WriterBuilder::new()
            .delimiter(options.delimiter)
            .has_headers(false)
            .from_writer(writer);
        Encoder {
            inner,
            amounts: options.amounts,
            rows: 0,
            cells: Vec::new(),
        }
    }

    fn csv_error(&self, error: ::csv::Error) -> ReportError {
        if !error.is_io_error() {
            return ReportError::Csv {
                row: self.rows.saturating_add(1),
                source: error,
            };
        }
        let source = match error.into_kind() {
            ::csv::ErrorKind::Io(source) => source,
            other => io::Error::other(format!("{other:?}")),
        };
        ReportError::Io {
            rows_written: self.rows,
            source,
        }
    }

    fn write_header<'a>(
        &mut self,
        headers: impl Iterator<Item = &'a str>,
    ) -> Result<(), ReportError> {
        self.inner
            .write_record(headers)
            .map_err(|error| self.csv_error(error))
    }

    fn amount(&self, amount: Money, host_invoice_id: &str) -> Result<String, ReportError> {
        match self.amounts {
            AmountFormat::Decimal => Ok(amount.to_decimal_string()),
            AmountFormat::MinorUnits => amount
                .stripe_units()
                .map(|units| units.to_string())
                .map_err(|source| ReportError::Amount {
                    host_invoice_id: host_invoice_id.to_owned(),
                    source,
                }),
        }
    }

    fn end_row(&mut self) -> Result<(), ReportError> {
        let result = self.inner.write_record(&self.cells);
        result.map_err(|error| self.csv_error(error))?;
        self.rows = self.rows.saturating_add(1);
        Ok(())
    }

    fn finish(mut self) -> Result<usize, ReportError> {
        self.inner.flush().map_err(|source| ReportError::Io {
            rows_written: self.rows,
            source,
        })?;
        Ok(self.rows)
    }
}

fn day(seconds: i64) -> Result<String, ReportError> {
    Ok(Date::from_unix_timestamp(seconds)?.to_string())
}

/// Writes invoice rows as CSV, one [`InvoiceCsvWriter::write`] at a time, for callers
/// that produce rows in a loop of their own (e.g. from an async pager).
pub struct InvoiceCsvWriter<W: io::Write> {
    encoder: Encoder<W>,
    columns: Vec<Column>,
}

impl<W: io::Write> fmt::Debug for InvoiceCsvWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceCsvWriter")
            .field("columns", &self.columns)
            .field("rows", &self.encoder.rows)
            .finish_non_exhaustive()
    }
}

impl<W: io::Write> InvoiceCsvWriter<W> {
    /// A writer of `columns` to `writer`; writes the header row at once when
    /// `options.header` is set.
    ///
    /// # Errors
    /// [`ReportError::Io`] when writing the header fails.
    pub fn new(
        writer: W,
        columns: &[Column],
        options: &CsvOptions,
    ) -> Result<InvoiceCsvWriter<W>, ReportError> {
        let mut encoder = Encoder::new(writer, options);
        if options.header {
            encoder.write_header(columns.iter().map(Column::header))?;
        }
        Ok(InvoiceCsvWriter {
            encoder,
            columns: columns.to_vec(),
        })
    }

    /// Writes one row.
    ///
    /// # Errors
    /// [`ReportError::Io`] when the writer fails, [`ReportError::Amount`] for an amount
    /// in an unknown currency, [`ReportError::Date`] for a time outside the calendar.
    pub fn write(&mut self, row: &InvoiceRecord) -> Result<(), ReportError> {
        let mut cells = std::mem::take(&mut self.encoder.cells);
        cells.resize(self.columns.len(), String::new());
        let filled = self.fill(row, &mut cells);
        self.encoder.cells = cells;
        filled?;
        self.encoder.end_row()
    }

    fn fill(&self, row: &InvoiceRecord, cells: &mut [String]) -> Result<(), ReportError> {
        let amount = |value: Money| self.encoder.amount(value, &row.host_invoice_id);
        for (cell, column) in cells.iter_mut().zip(&self.columns) {
            cell.clear();
            match column {
                Column::Number => cell.push_str(row.number.as_deref().unwrap_or("")),
                Column::HostInvoiceId => cell.push_str(&row.host_invoice_id),
                Column::StripeInvoiceId => cell.push_str(&row.stripe_invoice_id),
                Column::Status => cell.push_str(row.status.as_str()),
                Column::Currency => cell.push_str(row.currency.code()),
                Column::Total => *cell = amount(row.total)?,
                Column::AmountDue => *cell = amount(row.amount_due)?,
                Column::AmountPaid => *cell = amount(row.amount_paid)?,
                Column::AmountRemaining => *cell = amount(row.amount_remaining)?,
                Column::CarriedToBalance => *cell = amount(row.carried_to_balance())?,
                Column::Created => *cell = day(row.created)?,
                Column::DueDate => {
                    if let Some(due) = row.due_on {
                        *cell = due.to_string();
                    }
                }
                Column::PayerId => cell.push_str(row.payer.host_id()),
                Column::PatientId => {
                    if let Some(patient) = &row.patient {
                        cell.push_str(patient.as_str());
                    }
                }
                Column::HostedInvoiceUrl => {
                    cell.push_str(row.hosted_invoice_url.as_deref().unwrap_or(""));
                }
                Column::PaidOutsideMethod => {
                    if let Some(outside) = &row.paid_outside {
                        cell.push_str(outside.method.as_str());
                    }
                }
                Column::PaidOutsideReference => {
                    if let Some(reference) = row
                        .paid_outside
                        .as_ref()
                        .and_then(|outside| outside.reference.as_deref())
                    {
                        cell.push_str(reference);
                    }
                }
                Column::Meta(key) => {
                    cell.push_str(row.metadata.get(key).unwrap_or(""));
                }
            }
        }
        Ok(())
    }

    /// Data rows written so far.
    pub fn rows_written(&self) -> usize {
        self.encoder.rows
    }

    /// Flushes the writer; returns the number of data rows written.
    ///
    /// # Errors
    /// [`ReportError::Io`] when flushing fails.
    pub fn finish(self) -> Result<usize, ReportError> {
        self.encoder.finish()
    }
}

/// Writes payment rows as CSV, one [`PaymentCsvWriter::write`] at a time.
pub struct PaymentCsvWriter<W: io::Write> {
    encoder: Encoder<W>,
    columns: Vec<PaymentColumn>,
}

impl<W: io::Write> fmt::Debug for PaymentCsvWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentCsvWriter")
            .field("columns", &self.columns)
            .field("rows", &self.encoder.rows)
            .finish_non_exhaustive()
    }
}

impl<W: io::Write> PaymentCsvWriter<W> {
    /// A writer of `columns` to `writer`; writes the header row at once when
    /// `options.header` is set.
    ///
    /// # Errors
    /// [`ReportError::Io`] when writing the header fails.
    pub fn new(
        writer: W,
        columns: &[PaymentColumn],
        options: &CsvOptions,
    ) -> Result<PaymentCsvWriter<W>, ReportError> {
        let mut encoder = Encoder::new(writer, options);
        if options.header {
            encoder.write_header(columns.iter().map(|column| column.header()))?;
        }
        Ok(PaymentCsvWriter {
            encoder,
            columns: columns.to_vec(),
        })
    }

    /// Writes one row.
    ///
    /// # Errors
    /// [`ReportError::Io`] when the writer fails, [`ReportError::Amount`] for an amount
    /// in an unknown currency.
    pub fn write(&mut self, payment: &Payment) -> Result<(), ReportError> {
        let mut cells = std::mem::take(&mut self.encoder.cells);
        cells.resize(self.columns.len(), String::new());
        let filled = self.fill(payment, &mut cells);
        self.encoder.cells = cells;
        filled?;
        self.encoder.end_row()
    }

    fn fill(&self, payment: &Payment, cells: &mut [String]) -> Result<(), ReportError> {
        for (cell, column) in cells.iter_mut().zip(&self.columns) {
            cell.clear();
            match column {
                PaymentColumn::Date => *cell = payment.date.to_string(),
                PaymentColumn::InvoiceNumber => {
                    cell.push_str(payment.invoice_number.as_deref().unwrap_or(""));
                }
                PaymentColumn::HostInvoiceId => cell.push_str(&payment.host_invoice_id),
                PaymentColumn::PayerKind => cell.push_str(payment.payer.kind()),
                PaymentColumn::PayerId => cell.push_str(payment.payer.host_id()),
                PaymentColumn::PatientId => {
                    if let Some(patient) = &payment.patient {
                        cell.push_str(patient.as_str());
                    }
                }
                PaymentColumn::Method => cell.push_str(payment.channel.as_str()),
                PaymentColumn::Reference => {
                    cell.push_str(payment.reference.as_deref().unwrap_or(""));
                }
                PaymentColumn::Currency => cell.push_str(payment.amount.currency().code()),
                PaymentColumn::Amount => {
                    *cell = self
                        .encoder
                        .amount(payment.amount, &payment.host_invoice_id)?;
                }
                PaymentColumn::Meta(key) => {
                    cell.push_str(payment.metadata.get(key).unwrap_or(""));
                }
            }
        }
        Ok(())
    }

    /// Data rows written so far.
    pub fn rows_written(&self) -> usize {
        self.encoder.rows
    }

    /// Flushes the writer; returns the number of data rows written.
    ///
    /// # Errors
    /// [`ReportError::Io`] when flushing fails.
    pub fn finish(self) -> Result<usize, ReportError> {
        self.encoder.finish()
    }
}

/// Streams invoice rows to `writer` as CSV with a header row and decimal amounts;
/// returns the number of data rows written. Rows are pulled one at a time, so an
/// iterator that produces them lazily keeps memory constant.
///
/// ```
/// use billbridge::report::{Column, write_csv};
/// # use billbridge::mirror::InvoiceRecord;
/// # let rows: Vec<InvoiceRecord> = Vec::new();
/// let mut out = Vec::new();
/// let written = write_csv(
///     &rows,
///     &[Column::Number, Column::Status, Column::AmountDue, Column::meta("patient_name")],
///     &mut out,
/// )?;
/// assert_eq!(written, 0);
/// assert_eq!(out, b"number,status,amount_due,patient_name\n");
/// # Ok::<(), billbridge::report::ReportError>(())
/// ```
///
/// # Errors
/// [`ReportError::Io`] when the writer fails (with the rows written so far),
/// [`ReportError::Amount`] for an amount in an unknown currency.
pub fn write_csv<R: Borrow<InvoiceRecord>>(
    rows: impl IntoIterator<Item = R>,
    columns: &[Column],
    writer: impl io::Write,
) -> Result<usize, ReportError> {
    write_csv_with(rows, columns, &CsvOptions::default(), writer)
}

/// [`write_csv`] with explicit [`CsvOptions`].
///
/// # Errors
/// As [`write_csv`].
pub fn write_csv_with<R: Borrow<InvoiceRecord>>(
    rows: impl IntoIterator<Item = R>,
    columns: &[Column],
    options: &CsvOptions,
    writer: impl io::Write,
) -> Result<usize, ReportError> {
    let mut csv = InvoiceCsvWriter::new(writer, columns, options)?;
    for row in rows {
        csv.write(row.borrow())?;
    }
    csv.finish()
}

/// Streams payment rows to `writer` as CSV with a header row and decimal amounts;
/// returns the number of data rows written.
///
/// # Errors
/// As [`write_csv`].
pub fn write_payments_csv<P: Borrow<Payment>>(
    payments: impl IntoIterator<Item = P>,
    columns: &[PaymentColumn],
    writer: impl io::Write,
) -> Result<usize, ReportError> {
    write_payments_csv_with(payments, columns, &CsvOptions::default(), writer)
}

/// [`write_payments_csv`] with explicit [`CsvOptions`].
///
/// # Errors
/// As [`write_csv`].
pub fn write_payments_csv_with<P: Borrow<Payment>>(
    payments: impl IntoIterator<Item = P>,
    columns: &[PaymentColumn],
    options: &CsvOptions,
    writer: impl io::Write,
) -> Result<usize, ReportError> {
    let mut csv = PaymentCsvWriter::new(writer, columns, options)?;
    for payment in payments {
        csv.write(payment.borrow())?;
    }
    csv.finish()
}

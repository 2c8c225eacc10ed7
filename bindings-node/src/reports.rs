//! Reports: filters from a plain options object, payment rows, a payer's portal view,
//! and CSV export of records and payments to a path or a writable stream (`index.js`
//! hands a stream over as an async chunk writer, so its backpressure is honoured).
//! Column words and the CSV rules are the core's.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use billbridge::domain::money::Currency as CoreCurrency;
use billbridge::domain::status::InvoiceStatus;
use billbridge::report::{
    Column, DateRange, InvoiceQuery, Payment as CorePayment, PaymentColumn, Portal as CorePortal,
    PortalInvoice as CorePortalInvoice, ReportError, write_csv as core_write_csv,
    write_payments_csv as core_write_payments_csv,
};
use billbridge::sync::InvoiceRecord as CoreRecord;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;

use crate::convert::{date, date_text};
use crate::errors::{BindingError, OrThrow};
use crate::money::{CurrencyLike, Money, currency};
use crate::parties::{PayerLike, PayerRef, payer};
use crate::records::InvoiceRecord;
use crate::runtime::promise;

/// A day range, both days included, from a `[first, last]` pair of ISO dates.
pub fn range(env: &Env, days: &[String]) -> Result<DateRange> {
    match days {
        [first, last] => DateRange::new(date(env, first)?, date(env, last)?).or_throw(env),
        _ => Err(crate::errors::to_js(
            env,
            &BindingError::wrong_type("a date range is a [first, last] pair of ISO dates"),
        )),
    }
}

/// Which invoices a report lists; every filter given must match.
#[napi(object, object_to_js = false)]
pub struct InvoiceFilters {
    /// `"draft"`, `"open"`, `"paid"`, `"void"`, `"uncollectible"` or `"deleted"`.
    pub status: Option<String>,
    /// Who pays.
    pub payer: Option<PayerLike<'static>>,
    /// The patient the invoice is about.
    pub patient_id: Option<String>,
    /// Stripe's customer id.
    pub customer_id: Option<String>,
    /// Created between these days, `[first, last]` ISO dates, both included.
    pub created: Option<Vec<String>>,
    /// Due between these days, `[first, last]` ISO dates, both included.
    pub due: Option<Vec<String>>,
    /// Metadata key/value pairs that must all match.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// The core query of the filters given.
pub fn query(env: &Env, filters: Option<InvoiceFilters>) -> Result<InvoiceQuery> {
    let mut query = InvoiceQuery::new();
    let Some(filters) = filters else {
        return Ok(query);
    };
    if let Some(status) = filters.status {
        query = query.status(status.parse::<InvoiceStatus>().or_throw(env)?);
    }
    if let Some(value) = &filters.payer {
        query = query.payer(&payer(value));
    }
    if let Some(patient) = filters.patient_id {
        query = query.patient(patient);
    }
    if let Some(customer) = filters.customer_id {
        query = query.customer(customer);
    }
    if let Some(days) = filters.created {
        query = query.created(range(env, &days)?);
    }
    if let Some(days) = filters.due {
        query = query.due(range(env, &days)?);
    }
    for (key, value) in filters.metadata.unwrap_or_default() {
        query = query.metadata(key, value);
    }
    Ok(query)
}

/// One payment received, on or off Stripe.
#[napi]
#[derive(Clone)]
pub struct Payment(pub(crate) CorePayment);

#[napi]
impl Payment {
    /// The host's invoice id.
    #[napi(getter, catch_unwind)]
    pub fn host_invoice_id(&self) -> String {
        self.0.host_invoice_id.clone()
    }

    /// The invoice number.
    #[napi(getter, catch_unwind)]
    pub fn invoice_number(&self) -> Option<String> {
        self.0.invoice_number.clone()
    }

    /// Who paid.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.0.payer.clone())
    }

    /// The patient the invoice was about.
    #[napi(getter, catch_unwind)]
    pub fn patient_id(&self) -> Option<String> {
        self.0.patient.as_ref().map(|id| id.as_str().to_owned())
    }

    /// What was paid.
    #[napi(getter, catch_unwind)]
    pub fn amount(&self) -> Money {
        Money(self.0.amount)
    }

    /// When, ISO.
    #[napi(getter, catch_unwind)]
    pub fn date(&self) -> String {
        date_text(self.0.date)
    }

    /// `"stripe"`, or the outside method (`"cash"`, `"cheque"`, …).
    #[napi(getter, catch_unwind)]
    pub fn channel(&self) -> String {
        self.0.channel.as_str().to_owned()
    }

    /// The host's reference for an outside payment.
    #[napi(getter, catch_unwind)]
    pub fn reference(&self) -> Option<String> {
        self.0.reference.clone()
    }

    /// The metadata of the invoice paid (what `"meta:<key>"` CSV columns show).
    #[napi(getter, catch_unwind)]
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }
}

/// Payments as JS objects.
pub fn payments(payments: Vec<CorePayment>) -> Vec<Payment> {
    payments.into_iter().map(Payment).collect()
}

/// One invoice as its payer sees it in a portal.
#[napi]
pub struct PortalInvoice(CorePortalInvoice);

#[napi]
impl PortalInvoice {
    /// The invoice.
    #[napi(getter, catch_unwind)]
    pub fn invoice(&self) -> InvoiceRecord {
        InvoiceRecord(self.0.invoice.clone())
    }

    /// Where to pay it (Stripe's hosted page), for an invoice still owing.
    #[napi(getter, catch_unwind)]
    pub fn pay_link(&self) -> Option<String> {
        self.0.pay_link.clone()
    }
}

/// A payer's invoices, paid and unpaid (drafts excluded), and what they still owe.
#[napi]
pub struct Portal(pub(crate) CorePortal);

#[napi]
impl Portal {
    /// Whose portal this is.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.0.payer.clone())
    }

    /// Every finalized invoice of the payer, oldest first.
    #[napi(getter, catch_unwind)]
    pub fn invoices(&self) -> Vec<PortalInvoice> {
        self.0.invoices.iter().cloned().map(PortalInvoice).collect()
    }

    /// The invoices still owing (open or uncollectible).
    #[napi(catch_unwind)]
    pub fn unpaid(&self) -> Vec<PortalInvoice> {
        self.0.unpaid().cloned().map(PortalInvoice).collect()
    }

    /// The paid invoices.
    #[napi(catch_unwind)]
    pub fn paid(&self) -> Vec<PortalInvoice> {
        self.0.paid().cloned().map(PortalInvoice).collect()
    }

    /// What remains to pay, keyed by lowercase currency code.
    #[napi(getter, ts_return_type = "Record<string, Money>", catch_unwind)]
    pub fn remaining<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let mut remaining = Object::new(env)?;
        for amount in &self.0.remaining {
            remaining.set(amount.currency().code(), Money(*amount))?;
        }
        Ok(remaining)
    }

    /// What remains to pay in `currency` (zero when nothing).
    #[napi(catch_unwind)]
    pub fn remaining_in(&self, env: &Env, currency: CurrencyLike) -> Result<Money> {
        let currency: CoreCurrency = self::currency(env, &currency)?;
        Ok(Money(self.0.remaining_in(currency)))
    }

    /// The portal as plain values (the core's JSON form).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        crate::convert::to_plain(env, &self.0)
    }
}

/// A writer of CSV chunks: an async function that takes each chunk and resolves when
/// it may take the next (`index.js` makes one from a writable stream).
pub type ChunkWriter = ThreadsafeFunction<Buffer, Promise<()>, Buffer, Status, false>;

/// Where CSV goes: a file path (created or truncated) or a chunk writer.
pub type Destination = Either<String, ChunkWriter>;

/// An `io::Write` over a JS chunk writer, for a blocking thread of the runtime: each
/// buffered chunk waits until JS has taken it, so memory stays bounded.
struct JsWriter {
    write: Arc<ChunkWriter>,
    runtime: tokio::runtime::Handle,
}

impl Write for JsWriter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let chunk = Buffer::from(buffer.to_vec());
        let write = Arc::clone(&self.write);
        self.runtime
            .block_on(async move { write.call_async(chunk).await?.await })
            .map_err(|error| io::Error::other(error.reason.clone()))?;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `write` into the destination on a blocking thread; a failing destination is
/// the core's I/O error (`IoError`).
fn export<'env>(
    env: &'env Env,
    destination: Destination,
    write: impl FnOnce(&mut dyn Write) -> std::result::Result<usize, ReportError> + Send + 'static,
) -> Result<PromiseRaw<'env, u32>> {
    promise(
        env,
        async move {
            let runtime = tokio::runtime::Handle::current();
            let written =
                tokio::task::spawn_blocking(move || -> std::result::Result<usize, BindingError> {
                    let failed = |source: io::Error| ReportError::Io {
                        rows_written: 0,
                        source,
                    };
                    let sink: Box<dyn Write> = match destination {
                        Either::A(path) => Box::new(File::create(path).map_err(failed)?),
                        Either::B(write) => Box::new(JsWriter {
                            write: Arc::new(write),
                            runtime,
                        }),
                    };
                    let mut writer = BufWriter::with_capacity(64 * 1024, sink);
                    let written = write(&mut writer)?;
                    writer.flush().map_err(failed)?;
                    Ok(written)
                })
                .await
                .map_err(|error| BindingError::internal("task_failed", error.to_string()))??;
            Ok(u32::try_from(written).unwrap_or(u32::MAX))
        },
        |_, written| Ok(written),
    )
}

/// Writes invoice records as CSV to a path or a writable stream; resolves to the rows
/// written. Columns are the core's words (`"number"`, `"status"`, `"amount_due"`, …) or
/// `"meta:<key>"` for a metadata value. Rejects with `ValidationError` for an unknown
/// column, `IoError` when the destination fails.
#[napi(
    ts_args_type = "records: Array<InvoiceRecord>, columns: Array<string>, destination: CsvDestination",
    ts_return_type = "Promise<number>",
    catch_unwind
)]
pub fn write_csv<'env>(
    env: &'env Env,
    records: Vec<&InvoiceRecord>,
    columns: Vec<String>,
    destination: Destination,
) -> Result<PromiseRaw<'env, u32>> {
    let columns = columns
        .iter()
        .map(|column| column.parse::<Column>().or_throw(env))
        .collect::<Result<Vec<_>>>()?;
    let records: Vec<CoreRecord> = records.into_iter().map(|record| record.0.clone()).collect();
    export(env, destination, move |writer| {
        core_write_csv(&records, &columns, writer)
    })
}

/// Writes payments as CSV to a path or a writable stream; resolves to the rows
/// written. Columns are the core's payment column words (`"date"`, `"amount"`,
/// `"method"`, …) or `"meta:<key>"`.
#[napi(
    ts_args_type = "payments: Array<Payment>, columns: Array<string>, destination: CsvDestination",
    ts_return_type = "Promise<number>",
    catch_unwind
)]
pub fn write_payments_csv<'env>(
    env: &'env Env,
    payments: Vec<&Payment>,
    columns: Vec<String>,
    destination: Destination,
) -> Result<PromiseRaw<'env, u32>> {
    let columns = columns
        .iter()
        .map(|column| column.parse::<PaymentColumn>().or_throw(env))
        .collect::<Result<Vec<_>>>()?;
    let payments: Vec<CorePayment> = payments
        .into_iter()
        .map(|payment| payment.0.clone())
        .collect();
    export(env, destination, move |writer| {
        core_write_payments_csv(&payments, &columns, writer)
    })
}

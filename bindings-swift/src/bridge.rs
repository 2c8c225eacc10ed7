//! [`Billbridge`], the object a mobile app holds: built from [`BridgeOptions`] over
//! Stripe (an API key), a Stripe-compatible server, or the in-process [`MockStripe`];
//! every method is `async throws` in Swift and `suspend` in Kotlin, runs on tokio, and
//! calls one method of the core's `Billbridge`.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use billbridge::domain::metadata::{Field, MetadataPolicy, PracticeSecret};
use billbridge::domain::money::Currency;
use billbridge::domain::party::{OrganisationId, PatientId};
use billbridge::report::{Column, DateRange, InvoiceQuery, ReportError, write_csv};
use billbridge::stripe::client::StripeClient;
use billbridge::stripe::http::HttpTransport;
use billbridge::stripe::key::ApiKey;
use billbridge::stripe::webhook::WebhookSecret;
use billbridge::sync::{Billbridge as CoreBridge, IdempotencySecret};

use crate::error::{BillbridgeError, guard, guarded};
use crate::invoices::{InvoiceDraft, RaiseMode};
use crate::mock::MockStripe;
use crate::money::{Money, day, unix_seconds};
use crate::parties::{Party, PayerRef};
use crate::records::{
    BalanceAdjustment, CustomerRecord, InvoicePreview, InvoiceRecord, InvoiceStatus,
    OutsidePayment, Payment, Portal, payments, records,
};
use crate::webhooks::WebhookOutcome;

/// A host field billbridge can carry to Stripe as metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MetadataField {
    /// The patient's given name.
    PatientFirstName,
    /// The patient's family name.
    PatientLastName,
    /// The patient's full name.
    PatientName,
    /// The patient's date of birth.
    PatientDateOfBirth,
    /// The patient's gender.
    PatientGender,
    /// The patient's mobile number.
    PatientMobile,
    /// The patient's email address.
    PatientEmail,
    /// The patient's postcode.
    PatientPostcode,
    /// The practitioner the patient is registered with.
    RegisteredPractitioner,
    /// Where the invoiced appointment took place.
    AppointmentLocation,
    /// Who saw the patient at the invoiced appointment.
    AppointmentPractitioner,
    /// The invoice's billing and collection arrangement.
    BillingAndCollection,
    /// The host's id of the patient.
    HostPatientId,
    /// The host's id of the payer.
    HostPayerId,
    /// The host's id of the invoice.
    HostInvoiceId,
}

impl From<MetadataField> for Field {
    fn from(field: MetadataField) -> Self {
        match field {
            MetadataField::PatientFirstName => Field::PatientFirstName,
            MetadataField::PatientLastName => Field::PatientLastName,
            MetadataField::PatientName => Field::PatientName,
            MetadataField::PatientDateOfBirth => Field::PatientDateOfBirth,
            MetadataField::PatientGender => Field::PatientGender,
            MetadataField::PatientMobile => Field::PatientMobile,
            MetadataField::PatientEmail => Field::PatientEmail,
            MetadataField::PatientPostcode => Field::PatientPostcode,
            MetadataField::RegisteredPractitioner => Field::RegisteredPractitioner,
            MetadataField::AppointmentLocation => Field::AppointmentLocation,
            MetadataField::AppointmentPractitioner => Field::AppointmentPractitioner,
            MetadataField::BillingAndCollection => Field::BillingAndCollection,
            MetadataField::HostPatientId => Field::HostPatientId,
            MetadataField::HostPayerId => Field::HostPayerId,
            MetadataField::HostInvoiceId => Field::HostInvoiceId,
        }
    }
}

/// Which preset a metadata policy starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MetadataPreset {
    /// Every field, under the keys practice-management products already use.
    HeroCompatible,
    /// Host ids only, no personal data; switch fields on one by one.
    Minimal,
}

/// The practice's rules for host data sent to Stripe as metadata: a preset, fields
/// switched on, then fields switched off (a field switched off is removed from Stripe
/// at the next sync). Pseudonymised fields need `pseudonymSecret` (at least 16 bytes).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct MetadataRules {
    /// The starting point.
    pub preset: MetadataPreset,
    /// Fields to switch on.
    #[uniffi(default)]
    pub switch_on: Vec<MetadataField>,
    /// Fields to switch off (applied after `switchOn`).
    #[uniffi(default)]
    pub switch_off: Vec<MetadataField>,
    /// The practice's secret for keyed pseudonyms; keep it in the keychain.
    #[uniffi(default = None)]
    pub pseudonym_secret: Option<Vec<u8>>,
}

impl fmt::Debug for MetadataRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataRules")
            .field("preset", &self.preset)
            .field("switch_on", &self.switch_on)
            .field("switch_off", &self.switch_off)
            .field(
                "pseudonym_secret",
                &self.pseudonym_secret.as_ref().map(|_| "…redacted"),
            )
            .finish()
    }
}

impl MetadataRules {
    fn to_core(&self) -> Result<MetadataPolicy, BillbridgeError> {
        let mut policy = match self.preset {
            MetadataPreset::HeroCompatible => MetadataPolicy::hero_compatible(),
            MetadataPreset::Minimal => MetadataPolicy::minimal(),
        };
        for field in &self.switch_on {
            policy = policy.with(Field::from(*field));
        }
        for field in &self.switch_off {
            policy = policy.without(Field::from(*field));
        }
        if let Some(secret) = &self.pseudonym_secret {
            policy = policy.pseudonym_secret(PracticeSecret::new(secret.clone())?);
        }
        Ok(policy)
    }
}

/// How a bridge is configured. Only `idempotencySecret` is required. The secrets are
/// never printed (`toString()` / `description` redact them).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct BridgeOptions {
    /// The secret idempotency keys are derived from. Keep it in the keychain and keep
    /// it the same across launches and devices of the practice: a retried or re-run
    /// call then repeats the same requests, and Stripe applies them once.
    pub idempotency_secret: String,
    /// The webhook endpoint's signing secret (`whsec_…`), for apps that receive
    /// webhooks; without it `handleWebhook` refuses every delivery.
    #[uniffi(default = None)]
    pub webhook_secret: Option<String>,
    /// How far a webhook signature's time may be from now, in seconds; Stripe's 300
    /// by default.
    #[uniffi(default = None)]
    pub webhook_tolerance_seconds: Option<u32>,
    /// A SQLite file keeping the links between the app's records and Stripe's, so they
    /// survive restarts (created if missing). By default they live in memory and are
    /// lost when the app ends.
    #[uniffi(default = None)]
    pub store_path: Option<String>,
    /// A connected account (`acct_…`) to act on instead of the platform's own.
    #[uniffi(default = None)]
    pub account: Option<String>,
    /// The currency balances are read in for a customer with none yet (GBP by default).
    #[uniffi(default = None)]
    pub currency: Option<String>,
    /// Send invoices that would be charged automatically for payment in this many
    /// days instead.
    #[uniffi(default = None)]
    pub default_days_until_due: Option<u32>,
    /// The metadata rules; by default the core's default policy.
    #[uniffi(default = None)]
    pub metadata: Option<MetadataRules>,
}

impl fmt::Debug for BridgeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for BridgeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BridgeOptions(idempotencySecret=…redacted, webhookSecret={}, storePath={:?}, account={:?}, currency={:?}, defaultDaysUntilDue={:?})",
            if self.webhook_secret.is_some() {
                "…redacted"
            } else {
                "none"
            },
            self.store_path,
            self.account,
            self.currency,
            self.default_days_until_due,
        )
    }
}

/// A bridge over `client` configured by `options`.
fn build(client: StripeClient, options: &BridgeOptions) -> Result<CoreBridge, BillbridgeError> {
    let mut builder = CoreBridge::builder(client).idempotency_secret(IdempotencySecret::new(
        options.idempotency_secret.as_bytes(),
    )?);
    if let Some(secret) = &options.webhook_secret {
        builder = builder.webhook_secret(WebhookSecret::new(secret)?);
    }
    if let Some(seconds) = options.webhook_tolerance_seconds {
        builder = builder.webhook_tolerance(Duration::from_secs(u64::from(seconds)));
    }
    if let Some(path) = &options.store_path {
        builder = builder.store(billbridge::store::SqliteStore::open(path)?);
    }
    if let Some(account) = &options.account {
        builder = builder.account(account);
    }
    if let Some(code) = &options.currency {
        builder = builder.currency(Currency::new(code)?);
    }
    if let Some(days) = options.default_days_until_due {
        builder = builder.default_days_until_due(days);
    }
    if let Some(rules) = &options.metadata {
        builder = builder.metadata_policy(rules.to_core()?);
    }
    Ok(builder.build()?)
}

/// A range of days, both included, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DayRange {
    /// The first day.
    pub first: String,
    /// The last day.
    pub last: String,
}

impl DayRange {
    pub(crate) fn to_core(&self) -> Result<DateRange, BillbridgeError> {
        Ok(DateRange::new(day(&self.first)?, day(&self.last)?)?)
    }
}

/// Which invoices a listing returns: every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceFilter {
    /// Only invoices in this status.
    #[uniffi(default = None)]
    pub status: Option<InvoiceStatus>,
    /// Only invoices this payer pays.
    #[uniffi(default = None)]
    pub payer: Option<PayerRef>,
    /// Only invoices about this patient.
    #[uniffi(default = None)]
    pub patient_id: Option<String>,
    /// Only invoices of this Stripe customer.
    #[uniffi(default = None)]
    pub customer_id: Option<String>,
    /// Only invoices created on these days (UTC).
    #[uniffi(default = None)]
    pub created: Option<DayRange>,
    /// Only invoices due on these days (UTC).
    #[uniffi(default = None)]
    pub due: Option<DayRange>,
    /// Only invoices whose metadata holds every one of these entries.
    #[uniffi(default)]
    pub metadata: HashMap<String, String>,
}

impl InvoiceFilter {
    pub(crate) fn to_core(&self) -> Result<InvoiceQuery, BillbridgeError> {
        let mut query = InvoiceQuery::new();
        if let Some(status) = &self.status {
            query = query.status(status.into());
        }
        if let Some(payer) = &self.payer {
            query = query.payer(&payer.to_core()?);
        }
        if let Some(patient) = &self.patient_id {
            query = query.patient(patient);
        }
        if let Some(customer) = &self.customer_id {
            query = query.customer(customer);
        }
        if let Some(range) = &self.created {
            query = query.created(range.to_core()?);
        }
        if let Some(range) = &self.due {
            query = query.due(range.to_core()?);
        }
        for (key, value) in &self.metadata {
            query = query.metadata(key, value);
        }
        Ok(query)
    }
}

/// Writes `records` as CSV with `columns` (the core's column words: `number`,
/// `status`, `total`, `amount_remaining`, …, `meta:<key>`) to the file at `path`.
pub(crate) fn write_records_csv(
    records: &[billbridge::sync::InvoiceRecord],
    columns: &[String],
    path: &str,
) -> Result<i64, BillbridgeError> {
    let columns = columns
        .iter()
        .map(|word| word.parse::<Column>())
        .collect::<Result<Vec<_>, _>>()?;
    let failed = |source: io::Error| ReportError::Io {
        rows_written: 0,
        source,
    };
    let file = File::create(path).map_err(failed)?;
    let mut writer = BufWriter::new(file);
    let written = write_csv(records, &columns, &mut writer)?;
    writer.flush().map_err(failed)?;
    Ok(i64::try_from(written).unwrap_or(i64::MAX))
}

/// The bridge between the app's records and Stripe: customers, balances, invoices,
/// webhooks, re-sync and reports. Safe to share between tasks and threads; every
/// method suspends (Kotlin) or is `async` (Swift) and throws [`BillbridgeError`].
#[derive(uniffi::Object)]
pub struct Billbridge {
    core: CoreBridge,
}

impl fmt::Debug for Billbridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.core, f)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Billbridge {
    /// A bridge to Stripe with a secret (`sk_…`) or, better on a device, a restricted
    /// (`rk_…`) API key.
    ///
    /// # Errors
    /// `Validation` for a key that is not a secret or restricted key
    /// (`publishable_key`, `invalid_api_key`), a bad option (`unknown_currency`,
    /// `idempotency_secret_too_short`, `invalid_webhook_secret`, …); `Store` when the
    /// SQLite file cannot be opened.
    #[uniffi::constructor]
    pub fn new(api_key: String, options: BridgeOptions) -> Result<Arc<Self>, BillbridgeError> {
        guard(|| {
            let transport = HttpTransport::new(ApiKey::parse(api_key)?)?;
            Ok(Arc::new(Billbridge {
                core: build(StripeClient::new(transport), &options)?,
            }))
        })
    }

    /// A bridge to a Stripe-compatible server at `baseUrl` (`http://127.0.0.1:12111`
    /// for billbridge's mock served over HTTP), with a test key.
    ///
    /// # Errors
    /// As [`Billbridge::new`], and `Validation` (`invalid_base_url`) for a URL that is
    /// not http(s).
    #[uniffi::constructor]
    pub fn over_server(
        api_key: String,
        base_url: String,
        options: BridgeOptions,
    ) -> Result<Arc<Self>, BillbridgeError> {
        guard(|| {
            let transport = HttpTransport::builder(ApiKey::parse(api_key)?)
                .base_url(base_url)
                .build()?;
            Ok(Arc::new(Billbridge {
                core: build(StripeClient::new(transport), &options)?,
            }))
        })
    }

    /// A bridge to an in-process mock Stripe, for app tests and demos. It lives on the
    /// mock's clock.
    ///
    /// # Errors
    /// As [`Billbridge::new`] for the options.
    #[uniffi::constructor]
    pub fn over_mock(
        mock: Arc<MockStripe>,
        options: BridgeOptions,
    ) -> Result<Arc<Self>, BillbridgeError> {
        guard(|| {
            Ok(Arc::new(Billbridge {
                core: build(StripeClient::new(mock.core().clone()), &options)?,
            }))
        })
    }

    /// Creates or updates the party's Stripe customer (nothing is sent when nothing
    /// changed since the last sync).
    ///
    /// # Errors
    /// `Validation` for an invalid patient or organisation; Stripe, transport and
    /// store errors.
    pub async fn upsert_customer(&self, party: Party) -> Result<CustomerRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let party = party.to_core()?;
            Ok(core.upsert_customer(&party).await?.into())
        })
        .await
    }

    /// The Stripe customer id (`cus_…`) linked to `payer`, if it was synced.
    ///
    /// # Errors
    /// `Validation` for an invalid id; store errors.
    pub async fn customer_id(&self, payer: PayerRef) -> Result<Option<String>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let payer = payer.to_core()?;
            Ok(core
                .customer(&payer)
                .await?
                .map(|link| link.stripe_customer_id))
        })
        .await
    }

    /// Makes the organisation pay the patient's invoices from now on.
    ///
    /// # Errors
    /// `Validation` for an invalid id; `InvalidState` when either has no customer
    /// yet; Stripe, transport and store errors.
    pub async fn set_default_payer(
        &self,
        patient_id: String,
        organisation_id: String,
    ) -> Result<(), BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let patient = PatientId::new(patient_id)?;
            let organisation = OrganisationId::new(organisation_id)?;
            Ok(core.set_default_payer(&patient, &organisation).await?)
        })
        .await
    }

    /// Makes the patient pay their own invoices again; returns whether a default payer
    /// was set.
    ///
    /// # Errors
    /// `Validation` for an invalid id; store errors.
    pub async fn clear_default_payer(&self, patient_id: String) -> Result<bool, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let patient = PatientId::new(patient_id)?;
            Ok(core.clear_default_payer(&patient).await?)
        })
        .await
    }

    /// Records a credit (negative `amount`, e.g. a prepaid visit missed at late notice)
    /// or a debit (positive, e.g. postage) on the payer's balance; Stripe applies it
    /// to the payer's next invoice. `adjustmentId` is the app's id of this adjustment:
    /// running it again never doubles it. `reason` may be shown to the payer.
    ///
    /// # Errors
    /// `Validation` (`invalid_adjustment_id`, money errors); `InvalidState`
    /// (`customer_not_synced`); Stripe, transport and store errors.
    pub async fn adjust_balance(
        &self,
        payer: PayerRef,
        amount: Money,
        reason: String,
        adjustment_id: String,
    ) -> Result<BalanceAdjustment, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let payer = payer.to_core()?;
            let amount = amount.to_core()?;
            Ok(core
                .adjust_balance(&payer, amount, &reason, &adjustment_id)
                .await?
                .into())
        })
        .await
    }

    /// The payer's customer balance: negative is a credit owed to them.
    ///
    /// # Errors
    /// `InvalidState` (`customer_not_synced`); Stripe, transport and store errors.
    pub async fn balance(&self, payer: PayerRef) -> Result<Money, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let payer = payer.to_core()?;
            Ok(core.balance(&payer).await?.into())
        })
        .await
    }

    /// What the invoice for `draft` would ask of its payer if finalized now: the total
    /// with the payer's balance applied by Stripe's rule. Creates nothing.
    ///
    /// # Errors
    /// `Validation` for an invalid draft (no lines, mixed currencies, …); Stripe,
    /// transport and store errors.
    pub async fn preview(&self, draft: InvoiceDraft) -> Result<InvoicePreview, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let (draft, _) = draft.to_core()?;
            Ok(core.preview(&draft).await?.into())
        })
        .await
    }

    /// Raises the draft in Stripe, exactly once and resumably, as far as `mode` says.
    /// Calling it again after any failure finishes the same invoice.
    ///
    /// # Errors
    /// `Validation` for an invalid draft; `InvalidState` (`customer_not_synced`,
    /// `revision_conflict`, `total_mismatch`, …); Stripe, transport and store errors.
    pub async fn raise_invoice(
        &self,
        draft: InvoiceDraft,
        mode: RaiseMode,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let (draft, patient) = draft.to_core()?;
            Ok(core
                .raise_invoice(&draft, patient.as_ref(), mode.into())
                .await?
                .into())
        })
        .await
    }

    /// Applies an edited draft to its Stripe draft (memo, footer, metadata; a new
    /// revision replaces the lines).
    ///
    /// # Errors
    /// `InvalidState` unless the invoice is a draft (nothing sent); then as
    /// `raiseInvoice`.
    pub async fn edit_draft(&self, draft: InvoiceDraft) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let (draft, patient) = draft.to_core()?;
            Ok(core.edit_draft(&draft, patient.as_ref()).await?.into())
        })
        .await
    }

    /// The app's record of an invoice, if it was raised.
    ///
    /// # Errors
    /// Store errors.
    pub async fn invoice(
        &self,
        host_invoice_id: String,
    ) -> Result<Option<InvoiceRecord>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move { Ok(core.invoice(&host_invoice_id).await?.map(Into::into)) }).await
    }

    /// Finalizes a draft: Stripe assigns its number, payment page and PDF and applies
    /// the payer's balance.
    ///
    /// # Errors
    /// `InvalidState` unless it is a draft (nothing sent); Stripe, transport and store
    /// errors.
    pub async fn finalize(
        &self,
        host_invoice_id: String,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move { Ok(core.finalize(&host_invoice_id).await?.into()) }).await
    }

    /// Sends an open invoice to its payer (Stripe emails the payment link).
    ///
    /// # Errors
    /// `InvalidState` unless it is open (nothing sent); Stripe, transport and store
    /// errors.
    pub async fn send(&self, host_invoice_id: String) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move { Ok(core.send(&host_invoice_id).await?.into()) }).await
    }

    /// Records a payment taken outside Stripe (cash at reception, a cheque, an
    /// insurer): Stripe marks the invoice paid without a charge.
    ///
    /// # Errors
    /// `InvalidState` unless the invoice is open or uncollectible (nothing sent);
    /// `Validation` for a bad day or method name; Stripe, transport and store errors.
    pub async fn mark_paid_outside_stripe(
        &self,
        host_invoice_id: String,
        payment: OutsidePayment,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let payment = payment.to_core()?;
            Ok(core
                .mark_paid_outside_stripe(&host_invoice_id, &payment)
                .await?
                .into())
        })
        .await
    }

    /// Voids an open or uncollectible invoice: nothing is owed any more.
    ///
    /// # Errors
    /// `InvalidState` otherwise (nothing sent); Stripe, transport and store errors.
    pub async fn void(&self, host_invoice_id: String) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move { Ok(core.void(&host_invoice_id).await?.into()) }).await
    }

    /// Writes an open invoice off; it can still be paid or voided.
    ///
    /// # Errors
    /// `InvalidState` unless it is open (nothing sent); Stripe, transport and store
    /// errors.
    pub async fn mark_uncollectible(
        &self,
        host_invoice_id: String,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move { Ok(core.mark_uncollectible(&host_invoice_id).await?.into()) }).await
    }

    /// Deletes a draft in Stripe; the record stays, with status `deleted`.
    ///
    /// # Errors
    /// `InvalidState` unless it is a draft (nothing sent); Stripe, transport and store
    /// errors.
    pub async fn delete_draft(
        &self,
        host_invoice_id: String,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move { Ok(core.delete_draft(&host_invoice_id).await?.into()) }).await
    }

    /// Handles one webhook delivery: `body` exactly as received and the
    /// `Stripe-Signature` header. Verified, deduplicated, and never moving a status
    /// backwards. Answer Stripe 2xx when it returns.
    ///
    /// # Errors
    /// `Signature` for a delivery that does not verify; `Validation` for a body that
    /// is not an event or a bridge without a webhook secret; store errors.
    pub async fn handle_webhook(
        &self,
        body: Vec<u8>,
        signature_header: Option<String>,
    ) -> Result<WebhookOutcome, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            Ok(core
                .handle_webhook(&body, signature_header.as_deref())
                .await?
                .into())
        })
        .await
    }

    /// Replaces the record with Stripe's current invoice (after missed webhooks).
    ///
    /// # Errors
    /// `InvalidState` (`invoice_not_raised`); Stripe, transport and store errors.
    pub async fn resync_invoice(
        &self,
        host_invoice_id: String,
    ) -> Result<InvoiceRecord, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move { Ok(core.resync_invoice(&host_invoice_id).await?.into()) }).await
    }

    /// Re-reads every invoice with events since `since`: the recovery job after the
    /// app was offline.
    ///
    /// # Errors
    /// Stripe, transport and store errors.
    pub async fn resync_changed_since(
        &self,
        since: SystemTime,
    ) -> Result<Vec<InvoiceRecord>, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            Ok(records(
                core.resync_changed_since(unix_seconds(since)).await?,
            ))
        })
        .await
    }

    /// The invoices matching `filter`, oldest first, from the app's records (no Stripe
    /// call).
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

    /// The open invoices, oldest first.
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

    /// Payments received on the days of `days`, through Stripe and outside it.
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

    /// The payer's portal view: their finalized invoices, paid and unpaid, with pay
    /// links, and what remains to pay per currency.
    ///
    /// # Errors
    /// `Validation` for an invalid id; store errors.
    pub async fn portal(&self, payer: PayerRef) -> Result<Portal, BillbridgeError> {
        let core = self.core.clone();
        guarded(async move {
            let payer = payer.to_core()?;
            Ok(core.portal(&payer).await?.into())
        })
        .await
    }

    /// Writes the invoices matching `filter` as CSV to the file at `path` (created or
    /// replaced), one column per word of `columns` (`number`, `host_invoice_id`,
    /// `status`, `currency`, `total`, `amount_due`, `amount_paid`, `amount_remaining`,
    /// …, or `meta:<key>` for a metadata value); returns the rows written.
    ///
    /// # Errors
    /// `Validation` (`unknown_report_column`); `Io` when the file cannot be written;
    /// store errors.
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

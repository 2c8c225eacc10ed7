//! Billing rates, services and Stripe's balance rule: which services are invoiced, who
//! pays them and what a balance leaves due are all the core's rules.

use std::collections::BTreeMap;

use billbridge::domain::balance::{self, BalanceApplication as CoreBalanceApplication};
use billbridge::domain::catalogue::{
    self, BillingRate as CoreBillingRate, BillingRates, RateId, RatePayer, Service as CoreService,
    ServiceId,
};
use billbridge::domain::party::PatientId;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{date, date_text, optional_date, word};
use crate::errors::OrThrow;
use crate::invoices::InvoiceLine;
use crate::money::Money;
use crate::parties::PayerRef;

/// What a `BillingRate` is made from.
#[napi(object, object_to_js = false)]
pub struct BillingRateInit {
    /// Host id.
    pub id: String,
    /// Name (the line description).
    pub name: String,
    /// Whether services under this rate are invoiced.
    pub invoiced: bool,
    /// Who the rate bills: `"client"` or `"insurance"`.
    pub payer: String,
}

/// One of the host's billing rates.
#[napi]
#[derive(Clone)]
pub struct BillingRate(pub(crate) CoreBillingRate);

#[napi]
impl BillingRate {
    /// `new BillingRate({ id: "R-SELF", name: "General Service (Self-Pay)", invoiced: true, payer: "client" })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: BillingRateInit) -> Result<Self> {
        let id = RateId::new(init.id).or_throw(env)?;
        let payer = word::<RatePayer>(env, &init.payer)?;
        Ok(BillingRate(CoreBillingRate::new(
            id,
            init.name,
            init.invoiced,
            payer,
        )))
    }

    /// Host id.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.0.id.as_str().to_owned()
    }

    /// Name (the line description).
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.0.name.clone()
    }

    /// Whether services under this rate are invoiced.
    #[napi(getter, catch_unwind)]
    pub fn invoiced(&self) -> bool {
        self.0.invoiced
    }

    /// `"client"` or `"insurance"`.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> &'static str {
        self.0.payer.as_str()
    }
}

/// Billing rates given as `BillingRate` objects, unique by id (the core's set).
pub fn rates(env: &Env, rates: &[&BillingRate]) -> Result<BillingRates> {
    let rates: Vec<CoreBillingRate> = rates.iter().map(|rate| rate.0.clone()).collect();
    BillingRates::try_from(rates).or_throw(env)
}

/// Services given as `Service` objects.
pub fn services(services: &[&Service]) -> Vec<CoreService> {
    services.iter().map(|service| service.0.clone()).collect()
}

/// What a `Service` is made from.
#[napi(object, object_to_js = false)]
pub struct ServiceInit {
    /// Host id.
    pub id: String,
    /// The patient's host id.
    pub patient_id: String,
    /// The day of service, ISO `"YYYY-MM-DD"`.
    pub date: String,
    /// The billing rate's host id.
    pub rate_id: String,
    /// The service's amount.
    pub amount: &'static Money,
    /// What an insurer paid of it.
    pub insurer_payment: Option<&'static Money>,
    /// When it was invoiced, ISO.
    pub invoiced_on: Option<String>,
}

/// A service delivered to a patient under a billing rate.
#[napi]
#[derive(Clone)]
pub struct Service(pub(crate) CoreService);

#[napi]
impl Service {
    /// `new Service({ id, patientId, date: "2026-01-01", rateId, amount })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: ServiceInit) -> Result<Self> {
        let mut service = CoreService::new(
            ServiceId::new(init.id).or_throw(env)?,
            PatientId::new(init.patient_id).or_throw(env)?,
            date(env, &init.date)?,
            RateId::new(init.rate_id).or_throw(env)?,
            init.amount.0,
        );
        service.insurer_payment = init.insurer_payment.map(|money| money.0);
        service.invoiced_on = optional_date(env, init.invoiced_on.as_deref())?;
        Ok(Service(service))
    }

    /// Host id.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.0.id.as_str().to_owned()
    }

    /// The patient's host id.
    #[napi(getter, catch_unwind)]
    pub fn patient_id(&self) -> String {
        self.0.patient.as_str().to_owned()
    }

    /// The day of service, ISO.
    #[napi(getter, catch_unwind)]
    pub fn date(&self) -> String {
        date_text(self.0.date)
    }

    /// The billing rate's host id.
    #[napi(getter, catch_unwind)]
    pub fn rate_id(&self) -> String {
        self.0.rate.as_str().to_owned()
    }

    /// The service's amount.
    #[napi(getter, catch_unwind)]
    pub fn amount(&self) -> Money {
        Money(self.0.amount)
    }

    /// What an insurer paid.
    #[napi(getter, catch_unwind)]
    pub fn insurer_payment(&self) -> Option<Money> {
        self.0.insurer_payment.map(Money)
    }

    /// When it was invoiced, ISO.
    #[napi(getter, catch_unwind)]
    pub fn invoiced_on(&self) -> Option<String> {
        self.0.invoiced_on.map(date_text)
    }

    /// What the client owes: amount − insurer payment; throws `ValidationError` when
    /// the insurer paid more than the amount.
    #[napi(catch_unwind)]
    pub fn client_part(&self, env: &Env) -> Result<Money> {
        self.0.client_part().map(Money).or_throw(env)
    }

    /// The invoice line for this service under `rate`.
    #[napi(catch_unwind)]
    pub fn to_line(&self, env: &Env, rate: &BillingRate) -> Result<InvoiceLine> {
        self.0.to_line(&rate.0).map(InvoiceLine).or_throw(env)
    }
}

/// Stripe's finalization rule applied to an invoice total and a customer balance.
#[napi]
pub struct BalanceApplication(CoreBalanceApplication);

#[napi]
impl BalanceApplication {
    /// The invoice's total.
    #[napi(getter, catch_unwind)]
    pub fn total(&self) -> Money {
        Money(self.0.total)
    }

    /// The balance before finalization (negative: credit).
    #[napi(getter, catch_unwind)]
    pub fn starting_balance(&self) -> Money {
        Money(self.0.starting_balance)
    }

    /// How much of the balance the invoice consumed, in balance sign.
    #[napi(getter, catch_unwind)]
    pub fn applied(&self) -> Money {
        Money(self.0.applied)
    }

    /// The invoice's `amount_due`.
    #[napi(getter, catch_unwind)]
    pub fn amount_due(&self) -> Money {
        Money(self.0.amount_due)
    }

    /// The balance after finalization.
    #[napi(getter, catch_unwind)]
    pub fn ending_balance(&self) -> Money {
        Money(self.0.ending_balance)
    }

    /// What the payer must actually pay.
    #[napi(getter, catch_unwind)]
    pub fn amount_to_collect(&self) -> Money {
        Money(self.0.amount_to_collect())
    }

    /// Whether the invoice is paid as soon as it is finalized.
    #[napi(getter, catch_unwind)]
    pub fn paid_at_finalization(&self) -> bool {
        self.0.paid_at_finalization()
    }

    /// `"open"`, `"paid_nothing_due"` or `"paid_below_minimum"`.
    #[napi(getter, catch_unwind)]
    pub fn outcome(&self) -> &'static str {
        self.0.outcome.kind()
    }
}

/// Applies a customer balance (negative: credit) to an invoice total as Stripe does at
/// finalization.
#[napi(catch_unwind)]
pub fn apply_balance(env: &Env, total: &Money, balance: &Money) -> Result<BalanceApplication> {
    balance::apply_balance(total.0, balance.0)
        .map(BalanceApplication)
        .or_throw(env)
}

/// One payer's invoiceable services and the lines they make.
#[napi(object, object_from_js = false)]
pub struct InvoiceableGroup {
    /// Who the invoice would bill.
    pub payer: PayerRef,
    /// The services' host ids.
    pub service_ids: Vec<String>,
    /// The lines, one per service.
    pub lines: Vec<InvoiceLine>,
}

/// Options of `selectInvoiceable`.
#[napi(object, object_to_js = false)]
pub struct SelectOptions {
    /// Patient id → organisation id of the patients' default payers.
    pub default_payers: Option<BTreeMap<String, String>>,
}

/// Groups what is invoiceable per payer with the core's payer rule: an insurance rate
/// bills the patient's default payer from `defaultPayers`, else the patient.
#[napi(catch_unwind)]
pub fn select_invoiceable(
    env: &Env,
    services: Vec<&Service>,
    rates: Vec<&BillingRate>,
    options: Option<SelectOptions>,
) -> Result<Vec<InvoiceableGroup>> {
    let payers = catalogue::default_payers(
        options
            .and_then(|options| options.default_payers)
            .unwrap_or_default(),
    )
    .or_throw(env)?;
    let services = self::services(&services);
    let rates = self::rates(env, &rates)?;
    let groups = catalogue::invoiceable_by_payer(&services, &rates, &payers).or_throw(env)?;
    Ok(groups
        .into_iter()
        .map(|group| InvoiceableGroup {
            payer: PayerRef(group.payer),
            service_ids: group
                .services
                .iter()
                .map(|id| id.as_str().to_owned())
                .collect(),
            lines: group.lines.into_iter().map(InvoiceLine).collect(),
        })
        .collect())
}

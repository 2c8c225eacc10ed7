//! Invoice drafts and what they are made of: catalogue items, lines, the appointment
//! context. Constructors take one plain options object; which options go together is
//! the core's rule (`served`, `due`, `Location::from_parts`).

use std::collections::BTreeMap;

use billbridge::domain::catalogue::{CatalogueItem as CoreCatalogueItem, CatalogueKey};
use billbridge::domain::invoice::{
    AppointmentContext as CoreAppointmentContext, AppointmentId, InvoiceDraft as CoreInvoiceDraft,
    InvoiceId, InvoiceLine as CoreInvoiceLine, LineSource, Location, ServiceDate,
};
use billbridge::domain::metadata::MetadataMap;
use billbridge::domain::party::LocationId;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{date, date_text, from_plain, optional_date, to_plain, unsigned};
use crate::errors::{BindingError, OrThrow};
use crate::money::{Currency, CurrencyLike, Money, currency};
use crate::parties::{PayerLike, PayerRef, Practitioner, payer, practitioner, practitioner_out};

/// What a `CatalogueItem` is made from.
#[napi(object, object_to_js = false)]
pub struct CatalogueItemInit {
    /// Catalogue key, e.g. `"follow-up"`.
    pub key: String,
    /// Name (the default line description).
    pub name: String,
    /// Price of one unit.
    pub unit_amount: &'static Money,
    /// Stripe product id, once synced.
    pub stripe_product: Option<String>,
    /// Stripe price id, once synced.
    pub stripe_price: Option<String>,
    /// The host's appointment slot type this item bills.
    pub slot_type: Option<String>,
}

/// An item of the practice's price list.
#[napi]
#[derive(Clone)]
pub struct CatalogueItem(pub(crate) CoreCatalogueItem);

#[napi]
impl CatalogueItem {
    /// `new CatalogueItem({ key: "follow-up", name: "Follow-up session", unitAmount })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: CatalogueItemInit) -> Result<Self> {
        let key = CatalogueKey::new(init.key).or_throw(env)?;
        let mut item = CoreCatalogueItem::new(key, init.name, init.unit_amount.0);
        item.stripe_product = init.stripe_product;
        item.stripe_price = init.stripe_price;
        item.slot_type = init.slot_type;
        Ok(CatalogueItem(item))
    }

    /// Catalogue key.
    #[napi(getter, catch_unwind)]
    pub fn key(&self) -> String {
        self.0.key.as_str().to_owned()
    }

    /// Name (the default line description).
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.0.name.clone()
    }

    /// Price of one unit.
    #[napi(getter, catch_unwind)]
    pub fn unit_amount(&self) -> Money {
        Money(self.0.unit_amount)
    }

    /// Stripe product id, once synced.
    #[napi(getter, catch_unwind)]
    pub fn stripe_product(&self) -> Option<String> {
        self.0.stripe_product.clone()
    }

    /// Stripe price id, once synced.
    #[napi(getter, catch_unwind)]
    pub fn stripe_price(&self) -> Option<String> {
        self.0.stripe_price.clone()
    }

    /// The host's appointment slot type this item bills.
    #[napi(getter, catch_unwind)]
    pub fn slot_type(&self) -> Option<String> {
        self.0.slot_type.clone()
    }
}

/// When and with what metadata a line was served (shared by both line constructors).
#[napi(object, object_to_js = false)]
pub struct LineOptions {
    /// Quantity, at least 1 (default 1).
    pub quantity: Option<f64>,
    /// The description, for a catalogue line (default: the item's name).
    pub description: Option<String>,
    /// The day of service, ISO `"YYYY-MM-DD"`.
    pub service_date: Option<String>,
    /// First and last day of service, ISO dates (not with `serviceDate`).
    pub period: Option<Vec<String>>,
    /// Line metadata.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// What an ad-hoc `InvoiceLine` is made from.
#[napi(object, object_to_js = false)]
pub struct InvoiceLineInit {
    /// Shown to the payer.
    pub description: String,
    /// Price of one unit (negative: a credit line).
    pub unit_amount: &'static Money,
    /// Quantity, at least 1 (default 1).
    pub quantity: Option<f64>,
    /// The day of service, ISO `"YYYY-MM-DD"`.
    pub service_date: Option<String>,
    /// First and last day of service, ISO dates (not with `serviceDate`).
    pub period: Option<Vec<String>>,
    /// Line metadata.
    pub metadata: Option<BTreeMap<String, String>>,
}

/// One invoice line: `quantity × unitAmount` (negative unit amount: a credit).
#[napi]
#[derive(Clone)]
pub struct InvoiceLine(pub(crate) CoreInvoiceLine);

/// The line with its service day or period and metadata, as the core allows them.
fn served(
    env: &Env,
    line: CoreInvoiceLine,
    service_date: Option<&str>,
    period: Option<&[String]>,
    metadata: Option<BTreeMap<String, String>>,
) -> Result<InvoiceLine> {
    let period = match period {
        None => None,
        Some([start, end]) => Some((date(env, start)?, date(env, end)?)),
        Some(_) => {
            return Err(crate::errors::to_js(
                env,
                &BindingError::wrong_type("period is a [first, last] pair of ISO dates"),
            ));
        }
    };
    let mut line = line
        .served(optional_date(env, service_date)?, period)
        .or_throw(env)?;
    line.metadata = metadata.map(MetadataMap::from).unwrap_or_default();
    Ok(InvoiceLine(line))
}

fn quantity(env: &Env, value: Option<f64>) -> Result<u32> {
    value.map_or(Ok(1), |value| unsigned(env, "quantity", value))
}

#[napi]
impl InvoiceLine {
    /// An ad-hoc line: `new InvoiceLine({ description: "Dressing", unitAmount, quantity: 2 })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: InvoiceLineInit) -> Result<Self> {
        let quantity = quantity(env, init.quantity)?;
        let line = CoreInvoiceLine::ad_hoc(init.description, init.unit_amount.0, quantity);
        served(
            env,
            line,
            init.service_date.as_deref(),
            init.period.as_deref(),
            init.metadata,
        )
    }

    /// A line for a catalogue item, its name as description unless one is given.
    #[napi(factory, catch_unwind)]
    pub fn from_catalogue(
        env: &Env,
        item: &CatalogueItem,
        options: Option<LineOptions>,
    ) -> Result<Self> {
        let options = options.unwrap_or(LineOptions {
            quantity: None,
            description: None,
            service_date: None,
            period: None,
            metadata: None,
        });
        let mut line = CoreInvoiceLine::catalogue(&item.0, quantity(env, options.quantity)?);
        if let Some(description) = options.description {
            line = line.described(description);
        }
        served(
            env,
            line,
            options.service_date.as_deref(),
            options.period.as_deref(),
            options.metadata,
        )
    }

    /// Shown to the payer.
    #[napi(getter, catch_unwind)]
    pub fn description(&self) -> String {
        self.0.description.clone()
    }

    /// Quantity (at least 1).
    #[napi(getter, catch_unwind)]
    pub fn quantity(&self) -> u32 {
        self.0.quantity
    }

    /// Price of one unit.
    #[napi(getter, catch_unwind)]
    pub fn unit_amount(&self) -> Money {
        Money(self.0.unit_amount)
    }

    /// `quantity × unitAmount`; throws `ValidationError` (`amount_overflow`).
    #[napi(getter, catch_unwind)]
    pub fn amount(&self, env: &Env) -> Result<Money> {
        self.0.amount().map(Money).or_throw(env)
    }

    /// True for a credit line.
    #[napi(getter, catch_unwind)]
    pub fn is_credit(&self) -> bool {
        self.0.is_credit()
    }

    /// The catalogue key, for a catalogue line.
    #[napi(getter, catch_unwind)]
    pub fn catalogue_key(&self) -> Option<String> {
        match &self.0.source {
            LineSource::Catalogue { key, .. } => Some(key.as_str().to_owned()),
            _ => None,
        }
    }

    /// First and last day of service, ISO dates (the same day twice for a one-day
    /// service).
    #[napi(getter, catch_unwind)]
    pub fn service_dates(&self) -> Option<Vec<String>> {
        let (start, end) = match self.0.service_date {
            Some(ServiceDate::On(day)) => (day, day),
            Some(ServiceDate::Period { start, end }) => (start, end),
            _ => return None,
        };
        Some(vec![date_text(start), date_text(end)])
    }

    /// Line metadata.
    #[napi(getter, catch_unwind)]
    pub fn metadata(&self) -> BTreeMap<String, String> {
        self.0.metadata.as_map().clone()
    }

    /// The line as plain values (the core's JSON form).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }
}

/// What an `AppointmentContext` is made from; every field is optional.
#[napi(object, object_to_js = false)]
pub struct AppointmentContextInit {
    /// Host appointment id.
    pub appointment_id: Option<String>,
    /// Appointment day, ISO `"YYYY-MM-DD"`.
    pub date: Option<String>,
    /// Host location id (with `locationName`).
    pub location_id: Option<String>,
    /// Location name (with `locationId`).
    pub location_name: Option<String>,
    /// The practitioner seen.
    pub practitioner: Option<Practitioner>,
    /// The host's billing-and-collection label.
    pub billing_and_collection: Option<String>,
}

/// The appointment an invoice is for.
#[napi]
#[derive(Clone)]
pub struct AppointmentContext(pub(crate) CoreAppointmentContext);

#[napi]
impl AppointmentContext {
    /// `new AppointmentContext({ appointmentId: "APT-2", date: "2026-01-01" })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: AppointmentContextInit) -> Result<Self> {
        let appointment = init
            .appointment_id
            .map(AppointmentId::new)
            .transpose()
            .or_throw(env)?;
        let location_id = init
            .location_id
            .map(LocationId::new)
            .transpose()
            .or_throw(env)?;
        let location = Location::from_parts(location_id, init.location_name).or_throw(env)?;
        Ok(AppointmentContext(CoreAppointmentContext {
            appointment,
            date: optional_date(env, init.date.as_deref())?,
            location,
            practitioner: init
                .practitioner
                .as_ref()
                .map(|value| practitioner(env, value))
                .transpose()?,
            billing_and_collection: init.billing_and_collection,
        }))
    }

    /// Host appointment id.
    #[napi(getter, catch_unwind)]
    pub fn appointment_id(&self) -> Option<String> {
        self.0.appointment.as_ref().map(|id| id.as_str().to_owned())
    }

    /// Appointment day, ISO.
    #[napi(getter, catch_unwind)]
    pub fn date(&self) -> Option<String> {
        self.0.date.map(date_text)
    }

    /// Location name.
    #[napi(getter, catch_unwind)]
    pub fn location_name(&self) -> Option<String> {
        self.0
            .location
            .as_ref()
            .map(|location| location.name.clone())
    }

    /// The practitioner seen.
    #[napi(getter, catch_unwind)]
    pub fn practitioner(&self) -> Option<Practitioner> {
        self.0.practitioner.as_ref().map(practitioner_out)
    }
}

/// What an `InvoiceDraft` is made from.
#[napi(object, object_to_js = false)]
pub struct InvoiceDraftInit {
    /// A `Patient` (the invoice is about them and their default payer pays), an
    /// `Organisation` or a `PayerRef`.
    pub payer: PayerLike<'static>,
    /// The lines, in order.
    pub lines: Option<Vec<&'static InvoiceLine>>,
    /// The host's id for this invoice (needed to raise it).
    pub host_id: Option<String>,
    /// Who pays, overriding `payer`'s rule.
    pub paid_by: Option<PayerLike<'static>>,
    /// The invoice currency (default: the first line's).
    pub currency: Option<CurrencyLike<'static>>,
    /// Memo shown on the invoice.
    pub memo: Option<String>,
    /// Footer shown on the invoice.
    pub footer: Option<String>,
    /// Days until payment is due (not with `dueOn`).
    pub due_in_days: Option<f64>,
    /// The day payment is due, ISO (not with `dueInDays`).
    pub due_on: Option<String>,
    /// The appointment it is for.
    pub context: Option<&'static AppointmentContext>,
}

/// An invoice being prepared by the host. Editing methods bump `revision`, so a
/// changed draft gets new idempotency keys when raised again.
#[napi]
#[derive(Clone)]
pub struct InvoiceDraft(pub(crate) CoreInvoiceDraft);

#[napi]
impl InvoiceDraft {
    /// `new InvoiceDraft({ payer: patient, lines, hostId: "INV-1", dueInDays: 14 })`;
    /// throws `ValidationError` for options that do not go together
    /// (`conflicting_arguments`) or bad values.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: InvoiceDraftInit) -> Result<Self> {
        let mut draft = match &init.payer {
            Either3::A(patient) => CoreInvoiceDraft::for_patient(&patient.0),
            other => CoreInvoiceDraft::for_payer(payer(other)),
        };
        if let Some(id) = init.host_id {
            draft = draft.host_id(InvoiceId::new(id).or_throw(env)?);
        }
        if let Some(paid_by) = &init.paid_by {
            draft = draft.paid_by(payer(paid_by));
        }
        if let Some(value) = &init.currency {
            draft = draft.currency(currency(env, value)?);
        }
        if let Some(lines) = init.lines {
            draft = draft.lines(lines.into_iter().map(|line| line.0.clone()));
        }
        if let Some(memo) = init.memo {
            draft = draft.memo(memo);
        }
        if let Some(footer) = init.footer {
            draft = draft.footer(footer);
        }
        let days = init
            .due_in_days
            .map(|days| unsigned::<u32>(env, "dueInDays", days))
            .transpose()?;
        draft = draft
            .due(days, optional_date(env, init.due_on.as_deref())?)
            .or_throw(env)?;
        if let Some(context) = init.context {
            draft = draft.context(context.0.clone());
        }
        Ok(InvoiceDraft(draft))
    }

    /// A draft from its JSON form (as `toJSON()` gives it).
    #[napi(factory, js_name = "fromJSON", catch_unwind)]
    pub fn from_json(env: &Env, data: Unknown) -> Result<Self> {
        from_plain(env, data, "invoice draft").map(InvoiceDraft)
    }

    /// The host's id for this invoice.
    #[napi(getter, catch_unwind)]
    pub fn host_id(&self) -> Option<String> {
        self.0.host_id.as_ref().map(|id| id.as_str().to_owned())
    }

    /// Who pays.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.0.payer.clone())
    }

    /// The patient the invoice is about.
    #[napi(getter, catch_unwind)]
    pub fn patient_id(&self) -> Option<String> {
        self.0.subject.as_ref().map(|id| id.as_str().to_owned())
    }

    /// The lines, in order.
    #[napi(getter, catch_unwind)]
    pub fn lines(&self) -> Vec<InvoiceLine> {
        self.0.lines.iter().cloned().map(InvoiceLine).collect()
    }

    /// Memo shown on the invoice.
    #[napi(getter, catch_unwind)]
    pub fn memo(&self) -> Option<String> {
        self.0.memo.clone()
    }

    /// Footer shown on the invoice.
    #[napi(getter, catch_unwind)]
    pub fn footer(&self) -> Option<String> {
        self.0.footer.clone()
    }

    /// `"charge_automatically"` or `"send_invoice"`.
    #[napi(getter, catch_unwind)]
    pub fn collection_method(&self) -> &'static str {
        self.0.collection.as_str()
    }

    /// Incremented on every edit.
    #[napi(getter, catch_unwind)]
    pub fn revision(&self) -> u32 {
        self.0.revision
    }

    /// The invoice currency (the first line's unless set).
    #[napi(getter, catch_unwind)]
    pub fn currency(&self) -> Option<Currency> {
        self.0.invoice_currency().map(Currency)
    }

    /// Σ lines; throws `ValidationError` for mixed currencies or no lines.
    #[napi(catch_unwind)]
    pub fn total(&self, env: &Env) -> Result<Money> {
        self.0.total().map(Money).or_throw(env)
    }

    /// Checks everything Stripe would refuse; returns the total.
    #[napi(catch_unwind)]
    pub fn validate(&self, env: &Env) -> Result<Money> {
        self.0.validate().map(Money).or_throw(env)
    }

    /// Appends a line (bumps `revision`).
    #[napi(catch_unwind)]
    pub fn add_line(&mut self, line: &InvoiceLine) {
        self.0.push_line(line.0.clone());
    }

    /// Removes and returns the line at `index` (bumps `revision`); throws
    /// `ValidationError` (`argument_out_of_range`) when there is no such line.
    #[napi(catch_unwind)]
    pub fn remove_line(&mut self, env: &Env, index: f64) -> Result<InvoiceLine> {
        let index = unsigned::<usize>(env, "index", index)?;
        match self.0.remove_line(index) {
            Some(line) => Ok(InvoiceLine(line)),
            None => Err(crate::errors::to_js(
                env,
                &BindingError::from(billbridge::vocabulary::ArgumentError::OutOfRange {
                    argument: "index",
                    reason: "the index of a line of the draft",
                }),
            )),
        }
    }

    /// Replaces every line (bumps `revision`).
    #[napi(catch_unwind)]
    pub fn replace_lines(&mut self, lines: Vec<&InvoiceLine>) {
        self.0
            .replace_lines(lines.into_iter().map(|line| line.0.clone()).collect());
    }

    /// Sets or clears (`null`) the memo (bumps `revision`).
    #[napi(catch_unwind)]
    pub fn set_memo(&mut self, memo: Option<String>) {
        self.0.set_memo(memo);
    }

    /// The draft as plain values (the core's JSON form).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }

    /// `InvoiceDraft(INV-1, 2 lines, revision 0)`.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        format!(
            "InvoiceDraft({}, {} lines, revision {})",
            self.0
                .host_id
                .as_ref()
                .map_or("no host id", |id| id.as_str()),
            self.0.lines.len(),
            self.0.revision
        )
    }
}

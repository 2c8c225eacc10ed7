//! Patients, organisations, practitioners and payer references. Constructors take one
//! plain options object and call the core's constructors and checks; `toString()`
//! shows host ids only, never personal data (it ends up in logs).

use billbridge::domain::party::{
    Organisation as CoreOrganisation, OrganisationId, Party, Patient as CorePatient, PatientId,
    PayerRef as CorePayerRef, Practitioner as CorePractitioner, PractitionerId,
};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{date_text, from_plain, optional_date, to_plain};
use crate::errors::OrThrow;

/// A practitioner as invoices and metadata name them.
#[napi(object)]
#[derive(Clone)]
pub struct Practitioner {
    /// Host id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The core practitioner of a plain `{ id, name }`.
pub fn practitioner(env: &Env, value: &Practitioner) -> Result<CorePractitioner> {
    let id = PractitionerId::new(value.id.as_str()).or_throw(env)?;
    Ok(CorePractitioner::new(id, value.name.as_str()))
}

/// The plain form of a core practitioner.
pub fn practitioner_out(value: &CorePractitioner) -> Practitioner {
    Practitioner {
        id: value.id.as_str().to_owned(),
        name: value.name.clone(),
    }
}

/// Who pays an invoice: a patient or an organisation, by host id.
#[napi]
#[derive(Clone)]
pub struct PayerRef(pub(crate) CorePayerRef);

#[napi]
impl PayerRef {
    /// A patient pays.
    #[napi(factory, catch_unwind)]
    pub fn patient(env: &Env, id: String) -> Result<Self> {
        let id = PatientId::new(id).or_throw(env)?;
        Ok(PayerRef(CorePayerRef::Patient(id)))
    }

    /// An organisation pays.
    #[napi(factory, catch_unwind)]
    pub fn organisation(env: &Env, id: String) -> Result<Self> {
        let id = OrganisationId::new(id).or_throw(env)?;
        Ok(PayerRef(CorePayerRef::Organisation(id)))
    }

    /// `"patient"` or `"organisation"`.
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// The host id.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.0.host_id().to_owned()
    }

    /// Same kind and id.
    #[napi(catch_unwind)]
    pub fn equals(&self, other: &PayerRef) -> bool {
        self.0 == other.0
    }

    /// `"patient:P-1001"`.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        self.0.to_string()
    }

    /// `{ kind, id }`.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }
}

/// A payer given as a `Patient` (the patient pays), an `Organisation` or a `PayerRef`.
pub type PayerLike<'a> = Either3<&'a Patient, &'a Organisation, &'a PayerRef>;

/// The core payer of a `PayerLike`.
pub fn payer(value: &PayerLike) -> CorePayerRef {
    match value {
        Either3::A(patient) => CorePayerRef::Patient(patient.0.id.clone()),
        Either3::B(organisation) => CorePayerRef::Organisation(organisation.0.id.clone()),
        Either3::C(payer) => payer.0.clone(),
    }
}

/// A party given as a `Patient` or an `Organisation`.
pub type PartyLike<'a> = Either<&'a Patient, &'a Organisation>;

/// The core party of a `PartyLike`.
pub fn party(value: &PartyLike) -> Party {
    match value {
        Either::A(patient) => Party::Patient(patient.0.clone()),
        Either::B(organisation) => Party::Organisation(organisation.0.clone()),
    }
}

/// What a `Patient` is made from.
#[napi(object)]
pub struct PatientInit {
    /// Host id, e.g. `"P-1001"`.
    pub id: String,
    /// Given (first) name.
    pub given_name: String,
    /// Family (last) name.
    pub family_name: String,
    /// Date of birth, ISO `"YYYY-MM-DD"`.
    pub date_of_birth: Option<String>,
    /// Gender as the host records it.
    pub gender: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Registered practitioner.
    pub registered_practitioner: Option<Practitioner>,
    /// Host id of the organisation that pays this patient's invoices by default.
    pub default_payer: Option<String>,
}

/// A patient (or client) of the practice.
#[napi]
#[derive(Clone)]
pub struct Patient(pub(crate) CorePatient);

#[napi]
impl Patient {
    /// `new Patient({ id: "P-1001", givenName: "John", familyName: "Deer" })`; throws
    /// `ValidationError` for an empty id, a bad date or an over-long field.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: PatientInit) -> Result<Self> {
        let id = PatientId::new(init.id).or_throw(env)?;
        let mut patient = CorePatient::new(id, init.given_name, init.family_name);
        patient.date_of_birth = optional_date(env, init.date_of_birth.as_deref())?;
        patient.gender = init.gender.map(Into::into);
        patient.mobile = init.mobile;
        patient.email = init.email;
        patient.postcode = init.postcode;
        patient.registered_practitioner = init
            .registered_practitioner
            .as_ref()
            .map(|value| practitioner(env, value))
            .transpose()?;
        patient.default_payer = init
            .default_payer
            .map(OrganisationId::new)
            .transpose()
            .or_throw(env)?;
        patient.validate().or_throw(env)?;
        Ok(Patient(patient))
    }

    /// A patient from its JSON form (as `toJSON()` gives it).
    #[napi(factory, js_name = "fromJSON", catch_unwind)]
    pub fn from_json(env: &Env, data: Unknown) -> Result<Self> {
        let patient: CorePatient = from_plain(env, data, "patient")?;
        patient.validate().or_throw(env)?;
        Ok(Patient(patient))
    }

    /// Host id.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.0.id.as_str().to_owned()
    }

    /// Given (first) name.
    #[napi(getter, catch_unwind)]
    pub fn given_name(&self) -> String {
        self.0.given_name.clone()
    }

    /// Family (last) name.
    #[napi(getter, catch_unwind)]
    pub fn family_name(&self) -> String {
        self.0.family_name.clone()
    }

    /// "Given Family".
    #[napi(getter, catch_unwind)]
    pub fn full_name(&self) -> String {
        self.0.full_name()
    }

    /// Date of birth, ISO `"YYYY-MM-DD"`.
    #[napi(getter, catch_unwind)]
    pub fn date_of_birth(&self) -> Option<String> {
        self.0.date_of_birth.map(date_text)
    }

    /// Gender as the host records it.
    #[napi(getter, catch_unwind)]
    pub fn gender(&self) -> Option<String> {
        self.0
            .gender
            .as_ref()
            .map(|gender| gender.as_str().to_owned())
    }

    /// Mobile number.
    #[napi(getter, catch_unwind)]
    pub fn mobile(&self) -> Option<String> {
        self.0.mobile.clone()
    }

    /// Email.
    #[napi(getter, catch_unwind)]
    pub fn email(&self) -> Option<String> {
        self.0.email.clone()
    }

    /// Postcode.
    #[napi(getter, catch_unwind)]
    pub fn postcode(&self) -> Option<String> {
        self.0.postcode.clone()
    }

    /// Registered practitioner.
    #[napi(getter, catch_unwind)]
    pub fn registered_practitioner(&self) -> Option<Practitioner> {
        self.0
            .registered_practitioner
            .as_ref()
            .map(practitioner_out)
    }

    /// Host id of the default payer organisation.
    #[napi(getter, catch_unwind)]
    pub fn default_payer(&self) -> Option<String> {
        self.0
            .default_payer
            .as_ref()
            .map(|id| id.as_str().to_owned())
    }

    /// Who pays this patient's invoices by default.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(self.0.payer())
    }

    /// The patient as plain values (the core's JSON form).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }

    /// `Patient(P-1001)`: the id only, personal data stays out of logs.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        format!("Patient({})", self.0.id.as_str())
    }
}

/// What an `Organisation` is made from.
#[napi(object)]
pub struct OrganisationInit {
    /// Host id, e.g. `"ORG-1"`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Billing email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// An organisation that can pay invoices (insurer, employer, charity).
#[napi]
#[derive(Clone)]
pub struct Organisation(pub(crate) CoreOrganisation);

#[napi]
impl Organisation {
    /// `new Organisation({ id: "ORG-1", name: "Northwind Insurance" })`.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, init: OrganisationInit) -> Result<Self> {
        let id = OrganisationId::new(init.id).or_throw(env)?;
        let mut organisation = CoreOrganisation::new(id, init.name);
        organisation.email = init.email;
        organisation.phone = init.phone;
        organisation.validate().or_throw(env)?;
        Ok(Organisation(organisation))
    }

    /// An organisation from its JSON form.
    #[napi(factory, js_name = "fromJSON", catch_unwind)]
    pub fn from_json(env: &Env, data: Unknown) -> Result<Self> {
        let organisation: CoreOrganisation = from_plain(env, data, "organisation")?;
        organisation.validate().or_throw(env)?;
        Ok(Organisation(organisation))
    }

    /// Host id.
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.0.id.as_str().to_owned()
    }

    /// Name.
    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> String {
        self.0.name.clone()
    }

    /// Billing email.
    #[napi(getter, catch_unwind)]
    pub fn email(&self) -> Option<String> {
        self.0.email.clone()
    }

    /// Phone.
    #[napi(getter, catch_unwind)]
    pub fn phone(&self) -> Option<String> {
        self.0.phone.clone()
    }

    /// The reference that names this organisation as payer.
    #[napi(getter, catch_unwind)]
    pub fn payer(&self) -> PayerRef {
        PayerRef(CorePayerRef::Organisation(self.0.id.clone()))
    }

    /// The organisation as plain values (the core's JSON form).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        to_plain(env, &self.0)
    }

    /// `Organisation(ORG-1)`.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        format!("Organisation({})", self.0.id.as_str())
    }
}

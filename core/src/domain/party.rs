//! Who invoices are for and who pays them, as the host knows them: [`Patient`],
//! [`Organisation`], the [`Party`] enum of both and [`PayerRef`]; the typed host-id
//! newtypes used across the domain; and the validation of contact fields against
//! Stripe's customer limits (email ≤ 512 characters, phone ≤ 20).

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::date::Date;
use crate::classify::{Classify, ErrorCategory};
use crate::redact::{Redacted, redacted};

/// Stripe's limit on a customer's `email`.
pub const MAX_EMAIL_CHARS: usize = 512;
/// Stripe's limit on a customer's `phone`.
pub const MAX_PHONE_CHARS: usize = 20;
/// Longest host id accepted. Ids travel in metadata values (≤ 500 characters) and
/// idempotency keys are hashed from them, so this leaves room to spare.
pub const MAX_HOST_ID_CHARS: usize = 255;

/// Errors about parties and host ids. Messages never quote names, emails or phones.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PartyError {
    /// A host id is empty, too long, or has surrounding whitespace or control characters.
    #[error("invalid {kind} id: {reason}")]
    InvalidHostId {
        /// Which kind of id (`"patient"`, `"organisation"`, …).
        kind: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A required name is empty.
    #[error("{kind} has no name")]
    MissingName {
        /// `"patient"` or `"organisation"`.
        kind: &'static str,
    },
    /// The email is longer than Stripe accepts.
    #[error("email is {length} characters, Stripe accepts at most {max}")]
    EmailTooLong {
        /// Length in characters.
        length: usize,
        /// Stripe's limit.
        max: usize,
    },
    /// The email is not of the form `local@domain` without spaces.
    #[error("email is not a valid address")]
    InvalidEmail,
    /// The phone number is longer than Stripe accepts.
    #[error("phone is {length} characters, Stripe accepts at most {max}")]
    PhoneTooLong {
        /// Length in characters.
        length: usize,
        /// Stripe's limit.
        max: usize,
    },
    /// The phone number is empty or holds characters other than digits, spaces and `+-()`.
    #[error("phone is not a valid number")]
    InvalidPhone,
}

impl Classify for PartyError {
    fn code(&self) -> &'static str {
        match self {
            PartyError::InvalidHostId { .. } => "invalid_host_id",
            PartyError::MissingName { .. } => "missing_name",
            PartyError::EmailTooLong { .. } => "email_too_long",
            PartyError::InvalidEmail => "invalid_email",
            PartyError::PhoneTooLong { .. } => "phone_too_long",
            PartyError::InvalidPhone => "invalid_phone",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

pub(crate) fn check_host_id(kind: &'static str, id: &str) -> Result<(), PartyError> {
    let invalid = |reason| PartyError::InvalidHostId { kind, reason };
    if id.is_empty() {
        return Err(invalid("empty"));
    }
    if id.chars().count() > MAX_HOST_ID_CHARS {
        return Err(invalid("longer than 255 characters"));
    }
    if id.trim() != id {
        return Err(invalid("leading or trailing whitespace"));
    }
    if id.chars().any(char::is_control) {
        return Err(invalid("control characters"));
    }
    Ok(())
}

/// Defines a validated host-id newtype: non-empty, at most 255 characters, no
/// surrounding whitespace, no control characters; serialises as a plain string.
macro_rules! host_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("A ", $kind, " id as the host stores it.")]
            ///
            /// # Errors
            /// [`PartyError::InvalidHostId`](crate::domain::party::PartyError::InvalidHostId)
            /// when empty, over 255 characters, padded with whitespace or holding
            /// control characters.
            pub fn new(id: impl Into<String>) -> Result<Self, crate::domain::party::PartyError> {
                let id = id.into();
                crate::domain::party::check_host_id($kind, &id)?;
                Ok($name(id))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = crate::domain::party::PartyError;

            fn try_from(id: String) -> Result<Self, Self::Error> {
                $name::new(id)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = crate::domain::party::PartyError;

            fn try_from(id: &str) -> Result<Self, Self::Error> {
                $name::new(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use host_id;

host_id!(
    /// The host's id for a patient (client).
    PatientId,
    "patient"
);
host_id!(
    /// The host's id for an organisation (insurer, employer, charity).
    OrganisationId,
    "organisation"
);
host_id!(
    /// The host's id for a practitioner.
    PractitionerId,
    "practitioner"
);
host_id!(
    /// The host's id for a practice location.
    LocationId,
    "location"
);

/// A practitioner as invoices and metadata name them.
///
/// `Debug` shows the host id, not the name.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Practitioner {
    /// Host id.
    pub id: PractitionerId,
    /// Display name, e.g. "Dr Amara Okafor".
    pub name: String,
}

impl Practitioner {
    /// A practitioner with a display name.
    pub fn new(id: PractitionerId, name: impl Into<String>) -> Practitioner {
        Practitioner {
            id,
            name: name.into(),
        }
    }
}

impl fmt::Debug for Practitioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Practitioner { id, name: _ } = self;
        f.debug_struct("Practitioner")
            .field("id", id)
            .field("name", &Redacted)
            .finish()
    }
}

/// A patient's gender as recorded by the host. Unrecognised values are kept verbatim in
/// [`Gender::Other`], so no host value is ever refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Gender {
    /// `"male"`.
    Male,
    /// `"female"`.
    Female,
    /// `"non-binary"`.
    NonBinary,
    /// Any other value, as the host wrote it.
    Other(String),
}

impl Gender {
    /// The value as sent to Stripe metadata.
    pub fn as_str(&self) -> &str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::NonBinary => "non-binary",
            Gender::Other(other) => other,
        }
    }
}

impl From<String> for Gender {
    fn from(value: String) -> Self {
        match value.to_ascii_lowercase().as_str() {
            "male" => Gender::Male,
            "female" => Gender::Female,
            "non-binary" | "nonbinary" | "non_binary" => Gender::NonBinary,
            _ => Gender::Other(value),
        }
    }
}

impl From<&str> for Gender {
    fn from(value: &str) -> Self {
        Gender::from(value.to_owned())
    }
}

impl From<Gender> for String {
    fn from(gender: Gender) -> Self {
        match gender {
            Gender::Other(other) => other,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn check_email(email: &str) -> Result<(), PartyError> {
    let length = email.chars().count();
    if length > MAX_EMAIL_CHARS {
        return Err(PartyError::EmailTooLong {
            length,
            max: MAX_EMAIL_CHARS,
        });
    }
    let well_formed = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if well_formed {
        Ok(())
    } else {
        Err(PartyError::InvalidEmail)
    }
}

fn check_phone(phone: &str) -> Result<(), PartyError> {
    let length = phone.chars().count();
    if length > MAX_PHONE_CHARS {
        return Err(PartyError::PhoneTooLong {
            length,
            max: MAX_PHONE_CHARS,
        });
    }
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')');
    if phone.chars().any(|c| c.is_ascii_digit()) && phone.chars().all(allowed) {
        Ok(())
    } else {
        Err(PartyError::InvalidPhone)
    }
}

/// A patient (client) of the practice.
///
/// `Debug` shows the host id and which fields are filled in, never their values: a
/// patient's name, birth date or contact details must not reach a log by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    /// Host id.
    pub id: PatientId,
    /// Given (first) name.
    pub given_name: String,
    /// Family (last) name.
    pub family_name: String,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
    /// Gender as the host records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    /// Mobile number (becomes the customer's phone; ≤ 20 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile: Option<String>,
    /// Email (≤ 512 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Postcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// The practitioner the patient is registered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_practitioner: Option<Practitioner>,
    /// The organisation that pays this patient's invoices unless told otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_payer: Option<OrganisationId>,
}

impl Patient {
    /// A patient with a name and nothing else; add the rest with the `with_` methods.
    pub fn new(
        id: PatientId,
        given_name: impl Into<String>,
        family_name: impl Into<String>,
    ) -> Patient {
        Patient {
            id,
            given_name: given_name.into(),
            family_name: family_name.into(),
            date_of_birth: None,
            gender: None,
            mobile: None,
            email: None,
            postcode: None,
            registered_practitioner: None,
            default_payer: None,
        }
    }

    /// Sets the date of birth.
    pub fn with_date_of_birth(mut self, date: Date) -> Patient {
        self.date_of_birth = Some(date);
        self
    }

    /// Sets the gender.
    pub fn with_gender(mut self, gender: impl Into<Gender>) -> Patient {
        self.gender = Some(gender.into());
        self
    }

    /// Sets the mobile number.
    pub fn with_mobile(mut self, mobile: impl Into<String>) -> Patient {
        self.mobile = Some(mobile.into());
        self
    }

    /// Sets the email.
    pub fn with_email(mut self, email: impl Into<String>) -> Patient {
        self.email = Some(email.into());
        self
    }

    /// Sets the postcode.
    pub fn with_postcode(mut self, postcode: impl Into<String>) -> Patient {
        self.postcode = Some(postcode.into());
        self
    }

    /// Sets the registered practitioner.
    pub fn with_registered_practitioner(mut self, practitioner: Practitioner) -> Patient {
        self.registered_practitioner = Some(practitioner);
        self
    }

    /// Sets the default payer organisation.
    pub fn with_default_payer(mut self, organisation: OrganisationId) -> Patient {
        self.default_payer = Some(organisation);
        self
    }

    /// "Given Family", skipping an empty part.
    pub fn full_name(&self) -> String {
        let given = self.given_name.trim();
        let family = self.family_name.trim();
        match (given.is_empty(), family.is_empty()) {
            (false, false) => format!("{given} {family}"),
            (false, true) => given.to_owned(),
            (true, _) => family.to_owned(),
        }
    }

    /// Who pays this patient's invoices by default: the default payer organisation if
    /// set, else the patient.
    pub fn payer(&self) -> PayerRef {
        match &self.default_payer {
            Some(organisation) => PayerRef::Organisation(organisation.clone()),
            None => PayerRef::Patient(self.id.clone()),
        }
    }

    /// Checks the fields Stripe constrains.
    ///
    /// # Errors
    /// [`PartyError::MissingName`] when both names are blank; email and phone errors as
    /// their limits say.
    pub fn validate(&self) -> Result<(), PartyError> {
        if self.full_name().is_empty() {
            return Err(PartyError::MissingName { kind: "patient" });
        }
        if let Some(email) = &self.email {
            check_email(email)?;
        }
        if let Some(mobile) = &self.mobile {
            check_phone(mobile)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Patient")
            .field("id", &self.id)
            .field("given_name", &Redacted)
            .field("family_name", &Redacted)
            .field("date_of_birth", &redacted(&self.date_of_birth))
            .field("gender", &redacted(&self.gender))
            .field("mobile", &redacted(&self.mobile))
            .field("email", &redacted(&self.email))
            .field("postcode", &redacted(&self.postcode))
            .field("registered_practitioner", &self.registered_practitioner)
            .field("default_payer", &self.default_payer)
            .finish()
    }
}

/// An organisation that can pay invoices (insurer, employer, charity).
///
/// `Debug` shows the host id and which fields are filled in: an organisation's name and
/// contact details can name a person (a family trust, a sole trader, a contact's email).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Host id.
    pub id: OrganisationId,
    /// Name.
    pub name: String,
    /// Billing email (≤ 512 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone (≤ 20 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Organisation {
    /// An organisation with a name.
    pub fn new(id: OrganisationId, name: impl Into<String>) -> Organisation {
        Organisation {
            id,
            name: name.into(),
            email: None,
            phone: None,
        }
    }

    /// Sets the email.
    pub fn with_email(mut self, email: impl Into<String>) -> Organisation {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone.
    pub fn with_phone(mut self, phone: impl Into<String>) -> Organisation {
        self.phone = Some(phone.into());
        self
    }

    /// Checks the fields Stripe constrains.
    ///
    /// # Errors
    /// [`PartyError::MissingName`], email and phone errors.
    pub fn validate(&self) -> Result<(), PartyError> {
        if self.name.trim().is_empty() {
            return Err(PartyError::MissingName {
                kind: "organisation",
            });
        }
        if let Some(email) = &self.email {
            check_email(email)?;
        }
        if let Some(phone) = &self.phone {
            check_phone(phone)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Organisation {
            id,
            name: _,
            email,
            phone,
        } = self;
        f.debug_struct("Organisation")
            .field("id", id)
            .field("name", &Redacted)
            .field("email", &redacted(email))
            .field("phone", &redacted(phone))
            .finish()
    }
}

/// Anyone who can become a Stripe customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Party {
    /// A patient paying for themselves.
    Patient(Patient),
    /// An organisation.
    Organisation(Organisation),
}

impl Party {
    /// The reference invoices use to name this party as payer.
    pub fn payer_ref(&self) -> PayerRef {
        match self {
            Party::Patient(patient) => PayerRef::Patient(patient.id.clone()),
            Party::Organisation(organisation) => PayerRef::Organisation(organisation.id.clone()),
        }
    }

    /// Display name (the customer's `name`).
    pub fn name(&self) -> String {
        match self {
            Party::Patient(patient) => patient.full_name(),
            Party::Organisation(organisation) => organisation.name.clone(),
        }
    }

    /// Email, if any.
    pub fn email(&self) -> Option<&str> {
        match self {
            Party::Patient(patient) => patient.email.as_deref(),
            Party::Organisation(organisation) => organisation.email.as_deref(),
        }
    }

    /// Phone (a patient's mobile), if any.
    pub fn phone(&self) -> Option<&str> {
        match self {
            Party::Patient(patient) => patient.mobile.as_deref(),
            Party::Organisation(organisation) => organisation.phone.as_deref(),
        }
    }

    /// Checks the fields Stripe constrains.
    ///
    /// # Errors
    /// As [`Patient::validate`] or [`Organisation::validate`].
    pub fn validate(&self) -> Result<(), PartyError> {
        match self {
            Party::Patient(patient) => patient.validate(),
            Party::Organisation(organisation) => organisation.validate(),
        }
    }
}

impl From<Patient> for Party {
    fn from(patient: Patient) -> Self {
        Party::Patient(patient)
    }
}

impl From<Organisation> for Party {
    fn from(organisation: Organisation) -> Self {
        Party::Organisation(organisation)
    }
}

/// Who pays an invoice: a patient or an organisation, by host id. Serialises as
/// `{"kind": "patient", "id": "P-1001"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum PayerRef {
    /// A patient pays.
    Patient(PatientId),
    /// An organisation pays.
    Organisation(OrganisationId),
}

impl PayerRef {
    /// The host id as text.
    pub fn host_id(&self) -> &str {
        match self {
            PayerRef::Patient(id) => id.as_str(),
            PayerRef::Organisation(id) => id.as_str(),
        }
    }

    /// `"patient"` or `"organisation"`.
    pub fn kind(&self) -> &'static str {
        match self {
            PayerRef::Patient(_) => "patient",
            PayerRef::Organisation(_) => "organisation",
        }
    }
}

impl fmt::Display for PayerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.host_id())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn patient_debug_shows_the_id_but_no_personal_data() {
        let patient = Patient::new(PatientId::new("P-1001").unwrap(), "John", "Deer")
            .with_date_of_birth(Date::parse("1971-03-02").unwrap())
            .with_mobile("+447700900101")
            .with_email("john.deer@example.com")
            .with_postcode("BS1 4DJ");
        let shown = format!("{patient:?}");
        assert!(shown.contains("P-1001"), "{shown}");
        for personal in ["John", "Deer", "1971", "+447700900101", "john.deer", "BS1"] {
            assert!(!shown.contains(personal), "{personal} leaked into {shown}");
        }
    }

    use super::*;

    fn john() -> Patient {
        Patient::new(PatientId::new("P-1001").unwrap(), "John", "Deer")
            .with_date_of_birth(Date::parse("1971-03-02").unwrap())
            .with_gender("male")
            .with_mobile("+447700900101")
            .with_email("john.deer@example.com")
            .with_postcode("BS1 4DJ")
            .with_registered_practitioner(Practitioner::new(
                PractitionerId::new("PR-1").unwrap(),
                "Dr Amara Okafor",
            ))
    }

    #[test]
    fn host_ids_are_validated() {
        assert!(PatientId::new("P-1001").is_ok());
        for bad in ["", " P-1", "P-1 ", "P\n1"] {
            let error = PatientId::new(bad).unwrap_err();
            assert_eq!(error.code(), "invalid_host_id", "{bad:?}");
        }
        assert!(PatientId::new("x".repeat(256)).is_err());
        assert!(PatientId::new("x".repeat(255)).is_ok());
        assert!(serde_json::from_str::<PatientId>("\"\"").is_err());
        assert_eq!(
            serde_json::to_string(&OrganisationId::new("ORG-1").unwrap()).unwrap(),
            "\"ORG-1\""
        );
    }

    #[test]
    fn full_name_joins_given_and_family() {
        assert_eq!(john().full_name(), "John Deer");
        let mononym = Patient::new(PatientId::new("P-9").unwrap(), "Aiko", " ");
        assert_eq!(mononym.full_name(), "Aiko");
        let nameless = Patient::new(PatientId::new("P-9").unwrap(), "", "");
        assert_eq!(nameless.validate().unwrap_err().code(), "missing_name");
    }

    #[test]
    fn gender_is_forward_compatible() {
        assert_eq!(Gender::from("non-binary"), Gender::NonBinary);
        assert_eq!(Gender::from("Female"), Gender::Female);
        let other = Gender::from("prefers not to say");
        assert_eq!(other, Gender::Other("prefers not to say".into()));
        assert_eq!(
            serde_json::to_string(&other).unwrap(),
            "\"prefers not to say\""
        );
    }

    #[test]
    fn payer_is_the_default_payer_organisation_when_set() {
        assert_eq!(
            john().payer(),
            PayerRef::Patient(PatientId::new("P-1001").unwrap())
        );
        let maria = Patient::new(PatientId::new("P-1002").unwrap(), "María", "López")
            .with_default_payer(OrganisationId::new("ORG-1").unwrap());
        assert_eq!(
            maria.payer(),
            PayerRef::Organisation(OrganisationId::new("ORG-1").unwrap())
        );
    }

    #[test]
    fn contact_fields_follow_stripe_limits() {
        assert!(john().validate().is_ok());
        let long_email = format!("{}@example.com", "a".repeat(501));
        let error = john().with_email(long_email).validate().unwrap_err();
        assert_eq!(error.code(), "email_too_long");
        assert!(
            !error.to_string().contains("aaaa"),
            "no personal data in messages"
        );
        assert_eq!(
            john()
                .with_email("not-an-email")
                .validate()
                .unwrap_err()
                .code(),
            "invalid_email"
        );
        assert_eq!(
            john()
                .with_mobile("+44 7700 900101 ext 12345")
                .validate()
                .unwrap_err()
                .code(),
            "phone_too_long"
        );
        assert_eq!(
            john().with_mobile("call me").validate().unwrap_err().code(),
            "invalid_phone"
        );
        let organisation = Organisation::new(OrganisationId::new("ORG-1").unwrap(), "Northwind")
            .with_phone("0".repeat(21));
        assert_eq!(
            organisation.validate().unwrap_err().code(),
            "phone_too_long"
        );
    }

    #[test]
    fn party_and_payer_serialise_with_a_kind_tag() {
        let party = Party::from(john());
        let json = serde_json::to_value(&party).unwrap();
        assert_eq!(json["kind"], "patient");
        assert_eq!(json["gender"], "male");
        assert_eq!(serde_json::from_value::<Party>(json).unwrap(), party);
        let payer = party.payer_ref();
        assert_eq!(
            serde_json::to_string(&payer).unwrap(),
            r#"{"kind":"patient","id":"P-1001"}"#
        );
        assert_eq!(payer.to_string(), "patient:P-1001");
        assert_eq!(party.name(), "John Deer");
        assert_eq!(party.phone(), Some("+447700900101"));
    }
}

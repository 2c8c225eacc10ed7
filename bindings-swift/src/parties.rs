//! Patients, organisations, practitioners and who pays, as plain records, and their
//! conversion into the core's types, where every check is the core's (host ids,
//! names, email and phone lengths). Records holding personal data print their host id
//! only (`toString()` in Kotlin, `description` in Swift), so a logged value leaks
//! nothing.

use std::fmt;

use billbridge::domain::party::{
    Organisation as CoreOrganisation, OrganisationId, Party as CoreParty, Patient as CorePatient,
    PatientId, PayerRef as CorePayerRef, Practitioner as CorePractitioner, PractitionerId,
};
use billbridge::store::PartyKind as CorePartyKind;

use crate::error::BillbridgeError;
use crate::money::optional_day;

/// A practitioner as invoices and metadata name them. Printing it shows the host id
/// only: the name is a person's.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct Practitioner {
    /// The host's id of the practitioner.
    pub id: String,
    /// Display name, e.g. "Dr Amara Okafor".
    pub name: String,
}

impl fmt::Debug for Practitioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Practitioner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Practitioner(id={:?})", self.id)
    }
}

impl Practitioner {
    pub(crate) fn to_core(&self) -> Result<CorePractitioner, BillbridgeError> {
        Ok(CorePractitioner::new(
            PractitionerId::new(&self.id)?,
            &self.name,
        ))
    }

    #[cfg(test)]
    pub(crate) fn from_core(practitioner: &CorePractitioner) -> Practitioner {
        Practitioner {
            id: practitioner.id.as_str().to_owned(),
            name: practitioner.name.clone(),
        }
    }
}

/// A patient (client) of the practice. Only `id`, `givenName` and `familyName` are
/// required; the rest default to none.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct Patient {
    /// The host's id of the patient (1–255 characters, no surrounding whitespace).
    pub id: String,
    /// Given (first) name.
    pub given_name: String,
    /// Family (last) name.
    pub family_name: String,
    /// Date of birth, `YYYY-MM-DD`.
    #[uniffi(default = None)]
    pub date_of_birth: Option<String>,
    /// Gender as the host records it.
    #[uniffi(default = None)]
    pub gender: Option<String>,
    /// Mobile number (becomes the Stripe customer's phone; at most 20 characters).
    #[uniffi(default = None)]
    pub mobile: Option<String>,
    /// Email (at most 512 characters); Stripe sends invoices here.
    #[uniffi(default = None)]
    pub email: Option<String>,
    /// Postcode, any country's format.
    #[uniffi(default = None)]
    pub postcode: Option<String>,
    /// The practitioner the patient is registered with.
    #[uniffi(default = None)]
    pub registered_practitioner: Option<Practitioner>,
    /// The host id of the organisation that pays this patient's invoices by default.
    #[uniffi(default = None)]
    pub default_payer: Option<String>,
}

impl fmt::Debug for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names, birth dates and contact details must not reach a log by accident.
        f.debug_struct("Patient")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Patient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Patient(id={:?})", self.id)
    }
}

impl Patient {
    /// The core's patient, checked as the core checks a patient before syncing it.
    pub(crate) fn to_core(&self) -> Result<CorePatient, BillbridgeError> {
        let mut patient = CorePatient::new(
            PatientId::new(&self.id)?,
            &self.given_name,
            &self.family_name,
        );
        patient.date_of_birth = optional_day(self.date_of_birth.as_ref())?;
        patient.gender = self.gender.clone().map(Into::into);
        patient.mobile = self.mobile.clone();
        patient.email = self.email.clone();
        patient.postcode = self.postcode.clone();
        patient.registered_practitioner = self
            .registered_practitioner
            .as_ref()
            .map(Practitioner::to_core)
            .transpose()?;
        patient.default_payer = self
            .default_payer
            .as_ref()
            .map(OrganisationId::new)
            .transpose()?;
        patient.validate()?;
        Ok(patient)
    }

    #[cfg(test)]
    pub(crate) fn from_core(patient: &CorePatient) -> Patient {
        Patient {
            id: patient.id.as_str().to_owned(),
            given_name: patient.given_name.clone(),
            family_name: patient.family_name.clone(),
            date_of_birth: patient.date_of_birth.map(crate::money::day_text),
            gender: patient
                .gender
                .as_ref()
                .map(|gender| gender.as_str().to_owned()),
            mobile: patient.mobile.clone(),
            email: patient.email.clone(),
            postcode: patient.postcode.clone(),
            registered_practitioner: patient
                .registered_practitioner
                .as_ref()
                .map(Practitioner::from_core),
            default_payer: patient
                .default_payer
                .as_ref()
                .map(|id| id.as_str().to_owned()),
        }
    }
}

/// An organisation that can pay invoices: insurer, employer, charity, another practice.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct Organisation {
    /// The host's id of the organisation.
    pub id: String,
    /// Name (required).
    pub name: String,
    /// Billing email (at most 512 characters).
    #[uniffi(default = None)]
    pub email: Option<String>,
    /// Phone (at most 20 characters).
    #[uniffi(default = None)]
    pub phone: Option<String>,
}

impl fmt::Debug for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Organisation")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Organisation(id={:?})", self.id)
    }
}

impl Organisation {
    /// The core's organisation, checked.
    pub(crate) fn to_core(&self) -> Result<CoreOrganisation, BillbridgeError> {
        let mut organisation = CoreOrganisation::new(OrganisationId::new(&self.id)?, &self.name);
        organisation.email = self.email.clone();
        organisation.phone = self.phone.clone();
        organisation.validate()?;
        Ok(organisation)
    }
}

/// A host party that becomes a Stripe customer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Party {
    /// A patient, who pays their own invoices unless another payer is set.
    Patient {
        /// The patient.
        patient: Patient,
    },
    /// An organisation.
    Organisation {
        /// The organisation.
        organisation: Organisation,
    },
}

impl Party {
    pub(crate) fn to_core(&self) -> Result<CoreParty, BillbridgeError> {
        Ok(match self {
            Party::Patient { patient } => CoreParty::Patient(patient.to_core()?),
            Party::Organisation { organisation } => {
                CoreParty::Organisation(organisation.to_core()?)
            }
        })
    }
}

/// Who pays an invoice: a patient or an organisation, by host id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PayerRef {
    /// A patient pays.
    Patient {
        /// The host's id of the patient.
        id: String,
    },
    /// An organisation pays.
    Organisation {
        /// The host's id of the organisation.
        id: String,
    },
}

impl PayerRef {
    pub(crate) fn to_core(&self) -> Result<CorePayerRef, BillbridgeError> {
        Ok(match self {
            PayerRef::Patient { id } => CorePayerRef::Patient(PatientId::new(id)?),
            PayerRef::Organisation { id } => CorePayerRef::Organisation(OrganisationId::new(id)?),
        })
    }

    pub(crate) fn from_core(payer: &CorePayerRef) -> PayerRef {
        match payer {
            CorePayerRef::Patient(id) => PayerRef::Patient {
                id: id.as_str().to_owned(),
            },
            CorePayerRef::Organisation(id) => PayerRef::Organisation {
                id: id.as_str().to_owned(),
            },
        }
    }
}

/// Whether a host id names a patient or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PartyKind {
    /// A patient (or client).
    Patient,
    /// An organisation.
    Organisation,
}

impl From<CorePartyKind> for PartyKind {
    fn from(kind: CorePartyKind) -> Self {
        match kind {
            CorePartyKind::Patient => PartyKind::Patient,
            CorePartyKind::Organisation => PartyKind::Organisation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patient_round_trips_and_is_checked_by_the_core() {
        let patient = Patient {
            id: "P-1001".into(),
            given_name: "John".into(),
            family_name: "Deer".into(),
            date_of_birth: Some("1980-02-29".into()),
            gender: Some("male".into()),
            mobile: Some("+447700900123".into()),
            email: Some("john@example.com".into()),
            postcode: Some("SW1A 1AA".into()),
            registered_practitioner: Some(Practitioner {
                id: "DR-1".into(),
                name: "Dr Amara Okafor".into(),
            }),
            default_payer: Some("ORG-1".into()),
        };
        assert_eq!(Patient::from_core(&patient.to_core().unwrap()), patient);
        let shown = format!("{patient} {patient:?}");
        assert!(
            !shown.contains("John") && !shown.contains("example.com"),
            "{shown}"
        );

        let bad_day = Patient {
            date_of_birth: Some("1981-02-29".into()),
            ..patient.clone()
        };
        assert_eq!(bad_day.to_core().unwrap_err().code(), "invalid_date");
        let bad_id = Patient {
            id: " P-1".into(),
            ..patient
        };
        assert!(matches!(
            bad_id.to_core(),
            Err(BillbridgeError::Validation { .. })
        ));
    }
}

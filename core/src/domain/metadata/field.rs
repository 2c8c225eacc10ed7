//! The host fields billbridge knows how to carry as Stripe metadata, and the Stripe
//! objects they can be written to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::MetadataError;

/// A semantic field of a host record (patient, appointment or invoice) that a
/// [`MetadataPolicy`](super::MetadataPolicy) may turn into a Stripe metadata entry.
///
/// Names (serde, [`Field::as_str`], [`FromStr`]) are snake_case and stable: hosts use
/// them in configuration lists such as `"metadata_fields_off": ["patient_gender"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The patient's given name.
    PatientFirstName,
    /// The patient's family name.
    PatientLastName,
    /// The patient's full name as the host displays it.
    PatientName,
    /// The patient's date of birth, ISO `YYYY-MM-DD`.
    PatientDateOfBirth,
    /// The patient's gender as recorded by the host.
    PatientGender,
    /// The patient's mobile number.
    PatientMobile,
    /// The patient's email address.
    PatientEmail,
    /// The patient's postcode (any country's format).
    PatientPostcode,
    /// The practitioner the patient is registered with.
    RegisteredPractitioner,
    /// Where the invoiced appointment took place.
    AppointmentLocation,
    /// Who saw the patient at the invoiced appointment.
    AppointmentPractitioner,
    /// The host's billing-and-collection setting for the invoice (who collects, how).
    BillingAndCollection,
    /// The host's id of the patient; how billbridge and reports find records.
    HostPatientId,
    /// The host's id of the payer (patient or organisation).
    HostPayerId,
    /// The host's id of the invoice.
    HostInvoiceId,
}

impl Field {
    /// Every field, in the stable order billbridge renders them.
    pub const ALL: [Field; 15] = [
        Field::PatientFirstName,
        Field::PatientLastName,
        Field::PatientName,
        Field::PatientDateOfBirth,
        Field::PatientGender,
        Field::PatientMobile,
        Field::PatientEmail,
        Field::PatientPostcode,
        Field::RegisteredPractitioner,
        Field::AppointmentLocation,
        Field::AppointmentPractitioner,
        Field::BillingAndCollection,
        Field::HostPatientId,
        Field::HostPayerId,
        Field::HostInvoiceId,
    ];

    /// The field's stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::PatientFirstName => "patient_first_name",
            Field::PatientLastName => "patient_last_name",
            Field::PatientName => "patient_name",
            Field::PatientDateOfBirth => "patient_date_of_birth",
            Field::PatientGender => "patient_gender",
            Field::PatientMobile => "patient_mobile",
            Field::PatientEmail => "patient_email",
            Field::PatientPostcode => "patient_postcode",
            Field::RegisteredPractitioner => "registered_practitioner",
            Field::AppointmentLocation => "appointment_location",
            Field::AppointmentPractitioner => "appointment_practitioner",
            Field::BillingAndCollection => "billing_and_collection",
            Field::HostPatientId => "host_patient_id",
            Field::HostPayerId => "host_payer_id",
            Field::HostInvoiceId => "host_invoice_id",
        }
    }

    /// Whether the field is one of the host's record ids rather than personal data.
    pub fn is_host_id(self) -> bool {
        matches!(
            self,
            Field::HostPatientId | Field::HostPayerId | Field::HostInvoiceId
        )
    }

    /// Whether [`Transform::Generalise`](super::Transform::Generalise) is defined for
    /// the field (date of birth to year, postcode to its outward code).
    pub fn is_generalisable(self) -> bool {
        matches!(self, Field::PatientDateOfBirth | Field::PatientPostcode)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = MetadataError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Field::ALL
            .into_iter()
            .find(|field| field.as_str() == name)
            .ok_or_else(|| MetadataError::UnknownField {
                name: name.to_owned(),
            })
    }
}

/// The Stripe object a metadata entry is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetadataTarget {
    /// The Stripe customer (the payer: a patient or an organisation).
    Customer,
    /// The Stripe invoice.
    Invoice,
}

impl MetadataTarget {
    /// Both targets, customer first.
    pub const ALL: [MetadataTarget; 2] = [MetadataTarget::Customer, MetadataTarget::Invoice];
}

crate::vocabulary!(MetadataTarget, "metadata target", "unknown_metadata_target", {
    MetadataTarget::Customer => "customer",
    MetadataTarget::Invoice => "invoice",
});

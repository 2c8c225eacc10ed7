//! What the app gives to raise an invoice: the draft ([`InvoiceDraft`]) with who is
//! billed ([`BillTo`]), its lines ([`InvoiceLine`]), when it is due ([`InvoiceDue`]) and
//! the appointment it is for ([`Appointment`]), and how far to take it ([`RaiseMode`]).
//! Each becomes the core's draft through the core's own builders, which decide who pays
//! (a patient's default payer) and which arguments go together.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use billbridge::domain::invoice::Location;
use billbridge::domain::invoice::{
    AppointmentContext, AppointmentId, InvoiceDraft as CoreDraft, InvoiceId,
    InvoiceLine as CoreLine,
};
use billbridge::domain::metadata::MetadataMap;
use billbridge::domain::money::Currency;
use billbridge::domain::party::{LocationId, Patient as CorePatient};
use billbridge::sync::Raise;

use crate::error::BillbridgeError;
use crate::money::{Money, day, optional_day};
use crate::parties::{Patient, PayerRef, Practitioner};

/// When a line's service was delivered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ServiceDate {
    /// On one day, `YYYY-MM-DD`.
    On {
        /// The day.
        day: String,
    },
    /// Over a period, both days included, `YYYY-MM-DD`.
    Period {
        /// The first day.
        first: String,
        /// The last day.
        last: String,
    },
}

/// One invoice line: `quantity × unitAmount`. A negative unit amount is a credit.
/// Printing it shows the amount, the quantity and the metadata keys: the description
/// and the metadata values can be personal data.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct InvoiceLine {
    /// Shown to the payer in emails, the payment page and the PDF: keep clinical
    /// details out of it.
    pub description: String,
    /// The price of one unit.
    pub unit_amount: Money,
    /// At least 1.
    #[uniffi(default = 1)]
    pub quantity: u32,
    /// When the service was delivered.
    #[uniffi(default = None)]
    pub service_date: Option<ServiceDate>,
    /// Line metadata (Stripe's limits: 50 keys, keys ≤ 40 and values ≤ 500 characters).
    #[uniffi(default)]
    pub metadata: HashMap<String, String>,
}

impl fmt::Debug for InvoiceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for InvoiceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&str> = self.metadata.keys().map(String::as_str).collect();
        keys.sort_unstable();
        write!(
            f,
            "InvoiceLine(unitAmount={} {}, quantity={}, serviceDate={:?}, metadataKeys={keys:?})",
            self.unit_amount.amount, self.unit_amount.currency, self.quantity, self.service_date,
        )
    }
}

impl InvoiceLine {
    pub(crate) fn to_core(&self) -> Result<CoreLine, BillbridgeError> {
        let mut line = CoreLine::ad_hoc(
            &self.description,
            self.unit_amount.to_core()?,
            self.quantity,
        );
        line = match &self.service_date {
            None => line,
            Some(ServiceDate::On { day: on }) => line.on(day(on)?),
            Some(ServiceDate::Period { first, last }) => line.period(day(first)?, day(last)?),
        };
        line.metadata = metadata(&self.metadata);
        Ok(line)
    }
}

/// Metadata in the core's (ordered) map.
pub(crate) fn metadata(entries: &HashMap<String, String>) -> MetadataMap {
    MetadataMap::from(
        entries
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Who an invoice bills, and who it is about.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum BillTo {
    /// An invoice about a patient, paid by the patient's default payer when one is set,
    /// else by the patient. The patient's details travel as invoice metadata under the
    /// metadata policy.
    Patient {
        /// The patient.
        patient: Patient,
    },
    /// An invoice about a patient, paid by someone else for this invoice only (an
    /// insurer, an employer).
    PatientPaidBy {
        /// The patient the invoice is about.
        patient: Patient,
        /// Who pays it.
        payer: PayerRef,
    },
    /// An invoice to a payer, about no patient (an organisation's own bill).
    Payer {
        /// Who pays it.
        payer: PayerRef,
    },
}

/// When the payer must pay.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum InvoiceDue {
    /// Stripe charges the payer's saved payment method at finalization.
    ChargeAutomatically,
    /// Sent with a payment link, due this many days after finalization.
    InDays {
        /// Days after finalization.
        days: u32,
    },
    /// Sent with a payment link, due on this day (`YYYY-MM-DD`, in the future).
    OnDay {
        /// The due day.
        day: String,
    },
}

/// The appointment an invoice is for, as its metadata describes it. Give a location's
/// id and name together, or neither. Printing it shows ids and the day: the
/// practitioner's name and the billing arrangement (free text) are left out.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct Appointment {
    /// The host's id of the appointment.
    #[uniffi(default = None)]
    pub appointment_id: Option<String>,
    /// The day it took place, `YYYY-MM-DD`.
    #[uniffi(default = None)]
    pub day: Option<String>,
    /// The host's id of the location.
    #[uniffi(default = None)]
    pub location_id: Option<String>,
    /// The location's name, e.g. "Harbour Street Clinic".
    #[uniffi(default = None)]
    pub location_name: Option<String>,
    /// Who saw the patient.
    #[uniffi(default = None)]
    pub practitioner: Option<Practitioner>,
    /// The host's billing and collection arrangement, e.g. "Self-pay".
    #[uniffi(default = None)]
    pub billing_and_collection: Option<String>,
}

impl fmt::Debug for Appointment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Appointment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Appointment(appointmentId={:?}, day={:?}, locationId={:?}, practitionerId={:?})",
            self.appointment_id,
            self.day,
            self.location_id,
            self.practitioner
                .as_ref()
                .map(|practitioner| &practitioner.id),
        )
    }
}

impl Appointment {
    fn to_core(&self) -> Result<AppointmentContext, BillbridgeError> {
        let location_id = self.location_id.as_ref().map(LocationId::new).transpose()?;
        Ok(AppointmentContext {
            appointment: self
                .appointment_id
                .as_ref()
                .map(AppointmentId::new)
                .transpose()?,
            date: optional_day(self.day.as_ref())?,
            location: Location::from_parts(location_id, self.location_name.clone())?,
            practitioner: self
                .practitioner
                .as_ref()
                .map(Practitioner::to_core)
                .transpose()?,
            billing_and_collection: self.billing_and_collection.clone(),
        })
    }
}

/// An invoice the app wants raised. `hostInvoiceId` is the app's own id for it: raising
/// the same draft again (after a crash, a lost connection) finishes the same invoice
/// instead of creating a second one. Bump `revision` after changing a raised draft's
/// lines, so the change is raised as a new Stripe draft.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Display)]
pub struct InvoiceDraft {
    /// The app's id of the invoice.
    pub host_invoice_id: String,
    /// Who is billed and who the invoice is about.
    pub bill_to: BillTo,
    /// The lines, in order (at least one).
    pub lines: Vec<InvoiceLine>,
    /// The invoice currency; by default the first line's.
    #[uniffi(default = None)]
    pub currency: Option<String>,
    /// Memo shown on the invoice.
    #[uniffi(default = None)]
    pub memo: Option<String>,
    /// Footer shown on the invoice.
    #[uniffi(default = None)]
    pub footer: Option<String>,
    /// When it is due; by default as the bridge is configured (`defaultDaysUntilDue`),
    /// else charged automatically.
    #[uniffi(default = None)]
    pub due: Option<InvoiceDue>,
    /// The appointment it is for.
    #[uniffi(default = None)]
    pub appointment: Option<Appointment>,
    /// The draft's revision; bump it after changing the lines of a raised draft.
    #[uniffi(default = 0)]
    pub revision: u32,
}

impl fmt::Debug for InvoiceDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line descriptions and the patient's details can be personal data.
        f.debug_struct("InvoiceDraft")
            .field("host_invoice_id", &self.host_invoice_id)
            .field("lines", &self.lines.len())
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for InvoiceDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "InvoiceDraft(hostInvoiceId={:?}, lines={}, revision={})",
            self.host_invoice_id,
            self.lines.len(),
            self.revision
        )
    }
}

impl InvoiceDraft {
    /// The core's draft, and the patient it is about (whose details become the
    /// invoice's patient metadata).
    pub(crate) fn to_core(&self) -> Result<(CoreDraft, Option<CorePatient>), BillbridgeError> {
        let (mut draft, patient) = match &self.bill_to {
            BillTo::Patient { patient } => {
                let patient = patient.to_core()?;
                (CoreDraft::for_patient(&patient), Some(patient))
            }
            BillTo::PatientPaidBy { patient, payer } => {
                let patient = patient.to_core()?;
                let draft = CoreDraft::for_patient(&patient).paid_by(payer.to_core()?);
                (draft, Some(patient))
            }
            BillTo::Payer { payer } => (CoreDraft::for_payer(payer.to_core()?), None),
        };
        draft = draft.host_id(InvoiceId::new(&self.host_invoice_id)?);
        if let Some(code) = &self.currency {
            draft = draft.currency(Currency::new(code)?);
        }
        draft = draft.lines(
            self.lines
                .iter()
                .map(InvoiceLine::to_core)
                .collect::<Result<Vec<_>, _>>()?,
        );
        if let Some(memo) = &self.memo {
            draft = draft.memo(memo);
        }
        if let Some(footer) = &self.footer {
            draft = draft.footer(footer);
        }
        draft = match &self.due {
            None => draft,
            Some(InvoiceDue::ChargeAutomatically) => draft.charge_automatically(),
            Some(InvoiceDue::InDays { days }) => draft.due_in_days(*days),
            Some(InvoiceDue::OnDay { day: on }) => draft.due_on(day(on)?),
        };
        if let Some(appointment) = &self.appointment {
            draft = draft.context(appointment.to_core()?);
        }
        draft.revision = self.revision;
        Ok((draft, patient))
    }
}

/// How far `raiseInvoice` takes an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum RaiseMode {
    /// Create it with its lines and leave it as an editable draft.
    Draft,
    /// Also finalize it: number, payment page and PDF assigned, the payer's balance
    /// applied.
    Finalize,
    /// Also send it to the payer (Stripe emails the payment link).
    FinalizeAndSend,
}

impl From<RaiseMode> for Raise {
    fn from(mode: RaiseMode) -> Self {
        match mode {
            RaiseMode::Draft => Raise::Draft,
            RaiseMode::Finalize => Raise::Finalize,
            RaiseMode::FinalizeAndSend => Raise::FinalizeAndSend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn john() -> Patient {
        Patient {
            id: "P-1001".into(),
            given_name: "John".into(),
            family_name: "Deer".into(),
            date_of_birth: None,
            gender: None,
            mobile: None,
            email: None,
            postcode: None,
            registered_practitioner: None,
            default_payer: Some("ORG-1".into()),
        }
    }

    fn draft(bill_to: BillTo) -> InvoiceDraft {
        InvoiceDraft {
            host_invoice_id: "INV-1".into(),
            bill_to,
            lines: vec![InvoiceLine {
                description: "Follow-up session".into(),
                unit_amount: Money {
                    amount: 5000,
                    currency: "gbp".into(),
                },
                quantity: 2,
                service_date: Some(ServiceDate::On {
                    day: "2026-11-20".into(),
                }),
                metadata: HashMap::from([("slot".into(), "am".into())]),
            }],
            currency: None,
            memo: Some("Thank you".into()),
            footer: None,
            due: Some(InvoiceDue::InDays { days: 14 }),
            appointment: Some(Appointment {
                appointment_id: Some("APT-1".into()),
                day: Some("2026-11-20".into()),
                location_id: None,
                location_name: None,
                practitioner: None,
                billing_and_collection: None,
            }),
            revision: 3,
        }
    }

    #[test]
    fn the_core_decides_who_pays_a_patients_invoice() {
        let (core, patient) = draft(BillTo::Patient { patient: john() })
            .to_core()
            .unwrap();
        // The patient's default payer pays: the core's rule.
        assert_eq!(core.payer.host_id(), "ORG-1");
        assert_eq!(core.subject.as_ref().map(|id| id.as_str()), Some("P-1001"));
        assert!(patient.is_some());
        assert_eq!(core.validate().unwrap().amount(), 10_000);
        assert_eq!(core.revision, 3);

        let (paid_by, _) = draft(BillTo::PatientPaidBy {
            patient: john(),
            payer: PayerRef::Patient {
                id: "P-1001".into(),
            },
        })
        .to_core()
        .unwrap();
        assert_eq!(paid_by.payer.host_id(), "P-1001");
    }

    #[test]
    fn a_location_needs_its_id_and_name_together() {
        let mut half = draft(BillTo::Payer {
            payer: PayerRef::Organisation { id: "ORG-1".into() },
        });
        if let Some(appointment) = half.appointment.as_mut() {
            appointment.location_id = Some("LOC-1".into());
        }
        assert_eq!(half.to_core().unwrap_err().code(), "incomplete_arguments");
        assert!(!format!("{half} {half:?}").contains("Follow-up"));
    }
}

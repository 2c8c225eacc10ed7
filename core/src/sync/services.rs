//! Billing rates: from the services a practice delivered and its rates, raise one
//! invoice per payer for what is invoiceable (services under a rate flagged
//! *invoiced*, not yet invoiced; a service's insurer payment already deducted, so the
//! client is billed the remainder), and hand back the services stamped with the
//! invoiced date.

use std::collections::{BTreeMap, BTreeSet};

use super::bridge::{Billbridge, payer_subject};
use super::records::{InvoiceRecord, Raise};
use crate::domain::catalogue::{BillingRates, Service, payer_for_service, select_invoiceable};
use crate::domain::date::Date;
use crate::domain::invoice::InvoiceId;
use crate::domain::party::{OrganisationId, Patient, PatientId, PayerRef};
use crate::error::Error;

/// Prefix of the host invoice ids derived for service invoices.
pub const SERVICE_INVOICE_PREFIX: &str = "svc_";

/// How [`Billbridge::raise_for_services`] raises and stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceBilling {
    /// The invoiced date stamped on every service invoiced.
    pub invoiced_on: Date,
    /// How far each invoice is taken.
    pub mode: Raise,
}

impl ServiceBilling {
    /// Billing on `invoiced_on` with the default mode: services are billed to be paid,
    /// so each invoice is finalized and sent ([`Raise::FinalizeAndSend`]).
    pub fn on(invoiced_on: Date) -> ServiceBilling {
        ServiceBilling {
            invoiced_on,
            mode: Raise::FinalizeAndSend,
        }
    }
}

/// One payer's invoice for a group of services.
#[derive(Debug)]
pub struct ServiceInvoiceOutcome {
    /// Who the invoice bills.
    pub payer: PayerRef,
    /// The host invoice id derived from the payer and the services (stable, so a
    /// re-run raises the same invoice).
    pub host_invoice_id: String,
    /// The services on the invoice, stamped with the invoiced date when it was raised
    /// (unstamped when it failed).
    pub services: Vec<Service>,
    /// The invoice raised, or why it was not.
    pub result: Result<InvoiceRecord, Error>,
}

impl Billbridge {
    /// Raises one invoice per payer for the invoiceable `services`: client-rate
    /// services bill the patient; insurance-rate services bill the patient's default
    /// payer (else the patient). Each line is the service's client part (its amount
    /// less any insurer payment). `patients` supplies the invoice metadata of
    /// single-patient invoices. Payers must have been upserted.
    ///
    /// The host invoice id of each invoice is derived from the payer and the service
    /// ids, so running this again for the same services returns the same invoices.
    ///
    /// # Errors
    /// A catalogue error when a service names an unknown rate or its insurer payment
    /// is invalid, and store errors; each invoice's own failure is in its outcome.
    pub async fn raise_for_services(
        &self,
        services: &[Service],
        rates: &BillingRates,
        patients: &[Patient],
        billing: &ServiceBilling,
    ) -> Result<Vec<ServiceInvoiceOutcome>, Error> {
        let mut default_payers: BTreeMap<PatientId, OrganisationId> = BTreeMap::new();
        let mut looked_up: BTreeSet<&PatientId> = BTreeSet::new();
        for service in services {
            if looked_up.insert(&service.patient)
                && let Some(payer) = self.default_payer(&service.patient).await?
            {
                default_payers.insert(service.patient.clone(), payer);
            }
        }
        let groups = select_invoiceable(services, rates, |service, rate| {
            payer_for_service(service, rate, &default_payers)
        })?;
        let mut outcomes = Vec::with_capacity(groups.len());
        for group in groups {
            let subject = payer_subject(&group.payer);
            let mut parts: Vec<&[u8]> = vec![subject.as_bytes()];
            parts.extend(group.services.iter().map(|id| id.as_str().as_bytes()));
            let host_invoice_id =
                format!("{SERVICE_INVOICE_PREFIX}{}", self.inner.keys.digest(&parts));
            let draft = group
                .to_draft()
                .host_id(InvoiceId::new(host_invoice_id.clone())?);
            let patient = match group.patients.as_slice() {
                [only] => patients.iter().find(|patient| patient.id == *only),
                _ => None,
            };
            let result = self.raise_with(&draft, patient, billing.mode, true).await;
            let mut invoiced: Vec<Service> = services
                .iter()
                .filter(|service| group.services.contains(&service.id))
                .cloned()
                .collect();
            if result.is_ok() {
                for service in &mut invoiced {
                    service.mark_invoiced(billing.invoiced_on)?;
                }
            }
            outcomes.push(ServiceInvoiceOutcome {
                payer: group.payer,
                host_invoice_id,
                services: invoiced,
                result,
            });
        }
        Ok(outcomes)
    }
}

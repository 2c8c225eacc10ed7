//! Customers: upserting patients and organisations as Stripe customers (contact details
//! and policy-rendered metadata, sent only when they changed, with switched-off fields
//! deleted), default payers, and resolving who pays an invoice.

use super::bridge::{Billbridge, payer_kind, payer_subject};
use super::reconcile::write_once;
use super::records::{CustomerRecord, UpsertOutcome};
use crate::domain::invoice::InvoiceDraft;
use crate::domain::metadata::{
    Field, FieldValues, MetadataMap, MetadataPolicy, MetadataTarget, diff_managed,
};
use crate::domain::party::{OrganisationId, Party, Patient, PatientId, PayerRef};
use crate::error::Error;
use crate::store::CustomerLink;
use crate::stripe::client::{AddressParams, CreateCustomer, UpdateCustomer};

/// The entry of a link's `metadata_sent` holding a keyed digest of the contact details
/// last sent (name, email, phone, postcode), so an unchanged party sends nothing. Its
/// brackets cannot occur in a Stripe metadata key, so it never collides with one, and
/// it is removed before any diff.
const CONTACT_DIGEST_KEY: &str = "[billbridge:contact]";

/// The contact details Stripe's customer object carries, as the practice's policy lets
/// them go: a patient's name, email, mobile and postcode are the fields
/// [`Field::PatientName`], [`Field::PatientEmail`], [`Field::PatientMobile`] and
/// [`Field::PatientPostcode`], withheld when switched off (and cleared in Stripe on the
/// next sync) and transformed as the policy says. An organisation's details are not
/// personal data and go as they are.
struct Contact {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    postal_code: Option<String>,
}

impl Contact {
    fn of(party: &Party, policy: &MetadataPolicy) -> Result<Self, Error> {
        match party {
            Party::Patient(patient) => {
                let under_policy = |field: Field, value: Option<&str>| {
                    value.map_or(Ok(None), |value| policy.contact_value(field, value))
                };
                Ok(Contact {
                    name: under_policy(Field::PatientName, Some(&patient.full_name()))?,
                    email: under_policy(Field::PatientEmail, patient.email.as_deref())?,
                    phone: under_policy(Field::PatientMobile, patient.mobile.as_deref())?,
                    postal_code: under_policy(Field::PatientPostcode, patient.postcode.as_deref())?,
                })
            }
            Party::Organisation(organisation) => Ok(Contact {
                name: Some(organisation.name.clone()),
                email: organisation.email.clone(),
                phone: organisation.phone.clone(),
                postal_code: None,
            }),
        }
    }

    fn parts(&self) -> [&[u8]; 4] {
        fn part(value: &Option<String>) -> &[u8] {
            value.as_deref().unwrap_or_default().as_bytes()
        }
        [
            part(&self.name),
            part(&self.email),
            part(&self.phone),
            part(&self.postal_code),
        ]
    }
}

/// The host fields of a patient, for customer and invoice metadata.
pub(crate) fn patient_fields(patient: &Patient) -> FieldValues {
    FieldValues::new()
        .with(Field::PatientFirstName, patient.given_name.trim())
        .with(Field::PatientLastName, patient.family_name.trim())
        .with(Field::PatientName, patient.full_name())
        .with_optional(
            Field::PatientDateOfBirth,
            patient.date_of_birth.map(|date| date.to_string()),
        )
        .with_optional(
            Field::PatientGender,
            patient
                .gender
                .as_ref()
                .map(|gender| gender.as_str().to_owned()),
        )
        .with_optional(Field::PatientMobile, patient.mobile.clone())
        .with_optional(Field::PatientEmail, patient.email.clone())
        .with_optional(Field::PatientPostcode, patient.postcode.clone())
        .with_optional(
            Field::RegisteredPractitioner,
            patient
                .registered_practitioner
                .as_ref()
                .map(|practitioner| practitioner.name.clone()),
        )
        .with(Field::HostPatientId, patient.id.as_str())
}

/// The host fields of a party as a customer: its own id is the payer id.
fn customer_fields(party: &Party) -> FieldValues {
    match party {
        Party::Patient(patient) => {
            patient_fields(patient).with(Field::HostPayerId, patient.id.as_str())
        }
        Party::Organisation(organisation) => {
            FieldValues::new().with(Field::HostPayerId, organisation.id.as_str())
        }
    }
}

fn metadata_params(map: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    map.into_iter().collect()
}

impl Billbridge {
    /// Creates or updates the Stripe customer of a patient or an organisation.
    ///
    /// A new party gets a customer with its name, email, phone, postcode and the
    /// metadata the policy renders for customers. A known party is updated only when
    /// something changed since the last sync: contact details are sent again when they
    /// changed, metadata as a diff in which every key the policy no longer wants (a
    /// field switched off) is sent empty, so Stripe deletes it. A patient's
    /// `default_payer`, when set, becomes their default payer.
    ///
    /// # Errors
    /// A party error for invalid contact details, a metadata error when the policy
    /// cannot render the fields, a Stripe error, or a store error.
    pub async fn upsert_customer(&self, party: &Party) -> Result<CustomerRecord, Error> {
        party.validate()?;
        let payer = party.payer_ref();
        let kind = payer_kind(&payer);
        let host_id = payer.host_id().to_owned();
        let wanted = self
            .inner
            .policy
            .render(MetadataTarget::Customer, &customer_fields(party))?;
        let contact = Contact::of(party, &self.inner.policy)?;
        let digest = self.inner.keys.digest(&contact.parts());
        let store = &self.inner.store;
        let existing = store.customer_link(self.account(), kind, &host_id).await?;
        let outcome = match existing {
            None => {
                let params = CreateCustomer {
                    name: contact.name.clone(),
                    email: contact.email.clone(),
                    phone: contact.phone.clone(),
                    address: contact
                        .postal_code
                        .clone()
                        .map(|postal_code| AddressParams {
                            postal_code: Some(postal_code),
                            ..AddressParams::default()
                        }),
                    metadata: metadata_params(wanted.clone()),
                    ..CreateCustomer::default()
                };
                // One key per party: a re-run after a lost response gets the same
                // customer back instead of a second one.
                let customers = self.inner.client.customers();
                let customer = write_once!(
                    self,
                    &payer_subject(&payer),
                    "customer.create",
                    "0",
                    |context| customers.create(&params, &context),
                    found: self.find_created_customer(
                        params.name.as_deref(),
                        params.email.as_deref(),
                        &params.metadata
                    ),
                )?;
                store
                    .put_customer_link(&CustomerLink {
                        account: self.inner.account.clone(),
                        party_kind: kind,
                        host_party_id: host_id.clone(),
                        stripe_customer_id: customer.id.clone(),
                        metadata_sent: sent_record(&wanted, &digest),
                    })
                    .await?;
                CustomerRecord {
                    party_kind: kind,
                    host_party_id: host_id.clone(),
                    stripe_customer_id: customer.id,
                    outcome: UpsertOutcome::Created,
                }
            }
            Some(link) => {
                let mut held = link.metadata_sent.clone();
                let held_digest = held.remove(CONTACT_DIGEST_KEY);
                let diff = diff_managed(&held, &wanted, &self.inner.policy);
                let contact_changed = held_digest.as_deref() != Some(digest.as_str());
                if diff.is_empty() && !contact_changed {
                    CustomerRecord {
                        party_kind: kind,
                        host_party_id: host_id.clone(),
                        stripe_customer_id: link.stripe_customer_id,
                        outcome: UpsertOutcome::Unchanged,
                    }
                } else {
                    let mut params = UpdateCustomer {
                        metadata: metadata_params(
                            diff.as_map()
                                .iter()
                                .map(|(key, value)| (key.clone(), value.clone())),
                        ),
                        ..UpdateCustomer::default()
                    };
                    if contact_changed {
                        // "" unsets a field that the host no longer has, or that the
                        // policy no longer lets go.
                        let or_clear =
                            |value: &Option<String>| Some(value.clone().unwrap_or_default());
                        params.name = or_clear(&contact.name);
                        params.email = or_clear(&contact.email);
                        params.phone = or_clear(&contact.phone);
                        params.address = Some(AddressParams {
                            postal_code: or_clear(&contact.postal_code),
                            ..AddressParams::default()
                        });
                    }
                    let encoded = params.to_form().encode();
                    let flat: Vec<u8> = encoded
                        .iter()
                        .flat_map(|(key, value)| {
                            key.bytes().chain([0]).chain(value.bytes()).chain([0])
                        })
                        .collect();
                    let revision = self.inner.keys.digest(&[&flat]);
                    // Sending an update again is harmless: after a saved server error
                    // it simply goes again under the next key.
                    let customers = self.inner.client.customers();
                    write_once!(
                        self,
                        &payer_subject(&payer),
                        "customer.update",
                        &revision,
                        |context| customers.update(&link.stripe_customer_id, &params, &context),
                        found: std::future::ready(Ok(None)),
                    )?;
                    store
                        .put_customer_link(&CustomerLink {
                            metadata_sent: sent_record(&wanted, &digest),
                            ..link.clone()
                        })
                        .await?;
                    CustomerRecord {
                        party_kind: kind,
                        host_party_id: host_id.clone(),
                        stripe_customer_id: link.stripe_customer_id,
                        outcome: UpsertOutcome::Updated,
                    }
                }
            }
        };
        if let Party::Patient(patient) = party
            && let Some(organisation) = &patient.default_payer
        {
            self.set_default_payer(&patient.id, organisation).await?;
        }
        Ok(outcome)
    }

    /// The customer link of a payer, if it was upserted.
    ///
    /// # Errors
    /// A store error.
    pub async fn customer(&self, payer: &PayerRef) -> Result<Option<CustomerLink>, Error> {
        Ok(self
            .inner
            .store
            .customer_link(self.account(), payer_kind(payer), payer.host_id())
            .await?)
    }

    /// Makes `organisation` pay the patient's invoices from now on (unless a draft
    /// names another payer).
    ///
    /// # Errors
    /// A store error.
    pub async fn set_default_payer(
        &self,
        patient: &PatientId,
        organisation: &OrganisationId,
    ) -> Result<(), Error> {
        Ok(self
            .inner
            .store
            .set_default_payer(self.account(), patient.as_str(), organisation.as_str())
            .await?)
    }

    /// Makes the patient pay their own invoices again; returns whether a default payer
    /// was set.
    ///
    /// # Errors
    /// A store error.
    pub async fn clear_default_payer(&self, patient: &PatientId) -> Result<bool, Error> {
        Ok(self
            .inner
            .store
            .clear_default_payer(self.account(), patient.as_str())
            .await?)
    }

    /// The organisation set as the patient's default payer, if any.
    ///
    /// # Errors
    /// A store error, or a party error when the stored id is not a valid organisation id.
    pub async fn default_payer(
        &self,
        patient: &PatientId,
    ) -> Result<Option<OrganisationId>, Error> {
        let stored = self
            .inner
            .store
            .default_payer(self.account(), patient.as_str())
            .await?;
        Ok(stored.map(OrganisationId::new).transpose()?)
    }

    /// Who pays a draft: the payer it names when that is not its own patient, else the
    /// patient's default payer, else the patient. (To bill a patient who has a default
    /// payer, clear the default payer first.)
    ///
    /// # Errors
    /// A store error.
    pub async fn resolve_payer(&self, draft: &InvoiceDraft) -> Result<PayerRef, Error> {
        match &draft.payer {
            PayerRef::Patient(patient)
                if draft
                    .subject
                    .as_ref()
                    .is_none_or(|subject| subject == patient) =>
            {
                Ok(match self.default_payer(patient).await? {
                    Some(organisation) => PayerRef::Organisation(organisation),
                    None => draft.payer.clone(),
                })
            }
            other => Ok(other.clone()),
        }
    }
}

/// What a link records as sent: the metadata plus the contact digest.
fn sent_record(metadata: &MetadataMap, contact_digest: &str) -> MetadataMap {
    metadata.clone().with(CONTACT_DIGEST_KEY, contact_digest)
}

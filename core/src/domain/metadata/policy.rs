//! The metadata policy: which host fields go to which Stripe object under which key,
//! transformed how, and the rendering of a host record into a validated metadata map.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{EntryOrigin, MetadataError};
use super::field::{Field, MetadataTarget};
use super::map::{MAX_KEYS, MAX_VALUE_CHARS, MetadataMap, check_key};
use super::transform::{PracticeSecret, Transform, generalise};

/// What to do with a value longer than Stripe's 500 characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlongValue {
    /// Refuse to render: a typed error names the field and key.
    #[default]
    Error,
    /// Keep the first 500 characters (cut on a character boundary).
    Truncate,
}

/// How one host field becomes metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FieldRule {
    /// Whether the field is sent. A switched-off field keeps its keys so that an
    /// update can delete what an earlier sync wrote.
    pub enabled: bool,
    /// The key on the Stripe customer, if the field goes there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_key: Option<String>,
    /// The key on the Stripe invoice, if the field goes there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_key: Option<String>,
    /// What happens to the value before it is sent.
    #[serde(default)]
    pub transform: Transform,
}

impl FieldRule {
    /// The key for `target`, if the field goes there.
    pub fn key(&self, target: MetadataTarget) -> Option<&str> {
        match target {
            MetadataTarget::Customer => self.customer_key.as_deref(),
            MetadataTarget::Invoice => self.invoice_key.as_deref(),
        }
    }

    fn key_slot(&mut self, target: MetadataTarget) -> &mut Option<String> {
        match target {
            MetadataTarget::Customer => &mut self.customer_key,
            MetadataTarget::Invoice => &mut self.invoice_key,
        }
    }
}

/// The values of one host record, by field. An absent field has no value; an empty
/// value counts as absent (Stripe reads `""` as "delete this key").
///
/// `Debug` lists the fields only: the values are personal data.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldValues(BTreeMap<Field, String>);

impl FieldValues {
    /// No values.
    pub fn new() -> Self {
        FieldValues::default()
    }

    /// Sets `field` to `value`, builder style.
    #[must_use]
    pub fn with(mut self, field: Field, value: impl Into<String>) -> Self {
        self.set(field, value);
        self
    }

    /// Sets `field` to `value`, returning the previous value.
    pub fn set(&mut self, field: Field, value: impl Into<String>) -> Option<String> {
        self.0.insert(field, value.into())
    }

    /// Sets `field` only when `value` is `Some`, builder style (handy for optional
    /// host columns).
    #[must_use]
    pub fn with_optional(mut self, field: Field, value: Option<impl Into<String>>) -> Self {
        if let Some(value) = value {
            self.set(field, value);
        }
        self
    }

    /// Removes `field`'s value.
    pub fn remove(&mut self, field: Field) -> Option<String> {
        self.0.remove(&field)
    }

    /// The value of `field`.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.0.get(&field).map(String::as_str)
    }

    /// The fields that have a value, in order.
    pub fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.keys().copied()
    }

    /// How many fields have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field has a value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for FieldValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FieldValues")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<V: Into<String>> FromIterator<(Field, V)> for FieldValues {
    fn from_iter<I: IntoIterator<Item = (Field, V)>>(entries: I) -> Self {
        FieldValues(
            entries
                .into_iter()
                .map(|(field, value)| (field, value.into()))
                .collect(),
        )
    }
}

/// The practice's rules for turning host fields into Stripe metadata.
///
/// Start from a preset ([`MetadataPolicy::hero_compatible`] or
/// [`MetadataPolicy::minimal`]) and edit it; [`MetadataPolicy::validate`] checks the
/// result, and [`MetadataPolicy::render`] validates again before producing anything,
/// so an invalid policy never sends a half-built map.
///
/// Serialising a policy leaves out the practice secret: set it again with
/// [`MetadataPolicy::pseudonym_secret`] after loading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataPolicy {
    #[serde(default)]
    rules: BTreeMap<Field, FieldRule>,
    #[serde(default)]
    overlong: OverlongValue,
    #[serde(skip)]
    secret: Option<PracticeSecret>,
}

/// The keys of [`MetadataPolicy::hero_compatible`], as `(field, customer key, invoice key)`.
///
/// Customer keys drop the `patient_` prefix because the customer *is* the patient;
/// invoice keys keep it because an invoice's customer may be an organisation paying
/// for the patient. Host ids use the same key on both objects so one search finds both.
const HERO_KEYS: [(Field, Option<&str>, Option<&str>); 15] = [
    (Field::PatientFirstName, Some("first_name"), None),
    (Field::PatientLastName, Some("last_name"), None),
    (Field::PatientName, Some("full_name"), Some("patient_name")),
    (Field::PatientDateOfBirth, Some("date_of_birth"), None),
    (Field::PatientGender, Some("gender"), Some("patient_gender")),
    (Field::PatientMobile, Some("mobile"), Some("patient_mobile")),
    (Field::PatientEmail, None, Some("patient_email")),
    (
        Field::PatientPostcode,
        Some("postcode"),
        Some("patient_postcode"),
    ),
    (
        Field::RegisteredPractitioner,
        Some("registered_practitioner"),
        Some("registered_practitioner"),
    ),
    (
        Field::AppointmentLocation,
        None,
        Some("appointment_location"),
    ),
    (
        Field::AppointmentPractitioner,
        None,
        Some("appointment_practitioner"),
    ),
    (
        Field::BillingAndCollection,
        None,
        Some("billing_and_collection"),
    ),
    (
        Field::HostPatientId,
        Some("host_patient_id"),
        Some("host_patient_id"),
    ),
    (
        Field::HostPayerId,
        Some("host_payer_id"),
        Some("host_payer_id"),
    ),
    (Field::HostInvoiceId, None, Some("host_invoice_id")),
];

impl Default for MetadataPolicy {
    /// Deny by default: [`MetadataPolicy::minimal`].
    fn default() -> Self {
        MetadataPolicy::minimal()
    }
}

impl MetadataPolicy {
    /// The field list of the reference practice-management product, every field sent
    /// as is.
    ///
    /// | field | customer key | invoice key |
    /// |---|---|---|
    /// | patient_first_name | `first_name` | |
    /// | patient_last_name | `last_name` | |
    /// | patient_name | `full_name` | `patient_name` |
    /// | patient_date_of_birth | `date_of_birth` | |
    /// | patient_gender | `gender` | `patient_gender` |
    /// | patient_mobile | `mobile` | `patient_mobile` |
    /// | patient_email | | `patient_email` |
    /// | patient_postcode | `postcode` | `patient_postcode` |
    /// | registered_practitioner | `registered_practitioner` | `registered_practitioner` |
    /// | appointment_location | | `appointment_location` |
    /// | appointment_practitioner | | `appointment_practitioner` |
    /// | billing_and_collection | | `billing_and_collection` |
    /// | host_patient_id | `host_patient_id` | `host_patient_id` |
    /// | host_payer_id | `host_payer_id` | `host_payer_id` |
    /// | host_invoice_id | | `host_invoice_id` |
    pub fn hero_compatible() -> Self {
        let rules = HERO_KEYS
            .into_iter()
            .map(|(field, customer_key, invoice_key)| {
                let rule = FieldRule {
                    enabled: true,
                    customer_key: customer_key.map(str::to_owned),
                    invoice_key: invoice_key.map(str::to_owned),
                    transform: Transform::AsIs,
                };
                (field, rule)
            })
            .collect();
        MetadataPolicy {
            rules,
            overlong: OverlongValue::Error,
            secret: None,
        }
    }

    /// Deny by default: only the host ids are sent. Every other field keeps its
    /// [`hero_compatible`](MetadataPolicy::hero_compatible) key, switched off, so
    /// [`with`](MetadataPolicy::with) can switch it on and
    /// [`diff_managed`](super::diff_managed) deletes it where an earlier policy wrote it.
    pub fn minimal() -> Self {
        let mut policy = MetadataPolicy::hero_compatible();
        for (field, rule) in &mut policy.rules {
            rule.enabled = field.is_host_id();
        }
        policy
    }

    /// Switches `field` off; its keys stay known so the next sync deletes them.
    #[must_use]
    pub fn without(mut self, field: Field) -> Self {
        self.rule_mut(field).enabled = false;
        self
    }

    /// Switches every named field off (names as in configuration lists such as
    /// `["patient_gender", "patient_date_of_birth"]`).
    ///
    /// # Errors
    /// [`MetadataError::UnknownField`] for the first name that is not a field; the
    /// policy is not changed in that case.
    pub fn without_all<I, S>(self, names: I) -> Result<Self, MetadataError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let fields = names
            .into_iter()
            .map(|name| name.as_ref().parse::<Field>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(fields.into_iter().fold(self, MetadataPolicy::without))
    }

    /// Switches `field` on. It is sent to every target it has a key for.
    #[must_use]
    pub fn with(mut self, field: Field) -> Self {
        self.rule_mut(field).enabled = true;
        self
    }

    /// Sends `field` to `target` under `key` (replacing any earlier key there). The
    /// key is checked by [`validate`](MetadataPolicy::validate) and before rendering.
    ///
    /// Renaming a key makes the old key unknown to the policy: a sync with
    /// [`diff_managed`](super::diff_managed) will no longer delete it.
    #[must_use]
    pub fn key(mut self, field: Field, target: MetadataTarget, key: impl Into<String>) -> Self {
        *self.rule_mut(field).key_slot(target) = Some(key.into());
        self
    }

    /// Stops sending `field` to `target` and forgets its key there.
    #[must_use]
    pub fn without_key(mut self, field: Field, target: MetadataTarget) -> Self {
        *self.rule_mut(field).key_slot(target) = None;
        self
    }

    /// Sets how `field`'s value is transformed before it is sent.
    #[must_use]
    pub fn transform(mut self, field: Field, transform: Transform) -> Self {
        self.rule_mut(field).transform = transform;
        self
    }

    /// Sets the practice secret used by [`Transform::Pseudonym`].
    #[must_use]
    pub fn pseudonym_secret(mut self, secret: PracticeSecret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Sets what happens to values longer than Stripe's 500 characters.
    #[must_use]
    pub fn overlong(mut self, overlong: OverlongValue) -> Self {
        self.overlong = overlong;
        self
    }

    /// The over-long value policy in force.
    pub fn overlong_value(&self) -> OverlongValue {
        self.overlong
    }

    /// Whether a practice secret is set.
    pub fn has_pseudonym_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// The rule for `field`, if the policy knows the field.
    pub fn rule(&self, field: Field) -> Option<&FieldRule> {
        self.rules.get(&field)
    }

    /// Whether `field` is switched on.
    pub fn is_enabled(&self, field: Field) -> bool {
        self.rules.get(&field).is_some_and(|rule| rule.enabled)
    }

    /// The key `field` is written under on `target`, whether or not it is switched on.
    pub fn key_for(&self, field: Field, target: MetadataTarget) -> Option<&str> {
        self.rules.get(&field).and_then(|rule| rule.key(target))
    }

    /// The fields switched on, in field order.
    pub fn enabled_fields(&self) -> Vec<Field> {
        Field::ALL
            .into_iter()
            .filter(|field| self.is_enabled(*field))
            .collect()
    }

    /// The fields switched off, in field order (fields the policy has no rule for
    /// count as off).
    pub fn disabled_fields(&self) -> Vec<Field> {
        Field::ALL
            .into_iter()
            .filter(|field| !self.is_enabled(*field))
            .collect()
    }

    /// Every key the policy manages on `target`, switched on or off: the keys a sync
    /// may set or delete there.
    pub fn managed_keys(&self, target: MetadataTarget) -> BTreeSet<&str> {
        self.rules
            .values()
            .filter_map(|rule| rule.key(target))
            .collect()
    }

    /// Whether `key` is managed by the policy on any target.
    pub fn manages_key(&self, key: &str) -> bool {
        self.rules.values().any(|rule| {
            MetadataTarget::ALL
                .into_iter()
                .any(|target| rule.key(target) == Some(key))
        })
    }

    /// The value of `field` for one of the contact fields of a Stripe customer (name,
    /// email, phone, postal code), under the same rule as its metadata: `None` when the
    /// field is switched off, so that a practice that switches a field off finds it
    /// nowhere in Stripe; generalised or pseudonymised as the rule says, except that a
    /// pseudonymised email, phone or postcode is withheld (a pseudonym is not an
    /// address or a number Stripe could use). An empty value is `None`.
    ///
    /// Stripe emails invoices and receipts to the customer's email: with
    /// [`Field::PatientEmail`] switched off, the practice sends its patients their
    /// payment links itself.
    ///
    /// # Errors
    /// As for metadata: a generalisation that does not recognise the value's shape, a
    /// pseudonym without a practice secret.
    pub fn contact_value(&self, field: Field, raw: &str) -> Result<Option<String>, MetadataError> {
        let Some(rule) = self.rules.get(&field).filter(|rule| rule.enabled) else {
            return Ok(None);
        };
        if raw.trim().is_empty() {
            return Ok(None);
        }
        match rule.transform {
            Transform::AsIs => Ok(Some(raw.to_owned())),
            Transform::Generalise => generalise(field, raw).map(Some),
            Transform::Pseudonym if field == Field::PatientName => {
                self.pseudonym(field, raw).map(Some)
            }
            Transform::Pseudonym => Ok(None),
        }
    }

    /// The pseudonym the policy would send for `value` of `field`, so the host can
    /// search Stripe for a pseudonymised record.
    ///
    /// # Errors
    /// [`MetadataError::MissingSecret`] when no practice secret is set.
    pub fn pseudonym(&self, field: Field, value: &str) -> Result<String, MetadataError> {
        self.secret
            .as_ref()
            .ok_or(MetadataError::MissingSecret { field })?
            .pseudonym(field, value)
    }

    /// Checks the policy: every key (switched on or off) is non-empty, at most 40
    /// characters and free of `[`/`]`, and unique on its target; every
    /// [`Transform::Generalise`] is on a field that has a generalisation; every
    /// switched-on [`Transform::Pseudonym`] has a practice secret to use.
    ///
    /// # Errors
    /// The first problem found, in field order, as a [`MetadataError`].
    pub fn validate(&self) -> Result<(), MetadataError> {
        let mut seen: BTreeSet<(MetadataTarget, &str)> = BTreeSet::new();
        for (field, rule) in &self.rules {
            for target in MetadataTarget::ALL {
                if let Some(key) = rule.key(target) {
                    check_key(EntryOrigin::Field(*field), key)?;
                    if !seen.insert((target, key)) {
                        return Err(MetadataError::DuplicateKey {
                            target,
                            key: key.to_owned(),
                        });
                    }
                }
            }
            match rule.transform {
                Transform::Generalise if !field.is_generalisable() => {
                    return Err(MetadataError::NoGeneralisation { field: *field });
                }
                Transform::Pseudonym if rule.enabled && self.secret.is_none() => {
                    return Err(MetadataError::MissingSecret { field: *field });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The metadata for one Stripe object: every switched-on field that has a key on
    /// `target` and a non-empty value, transformed, in key order.
    ///
    /// # Errors
    /// As [`render_with`](MetadataPolicy::render_with).
    pub fn render(
        &self,
        target: MetadataTarget,
        values: &FieldValues,
    ) -> Result<MetadataMap, MetadataError> {
        self.render_with(target, values, &MetadataMap::new())
    }

    /// Like [`render`](MetadataPolicy::render), plus the caller's `extra` entries (for
    /// example line-level or host-specific keys) under the same rules. Extra entries
    /// with an empty value are left out. Keep health details out of extras: Stripe
    /// asks that no sensitive data go into metadata.
    ///
    /// # Errors
    /// - the policy is invalid (see [`validate`](MetadataPolicy::validate));
    /// - an extra key is invalid or too long, or is one the policy manages on `target`
    ///   ([`MetadataError::DuplicateKey`]: a switched-off field cannot come back as an
    ///   extra);
    /// - a generalised value has an unrecognised shape;
    /// - a value is over 500 characters and the policy says [`OverlongValue::Error`];
    /// - more than 50 keys in all.
    ///
    /// Errors name the field or extra entry and the key, never the value.
    pub fn render_with(
        &self,
        target: MetadataTarget,
        values: &FieldValues,
        extra: &MetadataMap,
    ) -> Result<MetadataMap, MetadataError> {
        self.validate()?;
        let mut rendered = MetadataMap::new();
        for (field, rule) in &self.rules {
            let Some(key) = rule.key(target).filter(|_| rule.enabled) else {
                continue;
            };
            let Some(raw) = values.get(*field).filter(|raw| !raw.is_empty()) else {
                continue;
            };
            let value = match rule.transform {
                Transform::AsIs => raw.to_owned(),
                Transform::Pseudonym => self.pseudonym(*field, raw)?,
                Transform::Generalise => generalise(*field, raw)?,
            };
            if let Some(value) = self.fit_value(EntryOrigin::Field(*field), key, value)? {
                rendered.insert(key, value);
            }
        }
        let managed = self.managed_keys(target);
        for (key, value) in extra {
            check_key(EntryOrigin::Other, key)?;
            if managed.contains(key.as_str()) {
                return Err(MetadataError::DuplicateKey {
                    target,
                    key: key.clone(),
                });
            }
            if let Some(value) = self.fit_value(EntryOrigin::Other, key, value.clone())? {
                rendered.insert(key.clone(), value);
            }
        }
        if rendered.len() > MAX_KEYS {
            return Err(MetadataError::TooManyKeys {
                target,
                count: rendered.len(),
            });
        }
        Ok(rendered)
    }

    /// Applies the over-long policy; `None` when the value is empty (nothing to send).
    fn fit_value(
        &self,
        origin: EntryOrigin,
        key: &str,
        value: String,
    ) -> Result<Option<String>, MetadataError> {
        if value.is_empty() {
            return Ok(None);
        }
        let length = value.chars().count();
        if length <= MAX_VALUE_CHARS {
            return Ok(Some(value));
        }
        match self.overlong {
            OverlongValue::Error => Err(MetadataError::ValueTooLong {
                origin,
                key: key.to_owned(),
                length,
            }),
            OverlongValue::Truncate => Ok(Some(value.chars().take(MAX_VALUE_CHARS).collect())),
        }
    }

    fn rule_mut(&mut self, field: Field) -> &mut FieldRule {
        self.rules.entry(field).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classify;
    use crate::domain::metadata::{PSEUDONYM_PREFIX, diff_managed};

    fn john() -> FieldValues {
        FieldValues::new()
            .with(Field::PatientFirstName, "John")
            .with(Field::PatientLastName, "Deer")
            .with(Field::PatientName, "John Deer")
            .with(Field::PatientDateOfBirth, "1971-03-02")
            .with(Field::PatientGender, "male")
            .with(Field::PatientMobile, "+447700900101")
            .with(Field::PatientEmail, "john.deer@example.com")
            .with(Field::PatientPostcode, "BS1 4DJ")
            .with(Field::RegisteredPractitioner, "Dr Amara Okafor")
            .with(Field::AppointmentLocation, "Harbour Street Clinic")
            .with(Field::AppointmentPractitioner, "Dr Amara Okafor")
            .with(Field::BillingAndCollection, "self_pay")
            .with(Field::HostPatientId, "P-1001")
            .with(Field::HostPayerId, "P-1001")
            .with(Field::HostInvoiceId, "INV-1")
    }

    fn secret() -> PracticeSecret {
        PracticeSecret::new("harbour-health-practice-secret").unwrap()
    }

    fn keys(map: &MetadataMap) -> Vec<&str> {
        map.keys().collect()
    }

    #[test]
    fn hero_compatible_customer_keys_are_the_documented_ones() {
        let map = MetadataPolicy::hero_compatible()
            .render(MetadataTarget::Customer, &john())
            .unwrap();
        assert_eq!(
            keys(&map),
            [
                "date_of_birth",
                "first_name",
                "full_name",
                "gender",
                "host_patient_id",
                "host_payer_id",
                "last_name",
                "mobile",
                "postcode",
                "registered_practitioner",
            ]
        );
        assert_eq!(map.get("full_name"), Some("John Deer"));
        assert_eq!(map.get("date_of_birth"), Some("1971-03-02"));
    }

    #[test]
    fn hero_compatible_invoice_keys_are_the_documented_ones() {
        let map = MetadataPolicy::hero_compatible()
            .render(MetadataTarget::Invoice, &john())
            .unwrap();
        assert_eq!(
            keys(&map),
            [
                "appointment_location",
                "appointment_practitioner",
                "billing_and_collection",
                "host_invoice_id",
                "host_patient_id",
                "host_payer_id",
                "patient_email",
                "patient_gender",
                "patient_mobile",
                "patient_name",
                "patient_postcode",
                "registered_practitioner",
            ]
        );
        assert_eq!(map.get("patient_gender"), Some("male"));
        assert_eq!(
            map.get("appointment_location"),
            Some("Harbour Street Clinic")
        );
    }

    #[test]
    fn hero_compatible_is_valid_and_sends_every_field() {
        let policy = MetadataPolicy::hero_compatible();
        policy.validate().unwrap();
        assert_eq!(policy.enabled_fields(), Field::ALL);
        assert!(policy.disabled_fields().is_empty());
    }

    #[test]
    fn minimal_sends_only_host_ids() {
        let policy = MetadataPolicy::minimal();
        assert_eq!(
            policy.enabled_fields(),
            [
                Field::HostPatientId,
                Field::HostPayerId,
                Field::HostInvoiceId
            ]
        );
        let customer = policy.render(MetadataTarget::Customer, &john()).unwrap();
        assert_eq!(keys(&customer), ["host_patient_id", "host_payer_id"]);
        let invoice = policy.render(MetadataTarget::Invoice, &john()).unwrap();
        assert_eq!(
            keys(&invoice),
            ["host_invoice_id", "host_patient_id", "host_payer_id"]
        );
        assert_eq!(MetadataPolicy::default(), policy);
    }

    #[test]
    fn minimal_still_knows_hero_keys_so_it_can_delete_them() {
        let minimal = MetadataPolicy::minimal();
        assert!(minimal.manages_key("gender"));
        assert!(minimal.manages_key("patient_gender"));
        let held = MetadataPolicy::hero_compatible()
            .render(MetadataTarget::Invoice, &john())
            .unwrap();
        let wanted = minimal.render(MetadataTarget::Invoice, &john()).unwrap();
        let update = diff_managed(&held, &wanted, &minimal);
        assert_eq!(update.apply(&held), wanted);
        assert_eq!(update.sets().count(), 0);
        assert_eq!(update.deletions().count(), held.len() - wanted.len());
    }

    #[test]
    fn with_switches_a_field_back_on() {
        let policy = MetadataPolicy::minimal().with(Field::PatientName);
        let invoice = policy.render(MetadataTarget::Invoice, &john()).unwrap();
        assert_eq!(invoice.get("patient_name"), Some("John Deer"));
        let customer = policy.render(MetadataTarget::Customer, &john()).unwrap();
        assert_eq!(customer.get("full_name"), Some("John Deer"));
    }

    #[test]
    fn switching_gender_off_deletes_it_on_both_targets() {
        let before = MetadataPolicy::hero_compatible();
        let after = before.clone().without(Field::PatientGender);
        assert_eq!(after.disabled_fields(), [Field::PatientGender]);
        for (target, key) in [
            (MetadataTarget::Customer, "gender"),
            (MetadataTarget::Invoice, "patient_gender"),
        ] {
            let held = before.render(target, &john()).unwrap();
            let wanted = after.render(target, &john()).unwrap();
            assert!(!wanted.contains_key(key));
            let update = diff_managed(&held, &wanted, &after);
            assert_eq!(update.get(key), Some(""), "{target}");
            assert_eq!(update.len(), 1, "{target}");
            assert_eq!(
                update.to_form_pairs("metadata"),
                [(format!("metadata[{key}]"), String::new())]
            );
        }
    }

    #[test]
    fn without_all_reads_a_configuration_list() {
        let policy = MetadataPolicy::hero_compatible()
            .without_all(["patient_gender", "patient_date_of_birth"])
            .unwrap();
        assert_eq!(
            policy.disabled_fields(),
            [Field::PatientDateOfBirth, Field::PatientGender]
        );
        let error = MetadataPolicy::hero_compatible()
            .without_all(["patient_gender", "patient_shoe_size"])
            .unwrap_err();
        assert_eq!(
            error,
            MetadataError::UnknownField {
                name: "patient_shoe_size".into()
            }
        );
        assert_eq!(error.code(), "metadata_unknown_field");
    }

    #[test]
    fn key_moves_a_field_and_without_key_drops_a_target() {
        let policy = MetadataPolicy::hero_compatible()
            .key(
                Field::PatientEmail,
                MetadataTarget::Customer,
                "email_address",
            )
            .key(Field::PatientName, MetadataTarget::Invoice, "patient")
            .without_key(Field::PatientGender, MetadataTarget::Customer);
        let customer = policy.render(MetadataTarget::Customer, &john()).unwrap();
        assert_eq!(customer.get("email_address"), Some("john.deer@example.com"));
        assert!(!customer.contains_key("gender"));
        let invoice = policy.render(MetadataTarget::Invoice, &john()).unwrap();
        assert_eq!(invoice.get("patient"), Some("John Deer"));
        assert!(!invoice.contains_key("patient_name"));
        assert_eq!(invoice.get("patient_gender"), Some("male"));
    }

    #[test]
    fn invalid_keys_are_refused_by_validate_and_render() {
        let cases = [
            ("", "metadata_key_invalid"),
            ("patient[name]", "metadata_key_invalid"),
            (
                "a_key_that_is_far_too_long_for_stripe_to_keep",
                "metadata_key_too_long",
            ),
            ("patient_email", "metadata_duplicate_key"),
        ];
        for (key, code) in cases {
            let policy = MetadataPolicy::hero_compatible().key(
                Field::PatientName,
                MetadataTarget::Invoice,
                key,
            );
            assert_eq!(policy.validate().unwrap_err().code(), code, "{key}");
            assert_eq!(
                policy
                    .render(MetadataTarget::Customer, &john())
                    .unwrap_err()
                    .code(),
                code,
                "{key}"
            );
        }
    }

    #[test]
    fn key_errors_name_the_field() {
        let error = MetadataPolicy::hero_compatible()
            .key(Field::PatientMobile, MetadataTarget::Customer, "mobile[0]")
            .validate()
            .unwrap_err();
        assert!(matches!(
            error,
            MetadataError::KeyInvalid {
                origin: EntryOrigin::Field(Field::PatientMobile),
                ..
            }
        ));
        assert!(error.to_string().contains("patient_mobile"));
    }

    #[test]
    fn pseudonym_needs_a_secret() {
        let policy =
            MetadataPolicy::hero_compatible().transform(Field::HostPatientId, Transform::Pseudonym);
        assert_eq!(
            policy.validate().unwrap_err(),
            MetadataError::MissingSecret {
                field: Field::HostPatientId
            }
        );
        assert_eq!(
            policy.validate().unwrap_err().code(),
            "metadata_missing_secret"
        );
        assert!(
            policy
                .clone()
                .without(Field::HostPatientId)
                .validate()
                .is_ok()
        );
        assert!(policy.pseudonym_secret(secret()).validate().is_ok());
    }

    #[test]
    fn pseudonymised_field_renders_the_same_pseudonym_on_both_targets() {
        let policy = MetadataPolicy::hero_compatible()
            .transform(Field::HostPatientId, Transform::Pseudonym)
            .pseudonym_secret(secret());
        let customer = policy.render(MetadataTarget::Customer, &john()).unwrap();
        let invoice = policy.render(MetadataTarget::Invoice, &john()).unwrap();
        let pseudonym = customer.get("host_patient_id").unwrap();
        assert!(pseudonym.starts_with(PSEUDONYM_PREFIX));
        assert_ne!(pseudonym, "P-1001");
        assert_eq!(invoice.get("host_patient_id"), Some(pseudonym));
        assert_eq!(
            policy.pseudonym(Field::HostPatientId, "P-1001").unwrap(),
            pseudonym
        );
        // The payer id is not pseudonymised and still carries the raw id.
        assert_eq!(customer.get("host_payer_id"), Some("P-1001"));
    }

    #[test]
    fn pseudonym_changes_with_the_secret() {
        let other = PracticeSecret::new("riverside-clinic-practice-secret").unwrap();
        let render = |secret: PracticeSecret| {
            MetadataPolicy::hero_compatible()
                .transform(Field::PatientMobile, Transform::Pseudonym)
                .pseudonym_secret(secret)
                .render(MetadataTarget::Customer, &john())
                .unwrap()
                .get("mobile")
                .map(str::to_owned)
        };
        assert_eq!(render(secret()), render(secret()));
        assert_ne!(render(secret()), render(other));
    }

    #[test]
    fn generalised_fields_render_coarse_values() {
        let policy = MetadataPolicy::hero_compatible()
            .transform(Field::PatientDateOfBirth, Transform::Generalise)
            .transform(Field::PatientPostcode, Transform::Generalise);
        let customer = policy.render(MetadataTarget::Customer, &john()).unwrap();
        assert_eq!(customer.get("date_of_birth"), Some("1971"));
        assert_eq!(customer.get("postcode"), Some("BS1"));
        let invoice = policy.render(MetadataTarget::Invoice, &john()).unwrap();
        assert_eq!(invoice.get("patient_postcode"), Some("BS1"));
    }

    #[test]
    fn generalising_a_field_without_generalisation_is_refused_at_validation() {
        let policy =
            MetadataPolicy::hero_compatible().transform(Field::PatientName, Transform::Generalise);
        assert_eq!(
            policy.validate().unwrap_err(),
            MetadataError::NoGeneralisation {
                field: Field::PatientName
            }
        );
        // Even switched off: the configuration itself is wrong.
        let off = policy.without(Field::PatientName);
        assert_eq!(
            off.validate().unwrap_err().code(),
            "metadata_no_generalisation"
        );
    }

    #[test]
    fn unrecognised_date_of_birth_is_refused_not_sent_raw() {
        let policy = MetadataPolicy::hero_compatible()
            .transform(Field::PatientDateOfBirth, Transform::Generalise);
        let values = john().with(Field::PatientDateOfBirth, "02/03/1971");
        let error = policy
            .render(MetadataTarget::Customer, &values)
            .unwrap_err();
        assert_eq!(error.code(), "metadata_value_not_generalisable");
        assert!(!error.to_string().contains("1971"));
    }

    #[test]
    fn empty_and_absent_values_are_omitted() {
        let values = FieldValues::new()
            .with(Field::PatientName, "")
            .with(Field::HostPatientId, "P-1001");
        let map = MetadataPolicy::hero_compatible()
            .render(MetadataTarget::Invoice, &values)
            .unwrap();
        assert_eq!(keys(&map), ["host_patient_id"]);
    }

    #[test]
    fn over_long_value_is_an_error_naming_field_and_key() {
        let long_name = "é".repeat(MAX_VALUE_CHARS + 1);
        let values = john().with(Field::PatientName, long_name.clone());
        let error = MetadataPolicy::hero_compatible()
            .render(MetadataTarget::Invoice, &values)
            .unwrap_err();
        assert_eq!(
            error,
            MetadataError::ValueTooLong {
                origin: EntryOrigin::Field(Field::PatientName),
                key: "patient_name".into(),
                length: MAX_VALUE_CHARS + 1,
            }
        );
        assert_eq!(error.code(), "metadata_value_too_long");
        let message = error.to_string();
        assert!(
            message.contains("patient_name") && !message.contains('é'),
            "{message}"
        );
    }

    #[test]
    fn exactly_500_characters_is_accepted() {
        let values = john().with(Field::PatientName, "ß".repeat(MAX_VALUE_CHARS));
        let map = MetadataPolicy::hero_compatible()
            .render(MetadataTarget::Invoice, &values)
            .unwrap();
        assert_eq!(
            map.get("patient_name").unwrap().chars().count(),
            MAX_VALUE_CHARS
        );
    }

    #[test]
    fn truncate_mode_cuts_at_500_characters_on_a_char_boundary() {
        // Multi-byte characters straddle byte 500, so a byte cut would split one.
        let long_name: String = "aé🦀".repeat(300);
        let values = john().with(Field::PatientName, long_name.clone());
        let policy = MetadataPolicy::hero_compatible().overlong(OverlongValue::Truncate);
        let map = policy.render(MetadataTarget::Invoice, &values).unwrap();
        let cut = map.get("patient_name").unwrap();
        assert_eq!(cut.chars().count(), MAX_VALUE_CHARS);
        assert!(long_name.starts_with(cut));
        assert_eq!(
            cut.chars().last(),
            long_name.chars().nth(MAX_VALUE_CHARS - 1)
        );
    }

    #[test]
    fn extra_entries_are_rendered_and_checked() {
        let policy = MetadataPolicy::minimal();
        let extra = MetadataMap::new()
            .with("line_count", "2")
            .with("empty_is_left_out", "");
        let map = policy
            .render_with(MetadataTarget::Invoice, &john(), &extra)
            .unwrap();
        assert_eq!(map.get("line_count"), Some("2"));
        assert!(!map.contains_key("empty_is_left_out"));

        let bracket = MetadataMap::new().with("line[0]", "x");
        let error = policy
            .render_with(MetadataTarget::Invoice, &john(), &bracket)
            .unwrap_err();
        assert!(matches!(
            error,
            MetadataError::KeyInvalid {
                origin: EntryOrigin::Other,
                ..
            }
        ));

        let long = MetadataMap::new().with("note", "x".repeat(MAX_VALUE_CHARS + 1));
        let error = policy
            .render_with(MetadataTarget::Invoice, &john(), &long)
            .unwrap_err();
        assert!(matches!(
            error,
            MetadataError::ValueTooLong {
                origin: EntryOrigin::Other,
                ..
            }
        ));
    }

    #[test]
    fn an_extra_cannot_bring_back_a_switched_off_field() {
        let policy = MetadataPolicy::hero_compatible().without(Field::PatientGender);
        let extra = MetadataMap::new().with("patient_gender", "male");
        let error = policy
            .render_with(MetadataTarget::Invoice, &john(), &extra)
            .unwrap_err();
        assert_eq!(
            error,
            MetadataError::DuplicateKey {
                target: MetadataTarget::Invoice,
                key: "patient_gender".into()
            }
        );
    }

    #[test]
    fn more_than_50_keys_is_refused() {
        let policy = MetadataPolicy::hero_compatible();
        let invoice_fields = policy
            .render(MetadataTarget::Invoice, &john())
            .unwrap()
            .len();
        let fits: MetadataMap = (0..MAX_KEYS - invoice_fields)
            .map(|i| (format!("extra_{i}"), "v"))
            .collect();
        let map = policy
            .render_with(MetadataTarget::Invoice, &john(), &fits)
            .unwrap();
        assert_eq!(map.len(), MAX_KEYS);
        let over = fits.with("one_too_many", "v");
        let error = policy
            .render_with(MetadataTarget::Invoice, &john(), &over)
            .unwrap_err();
        assert_eq!(
            error,
            MetadataError::TooManyKeys {
                target: MetadataTarget::Invoice,
                count: MAX_KEYS + 1
            }
        );
    }

    #[test]
    fn field_values_debug_hides_values() {
        let shown = format!("{:?}", john());
        assert!(shown.contains("PatientName"));
        assert!(
            !shown.contains("Deer") && !shown.contains("P-1001"),
            "{shown}"
        );
    }

    #[test]
    fn policy_debug_and_serialisation_never_contain_the_secret() {
        let policy = MetadataPolicy::hero_compatible().pseudonym_secret(secret());
        let debug = format!("{policy:?}");
        let json = serde_json::to_string(&policy).unwrap();
        for shown in [&debug, &json] {
            assert!(!shown.contains("harbour-health"), "{shown}");
        }
        assert!(policy.has_pseudonym_secret());
        let back: MetadataPolicy = serde_json::from_str(&json).unwrap();
        assert!(!back.has_pseudonym_secret());
        assert_eq!(back.pseudonym_secret(secret()), policy);
    }

    #[test]
    fn policy_serialises_with_snake_case_names() {
        let policy = MetadataPolicy::minimal()
            .transform(Field::PatientPostcode, Transform::Generalise)
            .overlong(OverlongValue::Truncate);
        let json = serde_json::to_value(&policy).unwrap();
        assert_eq!(json["overlong"], "truncate");
        assert_eq!(json["rules"]["patient_postcode"]["transform"], "generalise");
        assert_eq!(json["rules"]["patient_gender"]["enabled"], false);
        assert_eq!(
            json["rules"]["patient_gender"]["invoice_key"],
            "patient_gender"
        );
        let back: MetadataPolicy = serde_json::from_value(json).unwrap();
        assert_eq!(back, policy);
    }

    #[test]
    fn render_is_deterministic() {
        let policy = MetadataPolicy::hero_compatible();
        let first = policy.render(MetadataTarget::Invoice, &john()).unwrap();
        let second = policy.render(MetadataTarget::Invoice, &john()).unwrap();
        assert_eq!(
            serde_json::to_string(&first).unwrap(),
            serde_json::to_string(&second).unwrap()
        );
    }
}

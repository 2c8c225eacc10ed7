//! The metadata policy end to end: the practice-day scenario's configuration, and
//! properties over random policies, values and extra entries (Stripe's limits always
//! hold or a typed error is returned; diffs reproduce the wanted map; managed diffs
//! never touch other systems' keys).

// Helpers outside `#[test]` functions unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use billbridge::Classify;
use std::collections::BTreeMap;
use std::path::PathBuf;

use billbridge::domain::metadata::{
    Field, FieldValues, MAX_KEY_CHARS, MAX_KEYS, MAX_VALUE_CHARS, MetadataError, MetadataMap,
    MetadataPolicy, MetadataTarget, OverlongValue, PracticeSecret, Transform, diff, diff_managed,
};
use proptest::prelude::*;
use serde_json::Value;

fn practice_day() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data/practice_day.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn patient_values(patient: &Value) -> FieldValues {
    let text = |name: &str| patient[name].as_str().unwrap_or_default().to_owned();
    FieldValues::new()
        .with(Field::PatientFirstName, text("given_name"))
        .with(Field::PatientLastName, text("family_name"))
        .with(
            Field::PatientName,
            format!("{} {}", text("given_name"), text("family_name")),
        )
        .with(Field::PatientDateOfBirth, text("date_of_birth"))
        .with(Field::PatientGender, text("gender"))
        .with(Field::PatientMobile, text("mobile"))
        .with(Field::PatientEmail, text("email"))
        .with(Field::PatientPostcode, text("postcode"))
        .with(
            Field::RegisteredPractitioner,
            text("registered_practitioner"),
        )
        .with(Field::HostPatientId, text("id"))
        .with(Field::HostPayerId, text("id"))
}

fn practice_policy(scenario: &Value) -> MetadataPolicy {
    let off: Vec<&str> = scenario["practice"]["metadata_fields_off"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    MetadataPolicy::hero_compatible().without_all(off).unwrap()
}

#[test]
fn practice_day_switches_off_gender_and_date_of_birth_for_every_patient() {
    let scenario = practice_day();
    let policy = practice_policy(&scenario);
    assert_eq!(
        policy.disabled_fields(),
        [Field::PatientDateOfBirth, Field::PatientGender]
    );
    let patients = scenario["patients"].as_array().unwrap();
    assert_eq!(patients.len(), 7);
    for patient in patients {
        let values = patient_values(patient);
        let customer = policy.render(MetadataTarget::Customer, &values).unwrap();
        assert!(!customer.contains_key("gender") && !customer.contains_key("date_of_birth"));
        assert_eq!(customer.get("host_patient_id"), patient["id"].as_str());
        assert_eq!(customer.get("first_name"), patient["given_name"].as_str());
        customer.check_limits(MetadataTarget::Customer).unwrap();

        let invoice = policy.render(MetadataTarget::Invoice, &values).unwrap();
        assert!(!invoice.contains_key("patient_gender"));
        assert_eq!(invoice.get("patient_email"), patient["email"].as_str());
    }
}

#[test]
fn practice_day_resync_deletes_what_an_earlier_full_sync_wrote() {
    let scenario = practice_day();
    let policy = practice_policy(&scenario);
    let maria = patient_values(&scenario["patients"][1]);
    let earlier = MetadataPolicy::hero_compatible();
    let held = earlier
        .render(MetadataTarget::Customer, &maria)
        .unwrap()
        .with("crm_segment", "b2c");
    let wanted = policy.render(MetadataTarget::Customer, &maria).unwrap();
    let update = diff_managed(&held, &wanted, &policy);
    assert_eq!(
        update.to_form_pairs("metadata"),
        [
            ("metadata[date_of_birth]".to_owned(), String::new()),
            ("metadata[gender]".to_owned(), String::new()),
        ]
    );
    let after = update.apply(&held);
    assert_eq!(after.get("crm_segment"), Some("b2c"));
    assert!(!after.contains_key("gender"));
}

#[test]
fn practice_day_pseudonymised_and_generalised_sync() {
    let scenario = practice_day();
    let secret = PracticeSecret::new("harbour-health-0123456789").unwrap();
    let policy = practice_policy(&scenario)
        .with(Field::PatientDateOfBirth)
        .transform(Field::PatientDateOfBirth, Transform::Generalise)
        .transform(Field::PatientPostcode, Transform::Generalise)
        .transform(Field::PatientMobile, Transform::Pseudonym)
        .pseudonym_secret(secret);
    policy.validate().unwrap();
    let mut pseudonyms = std::collections::BTreeSet::new();
    for patient in scenario["patients"].as_array().unwrap() {
        let customer = policy
            .render(MetadataTarget::Customer, &patient_values(patient))
            .unwrap();
        let birth = patient["date_of_birth"].as_str().unwrap();
        assert_eq!(customer.get("date_of_birth"), Some(&birth[..4]));
        let postcode = patient["postcode"].as_str().unwrap();
        assert_eq!(customer.get("postcode"), postcode.split(' ').next());
        let mobile = customer.get("mobile").unwrap();
        assert_ne!(mobile, patient["mobile"].as_str().unwrap());
        pseudonyms.insert(mobile.to_owned());
    }
    assert_eq!(
        pseudonyms.len(),
        7,
        "distinct mobiles give distinct pseudonyms"
    );
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

/// Keys drawn from lowercase letters, `_`, brackets, accented letters and emoji, from
/// empty to past Stripe's 40 characters. They never contain an upper-case letter, so a
/// value marker in upper case cannot appear in a key.
fn key_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => "[a-z_]{1,12}",
        1 => "[a-z_é🦀\\[\\]]{0,45}",
        1 => Just("k".repeat(MAX_KEY_CHARS)),
        1 => Just("k".repeat(MAX_KEY_CHARS + 1)),
    ]
}

/// Values marked with `VAL` so a leak into an error message is detectable; any
/// characters, sometimes past Stripe's 500 characters, sometimes empty.
fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => "\\PC{0,30}".prop_map(|tail| format!("VAL{tail}")),
        1 => Just(String::new()),
        1 => (490usize..520, any::<char>())
            .prop_map(|(length, fill)| format!("VAL{}", fill.to_string().repeat(length))),
    ]
}

fn field_strategy() -> impl Strategy<Value = Field> {
    proptest::sample::select(Field::ALL.to_vec())
}

fn target_strategy() -> impl Strategy<Value = MetadataTarget> {
    prop_oneof![
        Just(MetadataTarget::Customer),
        Just(MetadataTarget::Invoice)
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Without(Field),
    With(Field),
    Key(Field, MetadataTarget, String),
    Transform(Field, Transform),
    Secret,
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    let transform = prop_oneof![
        3 => Just(Transform::AsIs),
        2 => Just(Transform::Pseudonym),
        1 => Just(Transform::Generalise)
    ];
    prop_oneof![
        2 => field_strategy().prop_map(Edit::Without),
        2 => field_strategy().prop_map(Edit::With),
        2 => (field_strategy(), target_strategy(), key_strategy())
            .prop_map(|(field, target, key)| Edit::Key(field, target, key)),
        2 => (field_strategy(), transform)
            .prop_map(|(field, transform)| Edit::Transform(field, transform)),
        2 => Just(Edit::Secret),
    ]
}

fn policy_strategy() -> impl Strategy<Value = MetadataPolicy> {
    (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(edit_strategy(), 0..8),
    )
        .prop_map(|(hero, truncate, edits)| {
            let start = if hero {
                MetadataPolicy::hero_compatible()
            } else {
                MetadataPolicy::minimal()
            };
            let overlong = if truncate {
                OverlongValue::Truncate
            } else {
                OverlongValue::Error
            };
            edits
                .into_iter()
                .fold(start.overlong(overlong), |policy, edit| match edit {
                    Edit::Without(field) => policy.without(field),
                    Edit::With(field) => policy.with(field),
                    Edit::Key(field, target, key) => policy.key(field, target, key),
                    Edit::Transform(field, transform) => policy.transform(field, transform),
                    Edit::Secret => policy.pseudonym_secret(
                        PracticeSecret::new("property-test-practice-secret").unwrap(),
                    ),
                })
        })
}

fn values_strategy() -> impl Strategy<Value = FieldValues> {
    proptest::collection::btree_map(field_strategy(), value_strategy(), 0..15)
        .prop_map(|values| values.into_iter().collect())
}

/// Extra entries: usually a few of any kind, sometimes enough valid short ones to
/// reach Stripe's 50-key limit.
fn extras_strategy() -> impl Strategy<Value = MetadataMap> {
    let crowd = proptest::collection::btree_map(
        "x_[a-z_]{1,10}",
        "\\PC{1,10}".prop_map(|tail| format!("VAL{tail}")),
        30..60,
    )
    .prop_map(MetadataMap::from);
    prop_oneof![3 => map_strategy(0..8), 1 => crowd]
}

fn map_strategy(size: std::ops::Range<usize>) -> impl Strategy<Value = MetadataMap> {
    proptest::collection::btree_map(key_strategy(), value_strategy(), size)
        .prop_map(MetadataMap::from)
}

const CODES: [&str; 8] = [
    "metadata_key_invalid",
    "metadata_key_too_long",
    "metadata_duplicate_key",
    "metadata_too_many_keys",
    "metadata_value_too_long",
    "metadata_missing_secret",
    "metadata_no_generalisation",
    "metadata_value_not_generalisable",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn render_respects_stripe_limits_or_fails_with_a_typed_error(
        policy in policy_strategy(),
        values in values_strategy(),
        extra in extras_strategy(),
        target in target_strategy(),
    ) {
        match policy.render_with(target, &values, &extra) {
            Ok(map) => {
                prop_assert!(map.len() <= MAX_KEYS);
                prop_assert!(map.check_limits(target).is_ok());
                for (key, value) in map.iter() {
                    prop_assert!(!key.is_empty() && !key.contains(['[', ']']));
                    prop_assert!(key.chars().count() <= MAX_KEY_CHARS);
                    prop_assert!(!value.is_empty());
                    prop_assert!(value.chars().count() <= MAX_VALUE_CHARS);
                }
                // Every switched-on field with a key and a value is present.
                for field in policy.enabled_fields() {
                    let key = policy.key_for(field, target);
                    let has_value = values.get(field).is_some_and(|raw| !raw.is_empty());
                    if let Some(key) = key.filter(|_| has_value) {
                        prop_assert!(map.contains_key(key), "{field} missing under {key}");
                    }
                }
                // Nothing from a switched-off field leaks under its key.
                for field in policy.disabled_fields() {
                    if let Some(key) = policy.key_for(field, target) {
                        prop_assert!(!map.contains_key(key));
                    }
                }
            }
            Err(error) => {
                prop_assert!(CODES.contains(&error.code()), "unexpected {}", error.code());
                let message = error.to_string();
                prop_assert!(!message.contains("VAL"), "a value leaked: {message}");
                prop_assert!(!message.contains("property-test-practice"));
                // Configuration errors only come from an invalid policy.
                let configuration_error = matches!(
                    error,
                    MetadataError::MissingSecret { .. } | MetadataError::NoGeneralisation { .. }
                );
                prop_assert!(!configuration_error || policy.validate().is_err());
            }
        }
    }

    #[test]
    fn applying_diff_to_old_yields_new(
        old in map_strategy(0..12),
        new in map_strategy(0..12),
        shared in proptest::collection::btree_map("[a-z]{1,4}", "[a-z]{0,3}", 0..6),
    ) {
        // Shared keys make unchanged, changed and deleted keys all likely.
        let old: MetadataMap = old.into_iter().chain(shared.clone()).collect();
        let mut new = new;
        for (index, (key, value)) in shared.into_iter().enumerate() {
            if index % 2 == 0 {
                new.insert(key, format!("{value}x"));
            }
        }
        let update = diff(&old, &new);
        let wanted: MetadataMap = new.iter().filter(|(_, value)| !value.is_empty()).collect();
        prop_assert_eq!(update.apply(&old), wanted.clone());
        // A second sync finds nothing to do.
        prop_assert!(diff(&update.apply(&old), &wanted).is_empty());
        // Only real changes are sent.
        for (key, value) in update.sets() {
            prop_assert_ne!(old.get(key), Some(value));
        }
        let pairs = update.to_form_pairs("metadata");
        prop_assert_eq!(pairs.len(), update.len());
    }

    #[test]
    fn diff_managed_never_touches_foreign_keys(
        policy in policy_strategy(),
        foreign in proptest::collection::btree_map("crm_[a-z]{1,8}", "[a-z]{1,5}", 0..6),
        values_before in values_strategy(),
        values_after in values_strategy(),
        target in target_strategy(),
    ) {
        let hero = MetadataPolicy::hero_compatible();
        let Ok(before) = hero.render(target, &values_before) else { return Ok(()) };
        let Ok(wanted) = policy.render(target, &values_after) else { return Ok(()) };
        let foreign: BTreeMap<String, String> = foreign
            .into_iter()
            .filter(|(key, _)| !policy.manages_key(key) && !wanted.contains_key(key))
            .collect();
        let held: MetadataMap = before.into_iter().chain(foreign.clone()).collect();
        let update = diff_managed(&held, &wanted, &policy);
        for key in foreign.keys() {
            prop_assert!(update.get(key).is_none(), "foreign key {key} touched");
        }
        let after = update.apply(&held);
        for (key, value) in &foreign {
            prop_assert_eq!(after.get(key), Some(value.as_str()));
        }
        for (key, value) in wanted.iter() {
            prop_assert_eq!(after.get(key), Some(value));
        }
        for key in after.keys() {
            prop_assert!(
                wanted.contains_key(key) || !policy.manages_key(key),
                "managed key {key} left behind"
            );
        }
    }
}

//! The metadata module's typed errors. Messages name the field, the target and the key,
//! never a metadata value (values are personal data) and never the practice secret.

use crate::classify::{Classify, ErrorCategory};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::field::{Field, MetadataTarget};

/// Where a metadata entry came from, so an error can say which input to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "field")]
pub enum EntryOrigin {
    /// The entry was produced by the policy's rule for this host field.
    Field(Field),
    /// The entry did not come from a policy field: a caller's extra entry, or a map
    /// checked as a whole (for example what Stripe holds).
    Other,
}

impl fmt::Display for EntryOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryOrigin::Field(field) => write!(f, "field `{field}`"),
            EntryOrigin::Other => f.write_str("extra entry"),
        }
    }
}

/// Why a metadata key or value, or a metadata policy, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// A name in a configuration list is not one of billbridge's host fields.
    #[error("`{name}` is not a metadata field billbridge knows")]
    UnknownField {
        /// The name as given.
        name: String,
    },
    /// A key is empty or contains `[` or `]`, which Stripe's form encoding cannot carry.
    #[error("metadata key `{key}` for {origin} is invalid: {reason}")]
    KeyInvalid {
        /// The field or extra entry the key belongs to.
        origin: EntryOrigin,
        /// The refused key.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A key is longer than Stripe's 40 characters.
    #[error(
        "metadata key `{key}` for {origin} is {length} characters; Stripe allows at most {max}",
        max = super::MAX_KEY_CHARS
    )]
    KeyTooLong {
        /// The field or extra entry the key belongs to.
        origin: EntryOrigin,
        /// The refused key.
        key: String,
        /// Its length in characters.
        length: usize,
    },
    /// Two fields (or a field and an extra entry) would write the same key on one target.
    #[error("metadata key `{key}` is used twice on the {target}")]
    DuplicateKey {
        /// The object the key would be written to.
        target: MetadataTarget,
        /// The key claimed twice.
        key: String,
    },
    /// More entries than Stripe's 50 keys would be written to one object.
    #[error(
        "{count} metadata keys for the {target}; Stripe allows at most {max}",
        max = super::MAX_KEYS
    )]
    TooManyKeys {
        /// The object the keys would be written to.
        target: MetadataTarget,
        /// How many keys were produced.
        count: usize,
    },
    /// A value is longer than Stripe's 500 characters and the policy says to refuse it.
    #[error(
        "metadata value for {origin} (key `{key}`) is {length} characters; Stripe allows at most {max}",
        max = super::MAX_VALUE_CHARS
    )]
    ValueTooLong {
        /// The field or extra entry the value belongs to.
        origin: EntryOrigin,
        /// The key the value would be written under.
        key: String,
        /// The value's length in characters.
        length: usize,
    },
    /// A field is to be pseudonymised but the policy has no practice secret.
    #[error("field `{field}` is to be pseudonymised but the policy has no practice secret")]
    MissingSecret {
        /// The field asking for a pseudonym.
        field: Field,
    },
    /// A field is to be generalised but billbridge knows no generalisation for it.
    #[error(
        "field `{field}` cannot be generalised (only patient_date_of_birth and patient_postcode can)"
    )]
    NoGeneralisation {
        /// The field asking for a generalisation.
        field: Field,
    },
    /// A value of a generalisable field has a shape the generalisation does not recognise,
    /// so it is refused rather than sent raw.
    #[error("the value of field `{field}` has a shape that cannot be generalised: {expected}")]
    ValueNotGeneralisable {
        /// The field whose value was refused.
        field: Field,
        /// The shape that is expected.
        expected: &'static str,
    },
    /// The practice secret is unusable (for example too short to resist guessing).
    #[error("the practice secret is unusable: {reason}")]
    InvalidSecret {
        /// What is wrong with it (never the secret itself).
        reason: &'static str,
    },
}

impl Classify for MetadataError {
    fn code(&self) -> &'static str {
        match self {
            MetadataError::UnknownField { .. } => "metadata_unknown_field",
            MetadataError::KeyInvalid { .. } => "metadata_key_invalid",
            MetadataError::KeyTooLong { .. } => "metadata_key_too_long",
            MetadataError::DuplicateKey { .. } => "metadata_duplicate_key",
            MetadataError::TooManyKeys { .. } => "metadata_too_many_keys",
            MetadataError::ValueTooLong { .. } => "metadata_value_too_long",
            MetadataError::MissingSecret { .. } => "metadata_missing_secret",
            MetadataError::NoGeneralisation { .. } => "metadata_no_generalisation",
            MetadataError::ValueNotGeneralisable { .. } => "metadata_value_not_generalisable",
            MetadataError::InvalidSecret { .. } => "metadata_invalid_secret",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

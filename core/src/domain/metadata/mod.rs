//! The metadata policy: how host-record fields (patient, appointment, invoice, host
//! ids) become Stripe metadata on customers and invoices, and how an update removes
//! what was switched off.
//!
//! Stripe asks that no sensitive data go into metadata and signs no HIPAA business
//! associate agreement, so health details never belong here. The policy lets a
//! practice send only what it needs ([`MetadataPolicy::minimal`] sends host ids only),
//! switch any field off, and send pseudonyms (keyed hashes) or generalised values
//! (birth year, outward postcode) instead of raw personal data.
//!
//! ```
//! use billbridge::domain::metadata::{
//!     diff_managed, Field, FieldValues, MetadataPolicy, MetadataTarget,
//! };
//!
//! let before = MetadataPolicy::hero_compatible();
//! let after = before.clone().without_all(["patient_gender", "patient_date_of_birth"])?;
//! let john = FieldValues::new()
//!     .with(Field::PatientName, "John Deer")
//!     .with(Field::PatientGender, "male")
//!     .with(Field::HostPatientId, "P-1001");
//!
//! let held = before.render(MetadataTarget::Customer, &john)?;
//! let wanted = after.render(MetadataTarget::Customer, &john)?;
//! let update = diff_managed(&held, &wanted, &after);
//! assert_eq!(update.to_form_pairs("metadata"), [("metadata[gender]".to_owned(), String::new())]);
//! # Ok::<(), billbridge::domain::metadata::MetadataError>(())
//! ```

mod diff;
mod error;
mod field;
mod map;
mod policy;
mod transform;

pub use diff::{MetadataDiff, diff, diff_managed};
pub use error::{EntryOrigin, MetadataError};
pub use field::{Field, MetadataTarget};
pub use map::{MAX_KEY_CHARS, MAX_KEYS, MAX_VALUE_CHARS, MetadataMap, check_entries};
pub use policy::{FieldRule, FieldValues, MetadataPolicy, OverlongValue};
pub use transform::{MIN_SECRET_BYTES, PSEUDONYM_PREFIX, PracticeSecret, Transform, generalise};

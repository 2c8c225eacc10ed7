//! What happens to a host value before it becomes metadata: sent as is, replaced by a
//! keyed pseudonym, or generalised (date of birth to year, postcode to outward code).

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::error::MetadataError;
use super::field::Field;

/// How a field's value is changed before it is written to Stripe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// The value is sent unchanged.
    #[default]
    AsIs,
    /// The value is replaced by a stable keyed hash ([`PSEUDONYM_PREFIX`] and 16 hex
    /// digits of HMAC-SHA256 under the policy's [`PracticeSecret`]). The same value of
    /// the same field always gives the same pseudonym for one secret, so records stay
    /// searchable by a host that holds the secret; without it the value cannot be read
    /// back.
    Pseudonym,
    /// The value is made coarser: a date of birth keeps its year, a postcode its outward
    /// code. Only [`Field::is_generalisable`] fields accept it.
    Generalise,
}

/// The prefix of every pseudonym, so a reader of Stripe's dashboard can tell a
/// pseudonym from a raw value.
pub const PSEUDONYM_PREFIX: &str = "psn_";

/// How many hex digits of the keyed hash a pseudonym keeps (64 bits: collisions are
/// negligible at any practice's scale, and the value stays short in the dashboard).
const PSEUDONYM_HEX_DIGITS: usize = 16;

/// The shortest practice secret accepted, in bytes. A short secret would let anyone
/// who guesses it reverse pseudonyms of low-entropy values such as dates of birth.
pub const MIN_SECRET_BYTES: usize = 16;

/// Separates pseudonyms of this scheme from any other use of the same secret.
const PSEUDONYM_DOMAIN: &[u8] = b"billbridge.metadata.pseudonym.v1";

/// The practice's secret key for pseudonyms. It is never printed: `Debug` and
/// `Display` show `<redacted>`, and it is left out when a policy is serialised.
#[derive(Clone)]
pub struct PracticeSecret {
    key: Vec<u8>,
}

impl PracticeSecret {
    /// Wraps the practice's secret bytes (for example a random value kept in the host's
    /// secret store).
    ///
    /// # Errors
    /// [`MetadataError::InvalidSecret`] when it is shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, MetadataError> {
        let key = secret.as_ref().to_vec();
        if key.len() < MIN_SECRET_BYTES {
            return Err(MetadataError::InvalidSecret {
                reason: "shorter than 16 bytes",
            });
        }
        Ok(PracticeSecret { key })
    }

    /// The pseudonym of `value` for `field`: [`PSEUDONYM_PREFIX`] followed by 16
    /// lowercase hex digits.
    ///
    /// The field name is part of the hashed input, so equal values in different fields
    /// (say a mobile number that is also a host id) do not give linkable pseudonyms.
    ///
    /// # Errors
    /// [`MetadataError::InvalidSecret`] if the hash cannot be keyed with this secret
    /// (HMAC accepts any key length, so this is not expected).
    pub fn pseudonym(&self, field: Field, value: &str) -> Result<String, MetadataError> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).map_err(|_| {
            MetadataError::InvalidSecret {
                reason: "HMAC-SHA256 refused the key",
            }
        })?;
        // Length-prefixed parts keep ("a", "bc") and ("ab", "c") apart.
        for part in [
            PSEUDONYM_DOMAIN,
            field.as_str().as_bytes(),
            value.as_bytes(),
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        let digest = mac.finalize().into_bytes();
        let mut pseudonym = String::with_capacity(PSEUDONYM_PREFIX.len() + PSEUDONYM_HEX_DIGITS);
        pseudonym.push_str(PSEUDONYM_PREFIX);
        for byte in digest.iter().take(PSEUDONYM_HEX_DIGITS / 2) {
            pseudonym.push(hex_digit(byte >> 4));
            pseudonym.push(hex_digit(byte & 0x0f));
        }
        Ok(pseudonym)
    }
}

impl PartialEq for PracticeSecret {
    /// Compares without stopping at the first differing byte.
    fn eq(&self, other: &Self) -> bool {
        self.key.len() == other.key.len()
            && self
                .key
                .iter()
                .zip(&other.key)
                .fold(0u8, |difference, (a, b)| difference | (a ^ b))
                == 0
    }
}

impl Eq for PracticeSecret {}

impl fmt::Debug for PracticeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PracticeSecret(<redacted>)")
    }
}

impl fmt::Display for PracticeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

/// The coarser form of `value` for `field`.
///
/// - Date of birth: the year, from an ISO date `YYYY-MM-DD` (or anything starting with
///   a four-digit year followed by `-` or nothing): `"1971-03-02"` → `"1971"`.
/// - Postcode: the outward code. With whitespace, the first part (`"BS1 4DJ"` →
///   `"BS1"`, Canada's `"K1A 0B1"` → `"K1A"`); a UK postcode written without its space
///   loses its three-character inward code (`"BS14DJ"` → `"BS1"`); a numeric code keeps
///   its first three digits (`"94105-1234"` → `"941"`, the US ZIP3 used for
///   de-identification).
///
/// # Errors
/// [`MetadataError::NoGeneralisation`] for a field without a generalisation;
/// [`MetadataError::ValueNotGeneralisable`] when the value's shape is not recognised
/// (the value is refused rather than sent raw).
pub fn generalise(field: Field, value: &str) -> Result<String, MetadataError> {
    match field {
        Field::PatientDateOfBirth => {
            birth_year(value).ok_or(MetadataError::ValueNotGeneralisable {
                field,
                expected: "an ISO date YYYY-MM-DD or a four-digit year",
            })
        }
        Field::PatientPostcode => outward_code(value).ok_or(MetadataError::ValueNotGeneralisable {
            field,
            expected: "a postcode with an outward code (A9 9AA, A99AA) or a numeric code of 3 or more digits",
        }),
        _ => Err(MetadataError::NoGeneralisation { field }),
    }
}

fn birth_year(value: &str) -> Option<String> {
    let value = value.trim();
    let year = value.get(..4)?;
    let rest = value.get(4..)?;
    let year_ok = year.bytes().all(|byte| byte.is_ascii_digit());
    (year_ok && (rest.is_empty() || rest.starts_with('-'))).then(|| year.to_owned())
}

fn outward_code(value: &str) -> Option<String> {
    let value = value.trim().to_uppercase();
    let mut parts = value.split_whitespace();
    let first = parts.next()?;
    if parts.next().is_some() {
        return Some(first.to_owned());
    }
    if let Some(outward) = uk_outward_without_space(first) {
        return Some(outward.to_owned());
    }
    let leading = first.split('-').next().unwrap_or(first);
    let digits_only = leading.bytes().all(|byte| byte.is_ascii_digit());
    if digits_only && leading.len() >= 3 {
        return leading.get(..3).map(str::to_owned);
    }
    None
}

/// The outward code of a UK postcode written without a space: 5 to 7 ASCII characters
/// whose last three are digit-letter-letter and whose outward part starts with a letter.
fn uk_outward_without_space(code: &str) -> Option<&str> {
    let bytes = code.as_bytes();
    if !(5..=7).contains(&bytes.len()) || !code.is_ascii() {
        return None;
    }
    let split = bytes.len() - 3;
    let inward = &bytes[split..];
    let inward_ok = inward[0].is_ascii_digit()
        && inward[1].is_ascii_alphabetic()
        && inward[2].is_ascii_alphabetic();
    let outward_ok =
        bytes[0].is_ascii_alphabetic() && bytes[..split].iter().all(u8::is_ascii_alphanumeric);
    (inward_ok && outward_ok).then(|| &code[..split])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classify;

    fn secret(text: &str) -> PracticeSecret {
        PracticeSecret::new(text).unwrap()
    }

    #[test]
    fn pseudonym_is_stable_for_one_secret() {
        let key = secret("harbour-health-practice-secret");
        let first = key.pseudonym(Field::HostPatientId, "P-1001").unwrap();
        let again = key.pseudonym(Field::HostPatientId, "P-1001").unwrap();
        assert_eq!(first, again);
        assert!(first.starts_with(PSEUDONYM_PREFIX));
        assert_eq!(first.len(), PSEUDONYM_PREFIX.len() + 16);
        assert!(
            first[PSEUDONYM_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        );
    }

    #[test]
    fn pseudonym_differs_across_secrets_values_and_fields() {
        let one = secret("harbour-health-practice-secret");
        let two = secret("riverside-clinic-practice-secret");
        let base = one
            .pseudonym(Field::PatientMobile, "+447700900101")
            .unwrap();
        assert_ne!(
            base,
            two.pseudonym(Field::PatientMobile, "+447700900101")
                .unwrap()
        );
        assert_ne!(
            base,
            one.pseudonym(Field::PatientMobile, "+447700900102")
                .unwrap()
        );
        assert_ne!(
            base,
            one.pseudonym(Field::HostPatientId, "+447700900101")
                .unwrap()
        );
    }

    #[test]
    fn pseudonym_never_equals_the_raw_value() {
        let key = secret("harbour-health-practice-secret");
        for raw in ["P-1001", "John Deer", "", "psn_0000000000000000"] {
            assert_ne!(key.pseudonym(Field::PatientName, raw).unwrap(), raw);
        }
    }

    #[test]
    fn short_secret_is_refused() {
        let error = PracticeSecret::new("short").unwrap_err();
        assert_eq!(error.code(), "metadata_invalid_secret");
        assert!(PracticeSecret::new([7u8; MIN_SECRET_BYTES]).is_ok());
    }

    #[test]
    fn secret_is_redacted_in_debug_and_display() {
        let key = secret("harbour-health-practice-secret");
        let shown = format!("{key:?} {key} {:#?}", key);
        assert!(!shown.contains("harbour"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn secrets_compare_by_content() {
        assert_eq!(secret("0123456789abcdef"), secret("0123456789abcdef"));
        assert_ne!(secret("0123456789abcdef"), secret("0123456789abcdeg"));
        assert_ne!(secret("0123456789abcdef"), secret("0123456789abcdef0"));
    }

    #[test]
    fn date_of_birth_generalises_to_year() {
        let field = Field::PatientDateOfBirth;
        assert_eq!(generalise(field, "1971-03-02").unwrap(), "1971");
        assert_eq!(generalise(field, " 1988-11-23 ").unwrap(), "1988");
        assert_eq!(generalise(field, "1995").unwrap(), "1995");
        for bad in ["02/03/1971", "71-03-02", "19710302", "né", "abcd-01-01"] {
            let error = generalise(field, bad).unwrap_err();
            assert_eq!(error.code(), "metadata_value_not_generalisable", "{bad}");
            assert!(!error.to_string().contains(bad));
        }
    }

    #[test]
    fn postcode_generalises_to_outward_code() {
        let field = Field::PatientPostcode;
        let cases = [
            ("BS1 4DJ", "BS1"),
            ("bs8 1th", "BS8"),
            ("SW1A 1AA", "SW1A"),
            ("BS14DJ", "BS1"),
            ("SW1A1AA", "SW1A"),
            ("M11AE", "M1"),
            ("K1A 0B1", "K1A"),
            ("94105", "941"),
            ("94105-1234", "941"),
        ];
        for (raw, expected) in cases {
            assert_eq!(generalise(field, raw).unwrap(), expected, "{raw}");
        }
        for bad in ["", "  ", "AB", "12", "ÄÖÜ123"] {
            assert_eq!(
                generalise(field, bad).unwrap_err().code(),
                "metadata_value_not_generalisable",
                "{bad}"
            );
        }
    }

    #[test]
    fn fields_without_generalisation_are_refused() {
        for field in Field::ALL.into_iter().filter(|f| !f.is_generalisable()) {
            let error = generalise(field, "anything").unwrap_err();
            assert_eq!(error, MetadataError::NoGeneralisation { field });
        }
    }
}

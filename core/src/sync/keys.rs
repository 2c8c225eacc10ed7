//! Derived idempotency keys: every POST billbridge sends while syncing carries a key that
//! is a keyed hash (HMAC-SHA256 with the practice's [`IdempotencySecret`]) of the Stripe
//! account, the host object, the operation and the revision. A retried or re-run
//! workflow, on any worker and after a restart, repeats exactly the same key, so Stripe
//! replays the first answer instead of creating a second object. The key reveals
//! nothing: host ids and contents go into the hash, never into the key.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::SyncError;

/// The shortest idempotency secret accepted, in bytes.
pub const MIN_IDEMPOTENCY_SECRET_BYTES: usize = 16;

/// Separates these keys from any other use of the same secret.
const KEY_DOMAIN: &[u8] = b"billbridge.idempotency.v1";

/// Separates content digests from keys.
const DIGEST_DOMAIN: &[u8] = b"billbridge.digest.v1";

/// Prefix of every derived key, so they are recognisable in Stripe's request logs.
const KEY_PREFIX: &str = "bb1_";

/// The practice's secret for deriving idempotency keys. It must be the same on every
/// worker and across restarts (keep it with the host's other secrets): a new secret
/// gives new keys, and a re-run after a crash would then no longer be recognised by
/// Stripe. Never printed: `Debug` shows `<redacted>`.
#[derive(Clone)]
pub struct IdempotencySecret(Vec<u8>);

impl IdempotencySecret {
    /// Wraps the secret bytes (for example 32 random bytes kept by the host).
    ///
    /// # Errors
    /// [`SyncError::IdempotencySecretTooShort`] below
    /// [`MIN_IDEMPOTENCY_SECRET_BYTES`] bytes.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, SyncError> {
        let bytes = secret.as_ref();
        if bytes.len() < MIN_IDEMPOTENCY_SECRET_BYTES {
            return Err(SyncError::IdempotencySecretTooShort {
                length: bytes.len(),
                min: MIN_IDEMPOTENCY_SECRET_BYTES,
            });
        }
        Ok(IdempotencySecret(bytes.to_vec()))
    }
}

impl fmt::Debug for IdempotencySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencySecret(<redacted>)")
    }
}

/// Derives keys and digests for one Stripe account.
#[derive(Clone)]
pub(crate) struct KeyDeriver {
    secret: IdempotencySecret,
    account: String,
}

impl fmt::Debug for KeyDeriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyDeriver")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl KeyDeriver {
    pub(crate) fn new(secret: IdempotencySecret, account: Option<&str>) -> Self {
        KeyDeriver {
            secret,
            account: account.unwrap_or_default().to_owned(),
        }
    }

    fn mac(&self, domain: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        // HMAC takes keys of any length, so keying cannot fail; the fallback keeps the
        // function total without a panic path.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.secret.0) {
            Ok(mac) => mac,
            Err(_) => return [0; 32],
        };
        // Length-prefixed parts keep ("a", "bc") and ("ab", "c") apart.
        for part in std::iter::once(domain)
            .chain(std::iter::once(self.account.as_bytes()))
            .chain(parts.iter().copied())
        {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The idempotency key of `operation` on `subject` (e.g. `invoice:INV-1`) at
    /// `revision`: `bb1_` followed by 64 lowercase hex digits.
    pub(crate) fn key(&self, subject: &str, operation: &str, revision: &str) -> String {
        let digest = self.mac(
            KEY_DOMAIN,
            &[
                subject.as_bytes(),
                operation.as_bytes(),
                revision.as_bytes(),
            ],
        );
        let mut key = String::with_capacity(KEY_PREFIX.len() + 64);
        key.push_str(KEY_PREFIX);
        push_hex(&mut key, &digest);
        key
    }

    /// A keyed digest of `parts` (32 hex digits): compares contents without keeping
    /// them, and names a content-dependent revision.
    pub(crate) fn digest(&self, parts: &[&[u8]]) -> String {
        let digest = self.mac(DIGEST_DOMAIN, parts);
        let mut text = String::with_capacity(32);
        push_hex(&mut text, &digest[..16]);
        text
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classify;

    fn deriver(secret: &str, account: Option<&str>) -> KeyDeriver {
        KeyDeriver::new(IdempotencySecret::new(secret).unwrap(), account)
    }

    #[test]
    fn keys_repeat_for_the_same_inputs_and_differ_otherwise() {
        let keys = deriver("practice-secret-0001", None);
        let first = keys.key("invoice:INV-1", "invoice.create", "0");
        assert_eq!(first, keys.key("invoice:INV-1", "invoice.create", "0"));
        assert_eq!(first.len(), 68);
        assert!(first.starts_with("bb1_"));
        for other in [
            keys.key("invoice:INV-2", "invoice.create", "0"),
            keys.key("invoice:INV-1", "invoice.finalize", "0"),
            keys.key("invoice:INV-1", "invoice.create", "1"),
            deriver("practice-secret-0002", None).key("invoice:INV-1", "invoice.create", "0"),
            deriver("practice-secret-0001", Some("acct_1")).key(
                "invoice:INV-1",
                "invoice.create",
                "0",
            ),
        ] {
            assert_ne!(first, other);
        }
    }

    #[test]
    fn keys_reveal_no_input() {
        let keys = deriver("practice-secret-0001", None);
        let key = keys.key("patient:P-1001", "customer.create", "0");
        assert!(!key.contains("P-1001"));
        assert!(key[4..].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn short_secrets_are_refused_and_never_printed() {
        assert_eq!(
            IdempotencySecret::new("short").unwrap_err().code(),
            "idempotency_secret_too_short"
        );
        let secret = IdempotencySecret::new("practice-secret-0001").unwrap();
        assert!(!format!("{secret:?}").contains("practice"));
    }
}

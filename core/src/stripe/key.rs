//! Stripe API keys: parsing and classifying secret (`sk_…`) and restricted (`rk_…`)
//! keys, refusing publishable keys, and keeping the secret out of every `Debug`,
//! `Display` and error message.

use crate::classify::{Classify, ErrorCategory};
use std::fmt;

/// Which kind of server-side key this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// `sk_…`: full access to the account.
    Secret,
    /// `rk_…`: access limited to the permissions chosen in the dashboard.
    Restricted,
}

crate::vocabulary!(KeyKind, "key kind", "unknown_key_kind", {
    KeyKind::Secret => "secret",
    KeyKind::Restricted => "restricted",
});

impl KeyKind {
    /// The key prefix, `sk_` or `rk_`.
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk_",
            KeyKind::Restricted => "rk_",
        }
    }
}

/// Whether a key acts on test data or on live data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMode {
    /// `…_test_…`: test-mode data, no real money moves.
    Test,
    /// `…_live_…`: live data and real money.
    Live,
}

crate::vocabulary!(KeyMode, "key mode", "unknown_key_mode", {
    KeyMode::Test => "test",
    KeyMode::Live => "live",
});

impl KeyMode {
    fn infix(self) -> &'static str {
        match self {
            KeyMode::Test => "test_",
            KeyMode::Live => "live_",
        }
    }
}

/// Why a string is not a usable server-side Stripe key. No variant carries any
/// character of the key itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key was empty.
    #[error("the Stripe API key is empty")]
    Empty,
    /// A publishable key (`pk_…`) was given where a secret or restricted key is needed.
    #[error(
        "a publishable Stripe key (pk_…) cannot call the API from a server; use a secret (sk_…) or restricted (rk_…) key"
    )]
    Publishable,
    /// The key does not start with the expected prefix.
    #[error("the Stripe API key does not start with {expected}")]
    WrongPrefix {
        /// The accepted prefix or prefixes.
        expected: &'static str,
    },
    /// The key has no `_test_` or `_live_` part after its prefix.
    #[error(
        "the Stripe API key does not say test or live mode (expected {prefix}test_… or {prefix}live_…)"
    )]
    UnknownMode {
        /// The key's prefix (`sk_` or `rk_`).
        prefix: &'static str,
    },
    /// The key holds characters no Stripe key has (spaces, control characters, non-ASCII),
    /// which would also be unsafe in an HTTP header.
    #[error("the Stripe API key contains characters other than letters, digits and underscores")]
    InvalidCharacters,
}

impl Classify for KeyError {
    fn code(&self) -> &'static str {
        match self {
            KeyError::Publishable => "publishable_key",
            KeyError::Empty
            | KeyError::WrongPrefix { .. }
            | KeyError::UnknownMode { .. }
            | KeyError::InvalidCharacters => "invalid_api_key",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

/// A validated Stripe secret or restricted API key.
///
/// `Debug` and `Display` show only the prefix and mode (`sk_test_[redacted]`); the
/// secret is reachable only through [`ApiKey::expose_secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    secret: String,
    kind: KeyKind,
    mode: KeyMode,
}

impl ApiKey {
    /// A secret key, `sk_test_…` or `sk_live_…`.
    ///
    /// # Errors
    /// [`KeyError::Publishable`] for a `pk_…` key, [`KeyError::WrongPrefix`] for any
    /// other non-`sk_` key, and the format errors of [`ApiKey::parse`].
    pub fn secret(key: impl Into<String>) -> Result<Self, KeyError> {
        Self::parse_expecting(key.into(), Some(KeyKind::Secret))
    }

    /// A restricted key, `rk_test_…` or `rk_live_…`.
    ///
    /// # Errors
    /// [`KeyError::Publishable`] for a `pk_…` key, [`KeyError::WrongPrefix`] for any
    /// other non-`rk_` key, and the format errors of [`ApiKey::parse`].
    pub fn restricted(key: impl Into<String>) -> Result<Self, KeyError> {
        Self::parse_expecting(key.into(), Some(KeyKind::Restricted))
    }

    /// A secret or restricted key, whichever `key` is.
    ///
    /// # Errors
    /// [`KeyError::Empty`], [`KeyError::Publishable`] (`pk_…`), [`KeyError::WrongPrefix`]
    /// (neither `sk_` nor `rk_`), [`KeyError::UnknownMode`] (no `_test_`/`_live_`), or
    /// [`KeyError::InvalidCharacters`].
    pub fn parse(key: impl Into<String>) -> Result<Self, KeyError> {
        Self::parse_expecting(key.into(), None)
    }

    fn parse_expecting(secret: String, expected: Option<KeyKind>) -> Result<Self, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::Empty);
        }
        if !secret
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
        {
            return Err(KeyError::InvalidCharacters);
        }
        if secret.starts_with("pk_") {
            return Err(KeyError::Publishable);
        }
        let kind = if secret.starts_with(KeyKind::Secret.prefix()) {
            KeyKind::Secret
        } else if secret.starts_with(KeyKind::Restricted.prefix()) {
            KeyKind::Restricted
        } else {
            return Err(KeyError::WrongPrefix {
                expected: expected.map_or("sk_ or rk_", KeyKind::prefix),
            });
        };
        if let Some(expected) = expected
            && expected != kind
        {
            return Err(KeyError::WrongPrefix {
                expected: expected.prefix(),
            });
        }
        let rest = &secret[kind.prefix().len()..];
        let mode = [KeyMode::Test, KeyMode::Live]
            .into_iter()
            .find(|mode| rest.starts_with(mode.infix()) && rest.len() > mode.infix().len())
            .ok_or(KeyError::UnknownMode {
                prefix: kind.prefix(),
            })?;
        Ok(Self { secret, kind, mode })
    }

    /// Secret or restricted.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Test or live mode.
    pub fn mode(&self) -> KeyMode {
        self.mode
    }

    /// True for a `…_test_…` key.
    pub fn is_test_mode(&self) -> bool {
        self.mode == KeyMode::Test
    }

    /// The full key, for a transport to put in the `Authorization` header. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}[redacted]", self.kind.prefix(), self.mode.infix())
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("secret", &format_args!("{self}"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "sk_test_51HzSecretValue0123456789";

    #[test]
    fn secret_test_key_is_classified() {
        let key = ApiKey::secret(SECRET).unwrap();
        assert_eq!(key.kind(), KeyKind::Secret);
        assert_eq!(key.mode(), KeyMode::Test);
        assert!(key.is_test_mode());
        assert_eq!(key.expose_secret(), SECRET);
    }

    #[test]
    fn restricted_live_key_is_classified() {
        let key = ApiKey::parse("rk_live_abcDEF123").unwrap();
        assert_eq!(key.kind(), KeyKind::Restricted);
        assert_eq!(key.mode(), KeyMode::Live);
        assert!(!key.is_test_mode());
        assert!(ApiKey::restricted("rk_live_abcDEF123").is_ok());
    }

    #[test]
    fn publishable_key_is_rejected_with_its_own_code() {
        for result in [
            ApiKey::secret("pk_test_abc"),
            ApiKey::restricted("pk_live_abc"),
            ApiKey::parse("pk_test_abc"),
        ] {
            let error = result.unwrap_err();
            assert_eq!(error, KeyError::Publishable);
            assert_eq!(error.code(), "publishable_key");
        }
    }

    #[test]
    fn wrong_kind_is_rejected() {
        assert_eq!(
            ApiKey::secret("rk_test_abc").unwrap_err(),
            KeyError::WrongPrefix { expected: "sk_" }
        );
        assert_eq!(
            ApiKey::restricted("sk_test_abc").unwrap_err(),
            KeyError::WrongPrefix { expected: "rk_" }
        );
        assert_eq!(
            ApiKey::parse("whsec_abc").unwrap_err(),
            KeyError::WrongPrefix {
                expected: "sk_ or rk_"
            }
        );
    }

    #[test]
    fn malformed_keys_are_rejected() {
        assert_eq!(ApiKey::parse("").unwrap_err(), KeyError::Empty);
        assert_eq!(
            ApiKey::parse("sk_abc").unwrap_err(),
            KeyError::UnknownMode { prefix: "sk_" }
        );
        assert_eq!(
            ApiKey::parse("sk_test_").unwrap_err(),
            KeyError::UnknownMode { prefix: "sk_" }
        );
        assert_eq!(
            ApiKey::parse("sk_test_abc\r\nX-Evil: 1").unwrap_err(),
            KeyError::InvalidCharacters
        );
        assert_eq!(
            ApiKey::parse(" sk_test_abc").unwrap_err(),
            KeyError::InvalidCharacters
        );
    }

    #[test]
    fn key_never_appears_in_debug_or_display() {
        let key = ApiKey::secret(SECRET).unwrap();
        let debug = format!("{key:?}");
        let display = key.to_string();
        assert!(!debug.contains("51HzSecretValue"), "{debug}");
        assert!(!display.contains("51HzSecretValue"), "{display}");
        assert_eq!(display, "sk_test_[redacted]");
    }

    #[test]
    fn key_never_appears_in_error_messages() {
        let bad = [
            "sk_51HzSecretValue",
            "pk_test_51HzSecretValue",
            "xx_test_51HzSecretValue",
            "sk_test_51HzSecretValue ",
        ];
        for candidate in bad {
            let error = ApiKey::parse(candidate).unwrap_err();
            let text = format!("{error} {error:?}");
            assert!(!text.contains("51HzSecretValue"), "{text}");
        }
    }
}

//! The words a host (and every language binding) uses to name billbridge's choices —
//! raise modes, payer kinds, rate payers, invoice statuses, report columns, fault
//! kinds — and the one error for a wrong word or a wrong combination of arguments,
//! [`ArgumentError`], with a stable code. A binding parses a string with the
//! [`Vocabulary`] trait (or `FromStr`) and never decides anything itself.

use crate::classify::{Classify, ErrorCategory};

/// Longest piece of a rejected word quoted back in an error message.
const MAX_QUOTED: usize = 40;

/// A word, an argument or a combination of arguments billbridge refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgumentError {
    /// A word that is not one of the vocabulary's.
    #[error("unknown {vocabulary} {given:?}: expected one of {}", expected.join(", "))]
    UnknownWord {
        /// What was being named, e.g. `raise mode`.
        vocabulary: &'static str,
        /// The machine code of this vocabulary's refusal, e.g. `unknown_raise_mode`.
        code: &'static str,
        /// The word given (truncated).
        given: String,
        /// Every word accepted.
        expected: &'static [&'static str],
    },
    /// Two arguments that exclude each other were both given.
    #[error("give {first} or {second}, not both")]
    Conflicting {
        /// One argument.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// An argument that needs another one was given alone.
    #[error("{given} needs {missing} as well")]
    Incomplete {
        /// The argument given.
        given: &'static str,
        /// The one it needs.
        missing: &'static str,
    },
    /// A value outside what the argument accepts.
    #[error("{argument} is out of range: {reason}")]
    OutOfRange {
        /// The argument.
        argument: &'static str,
        /// What it must be.
        reason: &'static str,
    },
    /// A number given as a float (a JavaScript number, a Swift `Double`) that is not an
    /// integer the float holds exactly: fractional, not finite, or beyond ±(2^53 − 1),
    /// where neighbouring integers share one float and an amount would silently change.
    #[error("{argument} must be a whole number from -(2^53 - 1) to 2^53 - 1")]
    NotSafeInteger {
        /// The argument.
        argument: &'static str,
    },
}

impl ArgumentError {
    /// The refusal of `given` as a word of `V`.
    pub fn unknown<V: Vocabulary>(given: &str) -> ArgumentError {
        ArgumentError::UnknownWord {
            vocabulary: V::NAME,
            code: V::UNKNOWN_CODE,
            given: given.chars().take(MAX_QUOTED).collect(),
            expected: V::WORDS,
        }
    }

    /// Refuses `first` and `second` given together; `Ok` when at most one is.
    ///
    /// # Errors
    /// [`ArgumentError::Conflicting`] when both are `Some`.
    pub fn at_most_one<A, B>(
        first: (&'static str, &Option<A>),
        second: (&'static str, &Option<B>),
    ) -> Result<(), ArgumentError> {
        if first.1.is_some() && second.1.is_some() {
            return Err(ArgumentError::Conflicting {
                first: first.0,
                second: second.0,
            });
        }
        Ok(())
    }

    /// Both or neither of two arguments that only make sense together.
    ///
    /// # Errors
    /// [`ArgumentError::Incomplete`] when exactly one is `Some`.
    pub fn both_or_neither<A, B>(
        first: (&'static str, Option<A>),
        second: (&'static str, Option<B>),
    ) -> Result<Option<(A, B)>, ArgumentError> {
        match (first.1, second.1) {
            (Some(a), Some(b)) => Ok(Some((a, b))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ArgumentError::Incomplete {
                given: first.0,
                missing: second.0,
            }),
            (None, Some(_)) => Err(ArgumentError::Incomplete {
                given: second.0,
                missing: first.0,
            }),
        }
    }
}

impl Classify for ArgumentError {
    fn code(&self) -> &'static str {
        match self {
            ArgumentError::UnknownWord { code, .. } => code,
            ArgumentError::Conflicting { .. } => "conflicting_arguments",
            ArgumentError::Incomplete { .. } => "incomplete_arguments",
            ArgumentError::OutOfRange { .. } => "argument_out_of_range",
            ArgumentError::NotSafeInteger { .. } => "not_a_safe_integer",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

/// A closed set of words naming one of billbridge's choices, as hosts write them in
/// configuration and bindings pass them as strings: snake_case, stable across releases.
pub trait Vocabulary: Sized + 'static {
    /// What the words name, for messages (`raise mode`).
    const NAME: &'static str;
    /// The machine code of an unknown word (`unknown_raise_mode`).
    const UNKNOWN_CODE: &'static str;
    /// Every word, in the order the choices are declared.
    const WORDS: &'static [&'static str];

    /// The word of this choice.
    fn word(&self) -> &'static str;

    /// The choice a word names.
    ///
    /// # Errors
    /// [`ArgumentError::UnknownWord`] for any other word.
    fn from_word(word: &str) -> Result<Self, ArgumentError>;
}

/// Implements [`Vocabulary`], `as_str`, [`std::str::FromStr`] and [`std::fmt::Display`] for
/// an enum of unit variants, one word each.
#[macro_export]
macro_rules! vocabulary {
    ($type:ty, $name:literal, $code:literal, { $($variant:path => $word:literal),+ $(,)? }) => {
        impl $crate::vocabulary::Vocabulary for $type {
            const NAME: &'static str = $name;
            const UNKNOWN_CODE: &'static str = $code;
            const WORDS: &'static [&'static str] = &[$($word),+];

            fn word(&self) -> &'static str {
                match self {
                    $($variant => $word),+
                }
            }

            fn from_word(word: &str) -> Result<Self, $crate::vocabulary::ArgumentError> {
                match word {
                    $($word => Ok($variant),)+
                    other => Err($crate::vocabulary::ArgumentError::unknown::<$type>(other)),
                }
            }
        }

        impl $type {
            /// The stable snake_case word of this choice.
            pub fn as_str(&self) -> &'static str {
                $crate::vocabulary::Vocabulary::word(self)
            }
        }

        impl ::std::str::FromStr for $type {
            type Err = $crate::vocabulary::ArgumentError;

            fn from_str(word: &str) -> Result<Self, Self::Err> {
                <$type as $crate::vocabulary::Vocabulary>::from_word(word)
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A duration given as a float number of seconds (a binding's natural form):
/// finite and not negative.
///
/// # Errors
/// [`ArgumentError::OutOfRange`] naming `argument` otherwise.
pub fn seconds(argument: &'static str, seconds: f64) -> Result<std::time::Duration, ArgumentError> {
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| ArgumentError::OutOfRange {
        argument,
        reason: "a finite number of seconds, 0 or more",
    })
}

/// A probability given as a float: from 0 to 1.
///
/// # Errors
/// [`ArgumentError::OutOfRange`] naming `argument` otherwise.
pub fn probability(argument: &'static str, rate: f64) -> Result<f64, ArgumentError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(ArgumentError::OutOfRange {
            argument,
            reason: "a probability from 0 to 1",
        })
    }
}

/// The largest integer a binary64 float (a JavaScript number, a Swift `Double`) holds
/// exactly, with every smaller integer: 2^53 − 1 (JavaScript's `Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// An integer given as a float, as JavaScript passes every number: accepted only when
/// the float is exactly that integer and within ±[`MAX_SAFE_INTEGER`], so `1.5`, `NaN`,
/// `Infinity` and `2**53` are refused rather than truncated or rounded.
///
/// # Errors
/// [`ArgumentError::NotSafeInteger`] naming `argument`.
pub fn safe_integer(argument: &'static str, value: f64) -> Result<i64, ArgumentError> {
    #[allow(clippy::cast_precision_loss)] // 2^53 − 1 is itself exact as a float
    let bound = MAX_SAFE_INTEGER as f64;
    if value.is_finite() && value.fract() == 0.0 && value.abs() <= bound {
        // Exact: a whole float within the bound is that integer.
        #[allow(clippy::cast_possible_truncation)] // checked just above
        Ok(value as i64)
    } else {
        Err(ArgumentError::NotSafeInteger { argument })
    }
}

/// A count, size, port or number of days given as a float: a [`safe_integer`] that is
/// 0 or more and fits `T`.
///
/// # Errors
/// [`ArgumentError::NotSafeInteger`] for a float that is no safe integer;
/// [`ArgumentError::OutOfRange`] for a negative number or one too large for `T`.
pub fn safe_unsigned<T: TryFrom<i64>>(
    argument: &'static str,
    value: f64,
) -> Result<T, ArgumentError> {
    let whole = safe_integer(argument, value)?;
    if whole < 0 {
        return Err(ArgumentError::OutOfRange {
            argument,
            reason: "a whole number, 0 or more",
        });
    }
    T::try_from(whole).map_err(|_| ArgumentError::OutOfRange {
        argument,
        reason: "a whole number too large for this argument",
    })
}

/// A whole number of seconds given as a float (a webhook tolerance): a
/// [`safe_unsigned`] number of seconds.
///
/// # Errors
/// As [`safe_unsigned`].
pub fn whole_seconds(
    argument: &'static str,
    value: f64,
) -> Result<std::time::Duration, ArgumentError> {
    safe_unsigned::<u64>(argument, value).map(std::time::Duration::from_secs)
}

/// An integer handed to a language whose numbers are floats: refused, rather than
/// rounded, when it lies beyond ±[`MAX_SAFE_INTEGER`] (only amounts grown past any real
/// invoice by arithmetic can).
///
/// # Errors
/// [`ArgumentError::NotSafeInteger`] naming `argument`.
pub fn to_safe_float(argument: &'static str, value: i64) -> Result<f64, ArgumentError> {
    if value.abs() <= MAX_SAFE_INTEGER {
        // Exact: every integer up to 2^53 − 1 is a float.
        #[allow(clippy::cast_precision_loss)] // checked just above
        Ok(value as f64)
    } else {
        Err(ArgumentError::NotSafeInteger { argument })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Raise;

    #[test]
    fn words_round_trip_and_unknown_words_say_what_is_accepted() {
        for word in Raise::WORDS {
            let mode: Raise = word.parse().unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(mode.as_str(), *word);
        }
        let error = "finalise".parse::<Raise>().unwrap_err();
        assert_eq!(error.code(), "unknown_raise_mode");
        assert_eq!(error.category(), ErrorCategory::Validation);
        assert!(error.to_string().contains("finalize_and_send"), "{error}");
    }

    #[test]
    fn argument_combinations_are_typed_errors() {
        let both = ArgumentError::at_most_one(("due_in_days", &Some(14)), ("due_on", &Some(1)));
        assert_eq!(both.unwrap_err().code(), "conflicting_arguments");
        let half =
            ArgumentError::both_or_neither(("location_id", Some(1)), ("location_name", None::<u8>));
        assert_eq!(half.unwrap_err().code(), "incomplete_arguments");
        assert_eq!(
            seconds("latency", -1.0).unwrap_err().code(),
            "argument_out_of_range"
        );
        assert_eq!(
            seconds("latency", f64::NAN).unwrap_err().code(),
            "argument_out_of_range"
        );
        assert!(probability("rate", 1.5).is_err() && probability("rate", 0.25).is_ok());
    }

    #[test]
    fn a_raise_defaults_to_a_draft_and_service_billing_to_finalize_and_send() {
        assert_eq!(Raise::default(), Raise::Draft);
        let day =
            crate::domain::date::Date::new(2026, 1, 1).unwrap_or_else(|error| panic!("{error}"));
        let billing = crate::sync::ServiceBilling::on(day);
        assert_eq!(
            (billing.invoiced_on, billing.mode),
            (day, Raise::FinalizeAndSend)
        );
    }

    #[test]
    fn floats_cross_as_integers_only_when_exact() {
        assert_eq!(safe_integer("amount", 1250.0), Ok(1250));
        assert_eq!(safe_integer("amount", -5000.0), Ok(-5000));
        assert_eq!(
            safe_integer("amount", 9_007_199_254_740_991.0),
            Ok(MAX_SAFE_INTEGER)
        );
        for refused in [
            1.5,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            9_007_199_254_740_992.0,
            1e300,
        ] {
            let error = safe_integer("amount", refused).unwrap_err();
            assert_eq!(error.code(), "not_a_safe_integer", "{refused}");
            assert_eq!(error.category(), ErrorCategory::Validation);
        }
        assert_eq!(safe_unsigned::<u32>("quantity", 3.0), Ok(3));
        assert_eq!(
            safe_unsigned::<u32>("quantity", -1.0).unwrap_err().code(),
            "argument_out_of_range"
        );
        assert_eq!(
            safe_unsigned::<u16>("port", 70_000.0).unwrap_err().code(),
            "argument_out_of_range"
        );
        assert_eq!(
            safe_unsigned::<u32>("quantity", 0.5).unwrap_err().code(),
            "not_a_safe_integer"
        );
        assert_eq!(
            whole_seconds("tolerance", 300.0),
            Ok(std::time::Duration::from_secs(300))
        );
        assert_eq!(to_safe_float("amount", 8500), Ok(8500.0));
        assert_eq!(
            to_safe_float("amount", i64::MAX).unwrap_err().code(),
            "not_a_safe_integer"
        );
        assert_eq!(
            to_safe_float("amount", -MAX_SAFE_INTEGER),
            Ok(-9_007_199_254_740_991.0)
        );
    }
}

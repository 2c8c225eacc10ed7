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
}

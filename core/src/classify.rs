//! What every billbridge error says about itself, in a leaf module that every other
//! module can depend on: a coarse [`ErrorCategory`] a caller can act on, and the
//! [`Classify`] trait that gives each module's error its stable machine `code()` and
//! its `category()`. The crate's top-level [`crate::Error`] only aggregates them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The coarse kind of an error: what a caller can act on differently.
///
/// Bindings turn each category into one exception class (Python), `err.category`
/// (Node) or one case (Swift), and expose [`Classify::code`] as the fine-grained code.
/// [`ErrorCategory::ALL`] lists every category, so a binding can check that it maps
/// each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCategory {
    /// The input was wrong (bad amount, unknown currency, over-long field, …); retrying
    /// the same call cannot succeed.
    Validation,
    /// The input was well formed but the object is in the wrong state for the
    /// operation (paying a void invoice, editing a finalized one, …).
    InvalidState,
    /// Stripe answered with an error.
    StripeApi,
    /// Stripe could not be reached, or the answer was lost on the way.
    Transport,
    /// A webhook signature did not verify.
    Signature,
    /// The host's store failed.
    Store,
    /// A bug in billbridge: an invariant that should hold did not.
    Internal,
    /// A writer or reader the host supplied (a file, a socket) failed.
    Io,
}

impl ErrorCategory {
    /// Every category, in declaration order.
    pub const ALL: [ErrorCategory; 8] = [
        ErrorCategory::Validation,
        ErrorCategory::InvalidState,
        ErrorCategory::StripeApi,
        ErrorCategory::Transport,
        ErrorCategory::Signature,
        ErrorCategory::Store,
        ErrorCategory::Internal,
        ErrorCategory::Io,
    ];

    /// The category as a stable snake_case string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Validation => "validation",
            ErrorCategory::InvalidState => "invalid_state",
            ErrorCategory::StripeApi => "stripe_api",
            ErrorCategory::Transport => "transport",
            ErrorCategory::Signature => "signature",
            ErrorCategory::Store => "store",
            ErrorCategory::Internal => "internal",
            ErrorCategory::Io => "io",
        }
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every billbridge error says about itself, for callers and bindings that act on
/// it: a stable snake_case machine code (e.g. `currency_mismatch`) that never changes
/// between releases, and the coarse [`ErrorCategory`].
pub trait Classify {
    /// The stable snake_case machine code.
    fn code(&self) -> &'static str;

    /// What kind of failure this is.
    fn category(&self) -> ErrorCategory;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_each_category_once_with_a_distinct_name() {
        let mut names: Vec<&str> = ErrorCategory::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCategory::ALL.len());
        // Adding a variant breaks this exhaustive match: add it to ALL as well.
        for category in ErrorCategory::ALL {
            match category {
                ErrorCategory::Validation
                | ErrorCategory::InvalidState
                | ErrorCategory::StripeApi
                | ErrorCategory::Transport
                | ErrorCategory::Signature
                | ErrorCategory::Store
                | ErrorCategory::Internal
                | ErrorCategory::Io => {}
            }
        }
    }
}

//! `Debug` helpers for personal and secret fields: a log shows whether such a field is
//! set, never its value.

use std::fmt;

/// Stands in for the value of a personal field in a manual `Debug`: prints `<redacted>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An optional personal field as `Debug` shows it: `Some(<redacted>)` when it is set,
/// `None` when it is not.
pub(crate) fn redacted<T>(field: &Option<T>) -> Option<Redacted> {
    field.as_ref().map(|_| Redacted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_presence_without_the_value() {
        let set = Some("John Deer".to_owned());
        assert_eq!(format!("{:?}", redacted(&set)), "Some(<redacted>)");
        assert_eq!(format!("{:?}", redacted::<String>(&None)), "None");
    }
}

//! `Debug` helpers for personal and secret fields: a log shows whether such a field is
//! set, never its value.

use std::fmt;

/// Stands in for the value of a personal field in a manual `Debug`: prints `<redacted>`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An optional personal field as `Debug` shows it: `Some(<redacted>)` when it is set,
/// `None` when it is not.
pub fn redacted<T>(field: &Option<T>) -> Option<Redacted> {
    field.as_ref().map(|_| Redacted)
}

/// Metadata pairs as `Debug` shows them: each key with `<redacted>` for its value, or
/// `""` for an empty value (which removes the key in an update, and says nothing personal).
pub struct MetadataPairs<'a>(pub(crate) &'a [(String, String)]);

impl fmt::Debug for MetadataPairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in self.0 {
            if value.is_empty() {
                map.entry(key, &"");
            } else {
                map.entry(key, &Redacted);
            }
        }
        map.finish()
    }
}

/// Metadata parameters as `Debug` shows them: keys, never values.
pub fn metadata_pairs(pairs: &[(String, String)]) -> MetadataPairs<'_> {
    MetadataPairs(pairs)
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

    #[test]
    fn metadata_pairs_show_keys_and_removals_only() {
        let pairs = vec![
            ("patient".to_owned(), "John Deer".to_owned()),
            ("old".to_owned(), String::new()),
        ];
        assert_eq!(
            format!("{:?}", metadata_pairs(&pairs)),
            r#"{"patient": <redacted>, "old": ""}"#
        );
    }
}

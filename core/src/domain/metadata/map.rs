//! The ordered metadata map billbridge sends to (or reads from) Stripe, and Stripe's
//! limits on keys and values.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::{EntryOrigin, MetadataError};
use super::field::MetadataTarget;

/// Stripe's limit on the number of metadata keys on one object.
pub const MAX_KEYS: usize = 50;
/// Stripe's limit on a metadata key's length, in characters.
pub const MAX_KEY_CHARS: usize = 40;
/// Stripe's limit on a metadata value's length, in characters.
pub const MAX_VALUE_CHARS: usize = 500;

/// Metadata entries in key order, so the same input always gives the same request.
///
/// A map produced by [`MetadataPolicy::render`](super::MetadataPolicy::render) respects
/// Stripe's limits; a map decoded from Stripe or built by hand can be checked with
/// [`MetadataMap::check_limits`]. `Debug` lists keys only: values are personal data.
///
/// The one metadata type of billbridge: the Stripe models, the sync store and invoice
/// lines all hold it. It (de)serialises as a plain JSON object; `null`, which Stripe
/// sends for some objects without metadata, decodes as an empty map.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MetadataMap(BTreeMap<String, String>);

impl MetadataMap {
    /// An empty map.
    pub fn new() -> Self {
        MetadataMap::default()
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets `key` to `value`, returning the previous value. No limit is checked here.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    /// Adds an entry, builder style. No limit is checked here.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// How many entries the map holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map holds no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// The entries as a plain map.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The entries as a plain map, by value.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    /// Checks every entry against Stripe's limits for an object of kind `target`:
    /// at most [`MAX_KEYS`] keys, each non-empty, at most [`MAX_KEY_CHARS`] characters
    /// and free of `[`/`]`, each value at most [`MAX_VALUE_CHARS`] characters.
    ///
    /// # Errors
    /// The first violation found, in key order, as a [`MetadataError`] naming the key.
    pub fn check_limits(&self, target: MetadataTarget) -> Result<(), MetadataError> {
        check_entries(&self.0, target)
    }
}

/// Checks metadata entries against Stripe's limits for an object of kind `target`:
/// at most [`MAX_KEYS`] keys, each non-empty, at most [`MAX_KEY_CHARS`] characters and
/// free of `[`/`]`, each value at most [`MAX_VALUE_CHARS`] characters. The one place
/// these limits are enforced, for policy output and caller-supplied entries alike.
///
/// # Errors
/// The first violation found, in key order, as a [`MetadataError`] naming the key.
pub fn check_entries(
    entries: &BTreeMap<String, String>,
    target: MetadataTarget,
) -> Result<(), MetadataError> {
    if entries.len() > MAX_KEYS {
        return Err(MetadataError::TooManyKeys {
            target,
            count: entries.len(),
        });
    }
    for (key, value) in entries {
        check_key(EntryOrigin::Other, key)?;
        let length = value.chars().count();
        if length > MAX_VALUE_CHARS {
            return Err(MetadataError::ValueTooLong {
                origin: EntryOrigin::Other,
                key: key.clone(),
                length,
            });
        }
    }
    Ok(())
}

impl fmt::Debug for MetadataMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MetadataMap")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<'de> Deserialize<'de> for MetadataMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<BTreeMap<String, String>>::deserialize(deserializer)
            .map(|entries| MetadataMap(entries.unwrap_or_default()))
    }
}

impl From<BTreeMap<String, String>> for MetadataMap {
    fn from(map: BTreeMap<String, String>) -> Self {
        MetadataMap(map)
    }
}

impl From<MetadataMap> for BTreeMap<String, String> {
    fn from(map: MetadataMap) -> Self {
        map.0
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for MetadataMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        MetadataMap(
            entries
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        )
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for MetadataMap {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for MetadataMap {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, entries: I) {
        self.0.extend(
            entries
                .into_iter()
                .map(|(key, value)| (key.into(), value.into())),
        );
    }
}

impl IntoIterator for MetadataMap {
    type Item = (String, String);
    type IntoIter = std::collections::btree_map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a MetadataMap {
    type Item = (&'a String, &'a String);
    type IntoIter = std::collections::btree_map::Iter<'a, String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Checks one key against Stripe's rules.
pub(super) fn check_key(origin: EntryOrigin, key: &str) -> Result<(), MetadataError> {
    if key.is_empty() {
        return Err(MetadataError::KeyInvalid {
            origin,
            key: key.to_owned(),
            reason: "it is empty",
        });
    }
    if key.contains(['[', ']']) {
        return Err(MetadataError::KeyInvalid {
            origin,
            key: key.to_owned(),
            reason: "it contains `[` or `]`",
        });
    }
    let length = key.chars().count();
    if length > MAX_KEY_CHARS {
        return Err(MetadataError::KeyTooLong {
            origin,
            key: key.to_owned(),
            length,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classify;

    #[test]
    fn debug_shows_keys_but_not_values() {
        let map = MetadataMap::new()
            .with("patient_name", "John Deer")
            .with("gender", "male");
        let shown = format!("{map:?}");
        assert!(shown.contains("patient_name") && shown.contains("gender"));
        assert!(
            !shown.contains("John") && !shown.contains("male\""),
            "{shown}"
        );
    }

    #[test]
    fn keys_are_checked_for_emptiness_brackets_and_length() {
        assert_eq!(
            check_key(EntryOrigin::Other, "").unwrap_err().code(),
            "metadata_key_invalid"
        );
        assert_eq!(
            check_key(EntryOrigin::Other, "a[b").unwrap_err().code(),
            "metadata_key_invalid"
        );
        assert_eq!(
            check_key(EntryOrigin::Other, "a]").unwrap_err().code(),
            "metadata_key_invalid"
        );
        assert!(check_key(EntryOrigin::Other, &"k".repeat(MAX_KEY_CHARS)).is_ok());
        assert!(check_key(EntryOrigin::Other, &"é".repeat(MAX_KEY_CHARS)).is_ok());
        let error = check_key(EntryOrigin::Other, &"k".repeat(MAX_KEY_CHARS + 1)).unwrap_err();
        assert_eq!(error.code(), "metadata_key_too_long");
    }

    #[test]
    fn check_limits_counts_keys_and_value_characters() {
        let full: MetadataMap = (0..MAX_KEYS).map(|i| (format!("k{i}"), "v")).collect();
        assert!(full.check_limits(MetadataTarget::Customer).is_ok());
        let over = full.clone().with("one_more", "v");
        assert_eq!(
            over.check_limits(MetadataTarget::Customer).unwrap_err(),
            MetadataError::TooManyKeys {
                target: MetadataTarget::Customer,
                count: MAX_KEYS + 1
            }
        );
        let long = MetadataMap::new().with("note", "ü".repeat(MAX_VALUE_CHARS));
        assert!(long.check_limits(MetadataTarget::Invoice).is_ok());
        let longer = MetadataMap::new().with("note", "ü".repeat(MAX_VALUE_CHARS + 1));
        let error = longer.check_limits(MetadataTarget::Invoice).unwrap_err();
        assert_eq!(error.code(), "metadata_value_too_long");
        assert!(!error.to_string().contains('ü'));
    }

    #[test]
    fn null_decodes_as_an_empty_map() {
        let map: MetadataMap = serde_json::from_str("null").unwrap();
        assert!(map.is_empty());
        let error = serde_json::from_str::<MetadataMap>(r#"{"a":1}"#).unwrap_err();
        assert!(error.is_data(), "{error}");
    }

    #[test]
    fn extend_and_arrays_add_entries_in_key_order() {
        let mut map = MetadataMap::from([("b", "2")]);
        map.extend([("a", "1"), ("b", "3")]);
        assert_eq!(map.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "3")]);
    }

    #[test]
    fn serialises_as_a_plain_object() {
        let map = MetadataMap::new().with("b", "2").with("a", "1");
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"{"a":"1","b":"2"}"#);
        let back: MetadataMap = serde_json::from_str(&json).unwrap();
        assert_eq!(back, map);
    }
}

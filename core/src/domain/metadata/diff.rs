//! The update that takes what Stripe holds to what the policy now wants. Stripe merges
//! metadata key by key and reads `""` as "delete", so a switched-off field is removed
//! by sending its key with an empty value.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::map::MetadataMap;
use super::policy::MetadataPolicy;

/// Keys to set and keys to delete (value `""`), in key order.
///
/// `Debug` lists which keys are set and which deleted, never the values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetadataDiff(BTreeMap<String, String>);

/// Everything needed to turn `old` into `new`: changed or added keys with their new
/// value, and `""` for every key of `old` that `new` lacks. An empty value in `new`
/// counts as absent, since Stripe cannot hold one.
pub fn diff(old: &MetadataMap, new: &MetadataMap) -> MetadataDiff {
    diff_where(old, new, |_| true)
}

/// Like [`diff`], but deletes only keys the `policy` manages (any key of any field on
/// any target, switched on or off). Keys written by other systems, or by the caller as
/// extra entries, are left alone.
pub fn diff_managed(old: &MetadataMap, new: &MetadataMap, policy: &MetadataPolicy) -> MetadataDiff {
    diff_where(old, new, |key| policy.manages_key(key))
}

fn diff_where(
    old: &MetadataMap,
    new: &MetadataMap,
    may_delete: impl Fn(&str) -> bool,
) -> MetadataDiff {
    let mut changes = BTreeMap::new();
    for (key, value) in new.iter().filter(|(_, value)| !value.is_empty()) {
        if old.get(key) != Some(value) {
            changes.insert(key.to_owned(), value.to_owned());
        }
    }
    for (key, _) in old.iter() {
        let wanted = new.get(key).is_some_and(|value| !value.is_empty());
        if !wanted && may_delete(key) {
            changes.insert(key.to_owned(), String::new());
        }
    }
    MetadataDiff(changes)
}

impl MetadataDiff {
    /// Whether nothing needs to be sent.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many keys change.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The keys set to a new value, with that value.
    pub fn sets(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }

    /// The keys deleted.
    pub fn deletions(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(|(_, value)| value.is_empty())
            .map(|(key, _)| key.as_str())
    }

    /// The change for `key`: `Some("")` for a deletion, `None` if untouched.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Form-encoding pairs for Stripe, e.g. `("metadata[patient_gender]", "")` with
    /// `prefix` `"metadata"`. Percent-encoding is the wire layer's job.
    pub fn to_form_pairs(&self, prefix: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(key, value)| (format!("{prefix}[{key}]"), value.clone()))
            .collect()
    }

    /// What `old` becomes once Stripe merges this diff into it key by key: an empty
    /// value deletes the key, any other value sets it.
    pub fn apply(&self, old: &MetadataMap) -> MetadataMap {
        let mut merged = old.clone();
        for (key, value) in &self.0 {
            if value.is_empty() {
                merged.remove(key);
            } else {
                merged.insert(key.clone(), value.clone());
            }
        }
        merged
    }

    /// The changes as a plain map (`""` meaning delete).
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

impl fmt::Debug for MetadataDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataDiff")
            .field("set", &self.sets().map(|(key, _)| key).collect::<Vec<_>>())
            .field("delete", &self.deletions().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::metadata::Field;

    fn map(entries: &[(&str, &str)]) -> MetadataMap {
        entries.iter().copied().collect()
    }

    #[test]
    fn diff_sets_changes_and_deletes_missing_keys() {
        let old = map(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let new = map(&[("a", "1"), ("b", "20"), ("d", "4")]);
        let update = diff(&old, &new);
        assert_eq!(
            update.as_map(),
            map(&[("b", "20"), ("c", ""), ("d", "4")]).as_map()
        );
        assert_eq!(update.apply(&old), new);
        assert_eq!(update.deletions().collect::<Vec<_>>(), ["c"]);
        assert_eq!(update.sets().collect::<Vec<_>>(), [("b", "20"), ("d", "4")]);
    }

    #[test]
    fn identical_maps_need_no_update() {
        let old = map(&[("a", "1")]);
        assert!(diff(&old, &old).is_empty());
        assert!(diff(&MetadataMap::new(), &MetadataMap::new()).is_empty());
    }

    #[test]
    fn empty_value_in_new_counts_as_absent() {
        let old = map(&[("a", "1")]);
        let new = map(&[("a", ""), ("b", "")]);
        let update = diff(&old, &new);
        assert_eq!(update.as_map(), map(&[("a", "")]).as_map());
        assert!(update.apply(&old).is_empty());
    }

    #[test]
    fn managed_diff_leaves_foreign_keys_alone() {
        let policy = MetadataPolicy::hero_compatible().without(Field::PatientGender);
        let old = map(&[
            ("patient_gender", "male"),
            ("crm_contact", "C-9"),
            ("patient_name", "J"),
        ]);
        let new = map(&[("patient_name", "John")]);
        let update = diff_managed(&old, &new, &policy);
        assert_eq!(
            update.as_map(),
            map(&[("patient_gender", ""), ("patient_name", "John")]).as_map()
        );
        assert_eq!(update.apply(&old).get("crm_contact"), Some("C-9"));
    }

    #[test]
    fn form_pairs_use_the_prefix_and_bracketed_keys() {
        let update = diff(&map(&[("gender", "male")]), &map(&[("full_name", "John")]));
        assert_eq!(
            update.to_form_pairs("metadata"),
            [
                ("metadata[full_name]".to_owned(), "John".to_owned()),
                ("metadata[gender]".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn debug_lists_keys_not_values() {
        let update = diff(
            &map(&[("gender", "male")]),
            &map(&[("full_name", "John Deer")]),
        );
        let shown = format!("{update:?}");
        assert!(shown.contains("full_name") && shown.contains("gender"));
        assert!(!shown.contains("John"), "{shown}");
    }
}

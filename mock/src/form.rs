//! The server side of Stripe's bracket notation: turns the flat form pairs of a
//! request (`lines[0][price_data][unit_amount]=1099`) into a tree of nested values,
//! and reads typed parameters from it with Stripe's error messages and codes.

use std::collections::BTreeMap;

use super::error::ApiError;

/// One decoded form value: a leaf string or a nested hash. Arrays are hashes whose
/// keys are indices (`lines[0]`, `lines[1]`, or `lookup_keys[]` appended in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    /// A leaf value as sent (`""` means "unset" where Stripe allows it).
    Text(String),
    /// A nested hash or an indexed array.
    Map(BTreeMap<String, Param>),
}

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Form {
    root: BTreeMap<String, Param>,
}

impl Form {
    /// Decode form pairs into a tree.
    ///
    /// # Errors
    /// A 400 `parameter_invalid` when a key is malformed (unbalanced brackets) or a
    /// key is used both as a value and as a hash.
    pub(crate) fn decode(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut root = BTreeMap::new();
        for (key, value) in pairs {
            let segments = split_key(key)?;
            insert(&mut root, &segments, value, key)?;
        }
        Ok(Self { root })
    }

    /// The top level as decoded.
    pub(crate) fn root(&self) -> &BTreeMap<String, Param> {
        &self.root
    }

    /// A view of the top level.
    pub(crate) fn obj(&self) -> Obj<'_> {
        Obj {
            path: "",
            map: &self.root,
        }
    }
}

fn split_key(key: &str) -> Result<Vec<String>, ApiError> {
    let malformed = || {
        ApiError::invalid(
            Some("parameter_unknown"),
            format!("Received malformed parameter: {key}"),
            Some(key.to_owned()),
        )
    };
    let (head, mut rest) = match key.find('[') {
        Some(position) => (&key[..position], &key[position..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(malformed());
    }
    let mut segments = vec![head.to_owned()];
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return Err(malformed());
        };
        let Some(end) = inner.find(']') else {
            return Err(malformed());
        };
        let segment = &inner[..end];
        if segment.contains('[') {
            return Err(malformed());
        }
        segments.push(segment.to_owned());
        rest = &inner[end + 1..];
    }
    Ok(segments)
}

fn insert(
    map: &mut BTreeMap<String, Param>,
    segments: &[String],
    value: &str,
    full_key: &str,
) -> Result<(), ApiError> {
    let conflict = || {
        ApiError::invalid(
            None,
            format!("Invalid parameter: {full_key} is given both as a value and as a hash"),
            Some(full_key.to_owned()),
        )
    };
    let Some((first, rest)) = segments.split_first() else {
        return Ok(());
    };
    // `name[]` appends to an array: the next free index at this level.
    let key = if first.is_empty() {
        map.len().to_string()
    } else {
        first.clone()
    };
    if rest.is_empty() {
        if matches!(map.get(&key), Some(Param::Map(_))) {
            return Err(conflict());
        }
        map.insert(key, Param::Text(value.to_owned()));
        return Ok(());
    }
    let entry = map
        .entry(key)
        .or_insert_with(|| Param::Map(BTreeMap::new()));
    match entry {
        Param::Map(inner) => insert(inner, rest, value, full_key),
        Param::Text(text) if text.is_empty() => {
            // `metadata=` followed by `metadata[k]=v`: the later keys win.
            let mut inner = BTreeMap::new();
            insert(&mut inner, rest, value, full_key)?;
            *entry = Param::Map(inner);
            Ok(())
        }
        Param::Text(_) => Err(conflict()),
    }
}

/// A hash inside the form, with its bracket path for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Obj<'a> {
    path: &'a str,
    map: &'a BTreeMap<String, Param>,
}

// `Obj` holds a borrowed path; owned paths are built on demand for nested views.
#[derive(Debug, Clone)]
pub(crate) struct OwnedObj<'a> {
    path: String,
    map: &'a BTreeMap<String, Param>,
}

impl<'a> OwnedObj<'a> {
    /// A borrowed view.
    pub(crate) fn view(&self) -> Obj<'_> {
        Obj {
            path: &self.path,
            map: self.map,
        }
    }
}

impl<'a> Obj<'a> {
    /// The bracket path of `name` below this hash.
    pub(crate) fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}[{name}]", self.path)
        }
    }

    /// Whether the parameter was sent at all.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The raw parameter.
    pub(crate) fn raw(&self, name: &str) -> Option<&'a Param> {
        self.map.get(name)
    }

    /// The keys sent at this level.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'a String> {
        self.map.keys()
    }

    /// A string parameter, if sent.
    ///
    /// # Errors
    /// 400 when a hash was sent instead of a string.
    pub(crate) fn text(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Param::Text(text)) => Ok(Some(text.as_str())),
            Some(Param::Map(_)) => {
                let path = self.path_of(name);
                Err(ApiError::invalid(
                    None,
                    format!("Invalid string: {path} must be a string, not a hash"),
                    Some(path),
                ))
            }
        }
    }

    /// A string parameter where `""` means "unset": `Some(None)` clears the field.
    ///
    /// # Errors
    /// As [`Obj::text`].
    pub(crate) fn nullable_text(&self, name: &str) -> Result<Option<Option<String>>, ApiError> {
        Ok(self.text(name)?.map(|text| {
            if text.is_empty() {
                None
            } else {
                Some(text.to_owned())
            }
        }))
    }

    /// A required, non-empty string.
    ///
    /// # Errors
    /// 400 `parameter_missing` when absent or empty.
    pub(crate) fn required_text(&self, name: &str) -> Result<&'a str, ApiError> {
        match self.text(name)? {
            Some(text) if !text.is_empty() => Ok(text),
            _ => Err(ApiError::missing(&self.path_of(name))),
        }
    }

    /// An integer parameter.
    ///
    /// # Errors
    /// 400 `parameter_invalid_integer` when it does not parse.
    pub(crate) fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.text(name)? {
            None => Ok(None),
            Some(text) => text.trim().parse::<i64>().map(Some).map_err(|_| {
                let path = self.path_of(name);
                ApiError::invalid(
                    Some("parameter_invalid_integer"),
                    format!("Invalid integer: {text}"),
                    Some(path),
                )
            }),
        }
    }

    /// A required integer.
    ///
    /// # Errors
    /// 400 `parameter_missing` or `parameter_invalid_integer`.
    pub(crate) fn required_integer(&self, name: &str) -> Result<i64, ApiError> {
        self.integer(name)?
            .ok_or_else(|| ApiError::missing(&self.path_of(name)))
    }

    /// A boolean parameter (`true`/`false`).
    ///
    /// # Errors
    /// 400 when it is neither.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.text(name)? {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => {
                let path = self.path_of(name);
                Err(ApiError::invalid(
                    None,
                    format!("Invalid boolean: {other}"),
                    Some(path),
                ))
            }
        }
    }

    /// A nested hash, if sent (an empty string counts as absent).
    ///
    /// # Errors
    /// 400 when a non-empty string was sent instead of a hash.
    pub(crate) fn object(&self, name: &str) -> Result<Option<OwnedObj<'a>>, ApiError> {
        match self.map.get(name) {
            None => Ok(None),
            Some(Param::Text(text)) if text.is_empty() => Ok(None),
            Some(Param::Map(map)) => Ok(Some(OwnedObj {
                path: self.path_of(name),
                map,
            })),
            Some(Param::Text(_)) => {
                let path = self.path_of(name);
                Err(ApiError::invalid(
                    None,
                    format!("Invalid object: {path} must be a hash"),
                    Some(path),
                ))
            }
        }
    }

    /// An indexed array of hashes (`lines[0][..]`, `lines[1][..]`), in index order.
    ///
    /// # Errors
    /// 400 when an index is not a number or an element is not a hash.
    pub(crate) fn object_list(&self, name: &str) -> Result<Vec<OwnedObj<'a>>, ApiError> {
        let Some(list) = self.object(name)? else {
            return Ok(Vec::new());
        };
        let mut indexed = Vec::new();
        for (key, value) in list.map {
            let path = format!("{}[{key}]", list.path);
            let index: usize = key.parse().map_err(|_| {
                ApiError::invalid(
                    None,
                    format!("Invalid array: {} must be an array", list.path),
                    Some(list.path.clone()),
                )
            })?;
            match value {
                Param::Map(map) => indexed.push((index, OwnedObj { path, map })),
                Param::Text(_) => {
                    return Err(ApiError::invalid(
                        None,
                        format!("Invalid object: {path} must be a hash"),
                        Some(path),
                    ));
                }
            }
        }
        indexed.sort_by_key(|(index, _)| *index);
        Ok(indexed.into_iter().map(|(_, value)| value).collect())
    }

    /// An indexed array of strings (`lookup_keys[]=a&lookup_keys[]=b` or `lookup_keys[0]=a`).
    ///
    /// # Errors
    /// 400 when an element is a hash.
    pub(crate) fn text_list(&self, name: &str) -> Result<Vec<String>, ApiError> {
        match self.map.get(name) {
            None => Ok(Vec::new()),
            Some(Param::Text(text)) if text.is_empty() => Ok(Vec::new()),
            Some(Param::Text(text)) => Ok(vec![text.clone()]),
            Some(Param::Map(map)) => {
                let mut indexed = Vec::new();
                for (key, value) in map {
                    let index: usize = key.parse().unwrap_or(usize::MAX);
                    match value {
                        Param::Text(text) => indexed.push((index, text.clone())),
                        Param::Map(_) => {
                            let path = self.path_of(name);
                            return Err(ApiError::invalid(
                                None,
                                format!("Invalid array: {path} must hold strings"),
                                Some(path),
                            ));
                        }
                    }
                }
                indexed.sort_by_key(|(index, _)| *index);
                Ok(indexed.into_iter().map(|(_, text)| text).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn nested_array_of_hashes_decodes_in_index_order() {
        let form = Form::decode(&pairs(&[
            ("lines[1][quantity]", "2"),
            ("lines[0][price_data][unit_amount]", "1099"),
            ("lines[10][quantity]", "3"),
        ]))
        .unwrap();
        let lines = form.obj().object_list("lines").unwrap();
        assert_eq!(lines.len(), 3);
        let first = lines[0].view();
        let price_data = first.object("price_data").unwrap().unwrap();
        assert_eq!(
            price_data.view().integer("unit_amount").unwrap(),
            Some(1099)
        );
        assert_eq!(lines[2].view().integer("quantity").unwrap(), Some(3));
        assert_eq!(
            price_data.view().path_of("unit_amount"),
            "lines[0][price_data][unit_amount]"
        );
    }

    #[test]
    fn appended_array_keeps_order() {
        let form = Form::decode(&pairs(&[("lookup_keys[]", "b"), ("lookup_keys[]", "a")])).unwrap();
        assert_eq!(form.obj().text_list("lookup_keys").unwrap(), vec!["b", "a"]);
    }

    #[test]
    fn empty_metadata_is_a_text_and_keys_are_a_hash() {
        let form = Form::decode(&pairs(&[("metadata", "")])).unwrap();
        assert_eq!(
            form.obj().raw("metadata"),
            Some(&Param::Text(String::new()))
        );
        let form = Form::decode(&pairs(&[("metadata[a]", ""), ("metadata[b]", "x")])).unwrap();
        assert!(matches!(form.obj().raw("metadata"), Some(Param::Map(map)) if map.len() == 2));
    }

    #[test]
    fn malformed_and_conflicting_keys_are_rejected() {
        assert!(Form::decode(&pairs(&[("a[b", "1")])).is_err());
        assert!(Form::decode(&pairs(&[("a[b]", "1"), ("a", "x")])).is_err());
        assert!(Form::decode(&pairs(&[("a", "x"), ("a[b]", "1")])).is_err());
    }

    #[test]
    fn bad_integer_names_the_full_path() {
        let form = Form::decode(&pairs(&[("lines[0][quantity]", "two")])).unwrap();
        let lines = form.obj().object_list("lines").unwrap();
        let error = lines[0].view().integer("quantity").unwrap_err();
        assert_eq!(error.code, Some("parameter_invalid_integer"));
        assert_eq!(error.param.as_deref(), Some("lines[0][quantity]"));
    }
}

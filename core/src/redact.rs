//! `Debug` helpers for personal and secret fields: a log shows whether such a field is
//! set, never its value; form parameters and bodies show their shape, never their
//! content; URLs show their host, never the credentials written into them; a decoder's
//! message names what it expected, never the value it was given.

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

/// Form pairs as `Debug` shows them: every key in order, each value as `<redacted>`
/// (`""` for an empty one, which clears a field and says nothing personal). A request's
/// values are names, emails, descriptions and metadata values.
pub struct FormPairs<'a>(pub(crate) &'a [(String, String)]);

impl fmt::Debug for FormPairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (key, value) in self.0 {
            if value.is_empty() {
                list.entry(&(key, ""));
            } else {
                list.entry(&(key, Redacted));
            }
        }
        list.finish()
    }
}

/// Form pairs for `Debug`: keys, never values.
pub fn form_pairs(pairs: &[(String, String)]) -> FormPairs<'_> {
    FormPairs(pairs)
}

/// A body as `Debug` shows it: its length, never its bytes.
pub struct Body(pub usize);

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

/// `url` with the credentials of its authority (`user:password@`, or a bare token
/// before `@`) replaced by `[redacted]`, so that a base URL can be shown; a URL without
/// credentials comes back unchanged.
pub fn url(url: &str) -> String {
    let Some(start) = url.find("://").map(|index| index + 3) else {
        return url.to_owned();
    };
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |index| start + index);
    match url[start..authority_end].rfind('@') {
        Some(at) => format!("{}[redacted]{}", &url[..start], &url[start + at..]),
        None => url.to_owned(),
    }
}

/// A decoding error's message (serde's, as a binding reads a host's dict or object into
/// a core type) with the values it quotes left out: `invalid type: string "John Deer",
/// expected u32` becomes `invalid type: string …, expected u32`. What was expected (the
/// words a field accepts) and the names of fields (`missing field `id``) stay; a value in
/// the wrong field can be anything, a name or a date of birth included.
pub fn decode_message(message: &str) -> String {
    let (given, expected) = message.split_at(message.find(", expected").unwrap_or(message.len()));
    let mut shown = String::with_capacity(message.len());
    let mut characters = given.chars();
    while let Some(character) = characters.next() {
        if !matches!(character, '"' | '`' | '\'') {
            shown.push(character);
            continue;
        }
        // A field's name is kept; any other quoted text is a value, left out up to its
        // closing quote (a string's own quotes come escaped).
        let name = shown.ends_with("field ");
        let mut quoted = String::from(character);
        while let Some(inner) = characters.next() {
            quoted.push(inner);
            if inner == '\\' {
                quoted.extend(characters.next());
            } else if inner == character {
                break;
            }
        }
        if name {
            shown.push_str(&quoted);
        } else {
            shown.push('…');
        }
    }
    shown.push_str(expected);
    shown
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

    #[test]
    fn form_pairs_show_keys_in_order_and_clears_only() {
        let pairs = vec![
            ("email".to_owned(), "john@example.com".to_owned()),
            ("metadata[old]".to_owned(), String::new()),
        ];
        assert_eq!(
            format!("{:?}", form_pairs(&pairs)),
            r#"[("email", <redacted>), ("metadata[old]", "")]"#
        );
    }

    #[test]
    fn decode_messages_keep_what_was_expected_and_lose_what_was_given() {
        for (given, shown) in [
            (
                r#"invalid type: string "John \"JD\" Deer", expected u32"#,
                "invalid type: string …, expected u32",
            ),
            (
                "invalid type: integer `19710302`, expected a string",
                "invalid type: integer …, expected a string",
            ),
            (
                "unknown variant `John`, expected `patient` or `organisation`",
                "unknown variant …, expected `patient` or `organisation`",
            ),
            (
                "invalid type: character 'J', expected u32",
                "invalid type: character …, expected u32",
            ),
            ("missing field `id`", "missing field `id`"),
            ("invalid patient id: empty", "invalid patient id: empty"),
        ] {
            assert_eq!(decode_message(given), shown, "{given}");
        }
    }

    #[test]
    fn urls_keep_their_host_and_lose_their_credentials() {
        for (given, shown) in [
            ("https://api.stripe.com", "https://api.stripe.com"),
            (
                "http://user:s3cret@proxy.example:8080/stripe?x=a@b",
                "http://[redacted]@proxy.example:8080/stripe?x=a@b",
            ),
            (
                "https://token@proxy.example",
                "https://[redacted]@proxy.example",
            ),
            (
                "http://a:b@c@proxy.example/",
                "http://[redacted]@proxy.example/",
            ),
            ("not a url @ all", "not a url @ all"),
        ] {
            assert_eq!(url(given), shown, "{given}");
        }
    }
}

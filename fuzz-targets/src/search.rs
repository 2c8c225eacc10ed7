//! The mock's search query language: any text is a query or Stripe's 400 naming
//! `query`, and an accepted query can be evaluated against any record.

use std::collections::BTreeMap;

use billbridge_mock::fuzzing::{SearchResource, parse_search};

use crate::bytes::Bytes;

/// The input: a resource choice, then the query text.
///
/// Properties: parsing never panics; a refusal is a 400 on `query`; an accepted query
/// evaluates against a full record, an empty one and one with metadata without a
/// panic, and a query and its `-` negation never both match a one-clause record.
pub fn search_query(data: &[u8]) {
    let mut input = Bytes::new(data);
    let resource = SearchResource::ALL[usize::from(input.byte()) % SearchResource::ALL.len()];
    let query = String::from_utf8_lossy(input.remainder()).into_owned();
    match parse_search(resource, &query) {
        Ok(parsed) => {
            let full: BTreeMap<String, String> = resource
                .fields()
                .into_iter()
                .enumerate()
                .map(|(index, field)| (field.to_owned(), record_value(field, index)))
                .collect();
            let metadata = BTreeMap::from([
                ("order_id".to_owned(), "6735".to_owned()),
                ("visit".to_owned(), "V 9 follow-up".to_owned()),
            ]);
            let empty = BTreeMap::new();
            for (fields, metadata) in [(&full, &metadata), (&empty, &empty), (&full, &empty)] {
                let _ = parsed.matches(fields, metadata);
            }
        }
        Err(refusal) => {
            assert_eq!(refusal.status, 400, "{query:?}: {refusal:?}");
            assert_eq!(refusal.param.as_deref(), Some("query"), "{query:?}");
        }
    }
    // One clause and its negation split every record in two.
    if !query.chars().any(char::is_whitespace) && !query.starts_with('-') {
        let negated = format!("-{query}");
        if let (Ok(plain), Ok(negation)) = (
            parse_search(resource, &query),
            parse_search(resource, &negated),
        ) {
            let fields: BTreeMap<String, String> = resource
                .fields()
                .into_iter()
                .map(|field| (field.to_owned(), record_value(field, 0)))
                .collect();
            let empty = BTreeMap::new();
            assert_ne!(
                plain.matches(&fields, &empty),
                negation.matches(&fields, &empty),
                "{query:?} and its negation agree"
            );
        }
    }
}

/// A plausible value for each field: numbers for numeric fields, words elsewhere.
fn record_value(field: &str, index: usize) -> String {
    match field {
        "created" | "total" => (1_700_000_000 + index).to_string(),
        "email" => "ada@example.com".to_owned(),
        "name" | "description" => "Ada Lovelace Byron".to_owned(),
        "currency" => "gbp".to_owned(),
        "status" => "open".to_owned(),
        "active" | "shippable" => "true".to_owned(),
        other => format!("{other} value {index}"),
    }
}

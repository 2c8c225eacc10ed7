//! Public entry points to two of the mock's internal parsers, for fuzz targets and
//! property tests outside this crate: the bracket-notation form decoder (flat
//! `lines[0][quantity]=2` pairs into a tree, then read by the typed readers the routes
//! use) and Stripe's search query language. They add no behaviour: each forwards to the
//! code the routes run, and a refusal carries the 400 the mock would answer with.

use std::collections::BTreeMap;

use crate::error::ApiError;
use crate::form::{Form, Obj, Param};
use crate::search::{self, Field, Query};

/// One decoded form value: a leaf string, or a hash (an array is a hash keyed by its
/// indices, as Stripe's bracket notation has it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormNode {
    /// A leaf value as sent (`""` means "unset" where Stripe allows it).
    Text(String),
    /// A nested hash or an indexed array.
    Map(BTreeMap<String, FormNode>),
}

/// A request the mock refuses, as it would answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status (400 for everything these parsers refuse).
    pub status: u16,
    /// Stripe's `error.code`, when the mock gives one.
    pub code: Option<&'static str>,
    /// Stripe's message.
    pub message: String,
    /// The parameter it names (`query` for search).
    pub param: Option<String>,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Refusal {
            status: error.status,
            code: error.code,
            message: error.message,
            param: error.param,
        }
    }
}

fn node(param: &Param) -> FormNode {
    match param {
        Param::Text(text) => FormNode::Text(text.clone()),
        Param::Map(map) => FormNode::Map(
            map.iter()
                .map(|(key, value)| (key.clone(), node(value)))
                .collect(),
        ),
    }
}

/// Decodes form pairs into the tree the routes read.
///
/// # Errors
/// The mock's 400 for a malformed key (unbalanced brackets, an empty name) or a key
/// given both as a value and as a hash.
pub fn decode_form(pairs: &[(String, String)]) -> Result<BTreeMap<String, FormNode>, Refusal> {
    let form = Form::decode(pairs)?;
    Ok(form
        .root()
        .iter()
        .map(|(key, value)| (key.clone(), node(value)))
        .collect())
}

/// Decodes form pairs, then reads every parameter with every typed reader the routes
/// use (string, nullable string, integer, boolean, hash, array of hashes, array of
/// strings), all the way down. Returns how many reads succeeded; a refusal of one
/// reader is an answer, not a failure, so only decoding can fail.
///
/// # Errors
/// As [`decode_form`].
pub fn read_form(pairs: &[(String, String)]) -> Result<usize, Refusal> {
    let form = Form::decode(pairs)?;
    Ok(read_all(form.obj(), 0))
}

/// Bracket nesting is bounded by the key's length, but a fuzzer's keys can be long:
/// deep enough to cover every reader, shallow enough to stay fast.
const MAX_READ_DEPTH: usize = 16;

fn read_all(object: Obj<'_>, depth: usize) -> usize {
    if depth > MAX_READ_DEPTH {
        return 0;
    }
    let mut reads = 0;
    let keys: Vec<&String> = object.keys().collect();
    for key in keys {
        let _ = object.path_of(key);
        reads += usize::from(object.has(key)) + usize::from(object.raw(key).is_some());
        reads += usize::from(object.text(key).is_ok());
        reads += usize::from(object.nullable_text(key).is_ok());
        reads += usize::from(object.required_text(key).is_ok());
        reads += usize::from(object.integer(key).is_ok());
        reads += usize::from(object.required_integer(key).is_ok());
        reads += usize::from(object.boolean(key).is_ok());
        reads += usize::from(object.text_list(key).is_ok());
        if let Ok(Some(inner)) = object.object(key) {
            reads += 1 + read_all(inner.view(), depth + 1);
        }
        if let Ok(items) = object.object_list(key) {
            for item in &items {
                reads += 1 + read_all(item.view(), depth + 1);
            }
        }
    }
    reads
}

/// A resource Stripe's Search API covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchResource {
    /// `GET /v1/customers/search`.
    Customers,
    /// `GET /v1/invoices/search`.
    Invoices,
    /// `GET /v1/products/search`.
    Products,
    /// `GET /v1/prices/search`.
    Prices,
}

impl SearchResource {
    /// Every searchable resource.
    pub const ALL: [SearchResource; 4] = [
        SearchResource::Customers,
        SearchResource::Invoices,
        SearchResource::Products,
        SearchResource::Prices,
    ];

    fn resource(self) -> &'static search::Resource {
        match self {
            SearchResource::Customers => &search::CUSTOMERS,
            SearchResource::Invoices => &search::INVOICES,
            SearchResource::Products => &search::PRODUCTS,
            SearchResource::Prices => &search::PRICES,
        }
    }

    /// The fields a query on this resource may name (besides `metadata['…']`).
    pub fn fields(self) -> Vec<&'static str> {
        self.resource()
            .fields
            .iter()
            .map(|(name, _)| *name)
            .collect()
    }
}

/// A search query the mock accepted.
#[derive(Debug, Clone)]
pub struct SearchQuery(Query);

impl SearchQuery {
    /// Whether a record with these field values and this metadata matches, as the
    /// search routes decide it (an empty value counts as absent).
    pub fn matches(
        &self,
        fields: &BTreeMap<String, String>,
        metadata: &BTreeMap<String, String>,
    ) -> bool {
        self.0.matches(|field| match field {
            Field::Plain(name) => fields.get(*name).cloned(),
            Field::Metadata(key) => metadata.get(key).cloned(),
        })
    }
}

/// Parses a search query for `resource` as the search routes do.
///
/// # Errors
/// The mock's 400 (`param: query`): a query it cannot parse, an unknown field, an
/// operator the field's kind does not take, mixed `AND` and `OR`, too many clauses.
pub fn parse_search(resource: SearchResource, query: &str) -> Result<SearchQuery, Refusal> {
    Query::parse(query, resource.resource())
        .map(SearchQuery)
        .map_err(Refusal::from)
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
    fn the_decoded_tree_is_the_one_the_routes_read() {
        let tree = decode_form(&pairs(&[
            ("lines[0][quantity]", "2"),
            ("metadata[visit]", "V-9"),
        ]))
        .unwrap();
        let FormNode::Map(lines) = &tree["lines"] else {
            panic!("{tree:?}");
        };
        assert_eq!(
            lines["0"],
            FormNode::Map(BTreeMap::from([(
                "quantity".to_owned(),
                FormNode::Text("2".to_owned())
            )]))
        );
        assert!(read_form(&pairs(&[("lines[0][quantity]", "2")])).unwrap() > 0);
        let refusal = decode_form(&pairs(&[("a[b", "1")])).unwrap_err();
        assert_eq!(refusal.status, 400);
    }

    #[test]
    fn search_parses_and_matches_as_the_routes_do() {
        let query = parse_search(SearchResource::Customers, "email:'ada@example.com'").unwrap();
        let fields = BTreeMap::from([("email".to_owned(), "ada@example.com".to_owned())]);
        assert!(query.matches(&fields, &BTreeMap::new()));
        assert!(!query.matches(&BTreeMap::new(), &BTreeMap::new()));
        let refusal = parse_search(SearchResource::Invoices, "colour:'red'").unwrap_err();
        assert_eq!(refusal.param.as_deref(), Some("query"));
        assert!(SearchResource::Prices.fields().contains(&"lookup_key"));
    }
}

//! Stripe's Search query language, whole, as Stripe documents it
//! (<https://docs.stripe.com/search#search-query-language>):
//!
//! - clauses `field:value` (exact: for string fields, the record holds the value's words
//!   in order; for others, the same value), `field~value` (substring of a string field,
//!   at least 3 characters), `field>n`, `<`, `>=`, `<=` on numeric fields, `-` before a
//!   clause negates it, `field:null` matches an absent value (`-field:null` a present
//!   one), `metadata['key']` or `metadata["key"]` names a metadata value;
//! - values quoted with `'` or `"` (a backslash escapes a quote), numbers bare or quoted;
//! - clauses joined by a space or `AND` (all must hold) or by `OR` (one must), the
//!   keywords in any case, never both kinds in one query, no parentheses, at most ten
//!   clauses;
//! - only the fields Stripe lists for each resource, each with its type.
//!
//! Anything else is refused with Stripe's 400 (never a silent empty result). Results
//! page with `page=<next_page>`; `expand[]=total_count` adds the count.

use serde_json::{Value, json};

use super::error::ApiError;
use super::form::Obj;
use super::routes::Ctx;

/// How a searchable field compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Free text: `:` matches words in order, `~` substrings.
    Text,
    /// An exact value (ids, currencies, statuses, metadata).
    Token,
    /// A number or a timestamp: `:` and the comparisons.
    Number,
}

/// The searchable fields of one resource, as Stripe lists them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resource {
    /// The resource's name in Stripe's messages (`customers`).
    pub name: &'static str,
    /// Every field with its kind (`metadata` is always searchable).
    pub fields: &'static [(&'static str, Kind)],
}

/// `GET /v1/customers/search`.
pub(crate) const CUSTOMERS: Resource = Resource {
    name: "customers",
    fields: &[
        ("created", Kind::Number),
        ("email", Kind::Text),
        ("name", Kind::Text),
        ("phone", Kind::Text),
    ],
};

/// `GET /v1/invoices/search`.
pub(crate) const INVOICES: Resource = Resource {
    name: "invoices",
    fields: &[
        ("created", Kind::Number),
        ("currency", Kind::Token),
        ("customer", Kind::Token),
        ("last_finalization_error_code", Kind::Token),
        ("last_finalization_error_type", Kind::Token),
        ("number", Kind::Text),
        ("receipt_number", Kind::Text),
        ("status", Kind::Text),
        ("subscription", Kind::Text),
        ("total", Kind::Number),
    ],
};

/// `GET /v1/products/search`.
pub(crate) const PRODUCTS: Resource = Resource {
    name: "products",
    fields: &[
        ("active", Kind::Token),
        ("description", Kind::Text),
        ("name", Kind::Text),
        ("shippable", Kind::Token),
        ("url", Kind::Text),
    ],
};

/// `GET /v1/prices/search`.
pub(crate) const PRICES: Resource = Resource {
    name: "prices",
    fields: &[
        ("active", Kind::Token),
        ("currency", Kind::Token),
        ("lookup_key", Kind::Text),
        ("product", Kind::Text),
        ("type", Kind::Token),
    ],
};

/// The most clauses one query may hold.
const MAX_CLAUSES: usize = 10;

/// A field a clause looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    /// A plain field (`email`, `status`, `created`, ...).
    Plain(&'static str),
    /// `metadata['key']`.
    Metadata(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equals,
    Contains,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    Text(String),
    Null,
}

#[derive(Debug, Clone)]
struct Clause {
    field: Field,
    kind: Kind,
    operator: Operator,
    value: Operand,
    negated: bool,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    clauses: Vec<Clause>,
    any: bool,
}

/// Stripe's answer to a query it cannot read.
fn unparseable() -> ApiError {
    ApiError::invalid(
        None,
        "We were unable to parse your search query. Try using the format `metadata[\"key\"]:\"value\"` to query for metadata or key:\"value\" to query for other fields.",
        Some("query".into()),
    )
}

fn refused(message: String) -> ApiError {
    ApiError::invalid(None, message, Some("query".into()))
}

/// The lexical pieces of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Operator(Operator),
    Minus,
    Metadata(String),
    Space,
}

fn tokens(query: &str) -> Result<Vec<Token>, ApiError> {
    let mut tokens = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&next) = chars.peek() {
        match next {
            c if c.is_whitespace() => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                tokens.push(Token::Space);
            }
            '\'' | '"' => {
                chars.next();
                tokens.push(Token::Quoted(quoted(&mut chars, next)?));
            }
            ':' => {
                chars.next();
                tokens.push(Token::Operator(Operator::Equals));
            }
            '~' => {
                chars.next();
                tokens.push(Token::Operator(Operator::Contains));
            }
            '>' | '<' => {
                chars.next();
                let or_equal = chars.next_if_eq(&'=').is_some();
                tokens.push(Token::Operator(match (next, or_equal) {
                    ('>', false) => Operator::Greater,
                    ('>', true) => Operator::GreaterOrEqual,
                    ('<', false) => Operator::Less,
                    _ => Operator::LessOrEqual,
                }));
            }
            '-' => {
                chars.next();
                tokens.push(Token::Minus);
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, ':' | '~' | '>' | '<' | '\'' | '"') {
                        break;
                    }
                    if c == '[' && word == "metadata" {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                if word == "metadata" && chars.peek() == Some(&'[') {
                    chars.next();
                    let quote = chars.next().ok_or_else(unparseable)?;
                    if quote != '\'' && quote != '"' {
                        return Err(unparseable());
                    }
                    let key = quoted(&mut chars, quote)?;
                    if chars.next() != Some(']') {
                        return Err(unparseable());
                    }
                    tokens.push(Token::Metadata(key));
                } else if word.is_empty() {
                    return Err(unparseable());
                } else {
                    tokens.push(Token::Word(word));
                }
            }
        }
    }
    Ok(tokens)
}

/// The rest of a quoted value, a backslash escaping the next character.
fn quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quote: char,
) -> Result<String, ApiError> {
    let mut value = String::new();
    loop {
        match chars.next() {
            None => return Err(unparseable()),
            Some('\\') => value.push(chars.next().ok_or_else(unparseable)?),
            Some(c) if c == quote => return Ok(value),
            Some(c) => value.push(c),
        }
    }
}

impl Query {
    /// Parses `query` for `resource`.
    ///
    /// # Errors
    /// Stripe's 400 (`param: query`) for a query it cannot parse, an unknown field, an
    /// operator the field's kind does not take, mixed `AND` and `OR`, or too many
    /// clauses.
    pub(crate) fn parse(query: &str, resource: &Resource) -> Result<Self, ApiError> {
        let mut tokens = tokens(query)?.into_iter().peekable();
        let mut clauses = Vec::new();
        let mut joiner: Option<bool> = None;
        loop {
            while tokens.next_if_eq(&Token::Space).is_some() {}
            if tokens.peek().is_none() {
                break;
            }
            if !clauses.is_empty() {
                // Between clauses: a space alone (AND), or AND / OR between spaces.
                let any = match tokens.peek() {
                    Some(Token::Word(word)) if word.eq_ignore_ascii_case("and") => Some(false),
                    Some(Token::Word(word)) if word.eq_ignore_ascii_case("or") => Some(true),
                    _ => None,
                };
                if any.is_some() {
                    tokens.next();
                    if tokens.next() != Some(Token::Space) {
                        return Err(unparseable());
                    }
                    while tokens.next_if_eq(&Token::Space).is_some() {}
                }
                let any = any.unwrap_or(false);
                match joiner {
                    Some(previous) if previous != any => {
                        return Err(refused(
                            "Search queries may not mix AND and OR; use one or the other."
                                .to_owned(),
                        ));
                    }
                    _ => joiner = Some(any),
                }
            }
            clauses.push(clause(&mut tokens, resource)?);
            if clauses.len() > MAX_CLAUSES {
                return Err(refused(format!(
                    "Search queries may have at most {MAX_CLAUSES} clauses."
                )));
            }
            match tokens.peek() {
                None | Some(Token::Space) => {}
                Some(_) => return Err(unparseable()),
            }
        }
        if clauses.is_empty() {
            return Err(unparseable());
        }
        Ok(Self {
            clauses,
            any: joiner.unwrap_or(false),
        })
    }

    /// Whether an object matches; `lookup` gives the object's value for a field.
    pub(crate) fn matches(&self, lookup: impl Fn(&Field) -> Option<String>) -> bool {
        let check = |clause: &Clause| {
            let actual = lookup(&clause.field).filter(|value| !value.is_empty());
            let hit = match (&clause.value, actual) {
                (Operand::Null, actual) => actual.is_none(),
                (Operand::Text(_), None) => false,
                (Operand::Text(expected), Some(actual)) => {
                    compare(clause.kind, clause.operator, &actual, expected)
                }
            };
            hit != clause.negated
        };
        if self.any {
            self.clauses.iter().any(check)
        } else {
            self.clauses.iter().all(check)
        }
    }
}

fn clause(
    tokens: &mut std::iter::Peekable<std::vec::IntoIter<Token>>,
    resource: &Resource,
) -> Result<Clause, ApiError> {
    let negated = tokens.next_if_eq(&Token::Minus).is_some();
    let (field, kind) = match tokens.next() {
        Some(Token::Metadata(key)) => (Field::Metadata(key), Kind::Token),
        Some(Token::Word(name)) => {
            let Some((field, kind)) = resource
                .fields
                .iter()
                .find(|(field, _)| *field == name)
                .copied()
            else {
                return Err(refused(format!(
                    "Field `{name}` is an unsupported search field for resource `{0}`. See http://stripe.com/docs/search#query-fields-for-{0} for a list of supported fields.",
                    resource.name
                )));
            };
            (Field::Plain(field), kind)
        }
        _ => return Err(unparseable()),
    };
    let Some(Token::Operator(operator)) = tokens.next() else {
        return Err(unparseable());
    };
    let value = match tokens.next() {
        Some(Token::Quoted(text)) => Operand::Text(text),
        Some(Token::Word(word)) if word.eq_ignore_ascii_case("null") => Operand::Null,
        Some(Token::Word(word)) if kind == Kind::Number => Operand::Text(word),
        Some(Token::Minus) if kind == Kind::Number => match tokens.next() {
            Some(Token::Word(digits)) => Operand::Text(format!("-{digits}")),
            _ => return Err(unparseable()),
        },
        _ => return Err(unparseable()),
    };
    let allowed = match operator {
        Operator::Equals => true,
        Operator::Contains => kind == Kind::Text,
        _ => kind == Kind::Number,
    };
    let well_formed = match (&value, operator, kind) {
        (Operand::Null, Operator::Equals, _) => true,
        (Operand::Null, _, _) => false,
        (Operand::Text(text), _, Kind::Number) => text.parse::<i64>().is_ok(),
        (Operand::Text(text), Operator::Contains, _) => text.chars().count() >= 3,
        (Operand::Text(_), _, _) => true,
    };
    if !allowed || !well_formed {
        let name = match &field {
            Field::Plain(name) => (*name).to_owned(),
            Field::Metadata(key) => format!("metadata['{key}']"),
        };
        return Err(refused(format!(
            "The operator or value given for `{name}` is not supported: `~` takes at least 3 characters of a text field, `>`, `<`, `>=` and `<=` take a number."
        )));
    }
    Ok(Clause {
        field,
        kind,
        operator,
        value,
        negated,
    })
}

/// The lowercase words of `text` (letters and digits; everything else separates).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn compare(kind: Kind, operator: Operator, actual: &str, expected: &str) -> bool {
    match (kind, operator) {
        (Kind::Number, _) => match (actual.parse::<i64>(), expected.parse::<i64>()) {
            (Ok(actual), Ok(bound)) => match operator {
                Operator::Equals => actual == bound,
                Operator::Greater => actual > bound,
                Operator::GreaterOrEqual => actual >= bound,
                Operator::Less => actual < bound,
                Operator::LessOrEqual => actual <= bound,
                Operator::Contains => false,
            },
            _ => false,
        },
        (Kind::Text, Operator::Contains) => {
            actual.to_lowercase().contains(&expected.to_lowercase())
        }
        (Kind::Text, _) => {
            let needle = words(expected);
            let haystack = words(actual);
            !needle.is_empty()
                && haystack
                    .windows(needle.len())
                    .any(|window| window == needle.as_slice())
        }
        (Kind::Token, _) => actual.eq_ignore_ascii_case(expected),
    }
}

/// One page of search results (`page` is the offset token of `next_page`), with
/// `total_count` when `expand[]=total_count` asks for it.
///
/// # Errors
/// 400 for a bad `limit` or `page`.
pub(crate) fn page<T>(
    ctx: &Ctx<'_>,
    matches: Vec<&T>,
    id_of: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> Value,
    params: Obj<'_>,
    url: &str,
) -> Result<Value, ApiError> {
    // Stripe's search is not read-after-write: with a lag set, what was written within
    // it is not yet (or, changed, not currently) in the index.
    let matches: Vec<&T> = matches
        .into_iter()
        .filter(|item| ctx.searchable(id_of(item)))
        .collect();
    let limit = super::routes::read_limit(params)?;
    let offset = match params.text("page")? {
        None | Some("") => 0,
        Some(token) => token
            .strip_prefix("page_")
            .and_then(|rest| rest.parse::<usize>().ok())
            .ok_or_else(|| ApiError::invalid(None, "Invalid page token.", Some("page".into())))?,
    };
    let rest = matches.get(offset..).unwrap_or(&[]);
    let has_more = rest.len() > limit;
    let mut result = json!({
        "object": "search_result",
        "data": rest.iter().take(limit).map(|item| render(item)).collect::<Vec<_>>(),
        "has_more": has_more,
        "next_page": if has_more { Some(format!("page_{}", offset + limit)) } else { None },
        "url": url,
    });
    if super::routes::expands(params, "total_count") {
        result["total_count"] = json!(matches.len());
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(field: &Field) -> Option<String> {
        match field {
            Field::Plain("email") => Some("ada@example.com".into()),
            Field::Plain("name") => Some("Ada Lovelace Byron".into()),
            Field::Plain("created") => Some("100".into()),
            Field::Plain("total") => Some("1500".into()),
            Field::Metadata(key) if key == "order_id" => Some("6735".into()),
            _ => None,
        }
    }

    fn matches(query: &str, resource: &Resource) -> bool {
        Query::parse(query, resource)
            .unwrap_or_else(|error| panic!("{query}: {}", error.message))
            .matches(lookup)
    }

    #[test]
    fn space_and_lowercase_joins_are_and() {
        assert!(matches("total>999 metadata['order_id']:'6735'", &INVOICES));
        assert!(matches(
            "total>999 and metadata['order_id']:'6735'",
            &INVOICES
        ));
        assert!(!matches(
            "total>9999 AND metadata['order_id']:'6735'",
            &INVOICES
        ));
        assert!(matches(
            "total>9999 or metadata[\"order_id\"]:\"6735\"",
            &INVOICES
        ));
    }

    #[test]
    fn text_fields_match_words_in_order_and_substrings() {
        assert!(matches("name:'lovelace byron'", &CUSTOMERS));
        assert!(!matches("name:'byron lovelace'", &CUSTOMERS));
        assert!(matches("email~'example'", &CUSTOMERS));
        assert!(matches("-name:'grace'", &CUSTOMERS));
        assert!(matches("phone:null", &CUSTOMERS));
        assert!(matches("-email:null", &CUSTOMERS));
        assert!(matches("created>=100 created<=100 created:100", &CUSTOMERS));
    }

    #[test]
    fn quotes_escape() {
        assert!(!matches(r#"name:"a \"quoted\" name""#, &CUSTOMERS));
        assert!(!matches(r"name:'ada\'s'", &CUSTOMERS));
        assert!(matches(r"name:'lovelace\ byron'", &CUSTOMERS));
    }

    #[test]
    fn what_stripe_refuses_is_refused() {
        for query in [
            "",
            "total>>5",
            "colour:'red'",
            "email>5",
            "name~'ab'",
            "total:'many'",
            "email:'a' AND email:'b' OR email:'c'",
            "email:'a'email:'b'",
            "metadata[order_id]:'1'",
            "email:'unterminated",
            "(email:'a')",
            "a:'1' a:'1' a:'1' a:'1' a:'1' a:'1' a:'1' a:'1' a:'1' a:'1' a:'1'",
        ] {
            assert!(Query::parse(query, &CUSTOMERS).is_err(), "{query}");
        }
        let too_many = ["email:'a'"; 11].join(" ");
        assert!(Query::parse(&too_many, &CUSTOMERS).is_err());
        let ten = ["email:'a'"; 10].join(" OR ");
        assert!(Query::parse(&ten, &CUSTOMERS).is_ok());
    }
}

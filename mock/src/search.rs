//! Stripe's Search query language, as far as billbridge uses it:
//! `field:'value'`, `field~'substring'`, `-field:'value'`, `field>123` (and `>=`, `<`,
//! `<=`), `metadata['key']:'value'`, joined by ` AND ` or ` OR ` (not both, no
//! parentheses). Search results page with `page=<next_page>`.

use serde_json::{Value, json};

use super::error::ApiError;
use super::form::Obj;

/// A field a clause looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    /// A plain field (`email`, `status`, `created`, ...).
    Plain(String),
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

#[derive(Debug, Clone)]
struct Clause {
    field: Field,
    operator: Operator,
    value: String,
    negated: bool,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub(crate) struct Query {
    clauses: Vec<Clause>,
    any: bool,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid(None, message, Some("query".into()))
}

impl Query {
    /// Parse `query` allowing only `fields` (plus `metadata[...]`).
    ///
    /// # Errors
    /// 400 with `param: query` for syntax errors, unknown fields or mixed AND/OR.
    pub(crate) fn parse(query: &str, fields: &[&str]) -> Result<Self, ApiError> {
        let has_and = query.contains(" AND ");
        let has_or = query.contains(" OR ");
        if has_and && has_or {
            return Err(invalid(
                "Search queries may not mix AND and OR; use one or the other.",
            ));
        }
        let separator = if has_or { " OR " } else { " AND " };
        let mut clauses = Vec::new();
        for part in split_outside_quotes(query, separator) {
            clauses.push(parse_clause(part.trim(), fields)?);
        }
        if clauses.is_empty() {
            return Err(invalid("Search query is empty."));
        }
        Ok(Self {
            clauses,
            any: has_or,
        })
    }

    /// Whether an object matches; `lookup` gives the object's value for a field.
    pub(crate) fn matches(&self, lookup: impl Fn(&Field) -> Option<String>) -> bool {
        let check = |clause: &Clause| {
            let actual = lookup(&clause.field);
            let hit = match (&actual, clause.operator) {
                (None, _) => false,
                (Some(actual), Operator::Equals) => actual.eq_ignore_ascii_case(&clause.value),
                (Some(actual), Operator::Contains) => {
                    actual.to_lowercase().contains(&clause.value.to_lowercase())
                }
                (Some(actual), operator) => {
                    match (actual.parse::<i64>(), clause.value.parse::<i64>()) {
                        (Ok(actual), Ok(bound)) => match operator {
                            Operator::Greater => actual > bound,
                            Operator::GreaterOrEqual => actual >= bound,
                            Operator::Less => actual < bound,
                            Operator::LessOrEqual => actual <= bound,
                            Operator::Equals | Operator::Contains => false,
                        },
                        _ => false,
                    }
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

fn split_outside_quotes<'a>(query: &'a str, separator: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut index = 0;
    let bytes = query.as_bytes();
    while index < query.len() {
        let character = char::from(bytes[index]);
        match quote {
            Some(open) if character == open => quote = None,
            Some(_) => {}
            None if character == '\'' || character == '"' => quote = Some(character),
            None if query
                .get(index..)
                .is_some_and(|rest| rest.starts_with(separator)) =>
            {
                parts.push(&query[start..index]);
                index += separator.len();
                start = index;
                continue;
            }
            None => {}
        }
        index += 1;
    }
    parts.push(&query[start..]);
    parts
}

fn unquote(text: &str) -> Option<&str> {
    let text = text.trim();
    for quote in ['\'', '"'] {
        if let Some(inner) = text
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return Some(inner);
        }
    }
    None
}

fn parse_clause(text: &str, fields: &[&str]) -> Result<Clause, ApiError> {
    let (negated, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (field_text, rest) = if let Some(after) = text.strip_prefix("metadata[") {
        let end = after
            .find(']')
            .ok_or_else(|| invalid("Unterminated metadata key in search query."))?;
        (&text[..9 + end + 1], &after[end + 1..])
    } else {
        let end = text
            .find([':', '~', '>', '<'])
            .ok_or_else(|| invalid(format!("Could not parse search clause '{text}'.")))?;
        (&text[..end], &text[end..])
    };
    let field = if let Some(key) = field_text
        .strip_prefix("metadata[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        Field::Metadata(
            unquote(key)
                .ok_or_else(|| invalid("Metadata keys in search queries must be quoted."))?
                .to_owned(),
        )
    } else if fields.contains(&field_text) {
        Field::Plain(field_text.to_owned())
    } else {
        return Err(invalid(format!(
            "Field '{field_text}' is not supported in this search query."
        )));
    };
    let (operator, value_text) = if let Some(value) = rest.strip_prefix(">=") {
        (Operator::GreaterOrEqual, value)
    } else if let Some(value) = rest.strip_prefix("<=") {
        (Operator::LessOrEqual, value)
    } else if let Some(value) = rest.strip_prefix('>') {
        (Operator::Greater, value)
    } else if let Some(value) = rest.strip_prefix('<') {
        (Operator::Less, value)
    } else if let Some(value) = rest.strip_prefix(':') {
        (Operator::Equals, value)
    } else if let Some(value) = rest.strip_prefix('~') {
        (Operator::Contains, value)
    } else {
        return Err(invalid(format!("Could not parse search clause '{text}'.")));
    };
    let value = match unquote(value_text) {
        Some(value) => value.to_owned(),
        None if matches!(operator, Operator::Equals | Operator::Contains) => {
            return Err(invalid("Search values must be quoted."));
        }
        None => value_text.trim().to_owned(),
    };
    Ok(Clause {
        field,
        operator,
        value,
        negated,
    })
}

/// One page of search results (`page` is the offset token of `next_page`).
///
/// # Errors
/// 400 for a bad `limit` or `page`.
pub(crate) fn page<T>(
    matches: Vec<&T>,
    render: impl Fn(&T) -> Value,
    params: Obj<'_>,
    url: &str,
) -> Result<Value, ApiError> {
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
    Ok(json!({
        "object": "search_result",
        "data": rest.iter().take(limit).map(|item| render(item)).collect::<Vec<_>>(),
        "has_more": has_more,
        "next_page": if has_more { Some(format!("page_{}", offset + limit)) } else { None },
        "url": url,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(field: &Field) -> Option<String> {
        match field {
            Field::Plain(name) if name == "email" => Some("a@example.com".into()),
            Field::Plain(name) if name == "created" => Some("100".into()),
            Field::Metadata(key) if key == "ehr_patient_id" => Some("P-1".into()),
            _ => None,
        }
    }

    #[test]
    fn metadata_and_email_clauses() {
        let query = Query::parse(
            "metadata['ehr_patient_id']:'P-1' AND email:'a@example.com'",
            &["email", "created"],
        )
        .unwrap();
        assert!(query.matches(lookup));
        let query = Query::parse("metadata[\"ehr_patient_id\"]:\"P-2\"", &[]).unwrap();
        assert!(!query.matches(lookup));
    }

    #[test]
    fn or_negation_and_ranges() {
        let query = Query::parse("email:'x@y' OR created>=100", &["email", "created"]).unwrap();
        assert!(query.matches(lookup));
        let query = Query::parse("-email:'a@example.com'", &["email"]).unwrap();
        assert!(!query.matches(lookup));
    }

    #[test]
    fn mixing_and_or_and_unknown_fields_fail() {
        assert!(Query::parse("email:'a' AND email:'b' OR email:'c'", &["email"]).is_err());
        assert!(Query::parse("colour:'red'", &["email"]).is_err());
    }

    #[test]
    fn separators_inside_quotes_are_values() {
        let query = Query::parse("email:'a AND b'", &["email"]).unwrap();
        assert!(!query.matches(lookup));
    }
}

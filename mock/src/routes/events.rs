//! `/v1/events`: every change the mock made, newest first, filterable by type.

use serde_json::Value;

use super::{Ctx, paginate};
use crate::error::ApiError;
use crate::form::Obj;
use crate::objects::Event;

/// `invoice.paid` matches `invoice.paid` and the wildcard `invoice.*`.
fn type_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

pub(crate) fn list(ctx: &mut Ctx<'_>, params: Obj<'_>) -> Result<Value, ApiError> {
    let single = params.text("type")?;
    let types = params.text_list("types")?;
    let created = super::RangeFilter::read(params, "created")?;
    let items: Vec<&Event> = ctx
        .acct
        .events
        .newest_first()
        .filter(|event| single.is_none_or(|pattern| type_matches(pattern, &event.kind)))
        .filter(|event| {
            types.is_empty()
                || types
                    .iter()
                    .any(|pattern| type_matches(pattern, &event.kind))
        })
        .filter(|event| created.matches(event.created))
        .collect();
    paginate(
        items,
        |event| &event.id,
        Event::to_json,
        params,
        "event",
        "/v1/events",
    )
}

pub(crate) fn retrieve(ctx: &mut Ctx<'_>, id: &str) -> Result<Value, ApiError> {
    ctx.acct
        .events
        .get(id)
        .map(Event::to_json)
        .ok_or_else(|| ApiError::not_found("event", id, Some("id")))
}

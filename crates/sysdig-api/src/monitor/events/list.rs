//! `GET /api/v2/events`, with the filters and pivot paging of sdcclient's `get_events`.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use config_repo::sysdig::TeamObject;
use serde_json::{Value, json};

use super::{KIND, render, ts};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{ok, parse_bool, parse_id, query_get, query_i64, query_pairs},
};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// `GET /api/v2/events?category=a,b&alertStatus=x&alertStatus=y&filter=<name>&limit=n
/// &pivot=<id>&dir=before|after&include_pivot=true&from=<ms>&to=<ms>`.
pub async fn list(
    State(state): State<SysdigState>,
    caller: Caller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let categories: Option<Vec<String>> = query_get(&pairs, "category")
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        });
    let statuses: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "alertStatus" && !v.is_empty())
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
        .collect();
    let name = query_get(&pairs, "filter")
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let int = |k: &str| query_i64(&pairs, k, "");
    let (from, to) = (int("from")?, int("to")?);
    let limit = match int("limit")? {
        None => DEFAULT_LIMIT,
        Some(l) if l >= 1 && l as usize <= MAX_LIMIT => l as usize,
        Some(_) => {
            return Err(SdcError::bad_request(format!(
                "Parameter 'limit' must be between 1 and {MAX_LIMIT}"
            )));
        }
    };
    let after = match query_get(&pairs, "dir") {
        None | Some("") | Some("before") => false,
        Some("after") => true,
        Some(d) => {
            return Err(SdcError::bad_request(format!(
                "Invalid dir '{d}': expected before or after"
            )));
        }
    };
    let include_pivot = match query_get(&pairs, "include_pivot") {
        None | Some("") => false,
        Some(v) => parse_bool(v).ok_or_else(|| {
            SdcError::bad_request("Parameter 'include_pivot' must be true or false")
        })?,
    };
    let pivot = match query_get(&pairs, "pivot") {
        None | Some("") => None,
        Some(p) => {
            Some(parse_id(p).ok_or_else(|| SdcError::bad_request(format!("Invalid pivot '{p}'")))?)
        }
    };
    let team = caller.team_id();
    let mut all = state.tx(move |c| Ok(c.obj_list(KIND, team)?)).await?;
    let total = all.len();
    // Newest first.
    all.sort_by_key(|o| std::cmp::Reverse((ts(o), o.id)));
    let pivot_key = match pivot {
        None => None,
        Some(p) => Some(
            all.iter()
                .find(|o| o.id == p)
                .map(|o| (ts(o), o.id))
                .ok_or_else(|| SdcError::bad_request(format!("Unknown pivot '{p}'")))?,
        ),
    };
    let matched: Vec<&TeamObject> = all
        .iter()
        .filter(|o| {
            let field = |k: &str| o.doc.get(k).and_then(Value::as_str).unwrap_or("");
            categories
                .as_ref()
                .is_none_or(|cs| cs.iter().any(|c| c == field("category")))
                && (statuses.is_empty() || statuses.iter().any(|s| s == field("status")))
                && name.as_deref().is_none_or(|n| n == field("name"))
                && from.is_none_or(|f| ts(o) >= f)
                && to.is_none_or(|t| ts(o) <= t)
        })
        .collect();
    let matched_count = matched.len();
    let page: Vec<&TeamObject> = match pivot_key {
        None => matched.into_iter().take(limit).collect(),
        Some(pk) => {
            let side: Vec<&TeamObject> = matched
                .into_iter()
                .filter(|o| {
                    let k = (ts(o), o.id);
                    (include_pivot && k == pk) || if after { k > pk } else { k < pk }
                })
                .collect();
            if after {
                // The `limit` events just after the pivot, still newest first.
                let skip = side.len().saturating_sub(limit);
                side.into_iter().skip(skip).collect()
            } else {
                side.into_iter().take(limit).collect()
            }
        }
    };
    let events: Vec<sysdig::events::Event> = page.into_iter().map(render).collect();
    Ok(ok(
        json!({"events": events, "total": total, "matched": matched_count}),
    ))
}

//! `/api/v2/events`: the team's custom events, with the filters and pivot paging that
//! sdcclient's `get_events` sends. Event ids are strings on the wire.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{
    JsonBody, Kind, check_fields, created, ok, owned::Owned, parse_bool, query_get, query_pairs,
    required_str,
};
use crate::{
    app::AppState,
    sysdig::{
        auth::Caller,
        db::{self, Obj},
        error::{SdcError, SdcResult},
    },
};

pub const KIND: &str = "event";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// Events for the generic handlers of `owned` (get and delete; they are never updated).
pub struct Event;

impl Owned for Event {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "event";
    const WHAT: &'static str = "Event";

    fn not_found() -> SdcError {
        SdcError::not_found("Event not found")
    }

    fn view(_: &Connection, o: &Obj, _: &Caller) -> SdcResult<Value> {
        Ok(render(o))
    }
}

/// Single spaces around `=`/`!=` and between words, outside quotes: sdcclient's specs expect
/// `host.hostName='ci'` back as `host.hostName = 'ci'`.
pub fn normalize_scope(scope: &str) -> String {
    let mut spaced = String::with_capacity(scope.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = scope.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Some(q) => {
                spaced.push(ch);
                if ch == q {
                    quote = None;
                }
            }
            None => match ch {
                '\'' | '"' => {
                    quote = Some(ch);
                    spaced.push(ch);
                }
                '!' if chars.peek() == Some(&'=') => {
                    chars.next();
                    spaced.push_str(" != ");
                }
                '=' => spaced.push_str(" = "),
                c if c.is_whitespace() => spaced.push(' '),
                c => spaced.push(c),
            },
        }
    }
    // Collapse runs of spaces outside quotes.
    let mut out = String::with_capacity(spaced.len());
    let mut quote: Option<char> = None;
    for ch in spaced.chars() {
        match quote {
            Some(q) => {
                if ch == q {
                    quote = None;
                }
                out.push(ch);
            }
            None => {
                if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                }
                if !(ch == ' ' && out.ends_with(' ')) {
                    out.push(ch);
                }
            }
        }
    }
    out.trim().to_string()
}

fn render(o: &Obj) -> Value {
    let mut v = o.render();
    if let Some(m) = v.as_object_mut() {
        m.insert("id".into(), o.id.to_string().into());
        m.remove("version");
        m.remove("modifiedOn");
    }
    v
}

fn ts(o: &Obj) -> i64 {
    o.doc.get("timestamp").and_then(Value::as_i64).unwrap_or(0)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let m = body.wrapped("event")?;
    check_fields(
        &m,
        &[
            ("name", Kind::Str),
            ("description", Kind::Str),
            ("severity", Kind::Int),
            ("scope", Kind::Str),
            ("tags", Kind::Obj),
            ("timestamp", Kind::Int),
        ],
    )?;
    let name = required_str(&m, "name")?;
    let severity = m.get("severity").and_then(Value::as_i64);
    if severity.is_some_and(|s| !(0..=7).contains(&s)) {
        return Err(SdcError::bad_request(
            "Field 'severity' must be between 0 and 7",
        ));
    }
    let tags = m.get("tags").cloned().unwrap_or(Value::Null);
    if let Some(t) = tags.as_object()
        && !t.values().all(Value::is_string)
    {
        return Err(SdcError::bad_request(
            "Field 'tags' must map names to strings",
        ));
    }
    let now = db::now_ms();
    let mut doc = Map::new();
    doc.insert("name".into(), name.into());
    doc.insert(
        "description".into(),
        m.get("description").cloned().unwrap_or(Value::Null),
    );
    doc.insert("severity".into(), severity.map_or(Value::Null, Value::from));
    doc.insert(
        "scope".into(),
        m.get("scope")
            .and_then(Value::as_str)
            .map_or(Value::Null, |s| normalize_scope(s).into()),
    );
    doc.insert("tags".into(), if tags.is_null() { json!({}) } else { tags });
    doc.insert(
        "timestamp".into(),
        m.get("timestamp")
            .and_then(Value::as_i64)
            .unwrap_or(now)
            .into(),
    );
    doc.insert("category".into(), "custom".into());
    doc.insert("type".into(), "CUSTOM".into());
    doc.insert("source".into(), "api".into());
    // Custom events count as triggered for the `alertStatus` filter.
    doc.insert("status".into(), "triggered".into());
    let team = caller.team_id();
    let o = state
        .sysdig
        .db
        .tx(move |c| db::obj_insert(c, KIND, team, doc))
        .await?;
    Ok(created(json!({"event": render(&o)})))
}

/// `GET /api/v2/events?category=a,b&alertStatus=x&alertStatus=y&filter=<name>&limit=n
/// &pivot=<id>&dir=before|after&include_pivot=true&from=<ms>&to=<ms>`.
pub async fn list(
    State(state): State<AppState>,
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
    let int = |k: &str| -> SdcResult<Option<i64>> {
        match query_get(&pairs, k) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| SdcError::bad_request(format!("Parameter '{k}' must be an integer"))),
        }
    };
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
        Some(p) => Some(
            super::parse_id(p)
                .ok_or_else(|| SdcError::bad_request(format!("Invalid pivot '{p}'")))?,
        ),
    };
    let team = caller.team_id();
    let mut all = state
        .sysdig
        .db
        .tx(move |c| db::obj_list(c, KIND, team))
        .await?;
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
    let matched: Vec<&Obj> = all
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
    let page: Vec<&Obj> = match pivot_key {
        None => matched.into_iter().take(limit).collect(),
        Some(pk) => {
            let side: Vec<&Obj> = matched
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
    let events: Vec<Value> = page.into_iter().map(render).collect();
    Ok(ok(
        json!({"events": events, "total": total, "matched": matched_count}),
    ))
}

#[cfg(test)]
mod tests {
    use super::normalize_scope;

    #[test]
    fn scope_spacing_is_normalised_outside_quotes() {
        assert_eq!(
            normalize_scope("host.hostName='ci'"),
            "host.hostName = 'ci'"
        );
        assert_eq!(
            normalize_scope("a  =  'x = y'   and b!=\"c\""),
            "a = 'x = y' and b != \"c\""
        );
        assert_eq!(normalize_scope("  a in ('x', 'y') "), "a in ('x', 'y')");
    }
}

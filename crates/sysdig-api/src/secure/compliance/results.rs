//! `/api/complianceResults`: the list (newest first, `{"results": [...], "page": {"prev",
//! "next", "total"}}`, paged by result id: `direction=NEXT` (the default) continues to older
//! results after `cursor`, `PREV` to newer ones; `filter` matches task names ignoring case),
//! one result, and its CSV. `POST /vigil/sysdig/secure/complianceResults` (emulator only)
//! stores results, counting passes, failures and warnings from their tests when not given.

use axum::{
    extract::{RawQuery, State},
    http::header,
    response::{IntoResponse, Response},
};
use config_repo::sysdig::{Document, TeamObject};
use serde_json::{Value, json};

use super::{RESULT, TASK};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{JsonBody, P, created, ok, parse_id, query_get, query_i64, query_pairs},
    secure::{SecureCaller, ingest::events_of},
};

const MAX_LIMIT: i64 = 1000;

fn not_found() -> SdcError {
    SdcError::not_found("Compliance result not found")
}

/// A result as the API shows it: the stored document with its id.
fn render(o: &TeamObject) -> Value {
    let mut m = o.doc.clone();
    m.insert("id".into(), o.id.into());
    Value::Object(m)
}

fn ts(o: &TeamObject) -> i64 {
    o.doc
        .get("timestampNs")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

pub async fn list(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let limit = query_i64(&pairs, "limit", "")?.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(SdcError::bad_request(format!(
            "Parameter 'limit' must be between 1 and {MAX_LIMIT}"
        )));
    }
    let limit = usize::try_from(limit).unwrap_or(1);
    // sdcclient sends a bare `cursor` key when it has none.
    let cursor = query_i64(&pairs, "cursor", " (a result id)")?;
    let newer = match query_get(&pairs, "direction")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("") | Some("NEXT") => false,
        Some("PREV") => true,
        Some(d) => {
            return Err(SdcError::bad_request(format!(
                "Invalid direction '{d}': expected PREV or NEXT"
            )));
        }
    };
    let needle = query_get(&pairs, "filter").unwrap_or("").to_lowercase();
    let team = caller.team_id();
    let mut all = state.tx(move |c| Ok(c.obj_list(RESULT, team)?)).await?;
    all.sort_by_key(|o| std::cmp::Reverse((ts(o), o.id)));
    let matched: Vec<&TeamObject> = all
        .iter()
        .filter(|o| {
            needle.is_empty()
                || o.doc
                    .get("taskName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.to_lowercase().contains(&needle))
        })
        .collect();
    let page: Vec<&TeamObject> = match cursor {
        None => matched.iter().take(limit).copied().collect(),
        Some(c) => {
            let at = all
                .iter()
                .find(|o| o.id == c)
                .map(|o| (ts(o), o.id))
                .ok_or_else(|| SdcError::bad_request(format!("Unknown cursor {c}")))?;
            if newer {
                let side: Vec<&TeamObject> = matched
                    .iter()
                    .copied()
                    .filter(|o| (ts(o), o.id) > at)
                    .collect();
                let skip = side.len().saturating_sub(limit);
                side.into_iter().skip(skip).collect()
            } else {
                matched
                    .iter()
                    .copied()
                    .filter(|o| (ts(o), o.id) < at)
                    .take(limit)
                    .collect()
            }
        }
    };
    let results: Vec<Value> = page.iter().map(|o| render(o)).collect();
    Ok(ok(json!({
        "results": results,
        "page": {
            "prev": page.first().map(|o| o.id),
            "next": page.last().map(|o| o.id),
            "total": matched.len(),
        },
    })))
}

async fn load(state: &SysdigState, caller: &SecureCaller, id: &str) -> SdcResult<TeamObject> {
    let id = parse_id(id).ok_or_else(not_found)?;
    let team = caller.team_id();
    state
        .tx(move |c| Ok(c.obj_get(RESULT, team, id)?))
        .await?
        .ok_or_else(not_found)
}

pub async fn get(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    Ok(ok(render(&load(&state, &caller, &id).await?)))
}

/// One CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(" "),
        v => v.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The result's tests as CSV: one row per test result, under a header row.
pub fn csv(result: &TeamObject) -> String {
    let mut out = String::from(
        "section,sectionDescription,test,status,description,details,items,remediation\r\n",
    );
    let tests = result.doc.get("tests").and_then(Value::as_array);
    for section in tests.into_iter().flatten() {
        let rows = section.get("results").and_then(Value::as_array);
        for r in rows.into_iter().flatten() {
            let f = |v: Option<&Value>| csv_field(v.unwrap_or(&Value::Null));
            let cells = [
                f(section.get("sectionId")),
                f(section.get("description")),
                f(r.get("testNumber")),
                f(r.get("status")),
                f(r.get("description")),
                f(r.get("details")),
                f(r.get("items")),
                f(r.get("remediation")),
            ];
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

pub async fn get_csv(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let result = load(&state, &caller, &id).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv(&result),
    )
        .into_response())
}

/// Checks result `i` and fills what can be derived: counts from the tests, the risk, the
/// task's name and module from its task, the time.
fn checked(i: usize, mut m: Document, task: Option<&TeamObject>) -> SdcResult<Document> {
    let bad = |what: &str| SdcError::bad_request(format!("Result {i}: {what}"));
    m.remove("id");
    let tests = match m.get("tests") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_object) => a.clone(),
        Some(_) => return Err(bad("field 'tests' must be an array of sections")),
    };
    let statuses: Vec<String> = tests
        .iter()
        .filter_map(|s| s.get("results").and_then(Value::as_array))
        .flatten()
        .filter_map(|r| r.get("status").and_then(Value::as_str).map(str::to_string))
        .collect();
    let count = |s: &str| statuses.iter().filter(|x| x.as_str() == s).count() as i64;
    let (pass, fail, warn) = (count("pass"), count("fail"), count("warn"));
    for (k, v) in [
        ("passCount", pass),
        ("failCount", fail),
        ("warnCount", warn),
        ("testsRun", statuses.len() as i64),
    ] {
        m.entry(k).or_insert(v.into());
    }
    let risk = if fail > 0 {
        "high"
    } else if warn > 0 {
        "medium"
    } else {
        "low"
    };
    m.entry("risk").or_insert(risk.into());
    m.insert("tests".into(), tests.into());
    if let Some(t) = task {
        m.insert("taskId".into(), t.id.into());
        for (from, to) in [("name", "taskName"), ("moduleName", "moduleName")] {
            if let Some(v) = t.doc.get(from) {
                m.insert(to.into(), v.clone());
            }
        }
    }
    for k in ["taskName", "moduleName", "hostMac"] {
        match m.get(k) {
            None | Some(Value::Null) => {
                m.insert(k.into(), "".into());
            }
            Some(Value::String(_)) => {}
            Some(_) => return Err(bad(&format!("field '{k}' must be a string"))),
        }
    }
    match m.get("timestampNs") {
        None | Some(Value::Null) => {
            m.insert(
                "timestampNs".into(),
                (jiff::Timestamp::now().as_nanosecond() as i64).into(),
            );
        }
        Some(v) if v.as_i64().is_some_and(|t| t >= 0) => {}
        Some(_) => return Err(bad("field 'timestampNs' must be a non-negative integer")),
    }
    Ok(m)
}

pub async fn ingest(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    JsonBody(body): JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let docs = events_of(body)?;
    let team = caller.team_id();
    let stored = state
        .tx(move |c| {
            docs.into_iter()
                .enumerate()
                .map(|(i, m)| {
                    let task = match m.get("taskId") {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(
                            v.as_i64()
                                .and_then(|id| c.obj_get(TASK, team, id).transpose())
                                .transpose()?
                                .ok_or_else(|| {
                                    SdcError::bad_request(format!(
                                        "Result {i}: no compliance task {v}"
                                    ))
                                })?,
                        ),
                    };
                    let doc = checked(i, m, task.as_ref())?;
                    Ok(c.obj_insert(RESULT, team, doc)?)
                })
                .collect::<SdcResult<Vec<_>>>()
        })
        .await?;
    let data: Vec<Value> = stored.iter().map(render).collect();
    Ok(created(json!({ "data": data })))
}

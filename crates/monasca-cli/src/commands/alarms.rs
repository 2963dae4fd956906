//! The alarm commands: list, show, update, patch, delete, count and the state history.

use anyhow::Result;
use jiff::Timestamp;
use monasca::{
    Client,
    alarms::{
        CountAlarms, DeleteAlarm, GetAlarm, ListAlarms, ListStateHistory, Params, UpdateAlarm,
    },
    types::{AlarmMetric, AlarmUpdate as AlarmUpdateBody, StateHistoryEntry},
};

use crate::{
    args::{
        check_group_by, check_severity, check_sort_by, check_state, dimensions_param, given,
        query_dimensions, start_time, strict_query_dimensions,
    },
    cli::{
        AlarmCount, AlarmFilters, AlarmHistory, AlarmHistoryList, AlarmId, AlarmList, AlarmPatch,
        AlarmUpdate, ListPaging, Output,
    },
    output::{ValueFormat, dict_lines, done, json, json_ascii, print, py_str},
};

/// The filters of alarm-list and alarm-count, checked (state, then severity) and in the real
/// CLI's order: `alarm_definition_id, metric_name, metric_dimensions, state, severity,
/// state_updated_start_time, lifecycle_state, link`.
fn filter_params(f: AlarmFilters) -> Result<Params> {
    let state = given(f.state);
    if let Some(s) = &state {
        check_state(s)?;
    }
    let severity = given(f.severity);
    if let Some(s) = &severity {
        check_severity(s)?;
    }
    Ok(Params::new()
        .set_opt("alarm_definition_id", given(f.alarm_definition_id))
        .set_opt("metric_name", given(f.metric_name))
        .set_opt(
            "metric_dimensions",
            dimensions_param(&query_dimensions(&f.metric_dimensions)),
        )
        .set_opt("state", state)
        .set_opt("severity", severity)
        .set_opt(
            "state_updated_start_time",
            given(f.state_updated_start_time),
        )
        .set_opt("lifecycle_state", given(f.lifecycle_state))
        .set_opt("link", given(f.link)))
}

fn paging(p: Params, paging: ListPaging) -> Params {
    p.set_opt("limit", paging.limit.map(|l| l.to_string()))
        .set_opt("offset", given(paging.offset))
}

/// The metric_name and metric_dimensions cells of alarm-list and the history tables: each
/// metric takes as many lines as it has dimensions, its name on the first.
///
/// Deliberate difference: the real CLI gives a metric without dimensions a name line but no
/// dimension line, so the names of later metrics drift out of line with their dimensions;
/// here such a metric takes one line in both cells.
fn metric_cells(metrics: &[AlarmMetric]) -> (String, String) {
    let (mut names, mut dims) = (Vec::new(), Vec::new());
    for m in metrics {
        let height = m.dimensions.len().max(1);
        names.push(m.name.clone());
        names.extend(std::iter::repeat_n(String::new(), height - 1));
        if m.dimensions.is_empty() {
            dims.push(String::new());
        } else {
            dims.push(dict_lines(m.dimensions.iter().map(|(k, v)| (k, v.clone()))));
        }
    }
    (names.join("\n"), dims.join("\n"))
}

/// `GET /alarms`; `sort_by` comes last, after `limit` and `offset`, as the real CLI sends it.
pub async fn list(client: &Client, a: AlarmList) -> Result<()> {
    let mut params = paging(filter_params(a.filters)?, a.paging);
    if let Some(s) = given(a.sort_by) {
        check_sort_by(&s, &monasca::alarms::ALARM_SORT_FIELDS, true)?;
        params = params.set("sort_by", s);
    }
    let env = client.send(&ListAlarms(params)).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .into_iter()
        .map(|al| {
            let (names, dims) = metric_cells(&al.metrics);
            let opt = |o: Option<String>| o.unwrap_or_else(|| "None".into());
            vec![
                al.id,
                al.alarm_definition.id,
                al.alarm_definition.name,
                names,
                dims,
                al.alarm_definition.severity.to_string(),
                al.state.to_string(),
                opt(al.lifecycle_state),
                opt(al.link),
                al.state_updated_timestamp,
                al.updated_timestamp,
                al.created_timestamp,
            ]
        })
        .collect();
    a.out.print_rows(
        &[
            "id",
            "alarm_definition_id",
            "alarm_definition_name",
            "metric_name",
            "metric_dimensions",
            "severity",
            "state",
            "lifecycle_state",
            "link",
            "state_updated_timestamp",
            "updated_timestamp",
            "created_timestamp",
        ],
        rows,
    )
}

pub async fn show_one(client: &Client, a: AlarmId) -> Result<()> {
    let alarm = client.send(&GetAlarm { id: a.id }).await?;
    if a.out.json {
        return print(&json(&alarm)?);
    }
    a.out.print_object(&alarm, |k| match k {
        "links" => ValueFormat::DictList,
        "id" | "alarm_definition" | "metrics" | "state" => ValueFormat::Json,
        _ => ValueFormat::Str,
    })
}

/// `PUT /alarms/{id}` with state (checked, sent as typed), lifecycle_state and link.
pub async fn update(client: &Client, a: AlarmUpdate) -> Result<()> {
    check_state(&a.state)?;
    let body = AlarmUpdateBody {
        state: Some(a.state.into()),
        lifecycle_state: Some(a.lifecycle_state),
        link: Some(a.link),
    };
    send_update(client, a.id, body, false).await
}

/// `PATCH /alarms/{id}` with the options given and non-empty (`{}` for none).
pub async fn patch(client: &Client, a: AlarmPatch) -> Result<()> {
    let state = given(a.state);
    if let Some(s) = &state {
        check_state(s)?;
    }
    let body = AlarmUpdateBody {
        state: state.map(Into::into),
        lifecycle_state: given(a.lifecycle_state),
        link: given(a.link),
    };
    send_update(client, a.id, body, true).await
}

async fn send_update(
    client: &Client,
    id: String,
    body: AlarmUpdateBody,
    partial: bool,
) -> Result<()> {
    let updated = client.send(&UpdateAlarm { id, body, partial }).await?;
    print(&json_ascii(&updated)?)
}

pub async fn delete(client: &Client, a: AlarmId) -> Result<()> {
    client.send(&DeleteAlarm { id: a.id }).await?;
    done("Successfully deleted alarm")
}

/// `GET /alarms/count`: the table's headers are the response's `columns`; `-j` prints the
/// whole response.
pub async fn count(client: &Client, a: AlarmCount) -> Result<()> {
    let mut params = filter_params(a.filters)?;
    if let Some(g) = given(a.group_by) {
        check_group_by(&g)?;
        params = params.set("group_by", g);
    }
    let counts = client.send(&CountAlarms(paging(params, a.paging))).await?;
    if a.out.json {
        return print(&json(&counts)?);
    }
    let headers: Vec<&str> = counts.columns.iter().map(String::as_str).collect();
    let rows = counts
        .counts
        .iter()
        .map(|r| r.iter().map(py_str).collect())
        .collect();
    a.out.print_rows(&headers, rows)
}

/// `GET /alarms/{id}/state-history` with `limit, offset`.
pub async fn history(client: &Client, a: AlarmHistory) -> Result<()> {
    let first_page = a.paging.offset.is_none();
    let op = ListStateHistory {
        alarm_id: Some(a.id.clone()),
        params: paging(Params::new(), a.paging),
    };
    let env = client.send(&op).await?;
    // The API answers an empty history for an id that names no alarm: say which.
    if env.elements.is_empty() && first_page {
        client.send(&GetAlarm { id: a.id }).await?;
    }
    print_history(env.elements, &a.out)
}

/// `GET /alarms/state-history` with `dimensions, start_time, end_time, limit, offset`.
/// (The real CLI asks for `/alarms/state-history/`, with a trailing slash.)
pub async fn history_list(client: &Client, a: AlarmHistoryList) -> Result<()> {
    let dims = strict_query_dimensions(&a.dimensions)?;
    let start = match given(a.starttime) {
        Some(s) => Some(start_time(&s, Timestamp::now())?),
        None => None,
    };
    let params = Params::new()
        .set_opt("dimensions", dimensions_param(&dims))
        .set_opt("start_time", start)
        .set_opt("end_time", given(a.endtime));
    let op = ListStateHistory {
        alarm_id: None,
        params: paging(params, a.paging),
    };
    let env = client.send(&op).await?;
    print_history(env.elements, &a.out)
}

/// The history table leaves out `id` and `sub_alarms`; `-j` prints every field.
fn print_history(entries: Vec<StateHistoryEntry>, out: &Output) -> Result<()> {
    if out.json {
        return print(&json(&entries)?);
    }
    let rows = entries
        .into_iter()
        .map(|h| {
            let (names, dims) = metric_cells(&h.metrics);
            vec![
                h.alarm_id,
                h.new_state.to_string(),
                h.old_state.to_string(),
                h.reason,
                h.reason_data,
                names,
                dims,
                h.timestamp,
            ]
        })
        .collect();
    out.print_rows(
        &[
            "alarm_id",
            "new_state",
            "old_state",
            "reason",
            "reason_data",
            "metric_name",
            "metric_dimensions",
            "timestamp",
        ],
        rows,
    )
}

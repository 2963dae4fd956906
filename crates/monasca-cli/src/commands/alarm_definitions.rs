//! The alarm-definition commands.

use anyhow::Result;
use monasca::{
    Client,
    alarms::{
        CreateAlarmDefinition, DeleteAlarmDefinition, GetAlarmDefinition, ListAlarmDefinitions,
        Params, UpdateAlarmDefinition,
    },
    types::AlarmDefinitionRequest,
};
use serde_json::{Map, Value};

use crate::{
    args::{
        actions_enabled, check_severity, check_sort_by, dimensions_param, given, query_dimensions,
        split_list,
    },
    cli::{
        AlarmDefinitionCreate, AlarmDefinitionId, AlarmDefinitionList, AlarmDefinitionPatch,
        AlarmDefinitionUpdate,
    },
    output::{ValueFormat, done, json, json_ascii, print, py_str},
};

/// `POST /alarm-definitions`: each action option occurrence is one list item (no comma
/// split); `match_by` is split on commas; empty or unset options are not sent.
pub async fn create(client: &Client, a: AlarmDefinitionCreate) -> Result<()> {
    let severity = given(a.severity);
    if let Some(s) = &severity {
        check_severity(s)?;
    }
    let nonempty = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let req = AlarmDefinitionRequest {
        name: a.name,
        description: given(a.description),
        expression: a.expression,
        alarm_actions: nonempty(a.alarm_actions),
        ok_actions: nonempty(a.ok_actions),
        undetermined_actions: nonempty(a.undetermined_actions),
        actions_enabled: None,
        match_by: given(a.match_by).map(|m| m.split(',').map(str::to_string).collect()),
        severity: severity.map(Into::into),
    };
    let created = client.send(&CreateAlarmDefinition(req)).await?;
    print(&json_ascii(&created)?)
}

/// `GET /alarm-definitions` with `name, dimensions, severity, sort_by, limit, offset`.
pub async fn list(client: &Client, a: AlarmDefinitionList) -> Result<()> {
    let severity = given(a.severity);
    if let Some(s) = &severity {
        check_severity(s)?;
    }
    let sort_by = given(a.sort_by);
    if let Some(s) = &sort_by {
        check_sort_by(s, &monasca::alarms::DEFINITION_SORT_FIELDS, false)?;
    }
    let params = Params::new()
        .set_opt("name", given(a.name))
        .set_opt(
            "dimensions",
            dimensions_param(&query_dimensions(&a.dimensions)),
        )
        .set_opt("severity", severity)
        .set_opt("sort_by", sort_by)
        .set_opt("limit", a.paging.limit.map(|l| l.to_string()))
        .set_opt("offset", given(a.paging.offset));
    let env = client.send(&ListAlarmDefinitions(params)).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .into_iter()
        .map(|d| {
            vec![
                d.name,
                d.id,
                d.expression,
                // Deliberate difference: the real CLI prints match_by as a Python bytes repr
                // (`b'hostname\nservice'`, a format_list bug on Python 3); here one key a line.
                d.match_by.join("\n"),
                py_str(&Value::Bool(d.actions_enabled)),
            ]
        })
        .collect();
    a.out.print_rows(
        &["name", "id", "expression", "match_by", "actions_enabled"],
        rows,
    )
}

pub async fn show_one(client: &Client, a: AlarmDefinitionId) -> Result<()> {
    let d = client.send(&GetAlarmDefinition { id: a.id }).await?;
    if a.out.json {
        return print(&json(&d)?);
    }
    a.out.print_object(&d, |k| match k {
        "links" => ValueFormat::DictList,
        "name"
        | "id"
        | "expression"
        | "match_by"
        | "actions_enabled"
        | "alarm_actions"
        | "ok_actions"
        | "severity"
        | "undetermined_actions"
        | "description" => ValueFormat::Json,
        _ => ValueFormat::Str,
    })
}

/// `PUT`: every field, in the real CLI's order. actions-enabled is checked before severity.
pub async fn update(client: &Client, a: AlarmDefinitionUpdate) -> Result<()> {
    let enabled = actions_enabled(&a.actions_enabled)?;
    check_severity(&a.severity)?;
    let list = |s: &str| Value::from(split_list(s));
    let mut body = Map::new();
    body.insert("name".into(), a.name.into());
    body.insert("description".into(), a.description.into());
    body.insert("expression".into(), a.expression.into());
    body.insert("alarm_actions".into(), list(&a.alarm_actions));
    body.insert("ok_actions".into(), list(&a.ok_actions));
    body.insert("undetermined_actions".into(), list(&a.undetermined_actions));
    body.insert("actions_enabled".into(), enabled.into());
    body.insert("match_by".into(), list(&a.match_by));
    body.insert("severity".into(), a.severity.into());
    send_update(client, a.id, body, false).await
}

/// `PATCH`: the options given and non-empty. The occurrences of an action option are joined
/// with commas and split again, so `--ok-actions ''` or `--ok-actions '[]'` clears the list.
pub async fn patch(client: &Client, a: AlarmDefinitionPatch) -> Result<()> {
    let mut body = Map::new();
    for (k, v) in [
        ("name", a.name),
        ("description", a.description),
        ("expression", a.expression),
    ] {
        if let Some(v) = given(v) {
            body.insert(k.into(), v.into());
        }
    }
    for (k, v) in [
        ("alarm_actions", a.alarm_actions),
        ("ok_actions", a.ok_actions),
        ("undetermined_actions", a.undetermined_actions),
    ] {
        if !v.is_empty() {
            body.insert(k.into(), split_list(&v.join(",")).into());
        }
    }
    if let Some(e) = given(a.actions_enabled) {
        body.insert("actions_enabled".into(), actions_enabled(&e)?.into());
    }
    if let Some(s) = given(a.severity) {
        check_severity(&s)?;
        body.insert("severity".into(), s.into());
    }
    send_update(client, a.id, body, true).await
}

async fn send_update(
    client: &Client,
    id: String,
    body: Map<String, Value>,
    partial: bool,
) -> Result<()> {
    let op = UpdateAlarmDefinition {
        id,
        body: Value::Object(body),
        partial,
    };
    let updated = client.send(&op).await?;
    print(&json_ascii(&updated)?)
}

pub async fn delete(client: &Client, a: AlarmDefinitionId) -> Result<()> {
    client.send(&DeleteAlarmDefinition { id: a.id }).await?;
    done("Successfully deleted alarm definition")
}

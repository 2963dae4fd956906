//! `GET /v2.0/alarms/count`: alarms counted per combination of the grouped fields.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{RawQuery, State},
};
use config_repo::monasca::AlarmRecord as AlarmRow;
use monasca::types::{AlarmCounts, Link};
use serde_json::Value;

use super::parse_filters;
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

pub(super) async fn count(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<AlarmCounts>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let filters = parse_filters(&q)?;
    let group_by: Vec<String> = q
        .all("group_by")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::to_string)
        .collect();
    if let Some(bad) = group_by
        .iter()
        .find(|g| !monasca::alarms::ALARM_COUNT_GROUP_BY.contains(&g.as_str()))
    {
        return Err(ApiError::unprocessable(format!(
            "One or more group-by values from ['{bad}'] are not in {{{}}}",
            monasca::alarms::ALARM_COUNT_GROUP_BY
                .iter()
                .map(|g| format!("'{g}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let offset = match q.offset() {
        None => 0,
        Some(o) => o.parse::<usize>().map_err(|_| {
            ApiError::unprocessable(format!("Offset must be a valid integer, was {o}"))
        })?,
    };
    let limit = q.limit()?;
    // The definition filter reads through its index; the count takes every filter the same.
    let rows: Vec<AlarmRow> = state.repos.alarms.list(&tenant, filters).await?;
    // Each alarm counts once per distinct combination of the grouped values.
    let mut counts: BTreeMap<Vec<Option<String>>, i64> = BTreeMap::new();
    for a in &rows {
        let per_metric = group_by.iter().any(|g| {
            matches!(
                g.as_str(),
                "metric_name" | "dimension_name" | "dimension_value"
            )
        });
        let mut combos: Vec<Vec<Option<String>>> = Vec::new();
        let fixed = |g: &str| -> Option<String> {
            match g {
                "alarm_definition_id" => Some(a.definition_id.clone()),
                "name" => Some(a.definition_name.clone()),
                "state" => Some(a.state.to_string()),
                "severity" => Some(a.severity.to_string()),
                "link" => a.link.clone(),
                "lifecycle_state" => a.lifecycle_state.clone(),
                _ => None,
            }
        };
        if per_metric {
            for m in &a.metrics {
                let dims: Vec<(Option<String>, Option<String>)> = if m.dimensions.is_empty() {
                    vec![(None, None)]
                } else {
                    m.dimensions
                        .iter()
                        .map(|(k, v)| (Some(k.clone()), Some(v.clone())))
                        .collect()
                };
                for (dk, dv) in dims {
                    combos.push(
                        group_by
                            .iter()
                            .map(|g| match g.as_str() {
                                "metric_name" => Some(m.name.clone()),
                                "dimension_name" => dk.clone(),
                                "dimension_value" => dv.clone(),
                                other => fixed(other),
                            })
                            .collect(),
                    );
                }
            }
        } else {
            combos.push(group_by.iter().map(|g| fixed(g)).collect());
        }
        combos.sort();
        combos.dedup();
        for c in combos {
            *counts.entry(c).or_default() += 1;
        }
    }
    let mut columns = vec!["count".to_string()];
    columns.extend(group_by.iter().cloned());
    let all: Vec<Vec<Value>> = counts
        .into_iter()
        .map(|(k, n)| {
            let mut row = vec![Value::from(n)];
            row.extend(
                k.into_iter()
                    .map(|v| v.map(Value::String).unwrap_or(Value::Null)),
            );
            row
        })
        .collect();
    let mut links = vec![Link {
        rel: "self".into(),
        href: q.links(&base.url(), None)[0].href.clone(),
    }];
    let counts = if all.is_empty() {
        let mut row = vec![Value::from(0)];
        row.extend(group_by.iter().map(|_| Value::Null));
        vec![row]
    } else {
        let more = all.len() > offset.saturating_add(limit);
        if more {
            links = q.row_links(&base.url(), offset, limit, true);
        }
        all.into_iter().skip(offset).take(limit).collect()
    };
    Ok(Json(AlarmCounts {
        links,
        columns,
        counts,
    }))
}

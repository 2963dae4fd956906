//! `GET /v2.0/metrics/measurements`.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use metric_store::TimeRange;
use monasca::types::{Envelope, Measurements};
use serde_json::{Map, Value};

use super::{filter, groups};
use crate::{
    api::{
        error::ApiError,
        monasca::{
            BaseUrl, Tenant,
            params::{Query, parse_series_offset},
        },
    },
    app::AppState,
};

pub async fn list(
    Tenant(tenant): Tenant,
    State(state): State<AppState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<Measurements>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let filter = filter(&tenant, &q, true)?;
    let (start, end) = q.time_range(true)?;
    let offset = q.offset().map(parse_series_offset).transpose()?;
    let merge = q.merge_metrics();
    let group_by = q.group_by();
    let limit = q.limit()?;
    let name = filter.name.clone().unwrap_or_default();
    let range = TimeRange::new(start, end);

    let groups = groups(&state, &filter, merge, group_by.as_deref()).await?;
    let (first_group, after) = match offset {
        Some((g, ts)) => (g, Some(ts)),
        None => (0, None),
    };
    let mut remaining = limit;
    let mut elements = Vec::new();
    let mut next = None;
    for (gid, group) in groups.iter().enumerate().skip(first_group) {
        let after = if gid == first_group { after } else { None };
        // One extra point tells whether this group goes on past the page.
        let points = state
            .store
            .read_points(&group.series, range, after, remaining.saturating_add(1))
            .await?;
        if points.is_empty() {
            continue;
        }
        if remaining == 0 {
            // The page is full and this group has more: resume at its start.
            let a = after.unwrap_or(range.start.saturating_sub(1));
            next = Some(format!("{gid}_{a}"));
            break;
        }
        let truncated = points.len() > remaining;
        let rows: Vec<_> = points
            .into_iter()
            .take(remaining)
            .map(|p| {
                let meta = p
                    .value_meta
                    .and_then(|m| serde_json::from_str::<Map<String, Value>>(&m).ok())
                    .unwrap_or_default();
                (monasca::time::format_millis(p.timestamp), p.value, meta)
            })
            .collect();
        remaining -= rows.len();
        if truncated {
            next = rows.last().map(|r| format!("{gid}_{}", r.0));
        }
        elements.push(Measurements {
            id: gid.to_string(),
            name: name.clone(),
            dimensions: group.dimensions.clone(),
            columns: vec!["timestamp".into(), "value".into(), "value_meta".into()],
            measurements: rows,
        });
        if truncated {
            break;
        }
    }
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements,
    }))
}

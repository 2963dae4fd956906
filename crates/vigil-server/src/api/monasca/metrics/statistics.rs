//! `GET /v2.0/metrics/statistics`.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use metric_store::{Stat, TimeRange};
use monasca::types::{Envelope, Statistics};
use serde_json::Value;

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
) -> Result<Json<Envelope<Statistics>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let filter = filter(&tenant, &q, true)?;
    let (start, end) = q.time_range(true)?;
    let stats = q.statistics()?;
    let period_ms = q.period()? * 1000;
    let offset = q.offset().map(parse_series_offset).transpose()?;
    let merge = q.merge_metrics();
    let group_by = q.group_by();
    let limit = q.limit()?;
    let name = filter.name.clone().unwrap_or_default();
    let range = TimeRange::new(start, end);

    let mut columns = vec!["timestamp".to_string()];
    columns.extend(stats.iter().map(|s| s.as_str().to_string()));
    let groups = groups(&state, &filter, merge, group_by.as_deref()).await?;
    let (first_group, resume) = match offset {
        // The offset names the last bucket returned; go on with the next one.
        Some((g, ts)) => (g, Some(ts.saturating_add(period_ms))),
        None => (0, None),
    };
    let mut remaining = limit;
    let mut elements = Vec::new();
    let mut next = None;
    for (gid, group) in groups.iter().enumerate().skip(first_group) {
        let mut r = range;
        if let Some(from) = resume.filter(|_| gid == first_group) {
            r.start = r.start.max(from);
        }
        if r.start >= r.end {
            continue;
        }
        let buckets = state
            .store
            .aggregate(&group.series, r, period_ms, &stats)
            .await?;
        if buckets.is_empty() {
            continue;
        }
        if remaining == 0 {
            // Full page; this group starts the next one.
            next = Some(match resume.filter(|_| gid == first_group) {
                Some(from) => offset_for(gid, from - period_ms),
                None => offset_for(gid, buckets[0].start - period_ms),
            });
            break;
        }
        let truncated = buckets.len() > remaining;
        let rows: Vec<Vec<Value>> = buckets
            .iter()
            .take(remaining)
            .map(|b| {
                let mut row = vec![Value::String(monasca::time::format_seconds(b.start))];
                row.extend(stats.iter().zip(&b.values).map(|(s, v)| match s {
                    // InfluxDB reports counts as integers.
                    Stat::Count => Value::from(*v as u64),
                    _ => Value::from(*v),
                }));
                row
            })
            .collect();
        remaining -= rows.len();
        if truncated {
            next = buckets
                .get(rows.len() - 1)
                .map(|b| offset_for(gid, b.start));
        }
        elements.push(Statistics {
            id: gid.to_string(),
            name: name.clone(),
            dimensions: group.dimensions.clone(),
            columns: columns.clone(),
            statistics: rows,
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

/// Upstream's statistics offset is the bare timestamp of the last row; with several groups
/// the group index goes in front, in the `<id>_<timestamp>` form upstream also accepts.
fn offset_for(gid: usize, bucket_start: i64) -> String {
    let ts = monasca::time::format_seconds(bucket_start);
    if gid == 0 { ts } else { format!("{gid}_{ts}") }
}

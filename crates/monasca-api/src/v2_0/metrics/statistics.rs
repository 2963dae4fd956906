//! `GET /v2.0/metrics/statistics`.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use metric_store::{SeriesId, Stat};
use monasca::types::{Envelope, Statistics};
use serde_json::Value;

use super::{SeriesRequest, fill_page, groups};
use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

pub async fn list(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<Statistics>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let (req, (stats, period_ms)) =
        SeriesRequest::parse(&tenant, &q, |q| Ok((q.statistics()?, q.period()? * 1000)))?;
    let mut columns = vec!["timestamp".to_string()];
    columns.extend(stats.iter().map(|s| s.as_str().to_string()));
    let groups = groups(&state, &req.filter, req.merge, req.group_by.as_deref()).await?;
    let page = fill_page(&groups, req.offset, req.limit, |run, resume, n| {
        let store = state.store.clone();
        let stats = stats.clone();
        let series: Vec<Vec<SeriesId>> = run.iter().map(|g| g.series.clone()).collect();
        let range = req.range;
        async move {
            // The offset names the last bucket given; the first group goes on with the next.
            let mut first_range = range;
            if let Some(last) = resume {
                first_range.start = range.start.max(last.saturating_add(period_ms));
            }
            let (first, rest) = series
                .split_first()
                .map_or((&[][..], &[][..]), |(f, r)| (f.as_slice(), r));
            let mut each = if first_range.start >= first_range.end {
                vec![Vec::new()]
            } else {
                store
                    .aggregate_each(&[first], first_range, period_ms, &stats)
                    .await?
            };
            if !rest.is_empty() {
                let rest: Vec<&[SeriesId]> = rest.iter().map(Vec::as_slice).collect();
                each.extend(
                    store
                        .aggregate_each(&rest, range, period_ms, &stats)
                        .await?,
                );
            }
            Ok(each
                .into_iter()
                .map(|buckets| {
                    buckets
                        .into_iter()
                        .take(n)
                        .map(|b| {
                            let mut row =
                                vec![Value::String(monasca::time::format_seconds(b.start))];
                            row.extend(stats.iter().zip(&b.values).map(|(s, v)| match s {
                                // InfluxDB reports counts as integers.
                                Stat::Count => Value::from(*v as u64),
                                _ => Value::from(*v),
                            }));
                            (b.start, row)
                        })
                        .collect()
                })
                .collect())
        }
    })
    .await?;
    // Upstream's offset is the bare timestamp of the last row; with several groups the group
    // index goes in front, in the `<id>_<timestamp>` form upstream also accepts.
    let next = page.next.map(|(gid, ts)| {
        let ts = monasca::time::format_seconds(ts);
        if gid == 0 { ts } else { format!("{gid}_{ts}") }
    });
    // Upstream numbers a page's elements from 0, or from one past the id of an
    // `<id>_<timestamp>` offset, whichever group they are.
    let first_id = match (q.offset(), req.offset) {
        (Some(o), Some((gid, _))) if o.contains('_') => gid + 1,
        _ => 0,
    };
    let elements = page
        .elements
        .into_iter()
        .enumerate()
        .map(|(i, (gid, rows))| Statistics {
            id: (first_id + i).to_string(),
            name: req.name.clone(),
            dimensions: groups[gid].dimension_map(),
            columns: columns.clone(),
            statistics: rows,
        })
        .collect();
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements,
    }))
}

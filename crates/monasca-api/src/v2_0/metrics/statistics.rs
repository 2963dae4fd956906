//! `GET /v2.0/metrics/statistics`.

use axum::{
    extract::{RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use metric_store::SeriesId;

use super::{SeriesRequest, fill_page, groups, statistics_body::StatisticsBody};
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
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref());
    let (req, (stats, period_ms)) =
        SeriesRequest::parse(&tenant, &q, |q| Ok((q.statistics()?, q.period()? * 1000)))?;
    let groups = groups(&state, &req.filter, req.merge, req.group_by.as_deref()).await?;
    let page = fill_page(&groups, req.offset, req.limit, |run, resume, n| {
        let store = state.store.clone();
        let stats = stats.clone();
        let groups = groups.clone();
        let range = req.range;
        async move {
            // The offset names the last bucket given; the first group goes on with the next.
            let mut first_range = range;
            if let Some(last) = resume {
                first_range.start = range.start.max(last.saturating_add(period_ms));
            }
            let mut run = run.map(|g| groups.series(g));
            let first = run.next().unwrap_or_default();
            let rest: Vec<&[SeriesId]> = run.collect();
            let mut each = if first_range.start >= first_range.end {
                vec![Vec::new()]
            } else {
                store
                    .aggregate_each(&[first], first_range, period_ms, &stats)
                    .await?
            };
            if !rest.is_empty() {
                each.extend(
                    store
                        .aggregate_each(&rest, range, period_ms, &stats)
                        .await?,
                );
            }
            // Rows stay buckets; the answer is written from them once the page is known.
            Ok(each
                .into_iter()
                .map(|buckets| buckets.into_iter().take(n).map(|b| (b.start, b)).collect())
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
    let links = q.links(&base.url(), next.as_deref());
    let body = (|| {
        let rows = page.elements.iter().map(|(_, rows)| rows.len()).sum();
        let size = (page.elements.len(), rows);
        let mut body = StatisticsBody::new(&links, &req.name, &stats, size)?;
        for (i, (gid, rows)) in page.elements.iter().enumerate() {
            body.element(first_id + i, groups.dimensions(*gid), &stats, rows)?;
        }
        Ok::<_, std::io::Error>(body.finish())
    })()
    .map_err(|_| ApiError::bare(StatusCode::INTERNAL_SERVER_ERROR))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

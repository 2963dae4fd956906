//! `GET /v2.0/metrics/measurements`.

use axum::{
    Json,
    extract::{RawQuery, State},
};
use monasca::types::{Envelope, MeasurementRow, Measurements};
use serde_json::{Map, Value};

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
) -> Result<Json<Envelope<Measurements>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let (req, ()) = SeriesRequest::parse(&tenant, &q, |_| Ok(()))?;
    let groups = groups(&state, &req.filter, req.merge, req.group_by.as_deref()).await?;
    let range = req.range;
    let page = fill_page(&groups, req.offset, req.limit, |run, after, n| {
        let store = state.store.clone();
        let groups = groups.clone();
        async move {
            let mut each = Vec::with_capacity(run.len());
            for (i, g) in run.enumerate() {
                let after = if i == 0 { after } else { None };
                let points = store.read_points(groups.series(g), range, after, n).await?;
                each.push(
                    points
                        .into_iter()
                        .map(|p| {
                            let meta = p
                                .value_meta
                                .and_then(|m| serde_json::from_str::<Map<String, Value>>(&m).ok())
                                .unwrap_or_default();
                            let row: MeasurementRow =
                                (monasca::time::format_millis(p.timestamp), p.value, meta);
                            (p.timestamp, row)
                        })
                        .collect(),
                );
            }
            Ok(each)
        }
    })
    .await?;
    // The offset names the group and the last timestamp given, as `<id>_<timestamp>`.
    let next = page
        .next
        .map(|(gid, ts)| format!("{gid}_{}", monasca::time::format_millis(ts)));
    // Upstream numbers a page's elements from the offset's id (0 without one), one a group.
    let first_id = req.offset.map_or(0, |(gid, _)| gid);
    let elements = page
        .elements
        .into_iter()
        .enumerate()
        .map(|(i, (gid, rows))| Measurements {
            id: (first_id + i).to_string(),
            name: req.name.clone(),
            dimensions: groups.dimension_map(gid),
            columns: vec!["timestamp".into(), "value".into(), "value_meta".into()],
            measurements: rows,
        })
        .collect();
    Ok(Json(Envelope {
        links: q.links(&base.url(), next.as_deref()),
        elements,
    }))
}

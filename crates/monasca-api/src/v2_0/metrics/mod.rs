//! `/v2.0/metrics` and its sub-resources.

mod create;
mod dimensions;
mod group_cache;
mod groups;
mod list;
mod measurements;
mod names;
mod statistics;
mod statistics_body;

use std::ops::Range;

use axum::{
    Router,
    extract::FromRef,
    routing::{get, post},
};
use metric_store::{SeriesFilter, TimeRange};

use super::params::{Query, parse_series_offset};
use crate::{MonascaState, error::ApiError};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    Router::new()
        .route("/v2.0/metrics", post(create::create).get(list::list))
        .route("/v2.0/metrics/measurements", get(measurements::list))
        .route("/v2.0/metrics/statistics", get(statistics::list))
        .route("/v2.0/metrics/names", get(names::list))
        .route("/v2.0/metrics/dimensions/names", get(dimensions::names))
        .route(
            "/v2.0/metrics/dimensions/names/values",
            get(dimensions::values),
        )
}

pub use group_cache::GroupCache;
pub use groups::{Groups, groups};

/// The series filter common to the metric queries.
pub fn filter(tenant: &str, q: &Query, name_required: bool) -> Result<SeriesFilter, ApiError> {
    let name = q.name(name_required)?;
    let dims = q.dimensions()?;
    Ok(SeriesFilter {
        tenant: tenant.to_string(),
        name,
        dimensions: dims,
    })
}

/// What measurements and statistics share: the series, the time range, grouping and paging.
pub struct SeriesRequest {
    pub filter: SeriesFilter,
    pub name: String,
    pub range: TimeRange,
    pub offset: Option<(usize, i64)>,
    pub merge: bool,
    pub group_by: Option<Vec<String>>,
    pub limit: usize,
}

impl SeriesRequest {
    /// Parses in upstream's order, which decides which error a request with several problems
    /// gets: name, dimensions, times, then `between` (the endpoint's own parameters), then
    /// offset, merge_metrics, group_by and limit.
    pub fn parse<T>(
        tenant: &str,
        q: &Query,
        between: impl FnOnce(&Query) -> Result<T, ApiError>,
    ) -> Result<(Self, T), ApiError> {
        let filter = filter(tenant, q, true)?;
        let (start, end) = q.time_range(true)?;
        let own = between(q)?;
        let offset = q.offset().map(parse_series_offset).transpose()?;
        let merge = q.merge_metrics();
        let group_by = q.group_by();
        let limit = q.limit()?;
        let name = filter.name.clone().unwrap_or_default();
        let req = Self {
            filter,
            name,
            range: TimeRange::new(start, end),
            offset,
            merge,
            group_by,
            limit,
        };
        Ok((req, own))
    }
}

/// One page of rows drawn from groups in order.
pub struct GroupPage<R> {
    /// (group index, its rows) for each group that contributed.
    pub elements: Vec<(usize, Vec<R>)>,
    /// Where the next page resumes: the group and the timestamp of the last row given.
    pub next: Option<(usize, i64)>,
}

/// Groups fetched at once at most.
const FETCH_GROUPS: usize = 512;

/// Fills a page of at most `limit` rows, starting at the offset's group. `fetch(run,
/// resume, n)` returns up to `n` rows of each group of `run` (indices into `groups`) as
/// (timestamp, row), the first group
/// resuming after `resume`; asking one more than fits tells whether a group goes on. Groups go
/// to `fetch` in runs sized to what the page still takes (one group first, then as many as the
/// rows a group gave so far suggest), so a page of thousands of one-row groups is a few calls
/// and a page that one group fills is one.
pub async fn fill_page<R, F, Fut>(
    groups: &Groups,
    offset: Option<(usize, i64)>,
    limit: usize,
    mut fetch: F,
) -> Result<GroupPage<R>, ApiError>
where
    F: FnMut(Range<usize>, Option<i64>, usize) -> Fut,
    Fut: Future<Output = Result<Vec<Vec<(i64, R)>>, ApiError>>,
{
    let (first, resume) = offset.map_or((0, None), |(g, ts)| (g, Some(ts)));
    let mut remaining = limit;
    let mut page = GroupPage {
        elements: Vec::new(),
        next: None,
    };
    let (mut at, mut run) = (first, 1);
    let (mut groups_seen, mut rows_seen) = (0usize, 0usize);
    while remaining > 0 && at < groups.len() {
        let end = groups.len().min(at + run);
        let resume = if at == first { resume } else { None };
        let fetched = fetch(at..end, resume, remaining.saturating_add(1)).await?;
        for (gid, mut rows) in (at..end).zip(fetched) {
            // The page is full (and says where the next one resumes).
            if remaining == 0 {
                return Ok(page);
            }
            groups_seen += 1;
            rows_seen += rows.len();
            if rows.is_empty() {
                continue;
            }
            let truncated = rows.len() > remaining;
            rows.truncate(remaining);
            remaining -= rows.len();
            let last_ts = rows.last().map_or(0, |r| r.0);
            // A full page with groups left may have more; resuming after the last row finds out.
            if truncated || (remaining == 0 && gid + 1 < groups.len()) {
                page.next = Some((gid, last_ts));
            }
            page.elements
                .push((gid, rows.into_iter().map(|(_, r)| r).collect()));
            if truncated {
                return Ok(page);
            }
        }
        at = end;
        let per_group = rows_seen.div_ceil(groups_seen.max(1)).max(1);
        run = (remaining / per_group).clamp(1, FETCH_GROUPS);
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Group `g` has `sizes[g]` rows at timestamps 1..=n; a fetch answers from that.
    async fn page(
        sizes: &[usize],
        offset: Option<(usize, i64)>,
        limit: usize,
    ) -> GroupPage<(usize, i64)> {
        let mut listed = groups::Listed::default();
        for g in 0..sizes.len() {
            listed.push([], [g as metric_store::SeriesId]);
        }
        let groups = Groups::Listed(listed);
        fill_page(&groups, offset, limit, |run, resume, n| {
            let each: Vec<Vec<(i64, (usize, i64))>> = run
                .enumerate()
                .map(|(i, g)| {
                    let id = groups.series(g)[0] as usize;
                    let after = if i == 0 { resume.unwrap_or(0) } else { 0 };
                    (after + 1..=sizes[id] as i64)
                        .take(n)
                        .map(|t| (t, (id, t)))
                        .collect()
                })
                .collect();
            async move { Ok(each) }
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn pages_hold_every_row_once_in_order_whatever_the_limit() {
        let sizes = [3, 0, 1, 1, 7, 0, 0, 1, 2, 1, 1, 1, 1, 1, 4, 0];
        let all: Vec<(usize, i64)> = sizes
            .iter()
            .enumerate()
            .flat_map(|(g, n)| (1..=*n as i64).map(move |t| (g, t)))
            .collect();
        for limit in 1..=all.len() + 1 {
            let (mut seen, mut offset, mut pages) = (Vec::new(), None, 0);
            loop {
                let p = page(&sizes, offset, limit).await;
                let rows: usize = p.elements.iter().map(|(_, r)| r.len()).sum();
                assert!(rows <= limit, "limit {limit}");
                for (gid, r) in p.elements {
                    assert!(r.iter().all(|(g, _)| *g == gid));
                    seen.extend(r);
                }
                pages += 1;
                assert!(pages <= all.len() + 2, "limit {limit}: no end");
                match p.next {
                    Some(next) => offset = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, all, "limit {limit}");
        }
    }
}

//! `/v2.0/metrics` and its sub-resources.

mod create;
mod dimensions;
mod group_cache;
mod list;
mod measurements;
mod names;
mod statistics;

use std::{
    collections::{BTreeMap, hash_map::Entry},
    sync::Arc,
};

use axum::{
    Router,
    extract::FromRef,
    routing::{get, post},
};
use metric_store::{DimMatch, SeriesFilter, SeriesId, TimeRange};

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

/// One element of a measurements or statistics answer: the series it merges and the
/// dimensions it reports, sorted by key (a map is built for the page's groups only).
pub struct Group {
    pub dimensions: Vec<(String, String)>,
    pub series: Vec<SeriesId>,
}

impl Group {
    pub fn dimension_map(&self) -> BTreeMap<String, String> {
        self.dimensions.iter().cloned().collect()
    }
}

/// Resolves the series of a measurements/statistics query into elements, with monasca-api's
/// rules: one series unless `merge_metrics` or `group_by` says otherwise (409 if several
/// match), merged series reporting the query's dimensions, groups reporting their keys.
pub async fn groups(
    state: &MonascaState,
    filter: &SeriesFilter,
    merge: bool,
    group_by: Option<&[String]>,
) -> Result<Arc<Vec<Group>>, ApiError> {
    let Some(keys) = group_by else {
        return Ok(Arc::new(find_groups(state, filter, merge, None).await?));
    };
    // The generation is read first: a series added meanwhile makes the entry stale at once.
    let generation = state.store.series_generation();
    let query = format!("{filter:?}\u{0}{keys:?}");
    if let Some(g) = generation.and_then(|g| state.group_cache.get(&query, g)) {
        return Ok(g);
    }
    let groups = Arc::new(find_groups(state, filter, merge, Some(keys)).await?);
    if let Some(g) = generation {
        state.group_cache.put(query, g, &groups);
    }
    Ok(groups)
}

async fn find_groups(
    state: &MonascaState,
    filter: &SeriesFilter,
    merge: bool,
    group_by: Option<&[String]>,
) -> Result<Vec<Group>, ApiError> {
    // Grouping by one dimension, the usual case: the store's index of that dimension has the
    // groups in order, without a key built or compared per series.
    if let Some([key]) = group_by
        && key != "*"
        && let Some(found) = state.store.group_by_dimension(filter, key).await?
    {
        return Ok(found
            .into_iter()
            .map(|g| Group {
                dimensions: g.value.map(|v| (key.clone(), v)).into_iter().collect(),
                series: g.series,
            })
            .collect());
    }
    let series = state.store.find_series(filter, TimeRange::ALL).await?;
    match group_by {
        None if !merge => match series.as_slice() {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![Group {
                dimensions: one
                    .key
                    .dimensions
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                series: vec![one.id],
            }]),
            _ => Err(ApiError::multiple_metrics()),
        },
        None => {
            let dimensions = filter
                .dimensions
                .iter()
                .map(|(k, m)| {
                    let v = match m {
                        DimMatch::Exists => String::new(),
                        DimMatch::AnyOf(vs) => vs.join("|"),
                    };
                    (k.clone(), v)
                })
                .collect();
            Ok(if series.is_empty() {
                Vec::new()
            } else {
                vec![Group {
                    dimensions,
                    series: series.iter().map(|s| s.id).collect(),
                }]
            })
        }
        Some(keys) if keys.iter().any(|k| k == "*") => Ok(series
            .into_iter()
            .map(|s| Group {
                dimensions: s.key.dimensions.into_iter().collect(),
                series: vec![s.id],
            })
            .collect()),
        Some(keys) => {
            // Sorted and without repeats, so a group's pairs come in a map's order and
            // compare as its map would.
            let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            keys.sort_unstable();
            keys.dedup();
            type Pairs<'a> = Vec<(&'a str, &'a str)>;
            let mut index: foldhash::HashMap<Pairs<'_>, usize> = Default::default();
            let mut found: Vec<(Pairs<'_>, Vec<SeriesId>)> = Vec::new();
            for s in &series {
                let pairs: Pairs<'_> = keys
                    .iter()
                    .filter_map(|k| s.key.dimensions.get_key_value(*k))
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                match index.entry(pairs) {
                    Entry::Occupied(e) => found[*e.get()].1.push(s.id),
                    Entry::Vacant(e) => {
                        found.push((e.key().clone(), vec![s.id]));
                        e.insert(found.len() - 1);
                    }
                }
            }
            // Series come ordered by dimensions, so groups by the leading ones (hostname,
            // say) usually are in order already; a check is linear, a sort is not.
            if !found.is_sorted_by(|a, b| a.0 <= b.0) {
                found.sort_by(|a, b| a.0.cmp(&b.0));
            }
            Ok(found
                .into_iter()
                .map(|(pairs, series)| Group {
                    dimensions: pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    series,
                })
                .collect())
        }
    }
}

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

/// Fills a page of at most `limit` rows, starting at the offset's group. `fetch(groups,
/// resume, n)` returns up to `n` rows of each group as (timestamp, row), the first group
/// resuming after `resume`; asking one more than fits tells whether a group goes on. Groups go
/// to `fetch` in runs sized to what the page still takes (one group first, then as many as the
/// rows a group gave so far suggest), so a page of thousands of one-row groups is a few calls
/// and a page that one group fills is one.
pub async fn fill_page<R, F, Fut>(
    groups: &[Group],
    offset: Option<(usize, i64)>,
    limit: usize,
    mut fetch: F,
) -> Result<GroupPage<R>, ApiError>
where
    F: FnMut(&[Group], Option<i64>, usize) -> Fut,
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
        let fetched = fetch(&groups[at..end], resume, remaining.saturating_add(1)).await?;
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
        let groups: Vec<Group> = (0..sizes.len())
            .map(|g| Group {
                dimensions: Vec::new(),
                series: vec![g as SeriesId],
            })
            .collect();
        fill_page(&groups, offset, limit, |run, resume, n| {
            let each: Vec<Vec<(i64, (usize, i64))>> = run
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let id = g.series[0] as usize;
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

//! `/v2.0/metrics` and its sub-resources.

mod create;
mod dimensions;
mod list;
mod measurements;
mod names;
mod statistics;

use std::collections::BTreeMap;

use axum::{
    Router,
    routing::{get, post},
};
use metric_store::{DimMatch, SeriesFilter, SeriesId, TimeRange};

use super::params::Query;
use crate::{api::error::ApiError, app::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2.0/metrics", post(create::create).get(list::list))
        .route("/v2.0/metrics/", post(create::create).get(list::list))
        .route("/v2.0/metrics/measurements", get(measurements::list))
        .route("/v2.0/metrics/statistics", get(statistics::list))
        .route("/v2.0/metrics/names", get(names::list))
        .route("/v2.0/metrics/dimensions/names", get(dimensions::names))
        .route(
            "/v2.0/metrics/dimensions/names/values",
            get(dimensions::values),
        )
}

/// One element of a measurements or statistics answer: the series it merges and the
/// dimensions it reports.
pub struct Group {
    pub dimensions: BTreeMap<String, String>,
    pub series: Vec<SeriesId>,
}

/// Resolves the series of a measurements/statistics query into elements, with monasca-api's
/// rules: one series unless `merge_metrics` or `group_by` says otherwise (409 if several
/// match), merged series reporting the query's dimensions, groups reporting their keys.
pub async fn groups(
    state: &AppState,
    filter: &SeriesFilter,
    merge: bool,
    group_by: Option<&[String]>,
) -> Result<Vec<Group>, ApiError> {
    let series = state.store.find_series(filter, TimeRange::ALL).await?;
    match group_by {
        None if !merge => match series.as_slice() {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![Group {
                dimensions: one.key.dimensions.clone(),
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
                dimensions: s.key.dimensions,
                series: vec![s.id],
            })
            .collect()),
        Some(keys) => {
            let mut by: BTreeMap<BTreeMap<String, String>, Vec<SeriesId>> = BTreeMap::new();
            for s in series {
                let dims: BTreeMap<String, String> = keys
                    .iter()
                    .filter_map(|k| s.key.dimensions.get(k).map(|v| (k.clone(), v.clone())))
                    .collect();
                by.entry(dims).or_default().push(s.id);
            }
            Ok(by
                .into_iter()
                .map(|(dimensions, series)| Group { dimensions, series })
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

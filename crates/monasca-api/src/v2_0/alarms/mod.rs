//! `/v2.0/alarms`, `/v2.0/alarms/count` and the state history.

mod count;
mod delete;
mod get;
mod history;
mod list;
mod patch;
mod update;

use axum::{Router, extract::FromRef, http::StatusCode, routing::get};
use config_repo::monasca::{AlarmFilter as Filters, AlarmRecord as AlarmRow, DimensionMatch};
use metric_store::DimMatch;
use monasca::types::{Alarm, AlarmDefinitionRef, AlarmState, SelfLink};

use super::{BaseUrl, alarm_definitions::severity_filter, params::Query};
use crate::{MonascaState, error::ApiError};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    MonascaState: FromRef<S>,
{
    Router::new()
        .route("/v2.0/alarms", get(list::list))
        .route("/v2.0/alarms/count", get(count::count))
        .route("/v2.0/alarms/state-history", get(history::history_all))
        .route(
            "/v2.0/alarms/{id}",
            get(get::show)
                .put(update::replace)
                .patch(patch::patch)
                .delete(delete::delete),
        )
        .route("/v2.0/alarms/{id}/state-history", get(history::history_one))
}

fn root(base: &BaseUrl) -> String {
    let url = base.url();
    match url.find("/v2.0/") {
        Some(i) => url[..i + 5].to_string(),
        None => url,
    }
}

fn to_wire(root: &str, a: AlarmRow) -> Alarm {
    Alarm {
        links: vec![SelfLink {
            href: format!("{root}/alarms/{}", a.id),
            rel: "self".into(),
        }],
        alarm_definition: AlarmDefinitionRef {
            links: vec![SelfLink {
                href: format!("{root}/alarm-definitions/{}", a.definition_id),
                rel: "self".into(),
            }],
            id: a.definition_id,
            name: a.definition_name,
            severity: a.severity,
        },
        id: a.id,
        metrics: a.metrics,
        state: a.state,
        lifecycle_state: a.lifecycle_state,
        link: a.link,
        state_updated_timestamp: monasca::time::format_millis(a.state_updated_at),
        updated_timestamp: monasca::time::format_millis(a.updated_at),
        created_timestamp: monasca::time::format_millis(a.created_at),
    }
}

fn state_filter(q: &Query) -> Result<Option<AlarmState>, ApiError> {
    let Some(s) = q.first("state") else {
        return Ok(None);
    };
    AlarmState::parse_any_case(s).map(Some).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid State",
            format!("State {s} must be one of ['ALARM', 'OK', 'UNDETERMINED']"),
        )
    })
}

/// The filters shared by the alarm list and count.
fn parse_filters(q: &Query) -> Result<Filters, ApiError> {
    let state = state_filter(q)?;
    let severities = severity_filter(q)?;
    // `metric_dimensions` follows the metrics API's `dimensions` syntax and checks.
    let metric_dimensions = dimension_matches(q.dimensions_in("metric_dimensions")?);
    let state_updated_start = q.time("state_updated_start_time", None)?;
    Ok(Filters {
        definition_id: q.first("alarm_definition_id").map(str::to_string),
        metric_name: q.first("metric_name").map(str::to_string),
        metric_dimensions,
        state,
        severities,
        lifecycle_state: q.first("lifecycle_state").map(str::to_string),
        link: q.first("link").map(str::to_string),
        state_updated_start,
    })
}

fn dimension_matches(dims: Vec<(String, DimMatch)>) -> Vec<(String, DimensionMatch)> {
    dims.into_iter()
        .map(|(k, m)| {
            let m = match m {
                DimMatch::Exists => DimensionMatch::Exists,
                DimMatch::AnyOf(vs) => DimensionMatch::AnyOf(vs),
            };
            (k, m)
        })
        .collect()
}

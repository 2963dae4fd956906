//! The Prometheus HTTP API over Vigil's PromQL engine: `query`, `query_range`, `series`,
//! `labels`, `label/{name}/values`, `metadata`, `format_query` and `status/buildinfo`, by GET or form-encoded POST, at
//! `/api/v1/…` (Monasca tokens) and at `/prometheus/api/v1/…` (Sysdig's path and
//! authentication); see [`auth`]. Answers use Prometheus's envelopes
//! (`{"status":"success","data":…}`) and its error types and status codes ([`error`]).

pub mod auth;
mod encode;
pub mod error;
mod handlers;
pub mod params;
pub mod settings;

use std::sync::Arc;

use axum::{Router, routing::get};
use monasca_api::identity::Identity;
use promql_engine::Engine;
use sysdig_api::SysdigState;

use crate::auth::{MonascaTenant, SysdigTenant, TenantAuth};

/// What the Prometheus API reaches: the engine, and the two APIs' authentication.
#[derive(Clone)]
pub struct PrometheusState {
    pub engine: Engine,
    pub identity: Arc<Identity>,
    pub sysdig: SysdigState,
}

/// The API at both prefixes, ready to merge into the server's router.
pub fn service(state: PrometheusState) -> Router {
    routes::<MonascaTenant>("/api/v1")
        .merge(routes::<SysdigTenant>("/prometheus/api/v1"))
        .with_state(state)
}

fn routes<A: TenantAuth + 'static>(prefix: &str) -> Router<PrometheusState> {
    use handlers::{
        buildinfo, format_query, label_values, labels, metadata, query, query_range, series,
    };
    Router::new()
        .route(&format!("{prefix}/query"), get(query::<A>).post(query::<A>))
        .route(
            &format!("{prefix}/query_range"),
            get(query_range::<A>).post(query_range::<A>),
        )
        .route(
            &format!("{prefix}/series"),
            get(series::<A>).post(series::<A>),
        )
        .route(
            &format!("{prefix}/labels"),
            get(labels::<A>).post(labels::<A>),
        )
        .route(
            &format!("{prefix}/label/{{name}}/values"),
            get(label_values::<A>),
        )
        .route(&format!("{prefix}/status/buildinfo"), get(buildinfo::<A>))
        .route(
            &format!("{prefix}/format_query"),
            get(format_query::<A>).post(format_query::<A>),
        )
        .route(&format!("{prefix}/metadata"), get(metadata::<A>))
}

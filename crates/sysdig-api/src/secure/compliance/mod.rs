//! Compliance: benchmark tasks (`/api/complianceTasks[/{id}]`) and their results
//! (`/api/complianceResults[/{id}[/csv]]`), team-owned documents of the repository. Results
//! come from the emulator's ingestion route `POST /vigil/sysdig/secure/complianceResults`
//! (Sysdig's agents produce them; nothing here runs a benchmark).

pub mod results;
pub mod tasks;

pub const TASK: &str = "compliance_task";
pub const RESULT: &str = "compliance_result";

/// The routes of this area, for [`super::router`].
pub fn router<S>() -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::SysdigState: axum::extract::FromRef<S>,
{
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/complianceTasks", get(tasks::list).post(tasks::add))
        .route(
            "/api/complianceTasks/{id}",
            get(tasks::get).put(tasks::update).delete(tasks::delete),
        )
        .route("/api/complianceResults", get(results::list))
        .route("/api/complianceResults/{id}", get(results::get))
        .route("/api/complianceResults/{id}/csv", get(results::get_csv))
        .route(
            "/vigil/sysdig/secure/complianceResults",
            post(results::ingest),
        )
}

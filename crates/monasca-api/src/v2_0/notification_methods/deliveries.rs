//! `GET /v2.0/notification-methods/{id}/deliveries` (a Vigil extension): the method's latest
//! delivery attempts, newest first, so a user can see why a page did not arrive.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
};
use monasca::types::{DeliveryAttempt, Envelope};

use crate::{
    MonascaState,
    error::ApiError,
    v2_0::{BaseUrl, Tenant, params::Query},
};

/// Attempts listed when `limit` is not given, and the most a page holds.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

pub(super) async fn deliveries(
    Tenant(tenant): Tenant,
    State(state): State<MonascaState>,
    base: BaseUrl,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Envelope<DeliveryAttempt>>, ApiError> {
    let q = Query::parse(raw.as_deref());
    let limit = match q.last("limit") {
        None => DEFAULT_LIMIT,
        Some(_) => q.limit()?.min(MAX_LIMIT),
    };
    // The method must be the tenant's (a deleted method's attempts are still listed by the
    // attempt log, but its id is no longer addressable).
    state.repos.notification_methods.get(&tenant, &id).await?;
    let attempts = state
        .notifications
        .outbox
        .attempts(&tenant, &id, limit)
        .await?;
    Ok(Json(Envelope {
        links: q.links(&base.url(), None),
        elements: attempts
            .into_iter()
            .map(|a| DeliveryAttempt {
                event_id: a.event_id,
                timestamp: monasca::time::format_millis(a.time_ms),
                attempt: a.attempt,
                status: a.status.as_str().to_string(),
                answer: a.answer,
                duration_ms: a.duration_ms,
                test: a.test,
            })
            .collect(),
    }))
}

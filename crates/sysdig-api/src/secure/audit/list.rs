//! `GET /api/v1/activityAudit/events?from=<ns>&to=<ns>&limit=&filter=&cursor=`.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};

use super::{AuditFields, KIND, render};
use crate::{
    SysdigState,
    error::SdcResult,
    secure::{SecureCaller, runtime::list_events},
};

/// sdcclient's page size, used without `limit`.
const DEFAULT_LIMIT: i64 = 50;

pub async fn list(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    list_events::<AuditFields>(&state, &caller, q.as_deref(), KIND, DEFAULT_LIMIT, render).await
}

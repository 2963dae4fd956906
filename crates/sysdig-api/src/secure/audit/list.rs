//! `GET /api/v1/activityAudit/events?from=<ns>&to=<ns>&limit=&filter=&cursor=`.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};

use super::{AuditFields, KIND, render};
use crate::{
    SysdigState,
    error::SdcResult,
    http::{ok, query_pairs},
    secure::{SecureCaller, runtime::ListQuery},
};

/// sdcclient's page size, used without `limit`.
const DEFAULT_LIMIT: i64 = 50;

pub async fn list(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let pairs = query_pairs(q.as_deref());
    let team = caller.team_id();
    let body = state
        .tx(move |c| {
            let query = ListQuery::parse::<AuditFields>(c, &pairs, team, KIND, DEFAULT_LIMIT)?;
            Ok(query.page::<AuditFields>(c, KIND)?.body(render))
        })
        .await?;
    Ok(ok(body))
}

//! `GET /api/v1/secureEvents?limit=&from=<ns>&to=<ns>&filter=&cursor=`.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};

use super::{KIND, PolicyFields, render};
use crate::{
    SysdigState,
    error::SdcResult,
    secure::{SecureCaller, runtime::list_events},
};

/// The page size without `limit`.
const DEFAULT_LIMIT: i64 = 50;

pub async fn list(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    list_events::<PolicyFields>(&state, &caller, q.as_deref(), KIND, DEFAULT_LIMIT, render).await
}

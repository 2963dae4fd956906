//! `/api/agents/...`: the agents configuration (one per customer, stored as a repository
//! setting) and the connected agents. Vigil has no Sysdig agents: a host that sent Monasca
//! metrics with a `hostname` dimension to the team's tenant (`[sysdig] alert_tenants`) in the
//! last [`RECENT_MS`] counts as a connected agent of that team; a team without a tenant has
//! none.

use axum::{extract::State, response::Response};
use metric_store::TimeRange;
use serde_json::{Value, json};
use sysdig::user::{Agent, ConnectedAgents};

use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{JsonBody, ok},
};

/// How recently a host must have sent a metric to count as connected.
pub const RECENT_MS: i64 = 10 * 60 * 1000;

/// Where the configuration is kept (`meta`, customer-wide).
const CONFIG_KEY: &str = "agents_config";

/// The dimension that names the host a metric came from.
const HOST_DIMENSION: &str = "hostname";

/// `GET /api/agents/connected`.
pub async fn connected(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let tenant = state.tenant_of(&caller).map(str::to_string);
    let (Some(tenant), Some(store)) = (tenant, state.metrics.clone()) else {
        return Ok(ok(json!(ConnectedAgents::default())));
    };
    let customer = state.tx(|c| Ok(c.customer_name()?)).await?;
    let now = config_repo::now_ms();
    let range = TimeRange {
        start: now.saturating_sub(RECENT_MS),
        end: now.saturating_add(1),
    };
    let hosts = store
        .dimension_values(&tenant, None, HOST_DIMENSION, range)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "connected agents: cannot read the metric store");
            SdcError::unavailable()
        })?;
    let agents: Vec<Agent> = hosts
        .into_iter()
        .map(|host| {
            let mut extra = serde_json::Map::new();
            extra.insert("customer".into(), customer.clone().into());
            extra.insert(
                "attributes".into(),
                json!({"hidden": false, "version": "vigil"}),
            );
            Agent {
                machine_id: Some(host.clone()),
                host_name: Some(host),
                connected: Some(true),
                extra,
            }
        })
        .collect();
    Ok(ok(json!(ConnectedAgents {
        total: agents.len() as u64,
        agents,
        extra: serde_json::Map::new(),
    })))
}

/// `GET /api/agents/config`: `{"files": []}` until one is set.
pub async fn config(State(state): State<SysdigState>, _caller: Caller) -> SdcResult<Response> {
    let stored = state.tx(|c| Ok(c.meta_get(CONFIG_KEY)?)).await?;
    let files = stored
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .unwrap_or_else(|| json!([]));
    Ok(ok(json!({"files": files})))
}

/// `PUT /api/agents/config` `{"files": [{"filter", "content"}]}` (admins); `files: []` clears.
pub async fn set_config(
    State(state): State<SysdigState>,
    caller: Caller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_admin()?;
    let m = body.object()?;
    let Some(files) = m.get("files").and_then(Value::as_array) else {
        return Err(SdcError::bad_request("Field 'files' must be an array"));
    };
    for f in files {
        let content_ok = f.get("content").is_some_and(Value::is_string);
        let filter_ok = f.get("filter").is_none_or(|v| v.is_string() || v.is_null());
        if !content_ok || !filter_ok {
            return Err(SdcError::bad_request(
                "Each of 'files' needs a string 'content' and an optional string 'filter'",
            ));
        }
    }
    let files = Value::Array(files.clone());
    let text = files.to_string();
    state
        .tx(move |c| Ok(c.meta_set(CONFIG_KEY, &text)?))
        .await?;
    Ok(ok(json!({"files": files})))
}

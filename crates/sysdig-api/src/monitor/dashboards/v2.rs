//! `/api/v2/dashboards` (sdcclient's `DashboardsClientV2`: widgets-based) and the v2 views,
//! `/api/v2/defaultDashboards`. v2 writes store the widgets form (`schema: 2`); reads convert
//! v3-written dashboards (see `convert`). Ids, versions, sharing and deletion are v3's.

use axum::{extract::State, response::Response};
use config_repo::sysdig::{SysdigTx, TeamObject};
use serde_json::{Map, Value, json};
use sysdig::dashboards::Dashboard as WireDashboard;

use super::{Dashboard, KIND, convert, not_found, render_stored, templates};
use crate::{
    SysdigState,
    auth::Caller,
    error::{SdcError, SdcResult},
    http::{Kind, P, check_fields, default_field, ok},
    monitor::{
        owned::{Editable, Owned},
        wire::typed,
    },
};

/// Dashboards through v2, for the generic handlers of `owned`.
pub struct DashboardV2;

impl Owned for DashboardV2 {
    const KIND: &'static str = KIND;
    const KEY: &'static str = "dashboard";
    const WHAT: &'static str = "Dashboard";

    fn not_found() -> SdcError {
        not_found()
    }

    type View = WireDashboard;

    fn view(_: &dyn SysdigTx, o: &TeamObject, caller: &Caller) -> SdcResult<WireDashboard> {
        Ok(render(o, caller))
    }
}

impl Editable for DashboardV2 {
    fn prepare(
        c: &dyn SysdigTx,
        caller: &Caller,
        own: Option<&TeamObject>,
        m: &mut Map<String, Value>,
    ) -> SdcResult<()> {
        check_fields(m, &[("widgets", Kind::Arr)])?;
        if let Some(widgets) = m.get("widgets").and_then(Value::as_array)
            && widgets.iter().any(|w| !w.is_object())
        {
            return Err(SdcError::bad_request("Each of 'widgets' must be an object"));
        }
        default_field(m, "widgets", json!([]));
        // The widgets are the dashboard now; v3 reads derive panels from them.
        m.remove("panels");
        m.remove("layout");
        m.insert("schema".into(), 2.into());
        Dashboard::prepare(c, caller, own, m)
    }
}

/// A dashboard as `caller` sees it through v2.
pub fn render(o: &TeamObject, caller: &Caller) -> WireDashboard {
    let mut m = render_stored(o, caller);
    convert::as_v2(&mut m);
    typed(m)
}

/// `GET /api/v2/dashboards`: every dashboard of the team, whole.
pub async fn list(State(state): State<SysdigState>, caller: Caller) -> SdcResult<Response> {
    let team = caller.team_id();
    let all = state.tx(move |c| Ok(c.obj_list(KIND, team)?)).await?;
    let list: Vec<WireDashboard> = all.iter().map(|o| render(o, &caller)).collect();
    Ok(ok(json!({"dashboards": list})))
}

/// `GET /api/v2/defaultDashboards`: the built-in views (v3's templates).
pub async fn views(_caller: Caller) -> Response {
    let list: Vec<Value> = templates::summaries()
        .into_iter()
        .map(|(id, name, description)| {
            json!({"id": id, "name": name, "description": description, "schema": 2})
        })
        .collect();
    ok(json!({"defaultDashboards": list}))
}

/// `GET /api/v2/defaultDashboards/{id}`: one view, widgets-based; unknown → bare 404.
pub async fn view(_caller: Caller, P(id): P<String>) -> SdcResult<Response> {
    let mut m = templates::find(&id).ok_or_else(not_found)?;
    convert::as_v2(&mut m);
    m.insert("id".into(), id.into());
    let view: WireDashboard = typed(m);
    Ok(ok(json!({"defaultDashboard": view})))
}

//! `/api/v3/dashboards/templates[/{id}]`: the built-in dashboard templates ("views").

use axum::response::Response;
use serde_json::{Map, Value, json};
use sysdig::dashboards::{Dashboard as WireDashboard, Template};

use super::not_found;
use crate::{
    auth::Caller,
    error::SdcResult,
    http::{P, ok},
    monitor::wire::typed,
};

fn timechart(id: i64, name: &str, query: &str, unit: &str) -> Value {
    json!({
        "id": id,
        "type": "advancedTimechart",
        "name": name,
        "description": "",
        "advancedQueries": [{
            "enabled": true,
            "displayInfo": {"displayName": "", "timeSeriesDisplayNameTemplate": "", "type": "lines"},
            "format": {"unit": unit, "inputFormat": "0-100", "displayFormat": "auto", "decimals": null, "yAxis": "auto"},
            "query": query,
        }],
        "axesConfiguration": {"bottom": {"enabled": true}, "left": {"enabled": true, "displayName": null, "unit": "auto", "displayFormat": "auto", "decimals": null, "minValue": 0, "maxValue": null, "minInputFormat": "0-100", "maxInputFormat": "0-100", "scale": "linear"}, "right": {"enabled": true, "displayName": null, "unit": "auto", "displayFormat": "auto", "decimals": null, "minValue": 0, "maxValue": null, "minInputFormat": "1", "maxInputFormat": "1", "scale": "linear"}},
        "legendConfiguration": {"enabled": true, "position": "right", "layout": "table", "showCurrent": true},
    })
}

/// The built-in templates ("views"): `(dashboardId, name, description, panels)`.
fn builtin() -> Vec<(&'static str, &'static str, &'static str, Vec<Value>)> {
    vec![
        (
            "overview-host",
            "Host Overview",
            "CPU, memory and file system use per host",
            vec![
                timechart(
                    1,
                    "CPU usage",
                    "avg(sysdig_host_cpu_used_percent) by (host_hostname)",
                    "%",
                ),
                timechart(
                    2,
                    "Memory usage",
                    "avg(sysdig_host_memory_used_percent) by (host_hostname)",
                    "%",
                ),
                timechart(
                    3,
                    "File system usage",
                    "avg(sysdig_fs_used_percent) by (host_hostname)",
                    "%",
                ),
            ],
        ),
        (
            "overview-container",
            "Container Overview",
            "CPU and memory use per container",
            vec![
                timechart(
                    1,
                    "CPU usage",
                    "avg(sysdig_container_cpu_used_percent) by (container_name)",
                    "%",
                ),
                timechart(
                    2,
                    "Memory usage",
                    "avg(sysdig_container_memory_used_percent) by (container_name)",
                    "%",
                ),
            ],
        ),
        (
            "kubernetes-cluster-overview",
            "Kubernetes Cluster Overview",
            "Nodes, pods and resource use of a cluster",
            vec![
                timechart(
                    1,
                    "CPU requests",
                    "sum(kube_pod_container_resource_requests{resource=\"cpu\"})",
                    "number",
                ),
                timechart(2, "Running pods", "sum(kube_pod_status_ready)", "number"),
            ],
        ),
    ]
}

fn template_dashboard(
    id: &str,
    name: &str,
    description: &str,
    panels: Vec<Value>,
) -> Map<String, Value> {
    let layout: Vec<Value> = panels
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"panelId": p["id"], "x": 0, "y": i * 6, "w": 12, "h": 6}))
        .collect();
    let shown = json!({
        "id": null,
        "version": null,
        "name": name,
        "description": description,
        "templateId": id,
        "schema": 3,
        "shared": false,
        "public": false,
        "publicToken": null,
        "favorite": false,
        "sharingSettings": [],
        "panels": panels,
        "layout": layout,
        "scopeExpressionList": [],
        "eventsOverlaySettings": {"filterNotificationsUserInputFilter": ""},
        "autoCreated": false,
    });
    match shown {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Each template's id, name and description.
pub(crate) fn summaries() -> Vec<(&'static str, &'static str, &'static str)> {
    builtin()
        .into_iter()
        .map(|(id, name, description, _)| (id, name, description))
        .collect()
}

/// Template `id` as a (v3) dashboard, in fields.
pub(crate) fn find(id: &str) -> Option<Map<String, Value>> {
    builtin()
        .into_iter()
        .find(|(t, ..)| *t == id)
        .map(|(tid, name, description, panels)| template_dashboard(tid, name, description, panels))
}

/// The templates as `GET /api/v3/dashboards/templates` lists them.
fn listed() -> Vec<Template> {
    summaries()
        .into_iter()
        .map(|(id, name, description)| Template {
            dashboard_id: id.into(),
            name: name.into(),
            extra: Map::from_iter([
                ("description".to_string(), description.into()),
                ("category".to_string(), "Overview".into()),
                ("schema".to_string(), 3.into()),
            ]),
        })
        .collect()
}

pub async fn list(_caller: Caller) -> Response {
    ok(json!({"dashboardTemplates": listed()}))
}

pub async fn get(_caller: Caller, P(id): P<String>) -> SdcResult<Response> {
    let dashboard: WireDashboard = typed(find(&id).ok_or_else(not_found)?);
    Ok(ok(json!({"dashboard": dashboard})))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The wire types show what the templates showed when they were written out as JSON.
    #[test]
    fn templates_show_as_before() {
        let before: Vec<Value> = summaries()
            .into_iter()
            .map(|(id, name, description)| {
                json!({"dashboardId": id, "name": name, "description": description, "category": "Overview", "schema": 3})
            })
            .collect();
        assert_eq!(serde_json::to_value(listed()).unwrap(), Value::from(before));
        for (id, ..) in summaries() {
            let fields = find(id).unwrap();
            let shown: WireDashboard = typed(fields.clone());
            assert_eq!(
                serde_json::to_value(shown).unwrap(),
                Value::Object(fields.clone())
            );
            // As the v2 view of `GET /api/v2/defaultDashboards/{id}` (a string id).
            let mut v2 = fields;
            super::super::convert::as_v2(&mut v2);
            v2.insert("id".into(), id.into());
            let shown: WireDashboard = typed(v2.clone());
            assert_eq!(serde_json::to_value(shown).unwrap(), Value::Object(v2));
        }
    }
}

//! Between dashboards v2 (`widgets` with `gridConfiguration` on a 12-column grid and metric
//! ids with time/group aggregations) and v3 (`panels` with PromQL `advancedQueries` and a
//! `layout` on a 24-column grid). A dashboard is stored once, in the form of the API version
//! that last wrote it (its `schema`: 2 or 3), and shown to the other version converted:
//!
//! * name, chart kind (`timeSeries` ↔ `advancedTimechart`, `summary` ↔ `advancedNumber`; `top`
//!   and others become time charts) and position/size convert both ways;
//! * v2 metrics become one PromQL query per aggregated metric
//!   (`avg(avg_over_time(cpu_used_percent[$__interval])) by (host_hostname)`), and the widget's
//!   metrics ride along on the panel (`metrics`) so that a v3 round trip gives them back;
//! * v3 queries cannot become v2 metric ids: a converted widget has only a `timestamp` key, and
//!   carries the panel's `advancedQueries` so that a v2 round trip gives them back;
//! * scope expressions convert (`variable` ↔ `isVariable`); v2 widget scopes and v3 panel
//!   settings without a v2 equivalent (axes, legend, thresholds) are dropped by the conversion.

use serde_json::{Map, Value, json};

/// The schema that says which form a stored document holds.
pub fn schema(doc: &Map<String, Value>) -> i64 {
    doc.get("schema").and_then(Value::as_i64).unwrap_or(3)
}

fn arr<'a>(doc: &'a Map<String, Value>, k: &str) -> &'a [Value] {
    doc.get(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn int(v: &Value, k: &str, default: i64) -> i64 {
    v.get(k).and_then(Value::as_i64).unwrap_or(default)
}

/// `cpu.used.percent` → `cpu_used_percent`, as Sysdig names legacy metrics in PromQL.
fn prom_name(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn over_time(agg: &str) -> &'static str {
    match agg.to_ascii_lowercase().as_str() {
        "max" => "max_over_time",
        "min" => "min_over_time",
        "sum" => "sum_over_time",
        "count" => "count_over_time",
        _ => "avg_over_time",
    }
}

fn group(agg: &str) -> &'static str {
    match agg.to_ascii_lowercase().as_str() {
        "max" => "max",
        "min" => "min",
        "sum" => "sum",
        "count" => "count",
        _ => "avg",
    }
}

/// The PromQL queries of a v2 widget's metrics: one per aggregated metric, grouped by its keys.
fn widget_queries(widget: &Value) -> Vec<Value> {
    let metrics = widget
        .get("metrics")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let keys: Vec<String> = metrics
        .iter()
        .filter(|m| m.get("timeAggregation").is_none_or(Value::is_null))
        .filter_map(|m| m.get("id").and_then(Value::as_str))
        .filter(|id| *id != "timestamp")
        .map(prom_name)
        .collect();
    let by = if keys.is_empty() {
        String::new()
    } else {
        format!(" by ({})", keys.join(", "))
    };
    metrics
        .iter()
        .filter_map(|m| {
            let time = m.get("timeAggregation").and_then(Value::as_str)?;
            let id = m.get("id").and_then(Value::as_str)?;
            let grp = m.get("groupAggregation").and_then(Value::as_str).unwrap_or("avg");
            let query = format!(
                "{}({}({}[$__interval])){by}",
                group(grp),
                over_time(time),
                prom_name(id)
            );
            Some(json!({
                "enabled": true,
                "displayInfo": {"displayName": "", "timeSeriesDisplayNameTemplate": "", "type": "lines"},
                "format": {"unit": "auto", "inputFormat": "1", "displayFormat": "auto", "decimals": null, "yAxis": "auto"},
                "query": query,
            }))
        })
        .collect()
}

/// v2 `widgets` → v3 `(panels, layout)`.
pub fn widgets_to_panels(widgets: &[Value]) -> (Vec<Value>, Vec<Value>) {
    let mut panels = Vec::with_capacity(widgets.len());
    let mut layout = Vec::with_capacity(widgets.len());
    for (i, w) in widgets.iter().enumerate() {
        let id = i as i64 + 1;
        let kind = match w.get("showAs").and_then(Value::as_str) {
            Some("summary") => "advancedNumber",
            _ => "advancedTimechart",
        };
        let queries = match w.get("advancedQueries").and_then(Value::as_array) {
            Some(q) => q.clone(),
            None => widget_queries(w),
        };
        let mut panel = json!({
            "id": id,
            "type": kind,
            "name": w.get("name").cloned().unwrap_or_else(|| json!("")),
            "description": w.get("description").cloned().unwrap_or_else(|| json!("")),
            "advancedQueries": queries,
        });
        if let Some(m) = w.get("metrics") {
            panel["metrics"] = m.clone();
        }
        panels.push(panel);
        let g = w.get("gridConfiguration").cloned().unwrap_or(Value::Null);
        layout.push(json!({
            "panelId": id,
            "x": (int(&g, "col", 1) - 1).max(0) * 2,
            "y": (int(&g, "row", 1) - 1).max(0),
            "w": int(&g, "size_x", 12).max(1) * 2,
            "h": int(&g, "size_y", 6).max(1),
        }));
    }
    (panels, layout)
}

/// v3 `(panels, layout)` → v2 `widgets`.
pub fn panels_to_widgets(panels: &[Value], layout: &[Value]) -> Vec<Value> {
    panels
        .iter()
        .map(|p| {
            let id = p.get("id").and_then(Value::as_i64);
            let place = layout
                .iter()
                .find(|l| l.get("panelId").and_then(Value::as_i64) == id)
                .cloned()
                .unwrap_or(Value::Null);
            let show_as = match p.get("type").and_then(Value::as_str) {
                Some("advancedNumber") => "summary",
                _ => "timeSeries",
            };
            let metrics = match p.get("metrics") {
                Some(m) => m.clone(),
                None if show_as == "timeSeries" => {
                    json!([{"id": "timestamp", "timeAggregation": null, "groupAggregation": null, "propertyName": "k0"}])
                }
                None => json!([]),
            };
            json!({
                "name": p.get("name").cloned().unwrap_or_else(|| json!("")),
                "showAs": show_as,
                "metrics": metrics,
                "gridConfiguration": {
                    "col": int(&place, "x", 0) / 2 + 1,
                    "row": int(&place, "y", 0) + 1,
                    "size_x": (int(&place, "w", 24) / 2).max(1),
                    "size_y": int(&place, "h", 6).max(1),
                },
                "scope": null,
                "overrideScope": false,
                "customDisplayOptions": {},
                "advancedQueries": p.get("advancedQueries").cloned().unwrap_or_else(|| json!([])),
            })
        })
        .collect()
}

/// Renames one key of each scope expression (`variable` ↔ `isVariable`).
pub fn rename_scope_flag(doc: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(list) = doc
        .get_mut("scopeExpressionList")
        .and_then(Value::as_array_mut)
    {
        for e in list.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(v) = e.remove(from) {
                e.insert(to.into(), v);
            }
        }
    }
}

/// A stored document as v3 shows it: a v2-written one gets panels and layout, loses widgets.
pub fn as_v3(doc: &mut Map<String, Value>) {
    // A v3 body that said `schema: 2` but brought panels stays as it was written.
    if schema(doc) != 2 || !arr(doc, "panels").is_empty() {
        return;
    }
    let (panels, layout) = widgets_to_panels(arr(doc, "widgets"));
    doc.insert("panels".into(), panels.into());
    doc.insert("layout".into(), layout.into());
    doc.remove("widgets");
    doc.insert("schema".into(), 3.into());
    rename_scope_flag(doc, "variable", "isVariable");
}

/// A stored document as v2 shows it: a v3-written one gets widgets, loses panels and layout.
pub fn as_v2(doc: &mut Map<String, Value>) {
    if schema(doc) == 2 && arr(doc, "panels").is_empty() {
        doc.remove("panels");
        doc.remove("layout");
        rename_scope_flag(doc, "isVariable", "variable");
        return;
    }
    let widgets = panels_to_widgets(arr(doc, "panels"), arr(doc, "layout"));
    doc.insert("widgets".into(), widgets.into());
    doc.remove("panels");
    doc.remove("layout");
    doc.insert("schema".into(), 2.into());
    rename_scope_flag(doc, "isVariable", "variable");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn widgets_become_panels_with_queries_and_back() {
        let widgets = vec![json!({
            "name": "CPU", "showAs": "timeSeries",
            "metrics": [
                {"id": "timestamp", "timeAggregation": null, "groupAggregation": null, "propertyName": "k0"},
                {"id": "host.hostName", "timeAggregation": null, "groupAggregation": null, "propertyName": "k1"},
                {"id": "cpu.used.percent", "timeAggregation": "timeAvg", "groupAggregation": "max", "propertyName": "v0"}
            ],
            "gridConfiguration": {"col": 7, "row": 3, "size_x": 6, "size_y": 4}
        })];
        let (panels, layout) = widgets_to_panels(&widgets);
        assert_eq!(panels[0]["type"], "advancedTimechart");
        assert_eq!(
            panels[0]["advancedQueries"][0]["query"],
            "max(avg_over_time(cpu_used_percent[$__interval])) by (host_hostName)"
        );
        assert_eq!(
            layout[0],
            json!({"panelId": 1, "x": 12, "y": 2, "w": 12, "h": 4})
        );
        let back = panels_to_widgets(&panels, &layout);
        assert_eq!(back[0]["name"], "CPU");
        assert_eq!(back[0]["metrics"], widgets[0]["metrics"]);
        assert_eq!(
            back[0]["gridConfiguration"],
            widgets[0]["gridConfiguration"]
        );
    }

    #[test]
    fn documents_show_the_other_version_converted() {
        let mut v3 = json!({"schema": 3, "panels": [{"id": 4, "type": "advancedNumber", "name": "n", "advancedQueries": [{"query": "up"}]}],
            "layout": [{"panelId": 4, "x": 0, "y": 0, "w": 8, "h": 3}],
            "scopeExpressionList": [{"operand": "a", "isVariable": true}]});
        let m = v3.as_object_mut().unwrap();
        as_v2(m);
        assert_eq!(m["schema"], 2);
        assert!(m.get("panels").is_none());
        assert_eq!(m["widgets"][0]["showAs"], "summary");
        assert_eq!(m["widgets"][0]["gridConfiguration"]["size_x"], 4);
        assert_eq!(m["scopeExpressionList"][0]["variable"], true);
        as_v3(m);
        assert_eq!(m["panels"][0]["advancedQueries"][0]["query"], "up");
        assert_eq!(m["layout"][0]["w"], 8);
        assert_eq!(m["scopeExpressionList"][0]["isVariable"], true);
    }
}

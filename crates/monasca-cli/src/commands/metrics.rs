//! The metric commands.

use anyhow::{Result, bail};
use jiff::Timestamp;
use monasca::{
    Client,
    metrics::{
        CreateMetrics, ListDimensionNames, ListDimensionValues, ListMeasurements, ListMetricNames,
        ListMetrics, ListStatistics,
    },
};
use serde_json::{Map, Value};

use crate::{
    args::{key_values, query_dimensions, start_time},
    cli::{
        DimensionNameList, DimensionValueList, MeasurementList, MetricCreate, MetricCreateRaw,
        MetricList, MetricNameList, MetricStatistics,
    },
    output::{dict_lines, done, json, number, print, py_str},
};

const STATISTICS: [&str; 5] = ["AVG", "MIN", "MAX", "COUNT", "SUM"];

macro_rules! apply_paging {
    ($op:expr, $p:expr) => {{
        let mut op = $op;
        if let Some(o) = &$p.offset {
            op = op.offset(o.clone());
        }
        if let Some(t) = &$p.tenant_id {
            op = op.tenant_id(t.clone());
        }
        if let Some(l) = $p.limit {
            op = op.limit(l);
        }
        op
    }};
}

macro_rules! apply_dimensions {
    ($op:expr, $dims:expr) => {{
        let mut op = $op;
        for (k, v) in query_dimensions($dims) {
            op = op.dimension(k, v.as_deref());
        }
        op
    }};
}

pub async fn create(client: &Client, a: MetricCreate) -> Result<()> {
    let dimensions = key_values(&a.dimensions)?;
    let value_meta = key_values(&a.value_meta)?;
    let mut body = Map::new();
    body.insert("name".into(), Value::String(a.name));
    if !dimensions.is_empty() {
        body.insert("dimensions".into(), Value::Object(dimensions));
    }
    let ts = match a.time {
        Some(t) => Value::from(t),
        // The real CLI sends fractional milliseconds.
        None => Value::from(Timestamp::now().as_microsecond() as f64 / 1000.0),
    };
    body.insert("timestamp".into(), ts);
    if !a.value.is_finite() {
        bail!(
            "metric value {} is not a finite number: Monasca stores finite values only",
            a.value
        );
    }
    body.insert("value".into(), Value::from(a.value));
    if !value_meta.is_empty() {
        body.insert("value_meta".into(), Value::Object(value_meta));
    }
    let mut op = CreateMetrics::raw(Value::Object(body));
    if let Some(p) = a.project_id {
        op = op.tenant_id(p);
    }
    client.send(&op).await?;
    done("Successfully created metric")
}

pub async fn create_raw(client: &Client, a: MetricCreateRaw) -> Result<()> {
    let body: Value = serde_json::from_str(&a.body)
        .map_err(|e| anyhow::anyhow!("argument <JSON_BODY>: invalid JSON: {e}"))?;
    let Value::Object(mut m) = body else {
        bail!("the JSON body must be an object (one metric)");
    };
    let tenant = m.remove("tenant_id");
    let mut op = CreateMetrics::raw(Value::Object(m));
    if let Some(t) = tenant {
        op = op.tenant_id(py_str(&t));
    }
    client.send(&op).await?;
    done("Successfully created metric")
}

pub async fn list(client: &Client, a: MetricList) -> Result<()> {
    let mut op = apply_dimensions!(apply_paging!(ListMetrics::new(), a.paging), &a.dimensions);
    if let Some(n) = a.name {
        op = op.name(n);
    }
    if let Some(s) = &a.starttime {
        op = op.start_time(start_time(s, Timestamp::now())?);
    }
    if let Some(e) = a.endtime {
        op = op.end_time(e);
    }
    let env = client.send(&op).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                dict_lines(m.dimensions.iter().map(|(k, v)| (k, v.clone()))),
            ]
        })
        .collect();
    a.out.print_rows(&["name", "dimensions"], rows)
}

pub async fn name_list(client: &Client, a: MetricNameList) -> Result<()> {
    let op = apply_dimensions!(
        apply_paging!(ListMetricNames::new(), a.paging),
        &a.dimensions
    );
    let env = client.send(&op).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env.elements.iter().map(|n| vec![n.name.clone()]).collect();
    a.out.print_rows(&["Name"], rows)
}

pub async fn measurement_list(client: &Client, a: MeasurementList) -> Result<()> {
    let start = start_time(&a.starttime, Timestamp::now())?;
    let q = &a.query;
    let mut op = apply_dimensions!(
        apply_paging!(ListMeasurements::new(a.name, start), q.paging),
        &q.dimensions
    );
    if let Some(e) = &q.endtime {
        op = op.end_time(e.clone());
    }
    if q.merge_metrics {
        op = op.merge_metrics(true);
    }
    if let Some(g) = &q.group_by {
        op = op.group_by(g.clone());
    }
    let env = client.send(&op).await?;
    if a.plot.plot {
        return cli_kit::plot::print(&super::plot::measurements(&env.elements));
    }
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .iter()
        .map(|m| {
            let col = |f: &dyn Fn(&monasca::types::MeasurementRow) -> String| {
                m.measurements.iter().map(f).collect::<Vec<_>>().join("\n")
            };
            vec![
                m.name.clone(),
                dict_lines(m.dimensions.iter().map(|(k, v)| (k, v.clone()))),
                col(&|r| r.0.clone()),
                col(&|r| number(&Value::from(r.1))),
                col(&|r| {
                    r.2.iter()
                        .map(|(k, v)| format!("{k}: {}", py_str(v)))
                        .collect::<Vec<_>>()
                        .join(",")
                }),
            ]
        })
        .collect();
    a.out.print_rows(
        &["name", "dimensions", "timestamp", "value", "value_meta"],
        rows,
    )
}

pub async fn statistics(client: &Client, a: MetricStatistics) -> Result<()> {
    // Checked before anything is sent, with the real CLI's message.
    for s in a.statistics.split(',') {
        if !STATISTICS.contains(&s.to_ascii_uppercase().as_str()) {
            bail!("Invalid type, not one of [AVG, MIN, MAX, COUNT, SUM]");
        }
    }
    let start = start_time(&a.starttime, Timestamp::now())?;
    let q = &a.query;
    let mut op = apply_dimensions!(
        apply_paging!(ListStatistics::new(a.name, a.statistics, start), q.paging),
        &q.dimensions
    );
    if let Some(e) = &q.endtime {
        op = op.end_time(e.clone());
    }
    if let Some(p) = &a.period {
        op = op.period(p);
    }
    if q.merge_metrics {
        op = op.merge_metrics(true);
    }
    if let Some(g) = &q.group_by {
        op = op.group_by(g.clone());
    }
    let env = client.send(&op).await?;
    if a.plot.plot {
        return cli_kit::plot::print(&super::plot::statistics(&env.elements));
    }
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let Some(first) = env.elements.first() else {
        return print("");
    };
    let stat_cols: Vec<String> = first.columns.iter().skip(1).cloned().collect();
    let mut headers = vec!["name", "dimensions", "timestamp"];
    headers.extend(stat_cols.iter().map(String::as_str));
    let rows = env
        .elements
        .iter()
        .map(|s| {
            let idx = |c: &str| s.columns.iter().position(|x| x == c);
            let mut row = vec![
                s.name.clone(),
                dict_lines(s.dimensions.iter().map(|(k, v)| (k, v.clone()))),
                s.statistics
                    .iter()
                    .map(|r| r.first().map(py_str).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n"),
            ];
            for c in &stat_cols {
                row.push(
                    s.statistics
                        .iter()
                        .map(|r| {
                            idx(c)
                                .and_then(|i| r.get(i))
                                .map(number)
                                .unwrap_or_default()
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            row
        })
        .collect();
    a.out.print_rows(&headers, rows)
}

pub async fn dimension_name_list(client: &Client, a: DimensionNameList) -> Result<()> {
    let mut op = apply_paging!(ListDimensionNames::new(), a.paging);
    for m in &a.metric_name {
        op = op.metric_name(m.clone());
    }
    let env = client.send(&op).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .iter()
        .map(|d| vec![d.dimension_name.clone()])
        .collect();
    a.out.print_rows(&["Dimension Names"], rows)
}

pub async fn dimension_value_list(client: &Client, a: DimensionValueList) -> Result<()> {
    let mut op = apply_paging!(ListDimensionValues::new(a.dimension_name), a.paging);
    for m in &a.metric_name {
        op = op.metric_name(m.clone());
    }
    let env = client.send(&op).await?;
    if a.out.json {
        return print(&json(&env.elements)?);
    }
    let rows = env
        .elements
        .iter()
        .map(|d| vec![d.dimension_value.clone()])
        .collect();
    a.out.print_rows(&["Dimension Values"], rows)
}

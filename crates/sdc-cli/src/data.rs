//! `sdc data query` and `sdc data metrics`: Sysdig's legacy data API, one table row per sample
//! and group (`t` then the requested keys and metrics, in order), or with `--plot` a chart with
//! one line per metric and group.

use anyhow::{Result, bail};
use cli_kit::plot::{Series, series_name};
use serde_json::{Map, Value};
use sysdig::{
    Client,
    data::{DataMetric, DataRequest, DataRow, Paging},
};

use crate::{
    cli::DataCmd,
    output::{Format, Times, cell, print, print_list},
    times::Unit::EpochMs,
};

const ROW_TIMES: Times = &[("t", EpochMs)];

/// `ID:TIME:GROUP` (e.g. `cpu.used.percent:timeAvg:avg`), or `ID` for `avg` both ways.
fn metric(spec: &str) -> Result<DataMetric> {
    let parts: Vec<&str> = spec.split(':').collect();
    Ok(match parts.as_slice() {
        [id] => DataMetric::metric(*id, "timeAvg", "avg"),
        [id, time, group] => DataMetric::metric(*id, time, group),
        _ => bail!(
            "a metric is ID or ID:TIME:GROUP (e.g. cpu.used.percent:timeAvg:avg), not {spec:?}"
        ),
    })
}

pub async fn run(c: &Client, f: Format, cmd: DataCmd) -> Result<()> {
    match cmd {
        DataCmd::Query {
            metrics,
            keys,
            last,
            sampling,
            filter,
            from,
            to,
            plot,
        } => {
            let mut cols: Vec<DataMetric> = keys.iter().map(DataMetric::key).collect();
            for m in &metrics {
                cols.push(metric(m)?);
            }
            let mut req = DataRequest::last(last, cols);
            req.sampling = sampling;
            req.filter = filter;
            req.paging = Some(Paging { from, to });
            let res = c.data().query(&req).await?;
            if plot {
                return cli_kit::plot::print(&series(&keys, &metrics, &res.data));
            }
            if f.json {
                return print(&serde_json::to_string_pretty(&res)?);
            }
            let names: Vec<String> = keys.iter().chain(metrics.iter()).cloned().collect();
            let rows: Vec<Value> = res
                .data
                .iter()
                .map(|r| {
                    let mut m = Map::new();
                    m.insert("t".into(), Value::from(r.t.saturating_mul(1000)));
                    for (n, v) in names.iter().zip(&r.d) {
                        m.insert(n.clone(), v.clone());
                    }
                    Value::Object(m)
                })
                .collect();
            let mut columns: Vec<&str> = vec!["t"];
            columns.extend(names.iter().map(String::as_str));
            print_list(f, &rows, &columns, ROW_TIMES)
        }
        DataCmd::Metrics => {
            let all = c.data().metrics().await?;
            if f.json {
                return print(&serde_json::to_string_pretty(&all)?);
            }
            let rows: Vec<&Value> = all.values().collect();
            print_list(f, &rows, &["id", "type"], &[])
        }
    }
}

/// One series per metric and group: a row's `d` holds the group's key values, then its metric
/// values; rows with the same key values belong to one group. A series is named
/// `metric{key="value", ...}`; values that are not numbers are left out.
fn series(keys: &[String], metrics: &[String], rows: &[DataRow]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for row in rows {
        let group: Vec<(&String, String)> = keys.iter().zip(row.d.iter().map(cell)).collect();
        for (m, v) in metrics.iter().zip(row.d.iter().skip(keys.len())) {
            let label = series_name(m, group.iter().map(|(k, v)| (k, v)));
            let Some(value) = v.as_f64() else { continue };
            let point = (row.t.saturating_mul(1000), value);
            match out.iter_mut().find(|s| s.label == label) {
                Some(s) => s.points.push(point),
                None => out.push(Series::new(label, vec![point])),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_series_per_metric_and_group() {
        let row = |t, d: serde_json::Value| DataRow {
            t,
            d: serde_json::from_value(d).unwrap(),
        };
        let rows = [
            row(60, serde_json::json!(["h1", 1.0, 10])),
            row(60, serde_json::json!(["h2", 2.0, null])),
            row(120, serde_json::json!(["h1", 3.0, 30])),
        ];
        let keys = ["host".to_string()];
        let metrics = ["cpu".to_string(), "mem".to_string()];
        let got = series(&keys, &metrics, &rows);
        let names: Vec<&str> = got.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            names,
            [
                r#"cpu{host="h1"}"#,
                r#"mem{host="h1"}"#,
                r#"cpu{host="h2"}"#
            ]
        );
        assert_eq!(got[0].points, [(60_000, 1.0), (120_000, 3.0)]);
        assert_eq!(got[1].points, [(60_000, 10.0), (120_000, 30.0)]);
        let ungrouped = series(&[], &metrics[..1], &[row(60, serde_json::json!([5.0]))]);
        assert_eq!(ungrouped, [Series::new("cpu", vec![(60_000, 5.0)])]);
    }
}

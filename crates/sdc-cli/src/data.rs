//! `sdc data query` and `sdc data metrics`: Sysdig's legacy data API, one table row per sample
//! and group (`t` then the requested keys and metrics, in order).

use anyhow::{Result, bail};
use serde_json::{Map, Value};
use sysdig::{
    Client,
    data::{DataMetric, DataRequest, Paging},
};

use crate::{
    cli::DataCmd,
    output::{Format, Times, print, print_list},
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

//! `sdc promql`: PromQL through the Prometheus API, printed as tables (one row per series and
//! point, labels in `{k="v"}` form), with `--json` as the typed result, or with `--plot` as a
//! chart of a matrix (one line per series).

use anyhow::{Result, bail};
use cli_kit::plot::Series;
use serde_json::{Value, json};
use sysdig::{
    Client,
    promql::{Labels, QueryData},
};

use crate::{
    cli::PromqlCmd,
    output::{Format, Times, print, print_list},
    times::Unit::EpochMs,
};

const POINT_TIMES: Times = &[("time", EpochMs)];

pub async fn run(c: &Client, f: Format, cmd: PromqlCmd) -> Result<()> {
    match cmd {
        PromqlCmd::Query { query, time, plot } => {
            let data = c.promql().query(&query, time).await?;
            if plot {
                return plot_data(&data);
            }
            print_data(f, &data)
        }
        PromqlCmd::Range {
            query,
            start,
            end,
            step,
            plot,
        } => {
            let now = jiff::Timestamp::now().as_second();
            let start = start.unwrap_or(now - 3600);
            let end = end.unwrap_or(now);
            let data = c.promql().query_range(&query, start, end, step).await?;
            if plot {
                return plot_data(&data);
            }
            print_data(f, &data)
        }
        PromqlCmd::Series { matchers } => {
            let series = c.promql().series(&matchers).await?;
            let rows: Vec<Value> = series
                .iter()
                .map(|l| json!({"series": selector(l)}))
                .collect();
            if f.json {
                return print_list(f, &series, &[], &[]);
            }
            print_list(f, &rows, &["series"], &[])
        }
        PromqlCmd::Labels => names(f, c.promql().labels().await?, "label"),
        PromqlCmd::Values { label } => names(f, c.promql().label_values(&label).await?, "value"),
    }
}

fn names(f: Format, names: Vec<String>, column: &str) -> Result<()> {
    if f.json {
        return print_list(f, &names, &[], &[]);
    }
    let rows: Vec<Value> = names.into_iter().map(|n| json!({ column: n })).collect();
    print_list(f, &rows, &[column], &[])
}

/// `name{k="v", …}`, as Prometheus prints a series.
fn selector(l: &Labels) -> String {
    let name = l.get("__name__").map(String::as_str).unwrap_or_default();
    let rest: Vec<String> = l
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if rest.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", rest.join(", "))
    }
}

/// Rows of `series | time | value`: a vector's samples, every point of a matrix's series.
fn print_data(f: Format, data: &QueryData) -> Result<()> {
    if f.json {
        return print(&serde_json::to_string_pretty(data)?);
    }
    let ms = |t: f64| (t * 1000.0).round() as i64;
    let rows: Vec<Value> = match data {
        QueryData::Vector(v) => v
            .iter()
            .map(|s| json!({"series": selector(&s.metric), "time": ms(s.value.time), "value": s.value.value}))
            .collect(),
        QueryData::Matrix(m) => m
            .iter()
            .flat_map(|s| {
                let name = selector(&s.metric);
                s.values
                    .iter()
                    .map(move |p| json!({"series": name, "time": ms(p.time), "value": p.value}))
            })
            .collect(),
        QueryData::Scalar(p) => vec![json!({"series": "scalar", "time": ms(p.time), "value": p.value})],
        QueryData::String((t, s)) => vec![json!({"series": "string", "time": ms(*t), "value": s})],
    };
    print_list(f, &rows, &["series", "time", "value"], POINT_TIMES)
}

/// A matrix as a chart, one line per series. An instant vector or a scalar has one point
/// per series and no time axis, so it is refused (an empty one is "no data").
fn plot_data(data: &QueryData) -> Result<()> {
    let ms = |t: f64| (t * 1000.0).round() as i64;
    let series: Vec<Series> = match data {
        QueryData::Matrix(m) => m
            .iter()
            .map(|s| {
                let points = s.values.iter().map(|p| (ms(p.time), p.value)).collect();
                Series::new(selector(&s.metric), points)
            })
            .collect(),
        QueryData::Vector(v) if v.is_empty() => Vec::new(),
        QueryData::Vector(_) | QueryData::Scalar(_) | QueryData::String(_) => bail!(
            "--plot draws range vectors: this query returned an instant {}; use `sdc promql range` \
             or a range selector such as x[10m]",
            match data {
                QueryData::Vector(_) => "vector",
                QueryData::Scalar(_) => "scalar",
                _ => "string",
            }
        ),
    };
    cli_kit::plot::print(&series)
}

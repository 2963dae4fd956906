//! The benchmark's peers: the same fleet written to InfluxDB 1.x (line protocol in
//! monasca-persister's schema, which is what a Monasca site runs) and to VictoriaMetrics (its
//! JSON import), and the query mix expressed in each system's own language.
//!
//! Every answer is reduced to one canonical JSON form (times in epoch ms, values with nine
//! significant digits, lists sorted) so `bench/run.sh` can check that all systems answer alike.
//! Aggregates use epoch-aligned buckets `[t, t + period)` like Monasca's statistics; PromQL
//! windows end at the evaluation time, so the VictoriaMetrics queries shift them with a negative
//! offset of one period less a millisecond.

use std::{collections::BTreeMap, fmt::Write as _};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::{Fleet, STEP_MS, host_name, metric_name, sample_value};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum System {
    Vigil,
    Influxdb,
    Victoriametrics,
}

/// Database the InfluxDB peer writes to, as monasca-persister's default.
pub const INFLUX_DB: &str = "mon";

/// A half-open query window `[start_ms, end_ms)`, aligned to the largest period queried.
#[derive(Clone, Copy)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Window {
    /// The 300 s-aligned window covering samples from `first_ms` to `last_ms`.
    pub fn covering(first_ms: i64, last_ms: i64) -> Self {
        const ALIGN: i64 = 300_000;
        Self {
            start_ms: first_ms.div_euclid(ALIGN) * ALIGN,
            end_ms: (last_ms.div_euclid(ALIGN) + 1) * ALIGN,
        }
    }
}

/// Where and how a system takes writes: path, content type.
pub fn write_target(system: System, base: &str) -> (String, &'static str) {
    match system {
        System::Vigil => (format!("{base}/v2.0/metrics"), "application/json"),
        System::Influxdb => (
            format!("{base}/write?db={INFLUX_DB}&precision=ms"),
            "text/plain; charset=utf-8",
        ),
        System::Victoriametrics => (format!("{base}/api/v1/import"), "application/json"),
    }
}

/// A path that answers once the system is up.
pub fn ready_path(system: System) -> &'static str {
    match system {
        System::Vigil => "/",
        System::Influxdb => "/ping",
        System::Victoriametrics => "/health",
    }
}

/// Builds the fleet's request bodies for `system`, time-major (every series at t0, then t1, ...),
/// `batch` points each, handing each body and its point count to `emit` until it returns false.
pub fn generate(
    system: System,
    f: Fleet,
    batch: usize,
    t0: i64,
    emit: &mut dyn FnMut(usize, String) -> bool,
) {
    let names: Vec<String> = (0..f.names).map(metric_name).collect();
    let hosts: Vec<String> = (0..f.hosts).map(host_name).collect();
    let mut body = String::new();
    let mut count = 0;
    let close = |body: &mut String| {
        if system == System::Vigil {
            body.push(']');
        }
    };
    for i in 0..f.points {
        let ts = t0 + i as i64 * STEP_MS;
        for (n, name) in names.iter().enumerate() {
            for (h, host) in hosts.iter().enumerate() {
                let v = sample_value(n, h, i);
                let svc = h % 10;
                let _ = match system {
                    System::Vigil => {
                        body.push(if count == 0 { '[' } else { ',' });
                        write!(
                            body,
                            r#"{{"name":"{name}","dimensions":{{"hostname":"{host}","service":"svc-{svc}"}},"timestamp":{ts},"value":{v}}}"#
                        )
                    }
                    // Tags sorted by key, as InfluxDB stores them; an empty value_meta is "{}".
                    System::Influxdb => writeln!(
                        body,
                        "{name},_region=RegionOne,_tenant_id=bench,hostname={host},service=svc-{svc} \
                         value={v:?},value_meta=\"{{}}\" {ts}"
                    ),
                    System::Victoriametrics => writeln!(
                        body,
                        r#"{{"metric":{{"__name__":"{name}","hostname":"{host}","service":"svc-{svc}"}},"values":[{v:?}],"timestamps":[{ts}]}}"#
                    ),
                };
                count += 1;
                if count == batch {
                    close(&mut body);
                    if !emit(count, std::mem::take(&mut body)) {
                        return;
                    }
                    count = 0;
                }
            }
        }
    }
    if count > 0 {
        close(&mut body);
        emit(count, body);
    }
}

pub type Canon = Box<dyn Fn(&[u8]) -> Result<Value>>;

/// One query of the mix for a peer: a single GET and how to read its answer.
pub struct PeerProbe {
    pub key: &'static str,
    pub label: &'static str,
    pub url: String,
    pub canon: Canon,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Nine significant digits: sums taken in different orders agree to that.
pub fn num(v: f64) -> Value {
    Value::String(format!("{v:.8e}"))
}

/// The query mix for InfluxDB or VictoriaMetrics, over the same series as Vigil's.
pub fn peer_probes(system: System, base: &str, f: Fleet, w: Window) -> Result<Vec<PeerProbe>> {
    let name = metric_name(0);
    let host = host_name(1.min(f.hosts - 1));
    let (s, e) = (w.start_ms, w.end_ms);
    Ok(match system {
        System::Vigil => bail!("Vigil's probes are the Monasca API's"),
        System::Influxdb => {
            let q = |stmt: String| format!("{base}/query?db={INFLUX_DB}&epoch=ms&q={}", enc(&stmt));
            let tw = format!("_tenant_id = 'bench' AND time >= {s}ms AND time < {e}ms");
            vec![
                PeerProbe {
                    key: "raw",
                    label: "measurements, 1 series",
                    url: q(format!(
                        "SELECT value FROM \"{name}\" WHERE hostname = '{host}' AND {tw}"
                    )),
                    canon: Box::new(|b| influx_rows(b).map(only)),
                },
                PeerProbe {
                    key: "stats_1",
                    label: "statistics avg, 1 series, 60 s",
                    url: q(format!(
                        "SELECT mean(value) FROM \"{name}\" WHERE hostname = '{host}' AND {tw} \
                         GROUP BY time(60s) fill(none)"
                    )),
                    canon: Box::new(|b| influx_rows(b).map(only)),
                },
                PeerProbe {
                    key: "stats_group",
                    label: "statistics avg group_by=hostname, 300 s",
                    url: q(format!(
                        "SELECT mean(value) FROM \"{name}\" WHERE {tw} \
                         GROUP BY time(300s), hostname fill(none)"
                    )),
                    canon: Box::new(|b| influx_rows(b).map(|r| json!(r))),
                },
                PeerProbe {
                    key: "stats_merged",
                    label: "statistics avg merge_metrics, 300 s",
                    url: q(format!(
                        "SELECT mean(value) FROM \"{name}\" WHERE {tw} GROUP BY time(300s) fill(none)"
                    )),
                    canon: Box::new(|b| influx_rows(b).map(only)),
                },
                PeerProbe {
                    key: "names",
                    label: "metric names",
                    url: q("SHOW MEASUREMENTS WHERE _tenant_id = 'bench'".into()),
                    canon: Box::new(|b| influx_column(b, 0)),
                },
                PeerProbe {
                    key: "dim_values",
                    label: "dimension values of hostname",
                    // What monasca-api asks InfluxDB for this call.
                    url: q(
                        "SHOW TAG VALUES WITH KEY = \"hostname\" WHERE _tenant_id = 'bench'".into(),
                    ),
                    canon: Box::new(|b| influx_column(b, 1)),
                },
                PeerProbe {
                    key: "metric_list",
                    label: "metric-list, 1 name",
                    url: q(format!(
                        "SHOW TAG VALUES FROM \"{name}\" WITH KEY = \"hostname\" \
                         WHERE _tenant_id = 'bench'"
                    )),
                    canon: Box::new(|b| influx_column(b, 1)),
                },
            ]
        }
        System::Victoriametrics => {
            let sel = |extra: &str| format!("{{__name__=\"{name}\"{extra}}}");
            let one = sel(&format!(",hostname=\"{host}\""));
            let all = sel("");
            let range = |expr: String, step: i64| {
                format!(
                    "{base}/api/v1/query_range?query={}&start={}&end={}&step={step}",
                    enc(&expr),
                    s / 1000,
                    (e / 1000) - step
                )
            };
            let shifted = |func: &str, sel: &str, period: i64| {
                format!("{func}({sel}[{period}s] offset -{}ms)", period * 1000 - 1)
            };
            vec![
                PeerProbe {
                    key: "raw",
                    label: "measurements, 1 series",
                    url: format!(
                        "{base}/api/v1/export?match[]={}&start={}&end={}",
                        enc(&one),
                        s as f64 / 1000.0,
                        (e - 1) as f64 / 1000.0
                    ),
                    canon: Box::new(vm_export),
                },
                PeerProbe {
                    key: "stats_1",
                    label: "statistics avg, 1 series, 60 s",
                    url: range(shifted("avg_over_time", &one, 60), 60),
                    canon: Box::new(|b| vm_matrix(b).map(only)),
                },
                PeerProbe {
                    key: "stats_group",
                    label: "statistics avg group_by=hostname, 300 s",
                    url: range(
                        format!(
                            "sum by (hostname) ({}) / sum by (hostname) ({})",
                            shifted("sum_over_time", &all, 300),
                            shifted("count_over_time", &all, 300)
                        ),
                        300,
                    ),
                    canon: Box::new(|b| vm_matrix(b).map(|r| json!(r))),
                },
                PeerProbe {
                    key: "stats_merged",
                    label: "statistics avg merge_metrics, 300 s",
                    url: range(
                        format!(
                            "sum({}) / sum({})",
                            shifted("sum_over_time", &all, 300),
                            shifted("count_over_time", &all, 300)
                        ),
                        300,
                    ),
                    canon: Box::new(|b| vm_matrix(b).map(only)),
                },
                PeerProbe {
                    key: "names",
                    label: "metric names",
                    url: format!("{base}/api/v1/label/__name__/values"),
                    canon: Box::new(vm_strings),
                },
                PeerProbe {
                    key: "dim_values",
                    label: "dimension values of hostname",
                    url: format!("{base}/api/v1/label/hostname/values"),
                    canon: Box::new(vm_strings),
                },
                PeerProbe {
                    key: "metric_list",
                    label: "metric-list, 1 name",
                    url: format!("{base}/api/v1/series?match[]={}", enc(&all)),
                    canon: Box::new(|b| {
                        let v: Value = serde_json::from_slice(b)?;
                        let mut hosts: Vec<String> = arr(&v["data"])?
                            .iter()
                            .filter_map(|m| m["hostname"].as_str().map(String::from))
                            .collect();
                        hosts.sort();
                        Ok(json!(hosts))
                    }),
                },
            ]
        }
    })
}

/// The one series of an ungrouped answer (whatever labels it kept), or none.
fn only(groups: BTreeMap<String, Value>) -> Value {
    groups.into_values().next().unwrap_or_else(|| json!([]))
}

fn arr(v: &Value) -> Result<&Vec<Value>> {
    v.as_array().context("expected an array")
}

fn ms_of(v: &Value) -> Result<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.round() as i64))
            .context("time out of range"),
        Value::String(s) => Ok(s
            .parse::<jiff::Timestamp>()
            .with_context(|| format!("bad time {s}"))?
            .as_millisecond()),
        _ => bail!("no time"),
    }
}

fn value_of(v: &Value) -> Result<f64> {
    match v {
        Value::Number(n) => n.as_f64().context("bad number"),
        Value::String(s) => s.parse().with_context(|| format!("bad value {s}")),
        _ => bail!("no value"),
    }
}

/// InfluxQL series as `{hostname tag (or ""): [[ms, value], ...]}`.
fn influx_rows(b: &[u8]) -> Result<BTreeMap<String, Value>> {
    let v: Value = serde_json::from_slice(b)?;
    if let Some(e) = v["results"][0]["error"].as_str() {
        bail!("InfluxDB: {e}");
    }
    let mut out = BTreeMap::new();
    for s in v["results"][0]["series"].as_array().into_iter().flatten() {
        let key = s["tags"]["hostname"].as_str().unwrap_or("").to_string();
        let mut rows = Vec::new();
        for r in arr(&s["values"])? {
            rows.push(json!([ms_of(&r[0])?, num(value_of(&r[1])?)]));
        }
        out.insert(key, json!(rows));
    }
    Ok(out)
}

/// Column `col` of every InfluxQL series, deduplicated and sorted.
fn influx_column(b: &[u8], col: usize) -> Result<Value> {
    let v: Value = serde_json::from_slice(b)?;
    if let Some(e) = v["results"][0]["error"].as_str() {
        bail!("InfluxDB: {e}");
    }
    let mut out = std::collections::BTreeSet::new();
    for s in v["results"][0]["series"].as_array().into_iter().flatten() {
        for r in arr(&s["values"])? {
            out.insert(r[col].as_str().context("not a string")?.to_string());
        }
    }
    Ok(json!(out))
}

fn vm_export(b: &[u8]) -> Result<Value> {
    let mut rows = Vec::new();
    for line in b.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line)?;
        for (t, x) in arr(&v["timestamps"])?.iter().zip(arr(&v["values"])?) {
            rows.push((ms_of(t)?, value_of(x)?));
        }
    }
    rows.sort_by_key(|r| r.0);
    Ok(json!(
        rows.into_iter()
            .map(|(t, x)| json!([t, num(x)]))
            .collect::<Vec<_>>()
    ))
}

/// A PromQL matrix as `{hostname label (or ""): [[ms, value], ...]}`.
fn vm_matrix(b: &[u8]) -> Result<BTreeMap<String, Value>> {
    let v: Value = serde_json::from_slice(b)?;
    if v["status"] != "success" {
        bail!("VictoriaMetrics: {}", v["error"]);
    }
    let mut out = BTreeMap::new();
    for s in arr(&v["data"]["result"])? {
        let key = s["metric"]["hostname"].as_str().unwrap_or("").to_string();
        let mut rows = Vec::new();
        for r in arr(&s["values"])? {
            let t = (r[0].as_f64().context("bad time")? * 1000.0).round() as i64;
            rows.push(json!([t, num(value_of(&r[1])?)]));
        }
        out.insert(key, json!(rows));
    }
    Ok(out)
}

fn vm_strings(b: &[u8]) -> Result<Value> {
    let v: Value = serde_json::from_slice(b)?;
    let mut out: Vec<String> = arr(&v["data"])?
        .iter()
        .filter_map(|s| s.as_str().map(String::from))
        .collect();
    out.sort();
    Ok(json!(out))
}

/// Vigil's answer (the elements of every page) in the canonical form.
pub fn vigil_canon(key: &str, els: &[Value]) -> Result<Value> {
    let rows = |el: &Value, field: &str| -> Result<Value> {
        let mut out = Vec::new();
        for r in arr(&el[field])? {
            out.push(json!([ms_of(&r[0])?, num(value_of(&r[1])?)]));
        }
        Ok(json!(out))
    };
    Ok(match key {
        "raw" => rows(els.first().context("no series")?, "measurements")?,
        "stats_1" | "stats_merged" => rows(els.first().context("no series")?, "statistics")?,
        "stats_group" => {
            // A group that straddles a page boundary comes back as one element per page.
            let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for el in els {
                let h = el["dimensions"]["hostname"]
                    .as_str()
                    .context("no hostname")?;
                if let Value::Array(r) = rows(el, "statistics")? {
                    out.entry(h.to_string()).or_default().extend(r);
                }
            }
            json!(out)
        }
        "names" | "dim_values" | "metric_list" => {
            let field = match key {
                "names" => "/name",
                "dim_values" => "/dimension_value",
                _ => "/dimensions/hostname",
            };
            let mut out: Vec<String> = els
                .iter()
                .filter_map(|e| e.pointer(field).and_then(Value::as_str).map(String::from))
                .collect();
            out.sort();
            out.dedup();
            json!(out)
        }
        other => bail!("no canonical form for {other}"),
    })
}

//! `promql-data` and `promql-query`: the PromQL benchmark's data and query mix, the same for
//! Vigil and Prometheus.
//!
//! The data: `http.requests_total` (Prometheus: `http:requests_total`), a counter for each of `hosts` x
//! `instances` series, and `request_latency_bucket`, a classic histogram of `buckets` cumulative
//! `le` counters, one sample every 30 s for `hours`, the last at `end_ms`. It is posted to
//! Vigil's Monasca API, or written as OpenMetrics text for `promtool tsdb
//! create-blocks-from openmetrics` (Prometheus's backfill).
//!
//! The queries run through the Prometheus HTTP API (`/api/v1/...`, Vigil's too), each
//! `iterations` times (at least 100 when one takes under 50 ms) after one untimed run; for each
//! the median and p99 latency, the result's size and a digest (series count and value sum) so
//! that two systems' answers can be compared, and with `--pid` the server's peak memory during
//! the query (VmHWM, reset through `/proc/PID/clear_refs` before it).

use std::{fmt::Write as _, io::Write as _, path::PathBuf, sync::Arc, time::Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use serde_json::Value;

use crate::{Target, client, ms, pct, print_table, row};

const STEP_MS: i64 = 30_000;

#[derive(Args, Clone, Copy)]
pub struct Shape {
    /// Hosts (`host=host-NNNN`).
    #[arg(long, default_value_t = 1000)]
    hosts: usize,
    /// Counter series per host (`instance=i-N`).
    #[arg(long, default_value_t = 10)]
    instances: usize,
    /// Histogram buckets (`le`, the last `+Inf`).
    #[arg(long, default_value_t = 100)]
    buckets: usize,
    /// Hours of samples, 30 s apart.
    #[arg(long, default_value_t = 24)]
    hours: i64,
    /// Time of the last sample, epoch ms (a multiple of 30 s).
    #[arg(long)]
    end_ms: i64,
}

impl Shape {
    fn points(&self) -> i64 {
        self.hours * 3_600_000 / STEP_MS
    }
    fn first_ms(&self) -> i64 {
        self.end_ms - (self.points() - 1) * STEP_MS
    }
}

#[derive(Args)]
pub struct PromqlDataArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    shape: Shape,
    /// Write OpenMetrics text here (for Prometheus's backfill) instead of posting to Vigil.
    #[arg(long)]
    openmetrics: Option<PathBuf>,
    /// Points per POST.
    #[arg(long, default_value_t = 5000)]
    batch: usize,
    /// Concurrent connections posting.
    #[arg(long, default_value_t = 2)]
    connections: usize,
}

#[derive(Args)]
pub struct PromqlQueryArgs {
    /// Server base URL (`/api/v1/...` is added).
    #[arg(long)]
    url: String,
    /// Sent as `X-Auth-Token` (Vigil's Monasca token; Prometheus ignores it).
    #[arg(long, default_value = "bench")]
    tenant: String,
    #[command(flatten)]
    shape: Shape,
    /// Timed runs of each query.
    #[arg(long, default_value_t = 10)]
    iterations: usize,
    /// The server's process id, to report its peak memory per query.
    #[arg(long)]
    pid: Option<u32>,
    /// Also write the results as `key=value` lines here.
    #[arg(long)]
    summary: Option<PathBuf>,
}

/// One sample of the counter series `s` at step `k`: rising at its own pace, never reset.
fn counter(s: usize, k: i64) -> f64 {
    (k * (2 + (s % 7) as i64) + k % 2) as f64
}

/// The cumulative count of bucket `b` at step `k` (monotonic in both).
fn bucket(b: usize, k: i64) -> f64 {
    (k * (b as i64 + 1)) as f64
}

fn le(shape: &Shape, b: usize) -> String {
    if b + 1 == shape.buckets {
        "+Inf".into()
    } else {
        format!("{:.3}", 0.005 * (b + 1) as f64)
    }
}

pub async fn promql_data(a: PromqlDataArgs) -> Result<()> {
    let s = a.shape;
    ensure!(
        s.end_ms % STEP_MS == 0,
        "--end-ms must be a multiple of 30 s"
    );
    ensure!(
        s.hours > 0 && s.hosts * s.instances > 0,
        "the data is empty"
    );
    let series = s.hosts * s.instances + s.buckets;
    let total = series as i64 * s.points();
    let started = Instant::now();
    match &a.openmetrics {
        Some(path) => write_openmetrics(&s, path)?,
        None => post_to_vigil(&a).await?,
    }
    println!(
        "promql data: {series} series x {} points = {total} samples in {:.1} s",
        s.points(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Series-major, as the backfill wants each series' samples in time order.
fn write_openmetrics(s: &Shape, path: &PathBuf) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let t0 = s.first_ms();
    for h in 0..s.hosts {
        for i in 0..s.instances {
            let sid = h * s.instances + i;
            for k in 0..s.points() {
                writeln!(
                    out,
                    "http:requests_total{{host=\"host-{h:04}\",instance=\"i-{i}\"}} {} {}",
                    counter(sid, k),
                    (t0 + k * STEP_MS) / 1000
                )?;
            }
        }
    }
    for b in 0..s.buckets {
        for k in 0..s.points() {
            writeln!(
                out,
                "request_latency_bucket{{le=\"{}\"}} {} {}",
                le(s, b),
                bucket(b, k),
                (t0 + k * STEP_MS) / 1000
            )?;
        }
    }
    out.write_all(b"# EOF\n")?;
    out.flush()?;
    Ok(())
}

/// Batch `b` of `batch` points, time-major as agents send them; `None` past the last. Built
/// when a connection asks for it: the whole day at once would be gigabytes of JSON.
fn vigil_body(s: &Shape, batch: usize, b: usize) -> Option<String> {
    let per_step = s.hosts * s.instances + s.buckets;
    let total = per_step * usize::try_from(s.points()).unwrap_or(0);
    let first = b.checked_mul(batch).filter(|&f| f < total)?;
    let t0 = s.first_ms();
    let mut body = String::from("[");
    for n in first..(first + batch).min(total) {
        if n > first {
            body.push(',');
        }
        let (k, j) = ((n / per_step) as i64, n % per_step);
        let ts = t0 + k * STEP_MS;
        let _ = if j < s.hosts * s.instances {
            let (h, i) = (j / s.instances, j % s.instances);
            write!(
                body,
                r#"{{"name":"http.requests_total","dimensions":{{"host":"host-{h:04}","instance":"i-{i}"}},"timestamp":{ts},"value":{}}}"#,
                counter(j, k)
            )
        } else {
            let b = j - s.hosts * s.instances;
            write!(
                body,
                r#"{{"name":"request_latency_bucket","dimensions":{{"le":"{}"}},"timestamp":{ts},"value":{}}}"#,
                le(s, b),
                bucket(b, k)
            )
        };
    }
    body.push(']');
    Some(body)
}

async fn post_to_vigil(a: &PromqlDataArgs) -> Result<()> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let url = format!("{}/v2.0/metrics", a.target.url.trim_end_matches('/'));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..a.connections.max(1) {
        let (next, url, tenant, c, shape, batch) = (
            next.clone(),
            url.clone(),
            a.target.tenant.clone(),
            client()?,
            a.shape,
            a.batch.max(1),
        );
        tasks.spawn(async move {
            loop {
                let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = vigil_body(&shape, batch, b) else {
                    return Ok(());
                };
                let r = c
                    .post(&url)
                    .header("X-Auth-Token", &tenant)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .with_context(|| format!("POST {url}"))?;
                let status = r.status();
                if !status.is_success() {
                    bail!(
                        "POST {url}: {status}: {}",
                        r.text().await.unwrap_or_default()
                    );
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.context("poster panicked")??;
    }
    Ok(())
}

/// The benchmark's queries: `(label, path and query string)`.
fn queries(s: &Shape) -> Vec<(&'static str, String)> {
    // 7 s past the samples' 30 s grid, so that no sample sits on a window's edge (Debian's
    // Prometheus 2.42 closes windows on the left, Prometheus 3 and Vigil do not).
    let (end, day_start) = (s.end_ms / 1000 - 23, s.first_ms() / 1000 + 7);
    let range = |q: &str| {
        format!(
            "/api/v1/query_range?query={}&start={day_start}&end={end}&step=60",
            enc(q)
        )
    };
    let instant = |q: &str| format!("/api/v1/query?query={}&time={end}", enc(q));
    // The heavy range query last: a server keeps some of the memory a query grew it to (Go's
    // heap, the allocator's pages), which would hide what the lighter ones need.
    vec![
        (
            "one series' rate, 1 day at 60 s",
            range(r#"rate(http:requests_total{host="host-0007",instance="i-3"}[5m])"#),
        ),
        (
            "topk(10, rate(x[5m])), instant",
            instant("topk(10, rate(http:requests_total[5m]))"),
        ),
        (
            "histogram_quantile(0.99, 100 buckets), instant",
            instant("histogram_quantile(0.99, sum by (le) (rate(request_latency_bucket[5m])))"),
        ),
        (
            "count by (host) over every series, instant",
            instant("count by (host) (http:requests_total)"),
        ),
        (
            "label values of host",
            format!("/api/v1/label/host/values?start={day_start}&end={end}"),
        ),
        (
            "sum by (host) (rate(x[5m])), 1 day at 60 s",
            range("sum by (host) (rate(http:requests_total[5m]))"),
        ),
    ]
}

fn enc(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

/// Series count and the sum of every value: equal answers have equal digests.
fn digest(data: &Value) -> (usize, f64) {
    let Some(result) = data.get("result").and_then(Value::as_array) else {
        // Label values: a list of strings.
        return (data.as_array().map_or(0, Vec::len), 0.0);
    };
    let value_of = |p: &Value| {
        p.get(1)
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .unwrap_or(0.0)
    };
    let mut sum = 0.0;
    for s in result {
        if let Some(values) = s.get("values").and_then(Value::as_array) {
            sum += values.iter().map(value_of).sum::<f64>();
        } else if let Some(v) = s.get("value") {
            sum += value_of(v);
        }
    }
    (result.len(), sum)
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub async fn promql_query(a: PromqlQueryArgs) -> Result<()> {
    let c = client()?;
    let base = a.url.trim_end_matches('/').to_string();
    let mut rows = Vec::new();
    let mut summary = String::new();
    for (n, (label, path)) in queries(&a.shape).into_iter().enumerate() {
        let url = format!("{base}{path}");
        let get = || async {
            let r = c
                .get(&url)
                .header("X-Auth-Token", &a.tenant)
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            let status = r.status();
            let body: Value = r.json().await.with_context(|| format!("GET {url}"))?;
            ensure!(status.is_success(), "GET {url}: {status}: {body}");
            Ok::<_, anyhow::Error>(body)
        };
        let rss_before = a.pid.and_then(|p| status_kb(p, "VmRSS"));
        if let Some(pid) = a.pid {
            // "5" resets the peak resident set size (VmHWM) to the current one.
            std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
                .with_context(|| format!("cannot reset the peak memory of {pid}"))?;
        }
        // One untimed run (caches warm), counted in the peak memory.
        let t0 = Instant::now();
        let first = get().await?;
        let (series, sum) = digest(&first["data"]);
        // Quick queries run more often: their p99 is then more than the slowest of a few.
        let runs = if t0.elapsed().as_millis() < 50 {
            a.iterations.max(100)
        } else {
            a.iterations.max(1)
        };
        let mut lat = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            get().await?;
            lat.push(t.elapsed());
        }
        lat.sort();
        let peak = a.pid.and_then(|p| status_kb(p, "VmHWM"));
        let added = match (peak, rss_before) {
            (Some(p), Some(b)) => format!("{:.0}", p.saturating_sub(b) as f64 / 1024.0),
            _ => "-".into(),
        };
        let (p50, p99) = (ms(pct(&lat, 0.5)), ms(pct(&lat, 0.99)));
        rows.push(row([
            label,
            &format!("{p50:.1}"),
            &format!("{p99:.1}"),
            &added,
            &series.to_string(),
            &format!("{sum:.6e}"),
        ]));
        let _ = write!(
            summary,
            "q{n}_p50_ms={p50:.2}\nq{n}_p99_ms={p99:.2}\nq{n}_mem_mib={added}\nq{n}_series={series}\nq{n}_sum={sum:.9e}\nq{n}_label={label}\n"
        );
    }
    print_table(
        &[
            "query",
            "p50 ms",
            "p99 ms",
            "peak +MiB",
            "series",
            "value sum",
        ],
        &rows,
        1,
    );
    if let Some(path) = &a.summary {
        std::fs::write(path, summary)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

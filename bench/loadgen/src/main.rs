//! `vigil-loadgen`: the load generator and query probe behind `bench/run.sh`.
//!
//! `ingest` posts a synthetic fleet (names x hosts series, `points` samples 30 s apart ending
//! now) through `POST /v2.0/metrics`, time-major, in pre-serialized JSON batches, over one or
//! more HTTP/1.1 connections, and reports throughput and per-request latency.
//!
//! `query` runs a fixed mix of Monasca reads against that fleet, checks every answer against
//! what `ingest` wrote, and reports median and p99 latency per query.
//!
//! `alarms` creates alarm definitions over that fleet (see [`bench_definitions`] for which),
//! `alarm-count` counts the alarms the threshold engine made of them, and `crossing` measures how
//! long an alarm takes to reach ALARM after a value crosses its threshold.
//!
//! All print aligned tables; `--summary FILE` also writes `key=value` lines for scripts.

use std::{
    fmt::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail, ensure};
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

mod alarming;
mod notifying;
mod peers;
mod querying;
use alarming::{alarm_count, alarms, crossing};
use notifying::{NotifyArgs, ReceiveArgs, notify, receive};
use peers::System;

/// Spacing of the generated samples.
const STEP_MS: i64 = 30_000;

#[derive(Parser)]
#[command(
    name = "vigil-loadgen",
    about = "Load generator for the Vigil benchmark"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Post the synthetic fleet and report ingest throughput and latency.
    Ingest(IngestArgs),
    /// Run the fixed query mix against an ingested fleet and report latencies.
    Query(QueryArgs),
    /// Create alarm definitions over the fleet (thresholds it never crosses).
    Alarms(AlarmsArgs),
    /// Count the alarms of the tenant, by state.
    AlarmCount(AlarmCountArgs),
    /// Measure the delay from a threshold-crossing value to its alarm showing ALARM.
    Crossing(CrossingArgs),
    /// Flip many alarms with a webhook action at once, then time single crossings to the
    /// webhook's arrival (a receiver of its own on 127.0.0.1).
    Notify(NotifyArgs),
    /// A webhook receiver on 127.0.0.1 that answers 200 and counts, until killed.
    Receive(ReceiveArgs),
    /// Write the PromQL benchmark's data to Vigil, or as OpenMetrics text for Prometheus.
    PromqlData(querying::PromqlDataArgs),
    /// Time the PromQL benchmark's queries against Vigil or Prometheus.
    PromqlQuery(querying::PromqlQueryArgs),
}

#[derive(Args)]
struct Target {
    /// Server base URL (the `/v2.0` prefix is added).
    #[arg(long, default_value = "http://127.0.0.1:8070")]
    url: String,
    /// Tenant sent as `X-Auth-Token`.
    #[arg(long, default_value = "bench")]
    tenant: String,
}

#[derive(Args, Clone, Copy)]
struct Fleet {
    /// Metric names.
    #[arg(long, default_value_t = 10)]
    names: usize,
    /// Hosts (`hostname=host-NNNN`, `service=svc-(host % 10)`), one series per name each.
    #[arg(long, default_value_t = 1000)]
    hosts: usize,
    /// Samples per series, 30 s apart, the last one now.
    #[arg(long, default_value_t = 100)]
    points: usize,
}

#[derive(Args)]
struct IngestArgs {
    #[command(flatten)]
    target: Target,
    /// The system written to: Vigil's Monasca API or a peer's own write API.
    #[arg(long, value_enum, default_value = "vigil")]
    system: System,
    #[command(flatten)]
    fleet: Fleet,
    /// Points per POST.
    #[arg(long, default_value_t = 5000)]
    batch: usize,
    /// Concurrent HTTP/1.1 connections, one task each.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Time of the last sample, epoch ms (default: now), so that runs against several systems
    /// write the same data.
    #[arg(long)]
    end_ms: Option<i64>,
    /// Build the request bodies while sending (bounded memory, for fleets too big to hold; the
    /// generator then shares the CPU with the server) instead of all of them before timing.
    #[arg(long)]
    stream: bool,
    /// Also write the results as `key=value` lines here.
    #[arg(long)]
    summary: Option<PathBuf>,
}

#[derive(Args)]
struct QueryArgs {
    #[command(flatten)]
    target: Target,
    /// The system queried, in its own query language.
    #[arg(long, value_enum, default_value = "vigil")]
    system: System,
    /// First and last sample time of the ingest (its summary's first_ms/last_ms): queries then
    /// cover the 300 s-aligned window around them instead of --lookback-minutes (peers need it).
    #[arg(long, requires = "last_ms")]
    first_ms: Option<i64>,
    #[arg(long, requires = "first_ms")]
    last_ms: Option<i64>,
    /// Write every query's answer here, in the canonical form that is the same for every system.
    #[arg(long, requires = "first_ms")]
    answers: Option<PathBuf>,
    #[command(flatten)]
    fleet: Fleet,
    /// Timed runs of each query.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Untimed runs of each query first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// `start_time` of the queries, this many minutes ago (must cover the ingested samples).
    #[arg(long, default_value_t = 180)]
    lookback_minutes: i64,
    /// Also write the results as `key=value` lines here.
    #[arg(long)]
    summary: Option<PathBuf>,
}

#[derive(Args)]
struct AlarmsArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    fleet: Fleet,
    /// Alarm definitions to create.
    #[arg(long, default_value_t = 1000)]
    definitions: usize,
    /// Definition names are `PREFIX-NNNN`.
    #[arg(long, default_value = "bench")]
    prefix: String,
    /// A webhook URL every definition notifies on ALARM and OK (notifications on).
    #[arg(long)]
    webhook: Option<String>,
    /// Also write the results as `key=value` lines here.
    #[arg(long)]
    summary: Option<PathBuf>,
}

#[derive(Args)]
struct AlarmCountArgs {
    #[command(flatten)]
    target: Target,
    /// Fail unless exactly this many alarms exist.
    #[arg(long)]
    expect: Option<usize>,
    /// Also write the results as `key=value` lines here.
    #[arg(long)]
    summary: Option<PathBuf>,
}

#[derive(Args)]
struct CrossingArgs {
    #[command(flatten)]
    target: Target,
    /// Measurements, each with its own definition and hostname.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Interval between polls of the alarm, milliseconds.
    #[arg(long, default_value_t = 5)]
    poll_ms: u64,
    /// Give up on a run after this many seconds.
    #[arg(long, default_value_t = 10)]
    timeout_s: u64,
    /// Also write the results as `key=value` lines here.
    #[arg(long)]
    summary: Option<PathBuf>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        match cli.command {
            Command::Ingest(a) => ingest(a).await,
            Command::Query(a) => query(a).await,
            Command::Alarms(a) => alarms(a).await,
            Command::AlarmCount(a) => alarm_count(a).await,
            Command::Crossing(a) => crossing(a).await,
            Command::Notify(a) => notify(a).await,
            Command::Receive(a) => receive(a).await,
            Command::PromqlData(a) => querying::promql_data(a).await,
            Command::PromqlQuery(a) => querying::promql_query(a).await,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The fleet

fn metric_name(n: usize) -> String {
    const NAMES: [&str; 10] = [
        "cpu.idle_perc",
        "cpu.user_perc",
        "cpu.system_perc",
        "mem.usable_perc",
        "disk.space_used_perc",
        "load.avg_1_min",
        "net.in_bytes_sec",
        "net.out_bytes_sec",
        "io.read_kbytes_sec",
        "io.write_kbytes_sec",
    ];
    match NAMES.get(n) {
        Some(s) => (*s).to_string(),
        None => format!("bench.metric_{n:04}"),
    }
}

fn host_name(h: usize) -> String {
    format!("host-{h:04}")
}

/// The value of sample `i` of series (`n`, `h`): deterministic, in [0, 100).
fn sample_value(n: usize, h: usize, i: usize) -> f64 {
    ((n * 13 + h * 31 + i * 7) % 1000) as f64 / 10.0
}

// ---------------------------------------------------------------------------------------------
// ingest

async fn ingest(a: IngestArgs) -> Result<()> {
    let f = a.fleet;
    ensure!(a.batch > 0, "--batch must be positive");
    ensure!(a.connections > 0, "--connections must be positive");
    ensure!(f.names * f.hosts * f.points > 0, "the fleet is empty");
    let base = a.target.url.trim_end_matches('/').to_string();
    let now = jiff::Timestamp::now().as_millisecond();
    let end = a.end_ms.unwrap_or(now - now.rem_euclid(1000));
    let t0 = end - (f.points as i64 - 1) * STEP_MS;

    let prep = Instant::now();
    let (system, batch) = (a.system, a.batch);
    let mut bodies = Vec::new();
    if !a.stream {
        peers::generate(system, f, batch, t0, &mut |n, b| {
            bodies.push((n, b));
            true
        });
    }
    let prep = prep.elapsed();

    // One client per task, each held to a single HTTP/1.1 connection, opened before timing.
    let mut clients = Vec::with_capacity(a.connections);
    for _ in 0..a.connections {
        let c = client()?;
        let r = c
            .get(format!("{base}{}", peers::ready_path(a.system)))
            .header("X-Auth-Token", &a.target.tenant)
            .send()
            .await
            .with_context(|| format!("cannot reach {base}"))?;
        ensure!(r.status().is_success(), "GET {base}/: {}", r.status());
        r.bytes().await?;
        clients.push(c);
    }

    let (url, content_type) = peers::write_target(a.system, &base);
    let start = Instant::now();
    let queue = Arc::new(Mutex::new(if a.stream {
        let (tx, rx) = std::sync::mpsc::sync_channel(a.connections * 2);
        std::thread::spawn(move || {
            peers::generate(system, f, batch, t0, &mut |n, b| tx.send((n, b)).is_ok())
        });
        Queue::Stream(rx)
    } else {
        Queue::Built(bodies.into_iter())
    }));
    let mut tasks = tokio::task::JoinSet::new();
    for c in clients {
        let queue = queue.clone();
        let url = url.clone();
        let tenant = a.target.tenant.clone();
        tasks.spawn(async move {
            let (mut lat, mut points, mut bytes) = (Vec::new(), 0, 0);
            loop {
                let next = queue.lock().map_err(|_| anyhow!("queue poisoned"))?.next();
                let Some((n, body)) = next else { break };
                points += n;
                bytes += body.len();
                let t = Instant::now();
                let r = c
                    .post(&url)
                    .header("X-Auth-Token", &tenant)
                    .header("Content-Type", content_type)
                    .body(body)
                    .send()
                    .await
                    .with_context(|| format!("POST {url}"))?;
                let status = r.status();
                let text = r.bytes().await?;
                lat.push(t.elapsed());
                if !status.is_success() {
                    bail!(
                        "POST {url}: {status}: {}",
                        String::from_utf8_lossy(&text)
                            .chars()
                            .take(500)
                            .collect::<String>()
                    );
                }
            }
            Ok::<_, anyhow::Error>((lat, points, bytes))
        });
    }
    let (mut lat, mut total_points, mut total_bytes) = (Vec::new(), 0, 0);
    while let Some(r) = tasks.join_next().await {
        let (l, p, b) = r.context("ingest task panicked")??;
        lat.extend(l);
        total_points += p;
        total_bytes += b;
    }
    let elapsed = start.elapsed();
    let batches = lat.len();
    let want = f.names * f.hosts * f.points;
    ensure!(total_points == want, "sent {total_points} of {want} points");
    lat.sort();

    let secs = elapsed.as_secs_f64();
    let pps = total_points as f64 / secs;
    let (p50, p99, max) = (pct(&lat, 0.50), pct(&lat, 0.99), pct(&lat, 1.0));
    println!(
        "ingest: {} points = {} names x {} hosts x {} points, {batches} batches of {}, {} connection{}",
        group(total_points as f64),
        f.names,
        f.hosts,
        f.points,
        a.batch,
        a.connections,
        if a.connections == 1 { "" } else { "s" }
    );
    let rows = vec![
        row([
            "request bodies (untimed)",
            &format!(
                "{:.1} MB JSON, {:.0} B/point, built in {:.2} s",
                total_bytes as f64 / 1e6,
                total_bytes as f64 / total_points as f64,
                prep.as_secs_f64()
            ),
        ]),
        row(["total time", &format!("{secs:.2} s")]),
        row([
            "throughput",
            &format!(
                "{} points/s ({:.1} MB/s)",
                group(pps),
                total_bytes as f64 / 1e6 / secs
            ),
        ]),
        row([
            "POST latency",
            &format!(
                "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                ms(p50),
                ms(p99),
                ms(max)
            ),
        ]),
    ];
    print_table(&["", ""], &rows, 2);

    if let Some(path) = &a.summary {
        let s = format!(
            "points={total_points}\nbatches={batches}\nconnections={}\nbody_bytes={total_bytes}\n\
             seconds={secs:.4}\npoints_per_s={pps:.0}\np50_ms={:.2}\np99_ms={:.2}\nmax_ms={:.2}\n\
             first_ms={t0}\nlast_ms={}\n",
            a.connections,
            ms(p50),
            ms(p99),
            ms(max),
            t0 + (f.points as i64 - 1) * STEP_MS
        );
        std::fs::write(path, s).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Where the ingest tasks take their next request body from.
enum Queue {
    Built(std::vec::IntoIter<(usize, String)>),
    Stream(std::sync::mpsc::Receiver<(usize, String)>),
}

impl Queue {
    fn next(&mut self) -> Option<(usize, String)> {
        match self {
            Self::Built(bodies) => bodies.next(),
            // The generator thread may be behind; wait without stalling the runtime's other tasks.
            Self::Stream(rx) => tokio::task::block_in_place(|| rx.recv().ok()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// query

type Check = Box<dyn Fn(&[Value]) -> Result<String>>;

struct Probe {
    key: &'static str,
    label: &'static str,
    path: String,
    check: Check,
}

async fn query(a: QueryArgs) -> Result<()> {
    let f = a.fleet;
    ensure!(a.iterations > 0, "--iterations must be positive");
    ensure!(f.names * f.hosts * f.points > 0, "the fleet is empty");
    let base = a.target.url.trim_end_matches('/').to_string();
    let window = a
        .first_ms
        .zip(a.last_ms)
        .map(|(first, last)| peers::Window::covering(first, last));
    if a.system != System::Vigil {
        let w = window.context("a peer is queried over --first-ms/--last-ms")?;
        return peer_query(&a, &base, w).await;
    }
    let iso = |ms: i64| -> Result<String> {
        Ok(jiff::Timestamp::from_millisecond(ms)?
            .strftime("%Y-%m-%dT%H:%M:%S.%3fZ")
            .to_string())
    };
    // `start_time=` is followed by this in every probe; a window adds its end.
    let st = match window {
        Some(w) => format!("{}&end_time={}", iso(w.start_ms)?, iso(w.end_ms)?),
        None => {
            let start =
                jiff::Timestamp::now() - jiff::SignedDuration::from_mins(a.lookback_minutes);
            start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
        }
    };
    let name = metric_name(0);
    let host_idx = 1.min(f.hosts - 1);
    let host = host_name(host_idx);
    let span_s = (f.points as i64 - 1) * STEP_MS / 1000;
    // Buckets a series' samples fall into with `period` seconds, whatever the alignment.
    let buckets = move |period: i64| ((span_s / period).max(1), span_s / period + 2);

    let (hosts, points, names) = (f.hosts, f.points, f.names);
    let probes = vec![
        Probe {
            key: "raw",
            label: "measurements, 1 series",
            path: format!(
                "/v2.0/metrics/measurements?name={name}&dimensions=hostname:{host}&start_time={st}"
            ),
            check: Box::new(move |els| {
                let [el] = els else {
                    bail!("{} elements, want 1", els.len())
                };
                let rows = array(&el["measurements"])?;
                ensure!(
                    rows.len() == points,
                    "{} measurements, want {points}",
                    rows.len()
                );
                for (i, r) in rows.iter().enumerate() {
                    let v = r[1].as_f64().context("measurement without a value")?;
                    let want = sample_value(0, host_idx, i);
                    ensure!(v == want, "measurement {i} is {v}, want {want}");
                }
                Ok(format!("{} measurements", rows.len()))
            }),
        },
        Probe {
            key: "stats_1",
            label: "statistics avg, 1 series, 60 s",
            path: format!(
                "/v2.0/metrics/statistics?name={name}&dimensions=hostname:{host}\
                 &statistics=avg&period=60&start_time={st}"
            ),
            check: Box::new(move |els| {
                let [el] = els else {
                    bail!("{} elements, want 1", els.len())
                };
                let n = stat_rows(el)?;
                let (lo, hi) = buckets(60);
                ensure!((lo..=hi).contains(&n), "{n} buckets, want {lo}..={hi}");
                Ok(format!("{n} buckets"))
            }),
        },
        Probe {
            key: "stats_group",
            label: "statistics avg group_by=hostname, 300 s",
            path: format!(
                "/v2.0/metrics/statistics?name={name}&statistics=avg&period=300\
                 &group_by=hostname&start_time={st}"
            ),
            check: Box::new(move |els| {
                let mut seen = std::collections::BTreeSet::new();
                let mut n = 0;
                for el in els {
                    let h = el["dimensions"]["hostname"]
                        .as_str()
                        .context("group without a hostname")?;
                    seen.insert(h.to_string());
                    n += stat_rows(el)?;
                }
                ensure!(seen.len() == hosts, "{} groups, want {hosts}", seen.len());
                let (lo, hi) = buckets(300);
                let (lo, hi) = (lo * hosts as i64, hi * hosts as i64);
                ensure!((lo..=hi).contains(&n), "{n} buckets, want {lo}..={hi}");
                Ok(format!("{} groups, {n} buckets", seen.len()))
            }),
        },
        Probe {
            key: "stats_merged",
            label: "statistics avg merge_metrics, 300 s",
            path: format!(
                "/v2.0/metrics/statistics?name={name}&statistics=avg&period=300\
                 &merge_metrics=true&start_time={st}"
            ),
            check: Box::new(move |els| {
                let [el] = els else {
                    bail!("{} elements, want 1", els.len())
                };
                let n = stat_rows(el)?;
                let (lo, hi) = buckets(300);
                ensure!((lo..=hi).contains(&n), "{n} buckets, want {lo}..={hi}");
                Ok(format!("{hosts} series, {n} buckets"))
            }),
        },
        Probe {
            key: "names",
            label: "metric names",
            path: "/v2.0/metrics/names".to_string(),
            check: Box::new(move |els| {
                ensure!(els.len() == names, "{} names, want {names}", els.len());
                for n in 0..names {
                    let want = metric_name(n);
                    ensure!(
                        els.iter().any(|e| e["name"] == want.as_str()),
                        "name {want} missing"
                    );
                }
                Ok(format!("{} names", els.len()))
            }),
        },
        Probe {
            key: "dim_values",
            label: "dimension values of hostname",
            path: "/v2.0/metrics/dimensions/names/values?dimension_name=hostname".to_string(),
            check: Box::new(move |els| {
                ensure!(els.len() == hosts, "{} values, want {hosts}", els.len());
                ensure!(
                    els.iter().all(|e| e["dimension_value"]
                        .as_str()
                        .is_some_and(|v| v.starts_with("host-"))),
                    "values are not hostnames"
                );
                Ok(format!("{} values", els.len()))
            }),
        },
        Probe {
            key: "metric_list",
            label: "metric-list, 1 name",
            path: format!("/v2.0/metrics?name={name}"),
            check: Box::new(move |els| {
                ensure!(els.len() == hosts, "{} metrics, want {hosts}", els.len());
                ensure!(
                    els.iter().all(|e| e["name"] == name.as_str()),
                    "metric of another name"
                );
                Ok(format!("{} metrics", els.len()))
            }),
        },
    ];

    let c = client()?;
    println!(
        "query mix: {} timed runs of each query after {} warm-up, one HTTP/1.1 connection, \
         start_time={st}",
        a.iterations, a.warmup
    );
    let mut rows = Vec::new();
    let mut summary = String::new();
    let mut answers = std::collections::BTreeMap::new();
    for p in &probes {
        let url = format!("{base}{}", p.path);
        let mut answer = String::new();
        let mut pages = 0;
        for _ in 0..a.warmup {
            fetch_all(&c, &a.target.tenant, &url).await?;
        }
        let mut lat = Vec::with_capacity(a.iterations);
        let mut last = Vec::new();
        for _ in 0..a.iterations {
            let (d, n, els) = fetch_all(&c, &a.target.tenant, &url).await?;
            answer = (p.check)(&els).with_context(|| format!("{}: GET {url}", p.label))?;
            pages = n;
            lat.push(d);
            last = els;
        }
        if a.answers.is_some() {
            answers.insert(p.key, peers::vigil_canon(p.key, &last)?);
        }
        if pages > 1 {
            answer.push_str(&format!(" ({pages} pages)"));
        }
        record(&mut rows, &mut summary, p.key, p.label, &answer, lat);
    }
    write_results(&a, &rows, &summary, &answers)
}

/// One query's latencies: a table row and its `key_*` summary lines.
fn record(
    rows: &mut Vec<Vec<String>>,
    summary: &mut String,
    key: &str,
    label: &str,
    answer: &str,
    mut lat: Vec<Duration>,
) {
    lat.sort();
    let (p50, p99) = (ms(pct(&lat, 0.50)), ms(pct(&lat, 0.99)));
    let mean = ms(lat.iter().sum::<Duration>()) / lat.len().max(1) as f64;
    rows.push(row([
        label,
        answer,
        &format!("{p50:.2}"),
        &format!("{p99:.2}"),
        &format!("{mean:.2}"),
    ]));
    let _ = writeln!(
        summary,
        "{key}_p50_ms={p50:.2}\n{key}_p99_ms={p99:.2}\n{key}_mean_ms={mean:.2}\n{key}_answer={answer}"
    );
}

/// Prints the query table and writes the summary and answers files that were asked for.
fn write_results(
    a: &QueryArgs,
    rows: &[Vec<String>],
    summary: &str,
    answers: &std::collections::BTreeMap<&str, Value>,
) -> Result<()> {
    print_table(&["query", "answer", "p50 ms", "p99 ms", "mean ms"], rows, 2);
    if let Some(path) = &a.summary {
        std::fs::write(path, summary)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &a.answers {
        let mut out = String::new();
        for (k, v) in answers {
            let _ = writeln!(out, "{k} {v}");
        }
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The query mix against a peer: one GET per query, answers in the canonical form.
async fn peer_query(a: &QueryArgs, base: &str, w: peers::Window) -> Result<()> {
    let probes = peers::peer_probes(a.system, base, a.fleet, w)?;
    let c = client()?;
    println!(
        "query mix: {} timed runs of each query after {} warm-up, one HTTP/1.1 connection",
        a.iterations, a.warmup
    );
    let get = |url: &str| {
        let c = c.clone();
        let url = url.to_string();
        async move {
            let t = Instant::now();
            let r = c
                .get(&url)
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            let status = r.status();
            let body = r.bytes().await?;
            let d = t.elapsed();
            ensure!(
                status.is_success(),
                "GET {url}: {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(500)
                    .collect::<String>()
            );
            Ok::<_, anyhow::Error>((d, body))
        }
    };
    let mut rows = Vec::new();
    let mut summary = String::new();
    let mut answers = std::collections::BTreeMap::new();
    for p in &probes {
        for _ in 0..a.warmup {
            get(&p.url).await?;
        }
        let mut lat = Vec::with_capacity(a.iterations);
        let mut body = None;
        for _ in 0..a.iterations {
            let (d, b) = get(&p.url).await?;
            lat.push(d);
            body = Some(b);
        }
        let body = body.context("no timed runs")?;
        let canon = (p.canon)(&body).with_context(|| format!("{}: GET {}", p.label, p.url))?;
        let answer = match &canon {
            Value::Array(v) => format!("{} rows", v.len()),
            Value::Object(m) => format!("{} groups", m.len()),
            _ => String::new(),
        };
        answers.insert(p.key, canon);
        record(&mut rows, &mut summary, p.key, p.label, &answer, lat);
    }
    write_results(a, &rows, &summary, &answers)
}

/// GETs `url` and every `next` page after it: the time spent in requests (response bodies
/// read, not parsed), the number of pages, and all elements.
async fn fetch_all(
    c: &reqwest::Client,
    tenant: &str,
    url: &str,
) -> Result<(Duration, usize, Vec<Value>)> {
    let mut url = url.to_string();
    let mut spent = Duration::ZERO;
    let mut pages = 0;
    let mut elements = Vec::new();
    loop {
        let t = Instant::now();
        let r = c
            .get(&url)
            .header("X-Auth-Token", tenant)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = r.status();
        let body = r.bytes().await?;
        spent += t.elapsed();
        ensure!(
            status.is_success(),
            "GET {url}: {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(500)
                .collect::<String>()
        );
        let mut v: Value =
            serde_json::from_slice(&body).with_context(|| format!("GET {url}: not JSON"))?;
        pages += 1;
        ensure!(pages <= 10_000, "GET {url}: more than 10,000 pages");
        match v["elements"].take() {
            Value::Array(els) => elements.extend(els),
            _ => bail!("GET {url}: no elements"),
        }
        let next = v["links"].as_array().and_then(|ls| {
            ls.iter()
                .find(|l| l["rel"] == "next")
                .and_then(|l| l["href"].as_str())
        });
        match next {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    Ok((spent, pages, elements))
}

fn array(v: &Value) -> Result<&Vec<Value>> {
    v.as_array().context("expected an array")
}

/// Rows of a statistics element, each checked to hold an average in [0, 100).
fn stat_rows(el: &Value) -> Result<i64> {
    let rows = array(&el["statistics"])?;
    for r in rows {
        let avg = r[1].as_f64().context("statistics row without an avg")?;
        ensure!((0.0..100.0).contains(&avg), "implausible avg {avg}");
    }
    Ok(rows.len() as i64)
}

// ---------------------------------------------------------------------------------------------
// alarms

/// Services of the fleet: host `h` has `service=svc-(h % SERVICES)`.
const SERVICES: usize = 10;

/// A threshold no sample of the fleet reaches (values are in [0, 100)).
const NEVER: &str = "1000000000";

fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(1)
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()
        .context("cannot build the HTTP client")
}

/// Nearest-rank percentile of sorted samples.
fn pct(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `1234567.8` as `1,234,568`.
fn group(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|s| (*s).to_string()).collect()
}

/// Prints rows under headers (an all-empty header row is skipped); the first `left` columns
/// are left-aligned, the rest right-aligned.
fn print_table(headers: &[&str], rows: &[Vec<String>], left: usize) {
    let mut width: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from("  ");
        for (i, (c, w)) in cells.iter().zip(&width).enumerate() {
            if i > 0 {
                s.push_str("   ");
            }
            if i < left {
                let _ = write!(s, "{c:<w$}");
            } else {
                let _ = write!(s, "{c:>w$}");
            }
        }
        println!("{}", s.trim_end());
    };
    if headers.iter().any(|h| !h.is_empty()) {
        line(headers.to_vec());
        let rules: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
        line(rules.iter().map(String::as_str).collect());
    }
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

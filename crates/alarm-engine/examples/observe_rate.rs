//! What the threshold engine costs per ingested sample, without HTTP or a metric store write:
//! the benchmark's alarm definitions (`bench/loadgen/src/alarming.rs`: 1,000 definitions over
//! 10 names x 1,000 hosts, 10,900 alarms), a first-contact pass that creates the alarms, then
//! steady-state batches of 5,000 samples timed on the thread's CPU clock.
//!
//! `cargo run --release -p alarm-engine --example observe_rate` (`VIGIL_OBSERVE_POINTS`: samples
//! per series in the steady pass, default 100; `VIGIL_OBSERVE_HOSTS`: hosts, default 1,000).

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use alarm_engine::{Engine, EngineConfig, ManualClock};
use config_repo::{
    monasca::threshold::ThresholdDefinition, sqlite::threshold::SqliteThresholdStore,
};
use metric_store::{MemoryStore, Sample, SeriesKey};

const NAMES: usize = 10;
const SERVICES: usize = 10;
const DEFINITIONS: usize = 1_000;
const BATCH: usize = 5_000;
const NEVER: &str = "1000000000";
/// 2026-01-01T00:00:00Z in seconds.
const T0: i64 = 1_767_225_600;

/// Hosts in the fleet: 1,000 as in the benchmark, or `VIGIL_OBSERVE_HOSTS`.
fn hosts() -> usize {
    std::env::var("VIGIL_OBSERVE_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn metric(k: usize) -> String {
    format!("bench.metric_{k}")
}

fn host(h: usize) -> String {
    format!("host-{h:04}")
}

/// The benchmark's definitions: fleet-wide `avg(NAME{service=S})` rules first, then one
/// `max(NAME{hostname=H})` rule per remaining definition.
fn definitions(hosts: usize) -> Vec<ThresholdDefinition> {
    let fleet_wide = (DEFINITIONS / 10).min(NAMES * SERVICES);
    (0..DEFINITIONS)
        .map(|i| {
            let expression = if i < fleet_wide {
                let (k, s) = (i % NAMES, (i / NAMES) % SERVICES);
                format!("avg({}{{service=svc-{s}}}) > {NEVER}", metric(k))
            } else {
                let j = i - fleet_wide;
                let (k, h) = (j % NAMES, (j / NAMES) % hosts);
                format!("max({}{{hostname={}}}) > {NEVER}", metric(k), host(h))
            };
            ThresholdDefinition {
                id: format!("def-{i:04}"),
                tenant: "bench".into(),
                name: format!("bench-{i:04}"),
                description: String::new(),
                expression,
                severity: "LOW".into(),
                match_by: vec!["hostname".into()],
                actions_enabled: true,
                alarm_actions: Vec::new(),
                ok_actions: Vec::new(),
                undetermined_actions: Vec::new(),
            }
        })
        .collect()
}

/// Every series' sample number `p` (30 s apart from `start_s`), series in fleet order, cut
/// into batches as the load generator cuts its bodies.
fn batches(keys: &[Arc<SeriesKey>], start_s: i64, points: usize) -> Vec<Vec<Sample>> {
    let mut all = Vec::with_capacity(keys.len() * points);
    for p in 0..points {
        for (i, k) in keys.iter().enumerate() {
            all.push(Sample {
                series: k.clone(),
                timestamp: (start_s + p as i64 * 30) * 1000,
                value: (i % 100) as f64,
                value_meta: None,
            });
        }
    }
    all.chunks(BATCH).map(<[Sample]>::to_vec).collect()
}

/// The calling thread's time on a CPU (the scheduler's count, in nanoseconds): what the
/// engine costs even when other processes share the cores.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn main() -> anyhow::Result<()> {
    let points: usize = std::env::var("VIGIL_OBSERVE_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let hosts = hosts();
    let dir = tempfile::tempdir()?;
    let repo = Arc::new(SqliteThresholdStore::open(&dir.path().join("alarms.db"))?);
    for d in definitions(hosts) {
        repo.insert_definition(&d, T0 * 1000)?;
    }
    let clock = Arc::new(ManualClock::new(T0 * 1000));
    let store = Arc::new(MemoryStore::new());
    let engine = rt.block_on(Engine::load(
        repo,
        store,
        clock.clone(),
        EngineConfig::default(),
    ))?;
    let keys: Vec<Arc<SeriesKey>> = (0..NAMES)
        .flat_map(|k| {
            (0..hosts).map(move |h| {
                let dims = BTreeMap::from([
                    ("hostname".to_string(), host(h)),
                    ("service".to_string(), format!("svc-{}", h % SERVICES)),
                ]);
                Arc::new(SeriesKey {
                    tenant: "bench".into(),
                    name: metric(k),
                    dimensions: dims,
                })
            })
        })
        .collect();

    let first = Instant::now();
    for b in batches(&keys, T0 - 3_600, 1) {
        engine.observe(&b);
    }
    println!(
        "first contact: {} series, {} alarms, {:.2} s",
        keys.len(),
        {
            let s = engine.stats();
            s.alarms_ok + s.alarms_alarm + s.alarms_undetermined
        },
        first.elapsed().as_secs_f64()
    );

    let steady = batches(&keys, T0 - 3_000, points);
    let n: usize = steady.iter().map(Vec::len).sum();
    let (cpu0, wall0) = (thread_cpu(), Instant::now());
    for b in &steady {
        engine.observe(b);
    }
    let (cpu, wall) = (thread_cpu() - cpu0, wall0.elapsed());
    println!(
        "steady state: {n} samples in batches of {BATCH}: {:.1} ns CPU a sample ({:.1} ns wall), {:.2} M samples/s on one thread",
        cpu.as_nanos() as f64 / n as f64,
        wall.as_nanos() as f64 / n as f64,
        n as f64 / cpu.as_secs_f64() / 1e6
    );

    // The clock's evaluation of every alarm: a second in which no period closes (most of
    // them), then one in which every window's period closes.
    let tick = |at_s: i64| {
        clock.set(at_s * 1000);
        let (cpu0, wall0) = (thread_cpu(), Instant::now());
        engine.tick();
        (thread_cpu() - cpu0, wall0.elapsed())
    };
    let last_s = T0 - 3_000 + (points as i64 - 1) * 30;
    let quiet = tick(last_s + 1);
    let closing = tick(last_s + 3_600);
    println!(
        "tick: {:.1} ms CPU ({:.1} ms wall) with no period closing, {:.1} ms ({:.1} ms) with every period closing",
        quiet.0.as_secs_f64() * 1e3,
        quiet.1.as_secs_f64() * 1e3,
        closing.0.as_secs_f64() * 1e3,
        closing.1.as_secs_f64() * 1e3,
    );
    Ok(())
}

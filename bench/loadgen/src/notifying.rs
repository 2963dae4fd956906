//! The notification side of the benchmark. `receive` is a webhook receiver that counts what
//! it gets (the ingest-with-notifications run points its definitions' actions at it);
//! `notify` starts its own receiver, flips many alarms to ALARM at once and measures the
//! deliveries per second, then times single crossings from the metric's 204 to the webhook.

use std::collections::HashMap;

use axum::{Json, Router, extract::State, routing::post};
use tokio::sync::Notify;

use super::*;

#[derive(Args)]
pub(crate) struct NotifyArgs {
    #[command(flatten)]
    target: Target,
    /// Alarms that flip to ALARM at once.
    #[arg(long, default_value_t = 10_000)]
    alarms: usize,
    /// Metrics per POST.
    #[arg(long, default_value_t = 5000)]
    batch: usize,
    /// Single crossings timed after the flip.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Pause between creating a crossing's alarm and crossing, milliseconds.
    #[arg(long, default_value_t = 20)]
    settle_ms: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 120)]
    timeout_s: u64,
    /// Also write the results as `key=value` lines here.
    #[arg(long)]
    summary: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct ReceiveArgs {
    /// Where to write the receiver's URL once it listens.
    #[arg(long)]
    url_file: PathBuf,
    /// Where to write `requests=N` every second.
    #[arg(long)]
    count_file: Option<PathBuf>,
}

/// What a receiver saw: when each alarm's ALARM webhook arrived, and how many requests.
#[derive(Default)]
struct Seen {
    alarm_at: HashMap<String, Instant>,
    requests: u64,
}

#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Seen>>,
    arrived: Arc<Notify>,
}

async fn record(State(r): State<Receiver>, Json(v): Json<Value>) {
    let now = Instant::now();
    {
        let mut s = r.seen.lock().unwrap_or_else(|e| e.into_inner());
        s.requests += 1;
        // Keyed by host: each alarm of the benchmark is one hostname.
        let host = v["metrics"][0]["dimensions"]["hostname"].as_str();
        if let (Some(h), Some("ALARM")) = (host, v["state"].as_str()) {
            s.alarm_at.entry(h.to_string()).or_insert(now);
        }
    }
    r.arrived.notify_waiters();
}

/// A receiver on 127.0.0.1:0 answering 200 to every POST; its URL.
async fn start_receiver(r: Receiver) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let app = Router::new().route("/hook", post(record)).with_state(r);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

pub(crate) async fn receive(a: ReceiveArgs) -> Result<()> {
    let r = Receiver::default();
    let url = start_receiver(r.clone()).await?;
    std::fs::write(&a.url_file, &url)
        .with_context(|| format!("cannot write {}", a.url_file.display()))?;
    // Until killed; the count goes to stdout every second for the log.
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let n = r.seen.lock().unwrap_or_else(|e| e.into_inner()).requests;
        if let Some(path) = &a.count_file {
            let _ = std::fs::write(path, format!("requests={n}\n"));
        }
    }
}

/// `POST /v2.0/notification-methods` (a webhook to `address`); its id.
pub(crate) async fn create_webhook(
    c: &reqwest::Client,
    base: &str,
    tenant: &str,
    name: &str,
    address: &str,
) -> Result<String> {
    let url = format!("{base}/v2.0/notification-methods");
    let body = serde_json::json!({"name": name, "type": "WEBHOOK", "address": address});
    crate::alarming::post_created(c, &url, tenant, &body, "webhook notification method").await
}

/// POSTs one value of metric `name` now for each of `hosts` (dimension `hostname`).
pub(crate) async fn post_values(
    c: &reqwest::Client,
    base: &str,
    tenant: &str,
    name: &str,
    hosts: &[String],
    value: f64,
) -> Result<()> {
    let url = format!("{base}/v2.0/metrics");
    let now = jiff::Timestamp::now().as_millisecond();
    let body: Vec<Value> = hosts
        .iter()
        .map(|h| {
            serde_json::json!({"name": name, "dimensions": {"hostname": h},
                               "timestamp": now, "value": value})
        })
        .collect();
    let r = c
        .post(&url)
        .header("X-Auth-Token", tenant)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = r.status();
    r.bytes().await?;
    ensure!(status.as_u16() == 204, "POST {url}: {status}");
    Ok(())
}

/// How many alarms of definition `def` are in `state`.
async fn count_in(
    c: &reqwest::Client,
    base: &str,
    tenant: &str,
    def: &str,
    state: &str,
) -> Result<u64> {
    let url = format!("{base}/v2.0/alarms/count?alarm_definition_id={def}&state={state}");
    let v: Value = c
        .get(&url)
        .header("X-Auth-Token", tenant)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["counts"][0][0].as_u64().unwrap_or(0))
}

/// Waits until `done` holds of what the receiver saw, or fails after `timeout`.
async fn wait_for(r: &Receiver, timeout: Duration, done: impl Fn(&Seen) -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let arrived = r.arrived.notified();
        if done(&r.seen.lock().unwrap_or_else(|e| e.into_inner())) {
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        ensure!(!left.is_zero(), "not delivered within {timeout:?}");
        let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), arrived).await;
    }
}

pub(crate) async fn notify(a: NotifyArgs) -> Result<()> {
    ensure!(
        a.alarms > 0 && a.runs > 0,
        "--alarms and --runs must be positive"
    );
    let base = a.target.url.trim_end_matches('/').to_string();
    let tenant = a.target.tenant.as_str();
    let c = client()?;
    let r = Receiver::default();
    let hook = start_receiver(r.clone()).await?;
    let nonce = jiff::Timestamp::now().as_millisecond();
    let method = create_webhook(&c, &base, tenant, &format!("flip-{nonce}"), &hook).await?;
    let def = {
        let url = format!("{base}/v2.0/alarm-definitions");
        let body = serde_json::json!({
            "name": format!("flip-{nonce}"),
            "expression": "last(bench.flip) > 50",
            "match_by": ["hostname"],
            "alarm_actions": [method],
        });
        crate::alarming::post_created(&c, &url, tenant, &body, "flip definition").await?
    };

    // Every alarm exists and is OK (no OK actions: nothing is sent yet).
    let hosts: Vec<String> = (0..a.alarms).map(|i| format!("flip-{nonce}-{i}")).collect();
    for chunk in hosts.chunks(a.batch) {
        post_values(&c, &base, tenant, "bench.flip", chunk, 10.0).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(a.timeout_s);
    while count_in(&c, &base, tenant, &def, "OK").await? < a.alarms as u64 {
        ensure!(Instant::now() < deadline, "the alarms never all went OK");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // All of them cross at once.
    let start = Instant::now();
    for chunk in hosts.chunks(a.batch) {
        post_values(&c, &base, tenant, "bench.flip", chunk, 100.0).await?;
    }
    let acked = start.elapsed();
    let want = a.alarms;
    wait_for(&r, Duration::from_secs(a.timeout_s), |s| {
        s.alarm_at.len() >= want
    })
    .await?;
    let (last, requests) = {
        let s = r.seen.lock().unwrap_or_else(|e| e.into_inner());
        let last = s.alarm_at.values().max().copied().unwrap_or(start);
        (last.duration_since(start), s.requests)
    };
    let per_s = want as f64 / last.as_secs_f64();

    // Single crossings, timed from the 204 of the crossing value to the webhook's arrival.
    let mut lat = Vec::with_capacity(a.runs);
    for i in 0..a.runs {
        let host = vec![format!("lat-{nonce}-{i}")];
        post_values(&c, &base, tenant, "bench.flip", &host, 10.0).await?;
        // The alarm must exist (and be OK) before the crossing, or it is created ALARM.
        tokio::time::sleep(Duration::from_millis(a.settle_ms)).await;
        post_values(&c, &base, tenant, "bench.flip", &host, 100.0).await?;
        let t204 = Instant::now();
        let h = host[0].clone();
        wait_for(&r, Duration::from_secs(a.timeout_s), |s| {
            s.alarm_at.contains_key(&h)
        })
        .await?;
        let got = r.seen.lock().unwrap_or_else(|e| e.into_inner()).alarm_at[&h];
        lat.push(got.saturating_duration_since(t204));
    }
    lat.sort();
    let (p50, p99, max) = (ms(pct(&lat, 0.50)), ms(pct(&lat, 0.99)), ms(pct(&lat, 1.0)));
    println!(
        "notify: `last(bench.flip) > 50` (match_by hostname) with a webhook alarm action to a \
         local receiver"
    );
    let rows = vec![
        row([
            &format!("{} alarms flipping at once", group(want as f64)),
            &format!(
                "all delivered {:.2} s after the first POST (POSTs acknowledged in {:.2} s) = {} \
                 deliveries/s; {requests} requests received",
                last.as_secs_f64(),
                acked.as_secs_f64(),
                group(per_s)
            ),
        ]),
        row([
            &format!("crossing value's 204 -> webhook ({} runs)", a.runs),
            &format!("p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms (goal: p99 < 100 ms)"),
        ]),
    ];
    print_table(&["", ""], &rows, 2);
    if let Some(path) = &a.summary {
        let s = format!(
            "alarms={want}\nflip_seconds={:.3}\nper_s={per_s:.0}\nrequests={requests}\n\
             p50_ms={p50:.2}\np99_ms={p99:.2}\nmax_ms={max:.2}\n",
            last.as_secs_f64()
        );
        std::fs::write(path, s).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

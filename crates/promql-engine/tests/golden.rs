//! The same samples in Vigil's engine and in a real Prometheus (Debian's `prometheus`
//! package: `apt-get install prometheus`), the same expressions (`golden/corpus.rs`) sent to
//! both: results must have the same type, the same label sets and values equal within float
//! tolerance (and order, for `sort*`); errors the same type and message.
//!
//! Debian 12 ships Prometheus 2.42, whose windows are closed on the left where Prometheus 3's
//! (and ours) are open: the samples sit 3 s past each 15 s tick and the queries 7 s past each
//! minute, so no sample ever falls on a window's edge and both versions agree. One more
//! difference is left out: a counter's window that starts well before its first sample
//! extrapolates to the start by Prometheus 3's rule (half a sample interval, then no further
//! than the counter's zero point; prometheus/prometheus#13725), which 2.42 predates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "golden/compare.rs"]
mod compare;
#[path = "golden/corpus.rs"]
mod corpus;
#[path = "golden/promqltest.rs"]
mod promqltest;
#[path = "golden/skips.rs"]
mod skips;
#[path = "golden/upstream.rs"]
mod upstream;

use std::{
    collections::BTreeMap,
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use corpus::{EXPRESSIONS, RANGE_VECTORS, SERIES, SYNTAX_ERRORS};
use metric_store::{MemoryStore, MetricStore, Sample, SeriesKey};
use promql_engine::{Engine, EngineOptions, QueryError, QueryValue, format_value};
use serde_json::{Value, json};

/// A minute boundary; samples at `BASE + 3 + 15 k` s for 30 minutes.
const BASE: i64 = 1_699_999_980;
const POINTS: i64 = 120;

/// Prometheus on a loopback port over a TSDB built from the samples; killed on drop.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for (_, name, dims, f) in SERIES {
            let labels: Vec<String> = dims.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            for k in 0..POINTS {
                let ts = BASE + 3 + 15 * k;
                if let Some(v) = f(k) {
                    let v = format_value(v);
                    text.push_str(&format!("{name}{{{}}} {v} {ts}\n", labels.join(",")));
                }
            }
        }
        text.push_str("# EOF\n");
        let input = dir.path().join("data.om");
        std::fs::write(&input, text).unwrap();
        let tsdb = dir.path().join("tsdb");
        let out = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(&tsdb)
            .output()
            .expect("promtool (apt-get install prometheus)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global: {}\n").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=100y")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus (apt-get install prometheus)");
        let p = Self {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while p.get("/-/ready").0 != 200 {
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }

    fn get(&self, path: &str) -> (u16, String) {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, String::new());
        };
        write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
        let mut raw = String::new();
        if s.read_to_string(&mut raw).is_err() {
            return (0, String::new());
        }
        let status = raw
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = raw.split_once("\r\n\r\n").map_or("", |b| b.1).to_string();
        (status, body)
    }

    /// The `data` of an answer, or its `errorType` and `error`.
    fn query(&self, path: &str) -> Result<Value, String> {
        let (status, body) = self.get(path);
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        if status == 200 {
            Ok(v["data"].clone())
        } else {
            Err(format!(
                "{}: {}",
                v["errorType"].as_str().unwrap_or("?"),
                v["error"].as_str().unwrap_or("?")
            ))
        }
    }
}

fn encode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

async fn vigil() -> Engine {
    let store = MemoryStore::new();
    let mut samples = Vec::new();
    for (name, _, dims, f) in SERIES {
        let key = Arc::new(SeriesKey {
            tenant: "t".into(),
            name: (*name).into(),
            dimensions: dims
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        });
        for k in 0..POINTS {
            if let Some(value) = f(k) {
                samples.push(Sample {
                    series: key.clone(),
                    timestamp: (BASE + 3 + 15 * k) * 1000,
                    value,
                    value_meta: None,
                });
            }
        }
    }
    store.write(samples).await.unwrap();
    Engine::new(Arc::new(store), EngineOptions::default())
}

/// A result as `(type, labels → values)`, values as API strings, for comparison.
fn normalize(data: &Value) -> (String, BTreeMap<String, Vec<(f64, String)>>) {
    let kind = data["resultType"].as_str().unwrap().to_string();
    let mut out = BTreeMap::new();
    let point = |p: &Value| (p[0].as_f64().unwrap(), p[1].as_str().unwrap().to_string());
    match kind.as_str() {
        "scalar" | "string" => {
            out.insert(String::new(), vec![point(&data["result"])]);
        }
        _ => {
            for r in data["result"].as_array().unwrap() {
                let labels = r["metric"].to_string();
                let points = match r.get("values") {
                    Some(vs) => vs.as_array().unwrap().iter().map(point).collect(),
                    None => vec![point(&r["value"])],
                };
                out.insert(labels, points);
            }
        }
    }
    (kind, out)
}

fn to_api(v: QueryValue) -> Value {
    let t = |ms: i64| json!(ms as f64 / 1000.0);
    let labels = |l: &promql_engine::Labels| json!(l);
    match v {
        QueryValue::Scalar(ts, x) => {
            json!({"resultType": "scalar", "result": [t(ts), format_value(x)]})
        }
        QueryValue::String(ts, s) => json!({"resultType": "string", "result": [t(ts), s]}),
        QueryValue::Vector(v) => {
            json!({"resultType": "vector", "result": v.iter().map(|(l, ts, x)| json!({"metric": labels(l), "value": [t(*ts), format_value(*x)]})).collect::<Vec<_>>()})
        }
        QueryValue::Matrix(m) => {
            json!({"resultType": "matrix", "result": m.iter().map(|s| json!({"metric": labels(&s.labels), "values": s.points.iter().map(|(ts, x)| json!([t(*ts), format_value(*x)])).collect::<Vec<_>>()})).collect::<Vec<_>>()})
        }
    }
}

fn same_value(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        _ => a == b,
    }
}

/// Our answer as the API would give it: the data, or the error type and message.
fn answer(r: Result<QueryValue, QueryError>) -> Result<Value, String> {
    r.map(to_api).map_err(|e| {
        let kind = match e {
            QueryError::BadData(_) | QueryError::Parse(_) => "bad_data",
            QueryError::Execution(_) => "execution",
            QueryError::Timeout(_) => "timeout",
            QueryError::Store(_) => "internal",
        };
        match e {
            QueryError::Parse(m) => format!("{kind}: invalid parameter \"query\": {m}"),
            other => format!("{kind}: {other}"),
        }
    })
}

/// Prometheus 2.x names the two series of a many-to-many match in the order it met them,
/// Prometheus 3 (and we) in sorted order.
fn in_order(message: &str) -> String {
    let pair = message
        .split_once("operation: [")
        .and_then(|(head, rest)| Some((head, rest.split_once("];")?)))
        .and_then(|(head, (pair, tail))| Some((head, pair.split_once("}, {")?, tail)));
    match pair {
        Some((head, (a, b), tail)) => {
            let (a, b) = (format!("{a}}}"), format!("{{{b}"));
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            format!("{head}operation: [{a}, {b}];{tail}")
        }
        None => message.to_string(),
    }
}

/// The label sets of a vector in the order given.
fn order(data: &Value) -> Vec<String> {
    data["result"]
        .as_array()
        .map(|r| r.iter().map(|s| s["metric"].to_string()).collect())
        .unwrap_or_default()
}

/// `None` when both agree; `ordered`: an instant vector's order counts too (`sort`).
fn compare(
    what: &str,
    ours: &Result<Value, String>,
    theirs: &Result<Value, String>,
    ordered: bool,
) -> Option<String> {
    let (ours, theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (Err(o), Err(t)) if *o == in_order(t) => return None,
        _ => return Some(format!("{what}: ours {ours:?}, theirs {theirs:?}")),
    };
    if ordered && ours["resultType"] == "vector" && order(ours) != order(theirs) {
        return Some(format!(
            "{what}: order\n  ours   {:?}\n  theirs {:?}",
            order(ours),
            order(theirs)
        ));
    }
    let (ok, om) = normalize(ours);
    let (tk, tm) = normalize(theirs);
    if ok != tk {
        return Some(format!("{what}: type {ok} != {tk}"));
    }
    if om.keys().ne(tm.keys()) {
        return Some(format!(
            "{what}: labels\n  ours   {:?}\n  theirs {:?}",
            om.keys(),
            tm.keys()
        ));
    }
    for (labels, ours) in &om {
        let theirs = &tm[labels];
        let same = ours.len() == theirs.len()
            && ours
                .iter()
                .zip(theirs)
                .all(|(a, b)| (a.0 - b.0).abs() < 1e-6 && same_value(&a.1, &b.1));
        if !same {
            return Some(format!(
                "{what} {labels}:\n  ours   {ours:?}\n  theirs {theirs:?}"
            ));
        }
    }
    None
}

#[tokio::test]
#[ignore = "needs Debian's prometheus package (apt-get install prometheus)"]
async fn vigil_agrees_with_prometheus() {
    let prometheus = Prometheus::start();
    let engine = vigil().await;
    let instant = BASE + 607;
    let (start, end) = (BASE + 307, BASE + 1507);
    // The data did load: both series of the counter are there.
    let loaded = prometheus
        .query(&format!("/api/v1/query?query=http:req&time={instant}"))
        .unwrap();
    assert_eq!(
        loaded["result"].as_array().map(Vec::len),
        Some(2),
        "{loaded}"
    );
    let mut failures = Vec::new();
    let mut compared = 0;
    for q in EXPRESSIONS {
        // Prometheus 2.42 calls double_exponential_smoothing holt_winters.
        let theirs_q = q.replace("double_exponential_smoothing", "holt_winters");
        let ordered = q.starts_with("sort");
        let theirs = prometheus.query(&format!(
            "/api/v1/query?query={}&time={instant}",
            encode(&theirs_q)
        ));
        let ours = answer(engine.instant("t", q, instant * 1000).await);
        failures.extend(compare(&format!("instant {q}"), &ours, &theirs, ordered));
        compared += 1;
        if ours.is_err()
            || ours
                .as_ref()
                .is_ok_and(|v| v["resultType"] == "matrix" || v["resultType"] == "string")
        {
            continue;
        }
        let theirs = prometheus.query(&format!(
            "/api/v1/query_range?query={}&start={start}&end={end}&step=60",
            encode(&theirs_q)
        ));
        let ours = answer(engine.range("t", q, start * 1000, end * 1000, 60_000).await);
        failures.extend(compare(&format!("range {q}"), &ours, &theirs, false));
        compared += 1;
    }
    // Range vectors as instant-query results, and syntax errors: the same message, position
    // included.
    for q in RANGE_VECTORS.iter().chain(SYNTAX_ERRORS) {
        let theirs = prometheus.query(&format!("/api/v1/query?query={}&time={instant}", encode(q)));
        let ours = answer(engine.instant("t", q, instant * 1000).await);
        failures.extend(compare(&format!("instant {q:?}"), &ours, &theirs, false));
        compared += 1;
    }
    // Bad ranges: an end before the start, a step of 0 or below, more than 11,000 points.
    for (from, to, step) in [
        (end, start, 60),
        (start, end, 0),
        (start, end, -60),
        (0, 1_100_000, 99),
        (0, 1_100_000, 100),
    ] {
        let theirs = prometheus.query(&format!(
            "/api/v1/query_range?query=cpu&start={from}&end={to}&step={step}"
        ));
        let ours = answer(
            engine
                .range("t", "cpu", from * 1000, to * 1000, step * 1000)
                .await,
        );
        let what = format!("range from {from} to {to} by {step}");
        failures.extend(compare(&what, &ours, &theirs, false));
        compared += 1;
    }
    eprintln!("{compared} results compared with Prometheus");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

//! The same samples in Vigil's engine and in a real Prometheus (Debian's `prometheus`
//! package: `apt-get install prometheus`), the same expressions sent to both: results must
//! have the same type, the same label sets and values equal within float tolerance.
//!
//! Debian 12 ships Prometheus 2.42, whose windows are closed on the left where Prometheus 3's
//! (and ours) are open: the samples sit 3 s past each 15 s tick and the queries 7 s past each
//! minute, so no sample ever falls on a window's edge and both versions agree. One more
//! difference is left out: a counter's window that starts well before its first sample
//! extrapolates to the start by Prometheus 3's rule (half a sample interval, then no further
//! than the counter's zero point; prometheus/prometheus#13725), which 2.42 predates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use metric_store::{MemoryStore, MetricStore, Sample, SeriesKey};
use promql_engine::{Engine, EngineOptions, QueryError, QueryValue, format_value};
use serde_json::{Value, json};

/// A minute boundary; samples at `BASE + 3 + 15 k` s for 30 minutes.
const BASE: i64 = 1_699_999_980;
const POINTS: i64 = 120;

/// `(Monasca name, Prometheus name, dimensions, value of point k)`.
type SeriesDef = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    fn(i64) -> f64,
);

const SERIES: &[SeriesDef] = &[
    // A counter with a reset at k = 40.
    ("http.req", "http:req", &[("host", "a")], |k| {
        if k < 40 {
            10.0 * k as f64 + 5.0
        } else {
            3.0 * (k - 40) as f64 + 1.0
        }
    }),
    ("http.req", "http:req", &[("host", "b")], |k| 7.0 * k as f64),
    ("cpu", "cpu", &[("host", "a")], |k| {
        ((k * 37) % 11) as f64 * 0.5
    }),
    ("cpu", "cpu", &[("host", "b")], |k| {
        (k % 5) as f64 * 1.5 + 0.25
    }),
    ("info", "info", &[("host", "a"), ("team", "x")], |_| 1.0),
    // A classic histogram: cumulative bucket counters.
    ("lat", "lat", &[("host", "a"), ("le", "0.1")], |k| {
        2.0 * k as f64
    }),
    ("lat", "lat", &[("host", "a"), ("le", "0.5")], |k| {
        5.0 * k as f64
    }),
    ("lat", "lat", &[("host", "a"), ("le", "1")], |k| {
        6.0 * k as f64 + (k % 3) as f64
    }),
    ("lat", "lat", &[("host", "a"), ("le", "+Inf")], |k| {
        7.0 * k as f64 + (k % 3) as f64
    }),
    ("lat", "lat", &[("host", "b"), ("le", "0.5")], |k| k as f64),
    ("lat", "lat", &[("host", "b"), ("le", "+Inf")], |k| {
        3.0 * k as f64
    }),
];

const EXPRESSIONS: &[&str] = &[
    "http:req",
    "cpu",
    r#"cpu{host!="a"}"#,
    r#"{__name__=~"cpu|info", host=~"a"}"#,
    r#"http:req{host!~"b"}"#,
    "rate(http:req[5m])",
    "increase(http:req[2m])",
    "irate(http:req[1m])",
    "delta(cpu[3m])",
    "idelta(cpu[1m])",
    "resets(http:req[10m])",
    "changes(cpu[5m])",
    "deriv(cpu[5m])",
    "predict_linear(cpu[5m], 300)",
    "avg_over_time(cpu[5m])",
    "min_over_time(cpu[5m])",
    "max_over_time(cpu[5m])",
    "sum_over_time(cpu[5m])",
    "count_over_time(cpu[5m])",
    "last_over_time(cpu[5m])",
    "stddev_over_time(cpu[5m])",
    "stdvar_over_time(cpu[5m])",
    "quantile_over_time(0.3, cpu[5m])",
    "present_over_time(cpu[5m])",
    "sum by (host) (rate(http:req[5m]))",
    "sum(rate(http:req[5m]))",
    "avg(cpu)",
    "max without (host) (cpu)",
    "min(cpu)",
    "count(cpu)",
    "group(cpu)",
    "stddev(cpu)",
    "stdvar(cpu)",
    "topk(1, cpu)",
    "bottomk(1, cpu)",
    "quantile(0.9, cpu)",
    r#"count_values("v", cpu)"#,
    "http:req / on(host) cpu",
    "http:req - ignoring(team) cpu",
    "cpu > 2",
    "cpu > bool 2",
    "2 < cpu",
    "cpu * on(host) group_left(team) info",
    "info * on(host) group_right(team) cpu",
    "http:req and cpu > 2",
    "http:req unless cpu > 2",
    "cpu or http:req",
    "2 ^ cpu",
    "cpu % 2",
    "-cpu",
    "abs(-cpu)",
    "sqrt(cpu)",
    "ln(http:req)",
    "clamp(cpu, 1, 4)",
    "clamp_min(cpu, 2)",
    "clamp_max(cpu, 2)",
    "round(cpu, 0.7)",
    "ceil(cpu)",
    r#"label_replace(cpu, "h2", "x-$1", "host", "(.*)")"#,
    r#"label_join(info, "j", "-", "host", "team")"#,
    "time()",
    "timestamp(cpu)",
    "hour(vector(time()))",
    "minute(vector(time()))",
    "day_of_week(vector(time()))",
    "absent(nope)",
    r#"absent(nope{job="j"})"#,
    "absent(cpu)",
    "absent_over_time(cpu[1m])",
    "absent_over_time(nope[1m])",
    r#"scalar(cpu{host="a"})"#,
    "vector(3)",
    "1 + 2 * 3",
    "cpu offset 2m",
    "rate(http:req[5m] offset 3m)",
    "max_over_time(rate(http:req[2m])[5m:1m])",
    "sum_over_time(cpu[5m:30s] offset 1m)",
    "avg_over_time((cpu > 1)[10m:])",
    "topk(1, cpu) by (host)",
    "topk by (host) (1, http:req)",
    "bottomk(2, http:req)",
    "topk(3, cpu or http:req)",
    r#"count_values("v", cpu) by (host)"#,
    "quantile(0.25, cpu or http:req)",
    "quantile(-1, cpu)",
    "stddev without (host) (cpu)",
    "sum without (host) (info)",
    "count by (team) (info)",
    "avg by (__name__) ({__name__=~\".+\"})",
    "cpu == bool on(host) cpu",
    "cpu != ignoring(team) http:req",
    "http:req >= on(host) group_left cpu",
    "sum(http:req) by (host) / on(host) sum(cpu) by (host)",
    "http:req and on(host) info",
    "http:req unless on(host) info",
    "info or on(host) cpu",
    "cpu or on() vector(7)",
    "cpu and on() vector(1) > 0",
    "1 < bool 2",
    "cpu + 0 * time()",
    "cpu @ start()",
    "cpu @ end()",
    "rate(http:req[5m] @ end())",
    "sum_over_time(cpu[5m:1m] @ start())",
    "cpu @ 1700000430",
    "last_over_time(cpu[3m] offset 30s)",
    "count_over_time(cpu[5m:45s])",
    "changes(http:req[30m])",
    "resets(http:req[30m])",
    "increase(http:req[10m])",
    "rate(http:req[30s])",
    "irate(http:req[2m])",
    "predict_linear(http:req[10m], -60)",
    "deriv(http:req[10m])",
    "sgn(cpu - 1)",
    "exp(cpu)",
    "log2(cpu)",
    "floor(cpu * 1.3)",
    "round(cpu)",
    "sin(cpu) + cos(cpu)",
    "cpu atan2 on(host) http:req",
    "deg(cpu)",
    "clamp(cpu, 4, 1)",
    r#"label_replace(cpu, "host", "$2", "host", "(a)(.*)")"#,
    r#"label_replace(cpu, "new", "$1$1", "host", "(.)")"#,
    r#"label_join(cpu, "host", "", "host", "__name__")"#,
    "month(vector(1700000000))",
    "year()",
    "day_of_year()",
    "days_in_month(vector(1709164800))",
    "timestamp(http:req offset 1m)",
    "vector(time()) - timestamp(cpu)",
    "scalar(cpu)",
    "scalar(vector(5)) * cpu",
    r#""a string""#,
    "-(1 + cpu)",
    "max_over_time(deriv(cpu[2m])[10m:2m])",
    "double_exponential_smoothing(cpu[5m], 0.3, 0.6)",
    "double_exponential_smoothing(http:req[10m], 0.9, 0.1)",
    "double_exponential_smoothing(cpu[5m], 1, 0.5)",
    "histogram_quantile(0.9, rate(lat[5m]))",
    "histogram_quantile(0.5, lat)",
    "histogram_quantile(0.99, sum by (le) (rate(lat[5m])))",
    "histogram_quantile(0, lat)",
    "histogram_quantile(1.5, lat)",
    "histogram_quantile(0.3, cpu)",
    // Errors: the same type on both sides.
    "cpu + on() cpu",
    "cpu * on(host) group_left http:req or cpu",
    r#"label_replace(cpu, "host", "same", "", "")"#,
    "http:req + ignoring(host) cpu",
    "rate(cpu)",
    "sum(",
    "cpu{",
    "nosuch(cpu)",
    "topk(cpu, 1)",
    r#"label_replace(cpu, "1x", "", "", "")"#,
    "absent_over_time(nope{a=\"b\", c=~\"d\"}[5m])",
];

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
                text.push_str(&format!("{name}{{{}}} {} {ts}\n", labels.join(","), f(k)));
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

    /// The `data` of an answer, or its `errorType`.
    fn query(&self, path: &str) -> Result<Value, String> {
        let (status, body) = self.get(path);
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        if status == 200 {
            Ok(v["data"].clone())
        } else {
            Err(v["errorType"].as_str().unwrap_or("?").to_string())
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
            samples.push(Sample {
                series: key.clone(),
                timestamp: (BASE + 3 + 15 * k) * 1000,
                value: f(k),
                value_meta: None,
            });
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

/// Our answer as the API would give it: the data, or the error type.
fn answer(r: Result<QueryValue, QueryError>) -> Result<Value, String> {
    r.map(to_api).map_err(|e| {
        match e {
            QueryError::BadData(_) | QueryError::Parse(_) => "bad_data",
            QueryError::Execution(_) => "execution",
            QueryError::Timeout(_) => "timeout",
            QueryError::Store(_) => "internal",
        }
        .to_string()
    })
}

fn compare(
    what: &str,
    ours: &Result<Value, String>,
    theirs: &Result<Value, String>,
) -> Option<String> {
    let (ours, theirs) = match (ours, theirs) {
        (Ok(o), Ok(t)) => (o, t),
        (Err(o), Err(t)) if o == t => return None,
        _ => return Some(format!("{what}: ours {ours:?}, theirs {theirs:?}")),
    };
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
        let theirs = prometheus.query(&format!(
            "/api/v1/query?query={}&time={instant}",
            encode(&theirs_q)
        ));
        let ours = answer(engine.instant("t", q, instant * 1000).await);
        failures.extend(compare(&format!("instant {q}"), &ours, &theirs));
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
        failures.extend(compare(&format!("range {q}"), &ours, &theirs));
        compared += 1;
    }
    // Range vectors as instant-query results, too.
    for q in ["cpu[1m]", "http:req[2m] offset 1m", "cpu[3m:1m]"] {
        let theirs = prometheus.query(&format!("/api/v1/query?query={}&time={instant}", encode(q)));
        let ours = answer(engine.instant("t", q, instant * 1000).await);
        failures.extend(compare(&format!("instant {q}"), &ours, &theirs));
    }
    // Syntax errors: the same message, position included. Ours has no position yet for
    // grammar errors other than a stray token after a complete expression or input cut short
    // (`1 +* 2`, `cpu @ x`, `{}`).
    for q in [
        "cpu bar",
        "sum(cpu) 5",
        "cpu{host=\"a\"}\n  'x'",
        "rate(cpu[5m]) (cpu)",
        "cpu $",
        "cpu{host=\"a}",
        "sum(cpu",
        "cpu[5m",
        "cpu +",
        "sum(cpu) and",
        "1 * -",
        "cpu{host=\"a\"",
    ] {
        let (_, body) =
            prometheus.get(&format!("/api/v1/query?query={}&time={instant}", encode(q)));
        let theirs: Value = serde_json::from_str(&body).unwrap();
        let theirs = theirs["error"].as_str().unwrap_or_default();
        let ours = match engine.instant("t", q, instant * 1000).await {
            Err(QueryError::Parse(m)) => format!("invalid parameter \"query\": {m}"),
            other => format!("{other:?}"),
        };
        if ours != theirs {
            failures.push(format!(
                "error of {q:?}:\n  ours   {ours}\n  theirs {theirs}"
            ));
        }
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

//! How long the engine takes on a day of data (`cargo run --release -p promql-engine --example
//! scale`):
//! 1,000 series (100 hosts × 10 instances) × 1 day at 30 s, in the embedded store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{sync::Arc, time::Instant};

use metric_store::{EmbeddedStore, MetricStore, Sample, SeriesKey};
use promql_engine::{Engine, EngineOptions, QueryValue};

const DAY_MS: i64 = 86_400_000;
const STEP_MS: i64 = 30_000;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    for host in 0..100 {
        let mut batch = Vec::new();
        for instance in 0..10 {
            let key = Arc::new(SeriesKey {
                tenant: "t".into(),
                name: "http.requests".into(),
                dimensions: [
                    ("host".to_string(), format!("h{host}")),
                    ("instance".to_string(), format!("i{instance}")),
                ]
                .into_iter()
                .collect(),
            });
            for k in 0..DAY_MS / STEP_MS {
                batch.push(Sample {
                    series: key.clone(),
                    timestamp: k * STEP_MS,
                    value: (k * (instance + 1)) as f64,
                    value_meta: None,
                });
            }
        }
        store.write(batch).await.unwrap();
    }
    let engine = Engine::new(Arc::new(store), EngineOptions::default());
    let range = [
        "sum by (host) (rate(http:requests[5m]))",
        r#"http:requests{host="h7",instance="i3"}"#,
        "count by (host) (http:requests)",
    ];
    for q in range {
        let began = Instant::now();
        let r = engine.range("t", q, 0, DAY_MS - 1, 60_000).await.unwrap();
        let QueryValue::Matrix(m) = r else { panic!() };
        eprintln!(
            "range 1 d / 60 s  {q}: {} series in {:?}",
            m.len(),
            began.elapsed()
        );
    }
    for q in ["topk(10, http:requests)", "count(http:requests)"] {
        let began = Instant::now();
        engine.instant("t", q, DAY_MS - 1).await.unwrap();
        eprintln!("instant {q}: {:?}", began.elapsed());
    }
    let began = Instant::now();
    let hosts = engine
        .labels("t", Some("host"), &[], 0, DAY_MS)
        .await
        .unwrap();
    eprintln!("label values: {} in {:?}", hosts.len(), began.elapsed());
}

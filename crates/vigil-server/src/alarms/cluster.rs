//! Alarm evaluation shared among nodes over one PostgreSQL (see [`alarm_engine::cluster`]):
//! this node's membership, the samples it sends the nodes that evaluate them, and the route
//! where it takes the samples other nodes send it.
//!
//! The route (`POST /vigil/cluster/v1/samples`) answers only requests showing the key kept in
//! the shared database, which every node reads at start-up; it feeds the engine what the
//! other node already stored, so it is never written to the store again.

use std::{
    borrow::Cow,
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use alarm_engine::cluster::Member;
use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    routing::post,
};
use metric_store::{Sample, SeriesKey};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use vigil_http::telemetry::{Counter, Gauge, Telemetry};

/// Where other nodes send this one samples.
pub const SAMPLES_PATH: &str = "/vigil/cluster/v1/samples";
/// The header carrying the cluster key.
const KEY_HEADER: &str = "x-vigil-cluster-key";
/// Samples per forwarded request.
const CHUNK: usize = 5_000;
/// Forwarded requests in flight at once; beyond that a batch is not sent (and logged): the
/// holder's windows miss it, as they would if the sending node had died.
const IN_FLIGHT: usize = 64;

/// One forwarded sample.
#[derive(Serialize, Deserialize)]
struct WireSample<'a> {
    #[serde(borrow)]
    tenant: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    dimensions: Cow<'a, BTreeMap<String, String>>,
    timestamp: i64,
    value: f64,
}

/// Counts of the samples nodes send each other, for `/metrics`.
#[derive(Clone, Default)]
struct Counts {
    sent: Counter,
    not_sent: Counter,
    received: Counter,
}

/// This node's part in shared evaluation.
pub struct Cluster {
    pub member: Arc<Member>,
    counts: Counts,
    key: Arc<str>,
    http: reqwest::Client,
    in_flight: Arc<Semaphore>,
    /// When a failed send was last logged (epoch s), so an outage logs once in a while.
    last_warned: Arc<AtomicI64>,
}

impl Cluster {
    /// Joins: reads the cluster key and builds the sender.
    ///
    /// # Errors
    /// The database or the HTTP client fails.
    pub async fn join(member: Arc<Member>) -> anyhow::Result<Self> {
        let key: Arc<str> = member.cluster_key().await?.into();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("vigil-cluster/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            member,
            counts: Counts::default(),
            key,
            http,
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT)),
            last_warned: Arc::default(),
        })
    }

    /// Sends the samples other nodes evaluate to them, without waiting for the answers.
    pub fn forward(&self, samples: &[Sample]) {
        for (url, batch) in self.member.destinations(samples) {
            for chunk in batch.chunks(CHUNK) {
                let wire: Vec<WireSample<'_>> = chunk
                    .iter()
                    .map(|s| WireSample {
                        tenant: Cow::Borrowed(&s.series.tenant),
                        name: Cow::Borrowed(&s.series.name),
                        dimensions: Cow::Borrowed(&s.series.dimensions),
                        timestamp: s.timestamp,
                        value: s.value,
                    })
                    .collect();
                let Ok(body) = serde_json::to_vec(&wire) else {
                    continue;
                };
                let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
                    self.counts.not_sent.inc_by(chunk.len() as u64);
                    warn_at_most_every_10s(
                        &self.last_warned,
                        &url,
                        "too many forwarded batches in flight; one dropped",
                    );
                    continue;
                };
                let request = self
                    .http
                    .post(format!("{}{SAMPLES_PATH}", url.trim_end_matches('/')))
                    .header(KEY_HEADER, self.key.as_ref())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body);
                let (url, warned) = (url.clone(), self.last_warned.clone());
                let (sent, not_sent) = (self.counts.sent.clone(), self.counts.not_sent.clone());
                let n = chunk.len() as u64;
                tokio::spawn(async move {
                    let outcome = request.send().await;
                    drop(permit);
                    let why = match outcome {
                        Ok(r) if r.status().is_success() => {
                            sent.inc_by(n);
                            return;
                        }
                        Ok(r) => format!("HTTP {}", r.status().as_u16()),
                        Err(e) => e.without_url().to_string(),
                    };
                    not_sent.inc_by(n);
                    warn_at_most_every_10s(&warned, &url, &why);
                });
            }
        }
    }

    /// The route other nodes send samples to, feeding `feed`.
    pub fn router(&self, feed: alarm_engine::Alarming) -> Router {
        Router::new()
            .route(SAMPLES_PATH, post(receive))
            .layer(DefaultBodyLimit::max(64 << 20))
            .with_state(Receiver {
                key: self.key.clone(),
                feed,
                received: self.counts.received.clone(),
            })
    }

    /// `vigil_alarm_cluster_*` in `/metrics`: live nodes, samples sent to the nodes evaluating
    /// them, samples that could not be sent, samples received.
    pub fn register_metrics(&self, telemetry: &mut Telemetry) {
        let sub = telemetry
            .registry_mut()
            .sub_registry_with_prefix("alarm_cluster");
        let nodes = Gauge::<i64>::default();
        sub.register(
            "nodes",
            "Nodes sharing alarm evaluation, this one included",
            nodes.clone(),
        );
        sub.register(
            "samples_sent",
            "Samples sent to the node evaluating them",
            self.counts.sent.clone(),
        );
        sub.register(
            "samples_not_sent",
            "Samples that could not be sent to the node evaluating them",
            self.counts.not_sent.clone(),
        );
        sub.register(
            "samples_received",
            "Samples received from other nodes for the definitions this node evaluates",
            self.counts.received.clone(),
        );
        let member = self.member.clone();
        telemetry.before_scrape(move || {
            nodes.set(i64::try_from(member.live_nodes()).unwrap_or(i64::MAX));
        });
    }
}

fn warn_at_most_every_10s(last: &AtomicI64, url: &str, why: &str) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let before = last.load(Ordering::Relaxed);
    if now - before >= 10
        && last
            .compare_exchange(before, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            node = url,
            reason = why,
            "cannot send samples to the node evaluating them"
        );
    }
}

#[derive(Clone)]
struct Receiver {
    key: Arc<str>,
    feed: alarm_engine::Alarming,
    received: Counter,
}

/// Equal without an early exit, so the time taken tells nothing of the key.
fn same_key(given: &[u8], key: &[u8]) -> bool {
    given.len() == key.len() && given.iter().zip(key).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get(KEY_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !same_key(given, r.key.as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(wire) = serde_json::from_slice::<Vec<WireSample<'_>>>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut samples: Vec<Sample> = Vec::with_capacity(wire.len());
    for w in wire {
        // A series' samples come together: one key for a run of them.
        let key = match samples.last() {
            Some(prev)
                if prev.series.tenant == w.tenant
                    && prev.series.name == w.name
                    && prev.series.dimensions == *w.dimensions =>
            {
                prev.series.clone()
            }
            _ => Arc::new(SeriesKey {
                tenant: w.tenant.into_owned(),
                name: w.name.into_owned(),
                dimensions: w.dimensions.into_owned(),
            }),
        };
        samples.push(Sample {
            series: key,
            timestamp: w.timestamp,
            value: w.value,
            value_meta: None,
        });
    }
    r.received.inc_by(samples.len() as u64);
    r.feed.observe(Arc::new(samples)).await;
    StatusCode::NO_CONTENT
}

/// The URL other nodes reach this one at: the configured one, else `http://` and the bound
/// address, or this host's name when bound to every interface.
pub fn advertised_url(configured: Option<&str>, bound: SocketAddr) -> String {
    if let Some(u) = configured {
        return u.trim_end_matches('/').to_string();
    }
    if bound.ip().is_unspecified() {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        return format!("http://{host}:{}", bound.port());
    }
    format!("http://{bound}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_whole() {
        assert!(same_key(b"abc", b"abc"));
        assert!(!same_key(b"abd", b"abc"));
        assert!(!same_key(b"ab", b"abc"));
        assert!(!same_key(b"", b"abc"));
    }

    #[test]
    fn the_advertised_url_defaults_to_the_bound_address() {
        let bound: SocketAddr = "127.0.0.1:8070"
            .parse()
            .unwrap_or(SocketAddr::from(([0; 4], 0)));
        assert_eq!(advertised_url(None, bound), "http://127.0.0.1:8070");
        assert_eq!(
            advertised_url(Some("http://node-1:8070/"), bound),
            "http://node-1:8070"
        );
        let any: SocketAddr = "0.0.0.0:8070".parse().unwrap_or(bound);
        assert!(advertised_url(None, any).ends_with(":8070"));
        assert!(!advertised_url(None, any).contains("0.0.0.0"));
    }
}

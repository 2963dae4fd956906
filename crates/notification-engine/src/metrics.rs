//! The engine's figures on `/metrics` (`vigil_notification_*` under the server's prefix):
//! attempts by outcome, final results, attempt durations, the delay from queueing to
//! delivery, and the deliveries queued.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    pub source: &'static str,
    pub r#type: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabels {
    pub source: &'static str,
    pub r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: &'static str,
}

type Histograms = Family<TypeLabels, Histogram, fn() -> Histogram>;

/// The engine's metric handles.
#[derive(Clone)]
pub struct Metrics {
    pub attempts: Family<AttemptLabels, Counter>,
    pub delivered: Family<TypeLabels, Counter>,
    pub failed: Family<TypeLabels, Counter>,
    pub dropped: Family<TypeLabels, Counter>,
    pub attempt_seconds: Histograms,
    pub delivery_delay_seconds: Histograms,
    pub queued: Family<SourceLabels, Gauge>,
}

fn attempt_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

fn delay_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 3600.0,
    ])
}

impl Metrics {
    /// Registers the figures under `notification` in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            attempts: Family::default(),
            delivered: Family::default(),
            failed: Family::default(),
            dropped: Family::default(),
            attempt_seconds: Family::new_with_constructor(attempt_buckets),
            delivery_delay_seconds: Family::new_with_constructor(delay_buckets),
            queued: Family::default(),
        };
        let sub = registry.sub_registry_with_prefix("notification");
        sub.register(
            "attempts",
            "Delivery attempts by source, receiver type and outcome (delivered, retrying, failed, dropped)",
            m.attempts.clone(),
        );
        sub.register("delivered", "Notifications delivered", m.delivered.clone());
        sub.register(
            "failed",
            "Notifications given up after the last attempt failed",
            m.failed.clone(),
        );
        sub.register(
            "dropped",
            "Notifications not sent because their type is not served or their address is refused",
            m.dropped.clone(),
        );
        sub.register(
            "attempt_duration_seconds",
            "How long one delivery attempt took",
            m.attempt_seconds.clone(),
        );
        sub.register(
            "delivery_delay_seconds",
            "Time from queueing a notification to its delivery",
            m.delivery_delay_seconds.clone(),
        );
        sub.register(
            "queued",
            "Deliveries in the outbox (due, waiting for a retry or a periodic repeat)",
            m.queued.clone(),
        );
        m
    }
}

//! The threshold engine's figures in the server's `/metrics` (`vigil_alarm_*`), read from
//! [`alarm_engine::Engine::stats`] at each scrape.

use std::sync::{Arc, atomic::AtomicU64};

use alarm_engine::Engine;
use vigil_http::telemetry::{Counter, Gauge, Telemetry, count_up_to};

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

/// Registers the engine's figures and refreshes them before each scrape.
pub fn register(telemetry: &mut Telemetry, engine: Arc<Engine>) {
    let definitions = Gauge::<i64>::default();
    let alarms = prometheus_client::metrics::family::Family::<StateLabel, Gauge>::default();
    let transitions = Counter::<u64>::default();
    let evaluations = Counter::<u64>::default();
    let last = Gauge::<f64, AtomicU64>::default();
    let lag = Gauge::<f64, AtomicU64>::default();
    let sub = telemetry.registry_mut().sub_registry_with_prefix("alarm");
    sub.register(
        "definitions",
        "Alarm definitions the threshold engine evaluates",
        definitions.clone(),
    );
    sub.register("alarms", "Alarms by state", alarms.clone());
    sub.register(
        "transitions",
        "Alarm state transitions written",
        transitions.clone(),
    );
    sub.register(
        "evaluations",
        "Evaluations of every alarm on the clock",
        evaluations.clone(),
    );
    sub.register(
        "last_evaluation_seconds",
        "How long the last evaluation on the clock took",
        last.clone(),
    );
    sub.register(
        "evaluation_lag_seconds",
        "Time since the last evaluation on the clock finished (grows when evaluation falls behind)",
        lag.clone(),
    );
    telemetry.before_scrape(move || {
        let s = engine.stats();
        definitions.set(i64::try_from(s.definitions).unwrap_or(i64::MAX));
        for (state, n) in [
            ("OK", s.alarms_ok),
            ("ALARM", s.alarms_alarm),
            ("UNDETERMINED", s.alarms_undetermined),
        ] {
            alarms
                .get_or_create(&StateLabel { state })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        count_up_to(&transitions, s.transitions);
        count_up_to(&evaluations, s.ticks);
        last.set(s.last_tick_seconds);
        lag.set(s.evaluation_lag_seconds);
    });
}

//! `[promql]` of the server's config file: the engine's limits.

use std::time::Duration;

use promql_engine::EngineOptions;
use serde::Deserialize;

/// `[promql]`; unset fields keep [`EngineOptions`]'s defaults (Prometheus's: 5 m lookback,
/// 50 million samples, 2 min timeout).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromqlFileConfig {
    /// How far back an instant selector looks for a point, seconds.
    pub lookback_delta_s: Option<u64>,
    /// The most points one query may read.
    pub max_samples: Option<usize>,
    /// How long one query may run, seconds.
    pub timeout_s: Option<u64>,
}

impl PromqlFileConfig {
    /// The engine options this section asks for.
    pub fn options(&self) -> EngineOptions {
        let d = EngineOptions::default();
        EngineOptions {
            lookback_delta: self
                .lookback_delta_s
                .map_or(d.lookback_delta, Duration::from_secs),
            max_samples: self.max_samples.unwrap_or(d.max_samples),
            timeout: self.timeout_s.map_or(d.timeout, Duration::from_secs),
            ..d
        }
    }
}

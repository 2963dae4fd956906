//! What the engine reports about itself for the server's `/metrics`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::{AlarmState, Engine};

/// Running totals kept as the engine works (atomics: read without the state lock).
#[derive(Default)]
pub(crate) struct Counters {
    pub transitions: AtomicU64,
    pub ticks: AtomicU64,
    /// Clock time at which the last evaluation on the clock finished, epoch ms (0: none yet).
    pub last_tick_at_ms: AtomicI64,
    pub last_tick_micros: AtomicU64,
}

/// A snapshot of the engine's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineStats {
    /// Alarm definitions the engine evaluates.
    pub definitions: usize,
    /// Alarms in OK, ALARM and UNDETERMINED.
    pub alarms_ok: usize,
    pub alarms_alarm: usize,
    pub alarms_undetermined: usize,
    /// State transitions written since start.
    pub transitions: u64,
    /// Evaluations on the clock since start.
    pub ticks: u64,
    /// How long the last evaluation on the clock took, seconds.
    pub last_tick_seconds: f64,
    /// How long ago the last evaluation on the clock finished, seconds: it grows past the
    /// tick interval when evaluation falls behind (0 before the first).
    pub evaluation_lag_seconds: f64,
}

impl Engine {
    /// The engine's figures now.
    pub fn stats(&self) -> EngineStats {
        let c = &self.counters;
        let last_at = c.last_tick_at_ms.load(Ordering::Relaxed);
        let mut s = EngineStats {
            transitions: c.transitions.load(Ordering::Relaxed),
            ticks: c.ticks.load(Ordering::Relaxed),
            last_tick_seconds: c.last_tick_micros.load(Ordering::Relaxed) as f64 / 1e6,
            evaluation_lag_seconds: if last_at == 0 {
                0.0
            } else {
                (self.now_ms() - last_at).max(0) as f64 / 1000.0
            },
            ..EngineStats::default()
        };
        let st = self.lock();
        s.definitions = st.defs.len();
        for a in st.alarms.values() {
            match a.state {
                AlarmState::Ok => s.alarms_ok += 1,
                AlarmState::Alarm => s.alarms_alarm += 1,
                _ => s.alarms_undetermined += 1,
            }
        }
        s
    }
}

//! The threshold engine lives in the `alarm-engine` crate; this is what the alarms API still
//! reaches through this path until it moves to its own crate.

pub use alarm_engine::AlarmState;
use config_repo::monasca::threshold::HistoryEntry;
use monasca::types::{AlarmMetric, SubAlarmRecord};

/// Appends one state-history entry inside the caller's transaction.
///
/// # Errors
/// Storage fails.
#[allow(clippy::too_many_arguments)]
pub fn insert_history(
    c: &rusqlite::Connection,
    tenant: &str,
    alarm_id: &str,
    ts: i64,
    metrics: &[AlarmMetric],
    old: AlarmState,
    new: AlarmState,
    reason: &str,
    subs: &[SubAlarmRecord],
) -> rusqlite::Result<()> {
    config_repo::sqlite::threshold::append_history(
        c,
        &HistoryEntry {
            tenant,
            alarm_id,
            time_ms: ts,
            metrics,
            old_state: old,
            new_state: new,
            reason,
            sub_alarms: subs,
        },
    )
}

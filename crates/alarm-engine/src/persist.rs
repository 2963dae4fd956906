//! What the engine writes: sub-alarm states when they change, and on a transition the alarm's
//! state, its sub-alarms and a state-history entry.

use config_repo::{
    RepoResult,
    monasca::threshold::{HistoryEntry, ThresholdWrites},
};

use crate::{Transition, state::SubRt};

/// Saves every sub-alarm of the alarm.
pub(crate) fn save_subs(w: &dyn ThresholdWrites, alarm_id: &str, subs: &[SubRt]) -> RepoResult<()> {
    for (i, s) in subs.iter().enumerate() {
        w.save_sub_alarm(alarm_id, i, &s.current)?;
    }
    Ok(())
}

/// Records transition `t`: the alarm's new state, its sub-alarms, and the history entry.
pub(crate) fn transition(
    w: &dyn ThresholdWrites,
    t: &Transition,
    subs: &[SubRt],
) -> RepoResult<()> {
    w.set_alarm_state(&t.alarm_id, t.new_state, t.timestamp_ms)?;
    save_subs(w, &t.alarm_id, subs)?;
    w.append_history(&HistoryEntry {
        tenant: &t.tenant,
        alarm_id: &t.alarm_id,
        time_ms: t.timestamp_ms,
        metrics: &t.metrics,
        old_state: t.old_state,
        new_state: t.new_state,
        reason: &t.reason,
        sub_alarms: &t.sub_alarms,
    })?;
    if t.actions_enabled && !t.actions.is_empty() {
        w.enqueue_notifications(&t.actions, &t.event(), t.timestamp_ms)?;
    }
    Ok(())
}

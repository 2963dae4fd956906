//! Evaluation: each sub-alarm's window gives a verdict, the definition's expression combines
//! them, and a changed alarm state becomes a [`Transition`] with monasca-thresh's reason text.

use alarm_expr::SubExpr;
use config_repo::monasca::threshold::ThresholdWrites;
use monasca::types::{AlarmMetric, SubAlarmExpression, SubAlarmRecord};

use crate::{
    AlarmState, Engine, Transition, persist,
    state::{DefRt, State, SubRt},
    text,
};

impl DefRt {
    /// The alarm state the sub-alarm states give: UNDETERMINED while any is, else the
    /// expression's verdict on which sub-alarms are in ALARM.
    pub(crate) fn combine(&self, subs: &[SubRt]) -> AlarmState {
        if subs
            .iter()
            .any(|s| s.current.state == AlarmState::Undetermined)
        {
            return AlarmState::Undetermined;
        }
        let mut i = 0;
        // Sub-expressions are numbered left to right, the order `evaluate` visits them.
        let alarm = self.expr.evaluate(&mut |_| {
            let holds = subs
                .get(i)
                .is_some_and(|s| s.current.state == AlarmState::Alarm);
            i += 1;
            holds
        });
        if alarm {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    }
}

impl Engine {
    /// Evaluates alarm `idx` at `now` (epoch seconds); writes and returns its transition, if
    /// any.
    pub(crate) fn evaluate(
        &self,
        w: &dyn ThresholdWrites,
        st: &mut State,
        idx: usize,
        now: i64,
    ) -> Option<Transition> {
        let (alarm_id, a) = st.alarms.entry_mut(idx)?;
        // A definition being taken over waits for its windows.
        if st.filling.contains_key(&a.def_id) {
            return None;
        }
        let def = st.defs.get(&a.def_id)?;
        let mut subs_changed = false;
        let mut any_verdict = false;
        for rt in &mut a.subs {
            let verdict = st
                .windows
                .get_mut(rt.window)
                .and_then(|w| w.evaluate(now, self.cfg.delay_s));
            if let Some(v) = verdict {
                any_verdict = true;
                if v.state != rt.current.state || v.values != rt.current.values {
                    subs_changed |= v.state != rt.current.state;
                    rt.current.state = v.state;
                    rt.current.values = v.values;
                }
            }
        }
        // The alarm is judged again only when the data says something new, or says anything
        // at all after the API set its state.
        if !(subs_changed || (a.resend && any_verdict)) {
            return None;
        }
        a.resend = false;
        let new_state = def.combine(&a.subs);
        // With shared evaluation, a definition whose lease lapsed is another node's to write
        // (asked only when there is something to write: the check locks the lease row).
        if new_state == a.state {
            if subs_changed
                && w.holds(&a.def_id)
                && let Err(e) = persist::save_subs(w, alarm_id, &a.subs)
            {
                tracing::error!(error = %e, "cannot save sub-alarm states");
            }
            return None;
        }
        if !w.holds(&a.def_id) {
            return None;
        }
        let old = a.state;
        a.state = new_state;
        let actions = match new_state {
            AlarmState::Alarm => def.def.alarm_actions.clone(),
            AlarmState::Ok => def.def.ok_actions.clone(),
            AlarmState::Undetermined => def.def.undetermined_actions.clone(),
        };
        let transition = Transition {
            tenant: a.tenant.clone(),
            alarm_id: alarm_id.to_string(),
            definition_id: a.def_id.clone(),
            definition_name: def.def.name.clone(),
            description: def.def.description.clone(),
            severity: def.def.severity.clone(),
            actions_enabled: def.def.actions_enabled,
            actions,
            old_state: old,
            new_state,
            reason: reason(def, &a.subs, new_state),
            timestamp_ms: self.clock.now_ms(),
            metrics: a
                .metrics
                .iter()
                .map(|(name, dims)| AlarmMetric {
                    name: name.clone(),
                    dimensions: dims.clone(),
                })
                .collect(),
            sub_alarms: def
                .subs
                .iter()
                .zip(&a.subs)
                .map(|(s, rt)| sub_record(s, rt))
                .collect(),
            link: a.link.clone(),
            lifecycle_state: a.lifecycle_state.clone(),
        };
        if let Err(e) = persist::transition(w, &transition, &a.subs) {
            tracing::error!(error = %e, alarm = alarm_id, "cannot record a state transition");
        }
        tracing::info!(
            alarm = alarm_id,
            from = old.as_str(),
            to = new_state.as_str(),
            "alarm transition"
        );
        Some(transition)
    }
}

/// monasca-thresh's reason: the sub-alarms in the new state, with the values that put them
/// there.
fn reason(def: &DefRt, subs: &[SubRt], state: AlarmState) -> String {
    let parts: Vec<String> = def
        .subs
        .iter()
        .zip(subs)
        .filter(|(_, rt)| rt.current.state == state)
        .map(|(s, rt)| {
            let e = text::sub_expression(s);
            match state {
                AlarmState::Undetermined => e,
                _ => format!("{e} with the values: {}", text::values(&rt.current.values)),
            }
        })
        .collect();
    let list = parts.join(", ");
    match state {
        AlarmState::Alarm => format!("Thresholds were exceeded for the sub-alarms: {list}"),
        AlarmState::Ok => {
            format!("The alarm threshold(s) have not been exceeded for the sub-alarms: {list}")
        }
        AlarmState::Undetermined => format!("No data was present for the sub-alarms: {list}"),
    }
}

fn sub_record(s: &SubExpr, rt: &SubRt) -> SubAlarmRecord {
    SubAlarmRecord {
        sub_alarm_expression: SubAlarmExpression {
            function: s.function.as_upper().to_string(),
            operator: s.operator.normalized().to_string(),
            threshold: s.threshold,
            period: s.period,
            periods: s.periods,
            deterministic: s.deterministic,
            metric_name: s.metric_name.clone(),
            dimensions: s.dimensions.iter().cloned().collect(),
        },
        sub_alarm_state: rt.current.state.as_str().to_string(),
        current_values: rt.current.values.clone(),
    }
}

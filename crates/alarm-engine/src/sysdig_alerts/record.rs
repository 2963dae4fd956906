//! Alert states per segment and the notifications their changes record.
//!
//! The states of alert `id` are one JSON object in the repository's key-value table, under
//! `alert_state:{id}:segments`: segment → `{"state": "ACTIVE"}` or `{"state": "PENDING",
//! "since": <ms>}` (a PromQL series returned for less than the alert's duration). A segment not
//! listed is OK. Before the first write, the unsegmented state of older versions
//! (`alert_state:{id}` = `ACTIVE`|`OK`) is read as segment `""`.
//!
//! A change is written in one transaction with the notifications it records, which queue their
//! deliveries in the same write (`config_repo::sysdig::notifications::record`).

use std::collections::BTreeMap;

use config_repo::{
    RepoResult,
    sysdig::{SysdigRepo, SysdigTx, TeamObject, kinds, notifications},
};
use serde_json::{Map, Value, json};

pub(super) const ACTIVE: &str = "ACTIVE";
pub(super) const OK: &str = "OK";
const PENDING: &str = "PENDING";

/// A segment's state other than OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SegmentState {
    Active,
    /// Firing since `since_ms`, not yet for the alert's whole duration.
    Pending {
        since_ms: i64,
    },
}

/// Segment → state; absent segments are OK.
pub(super) type States = BTreeMap<String, SegmentState>;

fn states_key(alert: i64) -> String {
    format!("alert_state:{alert}:segments")
}

fn legacy_key(alert: i64) -> String {
    format!("alert_state:{alert}")
}

/// The states of alert `alert`.
///
/// # Errors
/// The repository fails.
pub(super) fn read(c: &dyn SysdigTx, alert: i64) -> RepoResult<States> {
    if let Some(text) = c.meta_get(&states_key(alert))? {
        return Ok(decode(&text));
    }
    let mut states = States::new();
    if c.meta_get(&legacy_key(alert))?.as_deref() == Some(ACTIVE) {
        states.insert(String::new(), SegmentState::Active);
    }
    Ok(states)
}

fn decode(text: &str) -> States {
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) else {
        tracing::warn!("sysdig alert evaluation: unreadable segment states, starting over");
        return States::new();
    };
    m.into_iter()
        .filter_map(|(segment, v)| {
            let state = match v.get("state").and_then(Value::as_str)? {
                ACTIVE => SegmentState::Active,
                PENDING => SegmentState::Pending {
                    since_ms: v.get("since").and_then(Value::as_i64)?,
                },
                _ => return None,
            };
            Some((segment, state))
        })
        .collect()
}

fn encode(states: &States) -> String {
    let m: Map<String, Value> = states
        .iter()
        .map(|(segment, s)| {
            let v = match s {
                SegmentState::Active => json!({"state": ACTIVE}),
                SegmentState::Pending { since_ms } => json!({"state": PENDING, "since": since_ms}),
            };
            (segment.clone(), v)
        })
        .collect();
    Value::Object(m).to_string()
}

/// What one evaluation saw of a segment.
#[derive(Debug)]
pub(super) struct Observation {
    pub segment: String,
    pub firing: bool,
    /// The notification's `entities` should the segment change state.
    pub entities: Value,
}

/// What becomes of a segment an evaluation did not observe.
#[derive(Debug)]
pub(super) enum Unseen {
    /// Resolved (PromQL: a series no longer returned).
    Resolve,
    /// Left as it is (MANUAL: no data keeps the state), unless it is not a segment of these
    /// labels (none: the alert's one segment `""`): the alert's segmentation changed since,
    /// and it is resolved.
    Keep { labels: Vec<String> },
}

impl Unseen {
    fn resolves(&self, segment: &str) -> bool {
        match self {
            Self::Resolve => true,
            Self::Keep { labels } => !super::segments::is_segment_of(segment, labels),
        }
    }
}

/// What one evaluation of an alert saw.
#[derive(Debug)]
pub(super) struct Round {
    /// The segments with data (MANUAL) or returned by the query (PromQL).
    pub observations: Vec<Observation>,
    /// What becomes of a segment not observed.
    pub unseen: Unseen,
    /// How long a segment must fire before it is ACTIVE (0: at once).
    pub hold_ms: i64,
}

/// The notifications (state, entities) to record and the states after them.
#[derive(Debug, PartialEq)]
pub(super) struct Plan {
    pub notifications: Vec<(&'static str, Value)>,
    pub states: States,
}

/// The changes `round` makes to `before` at `now_ms`; `None` when nothing changes.
pub(super) fn plan(before: &States, round: Round, now_ms: i64) -> Option<Plan> {
    let mut states = before.clone();
    let mut notifications = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for o in round.observations {
        seen.insert(o.segment.clone());
        let was = before.get(&o.segment).copied();
        match (o.firing, was) {
            (true, Some(SegmentState::Active)) | (false, None) => {}
            (true, pending) => {
                let since_ms = match pending {
                    Some(SegmentState::Pending { since_ms }) => since_ms,
                    _ => now_ms,
                };
                if now_ms.saturating_sub(since_ms) >= round.hold_ms {
                    states.insert(o.segment, SegmentState::Active);
                    notifications.push((ACTIVE, o.entities));
                } else {
                    states.insert(o.segment, SegmentState::Pending { since_ms });
                }
            }
            (false, Some(SegmentState::Active)) => {
                states.remove(&o.segment);
                notifications.push((OK, o.entities));
            }
            (false, Some(SegmentState::Pending { .. })) => {
                states.remove(&o.segment);
            }
        }
    }
    for (segment, was) in before {
        if !seen.contains(segment) && round.unseen.resolves(segment) {
            states.remove(segment);
            if *was == SegmentState::Active {
                let entities = if segment.is_empty() {
                    json!([])
                } else {
                    json!([{"entity": segment, "metricValues": []}])
                };
                notifications.push((OK, entities));
            }
        }
    }
    (states != *before).then_some(Plan {
        notifications,
        states,
    })
}

/// Records `plan`'s notifications of `alert` (unless it was deleted since it was read) and
/// writes its states; how many notifications were recorded. Nothing is written when the
/// stored states are no longer `before`, those the plan was made from: another node sharing
/// the database recorded this round already (its units of work and ours run one at a time),
/// so each notification is recorded once across nodes.
///
/// # Errors
/// The repository fails.
pub(super) async fn apply(
    repo: &dyn SysdigRepo,
    alert: TeamObject,
    before: States,
    plan: Plan,
    now_ms: i64,
) -> RepoResult<usize> {
    repo.tx(move |c| {
        let Some(current) = c.obj_get(kinds::ALERT, alert.team_id, alert.id)? else {
            return Ok(0);
        };
        if read(c, alert.id)? != before {
            return Ok(0);
        }
        let recorded = plan.notifications.len();
        for (state, entities) in plan.notifications {
            notifications::record(
                c,
                alert.team_id,
                &current,
                state,
                now_ms.saturating_mul(1000),
                entities,
            )?;
        }
        c.meta_set(&states_key(alert.id), &encode(&plan.states))?;
        Ok(recorded)
    })
    .await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn seen(segment: &str, firing: bool) -> Observation {
        Observation {
            segment: segment.into(),
            firing,
            entities: json!([{"entity": segment}]),
        }
    }

    fn states(of: &[(&str, SegmentState)]) -> States {
        of.iter().map(|(s, st)| (s.to_string(), *st)).collect()
    }

    #[test]
    fn segments_fire_and_resolve_on_their_own() {
        let before = states(&[("host = 'a'", SegmentState::Active)]);
        let keep = || Unseen::Keep {
            labels: vec!["host".into()],
        };
        let round = Round {
            observations: vec![
                seen("host = 'a'", true),
                seen("host = 'b'", true),
                seen("host = 'c'", false),
            ],
            unseen: keep(),
            hold_ms: 0,
        };
        let p = plan(&before, round, 10).unwrap();
        assert_eq!(
            p.notifications,
            [(ACTIVE, json!([{"entity": "host = 'b'"}]))]
        );
        assert_eq!(
            p.states,
            states(&[
                ("host = 'a'", SegmentState::Active),
                ("host = 'b'", SegmentState::Active)
            ])
        );
        // MANUAL: a segment without data keeps its state; nothing changes, nothing to write.
        let round = Round {
            observations: vec![seen("host = 'b'", true)],
            unseen: keep(),
            hold_ms: 0,
        };
        assert_eq!(plan(&p.states, round, 20), None);
        let round = Round {
            observations: vec![seen("host = 'a'", false)],
            unseen: keep(),
            hold_ms: 0,
        };
        let p = plan(&p.states, round, 30).unwrap();
        assert_eq!(p.notifications, [(OK, json!([{"entity": "host = 'a'"}]))]);
        assert_eq!(p.states, states(&[("host = 'b'", SegmentState::Active)]));
        // Segmented by another label since: `host = 'b'` can no longer be told; resolved.
        let round = Round {
            observations: vec![],
            unseen: Unseen::Keep {
                labels: vec!["zone".into()],
            },
            hold_ms: 0,
        };
        let p = plan(&p.states, round, 40).unwrap();
        assert_eq!(
            p.notifications,
            [(OK, json!([{"entity": "host = 'b'", "metricValues": []}]))]
        );
        assert!(p.states.is_empty());
    }

    #[test]
    fn promql_series_wait_for_the_duration_and_resolve_when_gone() {
        let round = |segments: &[&str]| Round {
            observations: segments.iter().map(|s| seen(s, true)).collect(),
            unseen: Unseen::Resolve,
            hold_ms: 100,
        };
        let p = plan(&States::new(), round(&["a"]), 1000).unwrap();
        assert!(p.notifications.is_empty());
        assert_eq!(
            p.states,
            states(&[("a", SegmentState::Pending { since_ms: 1000 })])
        );
        assert_eq!(plan(&p.states, round(&["a"]), 1099), None);
        let p = plan(&p.states, round(&["a", "b"]), 1100).unwrap();
        assert_eq!(p.notifications, [(ACTIVE, json!([{"entity": "a"}]))]);
        // `a` is gone: resolved; `b`, pending, is forgotten.
        let p = plan(&p.states, round(&[]), 1200).unwrap();
        assert_eq!(
            p.notifications,
            [(OK, json!([{"entity": "a", "metricValues": []}]))]
        );
        assert!(p.states.is_empty());
    }

    #[test]
    fn states_round_trip() {
        let s = states(&[
            ("", SegmentState::Active),
            (
                "host.hostName = 'h1'",
                SegmentState::Pending { since_ms: 5 },
            ),
        ]);
        assert_eq!(decode(&encode(&s)), s);
        assert!(decode("not json").is_empty());
    }
}

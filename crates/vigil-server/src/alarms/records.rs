//! Alarms and their history as stored, for the API.

use std::collections::BTreeMap;

use monasca::types::{AlarmMetric, AlarmState, Severity, StateHistoryEntry, SubAlarmRecord};
use rusqlite::{Connection, params};

/// An alarm with what the API shows of its definition.
#[derive(Clone, Debug)]
pub struct AlarmRow {
    pub id: String,
    pub definition_id: String,
    pub definition_name: String,
    pub severity: Severity,
    pub state: AlarmState,
    pub lifecycle_state: Option<String>,
    pub link: Option<String>,
    pub created_at: i64,
    pub state_updated_at: i64,
    pub updated_at: i64,
    pub metrics: Vec<AlarmMetric>,
}

/// Which of a tenant's alarms to read.
#[derive(Clone, Copy, Debug)]
pub enum Which<'a> {
    All,
    Id(&'a str),
    /// The alarms of one definition (read through its index rather than filtered after).
    Definition(&'a str),
}

impl<'a> Which<'a> {
    /// The condition on `alarm a` beyond the tenant (`?1`), with its value as `?2`.
    fn condition(self) -> (&'static str, Option<&'a str>) {
        match self {
            Which::All => ("?2 IS NULL", None),
            Which::Id(id) => ("a.id = ?2", Some(id)),
            Which::Definition(d) => ("a.alarm_definition_id = ?2", Some(d)),
        }
    }
}

/// The tenant's alarms that `which` selects, metrics included.
pub fn alarms(
    conn: &Connection,
    tenant: &str,
    which: Which<'_>,
) -> rusqlite::Result<Vec<AlarmRow>> {
    let (cond, value) = which.condition();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT a.id, a.alarm_definition_id, d.name, d.severity, a.state, a.lifecycle_state, a.link, \
         a.created_at, a.state_updated_at, a.updated_at \
         FROM alarm a JOIN alarm_definition d ON d.id = a.alarm_definition_id \
         WHERE a.tenant_id = ?1 AND {cond} ORDER BY a.id"
    ))?;
    let mut rows = stmt
        .query_map(params![tenant, value], |r| {
            Ok(AlarmRow {
                id: r.get(0)?,
                definition_id: r.get(1)?,
                definition_name: r.get(2)?,
                severity: r.get::<_, String>(3)?.into(),
                state: r.get::<_, String>(4)?.into(),
                lifecycle_state: r.get(5)?,
                link: r.get(6)?,
                created_at: r.get(7)?,
                state_updated_at: r.get(8)?,
                updated_at: r.get(9)?,
                metrics: Vec::new(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // Every alarm's metrics in one statement, in alarm id order like the alarms themselves,
    // so the two lists are walked together (one query per alarm took most of a list of 10,000).
    let mut ms = conn.prepare_cached(&format!(
        "SELECT m.alarm_id, m.name, m.dimensions FROM alarm_metric m \
         JOIN alarm a ON a.id = m.alarm_id \
         WHERE a.tenant_id = ?1 AND {cond} \
         ORDER BY m.alarm_id, m.name, m.dimensions"
    ))?;
    let mut metrics = ms.query_map(params![tenant, value], |r| {
        let dims: String = r.get(2)?;
        Ok((
            r.get::<_, String>(0)?,
            AlarmMetric {
                name: r.get(1)?,
                dimensions: serde_json::from_str::<BTreeMap<String, String>>(&dims)
                    .unwrap_or_default(),
            },
        ))
    })?;
    let mut next = metrics.next().transpose()?;
    for a in &mut rows {
        while let Some((alarm_id, m)) = next.take() {
            if alarm_id > a.id {
                next = Some((alarm_id, m));
                break;
            }
            if alarm_id == a.id {
                a.metrics.push(m);
            }
            next = metrics.next().transpose()?;
        }
    }
    Ok(rows)
}

/// A stored history entry with its position, for paging.
pub struct HistoryRow {
    pub seq: i64,
    pub entry: StateHistoryEntry,
}

/// History of the given alarms in time order, after `(time_ms, seq)` and within `[start, end]`.
pub fn history(
    conn: &Connection,
    tenant: &str,
    alarm_ids: &[String],
    start: Option<i64>,
    end: Option<i64>,
    after: Option<(i64, i64)>,
    limit: usize,
) -> rusqlite::Result<Vec<HistoryRow>> {
    if alarm_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..alarm_ids.len())
        .map(|i| format!("?{}", i + 7))
        .collect();
    let sql = format!(
        "SELECT seq, alarm_id, time_ms, metrics, old_state, new_state, reason, reason_data, sub_alarms \
         FROM alarm_state_history WHERE tenant_id = ?1 \
         AND time_ms >= ?2 AND time_ms <= ?3 AND (time_ms > ?4 OR (time_ms = ?4 AND seq > ?5)) \
         AND alarm_id IN ({}) ORDER BY time_ms, seq LIMIT ?6",
        marks.join(", ")
    );
    let (after_t, after_s) = after.unwrap_or((i64::MIN, i64::MIN));
    let mut args: Vec<rusqlite::types::Value> = vec![
        tenant.to_string().into(),
        start.unwrap_or(i64::MIN).into(),
        end.unwrap_or(i64::MAX).into(),
        after_t.into(),
        after_s.into(),
        (limit.min(i64::MAX as usize) as i64).into(),
    ];
    args.extend(
        alarm_ids
            .iter()
            .map(|a| rusqlite::types::Value::from(a.clone())),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            let time_ms: i64 = r.get(2)?;
            let metrics: String = r.get(3)?;
            let subs: String = r.get(8)?;
            Ok(HistoryRow {
                seq: r.get(0)?,
                entry: StateHistoryEntry {
                    timestamp: monasca::time::format_millis(time_ms),
                    alarm_id: r.get(1)?,
                    metrics: serde_json::from_str::<Vec<AlarmMetric>>(&metrics).unwrap_or_default(),
                    old_state: r.get::<_, String>(4)?.into(),
                    new_state: r.get::<_, String>(5)?.into(),
                    reason: r.get(6)?,
                    reason_data: r.get(7)?,
                    sub_alarms: serde_json::from_str::<Vec<SubAlarmRecord>>(&subs)
                        .unwrap_or_default(),
                    id: time_ms.to_string(),
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

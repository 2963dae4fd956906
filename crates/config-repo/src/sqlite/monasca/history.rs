//! `alarm_state_history` rows.

use async_trait::async_trait;
use monasca::types::{AlarmMetric, SubAlarmRecord};
use rusqlite::{Connection, params};

use super::SqliteMonasca;
use crate::{
    RepoResult,
    monasca::{HistoryQuery, HistoryRecord, NewHistoryEntry, StateHistoryRepo, rows},
};

/// Appends one state-history entry written by the API.
///
/// # Errors
/// The database fails.
pub(crate) fn insert_history(conn: &Connection, e: &NewHistoryEntry) -> RepoResult<()> {
    Ok(history_row(
        conn,
        HistoryRow {
            tenant: &e.tenant,
            alarm_id: &e.alarm_id,
            time_ms: e.time_ms,
            metrics: &e.metrics,
            old_state: e.old_state.as_str(),
            new_state: e.new_state.as_str(),
            reason: &e.reason,
            sub_alarms: &e.sub_alarms,
        },
    )?)
}

/// One `alarm_state_history` row, from the API or the threshold engine.
pub(crate) struct HistoryRow<'a> {
    pub tenant: &'a str,
    pub alarm_id: &'a str,
    pub time_ms: i64,
    pub metrics: &'a [AlarmMetric],
    pub old_state: &'a str,
    pub new_state: &'a str,
    pub reason: &'a str,
    pub sub_alarms: &'a [SubAlarmRecord],
}

/// Writes `row` (`reason_data` is always `{}`, as upstream writes it).
pub(crate) fn history_row(conn: &Connection, row: HistoryRow<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO alarm_state_history (tenant_id, alarm_id, time_ms, metrics, old_state, new_state, reason, reason_data, sub_alarms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '{}', ?8)",
        params![
            row.tenant,
            row.alarm_id,
            row.time_ms,
            rows::json_list(row.metrics),
            row.old_state,
            row.new_state,
            row.reason,
            rows::json_list(row.sub_alarms),
        ],
    )?;
    Ok(())
}

/// History of the given alarms in time order, after `(time_ms, seq)` and within `[start, end]`.
fn select(conn: &Connection, q: &HistoryQuery) -> RepoResult<Vec<HistoryRecord>> {
    if q.alarm_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..q.alarm_ids.len())
        .map(|i| format!("?{}", i + 7))
        .collect();
    let sql = format!(
        "SELECT seq, alarm_id, time_ms, metrics, old_state, new_state, reason, reason_data, sub_alarms \
         FROM alarm_state_history WHERE tenant_id = ?1 \
         AND time_ms >= ?2 AND time_ms <= ?3 AND (time_ms > ?4 OR (time_ms = ?4 AND seq > ?5)) \
         AND alarm_id IN ({}) ORDER BY time_ms, seq LIMIT ?6",
        marks.join(", ")
    );
    let (after_t, after_s) = q.after.unwrap_or((i64::MIN, i64::MIN));
    let mut args: Vec<rusqlite::types::Value> = vec![
        q.tenant.clone().into(),
        q.start.unwrap_or(i64::MIN).into(),
        q.end.unwrap_or(i64::MAX).into(),
        after_t.into(),
        after_s.into(),
        i64::try_from(q.limit).unwrap_or(i64::MAX).into(),
    ];
    args.extend(
        q.alarm_ids
            .iter()
            .map(|a| rusqlite::types::Value::from(a.clone())),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), |r| {
            let metrics: String = r.get(3)?;
            let subs: String = r.get(8)?;
            Ok(HistoryRecord {
                seq: r.get(0)?,
                alarm_id: r.get(1)?,
                time_ms: r.get(2)?,
                metrics: serde_json::from_str::<Vec<AlarmMetric>>(&metrics).unwrap_or_default(),
                old_state: r.get::<_, String>(4)?.into(),
                new_state: r.get::<_, String>(5)?.into(),
                reason: r.get(6)?,
                reason_data: r.get(7)?,
                sub_alarms: serde_json::from_str::<Vec<SubAlarmRecord>>(&subs).unwrap_or_default(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[async_trait]
impl StateHistoryRepo for SqliteMonasca {
    async fn append(&self, entry: NewHistoryEntry) -> RepoResult<()> {
        self.db.call(move |conn| insert_history(conn, &entry)).await
    }

    async fn list(&self, query: HistoryQuery) -> RepoResult<Vec<HistoryRecord>> {
        self.db.call(move |conn| select(conn, &query)).await
    }
}

//! `alarm_state_history` rows.

use async_trait::async_trait;
use config_repo::{
    RepoResult,
    monasca::{HistoryQuery, HistoryRecord, NewHistoryEntry, StateHistoryRepo, rows},
};
use monasca::types::{AlarmMetric, SubAlarmRecord};
use postgres::GenericClient;

use super::PgMonasca;
use crate::{PgResultExt, error::col};

/// Appends one state-history entry written by the API.
pub(super) fn insert_history(c: &mut impl GenericClient, e: &NewHistoryEntry) -> RepoResult<()> {
    history_row(
        c,
        INSERT_HISTORY,
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
    )
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

/// The statement [`history_row`] runs (`reason_data` is always `{}`, as upstream writes it).
pub(crate) const INSERT_HISTORY: &str = "INSERT INTO alarm_state_history (tenant_id, alarm_id, \
     time_ms, metrics, old_state, new_state, reason, reason_data, sub_alarms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8)";

/// Writes `row` with `statement`: [`INSERT_HISTORY`], or the same prepared once for a batch.
pub(crate) fn history_row<S>(
    c: &mut impl GenericClient,
    statement: &S,
    row: HistoryRow<'_>,
) -> RepoResult<()>
where
    S: ?Sized + postgres::ToStatement,
{
    c.execute(
        statement,
        &[
            &row.tenant,
            &row.alarm_id,
            &row.time_ms,
            &rows::json_list(row.metrics),
            &row.old_state,
            &row.new_state,
            &row.reason,
            &rows::json_list(row.sub_alarms),
        ],
    )
    .pg()?;
    Ok(())
}

/// History of the given alarms in time order, after `(time_ms, seq)` and within `[start, end]`.
fn select(c: &mut impl GenericClient, q: &HistoryQuery) -> RepoResult<Vec<HistoryRecord>> {
    if q.alarm_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (after_t, after_s) = q.after.unwrap_or((i64::MIN, i64::MIN));
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    c.query(
        "SELECT seq, alarm_id, time_ms, metrics, old_state, new_state, reason, reason_data, \
         sub_alarms FROM alarm_state_history WHERE tenant_id = $1 \
         AND time_ms >= $2 AND time_ms <= $3 AND (time_ms > $4 OR (time_ms = $4 AND seq > $5)) \
         AND alarm_id = ANY($7) ORDER BY time_ms, seq LIMIT $6",
        &[
            &q.tenant,
            &q.start.unwrap_or(i64::MIN),
            &q.end.unwrap_or(i64::MAX),
            &after_t,
            &after_s,
            &limit,
            &q.alarm_ids,
        ],
    )
    .pg()?
    .iter()
    .map(|r| {
        Ok(HistoryRecord {
            seq: col(r, 0)?,
            alarm_id: col(r, 1)?,
            time_ms: col(r, 2)?,
            metrics: serde_json::from_str::<Vec<AlarmMetric>>(&col::<String>(r, 3)?)
                .unwrap_or_default(),
            old_state: col::<String>(r, 4)?.into(),
            new_state: col::<String>(r, 5)?.into(),
            reason: col(r, 6)?,
            reason_data: col(r, 7)?,
            sub_alarms: serde_json::from_str::<Vec<SubAlarmRecord>>(&col::<String>(r, 8)?)
                .unwrap_or_default(),
        })
    })
    .collect()
}

#[async_trait]
impl StateHistoryRepo for PgMonasca {
    async fn append(&self, entry: NewHistoryEntry) -> RepoResult<()> {
        self.call(move |c| insert_history(c, &entry)).await
    }

    async fn list(&self, query: HistoryQuery) -> RepoResult<Vec<HistoryRecord>> {
        self.call(move |c| select(c, &query)).await
    }
}

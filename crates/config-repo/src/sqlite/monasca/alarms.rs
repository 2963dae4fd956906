//! `alarm` rows with their `alarm_metric`s, as the API reads and changes them.

use async_trait::async_trait;
use monasca::types::AlarmMetric;
use rusqlite::{Connection, params};

use super::SqliteMonasca;
use crate::{
    RepoError, RepoResult,
    monasca::{AlarmChange, AlarmFilter, AlarmRecord, AlarmRepo, NewAlarm, rows},
};

/// Which of a tenant's alarms to read.
#[derive(Clone, Copy, Debug)]
pub(super) enum Which<'a> {
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

/// The tenant's alarms that `which` selects, metrics included, by id.
pub(super) fn select(
    conn: &Connection,
    tenant: &str,
    which: Which<'_>,
) -> RepoResult<Vec<AlarmRecord>> {
    let (cond, value) = which.condition();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT a.id, a.alarm_definition_id, d.name, d.severity, a.state, a.lifecycle_state, a.link, \
         a.created_at, a.state_updated_at, a.updated_at \
         FROM alarm a JOIN alarm_definition d ON d.id = a.alarm_definition_id \
         WHERE a.tenant_id = ?1 AND {cond} ORDER BY a.id"
    ))?;
    let mut alarms = stmt
        .query_map(params![tenant, value], |r| {
            Ok(AlarmRecord {
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
    let metrics = ms.query_map(params![tenant, value], |r| {
        let dims: String = r.get(2)?;
        Ok((
            r.get::<_, String>(0)?,
            AlarmMetric {
                name: r.get(1)?,
                dimensions: rows::dimensions_from_column(&dims),
            },
        ))
    })?;
    rows::attach_metrics(&mut alarms, metrics)?;
    Ok(alarms)
}

pub(super) fn update(
    conn: &Connection,
    id: &str,
    change: &AlarmChange,
    now: i64,
) -> RepoResult<()> {
    conn.execute(
        "UPDATE alarm SET lifecycle_state = ?1, link = ?2, updated_at = ?3 WHERE id = ?4",
        params![change.lifecycle_state, change.link, now, id],
    )?;
    if let Some(state) = &change.state {
        conn.execute(
            "UPDATE alarm SET state = ?1, state_updated_at = ?2 WHERE id = ?3",
            params![state.as_str(), now, id],
        )?;
    }
    Ok(())
}

/// Inserts an alarm: `[id, definition, tenant, group key, state]`, created at `now_ms`.
pub(crate) fn alarm_row(conn: &Connection, fields: [&str; 5], now_ms: i64) -> rusqlite::Result<()> {
    let [id, definition, tenant, group, state] = fields;
    conn.prepare_cached(
        "INSERT INTO alarm (id, alarm_definition_id, tenant_id, group_key, state, created_at, state_updated_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6)",
    )?
    .execute(params![id, definition, tenant, group, state, now_ms])?;
    Ok(())
}

/// Adds a metric (its dimensions as JSON) to an alarm; one it has already is kept.
pub(crate) fn alarm_metric_row(
    conn: &Connection,
    alarm_id: &str,
    name: &str,
    dimensions_json: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO alarm_metric (alarm_id, name, dimensions) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![alarm_id, name, dimensions_json])?;
    Ok(())
}

fn not_found(id: &str) -> RepoError {
    RepoError::NotFound(format!("alarm {id}"))
}

#[async_trait]
impl AlarmRepo for SqliteMonasca {
    async fn create(&self, a: NewAlarm) -> RepoResult<()> {
        self.db
            .tx(move |tx| {
                let taken =
                    tx.query_row("SELECT 1 FROM alarm WHERE id = ?1", params![a.id], |_| {
                        Ok(())
                    });
                match taken {
                    Ok(()) => return Err(RepoError::Conflict(format!("alarm {} exists", a.id))),
                    Err(rusqlite::Error::QueryReturnedNoRows) => {}
                    Err(e) => return Err(e.into()),
                }
                let defined = tx.query_row(
                    "SELECT 1 FROM alarm_definition WHERE id = ?1",
                    params![a.definition_id],
                    |_| Ok(()),
                );
                if let Err(rusqlite::Error::QueryReturnedNoRows) = defined {
                    return Err(RepoError::NotFound(format!(
                        "alarm definition {}",
                        a.definition_id
                    )));
                }
                defined?;
                alarm_row(
                    tx,
                    [
                        &a.id,
                        &a.definition_id,
                        &a.tenant,
                        &a.group_key,
                        a.state.as_str(),
                    ],
                    a.now,
                )?;
                for m in &a.metrics {
                    alarm_metric_row(tx, &a.id, &m.name, &rows::dimensions_column(&m.dimensions))?;
                }
                Ok(())
            })
            .await
    }

    async fn list(&self, tenant: &str, filter: AlarmFilter) -> RepoResult<Vec<AlarmRecord>> {
        let tenant = tenant.to_string();
        self.db
            .call(move |conn| {
                let which = match &filter.definition_id {
                    Some(d) => Which::Definition(d),
                    None => Which::All,
                };
                let mut rows = select(conn, &tenant, which)?;
                rows.retain(|a| filter.matches(a));
                Ok(rows)
            })
            .await
    }

    async fn get(&self, tenant: &str, id: &str) -> RepoResult<AlarmRecord> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db
            .call(move |conn| {
                select(conn, &tenant, Which::Id(&id))?
                    .into_iter()
                    .next()
                    .ok_or_else(|| not_found(&id))
            })
            .await
    }

    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()> {
        super::delete_owned(&self.db, "alarm", "alarm", tenant, id).await
    }
}

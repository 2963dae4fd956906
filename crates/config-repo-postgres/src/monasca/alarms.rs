//! `alarm` rows with their `alarm_metric`s, as the API reads and changes them.

use async_trait::async_trait;
use config_repo::{
    RepoError, RepoResult,
    monasca::{AlarmChange, AlarmFilter, AlarmRecord, AlarmRepo, NewAlarm, rows},
};
use monasca::types::AlarmMetric;
use postgres::{GenericClient, error::SqlState};

use super::PgMonasca;
use crate::{PgResultExt, error::col, pg_error};

/// Which of a tenant's alarms to read.
#[derive(Clone, Copy, Debug)]
pub(super) enum Which<'a> {
    All,
    Id(&'a str),
    /// The alarms of one definition (read through its index rather than filtered after).
    Definition(&'a str),
}

impl<'a> Which<'a> {
    /// The condition on `alarm a` beyond the tenant (`$1`), with its value as `$2`.
    fn condition(self) -> (&'static str, Option<&'a str>) {
        match self {
            Which::All => ("$2::text IS NULL", None),
            Which::Id(id) => ("a.id = $2", Some(id)),
            Which::Definition(d) => ("a.alarm_definition_id = $2", Some(d)),
        }
    }
}

/// The tenant's alarms that `which` selects, metrics included, by id.
pub(super) fn select(
    c: &mut impl GenericClient,
    tenant: &str,
    which: Which<'_>,
) -> RepoResult<Vec<AlarmRecord>> {
    let (cond, value) = which.condition();
    let mut alarms = c
        .query(
            &format!(
                "SELECT a.id, a.alarm_definition_id, d.name, d.severity, a.state, \
                 a.lifecycle_state, a.link, a.created_at, a.state_updated_at, a.updated_at \
                 FROM alarm a JOIN alarm_definition d ON d.id = a.alarm_definition_id \
                 WHERE a.tenant_id = $1 AND {cond} ORDER BY a.id"
            ),
            &[&tenant, &value],
        )
        .pg()?
        .iter()
        .map(|r| {
            Ok(AlarmRecord {
                id: col(r, 0)?,
                definition_id: col(r, 1)?,
                definition_name: col(r, 2)?,
                severity: col::<String>(r, 3)?.into(),
                state: col::<String>(r, 4)?.into(),
                lifecycle_state: col(r, 5)?,
                link: col(r, 6)?,
                created_at: col(r, 7)?,
                state_updated_at: col(r, 8)?,
                updated_at: col(r, 9)?,
                metrics: Vec::new(),
            })
        })
        .collect::<RepoResult<Vec<_>>>()?;
    // Every alarm's metrics in one statement, in the alarms' (bytewise) id order.
    let metrics = c
        .query(
            &format!(
                "SELECT m.alarm_id, m.name, m.dimensions FROM alarm_metric m \
                 JOIN alarm a ON a.id = m.alarm_id WHERE a.tenant_id = $1 AND {cond} \
                 ORDER BY m.alarm_id, m.name, m.dimensions"
            ),
            &[&tenant, &value],
        )
        .pg()?;
    rows::attach_metrics(
        &mut alarms,
        metrics.iter().map(|r| {
            Ok::<_, RepoError>((
                col::<String>(r, 0)?,
                AlarmMetric {
                    name: col(r, 1)?,
                    dimensions: rows::dimensions_from_column(&col::<String>(r, 2)?),
                },
            ))
        }),
    )?;
    Ok(alarms)
}

pub(super) fn update(
    c: &mut impl GenericClient,
    id: &str,
    change: &AlarmChange,
    now: i64,
) -> RepoResult<()> {
    c.execute(
        "UPDATE alarm SET lifecycle_state = $1, link = $2, updated_at = $3 WHERE id = $4",
        &[&change.lifecycle_state, &change.link, &now, &id],
    )
    .pg()?;
    if let Some(state) = &change.state {
        c.execute(
            "UPDATE alarm SET state = $1, state_updated_at = $2 WHERE id = $3",
            &[&state.as_str(), &now, &id],
        )
        .pg()?;
    }
    Ok(())
}

/// Inserts an alarm: `[id, definition, tenant, group key, state]`, created at `now_ms`.
pub(crate) fn alarm_row(
    c: &mut impl GenericClient,
    fields: [&str; 5],
    now_ms: i64,
) -> Result<u64, postgres::Error> {
    let [id, definition, tenant, group, state] = fields;
    c.execute(
        "INSERT INTO alarm (id, alarm_definition_id, tenant_id, group_key, state, created_at, \
         state_updated_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $6)",
        &[&id, &definition, &tenant, &group, &state, &now_ms],
    )
}

/// Adds a metric (its dimensions as JSON) to an alarm; one it has already is kept.
pub(crate) fn alarm_metric_row(
    c: &mut impl GenericClient,
    alarm_id: &str,
    name: &str,
    dimensions_json: &str,
) -> RepoResult<()> {
    c.execute(
        "INSERT INTO alarm_metric (alarm_id, name, dimensions) VALUES ($1, $2, $3) \
         ON CONFLICT (alarm_id, name, md5(dimensions)) DO NOTHING",
        &[&alarm_id, &name, &dimensions_json],
    )
    .pg()?;
    Ok(())
}

#[async_trait]
impl AlarmRepo for PgMonasca {
    async fn create(&self, a: NewAlarm) -> RepoResult<()> {
        self.db
            .tx(move |tx| {
                let fields = [
                    a.id.as_str(),
                    &a.definition_id,
                    &a.tenant,
                    &a.group_key,
                    a.state.as_str(),
                ];
                match alarm_row(tx, fields, a.now) {
                    Ok(_) => {}
                    Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                        return Err(RepoError::Conflict(format!("alarm {} exists", a.id)));
                    }
                    Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
                        return Err(RepoError::NotFound(format!(
                            "alarm definition {}",
                            a.definition_id
                        )));
                    }
                    Err(e) => return Err(pg_error(&e)),
                }
                for m in &a.metrics {
                    alarm_metric_row(tx, &a.id, &m.name, &rows::dimensions_column(&m.dimensions))?;
                }
                Ok(())
            })
            .await
    }

    async fn list(&self, tenant: &str, filter: AlarmFilter) -> RepoResult<Vec<AlarmRecord>> {
        let tenant = tenant.to_string();
        self.call(move |c| {
            let which = match &filter.definition_id {
                Some(d) => Which::Definition(d),
                None => Which::All,
            };
            let mut rows = select(c, &tenant, which)?;
            rows.retain(|a| filter.matches(a));
            Ok(rows)
        })
        .await
    }

    async fn get(&self, tenant: &str, id: &str) -> RepoResult<AlarmRecord> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.call(move |c| {
            select(c, &tenant, Which::Id(&id))?
                .into_iter()
                .next()
                .ok_or_else(|| RepoError::NotFound(format!("alarm {id}")))
        })
        .await
    }

    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()> {
        super::delete_owned(self, "alarm", "alarm", tenant, id).await
    }
}

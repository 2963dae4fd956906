//! The Secure runtime events of the Sysdig repository (`sysdig_secure_events`): one row per
//! event, read by ranges of (time, seq) in either direction, as on SQLite. Units of work run
//! one at a time across nodes (the Sysdig lock), so `seq` follows commit order and a reader's
//! snapshot (`max_seq`) never misses an event committed before it.

use config_repo::{
    RepoError, RepoResult,
    sysdig::{EventRange, NewSecureEvent, SecureEvent},
};
use postgres::{Row, error::SqlState};

use super::{PgSysdigTx, doc_text, parse_doc};
use crate::{PgResultExt, pg_error};

const COLUMNS: &str = "seq, team_id, kind, id, ts_ns, doc";

fn event_row(r: &Row) -> RepoResult<SecureEvent> {
    Ok(SecureEvent {
        seq: r.try_get(0).pg()?,
        team_id: r.try_get(1).pg()?,
        kind: r.try_get(2).pg()?,
        id: r.try_get(3).pg()?,
        ts_ns: r.try_get(4).pg()?,
        doc: parse_doc(&r.try_get::<_, String>(5).pg()?)?,
    })
}

impl PgSysdigTx<'_> {
    pub(super) fn event_insert(
        &self,
        kind: &str,
        team: i64,
        e: &NewSecureEvent,
    ) -> RepoResult<SecureEvent> {
        let doc = doc_text(&e.doc);
        let mut outer = self.0.borrow_mut();
        let mut sp = outer.savepoint("event_guard").pg()?;
        let inserted = sp.query_one(
            "INSERT INTO sysdig_secure_events (team_id, kind, id, ts_ns, doc) \
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
            &[&team, &kind, &e.id, &e.ts_ns, &doc],
        );
        let seq: i64 = match inserted {
            Ok(row) => {
                sp.commit().pg()?;
                row.try_get(0).pg()?
            }
            // Dropping the savepoint rolls back to it: the unit stays usable.
            Err(err) if err.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                return Err(RepoError::Conflict(format!(
                    "an event with id '{}' already exists",
                    e.id
                )));
            }
            Err(err) => return Err(pg_error(&err)),
        };
        Ok(SecureEvent {
            seq,
            team_id: team,
            kind: kind.into(),
            id: e.id.clone(),
            ts_ns: e.ts_ns,
            doc: e.doc.clone(),
        })
    }

    pub(super) fn event_get(
        &self,
        kind: &str,
        team: i64,
        id: &str,
    ) -> RepoResult<Option<SecureEvent>> {
        self.row(
            &format!(
                "SELECT {COLUMNS} FROM sysdig_secure_events \
                 WHERE team_id = $1 AND kind = $2 AND id = $3"
            ),
            &[&team, &kind, &id],
        )?
        .as_ref()
        .map(event_row)
        .transpose()
    }

    pub(super) fn events_range(
        &self,
        kind: &str,
        team: i64,
        r: &EventRange,
    ) -> RepoResult<Vec<SecureEvent>> {
        let (clause, [from, to, max_seq, start_ts, start_seq]) = r.sql_bounds('$');
        let order = if r.older { "DESC" } else { "ASC" };
        let limit = i64::try_from(r.limit).unwrap_or(i64::MAX);
        self.rows(
            &format!(
                "SELECT {COLUMNS} FROM sysdig_secure_events \
                 WHERE team_id = $1 AND kind = $2 AND {clause} \
                 ORDER BY ts_ns {order}, seq {order} LIMIT $8"
            ),
            &[
                &team, &kind, &from, &to, &max_seq, &start_ts, &start_seq, &limit,
            ],
        )?
        .iter()
        .map(event_row)
        .collect()
    }

    pub(super) fn events_count(&self, kind: &str, team: i64, r: &EventRange) -> RepoResult<u64> {
        let (clause, [from, to, max_seq, start_ts, start_seq]) = r.sql_bounds('$');
        let n: i64 = self
            .row(
                &format!(
                    "SELECT COUNT(*) FROM sysdig_secure_events \
                     WHERE team_id = $1 AND kind = $2 AND {clause}"
                ),
                &[&team, &kind, &from, &to, &max_seq, &start_ts, &start_seq],
            )?
            .map(|r| r.try_get(0))
            .transpose()
            .pg()?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(super) fn events_last_seq(&self) -> RepoResult<i64> {
        Ok(self
            .row(
                "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM sysdig_secure_events",
                &[],
            )?
            .map(|r| r.try_get(0))
            .transpose()
            .pg()?
            .unwrap_or(0))
    }
}

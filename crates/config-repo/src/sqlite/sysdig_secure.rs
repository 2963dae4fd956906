//! The Secure runtime events table of the Sysdig repository: one row per event, indexed for
//! range reads by (team, kind, time, seq).

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteDb;
use crate::{
    RepoError, RepoResult,
    sysdig::{Document, EventRange, NewSecureEvent, SecureEvent},
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS secure_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    ts_ns INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (team_id, kind, id)
);
CREATE INDEX IF NOT EXISTS secure_events_range ON secure_events(team_id, kind, ts_ns, seq);
"#;

pub fn create_tables(db: &SqliteDb) -> RepoResult<()> {
    db.blocking(|c| {
        c.execute_batch(SCHEMA)?;
        Ok(())
    })
}

const COLUMNS: &str = "seq, team_id, kind, id, ts_ns, doc";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, i64, String, String, i64, String)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn build(
    (seq, team_id, kind, id, ts_ns, doc): (i64, i64, String, String, i64, String),
) -> RepoResult<SecureEvent> {
    let doc: Document = match serde_json::from_str(&doc)? {
        serde_json::Value::Object(m) => m,
        _ => {
            return Err(RepoError::Storage(
                "stored event is not a JSON object".into(),
            ));
        }
    };
    Ok(SecureEvent {
        seq,
        team_id,
        kind,
        id,
        ts_ns,
        doc,
    })
}

pub fn insert(
    c: &Connection,
    kind: &str,
    team: i64,
    e: &NewSecureEvent,
) -> RepoResult<SecureEvent> {
    let doc = serde_json::Value::Object(e.doc.clone()).to_string();
    c.execute(
        "INSERT INTO secure_events (team_id, kind, id, ts_ns, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![team, kind, e.id, e.ts_ns, doc],
    )
    .map_err(|err| match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            RepoError::Conflict(format!("an event with id '{}' already exists", e.id))
        }
        _ => err.into(),
    })?;
    Ok(SecureEvent {
        seq: c.last_insert_rowid(),
        team_id: team,
        kind: kind.into(),
        id: e.id.clone(),
        ts_ns: e.ts_ns,
        doc: e.doc.clone(),
    })
}

pub fn get(c: &Connection, kind: &str, team: i64, id: &str) -> RepoResult<Option<SecureEvent>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM secure_events WHERE team_id = ?1 AND kind = ?2 AND id = ?3"
        ),
        params![team, kind, id],
        row,
    )
    .optional()?
    .map(build)
    .transpose()
}

pub fn range(
    c: &Connection,
    kind: &str,
    team: i64,
    r: &EventRange,
) -> RepoResult<Vec<SecureEvent>> {
    let (clause, [from, to, max_seq, start_ts, start_seq]) = r.sql_bounds('?');
    let order = if r.older { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT {COLUMNS} FROM secure_events WHERE team_id = ?1 AND kind = ?2 AND {clause} \
         ORDER BY ts_ns {order}, seq {order} LIMIT ?8"
    );
    let limit = i64::try_from(r.limit).unwrap_or(i64::MAX);
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map(
        params![team, kind, from, to, max_seq, start_ts, start_seq, limit],
        row,
    )?;
    rows.map(|r| build(r?)).collect()
}

pub fn count(c: &Connection, kind: &str, team: i64, r: &EventRange) -> RepoResult<u64> {
    let (clause, [from, to, max_seq, start_ts, start_seq]) = r.sql_bounds('?');
    let sql =
        format!("SELECT COUNT(*) FROM secure_events WHERE team_id = ?1 AND kind = ?2 AND {clause}");
    let n: i64 = c.prepare_cached(&sql)?.query_row(
        params![team, kind, from, to, max_seq, start_ts, start_seq],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub fn last_seq(c: &Connection) -> RepoResult<i64> {
    Ok(
        c.query_row("SELECT COALESCE(MAX(seq), 0) FROM secure_events", [], |r| {
            r.get(0)
        })?,
    )
}

//! The Sysdig repository in SQLite (`sysdig.db`, owner-only: it holds API tokens). Users,
//! teams, memberships and tokens have their own tables; team-owned objects share one table of
//! JSON documents with id, kind, team and version columns.

use std::{collections::HashMap, path::Path};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::Value;

use super::{FileMode, SqliteDb};
use crate::{
    RepoError, RepoResult, now_ms,
    sysdig::{
        Document, Erased, EventRange, Member, NewSecureEvent, SecureEvent, SysdigRepo, SysdigTx,
        Team, TeamObject, User, Work,
    },
};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customer (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    system_role TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE TABLE IF NOT EXISTS tokens (
    key TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    created_on INTEGER NOT NULL,
    UNIQUE (user_id, team_id)
);
CREATE TABLE IF NOT EXISTS objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created_on INTEGER NOT NULL,
    modified_on INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_kind_team ON objects(kind, team_id, id);
"#;

/// The database file of the Sysdig emulation in a data directory.
pub const SYSDIG_DB_FILE: &str = "sysdig.db";

/// [`SysdigRepo`] over one SQLite file. Cheap to clone.
#[derive(Clone)]
pub struct SqliteSysdigRepo {
    db: SqliteDb,
}

impl SqliteSysdigRepo {
    /// Opens (creating if needed) the database at `path`, owner-only.
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be applied.
    pub fn open(path: &Path) -> RepoResult<Self> {
        let db = SqliteDb::open(path, SCHEMA, FileMode::Private)?;
        super::outbox::create_tables(&db)?;
        super::sysdig_secure::create_tables(&db)?;
        Ok(Self { db })
    }

    /// The notification outbox of alert notifications.
    pub fn outbox(&self) -> super::outbox::SqliteOutbox {
        super::outbox::SqliteOutbox::new(self.db.clone(), crate::outbox::Source::Sysdig)
    }
}

#[async_trait::async_trait]
impl SysdigRepo for SqliteSysdigRepo {
    async fn run(&self, work: Work) -> RepoResult<Erased> {
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let out = work(&SqliteSysdigTx(&tx));
                if out.is_ok() {
                    tx.commit()?;
                }
                // Dropping an uncommitted transaction rolls it back.
                Ok(out)
            })
            .await
    }
}

/// [`SysdigTx`] on an open SQLite transaction.
struct SqliteSysdigTx<'a>(&'a Transaction<'a>);

impl std::ops::Deref for SqliteSysdigTx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.0
    }
}

fn parse_doc(text: &str) -> RepoResult<Document> {
    match serde_json::from_str::<Value>(text)? {
        Value::Object(m) => Ok(m),
        _ => Err(RepoError::Storage(
            "stored document is not a JSON object".into(),
        )),
    }
}

fn doc_text(doc: &Document) -> String {
    Value::Object(doc.clone()).to_string()
}

/// A unique name taken is a conflict; anything else is the backend's failure.
fn unique(what: &str, name: &str) -> impl FnOnce(rusqlite::Error) -> RepoError {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            RepoError::Conflict(format!("{what} name '{name}' is taken"))
        }
        _ => e.into(),
    }
}

type UserCols = (i64, String, String, i64, String);
const USER_COLS: &str = "id, username, system_role, version, doc";

fn user_cols(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserCols> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn user_build((id, username, system_role, version, doc): UserCols) -> RepoResult<User> {
    Ok(User {
        id,
        username,
        system_role,
        version,
        doc: parse_doc(&doc)?,
    })
}

type TeamCols = (i64, String, i64, String);
const TEAM_COLS: &str = "id, name, version, doc";

fn team_cols(r: &rusqlite::Row<'_>) -> rusqlite::Result<TeamCols> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn team_build((id, name, version, doc): TeamCols) -> RepoResult<Team> {
    Ok(Team {
        id,
        name,
        version,
        doc: parse_doc(&doc)?,
    })
}

type ObjCols = (i64, String, i64, i64, i64, i64, String);
const OBJ_COLS: &str = "id, kind, team_id, version, created_on, modified_on, doc";

fn obj_cols(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjCols> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn obj_build(
    (id, kind, team_id, version, created_on, modified_on, doc): ObjCols,
) -> RepoResult<TeamObject> {
    Ok(TeamObject {
        id,
        kind,
        team_id,
        version,
        created_on,
        modified_on,
        doc: parse_doc(&doc)?,
    })
}

fn strip_columns(doc: &mut Document) {
    for k in TeamObject::COLUMN_FIELDS {
        doc.remove(k);
    }
}

impl SysdigTx for SqliteSysdigTx<'_> {
    fn outbox_enqueue(&self, delivery: &crate::outbox::NewDelivery) -> RepoResult<()> {
        super::outbox::insert(self, delivery)
    }

    fn meta_get(&self, key: &str) -> RepoResult<Option<String>> {
        Ok(self
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn meta_set(&self, key: &str, value: &str) -> RepoResult<()> {
        self.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }

    fn customer_ensure(&self, name: &str) -> RepoResult<()> {
        self.execute(
            "INSERT OR IGNORE INTO customer(id, name) VALUES (1, ?1)",
            [name],
        )?;
        Ok(())
    }

    fn customer_name(&self) -> RepoResult<String> {
        Ok(self
            .query_row("SELECT name FROM customer WHERE id = 1", [], |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| "vigil".into()))
    }

    fn users(&self) -> RepoResult<Vec<User>> {
        let mut st = self.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY id"))?;
        let rows = st
            .query_map([], user_cols)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(user_build).collect()
    }

    fn user(&self, id: i64) -> RepoResult<Option<User>> {
        self.query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
            [id],
            user_cols,
        )
        .optional()?
        .map(user_build)
        .transpose()
    }

    fn user_by_name(&self, name: &str) -> RepoResult<Option<User>> {
        self.query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE username = ?1"),
            [name],
            user_cols,
        )
        .optional()?
        .map(user_build)
        .transpose()
    }

    fn user_insert(&self, username: &str, system_role: &str, doc: &Document) -> RepoResult<User> {
        self.execute(
            "INSERT INTO users(username, system_role, version, doc) VALUES (?1, ?2, 1, ?3)",
            params![username, system_role, doc_text(doc)],
        )
        .map_err(unique("user", username))?;
        Ok(User {
            id: self.last_insert_rowid(),
            username: username.into(),
            system_role: system_role.into(),
            version: 1,
            doc: doc.clone(),
        })
    }

    fn user_update(&self, u: &User) -> RepoResult<()> {
        self.execute(
            "UPDATE users SET username = ?2, system_role = ?3, version = ?4, doc = ?5 WHERE id = ?1",
            params![u.id, u.username, u.system_role, u.version, doc_text(&u.doc)],
        )
        .map_err(unique("user", &u.username))?;
        Ok(())
    }

    fn user_delete(&self, id: i64) -> RepoResult<bool> {
        Ok(self.execute("DELETE FROM users WHERE id = ?1", [id])? > 0)
    }

    fn teams(&self) -> RepoResult<Vec<Team>> {
        let mut st = self.prepare(&format!("SELECT {TEAM_COLS} FROM teams ORDER BY id"))?;
        let rows = st
            .query_map([], team_cols)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(team_build).collect()
    }

    fn team(&self, id: i64) -> RepoResult<Option<Team>> {
        self.query_row(
            &format!("SELECT {TEAM_COLS} FROM teams WHERE id = ?1"),
            [id],
            team_cols,
        )
        .optional()?
        .map(team_build)
        .transpose()
    }

    fn team_by_name(&self, name: &str) -> RepoResult<Option<Team>> {
        self.query_row(
            &format!("SELECT {TEAM_COLS} FROM teams WHERE name = ?1"),
            [name],
            team_cols,
        )
        .optional()?
        .map(team_build)
        .transpose()
    }

    fn team_insert(&self, name: &str, doc: &Document) -> RepoResult<i64> {
        self.execute(
            "INSERT INTO teams(name, version, doc) VALUES (?1, 1, ?2)",
            params![name, doc_text(doc)],
        )
        .map_err(unique("team", name))?;
        Ok(self.last_insert_rowid())
    }

    fn team_update(&self, t: &Team) -> RepoResult<()> {
        self.execute(
            "UPDATE teams SET name = ?2, version = ?3, doc = ?4 WHERE id = ?1",
            params![t.id, t.name, t.version, doc_text(&t.doc)],
        )
        .map_err(unique("team", &t.name))?;
        Ok(())
    }

    fn team_delete(&self, id: i64) -> RepoResult<bool> {
        Ok(self.execute("DELETE FROM teams WHERE id = ?1", [id])? > 0)
    }

    fn membership(&self, team: i64, user: i64) -> RepoResult<Option<String>> {
        Ok(self
            .query_row(
                "SELECT role FROM memberships WHERE team_id = ?1 AND user_id = ?2",
                [team, user],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn membership_set(&self, team: i64, user: i64, role: &str) -> RepoResult<()> {
        self.execute(
            "INSERT INTO memberships(team_id, user_id, role) VALUES (?1, ?2, ?3)
             ON CONFLICT(team_id, user_id) DO UPDATE SET role = ?3",
            params![team, user, role],
        )?;
        Ok(())
    }

    fn team_members(&self, team: i64) -> RepoResult<Vec<Member>> {
        let mut st = self.prepare(
            "SELECT m.user_id, u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.team_id = ?1 ORDER BY m.user_id",
        )?;
        let rows = st
            .query_map([team], |r| {
                Ok(Member {
                    user_id: r.get(0)?,
                    username: r.get(1)?,
                    role: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn user_teams(&self, user: i64) -> RepoResult<Vec<(i64, String)>> {
        let mut st = self
            .prepare("SELECT team_id, role FROM memberships WHERE user_id = ?1 ORDER BY team_id")?;
        let rows = st
            .query_map([user], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn members_replace(&self, team: i64, members: &[(i64, String)]) -> RepoResult<()> {
        self.execute("DELETE FROM memberships WHERE team_id = ?1", [team])?;
        for (user, role) in members {
            self.membership_set(team, *user, role)?;
        }
        self.execute(
            "DELETE FROM tokens WHERE team_id = ?1
             AND user_id NOT IN (SELECT user_id FROM memberships WHERE team_id = ?1)",
            [team],
        )?;
        Ok(())
    }

    fn token_owner(&self, key: &str) -> RepoResult<Option<(i64, i64)>> {
        Ok(self
            .query_row(
                "SELECT user_id, team_id FROM tokens WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn token_for(&self, user: i64, team: i64) -> RepoResult<String> {
        let found: Option<String> = self
            .query_row(
                "SELECT key FROM tokens WHERE user_id = ?1 AND team_id = ?2",
                [user, team],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(k) = found {
            return Ok(k);
        }
        let key = uuid::Uuid::new_v4().to_string();
        self.token_set(user, team, &key)?;
        Ok(key)
    }

    fn token_set(&self, user: i64, team: i64, key: &str) -> RepoResult<()> {
        self.execute(
            "DELETE FROM tokens WHERE key = ?1 OR (user_id = ?2 AND team_id = ?3)",
            params![key, user, team],
        )?;
        self.execute(
            "INSERT INTO tokens(key, user_id, team_id, created_on) VALUES (?1, ?2, ?3, ?4)",
            params![key, user, team, now_ms()],
        )?;
        Ok(())
    }

    fn obj_list(&self, kind: &str, team: i64) -> RepoResult<Vec<TeamObject>> {
        let mut st = self.prepare(&format!(
            "SELECT {OBJ_COLS} FROM objects WHERE kind = ?1 AND team_id = ?2 ORDER BY id"
        ))?;
        let rows = st
            .query_map(params![kind, team], obj_cols)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(obj_build).collect()
    }

    fn obj_get(&self, kind: &str, team: i64, id: i64) -> RepoResult<Option<TeamObject>> {
        self.query_row(
            &format!("SELECT {OBJ_COLS} FROM objects WHERE kind = ?1 AND team_id = ?2 AND id = ?3"),
            params![kind, team, id],
            obj_cols,
        )
        .optional()?
        .map(obj_build)
        .transpose()
    }

    fn obj_name_taken(
        &self,
        kind: &str,
        team: i64,
        name: &str,
        except: Option<i64>,
    ) -> RepoResult<bool> {
        Ok(self
            .prepare_cached(
                "SELECT 1 FROM objects WHERE kind = ?1 AND team_id = ?2 \
                 AND json_extract(doc, '$.name') = ?3 AND id IS NOT ?4 LIMIT 1",
            )?
            .exists(params![kind, team, name, except])?)
    }

    fn obj_counts_by(&self, kind: &str, team: i64, field: &str) -> RepoResult<HashMap<i64, i64>> {
        let mut st = self.prepare_cached(
            "SELECT json_extract(doc, '$.' || ?3), COUNT(*) FROM objects \
             WHERE kind = ?1 AND team_id = ?2 GROUP BY 1",
        )?;
        let rows = st
            .query_map(params![kind, team, field], |r| {
                // A value that is not an integer counts for no object.
                Ok((r.get::<_, i64>(0).ok(), r.get::<_, i64>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(v, n)| Some((v?, n)))
            .collect())
    }

    fn obj_insert(&self, kind: &str, team: i64, mut doc: Document) -> RepoResult<TeamObject> {
        strip_columns(&mut doc);
        let now = now_ms();
        self.execute(
            "INSERT INTO objects(kind, team_id, version, created_on, modified_on, doc)
             VALUES (?1, ?2, 1, ?3, ?3, ?4)",
            params![kind, team, now, doc_text(&doc)],
        )?;
        Ok(TeamObject {
            id: self.last_insert_rowid(),
            kind: kind.into(),
            team_id: team,
            version: 1,
            created_on: now,
            modified_on: now,
            doc,
        })
    }

    fn obj_save(&self, o: &mut TeamObject, bump: bool) -> RepoResult<()> {
        strip_columns(&mut o.doc);
        if bump {
            o.version += 1;
            o.modified_on = now_ms().max(o.modified_on);
        }
        self.execute(
            "UPDATE objects SET version = ?2, modified_on = ?3, doc = ?4 WHERE id = ?1",
            params![o.id, o.version, o.modified_on, doc_text(&o.doc)],
        )?;
        Ok(())
    }

    fn obj_delete(&self, kind: &str, team: i64, id: i64) -> RepoResult<bool> {
        Ok(self.execute(
            "DELETE FROM objects WHERE kind = ?1 AND team_id = ?2 AND id = ?3",
            params![kind, team, id],
        )? > 0)
    }

    fn obj_delete_by(&self, kind: &str, team: i64, field: &str, value: i64) -> RepoResult<usize> {
        Ok(self.execute(
            "DELETE FROM objects WHERE kind = ?1 AND team_id = ?2
             AND json_extract(doc, '$.' || ?3) = ?4",
            params![kind, team, field, value],
        )?)
    }

    fn secure_event_insert(
        &self,
        kind: &str,
        team: i64,
        event: &NewSecureEvent,
    ) -> RepoResult<SecureEvent> {
        super::sysdig_secure::insert(self, kind, team, event)
    }

    fn secure_event_get(&self, kind: &str, team: i64, id: &str) -> RepoResult<Option<SecureEvent>> {
        super::sysdig_secure::get(self, kind, team, id)
    }

    fn secure_events_range(
        &self,
        kind: &str,
        team: i64,
        range: &EventRange,
    ) -> RepoResult<Vec<SecureEvent>> {
        super::sysdig_secure::range(self, kind, team, range)
    }

    fn secure_events_count(&self, kind: &str, team: i64, range: &EventRange) -> RepoResult<u64> {
        super::sysdig_secure::count(self, kind, team, range)
    }

    fn secure_events_last_seq(&self) -> RepoResult<i64> {
        super::sysdig_secure::last_seq(self)
    }
}

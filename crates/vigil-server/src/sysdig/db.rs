//! SQLite storage of the Sysdig emulation (`sysdig.db`, WAL journal, `synchronous=FULL`: a
//! 2xx answer means the change is on disk). Users, teams, memberships and tokens have their
//! own tables; team-owned objects (channels, alerts, notifications, dashboards, events) share
//! one table of JSON documents with id, kind, team and version columns.

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use super::error::{SdcError, SdcResult};

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

/// The database. Cheap to clone; calls run on the blocking pool.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) `path` and applies the schema.
    ///
    /// # Errors
    /// The file cannot be opened or the schema cannot be applied.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        // The file holds API tokens: owner-only, like the token file (SQLite gives its -wal
        // and -shm files the same mode).
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let _ = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path);
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` inside one transaction on the blocking pool; an error rolls it back.
    ///
    /// # Errors
    /// What `f` returns, or a database failure (503).
    pub async fn tx<T, F>(&self, f: F) -> SdcResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> SdcResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            let tx = guard.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "sysdig database task failed");
            SdcError::unavailable()
        })?
    }

    /// [`Db::tx`] outside the async runtime (start-up).
    ///
    /// # Errors
    /// As [`Db::tx`].
    pub fn tx_blocking<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> SdcResult<T>,
    ) -> SdcResult<T> {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = guard.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn parse_doc(text: &str) -> SdcResult<Map<String, Value>> {
    match serde_json::from_str::<Value>(text)? {
        Value::Object(m) => Ok(m),
        _ => Err(SdcError::unavailable()),
    }
}

fn doc_text(doc: &Map<String, Value>) -> String {
    Value::Object(doc.clone()).to_string()
}

// --- meta --------------------------------------------------------------------------------------

pub fn meta_get(c: &Connection, key: &str) -> SdcResult<Option<String>> {
    Ok(
        c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?,
    )
}

pub fn meta_set(c: &Connection, key: &str, value: &str) -> SdcResult<()> {
    c.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
        params![key, value],
    )?;
    Ok(())
}

pub fn customer_name(c: &Connection) -> SdcResult<String> {
    Ok(
        c.query_row("SELECT name FROM customer WHERE id = 1", [], |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| "vigil".into()),
    )
}

// --- users -------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub system_role: String,
    pub version: i64,
    pub doc: Map<String, Value>,
}

impl UserRow {
    pub fn is_admin(&self) -> bool {
        self.system_role == super::ROLE_CUSTOMER
    }
}

const USER_COLS: &str = "id, username, system_role, version, doc";

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, String, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn user_build(t: (i64, String, String, i64, String)) -> SdcResult<UserRow> {
    Ok(UserRow {
        id: t.0,
        username: t.1,
        system_role: t.2,
        version: t.3,
        doc: parse_doc(&t.4)?,
    })
}

pub fn users(c: &Connection) -> SdcResult<Vec<UserRow>> {
    let mut st = c.prepare(&format!("SELECT {USER_COLS} FROM users ORDER BY id"))?;
    let rows = st
        .query_map([], user_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(user_build).collect()
}

pub fn user(c: &Connection, id: i64) -> SdcResult<Option<UserRow>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
        [id],
        user_from_row,
    )
    .optional()?
    .map(user_build)
    .transpose()
}

pub fn user_by_name(c: &Connection, name: &str) -> SdcResult<Option<UserRow>> {
    c.query_row(
        &format!("SELECT {USER_COLS} FROM users WHERE username = ?1"),
        [name],
        user_from_row,
    )
    .optional()?
    .map(user_build)
    .transpose()
}

/// Creates a user and enrols it in each product's default team with that team's default role.
pub fn user_insert(
    c: &Connection,
    username: &str,
    system_role: &str,
    doc: &Map<String, Value>,
) -> SdcResult<UserRow> {
    c.execute(
        "INSERT INTO users(username, system_role, version, doc) VALUES (?1, ?2, 1, ?3)",
        params![username, system_role, doc_text(doc)],
    )?;
    let id = c.last_insert_rowid();
    for team in teams(c)? {
        if team.is_default() {
            let role = team
                .doc
                .get("defaultTeamRole")
                .and_then(Value::as_str)
                .unwrap_or("ROLE_TEAM_STANDARD")
                .to_string();
            membership_set(c, team.id, id, &role)?;
        }
    }
    user(c, id)?.ok_or_else(SdcError::unavailable)
}

pub fn user_update(c: &Connection, u: &UserRow) -> SdcResult<()> {
    c.execute(
        "UPDATE users SET username = ?2, system_role = ?3, version = ?4, doc = ?5 WHERE id = ?1",
        params![u.id, u.username, u.system_role, u.version, doc_text(&u.doc)],
    )?;
    Ok(())
}

pub fn user_delete(c: &Connection, id: i64) -> SdcResult<bool> {
    Ok(c.execute("DELETE FROM users WHERE id = ?1", [id])? > 0)
}

// --- teams -------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub doc: Map<String, Value>,
}

impl TeamRow {
    pub fn is_default(&self) -> bool {
        self.doc.get("default").and_then(Value::as_bool) == Some(true)
    }

    pub fn products(&self) -> Vec<String> {
        self.doc
            .get("products")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The product a token of this team acts in.
    pub fn product(&self) -> String {
        self.products()
            .into_iter()
            .next()
            .unwrap_or_else(|| "SDC".into())
    }
}

fn team_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn team_build(t: (i64, String, i64, String)) -> SdcResult<TeamRow> {
    Ok(TeamRow {
        id: t.0,
        name: t.1,
        version: t.2,
        doc: parse_doc(&t.3)?,
    })
}

pub fn teams(c: &Connection) -> SdcResult<Vec<TeamRow>> {
    let mut st = c.prepare("SELECT id, name, version, doc FROM teams ORDER BY id")?;
    let rows = st
        .query_map([], team_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(team_build).collect()
}

pub fn team(c: &Connection, id: i64) -> SdcResult<Option<TeamRow>> {
    c.query_row(
        "SELECT id, name, version, doc FROM teams WHERE id = ?1",
        [id],
        team_from_row,
    )
    .optional()?
    .map(team_build)
    .transpose()
}

pub fn team_by_name(c: &Connection, name: &str) -> SdcResult<Option<TeamRow>> {
    c.query_row(
        "SELECT id, name, version, doc FROM teams WHERE name = ?1",
        [name],
        team_from_row,
    )
    .optional()?
    .map(team_build)
    .transpose()
}

pub fn team_insert(c: &Connection, name: &str, doc: &Map<String, Value>) -> SdcResult<i64> {
    c.execute(
        "INSERT INTO teams(name, version, doc) VALUES (?1, 1, ?2)",
        params![name, doc_text(doc)],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn team_update(c: &Connection, t: &TeamRow) -> SdcResult<()> {
    c.execute(
        "UPDATE teams SET name = ?2, version = ?3, doc = ?4 WHERE id = ?1",
        params![t.id, t.name, t.version, doc_text(&t.doc)],
    )?;
    Ok(())
}

pub fn team_delete(c: &Connection, id: i64) -> SdcResult<bool> {
    Ok(c.execute("DELETE FROM teams WHERE id = ?1", [id])? > 0)
}

/// The default team of `product` ("Monitor Operations" for SDC).
pub fn default_team(c: &Connection, product: &str) -> SdcResult<Option<TeamRow>> {
    Ok(teams(c)?
        .into_iter()
        .find(|t| t.is_default() && t.products().iter().any(|p| p == product)))
}

// --- memberships -------------------------------------------------------------------------------

pub fn membership(c: &Connection, team: i64, user: i64) -> SdcResult<Option<String>> {
    Ok(c.query_row(
        "SELECT role FROM memberships WHERE team_id = ?1 AND user_id = ?2",
        [team, user],
        |r| r.get(0),
    )
    .optional()?)
}

pub fn membership_set(c: &Connection, team: i64, user: i64, role: &str) -> SdcResult<()> {
    c.execute(
        "INSERT INTO memberships(team_id, user_id, role) VALUES (?1, ?2, ?3)
         ON CONFLICT(team_id, user_id) DO UPDATE SET role = ?3",
        params![team, user, role],
    )?;
    Ok(())
}

/// `(user id, user name, role)` of a team's members.
pub fn team_members(c: &Connection, team: i64) -> SdcResult<Vec<(i64, String, String)>> {
    let mut st = c.prepare(
        "SELECT m.user_id, u.username, m.role FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.team_id = ?1 ORDER BY m.user_id",
    )?;
    let rows = st
        .query_map([team], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// `(team id, role)` of a user's memberships.
pub fn user_teams(c: &Connection, user: i64) -> SdcResult<Vec<(i64, String)>> {
    let mut st =
        c.prepare("SELECT team_id, role FROM memberships WHERE user_id = ?1 ORDER BY team_id")?;
    let rows = st
        .query_map([user], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Replaces a team's members; tokens of removed members for this team stop working.
pub fn members_replace(c: &Connection, team: i64, members: &[(i64, String)]) -> SdcResult<()> {
    c.execute("DELETE FROM memberships WHERE team_id = ?1", [team])?;
    for (user, role) in members {
        membership_set(c, team, *user, role)?;
    }
    c.execute(
        "DELETE FROM tokens WHERE team_id = ?1
         AND user_id NOT IN (SELECT user_id FROM memberships WHERE team_id = ?1)",
        [team],
    )?;
    Ok(())
}

// --- tokens ------------------------------------------------------------------------------------

/// `(user id, team id)` of a Monitor API token.
pub fn token_owner(c: &Connection, key: &str) -> SdcResult<Option<(i64, i64)>> {
    Ok(c.query_row(
        "SELECT user_id, team_id FROM tokens WHERE key = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

/// The token of (user, team), created on first use.
pub fn token_for(c: &Connection, user: i64, team: i64) -> SdcResult<String> {
    let found: Option<String> = c
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
    token_set(c, user, team, &key)?;
    Ok(key)
}

/// Gives (user, team) the token `key`, replacing its old one (which then stops working).
pub fn token_set(c: &Connection, user: i64, team: i64, key: &str) -> SdcResult<()> {
    c.execute(
        "DELETE FROM tokens WHERE key = ?1 OR (user_id = ?2 AND team_id = ?3)",
        params![key, user, team],
    )?;
    c.execute(
        "INSERT INTO tokens(key, user_id, team_id, created_on) VALUES (?1, ?2, ?3, ?4)",
        params![key, user, team, now_ms()],
    )?;
    Ok(())
}

// --- team-owned objects ------------------------------------------------------------------------

/// A team-owned document; `id`, `version`, `teamId`, `createdOn`, `modifiedOn` live in columns
/// and are written into the document when it is rendered.
#[derive(Clone, Debug)]
pub struct Obj {
    pub id: i64,
    pub team_id: i64,
    pub version: i64,
    pub created_on: i64,
    pub modified_on: i64,
    pub doc: Map<String, Value>,
}

impl Obj {
    /// The document as the API shows it.
    pub fn render(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), self.id.into());
        m.insert("version".into(), self.version.into());
        for (k, v) in &self.doc {
            m.insert(k.clone(), v.clone());
        }
        m.insert("id".into(), self.id.into());
        m.insert("version".into(), self.version.into());
        m.insert("teamId".into(), self.team_id.into());
        m.insert("createdOn".into(), self.created_on.into());
        m.insert("modifiedOn".into(), self.modified_on.into());
        Value::Object(m)
    }
}

fn obj_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, i64, i64, i64, i64, String)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn obj_build(t: (i64, i64, i64, i64, i64, String)) -> SdcResult<Obj> {
    Ok(Obj {
        id: t.0,
        team_id: t.1,
        version: t.2,
        created_on: t.3,
        modified_on: t.4,
        doc: parse_doc(&t.5)?,
    })
}

const OBJ_COLS: &str = "id, team_id, version, created_on, modified_on, doc";

pub fn obj_list(c: &Connection, kind: &str, team: i64) -> SdcResult<Vec<Obj>> {
    let mut st = c.prepare(&format!(
        "SELECT {OBJ_COLS} FROM objects WHERE kind = ?1 AND team_id = ?2 ORDER BY id"
    ))?;
    let rows = st
        .query_map(params![kind, team], obj_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(obj_build).collect()
}

/// Whether another of the team's objects of `kind` (any but `except`) is called `name`.
pub fn obj_name_taken(
    c: &Connection,
    kind: &str,
    team: i64,
    name: &str,
    except: Option<i64>,
) -> SdcResult<bool> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM objects WHERE kind = ?1 AND team_id = ?2 \
             AND json_extract(doc, '$.name') = ?3 AND id IS NOT ?4 LIMIT 1",
    )?
    .exists(params![kind, team, name, except])?)
}

/// How many of the team's objects of `kind` have each value of the integer field `field`
/// (counted in SQLite, without reading the documents out).
pub fn obj_counts_by(
    c: &Connection,
    kind: &str,
    team: i64,
    field: &str,
) -> SdcResult<std::collections::HashMap<i64, i64>> {
    let mut st = c.prepare_cached(
        "SELECT json_extract(doc, '$.' || ?3), COUNT(*) FROM objects \
         WHERE kind = ?1 AND team_id = ?2 GROUP BY 1",
    )?;
    let rows = st
        .query_map(params![kind, team, field], |r| {
            // A value that is not an integer counts for no object, as `as_i64` would say.
            Ok((r.get::<_, i64>(0).ok(), r.get::<_, i64>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(v, n)| Some((v?, n)))
        .collect())
}

pub fn obj_get(c: &Connection, kind: &str, team: i64, id: i64) -> SdcResult<Option<Obj>> {
    c.query_row(
        &format!("SELECT {OBJ_COLS} FROM objects WHERE kind = ?1 AND team_id = ?2 AND id = ?3"),
        params![kind, team, id],
        obj_from_row,
    )
    .optional()?
    .map(obj_build)
    .transpose()
}

/// Stores a new document at version 1.
pub fn obj_insert(
    c: &Connection,
    kind: &str,
    team: i64,
    mut doc: Map<String, Value>,
) -> SdcResult<Obj> {
    for k in ["id", "version", "teamId", "createdOn", "modifiedOn"] {
        doc.remove(k);
    }
    let now = now_ms();
    c.execute(
        "INSERT INTO objects(kind, team_id, version, created_on, modified_on, doc)
         VALUES (?1, ?2, 1, ?3, ?3, ?4)",
        params![kind, team, now, doc_text(&doc)],
    )?;
    Ok(Obj {
        id: c.last_insert_rowid(),
        team_id: team,
        version: 1,
        created_on: now,
        modified_on: now,
        doc,
    })
}

/// Writes `o.doc` back; `bump` raises the version and the modification time.
pub fn obj_save(c: &Connection, o: &mut Obj, bump: bool) -> SdcResult<()> {
    for k in ["id", "version", "teamId", "createdOn", "modifiedOn"] {
        o.doc.remove(k);
    }
    if bump {
        o.version += 1;
        o.modified_on = now_ms().max(o.modified_on);
    }
    c.execute(
        "UPDATE objects SET version = ?2, modified_on = ?3, doc = ?4 WHERE id = ?1",
        params![o.id, o.version, o.modified_on, doc_text(&o.doc)],
    )?;
    Ok(())
}

pub fn obj_delete(c: &Connection, kind: &str, team: i64, id: i64) -> SdcResult<bool> {
    Ok(c.execute(
        "DELETE FROM objects WHERE kind = ?1 AND team_id = ?2 AND id = ?3",
        params![kind, team, id],
    )? > 0)
}

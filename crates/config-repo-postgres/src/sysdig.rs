//! The Sysdig repository in PostgreSQL. Tables as on SQLite (`sysdig_` prefixed, the database
//! is shared with the Monasca side); documents are kept as JSON text, not `jsonb`, because
//! `jsonb` reorders keys (the API shows documents as stored) and refuses `\u0000`.
//!
//! A unit of work first takes a transaction-scoped advisory lock, so units run one at a time
//! across every node, as they do on SQLite's single connection: a handler's "is the name
//! free?" check still holds when it writes. Read-only units (the caller lookup of every
//! request) skip the lock. Statements that may break a unique constraint
//! run in a savepoint, so the [`RepoError::Conflict`] they give leaves the unit usable.

use std::{cell::RefCell, collections::HashMap};

use config_repo::{
    RepoError, RepoResult, now_ms,
    outbox::NewDelivery,
    sysdig::{
        Document, Erased, EventRange, Member, NewSecureEvent, SecureEvent, SysdigRepo, SysdigTx,
        Team, TeamObject, User, Work,
    },
};
use postgres::{Row, Transaction, error::SqlState, types::ToSql};
use serde_json::Value;

use crate::{PgDb, PgResultExt, error::bad_json, pg_error};

#[path = "sysdig_secure.rs"]
mod secure_events;

/// Advisory lock key of the Sysdig units of work ("vigil" + 2).
const SYSDIG_LOCK: i64 = 0x7669_6769_6c02;

/// [`SysdigRepo`] over a PostgreSQL database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PgSysdigRepo {
    db: PgDb,
}

impl PgSysdigRepo {
    /// The repository in `db` (whose schema [`PgDb::connect`] brought up to date).
    pub fn new(db: PgDb) -> Self {
        Self { db }
    }

    /// The notification outbox of alert notifications.
    pub fn outbox(&self) -> crate::outbox::PgOutbox {
        crate::outbox::PgOutbox::new(self.db.clone(), config_repo::outbox::Source::Sysdig)
    }
}

#[async_trait::async_trait]
impl SysdigRepo for PgSysdigRepo {
    async fn run(&self, work: Work) -> RepoResult<Erased> {
        self.db
            .call(move |c| {
                let mut tx = c.transaction().pg()?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SYSDIG_LOCK])
                    .pg()?;
                let unit = PgSysdigTx(RefCell::new(tx));
                let out = work(&unit);
                if out.is_ok() {
                    unit.0.into_inner().commit().pg()?;
                }
                // Dropping an uncommitted transaction rolls it back.
                Ok(out)
            })
            .await
    }

    /// Without the lock, in a read-only transaction: the caller lookup of every request does
    /// not queue behind the units of work of the whole cluster.
    async fn run_read(&self, work: Work) -> RepoResult<Erased> {
        self.db
            .call(move |c| {
                let tx = c.build_transaction().read_only(true).start().pg()?;
                let unit = PgSysdigTx(RefCell::new(tx));
                let out = work(&unit);
                if out.is_ok() {
                    unit.0.into_inner().commit().pg()?;
                }
                Ok(out)
            })
            .await
    }
}

/// [`SysdigTx`] on an open transaction.
struct PgSysdigTx<'a>(RefCell<Transaction<'a>>);

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

impl PgSysdigTx<'_> {
    fn rows(&self, sql: &str, params: Params<'_>) -> RepoResult<Vec<Row>> {
        self.0.borrow_mut().query(sql, params).pg()
    }

    fn row(&self, sql: &str, params: Params<'_>) -> RepoResult<Option<Row>> {
        self.0.borrow_mut().query_opt(sql, params).pg()
    }

    fn exec(&self, sql: &str, params: Params<'_>) -> RepoResult<u64> {
        self.0.borrow_mut().execute(sql, params).pg()
    }

    /// Runs one statement in a savepoint; a unique violation becomes "`what` name is taken"
    /// and leaves the transaction usable.
    fn unique(
        &self,
        what: &str,
        name: &str,
        sql: &str,
        params: Params<'_>,
    ) -> RepoResult<Vec<Row>> {
        let mut outer = self.0.borrow_mut();
        let mut sp = outer.savepoint("unique_guard").pg()?;
        match sp.query(sql, params) {
            Ok(rows) => {
                sp.commit().pg()?;
                Ok(rows)
            }
            // Dropping the savepoint rolls back to it.
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(RepoError::Conflict(
                format!("{what} name '{name}' is taken"),
            )),
            Err(e) => Err(pg_error(&e)),
        }
    }

    /// `(id, document)` of the team's objects of `kind` whose text holds `needle`: a cheap
    /// superset the caller narrows by reading the documents.
    fn docs_holding(
        &self,
        kind: &str,
        team: i64,
        needle: &str,
    ) -> RepoResult<Vec<(i64, Document)>> {
        self.rows(
            "SELECT id, doc FROM sysdig_objects WHERE kind = $1 AND team_id = $2 \
             AND strpos(doc, $3) > 0 ORDER BY id",
            &[&kind, &team, &needle],
        )?
        .iter()
        .map(|r| {
            Ok((
                r.try_get(0).pg()?,
                parse_doc(&r.try_get::<_, String>(1).pg()?)?,
            ))
        })
        .collect()
    }

    /// The ids of the team's objects of `kind` whose field `field` is the integer `value`
    /// (all of them when `value` is `None`), with that integer.
    fn ids_by(&self, kind: &str, team: i64, field: &str) -> RepoResult<Vec<(i64, i64)>> {
        // Documents are written compactly by serde_json: the key appears as `"field":`.
        let needle = format!("{}:", Value::String(field.into()));
        Ok(self
            .docs_holding(kind, team, &needle)?
            .into_iter()
            .filter_map(|(id, doc)| Some((id, doc.get(field)?.as_i64()?)))
            .collect())
    }
}

/// The folded form names are unique in (SQLite's `NOCASE`: ASCII letters only).
fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn parse_doc(text: &str) -> RepoResult<Document> {
    match serde_json::from_str::<Value>(text).map_err(|e| bad_json(&e))? {
        Value::Object(m) => Ok(m),
        _ => Err(RepoError::Storage(
            "stored document is not a JSON object".into(),
        )),
    }
}

fn doc_text(doc: &Document) -> String {
    Value::Object(doc.clone()).to_string()
}

const USER_COLS: &str = "id, username, system_role, version, doc";

fn user_row(r: &Row) -> RepoResult<User> {
    Ok(User {
        id: r.try_get(0).pg()?,
        username: r.try_get(1).pg()?,
        system_role: r.try_get(2).pg()?,
        version: r.try_get(3).pg()?,
        doc: parse_doc(&r.try_get::<_, String>(4).pg()?)?,
    })
}

const TEAM_COLS: &str = "id, name, version, doc";

fn team_row(r: &Row) -> RepoResult<Team> {
    Ok(Team {
        id: r.try_get(0).pg()?,
        name: r.try_get(1).pg()?,
        version: r.try_get(2).pg()?,
        doc: parse_doc(&r.try_get::<_, String>(3).pg()?)?,
    })
}

const OBJ_COLS: &str = "id, kind, team_id, version, created_on, modified_on, doc";

fn obj_row(r: &Row) -> RepoResult<TeamObject> {
    Ok(TeamObject {
        id: r.try_get(0).pg()?,
        kind: r.try_get(1).pg()?,
        team_id: r.try_get(2).pg()?,
        version: r.try_get(3).pg()?,
        created_on: r.try_get(4).pg()?,
        modified_on: r.try_get(5).pg()?,
        doc: parse_doc(&r.try_get::<_, String>(6).pg()?)?,
    })
}

fn strip_columns(doc: &mut Document) {
    for k in TeamObject::COLUMN_FIELDS {
        doc.remove(k);
    }
}

impl SysdigTx for PgSysdigTx<'_> {
    fn outbox_enqueue(&self, delivery: &NewDelivery) -> RepoResult<()> {
        crate::outbox::insert(&mut *self.0.borrow_mut(), delivery)
    }

    fn meta_get(&self, key: &str) -> RepoResult<Option<String>> {
        self.row("SELECT value FROM sysdig_meta WHERE key = $1", &[&key])?
            .map(|r| r.try_get(0).pg())
            .transpose()
    }

    fn meta_set(&self, key: &str, value: &str) -> RepoResult<()> {
        self.exec(
            "INSERT INTO sysdig_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn customer_ensure(&self, name: &str) -> RepoResult<()> {
        self.exec(
            "INSERT INTO sysdig_customer (id, name) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            &[&name],
        )?;
        Ok(())
    }

    fn customer_name(&self) -> RepoResult<String> {
        Ok(self
            .row("SELECT name FROM sysdig_customer WHERE id = 1", &[])?
            .map(|r| r.try_get(0).pg())
            .transpose()?
            .unwrap_or_else(|| "vigil".into()))
    }

    fn users(&self) -> RepoResult<Vec<User>> {
        self.rows(
            &format!("SELECT {USER_COLS} FROM sysdig_users ORDER BY id"),
            &[],
        )?
        .iter()
        .map(user_row)
        .collect()
    }

    fn user(&self, id: i64) -> RepoResult<Option<User>> {
        self.row(
            &format!("SELECT {USER_COLS} FROM sysdig_users WHERE id = $1"),
            &[&id],
        )?
        .as_ref()
        .map(user_row)
        .transpose()
    }

    fn user_by_name(&self, name: &str) -> RepoResult<Option<User>> {
        self.row(
            &format!("SELECT {USER_COLS} FROM sysdig_users WHERE username_key = $1"),
            &[&name_key(name)],
        )?
        .as_ref()
        .map(user_row)
        .transpose()
    }

    fn user_insert(&self, username: &str, system_role: &str, doc: &Document) -> RepoResult<User> {
        let rows = self.unique(
            "user",
            username,
            "INSERT INTO sysdig_users (username, username_key, system_role, version, doc) \
             VALUES ($1, $2, $3, 1, $4) RETURNING id",
            &[&username, &name_key(username), &system_role, &doc_text(doc)],
        )?;
        let id = rows
            .first()
            .ok_or_else(|| RepoError::Storage("no id for a new user".into()))?
            .try_get(0)
            .pg()?;
        Ok(User {
            id,
            username: username.into(),
            system_role: system_role.into(),
            version: 1,
            doc: doc.clone(),
        })
    }

    fn user_update(&self, u: &User) -> RepoResult<()> {
        self.unique(
            "user",
            &u.username,
            "UPDATE sysdig_users SET username = $2, username_key = $3, system_role = $4, \
             version = $5, doc = $6 WHERE id = $1",
            &[
                &u.id,
                &u.username,
                &name_key(&u.username),
                &u.system_role,
                &u.version,
                &doc_text(&u.doc),
            ],
        )?;
        Ok(())
    }

    fn user_delete(&self, id: i64) -> RepoResult<bool> {
        Ok(self.exec("DELETE FROM sysdig_users WHERE id = $1", &[&id])? > 0)
    }

    fn teams(&self) -> RepoResult<Vec<Team>> {
        self.rows(
            &format!("SELECT {TEAM_COLS} FROM sysdig_teams ORDER BY id"),
            &[],
        )?
        .iter()
        .map(team_row)
        .collect()
    }

    fn team(&self, id: i64) -> RepoResult<Option<Team>> {
        self.row(
            &format!("SELECT {TEAM_COLS} FROM sysdig_teams WHERE id = $1"),
            &[&id],
        )?
        .as_ref()
        .map(team_row)
        .transpose()
    }

    fn team_by_name(&self, name: &str) -> RepoResult<Option<Team>> {
        self.row(
            &format!("SELECT {TEAM_COLS} FROM sysdig_teams WHERE name_key = $1"),
            &[&name_key(name)],
        )?
        .as_ref()
        .map(team_row)
        .transpose()
    }

    fn team_insert(&self, name: &str, doc: &Document) -> RepoResult<i64> {
        let rows = self.unique(
            "team",
            name,
            "INSERT INTO sysdig_teams (name, name_key, version, doc) VALUES ($1, $2, 1, $3) \
             RETURNING id",
            &[&name, &name_key(name), &doc_text(doc)],
        )?;
        rows.first()
            .ok_or_else(|| RepoError::Storage("no id for a new team".into()))?
            .try_get(0)
            .pg()
    }

    fn team_update(&self, t: &Team) -> RepoResult<()> {
        self.unique(
            "team",
            &t.name,
            "UPDATE sysdig_teams SET name = $2, name_key = $3, version = $4, doc = $5 \
             WHERE id = $1",
            &[
                &t.id,
                &t.name,
                &name_key(&t.name),
                &t.version,
                &doc_text(&t.doc),
            ],
        )?;
        Ok(())
    }

    fn team_delete(&self, id: i64) -> RepoResult<bool> {
        Ok(self.exec("DELETE FROM sysdig_teams WHERE id = $1", &[&id])? > 0)
    }

    fn membership(&self, team: i64, user: i64) -> RepoResult<Option<String>> {
        self.row(
            "SELECT role FROM sysdig_memberships WHERE team_id = $1 AND user_id = $2",
            &[&team, &user],
        )?
        .map(|r| r.try_get(0).pg())
        .transpose()
    }

    fn membership_set(&self, team: i64, user: i64, role: &str) -> RepoResult<()> {
        self.exec(
            "INSERT INTO sysdig_memberships (team_id, user_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (team_id, user_id) DO UPDATE SET role = EXCLUDED.role",
            &[&team, &user, &role],
        )?;
        Ok(())
    }

    fn team_members(&self, team: i64) -> RepoResult<Vec<Member>> {
        self.rows(
            "SELECT m.user_id, u.username, m.role FROM sysdig_memberships m \
             JOIN sysdig_users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY m.user_id",
            &[&team],
        )?
        .iter()
        .map(|r| {
            Ok(Member {
                user_id: r.try_get(0).pg()?,
                username: r.try_get(1).pg()?,
                role: r.try_get(2).pg()?,
            })
        })
        .collect()
    }

    fn user_teams(&self, user: i64) -> RepoResult<Vec<(i64, String)>> {
        self.rows(
            "SELECT team_id, role FROM sysdig_memberships WHERE user_id = $1 ORDER BY team_id",
            &[&user],
        )?
        .iter()
        .map(|r| Ok((r.try_get(0).pg()?, r.try_get(1).pg()?)))
        .collect()
    }

    fn members_replace(&self, team: i64, members: &[(i64, String)]) -> RepoResult<()> {
        self.exec(
            "DELETE FROM sysdig_memberships WHERE team_id = $1",
            &[&team],
        )?;
        for (user, role) in members {
            self.membership_set(team, *user, role)?;
        }
        self.exec(
            "DELETE FROM sysdig_tokens WHERE team_id = $1 AND user_id NOT IN \
             (SELECT user_id FROM sysdig_memberships WHERE team_id = $1)",
            &[&team],
        )?;
        Ok(())
    }

    fn token_owner(&self, key: &str) -> RepoResult<Option<(i64, i64)>> {
        self.row(
            "SELECT user_id, team_id FROM sysdig_tokens WHERE key = $1",
            &[&key],
        )?
        .map(|r| Ok((r.try_get(0).pg()?, r.try_get(1).pg()?)))
        .transpose()
    }

    fn token_for(&self, user: i64, team: i64) -> RepoResult<String> {
        let found = self.row(
            "SELECT key FROM sysdig_tokens WHERE user_id = $1 AND team_id = $2",
            &[&user, &team],
        )?;
        if let Some(r) = found {
            return r.try_get(0).pg();
        }
        let key = uuid::Uuid::new_v4().to_string();
        self.token_set(user, team, &key)?;
        Ok(key)
    }

    fn token_set(&self, user: i64, team: i64, key: &str) -> RepoResult<()> {
        self.exec(
            "DELETE FROM sysdig_tokens WHERE key = $1 OR (user_id = $2 AND team_id = $3)",
            &[&key, &user, &team],
        )?;
        self.exec(
            "INSERT INTO sysdig_tokens (key, user_id, team_id, created_on) \
             VALUES ($1, $2, $3, $4)",
            &[&key, &user, &team, &now_ms()],
        )?;
        Ok(())
    }

    fn obj_list(&self, kind: &str, team: i64) -> RepoResult<Vec<TeamObject>> {
        self.rows(
            &format!(
                "SELECT {OBJ_COLS} FROM sysdig_objects WHERE kind = $1 AND team_id = $2 \
                 ORDER BY id"
            ),
            &[&kind, &team],
        )?
        .iter()
        .map(obj_row)
        .collect()
    }

    fn obj_get(&self, kind: &str, team: i64, id: i64) -> RepoResult<Option<TeamObject>> {
        self.row(
            &format!(
                "SELECT {OBJ_COLS} FROM sysdig_objects \
                 WHERE kind = $1 AND team_id = $2 AND id = $3"
            ),
            &[&kind, &team, &id],
        )?
        .as_ref()
        .map(obj_row)
        .transpose()
    }

    fn obj_name_taken(
        &self,
        kind: &str,
        team: i64,
        name: &str,
        except: Option<i64>,
    ) -> RepoResult<bool> {
        // The name as serde_json writes it appears in the text of every document holding it.
        let needle = Value::String(name.into()).to_string();
        Ok(self
            .docs_holding(kind, team, &needle)?
            .iter()
            .any(|(id, doc)| {
                Some(*id) != except && doc.get("name").and_then(Value::as_str) == Some(name)
            }))
    }

    fn obj_counts_by(&self, kind: &str, team: i64, field: &str) -> RepoResult<HashMap<i64, i64>> {
        let mut counts = HashMap::new();
        for (_, value) in self.ids_by(kind, team, field)? {
            *counts.entry(value).or_insert(0) += 1;
        }
        Ok(counts)
    }

    fn obj_insert(&self, kind: &str, team: i64, mut doc: Document) -> RepoResult<TeamObject> {
        strip_columns(&mut doc);
        let now = now_ms();
        let id = self
            .row(
                "INSERT INTO sysdig_objects (kind, team_id, version, created_on, modified_on, doc) \
                 VALUES ($1, $2, 1, $3, $3, $4) RETURNING id",
                &[&kind, &team, &now, &doc_text(&doc)],
            )?
            .ok_or_else(|| RepoError::Storage("no id for a new object".into()))?
            .try_get(0)
            .pg()?;
        Ok(TeamObject {
            id,
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
        self.exec(
            "UPDATE sysdig_objects SET version = $2, modified_on = $3, doc = $4 WHERE id = $1",
            &[&o.id, &o.version, &o.modified_on, &doc_text(&o.doc)],
        )?;
        Ok(())
    }

    fn obj_delete(&self, kind: &str, team: i64, id: i64) -> RepoResult<bool> {
        Ok(self.exec(
            "DELETE FROM sysdig_objects WHERE kind = $1 AND team_id = $2 AND id = $3",
            &[&kind, &team, &id],
        )? > 0)
    }

    fn obj_delete_by(&self, kind: &str, team: i64, field: &str, value: i64) -> RepoResult<usize> {
        let ids: Vec<i64> = self
            .ids_by(kind, team, field)?
            .into_iter()
            .filter_map(|(id, v)| (v == value).then_some(id))
            .collect();
        let deleted = self.exec("DELETE FROM sysdig_objects WHERE id = ANY($1)", &[&ids])?;
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }

    fn secure_event_insert(
        &self,
        kind: &str,
        team: i64,
        event: &NewSecureEvent,
    ) -> RepoResult<SecureEvent> {
        self.event_insert(kind, team, event)
    }

    fn secure_event_get(&self, kind: &str, team: i64, id: &str) -> RepoResult<Option<SecureEvent>> {
        self.event_get(kind, team, id)
    }

    fn secure_events_range(
        &self,
        kind: &str,
        team: i64,
        range: &EventRange,
    ) -> RepoResult<Vec<SecureEvent>> {
        self.events_range(kind, team, range)
    }

    fn secure_events_count(&self, kind: &str, team: i64, range: &EventRange) -> RepoResult<u64> {
        self.events_count(kind, team, range)
    }

    fn secure_events_last_seq(&self) -> RepoResult<i64> {
        self.events_last_seq()
    }
}

//! `alarm_definition` rows and their `alarm_action`s.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteMonasca;
use crate::{
    RepoError, RepoResult,
    monasca::{
        AlarmDefinition, AlarmDefinitionRepo, DefinitionQuery, DefinitionSort, Page,
        definition_name_taken, rows, unknown_action,
    },
    now_ms,
};

const COLUMNS: &str =
    "id, tenant_id, name, description, expression, severity, match_by, actions_enabled";

fn column(sort: DefinitionSort) -> &'static str {
    match sort {
        DefinitionSort::Id => "id",
        DefinitionSort::Name => "name",
        DefinitionSort::Severity => "severity",
        DefinitionSort::UpdatedAt => "updated_at",
        DefinitionSort::CreatedAt => "created_at",
    }
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlarmDefinition> {
    let match_by: String = r.get(6)?;
    Ok(AlarmDefinition {
        id: r.get(0)?,
        tenant: r.get(1)?,
        name: r.get(2)?,
        description: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        expression: r.get(4)?,
        severity: r.get::<_, String>(5)?.into(),
        match_by: rows::match_by_from_column(&match_by),
        actions_enabled: r.get::<_, i64>(7)? != 0,
        alarm_actions: Vec::new(),
        ok_actions: Vec::new(),
        undetermined_actions: Vec::new(),
    })
}

fn load_actions(conn: &Connection, d: &mut AlarmDefinition) -> RepoResult<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT alarm_state, action_id FROM alarm_action WHERE alarm_definition_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![d.id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for r in rows {
        let (state, id) = r?;
        rows::push_action(d, &state, id);
    }
    Ok(())
}

/// The tenant's definition `id` with its actions, if it exists.
///
/// # Errors
/// The database fails.
pub fn get_definition(
    conn: &Connection,
    tenant: &str,
    id: &str,
) -> RepoResult<Option<AlarmDefinition>> {
    one_definition(conn, "tenant_id = ?1 AND id = ?2", params![tenant, id])
}

/// Definition `id` of whichever tenant, with its actions, for the threshold engine.
///
/// # Errors
/// The database fails.
pub fn definition_by_id(conn: &Connection, id: &str) -> RepoResult<Option<AlarmDefinition>> {
    one_definition(conn, "id = ?1", params![id])
}

fn one_definition(
    conn: &Connection,
    condition: &str,
    values: &[&dyn rusqlite::ToSql],
) -> RepoResult<Option<AlarmDefinition>> {
    let d = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM alarm_definition WHERE {condition}"),
            values,
            row,
        )
        .optional()?;
    match d {
        Some(mut d) => {
            load_actions(conn, &mut d)?;
            Ok(Some(d))
        }
        None => Ok(None),
    }
}

/// Every definition of every tenant with its actions, for the threshold engine.
///
/// # Errors
/// The database fails.
pub fn all_definitions(conn: &Connection) -> RepoResult<Vec<AlarmDefinition>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM alarm_definition"))?;
    let mut defs = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    for d in &mut defs {
        load_actions(conn, d)?;
    }
    Ok(defs)
}

/// Another definition of the tenant with this name.
pub(super) fn named(
    conn: &Connection,
    tenant: &str,
    name: &str,
    except: Option<&str>,
) -> RepoResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT id FROM alarm_definition WHERE tenant_id = ?1 AND name = ?2 AND id != ?3",
            params![tenant, name, except.unwrap_or("")],
            |r| r.get(0),
        )
        .optional()?)
}

/// Checks that every action names one of the tenant's notification methods.
pub(super) fn check_actions(conn: &Connection, d: &AlarmDefinition) -> RepoResult<()> {
    for (state, ids) in d.actions_in_check_order() {
        for id in ids {
            let found: Option<i64> = conn
                .query_row(
                    "SELECT 1 FROM notification_method WHERE tenant_id = ?1 AND id = ?2",
                    params![d.tenant, id],
                    |r| r.get(0),
                )
                .optional()?;
            if found.is_none() {
                return Err(unknown_action(id, &state));
            }
        }
    }
    Ok(())
}

fn write_actions(conn: &Connection, d: &AlarmDefinition) -> RepoResult<()> {
    conn.execute(
        "DELETE FROM alarm_action WHERE alarm_definition_id = ?1",
        params![d.id],
    )?;
    for (state, ids) in d.actions() {
        for id in ids {
            conn.execute(
                "INSERT OR IGNORE INTO alarm_action (alarm_definition_id, alarm_state, action_id) VALUES (?1, ?2, ?3)",
                params![d.id, state.as_str(), id],
            )?;
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, d: &AlarmDefinition, now: i64) -> RepoResult<()> {
    conn.execute(
        "INSERT INTO alarm_definition (id, tenant_id, name, description, expression, severity, match_by, actions_enabled, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            d.id,
            d.tenant,
            d.name,
            d.description,
            d.expression,
            d.severity.as_str(),
            rows::match_by_column(&d.match_by),
            d.actions_enabled,
            now
        ],
    )?;
    write_actions(conn, d)
}

pub(super) fn update(conn: &Connection, d: &AlarmDefinition, now: i64) -> RepoResult<()> {
    conn.execute(
        "UPDATE alarm_definition SET name = ?1, description = ?2, expression = ?3, severity = ?4, match_by = ?5, actions_enabled = ?6, updated_at = ?7 WHERE id = ?8",
        params![
            d.name,
            d.description,
            d.expression,
            d.severity.as_str(),
            rows::match_by_column(&d.match_by),
            d.actions_enabled,
            now,
            d.id
        ],
    )?;
    write_actions(conn, d)
}

/// Whether the definition has alarms.
pub(super) fn has_alarms(conn: &Connection, id: &str) -> RepoResult<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM alarm WHERE alarm_definition_id = ?1 LIMIT 1",
            params![id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The page of definitions, and whether more follow. Dimension filters are applied on the
/// parsed expressions, since sub-expressions are not stored as rows.
fn list(conn: &Connection, q: &DefinitionQuery) -> RepoResult<Page<AlarmDefinition>> {
    let mut sql = format!("SELECT {COLUMNS} FROM alarm_definition WHERE tenant_id = ?1");
    let mut args: Vec<String> = vec![q.tenant.clone()];
    if let Some(n) = &q.name {
        args.push(n.clone());
        sql.push_str(&format!(" AND name = ?{}", args.len()));
    }
    if !q.severities.is_empty() {
        let mut marks = Vec::new();
        for s in &q.severities {
            args.push(s.to_string());
            marks.push(format!("?{}", args.len()));
        }
        sql.push_str(&format!(" AND severity IN ({})", marks.join(", ")));
    }
    sql.push_str(&format!(
        " ORDER BY {}",
        rows::order_by(&q.sort, column, DefinitionSort::Id)
    ));
    let mut stmt = conn.prepare(&sql)?;
    let all = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), row)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut matching = all.into_iter().filter(|d| d.has_dimensions(&q.dimensions));
    let mut items: Vec<AlarmDefinition> = matching
        .by_ref()
        .skip(q.paging.offset)
        .take(q.paging.limit)
        .collect();
    let more = matching.next().is_some();
    for d in &mut items {
        load_actions(conn, d)?;
    }
    Ok(Page { items, more })
}

#[async_trait]
impl AlarmDefinitionRepo for SqliteMonasca {
    async fn create(&self, d: AlarmDefinition) -> RepoResult<()> {
        self.db
            .tx(move |tx| {
                if named(tx, &d.tenant, &d.name, None)?.is_some() {
                    return Err(definition_name_taken(&d.name, None));
                }
                check_actions(tx, &d)?;
                insert(tx, &d, now_ms())
            })
            .await
    }

    async fn get(&self, tenant: &str, id: &str) -> RepoResult<AlarmDefinition> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        self.db
            .call(move |conn| {
                get_definition(conn, &tenant, &id)?
                    .ok_or_else(|| RepoError::NotFound(format!("alarm definition {id}")))
            })
            .await
    }

    async fn list(&self, query: DefinitionQuery) -> RepoResult<Page<AlarmDefinition>> {
        self.db.call(move |conn| list(conn, &query)).await
    }

    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()> {
        super::delete_owned(&self.db, "alarm_definition", "alarm definition", tenant, id).await
    }
}

//! Alarm definitions as stored: one row per definition plus its actions.

use rusqlite::{Connection, OptionalExtension, params};

use crate::api::error::ApiError;

/// A stored alarm definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub description: String,
    pub expression: String,
    pub severity: String,
    pub match_by: Vec<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub undetermined_actions: Vec<String>,
}

impl Definition {
    pub fn actions(&self) -> [(&'static str, &Vec<String>); 3] {
        [
            ("ALARM", &self.alarm_actions),
            ("OK", &self.ok_actions),
            ("UNDETERMINED", &self.undetermined_actions),
        ]
    }
}

const COLUMNS: &str =
    "id, tenant_id, name, description, expression, severity, match_by, actions_enabled";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Definition> {
    let match_by: String = r.get(6)?;
    Ok(Definition {
        id: r.get(0)?,
        tenant: r.get(1)?,
        name: r.get(2)?,
        description: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        expression: r.get(4)?,
        severity: r.get(5)?,
        match_by: if match_by.is_empty() {
            Vec::new()
        } else {
            match_by.split(',').map(str::to_string).collect()
        },
        actions_enabled: r.get::<_, i64>(7)? != 0,
        alarm_actions: Vec::new(),
        ok_actions: Vec::new(),
        undetermined_actions: Vec::new(),
    })
}

fn load_actions(conn: &Connection, d: &mut Definition) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT alarm_state, action_id FROM alarm_action WHERE alarm_definition_id = ?1 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![d.id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for r in rows {
        let (state, id) = r?;
        match state.as_str() {
            "ALARM" => d.alarm_actions.push(id),
            "OK" => d.ok_actions.push(id),
            _ => d.undetermined_actions.push(id),
        }
    }
    Ok(())
}

/// The tenant's definition `id`, if it exists.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<Definition>> {
    let d = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM alarm_definition WHERE tenant_id = ?1 AND id = ?2"),
            params![tenant, id],
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

/// Every definition of every tenant, for the threshold engine.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<Definition>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM alarm_definition"))?;
    let mut defs = stmt.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    for d in &mut defs {
        load_actions(conn, d)?;
    }
    Ok(defs)
}

/// Another definition of the tenant with this name.
pub fn name_taken(
    conn: &Connection,
    tenant: &str,
    name: &str,
    except: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT id FROM alarm_definition WHERE tenant_id = ?1 AND name = ?2 AND id != ?3",
        params![tenant, name, except.unwrap_or("")],
        |r| r.get(0),
    )
    .optional()
}

/// Checks that every action names one of the tenant's notification methods.
pub fn check_actions(conn: &Connection, d: &Definition) -> Result<(), ApiError> {
    // upstream checks ALARM, then UNDETERMINED, then OK.
    for (state, ids) in [
        ("ALARM", &d.alarm_actions),
        ("UNDETERMINED", &d.undetermined_actions),
        ("OK", &d.ok_actions),
    ] {
        for id in ids {
            let found: Option<i64> = conn
                .query_row(
                    "SELECT 1 FROM notification_method WHERE tenant_id = ?1 AND id = ?2",
                    params![d.tenant, id],
                    |r| r.get(0),
                )
                .optional()?;
            if found.is_none() {
                return Err(ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "InvalidUpdateException",
                    format!(
                        "Non-existent notification id {id} submitted for {state} notification action"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn write_actions(conn: &Connection, d: &Definition) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM alarm_action WHERE alarm_definition_id = ?1",
        params![d.id],
    )?;
    for (state, ids) in d.actions() {
        for id in ids {
            conn.execute(
                "INSERT OR IGNORE INTO alarm_action (alarm_definition_id, alarm_state, action_id) VALUES (?1, ?2, ?3)",
                params![d.id, state, id],
            )?;
        }
    }
    Ok(())
}

pub fn insert(conn: &Connection, d: &Definition, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO alarm_definition (id, tenant_id, name, description, expression, severity, match_by, actions_enabled, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            d.id,
            d.tenant,
            d.name,
            d.description,
            d.expression,
            d.severity,
            d.match_by.join(","),
            d.actions_enabled,
            now
        ],
    )?;
    write_actions(conn, d)
}

pub fn update(conn: &Connection, d: &Definition, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE alarm_definition SET name = ?1, description = ?2, expression = ?3, severity = ?4, match_by = ?5, actions_enabled = ?6, updated_at = ?7 WHERE id = ?8",
        params![
            d.name,
            d.description,
            d.expression,
            d.severity,
            d.match_by.join(","),
            d.actions_enabled,
            now,
            d.id
        ],
    )?;
    write_actions(conn, d)
}

/// Deletes the definition and, through the foreign keys, its alarms. False if none.
pub fn delete(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM alarm_definition WHERE tenant_id = ?1 AND id = ?2",
        params![tenant, id],
    )? > 0)
}

/// Whether the definition has alarms.
pub fn has_alarms(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM alarm WHERE alarm_definition_id = ?1 LIMIT 1",
            params![id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Filters and order of a definition list.
pub struct ListQuery {
    pub tenant: String,
    pub name: Option<String>,
    pub severities: Vec<String>,
    /// `(dimension, value)` pairs one sub-expression must all have.
    pub dimensions: Vec<(String, String)>,
    pub sort: Vec<(String, bool)>,
    pub offset: usize,
    pub limit: usize,
}

/// The page of definitions, and whether more follow. Dimension filters are applied on the
/// parsed expressions, since sub-expressions are not stored as rows.
pub fn list(conn: &Connection, q: &ListQuery) -> rusqlite::Result<(Vec<Definition>, bool)> {
    let mut sql = format!("SELECT {COLUMNS} FROM alarm_definition WHERE tenant_id = ?1");
    let mut args: Vec<String> = vec![q.tenant.clone()];
    if let Some(n) = &q.name {
        args.push(n.clone());
        sql.push_str(&format!(" AND name = ?{}", args.len()));
    }
    if !q.severities.is_empty() {
        let mut marks = Vec::new();
        for s in &q.severities {
            args.push(s.clone());
            marks.push(format!("?{}", args.len()));
        }
        sql.push_str(&format!(" AND severity IN ({})", marks.join(", ")));
    }
    let mut order: Vec<String> = q
        .sort
        .iter()
        .map(|(f, desc)| format!("{f} {}", if *desc { "DESC" } else { "ASC" }))
        .collect();
    if !q.sort.iter().any(|(f, _)| f == "id") {
        order.push("id ASC".into());
    }
    sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    let mut stmt = conn.prepare(&sql)?;
    let all = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), row)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut matching = all.into_iter().filter(|d| dims_match(d, &q.dimensions));
    let mut page: Vec<Definition> = matching.by_ref().skip(q.offset).take(q.limit).collect();
    let more = matching.next().is_some();
    for d in &mut page {
        load_actions(conn, d)?;
    }
    Ok((page, more))
}

fn dims_match(d: &Definition, want: &[(String, String)]) -> bool {
    if want.is_empty() {
        return true;
    }
    let Ok(expr) = alarm_expr::parse(&d.expression) else {
        return false;
    };
    expr.sub_expressions().iter().any(|s| {
        want.iter()
            .all(|(k, v)| s.dimensions.iter().any(|(sk, sv)| sk == k && sv == v))
    })
}

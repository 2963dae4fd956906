//! `alarm_definition` rows and their `alarm_action`s.

use std::collections::HashMap;

use async_trait::async_trait;
use config_repo::{
    RepoError, RepoResult,
    monasca::{
        AlarmDefinition, AlarmDefinitionRepo, DefinitionQuery, DefinitionSort, Page,
        definition_name_taken, rows, unknown_action,
    },
    now_ms,
};
use postgres::{GenericClient, Row, types::ToSql};

use super::PgMonasca;
use crate::{PgResultExt, error::col};

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

fn row(r: &Row) -> RepoResult<AlarmDefinition> {
    let mut d = AlarmDefinition::new(col(r, 0)?, col(r, 1)?);
    d.name = col(r, 2)?;
    d.description = col::<Option<String>>(r, 3)?.unwrap_or_default();
    d.expression = col(r, 4)?;
    d.severity = col::<String>(r, 5)?.into();
    d.match_by = rows::match_by_from_column(&col::<String>(r, 6)?);
    d.actions_enabled = col(r, 7)?;
    Ok(d)
}

/// Fills in the actions of `defs` with one statement, in the order they were stored.
fn load_actions(c: &mut impl GenericClient, defs: &mut [AlarmDefinition]) -> RepoResult<()> {
    if defs.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
    let at: HashMap<String, usize> = defs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.clone(), i))
        .collect();
    for r in c
        .query(
            "SELECT alarm_definition_id, alarm_state, action_id FROM alarm_action \
             WHERE alarm_definition_id = ANY($1) ORDER BY seq",
            &[&ids],
        )
        .pg()?
    {
        let def: String = col(&r, 0)?;
        if let Some(&i) = at.get(&def) {
            rows::push_action(&mut defs[i], &col::<String>(&r, 1)?, col(&r, 2)?);
        }
    }
    Ok(())
}

fn definitions(
    c: &mut impl GenericClient,
    condition: &str,
    values: &[&(dyn ToSql + Sync)],
) -> RepoResult<Vec<AlarmDefinition>> {
    let mut defs = c
        .query(
            &format!("SELECT {COLUMNS} FROM alarm_definition WHERE {condition} ORDER BY id"),
            values,
        )
        .pg()?
        .iter()
        .map(row)
        .collect::<RepoResult<Vec<_>>>()?;
    load_actions(c, &mut defs)?;
    Ok(defs)
}

/// The tenant's definition `id` with its actions, if it exists.
pub(super) fn get_definition(
    c: &mut impl GenericClient,
    tenant: &str,
    id: &str,
) -> RepoResult<Option<AlarmDefinition>> {
    Ok(definitions(c, "tenant_id = $1 AND id = $2", &[&tenant, &id])?.pop())
}

/// Definition `id` of whichever tenant, with its actions, for the threshold engine.
pub(crate) fn definition_by_id(
    c: &mut impl GenericClient,
    id: &str,
) -> RepoResult<Option<AlarmDefinition>> {
    Ok(definitions(c, "id = $1", &[&id])?.pop())
}

/// Every definition of every tenant with its actions, for the threshold engine.
pub(crate) fn all_definitions(c: &mut impl GenericClient) -> RepoResult<Vec<AlarmDefinition>> {
    definitions(c, "true", &[])
}

/// Another definition of the tenant with this name.
pub(super) fn named(
    c: &mut impl GenericClient,
    tenant: &str,
    name: &str,
    except: Option<&str>,
) -> RepoResult<Option<String>> {
    c.query_opt(
        "SELECT id FROM alarm_definition WHERE tenant_id = $1 AND name = $2 AND id != $3",
        &[&tenant, &name, &except.unwrap_or("")],
    )
    .pg()?
    .map(|r| col(&r, 0))
    .transpose()
}

/// Checks that every action names one of the tenant's notification methods.
pub(super) fn check_actions(c: &mut impl GenericClient, d: &AlarmDefinition) -> RepoResult<()> {
    for (state, ids) in d.actions_in_check_order() {
        for id in ids {
            let found = c
                .query_opt(
                    "SELECT 1 FROM notification_method WHERE tenant_id = $1 AND id = $2",
                    &[&d.tenant, id],
                )
                .pg()?;
            if found.is_none() {
                return Err(unknown_action(id, &state));
            }
        }
    }
    Ok(())
}

fn write_actions(c: &mut impl GenericClient, d: &AlarmDefinition) -> RepoResult<()> {
    c.execute(
        "DELETE FROM alarm_action WHERE alarm_definition_id = $1",
        &[&d.id],
    )
    .pg()?;
    for (state, ids) in d.actions() {
        for id in ids {
            c.execute(
                "INSERT INTO alarm_action (alarm_definition_id, alarm_state, action_id) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&d.id, &state.as_str(), id],
            )
            .pg()?;
        }
    }
    Ok(())
}

pub(crate) fn insert(c: &mut impl GenericClient, d: &AlarmDefinition, now: i64) -> RepoResult<()> {
    c.execute(
        "INSERT INTO alarm_definition (id, tenant_id, name, description, expression, severity, \
         match_by, actions_enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        &[
            &d.id,
            &d.tenant,
            &d.name,
            &d.description,
            &d.expression,
            &d.severity.as_str(),
            &rows::match_by_column(&d.match_by),
            &d.actions_enabled,
            &now,
        ],
    )
    .pg()?;
    write_actions(c, d)
}

pub(super) fn update(c: &mut impl GenericClient, d: &AlarmDefinition, now: i64) -> RepoResult<()> {
    c.execute(
        "UPDATE alarm_definition SET name = $1, description = $2, expression = $3, \
         severity = $4, match_by = $5, actions_enabled = $6, updated_at = $7 WHERE id = $8",
        &[
            &d.name,
            &d.description,
            &d.expression,
            &d.severity.as_str(),
            &rows::match_by_column(&d.match_by),
            &d.actions_enabled,
            &now,
            &d.id,
        ],
    )
    .pg()?;
    write_actions(c, d)
}

/// Whether the definition has alarms.
pub(super) fn has_alarms(c: &mut impl GenericClient, id: &str) -> RepoResult<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM alarm WHERE alarm_definition_id = $1 LIMIT 1",
        &[&id],
    )
    .pg()?
    .is_some())
}

/// The page of definitions, and whether more follow. Dimension filters are applied on the
/// parsed expressions, since sub-expressions are not stored as rows.
fn list(c: &mut impl GenericClient, q: &DefinitionQuery) -> RepoResult<Page<AlarmDefinition>> {
    let severities: Vec<String> = q.severities.iter().map(ToString::to_string).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM alarm_definition WHERE tenant_id = $1 \
         AND ($2::text IS NULL OR name = $2) \
         AND (cardinality($3::text[]) = 0 OR severity = ANY($3)) ORDER BY {}",
        rows::order_by(&q.sort, column, DefinitionSort::Id)
    );
    let all = c
        .query(&sql, &[&q.tenant, &q.name, &severities])
        .pg()?
        .iter()
        .map(row)
        .collect::<RepoResult<Vec<_>>>()?;
    let mut matching = all.into_iter().filter(|d| d.has_dimensions(&q.dimensions));
    let mut items: Vec<AlarmDefinition> = matching
        .by_ref()
        .skip(q.paging.offset)
        .take(q.paging.limit)
        .collect();
    let more = matching.next().is_some();
    load_actions(c, &mut items)?;
    Ok(Page { items, more })
}

#[async_trait]
impl AlarmDefinitionRepo for PgMonasca {
    async fn create(&self, d: AlarmDefinition) -> RepoResult<()> {
        self.locked_tx(move |tx| {
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
        self.call(move |c| {
            get_definition(c, &tenant, &id)?
                .ok_or_else(|| RepoError::NotFound(format!("alarm definition {id}")))
        })
        .await
    }

    async fn list(&self, query: DefinitionQuery) -> RepoResult<Page<AlarmDefinition>> {
        self.call(move |c| list(c, &query)).await
    }

    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()> {
        super::delete_owned(self, "alarm_definition", "alarm definition", tenant, id).await
    }
}

//! Alarm definitions as the threshold engine reads them; the stored model and its SQL are
//! config-repo's.

use config_repo::monasca::AlarmDefinition;
use rusqlite::Connection;

/// A stored alarm definition, as the engine keeps it.
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

impl From<AlarmDefinition> for Definition {
    fn from(d: AlarmDefinition) -> Self {
        Self {
            id: d.id,
            tenant: d.tenant,
            name: d.name,
            description: d.description,
            expression: d.expression,
            severity: d.severity.to_string(),
            match_by: d.match_by,
            actions_enabled: d.actions_enabled,
            alarm_actions: d.alarm_actions,
            ok_actions: d.ok_actions,
            undetermined_actions: d.undetermined_actions,
        }
    }
}

fn storage(e: config_repo::RepoError) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// The tenant's definition `id`, if it exists.
///
/// # Errors
/// The database fails.
pub fn get(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<Definition>> {
    config_repo::sqlite::monasca::get_definition(conn, tenant, id)
        .map(|d| d.map(Definition::from))
        .map_err(storage)
}

/// Every definition of every tenant.
///
/// # Errors
/// The database fails.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<Definition>> {
    config_repo::sqlite::monasca::all_definitions(conn)
        .map(|v| v.into_iter().map(Definition::from).collect())
        .map_err(storage)
}

//! Alarm definitions: an expression, a severity, `match_by` and the actions per state.

use async_trait::async_trait;
use monasca::types::{AlarmState, Severity};

use super::{Page, Paging};
use crate::{RepoError, RepoResult};

/// A stored alarm definition with its actions.
#[derive(Clone, Debug, PartialEq)]
pub struct AlarmDefinition {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub description: String,
    pub expression: String,
    pub severity: Severity,
    pub match_by: Vec<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub undetermined_actions: Vec<String>,
}

impl AlarmDefinition {
    /// A definition with the API's defaults (LOW, actions enabled, none set).
    pub fn new(id: String, tenant: String) -> Self {
        Self {
            id,
            tenant,
            name: String::new(),
            description: String::new(),
            expression: String::new(),
            severity: Severity::Low,
            match_by: Vec::new(),
            actions_enabled: true,
            alarm_actions: Vec::new(),
            ok_actions: Vec::new(),
            undetermined_actions: Vec::new(),
        }
    }

    /// The actions per state, in the order they are stored.
    pub fn actions(&self) -> [(AlarmState, &Vec<String>); 3] {
        [
            (AlarmState::Alarm, &self.alarm_actions),
            (AlarmState::Ok, &self.ok_actions),
            (AlarmState::Undetermined, &self.undetermined_actions),
        ]
    }

    /// The actions in the order upstream checks them: ALARM, UNDETERMINED, OK.
    pub fn actions_in_check_order(&self) -> [(AlarmState, &Vec<String>); 3] {
        [
            (AlarmState::Alarm, &self.alarm_actions),
            (AlarmState::Undetermined, &self.undetermined_actions),
            (AlarmState::Ok, &self.ok_actions),
        ]
    }

    /// Whether one sub-expression has every `(dimension, value)` pair; an expression that
    /// does not parse matches no filter.
    pub fn has_dimensions(&self, want: &[(String, String)]) -> bool {
        if want.is_empty() {
            return true;
        }
        let Ok(expr) = alarm_expr::parse(&self.expression) else {
            return false;
        };
        expr.sub_expressions().iter().any(|s| {
            want.iter()
                .all(|(k, v)| s.dimensions.iter().any(|(sk, sv)| sk == k && sv == v))
        })
    }
}

/// What a definition list may be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefinitionSort {
    Id,
    Name,
    Severity,
    UpdatedAt,
    CreatedAt,
}

impl DefinitionSort {
    /// The field by its API name (`id`, `name`, `severity`, `updated_at`, `created_at`).
    pub fn from_field(field: &str) -> Option<Self> {
        Some(match field {
            "id" => Self::Id,
            "name" => Self::Name,
            "severity" => Self::Severity,
            "updated_at" => Self::UpdatedAt,
            "created_at" => Self::CreatedAt,
            _ => return None,
        })
    }
}

/// Filters and order of a definition list.
#[derive(Clone, Debug, PartialEq)]
pub struct DefinitionQuery {
    pub tenant: String,
    pub name: Option<String>,
    /// Any of these (none: all).
    pub severities: Vec<Severity>,
    /// `(dimension, value)` pairs one sub-expression must all have.
    pub dimensions: Vec<(String, String)>,
    pub sort: Vec<(DefinitionSort, bool)>,
    pub paging: Paging,
}

impl DefinitionQuery {
    /// Every definition of `tenant`, by id, one page of `limit`.
    pub fn all(tenant: &str, limit: usize) -> Self {
        Self {
            tenant: tenant.to_string(),
            name: None,
            severities: Vec::new(),
            dimensions: Vec::new(),
            sort: Vec::new(),
            paging: Paging { offset: 0, limit },
        }
    }
}

/// The alarm definitions of every tenant. Changes that mix checks with writes (an update
/// that depends on the stored definition) run in a [`MonascaUnit`](super::MonascaUnit).
#[async_trait]
pub trait AlarmDefinitionRepo: Send + Sync {
    /// Stores a new definition with its actions.
    ///
    /// # Errors
    /// `Conflict` if the tenant has a definition of that name, `Invalid` if an action names
    /// no notification method of the tenant.
    async fn create(&self, definition: AlarmDefinition) -> RepoResult<()>;

    /// The tenant's definition `id`.
    ///
    /// # Errors
    /// `NotFound` if the tenant has none such.
    async fn get(&self, tenant: &str, id: &str) -> RepoResult<AlarmDefinition>;

    /// A page of definitions. Dimension filters apply to the parsed expressions.
    async fn list(&self, query: DefinitionQuery) -> RepoResult<Page<AlarmDefinition>>;

    /// Deletes the definition and its alarms.
    ///
    /// # Errors
    /// `NotFound` if the tenant has no such definition.
    async fn delete(&self, tenant: &str, id: &str) -> RepoResult<()>;
}

/// The conflict a taken name causes; `other` names the holder on update.
pub fn definition_name_taken(name: &str, other: Option<&str>) -> RepoError {
    RepoError::Conflict(match other {
        None => format!("An alarm definition with the name {name} already exists"),
        Some(o) => format!("An alarm definition with the name {name} already exists with id {o}"),
    })
}

/// An action that names no notification method of the tenant.
pub fn unknown_action(id: &str, state: &AlarmState) -> RepoError {
    RepoError::Invalid(format!(
        "Non-existent notification id {id} submitted for {state} notification action"
    ))
}

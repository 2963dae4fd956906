//! How the Monasca models map to table columns, apart from SQL: shared by every backend so
//! that SQLite and PostgreSQL store and read back the same values.

use std::collections::BTreeMap;

use monasca::types::AlarmMetric;

use super::{AlarmDefinition, AlarmRecord};

/// `match_by` as its column holds it: the dimension names comma-joined.
pub fn match_by_column(match_by: &[String]) -> String {
    match_by.join(",")
}

/// `match_by` from its column.
pub fn match_by_from_column(column: &str) -> Vec<String> {
    if column.is_empty() {
        Vec::new()
    } else {
        column.split(',').map(str::to_string).collect()
    }
}

/// Adds action `id` of the state stored as `state` to `d` (stored order is kept).
pub fn push_action(d: &mut AlarmDefinition, state: &str, id: String) {
    match state {
        "ALARM" => d.alarm_actions.push(id),
        "OK" => d.ok_actions.push(id),
        _ => d.undetermined_actions.push(id),
    }
}

/// A metric's dimensions as their column holds them (a JSON object, keys sorted).
pub fn dimensions_column(dimensions: &BTreeMap<String, String>) -> String {
    serde_json::to_string(dimensions).unwrap_or_default()
}

/// A metric's dimensions from their column (none if the text is not a JSON object).
pub fn dimensions_from_column(column: &str) -> BTreeMap<String, String> {
    serde_json::from_str(column).unwrap_or_default()
}

/// A list column (history metrics and sub-alarms, sub-alarm values) as JSON, `[]` if it
/// cannot be encoded.
pub fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// `ORDER BY` terms for `sort`, then the id ascending unless sorted by id already.
/// `column` maps a sort field to one of the backend's own column names, never caller input.
pub fn order_by<F: Copy + PartialEq>(
    sort: &[(F, bool)],
    column: impl Fn(F) -> &'static str,
    id: F,
) -> String {
    let mut order: Vec<String> = sort
        .iter()
        .map(|(f, desc)| format!("{} {}", column(*f), if *desc { "DESC" } else { "ASC" }))
        .collect();
    if !sort.iter().any(|(f, _)| *f == id) {
        order.push(format!("{} ASC", column(id)));
    }
    order.join(", ")
}

/// Hands each alarm of `alarms` (sorted by id, bytewise) its metrics from `metrics`:
/// `(alarm id, metric)` sorted the same way, so both lists are walked once together.
///
/// # Errors
/// The first error `metrics` yields.
pub fn attach_metrics<E>(
    alarms: &mut [AlarmRecord],
    mut metrics: impl Iterator<Item = Result<(String, AlarmMetric), E>>,
) -> Result<(), E> {
    let mut next = metrics.next().transpose()?;
    for a in alarms {
        while let Some((alarm_id, m)) = next.take() {
            if alarm_id > a.id {
                next = Some((alarm_id, m));
                break;
            }
            if alarm_id == a.id {
                a.metrics.push(m);
            }
            next = metrics.next().transpose()?;
        }
    }
    Ok(())
}

//! Alert notifications: team-owned objects of kind `notification` that point at their alert.
//! Recorded by the alert engine and by the API's injection route, so the rule of what a
//! notification holds lives here, next to the records, for both.

use super::{Document, SysdigTx, TeamObject, kinds};
use crate::RepoResult;
use serde_json::{Value, json};

/// Records a notification of `alert` in `team` (state `ACTIVE` or `OK`, time in µs).
///
/// # Errors
/// The repository fails.
pub fn record(
    c: &dyn SysdigTx,
    team: i64,
    alert: &TeamObject,
    state: &str,
    timestamp_us: i64,
    entities: Value,
) -> RepoResult<TeamObject> {
    let a = &alert.doc;
    let mut doc = Document::new();
    doc.insert("alert".into(), alert.id.into());
    doc.insert("name".into(), a.get("name").cloned().unwrap_or(Value::Null));
    doc.insert("state".into(), state.into());
    doc.insert("resolved".into(), false.into());
    doc.insert("timestamp".into(), timestamp_us.into());
    for k in ["severity", "condition", "filter", "timespan", "type"] {
        doc.insert(k.into(), a.get(k).cloned().unwrap_or(Value::Null));
    }
    doc.insert(
        "criteria".into(),
        a.get("condition").cloned().unwrap_or(Value::Null),
    );
    doc.insert("groupAggregations".into(), json!([]));
    doc.insert("entities".into(), entities);
    c.obj_insert(kinds::NOTIFICATION, team, doc)
}

/// Deletes the notifications of alert `alert_id` (they go with their alert).
///
/// # Errors
/// The repository fails.
pub fn delete_of_alert(c: &dyn SysdigTx, team: i64, alert_id: i64) -> RepoResult<()> {
    c.obj_delete_by(kinds::NOTIFICATION, team, "alert", alert_id)?;
    Ok(())
}

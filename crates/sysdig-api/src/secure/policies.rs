//! `/api/v2/policies`: runtime policies per Secure team. Bodies are bare (a JSON array for the
//! list, the object otherwise), as sdcclient's `PolicyClientV2` reads them; a DELETE answers
//! the deleted policy. A policy names rules that exist (stored, or defined in a rules file).

use axum::{extract::State, response::Response};
use config_repo::sysdig::{SysdigTx, TeamObject, kinds};
use serde_json::{Map, Value, json};
use sysdig::secure::policies::Policy;

use super::{SecureCaller, defaults, rules::rule_defined};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{
        JsonBody, Kind, P, check_fields, check_version, default_field, ok, parse_id, required_str,
    },
    monitor::wire::{columns_and_doc, typed},
};

const KIND: &str = kinds::SECURE_POLICY;

/// Policy types Sysdig documents.
const TYPES: &[&str] = &[
    "falco",
    "list_matching",
    "k8s_audit",
    "aws_cloudtrail",
    "gcp_auditlog",
    "azure_platformlogs",
    "drift",
    "machine_learning",
];

/// Action types the policy engine knows.
const ACTIONS: &[&str] = &[
    "POLICY_ACTION_STOP",
    "POLICY_ACTION_PAUSE",
    "POLICY_ACTION_KILL",
    "POLICY_ACTION_CAPTURE",
];

fn not_found() -> SdcError {
    SdcError::not_found("Policy not found")
}

/// A stored policy as the API shows it.
pub fn view(o: &TeamObject) -> Policy {
    let mut doc = columns_and_doc(o);
    doc.remove("teamId");
    typed(doc)
}

fn load(c: &dyn SysdigTx, team: i64, raw: &str) -> SdcResult<TeamObject> {
    let id = parse_id(raw).ok_or_else(not_found)?;
    c.obj_get(KIND, team, id)?.ok_or_else(not_found)
}

pub async fn list(State(state): State<SysdigState>, caller: SecureCaller) -> SdcResult<Response> {
    let team = caller.team_id();
    let all = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            Ok(c.obj_list(KIND, team)?.iter().map(view).collect::<Vec<_>>())
        })
        .await?;
    Ok(ok(json!(all)))
}

pub async fn get(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let p = state.tx(move |c| Ok(view(&load(c, team, &id)?))).await?;
    Ok(ok(json!(p)))
}

pub async fn create(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let mut m = body.object()?;
    let p = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            prepare(c, team, None, &mut m)?;
            m.insert("origin".into(), defaults::ORIGIN_API.into());
            m.insert("isDefault".into(), false.into());
            Ok(view(&c.obj_insert(KIND, team, m)?))
        })
        .await?;
    Ok(ok(json!(p)))
}

pub async fn update(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let mut m = body.object()?;
    let p = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            let mut o = load(c, team, &id)?;
            check_version(&m, o.version, "Policy")?;
            prepare(c, team, Some(o.id), &mut m)?;
            // Who made it and whether it is a default stay as they were.
            for k in ["origin", "isDefault"] {
                match o.doc.get(k) {
                    Some(v) => m.insert(k.into(), v.clone()),
                    None => m.remove(k),
                };
            }
            o.doc = m;
            c.obj_save(&mut o, true)?;
            Ok(view(&o))
        })
        .await?;
    Ok(ok(json!(p)))
}

pub async fn delete(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let p = state
        .tx(move |c| {
            let o = load(c, team, &id)?;
            c.obj_delete(KIND, team, o.id)?;
            Ok(view(&o))
        })
        .await?;
    Ok(ok(json!(p)))
}

/// `GET /api/v2/policies/default`: the default policies the team's default rules files
/// recommend (sdcclient only checks that this is no 404).
pub async fn defaults_list(
    State(state): State<SysdigState>,
    caller: SecureCaller,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let all = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            super::rules_files::default_policies(c, team)
        })
        .await?;
    Ok(ok(Value::Array(all)))
}

/// `POST /api/v2/policies/default`: creates the default policies the team lacks (by name) and
/// answers them.
pub async fn create_defaults(
    State(state): State<SysdigState>,
    caller: SecureCaller,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let made = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            let mut made = Vec::new();
            for p in super::rules_files::default_policies(c, team)? {
                let Value::Object(mut m) = p else { continue };
                let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
                if name.is_empty() || c.obj_name_taken(KIND, team, name, None)? {
                    continue;
                }
                for k in ["id", "version", "origin", "createdOn", "modifiedOn"] {
                    m.remove(k);
                }
                prepare(c, team, None, &mut m)?;
                m.insert("origin".into(), defaults::ORIGIN_SYSDIG.into());
                m.insert("isDefault".into(), true.into());
                made.push(view(&c.obj_insert(KIND, team, m)?));
            }
            Ok(made)
        })
        .await?;
    Ok(ok(json!(made)))
}

/// Checks a policy body and fills its defaults; `own` is the policy's id on an update.
fn prepare(
    c: &dyn SysdigTx,
    team: i64,
    own: Option<i64>,
    m: &mut Map<String, Value>,
) -> SdcResult<()> {
    check_fields(
        m,
        &[
            ("name", Kind::Str),
            ("description", Kind::Str),
            ("type", Kind::Str),
            ("severity", Kind::Int),
            ("enabled", Kind::Bool),
            ("scope", Kind::Str),
            ("ruleNames", Kind::Arr),
            ("actions", Kind::Arr),
            ("notificationChannelIds", Kind::Arr),
            ("runbook", Kind::Str),
            ("versionId", Kind::Str),
        ],
    )?;
    for k in ["id", "version", "teamId", "createdOn", "modifiedOn"] {
        m.remove(k);
    }
    let name = required_str(m, "name")?;
    for (k, v) in [
        ("description", json!("")),
        ("type", json!("falco")),
        ("severity", json!(0)),
        ("enabled", json!(true)),
        ("scope", json!("")),
        ("ruleNames", json!([])),
        ("actions", json!([])),
        ("notificationChannelIds", json!([])),
        ("runbook", json!("")),
        ("versionId", json!("0.0.0")),
    ] {
        default_field(m, k, v);
    }
    let ty = m.get("type").and_then(Value::as_str).unwrap_or_default();
    if !TYPES.contains(&ty) {
        return Err(SdcError::bad_request(format!(
            "Invalid policy type '{ty}': expected one of {}",
            TYPES.join(", ")
        )));
    }
    let severity = m.get("severity").and_then(Value::as_i64).unwrap_or(0);
    if !(0..=7).contains(&severity) {
        return Err(SdcError::bad_request(
            "Field 'severity' must be between 0 and 7",
        ));
    }
    let rules = m
        .get("ruleNames")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for r in &rules {
        let Some(r) = r.as_str() else {
            return Err(SdcError::bad_request(
                "Field 'ruleNames' must be an array of strings",
            ));
        };
        if !rule_defined(c, team, r)? {
            return Err(SdcError::bad_request(format!("Rule '{r}' does not exist")));
        }
    }
    check_actions(m)?;
    for ch in m
        .get("notificationChannelIds")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let Some(id) = ch.as_i64() else {
            return Err(SdcError::bad_request(
                "Field 'notificationChannelIds' must be an array of integers",
            ));
        };
        if c.obj_get(kinds::CHANNEL, team, id)?.is_none() {
            return Err(SdcError::unprocessable(format!(
                "Notification channel {id} not found"
            )));
        }
    }
    if c.obj_name_taken(KIND, team, &name, own)? {
        return Err(SdcError::conflict(format!(
            "A policy named '{name}' already exists"
        )));
    }
    Ok(())
}

fn check_actions(m: &mut Map<String, Value>) -> SdcResult<()> {
    let Some(Value::Array(actions)) = m.get_mut("actions") else {
        return Ok(());
    };
    for a in actions {
        let Value::Object(a) = a else {
            return Err(SdcError::bad_request(
                "Field 'actions' must be an array of objects",
            ));
        };
        let ty = a.get("type").and_then(Value::as_str).unwrap_or_default();
        if !ACTIONS.contains(&ty) {
            return Err(SdcError::bad_request(format!(
                "Invalid action type '{ty}': expected one of {}",
                ACTIONS.join(", ")
            )));
        }
        if ty == "POLICY_ACTION_CAPTURE" {
            // sdcclient computes the times as floats (`secs * 1e9`): whole numbers are kept
            // as integers.
            for k in ["beforeEventNs", "afterEventNs"] {
                match a.get(k).map(|v| (v.as_u64(), v.as_f64())) {
                    None => {}
                    Some((Some(_), _)) => {}
                    Some((None, Some(f))) if f >= 0.0 && f.fract() == 0.0 && f < 1e19 => {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        a.insert(k.into(), Value::from(f as u64));
                    }
                    Some(_) => {
                        return Err(SdcError::bad_request(format!(
                            "Field '{k}' must be a non-negative integer (nanoseconds)"
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

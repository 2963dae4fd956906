//! `/api/secure/rules`, `/api/secure/falco/macros`, `/api/secure/falco/lists`: one set of
//! handlers for the three (summaries, groups by name, get, add, update, delete). Several objects
//! may share a name when all but one append to it; `groups?name=` also finds what the team's
//! rules files define. A DELETE answers the deleted object.

use axum::{
    extract::{RawQuery, State},
    response::Response,
};
use config_repo::sysdig::{SysdigTx, TeamObject, kinds};
use serde_json::{Map, Value, json};

use super::{
    SecureCaller, defaults,
    falco_yaml::{self, ItemKind},
    rules_files,
};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{
        JsonBody, Kind, P, check_fields, check_version, default_field, ok, parse_id, query_get,
        query_pairs, required_str,
    },
    monitor::wire::columns_and_doc,
};

/// One of the three collections.
pub trait Collection: Send + 'static {
    const KIND: &'static str;
    /// `Rule`, `Macro`, `List`: in messages.
    const WHAT: &'static str;
    /// What rules files call it.
    const ITEM: ItemKind;

    /// Checks a body and fills its defaults.
    fn prepare(m: &mut Map<String, Value>) -> SdcResult<()>;

    /// Whether the object extends another of its name.
    fn appends(m: &Map<String, Value>) -> bool {
        m.get("append").and_then(Value::as_bool) == Some(true)
    }

    /// A file-defined item as this API shows it.
    fn file_view(d: &falco_yaml::Defined, file: &str) -> Value {
        falco_yaml::macro_or_list_view(d, file)
    }

    /// Refuses to delete an object something still needs.
    fn check_delete(_c: &dyn SysdigTx, _team: i64, _o: &TeamObject) -> SdcResult<()> {
        Ok(())
    }
}

pub struct Rules;
pub struct Macros;
pub struct Lists;

/// Falco's rule priorities.
const PRIORITIES: &[&str] = &[
    "EMERGENCY",
    "ALERT",
    "CRITICAL",
    "ERROR",
    "WARNING",
    "NOTICE",
    "INFORMATIONAL",
    "INFO",
    "DEBUG",
];

impl Collection for Rules {
    const KIND: &'static str = kinds::SECURE_RULE;
    const WHAT: &'static str = "Rule";
    const ITEM: ItemKind = ItemKind::Rule;

    fn prepare(m: &mut Map<String, Value>) -> SdcResult<()> {
        check_fields(
            m,
            &[
                ("name", Kind::Str),
                ("description", Kind::Str),
                ("tags", Kind::Arr),
                ("details", Kind::Obj),
            ],
        )?;
        required_str(m, "name")?;
        default_field(m, "description", json!(""));
        default_field(m, "tags", json!([]));
        if m.get("tags")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.iter().all(Value::is_string))
        {
            return Err(SdcError::bad_request(
                "Field 'tags' must be an array of strings",
            ));
        }
        default_field(m, "details", json!({}));
        let Some(Value::Object(d)) = m.get_mut("details") else {
            return Ok(());
        };
        check_fields(
            d,
            &[
                ("ruleType", Kind::Str),
                ("condition", Kind::Obj),
                ("output", Kind::Str),
                ("priority", Kind::Str),
                ("source", Kind::Str),
                ("append", Kind::Bool),
            ],
        )?;
        default_field(d, "ruleType", json!("FALCO"));
        default_field(d, "append", json!(false));
        default_field(d, "source", json!("syscall"));
        // Other rule types (lists of containers, files, processes, ...) carry their own
        // details and no Falco condition.
        let falco = d
            .get("ruleType")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("FALCO"));
        let append = d.get("append").and_then(Value::as_bool) == Some(true);
        if !falco {
            return Ok(());
        }
        check_condition(d, "details.condition", !append)?;
        if !append {
            for k in ["output", "priority"] {
                if d.get(k)
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.trim().is_empty())
                {
                    return Err(SdcError::bad_request(format!(
                        "Field 'details.{k}' is required"
                    )));
                }
            }
        }
        if let Some(p) = d.get("priority").and_then(Value::as_str)
            && !PRIORITIES.contains(&p.to_ascii_uppercase().as_str())
        {
            return Err(SdcError::bad_request(format!(
                "Invalid priority '{p}': expected one of {}",
                PRIORITIES.join(", ")
            )));
        }
        Ok(())
    }

    fn appends(m: &Map<String, Value>) -> bool {
        m.get("details")
            .and_then(|d| d.get("append"))
            .and_then(Value::as_bool)
            == Some(true)
    }

    fn file_view(d: &falco_yaml::Defined, file: &str) -> Value {
        falco_yaml::rule_view(d, file)
    }

    /// A rule a policy names stays while it is the last definition of its name.
    fn check_delete(c: &dyn SysdigTx, team: i64, o: &TeamObject) -> SdcResult<()> {
        let name = o
            .doc
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let others = c
            .obj_list(Self::KIND, team)?
            .iter()
            .any(|r| r.id != o.id && r.doc.get("name").and_then(Value::as_str) == Some(name));
        if others || in_files(c, team, ItemKind::Rule, name)? {
            return Ok(());
        }
        for p in c.obj_list(kinds::SECURE_POLICY, team)? {
            let uses = p
                .doc
                .get("ruleNames")
                .and_then(Value::as_array)
                .is_some_and(|rs| rs.iter().any(|r| r.as_str() == Some(name)));
            if uses {
                let policy = p
                    .doc
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                return Err(SdcError::conflict(format!(
                    "Rule '{name}' is used by policy '{policy}'"
                )));
            }
        }
        Ok(())
    }
}

impl Collection for Macros {
    const KIND: &'static str = kinds::FALCO_MACRO;
    const WHAT: &'static str = "Macro";
    const ITEM: ItemKind = ItemKind::Macro;

    fn prepare(m: &mut Map<String, Value>) -> SdcResult<()> {
        check_fields(
            m,
            &[
                ("name", Kind::Str),
                ("condition", Kind::Obj),
                ("append", Kind::Bool),
            ],
        )?;
        required_str(m, "name")?;
        default_field(m, "append", json!(false));
        check_condition(m, "condition", true)
    }
}

impl Collection for Lists {
    const KIND: &'static str = kinds::FALCO_LIST;
    const WHAT: &'static str = "List";
    const ITEM: ItemKind = ItemKind::List;

    fn prepare(m: &mut Map<String, Value>) -> SdcResult<()> {
        check_fields(
            m,
            &[
                ("name", Kind::Str),
                ("items", Kind::Obj),
                ("append", Kind::Bool),
            ],
        )?;
        required_str(m, "name")?;
        default_field(m, "append", json!(false));
        let items = m.get("items").and_then(|i| i.get("items"));
        match items.and_then(Value::as_array) {
            Some(a) if a.iter().all(Value::is_string) => Ok(()),
            _ => Err(SdcError::bad_request(
                "Field 'items' must be an object with 'items', an array of strings",
            )),
        }
    }
}

/// `{"condition": "<text>", "components": [...]}` under `key` of `m`.
fn check_condition(m: &mut Map<String, Value>, label: &str, required: bool) -> SdcResult<()> {
    let key = label.rsplit('.').next().unwrap_or(label);
    if m.get(key).is_none_or(Value::is_null) {
        if required {
            return Err(SdcError::bad_request(format!(
                "Field '{label}' is required"
            )));
        }
        return Ok(());
    }
    let Some(Value::Object(cond)) = m.get_mut(key) else {
        return Err(SdcError::bad_request(format!(
            "Field '{label}' must be an object"
        )));
    };
    default_field(cond, "components", json!([]));
    if !cond.get("components").is_some_and(Value::is_array) {
        return Err(SdcError::bad_request(format!(
            "Field '{label}.components' must be an array"
        )));
    }
    match cond.get("condition") {
        Some(Value::String(s)) if !s.trim().is_empty() || !required => Ok(()),
        _ => Err(SdcError::bad_request(format!(
            "Field '{label}.condition' must be a non-empty string"
        ))),
    }
}

/// Whether a rules file of the team defines a `kind` called `name`.
fn in_files(c: &dyn SysdigTx, team: i64, kind: ItemKind, name: &str) -> SdcResult<bool> {
    Ok(rules_files::defined(c, team)?
        .iter()
        .any(|(_, d)| d.kind == kind && d.name == name))
}

/// Whether the team has a rule `name` a policy may use: stored or defined in a rules file.
pub fn rule_defined(c: &dyn SysdigTx, team: i64, name: &str) -> SdcResult<bool> {
    Ok(c.obj_name_taken(kinds::SECURE_RULE, team, name, None)?
        || in_files(c, team, ItemKind::Rule, name)?)
}

fn view(o: &TeamObject) -> Value {
    let mut doc = columns_and_doc(o);
    doc.remove("teamId");
    Value::Object(doc)
}

fn not_found<R: Collection>() -> SdcError {
    SdcError::not_found(format!("{} not found", R::WHAT))
}

fn load<R: Collection>(c: &dyn SysdigTx, team: i64, raw: &str) -> SdcResult<TeamObject> {
    let id = parse_id(raw).ok_or_else(not_found::<R>)?;
    c.obj_get(R::KIND, team, id)?.ok_or_else(not_found::<R>)
}

/// Refuses a second definition of a name unless one of the two appends.
fn check_name<R: Collection>(
    c: &dyn SysdigTx,
    team: i64,
    own: Option<i64>,
    m: &Map<String, Value>,
) -> SdcResult<()> {
    if R::appends(m) {
        return Ok(());
    }
    let name = m.get("name").and_then(Value::as_str).unwrap_or_default();
    let clash = c.obj_list(R::KIND, team)?.into_iter().any(|o| {
        Some(o.id) != own
            && o.doc.get("name").and_then(Value::as_str) == Some(name)
            && !R::appends(&o.doc)
    });
    if clash {
        return Err(SdcError::conflict(format!(
            "A {} named '{name}' already exists",
            R::WHAT.to_lowercase()
        )));
    }
    Ok(())
}

/// `GET …/summaries`: each name with the ids of the objects that have it (names only files
/// define have no ids).
pub async fn summaries<R: Collection>(
    State(state): State<SysdigState>,
    caller: SecureCaller,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let out = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            let mut names: Vec<(String, Vec<i64>)> = Vec::new();
            let mut add = |name: &str, id: Option<i64>| {
                let i = match names.iter().position(|(n, _)| n == name) {
                    Some(i) => i,
                    None => {
                        names.push((name.to_string(), Vec::new()));
                        names.len() - 1
                    }
                };
                if let (Some(id), Some(entry)) = (id, names.get_mut(i)) {
                    entry.1.push(id);
                }
            };
            for o in c.obj_list(R::KIND, team)? {
                add(
                    o.doc
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    Some(o.id),
                );
            }
            for (_, d) in rules_files::defined(c, team)? {
                if d.kind == R::ITEM {
                    add(&d.name, None);
                }
            }
            Ok(names
                .into_iter()
                .map(|(name, ids)| json!({"name": name, "ids": ids}))
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(ok(json!(out)))
}

/// `GET …/groups?name=[&type=]`: the stored objects called `name`, then what the user rules file
/// defines under it, then what the system and default files define when nothing stored has it.
pub async fn groups<R: Collection>(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    RawQuery(q): RawQuery,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let pairs = query_pairs(q.as_deref());
    let Some(name) = query_get(&pairs, "name").map(str::to_string) else {
        return Err(SdcError::bad_request("Parameter 'name' is required"));
    };
    // terraform's `&type=FALCO`: rules of that type only.
    let kind = query_get(&pairs, "type")
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_uppercase);
    let out = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            let mut out: Vec<Value> = c
                .obj_list(R::KIND, team)?
                .iter()
                .filter(|o| o.doc.get("name").and_then(Value::as_str) == Some(name.as_str()))
                .map(view)
                .collect();
            let stored = !out.is_empty();
            for (file, d) in rules_files::defined(c, team)? {
                let from_user = file == defaults::USER_FILE;
                if d.kind == R::ITEM && d.name == name && (from_user || !stored) {
                    out.push(R::file_view(&d, &file));
                }
            }
            if let Some(kind) = &kind {
                out.retain(|v| {
                    v["details"]["ruleType"]
                        .as_str()
                        .is_none_or(|t| t.eq_ignore_ascii_case(kind))
                });
            }
            Ok(out)
        })
        .await?;
    Ok(ok(json!(out)))
}

pub async fn get<R: Collection>(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    let team = caller.team_id();
    let v = state
        .tx(move |c| Ok(view(&load::<R>(c, team, &id)?)))
        .await?;
    Ok(ok(v))
}

pub async fn create<R: Collection>(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let mut m = body.object()?;
    let v = state
        .tx(move |c| {
            defaults::ensure_seeded(c, team)?;
            for k in ["id", "version", "teamId", "createdOn", "modifiedOn"] {
                m.remove(k);
            }
            R::prepare(&mut m)?;
            check_name::<R>(c, team, None, &m)?;
            m.insert("origin".into(), defaults::ORIGIN_API.into());
            Ok(view(&c.obj_insert(R::KIND, team, m)?))
        })
        .await?;
    Ok(ok(v))
}

pub async fn update<R: Collection>(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
    body: JsonBody,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let mut m = body.object()?;
    let v = state
        .tx(move |c| {
            let mut o = load::<R>(c, team, &id)?;
            check_version(&m, o.version, R::WHAT)?;
            for k in ["id", "version", "teamId", "createdOn", "modifiedOn"] {
                m.remove(k);
            }
            R::prepare(&mut m)?;
            check_name::<R>(c, team, Some(o.id), &m)?;
            match o.doc.get("origin") {
                Some(v) => m.insert("origin".into(), v.clone()),
                None => m.remove("origin"),
            };
            o.doc = m;
            c.obj_save(&mut o, true)?;
            Ok(view(&o))
        })
        .await?;
    Ok(ok(v))
}

pub async fn delete<R: Collection>(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    P(id): P<String>,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let v = state
        .tx(move |c| {
            let o = load::<R>(c, team, &id)?;
            R::check_delete(c, team, &o)?;
            c.obj_delete(R::KIND, team, o.id)?;
            Ok(view(&o))
        })
        .await?;
    Ok(ok(v))
}

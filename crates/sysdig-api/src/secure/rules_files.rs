//! `/api/settings/falco/{systemRulesFile,customRulesFiles,defaultRulesFiles}`: a Secure team's
//! Falco rules files, each stored as one object. Every content is parsed and checked as Falco
//! YAML before it is stored; the user file (`falco_rules_local.yaml`) gets the header
//! `# Your custom rules!` first when a client sends it without; the system file is read-only
//! unless the server is configured as on-prem (SaaS answers 405, which sdcclient's test script
//! expects).

use axum::{extract::State, http::StatusCode, response::Response};
use config_repo::sysdig::{SysdigTx, TeamObject, kinds};
use serde_json::{Map, Value, json};

use super::{
    SecureCaller, defaults,
    falco_yaml::{self, Defined},
};
use crate::{
    SysdigState,
    error::{SdcError, SdcResult},
    http::{JsonBody, ok},
};

const KIND: &str = kinds::FALCO_RULES_FILES;

/// The three stored files.
#[derive(Clone, Copy)]
enum Which {
    System,
    Custom,
    Default,
}

impl Which {
    fn tag(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Custom => "custom",
            Self::Default => "default",
        }
    }
    /// The key that wraps it in bodies.
    fn key(self) -> &'static str {
        match self {
            Self::System => "systemRulesFile",
            Self::Custom => "customFalcoRulesFiles",
            Self::Default => "defaultFalcoRulesFiles",
        }
    }
}

fn load(c: &dyn SysdigTx, team: i64, which: Which) -> SdcResult<TeamObject> {
    defaults::ensure_seeded(c, team)?;
    c.obj_list(KIND, team)?
        .into_iter()
        .find(|o| o.doc.get("file").and_then(Value::as_str) == Some(which.tag()))
        .ok_or_else(|| SdcError::not_found("Rules file not found"))
}

fn view(o: &TeamObject, which: Which) -> Value {
    let mut doc = o.doc.clone();
    doc.remove("file");
    doc.insert("version".into(), o.version.into());
    json!({ which.key(): doc })
}

/// Everything the team's rules files define, with the name of the file that defines it: the
/// system file, the first variant of each custom file, the newest variant of each default file.
/// Stored contents were checked when written; one that no longer parses defines nothing.
pub fn defined(c: &dyn SysdigTx, team: i64) -> SdcResult<Vec<(String, Defined)>> {
    let mut out = Vec::new();
    let mut add = |file: &str, content: Option<&str>| {
        if let Some(Ok(items)) = content.map(falco_yaml::parse) {
            out.extend(items.into_iter().map(|d| (file.to_string(), d)));
        }
    };
    for o in c.obj_list(KIND, team)? {
        match o.doc.get("file").and_then(Value::as_str) {
            Some("system") => add("system", o.doc.get("content").and_then(Value::as_str)),
            Some("custom" | "default") => {
                for f in o
                    .doc
                    .get("files")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
                    let variants = f.get("variants").and_then(Value::as_array);
                    let chosen = variants.and_then(|vs| {
                        vs.iter().max_by_key(|v| {
                            v.get("requiredEngineVersion")
                                .and_then(Value::as_u64)
                                .unwrap_or(0)
                        })
                    });
                    add(
                        name,
                        chosen
                            .and_then(|v| v.get("content"))
                            .and_then(Value::as_str),
                    );
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The default policies of the team's default rules files.
pub fn default_policies(c: &dyn SysdigTx, team: i64) -> SdcResult<Vec<Value>> {
    let o = load(c, team, Which::Default)?;
    Ok(o.doc
        .get("defaultPolicies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

async fn get_file(state: SysdigState, caller: &SecureCaller, which: Which) -> SdcResult<Response> {
    let team = caller.team_id();
    let v = state
        .tx(move |c| Ok(view(&load(c, team, which)?, which)))
        .await?;
    Ok(ok(v))
}

pub async fn get_system(State(s): State<SysdigState>, caller: SecureCaller) -> SdcResult<Response> {
    get_file(s, &caller, Which::System).await
}

pub async fn get_custom(State(s): State<SysdigState>, caller: SecureCaller) -> SdcResult<Response> {
    get_file(s, &caller, Which::Custom).await
}

pub async fn get_default(
    State(s): State<SysdigState>,
    caller: SecureCaller,
) -> SdcResult<Response> {
    get_file(s, &caller, Which::Default).await
}

/// Stores `new` (already checked) as the file, after the version check.
async fn put_file(
    state: SysdigState,
    caller: &SecureCaller,
    which: Which,
    sent_version: Option<i64>,
    mut new: Map<String, Value>,
) -> SdcResult<Response> {
    caller.require_write()?;
    let team = caller.team_id();
    let v = state
        .tx(move |c| {
            let mut o = load(c, team, which)?;
            if let Some(sent) = sent_version
                && sent != o.version
            {
                return Err(SdcError::stale("Rules file", sent, o.version));
            }
            new.insert("file".into(), which.tag().into());
            o.doc = new;
            c.obj_save(&mut o, true)?;
            Ok(view(&o, which))
        })
        .await?;
    Ok(ok(v))
}

/// The object under the file's key, and the `version` it carries (if any).
fn unwrap_body(body: JsonBody, which: Which) -> SdcResult<(Map<String, Value>, Option<i64>)> {
    let mut m = body.wrapped(which.key())?;
    let version = match m.remove("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| SdcError::bad_request("Field 'version' must be an integer"))?,
        ),
    };
    m.remove("file");
    Ok((m, version))
}

fn check_content(file: &str, content: &str) -> SdcResult<()> {
    falco_yaml::parse(content)
        .map(|_| ())
        .map_err(|e| SdcError::bad_request(format!("Invalid Falco rules in {file}: {e}")))
}

pub async fn put_system(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    body: JsonBody,
) -> SdcResult<Response> {
    if !state.settings.secure_on_prem {
        // SaaS: the system file is Sysdig's. A bare 405 (sdcclient says `status code 405`).
        return Err(SdcError::Bare(StatusCode::METHOD_NOT_ALLOWED));
    }
    let (m, version) = unwrap_body(body, Which::System)?;
    let Some(Value::String(content)) = m.get("content") else {
        return Err(SdcError::bad_request("Field 'content' must be a string"));
    };
    check_content("the system rules file", content)?;
    put_file(state, &caller, Which::System, version, m).await
}

pub async fn put_custom(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    body: JsonBody,
) -> SdcResult<Response> {
    let (mut m, version) = unwrap_body(body, Which::Custom)?;
    check_files(&mut m, true)?;
    put_file(state, &caller, Which::Custom, version, m).await
}

pub async fn put_default(
    State(state): State<SysdigState>,
    caller: SecureCaller,
    body: JsonBody,
) -> SdcResult<Response> {
    let (mut m, version) = unwrap_body(body, Which::Default)?;
    match m.get("tag") {
        Some(Value::String(t)) if !t.trim().is_empty() => {}
        _ => return Err(SdcError::bad_request("Field 'tag' is required")),
    }
    check_files(&mut m, false)?;
    let policies = m.entry("defaultPolicies").or_insert_with(|| json!([]));
    if policies.is_null() {
        *policies = json!([]);
    }
    let good = policies.as_array().is_some_and(|ps| {
        ps.iter().all(|p| {
            p.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty())
        })
    });
    if !good {
        return Err(SdcError::bad_request(
            "Field 'defaultPolicies' must be an array of policies with names",
        ));
    }
    put_file(state, &caller, Which::Default, version, m).await
}

/// `files`: `[{"name", "variants": [{"requiredEngineVersion", "content"}]}]`, each content
/// valid Falco YAML; with `user_header`, the user file's contents start with the header.
fn check_files(m: &mut Map<String, Value>, user_header: bool) -> SdcResult<()> {
    let bad = || {
        SdcError::bad_request(
            "Field 'files' must be an array of {name, variants: [{requiredEngineVersion, content}]}",
        )
    };
    let Some(Value::Array(files)) = m.get_mut("files") else {
        return Err(bad());
    };
    for f in files {
        let Value::Object(f) = f else {
            return Err(bad());
        };
        let name = match f.get("name") {
            Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
            _ => return Err(bad()),
        };
        let Some(Value::Array(variants)) = f.get_mut("variants") else {
            return Err(bad());
        };
        for v in variants {
            let Value::Object(v) = v else {
                return Err(bad());
            };
            if v.get("requiredEngineVersion").is_none_or(Value::is_null) {
                v.insert("requiredEngineVersion".into(), 0.into());
            }
            if !v.get("requiredEngineVersion").is_some_and(Value::is_u64) {
                return Err(bad());
            }
            let Some(Value::String(content)) = v.get_mut("content") else {
                return Err(bad());
            };
            check_content(&name, content)?;
            if user_header
                && name == defaults::USER_FILE
                && !content.starts_with(defaults::USER_HEADER)
            {
                *content = format!("{}\n{content}", defaults::USER_HEADER);
            }
        }
    }
    Ok(())
}

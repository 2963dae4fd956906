//! Secure runtime policies, v2 (`/api/v2/policies`): sdcclient's `PolicyClientV2`.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::secure::policies::{Policy, PolicyAction};
//! let p = Policy::new("shells", vec!["Terminal shell in container".into()])
//!     .actions(vec![PolicyAction::stop(), PolicyAction::capture("shell.scap", 5, 15, "")]);
//! let p = client.policies().create(&p).await?;
//! client.policies().delete(p.id.unwrap_or_default()).await?;
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Error, Result,
    request::{Op, send_ops},
};

/// The collection's path.
pub const PATH: &str = "/api/v2/policies";

/// A runtime policy. Fields the client does not model stay in `extra` and go back unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Policy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `falco`, `list_matching`, `k8s_audit`, ...
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Who made it (`Secure UI`, `Sysdig`); sdcclient drops it before posting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    /// 0 (highest) to 7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Where it applies (`container.image.repository = nginx`); empty is everywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_names: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<PolicyAction>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_channel_ids: Option<Vec<u64>>,
    /// Milliseconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_on: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Policy {
    /// A `falco` policy, enabled, everywhere, severity 0, as sdcclient's `add_policy` builds it.
    pub fn new(name: impl Into<String>, rule_names: Vec<String>) -> Self {
        Self {
            name: name.into(),
            description: Some(String::new()),
            kind: Some("falco".into()),
            severity: Some(0),
            enabled: Some(true),
            rule_names: Some(rule_names),
            actions: Some(Vec::new()),
            notification_channel_ids: Some(Vec::new()),
            ..Self::default()
        }
    }
    pub fn description(mut self, s: impl Into<String>) -> Self {
        self.description = Some(s.into());
        self
    }
    pub fn kind(mut self, s: impl Into<String>) -> Self {
        self.kind = Some(s.into());
        self
    }
    pub fn scope(mut self, s: impl Into<String>) -> Self {
        self.scope = Some(s.into());
        self
    }
    pub fn severity(mut self, s: u8) -> Self {
        self.severity = Some(s);
        self
    }
    pub fn enabled(mut self, yes: bool) -> Self {
        self.enabled = Some(yes);
        self
    }
    pub fn actions(mut self, a: Vec<PolicyAction>) -> Self {
        self.actions = Some(a);
        self
    }
    pub fn notify(mut self, channel_ids: Vec<u64>) -> Self {
        self.notification_channel_ids = Some(channel_ids);
        self
    }
}

/// What a policy does when it fires: `{"type": "POLICY_ACTION_…", …}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyAction {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PolicyAction {
    fn of(kind: &str) -> Self {
        Self {
            kind: kind.into(),
            extra: Map::new(),
        }
    }
    /// Stops the container.
    pub fn stop() -> Self {
        Self::of("POLICY_ACTION_STOP")
    }
    /// Pauses the container.
    pub fn pause() -> Self {
        Self::of("POLICY_ACTION_PAUSE")
    }
    /// Kills the container.
    pub fn kill() -> Self {
        Self::of("POLICY_ACTION_KILL")
    }
    /// A capture named `file_name` around the event, stored in S3, as sdcclient's
    /// `policy_action_capture` builds it (the times go as nanoseconds).
    pub fn capture(file_name: &str, secs_before: u64, secs_after: u64, filter: &str) -> Self {
        let mut a = Self::of("POLICY_ACTION_CAPTURE");
        let ns = |s: u64| Value::from(s.saturating_mul(1_000_000_000));
        for (k, v) in [
            ("afterEventNs", ns(secs_after)),
            ("beforeEventNs", ns(secs_before)),
            ("isLimitedToContainer", Value::Bool(false)),
            ("filter", filter.into()),
            ("name", file_name.into()),
            ("bucketName", "".into()),
            ("storageType", "S3".into()),
        ] {
            a.extra.insert(k.into(), v);
        }
        a
    }
}

/// The fields `update_policy` may change; `None` keeps the stored value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub rule_names: Option<Vec<String>>,
    pub actions: Option<Vec<PolicyAction>>,
    pub scope: Option<String>,
    pub severity: Option<u8>,
    pub enabled: Option<bool>,
    pub notification_channel_ids: Option<Vec<u64>>,
}

fn set<T: Clone>(dst: &mut Option<T>, src: &Option<T>) {
    if src.is_some() {
        dst.clone_from(src);
    }
}

impl PolicyPatch {
    /// `p` with the given fields replaced.
    pub fn apply(&self, mut p: Policy) -> Policy {
        set(&mut p.description, &self.description);
        set(&mut p.rule_names, &self.rule_names);
        set(&mut p.actions, &self.actions);
        set(&mut p.scope, &self.scope);
        set(&mut p.severity, &self.severity);
        set(&mut p.enabled, &self.enabled);
        set(
            &mut p.notification_channel_ids,
            &self.notification_channel_ids,
        );
        if let Some(n) = &self.name {
            p.name.clone_from(n);
        }
        p
    }
}

/// `GET /api/v2/policies`: a bare JSON array.
pub fn list() -> Op<Vec<Policy>> {
    Op::get(PATH)
}

/// `GET /api/v2/policies/{id}`: the bare policy.
pub fn get(id: u64) -> Op<Policy> {
    Op::get(format!("{PATH}/{id}"))
}

/// `POST /api/v2/policies` of a new policy, without the fields the server assigns.
///
/// # Errors
/// A policy without a name.
pub fn create(p: &Policy) -> Result<Op<Policy>> {
    if p.name.trim().is_empty() {
        return Err(Error::Invalid("A policy needs a name".into()));
    }
    let mut v = to_object(p)?;
    for k in ["id", "version", "origin", "createdOn", "modifiedOn"] {
        v.remove(k);
    }
    Op::new(Method::POST, PATH).json(&v)
}

/// sdcclient's `add_policy_json`: the JSON as given, without `origin`.
///
/// # Errors
/// `policy json is not valid json: …`.
pub fn create_json(json: &str) -> Result<Op<Policy>> {
    let v = parse_policy_json(json)?;
    Op::new(Method::POST, PATH).json(&v)
}

/// `PUT /api/v2/policies/{id}` of a policy read from the server (with its `version`).
///
/// # Errors
/// A policy without an id.
pub fn update(p: &Policy) -> Result<Op<Policy>> {
    let mut v = to_object(p)?;
    v.remove("origin");
    put(v)
}

/// sdcclient's `update_policy_json`: the JSON as given, without `origin`, to its `id`.
///
/// # Errors
/// `policy json is not valid json: …`, `Policy Json does not have an 'id' field`.
pub fn update_json(json: &str) -> Result<Op<Policy>> {
    put(parse_policy_json(json)?)
}

fn put(v: Map<String, Value>) -> Result<Op<Policy>> {
    let Some(id) = v.get("id").and_then(Value::as_u64) else {
        return Err(Error::Invalid(
            "Policy Json does not have an 'id' field".into(),
        ));
    };
    Op::new(Method::PUT, format!("{PATH}/{id}")).json(&v)
}

/// `DELETE /api/v2/policies/{id}`: answers the deleted policy.
pub fn delete(id: u64) -> Op<Policy> {
    Op::new(Method::DELETE, format!("{PATH}/{id}"))
}

/// `POST /api/v2/policies/default`: creates the default policies the team lacks, answers them.
pub fn create_defaults() -> Op<Vec<Policy>> {
    Op::new(Method::POST, format!("{PATH}/default"))
}

/// `GET /api/v2/policies/default`: sdcclient's `policy_v2` probe.
pub fn defaults() -> Op<Value> {
    Op::get(format!("{PATH}/default"))
}

fn to_object(p: &Policy) -> Result<Map<String, Value>> {
    match serde_json::to_value(p) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::Config("a policy serializes to an object".into())),
        Err(e) => Err(Error::Config(format!(
            "cannot serialize the request body: {e}"
        ))),
    }
}

/// A policy as JSON text, without `origin` (the server sets it).
///
/// # Errors
/// `policy json is not valid json: …` (sdcclient's message), also for JSON that is no object.
pub fn parse_policy_json(json: &str) -> Result<Map<String, Value>> {
    let invalid =
        |e: &dyn std::fmt::Display| Error::Invalid(format!("policy json is not valid json: {e}"));
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(mut m)) => {
            m.remove("origin");
            Ok(m)
        }
        Ok(_) => Err(invalid(&"not a JSON object")),
        Err(e) => Err(invalid(&e)),
    }
}

/// Policy calls: `client.policies()`.
#[derive(Clone, Copy, Debug)]
pub struct Policies<'a>(&'a Client);

impl Policies<'_> {
    send_ops! {
        fn list() -> Vec<Policy> = list();
        fn get(id: u64) -> Policy = get(id);
        /// # Errors
        /// As [`create`] and [`Client::send`] (a duplicate name → 409, an unknown rule → 400).
        fn create(p: &Policy) -> Policy = create(p)?;
        /// # Errors
        /// As [`create_json`] and [`Client::send`].
        fn create_json(json: &str) -> Policy = create_json(json)?;
        /// # Errors
        /// As [`update`] and [`Client::send`] (a stale `version` → 409).
        fn update(p: &Policy) -> Policy = update(p)?;
        /// # Errors
        /// As [`update_json`] and [`Client::send`].
        fn update_json(json: &str) -> Policy = update_json(json)?;
        fn delete(id: u64) -> Policy = delete(id);
        fn create_defaults() -> Vec<Policy> = create_defaults();
    }

    /// The policy called `name`.
    ///
    /// # Errors
    /// `No policy with name <name>`, or as [`Client::send`].
    pub async fn by_name(&self, name: &str) -> Result<Policy> {
        self.list()
            .await?
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::Invalid(format!("No policy with name {name}")))
    }

    /// sdcclient's `update_policy`: reads policy `id`, changes the given fields, writes it back.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn patch(&self, id: u64, patch: &PolicyPatch) -> Result<Policy> {
        let p = patch.apply(self.get(id).await?);
        self.update(&p).await
    }

    /// Deletes the policy called `name`, answering it.
    ///
    /// # Errors
    /// As [`Policies::by_name`].
    pub async fn delete_by_name(&self, name: &str) -> Result<Policy> {
        let p = self.by_name(name).await?;
        self.delete(p.id.unwrap_or_default()).await
    }

    /// Deletes every policy of the team, one by one as sdcclient does; how many went.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn delete_all(&self) -> Result<usize> {
        let all = self.list().await?;
        for p in &all {
            self.delete(p.id.unwrap_or_default()).await?;
        }
        Ok(all.len())
    }

    /// Whether the server has policies v2 (sdcclient's `policy_v2`: anything but a 404).
    ///
    /// # Errors
    /// Failures other than a 404.
    pub async fn is_v2(&self) -> Result<bool> {
        match self.0.send(&defaults()).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl Client {
    /// Runtime policies (v2) of the caller's Secure team.
    pub fn policies(&self) -> Policies<'_> {
        Policies(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ToRequest;

    fn body(r: &http::Request<Vec<u8>>) -> Value {
        serde_json::from_slice(r.body()).unwrap()
    }

    #[test]
    fn create_leaves_out_server_fields_and_sends_capture_in_ns() {
        let base = url::Url::parse("http://h").unwrap();
        let mut p =
            Policy::new("p", vec!["r".into()]).actions(vec![PolicyAction::capture("f", 5, 15, "")]);
        p.id = Some(3);
        p.origin = Some("Secure UI".into());
        let r = create(&p).unwrap().to_request(&base).unwrap();
        assert_eq!(r.method(), Method::POST);
        assert_eq!(r.uri(), "http://h/api/v2/policies");
        let b = body(&r);
        assert!(b.get("id").is_none() && b.get("origin").is_none());
        assert_eq!(b["type"], "falco");
        assert_eq!(b["actions"][0]["afterEventNs"], 15_000_000_000u64);
        assert_eq!(b["actions"][0]["storageType"], "S3");
        assert!(create(&Policy::default()).is_err());
    }

    #[test]
    fn json_variants_drop_origin_and_need_an_id_to_update() {
        let base = url::Url::parse("http://h").unwrap();
        let r = create_json(r#"{"name":"a","origin":"x"}"#)
            .unwrap()
            .to_request(&base)
            .unwrap();
        assert_eq!(body(&r), serde_json::json!({"name": "a"}));
        let e = update_json(r#"{"name":"a"}"#).unwrap_err();
        assert_eq!(e.to_string(), "Policy Json does not have an 'id' field");
        let e = create_json("{").unwrap_err();
        assert!(e.to_string().starts_with("policy json is not valid json: "));
        let r = update_json(r#"{"id":7,"version":2}"#)
            .unwrap()
            .to_request(&base)
            .unwrap();
        assert_eq!(r.method(), Method::PUT);
        assert_eq!(r.uri(), "http://h/api/v2/policies/7");
    }

    #[test]
    fn patch_changes_only_given_fields() {
        let p = Policy::new("a", vec!["r".into()]).description("old");
        let patched = PolicyPatch {
            description: Some("new".into()),
            enabled: Some(false),
            ..PolicyPatch::default()
        }
        .apply(p.clone());
        assert_eq!(patched.description.as_deref(), Some("new"));
        assert_eq!(patched.enabled, Some(false));
        assert_eq!(patched.rule_names, p.rule_names);
        assert_eq!(patched.name, "a");
    }

    #[test]
    fn delete_and_defaults_read_bodies() {
        let base = url::Url::parse("http://h").unwrap();
        let r = delete(4).to_request(&base).unwrap();
        assert_eq!(r.method(), Method::DELETE);
        assert!(!crate::Endpoint::ignores_body(&delete(4)));
        let r2 = create_defaults().to_request(&base).unwrap();
        assert_eq!(r2.uri(), "http://h/api/v2/policies/default");
        assert_eq!(r.uri(), "http://h/api/v2/policies/4");
    }
}

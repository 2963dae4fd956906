//! Secure rules (`/api/secure/rules`), Falco macros (`/api/secure/falco/macros`) and Falco
//! lists (`/api/secure/falco/lists`): the three share summaries, groups by name, get, add,
//! update and delete, as sdcclient's `SdSecureClient` calls them.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::secure::rules::FalcoList;
//! let l = client.falco_lists().create(&FalcoList::new("my_shells", vec!["fish".into()])).await?;
//! for rule in client.rules().group("Terminal shell in container").await? {
//!     println!("{:?} {}", rule.id, rule.name);
//! }
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value, json};

use crate::{Client, Error, Result, request::Op};

/// A rule: a Falco condition, its output and priority (in `details`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// `{"ruleType": "FALCO", "condition": {"condition", "components"}, "output", "priority",
    /// "source", "append"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Rule {
    /// A Falco rule on system calls.
    pub fn falco(name: impl Into<String>, condition: &str, output: &str, priority: &str) -> Self {
        let details = json!({
            "ruleType": "FALCO",
            "condition": {"condition": condition, "components": []},
            "output": output,
            "priority": priority,
            "source": "syscall",
            "append": false,
        });
        Self {
            name: name.into(),
            description: Some(String::new()),
            tags: Some(Vec::new()),
            details: details.as_object().cloned(),
            ..Self::default()
        }
    }
    pub fn description(mut self, s: impl Into<String>) -> Self {
        self.description = Some(s.into());
        self
    }
    pub fn tags(mut self, t: Vec<String>) -> Self {
        self.tags = Some(t);
        self
    }
    /// The Falco condition in `details`.
    pub fn condition(&self) -> Option<&str> {
        self.details
            .as_ref()?
            .get("condition")?
            .get("condition")?
            .as_str()
    }
}

/// A Falco macro: a named condition other conditions use.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FalcoMacro {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub name: String,
    pub condition: Condition,
    /// Whether it extends a macro of the same name instead of defining it.
    pub append: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"condition": "<text>", "components": []}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Condition {
    pub condition: String,
    pub components: Vec<Value>,
}

impl FalcoMacro {
    pub fn new(name: impl Into<String>, condition: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            condition: Condition {
                condition: condition.into(),
                components: Vec::new(),
            },
            ..Self::default()
        }
    }
    pub fn append(mut self, yes: bool) -> Self {
        self.append = yes;
        self
    }
}

/// A Falco list: named items conditions use (`proc.name in (shell_binaries)`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FalcoList {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub name: String,
    pub items: Items,
    pub append: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{"items": [...]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Items {
    pub items: Vec<String>,
}

impl FalcoList {
    pub fn new(name: impl Into<String>, items: Vec<String>) -> Self {
        Self {
            name: name.into(),
            items: Items { items },
            ..Self::default()
        }
    }
    pub fn append(mut self, yes: bool) -> Self {
        self.append = yes;
        self
    }
}

/// One line of `…/summaries`: a name and the ids of the objects that share it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Summary {
    pub name: String,
    pub ids: Vec<u64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One of the three collections: its path and the word in messages.
pub trait Resource: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// `/api/secure/rules`, `/api/secure/falco/macros`, `/api/secure/falco/lists`.
    const PATH: &'static str;
    fn id(&self) -> Option<u64>;
    fn name(&self) -> &str;
}

impl Resource for Rule {
    const PATH: &'static str = "/api/secure/rules";
    fn id(&self) -> Option<u64> {
        self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Resource for FalcoMacro {
    const PATH: &'static str = "/api/secure/falco/macros";
    fn id(&self) -> Option<u64> {
        self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Resource for FalcoList {
    const PATH: &'static str = "/api/secure/falco/lists";
    fn id(&self) -> Option<u64> {
        self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// `GET {path}/summaries`.
pub fn summaries<R: Resource>() -> Op<Vec<Summary>> {
    Op::get(format!("{}/summaries", R::PATH))
}

/// `GET {path}/groups?name=`: every object called `name`, the ones rules files define too.
pub fn group<R: Resource>(name: &str) -> Op<Vec<R>> {
    Op::get(format!("{}/groups", R::PATH)).query("name", name)
}

pub fn get<R: Resource>(id: u64) -> Op<R> {
    Op::get(format!("{}/{id}", R::PATH))
}

/// `POST {path}` without `id` and `version`.
///
/// # Errors
/// An object without a name.
pub fn create<R: Resource>(o: &R) -> Result<Op<R>> {
    if o.name().trim().is_empty() {
        return Err(Error::Invalid("A name is required".into()));
    }
    let mut v = serde_json::to_value(o)
        .map_err(|e| Error::Config(format!("cannot serialize the request body: {e}")))?;
    if let Some(m) = v.as_object_mut() {
        m.remove("id");
        m.remove("version");
    }
    Op::new(Method::POST, R::PATH).json(&v)
}

/// `PUT {path}/{id}` of the whole object, with its `version`.
///
/// # Errors
/// An object without an id.
pub fn update<R: Resource>(o: &R) -> Result<Op<R>> {
    let id = o
        .id()
        .ok_or_else(|| Error::Invalid("The object has no 'id' field".into()))?;
    Op::new(Method::PUT, format!("{}/{id}", R::PATH)).json(o)
}

/// `DELETE {path}/{id}`: answers the deleted object.
pub fn delete<R: Resource>(id: u64) -> Op<R> {
    Op::new(Method::DELETE, format!("{}/{id}", R::PATH))
}

/// Calls on one collection: `client.rules()`, `client.falco_macros()`, `client.falco_lists()`.
#[derive(Debug)]
pub struct Collection<'a, R> {
    client: &'a Client,
    _r: std::marker::PhantomData<fn() -> R>,
}

impl<R: Resource> Collection<'_, R> {
    /// # Errors
    /// As [`Client::send`].
    pub async fn summaries(&self) -> Result<Vec<Summary>> {
        self.client.send(&summaries::<R>()).await
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn group(&self, name: &str) -> Result<Vec<R>> {
        self.client.send(&group::<R>(name)).await
    }
    /// # Errors
    /// As [`Client::send`] (404 for an id of no object of the team).
    pub async fn get(&self, id: u64) -> Result<R> {
        self.client.send(&get::<R>(id)).await
    }
    /// # Errors
    /// As [`create`] and [`Client::send`].
    pub async fn create(&self, o: &R) -> Result<R> {
        self.client.send(&create(o)?).await
    }
    /// # Errors
    /// As [`update`] and [`Client::send`] (a stale `version` → 409).
    pub async fn update(&self, o: &R) -> Result<R> {
        self.client.send(&update(o)?).await
    }
    /// Reads object `id`, changes it with `change`, writes it back (sdcclient's
    /// `update_rule`/`update_falco_macro`/`update_falco_list`).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn modify(&self, id: u64, change: impl FnOnce(&mut R)) -> Result<R> {
        let mut o = self.get(id).await?;
        change(&mut o);
        self.update(&o).await
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn delete(&self, id: u64) -> Result<R> {
        self.client.send(&delete::<R>(id)).await
    }
}

impl Client {
    /// Secure rules of the caller's team.
    pub fn rules(&self) -> Collection<'_, Rule> {
        Collection {
            client: self,
            _r: std::marker::PhantomData,
        }
    }
    /// Falco macros of the caller's team.
    pub fn falco_macros(&self) -> Collection<'_, FalcoMacro> {
        Collection {
            client: self,
            _r: std::marker::PhantomData,
        }
    }
    /// Falco lists of the caller's team.
    pub fn falco_lists(&self) -> Collection<'_, FalcoList> {
        Collection {
            client: self,
            _r: std::marker::PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ToRequest;

    #[test]
    fn bodies_as_sdcclient_sends_them() {
        let base = url::Url::parse("http://h").unwrap();
        let r = create(&FalcoMacro::new("m", "evt.type=open"))
            .unwrap()
            .to_request(&base)
            .unwrap();
        assert_eq!(r.uri(), "http://h/api/secure/falco/macros");
        let b: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            b,
            json!({"name": "m", "condition": {"condition": "evt.type=open", "components": []}, "append": false})
        );
        let r = create(&FalcoList::new("l", vec!["a".into()]).append(true))
            .unwrap()
            .to_request(&base)
            .unwrap();
        let b: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            b,
            json!({"name": "l", "items": {"items": ["a"]}, "append": true})
        );
        let rule = Rule::falco("r", "evt.type=open", "o", "WARNING");
        assert_eq!(rule.condition(), Some("evt.type=open"));
        assert!(update(&rule).is_err());
    }

    #[test]
    fn groups_and_summaries_paths() {
        let base = url::Url::parse("http://h").unwrap();
        let r = group::<Rule>("Write below etc").to_request(&base).unwrap();
        assert_eq!(
            r.uri(),
            "http://h/api/secure/rules/groups?name=Write+below+etc"
        );
        let r = summaries::<FalcoList>().to_request(&base).unwrap();
        assert_eq!(r.uri(), "http://h/api/secure/falco/lists/summaries");
        let r = delete::<Rule>(9).to_request(&base).unwrap();
        assert_eq!(r.method(), Method::DELETE);
    }
}

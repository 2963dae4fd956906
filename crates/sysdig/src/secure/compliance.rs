//! Compliance: the benchmark tasks (`/api/complianceTasks`) and their results
//! (`/api/complianceResults`), as sdcclient's `SdSecureClient` calls them. The task list is a
//! JSON array; the result list is `{"results": [...], "page": {...}}`, paged with an integer
//! cursor (a result id) and a direction. Unlike sdcclient, no bare `cursor` key is sent when
//! there is no cursor.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::secure::compliance::{NewComplianceTask, TaskUpdate};
//! let c = client.compliance();
//! let t = c.add_task(&NewComplianceTask::new("Check Docker").schedule("08:00:00Z/PT24H")).await?;
//! c.update_task(t.id.unwrap_or_default(), &TaskUpdate { enabled: Some(false), ..Default::default() }).await?;
//! for r in c.results(&Default::default()).await?.results {
//!     println!("{} {}", r.id, c.result_csv(r.id).await?.lines().count());
//! }
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Result,
    request::{Endpoint, Op},
};

/// The benchmark modules Secure runs.
pub const MODULES: [&str; 2] = ["docker-bench-security", "kube-bench"];
/// sdcclient's default module and schedule (ISO 8601 `start/period`).
pub const DEFAULT_MODULE: &str = "docker-bench-security";
pub const DEFAULT_SCHEDULE: &str = "06:00:00Z/PT12H";

/// A compliance task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ComplianceTask {
    pub id: Option<i64>,
    pub name: String,
    pub module_name: String,
    pub enabled: bool,
    pub scope: Option<String>,
    pub schedule: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A task to add, with sdcclient's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct NewComplianceTask {
    /// Always `null`: the server assigns it.
    pub id: Option<i64>,
    pub name: String,
    pub module_name: String,
    pub enabled: bool,
    pub scope: Option<String>,
    pub schedule: String,
}

impl NewComplianceTask {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
            module_name: DEFAULT_MODULE.into(),
            enabled: true,
            scope: None,
            schedule: DEFAULT_SCHEDULE.into(),
        }
    }
    pub fn module(mut self, m: impl Into<String>) -> Self {
        self.module_name = m.into();
        self
    }
    pub fn schedule(mut self, s: impl Into<String>) -> Self {
        self.schedule = s.into();
        self
    }
    pub fn scope(mut self, s: impl Into<String>) -> Self {
        self.scope = Some(s.into());
        self
    }
    pub fn enabled(mut self, e: bool) -> Self {
        self.enabled = e;
        self
    }
}

/// The fields [`Compliance::update_task`] changes; `None` keeps the stored value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskUpdate {
    pub name: Option<String>,
    pub module_name: Option<String>,
    pub schedule: Option<String>,
    pub scope: Option<String>,
    pub enabled: Option<bool>,
}

impl TaskUpdate {
    /// `task` with the given fields replaced.
    pub fn apply(&self, mut task: ComplianceTask) -> ComplianceTask {
        if let Some(n) = &self.name {
            task.name = n.clone();
        }
        if let Some(m) = &self.module_name {
            task.module_name = m.clone();
        }
        if let Some(s) = &self.schedule {
            task.schedule = s.clone();
        }
        if let Some(s) = &self.scope {
            task.scope = Some(s.clone());
        }
        if let Some(e) = self.enabled {
            task.enabled = e;
        }
        task
    }
}

/// A compliance result: one run of a task on one host.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ComplianceResult {
    pub id: i64,
    pub task_id: Option<i64>,
    pub task_name: String,
    pub module_name: String,
    pub host_mac: String,
    /// Nanoseconds since the epoch.
    pub timestamp_ns: i64,
    pub risk: String,
    pub pass_count: i64,
    pub fail_count: i64,
    pub warn_count: i64,
    pub tests_run: i64,
    /// Sections with their tests (`sectionId`, `description`, `results`).
    pub tests: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Paging of a result list: result ids that continue it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResultsPage {
    /// Continues to newer results (direction `PREV`).
    pub prev: Option<i64>,
    /// Continues to older results (direction `NEXT`).
    pub next: Option<i64>,
    pub total: u64,
}

/// One answer of `GET /api/complianceResults`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComplianceResults {
    pub results: Vec<ComplianceResult>,
    pub page: ResultsPage,
}

/// `GET /api/complianceResults` (newest first).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ListResults {
    pub limit: u32,
    /// `NEXT` (older than the cursor) or `PREV` (newer).
    pub direction: Option<String>,
    /// A result id.
    pub cursor: Option<i64>,
    /// Case-insensitive text matched against the task name.
    pub filter: String,
}

impl Default for ListResults {
    fn default() -> Self {
        Self {
            limit: 50,
            direction: None,
            cursor: None,
            filter: String::new(),
        }
    }
}

impl Endpoint for ListResults {
    type Output = ComplianceResults;
    fn path(&self) -> String {
        "/api/complianceResults".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(c) = self.cursor {
            q.push(("cursor", c.to_string()));
        }
        q.push(("filter", self.filter.clone()));
        q.push(("limit", self.limit.to_string()));
        if let Some(d) = &self.direction {
            q.push(("direction", d.clone()));
        }
        q
    }
}

const TASKS: &str = "/api/complianceTasks";

/// # Errors
/// A body that does not serialize.
pub fn add_task(t: &NewComplianceTask) -> Result<Op<ComplianceTask>> {
    Op::new(Method::POST, TASKS).json(t)
}
pub fn list_tasks() -> Op<Vec<ComplianceTask>> {
    Op::get(TASKS)
}
pub fn get_task(id: i64) -> Op<ComplianceTask> {
    Op::get(format!("{TASKS}/{id}"))
}
/// # Errors
/// A body that does not serialize.
pub fn put_task(id: i64, t: &ComplianceTask) -> Result<Op<ComplianceTask>> {
    Op::new(Method::PUT, format!("{TASKS}/{id}")).json(t)
}
pub fn delete_task(id: i64) -> Op<()> {
    Op::delete(format!("{TASKS}/{id}"))
}
pub fn get_result(id: i64) -> Op<ComplianceResult> {
    Op::get(format!("/api/complianceResults/{id}"))
}
pub fn result_csv(id: i64) -> Op<Value> {
    Op::get(format!("/api/complianceResults/{id}/csv"))
}

/// Compliance calls: `client.compliance()`.
#[derive(Clone, Copy, Debug)]
pub struct Compliance<'a>(&'a Client);

impl Compliance<'_> {
    /// # Errors
    /// As [`Client::send`].
    pub async fn add_task(&self, t: &NewComplianceTask) -> Result<ComplianceTask> {
        self.0.send(&add_task(t)?).await
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn tasks(&self) -> Result<Vec<ComplianceTask>> {
        self.0.send(&list_tasks()).await
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn task(&self, id: i64) -> Result<ComplianceTask> {
        self.0.send(&get_task(id)).await
    }
    /// sdcclient's `update_compliance_task`: reads the task, replaces the given fields and
    /// writes it back.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn update_task(&self, id: i64, update: &TaskUpdate) -> Result<ComplianceTask> {
        let task = update.apply(self.task(id).await?);
        self.0.send(&put_task(id, &task)?).await
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn delete_task(&self, id: i64) -> Result<()> {
        self.0.send(&delete_task(id)).await
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn results(&self, op: &ListResults) -> Result<ComplianceResults> {
        self.0.send(op).await
    }
    /// # Errors
    /// As [`Client::send`].
    pub async fn result(&self, id: i64) -> Result<ComplianceResult> {
        self.0.send(&get_result(id)).await
    }
    /// The result as CSV text.
    ///
    /// # Errors
    /// As [`Client::send_text`].
    pub async fn result_csv(&self, id: i64) -> Result<String> {
        self.0.send_text(&result_csv(id)).await
    }
}

impl Client {
    /// Compliance tasks and results of the caller's (Secure) team.
    pub fn compliance(&self) -> Compliance<'_> {
        Compliance(self)
    }
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;
    use crate::request::ToRequest;

    #[test]
    fn requests_are_sdcclients() {
        let base = Url::parse("http://h").unwrap();
        let r = add_task(&NewComplianceTask::new("n"))
            .unwrap()
            .to_request(&base)
            .unwrap();
        let body: Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"id": null, "name": "n", "moduleName": "docker-bench-security",
                "enabled": true, "scope": null, "schedule": "06:00:00Z/PT12H"})
        );
        let list = ListResults {
            cursor: Some(7),
            direction: Some("NEXT".into()),
            filter: "docker".into(),
            limit: 10,
        };
        assert_eq!(
            list.to_request(&base).unwrap().uri(),
            "http://h/api/complianceResults?cursor=7&filter=docker&limit=10&direction=NEXT"
        );
        assert_eq!(
            ListResults::default().to_request(&base).unwrap().uri(),
            "http://h/api/complianceResults?filter=&limit=50"
        );
    }

    #[test]
    fn updates_merge_given_fields() {
        let t = ComplianceTask {
            id: Some(1),
            name: "a".into(),
            module_name: "kube-bench".into(),
            enabled: true,
            scope: None,
            schedule: "s".into(),
            extra: Map::new(),
        };
        let u = TaskUpdate {
            enabled: Some(false),
            scope: Some("x".into()),
            ..TaskUpdate::default()
        }
        .apply(t.clone());
        assert_eq!(
            (u.name.as_str(), u.enabled, u.scope.as_deref()),
            ("a", false, Some("x"))
        );
        assert_eq!(u.module_name, t.module_name);
    }
}

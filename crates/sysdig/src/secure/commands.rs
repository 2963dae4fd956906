//! The deprecated command audit (`/api/commands`), which sdcclient keeps for old on-prem
//! backends (`list_commands_audit`, `get_command_audit`): times in microseconds, offset
//! paging, a Monitor-like scope filter, a `command.*` filter and `metrics` values per command.
//! New code uses [`super::audit`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Client, Result,
    request::{Endpoint, Op, segment},
};

const US: i64 = 1_000_000;
const DAY_S: i64 = 86_400;

/// An audited command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuditedCommand {
    pub id: String,
    /// Microseconds since the epoch.
    pub timestamp: i64,
    pub cmdline: String,
    pub comm: String,
    pub cwd: String,
    pub pid: Option<i64>,
    pub ppid: Option<i64>,
    pub uid: Option<i64>,
    pub login_shell_id: Option<i64>,
    pub login_shell_distance: Option<i64>,
    pub container_id: Option<String>,
    /// The values of the asked-for metrics, in their order.
    pub metrics: Vec<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `GET /api/commands`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommandList {
    pub commands: Vec<AuditedCommand>,
}

/// `GET /api/commands` with sdcclient's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct ListCommands {
    /// Seconds; `None`: a day before `to` (sdcclient's default).
    pub from_s: Option<i64>,
    /// Seconds; `None`: now.
    pub to_s: Option<i64>,
    /// Monitor-like, e.g. `container.image=ubuntu`.
    pub scope_filter: Option<String>,
    /// On `command.comm`, `command.cwd`, `command.pid`, ... e.g. `command.comm="touch"`.
    pub command_filter: Option<String>,
    pub limit: u32,
    pub offset: u32,
    /// Label names whose values each command carries in `metrics`.
    pub metrics: Vec<String>,
}

impl Default for ListCommands {
    fn default() -> Self {
        Self {
            from_s: None,
            to_s: None,
            scope_filter: None,
            command_filter: None,
            limit: 100,
            offset: 0,
            metrics: Vec::new(),
        }
    }
}

impl ListCommands {
    /// The window resolved against `now_s`, as sdcclient does before it sends.
    pub fn resolved(mut self, now_s: i64) -> Self {
        let to = self.to_s.unwrap_or(now_s);
        self.to_s = Some(to);
        self.from_s = Some(self.from_s.unwrap_or(to.saturating_sub(DAY_S)));
        self
    }
}

fn metrics_param(metrics: &[String]) -> Option<String> {
    (!metrics.is_empty()).then(|| Value::from(metrics.to_vec()).to_string())
}

impl Endpoint for ListCommands {
    type Output = CommandList;
    fn path(&self) -> String {
        "/api/commands".into()
    }
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(f) = self.from_s {
            q.push(("from", f.saturating_mul(US).to_string()));
        }
        if let Some(t) = self.to_s {
            q.push(("to", t.saturating_mul(US).to_string()));
        }
        q.push(("offset", self.offset.to_string()));
        q.push(("limit", self.limit.to_string()));
        if let Some(s) = &self.scope_filter {
            q.push(("scopeFilter", s.clone()));
        }
        if let Some(c) = &self.command_filter {
            q.push(("commandFilter", c.clone()));
        }
        if let Some(m) = metrics_param(&self.metrics) {
            q.push(("metrics", m));
        }
        q
    }
}

/// `GET /api/commands/{id}?from=0&to=<now µs>[&metrics=…]`, answered `{"command": …}`.
pub fn get(id: &str, metrics: &[String], now_s: i64) -> Op<AuditedCommand> {
    let mut op = Op::get(format!("/api/commands/{}", segment(id)))
        .query("from", "0")
        .query("to", now_s.saturating_mul(US).to_string())
        .envelope("command");
    if let Some(m) = metrics_param(metrics) {
        op = op.query("metrics", m);
    }
    op
}

/// Command audit calls: `client.command_audit()`.
#[derive(Clone, Copy, Debug)]
pub struct CommandAudit<'a>(&'a Client);

impl CommandAudit<'_> {
    /// sdcclient's `list_commands_audit`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn list(&self, op: ListCommands) -> Result<Vec<AuditedCommand>> {
        let op = op.resolved(jiff::Timestamp::now().as_second());
        Ok(self.0.send(&op).await?.commands)
    }

    /// sdcclient's `get_command_audit`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn get(&self, id: &str, metrics: &[String]) -> Result<AuditedCommand> {
        let now = jiff::Timestamp::now().as_second();
        self.0.send(&get(id, metrics, now)).await
    }
}

impl Client {
    /// The deprecated command audit of the caller's (Secure) team.
    pub fn command_audit(&self) -> CommandAudit<'_> {
        CommandAudit(self)
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
        let op = ListCommands {
            scope_filter: Some("container.image=ubuntu".into()),
            command_filter: Some("command.comm=\"touch\"".into()),
            metrics: vec!["host.hostName".into()],
            ..ListCommands::default()
        }
        .resolved(100_000);
        assert_eq!(
            op.to_request(&base).unwrap().uri(),
            "http://h/api/commands?from=13600000000&to=100000000000&offset=0&limit=100&scopeFilter=container.image%3Dubuntu&commandFilter=command.comm%3D%22touch%22&metrics=%5B%22host.hostName%22%5D"
        );
        assert_eq!(
            get("a", &[], 5).to_request(&base).unwrap().uri(),
            "http://h/api/commands/a?from=0&to=5000000"
        );
    }
}

//! Dashboards v3: `/api/v3/dashboards` and its templates.
//!
//! ```no_run
//! # async fn demo(client: sysdig::Client) -> sysdig::Result<()> {
//! use sysdig::dashboards::{Dashboard, PanelKind};
//! let d = client.dashboards().create(&Dashboard::new("web")).await?;
//! let id = d.id.unwrap_or_default();
//! client.dashboards().add_panel(id, "CPU", PanelKind::Timechart, "avg(cpu_used_percent)").await?;
//! client.dashboards().favorite(id, true).await?;
//! let copy = client.dashboards().create_from_dashboard("web (copy)", "web", Some("host.hostName = web1"), false, false).await?;
//! # Ok(()) }
//! ```

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{
    Client, Error, Result,
    request::{Op, segment, send_ops},
    scope::{self, ScopeExpression},
};

/// A v3 dashboard. Fields the client does not model (`eventDisplaySettings`, `time`, ...)
/// stay in `extra` and go back unchanged on update.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Dashboard {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_created: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing_settings: Option<Vec<SharingSetting>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panels: Option<Vec<Panel>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<Vec<LayoutItem>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_expression_list: Option<Vec<ScopeExpression>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Dashboard {
    /// An empty dashboard, as sdcclient's `create_dashboard` sends it.
    pub fn new(name: impl Into<String>) -> Self {
        let mut extra = Map::new();
        extra.insert("widgets".into(), json!([]));
        extra.insert(
            "eventsOverlaySettings".into(),
            json!({"filterNotificationsUserInputFilter": ""}),
        );
        Self {
            name: name.into(),
            schema: Some(3),
            layout: Some(Vec::new()),
            panels: Some(Vec::new()),
            extra,
            ..Self::default()
        }
    }
}

/// Who a dashboard is shared with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SharingSetting {
    /// `{"type": "USER_TEAMS"}` or `{"type": "TEAM", "id": 7}`.
    pub member: Value,
    /// `ROLE_RESOURCE_READ` or `ROLE_RESOURCE_EDIT`.
    pub role: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One panel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Panel {
    pub id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `advancedTimechart`, `advancedNumber`, `text`, ...
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where a panel sits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LayoutItem {
    pub panel_id: u64,
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A template ("view") of `GET /api/v3/dashboards/templates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Template {
    pub dashboard_id: String,
    pub name: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The two panel types sdcclient can add.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelKind {
    Timechart,
    Number,
}

pub fn list(light: bool) -> Op<Vec<Dashboard>> {
    Op::get("/api/v3/dashboards")
        .query("light", light.to_string())
        .envelope("dashboards")
}

pub fn get(id: u64) -> Op<Dashboard> {
    Op::get(format!("/api/v3/dashboards/{id}")).envelope("dashboard")
}

/// `POST /api/v3/dashboards` (id and version are the server's).
///
/// # Errors
/// A body that does not serialize.
pub fn create(d: &Dashboard) -> Result<Op<Dashboard>> {
    Op::new(Method::POST, "/api/v3/dashboards").enveloped_new("dashboard", d, &["id", "version"])
}

/// `PUT /api/v3/dashboards/{id}` (with the current `version`).
///
/// # Errors
/// `Invalid dashboard format` without an id.
pub fn update(d: &Dashboard) -> Result<Op<Dashboard>> {
    Op::put_existing("/api/v3/dashboards", d.id, "dashboard")?.enveloped("dashboard", d)
}

/// `PATCH /api/v3/dashboards/{id}` `{"dashboard": {"favorite": b}}`.
///
/// # Errors
/// Never in practice (the body is fixed).
pub fn favorite(id: u64, yes: bool) -> Result<Op<Dashboard>> {
    Ok(Op::new(Method::PATCH, format!("/api/v3/dashboards/{id}"))
        .json(&json!({"dashboard": {"favorite": yes}}))?
        .envelope("dashboard"))
}

pub fn delete(id: u64) -> Op<()> {
    Op::delete(format!("/api/v3/dashboards/{id}"))
}

pub fn templates() -> Op<Vec<Template>> {
    Op::get("/api/v3/dashboards/templates").envelope("dashboardTemplates")
}

pub fn template(dashboard_id: &str) -> Op<Dashboard> {
    Op::get(format!(
        "/api/v3/dashboards/templates/{}",
        segment(dashboard_id)
    ))
    .envelope("dashboard")
}

/// Dashboard calls: `client.dashboards()`.
#[derive(Clone, Copy, Debug)]
pub struct Dashboards<'a>(&'a Client);

impl Dashboards<'_> {
    send_ops! {
        /// Light (`panels`/`layout` may be left out) or full dashboards.
        ///
        /// # Errors
        /// As [`Client::send`].
        fn list(light: bool) -> Vec<Dashboard> = list(light);
        /// # Errors
        /// As [`Client::send`] (an unknown id is `status code 404`).
        fn get(id: u64) -> Dashboard = get(id);
    }
    /// Dashboards named exactly `name`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn find_by_name(&self, name: &str) -> Result<Vec<Dashboard>> {
        Ok(self
            .list(true)
            .await?
            .into_iter()
            .filter(|d| d.name == name)
            .collect())
    }
    send_ops! {
        fn create(d: &Dashboard) -> Dashboard = create(d)?;
        /// # Errors
        /// As [`Client::send`] (stale `version` → 409).
        fn update(d: &Dashboard) -> Dashboard = update(d)?;
        fn delete(id: u64) -> () = delete(id);
        fn favorite(id: u64, yes: bool) -> Dashboard = favorite(id, yes)?;
        fn templates() -> Vec<Template> = templates();
        fn template(dashboard_id: &str) -> Dashboard = template(dashboard_id);
    }

    /// A new dashboard from a template object. With `scope` the `scopeExpressionList` is
    /// replaced by the parsed scope; without, the template's scope is kept (sdcclient wipes
    /// it, issue #228).
    ///
    /// # Errors
    /// `invalid scope: ...`, or as [`Client::send`].
    pub async fn create_from_template(
        &self,
        name: &str,
        template: Dashboard,
        scope: Option<&str>,
        shared: bool,
        public: bool,
    ) -> Result<Dashboard> {
        let mut d = template;
        d.id = None;
        d.version = None;
        d.schema = Some(3);
        d.name = name.to_string();
        d.shared = Some(shared);
        d.public = Some(public);
        d.favorite = None;
        d.extra.insert("publicToken".into(), Value::Null);
        d.extra
            .entry("eventsOverlaySettings")
            .or_insert_with(|| json!({"filterNotificationsUserInputFilter": ""}));
        if let Some(s) = scope {
            d.scope_expression_list = Some(scope::parse(s)?);
        }
        self.create(&d).await
    }

    /// A new dashboard from the template ("view") called `view`.
    ///
    /// # Errors
    /// `view <name> not found`, or as [`Dashboards::create_from_template`].
    pub async fn create_from_view(
        &self,
        name: &str,
        view: &str,
        scope: Option<&str>,
        shared: bool,
        public: bool,
    ) -> Result<Dashboard> {
        let t = self
            .templates()
            .await?
            .into_iter()
            .find(|t| t.name == view)
            .ok_or_else(|| Error::Invalid(format!("view {view} not found")))?;
        let mut d = self.template(&t.dashboard_id).await?;
        d.extra.insert("timeMode".into(), json!({"mode": 1}));
        d.extra.insert(
            "time".into(),
            json!({"last": 7_200_000_000_i64, "sampling": 7_200_000_000_i64}),
        );
        self.create_from_template(name, d, scope, shared, public)
            .await
    }

    /// A copy of the dashboard called `source`.
    ///
    /// # Errors
    /// `can't find dashboard <name> to use as a template`, or as
    /// [`Dashboards::create_from_template`].
    pub async fn create_from_dashboard(
        &self,
        name: &str,
        source: &str,
        scope: Option<&str>,
        shared: bool,
        public: bool,
    ) -> Result<Dashboard> {
        let found = self.find_by_name(source).await?;
        let id = found.first().and_then(|d| d.id).ok_or_else(|| {
            Error::Invalid(format!(
                "can't find dashboard {source} to use as a template"
            ))
        })?;
        let d = self.get(id).await?;
        self.create_from_template(name, d, scope, shared, public)
            .await
    }

    /// Copies dashboard `id` under a new name.
    ///
    /// # Errors
    /// As [`Dashboards::create_from_template`].
    pub async fn copy(&self, id: u64, name: &str) -> Result<Dashboard> {
        let d = self.get(id).await?;
        let shared = d.shared.unwrap_or(false);
        let public = d.public.unwrap_or(false);
        self.create_from_template(name, d, None, shared, public)
            .await
    }

    async fn modify(
        &self,
        id: u64,
        f: impl FnOnce(&mut Dashboard) -> Result<()>,
    ) -> Result<Dashboard> {
        let mut d = self.get(id).await?;
        f(&mut d)?;
        self.update(&d).await
    }

    /// Shares with every team of the customer, read-only or with edit rights.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn share_with_all_teams(&self, id: u64, edit: bool) -> Result<Dashboard> {
        self.modify(id, |d| {
            d.sharing_settings = Some(vec![sharing(json!({"type": "USER_TEAMS"}), edit)]);
            d.shared = Some(true);
            Ok(())
        })
        .await
    }

    /// Adds a team to those the dashboard is shared with (or changes its role).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn share_with_team(&self, id: u64, team_id: u64, edit: bool) -> Result<Dashboard> {
        self.modify(id, |d| {
            let list = d.sharing_settings.get_or_insert_default();
            list.retain(|s| !(s.member["type"] == "TEAM" && s.member["id"] == team_id));
            list.push(sharing(json!({"type": "TEAM", "id": team_id}), edit));
            d.shared = Some(true);
            Ok(())
        })
        .await
    }

    /// # Errors
    /// As [`Client::send`].
    pub async fn unshare(&self, id: u64) -> Result<Dashboard> {
        self.modify(id, |d| {
            d.sharing_settings = Some(Vec::new());
            d.shared = Some(false);
            Ok(())
        })
        .await
    }

    /// Appends a panel with one PromQL query (works on an empty dashboard too, where
    /// sdcclient fails with an `IndexError`).
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn add_panel(
        &self,
        id: u64,
        name: &str,
        kind: PanelKind,
        query: &str,
    ) -> Result<Dashboard> {
        self.modify(id, |d| {
            let panels = d.panels.get_or_insert_default();
            let pid = panels.iter().map(|p| p.id).max().unwrap_or(0) + 1;
            let y = i64::try_from(panels.len()).unwrap_or(0) * 12 + 12;
            panels.push(new_panel(pid, name, kind, query));
            d.layout.get_or_insert_default().push(LayoutItem {
                panel_id: pid,
                x: 0,
                y,
                w: 12,
                h: 6,
                extra: Map::new(),
            });
            Ok(())
        })
        .await
    }

    /// Removes a panel and its layout entry.
    ///
    /// # Errors
    /// `Panel <id> not found`, or as [`Client::send`].
    pub async fn remove_panel(&self, id: u64, panel_id: u64) -> Result<Dashboard> {
        self.modify(id, |d| {
            let panels = d.panels.get_or_insert_default();
            let before = panels.len();
            panels.retain(|p| p.id != panel_id);
            if panels.len() == before {
                return Err(Error::Invalid(format!("Panel {panel_id} not found")));
            }
            if let Some(l) = &mut d.layout {
                l.retain(|i| i.panel_id != panel_id);
            }
            Ok(())
        })
        .await
    }
}

fn sharing(member: Value, edit: bool) -> SharingSetting {
    SharingSetting {
        member,
        role: if edit {
            "ROLE_RESOURCE_EDIT"
        } else {
            "ROLE_RESOURCE_READ"
        }
        .into(),
        extra: Map::new(),
    }
}

fn new_panel(id: u64, name: &str, kind: PanelKind, query: &str) -> Panel {
    let mut extra = Map::new();
    extra.insert("description".into(), json!(""));
    extra.insert(
        "advancedQueries".into(),
        json!([{
            "enabled": true,
            "displayInfo": {"displayName": "", "timeSeriesDisplayNameTemplate": "", "type": "lines"},
            "format": {"unit": "%", "inputFormat": "0-100", "displayFormat": "auto", "decimals": null, "yAxis": "auto"},
            "query": query,
        }]),
    );
    let kind = match kind {
        PanelKind::Timechart => {
            extra.insert(
                "axesConfiguration".into(),
                json!({"bottom": {"enabled": true}, "left": {"enabled": true, "displayName": null, "unit": "auto", "displayFormat": "auto", "decimals": null, "minValue": 0, "maxValue": null, "minInputFormat": "0-100", "maxInputFormat": "0-100", "scale": "linear"}, "right": {"enabled": true}}),
            );
            extra.insert(
                "legendConfiguration".into(),
                json!({"enabled": true, "position": "right", "layout": "table", "showCurrent": true}),
            );
            "advancedTimechart"
        }
        PanelKind::Number => {
            extra.insert(
                "numberThresholds".into(),
                json!({"values": [], "base": {"severity": "none", "displayText": ""}}),
            );
            "advancedNumber"
        }
    };
    Panel {
        id,
        name: Some(name.into()),
        kind: Some(kind.into()),
        extra,
    }
}

impl Client {
    /// Dashboards (v3) of the caller's team.
    pub fn dashboards(&self) -> Dashboards<'_> {
        Dashboards(self)
    }
}

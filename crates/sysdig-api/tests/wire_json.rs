//! Users, teams and team-owned objects are shown through the `sysdig` crate's types; the JSON
//! must be what the emulator showed when it wrote the stored document out field by field (the
//! references below), with no key twice.
#![allow(clippy::unwrap_used)]

use std::fmt;

use config_repo::{
    now_ms,
    sqlite::sysdig::SqliteSysdigRepo,
    sysdig::{Document, SysdigRepo, SysdigTx, Team, TeamObject, User, kinds},
};
use serde::{
    Deserialize, Deserializer, Serialize,
    de::{MapAccess, Visitor},
};
use serde_json::{Map, Value, json};
use sysdig_api::{
    auth::Caller,
    domain::{ROLE_TEAM_MANAGER, ROLE_TEAM_READ, bootstrap},
    monitor::{
        alerts, channels,
        dashboards::{self, convert},
        events,
        teams::render_team,
        users::render_user,
    },
    settings::SysdigSettings,
};

/// The top-level keys of a JSON object in the order written, duplicates kept.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, _)) = a.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// `shown` serialises to `reference` (field for field) and writes no key twice.
fn assert_shows(shown: &impl Serialize, reference: &Value, what: &str) {
    let text = serde_json::to_string(shown).unwrap();
    let Keys(mut keys) = serde_json::from_str(&text).unwrap();
    let written = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(written, keys.len(), "{what}: a key written twice in {text}");
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(&parsed, reference, "{what}");
}

/// A team-owned object as the emulator wrote it out before it used the wire types.
fn reference_object(o: &TeamObject) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), o.id.into());
    m.insert("version".into(), o.version.into());
    for (k, v) in &o.doc {
        m.insert(k.clone(), v.clone());
    }
    m.insert("id".into(), o.id.into());
    m.insert("version".into(), o.version.into());
    m.insert("teamId".into(), o.team_id.into());
    m.insert("createdOn".into(), o.created_on.into());
    m.insert("modifiedOn".into(), o.modified_on.into());
    m
}

fn reference_team(c: &dyn SysdigTx, t: &Team, with_members: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), t.id.into());
    m.insert("version".into(), t.version.into());
    m.insert("name".into(), t.name.clone().into());
    for (k, v) in &t.doc {
        m.insert(k.clone(), v.clone());
    }
    m.insert("customerId".into(), 1.into());
    let members = c.team_members(t.id).unwrap();
    m.insert("userCount".into(), members.len().into());
    if with_members {
        let roles: Vec<Value> = members
            .into_iter()
            .map(|m| json!({"userId": m.user_id, "userName": m.username, "admin": m.role == ROLE_TEAM_MANAGER, "role": m.role}))
            .collect();
        m.insert("userRoles".into(), roles.into());
    }
    Value::Object(m)
}

fn reference_user(c: &dyn SysdigTx, u: &User) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), u.id.into());
    m.insert("username".into(), u.username.clone().into());
    m.insert("version".into(), u.version.into());
    m.insert("systemRole".into(), u.system_role.clone().into());
    let roles: Vec<&str> = if u.is_admin() {
        vec!["ROLE_CUSTOMER", "ROLE_USER"]
    } else {
        vec!["ROLE_USER"]
    };
    m.insert("roles".into(), json!(roles));
    for (k, v) in &u.doc {
        m.insert(k.clone(), v.clone());
    }
    m.insert(
        "customer".into(),
        json!({"id": 1, "name": c.customer_name().unwrap(), "externalId": "vigil"}),
    );
    let mut team_roles = Vec::new();
    for (team, role) in c.user_teams(u.id).unwrap() {
        let name = c.team(team).unwrap().map(|t| t.name).unwrap_or_default();
        team_roles.push(json!({"teamId": team, "teamName": name, "role": role, "admin": role == ROLE_TEAM_MANAGER}));
    }
    m.insert("teamRoles".into(), team_roles.into());
    Value::Object(m)
}

fn doc(v: Value) -> Document {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn users_and_teams_show_the_stored_json() {
    let dir = tempfile::tempdir().unwrap();
    let repo: Box<dyn SysdigRepo> =
        Box::new(SqliteSysdigRepo::open(&dir.path().join("sysdig.db")).unwrap());
    let checked: Result<(), config_repo::RepoError> = repo
        .tx(|c| {
            bootstrap::run(c, &SysdigSettings::default())?;
            // Values a client may store that the wire types cannot hold in a typed field.
            let odd = c.team_insert(
                "Odd",
                &doc(json!({"description": null, "theme": 7, "products": ["SDC", 1],
                            "default": "yes", "filter": "host.name = 'x'", "entryPoint": {"module": "Explore"},
                            "dateCreated": now_ms()})),
            )?;
            let joe = c.user_insert("joe@x", "ROLE_USER", &doc(json!({"firstName": null, "enabled": false, "status": "confirmed"})))?;
            c.membership_set(odd, joe.id, "ROLE_TEAM_READ")?;
            for t in c.teams()? {
                for with_members in [false, true] {
                    let shown = serde_json::to_value(render_team(c, &t, with_members).unwrap()).unwrap();
                    assert_eq!(shown, reference_team(c, &t, with_members), "team {}", t.name);
                }
            }
            for u in c.users()? {
                let shown = serde_json::to_value(render_user(c, &u).unwrap()).unwrap();
                assert_eq!(shown, reference_user(c, &u), "user {}", u.username);
            }
            Ok(())
        })
        .await;
    checked.unwrap();
}

fn repo() -> (tempfile::TempDir, Box<dyn SysdigRepo>) {
    let dir = tempfile::tempdir().unwrap();
    let repo: Box<dyn SysdigRepo> =
        Box::new(SqliteSysdigRepo::open(&dir.path().join("sysdig.db")).unwrap());
    (dir, repo)
}

/// Documents as the handlers store them, and values the wire types cannot hold in a typed
/// field (nulls, negative numbers, mixed arrays, partial nested items).
#[tokio::test]
async fn alerts_and_notifications_show_the_stored_json() {
    let (_dir, repo) = repo();
    let checked: Result<(), config_repo::RepoError> = repo
        .tx(|c| {
            bootstrap::run(c, &SysdigSettings::default())?;
            let team = c.default_team("SDC")?.unwrap().id;
            let full = c.obj_insert(
                kinds::ALERT,
                team,
                doc(json!({
                "name": "cpu", "type": "MANUAL", "description": "", "enabled": true, "severity": 2,
                "timespan": 600_000_000, "condition": "avg(cpu.used.percent) > 80", "filter": "",
                "segmentBy": ["host.hostName"], "segmentCondition": {"type": "ANY"},
                "notificationChannelIds": [], "annotations": {}, "reNotify": false,
                "reNotifyMinutes": 30, "rateOfChange": false, "autoCreated": false,
                "severityLabel": "MEDIUM"})),
            )?;
            let odd = c.obj_insert(
                kinds::ALERT,
                team,
                doc(json!({
                "name": "odd", "type": "BASELINE", "description": null, "severity": 9,
                "timespan": -5, "segmentBy": ["a", 1], "notificationChannelIds": [-1],
                "annotations": {"x": 1}, "filter": 7, "custom": [1.5]})),
            )?;
            for n in [
                json!({"alert": full.id, "state": "ACTIVE", "severity": 2, "resolved": false,
                       "condition": "x > 1", "filter": "", "timestamp": 1_700_000_000_000_000_i64,
                       "entities": [{"metricValues": [{"value": 3.5}]}]}),
                json!({"alert": full.id, "state": null, "severity": -1, "resolved": "no",
                       "timestamp": 1.5}),
                json!({"alert": odd.id}),
            ] {
                c.obj_insert(kinds::NOTIFICATION, team, doc(n))?;
            }
            let counts = c.obj_counts_by(kinds::NOTIFICATION, team, "alert")?;
            let stored = c.obj_list(kinds::ALERT, team)?;
            for (a, shown) in stored
                .iter()
                .zip(alerts::render_all(c, team, &stored).unwrap())
            {
                let mut reference = reference_object(a);
                reference.insert(
                    "notificationCount".into(),
                    counts.get(&a.id).copied().unwrap_or(0).into(),
                );
                assert_shows(&shown, &Value::Object(reference), "alert");
            }
            for n in c.obj_list(kinds::NOTIFICATION, team)? {
                let mut reference = reference_object(&n);
                reference.remove("version");
                assert_shows(
                    &alerts::notifications::render(&n),
                    &Value::Object(reference),
                    "notification",
                );
            }
            Ok(())
        })
        .await;
    checked.unwrap();
}

#[tokio::test]
async fn events_show_the_stored_json_in_v2_and_v1() {
    let (_dir, repo) = repo();
    let checked: Result<(), config_repo::RepoError> = repo
        .tx(|c| {
            bootstrap::run(c, &SysdigSettings::default())?;
            let team = c.default_team("SDC")?.unwrap().id;
            for e in [
                json!({"name": "deploy", "description": "v2", "severity": 4,
                       "scope": "host.hostName = 'web1'", "tags": {"b": "1", "a": "2"},
                       "timestamp": 1_700_000_000_000_i64, "category": "custom", "type": "CUSTOM",
                       "source": "api", "status": "triggered"}),
                json!({"name": "bare", "description": null, "severity": null, "scope": null,
                       "tags": {}, "timestamp": -3, "category": "custom"}),
                json!({"name": "odd", "severity": 300, "tags": {"n": 1}, "timestamp": 2.5,
                       "category": 7}),
            ] {
                c.obj_insert(kinds::EVENT, team, doc(e))?;
            }
            for e in c.obj_list(kinds::EVENT, team)? {
                let mut reference = reference_object(&e);
                reference.insert("id".into(), e.id.to_string().into());
                reference.remove("version");
                reference.remove("modifiedOn");
                assert_shows(
                    &events::render(&e),
                    &Value::Object(reference.clone()),
                    "event v2",
                );
                let scope = reference.remove("scope").unwrap_or(Value::Null);
                reference.insert("filter".into(), scope);
                assert_shows(
                    &events::v1::render(&e),
                    &Value::Object(reference),
                    "event v1",
                );
            }
            Ok(())
        })
        .await;
    checked.unwrap();
}

fn iso(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_string()
        .into()
}

#[tokio::test]
async fn dashboards_show_the_stored_json_in_v3_and_v2() {
    let (_dir, repo) = repo();
    let checked: Result<(), config_repo::RepoError> = repo
        .tx(|c| {
            bootstrap::run(c, &SysdigSettings::default())?;
            let team = c.default_team("SDC")?.unwrap();
            let user = c.users()?.into_iter().next().unwrap();
            let scope = json!([{"displayName": "host", "isVariable": true, "operand": "host.hostName",
                                "operator": "in", "value": ["web1"]}]);
            for d in [
                json!({"name": "v3", "description": "", "schema": 3, "shared": false, "public": false,
                       "favorite": true, "sharingSettings": [{"member": {"type": "TEAM", "id": team.id}, "role": "ROLE_RESOURCE_READ"}],
                       "panels": [{"id": 1, "name": "CPU", "type": "advancedTimechart",
                                   "advancedQueries": [{"query": "avg(cpu_used_percent)"}]}],
                       "layout": [{"panelId": 1, "x": 0, "y": 0, "w": 12, "h": 6}],
                       "scopeExpressionList": scope, "eventDisplaySettings": {"enabled": true},
                       "teamScopeExpressionList": [], "autoCreated": false, "publicToken": null,
                       "username": user.username}),
                json!({"name": "v2", "schema": 2, "widgets": [{"name": "w", "showAs": "timeSeries",
                       "gridConfiguration": {"col": 1, "row": 1, "size_x": 6, "size_y": 4},
                       "metrics": [{"id": "cpu.used.percent", "aggregations": {"time": "avg", "group": "avg"}}]}],
                       "scopeExpressionList": [{"displayName": "h", "variable": false, "operand": "a",
                                                "operator": "equals", "value": ["b"]}],
                       "username": null}),
                json!({"name": "odd", "schema": -3, "panels": [{"id": -1}, {"id": 2.5}],
                       "layout": [{"panelId": 1, "x": 0}], "sharingSettings": [{"role": 5}],
                       "scopeExpressionList": [{"operand": "x"}], "description": null,
                       "favorite": "yes", "username": 3}),
            ] {
                c.obj_insert(kinds::DASHBOARD, team.id, doc(d))?;
            }
            for role in [ROLE_TEAM_MANAGER, ROLE_TEAM_READ] {
                let caller = Caller { user: user.clone(), team: team.clone(), team_role: role.into(), iam: false };
                let perms = if role == ROLE_TEAM_READ {
                    json!(["dashboards.read"])
                } else {
                    json!(["dashboards.read", "dashboards.edit", "dashboards.delete", "dashboards.sharing"])
                };
                for d in c.obj_list(kinds::DASHBOARD, team.id)? {
                    let mut stored = reference_object(&d);
                    stored.insert("customerId".into(), 1.into());
                    stored.insert("createdOnDate".into(), iso(d.created_on));
                    stored.insert("modifiedOnDate".into(), iso(d.modified_on));
                    stored.insert("permissions".into(), perms.clone());
                    let mut v3 = stored.clone();
                    convert::as_v3(&mut v3);
                    assert_shows(&dashboards::render(&d, &caller, false), &Value::Object(v3.clone()), "dashboard v3");
                    for k in ["panels", "layout", "widgets"] {
                        v3.remove(k);
                    }
                    assert_shows(&dashboards::render(&d, &caller, true), &Value::Object(v3), "light dashboard v3");
                    let mut v2 = stored;
                    convert::as_v2(&mut v2);
                    assert_shows(&dashboards::v2::render(&d, &caller), &Value::Object(v2), "dashboard v2");
                }
            }
            Ok(())
        })
        .await;
    checked.unwrap();
}

#[tokio::test]
async fn channels_show_the_stored_json_and_debug_no_secret() {
    let (_dir, repo) = repo();
    let checked: Result<(), config_repo::RepoError> = repo
        .tx(|c| {
            bootstrap::run(c, &SysdigSettings::default())?;
            let team = c.default_team("SDC")?.unwrap().id;
            for ch in [
                json!({"type": "EMAIL", "name": "mail", "enabled": true,
                       "options": {"emailRecipients": ["ops@example.com"], "notifyOnOk": true},
                       "sendTestNotification": false}),
                json!({"type": "WEBHOOK", "name": "hook", "enabled": false,
                       "options": {"url": "https://hooks.example/SECRET-url", "additionalHeaders": {"X-Key": "SECRET-header"}},
                       "sendTestNotification": false}),
                json!({"type": "PAGER_DUTY", "name": "odd", "enabled": "yes",
                       "options": {"serviceKey": "SECRET-key", "emailRecipients": null, "snsTopicARNs": ["a", 1],
                                   "notifyOnResolve": 1},
                       "custom": null}),
                json!({"type": "CARRIER_PIGEON", "name": "other", "options": {}}),
            ] {
                c.obj_insert(kinds::CHANNEL, team, doc(ch))?;
            }
            for ch in c.obj_list(kinds::CHANNEL, team)? {
                let shown = channels::render(&ch);
                assert_shows(&shown, &Value::Object(reference_object(&ch)), "channel");
                let debug = format!("{shown:?}");
                assert!(!debug.contains("SECRET"), "{debug}");
            }
            Ok(())
        })
        .await;
    checked.unwrap();
}

//! Users and teams are shown through the `sysdig` crate's types; the JSON must be what the
//! emulator showed when it wrote the stored document out field by field (the reference below).
#![allow(clippy::unwrap_used)]

use config_repo::{
    now_ms,
    sqlite::sysdig::SqliteSysdigRepo,
    sysdig::{Document, SysdigRepo, SysdigTx, Team, User},
};
use serde_json::{Map, Value, json};
use sysdig_api::{
    domain::{ROLE_TEAM_MANAGER, bootstrap},
    monitor::{teams::render_team, users::render_user},
    settings::SysdigSettings,
};

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

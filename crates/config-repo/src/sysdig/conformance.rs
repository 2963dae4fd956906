//! What every [`SysdigRepo`] implementation must do, as one function a backend's tests call on
//! an empty repository. It panics at the first difference.

use serde_json::json;

use super::{
    Document, EventPos, EventRange, NewSecureEvent, SysdigRepo, SysdigTx, event_kinds, kinds,
};
use crate::{RepoError, RepoResult};

fn doc(v: serde_json::Value) -> Document {
    match v {
        serde_json::Value::Object(m) => m,
        _ => Document::new(),
    }
}

async fn tx<T: Send + 'static>(
    repo: &dyn SysdigRepo,
    f: impl FnOnce(&dyn SysdigTx) -> RepoResult<T> + Send + 'static,
) -> RepoResult<T> {
    repo.tx(f).await
}

/// Runs the Sysdig conformance suite against `repo`, which must be empty.
///
/// # Panics
/// When the repository behaves differently from what the API relies on.
pub async fn sysdig(repo: &dyn SysdigRepo) {
    meta_and_rollback(repo).await;
    users(repo).await;
    let (team, alice, bob) = teams_and_memberships(repo).await;
    tokens(repo, team, alice, bob).await;
    objects(repo, team).await;
    secure_events(repo, team).await;
    cascade_on_team_delete(repo, team, bob).await;
}

async fn meta_and_rollback(repo: &dyn SysdigRepo) {
    let got = tx(repo, |c| {
        assert_eq!(c.meta_get("k")?, None);
        c.meta_set("k", "1")?;
        c.meta_set("k", "2")?;
        assert_eq!(c.customer_name()?, "vigil", "the name without a customer");
        c.customer_ensure("acme")?;
        c.customer_ensure("other")?;
        Ok((c.meta_get("k")?, c.customer_name()?))
    })
    .await;
    assert!(
        matches!(got, Ok((Some(ref v), ref n)) if v == "2" && n == "acme"),
        "{got:?}"
    );
    // An error rolls every change of the unit of work back, and comes back as it was.
    let failed: Result<(), RepoError> = tx(repo, |c| {
        c.meta_set("k", "3")?;
        c.team_insert("Rolled back", &Document::new())?;
        Err(RepoError::Invalid("refused".into()))
    })
    .await;
    assert!(matches!(failed, Err(RepoError::Invalid(ref m)) if m == "refused"));
    let after = tx(repo, |c| {
        Ok((c.meta_get("k")?, c.team_by_name("Rolled back")?))
    })
    .await;
    assert!(
        matches!(after, Ok((Some(ref v), None)) if v == "2"),
        "{after:?}"
    );
}

async fn users(repo: &dyn SysdigRepo) {
    let checked = tx(repo, |c| {
        let u = c.user_insert("carol@x", "ROLE_USER", &doc(json!({"firstName": "C"})))?;
        assert_eq!((u.version, u.username.as_str()), (1, "carol@x"));
        assert!(!u.is_admin());
        assert_eq!(c.user(u.id)?.as_ref(), Some(&u));
        assert_eq!(c.user_by_name("CAROL@X")?.map(|f| f.id), Some(u.id));
        assert!(matches!(
            c.user_insert("Carol@X", "ROLE_USER", &Document::new()),
            Err(RepoError::Conflict(_))
        ));
        let mut changed = u.clone();
        changed.version = 2;
        changed.system_role = "ROLE_CUSTOMER".into();
        changed.doc.insert("lastName".into(), "D".into());
        c.user_update(&changed)?;
        assert_eq!(c.user(u.id)?.as_ref(), Some(&changed));
        assert!(c.user(u.id)?.is_some_and(|f| f.is_admin()));
        let other = c.user_insert("dave@x", "ROLE_USER", &Document::new())?;
        let mut clash = other.clone();
        clash.username = "CAROL@x".into();
        assert!(matches!(c.user_update(&clash), Err(RepoError::Conflict(_))));
        assert_eq!(
            c.users()?.iter().map(|f| f.id).collect::<Vec<_>>(),
            vec![u.id, other.id]
        );
        assert!(c.user_delete(u.id)?);
        assert!(!c.user_delete(u.id)?);
        assert!(c.user_delete(other.id)?);
        assert_eq!(c.user(u.id)?, None);
        assert_eq!(c.user_by_name("carol@x")?, None);
        Ok(())
    })
    .await;
    assert!(checked.is_ok(), "{checked:?}");
}

/// Returns (team, alice, bob).
async fn teams_and_memberships(repo: &dyn SysdigRepo) -> (i64, i64, i64) {
    let out = tx(repo, |c| {
        let id = c.team_insert(
            "Ops",
            &doc(
                json!({"products": ["SDC"], "default": true, "defaultTeamRole": "ROLE_TEAM_EDIT"}),
            ),
        )?;
        let t = c.team(id)?;
        assert!(t.as_ref().is_some_and(|t| t.version == 1 && t.is_default()));
        assert_eq!(t.as_ref().map(|t| t.default_role()), Some("ROLE_TEAM_EDIT"));
        assert_eq!(c.team_by_name("oPS")?.map(|t| t.id), Some(id));
        assert!(matches!(
            c.team_insert("OPS", &Document::new()),
            Err(RepoError::Conflict(_))
        ));
        assert_eq!(c.default_team("SDC")?.map(|t| t.id), Some(id));
        assert_eq!(c.default_team("SDS")?, None);
        let other = c.team_insert("Dev", &doc(json!({"products": ["SDS"]})))?;
        let Some(mut renamed) = c.team(other)? else {
            panic!("team {other} was stored")
        };
        renamed.name = "Dev 2".into();
        renamed.version = 2;
        c.team_update(&renamed)?;
        assert_eq!(c.team(other)?.as_ref(), Some(&renamed));
        renamed.name = "ops".into();
        assert!(matches!(
            c.team_update(&renamed),
            Err(RepoError::Conflict(_))
        ));
        assert_eq!(
            c.teams()?.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![id, other]
        );
        assert!(c.team_delete(other)?);
        assert!(!c.team_delete(other)?);

        let alice = c.user_insert("alice@x", "ROLE_USER", &Document::new())?.id;
        let bob = c.user_insert("bob@x", "ROLE_USER", &Document::new())?.id;
        assert_eq!(c.membership(id, alice)?, None);
        c.membership_set(id, alice, "ROLE_TEAM_READ")?;
        c.membership_set(id, alice, "ROLE_TEAM_MANAGER")?;
        c.membership_set(id, bob, "ROLE_TEAM_STANDARD")?;
        assert_eq!(
            c.membership(id, alice)?.as_deref(),
            Some("ROLE_TEAM_MANAGER")
        );
        let members = c.team_members(id)?;
        assert_eq!(
            members
                .iter()
                .map(|m| (m.user_id, m.username.as_str(), m.role.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (alice, "alice@x", "ROLE_TEAM_MANAGER"),
                (bob, "bob@x", "ROLE_TEAM_STANDARD")
            ]
        );
        assert_eq!(c.user_teams(bob)?, vec![(id, "ROLE_TEAM_STANDARD".into())]);
        Ok((id, alice, bob))
    })
    .await;
    match out {
        Ok(ids) => ids,
        Err(e) => panic!("teams and memberships: {e:?}"),
    }
}

async fn tokens(repo: &dyn SysdigRepo, team: i64, alice: i64, bob: i64) {
    let checked = tx(repo, move |c| {
        let a = c.token_for(alice, team)?;
        assert_eq!(c.token_for(alice, team)?, a, "a token is issued once");
        assert_eq!(c.token_owner(&a)?, Some((alice, team)));
        c.token_set(alice, team, "fixed-token")?;
        assert_eq!(c.token_owner(&a)?, None, "a replaced token stops working");
        assert_eq!(c.token_owner("fixed-token")?, Some((alice, team)));
        // The key moves to bob: alice loses it.
        c.token_set(bob, team, "fixed-token")?;
        assert_eq!(c.token_owner("fixed-token")?, Some((bob, team)));
        let a2 = c.token_for(alice, team)?;
        assert_ne!(a2, "fixed-token");
        // Replacing the members drops the tokens of those removed.
        c.members_replace(team, &[(bob, "ROLE_TEAM_EDIT".into())])?;
        assert_eq!(c.membership(team, alice)?, None);
        assert_eq!(c.membership(team, bob)?.as_deref(), Some("ROLE_TEAM_EDIT"));
        assert_eq!(c.token_owner(&a2)?, None);
        assert_eq!(c.token_owner("fixed-token")?, Some((bob, team)));
        // Deleting a user drops its memberships and tokens.
        c.membership_set(team, alice, "ROLE_TEAM_READ")?;
        let a3 = c.token_for(alice, team)?;
        assert!(c.user_delete(alice)?);
        assert_eq!(c.token_owner(&a3)?, None);
        assert_eq!(c.team_members(team)?.len(), 1);
        Ok(())
    })
    .await;
    assert!(checked.is_ok(), "{checked:?}");
}

async fn objects(repo: &dyn SysdigRepo, team: i64) {
    let checked = tx(repo, move |c| {
        let a = c.obj_insert(
            kinds::ALERT,
            team,
            doc(json!({"name": "cpu", "id": 99, "version": 7, "teamId": 5, "enabled": true})),
        )?;
        assert_eq!(
            (a.version, a.team_id, a.kind.as_str()),
            (1, team, kinds::ALERT)
        );
        assert_eq!(a.created_on, a.modified_on);
        assert_eq!(
            a.doc,
            doc(json!({"name": "cpu", "enabled": true})),
            "columns are not kept in the document"
        );
        assert_eq!(c.obj_get(kinds::ALERT, team, a.id)?.as_ref(), Some(&a));
        assert_eq!(c.obj_get(kinds::CHANNEL, team, a.id)?, None, "another kind");
        assert_eq!(
            c.obj_get(kinds::ALERT, team + 1000, a.id)?,
            None,
            "another team"
        );
        assert_eq!(c.obj_get(kinds::ALERT, team, a.id + 1000)?, None);
        let b = c.obj_insert(kinds::ALERT, team, doc(json!({"name": "mem"})))?;
        assert_eq!(
            c.obj_list(kinds::ALERT, team)?
                .iter()
                .map(|o| o.id)
                .collect::<Vec<_>>(),
            vec![a.id, b.id]
        );
        assert!(c.obj_name_taken(kinds::ALERT, team, "cpu", None)?);
        assert!(c.obj_name_taken(kinds::ALERT, team, "cpu", Some(b.id))?);
        assert!(!c.obj_name_taken(kinds::ALERT, team, "cpu", Some(a.id))?);
        assert!(
            !c.obj_name_taken(kinds::ALERT, team, "CPU", None)?,
            "object names compare exactly"
        );
        assert!(!c.obj_name_taken(kinds::CHANNEL, team, "cpu", None)?);

        let mut edited = a.clone();
        edited.doc.insert("enabled".into(), false.into());
        edited.doc.insert("version".into(), 42.into());
        c.obj_save(&mut edited, true)?;
        assert_eq!(edited.version, 2);
        assert!(edited.modified_on >= a.modified_on);
        assert!(!edited.doc.contains_key("version"));
        assert_eq!(c.obj_get(kinds::ALERT, team, a.id)?.as_ref(), Some(&edited));
        edited.doc.insert("favorite".into(), true.into());
        c.obj_save(&mut edited, false)?;
        let stored = c.obj_get(kinds::ALERT, team, a.id)?;
        assert!(
            stored
                .as_ref()
                .is_some_and(|s| s.version == 2 && s.doc.get("favorite") == Some(&true.into()))
        );

        for alert in [a.id, a.id, b.id] {
            c.obj_insert(kinds::NOTIFICATION, team, doc(json!({"alert": alert})))?;
        }
        c.obj_insert(kinds::NOTIFICATION, team, doc(json!({"alert": "x"})))?;
        let counts = c.obj_counts_by(kinds::NOTIFICATION, team, "alert")?;
        assert_eq!(counts.len(), 2);
        assert_eq!((counts.get(&a.id), counts.get(&b.id)), (Some(&2), Some(&1)));
        assert_eq!(
            c.obj_delete_by(kinds::NOTIFICATION, team, "alert", a.id)?,
            2
        );
        assert_eq!(c.obj_list(kinds::NOTIFICATION, team)?.len(), 2);

        assert!(!c.obj_delete(kinds::CHANNEL, team, b.id)?, "another kind");
        assert!(c.obj_delete(kinds::ALERT, team, b.id)?);
        assert!(!c.obj_delete(kinds::ALERT, team, b.id)?);
        assert_eq!(c.obj_get(kinds::ALERT, team, b.id)?, None);
        Ok(())
    })
    .await;
    assert!(checked.is_ok(), "{checked:?}");
}

async fn cascade_on_team_delete(repo: &dyn SysdigRepo, team: i64, bob: i64) {
    let checked = tx(repo, move |c| {
        let key = c.token_for(bob, team)?;
        assert!(c.team_delete(team)?);
        assert_eq!(c.team(team)?, None);
        assert_eq!(c.membership(team, bob)?, None);
        assert!(c.user_teams(bob)?.is_empty());
        assert_eq!(c.token_owner(&key)?, None);
        assert!(c.obj_list(kinds::ALERT, team)?.is_empty());
        assert!(c.obj_list(kinds::NOTIFICATION, team)?.is_empty());
        assert_eq!(c.secure_event_get(event_kinds::POLICY, team, "e1")?, None);
        assert!(c.user(bob)?.is_some(), "users outlive their teams");
        Ok(())
    })
    .await;
    assert!(checked.is_ok(), "{checked:?}");
}

async fn secure_events(repo: &dyn SysdigRepo, team: i64) {
    let checked = tx(repo, move |c| {
        use event_kinds::{AUDIT, POLICY};
        let other = c.team_insert("Secure elsewhere", &Document::new())?;
        assert_eq!(c.secure_events_last_seq()?, 0);
        let ev = |id: &str, ts: i64| NewSecureEvent {
            id: id.into(),
            ts_ns: ts,
            doc: doc(json!({"name": id})),
        };
        // Two events at the same time are ordered by insertion.
        let stored: Vec<_> = [("e1", 10), ("e2", 20), ("e3", 20), ("e4", 30)]
            .into_iter()
            .map(|(id, ts)| c.secure_event_insert(POLICY, team, &ev(id, ts)))
            .collect::<Result<_, _>>()?;
        assert!(stored.windows(2).all(|w| w[0].seq < w[1].seq));
        c.secure_event_insert(AUDIT, team, &ev("e1", 15))?;
        c.secure_event_insert(POLICY, other, &ev("e1", 25))?;
        assert!(matches!(
            c.secure_event_insert(POLICY, team, &ev("e1", 99)),
            Err(RepoError::Conflict(_))
        ));
        let got = c.secure_event_get(POLICY, team, "e3")?;
        assert_eq!(got.as_ref(), Some(&stored[2]));
        assert_eq!(
            got.map(|e| e.doc.get("name").cloned()),
            Some(Some("e3".into()))
        );
        assert_eq!(c.secure_event_get(POLICY, team, "nope")?, None);
        assert_eq!(c.secure_event_get(AUDIT, other, "e1")?, None);

        let ids = |r: &EventRange, kind: &str, t: i64| -> RepoResult<Vec<String>> {
            Ok(c.secure_events_range(kind, t, r)?
                .into_iter()
                .map(|e| e.id)
                .collect())
        };
        assert_eq!(
            ids(&EventRange::newest(10), POLICY, team)?,
            ["e4", "e3", "e2", "e1"]
        );
        assert_eq!(ids(&EventRange::newest(10), AUDIT, team)?, ["e1"]);
        assert_eq!(ids(&EventRange::newest(10), POLICY, other)?, ["e1"]);
        let mut r = EventRange::newest(2);
        r.from_ns = Some(11);
        r.to_ns = Some(30);
        assert_eq!(ids(&r, POLICY, team)?, ["e4", "e3"]);
        r.start = Some(stored[2].pos());
        assert_eq!(
            ids(&r, POLICY, team)?,
            ["e2"],
            "strictly older, window kept"
        );
        r.start = Some(EventPos {
            ts_ns: 20,
            seq: stored[2].seq,
        });
        r.older = false;
        assert_eq!(ids(&r, POLICY, team)?, ["e4"], "strictly newer");
        let mut snap = EventRange::newest(10);
        snap.max_seq = Some(stored[1].seq);
        assert_eq!(ids(&snap, POLICY, team)?, ["e2", "e1"], "a snapshot");
        assert!(c.secure_events_last_seq()? >= stored[3].seq);
        assert_eq!(
            c.secure_events_count(POLICY, team, &EventRange::newest(1))?,
            4
        );
        assert_eq!(
            c.secure_events_count(POLICY, team, &r)?,
            1,
            "newer than e3, in the window"
        );
        assert_eq!(c.secure_events_count(POLICY, team, &snap)?, 2);
        assert_eq!(
            c.secure_events_count(AUDIT, other, &EventRange::newest(1))?,
            0
        );
        c.team_delete(other)?;
        Ok(())
    })
    .await;
    assert!(checked.is_ok(), "{checked:?}");
}

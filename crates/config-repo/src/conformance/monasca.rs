//! The Monasca repositories' rules. Call [`all`] on empty repositories.

use std::collections::BTreeMap;

use ::monasca::types::{AlarmMetric, AlarmState, NotificationType, Severity};

use crate::{
    RepoError, RepoResult,
    monasca::{
        AlarmChange, AlarmDefinition, AlarmFilter, DefinitionQuery, DefinitionSort, DimensionMatch,
        HistoryQuery, MonascaRepos, NewAlarm, NewHistoryEntry, NotificationMethod,
        NotificationMethodSort, Paging, in_unit,
    },
};

const TENANT: &str = "conformance";
const OTHER_TENANT: &str = "someone-else";

/// Runs every suite below, in order, on empty repositories.
///
/// # Errors
/// A backend failure the suites do not expect.
pub async fn all(repos: &MonascaRepos) -> RepoResult<()> {
    notification_methods(repos).await?;
    alarm_definitions(repos).await?;
    alarms(repos).await?;
    state_history(repos).await?;
    units(repos).await
}

fn method(id: &str, name: &str) -> NotificationMethod {
    NotificationMethod {
        id: id.into(),
        tenant: TENANT.into(),
        name: name.into(),
        kind: NotificationType::Email,
        address: format!("{name}@example.com"),
        period: 0,
    }
}

fn definition(id: &str, name: &str, expression: &str) -> AlarmDefinition {
    let mut d = AlarmDefinition::new(id.into(), TENANT.into());
    d.name = name.into();
    d.expression = expression.into();
    d
}

fn metric(name: &str, host: &str) -> AlarmMetric {
    AlarmMetric {
        name: name.into(),
        dimensions: BTreeMap::from([("hostname".to_string(), host.to_string())]),
    }
}

fn page(offset: usize, limit: usize) -> Paging {
    Paging { offset, limit }
}

/// Notification methods: create, get, list with paging and order, update, delete, and the
/// not-found and name conflicts.
///
/// # Errors
/// A backend failure.
pub async fn notification_methods(repos: &MonascaRepos) -> RepoResult<()> {
    let nm = &repos.notification_methods;
    nm.create(method("nm-b", "beta")).await?;
    nm.create(method("nm-a", "alpha")).await?;
    let mut webhook = method("nm-c", "gamma");
    webhook.kind = NotificationType::Webhook;
    webhook.address = "http://example.com/hook".into();
    webhook.period = 60;
    nm.create(webhook.clone()).await?;
    assert_eq!(nm.get(TENANT, "nm-c").await?, webhook);
    assert!(matches!(
        nm.get(OTHER_TENANT, "nm-c").await,
        Err(RepoError::NotFound(_))
    ));
    assert!(matches!(
        nm.create(method("nm-d", "alpha")).await,
        Err(RepoError::Conflict(m)) if m == "A notification method with the name alpha already exists"
    ));

    let first = nm.list(TENANT, &[], page(0, 2)).await?;
    let ids: Vec<_> = first.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["nm-a", "nm-b"], "listed by id");
    assert!(first.more);
    let rest = nm.list(TENANT, &[], page(2, 2)).await?;
    assert_eq!(rest.items.len(), 1);
    assert!(!rest.more);
    let by_name = nm
        .list(TENANT, &[(NotificationMethodSort::Name, true)], page(0, 10))
        .await?;
    let names: Vec<_> = by_name.items.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["gamma", "beta", "alpha"]);
    assert!(
        nm.list(OTHER_TENANT, &[], page(0, 10))
            .await?
            .items
            .is_empty()
    );

    let mut renamed = method("nm-b", "alpha");
    assert!(matches!(
        nm.update(renamed.clone()).await,
        Err(RepoError::Conflict(m)) if m == "A notification method with name alpha already exists with id nm-a"
    ));
    renamed.name = "delta".into();
    renamed.kind = NotificationType::Pagerduty;
    nm.update(renamed.clone()).await?;
    assert_eq!(nm.get(TENANT, "nm-b").await?, renamed);
    assert!(matches!(
        nm.update(method("nm-missing", "epsilon")).await,
        Err(RepoError::NotFound(_))
    ));

    nm.delete(TENANT, "nm-b").await?;
    assert!(matches!(
        nm.delete(TENANT, "nm-b").await,
        Err(RepoError::NotFound(_))
    ));
    assert!(matches!(
        nm.get(TENANT, "nm-b").await,
        Err(RepoError::NotFound(_))
    ));
    Ok(())
}

/// Alarm definitions: create with actions, get, list with filters, order and paging, delete,
/// and the name conflict, an unknown action and not-found. Needs methods `nm-a` and `nm-c`
/// from [`notification_methods`].
///
/// # Errors
/// A backend failure.
pub async fn alarm_definitions(repos: &MonascaRepos) -> RepoResult<()> {
    let defs = &repos.alarm_definitions;
    let mut cpu = definition("def-1", "cpu", "avg(cpu{hostname=web1}) > 90");
    cpu.severity = Severity::High;
    cpu.match_by = vec!["hostname".into(), "service".into()];
    cpu.alarm_actions = vec!["nm-a".into(), "nm-c".into()];
    cpu.ok_actions = vec!["nm-c".into()];
    cpu.description = "busy".into();
    defs.create(cpu.clone()).await?;
    let mut disk = definition("def-2", "disk", "max(disk) > 80");
    disk.actions_enabled = false;
    defs.create(disk.clone()).await?;
    defs.create(definition("def-3", "mem", "min(mem{hostname=web2}) < 5"))
        .await?;
    assert_eq!(defs.get(TENANT, "def-1").await?, cpu);
    assert_eq!(defs.get(TENANT, "def-2").await?, disk);
    assert!(matches!(
        defs.get(OTHER_TENANT, "def-1").await,
        Err(RepoError::NotFound(_))
    ));
    assert!(matches!(
        defs.create(definition("def-4", "cpu", "max(x) > 1")).await,
        Err(RepoError::Conflict(m)) if m == "An alarm definition with the name cpu already exists"
    ));
    let mut bad = definition("def-5", "bad", "max(x) > 1");
    bad.undetermined_actions = vec!["nm-nowhere".into()];
    assert!(matches!(
        defs.create(bad).await,
        Err(RepoError::Invalid(m)) if m == "Non-existent notification id nm-nowhere submitted for UNDETERMINED notification action"
    ));
    assert!(matches!(
        defs.get(TENANT, "def-5").await,
        Err(RepoError::NotFound(_))
    ));

    let all = defs.list(DefinitionQuery::all(TENANT, 2)).await?;
    let ids: Vec<_> = all.items.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["def-1", "def-2"]);
    assert!(all.more);
    let mut q = DefinitionQuery::all(TENANT, 10);
    q.paging.offset = 2;
    let rest = defs.list(q).await?;
    assert_eq!(rest.items.len(), 1);
    assert!(!rest.more);
    let mut q = DefinitionQuery::all(TENANT, 10);
    q.sort = vec![(DefinitionSort::Name, true)];
    let names: Vec<_> = defs
        .list(q)
        .await?
        .items
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["mem", "disk", "cpu"]);
    let mut q = DefinitionQuery::all(TENANT, 10);
    q.severities = vec![Severity::High, Severity::Critical];
    assert_eq!(defs.list(q).await?.items, vec![cpu.clone()]);
    let mut q = DefinitionQuery::all(TENANT, 10);
    q.name = Some("disk".into());
    assert_eq!(defs.list(q).await?.items, vec![disk]);
    let mut q = DefinitionQuery::all(TENANT, 10);
    q.dimensions = vec![("hostname".into(), "web2".into())];
    let ids: Vec<_> = defs
        .list(q)
        .await?
        .items
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(ids, ["def-3"]);
    assert!(
        defs.list(DefinitionQuery::all(OTHER_TENANT, 10))
            .await?
            .items
            .is_empty()
    );

    defs.delete(TENANT, "def-3").await?;
    assert!(matches!(
        defs.delete(TENANT, "def-3").await,
        Err(RepoError::NotFound(_))
    ));
    // Deleting a method takes it out of the actions that named it.
    repos.notification_methods.delete(TENANT, "nm-a").await?;
    assert_eq!(
        defs.get(TENANT, "def-1").await?.alarm_actions,
        vec!["nm-c".to_string()]
    );
    Ok(())
}

/// Alarms: create, get, list with filters, delete, not-found and conflict. Needs definitions
/// `def-1` (HIGH) and `def-2` from [`alarm_definitions`].
///
/// # Errors
/// A backend failure.
pub async fn alarms(repos: &MonascaRepos) -> RepoResult<()> {
    let alarms = &repos.alarms;
    let new = |id: &str, def: &str, host: &str, state: AlarmState| NewAlarm {
        id: id.into(),
        definition_id: def.into(),
        tenant: TENANT.into(),
        group_key: host.into(),
        state,
        metrics: vec![metric("cpu", host), metric("cpu.other", host)],
        now: 1_000,
    };
    alarms
        .create(new("al-2", "def-1", "web2", AlarmState::Alarm))
        .await?;
    alarms
        .create(new("al-1", "def-1", "web1", AlarmState::Undetermined))
        .await?;
    alarms
        .create(new("al-3", "def-2", "web1", AlarmState::Ok))
        .await?;
    assert!(matches!(
        alarms
            .create(new("al-1", "def-1", "web9", AlarmState::Ok))
            .await,
        Err(RepoError::Conflict(_))
    ));
    assert!(matches!(
        alarms
            .create(new("al-9", "def-none", "web9", AlarmState::Ok))
            .await,
        Err(RepoError::NotFound(_))
    ));

    let a = alarms.get(TENANT, "al-2").await?;
    assert_eq!(a.definition_id, "def-1");
    assert_eq!(a.definition_name, "cpu");
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.state, AlarmState::Alarm);
    assert_eq!(
        a.metrics,
        vec![metric("cpu", "web2"), metric("cpu.other", "web2")]
    );
    assert_eq!(
        (a.created_at, a.state_updated_at, a.updated_at),
        (1_000, 1_000, 1_000)
    );
    assert_eq!((a.lifecycle_state, a.link), (None, None));
    assert!(matches!(
        alarms.get(OTHER_TENANT, "al-2").await,
        Err(RepoError::NotFound(_))
    ));

    let ids = |v: Vec<crate::monasca::AlarmRecord>| -> Vec<String> {
        v.into_iter().map(|a| a.id).collect()
    };
    assert_eq!(
        ids(alarms.list(TENANT, AlarmFilter::default()).await?),
        ["al-1", "al-2", "al-3"]
    );
    let by_def = AlarmFilter {
        definition_id: Some("def-1".into()),
        ..AlarmFilter::default()
    };
    assert_eq!(ids(alarms.list(TENANT, by_def).await?), ["al-1", "al-2"]);
    let by_state = AlarmFilter {
        state: Some(AlarmState::Ok),
        ..AlarmFilter::default()
    };
    assert_eq!(ids(alarms.list(TENANT, by_state).await?), ["al-3"]);
    let by_dims = AlarmFilter {
        metric_name: Some("cpu".into()),
        metric_dimensions: vec![(
            "hostname".into(),
            DimensionMatch::AnyOf(vec!["web2".into(), "web3".into()]),
        )],
        ..AlarmFilter::default()
    };
    assert_eq!(ids(alarms.list(TENANT, by_dims).await?), ["al-2"]);
    let by_severity = AlarmFilter {
        severities: vec![Severity::Low],
        ..AlarmFilter::default()
    };
    assert_eq!(ids(alarms.list(TENANT, by_severity).await?), ["al-3"]);
    assert!(
        alarms
            .list(OTHER_TENANT, AlarmFilter::default())
            .await?
            .is_empty()
    );

    alarms.delete(TENANT, "al-3").await?;
    assert!(matches!(
        alarms.delete(TENANT, "al-3").await,
        Err(RepoError::NotFound(_))
    ));
    // A definition's delete takes its alarms along.
    alarms
        .create(new("al-4", "def-2", "web4", AlarmState::Ok))
        .await?;
    repos.alarm_definitions.delete(TENANT, "def-2").await?;
    assert!(matches!(
        alarms.get(TENANT, "al-4").await,
        Err(RepoError::NotFound(_))
    ));
    Ok(())
}

/// State history: append, and pages by time, position and alarm.
///
/// # Errors
/// A backend failure.
pub async fn state_history(repos: &MonascaRepos) -> RepoResult<()> {
    let history = &repos.state_history;
    let entry = |alarm: &str, t: i64, new_state: AlarmState| NewHistoryEntry {
        tenant: TENANT.into(),
        alarm_id: alarm.into(),
        time_ms: t,
        metrics: vec![metric("cpu", "web1")],
        old_state: AlarmState::Undetermined,
        new_state,
        reason: format!("at {t}"),
        sub_alarms: Vec::new(),
    };
    history.append(entry("h-1", 20, AlarmState::Ok)).await?;
    history.append(entry("h-1", 10, AlarmState::Alarm)).await?;
    history.append(entry("h-2", 20, AlarmState::Alarm)).await?;
    history.append(entry("h-3", 15, AlarmState::Ok)).await?;
    let query = |after: Option<(i64, i64)>, limit: usize| HistoryQuery {
        tenant: TENANT.into(),
        alarm_ids: vec!["h-1".into(), "h-2".into()],
        start: None,
        end: None,
        after,
        limit,
    };
    let all = history.list(query(None, 10)).await?;
    let order: Vec<_> = all
        .iter()
        .map(|h| (h.alarm_id.as_str(), h.time_ms))
        .collect();
    assert_eq!(order, [("h-1", 10), ("h-1", 20), ("h-2", 20)]);
    assert_eq!(all[0].new_state, AlarmState::Alarm);
    assert_eq!(all[0].reason, "at 10");
    assert_eq!(all[0].reason_data, "{}");
    assert_eq!(all[0].metrics, vec![metric("cpu", "web1")]);
    // Entries of the same millisecond are told apart by their position.
    let first = history.list(query(None, 2)).await?;
    assert_eq!(first.len(), 2);
    let last = &first[1];
    let next = history
        .list(query(Some((last.time_ms, last.seq)), 2))
        .await?;
    let ids: Vec<_> = next.iter().map(|h| h.alarm_id.as_str()).collect();
    assert_eq!(ids, ["h-2"]);
    let mut bounded = query(None, 10);
    bounded.start = Some(11);
    bounded.end = Some(20);
    assert_eq!(history.list(bounded).await?.len(), 2);
    let mut none = query(None, 10);
    none.alarm_ids.clear();
    assert!(history.list(none).await?.is_empty());
    let mut other = query(None, 10);
    other.tenant = OTHER_TENANT.into();
    assert!(history.list(other).await?.is_empty());
    Ok(())
}

/// Units of work: reads and writes in one transaction, a rejected unit leaves nothing behind,
/// the after-commit hook runs only on commit. Needs definition `def-1` and alarm `al-2`.
///
/// # Errors
/// A backend failure.
pub async fn units(repos: &MonascaRepos) -> RepoResult<()> {
    let units = repos.units.as_ref();
    let committed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = committed.clone();
    let updated = in_unit(units, move |u| -> RepoResult<_> {
        let Some(mut d) = u.alarm_definition(TENANT, "def-1")? else {
            return Err(RepoError::NotFound("def-1".into()));
        };
        assert!(u.definition_has_alarms("def-1")?);
        assert_eq!(
            u.definition_named(TENANT, "cpu", None)?,
            Some("def-1".into())
        );
        assert_eq!(u.definition_named(TENANT, "cpu", Some("def-1"))?, None);
        d.severity = Severity::Critical;
        d.ok_actions.clear();
        u.check_actions(&d)?;
        u.update_definition(&d, 2_000)?;
        let Some(a) = u.alarm(TENANT, "al-2")? else {
            return Err(RepoError::NotFound("al-2".into()));
        };
        let change = AlarmChange {
            state: Some(AlarmState::Ok),
            lifecycle_state: Some("OPEN".into()),
            link: Some("http://tickets/1".into()),
        };
        u.update_alarm(&a.id, &change, 3_000)?;
        u.append_history(&NewHistoryEntry {
            tenant: TENANT.into(),
            alarm_id: a.id.clone(),
            time_ms: 3_000,
            metrics: a.metrics.clone(),
            old_state: a.state,
            new_state: AlarmState::Ok,
            reason: "by hand".into(),
            sub_alarms: Vec::new(),
        })?;
        u.after_commit(Box::new(move || {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
        Ok(d)
    })
    .await?;
    assert_eq!(committed.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(repos.alarm_definitions.get(TENANT, "def-1").await?, updated);
    let a = repos.alarms.get(TENANT, "al-2").await?;
    assert_eq!(a.state, AlarmState::Ok);
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!((a.state_updated_at, a.updated_at), (3_000, 3_000));
    assert_eq!(a.lifecycle_state.as_deref(), Some("OPEN"));
    // Lifecycle and link only: the state and its time stay.
    let keep = AlarmChange {
        state: None,
        lifecycle_state: None,
        link: Some("http://tickets/2".into()),
    };
    in_unit(units, move |u| u.update_alarm("al-2", &keep, 4_000)).await?;
    let a = repos.alarms.get(TENANT, "al-2").await?;
    assert_eq!((a.state_updated_at, a.updated_at), (3_000, 4_000));
    assert_eq!(a.lifecycle_state, None);

    // A rejected unit rolls back and answers with its own error; the hook does not run.
    let seen = committed.clone();
    let rejected: Result<(), RepoError> = in_unit(units, move |u| {
        let mut d = definition("def-9", "later", "max(x) > 1");
        d.alarm_actions = vec!["nm-c".into()];
        u.insert_definition(&d, 5_000)?;
        u.after_commit(Box::new(move || {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
        let mut missing = d.clone();
        missing.ok_actions = vec!["nm-gone".into()];
        u.check_actions(&missing)
    })
    .await;
    assert!(matches!(
        rejected,
        Err(RepoError::Invalid(m)) if m == "Non-existent notification id nm-gone submitted for OK notification action"
    ));
    assert!(matches!(
        repos.alarm_definitions.get(TENANT, "def-9").await,
        Err(RepoError::NotFound(_))
    ));
    assert_eq!(committed.load(std::sync::atomic::Ordering::SeqCst), 1);
    Ok(())
}

//! The engine on a hand-moved clock, with a real SQLite repository in a temp dir and the
//! in-memory metric store: no server, no HTTP.

#![allow(clippy::unwrap_used)]

use std::{collections::BTreeMap, sync::Arc};

use AlarmState::{Alarm, Ok as Fine, Undetermined};
use alarm_engine::{AlarmState, Engine, EngineConfig, ManualClock, Transition};
use config_repo::{
    monasca::threshold::{ThresholdDefinition, ThresholdStore},
    sqlite::threshold::SqliteThresholdStore,
};
use metric_store::{MemoryStore, MetricStore, Sample, SeriesKey};
use tokio::sync::broadcast::{Receiver, error::TryRecvError};

/// 2026-01-01T00:00:00Z, a minute boundary, in seconds.
const T0: i64 = 1_767_225_600;

struct Env {
    dir: tempfile::TempDir,
    repo: Arc<SqliteThresholdStore>,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    engine: Arc<Engine>,
    events: Receiver<Transition>,
}

impl Env {
    async fn start(definitions: &[(&str, &str, &[&str])]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Arc::new(SqliteThresholdStore::open(&dir.path().join("alarms.db")).unwrap());
        for (id, expression, match_by) in definitions {
            repo.insert_definition(&definition(id, expression, match_by), T0 * 1000)
                .unwrap();
        }
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(T0 * 1000));
        let (engine, events) = load(&repo, &store, &clock).await;
        Self {
            dir,
            repo,
            store,
            clock,
            engine,
            events,
        }
    }

    /// A new engine on the same database and store, as after a restart.
    async fn restart(self) -> Self {
        let Self {
            dir, store, clock, ..
        } = self;
        let repo = Arc::new(SqliteThresholdStore::open(&dir.path().join("alarms.db")).unwrap());
        let (engine, events) = load(&repo, &store, &clock).await;
        Self {
            dir,
            repo,
            store,
            clock,
            engine,
            events,
        }
    }

    /// Stores and observes one sample of tenant `acme` at `T0 + secs`.
    async fn sample(&self, name: &str, dims: &[(&str, &str)], secs: i64, value: f64) {
        let dimensions: BTreeMap<String, String> = dims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let s = Sample {
            series: Arc::new(SeriesKey {
                tenant: "acme".into(),
                name: name.into(),
                dimensions,
            }),
            timestamp: (T0 + secs) * 1000,
            value,
            value_meta: None,
        };
        self.store.write(vec![s.clone()]).await.unwrap();
        self.engine.observe(&[s]);
    }

    /// Moves the clock to `T0 + secs` and evaluates.
    fn tick_at(&self, secs: i64) {
        self.clock.set((T0 + secs) * 1000);
        self.engine.tick();
    }

    /// The transitions published since the last call.
    fn transitions(&mut self) -> Vec<Transition> {
        let mut out = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(t) => out.push(t),
                Err(TryRecvError::Empty) => return out,
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// `(definition, old, new)` of the transitions since the last call.
    fn changes(&mut self) -> Vec<(String, AlarmState, AlarmState)> {
        self.transitions()
            .into_iter()
            .map(|t| (t.definition_id, t.old_state, t.new_state))
            .collect()
    }

    fn stored_states(&self) -> Vec<(String, String, AlarmState)> {
        let mut v: Vec<_> = self
            .repo
            .alarms()
            .unwrap()
            .into_iter()
            .map(|a| (a.definition_id, a.group_key, a.state))
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        v
    }
}

async fn load(
    repo: &Arc<SqliteThresholdStore>,
    store: &Arc<MemoryStore>,
    clock: &Arc<ManualClock>,
) -> (Arc<Engine>, Receiver<Transition>) {
    let cfg = EngineConfig {
        delay_s: 30,
        ..EngineConfig::default()
    };
    let engine = Engine::load(repo.clone(), store.clone(), clock.clone(), cfg)
        .await
        .unwrap();
    let events = engine.subscribe();
    (engine, events)
}

fn definition(id: &str, expression: &str, match_by: &[&str]) -> ThresholdDefinition {
    ThresholdDefinition {
        id: id.into(),
        tenant: "acme".into(),
        name: format!("definition {id}"),
        description: String::new(),
        expression: expression.into(),
        severity: "HIGH".into(),
        match_by: match_by.iter().map(|s| s.to_string()).collect(),
        actions_enabled: true,
        alarm_actions: Vec::new(),
        ok_actions: Vec::new(),
        undetermined_actions: Vec::new(),
    }
}

fn change(def: &str, from: AlarmState, to: AlarmState) -> (String, AlarmState, AlarmState) {
    (def.to_string(), from, to)
}

#[tokio::test]
async fn last_goes_alarm_on_one_sample_and_publishes_the_transition() {
    let mut env = Env::start(&[("up", "last(up) < 1", &["hostname"])]).await;
    env.sample("up", &[("hostname", "web1")], 5, 0.0).await;
    let t = env.transitions();
    assert_eq!(t.len(), 1, "{t:?}");
    let t = &t[0];
    assert_eq!((t.old_state, t.new_state), (Undetermined, Alarm));
    assert_eq!(t.definition_id, "up");
    assert_eq!(t.definition_name, "definition up");
    assert_eq!(t.tenant, "acme");
    assert_eq!(t.timestamp_ms, T0 * 1000);
    assert_eq!(
        t.reason,
        "Thresholds were exceeded for the sub-alarms: last(up) < 1.0 with the values: [0.0]"
    );
    assert_eq!(t.metrics.len(), 1);
    assert_eq!(t.metrics[0].name, "up");
    assert_eq!(t.metrics[0].dimensions["hostname"], "web1");
    assert_eq!(t.sub_alarms.len(), 1);
    assert_eq!(t.sub_alarms[0].sub_alarm_state, "ALARM");
    assert_eq!(t.sub_alarms[0].current_values, vec![0.0]);
    // Written before it was published.
    let stored = env.repo.alarms().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, t.alarm_id);
    assert_eq!(stored[0].state, Alarm);
    assert_eq!(stored[0].group_key, "hostname=web1");

    env.sample("up", &[("hostname", "web1")], 6, 1.0).await;
    assert_eq!(env.changes(), vec![change("up", Alarm, Fine)]);
}

#[tokio::test]
async fn an_average_times_three_waits_for_three_periods() {
    let mut env = Env::start(&[("cpu", "avg(cpu) > 10 times 3", &[])]).await;
    env.sample("cpu", &[], 10, 20.0).await;
    env.tick_at(91);
    assert_eq!(env.changes(), vec![], "one period of three");
    env.sample("cpu", &[], 70, 20.0).await;
    env.tick_at(151);
    assert_eq!(env.changes(), vec![], "two periods of three");
    env.sample("cpu", &[], 130, 20.0).await;
    env.tick_at(209);
    assert_eq!(
        env.changes(),
        vec![],
        "the third period waits for late data"
    );
    env.tick_at(211);
    let t = env.transitions();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].old_state, t[0].new_state), (Undetermined, Alarm));
    assert_eq!(t[0].sub_alarms[0].current_values, vec![20.0, 20.0, 20.0]);
    assert_eq!(
        t[0].reason,
        "Thresholds were exceeded for the sub-alarms: avg(cpu) > 10.0 times 3 with the values: [20.0, 20.0, 20.0]"
    );
}

#[tokio::test]
async fn late_data_within_the_grace_counts() {
    let mut env = Env::start(&[("cpu", "avg(cpu) > 10", &[])]).await;
    env.sample("cpu", &[], 5, 5.0).await;
    // The period [T0, T0+60) has ended, but its late data is waited for 30 s.
    env.tick_at(61);
    assert_eq!(env.changes(), vec![]);
    env.clock.set((T0 + 70) * 1000);
    env.sample("cpu", &[], 50, 100.0).await;
    env.tick_at(91);
    let t = env.transitions();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].new_state, Alarm);
    assert_eq!(t[0].sub_alarms[0].current_values, vec![52.5]);
}

#[tokio::test]
async fn deterministic_goes_ok_without_data() {
    let mut env = Env::start(&[("errors", "count(log.error, deterministic) > 0", &[])]).await;
    env.sample("log.error", &[], 5, 1.0).await;
    // A new deterministic alarm starts OK.
    assert_eq!(env.changes(), vec![change("errors", Fine, Alarm)]);
    env.tick_at(91);
    assert_eq!(env.changes(), vec![], "the period with the error");
    env.tick_at(151);
    let t = env.transitions();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].old_state, t[0].new_state), (Alarm, Fine));
    assert_eq!(
        t[0].reason,
        "The alarm threshold(s) have not been exceeded for the sub-alarms: count(log.error, deterministic) > 0.0 with the values: []"
    );
}

#[tokio::test]
async fn no_data_for_two_windows_goes_undetermined() {
    let mut env = Env::start(&[("cpu", "avg(cpu) > 10", &[])]).await;
    env.sample("cpu", &[], 1, 20.0).await;
    env.tick_at(91);
    assert_eq!(env.changes(), vec![change("cpu", Undetermined, Alarm)]);
    env.tick_at(151);
    assert_eq!(env.changes(), vec![], "one empty window keeps the state");
    env.tick_at(211);
    let t = env.transitions();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].old_state, t[0].new_state), (Alarm, Undetermined));
    assert_eq!(
        t[0].reason,
        "No data was present for the sub-alarms: avg(cpu) > 10.0"
    );
    assert_eq!(env.stored_states()[0].2, Undetermined);
}

#[tokio::test]
async fn compound_and_or_combine_their_sub_alarms() {
    let mut env = Env::start(&[
        ("and", "last(cpu) > 90 and last(mem) > 90", &["hostname"]),
        ("or", "last(cpu) > 90 or last(mem) > 90", &["hostname"]),
    ])
    .await;
    env.sample("cpu", &[("hostname", "web1")], 1, 95.0).await;
    assert_eq!(
        env.changes(),
        vec![],
        "a compound alarm waits for a metric of every sub-expression"
    );
    assert_eq!(env.stored_states(), vec![]);
    env.sample("mem", &[("hostname", "web1")], 2, 50.0).await;
    let mut got = env.changes();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            change("and", Undetermined, Fine),
            change("or", Undetermined, Alarm)
        ]
    );
    env.sample("mem", &[("hostname", "web1")], 3, 95.0).await;
    assert_eq!(env.changes(), vec![change("and", Fine, Alarm)]);
    // Another host is another alarm of each definition.
    env.sample("cpu", &[("hostname", "web2")], 4, 10.0).await;
    env.sample("mem", &[("hostname", "web2")], 4, 10.0).await;
    let mut got = env.changes();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            change("and", Undetermined, Fine),
            change("or", Undetermined, Fine)
        ]
    );
    assert_eq!(
        env.stored_states(),
        vec![
            ("and".into(), "hostname=web1".into(), Alarm),
            ("and".into(), "hostname=web2".into(), Fine),
            ("or".into(), "hostname=web1".into(), Alarm),
            ("or".into(), "hostname=web2".into(), Fine),
        ]
    );
}

#[tokio::test]
async fn a_restart_keeps_states_and_refills_windows_from_the_store() {
    let mut env = Env::start(&[("cpu", "avg(cpu) > 10", &[])]).await;
    env.sample("cpu", &[], 1, 20.0).await;
    env.tick_at(91);
    assert_eq!(env.changes(), vec![change("cpu", Undetermined, Alarm)]);
    env.clock.set((T0 + 100) * 1000);
    env.sample("cpu", &[], 100, 1.0).await;
    let mut env = env.restart().await;
    // The value stored before the restart decides the period it falls in.
    env.tick_at(151);
    let t = env.transitions();
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!((t[0].old_state, t[0].new_state), (Alarm, Fine));
    assert_eq!(t[0].sub_alarms[0].current_values, vec![1.0]);
    assert_eq!(t[0].metrics.len(), 1);
}

#[tokio::test]
async fn a_deleted_definition_takes_its_alarms_and_routes_along() {
    let mut env = Env::start(&[("up", "last(up) < 1", &[])]).await;
    env.sample("up", &[], 1, 0.0).await;
    assert_eq!(env.changes(), vec![change("up", Undetermined, Alarm)]);
    assert!(env.repo.delete_definition("up").unwrap());
    env.engine.definition_changed("up");
    env.sample("up", &[], 2, 1.0).await;
    assert_eq!(env.changes(), vec![]);
    assert_eq!(env.stored_states(), vec![]);
}

#[tokio::test]
async fn a_deleted_alarms_windows_start_empty_for_the_next_alarm() {
    let mut env = Env::start(&[("cpu", "avg(cpu) > 10", &["hostname"])]).await;
    env.sample("cpu", &[("hostname", "web1")], 1, 20.0).await;
    env.tick_at(91);
    let t = env.transitions();
    assert_eq!(t.len(), 1, "{t:?}");
    env.engine.alarm_deleted(&t[0].alarm_id);
    // The next alarm takes the deleted one's window place: none of web1's 20 may remain in it
    // (with it the average would be 10.5, a breach).
    env.clock.set((T0 + 100) * 1000);
    env.sample("cpu", &[("hostname", "web2")], 100, 1.0).await;
    env.tick_at(211);
    let t = env.transitions();
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!((t[0].old_state, t[0].new_state), (Undetermined, Fine));
    assert_eq!(t[0].sub_alarms[0].current_values, vec![1.0]);
    // web1 again is a new alarm of its own, fed from now on.
    env.sample("cpu", &[("hostname", "web1")], 212, 30.0).await;
    env.sample("cpu", &[("hostname", "web2")], 212, 2.0).await;
    env.tick_at(331);
    let mut got: Vec<(AlarmState, Vec<f64>)> = env
        .transitions()
        .into_iter()
        .map(|t| (t.new_state, t.sub_alarms[0].current_values.clone()))
        .collect();
    got.sort_by(|a, b| a.1[0].total_cmp(&b.1[0]));
    assert_eq!(got, vec![(Alarm, vec![30.0])]);
}

#[tokio::test]
async fn a_state_set_by_the_api_holds_until_the_data_speaks_again() {
    let mut env = Env::start(&[("cpu", "avg(cpu) > 10", &[])]).await;
    env.sample("cpu", &[], 1, 20.0).await;
    env.tick_at(91);
    let id = env.transitions()[0].alarm_id.clone();
    env.engine.alarm_updated(&id, Fine, None, None);
    env.clock.set((T0 + 100) * 1000);
    env.sample("cpu", &[], 100, 30.0).await;
    env.tick_at(110);
    assert_eq!(env.changes(), vec![], "no period closed, no verdict");
    env.tick_at(151);
    assert_eq!(
        env.changes(),
        vec![change("cpu", Fine, Alarm)],
        "the next verdict applies although the sub-alarm stayed in ALARM"
    );
}

#[tokio::test]
async fn a_transition_queues_its_notifications_in_the_same_write() {
    use config_repo::{
        monasca::{NotificationMethod, NotificationMethodRepo},
        outbox::Outbox,
        sqlite::monasca::SqliteMonasca,
    };
    use monasca::types::NotificationType;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alarms.db");
    let sqlite = SqliteMonasca::open(&path).unwrap();
    let method = |id: &str, kind| NotificationMethod {
        id: id.into(),
        tenant: "acme".into(),
        name: format!("method {id}"),
        kind,
        address: "http://127.0.0.1:9/hook".into(),
        period: 60,
    };
    sqlite
        .create(method("m-alarm", NotificationType::Webhook))
        .await
        .unwrap();
    sqlite
        .create(method("m-ok", NotificationType::Slack))
        .await
        .unwrap();
    let repo = Arc::new(SqliteThresholdStore::new(sqlite.db().clone()));
    let mut d = definition("up", "last(up) < 1", &["hostname"]);
    d.alarm_actions = vec!["m-alarm".into()];
    d.ok_actions = vec!["m-ok".into()];
    repo.insert_definition(&d, T0 * 1000).unwrap();
    let mut quiet = definition("quiet", "last(up) < 1", &["hostname"]);
    quiet.actions_enabled = false;
    quiet.alarm_actions = vec!["m-alarm".into()];
    repo.insert_definition(&quiet, T0 * 1000).unwrap();
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(T0 * 1000));
    let (engine, _events) = load(&repo, &store, &clock).await;
    let sample = |v: f64, secs: i64| Sample {
        series: Arc::new(SeriesKey {
            tenant: "acme".into(),
            name: "up".into(),
            dimensions: [("hostname".to_string(), "web1".to_string())].into(),
        }),
        timestamp: (T0 + secs) * 1000,
        value: v,
        value_meta: None,
    };
    engine.observe(&[sample(0.0, 5)]);
    engine.observe(&[sample(1.0, 6)]);
    let outbox = sqlite.outbox();
    let queued = outbox.claim(i64::MAX / 2, 1000, 10).await.unwrap();
    let got: Vec<_> = queued
        .iter()
        .map(|q| {
            let e = &q.new.event;
            assert_eq!(e["tenantId"], "acme");
            assert_eq!(e["alarmDefinitionId"], "up");
            assert_eq!(e["alarmName"], "definition up");
            assert_eq!(e["metrics"][0]["dimensions"]["hostname"], "web1");
            (
                q.new.receiver.id.as_str(),
                q.new.receiver.kind.as_str(),
                q.new.receiver.period_s,
                e["oldState"].as_str().unwrap(),
                e["newState"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("m-alarm", "WEBHOOK", 60, "UNDETERMINED", "ALARM"),
            ("m-ok", "SLACK", 60, "ALARM", "OK"),
        ],
        "the definition with actions disabled queues nothing"
    );
}

/// With evaluation shared among nodes: a node evaluates only what it took over; taking over
/// refills the windows from the store, without counting twice a sample that reached the node
/// meanwhile; giving up forgets the definition.
#[tokio::test]
async fn a_definition_taken_over_is_refilled_once_and_given_up_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Arc::new(SqliteThresholdStore::open(&dir.path().join("alarms.db")).unwrap());
    repo.insert_definition(&definition("d", "count(cpu) > 2", &["hostname"]), T0 * 1000)
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new((T0 + 10) * 1000));
    let engine = Engine::shared(repo.clone(), clock.clone(), EngineConfig::default());
    let mut events = engine.subscribe();
    let key = Arc::new(SeriesKey {
        tenant: "acme".into(),
        name: "cpu".into(),
        dimensions: BTreeMap::from([("hostname".to_string(), "h1".to_string())]),
    });
    let at = |secs: i64| Sample {
        series: key.clone(),
        timestamp: (T0 + secs) * 1000,
        value: 1.0,
        value_meta: None,
    };
    // Stored while another node held the definition: this one ignores it.
    store.write(vec![at(1), at(2)]).await.unwrap();
    engine.observe(&[at(2)]);
    assert!(repo.alarms().unwrap().is_empty());
    assert_eq!(engine.owned(), Some(Vec::new()));

    engine.take_over("d").unwrap();
    assert_eq!(engine.owned(), Some(vec!["d".to_string()]));
    // Sent here by the node that stored it, after the take-over: noted, counted once.
    engine.observe(&[at(2)]);
    engine.refill(store.as_ref(), "d").await.unwrap();
    assert!(
        events.try_recv().is_err(),
        "two samples counted as three: count(cpu) > 2 went off"
    );
    assert_eq!(
        repo.alarms().unwrap().len(),
        1,
        "the refill found the alarm's group"
    );
    // A third sample is one too many.
    store.write(vec![at(3)]).await.unwrap();
    engine.observe(&[at(3)]);
    let t = events.try_recv().unwrap();
    assert_eq!((t.old_state, t.new_state), (Undetermined, Alarm));

    engine.give_up("d");
    assert_eq!(engine.owned(), Some(Vec::new()));
    assert_eq!(engine.stats().definitions, 0);
    engine.observe(&[at(4)]);
    engine.definition_changed("d");
    assert_eq!(
        engine.stats().definitions,
        0,
        "a definition held elsewhere stays out"
    );
}

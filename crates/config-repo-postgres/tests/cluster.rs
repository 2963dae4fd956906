//! Alarm evaluation leases shared by nodes: fair shares, take-over of a dead node's share,
//! no take-over under a write batch in flight, the change log, claims of new definitions.

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use config_repo::monasca::{
    AlarmDefinition,
    cluster::{Change, EvaluationLeases, NodeInfo},
    threshold::{AlarmState, NewAlarm, ThresholdStore},
};
use config_repo_postgres::{cluster::PgEvaluationLeases, monasca::PgMonasca};

use config_repo_postgres::testing as pg;

fn node(id: &str) -> NodeInfo {
    NodeInfo {
        id: id.into(),
        url: format!("http://{id}:8070"),
    }
}

fn definition(id: &str) -> AlarmDefinition {
    let mut d = AlarmDefinition::new(id.into(), "tenant".into());
    d.name = format!("def {id}");
    d.expression = "avg(cpu) > 1".into();
    d
}

const LEASE_S: f64 = 1.0;

/// An alarm of definition `d0`.
const ALARM_1: NewAlarm<'static> = NewAlarm {
    id: "alarm-1",
    definition_id: "d0",
    tenant: "tenant",
    group_key: "",
    state: AlarmState::Undetermined,
    created_ms: 0,
    sub_alarm_states: &[AlarmState::Undetermined],
};

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn definitions_are_shared_fairly_and_a_dead_nodes_share_moves() {
    let url = pg::fresh_database();
    let db = pg::open(&url).await;
    let monasca = PgMonasca::new(db.clone());
    let store = monasca.threshold_store();
    let leases = PgEvaluationLeases::new(db.clone());
    let (a, b) = (node("a"), node("b"));
    tokio::task::spawn_blocking(move || {
        for i in 0..4 {
            store
                .insert_definition(&definition(&format!("d{i}")), 0)
                .unwrap();
        }
        // Alone, a node takes everything.
        let r = leases.round(&a, LEASE_S).unwrap();
        assert_eq!(r.held, ["d0", "d1", "d2", "d3"]);
        assert_eq!(r.live_nodes, 1);
        // A second node: its first round finds nothing free; then the first gives back what
        // exceeds its share and the second claims it.
        let r = leases.round(&b, LEASE_S).unwrap();
        assert!(r.held.is_empty());
        assert_eq!(r.others.len(), 4);
        assert!(r.others.iter().all(|(_, url)| url == "http://a:8070"));
        let r = leases.round(&a, LEASE_S).unwrap();
        assert_eq!(r.held.len(), 2);
        let rb = leases.round(&b, LEASE_S).unwrap();
        assert_eq!(rb.held.len(), 2);
        assert!(
            rb.held.iter().all(|d| !r.held.contains(d)),
            "no definition held twice"
        );
        assert_eq!(rb.live_nodes, 2);
        // `b` dies: once its leases and heartbeat lapse, `a` takes its share back.
        std::thread::sleep(Duration::from_millis(1_300));
        let r = leases.round(&a, LEASE_S).unwrap();
        assert_eq!(r.live_nodes, 1);
        assert_eq!(r.held.len(), 4);
        // `b` comes back (as a new process would, or late): it renews nothing it lost.
        let rb = leases.round(&b, LEASE_S).unwrap();
        assert!(rb.held.is_empty());
        // A clean shutdown gives everything back at once.
        leases.leave("a").unwrap();
        let rb = leases.round(&b, LEASE_S).unwrap();
        assert_eq!(rb.held.len(), 4);
    })
    .await
    .unwrap();
}

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn a_write_batch_holds_its_leases_and_writes_only_under_them() {
    let db = pg::fresh_db().await;
    let monasca = PgMonasca::new(db.clone());
    let plain = monasca.threshold_store();
    let leases = Arc::new(PgEvaluationLeases::new(db.clone()));
    let store_a = Arc::new(monasca.threshold_store().leased_to("a"));
    let l = leases.clone();
    tokio::task::spawn_blocking(move || {
        for id in ["d0", "d1"] {
            plain.insert_definition(&definition(id), 0).unwrap();
        }
        let r = l.round(&node("a"), LEASE_S).unwrap();
        assert_eq!(r.held, ["d0", "d1"]);
        // Give d1 to `b` by hand: `a`'s batches may then write d0's alarms only.
        l.leave("a").unwrap();
        // `a` left membership (no heartbeat row): no node counts as live.
        assert_eq!(l.claim(&node("a"), "d0", LEASE_S).unwrap(), Some(0));
        assert!(l.claim(&node("b"), "d1", 60.0).unwrap().is_some());
        assert_eq!(
            l.claim(&node("a"), "d1", LEASE_S).unwrap(),
            None,
            "held by a live lease"
        );
        store_a
            .write_batch(&mut |w| {
                assert!(w.holds("d0"));
                assert!(!w.holds("d1"));
            })
            .unwrap();
        // A batch in flight keeps its lease rows: a node claiming the lapsed lease skips
        // them until the batch commits.
        let started = Arc::new(Barrier::new(2));
        let s = started.clone();
        let store = store_a.clone();
        let batch = std::thread::spawn(move || {
            store
                .write_batch(&mut |w| {
                    assert!(w.holds("d0"));
                    w.create_alarm(&ALARM_1).unwrap();
                    s.wait();
                    std::thread::sleep(Duration::from_millis(2_000));
                })
                .unwrap();
        });
        started.wait();
        std::thread::sleep(Duration::from_millis(1_200));
        let r = l.round(&node("c"), LEASE_S).unwrap();
        assert!(
            !r.held.contains(&"d0".to_string()),
            "claimed under a batch in flight: {:?}",
            r.held
        );
        batch.join().unwrap();
        let r = l.round(&node("c"), LEASE_S).unwrap();
        assert!(r.held.contains(&"d0".to_string()), "{:?}", r.held);
        // The new holder finds the old holder's last write.
        assert_eq!(plain.alarms_of("d0").unwrap().len(), 1);
        assert_eq!(
            plain.alarm("alarm-1").unwrap().map(|a| a.definition_id),
            Some("d0".into())
        );
        assert!(plain.alarms_of("d1").unwrap().is_empty());
        // `a` lost it: its next batch may not write it.
        store_a
            .write_batch(&mut |w| assert!(!w.holds("d0")))
            .unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
#[ignore = "starts PostgreSQL (run by .ci/run)"]
async fn the_apis_changes_are_logged_and_the_engines_own_writes_are_not() {
    let url = pg::fresh_database();
    let db = pg::open(&url).await;
    let monasca = PgMonasca::new(db.clone());
    let store = monasca.threshold_store();
    let leases = PgEvaluationLeases::new(db.clone());
    tokio::task::spawn_blocking(move || {
        store.insert_definition(&definition("d0"), 0).unwrap();
        store
            .write_batch(&mut |w| {
                w.create_alarm(&ALARM_1).unwrap();
                w.set_alarm_state("alarm-1", AlarmState::Alarm, 1).unwrap();
            })
            .unwrap();
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.execute("UPDATE alarm SET link = 'x' WHERE id = 'alarm-1'", &[])
            .unwrap();
        let r = leases.round(&node("a"), LEASE_S).unwrap();
        let changes: Vec<Change> = r.changes.into_iter().map(|(_, c)| c).collect();
        assert_eq!(
            changes,
            [
                Change::Definition("d0".into()),
                Change::Alarm("alarm-1".into())
            ]
        );
        assert_eq!(r.held, ["d0"], "a new definition gets its lease row");
        // Deleting the definition logs it (and its alarms, deleted with it).
        assert!(store.delete_definition("d0").unwrap());
        let r = leases.round(&node("a"), LEASE_S).unwrap();
        assert!(r.held.is_empty());
        assert!(
            r.changes
                .iter()
                .any(|(_, c)| *c == Change::Definition("d0".into()))
        );
        assert_eq!(leases.cluster_key().unwrap(), leases.cluster_key().unwrap());
        assert!(leases.cluster_key().unwrap().len() >= 32);
    })
    .await
    .unwrap();
}

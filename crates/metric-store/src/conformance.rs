//! The conformance suite every [`MetricStore`] backend must pass.
//!
//! Backends call [`check_queries`] on a fresh, empty store and, if durable, [`check_reopen`].
//! Failures panic with a description, as test assertions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, future::Future, sync::Arc};

use crate::{DimMatch, MetricStore, Sample, SeriesFilter, SeriesId, SeriesKey, Stat, TimeRange};

fn key(tenant: &str, name: &str, dims: &[(&str, &str)]) -> SeriesKey {
    SeriesKey {
        tenant: tenant.into(),
        name: name.into(),
        dimensions: dims
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn sample(k: &SeriesKey, ts: i64, v: f64) -> Sample {
    Sample {
        series: Arc::new(k.clone()),
        timestamp: ts,
        value: v,
        value_meta: None,
    }
}

/// A small fleet: two tenants, two names, three hosts, 10 points each, 60 s apart.
pub fn fleet() -> Vec<Sample> {
    let mut out = Vec::new();
    for tenant in ["t1", "t2"] {
        for name in ["cpu.idle_perc", "mem.free_mb"] {
            for (i, host) in ["h1", "h2", "h3"].iter().enumerate() {
                let svc = if i == 2 { "storage" } else { "compute" };
                let k = key(tenant, name, &[("hostname", host), ("service", svc)]);
                for p in 0..10 {
                    out.push(sample(
                        &k,
                        1_000_000 + p * 60_000,
                        (p as f64) + i as f64 * 100.0,
                    ));
                }
            }
        }
    }
    out
}

/// Queries over [`fleet`] plus edge cases: filters, ranges, merging, statistics, names,
/// overwrite of a timestamp and tenant isolation.
pub async fn check_queries<S: MetricStore>(store: &S) {
    let empty = store.series_generation();
    store.write(fleet()).await.unwrap();
    store.write(Vec::new()).await.unwrap();
    // The generation moves with new series only, not with points of known ones.
    let generation = store.series_generation();
    if empty.is_some() {
        assert_ne!(generation, empty, "series generation after new series");
        let again: Vec<Sample> = fleet().into_iter().take(3).collect();
        store.write(again).await.unwrap();
        assert_eq!(store.series_generation(), generation, "after known series");
    }

    // Tenancy: each tenant sees its own 6 series only.
    let all = store
        .find_series(&SeriesFilter::tenant("t1"), TimeRange::ALL)
        .await
        .unwrap();
    assert_eq!(all.len(), 6, "series of t1");
    assert!(all.iter().all(|s| s.key.tenant == "t1"));
    assert!(
        store
            .find_series(&SeriesFilter::tenant("nobody"), TimeRange::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    // Order: by name, then dimensions.
    let names: Vec<_> = all.iter().map(|s| s.key.name.as_str()).collect();
    assert_eq!(names[..3], ["cpu.idle_perc"; 3]);
    assert_eq!(all[0].key.dimensions["hostname"], "h1");
    assert_eq!(all[2].key.dimensions["hostname"], "h3");

    // Filters.
    let f = SeriesFilter::tenant("t1")
        .name("cpu.idle_perc")
        .dimension("hostname", DimMatch::AnyOf(vec!["h1".into(), "h3".into()]));
    let s = store.find_series(&f, TimeRange::ALL).await.unwrap();
    assert_eq!(s.len(), 2);
    let f =
        SeriesFilter::tenant("t1").dimension("service", DimMatch::AnyOf(vec!["storage".into()]));
    assert_eq!(
        store.find_series(&f, TimeRange::ALL).await.unwrap().len(),
        2
    );
    let f = SeriesFilter::tenant("t1").dimension("service", DimMatch::Exists);
    assert_eq!(
        store.find_series(&f, TimeRange::ALL).await.unwrap().len(),
        6
    );
    let f = SeriesFilter::tenant("t1").dimension("nope", DimMatch::Exists);
    assert!(
        store
            .find_series(&f, TimeRange::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    let f = SeriesFilter::tenant("t1").name("no.such.metric");
    assert!(
        store
            .find_series(&f, TimeRange::ALL)
            .await
            .unwrap()
            .is_empty()
    );

    // A time range only lists series with points inside it.
    let late = store
        .write(vec![sample(&key("t1", "late", &[]), 9_000_000, 1.0)])
        .await;
    late.unwrap();
    let r = TimeRange::new(Some(5_000_000), None);
    let s = store
        .find_series(&SeriesFilter::tenant("t1"), r)
        .await
        .unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].key.name, "late");

    // Points: inclusive range, paging with `after`, limit, merge ordered by time.
    let cpu_h1 = store
        .find_series(
            &SeriesFilter::tenant("t1")
                .name("cpu.idle_perc")
                .dimension("hostname", DimMatch::AnyOf(vec!["h1".into()])),
            TimeRange::ALL,
        )
        .await
        .unwrap();
    let id = cpu_h1[0].id;
    let r = TimeRange::new(Some(1_060_000), Some(1_240_000));
    let p = store.read_points(&[id], r, None, 100).await.unwrap();
    assert_eq!(
        p.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
        [1_060_000, 1_120_000, 1_180_000]
    );
    let p = store
        .read_points(&[id], TimeRange::ALL, Some(1_480_000), 100)
        .await
        .unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].timestamp, 1_540_000);
    let p = store
        .read_points(&[id], TimeRange::ALL, None, 4)
        .await
        .unwrap();
    assert_eq!(p.len(), 4);
    let ids: Vec<_> = all[..3].iter().map(|s| s.id).collect();
    let p = store
        .read_points(&ids, TimeRange::ALL, None, 1000)
        .await
        .unwrap();
    assert_eq!(p.len(), 30);
    assert!(p.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));

    // Overwrite: same series and timestamp replaces the value, never duplicates it.
    let k = key(
        "t1",
        "cpu.idle_perc",
        &[("hostname", "h1"), ("service", "compute")],
    );
    let mut s = sample(&k, 1_000_000, 42.0);
    s.value_meta = Some(Arc::from(r#"{"note":"replaced"}"#));
    store.write(vec![s]).await.unwrap();
    let p = store
        .read_points(&[id], TimeRange::ALL, None, 100)
        .await
        .unwrap();
    assert_eq!(p.len(), 10);
    assert_eq!(p[0].value, 42.0);
    assert_eq!(p[0].value_meta.as_deref(), Some(r#"{"note":"replaced"}"#));
    // Out-of-order insert lands in order.
    store.write(vec![sample(&k, 1_030_000, 7.0)]).await.unwrap();
    let p = store
        .read_points(&[id], TimeRange::ALL, None, 100)
        .await
        .unwrap();
    assert_eq!(p.len(), 11);
    assert_eq!(p[1].timestamp, 1_030_000);

    // Statistics: buckets aligned to epoch multiples of the period, empty ones omitted.
    let r = TimeRange::new(Some(1_000_000), Some(1_600_000));
    let stats = [Stat::Avg, Stat::Min, Stat::Max, Stat::Sum, Stat::Count];
    let b = store.aggregate(&[id], r, 300_000, &stats).await.unwrap();
    // Points at 1_000_000 + k*60_000 (k = 0..9, the first now 42.0) plus 1_030_000 (7.0).
    assert_eq!(
        b.iter().map(|b| b.start).collect::<Vec<_>>(),
        [900_000, 1_200_000, 1_500_000]
    );
    assert_eq!(b[0].values, vec![11.0, 1.0, 42.0, 55.0, 5.0]);
    assert_eq!(b[1].values, vec![6.0, 4.0, 8.0, 30.0, 5.0]);
    assert_eq!(b[2].values, vec![9.0, 9.0, 9.0, 9.0, 1.0]);
    let ids: Vec<_> = all[1..3].iter().map(|s| s.id).collect();
    let b = store
        .aggregate(&ids, r, 600_000, &[Stat::Count, Stat::Max])
        .await
        .unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].values, vec![8.0, 203.0]);
    assert_eq!(b[1].values, vec![12.0, 209.0]);
    // Several groups at once (one series in two of them, one group empty): each as alone.
    let groups: [&[SeriesId]; 4] = [&ids, &[id], &[], &[ids[1], id]];
    let each = store
        .aggregate_each(&groups, r, 300_000, &stats)
        .await
        .unwrap();
    assert_eq!(each.len(), groups.len());
    for (g, got) in groups.iter().zip(&each) {
        assert_eq!(*got, store.aggregate(g, r, 300_000, &stats).await.unwrap());
    }
    assert!(each[2].is_empty() && !each[3].is_empty());
    // The end of a range is exclusive.
    let r2 = TimeRange::new(Some(1_000_000), Some(1_060_000));
    let b = store
        .aggregate(&[id], r2, 60_000, &[Stat::Count])
        .await
        .unwrap();
    assert_eq!(b.iter().map(|b| b.values[0]).sum::<f64>(), 2.0); // 1_000_000 and 1_030_000

    // Names and dimensions.
    assert_eq!(
        store
            .metric_names(&SeriesFilter::tenant("t1"))
            .await
            .unwrap(),
        ["cpu.idle_perc", "late", "mem.free_mb"]
    );
    let f = SeriesFilter::tenant("t1").dimension("service", DimMatch::Exists);
    assert_eq!(
        store.metric_names(&f).await.unwrap(),
        ["cpu.idle_perc", "mem.free_mb"]
    );
    assert_eq!(
        store
            .dimension_names("t1", None, TimeRange::ALL)
            .await
            .unwrap(),
        ["hostname", "service"]
    );
    assert!(
        store
            .dimension_names("t1", Some("late"), TimeRange::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .dimension_values("t1", None, "hostname", TimeRange::ALL)
            .await
            .unwrap(),
        ["h1", "h2", "h3"]
    );
    assert_eq!(
        store
            .dimension_values("t1", Some("mem.free_mb"), "service", TimeRange::ALL)
            .await
            .unwrap(),
        ["compute", "storage"]
    );
    assert!(
        store
            .dimension_values("t2", Some("late"), "hostname", TimeRange::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .dimension_values("t3", None, "hostname", TimeRange::ALL)
            .await
            .unwrap()
            .is_empty()
    );
    // With a time range only series holding points in it count: `late` has no dimensions and
    // nothing else has points after 5_000_000.
    let after = TimeRange::new(Some(5_000_000), None);
    assert!(
        store
            .dimension_names("t1", None, after)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .dimension_values("t1", None, "hostname", after)
            .await
            .unwrap()
            .is_empty()
    );
    let early = TimeRange::new(Some(0), Some(1_000_001));
    assert_eq!(
        store
            .dimension_names("t1", Some("cpu.idle_perc"), early)
            .await
            .unwrap(),
        ["hostname", "service"]
    );
    assert_eq!(
        store
            .dimension_values("t1", Some("cpu.idle_perc"), "hostname", early)
            .await
            .unwrap(),
        ["h1", "h2", "h3"]
    );

    // Grouping by one dimension, where the store offers it, is what grouping the found series
    // by that dimension gives.
    for (name, key) in [
        (Some("cpu.idle_perc"), "service"),
        (Some("cpu.idle_perc"), "hostname"),
        (None, "service"),
        (Some("late"), "hostname"),
        (Some("cpu.idle_perc"), "zone"),
        (Some("nothing"), "hostname"),
    ] {
        let mut filter = SeriesFilter::tenant("t1");
        filter.name = name.map(str::to_string);
        let Some(groups) = store.group_by_dimension(&filter, key).await.unwrap() else {
            break;
        };
        let mut expected: BTreeMap<Option<String>, Vec<SeriesId>> = BTreeMap::new();
        for s in store.find_series(&filter, TimeRange::ALL).await.unwrap() {
            let value = s.key.dimensions.get(key).cloned();
            expected.entry(value).or_default().push(s.id);
        }
        expected.values_mut().for_each(|ids| ids.sort_unstable());
        let got: Vec<(Option<String>, Vec<SeriesId>)> = groups
            .iter()
            .map(|(value, series)| (value.map(|v| v.to_string()), series.to_vec()))
            .collect();
        assert_eq!(
            got,
            expected.into_iter().collect::<Vec<_>>(),
            "{name:?} by {key}"
        );
    }

    // A value counts when any of its series has a point in the range, the first or a later
    // one, and a series whose points surround the range without one inside does not count.
    let early_a = key("t4", "m", &[("host", "a"), ("i", "1")]);
    let late_a = key("t4", "m", &[("host", "a"), ("i", "2")]);
    let gap_b = key("t4", "m", &[("host", "b")]);
    store
        .write(vec![
            sample(&early_a, 1_000, 1.0),
            sample(&late_a, 9_000, 1.0),
            sample(&gap_b, 1_000, 1.0),
            sample(&gap_b, 9_000, 1.0),
        ])
        .await
        .unwrap();
    let values = |start, end| {
        store.dimension_values("t4", None, "host", TimeRange::new(Some(start), Some(end)))
    };
    assert!(values(4_000, 6_000).await.unwrap().is_empty());
    assert_eq!(values(8_000, 10_000).await.unwrap(), ["a", "b"]);
    assert_eq!(values(500, 1_500).await.unwrap(), ["a", "b"]);
    assert_eq!(values(1_001, 9_000).await.unwrap(), Vec::<String>::new());
}

/// Writes, closes, reopens, and checks everything acknowledged is there exactly once.
pub async fn check_reopen<S, F, Fut>(open: F)
where
    S: MetricStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    let store = open().await;
    let data = fleet();
    for chunk in data.chunks(7) {
        store.write(chunk.to_vec()).await.unwrap();
    }
    let k = key("t1", "meta", &[("a", "b")]);
    let mut s = sample(&k, 5, 1.0);
    s.value_meta = Some(Arc::from(r#"{"k":"v"}"#));
    store.write(vec![s.clone()]).await.unwrap();
    store.close().await.unwrap();
    assert!(
        store.write(vec![s.clone()]).await.is_err(),
        "write after close"
    );
    drop(store);

    for round in 0..2 {
        let store = open().await;
        let series = store
            .find_series(&SeriesFilter::tenant("t1"), TimeRange::ALL)
            .await
            .unwrap();
        assert_eq!(series.len(), 7, "round {round}");
        let ids: Vec<_> = series.iter().map(|s| s.id).collect();
        let points = store
            .read_points(&ids, TimeRange::ALL, None, 10_000)
            .await
            .unwrap();
        assert_eq!(points.len(), 61, "round {round}");
        let m = series.iter().find(|x| x.key.name == "meta").unwrap();
        let p = store
            .read_points(&[m.id], TimeRange::ALL, None, 10)
            .await
            .unwrap();
        assert_eq!(p[0].value_meta.as_deref(), Some(r#"{"k":"v"}"#));
        // Writing the same data again must not duplicate anything.
        store.write(data.clone()).await.unwrap();
        store.close().await.unwrap();
    }
}

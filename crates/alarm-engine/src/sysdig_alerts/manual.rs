//! MANUAL alerts on the store's aggregates: the series of each metric of the condition, kept
//! by the `filter` and grouped by segment, are aggregated over the alert's `timespan` up to
//! now. `g(t(metric))` applies `t` to each series' points and `g` across the segment's series;
//! a single aggregation `a(metric)` applies to every point of the segment at once.

use std::collections::{BTreeMap, BTreeSet};

use metric_store::{MetricStore, SeriesFilter, SeriesId, StoreError, TimeRange};
use serde_json::{Value, json};
use sysdig::condition::MetricValue;

use super::{
    condition::{ManualAlert, group, stat},
    record::{Observation, Round, Unseen},
    segments,
};

/// Segment → its series, of one metric.
type Segments = BTreeMap<String, Vec<SeriesId>>;

/// Evaluates `alert` on `tenant`'s metrics at `now_ms`.
///
/// # Errors
/// The store fails.
pub(super) async fn evaluate(
    store: &dyn MetricStore,
    tenant: &str,
    alert: &ManualAlert,
    now_ms: i64,
) -> Result<Round, StoreError> {
    let range = TimeRange {
        start: now_ms.saturating_sub(alert.window_ms),
        end: now_ms.saturating_add(1),
    };
    let comparisons = alert.condition.comparisons();
    let mut wanted: Vec<&MetricValue> = Vec::new();
    for c in &comparisons {
        if !wanted.contains(&&c.value) {
            wanted.push(&c.value);
        }
    }
    // Each metric's series, by segment.
    let mut by_metric: BTreeMap<&str, Segments> = BTreeMap::new();
    for v in &wanted {
        if by_metric.contains_key(v.metric.as_str()) {
            continue;
        }
        let mut filter = SeriesFilter::tenant(tenant);
        filter.name = Some(v.metric.clone());
        let mut groups = Segments::new();
        for s in store.find_series(&filter, range).await? {
            let dims = &s.key.dimensions;
            if !segments::in_scope(dims, &alert.filter) {
                continue;
            }
            if let Some(segment) = segments::segment_of(dims, &alert.segment_by) {
                groups.entry(segment).or_default().push(s.id);
            }
        }
        by_metric.insert(v.metric.as_str(), groups);
    }
    // Each wanted value, by segment.
    let mut values: Vec<BTreeMap<String, f64>> = Vec::with_capacity(wanted.len());
    for v in &wanted {
        let mut of_segment = BTreeMap::new();
        for (segment, ids) in by_metric.get(v.metric.as_str()).into_iter().flatten() {
            if let Some(x) = value(store, v, ids, range).await? {
                of_segment.insert(segment.clone(), x);
            }
        }
        values.push(of_segment);
    }
    let all_segments: BTreeSet<&String> = values.iter().flat_map(|m| m.keys()).collect();
    let mut judged = Vec::new();
    for segment in all_segments {
        let value_of = |mv: &MetricValue| {
            let i = wanted.iter().position(|w| *w == mv)?;
            values.get(i)?.get(segment).copied()
        };
        let Some(firing) = alert.condition.holds(&value_of) else {
            continue;
        };
        let metric_values: Vec<Value> = wanted
            .iter()
            .filter_map(|mv| {
                let x = value_of(mv)?;
                let mut m =
                    json!({"metric": mv.metric, "aggregation": mv.time.as_str(), "value": x});
                if let (Some(g), Some(o)) = (mv.group, m.as_object_mut()) {
                    o.insert("groupAggregation".into(), g.as_str().into());
                }
                Some(m)
            })
            .collect();
        let entity = if segment.is_empty() {
            json!({"metricValues": metric_values})
        } else {
            json!({"entity": segment, "metricValues": metric_values})
        };
        judged.push((segment.clone(), firing, entity));
    }
    let observations = if alert.all_segments && !alert.segment_by.is_empty() {
        // One state for the alert: firing when every segment with data meets the condition.
        if judged.is_empty() {
            Vec::new()
        } else {
            vec![Observation {
                segment: String::new(),
                firing: judged.iter().all(|(_, firing, _)| *firing),
                entities: Value::Array(judged.into_iter().map(|(_, _, e)| e).collect()),
            }]
        }
    } else {
        judged
            .into_iter()
            .map(|(segment, firing, entity)| Observation {
                segment,
                firing,
                entities: json!([entity]),
            })
            .collect()
    };
    let labels = if alert.all_segments {
        Vec::new()
    } else {
        alert.segment_by.clone()
    };
    Ok(Round {
        observations,
        unseen: Unseen::Keep { labels },
        hold_ms: 0,
    })
}

/// `v` over the series `ids` of one segment in `range`; `None` without points.
async fn value(
    store: &dyn MetricStore,
    v: &MetricValue,
    ids: &[SeriesId],
    range: TimeRange,
) -> Result<Option<f64>, StoreError> {
    // A period ending at the range's end puts every point in one bucket (the first).
    let one = |buckets: Vec<metric_store::Bucket>| {
        buckets
            .first()
            .and_then(|b| b.values.first().copied())
            .filter(|x| !x.is_nan())
    };
    let time = stat(v.time);
    let Some(g) = v.group else {
        return Ok(one(store.aggregate(ids, range, range.end, &[time]).await?));
    };
    let mut per_series = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(x) = one(store
            .aggregate(std::slice::from_ref(id), range, range.end, &[time])
            .await?)
        {
            per_series.push(x);
        }
    }
    Ok(group(g, &per_series))
}

//! Selectors pushed down to the store: which series a selector names (equality matchers
//! become a [`SeriesFilter`], the rest are checked here on the few series found) and which
//! time range each selector needs over the whole query, read once per series.

use std::{collections::HashMap, sync::Arc};

use metric_store::{DimMatch, MetricStore, SeriesFilter, SeriesInfo, SeriesKey, TimeRange};
use promql_parser::{
    label::{MatchOp, Matcher},
    parser::{AtModifier, Expr, Offset, VectorSelector},
};

use crate::{
    error::{QueryError, too_many_samples},
    names,
    value::{Labels, METRIC_NAME},
};

/// The points of one series in the range its selector needs.
#[derive(Debug)]
pub(crate) struct LoadedSeries {
    pub labels: Arc<Labels>,
    /// `labels` without `__name__`, built once rather than at every step.
    pub unnamed: Arc<Labels>,
    /// `(epoch ms, value)` in time order.
    pub points: Vec<(i64, f64)>,
}

/// Selectors are keyed by their node's address: the tree outlives the evaluation.
pub(crate) type SelectorKey = usize;

pub(crate) fn key_of(vs: &VectorSelector) -> SelectorKey {
    std::ptr::from_ref(vs) as usize
}

/// What times a query evaluates at, to resolve `@ start()`/`@ end()` and the windows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub start: i64,
    pub end: i64,
    pub lookback_ms: i64,
    pub subquery_step_ms: i64,
}

impl Span {
    /// The time a node with these modifiers reads at, when evaluated at `t`.
    pub fn at_offset(&self, at: Option<&AtModifier>, offset: Option<&Offset>, t: i64) -> i64 {
        let base = match at {
            None => t,
            Some(AtModifier::Start) => self.start,
            Some(AtModifier::End) => self.end,
            Some(AtModifier::At(time)) => system_time_ms(*time),
        };
        match offset {
            None => base,
            Some(Offset::Pos(d)) => base.saturating_sub(duration_ms(*d)),
            Some(Offset::Neg(d)) => base.saturating_add(duration_ms(*d)),
        }
    }
}

pub(crate) fn duration_ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn system_time_ms(t: std::time::SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => duration_ms(d),
        Err(e) => -duration_ms(e.duration()),
    }
}

/// Every selector of `expr` with the time range `(from, to]` it reads when `expr` is
/// evaluated at every time in `[lo, hi]`.
pub(crate) fn plan<'e>(
    expr: &'e Expr,
    lo: i64,
    hi: i64,
    span: &Span,
    out: &mut Vec<(&'e VectorSelector, i64, i64)>,
) {
    let shift = |at, offset, lo, hi| {
        (
            span.at_offset(at, offset, lo),
            span.at_offset(at, offset, hi),
        )
    };
    match expr {
        Expr::VectorSelector(vs) => {
            let (l, h) = shift(vs.at.as_ref(), vs.offset.as_ref(), lo, hi);
            out.push((vs, l.saturating_sub(span.lookback_ms), h));
        }
        Expr::MatrixSelector(ms) => {
            let (l, h) = shift(ms.vs.at.as_ref(), ms.vs.offset.as_ref(), lo, hi);
            out.push((&ms.vs, l.saturating_sub(duration_ms(ms.range)), h));
        }
        Expr::Subquery(sq) => {
            let (l, h) = shift(sq.at.as_ref(), sq.offset.as_ref(), lo, hi);
            plan(
                &sq.expr,
                l.saturating_sub(duration_ms(sq.range)),
                h,
                span,
                out,
            );
        }
        Expr::Aggregate(a) => {
            plan(&a.expr, lo, hi, span, out);
            if let Some(p) = &a.param {
                plan(p, lo, hi, span, out);
            }
        }
        Expr::Unary(u) => plan(&u.expr, lo, hi, span, out),
        Expr::Binary(b) => {
            plan(&b.lhs, lo, hi, span, out);
            plan(&b.rhs, lo, hi, span, out);
        }
        Expr::Paren(p) => plan(&p.expr, lo, hi, span, out),
        Expr::Call(c) => c.args.args.iter().for_each(|a| plan(a, lo, hi, span, out)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The Prometheus labels of a stored series.
pub(crate) fn labels_of(key: &SeriesKey) -> Labels {
    let mut labels = Labels::new();
    labels.insert(METRIC_NAME.into(), names::metric_to_prom(&key.name));
    for (k, v) in &key.dimensions {
        // Prometheus has no empty labels: an empty value is the label's absence.
        if !v.is_empty() {
            labels.insert(names::dimension_to_label(k), v.clone());
        }
    }
    labels
}

/// The alternatives of a selector (`{a="1" or b="2"}`), each a list of matchers that must
/// all hold, the selector's metric name among them.
fn matcher_groups(vs: &VectorSelector) -> Vec<Vec<Matcher>> {
    let mut groups = if vs.matchers.or_matchers.is_empty() {
        vec![vs.matchers.matchers.clone()]
    } else {
        vs.matchers.or_matchers.clone()
    };
    if let Some(name) = &vs.name {
        for g in &mut groups {
            g.push(Matcher::new(MatchOp::Equal, METRIC_NAME, name));
        }
    }
    groups
}

/// The store filter equivalent to the equality matchers of `group`; `None` when an
/// equality names something no Monasca series can have, so nothing matches.
fn pushdown(tenant: &str, group: &[Matcher]) -> Option<SeriesFilter> {
    let mut filter = SeriesFilter::tenant(tenant);
    for m in group {
        if m.op != MatchOp::Equal || m.value.is_empty() {
            continue;
        }
        if m.name == METRIC_NAME {
            let name = names::metric_from_prom(&m.value)?;
            if filter.name.as_ref().is_some_and(|n| *n != name) {
                return None;
            }
            filter.name = Some(name);
        } else {
            let key = names::dimension_from_label(&m.name)?;
            filter = filter.dimension(key, DimMatch::AnyOf(vec![m.value.clone()]));
        }
    }
    Some(filter)
}

/// Whether every matcher holds on `labels` (a missing label reads as empty).
pub(crate) fn matches_all(group: &[Matcher], labels: &Labels) -> bool {
    group
        .iter()
        .all(|m| m.is_match(labels.get(&m.name).map_or("", String::as_str)))
}

/// The series `vs` selects that have points in `range`, with their labels.
pub(crate) async fn find(
    store: &dyn MetricStore,
    tenant: &str,
    vs: &VectorSelector,
    range: TimeRange,
) -> Result<Vec<(SeriesInfo, Labels)>, QueryError> {
    let mut found: HashMap<u64, (SeriesInfo, Labels)> = HashMap::new();
    for group in matcher_groups(vs) {
        let Some(filter) = pushdown(tenant, &group) else {
            continue;
        };
        for info in store.find_series(&filter, range).await? {
            let labels = labels_of(&info.key);
            if matches_all(&group, &labels) {
                found.entry(info.id).or_insert((info, labels));
            }
        }
    }
    let mut out: Vec<_> = found.into_values().collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// Reads the points of every selector in `plan`, over the union of the ranges it needs,
/// refusing to hold more than `max_samples` points in all.
pub(crate) async fn load(
    store: &dyn MetricStore,
    tenant: &str,
    plan: &[(&VectorSelector, i64, i64)],
    max_samples: usize,
) -> Result<HashMap<SelectorKey, Vec<LoadedSeries>>, QueryError> {
    let mut ranges: HashMap<SelectorKey, (&VectorSelector, i64, i64)> = HashMap::new();
    for &(vs, from, to) in plan {
        let e = ranges.entry(key_of(vs)).or_insert((vs, from, to));
        e.1 = e.1.min(from);
        e.2 = e.2.max(to);
    }
    let mut loaded = HashMap::new();
    let mut total = 0usize;
    for (key, (vs, from, to)) in ranges {
        // `(from, to]` in the store's half-open `[start, end)`.
        let range = TimeRange {
            start: from.saturating_add(1),
            end: to.saturating_add(1),
        };
        let found = find(store, tenant, vs, range).await?;
        let ids: Vec<_> = found.iter().map(|(info, _)| info.id).collect();
        let mut points_of = HashMap::new();
        let mut over = false;
        store
            .each_series_points(&ids, range, &mut |id, points| {
                total += points.len();
                over = total > max_samples;
                points_of.insert(id, points.iter().map(|p| (p.timestamp, p.value)).collect());
                !over
            })
            .await?;
        if over {
            return Err(too_many_samples());
        }
        let mut series = Vec::new();
        for (info, labels) in found {
            let labels = Arc::new(labels);
            series.push(LoadedSeries {
                unnamed: crate::value::drop_name(&labels),
                labels,
                points: points_of.remove(&info.id).unwrap_or_default(),
            });
        }
        loaded.insert(key, series);
    }
    Ok(loaded)
}

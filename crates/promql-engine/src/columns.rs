//! Series at a time: the parts of a query whose value at every step depends on one series at
//! a time — a range function over a selector (`rate(x[5m])`), and the simple aggregations
//! (`sum avg min max count group`, `by`/`without`) over those or over a
//! selector — are evaluated before the step-by-step evaluation, for all steps at once, reading
//! one series from the store, sliding its windows across the steps, folding it into its
//! group's accumulators and dropping its points before reading the next.
//!
//! Memory is then one series' points plus the node's output (groups x steps), where loading
//! every selected series first would hold all their points; and the per-step work of finding
//! each window and each sample's group is done once per series instead of once per step.
//!
//! Such a node is used only where it is evaluated at the query's own steps: under the root
//! through operators, aggregations and functions that evaluate their arguments at the same
//! time, never inside a subquery (other times) or `timestamp()` (it needs each sample's own
//! time, which these columns do not keep).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Instant,
};

use metric_store::{MetricStore, TimeRange};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier, MatrixSelector, VectorSelector};

use crate::{
    aggregate::group_labels,
    annotations::{Note, Notes, Site},
    error::{QueryError, exec, too_many_samples},
    functions::{counter_like, range_fn},
    math::{Mean, kahan_add},
    select::{self, SelectorKey, Span, duration_ms, key_of},
    value::{Labels, METRIC_NAME, Sample, drop_name, is_stale, several_names},
};

/// One output series of a node: its value at each step, `None` where it has none.
#[derive(Debug)]
pub(crate) struct Column {
    pub labels: Arc<Labels>,
    pub values: Vec<Option<f64>>,
}

/// The precomputed nodes of one query, by node address.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    start: i64,
    step: i64,
    steps: usize,
    nodes: HashMap<usize, Vec<Column>>,
}

fn node_key(e: &Expr) -> usize {
    std::ptr::from_ref(e) as usize
}

impl Columns {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The instant vector of `e` at `t`, when `e` was precomputed.
    pub fn at(&self, e: &Expr, t: i64) -> Option<Vec<Sample>> {
        let columns = self.nodes.get(&node_key(e))?;
        let offset = t.checked_sub(self.start)?;
        let i = usize::try_from(offset / self.step.max(1)).ok()?;
        if offset % self.step.max(1) != 0 || i >= self.steps {
            return None;
        }
        Some(
            columns
                .iter()
                .filter_map(|c| {
                    c.values[i].map(|value| Sample {
                        labels: c.labels.clone(),
                        timestamp: t,
                        value,
                    })
                })
                .collect(),
        )
    }

    /// The whole output of `e` as series of points, when `e` was precomputed.
    /// `None` too when two of its series have the same labels: the step-by-step evaluation
    /// then reports the collision at the steps where both have a value.
    pub fn take_matrix(&mut self, e: &Expr) -> Option<Vec<crate::value::Series>> {
        let mut seen = HashSet::new();
        if !self
            .nodes
            .get(&node_key(e))?
            .iter()
            .all(|c| seen.insert(&c.labels))
        {
            return None;
        }
        let columns = self.nodes.remove(&node_key(e))?;
        let (start, step) = (self.start, self.step);
        Some(
            columns
                .into_iter()
                .filter_map(|c| {
                    let points: Vec<(i64, f64)> = c
                        .values
                        .iter()
                        .enumerate()
                        .filter_map(|(i, v)| v.map(|v| (start + i as i64 * step, v)))
                        .collect();
                    (!points.is_empty()).then_some(crate::value::Series {
                        labels: c.labels,
                        points,
                    })
                })
                .collect(),
        )
    }
}

/// The simple aggregations: a fold of each group's values at each step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Fold {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Group,
}

/// A node evaluated series at a time.
pub(crate) enum Shape<'e> {
    /// A bare selector: the newest point within the lookback delta (only under an aggregation,
    /// which drops the point's own timestamp).
    Selector(&'e VectorSelector),
    /// A range function over `selector[range]`, and the call's address (for its notes).
    RangeFn(&'static str, &'e MatrixSelector, usize),
    Aggregate {
        fold: Fold,
        names: &'e [String],
        by: bool,
        inner: Box<Shape<'e>>,
    },
}

const RANGE_FNS: &[&str] = &[
    "rate",
    "increase",
    "delta",
    "irate",
    "idelta",
    "resets",
    "changes",
    "deriv",
    "avg_over_time",
    "min_over_time",
    "max_over_time",
    "sum_over_time",
    "count_over_time",
    "present_over_time",
    "stddev_over_time",
    "stdvar_over_time",
];

fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        e => e,
    }
}

fn shape(e: &Expr, top: bool) -> Option<Shape<'_>> {
    match e {
        Expr::Paren(p) => shape(&p.expr, top),
        Expr::VectorSelector(vs) if !top && vs.at.is_none() => Some(Shape::Selector(vs)),
        Expr::Call(c) => {
            let name = RANGE_FNS.iter().find(|n| **n == c.func.name)?;
            let [arg] = c.args.args.as_slice() else {
                return None;
            };
            match unparen(arg) {
                Expr::MatrixSelector(ms) if ms.vs.at.is_none() => {
                    Some(Shape::RangeFn(name, ms, std::ptr::from_ref(c) as usize))
                }
                _ => None,
            }
        }
        Expr::Aggregate(a) => aggregate_shape(a),
        _ => None,
    }
}

fn aggregate_shape(a: &AggregateExpr) -> Option<Shape<'_>> {
    if a.param.is_some() {
        return None;
    }
    let fold = match a.op.to_string().as_str() {
        "sum" => Fold::Sum,
        "avg" => Fold::Avg,
        "min" => Fold::Min,
        "max" => Fold::Max,
        "count" => Fold::Count,
        "group" => Fold::Group,
        _ => return None,
    };
    let (names, by): (&[String], bool) = match &a.modifier {
        None => (&[], true),
        Some(LabelModifier::Include(l)) => (&l.labels, true),
        Some(LabelModifier::Exclude(l)) => (&l.labels, false),
    };
    Some(Shape::Aggregate {
        fold,
        names,
        by,
        inner: Box::new(shape(&a.expr, false)?),
    })
}

/// The largest series-at-a-time nodes under `e` that are evaluated at the query's steps.
fn roots<'e>(e: &'e Expr, out: &mut Vec<(&'e Expr, Shape<'e>)>) {
    if let Some(s) = shape(e, true) {
        out.push((e, s));
        return;
    }
    match e {
        Expr::Paren(p) => roots(&p.expr, out),
        Expr::Unary(u) => roots(&u.expr, out),
        Expr::Binary(b) => {
            roots(&b.lhs, out);
            roots(&b.rhs, out);
        }
        Expr::Aggregate(a) => {
            roots(&a.expr, out);
            if let Some(p) = &a.param {
                roots(p, out);
            }
        }
        // Arguments evaluated at the call's own time; not range vectors (their windows are
        // read by the function itself) and not `timestamp`'s (it needs the samples' times).
        Expr::Call(c) if c.func.name != "timestamp" => {
            for a in &c.args.args {
                if !matches!(unparen(a), Expr::MatrixSelector(_) | Expr::Subquery(_)) {
                    roots(a, out);
                }
            }
        }
        _ => {}
    }
}

fn selectors<'e>(s: &Shape<'e>, out: &mut Vec<&'e VectorSelector>) {
    match s {
        Shape::Selector(vs) => out.push(vs),
        Shape::RangeFn(_, ms, _) => out.push(&ms.vs),
        Shape::Aggregate { inner, .. } => selectors(inner, out),
    }
}

/// Steps of a query: `steps` times from `start`, `step` apart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Steps {
    pub start: i64,
    pub step: i64,
    pub steps: usize,
}

impl Steps {
    fn time(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }
}

/// The nodes of `expr` to precompute, and the selectors they read (to leave out of the
/// step-by-step evaluator's loading).
pub(crate) fn plan(expr: &Expr) -> (Vec<(&Expr, Shape<'_>)>, HashSet<SelectorKey>) {
    let mut found = Vec::new();
    roots(expr, &mut found);
    let mut keys = HashSet::new();
    for (_, s) in &found {
        let mut vs = Vec::new();
        selectors(s, &mut vs);
        keys.extend(vs.into_iter().map(key_of));
    }
    (found, keys)
}

/// Budget shared by every node of one query.
pub(crate) struct Budget {
    pub samples_left: usize,
    pub deadline: Instant,
}

impl Budget {
    fn charge(&mut self, points: usize) -> Result<(), QueryError> {
        self.samples_left = self
            .samples_left
            .checked_sub(points)
            .ok_or_else(too_many_samples)?;
        if Instant::now() > self.deadline {
            return Err(QueryError::Timeout("query preparation"));
        }
        Ok(())
    }
}

/// What every node of one query reads with.
pub(crate) struct Reader<'a> {
    pub store: &'a dyn MetricStore,
    pub tenant: &'a str,
    pub steps: Steps,
    pub span: &'a Span,
    pub notes: &'a Notes,
}

pub(crate) async fn compute<'e>(
    r: &Reader<'_>,
    found: Vec<(&'e Expr, Shape<'e>)>,
    budget: &mut Budget,
) -> Result<Columns, QueryError> {
    let steps = r.steps;
    let mut columns = Columns {
        start: steps.start,
        step: steps.step,
        steps: steps.steps,
        nodes: HashMap::new(),
    };
    for (e, s) in found {
        let out = eval_shape(r, &s, budget).await?;
        columns.nodes.insert(node_key(e), out);
    }
    Ok(columns)
}

/// Per-step accumulators of one group.
struct Acc {
    labels: Labels,
    /// Kahan sum (sum, compensation), or min/max in `.0`.
    sum: Vec<(f64, f64)>,
    /// The running means of `avg` (empty for the other folds).
    mean: Vec<Mean>,
    count: Vec<u32>,
}

async fn eval_shape(
    r: &Reader<'_>,
    s: &Shape<'_>,
    budget: &mut Budget,
) -> Result<Vec<Column>, QueryError> {
    let steps = r.steps;
    match s {
        Shape::Selector(_) | Shape::RangeFn(..) => {
            let mut out = Vec::new();
            for_each_series(r, s, budget, |labels, values| {
                out.push(Column {
                    labels: labels.clone(),
                    values,
                });
            })
            .await?;
            Ok(out)
        }
        Shape::Aggregate {
            fold,
            names,
            by,
            inner,
        } => {
            let fold = *fold;
            let mut groups: Vec<Acc> = Vec::new();
            let mut index: HashMap<Labels, usize> = HashMap::new();
            let mut add = |labels: &Arc<Labels>, values: Vec<Option<f64>>| {
                let key = group_labels(labels, names, *by);
                let g = match index.get(&key) {
                    Some(&g) => g,
                    None => {
                        groups.push(Acc {
                            labels: key.clone(),
                            sum: vec![(f64::NAN, 0.0); steps.steps],
                            mean: if fold == Fold::Avg {
                                vec![Mean::default(); steps.steps]
                            } else {
                                Vec::new()
                            },
                            count: vec![0; steps.steps],
                        });
                        index.insert(key, groups.len() - 1);
                        groups.len() - 1
                    }
                };
                fold_into(&mut groups[g], fold, &values);
            };
            match inner.as_ref() {
                Shape::Aggregate { .. } => {
                    for c in Box::pin(eval_shape(r, inner, budget)).await? {
                        add(&c.labels, c.values);
                    }
                }
                leaf => {
                    for_each_series(r, leaf, budget, |l, v| add(l, v)).await?;
                }
            }
            Ok(groups.into_iter().map(|g| finish(g, fold)).collect())
        }
    }
}

/// Adds one input series to its group, step by step, in the step-by-step aggregation's order
/// (series sorted by labels), so sums round the same way.
fn fold_into(g: &mut Acc, fold: Fold, values: &[Option<f64>]) {
    for (i, v) in values.iter().enumerate() {
        let Some(v) = *v else { continue };
        g.count[i] += 1;
        let first = g.count[i] == 1;
        let acc = &mut g.sum[i];
        match fold {
            Fold::Sum => {
                if first {
                    *acc = (0.0, 0.0);
                }
                *acc = kahan_add(v, acc.0, acc.1);
            }
            Fold::Avg => g.mean[i].add(v),
            Fold::Min => {
                if first || v < acc.0 || acc.0.is_nan() {
                    acc.0 = v;
                }
            }
            Fold::Max => {
                if first || v > acc.0 || acc.0.is_nan() {
                    acc.0 = v;
                }
            }
            Fold::Count | Fold::Group => {}
        }
    }
}

fn finish(g: Acc, fold: Fold) -> Column {
    let values = (0..g.count.len())
        .map(|i| {
            let n = g.count[i];
            (n > 0).then(|| match fold {
                Fold::Sum => g.sum[i].0 + g.sum[i].1,
                Fold::Avg => g.mean[i].value(),
                Fold::Min | Fold::Max => g.sum[i].0,
                Fold::Count => f64::from(n),
                Fold::Group => 1.0,
            })
        })
        .collect();
    Column {
        labels: Arc::new(g.labels),
        values,
    }
}

/// Reads the series of a selector or range function one at a time and hands each one's
/// labels (without the name for a range function) and values at every step to `f`.
async fn for_each_series(
    r: &Reader<'_>,
    s: &Shape<'_>,
    budget: &mut Budget,
    mut f: impl FnMut(&Arc<Labels>, Vec<Option<f64>>) + Send,
) -> Result<(), QueryError> {
    let (store, steps, span, notes) = (r.store, r.steps, r.span, r.notes);
    let (vs, window_ms) = match s {
        Shape::Selector(vs) => (*vs, span.lookback_ms),
        Shape::RangeFn(_, ms, _) => (&ms.vs, duration_ms(ms.range)),
        Shape::Aggregate { .. } => return Ok(()),
    };
    let at = |t| span.at_offset(None, vs.offset.as_ref(), t);
    let (first, last) = (at(steps.start), at(steps.time(steps.steps - 1)));
    // `(from, to]` in the store's half-open `[start, end)`.
    let range = TimeRange {
        start: first.saturating_sub(window_ms).saturating_add(1),
        end: last.saturating_add(1),
    };
    let found = select::find(store, r.tenant, vs, range).await?;
    let ids: Vec<_> = found.iter().map(|(info, _)| info.id).collect();
    // Series that differ only by name collide once a range function drops it: Prometheus
    // refuses that where both have a value at one step. The steps each label set has a value at:
    let several = matches!(s, Shape::RangeFn(..)) && several_names(found.iter().map(|(_, l)| l));
    let mut present: HashMap<Arc<Labels>, Vec<bool>> = HashMap::new();
    let mut labels_of: HashMap<_, Arc<Labels>> = found
        .into_iter()
        .map(|(info, labels)| (info.id, Arc::new(labels)))
        .collect();
    let mut failed = None;
    let mut each = |id, read: Vec<metric_store::Point>| {
        if let Err(e) = budget.charge(read.len()) {
            failed = Some(e);
            return false;
        }
        // A window leaves staleness markers out; a bare selector keeps them, to find nothing
        // where one is the newest point.
        let points: Vec<(i64, f64)> = read
            .iter()
            .filter(|p| matches!(s, Shape::Selector(_)) || !is_stale(p.value))
            .map(|p| (p.timestamp, p.value))
            .collect();
        drop(read);
        let Some(labels) = labels_of.remove(&id) else {
            return true;
        };
        if let Shape::RangeFn("rate" | "increase", _, call) = s
            && points.len() >= 2
            && let Some(name) = labels.get(METRIC_NAME)
            && !counter_like(name)
        {
            notes.add(Note::NonCounter(Site::Arg(*call, 0), name.clone()));
        }
        let values = match s {
            Shape::RangeFn(name, _, _) => slide(&points, steps, window_ms, at, |w, from, to| {
                range_fn(name, w, from, to)
            }),
            _ => slide(&points, steps, window_ms, at, |w, _, _| {
                w.last().map(|p| p.1).filter(|v| !is_stale(*v))
            }),
        };
        if values.iter().any(Option::is_some) {
            let labels = match s {
                Shape::RangeFn(..) => drop_name(&labels),
                _ => labels,
            };
            if several {
                let steps_of = present
                    .entry(labels.clone())
                    .or_insert_with(|| vec![false; values.len()]);
                for (seen, v) in steps_of.iter_mut().zip(&values) {
                    if *seen && v.is_some() {
                        failed = Some(exec("vector cannot contain metrics with the same labelset"));
                        return false;
                    }
                    *seen |= v.is_some();
                }
            }
            f(&labels, values);
        }
        true
    };
    store.each_series_points(&ids, range, &mut each).await?;
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `f` of the points in `(at(t) - window, at(t)]` at every step, the window's two ends moving
/// forward only.
fn slide(
    points: &[(i64, f64)],
    steps: Steps,
    window_ms: i64,
    at: impl Fn(i64) -> i64,
    f: impl Fn(&[(i64, f64)], i64, i64) -> Option<f64>,
) -> Vec<Option<f64>> {
    let (mut lo, mut hi) = (0, 0);
    (0..steps.steps)
        .map(|i| {
            let to = at(steps.time(i));
            let from = to.saturating_sub(window_ms);
            while lo < points.len() && points[lo].0 <= from {
                lo += 1;
            }
            hi = hi.max(lo);
            while hi < points.len() && points[hi].0 <= to {
                hi += 1;
            }
            if lo == hi {
                None
            } else {
                f(&points[lo..hi], from, to)
            }
        })
        .collect()
}

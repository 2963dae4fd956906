//! The evaluator: an expression at one time over the points the selectors loaded.

use std::{borrow::Cow, collections::HashMap, sync::Arc, time::Instant};

use promql_parser::parser::{Expr, SubqueryExpr, VectorSelector};

use crate::{
    aggregate,
    annotations::Notes,
    binary,
    columns::Columns,
    error::{QueryError, bad, too_many_samples},
    functions,
    select::{LoadedSeries, SelectorKey, Span, duration_ms, key_of},
    value::{Labels, Sample, Series, Value, drop_name, is_stale},
};

pub(crate) struct Evaluator {
    pub loaded: HashMap<SelectorKey, Vec<LoadedSeries>>,
    /// Nodes evaluated series at a time before the steps ([`crate::columns`]).
    pub columns: Columns,
    /// The selectors whose series carry more than one metric name (found once, when loaded):
    /// a function dropping the names may leave two with one label set there.
    pub several_names: std::collections::HashSet<SelectorKey>,
    pub span: Span,
    pub deadline: Instant,
    /// The most points a subquery may produce (the loaded points are bounded when loading).
    pub max_samples: usize,
    /// The warnings and infos evaluation notices.
    pub notes: Notes,
}

impl Evaluator {
    pub fn check_deadline(&self) -> Result<(), QueryError> {
        if Instant::now() > self.deadline {
            Err(QueryError::Timeout("expression evaluation"))
        } else {
            Ok(())
        }
    }

    pub fn series(&self, vs: &VectorSelector) -> &[LoadedSeries] {
        self.loaded.get(&key_of(vs)).map_or(&[], Vec::as_slice)
    }

    pub fn eval(&self, expr: &Expr, t: i64) -> Result<Value, QueryError> {
        if !self.columns.is_empty()
            && let Some(samples) = self.columns.at(expr, t)
        {
            return Ok(Value::Vector(samples));
        }
        Ok(match expr {
            Expr::NumberLiteral(n) => Value::Scalar(n.val),
            Expr::StringLiteral(s) => Value::String(s.val.clone()),
            Expr::Paren(p) => self.eval(&p.expr, t)?,
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Value::Scalar(v) => Value::Scalar(-v),
                Value::Vector(samples) => Value::Vector(
                    samples
                        .into_iter()
                        .map(|s| Sample {
                            labels: drop_name(&s.labels),
                            timestamp: t,
                            value: -s.value,
                        })
                        .collect(),
                ),
                other => {
                    return Err(bad(format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                        other.type_name()
                    )));
                }
            },
            Expr::VectorSelector(vs) => Value::Vector(self.instant(vs, t)),
            Expr::MatrixSelector(ms) => Value::Matrix(self.range(&ms.vs, duration_ms(ms.range), t)),
            Expr::Subquery(sq) => Value::Matrix(self.subquery(sq, t)?),
            Expr::Call(c) => functions::call(self, c, t)?,
            Expr::Aggregate(a) => aggregate::eval(self, a, t)?,
            Expr::Binary(b) => binary::eval(self, b, t)?,
            Expr::Extension(_) => return Err(bad("extension expressions are not supported")),
        })
    }

    /// The instant vector `vs` selects at `t`: each series' newest point within the
    /// lookback delta, unless that point is the staleness marker.
    pub fn instant(&self, vs: &VectorSelector, t: i64) -> Vec<Sample> {
        let at = self.span.at_offset(vs.at.as_ref(), vs.offset.as_ref(), t);
        let mut out = Vec::new();
        for s in self.series(vs) {
            let i = s.points.partition_point(|p| p.0 <= at);
            if let Some(&(ts, value)) = i.checked_sub(1).and_then(|i| s.points.get(i))
                && ts > at.saturating_sub(self.span.lookback_ms)
                && !is_stale(value)
            {
                out.push(Sample {
                    labels: s.labels.clone(),
                    timestamp: ts,
                    value,
                });
            }
        }
        out
    }

    /// The range vector `vs[range]` at `t`: each series' points in `(t - range, t]`.
    pub fn range(&self, vs: &VectorSelector, range_ms: i64, t: i64) -> Vec<Series> {
        self.range_slices(vs, range_ms, t)
            .map(|(s, points)| Series {
                labels: s.labels.clone(),
                points: points.into_owned(),
            })
            .collect()
    }

    /// [`Evaluator::range`] without copying: each series with points in the window, and
    /// those points (copied only when staleness markers are to be left out).
    pub fn range_slices<'a>(
        &'a self,
        vs: &VectorSelector,
        range_ms: i64,
        t: i64,
    ) -> impl Iterator<Item = (&'a LoadedSeries, Cow<'a, [(i64, f64)]>)> + 'a {
        let at = self.span.at_offset(vs.at.as_ref(), vs.offset.as_ref(), t);
        self.series(vs).iter().filter_map(move |s| {
            let from = s
                .points
                .partition_point(|p| p.0 <= at.saturating_sub(range_ms));
            let to = s.points.partition_point(|p| p.0 <= at);
            let window = s.points.get(from..to).filter(|w| !w.is_empty())?;
            if !window.iter().any(|p| is_stale(p.1)) {
                return Some((s, Cow::Borrowed(window)));
            }
            let live: Vec<_> = window.iter().copied().filter(|p| !is_stale(p.1)).collect();
            (!live.is_empty()).then_some((s, Cow::Owned(live)))
        })
    }

    /// A subquery at `t`: its expression at every multiple of the step in `(t - range, t]`.
    fn subquery(&self, sq: &SubqueryExpr, t: i64) -> Result<Vec<Series>, QueryError> {
        let at = self.span.at_offset(sq.at.as_ref(), sq.offset.as_ref(), t);
        let step = sq
            .step
            .map_or(self.span.subquery_step_ms, duration_ms)
            .max(1);
        let start = at.saturating_sub(duration_ms(sq.range));
        let mut ts = start.saturating_sub(start.rem_euclid(step));
        if ts <= start {
            ts = ts.saturating_add(step);
        }
        let mut by_labels: HashMap<Arc<Labels>, Vec<(i64, f64)>> = HashMap::new();
        let mut produced = 0usize;
        while ts <= at {
            self.check_deadline()?;
            let value = self.eval(&sq.expr, ts)?;
            produced += match &value {
                Value::Vector(samples) => samples.len(),
                _ => 1,
            };
            if produced > self.max_samples {
                return Err(too_many_samples());
            }
            match value {
                Value::Vector(samples) => {
                    for s in samples {
                        by_labels.entry(s.labels).or_default().push((ts, s.value));
                    }
                }
                Value::Scalar(v) => by_labels
                    .entry(Arc::new(Labels::new()))
                    .or_default()
                    .push((ts, v)),
                other => {
                    return Err(bad(format!(
                        "subquery is only allowed on instant vector, got {}",
                        other.type_name()
                    )));
                }
            }
            match ts.checked_add(step) {
                Some(next) => ts = next,
                None => break,
            }
        }
        let mut out: Vec<Series> = by_labels
            .into_iter()
            .map(|(labels, points)| Series { labels, points })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}

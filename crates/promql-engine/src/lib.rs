//! PromQL over Vigil's [`MetricStore`].
//!
//! Queries are parsed by the `promql-parser` crate and evaluated here. Before evaluating,
//! the engine walks the expression for its selectors and the time range each one needs over
//! the whole query (offsets, `@`, ranges and subqueries included), finds their series in
//! the store with the equality matchers pushed down, and reads those series' points in that
//! range only, at most [`EngineOptions::max_samples`] of them. Evaluation then runs at each
//! step over those points, as Prometheus's engine does.
//!
//! Every query is scoped to one tenant (a Monasca project); [`names`] documents how Monasca
//! metric names and dimensions become Prometheus metric names and labels.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn metric_store::MetricStore>) {
//! use promql_engine::{Engine, EngineOptions};
//! let engine = Engine::new(store, EngineOptions::default());
//! let value = engine.instant("acme", "sum by (hostname) (rate(http:requests[5m]))", 1_700_000_000_000).await;
//! # let _ = value; }
//! ```

mod aggregate;
mod annotations;
mod binary;
mod columns;
mod error;
mod eval;
mod functions;
mod math;
pub mod names;
mod select;
mod syntax;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_columns;
#[cfg(test)]
mod tests_upstream;
mod value;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

pub use annotations::Annotations;
pub use error::QueryError;
pub use math::{ValueText, format_value};
use metric_store::{MetricStore, TimeRange};
use promql_parser::parser::{Expr, value::ValueType};
pub use value::{Labels, METRIC_NAME, QueryValue, STALE_NAN_BITS, Series};

use crate::{
    error::{bad, exec},
    eval::Evaluator,
    select::Span,
    value::Value,
};

/// The most points a range query may return per series (Prometheus's limit).
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// Limits and defaults of the engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a point (Prometheus: 5 m).
    pub lookback_delta: Duration,
    /// The most points one query may read from the store.
    pub max_samples: usize,
    /// How long one query may run.
    pub timeout: Duration,
    /// The step of a subquery that names none (Prometheus: the global evaluation interval).
    pub default_subquery_step: Duration,
    /// Evaluate range functions and simple aggregations series by series over all steps
    /// where the query's shape allows ([`columns`]); off, every node is evaluated step by step
    /// (the two must agree: the tests compare them).
    pub series_at_a_time: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            default_subquery_step: Duration::from_secs(60),
            series_at_a_time: true,
        }
    }
}

/// Evaluates PromQL over a store.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn MetricStore>,
    options: EngineOptions,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Parses a query, with the syntax error as the API reports it.
///
/// # Errors
/// [`QueryError::Parse`] with Prometheus's `parse error` wording.
pub fn parse(query: &str) -> Result<Expr, QueryError> {
    promql_parser::parser::parse(query)
        .map_err(|e| QueryError::Parse(syntax::syntax_error(query, &e)))
}

/// `query` parsed and printed back in Prometheus's canonical layout (`/format_query`).
///
/// # Errors
/// As [`parse`].
pub fn format_query(query: &str) -> Result<String, QueryError> {
    Ok(parse(query)?.prettify())
}

impl Engine {
    pub fn new(store: Arc<dyn MetricStore>, options: EngineOptions) -> Self {
        Self { store, options }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Evaluates `query` at `time_ms` for `tenant`.
    ///
    /// # Errors
    /// A syntax or type error ([`QueryError::BadData`]), a failed evaluation, a limit, the
    /// store.
    pub async fn instant(
        &self,
        tenant: &str,
        query: &str,
        time_ms: i64,
    ) -> Result<QueryValue, QueryError> {
        Ok(self.instant_annotated(tenant, query, time_ms).await?.0)
    }

    /// [`Engine::instant`] with the query's warnings and infos.
    ///
    /// # Errors
    /// As [`Engine::instant`].
    pub async fn instant_annotated(
        &self,
        tenant: &str,
        query: &str,
        time_ms: i64,
    ) -> Result<(QueryValue, Annotations), QueryError> {
        let expr = parse(query)?;
        let ev = self.prepare(tenant, &expr, time_ms, time_ms, 1).await?;
        let value = Self::instant_value(&ev, &expr, time_ms)?;
        Ok((value, ev.notes.into_annotations(query, &expr)))
    }

    fn instant_value(ev: &Evaluator, expr: &Expr, time_ms: i64) -> Result<QueryValue, QueryError> {
        match ev.eval(expr, time_ms)? {
            Value::Scalar(v) => Ok(QueryValue::Scalar(time_ms, v)),
            Value::String(s) => Ok(QueryValue::String(time_ms, s)),
            Value::Vector(v) => {
                check_unique(v.iter().map(|s| &s.labels))?;
                Ok(QueryValue::Vector(
                    v.into_iter()
                        .map(|s| (s.labels, time_ms, s.value))
                        .collect(),
                ))
            }
            Value::Matrix(m) => Ok(QueryValue::Matrix(m)),
        }
    }

    /// Evaluates `query` at every `step_ms` from `start_ms` to `end_ms`, both included.
    ///
    /// # Errors
    /// As [`Engine::instant`]; also a step that is not positive, an end before the start,
    /// more than [`MAX_POINTS_PER_SERIES`] steps, or a query that is not a scalar or an
    /// instant vector.
    pub async fn range(
        &self,
        tenant: &str,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<QueryValue, QueryError> {
        Ok(self
            .range_annotated(tenant, query, start_ms, end_ms, step_ms)
            .await?
            .0)
    }

    /// [`Engine::range`] with the query's warnings and infos.
    ///
    /// # Errors
    /// As [`Engine::range`].
    pub async fn range_annotated(
        &self,
        tenant: &str,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<(QueryValue, Annotations), QueryError> {
        if end_ms < start_ms {
            return Err(bad(
                "invalid parameter \"end\": end timestamp must not be before start time",
            ));
        }
        if step_ms <= 0 {
            return Err(bad(
                "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
            ));
        }
        if (i128::from(end_ms) - i128::from(start_ms)) / i128::from(step_ms)
            > i128::from(MAX_POINTS_PER_SERIES)
        {
            return Err(bad(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
            ));
        }
        let expr = parse(query)?;
        match expr.value_type() {
            ValueType::Scalar | ValueType::Vector => {}
            other => {
                return Err(bad(format!(
                    "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                    type_word(other)
                )));
            }
        }
        let mut ev = self
            .prepare(tenant, &expr, start_ms, end_ms, step_ms)
            .await?;
        // A root evaluated series at a time is the answer already.
        if let Some(mut out) = ev.columns.take_matrix(&expr) {
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
            let notes = ev.notes.into_annotations(query, &expr);
            return Ok((QueryValue::Matrix(out), notes));
        }
        let mut series: HashMap<Arc<Labels>, Vec<(i64, f64)>> = HashMap::new();
        let mut t = start_ms;
        while t <= end_ms {
            ev.check_deadline()?;
            match ev.eval(&expr, t)? {
                Value::Scalar(v) => series.entry(Arc::default()).or_default().push((t, v)),
                Value::Vector(samples) => {
                    check_unique(samples.iter().map(|s| &s.labels))?;
                    for s in samples {
                        series.entry(s.labels).or_default().push((t, s.value));
                    }
                }
                other => {
                    return Err(bad(format!(
                        "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                        other.type_name()
                    )));
                }
            }
            match t.checked_add(step_ms) {
                Some(next) => t = next,
                None => break,
            }
        }
        let mut out: Vec<Series> = series
            .into_iter()
            .map(|(labels, points)| Series { labels, points })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        let notes = ev.notes.into_annotations(query, &expr);
        Ok((QueryValue::Matrix(out), notes))
    }

    /// Parses and loads: every selector's points over what the query needs.
    async fn prepare(
        &self,
        tenant: &str,
        expr: &Expr,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Evaluator, QueryError> {
        let began = Instant::now();
        let span = Span {
            start,
            end,
            lookback_ms: select::duration_ms(self.options.lookback_delta),
            subquery_step_ms: select::duration_ms(self.options.default_subquery_step),
        };
        let (found, by_columns) = if self.options.series_at_a_time {
            columns::plan(expr)
        } else {
            Default::default()
        };
        let mut plan = Vec::new();
        select::plan(expr, start, end, &span, &mut plan);
        plan.retain(|(vs, _, _)| !by_columns.contains(&select::key_of(vs)));
        let deadline = began + self.options.timeout;
        let loaded = select::load(&*self.store, tenant, &plan, self.options.max_samples).await?;
        let held: usize = loaded.values().flatten().map(|s| s.points.len()).sum();
        let steps = columns::Steps {
            start,
            step: step.max(1),
            steps: usize::try_from((end - start) / step.max(1)).unwrap_or(0) + 1,
        };
        let mut budget = columns::Budget {
            samples_left: self.options.max_samples.saturating_sub(held),
            deadline,
        };
        let notes = annotations::Notes::default();
        let reader = columns::Reader {
            store: &*self.store,
            tenant,
            steps,
            span: &span,
            notes: &notes,
        };
        let columns = columns::compute(&reader, found, &mut budget).await?;
        // The engine has no runtime to race a timer with: the deadline is checked after
        // loading and at every step.
        if Instant::now() > deadline {
            return Err(QueryError::Timeout("query preparation"));
        }
        let several_names = loaded
            .iter()
            .filter(|(_, series)| value::several_names(series.iter().map(|s| &*s.labels)))
            .map(|(key, _)| *key)
            .collect();
        Ok(Evaluator {
            loaded,
            columns,
            several_names,
            span,
            deadline,
            max_samples: self.options.max_samples,
            notes,
        })
    }

    /// The label sets of the series any of `selectors` matches with points in
    /// `[start_ms, end_ms]`, sorted.
    ///
    /// # Errors
    /// A selector that does not parse or is not a plain selector; the store.
    pub async fn series(
        &self,
        tenant: &str,
        selectors: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<Labels>, QueryError> {
        let range = TimeRange {
            start: start_ms,
            end: end_ms.saturating_add(1),
        };
        let mut found: BTreeMap<Labels, ()> = BTreeMap::new();
        for text in selectors {
            let expr = parse(text)?;
            let Expr::VectorSelector(vs) = &expr else {
                return Err(bad(format!(
                    "invalid parameter \"match[]\": {text:?} is not a series selector"
                )));
            };
            for (_, labels) in select::find(&*self.store, tenant, vs, range).await? {
                found.insert(labels, ());
            }
        }
        Ok(found.into_keys().collect())
    }

    /// Label names (`name` `None`) or the values of label `name` over the tenant's series
    /// (those `selectors` match, when given) with points in `[start_ms, end_ms]`, sorted.
    ///
    /// # Errors
    /// As [`Engine::series`].
    pub async fn labels(
        &self,
        tenant: &str,
        name: Option<&str>,
        selectors: &[String],
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<String>, QueryError> {
        // A label's values without selectors come from the store's dimension index, without
        // visiting each series.
        if let (true, Some(label)) = (selectors.is_empty(), name)
            && label != METRIC_NAME
        {
            let Some(key) = names::dimension_from_label(label) else {
                return Ok(Vec::new());
            };
            let range = TimeRange {
                start: start_ms,
                end: end_ms.saturating_add(1),
            };
            let mut out = self
                .store
                .dimension_values(tenant, None, &key, range)
                .await?;
            // Prometheus has no empty labels.
            out.retain(|v| !v.is_empty());
            out.sort();
            out.dedup();
            return Ok(out);
        }
        let selectors = if selectors.is_empty() {
            vec![format!("{{{METRIC_NAME}=~\".+\"}}")]
        } else {
            selectors.to_vec()
        };
        let mut out: HashSet<String> = HashSet::new();
        for labels in self.series(tenant, &selectors, start_ms, end_ms).await? {
            match name {
                None => out.extend(labels.into_keys()),
                Some(n) => out.extend(labels.get(n).cloned()),
            }
        }
        let mut out: Vec<String> = out.into_iter().collect();
        out.sort();
        Ok(out)
    }
}

fn type_word(t: ValueType) -> &'static str {
    match t {
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
    }
}

/// Prometheus refuses a vector holding one label set twice (after `label_replace`, say).
fn check_unique<'a>(labels: impl Iterator<Item = &'a Arc<Labels>>) -> Result<(), QueryError> {
    let mut seen = HashSet::new();
    for l in labels {
        if !seen.insert(l) {
            return Err(exec("vector cannot contain metrics with the same labelset"));
        }
    }
    Ok(())
}

/// A PromQL duration (`5m`, `1h30m`) in milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    promql_parser::util::parse_duration(text)
        .ok()
        .map(select::duration_ms)
}

//! Prometheus 3's query annotations, the API's `warnings` and `infos` (Prometheus 2.42 has
//! none for local data): a quantile outside [0, 1] (`histogram_quantile`, `quantile`,
//! `quantile_over_time`), a bucket without a readable `le`, `rate`/`increase` of a metric
//! whose name does not end like a counter's, and buckets whose counts go down.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use promql_parser::parser::Expr;

use crate::syntax;

/// A query's warnings and infos, as the Prometheus API lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations {
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

/// The node an annotation points at: argument `.1` of the call at address `.0`, or the
/// parameter of the aggregation at that address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Site {
    Arg(usize, usize),
    Param(usize),
}

/// What an annotation says; a quantile by its bits, so that each is kept once.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) enum Note {
    InvalidQuantile(Site, u64),
    /// A bucket's `le` and its series' metric name (empty once a function dropped it).
    BadBucket(Site, String, String),
    NonCounter(Site, String),
    /// `histogram_quantile` raised a bucket count that went down.
    ForcedMonotonic(Site),
}

impl Note {
    pub fn invalid_quantile(site: Site, q: f64) -> Self {
        Note::InvalidQuantile(site, q.to_bits())
    }
}

/// What evaluation noticed, gathered from every step, each once.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    notes: Mutex<HashSet<Note>>,
    seen: Mutex<HashSet<usize>>,
}

impl Notes {
    pub fn add(&self, note: Note) {
        if let Ok(mut notes) = self.notes.lock() {
            notes.insert(note);
        }
    }

    /// Whether the node at `address` asks for the first time (checks made once a query).
    pub fn first_time(&self, address: usize) -> bool {
        self.seen.lock().is_ok_and(|mut seen| seen.insert(address))
    }

    /// The annotations, each once, positions as `line:column` of `query`, which `expr` is.
    pub fn into_annotations(self, query: &str, expr: &Expr) -> Annotations {
        let notes = self.notes.into_inner().unwrap_or_default();
        if notes.is_empty() {
            return Annotations::default();
        }
        let position = positions(query, expr);
        let mut warnings = HashSet::new();
        let mut infos = HashSet::new();
        for note in notes {
            let (site, text, warning) = match note {
                Note::InvalidQuantile(site, q) => (
                    site,
                    format!(
                        "quantile value should be between 0 and 1, got {}",
                        go_g(f64::from_bits(q))
                    ),
                    true,
                ),
                Note::BadBucket(site, le, name) => (
                    site,
                    format!(
                        "bucket label \"le\" is missing or has a malformed value of {le:?} for metric name {name:?}"
                    ),
                    true,
                ),
                Note::NonCounter(site, name) => (
                    site,
                    format!(
                        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"
                    ),
                    false,
                ),
                // Prometheus 3 names the metric after dropping the name: always "".
                Note::ForcedMonotonic(site) => (
                    site,
                    "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"\"".to_string(),
                    false,
                ),
            };
            let at = position(site).map_or_else(String::new, |p| format!(" ({p})"));
            if warning {
                warnings.insert(format!("PromQL warning: {text}{at}"));
            } else {
                infos.insert(format!("PromQL info: {text}{at}"));
            }
        }
        let sorted = |set: HashSet<String>| {
            let mut v: Vec<String> = set.into_iter().collect();
            v.sort();
            v
        };
        Annotations {
            warnings: sorted(warnings),
            infos: sorted(infos),
        }
    }
}

/// `line:column` of each site: the grammar pass's calls and aggregations, in source order,
/// matched with the parsed tree's, visited in the same order.
fn positions(query: &str, expr: &Expr) -> impl Fn(Site) -> Option<String> {
    fn walk(e: &Expr, calls: &mut Vec<usize>, aggregations: &mut Vec<usize>) {
        match e {
            Expr::Call(c) => {
                calls.push(std::ptr::from_ref(c) as usize);
                c.args
                    .args
                    .iter()
                    .for_each(|a| walk(a, calls, aggregations));
            }
            Expr::Aggregate(a) => {
                aggregations.push(std::ptr::from_ref(a) as usize);
                if let Some(p) = &a.param {
                    walk(p, calls, aggregations);
                }
                walk(&a.expr, calls, aggregations);
            }
            Expr::Binary(b) => {
                walk(&b.lhs, calls, aggregations);
                walk(&b.rhs, calls, aggregations);
            }
            Expr::Paren(p) => walk(&p.expr, calls, aggregations),
            Expr::Unary(u) => walk(&u.expr, calls, aggregations),
            Expr::Subquery(s) => walk(&s.expr, calls, aggregations),
            _ => {}
        }
    }
    let (mut calls, mut aggregations) = (Vec::new(), Vec::new());
    walk(expr, &mut calls, &mut aggregations);
    let sites = syntax::sites(query)
        .filter(|(c, a)| c.len() == calls.len() && a.len() == aggregations.len());
    let mut offsets: HashMap<Site, usize> = HashMap::new();
    if let Some((call_args, params)) = sites {
        for (address, args) in calls.iter().zip(call_args) {
            for (i, offset) in args.into_iter().enumerate() {
                offsets.insert(Site::Arg(*address, i), offset);
            }
        }
        for (address, param) in aggregations.iter().zip(params) {
            if let Some(offset) = param {
                offsets.insert(Site::Param(*address), offset);
            }
        }
    }
    let query = query.to_string();
    move |site| {
        let offset = *offsets.get(&site)?;
        let before = query.get(..offset)?;
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        Some(format!("{line}:{column}"))
    }
}

/// Go's `%g`: the shortest representation, in exponent form from 1e6 and below 1e-4.
fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-4..1e6).contains(&magnitude) {
        let text = format!("{v:e}");
        return match text.split_once('e') {
            Some((mantissa, exp)) if exp.starts_with('-') => {
                format!("{mantissa}e-{:0>2}", &exp[1..])
            }
            Some((mantissa, exp)) => format!("{mantissa}e+{exp:0>2}"),
            None => text,
        };
    }
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::go_g;

    #[test]
    fn numbers_print_as_go_g() {
        assert_eq!(go_g(1.5), "1.5");
        assert_eq!(go_g(-1.0), "-1");
        assert_eq!(go_g(100000.0), "100000");
        assert_eq!(go_g(1234567.0), "1.234567e+06");
        assert_eq!(go_g(0.00001), "1e-05");
        assert_eq!(go_g(f64::NAN), "NaN");
    }
}

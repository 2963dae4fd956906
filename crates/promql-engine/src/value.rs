//! What evaluation produces: Prometheus's four value types, with label sets as sorted maps.

use std::{
    collections::BTreeMap,
    hash::{BuildHasher, Hasher},
    sync::Arc,
};

/// The label set of a series, `__name__` included; sorted, as Prometheus prints them.
pub type Labels = BTreeMap<String, String>;

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Arc<Labels>,
    /// Epoch milliseconds: the evaluation time, or the stored point's for a plain selector
    /// (which `timestamp()` reports).
    pub timestamp: i64,
    pub value: f64,
}

/// One series of a range vector or of a range query's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Arc<Labels>,
    /// `(epoch milliseconds, value)` in time order.
    pub points: Vec<(i64, f64)>,
}

/// A value during evaluation and a query's result.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(f64),
    String(String),
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

impl Value {
    /// The type's name as Prometheus's error messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "scalar",
            Value::String(_) => "string",
            Value::Vector(_) => "instant vector",
            Value::Matrix(_) => "range vector",
        }
    }
}

/// A query's answer, in the shapes of the Prometheus HTTP API's `resultType`s.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryValue {
    /// `(time ms, value)`.
    Scalar(i64, f64),
    /// `(time ms, value)`.
    String(i64, String),
    /// The samples of an instant query, each at the query's time.
    Vector(Vec<(Arc<Labels>, i64, f64)>),
    /// A range query's series, or an instant query of a range vector.
    Matrix(Vec<Series>),
}

/// The bits of Prometheus's staleness marker: a NaN no arithmetic produces, written when a
/// series ends (a target gone, a rule's output gone). Monasca writes none, Prometheus's remote
/// write and test data do.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether a stored value is the staleness marker: the series has no value from there on
/// (an instant selector finds nothing) and a window leaves the marker out.
pub(crate) fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// `labels` without `__name__`.
pub(crate) fn drop_name(labels: &Arc<Labels>) -> Arc<Labels> {
    if labels.contains_key(METRIC_NAME) {
        let mut l = Labels::clone(labels);
        l.remove(METRIC_NAME);
        Arc::new(l)
    } else {
        labels.clone()
    }
}

/// A 64-bit key identifying a label subset: the listed labels (`on`/`by`: `include` true) or
/// all but the listed ones and `__name__` (`include` false). A hash, as Prometheus's own
/// signatures are: cheaper at every step than building a string.
pub(crate) fn signature(labels: &Labels, names: &[String], include: bool) -> u64 {
    let mut h = hasher();
    for (k, v) in labels {
        let listed = names.iter().any(|n| n == k);
        if (include && listed) || (!include && !listed && k != METRIC_NAME) {
            h.write(k.as_bytes());
            h.write_u8(0xff);
            h.write(v.as_bytes());
            h.write_u8(0xfe);
        }
    }
    h.finish()
}

/// `key` extended by `text` (a `count_values` value, a metric name).
pub(crate) fn mix(key: u64, text: &str) -> u64 {
    let mut h = hasher();
    h.write_u64(key);
    h.write(text.as_bytes());
    h.finish()
}

fn hasher() -> impl Hasher {
    foldhash::fast::FixedState::default().build_hasher()
}

/// Whether `labels` hold more than one metric name: only then can dropping the names leave
/// two series with one label set, which Prometheus refuses in a function's output.
pub(crate) fn several_names<'a>(mut labels: impl Iterator<Item = &'a Labels>) -> bool {
    let Some(first) = labels.next() else {
        return false;
    };
    let name = first.get(METRIC_NAME);
    labels.any(|l| l.get(METRIC_NAME) != name)
}

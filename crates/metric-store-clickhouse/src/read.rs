//! The statements of the read side. Each is fixed text plus conditions chosen by the shape of
//! the request (how many dimension filters, whether a time bound is set); every string of the
//! request travels in the external table `f` or `ids`, and the only numbers in the text are
//! Vigil's own integers (time bounds, limits, periods, row indices of `f`).

use std::fmt::Write as _;

use metric_store::{DimMatch, SeriesFilter, TimeRange};
use serde::{Deserialize, de::DeserializeOwned};

use crate::{http::External, schema::Tables};

/// The external table `f (i UInt32, key String, val String)` and the conditions over
/// `series` that read it. Row 0 holds the tenant, row 1 the metric name, rows from 2 the
/// dimension filters and keys the statement asks about.
pub(crate) struct SeriesQuery {
    pub f: External,
    pub cond: String,
    next_index: u32,
}

impl SeriesQuery {
    /// The conditions of `filter` (its name too when `with_name`).
    pub fn new(filter: &SeriesFilter, with_name: bool) -> Self {
        let mut q = Self {
            f: External::new("f", "i UInt32, key String, val String"),
            cond: "tenant IN (SELECT key FROM f WHERE i = 0)".into(),
            next_index: 2,
        };
        q.f.row(["0", filter.tenant.as_str(), ""]);
        if let (true, Some(name)) = (with_name, &filter.name) {
            q.f.row(["1", name.as_str(), ""]);
            q.cond
                .push_str(" AND name IN (SELECT key FROM f WHERE i = 1)");
        }
        for (key, m) in &filter.dimensions {
            let k = q.key(key);
            let _ = write!(q.cond, " AND has(dim_keys, {k})");
            if let DimMatch::AnyOf(values) = m {
                let i = q.next_index - 1;
                for v in values {
                    q.f.row([i.to_string().as_str(), "", v.as_str()]);
                }
                let _ = write!(
                    q.cond,
                    " AND dim_values[indexOf(dim_keys, {k})] IN (SELECT val FROM f WHERE i = {i})"
                );
            }
        }
        q
    }

    /// The conditions of a tenant (and metric): `dimension_names` and `dimension_values`.
    pub fn tenant(tenant: &str, metric: Option<&str>) -> Self {
        let mut filter = SeriesFilter::tenant(tenant);
        filter.name = metric.map(str::to_string);
        Self::new(&filter, true)
    }

    /// Adds `key` as a row of `f`; the scalar subquery that reads it back.
    pub fn key(&mut self, key: &str) -> String {
        let i = self.next_index;
        self.next_index += 1;
        self.f.row([i.to_string().as_str(), key, ""]);
        format!("(SELECT any(key) FROM f WHERE i = {i})")
    }

    /// Adds `key` as a row of `f`: the scalar subquery that reads it back (for `WHERE`), and
    /// the one-row set (for `IN` in a select list: 18.16 names a scalar subquery's column
    /// differently on the shards of a `Distributed` table than on the initiator).
    pub fn key_and_set(&mut self, key: &str) -> (String, String) {
        let scalar = self.key(key);
        let i = self.next_index - 1;
        (scalar, format!("(SELECT key FROM f WHERE i = {i})"))
    }

    /// Restricts to series with a point in `range` (no restriction for [`TimeRange::ALL`]).
    /// The points are looked up by the `(tenant, sid)` pairs of the series matching so far,
    /// the prefix of their key, rather than by scanning the tenant's whole time range.
    pub fn with_points_in(&mut self, range: TimeRange, tables: &Tables) {
        if range.is_all() {
            return;
        }
        // Series and points of one id are on one shard, so the subqueries read the local
        // tables even on a cluster.
        let cond = format!(
            " AND sid IN (SELECT sid FROM {} WHERE (tenant, sid) IN \
             (SELECT tenant, sid FROM {} WHERE {}){})",
            tables.points_local,
            tables.series_local,
            self.cond,
            time_cond(range, None)
        );
        self.cond.push_str(&cond);
    }
}

/// ` AND ts >= start AND ts < end AND ts > after`, each part only when bounded.
pub(crate) fn time_cond(range: TimeRange, after: Option<i64>) -> String {
    let mut s = String::new();
    if range.start != i64::MIN {
        let _ = write!(s, " AND ts >= {}", range.start);
    }
    if range.end != i64::MAX {
        let _ = write!(s, " AND ts < {}", range.end);
    }
    if let Some(a) = after {
        let _ = write!(s, " AND ts > {a}");
    }
    s
}

/// Parses a `FORMAT JSONEachRow` answer.
pub(crate) fn rows<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, metric_store::StoreError> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|e| {
                metric_store::StoreError::Backend(format!("unexpected ClickHouse row: {e}"))
            })
        })
        .collect()
}

/// A Float64 of `JSONEachRow` output with `output_format_json_quote_denormals`: a number or
/// one of `"nan"`, `"inf"`, `"-inf"`.
pub(crate) fn float_in<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum F {
        N(f64),
        S(String),
    }
    match F::deserialize(d)? {
        F::N(v) => Ok(v),
        F::S(s) => match s.as_str() {
            "nan" | "-nan" => Ok(f64::NAN),
            "inf" | "+inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => s.parse().map_err(serde::de::Error::custom),
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct SeriesRow {
    pub sid: u64,
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "dk")]
    pub dim_keys: Vec<String>,
    #[serde(rename = "dv")]
    pub dim_values: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct PointRow {
    #[serde(default)]
    pub sid: u64,
    pub ts: i64,
    #[serde(rename = "v", deserialize_with = "float_in")]
    pub value: f64,
    #[serde(rename = "m")]
    pub value_meta: String,
}

#[derive(Deserialize)]
pub(crate) struct BucketRow {
    pub grp: u32,
    pub b: i64,
    pub c: u64,
    #[serde(deserialize_with = "float_in")]
    pub s: f64,
    #[serde(deserialize_with = "float_in")]
    pub mn: f64,
    #[serde(deserialize_with = "float_in")]
    pub mx: f64,
}

#[derive(Deserialize)]
pub(crate) struct GroupRow {
    pub present: u8,
    pub value: String,
    pub ids: Vec<u64>,
}

#[derive(Deserialize)]
pub(crate) struct Text {
    pub v: String,
}

#[derive(Deserialize)]
pub(crate) struct SidTenant {
    pub sid: u64,
    #[serde(rename = "t")]
    pub tenant: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_out_of_the_statement() {
        let evil = "x' OR 1=1 --\\\n\0";
        let filter = SeriesFilter::tenant(evil)
            .name(evil)
            .dimension(evil, DimMatch::AnyOf(vec![evil.into()]))
            .dimension("k", DimMatch::Exists);
        let mut q = SeriesQuery::new(&filter, true);
        let tables =
            Tables::new(&crate::ClickHouseOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        q.with_points_in(TimeRange::new(Some(5), None), &tables);
        assert!(!q.cond.contains("OR 1=1"), "{}", q.cond);
        assert!(q.f.tsv.contains("x' OR 1=1 --\\\\\\n\\0"), "{}", q.f.tsv);
        assert_eq!(q.f.tsv.lines().count(), 5);
        assert!(q.cond.ends_with("AND ts >= 5)"), "{}", q.cond);
        assert!(q.cond.contains("FROM vigil.points WHERE (tenant, sid) IN (SELECT tenant, sid FROM vigil.series WHERE tenant IN"), "{}", q.cond);
    }
}

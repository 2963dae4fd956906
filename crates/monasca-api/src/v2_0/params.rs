//! Query-string handling shared by the Monasca GET endpoints: parsing with falcon's rules
//! (blank values dropped, repeated keys kept), upstream's validation messages, and the `links`
//! envelope built from the original query.

use metric_store::{DimMatch, Stat};
use monasca::types::Link;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::validate;
use crate::error::ApiError;

/// Default and maximum page size, as monasca-api's `PAGE_LIMIT`.
pub const PAGE_LIMIT: usize = 10_000;

/// The decoded query pairs in their original order.
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn first(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn last(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `name`: validated as a metric name when present; `Missing name` when required.
    pub fn name(&self, required: bool) -> Result<Option<String>, ApiError> {
        let names = self.all("name");
        match names.as_slice() {
            [] if required => Err(ApiError::unprocessable("Missing name")),
            [] => Ok(None),
            [one] => {
                validate::name(&serde_json::Value::String((*one).to_string()))
                    .map_err(ApiError::unprocessable)?;
                Ok(Some((*one).to_string()))
            }
            many => Err(ApiError::unprocessable(format!(
                "invalid metric name type: [{}] is not a string type ",
                many.iter()
                    .map(|n| format!("'{n}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// `dimensions=k:v,k2:v1|v2,k3`: later duplicates win, as upstream's dict does.
    pub fn dimensions(&self) -> Result<Vec<(String, DimMatch)>, ApiError> {
        self.dimensions_in("dimensions")
    }

    /// A dimension filter in another parameter (`metric_dimensions` of the alarm endpoints),
    /// with the same syntax and checks.
    pub fn dimensions_in(&self, param: &str) -> Result<Vec<(String, DimMatch)>, ApiError> {
        let mut out: Vec<(String, String)> = Vec::new();
        for v in self.all(param) {
            for item in v.split(',') {
                let (k, val) = item.split_once(':').unwrap_or((item, ""));
                match out.iter_mut().find(|(ek, _)| ek == k) {
                    Some(e) => e.1 = val.to_string(),
                    None => out.push((k.to_string(), val.to_string())),
                }
            }
        }
        out.into_iter()
            .map(|(k, v)| {
                if k.starts_with('_') {
                    return Err(ApiError::unprocessable(format!(
                        "Dimension key {k} may not start with '_'"
                    )));
                }
                validate::dimension_key(&k).map_err(ApiError::unprocessable)?;
                if v.is_empty() {
                    return Ok((k, DimMatch::Exists));
                }
                let values: Vec<String> = v.split('|').map(str::to_string).collect();
                for one in &values {
                    validate::dimension_value(&k, &serde_json::Value::String(one.clone()))
                        .map_err(ApiError::unprocessable)?;
                }
                Ok((k, DimMatch::AnyOf(values)))
            })
            .collect()
    }

    /// A time parameter as epoch milliseconds.
    pub fn time(&self, key: &str, missing: Option<&str>) -> Result<Option<i64>, ApiError> {
        match self.first(key) {
            None => match missing {
                Some(msg) => Err(ApiError::unprocessable(msg)),
                None => Ok(None),
            },
            Some(s) => monasca::time::parse_iso8601(s)
                .map(|t| Some(t.as_millisecond()))
                .map_err(ApiError::unprocessable),
        }
    }

    /// `start_time` and `end_time`, with upstream's strict `start < end` check.
    pub fn time_range(&self, start_required: bool) -> Result<(Option<i64>, Option<i64>), ApiError> {
        let start = self.time("start_time", start_required.then_some("Missing start time"))?;
        let end = self.time("end_time", None)?;
        if let (Some(s), Some(e)) = (start, end)
            && s >= e
        {
            return Err(ApiError::bad_request("start_time must be before end_time"));
        }
        Ok((start, end))
    }

    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.last("limit") {
            None => Ok(PAGE_LIMIT),
            Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(s.parse::<usize>().unwrap_or(PAGE_LIMIT).min(PAGE_LIMIT))
            }
            Some(_) => Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid limit",
                "Limit parameter must be a positive integer",
            )),
        }
    }

    pub fn offset(&self) -> Option<&str> {
        self.first("offset")
    }

    /// Upstream tests `value.lower() in ("true")`, a substring test; kept so that every value
    /// a client sends today means what it meant before.
    pub fn merge_metrics(&self) -> bool {
        self.first("merge_metrics")
            .is_some_and(|v| "true".contains(v.to_ascii_lowercase().as_str()))
    }

    pub fn group_by(&self) -> Option<Vec<String>> {
        let items: Vec<String> = self
            .all("group_by")
            .into_iter()
            .flat_map(|v| v.split(','))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        (!items.is_empty()).then_some(items)
    }

    pub fn statistics(&self) -> Result<Vec<Stat>, ApiError> {
        let raw = self.all("statistics");
        if raw.is_empty() {
            return Err(ApiError::unprocessable("Missing statistics"));
        }
        raw.into_iter()
            .flat_map(|v| v.split(','))
            .map(|s| Stat::parse(s).ok_or_else(|| ApiError::unprocessable("Invalid statistic")))
            .collect()
    }

    /// `period` in seconds, default 300.
    pub fn period(&self) -> Result<i64, ApiError> {
        match self.first("period") {
            None => Ok(300),
            Some(s) => match s.trim().parse::<i64>() {
                Err(_) => Err(ApiError::unprocessable("Period must be a valid integer")),
                // Upstream passes 0 on to InfluxDB and fails there; refuse it up front.
                Ok(p) if p <= 0 => {
                    Err(ApiError::unprocessable("Period must be a positive integer"))
                }
                Ok(p) if p > i64::MAX / 1000 => {
                    Err(ApiError::unprocessable("Period must be a valid integer"))
                }
                Ok(p) => Ok(p),
            },
        }
    }

    /// A numeric row offset, as the alarming lists page (`0` when absent).
    pub fn row_offset(&self) -> Result<usize, ApiError> {
        match self.offset() {
            None => Ok(0),
            Some(o) => o.parse::<usize>().map_err(|_| {
                ApiError::unprocessable(format!("Offset value {o} must be an integer"))
            }),
        }
    }

    /// `sort_by=field [asc|desc],...` checked against `allowed`; true means descending.
    pub fn sort_by(&self, allowed: &[&str]) -> Result<Vec<(String, bool)>, ApiError> {
        let mut out = Vec::new();
        for raw in self.all("sort_by") {
            for item in raw.split(',') {
                let words: Vec<&str> = item.split_whitespace().collect();
                let (field, desc) = match words.as_slice() {
                    [f] => (*f, false),
                    [f, "asc"] => (*f, false),
                    [f, "desc"] => (*f, true),
                    [_, d] => {
                        return Err(ApiError::unprocessable(format!(
                            "sort_by value {d} must be 'asc' or 'desc'"
                        )));
                    }
                    _ => return Err(ApiError::unprocessable(format!("Invalid sort_by {item}"))),
                };
                if !allowed.contains(&field) {
                    return Err(ApiError::unprocessable(format!(
                        "sort_by field {field} must be one of [{}]",
                        allowed.join(",")
                    )));
                }
                out.push((field.to_string(), desc));
            }
        }
        Ok(out)
    }

    /// Links for a list paged by row offset: `next` carries `offset + limit`.
    pub fn row_links(&self, base: &str, offset: usize, limit: usize, more: bool) -> Vec<Link> {
        let next = more.then(|| (offset + limit).to_string());
        self.links(base, next.as_deref())
    }

    /// The `self` link, plus `next` carrying `offset` when there is more.
    pub fn links(&self, base: &str, next_offset: Option<&str>) -> Vec<Link> {
        let mut links = vec![Link {
            rel: "self".into(),
            href: self.href(base, None),
        }];
        if let Some(o) = next_offset {
            links.push(Link {
                rel: "next".into(),
                href: self.href(base, Some(o)),
            });
        }
        links
    }

    fn href(&self, base: &str, offset: Option<&str>) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(o) = offset {
            parts.push(format!("offset={}", quote(o)));
        }
        for (k, v) in &self.pairs {
            if offset.is_some() && k.eq_ignore_ascii_case("offset") {
                continue;
            }
            parts.push(format!("{}={}", quote(k), quote(v)));
        }
        if parts.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", parts.join("&"))
        }
    }
}

/// Python's `urllib.parse.quote(s, safe='')`.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~');

fn quote(s: &str) -> String {
    utf8_percent_encode(s, QUOTE).to_string()
}

/// Splits a measurements/statistics offset `"<group>_<timestamp>"` (or a bare timestamp) into
/// the group index and epoch milliseconds. The timestamp is ISO 8601 or epoch milliseconds.
pub fn parse_series_offset(offset: &str) -> Result<(usize, i64), ApiError> {
    let bad = || ApiError::unprocessable(format!("Invalid offset {offset}"));
    let (group, ts) = match offset.split_once('_') {
        Some((g, t)) => (g.parse::<usize>().map_err(|_| bad())?, t),
        None => (0, offset),
    };
    let ms = if !ts.is_empty() && ts.bytes().all(|b| b.is_ascii_digit()) {
        ts.parse::<i64>().map_err(|_| bad())?
    } else {
        monasca::time::parse_iso8601(ts)
            .map_err(|_| bad())?
            .as_millisecond()
    };
    Ok((group, ms))
}

/// Pages a sorted list of names by the last value seen: the offset is opaque to clients.
pub fn page_names(
    values: Vec<String>,
    offset: Option<&str>,
    limit: usize,
) -> (Vec<String>, Option<String>) {
    let start = match offset {
        Some(o) => values.partition_point(|v| v.as_str() <= o),
        None => 0,
    };
    let mut rest: Vec<String> = values.into_iter().skip(start).collect();
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next = if more { rest.last().cloned() } else { None };
    (rest, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dimensions_like_upstream() {
        let q = Query::parse(Some("dimensions=a:1,b,c:x%7Cy&dimensions=a:2"));
        let d = q.dimensions().unwrap_or_default();
        assert_eq!(
            d,
            vec![
                ("a".to_string(), DimMatch::AnyOf(vec!["2".into()])),
                ("b".to_string(), DimMatch::Exists),
                (
                    "c".to_string(),
                    DimMatch::AnyOf(vec!["x".into(), "y".into()])
                ),
            ]
        );
        assert!(Query::parse(Some("dimensions=_a:1")).dimensions().is_err());
        assert!(
            Query::parse(Some("dimensions=a:x%7C%7Cy"))
                .dimensions()
                .is_err()
        );
        assert!(
            Query::parse(Some("dimensions=a:%3Cb"))
                .dimensions()
                .is_err()
        );
    }

    #[test]
    fn links_requote_and_replace_offset() {
        let q = Query::parse(Some("name=cpu&dimensions=a%3Ab&offset=3&limit=2"));
        let l = q.links("http://h/v2.0/metrics", Some("5"));
        assert_eq!(
            l[0].href,
            "http://h/v2.0/metrics?name=cpu&dimensions=a%3Ab&offset=3&limit=2"
        );
        assert_eq!(
            l[1].href,
            "http://h/v2.0/metrics?offset=5&name=cpu&dimensions=a%3Ab&limit=2"
        );
    }

    #[test]
    fn limits_and_flags() {
        assert_eq!(
            Query::parse(Some("limit=20000")).limit().ok(),
            Some(PAGE_LIMIT)
        );
        assert!(Query::parse(Some("limit=-1")).limit().is_err());
        assert!(Query::parse(Some("merge_metrics=True")).merge_metrics());
        assert!(!Query::parse(Some("merge_metrics=false")).merge_metrics());
        assert!(Query::parse(Some("period=0")).period().is_err());
        assert_eq!(Query::parse(None).period().ok(), Some(300));
    }

    #[test]
    fn names_page_after_the_offset() {
        let v: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            page_names(v.clone(), None, 2),
            (vec!["a".into(), "b".into()], Some("b".into()))
        );
        assert_eq!(
            page_names(v.clone(), Some("b"), 2),
            (vec!["c".into(), "d".into()], None)
        );
        assert_eq!(
            page_names(v, Some("bb"), 5).0,
            vec!["c".to_string(), "d".into()]
        );
    }
}

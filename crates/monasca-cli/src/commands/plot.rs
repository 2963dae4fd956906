//! `--plot` of measurement-list and metric-statistics (a Vigil extension): the elements as
//! chart series, one per metric (`name{dimension="value", ...}`) and, for statistics, one per
//! statistic and metric (`avg(name{...})`).

use monasca::types::{Measurements, Statistics};
use serde_json::Value;

use cli_kit::plot::{Series, series_name};

/// Epoch milliseconds of an API timestamp (`2026-01-01T00:00:00.000Z`).
fn ms(timestamp: &str) -> Option<i64> {
    timestamp
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

pub fn measurements(elements: &[Measurements]) -> Vec<Series> {
    elements
        .iter()
        .map(|m| {
            let points = m
                .measurements
                .iter()
                .filter_map(|r| Some((ms(&r.0)?, r.1)))
                .collect();
            Series::new(series_name(&m.name, &m.dimensions), points)
        })
        .collect()
}

pub fn statistics(elements: &[Statistics]) -> Vec<Series> {
    let mut out = Vec::new();
    for s in elements {
        let name = series_name(&s.name, &s.dimensions);
        // Column 0 is the timestamp; each other column is one statistic.
        for (col, stat) in s.columns.iter().enumerate().skip(1) {
            let points = s
                .statistics
                .iter()
                .filter_map(|row| {
                    let t = ms(row.first().and_then(Value::as_str)?)?;
                    Some((t, row.get(col).and_then(Value::as_f64)?))
                })
                .collect();
            out.push(Series::new(format!("{stat}({name})"), points));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn one_series_per_statistic_and_metric() {
        let s: Statistics = serde_json::from_value(serde_json::json!({
            "id": "1", "name": "cpu", "dimensions": {"host": "h1"},
            "columns": ["timestamp", "avg", "max"],
            "statistics": [["2026-01-01T00:00:00Z", 1.0, 2.0], ["2026-01-01T00:01:00.000Z", 3, 4]]
        }))
        .unwrap();
        let got = statistics(&[s]);
        let names: Vec<&str> = got.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(names, [r#"avg(cpu{host="h1"})"#, r#"max(cpu{host="h1"})"#]);
        let t0 = 1_767_225_600_000;
        assert_eq!(got[1].points, [(t0, 2.0), (t0 + 60_000, 4.0)]);
    }
}

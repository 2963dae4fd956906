//! Tables (comfy-table) and `--json`. Tables show the time fields a caller names as ISO-8601
//! instants and spans (see [`crate::times`]); JSON stays exactly what the API sent.

use cli_kit::presets::UTF8_FULL_CONDENSED;
pub use cli_kit::{json, print};
use serde::Serialize;
use serde_json::Value;

use crate::times::{self, Unit};

/// How to print: the global `--json`, `--csv` and `--local` flags.
#[derive(Clone, Copy, Debug, Default)]
pub struct Format {
    pub json: bool,
    /// Lists as CSV rather than tables.
    pub csv: bool,
    /// Instants in the local time zone instead of UTC.
    pub local: bool,
}

/// One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(headers: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: Vec<String>| cells.join(",");
    let mut out = vec![line(headers.iter().map(|h| csv_field(h)).collect())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(|c| csv_field(c)).collect())),
    );
    out.join("\n")
}

/// The fields of one kind of object that hold times, and what their numbers count.
pub type Times = &'static [(&'static str, Unit)];

/// A table cell: strings bare, `null` empty, the rest as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Format {
    /// The cell of field `key`: a time when `times` names it and it holds an integer.
    fn cell(self, key: &str, v: &Value, times: Times) -> String {
        let unit = times.iter().find(|(k, _)| *k == key).map(|(_, u)| *u);
        unit.zip(v.as_i64())
            .and_then(|(u, n)| times::render(n, u, self.local))
            .unwrap_or_else(|| cell(v))
    }

    /// One row per item with the given JSON keys as columns.
    pub fn list<T: Serialize>(
        self,
        items: &[T],
        columns: &[&str],
        times: Times,
    ) -> anyhow::Result<String> {
        let mut rows = Vec::with_capacity(items.len());
        for item in items {
            let v = serde_json::to_value(item)?;
            rows.push(
                columns
                    .iter()
                    .map(|c| self.cell(c, &v[*c], times))
                    .collect(),
            );
        }
        if self.csv {
            return Ok(csv(columns, &rows));
        }
        Ok(table(columns, rows))
    }

    /// A `Field | Value` table of one object, in the object's key order.
    pub fn show<T: Serialize>(self, object: &T, times: Times) -> anyhow::Result<String> {
        let v = serde_json::to_value(object)?;
        let Value::Object(m) = v else {
            return Ok(cell(&v));
        };
        let rows = m
            .iter()
            .map(|(k, v)| vec![k.clone(), self.cell(k, v, times)])
            .collect();
        Ok(table(&["Field", "Value"], rows))
    }
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    cli_kit::table(UTF8_FULL_CONDENSED, headers, rows)
}

/// Prints a list as a table or, with `--json`, as JSON.
pub fn print_list<T: Serialize>(
    f: Format,
    items: &[T],
    columns: &[&str],
    times: Times,
) -> anyhow::Result<()> {
    if f.json {
        print(&json(&items)?)
    } else {
        print(&f.list(items, columns, times)?)
    }
}

/// Prints one object as a `Field | Value` table or, with `--json`, as JSON.
pub fn print_one<T: Serialize>(f: Format, item: &T, times: Times) -> anyhow::Result<()> {
    if f.json {
        print(&json(item)?)
    } else {
        print(&f.show(item, times)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it() {
        let f = Format {
            csv: true,
            ..Format::default()
        };
        let t = f
            .list(
                &[serde_json::json!({"a": "x,y", "b": "say \"hi\"", "c": 3})],
                &["a", "b", "c"],
                &[],
            )
            .unwrap();
        assert_eq!(t, "a,b,c\n\"x,y\",\"say \"\"hi\"\"\",3");
    }

    #[test]
    fn renders_cells() {
        assert_eq!(cell(&serde_json::json!(null)), "");
        assert_eq!(cell(&serde_json::json!(["a"])), "[\"a\"]");
        let t = Format::default().list(
            &[serde_json::json!({"id": 1, "name": "x", "on": true})],
            &["id", "name", "on"],
            &[],
        );
        assert!(t.unwrap_or_default().contains("│ 1  ┆ x    ┆ true │"));
    }

    #[test]
    fn renders_named_time_fields_only() {
        const TIMES: Times = &[("at", Unit::EpochMs), ("for", Unit::SpanUs)];
        let item = serde_json::json!({
            "at": 1_704_164_645_000_i64, "for": 5_400_000_000_i64,
            "other": 1_704_164_645_000_i64, "bad": "soon"
        });
        let t = Format::default()
            .list(std::slice::from_ref(&item), &["at", "for", "other"], TIMES)
            .unwrap();
        assert!(
            t.contains("│ 2024-01-02T03:04:05Z ┆ 1h30m ┆ 1704164645000 │"),
            "{t}"
        );
        let shown = Format::default().show(&item, TIMES).unwrap();
        assert!(shown.contains("│ for   ┆ 1h30m"), "{shown}");
        // A time field that holds no number is shown as it is.
        let odd = serde_json::json!({"at": "soon"});
        assert!(
            Format::default()
                .show(&odd, TIMES)
                .unwrap()
                .contains("soon")
        );
    }
}

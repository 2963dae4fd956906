//! Tables (comfy-table) and `--json`.

use cli_kit::presets::UTF8_FULL_CONDENSED;
pub use cli_kit::{json, print};
use serde::Serialize;
use serde_json::Value;

/// A table cell: strings bare, `null` empty, the rest as compact JSON.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    cli_kit::table(UTF8_FULL_CONDENSED, headers, rows)
}

/// One row per item with the given JSON keys as columns.
pub fn list<T: Serialize>(items: &[T], columns: &[&str]) -> anyhow::Result<String> {
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let v = serde_json::to_value(item)?;
        rows.push(columns.iter().map(|c| cell(&v[*c])).collect());
    }
    Ok(table(columns, rows))
}

/// A `Field | Value` table of one object, in the object's key order.
pub fn show<T: Serialize>(object: &T) -> anyhow::Result<String> {
    let v = serde_json::to_value(object)?;
    let Value::Object(m) = v else {
        return Ok(cell(&v));
    };
    let rows = m.iter().map(|(k, v)| vec![k.clone(), cell(v)]).collect();
    Ok(table(&["Field", "Value"], rows))
}

/// Prints a list as a table or, with `--json`, as JSON.
pub fn print_list<T: Serialize>(
    json_out: bool,
    items: &[T],
    columns: &[&str],
) -> anyhow::Result<()> {
    if json_out {
        print(&json(&items)?)
    } else {
        print(&list(items, columns)?)
    }
}

/// Prints one object as a `Field | Value` table or, with `--json`, as JSON.
pub fn print_one<T: Serialize>(json_out: bool, item: &T) -> anyhow::Result<()> {
    if json_out {
        print(&json(item)?)
    } else {
        print(&show(item)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_cells() {
        assert_eq!(cell(&serde_json::json!(null)), "");
        assert_eq!(cell(&serde_json::json!(["a"])), "[\"a\"]");
        let t = list(
            &[serde_json::json!({"id": 1, "name": "x", "on": true})],
            &["id", "name", "on"],
        );
        assert!(t.unwrap_or_default().contains("│ 1  ┆ x    ┆ true │"));
    }
}

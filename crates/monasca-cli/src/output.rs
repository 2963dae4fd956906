//! Output as python-monascaclient prints it: prettytable-style tables, or the `elements` as
//! indented JSON with `-j`.

use cli_kit::{LineStyle, presets::ASCII_FULL_CONDENSED};
pub use cli_kit::{json, print};
use serde::Serialize;
use serde_json::Value;

/// A table with `+---+` borders, a `+---+` header rule and left-aligned cells.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        // cliff-era monascaclient prints nothing but a newline for an empty list.
        return String::new();
    }
    cli_kit::table(
        ASCII_FULL_CONDENSED.header_separator(LineStyle::new('+', '-', '+', '+')),
        headers,
        rows,
    )
}

/// The response of a create/update/patch as the real CLI prints it:
/// `jsonutils.dumps(response, indent=2)`, which escapes non-ASCII (`ensure_ascii=True`).
pub fn json_ascii<T: Serialize>(response: &T) -> anyhow::Result<String> {
    let pretty = serde_json::to_string_pretty(response)?;
    // Outside strings JSON text is ASCII, so every other character sits inside a string.
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    Ok(out)
}

/// How a show command formats one property's value.
pub enum ValueFormat {
    /// `json.dumps(v, indent=2)`: strings quoted, lists and objects over several lines.
    Json,
    /// The `links` list: each object's `k:v` pairs with sorted keys, joined by `,`; one object
    /// per line.
    DictList,
    /// Python's `str()`.
    Str,
}

/// A show command's `Property | Value` table, rows sorted by property, each value formatted
/// by `format(key)`.
pub fn show<T: Serialize>(
    object: &T,
    format: impl Fn(&str) -> ValueFormat,
) -> anyhow::Result<String> {
    let Value::Object(m) = serde_json::to_value(object)? else {
        anyhow::bail!("expected a JSON object to show");
    };
    let mut rows = Vec::with_capacity(m.len());
    for (k, v) in &m {
        let cell = match format(k) {
            ValueFormat::Json => serde_json::to_string_pretty(v)?,
            ValueFormat::DictList => dict_list(v),
            ValueFormat::Str => py_str(v),
        };
        rows.push(vec![k.clone(), cell]);
    }
    rows.sort();
    Ok(table(&["Property", "Value"], rows))
}

/// `format_dictlist`: `href:http://…,rel:self`, one object per line.
pub fn dict_list(v: &Value) -> String {
    let Value::Array(items) = v else {
        return py_str(v);
    };
    items
        .iter()
        .map(|item| match item {
            Value::Object(m) => {
                let mut pairs: Vec<(&String, String)> =
                    m.iter().map(|(k, v)| (k, py_str(v))).collect();
                pairs.sort();
                pairs
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            }
            other => py_str(other),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Python's `str()` of a JSON value inside a cell.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// A dict cell: `key: value`, one pair per line.
pub fn dict_lines<'a>(pairs: impl IntoIterator<Item = (&'a String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Python's `'{:12.3f}'.format(v)`.
pub fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => format!("{x:12.3}"),
        None => py_str(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_prettytable() {
        let t = table(
            &["name", "dimensions"],
            vec![
                vec![
                    "cpu.idle_perc".into(),
                    "hostname: web1\nservice: compute".into(),
                ],
                vec!["no.dims".into(), String::new()],
            ],
        );
        assert_eq!(
            t,
            "+---------------+------------------+\n\
             | name          | dimensions       |\n\
             +---------------+------------------+\n\
             | cpu.idle_perc | hostname: web1   |\n\
             |               | service: compute |\n\
             | no.dims       |                  |\n\
             +---------------+------------------+"
        );
        assert_eq!(table(&["Name"], vec![]), "");
        assert_eq!(
            json_ascii(&serde_json::json!({"d": "d é 😀", "n": null})).unwrap_or_default(),
            "{\n  \"d\": \"d \\u00e9 \\ud83d\\ude00\",\n  \"n\": null\n}"
        );
        assert_eq!(
            dict_list(
                &serde_json::json!([{"rel": "self", "href": "http://h/1"}, {"b": 1, "a": true}])
            ),
            "href:http://h/1,rel:self\na:True,b:1"
        );
        assert_eq!(number(&serde_json::json!(97.5)), "      97.500");
        assert_eq!(number(&serde_json::json!(-0.0005)), "      -0.001");
    }
}

//! Output as python-monascaclient prints it: prettytable-style tables, or the `elements` as
//! indented JSON with `-j`.

use anyhow::bail;
use cli_kit::{LineStyle, TableStyle, presets::ASCII_FULL_CONDENSED};
pub use cli_kit::{json, print};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::cli::{Format, Output};

/// `-q`: confirmations such as "Successfully created metric" are left out.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sets `-q` for the whole run.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

/// Prints a confirmation unless `-q` was given.
///
/// # Errors
/// stdout cannot be written.
pub fn done(message: &str) -> anyhow::Result<()> {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    print(message)
}

/// prettytable's look: `+---+` borders and a `+---+` rule under the header.
const PRETTY: TableStyle =
    ASCII_FULL_CONDENSED.header_separator(LineStyle::new('+', '-', '+', '+'));

/// A table with `+---+` borders, a `+---+` header rule and left-aligned cells.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    if rows.is_empty() {
        // cliff-era monascaclient prints nothing but a newline for an empty list.
        return String::new();
    }
    cli_kit::table(PRETTY, headers, rows)
}

impl Output {
    /// Prints a list command's rows in the chosen format, keeping the `-c` columns.
    ///
    /// # Errors
    /// No `-c` column names one of `headers`; stdout cannot be written.
    pub fn print_rows(&self, headers: &[&str], rows: Vec<Vec<String>>) -> anyhow::Result<()> {
        let (headers, rows) = self.select(headers, rows)?;
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let text = match self.format {
            Format::Table => match self.max_width.filter(|w| *w > 0) {
                Some(_) if rows.is_empty() => String::new(),
                Some(w) => cli_kit::table_within(
                    PRETTY,
                    u16::try_from(w).unwrap_or(u16::MAX),
                    &headers,
                    rows,
                ),
                None => table(&headers, rows),
            },
            Format::Json | Format::Yaml => {
                let list: Vec<Map<String, Value>> = rows
                    .into_iter()
                    .map(|r| {
                        headers
                            .iter()
                            .map(|h| h.to_string())
                            .zip(r.into_iter().map(Value::String))
                            .collect()
                    })
                    .collect();
                self.structured(&list)?
            }
            Format::Value => rows
                .iter()
                .map(|r| r.join(" "))
                .collect::<Vec<_>>()
                .join("\n"),
            Format::Csv => csv(&headers, &rows),
        };
        print(&text)
    }

    /// Prints one object (a show command): `Property | Value` rows formatted by `format`, or
    /// the object's fields as they are for `json`/`yaml`.
    ///
    /// # Errors
    /// Not an object; no `-c` column names a field; stdout cannot be written.
    pub fn print_object<T: Serialize>(
        &self,
        object: &T,
        format: impl Fn(&str) -> ValueFormat,
    ) -> anyhow::Result<()> {
        let Value::Object(m) = serde_json::to_value(object)? else {
            bail!("expected a JSON object to show");
        };
        let mut fields: Vec<(String, Value)> = m.into_iter().collect();
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        if !self.columns.is_empty() {
            let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            let keep: Vec<String> = self
                .known_columns(&names)?
                .into_iter()
                .map(str::to_string)
                .collect();
            fields.retain(|(k, _)| keep.contains(k));
        }
        let text = match self.format {
            Format::Table => {
                let mut rows = Vec::with_capacity(fields.len());
                for (k, v) in &fields {
                    rows.push(vec![k.clone(), cell(v, format(k))?]);
                }
                table(&["Property", "Value"], rows)
            }
            Format::Json | Format::Yaml => {
                let obj: Map<String, Value> = fields.into_iter().collect();
                self.structured(&obj)?
            }
            Format::Value => {
                let mut lines = Vec::with_capacity(fields.len());
                for (k, v) in &fields {
                    lines.push(cell(v, format(k))?);
                }
                lines.join("\n")
            }
            Format::Csv => {
                let headers: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                let mut row = Vec::with_capacity(fields.len());
                for (k, v) in &fields {
                    row.push(cell(v, format(k))?);
                }
                csv(&headers, &[row])
            }
        };
        print(&text)
    }

    fn structured<T: Serialize>(&self, v: &T) -> anyhow::Result<String> {
        Ok(match (self.format, self.noindent) {
            (Format::Yaml, _) => serde_saphyr::to_string(v)?.trim_end().to_string(),
            (_, true) => serde_json::to_string(v)?,
            (_, false) => serde_json::to_string_pretty(v)?,
        })
    }

    /// The `-c` columns that name one of `available`, in the order of `available` (as cliff
    /// keeps them); none at all is an error that lists what exists.
    fn known_columns<'a>(&self, available: &[&'a str]) -> anyhow::Result<Vec<&'a str>> {
        let keep: Vec<&str> = available
            .iter()
            .copied()
            .filter(|h| self.columns.iter().any(|c| c == h))
            .collect();
        if keep.is_empty() {
            bail!(
                "no recognized column names in {:?}; the columns are {:?}",
                self.columns,
                available
            );
        }
        Ok(keep)
    }

    fn select(
        &self,
        headers: &[&str],
        rows: Vec<Vec<String>>,
    ) -> anyhow::Result<(Vec<String>, Vec<Vec<String>>)> {
        if self.columns.is_empty() {
            return Ok((headers.iter().map(|h| h.to_string()).collect(), rows));
        }
        let keep = self.known_columns(headers)?;
        let idx: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| keep.contains(h))
            .map(|(i, _)| i)
            .collect();
        let rows = rows
            .into_iter()
            .map(|r| {
                idx.iter()
                    .map(|i| r.get(*i).cloned().unwrap_or_default())
                    .collect()
            })
            .collect();
        Ok((keep.iter().map(|h| h.to_string()).collect(), rows))
    }
}

fn cell(v: &Value, format: ValueFormat) -> anyhow::Result<String> {
    Ok(match format {
        ValueFormat::Json => serde_json::to_string_pretty(v)?,
        ValueFormat::DictList => dict_list(v),
        ValueFormat::Str => py_str(v),
    })
}

/// Python's `csv` with `QUOTE_NONNUMERIC` over text cells: every field quoted, quotes doubled.
fn csv<H: AsRef<str>>(headers: &[H], rows: &[Vec<String>]) -> String {
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        cells
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = vec![line(&mut headers.iter().map(AsRef::as_ref))];
    out.extend(rows.iter().map(|r| line(&mut r.iter().map(String::as_str))));
    out.join("\n")
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

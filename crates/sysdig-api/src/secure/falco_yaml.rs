//! Falco rules files: parsed (YAML, `serde-saphyr`) and checked before they are stored, and
//! the rules, macros and lists they define, so that `…/groups?name=` and policies find them.
//! A file is a sequence of items, each a mapping with one of `rule`, `macro`, `list` (or
//! `required_engine_version` and the like, which define nothing); a refusal names the line.

use serde_json::{Map, Value};
use serde_saphyr::Spanned;

/// What an item defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Rule,
    Macro,
    List,
}

impl ItemKind {
    fn key(self) -> &'static str {
        match self {
            Self::Rule => "rule",
            Self::Macro => "macro",
            Self::List => "list",
        }
    }
}

/// One rule, macro or list a file defines.
#[derive(Clone, Debug, PartialEq)]
pub struct Defined {
    pub kind: ItemKind,
    pub name: String,
    /// The item as written.
    pub item: Map<String, Value>,
    /// 1-based.
    pub line: u64,
}

/// Keys that say what a file needs, not what it defines.
const META_KEYS: &[&str] = &["required_engine_version", "required_plugin_versions"];

/// The items `text` defines, in order.
///
/// # Errors
/// `line N: …` for YAML that does not parse or items of the wrong shape.
pub fn parse(text: &str) -> Result<Vec<Defined>, String> {
    let items: Option<Vec<Spanned<Value>>> =
        serde_saphyr::from_str(text).map_err(|e| one_line(&e.to_string()))?;
    let mut out = Vec::new();
    for item in items.unwrap_or_default() {
        let line = item.referenced.line();
        let at = |msg: String| format!("line {line}: {msg}");
        let Value::Object(m) = item.value else {
            return Err(at(
                "each item must be a mapping with 'rule', 'macro' or 'list'".into(),
            ));
        };
        let kind = [ItemKind::Rule, ItemKind::Macro, ItemKind::List]
            .into_iter()
            .find(|k| m.contains_key(k.key()));
        let Some(kind) = kind else {
            if META_KEYS.iter().any(|k| m.contains_key(*k)) {
                continue;
            }
            return Err(at("an item must have 'rule', 'macro' or 'list'".into()));
        };
        let name = match m.get(kind.key()) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => return Err(at(format!("'{}' must be a non-empty string", kind.key()))),
        };
        let append = m.get("append").and_then(Value::as_bool) == Some(true);
        let text_field = |k: &str| m.get(k).is_some_and(Value::is_string);
        match kind {
            ItemKind::List => {
                if !m.get("items").is_some_and(Value::is_array) {
                    return Err(at(format!("list '{name}' needs 'items', a sequence")));
                }
            }
            ItemKind::Macro => {
                if !text_field("condition") {
                    return Err(at(format!("macro '{name}' needs a 'condition'")));
                }
            }
            ItemKind::Rule => {
                // A rule that appends to another, or only switches one on or off, needs no
                // more; a new rule needs all three.
                let override_only =
                    append || m.contains_key("enabled") && !m.contains_key("condition");
                if !override_only {
                    for k in ["condition", "output"] {
                        if !text_field(k) {
                            return Err(at(format!("rule '{name}' needs '{k}', a string")));
                        }
                    }
                    if !m.contains_key("desc") || !m.contains_key("priority") {
                        return Err(at(format!("rule '{name}' needs 'desc' and 'priority'")));
                    }
                }
            }
        }
        out.push(Defined {
            kind,
            name,
            item: m,
            line,
        });
    }
    Ok(out)
}

/// The parser's message without the snippet it draws under it.
fn one_line(msg: &str) -> String {
    let first = msg
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(msg);
    let first = first.split(" --> ").next().unwrap_or(first);
    // Advice to the parser's caller (which option to set) is not for the client.
    let first = first.split(", set ").next().unwrap_or(first);
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// A YAML scalar as the API's strings show it (`80` in a list of ports is `"80"`).
fn text(v: &Value) -> Value {
    match v {
        Value::String(_) => v.clone(),
        Value::Null => Value::String(String::new()),
        Value::Bool(_) | Value::Number(_) => Value::String(v.to_string()),
        other => Value::String(other.to_string()),
    }
}

/// A sequence of scalars as strings; anything else as an empty list.
fn texts(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Array(a)) => Value::Array(a.iter().map(text).collect()),
        _ => Value::Array(Vec::new()),
    }
}

fn appends(d: &Defined) -> bool {
    d.item.get("append").and_then(Value::as_bool) == Some(true)
}

/// A rule defined in a file as the rules API shows it (no id: it is no object of its own).
pub fn rule_view(d: &Defined, file: &str) -> Value {
    let s = |k: &str| d.item.get(k).cloned().unwrap_or(Value::Null);
    let mut details = Map::new();
    details.insert("ruleType".into(), "FALCO".into());
    details.insert(
        "condition".into(),
        serde_json::json!({"condition": s("condition"), "components": []}),
    );
    details.insert("output".into(), s("output"));
    details.insert("priority".into(), s("priority"));
    details.insert(
        "source".into(),
        d.item
            .get("source")
            .cloned()
            .unwrap_or_else(|| "syscall".into()),
    );
    details.insert("append".into(), Value::Bool(appends(d)));
    serde_json::json!({
        "name": d.name,
        "description": text(d.item.get("desc").unwrap_or(&Value::Null)),
        "tags": texts(d.item.get("tags")),
        "details": details,
        "filename": file,
    })
}

/// A macro or list defined in a file as its API shows it.
pub fn macro_or_list_view(d: &Defined, file: &str) -> Value {
    let append = Value::Bool(appends(d));
    match d.kind {
        ItemKind::List => serde_json::json!({
            "name": d.name,
            "items": {"items": texts(d.item.get("items"))},
            "append": append,
            "filename": file,
        }),
        _ => serde_json::json!({
            "name": d.name,
            "condition": {"condition": text(d.item.get("condition").unwrap_or(&Value::Null)), "components": []},
            "append": append,
            "filename": file,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_lines_of_what_a_file_defines() {
        let text = "# comment\n- required_engine_version: 2\n- list: shells\n  items: [bash, sh]\n- macro: spawned\n  condition: evt.type = execve\n- rule: Shell\n  desc: d\n  condition: spawned and proc.name in (shells)\n  output: x\n  priority: WARNING\n- rule: Shell\n  append: true\n  condition: and user.name = root\n";
        let d = parse(text).unwrap();
        let got: Vec<_> = d
            .iter()
            .map(|d| (d.kind, d.name.as_str(), d.line))
            .collect();
        assert_eq!(
            got,
            vec![
                (ItemKind::List, "shells", 3),
                (ItemKind::Macro, "spawned", 5),
                (ItemKind::Rule, "Shell", 7),
                (ItemKind::Rule, "Shell", 12),
            ]
        );
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# only a comment\n").unwrap().is_empty());
        assert_eq!(rule_view(&d[2], "f")["details"]["priority"], "WARNING");
        let ports = parse("- list: ports\n  items: [80, 443]\n").unwrap();
        assert_eq!(
            macro_or_list_view(&ports[0], "f")["items"]["items"],
            serde_json::json!(["80", "443"])
        );
    }

    #[test]
    fn refusals_name_the_line() {
        let e = parse("- list: a\n  items: [a\n").unwrap_err();
        assert_eq!(e, "line 2 column 10: unclosed bracket '['");
        assert!(e.contains("line"), "{e}");
        assert!(!e.contains('\n'));
        let e = parse("- list: a\n  items: [a]\n- macro: m\n").unwrap_err();
        assert_eq!(e, "line 3: macro 'm' needs a 'condition'");
        let e = parse("- rule: r\n  desc: d\n  condition: c\n  priority: INFO\n").unwrap_err();
        assert_eq!(e, "line 1: rule 'r' needs 'output', a string");
        assert_eq!(
            parse("- a: 1\n  a: 2\n").unwrap_err(),
            "line 2 column 3: duplicate mapping key: a"
        );
        assert_eq!(
            parse("a: 1\n").unwrap_err(),
            "line 1 column 1: expected sequence start"
        );
        assert!(parse("a: 1\n").is_err());
        assert!(parse("- 1\n").is_err());
    }
}

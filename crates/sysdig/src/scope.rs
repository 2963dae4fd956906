//! The dashboard scope string (`kubernetes.namespace.name in [prod, dev] and host.hostName =
//! web1`) parsed into a v3 `scopeExpressionList`, with the grammar of sdcclient's
//! `convert_scope_string_to_expression`. Unlike sdcclient, quoted items inside a list lose
//! their quotes (sdcclient leaks them as separate values).
//!
//! ```
//! let e = sysdig::scope::parse("agent.id = 'foo' and host.mac in [a, b]").unwrap();
//! assert_eq!(e[0].operator, "equals");
//! assert_eq!(e[1].value, vec!["a", "b"]);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Result};

/// One element of a dashboard's `scopeExpressionList`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScopeExpression {
    pub display_name: String,
    pub is_variable: bool,
    pub operand: String,
    /// `equals`, `notEquals`, `contains`, `notContains`, `startsWith`, `in`, `notIn`.
    pub operator: String,
    pub value: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ScopeExpression {
    /// Whether an entity whose `operand` has `value` (`None`: the entity has no such label) is
    /// in this scope. An entity without the label is outside every positive operator and
    /// inside every negative one (`notEquals`, `notContains`, `notIn`); an unknown operator
    /// selects nothing.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let any = |f: &dyn Fn(&str, &str) -> bool| {
            value.is_some_and(|v| self.value.iter().any(|want| f(v, want)))
        };
        match self.operator.as_str() {
            "equals" | "in" => any(&|v, w| v == w),
            "notEquals" | "notIn" => !any(&|v, w| v == w),
            "contains" => any(&|v, w| v.contains(w)),
            "notContains" => !any(&|v, w| v.contains(w)),
            "startsWith" => any(&|v, w| v.starts_with(w)),
            _ => false,
        }
    }
}

/// Operators as written, longest first so `is not` wins over `is`, with their API names and
/// whether they take a list.
const OPERATORS: [(&str, &str, bool); 8] = [
    ("does not contain", "notContains", false),
    ("starts with", "startsWith", false),
    ("is not", "notEquals", false),
    ("not in", "notIn", true),
    ("contains", "contains", false),
    ("is", "equals", false),
    ("in", "in", true),
    ("=", "equals", false),
];

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Parses a scope string; empty means no scope.
///
/// # Errors
/// `invalid scope: <part>, <what is wrong>` for the first part that does not parse.
pub fn parse(scope: &str) -> Result<Vec<ScopeExpression>> {
    if scope.trim().is_empty() {
        return Ok(Vec::new());
    }
    scope
        .split(" and ")
        .map(|part| {
            parse_part(part.trim())
                .map_err(|why| Error::Invalid(format!("invalid scope: {part}, {why}")))
        })
        .collect()
}

fn parse_part(part: &str) -> std::result::Result<ScopeExpression, String> {
    let end = part.find(|c| !is_word_char(c)).unwrap_or(part.len());
    let operand = &part[..end];
    if operand.is_empty() {
        return Err("expected an operand (letters, digits, '_', '-', '.')".into());
    }
    let rest = part[end..].trim_start();
    let Some((text, operator, list)) = OPERATORS.iter().find_map(|(text, op, list)| {
        let after = rest.strip_prefix(text)?;
        // Word operators must end at a space; `=` may touch its value.
        let bounded = *text == "=" || after.starts_with(' ');
        bounded.then_some((*text, *op, *list))
    }) else {
        return Err(format!(
            "expected an operator after '{operand}' (=, is, is not, in, not in, contains, does not contain, starts with)"
        ));
    };
    let value_text = rest[text.len()..].trim();
    let value = if list && value_text.starts_with('[') {
        let Some(inner) = value_text
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
        else {
            return Err("expected ']' at the end of the list".into());
        };
        inner
            .split(',')
            .map(|item| word(item.trim()))
            .collect::<std::result::Result<Vec<_>, _>>()?
    } else {
        vec![word(value_text)?]
    };
    Ok(ScopeExpression {
        operand: operand.into(),
        operator: operator.into(),
        value,
        ..Default::default()
    })
}

/// A bare word or one in single or double quotes.
fn word(v: &str) -> std::result::Result<String, String> {
    let inner = ['\'', '"']
        .iter()
        .find_map(|q| v.strip_prefix(*q).and_then(|x| x.strip_suffix(*q)))
        .unwrap_or(v);
    if inner.is_empty() || !inner.chars().all(is_word_char) {
        return Err(format!(
            "expected a value of letters, digits, '_', '-', '.' (optionally quoted), got '{v}'"
        ));
    }
    Ok(inner.to_string())
}

/// The value of Sysdig label `label` on a series whose labels (Monasca dimensions) are `dims`,
/// as Vigil maps one onto the other: the dimension of the same name when the series has one
/// (`hostname`, `region` work as written); otherwise `host.hostName` reads `hostname` (the
/// dimension Monasca agents name the host with) and `agent.tag.<key>` reads `<key>` (Sysdig's
/// agent tags are free key-value pairs, as Monasca dimensions are).
pub fn label_value<'a>(dims: &'a BTreeMap<String, String>, label: &str) -> Option<&'a str> {
    let alias = match label {
        "host.hostName" => Some("hostname"),
        _ => label.strip_prefix("agent.tag."),
    };
    dims.get(label)
        .or_else(|| alias.and_then(|key| dims.get(key)))
        .map(String::as_str)
}

/// Whether a series with `dims` is in `scope` (every expression holds, labels read with
/// [`label_value`]).
pub fn in_scope(dims: &BTreeMap<String, String>, scope: &[ScopeExpression]) -> bool {
    scope
        .iter()
        .all(|e| e.matches(label_value(dims, &e.operand)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(s: &str) -> Vec<(String, String, Vec<String>)> {
        parse(s)
            .unwrap()
            .into_iter()
            .map(|e| (e.operand, e.operator, e.value))
            .collect()
    }

    #[test]
    fn parses_every_operator() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ops(
                "a = b and c is 'd' and e is not \"f\" and g contains h and i does not contain j and k starts with l"
            ),
            vec![
                ("a".into(), "equals".into(), v(&["b"])),
                ("c".into(), "equals".into(), v(&["d"])),
                ("e".into(), "notEquals".into(), v(&["f"])),
                ("g".into(), "contains".into(), v(&["h"])),
                ("i".into(), "notContains".into(), v(&["j"])),
                ("k".into(), "startsWith".into(), v(&["l"])),
            ]
        );
        assert_eq!(
            ops("kubernetes.namespace.name in [prod, 'dev-1'] and x not in y"),
            vec![
                (
                    "kubernetes.namespace.name".into(),
                    "in".into(),
                    v(&["prod", "dev-1"])
                ),
                ("x".into(), "notIn".into(), v(&["y"])),
            ]
        );
        assert!(parse("").unwrap().is_empty());
        let json = serde_json::to_value(&parse("agent.id = foo").unwrap()[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"displayName":"","isVariable":false,"operand":"agent.id","operator":"equals","value":["foo"]})
        );
    }

    #[test]
    fn matches_values() {
        let e = |s: &str| parse(s).unwrap().remove(0);
        assert!(e("a in [x, y]").matches(Some("y")));
        assert!(!e("a in [x, y]").matches(Some("z")));
        assert!(!e("a = x").matches(None));
        assert!(e("a is not x").matches(None));
        assert!(!e("a not in [x, y]").matches(Some("x")));
        assert!(e("a contains eb").matches(Some("web1")));
        assert!(e("a does not contain db").matches(Some("web1")));
        assert!(e("a starts with we").matches(Some("web1")));
        assert!(!e("a starts with eb").matches(Some("web1")));
    }

    #[test]
    fn rejects_what_sdcclient_rejects() {
        for bad in [
            "foobarbaz",
            "a != b",
            "a = foo/bar",
            "a = 'foo bar'",
            "a in (x, y)",
            "a in [x, y",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid scope: {bad}, ")), "{e}");
        }
    }
}

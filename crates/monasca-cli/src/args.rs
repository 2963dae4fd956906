//! Argument conventions of python-monascaclient: `key=value` lists and relative start times.

use anyhow::{Result, bail};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

/// Splits `--dimensions` occurrences as the real CLI does: a single occurrence is split on `;`
/// if it has one, else on `,`; several occurrences are taken whole.
fn items(occurrences: &[String]) -> Vec<&str> {
    match occurrences {
        [one] if one.contains(';') => one.split(';').collect(),
        [one] => one.split(',').collect(),
        many => many.iter().map(String::as_str).collect(),
    }
}

/// A query filter: `k=v` filters on a value, `k` or `k=` on the key alone. The last value of a
/// repeated key wins, in the key's first position.
pub fn query_dimensions(occurrences: &[String]) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for item in items(occurrences) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        push_filter(&mut out, k, v);
    }
    out
}

/// As [`query_dimensions`], but every item must be `key=value` (`k=` still selects the key
/// alone): the real CLI parses alarm-history-list's `--dimensions` like metric-create's.
pub fn strict_query_dimensions(occurrences: &[String]) -> Result<Vec<(String, Option<String>)>> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for item in items(occurrences) {
        let Some((k, v)) = item.split_once('=') else {
            bail!("Malformed parameter({item}). Use the key=value format.");
        };
        push_filter(&mut out, k, v);
    }
    Ok(out)
}

fn push_filter(out: &mut Vec<(String, Option<String>)>, k: &str, v: &str) {
    let v = (!v.is_empty()).then(|| v.to_string());
    match out.iter_mut().find(|(ek, _)| ek == k) {
        Some(e) => e.1 = v,
        None => out.push((k.to_string(), v)),
    }
}

/// Filters as one `k1:v1,k2` query value (`dimensions`, `metric_dimensions`); `None` when
/// there is nothing to send.
pub fn dimensions_param(filters: &[(String, Option<String>)]) -> Option<String> {
    let s = filters
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}:{v}"),
            None => k.clone(),
        })
        .collect::<Vec<_>>()
        .join(",");
    (!s.is_empty()).then_some(s)
}

/// An option the real CLI tests for truth (`if args.x:`): an empty string counts as unset.
pub fn given(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

pub const SEVERITIES: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
pub const STATES: [&str; 3] = ["UNDETERMINED", "ALARM", "OK"];
const ENABLED: [&str; 4] = ["True", "true", "False", "false"];

// Deliberate difference: the real CLI prints its validation failures to stdout, sends nothing
// and exits 0; here each is one line on stderr with exit code 1, like every other error.

/// Checks a severity case-insensitively; the value is then sent as typed.
pub fn check_severity(s: &str) -> Result<()> {
    if !SEVERITIES.contains(&s.to_uppercase().as_str()) {
        bail!("Invalid severity, not one of [{}]", SEVERITIES.join(", "));
    }
    Ok(())
}

/// Checks an alarm state case-insensitively; the value is then sent as typed.
pub fn check_state(s: &str) -> Result<()> {
    if !STATES.contains(&s.to_uppercase().as_str()) {
        bail!("Invalid state, not one of [{}]", STATES.join(", "));
    }
    Ok(())
}

/// `<ACTIONS-ENABLED>`: exactly one of `True true False false`.
pub fn actions_enabled(s: &str) -> Result<bool> {
    if !ENABLED.contains(&s) {
        bail!("Invalid value, not one of [{}]", ENABLED.join(", "));
    }
    Ok(s.eq_ignore_ascii_case("true"))
}

/// `--group-by`: every comma-separated item must be a known field (no trimming).
pub fn check_group_by(s: &str) -> Result<()> {
    if !s
        .split(',')
        .all(|g| monasca::alarms::ALARM_COUNT_GROUP_BY.contains(&g))
    {
        bail!(
            "Invalid group-by, one or more values not in [{}]",
            monasca::alarms::ALARM_COUNT_GROUP_BY.join(",")
        );
    }
    Ok(())
}

/// `--sort-by field [asc|desc],...`, checked before it is sent verbatim. `lowercase` is what
/// alarm-list and notification-list do to the field first (alarm-definition-list does not).
///
/// Deliberate differences: the real CLI prints the allowed fields as a Python set in an order
/// that changes from run to run (here: a fixed order), and it only warns about, then sends, a bad
/// direction or an item of more than two words (here both are errors, as the server would
/// reject them anyway); an empty item crashes it with an IndexError.
pub fn check_sort_by(s: &str, allowed: &[&str], lowercase: bool) -> Result<()> {
    for field in s.split(',') {
        let f = if lowercase {
            field.to_lowercase()
        } else {
            field.to_string()
        };
        let words: Vec<&str> = f.split_whitespace().collect();
        match words.as_slice() {
            [] => bail!("Invalid sort_by value {field:?}: no field name"),
            [name, ..] if !allowed.contains(name) => bail!(
                "Sort-by field name {name} is not in [{}]",
                allowed.join(", ")
            ),
            [_, _, _, ..] => bail!("Invalid sort_by value {field}"),
            [_, dir] if !matches!(*dir, "asc" | "desc") => {
                bail!("Invalid value {dir}, must be asc or desc")
            }
            _ => {}
        }
    }
    Ok(())
}

/// A comma-separated list positional of alarm-definition-update (and the joined occurrences of
/// alarm-definition-patch's action options): `""` or `[]` is the empty list, empty items stay.
pub fn split_list(arg: &str) -> Vec<String> {
    if arg.is_empty() || arg == "[]" {
        Vec::new()
    } else {
        arg.split(',').map(str::to_string).collect()
    }
}

/// `key=value` pairs for a new metric's dimensions or value_meta. A repeated key becomes a
/// list, as the real CLI sends it (and the server then rejects it).
pub fn key_values(occurrences: &[String]) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for item in items(occurrences) {
        let Some((k, v)) = item.split_once('=') else {
            bail!("Malformed parameter({item}). Use the key=value format.");
        };
        match out.get_mut(k) {
            Some(Value::Array(a)) => a.push(Value::String(v.into())),
            Some(old) => {
                let prev = old.take();
                *old = Value::Array(vec![prev, Value::String(v.into())]);
            }
            None => {
                out.insert(k.to_string(), Value::String(v.into()));
            }
        }
    }
    Ok(out)
}

/// `-N` means N minutes ago, sent as `YYYY-MM-DDTHH:MM:SSZ`; anything else is sent verbatim.
pub fn start_time(arg: &str, now: Timestamp) -> Result<String> {
    let Some(rest) = arg.strip_prefix('-') else {
        return Ok(arg.to_string());
    };
    let Ok(minutes) = rest.parse::<i64>() else {
        bail!("invalid literal for int() with base 10: '{arg}'");
    };
    let Some(secs) = minutes.checked_mul(60) else {
        bail!("relative start time {arg} is out of range");
    };
    let t = now
        .checked_sub(SignedDuration::from_secs(secs))
        .map_err(|_| anyhow::anyhow!("relative start time {arg} is out of range"))?;
    // Whole seconds, as the real CLI truncates them.
    let t = Timestamp::from_second(t.as_second())?;
    Ok(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn dimensions_split_like_the_real_cli() {
        assert_eq!(
            query_dimensions(&s(&["a=1,b=,c,a=3"])),
            vec![
                ("a".into(), Some("3".into())),
                ("b".into(), None),
                ("c".into(), None)
            ]
        );
        assert_eq!(
            query_dimensions(&s(&["hostname=web1,service", "x=y"])),
            vec![
                ("hostname".into(), Some("web1,service".into())),
                ("x".into(), Some("y".into()))
            ]
        );
        assert_eq!(query_dimensions(&s(&["a=1;b=2"])).len(), 2);
    }

    #[test]
    fn strict_dimensions_and_params() {
        let d = strict_query_dimensions(&s(&["a=1", "a=2", "b="])).unwrap_or_default();
        assert_eq!(dimensions_param(&d).as_deref(), Some("a:2,b"));
        assert!(strict_query_dimensions(&s(&["hostname"])).is_err());
        assert_eq!(
            dimensions_param(&query_dimensions(&s(&["a=1,b=,c,a=3"]))).as_deref(),
            Some("a:3,b,c")
        );
        assert_eq!(dimensions_param(&[]), None);
    }

    #[test]
    fn validation_like_the_real_cli() {
        assert!(check_severity("critical").is_ok());
        assert!(check_severity("urgent").is_err());
        assert!(check_state("alarm").is_ok());
        assert!(check_state("BAD").is_err());
        assert_eq!(actions_enabled("True").ok(), Some(true));
        assert_eq!(actions_enabled("false").ok(), Some(false));
        assert!(actions_enabled("TRUE").is_err());
        assert!(check_group_by("state,severity").is_ok());
        assert!(check_group_by("state, severity").is_err());
        let allowed = ["id", "name"];
        assert!(check_sort_by("name desc,id", &allowed, false).is_ok());
        assert!(check_sort_by("Name", &allowed, false).is_err());
        assert!(check_sort_by("NAME Desc", &allowed, true).is_ok());
        assert!(check_sort_by("name sideways", &allowed, false).is_err());
        assert!(check_sort_by("name asc x", &allowed, false).is_err());
        assert!(check_sort_by("name,", &allowed, false).is_err());
        let e = check_sort_by("x", &allowed, false)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("Sort-by field name x is not in [id, name]")
        );
        assert_eq!(split_list("[]"), Vec::<String>::new());
        assert_eq!(split_list(""), Vec::<String>::new());
        assert_eq!(split_list("x,,y"), vec!["x", "", "y"]);
    }

    #[test]
    fn key_values_for_create() {
        let m = key_values(&s(&["a=1", "a=2", "b=x;y"])).unwrap_or_default();
        assert_eq!(Value::Object(m).to_string(), r#"{"a":["1","2"],"b":"x;y"}"#);
        assert!(key_values(&s(&["novalue"])).is_err());
    }

    #[test]
    fn relative_start_times() {
        let now: Timestamp = "2026-11-24T14:32:55.750Z".parse().unwrap_or_default();
        assert_eq!(
            start_time("-120", now).ok().as_deref(),
            Some("2026-11-24T12:32:55Z")
        );
        assert_eq!(
            start_time("2014-01-01T00:00:00Z", now).ok().as_deref(),
            Some("2014-01-01T00:00:00Z")
        );
        assert!(start_time("-1.5", now).is_err());
    }
}

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
        let (k, v) = match item.split_once('=') {
            Some((k, v)) if !v.is_empty() => (k, Some(v.to_string())),
            Some((k, _)) => (k, None),
            None => (item, None),
        };
        match out.iter_mut().find(|(ek, _)| ek == k) {
            Some(e) => e.1 = v,
            None => out.push((k.to_string(), v)),
        }
    }
    out
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

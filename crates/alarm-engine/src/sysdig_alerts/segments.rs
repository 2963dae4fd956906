//! Sysdig labels on Monasca series: which series an alert's `filter` keeps, and which segment
//! (`segmentBy`) each belongs to.
//!
//! A Sysdig label reads a Monasca dimension as `sysdig::scope::label_value` maps them (the
//! same rule as `POST /api/data`).
//!
//! A segment is named by its labels' values as a scope string, `host.hostName = 'h1' and
//! region = 'eu'`: the key of its state and the `entity` of its notifications. A series without
//! one of the `segmentBy` labels belongs to no segment.

use std::collections::BTreeMap;

pub(super) use sysdig::scope::in_scope;
use sysdig::scope::label_value;

/// The segment of a series with `dims`: `""` when the alert is not segmented, `None` when the
/// series lacks a segment label.
pub(super) fn segment_of(dims: &BTreeMap<String, String>, segment_by: &[String]) -> Option<String> {
    let mut parts = Vec::with_capacity(segment_by.len());
    for label in segment_by {
        parts.push((label.as_str(), label_value(dims, label)?));
    }
    Some(scope_string(parts))
}

/// Whether `segment` is a segment of `labels` ([`segment_of`]'s form, `""` for none): each
/// label in order, followed by ` = `.
pub(super) fn is_segment_of(segment: &str, labels: &[String]) -> bool {
    if labels.is_empty() {
        return segment.is_empty();
    }
    let mut rest = segment;
    for (i, label) in labels.iter().enumerate() {
        let head = if i == 0 {
            format!("{label} = ")
        } else {
            format!(" and {label} = ")
        };
        let Some(at) = rest.find(&head) else {
            return false;
        };
        if i == 0 && at != 0 {
            return false;
        }
        rest = &rest[at + head.len()..];
    }
    true
}

/// `a = 'x' and b = 'y'`; a value holding `'` is written in double quotes.
pub(super) fn scope_string<'a>(parts: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    parts
        .into_iter()
        .map(|(label, value)| {
            if value.contains('\'') {
                format!("{label} = \"{value}\"")
            } else {
                format!("{label} = '{value}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn dims(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_read_dimensions() {
        let d = dims(&[("hostname", "h1"), ("region", "eu")]);
        assert_eq!(label_value(&d, "host.hostName"), Some("h1"));
        assert_eq!(label_value(&d, "hostname"), Some("h1"));
        assert_eq!(label_value(&d, "agent.tag.region"), Some("eu"));
        assert_eq!(label_value(&d, "container.name"), None);
        // A dimension literally called so wins over the alias.
        let d = dims(&[("hostname", "h1"), ("host.hostName", "other")]);
        assert_eq!(label_value(&d, "host.hostName"), Some("other"));
    }

    #[test]
    fn filters_and_segments() {
        let d = dims(&[("hostname", "h1"), ("region", "eu")]);
        let f = sysdig::scope::parse("host.hostName in [h1, h2] and region is not us").unwrap();
        assert!(in_scope(&d, &f));
        let f = sysdig::scope::parse("host.hostName starts with x").unwrap();
        assert!(!in_scope(&d, &f));
        assert!(in_scope(&d, &[]));
        let by = ["host.hostName".to_string(), "region".to_string()];
        assert_eq!(
            segment_of(&d, &by).as_deref(),
            Some("host.hostName = 'h1' and region = 'eu'")
        );
        assert_eq!(segment_of(&d, &[]).as_deref(), Some(""));
        assert_eq!(segment_of(&d, &["zone".to_string()]), None);
        assert_eq!(scope_string([("a", "it's")]), "a = \"it's\"");
        let key = segment_of(&d, &by).unwrap();
        assert!(is_segment_of(&key, &by));
        assert!(!is_segment_of(&key, &by[1..]));
        assert!(!is_segment_of(&key, &[]));
        assert!(!is_segment_of("", &by));
        assert!(is_segment_of("", &[]));
    }
}

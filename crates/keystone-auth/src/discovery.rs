//! Version discovery: from an auth URL (`http://host/identity` or `http://host/identity/v3`)
//! to the Keystone v3 base URL, as keystoneauth does with `GET {auth_url}`.
//!
//! The root answers `300 Multiple Choices` with `{"versions": {"values": [...]}}`; a version
//! URL answers `200` with `{"version": {...}}`. Each version has an `id` (`v3.14`), a `status`
//! and `links` with a `self` link, which is where the v3 API lives.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

#[derive(Deserialize)]
struct VersionEntry {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    links: Vec<Link>,
}

#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    rel: Option<String>,
    href: String,
}

/// The auth URL as a URL, with a trailing slash removed from its path.
///
/// # Errors
/// Not an http(s) URL.
pub fn parse_auth_url(auth_url: &str) -> Result<Url, String> {
    let mut u = Url::parse(auth_url.trim()).map_err(|e| e.to_string())?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("the scheme must be http or https".into());
    }
    let path = u.path().trim_end_matches('/').to_string();
    u.set_path(&path);
    Ok(u)
}

/// Where v3 is when the discovery document has no `self` link: the auth URL itself if it
/// already ends in `/v3`, else `{auth_url}/v3`.
pub fn guess_v3(auth_url: &Url) -> Url {
    let path = auth_url.path().trim_end_matches('/');
    if path.ends_with("/v3") {
        return auth_url.clone();
    }
    let mut u = auth_url.clone();
    u.set_path(&format!("{path}/v3"));
    u
}

/// Finds the v3 base URL in a discovery answer (`GET {auth_url}`, status 200 or 300).
///
/// # Errors
/// A text saying why this is not a Keystone offering v3.
pub fn v3_from_discovery(auth_url: &Url, body: &[u8]) -> Result<Url, String> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|_| "the answer to GET is not a JSON versions document".to_string())?;
    let entries: Vec<VersionEntry> = if let Some(v) = doc.get("version") {
        vec![
            serde_json::from_value(v.clone())
                .map_err(|e| format!("unexpected version document: {e}"))?,
        ]
    } else if let Some(vs) = doc.get("versions") {
        // Keystone nests the list in `values`; some services give the list directly.
        let list = vs.get("values").unwrap_or(vs);
        serde_json::from_value(list.clone())
            .map_err(|e| format!("unexpected versions document: {e}"))?
    } else {
        return Err("the answer has neither `version` nor `versions`".into());
    };
    let v3 = entries
        .iter()
        .filter(|e| e.id == "v3" || e.id.starts_with("v3."))
        .find(|e| {
            !matches!(
                e.status.as_deref().map(str::to_ascii_lowercase).as_deref(),
                Some("experimental")
            )
        })
        .ok_or_else(|| {
            let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
            if ids.is_empty() {
                "it lists no API versions".to_string()
            } else {
                format!("it offers {} but not v3", ids.join(", "))
            }
        })?;
    match v3
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self"))
        .map(|l| Url::parse(&l.href))
    {
        Some(Ok(u)) if matches!(u.scheme(), "http" | "https") => Ok(u),
        Some(_) => Err("the v3 `self` link is not an http(s) URL".into()),
        None => Ok(guess_v3(auth_url)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const ROOT: &str = r#"{"versions": {"values": [
        {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
         "links": [{"rel": "self", "href": "http://h/identity/v3/"}],
         "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}
    ]}}"#;
    const V3: &str = r#"{"version": {"id": "v3.14", "status": "stable",
        "links": [{"rel": "self", "href": "http://h/identity/v3/"}]}}"#;

    #[test]
    fn root_and_version_documents() {
        let base = parse_auth_url("http://h/identity/").unwrap();
        assert_eq!(base.as_str(), "http://h/identity");
        assert_eq!(
            v3_from_discovery(&base, ROOT.as_bytes()).unwrap().as_str(),
            "http://h/identity/v3/"
        );
        let base = parse_auth_url("http://h/identity/v3").unwrap();
        assert_eq!(
            v3_from_discovery(&base, V3.as_bytes()).unwrap().as_str(),
            "http://h/identity/v3/"
        );
    }

    #[test]
    fn missing_self_link_is_guessed() {
        let doc = br#"{"version": {"id": "v3.0", "status": "stable", "links": []}}"#;
        let base = parse_auth_url("http://h:5000").unwrap();
        assert_eq!(
            v3_from_discovery(&base, doc).unwrap().as_str(),
            "http://h:5000/v3"
        );
        let base = parse_auth_url("http://h:5000/v3/").unwrap();
        assert_eq!(
            v3_from_discovery(&base, doc).unwrap().as_str(),
            "http://h:5000/v3"
        );
    }

    #[test]
    fn not_keystone() {
        let base = parse_auth_url("http://h/").unwrap();
        assert!(
            v3_from_discovery(&base, b"<html>hi</html>")
                .unwrap_err()
                .contains("not a JSON versions document")
        );
        assert!(
            v3_from_discovery(&base, br#"{"elements": []}"#)
                .unwrap_err()
                .contains("neither")
        );
        // Monasca's own root: a versions list without v3.
        let monasca =
            br#"{"elements": [], "versions": [{"id": "v2.0", "status": "CURRENT", "links": []}]}"#;
        assert_eq!(
            v3_from_discovery(&base, monasca).unwrap_err(),
            "it offers v2.0 but not v3"
        );
        assert!(parse_auth_url("ftp://h").is_err());
        assert!(parse_auth_url("not a url").is_err());
    }
}

//! Operations as plain values: each knows its method, path, query and body, and builds its
//! URL and `http::Request` without any I/O, so request building is unit-tested without a
//! server. Credentials are not part of an operation: the client adds them when it sends.

use std::borrow::Borrow;

use http::Method;
use serde::{Serialize, de::DeserializeOwned};
use url::Url;

use crate::{Error, Result, json_headers};

/// One API operation.
pub trait Endpoint {
    /// What a successful answer decodes into.
    type Output: DeserializeOwned;

    fn method(&self) -> Method {
        Method::GET
    }

    /// The path under the client's base URL (`metrics/names`, `/api/alerts/7`): the base's
    /// own path is kept, and a leading `/` makes no difference.
    fn path(&self) -> String;

    /// Query parameters in the order they are sent (a key may repeat).
    fn query(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// A JSON body, if the operation has one.
    ///
    /// # Errors
    /// A body that does not serialize.
    fn body(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// The key of the JSON envelope the output sits in (`alert` in `{"alert": {...}}`), if any.
    fn envelope(&self) -> Option<&'static str> {
        None
    }

    /// Whether the success body is ignored (a 204, a delete): it decodes as JSON `null`.
    fn ignores_body(&self) -> bool {
        false
    }

    /// The full URL of this operation under `base`.
    ///
    /// # Errors
    /// A base that cannot carry a path, or a check the operation makes.
    fn url(&self, base: &Url) -> Result<Url> {
        join_url(base, &self.path(), self.query())
    }

    /// The request this operation sends, without credentials: `Accept: application/json`,
    /// and `Content-Type: application/json` with a body.
    ///
    /// # Errors
    /// A URL that does not build or a body that does not serialize.
    fn http_request(&self, base: &Url) -> Result<http::Request<Vec<u8>>> {
        let url = self.url(base)?;
        let body = self.body()?;
        let mut req = http::Request::builder()
            .method(self.method())
            .uri(url.as_str())
            .body(Vec::new())
            .map_err(Error::Request)?;
        *req.headers_mut() = json_headers(body.is_some());
        *req.body_mut() = body.unwrap_or_default();
        Ok(req)
    }
}

/// `base` with `path` appended to its path and `query` as its query string (in order); the
/// base's own query and fragment are dropped. The path is percent-encoded as needed, so a `?`
/// or `#` in it stays part of the path.
///
/// # Errors
/// A base that cannot carry a path (`mailto:`, say).
pub fn join_url<P, K, V>(base: &Url, path: &str, query: impl IntoIterator<Item = P>) -> Result<Url>
where
    P: Borrow<(K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    if base.cannot_be_a_base() {
        return Err(Error::InvalidUrl {
            url: base.to_string(),
            reason: "it cannot carry a path".into(),
        });
    }
    let mut url = base.clone();
    url.set_path(&format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    ));
    url.set_query(None);
    url.set_fragment(None);
    let mut query = query.into_iter().peekable();
    if query.peek().is_some() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// Serializes an operation's JSON body.
///
/// # Errors
/// A value that does not serialize.
pub fn json_body(v: &(impl Serialize + ?Sized)) -> Result<Option<Vec<u8>>> {
    serde_json::to_vec(v).map(Some).map_err(Error::Body)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Get(&'static str, Vec<(&'static str, String)>);

    impl Endpoint for Get {
        type Output = serde_json::Value;
        fn path(&self) -> String {
            self.0.into()
        }
        fn query(&self) -> Vec<(&'static str, String)> {
            self.1.clone()
        }
    }

    struct Post;

    impl Endpoint for Post {
        type Output = ();
        fn method(&self) -> Method {
            Method::POST
        }
        fn path(&self) -> String {
            "things".into()
        }
        fn body(&self) -> Result<Option<Vec<u8>>> {
            json_body(&serde_json::json!({"a": 1}))
        }
    }

    fn url(base: &str, op: &Get) -> String {
        op.url(&Url::parse(base).unwrap()).unwrap().to_string()
    }

    #[test]
    fn paths_go_under_the_base_path() {
        let names = Get("metrics/names", vec![]);
        assert_eq!(
            url("http://h:8070/v2.0", &names),
            "http://h:8070/v2.0/metrics/names"
        );
        assert_eq!(
            url("http://h:8070/v2.0/", &names),
            "http://h:8070/v2.0/metrics/names"
        );
        let alerts = Get("/api/alerts/7", vec![]);
        assert_eq!(url("https://h", &alerts), "https://h/api/alerts/7");
        assert_eq!(
            url("http://h/prefix/", &alerts),
            "http://h/prefix/api/alerts/7"
        );
        // The base's query and fragment are not the operation's.
        assert_eq!(
            url("http://h/v2.0?x=1#top", &names),
            "http://h/v2.0/metrics/names"
        );
        // Characters that would start a query or fragment stay in the path.
        assert_eq!(
            url("http://h", &Get("alarms/a?b#c d", vec![])),
            "http://h/alarms/a%3Fb%23c%20d"
        );
        assert!(
            Get("x", vec![])
                .url(&Url::parse("mailto:a@b").unwrap())
                .is_err()
        );
    }

    #[test]
    fn query_pairs_keep_their_order_and_repeats() {
        let op = Get(
            "/api/v2/events",
            vec![
                ("status", "b".into()),
                ("status", "a".into()),
                ("dims", "host:a|b,svc".into()),
                ("limit", "5".into()),
            ],
        );
        assert_eq!(
            url("http://h", &op),
            "http://h/api/v2/events?status=b&status=a&dims=host%3Aa%7Cb%2Csvc&limit=5"
        );
        // No query, no lone `?`.
        assert!(!url("http://h", &Get("x", vec![])).contains('?'));
    }

    #[test]
    fn requests_carry_json_headers_only_with_a_body() {
        let base = Url::parse("http://h/v2.0").unwrap();
        let get = Get("x", vec![("a", "1".into())])
            .http_request(&base)
            .unwrap();
        assert_eq!(get.method(), Method::GET);
        assert_eq!(get.uri(), "http://h/v2.0/x?a=1");
        assert_eq!(get.headers()["accept"], "application/json");
        assert!(get.headers().get("content-type").is_none());
        assert!(get.body().is_empty());
        let post = Post.http_request(&base).unwrap();
        assert_eq!(post.method(), Method::POST);
        assert_eq!(post.headers()["content-type"], "application/json");
        assert_eq!(post.body().as_slice(), br#"{"a":1}"#);
        assert!(!Post.ignores_body() && Post.envelope().is_none());
    }
}

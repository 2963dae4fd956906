//! One exchange with a server: credentials on every attempt, one re-authentication after a
//! 401, retries as the [`RetryPolicy`] allows, and a [`RequestObserver`] told of each attempt.

use std::{fmt, future::Future, sync::Arc, time::Duration};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use url::Url;

use crate::{Endpoint, Error, Outcome, RetryPolicy};

/// Told about every HTTP exchange a client makes (the CLIs' `--timing`, `-v` and `--debug`).
pub trait RequestObserver: Send + Sync + fmt::Debug {
    /// `status` is `None` when no answer came.
    fn exchange(&self, method: &Method, url: &Url, status: Option<u16>, elapsed: Duration);
}

/// What a client brings to the kit's exchanges: the headers of its credentials (and any other
/// it sends on every request), and how its error answers read.
pub trait Api: Sync {
    /// The client's error type.
    type Error: From<Error>;

    /// The headers added to one attempt, asked for before each. They replace request headers
    /// of the same name.
    fn headers<'a>(
        &'a self,
        http: &'a reqwest::Client,
    ) -> impl Future<Output = Result<HeaderMap, Self::Error>> + Send + 'a;

    /// Forget the credentials: the server refused them.
    fn invalidate(&self);

    /// Whether, after [`Api::invalidate`], a retry can present different credentials.
    fn can_refresh(&self) -> bool;

    /// The error an answer with a status other than 2xx stands for.
    fn error(&self, method: &Method, url: &Url, answer: Answer) -> Self::Error;
}

/// The answer to an exchange, whatever its status.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// A header's value as text, if it is present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An HTTP client with its retry policy and observer. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Transport {
    http: reqwest::Client,
    retry: RetryPolicy,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl Transport {
    /// A transport without retries or observer.
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            retry: RetryPolicy::none(),
            observer: None,
        }
    }

    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    #[must_use]
    pub fn observer(mut self, observer: Option<Arc<dyn RequestObserver>>) -> Self {
        self.observer = observer;
        self
    }

    /// The HTTP client, for exchanges of the credentials themselves.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// Sends `ep` under `base`: its URL, and the body of the answer unless the operation
    /// ignores it or it is empty.
    ///
    /// # Errors
    /// As [`Transport::call`], and an operation that does not build.
    pub async fn call_endpoint<A: Api, E: Endpoint + Sync>(
        &self,
        api: &A,
        base: &Url,
        ep: &E,
    ) -> Result<(Url, Option<Bytes>), A::Error> {
        let url = ep.url(base)?;
        let body = ep.body()?;
        let answer = self
            .call(api, &ep.method(), &url, body.map(Bytes::from))
            .await?;
        let kept = (!(answer.is_empty() || ep.ignores_body())).then_some(answer);
        Ok((url, kept))
    }

    /// Sends a JSON API request (see [`json_headers`]) and returns the body of its 2xx answer.
    ///
    /// # Errors
    /// As [`Transport::send`], and [`Api::error`] for any other status.
    pub async fn call<A: Api>(
        &self,
        api: &A,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
    ) -> Result<Bytes, A::Error> {
        let headers = json_headers(body.is_some());
        let answer = self.send(api, method, url, &headers, body).await?;
        if answer.status.is_success() {
            Ok(answer.body)
        } else {
            Err(api.error(method, url, answer))
        }
    }

    /// Sends a request and reads its answer, whatever the status. The `api`'s headers are
    /// asked for before each attempt, replacing `headers` of the same name; a 401 leads to
    /// one more attempt with fresh credentials where they can be refreshed.
    ///
    /// # Errors
    /// The credentials' errors, and [`Error::Transport`] when no answer could be read.
    pub async fn send<A: Api>(
        &self,
        auth: &A,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Answer, A::Error> {
        let mut reauthenticated = false;
        let mut retries = 0u32;
        loop {
            let mut attempt_headers = headers.clone();
            attempt_headers.extend(auth.headers(&self.http).await?);
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .headers(attempt_headers);
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let started = std::time::Instant::now();
            let sent = req.send().await;
            if let Some(o) = &self.observer {
                let status = sent.as_ref().ok().map(|r| r.status().as_u16());
                o.exchange(method, url, status, started.elapsed());
            }
            let transport = |source| Error::Transport {
                url: url.to_string(),
                source,
            };
            let resp = match sent {
                Ok(r) => r,
                Err(source) => {
                    let outcome = if source.is_connect() {
                        Outcome::Refused
                    } else {
                        Outcome::Failed
                    };
                    if let Some(delay) = self.retry.delay(method, outcome, retries) {
                        tokio::time::sleep(delay).await;
                        retries += 1;
                        continue;
                    }
                    return Err(transport(source).into());
                }
            };
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && !reauthenticated && auth.can_refresh() {
                auth.invalidate();
                reauthenticated = true;
                continue;
            }
            let outcome = Outcome::Answered {
                status,
                headers: resp.headers(),
            };
            if let Some(delay) = self.retry.delay(method, outcome, retries) {
                tokio::time::sleep(delay).await;
                retries += 1;
                continue;
            }
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map_err(transport)?;
            return Ok(Answer {
                status,
                headers,
                body,
            });
        }
    }
}

/// The headers of a JSON API request: `Accept`, and `Content-Type` when it has a body.
pub fn json_headers(with_body: bool) -> HeaderMap {
    let json = HeaderValue::from_static("application/json");
    let mut h = HeaderMap::new();
    h.insert(http::header::ACCEPT, json.clone());
    if with_body {
        h.insert(http::header::CONTENT_TYPE, json);
    }
    h
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    };

    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    /// A server that answers each connection with the next canned response and keeps the
    /// request heads it read.
    async fn server(answers: Vec<&'static str>) -> (Url, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/api", listener.local_addr().unwrap())).unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            for answer in answers {
                let (mut conn, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = conn.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let reply = format!("{answer}\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
                conn.write_all(reply.as_bytes()).await.unwrap();
                conn.shutdown().await.unwrap();
            }
        });
        (url, heads)
    }

    #[derive(Debug, Default)]
    struct TestApi {
        refreshable: bool,
        logins: AtomicU32,
        invalidated: AtomicU32,
    }

    impl Api for TestApi {
        type Error = String;
        async fn headers(&self, _: &reqwest::Client) -> Result<HeaderMap, String> {
            let n = self.logins.fetch_add(1, Ordering::Relaxed);
            let mut h = HeaderMap::new();
            h.insert("x-token", HeaderValue::from(n));
            Ok(h)
        }
        fn invalidate(&self) {
            self.invalidated.fetch_add(1, Ordering::Relaxed);
        }
        fn can_refresh(&self) -> bool {
            self.refreshable
        }
        fn error(&self, method: &Method, _: &Url, answer: Answer) -> String {
            format!("{method} {}", answer.status.as_u16())
        }
    }

    #[derive(Debug, Default)]
    struct Statuses(Mutex<Vec<Option<u16>>>);

    impl RequestObserver for Statuses {
        fn exchange(&self, _: &Method, _: &Url, status: Option<u16>, _: Duration) {
            self.0.lock().unwrap().push(status);
        }
    }

    fn quick_retries() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        }
    }

    fn transport(observer: &Arc<Statuses>) -> Transport {
        Transport::new(crate::HttpOptions::default().build().unwrap())
            .retry(quick_retries())
            .observer(Some(observer.clone() as Arc<dyn RequestObserver>))
    }

    impl From<Error> for String {
        fn from(e: Error) -> Self {
            e.to_string()
        }
    }

    #[tokio::test]
    async fn idempotent_calls_are_retried_and_observed() {
        let (url, heads) = server(vec![
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 0",
            "HTTP/1.1 200 OK",
        ])
        .await;
        let seen = Arc::new(Statuses::default());
        let api = TestApi::default();
        let body = transport(&seen)
            .call(&api, &Method::GET, &url, None)
            .await
            .unwrap();
        assert_eq!(body.as_ref(), b"ok");
        assert_eq!(*seen.0.lock().unwrap(), [Some(503), Some(200)]);
        let heads = heads.lock().unwrap();
        assert!(heads[0].starts_with("GET /api HTTP/1.1"), "{}", heads[0]);
        assert!(
            heads[0].contains("accept: application/json"),
            "{}",
            heads[0]
        );
        assert!(!heads[0].contains("content-type"), "{}", heads[0]);
        // Credentials are asked for again on every attempt.
        assert!(heads[1].contains("x-token: 1"), "{}", heads[1]);
    }

    #[tokio::test]
    async fn other_calls_are_not_retried() {
        let (url, heads) = server(vec!["HTTP/1.1 503 Service Unavailable"]).await;
        let seen = Arc::new(Statuses::default());
        let e = transport(&seen)
            .call(
                &TestApi::default(),
                &Method::POST,
                &url,
                Some(Bytes::from_static(b"{}")),
            )
            .await
            .unwrap_err();
        assert_eq!(e, "POST 503");
        assert!(heads.lock().unwrap()[0].contains("content-type: application/json"));
    }

    #[tokio::test]
    async fn a_refused_token_is_renewed_once() {
        let (url, _) = server(vec!["HTTP/1.1 401 Unauthorized", "HTTP/1.1 200 OK"]).await;
        let seen = Arc::new(Statuses::default());
        let api = TestApi {
            refreshable: true,
            ..TestApi::default()
        };
        transport(&seen)
            .call(&api, &Method::POST, &url, None)
            .await
            .unwrap();
        assert_eq!(api.invalidated.load(Ordering::Relaxed), 1);

        let (url, _) = server(vec![
            "HTTP/1.1 401 Unauthorized",
            "HTTP/1.1 401 Unauthorized",
        ])
        .await;
        let api = TestApi {
            refreshable: true,
            ..TestApi::default()
        };
        let e = transport(&seen)
            .call(&api, &Method::GET, &url, None)
            .await
            .unwrap_err();
        assert_eq!(e, "GET 401");
        assert_eq!(api.logins.load(Ordering::Relaxed), 2);

        let (url, _) = server(vec!["HTTP/1.1 401 Unauthorized"]).await;
        let fixed = TestApi::default();
        let e = transport(&seen)
            .call(&fixed, &Method::GET, &url, None)
            .await
            .unwrap_err();
        assert_eq!(e, "GET 401");
        assert_eq!(fixed.invalidated.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn refused_connections_are_retried_then_reported() {
        // A port that was just free.
        let url = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            Url::parse(&format!("http://{}/", l.local_addr().unwrap())).unwrap()
        };
        let seen = Arc::new(Statuses::default());
        let e = transport(&seen)
            .call(&TestApi::default(), &Method::GET, &url, None)
            .await
            .unwrap_err();
        assert!(e.starts_with(&format!("unable to connect to {url}")), "{e}");
        assert_eq!(*seen.0.lock().unwrap(), [None, None, None]);
    }
}

//! When a failed exchange is tried again, and after how long: idempotent requests (GET, PUT,
//! HEAD, OPTIONS) that were refused a connection or answered 500, 502, 503 or 504, as
//! urllib3's `Retry` does for sdcclient, with exponential backoff and `Retry-After`.

use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};

/// How many times, and how long apart, idempotent requests are retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (sdcclient: 3). 0 disables retries.
    pub max_retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub initial_backoff: Duration,
    /// Upper bound of any delay, including one asked for by `Retry-After`.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// How one attempt ended, as far as retrying is concerned.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    /// No connection could be made: nothing reached the server.
    Refused,
    /// The server answered.
    Answered {
        status: StatusCode,
        headers: &'a HeaderMap,
    },
    /// Anything else (a time-out, a reset mid-request): the server may have acted on it.
    Failed,
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (0 for the first) without `Retry-After`.
    pub fn backoff(&self, retry: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff)
    }

    /// Whether to try `method` again after `outcome`, having retried `retries` times already,
    /// and after how long.
    pub fn delay(&self, method: &Method, outcome: Outcome<'_>, retries: u32) -> Option<Duration> {
        if !is_idempotent(method) || retries >= self.max_retries {
            return None;
        }
        match outcome {
            Outcome::Refused => Some(self.backoff(retries)),
            Outcome::Answered { status, headers } if is_transient(status) => Some(
                retry_after(headers)
                    .unwrap_or_else(|| self.backoff(retries))
                    .min(self.max_backoff),
            ),
            Outcome::Answered { .. } | Outcome::Failed => None,
        }
    }
}

/// Whether sending `method` twice does no more than sending it once (for retries).
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::PUT | Method::HEAD | Method::OPTIONS
    )
}

/// Statuses of a server that may answer differently in a moment.
fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date (a date in the past is no wait).
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp().as_second();
    let now = jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let r = policy();
        assert_eq!(r.backoff(0), Duration::from_millis(100));
        assert_eq!(r.backoff(1), Duration::from_millis(200));
        assert_eq!(r.backoff(2), Duration::from_millis(350));
        assert_eq!(r.backoff(40), Duration::from_millis(350));
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn only_idempotent_requests_on_transient_failures_are_retried() {
        let r = policy();
        let none = HeaderMap::new();
        let answered = |code: u16| Outcome::Answered {
            status: StatusCode::from_u16(code).unwrap(),
            headers: &none,
        };
        for code in [500, 502, 503, 504] {
            assert_eq!(
                r.delay(&Method::GET, answered(code), 1),
                Some(Duration::from_millis(200)),
                "{code}"
            );
        }
        for code in [200, 204, 400, 401, 404, 409, 501, 505] {
            assert_eq!(r.delay(&Method::GET, answered(code), 0), None, "{code}");
        }
        assert_eq!(
            r.delay(&Method::PUT, Outcome::Refused, 0),
            Some(Duration::from_millis(100))
        );
        assert_eq!(r.delay(&Method::GET, Outcome::Failed, 0), None);
        for m in [Method::POST, Method::PATCH, Method::DELETE] {
            assert_eq!(r.delay(&m, answered(503), 0), None, "{m}");
            assert_eq!(r.delay(&m, Outcome::Refused, 0), None, "{m}");
        }
        for m in [Method::HEAD, Method::OPTIONS] {
            assert!(r.delay(&m, answered(503), 0).is_some(), "{m}");
        }
        // Out of retries.
        assert_eq!(r.delay(&Method::GET, answered(503), 5), None);
        assert_eq!(
            RetryPolicy::none().delay(&Method::GET, Outcome::Refused, 0),
            None
        );
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let r = policy();
        let after = |secs: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(http::header::RETRY_AFTER, HeaderValue::from_static(secs));
            r.delay(
                &Method::GET,
                Outcome::Answered {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    headers: &h,
                },
                2,
            )
        };
        assert_eq!(after("0"), Some(Duration::ZERO));
        assert_eq!(after("120"), Some(Duration::from_millis(350)));
    }
}

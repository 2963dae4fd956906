//! Request parameters as Prometheus reads them: from the query string and, for a POST, from
//! a form-encoded body; times as Unix seconds or RFC 3339, durations as seconds or `5m`.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{Method, header},
};

use crate::error::PromError;

/// Every `name=value` pair of the query string and the form body, in order.
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = PromError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut pairs: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let form = req.method() == Method::POST
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if form {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| PromError::bad_data(format!("cannot read the form body: {e}")))?;
            pairs.extend(url::form_urlencoded::parse(&body).into_owned());
        }
        Ok(Params(pairs))
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn required(&self, name: &str) -> Result<&str, PromError> {
        self.get(name)
            .ok_or_else(|| PromError::bad_data(format!("invalid parameter {name:?}: missing")))
    }

    /// Parameter `name` as epoch milliseconds, `default` when absent.
    pub fn time(&self, name: &str, default: i64) -> Result<i64, PromError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(text) => parse_time(text).ok_or_else(|| {
                PromError::bad_data(format!(
                    "invalid parameter {name:?}: cannot parse {text:?} to a valid timestamp"
                ))
            }),
        }
    }
}

/// The farthest a time may be from the epoch, in milliseconds: about 73 million years, so
/// windows and offsets around it never overflow.
const TIME_LIMIT_MS: i64 = i64::MAX / 4;

/// Unix seconds (`1700000000.5`) or RFC 3339, in epoch milliseconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let ms = match text.parse::<f64>() {
        Ok(secs) => {
            let ms = (secs * 1000.0).round();
            (ms.is_finite() && ms.abs() < TIME_LIMIT_MS as f64).then_some(ms as i64)?
        }
        Err(_) => text.parse::<jiff::Timestamp>().ok()?.as_millisecond(),
    };
    (ms.abs() <= TIME_LIMIT_MS).then_some(ms)
}

/// Seconds (`15`, `0.5`) or a PromQL duration (`1m30s`), in milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    if let Ok(secs) = text.parse::<f64>() {
        let ms = (secs * 1000.0).round();
        return (ms.is_finite() && ms.abs() < 9.2e18).then_some(ms as i64);
    }
    promql_engine::parse_duration(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000_500));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(parse_time("soon"), None);
        assert_eq!(parse_time("1e300"), None);
        assert_eq!(parse_duration("15"), Some(15_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("x"), None);
    }
}

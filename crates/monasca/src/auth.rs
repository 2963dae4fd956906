//! Where the client's `X-Auth-Token` comes from. Keystone plugs in here (issue #6).

use std::fmt;

use futures::future::BoxFuture;

use crate::Result;

/// A source of tokens. The client asks for a token before each request and, after a 401,
/// calls [`TokenSource::invalidate`] and retries once with a fresh one.
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// The current token, fetching or refreshing it if needed.
    fn token(&self) -> BoxFuture<'_, Result<String>>;

    /// Forget the current token: the server refused it.
    fn invalidate(&self) {}

    /// Whether a retry after [`TokenSource::invalidate`] can produce a different token.
    fn can_refresh(&self) -> bool {
        false
    }
}

/// A fixed token: `--os-token` / `OS_AUTH_TOKEN`, or a tenant name on a server without Keystone.
#[derive(Clone)]
pub struct StaticToken(String);

impl StaticToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<String>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token() {
        assert!(!format!("{:?}", StaticToken::new("s3cr3t")).contains("s3cr3t"));
    }
}

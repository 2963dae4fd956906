//! Our own clients for a server at a URL, configured for tests: no environment, no retries.

use std::time::Duration;

use crate::sysdig_creds;

/// A Monasca client for `tenant` of the server at `url` (without Keystone the token names
/// the project).
pub fn monasca(url: &str, tenant: &str) -> monasca::Client {
    monasca::Client::builder(format!("{url}/v2.0"))
        .token(tenant)
        .build()
        .unwrap()
}

/// A Sysdig client with `token`; the process environment is not consulted, no retries.
pub fn sysdig(url: &str, token: &str) -> sysdig::Client {
    sysdig::Client::builder()
        .use_env(false)
        .url(url)
        .token(token)
        .retry(sysdig::RetryPolicy::none())
        .timeout(Some(Duration::from_secs(30)))
        .build()
        .unwrap()
}

/// An IBM Cloud Monitoring client whose IAM is the server at `url` itself.
pub fn ibm(url: &str, team: Option<u64>) -> sysdig::Client {
    let mut b = sysdig::Client::builder()
        .use_env(false)
        .url(format!("{url}/api"))
        .ibm_iam(sysdig_creds::IBM_KEY, sysdig_creds::INSTANCE)
        .ibm_iam_url(url);
    if let Some(t) = team {
        b = b.team_id(t);
    }
    b.build().unwrap()
}

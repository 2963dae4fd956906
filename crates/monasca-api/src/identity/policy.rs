//! monasca-api's default policy: which roles may call which endpoint.

use axum::http::Method;

use super::{Principal, ROLE_AGENT, ROLE_DELEGATE, ROLE_READ_ONLY, ROLE_USER};

/// Whether `p` may call `method path` on the monitoring API (paths under `/v2.0`, or `/`).
pub fn allows(p: &Principal, method: &Method, path: &str) -> bool {
    let user = p.has(ROLE_USER);
    let read_only = p.has(ROLE_READ_ONLY);
    let agent = p.has(ROLE_AGENT);
    // The delegate role acts for other projects (through `tenant_id`) on the metrics API.
    let delegate = p.has(ROLE_DELEGATE);
    let reading = method == Method::GET || method == Method::HEAD;
    let metrics = path == "/v2.0/metrics" || path.starts_with("/v2.0/metrics/");
    if path == "/" || path == "/v2.0" || !path.starts_with("/v2.0/") {
        // Versions: anyone with a valid token (`@` upstream).
        return true;
    }
    match (metrics, reading) {
        // api:metrics:post
        (true, false) => user || agent || delegate,
        // api:metrics:get
        (true, true) => user || read_only || delegate,
        // alarming and notification reads
        (false, true) => user || read_only,
        // alarming and notification writes
        (false, false) => user,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(roles: &[&str]) -> Principal {
        Principal {
            user: None,
            project: "p".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn roles_as_monasca_api() {
        let post = Method::POST;
        let get = Method::GET;
        let agent = p(&[ROLE_AGENT]);
        assert!(allows(&agent, &post, "/v2.0/metrics"));
        assert!(!allows(&agent, &get, "/v2.0/metrics"));
        assert!(!allows(&agent, &get, "/v2.0/alarms"));
        let ro = p(&[ROLE_READ_ONLY]);
        assert!(allows(&ro, &get, "/v2.0/metrics/measurements"));
        assert!(allows(&ro, &get, "/v2.0/alarm-definitions"));
        assert!(!allows(&ro, &post, "/v2.0/metrics"));
        assert!(!allows(&ro, &Method::DELETE, "/v2.0/alarms/x"));
        let user = p(&[ROLE_USER]);
        assert!(allows(&user, &Method::PATCH, "/v2.0/alarms/x"));
        let both = p(&[ROLE_AGENT, ROLE_READ_ONLY]);
        assert!(allows(&both, &post, "/v2.0/metrics") && allows(&both, &get, "/v2.0/metrics"));
        assert!(!allows(&p(&["other"]), &get, "/v2.0/metrics"));
        assert!(allows(&p(&["other"]), &get, "/v2.0"));
    }
}

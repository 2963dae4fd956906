//! Keystone for the CLI: the settings (flags, else environment, else the `clouds.yaml` cloud
//! named by `--os-cloud`/`OS_CLOUD`) and the login.

use std::{sync::Arc, time::Duration};

use anyhow::Result;
use keystone_auth::{AuthKind, AuthOptions, KeystoneSession, SearchPath, TokenCache};
use secrecy::SecretString;

use crate::cli::ConnectionOpts;

/// osc-lib's `--os-default-domain` default: Keystone's `Default` domain has id `default`.
const DEFAULT_DOMAIN: &str = "default";

/// Flags (clap has already put each option's environment variable under its flag) over the
/// remaining `OS_*` variables (`OS_TENANT_NAME`, `OS_TOKEN`, `OS_AUTH_TOKEN`, ...) over the
/// named cloud.
///
/// # Errors
/// A `clouds.yaml` that cannot be read or parsed, or that lacks the named cloud.
pub fn resolve(c: &ConnectionOpts) -> Result<AuthOptions> {
    let s = |o: &Option<String>| o.clone().filter(|v| !v.is_empty());
    let secret = |o: &Option<String>| s(o).map(SecretString::from);
    let flags = AuthOptions {
        auth_type: s(&c.os_auth_type),
        auth_url: s(&c.os_auth_url),
        username: s(&c.os_username),
        user_id: s(&c.os_user_id),
        password: secret(&c.os_password),
        token: secret(&c.os_token),
        user_domain_name: s(&c.os_user_domain_name),
        user_domain_id: s(&c.os_user_domain_id),
        project_name: s(&c.os_project_name),
        project_id: s(&c.os_project_id),
        project_domain_name: s(&c.os_project_domain_name),
        project_domain_id: s(&c.os_project_domain_id),
        domain_name: s(&c.os_domain_name),
        domain_id: s(&c.os_domain_id),
        default_domain: s(&c.os_default_domain),
        application_credential_id: s(&c.os_application_credential_id),
        application_credential_name: s(&c.os_application_credential_name),
        application_credential_secret: secret(&c.os_application_credential_secret),
        region_name: s(&c.os_region_name),
        interface: s(&c.os_interface),
        endpoint_override: None,
        cacert: c.os_cacert.clone(),
        cert: c.os_cert.clone(),
        key: c.os_key.clone(),
        insecure: c.insecure.then_some(true),
        token_cache: c.token_cache.then_some(true),
    };
    let mut opts = flags.or(AuthOptions::from_env(|k| std::env::var(k).ok()));
    if let Some(name) = s(&c.os_cloud) {
        let cloud = keystone_auth::load_cloud(&name, &SearchPath::standard())?;
        opts = opts.or(cloud.options);
    }
    Ok(opts.or(AuthOptions {
        default_domain: Some(DEFAULT_DOMAIN.into()),
        ..Default::default()
    }))
}

/// The auth kind: the one named, else Keystone's default kind when there is an auth URL, else
/// `None` (a token sent as is, without Keystone).
///
/// # Errors
/// An unknown auth type.
pub fn kind(o: &AuthOptions) -> Result<Option<AuthKind>> {
    Ok(match o.auth_type.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => Some(AuthKind::parse(t)?),
        None if o.auth_url.as_deref().is_some_and(|u| !u.is_empty()) => Some(o.kind()?),
        None => None,
    })
}

/// Logs in to Keystone, so that a wrong password or an unreachable Keystone is reported before
/// any Monasca request.
///
/// # Errors
/// Missing settings, TLS files that cannot be used, and every login failure.
pub async fn login(
    o: &AuthOptions,
    timeout_s: u64,
    user_agent: &str,
    observer: Arc<dyn monasca::RequestObserver>,
) -> Result<Arc<KeystoneSession>> {
    let auth_url = o.require_auth_url()?;
    let credentials = o.credentials()?;
    let cache = if o.token_cache == Some(true) {
        TokenCache::default_dir().map(TokenCache::new)
    } else {
        None
    };
    let session = KeystoneSession::builder(auth_url, credentials)
        .tls(o.tls())
        .timeout(Duration::from_secs(timeout_s))
        .user_agent(user_agent)
        .token_cache(cache)
        .observer(observer)
        .build()?;
    session.authenticate().await?;
    Ok(Arc::new(session))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use clap::Parser;

    use crate::cli::Cli;

    #[test]
    fn debug_of_the_arguments_hides_secrets() {
        let cli = Cli::try_parse_from([
            "monasca",
            "--os-password",
            "pw-s3cr3t",
            "--os-token",
            "tok-s3cr3t",
            "--os-application-credential-secret",
            "ac-s3cr3t",
            "--os-username",
            "mini-mon",
            "metric-list",
        ])
        .unwrap();
        let d = format!("{cli:?} {cli:#?}");
        for s in ["pw-s3cr3t", "tok-s3cr3t", "ac-s3cr3t"] {
            assert!(!d.contains(s), "{d}");
        }
        assert!(d.contains("mini-mon") && d.contains("<set>"));
        let opts = super::resolve(&cli.conn).unwrap();
        let d = format!("{opts:?}");
        assert!(!d.contains("s3cr3t"), "{d}");
        assert_eq!(opts.default_domain.as_deref(), Some("default"));
    }
}

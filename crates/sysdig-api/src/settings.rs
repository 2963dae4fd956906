//! The `[sysdig]` settings of `vigil serve`: who the bootstrap admin is, its Monitor API token,
//! the emulated IBM Cloud Monitoring instance and its IAM API keys. Secrets are `SecretString`s,
//! so the derived `Debug` prints them redacted.

use std::{collections::BTreeMap, time::Duration};

use secrecy::SecretString;
use serde::Deserialize;

pub const DEFAULT_ADMIN_USER: &str = "admin@vigil.local";
pub const DEFAULT_INSTANCE_ID: &str = "vigil-local";
pub const DEFAULT_IAM_TOKEN_TTL: Duration = Duration::from_secs(3600);
pub const DEFAULT_ALERT_INTERVAL: Duration = Duration::from_secs(30);

/// One IAM API key and the user its tokens act as.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamApiKey {
    pub api_key: SecretString,
    pub user: String,
}

/// Resolved Sysdig emulation settings.
#[derive(Clone, Debug)]
pub struct SysdigSettings {
    /// User name (an e-mail) of the customer admin created on first start.
    pub admin_user: String,
    /// Monitor API token of the admin in "Monitor Operations"; generated when `None`.
    pub admin_token: Option<SecretString>,
    /// The value the `IBMInstanceID` header must carry with an IAM token.
    pub instance_id: String,
    /// Keys `POST /identity/token` exchanges; empty refuses every key.
    pub iam_api_keys: Vec<IamApiKey>,
    /// Lifetime of the IAM tokens issued.
    pub iam_token_ttl: Duration,
    /// Team name → Monasca tenant whose metrics that team's MANUAL alerts are evaluated on;
    /// teams not listed get no evaluation.
    pub alert_tenants: BTreeMap<String, String>,
    /// How often alerts are evaluated.
    pub alert_interval: Duration,
    /// Whether Secure acts as an on-prem installation, where the system Falco rules file may
    /// be replaced; SaaS (the default) answers 405 to that.
    pub secure_on_prem: bool,
}

impl Default for SysdigSettings {
    fn default() -> Self {
        Self {
            admin_user: DEFAULT_ADMIN_USER.into(),
            admin_token: None,
            instance_id: DEFAULT_INSTANCE_ID.into(),
            iam_api_keys: Vec::new(),
            iam_token_ttl: DEFAULT_IAM_TOKEN_TTL,
            alert_tenants: BTreeMap::new(),
            alert_interval: DEFAULT_ALERT_INTERVAL,
            secure_on_prem: false,
        }
    }
}

/// The `[sysdig]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SysdigFileConfig {
    pub admin_user: Option<String>,
    pub admin_token: Option<SecretString>,
    pub instance_id: Option<String>,
    #[serde(default)]
    pub iam_api_keys: Vec<IamApiKey>,
    /// Seconds.
    pub iam_token_ttl: Option<u64>,
    /// `{ "Team name" = "monasca-tenant" }`.
    #[serde(default)]
    pub alert_tenants: BTreeMap<String, String>,
    /// Seconds.
    pub alert_interval: Option<u64>,
    /// Secure as on-prem: the system Falco rules file may be set.
    #[serde(default)]
    pub secure_on_prem: bool,
}

/// Flags and environment (clap merges the two; flags win).
#[derive(Debug, Default)]
pub struct SysdigOverrides {
    pub admin_user: Option<String>,
    pub admin_token: Option<SecretString>,
    pub instance_id: Option<String>,
    /// One key for the admin user.
    pub iam_api_key: Option<SecretString>,
    /// Seconds.
    pub iam_token_ttl: Option<u64>,
}

/// Layers flags/env over the file over the defaults.
///
/// # Errors
/// An empty admin user or instance id, or a zero token lifetime.
pub fn resolve(
    over: SysdigOverrides,
    file: Option<SysdigFileConfig>,
) -> anyhow::Result<SysdigSettings> {
    let file = file.unwrap_or_default();
    let admin_user = over
        .admin_user
        .or(file.admin_user)
        .unwrap_or_else(|| DEFAULT_ADMIN_USER.into());
    let instance_id = over
        .instance_id
        .or(file.instance_id)
        .unwrap_or_else(|| DEFAULT_INSTANCE_ID.into());
    if admin_user.trim().is_empty() || instance_id.trim().is_empty() {
        anyhow::bail!("sysdig admin_user and instance_id must not be empty");
    }
    let ttl = over.iam_token_ttl.or(file.iam_token_ttl).unwrap_or(3600);
    if ttl == 0 {
        anyhow::bail!("sysdig iam_token_ttl must be at least 1 second");
    }
    let mut iam_api_keys = file.iam_api_keys;
    if let Some(k) = over.iam_api_key {
        iam_api_keys.push(IamApiKey {
            api_key: k,
            user: admin_user.clone(),
        });
    }
    let alert_interval = file.alert_interval.unwrap_or(30);
    if alert_interval == 0 {
        anyhow::bail!("sysdig alert_interval must be at least 1 second");
    }
    Ok(SysdigSettings {
        alert_tenants: file.alert_tenants,
        alert_interval: Duration::from_secs(alert_interval),
        secure_on_prem: file.secure_on_prem,
        admin_user,
        admin_token: over.admin_token.or(file.admin_token),
        instance_id,
        iam_api_keys,
        iam_token_ttl: Duration::from_secs(ttl),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let s = resolve(
            SysdigOverrides {
                admin_token: Some(SecretString::from("tok-SECRET-1")),
                iam_api_key: Some(SecretString::from("key-SECRET-2")),
                ..Default::default()
            },
            Some(SysdigFileConfig {
                iam_api_keys: vec![IamApiKey {
                    api_key: SecretString::from("key-SECRET-3"),
                    user: "u@x".into(),
                }],
                ..Default::default()
            }),
        )
        .unwrap_or_default();
        let shown = format!("{s:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert_eq!(s.iam_api_keys.len(), 2);
        assert_eq!(s.iam_api_keys[1].user, DEFAULT_ADMIN_USER);
    }

    #[test]
    fn flags_win_over_file() {
        let s = resolve(
            SysdigOverrides {
                instance_id: Some("flag".into()),
                ..Default::default()
            },
            Some(SysdigFileConfig {
                instance_id: Some("file".into()),
                iam_token_ttl: Some(5),
                ..Default::default()
            }),
        )
        .unwrap_or_default();
        assert_eq!(s.instance_id, "flag");
        assert!(!s.secure_on_prem);
        let on_prem = resolve(
            SysdigOverrides::default(),
            Some(SysdigFileConfig {
                secure_on_prem: true,
                ..Default::default()
            }),
        )
        .unwrap_or_default();
        assert!(on_prem.secure_on_prem);
        assert_eq!(s.iam_token_ttl, Duration::from_secs(5));
        assert!(
            resolve(
                SysdigOverrides {
                    iam_token_ttl: Some(0),
                    ..Default::default()
                },
                None
            )
            .is_err()
        );
    }
}

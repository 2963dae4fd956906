//! Auth settings as OpenStack tools name them (`OS_AUTH_URL`, `OS_USERNAME`, ...), layered
//! (flags over environment over `clouds.yaml`) and turned into [`Credentials`], an
//! [`EndpointFilter`] and [`TlsOptions`].
//!
//! ```
//! use keystone_auth::AuthOptions;
//! let env = |k: &str| match k {
//!     "OS_AUTH_URL" => Some("http://h/identity".to_string()),
//!     "OS_USERNAME" => Some("mini-mon".to_string()),
//!     "OS_PASSWORD" => Some("password".to_string()),
//!     "OS_TENANT_NAME" => Some("mini-mon".to_string()),
//!     _ => None,
//! };
//! let opts = AuthOptions::from_env(env).or(AuthOptions { default_domain: Some("default".into()), ..Default::default() });
//! let creds = opts.credentials().unwrap();
//! assert_eq!(creds.body()["auth"]["scope"]["project"]["domain"]["id"], "default");
//! ```

use std::{fmt, path::PathBuf};

use secrecy::SecretString;

use crate::{
    AppCredentialRef, AuthMethod, Credentials, DomainRef, EndpointFilter, Error, Interface,
    ProjectRef, Result, Scope, TlsOptions, UserRef,
};

/// Which kind of login [`AuthOptions`] asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// Keystone `password`.
    Password,
    /// Keystone `token`.
    Token,
    /// Keystone `application_credential`.
    ApplicationCredential,
    /// No Keystone: a token sent as is (`admin_token`).
    AdminToken,
    /// No Keystone and no token (`none`, `noauth`).
    None,
}

impl AuthKind {
    /// Parses keystoneauth's plugin names (`password`, `v3password`, `token`, `v3token`,
    /// `v3applicationcredential`, `admin_token`, `none`, `noauth`).
    ///
    /// # Errors
    /// [`Error::Invalid`] for any other name.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "password" | "v3password" => Ok(AuthKind::Password),
            "token" | "v3token" => Ok(AuthKind::Token),
            "v3applicationcredential" | "applicationcredential" | "application_credential" => {
                Ok(AuthKind::ApplicationCredential)
            }
            "admin_token" => Ok(AuthKind::AdminToken),
            "none" | "noauth" => Ok(AuthKind::None),
            _ => Err(Error::Invalid(format!(
                "unsupported auth type {s:?}: use password, token, v3applicationcredential, \
                 admin_token or none"
            ))),
        }
    }

    /// Whether this kind logs in to Keystone.
    pub fn is_keystone(self) -> bool {
        matches!(
            self,
            AuthKind::Password | AuthKind::Token | AuthKind::ApplicationCredential
        )
    }
}

/// Every auth and transport setting, each optional so that layers can be merged with
/// [`AuthOptions::or`]. Secrets are [`SecretString`]s and `Debug` shows only whether they are set.
#[derive(Clone, Default)]
pub struct AuthOptions {
    pub auth_type: Option<String>,
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub password: Option<SecretString>,
    pub token: Option<SecretString>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    /// Domain scope (when no project is given).
    pub domain_name: Option<String>,
    pub domain_id: Option<String>,
    /// The domain id used for the user and the project when neither has one
    /// (`--os-default-domain`, as osc-lib does).
    pub default_domain: Option<String>,
    pub application_credential_id: Option<String>,
    pub application_credential_name: Option<String>,
    pub application_credential_secret: Option<SecretString>,
    pub region_name: Option<String>,
    pub interface: Option<String>,
    /// The service's URL, bypassing the catalog.
    pub endpoint_override: Option<String>,
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub insecure: Option<bool>,
    /// Keep tokens on disk between runs.
    pub token_cache: Option<bool>,
}

fn set<T>(o: &Option<T>) -> &'static str {
    if o.is_some() { "<set>" } else { "<unset>" }
}

impl fmt::Debug for AuthOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthOptions")
            .field("auth_type", &self.auth_type)
            .field("auth_url", &self.auth_url.as_deref().map(redact))
            .field("username", &self.username)
            .field("user_id", &self.user_id)
            .field("password", &set(&self.password))
            .field("token", &set(&self.token))
            .field("user_domain_name", &self.user_domain_name)
            .field("user_domain_id", &self.user_domain_id)
            .field("project_name", &self.project_name)
            .field("project_id", &self.project_id)
            .field("project_domain_name", &self.project_domain_name)
            .field("project_domain_id", &self.project_domain_id)
            .field("domain_name", &self.domain_name)
            .field("domain_id", &self.domain_id)
            .field("default_domain", &self.default_domain)
            .field("application_credential_id", &self.application_credential_id)
            .field(
                "application_credential_name",
                &self.application_credential_name,
            )
            .field(
                "application_credential_secret",
                &set(&self.application_credential_secret),
            )
            .field("region_name", &self.region_name)
            .field("interface", &self.interface)
            .field(
                "endpoint_override",
                &self.endpoint_override.as_deref().map(redact),
            )
            .field("cacert", &self.cacert)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("insecure", &self.insecure)
            .field("token_cache", &self.token_cache)
            .finish()
    }
}

fn redact(u: &str) -> String {
    url::Url::parse(u)
        .map(|u| crate::error::redact_url(&u))
        .unwrap_or_else(|_| u.to_string())
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

impl AuthOptions {
    /// This layer's values, and `lower`'s where this one has none.
    #[must_use]
    pub fn or(self, lower: AuthOptions) -> AuthOptions {
        AuthOptions {
            auth_type: self.auth_type.or(lower.auth_type),
            auth_url: self.auth_url.or(lower.auth_url),
            username: self.username.or(lower.username),
            user_id: self.user_id.or(lower.user_id),
            password: self.password.or(lower.password),
            token: self.token.or(lower.token),
            user_domain_name: self.user_domain_name.or(lower.user_domain_name),
            user_domain_id: self.user_domain_id.or(lower.user_domain_id),
            project_name: self.project_name.or(lower.project_name),
            project_id: self.project_id.or(lower.project_id),
            project_domain_name: self.project_domain_name.or(lower.project_domain_name),
            project_domain_id: self.project_domain_id.or(lower.project_domain_id),
            domain_name: self.domain_name.or(lower.domain_name),
            domain_id: self.domain_id.or(lower.domain_id),
            default_domain: self.default_domain.or(lower.default_domain),
            application_credential_id: self
                .application_credential_id
                .or(lower.application_credential_id),
            application_credential_name: self
                .application_credential_name
                .or(lower.application_credential_name),
            application_credential_secret: self
                .application_credential_secret
                .or(lower.application_credential_secret),
            region_name: self.region_name.or(lower.region_name),
            interface: self.interface.or(lower.interface),
            endpoint_override: self.endpoint_override.or(lower.endpoint_override),
            cacert: self.cacert.or(lower.cacert),
            cert: self.cert.or(lower.cert),
            key: self.key.or(lower.key),
            insecure: self.insecure.or(lower.insecure),
            token_cache: self.token_cache.or(lower.token_cache),
        }
    }

    /// The standard `OS_*` variables (empty ones count as unset); `OS_TENANT_NAME`/`OS_TENANT_ID`
    /// stand in for the project's name and id, `OS_TOKEN` or `OS_AUTH_TOKEN` for the token.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let s = |k: &str| nonempty(get(k));
        let secret = |k: &str| s(k).map(SecretString::from);
        AuthOptions {
            auth_type: s("OS_AUTH_TYPE"),
            auth_url: s("OS_AUTH_URL"),
            username: s("OS_USERNAME"),
            user_id: s("OS_USER_ID"),
            password: secret("OS_PASSWORD"),
            token: secret("OS_TOKEN").or_else(|| secret("OS_AUTH_TOKEN")),
            user_domain_name: s("OS_USER_DOMAIN_NAME"),
            user_domain_id: s("OS_USER_DOMAIN_ID"),
            project_name: s("OS_PROJECT_NAME").or_else(|| s("OS_TENANT_NAME")),
            project_id: s("OS_PROJECT_ID").or_else(|| s("OS_TENANT_ID")),
            project_domain_name: s("OS_PROJECT_DOMAIN_NAME"),
            project_domain_id: s("OS_PROJECT_DOMAIN_ID"),
            domain_name: s("OS_DOMAIN_NAME"),
            domain_id: s("OS_DOMAIN_ID"),
            default_domain: s("OS_DEFAULT_DOMAIN"),
            application_credential_id: s("OS_APPLICATION_CREDENTIAL_ID"),
            application_credential_name: s("OS_APPLICATION_CREDENTIAL_NAME"),
            application_credential_secret: secret("OS_APPLICATION_CREDENTIAL_SECRET"),
            region_name: s("OS_REGION_NAME"),
            interface: s("OS_INTERFACE"),
            endpoint_override: None,
            cacert: s("OS_CACERT").map(PathBuf::from),
            cert: s("OS_CERT").map(PathBuf::from),
            key: s("OS_KEY").map(PathBuf::from),
            insecure: s("OS_INSECURE").map(|v| truthy(&v)),
            token_cache: None,
        }
    }

    /// The auth kind: the one named by `auth_type`, else inferred as keystoneauth's generic
    /// plugins do (application credential if one is named, token if a token is given without a
    /// user, password otherwise).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown `auth_type`.
    pub fn kind(&self) -> Result<AuthKind> {
        if let Some(t) = self.auth_type.as_deref().filter(|t| !t.is_empty()) {
            return AuthKind::parse(t);
        }
        Ok(
            if self.application_credential_id.is_some()
                || self.application_credential_name.is_some()
            {
                AuthKind::ApplicationCredential
            } else if self.token.is_some() && self.username.is_none() && self.user_id.is_none() {
                AuthKind::Token
            } else {
                AuthKind::Password
            },
        )
    }

    fn user(&self) -> Result<UserRef> {
        if let Some(id) = &self.user_id {
            return Ok(UserRef::Id(id.clone()));
        }
        let Some(name) = &self.username else {
            return Err(Error::Missing {
                what: "a user name or id",
                hint: "--os-username or OS_USERNAME (or --os-user-id)",
            });
        };
        let domain = domain(
            &self.user_domain_id,
            &self.user_domain_name,
            &self.default_domain,
        )
        .ok_or(Error::Missing {
            what: "the user's domain",
            hint: "--os-user-domain-name or OS_USER_DOMAIN_NAME (or --os-user-domain-id)",
        })?;
        Ok(UserRef::name(name.clone(), domain))
    }

    /// The scope: a project (id, or name in a domain), else a domain, else none.
    ///
    /// # Errors
    /// [`Error::Missing`] for a project name without any domain.
    pub fn scope(&self) -> Result<Scope> {
        if let Some(id) = &self.project_id {
            return Ok(Scope::Project(ProjectRef::Id(id.clone())));
        }
        if let Some(name) = &self.project_name {
            let d = domain(
                &self.project_domain_id,
                &self.project_domain_name,
                &self.default_domain,
            )
            .ok_or(Error::Missing {
                what: "the project's domain",
                hint: "--os-project-domain-name or OS_PROJECT_DOMAIN_NAME (or --os-project-domain-id)",
            })?;
            return Ok(Scope::Project(ProjectRef::name(name.clone(), d)));
        }
        if let Some(d) = domain(&self.domain_id, &self.domain_name, &None) {
            return Ok(Scope::Domain(d));
        }
        Ok(Scope::Unscoped)
    }

    /// The Keystone credentials these settings describe.
    ///
    /// # Errors
    /// [`Error::Missing`] naming the first missing setting, [`Error::Invalid`] for a kind that
    /// does not use Keystone.
    pub fn credentials(&self) -> Result<Credentials> {
        let method = match self.kind()? {
            AuthKind::Password => {
                let user = self.user()?;
                let password = self.password.clone().ok_or(Error::Missing {
                    what: "a password",
                    hint: "--os-password or OS_PASSWORD",
                })?;
                AuthMethod::Password { user, password }
            }
            AuthKind::Token => AuthMethod::Token {
                token: self.token.clone().ok_or(Error::Missing {
                    what: "a token",
                    hint: "--os-token or OS_TOKEN",
                })?,
            },
            AuthKind::ApplicationCredential => {
                let secret = self
                    .application_credential_secret
                    .clone()
                    .ok_or(Error::Missing {
                        what: "the application credential secret",
                        hint: "--os-application-credential-secret or OS_APPLICATION_CREDENTIAL_SECRET",
                    })?;
                let credential = if let Some(id) = &self.application_credential_id {
                    AppCredentialRef::Id(id.clone())
                } else if let Some(name) = &self.application_credential_name {
                    AppCredentialRef::Name {
                        name: name.clone(),
                        user: self.user()?,
                    }
                } else {
                    return Err(Error::Missing {
                        what: "the application credential",
                        hint: "--os-application-credential-id or OS_APPLICATION_CREDENTIAL_ID (or a name and a user)",
                    });
                };
                AuthMethod::ApplicationCredential { credential, secret }
            }
            k @ (AuthKind::AdminToken | AuthKind::None) => {
                return Err(Error::Invalid(format!(
                    "auth type {k:?} does not log in to Keystone"
                )));
            }
        };
        Ok(Credentials::new(method, self.scope()?))
    }

    /// The auth URL.
    ///
    /// # Errors
    /// [`Error::Missing`].
    pub fn require_auth_url(&self) -> Result<&str> {
        self.auth_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or(Error::Missing {
                what: "the auth URL",
                hint: "--os-auth-url or OS_AUTH_URL",
            })
    }

    /// The catalog filter for a service type, with this region and interface.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown interface.
    pub fn endpoint_filter(&self, service_type: &str) -> Result<EndpointFilter> {
        let interface = match self.interface.as_deref().filter(|i| !i.is_empty()) {
            Some(i) => i.parse::<Interface>()?,
            None => Interface::Public,
        };
        Ok(EndpointFilter::new(service_type)
            .interface(interface)
            .region(self.region_name.clone()))
    }

    pub fn tls(&self) -> TlsOptions {
        TlsOptions {
            ca_file: self.cacert.clone(),
            client_cert: self.cert.clone(),
            client_key: self.key.clone(),
            insecure: self.insecure.unwrap_or(false),
        }
    }
}

fn domain(
    id: &Option<String>,
    name: &Option<String>,
    default_id: &Option<String>,
) -> Option<DomainRef> {
    id.clone()
        .map(DomainRef::Id)
        .or_else(|| name.clone().map(DomainRef::Name))
        .or_else(|| {
            default_id
                .clone()
                .filter(|d| !d.is_empty())
                .map(DomainRef::Id)
        })
}

/// `true`, `1`, `yes`, `on` (any case) are true; anything else is false.
pub fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn password_from_env_with_tenant_aliases() {
        let o = AuthOptions::from_env(env(&[
            ("OS_AUTH_URL", "http://h/identity"),
            ("OS_USERNAME", "mini-mon"),
            ("OS_PASSWORD", "pw"),
            ("OS_TENANT_NAME", "mini-mon"),
            ("OS_USER_DOMAIN_NAME", "Default"),
            ("OS_PROJECT_DOMAIN_NAME", "Default"),
            ("OS_REGION_NAME", ""),
        ]));
        assert_eq!(o.kind().unwrap(), AuthKind::Password);
        assert_eq!(o.region_name, None, "empty counts as unset");
        let body = o.credentials().unwrap().body();
        assert_eq!(
            body["auth"]["scope"],
            json!({"project": {"name": "mini-mon", "domain": {"name": "Default"}}})
        );
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["domain"],
            json!({"name": "Default"})
        );
        // OS_PROJECT_NAME wins over OS_TENANT_NAME.
        let o = AuthOptions::from_env(env(&[("OS_PROJECT_NAME", "a"), ("OS_TENANT_NAME", "b")]));
        assert_eq!(o.project_name.as_deref(), Some("a"));
        let o = AuthOptions::from_env(env(&[("OS_TENANT_ID", "p1")]));
        assert_eq!(o.scope().unwrap(), Scope::Project(ProjectRef::id("p1")));
    }

    #[test]
    fn layers_and_missing_settings() {
        let file = AuthOptions {
            auth_url: Some("http://file/identity".into()),
            username: Some("file-user".into()),
            password: Some("file-pw".to_string().into()),
            project_name: Some("p".into()),
            ..Default::default()
        };
        let env = AuthOptions {
            username: Some("env-user".into()),
            ..Default::default()
        };
        let flags = AuthOptions {
            auth_url: Some("http://flag/identity".into()),
            ..Default::default()
        };
        let o = flags.or(env).or(file);
        assert_eq!(o.auth_url.as_deref(), Some("http://flag/identity"));
        assert_eq!(o.username.as_deref(), Some("env-user"));
        assert!(o.password.is_some());
        // A project name needs a domain, unless a default domain is set.
        assert_eq!(
            o.credentials().unwrap_err().to_string(),
            "missing the user's domain: set --os-user-domain-name or OS_USER_DOMAIN_NAME (or --os-user-domain-id)"
        );
        let o = o.or(AuthOptions {
            default_domain: Some("default".into()),
            ..Default::default()
        });
        let body = o.credentials().unwrap().body();
        assert_eq!(
            body["auth"]["scope"]["project"]["domain"],
            json!({"id": "default"})
        );
        assert_eq!(
            AuthOptions::default()
                .require_auth_url()
                .unwrap_err()
                .to_string(),
            "missing the auth URL: set --os-auth-url or OS_AUTH_URL"
        );
        let no_pw = AuthOptions {
            user_id: Some("u".into()),
            ..Default::default()
        };
        assert!(
            no_pw
                .credentials()
                .unwrap_err()
                .to_string()
                .starts_with("missing a password")
        );
    }

    #[test]
    fn kinds_are_inferred_or_named() {
        let tok = AuthOptions {
            token: Some("t".to_string().into()),
            ..Default::default()
        };
        assert_eq!(tok.kind().unwrap(), AuthKind::Token);
        let ac = AuthOptions {
            application_credential_id: Some("ac".into()),
            application_credential_secret: Some("s".to_string().into()),
            ..Default::default()
        };
        assert_eq!(ac.kind().unwrap(), AuthKind::ApplicationCredential);
        assert!(ac.credentials().is_ok());
        let ac_by_name = AuthOptions {
            auth_type: Some("v3applicationcredential".into()),
            application_credential_name: Some("n".into()),
            application_credential_secret: Some("s".to_string().into()),
            user_id: Some("u".into()),
            ..Default::default()
        };
        assert_eq!(
            ac_by_name.credentials().unwrap().body()["auth"]["identity"]["application_credential"],
            json!({"name": "n", "user": {"id": "u"}, "secret": "s"})
        );
        for (name, kind) in [
            ("v3password", AuthKind::Password),
            ("token", AuthKind::Token),
            ("admin_token", AuthKind::AdminToken),
            ("noauth", AuthKind::None),
        ] {
            assert_eq!(AuthKind::parse(name).unwrap(), kind);
        }
        assert!(AuthKind::parse("v3oidcpassword").is_err());
        let dom = AuthOptions {
            domain_name: Some("Default".into()),
            ..Default::default()
        };
        assert_eq!(
            dom.scope().unwrap(),
            Scope::Domain(DomainRef::Name("Default".into()))
        );
    }

    #[test]
    fn endpoint_filter_and_tls() {
        let o = AuthOptions {
            interface: Some("internal".into()),
            region_name: Some("RegionTwo".into()),
            insecure: Some(true),
            ..Default::default()
        };
        let f = o.endpoint_filter("monitoring").unwrap();
        assert_eq!(f.interface, Interface::Internal);
        assert_eq!(f.region.as_deref(), Some("RegionTwo"));
        assert!(o.tls().insecure);
        let bad = AuthOptions {
            interface: Some("private".into()),
            ..Default::default()
        };
        assert!(bad.endpoint_filter("monitoring").is_err());
        assert!(truthy("TRUE") && truthy("1") && !truthy("0") && !truthy("no"));
    }

    #[test]
    fn debug_shows_no_secret() {
        let o = AuthOptions {
            auth_url: Some("http://u:url-secret@h/identity".into()),
            password: Some("pw-secret".to_string().into()),
            token: Some("tok-secret".to_string().into()),
            application_credential_secret: Some("ac-secret".to_string().into()),
            username: Some("mini-mon".into()),
            ..Default::default()
        };
        let d = format!("{o:?}");
        for s in ["url-secret", "pw-secret", "tok-secret", "ac-secret"] {
            assert!(!d.contains(s), "{d}");
        }
        assert!(d.contains("mini-mon") && d.contains("<set>"));
    }
}

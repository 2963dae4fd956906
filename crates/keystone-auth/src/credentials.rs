//! What to log in with (the `identity` part of a Keystone v3 token request) and what to scope
//! the token to, and the request body built from them without any I/O.
//!
//! ```
//! use keystone_auth::{AuthMethod, Credentials, DomainRef, ProjectRef, Scope, UserRef};
//! let creds = Credentials::new(
//!     AuthMethod::password(UserRef::name("mini-mon", DomainRef::Name("Default".into())), "secret"),
//!     Scope::Project(ProjectRef::name("mini-mon", DomainRef::Name("Default".into()))),
//! );
//! let body = creds.body();
//! assert_eq!(body["auth"]["identity"]["methods"][0], "password");
//! assert!(!format!("{creds:?}").contains("secret"));
//! ```

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

/// A domain, by id or by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DomainRef {
    Id(String),
    Name(String),
}

impl DomainRef {
    fn to_json(&self) -> Value {
        match self {
            DomainRef::Id(id) => json!({ "id": id }),
            DomainRef::Name(name) => json!({ "name": name }),
        }
    }
}

/// A user: by id, or by name within a domain (names are only unique within a domain).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UserRef {
    Id(String),
    Name { name: String, domain: DomainRef },
}

impl UserRef {
    pub fn id(id: impl Into<String>) -> Self {
        UserRef::Id(id.into())
    }

    pub fn name(name: impl Into<String>, domain: DomainRef) -> Self {
        UserRef::Name {
            name: name.into(),
            domain,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            UserRef::Id(id) => json!({ "id": id }),
            UserRef::Name { name, domain } => json!({ "name": name, "domain": domain.to_json() }),
        }
    }
}

/// A project: by id, or by name within a domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProjectRef {
    Id(String),
    Name { name: String, domain: DomainRef },
}

impl ProjectRef {
    pub fn id(id: impl Into<String>) -> Self {
        ProjectRef::Id(id.into())
    }

    pub fn name(name: impl Into<String>, domain: DomainRef) -> Self {
        ProjectRef::Name {
            name: name.into(),
            domain,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            ProjectRef::Id(id) => json!({ "id": id }),
            ProjectRef::Name { name, domain } => {
                json!({ "name": name, "domain": domain.to_json() })
            }
        }
    }
}

/// What the token is scoped to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// No `scope` in the request: Keystone scopes the token to the user's default project, if
    /// any, or leaves it unscoped.
    #[default]
    Unscoped,
    Project(ProjectRef),
    Domain(DomainRef),
}

/// An application credential: by id, or by name together with its owner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AppCredentialRef {
    Id(String),
    Name { name: String, user: UserRef },
}

/// How to prove who we are.
#[derive(Clone)]
pub enum AuthMethod {
    /// `password`: a user and its password.
    Password {
        user: UserRef,
        password: SecretString,
    },
    /// `token`: an existing Keystone token, exchanged for a (re-)scoped one.
    Token { token: SecretString },
    /// `application_credential`: pre-scoped by Keystone, so no scope is sent with it.
    ApplicationCredential {
        credential: AppCredentialRef,
        secret: SecretString,
    },
}

impl AuthMethod {
    pub fn password(user: UserRef, password: impl Into<String>) -> Self {
        AuthMethod::Password {
            user,
            password: SecretString::from(password.into()),
        }
    }

    pub fn token(token: impl Into<String>) -> Self {
        AuthMethod::Token {
            token: SecretString::from(token.into()),
        }
    }

    pub fn application_credential(credential: AppCredentialRef, secret: impl Into<String>) -> Self {
        AuthMethod::ApplicationCredential {
            credential,
            secret: SecretString::from(secret.into()),
        }
    }

    /// Keystone's name for the method (`methods` in the request).
    pub fn name(&self) -> &'static str {
        match self {
            AuthMethod::Password { .. } => "password",
            AuthMethod::Token { .. } => "token",
            AuthMethod::ApplicationCredential { .. } => "application_credential",
        }
    }
}

impl fmt::Debug for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthMethod::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"<redacted>")
                .finish(),
            AuthMethod::Token { .. } => f
                .debug_struct("Token")
                .field("token", &"<redacted>")
                .finish(),
            AuthMethod::ApplicationCredential { credential, .. } => f
                .debug_struct("ApplicationCredential")
                .field("credential", credential)
                .field("secret", &"<redacted>")
                .finish(),
        }
    }
}

/// A method and a scope: everything a `POST /v3/auth/tokens` needs besides the URL.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub method: AuthMethod,
    pub scope: Scope,
}

impl Credentials {
    pub fn new(method: AuthMethod, scope: Scope) -> Self {
        Self { method, scope }
    }

    /// The request body of `POST /v3/auth/tokens`. It holds the secret: never log it.
    pub fn body(&self) -> Value {
        let identity = match &self.method {
            AuthMethod::Password { user, password } => {
                let mut u = user.to_json();
                if let Value::Object(m) = &mut u {
                    m.insert(
                        "password".into(),
                        Value::String(password.expose_secret().to_string()),
                    );
                }
                json!({ "methods": ["password"], "password": { "user": u } })
            }
            AuthMethod::Token { token } => {
                json!({ "methods": ["token"], "token": { "id": token.expose_secret() } })
            }
            AuthMethod::ApplicationCredential { credential, secret } => {
                let mut c = match credential {
                    AppCredentialRef::Id(id) => json!({ "id": id }),
                    AppCredentialRef::Name { name, user } => {
                        json!({ "name": name, "user": user.to_json() })
                    }
                };
                if let Value::Object(m) = &mut c {
                    m.insert(
                        "secret".into(),
                        Value::String(secret.expose_secret().to_string()),
                    );
                }
                json!({ "methods": ["application_credential"], "application_credential": c })
            }
        };
        let mut auth = serde_json::Map::new();
        auth.insert("identity".into(), identity);
        // An application credential carries its own scope; Keystone refuses another one.
        if !matches!(self.method, AuthMethod::ApplicationCredential { .. }) {
            match &self.scope {
                Scope::Unscoped => {}
                Scope::Project(p) => {
                    auth.insert("scope".into(), json!({ "project": p.to_json() }));
                }
                Scope::Domain(d) => {
                    auth.insert("scope".into(), json!({ "domain": d.to_json() }));
                }
            }
        }
        json!({ "auth": auth })
    }

    /// The whole `POST {identity_v3}/auth/tokens` request, built without I/O.
    ///
    /// # Errors
    /// Only if the body cannot be serialized, which does not happen for these types.
    pub fn token_request(&self, identity_v3: &Url) -> http::Result<http::Request<Vec<u8>>> {
        let url = tokens_url(identity_v3);
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        http::Request::post(url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(body)
    }

    /// A stable description of who logs in where, without any secret except a token method's
    /// token (which is itself what the cache would hold); used to name a cache file.
    pub(crate) fn cache_identity(&self, identity_v3: &Url) -> String {
        let who = match &self.method {
            AuthMethod::Password { user, .. } => format!("password {user:?}"),
            AuthMethod::Token { token } => format!("token {}", token.expose_secret()),
            AuthMethod::ApplicationCredential { credential, .. } => {
                format!("application_credential {credential:?}")
            }
        };
        format!("{identity_v3}\n{who}\n{:?}", self.scope)
    }
}

/// `{identity_v3}/auth/tokens`, whether or not the base ends in a slash.
pub fn tokens_url(identity_v3: &Url) -> Url {
    let mut u = identity_v3.clone();
    let path = format!("{}/auth/tokens", u.path().trim_end_matches('/'));
    u.set_path(&path);
    u.set_query(None);
    u
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn default_domain() -> DomainRef {
        DomainRef::Name("Default".into())
    }

    #[test]
    fn password_with_user_name_and_project_name() {
        let c = Credentials::new(
            AuthMethod::password(UserRef::name("mini-mon", default_domain()), "pw"),
            Scope::Project(ProjectRef::name(
                "mini-mon",
                DomainRef::Id("default".into()),
            )),
        );
        assert_eq!(
            c.body(),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "mini-mon", "domain": {"name": "Default"}, "password": "pw"}}},
                "scope": {"project": {"name": "mini-mon", "domain": {"id": "default"}}}
            }})
        );
    }

    #[test]
    fn password_with_user_id_domain_scope_and_unscoped() {
        let c = Credentials::new(
            AuthMethod::password(UserRef::id("u1"), "pw"),
            Scope::Domain(DomainRef::Id("d1".into())),
        );
        assert_eq!(
            c.body(),
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}},
                "scope": {"domain": {"id": "d1"}}
            }})
        );
        let c = Credentials::new(
            AuthMethod::password(UserRef::id("u1"), "pw"),
            Scope::Unscoped,
        );
        assert!(c.body()["auth"].get("scope").is_none());
    }

    #[test]
    fn token_method_with_project_id() {
        let c = Credentials::new(
            AuthMethod::token("tok"),
            Scope::Project(ProjectRef::id("p1")),
        );
        assert_eq!(
            c.body(),
            json!({"auth": {
                "identity": {"methods": ["token"], "token": {"id": "tok"}},
                "scope": {"project": {"id": "p1"}}
            }})
        );
    }

    #[test]
    fn application_credentials_send_no_scope() {
        let c = Credentials::new(
            AuthMethod::application_credential(AppCredentialRef::Id("ac1".into()), "s"),
            Scope::Project(ProjectRef::id("ignored")),
        );
        assert_eq!(
            c.body(),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": "ac1", "secret": "s"}}}})
        );
        let c = Credentials::new(
            AuthMethod::application_credential(
                AppCredentialRef::Name {
                    name: "monitoring".into(),
                    user: UserRef::name("mini-mon", default_domain()),
                },
                "s",
            ),
            Scope::Unscoped,
        );
        assert_eq!(
            c.body()["auth"]["identity"]["application_credential"],
            json!({"name": "monitoring", "user": {"name": "mini-mon", "domain": {"name": "Default"}}, "secret": "s"})
        );
    }

    #[test]
    fn request_goes_to_auth_tokens() {
        let c = Credentials::new(AuthMethod::token("t"), Scope::Unscoped);
        for base in [
            "http://h/identity/v3",
            "http://h/identity/v3/",
            "http://h/identity/v3/?x=1",
        ] {
            let req = c.token_request(&Url::parse(base).unwrap()).unwrap();
            assert_eq!(req.method(), http::Method::POST);
            assert_eq!(req.uri(), "http://h/identity/v3/auth/tokens");
            assert_eq!(req.headers()["content-type"], "application/json");
            let body: Value = serde_json::from_slice(req.body()).unwrap();
            assert_eq!(body, c.body());
        }
    }

    #[test]
    fn debug_hides_every_secret() {
        let all = [
            AuthMethod::password(UserRef::id("u"), "hunter2-password"),
            AuthMethod::token("gAAAA-token-value"),
            AuthMethod::application_credential(
                AppCredentialRef::Id("ac".into()),
                "app-cred-secret",
            ),
        ];
        for m in all {
            let c = Credentials::new(m, Scope::Unscoped);
            let d = format!("{c:?} {c:#?}");
            for secret in ["hunter2-password", "gAAAA-token-value", "app-cred-secret"] {
                assert!(!d.contains(secret), "{d}");
            }
            assert!(d.contains("<redacted>"), "{d}");
        }
    }

    #[test]
    fn cache_identity_has_no_password() {
        let c = Credentials::new(
            AuthMethod::password(UserRef::id("u"), "hunter2-password"),
            Scope::Unscoped,
        );
        let id = c.cache_identity(&Url::parse("http://h/v3").unwrap());
        assert!(!id.contains("hunter2"));
        assert!(id.contains("\"u\""));
    }
}

//! `clouds.yaml` and `secure.yaml` as openstacksdk reads them
//! (`openstack/config/loader.py`): the first `clouds.{yaml,yml,json}` found in the current
//! directory, `$XDG_CONFIG_HOME/openstack`, `~/.config/openstack` and `/etc/openstack`
//! (`OS_CLIENT_CONFIG_FILE` goes first), the first `secure.*` found the same way
//! (`OS_CLIENT_SECURE_FILE` first) merged into it key by key, and one cloud picked by name
//! (`OS_CLOUD`).
//!
//! ```
//! # fn main() -> keystone_auth::Result<()> {
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("clouds.yaml"), "clouds:\n  devstack:\n    auth:\n      auth_url: http://h/identity\n      username: mini-mon\n    region_name: RegionOne\n").unwrap();
//! std::fs::write(dir.path().join("secure.yaml"), "clouds:\n  devstack:\n    auth:\n      password: s3cr3t\n").unwrap();
//! let search = keystone_auth::SearchPath::in_dirs([dir.path()]);
//! let cloud = keystone_auth::CloudsConfig::load(&search)?.cloud("devstack")?;
//! assert_eq!(cloud.options.username.as_deref(), Some("mini-mon"));
//! assert!(cloud.options.password.is_some());
//! # Ok(()) }
//! ```

use std::{
    fmt,
    path::{Path, PathBuf},
};

use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{AuthOptions, Error, Result, options::truthy};

const SUFFIXES: [&str; 3] = ["yaml", "yml", "json"];

/// Where to look for `clouds.*` and `secure.*`, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchPath {
    pub config_files: Vec<PathBuf>,
    pub secure_files: Vec<PathBuf>,
}

impl SearchPath {
    /// openstacksdk's search path for this process (environment, current directory, home).
    pub fn standard() -> Self {
        Self::from_env(|k| std::env::var(k).ok(), std::env::current_dir().ok())
    }

    /// The search path for given environment variables and current directory: the current
    /// directory, `$XDG_CONFIG_HOME/openstack`, `$HOME/.config/openstack` (`$SNAP_REAL_HOME`
    /// in a snap), `/etc/openstack`; `OS_CLIENT_CONFIG_FILE` and `OS_CLIENT_SECURE_FILE` first.
    pub fn from_env(get: impl Fn(&str) -> Option<String>, cwd: Option<PathBuf>) -> Self {
        let var = |k: &str| get(k).filter(|v| !v.is_empty());
        let mut dirs: Vec<PathBuf> = Vec::new();
        dirs.extend(cwd);
        if let Some(x) = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
        {
            dirs.push(x.join("openstack"));
        }
        if let Some(home) = var("SNAP_REAL_HOME").or_else(|| var("HOME")) {
            dirs.push(PathBuf::from(home).join(".config").join("openstack"));
        }
        dirs.push(PathBuf::from("/etc/openstack"));
        let mut unique: Vec<PathBuf> = Vec::new();
        for d in dirs {
            if !unique.contains(&d) {
                unique.push(d);
            }
        }
        let mut s = Self::in_dirs(unique);
        if let Some(f) = var("OS_CLIENT_CONFIG_FILE") {
            s.config_files.insert(0, PathBuf::from(f));
        }
        if let Some(f) = var("OS_CLIENT_SECURE_FILE") {
            s.secure_files.insert(0, PathBuf::from(f));
        }
        s
    }

    /// `clouds.{yaml,yml,json}` and `secure.{yaml,yml,json}` in each directory, in order.
    pub fn in_dirs<P: AsRef<Path>>(dirs: impl IntoIterator<Item = P>) -> Self {
        let mut s = Self::default();
        for d in dirs {
            for suffix in SUFFIXES {
                s.config_files
                    .push(d.as_ref().join(format!("clouds.{suffix}")));
                s.secure_files
                    .push(d.as_ref().join(format!("secure.{suffix}")));
            }
        }
        s
    }
}

/// The merged contents of the `clouds` and `secure` files found.
#[derive(Clone)]
pub struct CloudsConfig {
    /// The clouds file used, if one was found.
    pub path: Option<PathBuf>,
    /// The secure file merged into it, if one was found.
    pub secure_path: Option<PathBuf>,
    searched: Vec<PathBuf>,
    root: Map<String, Value>,
}

impl fmt::Debug for CloudsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudsConfig")
            .field("path", &self.path)
            .field("secure_path", &self.secure_path)
            .field("clouds", &self.cloud_names())
            .finish_non_exhaustive()
    }
}

/// One cloud's settings, as [`AuthOptions`] to layer under the environment and flags.
#[derive(Clone, Debug)]
pub struct CloudConfig {
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    pub options: AuthOptions,
}

/// Reads the first of `files` that exists: `None` if none does.
fn read_first(files: &[PathBuf]) -> Result<Option<(PathBuf, Map<String, Value>)>> {
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) if f.is_dir() => {
                let _ = e;
                continue;
            }
            Err(e) => {
                return Err(Error::Config {
                    path: f.clone(),
                    problem: format!("cannot read it: {e}"),
                });
            }
        };
        return parse(f, &text).map(|m| Some((f.clone(), m)));
    }
    Ok(None)
}

/// Parses a clouds or secure file (YAML, of which JSON is a subset).
fn parse(path: &Path, text: &str) -> Result<Map<String, Value>> {
    let problem = |p: String| Error::Config {
        path: path.to_path_buf(),
        problem: p,
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let v: Value =
        serde_saphyr::from_str(text).map_err(|e| problem(yaml_problem(&e.to_string())))?;
    match v {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => {
            match m.get("clouds") {
                None | Some(Value::Object(_)) | Some(Value::Null) => {}
                Some(_) => {
                    return Err(problem(
                        "`clouds` must be a mapping of cloud names to settings".into(),
                    ));
                }
            }
            Ok(m)
        }
        _ => Err(problem(
            "the top level must be a mapping with a `clouds` key".into(),
        )),
    }
}

/// The first line of a YAML error (the rest is a source snippet), without its `error: `.
fn yaml_problem(rendered: &str) -> String {
    let first = rendered
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid YAML");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("invalid YAML: {first}")
}

/// Deep merge: `over`'s values win, mappings merge key by key (openstacksdk's `merge_clouds`).
fn merge(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// `auth-url` → `auth_url`, at every level (openstacksdk's `_normalize_keys`).
fn normalize_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.replace('-', "_"), normalize_keys(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Numbers and booleans as strings: YAML reads `project_id: 12345` as a number.
fn stringify_scalars(v: &mut Value) {
    if let Value::Object(m) = v {
        for val in m.values_mut() {
            match val {
                Value::Number(n) => *val = Value::String(n.to_string()),
                Value::Bool(b) => *val = Value::String(b.to_string()),
                _ => {}
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Str(String),
    Num(serde_json::Number),
}

impl Scalar {
    fn truthy(&self) -> bool {
        match self {
            Scalar::Bool(b) => *b,
            Scalar::Str(s) => truthy(s),
            Scalar::Num(n) => n.as_f64().is_some_and(|f| f != 0.0),
        }
    }

    fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Str(s) => s.clone(),
            Scalar::Num(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRegion {
    Name(String),
    Full { name: String },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAuth {
    auth_url: Option<String>,
    username: Option<String>,
    user_id: Option<String>,
    password: Option<SecretString>,
    token: Option<SecretString>,
    user_domain_name: Option<String>,
    user_domain_id: Option<String>,
    project_name: Option<String>,
    project_id: Option<String>,
    tenant_name: Option<String>,
    tenant_id: Option<String>,
    project_domain_name: Option<String>,
    project_domain_id: Option<String>,
    domain_name: Option<String>,
    domain_id: Option<String>,
    default_domain: Option<String>,
    application_credential_id: Option<String>,
    application_credential_name: Option<String>,
    application_credential_secret: Option<SecretString>,
    /// The service URL of the `admin_token` and `none` plugins.
    endpoint: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCloud {
    auth: RawAuth,
    auth_type: Option<String>,
    region_name: Option<String>,
    regions: Vec<RawRegion>,
    interface: Option<String>,
    endpoint_type: Option<String>,
    verify: Option<Scalar>,
    insecure: Option<Scalar>,
    cacert: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    monitoring_endpoint_override: Option<String>,
    monitoring_interface: Option<String>,
    identity_api_version: Option<Scalar>,
}

impl CloudsConfig {
    /// Loads the first clouds file and the first secure file of the search path. Finding
    /// neither is not an error.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file that cannot be read or parsed.
    pub fn load(search: &SearchPath) -> Result<Self> {
        let clouds = read_first(&search.config_files)?;
        let secure = read_first(&search.secure_files)?;
        let (path, mut root) = match clouds {
            Some((p, m)) => (Some(p), m),
            None => (None, Map::new()),
        };
        let secure_path = secure.map(|(p, m)| {
            merge(&mut root, m);
            p
        });
        Ok(Self {
            path,
            secure_path,
            searched: search.config_files.clone(),
            root,
        })
    }

    /// The names of the clouds defined, in file order.
    pub fn cloud_names(&self) -> Vec<String> {
        match self.root.get("clouds") {
            Some(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the top-level `cache: {auth: true}` asks for tokens to be kept on disk.
    pub fn cache_auth(&self) -> bool {
        self.root
            .get("cache")
            .and_then(|c| c.get("auth"))
            .and_then(|v| serde_json::from_value::<Scalar>(v.clone()).ok())
            .is_some_and(|s| s.truthy())
    }

    /// One cloud's settings.
    ///
    /// # Errors
    /// [`Error::CloudNotFound`] (saying which file was read, or where none was found) and
    /// [`Error::Config`] for settings of the wrong shape.
    pub fn cloud(&self, name: &str) -> Result<CloudConfig> {
        let Some(path) = self.path.clone().or_else(|| self.secure_path.clone()) else {
            return Err(Error::CloudNotFound {
                name: name.to_string(),
                reason: format!(
                    "no clouds.yaml found (looked for {})",
                    self.searched
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        };
        let raw = match self.root.get("clouds").and_then(|c| c.get(name)) {
            Some(v) => v.clone(),
            None => {
                let names = self.cloud_names();
                return Err(Error::CloudNotFound {
                    name: name.to_string(),
                    reason: if names.is_empty() {
                        format!("{} defines no clouds", path.display())
                    } else {
                        format!("{} defines {}", path.display(), names.join(", "))
                    },
                });
            }
        };
        let problem = |p: String| Error::Config {
            path: path.clone(),
            problem: format!("clouds.{name}{p}"),
        };
        let mut v = match normalize_keys(raw) {
            Value::Null => Value::Object(Map::new()),
            v @ Value::Object(_) => v,
            _ => return Err(problem(": a cloud must be a mapping of settings".into())),
        };
        match v.get_mut("auth") {
            Some(a @ Value::Object(_)) => stringify_scalars(a),
            Some(Value::Null) | None => {}
            Some(_) => return Err(problem(".auth: must be a mapping".into())),
        }
        let c: RawCloud = serde_path_to_error::deserialize(v).map_err(|e| {
            let at = e.path().to_string();
            problem(format!(".{at}: {}", e.into_inner()))
        })?;
        if let Some(v) = &c.identity_api_version {
            let v = v.text();
            if !(v == "3" || v.starts_with("3.")) {
                return Err(problem(format!(
                    ".identity_api_version: {v} is not supported (only 3)"
                )));
            }
        }
        let a = c.auth;
        let insecure = match (&c.insecure, &c.verify) {
            (Some(i), _) => Some(i.truthy()),
            (None, Some(v)) => Some(!v.truthy()),
            (None, None) => None,
        };
        let options = AuthOptions {
            auth_type: c.auth_type,
            auth_url: a.auth_url,
            username: a.username,
            user_id: a.user_id,
            password: a.password,
            token: a.token,
            user_domain_name: a.user_domain_name,
            user_domain_id: a.user_domain_id,
            project_name: a.project_name.or(a.tenant_name),
            project_id: a.project_id.or(a.tenant_id),
            project_domain_name: a.project_domain_name,
            project_domain_id: a.project_domain_id,
            domain_name: a.domain_name,
            domain_id: a.domain_id,
            default_domain: a.default_domain,
            application_credential_id: a.application_credential_id,
            application_credential_name: a.application_credential_name,
            application_credential_secret: a.application_credential_secret,
            region_name: c.region_name.or_else(|| {
                c.regions.first().map(|r| match r {
                    RawRegion::Name(n) | RawRegion::Full { name: n } => n.clone(),
                })
            }),
            interface: c.monitoring_interface.or(c.interface).or(c.endpoint_type),
            endpoint_override: c.monitoring_endpoint_override.or(a.endpoint),
            cacert: c.cacert.map(PathBuf::from),
            cert: c.cert.map(PathBuf::from),
            key: c.key.map(PathBuf::from),
            insecure,
            token_cache: self.cache_auth().then_some(true),
        };
        Ok(CloudConfig {
            name: name.to_string(),
            path,
            options,
        })
    }
}

/// Loads the search path and picks one cloud: what `OS_CLOUD=name` means.
///
/// # Errors
/// As [`CloudsConfig::load`] and [`CloudsConfig::cloud`].
pub fn load_cloud(name: &str, search: &SearchPath) -> Result<CloudConfig> {
    CloudsConfig::load(search)?.cloud(name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::{AuthKind, DomainRef, ProjectRef, Scope};

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const CLOUDS: &str = r#"
clouds:
  devstack:
    auth:
      auth_url: http://192.0.2.10/identity
      username: mini-mon
      project-name: mini-mon
      user_domain_name: Default
      project_domain_id: default
    region_name: RegionOne
    interface: internal
    identity_api_version: 3
  numeric:
    auth_type: v3applicationcredential
    auth:
      auth_url: http://h/identity/v3
      application_credential_id: 12345
    regions:
      - name: RegionTwo
        values: {}
      - RegionThree
    verify: false
cache:
  auth: true
"#;

    #[test]
    fn search_path_order() {
        let env = |k: &str| match k {
            "HOME" => Some("/home/u".to_string()),
            "XDG_CONFIG_HOME" => Some("/xdg".to_string()),
            "OS_CLIENT_CONFIG_FILE" => Some("/tmp/my-clouds.yaml".to_string()),
            _ => None,
        };
        let s = SearchPath::from_env(env, Some("/cwd".into()));
        let shown: Vec<String> = s
            .config_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "/tmp/my-clouds.yaml",
                "/cwd/clouds.yaml",
                "/cwd/clouds.yml",
                "/cwd/clouds.json",
                "/xdg/openstack/clouds.yaml",
                "/xdg/openstack/clouds.yml",
                "/xdg/openstack/clouds.json",
                "/home/u/.config/openstack/clouds.yaml",
                "/home/u/.config/openstack/clouds.yml",
                "/home/u/.config/openstack/clouds.json",
                "/etc/openstack/clouds.yaml",
                "/etc/openstack/clouds.yml",
                "/etc/openstack/clouds.json",
            ]
        );
        assert_eq!(s.secure_files[0], PathBuf::from("/cwd/secure.yaml"));
        // XDG_CONFIG_HOME defaulting to ~/.config does not list the directory twice.
        let env = |k: &str| (k == "HOME").then(|| "/home/u".to_string());
        let s = SearchPath::from_env(env, None);
        assert_eq!(s.config_files.len(), 6);
    }

    #[test]
    fn first_file_wins_and_secure_merges() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        write(a.path(), "clouds.yml", CLOUDS);
        write(b.path(), "clouds.yaml", "clouds: {other: {}}");
        write(
            b.path(),
            "secure.yaml",
            "clouds:\n  devstack:\n    auth:\n      password: from-secure\n    region_name: RegionSecure\n",
        );
        let cfg = CloudsConfig::load(&SearchPath::in_dirs([a.path(), b.path()])).unwrap();
        assert_eq!(
            cfg.path.as_deref(),
            Some(a.path().join("clouds.yml").as_path())
        );
        assert_eq!(
            cfg.secure_path.as_deref(),
            Some(b.path().join("secure.yaml").as_path())
        );
        assert_eq!(cfg.cloud_names(), ["devstack", "numeric"]);
        assert!(cfg.cache_auth());
        let c = cfg.cloud("devstack").unwrap();
        let o = &c.options;
        assert_eq!(o.auth_url.as_deref(), Some("http://192.0.2.10/identity"));
        assert_eq!(o.region_name.as_deref(), Some("RegionSecure"));
        assert_eq!(o.interface.as_deref(), Some("internal"));
        assert_eq!(o.token_cache, Some(true));
        assert_eq!(
            o.scope().unwrap(),
            Scope::Project(ProjectRef::name(
                "mini-mon",
                DomainRef::Id("default".into())
            ))
        );
        let body = o.credentials().unwrap().body();
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["password"],
            "from-secure"
        );
        // Nothing secret in Debug.
        assert!(!format!("{c:?} {cfg:?}").contains("from-secure"));

        let n = cfg.cloud("numeric").unwrap().options;
        assert_eq!(n.kind().unwrap(), AuthKind::ApplicationCredential);
        assert_eq!(n.application_credential_id.as_deref(), Some("12345"));
        assert_eq!(n.region_name.as_deref(), Some("RegionTwo"));
        assert_eq!(n.insecure, Some(true));
    }

    #[test]
    fn env_override_file_and_json() {
        let a = tempfile::tempdir().unwrap();
        let f = write(
            a.path(),
            "elsewhere.json",
            r#"{"clouds": {"j": {"auth": {"auth_url": "http://j/identity", "user_id": "u1"}, "insecure": "true"}}}"#,
        );
        let env = |k: &str| (k == "OS_CLIENT_CONFIG_FILE").then(|| f.display().to_string());
        let cfg = CloudsConfig::load(&SearchPath::from_env(env, None)).unwrap();
        let o = cfg.cloud("j").unwrap().options;
        assert_eq!(o.user_id.as_deref(), Some("u1"));
        assert_eq!(o.insecure, Some(true));
        assert_eq!(o.token_cache, None);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "clouds.yaml", "clouds:\n  a: [1, 2\n");
        let e = CloudsConfig::load(&SearchPath::in_dirs([d.path()])).unwrap_err();
        let msg = e.to_string();
        assert_eq!(
            msg,
            format!(
                "malformed {}: invalid YAML: line 2 column 6: unclosed bracket '['",
                p.display()
            )
        );

        write(d.path(), "clouds.yaml", "- just\n- a list\n");
        let e = CloudsConfig::load(&SearchPath::in_dirs([d.path()])).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "malformed {}: the top level must be a mapping with a `clouds` key",
                p.display()
            )
        );

        write(d.path(), "clouds.yaml", "clouds: [a]\n");
        assert!(
            CloudsConfig::load(&SearchPath::in_dirs([d.path()]))
                .unwrap_err()
                .to_string()
                .contains("`clouds` must be a mapping")
        );

        write(
            d.path(),
            "clouds.yaml",
            "clouds:\n  a:\n    auth: nope\n  b:\n    auth:\n      auth_url: [x]\n  c:\n    regions: 7\n  d:\n    identity_api_version: 2\n",
        );
        let cfg = CloudsConfig::load(&SearchPath::in_dirs([d.path()])).unwrap();
        assert_eq!(
            cfg.cloud("a").unwrap_err().to_string(),
            format!(
                "malformed {}: clouds.a.auth: must be a mapping",
                p.display()
            )
        );
        let e = cfg.cloud("b").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "malformed {}: clouds.b.auth.auth_url: invalid type",
                p.display()
            )),
            "{e}"
        );
        let e = cfg.cloud("c").unwrap_err().to_string();
        assert!(e.contains("clouds.c.regions: invalid type"), "{e}");
        let e = cfg.cloud("d").unwrap_err().to_string();
        assert!(
            e.contains("identity_api_version: 2 is not supported"),
            "{e}"
        );
        assert_eq!(
            cfg.cloud("zzz").unwrap_err().to_string(),
            format!(
                "cloud \"zzz\" not found: {} defines a, b, c, d",
                p.display()
            )
        );
    }

    #[test]
    fn admin_token_clouds() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "clouds.yaml",
            "clouds:\n  local:\n    auth_type: admin_token\n    auth:\n      token: t0k\n      endpoint: http://127.0.0.1:8070/v2.0\n",
        );
        let o = load_cloud("local", &SearchPath::in_dirs([d.path()]))
            .unwrap()
            .options;
        assert_eq!(o.kind().unwrap(), AuthKind::AdminToken);
        assert!(o.token.is_some());
        assert_eq!(
            o.endpoint_override.as_deref(),
            Some("http://127.0.0.1:8070/v2.0")
        );
    }

    #[test]
    fn no_file_at_all() {
        let d = tempfile::tempdir().unwrap();
        let cfg = CloudsConfig::load(&SearchPath::in_dirs([d.path()])).unwrap();
        let e = cfg.cloud("x").unwrap_err().to_string();
        assert!(
            e.starts_with("cloud \"x\" not found: no clouds.yaml found (looked for "),
            "{e}"
        );
        // An empty file is an empty configuration.
        write(d.path(), "clouds.yaml", "");
        let cfg = CloudsConfig::load(&SearchPath::in_dirs([d.path()])).unwrap();
        assert!(
            cfg.cloud("x")
                .unwrap_err()
                .to_string()
                .contains("defines no clouds")
        );
    }
}

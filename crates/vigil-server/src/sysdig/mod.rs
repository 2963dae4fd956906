//! The Sysdig Monitor API emulation: storage, bootstrap, credentials. The HTTP side is in
//! `crate::api::sysdig`.
//!
//! IAM tokens issued by the emulated `POST /identity/token` live in memory only: a restart
//! forgets them (clients exchange their API key again, as they must after expiry anyway).

pub mod auth;
pub mod db;
pub mod error;
pub mod evaluator;
pub mod settings;

use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use db::Db;
use error::SdcResult;
use settings::SysdigSettings;

pub const ROLE_CUSTOMER: &str = "ROLE_CUSTOMER";
pub const ROLE_USER: &str = "ROLE_USER";
pub const TEAM_ROLES: &[&str] = &[
    "ROLE_TEAM_READ",
    "ROLE_TEAM_STANDARD",
    "ROLE_TEAM_EDIT",
    "ROLE_TEAM_MANAGER",
    "ROLE_TEAM_SERVICE_MANAGER",
];
pub const ROLE_TEAM_READ: &str = "ROLE_TEAM_READ";
pub const ROLE_TEAM_MANAGER: &str = "ROLE_TEAM_MANAGER";

/// File the generated admin token is written to, in the data directory.
pub const ADMIN_TOKEN_FILE: &str = "sysdig-admin-token";

/// An issued IAM access token.
struct IamToken {
    user_id: i64,
    expires: Instant,
}

/// What an IAM access token stands for.
pub enum IamLookup {
    Unknown,
    Expired,
    User(i64),
}

/// Everything the Sysdig handlers share. Cheap to clone.
#[derive(Clone)]
pub struct Sysdig {
    pub db: Db,
    pub settings: Arc<SysdigSettings>,
    iam: Arc<Mutex<HashMap<String, IamToken>>>,
    /// Injected failures (`POST /vigil/sysdig/faults`), in memory only.
    faults: Arc<Mutex<Vec<Fault>>>,
}

/// The next `remaining` requests matching `method` (any when empty) and `path` answer `status`.
#[derive(Clone, Debug)]
pub struct Fault {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub remaining: u32,
    pub retry_after: Option<u64>,
}

impl Sysdig {
    /// Opens `sysdig.db` in `data_dir`, bootstraps it on first start and applies the
    /// configured admin token and IAM users.
    ///
    /// # Errors
    /// The database cannot be opened or written, or the admin token file cannot be written.
    pub async fn open(data_dir: &Path, settings: SysdigSettings) -> anyhow::Result<Self> {
        let path = data_dir.join("sysdig.db");
        let data_dir = data_dir.to_path_buf();
        let settings = Arc::new(settings);
        let s = settings.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Self> {
            let db = Db::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
            let written = db
                .tx_blocking(|c| bootstrap(c, &s))
                .map_err(|e| anyhow::anyhow!("cannot bootstrap {}: {e:?}", path.display()))?;
            if let Some(token) = written {
                write_secret_file(&data_dir.join(ADMIN_TOKEN_FILE), &token)?;
            }
            Ok(Self {
                db,
                settings: s,
                iam: Arc::default(),
                faults: Arc::default(),
            })
        })
        .await
        .context("sysdig start-up task failed")?
    }

    /// Issues an IAM token for `user_id`, valid for the configured lifetime.
    pub fn iam_issue(&self, user_id: i64) -> (String, Duration) {
        let ttl = self.settings.iam_token_ttl;
        let token = format!(
            "vigil-iam.{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let now = Instant::now();
        let mut map = self.iam.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, t| t.expires > now);
        map.insert(
            token.clone(),
            IamToken {
                user_id,
                expires: now + ttl,
            },
        );
        (token, ttl)
    }

    pub fn add_fault(&self, fault: Fault) {
        let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        f.push(fault);
    }

    /// Consumes one matching injected failure: `(status, retry_after)`.
    pub fn take_fault(&self, method: &str, path: &str) -> Option<(u16, Option<u64>)> {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let i = faults.iter().position(|f| {
            f.path == path && (f.method.is_empty() || f.method.eq_ignore_ascii_case(method))
        })?;
        let hit = (faults[i].status, faults[i].retry_after);
        faults[i].remaining = faults[i].remaining.saturating_sub(1);
        if faults[i].remaining == 0 {
            faults.remove(i);
        }
        Some(hit)
    }

    pub fn iam_lookup(&self, token: &str) -> IamLookup {
        let map = self.iam.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(token) {
            None => IamLookup::Unknown,
            Some(t) if t.expires <= Instant::now() => IamLookup::Expired,
            Some(t) => IamLookup::User(t.user_id),
        }
    }
}

/// Writes `secret` to `path` readable by the owner only.
fn write_secret_file(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn default_team_doc(product: &str, description: &str) -> Map<String, Value> {
    let now = db::now_ms();
    let v = json!({
        "description": description,
        "theme": "#7BB0B2",
        "show": "host",
        "filter": null,
        "canUseSysdigCapture": true,
        "canUseCustomEvents": true,
        "canUseAwsMetrics": true,
        "canUseBeaconMetrics": true,
        "canUseRapidResponse": false,
        "canUseAgentCli": false,
        "defaultTeamRole": "ROLE_TEAM_STANDARD",
        "entryPoint": {"module": if product == "SDS" { "Policies" } else { "Explore" }},
        "products": [product],
        "default": true,
        "immutable": true,
        "origin": "SYSDIG",
        "dateCreated": now,
        "lastUpdated": now,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub fn new_user_doc(first: &str, last: &str) -> Map<String, Value> {
    let now = db::now_ms();
    let mut m = Map::new();
    m.insert("firstName".into(), first.into());
    m.insert("lastName".into(), last.into());
    m.insert("enabled".into(), true.into());
    m.insert("status".into(), "confirmed".into());
    m.insert("dateCreated".into(), now.into());
    m.insert("lastUpdated".into(), now.into());
    m
}

/// First start: customer, default teams, admin. Every start: the admin and IAM users exist,
/// the admin token is the configured one (or a stored/generated one). Returns the admin token
/// to write to the token file when it was not configured.
fn bootstrap(c: &rusqlite::Transaction<'_>, s: &SysdigSettings) -> SdcResult<Option<String>> {
    c.execute(
        "INSERT OR IGNORE INTO customer(id, name) VALUES (1, 'vigil')",
        [],
    )?;
    if db::meta_get(c, "bootstrapped")?.is_none() {
        for (name, product, description) in [
            (
                "Monitor Operations",
                "SDC",
                "Immutable Monitor team with full visibility",
            ),
            (
                "Secure Operations",
                "SDS",
                "Immutable Secure team with full visibility",
            ),
        ] {
            if db::team_by_name(c, name)?.is_none() {
                db::team_insert(c, name, &default_team_doc(product, description))?;
            }
        }
        db::meta_set(c, "bootstrapped", "1")?;
    }
    let admin = match db::user_by_name(c, &s.admin_user)? {
        Some(u) => u,
        None => {
            let u = db::user_insert(c, &s.admin_user, ROLE_CUSTOMER, &new_user_doc("Admin", ""))?;
            for t in db::teams(c)? {
                if t.is_default() {
                    db::membership_set(c, t.id, u.id, ROLE_TEAM_MANAGER)?;
                }
            }
            u
        }
    };
    for k in &s.iam_api_keys {
        if db::user_by_name(c, &k.user)?.is_none() {
            db::user_insert(c, &k.user, ROLE_USER, &new_user_doc("", ""))?;
        }
    }
    let Some(monitor) = db::default_team(c, "SDC")? else {
        return Ok(None);
    };
    if db::membership(c, monitor.id, admin.id)?.is_none() {
        db::membership_set(c, monitor.id, admin.id, ROLE_TEAM_MANAGER)?;
    }
    match &s.admin_token {
        Some(t) => {
            db::token_set(c, admin.id, monitor.id, t.expose_secret())?;
            Ok(None)
        }
        None => Ok(Some(db::token_for(c, admin.id, monitor.id)?)),
    }
}

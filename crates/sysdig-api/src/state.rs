//! What the Sysdig handlers share: the repository, the settings, the IAM tokens issued and the
//! injected faults.
//!
//! IAM tokens issued by the emulated `POST /identity/token` live in memory only: a restart
//! forgets them (clients exchange their API key again, as they must after expiry anyway).

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use config_repo::{
    outbox::{OptionsCheck, Outbox, Wake},
    sqlite::sysdig::{SYSDIG_DB_FILE, SqliteSysdigRepo},
    sysdig::SysdigRepo,
};

use metric_store::MetricStore;

use crate::{domain::bootstrap, settings::SysdigSettings};

/// File the generated admin token is written to, in the data directory.
pub const ADMIN_TOKEN_FILE: &str = "sysdig-admin-token";

/// What an IAM access token stands for.
pub enum IamLookup {
    Unknown,
    Expired,
    User(i64),
}

/// What the notification engine offers the API; the server fills it in from its engine.
#[derive(Clone)]
pub struct ChannelDelivery {
    /// Where alert notifications and test notifications are queued, and whose attempt log a
    /// channel's `deliveries` reads.
    pub outbox: Arc<dyn Outbox>,
    /// The engine's check of a channel's options for its type (what the type needs, URLs
    /// it must not call).
    pub check_options: OptionsCheck,
    /// Tells the engine deliveries were queued (so it need not wait for its next poll).
    pub wake: Wake,
}

/// Everything the Sysdig handlers share. Cheap to clone.
#[derive(Clone)]
pub struct SysdigState {
    pub repo: Arc<dyn SysdigRepo>,
    pub settings: Arc<SysdigSettings>,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// Signs and checks IAM access tokens with the database's key.
    iam: crate::iam_tokens::IamSigner,
    /// Injected failures (`POST /vigil/sysdig/faults`), in memory only.
    faults: Arc<Mutex<Vec<Fault>>>,
    /// The Monasca metrics, for the agents that report to a team's tenant; `None` when the
    /// server did not hand them over.
    pub metrics: Option<Arc<dyn MetricStore>>,
    pub delivery: ChannelDelivery,
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

impl SysdigState {
    /// Opens `sysdig.db` in `data_dir`, bootstraps it on first start and applies the
    /// configured admin token and IAM users.
    ///
    /// # Errors
    /// The database cannot be opened or written, or the admin token file cannot be written.
    pub async fn open(
        data_dir: &Path,
        settings: SysdigSettings,
        max_body_bytes: usize,
    ) -> anyhow::Result<Self> {
        let path = data_dir.join(SYSDIG_DB_FILE);
        let opened = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || SqliteSysdigRepo::open(&path))
                .await
                .context("sysdig start-up task failed")?
        };
        let opened = opened.with_context(|| format!("cannot open {}", path.display()))?;
        let outbox: Arc<dyn config_repo::outbox::Outbox> = Arc::new(opened.outbox());
        Self::open_with_repo(
            data_dir,
            Arc::new(opened),
            outbox,
            &path.display().to_string(),
            settings,
            max_body_bytes,
        )
        .await
    }

    /// [`SysdigState::open`] on a repository the caller opened (`repo_name` names it in
    /// errors): the server's choice of backend, shared by several nodes. Bootstrapping runs in
    /// one unit of work, so nodes starting together bootstrap once.
    ///
    /// # Errors
    /// The repository cannot be written, or the admin token file cannot be written.
    pub async fn open_with_repo(
        data_dir: &Path,
        repo: Arc<dyn SysdigRepo>,
        outbox: Arc<dyn config_repo::outbox::Outbox>,
        repo_name: &str,
        settings: SysdigSettings,
        max_body_bytes: usize,
    ) -> anyhow::Result<Self> {
        let delivery = ChannelDelivery {
            outbox,
            check_options: Arc::new(|_, _| Ok(())),
            wake: Arc::new(|| {}),
        };
        let settings = Arc::new(settings);
        let s = settings.clone();
        let written = repo
            .tx(move |c| bootstrap::run(c, &s))
            .await
            .map_err(|e| anyhow::anyhow!("cannot bootstrap {repo_name}: {e}"))?;
        let key = repo
            .tx(|c| -> config_repo::RepoResult<String> {
                if let Some(k) = c.meta_get(crate::iam_tokens::SIGNING_KEY_META)? {
                    return Ok(k);
                }
                let k = crate::iam_tokens::new_key_text();
                c.meta_set(crate::iam_tokens::SIGNING_KEY_META, &k)?;
                Ok(k)
            })
            .await
            .map_err(|e| {
                anyhow::anyhow!("cannot read the IAM signing key from {repo_name}: {e}")
            })?;
        if let Some(token) = written {
            let file = data_dir.join(ADMIN_TOKEN_FILE);
            tokio::task::spawn_blocking(move || write_secret_file(&file, &token))
                .await
                .context("sysdig start-up task failed")??;
        }
        Ok(Self {
            repo,
            settings,
            max_body_bytes,
            iam: crate::iam_tokens::IamSigner::new(&key),
            faults: Arc::default(),
            metrics: None,
            delivery,
        })
    }

    /// The state telling the notification engine of queued deliveries (`wake`) and checking
    /// channels with it (`check_options`).
    #[must_use]
    pub fn with_delivery(mut self, check_options: OptionsCheck, wake: Wake) -> Self {
        self.delivery.check_options = check_options;
        self.delivery.wake = wake;
        self
    }

    /// The Monasca project whose metrics `caller`'s team reads (`[sysdig] alert_tenants`);
    /// `None` when the team is mapped to none.
    pub fn tenant_of(&self, caller: &crate::auth::Caller) -> Option<&str> {
        self.settings
            .alert_tenants
            .get(&caller.team.name)
            .map(String::as_str)
    }

    /// The state reading `store` for what only metrics tell (connected agents).
    #[must_use]
    pub fn with_metrics(mut self, store: Arc<dyn MetricStore>) -> Self {
        self.metrics = Some(store);
        self
    }

    /// Issues an IAM token for `user_id`, valid for the configured lifetime.
    pub fn iam_issue(&self, user_id: i64) -> (String, Duration) {
        let ttl = self.settings.iam_token_ttl;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let token = self
            .iam
            .issue(user_id, config_repo::now_ms().saturating_add(ttl_ms));
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
        self.iam.check(token, config_repo::now_ms())
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

impl SysdigState {
    /// Runs `f` in one transaction of the repository: `Ok` commits, `Err` rolls back.
    ///
    /// # Errors
    /// What `f` returns, or the repository's failure.
    pub async fn tx<T, F>(&self, f: F) -> crate::SdcResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn config_repo::sysdig::SysdigTx) -> crate::SdcResult<T> + Send + 'static,
    {
        self.repo.tx(f).await
    }

    /// [`SysdigState::tx`] for work that only reads: on a shared database it need not wait
    /// for other units of work.
    ///
    /// # Errors
    /// What `f` returns, or the repository's failure.
    pub async fn read<T, F>(&self, f: F) -> crate::SdcResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn config_repo::sysdig::SysdigTx) -> crate::SdcResult<T> + Send + 'static,
    {
        self.repo.read(f).await
    }
}

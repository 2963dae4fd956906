//! A small pool of synchronous PostgreSQL connections. The repository traits run their work
//! as sync closures on the blocking pool, so a blocking client fits; the pool caps how many
//! connections a node opens and replaces those the server closed.

use std::{
    sync::{Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use config_repo::{RepoError, RepoResult};
use postgres::{Client, NoTls};

use crate::{PgResultExt, migrate};

/// Where the database is: a `postgres://` URL or a `key=value` string. `Debug` never shows
/// the password.
#[derive(Clone)]
pub struct PgSettings {
    config: postgres::Config,
    /// Connections one node keeps open at most.
    pub max_connections: usize,
}

impl PgSettings {
    /// Parses `url`. The error does not repeat the URL (it may hold a password).
    ///
    /// # Errors
    /// [`RepoError::Invalid`] when `url` is not a PostgreSQL connection string, or asks for
    /// TLS (`sslmode=require`), which this build does not speak.
    pub fn parse(url: &str) -> RepoResult<Self> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| RepoError::Invalid(format!("bad PostgreSQL connection string: {e}")))?;
        // No TLS client is linked yet: refuse rather than connect in clear text when TLS was
        // asked for (`prefer` falls back to clear text, as libpq does without TLS).
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(RepoError::Invalid(
                "sslmode=require: Vigil does not speak TLS to PostgreSQL yet; use it on \
                 loopback or a trusted network with sslmode=disable or prefer"
                    .into(),
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("vigil");
        }
        Ok(Self {
            config,
            max_connections: 8,
        })
    }

    /// The settings with `password` instead of the URL's (kept out of the URL, and so out of
    /// process listings and config files).
    #[must_use]
    pub fn with_password(mut self, password: &str) -> Self {
        self.config.password(password);
        self
    }

    /// The settings with room for `n` connections (at least one).
    #[must_use]
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        f.debug_struct("PgSettings")
            .field("hosts", &c.get_hosts())
            .field("ports", &c.get_ports())
            .field("dbname", &c.get_dbname())
            .field("user", &c.get_user())
            .field("password", &c.get_password().map(|_| "<redacted>"))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// A connection out of the pool, returned when dropped.
struct Lease<'a> {
    db: &'a PgDb,
    client: Option<Client>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            self.db.release(c);
        }
    }
}

struct Slots {
    /// Free connections with the time each was handed back.
    idle: Vec<(Client, Instant)>,
    open: usize,
}

/// A connection idle longer than this is checked before use: the server may have restarted
/// (or closed it) meanwhile, and a request should not be the one to find out.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

struct Shared {
    settings: PgSettings,
    slots: Mutex<Slots>,
    freed: Condvar,
}

/// The blocking client runs its own small runtime and closes a connection by blocking on it,
/// which panics on a thread of the async runtime, where the last handle of a pool is often
/// dropped: idle connections are closed on a thread of their own.
impl Drop for Shared {
    fn drop(&mut self) {
        let slots = self.slots.get_mut().unwrap_or_else(|e| e.into_inner());
        let idle = std::mem::take(&mut slots.idle);
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(idle));
        }
    }
}

/// A connected database with an up-to-date schema. Cheap to clone.
#[derive(Clone)]
pub struct PgDb {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl PgDb {
    /// Connects and applies the migrations this build knows (see [`migrate`]). Blocks: call
    /// it outside the async runtime, or use [`PgDb::open`].
    ///
    /// # Errors
    /// The server cannot be reached, refuses the login, or a migration fails.
    pub fn connect(settings: &PgSettings) -> RepoResult<Self> {
        let db = Self {
            shared: Arc::new(Shared {
                settings: settings.clone(),
                slots: Mutex::new(Slots {
                    idle: Vec::new(),
                    open: 0,
                }),
                freed: Condvar::new(),
            }),
        };
        db.blocking(migrate::apply)?;
        Ok(db)
    }

    /// [`PgDb::connect`] on the blocking pool, for callers inside the async runtime (where the
    /// blocking client must not run).
    ///
    /// # Errors
    /// As [`PgDb::connect`].
    pub async fn open(settings: &PgSettings) -> RepoResult<Self> {
        let settings = settings.clone();
        tokio::task::spawn_blocking(move || Self::connect(&settings))
            .await
            .map_err(|e| RepoError::Storage(format!("database task failed: {e}")))?
    }

    /// Runs `f` with a pooled connection on the calling thread, waiting for one to be free.
    ///
    /// # Errors
    /// What `f` returns, or a failure to connect.
    pub fn blocking<T>(&self, f: impl FnOnce(&mut Client) -> RepoResult<T>) -> RepoResult<T> {
        // Handed back even if `f` panics (an open transaction rolls back as it drops).
        let mut lease = Lease {
            db: self,
            client: Some(self.acquire()?),
        };
        match lease.client.as_mut() {
            Some(client) => f(client),
            None => Err(RepoError::Storage("no connection".into())),
        }
    }

    /// [`PgDb::blocking`] on the blocking pool.
    ///
    /// # Errors
    /// What `f` returns, a failure to connect, or [`RepoError::Storage`] if the task fails.
    pub async fn call<T, F>(&self, f: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> RepoResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.blocking(f))
            .await
            .map_err(|e| RepoError::Storage(format!("database task failed: {e}")))?
    }

    /// Runs `f` in one transaction on the blocking pool: committed when it returns `Ok`,
    /// rolled back otherwise.
    ///
    /// # Errors
    /// What `f` returns, or a database failure.
    pub async fn tx<T, F>(&self, f: F) -> RepoResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut postgres::Transaction<'_>) -> RepoResult<T> + Send + 'static,
    {
        self.call(move |c| {
            let mut tx = c.transaction().pg()?;
            let out = f(&mut tx)?;
            tx.commit().pg()?;
            Ok(out)
        })
        .await
    }

    fn acquire(&self) -> RepoResult<Client> {
        let shared = &self.shared;
        let mut slots = shared.slots.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some((mut c, since)) = slots.idle.pop() {
                if !c.is_closed() {
                    if since.elapsed() < CHECK_AFTER_IDLE {
                        return Ok(c);
                    }
                    drop(slots);
                    let alive = c.is_valid(Duration::from_secs(2)).is_ok();
                    if alive {
                        return Ok(c);
                    }
                    drop(c);
                    slots = shared.slots.lock().unwrap_or_else(|e| e.into_inner());
                }
                slots.open -= 1;
                continue;
            }
            if slots.open < shared.settings.max_connections {
                slots.open += 1;
                drop(slots);
                return shared.settings.config.connect(NoTls).map_err(|e| {
                    let mut slots = shared.slots.lock().unwrap_or_else(|e| e.into_inner());
                    slots.open -= 1;
                    shared.freed.notify_one();
                    RepoError::Storage(format!("cannot connect to PostgreSQL: {e}"))
                });
            }
            slots = shared.freed.wait(slots).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn release(&self, client: Client) {
        let mut slots = self.shared.slots.lock().unwrap_or_else(|e| e.into_inner());
        if client.is_closed() {
            slots.open -= 1;
        } else {
            slots.idle.push((client, Instant::now()));
        }
        self.shared.freed.notify_one();
    }
}

//! A throwaway PostgreSQL for the tests: `initdb` into a temporary directory and a server on a
//! free loopback port, started once per test binary. PostgreSQL refuses to run as root, so as
//! root the server runs as the `postgres` user (Debian's package creates it) or a `vigil-test`
//! system user created for it. A watchdog stops the server and removes the directory once the
//! test process has exited. Without PostgreSQL's binaries the tests fail, they do not skip.
//!
//! Test support (feature `testing`), for this crate's tests and the server's: it panics
//! rather than returning errors.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

static SHARED: OnceLock<Instance> = OnceLock::new();

/// The directory of `initdb`, `pg_ctl` and `postgres`: `$VIGIL_PG_BIN`, or the newest
/// `/usr/lib/postgresql/*/bin` (Debian's layout).
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("VIGIL_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(Path::file_name)
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server binaries were not found (install Debian's `postgresql`, or set \
             VIGIL_PG_BIN to the directory holding initdb and pg_ctl)"
        )
    })
}

fn output(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The user the server runs as when we are root.
fn unprivileged_user() -> Option<String> {
    if output(Command::new("id").arg("-u")) != "0" {
        return None;
    }
    for user in ["postgres", "vigil-test"] {
        if Command::new("id")
            .arg("-u")
            .arg(user)
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(user.into());
        }
    }
    output(Command::new("useradd").args(["--system", "--no-create-home", "vigil-test"]));
    Some("vigil-test".into())
}

/// `program` from the server's directory, run as `user` when given.
fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// A PostgreSQL server of its own: in a temporary directory, on a free loopback port, run as
/// an unprivileged user; stopped and removed by a watchdog once the test process is gone.
pub struct Instance {
    bin: PathBuf,
    user: Option<String>,
    dir: PathBuf,
    port: u16,
}

impl Instance {
    /// `initdb` and a started server. Blocks.
    pub fn create() -> Self {
        static INSTANCES: AtomicUsize = AtomicUsize::new(0);
        let bin = bin_dir();
        let user = unprivileged_user();
        let n = INSTANCES.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("vigil-pg-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        if let Some(u) = &user {
            output(Command::new("chown").arg(u).arg(&dir));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("{e}"))
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let instance = Self {
            bin,
            user,
            dir,
            port,
        };
        output(
            instance
                .command("initdb")
                .arg("-D")
                .arg(instance.data())
                .args([
                    "-U",
                    "vigil",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ]),
        );
        instance.start();
        instance.watchdog();
        instance
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, program: &str) -> Command {
        as_user(self.user.as_deref(), &self.bin.join(program))
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        output(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.join("log"))
                .args(["-w", "-o", &options, "start"]),
        );
    }

    /// Stops the server, closing every connection (as an operator's restart does).
    pub fn stop(&self) {
        output(
            self.command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-w", "-m", "fast", "stop"]),
        );
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://vigil@127.0.0.1:{}/{name}", self.port)
    }

    /// The URL of a new, empty database. Blocks (run it off the async runtime).
    pub fn create_database(&self) -> String {
        static DATABASES: AtomicUsize = AtomicUsize::new(0);
        let name = format!("t{}", DATABASES.fetch_add(1, Ordering::SeqCst));
        let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("{e}"));
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("{e}"));
        self.url(&name)
    }

    /// Stops the server and removes its files once this test process is gone.
    fn watchdog(&self) {
        let stop = self.command("pg_ctl");
        let stop = format!(
            "{} -D '{}' -m immediate stop",
            std::iter::once(stop.get_program())
                .chain(stop.get_args())
                .map(|a| format!("'{}'", a.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" "),
            self.data().display()
        );
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display(),
        );
        // Left running on purpose: it outlives this process to clean up after it.
        #[allow(clippy::zombie_processes)]
        let _watchdog = Command::new("sh")
            .args(["-c", &watchdog])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The URL of a new, empty database on the server this test binary shares. Runs on its own
/// thread: the blocking client must not run inside the tests' async runtime.
pub fn fresh_database() -> String {
    std::thread::spawn(|| SHARED.get_or_init(Instance::create).create_database())
        .join()
        .unwrap_or_else(|_| panic!("cannot create a test database"))
}

/// A connected database with the schema applied.
pub async fn fresh_db() -> crate::PgDb {
    open(&fresh_database()).await
}

/// A node's connection to the database at `url`.
pub async fn open(url: &str) -> crate::PgDb {
    let settings = crate::PgSettings::parse(url).unwrap_or_else(|e| panic!("{e}"));
    crate::PgDb::open(&settings)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

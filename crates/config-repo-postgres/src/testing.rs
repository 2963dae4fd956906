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

struct Server {
    port: u16,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

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

fn start() -> Server {
    let bin = bin_dir();
    let user = unprivileged_user();
    let dir = std::env::temp_dir().join(format!("vigil-pg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    if let Some(u) = &user {
        output(Command::new("chown").arg(u).arg(&dir));
    }
    let data = dir.join("data");
    output(
        as_user(user.as_deref(), &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
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
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"))
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        dir.display()
    );
    output(
        as_user(user.as_deref(), &bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-o", &options, "start"]),
    );
    // Stops the server and removes its files once this test process is gone.
    let stop = as_user(user.as_deref(), &bin.join("pg_ctl"));
    let stop = format!(
        "{} -D '{}' -m immediate stop",
        std::iter::once(stop.get_program())
            .chain(stop.get_args())
            .map(|a| format!("'{}'", a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" "),
        data.display()
    );
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display(),
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
    Server { port }
}

/// The URL of a new, empty database on the test server. Runs on its own thread: the blocking
/// client must not run inside the tests' async runtime.
pub fn fresh_database() -> String {
    std::thread::spawn(create_database)
        .join()
        .unwrap_or_else(|_| panic!("cannot create a test database"))
}

fn create_database() -> String {
    let server = SERVER.get_or_init(start);
    let name = format!("t{}", DATABASES.fetch_add(1, Ordering::SeqCst));
    let admin = format!("postgres://vigil@127.0.0.1:{}/postgres", server.port);
    let mut c =
        postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| panic!("{e}"));
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("{e}"));
    format!("postgres://vigil@127.0.0.1:{}/{name}", server.port)
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

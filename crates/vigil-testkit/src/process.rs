//! A real `vigil serve` process on `127.0.0.1`: a free port, a throwaway data directory, its
//! settings in a written config file (`vigil serve --config`), ready once `/healthcheck`
//! answers, killed when dropped. The binary is the one `cargo` built next to the test's own
//! CLI binary ([`vigil_next_to`]); a missing or stale one fails the test with what to run.
//! Its stores are the embedded ones unless the environment names others ([`crate::backends`]).

use std::{
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime},
};

use crate::sysdig_creds;

/// What to build first when the `vigil` binary is missing or stale.
const BUILD_IT: &str = "run `cargo build -p vigil-server` (same profile as the tests) first; \
                        `cargo test --workspace` builds it";

/// How long a server may take to answer `/healthcheck` (a debug build on a busy machine).
const READY_WITHIN: Duration = Duration::from_secs(60);

/// `[notifications.email]` naming an SMTP server nobody runs (the discard port).
pub const NO_MAIL: &str =
    "[notifications.email]\nserver = \"127.0.0.1\"\nport = 9\nfrom_addr = \"vigil@localhost\"\n";

/// The settings a test server starts with, written to its config file.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Config {
    identity: bool,
    sysdig_creds: bool,
    sysdig_tenant: Option<String>,
    frozen_clock_ms: Option<i64>,
}

impl Config {
    /// `auth = "identity"`: requests are authenticated by the built-in Keystone v3 subset (at
    /// `/identity`, with its default users `mini-mon` and `monasca-agent`, password `password`).
    pub fn identity(mut self) -> Self {
        self.identity = true;
        self
    }

    /// The fixed admin token and IBM IAM API key of [`sysdig_creds`].
    pub fn sysdig_creds(mut self) -> Self {
        self.sysdig_creds = true;
        self
    }

    /// The team "Monitor Operations" reads the Monasca project `tenant` (alert evaluation and
    /// PromQL at `/prometheus/api/v1`); needs [`Config::sysdig_creds`].
    pub fn sysdig_tenant(mut self, tenant: &str) -> Self {
        self.sysdig_tenant = Some(tenant.to_string());
        self
    }

    /// The threshold engine's clock stands still at `ms`: alarm timestamps are fixed and no
    /// period ever closes. Each batch is decided before its POST is answered, and the periodic
    /// re-evaluation runs hourly, so not during a test.
    pub fn frozen_clock(mut self, ms: i64) -> Self {
        self.frozen_clock_ms = Some(ms);
        self
    }

    /// The config file for a server on `bind` over `data_dir`.
    pub fn toml(&self, bind: &str, data_dir: &Path) -> String {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let mut t = format!(
            "bind = {}\ndata_dir = {}\n",
            text(bind),
            text(&data_dir.to_string_lossy())
        );
        if self.identity {
            t.push_str("auth = \"identity\"\n");
        }
        if self.sysdig_creds {
            t.push_str(&format!(
                "[sysdig]\nadmin_token = {}\niam_api_keys = [{{ api_key = {}, user = {} }}]\n",
                text(sysdig_creds::ADMIN_TOKEN),
                text(sysdig_creds::IBM_KEY),
                text(sysdig_creds::ADMIN),
            ));
            if let Some(tenant) = &self.sysdig_tenant {
                t.push_str(&format!(
                    "alert_tenants = {{ \"Monitor Operations\" = {} }}\n",
                    text(tenant)
                ));
            }
        }
        if let Some(ms) = self.frozen_clock_ms {
            t.push_str(&format!(
                "[engine]\ninline = true\ntick_s = 3600\nfrozen_clock_ms = {ms}\n"
            ));
        }
        // An SMTP server, so EMAIL methods are accepted; nothing listens there, so mail is
        // tried and retried but never leaves the machine.
        t.push_str(NO_MAIL);
        t
    }
}

/// A running `vigil serve`; killed (and its directory removed) when dropped.
pub struct VigilProcess {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl VigilProcess {
    /// Starts `bin` with `config` on a free loopback port and waits until it serves.
    ///
    /// # Panics
    /// When it exits or does not answer within a minute; the message has its log.
    pub async fn start(bin: &Path, config: &Config) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut dir = tempfile::tempdir().unwrap();
        let mut last_log = String::new();
        // The stores (ClickHouse, PostgreSQL) when the environment names them: a fresh
        // database each, kept across the port retries.
        let backend = crate::backends::server_env();
        // Another process may take the free port before the server binds it: try again.
        for _ in 0..3 {
            let port = free_port();
            let conf = dir.path().join("vigil.toml");
            let bind = format!("127.0.0.1:{port}");
            fs::write(&conf, config.toml(&bind, &dir.path().join("data"))).unwrap();
            let log_path = dir.path().join("vigil.log");
            let log = fs::File::create(&log_path).unwrap();
            let child = Command::new(bin)
                .arg("serve")
                .arg("--config")
                .arg(&conf)
                // Only the config file speaks: no VIGIL_* of the developer's shell.
                .env_clear()
                .env("VIGIL_LOG", "info")
                .envs(backend.iter().map(|(k, v)| (k, v)))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            let mut server = Self {
                child,
                url: format!("http://{bind}"),
                dir,
            };
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(why) => {
                    last_log = format!("{why}\n--- {} ---\n{}", log_path.display(), server.log());
                    if !last_log.contains("cannot listen") {
                        panic!("vigil did not start: {last_log}");
                    }
                    server.kill();
                    // The directory goes on to the next attempt.
                    dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
                }
            }
        }
        panic!("vigil did not start: {last_log}")
    }

    /// Polls `/healthcheck` until it answers 2xx; an error when the process exits first or
    /// the time is up.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!("it exited with {status}"));
            }
            let answer = http.get(format!("{}/healthcheck", self.url)).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_WITHIN {
                return Err(format!("no /healthcheck answer within {READY_WITHIN:?}"));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// What the server logged so far (stderr).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("vigil.log")).unwrap_or_default()
    }

    /// A Monasca client for `tenant` (without Keystone the token names the project).
    pub fn monasca(&self, tenant: &str) -> monasca::Client {
        crate::clients::monasca(&self.url, tenant)
    }

    /// A Sysdig client with `token`.
    pub fn sysdig(&self, token: &str) -> sysdig::Client {
        crate::clients::sysdig(&self.url, token)
    }
}

impl Drop for VigilProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The `vigil` binary of the build that made `cli_bin` (a test's `env!("CARGO_BIN_EXE_…")`):
/// `target/<profile>/vigil`.
///
/// # Panics
/// With what to run, when it is missing or older than a workspace source file it is built from
/// (the files cargo lists in `vigil.d`; without that list, every file under `crates/*/src`).
pub fn vigil_next_to(cli_bin: impl AsRef<Path>) -> PathBuf {
    let dir = cli_bin.as_ref().parent().unwrap_or(Path::new("."));
    let bin = dir.join(format!("vigil{}", std::env::consts::EXE_SUFFIX));
    let Ok(built) = fs::metadata(&bin).and_then(|m| m.modified()) else {
        panic!("the vigil binary {} is missing: {BUILD_IT}", bin.display());
    };
    if let Some(newer) = sources(&bin)
        .into_iter()
        .find(|src| modified(src).is_some_and(|m| m > built))
    {
        panic!(
            "the vigil binary {} is older than {}: {BUILD_IT}",
            bin.display(),
            newer.display()
        );
    }
    bin
}

fn modified(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The workspace crates' source files `bin` is built from.
fn sources(bin: &Path) -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let dep_info = bin.with_file_name(format!(
        "{}.d",
        bin.file_name().unwrap_or_default().to_string_lossy()
    ));
    match fs::read_to_string(dep_info) {
        Ok(text) => dep_info_paths(&text)
            .into_iter()
            .filter(|p| p.starts_with(&crates))
            .collect(),
        Err(_) => {
            let mut all = Vec::new();
            for krate in fs::read_dir(&crates).into_iter().flatten().flatten() {
                walk(&krate.path().join("src"), &mut all);
            }
            all
        }
    }
}

/// The prerequisites of a make-style dep-info file (`target: a b\ c`).
fn dep_info_paths(text: &str) -> Vec<PathBuf> {
    let Some(line) = text.lines().find(|l| !l.trim().is_empty()) else {
        return Vec::new();
    };
    let Some((_, deps)) = line.split_once(": ") else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut cur = String::new();
    let mut chars = deps.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            ' ' => {
                if !cur.is_empty() {
                    paths.push(PathBuf::from(std::mem::take(&mut cur)));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        paths.push(PathBuf::from(cur));
    }
    paths
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_lists_escaped_paths() {
        let d = "/t/vigil: /w/crates/a/src/lib.rs /w/crates/b\\ c/src/x.rs\n\n/w/crates/a/src/lib.rs:\n";
        assert_eq!(
            dep_info_paths(d),
            vec![
                PathBuf::from("/w/crates/a/src/lib.rs"),
                PathBuf::from("/w/crates/b c/src/x.rs")
            ]
        );
    }

    #[test]
    fn a_missing_or_stale_binary_names_the_build_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let cli = dir.path().join("monasca");
        let missing = std::panic::catch_unwind(|| vigil_next_to(&cli)).unwrap_err();
        let text = missing.downcast_ref::<String>().unwrap();
        assert!(text.contains("is missing") && text.contains("cargo build -p vigil-server"));

        let bin = dir.path().join("vigil");
        fs::write(&bin, "").unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs");
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1);
        fs::File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::write(
            dir.path().join("vigil.d"),
            format!("{}: {}\n", bin.display(), src.display()),
        )
        .unwrap();
        let stale = std::panic::catch_unwind(|| vigil_next_to(&cli)).unwrap_err();
        let text = stale.downcast_ref::<String>().unwrap();
        assert!(
            text.contains("is older than") && text.contains("src/lib.rs"),
            "{text}"
        );

        fs::File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(3600))
            .unwrap();
        assert_eq!(vigil_next_to(&cli), bin);
    }

    #[test]
    fn the_config_file_carries_the_settings() {
        let t = Config::default()
            .identity()
            .sysdig_creds()
            .frozen_clock(crate::T0)
            .toml("127.0.0.1:1", Path::new("/d \"q\""));
        assert!(t.starts_with("bind = \"127.0.0.1:1\"\ndata_dir = \"/d \\\"q\\\"\"\nauth = \"identity\"\n[sysdig]\n"), "{t}");
        assert!(
            t.contains("[engine]\ninline = true\ntick_s = 3600\nfrozen_clock_ms = 1767225600000\n"),
            "{t}"
        );
        assert_eq!(
            Config::default().toml("b", Path::new("/d")),
            format!("bind = \"b\"\ndata_dir = \"/d\"\n{NO_MAIL}")
        );
    }
}

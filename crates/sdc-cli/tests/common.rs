//! The real `sdc` binary against a real `vigil serve` process of the shared test kit.

use vigil_testkit::process::{Config, VigilProcess, vigil_next_to};
pub use vigil_testkit::{
    cli::{Out, redact},
    sysdig_creds::{ADMIN, ADMIN_TOKEN, IBM_KEY},
};

pub struct Env {
    pub server: VigilProcess,
}

impl Env {
    /// A server that knows the fixed Sysdig admin token and IBM API key.
    pub async fn start() -> Self {
        Self::with(Config::default().sysdig_creds()).await
    }

    /// [`Env::start`] with "Monitor Operations" reading the Monasca project `tenant`.
    pub async fn start_reading(tenant: &str) -> Self {
        Self::with(Config::default().sysdig_creds().sysdig_tenant(tenant)).await
    }

    async fn with(config: Config) -> Self {
        let bin = vigil_next_to(env!("CARGO_BIN_EXE_sdc"));
        Self {
            server: VigilProcess::start(&bin, &config).await,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Runs `sdc` with only the given environment.
    pub async fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Out {
        vigil_testkit::cli::run(env!("CARGO_BIN_EXE_sdc"), env, args).await
    }

    /// Runs `sdc` as the admin (`SDC_URL`, `SDC_TOKEN`).
    pub async fn run(&self, args: &[&str]) -> Out {
        let url = self.url();
        self.run_env(&[("SDC_URL", &url), ("SDC_TOKEN", ADMIN_TOKEN)], args)
            .await
    }

    /// A command that must succeed silently on stderr; its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        self.run(args).await.ok(args)
    }

    /// `--json` output, parsed.
    pub async fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a).await).unwrap()
    }

    /// A command that must fail with `code` and one line on stderr; that line.
    pub async fn fails(&self, code: i32, args: &[&str]) -> String {
        let o = self.run(args).await;
        check_failure(&o, code, args);
        o.stderr.trim_end().to_string()
    }
}

pub fn check_failure(o: &Out, code: i32, args: &[&str]) {
    o.failed(code, args);
    if code == 1 {
        assert!(o.stderr.starts_with("sdc: "), "{}", o.stderr);
    }
}

/// Replaces the ISO-8601 UTC instants tables show (`2024-01-02T03:04:05Z`) with as many `X`,
/// so snapshot tables keep their shape.
pub fn redact_times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:ddZ";
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.get(i..i + SHAPE.len()).is_some_and(|w| {
            w.iter().zip(SHAPE).all(|(c, s)| {
                if *s == b'd' {
                    c.is_ascii_digit()
                } else {
                    c == s
                }
            })
        });
        if fits {
            out.extend(std::iter::repeat_n(b'X', SHAPE.len()));
            i += SHAPE.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The value of `field` in a `Field | Value` table.
pub fn row(table: &str, field: &str) -> Option<String> {
    table.lines().find_map(|l| {
        let (name, value) = l.trim_start_matches('│').split_once('┆')?;
        (name.trim() == field).then(|| value.trim_end_matches('│').trim().to_string())
    })
}

#[test]
fn redacts_times_and_reads_rows() {
    assert_eq!(
        redact_times("│ 2024-01-02T03:04:05Z ┆ 2024-01-02T08:34:05+05:30"),
        "│ XXXXXXXXXXXXXXXXXXXX ┆ 2024-01-02T08:34:05+05:30"
    );
    let t = "│ id       ┆ 1     │\n│ timespan ┆ 1h30m │";
    assert_eq!(row(t, "timespan").as_deref(), Some("1h30m"));
    assert_eq!(row(t, "none"), None);
}

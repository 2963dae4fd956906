//! Runs a CLI binary (`monasca`, `sdc`) with only the given environment.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// What a command did.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `bin` with `args` and exactly `env` (the test's own environment is cleared).
pub async fn run(bin: impl Into<PathBuf>, env: &[(&str, &str)], args: &[&str]) -> Out {
    run_in(bin, None, env, args).await
}

/// [`run`] in the directory `cwd` (where a tool looks for its config files).
pub async fn run_in(
    bin: impl Into<PathBuf>,
    cwd: Option<&Path>,
    env: &[(&str, &str)],
    args: &[&str],
) -> Out {
    let bin = bin.into();
    let cwd = cwd.map(Path::to_path_buf);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(bin);
        cmd.args(&args).env_clear().envs(env);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let o = cmd.output().unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8(o.stdout).unwrap(),
            stderr: String::from_utf8(o.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

impl Out {
    /// Asserts success with nothing on stderr; the stdout.
    pub fn ok(self, args: &[&str]) -> String {
        assert_eq!(self.code, 0, "{args:?}: {}", self.stderr);
        assert!(self.stderr.is_empty(), "{args:?}: {}", self.stderr);
        self.stdout
    }

    /// Asserts exit `code`; a failure (1) must be one line on stderr and nothing on stdout.
    pub fn failed(&self, code: i32, args: &[&str]) {
        assert_eq!(self.code, code, "{args:?}: {} {}", self.stdout, self.stderr);
        if code == 1 {
            assert_eq!(self.stderr.lines().count(), 1, "{args:?}: {}", self.stderr);
            assert!(self.stdout.is_empty(), "{args:?}: {}", self.stdout);
        }
    }
}

/// Replaces numbers of 10 digits or more (timestamps) and uuid-shaped words with fixed text
/// of the same width, so snapshot tables keep their shape.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |w: &mut String, out: &mut String| {
        let digits = w.chars().all(|c| c.is_ascii_digit());
        let uuid = w.len() == 36 && w.chars().filter(|c| *c == '-').count() == 4;
        if (digits && w.len() >= 10) || uuid {
            out.push_str(&"X".repeat(w.len()));
        } else {
            out.push_str(w);
        }
        w.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

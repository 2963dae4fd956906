//! What Vigil's command-line tools (`monasca`, `sdc`) share: running an async command on a
//! current-thread runtime, reporting an error chain on one line, writing to stdout without
//! failing on a closed pipe (`| head`), table rendering, and charts of time series
//! ([`plot`]).
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     cli_kit::main("tool", |e| eprintln!("tool: {}", cli_kit::one_line(e)), async {
//!         cli_kit::print("hello")
//!     })
//! }
//! ```

pub mod plot;

use std::{future::Future, io::Write, process::ExitCode};

pub use clap_complete::Shell;
use comfy_table::{ContentArrangement, Table};
pub use comfy_table::{LineStyle, TableStyle, presets};

/// Runs `command` on a current-thread runtime; an error goes to `report` and exits 1.
pub fn main(
    tool: &str,
    report: impl FnOnce(&anyhow::Error),
    command: impl Future<Output = anyhow::Result<()>>,
) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{tool}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

/// The error and each cause not already part of its message, joined by `": "`.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}

/// Writes `text` and a newline to stdout; a closed pipe (`| head`) is not an error.
///
/// # Errors
/// Any other write failure.
pub fn print(text: &str) -> anyhow::Result<()> {
    write_stdout(format!("{text}\n").as_bytes())
}

/// Writes `bytes` to stdout as they are; a closed pipe is not an error.
///
/// # Errors
/// Any other write failure.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Prints the `shell` completion script of `cmd`, named `bin`.
///
/// # Errors
/// stdout cannot be written (a closed pipe is fine).
pub fn completion(
    shell: clap_complete::Shell,
    cmd: &mut clap::Command,
    bin: &str,
) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, cmd, bin, &mut script);
    write_stdout(&script)
}

/// Writes the man pages of `cmd` and of each of its subcommands (`bin.1`, `bin-sub.1`, ...)
/// into `dir`, creating it; returns the files written.
///
/// # Errors
/// The directory or a page cannot be written.
pub fn man_pages(
    cmd: clap::Command,
    dir: &std::path::Path,
) -> anyhow::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    write_pages(cmd, dir, &mut written)?;
    Ok(written)
}

fn write_pages(
    cmd: clap::Command,
    dir: &std::path::Path,
    written: &mut Vec<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let cmd = cmd.disable_help_subcommand(true);
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
    let path = dir.join(format!("{name}.1"));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    std::fs::write(&path, page)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let sub = sub
            .clone()
            .display_name(format!("{name}-{}", sub.get_name()));
        write_pages(sub, dir, written)?;
    }
    Ok(())
}

/// `2024-01-02T03:04:05Z`: an instant as the CLIs' tables and charts show it (whole seconds;
/// `--json` keeps the rest).
pub fn instant_utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Pretty JSON, as both tools print it.
///
/// # Errors
/// A value that does not serialize.
pub fn json<T: serde::Serialize>(v: &T) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)?)
}

/// A table in `style` with a fixed layout (the same output on a terminal, in a pipe and in
/// snapshots).
pub fn table(style: TableStyle, headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(style);
    t.set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(headers.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

/// [`table`] wrapped to at most `width` columns (cells wrap; a table that cannot fit stays
/// as narrow as it can).
pub fn table_within(
    style: TableStyle,
    width: u16,
    headers: &[&str],
    rows: Vec<Vec<String>>,
) -> String {
    let mut t = Table::new();
    t.load_style(style);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(width);
    t.set_header(headers.to_vec());
    for r in rows {
        t.add_row(r);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn joins_causes_once() {
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(one_line(&e), "outer: inner");
        let e = anyhow::anyhow!("outer: inner").context("outer: inner");
        assert_eq!(one_line(&e), "outer: inner");
    }

    #[test]
    fn man_pages_cover_every_visible_subcommand() {
        let cmd = clap::Command::new("tool")
            .about("A tool")
            .subcommand(clap::Command::new("list").about("Lists"))
            .subcommand(clap::Command::new("secret").hide(true));
        let dir = std::env::temp_dir().join(format!("cli-kit-man-{}", std::process::id()));
        let files = man_pages(cmd, &dir).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["tool.1", "tool-list.1"]);
        let page = std::fs::read_to_string(dir.join("tool-list.1")).unwrap();
        assert!(page.contains("Lists"), "{page}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tables_keep_their_shape() {
        let t = table(
            presets::ASCII_FULL_CONDENSED.header_separator(LineStyle::new('+', '-', '+', '+')),
            &["a", "b"],
            vec![vec!["1".into(), "2".into()]],
        );
        assert_eq!(t, "+---+---+\n| a | b |\n+---+---+\n| 1 | 2 |\n+---+---+");
    }
}

/// The latest attempt to deliver one test notification, as a server's delivery log shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct TestAttempt {
    /// `DELIVERED`, `RETRYING`, `FAILED` or `DROPPED`.
    pub status: String,
    pub attempt: u32,
    pub answer: String,
}

/// Follows test notification `event_id` until an attempt is final or `wait` seconds pass,
/// asking `latest` for its newest attempt every 200 ms: delivered is the line to print;
/// failed, dropped, or still retrying at the deadline is an error naming the receiver's answer.
/// `monasca notification-test` and `sdc channel test` share it.
///
/// # Errors
/// As above, or what `latest` returns.
pub async fn follow_test_notification<F, Fut>(
    event_id: &str,
    wait: u64,
    mut latest: F,
) -> anyhow::Result<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<TestAttempt>>>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
    let mut last = None;
    loop {
        if let Some(at) = latest().await? {
            match at.status.as_str() {
                "DELIVERED" => {
                    return Ok(format!(
                        "Test notification {event_id} delivered ({})",
                        at.answer
                    ));
                }
                "FAILED" | "DROPPED" => anyhow::bail!(
                    "test notification {event_id} {}: {}",
                    at.status.to_lowercase(),
                    at.answer
                ),
                _ => last = Some(at),
            }
        }
        if std::time::Instant::now() >= deadline {
            match last {
                Some(at) => anyhow::bail!(
                    "test notification {event_id} not delivered after {wait} s; attempt {} failed: {}",
                    at.attempt,
                    at.answer
                ),
                None => anyhow::bail!("test notification {event_id} not attempted within {wait} s"),
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

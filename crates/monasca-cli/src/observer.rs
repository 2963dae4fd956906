//! `--timing`, `-v`, `--debug` and `--log-file`: what the client reports of its HTTP exchanges.

use std::{fs::File, io::Write, sync::Mutex, time::Duration};

use monasca::RequestObserver;
use url::Url;

use crate::output::table;

#[derive(Debug)]
pub struct CliObserver {
    timing: bool,
    log: bool,
    file: Option<Mutex<File>>,
    calls: Mutex<Vec<(String, Duration)>>,
}

impl CliObserver {
    /// # Errors
    /// A log file that cannot be created.
    pub fn new(timing: bool, log: bool, file: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let file = match file {
            Some(p) => Some(Mutex::new(
                File::options()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| {
                        anyhow::anyhow!("cannot open the log file {}: {e}", p.display())
                    })?,
            )),
            None => None,
        };
        Ok(Self {
            timing,
            log: log || file.is_some(),
            file,
            calls: Mutex::new(Vec::new()),
        })
    }

    /// Prints the `--timing` table: one row per call and the total, as osc-lib does, on
    /// stderr so that stdout stays the command's answer (`-j | jq`).
    ///
    /// # Errors
    /// Never: a closed stderr is ignored.
    pub fn print_timing(&self) -> anyhow::Result<()> {
        if !self.timing {
            return Ok(());
        }
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let total: f64 = calls.iter().map(|(_, d)| d.as_secs_f64()).sum();
        let mut rows: Vec<Vec<String>> = calls
            .iter()
            .map(|(u, d)| vec![u.clone(), format!("{:.6}", d.as_secs_f64())])
            .collect();
        rows.push(vec!["Total".into(), format!("{total:.6}")]);
        let _ = writeln!(std::io::stderr(), "{}", table(&["URL", "Seconds"], rows));
        Ok(())
    }
}

impl RequestObserver for CliObserver {
    fn exchange(&self, method: &http::Method, url: &Url, status: Option<u16>, elapsed: Duration) {
        let what = format!("{method} {url}");
        if self.log {
            let status = status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
            let line = format!(
                "{what} -> {status} in {:.1} ms\n",
                elapsed.as_secs_f64() * 1000.0
            );
            match &self.file {
                Some(f) => {
                    let _ = f
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .write_all(line.as_bytes());
                }
                None => eprint!("{line}"),
            }
        }
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((what, elapsed));
    }
}

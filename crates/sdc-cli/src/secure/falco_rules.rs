//! `sdc secure falco-rules …`: the system, user and default Falco rules files, to and from
//! files, and the default files' directory tree (`<dir>/<tag>/<file>/<engine>/content` and
//! `<dir>/default_policies.yaml`, as sdcclient lays it out).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use sysdig::{
    Client,
    secure::rules_files::{load_defaults, save_defaults},
};

use super::read_text;
use crate::output::{Format, json, print};

/// Which single rules file.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Which {
    /// The user's `falco_rules_local.yaml`.
    #[default]
    User,
    /// The system file (setting it needs an on-prem server; SaaS answers 405).
    System,
}

#[derive(Debug, Subcommand)]
pub enum FalcoRulesCmd {
    /// Print a rules file, or write it to --output.
    Get {
        #[arg(long, value_enum, default_value_t)]
        file: Which,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Replace a rules file with the content of FILE (`-` for stdin); prints what was stored
    /// (the user file gets the `# Your custom rules!` header when it has none).
    Set {
        path: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        file: Which,
    },
    /// The default rules files and default policies, as JSON.
    GetDefaults,
    /// Write the default rules files under DIR (replaced if it exists).
    SaveDefaults { dir: PathBuf },
    /// Replace the default rules files with the tree under DIR.
    LoadDefaults { dir: PathBuf },
}

fn write_or_print(output: Option<PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(p) => std::fs::write(&p, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display())),
        None => print(text.trim_end_matches('\n')),
    }
}

pub async fn run(c: &Client, f: Format, cmd: FalcoRulesCmd) -> Result<()> {
    let files = c.falco_rules_files();
    match cmd {
        FalcoRulesCmd::Get { file, output } => {
            let text = match file {
                Which::User => files.user_rules().await?,
                Which::System => files.system().await?.content,
            };
            write_or_print(output, &text)
        }
        FalcoRulesCmd::Set { path, file } => {
            let content = read_text(&path)?;
            let stored = match file {
                Which::User => files.set_user_rules(&content).await?,
                Which::System => files.set_system(&content).await?.content,
            };
            write_or_print(None, &stored)
        }
        FalcoRulesCmd::GetDefaults => print(&json(&files.defaults().await?)?),
        FalcoRulesCmd::SaveDefaults { dir } => {
            let d = files.defaults().await?;
            save_defaults(&d, &dir)?;
            let n: usize = d.files.iter().map(|f| f.variants.len()).sum();
            print(&format!(
                "{n} files of {} saved under {}",
                d.tag,
                dir.display()
            ))
        }
        FalcoRulesCmd::LoadDefaults { dir } => {
            let d = load_defaults(&dir)?;
            let stored = files.set_defaults(&d).await?;
            if f.json {
                return print(&json(&stored)?);
            }
            let n: usize = stored.files.iter().map(|f| f.variants.len()).sum();
            print(&format!(
                "{n} files of {} loaded, {} default policies",
                stored.tag,
                stored.default_policies.len()
            ))
        }
    }
}

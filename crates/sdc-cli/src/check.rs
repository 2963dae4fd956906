//! Input refused before any request, as Sysdig itself would refuse it: alert conditions that
//! can never be evaluated and e-mail addresses that are not ones (`sysdig::validate`). A
//! refusal is reported like the server's refusals: one line, exit status 1.

use anyhow::Result;
use sysdig::{alerts::Alert, channels::Channel, validate};

use crate::cli::{AlertCmd, ChannelCmd, Command, UserCmd};

/// Checks the arguments of `cmd` (files given to `add-json` are checked once read).
pub fn command(cmd: &Command) -> Result<()> {
    match cmd {
        Command::User(UserCmd::Add { email, .. }) => validate::email(email)?,
        Command::Channel(ChannelCmd::Add { fields, .. } | ChannelCmd::Update { fields, .. }) => {
            recipients(&fields.emails)?;
        }
        Command::Alert(AlertCmd::Add { condition, .. }) => validate::condition(condition)?,
        Command::Alert(AlertCmd::Update {
            condition: Some(condition),
            ..
        }) => validate::condition(condition)?,
        Command::Secure(s) => crate::secure::check(s)?,
        _ => {}
    }
    Ok(())
}

/// A channel from a file: its e-mail recipients.
pub fn channel(ch: &Channel) -> Result<()> {
    recipients(ch.options.email_recipients.as_deref().unwrap_or_default())
}

/// An alert from a file: the condition of a metric (`MANUAL`) alert.
pub fn alert(a: &Alert) -> Result<()> {
    match &a.condition {
        Some(c) if a.kind == "MANUAL" => Ok(validate::condition(c)?),
        _ => Ok(()),
    }
}

fn recipients(emails: &[String]) -> Result<()> {
    for e in emails {
        validate::email(e)?;
    }
    Ok(())
}

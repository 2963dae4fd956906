//! Sending one request and saying how it went: HTTP (`http`), SMTP (`email`), Jira's
//! workflow (`jira`).

pub mod email;
pub mod http;
pub mod jira;

use config_repo::outbox::AttemptStatus;

/// How one attempt ended, before retries are counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub kind: OutcomeKind,
    /// What the receiver said, or why nothing was sent; never a secret.
    pub answer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    Delivered,
    /// Worth another attempt.
    Failed,
    /// Refused for good by the receiver (an SMTP 5xx): failed without retrying.
    Rejected,
    /// Never worth another attempt, and not sent.
    Dropped,
}

impl Outcome {
    pub fn delivered(answer: impl Into<String>) -> Self {
        Self {
            kind: OutcomeKind::Delivered,
            answer: answer.into(),
        }
    }

    pub fn failed(answer: impl Into<String>) -> Self {
        Self {
            kind: OutcomeKind::Failed,
            answer: answer.into(),
        }
    }

    pub fn rejected(answer: impl Into<String>) -> Self {
        Self {
            kind: OutcomeKind::Rejected,
            answer: answer.into(),
        }
    }

    pub fn dropped(answer: impl Into<String>) -> Self {
        Self {
            kind: OutcomeKind::Dropped,
            answer: answer.into(),
        }
    }

    /// The attempt status when `last` says whether no further attempt is allowed.
    pub fn status(&self, last: bool) -> AttemptStatus {
        match self.kind {
            OutcomeKind::Delivered => AttemptStatus::Delivered,
            OutcomeKind::Dropped => AttemptStatus::Dropped,
            OutcomeKind::Rejected => AttemptStatus::Failed,
            OutcomeKind::Failed if last => AttemptStatus::Failed,
            OutcomeKind::Failed => AttemptStatus::Retrying,
        }
    }
}

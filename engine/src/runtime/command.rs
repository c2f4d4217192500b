//! Commands: what people and integrations ask of a case. The engine answers each with
//! events or with a [`CommandError`] that says exactly why, leaving the case unchanged.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{CaseId, TaskId};
use crate::calendar::CalendarError;
use crate::condition::ConditionError;

/// A request to change a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Register an application and start a case.
    Start {
        case: CaseId,
        channel: String,
        office: String,
        data: Value,
    },
    /// Take a task to work on it.
    Claim { task: TaskId },
    /// Give a claimed task back to its role.
    Release { task: TaskId },
    /// Hand a task to a user (or back to the role with `user: None`): a head's decision.
    Reassign { task: TaskId, user: Option<String> },
    /// Finish a task with an outcome and the data of its form.
    Complete {
        task: TaskId,
        outcome: Option<String>,
        #[serde(default)]
        data: Value,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Record a system step's result (portal authorisation, signature check) by step id.
    SystemResult {
        step: String,
        outcome: Option<String>,
        #[serde(default)]
        data: Value,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Documents are missing, damaged or lost: the extended term applies.
    DocumentsMissing {
        #[serde(default)]
        note: Option<String>,
    },
    /// The applicant withdrew the application.
    Withdraw { reason: String },
    /// Stop a case registered in error (administrators only).
    Cancel { reason: String },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start { .. } => "start",
            Command::Claim { .. } => "claim",
            Command::Release { .. } => "release",
            Command::Reassign { .. } => "reassign",
            Command::Complete { .. } => "complete",
            Command::SystemResult { .. } => "system_result",
            Command::DocumentsMissing { .. } => "documents_missing",
            Command::Withdraw { .. } => "withdraw",
            Command::Cancel { .. } => "cancel",
        }
    }
}

/// One failing field of submitted data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON pointer to the field (`/iin`).
    pub pointer: String,
    pub message: String,
}

/// Why a command was refused. The case is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    #[error("case `{0}` does not exist")]
    NoSuchCase(CaseId),
    #[error("case `{0}` already exists")]
    CaseExists(CaseId),
    #[error("the case has ended; nothing more can be done")]
    CaseClosed,
    #[error("regulation `{regulation}` has no channel `{channel}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownChannel {
        regulation: String,
        channel: String,
        suggestion: Option<String>,
    },
    #[error("task {0} does not exist in this case")]
    NoSuchTask(TaskId),
    #[error("task {task} is {status}, not open")]
    TaskNotOpen { task: TaskId, status: &'static str },
    #[error("no task is waiting at step `{0}`")]
    NoTaskAtStep(String),
    #[error("task {task} is for role `{required}`, not `{actual}`")]
    WrongRole {
        task: TaskId,
        required: Arc<str>,
        actual: Arc<str>,
    },
    #[error("task {task} is claimed by `{by}`")]
    ClaimedByOther { task: TaskId, by: Arc<str> },
    #[error("task {task} is assigned to `{to}`")]
    AssignedToOther { task: TaskId, to: Arc<str> },
    #[error("task {task} is not claimed")]
    NotClaimed { task: TaskId },
    #[error("step `{step}` has no outcome `{outcome}`; its outcomes are: {}", allowed.join(", "))]
    UnknownOutcome {
        step: String,
        outcome: String,
        allowed: Vec<String>,
    },
    #[error("step `{step}` needs an outcome: one of {}", allowed.join(", "))]
    OutcomeRequired { step: String, allowed: Vec<String> },
    #[error("step `{step}` has a single way on; send no outcome")]
    NoOutcomeExpected { step: String },
    #[error("outcome `{outcome}` needs a written reason")]
    ReasonRequired { outcome: String },
    #[error("the data does not fit the form: {}", errors.iter().map(|e| format!("{}: {}", if e.pointer.is_empty() { "/" } else { &e.pointer }, e.message)).collect::<Vec<_>>().join("; "))]
    InvalidData { errors: Vec<FieldError> },
    #[error("only a head or an administrator may reassign tasks, not `{0}`")]
    NotAllowedToReassign(Arc<str>),
    #[error("only an administrator may cancel a case, not `{0}`")]
    NotAllowedToCancel(Arc<str>),
    #[error("the documents have already been found missing")]
    AlreadyMissing,
    #[error("exclusive choice `{step}`: no condition holds and there is no default")]
    NoBranch { step: String },
    #[error("exclusive choice `{step}`, branch {branch}: {error}")]
    Condition {
        step: String,
        branch: usize,
        error: ConditionError,
    },
    #[error("the process loops through automatic steps without stopping at `{0}`")]
    Runaway(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl CommandError {
    /// A stable, machine-readable name (for HTTP problem types and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::NoSuchCase(_) => "no-such-case",
            CommandError::CaseExists(_) => "case-exists",
            CommandError::CaseClosed => "case-closed",
            CommandError::UnknownChannel { .. } => "unknown-channel",
            CommandError::NoSuchTask(_) => "no-such-task",
            CommandError::TaskNotOpen { .. } => "task-not-open",
            CommandError::NoTaskAtStep(_) => "no-task-at-step",
            CommandError::WrongRole { .. } => "wrong-role",
            CommandError::ClaimedByOther { .. } => "claimed-by-other",
            CommandError::AssignedToOther { .. } => "assigned-to-other",
            CommandError::NotClaimed { .. } => "not-claimed",
            CommandError::UnknownOutcome { .. } => "unknown-outcome",
            CommandError::OutcomeRequired { .. } => "outcome-required",
            CommandError::NoOutcomeExpected { .. } => "no-outcome-expected",
            CommandError::ReasonRequired { .. } => "reason-required",
            CommandError::InvalidData { .. } => "invalid-data",
            CommandError::NotAllowedToReassign(_) => "not-allowed-to-reassign",
            CommandError::NotAllowedToCancel(_) => "not-allowed-to-cancel",
            CommandError::AlreadyMissing => "already-missing",
            CommandError::NoBranch { .. } => "no-branch",
            CommandError::Condition { .. } => "condition-failed",
            CommandError::Runaway(_) => "runaway",
            CommandError::Calendar(_) => "calendar",
        }
    }
}

//! Commands: what people and integrations ask of a case. The engine answers each with
//! events or with a [`CommandError`] that says exactly why, leaving the case unchanged.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{CaseId, Intervention, TaskId};
use reglament_calendar::CalendarError;
use reglament_model::condition::ConditionError;

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
    /// Take a path stuck at an incident on again, once its cause is fixed (administrators
    /// only); `data` corrects fields of the applicant's data first.
    RetryIncident {
        incident: u32,
        reason: String,
        #[serde(default)]
        data: Option<Value>,
    },
    /// Stop a task's time for a reason its step allows (the task's holder or a head).
    Suspend {
        task: TaskId,
        /// One of the step's `suspensions`.
        reason: String,
        #[serde(default)]
        comment: Option<String>,
    },
    /// Let a suspended task's time run again: its due instant (and the case's, when the
    /// suspension stopped the case's term) moves by the working time it was suspended.
    Resume {
        task: TaskId,
        #[serde(default)]
        comment: Option<String>,
    },
    /// An administrator's change by hand (see [`Intervention`]), with the reason and the
    /// legal basis, and the second administrator who approved it where one is needed.
    Intervene {
        action: Intervention,
        reason: String,
        legal_basis: String,
        #[serde(default)]
        approved_by: Option<String>,
    },
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
            Command::RetryIncident { .. } => "retry_incident",
            Command::Suspend { .. } => "suspend",
            Command::Resume { .. } => "resume",
            Command::Intervene { .. } => "intervene",
        }
    }
}

/// One failing field of submitted data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON pointer to the field (`/iin`); for a missing field, the field itself.
    pub pointer: String,
    /// The JSON Schema validator's message (English).
    pub message: String,
    /// Which rule failed, with its limit: what an interface needs to say it in the user's
    /// language.
    pub rule: FieldRule,
}

/// The form rule a value broke (JSON Schema keywords that forms use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum FieldRule {
    Required,
    /// The value has the wrong JSON type (`expected`: `string`, `integer`, …).
    Type {
        expected: String,
    },
    MinLength {
        limit: u64,
    },
    MaxLength {
        limit: u64,
    },
    Pattern,
    /// `date`, `email`, … (formats are checked).
    Format {
        format: String,
    },
    /// Numbers: the bound, as written in the schema.
    Minimum {
        limit: String,
    },
    Maximum {
        limit: String,
    },
    MinItems {
        limit: u64,
    },
    MaxItems {
        limit: u64,
    },
    /// Not one of the allowed values.
    Enum,
    /// A field the form does not have.
    Unknown,
    /// Any other rule: only the message says which.
    Other,
}

impl FieldRule {
    /// The rule and the pointer of the field it concerns, from a validator error at `pointer`.
    pub fn from_validation(
        kind: &jsonschema::error::ValidationErrorKind,
        pointer: &str,
    ) -> (FieldRule, String) {
        use jsonschema::error::{TypeKind, ValidationErrorKind as K};
        let at = |rule| (rule, pointer.to_string());
        match kind {
            // The error sits on the object; the field that is missing is where it shows.
            K::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let child = format!("{pointer}/{}", reglament_model::yaml::escape_token(name));
                (FieldRule::Required, child)
            }
            K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
                match unexpected.first() {
                    Some(name) => (
                        FieldRule::Unknown,
                        format!("{pointer}/{}", reglament_model::yaml::escape_token(name)),
                    ),
                    None => at(FieldRule::Unknown),
                }
            }
            K::Type { kind } => at(FieldRule::Type {
                expected: match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(set) => set
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" | "),
                },
            }),
            K::MinLength { limit } => at(FieldRule::MinLength { limit: *limit }),
            K::MaxLength { limit } => at(FieldRule::MaxLength { limit: *limit }),
            K::Pattern { .. } => at(FieldRule::Pattern),
            K::Format { format } => at(FieldRule::Format {
                format: format.clone(),
            }),
            K::Minimum { limit } | K::ExclusiveMinimum { limit } => at(FieldRule::Minimum {
                limit: limit.to_string(),
            }),
            K::Maximum { limit } | K::ExclusiveMaximum { limit } => at(FieldRule::Maximum {
                limit: limit.to_string(),
            }),
            K::MinItems { limit } => at(FieldRule::MinItems { limit: *limit }),
            K::MaxItems { limit } => at(FieldRule::MaxItems { limit: *limit }),
            K::Enum { .. } | K::Constant { .. } => at(FieldRule::Enum),
            _ => at(FieldRule::Other),
        }
    }
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
    #[error("the case has no incident {0}")]
    NoSuchIncident(u32),
    #[error("incident {0} is resolved already")]
    IncidentResolved(u32),
    #[error("only an administrator may retry an incident, not `{0}`")]
    NotAllowedToRetry(Arc<str>),
    #[error("corrected data must be an object of fields")]
    CorrectionNotAnObject,
    #[error("step `{step}` does not allow suspending its time for `{reason}`; {}", if allowed.is_empty() { "it allows no suspension".to_string() } else { format!("it allows: {}", allowed.join(", ")) })]
    SuspensionNotAllowed {
        step: String,
        reason: String,
        allowed: Vec<String>,
    },
    #[error("only the task's holder or a head may suspend or resume it, not `{0}`")]
    NotAllowedToSuspend(Arc<str>),
    #[error("task {0} is suspended already")]
    AlreadySuspended(TaskId),
    #[error("task {0} is not suspended")]
    NotSuspended(TaskId),
    #[error("task {0} is suspended; resume it first")]
    TaskSuspended(TaskId),
    #[error("role `{0}` may not change a case by hand; an administrator may")]
    NotAllowedToIntervene(Arc<str>),
    #[error("{0}")]
    InterventionRefused(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl CommandError {
    /// Whether the engine should record this as an incident on the case rather than refuse
    /// the command: the fault is in what the case met on its way (data a condition cannot
    /// evaluate, a calendar that ends too soon), not in what the user asked.
    pub fn is_incident(&self) -> bool {
        match self {
            CommandError::Condition { .. } | CommandError::NoBranch { .. } => true,
            CommandError::Calendar(e) => matches!(
                e,
                CalendarError::BeyondHorizon { .. }
                    | CalendarError::OutOfRange { .. }
                    | CalendarError::InstantOutOfRange
            ),
            _ => false,
        }
    }

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
            CommandError::NoSuchIncident(_) => "no-such-incident",
            CommandError::IncidentResolved(_) => "incident-resolved",
            CommandError::NotAllowedToRetry(_) => "not-allowed-to-retry",
            CommandError::CorrectionNotAnObject => "correction-not-an-object",
            CommandError::SuspensionNotAllowed { .. } => "suspension-not-allowed",
            CommandError::NotAllowedToSuspend(_) => "not-allowed-to-suspend",
            CommandError::AlreadySuspended(_) => "already-suspended",
            CommandError::NotSuspended(_) => "not-suspended",
            CommandError::TaskSuspended(_) => "task-suspended",
            CommandError::NotAllowedToIntervene(_) => "not-allowed-to-intervene",
            CommandError::InterventionRefused(_) => "intervention-refused",
            CommandError::Calendar(e) => e.kind(),
        }
    }
}

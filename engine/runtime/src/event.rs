//! Events: the only record of what happened to a case. A case's state is the fold of its
//! events ([`super::CaseState::apply`]); the store keeps them in a hash chain.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use reglament_model::duration::Term;
use reglament_model::migration_plan::{CasePolicy, Policy};
use reglament_model::model::CaseResult;

/// A case's id, given by the caller (e.g. a registration number); the engine never invents one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub Arc<str>);

impl CaseId {
    pub fn new(id: impl AsRef<str>) -> Self {
        CaseId(Arc::from(id.as_ref()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A task's number within its case: 1, 2, 3, … in the order the tasks opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub u32);

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Who acted: a user in one of their roles, or the engine itself (deadlines, escalations).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub user: Arc<str>,
    pub role: Arc<str>,
    /// The user this one acted for, under a deputy rule («исполняющий обязанности»): the
    /// deputy may take over and finish the tasks claimed by or handed to that user. Absent
    /// from every event written before deputies existed, and from every other event, so
    /// their records (and hashes) are what they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Arc<str>>,
}

impl Actor {
    pub fn new(user: impl AsRef<str>, role: impl AsRef<str>) -> Self {
        Actor {
            user: Arc::from(user.as_ref()),
            role: Arc::from(role.as_ref()),
            on_behalf_of: None,
        }
    }

    /// `user` acting in `role` for `principal` under a deputy rule.
    pub fn on_behalf(user: impl AsRef<str>, role: impl AsRef<str>, principal: &str) -> Self {
        Actor {
            on_behalf_of: Some(Arc::from(principal)),
            ..Actor::new(user, role)
        }
    }

    /// Whether `user` is this actor, or the user it acts for.
    pub fn stands_for(&self, user: &str) -> bool {
        *self.user == *user || self.on_behalf_of.as_deref() == Some(user)
    }

    /// The engine acting on its own account (a deadline fired, an escalation ran).
    pub fn engine() -> Self {
        Actor::new("reglament", "engine")
    }
}

/// What a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "of", content = "task")]
pub enum DeadlineTarget {
    /// The statutory term of the whole case.
    Case,
    /// One task's time for its step.
    Task(TaskId),
}

/// When the timer warns that a task is running out of time: after `percent` of its working
/// time, at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub percent: u8,
    pub at: DateTime<Utc>,
}

/// A due instant that moved, and the warnings still to come for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub target: DeadlineTarget,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// For a task: the warnings not yet given, at their new instants (they replace the old
    /// ones; empty when none is left).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// A computed due instant and the calendar that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub due: DateTime<Utc>,
    /// What the paper says, e.g. `10 working days`.
    pub term: Term,
    /// Content hash of the calendar and office schedule used.
    pub calendar_version: Arc<str>,
}

/// An open task of a case that moved onto another regulation version: where it went and the
/// due instant it has there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigratedTask {
    pub task: TaskId,
    /// The step of the old version it was at.
    pub from_step: Arc<str>,
    /// The step of the new version it is at.
    pub to_step: Arc<str>,
    /// The role that works it now (the new step's, unless the task had been handed to
    /// another role by a head or an escalation).
    pub role: Arc<str>,
    /// The plan's policy for its due instant.
    pub policy: Policy,
    /// The due instant before the move (`None`: the task had no time limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_before: Option<DateTime<Utc>>,
    /// The deadline in force after the move.
    pub deadline: Option<Deadline>,
    /// The warnings still to come, at their instants after the move (they replace the old
    /// ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
}

/// What an administrator changed by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Intervention {
    /// The case's open task is cancelled and the case goes on from `step` (back to a step it
    /// was at, or on to one it skips to).
    MoveTo { step: String },
    /// One task is cancelled: its step is skipped, and its path goes on to the next step as
    /// if it had been done (a task whose step chooses between ways on cannot be cancelled; the
    /// case is moved instead).
    CancelTask { task: TaskId },
    /// A due instant — a task's, or the case's statutory one — is set to `due`.
    ChangeDue {
        target: DeadlineTarget,
        due: DateTime<Utc>,
    },
}

/// One event in a case's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (the command's `now`).
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// An application was registered and the case began.
    CaseStarted {
        case: CaseId,
        regulation: String,
        version: u32,
        /// The regulation digest the case is pinned to.
        digest: String,
        channel: String,
        office: String,
        /// When the term starts counting (the next opening for an after-hours arrival).
        registered_at: DateTime<Utc>,
        /// The statutory term of the channel, if it has one.
        deadline: Option<Deadline>,
        /// The calendar version the case is pinned to.
        calendar_version: String,
        data: Value,
        /// The offices the case passes through, by kind (`service_centre`, `rural_akim`,
        /// `provider_office`): where the tasks of roles performed at another kind of office
        /// than the registering one open. Empty: every task opens at `office`.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        route: BTreeMap<String, String>,
    },
    /// A task opened at a step: a person's work or a system step waiting for its result.
    TaskOpened {
        task: TaskId,
        step: Arc<str>,
        role: Arc<str>,
        deadline: Option<Deadline>,
        /// The office the task opens in, when it is not the one where the case was registered
        /// (its due instant is on that office's hours).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        office: Option<Arc<str>>,
    },
    TaskClaimed {
        task: TaskId,
        user: Arc<str>,
    },
    TaskReleased {
        task: TaskId,
    },
    /// The task was handed to a user, or back to the whole role (`user: None`).
    TaskReassigned {
        task: TaskId,
        user: Option<Arc<str>>,
        role: Arc<str>,
    },
    TaskCompleted {
        task: TaskId,
        /// The outcome chosen (`None` for a task with a single way on).
        outcome: Option<Arc<str>>,
        data: Value,
        reason: Option<String>,
    },
    /// A task closed because the case ended elsewhere (withdrawal, another path's end).
    TaskCancelled {
        task: TaskId,
    },
    /// An exclusive choice took one branch (`branch: None` for the default).
    BranchTaken {
        step: Arc<str>,
        branch: Option<u32>,
        next: Arc<str>,
    },
    /// A parallel split sent the case down all its paths.
    Split {
        step: Arc<str>,
    },
    /// A path reached a join; when `arrived` equals the paths expected, the case moves on.
    JoinArrived {
        step: Arc<str>,
        arrived: u32,
        expected: u32,
    },
    /// The case waits at a scheduled dispatch until `release_at`.
    DispatchQueued {
        step: Arc<str>,
        release_at: DateTime<Utc>,
    },
    /// The collected cases left together.
    DispatchReleased {
        step: Arc<str>,
    },
    /// Documents were found missing: the extended term now applies.
    DocumentsMissing {
        deadline: Option<Deadline>,
        note: Option<String>,
    },
    /// A due instant passed with its work not done.
    DeadlineBreached {
        target: DeadlineTarget,
        due: DateTime<Utc>,
        /// When each of the step's escalations falls due, in declaration order (computed
        /// on the calendar now, so that folding needs no calendar).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        escalate_at: Vec<DateTime<Utc>>,
    },
    /// An escalation ran: the role was told (and, for a `reassign` escalation, was handed the
    /// task just before, by a `task_reassigned` event).
    EscalationNotified {
        task: TaskId,
        role: Arc<str>,
    },
    /// The case finished.
    CaseEnded {
        result: CaseResult,
        step: Option<Arc<str>>,
        reason: Option<String>,
    },
    /// An administrator stopped the case (a registration made in error).
    CaseCancelled {
        reason: String,
    },
    /// The engine could not take one path of the case past `step` (a condition failed as it
    /// was evaluated, a deadline the calendar cannot reach): the command that got there still
    /// took effect, and the path waits at `step` until an administrator retries it.
    IncidentOpened {
        /// Numbered from 1 within the case.
        incident: u32,
        step: Arc<str>,
        /// A stable code: `condition-failed`, `no-branch`, `beyond-calendar`, …
        cause: String,
        /// What went wrong, for the administrator.
        message: String,
    },
    /// A retry took the path on from the incident's step (the events it caused follow).
    IncidentResolved {
        incident: u32,
        /// Why, and on what basis (the corrected data, the extended calendar).
        reason: String,
        /// Fields of the applicant's data corrected for the retry, merged over the case's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<Value>,
    },
    /// The instants, computed on the case's calendar when `task` opened, at which the timer
    /// will warn that it is running out of time (the regulation's `warnings`).
    /// (`warnings`, not `at`: an event's `at` is when it happened.)
    WarningsScheduled {
        task: TaskId,
        warnings: Vec<Warning>,
    },
    /// `percent` of `task`'s working time has passed; it is due at `due`.
    DeadlineWarned {
        task: TaskId,
        percent: u8,
        due: DateTime<Utc>,
    },
    /// The calendar the case counts on changed (a decree moved a day off or declared one, the
    /// office's hours changed), and these due instants, recomputed on it, moved. A case whose
    /// instants the change does not move gets no such event.
    DeadlinesRescheduled {
        from_version: String,
        to_version: String,
        /// The days, within the moved terms, whose working time differs between the two
        /// calendars: the reason, as a reader checks it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        days: Vec<NaiveDate>,
        moved: Vec<Moved>,
    },
    /// The task's time stopped, for a reason its step allows.
    TaskSuspended {
        task: TaskId,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        /// Whether the case's statutory term stopped too.
        stops_case_term: bool,
    },
    /// The task's time runs again; `suspended_seconds` of working time did not count, and the
    /// due instants moved by it.
    TaskResumed {
        task: TaskId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        suspended_seconds: u64,
        moved: Vec<Moved>,
    },
    /// The case passed from one office to another (a service centre sends the documents to
    /// the provider's office; the result goes back to the centre to be issued): the next task,
    /// at `step`, opens at `to`.
    CaseHandedOver {
        from: Arc<str>,
        to: Arc<str>,
        step: Arc<str>,
    },
    /// The case moved onto another version of its regulation, by a migration plan whose act
    /// required it: from here on it runs on `to_digest`. Closed tasks keep their history;
    /// each open task is at its mapped step with the due instant the plan's policy gave it.
    /// An administrator changed the case by hand, with a written reason and the legal basis;
    /// a change of a statutory due instant or a skipped step carries the second
    /// administrator who approved it. The effect follows as ordinary events
    /// (`task_cancelled`, `task_opened`, …); a changed due instant is in `moved`.
    Intervened {
        action: Intervention,
        reason: String,
        legal_basis: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approved_by: Option<Arc<str>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        moved: Vec<Moved>,
    },
    CaseMigrated {
        regulation: String,
        from_version: u32,
        from_digest: String,
        to_version: u32,
        to_digest: String,
        /// The digest of the migration plan (SHA-256 of its canonical JSON).
        plan_digest: String,
        /// The act and paragraph whose transitional provisions require the move.
        act: String,
        paragraph: String,
        reason: String,
        /// Old step → new step, for each step of the case's tasks and waiting paths whose id
        /// changes (a step the new version keeps maps to itself and is not listed).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        steps: BTreeMap<String, String>,
        /// Every open task, where it went and its due instant after the move.
        tasks: Vec<MigratedTask>,
        case_policy: CasePolicy,
        /// The case's statutory due instant before the move.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_due_before: Option<DateTime<Utc>>,
        /// The case's statutory deadline in force after the move.
        case_deadline: Option<Deadline>,
    },
}

impl EventKind {
    /// The snake_case name used in the store and in exports.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::CaseStarted { .. } => "case_started",
            EventKind::TaskOpened { .. } => "task_opened",
            EventKind::TaskClaimed { .. } => "task_claimed",
            EventKind::TaskReleased { .. } => "task_released",
            EventKind::TaskReassigned { .. } => "task_reassigned",
            EventKind::TaskCompleted { .. } => "task_completed",
            EventKind::TaskCancelled { .. } => "task_cancelled",
            EventKind::BranchTaken { .. } => "branch_taken",
            EventKind::Split { .. } => "split",
            EventKind::JoinArrived { .. } => "join_arrived",
            EventKind::DispatchQueued { .. } => "dispatch_queued",
            EventKind::DispatchReleased { .. } => "dispatch_released",
            EventKind::DocumentsMissing { .. } => "documents_missing",
            EventKind::DeadlineBreached { .. } => "deadline_breached",
            EventKind::EscalationNotified { .. } => "escalation_notified",
            EventKind::CaseEnded { .. } => "case_ended",
            EventKind::CaseCancelled { .. } => "case_cancelled",
            EventKind::IncidentOpened { .. } => "incident_opened",
            EventKind::IncidentResolved { .. } => "incident_resolved",
            EventKind::WarningsScheduled { .. } => "warnings_scheduled",
            EventKind::DeadlineWarned { .. } => "deadline_warned",
            EventKind::DeadlinesRescheduled { .. } => "deadlines_rescheduled",
            EventKind::TaskSuspended { .. } => "task_suspended",
            EventKind::TaskResumed { .. } => "task_resumed",
            EventKind::CaseHandedOver { .. } => "case_handed_over",
            EventKind::CaseMigrated { .. } => "case_migrated",
            EventKind::Intervened { .. } => "intervened",
        }
    }
}

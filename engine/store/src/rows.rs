//! Rows of the log and of the projections, and how they are derived from a case's state.
//!
//! Both back ends share these row types: every instant is an `i64` of microseconds since the
//! Unix epoch (UTC), every flag a boolean, every count an `i64`. The live append path and
//! `rebuild` both build projection rows with the functions here, which is what makes
//! "rebuilt equals live" hold by construction (and a test checks it).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::canonical;
use reglament_runtime::{
    CaseState, CaseStatus, DeadlineTarget, Event, EventKind, TaskId, TaskStatus,
};

/// The `due` of a task without a deadline: it sorts after every real instant, which keeps the
/// inbox ordering and its keyset cursor free of NULLs.
pub const NO_DUE: i64 = i64::MAX;

/// Microseconds since the epoch. Instants beyond ±292,000 years do not occur.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The instant of a stored microsecond count.
pub fn instant(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// One row of the `events` table, as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct EventRow {
    pub case_id: String,
    pub seq: i64,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    pub at: i64,
    pub actor_user: String,
    pub actor_role: String,
    pub digest: String,
    pub calendar_version: String,
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

/// One row of the `cases` projection.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct CaseRow {
    pub case_id: String,
    pub regulation_id: String,
    pub regulation_version: i64,
    pub digest: String,
    pub channel: String,
    pub office: String,
    pub calendar_version: String,
    /// `open`, `ended` or `cancelled`.
    pub status: String,
    /// How an ended case ended: `granted`, `refused`, `returned`, `withdrawn`.
    pub result: Option<String>,
    /// The applicant's `full_name` from the application data, when there is one.
    pub applicant: Option<String>,
    pub started_at: i64,
    pub registered_at: i64,
    pub due: Option<i64>,
    pub breached: bool,
    pub documents_missing: bool,
    pub ended_at: Option<i64>,
    pub last_seq: i64,
    pub last_hash: String,
    pub last_event_at: i64,
    /// Incidents of the case not yet resolved (0 once the case is closed). Absent from rows
    /// recorded before incidents existed, whose cases had none.
    #[serde(default)]
    pub incidents_open: i64,
}

/// One row of the `tasks` projection.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct TaskRow {
    pub case_id: String,
    pub task: i64,
    pub step: String,
    pub role: String,
    pub office: String,
    /// `open` (nobody has it), `claimed`, `completed`, `cancelled`.
    pub status: String,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    pub opened_at: i64,
    /// [`NO_DUE`] when the step has no time limit.
    pub due: i64,
    pub breached: bool,
    pub outcome: Option<String>,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    /// Since when the task's time is stopped (a suspension); `None` while it runs. Absent from
    /// rows recorded before suspensions existed.
    #[serde(default)]
    pub suspended_since: Option<i64>,
}

/// One row of the `wakeups` projection (without its lease, which is not derived from the log).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct WakeupRow {
    pub case_id: String,
    pub wake_at: i64,
}

/// An event ready to be written: its canonical JSON and the columns derived from it.
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    pub kind: &'static str,
    pub at: i64,
    pub actor_user: String,
    pub actor_role: String,
    /// Canonical JSON of the event ([`canonical::canonical`]).
    pub body: String,
    /// The hash of the record so far; the writer adds the event's place.
    pub prefix: canonical::PrefixHash,
}

impl PreparedEvent {
    /// Encodes an event of `case` (pinned to `digest` and `calendar_version`) and hashes all of
    /// its record that does not depend on its place, here in the caller's task rather than in
    /// the single writer.
    pub fn new(
        event: &Event,
        case: &str,
        digest: &str,
        calendar_version: &str,
    ) -> Result<PreparedEvent, serde_json::Error> {
        let value = serde_json::to_value(event)?;
        let body = canonical::canonical(&value);
        Ok(PreparedEvent {
            kind: event.kind.name(),
            at: micros(event.at),
            actor_user: event.actor.user.to_string(),
            actor_role: event.actor.role.to_string(),
            prefix: canonical::PrefixHash::new(case, digest, calendar_version, &body),
            body,
        })
    }
}

pub fn case_status(status: CaseStatus) -> (&'static str, Option<&'static str>) {
    match status {
        CaseStatus::Open => ("open", None),
        CaseStatus::Ended(r) => ("ended", Some(r.as_str())),
        CaseStatus::Cancelled => ("cancelled", None),
    }
}

/// The `cases` row of a state whose last event is `last_seq` with hash `last_hash`.
pub fn case_row(state: &CaseState, last_hash: &str) -> CaseRow {
    let (status, result) = case_status(state.status);
    CaseRow {
        case_id: state.id.to_string(),
        regulation_id: state.process.id().to_string(),
        regulation_version: i64::from(state.process.version()),
        digest: state.process.digest.clone(),
        channel: state.channel.to_string(),
        office: state.office.to_string(),
        calendar_version: state.calendar_version.to_string(),
        status: status.to_string(),
        result: result.map(str::to_string),
        applicant: applicant(&state.data),
        started_at: micros(state.started_at),
        registered_at: micros(state.registered_at),
        due: state.deadline.as_ref().map(|d| micros(d.due)),
        breached: state.breached,
        documents_missing: state.documents_missing,
        ended_at: state.ended_at.map(micros),
        last_seq: state.version as i64,
        last_hash: last_hash.to_string(),
        last_event_at: micros(state.last_event_at),
        incidents_open: state.open_incidents().count() as i64,
    }
}

fn applicant(data: &Value) -> Option<String> {
    data.get("full_name")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The `tasks` row of task `id` of `state`.
pub fn task_row(state: &CaseState, id: TaskId) -> Option<TaskRow> {
    let t = state.task(id)?;
    let status = match t.status {
        TaskStatus::Open if t.claimed_by.is_some() => "claimed",
        TaskStatus::Open => "open",
        TaskStatus::Completed => "completed",
        TaskStatus::Cancelled => "cancelled",
    };
    Some(TaskRow {
        case_id: state.id.to_string(),
        task: i64::from(t.id.0),
        step: t.step_id.to_string(),
        role: t.role.to_string(),
        office: t.office.to_string(),
        status: status.to_string(),
        claimed_by: t.claimed_by.as_deref().map(str::to_string),
        assigned_to: t.assigned_to.as_deref().map(str::to_string),
        opened_at: micros(t.opened_at),
        due: t.deadline.as_ref().map_or(NO_DUE, |d| micros(d.due)),
        breached: t.breached,
        outcome: t.outcome.as_deref().map(str::to_string),
        closed_at: t.closed_at.map(micros),
        closed_by: t.closed_by.as_deref().map(str::to_string),
        suspended_since: t.suspended.as_ref().map(|s| micros(s.since)),
    })
}

/// The tasks whose row these events change. Every event that changes a task names it, so the
/// rows of all other tasks are already right.
pub fn touched_tasks(events: &[Event]) -> BTreeSet<TaskId> {
    let mut out = BTreeSet::new();
    for e in events {
        match &e.kind {
            EventKind::TaskOpened { task, .. }
            | EventKind::TaskClaimed { task, .. }
            | EventKind::TaskReleased { task }
            | EventKind::TaskReassigned { task, .. }
            | EventKind::TaskCompleted { task, .. }
            | EventKind::TaskCancelled { task }
            | EventKind::EscalationNotified { task, .. }
            | EventKind::DeadlineBreached {
                target: DeadlineTarget::Task(task),
                ..
            }
            | EventKind::TaskSuspended { task, .. } => {
                out.insert(*task);
            }
            EventKind::TaskResumed { task, moved, .. } => {
                out.insert(*task);
                out.extend(moved_tasks(moved));
            }
            EventKind::DeadlinesRescheduled { moved, .. } => out.extend(moved_tasks(moved)),
            _ => {}
        }
    }
    out
}

fn moved_tasks(moved: &[reglament_runtime::Moved]) -> impl Iterator<Item = TaskId> + '_ {
    moved.iter().filter_map(|m| match m.target {
        DeadlineTarget::Task(t) => Some(t),
        DeadlineTarget::Case => None,
    })
}

/// All task rows of a state (for `rebuild`).
pub fn all_task_rows(state: &CaseState) -> Vec<TaskRow> {
    state
        .tasks
        .iter()
        .filter_map(|t| task_row(state, t.id))
        .collect()
}

/// The rows as a JSON array of arrays, the bulk format PostgreSQL unpacks with
/// `json_array_elements`: one statement per table whatever the number of rows, so each
/// statement is prepared once. (SQLite binds multi-row `VALUES` instead: its JSON functions
/// parse each element again for every column taken out of it.)
pub fn case_rows_json<'a>(rows: impl IntoIterator<Item = &'a CaseRow>) -> String {
    let arr: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!([
                r.case_id,
                r.regulation_id,
                r.regulation_version,
                r.digest,
                r.channel,
                r.office,
                r.calendar_version,
                r.status,
                r.result,
                r.applicant,
                r.started_at,
                r.registered_at,
                r.due,
                r.breached,
                r.documents_missing,
                r.ended_at,
                r.last_seq,
                r.last_hash,
                r.last_event_at,
                r.incidents_open
            ])
        })
        .collect();
    Value::Array(arr).to_string()
}

pub fn task_rows_json<'a>(rows: impl IntoIterator<Item = &'a TaskRow>) -> String {
    let arr: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!([
                r.case_id,
                r.task,
                r.step,
                r.role,
                r.office,
                r.status,
                r.claimed_by,
                r.assigned_to,
                r.opened_at,
                r.due,
                r.breached,
                r.outcome,
                r.closed_at,
                r.closed_by,
                r.suspended_since
            ])
        })
        .collect();
    Value::Array(arr).to_string()
}

/// `(case, wake_at)` pairs.
pub fn wakeups_json<'a>(rows: impl IntoIterator<Item = (&'a str, i64)>) -> String {
    let arr: Vec<Value> = rows.into_iter().map(|(c, w)| json!([c, w])).collect();
    Value::Array(arr).to_string()
}

/// Case ids.
pub fn ids_json<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    Value::Array(ids.into_iter().map(|c| json!(c)).collect()).to_string()
}

/// An event row about to be inserted.
#[derive(Debug, Clone)]
pub struct NewEventRow<'a> {
    pub case_id: &'a str,
    pub seq: i64,
    pub event: &'a PreparedEvent,
    pub digest: &'a str,
    pub calendar_version: &'a str,
    pub prev_hash: String,
    pub hash: String,
}

pub fn event_rows_json(rows: &[NewEventRow<'_>]) -> String {
    let arr: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!([
                r.case_id,
                r.seq,
                r.event.kind,
                r.event.at,
                r.event.actor_user,
                r.event.actor_role,
                r.digest,
                r.calendar_version,
                r.event.body,
                r.prev_hash,
                r.hash
            ])
        })
        .collect();
    Value::Array(arr).to_string()
}

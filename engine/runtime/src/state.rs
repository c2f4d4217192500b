//! A case's state: nothing but the fold of its events.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::event::{CaseId, Deadline, DeadlineTarget, Event, EventKind, Moved, TaskId, Warning};
use reglament_model::compile::Process;
use reglament_model::model::{CaseResult, Step};

/// The application data with a retry's corrected fields merged over it (field by field; the
/// others stay as they were).
pub(crate) fn correct(data: &mut Value, fix: &serde_json::Map<String, Value>) {
    if let Value::Object(case) = data {
        for (k, v) in fix {
            case.insert(k.clone(), v.clone());
        }
    }
}

/// A path of the case the engine could not take on: it waits at `step` until a retry.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: u32,
    pub step: Arc<str>,
    pub cause: String,
    pub message: String,
    pub opened_at: DateTime<Utc>,
    /// When a retry took the path on; `None` while the incident is open.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// A task whose time is stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Suspended {
    pub since: DateTime<Utc>,
    /// The step's suspension reason code.
    pub reason: Arc<str>,
    pub stops_case_term: bool,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Open,
    Ended(CaseResult),
    Cancelled,
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Open,
    Completed,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Completed => "completed",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

/// One task of a case, open or closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: TaskId,
    /// Index of the step in the regulation.
    pub step: u32,
    pub step_id: Arc<str>,
    pub role: Arc<str>,
    /// The office the task is in (whose staff of `role` work it, on whose hours).
    pub office: Arc<str>,
    pub status: TaskStatus,
    pub opened_at: DateTime<Utc>,
    /// When the task's time started counting: its opening, or the migration onto a new
    /// regulation version that restarted it (`restart`).
    pub term_from: DateTime<Utc>,
    pub deadline: Option<Deadline>,
    pub breached: bool,
    /// Instants at which the step's escalations fall due (set when the deadline is breached).
    pub escalate_at: Vec<DateTime<Utc>>,
    /// How many of `escalate_at` have run.
    pub escalated: u32,
    /// When the timer warns that the task is running out of time (set as it opens, when the
    /// regulation declares warnings).
    pub warn_at: Vec<Warning>,
    /// How many of `warn_at` have been given.
    pub warned: u32,
    /// Set while the task's time is stopped.
    pub suspended: Option<Suspended>,
    /// The suspensions that ended, as (from, to): the working time between them does not
    /// count (a recomputation on a new calendar adds it again, measured on that calendar).
    pub suspensions: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Working seconds the task has been suspended, in all.
    pub suspended_seconds: u64,
    /// The user working on it.
    pub claimed_by: Option<Arc<str>>,
    /// The user a head handed it to (only they may claim it).
    pub assigned_to: Option<Arc<str>>,
    pub outcome: Option<Arc<str>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<Arc<str>>,
}

/// Everything known about a case, rebuilt from its events alone.
#[derive(Debug, Clone)]
pub struct CaseState {
    pub id: CaseId,
    pub process: Arc<Process>,
    pub channel: Arc<str>,
    /// The office where the case was registered.
    pub office: Arc<str>,
    /// The offices the case may pass through, by kind (empty: it stays at `office`).
    pub route: BTreeMap<String, String>,
    /// The office the case is at now (its last hand-over's).
    pub at_office: Arc<str>,
    /// Every office the case has been at, in order, each once: whose staff may read it.
    pub offices: Vec<Arc<str>>,
    pub data: Value,
    pub started_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub calendar_version: Arc<str>,
    /// The statutory deadline in force (the extended one once documents are missing).
    pub deadline: Option<Deadline>,
    pub breached: bool,
    pub documents_missing: bool,
    pub status: CaseStatus,
    pub tasks: Vec<Task>,
    /// Paths waiting at joins: (step index, arrived).
    pub joins: Vec<(u32, u32)>,
    /// Paths waiting at scheduled dispatches: (step index, release instant).
    pub dispatches: Vec<(u32, DateTime<Utc>)>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Incidents, open and resolved, in the order they were opened.
    pub incidents: Vec<Incident>,
    /// Suspended tasks whose suspension stops the case's term too; while any is, the case's
    /// term does not run (since `term_stopped_since`).
    pub term_stops: u32,
    pub term_stopped_since: Option<DateTime<Utc>>,
    /// The intervals during which the case's term was stopped, as (from, to).
    pub term_stopped: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Number of events folded in.
    pub version: u64,
    pub last_event_at: DateTime<Utc>,
}

/// Why events could not be folded: they do not belong to this case or this regulation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error("a case's history must begin with `case_started`")]
    NotStarted,
    #[error("the case was started twice")]
    StartedTwice,
    #[error("event {index} refers to task {task}, which does not exist")]
    UnknownTask { index: u64, task: TaskId },
    #[error("event {index} refers to step `{step}`, which regulation `{regulation}` does not have")]
    UnknownStep {
        index: u64,
        step: String,
        regulation: String,
    },
    #[error("the case was started on regulation digest {digest}, which is not loaded")]
    UnknownRegulation { digest: String },
    #[error("event {index} resolves incident {incident}, which was never opened")]
    UnknownIncident { index: u64, incident: u32 },
}

impl CaseState {
    /// Rebuilds a case from its events. `process` resolves the regulation digest the case is
    /// pinned to.
    pub fn fold<'a>(
        events: impl IntoIterator<Item = &'a Event>,
        process: impl Fn(&str) -> Option<Arc<Process>>,
    ) -> Result<CaseState, FoldError> {
        let mut iter = events.into_iter();
        let first = iter.next().ok_or(FoldError::NotStarted)?;
        let mut state = CaseState::begin(first, &process)?;
        for event in iter {
            state.apply_with(event, &process)?;
        }
        Ok(state)
    }

    /// The state right after `case_started`.
    pub fn begin(
        event: &Event,
        process: impl Fn(&str) -> Option<Arc<Process>>,
    ) -> Result<CaseState, FoldError> {
        let EventKind::CaseStarted {
            case,
            digest,
            channel,
            office,
            registered_at,
            deadline,
            calendar_version,
            data,
            route,
            ..
        } = &event.kind
        else {
            return Err(FoldError::NotStarted);
        };
        let office: Arc<str> = Arc::from(office.as_str());
        let process = process(digest).ok_or_else(|| FoldError::UnknownRegulation {
            digest: digest.clone(),
        })?;
        Ok(CaseState {
            id: case.clone(),
            process,
            channel: Arc::from(channel.as_str()),
            office: office.clone(),
            route: route.clone(),
            at_office: office.clone(),
            offices: vec![office],
            data: data.clone(),
            started_at: event.at,
            registered_at: *registered_at,
            calendar_version: Arc::from(calendar_version.as_str()),
            deadline: deadline.clone(),
            breached: false,
            documents_missing: false,
            status: CaseStatus::Open,
            tasks: Vec::new(),
            joins: Vec::new(),
            dispatches: Vec::new(),
            ended_at: None,
            incidents: Vec::new(),
            term_stops: 0,
            term_stopped_since: None,
            term_stopped: Vec::new(),
            version: 1,
            last_event_at: event.at,
        })
    }

    pub fn is_open(&self) -> bool {
        self.status == CaseStatus::Open
    }

    pub fn task(&self, id: TaskId) -> Option<&Task> {
        let i = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.tasks.get(i).filter(|t| t.id == id)
    }

    fn task_mut(&mut self, id: TaskId, index: u64) -> Result<&mut Task, FoldError> {
        let i = usize::try_from(id.0)
            .ok()
            .and_then(|i| i.checked_sub(1))
            .ok_or(FoldError::UnknownTask { index, task: id })?;
        self.tasks
            .get_mut(i)
            .filter(|t| t.id == id)
            .ok_or(FoldError::UnknownTask { index, task: id })
    }

    pub fn open_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.status == TaskStatus::Open)
    }

    /// The last outcome of each step that has ended with one (what conditions see).
    pub fn outcomes(&self) -> BTreeMap<String, String> {
        self.tasks
            .iter()
            .filter_map(|t| Some((t.step_id.to_string(), t.outcome.as_ref()?.to_string())))
            .collect()
    }

    fn step_index(&self, step: &str, index: u64) -> Result<u32, FoldError> {
        self.process
            .step_index(step)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| FoldError::UnknownStep {
                index,
                step: step.to_string(),
                regulation: self.process.id().to_string(),
            })
    }

    /// Folds one more event in. A `case_migrated` event needs the version the case moves
    /// onto: fold it with [`CaseState::apply_with`] (here it is refused as an unknown
    /// regulation).
    pub fn apply(&mut self, event: &Event) -> Result<(), FoldError> {
        self.apply_with(event, |_| None)
    }

    /// Folds one more event in; `process` resolves the digest of a version the case moves
    /// onto (`case_migrated`).
    pub fn apply_with(
        &mut self,
        event: &Event,
        process: impl Fn(&str) -> Option<Arc<Process>>,
    ) -> Result<(), FoldError> {
        let index = self.version;
        match &event.kind {
            EventKind::CaseStarted { .. } => return Err(FoldError::StartedTwice),
            EventKind::TaskOpened {
                task,
                step,
                role,
                deadline,
                office,
            } => {
                let step_ix = self.step_index(step, index)?;
                // Task numbers are dense: the n-th opened task is number n.
                if task.0 as usize != self.tasks.len() + 1 {
                    return Err(FoldError::UnknownTask { index, task: *task });
                }
                self.tasks.push(Task {
                    id: *task,
                    step: step_ix,
                    step_id: step.clone(),
                    role: role.clone(),
                    office: office.clone().unwrap_or_else(|| self.office.clone()),
                    status: TaskStatus::Open,
                    opened_at: event.at,
                    term_from: event.at,
                    deadline: deadline.clone(),
                    breached: false,
                    escalate_at: Vec::new(),
                    escalated: 0,
                    warn_at: Vec::new(),
                    warned: 0,
                    suspended: None,
                    suspensions: Vec::new(),
                    suspended_seconds: 0,
                    claimed_by: None,
                    assigned_to: None,
                    outcome: None,
                    closed_at: None,
                    closed_by: None,
                });
            }
            EventKind::TaskClaimed { task, user } => {
                self.task_mut(*task, index)?.claimed_by = Some(user.clone());
            }
            EventKind::TaskReleased { task } => {
                self.task_mut(*task, index)?.claimed_by = None;
            }
            EventKind::TaskReassigned { task, user, role } => {
                let t = self.task_mut(*task, index)?;
                t.claimed_by = None;
                t.assigned_to = user.clone();
                t.role = role.clone();
            }
            EventKind::TaskCompleted { task, outcome, .. } => {
                let actor = event.actor.user.clone();
                let t = self.task_mut(*task, index)?;
                t.status = TaskStatus::Completed;
                t.outcome = outcome.clone();
                t.closed_at = Some(event.at);
                t.closed_by = Some(actor);
                let stopped = t.suspended.take();
                self.end_suspension(stopped, event.at);
            }
            EventKind::TaskCancelled { task } => {
                let t = self.task_mut(*task, index)?;
                t.status = TaskStatus::Cancelled;
                t.closed_at = Some(event.at);
                let stopped = t.suspended.take();
                self.end_suspension(stopped, event.at);
            }
            EventKind::BranchTaken { step, .. } | EventKind::Split { step } => {
                self.step_index(step, index)?;
            }
            EventKind::JoinArrived {
                step,
                arrived,
                expected,
            } => {
                let s = self.step_index(step, index)?;
                self.joins.retain(|(j, _)| *j != s);
                if arrived < expected {
                    self.joins.push((s, *arrived));
                }
            }
            EventKind::DispatchQueued { step, release_at } => {
                let s = self.step_index(step, index)?;
                self.dispatches.push((s, *release_at));
            }
            EventKind::DispatchReleased { step } => {
                let s = self.step_index(step, index)?;
                if let Some(pos) = self.dispatches.iter().position(|(d, _)| *d == s) {
                    self.dispatches.remove(pos);
                }
            }
            EventKind::DocumentsMissing { deadline, .. } => {
                self.documents_missing = true;
                if deadline.is_some() {
                    self.deadline = deadline.clone();
                    self.breached = false;
                }
            }
            EventKind::DeadlineBreached {
                target,
                escalate_at,
                ..
            } => match target {
                DeadlineTarget::Case => self.breached = true,
                DeadlineTarget::Task(task) => {
                    let t = self.task_mut(*task, index)?;
                    t.breached = true;
                    t.escalate_at.clone_from(escalate_at);
                }
            },
            EventKind::EscalationNotified { task, .. } => {
                self.task_mut(*task, index)?.escalated += 1;
            }
            EventKind::WarningsScheduled { task, warnings } => {
                self.task_mut(*task, index)?.warn_at.clone_from(warnings);
            }
            EventKind::DeadlineWarned { task, .. } => {
                self.task_mut(*task, index)?.warned += 1;
            }
            EventKind::CaseHandedOver { to, step, .. } => {
                self.step_index(step, index)?;
                self.at_office = to.clone();
                if !self.offices.contains(to) {
                    self.offices.push(to.clone());
                }
            }
            EventKind::Intervened { moved, .. } => {
                self.apply_moved(moved, None, index)?;
            }
            EventKind::DeadlinesRescheduled {
                to_version, moved, ..
            } => {
                let version: Arc<str> = Arc::from(to_version.as_str());
                self.calendar_version = version.clone();
                self.apply_moved(moved, Some(&version), index)?;
            }
            EventKind::TaskSuspended {
                task,
                reason,
                stops_case_term,
                ..
            } => {
                let t = self.task_mut(*task, index)?;
                t.suspended = Some(Suspended {
                    since: event.at,
                    reason: Arc::from(reason.as_str()),
                    stops_case_term: *stops_case_term,
                });
                if *stops_case_term {
                    if self.term_stops == 0 {
                        self.term_stopped_since = Some(event.at);
                    }
                    self.term_stops += 1;
                }
            }
            EventKind::TaskResumed {
                task,
                suspended_seconds,
                moved,
                ..
            } => {
                let t = self.task_mut(*task, index)?;
                let stopped = t.suspended.take();
                if let Some(s) = &stopped {
                    t.suspensions.push((s.since, event.at));
                }
                t.suspended_seconds += suspended_seconds;
                self.end_suspension(stopped, event.at);
                // The instants moved by the working time stopped: recorded in the event, so
                // the fold needs no calendar.
                self.apply_moved(moved, None, index)?;
            }
            EventKind::CaseEnded { result, .. } => {
                self.status = CaseStatus::Ended(*result);
                self.ended_at = Some(event.at);
                self.joins.clear();
                self.dispatches.clear();
            }
            EventKind::CaseCancelled { .. } => {
                self.status = CaseStatus::Cancelled;
                self.ended_at = Some(event.at);
                self.joins.clear();
                self.dispatches.clear();
            }
            EventKind::IncidentOpened {
                incident,
                step,
                cause,
                message,
            } => {
                self.step_index(step, index)?;
                self.incidents.push(Incident {
                    id: *incident,
                    step: step.clone(),
                    cause: cause.clone(),
                    message: message.clone(),
                    opened_at: event.at,
                    resolved_at: None,
                });
            }
            EventKind::CaseMigrated {
                regulation,
                to_version,
                to_digest,
                steps,
                tasks,
                case_deadline,
                ..
            } => {
                // The resolver must give the version the event names: a caller that hands
                // every digest the case's first version folds nothing wrong, it fails here.
                let next = process(to_digest)
                    .filter(|p| p.id() == regulation && p.version() == *to_version)
                    .ok_or_else(|| FoldError::UnknownRegulation {
                        digest: to_digest.clone(),
                    })?;
                self.migrate_to(next, event.at, steps, tasks, case_deadline, index)?;
            }
            EventKind::IncidentResolved { incident, data, .. } => {
                let i = self
                    .incidents
                    .iter_mut()
                    .find(|i| i.id == *incident)
                    .ok_or(FoldError::UnknownIncident {
                        index,
                        incident: *incident,
                    })?;
                i.resolved_at = Some(event.at);
                if let Some(Value::Object(fix)) = data {
                    correct(&mut self.data, fix);
                }
            }
        }
        self.version += 1;
        self.last_event_at = event.at;
        Ok(())
    }

    /// The case runs on `next` from now on: every task and waiting path is placed on its
    /// step there, and the open tasks take the deadlines the migration gave them.
    fn migrate_to(
        &mut self,
        next: Arc<Process>,
        at: DateTime<Utc>,
        steps: &BTreeMap<String, String>,
        moved: &[super::event::MigratedTask],
        case_deadline: &Option<Deadline>,
        index: u64,
    ) -> Result<(), FoldError> {
        let place = |id: &str| -> Result<(Arc<str>, u32), FoldError> {
            let to = steps.get(id).map_or(id, String::as_str);
            let ix = next
                .step_index(to)
                .and_then(|i| u32::try_from(i).ok())
                .ok_or_else(|| FoldError::UnknownStep {
                    index,
                    step: to.to_string(),
                    regulation: next.id().to_string(),
                })?;
            Ok((next.step_id(ix as usize).clone(), ix))
        };
        let old = self.process.clone();
        let remap = |ix: u32| -> Result<u32, FoldError> {
            let id = old.step_id(ix as usize).clone();
            place(&id).map(|(_, i)| i)
        };
        for (s, _) in &mut self.joins {
            *s = remap(*s)?;
        }
        for (s, _) in &mut self.dispatches {
            *s = remap(*s)?;
        }
        for t in &mut self.tasks {
            let (id, ix) = place(&t.step_id)?;
            t.step_id = id;
            t.step = ix;
        }
        for m in moved {
            let (id, ix) = place(&m.to_step)?;
            let t = self.task_mut(m.task, index)?;
            t.step_id = id;
            t.step = ix;
            t.role = m.role.clone();
            t.deadline = m.deadline.clone();
            let given = t.warned as usize;
            t.warn_at.truncate(given);
            t.warn_at.extend(m.warnings.iter().copied());
            if m.policy == reglament_model::migration_plan::Policy::Restart {
                // The term counts afresh from the migration: what was stopped before it no
                // longer stands to be added.
                t.term_from = at;
                t.suspensions.clear();
                if let Some(s) = &mut t.suspended {
                    s.since = s.since.max(at);
                }
            }
        }
        self.deadline = case_deadline.clone();
        self.process = next;
        Ok(())
    }

    /// A task's suspension ended (resumed, or the task closed): the case's term runs again
    /// once no suspension stops it.
    fn end_suspension(&mut self, stopped: Option<Suspended>, at: DateTime<Utc>) {
        if let Some(s) = stopped
            && s.stops_case_term
        {
            self.term_stops = self.term_stops.saturating_sub(1);
            if self.term_stops == 0
                && let Some(since) = self.term_stopped_since.take()
            {
                self.term_stopped.push((since, at));
            }
        }
    }

    /// Moves due instants as an event recorded them; `version` is the calendar they were
    /// recomputed on, when it changed.
    fn apply_moved(
        &mut self,
        moved: &[Moved],
        version: Option<&Arc<str>>,
        index: u64,
    ) -> Result<(), FoldError> {
        for m in moved {
            let deadline = match m.target {
                DeadlineTarget::Case => self.deadline.as_mut(),
                DeadlineTarget::Task(task) => {
                    let t = self.task_mut(task, index)?;
                    let given = t.warned as usize;
                    t.warn_at.truncate(given);
                    t.warn_at.extend(m.warnings.iter().copied());
                    t.deadline.as_mut()
                }
            };
            if let Some(d) = deadline {
                d.due = m.to;
                if let Some(v) = version {
                    d.calendar_version = v.clone();
                }
            }
        }
        Ok(())
    }

    /// Whether the case's statutory term is stopped by a suspension now.
    pub fn term_stopped_now(&self) -> bool {
        self.term_stops > 0
    }

    /// The earliest instant at which time alone changes this case: a deadline to breach, a
    /// dispatch to release. `None` when nothing is pending.
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        if !self.is_open() {
            return None;
        }
        let mut best: Option<DateTime<Utc>> = None;
        let mut consider = |t: DateTime<Utc>| {
            if best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        };
        if !self.breached
            && self.term_stops == 0
            && let Some(d) = &self.deadline
        {
            consider(d.due);
        }
        for t in self.open_tasks() {
            if t.suspended.is_some() {
                // A stopped clock wakes nobody: the resumption moves the instants.
                continue;
            }
            if !t.breached {
                if let Some(d) = &t.deadline {
                    consider(d.due);
                }
                if let Some(w) = t.warn_at.get(t.warned as usize) {
                    consider(w.at);
                }
            } else if let Some(at) = t.escalate_at.get(t.escalated as usize) {
                consider(*at);
            }
        }
        for (_, at) in &self.dispatches {
            consider(*at);
        }
        best
    }

    /// Incidents no retry has resolved yet, while the case is open (an ended or cancelled
    /// case has nothing left to retry).
    pub fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        let open = self.is_open();
        self.incidents
            .iter()
            .filter(move |i| open && i.resolved_at.is_none())
    }

    /// The step a task is at.
    pub fn step_of(&self, task: &Task) -> &Step {
        self.process.step(task.step as usize)
    }
}

//! Replaying one case: is its history genuine, does it lead to what the database shows, and
//! was each step on time.
//!
//! [`replay`] reads the case's log and
//! 1. checks its hash chain (the first bad event, as [`reglament_store::verify`] names it);
//! 2. folds the events again ([`CaseState::fold`]) on the regulation version the case is
//!    pinned to (its digest, compiled from the source stored at deployment) and compares the
//!    result, field by field, with the stored projections (`cases`, `tasks`, `wakeups`);
//! 3. recomputes every recorded due instant on the calendar version the case is pinned to
//!    (rebuilt from `calendar_versions`) from the step's duration for the channel, and checks
//!    that each recorded breach came at or after its due instant;
//! 4. lays out the timeline: per task, who, when it opened and closed, the outcome, the
//!    working time it took on the office's calendar, the statutory time and whether it was
//!    breached; and the case's statutory term;
//! 5. with `at`, the state as it stood at that instant (the events recorded by then).
//!
//! The work is done by [`replay_rows`], which is pure: the store is only read beforehand.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::events::EventReader;
use super::verify::verify_case_rows;
use super::{AuditError, late, pinned_clock, rfc3339};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::model::{Counting, Step};
use reglament_model::paths::{DEFAULT_DAY_MINUTES, format_minutes};
use reglament_model::text::Text;
use reglament_runtime::{CaseId, CaseState, Clocks, DeadlineTarget, Event, EventKind};
use reglament_store::Store;
use reglament_store::rows::{self, EventRow, NO_DUE, micros};
use reglament_store::scan::CaseProjection;
use reglament_store::verify::{Head, Tamper};

/// What to replay besides the case.
#[derive(Clone, Copy)]
pub struct ReplayOptions<'a> {
    /// Also show the state as it stood at this instant.
    pub at: Option<DateTime<Utc>>,
    /// When the audit is made: open tasks' working time runs to it, and an open task past its
    /// due instant counts as breached.
    pub now: DateTime<Utc>,
    /// Calendars to fall back on when the database lacks a case's calendar version.
    pub clocks: Option<&'a dyn Clocks>,
}

/// The regulation version a case is pinned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegulationRef {
    pub id: String,
    pub version: u32,
    pub digest: String,
}

/// The hash chain's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainCheck {
    pub intact: bool,
    /// The last event's hash.
    pub head: Option<String>,
    /// The first bad event, when the chain is broken.
    pub problem: Option<Tamper>,
}

/// A field of a projection row that differs from what the events lead to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// `cases`, `tasks` or `wakeups`.
    pub table: &'static str,
    /// The task number for `tasks`.
    pub task: Option<u32>,
    /// The column (`*` for a whole row that is missing on one side).
    pub field: String,
    pub stored: Value,
    pub replayed: Value,
}

/// The stored projections against the fold of the events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectionCheck {
    pub matches: bool,
    pub differences: Vec<Difference>,
}

/// A recorded due instant (or breach) that the pinned calendar and regulation do not give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineMismatch {
    /// The event that recorded it.
    pub seq: u64,
    /// `case` or `task N`.
    pub target: String,
    pub recorded: Option<DateTime<Utc>>,
    pub recomputed: Option<DateTime<Utc>>,
    pub reason: String,
}

/// Recorded deadlines against the calendar and regulation the case is pinned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineCheck {
    /// False when no clock of the case's calendar version was found (nothing recomputed).
    pub recomputed: bool,
    /// Deadlines and breaches checked.
    pub checked: u32,
    pub mismatches: Vec<DeadlineMismatch>,
}

/// One task of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineStep {
    pub task: u32,
    pub step: String,
    pub name: Option<Text>,
    /// `task`, `system` or `dispatch`.
    pub kind: &'static str,
    /// The role that holds it (after any reassignment).
    pub role: String,
    pub opened_at: DateTime<Utc>,
    /// Who caused it to open (the user who finished the step before, or the engine).
    pub opened_by: String,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    /// `open`, `completed` or `cancelled`.
    pub status: &'static str,
    pub closed_at: Option<DateTime<Utc>>,
    /// Who completed it.
    pub closed_by: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    /// Working time from opening to closing (or to the audit, while open), on the office's
    /// calendar, in minutes.
    pub working_minutes: Option<i64>,
    /// The same, for people ("1 working day 2 h 5 min"; a working day is 8 hours).
    pub working_time: Option<String>,
    /// The step's time for the channel, as recorded with its deadline (e.g. `1 working day`).
    pub statutory: Option<String>,
    pub due: Option<DateTime<Utc>>,
    /// Closed after its due instant, or open past it.
    pub breached: bool,
    /// The engine recorded the breach (`deadline_breached`).
    pub breach_recorded: bool,
    pub escalations: u32,
}

/// The case's statutory term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTerm {
    /// What applies, e.g. `10 working days` (the extended term once documents were missing).
    pub term: String,
    pub extended: bool,
    pub registered_at: DateTime<Utc>,
    pub due: DateTime<Utc>,
    /// When the case ended, if it has.
    pub done_at: Option<DateTime<Utc>>,
    /// Working time from registration to the end (or to the audit).
    pub working_minutes: Option<i64>,
    pub working_time: Option<String>,
    /// `Some(true)`: ended by the due instant; `Some(false)`: ended after it, or still open
    /// past it; `None`: still open, not yet due.
    pub met: Option<bool>,
    pub breach_recorded: bool,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub user: String,
    pub role: String,
    /// What it says, in a few words (`task 2 register`, `outcome grant`).
    pub summary: String,
    pub hash: String,
}

/// An open task at the instant asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenTaskAt {
    pub task: u32,
    pub step: String,
    pub name: Option<Text>,
    pub role: String,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub working_minutes: Option<i64>,
}

/// The case as it stood at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateAt {
    pub at: DateTime<Utc>,
    /// Events recorded by then.
    pub events: u64,
    pub last_event: Option<LogLine>,
    /// `not started`, `open`, `ended` or `cancelled`.
    pub status: String,
    pub result: Option<String>,
    pub due: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub documents_missing: bool,
    pub open_tasks: Vec<OpenTaskAt>,
    pub closed_tasks: u32,
}

/// Everything [`replay`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    pub case: String,
    pub regulation: RegulationRef,
    pub channel: String,
    pub office: String,
    pub calendar_version: String,
    /// The office's time zone (from the pinned calendar), for showing instants locally.
    pub time_zone: Option<String>,
    pub events: u64,
    pub chain: ChainCheck,
    /// `None` when the events could not be folded (see `fold_error`).
    pub projections: Option<ProjectionCheck>,
    pub fold_error: Option<String>,
    pub deadlines: DeadlineCheck,
    pub status: String,
    pub result: Option<String>,
    pub started_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub term: Option<CaseTerm>,
    pub timeline: Vec<TimelineStep>,
    pub log: Vec<LogLine>,
    pub state_at: Option<StateAt>,
    /// When the audit was made (see [`ReplayOptions::now`]).
    pub as_of: DateTime<Utc>,
}

impl Replay {
    /// The chain is intact, the projections are what the events lead to, and every recorded
    /// deadline is what the pinned calendar gives.
    pub fn is_clean(&self) -> bool {
        self.chain.intact
            && self.projections.as_ref().is_some_and(|p| p.matches)
            && self.deadlines.mismatches.is_empty()
            && self.fold_error.is_none()
    }
}

/// Replays a case from the database (see the module documentation).
pub async fn replay(
    store: &Store,
    case: &CaseId,
    opts: &ReplayOptions<'_>,
) -> Result<Replay, AuditError> {
    let rows = store.case_log_rows(case).await?;
    let projection = store.case_projection(case).await?;
    let Some(first) = rows.first() else {
        return Err(AuditError::NoSuchCase(case.to_string()));
    };
    let process = store.process(&first.digest).await?;
    let office = projection
        .as_ref()
        .map(|p| p.case.office.clone())
        .or_else(|| office_of(first))
        .unwrap_or_default();
    let clock = pinned_clock(store, &office, &first.calendar_version, opts.clocks).await?;
    replay_rows(
        case.as_str(),
        &rows,
        projection.as_ref(),
        &process,
        clock.as_ref(),
        opts,
    )
}

/// The office named by a `case_started` row, read without folding.
fn office_of(row: &EventRow) -> Option<String> {
    let v: Value = serde_json::from_str(&row.body).ok()?;
    v.get("office")?.as_str().map(str::to_string)
}

/// Replays a case from its log rows (in `seq` order) and its stored projection, on the
/// regulation and clock it is pinned to (`clock` may be missing: then no working time is
/// computed and no deadline recomputed).
pub fn replay_rows(
    case: &str,
    rows: &[EventRow],
    projection: Option<&CaseProjection>,
    process: &Arc<Process>,
    clock: Option<&OfficeClock>,
    opts: &ReplayOptions<'_>,
) -> Result<Replay, AuditError> {
    let head = projection.map(|p| Head {
        last_seq: p.case.last_seq,
        last_hash: p.case.last_hash.clone(),
    });
    let chain = match verify_case_rows(case, rows, head.as_ref()) {
        Ok(_) => ChainCheck {
            intact: true,
            head: rows.last().map(|r| r.hash.clone()),
            problem: None,
        },
        Err(t) => ChainCheck {
            intact: false,
            head: rows.last().map(|r| r.hash.clone()),
            problem: Some(t),
        },
    };
    let events = parse_events(case, rows)?;
    let Some(first) = events.first() else {
        return Err(AuditError::NoSuchCase(case.to_string()));
    };
    let EventKind::CaseStarted {
        regulation,
        version,
        digest,
        channel,
        office,
        registered_at,
        calendar_version,
        ..
    } = &first.kind
    else {
        return Err(AuditError::NotStarted {
            case: case.to_string(),
        });
    };
    let p = process.clone();
    let folded = CaseState::fold(&events, |_| Some(p.clone()));
    let (projections, fold_error, state) = match folded {
        Ok(state) => {
            let check = projection_check(&state, rows, projection);
            (Some(check), None, Some(state))
        }
        Err(e) => (None, Some(e.to_string()), None),
    };
    let deadlines = match clock {
        Some(c) => check_deadlines(process, c, &events),
        None => DeadlineCheck {
            recomputed: false,
            checked: 0,
            mismatches: Vec::new(),
        },
    };
    let ended_at = state.as_ref().and_then(|s| s.ended_at);
    let (status, result) = match &state {
        Some(s) => {
            let (st, r) = rows::case_status(s.status);
            (st.to_string(), r.map(str::to_string))
        }
        None => ("unknown".to_string(), None),
    };
    let timeline = timeline(process, clock, &events, opts.now);
    let term = state
        .as_ref()
        .and_then(|s| case_term(s, &events, clock, opts.now));
    let log = events
        .iter()
        .zip(rows)
        .map(|(e, r)| log_line(e, r))
        .collect();
    let state_at = opts.at.map(|t| state_at(process, clock, &events, rows, t));
    Ok(Replay {
        case: case.to_string(),
        regulation: RegulationRef {
            id: regulation.clone(),
            version: *version,
            digest: digest.clone(),
        },
        channel: channel.clone(),
        office: office.clone(),
        calendar_version: calendar_version.clone(),
        time_zone: clock.map(|c| c.zone().name().to_string()),
        events: rows.len() as u64,
        chain,
        projections,
        fold_error,
        deadlines,
        status,
        result,
        started_at: first.at,
        registered_at: *registered_at,
        ended_at,
        term,
        timeline,
        log,
        state_at,
        as_of: opts.now,
    })
}

/// The events of the rows; a body that is not an event stops the replay.
pub fn parse_events(case: &str, rows: &[EventRow]) -> Result<Vec<Event>, AuditError> {
    let mut events = Vec::with_capacity(rows.len());
    let mut reader = EventReader::default();
    for r in rows {
        events.push(reader.read(&r.body).map_err(|e| AuditError::Unreadable {
            case: case.to_string(),
            seq: r.seq.max(0) as u64,
            reason: e.to_string(),
        })?);
    }
    Ok(events)
}

/// Projection values as people read them: instants in RFC 3339, no-due as null.
fn readable(field: &str, v: Value) -> Value {
    let instant = field.ends_with("_at") || field == "due";
    match v.as_i64() {
        Some(NO_DUE) if field == "due" => Value::Null,
        Some(us) if instant => Value::String(rfc3339(rows::instant(us))),
        _ => v,
    }
}

fn diff_rows<T: Serialize + PartialEq>(
    table: &'static str,
    task: Option<u32>,
    stored: &T,
    replayed: &T,
    out: &mut Vec<Difference>,
) {
    // Equal rows have no differing field; only unequal ones are taken apart field by field
    // (through JSON, which costs far more than the comparison).
    if stored == replayed {
        return;
    }
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(stored), serde_json::to_value(replayed))
    else {
        return;
    };
    for (field, sv) in a {
        let rv = b.get(&field).cloned().unwrap_or(Value::Null);
        if sv != rv {
            out.push(Difference {
                table,
                task,
                stored: readable(&field, sv),
                replayed: readable(&field, rv),
                field,
            });
        }
    }
}

/// The projection rows the state leads to, against the stored ones.
fn projection_check(
    state: &CaseState,
    rows: &[EventRow],
    stored: Option<&CaseProjection>,
) -> ProjectionCheck {
    let last_hash = rows.last().map(|r| r.hash.as_str()).unwrap_or_default();
    let case_row = rows::case_row(state, last_hash);
    let task_rows = rows::all_task_rows(state);
    let wake = state.next_wakeup().map(micros);
    let mut differences = Vec::new();
    let Some(stored) = stored else {
        differences.push(Difference {
            table: "cases",
            task: None,
            field: "*".into(),
            stored: Value::Null,
            replayed: Value::String(format!("a row for case {}", state.id)),
        });
        return ProjectionCheck {
            matches: false,
            differences,
        };
    };
    diff_rows("cases", None, &stored.case, &case_row, &mut differences);
    let mut replayed: BTreeMap<i64, &rows::TaskRow> =
        task_rows.iter().map(|t| (t.task, t)).collect();
    for t in &stored.tasks {
        match replayed.remove(&t.task) {
            Some(r) => diff_rows("tasks", Some(t.task as u32), t, r, &mut differences),
            None => differences.push(Difference {
                table: "tasks",
                task: Some(t.task as u32),
                field: "*".into(),
                stored: Value::String(format!("task {} at step {}", t.task, t.step)),
                replayed: Value::Null,
            }),
        }
    }
    for (n, r) in replayed {
        differences.push(Difference {
            table: "tasks",
            task: Some(n as u32),
            field: "*".into(),
            stored: Value::Null,
            replayed: Value::String(format!("task {n} at step {}", r.step)),
        });
    }
    if stored.wake_at != wake {
        differences.push(Difference {
            table: "wakeups",
            task: None,
            field: "wake_at".into(),
            stored: readable("wake_at", stored.wake_at.map_or(Value::Null, Value::from)),
            replayed: readable("wake_at", wake.map_or(Value::Null, Value::from)),
        });
    }
    ProjectionCheck {
        matches: differences.is_empty(),
        differences,
    }
}

/// How many events from the start belong to the command that started the case: its tasks
/// count their time from the registration instant rather than from the event's instant.
pub(crate) fn start_group(events: &[Event]) -> usize {
    let Some(first) = events.first() else {
        return 0;
    };
    1 + events[1..]
        .iter()
        .take_while(|e| {
            e.at == first.at
                && e.actor == first.actor
                && matches!(
                    e.kind,
                    EventKind::TaskOpened { .. }
                        | EventKind::BranchTaken { .. }
                        | EventKind::Split { .. }
                        | EventKind::JoinArrived { .. }
                        | EventKind::DispatchQueued { .. }
                )
        })
        .count()
}

/// Every recorded due instant recomputed on the pinned clock from the pinned regulation,
/// and every breach checked against the deadline it breached.
fn check_deadlines(process: &Process, clock: &OfficeClock, events: &[Event]) -> DeadlineCheck {
    let mut out = DeadlineCheck {
        recomputed: true,
        checked: 0,
        mismatches: Vec::new(),
    };
    let Some(EventKind::CaseStarted {
        channel,
        registered_at,
        ..
    }) = events.first().map(|e| &e.kind)
    else {
        return out;
    };
    let started_at = events[0].at;
    let ch = process.channel(channel);
    let counting = ch.map(|c| c.counting.clone()).unwrap_or_default();
    let group = start_group(events);
    // Due instants in force: the case's, and each task's, to check breaches against.
    let mut case_due: Option<DateTime<Utc>> = None;
    let mut task_due: BTreeMap<u32, DateTime<Utc>> = BTreeMap::new();
    let mut mismatch = |seq: usize, target: String, recorded, recomputed, reason: String| {
        out.mismatches.push(DeadlineMismatch {
            seq: seq as u64 + 1,
            target,
            recorded,
            recomputed,
            reason,
        });
    };
    let mut checked = 0u32;
    for (i, e) in events.iter().enumerate() {
        match &e.kind {
            EventKind::CaseStarted { deadline, .. } => {
                checked += 1;
                match clock.registration_instant(e.at) {
                    Ok(r) if r == *registered_at => {}
                    Ok(r) => mismatch(
                        i,
                        "case".into(),
                        Some(*registered_at),
                        Some(r),
                        "the registration instant is not the calendar's".into(),
                    ),
                    Err(err) => mismatch(i, "case".into(), None, None, err.to_string()),
                }
                let term = ch.and_then(|c| c.term.as_ref()).map(|t| t.duration);
                check_one(
                    clock,
                    i,
                    "case".into(),
                    deadline.as_ref().map(|d| (d.due, d.term)),
                    term,
                    started_at,
                    &counting,
                    &mut mismatch,
                );
                case_due = deadline.as_ref().map(|d| d.due);
            }
            EventKind::TaskOpened {
                task,
                step,
                deadline,
                ..
            } => {
                checked += 1;
                let term = process
                    .step_index(step)
                    .and_then(|s| process.duration(s, channel));
                let base = if i < group { *registered_at } else { e.at };
                check_one(
                    clock,
                    i,
                    format!("task {task}"),
                    deadline.as_ref().map(|d| (d.due, d.term)),
                    term,
                    base,
                    &Counting::default(),
                    &mut mismatch,
                );
                if let Some(d) = deadline {
                    task_due.insert(task.0, d.due);
                }
            }
            EventKind::DocumentsMissing { deadline, .. } => {
                checked += 1;
                let term = ch
                    .and_then(|c| c.extended_term.as_ref())
                    .map(|t| t.duration);
                check_one(
                    clock,
                    i,
                    "case (extended)".into(),
                    deadline.as_ref().map(|d| (d.due, d.term)),
                    term,
                    started_at,
                    &counting,
                    &mut mismatch,
                );
                if let Some(d) = deadline {
                    case_due = Some(d.due);
                }
            }
            EventKind::DeadlineBreached { target, due, .. } => {
                checked += 1;
                let (name, in_force) = match target {
                    DeadlineTarget::Case => ("case".to_string(), case_due),
                    DeadlineTarget::Task(t) => (format!("task {t}"), task_due.get(&t.0).copied()),
                };
                if in_force != Some(*due) {
                    mismatch(
                        i,
                        name.clone(),
                        Some(*due),
                        in_force,
                        "the breach names a due instant that is not the deadline in force".into(),
                    );
                }
                if e.at < *due {
                    mismatch(
                        i,
                        name,
                        Some(*due),
                        None,
                        format!(
                            "recorded as breached at {}, before it was due",
                            rfc3339(e.at)
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    out.checked = checked;
    out
}

/// Compares one recorded deadline (due, term) with the term the regulation gives and the
/// due instant the clock gives for it.
#[allow(clippy::too_many_arguments)]
fn check_one(
    clock: &OfficeClock,
    i: usize,
    target: String,
    recorded: Option<(DateTime<Utc>, reglament_model::duration::Term)>,
    expected_term: Option<reglament_model::duration::Term>,
    base: DateTime<Utc>,
    counting: &Counting,
    mismatch: &mut impl FnMut(usize, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, String),
) {
    match (recorded, expected_term) {
        (None, None) => {}
        (Some((due, _)), None) => mismatch(
            i,
            target,
            Some(due),
            None,
            "a deadline was recorded where the regulation sets no time".into(),
        ),
        (None, Some(term)) => mismatch(
            i,
            target,
            None,
            clock.due_at(base, term, counting).ok(),
            format!("the regulation sets {term}, but no deadline was recorded"),
        ),
        (Some((due, term)), Some(expected)) => {
            if term != expected {
                mismatch(
                    i,
                    target.clone(),
                    Some(due),
                    clock.due_at(base, expected, counting).ok(),
                    format!("recorded with {term}, the regulation sets {expected}"),
                );
                return;
            }
            match clock.due_at(base, term, counting) {
                Ok(d) if d == due => {}
                Ok(d) => mismatch(
                    i,
                    target,
                    Some(due),
                    Some(d),
                    format!("{term} from {} on the pinned calendar", rfc3339(base)),
                ),
                Err(e) => mismatch(i, target, Some(due), None, e.to_string()),
            }
        }
    }
}

fn step_kind(step: Option<&Step>) -> &'static str {
    match step {
        Some(Step::System(_)) => "system",
        Some(Step::Dispatch(_)) => "dispatch",
        _ => "task",
    }
}

fn working(clock: Option<&OfficeClock>, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<i64> {
    clock.and_then(|c| c.elapsed_minutes(from, to).ok())
}

fn working_text(minutes: Option<i64>) -> Option<String> {
    minutes.map(|m| format_minutes(m.max(0) as u64, DEFAULT_DAY_MINUTES))
}

/// The tasks of the case in the order they opened, from the events alone.
pub(crate) fn timeline(
    process: &Process,
    clock: Option<&OfficeClock>,
    events: &[Event],
    now: DateTime<Utc>,
) -> Vec<TimelineStep> {
    let mut steps: Vec<TimelineStep> = Vec::new();
    let index = |task: u32| usize::try_from(task).ok().and_then(|t| t.checked_sub(1));
    for e in events {
        match &e.kind {
            EventKind::TaskOpened {
                task,
                step,
                role,
                deadline,
            } => {
                let s = process.step_index(step).map(|i| process.step(i));
                steps.push(TimelineStep {
                    task: task.0,
                    step: step.to_string(),
                    name: s.and_then(Step::name).cloned(),
                    kind: step_kind(s),
                    role: role.to_string(),
                    opened_at: e.at,
                    opened_by: e.actor.user.to_string(),
                    claimed_by: None,
                    assigned_to: None,
                    status: "open",
                    closed_at: None,
                    closed_by: None,
                    outcome: None,
                    reason: None,
                    working_minutes: None,
                    working_time: None,
                    statutory: deadline.as_ref().map(|d| d.term.to_string()),
                    due: deadline.as_ref().map(|d| d.due),
                    breached: false,
                    breach_recorded: false,
                    escalations: 0,
                });
            }
            EventKind::TaskClaimed { task, user } => {
                if let Some(t) = index(task.0).and_then(|i| steps.get_mut(i)) {
                    t.claimed_by = Some(user.to_string());
                }
            }
            EventKind::TaskReleased { task } => {
                if let Some(t) = index(task.0).and_then(|i| steps.get_mut(i)) {
                    t.claimed_by = None;
                }
            }
            EventKind::TaskReassigned { task, user, role } => {
                if let Some(t) = index(task.0).and_then(|i| steps.get_mut(i)) {
                    t.claimed_by = None;
                    t.assigned_to = user.as_deref().map(str::to_string);
                    t.role = role.to_string();
                }
            }
            EventKind::TaskCompleted {
                task,
                outcome,
                reason,
                ..
            } => {
                if let Some(t) = index(task.0).and_then(|i| steps.get_mut(i)) {
                    t.status = "completed";
                    t.closed_at = Some(e.at);
                    t.closed_by = Some(e.actor.user.to_string());
                    t.outcome = outcome.as_deref().map(str::to_string);
                    t.reason.clone_from(reason);
                }
            }
            EventKind::TaskCancelled { task } => {
                if let Some(t) = index(task.0).and_then(|i| steps.get_mut(i)) {
                    t.status = "cancelled";
                    t.closed_at = Some(e.at);
                }
            }
            EventKind::DeadlineBreached {
                target: DeadlineTarget::Task(task),
                ..
            } => {
                if let Some(t) = index(task.0).and_then(|i| steps.get_mut(i)) {
                    t.breach_recorded = true;
                }
            }
            EventKind::EscalationNotified { task, .. } => {
                if let Some(t) = index(task.0).and_then(|i| steps.get_mut(i)) {
                    t.escalations += 1;
                }
            }
            _ => {}
        }
    }
    for t in &mut steps {
        let end = t.closed_at.unwrap_or(now);
        t.working_minutes = working(clock, t.opened_at, end);
        t.working_time = working_text(t.working_minutes);
        t.breached = t.due.is_some_and(|d| late(d, t.closed_at, now));
    }
    steps
}

fn case_term(
    state: &CaseState,
    events: &[Event],
    clock: Option<&OfficeClock>,
    now: DateTime<Utc>,
) -> Option<CaseTerm> {
    let d = state.deadline.as_ref()?;
    let done = state.ended_at;
    let minutes = working(clock, state.registered_at, done.unwrap_or(now));
    let breach_recorded = events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::DeadlineBreached {
                target: DeadlineTarget::Case,
                due,
                ..
            } if due == d.due
        )
    });
    let met = match done {
        Some(_) => Some(!late(d.due, done, now)),
        None if d.due <= now => Some(false),
        None => None,
    };
    Some(CaseTerm {
        term: d.term.to_string(),
        extended: state.documents_missing,
        registered_at: state.registered_at,
        due: d.due,
        done_at: done,
        working_minutes: minutes,
        working_time: working_text(minutes),
        met,
        breach_recorded,
    })
}

/// A few words on what an event says.
fn summary(e: &Event) -> String {
    match &e.kind {
        EventKind::CaseStarted {
            regulation,
            version,
            channel,
            office,
            ..
        } => format!("{regulation} v{version}, channel {channel}, office {office}"),
        EventKind::TaskOpened {
            task, step, role, ..
        } => format!("task {task} {step} ({role})"),
        EventKind::TaskClaimed { task, user } => format!("task {task} by {user}"),
        EventKind::TaskReleased { task } | EventKind::TaskCancelled { task } => {
            format!("task {task}")
        }
        EventKind::TaskReassigned { task, user, role } => match user {
            Some(u) => format!("task {task} to {u} ({role})"),
            None => format!("task {task} to role {role}"),
        },
        EventKind::TaskCompleted { task, outcome, .. } => match outcome {
            Some(o) => format!("task {task}, outcome {o}"),
            None => format!("task {task}"),
        },
        EventKind::BranchTaken { step, next, .. } => format!("{step} → {next}"),
        EventKind::Split { step }
        | EventKind::DispatchReleased { step }
        | EventKind::JoinArrived { step, .. } => step.to_string(),
        EventKind::DispatchQueued { step, release_at } => {
            format!("{step} until {}", rfc3339(*release_at))
        }
        EventKind::DocumentsMissing { .. } => "the extended term applies".into(),
        EventKind::DeadlineBreached { target, due, .. } => match target {
            DeadlineTarget::Case => format!("the case, due {}", rfc3339(*due)),
            DeadlineTarget::Task(t) => format!("task {t}, due {}", rfc3339(*due)),
        },
        EventKind::EscalationNotified { task, role } => format!("task {task}, {role} told"),
        EventKind::CaseEnded { result, .. } => result.as_str().to_string(),
        EventKind::CaseCancelled { reason } => reason.clone(),
        EventKind::IncidentOpened {
            incident,
            step,
            cause,
            ..
        } => format!("incident {incident} at {step}: {cause}"),
        EventKind::IncidentResolved {
            incident, reason, ..
        } => format!("incident {incident} retried: {reason}"),
        EventKind::WarningsScheduled { task, warnings } => {
            let at: Vec<String> = warnings
                .iter()
                .map(|w| format!("{} % at {}", w.percent, rfc3339(w.at)))
                .collect();
            format!("task {task}: warnings {}", at.join(", "))
        }
        EventKind::DeadlineWarned { task, percent, due } => {
            format!(
                "task {task}: {percent} % of its time gone, due {}",
                rfc3339(*due)
            )
        }
        EventKind::DeadlinesRescheduled {
            to_version,
            days,
            moved,
            ..
        } => {
            let days: Vec<String> = days.iter().map(|d| d.to_string()).collect();
            format!(
                "calendar {}: {}{}",
                short(to_version),
                moved_text(moved),
                if days.is_empty() {
                    String::new()
                } else {
                    format!(" (days changed: {})", days.join(", "))
                }
            )
        }
        EventKind::TaskSuspended {
            task,
            reason,
            stops_case_term,
            ..
        } => format!(
            "task {task} suspended: {reason}{}",
            if *stops_case_term {
                ", the case's term stopped too"
            } else {
                ""
            }
        ),
        EventKind::TaskResumed {
            task,
            suspended_seconds,
            moved,
            ..
        } => format!(
            "task {task} resumed after {} of working time; {}",
            working_text(Some(*suspended_seconds as i64 / 60)).unwrap_or_default(),
            moved_text(moved)
        ),
    }
}

fn short(version: &str) -> &str {
    version.get(..12).unwrap_or(version)
}

/// "task 2 due A → B, the case due C → D".
fn moved_text(moved: &[reglament_runtime::Moved]) -> String {
    if moved.is_empty() {
        return "no due instant moved".into();
    }
    moved
        .iter()
        .map(|m| {
            let what = match m.target {
                DeadlineTarget::Case => "the case".to_string(),
                DeadlineTarget::Task(t) => format!("task {t}"),
            };
            format!("{what} due {} → {}", rfc3339(m.from), rfc3339(m.to))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn log_line(e: &Event, r: &EventRow) -> LogLine {
    LogLine {
        seq: r.seq.max(0) as u64,
        at: e.at,
        kind: e.kind.name(),
        user: e.actor.user.to_string(),
        role: e.actor.role.to_string(),
        summary: summary(e),
        hash: r.hash.clone(),
    }
}

/// The case folded from the events recorded by `at`.
fn state_at(
    process: &Arc<Process>,
    clock: Option<&OfficeClock>,
    events: &[Event],
    rows: &[EventRow],
    at: DateTime<Utc>,
) -> StateAt {
    let n = events.iter().take_while(|e| e.at <= at).count();
    let last_event = n
        .checked_sub(1)
        .and_then(|i| Some(log_line(events.get(i)?, rows.get(i)?)));
    let p = process.clone();
    let state = CaseState::fold(&events[..n], |_| Some(p.clone())).ok();
    let Some(s) = state else {
        return StateAt {
            at,
            events: n as u64,
            last_event,
            status: "not started".into(),
            result: None,
            due: None,
            overdue: false,
            documents_missing: false,
            open_tasks: Vec::new(),
            closed_tasks: 0,
        };
    };
    let (status, result) = rows::case_status(s.status);
    let due = s.deadline.as_ref().map(|d| d.due);
    let open_tasks = s
        .open_tasks()
        .map(|t| OpenTaskAt {
            task: t.id.0,
            step: t.step_id.to_string(),
            name: s.step_of(t).name().cloned(),
            role: t.role.to_string(),
            claimed_by: t.claimed_by.as_deref().map(str::to_string),
            assigned_to: t.assigned_to.as_deref().map(str::to_string),
            opened_at: t.opened_at,
            due: t.deadline.as_ref().map(|d| d.due),
            overdue: t.deadline.as_ref().is_some_and(|d| late(d.due, None, at)),
            working_minutes: working(clock, t.opened_at, at),
        })
        .collect();
    StateAt {
        at,
        events: n as u64,
        last_event,
        status: status.to_string(),
        result: result.map(str::to_string),
        due,
        overdue: due.is_some_and(|d| late(d, s.ended_at, at)),
        documents_missing: s.documents_missing,
        open_tasks,
        closed_tasks: s.tasks.iter().filter(|t| t.closed_at.is_some()).count() as u32,
    }
}

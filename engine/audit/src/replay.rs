//! Replaying one case: is its history genuine, does it lead to what the database shows, and
//! was each step on time.
//!
//! [`replay`] reads the case's log and
//! 1. checks its hash chain (the first bad event, as [`reglament_store::verify`] names it);
//! 2. folds the events again ([`CaseState::fold`]) on the regulation version the case is
//!    pinned to (its digest, compiled from the source stored at deployment) and compares the
//!    result, field by field, with the stored projections (`cases`, `tasks`, `wakeups`);
//! 3. recomputes every recorded due instant on the calendar version it was computed on
//!    (rebuilt from `calendar_versions`: the case's pinned one, and any it was moved onto by a
//!    `deadlines_rescheduled` event) from the step's duration for the channel; recomputes
//!    what each `deadlines_rescheduled` and `task_resumed` event moved; and checks that each
//!    recorded breach came at or after the due instant in force, and not while its time was
//!    stopped by a suspension;
//! 4. lays out the timeline: per task, who, when it opened and closed, the outcome, the
//!    working time it took on its office's calendar (without the time it was suspended,
//!    shown apart), the statutory time and whether it was breached; and the case's statutory
//!    term (without the time it stood still). A case that crossed offices names the office of
//!    every step, and a task at another office than the registering one counts on that
//!    office's clock (the version its deadline was computed on, which the store recorded);
//! 5. with `at`, the state as it stood at that instant (the events recorded by then).
//!
//! The work is done by [`replay_rows_on`] (or [`replay_rows`], given the pinned clock only),
//! which is pure: the store is only read beforehand.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::events::EventReader;
use super::verify::verify_case_rows;
use super::{AuditError, late, pinned_clock, rfc3339};
use reglament_calendar::{CalendarError, OfficeClock};
use reglament_model::compile::Process;
use reglament_model::duration::Term;
use reglament_model::migration_plan::Policy;
use reglament_model::model::{Counting, Step};
use reglament_model::paths::{DEFAULT_DAY_MINUTES, format_minutes};
use reglament_model::text::Text;
use reglament_runtime::{
    CaseId, CaseState, Clocks, CommandError, DeadlineTarget, Event, EventKind, Moved, TaskId,
    Warning, warning_instants,
};
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
    /// Calendars to fall back on when the database lacks a case's calendar version; the
    /// office's calendar as loaded now is also tried for resumptions (a case follows a new
    /// calendar that moved none of its instants without an event of its own).
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
    /// False when a clock of a calendar version the case counted on was not found: the
    /// deadlines computed on it were not recomputed (`missing_versions` names it).
    pub recomputed: bool,
    /// Deadlines, breaches, reschedulings and resumptions checked.
    pub checked: u32,
    pub mismatches: Vec<DeadlineMismatch>,
    /// Deadlines, reschedulings and resumptions not checked for want of their calendar's clock.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unchecked: u32,
    /// The calendar versions whose clocks neither the database nor the loaded calendars have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_versions: Vec<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A case that stayed at one office.
fn crossed_none(offices: &[String]) -> bool {
    offices.len() <= 1
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
    /// The office that did it (whose staff of `role` worked it, on whose hours its working
    /// time is counted). Given for every step of a case that crossed offices (a service
    /// centre's case handed to the provider's office, and back); left out for a case that
    /// stayed where it was registered, whose every step was done at [`Replay::office`] (so
    /// that the audits recorded before cases crossed offices read the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
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
    /// calendar, in minutes; the time the task was suspended is not in it.
    pub working_minutes: Option<i64>,
    /// The same, for people ("1 working day 2 h 5 min"; a working day is 8 hours).
    pub working_time: Option<String>,
    /// The step's time for the channel, as recorded with its deadline (e.g. `1 working day`).
    pub statutory: Option<String>,
    /// The due instant in force at the end (moved by resumptions and reschedulings).
    pub due: Option<DateTime<Utc>>,
    /// Closed after its due instant, or open past it (while suspended: past it when the
    /// suspension began).
    pub breached: bool,
    /// The engine recorded the breach (`deadline_breached`).
    pub breach_recorded: bool,
    pub escalations: u32,
    /// Working time the task was suspended, in minutes (a suspension still running counts to
    /// the audit); left out for a task never suspended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_minutes: Option<i64>,
    /// Since when the task is suspended, while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_since: Option<DateTime<Utc>>,
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
    /// Working time from registration to the end (or to the audit), without the time the
    /// term stood still.
    pub working_minutes: Option<i64>,
    pub working_time: Option<String>,
    /// `Some(true)`: ended by the due instant; `Some(false)`: ended after it, or still open
    /// past it; `None`: still open, not yet due (or stopped before it was due).
    pub met: Option<bool>,
    pub breach_recorded: bool,
    /// Working time the term stood still, in minutes, while a suspension that stops it ran;
    /// left out for a case whose term never stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_minutes: Option<i64>,
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
    /// The office the task is in, for a case that crossed offices (as in [`TimelineStep`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub working_minutes: Option<i64>,
    /// The task's time is stopped at that instant.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
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
    /// The office where the case was registered.
    pub office: String,
    /// Every office the case has been at, in order, the registering one first (a case handed
    /// from a service centre to the provider's office and back: both); left out for a case
    /// that never left `office`.
    #[serde(default, skip_serializing_if = "crossed_none")]
    pub offices: Vec<String>,
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
    // The versions a `case_migrated` moved the case onto (each row names the one it was
    // written on).
    let mut later = HashMap::new();
    for r in &rows {
        if r.digest != first.digest && !later.contains_key(&r.digest) {
            later.insert(r.digest.clone(), store.process(&r.digest).await?);
        }
    }
    let office = projection
        .as_ref()
        .map(|p| p.case.office.clone())
        .or_else(|| office_of(first))
        .unwrap_or_default();
    let mut clocks = BTreeMap::new();
    if let Some(c) = pinned_clock(store, &office, &first.calendar_version, opts.clocks).await? {
        clocks.insert(first.calendar_version.clone(), c);
    }
    // The versions of the deadlines of tasks at other offices are those offices' calendars.
    let elsewhere = versions_elsewhere(&rows);
    for v in later_versions(&rows) {
        if clocks.contains_key(&v) {
            continue;
        }
        let at = elsewhere.get(&v).map_or(office.as_str(), String::as_str);
        // A stored version that no longer compiles is as good as missing: the deadline check
        // names it and says what it could not recompute.
        if let Ok(Some(c)) = pinned_clock(store, at, &v, opts.clocks).await {
            clocks.insert(v, c);
        }
    }
    // The office's calendar as loaded now: an open case counts on it from its next command,
    // and a new calendar that moves none of the case's instants leaves no event of its own.
    if let Some(c) = opts.clocks.and_then(|f| f.clock(&office, None).ok()) {
        clocks.entry(c.version().to_string()).or_insert(c);
    }
    replay_with(
        case.as_str(),
        &rows,
        projection.as_ref(),
        &process,
        &later,
        None,
        &clocks,
        opts,
    )
}

/// The office named by a `case_started` row, read without folding.
fn office_of(row: &EventRow) -> Option<String> {
    let v: Value = serde_json::from_str(&row.body).ok()?;
    v.get("office")?.as_str().map(str::to_string)
}

/// The calendar versions a case's log names after its start: those of its rows, of the
/// deadlines it recorded and of its reschedulings (read from the bodies of the kinds that
/// carry them only).
fn later_versions(rows: &[EventRow]) -> BTreeSet<String> {
    #[derive(Deserialize)]
    struct Version {
        calendar_version: String,
    }
    #[derive(Deserialize)]
    struct Named {
        deadline: Option<Version>,
        from_version: Option<String>,
        to_version: Option<String>,
    }
    let mut out = BTreeSet::new();
    for r in rows {
        if !out.contains(&r.calendar_version) {
            out.insert(r.calendar_version.clone());
        }
        if matches!(
            r.kind.as_str(),
            "task_opened" | "documents_missing" | "deadlines_rescheduled"
        ) && let Ok(n) = serde_json::from_str::<Named>(&r.body)
        {
            out.extend(n.deadline.map(|d| d.calendar_version));
            out.extend(n.from_version);
            out.extend(n.to_version);
        }
    }
    out
}

/// The calendar versions of the deadlines of tasks opened at another office than the one the
/// case was registered at, with that office (read from the bodies of `task_opened` only).
fn versions_elsewhere(rows: &[EventRow]) -> BTreeMap<String, String> {
    #[derive(Deserialize)]
    struct Version {
        calendar_version: String,
    }
    #[derive(Deserialize)]
    struct Opened {
        office: Option<String>,
        deadline: Option<Version>,
    }
    let mut out = BTreeMap::new();
    for r in rows.iter().filter(|r| r.kind == "task_opened") {
        if let Ok(Opened {
            office: Some(office),
            deadline: Some(d),
        }) = serde_json::from_str::<Opened>(&r.body)
        {
            out.entry(d.calendar_version).or_insert(office);
        }
    }
    out
}

/// Replays a case from its log rows (in `seq` order) and its stored projection, on the
/// regulation and clock it is pinned to (`clock` may be missing: then no working time is
/// computed and no deadline recomputed). Deadlines computed on another calendar version
/// (after a `deadlines_rescheduled` event) are not recomputed: [`replay_rows_on`] takes the
/// clock of each version.
pub fn replay_rows(
    case: &str,
    rows: &[EventRow],
    projection: Option<&CaseProjection>,
    process: &Arc<Process>,
    clock: Option<&OfficeClock>,
    opts: &ReplayOptions<'_>,
) -> Result<Replay, AuditError> {
    replay_with(
        case,
        rows,
        projection,
        process,
        &HashMap::new(),
        clock,
        &BTreeMap::new(),
        opts,
    )
}

/// [`replay_rows`] with the clocks of the calendar versions at hand, by version: the case's
/// pinned one and those it was moved onto (a version missing here is named in the deadline
/// check, and what was computed on it is not recomputed).
pub fn replay_rows_on(
    case: &str,
    rows: &[EventRow],
    projection: Option<&CaseProjection>,
    process: &Arc<Process>,
    clocks: &BTreeMap<String, OfficeClock>,
    opts: &ReplayOptions<'_>,
) -> Result<Replay, AuditError> {
    replay_with(
        case,
        rows,
        projection,
        process,
        &HashMap::new(),
        None,
        clocks,
        opts,
    )
}

/// The clocks of a case's calendar versions.
struct Versions<'a> {
    /// The version the case started on.
    first: &'a str,
    /// Its clock, when the caller gave it as such.
    pinned: Option<&'a OfficeClock>,
    by_version: &'a BTreeMap<String, OfficeClock>,
}

impl<'a> Versions<'a> {
    fn get(&self, version: &str) -> Option<&'a OfficeClock> {
        if version == self.first
            && let Some(p) = self.pinned
        {
            return Some(p);
        }
        self.by_version
            .get(version)
            .or_else(|| self.pinned.filter(|c| c.version() == version))
    }

    /// The clocks of `preferred`, in that order, then every other one at hand.
    fn candidates(&self, preferred: &[&str]) -> Vec<&'a OfficeClock> {
        let mut out: Vec<&'a OfficeClock> = Vec::new();
        let known = preferred.iter().filter_map(|v| self.get(v));
        let rest = self.pinned.into_iter().chain(self.by_version.values());
        for c in known.chain(rest) {
            if !out.iter().any(|o| o.version() == c.version()) {
                out.push(c);
            }
        }
        out
    }
}

#[allow(clippy::too_many_arguments)]
fn replay_with(
    case: &str,
    rows: &[EventRow],
    projection: Option<&CaseProjection>,
    process: &Arc<Process>,
    later: &HashMap<String, Arc<Process>>,
    pinned: Option<&OfficeClock>,
    by_version: &BTreeMap<String, OfficeClock>,
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
    let versions = Versions {
        first: calendar_version,
        pinned,
        by_version,
    };
    let clock = versions.get(calendar_version);
    // The version it started on, then those `case_migrated` events moved it onto.
    let p = process.clone();
    // (A `case_migrated` checks that it got the version it names, so the fallback to the
    // first version cannot fold a migrated case wrongly.)
    let folded = CaseState::fold(&events, |d| {
        later.get(d).cloned().or_else(|| Some(p.clone()))
    });
    let (projections, fold_error, state) = match folded {
        Ok(state) => {
            let check = projection_check(&state, rows, projection);
            (Some(check), None, Some(state))
        }
        Err(e) => (None, Some(e.to_string()), None),
    };
    let deadlines = check_deadlines(process, later, &versions, &events);
    // Working time on the calendar the case counts on at the end (the pinned one unless a
    // rescheduling moved it onto another).
    let current = state
        .as_ref()
        .and_then(|s| versions.get(&s.calendar_version))
        .or(clock);
    let ended_at = state.as_ref().and_then(|s| s.ended_at);
    let (status, result) = match &state {
        Some(s) => {
            let (st, r) = rows::case_status(s.status);
            (st.to_string(), r.map(str::to_string))
        }
        None => ("unknown".to_string(), None),
    };
    let elsewhere = office_clocks(&events, office, &versions, opts.clocks);
    let timeline = timeline(process, current, &elsewhere, &events, opts.now);
    let term = state
        .as_ref()
        .and_then(|s| case_term(s, &events, current, opts.now));
    let log = events
        .iter()
        .zip(rows)
        .map(|(e, r)| log_line(e, r))
        .collect();
    let state_at = opts
        .at
        .map(|t| state_at(process, current, &elsewhere, &events, rows, t));
    Ok(Replay {
        case: case.to_string(),
        regulation: RegulationRef {
            id: regulation.clone(),
            version: *version,
            digest: digest.clone(),
        },
        channel: channel.clone(),
        office: office.clone(),
        offices: offices_of(&events),
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

/// Every office a case has been at, in order, each once: where it was registered, then each
/// office a hand-over or a task took it to (as [`CaseState::offices`], without folding).
pub(crate) fn offices_of(events: &[Event]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        let office = match &e.kind {
            EventKind::CaseStarted { office, .. } => office.as_str(),
            EventKind::CaseHandedOver { to, .. } => to,
            EventKind::TaskOpened {
                office: Some(o), ..
            } => o,
            _ => continue,
        };
        if !out.iter().any(|o| o == office) {
            out.push(office.to_string());
        }
    }
    out
}

/// Whether any task of the case was at another office than the one it was registered at.
fn crossed(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::CaseHandedOver { .. }
                | EventKind::TaskOpened {
                    office: Some(_),
                    ..
                }
        )
    })
}

/// The clocks of the offices other than `office` that the case's tasks were at: the calendar
/// version the first deadline counted there was computed on, else (its tasks had no time)
/// the office's calendar as loaded in `fallback`. An office with neither is left out, and
/// its tasks' working time is not computed.
fn office_clocks(
    events: &[Event],
    office: &str,
    versions: &Versions<'_>,
    fallback: Option<&dyn Clocks>,
) -> BTreeMap<String, OfficeClock> {
    let mut out: BTreeMap<String, OfficeClock> = BTreeMap::new();
    let mut unclocked: Vec<&str> = Vec::new();
    for e in events {
        let EventKind::TaskOpened {
            office: Some(at),
            deadline,
            ..
        } = &e.kind
        else {
            continue;
        };
        if **at == *office || out.contains_key(&**at) {
            continue;
        }
        match deadline
            .as_ref()
            .and_then(|d| versions.get(&d.calendar_version))
        {
            Some(c) => {
                out.insert(at.to_string(), c.clone());
            }
            None => unclocked.push(at),
        }
    }
    for at in unclocked {
        if !out.contains_key(at)
            && let Some(c) = fallback.and_then(|f| f.clock(at, None).ok())
        {
            out.insert(at.to_string(), c);
        }
    }
    out
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

/// A task's deadline as the log has it so far.
struct TaskTrack {
    opened_at: DateTime<Utc>,
    /// The due instant in force, its term and the calendar version it was computed on.
    deadline: Option<(DateTime<Utc>, Term, Arc<str>)>,
    breached: bool,
    open: bool,
    /// Since when, and whether the case's term stopped too, while the task is suspended.
    suspended: Option<(DateTime<Utc>, bool)>,
    /// The suspensions that ended.
    suspensions: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    warn_at: Vec<Warning>,
    warned: usize,
}

/// The case's deadlines as the log has them so far (what the fold keeps of them).
struct Track {
    /// The calendar version the case counts on.
    version: String,
    started_at: DateTime<Utc>,
    counting: Counting,
    /// The case's due instant in force and its term.
    deadline: Option<(DateTime<Utc>, Term)>,
    breached: bool,
    term_stops: u32,
    term_stopped_since: Option<DateTime<Utc>>,
    /// The intervals the case's term stood still.
    term_stopped: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    tasks: BTreeMap<u32, TaskTrack>,
}

impl Track {
    /// A task's suspension ended (resumed, or the task closed): the case's term runs again
    /// once no suspension stops it.
    fn end_suspension(&mut self, task: u32, at: DateTime<Utc>) {
        let stopped = self.tasks.get_mut(&task).and_then(|t| t.suspended.take());
        if let Some((since, stops)) = stopped {
            if let Some(t) = self.tasks.get_mut(&task) {
                t.suspensions.push((since, at));
            }
            if stops {
                self.term_stops = self.term_stops.saturating_sub(1);
                if self.term_stops == 0
                    && let Some(since) = self.term_stopped_since.take()
                {
                    self.term_stopped.push((since, at));
                }
            }
        }
    }

    /// Moves the due instants as an event recorded them (the checks that follow go on from
    /// what the log says, so that one wrong instant is named once).
    fn apply(&mut self, moved: &[Moved], version: Option<&str>) {
        for m in moved {
            match m.target {
                DeadlineTarget::Case => {
                    if let Some(d) = &mut self.deadline {
                        d.0 = m.to;
                    }
                }
                DeadlineTarget::Task(t) => {
                    if let Some(t) = self.tasks.get_mut(&t.0) {
                        t.warn_at.truncate(t.warned);
                        t.warn_at.extend(m.warnings.iter().copied());
                        if let Some(d) = &mut t.deadline {
                            d.0 = m.to;
                            if let Some(v) = version {
                                d.2 = Arc::from(v);
                            }
                        }
                    }
                }
            }
        }
    }

    /// What resuming `task` at `at` moves on `clock`, as the engine computes it: the working
    /// seconds it was suspended, its due instant and warnings to come moved by them, and the
    /// case's due instant moved by the working time its term stood still when this was the
    /// last suspension stopping it.
    /// `clock` is the task's office's, `case_clock` the case's (they differ for a task the
    /// case was handed over for), as the engine counts them.
    fn resumption(
        &self,
        task: u32,
        at: DateTime<Utc>,
        clock: &OfficeClock,
        case_clock: &OfficeClock,
    ) -> Result<Option<(u64, Vec<Moved>)>, CalendarError> {
        let Some(t) = self.tasks.get(&task) else {
            return Ok(None);
        };
        let Some((since, stops)) = t.suspended else {
            return Ok(None);
        };
        let seconds = clock.elapsed_seconds(since, at)?.max(0) as u64;
        let mut moved = Vec::new();
        if !t.breached
            && let Some((due, ..)) = &t.deadline
        {
            let to = clock.add_working_seconds(*due, seconds)?;
            let warnings = t
                .warn_at
                .iter()
                .skip(t.warned)
                .map(|w| {
                    Ok(Warning {
                        percent: w.percent,
                        at: clock.add_working_seconds(w.at, seconds)?,
                    })
                })
                .collect::<Result<Vec<_>, CalendarError>>()?;
            if to != *due || !warnings.is_empty() {
                moved.push(Moved {
                    target: DeadlineTarget::Task(TaskId(task)),
                    from: *due,
                    to,
                    warnings,
                });
            }
        }
        if stops
            && self.term_stops == 1
            && !self.breached
            && let (Some((due, _)), Some(since)) = (&self.deadline, self.term_stopped_since)
        {
            let stopped = case_clock.elapsed_seconds(since, at)?.max(0) as u64;
            let to = case_clock.add_working_seconds(*due, stopped)?;
            if to != *due {
                moved.push(Moved {
                    target: DeadlineTarget::Case,
                    from: *due,
                    to,
                    warnings: Vec::new(),
                });
            }
        }
        Ok(Some((seconds, moved)))
    }

    /// The running due instants recomputed afresh on `clock`, as the engine's `reschedule`
    /// does: each term from its start, plus the working time of its ended suspensions (or of
    /// the case's ended term stops) measured on `clock`; breached ones stay. Those that
    /// differ from the ones in force, with the warnings still to come.
    fn rescheduling(
        &self,
        clock: &OfficeClock,
        percents: &[u8],
    ) -> Result<Vec<Moved>, CommandError> {
        let stopped = |spans: &[(DateTime<Utc>, DateTime<Utc>)]| -> Result<u64, CalendarError> {
            let mut total = 0u64;
            for (a, b) in spans {
                total += clock.elapsed_seconds(*a, *b)?.max(0) as u64;
            }
            Ok(total)
        };
        let mut moved = Vec::new();
        if !self.breached
            && let Some((due, term)) = &self.deadline
        {
            let base = clock.due_at(self.started_at, *term, &self.counting)?;
            let to = clock.add_working_seconds(base, stopped(&self.term_stopped)?)?;
            if to != *due {
                moved.push(Moved {
                    target: DeadlineTarget::Case,
                    from: *due,
                    to,
                    warnings: Vec::new(),
                });
            }
        }
        for (n, t) in &self.tasks {
            if !t.open || t.breached {
                continue;
            }
            let Some((due, term, _)) = &t.deadline else {
                continue;
            };
            let base = clock.due_at(t.opened_at, *term, &Counting::default())?;
            let shift = stopped(&t.suspensions)?;
            let to = clock.add_working_seconds(base, shift)?;
            let last_given = t
                .warn_at
                .get(..t.warned)
                .and_then(|w| w.last())
                .map_or(0, |w| w.percent);
            let warnings = if percents.is_empty() {
                Vec::new()
            } else {
                warning_instants(clock, t.opened_at, base, percents)?
                    .into_iter()
                    .filter(|w| w.percent > last_given)
                    .map(|w| {
                        Ok(Warning {
                            percent: w.percent,
                            at: clock.add_working_seconds(w.at, shift)?,
                        })
                    })
                    .collect::<Result<Vec<_>, CommandError>>()?
            };
            let pending = t.warn_at.get(t.warned..).unwrap_or_default();
            if to != *due || warnings != pending {
                moved.push(Moved {
                    target: DeadlineTarget::Task(TaskId(*n)),
                    from: *due,
                    to,
                    warnings,
                });
            }
        }
        Ok(moved)
    }
}

/// What the deadline check found so far.
struct Found {
    check: DeadlineCheck,
    missing: BTreeSet<String>,
}

impl Found {
    fn mismatch(
        &mut self,
        i: usize,
        target: String,
        recorded: Option<DateTime<Utc>>,
        recomputed: Option<DateTime<Utc>>,
        reason: String,
    ) {
        self.check.mismatches.push(DeadlineMismatch {
            seq: i as u64 + 1,
            target,
            recorded,
            recomputed,
            reason,
        });
    }

    /// The clock of `version`, counting the check as made; or, when it is missing, the
    /// check as not made.
    fn clock<'a>(&mut self, versions: &Versions<'a>, version: &str) -> Option<&'a OfficeClock> {
        match versions.get(version) {
            Some(c) => {
                self.check.checked += 1;
                Some(c)
            }
            None => {
                self.check.unchecked += 1;
                if !self.missing.contains(version) {
                    self.missing.insert(version.to_string());
                }
                None
            }
        }
    }

    /// The instants an event moved against those recomputed (`why`: by what rule).
    fn compare_moves(&mut self, i: usize, recorded: &[Moved], expected: &[Moved], why: &str) {
        for m in recorded {
            let name = target_name(m.target);
            match expected.iter().find(|x| x.target == m.target) {
                Some(x) if x.from != m.from => self.mismatch(
                    i,
                    name,
                    Some(m.from),
                    Some(x.from),
                    format!(
                        "moves the due instant from {}, but the one in force was {}",
                        rfc3339(m.from),
                        rfc3339(x.from)
                    ),
                ),
                Some(x) if x.to != m.to => self.mismatch(
                    i,
                    name,
                    Some(m.to),
                    Some(x.to),
                    format!("{why} gives {}", rfc3339(x.to)),
                ),
                Some(x) if x.warnings != m.warnings => self.mismatch(
                    i,
                    name,
                    Some(m.to),
                    Some(x.to),
                    format!(
                        "the warnings still to come are [{}]; {why} gives [{}]",
                        warnings_text(&m.warnings),
                        warnings_text(&x.warnings)
                    ),
                ),
                Some(_) => {}
                None => self.mismatch(
                    i,
                    name,
                    Some(m.to),
                    None,
                    format!(
                        "moves it from {}, but by {why} it does not move (it is not running, \
                         was breached, or stays where it was)",
                        rfc3339(m.from)
                    ),
                ),
            }
        }
        for x in expected {
            if !recorded.iter().any(|m| m.target == x.target) {
                self.mismatch(
                    i,
                    target_name(x.target),
                    Some(x.from),
                    Some(x.to),
                    format!(
                        "{why} moves it from {} to {}, but the event does not",
                        rfc3339(x.from),
                        rfc3339(x.to)
                    ),
                );
            }
        }
    }
}

/// Whether the recorded moves are exactly the recomputed ones (in any order).
fn moves_agree(recorded: &[Moved], expected: &[Moved]) -> bool {
    recorded.len() == expected.len() && recorded.iter().all(|m| expected.contains(m))
}

fn target_name(t: DeadlineTarget) -> String {
    match t {
        DeadlineTarget::Case => "case".into(),
        DeadlineTarget::Task(n) => format!("task {n}"),
    }
}

fn warnings_text(w: &[Warning]) -> String {
    w.iter()
        .map(|w| format!("{} % at {}", w.percent, rfc3339(w.at)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every recorded due instant recomputed on the clock of the calendar version it was
/// computed on, from the pinned regulation; every rescheduling and resumption recomputed;
/// every breach checked against the deadline in force and the suspensions.
fn check_deadlines(
    first: &Arc<Process>,
    later: &HashMap<String, Arc<Process>>,
    versions: &Versions<'_>,
    events: &[Event],
) -> DeadlineCheck {
    // The version the case runs on: the one it started on until a `case_migrated` moves it.
    let mut process = first.clone();
    let mut out = Found {
        check: DeadlineCheck {
            recomputed: true,
            checked: 0,
            mismatches: Vec::new(),
            unchecked: 0,
            missing_versions: Vec::new(),
        },
        missing: BTreeSet::new(),
    };
    let Some(EventKind::CaseStarted {
        channel,
        registered_at,
        calendar_version,
        ..
    }) = events.first().map(|e| &e.kind)
    else {
        return out.check;
    };
    let started_at = events[0].at;
    let mut ch = process.channel(channel).cloned();
    let counting = ch.as_ref().map(|c| c.counting.clone()).unwrap_or_default();
    let group = start_group(events);
    let mut percents = process.regulation.warnings.clone();
    let mut c = Track {
        version: calendar_version.clone(),
        started_at,
        counting: counting.clone(),
        deadline: None,
        breached: false,
        term_stops: 0,
        term_stopped_since: None,
        term_stopped: Vec::new(),
        tasks: BTreeMap::new(),
    };
    for (i, e) in events.iter().enumerate() {
        match &e.kind {
            EventKind::CaseStarted { deadline, .. } => {
                if let Some(clock) = out.clock(versions, calendar_version) {
                    match clock.registration_instant(e.at) {
                        Ok(r) if r == *registered_at => {}
                        Ok(r) => out.mismatch(
                            i,
                            "case".into(),
                            Some(*registered_at),
                            Some(r),
                            "the registration instant is not the calendar's".into(),
                        ),
                        Err(err) => out.mismatch(i, "case".into(), None, None, err.to_string()),
                    }
                    let clock = deadline
                        .as_ref()
                        .and_then(|d| versions.get(&d.calendar_version))
                        .unwrap_or(clock);
                    let term = ch
                        .as_ref()
                        .and_then(|c| c.term.as_ref())
                        .map(|t| t.duration);
                    check_one(
                        clock,
                        i,
                        "case".into(),
                        deadline.as_ref().map(|d| (d.due, d.term)),
                        term,
                        started_at,
                        &counting,
                        &mut out,
                    );
                }
                c.deadline = deadline.as_ref().map(|d| (d.due, d.term));
            }
            EventKind::TaskOpened {
                task,
                step,
                deadline,
                ..
            } => {
                let version = deadline
                    .as_ref()
                    .map_or(c.version.as_str(), |d| &*d.calendar_version);
                if let Some(clock) = out.clock(versions, version) {
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
                        &mut out,
                    );
                }
                c.tasks.insert(
                    task.0,
                    TaskTrack {
                        opened_at: e.at,
                        deadline: deadline
                            .as_ref()
                            .map(|d| (d.due, d.term, d.calendar_version.clone())),
                        breached: false,
                        open: true,
                        suspended: None,
                        suspensions: Vec::new(),
                        warn_at: Vec::new(),
                        warned: 0,
                    },
                );
            }
            EventKind::DocumentsMissing { deadline, .. } => {
                let version = deadline
                    .as_ref()
                    .map_or(c.version.as_str(), |d| &*d.calendar_version);
                if let Some(clock) = out.clock(versions, version) {
                    let term = ch
                        .as_ref()
                        .and_then(|c| c.extended_term.as_ref())
                        .map(|t| t.duration);
                    // The term already stood still while suspensions stopped it.
                    let shift = c
                        .term_stopped
                        .iter()
                        .map(|(a, b)| clock.elapsed_seconds(*a, *b).unwrap_or(0).max(0) as u64)
                        .sum();
                    check_shifted(
                        clock,
                        i,
                        "case (extended)".into(),
                        deadline.as_ref().map(|d| (d.due, d.term)),
                        term,
                        started_at,
                        &counting,
                        shift,
                        &mut out,
                    );
                }
                if let Some(d) = deadline {
                    c.deadline = Some((d.due, d.term));
                }
            }
            EventKind::DeadlineBreached { target, due, .. } => {
                out.check.checked += 1;
                let name = target_name(*target);
                let (in_force, stopped_since) = match target {
                    DeadlineTarget::Case => (
                        c.deadline.map(|d| d.0),
                        c.term_stopped_since.filter(|_| c.term_stops > 0),
                    ),
                    DeadlineTarget::Task(t) => c.tasks.get(&t.0).map_or((None, None), |t| {
                        (t.deadline.as_ref().map(|d| d.0), t.suspended.map(|s| s.0))
                    }),
                };
                if in_force != Some(*due) {
                    out.mismatch(
                        i,
                        name.clone(),
                        Some(*due),
                        in_force,
                        "the breach names a due instant that is not the deadline in force".into(),
                    );
                }
                if e.at < *due {
                    out.mismatch(
                        i,
                        name.clone(),
                        Some(*due),
                        None,
                        format!(
                            "recorded as breached at {}, before it was due",
                            rfc3339(e.at)
                        ),
                    );
                }
                if let Some(since) = stopped_since {
                    let whose = match target {
                        DeadlineTarget::Case => "the case's term was stopped by a suspension",
                        DeadlineTarget::Task(_) => "the task was suspended",
                    };
                    out.mismatch(
                        i,
                        name,
                        Some(*due),
                        None,
                        format!(
                            "recorded as breached at {} while {whose} (since {}): stopped time \
                             does not run",
                            rfc3339(e.at),
                            rfc3339(since)
                        ),
                    );
                }
                match target {
                    DeadlineTarget::Case => c.breached = true,
                    DeadlineTarget::Task(t) => {
                        if let Some(t) = c.tasks.get_mut(&t.0) {
                            t.breached = true;
                        }
                    }
                }
            }
            EventKind::Intervened { moved, .. } => {
                // A due instant set by hand is not computed (a second administrator approved
                // it): the check is that it moved the instant in force, and the checks that
                // follow go on from the new one.
                for m in moved {
                    out.check.checked += 1;
                    let in_force = match m.target {
                        DeadlineTarget::Case => c.deadline.map(|d| d.0),
                        DeadlineTarget::Task(t) => c
                            .tasks
                            .get(&t.0)
                            .and_then(|t| t.deadline.as_ref().map(|d| d.0)),
                    };
                    if in_force != Some(m.from) {
                        out.mismatch(
                            i,
                            target_name(m.target),
                            Some(m.from),
                            in_force,
                            "the change by hand moves a due instant that was not the one in force"
                                .into(),
                        );
                    }
                }
                c.apply(moved, None);
            }
            EventKind::WarningsScheduled { task, warnings } => {
                if let Some(t) = c.tasks.get_mut(&task.0) {
                    t.warn_at.clone_from(warnings);
                }
            }
            EventKind::DeadlineWarned { task, .. } => {
                if let Some(t) = c.tasks.get_mut(&task.0) {
                    t.warned += 1;
                }
            }
            EventKind::TaskCompleted { task, .. } | EventKind::TaskCancelled { task } => {
                c.end_suspension(task.0, e.at);
                if let Some(t) = c.tasks.get_mut(&task.0) {
                    t.open = false;
                }
            }
            EventKind::TaskSuspended {
                task,
                stops_case_term,
                ..
            } => {
                if let Some(t) = c.tasks.get_mut(&task.0) {
                    t.suspended = Some((e.at, *stops_case_term));
                }
                if *stops_case_term {
                    if c.term_stops == 0 {
                        c.term_stopped_since = Some(e.at);
                    }
                    c.term_stops += 1;
                }
            }
            EventKind::TaskResumed {
                task,
                suspended_seconds,
                moved,
                ..
            } => {
                check_resumption(
                    &mut out,
                    &c,
                    versions,
                    i,
                    e.at,
                    task.0,
                    *suspended_seconds,
                    moved,
                );
                c.end_suspension(task.0, e.at);
                c.apply(moved, None);
            }
            EventKind::DeadlinesRescheduled {
                from_version,
                to_version,
                days,
                moved,
            } => {
                if *from_version != c.version {
                    out.mismatch(
                        i,
                        "case".into(),
                        None,
                        None,
                        format!(
                            "names calendar {from_version} as the one the case leaves, but it \
                             counted on {}",
                            c.version
                        ),
                    );
                }
                if let Some(clock) = out.clock(versions, to_version) {
                    match c.rescheduling(clock, &percents) {
                        Ok(expected) => out.compare_moves(
                            i,
                            moved,
                            &expected,
                            &format!("recomputing on calendar {}", short(to_version)),
                        ),
                        Err(err) => out.mismatch(
                            i,
                            "case".into(),
                            None,
                            None,
                            format!(
                                "the instants cannot be recomputed on calendar {to_version}: {err}"
                            ),
                        ),
                    }
                    if let Some(old) = versions.get(from_version) {
                        for day in days {
                            let same = match (old.open_hours(*day), clock.open_hours(*day)) {
                                (Ok(a), Ok(b)) => a == b,
                                (Err(_), Err(_)) => true,
                                _ => false,
                            };
                            if same {
                                out.mismatch(
                                    i,
                                    "case".into(),
                                    None,
                                    None,
                                    format!(
                                        "names {day} as a day whose working time changed, but \
                                         both calendars give it the same"
                                    ),
                                );
                            }
                        }
                    }
                }
                c.version.clone_from(to_version);
                c.apply(moved, Some(to_version));
            }
            EventKind::CaseMigrated {
                to_digest,
                tasks,
                case_deadline,
                ..
            } => {
                let Some(next) = later.get(to_digest) else {
                    out.mismatch(
                        i,
                        "case".into(),
                        None,
                        None,
                        format!("moves the case onto regulation digest {to_digest}, which is not at hand: the steps after it are checked against the old version"),
                    );
                    continue;
                };
                for m in tasks {
                    let name = format!("task {}", m.task);
                    let Some(t) = c.tasks.get_mut(&m.task.0) else {
                        out.mismatch(
                            i,
                            name,
                            None,
                            None,
                            "moves a task that was never opened".into(),
                        );
                        continue;
                    };
                    let recorded = m.deadline.as_ref().map(|d| (d.due, d.term));
                    let version = m
                        .deadline
                        .as_ref()
                        .map_or(c.version.as_str(), |d| &*d.calendar_version)
                        .to_string();
                    let term = next
                        .step_index(&m.to_step)
                        .and_then(|s| next.duration(s, channel));
                    let in_force = t.deadline.as_ref().map(|d| (d.0, d.1));
                    match m.policy {
                        // What the plan kept must be what was in force.
                        Policy::Keep => {
                            out.check.checked += 1;
                            if recorded != in_force && term.is_some() {
                                out.mismatch(
                                    i,
                                    name,
                                    in_force.map(|d| d.0),
                                    recorded.map(|d| d.0),
                                    "the plan keeps the due instant, but the event moves it".into(),
                                );
                            }
                        }
                        Policy::Recompute => {
                            if let Some(clock) = out.clock(versions, &version) {
                                let shift = t
                                    .suspensions
                                    .iter()
                                    .map(|(a, b)| {
                                        clock.elapsed_seconds(*a, *b).unwrap_or(0).max(0) as u64
                                    })
                                    .sum();
                                check_shifted(
                                    clock,
                                    i,
                                    name,
                                    recorded,
                                    term,
                                    t.opened_at,
                                    &Counting::default(),
                                    shift,
                                    &mut out,
                                );
                            }
                        }
                        Policy::Restart => {
                            if let Some(clock) = out.clock(versions, &version) {
                                check_one(
                                    clock,
                                    i,
                                    name,
                                    recorded,
                                    term,
                                    e.at,
                                    &Counting::default(),
                                    &mut out,
                                );
                            }
                            // The term counts afresh from the migration.
                            t.opened_at = e.at;
                            t.suspensions.clear();
                            if let Some(s) = &mut t.suspended {
                                s.0 = s.0.max(e.at);
                            }
                        }
                    }
                    t.deadline = m
                        .deadline
                        .as_ref()
                        .map(|d| (d.due, d.term, d.calendar_version.clone()));
                    t.warn_at.truncate(t.warned);
                    t.warn_at.extend(m.warnings.iter().copied());
                }
                // The breaches that follow count against the deadline in force from here.
                c.deadline = case_deadline.as_ref().map(|d| (d.due, d.term));
                process = next.clone();
                ch = process.channel(channel).cloned();
                percents.clone_from(&process.regulation.warnings);
            }
            _ => {}
        }
    }
    out.check.missing_versions = out.missing.into_iter().collect();
    out.check.recomputed = out.check.missing_versions.is_empty();
    out.check
}

/// A `task_resumed` event against the engine's rule: `suspended_seconds` is the working time
/// from the suspension to the resumption, and each moved instant is the one in force moved
/// by it. On the case's calendar first, then on any other the case counted on (a case follows
/// a new calendar that moved none of its instants without an event of its own).
#[allow(clippy::too_many_arguments)]
fn check_resumption(
    out: &mut Found,
    c: &Track,
    versions: &Versions<'_>,
    i: usize,
    at: DateTime<Utc>,
    task: u32,
    seconds: u64,
    moved: &[Moved],
) {
    let name = format!("task {task}");
    let Some(since) = c.tasks.get(&task).and_then(|t| t.suspended.map(|s| s.0)) else {
        out.check.checked += 1;
        out.mismatch(
            i,
            name,
            None,
            None,
            "resumes a task that was not suspended".into(),
        );
        return;
    };
    let task_version = c
        .tasks
        .get(&task)
        .and_then(|t| t.deadline.as_ref().map(|d| &*d.2))
        .unwrap_or(&c.version);
    let candidates = versions.candidates(&[&c.version, task_version]);
    let Some(first) = candidates.first() else {
        // No clock at all: counted as not made under the case's version.
        out.clock(versions, &c.version);
        return;
    };
    out.check.checked += 1;
    let case_clock = versions
        .candidates(&[&c.version])
        .first()
        .copied()
        .unwrap_or(first);
    let agrees = |clock: &OfficeClock| matches!(c.resumption(task, at, clock, case_clock), Ok(Some((s, m))) if s == seconds && moves_agree(moved, &m));
    if candidates.iter().any(|k| agrees(k)) {
        return;
    }
    match c.resumption(task, at, first, case_clock) {
        Ok(Some((expected, moves))) => {
            if expected != seconds {
                out.mismatch(
                    i,
                    name,
                    None,
                    None,
                    format!(
                        "records {} of working time suspended; from {} to {} the calendar gives {}",
                        seconds_text(seconds),
                        rfc3339(since),
                        rfc3339(at),
                        seconds_text(expected)
                    ),
                );
            }
            out.compare_moves(
                i,
                moved,
                &moves,
                &format!("the working time suspended ({})", seconds_text(expected)),
            );
        }
        Ok(None) => {}
        Err(err) => out.mismatch(i, name, None, None, err.to_string()),
    }
}

/// Working time to the second, in hours and minutes: `16 h`, `1 h 5 min`, `45 s`.
fn seconds_text(s: u64) -> String {
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if sec > 0 || parts.is_empty() {
        parts.push(format!("{sec} s"));
    }
    parts.join(" ")
}

/// Compares one recorded deadline (due, term) with the term the regulation gives and the
/// due instant the clock gives for it.
#[allow(clippy::too_many_arguments)]
fn check_one(
    clock: &OfficeClock,
    i: usize,
    target: String,
    recorded: Option<(DateTime<Utc>, Term)>,
    expected_term: Option<Term>,
    base: DateTime<Utc>,
    counting: &Counting,
    out: &mut Found,
) {
    check_shifted(
        clock,
        i,
        target,
        recorded,
        expected_term,
        base,
        counting,
        0,
        out,
    )
}

/// [`check_one`] for a term that already stood still for `shift` working seconds (the
/// extended term of a case whose term a suspension had stopped): its due comes that much later.
#[allow(clippy::too_many_arguments)]
fn check_shifted(
    clock: &OfficeClock,
    i: usize,
    target: String,
    recorded: Option<(DateTime<Utc>, Term)>,
    expected_term: Option<Term>,
    base: DateTime<Utc>,
    counting: &Counting,
    shift: u64,
    out: &mut Found,
) {
    let due_at = |term: Term| {
        clock
            .due_at(base, term, counting)
            .and_then(|d| clock.add_working_seconds(d, shift))
    };
    match (recorded, expected_term) {
        (None, None) => {}
        (Some((due, _)), None) => out.mismatch(
            i,
            target,
            Some(due),
            None,
            "a deadline was recorded where the regulation sets no time".into(),
        ),
        (None, Some(term)) => out.mismatch(
            i,
            target,
            None,
            due_at(term).ok(),
            format!("the regulation sets {term}, but no deadline was recorded"),
        ),
        (Some((due, term)), Some(expected)) => {
            if term != expected {
                out.mismatch(
                    i,
                    target.clone(),
                    Some(due),
                    due_at(expected).ok(),
                    format!("recorded with {term}, the regulation sets {expected}"),
                );
                return;
            }
            match due_at(term) {
                Ok(d) if d == due => {}
                Ok(d) => out.mismatch(
                    i,
                    target,
                    Some(due),
                    Some(d),
                    format!(
                        "{term} from {} on calendar {}",
                        rfc3339(base),
                        short(clock.version())
                    ),
                ),
                Err(e) => out.mismatch(i, target, Some(due), None, e.to_string()),
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

/// The working time a case's tasks were suspended and its term stood still, from its events
/// (only the suspensions and the closing of tasks are looked at, so the events of other
/// kinds may be left out). A resumption's own count is taken as recorded; a suspension that
/// ended with its task (a cancellation) or runs still (to `now`) is measured on `clock`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stops {
    /// Per task: working seconds suspended in all, and since when it is suspended, while
    /// it is (tasks never suspended are not here).
    pub tasks: BTreeMap<u32, (u64, Option<DateTime<Utc>>)>,
    /// Working seconds the case's term stood still.
    pub term_seconds: u64,
    /// Since when the case's term stands still, while it does.
    pub term_stopped_since: Option<DateTime<Utc>>,
    /// Whether the term ever stood still.
    pub term_stopped: bool,
}

pub(crate) fn stops<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    clock: Option<&OfficeClock>,
    now: DateTime<Utc>,
) -> Stops {
    let span = |a: DateTime<Utc>, b: DateTime<Utc>| {
        clock
            .and_then(|c| c.elapsed_seconds(a, b).ok())
            .map_or(0, |s| s.max(0) as u64)
    };
    let mut out = Stops::default();
    // Per task suspended now: whether it stops the case's term.
    let mut stopping: BTreeMap<u32, bool> = BTreeMap::new();
    let mut term_stops = 0u32;
    for e in events {
        let (task, recorded) = match &e.kind {
            EventKind::TaskSuspended {
                task,
                stops_case_term,
                ..
            } => {
                out.tasks.entry(task.0).or_default().1 = Some(e.at);
                stopping.insert(task.0, *stops_case_term);
                if *stops_case_term {
                    if term_stops == 0 {
                        out.term_stopped_since = Some(e.at);
                        out.term_stopped = true;
                    }
                    term_stops += 1;
                }
                continue;
            }
            EventKind::TaskResumed {
                task,
                suspended_seconds,
                ..
            } => (task.0, Some(*suspended_seconds)),
            EventKind::TaskCompleted { task, .. } | EventKind::TaskCancelled { task } => {
                (task.0, None)
            }
            _ => continue,
        };
        // A suspension ends: resumed, or the task closed.
        let Some(since) = out.tasks.get_mut(&task).and_then(|t| t.1.take()) else {
            continue;
        };
        let seconds = recorded.unwrap_or_else(|| span(since, e.at));
        if let Some(t) = out.tasks.get_mut(&task) {
            t.0 += seconds;
        }
        if stopping.remove(&task) == Some(true) {
            term_stops = term_stops.saturating_sub(1);
            if term_stops == 0
                && let Some(since) = out.term_stopped_since.take()
            {
                out.term_seconds += span(since, e.at);
            }
        }
    }
    for t in out.tasks.values_mut() {
        if let Some(since) = t.1 {
            t.0 += span(since, now);
        }
    }
    if let Some(since) = out.term_stopped_since {
        out.term_seconds += span(since, now);
    }
    out
}

/// Working minutes from `from` to `to` without `stopped` seconds of them; the plain working
/// minutes when nothing stopped.
fn working_without(
    clock: Option<&OfficeClock>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    stopped: u64,
) -> Option<i64> {
    if stopped == 0 {
        return working(clock, from, to);
    }
    let all = clock.and_then(|c| c.elapsed_seconds(from, to).ok())?;
    Some((all - stopped as i64).max(0) / 60)
}

/// The tasks of the case in the order they opened, from the events alone. Working time is
/// counted on `clock` (the case's), or for a task at another office on that office's clock
/// in `elsewhere`.
pub(crate) fn timeline(
    process: &Process,
    clock: Option<&OfficeClock>,
    elsewhere: &BTreeMap<String, OfficeClock>,
    events: &[Event],
    now: DateTime<Utc>,
) -> Vec<TimelineStep> {
    let mut steps: Vec<TimelineStep> = Vec::new();
    let index = |task: u32| usize::try_from(task).ok().and_then(|t| t.checked_sub(1));
    let registered = match events.first().map(|e| &e.kind) {
        Some(EventKind::CaseStarted { office, .. }) => office.as_str(),
        _ => "",
    };
    let named = crossed(events);
    // Per step: the other office it was at, if it was.
    let mut at: Vec<Option<Arc<str>>> = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::TaskOpened {
                task,
                step,
                role,
                deadline,
                office,
            } => {
                let s = process.step_index(step).map(|i| process.step(i));
                at.push(office.clone().filter(|o| **o != *registered));
                steps.push(TimelineStep {
                    task: task.0,
                    step: step.to_string(),
                    name: s.and_then(Step::name).cloned(),
                    kind: step_kind(s),
                    role: role.to_string(),
                    office: named.then(|| office.as_deref().unwrap_or(registered).to_string()),
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
                    suspended_minutes: None,
                    suspended_since: None,
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
            // The due instants move with resumptions, reschedulings and changes by hand.
            EventKind::TaskResumed { moved, .. }
            | EventKind::DeadlinesRescheduled { moved, .. }
            | EventKind::Intervened { moved, .. } => {
                for m in moved {
                    if let DeadlineTarget::Task(task) = m.target
                        && let Some(t) = index(task.0).and_then(|i| steps.get_mut(i))
                    {
                        t.due = Some(m.to);
                    }
                }
            }
            _ => {}
        }
    }
    let stopped = stops(events, clock, now);
    for (t, other) in steps.iter_mut().zip(&at) {
        let end = t.closed_at.unwrap_or(now);
        let suspended = stopped.tasks.get(&t.task).copied();
        let seconds = suspended.map_or(0, |s| s.0);
        let clock = match other {
            Some(o) => elsewhere.get(&**o),
            None => clock,
        };
        t.working_minutes = working_without(clock, t.opened_at, end, seconds);
        t.working_time = working_text(t.working_minutes);
        t.suspended_minutes = suspended.map(|s| (s.0 / 60) as i64);
        t.suspended_since = suspended.and_then(|s| s.1);
        t.breached = match t.suspended_since {
            // Its time stands still: late only if it was when it stopped.
            Some(since) => t.due.is_some_and(|d| late(d, Some(since), now)),
            None => t.due.is_some_and(|d| late(d, t.closed_at, now)),
        };
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
    let stopped = if state.term_stopped.is_empty() && !state.term_stopped_now() {
        Stops::default()
    } else {
        stops(events, clock, now)
    };
    let minutes = working_without(
        clock,
        state.registered_at,
        done.unwrap_or(now),
        stopped.term_seconds,
    );
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
    let met = match (done, state.term_stopped_since) {
        (Some(_), _) => Some(!late(d.due, done, now)),
        // The term stands still: not met only if it had run out when it stopped.
        (None, Some(since)) if state.term_stopped_now() => {
            late(d.due, Some(since), now).then_some(false)
        }
        (None, _) if d.due <= now => Some(false),
        (None, _) => None,
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
        stopped_minutes: stopped
            .term_stopped
            .then_some((stopped.term_seconds / 60) as i64),
    })
}

/// A few words on what an event says.
fn summary(e: &Event) -> String {
    match &e.kind {
        EventKind::Intervened {
            action,
            reason,
            legal_basis,
            approved_by,
            moved,
        } => {
            let what = match action {
                reglament_runtime::Intervention::MoveTo { step } => format!("moved to {step}"),
                reglament_runtime::Intervention::CancelTask { task } => {
                    format!("task {task} cancelled")
                }
                reglament_runtime::Intervention::ChangeDue { .. } => moved
                    .iter()
                    .map(|m| format!("due {} → {}", rfc3339(m.from), rfc3339(m.to)))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            let by = e.actor.user.as_ref();
            match approved_by {
                Some(second) => format!(
                    "by hand ({by}, approved by {second}): {what}; {reason} — {legal_basis}"
                ),
                None => format!("by hand ({by}): {what}; {reason} — {legal_basis}"),
            }
        }
        EventKind::CaseStarted {
            regulation,
            version,
            channel,
            office,
            ..
        } => format!("{regulation} v{version}, channel {channel}, office {office}"),
        EventKind::TaskOpened {
            task,
            step,
            role,
            office,
            ..
        } => match office {
            Some(o) => format!("task {task} {step} ({role}) at {o}"),
            None => format!("task {task} {step} ({role})"),
        },
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
        EventKind::CaseHandedOver { from, to, step } => handed_over(from, to, step),
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
        EventKind::CaseMigrated {
            from_version,
            to_version,
            act,
            paragraph,
            reason,
            tasks,
            case_due_before,
            case_deadline,
            ..
        } => migrated_text(
            *from_version,
            *to_version,
            &format!("{act}, {paragraph}"),
            reason,
            tasks,
            (*case_due_before, case_deadline.as_ref().map(|d| d.due)),
        ),
    }
}

/// "version 3 → 4 (act, paragraph: reason); task 2 review → examine due A → B (recompute)".
pub(crate) fn migrated_text(
    from: u32,
    to: u32,
    basis: &str,
    reason: &str,
    tasks: &[reglament_runtime::MigratedTask],
    case: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> String {
    let due = |d: Option<DateTime<Utc>>| d.map_or_else(|| "none".to_string(), rfc3339);
    let mut parts = vec![format!("version {from} → {to} ({basis}: {reason})")];
    for t in tasks {
        let step = if t.from_step == t.to_step {
            t.to_step.to_string()
        } else {
            format!("{} → {}", t.from_step, t.to_step)
        };
        parts.push(format!(
            "task {} {step} due {} → {} ({})",
            t.task,
            due(t.due_before),
            due(t.deadline.as_ref().map(|d| d.due)),
            t.policy.as_str()
        ));
    }
    if case.0 != case.1 {
        parts.push(format!("the case due {} → {}", due(case.0), due(case.1)));
    }
    parts.join("; ")
}

fn handed_over(from: &str, to: &str, step: &str) -> String {
    format!("{from} → {to}, for {step}")
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
    elsewhere: &BTreeMap<String, OfficeClock>,
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
    let named = crossed(&events[..n]);
    let open_tasks = s
        .open_tasks()
        .map(|t| OpenTaskAt {
            task: t.id.0,
            step: t.step_id.to_string(),
            name: s.step_of(t).name().cloned(),
            role: t.role.to_string(),
            office: named.then(|| t.office.to_string()),
            claimed_by: t.claimed_by.as_deref().map(str::to_string),
            assigned_to: t.assigned_to.as_deref().map(str::to_string),
            opened_at: t.opened_at,
            due: t.deadline.as_ref().map(|d| d.due),
            // A suspended task's time stands still: overdue only if it was when it stopped.
            overdue: t
                .deadline
                .as_ref()
                .is_some_and(|d| late(d.due, t.suspended.as_ref().map(|s| s.since), at)),
            working_minutes: working(
                if t.office == s.office {
                    clock
                } else {
                    elsewhere.get(&*t.office)
                },
                t.opened_at,
                at,
            ),
            suspended: t.suspended.is_some(),
        })
        .collect();
    StateAt {
        at,
        events: n as u64,
        last_event,
        status: status.to_string(),
        result: result.map(str::to_string),
        due,
        overdue: due.is_some_and(|d| {
            let stopped = s.term_stopped_since.filter(|_| s.term_stopped_now());
            late(d, s.ended_at.or(stopped), at)
        }),
        documents_missing: s.documents_missing,
        open_tasks,
        closed_tasks: s.tasks.iter().filter(|t| t.closed_at.is_some()).count() as u32,
    }
}

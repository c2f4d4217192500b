//! Compliance with statutory terms: per regulation and office, per step, and per case.
//!
//! The figures come from the projections (`cases`, `tasks`), which [`super::replay`] and
//! [`super::verify`] prove to be what the log leads to, and working time is counted on each
//! case's pinned calendar version. Definitions (also in `docs/audit.md`):
//!
//! - a case is counted under the office where it was **registered** (its statutory term is
//!   that office's to keep), a step under the office that **did** it: a case received at a
//!   service centre and handed to the provider's office has its registration and issue in
//!   the centre's step rows and its review in the provider office's (`cases_from` names the
//!   centre there), each task's working time on the hours of its own office (the calendar
//!   version its deadline was computed on, read from the events of the cases that crossed
//!   offices); per case, `offices` lists every office its tasks were at;
//! - a task's **working time** is the office's working time from its opening to its
//!   completion, less the working time it was **suspended** (its time stopped for a reason its
//!   step allows: the engine moves its due instant by exactly that); the median and 90th
//!   percentile are over completed tasks, by the nearest-rank method (the smallest value with
//!   at least p % of the values at or below it). The suspended time is counted apart, per step
//!   (`suspended_tasks`, `suspended_minutes`) and per case;
//! - a task is **breached** when it was closed after its due instant (as moved by its
//!   suspensions and by calendar reschedulings), or is still open at or past it (at the
//!   report's `now`; a task suspended now is breached only if it was past its due instant when
//!   it stopped); the **breach rate** is breaches over tasks that have a due instant;
//! - a case's **statutory term** is **met** when it ended (or was cancelled) by its due
//!   instant, **not met** when it ended after it or is still open past it, and **pending**
//!   while open and not yet due (or while its term stands still, stopped before it was due);
//!   the case's breach rate is not-met over met plus not-met. Its working time leaves out the
//!   time its term stood still (`term_stopped_minutes`).
//!
//! The suspended time comes from the events of the cases whose regulation allows suspensions
//! (read with each page of cases); the other cases' events are not read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::events::EventReader;
use super::replay::{Stops, stops};
use super::{AuditError, late, pinned_clock, rfc3339};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::markup::xml as esc;
use reglament_model::model::Step;
use reglament_model::paths::DEFAULT_DAY_MINUTES;
use reglament_model::text::{Lang, Text};
use reglament_runtime::Clocks;
use reglament_store::Store;
use reglament_store::rows::{CaseRow, EventRow, NO_DUE, TaskRow, instant};
use reglament_store::scan::CaseFilter;

/// Cases read per query.
const PAGE: u32 = 500;

/// Per regulation and office: the statutory term of the cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegulationRow {
    pub regulation: String,
    pub title: Option<Text>,
    pub office: String,
    pub cases: u64,
    pub open: u64,
    pub ended: u64,
    pub cancelled: u64,
    /// Cases whose channel sets a term.
    pub with_term: u64,
    pub met: u64,
    pub not_met: u64,
    pub pending: u64,
    /// `not_met / (met + not_met)`; `None` when nothing is decided yet.
    pub breach_rate: Option<f64>,
    /// Working time from registration to the end, over ended cases.
    pub median_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
}

/// Per regulation, office and step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRow {
    pub regulation: String,
    /// The office that did the step (its tasks were there, on its hours).
    pub office: String,
    /// The offices, other than `office`, where the cases of these tasks were registered (the
    /// service centres and akims whose cases a provider office worked); empty when every one
    /// was registered at `office`.
    pub cases_from: Vec<String>,
    pub step: String,
    pub name: Option<Text>,
    pub role: String,
    /// The step's times for the channels it was worked on (`15 minutes`, `1 working day`).
    pub statutory: Vec<String>,
    /// The longest of those, in working minutes (a working day taken as 8 hours).
    pub statutory_minutes: Option<u64>,
    /// Cases with a task at this step.
    pub cases: u64,
    pub tasks: u64,
    pub completed: u64,
    pub median_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
    /// Tasks with a due instant.
    pub with_deadline: u64,
    pub breaches: u64,
    pub breach_rate: Option<f64>,
    /// Tasks that were suspended (their time stopped) at least once.
    pub suspended_tasks: u64,
    /// Working time those tasks spent suspended, in all, in minutes (not in the working
    /// times above).
    pub suspended_minutes: u64,
}

/// Per case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRowReport {
    pub case: String,
    pub regulation: String,
    pub version: u32,
    /// The office where the case was registered.
    pub office: String,
    /// Every office the case has been at, in order, `office` first: where its steps were done.
    pub offices: Vec<String>,
    pub channel: String,
    pub status: String,
    pub result: Option<String>,
    pub started_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The term that applies (`10 working days`; the extended one once documents were missing).
    pub term: Option<String>,
    pub due: Option<DateTime<Utc>>,
    /// Working time from registration to the end (or to `now`), less the time the term
    /// stood still.
    pub working_minutes: Option<i64>,
    /// `Some(true)` met, `Some(false)` not met, `None` pending or no term.
    pub term_met: Option<bool>,
    /// Tasks of the case that were breached.
    pub breached_tasks: u32,
    /// Working time the case's tasks spent suspended, in all, in minutes.
    pub suspended_minutes: u64,
    /// Working time the case's statutory term stood still (while a suspension that stops it
    /// ran), in minutes.
    pub term_stopped_minutes: u64,
}

/// What the report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportScope {
    pub regulation: Option<String>,
    pub office: Option<String>,
    pub started_from: Option<DateTime<Utc>>,
    pub started_before: Option<DateTime<Utc>>,
    /// Open work is judged at this instant.
    pub now: DateTime<Utc>,
}

/// The compliance report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplianceReport {
    pub scope: ReportScope,
    pub regulations: Vec<RegulationRow>,
    pub steps: Vec<StepRow>,
    pub cases: Vec<CaseRowReport>,
    /// Calendar versions no clock was found for (their cases have no working times).
    pub missing_calendars: Vec<String>,
}

/// Builds the report over the cases `filter` selects, judging open work at `now`.
pub async fn compliance(
    store: &Store,
    filter: &CaseFilter,
    now: DateTime<Utc>,
    fallback: Option<&dyn Clocks>,
) -> Result<ComplianceReport, AuditError> {
    let mut acc = Accumulator::new(now);
    let mut after = String::new();
    loop {
        let cases = store.cases_page(filter, &after, PAGE).await?;
        let Some(last) = cases.last() else { break };
        after = last.case_id.clone();
        let ids: Vec<String> = cases.iter().map(|c| c.case_id.clone()).collect();
        let tasks = store.tasks_of(&ids).await?;
        let home: HashMap<&str, &str> = cases
            .iter()
            .map(|c| (c.case_id.as_str(), c.office.as_str()))
            .collect();
        // The cases with a task at another office than the one they were registered at: their
        // events say on which calendar version each such task's time counted.
        let crossing: BTreeSet<&str> = tasks
            .iter()
            .filter(|t| home.get(t.case_id.as_str()) != Some(&t.office.as_str()))
            .map(|t| t.case_id.as_str())
            .collect();
        for c in &cases {
            if !acc.processes.contains_key(&c.digest) {
                let p = store.process(&c.digest).await?;
                acc.processes.insert(c.digest.clone(), p);
            }
            if !acc.clocks.contains_key(&c.calendar_version) {
                let clock = pinned_clock(store, &c.office, &c.calendar_version, fallback).await?;
                acc.clocks.insert(c.calendar_version.clone(), clock);
            }
        }
        // The events of the cases whose regulation allows suspensions: the time they stood
        // still is in no projection.
        let suspendable: BTreeSet<&str> = cases
            .iter()
            .filter(|c| {
                acc.processes
                    .get(&c.digest)
                    .is_some_and(|p| allows_suspension(p))
            })
            .map(|c| c.case_id.as_str())
            .collect();
        let read: Vec<String> = suspendable
            .union(&crossing)
            .map(|c| c.to_string())
            .collect();
        let events = store.events_of(&read).await?;
        let mut events_by_case: HashMap<&str, Vec<&EventRow>> = HashMap::new();
        for r in &events {
            events_by_case
                .entry(r.case_id.as_str())
                .or_default()
                .push(r);
        }
        let mut by_case: HashMap<&str, Vec<&TaskRow>> = HashMap::new();
        for t in &tasks {
            by_case.entry(t.case_id.as_str()).or_default().push(t);
        }
        for c in &cases {
            let ts = by_case.remove(c.case_id.as_str()).unwrap_or_default();
            let rows = events_by_case.remove(c.case_id.as_str());
            let elsewhere = match &rows {
                Some(rows) if crossing.contains(c.case_id.as_str()) => {
                    acc.versions_elsewhere(store, c, &ts, rows, fallback)
                        .await?
                }
                _ => BTreeMap::new(),
            };
            let stopped = rows
                .filter(|_| suspendable.contains(c.case_id.as_str()))
                .map(|rows| acc.stops(c, &rows))
                .transpose()?;
            acc.add(c, &ts, stopped.as_ref(), &elsewhere);
        }
        if cases.len() < PAGE as usize {
            break;
        }
    }
    Ok(acc.finish(ReportScope {
        regulation: filter.regulation.clone(),
        office: filter.office.clone(),
        started_from: filter.started_from,
        started_before: filter.started_before,
        now,
    }))
}

/// Whether any task step of the regulation allows its time to stop.
fn allows_suspension(p: &Process) -> bool {
    p.regulation
        .steps
        .iter()
        .any(|s| matches!(s, Step::Task(t) if !t.suspensions.is_empty()))
}

/// Per task at another office than the case's: the calendar version its time counts on.
type TaskVersions = BTreeMap<i64, String>;

/// The kinds of event the suspended time is read from.
const STOP_KINDS: [&str; 4] = [
    "task_suspended",
    "task_resumed",
    "task_completed",
    "task_cancelled",
];

#[derive(Default)]
struct StepAcc {
    name: Option<Text>,
    role: String,
    cases_from: BTreeSet<String>,
    order: usize,
    statutory: BTreeSet<String>,
    statutory_minutes: Option<u64>,
    cases: u64,
    last_case: String,
    tasks: u64,
    minutes: Vec<i64>,
    with_deadline: u64,
    breaches: u64,
    suspended_tasks: u64,
    suspended_seconds: u64,
}

#[derive(Default)]
struct RegAcc {
    title: Option<Text>,
    cases: u64,
    open: u64,
    ended: u64,
    cancelled: u64,
    with_term: u64,
    met: u64,
    not_met: u64,
    pending: u64,
    minutes: Vec<i64>,
}

/// Sums the report up case by case; pure once the processes and clocks are loaded.
pub(crate) struct Accumulator {
    now: DateTime<Utc>,
    pub(crate) processes: HashMap<String, Arc<Process>>,
    pub(crate) clocks: HashMap<String, Option<OfficeClock>>,
    regs: BTreeMap<(String, String), RegAcc>,
    steps: BTreeMap<(String, String, String), StepAcc>,
    cases: Vec<CaseRowReport>,
}

impl Accumulator {
    pub(crate) fn new(now: DateTime<Utc>) -> Self {
        Accumulator {
            now,
            processes: HashMap::new(),
            clocks: HashMap::new(),
            regs: BTreeMap::new(),
            steps: BTreeMap::new(),
            cases: Vec::new(),
        }
    }

    /// For a case whose tasks were at other offices than its own: the calendar version each
    /// such task's time counts on (the one its deadline was computed on; for a task without
    /// one, that of another task of the case at the same office, else the office's calendar
    /// as loaded in `fallback`), with the clocks of those versions loaded.
    async fn versions_elsewhere(
        &mut self,
        store: &Store,
        c: &CaseRow,
        tasks: &[&TaskRow],
        rows: &[&EventRow],
        fallback: Option<&dyn Clocks>,
    ) -> Result<TaskVersions, AuditError> {
        #[derive(serde::Deserialize)]
        struct Version {
            calendar_version: String,
        }
        #[derive(serde::Deserialize)]
        struct Opened {
            task: i64,
            office: Option<String>,
            deadline: Option<Version>,
        }
        let mut out = TaskVersions::new();
        // Per office: a version one of its tasks counted on.
        let mut by_office: BTreeMap<String, String> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.kind == "task_opened") {
            let Ok(o) = serde_json::from_str::<Opened>(&r.body) else {
                continue;
            };
            if let (Some(office), Some(d)) = (o.office, o.deadline) {
                by_office
                    .entry(office)
                    .or_insert_with(|| d.calendar_version.clone());
                out.insert(o.task, d.calendar_version);
            }
        }
        for t in tasks.iter().filter(|t| t.office != c.office) {
            if out.contains_key(&t.task) {
                continue;
            }
            let version = match by_office.get(&t.office) {
                Some(v) => Some(v.clone()),
                None => fallback
                    .and_then(|f| f.clock(&t.office, None).ok())
                    .map(|k| {
                        let v = k.version().to_string();
                        self.clocks.entry(v.clone()).or_insert(Some(k));
                        by_office.insert(t.office.clone(), v.clone());
                        v
                    }),
            };
            if let Some(v) = version {
                out.insert(t.task, v);
            }
        }
        let offices: BTreeMap<&String, &String> = tasks
            .iter()
            .filter_map(|t| out.get(&t.task).map(|v| (v, &t.office)))
            .collect();
        for (version, office) in offices {
            if !self.clocks.contains_key(version) {
                let clock = pinned_clock(store, office, version, fallback).await?;
                self.clocks.insert(version.clone(), clock);
            }
        }
        Ok(out)
    }

    /// The time a case's tasks and term stood still, from its log rows (those of the kinds
    /// that say it are read), on the case's clock.
    pub(crate) fn stops(&self, c: &CaseRow, rows: &[&EventRow]) -> Result<Stops, AuditError> {
        let clock = self
            .clocks
            .get(&c.calendar_version)
            .and_then(Option::as_ref);
        let mut reader = EventReader::default();
        let mut events = Vec::new();
        for r in rows
            .iter()
            .filter(|r| STOP_KINDS.contains(&r.kind.as_str()))
        {
            events.push(reader.read(&r.body).map_err(|e| AuditError::Unreadable {
                case: c.case_id.clone(),
                seq: r.seq.max(0) as u64,
                reason: e.to_string(),
            })?);
        }
        Ok(stops(&events, clock, self.now))
    }

    /// Adds a case with its tasks, the time they stood still and, for its tasks at other
    /// offices, the calendar versions their time counts on.
    pub(crate) fn add(
        &mut self,
        c: &CaseRow,
        tasks: &[&TaskRow],
        stopped: Option<&Stops>,
        elsewhere: &TaskVersions,
    ) {
        let now = self.now;
        let none = Stops::default();
        let stopped = stopped.unwrap_or(&none);
        let process = self.processes.get(&c.digest).cloned();
        let clock = self.clocks.get(&c.calendar_version).cloned().flatten();
        let channel = process
            .as_ref()
            .and_then(|p| p.channel(&c.channel).cloned());
        let term = channel.as_ref().and_then(|ch| {
            let t = if c.documents_missing {
                ch.extended_term.as_ref().or(ch.term.as_ref())
            } else {
                ch.term.as_ref()
            };
            t.map(|t| t.duration.to_string())
        });
        let started = instant(c.started_at);
        let registered = instant(c.registered_at);
        let ended = c.ended_at.map(instant);
        let due = c.due.map(instant);
        // Working minutes from one instant to another on a clock, without `stopped` seconds.
        let working =
            |clock: Option<&OfficeClock>, from: DateTime<Utc>, to: DateTime<Utc>, stopped: u64| {
                let all = clock.and_then(|k| k.elapsed_seconds(from, to).ok())?;
                Some((all - stopped as i64).max(0) / 60)
            };
        let case_minutes = working(
            clock.as_ref(),
            registered,
            ended.unwrap_or(now),
            stopped.term_seconds,
        );
        let term_met = match (due, ended, stopped.term_stopped_since) {
            (None, ..) => None,
            (Some(d), Some(e), _) => Some(e <= d),
            // The term stands still: not met only if it had run out when it stopped.
            (Some(d), None, Some(since)) => (since > d).then_some(false),
            (Some(d), None, None) if d <= now => Some(false),
            (Some(_), None, None) => None,
        };
        let reg = self
            .regs
            .entry((c.regulation_id.clone(), c.office.clone()))
            .or_default();
        if reg.title.is_none() {
            reg.title = process.as_ref().map(|p| p.regulation.title.clone());
        }
        reg.cases += 1;
        match c.status.as_str() {
            "open" => reg.open += 1,
            "cancelled" => reg.cancelled += 1,
            _ => reg.ended += 1,
        }
        if due.is_some() {
            reg.with_term += 1;
            match term_met {
                Some(true) => reg.met += 1,
                Some(false) => reg.not_met += 1,
                None => reg.pending += 1,
            }
        }
        if ended.is_some()
            && let Some(m) = case_minutes
        {
            reg.minutes.push(m);
        }

        let mut breached_tasks = 0u32;
        let mut suspended_seconds = 0u64;
        let mut offices = vec![c.office.clone()];
        let mut ordered: Vec<&&TaskRow> = tasks.iter().collect();
        ordered.sort_by_key(|t| t.task);
        for t in ordered {
            if !offices.contains(&t.office) {
                offices.push(t.office.clone());
            }
            // A task at another office counts on that office's hours.
            let task_clock = if t.office == c.office {
                clock.as_ref()
            } else {
                elsewhere
                    .get(&t.task)
                    .and_then(|v| self.clocks.get(v))
                    .and_then(Option::as_ref)
            };
            let key = (c.regulation_id.clone(), t.office.clone(), t.step.clone());
            let s = self.steps.entry(key).or_default();
            if t.office != c.office && !s.cases_from.contains(&c.office) {
                s.cases_from.insert(c.office.clone());
            }
            if s.tasks == 0 {
                let ix = process.as_ref().and_then(|p| p.step_index(&t.step));
                s.order = ix.unwrap_or(usize::MAX);
                s.name = ix.and_then(|i| process.as_ref().and_then(|p| p.step(i).name().cloned()));
                s.role = t.role.clone();
            }
            if let Some(term) = process.as_ref().and_then(|p| {
                p.step_index(&t.step)
                    .and_then(|i| p.duration(i, &c.channel))
            }) {
                s.statutory.insert(term.to_string());
                let m = term.approx_working_minutes(DEFAULT_DAY_MINUTES);
                s.statutory_minutes = Some(s.statutory_minutes.map_or(m, |x| x.max(m)));
            }
            s.tasks += 1;
            if s.last_case != c.case_id {
                s.cases += 1;
                s.last_case.clone_from(&c.case_id);
            }
            let opened = instant(t.opened_at);
            let closed = t.closed_at.map(instant);
            let suspended = u32::try_from(t.task)
                .ok()
                .and_then(|n| stopped.tasks.get(&n))
                .map(|x| x.0);
            if let Some(seconds) = suspended {
                s.suspended_tasks += 1;
                s.suspended_seconds += seconds;
                suspended_seconds += seconds;
            }
            let suspended = suspended.unwrap_or(0);
            if t.status == "completed"
                && let Some(m) = closed.and_then(|cl| working(task_clock, opened, cl, suspended))
            {
                s.minutes.push(m);
            }
            if t.due != NO_DUE {
                s.with_deadline += 1;
                // A task suspended now: its time stands still since then.
                let done = closed.or(t.suspended_since.map(instant));
                if t.breached || late(instant(t.due), done, now) {
                    s.breaches += 1;
                    breached_tasks += 1;
                }
            }
        }
        let (version, status) = (c.regulation_version.max(0) as u32, c.status.clone());
        self.cases.push(CaseRowReport {
            case: c.case_id.clone(),
            regulation: c.regulation_id.clone(),
            version,
            office: c.office.clone(),
            offices,
            channel: c.channel.clone(),
            status,
            result: c.result.clone(),
            started_at: started,
            registered_at: registered,
            ended_at: ended,
            term,
            due,
            working_minutes: case_minutes,
            term_met,
            breached_tasks,
            suspended_minutes: suspended_seconds / 60,
            term_stopped_minutes: stopped.term_seconds / 60,
        });
    }

    pub(crate) fn finish(self, scope: ReportScope) -> ComplianceReport {
        let rate = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        let regulations = self
            .regs
            .into_iter()
            .map(|((regulation, office), mut r)| {
                let (median, p90) = median_p90(&mut r.minutes);
                RegulationRow {
                    regulation,
                    title: r.title,
                    office,
                    cases: r.cases,
                    open: r.open,
                    ended: r.ended,
                    cancelled: r.cancelled,
                    with_term: r.with_term,
                    met: r.met,
                    not_met: r.not_met,
                    pending: r.pending,
                    breach_rate: rate(r.not_met, r.met + r.not_met),
                    median_minutes: median,
                    p90_minutes: p90,
                }
            })
            .collect();
        let mut steps: Vec<(usize, StepRow)> = self
            .steps
            .into_iter()
            .map(|((regulation, office, step), mut s)| {
                let (median, p90) = median_p90(&mut s.minutes);
                let row = StepRow {
                    regulation,
                    office,
                    cases_from: s.cases_from.into_iter().collect(),
                    step,
                    name: s.name,
                    role: s.role,
                    statutory: s.statutory.into_iter().collect(),
                    statutory_minutes: s.statutory_minutes,
                    cases: s.cases,
                    tasks: s.tasks,
                    completed: s.minutes.len() as u64,
                    median_minutes: median,
                    p90_minutes: p90,
                    with_deadline: s.with_deadline,
                    breaches: s.breaches,
                    breach_rate: rate(s.breaches, s.with_deadline),
                    suspended_tasks: s.suspended_tasks,
                    suspended_minutes: s.suspended_seconds / 60,
                };
                (s.order, row)
            })
            .collect();
        // Steps in the regulation's order within each regulation and office.
        steps.sort_by(|(oa, a), (ob, b)| {
            (&a.regulation, &a.office, oa, &a.step).cmp(&(&b.regulation, &b.office, ob, &b.step))
        });
        let mut cases = self.cases;
        cases.sort_by(|a, b| a.case.cmp(&b.case));
        let mut missing: Vec<String> = self
            .clocks
            .into_iter()
            .filter(|(_, c)| c.is_none())
            .map(|(v, _)| v)
            .collect();
        missing.sort();
        ComplianceReport {
            scope,
            regulations,
            steps: steps.into_iter().map(|(_, s)| s).collect(),
            cases,
            missing_calendars: missing,
        }
    }
}

/// The nearest-rank percentile `p` (0 < p ≤ 100) of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (u64::from(p) * n as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank.min(n) - 1).copied()
}

fn median_p90(values: &mut [i64]) -> (Option<i64>, Option<i64>) {
    values.sort_unstable();
    (percentile(values, 50), percentile(values, 90))
}

// ------------------------------------------------------------------------------------ CSV

/// The columns of the CSV form: one table, a `section` column saying which rows are which
/// (`regulation`, `step`, `case`); cells that do not apply to a section are empty. `office`
/// is where a case was registered (regulation and case rows) or the office that did the step
/// (step rows); `offices` every office a case has been at, in order (`a → b`), `cases_from` the
/// other offices where a step's cases were registered (`a / b`).
pub const CSV_COLUMNS: [&str; 27] = [
    "section",
    "regulation",
    "office",
    "step",
    "name",
    "case",
    "channel",
    "status",
    "result",
    "cases",
    "tasks",
    "median_minutes",
    "p90_minutes",
    "breaches",
    "breach_rate",
    "statutory",
    "started_at",
    "due",
    "ended_at",
    "working_minutes",
    "term_met",
    "pending",
    "suspended_tasks",
    "suspended_minutes",
    "term_stopped_minutes",
    "offices",
    "cases_from",
];

/// A CSV cell, quoted when it must be (RFC 4180).
pub(crate) fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn rate_text(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.4}")).unwrap_or_default()
}

/// The report as CSV (see [`CSV_COLUMNS`]); names in `lang`.
pub fn to_csv(r: &ComplianceReport, lang: Lang) -> String {
    let mut out = String::new();
    out.push_str(&CSV_COLUMNS.join(","));
    out.push_str("\r\n");
    let mut row = |cells: [String; 27]| {
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    };
    let e = String::new;
    for g in &r.regulations {
        row([
            "regulation".into(),
            g.regulation.clone(),
            g.office.clone(),
            e(),
            opt(g.title.as_ref().map(|t| t.get(lang))),
            e(),
            e(),
            e(),
            e(),
            g.cases.to_string(),
            e(),
            opt(g.median_minutes),
            opt(g.p90_minutes),
            g.not_met.to_string(),
            rate_text(g.breach_rate),
            e(),
            e(),
            e(),
            e(),
            e(),
            g.met.to_string(),
            g.pending.to_string(),
            e(),
            e(),
            e(),
            e(),
            e(),
        ]);
    }
    for s in &r.steps {
        row([
            "step".into(),
            s.regulation.clone(),
            s.office.clone(),
            s.step.clone(),
            opt(s.name.as_ref().map(|t| t.get(lang))),
            e(),
            e(),
            e(),
            e(),
            s.cases.to_string(),
            s.tasks.to_string(),
            opt(s.median_minutes),
            opt(s.p90_minutes),
            s.breaches.to_string(),
            rate_text(s.breach_rate),
            s.statutory.join(" / "),
            e(),
            e(),
            e(),
            e(),
            e(),
            e(),
            s.suspended_tasks.to_string(),
            s.suspended_minutes.to_string(),
            e(),
            e(),
            s.cases_from.join(" / "),
        ]);
    }
    for c in &r.cases {
        row([
            "case".into(),
            c.regulation.clone(),
            c.office.clone(),
            e(),
            e(),
            c.case.clone(),
            c.channel.clone(),
            c.status.clone(),
            opt(c.result.as_ref()),
            e(),
            e(),
            e(),
            e(),
            c.breached_tasks.to_string(),
            e(),
            opt(c.term.as_ref()),
            rfc3339(c.started_at),
            opt(c.due.map(rfc3339)),
            opt(c.ended_at.map(rfc3339)),
            opt(c.working_minutes),
            opt(c.term_met),
            e(),
            e(),
            c.suspended_minutes.to_string(),
            c.term_stopped_minutes.to_string(),
            c.offices.join(" → "),
            e(),
        ]);
    }
    out
}

// ----------------------------------------------------------------------------------- HTML

/// Working time in the reader's language, a working day taken as 8 hours: «1 раб. дн. 3 ч 5
/// мин», «1 жұм. күн 3 сағ 5 мин», «1 working day 3 h 5 min»; a dash for none.
fn duration_words(m: Option<i64>, lang: Lang) -> String {
    let Some(m) = m else {
        return "—".into();
    };
    let m = m.max(0);
    let (days, rest) = (
        m / DEFAULT_DAY_MINUTES as i64,
        m % DEFAULT_DAY_MINUTES as i64,
    );
    let (h, min) = (rest / 60, rest % 60);
    let (d_word, h_word, m_word) = match lang {
        Lang::Kk => ("жұм. күн", "сағ", "мин"),
        Lang::Ru => ("раб. дн.", "ч", "мин"),
        Lang::En => (
            if days == 1 {
                "working day"
            } else {
                "working days"
            },
            "h",
            "min",
        ),
    };
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} {d_word}"));
    }
    if h > 0 {
        parts.push(format!("{h} {h_word}"));
    }
    if min > 0 || parts.is_empty() {
        parts.push(format!("{min} {m_word}"));
    }
    parts.join(" ")
}

/// A term as the regulation writes it (`1 working day`), in the reader's language.
fn term_words(term: &str, lang: Lang) -> String {
    term.parse::<reglament_model::duration::Term>().map_or_else(
        |_| term.to_string(),
        |t| reglament_model::render::term_in(t, lang),
    )
}

/// "2 · 1 раб. дн. 3 ч": the tasks suspended and their time, in the reader's language.
fn suspended_words(tasks: u64, minutes: u64, lang: Lang) -> String {
    if tasks == 0 {
        return "—".into();
    }
    format!("{tasks} · {}", duration_words(Some(minutes as i64), lang))
}

fn percent(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1} %", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// Per office (where cases were registered), per month a case started (Kazakhstan's time, as
/// every instant of the report is read: a case registered at 02:00 on 1 May is May's), from the first
/// month to the last with none left out: cases, the share of judged terms met, and the cases
/// with a breach (of the term or of a task's time).
pub fn monthly(r: &ComplianceReport) -> BTreeMap<String, Vec<super::svg::Month>> {
    use chrono::Datelike;
    /// Cases, terms met, terms not met, cases with a breach.
    type Counts = (u64, u64, u64, u64);
    let mut by: BTreeMap<String, BTreeMap<(i32, u32), Counts>> = BTreeMap::new();
    for c in &r.cases {
        let local = c.started_at.with_timezone(&chrono_tz::Asia::Almaty);
        let key = (local.year(), local.month());
        let e = by
            .entry(c.office.clone())
            .or_default()
            .entry(key)
            .or_default();
        e.0 += 1;
        match c.term_met {
            Some(true) => e.1 += 1,
            Some(false) => e.2 += 1,
            None => {}
        }
        if c.term_met == Some(false) || c.breached_tasks > 0 {
            e.3 += 1;
        }
    }
    by.into_iter()
        .map(|(office, months)| {
            let first = *months.keys().next().unwrap_or(&(1970, 1));
            let last = *months.keys().last().unwrap_or(&first);
            let mut out = Vec::new();
            let mut m = first;
            while m <= last {
                let (cases, met, not_met, breached) = months.get(&m).copied().unwrap_or_default();
                out.push(super::svg::Month {
                    month: m,
                    cases,
                    on_time: (met + not_met > 0).then(|| met as f64 / (met + not_met) as f64),
                    breached,
                });
                m = if m.1 == 12 {
                    (m.0 + 1, 1)
                } else {
                    (m.0, m.1 + 1)
                };
            }
            (office, out)
        })
        .collect()
}

/// The report's charts alone, for a page that shows them beside its own figures (the
/// dashboard): the trend per office, then the working time per step of each regulation.
pub fn charts_html(r: &ComplianceReport, lang: Lang) -> String {
    charts_html_named(r, lang, &|office: &str| office.to_string())
}

/// [`charts_html`], naming each office with `office_name`.
pub fn charts_html_named(
    r: &ComplianceReport,
    lang: Lang,
    office_name: &dyn Fn(&str) -> String,
) -> String {
    let w = words(lang);
    let mut h = String::new();
    let months = monthly(r);
    if !months.is_empty() {
        h.push_str(&format!("<h2>{}</h2>\n", esc(w.by_month)));
        for (office, m) in &months {
            h.push_str(&super::svg::trend_chart(&office_name(office), m, lang));
        }
    }
    let mut groups: Vec<(&str, &str)> = r
        .steps
        .iter()
        .map(|s| (s.regulation.as_str(), s.office.as_str()))
        .collect();
    groups.dedup();
    if !groups.is_empty() {
        h.push_str(&format!("<h2>{}</h2>\n", esc(w.by_step)));
    }
    for (reg, office) in groups {
        let rows: Vec<&StepRow> = r
            .steps
            .iter()
            .filter(|s| s.regulation == reg && s.office == office)
            .collect();
        let title = r
            .regulations
            .iter()
            .find(|g| g.regulation == reg)
            .and_then(|g| g.title.as_ref())
            .map(|t| t.get(lang))
            .unwrap_or(reg);
        let office = office_name(office);
        h.push_str(&format!("<h3>{} — {}</h3>\n", esc(title), esc(&office)));
        h.push_str(&super::svg::steps_chart(
            &format!("{title} — {office}"),
            &rows,
            lang,
            &w.chart_legend(),
        ));
    }
    h
}

/// Labels of the HTML form.
struct Words {
    title: &'static str,
    by_regulation: &'static str,
    by_step: &'static str,
    by_month: &'static str,
    cases_not_met: &'static str,
    regulation: &'static str,
    office: &'static str,
    step: &'static str,
    cases: &'static str,
    met: &'static str,
    not_met: &'static str,
    pending: &'static str,
    breach_rate: &'static str,
    median: &'static str,
    p90: &'static str,
    statutory: &'static str,
    tasks: &'static str,
    breaches: &'static str,
    case: &'static str,
    due: &'static str,
    ended: &'static str,
    working: &'static str,
    suspended: &'static str,
    term_stopped: &'static str,
    cases_from: &'static str,
    none: &'static str,
    more: &'static str,
    legend_median: &'static str,
    legend_p90: &'static str,
    legend_term: &'static str,
    started_from: &'static str,
    started_before: &'static str,
    as_of: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Ru => Words {
            title: "Соблюдение сроков",
            by_regulation: "Сроки оказания услуги по регламентам и офисам",
            by_step: "Время по шагам",
            by_month: "По месяцам",
            cases_not_met: "Дела с нарушенным сроком",
            regulation: "Регламент",
            office: "Офис",
            step: "Шаг",
            cases: "Дел",
            met: "В срок",
            not_met: "С нарушением",
            pending: "В работе",
            breach_rate: "Доля нарушений",
            median: "Медиана",
            p90: "90-й процентиль",
            statutory: "Норматив",
            tasks: "Задач",
            breaches: "Нарушений",
            case: "Дело",
            due: "Срок",
            ended: "Завершено",
            working: "Рабочее время",
            suspended: "Приостановлено",
            term_stopped: "Срок приостановлен",
            cases_from: "дела приняты в",
            none: "Нарушений нет.",
            more: "и ещё",
            legend_median: "медиана",
            legend_p90: "90-й процентиль",
            legend_term: "норматив",
            started_from: "дела с",
            started_before: "дела до",
            as_of: "по состоянию на",
        },
        Lang::Kk => Words {
            title: "Мерзімдердің сақталуы",
            by_regulation: "Регламенттер мен кеңселер бойынша қызмет көрсету мерзімдері",
            by_step: "Қадамдар бойынша уақыт",
            by_month: "Айлар бойынша",
            cases_not_met: "Мерзімі бұзылған істер",
            regulation: "Регламент",
            office: "Кеңсе",
            step: "Қадам",
            cases: "Істер",
            met: "Мерзімінде",
            not_met: "Бұзылған",
            pending: "Жұмыста",
            breach_rate: "Бұзу үлесі",
            median: "Медиана",
            p90: "90-процентиль",
            statutory: "Норматив",
            tasks: "Тапсырмалар",
            breaches: "Бұзулар",
            case: "Іс",
            due: "Мерзімі",
            ended: "Аяқталды",
            working: "Жұмыс уақыты",
            suspended: "Тоқтатылған уақыт",
            term_stopped: "Мерзім тоқтатылған уақыт",
            cases_from: "істер қабылданған кеңселер",
            none: "Бұзушылық жоқ.",
            more: "тағы",
            legend_median: "медиана",
            legend_p90: "90-процентиль",
            legend_term: "норматив",
            started_from: "істер, басы",
            started_before: "істер, дейін",
            as_of: "жағдай бойынша",
        },
        Lang::En => Words {
            title: "Compliance with statutory terms",
            by_regulation: "Statutory term by regulation and office",
            by_step: "Working time by step",
            by_month: "By month",
            cases_not_met: "Cases past their statutory term",
            regulation: "Regulation",
            office: "Office",
            step: "Step",
            cases: "Cases",
            met: "Met",
            not_met: "Not met",
            pending: "Pending",
            breach_rate: "Breach rate",
            median: "Median",
            p90: "90th percentile",
            statutory: "Statutory",
            tasks: "Tasks",
            breaches: "Breaches",
            case: "Case",
            due: "Due",
            ended: "Ended",
            working: "Working time",
            suspended: "Suspended",
            term_stopped: "Term stopped",
            cases_from: "cases received at",
            none: "No breaches.",
            more: "and",
            legend_median: "median",
            legend_p90: "90th percentile",
            legend_term: "statutory time",
            started_from: "cases started from",
            started_before: "cases started before",
            as_of: "as of",
        },
    }
}

/// Rows of the not-met case table in the HTML form (the JSON and CSV forms have them all).
const HTML_CASES: usize = 200;

/// The report as an HTML fragment: a `<section class="reglament-compliance">` with its own
/// scoped styles, tables and SVG charts drawn here (no script, nothing fetched). The web
/// interface embeds it as it is; [`to_html_document`] wraps it in a page.
pub fn to_html(r: &ComplianceReport, lang: Lang) -> String {
    to_html_named(r, lang, &|office: &str| office.to_string())
}

/// [`to_html`], naming each office with `office_name` (the web page gives its name in the
/// reader's language; the command line, which has no offices files, its identifier).
pub fn to_html_named(
    r: &ComplianceReport,
    lang: Lang,
    office_name: &dyn Fn(&str) -> String,
) -> String {
    let w = words(lang);
    let title_of = |id: &str| -> String {
        r.regulations
            .iter()
            .find(|g| g.regulation == id)
            .and_then(|g| g.title.as_ref())
            .map_or_else(|| id.to_string(), |t| t.get(lang).to_string())
    };
    let hours = |m: Option<i64>| duration_words(m, lang);
    let mut h = String::new();
    h.push_str("<section class=\"reglament-compliance\">\n<style>");
    h.push_str(
        ".reglament-compliance{font-family:system-ui,sans-serif;color:#1b1f24}\
         .reglament-compliance table{border-collapse:collapse;margin:0.5em 0 1.5em}\
         .reglament-compliance th,.reglament-compliance td{border-bottom:1px solid #d0d7de;\
         padding:0.25em 0.6em;text-align:left;vertical-align:top}\
         .reglament-compliance td.n{text-align:right;font-variant-numeric:tabular-nums}\
         .reglament-compliance .bad{color:#b42318;font-weight:600}\
         .reglament-compliance svg{max-width:100%;height:auto}",
    );
    h.push_str("</style>\n");
    h.push_str(&format!("<h2>{}</h2>\n", esc(w.title)));
    h.push_str(&format!(
        "<p>{}</p>\n",
        esc(&scope_words(&r.scope, lang, &title_of, office_name))
    ));

    h.push_str(&format!("<h3>{}</h3>\n", esc(w.by_regulation)));
    h.push_str(&super::svg::terms_chart(
        r,
        lang,
        &[w.met, w.not_met, w.pending],
    ));
    h.push_str(&format!(
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>\n",
        esc(w.regulation),
        esc(w.office),
        esc(w.cases),
        esc(w.met),
        esc(w.not_met),
        esc(w.pending),
        esc(w.breach_rate),
        esc(w.median),
        esc(w.p90)
    ));
    for g in &r.regulations {
        let title = g
            .title
            .as_ref()
            .map(|t| t.get(lang))
            .unwrap_or(&g.regulation);
        h.push_str(&format!(
            "<tr><td title=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n{}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&g.regulation),
            esc(title),
            esc(&office_name(&g.office)),
            g.cases,
            g.met,
            if g.not_met > 0 { " bad" } else { "" },
            g.not_met,
            g.pending,
            percent(g.breach_rate),
            esc(&hours(g.median_minutes)),
            esc(&hours(g.p90_minutes)),
        ));
    }
    h.push_str("</tbody></table>\n");

    let months = monthly(r);
    if !months.is_empty() {
        h.push_str(&format!("<h3>{}</h3>\n", esc(w.by_month)));
        for (office, m) in &months {
            h.push_str(&super::svg::trend_chart(&office_name(office), m, lang));
        }
    }
    h.push_str(&format!("<h3>{}</h3>\n", esc(w.by_step)));
    let mut groups: Vec<(&str, &str)> = r
        .steps
        .iter()
        .map(|s| (s.regulation.as_str(), s.office.as_str()))
        .collect();
    groups.dedup();
    for (reg, office) in groups {
        let rows: Vec<&StepRow> = r
            .steps
            .iter()
            .filter(|s| s.regulation == reg && s.office == office)
            .collect();
        // A provider office's steps of cases received elsewhere say where.
        let from: BTreeSet<&str> = rows
            .iter()
            .flat_map(|s| s.cases_from.iter().map(String::as_str))
            .collect();
        let from = if from.is_empty() {
            String::new()
        } else {
            format!(
                " <small>({}: {})</small>",
                esc(w.cases_from),
                esc(&from
                    .into_iter()
                    .map(office_name)
                    .collect::<Vec<_>>()
                    .join(", "))
            )
        };
        h.push_str(&format!(
            "<h4>{} — {}{from}</h4>
",
            esc(&title_of(reg)),
            esc(&office_name(office))
        ));
        h.push_str(&super::svg::steps_chart(
            &format!("{} — {}", title_of(reg), office_name(office)),
            &rows,
            lang,
            &w.chart_legend(),
        ));
        h.push_str(&format!(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
             <th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>\n",
            esc(w.step),
            esc(w.statutory),
            esc(w.cases),
            esc(w.tasks),
            esc(w.median),
            esc(w.p90),
            esc(w.breaches),
            esc(w.breach_rate),
            esc(w.suspended)
        ));
        for s in rows {
            let name = s.name.as_ref().map(|t| t.get(lang)).unwrap_or(&s.step);
            h.push_str(&format!(
                "<tr><td title=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n{}\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                esc(&s.step),
                esc(name),
                esc(&s
                    .statutory
                    .iter()
                    .map(|t| term_words(t, lang))
                    .collect::<Vec<_>>()
                    .join(" / ")),
                s.cases,
                s.tasks,
                esc(&hours(s.median_minutes)),
                esc(&hours(s.p90_minutes)),
                if s.breaches > 0 { " bad" } else { "" },
                s.breaches,
                percent(s.breach_rate),
                esc(&suspended_words(s.suspended_tasks, s.suspended_minutes, lang)),
            ));
        }
        h.push_str("</tbody></table>\n");
    }

    h.push_str(&format!("<h3>{}</h3>\n", esc(w.cases_not_met)));
    let not_met: Vec<&CaseRowReport> = r
        .cases
        .iter()
        .filter(|c| c.term_met == Some(false))
        .collect();
    if not_met.is_empty() {
        h.push_str(&format!("<p>{}</p>\n", esc(w.none)));
    } else {
        h.push_str(&format!(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
             <th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>\n",
            esc(w.case),
            esc(w.regulation),
            esc(w.office),
            esc(w.statutory),
            esc(w.due),
            esc(w.ended),
            esc(w.working),
            esc(w.term_stopped)
        ));
        for c in not_met.iter().take(HTML_CASES) {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                esc(&c.case),
                esc(&title_of(&c.regulation)),
                esc(&if c.offices.len() > 1 {
                    c.offices
                        .iter()
                        .map(|o| office_name(o.as_str()))
                        .collect::<Vec<_>>()
                        .join(" → ")
                } else {
                    office_name(&c.office)
                }),
                esc(&c
                    .term
                    .as_deref()
                    .map_or_else(|| "—".into(), |t| term_words(t, lang))),
                esc(&c.due.map(|t| local_stamp(t, lang)).unwrap_or_default()),
                esc(&c
                    .ended_at
                    .map(|t| local_stamp(t, lang))
                    .unwrap_or_else(|| "—".into())),
                esc(&hours(c.working_minutes)),
                esc(&if c.term_stopped_minutes > 0 {
                    hours(Some(c.term_stopped_minutes as i64))
                } else {
                    "—".to_string()
                }),
            ));
        }
        h.push_str("</tbody></table>\n");
        if not_met.len() > HTML_CASES {
            h.push_str(&format!(
                "<p>… {} {}.</p>\n",
                esc(w.more),
                not_met.len() - HTML_CASES
            ));
        }
    }
    h.push_str("</section>\n");
    h
}

impl Words {
    fn chart_legend(&self) -> [&'static str; 3] {
        [self.legend_median, self.legend_p90, self.legend_term]
    }
}

#[cfg(test)]
fn scope_text(s: &ReportScope, lang: Lang) -> String {
    scope_words(s, lang, &|r: &str| r.to_string(), &|o: &str| o.to_string())
}

fn scope_words(
    s: &ReportScope,
    lang: Lang,
    regulation_name: &dyn Fn(&str) -> String,
    office_name: &dyn Fn(&str) -> String,
) -> String {
    let w = words(lang);
    let mut parts = Vec::new();
    if let Some(r) = &s.regulation {
        parts.push(format!("{}: {}", w.regulation, regulation_name(r)));
    }
    if let Some(o) = &s.office {
        parts.push(format!("{}: {}", w.office, office_name(o)));
    }
    if let Some(f) = s.started_from {
        parts.push(format!("{} {}", w.started_from, local_stamp(f, lang)));
    }
    if let Some(b) = s.started_before {
        parts.push(format!("{} {}", w.started_before, local_stamp(b, lang)));
    }
    // Kazakh puts "as of" after the date.
    parts.push(match lang {
        Lang::Kk => format!("{} {}", local_stamp(s.now, lang), w.as_of),
        _ => format!("{} {}", w.as_of, local_stamp(s.now, lang)),
    });
    parts.join(" · ")
}

/// An instant as people in Kazakhstan read it: local time to the minute, with the offset said
/// (one offset, UTC+5, across the country since 1 March 2024; earlier instants keep theirs).
fn local_stamp(t: DateTime<Utc>, lang: Lang) -> String {
    let local = t.with_timezone(&chrono_tz::Asia::Almaty);
    let pattern = match lang {
        Lang::En => "%Y-%m-%d %H:%M (UTC%:z)",
        _ => "%d.%m.%Y %H:%M (UTC%:z)",
    };
    local.format(pattern).to_string()
}

/// The fragment in a complete page (what `reglament report compliance --format html` writes).
pub fn to_html_document(r: &ComplianceReport, lang: Lang) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n</head>\n<body>\n{}</body>\n</html>\n",
        lang.code(),
        esc(words(lang).title),
        to_html(r, lang)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_line_is_in_the_report_s_language_and_local_time() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).expect("instant").to_utc();
        let scope = ReportScope {
            regulation: Some("atyrau-child-benefit".into()),
            office: None,
            started_from: Some(t("2024-01-15T04:00:00Z")),
            started_before: None,
            now: t("2026-12-03T05:53:20.334214Z"),
        };
        assert_eq!(
            scope_text(&scope, Lang::Ru),
            "Регламент: atyrau-child-benefit · дела с 15.01.2024 10:00 (UTC+06:00) · \
             по состоянию на 03.12.2026 10:53 (UTC+05:00)"
        );
        assert_eq!(
            scope_text(&scope, Lang::En),
            "Regulation: atyrau-child-benefit · cases started from 2024-01-15 10:00 (UTC+06:00) · \
             as of 2026-12-03 10:53 (UTC+05:00)"
        );
        assert!(
            scope_text(&scope, Lang::Kk).ends_with("03.12.2026 10:53 (UTC+05:00) жағдай бойынша")
        );
    }

    #[test]
    fn a_case_belongs_to_the_month_it_started_in_kazakhstan() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).expect("instant").to_utc();
        let case = |id: &str, started: &str, term_met: Option<bool>| CaseRowReport {
            case: id.into(),
            regulation: "r".into(),
            version: 1,
            office: "o".into(),
            offices: vec!["o".into()],
            channel: "provider".into(),
            status: "ended".into(),
            result: Some("granted".into()),
            started_at: t(started),
            registered_at: t(started),
            ended_at: None,
            term: None,
            due: None,
            working_minutes: None,
            term_met,
            breached_tasks: 0,
            suspended_minutes: 0,
            term_stopped_minutes: 0,
        };
        let r = ComplianceReport {
            scope: ReportScope {
                regulation: None,
                office: None,
                started_from: None,
                started_before: None,
                now: t("2026-06-01T00:00:00Z"),
            },
            regulations: Vec::new(),
            steps: Vec::new(),
            // 30 April 20:00 UTC is 1 May 01:00 in Kazakhstan (UTC+5); March has none.
            cases: vec![
                case("a", "2026-02-10T04:00:00Z", Some(true)),
                case("b", "2026-04-30T18:59:00Z", Some(false)),
                case("c", "2026-04-30T20:00:00Z", Some(true)),
            ],
            missing_calendars: Vec::new(),
        };
        let months = monthly(&r);
        let o = &months["o"];
        let got: Vec<((i32, u32), u64)> = o.iter().map(|m| (m.month, m.cases)).collect();
        assert_eq!(
            got,
            [
                ((2026, 2), 1),
                ((2026, 3), 0),
                ((2026, 4), 1),
                ((2026, 5), 1)
            ]
        );
        assert_eq!(o[2].on_time, Some(0.0));
        assert_eq!(o[3].on_time, Some(1.0));
        assert_eq!(o[1].on_time, None);
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 90), Some(90));
        assert_eq!(percentile(&v, 100), Some(100));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn csv_cells_are_quoted_when_they_must_be() {
        assert_eq!(csv_cell("a"), "a");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            esc("<a href='x'>&</a>"),
            "&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;"
        );
    }
}

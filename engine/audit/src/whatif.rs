//! What-if: a real case's history re-timed under another version of its regulation (the one
//! an analyst is drafting), to see which deadlines would have been breached and which no
//! longer would. The analyst's evidence before a change is deployed.
//!
//! The history is read as the decisions people made, each at the instant they made it:
//! claims, releases, reassignments, completions with their outcome, data and reason,
//! documents found missing, withdrawals, cancellations. Everything else in the log follows
//! from those and from time (tasks opening, branches, breaches, escalations, dispatches).
//! The decisions are replayed in order on a case started under the draft with the same
//! application, on the calendar version the real case was pinned to; before each decision
//! time runs up to it (the draft's own deadlines fire and its own dispatches leave); after
//! the last, time runs to the end of the real case (or to now, for an open case). Every due
//! instant is therefore computed by the engine from the draft's durations, and each
//! deadline is then judged the same way on both sides: missed if the work was done after
//! its due instant, or not done by then.
//!
//! A case that crossed offices is started under the draft with the same route, so each task
//! opens at the office of its role's kind as in reality, and its due instant is computed on
//! that office's clock: the calendar version the real task's deadline was computed on there
//! (from the database, as the replay rebuilds it), else that office's calendar as loaded
//! (for an office the real case reached with no deadline, or never reached). Each deadline
//! names its office on both sides (`office`, `draft_office`).
//!
//! A task of the real history is matched with the draft's open task at the same step. A
//! decision the draft cannot take (its step is gone, the outcome renamed, the case already
//! ended there) is where the histories part: the comparison stops at that instant and says
//! why. Claims, releases and reassignments that no longer apply (an escalation of the draft
//! handed the task elsewhere) are skipped and listed: they do not move time.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::replay::{RegulationRef, parse_events};
use super::{AuditError, late, pinned_clock};
use reglament_calendar::{CalendarError, OfficeClock};
use reglament_model::compile::Process;
use reglament_model::model::CaseResult;
use reglament_model::text::Text;
use reglament_runtime::decide::{self, Ctx};
use reglament_runtime::{
    Actor, CaseId, CaseState, Clocks, Command, CommandError, EngineError, Event, EventKind, TaskId,
    TaskStatus,
};
use reglament_store::Store;

use super::replay::ReplayOptions;

/// How a deadline fares under the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Met in reality, breached under the draft.
    NewlyBreached,
    /// Breached in reality, met under the draft.
    NoLongerBreached,
    StillBreached,
    OnTime,
    /// Only the real history has this deadline (the draft has no time here, or never got
    /// this far).
    OnlyReal,
    /// Only the draft has this deadline.
    OnlyDraft,
}

/// One deadline, in reality and under the draft.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadlineChange {
    /// `case` or `task`.
    pub target: &'static str,
    /// The real task's number.
    pub task: Option<u32>,
    /// The draft task's number.
    pub draft_task: Option<u32>,
    pub step: Option<String>,
    pub name: Option<Text>,
    /// The office the real task was at (`None` for the case's own deadline, or a task only
    /// the draft has).
    pub office: Option<String>,
    /// The office the draft's task was at: the same as `office` unless the draft places the
    /// step's role at another kind of office.
    pub draft_office: Option<String>,
    pub real_term: Option<String>,
    pub draft_term: Option<String>,
    pub real_due: Option<DateTime<Utc>>,
    pub draft_due: Option<DateTime<Utc>>,
    /// When the work was done in reality (the same instant under the draft).
    pub done_at: Option<DateTime<Utc>>,
    pub real_breached: bool,
    pub draft_breached: bool,
    pub change: Change,
}

/// Where the draft could not follow the real history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// The real event the decision was recorded by.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// The decision (`complete task 3 (review) with outcome grant`).
    pub decision: String,
    pub reason: String,
}

/// A decision that did not apply to the draft and was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub seq: u64,
    pub decision: String,
    pub reason: String,
}

/// Counts over [`WhatIf::deadlines`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WhatIfSummary {
    pub deadlines: u32,
    pub breached_real: u32,
    pub breached_draft: u32,
    pub newly_breached: u32,
    pub no_longer_breached: u32,
}

/// The case under the draft.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    pub case: String,
    pub real: RegulationRef,
    pub draft: RegulationRef,
    pub channel: String,
    pub office: String,
    pub calendar_version: String,
    /// Decisions replayed.
    pub decisions: u32,
    pub skipped: Vec<Skipped>,
    pub diverged: Option<Divergence>,
    /// How the case ended in reality and under the draft (`open` if it has not).
    pub real_status: String,
    pub draft_status: String,
    /// Deadlines are judged at this instant when the work is not done: the real case's end,
    /// or the audit's `now` for an open case (the divergence, for the draft, if any).
    pub horizon: DateTime<Utc>,
    pub deadlines: Vec<DeadlineChange>,
    pub summary: WhatIfSummary,
}

/// Compiles a draft regulation, with every error the validator finds.
pub fn compile_draft(source: &str, file: &str) -> Result<Arc<Process>, AuditError> {
    let report = reglament_model::validate::check_str(source, file, None);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render(Some(source)))
        .collect();
    match report.process {
        Some(p) if errors.is_empty() => Ok(Arc::new(p)),
        _ => Err(AuditError::InvalidDraft { errors }),
    }
}

/// Re-times a stored case under `draft` (see the module documentation).
pub async fn whatif(
    store: &Store,
    case: &CaseId,
    draft: &Arc<Process>,
    opts: &ReplayOptions<'_>,
) -> Result<WhatIf, AuditError> {
    let rows = store.case_log_rows(case).await?;
    let events = parse_events(case.as_str(), &rows)?;
    let Some(first) = events.first() else {
        return Err(AuditError::NoSuchCase(case.to_string()));
    };
    let EventKind::CaseStarted {
        digest,
        office,
        calendar_version,
        ..
    } = &first.kind
    else {
        return Err(AuditError::NotStarted {
            case: case.to_string(),
        });
    };
    let real = store.process(digest).await?;
    let clock = pinned_clock(store, office, calendar_version, opts.clocks)
        .await?
        .ok_or_else(|| AuditError::NoCalendar {
            case: case.to_string(),
            office: office.clone(),
            version: calendar_version.clone(),
        })?;
    let mut elsewhere = OfficeClocks::default();
    for (at, version) in other_offices(&events, office) {
        let found = match &version {
            Some(v) => pinned_clock(store, &at, v, opts.clocks).await?,
            None => None,
        };
        if let Some(c) = found.or_else(|| opts.clocks.and_then(|f| f.clock(&at, None).ok())) {
            elsewhere.0.insert(at, c);
        }
    }
    // A case moved onto other versions folds with each of them (the real history).
    let mut later = HashMap::new();
    for r in &rows {
        if r.digest != *digest && !later.contains_key(&r.digest) {
            later.insert(r.digest.clone(), store.process(&r.digest).await?);
        }
    }
    whatif_events_routed(
        case.as_str(),
        &events,
        &real,
        &later,
        draft,
        &clock,
        Some(&elsewhere),
        opts.now,
    )
}

/// The clocks of the offices a case passes through besides the one it was registered at, by
/// office (whatever version is asked: each is the one the real case counted on there).
#[derive(Default)]
pub struct OfficeClocks(pub BTreeMap<String, OfficeClock>);

impl Clocks for OfficeClocks {
    fn clock(&self, office: &str, _version: Option<&str>) -> Result<OfficeClock, EngineError> {
        self.0.get(office).cloned().ok_or_else(|| {
            EngineError::Calendar(CalendarError::UnknownOffice {
                id: office.to_string(),
                suggestion: None,
            })
        })
    }
}

/// The offices other than `office` on the case's route or where its tasks opened, each with
/// the calendar version the first of its tasks' deadlines was computed on there (if any).
fn other_offices(events: &[Event], office: &str) -> BTreeMap<String, Option<String>> {
    let mut out: BTreeMap<String, Option<String>> = BTreeMap::new();
    for e in events {
        match &e.kind {
            EventKind::CaseStarted { route, .. } => {
                for o in route.values().filter(|o| *o != office) {
                    out.entry(o.clone()).or_default();
                }
            }
            EventKind::TaskOpened {
                office: Some(at),
                deadline,
                ..
            } if **at != *office => {
                let v = out.entry(at.to_string()).or_default();
                if v.is_none() {
                    *v = deadline.as_ref().map(|d| d.calendar_version.to_string());
                }
            }
            _ => {}
        }
    }
    out
}

/// A decision of the real history.
#[derive(Debug, Clone)]
struct Decision {
    /// The index of the event that recorded it.
    index: usize,
    at: DateTime<Utc>,
    actor: Actor,
    kind: DecisionKind,
}

#[derive(Debug, Clone)]
enum DecisionKind {
    Claim(u32),
    Release(u32),
    Reassign(u32, Option<String>),
    Complete {
        task: u32,
        outcome: Option<String>,
        data: Value,
        reason: Option<String>,
    },
    DocumentsMissing(Option<String>),
    Withdraw(String),
    Cancel(String),
    Retry {
        incident: u32,
        reason: String,
        data: Option<Value>,
    },
}

impl DecisionKind {
    fn task(&self) -> Option<u32> {
        match self {
            DecisionKind::Claim(t)
            | DecisionKind::Release(t)
            | DecisionKind::Reassign(t, _)
            | DecisionKind::Complete { task: t, .. } => Some(*t),
            _ => None,
        }
    }

    /// Whether the decision only moves a task between people, not through the process.
    fn is_handover(&self) -> bool {
        matches!(
            self,
            DecisionKind::Claim(_) | DecisionKind::Release(_) | DecisionKind::Reassign(..)
        )
    }

    fn describe(&self, steps: &BTreeMap<u32, Arc<str>>) -> String {
        let at = |t: &u32| {
            steps
                .get(t)
                .map(|s| format!("task {t} ({s})"))
                .unwrap_or_else(|| format!("task {t}"))
        };
        match self {
            DecisionKind::Claim(t) => format!("claim {}", at(t)),
            DecisionKind::Release(t) => format!("release {}", at(t)),
            DecisionKind::Reassign(t, u) => match u {
                Some(u) => format!("hand {} to {u}", at(t)),
                None => format!("hand {} back to its role", at(t)),
            },
            DecisionKind::Complete { task, outcome, .. } => match outcome {
                Some(o) => format!("complete {} with outcome {o}", at(task)),
                None => format!("complete {}", at(task)),
            },
            DecisionKind::DocumentsMissing(_) => "report documents missing".into(),
            DecisionKind::Withdraw(_) => "withdraw the application".into(),
            DecisionKind::Cancel(_) => "cancel the case".into(),
            DecisionKind::Retry { incident, .. } => format!("retry incident {incident}"),
        }
    }
}

/// The decisions people made, in order. The engine's own events, and events that follow
/// from a decision within the same command, are not decisions.
fn decisions(events: &[Event]) -> Vec<Decision> {
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate().skip(1) {
        if e.actor == Actor::engine() {
            continue;
        }
        let kind = match &e.kind {
            EventKind::TaskClaimed { task, .. } => {
                // Completing an unclaimed task claims it first, in the same command.
                let part_of_completion = events.get(i + 1).is_some_and(|n| {
                    n.at == e.at
                        && n.actor == e.actor
                        && matches!(&n.kind, EventKind::TaskCompleted { task: t, .. } if t == task)
                });
                if part_of_completion {
                    continue;
                }
                DecisionKind::Claim(task.0)
            }
            EventKind::TaskReleased { task } => DecisionKind::Release(task.0),
            EventKind::TaskReassigned { task, user, .. } => {
                DecisionKind::Reassign(task.0, user.as_deref().map(str::to_string))
            }
            EventKind::TaskCompleted {
                task,
                outcome,
                data,
                reason,
            } => DecisionKind::Complete {
                task: task.0,
                outcome: outcome.as_deref().map(str::to_string),
                data: data.clone(),
                reason: reason.clone(),
            },
            EventKind::DocumentsMissing { note, .. } => {
                DecisionKind::DocumentsMissing(note.clone())
            }
            EventKind::CaseEnded {
                result: CaseResult::Withdrawn,
                step: None,
                reason,
            } => DecisionKind::Withdraw(reason.clone().unwrap_or_default()),
            EventKind::CaseCancelled { reason } => DecisionKind::Cancel(reason.clone()),
            EventKind::IncidentResolved {
                incident,
                reason,
                data,
            } => DecisionKind::Retry {
                incident: *incident,
                reason: reason.clone(),
                data: data.clone(),
            },
            _ => continue,
        };
        out.push(Decision {
            index: i,
            at: e.at,
            actor: e.actor.clone(),
            kind,
        });
    }
    out
}

/// The draft case as time and decisions move it.
struct Draft<'a> {
    state: CaseState,
    clock: &'a OfficeClock,
    offices: Option<&'a dyn Clocks>,
}

impl Draft<'_> {
    fn apply(&mut self, events: &[Event]) -> Result<(), String> {
        for e in events {
            self.state.apply(e).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Lets time pass up to `until` (exclusive, or inclusive with `through`), firing the
    /// draft's deadlines, escalations and dispatches at their own instants.
    fn run_until(&mut self, until: DateTime<Utc>, through: bool) -> Result<(), String> {
        // Each tick moves the next wake-up on (a breach fires once, an escalation runs once);
        // the bound is a guard against a regulation that would not.
        for _ in 0..10_000 {
            let Some(w) = self.state.next_wakeup() else {
                return Ok(());
            };
            if w > until || (w == until && !through) {
                return Ok(());
            }
            let events = decide::tick_at(&self.state, w, self.clock, self.offices)
                .map_err(|e| e.to_string())?;
            if events.is_empty() {
                return Ok(());
            }
            self.apply(&events)?;
        }
        Ok(())
    }
}

/// Re-times a case's events under `draft` on `clock` (the real case's pinned calendar), every
/// task at the office where it was registered.
pub fn whatif_events(
    case: &str,
    events: &[Event],
    real: &Arc<Process>,
    draft: &Arc<Process>,
    clock: &OfficeClock,
    now: DateTime<Utc>,
) -> Result<WhatIf, AuditError> {
    whatif_events_routed(case, events, real, &HashMap::new(), draft, clock, None, now)
}

/// [`whatif_events`] for a case that crosses offices: the draft's tasks open at the offices of
/// the real case's route, and a task at another office than the registering one counts on
/// its clock in `offices` (with `None`, or an office missing there, on `clock`, as the engine
/// does).
#[allow(clippy::too_many_arguments)]
pub fn whatif_events_routed(
    case: &str,
    events: &[Event],
    real: &Arc<Process>,
    // The versions `case_migrated` events moved the real case onto, by digest.
    later: &HashMap<String, Arc<Process>>,
    draft: &Arc<Process>,
    clock: &OfficeClock,
    offices: Option<&dyn Clocks>,
    now: DateTime<Utc>,
) -> Result<WhatIf, AuditError> {
    let Some(first) = events.first() else {
        return Err(AuditError::NoSuchCase(case.to_string()));
    };
    let EventKind::CaseStarted {
        channel,
        office,
        calendar_version,
        data,
        ..
    } = &first.kind
    else {
        return Err(AuditError::NotStarted {
            case: case.to_string(),
        });
    };
    let r = real.clone();
    let real_state = CaseState::fold(events, |d| {
        later.get(d).cloned().or_else(|| Some(r.clone()))
    })
    .map_err(|source| AuditError::Fold {
        case: case.to_string(),
        source,
    })?;
    let horizon = real_state.ended_at.unwrap_or(now);
    let real_steps: BTreeMap<u32, Arc<str>> = real_state
        .tasks
        .iter()
        .map(|t| (t.id.0, t.step_id.clone()))
        .collect();

    let mut skipped = Vec::new();
    let mut diverged: Option<Divergence> = None;
    let mut replayed = 0u32;
    let empty = std::collections::BTreeMap::new();
    let route = match &first.kind {
        EventKind::CaseStarted { route, .. } => route,
        _ => &empty,
    };
    let start = decide::start(
        draft,
        CaseId::new(case),
        channel,
        office,
        route,
        data.clone(),
        Ctx {
            now: first.at,
            actor: &first.actor,
            clock,
            offices,
        },
    );
    let d = draft.clone();
    let mut sim = match start
        .map_err(|e| e.to_string())
        .and_then(|evs| CaseState::fold(&evs, |_| Some(d.clone())).map_err(|e| e.to_string()))
    {
        Ok(state) => Some(Draft {
            state,
            clock,
            offices,
        }),
        Err(reason) => {
            diverged = Some(Divergence {
                seq: 1,
                at: first.at,
                decision: "register the application".into(),
                reason,
            });
            None
        }
    };
    // Real task number → draft task number.
    let mut matched: BTreeMap<u32, u32> = BTreeMap::new();
    let mut draft_horizon = horizon;
    if let Some(sim) = sim.as_mut() {
        for dec in decisions(events) {
            let describe = || dec.kind.describe(&real_steps);
            let part = |reason: String| Divergence {
                seq: dec.index as u64 + 1,
                at: dec.at,
                decision: describe(),
                reason,
            };
            if let Err(reason) = sim.run_until(dec.at, false) {
                diverged = Some(part(reason));
                break;
            }
            let task = match dec.kind.task() {
                Some(t) => match match_task(&sim.state, t, &real_steps, &mut matched) {
                    Some(d) => Some(d),
                    None if dec.kind.is_handover() => {
                        skipped.push(Skipped {
                            seq: dec.index as u64 + 1,
                            decision: describe(),
                            reason: "the draft has no open task there".into(),
                        });
                        continue;
                    }
                    None => {
                        let step = real_steps
                            .get(&t)
                            .map(|s| s.to_string())
                            .unwrap_or_default();
                        diverged = Some(part(if sim.state.is_open() {
                            format!("the draft has no open task at step `{step}` at this point")
                        } else {
                            "the case has already ended under the draft".to_string()
                        }));
                        break;
                    }
                },
                None => None,
            };
            // Under the draft the task may belong to another role: the person is the same.
            let actor = match task.and_then(|d| sim.state.task(TaskId(d))) {
                Some(t) if !matches!(dec.kind, DecisionKind::Reassign(..)) => {
                    Actor::new(&*dec.actor.user, &*t.role)
                }
                _ => dec.actor.clone(),
            };
            let command = command_for(&dec.kind, task);
            let ctx = Ctx {
                now: dec.at,
                actor: &actor,
                clock,
                offices,
            };
            match decide::decide(&sim.state, &command, ctx) {
                Ok(evs) => {
                    if let Err(reason) = sim.apply(&evs) {
                        diverged = Some(part(reason));
                        break;
                    }
                    replayed += 1;
                }
                Err(e) if dec.kind.is_handover() => skipped.push(Skipped {
                    seq: dec.index as u64 + 1,
                    decision: describe(),
                    reason: e.to_string(),
                }),
                Err(e) => {
                    diverged = Some(part(explain(&e)));
                    break;
                }
            }
        }
        match &diverged {
            Some(d) => draft_horizon = d.at,
            None => {
                if let Err(reason) = sim.run_until(horizon, true) {
                    diverged = Some(Divergence {
                        seq: events.len() as u64,
                        at: horizon,
                        decision: "let time pass".into(),
                        reason,
                    });
                }
            }
        }
    }

    let deadlines = compare(
        &real_state,
        sim.as_ref().map(|s| &s.state),
        &matched,
        horizon,
        draft_horizon,
    );
    let mut summary = WhatIfSummary {
        deadlines: deadlines.len() as u32,
        ..Default::default()
    };
    for d in &deadlines {
        summary.breached_real += u32::from(d.real_breached);
        summary.breached_draft += u32::from(d.draft_breached);
        summary.newly_breached += u32::from(d.change == Change::NewlyBreached);
        summary.no_longer_breached += u32::from(d.change == Change::NoLongerBreached);
    }
    let status = |s: &CaseState| {
        let (st, r) = reglament_store::rows::case_status(s.status);
        r.unwrap_or(st).to_string()
    };
    Ok(WhatIf {
        case: case.to_string(),
        real: RegulationRef {
            id: real.id().to_string(),
            version: real.version(),
            digest: real.digest.clone(),
        },
        draft: RegulationRef {
            id: draft.id().to_string(),
            version: draft.version(),
            digest: draft.digest.clone(),
        },
        channel: channel.clone(),
        office: office.clone(),
        calendar_version: calendar_version.clone(),
        decisions: replayed,
        skipped,
        diverged,
        real_status: status(&real_state),
        draft_status: sim
            .as_ref()
            .map_or_else(|| "not started".to_string(), |s| status(&s.state)),
        horizon,
        deadlines,
        summary,
    })
}

/// A command error in the analyst's terms.
fn explain(e: &CommandError) -> String {
    e.to_string()
}

/// The draft task a real task corresponds to: the one already matched, else the draft's
/// lowest-numbered open task at the same step not matched to another.
fn match_task(
    state: &CaseState,
    real: u32,
    steps: &BTreeMap<u32, Arc<str>>,
    matched: &mut BTreeMap<u32, u32>,
) -> Option<u32> {
    if let Some(d) = matched.get(&real) {
        return Some(*d);
    }
    let step = steps.get(&real)?;
    let taken: Vec<u32> = matched.values().copied().collect();
    let d = state
        .open_tasks()
        .find(|t| t.step_id == *step && !taken.contains(&t.id.0))?
        .id
        .0;
    matched.insert(real, d);
    Some(d)
}

fn command_for(kind: &DecisionKind, task: Option<u32>) -> Command {
    let task = TaskId(task.unwrap_or(0));
    match kind.clone() {
        DecisionKind::Claim(_) => Command::Claim { task },
        DecisionKind::Release(_) => Command::Release { task },
        DecisionKind::Reassign(_, user) => Command::Reassign { task, user },
        DecisionKind::Complete {
            outcome,
            data,
            reason,
            ..
        } => Command::Complete {
            task,
            outcome,
            data,
            reason,
        },
        DecisionKind::DocumentsMissing(note) => Command::DocumentsMissing { note },
        DecisionKind::Withdraw(reason) => Command::Withdraw { reason },
        DecisionKind::Cancel(reason) => Command::Cancel { reason },
        DecisionKind::Retry {
            incident,
            reason,
            data,
        } => Command::RetryIncident {
            incident,
            reason,
            data,
        },
    }
}

fn classify(real: Option<bool>, draft: Option<bool>) -> Change {
    match (real, draft) {
        (Some(false), Some(true)) => Change::NewlyBreached,
        (Some(true), Some(false)) => Change::NoLongerBreached,
        (Some(true), Some(true)) => Change::StillBreached,
        (Some(false), Some(false)) => Change::OnTime,
        (Some(_), None) => Change::OnlyReal,
        (None, _) => Change::OnlyDraft,
    }
}

/// Every deadline of either history, judged on each side.
fn compare(
    real: &CaseState,
    draft: Option<&CaseState>,
    matched: &BTreeMap<u32, u32>,
    horizon: DateTime<Utc>,
    draft_horizon: DateTime<Utc>,
) -> Vec<DeadlineChange> {
    let mut out = Vec::new();
    let case_draft = draft.and_then(|d| d.deadline.as_ref().map(|dl| (dl, d.ended_at)));
    if real.deadline.is_some() || case_draft.is_some() {
        let r = real.deadline.as_ref();
        let rb = r.map(|d| late(d.due, real.ended_at, horizon));
        let db = case_draft.map(|(d, end)| late(d.due, end, draft_horizon));
        out.push(DeadlineChange {
            target: "case",
            task: None,
            draft_task: None,
            step: None,
            name: None,
            office: None,
            draft_office: None,
            real_term: r.map(|d| d.term.to_string()),
            draft_term: case_draft.map(|(d, _)| d.term.to_string()),
            real_due: r.map(|d| d.due),
            draft_due: case_draft.map(|(d, _)| d.due),
            done_at: real.ended_at,
            real_breached: rb.unwrap_or(false),
            draft_breached: db.unwrap_or(false),
            change: classify(rb, db),
        });
    }
    let mut drafted: Vec<u32> = Vec::new();
    for t in &real.tasks {
        let dt = matched
            .get(&t.id.0)
            .and_then(|d| draft.and_then(|s| s.task(TaskId(*d))));
        if let Some(d) = dt {
            drafted.push(d.id.0);
        }
        let r = t.deadline.as_ref();
        let dd = dt.and_then(|d| d.deadline.as_ref());
        if r.is_none() && dd.is_none() {
            continue;
        }
        let rb = r.map(|d| late(d.due, t.closed_at, horizon));
        let db = match (dd, dt) {
            (Some(d), Some(task)) => {
                let done = (task.status != TaskStatus::Open)
                    .then_some(task.closed_at)
                    .flatten();
                Some(late(d.due, done, draft_horizon))
            }
            _ => None,
        };
        out.push(DeadlineChange {
            target: "task",
            task: Some(t.id.0),
            draft_task: dt.map(|d| d.id.0),
            step: Some(t.step_id.to_string()),
            name: real.step_of(t).name().cloned(),
            office: Some(t.office.to_string()),
            draft_office: dt.map(|d| d.office.to_string()),
            real_term: r.map(|d| d.term.to_string()),
            draft_term: dd.map(|d| d.term.to_string()),
            real_due: r.map(|d| d.due),
            draft_due: dd.map(|d| d.due),
            done_at: t.closed_at,
            real_breached: rb.unwrap_or(false),
            draft_breached: db.unwrap_or(false),
            change: classify(rb, db),
        });
    }
    if let Some(d) = draft {
        for t in d.tasks.iter().filter(|t| !drafted.contains(&t.id.0)) {
            let Some(dl) = &t.deadline else { continue };
            let breached = late(dl.due, t.closed_at, draft_horizon);
            out.push(DeadlineChange {
                target: "task",
                task: None,
                draft_task: Some(t.id.0),
                step: Some(t.step_id.to_string()),
                name: d.step_of(t).name().cloned(),
                office: None,
                draft_office: Some(t.office.to_string()),
                real_term: None,
                draft_term: Some(dl.term.to_string()),
                real_due: None,
                draft_due: Some(dl.due),
                done_at: t.closed_at,
                real_breached: false,
                draft_breached: breached,
                change: Change::OnlyDraft,
            });
        }
    }
    out
}

//! The pure heart of the engine: `(state, command, now) → events`.
//!
//! Nothing here reads a clock, touches a disk or draws a random number: time comes in as
//! `now`, ids come in with the command, the calendar is data. A command is checked completely
//! before any event is returned, so an illegal command leaves the case as it was.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Days, TimeZone, Utc};
use serde_json::Value;
use smallvec::SmallVec;

use super::command::{Command, CommandError, FieldError, FieldRule};
use super::event::{
    Actor, CaseId, Deadline, DeadlineTarget, Event, EventKind, Intervention, Moved, TaskId, Warning,
};
use super::state::{CaseState, Task, TaskStatus};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::condition::Facts;
use reglament_model::duration::{Term, suggest};
use reglament_model::model::{CaseResult, Counting, EscalationAction, Step};

/// How many automatic steps (choices, splits, joins) one command may pass through: a guard
/// against a regulation that loops without ever stopping at a task.
const MAX_AUTOMATIC_STEPS: usize = 10_000;

/// Roles allowed to hand tasks to others.
const REASSIGNING_ROLES: &[&str] = &["head", "administrator"];

/// What a command is decided with besides the case itself.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub actor: &'a Actor,
    /// The working-time clock of the case's office, at the calendar version the case is pinned to.
    pub clock: &'a OfficeClock,
    /// The clocks of other offices, for tasks that open at another office of the case's route
    /// (`None`: every task counts on `clock`).
    pub offices: Option<&'a dyn super::engine::Clocks>,
}

/// Starts a case: checks the channel and the applicant's data, computes the statutory
/// deadline, and moves the case to its first task.
#[allow(clippy::too_many_arguments)]
pub fn start(
    process: &Arc<Process>,
    case: CaseId,
    channel: &str,
    office: &str,
    route: &BTreeMap<String, String>,
    data: Value,
    ctx: Ctx<'_>,
) -> Result<Vec<Event>, CommandError> {
    let Some(ch) = process.channel(channel) else {
        let names = process.regulation.channels.iter().map(|c| c.id.as_str());
        return Err(CommandError::UnknownChannel {
            regulation: process.id().to_string(),
            channel: channel.to_string(),
            suggestion: suggest(channel, names).map(str::to_string),
        });
    };
    if let Some(form) = process.application_form() {
        check_form(form, &data)?;
    }
    let version: Arc<str> = Arc::from(ctx.clock.version());
    let registered_at = ctx.clock.registration_instant(ctx.now)?;
    let deadline = match &ch.term {
        Some(term) => Some(deadline(
            ctx.clock,
            ctx.now,
            term.duration,
            &ch.counting,
            &version,
        )?),
        None => None,
    };
    let start = process
        .step_index(&ch.start)
        .ok_or_else(|| CommandError::Runaway(ch.start.clone()))?;
    let mut plan = Plan::new(process, None, channel, ctx, registered_at, version.clone());
    plan.office = Arc::from(office);
    plan.at_office = plan.office.clone();
    plan.route = Some(route);
    plan.emit(EventKind::CaseStarted {
        case,
        regulation: process.id().to_string(),
        version: process.version(),
        digest: process.digest.clone(),
        channel: channel.to_string(),
        office: office.to_string(),
        registered_at,
        deadline,
        calendar_version: version.to_string(),
        data: data.clone(),
        route: route.clone(),
    });
    plan.data = Some(data);
    plan.advance(start)?;
    Ok(plan.events)
}

/// Decides a command on an existing case.
pub fn decide(
    state: &CaseState,
    command: &Command,
    ctx: Ctx<'_>,
) -> Result<Vec<Event>, CommandError> {
    if !state.is_open() {
        return Err(CommandError::CaseClosed);
    }
    let mut plan = Plan::new(
        &state.process,
        Some(state),
        &state.channel,
        ctx,
        ctx.now,
        state.calendar_version.clone(),
    );
    match command {
        Command::Start { case, .. } => return Err(CommandError::CaseExists(case.clone())),
        Command::Claim { task } => {
            let t = open_task(state, *task)?;
            check_role(t, ctx.actor)?;
            match (&t.claimed_by, &t.assigned_to) {
                (Some(by), _) if **by == *ctx.actor.user => {} // a second click: no second effect
                // A deputy takes over a task their principal had claimed.
                (Some(by), _) if ctx.actor.stands_for(by) => plan.emit(EventKind::TaskClaimed {
                    task: t.id,
                    user: ctx.actor.user.clone(),
                }),
                (Some(by), _) => {
                    return Err(CommandError::ClaimedByOther {
                        task: t.id,
                        by: by.clone(),
                    });
                }
                (None, Some(to)) if !ctx.actor.stands_for(to) => {
                    return Err(CommandError::AssignedToOther {
                        task: t.id,
                        to: to.clone(),
                    });
                }
                (None, _) => plan.emit(EventKind::TaskClaimed {
                    task: t.id,
                    user: ctx.actor.user.clone(),
                }),
            }
        }
        Command::Release { task } => {
            let t = open_task(state, *task)?;
            match &t.claimed_by {
                None => return Err(CommandError::NotClaimed { task: t.id }),
                Some(by) if !ctx.actor.stands_for(by) && !may_reassign(ctx.actor) => {
                    return Err(CommandError::ClaimedByOther {
                        task: t.id,
                        by: by.clone(),
                    });
                }
                Some(_) => plan.emit(EventKind::TaskReleased { task: t.id }),
            }
        }
        Command::Reassign { task, user } => {
            if !may_reassign(ctx.actor) {
                return Err(CommandError::NotAllowedToReassign(ctx.actor.role.clone()));
            }
            let t = open_task(state, *task)?;
            plan.emit(EventKind::TaskReassigned {
                task: t.id,
                user: user.as_deref().map(Arc::from),
                role: t.role.clone(),
            });
        }
        Command::Complete {
            task,
            outcome,
            data,
            reason,
        } => {
            let t = open_task(state, *task)?;
            plan.complete(t, outcome.as_deref(), data, reason.as_deref())?;
        }
        Command::SystemResult {
            step,
            outcome,
            data,
            reason,
        } => {
            let t = state
                .open_tasks()
                .find(|t| &*t.step_id == step.as_str())
                .ok_or_else(|| CommandError::NoTaskAtStep(step.clone()))?;
            plan.complete(t, outcome.as_deref(), data, reason.as_deref())?;
        }
        Command::DocumentsMissing { note } => {
            if state.documents_missing {
                return Err(CommandError::AlreadyMissing);
            }
            check_case_role(state, ctx.actor)?;
            let ch = state.process.channel(&state.channel);
            let deadline = match ch.and_then(|c| c.extended_term.as_ref().map(|t| (t, &c.counting)))
            {
                Some((term, counting)) => {
                    let mut d = self::deadline(
                        ctx.clock,
                        state.started_at,
                        term.duration,
                        counting,
                        &state.calendar_version,
                    )?;
                    // The term already stood still while suspensions stopped it: the extended
                    // one too (as `reschedule` counts it).
                    let mut stopped = 0u64;
                    for (a, b) in &state.term_stopped {
                        stopped += ctx.clock.elapsed_seconds(*a, *b)?.max(0) as u64;
                    }
                    d.due = ctx.clock.add_working_seconds(d.due, stopped)?;
                    Some(d)
                }
                None => None,
            };
            plan.emit(EventKind::DocumentsMissing {
                deadline,
                note: note.clone(),
            });
        }
        Command::Withdraw { reason } => {
            check_case_role(state, ctx.actor)?;
            plan.end(CaseResult::Withdrawn, None, Some(reason.clone()));
        }
        Command::RetryIncident {
            incident,
            reason,
            data,
        } => {
            if &*ctx.actor.role != "administrator" {
                return Err(CommandError::NotAllowedToRetry(ctx.actor.role.clone()));
            }
            let found = state
                .incidents
                .iter()
                .find(|i| i.id == *incident)
                .ok_or(CommandError::NoSuchIncident(*incident))?;
            if found.resolved_at.is_some() {
                return Err(CommandError::IncidentResolved(*incident));
            }
            if reason.trim().is_empty() {
                return Err(CommandError::ReasonRequired {
                    outcome: "retry".to_string(),
                });
            }
            let step = state
                .process
                .step_index(&found.step)
                .ok_or_else(|| CommandError::Runaway(found.step.to_string()))?;
            if let Some(fix) = data {
                let Value::Object(fix) = fix else {
                    return Err(CommandError::CorrectionNotAnObject);
                };
                let mut merged = state.data.clone();
                super::state::correct(&mut merged, fix);
                if let Some(form) = state.process.application_form() {
                    check_form(form, &merged)?;
                }
                plan.data = Some(merged);
            }
            plan.emit(EventKind::IncidentResolved {
                incident: *incident,
                reason: reason.clone(),
                data: data.clone(),
            });
            plan.incidents = false;
            plan.advance(step)?;
        }
        Command::Suspend {
            task,
            reason,
            comment,
        } => {
            let t = open_task(state, *task)?;
            check_holder_or_head(t, ctx.actor)?;
            if t.suspended.is_some() {
                return Err(CommandError::AlreadySuspended(t.id));
            }
            let allowed: &[reglament_model::model::Suspension] = match state.step_of(t) {
                Step::Task(s) => &s.suspensions,
                _ => &[],
            };
            let Some(s) = allowed.iter().find(|s| s.reason == *reason) else {
                return Err(CommandError::SuspensionNotAllowed {
                    step: t.step_id.to_string(),
                    reason: reason.clone(),
                    allowed: allowed.iter().map(|s| s.reason.clone()).collect(),
                });
            };
            plan.emit(EventKind::TaskSuspended {
                task: t.id,
                reason: s.reason.clone(),
                comment: comment.clone().filter(|c| !c.trim().is_empty()),
                stops_case_term: s.stops_case_term,
            });
        }
        Command::Resume { task, comment } => {
            let t = open_task(state, *task)?;
            check_holder_or_head(t, ctx.actor)?;
            let Some(s) = &t.suspended else {
                return Err(CommandError::NotSuspended(t.id));
            };
            // A task at another office stood still on that office's hours.
            let other = match ctx.offices {
                Some(c) if t.office != state.office => c.clock(&t.office, None).ok(),
                _ => None,
            };
            let task_clock = other.as_ref().unwrap_or(ctx.clock);
            let (seconds, moved) = resumption(state, t, s, task_clock, ctx.clock, ctx.now)?;
            plan.emit(EventKind::TaskResumed {
                task: t.id,
                comment: comment.clone().filter(|c| !c.trim().is_empty()),
                suspended_seconds: seconds,
                moved,
            });
        }
        Command::Intervene {
            action,
            reason,
            legal_basis,
            approved_by,
        } => intervene(
            &mut plan,
            state,
            ctx,
            action,
            reason,
            legal_basis,
            approved_by,
        )?,
        Command::Cancel { reason } => {
            if &*ctx.actor.role != "administrator" {
                return Err(CommandError::NotAllowedToCancel(ctx.actor.role.clone()));
            }
            plan.cancel_open_tasks();
            plan.emit(EventKind::CaseCancelled {
                reason: reason.clone(),
            });
        }
    }
    Ok(plan.events)
}

/// What time alone does to a case at `now`: breaches, escalations, dispatches leaving.
/// The events are the engine's own (actor [`Actor::engine`]).
pub fn tick(
    state: &CaseState,
    now: DateTime<Utc>,
    clock: &OfficeClock,
) -> Result<Vec<Event>, CommandError> {
    tick_at(state, now, clock, None)
}

/// [`tick`], with the clocks of the other offices on the case's route.
pub fn tick_at(
    state: &CaseState,
    now: DateTime<Utc>,
    clock: &OfficeClock,
    offices: Option<&dyn super::engine::Clocks>,
) -> Result<Vec<Event>, CommandError> {
    if !state.is_open() {
        return Ok(Vec::new());
    }
    let engine = Actor::engine();
    let ctx = Ctx {
        now,
        actor: &engine,
        clock,
        offices,
    };
    let mut plan = Plan::new(
        &state.process,
        Some(state),
        &state.channel,
        ctx,
        now,
        state.calendar_version.clone(),
    );
    if !state.breached
        && !state.term_stopped_now()
        && let Some(d) = &state.deadline
        && d.due <= now
    {
        plan.emit(EventKind::DeadlineBreached {
            target: DeadlineTarget::Case,
            due: d.due,
            escalate_at: Vec::new(),
        });
    }
    for t in state.open_tasks() {
        if t.suspended.is_some() {
            // Its time is stopped: no warning, breach or escalation until it resumes.
            continue;
        }
        if !t.breached
            && let Some(d) = &t.deadline
        {
            for w in t.warn_at.iter().skip(t.warned as usize) {
                if w.at > now {
                    break;
                }
                plan.emit(EventKind::DeadlineWarned {
                    task: t.id,
                    percent: w.percent,
                    due: d.due,
                });
            }
        }
        let mut escalate_at = t.escalate_at.clone();
        let mut done = t.escalated as usize;
        if !t.breached
            && let Some(d) = &t.deadline
            && d.due <= now
        {
            escalate_at = escalation_times(state, t, d.due, clock)?;
            done = 0;
            plan.emit(EventKind::DeadlineBreached {
                target: DeadlineTarget::Task(t.id),
                due: d.due,
                escalate_at: escalate_at.clone(),
            });
        }
        let escalations = escalations_of(state.step_of(t));
        while let (Some(at), Some(esc)) = (escalate_at.get(done), escalations.get(done)) {
            if *at > now {
                break;
            }
            let role: Arc<str> = Arc::from(esc.role.as_str());
            if esc.action == EscalationAction::Reassign {
                plan.emit(EventKind::TaskReassigned {
                    task: t.id,
                    user: None,
                    role: role.clone(),
                });
            }
            plan.emit(EventKind::EscalationNotified { task: t.id, role });
            done += 1;
        }
    }
    let mut due_dispatches: Vec<(u32, DateTime<Utc>)> = state
        .dispatches
        .iter()
        .filter(|(_, at)| *at <= now)
        .copied()
        .collect();
    due_dispatches.sort_by_key(|(s, at)| (*at, *s));
    for (step, _) in due_dispatches {
        let step = step as usize;
        plan.emit(EventKind::DispatchReleased {
            step: plan.step_name(step),
        });
        if let Some(next) = state.process.follow(step, None) {
            plan.advance(next)?;
        }
        if plan.ended {
            break;
        }
    }
    Ok(plan.events)
}

fn escalations_of(step: &Step) -> &[reglament_model::model::Escalation] {
    match step {
        Step::Task(t) => &t.escalation,
        Step::System(s) => &s.escalation,
        _ => &[],
    }
}

fn escalation_times(
    state: &CaseState,
    task: &Task,
    due: DateTime<Utc>,
    clock: &OfficeClock,
) -> Result<Vec<DateTime<Utc>>, CommandError> {
    escalations_of(state.step_of(task))
        .iter()
        .map(|e| match e.after {
            None => Ok(due),
            Some(after) => Ok(clock.due(due, after, &Counting::default())?.at),
        })
        .collect()
}

fn deadline(
    clock: &OfficeClock,
    from: DateTime<Utc>,
    term: Term,
    counting: &Counting,
    version: &Arc<str>,
) -> Result<Deadline, CommandError> {
    // The clock is the case's pinned one, so its version is the case's: share the Arc rather
    // than allocating a copy per deadline.
    let calendar_version = if clock.version() == &**version {
        version.clone()
    } else {
        Arc::from(clock.version())
    };
    Ok(Deadline {
        due: clock.due_at(from, term, counting)?,
        term,
        calendar_version,
    })
}

/// The warning thresholds of a task: the regulation's, or where it sets none, its office's.
fn thresholds<'a>(p: &'a Process, clock: &'a OfficeClock) -> &'a [u8] {
    if p.regulation.warnings.is_empty() {
        clock.warnings()
    } else {
        &p.regulation.warnings
    }
}

/// The instants at which `percents` of the working time from `from` to `due` have passed, in
/// increasing order, each once (a share that falls on the due instant itself, as it may for a
/// task with almost no working time, is left out: the breach says it then).
pub fn warning_instants(
    clock: &OfficeClock,
    from: DateTime<Utc>,
    due: DateTime<Utc>,
    percents: &[u8],
) -> Result<Vec<Warning>, CommandError> {
    let total = clock.elapsed_seconds(from, due)?.max(0) as u64;
    let mut sorted: Vec<u8> = percents.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Vec::with_capacity(sorted.len());
    for percent in sorted {
        let minutes = total * u64::from(percent) / 100 / 60;
        let at = clock.add_working_minutes(from, minutes)?;
        if at < due {
            out.push(Warning { percent, at });
        }
    }
    Ok(out)
}

/// An administrator's change by hand: the `intervened` event first (what, why, on what
/// basis, approved by whom), then its effect as the engine's ordinary events.
fn intervene(
    plan: &mut Plan<'_>,
    state: &CaseState,
    ctx: Ctx<'_>,
    action: &Intervention,
    reason: &str,
    legal_basis: &str,
    approved_by: &Option<String>,
) -> Result<(), CommandError> {
    if &*ctx.actor.role != "administrator" {
        return Err(CommandError::NotAllowedToIntervene(ctx.actor.role.clone()));
    }
    if reason.trim().is_empty() || legal_basis.trim().is_empty() {
        return Err(CommandError::InterventionRefused(
            "a change by hand needs a written reason and its legal basis".into(),
        ));
    }
    let refuse = |why: &str| Err(CommandError::InterventionRefused(why.to_string()));
    let mut moved = Vec::new();
    match action {
        Intervention::MoveTo { step } => {
            let Some(s) = state.process.step_index(step) else {
                return refuse(&format!("the regulation has no step `{step}`"));
            };
            if !matches!(state.process.step(s), reglament_model::model::Step::Task(_)) {
                return refuse(&format!(
                    "`{step}` is not a task: a case is moved to a task"
                ));
            }
            if !state.joins.is_empty() || state.open_tasks().count() > 1 {
                return refuse(
                    "the case is on several paths at once: cancel the tasks that no longer apply one by one",
                );
            }
        }
        Intervention::CancelTask { task } => {
            let t = open_task(state, *task)?;
            // Its path goes on past it, as if the step had been done: a step that chooses
            // between ways on has no such path, and the case is moved instead.
            if state.process.follow(t.step as usize, None).is_none() {
                return refuse(
                    "this step chooses where the case goes: move the case to a step instead",
                );
            }
        }
        Intervention::ChangeDue { target, due } => {
            let from = match target {
                DeadlineTarget::Case => state.deadline.as_ref().map(|d| d.due),
                DeadlineTarget::Task(t) => open_task(state, *t)?.deadline.as_ref().map(|d| d.due),
            };
            let Some(from) = from else {
                return refuse("there is no due instant to change");
            };
            if *due <= ctx.now {
                return refuse("the new due instant has passed already");
            }
            if *due == from {
                return refuse("the due instant is that already");
            }
            moved.push(Moved {
                target: *target,
                from,
                to: *due,
                warnings: Vec::new(),
            });
        }
    }
    plan.emit(EventKind::Intervened {
        action: action.clone(),
        reason: reason.trim().to_string(),
        legal_basis: legal_basis.trim().to_string(),
        approved_by: approved_by.as_deref().map(Arc::from),
        moved,
    });
    match action {
        Intervention::MoveTo { step } => {
            plan.cancel_open_tasks();
            let s = state.process.step_index(step).unwrap_or_default();
            plan.advance(s)?;
        }
        Intervention::CancelTask { task } => {
            plan.emit(EventKind::TaskCancelled { task: *task });
            plan.closed.push(*task);
            let step = state
                .task(*task)
                .map(|t| t.step as usize)
                .unwrap_or_default();
            if let Some(next) = state.process.follow(step, None) {
                plan.advance(next)?;
            }
        }
        Intervention::ChangeDue { .. } => {}
    }
    Ok(())
}

fn open_task(state: &CaseState, id: TaskId) -> Result<&Task, CommandError> {
    let t = state.task(id).ok_or(CommandError::NoSuchTask(id))?;
    if t.status != TaskStatus::Open {
        return Err(CommandError::TaskNotOpen {
            task: id,
            status: t.status.as_str(),
        });
    }
    Ok(t)
}

fn check_role(t: &Task, actor: &Actor) -> Result<(), CommandError> {
    if t.role != actor.role {
        return Err(CommandError::WrongRole {
            task: t.id,
            required: t.role.clone(),
            actual: actor.role.clone(),
        });
    }
    Ok(())
}

fn may_reassign(actor: &Actor) -> bool {
    REASSIGNING_ROLES.contains(&&*actor.role)
}

/// Suspending and resuming: the user holding the task, or a head (an administrator).
fn check_holder_or_head(t: &Task, actor: &Actor) -> Result<(), CommandError> {
    let holder = t
        .claimed_by
        .as_deref()
        .is_some_and(|by| actor.stands_for(by))
        && t.role == actor.role;
    if holder || may_reassign(actor) {
        Ok(())
    } else {
        Err(CommandError::NotAllowedToSuspend(actor.role.clone()))
    }
}

/// What resuming `t` at `now` moves: the working seconds it was suspended, its due instant
/// and warnings still to come by exactly that, and the case's due instant by the working time
/// its term was stopped, when this was the last suspension stopping it.
fn resumption(
    state: &CaseState,
    t: &Task,
    s: &super::state::Suspended,
    clock: &OfficeClock,
    case_clock: &OfficeClock,
    now: DateTime<Utc>,
) -> Result<(u64, Vec<Moved>), CommandError> {
    let seconds = clock.elapsed_seconds(s.since, now)?.max(0) as u64;
    let mut moved = Vec::new();
    if !t.breached
        && let Some(d) = &t.deadline
    {
        let to = clock.add_working_seconds(d.due, seconds)?;
        let warnings = t
            .warn_at
            .iter()
            .skip(t.warned as usize)
            .map(|w| {
                Ok(Warning {
                    percent: w.percent,
                    at: clock.add_working_seconds(w.at, seconds)?,
                })
            })
            .collect::<Result<Vec<_>, CommandError>>()?;
        if to != d.due || !warnings.is_empty() {
            moved.push(Moved {
                target: DeadlineTarget::Task(t.id),
                from: d.due,
                to,
                warnings,
            });
        }
    }
    if s.stops_case_term
        && state.term_stops == 1
        && !state.breached
        && let (Some(d), Some(since)) = (&state.deadline, state.term_stopped_since)
    {
        let stopped = case_clock.elapsed_seconds(since, now)?.max(0) as u64;
        let to = case_clock.add_working_seconds(d.due, stopped)?;
        if to != d.due {
            moved.push(Moved {
                target: DeadlineTarget::Case,
                from: d.due,
                to,
                warnings: Vec::new(),
            });
        }
    }
    Ok((seconds, moved))
}

/// Recomputes the case's due instants that are still running on `clock`, a newer calendar
/// than the one they were computed on (`old`, when it is at hand, names the days that
/// changed): the event that moves those that differ, or `None` when none does. The
/// recomputation is a fresh one, as if the case had counted on `clock` from the start: each
/// term from its start on `clock`, plus the working time of its ended suspensions measured
/// on `clock`. Breached deadlines stay as they were: a breach is history.
pub fn reschedule(
    state: &CaseState,
    clock: &OfficeClock,
    old: Option<&OfficeClock>,
) -> Result<Option<EventKind>, CommandError> {
    reschedule_at(state, clock, None, old)
}

/// [`reschedule`], with the clocks of the other offices on the case's route: a task at
/// another office is recomputed on that office's loaded calendar.
pub fn reschedule_at(
    state: &CaseState,
    clock: &OfficeClock,
    offices: Option<&dyn super::engine::Clocks>,
    old: Option<&OfficeClock>,
) -> Result<Option<EventKind>, CommandError> {
    if !state.is_open() {
        return Ok(None);
    }
    let stopped = |clock: &OfficeClock,
                   spans: &[(DateTime<Utc>, DateTime<Utc>)]|
     -> Result<u64, CommandError> {
        let mut total = 0u64;
        for (a, b) in spans {
            total += clock.elapsed_seconds(*a, *b)?.max(0) as u64;
        }
        Ok(total)
    };
    let mut moved = Vec::new();
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    if !state.breached
        && let Some(d) = &state.deadline
    {
        let counting = state
            .process
            .channel(&state.channel)
            .map(|c| c.counting.clone())
            .unwrap_or_default();
        let base = clock.due_at(state.started_at, d.term, &counting)?;
        let to = clock.add_working_seconds(base, stopped(clock, &state.term_stopped)?)?;
        if to != d.due {
            spans.push((state.started_at, to.max(d.due)));
            moved.push(Moved {
                target: DeadlineTarget::Case,
                from: d.due,
                to,
                warnings: Vec::new(),
            });
        }
    }
    let percents = thresholds(&state.process, clock);
    for t in state.open_tasks() {
        if t.breached {
            continue;
        }
        let Some(d) = &t.deadline else { continue };
        let other = match offices {
            Some(c) if t.office != state.office => c.clock(&t.office, None).ok(),
            _ => None,
        };
        let clock = other.as_ref().unwrap_or(clock);
        // From when its term counts: its opening, or a migration that restarted it.
        let base = clock.due_at(t.term_from, d.term, &Counting::default())?;
        let shift = stopped(clock, &t.suspensions)?;
        let to = clock.add_working_seconds(base, shift)?;
        let last_given = t
            .warn_at
            .get(..t.warned as usize)
            .and_then(|w| w.last())
            .map_or(0, |w| w.percent);
        let warnings = if percents.is_empty() {
            Vec::new()
        } else {
            warning_instants(clock, t.term_from, base, percents)?
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
        let pending = t.warn_at.get(t.warned as usize..).unwrap_or_default();
        if to != d.due || warnings != pending {
            spans.push((t.term_from, to.max(d.due)));
            moved.push(Moved {
                target: DeadlineTarget::Task(t.id),
                from: d.due,
                to,
                warnings,
            });
        }
    }
    if moved.is_empty() {
        return Ok(None);
    }
    let days = match old {
        Some(old) => changed_days(old, clock, &spans),
        None => Vec::new(),
    };
    Ok(Some(EventKind::DeadlinesRescheduled {
        from_version: state.calendar_version.to_string(),
        to_version: clock.version().to_string(),
        days,
        moved,
    }))
}

/// The days within `spans` whose working time differs between two calendars (at most a
/// year of days is looked at: a term is never longer).
fn changed_days(
    old: &OfficeClock,
    new: &OfficeClock,
    spans: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<chrono::NaiveDate> {
    let Some(first) = spans.iter().map(|s| s.0).min() else {
        return Vec::new();
    };
    let last = spans.iter().map(|s| s.1).max().unwrap_or(first);
    let mut day = new.to_local(first).date_naive();
    let end = new.to_local(last).date_naive();
    let mut out = Vec::new();
    for _ in 0..=366 {
        if day > end {
            break;
        }
        // The reason's wording or the act may change without moving any time.
        let same = match (old.open_hours(day), new.open_hours(day)) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            out.push(day);
        }
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    out
}

/// Case-wide commands (documents missing, withdrawal) come from the case's staff.
fn check_case_role(state: &CaseState, actor: &Actor) -> Result<(), CommandError> {
    let staff = state
        .process
        .regulation
        .roles
        .iter()
        .any(|r| r.id == *actor.role && r.kind == reglament_model::model::RoleKind::Person);
    if staff || &*actor.role == "administrator" {
        Ok(())
    } else {
        Err(CommandError::WrongRole {
            task: TaskId(0),
            required: Arc::from("a role of this regulation"),
            actual: actor.role.clone(),
        })
    }
}

fn check_form(form: &jsonschema::Validator, data: &Value) -> Result<(), CommandError> {
    let errors: Vec<FieldError> = form
        .iter_errors(data)
        .map(|e| {
            let (rule, pointer) =
                FieldRule::from_validation(e.kind(), &e.instance_path().to_string());
            FieldError {
                pointer,
                message: e.to_string(),
                rule,
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommandError::InvalidData { errors })
    }
}

/// The events of one command being worked out, with what they change in the case so far.
struct Plan<'a> {
    p: &'a Process,
    state: Option<&'a CaseState>,
    channel: &'a str,
    ctx: Ctx<'a>,
    /// When tasks opened by this command start counting their time.
    base: DateTime<Utc>,
    version: Arc<str>,
    /// The applicant's data, for a case being started (else the state's).
    data: Option<Value>,
    events: Vec<Event>,
    next_task: u32,
    /// Outcomes recorded by this command, by step.
    outcomes: Vec<(Arc<str>, Arc<str>)>,
    /// Join arrivals, starting from the state's.
    joins: Vec<(u32, u32)>,
    /// Tasks opened and closed by this command (a handful at most: kept inline).
    opened: SmallVec<[TaskId; 4]>,
    closed: SmallVec<[TaskId; 4]>,
    ended: bool,
    walked: usize,
    /// Whether a fault on the way (see [`CommandError::is_incident`]) parks the path at its
    /// step as an incident instead of refusing the command. Off for a retry, which either
    /// takes the path on or changes nothing.
    incidents: bool,
    /// Incidents opened by this command.
    opened_incidents: u32,
    /// The office where the case was registered, and the one it is at now.
    office: Arc<str>,
    at_office: Arc<str>,
    /// The case's route (the state's, or the one a starting case is given).
    route: Option<&'a BTreeMap<String, String>>,
}

impl<'a> Plan<'a> {
    fn new(
        p: &'a Process,
        state: Option<&'a CaseState>,
        channel: &'a str,
        ctx: Ctx<'a>,
        base: DateTime<Utc>,
        version: Arc<str>,
    ) -> Self {
        Plan {
            p,
            state,
            channel,
            ctx,
            base,
            version,
            data: None,
            events: Vec::with_capacity(4),
            next_task: state.map_or(1, |s| s.tasks.len() as u32 + 1),
            outcomes: Vec::new(),
            joins: state.map(|s| s.joins.clone()).unwrap_or_default(),
            opened: SmallVec::new(),
            closed: SmallVec::new(),
            ended: false,
            walked: 0,
            incidents: true,
            opened_incidents: 0,
            office: state.map_or_else(|| Arc::from(""), |s| s.office.clone()),
            at_office: state.map_or_else(|| Arc::from(""), |s| s.at_office.clone()),
            route: state.map(|s| &s.route),
        }
    }

    /// The office a task at step `s` opens in: the office of its role's kind on the case's
    /// route, or where the case was registered.
    fn place(&self, s: usize) -> Arc<str> {
        let routed = self.route.filter(|r| !r.is_empty()).and_then(|route| {
            let role = self.p.step_role(s)?;
            let kind = self
                .p
                .regulation
                .roles
                .iter()
                .find(|r| *r.id == **role)?
                .office?;
            route.get(kind.as_str())
        });
        match routed {
            Some(o) if **o != *self.office => Arc::from(o.as_str()),
            _ => self.office.clone(),
        }
    }

    fn emit(&mut self, kind: EventKind) {
        self.events.push(Event {
            at: self.ctx.now,
            actor: self.ctx.actor.clone(),
            kind,
        });
    }

    fn step_name(&self, step: usize) -> Arc<str> {
        self.p.step_id(step).clone()
    }

    fn complete(
        &mut self,
        t: &Task,
        outcome: Option<&str>,
        data: &Value,
        reason: Option<&str>,
    ) -> Result<(), CommandError> {
        check_role(t, self.ctx.actor)?;
        if t.suspended.is_some() {
            return Err(CommandError::TaskSuspended(t.id));
        }
        match (&t.claimed_by, &t.assigned_to) {
            (Some(by), _) if !self.ctx.actor.stands_for(by) => {
                return Err(CommandError::ClaimedByOther {
                    task: t.id,
                    by: by.clone(),
                });
            }
            (None, Some(to)) if !self.ctx.actor.stands_for(to) => {
                return Err(CommandError::AssignedToOther {
                    task: t.id,
                    to: to.clone(),
                });
            }
            _ => {}
        }
        let step_ix = t.step as usize;
        let step = self.p.step(step_ix);
        let outcomes = match step {
            Step::Task(s) => &s.outcomes,
            Step::System(s) => &s.outcomes,
            _ => return Err(CommandError::Runaway(step.id().to_string())),
        };
        let allowed = || outcomes.iter().map(|o| o.id.clone()).collect::<Vec<_>>();
        let chosen = match (outcomes.is_empty(), outcome) {
            (true, None) => None,
            (true, Some(_)) => {
                return Err(CommandError::NoOutcomeExpected {
                    step: step.id().to_string(),
                });
            }
            (false, None) => {
                return Err(CommandError::OutcomeRequired {
                    step: step.id().to_string(),
                    allowed: allowed(),
                });
            }
            (false, Some(o)) => Some(outcomes.iter().find(|x| x.id == o).ok_or_else(|| {
                CommandError::UnknownOutcome {
                    step: step.id().to_string(),
                    outcome: o.to_string(),
                    allowed: allowed(),
                }
            })?),
        };
        if let Some(o) = chosen
            && o.requires_reason
            && reason.is_none_or(|r| r.trim().is_empty())
        {
            return Err(CommandError::ReasonRequired {
                outcome: o.id.clone(),
            });
        }
        if let Some(form) = self.p.form(step_ix) {
            check_form(form, data)?;
        }
        if t.claimed_by.is_none() {
            self.emit(EventKind::TaskClaimed {
                task: t.id,
                user: self.ctx.actor.user.clone(),
            });
        }
        let outcome: Option<Arc<str>> = chosen.map(|o| Arc::from(o.id.as_str()));
        self.emit(EventKind::TaskCompleted {
            task: t.id,
            outcome: outcome.clone(),
            data: data.clone(),
            reason: reason.map(str::to_string),
        });
        self.closed.push(t.id);
        if let Some(o) = &outcome {
            self.outcomes.push((t.step_id.clone(), o.clone()));
        }
        let next = self
            .p
            .follow(step_ix, chosen.map(|o| o.id.as_str()))
            .ok_or_else(|| CommandError::Runaway(step.id().to_string()))?;
        self.advance(next)
    }

    /// Moves a path to `target` and on through automatic steps until it waits.
    fn advance(&mut self, target: usize) -> Result<(), CommandError> {
        let mut work: SmallVec<[usize; 4]> = smallvec::smallvec![target];
        while let Some(s) = work.pop() {
            if self.ended {
                return Ok(());
            }
            self.walked += 1;
            if self.walked > MAX_AUTOMATIC_STEPS {
                return Err(CommandError::Runaway(self.p.step(s).id().to_string()));
            }
            match self.visit(s, &mut work) {
                Ok(()) => {}
                // The step emits nothing before it fails, so the path stops cleanly there;
                // the other paths of a split go on.
                Err(e) if self.incidents && e.is_incident() => self.incident(s, &e),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Parks the path at step `s`: the case waits there for a retry.
    fn incident(&mut self, s: usize, error: &CommandError) {
        self.opened_incidents += 1;
        let before = self.state.map_or(0, |st| st.incidents.len() as u32);
        self.emit(EventKind::IncidentOpened {
            incident: before + self.opened_incidents,
            step: self.step_name(s),
            cause: error.kind().to_string(),
            message: error.to_string(),
        });
    }

    /// One step of [`Plan::advance`]: what it emits, and where the path goes from it.
    fn visit(&mut self, s: usize, work: &mut SmallVec<[usize; 4]>) -> Result<(), CommandError> {
        match self.p.step(s) {
            Step::Task(_) | Step::System(_) => self.open(s)?,
            Step::Exclusive(_) => {
                let (branch, next) = self.choose(s)?;
                self.emit(EventKind::BranchTaken {
                    step: self.step_name(s),
                    branch,
                    next: self.step_name(next),
                });
                work.push(next);
            }
            Step::Parallel(_) => {
                self.emit(EventKind::Split {
                    step: self.step_name(s),
                });
                // Paths are taken in declaration order: the work list pops from the back.
                work.extend(self.p.ways_on(s).iter().rev().map(|(_, t)| *t));
            }
            Step::Join(_) => {
                let expected = self.p.join_arity(s) as u32;
                let key = s as u32;
                let arrived = self
                    .joins
                    .iter()
                    .find(|(j, _)| *j == key)
                    .map_or(0, |(_, n)| *n)
                    + 1;
                self.joins.retain(|(j, _)| *j != key);
                self.emit(EventKind::JoinArrived {
                    step: self.step_name(s),
                    arrived,
                    expected,
                });
                if arrived >= expected {
                    if let Some(next) = self.p.follow(s, None) {
                        work.push(next);
                    }
                } else {
                    self.joins.push((key, arrived));
                }
            }
            Step::Dispatch(d) => {
                let release_at = self.next_slot(&d.at)?;
                self.emit(EventKind::DispatchQueued {
                    step: self.step_name(s),
                    release_at,
                });
            }
            Step::End(e) => self.end(e.result, Some(s), None),
        }
        Ok(())
    }

    fn open(&mut self, s: usize) -> Result<(), CommandError> {
        let role: Arc<str> = self
            .p
            .step_role(s)
            .cloned()
            .unwrap_or_else(|| Arc::from(""));
        let office = self.place(s);
        let elsewhere = office != self.office;
        // A task at another office counts on that office's hours.
        let other = match (elsewhere, self.ctx.offices) {
            (true, Some(clocks)) => clocks.clock(&office, None).ok(),
            _ => None,
        };
        let clock = other.as_ref().unwrap_or(self.ctx.clock);
        let deadline = match self.p.duration(s, self.channel) {
            Some(term) => Some(deadline(
                clock,
                self.base,
                term,
                &Counting::default(),
                &self.version,
            )?),
            None => None,
        };
        let percents = thresholds(self.p, clock);
        let warnings = match &deadline {
            Some(d) if !percents.is_empty() => warning_instants(clock, self.base, d.due, percents)?,
            _ => Vec::new(),
        };
        if office != self.at_office {
            let from = std::mem::replace(&mut self.at_office, office.clone());
            self.emit(EventKind::CaseHandedOver {
                from,
                to: office.clone(),
                step: self.step_name(s),
            });
        }
        // Numbered only once nothing can fail: a path parked at an incident here must not
        // leave a gap in the task numbers.
        let task = TaskId(self.next_task);
        self.next_task += 1;
        self.opened.push(task);
        self.emit(EventKind::TaskOpened {
            task,
            step: self.step_name(s),
            role,
            deadline,
            office: elsewhere.then_some(office),
        });
        if !warnings.is_empty() {
            self.emit(EventKind::WarningsScheduled { task, warnings });
        }
        Ok(())
    }

    /// The branch an exclusive choice takes: the first whose condition holds, else the default.
    fn choose(&self, s: usize) -> Result<(Option<u32>, usize), CommandError> {
        let conditions = self.p.conditions(s);
        let outcomes = self.outcome_map();
        let empty = Value::Object(Default::default());
        let data = self
            .data
            .as_ref()
            .or(self.state.map(|st| &st.data))
            .unwrap_or(&empty);
        let facts = Facts {
            channel: self.channel,
            data: Some(data),
            outcomes: Some(&outcomes),
            documents_missing: self.state.is_some_and(|st| st.documents_missing),
        };
        let mut default = None;
        for (edge, target) in self.p.ways_on(s) {
            let target = *target;
            match edge {
                reglament_model::compile::Edge::Branch(i) => {
                    let holds = conditions
                        .get(*i)
                        .map(|c| c.evaluate(&facts))
                        .transpose()
                        .map_err(|error| CommandError::Condition {
                            step: self.p.step(s).id().to_string(),
                            branch: i + 1,
                            error,
                        })?
                        .unwrap_or(false);
                    if holds {
                        return Ok((Some(*i as u32), target));
                    }
                }
                reglament_model::compile::Edge::Default => default = Some(target),
                _ => {}
            }
        }
        default
            .map(|t| (None, t))
            .ok_or_else(|| CommandError::NoBranch {
                step: self.p.step(s).id().to_string(),
            })
    }

    fn outcome_map(&self) -> BTreeMap<String, String> {
        let mut map = self.state.map(CaseState::outcomes).unwrap_or_default();
        for (step, outcome) in &self.outcomes {
            map.insert(step.to_string(), outcome.to_string());
        }
        map
    }

    /// The next scheduled departure at or after `base`, on a working day of the office.
    fn next_slot(
        &self,
        times: &[reglament_model::model::LocalTime],
    ) -> Result<DateTime<Utc>, CommandError> {
        let clock = self.ctx.clock;
        let zone = clock.zone();
        let mut sorted: Vec<chrono::NaiveTime> = times.iter().map(|t| t.0).collect();
        sorted.sort();
        let first_day = clock.to_local(self.base).date_naive();
        // A year ahead is far more than any gap between working days; beyond it the calendar
        // data runs out and says so.
        for offset in 0..=366u64 {
            let date = first_day
                .checked_add_days(Days::new(offset))
                .ok_or(reglament_calendar::CalendarError::InstantOutOfRange)?;
            if !clock.is_working_day(date)? {
                continue;
            }
            for t in &sorted {
                let Some(at) = zone.from_local_datetime(&date.and_time(*t)).earliest() else {
                    continue;
                };
                let at = at.with_timezone(&Utc);
                if at >= self.base {
                    return Ok(at);
                }
            }
        }
        Err(CommandError::Calendar(
            reglament_calendar::CalendarError::InstantOutOfRange,
        ))
    }

    /// Tasks still open: the state's not closed by this command, and those this command opened.
    fn open_now(&self) -> Vec<TaskId> {
        let mut out: Vec<TaskId> = self
            .state
            .map(|s| s.open_tasks().map(|t| t.id).collect())
            .unwrap_or_default();
        out.extend(self.opened.iter().copied());
        out.retain(|t| !self.closed.contains(t));
        out
    }

    fn cancel_open_tasks(&mut self) {
        for task in self.open_now() {
            self.emit(EventKind::TaskCancelled { task });
            self.closed.push(task);
        }
    }

    fn end(&mut self, result: CaseResult, step: Option<usize>, reason: Option<String>) {
        self.cancel_open_tasks();
        self.emit(EventKind::CaseEnded {
            result,
            step: step.map(|s| self.step_name(s)),
            reason,
        });
        self.ended = true;
    }
}

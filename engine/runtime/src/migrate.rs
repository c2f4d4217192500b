//! Moving a running case onto another version of its regulation, by a migration plan.
//!
//! [`migrate`] is pure, like [`super::decide`]: given the case, the version it moves onto,
//! the plan, the clocks and `now`, it returns the `case_migrated` event that moves it, or
//! why it cannot move. Every due instant after the move is computed here and recorded in
//! the event, so the fold needs no calendar:
//!
//! - `keep`: the due instant stays;
//! - `recompute`: as if the case had run on the new version from the start, computed as
//!   [`super::reschedule`] computes a term afresh (the new step's duration from the task's
//!   start, plus the working time of its ended suspensions);
//! - `restart`: the new step's whole duration from `now`.
//!
//! A breached deadline stays as it was, whatever the policy: a breach is history.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::command::CommandError;
use super::decide::warning_instants;
use super::engine::Clocks;
use super::event::{CaseId, Deadline, EventKind, MigratedTask, Warning};
use super::state::{CaseState, Task};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::migration_plan::{CasePolicy, MigrationPlan, Policy, Waiting, target};
use reglament_model::model::Counting;

/// What a migration is decided with besides the case.
#[derive(Clone, Copy)]
pub struct Migration<'a> {
    pub plan: &'a MigrationPlan,
    /// The plan's digest ([`reglament_model::migration_plan::plan_digest`]).
    pub plan_digest: &'a str,
    /// The version the case moves onto: the plan's `to_version`.
    pub new: &'a Arc<Process>,
    pub now: DateTime<Utc>,
    /// The working-time clock of the case's office.
    pub clock: &'a OfficeClock,
    /// The clocks of other offices, for tasks at another office of the case's route.
    pub offices: Option<&'a dyn Clocks>,
}

/// Why a case cannot move; the case is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MigrateError {
    #[error("case `{0}` is closed")]
    Closed(CaseId),
    #[error("case `{case}` runs on regulation `{regulation}`, not `{plan}`")]
    WrongRegulation {
        case: CaseId,
        regulation: String,
        plan: String,
    },
    #[error("case `{case}` runs on version {version}; the plan moves cases from version {from}")]
    WrongVersion {
        case: CaseId,
        version: u32,
        from: u32,
    },
    #[error(
        "the process given is `{regulation}` version {version}; the plan moves cases to `{plan}` version {to}"
    )]
    WrongTarget {
        regulation: String,
        version: u32,
        plan: String,
        to: u32,
    },
    #[error("case `{case}` has an open incident at step `{step}`; retry it before moving the case")]
    OpenIncident { case: CaseId, step: String },
    #[error("case `{case}` is at step `{step}`, which has no place in version {to}: {why}")]
    Unmapped {
        case: CaseId,
        step: String,
        to: u32,
        why: String,
    },
    #[error("case `{case}` came by channel `{channel}`, which version {to} does not have")]
    NoChannel {
        case: CaseId,
        channel: String,
        to: u32,
    },
    #[error("a due instant of case `{case}` cannot be computed: {source}")]
    Deadline {
        case: CaseId,
        #[source]
        source: CommandError,
    },
}

/// The `case_migrated` event moving `state` as the plan says, or `None` when the case runs on
/// the plan's target version already (so running a plan again changes nothing).
pub fn migrate(state: &CaseState, m: Migration<'_>) -> Result<Option<EventKind>, MigrateError> {
    let plan = m.plan;
    let case = || state.id.clone();
    if m.new.id() != plan.regulation || m.new.version() != plan.to_version {
        return Err(MigrateError::WrongTarget {
            regulation: m.new.id().to_string(),
            version: m.new.version(),
            plan: plan.regulation.clone(),
            to: plan.to_version,
        });
    }
    let old = &state.process;
    if old.id() != plan.regulation {
        return Err(MigrateError::WrongRegulation {
            case: case(),
            regulation: old.id().to_string(),
            plan: plan.regulation.clone(),
        });
    }
    if old.version() == plan.to_version && old.digest == m.new.digest {
        return Ok(None);
    }
    if old.version() != plan.from_version {
        return Err(MigrateError::WrongVersion {
            case: case(),
            version: old.version(),
            from: plan.from_version,
        });
    }
    if !state.is_open() {
        return Err(MigrateError::Closed(case()));
    }
    if let Some(i) = state.open_incidents().next() {
        return Err(MigrateError::OpenIncident {
            case: case(),
            step: i.step.to_string(),
        });
    }
    let new = &m.new.regulation;
    let Some(channel) = m.new.channel(&state.channel) else {
        return Err(MigrateError::NoChannel {
            case: case(),
            channel: state.channel.to_string(),
            to: plan.to_version,
        });
    };
    let unmapped = |step: &str, why: String| MigrateError::Unmapped {
        case: case(),
        step: step.to_string(),
        to: plan.to_version,
        why,
    };
    // Where each step the case has been or waits at goes; a waiting step must go to a step
    // of its kind.
    let mut steps = BTreeMap::new();
    let mut place = |id: &str, waits: Option<Waiting>| -> Result<usize, MigrateError> {
        let to =
            target(plan, new, id).ok_or_else(|| unmapped(id, "the plan does not map it".into()))?;
        let ix = m
            .new
            .step_index(to)
            .ok_or_else(|| unmapped(id, format!("it is mapped to `{to}`, which does not exist")))?;
        if let Some(kind) = waits
            && Waiting::of(m.new.step(ix)) != Some(kind)
        {
            return Err(unmapped(
                id,
                format!("it is mapped to `{to}`, where a case cannot wait the same way"),
            ));
        }
        if to != id {
            steps.insert(id.to_string(), to.to_string());
        }
        Ok(ix)
    };
    for t in &state.tasks {
        let waits = (t.status == super::state::TaskStatus::Open).then_some(Waiting::Task);
        place(&t.step_id, waits)?;
    }
    for (s, _) in &state.joins {
        place(old.step_id(*s as usize), Some(Waiting::Join))?;
    }
    for (s, _) in &state.dispatches {
        place(old.step_id(*s as usize), Some(Waiting::Dispatch))?;
    }
    let failed = |source: CommandError| MigrateError::Deadline {
        case: case(),
        source,
    };
    let mut tasks = Vec::new();
    for t in state.open_tasks() {
        let to_ix = place(&t.step_id, Some(Waiting::Task))?;
        let to_step = m.new.step_id(to_ix).clone();
        // A task a head or an escalation handed to another role stays with that role.
        let old_role = old
            .step_index(&t.step_id)
            .and_then(|i| old.step_role(i).cloned());
        let role = match (old_role, m.new.step_role(to_ix)) {
            (Some(was), Some(now)) if was == t.role => now.clone(),
            _ => t.role.clone(),
        };
        let other = match m.offices {
            Some(c) if t.office != state.office => c.clock(&t.office, None).ok(),
            _ => None,
        };
        let clock = other.as_ref().unwrap_or(m.clock);
        let policy = if t.breached {
            Policy::Keep
        } else {
            plan.deadlines.for_step(&to_step)
        };
        let term = m.new.duration(to_ix, &state.channel);
        let (deadline, warnings) =
            task_deadline(t, policy, term, m.new, clock, m.now).map_err(failed)?;
        tasks.push(MigratedTask {
            task: t.id,
            from_step: t.step_id.clone(),
            to_step,
            role,
            policy,
            due_before: t.deadline.as_ref().map(|d| d.due),
            deadline,
            warnings,
        });
    }
    let case_deadline = match plan.deadlines.case {
        _ if state.breached => state.deadline.clone(),
        CasePolicy::Keep => state.deadline.clone(),
        CasePolicy::Recompute => {
            let term = if state.documents_missing {
                channel.extended_term.as_ref().or(channel.term.as_ref())
            } else {
                channel.term.as_ref()
            };
            match term {
                Some(term) => Some(
                    case_deadline(state, term.duration, &channel.counting, m.clock)
                        .map_err(failed)?,
                ),
                None => None,
            }
        }
    };
    Ok(Some(EventKind::CaseMigrated {
        regulation: plan.regulation.clone(),
        from_version: old.version(),
        from_digest: old.digest.clone(),
        to_version: m.new.version(),
        to_digest: m.new.digest.clone(),
        plan_digest: m.plan_digest.to_string(),
        act: plan.legal_basis.act.clone(),
        paragraph: plan.legal_basis.paragraph.clone(),
        reason: plan.reason.clone(),
        steps,
        tasks,
        case_policy: plan.deadlines.case,
        case_due_before: state.deadline.as_ref().map(|d| d.due),
        case_deadline,
    }))
}

/// The working seconds within `spans` on `clock`.
fn stopped(
    clock: &OfficeClock,
    spans: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Result<u64, CommandError> {
    let mut total = 0u64;
    for (a, b) in spans {
        total += clock.elapsed_seconds(*a, *b)?.max(0) as u64;
    }
    Ok(total)
}

/// The warning thresholds of a task on `process`: its own, or where it sets none, the office's.
fn thresholds<'a>(process: &'a Process, clock: &'a OfficeClock) -> &'a [u8] {
    if process.regulation.warnings.is_empty() {
        clock.warnings()
    } else {
        &process.regulation.warnings
    }
}

/// A task's deadline and pending warnings after the move, under `policy`.
fn task_deadline(
    t: &Task,
    policy: Policy,
    term: Option<reglament_model::Term>,
    new: &Process,
    clock: &OfficeClock,
    now: DateTime<Utc>,
) -> Result<(Option<Deadline>, Vec<Warning>), CommandError> {
    let pending = || {
        t.warn_at
            .get(t.warned as usize..)
            .unwrap_or_default()
            .to_vec()
    };
    let Some(term) = term else {
        // The new step has no time limit: `keep` keeps the old one, the others drop it.
        return Ok(match policy {
            Policy::Keep => (t.deadline.clone(), pending()),
            _ => (None, Vec::new()),
        });
    };
    let percents = thresholds(new, clock);
    let deadline = |due| Deadline {
        due,
        term,
        calendar_version: Arc::from(clock.version()),
    };
    match policy {
        Policy::Keep => Ok((t.deadline.clone(), pending())),
        Policy::Recompute => {
            let base = clock.due_at(t.term_from, term, &Counting::default())?;
            let shift = stopped(clock, &t.suspensions)?;
            let due = clock.add_working_seconds(base, shift)?;
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
            Ok((Some(deadline(due)), warnings))
        }
        Policy::Restart => {
            let due = clock.due_at(now, term, &Counting::default())?;
            let warnings = if percents.is_empty() {
                Vec::new()
            } else {
                warning_instants(clock, now, due, percents)?
            };
            Ok((Some(deadline(due)), warnings))
        }
    }
}

/// The case's statutory deadline on `term`, counted afresh from its start plus the working
/// time its term stood still (as [`super::reschedule`] counts it).
fn case_deadline(
    state: &CaseState,
    term: reglament_model::Term,
    counting: &Counting,
    clock: &OfficeClock,
) -> Result<Deadline, CommandError> {
    let base = clock.due_at(state.started_at, term, counting)?;
    let due = clock.add_working_seconds(base, stopped(clock, &state.term_stopped)?)?;
    Ok(Deadline {
        due,
        term,
        calendar_version: Arc::from(clock.version()),
    })
}

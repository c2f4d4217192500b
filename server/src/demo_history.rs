//! `reglament serve --demo`'s history: months of cases for every demo office, bundled
//! regulation and channel the office can take, run through the engine's [`Service`] with
//! the real calendar and a clock moved forward case by case. Deadlines fire through
//! [`Service::tick`], as the timer fires them, so every event is one the engine decided and
//! every chain verifies.
//!
//! The variation is drawn from a small PRNG seeded by the case id: the same database gets
//! the same history on every machine, and a second start finds its cases and adds none.
//!
//! [`Service`]: reglament_store::Service
//! [`Service::tick`]: reglament_store::Service::tick

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use reglament_model::compile::Process;
use reglament_model::model::Step;
use reglament_model::sample::sample;
use reglament_runtime::{Actor, CaseId, CaseState, Command, Deadline, NewCase, Task};
use reglament_store::ServiceError;
use serde_json::Value;

use crate::demo::{FRONT_OFFICES, OFFICES, login_for};
use crate::state::AppState;

/// How much history `--demo` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistorySize {
    /// Months back from now.
    pub months: u32,
    /// Cases per office, regulation and channel and month.
    pub per_month: u32,
}

impl Default for HistorySize {
    fn default() -> Self {
        HistorySize {
            months: 6,
            per_month: 4,
        }
    }
}

/// What loading the history did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// Cases started (0 on a second start).
    pub cases: usize,
    /// Of them, still open.
    pub open: usize,
    /// Cases that could not be run to their planned end (logged).
    pub failed: usize,
}

/// xorshift64*: enough for plausible variation, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn seeded(s: &str) -> Rng {
        // FNV-1a: a stable seed from the case id.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in s.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }
}

/// Shares of the variation: cases with a task done late, per case; the rest per task.
const LATE: f64 = 0.04;
const OTHER_OUTCOME: f64 = 0.10;
const SUSPEND: f64 = 0.25;
/// The demo offices' local offset (Kazakhstan, UTC+5): cases start in office hours.
const LOCAL_HOURS: i64 = 5;
/// A case stops after so many commands (a case returned again and again stays open).
const MAX_COMMANDS: usize = 40;

/// One case to make: where, on what, when.
struct Plan {
    id: CaseId,
    process: Arc<Process>,
    channel: String,
    office: String,
    start: DateTime<Utc>,
    /// Left open: started recently, some tasks done, no timer ran since.
    open: bool,
}

/// Makes the history that is missing. A (office, regulation, channel) whose first case exists
/// is taken as made.
pub async fn load(state: &AppState, size: HistorySize) -> Result<Loaded, ServiceError> {
    let now = state.now();
    let plans = plans(state, size, now).await?;
    let mut loaded = Loaded::default();
    // Finished cases first, in the order they started; then the open ones, which keep
    // wake-ups the timer takes from now on.
    for plan in plans.iter().filter(|p| !p.open) {
        match run(state, plan, now).await {
            Ok(()) => loaded.cases += 1,
            Err(e) => {
                loaded.failed += 1;
                tracing::warn!(case = %plan.id, error = %e, "demo history: case not finished");
            }
        }
    }
    for plan in plans.iter().filter(|p| p.open) {
        match run(state, plan, now).await {
            Ok(()) => {
                loaded.cases += 1;
                loaded.open += 1;
            }
            Err(e) => {
                loaded.failed += 1;
                tracing::warn!(case = %plan.id, error = %e, "demo history: open case not made");
            }
        }
    }
    Ok(loaded)
}

async fn plans(
    state: &AppState,
    size: HistorySize,
    now: DateTime<Utc>,
) -> Result<Vec<Plan>, ServiceError> {
    let mut regulations: Vec<String> = state
        .store
        .regulations()
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    regulations.dedup();
    let offices: Vec<&str> = OFFICES
        .iter()
        .map(|(o, _)| *o)
        .chain(FRONT_OFFICES.iter().map(|(o, _)| *o))
        .collect();
    let total = size.months * size.per_month;
    let span = Duration::days(30 * i64::from(size.months));
    let mut plans = Vec::new();
    for regulation in &regulations {
        let process = state.store.latest(regulation).await?;
        for channel in &process.regulation.channels {
            for office in &offices {
                if !can_start(state, &process, &channel.id, office) {
                    continue;
                }
                let first = id(office, regulation, &channel.id, 1);
                if state.store.head(&first).await? > 0 {
                    continue;
                }
                for n in 1..=total {
                    let id = id(office, regulation, &channel.id, n);
                    let mut rng = Rng::seeded(id.as_str());
                    // Spread evenly over the months, the last case a few days ago.
                    let open = n == total;
                    let back = if open {
                        Duration::hours(rng.range(20, 96))
                    } else {
                        span * (total - n) as i32 / total as i32
                            + Duration::days(14)
                            + Duration::hours(rng.range(0, 72))
                    };
                    plans.push(Plan {
                        id,
                        process: process.clone(),
                        channel: channel.id.clone(),
                        office: office.to_string(),
                        start: office_hours(now - back, &mut rng).min(now),
                        open,
                    });
                }
            }
        }
    }
    plans.sort_by_key(|p| p.start);
    Ok(plans)
}

fn id(office: &str, regulation: &str, channel: &str, n: u32) -> CaseId {
    CaseId::new(format!("H-{office}-{regulation}-{channel}-{n:03}"))
}

/// Whether the office takes applications on this channel: its demo staff hold the channel's
/// first role and the regulation routes from the office.
fn can_start(state: &AppState, process: &Process, channel: &str, office: &str) -> bool {
    let Some(role) = process
        .channel(channel)
        .and_then(|c| process.step_index(&c.start))
        .and_then(|i| process.step_role(i))
    else {
        return false;
    };
    let role: &str = role;
    let staffed = match FRONT_OFFICES.iter().find(|(o, _)| *o == office) {
        Some((_, roles)) => roles.contains(&role),
        None => crate::demo::STAFF_ROLES.contains(&role) || role == crate::demo::PORTAL_ROLE,
    };
    if !staffed {
        return false;
    }
    crate::routing::route(&state.calendars, process, office, None).is_ok()
}

/// `t` moved to a weekday morning-to-afternoon instant (local time), as applications come.
fn office_hours(t: DateTime<Utc>, rng: &mut Rng) -> DateTime<Utc> {
    let local = t + Duration::hours(LOCAL_HOURS);
    let mut day = local.date_naive();
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().unwrap_or(day);
    }
    let minute = 9 * 60 + rng.range(0, 7 * 60);
    let local = day
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(local)
        + Duration::minutes(minute);
    local - Duration::hours(LOCAL_HOURS)
}

async fn run(state: &AppState, plan: &Plan, now: DateTime<Utc>) -> Result<(), ServiceError> {
    let mut rng = Rng::seeded(&format!("{}#run", plan.id));
    let process = &plan.process;
    let role = process
        .channel(&plan.channel)
        .and_then(|c| process.step_index(&c.start))
        .and_then(|i| process.step_role(i))
        .map(|r| r.to_string())
        .unwrap_or_default();
    let login = login_for(&plan.office, &role).unwrap_or_default();
    let data = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| sample(&f.0))
        .unwrap_or(Value::Object(Default::default()));
    // `can_start` routed it already.
    let Ok(route) = crate::routing::route(&state.calendars, process, &plan.office, None) else {
        return Ok(());
    };
    let new = NewCase {
        case: plan.id.clone(),
        channel: plan.channel.clone(),
        office: plan.office.clone(),
        data,
    };
    state
        .service
        .start_routed(process, new, &route, &Actor::new(login, role), plan.start)
        .await?;
    let mut at = plan.start;
    // An open case stops after a task or two, before now.
    let mut budget = if plan.open {
        rng.range(0, 3) as usize
    } else {
        MAX_COMMANDS
    };
    let mut diverted = false;
    // A late case has one late task, among the first with a deadline.
    let mut late_left = !plan.open && rng.unit() < LATE;
    while budget > 0 {
        budget -= 1;
        let st = state.service.case_state(&plan.id).await?;
        if !st.is_open() {
            break;
        }
        let Some(task) = st.open_tasks().next().cloned() else {
            // Waiting for a dispatch to another office: the timer moves it.
            match st.next_wakeup() {
                Some(w) if !plan.open => {
                    at = at.max(w);
                    state.service.tick(at).await?;
                    continue;
                }
                _ => break,
            }
        };
        let step = st.step_of(&task).clone();
        let Some(login) = login_for(&task.office, &task.role) else {
            break;
        };
        let actor = Actor::new(login, &*task.role);
        let late = late_left && task.deadline.is_some() && rng.unit() < 0.5;
        late_left &= !late;
        if let Step::Task(t) = &step
            && !plan.open
            && !t.suspensions.is_empty()
            && task.suspended.is_none()
            && rng.unit() < SUSPEND
        {
            let reason = t.suspensions[rng.range(0, t.suspensions.len() as i64) as usize]
                .reason
                .clone();
            at = at.max(task.opened_at) + Duration::minutes(rng.range(30, 180));
            command(
                state,
                &st,
                &plan.id,
                &Command::Claim { task: task.id },
                &actor,
                at,
            )
            .await?;
            let suspend = Command::Suspend {
                task: task.id,
                reason,
                comment: None,
            };
            command(state, &st, &plan.id, &suspend, &actor, at).await?;
            at += Duration::hours(rng.range(24, 24 * 6));
            let resume = Command::Resume {
                task: task.id,
                comment: None,
            };
            let st = state.service.case_state(&plan.id).await?;
            command(state, &st, &plan.id, &resume, &actor, at).await?;
            continue;
        }
        at = finish_at(&task, st.deadline.as_ref(), at, late, &mut rng).min(now);
        let outcomes: Vec<(String, bool)> = match &step {
            Step::Task(t) => t
                .outcomes
                .iter()
                .map(|o| (o.id.clone(), o.requires_reason))
                .collect(),
            Step::System(s) => s.outcomes.iter().map(|o| (o.id.clone(), false)).collect(),
            _ => break,
        };
        let pick = if !diverted && outcomes.len() > 1 && rng.unit() < OTHER_OUTCOME {
            diverted = true;
            rng.range(1, outcomes.len() as i64) as usize
        } else {
            0
        };
        let form = match &step {
            Step::Task(t) => t.form.as_ref().map(|f| sample(&f.0)),
            _ => None,
        }
        .unwrap_or(Value::Object(Default::default()));
        let done = |i: usize| {
            let outcome = outcomes.get(i);
            match &step {
                Step::System(s) => Command::SystemResult {
                    step: s.id.clone(),
                    outcome: outcome.map(|o| o.0.clone()),
                    data: form.clone(),
                    reason: None,
                },
                _ => Command::Complete {
                    task: task.id,
                    outcome: outcome.map(|o| o.0.clone()),
                    data: form.clone(),
                    reason: outcome
                        .filter(|o| o.1)
                        .map(|_| "Документы не соответствуют требованиям".to_string()),
                },
            }
        };
        let st = state.service.case_state(&plan.id).await?;
        match command(state, &st, &plan.id, &done(pick), &actor, at).await {
            Ok(()) => {}
            // The sample data may not suit another way out; the usual one then.
            Err(_) if pick != 0 => {
                let st = state.service.case_state(&plan.id).await?;
                command(state, &st, &plan.id, &done(0), &actor, at).await?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Runs `command` at `at`, letting the timer fire first what fell due before it (warnings,
/// breaches), as the running timer would have.
async fn command(
    state: &AppState,
    st: &CaseState,
    case: &CaseId,
    command: &Command,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if st.next_wakeup().is_some_and(|w| w <= at) {
        state.service.tick(at).await?;
    }
    state.service.execute(case, command, actor, at).await?;
    Ok(())
}

/// When a task is done: within its time and the case's (a share of what is left), or a
/// little after its deadline.
fn finish_at(
    task: &Task,
    case: Option<&Deadline>,
    at: DateTime<Utc>,
    late: bool,
    rng: &mut Rng,
) -> DateTime<Utc> {
    let from = at.max(task.opened_at);
    let due = match (&task.deadline, case) {
        (Some(t), Some(c)) if c.due > from => Some(t.due.min(c.due)),
        (Some(t), _) => Some(t.due),
        (None, Some(c)) if c.due > from => Some(c.due),
        (None, _) => None,
    };
    match (&task.deadline, due) {
        (Some(d), _) if late => d.due.max(from) + Duration::hours(rng.range(2, 72)),
        (_, Some(due)) if due > from => {
            let share = 0.08 + 0.5 * rng.unit();
            let span = (due - from).num_seconds() as f64 * share;
            from + Duration::seconds(span as i64)
        }
        _ => from + Duration::minutes(rng.range(20, 4 * 60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn the_generator_is_the_same_everywhere_and_spreads() {
        let mut a = Rng::seeded("H-x-1");
        let mut b = Rng::seeded("H-x-1");
        let xs: Vec<u64> = (0..5).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        let mut r = Rng::seeded("spread");
        let low = (0..10_000).filter(|_| r.unit() < 0.04).count();
        assert!((300..500).contains(&low), "{low}");
    }

    #[test]
    fn cases_start_on_weekdays_in_office_hours() {
        let mut r = Rng::seeded("hours");
        for d in 0..30 {
            let t = DateTime::from_timestamp(1_780_000_000 + d * 86_400, 0).expect("t");
            let s = office_hours(t, &mut r) + Duration::hours(LOCAL_HOURS);
            assert!(!matches!(s.weekday(), Weekday::Sat | Weekday::Sun), "{s}");
            assert!((9..16).contains(&s.hour()), "{s}");
        }
    }
}

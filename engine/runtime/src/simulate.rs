//! Running one case in memory with simulated time: the analyst's way to see what a regulation
//! means in real dates, and the driver the tests use to walk every path of every regulation.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::command::Command;
use super::engine::{Engine, EngineError, NewCase};
use super::event::{Actor, CaseId, Event};
use super::state::{CaseState, CaseStatus};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::model::Step;
use reglament_model::sample::sample;

/// How fast simulated people work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pace {
    /// Each task takes all the time its step allows: the latest lawful dates.
    #[default]
    Due,
    /// Each task is done the moment it opens.
    Instant,
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub channel: String,
    pub office: String,
    pub start: DateTime<Utc>,
    /// The outcome to choose at each step (the first declared outcome otherwise).
    pub decisions: BTreeMap<String, String>,
    /// The applicant's data (a sample made from the application form otherwise).
    pub data: Option<Value>,
    /// Report documents missing right after registration.
    pub documents_missing: bool,
    pub pace: Pace,
}

/// The whole history of the simulated case.
pub struct Simulation {
    pub events: Vec<Event>,
    pub state: CaseState,
}

/// Why a simulation stopped short.
#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the case is stuck: no open task and nothing scheduled")]
    Stuck,
    #[error("the case did not end within {0} steps")]
    TooLong(usize),
}

/// Runs a case from registration to its end.
pub fn run(
    process: &Arc<Process>,
    clock: &OfficeClock,
    scenario: &Scenario,
) -> Result<Simulation, SimulationError> {
    run_routed(process, Arc::new(clock.clone()), scenario, &BTreeMap::new())
}

/// [`run`] for a case registered with a route (by kind of office, see `CaseStarted::route`):
/// `clocks` gives every office's clock, so a task at another office counts on its hours.
pub fn run_routed(
    process: &Arc<Process>,
    clocks: Arc<dyn super::engine::Clocks>,
    scenario: &Scenario,
    route: &BTreeMap<String, String>,
) -> Result<Simulation, SimulationError> {
    const MAX_STEPS: usize = 10_000;
    let mut engine = Engine::new(clocks);
    engine.deploy(process.clone());
    let id = CaseId::new("SIM-1");
    let data = scenario.data.clone().unwrap_or_else(|| {
        process
            .regulation
            .application_form
            .as_ref()
            .map(|f| sample(&f.0))
            .unwrap_or(Value::Object(Default::default()))
    });
    let registrar = Actor::new("sim-registrar", first_person_role(process));
    let mut events = engine.start_routed(
        process,
        NewCase {
            case: id.clone(),
            channel: scenario.channel.clone(),
            office: scenario.office.clone(),
            data,
        },
        route,
        &registrar,
        scenario.start,
    )?;
    let mut now = scenario.start;
    if scenario.documents_missing {
        events.extend(engine.execute(
            &id,
            &Command::DocumentsMissing {
                note: Some("simulated".into()),
            },
            &registrar,
            now,
        )?);
    }
    for _ in 0..MAX_STEPS {
        let state = engine.case(&id).ok_or(SimulationError::Stuck)?;
        if state.status != CaseStatus::Open {
            let state = state.clone();
            return Ok(Simulation { events, state });
        }
        let Some(task) = state.open_tasks().next().cloned() else {
            let wake = state.next_wakeup().ok_or(SimulationError::Stuck)?;
            now = now.max(wake);
            events.extend(engine.tick(now).events.into_iter().map(|(_, e)| e));
            continue;
        };
        let at = match (scenario.pace, &task.deadline) {
            (Pace::Due, Some(d)) => now.max(d.due),
            _ => now.max(task.opened_at),
        };
        let process = state.process.clone();
        // Time passes up to just before the work is handed in: earlier deadlines breach.
        if at > now {
            let before = at - chrono::Duration::seconds(1);
            events.extend(engine.tick(before).events.into_iter().map(|(_, e)| e));
        }
        now = at;
        let step = process.step(task.step as usize);
        let outcome = scenario
            .decisions
            .get(&*task.step_id)
            .cloned()
            .or_else(|| first_outcome(step));
        let data = match step {
            Step::Task(t) => t.form.as_ref().map(|f| sample(&f.0)),
            _ => None,
        }
        .unwrap_or(Value::Object(Default::default()));
        let needs_reason = outcome_needs_reason(step, outcome.as_deref());
        let reason = needs_reason.then(|| "simulated reason".to_string());
        let actor = Actor::new(format!("sim-{}", task.role), &*task.role);
        let command = match step {
            Step::System(_) => Command::SystemResult {
                step: task.step_id.to_string(),
                outcome,
                data,
                reason,
            },
            _ => Command::Complete {
                task: task.id,
                outcome,
                data,
                reason,
            },
        };
        events.extend(engine.execute(&id, &command, &actor, now)?);
        events.extend(engine.tick(now).events.into_iter().map(|(_, e)| e));
    }
    Err(SimulationError::TooLong(MAX_STEPS))
}

fn first_person_role(p: &Process) -> &str {
    p.regulation
        .roles
        .iter()
        .find(|r| r.kind == reglament_model::model::RoleKind::Person)
        .map_or("registrar", |r| r.id.as_str())
}

fn first_outcome(step: &Step) -> Option<String> {
    match step {
        Step::Task(t) => t.outcomes.first().map(|o| o.id.clone()),
        Step::System(s) => s.outcomes.first().map(|o| o.id.clone()),
        _ => None,
    }
}

fn outcome_needs_reason(step: &Step, outcome: Option<&str>) -> bool {
    let outcomes = match step {
        Step::Task(t) => &t.outcomes,
        Step::System(s) => &s.outcomes,
        _ => return false,
    };
    outcomes
        .iter()
        .any(|o| Some(o.id.as_str()) == outcome && o.requires_reason)
}

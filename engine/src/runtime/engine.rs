//! Many cases in memory: commands applied through [`super::decide`], and every pending
//! deadline or dispatch in an ordered index so that `tick` finds what is due in O(log n).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::command::{Command, CommandError};
use super::decide::{self, Ctx};
use super::event::{Actor, CaseId, Event};
use super::state::{CaseState, FoldError};
use crate::calendar::{CalendarError, Calendars, OfficeClock};
use crate::compile::Process;

/// Where the engine gets an office's clock. A case asks for the calendar version it is
/// pinned to (`None` when it starts, to take the current one).
pub trait Clocks: Send + Sync {
    fn clock(&self, office: &str, version: Option<&str>) -> Result<OfficeClock, EngineError>;
}

impl Clocks for Calendars {
    fn clock(&self, office: &str, version: Option<&str>) -> Result<OfficeClock, EngineError> {
        let clock = self.clock(Some(office))?;
        match version {
            Some(v) if v != clock.version() => Err(EngineError::CalendarVersion {
                office: office.to_string(),
                wanted: v.to_string(),
                loaded: clock.version().to_string(),
            }),
            _ => Ok(clock),
        }
    }
}

/// One clock for every office: for simulations and tests.
impl Clocks for OfficeClock {
    fn clock(&self, _office: &str, _version: Option<&str>) -> Result<OfficeClock, EngineError> {
        Ok(self.clone())
    }
}

/// Why the engine could not run a command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error(transparent)]
    Fold(#[from] FoldError),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error(
        "office `{office}`: the case is pinned to calendar version {wanted}, but {loaded} is loaded"
    )]
    CalendarVersion {
        office: String,
        wanted: String,
        loaded: String,
    },
    #[error("no regulation `{0}` is deployed")]
    UnknownRegulation(String),
}

/// A new case: which regulation channel and office, and the applicant's data.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub case: CaseId,
    pub channel: String,
    pub office: String,
    pub data: Value,
}

/// What a `tick` did: the events per case, and the cases whose tick failed (they stay due).
#[derive(Debug, Default)]
pub struct Ticked {
    pub events: Vec<(CaseId, Event)>,
    pub failed: Vec<(CaseId, EngineError)>,
}

/// Cases in memory, with the wake-up index.
pub struct Engine {
    clocks: Arc<dyn Clocks>,
    /// Deployed regulations by digest.
    processes: HashMap<String, Arc<Process>>,
    cases: HashMap<CaseId, CaseState>,
    /// (instant, case): the earliest moment time alone changes each open case.
    wakeups: BTreeSet<(DateTime<Utc>, CaseId)>,
}

impl Engine {
    pub fn new(clocks: Arc<dyn Clocks>) -> Self {
        Engine {
            clocks,
            processes: HashMap::new(),
            cases: HashMap::new(),
            wakeups: BTreeSet::new(),
        }
    }

    /// Makes a regulation version available. Deploying a new version never touches running
    /// cases: each keeps the digest it started on.
    pub fn deploy(&mut self, process: Arc<Process>) {
        self.processes.insert(process.digest.clone(), process);
    }

    pub fn process(&self, digest: &str) -> Option<&Arc<Process>> {
        self.processes.get(digest)
    }

    pub fn case(&self, id: &CaseId) -> Option<&CaseState> {
        self.cases.get(id)
    }

    pub fn cases(&self) -> impl Iterator<Item = &CaseState> {
        self.cases.values()
    }

    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// How many cases wait for time to pass.
    pub fn pending_wakeups(&self) -> usize {
        self.wakeups.len()
    }

    /// Starts a case on a deployed regulation.
    pub fn start(
        &mut self,
        process: &Arc<Process>,
        new: NewCase,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, EngineError> {
        let NewCase {
            case,
            channel,
            office,
            data,
        } = new;
        if self.cases.contains_key(&case) {
            return Err(CommandError::CaseExists(case).into());
        }
        self.processes
            .entry(process.digest.clone())
            .or_insert_with(|| process.clone());
        let clock = self.clocks.clock(&office, None)?;
        let ctx = Ctx {
            now,
            actor,
            clock: &clock,
        };
        let events = decide::start(process, case.clone(), &channel, &office, data, ctx)?;
        let processes = &self.processes;
        let mut state = CaseState::begin(&events[0], |d| processes.get(d).cloned())?;
        for e in &events[1..] {
            state.apply(e)?;
        }
        self.index(&state);
        self.cases.insert(case, state);
        Ok(events)
    }

    /// Runs a command on a case.
    pub fn execute(
        &mut self,
        case: &CaseId,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, EngineError> {
        let state = self
            .cases
            .get(case)
            .ok_or_else(|| CommandError::NoSuchCase(case.clone()))?;
        let clock = self
            .clocks
            .clock(&state.office, Some(&state.calendar_version))?;
        let ctx = Ctx {
            now,
            actor,
            clock: &clock,
        };
        let events = decide::decide(state, command, ctx)?;
        self.commit(case, &events)?;
        Ok(events)
    }

    /// Applies events decided elsewhere (e.g. read back from the store) to a known case.
    pub fn commit(&mut self, case: &CaseId, events: &[Event]) -> Result<(), EngineError> {
        let Some(state) = self.cases.get_mut(case) else {
            return Err(CommandError::NoSuchCase(case.clone()).into());
        };
        let before = state.next_wakeup();
        for e in events {
            state.apply(e)?;
        }
        let after = state.next_wakeup();
        if before != after {
            if let Some(t) = before {
                self.wakeups.remove(&(t, case.clone()));
            }
            if let Some(t) = after {
                self.wakeups.insert((t, case.clone()));
            }
        }
        Ok(())
    }

    /// Rebuilds a case from its stored events (start-up, replay).
    pub fn restore(&mut self, events: &[Event]) -> Result<CaseId, EngineError> {
        let processes = &self.processes;
        let state = CaseState::fold(events, |d| processes.get(d).cloned())?;
        let id = state.id.clone();
        if let Some(old) = self.cases.get(&id).and_then(CaseState::next_wakeup) {
            self.wakeups.remove(&(old, id.clone()));
        }
        self.index(&state);
        self.cases.insert(id.clone(), state);
        Ok(id)
    }

    fn index(&mut self, state: &CaseState) {
        if let Some(t) = state.next_wakeup() {
            self.wakeups.insert((t, state.id.clone()));
        }
    }

    /// Lets time pass to `now`: every breach is emitted once, escalations run, dispatches leave.
    /// Cases whose tick fails (e.g. the calendar data ran out) are returned with their error
    /// and stay due, so the failure is visible rather than silent.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Ticked {
        let mut ticked = Ticked::default();
        let due: Vec<CaseId> = self
            .wakeups
            .range(..=(now, CaseId(Arc::from("\u{10FFFF}"))))
            .map(|(_, c)| c.clone())
            .collect();
        for case in due {
            let result = (|| {
                let state = self
                    .cases
                    .get(&case)
                    .ok_or_else(|| CommandError::NoSuchCase(case.clone()))?;
                let clock = self
                    .clocks
                    .clock(&state.office, Some(&state.calendar_version))?;
                let events = decide::tick(state, now, &clock)?;
                self.commit(&case, &events)?;
                Ok::<_, EngineError>(events)
            })();
            match result {
                Ok(events) => ticked
                    .events
                    .extend(events.into_iter().map(|e| (case.clone(), e))),
                Err(e) => ticked.failed.push((case, e)),
            }
        }
        ticked
    }
}

//! Many cases in memory: commands applied through [`super::decide`], and every pending
//! deadline or dispatch in an ordered index so that `tick` finds what is due in O(log n).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use rustc_hash::FxHashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::command::{Command, CommandError};
use super::decide::{self, Ctx};
use super::event::{Actor, CaseId, Event};
use super::state::{CaseState, FoldError};
use reglament_calendar::{CalendarError, Calendars, OfficeClock};
use reglament_model::compile::Process;

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
///
/// Cases live in a dense `Vec`, found by id through a hash map. The wake-up index is a
/// min-heap of (instant in microseconds, slot): pushing a new wake-up is O(log n) with integer
/// comparisons and no allocation per node; a superseded entry is not searched for and removed
/// but left behind and skipped when it surfaces (`wake_of` holds each slot's current one), and
/// the heap is rebuilt when such entries outnumber the live ones.
pub struct Engine {
    clocks: Arc<dyn Clocks>,
    /// Deployed regulations by digest.
    processes: HashMap<String, Arc<Process>>,
    slots: FxHashMap<CaseId, u32>,
    cases: Vec<CaseState>,
    wakeups: BinaryHeap<Reverse<(i64, u32)>>,
    /// Each slot's current wake-up (`NO_WAKEUP` when none).
    wake_of: Vec<i64>,
    live_wakeups: usize,
}

const NO_WAKEUP: i64 = i64::MIN;

fn key(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl Engine {
    pub fn new(clocks: Arc<dyn Clocks>) -> Self {
        Engine {
            clocks,
            processes: HashMap::new(),
            slots: FxHashMap::default(),
            cases: Vec::new(),
            wakeups: BinaryHeap::new(),
            wake_of: Vec::new(),
            live_wakeups: 0,
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
        let slot = *self.slots.get(id)?;
        self.cases.get(slot as usize)
    }

    pub fn cases(&self) -> impl Iterator<Item = &CaseState> {
        self.cases.iter()
    }

    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// How many cases wait for time to pass.
    pub fn pending_wakeups(&self) -> usize {
        self.live_wakeups
    }

    /// Records a slot's new wake-up.
    fn set_wakeup(&mut self, slot: u32, at: Option<DateTime<Utc>>) {
        let new = at.map_or(NO_WAKEUP, key);
        let old = std::mem::replace(&mut self.wake_of[slot as usize], new);
        if old == new {
            return;
        }
        match (old == NO_WAKEUP, new == NO_WAKEUP) {
            (true, false) => self.live_wakeups += 1,
            (false, true) => self.live_wakeups -= 1,
            _ => {}
        }
        if new != NO_WAKEUP {
            self.wakeups.push(Reverse((new, slot)));
        }
        if self.wakeups.len() > 2 * self.live_wakeups + 1024 {
            self.wakeups = self
                .wake_of
                .iter()
                .enumerate()
                .filter(|(_, w)| **w != NO_WAKEUP)
                .map(|(s, w)| Reverse((*w, s as u32)))
                .collect();
        }
    }

    /// Starts a case on a deployed regulation.
    pub fn start(
        &mut self,
        process: &Arc<Process>,
        new: NewCase,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, EngineError> {
        self.start_routed(process, new, &BTreeMap::new(), actor, now)
    }

    /// Starts a case that passes through the offices of `route` (by kind: see
    /// `CaseStarted::route`).
    pub fn start_routed(
        &mut self,
        process: &Arc<Process>,
        new: NewCase,
        route: &BTreeMap<String, String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, EngineError> {
        let NewCase {
            case,
            channel,
            office,
            data,
        } = new;
        if self.slots.contains_key(&case) {
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
            offices: Some(&*self.clocks),
        };
        let events = decide::start(process, case.clone(), &channel, &office, route, data, ctx)?;
        let processes = &self.processes;
        let mut state = CaseState::begin(&events[0], |d| processes.get(d).cloned())?;
        for e in &events[1..] {
            state.apply(e)?;
        }
        self.insert(state);
        Ok(events)
    }

    fn insert(&mut self, state: CaseState) {
        let slot = self.cases.len() as u32;
        let wake = state.next_wakeup();
        self.slots.insert(state.id.clone(), slot);
        self.cases.push(state);
        self.wake_of.push(NO_WAKEUP);
        self.set_wakeup(slot, wake);
    }

    fn slot(&self, case: &CaseId) -> Result<u32, EngineError> {
        self.slots
            .get(case)
            .copied()
            .ok_or_else(|| CommandError::NoSuchCase(case.clone()).into())
    }

    /// Runs a command on a case.
    pub fn execute(
        &mut self,
        case: &CaseId,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Event>, EngineError> {
        let slot = self.slot(case)?;
        let state = &self.cases[slot as usize];
        let clock = self
            .clocks
            .clock(&state.office, Some(&state.calendar_version))?;
        let ctx = Ctx {
            now,
            actor,
            clock: &clock,
            offices: Some(&*self.clocks),
        };
        let events = decide::decide(state, command, ctx)?;
        self.commit_slot(slot, &events)?;
        Ok(events)
    }

    /// Applies events decided elsewhere (e.g. read back from the store) to a known case.
    pub fn commit(&mut self, case: &CaseId, events: &[Event]) -> Result<(), EngineError> {
        let slot = self.slot(case)?;
        self.commit_slot(slot, events)
    }

    fn commit_slot(&mut self, slot: u32, events: &[Event]) -> Result<(), EngineError> {
        let state = &mut self.cases[slot as usize];
        for e in events {
            state.apply(e)?;
        }
        let after = state.next_wakeup();
        self.set_wakeup(slot, after);
        Ok(())
    }

    /// Rebuilds a case from its stored events (start-up, replay).
    pub fn restore(&mut self, events: &[Event]) -> Result<CaseId, EngineError> {
        let processes = &self.processes;
        let state = CaseState::fold(events, |d| processes.get(d).cloned())?;
        let id = state.id.clone();
        match self.slots.get(&id).copied() {
            Some(slot) => {
                let wake = state.next_wakeup();
                self.cases[slot as usize] = state;
                self.set_wakeup(slot, wake);
            }
            None => self.insert(state),
        }
        Ok(id)
    }

    /// Lets time pass to `now`: every breach is emitted once, escalations run, dispatches leave.
    /// Cases whose tick fails (e.g. the calendar data ran out) are returned with their error
    /// and stay due, so the failure is visible rather than silent.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Ticked {
        let mut ticked = Ticked::default();
        let now_key = key(now);
        let mut due: Vec<(u32, i64)> = Vec::new();
        while let Some(Reverse((at, slot))) = self.wakeups.peek().copied() {
            if at > now_key {
                break;
            }
            self.wakeups.pop();
            // Only the slot's current wake-up counts; superseded ones are skipped here. A taken
            // one is cleared, so whatever the tick leads to is indexed afresh.
            if self.wake_of[slot as usize] == at {
                self.wake_of[slot as usize] = NO_WAKEUP;
                self.live_wakeups -= 1;
                due.push((slot, at));
            }
        }
        // A case that stays due (its tick failed) goes back in, so it is tried again.
        for (slot, at) in due {
            let state = &self.cases[slot as usize];
            let case = state.id.clone();
            let result = self
                .clocks
                .clock(&state.office, Some(&state.calendar_version))
                .and_then(|clock| Ok(decide::tick_at(state, now, &clock, Some(&*self.clocks))?))
                .and_then(|events| {
                    self.commit_slot(slot, &events)?;
                    Ok(events)
                });
            match result {
                Ok(events) => ticked
                    .events
                    .extend(events.into_iter().map(|e| (case.clone(), e))),
                Err(e) => {
                    self.set_wakeup(slot, DateTime::from_timestamp_micros(at));
                    ticked.failed.push((case, e));
                }
            }
        }
        ticked
    }
}

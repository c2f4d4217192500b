//! The application layer: engine commands run against the store, with a bounded cache of
//! case states, retries on conflicting appends, and pinned calendars.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::{Adoption, Store, StoreError, StoredEvent, clocks};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_runtime::{
    Actor, CaseId, CaseState, Clocks, Command, CommandError, EngineError, Event, EventKind, Moved,
    NewCase, decide, reschedule_at,
};

/// Why a command did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The command is not allowed on the case as it stands (HTTP 4xx): the case is unchanged.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The engine could not run the case: a regulation or calendar it is pinned to is missing,
    /// or its events do not fold (HTTP 5xx: an operator must look).
    #[error(transparent)]
    Engine(EngineError),
    /// The database failed (HTTP 503 when unavailable, else 500).
    #[error(transparent)]
    Store(StoreError),
    /// Other writers kept changing the case; nothing was written (HTTP 409/503, retry later).
    #[error("case `{case}` kept changing under {attempts} attempts; try again")]
    Contention { case: CaseId, attempts: usize },
}

impl ServiceError {
    /// The caller's mistake rather than the server's.
    pub fn is_client_error(&self) -> bool {
        matches!(self, ServiceError::Command(_))
    }
}

impl From<EngineError> for ServiceError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Command(c) => ServiceError::Command(c),
            other => ServiceError::Engine(other),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Fold { source, .. } => ServiceError::Engine(EngineError::Fold(source)),
            StoreError::UnknownDigest { digest } => {
                ServiceError::Engine(EngineError::UnknownRegulation(digest))
            }
            other => ServiceError::Store(other),
        }
    }
}

/// What one `tick` did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// The events appended, per case.
    pub fired: Vec<(CaseId, Vec<StoredEvent>)>,
    /// Cases whose tick failed; they stay leased until the lease runs out, then are retried.
    pub failed: Vec<(CaseId, ServiceError)>,
}

/// One case whose due instants a new calendar moves.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseMove {
    pub case: String,
    pub office: String,
    pub from_version: String,
    pub to_version: String,
    /// The days whose working time changed, within the moved terms.
    pub days: Vec<chrono::NaiveDate>,
    pub moved: Vec<Moved>,
    /// A due instant still ahead before the change that the change puts in the past: the
    /// timer breaches it at once.
    pub breached_by_change: bool,
}

/// What deploying the loaded calendars to open cases did (or, as a dry run, would do).
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct CalendarFollowReport {
    /// Per office and old version: the cases looked at and those moved.
    pub adoptions: Vec<Adoption>,
    /// Open cases looked at.
    pub cases: u64,
    /// Of them, those whose due instants move.
    pub rescheduled: u64,
    /// Due instants that move (tasks and cases).
    pub deadlines: u64,
    /// Of the moved instants, those the change puts in the past.
    pub breached_by_change: u64,
    /// The cases that move, when asked for ([`Service::follow_calendars`]'s `keep`).
    pub moves: Vec<CaseMove>,
    /// Cases that could not be looked at, with why (they follow on their next command).
    pub failed: Vec<(String, String)>,
}

/// A page's outcome per case: what moves (with the state it was decided on), or why the case
/// could not be looked at.
type Recomputed = Vec<(String, Result<Option<(CaseState, EventKind)>, String>)>;

/// Folds a page of log rows (by case, then `seq`) and recomputes each case on `clock`; the
/// page is split between two threads.
fn recompute_page(
    rows: Vec<super::rows::EventRow>,
    processes: &HashMap<String, Arc<Process>>,
    clock: &OfficeClock,
    offices: Option<&dyn Clocks>,
    old: Option<&OfficeClock>,
) -> Recomputed {
    let mut cases: Vec<&[super::rows::EventRow]> = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let id = &rows[start].case_id;
        let n = rows[start..]
            .iter()
            .take_while(|r| &r.case_id == id)
            .count();
        cases.push(&rows[start..start + n]);
        start += n;
    }
    let one = |case: &[super::rows::EventRow]| {
        let id = case.first().map(|r| r.case_id.clone()).unwrap_or_default();
        let outcome = fold_rows(case, processes).and_then(|state| {
            match reschedule_at(&state, clock, offices, old) {
                Ok(Some(kind)) => Ok(Some((state, kind))),
                Ok(None) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        });
        (id, outcome)
    };
    let half = cases.len() / 2;
    if half < 32 {
        return cases.into_iter().map(one).collect();
    }
    let (a, b) = cases.split_at(half);
    std::thread::scope(|s| {
        let second = s.spawn(|| b.iter().map(|c| one(c)).collect::<Recomputed>());
        let mut out: Recomputed = a.iter().map(|c| one(c)).collect();
        match second.join() {
            Ok(rest) => out.extend(rest),
            Err(_) => out.extend(b.iter().map(|c| one(c))),
        }
        out
    })
}

/// A case's state from its log rows (the chain checked, as [`Store::load`] does).
pub(crate) fn fold_rows(
    rows: &[super::rows::EventRow],
    processes: &HashMap<String, Arc<Process>>,
) -> Result<CaseState, String> {
    if let Err(tamper) = super::verify::verify_case(rows, None) {
        return Err(StoreError::HistoryDoesNotVerify(tamper).to_string());
    }
    if let Some(r) = rows.iter().find(|r| !processes.contains_key(&r.digest)) {
        return Err(format!("regulation digest {} is not deployed", r.digest));
    }
    let events = rows
        .iter()
        .cloned()
        .map(super::stored_event)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    // Every version the case ran on (each event row names the one it was written on).
    let resolve = |d: &str| processes.get(d).cloned();
    CaseState::fold(events.iter().map(|e| &e.event), resolve).map_err(|e| e.to_string())
}

/// A bounded cache: two generations of at most `cap / 2` entries each. Entries used in the
/// young generation stay; the old generation is dropped wholesale when the young one fills.
/// O(1) per operation with no bookkeeping per entry, and within a factor of two of LRU.
struct Generations<V> {
    cap: usize,
    young: HashMap<CaseId, V>,
    old: HashMap<CaseId, V>,
}

type StateCache = Generations<Arc<CaseState>>;

impl<V: Clone> Generations<V> {
    fn new(cap: usize) -> Self {
        Generations {
            cap: cap.max(2),
            young: HashMap::new(),
            old: HashMap::new(),
        }
    }

    fn get(&mut self, id: &CaseId) -> Option<V> {
        if let Some(s) = self.young.get(id) {
            return Some(s.clone());
        }
        let s = self.old.remove(id)?;
        self.put(id.clone(), s.clone());
        Some(s)
    }

    fn put(&mut self, id: CaseId, state: V) {
        self.old.remove(&id);
        self.young.insert(id, state);
        if self.young.len() >= self.cap / 2 {
            self.old = std::mem::take(&mut self.young);
        }
    }

    fn remove(&mut self, id: &CaseId) {
        self.young.remove(id);
        self.old.remove(id);
    }

    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

/// Runs cases on a [`Store`]: the server's way in.
pub struct Service {
    store: Store,
    clocks: Arc<dyn Clocks>,
    cache: Mutex<StateCache>,
    /// Clocks of calendar versions the loaded calendars no longer have, rebuilt from the store.
    pinned: Mutex<HashMap<String, OfficeClock>>,
    /// Calendar versions known to be recorded in `calendar_versions`.
    recorded: Mutex<HashSet<String>>,
    /// (office, old calendar version) → the version its open cases were moved onto: a case
    /// still naming the old version was looked at already and nothing of it moved.
    adopted: Mutex<HashMap<(String, String), String>>,
    retries: usize,
    lease: Duration,
    tick_batch: u32,
}

impl Service {
    pub fn new(store: Store, clocks: Arc<dyn Clocks>) -> Service {
        Service {
            store,
            clocks,
            cache: Mutex::new(StateCache::new(10_000)),
            pinned: Mutex::new(HashMap::new()),
            recorded: Mutex::new(HashSet::new()),
            adopted: Mutex::new(HashMap::new()),
            retries: 8,
            lease: Duration::from_secs(30),
            tick_batch: 256,
        }
    }

    /// At most this many case states in memory (default 10,000).
    pub fn with_cache_capacity(mut self, cap: usize) -> Self {
        self.cache = Mutex::new(StateCache::new(cap));
        self
    }

    /// How long a node holds a wake-up it took before others may take it (default 30 s).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Wake-ups taken per round of `tick` (default 256).
    pub fn with_tick_batch(mut self, n: u32) -> Self {
        self.tick_batch = n.max(1);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The loaded calendars cases count on.
    pub fn clocks(&self) -> &Arc<dyn Clocks> {
        &self.clocks
    }

    /// Case states in the cache.
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn cache_get(&self, id: &CaseId) -> Option<Arc<CaseState>> {
        self.cache.lock().ok().and_then(|mut c| c.get(id))
    }

    fn cache_put(&self, id: &CaseId, s: Arc<CaseState>) {
        if let Ok(mut c) = self.cache.lock() {
            c.put(id.clone(), s);
        }
    }

    pub(crate) fn cache_drop(&self, id: &CaseId) {
        if let Ok(mut c) = self.cache.lock() {
            c.remove(id);
        }
    }

    /// The clock a case is pinned to: from the loaded calendars if they still have its
    /// version, else rebuilt from `calendar_versions`. Its answers are the ones the case's
    /// deadlines were counted with (e.g. whether a due instant is in a provisional year).
    pub async fn case_clock(
        &self,
        office: &str,
        version: &str,
    ) -> Result<OfficeClock, ServiceError> {
        match self.clocks.clock(office, Some(version)) {
            Ok(c) => Ok(c),
            Err(e @ EngineError::CalendarVersion { .. }) => {
                if let Some(c) = self
                    .pinned
                    .lock()
                    .ok()
                    .and_then(|p| p.get(version).cloned())
                {
                    return Ok(c);
                }
                let Some(data) = self.store.calendar_data(version).await? else {
                    return Err(e.into());
                };
                let clock = clocks::clock_from_data(version, &data)?;
                if let Ok(mut p) = self.pinned.lock() {
                    p.insert(version.to_string(), clock.clone());
                }
                Ok(clock)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The clock a command on a case is decided with, and the event that first moves the case
    /// onto it. An open case counts on its office's calendar as loaded now: the law counts a
    /// term on the days that are actually working days, so a decree issued while the case
    /// runs reaches it. When that calendar is not the one the case's instants were computed
    /// on, they are recomputed ([`reschedule_at`]); those that move are recorded by a
    /// `deadlines_rescheduled` event ahead of the command's own. A closed case, or one whose
    /// office the loaded calendars no longer have, keeps the clock it is pinned to.
    async fn follow(
        &self,
        state: &CaseState,
        now: DateTime<Utc>,
    ) -> Result<(OfficeClock, Option<Event>), ServiceError> {
        let pinned = || self.case_clock(&state.office, &state.calendar_version);
        if !state.is_open() {
            return Ok((pinned().await?, None));
        }
        let current = match self.clocks.clock(&state.office, None) {
            Ok(c) => c,
            Err(_) => return Ok((pinned().await?, None)),
        };
        if current.version() == &*state.calendar_version || self.adopted_onto(state, &current) {
            return Ok((current, None));
        }
        let old = pinned().await.ok();
        match reschedule_at(state, &current, Some(&*self.clocks), old.as_ref()) {
            Ok(kind) => Ok((
                current,
                kind.map(|kind| Event {
                    at: now,
                    actor: Actor::engine(),
                    kind,
                }),
            )),
            // The new calendar cannot place the instants (they fall beyond its years): the
            // case keeps them, and the command goes on.
            Err(e) => {
                tracing::warn!(case = %state.id, error = %e, "cannot recompute a case's deadlines on the loaded calendar");
                Ok((current, None))
            }
        }
    }

    /// The record of a calendar version to write with an append, unless it is known to be in
    /// `calendar_versions` already.
    pub(crate) fn calendar_record(
        &self,
        clock: &OfficeClock,
        now: DateTime<Utc>,
    ) -> Result<Option<clocks::CalendarRecord>, ServiceError> {
        let known = self
            .recorded
            .lock()
            .is_ok_and(|r| r.contains(clock.version()));
        if known {
            return Ok(None);
        }
        Ok(Some(clocks::record(clock, now).map_err(StoreError::from)?))
    }

    /// Keeps the calendar versions of deadlines counted at other offices than the case's
    /// (tasks on the case's route), so that an audit can rebuild their clocks.
    async fn record_other_calendars(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        for e in events {
            if let EventKind::TaskOpened {
                office: Some(office),
                deadline: Some(d),
                ..
            } = &e.kind
            {
                let known = self
                    .recorded
                    .lock()
                    .is_ok_and(|r| r.contains(&*d.calendar_version));
                if known {
                    continue;
                }
                let Ok(clock) = self.clocks.clock(office, None) else {
                    continue;
                };
                if let Some(record) = self.calendar_record(&clock, now)? {
                    self.store.record_calendar(&record).await?;
                    self.remember_recorded(&record.version);
                }
            }
        }
        Ok(())
    }

    fn remember_adoption(&self, a: &Adoption) {
        if let Ok(mut m) = self.adopted.lock() {
            m.insert(
                (a.office.clone(), a.from_version.clone()),
                a.to_version.clone(),
            );
        }
    }

    /// Whether the case's office's open cases on its calendar version were moved onto
    /// `current` already (so this one had nothing to move).
    fn adopted_onto(&self, state: &CaseState, current: &OfficeClock) -> bool {
        self.adopted.lock().is_ok_and(|m| {
            m.get(&(state.office.to_string(), state.calendar_version.to_string()))
                .is_some_and(|to| to == current.version())
        })
    }

    pub(crate) fn remember_recorded(&self, version: &str) {
        if let Ok(mut r) = self.recorded.lock() {
            r.insert(version.to_string());
        }
    }

    /// Deploys the loaded calendars to the open cases that count on other versions: each case
    /// is recomputed on its office's calendar, those whose instants move get a
    /// `deadlines_rescheduled` event, and each office and old version done is recorded
    /// ([`Store::record_adoption`]) so that a restart does not look at them again. With
    /// `dry_run` nothing is written: the report says what would move. `keep` keeps each
    /// moving case in the report (for listing them; a count otherwise).
    ///
    /// Cases are read a page at a time straight from the log (one query per page), and the
    /// appends of a page go to the store together, so that the writer commits them in
    /// groups. A case changed by a command meanwhile is simply decided again.
    pub async fn follow_calendars(
        &self,
        now: DateTime<Utc>,
        dry_run: bool,
        keep: bool,
    ) -> Result<CalendarFollowReport, ServiceError> {
        let mut report = CalendarFollowReport::default();
        // A dry run reads no adoption (it may run on a database of an older schema).
        let done: HashSet<(String, String)> = if dry_run {
            HashSet::new()
        } else {
            let adoptions = self.store.adoptions().await?;
            for a in &adoptions {
                self.remember_adoption(a);
            }
            adoptions
                .into_iter()
                .map(|a| (a.office, a.from_version))
                .collect()
        };
        let mut processes: HashMap<String, Arc<Process>> = HashMap::new();
        for group in self.store.open_calendar_groups().await? {
            let Ok(current) = self.clocks.clock(&group.office, None) else {
                continue;
            };
            if group.version == current.version()
                || (!dry_run && done.contains(&(group.office.clone(), group.version.clone())))
            {
                continue;
            }
            let old = self.case_clock(&group.office, &group.version).await.ok();
            let mut adoption = Adoption {
                office: group.office.clone(),
                from_version: group.version.clone(),
                to_version: current.version().to_string(),
                adopted_at: now,
                cases: 0,
                rescheduled: 0,
            };
            // A pipeline: pages are read and folded (on blocking threads, the page split in
            // two) while the previous pages' appends go to the writer.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<(CaseId, CaseState, EventKind)>>(4);
            let reader = async {
                let mut after = String::new();
                loop {
                    let page = self
                        .store
                        .open_cases_on(&group.office, &group.version, &after, 1024)
                        .await?;
                    let Some(last) = page.last() else { break };
                    after = last.clone();
                    let rows = self.store.events_of(&page).await?;
                    for r in &rows {
                        if !processes.contains_key(&r.digest) {
                            let p = self.store.process(&r.digest).await?;
                            processes.insert(r.digest.clone(), p);
                        }
                    }
                    let (procs, clock, old) = (processes.clone(), current.clone(), old.clone());
                    let offices = self.clocks.clone();
                    let folded = tokio::task::spawn_blocking(move || {
                        recompute_page(rows, &procs, &clock, Some(&*offices), old.as_ref())
                    })
                    .await
                    .map_err(|e| StoreError::Task(format!("recomputing a page of cases: {e}")))?;
                    let mut jobs = Vec::new();
                    for (case, outcome) in folded {
                        adoption.cases += 1;
                        let (state, kind) = match outcome {
                            Ok(None) => continue,
                            Ok(Some(found)) => found,
                            Err(e) => {
                                report.failed.push((case, e));
                                continue;
                            }
                        };
                        if let EventKind::DeadlinesRescheduled {
                            from_version,
                            to_version,
                            days,
                            moved,
                        } = &kind
                        {
                            let breached = moved.iter().filter(|m| m.to <= now && m.from > now);
                            let breached = breached.count() as u64;
                            report.deadlines += moved.len() as u64;
                            report.breached_by_change += breached;
                            if keep {
                                report.moves.push(CaseMove {
                                    case: case.clone(),
                                    office: group.office.clone(),
                                    from_version: from_version.clone(),
                                    to_version: to_version.clone(),
                                    days: days.clone(),
                                    moved: moved.clone(),
                                    breached_by_change: breached > 0,
                                });
                            }
                        }
                        adoption.rescheduled += 1;
                        if !dry_run {
                            jobs.push((CaseId::new(&case), state, kind));
                        }
                    }
                    if !jobs.is_empty() {
                        if let Some(c) = self.calendar_record(&current, now)? {
                            // Recorded once, ahead of the appends, so each may name it.
                            self.store.record_calendar(&c).await?;
                            self.remember_recorded(&c.version);
                        }
                        if tx.send(jobs).await.is_err() {
                            break;
                        }
                    }
                }
                drop(tx);
                Ok::<(), ServiceError>(())
            };
            let writer = async {
                let mut failed = Vec::new();
                while let Some(jobs) = rx.recv().await {
                    let mut results = futures_util::stream::iter(jobs)
                        .map(|(case, state, kind)| async move {
                            let r = self.append_follow(&case, state, kind, now).await;
                            (case, r)
                        })
                        .buffer_unordered(256);
                    while let Some((case, r)) = results.next().await {
                        if let Err(e) = r {
                            failed.push((case.to_string(), e.to_string()));
                        }
                    }
                }
                failed
            };
            let (read, failed) = tokio::join!(reader, writer);
            read?;
            report.failed.extend(failed);
            report.cases += adoption.cases;
            report.rescheduled += adoption.rescheduled;
            if !dry_run {
                self.store.record_adoption(&adoption).await?;
                self.remember_adoption(&adoption);
            }
            report.adoptions.push(adoption);
        }
        Ok(report)
    }

    /// Appends a case's rescheduling decided on `state`; if the case changed meanwhile, it is
    /// decided again on its current state.
    async fn append_follow(
        &self,
        case: &CaseId,
        state: CaseState,
        kind: EventKind,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let event = Event {
            at: now,
            actor: Actor::engine(),
            kind,
        };
        let before = state.version;
        let mut after = state;
        after.apply(&event).map_err(EngineError::Fold)?;
        match self.store.append(case, before, &[event], &after).await {
            Ok(_) => {
                self.cache_drop(case);
                Ok(())
            }
            Err(StoreError::Conflict { .. }) => self.follow_case(case, now).await.map(|_| ()),
            Err(e) => Err(e.into()),
        }
    }

    /// Moves one case onto its office's loaded calendar now, if its instants move: whether an
    /// event was appended.
    pub async fn follow_case(
        &self,
        case: &CaseId,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        for _ in 0..=self.retries {
            let (state, _) = self.state(case, true).await?;
            let (clock, Some(event)) = self.follow(&state, now).await? else {
                return Ok(false);
            };
            let calendar = self.calendar_record(&clock, now)?;
            let before = state.version;
            let events = [event];
            let state = self.advance(case, state, &events)?;
            match self
                .store
                .append_with(case, before, &events, &state, calendar)
                .await
            {
                Ok(_) => {
                    self.remember_recorded(clock.version());
                    self.cache_put(case, state);
                    return Ok(true);
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => {
                    self.cache_drop(case);
                    return Err(e.into());
                }
            }
        }
        Err(ServiceError::Contention {
            case: case.clone(),
            attempts: self.retries + 1,
        })
    }

    /// The state after `events`. The cache lets go of the state first, so that it is updated
    /// in place when nobody else holds it (a case's history can be long: no copy per command);
    /// it is put back once the events are stored.
    fn advance(
        &self,
        case: &CaseId,
        mut state: Arc<CaseState>,
        events: &[reglament_runtime::Event],
    ) -> Result<Arc<CaseState>, ServiceError> {
        self.cache_drop(case);
        let s = Arc::make_mut(&mut state);
        for e in events {
            s.apply(e).map_err(EngineError::Fold)?;
        }
        Ok(state)
    }

    /// The state of a case: cached, or brought up to date from the log. `fresh` skips the cache
    /// (but still reads only the events after a cached state).
    async fn state(
        &self,
        case: &CaseId,
        fresh: bool,
    ) -> Result<(Arc<CaseState>, bool), ServiceError> {
        let cached = self.cache_get(case);
        if let Some(s) = &cached
            && !fresh
        {
            return Ok((s.clone(), true));
        }
        let state = match cached {
            Some(s) => {
                let newer = self.store.events_after(case, s.version).await?;
                let migrated = newer
                    .iter()
                    .any(|e| matches!(e.event.kind, EventKind::CaseMigrated { .. }));
                if migrated {
                    // Moved onto another version meanwhile (by `reglament migrate`): folded
                    // again from the log with every version it ran on.
                    match self.store.load(case).await? {
                        Some(s) => Arc::new(s),
                        None => return Err(CommandError::NoSuchCase(case.clone()).into()),
                    }
                } else if newer.is_empty() {
                    s
                } else {
                    let mut st = (*s).clone();
                    for e in &newer {
                        st.apply(&e.event).map_err(EngineError::Fold)?;
                    }
                    Arc::new(st)
                }
            }
            None => match self.store.load(case).await? {
                Some(s) => Arc::new(s),
                None => return Err(CommandError::NoSuchCase(case.clone()).into()),
            },
        };
        self.cache_put(case, state.clone());
        Ok((state, false))
    }

    /// A case's current state.
    pub async fn case_state(&self, case: &CaseId) -> Result<Arc<CaseState>, ServiceError> {
        Ok(self.state(case, true).await?.0)
    }

    /// Starts a case on a deployed regulation. The regulation must be in the store (see
    /// [`Store::deploy`]), so that the case can always be loaded again.
    pub async fn start(
        &self,
        process: &Arc<Process>,
        new: NewCase,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredEvent>, ServiceError> {
        self.start_routed(process, new, &BTreeMap::new(), actor, now)
            .await
    }

    /// Starts a case that passes through the offices of `route` (by kind), as
    /// [`Service::start`] does.
    pub async fn start_routed(
        &self,
        process: &Arc<Process>,
        new: NewCase,
        route: &BTreeMap<String, String>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredEvent>, ServiceError> {
        self.store.process(&process.digest).await?;
        let case = new.case.clone();
        let clock = self.clocks.clock(&new.office, None)?;
        let ctx = decide::Ctx {
            now,
            actor,
            clock: &clock,
            offices: Some(&*self.clocks),
        };
        let events = decide::start(
            process,
            new.case,
            &new.channel,
            &new.office,
            route,
            new.data,
            ctx,
        )?;
        self.record_other_calendars(&events, now).await?;
        let p = process.clone();
        let state = CaseState::fold(&events, |_| Some(p.clone())).map_err(EngineError::Fold)?;
        let version = clock.version().to_string();
        let known = self.recorded.lock().is_ok_and(|r| r.contains(&version));
        let calendar = if known {
            None
        } else {
            Some(clocks::record(&clock, now).map_err(StoreError::from)?)
        };
        match self
            .store
            .append_with(&case, 0, &events, &state, calendar)
            .await
        {
            Ok(stored) => {
                if let Ok(mut r) = self.recorded.lock() {
                    r.insert(version);
                }
                self.cache_put(&case, Arc::new(state));
                Ok(stored)
            }
            Err(StoreError::Conflict { .. }) => Err(CommandError::CaseExists(case).into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs a command on a case. On a conflicting append (another writer got there first) the
    /// case is reloaded and the command decided again, up to a few times: so of two claims of
    /// one task, the second fails with [`CommandError::ClaimedByOther`].
    /// What `command` would do to `case` at `now` — its events and the case after them —
    /// with nothing written (a what-if before a change that needs a second person).
    pub async fn dry_run(
        &self,
        case: &CaseId,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(CaseState, Vec<Event>), ServiceError> {
        let (state, _) = self.state(case, true).await?;
        let (clock, moved) = self.follow(&state, now).await?;
        let ctx = decide::Ctx {
            now,
            actor,
            clock: &clock,
            offices: Some(&*self.clocks),
        };
        let mut after = (*state).clone();
        if let Some(m) = &moved {
            after.apply(m).map_err(EngineError::Fold)?;
        }
        let events = decide::decide(&after, command, ctx)?;
        for e in &events {
            after.apply(e).map_err(EngineError::Fold)?;
        }
        Ok((after, events))
    }

    pub async fn execute(
        &self,
        case: &CaseId,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredEvent>, ServiceError> {
        let mut fresh = false;
        for _ in 0..=self.retries {
            let (state, from_cache) = self.state(case, fresh).await?;
            fresh = true;
            let (clock, moved) = self.follow(&state, now).await?;
            let ctx = decide::Ctx {
                now,
                actor,
                clock: &clock,
                offices: Some(&*self.clocks),
            };
            let decided = match &moved {
                None => decide::decide(&state, command, ctx),
                Some(m) => {
                    let mut s = (*state).clone();
                    s.apply(m).map_err(EngineError::Fold)?;
                    decide::decide(&s, command, ctx)
                }
            };
            let mut events = match decided {
                Ok(e) => e,
                Err(e) => {
                    // Another node may have changed the case since it was cached: refuse only
                    // on the current state.
                    if from_cache && self.store.head(case).await? != state.version {
                        continue;
                    }
                    return Err(e.into());
                }
            };
            if events.is_empty() {
                return Ok(Vec::new());
            }
            self.record_other_calendars(&events, now).await?;
            let calendar = match moved {
                Some(m) => {
                    events.insert(0, m);
                    self.calendar_record(&clock, now)?
                }
                None => None,
            };
            let before = state.version;
            let state = self.advance(case, state, &events)?;
            match self
                .store
                .append_with(case, before, &events, &state, calendar)
                .await
            {
                Ok(stored) => {
                    self.remember_recorded(clock.version());
                    self.cache_put(case, state);
                    return Ok(stored);
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => {
                    self.cache_drop(case);
                    return Err(e.into());
                }
            }
        }
        Err(ServiceError::Contention {
            case: case.clone(),
            attempts: self.retries + 1,
        })
    }

    /// Lets time pass to `now` for every case that is due: takes due wake-ups in rounds,
    /// decides each case's tick and appends it, several cases at a time.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, ServiceError> {
        let mut report = TickReport::default();
        // Each round leases what it takes, so a case comes back only after its lease: the
        // rounds end even if a case stays due.
        for _ in 0..10_000 {
            let due = self
                .store
                .claim_due(now, self.tick_batch, self.lease)
                .await?;
            let taken = due.len();
            let mut results = futures_util::stream::iter(due)
                .map(|w| async move {
                    let r = self.tick_case(&w.case, now).await;
                    (w.case, r)
                })
                .buffer_unordered(32);
            while let Some((case, r)) = results.next().await {
                match r {
                    Ok(events) if events.is_empty() => {}
                    Ok(events) => report.fired.push((case, events)),
                    Err(e) => report.failed.push((case, e)),
                }
            }
            if taken < self.tick_batch as usize {
                break;
            }
        }
        Ok(report)
    }

    async fn tick_case(
        &self,
        case: &CaseId,
        now: DateTime<Utc>,
    ) -> Result<Vec<StoredEvent>, ServiceError> {
        let mut fresh = false;
        for _ in 0..=self.retries {
            let (state, _) = self.state(case, fresh).await?;
            fresh = true;
            let (clock, moved) = self.follow(&state, now).await?;
            let events = match &moved {
                None => decide::tick_at(&state, now, &clock, Some(&*self.clocks))?,
                Some(m) => {
                    // The breaches are decided on the instants as the new calendar puts them.
                    let mut s = (*state).clone();
                    s.apply(m).map_err(EngineError::Fold)?;
                    let mut events = decide::tick_at(&s, now, &clock, Some(&*self.clocks))?;
                    events.insert(0, m.clone());
                    events
                }
            };
            let calendar = match moved {
                Some(_) => self.calendar_record(&clock, now)?,
                None => None,
            };
            if events.is_empty() {
                if self
                    .store
                    .reschedule(case, state.version, state.next_wakeup())
                    .await?
                {
                    return Ok(Vec::new());
                }
                continue;
            }
            let before = state.version;
            let state = self.advance(case, state, &events)?;
            match self
                .store
                .append_with(case, before, &events, &state, calendar)
                .await
            {
                Ok(stored) => {
                    self.remember_recorded(clock.version());
                    self.cache_put(case, state);
                    return Ok(stored);
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => {
                    self.cache_drop(case);
                    return Err(e.into());
                }
            }
        }
        Err(ServiceError::Contention {
            case: case.clone(),
            attempts: self.retries + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_stays_bounded_and_keeps_what_is_used() {
        let mut c: Generations<u32> = Generations::new(10);
        let id = |i: u32| CaseId::new(format!("c{i}"));
        c.put(id(0), 0);
        for i in 1..100 {
            c.put(id(i), i);
            // Case 0 is used all the time: it stays.
            assert_eq!(c.get(&id(0)), Some(0));
            assert!(c.len() <= 10, "{}", c.len());
        }
        assert_eq!(c.get(&id(1)), None);
        assert_eq!(c.get(&id(99)), Some(99));
        c.remove(&id(99));
        assert_eq!(c.get(&id(99)), None);
    }
}

//! The durable store: an append-only, hash-chained event log with read models (projections),
//! on SQLite by default and on PostgreSQL to scale out; and [`Service`], the application
//! layer that runs engine commands against it.
//!
//! # Tables
//! - `events` — the log. Per case a gapless `seq` from 1 with `UNIQUE (case_id, seq)`: two
//!   writers that decided on the same state cannot both append, the loser gets
//!   [`StoreError::Conflict`], reloads and decides again. Columns: type, `at`, actor user and
//!   role, regulation digest, calendar version, the event as canonical JSON (`body`),
//!   `prev_hash`, `hash`. Triggers refuse `UPDATE`/`DELETE` (and `TRUNCATE` on PostgreSQL).
//! - projections, written in the same transaction as the events they follow from, and
//!   rebuilt from the log by [`Store::rebuild`]: `cases`, `tasks` (inbox indexes over open
//!   and claimed tasks only, `(office, role, status, due, case_id, task)` covering the columns
//!   an inbox shows), `wakeups` (`wake_at` from
//!   [`CaseState::next_wakeup`], plus a lease).
//! - `regulations` — each deployed version with its YAML source, so a version a case is
//!   pinned to can always be compiled again ([`Store::process`]).
//! - `calendar_versions` — each calendar version a case was started on, with the data that
//!   rebuilds its `OfficeClock` (the national calendar's data, the weekly schedule and the time
//!   zone, see [`clocks`]): a case keeps its deadlines' arithmetic after the calendar files
//!   change.
//!
//! Instants are stored as `BIGINT` microseconds since the epoch in both back ends, so that they
//! share one row format ([`rows`]) and the inbox's keyset cursor is exact.
//!
//! # The hash chain
//! `hash = SHA-256(canonical record + "\n")`, lower-case hex, where the record is
//! `{"calendar_version", "case", "digest", "event", "prev_hash", "seq"}` and the canonical text is
//! what `jq -cS .` prints (keys sorted at every depth, no whitespace, UTF-8 as is). The first
//! event of a case has `prev_hash` = 64 zeros. An auditor recomputes a hash with
//! `jq -cS . record.json | sha256sum`. Details, the exact escaping and number rules, and a
//! worked example (checked by a test) are in `docs/hash-chain.md` and [`canonical`].
//! [`Store::verify_case`] / [`Store::verify_all`] report the first bad event of a case as
//! changed, deleted, inserted or reordered ([`verify`]); nothing is ever repaired, and
//! [`Store::rebuild`] refuses to run over a log that does not verify.
//!
//! # SQLite (`sqlite:path/to/reglament.db`, the default)
//! One file (plus its `-wal` and `-shm`) under a data folder, `journal_mode=WAL`,
//! `synchronous=FULL` (on the checkpointing connection too), `busy_timeout` 5 s. What
//! survives (also in `docs/store.md`):
//! - a **process crash** (kill -9, panic, OOM): every committed transaction. WAL frames are
//!   written to the file before `COMMIT` returns, and the operating system keeps them.
//! - a **power cut or kernel crash**: also every committed transaction, because with
//!   `synchronous=FULL` SQLite fsyncs the WAL at every commit. (`NORMAL` would fsync only at
//!   checkpoints and could lose the last commits on power loss; we do not use it.)
//!
//! A command is acknowledged only after the commit that holds its events has returned, so an
//! acknowledged completion survives both. A transaction that had not committed is rolled back
//! on the next open, as a whole.
//!
//! **Group commit.** All writes go through one writer thread that owns the only write
//! connections. It drives the append connection through SQLite's C API (statements prepared
//! once, a row per step, values bound without copies), not through sqlx, whose connection
//! thread would cost a hop per statement. An append that arrives while the writer is idle
//! opens a `BEGIN IMMEDIATE` transaction and is written at once; every append that queued
//! during the previous commit's fsync, or arrives while the batch is open, is written into the
//! same transaction, and the writer commits when no append has come for 150 µs or at
//! [`StoreOptions::max_batch`]: one fsync for the whole batch, and the writer's work overlaps
//! the clients'. Each job's expected `seq` is checked against the case's head (kept in memory,
//! read from the log when unknown); a stale one gets `Conflict` without affecting the others,
//! and any failed write rolls the batch back and commits each job alone. Other writes
//! (deployments, accounts, leases, rebuilds) run in turn on a sqlx connection of the same
//! thread. Reads use a separate pool of `query_only` connections, which WAL lets run
//! alongside the writer; the inbox, the hottest read, runs on read connections of its own
//! through the C API on the calling thread. One process owns a SQLite store; for several
//! server processes use PostgreSQL.
//!
//! # PostgreSQL (`postgres://…`)
//! Several `reglament` processes may share one database. An append reads the case's head and
//! then writes its events and projection rows in one statement (data-modifying CTEs; a
//! transaction when it also records a calendar version); the unique `(case_id, seq)` index
//! serialises two nodes appending to one case (the second waits for the first and then fails
//! with a unique violation, reported as `Conflict`, and writes nothing), so a task claim has
//! exactly one winner. Due wake-ups are taken by [`Store::claim_due`] with
//! `FOR UPDATE SKIP LOCKED`, which leases them (`lease_until`, `lease_owner`) in a short
//! transaction: two nodes never take the same wake-up at once, and when a node dies its lease
//! runs out and another node takes the wake-up (it is late by at most the lease, never lost).
//! A deadline never fires twice even if a lease runs out while its holder is still working:
//! the tick's events are appended at an expected `seq`, and the slower node gets `Conflict`,
//! reloads, and finds nothing left to do. Lease instants are compared with the `now` given to
//! `tick` (the engine never reads the clock itself).
//!
//! # Migrations
//! One folder per back end (`engine/store/migrations/sqlite`, `engine/store/migrations/postgres`), embedded
//! with `include_str!` and run by `sqlx::migrate::Migrator::with_migrations` ([`migrate`]).
//! We do not use `sqlx::migrate!` because it needs sqlx's `macros` feature, which builds
//! sqlx and the bundled SQLite a second time for the proc-macro; nor the `query!` macros,
//! whose offline cache fits one database only. Every query is a plain `sqlx::query`/`query_as`
//! with `FromRow` rows, and the same test suite runs against both back ends.
//! [`Store::open`] migrates; `reglament db migrate` does only that.

// All unsafe code of Reglament is in one module, `sqlite_capi`, the safe layer over SQLite's
// C API; every other module (and every other crate, with `forbid`) is refused any.
#![deny(unsafe_code)]

#[macro_use]
mod shared;
pub mod canonical;
pub mod clocks;
pub mod migrate;
pub mod outbox;
mod postgres;
pub mod rows;
pub mod scan;
pub mod search;
mod service;
pub mod side;
mod sqlite;
#[allow(unsafe_code)]
mod sqlite_capi;
pub mod verify;
pub mod versions;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use reglament_model::compile::Process;
use reglament_model::diagnostic::Diagnostic;
use reglament_runtime::{CaseId, CaseState, Event, FoldError};
use rows::{CaseRow, EventRow, PreparedEvent, TaskRow, WakeupRow, instant, micros};

pub use service::{CalendarFollowReport, CaseMove, Service, ServiceError, TickReport};
pub use verify::{Tamper, TamperKind};

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("`{url}` is not a database URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot open the database {url}: {source}")]
    Unavailable {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// From the SQLite writer's own connection.
    #[error("database error: {0}")]
    Sqlite(#[from] SqliteError),
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "migration version {0} is the store's own or is taken twice (a user's are 10 and from 1000)"
    )]
    MigrationVersion(i64),
    /// The case's log is not at the `seq` the events were decided on.
    #[error("case `{case}` has moved on: expected its last event to be {expected}, it is {actual}")]
    Conflict {
        case: String,
        expected: u64,
        actual: u64,
    },
    /// The case's history does not verify: no command may append to it.
    #[error("the history of {0}; the case is held until an administrator restores it")]
    HistoryDoesNotVerify(Tamper),
    /// Another server stored a checkpoint with this number first.
    #[error("checkpoint {0} is stored already")]
    CheckpointTaken(u64),
    /// The regulation has errors; each keeps its code, place and JSON pointer.
    #[error("the regulation does not validate:\n{}", diagnostics.iter().map(Diagnostic::header).collect::<Vec<_>>().join("\n"))]
    InvalidRegulation { diagnostics: Vec<Diagnostic> },
    #[error(
        "regulation `{id}` version {version} is already deployed with other content (digest {existing}); deploy it as a higher version"
    )]
    VersionTaken {
        id: String,
        version: u32,
        existing: String,
    },
    #[error(
        "regulation `{id}` version {version} is older than the deployed version {latest}; a new deployment needs a higher version"
    )]
    VersionTooLow {
        id: String,
        version: u32,
        latest: u32,
    },
    /// The version's days do not follow the deployed version before it (`versions.rs`).
    #[error("regulation `{id}`: {conflict}")]
    Succession {
        id: String,
        conflict: versions::Succession,
    },
    #[error("no deployed regulation has digest {digest}")]
    UnknownDigest { digest: String },
    #[error("no regulation `{0}` is deployed")]
    UnknownRegulation(String),
    #[error("the stored source of regulation digest {digest} no longer compiles: {reason}")]
    StoredRegulation { digest: String, reason: String },
    #[error("calendar version {version}: {reason}")]
    Calendar { version: String, reason: String },
    #[error("case `{case}`, event {seq}: the stored event cannot be read: {reason}")]
    Corrupt {
        case: String,
        seq: i64,
        reason: String,
    },
    #[error("case `{case}`: {source}")]
    Fold {
        case: String,
        #[source]
        source: FoldError,
    },
    #[error("`{0}` is not an inbox cursor")]
    BadCursor(String),
    #[error("the log does not verify; nothing was rebuilt. First problem: {}", first.as_ref().map(ToString::to_string).unwrap_or_default())]
    Tampered {
        problems: usize,
        first: Option<Tamper>,
    },
    #[error("the store's writer has stopped")]
    WriterGone,
    /// A thread the store ran work on panicked (a bug: the work is not done, nothing is lost).
    #[error("a background task failed: {0}")]
    Task(String),
    #[error("encoding an event: {0}")]
    Encode(#[from] serde_json::Error),
}

impl StoreError {
    /// The database cannot take the request now (its pool is exhausted or closed, the
    /// writer stopped): the caller may retry later; nothing about the request was wrong.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable { .. }
                | StoreError::WriterGone
                | StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed)
        )
    }

    /// A unique-constraint violation: for an append, someone else took the `seq`; for a
    /// side table, the key exists.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(e) => e.is_unique_violation(),
            _ => false,
        }
    }
}

/// An error of SQLite's C API, as the SQLite writer meets it: the extended result code and
/// SQLite's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (SQLite code {code})")]
pub struct SqliteError {
    pub code: i32,
    pub message: String,
}

impl SqliteError {
    fn is_unique_violation(&self) -> bool {
        self.code == libsqlite3_sys::SQLITE_CONSTRAINT_UNIQUE
            || self.code == libsqlite3_sys::SQLITE_CONSTRAINT_PRIMARYKEY
    }
}

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        })
    }
}

/// Tuning; [`StoreOptions::default`] suits a server.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections: SQLite readers, or the PostgreSQL pool.
    pub pool_size: u32,
    /// How long SQLite waits for a lock held by another process.
    pub busy_timeout: Duration,
    /// SQLite: most appends committed in one transaction.
    pub max_batch: usize,
    /// Apply migrations on open.
    pub migrate: bool,
    /// This node's name in wake-up leases (default: host and process id).
    pub node: Option<String>,
    /// The user's migrations for the tables it keeps beside the log ([`side`]), applied
    /// with the store's own.
    pub migrations: Vec<migrate::Migration>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            pool_size: 8,
            busy_timeout: Duration::from_secs(5),
            max_batch: 512,
            migrate: true,
            node: None,
            migrations: Vec::new(),
        }
    }
}

/// Counts of the `tasks` projection for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TaskCounts {
    /// Open and not claimed.
    pub open: i64,
    /// Open and claimed.
    pub claimed: i64,
    /// Open (claimed or not) with their deadline breached.
    pub breached: i64,
}

/// An event as stored: its place in the case's history and its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub case: CaseId,
    pub seq: u64,
    pub event: Event,
    pub prev_hash: String,
    pub hash: String,
}

/// A deployed regulation version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deployed {
    pub id: String,
    pub version: u32,
    pub digest: String,
    /// False when exactly this content was already deployed (deploying is idempotent).
    pub new: bool,
}

/// A row of the `regulations` table, without the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegulationInfo {
    pub id: String,
    pub version: u32,
    pub digest: String,
    pub deployed_at: DateTime<Utc>,
    pub deployed_by: String,
    /// The days the version applies by its own dates ([`versions::Window`]).
    pub window: versions::Window,
}

/// Which tasks an inbox lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxStatus {
    /// Open tasks nobody has claimed (those handed to one user included: see `assigned_to`).
    Open,
    /// Open tasks claimed by this user.
    ClaimedBy(String),
}

/// An inbox query: tasks of the given roles in the given offices, ordered by due instant
/// (tasks without one last), then case, then task number.
#[derive(Debug, Clone)]
pub struct InboxQuery {
    pub roles: Vec<String>,
    pub offices: Vec<String>,
    pub status: InboxStatus,
    /// Only tasks whose due instant is before this one (overdue at that time).
    pub overdue_at: Option<DateTime<Utc>>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size (1 to 1000).
    pub limit: u32,
}

impl InboxQuery {
    /// The first page of open tasks of one role in one office.
    pub fn open(role: &str, office: &str, limit: u32) -> InboxQuery {
        InboxQuery {
            roles: vec![role.to_string()],
            offices: vec![office.to_string()],
            status: InboxStatus::Open,
            overdue_at: None,
            after: None,
            limit,
        }
    }
}

/// One task in an inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxItem {
    pub case: String,
    pub task: u32,
    pub step: String,
    pub role: String,
    pub office: String,
    pub status: String,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub breached: bool,
    pub regulation: String,
    pub applicant: Option<String>,
    /// Since when the task's time is stopped, while it is suspended.
    pub suspended_since: Option<DateTime<Utc>>,
}

impl InboxItem {
    /// The inbox's order: due instant (none last), then case, then task number.
    pub fn sort_key(&self) -> (i64, &str, u32) {
        (
            self.due.map_or(rows::NO_DUE, micros),
            self.case.as_str(),
            self.task,
        )
    }

    /// The keyset cursor of the page that ends with this item.
    pub fn cursor(&self) -> String {
        cursor(
            self.due.map_or(rows::NO_DUE, micros),
            i64::from(self.task),
            &self.case,
        )
    }
}

/// A page of an inbox; `next` is the cursor of the following page, if there may be one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    pub next: Option<String>,
}

impl InboxPage {
    /// One page out of pages of the same query asked of several offices (each one already
    /// cut at `limit` after the same cursor): the first `limit` items in inbox order, and a
    /// cursor when any page had more or the pages together have more.
    pub fn merge(pages: impl IntoIterator<Item = InboxPage>, limit: u32) -> InboxPage {
        let mut items = Vec::new();
        let mut more = false;
        for page in pages {
            more |= page.next.is_some();
            items.extend(page.items);
        }
        items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        more |= items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = if more {
            items.last().map(InboxItem::cursor)
        } else {
            None
        };
        InboxPage { items, next }
    }
}

/// A case as the projections show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseView {
    pub case: String,
    pub regulation: String,
    pub regulation_version: u32,
    pub digest: String,
    pub channel: String,
    pub office: String,
    pub calendar_version: String,
    pub status: String,
    pub result: Option<String>,
    pub applicant: Option<String>,
    pub started_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub breached: bool,
    pub documents_missing: bool,
    pub ended_at: Option<DateTime<Utc>>,
    pub last_seq: u64,
    pub last_hash: String,
    /// Incidents not yet resolved.
    pub incidents_open: u32,
    pub tasks: Vec<TaskView>,
}

/// A task as the projections show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskView {
    pub task: u32,
    pub step: String,
    pub role: String,
    /// The office the task is in.
    pub office: String,
    pub status: String,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub breached: bool,
    pub outcome: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    /// Since when the task's time is stopped, while it is suspended.
    pub suspended_since: Option<DateTime<Utc>>,
}

fn due_of(due: i64) -> Option<DateTime<Utc>> {
    (due != rows::NO_DUE).then(|| instant(due))
}

impl From<TaskRow> for TaskView {
    fn from(t: TaskRow) -> Self {
        TaskView {
            task: t.task as u32,
            step: t.step,
            role: t.role,
            office: t.office,
            status: t.status,
            claimed_by: t.claimed_by,
            assigned_to: t.assigned_to,
            opened_at: instant(t.opened_at),
            due: due_of(t.due),
            breached: t.breached,
            outcome: t.outcome,
            closed_at: t.closed_at.map(instant),
            closed_by: t.closed_by,
            suspended_since: t.suspended_since.map(instant),
        }
    }
}

impl CaseView {
    fn new(c: CaseRow, tasks: Vec<TaskRow>) -> CaseView {
        CaseView {
            case: c.case_id,
            regulation: c.regulation_id,
            regulation_version: c.regulation_version as u32,
            digest: c.digest,
            channel: c.channel,
            office: c.office,
            calendar_version: c.calendar_version,
            status: c.status,
            result: c.result,
            applicant: c.applicant,
            started_at: instant(c.started_at),
            registered_at: instant(c.registered_at),
            due: c.due.map(instant),
            breached: c.breached,
            documents_missing: c.documents_missing,
            ended_at: c.ended_at.map(instant),
            last_seq: c.last_seq as u64,
            last_hash: c.last_hash,
            incidents_open: c.incidents_open as u32,
            tasks: tasks.into_iter().map(TaskView::from).collect(),
        }
    }
}

/// A wake-up taken by [`Store::claim_due`]: the case is leased to this node until it appends
/// or reschedules, or until the lease runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueWakeup {
    pub case: CaseId,
    pub wake_at: DateTime<Utc>,
}

/// The result of checking chains.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub cases: u64,
    pub events: u64,
    /// The first bad event of each bad case.
    pub problems: Vec<Tamper>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A value bound to a statement of [`Store::write_one`].
enum Param {
    Int(i64),
    Text(String),
}

/// A case's chain head: its last event's place and hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChainHead {
    pub case: String,
    pub seq: u64,
    pub hash: String,
}

/// A case held because its history does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub detected_at: DateTime<Utc>,
    /// The first bad event, as [`verify::verify_case`] names it now.
    pub tamper: Tamper,
}

/// A checkpoint as stored: its number and its body (canonical JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub number: u64,
    pub body: String,
}

/// What [`Store::rebuild`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    pub cases: u64,
    pub events: u64,
    pub tasks: u64,
    pub wakeups: u64,
}

/// Counts for `reglament db status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StatusReport {
    #[sqlx(skip)]
    pub backend: Option<BackendKind>,
    pub schema_version: i64,
    pub events: i64,
    pub cases: i64,
    pub open_cases: i64,
    pub open_tasks: i64,
    pub wakeups: i64,
    pub next_wakeup: Option<i64>,
    pub regulations: i64,
    pub calendar_versions: i64,
    /// Open cases with at least one incident waiting for an administrator.
    pub incident_cases: i64,
}

/// Every projection row, sorted: what `rebuild` must reproduce (leases are not compared).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projections {
    pub cases: Vec<CaseRow>,
    pub tasks: Vec<TaskRow>,
    pub wakeups: Vec<WakeupRow>,
}

/// One case's append, as the writer receives it.
#[derive(Debug, Clone)]
pub(crate) struct AppendJob {
    pub case: String,
    pub expected: i64,
    pub digest: String,
    pub calendar_version: String,
    pub events: Vec<PreparedEvent>,
    /// The case row after the events (`last_seq` and `last_hash` are set by the writer).
    pub case_row: CaseRow,
    pub tasks: Vec<TaskRow>,
    pub wake_at: Option<i64>,
    pub calendar: Option<clocks::CalendarRecord>,
    /// The case's search rows, when these events may change them.
    pub search: Option<search::SearchRows>,
}

/// Where the appended events went: (prev_hash, hash) per event, from `first_seq` on.
#[derive(Debug, Clone)]
pub(crate) struct AppendDone {
    pub first_seq: i64,
    pub hashes: Vec<(String, String)>,
}

/// The rows of a batch of appends, after each job's expected `seq` was checked.
#[derive(Debug, Default)]
pub(crate) struct BatchRows<'a> {
    pub events: Vec<rows::NewEventRow<'a>>,
    /// The last row of each case (a case may have several jobs in one batch).
    pub cases: Vec<CaseRow>,
    pub tasks: Vec<&'a TaskRow>,
    pub wakeups_set: Vec<(&'a str, i64)>,
    pub wakeups_clear: Vec<&'a str>,
    pub calendars: Vec<&'a clocks::CalendarRecord>,
    /// In the order of the jobs (a case's later rows overwrite its earlier ones).
    pub search: Vec<&'a search::SearchRows>,
}

/// Checks each job against the heads (`case → (last seq, last hash)`, updated as jobs are
/// accepted), hashes the accepted ones and gathers all rows. Pure, so both back ends share it.
pub(crate) fn plan_batch<'a>(
    jobs: &[&'a AppendJob],
    heads: &mut HashMap<String, (i64, String)>,
) -> (Vec<Result<AppendDone, StoreError>>, BatchRows<'a>) {
    use std::collections::BTreeMap;
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut events = Vec::new();
    let mut cases: BTreeMap<&str, CaseRow> = BTreeMap::new();
    let mut tasks: BTreeMap<(&str, i64), &TaskRow> = BTreeMap::new();
    let mut wakeups: BTreeMap<&str, Option<i64>> = BTreeMap::new();
    let mut calendars = Vec::new();
    let mut search = Vec::new();
    for job in jobs {
        let (seq, hash) = heads
            .get(&job.case)
            .cloned()
            .unwrap_or((0, canonical::GENESIS.to_string()));
        if seq != job.expected {
            outcomes.push(Err(StoreError::Conflict {
                case: job.case.clone(),
                expected: job.expected as u64,
                actual: seq as u64,
            }));
            continue;
        }
        let mut prev = hash;
        let mut hashes = Vec::with_capacity(job.events.len());
        for (k, ev) in job.events.iter().enumerate() {
            let s = seq + 1 + k as i64;
            let h = ev.prefix.finish(&prev, s as u64);
            events.push(rows::NewEventRow {
                case_id: &job.case,
                seq: s,
                event: ev,
                digest: &job.digest,
                calendar_version: &job.calendar_version,
                prev_hash: prev.clone(),
                hash: h.clone(),
            });
            hashes.push((prev, h.clone()));
            prev = h;
        }
        let last = seq + job.events.len() as i64;
        let mut row = job.case_row.clone();
        row.last_seq = last;
        row.last_hash = prev.clone();
        cases.insert(&job.case, row);
        for t in &job.tasks {
            tasks.insert((&t.case_id, t.task), t);
        }
        wakeups.insert(&job.case, job.wake_at);
        if let Some(c) = &job.calendar {
            calendars.push(c);
        }
        search.extend(job.search.as_ref());
        heads.insert(job.case.clone(), (last, prev));
        outcomes.push(Ok(AppendDone {
            first_seq: seq + 1,
            hashes,
        }));
    }
    let batch = BatchRows {
        events,
        cases: cases.into_values().collect(),
        tasks: tasks.into_values().collect(),
        wakeups_set: wakeups
            .iter()
            .filter_map(|(c, w)| w.map(|w| (*c, w)))
            .collect(),
        wakeups_clear: wakeups
            .iter()
            .filter(|(_, w)| w.is_none())
            .map(|(c, _)| *c)
            .collect(),
        calendars,
        search,
    };
    (outcomes, batch)
}

enum Backend {
    Sqlite(Box<sqlite::Sqlite>),
    Postgres(postgres::Postgres),
}

struct Inner {
    backend: Backend,
    /// Compiled regulations by digest.
    processes: RwLock<HashMap<String, Arc<Process>>>,
    node: String,
    url: String,
    /// The store's migrations and the user's, in order.
    migrations: Vec<migrate::Migration>,
}

/// The durable store over SQLite or PostgreSQL. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// Runs `$body` with `$p` bound to the read pool of whichever back end: the SQL is the same
/// text for both (SQLite accepts PostgreSQL's `$1` placeholders), but the code is typed per
/// back end, so it is written once and expanded twice.
macro_rules! on_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.inner.backend {
            Backend::Sqlite(s) => {
                let $p = &s.read;
                $body
            }
            Backend::Postgres(s) => {
                let $p = &s.pool;
                $body
            }
        }
    };
}

mod adoptions;
pub use adoptions::{Adoption, CalendarGroup};
pub mod case_migration;

/// How a database URL is read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

fn parse_url(url: &str) -> Result<Location, StoreError> {
    let bad = |reason: &str| StoreError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Location::Postgres(url.to_string()));
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(bad(
            "use sqlite:PATH (e.g. sqlite:data/reglament.db) or postgres://USER@HOST:PORT/DB",
        ));
    };
    let path = rest.strip_prefix("//").unwrap_or(rest);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() {
        return Err(bad("the SQLite file name is missing"));
    }
    if path == ":memory:" {
        return Err(bad(
            "an in-memory SQLite database is not durable; give a file",
        ));
    }
    Ok(Location::Sqlite(PathBuf::from(path)))
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

fn default_node() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "node".to_string());
    format!("{host}:{}", std::process::id())
}

impl Store {
    /// Opens (creating a SQLite file and its folder if needed) and migrates.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, StoreOptions::default()).await
    }

    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let migrations = migrate::all(&options.migrations)?;
        let backend = match parse_url(url)? {
            Location::Sqlite(path) => {
                Backend::Sqlite(Box::new(sqlite::Sqlite::open(&path, &options).await?))
            }
            Location::Postgres(u) => {
                Backend::Postgres(postgres::Postgres::open(&u, &options).await?)
            }
        };
        let store = Store {
            inner: Arc::new(Inner {
                backend,
                processes: RwLock::new(HashMap::new()),
                node: options.node.clone().unwrap_or_else(default_node),
                url: redact(url),
                migrations,
            }),
        };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    pub fn backend(&self) -> BackendKind {
        match self.inner.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// The URL, password hidden.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// This node's name in leases.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// Applies the migrations this build has and the database lacks; returns the schema version.
    pub async fn migrate(&self) -> Result<i64, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(s) => s.migrate(&self.inner.migrations).await?,
            Backend::Postgres(s) => s.migrate(&self.inner.migrations).await?,
        }
        self.backfill_windows().await?;
        self.backfill_search().await?;
        self.schema_version().await
    }

    /// The highest migration applied (0 for an empty database).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
        let v: Result<i64, sqlx::Error> =
            on_pool!(self, |p| sqlx::query_scalar(sql).fetch_one(p).await);
        match v {
            Ok(v) => Ok(v),
            // No migrations table yet.
            Err(sqlx::Error::Database(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    // ------------------------------------------------------------------ monitoring

    /// Open, claimed and breached open tasks (a scan of the inbox index; for `/metrics`).
    pub async fn task_counts(&self) -> Result<TaskCounts, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            open: i64,
            claimed: i64,
            breached: i64,
        }
        let sql = "SELECT \
            (SELECT COUNT(*) FROM tasks WHERE status = 'open') AS open, \
            (SELECT COUNT(*) FROM tasks WHERE status = 'claimed') AS claimed, \
            (SELECT COUNT(*) FROM tasks WHERE status IN ('open', 'claimed') AND breached) AS breached";
        let rows: Vec<Row> = self.read_side::<Row>(sql, Vec::new()).await?;
        Ok(rows.first().map_or(TaskCounts::default(), |r| TaskCounts {
            open: r.open,
            claimed: r.claimed,
            breached: r.breached,
        }))
    }

    /// Open cases with at least one incident (the partial index `cases_incidents` holds only
    /// them, so counting does not scan the cases).
    pub async fn incident_case_count(&self) -> Result<i64, StoreError> {
        let n: i64 = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE incidents_open > 0"
        )
        .fetch_one(p)
        .await)?;
        Ok(n)
    }

    /// Closes the connections (the SQLite writer finishes what it was given first).
    pub async fn close(&self) {
        match &self.inner.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(s) => s.pool.close().await,
        }
    }

    // ---------------------------------------------------------------- regulations

    /// Deploys a regulation from its YAML source: validates and compiles it (without the
    /// list of known regions and calendars; a caller that has one validates with it and calls
    /// [`Store::deploy_validated`]), and stores the source with its digest.
    pub async fn deploy(
        &self,
        source: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(Deployed, Arc<Process>), StoreError> {
        let report = reglament_model::validate::check_str(source, "regulation.yaml", None);
        self.deploy_validated(report, by, now).await
    }

    /// Deploys what the validator made of a regulation's source, so a caller that has
    /// validated it (with the regions and calendars it knows) does not pay for it twice.
    /// A report with errors is refused with every diagnostic kept. Deploying the same
    /// content again is a no-op; a version number can never be reused for other content,
    /// nor can an older version be deployed after a newer.
    pub async fn deploy_validated(
        &self,
        report: reglament_model::validate::Report,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(Deployed, Arc<Process>), StoreError> {
        let errors = report.errors();
        match (report.process, report.source) {
            (Some(process), Some(source)) if errors == 0 => {
                self.deploy_process(Arc::new(process), &source, by, now)
                    .await
            }
            _ => Err(StoreError::InvalidRegulation {
                diagnostics: report
                    .diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect(),
            }),
        }
    }

    async fn deploy_process(
        &self,
        process: Arc<Process>,
        source: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(Deployed, Arc<Process>), StoreError> {
        let id = process.id().to_string();
        let version = process.version();
        let digest = process.digest.clone();
        let windows = self.windows(&id).await?;
        let existing: Vec<(i64, String)> = windows
            .iter()
            .map(|w| (i64::from(w.version), w.digest.clone()))
            .collect();
        if let Some((v, d)) = existing.iter().find(|(_, d)| *d == digest) {
            self.remember(&process);
            return Ok((
                Deployed {
                    id,
                    version: *v as u32,
                    digest: d.clone(),
                    new: false,
                },
                process,
            ));
        }
        if let Some((_, d)) = existing.iter().find(|(v, _)| *v == i64::from(version)) {
            return Err(StoreError::VersionTaken {
                id,
                version,
                existing: d.clone(),
            });
        }
        if let Some((latest, _)) = existing.last()
            && *latest > i64::from(version)
        {
            return Err(StoreError::VersionTooLow {
                id,
                version,
                latest: *latest as u32,
            });
        }
        // The days it applies must follow the newest deployed version's (`versions.rs`).
        let window = versions::Window::of(&process.regulation);
        if let Some(previous) = windows.last() {
            versions::follows((previous.version, previous.window), (version, window)).map_err(
                |conflict| StoreError::Succession {
                    id: id.clone(),
                    conflict,
                },
            )?;
        }
        let sql = "INSERT INTO regulations (regulation_id, version, digest, source, deployed_at, deployed_by, effective_from, effective_to) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let [from, until] = versions::window_args(&window);
        let args = vec![
            side::SqlArg::Text(id.clone()),
            side::SqlArg::Int(i64::from(version)),
            side::SqlArg::Text(digest.clone()),
            side::SqlArg::Text(source.to_string()),
            side::SqlArg::Int(micros(now)),
            side::SqlArg::Text(by.to_string()),
            from,
            until,
        ];
        let inserted = self.write_side(vec![(sql, args)]).await;
        match inserted {
            Ok(_) => {}
            // Another node deployed at the same moment: decide again on what it wrote.
            Err(e) if e.is_unique_violation() => {
                return Box::pin(self.deploy_process(process, source, by, now)).await;
            }
            Err(e) => return Err(e),
        }
        self.remember(&process);
        Ok((
            Deployed {
                id,
                version,
                digest,
                new: true,
            },
            process,
        ))
    }

    fn remember(&self, process: &Arc<Process>) {
        if let Ok(mut map) = self.inner.processes.write() {
            map.entry(process.digest.clone())
                .or_insert_with(|| process.clone());
        }
    }

    /// The YAML text of a deployed version, exactly as it was deployed.
    pub async fn source(&self, digest: &str) -> Result<String, StoreError> {
        let source: Option<String> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT source FROM regulations WHERE digest = $1"
        )
        .bind(digest)
        .fetch_optional(p)
        .await)?;
        source.ok_or_else(|| StoreError::UnknownDigest {
            digest: digest.to_string(),
        })
    }

    /// The deployed versions, oldest first per id.
    pub async fn regulations(&self) -> Result<Vec<RegulationInfo>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            regulation_id: String,
            version: i64,
            digest: String,
            deployed_at: i64,
            deployed_by: String,
            effective_from: Option<String>,
            effective_to: Option<String>,
        }
        let rows: Vec<Row> = self
            .read_side(
                "SELECT regulation_id, version, digest, deployed_at, deployed_by, effective_from, effective_to \
                 FROM regulations ORDER BY regulation_id, version",
                Vec::new(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| RegulationInfo {
                id: r.regulation_id,
                version: r.version as u32,
                digest: r.digest,
                deployed_at: instant(r.deployed_at),
                deployed_by: r.deployed_by,
                window: versions::window_of_row(
                    r.effective_from.as_deref(),
                    r.effective_to.as_deref(),
                ),
            })
            .collect())
    }

    /// The compiled regulation with this digest, compiled from its stored source the first
    /// time and shared after.
    pub async fn process(&self, digest: &str) -> Result<Arc<Process>, StoreError> {
        if let Some(p) = self
            .inner
            .processes
            .read()
            .ok()
            .and_then(|m| m.get(digest).cloned())
        {
            return Ok(p);
        }
        let source: Option<String> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT source FROM regulations WHERE digest = $1"
        )
        .bind(digest)
        .fetch_optional(p)
        .await)?;
        let Some(source) = source else {
            return Err(StoreError::UnknownDigest {
                digest: digest.to_string(),
            });
        };
        let report = reglament_model::validate::check_str(&source, "stored.yaml", None);
        let process = report.process.ok_or_else(|| StoreError::StoredRegulation {
            digest: digest.to_string(),
            reason: report
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| d.header())
                .unwrap_or_default(),
        })?;
        if process.digest != digest {
            // The engine's model serialises differently from when this version was deployed.
            // The source is what was deployed, so cases keep running on it under its old digest.
            tracing::warn!(
                stored = digest,
                recomputed = process.digest,
                "a stored regulation's digest changed with this engine version"
            );
        }
        let process = Arc::new(process);
        if let Ok(mut map) = self.inner.processes.write() {
            map.insert(digest.to_string(), process.clone());
        }
        Ok(process)
    }

    /// The newest deployed version of a regulation.
    pub async fn latest(&self, id: &str) -> Result<Arc<Process>, StoreError> {
        let digest: Option<String> = on_pool!(self, |p| {
            sqlx::query_scalar(
            "SELECT digest FROM regulations WHERE regulation_id = $1 ORDER BY version DESC LIMIT 1"
        )
        .bind(id)
        .fetch_optional(p)
        .await
        })?;
        match digest {
            Some(d) => self.process(&d).await,
            None => Err(StoreError::UnknownRegulation(id.to_string())),
        }
    }

    /// The stored data of a calendar version, if any case was started on it.
    pub async fn calendar_data(&self, version: &str) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, |p| sqlx::query_scalar(
            "SELECT data FROM calendar_versions WHERE version = $1"
        )
        .bind(version)
        .fetch_optional(p)
        .await)?)
    }

    // ---------------------------------------------------------------- the log

    /// A case's events after `seq` (0 for all), in order, with their hashes.
    pub async fn events_after(
        &self,
        case: &CaseId,
        seq: u64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self.event_rows(case.as_str(), seq as i64).await?;
        rows.into_iter().map(stored_event).collect()
    }

    /// A case's events, in order, with their hashes (empty for an unknown case).
    pub async fn events(&self, case: &CaseId) -> Result<Vec<StoredEvent>, StoreError> {
        self.events_after(case, 0).await
    }

    async fn event_rows(&self, case: &str, after: i64) -> Result<Vec<EventRow>, StoreError> {
        Ok(on_pool!(self, |p| sqlx::query_as::<_, EventRow>(
            EVENTS_AFTER
        )
        .bind(case)
        .bind(after)
        .fetch_all(p)
        .await)?)
    }

    /// The `seq` of a case's last event (0 for an unknown case).
    pub async fn head(&self, case: &CaseId) -> Result<u64, StoreError> {
        let seq: Option<i64> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT MAX(seq) FROM events WHERE case_id = $1"
        )
        .bind(case.as_str())
        .fetch_one(p)
        .await)?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// Rebuilds a case's state from its events (`None` for an unknown case).
    ///
    /// The case's chain is checked first (each hash recomputes, each event links to the one
    /// before): a case whose history does not verify is held — recorded in `case_holds` for
    /// administrators — and [`StoreError::HistoryDoesNotVerify`] keeps every command off it, so
    /// nothing is appended to forged ground.
    pub async fn load(&self, case: &CaseId) -> Result<Option<CaseState>, StoreError> {
        let rows = self.event_rows(case.as_str(), 0).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        // Not against the projection's head: another node may append between the two reads.
        if let Err(tamper) = verify::verify_case(&rows, None) {
            if let Err(e) = self.hold(&tamper).await {
                tracing::warn!(error = %e, case = %tamper.case, "cannot record the hold");
            }
            tracing::error!(%tamper, "a case's history does not verify; it is held");
            return Err(StoreError::HistoryDoesNotVerify(tamper));
        }
        let events = rows
            .into_iter()
            .map(stored_event)
            .collect::<Result<Vec<_>, _>>()?;
        let Some(first) = events.first() else {
            return Ok(None);
        };
        let digest = match &first.event.kind {
            reglament_runtime::EventKind::CaseStarted { digest, .. } => digest.clone(),
            _ => {
                return Err(StoreError::Fold {
                    case: case.to_string(),
                    source: FoldError::NotStarted,
                });
            }
        };
        // A case runs on the version it started on until a `case_migrated` moves it: every
        // version it ran on is needed to fold it.
        let mut processes = HashMap::new();
        processes.insert(digest.clone(), self.process(&digest).await?);
        for e in &events {
            if let reglament_runtime::EventKind::CaseMigrated { to_digest, .. } = &e.event.kind
                && !processes.contains_key(to_digest)
            {
                processes.insert(to_digest.clone(), self.process(to_digest).await?);
            }
        }
        let resolve = |d: &str| processes.get(d).cloned();
        let state =
            CaseState::fold(events.iter().map(|e| &e.event), resolve).map_err(|source| {
                StoreError::Fold {
                    case: case.to_string(),
                    source,
                }
            })?;
        Ok(Some(state))
    }

    /// Appends events decided on the state at `expected_seq` (0 for a new case), with the
    /// projections they change, in one transaction. `after` is the state with the events
    /// applied. `Err(Conflict)` when the case's log is no longer at `expected_seq`.
    pub async fn append(
        &self,
        case: &CaseId,
        expected_seq: u64,
        events: &[Event],
        after: &CaseState,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.append_with(case, expected_seq, events, after, None)
            .await
    }

    pub(crate) async fn append_with(
        &self,
        case: &CaseId,
        expected_seq: u64,
        events: &[Event],
        after: &CaseState,
        calendar: Option<clocks::CalendarRecord>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let digest = after.process.digest.as_str();
        let prepared = events
            .iter()
            .map(|e| PreparedEvent::new(e, case.as_str(), digest, &after.calendar_version))
            .collect::<Result<Vec<_>, _>>()?;
        let migrated = events
            .iter()
            .any(|e| matches!(e.kind, reglament_runtime::EventKind::CaseMigrated { .. }));
        let tasks = if migrated {
            // A migration may rename the steps of closed tasks too (the new version's
            // conditions read their outcomes by the new names).
            rows::all_task_rows(after)
        } else {
            rows::touched_tasks(events)
                .into_iter()
                .filter_map(|t| rows::task_row(after, t))
                .collect()
        };
        let job = AppendJob {
            case: case.to_string(),
            expected: expected_seq as i64,
            digest: after.process.digest.clone(),
            calendar_version: after.calendar_version.to_string(),
            events: prepared,
            case_row: rows::case_row(after, ""),
            tasks,
            wake_at: after.next_wakeup().map(micros),
            calendar,
            search: search::changes_search(events).then(|| search::search_rows(after)),
        };
        let done = match &self.inner.backend {
            Backend::Sqlite(s) => s.append(job).await?,
            Backend::Postgres(s) => s.append(job).await?,
        };
        Ok(events
            .iter()
            .zip(done.hashes)
            .enumerate()
            .map(|(k, (e, (prev, hash)))| StoredEvent {
                case: case.clone(),
                seq: (done.first_seq + k as i64) as u64,
                event: e.clone(),
                prev_hash: prev,
                hash,
            })
            .collect())
    }

    // ---------------------------------------------------------------- reading

    /// A page of an inbox.
    pub async fn inbox(&self, q: &InboxQuery) -> Result<InboxPage, StoreError> {
        let (sql, binds) = inbox_sql(q)?;
        let limit = q.limit.clamp(1, 1000) as usize;
        let rows: Vec<InboxRow> = match &self.inner.backend {
            Backend::Sqlite(s) => s.inbox(&sql, &binds)?,
            Backend::Postgres(s) => {
                let mut query = sqlx::query_as::<_, InboxRow>(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    query = match b {
                        Bind::Text(s) => query.bind(s),
                        Bind::Int(i) => query.bind(i),
                    };
                }
                query.fetch_all(&s.pool).await?
            }
        };
        let next = (rows.len() == limit)
            .then(|| rows.last().map(|r| cursor(r.due, r.task, &r.case_id)))
            .flatten();
        Ok(InboxPage {
            items: rows.into_iter().map(InboxRow::into_item).collect(),
            next,
        })
    }

    /// A page of the inbox of several (role, office) pairs: one query per office with that
    /// office's roles (the store crosses a query's roles with its offices, and a user's roles
    /// differ between offices), merged into one page in inbox order.
    pub async fn inbox_of(
        &self,
        pairs: &[(String, String)],
        status: &InboxStatus,
        overdue_at: Option<DateTime<Utc>>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<InboxPage, StoreError> {
        let mut by_office: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for (role, office) in pairs {
            by_office.entry(office).or_default().push(role.clone());
        }
        let mut pages = Vec::with_capacity(by_office.len());
        for (office, roles) in by_office {
            let q = InboxQuery {
                roles,
                offices: vec![office.to_string()],
                status: status.clone(),
                overdue_at,
                after: after.map(str::to_string),
                limit,
            };
            pages.push(self.inbox(&q).await?);
        }
        Ok(InboxPage::merge(pages, limit))
    }

    /// A case with its tasks, as the projections show it.
    pub async fn case(&self, case: &CaseId) -> Result<Option<CaseView>, StoreError> {
        let row: Option<CaseRow> = on_pool!(self, |p| sqlx::query_as::<_, CaseRow>(
            "SELECT * FROM cases WHERE case_id = $1"
        )
        .bind(case.as_str())
        .fetch_optional(p)
        .await)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let tasks: Vec<TaskRow> = on_pool!(self, |p| sqlx::query_as::<_, TaskRow>(
            "SELECT * FROM tasks WHERE case_id = $1 ORDER BY task"
        )
        .bind(case.as_str())
        .fetch_all(p)
        .await)?;
        Ok(Some(CaseView::new(row, tasks)))
    }

    /// The cases waiting for an administrator after an incident, by office and id: at most
    /// `limit` of them, after `after` (a case id) when paging.
    pub async fn incident_cases(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let rows: Vec<CaseRow> = on_pool!(self, |p| sqlx::query_as::<_, CaseRow>(
            "SELECT * FROM cases WHERE incidents_open > 0 AND case_id > $1 \
             ORDER BY case_id LIMIT $2"
        )
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(p)
        .await)?;
        Ok(rows)
    }

    /// Counts for `reglament db status`. Counting is a scan; the rest of the store never counts.
    pub async fn status(&self) -> Result<StatusReport, StoreError> {
        let sql = "SELECT \
            (SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success) AS schema_version, \
            (SELECT COUNT(*) FROM events) AS events, \
            (SELECT COUNT(*) FROM cases) AS cases, \
            (SELECT COUNT(*) FROM cases WHERE status = 'open') AS open_cases, \
            (SELECT COUNT(*) FROM tasks WHERE status IN ('open', 'claimed')) AS open_tasks, \
            (SELECT COUNT(*) FROM wakeups) AS wakeups, \
            (SELECT MIN(wake_at) FROM wakeups) AS next_wakeup, \
            (SELECT COUNT(*) FROM regulations) AS regulations, \
            (SELECT COUNT(*) FROM calendar_versions) AS calendar_versions, \
            (SELECT COUNT(*) FROM cases WHERE incidents_open > 0) AS incident_cases";
        let mut report: StatusReport = on_pool!(self, |p| sqlx::query_as(sql).fetch_one(p).await)?;
        report.backend = Some(self.backend());
        Ok(report)
    }

    // ---------------------------------------------------------------- wake-ups

    /// Takes up to `limit` wake-ups due at `now` that no live lease holds, and leases them to
    /// this node until `now + lease`.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<DueWakeup>, StoreError> {
        let now_us = micros(now);
        let until = now_us.saturating_add(lease.as_micros().min(i64::MAX as u128) as i64);
        let owner = self.inner.node.clone();
        let rows: Vec<(String, i64)> = match &self.inner.backend {
            Backend::Sqlite(s) => s.claim_due(now_us, until, owner, i64::from(limit)).await?,
            Backend::Postgres(s) => s.claim_due(now_us, until, owner, i64::from(limit)).await?,
        };
        let mut out: Vec<DueWakeup> = rows
            .into_iter()
            .map(|(c, w)| DueWakeup {
                case: CaseId::new(c),
                wake_at: instant(w),
            })
            .collect();
        out.sort_by(|a, b| (a.wake_at, &a.case).cmp(&(b.wake_at, &b.case)));
        Ok(out)
    }

    /// After a tick that changed nothing: sets the case's wake-up (or removes it) and drops
    /// the lease, if the case is still at `seq`. `false` when the case has moved on.
    pub async fn reschedule(
        &self,
        case: &CaseId,
        seq: u64,
        wake_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let case = case.to_string();
        let wake = wake_at.map(micros);
        match &self.inner.backend {
            Backend::Sqlite(s) => s.reschedule(case, seq as i64, wake).await,
            Backend::Postgres(s) => s.reschedule(case, seq as i64, wake).await,
        }
    }

    // ---------------------------------------------------------------- audit

    /// Checks one case's chain, and its head against the projections.
    pub async fn verify_case(&self, case: &CaseId) -> Result<Result<usize, Tamper>, StoreError> {
        let rows = self.event_rows(case.as_str(), 0).await?;
        let head: Option<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT last_seq, last_hash FROM cases WHERE case_id = $1"
        )
        .bind(case.as_str())
        .fetch_optional(p)
        .await)?;
        let head = head.map(|(last_seq, last_hash)| verify::Head {
            last_seq,
            last_hash,
        });
        if rows.is_empty() {
            return Ok(match head {
                Some(h) => Err(Tamper {
                    case: case.to_string(),
                    seq: 1,
                    kind: TamperKind::Deleted,
                    detail: format!(
                        "the projections know the case with {} event(s); the log has none",
                        h.last_seq
                    ),
                }),
                None => Ok(0),
            });
        }
        Ok(verify::verify_case(&rows, head.as_ref()))
    }

    /// Checks every case's chain in one read snapshot, streaming the log in pages.
    pub async fn verify_all(&self) -> Result<VerifyReport, StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(s) => s.verify_all().await,
            Backend::Postgres(s) => s.verify_all().await,
        }
    }

    // ---------------------------------------------------------------- checkpoints

    /// Every case's chain head as the projections hold it, by case id.
    pub async fn heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        let rows: Vec<(String, i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT case_id, last_seq, last_hash FROM cases ORDER BY case_id"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(case, seq, hash)| ChainHead {
                case,
                seq: seq as u64,
                hash,
            })
            .collect())
    }

    /// The stored hash of each `(case, seq)` asked for that exists, in no particular order: a
    /// few hundred places per query rather than one query each.
    pub async fn event_hashes(
        &self,
        places: &[(String, u64)],
    ) -> Result<Vec<(String, u64, String)>, StoreError> {
        const CHUNK: usize = 500;
        let mut out = Vec::with_capacity(places.len());
        for chunk in places.chunks(CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| match self.backend() {
                    BackendKind::Postgres => {
                        format!("(${}::text, ${}::bigint)", 2 * i + 1, 2 * i + 2)
                    }
                    BackendKind::Sqlite => format!("(${}, ${})", 2 * i + 1, 2 * i + 2),
                })
                .collect();
            let sql = format!(
                "WITH v(c, s) AS (VALUES {}) SELECT e.case_id, e.seq, e.hash FROM v \
                 JOIN events e ON e.case_id = v.c AND e.seq = v.s",
                values.join(", ")
            );
            let rows: Vec<(String, i64, String)> = on_pool!(self, |p| {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for (case, seq) in chunk {
                    q = q.bind(case.as_str()).bind(*seq as i64);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows.into_iter().map(|(c, s, h)| (c, s as u64, h)));
        }
        Ok(out)
    }

    /// Records that `tamper.case` is held (once; the first finding stays).
    async fn hold(&self, tamper: &Tamper) -> Result<(), StoreError> {
        let sql = "INSERT INTO case_holds (case_id, detected_at, seq, kind, detail) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id) DO NOTHING";
        let (case, seq, kind, detail) = (
            tamper.case.clone(),
            tamper.seq,
            tamper.kind.to_string(),
            tamper.detail.clone(),
        );
        let at = rows::micros(Utc::now());
        self.write_one(
            sql,
            vec![
                Param::Text(case),
                Param::Int(at),
                Param::Int(seq),
                Param::Text(kind),
                Param::Text(detail),
            ],
        )
        .await
    }

    /// The cases held because their history did not verify, each with what was found, if it
    /// still does not verify (a database restored from a good backup releases them).
    pub async fn holds(&self) -> Result<Vec<Hold>, StoreError> {
        let rows: Vec<(String, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT case_id, detected_at FROM case_holds ORDER BY case_id"
        )
        .fetch_all(p)
        .await)?;
        let mut out = Vec::new();
        for (case, at) in rows {
            let events = self.event_rows(&case, 0).await?;
            if let Err(tamper) = verify::verify_case(&events, None) {
                out.push(Hold {
                    detected_at: rows::instant(at),
                    tamper,
                });
            }
        }
        Ok(out)
    }

    /// Appends checkpoint `number` (its body is the signed checkpoint, as the audit writes it).
    /// [`StoreError::CheckpointTaken`] when that number is taken (another server made it first).
    pub async fn append_checkpoint(
        &self,
        number: u64,
        at: DateTime<Utc>,
        body: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .write_one(
                "INSERT INTO checkpoints (number, at, body) VALUES ($1, $2, $3)",
                vec![
                    Param::Int(number as i64),
                    Param::Int(rows::micros(at)),
                    Param::Text(body.to_string()),
                ],
            )
            .await;
        match result {
            Err(e) if e.is_unique_violation() => Err(StoreError::CheckpointTaken(number)),
            other => other,
        }
    }

    /// One statement beside the log (a checkpoint, a hold): on SQLite through the writer,
    /// which owns every write, on PostgreSQL through the pool.
    async fn write_one(&self, sql: &'static str, params: Vec<Param>) -> Result<(), StoreError> {
        match &self.inner.backend {
            Backend::Sqlite(s) => {
                s.write(move |c| {
                    Box::pin(async move {
                        let mut q = sqlx::query(sql);
                        for p in params {
                            q = match p {
                                Param::Int(i) => q.bind(i),
                                Param::Text(t) => q.bind(t),
                            };
                        }
                        q.execute(c).await?;
                        Ok(())
                    })
                })
                .await
            }
            Backend::Postgres(s) => {
                let mut q = sqlx::query(sql);
                for p in params {
                    q = match p {
                        Param::Int(i) => q.bind(i),
                        Param::Text(t) => q.bind(t),
                    };
                }
                q.execute(&s.pool).await?;
                Ok(())
            }
        }
    }

    /// Every stored checkpoint's body, by number.
    pub async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows: Vec<(i64, String)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT number, body FROM checkpoints ORDER BY number"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(number, body)| StoredCheckpoint {
                number: number as u64,
                body,
            })
            .collect())
    }

    /// Recomputes `cases`, `tasks` and `wakeups` from the log, in one transaction, after
    /// checking every chain: a log that does not verify is reported, not rebuilt over.
    pub async fn rebuild(&self) -> Result<RebuildReport, StoreError> {
        let report = self.verify_all().await?;
        if !report.is_ok() {
            return Err(StoreError::Tampered {
                problems: report.problems.len(),
                first: report.problems.into_iter().next(),
            });
        }
        let digests: Vec<String> = on_pool!(self, |p| sqlx::query_scalar(
            "SELECT digest FROM regulations"
        )
        .fetch_all(p)
        .await)?;
        let mut processes = HashMap::new();
        for d in digests {
            let p = self.process(&d).await?;
            processes.insert(d, p);
        }
        match &self.inner.backend {
            Backend::Sqlite(s) => s.rebuild(processes).await,
            Backend::Postgres(s) => s.rebuild(processes).await,
        }
    }

    /// Every projection row, sorted (leases left out): for comparing live with rebuilt.
    pub async fn projections(&self) -> Result<Projections, StoreError> {
        let cases = on_pool!(self, |p| sqlx::query_as::<_, CaseRow>(
            "SELECT * FROM cases ORDER BY case_id"
        )
        .fetch_all(p)
        .await)?;
        let tasks = on_pool!(self, |p| sqlx::query_as::<_, TaskRow>(
            "SELECT * FROM tasks ORDER BY case_id, task"
        )
        .fetch_all(p)
        .await)?;
        let wakeups = on_pool!(self, |p| sqlx::query_as::<_, WakeupRow>(
            "SELECT case_id, wake_at FROM wakeups ORDER BY case_id"
        )
        .fetch_all(p)
        .await)?;
        Ok(Projections {
            cases,
            tasks,
            wakeups,
        })
    }

    /// Runs raw SQL on the database (tests use it to tamper; operators never need it).
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let sql = sql.to_string();
        match &self.inner.backend {
            Backend::Sqlite(s) => {
                s.write(move |c| {
                    Box::pin(async move {
                        let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(c).await?;
                        Ok(r.rows_affected())
                    })
                })
                .await
            }
            Backend::Postgres(s) => Ok(sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&s.pool)
                .await?
                .rows_affected()),
        }
    }
}

const EVENTS_AFTER: &str = "SELECT case_id, seq, type, at, actor_user, actor_role, digest, \
    calendar_version, body, prev_hash, hash FROM events WHERE case_id = $1 AND seq > $2 ORDER BY seq";

fn stored_event(row: EventRow) -> Result<StoredEvent, StoreError> {
    let event: Event = serde_json::from_str(&row.body).map_err(|e| StoreError::Corrupt {
        case: row.case_id.clone(),
        seq: row.seq,
        reason: e.to_string(),
    })?;
    Ok(StoredEvent {
        case: CaseId::new(&row.case_id),
        seq: row.seq as u64,
        event,
        prev_hash: row.prev_hash,
        hash: row.hash,
    })
}

#[derive(Debug, sqlx::FromRow)]
struct InboxRow {
    case_id: String,
    task: i64,
    step: String,
    role: String,
    office: String,
    status: String,
    claimed_by: Option<String>,
    assigned_to: Option<String>,
    opened_at: i64,
    due: i64,
    breached: bool,
    regulation_id: String,
    applicant: Option<String>,
    suspended_since: Option<i64>,
}

impl InboxRow {
    fn into_item(self) -> InboxItem {
        InboxItem {
            case: self.case_id,
            task: self.task as u32,
            step: self.step,
            role: self.role,
            office: self.office,
            status: self.status,
            claimed_by: self.claimed_by,
            assigned_to: self.assigned_to,
            opened_at: instant(self.opened_at),
            due: due_of(self.due),
            breached: self.breached,
            regulation: self.regulation_id,
            applicant: self.applicant,
            suspended_since: self.suspended_since.map(instant),
        }
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

/// The opaque keyset cursor: `due.task.case` (the case id last, as it may hold dots).
fn cursor(due: i64, task: i64, case: &str) -> String {
    format!("{due}.{task}.{case}")
}

fn parse_cursor(s: &str) -> Result<(i64, i64, String), StoreError> {
    let bad = || StoreError::BadCursor(s.to_string());
    let mut parts = s.splitn(3, '.');
    let due = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let task = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let case = parts.next().ok_or_else(bad)?.to_string();
    Ok((due, task, case))
}

/// The inbox SQL: one index range scan per (office, role) pair, each already in order and
/// cut at the page size, merged by an outer sort of at most pairs × page rows. A single
/// `role IN (…) AND office IN (…)` would make the database sort every matching task.
fn inbox_sql(q: &InboxQuery) -> Result<(String, Vec<Bind>), StoreError> {
    let limit = i64::from(q.limit.clamp(1, 1000));
    let after = q.after.as_deref().map(parse_cursor).transpose()?;
    let mut binds: Vec<Bind> = Vec::new();
    let mut arg = |b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let limit_p = arg(Bind::Int(limit));
    // Each status has its partial, covering index (migration 0002); an open task has no
    // `claimed_by` by definition, and `tasks_inbox` does not hold the column.
    let (status_sql, claimed_sql, user_p) = match &q.status {
        InboxStatus::Open => ("t.status = 'open'", "CAST(NULL AS TEXT)", None),
        InboxStatus::ClaimedBy(u) => (
            "t.status = 'claimed'",
            "t.claimed_by",
            Some(arg(Bind::Text(u.clone()))),
        ),
    };
    let overdue_p = q.overdue_at.map(|t| arg(Bind::Int(micros(t))));
    let after_p = after.map(|(due, task, case)| {
        (
            arg(Bind::Int(due)),
            arg(Bind::Int(task)),
            arg(Bind::Text(case)),
        )
    });
    let mut parts = Vec::new();
    for office in &q.offices {
        for role in &q.roles {
            let o = arg(Bind::Text(office.clone()));
            let r = arg(Bind::Text(role.clone()));
            let mut w = format!("t.office = {o} AND t.role = {r} AND {status_sql}");
            if let Some(u) = &user_p {
                w.push_str(&format!(" AND t.claimed_by = {u}"));
            }
            if let Some(d) = &overdue_p {
                // A suspended task is not late: its time is stopped.
                w.push_str(&format!(" AND t.due < {d} AND t.suspended_since IS NULL"));
            }
            if let Some((d, t, c)) = &after_p {
                w.push_str(&format!(
                    " AND t.due >= {d} AND (t.due > {d} OR t.case_id > {c} OR (t.case_id = {c} AND t.task > {t}))"
                ));
            }
            parts.push(format!(
                "SELECT * FROM (SELECT t.case_id, t.task, t.step, t.role, t.office, t.status, \
                 {claimed_sql} AS claimed_by, t.assigned_to, t.opened_at, t.due, t.breached, \
                 t.suspended_since FROM tasks t WHERE {w} ORDER BY t.due, t.case_id, t.task LIMIT {limit_p}) AS p{}",
                parts.len()
            ));
        }
    }
    if parts.is_empty() {
        // No role or no office: an empty inbox, by a query that returns nothing.
        parts.push(format!(
            "SELECT * FROM (SELECT t.case_id, t.task, t.step, t.role, t.office, t.status, t.claimed_by, \
             t.assigned_to, t.opened_at, t.due, t.breached, t.suspended_since FROM tasks t WHERE 1 = 0 LIMIT {limit_p}) AS p0"
        ));
    }
    let sql = format!(
        "SELECT i.case_id, i.task, i.step, i.role, i.office, i.status, i.claimed_by, i.assigned_to, \
         i.opened_at, i.due, i.breached, c.regulation_id, c.applicant, i.suspended_since \
         FROM ({}) AS i JOIN cases c ON c.case_id = i.case_id \
         ORDER BY i.due, i.case_id, i.task LIMIT {limit_p}",
        parts.join(" UNION ALL ")
    );
    Ok((sql, binds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_back_end_or_say_why_not() {
        assert_eq!(
            parse_url("sqlite:data/r.db").ok(),
            Some(Location::Sqlite(PathBuf::from("data/r.db")))
        );
        assert_eq!(
            parse_url("sqlite:///var/lib/r.db").ok(),
            Some(Location::Sqlite(PathBuf::from("/var/lib/r.db")))
        );
        assert!(matches!(
            parse_url("postgres://u@h:5432/db"),
            Ok(Location::Postgres(_))
        ));
        for bad in ["mysql://x", "data/r.db", "sqlite:", "sqlite::memory:", ""] {
            assert!(
                matches!(parse_url(bad), Err(StoreError::BadUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    fn item(case: &str, task: u32, due: Option<i64>) -> InboxItem {
        InboxItem {
            case: case.to_string(),
            task,
            step: "s".into(),
            role: "r".into(),
            office: "o".into(),
            status: "open".into(),
            claimed_by: None,
            assigned_to: None,
            opened_at: instant(0),
            due: due.map(instant),
            breached: false,
            regulation: "x".into(),
            suspended_since: None,
            applicant: None,
        }
    }

    #[test]
    fn merged_pages_keep_the_inbox_order_and_cut_at_the_limit() {
        let a = InboxPage {
            items: vec![item("b", 1, Some(10)), item("a", 2, None)],
            next: None,
        };
        let b = InboxPage {
            items: vec![item("a", 1, Some(10)), item("c", 1, Some(5))],
            next: None,
        };
        let page = InboxPage::merge([a.clone(), b.clone()], 3);
        let order: Vec<(&str, u32)> = page
            .items
            .iter()
            .map(|i| (i.case.as_str(), i.task))
            .collect();
        assert_eq!(order, [("c", 1), ("a", 1), ("b", 1)]);
        // The cursor is the store's own, after the last item shown.
        assert_eq!(page.next.as_deref(), Some("10.1.b"));
        assert_eq!(parse_cursor("10.1.b").ok(), Some((10, 1, "b".to_string())));
        let all = InboxPage::merge([a, b], 4);
        assert_eq!(all.items.len(), 4);
        assert_eq!(all.next, None, "nothing more when no page had more");
    }

    #[test]
    fn cursors_round_trip_with_dots_in_the_case_id() {
        let c = cursor(1_700_000_000_000_000, 3, "ATR.2026.17");
        assert_eq!(
            parse_cursor(&c).ok(),
            Some((1_700_000_000_000_000, 3, "ATR.2026.17".to_string()))
        );
        assert!(parse_cursor("nonsense").is_err());
    }

    #[test]
    fn the_inbox_is_one_ordered_scan_per_office_and_role() {
        let mut q = InboxQuery::open("executor", "o1", 50);
        q.roles.push("head".into());
        let (sql, binds) = inbox_sql(&q).expect("sql");
        assert_eq!(sql.matches("UNION ALL").count(), 1);
        assert_eq!(binds.len(), 5);
    }
}

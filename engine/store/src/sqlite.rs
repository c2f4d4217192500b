//! The SQLite back end: one writer thread with group commit, a pool of read-only connections.
//!
//! The writer is a thread of its own that drives its connection through SQLite's C API
//! directly ([`raw`]): statements prepared once, one row per step, values bound in place. An
//! append then costs what SQLite's B-trees cost, without a hop to a connection thread per
//! statement or a statement text per batch. The other writes (deployments, accounts, leases,
//! rebuilds, raw SQL in tests) run in turn on a second, sqlx connection owned by the same
//! thread, so there is still exactly one writer at a time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, SqliteExecutor};
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::{Mutex, oneshot};

use super::rows::{CaseRow, NewEventRow, TaskRow};
use super::sqlite_capi::{self as raw, Arg};
use super::{
    AppendDone, AppendJob, BatchRows, RebuildReport, StoreError, StoreOptions, VerifyReport,
    migrate, plan_batch, search,
};
use reglament_model::compile::Process;

type WriteFn = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;

type Reply = oneshot::Sender<Result<AppendDone, StoreError>>;

enum Job {
    Append(Box<AppendJob>, Reply),
    Write(WriteFn),
}

pub(super) struct Sqlite {
    pub read: SqlitePool,
    /// How the writer connects (migrations use a connection of their own).
    write_opts: SqliteConnectOptions,
    /// `None` once closed.
    jobs: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
    /// Signalled by the writer thread when it has closed its connections.
    writer_done: Mutex<Option<oneshot::Receiver<()>>>,
    /// The checkpointer task and the sender that stops it.
    checkpointer: std::sync::Mutex<Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
    /// The inbox's own read connections (see [`Sqlite::inbox`]), idle ones kept for reuse.
    inbox_conns: std::sync::Mutex<Vec<ReadConn>>,
    path: PathBuf,
    busy_ms: i32,
    pool_size: usize,
}

/// A read-only connection with the statements it has prepared (finalized before it closes).
struct ReadConn {
    stmts: HashMap<String, raw::Stmt>,
    conn: raw::Conn,
}

/// Inbox statement texts kept per read connection (their shapes: statuses × number of
/// office/role pairs × with or without a cursor or an overdue limit).
const READ_STMTS: usize = 64;

/// The writer's statements, prepared once on its own connection and run one row at a time:
/// with the statement already compiled, a row costs SQLite's B-tree work and little else.
const BEGIN: &str = "BEGIN IMMEDIATE";
const COMMIT: &str = "COMMIT";
const HEAD: &str = "SELECT seq, hash FROM events WHERE case_id = ?1 ORDER BY seq DESC LIMIT 1";
const MAX_SEQ: &str = "SELECT MAX(seq) FROM events WHERE case_id = ?1";

const INSERT_EVENT: &str = "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, \
    digest, calendar_version, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
    ?10, ?11)";

const CLEAR_WAKEUP: &str = "DELETE FROM wakeups WHERE case_id = ?1";

const INSERT_CALENDAR: &str = "INSERT INTO calendar_versions \
    (version, calendar, schedule, zone, data, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
    ON CONFLICT (version) DO NOTHING";

/// Upserts of the projections as (head, columns, tail): multi-row `INSERT … SELECT * FROM
/// (VALUES …)` statements for `rebuild`, which writes thousands of rows through the sqlx
/// connection (one round trip per page of rows), and, through [`one_row`], the writer's
/// prepared one-row statements.
const UPSERT_CASES: (&str, usize, &str) = (
    "INSERT INTO cases (case_id, regulation_id, regulation_version, digest, channel, office, \
     calendar_version, status, result, applicant, started_at, registered_at, due, breached, \
     documents_missing, ended_at, last_seq, last_hash, last_event_at, incidents_open)",
    20,
    " ON CONFLICT (case_id) DO UPDATE SET calendar_version = excluded.calendar_version, \
     regulation_version = excluded.regulation_version, digest = excluded.digest, \
     status = excluded.status, result = excluded.result, \
     applicant = excluded.applicant, due = excluded.due, breached = excluded.breached, \
     documents_missing = excluded.documents_missing, ended_at = excluded.ended_at, \
     last_seq = excluded.last_seq, last_hash = excluded.last_hash, \
     last_event_at = excluded.last_event_at, incidents_open = excluded.incidents_open",
);

const UPSERT_TASKS: (&str, usize, &str) = (
    "INSERT INTO tasks (case_id, task, step, role, office, status, claimed_by, assigned_to, \
     opened_at, due, breached, outcome, closed_at, closed_by, suspended_since)",
    15,
    " ON CONFLICT (case_id, task) DO UPDATE SET step = excluded.step, role = excluded.role, \
     office = excluded.office, status = excluded.status, claimed_by = excluded.claimed_by, \
     assigned_to = excluded.assigned_to, opened_at = excluded.opened_at, due = excluded.due, \
     breached = excluded.breached, outcome = excluded.outcome, closed_at = excluded.closed_at, \
     closed_by = excluded.closed_by, suspended_since = excluded.suspended_since",
);

const SET_WAKEUPS: (&str, usize, &str) = (
    "INSERT INTO wakeups (case_id, wake_at)",
    2,
    " ON CONFLICT (case_id) DO UPDATE SET wake_at = excluded.wake_at, lease_until = NULL, \
     lease_owner = NULL",
);

/// A rebuild's search rows (the tables are emptied first: nothing to update).
const INSERT_OFFICES: (&str, usize, &str) = (
    "INSERT INTO case_offices (case_id, office, registered_at)",
    3,
    " ON CONFLICT (case_id, office) DO NOTHING",
);

const INSERT_KEYS: (&str, usize, &str) = (
    "INSERT INTO case_keys (case_id, kind, key)",
    3,
    " ON CONFLICT (case_id, kind, key) DO NOTHING",
);

/// One bound value.
enum V<'a> {
    T(&'a str),
    OT(Option<&'a str>),
    I(i64),
    OI(Option<i64>),
    B(bool),
    Null,
}

/// Several statements sent to the connection's thread as one query (one round trip).
/// Parameters are anonymous (`?`) and numbered across the statements in order.
#[derive(Default)]
struct Script<'a> {
    sql: String,
    args: Vec<V<'a>>,
}

impl<'a> Script<'a> {
    /// Adds `rows` as `INSERT … SELECT * FROM (VALUES …) WHERE column1 IS NOT NULL` with 8, 64
    /// or 512 rows, the unused ones all NULL and filtered out: so each table has three
    /// statement shapes, and the whole script few enough to stay in the statement cache.
    fn rows(&mut self, (prefix, ncols, suffix): (&str, usize, &str), rows: Vec<Vec<V<'a>>>) {
        let mut rows = rows.into_iter().peekable();
        let mut left = rows.len();
        while rows.peek().is_some() {
            let k = [8, 64, 512].into_iter().find(|k| *k >= left).unwrap_or(512);
            self.sql.push_str(prefix);
            self.sql.push_str(" SELECT * FROM (VALUES ");
            for i in 0..k {
                if i > 0 {
                    self.sql.push(',');
                }
                self.sql.push('(');
                for j in 0..ncols {
                    self.sql.push_str(if j == 0 { "?" } else { ",?" });
                }
                self.sql.push(')');
                match rows.next() {
                    Some(row) => {
                        left -= 1;
                        self.args.extend(row);
                    }
                    None => self.args.extend((0..ncols).map(|_| V::Null)),
                }
            }
            self.sql.push_str(") WHERE column1 IS NOT NULL");
            self.sql.push_str(suffix);
            self.sql.push_str(";\n");
        }
    }

    async fn run(self, c: &mut SqliteConnection) -> Result<(), StoreError> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql));
        for v in self.args {
            q = match v {
                V::T(x) => q.bind(x),
                V::OT(x) => q.bind(x),
                V::I(x) => q.bind(x),
                V::OI(x) => q.bind(x),
                V::B(x) => q.bind(x),
                V::Null => q.bind(None::<i64>),
            };
        }
        q.execute(c).await?;
        Ok(())
    }
}

fn case_values(r: &CaseRow) -> Vec<V<'_>> {
    vec![
        V::T(&r.case_id),
        V::T(&r.regulation_id),
        V::I(r.regulation_version),
        V::T(&r.digest),
        V::T(&r.channel),
        V::T(&r.office),
        V::T(&r.calendar_version),
        V::T(&r.status),
        V::OT(r.result.as_deref()),
        V::OT(r.applicant.as_deref()),
        V::I(r.started_at),
        V::I(r.registered_at),
        V::OI(r.due),
        V::B(r.breached),
        V::B(r.documents_missing),
        V::OI(r.ended_at),
        V::I(r.last_seq),
        V::T(&r.last_hash),
        V::I(r.last_event_at),
        V::I(r.incidents_open),
    ]
}

fn task_values(r: &TaskRow) -> Vec<V<'_>> {
    vec![
        V::T(&r.case_id),
        V::I(r.task),
        V::T(&r.step),
        V::T(&r.role),
        V::T(&r.office),
        V::T(&r.status),
        V::OT(r.claimed_by.as_deref()),
        V::OT(r.assigned_to.as_deref()),
        V::I(r.opened_at),
        V::I(r.due),
        V::B(r.breached),
        V::OT(r.outcome.as_deref()),
        V::OI(r.closed_at),
        V::OT(r.closed_by.as_deref()),
        V::OI(r.suspended_since),
    ]
}

fn case_args(r: &CaseRow) -> [Arg<'_>; 20] {
    [
        Arg::from(r.case_id.as_str()),
        Arg::from(r.regulation_id.as_str()),
        Arg::from(r.regulation_version),
        Arg::from(r.digest.as_str()),
        Arg::from(r.channel.as_str()),
        Arg::from(r.office.as_str()),
        Arg::from(r.calendar_version.as_str()),
        Arg::from(r.status.as_str()),
        Arg::from(r.result.as_deref()),
        Arg::from(r.applicant.as_deref()),
        Arg::from(r.started_at),
        Arg::from(r.registered_at),
        Arg::from(r.due),
        Arg::from(r.breached),
        Arg::from(r.documents_missing),
        Arg::from(r.ended_at),
        Arg::from(r.last_seq),
        Arg::from(r.last_hash.as_str()),
        Arg::from(r.last_event_at),
        Arg::from(r.incidents_open),
    ]
}

fn task_args(r: &TaskRow) -> [Arg<'_>; 15] {
    [
        Arg::from(r.case_id.as_str()),
        Arg::from(r.task),
        Arg::from(r.step.as_str()),
        Arg::from(r.role.as_str()),
        Arg::from(r.office.as_str()),
        Arg::from(r.status.as_str()),
        Arg::from(r.claimed_by.as_deref()),
        Arg::from(r.assigned_to.as_deref()),
        Arg::from(r.opened_at),
        Arg::from(r.due),
        Arg::from(r.breached),
        Arg::from(r.outcome.as_deref()),
        Arg::from(r.closed_at),
        Arg::from(r.closed_by.as_deref()),
        Arg::from(r.suspended_since),
    ]
}

fn event_args<'a>(r: &'a NewEventRow<'a>) -> [Arg<'a>; 11] {
    [
        Arg::from(r.case_id),
        Arg::from(r.seq),
        Arg::from(r.event.kind),
        Arg::from(r.event.at),
        Arg::from(r.event.actor_user.as_str()),
        Arg::from(r.event.actor_role.as_str()),
        Arg::from(r.digest),
        Arg::from(r.calendar_version),
        Arg::from(r.event.body.as_str()),
        Arg::from(r.prev_hash.as_str()),
        Arg::from(r.hash.as_str()),
    ]
}

impl Sqlite {
    pub async fn open(path: &Path, options: &StoreOptions) -> Result<Sqlite, StoreError> {
        let url = format!("sqlite:{}", path.display());
        let unavailable = |source: sqlx::Error| StoreError::Unavailable {
            url: url.clone(),
            source,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(sqlx::Error::Io(e)))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(false);
        let write_opts = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            // Statement journals (for upserts) in memory, not in temporary files.
            .pragma("temp_store", "MEMORY")
            // 64 MB of page cache: a batch's dirty pages stay in memory until its commit
            // (a smaller cache spills them to the WAL mid-transaction) and hot index pages
            // are not read again.
            .pragma("cache_size", "-65536");
        // The writer checkpoints only as a backstop (WAL beyond ~40 MB); normally the
        // checkpointer task copies the WAL into the database off the commit path.
        let conn = SqliteConnection::connect_with(
            &write_opts.clone().pragma("wal_autocheckpoint", "10000"),
        )
        .await
        .map_err(unavailable)?;
        // The appends' connection: the same settings, set by hand (the file exists now and
        // is in WAL mode).
        let busy_ms = i32::try_from(options.busy_timeout.as_millis()).unwrap_or(i32::MAX);
        let appends = raw::Conn::open(path, busy_ms)
            .and_then(|c| {
                c.exec(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; \
                     PRAGMA wal_autocheckpoint = 10000; PRAGMA foreign_keys = OFF;",
                )?;
                Ok(c)
            })
            .map_err(|e| unavailable(sqlx::Error::Io(std::io::Error::other(e))))?;
        // Readers never write: `query_only` makes sure of it, so the writer thread is the only
        // writer and group commit sees every write. A local file does not go stale, so the
        // pool does not ping a connection before handing it out (a round trip per query).
        let read = SqlitePoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(
                base.clone()
                    .pragma("query_only", "ON")
                    .pragma("cache_size", "-16384"),
            )
            .await
            .map_err(unavailable)?;
        let (tx, rx) = mpsc::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let writer = Writer {
            stmts: None,
            raw: appends,
            conn,
            rt: tokio::runtime::Handle::current(),
            heads: HashMap::new(),
        };
        let max_batch = options.max_batch.max(1);
        std::thread::Builder::new()
            .name("reglament-writer".into())
            .spawn(move || {
                run_writer(writer, rx, max_batch);
                let _ = done_tx.send(());
            })
            .map_err(|e| unavailable(sqlx::Error::Io(e)))?;
        // `synchronous=FULL` here too: a checkpoint must fsync the database file before the
        // writer may start the WAL over, or a power cut could lose checkpointed commits.
        let checkpoint_conn =
            SqliteConnection::connect_with(&base.clone().synchronous(SqliteSynchronous::Full))
                .await
                .map_err(unavailable)?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let checkpointer = (
            stop_tx,
            tokio::spawn(run_checkpointer(checkpoint_conn, stop_rx)),
        );
        Ok(Sqlite {
            write_opts,
            read,
            jobs: std::sync::Mutex::new(Some(tx)),
            writer_done: Mutex::new(Some(done_rx)),
            checkpointer: std::sync::Mutex::new(Some(checkpointer)),
            inbox_conns: std::sync::Mutex::new(Vec::new()),
            path: path.to_path_buf(),
            busy_ms,
            pool_size: options.pool_size.max(1) as usize,
        })
    }

    pub async fn migrate(&self, all: &[migrate::Migration]) -> Result<(), StoreError> {
        // On a connection of its own: the writer is idle between commits and SQLite's locking
        // orders the two (statements prepared before a schema change are prepared again).
        let mut conn = SqliteConnection::connect_with(&self.write_opts).await?;
        let result = migrate::sqlite(all).run(&mut conn).await;
        let _ = conn.close().await;
        result?;
        Ok(())
    }

    /// The rows of an inbox page, read on the calling thread. The query is one range of a
    /// covering index and a lookup of each row's case: a fraction of a millisecond of CPU,
    /// less than a hop to a connection thread and back costs in wake-ups on a busy machine
    /// (they made the inbox's p99 several times its median). SQLite's WAL lets it run beside
    /// the writer without waiting. The price: while pages come from a cold disk it holds up
    /// the async worker it runs on (measured with a warm cache only, see BENCHMARKS.md).
    pub fn inbox(
        &self,
        sql: &str,
        binds: &[super::Bind],
    ) -> Result<Vec<super::InboxRow>, StoreError> {
        let idle = self.inbox_conns.lock().ok().and_then(|mut c| c.pop());
        let mut rc = match idle {
            Some(c) => c,
            None => {
                let conn = raw::Conn::open(&self.path, self.busy_ms)?;
                conn.exec("PRAGMA query_only = ON; PRAGMA cache_size = -16384;")?;
                ReadConn {
                    stmts: HashMap::new(),
                    conn,
                }
            }
        };
        let result = rc.rows(sql, binds);
        if result.is_ok()
            && let Ok(mut idle) = self.inbox_conns.lock()
            && idle.len() < self.pool_size
        {
            idle.push(rc);
        }
        result
    }

    pub async fn close(&self) {
        if let Ok(mut idle) = self.inbox_conns.lock() {
            idle.clear();
        }
        // Stopped, not aborted: its connection is closed before `close` returns, so nothing
        // of the store touches the files afterwards (a caller may delete them at once).
        let checkpointer = self.checkpointer.lock().ok().and_then(|mut c| c.take());
        if let Some((stop, task)) = checkpointer {
            let _ = stop.send(());
            let _ = task.await;
        }
        // Dropping the sender ends the writer once the jobs already queued are done.
        let sender = self.jobs.lock().ok().and_then(|mut j| j.take());
        drop(sender);
        if let Some(done) = self.writer_done.lock().await.take() {
            let _ = done.await;
        }
        self.read.close().await;
    }

    async fn send(&self, job: Job) -> Result<(), StoreError> {
        let sender = self
            .jobs
            .lock()
            .ok()
            .and_then(|j| j.clone())
            .ok_or(StoreError::WriterGone)?;
        // Unbounded, so sending never waits: every job has a caller awaiting its answer, so
        // the queue is at most as long as the number of requests in flight.
        sender.send(job).map_err(|_| StoreError::WriterGone)
    }

    /// Runs `f` on the write connection, in turn with the appends.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: WriteFn = Box::new(move |c| {
            Box::pin(async move {
                let r = f(c).await;
                let _ = tx.send(r);
            })
        });
        self.send(Job::Write(job)).await?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    pub async fn append(&self, job: AppendJob) -> Result<AppendDone, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Append(Box::new(job), tx)).await?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    pub async fn claim_due(
        &self,
        now: i64,
        until: i64,
        owner: String,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.write(move |c| {
            Box::pin(async move {
                // A single writer: nobody else can take these rows between the SELECT and the
                // UPDATE, so no row locking is needed.
                Ok(sqlx::query_as(
                    "UPDATE wakeups SET lease_until = $2, lease_owner = $3 WHERE case_id IN \
                     (SELECT case_id FROM wakeups WHERE wake_at <= $1 \
                      AND (lease_until IS NULL OR lease_until <= $1) ORDER BY wake_at LIMIT $4) \
                     RETURNING case_id, wake_at",
                )
                .bind(now)
                .bind(until)
                .bind(owner)
                .bind(limit)
                .fetch_all(c)
                .await?)
            })
        })
        .await
    }

    pub async fn reschedule(
        &self,
        case: String,
        seq: i64,
        wake: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.write(move |c| {
            Box::pin(async move {
                let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
                let last: Option<i64> =
                    sqlx::query_scalar("SELECT last_seq FROM cases WHERE case_id = $1")
                        .bind(&case)
                        .fetch_optional(&mut *tx)
                        .await?;
                if last != Some(seq) {
                    return Ok(false);
                }
                reschedule_sql(&mut *tx, &case, wake).await?;
                tx.commit().await?;
                Ok(true)
            })
        })
        .await
    }

    pub async fn verify_all(&self) -> Result<VerifyReport, StoreError> {
        let mut conn = self.read.acquire().await?;
        // One read transaction: a consistent snapshot of the log and the projections.
        let mut tx = conn.begin().await?;
        let report = verify_pages!(&mut *tx);
        tx.rollback().await?;
        Ok(report)
    }

    pub async fn rebuild(
        &self,
        processes: HashMap<String, Arc<Process>>,
    ) -> Result<RebuildReport, StoreError> {
        self.write(move |c| {
            Box::pin(async move {
                let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
                let report = rebuild_pages!(&mut *tx, &processes, sqlite_flush);
                tx.commit().await?;
                report
            })
        })
        .await
    }
}

async fn reschedule_sql<'e>(
    ex: impl SqliteExecutor<'e>,
    case: &str,
    wake: Option<i64>,
) -> Result<(), StoreError> {
    match wake {
        Some(w) => {
            sqlx::query(
                "INSERT INTO wakeups (case_id, wake_at) VALUES ($1, $2) ON CONFLICT (case_id) \
                 DO UPDATE SET wake_at = excluded.wake_at, lease_until = NULL, lease_owner = NULL",
            )
            .bind(case)
            .bind(w)
            .execute(ex)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM wakeups WHERE case_id = $1")
                .bind(case)
                .execute(ex)
                .await?;
        }
    }
    Ok(())
}

/// Writes the rows of a rebuild page.
async fn sqlite_flush(
    c: &mut SqliteConnection,
    cases: &[CaseRow],
    tasks: &[TaskRow],
    wakeups: &[(String, i64)],
    search: &[search::SearchRows],
) -> Result<(), StoreError> {
    let mut script = Script::default();
    script.rows(UPSERT_CASES, cases.iter().map(case_values).collect());
    script.rows(UPSERT_TASKS, tasks.iter().map(task_values).collect());
    script.rows(
        SET_WAKEUPS,
        wakeups
            .iter()
            .map(|(c, w)| vec![V::T(c), V::I(*w)])
            .collect(),
    );
    script.rows(
        INSERT_OFFICES,
        search
            .iter()
            .flat_map(|r| {
                r.offices
                    .iter()
                    .map(|o| vec![V::T(&r.case_id), V::T(o), V::I(r.registered_at)])
            })
            .collect(),
    );
    script.rows(
        INSERT_KEYS,
        search
            .iter()
            .flat_map(|r| {
                r.keys
                    .iter()
                    .map(|(k, key)| vec![V::T(&r.case_id), V::T(k), V::T(key)])
            })
            .collect(),
    );
    script.run(c).await
}

/// Copies committed WAL frames into the database file every 200 ms, without blocking the
/// writer (`PASSIVE`): the commit path then pays only for its own WAL fsync.
async fn run_checkpointer(mut conn: SqliteConnection, mut stop: oneshot::Receiver<()>) {
    let mut every = tokio::time::interval(std::time::Duration::from_millis(200));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = &mut stop => break,
        }
        // A failed checkpoint (the database busy, a disk error) is retried on the next tick;
        // the WAL keeps the data meanwhile and the writer's backstop bounds its size.
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await;
    }
    let _ = conn.close().await;
}

impl ReadConn {
    fn rows(
        &mut self,
        sql: &str,
        binds: &[super::Bind],
    ) -> Result<Vec<super::InboxRow>, StoreError> {
        if !self.stmts.contains_key(sql) {
            if self.stmts.len() >= READ_STMTS {
                self.stmts.clear();
            }
            let stmt = self.conn.prepare(sql)?;
            self.stmts.insert(sql.to_string(), stmt);
        }
        let Some(stmt) = self.stmts.get_mut(sql) else {
            return Err(StoreError::WriterGone);
        };
        let args: Vec<Arg<'_>> = binds
            .iter()
            .map(|b| match b {
                super::Bind::Text(t) => Arg::Text(t),
                super::Bind::Int(i) => Arg::Int(*i),
            })
            .collect();
        let mut rows = Vec::new();
        stmt.query(&args, |r| {
            rows.push(super::InboxRow {
                case_id: r.text(0),
                task: r.int(1),
                step: r.text(2),
                role: r.text(3),
                office: r.text(4),
                status: r.text(5),
                claimed_by: r.opt_text(6),
                assigned_to: r.opt_text(7),
                opened_at: r.int(8),
                due: r.int(9),
                breached: r.int(10) != 0,
                regulation_id: r.text(11),
                applicant: r.opt_text(12),
                suspended_since: r.opt_int(13),
            });
        })?;
        Ok(rows)
    }
}

/// The writer thread's state: its two connections, its prepared statements, and the head
/// (`seq`, hash) of each case it has recently written or read. The writer is the only writer
/// of the file, so its heads are the log's; should another process write a case anyway, the
/// unique `(case_id, seq)` index refuses the batch, the heads are forgotten and each job is
/// tried again alone on fresh heads read inside its transaction.
struct Writer {
    /// Dropped before `raw` (fields drop in order): statements are finalized first.
    stmts: Option<Stmts>,
    /// Appends.
    raw: raw::Conn,
    /// Everything else ([`Sqlite::write`]).
    conn: SqliteConnection,
    rt: tokio::runtime::Handle,
    heads: HashMap<String, (i64, String)>,
}

/// The append path's statements.
struct Stmts {
    begin: raw::Stmt,
    commit: raw::Stmt,
    head: raw::Stmt,
    max_seq: raw::Stmt,
    event: raw::Stmt,
    case: raw::Stmt,
    task: raw::Stmt,
    set_wakeup: raw::Stmt,
    clear_wakeup: raw::Stmt,
    calendar: raw::Stmt,
    delete_keys: raw::Stmt,
    insert_office: raw::Stmt,
    insert_key: raw::Stmt,
}

impl Stmts {
    fn prepare(c: &raw::Conn) -> Result<Stmts, StoreError> {
        Ok(Stmts {
            begin: c.prepare(BEGIN)?,
            commit: c.prepare(COMMIT)?,
            head: c.prepare(HEAD)?,
            max_seq: c.prepare(MAX_SEQ)?,
            event: c.prepare(INSERT_EVENT)?,
            case: c.prepare(&one_row(UPSERT_CASES))?,
            task: c.prepare(&one_row(UPSERT_TASKS))?,
            set_wakeup: c.prepare(&one_row(SET_WAKEUPS))?,
            clear_wakeup: c.prepare(CLEAR_WAKEUP)?,
            calendar: c.prepare(INSERT_CALENDAR)?,
            delete_keys: c.prepare(search::DELETE_KEYS)?,
            insert_office: c.prepare(search::INSERT_OFFICE)?,
            insert_key: c.prepare(search::INSERT_KEY)?,
        })
    }
}

/// `head VALUES (?1, …, ?n) tail`: one row of a multi-row upsert.
fn one_row((head, columns, tail): (&str, usize, &str)) -> String {
    let params: Vec<String> = (1..=columns).map(|i| format!("?{i}")).collect();
    format!("{head} VALUES ({}){tail}", params.join(", "))
}

/// Heads kept at most (then all are forgotten and read again as needed).
const MAX_HEADS: usize = 100_000;

/// How long the writer waits for one more append before it commits the batch it has. Short
/// next to a commit (an fsync takes milliseconds), long enough for the clients it has just
/// answered to come back with their next commands and join the same commit.
const GATHER: Duration = Duration::from_micros(150);

/// The batch being written: its jobs (answered after the commit) and whether a write failed.
#[derive(Default)]
struct Batch {
    jobs: Vec<(Box<AppendJob>, Reply)>,
    outcomes: Vec<Result<AppendDone, StoreError>>,
    failed: bool,
}

fn run_writer(mut w: Writer, rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => break,
            },
        };
        match job {
            Job::Write(f) => {
                w.rt.block_on(f(&mut w.conn));
                // Raw writes (tests, repairs by hand) may touch the log.
                w.heads.clear();
            }
            Job::Append(job, reply) => {
                // Group commit: the transaction is open and each append is written as soon as
                // it arrives, so the writer works while the batch gathers; it commits when no
                // append has come for `GATHER`, or at `max_batch`, or before a raw write.
                let mut batch = Batch::default();
                w.begin(&mut batch);
                w.add(&mut batch, job, reply);
                while batch.jobs.len() < max_batch {
                    match rx.recv_timeout(GATHER) {
                        Ok(Job::Append(job, reply)) => w.add(&mut batch, job, reply),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                w.finish(batch);
            }
        }
    }
    // Statements first, then the connections (closing the last one checkpoints the WAL).
    w.stmts = None;
    drop(w.raw);
    let _ = w.rt.block_on(w.conn.close());
}

impl Writer {
    /// The statements, prepared on first use (after the migrations have made the tables).
    fn stmts(&mut self) -> Result<&mut Stmts, StoreError> {
        if self.stmts.is_none() {
            self.stmts = Some(Stmts::prepare(&self.raw)?);
        }
        self.stmts.as_mut().ok_or(StoreError::WriterGone)
    }

    fn begin(&mut self, batch: &mut Batch) {
        if self.heads.len() > MAX_HEADS {
            self.heads.clear();
        }
        let begun = self.stmts().and_then(|st| Ok(st.begin.execute(&[])?));
        batch.failed = begun.is_err();
    }

    /// Writes one append into the open transaction.
    fn add(&mut self, batch: &mut Batch, job: Box<AppendJob>, reply: Reply) {
        if !batch.failed {
            match self.write_one(&job, false) {
                Ok(outcome) => batch.outcomes.push(outcome),
                Err(_) => batch.failed = true,
            }
        }
        batch.jobs.push((job, reply));
    }

    /// Commits the batch and answers its appends. If anything failed, the batch is rolled back
    /// as a whole and each job committed alone, on heads read inside its own transaction, so
    /// that one bad job cannot fail the others.
    fn finish(&mut self, batch: Batch) {
        let committed = !batch.failed
            && self
                .stmts()
                .and_then(|st| Ok(st.commit.execute(&[])?))
                .is_ok();
        if committed {
            for ((_, reply), outcome) in batch.jobs.into_iter().zip(batch.outcomes) {
                let _ = reply.send(outcome);
            }
            return;
        }
        self.rollback(batch.jobs.iter().map(|(j, _)| &**j));
        for (job, reply) in batch.jobs {
            let outcome = match self.alone(&job) {
                Err(e) if e.is_unique_violation() => Err(self.conflict(&job)),
                other => other,
            };
            let _ = reply.send(outcome);
        }
    }

    /// Undoes the open transaction, if any, and forgets the heads its jobs had moved on.
    fn rollback<'a>(&mut self, jobs: impl Iterator<Item = &'a AppendJob>) {
        if self.raw.in_transaction() {
            let _ = self.raw.exec("ROLLBACK");
        }
        for j in jobs {
            self.heads.remove(&j.case);
        }
    }

    /// One job in a transaction of its own.
    fn alone(&mut self, job: &AppendJob) -> Result<AppendDone, StoreError> {
        let result = self.stmts().and_then(|st| Ok(st.begin.execute(&[])?));
        let result = result
            .and_then(|_| self.write_one(job, true))
            .and_then(|outcome| {
                self.stmts()?.commit.execute(&[])?;
                outcome
            });
        if result.is_err() {
            self.rollback(std::iter::once(job));
        }
        result
    }

    /// Checks the job against its case's head (from memory, or read from the log when not
    /// known or `careful`), hashes its events and writes its rows. `Ok(Err(Conflict))` when
    /// the case has moved on: nothing written, the batch goes on.
    fn write_one(
        &mut self,
        job: &AppendJob,
        careful: bool,
    ) -> Result<Result<AppendDone, StoreError>, StoreError> {
        let Writer {
            stmts, raw, heads, ..
        } = self;
        if stmts.is_none() {
            *stmts = Some(Stmts::prepare(raw)?);
        }
        let Some(st) = stmts.as_mut() else {
            return Err(StoreError::WriterGone);
        };
        if careful || !heads.contains_key(&job.case) {
            let mut head = (0, super::canonical::GENESIS.to_string());
            st.head.query(&[Arg::Text(&job.case)], |row| {
                head = (row.int(0), row.text(1));
            })?;
            heads.insert(job.case.clone(), head);
        }
        let (mut outcomes, rows) = plan_batch(&[job], heads);
        write_rows(st, &rows)?;
        Ok(outcomes.pop().unwrap_or(Err(StoreError::WriterGone)))
    }

    /// The conflict for a job whose `seq` was taken under it.
    fn conflict(&mut self, job: &AppendJob) -> StoreError {
        let mut actual = 0;
        if let Ok(st) = self.stmts() {
            let _ = st.max_seq.query(&[Arg::Text(&job.case)], |row| {
                actual = row.int(0);
            });
        }
        StoreError::Conflict {
            case: job.case.clone(),
            expected: job.expected as u64,
            actual: actual as u64,
        }
    }
}

/// The writes of a batch. A unique violation here means another process appended to one of
/// these cases since the heads were read: the caller retries job by job and reports a conflict.
fn write_rows(st: &mut Stmts, rows: &BatchRows<'_>) -> Result<(), StoreError> {
    for e in &rows.events {
        st.event.execute(&event_args(e))?;
    }
    for c in &rows.cases {
        st.case.execute(&case_args(c))?;
    }
    for t in &rows.tasks {
        st.task.execute(&task_args(t))?;
    }
    for r in &rows.search {
        st.delete_keys.execute(&[Arg::Text(&r.case_id)])?;
        for o in &r.offices {
            st.insert_office.execute(&[
                Arg::Text(&r.case_id),
                Arg::Text(o),
                Arg::Int(r.registered_at),
            ])?;
        }
        for (kind, key) in &r.keys {
            st.insert_key
                .execute(&[Arg::Text(&r.case_id), Arg::Text(kind), Arg::Text(key)])?;
        }
    }
    for (c, w) in &rows.wakeups_set {
        st.set_wakeup.execute(&[Arg::Text(c), Arg::Int(*w)])?;
    }
    for c in &rows.wakeups_clear {
        st.clear_wakeup.execute(&[Arg::Text(c)])?;
    }
    for cal in &rows.calendars {
        st.calendar.execute(&[
            Arg::Text(&cal.version),
            Arg::Text(&cal.calendar),
            Arg::Text(&cal.schedule),
            Arg::Text(&cal.zone),
            Arg::Text(&cal.data),
            Arg::Int(cal.recorded_at),
        ])?;
    }
    Ok(())
}

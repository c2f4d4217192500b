//! The SQLite back end: one writer task with group commit, a pool of read-only connections.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, SqliteExecutor};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::rows::{CaseRow, NewEventRow, TaskRow};
use super::{
    AppendDone, AppendJob, BatchRows, RebuildReport, StoreError, StoreOptions, VerifyReport,
    migrate, plan_batch,
};
use crate::compile::Process;

type WriteFn = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, ()> + Send>;

type Reply = oneshot::Sender<Result<AppendDone, StoreError>>;

/// Appends waiting for the next commit.
type Pending = Vec<(Box<AppendJob>, Reply)>;

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
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    checkpointer: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

const HEADS: &str = "SELECT e.case_id, e.seq, e.hash FROM events e \
    JOIN (SELECT j.value AS case_id, (SELECT MAX(seq) FROM events WHERE case_id = j.value) AS seq \
          FROM json_each($1) j) m ON e.case_id = m.case_id AND e.seq = m.seq";

const INSERT_EVENTS: (&str, usize, &str) = (
    "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, digest, \
     calendar_version, body, prev_hash, hash)",
    11,
    "",
);

const UPSERT_CASES: (&str, usize, &str) = (
    "INSERT INTO cases (case_id, regulation_id, regulation_version, digest, channel, office, \
     calendar_version, status, result, applicant, started_at, registered_at, due, breached, \
     documents_missing, ended_at, last_seq, last_hash, last_event_at)",
    19,
    " ON CONFLICT (case_id) DO UPDATE SET status = excluded.status, result = excluded.result, \
     applicant = excluded.applicant, due = excluded.due, breached = excluded.breached, \
     documents_missing = excluded.documents_missing, ended_at = excluded.ended_at, \
     last_seq = excluded.last_seq, last_hash = excluded.last_hash, \
     last_event_at = excluded.last_event_at",
);

const UPSERT_TASKS: (&str, usize, &str) = (
    "INSERT INTO tasks (case_id, task, step, role, office, status, claimed_by, assigned_to, \
     opened_at, due, breached, outcome, closed_at, closed_by)",
    14,
    " ON CONFLICT (case_id, task) DO UPDATE SET step = excluded.step, role = excluded.role, \
     office = excluded.office, status = excluded.status, claimed_by = excluded.claimed_by, \
     assigned_to = excluded.assigned_to, opened_at = excluded.opened_at, due = excluded.due, \
     breached = excluded.breached, outcome = excluded.outcome, closed_at = excluded.closed_at, \
     closed_by = excluded.closed_by",
);

const SET_WAKEUPS: (&str, usize, &str) = (
    "INSERT INTO wakeups (case_id, wake_at)",
    2,
    " ON CONFLICT (case_id) DO UPDATE SET wake_at = excluded.wake_at, lease_until = NULL, \
     lease_owner = NULL",
);

const CLEAR_WAKEUPS: (&str, usize, &str) = ("DELETE FROM wakeups WHERE case_id IN (", 1, ")");

/// One bound value.
enum V<'a> {
    T(&'a str),
    OT(Option<&'a str>),
    I(i64),
    OI(Option<i64>),
    B(bool),
    Null,
}

/// Several statements sent to the connection's thread as one query: one round trip, which
/// matters more than anything else once the disk is fast (each round trip wakes a thread).
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

    fn statement(&mut self, sql: &str) {
        self.sql.push_str(sql);
        self.sql.push_str(";\n");
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
    ]
}

fn event_values<'a>(r: &'a NewEventRow<'a>) -> Vec<V<'a>> {
    vec![
        V::T(r.case_id),
        V::I(r.seq),
        V::T(r.event.kind),
        V::I(r.event.at),
        V::T(&r.event.actor_user),
        V::T(&r.event.actor_role),
        V::T(r.digest),
        V::T(r.calendar_version),
        V::T(&r.event.body),
        V::T(&r.prev_hash),
        V::T(&r.hash),
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
        // Readers never write: `query_only` makes sure of it, so the writer task is the only
        // writer and group commit sees every write.
        let read = SqlitePoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .min_connections(1)
            .connect_with(
                base.clone()
                    .pragma("query_only", "ON")
                    .pragma("cache_size", "-16384"),
            )
            .await
            .map_err(unavailable)?;
        let (tx, rx) = mpsc::channel(options.max_batch.max(1) * 4);
        let writer = tokio::spawn(run_writer(conn, rx, options.max_batch.max(1)));
        // `synchronous=FULL` here too: a checkpoint must fsync the database file before the
        // writer may start the WAL over, or a power cut could lose checkpointed commits.
        let checkpoint_conn =
            SqliteConnection::connect_with(&base.clone().synchronous(SqliteSynchronous::Full))
                .await
                .map_err(unavailable)?;
        let checkpointer = tokio::spawn(run_checkpointer(checkpoint_conn));
        Ok(Sqlite {
            write_opts,
            read,
            jobs: std::sync::Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            checkpointer: std::sync::Mutex::new(Some(checkpointer)),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        // On a connection of its own: the writer is idle between commits and SQLite's locking
        // orders the two (statements prepared before a schema change are prepared again).
        let mut conn = SqliteConnection::connect_with(&self.write_opts).await?;
        let result = migrate::sqlite().run(&mut conn).await;
        let _ = conn.close().await;
        result?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(h) = self.checkpointer.lock().ok().and_then(|mut c| c.take()) {
            h.abort();
        }
        // Dropping the sender ends the writer once the jobs already queued are done.
        let sender = self.jobs.lock().ok().and_then(|mut j| j.take());
        drop(sender);
        if let Some(h) = self.writer.lock().await.take() {
            let _ = h.await;
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
        sender.send(job).await.map_err(|_| StoreError::WriterGone)
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
    script.run(c).await
}

/// Copies committed WAL frames into the database file every 200 ms, without blocking the
/// writer (`PASSIVE`): the commit path then pays only for its own WAL fsync.
async fn run_checkpointer(mut conn: SqliteConnection) {
    let mut every = tokio::time::interval(std::time::Duration::from_millis(200));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // A failed checkpoint (the database busy, a disk error) is retried on the next tick;
        // the WAL keeps the data meanwhile and the writer's backstop bounds its size.
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await;
    }
}

/// The writer task's state: its connection, and the head (`seq`, hash) of each case it has
/// recently written or read. The writer is the only writer of the file, so its heads are the
/// log's; should another process write a case anyway, the unique `(case_id, seq)` index
/// refuses the batch, the heads are forgotten and each job is tried again alone on fresh
/// heads read inside its transaction.
struct Writer {
    conn: SqliteConnection,
    heads: HashMap<String, (i64, String)>,
}

/// Heads kept at most (then all are forgotten and read again as needed).
const MAX_HEADS: usize = 100_000;

async fn run_writer(conn: SqliteConnection, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut w = Writer {
        conn,
        heads: HashMap::new(),
    };
    let mut appends: Pending = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        // Everything that queued while the last commit was in flight joins this batch.
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        for job in jobs {
            match job {
                Job::Append(a, reply) => appends.push((a, reply)),
                Job::Write(f) => {
                    w.flush(std::mem::take(&mut appends)).await;
                    f(&mut w.conn).await;
                    // Raw writes (tests, repairs by hand) may touch the log.
                    w.heads.clear();
                }
            }
        }
        w.flush(std::mem::take(&mut appends)).await;
    }
    let _ = w.conn.close().await;
}

impl Writer {
    async fn flush(&mut self, appends: Pending) {
        if appends.is_empty() {
            return;
        }
        let jobs: Vec<&AppendJob> = appends.iter().map(|(j, _)| &**j).collect();
        match self.commit(&jobs, false).await {
            Ok(outcomes) => {
                for ((_, reply), outcome) in appends.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(_) => {
                // The batch was rolled back as a whole; commit each job alone, on heads read
                // inside its own transaction, so that one bad job cannot fail the others.
                for (job, reply) in appends {
                    let outcome = match self.commit(&[&*job], true).await {
                        Ok(mut o) => o.pop().unwrap_or(Err(StoreError::WriterGone)),
                        Err(e) if e.is_unique_violation() => {
                            Err(conflict(&mut self.conn, &job).await)
                        }
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(outcome);
                }
            }
        }
    }

    /// One transaction for the batch. Usually one round trip to the connection's thread:
    /// `BEGIN IMMEDIATE`, every write and `COMMIT` as one script, the heads coming from memory.
    /// `careful`: read the heads inside the transaction (a second round trip).
    async fn commit(
        &mut self,
        jobs: &[&AppendJob],
        careful: bool,
    ) -> Result<Vec<Result<AppendDone, StoreError>>, StoreError> {
        let result = self.try_commit(jobs, careful).await;
        if result.is_err() {
            // Undo whatever part ran (an error outside a transaction is harmless), and forget
            // the heads the batch had moved on in memory.
            let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
            for j in jobs {
                self.heads.remove(&j.case);
            }
        }
        result
    }

    async fn try_commit(
        &mut self,
        jobs: &[&AppendJob],
        careful: bool,
    ) -> Result<Vec<Result<AppendDone, StoreError>>, StoreError> {
        if self.heads.len() > MAX_HEADS {
            self.heads.clear();
        }
        let mut missing: Vec<&str> = jobs
            .iter()
            .map(|j| j.case.as_str())
            .filter(|c| careful || !self.heads.contains_key(*c))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut script = Script::default();
        if careful {
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut self.conn)
                .await?;
        } else {
            script.statement("BEGIN IMMEDIATE");
        }
        if !missing.is_empty() {
            let found: Vec<(String, i64, String)> = sqlx::query_as(HEADS)
                .bind(super::rows::ids_json(missing.iter().copied()))
                .fetch_all(&mut self.conn)
                .await?;
            for c in &missing {
                self.heads
                    .insert(c.to_string(), (0, super::canonical::GENESIS.to_string()));
            }
            for (c, s, h) in found {
                self.heads.insert(c, (s, h));
            }
        }
        let (outcomes, rows) = plan_batch(jobs, &mut self.heads);
        write_script(&mut script, &rows);
        script.statement("COMMIT");
        script.run(&mut self.conn).await?;
        Ok(outcomes)
    }
}

/// The conflict for a job whose `seq` was taken under it.
async fn conflict(conn: &mut SqliteConnection, job: &AppendJob) -> StoreError {
    let actual: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE case_id = $1")
        .bind(&job.case)
        .fetch_one(conn)
        .await
        .unwrap_or(None);
    StoreError::Conflict {
        case: job.case.clone(),
        expected: job.expected as u64,
        actual: actual.unwrap_or(0) as u64,
    }
}

/// The writes of a batch. A unique violation here means another process appended to one of
/// these cases since the heads were read: the caller retries job by job and reports a conflict.
fn write_script<'a>(script: &mut Script<'a>, rows: &'a BatchRows<'a>) {
    script.rows(
        INSERT_EVENTS,
        rows.events.iter().map(event_values).collect(),
    );
    script.rows(UPSERT_CASES, rows.cases.iter().map(case_values).collect());
    script.rows(
        UPSERT_TASKS,
        rows.tasks.iter().map(|t| task_values(t)).collect(),
    );
    script.rows(
        SET_WAKEUPS,
        rows.wakeups_set
            .iter()
            .map(|(c, w)| vec![V::T(c), V::I(*w)])
            .collect(),
    );
    script.rows(
        CLEAR_WAKEUPS,
        rows.wakeups_clear.iter().map(|c| vec![V::T(c)]).collect(),
    );
    for cal in &rows.calendars {
        script.statement(
            "INSERT INTO calendar_versions (version, calendar, schedule, zone, data, recorded_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
        );
        script.args.extend([
            V::T(&cal.version),
            V::T(&cal.calendar),
            V::T(&cal.schedule),
            V::T(&cal.zone),
            V::T(&cal.data),
            V::I(cal.recorded_at),
        ]);
    }
}

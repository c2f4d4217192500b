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
}

const HEADS: &str = "SELECT e.case_id, e.seq, e.hash FROM events e \
    JOIN (SELECT j.value AS case_id, (SELECT MAX(seq) FROM events WHERE case_id = j.value) AS seq \
          FROM json_each($1) j) m ON e.case_id = m.case_id AND e.seq = m.seq";

const INSERT_EVENTS: &str = "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, \
    digest, calendar_version, body, prev_hash, hash) \
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
    value->>8, value->>9, value->>10 FROM json_each($1)";

const UPSERT_CASES: &str = "INSERT INTO cases (case_id, regulation_id, regulation_version, digest, \
    channel, office, calendar_version, status, result, applicant, started_at, registered_at, due, \
    breached, documents_missing, ended_at, last_seq, last_hash, last_event_at) \
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
    value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14, value->>15, \
    value->>16, value->>17, value->>18 FROM json_each($1) WHERE true \
    ON CONFLICT (case_id) DO UPDATE SET status = excluded.status, result = excluded.result, \
    applicant = excluded.applicant, due = excluded.due, breached = excluded.breached, \
    documents_missing = excluded.documents_missing, ended_at = excluded.ended_at, \
    last_seq = excluded.last_seq, last_hash = excluded.last_hash, last_event_at = excluded.last_event_at";

const UPSERT_TASKS: &str = "INSERT INTO tasks (case_id, task, step, role, office, status, claimed_by, \
    assigned_to, opened_at, due, breached, outcome, closed_at, closed_by) \
    SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
    value->>8, value->>9, value->>10, value->>11, value->>12, value->>13 FROM json_each($1) WHERE true \
    ON CONFLICT (case_id, task) DO UPDATE SET step = excluded.step, role = excluded.role, \
    office = excluded.office, status = excluded.status, claimed_by = excluded.claimed_by, \
    assigned_to = excluded.assigned_to, opened_at = excluded.opened_at, due = excluded.due, \
    breached = excluded.breached, outcome = excluded.outcome, closed_at = excluded.closed_at, \
    closed_by = excluded.closed_by";

const SET_WAKEUPS: &str = "INSERT INTO wakeups (case_id, wake_at) \
    SELECT value->>0, value->>1 FROM json_each($1) WHERE true \
    ON CONFLICT (case_id) DO UPDATE SET wake_at = excluded.wake_at, lease_until = NULL, lease_owner = NULL";

const CLEAR_WAKEUPS: &str =
    "DELETE FROM wakeups WHERE case_id IN (SELECT value->>0 FROM json_each($1))";

pub(super) const INSERT_CALENDAR: &str = "INSERT INTO calendar_versions \
    (version, calendar, schedule, zone, data, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
    ON CONFLICT (version) DO NOTHING";

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
            .synchronous(SqliteSynchronous::Full);
        let conn = SqliteConnection::connect_with(&write_opts.clone())
            .await
            .map_err(unavailable)?;
        // Readers never write: `query_only` makes sure of it, so the writer task is the only
        // writer and group commit sees every write.
        let read = SqlitePoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .min_connections(1)
            .connect_with(base.pragma("query_only", "ON"))
            .await
            .map_err(unavailable)?;
        let (tx, rx) = mpsc::channel(options.max_batch.max(1) * 4);
        let writer = tokio::spawn(run_writer(conn, rx, options.max_batch.max(1)));
        Ok(Sqlite {
            write_opts,
            read,
            jobs: std::sync::Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
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
    cases: &str,
    tasks: &str,
    wakeups: &str,
) -> Result<(), StoreError> {
    sqlx::query(UPSERT_CASES)
        .bind(cases)
        .execute(&mut *c)
        .await?;
    sqlx::query(UPSERT_TASKS)
        .bind(tasks)
        .execute(&mut *c)
        .await?;
    sqlx::query(SET_WAKEUPS)
        .bind(wakeups)
        .execute(&mut *c)
        .await?;
    Ok(())
}

async fn run_writer(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
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
                    flush(&mut conn, std::mem::take(&mut appends)).await;
                    f(&mut conn).await;
                }
            }
        }
        flush(&mut conn, std::mem::take(&mut appends)).await;
    }
    let _ = conn.close().await;
}

async fn flush(conn: &mut SqliteConnection, appends: Pending) {
    if appends.is_empty() {
        return;
    }
    let jobs: Vec<&AppendJob> = appends.iter().map(|(j, _)| &**j).collect();
    match commit_batch(conn, &jobs).await {
        Ok(outcomes) => {
            for ((_, reply), outcome) in appends.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
        }
        Err(_) => {
            // The batch was rolled back as a whole; commit each job alone so that one bad job
            // (another process wrote the same case) cannot fail the others.
            for (job, reply) in appends {
                let outcome = match commit_batch(conn, &[&*job]).await {
                    Ok(mut o) => o.pop().unwrap_or(Err(StoreError::WriterGone)),
                    Err(e) if e.is_unique_violation() => Err(conflict(conn, &job).await),
                    Err(e) => Err(e),
                };
                let _ = reply.send(outcome);
            }
        }
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

/// One transaction for the whole batch: read the heads, check and hash, write, commit.
async fn commit_batch(
    conn: &mut SqliteConnection,
    jobs: &[&AppendJob],
) -> Result<Vec<Result<AppendDone, StoreError>>, StoreError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut ids: Vec<&str> = jobs.iter().map(|j| j.case.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let ids_json = serde_json::to_string(&ids)?;
    let heads: Vec<(String, i64, String)> = sqlx::query_as(HEADS)
        .bind(ids_json)
        .fetch_all(&mut *tx)
        .await?;
    let mut heads: HashMap<String, (i64, String)> =
        heads.into_iter().map(|(c, s, h)| (c, (s, h))).collect();
    let (outcomes, rows) = plan_batch(jobs, &mut heads);
    if rows.any {
        write_rows(&mut tx, &rows).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

async fn write_rows(c: &mut SqliteConnection, rows: &BatchRows) -> Result<(), StoreError> {
    // A unique violation here means another process appended to one of these cases since
    // the heads were read: the caller retries job by job and reports it as a conflict.
    sqlx::query(INSERT_EVENTS)
        .bind(&rows.events)
        .execute(&mut *c)
        .await?;
    sqlx::query(UPSERT_CASES)
        .bind(&rows.cases)
        .execute(&mut *c)
        .await?;
    if rows.tasks != "[]" {
        sqlx::query(UPSERT_TASKS)
            .bind(&rows.tasks)
            .execute(&mut *c)
            .await?;
    }
    if rows.wakeups_set != "[]" {
        sqlx::query(SET_WAKEUPS)
            .bind(&rows.wakeups_set)
            .execute(&mut *c)
            .await?;
    }
    if rows.wakeups_clear != "[]" {
        sqlx::query(CLEAR_WAKEUPS)
            .bind(&rows.wakeups_clear)
            .execute(&mut *c)
            .await?;
    }
    for cal in &rows.calendars {
        sqlx::query(INSERT_CALENDAR)
            .bind(&cal.version)
            .bind(&cal.calendar)
            .bind(&cal.schedule)
            .bind(&cal.zone)
            .bind(&cal.data)
            .bind(cal.recorded_at)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

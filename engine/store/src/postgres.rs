//! The PostgreSQL back end: a connection pool shared by the tasks of one node, and by several
//! nodes through the database's own locking.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};

use super::rows::{self, CaseRow, TaskRow};
use super::{
    AppendDone, AppendJob, BatchRows, RebuildReport, StoreError, StoreOptions, VerifyReport,
    migrate, plan_batch, search,
};
use reglament_model::compile::Process;

pub(super) struct Postgres {
    pub pool: PgPool,
}

const HEAD: &str = "SELECT seq, hash FROM events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1";

const INSERT_EVENTS: &str = "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, \
    digest, calendar_version, body, prev_hash, hash) \
    SELECT r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, r->>4, r->>5, r->>6, r->>7, r->>8, \
    r->>9, r->>10 FROM json_array_elements($1::json) AS r";

const UPSERT_CASES: &str = "INSERT INTO cases (case_id, regulation_id, regulation_version, digest, \
    channel, office, calendar_version, status, result, applicant, started_at, registered_at, due, \
    breached, documents_missing, ended_at, last_seq, last_hash, last_event_at, incidents_open) \
    SELECT r->>0, r->>1, (r->>2)::bigint, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, r->>9, \
    (r->>10)::bigint, (r->>11)::bigint, (r->>12)::bigint, (r->>13)::boolean, (r->>14)::boolean, \
    (r->>15)::bigint, (r->>16)::bigint, r->>17, (r->>18)::bigint, (r->>19)::bigint \
    FROM json_array_elements($1::json) AS r \
    ON CONFLICT (case_id) DO UPDATE SET calendar_version = excluded.calendar_version, \
    regulation_version = excluded.regulation_version, digest = excluded.digest, \
    status = excluded.status, result = excluded.result, \
    applicant = excluded.applicant, due = excluded.due, breached = excluded.breached, \
    documents_missing = excluded.documents_missing, ended_at = excluded.ended_at, \
    last_seq = excluded.last_seq, last_hash = excluded.last_hash, last_event_at = excluded.last_event_at, \
    incidents_open = excluded.incidents_open";

const UPSERT_TASKS: &str = "INSERT INTO tasks (case_id, task, step, role, office, status, claimed_by, \
    assigned_to, opened_at, due, breached, outcome, closed_at, closed_by, suspended_since) \
    SELECT r->>0, (r->>1)::bigint, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, (r->>8)::bigint, \
    (r->>9)::bigint, (r->>10)::boolean, r->>11, (r->>12)::bigint, r->>13, (r->>14)::bigint \
    FROM json_array_elements($1::json) AS r \
    ON CONFLICT (case_id, task) DO UPDATE SET step = excluded.step, role = excluded.role, \
    office = excluded.office, status = excluded.status, claimed_by = excluded.claimed_by, \
    assigned_to = excluded.assigned_to, opened_at = excluded.opened_at, due = excluded.due, \
    breached = excluded.breached, outcome = excluded.outcome, closed_at = excluded.closed_at, \
    closed_by = excluded.closed_by, suspended_since = excluded.suspended_since";

const SET_WAKEUPS: &str = "INSERT INTO wakeups (case_id, wake_at) \
    SELECT r->>0, (r->>1)::bigint FROM json_array_elements($1::json) AS r \
    ON CONFLICT (case_id) DO UPDATE SET wake_at = excluded.wake_at, lease_until = NULL, lease_owner = NULL";

const CLEAR_WAKEUPS: &str = "DELETE FROM wakeups WHERE case_id IN \
    (SELECT r FROM json_array_elements_text($1::json) AS r)";

/// An append's writes as one statement (data-modifying CTEs, `$1`…`$5` as in [`write_rows`]):
/// one round trip and an implicit transaction instead of seven round trips. If the events'
/// insert fails (another node took the `seq`), nothing of the statement is written.
static APPEND: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "WITH e AS ({INSERT_EVENTS}), c AS ({}), t AS ({}), w AS ({}), x AS ({}) SELECT 1",
        UPSERT_CASES.replace("$1", "$2"),
        UPSERT_TASKS.replace("$1", "$3"),
        SET_WAKEUPS.replace("$1", "$4"),
        CLEAR_WAKEUPS.replace("$1", "$5"),
    )
});

/// A rebuild's search rows (the tables are emptied first: nothing to update).
const INSERT_OFFICES: &str = "INSERT INTO case_offices (case_id, office, registered_at) \
    SELECT r->>0, r->>1, (r->>2)::bigint FROM json_array_elements($1::json) AS r \
    ON CONFLICT (case_id, office) DO NOTHING";

const INSERT_KEYS: &str = "INSERT INTO case_keys (case_id, kind, key) \
    SELECT r->>0, r->>1, r->>2 FROM json_array_elements($1::json) AS r \
    ON CONFLICT (case_id, kind, key) DO NOTHING";

pub(super) const INSERT_CALENDAR: &str = "INSERT INTO calendar_versions \
    (version, calendar, schedule, zone, data, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) \
    ON CONFLICT (version) DO NOTHING";

impl Postgres {
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Postgres, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_size.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|source| StoreError::Unavailable {
                url: super::redact(url),
                source,
            })?;
        Ok(Postgres { pool })
    }

    pub async fn migrate(&self, all: &[migrate::Migration]) -> Result<(), StoreError> {
        // sqlx takes an advisory lock, so nodes starting together migrate one at a time.
        migrate::postgres(all).run(&self.pool).await?;
        Ok(())
    }

    pub async fn append(&self, job: AppendJob) -> Result<AppendDone, StoreError> {
        // The head is read outside the write: if another node appends in between, the unique
        // `(case_id, seq)` index refuses this append below, as it would inside a transaction.
        let head: Option<(i64, String)> = sqlx::query_as(HEAD)
            .bind(&job.case)
            .fetch_optional(&self.pool)
            .await?;
        let mut heads = HashMap::new();
        if let Some(h) = head {
            heads.insert(job.case.clone(), h);
        }
        let (mut outcomes, batch) = plan_batch(&[&job], &mut heads);
        let done = outcomes.pop().unwrap_or(Err(StoreError::WriterGone))?;
        let written = if batch.calendars.is_empty() && batch.search.is_empty() {
            sqlx::query(APPEND.as_str())
                .bind(rows::event_rows_json(&batch.events))
                .bind(rows::case_rows_json(&batch.cases))
                .bind(rows::task_rows_json(batch.tasks.iter().copied()))
                .bind(rows::wakeups_json(batch.wakeups_set.iter().copied()))
                .bind(rows::ids_json(batch.wakeups_clear.iter().copied()))
                .execute(&self.pool)
                .await
                .map(|_| ())
                .map_err(StoreError::from)
        } else {
            // A case's first append also records its calendar version, and an append that
            // changes where the case has been or who it is about its search rows: a
            // transaction.
            let mut tx = self.pool.begin().await?;
            match write_rows(&mut tx, &batch).await {
                Ok(()) => tx.commit().await.map_err(StoreError::from),
                Err(e) => Err(e),
            }
        };
        match written {
            Ok(()) => {}
            // Another node appended at the same `seq` and committed first: the unique index
            // made this insert wait for it and then refused it.
            Err(e) if e.is_unique_violation() => {
                let actual: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE case_id = $1")
                        .bind(&job.case)
                        .fetch_one(&self.pool)
                        .await?;
                return Err(StoreError::Conflict {
                    case: job.case.clone(),
                    expected: job.expected as u64,
                    actual: actual.unwrap_or(0) as u64,
                });
            }
            Err(e) => return Err(e),
        }
        Ok(done)
    }

    pub async fn claim_due(
        &self,
        now: i64,
        until: i64,
        owner: String,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        // One statement, so one short transaction. SKIP LOCKED: rows another node is leasing
        // right now are passed over instead of waited for; a row whose lease it has just
        // committed fails the re-checked WHERE and is passed over too.
        Ok(sqlx::query_as(
            "UPDATE wakeups SET lease_until = $2, lease_owner = $3 WHERE case_id IN \
             (SELECT case_id FROM wakeups WHERE wake_at <= $1 \
              AND (lease_until IS NULL OR lease_until <= $1) ORDER BY wake_at LIMIT $4 \
              FOR UPDATE SKIP LOCKED) \
             RETURNING case_id, wake_at",
        )
        .bind(now)
        .bind(until)
        .bind(owner)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn reschedule(
        &self,
        case: String,
        seq: i64,
        wake: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Lock the case row: an append to this case (which updates it) waits until we are done,
        // so we cannot overwrite the wake-up of events we have not seen.
        let last: Option<i64> =
            sqlx::query_scalar("SELECT last_seq FROM cases WHERE case_id = $1 FOR UPDATE")
                .bind(&case)
                .fetch_optional(&mut *tx)
                .await?;
        if last != Some(seq) {
            return Ok(false);
        }
        match wake {
            Some(w) => {
                sqlx::query(
                    "INSERT INTO wakeups (case_id, wake_at) VALUES ($1, $2) ON CONFLICT (case_id) \
                     DO UPDATE SET wake_at = excluded.wake_at, lease_until = NULL, lease_owner = NULL",
                )
                .bind(&case)
                .bind(w)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM wakeups WHERE case_id = $1")
                    .bind(&case)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn verify_all(&self) -> Result<VerifyReport, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let report = verify_pages!(&mut *tx);
        tx.rollback().await?;
        Ok(report)
    }

    pub async fn rebuild(
        &self,
        processes: HashMap<String, Arc<Process>>,
    ) -> Result<RebuildReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Appends wait until the rebuilt projections are committed; claims too.
        sqlx::query("LOCK TABLE events IN SHARE MODE")
            .execute(&mut *tx)
            .await?;
        sqlx::query("LOCK TABLE wakeups IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let report = rebuild_pages!(&mut *tx, &processes, pg_flush)?;
        tx.commit().await?;
        Ok(report)
    }
}

async fn pg_flush(
    c: &mut PgConnection,
    cases: &[CaseRow],
    tasks: &[TaskRow],
    wakeups: &[(String, i64)],
    search: &[search::SearchRows],
) -> Result<(), StoreError> {
    sqlx::query(INSERT_OFFICES)
        .bind(
            serde_json::Value::from_iter(search.iter().flat_map(|r| {
                r.offices
                    .iter()
                    .map(|o| serde_json::json!([r.case_id, o, r.registered_at]))
            }))
            .to_string(),
        )
        .execute(&mut *c)
        .await?;
    sqlx::query(INSERT_KEYS)
        .bind(
            serde_json::Value::from_iter(search.iter().flat_map(|r| {
                r.keys
                    .iter()
                    .map(|(k, key)| serde_json::json!([r.case_id, k, key]))
            }))
            .to_string(),
        )
        .execute(&mut *c)
        .await?;
    sqlx::query(UPSERT_CASES)
        .bind(rows::case_rows_json(cases))
        .execute(&mut *c)
        .await?;
    sqlx::query(UPSERT_TASKS)
        .bind(rows::task_rows_json(tasks))
        .execute(&mut *c)
        .await?;
    sqlx::query(SET_WAKEUPS)
        .bind(rows::wakeups_json(
            wakeups.iter().map(|(c, w)| (c.as_str(), *w)),
        ))
        .execute(&mut *c)
        .await?;
    Ok(())
}

async fn write_rows(c: &mut PgConnection, batch: &BatchRows<'_>) -> Result<(), StoreError> {
    sqlx::query(INSERT_EVENTS)
        .bind(rows::event_rows_json(&batch.events))
        .execute(&mut *c)
        .await?;
    sqlx::query(UPSERT_CASES)
        .bind(rows::case_rows_json(&batch.cases))
        .execute(&mut *c)
        .await?;
    if !batch.tasks.is_empty() {
        sqlx::query(UPSERT_TASKS)
            .bind(rows::task_rows_json(batch.tasks.iter().copied()))
            .execute(&mut *c)
            .await?;
    }
    if !batch.wakeups_set.is_empty() {
        sqlx::query(SET_WAKEUPS)
            .bind(rows::wakeups_json(batch.wakeups_set.iter().copied()))
            .execute(&mut *c)
            .await?;
    }
    if !batch.wakeups_clear.is_empty() {
        sqlx::query(CLEAR_WAKEUPS)
            .bind(rows::ids_json(batch.wakeups_clear.iter().copied()))
            .execute(&mut *c)
            .await?;
    }
    for r in &batch.search {
        for (sql, args) in search::write_statements(r) {
            bind_all!(sqlx::query(sql), args).execute(&mut *c).await?;
        }
    }
    for cal in &batch.calendars {
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

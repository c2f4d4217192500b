//! Reading the log and the projections in bulk, for the audit tools ([`crate::audit`]):
//! verifying every chain, reports over many cases, exports.
//!
//! The live paths of the store read one case at a time through its `(case_id, seq)` index.
//! A whole-log pass cannot afford that: rows of one case are scattered over the table (cases
//! live for weeks, interleaved with others), so walking the index costs a B-tree descent per
//! row. [`Store::scan_log`] reads the table in insertion order (`id`), which is a sequential
//! scan, inside one read transaction so that the log and the heads it is compared with are
//! one snapshot.

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::rows::{CaseRow, EventRow, TaskRow, micros};
use super::{Backend, Store, StoreError};
use crate::runtime::CaseId;

/// Runs `$body` with `$p` bound to the read pool of whichever back end (the SQL text is the
/// same for both). A copy of the store module's `on_pool!`, which is defined after the
/// module declarations and so is not in scope here.
macro_rules! on_read {
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

/// One row of the log with its insertion number.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogRow {
    /// The `id` column: the global order of appends.
    pub id: i64,
    #[sqlx(flatten)]
    pub event: EventRow,
}

/// A case's head as the `cases` projection records it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HeadRow {
    pub case_id: String,
    pub last_seq: i64,
    pub last_hash: String,
}

/// What [`Store::scan_log`] sends: pages of the log in `id` order, then pages of the heads
/// in case order, all read in one snapshot.
#[derive(Debug)]
pub enum ScanPage {
    Events(Vec<LogRow>),
    Heads(Vec<HeadRow>),
}

/// One case's projection rows: what `rebuild` would write for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseProjection {
    pub case: CaseRow,
    pub tasks: Vec<TaskRow>,
    /// The `wakeups` row's instant, if the case has one.
    pub wake_at: Option<i64>,
}

/// Which cases a report or an export covers. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub regulation: Option<String>,
    pub office: Option<String>,
    /// Cases started at or after this instant.
    pub started_from: Option<DateTime<Utc>>,
    /// Cases started before this instant.
    pub started_before: Option<DateTime<Utc>>,
}

const LOG_PAGE_SQL: &str = "SELECT id, case_id, seq, type, at, actor_user, actor_role, digest, \
    calendar_version, body, prev_hash, hash FROM events WHERE id > $1 ORDER BY id LIMIT $2";

const HEADS_PAGE_SQL: &str = "SELECT case_id, last_seq, last_hash FROM cases \
    WHERE case_id > $1 ORDER BY case_id LIMIT $2";

/// A bound value of a query built at run time.
enum Arg {
    Text(String),
    Int(i64),
}

/// `WHERE …` over `cases` aliased `c`, and its arguments, numbered from `$1`.
fn filter_sql(filter: &CaseFilter, args: &mut Vec<Arg>) -> String {
    let mut conds = Vec::new();
    let mut push = |cond: &str, arg: Arg| {
        args.push(arg);
        conds.push(format!("{cond} ${}", args.len()));
    };
    if let Some(r) = &filter.regulation {
        push("c.regulation_id =", Arg::Text(r.clone()));
    }
    if let Some(o) = &filter.office {
        push("c.office =", Arg::Text(o.clone()));
    }
    if let Some(t) = filter.started_from {
        push("c.started_at >=", Arg::Int(micros(t)));
    }
    if let Some(t) = filter.started_before {
        push("c.started_at <", Arg::Int(micros(t)));
    }
    if conds.is_empty() {
        "1 = 1".to_string()
    } else {
        conds.join(" AND ")
    }
}

/// `$k, $k+1, …` for `n` values after `first - 1` arguments.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a query built at run time on the read pool, binding `args` in order.
macro_rules! fetch_built {
    ($store:expr, $row:ty, $sql:expr, $args:expr) => {{
        let sql: String = $sql;
        let args: Vec<Arg> = $args;
        on_read!($store, |p| {
            let mut q = sqlx::query_as::<_, $row>(sqlx::AssertSqlSafe(sql.clone()));
            for a in &args {
                q = match a {
                    Arg::Text(s) => q.bind(s.clone()),
                    Arg::Int(i) => q.bind(*i),
                };
            }
            q.fetch_all(p).await
        })
    }};
}

impl Store {
    /// Streams the whole log in insertion order, `page` rows at a time, then every case's
    /// head, from one read transaction (a consistent snapshot). A task reads ahead of the
    /// consumer by two pages, so reading and checking overlap. The receiver ends after the
    /// last page, or after the first error.
    pub fn scan_log(&self, page: u32) -> mpsc::Receiver<Result<ScanPage, StoreError>> {
        let (tx, rx) = mpsc::channel(2);
        let store = self.clone();
        let limit = i64::from(page.max(1));
        tokio::spawn(async move {
            let result = store.scan_into(limit, &tx).await;
            if let Err(e) = result {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    async fn scan_into(
        &self,
        limit: i64,
        tx: &mpsc::Sender<Result<ScanPage, StoreError>>,
    ) -> Result<(), StoreError> {
        // Written once per back end: the transaction's type differs.
        macro_rules! scan {
            ($conn:expr) => {{
                let mut after = 0i64;
                loop {
                    let rows: Vec<LogRow> = sqlx::query_as(LOG_PAGE_SQL)
                        .bind(after)
                        .bind(limit)
                        .fetch_all(&mut *$conn)
                        .await?;
                    let n = rows.len() as i64;
                    if let Some(last) = rows.last() {
                        after = last.id;
                    }
                    if !rows.is_empty() && tx.send(Ok(ScanPage::Events(rows))).await.is_err() {
                        return Ok(()); // the consumer stopped listening
                    }
                    if n < limit {
                        break;
                    }
                }
                let mut after = String::new();
                loop {
                    let rows: Vec<HeadRow> = sqlx::query_as(HEADS_PAGE_SQL)
                        .bind(&after)
                        .bind(limit)
                        .fetch_all(&mut *$conn)
                        .await?;
                    let n = rows.len() as i64;
                    if let Some(last) = rows.last() {
                        after = last.case_id.clone();
                    }
                    if !rows.is_empty() && tx.send(Ok(ScanPage::Heads(rows))).await.is_err() {
                        return Ok(());
                    }
                    if n < limit {
                        break;
                    }
                }
            }};
        }
        match &self.inner.backend {
            Backend::Sqlite(s) => {
                let mut conn = s.read.acquire().await?;
                // A deferred read transaction: its snapshot is taken by the first SELECT.
                sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
                scan!(conn);
                sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
            }
            Backend::Postgres(s) => {
                let mut conn = s.pool.acquire().await?;
                sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .execute(&mut *conn)
                    .await?;
                scan!(conn);
                sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await?;
            }
        }
        Ok(())
    }

    /// The largest `id` in the log: the number of events when none was deleted (a progress
    /// bar's length, without counting).
    pub async fn log_extent(&self) -> Result<u64, StoreError> {
        let max: Option<i64> =
            on_read!(self, |p| sqlx::query_scalar("SELECT MAX(id) FROM events")
                .fetch_one(p)
                .await)?;
        Ok(max.unwrap_or(0).max(0) as u64)
    }

    /// A case's log rows as stored, in `seq` order (for checking its chain by hand).
    pub async fn case_log_rows(&self, case: &CaseId) -> Result<Vec<EventRow>, StoreError> {
        Ok(on_read!(self, |p| sqlx::query_as::<_, EventRow>(
            "SELECT case_id, seq, type, at, actor_user, actor_role, digest, calendar_version, \
             body, prev_hash, hash FROM events WHERE case_id = $1 ORDER BY seq"
        )
        .bind(case.as_str())
        .fetch_all(p)
        .await)?)
    }

    /// One case's projection rows (`None` when `cases` has no row for it).
    pub async fn case_projection(
        &self,
        case: &CaseId,
    ) -> Result<Option<CaseProjection>, StoreError> {
        let row: Option<CaseRow> = on_read!(self, |p| sqlx::query_as::<_, CaseRow>(
            "SELECT * FROM cases WHERE case_id = $1"
        )
        .bind(case.as_str())
        .fetch_optional(p)
        .await)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let tasks: Vec<TaskRow> = on_read!(self, |p| sqlx::query_as::<_, TaskRow>(
            "SELECT * FROM tasks WHERE case_id = $1 ORDER BY task"
        )
        .bind(case.as_str())
        .fetch_all(p)
        .await)?;
        let wake_at: Option<i64> = on_read!(self, |p| sqlx::query_scalar(
            "SELECT wake_at FROM wakeups WHERE case_id = $1"
        )
        .bind(case.as_str())
        .fetch_optional(p)
        .await)?;
        Ok(Some(CaseProjection {
            case: row,
            tasks,
            wake_at,
        }))
    }

    /// A page of the `cases` rows the filter selects, in case order, after case `after`
    /// (`""` for the first page).
    pub async fn cases_page(
        &self,
        filter: &CaseFilter,
        after: &str,
        limit: u32,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let mut args = Vec::new();
        let cond = filter_sql(filter, &mut args);
        args.push(Arg::Text(after.to_string()));
        let after_p = args.len();
        args.push(Arg::Int(i64::from(limit.max(1))));
        let limit_p = args.len();
        let sql = format!(
            "SELECT c.* FROM cases c WHERE {cond} AND c.case_id > ${after_p} \
             ORDER BY c.case_id LIMIT ${limit_p}"
        );
        Ok(fetch_built!(self, CaseRow, sql, args)?)
    }

    /// The `tasks` rows of these cases, by case and task number.
    pub async fn tasks_of(&self, cases: &[String]) -> Result<Vec<TaskRow>, StoreError> {
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT * FROM tasks WHERE case_id IN ({}) ORDER BY case_id, task",
            placeholders(1, cases.len())
        );
        let args = cases.iter().map(|c| Arg::Text(c.clone())).collect();
        Ok(fetch_built!(self, TaskRow, sql, args)?)
    }

    /// The log rows of these cases, by case and `seq`.
    pub async fn events_of(&self, cases: &[String]) -> Result<Vec<EventRow>, StoreError> {
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT case_id, seq, type, at, actor_user, actor_role, digest, calendar_version, \
             body, prev_hash, hash FROM events WHERE case_id IN ({}) ORDER BY case_id, seq",
            placeholders(1, cases.len())
        );
        let args = cases.iter().map(|c| Arg::Text(c.clone())).collect();
        Ok(fetch_built!(self, EventRow, sql, args)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_number_their_arguments_in_order() {
        let mut args = Vec::new();
        let f = CaseFilter {
            regulation: Some("r".into()),
            office: None,
            started_from: Some(DateTime::<Utc>::UNIX_EPOCH),
            started_before: None,
        };
        assert_eq!(
            filter_sql(&f, &mut args),
            "c.regulation_id = $1 AND c.started_at >= $2"
        );
        assert_eq!(args.len(), 2);
        assert_eq!(filter_sql(&CaseFilter::default(), &mut Vec::new()), "1 = 1");
        assert_eq!(placeholders(3, 2), "$3, $4");
    }
}

//! Reading the log and the projections in bulk, for the audit tools ([`reglament_audit`]):
//! verifying every chain, reports over many cases, exports.
//!
//! The live paths of the store read one case at a time through its `(case_id, seq)` index.
//! A whole-log pass cannot afford that: rows of one case are scattered over the table (cases
//! live for weeks, interleaved with others), so walking the index costs a B-tree descent per
//! row. [`Store::scan_log`] reads the table in insertion order (`id`), which is a sequential
//! scan, inside one read transaction so that the log and the heads it is compared with are
//! one snapshot.
//!
//! Over SQLite, [`Store::scan_log_direct`] does the same pass without sqlx: a thread of its own
//! with a read-only connection of its own steps the query and copies each row's columns once
//! into a reused [`LogBatch`]. Going through sqlx cost three times the reading itself.

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::rows::{CaseRow, EventRow, TaskRow, micros};
use super::sqlite_capi as capi;
use super::{Backend, Store, StoreError};
use reglament_runtime::CaseId;

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Cases registered at this office or with a task there.
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
    let mut bind = |arg: Arg| {
        args.push(arg);
        args.len()
    };
    if let Some(r) = &filter.regulation {
        let p = bind(Arg::Text(r.clone()));
        conds.push(format!("c.regulation_id = ${p}"));
    }
    if let Some(o) = &filter.office {
        // Registered there, or worked there (a department's report includes the cases the
        // centres it serves handed to it).
        let p = bind(Arg::Text(o.clone()));
        conds.push(format!(
            "(c.office = ${p} OR EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = c.case_id \
             AND t.office = ${p}))"
        ));
    }
    if let Some(t) = filter.started_from {
        let p = bind(Arg::Int(micros(t)));
        conds.push(format!("c.started_at >= ${p}"));
    }
    if let Some(t) = filter.started_before {
        let p = bind(Arg::Int(micros(t)));
        conds.push(format!("c.started_at < ${p}"));
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

// ------------------------------------------------------------ reading SQLite directly

/// Why the direct scan of a SQLite file failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("reading {path}: {message} (SQLite code {code})")]
    Sqlite {
        path: String,
        code: i32,
        message: String,
    },
    #[error("reading {path}: row {id} of the log, column `{column}`, is not UTF-8 text")]
    NotText {
        path: String,
        id: i64,
        column: &'static str,
    },
    #[error("the path {0} cannot be given to SQLite")]
    BadPath(String),
    #[error("cannot start a thread of the log scan: {0}")]
    Thread(#[source] std::io::Error),
}

/// The text columns of a log row as [`LogBatch`] keeps them, in this order.
const TEXT_COLUMNS: [&str; 9] = [
    "case_id",
    "type",
    "actor_user",
    "actor_role",
    "digest",
    "calendar_version",
    "body",
    "prev_hash",
    "hash",
];

/// `id, seq, at` and then [`TEXT_COLUMNS`]. By rowid: a sequential read of the table.
const DIRECT_LOG_SQL: &str = "SELECT id, seq, at, case_id, type, actor_user, \
    actor_role, digest, calendar_version, body, prev_hash, hash FROM events ORDER BY id";

const DIRECT_HEADS_SQL: &str = "SELECT case_id, last_seq, last_hash FROM cases";

/// One log row borrowed from a [`LogBatch`] (or from an [`EventRow`]): what the audit needs
/// of it, without a `String` per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRowRef<'a> {
    pub id: i64,
    pub case_id: &'a str,
    pub seq: i64,
    pub kind: &'a str,
    pub at: i64,
    pub actor_user: &'a str,
    pub actor_role: &'a str,
    pub digest: &'a str,
    pub calendar_version: &'a str,
    pub body: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

impl<'a> LogRowRef<'a> {
    /// The row as the store's other readers return it; `id` is 0 (they do not read it).
    pub fn of(row: &'a EventRow) -> LogRowRef<'a> {
        LogRowRef {
            id: 0,
            case_id: &row.case_id,
            seq: row.seq,
            kind: &row.kind,
            at: row.at,
            actor_user: &row.actor_user,
            actor_role: &row.actor_role,
            digest: &row.digest,
            calendar_version: &row.calendar_version,
            body: &row.body,
            prev_hash: &row.prev_hash,
            hash: &row.hash,
        }
    }
}

/// Where one row's columns are in [`LogBatch::text`].
#[derive(Debug, Clone, Copy)]
struct Packed {
    id: i64,
    seq: i64,
    at: i64,
    /// `ends[k]` is where text column `k` ends; it starts where column `k - 1` ended
    /// (column 0 where the row starts).
    start: usize,
    ends: [usize; 9],
}

/// Rows of the log packed into one text buffer: filling a batch allocates nothing once its
/// buffers have grown, and a batch is reused when its reader is done with it.
#[derive(Debug, Default)]
pub struct LogBatch {
    text: String,
    rows: Vec<Packed>,
}

impl LogBatch {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes of text held.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }

    /// Appends a copy of a row.
    pub fn push(&mut self, row: &LogRowRef<'_>) {
        let start = self.text.len();
        let mut ends = [0usize; 9];
        let cols = [
            row.case_id,
            row.kind,
            row.actor_user,
            row.actor_role,
            row.digest,
            row.calendar_version,
            row.body,
            row.prev_hash,
            row.hash,
        ];
        for (end, col) in ends.iter_mut().zip(cols) {
            self.text.push_str(col);
            *end = self.text.len();
        }
        self.rows.push(Packed {
            id: row.id,
            seq: row.seq,
            at: row.at,
            start,
            ends,
        });
    }

    /// The `i`-th row (`None` past the end).
    pub fn row(&self, i: usize) -> Option<LogRowRef<'_>> {
        let p = self.rows.get(i)?;
        let col = |k: usize| {
            let from = if k == 0 { p.start } else { p.ends[k - 1] };
            // Offsets were taken at `str` boundaries as the row was pushed.
            self.text.get(from..p.ends[k]).unwrap_or("")
        };
        Some(LogRowRef {
            id: p.id,
            case_id: col(0),
            seq: p.seq,
            kind: col(1),
            at: p.at,
            actor_user: col(2),
            actor_role: col(3),
            digest: col(4),
            calendar_version: col(5),
            body: col(6),
            prev_hash: col(7),
            hash: col(8),
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = LogRowRef<'_>> {
        (0..self.rows.len()).filter_map(|i| self.row(i))
    }
}

/// What [`DirectScan`] delivers: batches of the log in `id` order, then the heads, from one
/// read transaction.
#[derive(Debug)]
pub enum DirectPage {
    Events(LogBatch),
    Heads(Vec<HeadRow>),
}

/// A scan of a SQLite log by a thread of its own (see [`Store::scan_log_direct`]).
pub struct DirectScan {
    pages: std::sync::mpsc::Receiver<Result<DirectPage, ScanError>>,
    spare: std::sync::mpsc::Sender<LogBatch>,
}

impl DirectScan {
    /// The next page; `None` after the last one (or after an error was delivered).
    pub fn recv(&self) -> Option<Result<DirectPage, ScanError>> {
        self.pages.recv().ok()
    }

    /// Hands a batch back for the reader to fill again.
    pub fn recycle(&self, batch: LogBatch) {
        self.recycler().recycle(batch);
    }

    /// A handle that returns batches from other threads.
    pub fn recycler(&self) -> Recycler {
        Recycler(self.spare.clone())
    }
}

/// Returns batches to a [`DirectScan`]'s reader, from any thread.
#[derive(Clone)]
pub struct Recycler(std::sync::mpsc::Sender<LogBatch>);

impl Recycler {
    pub fn recycle(&self, mut batch: LogBatch) {
        batch.clear();
        // A reader that has finished no longer needs it.
        let _ = self.0.send(batch);
    }
}

/// Rows per batch of the direct scan, and the text that closes a batch early.
const DIRECT_BATCH_ROWS: usize = 4_096;
const DIRECT_BATCH_TEXT: usize = 4 << 20;

impl Store {
    /// The SQLite file behind the store, if it is one.
    fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match (&self.inner.backend, super::parse_url(&self.inner.url)) {
            (Backend::Sqlite(_), Ok(super::Location::Sqlite(path))) => Some(path),
            _ => None,
        }
    }

    /// Streams the whole log in insertion order, then every case's head, like
    /// [`Store::scan_log`], but read from the SQLite file by a thread of its own through a
    /// read-only connection of its own. Going through sqlx costs three times the reading
    /// itself (every row handed across threads, a `String` per column); here a row's columns
    /// are copied once, into a reused batch. `None` for PostgreSQL.
    ///
    /// The batches come `ahead` at a time at most, so the reader and its consumer overlap on
    /// two cores while memory stays bounded.
    pub fn scan_log_direct(&self, ahead: usize) -> Option<DirectScan> {
        let path = self.sqlite_file()?;
        let (tx, pages) = std::sync::mpsc::sync_channel(ahead.max(1));
        let (spare, spares) = std::sync::mpsc::channel::<LogBatch>();
        let spawned = std::thread::Builder::new()
            .name("audit-log-reader".into())
            .spawn(move || {
                let send = |page| tx.send(page).is_ok();
                if let Err(e) = read_direct(&path, &spares, &send) {
                    send(Err(e));
                }
            });
        if let Err(e) = spawned {
            // No thread: the scan reports it as its first page.
            let (tx, pages) = std::sync::mpsc::sync_channel(1);
            let _ = tx.send(Err(ScanError::Thread(e)));
            return Some(DirectScan { pages, spare });
        }
        Some(DirectScan { pages, spare })
    }
}

/// The reading thread's work: `false` from `send` means the consumer is gone.
fn read_direct(
    path: &std::path::Path,
    spares: &std::sync::mpsc::Receiver<LogBatch>,
    send: &dyn Fn(Result<DirectPage, ScanError>) -> bool,
) -> Result<(), ScanError> {
    let shown = || path.display().to_string();
    let sqlite = |e: super::SqliteError| ScanError::Sqlite {
        path: shown(),
        code: e.code,
        message: e.message,
    };
    let conn = capi::Conn::open_read_only(path, 5_000).map_err(sqlite)?;
    // Pages of a multi-gigabyte log are read once: mapping the file saves copying each page
    // into SQLite's cache.
    conn.exec("PRAGMA mmap_size = 68719476736")
        .map_err(sqlite)?;
    // One read transaction: the log and the heads are one snapshot.
    conn.exec("BEGIN").map_err(sqlite)?;
    let mut st = conn.prepare(DIRECT_LOG_SQL).map_err(sqlite)?;
    let mut batch = LogBatch::default();
    let mut gone = false;
    st.query_while(&[], |row| {
        let id = row.int(0);
        let start = batch.text.len();
        let mut ends = [0usize; 9];
        for (k, end) in ends.iter_mut().enumerate() {
            let Ok(text) = std::str::from_utf8(row.bytes(3 + k as i32)) else {
                return Err(ScanError::NotText {
                    path: shown(),
                    id,
                    column: TEXT_COLUMNS[k],
                });
            };
            batch.text.push_str(text);
            *end = batch.text.len();
        }
        batch.rows.push(Packed {
            id,
            seq: row.int(1),
            at: row.int(2),
            start,
            ends,
        });
        if batch.rows.len() >= DIRECT_BATCH_ROWS || batch.text.len() >= DIRECT_BATCH_TEXT {
            let next = spares.try_recv().unwrap_or_default();
            if !send(Ok(DirectPage::Events(std::mem::replace(&mut batch, next)))) {
                gone = true;
                return Ok(false);
            }
        }
        Ok(true)
    })
    .map_err(sqlite)??;
    drop(st);
    if gone || (!batch.is_empty() && !send(Ok(DirectPage::Events(batch)))) {
        return Ok(());
    }
    let mut st = conn.prepare(DIRECT_HEADS_SQL).map_err(sqlite)?;
    let mut heads = Vec::with_capacity(DIRECT_BATCH_ROWS);
    st.query_while(&[], |row| {
        let text = |k: i32, column: &'static str| {
            std::str::from_utf8(row.bytes(k))
                .map(str::to_string)
                .map_err(|_| ScanError::NotText {
                    path: shown(),
                    id: 0,
                    column,
                })
        };
        heads.push(HeadRow {
            case_id: text(0, "cases.case_id")?,
            last_seq: row.int(1),
            last_hash: text(2, "cases.last_hash")?,
        });
        if heads.len() >= DIRECT_BATCH_ROWS
            && !send(Ok(DirectPage::Heads(std::mem::take(&mut heads))))
        {
            gone = true;
            return Ok(false);
        }
        Ok(true)
    })
    .map_err(sqlite)??;
    drop(st);
    if gone {
        return Ok(());
    }
    if !heads.is_empty() {
        send(Ok(DirectPage::Heads(heads)));
    }
    conn.exec("ROLLBACK").map_err(sqlite)?;
    Ok(())
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

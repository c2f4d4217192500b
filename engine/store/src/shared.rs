//! Code both back ends run on their own connection type: written once as macros, expanded in
//! `sqlite.rs` and `postgres.rs` where the connection's type is known. (sqlx's generic
//! executor bounds for "any database" are longer than the code they would share.)

/// Rows per page when streaming the log (verify, rebuild).
pub(crate) const PAGE: i64 = 5_000;

/// Cases per write when rebuilding.
pub(crate) const REBUILD_FLUSH: usize = 1_000;

/// A page of the log in `(case_id, seq)` order after `($1, $2)`, with each case's head as the
/// projections record it. The same SQL text runs on both back ends.
pub(crate) const VERIFY_PAGE: &str = "SELECT e.case_id, e.seq, e.type, e.at, e.actor_user, \
    e.actor_role, e.digest, e.calendar_version, e.body, e.prev_hash, e.hash, \
    c.last_seq AS head_seq, c.last_hash AS head_hash \
    FROM events e LEFT JOIN cases c ON c.case_id = e.case_id \
    WHERE e.case_id >= $1 AND (e.case_id > $1 OR e.seq > $2) \
    ORDER BY e.case_id, e.seq LIMIT $3";

/// Cases the projections know but the log does not.
pub(crate) const ORPHAN_CASES: &str = "SELECT c.case_id, c.last_seq FROM cases c \
    WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.case_id = c.case_id) ORDER BY c.case_id";

pub(crate) const REBUILD_PAGE: &str = "SELECT case_id, seq, type, at, actor_user, actor_role, \
    digest, calendar_version, body, prev_hash, hash FROM events \
    WHERE case_id >= $1 AND (case_id > $1 OR seq > $2) ORDER BY case_id, seq LIMIT $3";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct VerifyRow {
    #[sqlx(flatten)]
    pub event: super::rows::EventRow,
    pub head_seq: Option<i64>,
    pub head_hash: Option<String>,
}

/// Verifies every chain, reading pages on `$conn` (a connection inside a read transaction).
/// Evaluates to `VerifyReport`; database errors return from the enclosing function.
macro_rules! verify_pages {
    ($conn:expr) => {{
        use $crate::shared::{ORPHAN_CASES, PAGE, VERIFY_PAGE, VerifyRow};
        use $crate::verify::{Head, Tamper, TamperKind, verify_case};
        let mut report = $crate::VerifyReport::default();
        let mut rows: Vec<$crate::rows::EventRow> = Vec::new();
        let mut head: Option<Head> = None;
        let mut after: (String, i64) = (String::new(), 0);
        let finish = |rows: &mut Vec<$crate::rows::EventRow>,
                      head: &mut Option<Head>,
                      report: &mut $crate::VerifyReport| {
            if rows.is_empty() {
                return;
            }
            report.cases += 1;
            report.events += rows.len() as u64;
            if let Err(t) = verify_case(rows, head.as_ref()) {
                report.problems.push(t);
            }
            rows.clear();
            *head = None;
        };
        loop {
            let page: Vec<VerifyRow> = sqlx::query_as(VERIFY_PAGE)
                .bind(&after.0)
                .bind(after.1)
                .bind(PAGE)
                .fetch_all($conn)
                .await?;
            let n = page.len() as i64;
            for r in page {
                if rows.first().is_some_and(|f| f.case_id != r.event.case_id) {
                    finish(&mut rows, &mut head, &mut report);
                }
                head = match (r.head_seq, r.head_hash) {
                    (Some(last_seq), Some(last_hash)) => Some(Head {
                        last_seq,
                        last_hash,
                    }),
                    _ => None,
                };
                after = (r.event.case_id.clone(), r.event.seq);
                rows.push(r.event);
            }
            if n < PAGE {
                break;
            }
        }
        finish(&mut rows, &mut head, &mut report);
        let orphans: Vec<(String, i64)> = sqlx::query_as(ORPHAN_CASES).fetch_all($conn).await?;
        for (case, last_seq) in orphans {
            report.cases += 1;
            report.problems.push(Tamper {
                case,
                seq: 1,
                kind: TamperKind::Deleted,
                detail: format!(
                    "the projections know the case with {last_seq} event(s); the log has none"
                ),
            });
        }
        report.problems.sort_by(|a, b| a.case.cmp(&b.case));
        report
    }};
}

/// Rebuilds the projections on `$conn` (inside a write transaction), writing through
/// `$flush(conn, &[CaseRow], &[TaskRow], &[(case, wake_at)], &[SearchRows])`. Evaluates to
/// `Result<RebuildReport, StoreError>`.
macro_rules! rebuild_pages {
    ($conn:expr, $processes:expr, $flush:path) => {
        async {
            use reglament_runtime::{CaseState, Event};
            use $crate::StoreError;
            use $crate::rows::{self, CaseRow, EventRow, TaskRow};
            use $crate::shared::{PAGE, REBUILD_FLUSH, REBUILD_PAGE};
            let processes: &std::collections::HashMap<
                String,
                std::sync::Arc<reglament_model::compile::Process>,
            > = $processes;
            sqlx::query("DELETE FROM tasks").execute($conn).await?;
            sqlx::query("DELETE FROM wakeups").execute($conn).await?;
            sqlx::query("DELETE FROM cases").execute($conn).await?;
            sqlx::query("DELETE FROM case_offices")
                .execute($conn)
                .await?;
            sqlx::query("DELETE FROM case_keys").execute($conn).await?;
            sqlx::query("DELETE FROM case_search_backfill")
                .execute($conn)
                .await?;
            let mut report = $crate::RebuildReport::default();
            let mut cases: Vec<CaseRow> = Vec::new();
            let mut tasks: Vec<TaskRow> = Vec::new();
            let mut wakeups: Vec<(String, i64)> = Vec::new();
            let mut search: Vec<$crate::search::SearchRows> = Vec::new();
            let mut state: Option<(CaseState, String)> = None;
            let mut after: (String, i64) = (String::new(), 0);
            let done = |s: CaseState,
                        hash: String,
                        cases: &mut Vec<CaseRow>,
                        tasks: &mut Vec<TaskRow>,
                        wakeups: &mut Vec<(String, i64)>,
                        search: &mut Vec<$crate::search::SearchRows>,
                        report: &mut $crate::RebuildReport| {
                search.push($crate::search::search_rows(&s));
                report.cases += 1;
                let t = rows::all_task_rows(&s);
                report.tasks += t.len() as u64;
                tasks.extend(t);
                if let Some(w) = s.next_wakeup() {
                    report.wakeups += 1;
                    wakeups.push((s.id.to_string(), rows::micros(w)));
                }
                cases.push(rows::case_row(&s, &hash));
            };
            loop {
                let page: Vec<EventRow> = sqlx::query_as(REBUILD_PAGE)
                    .bind(&after.0)
                    .bind(after.1)
                    .bind(PAGE)
                    .fetch_all($conn)
                    .await?;
                let n = page.len() as i64;
                for row in page {
                    report.events += 1;
                    let event: Event =
                        serde_json::from_str(&row.body).map_err(|e| StoreError::Corrupt {
                            case: row.case_id.clone(),
                            seq: row.seq,
                            reason: e.to_string(),
                        })?;
                    let fold_err = |source| StoreError::Fold {
                        case: row.case_id.clone(),
                        source,
                    };
                    let same = state
                        .as_ref()
                        .is_some_and(|(s, _)| s.id.as_str() == row.case_id);
                    if same {
                        if let Some((s, h)) = state.as_mut() {
                            s.apply_with(&event, |d| processes.get(d).cloned())
                                .map_err(fold_err)?;
                            *h = row.hash.clone();
                        }
                    } else {
                        if let Some((s, h)) = state.take() {
                            done(
                                s,
                                h,
                                &mut cases,
                                &mut tasks,
                                &mut wakeups,
                                &mut search,
                                &mut report,
                            );
                        }
                        let s = CaseState::begin(&event, |d| processes.get(d).cloned())
                            .map_err(fold_err)?;
                        state = Some((s, row.hash.clone()));
                    }
                    after = (row.case_id, row.seq);
                }
                if cases.len() >= REBUILD_FLUSH || n < PAGE {
                    if n < PAGE {
                        if let Some((s, h)) = state.take() {
                            done(
                                s,
                                h,
                                &mut cases,
                                &mut tasks,
                                &mut wakeups,
                                &mut search,
                                &mut report,
                            );
                        }
                    }
                    $flush($conn, &cases, &tasks, &wakeups, &search).await?;
                    search.clear();
                    cases.clear();
                    tasks.clear();
                    wakeups.clear();
                }
                if n < PAGE {
                    break;
                }
            }
            Ok::<_, StoreError>(report)
        }
        .await
    };
}

/// Binds [`SqlArg`](crate::side::SqlArg)s to a query, in order.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        use $crate::side::SqlArg;
        let mut q = $q;
        for a in $args {
            q = match a {
                SqlArg::Text(v) => q.bind(v),
                SqlArg::OptText(v) => q.bind(v),
                SqlArg::Int(v) => q.bind(v),
                SqlArg::OptInt(v) => q.bind(v),
                SqlArg::Bool(v) => q.bind(v),
            };
        }
        q
    }};
}

//! Moving running cases onto another regulation version by a migration plan (`reglament
//! migrate`).
//!
//! The plan's open cases are selected with one query per page (the `cases` projection: the
//! regulation, the old version, and the plan's offices, steps and registration instant), read
//! from the log, folded and decided ([`reglament_runtime::migrate`]) on two blocking threads,
//! and each case's `case_migrated` event is appended with its projections in one transaction
//! while the next page is being decided. A case is migrated or not: a crash half-way leaves
//! the rest on the old version, where the next run selects them; a migrated case is on the new
//! version, where no run selects it again.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use super::service::fold_rows;
use super::{Backend, Service, ServiceError, StoreError, rows::EventRow};
use reglament_model::compile::Process;
use reglament_model::diagnostic::Diagnostic;
use reglament_model::migration_plan::{LoadedPlan, Policy, check_plan};
use reglament_runtime::migrate::{Migration, migrate};
use reglament_runtime::{Actor, CaseId, CaseState, Clocks, Event, EventKind, reschedule_at};

/// Why a plan cannot run at all (a case that cannot move is reported, not an error).
#[derive(Debug, thiserror::Error)]
pub enum CaseMigrationError {
    #[error("regulation `{regulation}` version {version} is not deployed")]
    NotDeployed { regulation: String, version: u32 },
    /// The plan does not fit the two versions (unmapped steps, unknown steps): each mistake
    /// at its place in the plan.
    #[error("the plan does not fit the versions it names ({} problem(s))", .0.len())]
    Plan(Vec<Diagnostic>),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for CaseMigrationError {
    fn from(e: StoreError) -> Self {
        CaseMigrationError::Service(e.into())
    }
}

/// One open task of a moving case: where it is and goes, who holds it, its due instants.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TaskMove {
    pub task: u32,
    pub from_step: String,
    pub to_step: String,
    /// The role that works it before and after the move.
    pub role_before: String,
    pub role: String,
    /// The user who has claimed it (they keep it).
    pub claimed_by: Option<String>,
    /// The office it is at (whose hours its instants are on).
    pub office: String,
    pub policy: Policy,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
}

/// One case a plan moves (or, in a dry run, would move).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseMove {
    pub case: String,
    /// The office where it was registered.
    pub office: String,
    pub started_at: DateTime<Utc>,
    pub tasks: Vec<TaskMove>,
    pub case_due_before: Option<DateTime<Utc>>,
    pub case_due_after: Option<DateTime<Utc>>,
    /// A due instant still ahead before the move that the move puts at or before now: the
    /// timer breaches it at once.
    pub into_breach: bool,
}

/// What running a plan did (or, as a dry run, would do).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MigrationReport {
    pub regulation: String,
    pub from_version: u32,
    pub to_version: u32,
    pub plan_digest: String,
    pub dry_run: bool,
    /// Open cases the plan's selection took.
    pub selected: u64,
    /// Of them, those moved (or, in a dry run, that would move).
    pub migrated: u64,
    /// Those whose move puts a due instant at or before now.
    pub into_breach: u64,
    /// The cases that move, when asked for.
    pub cases: Vec<CaseMove>,
    /// Cases that cannot move, with why (an open incident, an unmapped step, a due instant
    /// beyond the calendar); they stay on the old version.
    pub refused: Vec<(String, String)>,
}

/// A case decided: the state it was decided on, the events that move it, the state after.
struct Decided {
    case: CaseId,
    before: CaseState,
    version: u64,
    events: Vec<Event>,
    after: CaseState,
}

type Page = Vec<(String, Result<Option<Decided>, String>)>;

/// Who moves the cases: the actor of each `case_migrated` event, and words added to the
/// plan's reason in it. `reglament migrate` runs as the engine with the plan's reason alone;
/// a migration approved in the server names the approver as the actor and the request (with
/// who proposed it) in the reason, so a case's own history says who decided the move.
#[derive(Debug, Clone)]
pub struct MigratedBy {
    pub actor: Actor,
    /// Appended to the plan's reason after ` — ` (none: the plan's reason as it is).
    pub note: Option<String>,
}

impl MigratedBy {
    /// The engine on its own account (`reglament migrate` on the command line).
    pub fn engine() -> MigratedBy {
        MigratedBy {
            actor: Actor::engine(),
            note: None,
        }
    }
}

/// What the blocking threads need to decide a page.
struct Deciding {
    plan: LoadedPlan,
    new: Arc<Process>,
    clocks: Arc<dyn Clocks>,
    now: DateTime<Utc>,
    by: MigratedBy,
}

impl Deciding {
    /// The events that move one case: a rescheduling onto its office's loaded calendar when
    /// that moves anything (as any command on it would record first), then `case_migrated`.
    fn case(&self, state: CaseState) -> Result<Option<Decided>, String> {
        let clock = self
            .clocks
            .clock(&state.office, None)
            .map_err(|e| e.to_string())?;
        let version = state.version;
        let mut current = state;
        let mut events = Vec::new();
        if clock.version() != &*current.calendar_version
            && let Some(kind) = reschedule_at(&current, &clock, Some(&*self.clocks), None)
                .map_err(|e| e.to_string())?
        {
            let e = Event {
                at: self.now,
                actor: Actor::engine(),
                kind,
            };
            current.apply(&e).map_err(|e| e.to_string())?;
            events.push(e);
        }
        let kind = migrate(
            &current,
            Migration {
                plan: &self.plan.plan,
                plan_digest: &self.plan.digest,
                new: &self.new,
                now: self.now,
                clock: &clock,
                offices: Some(&*self.clocks),
            },
        )
        .map_err(|e| e.to_string())?;
        let Some(mut kind) = kind else {
            return Ok(None);
        };
        if let (Some(note), EventKind::CaseMigrated { reason, .. }) = (&self.by.note, &mut kind) {
            reason.push_str(" — ");
            reason.push_str(note);
        }
        let event = Event {
            at: self.now,
            actor: self.by.actor.clone(),
            kind,
        };
        let mut after = current.clone();
        let new = &self.new;
        after
            .apply_with(&event, |d| (d == new.digest).then(|| new.clone()))
            .map_err(|e| e.to_string())?;
        events.push(event);
        Ok(Some(Decided {
            case: current.id.clone(),
            before: current,
            version,
            events,
            after,
        }))
    }

    /// Folds and decides a page of log rows (by case, then `seq`), split between two threads.
    fn page(&self, rows: Vec<EventRow>, processes: &HashMap<String, Arc<Process>>) -> Page {
        let mut cases: Vec<&[EventRow]> = Vec::new();
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
        let one = |case: &&[EventRow]| {
            let id = case.first().map(|r| r.case_id.clone()).unwrap_or_default();
            (id, fold_rows(case, processes).and_then(|s| self.case(s)))
        };
        let half = cases.len() / 2;
        if half < 32 {
            return cases.iter().map(one).collect();
        }
        let (a, b) = cases.split_at(half);
        std::thread::scope(|s| {
            let second = s.spawn(|| b.iter().map(one).collect::<Page>());
            let mut out: Page = a.iter().map(one).collect();
            match second.join() {
                Ok(rest) => out.extend(rest),
                Err(_) => out.extend(b.iter().map(one)),
            }
            out
        })
    }
}

/// What the report says of one decided case.
fn case_move(d: &Decided, now: DateTime<Utc>) -> Option<CaseMove> {
    let EventKind::CaseMigrated {
        tasks,
        case_due_before,
        case_deadline,
        ..
    } = &d.events.last()?.kind
    else {
        return None;
    };
    let case_due_after = case_deadline.as_ref().map(|x| x.due);
    let into = |before: Option<DateTime<Utc>>, after: Option<DateTime<Utc>>| {
        matches!((before, after), (Some(b), Some(a)) if a <= now && b > now)
            || matches!((before, after), (None, Some(a)) if a <= now)
    };
    let mut into_breach = into(*case_due_before, case_due_after);
    let moves = tasks
        .iter()
        .map(|m| {
            let t = d.before.task(m.task);
            let due_after = m.deadline.as_ref().map(|x| x.due);
            into_breach |= into(m.due_before, due_after);
            TaskMove {
                task: m.task.0,
                from_step: m.from_step.to_string(),
                to_step: m.to_step.to_string(),
                role_before: t.map(|t| t.role.to_string()).unwrap_or_default(),
                role: m.role.to_string(),
                claimed_by: t.and_then(|t| t.claimed_by.as_deref().map(str::to_string)),
                office: t
                    .map(|t| t.office.to_string())
                    .unwrap_or_else(|| d.before.office.to_string()),
                policy: m.policy,
                due_before: m.due_before,
                due_after,
            }
        })
        .collect();
    Some(CaseMove {
        case: d.case.to_string(),
        office: d.before.office.to_string(),
        started_at: d.before.started_at,
        tasks: moves,
        case_due_before: *case_due_before,
        case_due_after,
        into_breach,
    })
}

/// The selection query: a page of the plan's open cases after `case_id` $3.
fn select_sql(plan: &LoadedPlan) -> String {
    let s = &plan.plan.select;
    let mut sql = String::from(
        "SELECT case_id FROM cases WHERE status = 'open' AND regulation_id = $1 \
         AND regulation_version = $2 AND case_id > $3",
    );
    let mut n = 3;
    let mut list = |count: usize| {
        let out: Vec<String> = (0..count)
            .map(|_| {
                n += 1;
                format!("${n}")
            })
            .collect();
        out.join(", ")
    };
    if !s.offices.is_empty() {
        sql.push_str(&format!(" AND office IN ({})", list(s.offices.len())));
    }
    if !s.steps.is_empty() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = cases.case_id \
             AND t.status IN ('open', 'claimed') AND t.step IN ({}))",
            list(s.steps.len())
        ));
    }
    if s.registered_before.is_some() {
        sql.push_str(&format!(" AND started_at < {}", list(1)));
    }
    sql.push_str(&format!(" ORDER BY case_id LIMIT {}", list(1)));
    sql
}

/// How many cases a page holds.
const PAGE: u32 = 1024;

impl Service {
    /// A page of the plan's open cases still on its old version, after case `after`.
    async fn plan_cases(&self, plan: &LoadedPlan, after: &str) -> Result<Vec<String>, StoreError> {
        let sql = select_sql(plan);
        let s = &plan.plan.select;
        let before = s.registered_before.map(|b| b.timestamp_micros());
        macro_rules! page {
            ($p:expr) => {{
                let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(plan.plan.regulation.as_str())
                    .bind(i64::from(plan.plan.from_version))
                    .bind(after);
                for o in &s.offices {
                    q = q.bind(o.as_str());
                }
                for st in &s.steps {
                    q = q.bind(st.as_str());
                }
                if let Some(b) = before {
                    q = q.bind(b);
                }
                q.bind(i64::from(PAGE)).fetch_all($p).await?
            }};
        }
        let rows: Vec<(String,)> = match &self.store().inner.backend {
            Backend::Sqlite(s) => page!(&s.read),
            Backend::Postgres(s) => page!(&s.pool),
        };
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    async fn version(
        &self,
        regulation: &str,
        version: u32,
    ) -> Result<Arc<Process>, CaseMigrationError> {
        let info = self
            .store()
            .regulations()
            .await?
            .into_iter()
            .find(|r| r.id == regulation && r.version == version)
            .ok_or_else(|| CaseMigrationError::NotDeployed {
                regulation: regulation.to_string(),
                version,
            })?;
        Ok(self.store().process(&info.digest).await?)
    }

    /// Runs a migration plan: every open case it selects on its old version moves onto the
    /// new one, each with one `case_migrated` event appended with its projections in one
    /// transaction. With `dry_run` nothing is written and the report says what would move;
    /// `keep` keeps every moving case in the report. Running a plan again moves only the
    /// cases the first run did not reach.
    pub async fn migrate_cases(
        &self,
        plan: &LoadedPlan,
        now: DateTime<Utc>,
        dry_run: bool,
        keep: bool,
    ) -> Result<MigrationReport, CaseMigrationError> {
        self.migrate_cases_by(plan, now, dry_run, keep, MigratedBy::engine())
            .await
    }

    /// [`Service::migrate_cases`], each `case_migrated` event recorded as `by` says.
    pub async fn migrate_cases_by(
        &self,
        plan: &LoadedPlan,
        now: DateTime<Utc>,
        dry_run: bool,
        keep: bool,
        by: MigratedBy,
    ) -> Result<MigrationReport, CaseMigrationError> {
        let p = &plan.plan;
        let old = self.version(&p.regulation, p.from_version).await?;
        let new = self.version(&p.regulation, p.to_version).await?;
        let problems = check_plan(plan, &old.regulation, &new.regulation);
        if !problems.is_empty() {
            return Err(CaseMigrationError::Plan(problems));
        }
        let mut report = MigrationReport {
            regulation: p.regulation.clone(),
            from_version: p.from_version,
            to_version: p.to_version,
            plan_digest: plan.digest.clone(),
            dry_run,
            ..MigrationReport::default()
        };
        let deciding = Arc::new(Deciding {
            plan: plan.clone(),
            new: new.clone(),
            clocks: self.clocks().clone(),
            now,
            by,
        });
        let mut processes: HashMap<String, Arc<Process>> = HashMap::new();
        processes.insert(old.digest.clone(), old.clone());
        processes.insert(new.digest.clone(), new.clone());
        // A pipeline: pages are selected, read and decided (on blocking threads) while the
        // previous pages' appends go to the writer.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Decided>>(4);
        let reader = async {
            let mut after = String::new();
            let mut recorded: BTreeSet<String> = BTreeSet::new();
            loop {
                let page = self.plan_cases(plan, &after).await?;
                let Some(last) = page.last() else { break };
                after = last.clone();
                report.selected += page.len() as u64;
                let rows = self.store().events_of(&page).await?;
                for r in &rows {
                    if !processes.contains_key(&r.digest) {
                        let pr = self.store().process(&r.digest).await?;
                        processes.insert(r.digest.clone(), pr);
                    }
                }
                let (procs, deciding) = (processes.clone(), deciding.clone());
                let decided = tokio::task::spawn_blocking(move || deciding.page(rows, &procs))
                    .await
                    .map_err(|e| StoreError::Task(format!("deciding a page of cases: {e}")))?;
                let mut jobs = Vec::new();
                for (case, outcome) in decided {
                    let d = match outcome {
                        Ok(Some(d)) => d,
                        Ok(None) => continue,
                        Err(why) => {
                            report.refused.push((case, why));
                            continue;
                        }
                    };
                    report.migrated += 1;
                    if let Some(m) = case_move(&d, now) {
                        report.into_breach += u64::from(m.into_breach);
                        if keep {
                            report.cases.push(m);
                        }
                    }
                    if !dry_run {
                        jobs.push(d);
                    }
                }
                if jobs.is_empty() {
                    continue;
                }
                // The calendars the new instants were counted on are kept for audits, once,
                // ahead of the appends that name them.
                let offices: BTreeSet<&str> = jobs
                    .iter()
                    .flat_map(|d| {
                        std::iter::once(&*d.after.office)
                            .chain(d.after.open_tasks().map(|t| &*t.office))
                    })
                    .collect();
                for office in offices {
                    let Ok(clock) = self.clocks().clock(office, None) else {
                        continue;
                    };
                    if recorded.contains(clock.version()) {
                        continue;
                    }
                    if let Some(c) = self.calendar_record(&clock, now)? {
                        self.store().record_calendar(&c).await?;
                        self.remember_recorded(&c.version);
                    }
                    recorded.insert(clock.version().to_string());
                }
                if tx.send(jobs).await.is_err() {
                    break;
                }
            }
            drop(tx);
            Ok::<(), CaseMigrationError>(())
        };
        let decider: &Deciding = &deciding;
        let writer = async {
            let mut failed = Vec::new();
            while let Some(jobs) = rx.recv().await {
                let mut results = futures_util::stream::iter(jobs)
                    .map(|d| async move {
                        let case = d.case.clone();
                        (case, self.append_migration(d, decider).await)
                    })
                    .buffer_unordered(256);
                while let Some((case, r)) = results.next().await {
                    if let Err(why) = r {
                        failed.push((case.to_string(), why));
                    }
                }
            }
            failed
        };
        let (read, failed) = tokio::join!(reader, writer);
        read?;
        report.migrated -= failed.len() as u64;
        report.refused.extend(failed);
        Ok(report)
    }

    /// Appends a decided case; if it changed meanwhile, it is decided again on its current
    /// state (a few times at most). `Err` says why it did not move.
    async fn append_migration(&self, d: Decided, deciding: &Deciding) -> Result<(), String> {
        let mut job = d;
        for _ in 0..8 {
            match self
                .store()
                .append(&job.case, job.version, &job.events, &job.after)
                .await
            {
                Ok(_) => {
                    self.cache_drop(&job.case);
                    return Ok(());
                }
                Err(StoreError::Conflict { .. }) => {
                    self.cache_drop(&job.case);
                    let state = self
                        .store()
                        .load(&job.case)
                        .await
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("case `{}` is gone", job.case))?;
                    match deciding.case(state)? {
                        Some(next) => job = next,
                        // Moved by someone else meanwhile.
                        None => return Ok(()),
                    }
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Err(format!(
            "case `{}` kept changing; run the plan again",
            job.case
        ))
    }
}

//! Migrations of running cases asked for in the server (migration `1003_migration_requests`):
//! an analyst proposes a plan with a reason, the dry run is made and kept with it, and a
//! second person — an administrator, or another analyst — approves it (the cases move, each
//! with its `case_migrated` event) or rejects it. The one who proposed a migration never
//! approves it: moving running cases changes legal deadlines, so it takes two people.
//!
//! The request row is the record of the decision: the plan's text and digest, who proposed it
//! and why, who decided and why, and what the run did. Each moved case's own history names
//! the approver as the actor of its `case_migrated` event, and the request and its proposer
//! in the event's reason (see [`reglament_store::case_migration::MigratedBy`]).
//!
//! A decision is taken once: the row goes from `proposed` to `approved` (or `rejected`) by a
//! compare-and-set, so two approvals racing (a double click, two approvers) run the plan once;
//! the other gets 409. A run then ends `done` (with the counts) or `failed` (with the error).
//! Re-running a plan moves only what the first run did not reach, so a run cut short by a
//! crash (its row left `approved`) is finished by proposing and approving the plan again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reglament_model::diagnostic::Diagnostic;
use reglament_model::migration_plan::{LoadedPlan, load_plan_str};
use reglament_runtime::Actor;
use reglament_store::case_migration::{CaseMigrationError, MigratedBy, MigrationReport};
use reglament_store::rows::{instant, micros};
use reglament_store::side::SqlArg as Arg;
use reglament_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::UserRecord;
use crate::api::field_error;
use crate::auth::Principal;
use crate::auth::policy::{ADMINISTRATOR, ANALYST, AUDITOR, Denied};
use crate::problem::{FieldProblem, Problem};
use crate::state::AppState;

/// The cases (and warnings, and cases not moved) a request keeps of its dry run; the counts
/// cover all of them.
pub const KEPT_CASES: usize = 500;
/// The name of the plan text in diagnostics.
pub const PLAN_FILE: &str = "plan.yaml";
/// Characters of a plan's text.
pub const MAX_PLAN: usize = 200_000;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a second person.
    Proposed,
    /// Approved; the cases are being moved.
    Approved,
    /// Rejected (or withdrawn by the proposer): nothing moved.
    Rejected,
    /// Approved and run: see the counts.
    Done,
    /// Approved, and the run stopped with an error: see `result`.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Done => "done",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Status {
        match s {
            "approved" => Status::Approved,
            "rejected" => Status::Rejected,
            "done" => Status::Done,
            "failed" => Status::Failed,
            _ => Status::Proposed,
        }
    }
}

/// What a warning of a dry run is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The case's statutory due instant moves to now or before: it would be past due.
    CasePastDue,
    /// A task's due instant moves to now or before: it would be past due.
    TaskPastDue,
    /// A claimed task's holder does not hold the role its new step needs: they keep it but
    /// cannot complete it.
    LosesRole,
}

/// A warning about one case of a dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Warning {
    pub case: String,
    pub kind: WarningKind,
    /// The task it is about (none: the case's own term).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<u32>,
    /// The step the task moves to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The role the step needs (for `loses_role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The office whose hours the instant is on, or where the role is needed.
    pub office: String,
    /// Who holds the task (for `loses_role`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The due instant after the move (for the past-due kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    /// The warning in English, as `reglament migrate` prints it.
    pub message: String,
}

/// An instant in the office's time zone, `2026-03-03 18:00 +05:00` (UTC when the office is
/// not known).
pub fn local(zones: &HashMap<String, Tz>, office: &str, t: Option<DateTime<Utc>>) -> String {
    match (t, zones.get(office)) {
        (None, _) => "—".into(),
        (Some(t), Some(z)) => t.with_timezone(z).format("%Y-%m-%d %H:%M %:z").to_string(),
        (Some(t), None) => t.to_rfc3339(),
    }
}

/// Whether `user` holds `role` at `office`.
fn holds(user: &UserRecord, role: &str, office: &str) -> bool {
    !user.disabled
        && user
            .grants
            .iter()
            .any(|g| g.role == role && (g.office == office || g.office == "*"))
}

/// The moves that would put a case past due, and the claimed tasks whose holder would not
/// hold the role the task moves to (`users` none: nobody is checked, as for a bare store).
pub fn warnings(
    report: &MigrationReport,
    now: DateTime<Utc>,
    users: Option<&[UserRecord]>,
    zones: &HashMap<String, Tz>,
) -> Vec<Warning> {
    let by_login: HashMap<&str, &UserRecord> = users
        .unwrap_or_default()
        .iter()
        .map(|u| (u.login.as_str(), u))
        .collect();
    let mut out = Vec::new();
    let earlier = |before: Option<DateTime<Utc>>, after: Option<DateTime<Utc>>| {
        matches!((before, after), (Some(b), Some(a)) if a < b && a <= now)
            || matches!((before, after), (None, Some(a)) if a <= now)
    };
    for c in &report.cases {
        if earlier(c.case_due_before, c.case_due_after) {
            out.push(Warning {
                case: c.case.clone(),
                kind: WarningKind::CasePastDue,
                task: None,
                step: None,
                role: None,
                office: c.office.clone(),
                holder: None,
                due: c.case_due_after,
                message: format!(
                    "the case's statutory due instant moves to {}, before now: the case would be past due",
                    local(zones, &c.office, c.case_due_after)
                ),
            });
        }
        for t in &c.tasks {
            if earlier(t.due_before, t.due_after) {
                out.push(Warning {
                    case: c.case.clone(),
                    kind: WarningKind::TaskPastDue,
                    task: Some(t.task),
                    step: Some(t.to_step.clone()),
                    role: None,
                    office: t.office.clone(),
                    holder: None,
                    due: t.due_after,
                    message: format!(
                        "task {} ({}) would be due {}, before now: it would be past due",
                        t.task,
                        t.to_step,
                        local(zones, &t.office, t.due_after)
                    ),
                });
            }
            let Some(holder) = &t.claimed_by else {
                continue;
            };
            if users.is_none() || t.role == t.role_before {
                continue;
            }
            let keeps = by_login
                .get(holder.as_str())
                .is_some_and(|u| holds(u, &t.role, &t.office));
            if !keeps {
                out.push(Warning {
                    case: c.case.clone(),
                    kind: WarningKind::LosesRole,
                    task: Some(t.task),
                    step: Some(t.to_step.clone()),
                    role: Some(t.role.clone()),
                    office: t.office.clone(),
                    holder: Some(holder.clone()),
                    due: None,
                    message: format!(
                        "task {} is claimed by {holder}, who does not hold role `{}` at {} that step `{}` needs: they keep the task but cannot complete it",
                        t.task, t.role, t.office, t.to_step
                    ),
                });
            }
        }
    }
    out
}

/// One open task of a case in a dry run: where it is and goes, its due instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskMoveDto {
    pub task: u32,
    pub from_step: String,
    pub to_step: String,
    pub role_before: String,
    pub role: String,
    #[serde(default)]
    pub claimed_by: Option<String>,
    pub office: String,
    /// `keep`, `recompute` or `restart`.
    pub policy: String,
    #[serde(default)]
    pub due_before: Option<DateTime<Utc>>,
    #[serde(default)]
    pub due_after: Option<DateTime<Utc>>,
}

/// One case a dry run would move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseMoveDto {
    pub case: String,
    pub office: String,
    pub started_at: DateTime<Utc>,
    pub tasks: Vec<TaskMoveDto>,
    #[serde(default)]
    pub case_due_before: Option<DateTime<Utc>>,
    #[serde(default)]
    pub case_due_after: Option<DateTime<Utc>>,
    /// A due instant still ahead that the move puts at or before the dry run's instant.
    pub into_breach: bool,
}

/// A case the plan selects that cannot move, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotMovedDto {
    pub case: String,
    pub why: String,
}

/// The dry run made when the migration was proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DryRunDto {
    /// The instant it was made at (a due instant at or before it is past due).
    pub at: DateTime<Utc>,
    /// Open cases the plan selected.
    pub selected: u64,
    /// Of them, those that would move.
    pub would_move: u64,
    /// Those that would not (an open incident, a step the plan cannot place, …).
    pub not_moved: u64,
    /// Those the move would put past due.
    pub into_breach: u64,
    /// Warnings in all.
    pub warnings_total: u64,
    /// The first cases that would move, by case id (at most 500).
    pub cases: Vec<CaseMoveDto>,
    /// The warnings of the cases shown.
    pub warnings: Vec<Warning>,
    /// The first cases that would not move, with why (at most 500).
    pub not_moved_cases: Vec<NotMovedDto>,
    /// Whether more cases would move (or not) than are shown.
    pub truncated: bool,
}

impl DryRunDto {
    /// The dry run as kept: the counts of all, the first [`KEPT_CASES`] cases.
    pub fn of(report: &MigrationReport, warnings: Vec<Warning>, at: DateTime<Utc>) -> DryRunDto {
        let cases: Vec<CaseMoveDto> = report
            .cases
            .iter()
            .take(KEPT_CASES)
            .map(|c| CaseMoveDto {
                case: c.case.clone(),
                office: c.office.clone(),
                started_at: c.started_at,
                tasks: c
                    .tasks
                    .iter()
                    .map(|t| TaskMoveDto {
                        task: t.task,
                        from_step: t.from_step.clone(),
                        to_step: t.to_step.clone(),
                        role_before: t.role_before.clone(),
                        role: t.role.clone(),
                        claimed_by: t.claimed_by.clone(),
                        office: t.office.clone(),
                        policy: t.policy.as_str().to_string(),
                        due_before: t.due_before,
                        due_after: t.due_after,
                    })
                    .collect(),
                case_due_before: c.case_due_before,
                case_due_after: c.case_due_after,
                into_breach: c.into_breach,
            })
            .collect();
        let shown: std::collections::HashSet<&str> =
            cases.iter().map(|c| c.case.as_str()).collect();
        let warnings_total = warnings.len() as u64;
        let warnings = warnings
            .into_iter()
            .filter(|w| shown.contains(w.case.as_str()))
            .collect();
        DryRunDto {
            at,
            selected: report.selected,
            would_move: report.migrated,
            not_moved: report.refused.len() as u64,
            into_breach: report.into_breach,
            warnings_total,
            truncated: report.cases.len() > KEPT_CASES || report.refused.len() > KEPT_CASES,
            cases,
            warnings,
            not_moved_cases: report
                .refused
                .iter()
                .take(KEPT_CASES)
                .map(|(case, why)| NotMovedDto {
                    case: case.clone(),
                    why: why.clone(),
                })
                .collect(),
        }
    }
}

/// What the approved run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RunResultDto {
    /// Open cases the plan selected when it ran.
    pub selected: u64,
    /// Cases moved, each with one `case_migrated` event.
    pub migrated: u64,
    /// Cases the move put past due.
    pub into_breach: u64,
    /// Cases that did not move, with why (the first 500).
    pub not_moved: Vec<NotMovedDto>,
    /// Why the run stopped (`failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A migration request as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MigrationRequestDto {
    pub id: String,
    pub regulation: String,
    pub from_version: u32,
    pub to_version: u32,
    /// SHA-256 of the plan's canonical JSON: what each moved case's `case_migrated` names.
    pub plan_digest: String,
    pub status: Status,
    pub proposed_by: String,
    /// Why the proposer asks for it.
    pub reason: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    /// Cases moved (`done`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrated: Option<u64>,
    /// The plan's YAML as proposed (in the request by id only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// The dry run made at the proposal (in the request by id only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<DryRunDto>,
    /// What the approved run did (in the request by id only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<RunResultDto>,
}

/// A row of `migration_requests`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub regulation: String,
    pub from_version: i64,
    pub to_version: i64,
    pub plan: String,
    pub plan_digest: String,
    pub proposed_by: String,
    pub reason: String,
    pub created_at: i64,
    pub dry_run: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_reason: Option<String>,
    pub migrated: Option<i64>,
    pub result: Option<String>,
}

impl Row {
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    pub fn dry_run(&self) -> Option<DryRunDto> {
        serde_json::from_str(&self.dry_run).ok()
    }

    pub fn result(&self) -> Option<RunResultDto> {
        self.result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
    }

    /// The request as the API shows it; `full` adds the plan, the dry run and the result.
    pub fn dto(&self, full: bool) -> MigrationRequestDto {
        MigrationRequestDto {
            id: self.id.clone(),
            regulation: self.regulation.clone(),
            from_version: u32::try_from(self.from_version).unwrap_or_default(),
            to_version: u32::try_from(self.to_version).unwrap_or_default(),
            plan_digest: self.plan_digest.clone(),
            status: self.status(),
            proposed_by: self.proposed_by.clone(),
            reason: self.reason.clone(),
            created_at: instant(self.created_at),
            decided_by: self.decided_by.clone(),
            decided_at: self.decided_at.map(instant),
            decision_reason: self.decision_reason.clone(),
            migrated: self.migrated.and_then(|m| u64::try_from(m).ok()),
            plan: full.then(|| self.plan.clone()),
            dry_run: if full { self.dry_run() } else { None },
            result: if full { self.result() } else { None },
        }
    }
}

macro_rules! select_requests {
    ($rest:literal) => {
        concat!(
            "SELECT id, regulation, from_version, to_version, plan, plan_digest, proposed_by, \
             reason, created_at, dry_run, status, decided_by, decided_at, decision_reason, \
             migrated, result FROM migration_requests ",
            $rest
        )
    };
}

/// Requests, newest first (at most `limit`).
pub async fn list(store: &Store, limit: i64) -> Result<Vec<Row>, StoreError> {
    store
        .read_side(
            select_requests!("ORDER BY created_at DESC, id DESC LIMIT $1"),
            vec![Arg::Int(limit)],
        )
        .await
}

/// One request.
pub async fn get(store: &Store, id: &str) -> Result<Option<Row>, StoreError> {
    Ok(store
        .read_side::<Row>(
            select_requests!("WHERE id = $1"),
            vec![Arg::Text(id.to_string())],
        )
        .await?
        .into_iter()
        .next())
}

async fn insert(store: &Store, row: &Row) -> Result<(), StoreError> {
    store
        .write_side(vec![(
            "INSERT INTO migration_requests (id, regulation, from_version, to_version, plan, plan_digest, \
             proposed_by, reason, created_at, dry_run, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'proposed')",
            vec![
                Arg::Text(row.id.clone()),
                Arg::Text(row.regulation.clone()),
                Arg::Int(row.from_version),
                Arg::Int(row.to_version),
                Arg::Text(row.plan.clone()),
                Arg::Text(row.plan_digest.clone()),
                Arg::Text(row.proposed_by.clone()),
                Arg::Text(row.reason.clone()),
                Arg::Int(row.created_at),
                Arg::Text(row.dry_run.clone()),
            ],
        )])
        .await?;
    Ok(())
}

/// Takes the decision if nobody has: `proposed` → `to`. False when it was decided already.
async fn decide(
    store: &Store,
    id: &str,
    to: Status,
    by: &str,
    at: DateTime<Utc>,
    reason: &str,
) -> Result<bool, StoreError> {
    let changed = store
        .write_side(vec![(
            "UPDATE migration_requests SET status = $2, decided_by = $3, decided_at = $4, \
             decision_reason = $5 WHERE id = $1 AND status = 'proposed'",
            vec![
                Arg::Text(id.to_string()),
                Arg::Text(to.as_str().to_string()),
                Arg::Text(by.to_string()),
                Arg::Int(micros(at)),
                Arg::Text(reason.to_string()),
            ],
        )])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) == 1)
}

/// Records how an approved run ended.
async fn finish(
    store: &Store,
    id: &str,
    status: Status,
    migrated: Option<u64>,
    result: &RunResultDto,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    store
        .write_side(vec![(
            "UPDATE migration_requests SET status = $2, migrated = $3, result = $4, finished_at = $5 \
             WHERE id = $1 AND status = 'approved'",
            vec![
                Arg::Text(id.to_string()),
                Arg::Text(status.as_str().to_string()),
                Arg::OptInt(migrated.and_then(|m| i64::try_from(m).ok())),
                Arg::Text(serde_json::to_string(result).unwrap_or_default()),
                Arg::Int(micros(at)),
            ],
        )])
        .await?;
    Ok(())
}

/// Who may propose: analysts.
pub fn may_propose(p: &Principal) -> Result<Actor, Denied> {
    let g = p.grants();
    if g.holds_somewhere(ANALYST) {
        return Ok(Actor::new(&*p.login, ANALYST));
    }
    Err(Denied::Forbidden {
        code: "not-allowed-to-propose-migration",
        reason: "only an analyst may propose a migration of running cases".into(),
    })
}

/// Who may see the requests: analysts, and administrators and auditors of every office.
pub fn may_view(p: &Principal) -> Result<(), Denied> {
    let g = p.grants();
    if g.holds_somewhere(ANALYST)
        || g.holds_everywhere(ADMINISTRATOR)
        || g.holds_everywhere(AUDITOR)
    {
        return Ok(());
    }
    Err(Denied::Forbidden {
        code: "not-allowed-to-view-migrations",
        reason: "only analysts, administrators and auditors see migrations of running cases".into(),
    })
}

/// Who may decide (approve or reject): an analyst or an administrator of every office. The
/// role they decide as is the actor of the moved cases' events.
pub fn may_decide(p: &Principal) -> Result<Actor, Denied> {
    let g = p.grants();
    if g.holds_somewhere(ANALYST) {
        return Ok(Actor::new(&*p.login, ANALYST));
    }
    if g.holds_everywhere(ADMINISTRATOR) {
        return Ok(Actor::new(&*p.login, ADMINISTRATOR));
    }
    Err(Denied::Forbidden {
        code: "not-allowed-to-decide-migration",
        reason: "only an administrator or an analyst may approve or reject a migration".into(),
    })
}

/// A plan that does not load or does not fit its versions: every error at its pointer, line
/// and column, the first in the detail.
pub fn invalid_plan(diagnostics: &[Diagnostic]) -> Problem {
    let errors: Vec<FieldProblem> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| FieldProblem {
            pointer: format!("/plan{}", d.pointer),
            ..FieldProblem::from(d)
        })
        .collect();
    let detail = match errors.first() {
        Some(first) => format!(
            "{} error(s) in the plan; the first at line {}, column {}: {}",
            errors.len(),
            first.line.unwrap_or(0),
            first.column.unwrap_or(0),
            first.detail
        ),
        None => "the migration plan does not load".to_string(),
    };
    Problem::unprocessable("invalid-migration-plan", detail).with_errors(errors)
}

/// A run's error as a problem: the plan's mistakes and versions not deployed are the plan's
/// (422, at their place in it); the rest is the store's.
fn run_problem(plan: &LoadedPlan, e: CaseMigrationError) -> Problem {
    match e {
        CaseMigrationError::Plan(diags) => invalid_plan(&diags),
        CaseMigrationError::NotDeployed { version, .. } => {
            let pointer = if version == plan.plan.from_version {
                "/from_version"
            } else {
                "/to_version"
            };
            let at = plan.spans.value_at(pointer);
            let detail = e.to_string();
            Problem::unprocessable(
                "version-not-deployed",
                format!(
                    "line {}, column {}: {detail}; deploy it first",
                    at.line, at.column
                ),
            )
            .with_errors(vec![FieldProblem {
                line: Some(at.line),
                column: Some(at.column),
                ..FieldProblem::new(format!("/plan{pointer}"), detail)
            }])
        }
        CaseMigrationError::Service(s) => s.into(),
    }
}

fn check_reason(pointer: &str, reason: &str) -> Result<String, Problem> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > crate::limits::MAX_REASON {
        return Err(field_error(
            "bad-reason",
            pointer,
            "say why, in 1 to 2000 characters",
        ));
    }
    Ok(reason.to_string())
}

/// The offices' time zones (for the warnings' instants).
pub fn zones(state: &AppState) -> HashMap<String, Tz> {
    state
        .calendars
        .offices()
        .map(|o| (o.data.id.clone(), o.clock.zone()))
        .collect()
}

/// Loads a plan's text: 422 with each error's line and column.
pub fn load(text: &str) -> Result<LoadedPlan, Problem> {
    if text.chars().count() > MAX_PLAN {
        return Err(field_error(
            "too-long",
            "/plan",
            format!("a plan takes at most {MAX_PLAN} characters"),
        ));
    }
    load_plan_str(&text.replace("\r\n", "\n"), PLAN_FILE).map_err(|d| invalid_plan(&d))
}

/// Proposes a plan: loads it, makes its dry run (nothing is written to any case) and keeps
/// both with the reason, as `proposed`.
pub async fn propose(
    state: &AppState,
    principal: &Principal,
    plan_text: &str,
    reason: &str,
) -> Result<Row, Problem> {
    let actor = may_propose(principal)?;
    let reason = check_reason("/reason", reason)?;
    let plan = load(plan_text)?;
    let now = state.now();
    let report = state
        .service
        .migrate_cases(&plan, now, true, true)
        .await
        .map_err(|e| run_problem(&plan, e))?;
    let users = state.accounts.users().await?;
    let warnings = warnings(&report, now, Some(&users), &zones(state));
    let dry_run = DryRunDto::of(&report, warnings, now);
    let id = format!(
        "mr-{}",
        crate::auth::secret::random_base32(10)
            .map_err(|e| Problem::internal(&e))?
            .to_ascii_lowercase()
    );
    let row = Row {
        id,
        regulation: plan.plan.regulation.clone(),
        from_version: i64::from(plan.plan.from_version),
        to_version: i64::from(plan.plan.to_version),
        plan: plan.source.clone(),
        plan_digest: plan.digest.clone(),
        proposed_by: actor.user.to_string(),
        reason,
        created_at: micros(now),
        dry_run: serde_json::to_string(&dry_run).map_err(|e| Problem::internal(&e))?,
        status: Status::Proposed.as_str().to_string(),
        decided_by: None,
        decided_at: None,
        decision_reason: None,
        migrated: None,
        result: None,
    };
    insert(&state.store, &row).await?;
    tracing::info!(id = %row.id, regulation = %row.regulation, from = row.from_version,
        to = row.to_version, by = %row.proposed_by, selected = dry_run.selected,
        "migration proposed");
    Ok(row)
}

/// A request the caller may see, or 404.
pub async fn visible(state: &AppState, principal: &Principal, id: &str) -> Result<Row, Problem> {
    may_view(principal)?;
    get(&state.store, id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no migration request `{id}`")))
}

/// Why a request cannot be decided now (409): it was decided already.
fn decided_already(row: &Row) -> Problem {
    Problem::conflict(
        "migration-decided",
        format!(
            "migration request `{}` is {} already{}: a decision is taken once",
            row.id,
            row.status,
            row.decided_by
                .as_deref()
                .map(|b| format!(" (by {b})"))
                .unwrap_or_default()
        ),
    )
}

/// Approves a proposed migration and runs it: every selected case moves with one
/// `case_migrated` event whose actor is the approver. The proposer may not approve (403); a
/// request decided already is 409, and nothing runs twice.
pub async fn approve(
    state: &AppState,
    principal: &Principal,
    id: &str,
    reason: &str,
) -> Result<Row, Problem> {
    let row = visible(state, principal, id).await?;
    let actor = may_decide(principal)?;
    if row.proposed_by == *principal.login {
        return Err(Problem::forbidden(
            "own-migration",
            "you proposed this migration: another analyst or an administrator must approve it",
        ));
    }
    if row.status() != Status::Proposed {
        return Err(decided_already(&row));
    }
    let reason = check_reason("/reason", reason)?;
    // The text kept is the text proposed: it loads as it did, to the same digest.
    let plan = load(&row.plan)?;
    if plan.digest != row.plan_digest {
        return Err(Problem::internal(&format!(
            "migration request {}: the kept plan's digest changed",
            row.id
        )));
    }
    let now = state.now();
    if !decide(
        &state.store,
        id,
        Status::Approved,
        &actor.user,
        now,
        &reason,
    )
    .await?
    {
        let now_row = get(&state.store, id).await?.unwrap_or(row);
        return Err(decided_already(&now_row));
    }
    tracing::info!(%id, by = %actor.user, proposed_by = %row.proposed_by, "migration approved");
    let by = MigratedBy {
        actor: actor.clone(),
        note: Some(format!(
            "migration request {id}, proposed by {}, approved by {}",
            row.proposed_by, actor.user
        )),
    };
    // On a task of its own: a client that hangs up does not stop the run half-way, and the
    // row always gets its end.
    let run_state = state.clone();
    let run_id = id.to_string();
    let run = tokio::spawn(async move {
        let state = run_state;
        let outcome = state
            .service
            .migrate_cases_by(&plan, now, false, false, by)
            .await;
        let end = state.now();
        let (status, migrated, result) = match outcome {
            Ok(r) => (
                Status::Done,
                Some(r.migrated),
                RunResultDto {
                    selected: r.selected,
                    migrated: r.migrated,
                    into_breach: r.into_breach,
                    not_moved: r
                        .refused
                        .iter()
                        .take(KEPT_CASES)
                        .map(|(case, why)| NotMovedDto {
                            case: case.clone(),
                            why: why.clone(),
                        })
                        .collect(),
                    error: None,
                },
            ),
            Err(e) => {
                tracing::error!(id = %run_id, error = %e, "an approved migration failed");
                (
                    Status::Failed,
                    None,
                    RunResultDto {
                        selected: 0,
                        migrated: 0,
                        into_breach: 0,
                        not_moved: Vec::new(),
                        error: Some(e.to_string()),
                    },
                )
            }
        };
        let kept = finish(&state.store, &run_id, status, migrated, &result, end).await;
        tracing::info!(id = %run_id, status = status.as_str(), migrated = result.migrated,
            not_moved = result.not_moved.len(), "migration run ended");
        kept
    });
    run.await.map_err(|e| Problem::internal(&e))??;
    get(&state.store, id)
        .await?
        .ok_or_else(|| Problem::internal(&"an approved migration request is gone"))
}

/// Rejects a proposed migration (its proposer may withdraw it so): nothing moves. A request
/// decided already is 409.
pub async fn reject(
    state: &AppState,
    principal: &Principal,
    id: &str,
    reason: &str,
) -> Result<Row, Problem> {
    let row = visible(state, principal, id).await?;
    let actor = may_decide(principal)?;
    if row.status() != Status::Proposed {
        return Err(decided_already(&row));
    }
    let reason = check_reason("/reason", reason)?;
    if !decide(
        &state.store,
        id,
        Status::Rejected,
        &actor.user,
        state.now(),
        &reason,
    )
    .await?
    {
        let now_row = get(&state.store, id).await?.unwrap_or(row);
        return Err(decided_already(&now_row));
    }
    tracing::info!(%id, by = %actor.user, "migration rejected");
    get(&state.store, id)
        .await?
        .ok_or_else(|| Problem::internal(&"a rejected migration request is gone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_as_written() {
        for s in [
            Status::Proposed,
            Status::Approved,
            Status::Rejected,
            Status::Done,
            Status::Failed,
        ] {
            assert_eq!(Status::parse(s.as_str()), s);
        }
    }

    #[test]
    fn a_plan_that_does_not_load_is_422_with_its_line_and_column() {
        let p = load("regulation: x\nfrom_version: one\n").expect_err("invalid");
        assert_eq!((p.status, p.code), (422, "invalid-migration-plan"));
        let first = p.errors.first().expect("an error");
        assert!(first.line.is_some_and(|l| l >= 1), "{first:?}");
        assert!(first.column.is_some(), "{first:?}");
        assert!(first.pointer.starts_with("/plan"), "{first:?}");
    }
}

//! Migrations of running cases for analysts and administrators: the list with the form to
//! propose a plan (`/migrations`), and a request's page (`/migrations/{id}`) with the dry run
//! made at the proposal — each case's tasks, where each is and goes, its due instants before
//! and after in office time, the warnings — and the forms to approve or reject it. The rules
//! are the API's ([`crate::migration_requests`]): the proposer cannot approve their own
//! request, a decision is taken once, and a second submission (a double click) lands on the
//! page with a notice instead of an error.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use reglament_model::compile::Process;
use reglament_model::text::Lang;

use super::inbox::{role_name, step_name};
use super::{Ctx, Page, WebResult, local_time, office_name, render_status};
use crate::migration_requests::{self as requests, Row, Status, Warning, WarningKind};
use crate::state::AppState;

/// How many requests the list shows (the newest).
const LISTED: i64 = 200;

/// A request in the list.
#[derive(Debug, Clone)]
pub struct RequestLine {
    pub id: String,
    pub regulation: String,
    pub versions: String,
    pub status_key: &'static str,
    pub status: String,
    pub proposed_by: String,
    pub created: String,
    pub decided_by: String,
}

/// An error of a proposed plan, at its line.
#[derive(Debug, Clone)]
pub struct PlanError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Template)]
#[template(path = "migrations.html")]
struct ListPage {
    page: Page,
    requests: Vec<RequestLine>,
    may_propose: bool,
    plan: String,
    reason: String,
    errors: Vec<PlanError>,
    problem: String,
}

fn status_key(s: Status) -> &'static str {
    match s {
        Status::Proposed => "mig_status_proposed",
        Status::Approved => "mig_status_approved",
        Status::Rejected => "mig_status_rejected",
        Status::Done => "mig_status_done",
        Status::Failed => "mig_status_failed",
    }
}

/// An instant in UTC as the list shows it (a request is about every office).
fn utc(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    super::country_time(lang, at)
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    form: (String, String),
    errors: Vec<PlanError>,
    problem: String,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    requests::may_view(principal).map_err(|d| ctx.problem(d.into()))?;
    let rows = requests::list(&state.store, LISTED)
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    let lines = rows
        .iter()
        .map(|r| {
            let s = r.status();
            RequestLine {
                id: r.id.clone(),
                regulation: r.regulation.clone(),
                versions: format!("v{} → v{}", r.from_version, r.to_version),
                status_key: status_key(s),
                status: ctx.t(status_key(s)).to_string(),
                proposed_by: r.proposed_by.clone(),
                created: utc(ctx.lang, reglament_store::rows::instant(r.created_at)),
                decided_by: r.decided_by.clone().unwrap_or_default(),
            }
        })
        .collect();
    Ok(render_status(
        status,
        &ListPage {
            page: ctx.page(ctx.t("migrations")),
            requests: lines,
            may_propose: requests::may_propose(principal).is_ok(),
            plan: form.0,
            reason: form.1,
            errors,
            problem,
        },
    ))
}

/// `GET /migrations`.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    list_page(
        &state,
        &ctx,
        StatusCode::OK,
        Default::default(),
        Vec::new(),
        String::new(),
    )
    .await
}

/// `POST /migrations`: `plan`, `reason`. A plan with errors comes back with them at their
/// lines (422); a proposal goes to its page.
pub async fn propose(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    requests::may_propose(principal).map_err(|d| ctx.problem(d.into()))?;
    let plan = form.get("plan").unwrap_or_default().replace("\r\n", "\n");
    let reason = form.get("reason").unwrap_or_default().to_string();
    if reason.trim().is_empty() {
        return list_page(
            &state,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            (plan, reason),
            Vec::new(),
            ctx.t("reason_required").to_string(),
        )
        .await;
    }
    match requests::propose(&state, principal, &plan, &reason).await {
        Ok(row) => Ok(super::redirect(&format!(
            "/migrations/{}?notice=mig_proposed",
            row.id
        ))),
        Err(p) if p.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors: Vec<PlanError> = p
                .errors
                .iter()
                .filter_map(|e| {
                    Some(PlanError {
                        line: e.line?,
                        column: e.column.unwrap_or(1),
                        message: e.detail.clone(),
                    })
                })
                .collect();
            let problem = if errors.is_empty() {
                p.detail.clone()
            } else {
                ctx.t("mig_plan_errors").to_string()
            };
            list_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                (plan, reason),
                errors,
                problem,
            )
            .await
        }
        Err(p) => Err(ctx.problem(p)),
    }
}

/// One row of the dry run's table: a task of a case, or the case's own term.
#[derive(Debug, Clone)]
pub struct MoveLine {
    pub case: String,
    /// The first line of its case (the case's id and office are shown there).
    pub first: bool,
    pub office: String,
    pub task: String,
    pub step: String,
    pub role: String,
    pub due_before: String,
    pub due_after: String,
    pub policy: String,
    pub breach: bool,
}

#[derive(Template)]
#[template(path = "migration.html")]
struct RequestPage {
    page: Page,
    id: String,
    regulation: String,
    versions: String,
    status_key: &'static str,
    status: String,
    plan_digest: String,
    plan: String,
    proposed_by: String,
    created: String,
    reason: String,
    decided_by: String,
    decided: String,
    decision_reason: String,
    /// "selected … would move … not moved … put past due" of the dry run.
    summary: Vec<(String, u64)>,
    dry_run_at: String,
    truncated: bool,
    moves: Vec<MoveLine>,
    warnings: Vec<(String, String)>,
    not_moved: Vec<(String, String)>,
    /// What the run did: (label, count).
    result: Vec<(String, u64)>,
    result_error: String,
    run_not_moved: Vec<(String, String)>,
    proposed: bool,
    may_approve: bool,
    may_reject: bool,
    own: bool,
}

/// A warning in the page's language.
fn warning_text(state: &AppState, ctx: &Ctx, w: &Warning) -> String {
    let when = |t| local_time(state, &w.office, t);
    match w.kind {
        WarningKind::CasePastDue => format!("{}: {}", ctx.t("mig_warn_case_past_due"), when(w.due)),
        WarningKind::TaskPastDue => format!(
            "{} {} ({}): {}: {}",
            ctx.t("task"),
            w.task.unwrap_or_default(),
            w.step.as_deref().unwrap_or_default(),
            ctx.t("mig_warn_task_past_due"),
            when(w.due)
        ),
        WarningKind::LosesRole => format!(
            "{} {} · {}: {} · {} `{}` · {}",
            ctx.t("task"),
            w.task.unwrap_or_default(),
            ctx.t("claimed"),
            w.holder.as_deref().unwrap_or_default(),
            ctx.t("mig_warn_loses_role"),
            w.role.as_deref().unwrap_or_default(),
            office_name(state, ctx.lang, &w.office)
        ),
    }
}

/// The processes of a regulation's two versions (for step and role names), when deployed.
async fn processes(state: &AppState, row: &Row) -> (Option<Arc<Process>>, Option<Arc<Process>>) {
    let Ok(infos) = state.store.regulations().await else {
        return (None, None);
    };
    let mut found: HashMap<i64, Arc<Process>> = HashMap::new();
    for info in infos.iter().filter(|i| i.id == row.regulation) {
        let v = i64::from(info.version);
        if (v == row.from_version || v == row.to_version)
            && let Ok(p) = state.store.process(&info.digest).await
        {
            found.insert(v, p);
        }
    }
    (
        found.get(&row.from_version).cloned(),
        found.get(&row.to_version).cloned(),
    )
}

fn request_page(
    state: &AppState,
    ctx: &Ctx,
    row: &Row,
    old: Option<&Process>,
    new: Option<&Process>,
) -> Result<RequestPage, super::WebError> {
    let principal = ctx.user()?;
    let lang: Lang = ctx.lang;
    let s = row.status();
    let dry = row.dry_run();
    let mut moves = Vec::new();
    let mut warnings = Vec::new();
    let mut not_moved = Vec::new();
    let mut summary = Vec::new();
    let mut truncated = false;
    let mut dry_run_at = String::new();
    if let Some(d) = &dry {
        summary = vec![
            (ctx.t("mig_selected").to_string(), d.selected),
            (ctx.t("mig_would_move").to_string(), d.would_move),
            (ctx.t("mig_not_moved").to_string(), d.not_moved),
            (ctx.t("mig_into_breach").to_string(), d.into_breach),
            (ctx.t("mig_warnings").to_string(), d.warnings_total),
        ];
        truncated = d.truncated;
        dry_run_at = utc(ctx.lang, d.at);
        for c in &d.cases {
            let office = office_name(state, lang, &c.office);
            let mut first = true;
            for t in &c.tasks {
                let before = step_name(old, &t.from_step, lang);
                let after = step_name(new, &t.to_step, lang);
                moves.push(MoveLine {
                    case: c.case.clone(),
                    first,
                    office: office.clone(),
                    task: t.task.to_string(),
                    step: if t.from_step == t.to_step {
                        after
                    } else {
                        format!("{before} → {after}")
                    },
                    role: role_name(new, &t.role, lang),
                    due_before: local_time(state, &t.office, t.due_before),
                    due_after: local_time(state, &t.office, t.due_after),
                    policy: t.policy.clone(),
                    breach: false,
                });
                first = false;
            }
            moves.push(MoveLine {
                case: c.case.clone(),
                first,
                office,
                task: String::new(),
                step: ctx.t("case_term").to_string(),
                role: String::new(),
                due_before: local_time(state, &c.office, c.case_due_before),
                due_after: local_time(state, &c.office, c.case_due_after),
                policy: String::new(),
                breach: c.into_breach,
            });
        }
        warnings = d
            .warnings
            .iter()
            .map(|w| (w.case.clone(), warning_text(state, ctx, w)))
            .collect();
        not_moved = d
            .not_moved_cases
            .iter()
            .map(|n| (n.case.clone(), n.why.clone()))
            .collect();
    }
    let mut result = Vec::new();
    let mut result_error = String::new();
    let mut run_not_moved = Vec::new();
    if let Some(r) = row.result() {
        result = vec![
            (ctx.t("mig_selected").to_string(), r.selected),
            (ctx.t("mig_migrated").to_string(), r.migrated),
            (ctx.t("mig_not_moved").to_string(), r.not_moved.len() as u64),
            (ctx.t("mig_into_breach").to_string(), r.into_breach),
        ];
        result_error = r.error.unwrap_or_default();
        run_not_moved = r.not_moved.into_iter().map(|n| (n.case, n.why)).collect();
    }
    let own = row.proposed_by == *principal.login;
    let decides = requests::may_decide(principal).is_ok();
    let proposed = s == Status::Proposed;
    Ok(RequestPage {
        page: ctx.page(&format!("{} {}", ctx.t("migration"), row.id)),
        id: row.id.clone(),
        regulation: row.regulation.clone(),
        versions: format!("v{} → v{}", row.from_version, row.to_version),
        status_key: status_key(s),
        status: ctx.t(status_key(s)).to_string(),
        plan_digest: row.plan_digest.clone(),
        plan: row.plan.clone(),
        proposed_by: row.proposed_by.clone(),
        created: utc(ctx.lang, reglament_store::rows::instant(row.created_at)),
        reason: row.reason.clone(),
        decided_by: row.decided_by.clone().unwrap_or_default(),
        decided: row
            .decided_at
            .map(|t| utc(ctx.lang, reglament_store::rows::instant(t)))
            .unwrap_or_default(),
        decision_reason: row.decision_reason.clone().unwrap_or_default(),
        summary,
        dry_run_at,
        truncated,
        moves,
        warnings,
        not_moved,
        result,
        result_error,
        run_not_moved,
        proposed,
        may_approve: proposed && decides && !own,
        may_reject: proposed && decides,
        own,
    })
}

/// `GET /migrations/{id}`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let state = &state;
    let ctx = &ctx;
    let id = id.as_str();
    let principal = ctx.user()?;
    let row = requests::visible(state, principal, id)
        .await
        .map_err(|p| ctx.problem(p))?;
    let (old, new) = processes(state, &row).await;
    let page = request_page(state, ctx, &row, old.as_deref(), new.as_deref())?;
    Ok(super::render(&page))
}

/// `POST /migrations/{id}/approve` or `/reject`: `reason`.
async fn decide(
    state: AppState,
    ctx: Ctx,
    id: String,
    body: axum::body::Bytes,
    approve: bool,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let row = requests::visible(&state, principal, &id)
        .await
        .map_err(|p| ctx.problem(p))?;
    requests::may_decide(principal).map_err(|d| ctx.problem(d.into()))?;
    if approve && row.proposed_by == *principal.login {
        return Err(ctx.error(StatusCode::FORBIDDEN, ctx.t("mig_own")));
    }
    let here = format!("/migrations/{id}");
    // Decided already (a double click, or someone else first): the page shows how it stands.
    if row.status() != Status::Proposed {
        return Ok(super::redirect(&format!(
            "{here}?notice=mig_decided_already"
        )));
    }
    let reason = form.text("reason").unwrap_or_default().to_string();
    if reason.is_empty() {
        return Err(ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("reason_required")));
    }
    let outcome = if approve {
        requests::approve(&state, principal, &id, &reason).await
    } else {
        requests::reject(&state, principal, &id, &reason).await
    };
    match outcome {
        Ok(_) => Ok(super::redirect(&format!(
            "{here}?notice={}",
            if approve {
                "mig_approved"
            } else {
                "mig_rejected"
            }
        ))),
        Err(p) if p.code == "migration-decided" => Ok(super::redirect(&format!(
            "{here}?notice=mig_decided_already"
        ))),
        Err(p) => Err(ctx.problem(p)),
    }
}

/// `POST /migrations/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    decide(state, ctx, id, body, true).await
}

/// `POST /migrations/{id}/reject`.
pub async fn reject(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    decide(state, ctx, id, body, false).await
}

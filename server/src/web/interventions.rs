//! Changes to a case by hand on the web, for administrators: the form (`/cases/{id}/intervene`:
//! move the case to a step, cancel a task, change a due instant; a reason and the legal
//! basis), the what-if before anything is done, then the change — applied at once, or waiting
//! for a second administrator on `/interventions/{id}`, who approves or rejects it. The rules
//! are the API's ([`crate::interventions`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDateTime, TimeZone, Utc};
use reglament_model::model::Step;
use reglament_runtime::{CaseState, DeadlineTarget, Intervention, TaskId};

use super::forms::FormData;
use super::inbox::step_name;
use super::{Ctx, Page, WebResult, local_time, render, render_status};
use crate::interventions::{self as iv, Preview, Proposal, Row, Submitted};
use crate::problem::Problem;
use crate::state::AppState;

/// A choice: value and label.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A task of the what-if, for reading.
#[derive(Debug, Clone)]
pub struct TaskLine {
    pub task: u32,
    pub step: String,
    pub due: String,
}

/// The what-if, for reading.
#[derive(Debug, Clone, Default)]
pub struct PreviewView {
    pub needs_approval: bool,
    pub before: Vec<TaskLine>,
    pub after: Vec<TaskLine>,
    pub case_due_before: String,
    pub case_due_after: String,
    pub overdue_after: bool,
}

fn preview_view(
    state: &AppState,
    st: &CaseState,
    lang: reglament_model::text::Lang,
    p: &Preview,
) -> PreviewView {
    let lines = |tasks: &[iv::PreviewTask]| {
        tasks
            .iter()
            .map(|t| TaskLine {
                task: t.task,
                step: step_name(Some(&st.process), &t.step, lang),
                due: local_time(state, &t.office, t.due),
            })
            .collect()
    };
    PreviewView {
        needs_approval: p.needs_approval,
        before: lines(&p.tasks_before),
        after: lines(&p.tasks_after),
        case_due_before: local_time(state, &st.office, p.case_due_before),
        case_due_after: local_time(state, &st.office, p.case_due_after),
        overdue_after: p.overdue_after,
    }
}

#[derive(Template)]
#[template(path = "intervene.html")]
struct FormPage {
    page: Page,
    case: String,
    steps: Vec<Choice>,
    tasks: Vec<Choice>,
    problem: String,
    /// The form's fields as sent, to confirm after the what-if.
    fields: Vec<(String, String)>,
    preview: Option<PreviewView>,
    what: String,
}

#[derive(Template)]
#[template(path = "interventions.html")]
struct ListPage {
    page: Page,
    rows: Vec<RequestLine>,
}

#[derive(Template)]
#[template(path = "intervention.html")]
struct RequestPage {
    page: Page,
    r: RequestLine,
    preview: PreviewView,
    may_decide: bool,
}

/// A request, for reading.
#[derive(Debug, Clone)]
pub struct RequestLine {
    pub id: String,
    pub case: String,
    pub what: String,
    pub reason: String,
    pub legal_basis: String,
    pub proposed_by: String,
    pub created: String,
    pub status_key: String,
    pub status: String,
    pub decided_by: String,
    pub decision_reason: String,
}

/// The change in words.
fn what(state: &AppState, ctx: &Ctx, st: &CaseState, action: &Intervention) -> String {
    let lang = ctx.lang;
    match action {
        Intervention::MoveTo { step } => format!(
            "{}: {}",
            ctx.t("iv_move_to"),
            step_name(Some(&st.process), step, lang)
        ),
        Intervention::CancelTask { task } => format!(
            "{}: {}",
            ctx.t("iv_cancel_task"),
            st.task(*task)
                .map(|t| step_name(Some(&st.process), &t.step_id, lang))
                .unwrap_or_else(|| task.to_string())
        ),
        Intervention::ChangeDue { target, due } => {
            let of = match target {
                DeadlineTarget::Case => ctx.t("case_term").to_string(),
                DeadlineTarget::Task(t) => st
                    .task(*t)
                    .map(|t| step_name(Some(&st.process), &t.step_id, lang))
                    .unwrap_or_else(|| t.to_string()),
            };
            format!(
                "{}: {of} → {}",
                ctx.t("iv_change_due"),
                local_time(state, &st.office, Some(*due))
            )
        }
    }
}

/// The proposal a form describes; a field that is missing or wrong is its problem.
fn proposal(state: &AppState, st: &CaseState, form: &FormData) -> Result<Proposal, String> {
    let text = |k: &str| form.text(k).unwrap_or_default().to_string();
    let action = match form.text("kind") {
        Some("move_to") => Intervention::MoveTo { step: text("step") },
        Some("cancel_task") => Intervention::CancelTask {
            task: TaskId(
                text("task")
                    .parse()
                    .map_err(|_| "iv_choose_task".to_string())?,
            ),
        },
        Some("change_due") => {
            let target = match form.text("target") {
                Some("case") => DeadlineTarget::Case,
                Some(n) => DeadlineTarget::Task(TaskId(
                    n.parse().map_err(|_| "iv_choose_task".to_string())?,
                )),
                None => return Err("iv_choose_task".into()),
            };
            let local = NaiveDateTime::parse_from_str(&text("due"), "%Y-%m-%dT%H:%M")
                .map_err(|_| "iv_due_required".to_string())?;
            let zone = state
                .calendars
                .clock(Some(&st.office))
                .map(|c| c.zone())
                .unwrap_or(chrono_tz::Asia::Almaty);
            let due = zone
                .from_local_datetime(&local)
                .earliest()
                .ok_or_else(|| "iv_due_required".to_string())?
                .with_timezone(&Utc);
            Intervention::ChangeDue { target, due }
        }
        _ => return Err("iv_choose_action".into()),
    };
    Ok(Proposal {
        action,
        reason: text("reason"),
        legal_basis: text("legal_basis"),
    })
}

/// A what-if to confirm: the form's fields as sent, the what-if, the change in words.
type Confirm = (Vec<(String, String)>, PreviewView, String);

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    status: StatusCode,
    problem: String,
    confirm: Option<Confirm>,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    iv::may_intervene(principal).map_err(|p| ctx.problem(p))?;
    let st = super::cases::visible_case(state, ctx, principal, id).await?;
    let lang = ctx.lang;
    let steps = st
        .process
        .regulation
        .steps
        .iter()
        .filter(|s| matches!(s, Step::Task(_)))
        .map(|s| Choice {
            value: s.id().to_string(),
            label: step_name(Some(&st.process), s.id(), lang),
        })
        .collect();
    let tasks = st
        .open_tasks()
        .map(|t| Choice {
            value: t.id.0.to_string(),
            label: format!(
                "{} · {}",
                t.id,
                step_name(Some(&st.process), &t.step_id, lang)
            ),
        })
        .collect();
    let (fields, preview, what) = match confirm {
        Some((f, p, w)) => (f, Some(p), w),
        None => (Vec::new(), None, String::new()),
    };
    Ok(render_status(
        status,
        &FormPage {
            page: ctx.page(ctx.t("iv_title")),
            case: st.id.to_string(),
            steps,
            tasks,
            problem,
            fields,
            preview,
            what,
        },
    ))
}

/// `GET /cases/{id}/intervene`.
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    form_page(&state, &ctx, &id, StatusCode::OK, String::new(), None).await
}

/// The case and the change a posted form asks for, or the form again saying what is missing.
async fn posted(
    state: &AppState,
    ctx: &Ctx,
    principal: &crate::auth::Principal,
    id: &str,
    form: &FormData,
) -> Result<Result<(std::sync::Arc<CaseState>, Proposal), Response>, super::WebError> {
    iv::may_intervene(principal).map_err(|p| ctx.problem(p))?;
    let st = super::cases::visible_case(state, ctx, principal, id).await?;
    match proposal(state, &st, form) {
        Ok(p) => Ok(Ok((st, p))),
        Err(key) => {
            let problem = ctx.t(&key).to_string();
            let page = form_page(
                state,
                ctx,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                problem,
                None,
            )
            .await?;
            Ok(Err(page))
        }
    }
}

/// `POST /cases/{id}/intervene/preview`: the what-if, and the button that confirms it.
pub async fn preview(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let (st, proposal) = match posted(&state, &ctx, principal, &id, &form).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    match iv::preview(&state, principal, &id, &proposal).await {
        Ok((p, _)) => {
            let fields = [
                "kind",
                "step",
                "task",
                "target",
                "due",
                "reason",
                "legal_basis",
            ]
            .iter()
            .filter_map(|k| form.get(k).map(|v| (k.to_string(), v.to_string())))
            .collect();
            let view = preview_view(&state, &st, ctx.lang, &p);
            let what = what(&state, &ctx, &st, &proposal.action);
            form_page(
                &state,
                &ctx,
                &id,
                StatusCode::OK,
                String::new(),
                Some((fields, view, what)),
            )
            .await
        }
        Err(p) if p.status().is_client_error() && p.status() != StatusCode::NOT_FOUND => {
            let status = p.status();
            form_page(&state, &ctx, &id, status, ctx.refusal(&p), None).await
        }
        Err(p) => Err(ctx.problem(p)),
    }
}

/// `POST /cases/{id}/intervene`: the change, after its what-if.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let (_, proposal) = match posted(&state, &ctx, principal, &id, &form).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    match iv::submit(&state, principal, &id, &proposal).await {
        Ok(Submitted::Applied(_)) => Ok(super::redirect(&format!("/cases/{id}?notice=iv_applied"))),
        Ok(Submitted::Proposed(row)) => Ok(super::redirect(&format!(
            "/interventions/{}?notice=iv_proposed",
            row.id
        ))),
        Err(p) if p.status().is_client_error() && p.status() != StatusCode::NOT_FOUND => {
            let status = p.status();
            form_page(&state, &ctx, &id, status, ctx.refusal(&p), None).await
        }
        Err(p) => Err(ctx.problem(p)),
    }
}

async fn line(
    state: &AppState,
    ctx: &Ctx,
    row: &Row,
) -> Result<(RequestLine, Option<std::sync::Arc<CaseState>>), Problem> {
    let st = state
        .service
        .case_state(&reglament_runtime::CaseId::new(&row.case_id))
        .await
        .ok();
    let action = row.action()?;
    let what = match &st {
        Some(st) => what(state, ctx, st, &action),
        None => String::new(),
    };
    let status_key = format!("iv_status_{}", row.status);
    Ok((
        RequestLine {
            id: row.id.clone(),
            case: row.case_id.clone(),
            what,
            reason: row.reason.clone(),
            legal_basis: row.legal_basis.clone(),
            proposed_by: row.proposed_by.clone(),
            created: super::country_time(ctx.lang, reglament_store::rows::instant(row.created_at)),
            status: ctx.t(&status_key).to_string(),
            status_key,
            decided_by: row.decided_by.clone().unwrap_or_default(),
            decision_reason: row.decision_reason.clone().unwrap_or_default(),
        },
        st,
    ))
}

/// `GET /interventions`.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let principal = ctx.user()?;
    iv::may_intervene(principal).map_err(|p| ctx.problem(p))?;
    let rows = iv::list(&state.store, 200)
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    let mut lines = Vec::new();
    for r in &rows {
        lines.push(line(&state, &ctx, r).await.map_err(|p| ctx.problem(p))?.0);
    }
    Ok(render(&ListPage {
        page: ctx.page(ctx.t("iv_requests")),
        rows: lines,
    }))
}

/// `GET /interventions/{id}`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    request_page(&state, &ctx, &id, StatusCode::OK).await
}

async fn request_page(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    status: StatusCode,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let row = iv::visible(state, principal, id)
        .await
        .map_err(|p| ctx.problem(p))?;
    let (r, st) = line(state, ctx, &row).await.map_err(|p| ctx.problem(p))?;
    let preview = match (&st, row.preview()) {
        (Some(st), Ok(p)) => preview_view(state, st, ctx.lang, &p),
        _ => PreviewView::default(),
    };
    Ok(render_status(
        status,
        &RequestPage {
            page: ctx.page(ctx.t("iv_request")),
            may_decide: row.status == "proposed" && row.proposed_by != *principal.login,
            r,
            preview,
        },
    ))
}

/// `POST /interventions/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    match iv::approve(&state, principal, &id).await {
        Ok(row) => Ok(super::redirect(&format!(
            "/cases/{}?notice=iv_applied",
            row.case_id
        ))),
        // Decided already (a double click, a colleague first): the page says how it stands.
        Err(p) if p.code == "intervention-decided" => Ok(super::redirect(&format!(
            "/interventions/{id}?notice=iv_decided"
        ))),
        Err(p) => Err(ctx.problem(p)),
    }
}

/// `POST /interventions/{id}/reject`: `reason`.
pub async fn reject(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let reason = form.text("reason").unwrap_or_default().to_string();
    match iv::reject(&state, principal, &id, &reason).await {
        Ok(_) => Ok(super::redirect(&format!(
            "/interventions/{id}?notice=iv_rejected"
        ))),
        Err(p) if p.code == "intervention-decided" => Ok(super::redirect(&format!(
            "/interventions/{id}?notice=iv_decided"
        ))),
        Err(p) if p.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            request_page(&state, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(p) => Err(ctx.problem(p)),
    }
}

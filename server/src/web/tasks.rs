//! The task page: the case's data and history, the step's form generated from its JSON
//! Schema (with the schema's errors next to the fields), one button per outcome, and the
//! step's legal source. Claiming, releasing, completing, suspending and resuming the task's
//! time (for a reason its step allows), and (for heads) handing the task to a named colleague
//! go through the same policy and engine commands as the API; a second completion, suspension
//! or resumption (a double click) lands on a page with a notice instead of an error.

use std::collections::HashMap;

use crate::accounts::UserRecord;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use reglament_model::model::Step;
use reglament_runtime::{Actor, CaseState, Command, CommandError, Task, TaskId, TaskStatus};
use reglament_store::ServiceError;
use serde_json::Value;

use super::cases::{HistoryLine, history};
use super::forms::{self, Field, FormData};
use super::recorded::{RecordedStep, Scope, recorded};
use super::{Ctx, Page, WebError, WebResult, i18n, local_time, office_name, render_status};
use crate::access;
use crate::api::tasks::suspend_actor;
use crate::auth::{Principal, TaskAction};
use crate::problem::Problem;
use crate::state::AppState;

/// An outcome button.
#[derive(Debug, Clone)]
pub struct OutcomeButton {
    pub id: String,
    pub label: String,
    pub requires_reason: bool,
}

/// A suspended task's suspension as the page shows it.
#[derive(Debug, Clone)]
pub struct SuspensionLine {
    /// The reason's name in the page's language.
    pub reason: String,
    /// "Suspended since …" in the office's local time.
    pub since: String,
    pub stops_case_term: bool,
}

#[derive(Template)]
#[template(path = "task.html")]
struct TaskPage {
    page: Page,
    id: String,
    case: String,
    service: String,
    step: String,
    role: String,
    office: String,
    status: String,
    due: String,
    left: String,
    overdue: bool,
    open: bool,
    may_work: bool,
    claimed_by_me: bool,
    assigned_to: String,
    may_release: bool,
    /// The colleagues a head may hand the task to: `(login, "Name (login)")`; empty when the
    /// caller may not reassign.
    may_reassign: bool,
    candidates: Vec<(String, String)>,
    data: Vec<(String, String)>,
    /// What the steps before this one recorded (with its own, once it is completed).
    recorded: Vec<RecordedStep>,
    history: Vec<HistoryLine>,
    fields: Vec<Field>,
    outcomes: Vec<OutcomeButton>,
    needs_reason: bool,
    reason: String,
    reason_error: Option<String>,
    errors: Vec<String>,
    source: Vec<(String, String)>,
    act: String,
    /// The reasons the step allows suspending the task for: `(code, name in the page's
    /// language)`; shown when the caller may suspend it.
    suspensions: Vec<(String, String)>,
    may_suspend: bool,
    suspended: Option<SuspensionLine>,
    may_resume: bool,
    suspend_reason: String,
    suspend_comment: String,
}

/// The case of a task the caller may see, and the task's number; 404 otherwise.
async fn locate(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    id: &str,
) -> Result<(std::sync::Arc<CaseState>, TaskId), WebError> {
    access::visible_task(state, principal, id)
        .await
        .map_err(|e| ctx.unseen(e))
}

/// What the page shows after a refused completion: the values and errors to put back.
#[derive(Default)]
struct Submitted {
    values: Value,
    errors: HashMap<String, String>,
    reason: String,
    reason_error: Option<String>,
    messages: Vec<String>,
    /// The suspension form's reason and comment, put back after a refusal.
    suspend_reason: String,
    suspend_comment: String,
}

async fn task_page(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    st: &CaseState,
    task: TaskId,
    submitted: Submitted,
    status: StatusCode,
) -> WebResult {
    let lang = ctx.lang;
    let now = state.now();
    let t = st.task(task).ok_or_else(|| ctx.not_found())?;
    let step = st.step_of(t).clone();
    let process = &st.process;
    let office = t.office.to_string();
    let may_work = principal
        .grants()
        .task(&office, &t.role, TaskAction::Complete)
        .is_ok();
    let open = t.status == TaskStatus::Open;
    let may_release = open
        && t.claimed_by.is_some()
        && principal
            .grants()
            .task(&office, &t.role, TaskAction::Release)
            .is_ok();
    let may_reassign = open && principal.grants().reassign(&office).is_ok();
    // Suspending and resuming: the holder (who claimed it, in its role) or a head.
    let may_hold = open
        && (principal.grants().reassign(&office).is_ok()
            || (t.claimed_by.as_deref().is_some_and(|by| {
                by == &*principal.login
                    || principal
                        .acting
                        .iter()
                        .any(|a| a.in_force && *a.principal == *by)
            }) && principal.grants().holds(&t.role, &office)));
    let suspensions: Vec<(String, String)> = match &step {
        Step::Task(ts) if open => ts
            .suspensions
            .iter()
            .map(|s| (s.reason.clone(), s.name.get(lang).to_string()))
            .collect(),
        _ => Vec::new(),
    };
    let suspended = t.suspended.as_ref().filter(|_| open).map(|s| {
        let reason = match &step {
            Step::Task(ts) => ts
                .suspensions
                .iter()
                .find(|a| a.reason == *s.reason)
                .map(|a| a.name.get(lang).to_string()),
            _ => None,
        };
        SuspensionLine {
            reason: reason.unwrap_or_else(|| s.reason.to_string()),
            since: i18n::t(lang, "suspended_since")
                .replace("{}", &local_time(state, &office, Some(s.since))),
            stops_case_term: s.stops_case_term,
        }
    });
    let suspended_since = t.suspended.as_ref().map(|s| s.since);
    let candidates = if may_reassign {
        let users = state
            .accounts
            .users()
            .await
            .map_err(|e| ctx.problem(Problem::from(e)))?;
        users
            .into_iter()
            .filter(|u| may_take(u, &office, &t.role))
            .map(|u| {
                let label = format!("{} ({})", u.display_name, u.login);
                (u.login, label)
            })
            .collect()
    } else {
        Vec::new()
    };
    let due = t.deadline.as_ref().map(|d| d.due);
    // While suspended, the time left stands still at what was left when it stopped.
    let left_from = suspended_since.map_or(now, |s| s.min(now));
    let left = match (state.calendars.clock(Some(&office)).ok(), due, open) {
        (Some(c), Some(d), true) => c
            .elapsed_minutes(left_from, d)
            .map(|m| i18n::working_time_left(lang, m, super::day_minutes(state, &office)))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let (fields, outcomes) = match &step {
        Step::Task(ts) => {
            let fields = ts
                .form
                .as_ref()
                .map(|f| forms::fields(&f.0, "d", &submitted.values, &submitted.errors, lang))
                .unwrap_or_default();
            let outcomes = ts
                .outcomes
                .iter()
                .map(|o| OutcomeButton {
                    id: o.id.clone(),
                    label: o
                        .name
                        .as_ref()
                        .map_or_else(|| o.id.clone(), |n| n.get(lang).to_string()),
                    requires_reason: o.requires_reason,
                })
                .collect();
            (fields, outcomes)
        }
        _ => (Vec::new(), Vec::new()),
    };
    let needs_reason = outcomes.iter().any(|o: &OutcomeButton| o.requires_reason);
    let mut source = Vec::new();
    if let Some(s) = step.source() {
        for (k, v) in [
            ("appendix", &s.appendix),
            ("table", &s.table),
            ("action", &s.action),
            ("paragraph", &s.paragraph),
        ] {
            if let Some(v) = v {
                source.push((k.to_string(), v.clone()));
            }
        }
        if let Some(q) = &s.quote {
            source.push(("quote".to_string(), q.clone()));
        }
    }
    let page = TaskPage {
        page: ctx
            .page(&format!(
                "{} · {}",
                st.id.as_str(),
                step.name().map_or(step.id(), |n| n.get(lang))
            ))
            .noting_languages_of(process),
        id: crate::api::task_id(st.id.as_str(), task.0),
        case: st.id.to_string(),
        service: process.regulation.title.get(lang).to_string(),
        step: step
            .name()
            .map_or_else(|| step.id().to_string(), |n| n.get(lang).to_string()),
        role: super::inbox::role_name(Some(process), &t.role, lang),
        office: office_name(state, lang, &office),
        // One state in words: who has it, or that nobody has yet.
        status: match (t.status, t.claimed_by.as_deref(), t.closed_by.as_deref()) {
            _ if suspended.is_some() => ctx.t("suspended").to_string(),
            (TaskStatus::Open, Some(who), _) => ctx.t("state_claimed_by").replace("{}", who),
            (TaskStatus::Open, None, _) => ctx.t("state_unclaimed").to_string(),
            (TaskStatus::Completed, _, Some(who)) => ctx.t("state_completed_by").replace("{}", who),
            (other, _, _) => ctx.t(other.as_str()).to_string(),
        },
        claimed_by_me: t.claimed_by.as_deref() == Some(&*principal.login),
        assigned_to: t.assigned_to.as_deref().unwrap_or_default().to_string(),
        may_release,
        may_reassign,
        candidates,
        due: local_time(state, &office, due),
        overdue: open && suspended.is_none() && due.is_some_and(|d| d <= now),
        left,
        open,
        may_work,
        data: forms::describe(
            process.regulation.application_form.as_ref().map(|f| &f.0),
            &st.data,
            lang,
        ),
        recorded: recorded(
            state,
            st,
            lang,
            if open {
                Scope::BeforeOpening(task)
            } else {
                Scope::ThroughCompletion(task)
            },
        )
        .await
        .map_err(|e| ctx.problem(e))?,
        history: history(state, st, lang).await.map_err(|e| ctx.problem(e))?,
        fields,
        outcomes,
        needs_reason,
        reason: submitted.reason,
        reason_error: submitted.reason_error,
        errors: submitted.messages,
        source,
        act: process.regulation.source.act.clone(),
        may_suspend: may_hold && suspended.is_none() && !suspensions.is_empty(),
        may_resume: may_hold && suspended.is_some(),
        suspensions,
        suspended,
        suspend_reason: submitted.suspend_reason,
        suspend_comment: submitted.suspend_comment,
    };
    Ok(render_status(status, &page))
}

/// `GET /tasks/{id}`.
pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> WebResult {
    let principal = ctx.user()?;
    let (st, task) = locate(&state, &ctx, principal, &id).await?;
    task_page(
        &state,
        &ctx,
        principal,
        &st,
        task,
        Submitted::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /tasks/{id}/claim`.
pub async fn claim(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let (st, task) = locate(&state, &ctx, principal, &id).await?;
    let (office, role) = st
        .task(task)
        .map(|t| (t.office.to_string(), t.role.to_string()))
        .unwrap_or_default();
    let actor = principal
        .grants()
        .task(&office, &role, TaskAction::Claim)
        .map_err(|d| denied(&ctx, d))?;
    let actor = holder_actor(principal, &st, task, actor);
    state
        .service
        .execute(&st.id, &Command::Claim { task }, &actor, state.now())
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    Ok(super::redirect(&format!("/tasks/{id}?notice=claimed_ok")))
}

/// The actor to record: the principal named when the user acts under a deputy rule.
fn holder_actor(principal: &Principal, st: &CaseState, task: TaskId, actor: Actor) -> Actor {
    match st.task(task) {
        Some(t) => principal.deputy_actor(
            actor,
            &t.office,
            t.claimed_by.as_deref().or(t.assigned_to.as_deref()),
        ),
        None => actor,
    }
}

/// A form posted on a task: its fields, the sender (CSRF checked), the case and the task.
struct Posted<'c> {
    form: FormData,
    principal: &'c Principal,
    st: std::sync::Arc<CaseState>,
    task: TaskId,
    t: Task,
}

async fn posted<'c>(
    state: &AppState,
    ctx: &'c Ctx,
    id: &str,
    body: &[u8],
) -> Result<Posted<'c>, WebError> {
    let form = ctx.form(body)?;
    let principal = ctx.check_csrf(&form)?;
    let (st, task) = locate(state, ctx, principal, id).await?;
    let t = st.task(task).cloned().ok_or_else(|| ctx.not_found())?;
    Ok(Posted {
        form,
        principal,
        st,
        task,
        t,
    })
}

/// Whether `user` may be handed a task of `role` in `office`: active, holding the role there.
fn may_take(user: &UserRecord, office: &str, role: &str) -> bool {
    !user.disabled
        && user
            .grants
            .iter()
            .any(|g| g.role == role && (g.office == office || g.office == "*"))
}

/// `POST /tasks/{id}/release`: gives a claimed task back to its role (the claimer, or a head
/// taking it back from someone who is away).
pub async fn release(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let Posted {
        principal,
        st,
        task,
        t,
        ..
    } = posted(&state, &ctx, &id, &body).await?;
    // Released already (a double click): the page shows how it stands.
    if t.status == TaskStatus::Open && t.claimed_by.is_none() {
        return Ok(super::redirect(&format!("/tasks/{id}?notice=released_ok")));
    }
    let actor = principal
        .grants()
        .task(&t.office, &t.role, TaskAction::Release)
        .map_err(|d| denied(&ctx, d))?;
    let actor = holder_actor(principal, &st, task, actor);
    state
        .service
        .execute(&st.id, &Command::Release { task }, &actor, state.now())
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    Ok(super::redirect(&format!("/tasks/{id}?notice=released_ok")))
}

/// `POST /tasks/{id}/reassign`: `user` (a login; empty hands the task back to the whole
/// role). Heads and administrators of the task's office only.
pub async fn reassign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let Posted {
        form,
        principal,
        st,
        task,
        t,
    } = posted(&state, &ctx, &id, &body).await?;
    let actor = principal
        .grants()
        .reassign(&t.office)
        .map_err(|d| denied(&ctx, d))?;
    let user = form
        .text("user")
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    if let Some(login) = &user {
        let target = state
            .accounts
            .user(login)
            .await
            .map_err(|e| ctx.problem(Problem::from(e)))?;
        if !target.is_some_and(|u| may_take(&u, &t.office, &t.role)) {
            return Err(ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("cannot_take_task")));
        }
    }
    // Where it is sent already (a double click): nothing more to do.
    if t.status == TaskStatus::Open
        && t.claimed_by.is_none()
        && t.assigned_to.as_deref() == user.as_deref()
    {
        return Ok(super::redirect(&format!(
            "/tasks/{id}?notice=reassigned_ok"
        )));
    }
    state
        .service
        .execute(
            &st.id,
            &Command::Reassign { task, user },
            &actor,
            state.now(),
        )
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    Ok(super::redirect(&format!(
        "/tasks/{id}?notice=reassigned_ok"
    )))
}

/// `POST /tasks/{id}/complete`: `_outcome` (the button pressed), `_reason`, and the form's
/// fields `d.*`.
pub async fn complete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let Posted {
        form,
        principal,
        st,
        task,
        t,
    } = posted(&state, &ctx, &id, &body).await?;
    // A second submission of a task this user completed already (a double click, the
    // back button): nothing more to do.
    if t.status != TaskStatus::Open {
        if t.closed_by.as_deref() == Some(&*principal.login) {
            return Ok(super::redirect("/inbox?notice=already_done"));
        }
        return Err(ctx.error(StatusCode::CONFLICT, ctx.t("task_closed")));
    }
    let actor = principal
        .grants()
        .task(&t.office, &t.role, TaskAction::Complete)
        .map_err(|d| denied(&ctx, d))?;
    let actor = holder_actor(principal, &st, task, actor);
    // Suspended (the page was open from before): the engine would refuse it; say why.
    if t.suspended.is_some() {
        return refused_while_suspended(&state, &ctx, principal, &st, task).await;
    }
    let schema = match st.step_of(&t) {
        Step::Task(ts) => ts.form.as_ref().map(|f| f.0.clone()),
        _ => None,
    };
    let data = schema
        .as_ref()
        .map(|s| forms::read(s, "d", &form))
        .unwrap_or_else(|| Value::Object(Default::default()));
    let reason = form.text("_reason").map(str::to_string);
    let command = Command::Complete {
        task,
        outcome: form.text("_outcome").map(str::to_string),
        data: data.clone(),
        reason: reason.clone(),
    };
    let checked = crate::limits::check_reason("/reason", reason.as_deref())
        .and_then(|()| crate::limits::check_data(schema.as_ref(), &data));
    let result = match checked {
        Ok(()) => state
            .service
            .execute(&st.id, &command, &actor, state.now())
            .await
            .map_err(Problem::from),
        Err(p) => Err(p),
    };
    match result {
        Ok(_) => Ok(super::redirect("/inbox?notice=done")),
        Err(p) => {
            if p.status() == StatusCode::CONFLICT {
                // Completed in the meantime (a double click that raced): by us, say so.
                if let Ok(now_st) = state.service.case_state(&st.id).await
                    && let Some(now_t) = now_st.task(task)
                    && now_t.status != TaskStatus::Open
                    && now_t.closed_by.as_deref() == Some(&*principal.login)
                {
                    return Ok(super::redirect("/inbox?notice=already_done"));
                }
                // Suspended in the meantime, by someone else (a head).
                if p.code == CommandError::TaskSuspended(task).kind() {
                    let st = state
                        .service
                        .case_state(&st.id)
                        .await
                        .map_err(|e| ctx.problem(e.into()))?;
                    return refused_while_suspended(&state, &ctx, principal, &st, task).await;
                }
                return Err(ctx.problem(p));
            }
            if p.status() != StatusCode::UNPROCESSABLE_ENTITY {
                return Err(ctx.problem(p));
            }
            let errors = forms::errors_by_field("d", &p.errors, ctx.lang);
            let reason_error = p
                .errors
                .iter()
                .find(|f| f.pointer == "/reason")
                .map(|f| f.detail.clone());
            let mut messages = vec![ctx.t("fix_errors").to_string()];
            messages.extend(
                p.errors
                    .iter()
                    .filter(|f| !f.pointer.starts_with("/data") && f.pointer != "/reason")
                    .map(|f| f.detail.clone()),
            );
            if p.errors.is_empty() {
                messages.push(p.detail.clone());
            }
            let submitted = Submitted {
                values: data,
                errors,
                reason: reason.unwrap_or_default(),
                reason_error,
                messages,
                ..Submitted::default()
            };
            task_page(
                &state,
                &ctx,
                principal,
                &st,
                task,
                submitted,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The task page again with the refusal of a completion while the task is suspended (409).
async fn refused_while_suspended(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    st: &CaseState,
    task: TaskId,
) -> WebResult {
    let submitted = Submitted {
        messages: vec![ctx.t("resume_to_complete").to_string()],
        ..Submitted::default()
    };
    task_page(
        state,
        ctx,
        principal,
        st,
        task,
        submitted,
        StatusCode::CONFLICT,
    )
    .await
}

/// The canonical address of a task's page, with a notice.
fn task_notice(st: &CaseState, task: TaskId, notice: &str) -> axum::response::Response {
    super::redirect(&format!(
        "/tasks/{}?notice={notice}",
        crate::api::task_id(st.id.as_str(), task.0)
    ))
}

/// `POST /tasks/{id}/suspend`: `reason` (one of the step's suspensions) and `comment`.
/// The task's holder or a head of its office; a second suspension (a double click) lands on
/// the page with a notice.
pub async fn suspend(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let Posted {
        form,
        principal,
        st,
        task,
        t,
    } = posted(&state, &ctx, &id, &body).await?;
    if t.status != TaskStatus::Open {
        return Err(ctx.error(StatusCode::CONFLICT, ctx.t("task_closed")));
    }
    if t.suspended.is_some() {
        return Ok(task_notice(&st, task, "already_suspended"));
    }
    let actor = suspend_actor(&principal.grants(), &t.office, &t.role)
        .map_err(|d| suspend_denied(&ctx, d))?;
    let actor = holder_actor(principal, &st, task, actor);
    let reason = form.text("reason").unwrap_or_default().trim().to_string();
    let comment = form.text("comment").unwrap_or_default().trim().to_string();
    let allowed = match st.step_of(&t) {
        Step::Task(ts) => ts.suspensions.iter().any(|s| s.reason == reason),
        _ => false,
    };
    let too_long = crate::limits::check_reason("/comment", Some(&comment)).is_err();
    if !allowed || too_long {
        let message = if allowed {
            ctx.t("text_too_long")
        } else {
            ctx.t("choose_suspension_reason")
        };
        let submitted = Submitted {
            messages: vec![message.to_string()],
            suspend_reason: reason,
            suspend_comment: comment,
            ..Submitted::default()
        };
        return task_page(
            &state,
            &ctx,
            principal,
            &st,
            task,
            submitted,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let command = Command::Suspend {
        task,
        reason,
        comment: Some(comment).filter(|c| !c.is_empty()),
    };
    match state
        .service
        .execute(&st.id, &command, &actor, state.now())
        .await
    {
        Ok(_) => Ok(task_notice(&st, task, "suspended_ok")),
        // Suspended in the meantime (a double click that raced).
        Err(ServiceError::Command(CommandError::AlreadySuspended(_))) => {
            Ok(task_notice(&st, task, "already_suspended"))
        }
        Err(ServiceError::Command(CommandError::NotAllowedToSuspend(_))) => {
            Err(ctx.error(StatusCode::FORBIDDEN, ctx.t("not_allowed_to_suspend")))
        }
        Err(e) => Err(ctx.problem(e.into())),
    }
}

/// `POST /tasks/{id}/resume`: `comment`. The task's holder or a head of its office; resuming
/// a task that runs already (a double click) lands on the page with a notice.
pub async fn resume(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let Posted {
        form,
        principal,
        st,
        task,
        t,
    } = posted(&state, &ctx, &id, &body).await?;
    if t.status != TaskStatus::Open {
        return Err(ctx.error(StatusCode::CONFLICT, ctx.t("task_closed")));
    }
    if t.suspended.is_none() {
        return Ok(task_notice(&st, task, "not_suspended"));
    }
    let actor = suspend_actor(&principal.grants(), &t.office, &t.role)
        .map_err(|d| suspend_denied(&ctx, d))?;
    let actor = holder_actor(principal, &st, task, actor);
    let comment = form.text("comment").unwrap_or_default().trim().to_string();
    if crate::limits::check_reason("/comment", Some(&comment)).is_err() {
        return Err(ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("text_too_long")));
    }
    let command = Command::Resume {
        task,
        comment: Some(comment).filter(|c| !c.is_empty()),
    };
    match state
        .service
        .execute(&st.id, &command, &actor, state.now())
        .await
    {
        Ok(_) => Ok(task_notice(&st, task, "resumed_ok")),
        // Resumed in the meantime (a double click that raced).
        Err(ServiceError::Command(CommandError::NotSuspended(_))) => {
            Ok(task_notice(&st, task, "not_suspended"))
        }
        Err(ServiceError::Command(CommandError::NotAllowedToSuspend(_))) => {
            Err(ctx.error(StatusCode::FORBIDDEN, ctx.t("not_allowed_to_suspend")))
        }
        Err(e) => Err(ctx.problem(e.into())),
    }
}

/// The page for a caller the policy does not let act on a task of a case they see (`locate`
/// found it): a task at another office of the case's route is refused as such (403, as the
/// API's `task-at-another-office`), not hidden, since the case is not.
fn denied(ctx: &Ctx, d: crate::auth::Denied) -> WebError {
    match d {
        crate::auth::Denied::Hidden => {
            ctx.error(StatusCode::FORBIDDEN, ctx.t("task_at_another_office"))
        }
        other => ctx.problem(other.into()),
    }
}

/// The page for a caller the policy does not let suspend or resume the task of a case they
/// see: 403 in the page's language.
fn suspend_denied(ctx: &Ctx, d: crate::auth::Denied) -> WebError {
    match d {
        crate::auth::Denied::Hidden => {
            ctx.error(StatusCode::FORBIDDEN, ctx.t("task_at_another_office"))
        }
        crate::auth::Denied::Forbidden { .. } => {
            ctx.error(StatusCode::FORBIDDEN, ctx.t("not_allowed_to_suspend"))
        }
    }
}

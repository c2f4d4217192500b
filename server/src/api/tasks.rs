//! Tasks: claim, release, complete, reassign, suspend, resume. A task is addressed as
//! `<case>:<number>`.
//!
//! Each handler finds the task's case and role, asks the policy who the caller acts as, and
//! runs the command through the engine, which decides on the case's current state: of two
//! claims of one task exactly one wins, a second completion is refused with 409.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use reglament_runtime::{Actor, CaseId, Command, CommandError, EventKind, TaskId};
use reglament_store::ServiceError;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::CommandResultDto;
use super::{ApiResult, field_error, parse_task_id};
use crate::access::{self, Unseen};
use crate::auth::{Denied, Grants, Principal, TaskAction};
use crate::deputies;
use crate::problem::{CommandErrors, FieldProblem, Json, Path, Problem};
use crate::state::AppState;

pub(crate) fn no_task() -> Problem {
    Problem::not_found("no such task, or it is not visible to you")
}

/// The office and role of each task the server has seen, by case and task number. Both are
/// fixed when a task opens, so a task found here needs no read of its case to decide who may
/// act on it (the command itself is still decided on the case's current state). The tasks a
/// command opens are added from its events, so a worker's next task is found here too.
#[derive(Debug, Default)]
pub struct TaskFacts(Mutex<HashMap<TaskKey, OfficeRole>>);

/// A case and a task number.
type TaskKey = (Arc<str>, u32);
/// An office and a role.
type OfficeRole = (Arc<str>, Arc<str>);

/// Entries kept before the map starts over (a few tens of megabytes at most).
const TASK_FACTS_CAP: usize = 200_000;

impl TaskFacts {
    fn get(&self, case: &str, task: u32) -> Option<(String, String)> {
        let map = self.0.lock().ok()?;
        map.get(&(Arc::from(case), task))
            .map(|(office, role)| (office.to_string(), role.to_string()))
    }

    fn put(&self, case: &str, task: u32, office: &str, role: &str) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= TASK_FACTS_CAP {
                map.clear();
            }
            map.insert(
                (Arc::from(case), task),
                (Arc::from(office), Arc::from(role)),
            );
        }
    }
}

/// A refusal for a task of a case the caller sees (`locate` found it): a task at another office
/// of the case's route is refused as such (403), not hidden, since the case is not.
pub(crate) fn elsewhere(d: Denied) -> Problem {
    match d {
        Denied::Hidden => Problem::forbidden(
            "task-at-another-office",
            "this task is at another office of the case's route; only that office's staff of the task's role may act on it",
        ),
        other => other.into(),
    }
}

/// The case and number of a task the caller may see, with the office and the task's role.
pub(crate) async fn locate(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<(CaseId, TaskId, String, String), Problem> {
    let (case, n) = parse_task_id(id).ok_or_else(no_task)?;
    if let Some((office, role)) = state.task_facts.get(&case, n)
        && principal.grants().read_case(&office).is_ok()
    {
        return Ok((CaseId::new(case), TaskId(n), office, role));
    }
    // Not known, or at an office the caller has no grant in: whether they may see the case
    // at all (it may have passed through their office) decides between 404 and 403.
    let (st, task) = match access::visible_task(state, principal, id).await {
        Ok(found) => found,
        Err(Unseen::Hidden) => return Err(no_task()),
        Err(Unseen::Failed(e)) => return Err(e.into()),
    };
    let case = CaseId::new(case);
    let task = st.task(task).ok_or_else(no_task)?;
    state
        .task_facts
        .put(case.as_str(), n, &task.office, &task.role);
    Ok((
        case,
        task.id,
        task.office.to_string(),
        task.role.to_string(),
    ))
}

async fn run(
    state: &AppState,
    case: &CaseId,
    office: &str,
    command: Command,
    actor: &Actor,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let events = execute(state, case, office, command, actor).await?;
    Ok(axum::Json(CommandResultDto::new(case.as_str(), &events)))
}

/// Runs a command on a task of `case` (at `office`) and learns the tasks it opened.
pub(crate) async fn execute(
    state: &AppState,
    case: &CaseId,
    office: &str,
    command: Command,
    actor: &Actor,
) -> Result<Vec<reglament_store::StoredEvent>, Problem> {
    let events = state
        .service
        .execute(case, &command, actor, state.now())
        .await
        .map_err(refusal)?;
    // A task opened elsewhere names its office; one that does not is at the office where
    // the case was registered, which is the acting task's own unless the case was handed over.
    let handed = events
        .iter()
        .any(|e| matches!(e.event.kind, EventKind::CaseHandedOver { .. }));
    for e in &events {
        if let EventKind::TaskOpened {
            task,
            role,
            office: at,
            ..
        } = &e.event.kind
        {
            match at {
                Some(at) => state.task_facts.put(case.as_str(), task.0, at, role),
                None if !handed => state.task_facts.put(case.as_str(), task.0, office, role),
                None => {}
            }
        }
    }
    Ok(events)
}

/// The problem of a refused command, with the field it is about where the engine's error
/// does not say it itself (a suspension reason the step does not allow: `/reason`).
fn refusal(e: ServiceError) -> Problem {
    match e {
        ServiceError::Command(c @ CommandError::SuspensionNotAllowed { .. }) => {
            let detail = c.to_string();
            Problem::from(c).with_errors(vec![FieldProblem::new("/reason", detail)])
        }
        e => e.into(),
    }
}

/// Who the caller acts as when suspending or resuming a task of `task_role` in `office`: a
/// head or an administrator of the office as such (they may suspend any of its tasks), anyone
/// else as the task's role, which the engine lets through only for the task's holder (the
/// user who claimed it). Callers who may not see the office get [`Denied::Hidden`] (404).
pub fn suspend_actor(grants: &Grants<'_>, office: &str, task_role: &str) -> Result<Actor, Denied> {
    if let Ok(actor) = grants.reassign(office) {
        return Ok(actor);
    }
    grants.read_case(office)?;
    if grants.holds(task_role, office) {
        return Ok(Actor::new(grants.login, task_role));
    }
    Err(Denied::Forbidden {
        code: "not-allowed-to-suspend",
        reason: format!(
            "only the task's holder (role `{task_role}`) or the head of office `{office}` may \
             suspend or resume it"
        ),
    })
}

/// Takes a task to work on it. Claiming a task one has already claimed changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/claim",
    tag = "tasks",
    params(
        ("id" = String, Path, description = "The task: `<case>:<number>`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "Claimed (no events if it already was, by the caller)", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn claim(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let (case, task, office, role) = locate(&state, &principal, &id).await?;
    let actor = principal
        .grants()
        .task(&office, &role, TaskAction::Claim)
        .map_err(elsewhere)?;
    let actor = deputies::task_actor(&state, &principal, &case, task, actor).await?;
    run(&state, &case, &office, Command::Claim { task }, &actor).await
}

/// Gives a claimed task back to its role (a head may take back someone else's claim).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/release",
    tag = "tasks",
    params(
        ("id" = String, Path, description = "The task: `<case>:<number>`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "Released", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn release(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let (case, task, office, role) = locate(&state, &principal, &id).await?;
    let actor = principal
        .grants()
        .task(&office, &role, TaskAction::Release)
        .map_err(elsewhere)?;
    let actor = deputies::task_actor(&state, &principal, &case, task, actor).await?;
    run(&state, &case, &office, Command::Release { task }, &actor).await
}

/// `POST /api/v1/tasks/{id}/complete`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteTask {
    /// One of the step's outcomes; none for a step with a single way on.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The step's form data (checked against its JSON Schema; text without a `maxLength` of
    /// its own takes at most 1,000 characters).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<Value>,
    /// Why, when the outcome needs a written reason (a refusal); at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Finishes a task with an outcome and its form's data. A task not claimed yet is claimed
/// by the caller in the same step. A second completion is refused (409 `task-not-open`).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/complete",
    tag = "tasks",
    request_body = CompleteTask,
    params(
        ("id" = String, Path, description = "The task: `<case>:<number>`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response instead of a 409"),
    ),
    responses((status = 200, description = "Completed: the events, including the tasks it opened", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn complete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<CompleteTask>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let (case, task, office, role) = locate(&state, &principal, &id).await?;
    let actor = principal
        .grants()
        .task(&office, &role, TaskAction::Complete)
        .map_err(elsewhere)?;
    let actor = deputies::task_actor(&state, &principal, &case, task, actor).await?;
    crate::limits::check_reason("/reason", body.reason.as_deref())?;
    let data = body
        .data
        .unwrap_or_else(|| Value::Object(Default::default()));
    if crate::limits::has_long_text(&data) {
        let st = state.service.case_state(&case).await?;
        let schema = st.task(task).and_then(|t| match st.step_of(t) {
            reglament_model::model::Step::Task(ts) => ts.form.as_ref().map(|f| &f.0),
            _ => None,
        });
        crate::limits::check_data(schema, &data)?;
    }
    let command = Command::Complete {
        task,
        outcome: body.outcome,
        data,
        reason: body.reason,
    };
    run(&state, &case, &office, command, &actor).await
}

/// `POST /api/v1/tasks/{id}/reassign`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignTask {
    /// The user to hand the task to (they must hold its role in the office); `null` hands it
    /// back to the whole role.
    pub user: Option<String>,
}

/// Hands a task to a user of the same office and role, or back to the role (heads).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/reassign",
    tag = "tasks",
    request_body = ReassignTask,
    params(
        ("id" = String, Path, description = "The task: `<case>:<number>`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "Reassigned", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn reassign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<ReassignTask>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let (case, task, office, role) = locate(&state, &principal, &id).await?;
    let actor = principal.grants().reassign(&office).map_err(elsewhere)?;
    if let Some(login) = &body.user {
        may_take(&state, login, &office, &role, "/user").await?;
    }
    run(
        &state,
        &case,
        &office,
        Command::Reassign {
            task,
            user: body.user,
        },
        &actor,
    )
    .await
}

/// 422 `user-cannot-take-task` (at `pointer`) unless `login` is an active user holding `role`
/// in `office`.
pub(crate) async fn may_take(
    state: &AppState,
    login: &str,
    office: &str,
    role: &str,
    pointer: &str,
) -> Result<(), Problem> {
    let target = state.accounts.user(login).await?;
    let fits = target.as_ref().is_some_and(|u| {
        !u.disabled
            && u.grants
                .iter()
                .any(|g| g.role == role && (g.office == office || g.office == "*"))
    });
    if fits {
        return Ok(());
    }
    Err(field_error(
        "user-cannot-take-task",
        pointer,
        format!("`{login}` is not an active user holding role `{role}` in office `{office}`"),
    ))
}

/// `POST /api/v1/tasks/{id}/suspend`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendTask {
    /// One of the reasons the task's step allows (the task's `suspensions`, e.g.
    /// `incomplete_documents`); any other is refused with 422 `suspension-not-allowed`,
    /// which lists the allowed ones.
    pub reason: String,
    /// What is awaited, for the case's history; at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Stops a task's time for a reason its step allows (the task's holder, or a head or an
/// administrator of its office). While it is suspended its due instant neither warns nor
/// passes and it cannot be completed (409 `task-suspended`); when the reason stops the
/// case's term, the case's due instant stands still too. A second suspension is refused
/// (409 `already-suspended`).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/suspend",
    tag = "tasks",
    request_body = SuspendTask,
    params(
        ("id" = String, Path, description = "The task: `<case>:<number>`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response instead of a 409"),
    ),
    responses((status = 200, description = "Suspended: the `task_suspended` event", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn suspend(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<SuspendTask>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let (case, task, office, role) = locate(&state, &principal, &id).await?;
    let actor = suspend_actor(&principal.grants(), &office, &role).map_err(elsewhere)?;
    let actor = deputies::task_actor(&state, &principal, &case, task, actor).await?;
    crate::limits::check_reason("/comment", body.comment.as_deref())?;
    let command = Command::Suspend {
        task,
        reason: body.reason,
        comment: body.comment,
    };
    run(&state, &case, &office, command, &actor).await
}

/// `POST /api/v1/tasks/{id}/resume`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeTask {
    /// What ended the suspension, for the case's history; at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Lets a suspended task's time run again (the task's holder, or a head or an administrator
/// of its office): its due instant moves by exactly the working time it was suspended, and
/// so does the case's when the suspension stopped the case's term. Resuming a task that is
/// not suspended is refused (409 `not-suspended`).
#[utoipa::path(
    post,
    path = "/api/v1/tasks/{id}/resume",
    tag = "tasks",
    request_body = ResumeTask,
    params(
        ("id" = String, Path, description = "The task: `<case>:<number>`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response instead of a 409"),
    ),
    responses((status = 200, description = "Resumed: the `task_resumed` event with the due instants it moved", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn resume(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<ResumeTask>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let (case, task, office, role) = locate(&state, &principal, &id).await?;
    let actor = suspend_actor(&principal.grants(), &office, &role).map_err(elsewhere)?;
    let actor = deputies::task_actor(&state, &principal, &case, task, actor).await?;
    crate::limits::check_reason("/comment", body.comment.as_deref())?;
    let command = Command::Resume {
        task,
        comment: body.comment,
    };
    run(&state, &case, &office, command, &actor).await
}

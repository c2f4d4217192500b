//! Claiming, releasing or reassigning many tasks in one request (a head's morning round).
//!
//! Each task goes the way of its own endpoint (`tasks.rs`): found as the caller may see it, the
//! same policy, the same engine command, so each change is one event in its own case's chain
//! and a refusal of one task changes nothing else. A task already as asked (claimed by the
//! caller, released, handed to that user) is `unchanged`, so a repeated request has no second
//! effect; a task the caller may not see is `not-found`, exactly like one that does not exist.

use axum::extract::State;
use axum::http::HeaderMap;
use reglament_model::text::Lang;
use reglament_runtime::{Command, TaskStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tasks::{elsewhere, execute, locate, may_take, no_task};
use super::{ApiResult, field_error};
use crate::auth::{Principal, TaskAction};
use crate::problem::{CommandErrors, Json, Problem};
use crate::state::AppState;
use crate::web::i18n;

/// The most tasks one request may name.
pub const MAX_TASKS: usize = 200;

/// What to do with each task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    /// Take each task (the caller must hold its role in its office).
    Claim,
    /// Give each claimed task back to its role (the holder, or a head of its office).
    Release,
    /// Hand each task to `to`, or back to its whole role when `to` is null (heads and
    /// administrators of its office).
    Reassign,
}

impl BulkAction {
    pub fn parse(text: &str) -> Option<BulkAction> {
        match text {
            "claim" => Some(BulkAction::Claim),
            "release" => Some(BulkAction::Release),
            "reassign" => Some(BulkAction::Reassign),
            _ => None,
        }
    }
}

/// `POST /api/v1/tasks/bulk`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    pub action: BulkAction,
    /// The tasks, `<case>:<number>`, each at most once; 1 to 200.
    #[schema(min_items = 1, max_items = 200)]
    pub tasks: Vec<String>,
    /// For `reassign`: the login to hand the tasks to (an active user holding each task's
    /// role in its office); null or absent hands them back to their roles. Not allowed with
    /// the other actions.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub to: Option<String>,
}

/// What became of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkResult {
    /// Changed: one event in the task's case.
    Done,
    /// It was already so: nothing recorded.
    Unchanged,
    /// Refused: `code`, `status` and `reason` say why; nothing recorded.
    Refused,
}

impl BulkResult {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkResult::Done => "done",
            BulkResult::Unchanged => "unchanged",
            BulkResult::Refused => "refused",
        }
    }
}

/// One task of a bulk request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkItemDto {
    pub task: String,
    pub result: BulkResult,
    /// The status the task's own endpoint would have answered (refused tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The problem's stable code (refused tasks): `not-found`, `claimed-by-other`,
    /// `task-not-open`, `wrong-role`, `user-cannot-take-task`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Why, in the request's language (`Accept-Language`: kk, ru or en; English otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The problem's detail in English, for logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The answer: every task in the order asked, and the counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResultDto {
    pub action: BulkAction,
    pub done: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub items: Vec<BulkItemDto>,
}

/// Claims, releases or reassigns up to 200 tasks in one request, each exactly as its own
/// endpoint would (the same policy and engine command, one event in its own case's chain).
/// The answer is 200 with a result per task even when some are refused: `done`, `unchanged`
/// (it was so already, so repeating a request has no second effect) or `refused` with the
/// problem's code and a reason in the request's language; a task the caller may not see is
/// refused as `not-found`, like one that does not exist. A malformed request (no tasks, more
/// than 200, a task twice, `to` without `reassign`) is 422 and changes nothing. With an
/// `Idempotency-Key` a retry gets the first answer again.
#[utoipa::path(
    post,
    path = "/api/v1/tasks/bulk",
    tag = "tasks",
    request_body = BulkRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
        ("Accept-Language" = Option<String>, Header, description = "The language of the reasons: kk, ru or en (default)"),
    ),
    responses((status = 200, description = "A result per task, also when some were refused", body = BulkResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn bulk(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(body): Json<BulkRequest>,
) -> ApiResult<axum::Json<BulkResultDto>> {
    check(&body)?;
    let lang = accept_language(&headers);
    let answer = perform(
        &state,
        &principal,
        body.action,
        &body.tasks,
        body.to.as_deref(),
        lang,
    )
    .await;
    Ok(axum::Json(answer))
}

/// 422 for a request that cannot be carried out as a whole.
pub fn check(body: &BulkRequest) -> Result<(), Problem> {
    if body.tasks.is_empty() || body.tasks.len() > MAX_TASKS {
        return Err(field_error(
            "bad-bulk-request",
            "/tasks",
            format!("name 1 to {MAX_TASKS} tasks"),
        ));
    }
    for (i, t) in body.tasks.iter().enumerate() {
        if body.tasks[..i].contains(t) {
            return Err(field_error(
                "bad-bulk-request",
                &format!("/tasks/{i}"),
                format!("task `{t}` is named twice"),
            ));
        }
    }
    if body.to.is_some() && body.action != BulkAction::Reassign {
        return Err(field_error(
            "bad-bulk-request",
            "/to",
            "`to` goes with the `reassign` action only",
        ));
    }
    Ok(())
}

/// Carries out `action` on each task in turn; the answer in `lang`.
pub async fn perform(
    state: &AppState,
    principal: &Principal,
    action: BulkAction,
    tasks: &[String],
    to: Option<&str>,
    lang: Lang,
) -> BulkResultDto {
    let mut items = Vec::with_capacity(tasks.len());
    for task in tasks {
        let item = match one(state, principal, action, task, to).await {
            Ok(changed) => BulkItemDto {
                task: task.clone(),
                result: if changed {
                    BulkResult::Done
                } else {
                    BulkResult::Unchanged
                },
                status: None,
                code: None,
                reason: None,
                detail: None,
            },
            Err(p) => BulkItemDto {
                task: task.clone(),
                result: BulkResult::Refused,
                status: Some(p.status),
                code: Some(p.code.to_string()),
                reason: Some(reason(lang, &p)),
                detail: Some(p.detail),
            },
        };
        items.push(item);
    }
    let count = |r: BulkResult| items.iter().filter(|i| i.result == r).count();
    BulkResultDto {
        action,
        done: count(BulkResult::Done),
        unchanged: count(BulkResult::Unchanged),
        refused: count(BulkResult::Refused),
        items,
    }
}

/// One task: true when an event was recorded, false when it was so already.
async fn one(
    state: &AppState,
    principal: &Principal,
    action: BulkAction,
    id: &str,
    to: Option<&str>,
) -> Result<bool, Problem> {
    let (case, task, office, role) = locate(state, principal, id).await?;
    let grants = principal.grants();
    let actor = match action {
        BulkAction::Claim => grants.task(&office, &role, TaskAction::Claim),
        BulkAction::Release => grants.task(&office, &role, TaskAction::Release),
        BulkAction::Reassign => grants.reassign(&office),
    }
    .map_err(elsewhere)?;
    if let (BulkAction::Reassign, Some(login)) = (action, to) {
        may_take(state, login, &office, &role, "/to").await?;
    }
    let st = state.service.case_state(&case).await?;
    let t = st.task(task).ok_or_else(no_task)?;
    // Under a deputy rule, the principal is named as for a single claim or release.
    let actor = principal.deputy_actor(
        actor,
        &t.office,
        t.claimed_by.as_deref().or(t.assigned_to.as_deref()),
    );
    let login = &*principal.login;
    // Already as asked: nothing to record (the engine would refuse a release or repeat a
    // reassignment); a task no longer open is left to the engine's refusal.
    let already = t.status == TaskStatus::Open
        && match action {
            BulkAction::Claim => t.claimed_by.as_deref() == Some(login),
            BulkAction::Release => t.claimed_by.is_none(),
            BulkAction::Reassign => t.claimed_by.is_none() && t.assigned_to.as_deref() == to,
        };
    if already {
        return Ok(false);
    }
    let command = match action {
        BulkAction::Claim => Command::Claim { task },
        BulkAction::Release => Command::Release { task },
        BulkAction::Reassign => Command::Reassign {
            task,
            user: to.map(str::to_string),
        },
    };
    let events = execute(state, &case, &office, command, &actor).await?;
    Ok(!events.is_empty())
}

/// Why a task was refused, in `lang`: the words of the problem's code, else its English detail
/// on an English answer, else a general refusal.
pub fn reason(lang: Lang, p: &Problem) -> String {
    if let Some(text) = i18n::problem_text(lang, p.code) {
        return text.to_string();
    }
    let key = format!("bulk_problem_{}", p.code);
    if i18n::known(&key) {
        return i18n::t(lang, &key).to_string();
    }
    match lang {
        Lang::En => p.detail.clone(),
        _ => i18n::t(lang, "action_refused").to_string(),
    }
}

/// The first of kk, ru and en in `Accept-Language` by preference; English when none is.
pub fn accept_language(headers: &HeaderMap) -> Lang {
    let Some(value) = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::En;
    };
    let mut offered: Vec<(f32, usize, Lang)> = value
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.trim().split(';');
            let tag = bits.next()?.trim();
            let primary = tag.split('-').next()?.to_ascii_lowercase();
            let lang = Lang::parse(&primary)?;
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then_some((q, i, lang))
        })
        .collect();
    offered.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    offered.first().map_or(Lang::En, |o| o.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(value: &str) -> Lang {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            value.parse().expect("header"),
        );
        accept_language(&h)
    }

    #[test]
    fn the_preferred_known_language_answers() {
        assert_eq!(lang("kk-KZ,ru;q=0.8"), Lang::Kk);
        assert_eq!(lang("de, ru;q=0.5, en;q=0.7"), Lang::En);
        assert_eq!(lang("ru-RU"), Lang::Ru);
        assert_eq!(lang("kk;q=0, ru;q=0.1"), Lang::Ru);
        assert_eq!(lang("fr"), Lang::En);
        assert_eq!(accept_language(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn malformed_requests_are_refused_whole() {
        let req = |action, tasks: &[&str], to: Option<&str>| BulkRequest {
            action,
            tasks: tasks.iter().map(|t| t.to_string()).collect(),
            to: to.map(str::to_string),
        };
        assert!(check(&req(BulkAction::Claim, &["A:1", "B:1"], None)).is_ok());
        let twice = check(&req(BulkAction::Claim, &["A:1", "A:1"], None)).expect_err("twice");
        assert_eq!(twice.errors[0].pointer, "/tasks/1");
        assert!(check(&req(BulkAction::Claim, &[], None)).is_err());
        let to = check(&req(BulkAction::Release, &["A:1"], Some("x"))).expect_err("to");
        assert_eq!((to.status, to.errors[0].pointer.as_str()), (422, "/to"));
        let many: Vec<String> = (0..=MAX_TASKS).map(|i| format!("A:{}", i + 1)).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(check(&req(BulkAction::Claim, &many, None)).is_err());
    }
}

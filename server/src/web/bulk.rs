//! Bulk actions on the inbox page: a head (or an administrator) ticks tasks and claims,
//! releases or hands them to a colleague in one form post (a plain form: no script needed),
//! and the answer page says per task what happened. The work is the API's
//! ([`crate::api::bulk`]): the same policy and engine command per task.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use reglament_model::text::Lang;

use super::inbox::Opt;
use super::{Ctx, Page, WebResult, render};
use crate::api::bulk::{self, BulkAction, BulkRequest, BulkResultDto, MAX_TASKS};
use crate::auth::Principal;
use crate::auth::policy::{GLOBAL_ROLES, HEAD};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views;

/// The bulk bar above the inbox.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Who the tasks may be handed to: active staff of the offices the caller heads.
    pub colleagues: Vec<Opt>,
}

/// The bar for a caller who heads an office (or administers one); `None` for everyone else.
pub async fn bar(
    state: &AppState,
    principal: &Principal,
    lang: Lang,
) -> Result<Option<Bar>, Problem> {
    let managed: Vec<&String> = state
        .offices
        .iter()
        .filter(|o| views::manages(principal, o))
        .collect();
    if managed.is_empty() {
        return Ok(None);
    }
    let mut colleagues = Vec::new();
    for u in state.accounts.users().await? {
        let roles: Vec<String> = u
            .grants
            .iter()
            .filter(|g| {
                !GLOBAL_ROLES.contains(&g.role.as_str())
                    && g.role != HEAD
                    && managed.iter().any(|o| **o == g.office)
            })
            .map(|g| super::i18n::role_word(lang, &g.role))
            .collect();
        if u.disabled || roles.is_empty() {
            continue;
        }
        let name = if u.display_name == u.login {
            u.login.clone()
        } else {
            format!("{} ({})", u.display_name, u.login)
        };
        colleagues.push(Opt {
            label: format!("{name} · {}", roles.join(", ")),
            value: u.login,
            selected: false,
        });
    }
    colleagues.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(Some(Bar { colleagues }))
}

/// One task's line on the answer page.
#[derive(Debug, Clone)]
pub struct Line {
    pub task: String,
    pub result: &'static str,
    pub word: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "bulk.html")]
pub struct BulkPage {
    pub page: Page,
    pub action: String,
    pub done: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub lines: Vec<Line>,
}

/// `POST /inbox/bulk`: `action` (the button pressed: claim, release, reassign), `task` once
/// per ticked task, `to` (a login, or empty: back to the role; read for `reassign` only).
pub async fn submit(State(state): State<AppState>, ctx: Ctx, body: axum::body::Bytes) -> WebResult {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let unfit = |key: &str| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t(key));
    let action = form
        .get("action")
        .and_then(BulkAction::parse)
        .ok_or_else(|| unfit("bulk_no_action"))?;
    let mut tasks: Vec<String> = Vec::new();
    for (k, v) in &form.0 {
        // A task ticked twice (two forms of one page) counts once.
        if k == "task" && !v.trim().is_empty() && !tasks.iter().any(|t| t == v.trim()) {
            tasks.push(v.trim().to_string());
        }
    }
    if tasks.is_empty() {
        return Err(unfit("bulk_none_selected"));
    }
    if tasks.len() > MAX_TASKS {
        return Err(unfit("bulk_too_many"));
    }
    let to = match action {
        BulkAction::Reassign => form.text("to").map(str::to_string),
        _ => None,
    };
    let request = BulkRequest { action, tasks, to };
    bulk::check(&request).map_err(|_| unfit("bulk_none_selected"))?;
    let answer = bulk::perform(
        &state,
        principal,
        action,
        &request.tasks,
        request.to.as_deref(),
        ctx.lang,
    )
    .await;
    Ok(render(&page(&ctx, action, answer)))
}

fn page(ctx: &Ctx, action: BulkAction, answer: BulkResultDto) -> BulkPage {
    let lines = answer
        .items
        .into_iter()
        .map(|i| Line {
            result: i.result.as_str(),
            word: ctx.t(&format!("bulk_{}", i.result.as_str())).to_string(),
            reason: i.reason.unwrap_or_default(),
            task: i.task,
        })
        .collect();
    let action = match action {
        BulkAction::Claim => "bulk_claim",
        BulkAction::Release => "bulk_release",
        BulkAction::Reassign => "bulk_reassign",
    };
    BulkPage {
        page: ctx.page(ctx.t("bulk_result")),
        action: ctx.t(action).to_string(),
        done: answer.done,
        unchanged: answer.unchanged,
        refused: answer.refused,
        lines,
    }
}

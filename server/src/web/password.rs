//! `GET/POST /password`: changing one's own password. An account whose password someone
//! else set is sent here first ([`super::Ctx::user`]) and may do nothing else until it is
//! changed. The rules and their effects are the API's (`PUT /api/v1/me/password`): the
//! strength check of [`crate::auth::strength`], and every other session of the account ends.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Ctx, Page, WebResult, local_target, render_status};
use crate::auth::{Via, password, strength};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    page: Page,
    /// The password must be changed before anything else.
    forced: bool,
    next: String,
    login: String,
    errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

fn page(ctx: &Ctx, next: &str, errors: Vec<String>, status: StatusCode) -> WebResult<Response> {
    let p = ctx.user()?;
    Ok(render_status(
        status,
        &PasswordPage {
            page: ctx.page(ctx.t("change_password")),
            forced: p.held_for_password_change(),
            next: next.to_string(),
            login: p.login.to_string(),
            errors,
        },
    ))
}

/// `GET /password`.
pub async fn form(ctx: Ctx, Query(q): Query<NextParam>) -> WebResult<Response> {
    let next = local_target(q.next.as_deref().unwrap_or("/inbox"));
    page(&ctx, &next, Vec::new(), StatusCode::OK)
}

/// `POST /password`: `current`, `new`, `repeat`, `next`.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let next = local_target(form.get("next").unwrap_or("/inbox"));
    let current = form.get("current").unwrap_or_default();
    let new = form.get("new").unwrap_or_default();
    let refuse = |key: &str| {
        page(
            &ctx,
            &next,
            vec![ctx.t(key).to_string()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if new != form.get("repeat").unwrap_or_default() {
        return refuse("passwords_differ");
    }
    if let Err(w) = strength::check(new, &principal.login) {
        return refuse(w.key());
    }
    let user = state
        .accounts
        .user(&principal.login)
        .await
        .map_err(|e| ctx.problem(e.into()))?
        .ok_or_else(|| ctx.problem(Problem::unauthorized("the account no longer exists")))?;
    if current.len() > strength::MAX_BYTES
        || !password::verify(current.to_string(), user.password_hash).await
    {
        return refuse("wrong_current_password");
    }
    let hash = password::hash(new.to_string(), state.config.password_cost)
        .await
        .map_err(|e| ctx.problem(Problem::internal(&e)))?;
    let keep = match &principal.via {
        Via::Session { secret_hash, .. } => Some(secret_hash.to_string()),
        Via::Token => None,
    };
    let done = state
        .accounts
        .set_password(
            &principal.login,
            &hash,
            false,
            keep.as_deref(),
            &[],
            state.now(),
        )
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    state.auth.forget_all();
    tracing::info!(
        login = %principal.login,
        sessions_ended = done.sessions_ended,
        "password changed"
    );
    let sep = if next.contains('?') { '&' } else { '?' };
    Ok(super::redirect(&format!(
        "{next}{sep}notice=password_changed"
    )))
}

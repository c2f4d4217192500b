//! Signing in and out, and who the caller is. API clients may use the returned session token
//! as a bearer token; browsers get it as an HTTP-only cookie (and must then send the CSRF
//! token with every change).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::GrantDto;
use super::{ApiResult, field_error};
use crate::app::AppState;
use crate::auth::login::{self, ClientIp};
use crate::auth::{Principal, Via, password};
use crate::problem::{AuthErrors, Json, LoginErrors, Problem};

/// `POST /api/v1/session`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub login: String,
    pub password: String,
}

/// A new session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionDto {
    pub login: String,
    pub display_name: String,
    pub roles: Vec<GrantDto>,
    /// Use as `Authorization: Bearer <token>` (the same value is set as the session cookie).
    pub token: String,
    /// Send as `X-CSRF-Token` with changes made under the cookie.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    /// The password was set by someone else (or is the first one) and should be changed.
    pub must_change_password: bool,
}

/// Signs in with a password. Failed attempts are limited per login and per address (429).
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in; the session cookie is set", body = SessionDto,
         headers(("Set-Cookie" = String, description = "The session cookie"))),
        LoginErrors,
    ),
    security(())
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(body): Json<SignIn>,
) -> ApiResult {
    if body.login.is_empty() || body.login.len() > 128 || body.password.len() > 1024 {
        return Err(field_error(
            "invalid-body",
            "/login",
            "a login is 1 to 128 characters, a password at most 1,024",
        ));
    }
    let session = login::sign_in(&state, &body.login, &body.password, ip).await?;
    let cookie = login::session_cookie(
        &session.secret,
        state.config.session_ttl,
        state.config.secure_cookies,
    );
    let p = &session.principal;
    let dto = SessionDto {
        login: p.login.to_string(),
        display_name: p.display_name.to_string(),
        roles: p.grants.iter().map(GrantDto::from).collect(),
        token: session.secret.clone(),
        csrf_token: session.csrf.clone(),
        expires_at: session.expires_at,
        must_change_password: p.must_change_password,
    };
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        axum::Json(dto),
    )
        .into_response())
}

/// Ends the caller's session and clears the cookie (a token caller has no session: 204 too).
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    responses((status = 204, description = "Signed out"), AuthErrors),
    security(("bearer" = []))
)]
pub async fn sign_out(State(state): State<AppState>, principal: Principal) -> ApiResult {
    login::sign_out(&state, &principal).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, login::clear_cookie())],
    )
        .into_response())
}

/// The caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeDto {
    pub login: String,
    pub display_name: String,
    pub roles: Vec<GrantDto>,
    /// `token` or `session`.
    pub auth: String,
    /// For a session: the token to send as `X-CSRF-Token`.
    pub csrf_token: Option<String>,
    pub must_change_password: bool,
}

/// Who the caller is: login, roles and offices.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "session",
    responses((status = 200, description = "The caller", body = MeDto), AuthErrors),
    security(("bearer" = []))
)]
pub async fn me(principal: Principal) -> axum::Json<MeDto> {
    axum::Json(MeDto {
        login: principal.login.to_string(),
        display_name: principal.display_name.to_string(),
        roles: principal.grants.iter().map(GrantDto::from).collect(),
        auth: match principal.via {
            Via::Token => "token",
            Via::Session { .. } => "session",
        }
        .to_string(),
        csrf_token: principal.csrf_token().map(str::to_string),
        must_change_password: principal.must_change_password,
    })
}

/// `PUT /api/v1/me/password`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current: String,
    /// At least 10 characters.
    pub new: String,
}

/// Changes the caller's own password.
#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    tag = "session",
    request_body = ChangePassword,
    responses((status = 204, description = "Changed"), LoginErrors),
    security(("bearer" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ChangePassword>,
) -> ApiResult<Response> {
    if body.new.chars().count() < 10 || body.new.len() > 1024 {
        return Err(field_error(
            "weak-password",
            "/new",
            "a password is 10 to 1,024 characters",
        ));
    }
    let user = state
        .accounts
        .user(&principal.login)
        .await?
        .ok_or_else(|| Problem::unauthorized("the account no longer exists"))?;
    if !password::verify(body.current, user.password_hash).await {
        return Err(field_error(
            "wrong-password",
            "/current",
            "the current password is wrong",
        ));
    }
    let hash = password::hash(body.new, state.config.password_cost)
        .await
        .map_err(|e| Problem::internal(&e))?;
    state
        .accounts
        .set_password(&principal.login, &hash, false)
        .await?;
    state.auth.forget_all();
    Ok(StatusCode::NO_CONTENT.into_response())
}

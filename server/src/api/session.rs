//! Signing in and out, and who the caller is. API clients may use the returned session token
//! as a bearer token; browsers get it as an HTTP-only cookie (and must then send the CSRF
//! token with every change).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::GrantDto;
use super::{ApiResult, field_error};
use crate::auth::login::{self, ClientIp};
use crate::auth::{SignedIn, Via, password, strength};
use crate::problem::{AuthErrors, Json, LoginErrors, Problem};
use crate::state::AppState;

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

/// Signs in with a password. Failed attempts slow down further ones (429 with Retry-After):
/// per login and address, per login, and (far higher) per address; a client that signed in
/// to the login before and sends back its `reglament_device` cookie is counted on its own.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    request_body = SignIn,
    params(("reglament_device" = Option<String>, Cookie, description = "The device cookie an earlier sign-in set: marks a known device, which throttling counts on its own")),
    responses(
        (status = 201, description = "Signed in; the session cookie and the device cookie are set", body = SessionDto,
         headers(("Set-Cookie" = String, description = "The session cookie, and the device cookie"))),
        LoginErrors,
    ),
    security(())
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> ApiResult {
    if body.login.is_empty() || body.login.len() > 128 || body.password.len() > 1024 {
        return Err(field_error(
            "invalid-body",
            "/login",
            "a login is 1 to 128 characters, a password at most 1,024",
        ));
    }
    let device = login::device_cookie(&headers);
    let session =
        login::sign_in(&state, &body.login, &body.password, ip, device.as_deref()).await?;
    let cookie = login::session_cookie(
        &session.secret,
        state.config.session_ttl,
        state.config.secure_cookies,
    );
    let device_cookie = login::device_set_cookie(&session.device, state.config.secure_cookies);
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
        AppendHeaders([
            (header::SET_COOKIE, cookie),
            (header::SET_COOKIE, device_cookie),
        ]),
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
pub async fn sign_out(State(state): State<AppState>, SignedIn(principal): SignedIn) -> ApiResult {
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
    /// The password was set by someone else: a session may do nothing but change it
    /// (everything else answers 403 `password-change-required`).
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
pub async fn me(SignedIn(principal): SignedIn) -> axum::Json<MeDto> {
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
    /// At least 10 characters and 4 different ones, at most 1,024 bytes; not containing the
    /// login; not on the list of common passwords.
    pub new: String,
    /// Prefixes of this account's API tokens to revoke as well (as `reglament token list`
    /// shows them, e.g. `rgt_1a2b3c4d`), or `["*"]` for all of them. Tokens are kept by
    /// default: integrations do not use the password.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub revoke_tokens: Vec<String>,
}

/// What changing the password ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordChangedDto {
    /// The account's other sessions, ended (the one that asked stays signed in).
    pub sessions_ended: u64,
    /// The prefixes of the tokens revoked.
    pub tokens_revoked: Vec<String>,
}

/// Why a new password is refused, as a problem on `/new`.
pub fn weak(w: strength::Weakness) -> Problem {
    field_error("weak-password", "/new", w.to_string())
}

/// Changes the caller's own password. Every other session of the account ends; the
/// account's tokens named in `revoke_tokens` are revoked. A session whose password had to
/// be changed may do everything again.
#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    tag = "session",
    request_body = ChangePassword,
    responses(
        (status = 200, description = "Changed", body = PasswordChangedDto),
        LoginErrors,
    ),
    security(("bearer" = []))
)]
pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(principal): SignedIn,
    Json(body): Json<ChangePassword>,
) -> ApiResult<axum::Json<PasswordChangedDto>> {
    strength::check(&body.new, &principal.login).map_err(weak)?;
    let revoke = tokens_to_revoke(&state, &principal.login, &body.revoke_tokens).await?;
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
            &revoke,
            state.now(),
        )
        .await?;
    state.auth.forget_all();
    tracing::info!(
        login = %principal.login,
        sessions_ended = done.sessions_ended,
        tokens_revoked = done.tokens_revoked.len(),
        "password changed"
    );
    Ok(axum::Json(PasswordChangedDto {
        sessions_ended: done.sessions_ended,
        tokens_revoked: done.tokens_revoked,
    }))
}

/// The live token prefixes of `login` that `asked` names (`*`: all); a prefix that is not one
/// of them is refused before anything changes.
pub async fn tokens_to_revoke(
    state: &AppState,
    login: &str,
    asked: &[String],
) -> Result<Vec<String>, Problem> {
    if asked.is_empty() {
        return Ok(Vec::new());
    }
    if asked.len() > 100 {
        return Err(field_error(
            "too-many-tokens",
            "/revoke_tokens",
            "name at most 100 tokens, or `*` for all",
        ));
    }
    let mine: Vec<String> = state
        .accounts
        .tokens(Some(login))
        .await?
        .into_iter()
        .filter(|t| t.revoked_at.is_none())
        .map(|t| t.prefix)
        .collect();
    if asked.iter().any(|p| p == "*") {
        return Ok(mine);
    }
    let mut out = Vec::new();
    for (i, p) in asked.iter().enumerate() {
        if !mine.contains(p) {
            return Err(field_error(
                "unknown-token",
                &format!("/revoke_tokens/{i}"),
                "no live token of this account has this prefix (see `reglament token list`)",
            ));
        }
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    Ok(out)
}

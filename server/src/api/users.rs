//! Accounts, for administrators: list, create, disable. (`reglament user …` does the same
//! from the command line.)

use crate::accounts::{Accounts, GrantRecord, NewUser, UserRecord};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::GrantDto;
use super::{ApiResult, field_error};
use crate::auth::{Grant, Principal, password, secret};
use crate::problem::{AdminErrors, Json, Path, Problem};
use crate::state::AppState;

/// An account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDto {
    pub login: String,
    pub display_name: String,
    pub disabled: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub roles: Vec<GrantDto>,
}

impl From<UserRecord> for UserDto {
    fn from(u: UserRecord) -> Self {
        UserDto {
            roles: u
                .grants
                .iter()
                .map(|g| GrantDto {
                    role: g.role.clone(),
                    office: g.office.clone(),
                })
                .collect(),
            login: u.login,
            display_name: u.display_name,
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            created_by: u.created_by,
        }
    }
}

/// Every account.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    responses((status = 200, description = "The accounts", body = Vec<UserDto>), AdminErrors),
    security(("bearer" = []))
)]
pub async fn list(
    State(accounts): State<Accounts>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<UserDto>>> {
    principal.grants().manage_users()?;
    let users = accounts.users().await?;
    Ok(axum::Json(users.into_iter().map(UserDto::from).collect()))
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserDto {
    /// Letters, digits, `.`, `_`, `-`, `@`; 1 to 64 characters.
    pub login: String,
    /// The name shown in the interface (at most 200 characters; the login when missing).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub display_name: Option<String>,
    /// A first password (at least 10 characters and 4 different ones, not containing the
    /// login, not a common password); a random one is made (and returned once) when missing.
    /// Either way the user must change it at their first sign-in.
    #[serde(default)]
    pub password: Option<String>,
    /// Roles in offices; `office` is `*` for every office.
    pub roles: Vec<GrantDto>,
}

/// A created account, with the password when it was generated.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedUserDto {
    pub user: UserDto,
    /// Shown once. The user must change their password (generated or given) at their first
    /// sign-in.
    pub generated_password: Option<String>,
}

/// Checks the grants of a new account: known offices, global roles held for every office.
pub fn check_grants(state: &AppState, roles: &[GrantDto]) -> Result<Vec<GrantRecord>, String> {
    let mut out = Vec::new();
    for (i, g) in roles.iter().enumerate() {
        let text = format!("{}@{}", g.role, g.office);
        let grant = Grant::parse(&text)
            .ok_or_else(|| format!("/roles/{i}: `{text}` is not role@office"))?;
        if let Some(o) = &grant.office {
            if state.calendars.office(o).is_err() {
                return Err(format!("/roles/{i}: no office `{o}`"));
            }
            if crate::auth::policy::GLOBAL_ROLES.contains(&&*grant.role) {
                return Err(format!(
                    "/roles/{i}: `{}` is held for every office; write office `*`",
                    grant.role
                ));
            }
        }
        out.push(GrantRecord {
            role: grant.role.to_string(),
            office: grant.office_text().to_string(),
        });
    }
    Ok(out)
}

pub fn valid_login(login: &str) -> bool {
    (1..=64).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

/// Creates an account.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = NewUserDto,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses(
        (status = 201, description = "Created", body = CreatedUserDto),
        AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewUserDto>,
) -> ApiResult {
    principal.grants().manage_users()?;
    if !valid_login(&body.login) {
        return Err(field_error(
            "bad-login",
            "/login",
            "a login is 1 to 64 letters, digits, `.`, `_`, `-` or `@`",
        ));
    }
    let grants = check_grants(&state, &body.roles).map_err(|e| {
        let (pointer, detail) = e.split_once(": ").unwrap_or(("/roles", e.as_str()));
        field_error("bad-role", pointer, detail)
    })?;
    if body
        .display_name
        .as_deref()
        .is_some_and(|n| n.chars().count() > 200 || n.chars().any(char::is_control))
    {
        return Err(field_error(
            "bad-display-name",
            "/display_name",
            "a display name is at most 200 characters, with no control characters",
        ));
    }
    let (password_text, generated) = match body.password {
        Some(p) => match crate::auth::strength::check(&p, &body.login) {
            Ok(()) => (p, false),
            Err(w) => return Err(field_error("weak-password", "/password", w.to_string())),
        },
        None => (
            secret::new_password().map_err(|e| Problem::internal(&e))?,
            true,
        ),
    };
    let hash = password::hash(password_text.clone(), state.config.password_cost)
        .await
        .map_err(|e| Problem::internal(&e))?;
    let new = NewUser {
        login: body.login.clone(),
        display_name: body.display_name.unwrap_or_else(|| body.login.clone()),
        password_hash: Some(hash),
        // Someone else chose it: the user changes it before anything else.
        must_change_password: true,
        grants,
        created_by: principal.login.to_string(),
    };
    state.accounts.create_user(&new, state.now()).await?;
    let user = state
        .accounts
        .user(&body.login)
        .await?
        .ok_or_else(|| Problem::internal(&"a created user is not in the store"))?;
    tracing::info!(login = %body.login, by = %principal.login, "user created");
    let dto = CreatedUserDto {
        user: user.into(),
        generated_password: generated.then_some(password_text),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/users/{}", body.login))],
        axum::Json(dto),
    )
        .into_response())
}

/// Disables an account: its tokens and sessions stop working (within seconds on every node).
#[utoipa::path(
    post,
    path = "/api/v1/users/{login}/disable",
    tag = "users",
    params(
        ("login" = String, Path, description = "The account"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "Disabled", body = UserDto), AdminErrors),
    security(("bearer" = []))
)]
pub async fn disable(
    State(state): State<AppState>,
    principal: Principal,
    Path(login): Path<String>,
) -> ApiResult<axum::Json<UserDto>> {
    principal.grants().manage_users()?;
    if *login == *principal.login {
        return Err(Problem::conflict(
            "cannot-disable-self",
            "an administrator cannot disable their own account",
        ));
    }
    state.accounts.set_user_disabled(&login, true).await?;
    state.auth.forget_all();
    let user = state
        .accounts
        .user(&login)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no user `{login}`")))?;
    tracing::info!(%login, by = %principal.login, "user disabled");
    Ok(axum::Json(user.into()))
}

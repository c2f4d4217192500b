//! Migrations of running cases with a second person's approval: an analyst proposes a plan
//! (its dry run is made and kept), an administrator or another analyst approves it (the cases
//! move) or rejects it. The rules and the table are [`crate::migration_requests`].

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiResult;
use crate::auth::Principal;
use crate::migration_requests::{self as requests, MigrationRequestDto};
use crate::problem::{CommandErrors, CreateErrors, Json, ListErrors, Path, ReadErrors};
use crate::state::AppState;

/// How many requests the list gives (the newest).
const LISTED: i64 = 200;

/// `POST /api/v1/migrations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeMigration {
    /// The migration plan's YAML text (see regulations/README.md, "Migration plans").
    #[schema(max_length = 200000)]
    pub plan: String,
    /// Why the cases should move (kept with the request).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// `POST /api/v1/migrations/{id}/approve` and `/reject`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideMigration {
    /// Why it is approved or rejected (kept with the request).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Proposes a migration of running cases (analysts). The plan is loaded and checked against
/// the two versions it names, and its dry run made at once and kept with the request (nothing
/// changes in any case): the request is `proposed` until an administrator or another analyst
/// approves or rejects it. A plan that does not load or does not fit its versions is 422 with
/// each error's line and column in `errors`.
#[utoipa::path(
    post,
    path = "/api/v1/migrations",
    tag = "migrations",
    request_body = ProposeMigration,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses(
        (status = 201, description = "Proposed, with its dry run", body = MigrationRequestDto),
        CreateErrors,
    ),
    security(("bearer" = []))
)]
pub async fn propose(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ProposeMigration>,
) -> ApiResult {
    let row = requests::propose(&state, &principal, &body.plan, &body.reason).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/migrations/{}", row.id))],
        axum::Json(row.dto(true)),
    )
        .into_response())
}

/// The migration requests, newest first (the latest 200), without their plans and dry runs.
/// Analysts, and administrators and auditors of every office.
#[utoipa::path(
    get,
    path = "/api/v1/migrations",
    tag = "migrations",
    responses(
        (status = 200, description = "The requests", body = Vec<MigrationRequestDto>),
        ListErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<MigrationRequestDto>>> {
    requests::may_view(&principal)?;
    let rows = requests::list(&state.store, LISTED).await?;
    Ok(axum::Json(rows.iter().map(|r| r.dto(false)).collect()))
}

/// A migration request with its plan, its dry run (per case: each open task's step and due
/// instant before and after, the case's statutory due before and after; the warnings) and,
/// once run, what the run did.
#[utoipa::path(
    get,
    path = "/api/v1/migrations/{id}",
    tag = "migrations",
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = MigrationRequestDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<MigrationRequestDto>> {
    let row = requests::visible(&state, &principal, &id).await?;
    Ok(axum::Json(row.dto(true)))
}

/// Approves a proposed migration and runs it: each selected open case moves onto the new
/// version with one `case_migrated` event in its chain, recorded with the approver as the
/// actor. An administrator or an analyst other than the proposer (the proposer is refused with
/// 403 `own-migration`). A request decided already is 409 `migration-decided`, and nothing
/// runs twice. Answers when the run has ended: `done` with the counts, or `failed`.
#[utoipa::path(
    post,
    path = "/api/v1/migrations/{id}/approve",
    tag = "migrations",
    params(
        ("id" = String, Path, description = "The request's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    request_body = DecideMigration,
    responses(
        (status = 200, description = "Approved and run", body = MigrationRequestDto),
        CommandErrors,
    ),
    security(("bearer" = []))
)]
pub async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<DecideMigration>,
) -> ApiResult<axum::Json<MigrationRequestDto>> {
    let row = requests::approve(&state, &principal, &id, &body.reason).await?;
    Ok(axum::Json(row.dto(true)))
}

/// Rejects a proposed migration: nothing moves. An administrator or an analyst (the proposer
/// too: a withdrawal). A request decided already is 409 `migration-decided`.
#[utoipa::path(
    post,
    path = "/api/v1/migrations/{id}/reject",
    tag = "migrations",
    params(
        ("id" = String, Path, description = "The request's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    request_body = DecideMigration,
    responses(
        (status = 200, description = "Rejected", body = MigrationRequestDto),
        CommandErrors,
    ),
    security(("bearer" = []))
)]
pub async fn reject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<DecideMigration>,
) -> ApiResult<axum::Json<MigrationRequestDto>> {
    let row = requests::reject(&state, &principal, &id, &body.reason).await?;
    Ok(axum::Json(row.dto(true)))
}

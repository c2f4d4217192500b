//! Changes to a case by hand, for administrators: the what-if, the change (applied at once, or
//! waiting for a second administrator), the requests and their approval or rejection. The
//! rules and the table are [`crate::interventions`].

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use crate::auth::Principal;
use crate::interventions::{self as iv, Preview, Proposal, RequestDto, Submitted};
use crate::problem::{CommandErrors, CreateErrors, Json, ListErrors, Path, ReadErrors};
use crate::state::AppState;

/// How many requests the list gives (the newest).
const LISTED: i64 = 200;

/// A change applied at once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppliedDto {
    /// The kinds of the events it recorded, `intervened` first.
    pub events: Vec<String>,
}

/// `POST /api/v1/interventions/{id}/reject`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectIntervention {
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// The what-if of a change by hand: the case's open tasks and due instant after it, as the
/// engine computes them on a copy (nothing is written), and whether a second administrator
/// must approve it.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/interventions/preview",
    tag = "interventions",
    request_body = Proposal,
    params(("id" = String, Path, description = "The case")),
    responses((status = 200, description = "The what-if", body = Preview), CommandErrors),
    security(("bearer" = []))
)]
pub async fn preview(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<Proposal>,
) -> ApiResult<axum::Json<Preview>> {
    let (preview, _) = iv::preview(&state, &principal, &id, &body).await?;
    Ok(axum::Json(preview))
}

/// Changes a case by hand (administrators), with a reason and the legal basis. A return to a
/// step the case was at is applied at once (200, the events). A skip (a move to a step the
/// case has not been at, a cancelled task) or a changed due instant waits for a second
/// administrator (202, the request with its what-if).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/interventions",
    tag = "interventions",
    request_body = Proposal,
    params(
        ("id" = String, Path, description = "The case"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses(
        (status = 200, description = "Applied", body = AppliedDto),
        (status = 202, description = "Waiting for a second administrator", body = RequestDto),
        CommandErrors,
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<Proposal>,
) -> ApiResult {
    Ok(match iv::submit(&state, &principal, &id, &body).await? {
        Submitted::Applied(events) => axum::Json(AppliedDto { events }).into_response(),
        Submitted::Proposed(row) => (
            StatusCode::ACCEPTED,
            [(
                header::LOCATION,
                format!("/api/v1/interventions/{}", row.id),
            )],
            axum::Json(row.dto()?),
        )
            .into_response(),
    })
}

/// The changes by hand waiting for, or past, a second administrator, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/interventions",
    tag = "interventions",
    responses((status = 200, description = "The requests", body = Vec<RequestDto>), ListErrors),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<RequestDto>>> {
    iv::may_intervene(&principal)?;
    let rows = iv::list(&state.store, LISTED).await?;
    Ok(axum::Json(
        rows.iter().map(iv::Row::dto).collect::<Result<_, _>>()?,
    ))
}

/// One request with its what-if.
#[utoipa::path(
    get,
    path = "/api/v1/interventions/{id}",
    tag = "interventions",
    params(("id" = String, Path, description = "The request")),
    responses((status = 200, description = "The request", body = RequestDto), ReadErrors),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestDto>> {
    Ok(axum::Json(
        iv::visible(&state, &principal, &id).await?.dto()?,
    ))
}

/// A second administrator approves: the change is applied once, as an `intervened` event
/// with the proposer as its actor and the approver in `approved_by`. The proposer is refused
/// (403 `own-intervention`); a request decided already is 409 `intervention-decided`.
#[utoipa::path(
    post,
    path = "/api/v1/interventions/{id}/approve",
    tag = "interventions",
    params(
        ("id" = String, Path, description = "The request"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "Applied", body = RequestDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RequestDto>> {
    Ok(axum::Json(
        iv::approve(&state, &principal, &id).await?.dto()?,
    ))
}

/// Rejects a waiting change, with a reason: nothing changes in the case.
#[utoipa::path(
    post,
    path = "/api/v1/interventions/{id}/reject",
    tag = "interventions",
    request_body = RejectIntervention,
    params(("id" = String, Path, description = "The request")),
    responses((status = 200, description = "Rejected", body = RequestDto), CreateErrors),
    security(("bearer" = []))
)]
pub async fn reject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<RejectIntervention>,
) -> ApiResult<axum::Json<RequestDto>> {
    Ok(axum::Json(
        iv::reject(&state, &principal, &id, &body.reason)
            .await?
            .dto()?,
    ))
}

//! Deputy rules («исполняющий обязанности»): who acts for whom, in which roles and office, from
//! when to when, by which order. The rules and the table are [`crate::deputies`].

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiResult;
use crate::auth::Principal;
use crate::deputies::{self, NewRule, Rule, RuleStatus};
use crate::problem::{CommandErrors, CreateErrors, Json, ListErrors, Path, Problem, ReadErrors};
use crate::state::AppState;
use reglament_store::rows::instant;

/// A deputy rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeputyRuleDto {
    pub id: String,
    /// The user acted for.
    pub principal: String,
    /// The user who acts.
    pub deputy: String,
    pub office: String,
    pub roles: Vec<String>,
    /// First day, in the office's time.
    pub valid_from: String,
    /// Last day, included.
    pub valid_to: String,
    /// When it takes effect (the first day's midnight at the office).
    pub starts_at: DateTime<Utc>,
    /// When it stops (the midnight after the last day, or when it was ended).
    pub ends_at: DateTime<Utc>,
    pub order_number: String,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub status: RuleStatus,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

impl DeputyRuleDto {
    pub fn of(r: &Rule, now: DateTime<Utc>) -> DeputyRuleDto {
        DeputyRuleDto {
            id: r.id.clone(),
            principal: r.principal.clone(),
            deputy: r.deputy.clone(),
            office: r.office.clone(),
            roles: r.roles().map(str::to_string).collect(),
            valid_from: r.valid_from.clone(),
            valid_to: r.valid_to.clone(),
            starts_at: instant(r.starts_at),
            ends_at: instant(r.ends_at),
            order_number: r.order_number.clone(),
            note: r.note.clone(),
            created_by: r.created_by.clone(),
            created_at: instant(r.created_at),
            status: r.status(now),
            ended_at: r.ended_at.map(instant),
            ended_by: r.ended_by.clone(),
            end_reason: r.end_reason.clone(),
        }
    }
}

/// `POST /api/v1/deputies/{id}/end`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndRule {
    /// Why it ends early (kept with the rule).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Records that a user acts for another (a head of the office, or an administrator). The
/// principal must hold each role at the office; the dates are days in the office's time, the
/// last included, at most 366 days; the order's number is required. Refused with 409
/// `deputy-signs-own-work` when the deputy would decide on their own work (a step of a role
/// the rule gives them directly follows a step of a role they hold there, or the other way
/// round), and with 409 `deputy-rule-overlaps` when another rule covers the same principal,
/// role and days.
#[utoipa::path(
    post,
    path = "/api/v1/deputies",
    tag = "deputies",
    request_body = NewRule,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses(
        (status = 201, description = "Recorded", body = DeputyRuleDto),
        CreateErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewRule>,
) -> ApiResult {
    let rule = deputies::create(&state, &principal, body).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/deputies/{}", rule.id))],
        axum::Json(DeputyRuleDto::of(&rule, state.now())),
    )
        .into_response())
}

/// The deputy rules the caller may see, newest first: all for administrators and auditors,
/// their offices' for heads, their own (as principal or deputy) for anyone.
#[utoipa::path(
    get,
    path = "/api/v1/deputies",
    tag = "deputies",
    responses(
        (status = 200, description = "The rules", body = Vec<DeputyRuleDto>),
        ListErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<DeputyRuleDto>>> {
    let now = state.now();
    let rules = deputies::visible(&state, &principal).await?;
    Ok(axum::Json(
        rules.iter().map(|r| DeputyRuleDto::of(r, now)).collect(),
    ))
}

/// One deputy rule (404 for a rule the caller may not see).
#[utoipa::path(
    get,
    path = "/api/v1/deputies/{id}",
    tag = "deputies",
    params(("id" = String, Path, description = "The rule's id")),
    responses(
        (status = 200, description = "The rule", body = DeputyRuleDto),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<DeputyRuleDto>> {
    let rule = deputies::get(&state.store, &id)
        .await?
        .filter(|r| deputies::may_see(&principal, r))
        .ok_or_else(|| Problem::not_found("no such deputy rule"))?;
    Ok(axum::Json(DeputyRuleDto::of(&rule, state.now())))
}

/// Ends a rule now, with a reason (the office's head, or an administrator). What the deputy
/// had not claimed is the principal's again; what they claimed stays with them. Ending a rule
/// that has ended changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/deputies/{id}/end",
    tag = "deputies",
    request_body = EndRule,
    params(
        ("id" = String, Path, description = "The rule's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses(
        (status = 200, description = "Ended", body = DeputyRuleDto),
        CommandErrors,
    ),
    security(("bearer" = []))
)]
pub async fn end(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<EndRule>,
) -> ApiResult<axum::Json<DeputyRuleDto>> {
    let rule = deputies::end(&state, &principal, &id, &body.reason).await?;
    Ok(axum::Json(DeputyRuleDto::of(&rule, state.now())))
}

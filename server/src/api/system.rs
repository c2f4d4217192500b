//! Operations: health (no sign-in) and metrics. `/metrics` tells how busy the server is and
//! how many sign-ins fail, which is no one else's business: on the main address it answers
//! only the configured `--metrics-token` (and is absent without one); `--metrics-listen`
//! serves it without a token on an address of its own, for a monitoring network.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::secret;
use crate::calendar_horizon::{self, Horizon};
use crate::problem::Problem;
use crate::state::AppState;

/// Health.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok` or `unavailable` (the database). Warnings do not change it.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    pub version: String,
    /// How far each working calendar reaches.
    pub calendars: Vec<Horizon>,
    /// What an operator should act on while the server still works: fewer than 12 months
    /// of decreed calendar left, deadlines being counted on provisional years, cases waiting
    /// after an incident.
    pub warnings: Vec<String>,
}

/// Whether the server can reach its database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses(
        (status = 200, description = "Healthy (`warnings` lists what an operator should act on)", body = HealthDto),
        (status = 503, description = "The database is unreachable", body = HealthDto),
    ),
    security(())
)]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let ok = state.store.schema_version().await.is_ok();
    let calendars = calendar_horizon::horizons(&state.calendars, state.now());
    let mut warnings: Vec<String> = calendars.iter().filter_map(Horizon::warning).collect();
    // Whether, not how many: the count is for the metrics token's bearer.
    if state.store.incident_case_count().await.is_ok_and(|n| n > 0) {
        warnings.push(
            "cases wait for an administrator after an incident (GET /api/v1/incidents)".to_string(),
        );
    }
    let dto = HealthDto {
        status: if ok { "ok" } else { "unavailable" }.to_string(),
        database: state.store.backend().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        calendars,
        warnings,
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(dto))
}

/// Prometheus metrics (text exposition format 0.0.4), for the bearer of the metrics token
/// (`--metrics-token`). Without a configured token they are not served on this address (404);
/// see `--metrics-listen`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "The metrics token is missing or wrong", content_type = "application/problem+json", body = crate::problem::ProblemDoc),
        (status = 404, description = "Metrics are not served on this address", content_type = "application/problem+json", body = crate::problem::ProblemDoc),
    ),
    security(("metrics" = []))
)]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return Problem::not_found(
            "metrics are not served on this address (see --metrics-token and --metrics-listen)",
        )
        .into_response();
    };
    let supplied = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    // Compared as hashes: the same length whatever was sent.
    if !secret::constant_time_eq(&secret::sha256_hex(supplied), &secret::sha256_hex(token)) {
        return Problem::unauthorized("send the metrics token as `Authorization: Bearer <token>`")
            .into_response();
    }
    exposition(State(state)).await
}

/// The metrics text itself: the token-checked route above, and `/metrics` on the metrics
/// address (`--metrics-listen`), which needs no token.
pub async fn exposition(State(state): State<AppState>) -> Response {
    let tasks = match state.store.task_counts().await {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count tasks");
            None
        }
    };
    let mut text = state.metrics.render(tasks);
    match state.store.incident_case_count().await {
        Ok(n) => text.push_str(&format!(
            "# HELP reglament_incident_cases Open cases with a path waiting for an administrator after an incident.\n\
             # TYPE reglament_incident_cases gauge\n\
             reglament_incident_cases {n}\n"
        )),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count incidents"),
    }
    match state.store.holds().await {
        Ok(h) => text.push_str(&format!(
            "# HELP reglament_held_cases Cases held because their stored history does not verify.\n\
             # TYPE reglament_held_cases gauge\n\
             reglament_held_cases {}\n",
            h.len()
        )),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot count held cases"),
    }
    text.push_str(&calendar_horizon::metrics(&calendar_horizon::horizons(
        &state.calendars,
        state.now(),
    )));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

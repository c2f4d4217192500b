//! Operations: health and metrics (no sign-in; expose them to the network you monitor from).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::calendar_horizon::{self, Horizon};

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
    /// of decreed calendar left, or deadlines being counted on provisional years.
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
    let warnings = calendars.iter().filter_map(Horizon::warning).collect();
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

/// Prometheus metrics (text exposition format 0.0.4).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String)),
    security(())
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let tasks = match state.store.task_counts().await {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count tasks");
            None
        }
    };
    let mut text = state.metrics.render(tasks);
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
}

//! An office's shared inbox views: listed for everyone working in the office, named, changed
//! and removed by its head (or an administrator). The rules and the table are
//! [`crate::views`]; a view is chosen with `GET /api/v1/inbox?view=<id>`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::ApiResult;
use crate::auth::Principal;
use crate::problem::{CommandErrors, CreateErrors, Json, Path, ReadErrors};
use crate::state::AppState;
use crate::views::{self, ViewDto, ViewInput};

/// The office's views, by name. Everyone working in the office (and auditors and
/// administrators of every office); an office the caller does not work in is 404.
#[utoipa::path(
    get,
    path = "/api/v1/offices/{office}/views",
    tag = "tasks",
    params(("office" = String, Path, description = "The office's id")),
    responses((status = 200, description = "The office's views", body = Vec<ViewDto>), ReadErrors),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(office): Path<String>,
) -> ApiResult<axum::Json<Vec<ViewDto>>> {
    views::may_see(&state, &principal, &office)?;
    let rows = views::list(&state.store, &office).await?;
    Ok(axum::Json(rows.iter().map(views::Row::dto).collect()))
}

/// Names a new view of the office: the inbox's filters and its order (the office's head or an
/// administrator; others who work in the office get 403). A value the inbox does not know is
/// 422 `invalid-view` naming the field in `errors`; a name the office uses already is 409.
#[utoipa::path(
    post,
    path = "/api/v1/offices/{office}/views",
    tag = "tasks",
    request_body = ViewInput,
    params(
        ("office" = String, Path, description = "The office's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 201, description = "Created", body = ViewDto), CreateErrors),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(office): Path<String>,
    Json(body): Json<ViewInput>,
) -> ApiResult {
    let row = views::create(&state, &principal, &office, &body).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/offices/{office}/views/{}", row.id),
        )],
        axum::Json(row.dto()),
    )
        .into_response())
}

/// Renames a view or changes its filters and order (the office's head or an administrator);
/// the change and who made it are kept on the view.
#[utoipa::path(
    put,
    path = "/api/v1/offices/{office}/views/{id}",
    tag = "tasks",
    request_body = ViewInput,
    params(
        ("office" = String, Path, description = "The office's id"),
        ("id" = String, Path, description = "The view's id"),
    ),
    responses((status = 200, description = "Changed", body = ViewDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path((office, id)): Path<(String, String)>,
    Json(body): Json<ViewInput>,
) -> ApiResult<axum::Json<ViewDto>> {
    let row = views::update(&state, &principal, &office, &id, &body).await?;
    Ok(axum::Json(row.dto()))
}

/// Removes a view (the office's head or an administrator).
#[utoipa::path(
    delete,
    path = "/api/v1/offices/{office}/views/{id}",
    tag = "tasks",
    params(
        ("office" = String, Path, description = "The office's id"),
        ("id" = String, Path, description = "The view's id"),
    ),
    responses((status = 204, description = "Removed"), CommandErrors),
    security(("bearer" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path((office, id)): Path<(String, String)>,
) -> ApiResult {
    views::delete(&state, &principal, &office, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! Incidents: paths of cases the engine could not take on (a condition that failed as it was
//! evaluated, a deadline beyond the calendar). The command that reached the step still took
//! effect; the path waits there until an administrator retries it, with corrected data when
//! the data was at fault, or after the calendar was extended.

use std::sync::Arc;

use axum::extract::State;
use reglament_runtime::{CaseId, CaseState, Command};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::ApiResult;
use super::cases::visible_office;
use super::dto::{CommandResultDto, IncidentDto};
use crate::access;
use crate::auth::Principal;
use crate::auth::policy::ADMINISTRATOR;
use crate::problem::{CommandErrors, Json, ListErrors, Path, Problem, Query};
use crate::state::AppState;

/// Paging of `GET /api/v1/incidents`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentParams {
    /// Cases per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// A case held because its history does not verify: no command is taken on it until the
/// database is restored (from a backup, or the copy the checkpoints were checked against).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldCaseDto {
    pub case: String,
    pub office: String,
    pub detected_at: chrono::DateTime<chrono::Utc>,
    /// The first event that does not verify.
    pub seq: i64,
    /// `changed`, `deleted`, `inserted` or `reordered`.
    pub kind: String,
    pub detail: String,
}

/// A page of open incidents.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentsDto {
    /// The open incidents of the page's cases, by case id then number.
    pub items: Vec<IncidentDto>,
    /// Cases whose history does not verify (on the first page only).
    pub held: Vec<HeldCaseDto>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;
/// Cases read from the store per round while filtering by office.
const BATCH: u32 = 200;

/// The open incidents in the offices the caller administers, and the cases held there because
/// their history does not verify.
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "cases",
    params(IncidentParams),
    responses((status = 200, description = "A page of open incidents", body = IncidentsDto), ListErrors),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<IncidentParams>,
) -> ApiResult<axum::Json<IncidentsDto>> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::bad_request(
            "bad-query",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let grants = principal.grants();
    grants.list_incidents()?;
    let page = open_incidents(&state, &principal, params.after.as_deref(), limit).await?;
    Ok(axum::Json(IncidentsDto {
        items: page
            .cases
            .iter()
            .flat_map(|st| {
                st.open_incidents()
                    .map(|i| IncidentDto::new(st.id.as_str(), i))
            })
            .collect(),
        held: page.held,
        next: page.next,
    }))
}

/// A page of the cases with open incidents in the offices a caller administers.
pub struct IncidentPage {
    /// The cases, by id, each with at least one open incident.
    pub cases: Vec<Arc<CaseState>>,
    /// Cases held because their history does not verify (on the first page only).
    pub held: Vec<HeldCaseDto>,
    /// The cursor of the next page.
    pub next: Option<String>,
}

/// A page of the cases with open incidents in the offices `principal` administers: up to
/// `limit` cases after the case id `after`. Shared with the web page.
pub async fn open_incidents(
    state: &AppState,
    principal: &Principal,
    after: Option<&str>,
    limit: u32,
) -> Result<IncidentPage, Problem> {
    let grants = principal.grants();
    let mut held = Vec::new();
    if after.is_none() {
        for h in state.store.holds().await? {
            let office = state
                .store
                .case(&CaseId::new(&h.tamper.case))
                .await?
                .map(|c| c.office)
                .unwrap_or_default();
            if grants.holds(ADMINISTRATOR, &office) {
                held.push(HeldCaseDto {
                    case: h.tamper.case,
                    office,
                    detected_at: h.detected_at,
                    seq: h.tamper.seq,
                    kind: h.tamper.kind.to_string(),
                    detail: h.tamper.detail,
                });
            }
        }
    }
    let mut cases = Vec::new();
    let mut cursor = after.map(str::to_string);
    loop {
        let rows = state.store.incident_cases(cursor.as_deref(), BATCH).await?;
        let exhausted = rows.len() < BATCH as usize;
        for row in rows {
            cursor = Some(row.case_id.clone());
            if !grants.holds(ADMINISTRATOR, &row.office) {
                continue;
            }
            let Ok(st) = access::visible_case(state, principal, &row.case_id).await else {
                continue;
            };
            cases.push(st);
            if cases.len() == limit as usize {
                return Ok(IncidentPage {
                    cases,
                    held,
                    next: cursor,
                });
            }
        }
        if exhausted {
            return Ok(IncidentPage {
                cases,
                held,
                next: None,
            });
        }
    }
}

/// `POST /api/v1/cases/{id}/incidents/{incident}/retry`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryIncident {
    /// Why the path may go on now, and on what basis (the applicant's corrected papers, the
    /// decree that extended the calendar); at most 2,000 characters.
    #[schema(max_length = 2000)]
    pub reason: String,
    /// Fields of the application data to correct, merged over the case's data and checked
    /// against the regulation's application form.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

/// Takes the path of an incident on from its step (administrators of the case's office).
/// If it fails again, nothing is recorded and the answer says why.
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/incidents/{incident}/retry",
    tag = "cases",
    request_body = RetryIncident,
    params(
        ("id" = String, Path, description = "The case's id"),
        ("incident" = u32, Path, description = "The incident's number within the case"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "The events it caused", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, incident)): Path<(String, u32)>,
    Json(body): Json<RetryIncident>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let case = CaseId::new(&id);
    let office = visible_office(&state, &principal, &case).await?;
    let actor = principal.grants().retry_incident(&office)?;
    crate::limits::check_reason("/reason", Some(&body.reason))?;
    if body.reason.trim().is_empty() {
        return Err(super::field_error(
            "reason-required",
            "/reason",
            "say why the path may go on now",
        ));
    }
    if let Some(data) = &body.data {
        let st = state.service.case_state(&case).await?;
        crate::limits::check_data(
            st.process
                .regulation
                .application_form
                .as_ref()
                .map(|f| &f.0),
            data,
        )?;
    }
    let events = state
        .service
        .execute(
            &case,
            &Command::RetryIncident {
                incident,
                reason: body.reason,
                data: body.data,
            },
            &actor,
            state.now(),
        )
        .await?;
    Ok(axum::Json(CommandResultDto::new(&id, &events)))
}

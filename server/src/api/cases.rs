//! Cases: start one, read it, read its log, record a system step's result, cancel it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use reglament_model::compile::Process;
use reglament_model::model::RoleKind;
use reglament_runtime::{CaseId, Command, CommandError, NewCase};
use reglament_store::ServiceError;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::{
    CaseDto, ChainDto, CommandResultDto, EventDto, EventsDto, EventsQuery, IncidentDto,
};
use super::{ApiResult, field_error, valid_case_id};
use crate::access::{self, Unseen};
use crate::auth::Principal;
use crate::auth::secret;
use crate::problem::{CommandErrors, CreateErrors, Json, Path, Problem, Query, ReadErrors};
use crate::state::AppState;

/// `POST /api/v1/cases`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartCase {
    /// The regulation's id, e.g. `atyrau-child-benefit`.
    pub regulation: String,
    /// A deployed version. By default the one in force on the day of the registration at
    /// the office (a version deployed with a later `in_force_from` is scheduled, not used);
    /// a version asked for must be that one, or the answer is 422 `regulation-not-in-force`.
    #[serde(default)]
    pub version: Option<u32>,
    /// The channel the application came through, e.g. `provider`, `centre`, `portal`.
    pub channel: String,
    /// The office whose case it is (its deadlines run on that office's calendar).
    pub office: String,
    /// For an office that forwards applications to several provider offices (a regional
    /// service centre receiving applicants of every district): the applicant's district's
    /// provider office. Refused with 422 `route-unresolved` when missing there, or when it is
    /// not one the office forwards to.
    #[serde(default)]
    pub forward_to: Option<String>,
    /// The application form's data (text without a `maxLength` of its own takes at most
    /// 1,000 characters).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<Value>,
    /// The case's id (a registration number); one is made up when missing. Only accounts
    /// that see every office (integrations such as the e-gov portal) may choose it; others
    /// get 403 `id-not-allowed`, whatever the id.
    #[serde(default)]
    pub id: Option<String>,
}

/// The roles that may register an application on a channel: the role of its first step, or
/// any person of the regulation when the first step is automatic.
fn start_roles<'p>(process: &'p Process, channel: &str) -> Vec<&'p str> {
    let first = process
        .channel(channel)
        .and_then(|c| process.step_index(&c.start))
        .and_then(|i| process.step_role(i));
    match first {
        Some(role) => vec![role],
        None => process
            .regulation
            .roles
            .iter()
            .filter(|r| r.kind == RoleKind::Person)
            .map(|r| r.id.as_str())
            .collect(),
    }
}

/// A registration number: prefix, date, 8 random characters (40 bits).
fn new_case_id(state: &AppState, prefix: &str) -> Result<String, Problem> {
    let date = state.now().format("%Y%m%d");
    let random = secret::random_base32(8).map_err(|e| Problem::internal(&e))?;
    Ok(format!("{prefix}-{date}-{random}"))
}

fn prefix_of(region: &str) -> String {
    let p: String = region
        .split('-')
        .filter_map(|w| w.chars().next())
        .collect::<String>()
        .to_uppercase();
    match p.len() {
        0 => "R".to_string(),
        1 => region.chars().take(3).collect::<String>().to_uppercase(),
        _ => p,
    }
}

/// Whether the caller sees the cases of every office (then a taken id tells them nothing).
fn sees_every_office(state: &AppState, principal: &Principal) -> bool {
    let g = principal.grants();
    state.offices.iter().all(|o| g.sees_office(o))
}

/// Reads a case for the response, with the data it was registered with.
pub async fn case_dto(state: &AppState, id: &CaseId) -> Result<Option<CaseDto>, Problem> {
    let Some(view) = state.store.case(id).await? else {
        return Ok(None);
    };
    let now = state.now();
    let process = state.store.process(&view.digest).await.ok();
    let (data, incidents, term_stopped_since) = match state.service.case_state(id).await {
        Ok(s) => (
            s.data.clone(),
            s.incidents
                .iter()
                .map(|i| IncidentDto::new(id.as_str(), i))
                .collect(),
            s.term_stopped_since,
        ),
        Err(ServiceError::Command(CommandError::NoSuchCase(_))) => (Value::Null, Vec::new(), None),
        Err(e) => return Err(e.into()),
    };
    let clock = state.calendars.clock(Some(&view.office)).ok();
    let pinned = state
        .service
        .case_clock(&view.office, &view.calendar_version)
        .await
        .ok();
    let due = view.due;
    let mut dto = CaseDto::new(
        view,
        data,
        process.as_deref(),
        clock.as_ref(),
        pinned.as_ref(),
        now,
    );
    // While a suspension stops the case's term, its time left stands still.
    if let Some(since) = term_stopped_since
        && dto.working_minutes_left.is_some()
    {
        dto.working_minutes_left =
            crate::api::dto::working_minutes_left(clock.as_ref(), since.min(now), due);
    }
    dto.incidents = incidents;
    // A task at another office of the case's route: its time left is on that office's hours.
    for task in dto.tasks.iter_mut() {
        if task.office != dto.office && task.working_minutes_left.is_some() {
            let own = state.calendars.clock(Some(&task.office)).ok();
            task.working_minutes_left = crate::api::dto::task_minutes_left(
                own.as_ref(),
                now,
                task.due,
                task.suspended_since,
            );
        }
    }
    Ok(Some(dto))
}

/// Registers an application and starts a case.
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "cases",
    request_body = StartCase,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response instead of starting a second case")),
    responses(
        (status = 201, description = "The case started", body = CaseDto,
         headers(("Location" = String, description = "The case's address"))),
        CreateErrors,
    ),
    security(("bearer" = []))
)]
pub async fn start(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<StartCase>,
) -> ApiResult {
    // The version in force on the day of the registration where the office is.
    let process =
        crate::versions::for_registration(&state, &body.regulation, body.version, &body.office)
            .await?;
    if process.channel(&body.channel).is_none() {
        let known: Vec<&str> = process
            .regulation
            .channels
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        return Err(field_error(
            "unknown-channel",
            "/channel",
            format!(
                "regulation `{}` has no channel `{}`; its channels are: {}",
                process.id(),
                body.channel,
                known.join(", ")
            ),
        ));
    }
    let office = match state.calendars.office(&body.office) {
        Ok(o) => o,
        Err(e) => return Err(field_error("unknown-office", "/office", e.to_string())),
    };
    if office.region != process.regulation.region {
        return Err(field_error(
            "office-not-in-region",
            "/office",
            format!(
                "office `{}` is in region `{}`; regulation `{}` is for region `{}`",
                body.office,
                office.region,
                process.id(),
                process.regulation.region
            ),
        ));
    }
    let roles = start_roles(&process, &body.channel);
    let actor = principal.grants().start(&body.office, &roles)?;
    let route = crate::routing::route(
        &state.calendars,
        &process,
        &body.office,
        body.forward_to.as_deref(),
    )
    .map_err(|e| field_error("route-unresolved", e.pointer(), e.to_string()))?;
    if let Some(id) = &body.id {
        if !valid_case_id(id) {
            return Err(field_error(
                "bad-case-id",
                "/id",
                "a case id is 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit",
            ));
        }
        // Case ids are one namespace over all offices: the answer to a chosen id that is
        // taken (409) would tell an office's clerk that another office has a case with it.
        // So only accounts that see every office choose ids; the rest are refused whatever
        // the id, before it is looked up.
        if !sees_every_office(&state, &principal) {
            return Err(Problem::forbidden(
                "id-not-allowed",
                "only an account that sees every office (an integration such as the e-gov portal) may choose a case's id; leave `id` out and one is made up",
            ));
        }
    }
    let data = body
        .data
        .unwrap_or_else(|| Value::Object(Default::default()));
    crate::limits::check_data(
        process.regulation.application_form.as_ref().map(|f| &f.0),
        &data,
    )?;
    let prefix = prefix_of(&process.regulation.region);
    // A made-up id may collide with an existing one (about one in a trillion); try again.
    for _ in 0..3 {
        let id = match &body.id {
            Some(id) => id.clone(),
            None => new_case_id(&state, &prefix)?,
        };
        let case = CaseId::new(&id);
        let new = NewCase {
            case: case.clone(),
            channel: body.channel.clone(),
            office: body.office.clone(),
            data: data.clone(),
        };
        match state
            .service
            .start_routed(&process, new, &route, &actor, state.now())
            .await
        {
            Ok(_) => {
                let dto = case_dto(&state, &case)
                    .await?
                    .ok_or_else(|| Problem::internal(&"a started case is not in the store"))?;
                let location = format!("/api/v1/cases/{id}");
                return Ok((
                    StatusCode::CREATED,
                    [(header::LOCATION, location)],
                    axum::Json(dto),
                )
                    .into_response());
            }
            Err(ServiceError::Command(CommandError::CaseExists(_))) if body.id.is_none() => {
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Problem::internal(&"could not make up a free case id"))
}

/// A case with its tasks, if the caller may see it.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = String, Path, description = "The case's id")),
    responses((status = 200, description = "The case", body = CaseDto), ReadErrors),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CaseDto>> {
    let case = CaseId::new(&id);
    visible_office(&state, &principal, &case).await?;
    let dto = case_dto(&state, &case)
        .await?
        .ok_or_else(|| Problem::not_found("no such case, or it is not visible to you"))?;
    Ok(axum::Json(dto))
}

/// The office of a case the caller may see; 404 otherwise, whether or not it exists.
pub async fn visible_office(
    state: &AppState,
    principal: &Principal,
    case: &CaseId,
) -> Result<String, Problem> {
    match access::visible_case(state, principal, case.as_str()).await {
        Ok(st) => Ok(st.office.to_string()),
        Err(Unseen::Hidden) => Err(Problem::not_found(
            "no such case, or it is not visible to you",
        )),
        Err(Unseen::Failed(e)) => Err(e.into()),
    }
}

/// The case's log: every event with its hash, in order.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/events",
    tag = "cases",
    params(("id" = String, Path, description = "The case's id"), EventsQuery),
    responses((status = 200, description = "The events", body = EventsDto), ReadErrors),
    security(("bearer" = []))
)]
pub async fn events(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<EventsDto>> {
    let case = CaseId::new(&id);
    visible_office(&state, &principal, &case).await?;
    let events = state.store.events(&case).await?;
    let chain = if q.verify.unwrap_or(false) {
        Some(match state.store.verify_case(&case).await? {
            Ok(_) => ChainDto {
                verified: true,
                problem: None,
            },
            Err(t) => ChainDto {
                verified: false,
                problem: Some(t.to_string()),
            },
        })
    } else {
        None
    };
    Ok(axum::Json(EventsDto {
        case: id,
        events: events.iter().map(EventDto::from).collect(),
        chain,
    }))
}

/// `POST /api/v1/cases/{id}/system-results`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemResult {
    /// The system step waiting for its result, e.g. `portal_authorization`.
    pub step: String,
    /// The step's outcome, e.g. `ok` or `failed`.
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<Value>,
    /// Why, when the outcome needs a reason; at most 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Records the result of a system step (portal authorisation, signature check), by an
/// account holding the step's system role. Only steps whose role is of kind `system` take a
/// result this way (422 `not-a-system-step` for a person's step: complete its task).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/system-results",
    tag = "cases",
    request_body = SystemResult,
    params(
        ("id" = String, Path, description = "The case's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "The events it caused", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn system_result(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<SystemResult>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let case = CaseId::new(&id);
    let office = visible_office(&state, &principal, &case).await?;
    let st = state.service.case_state(&case).await?;
    let role = st
        .open_tasks()
        .find(|t| &*t.step_id == body.step.as_str())
        .map(|t| t.role.to_string())
        .ok_or_else(|| Problem::from(CommandError::NoTaskAtStep(body.step.clone())))?;
    // A person's step is claimed and completed as a task, by its role, with its checks;
    // this call is only for what a system reports.
    let kind = st
        .process
        .regulation
        .roles
        .iter()
        .find(|r| r.id == role)
        .map(|r| r.kind);
    if kind != Some(RoleKind::System) {
        return Err(field_error(
            "not-a-system-step",
            "/step",
            format!(
                "step `{}` is done by a person (role `{role}`), not by a system: complete its task instead",
                body.step
            ),
        ));
    }
    let actor = principal.grants().system_result(&office, &role)?;
    crate::limits::check_reason("/reason", body.reason.as_deref())?;
    let data = body
        .data
        .unwrap_or_else(|| Value::Object(Default::default()));
    crate::limits::check_data(crate::limits::step_form(&st.process, &body.step), &data)?;
    let command = Command::SystemResult {
        step: body.step,
        outcome: body.outcome,
        data,
        reason: body.reason,
    };
    let events = state
        .service
        .execute(&case, &command, &actor, state.now())
        .await?;
    Ok(axum::Json(CommandResultDto::new(&id, &events)))
}

/// `POST /api/v1/cases/{id}/cancel`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelCase {
    /// Why the case is stopped (a registration made in error); at most 2,000 characters.
    #[schema(max_length = 2000)]
    pub reason: String,
}

/// Stops a case registered in error (administrators).
#[utoipa::path(
    post,
    path = "/api/v1/cases/{id}/cancel",
    tag = "cases",
    request_body = CancelCase,
    params(
        ("id" = String, Path, description = "The case's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response"),
    ),
    responses((status = 200, description = "The events it caused", body = CommandResultDto), CommandErrors),
    security(("bearer" = []))
)]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(body): Json<CancelCase>,
) -> ApiResult<axum::Json<CommandResultDto>> {
    let case = CaseId::new(&id);
    let office = visible_office(&state, &principal, &case).await?;
    let actor = principal.grants().cancel(&office)?;
    crate::limits::check_reason("/reason", Some(&body.reason))?;
    if body.reason.trim().is_empty() {
        return Err(field_error(
            "reason-required",
            "/reason",
            "say why the case is cancelled",
        ));
    }
    let events = state
        .service
        .execute(
            &case,
            &Command::Cancel {
                reason: body.reason,
            },
            &actor,
            state.now(),
        )
        .await?;
    Ok(axum::Json(CommandResultDto::new(&id, &events)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefixes_come_from_the_region() {
        assert_eq!(super::prefix_of("atyrau"), "ATY");
        assert_eq!(super::prefix_of("north-kazakhstan"), "NK");
    }
}

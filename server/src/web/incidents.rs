//! Incidents for administrators: the list of cases whose path waits after an incident, and the
//! retry form on a case's page (`POST /cases/{id}/incidents/{n}/retry`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use reglament_model::text::Lang;
use reglament_runtime::{CaseState, Command, CommandError, Incident};
use reglament_store::ServiceError;
use serde_json::Value;

use super::cases::visible_case;
use super::inbox::step_name;
use super::{Ctx, Page, WebResult, i18n, local_time, office_name, render};
use crate::auth::policy::ADMINISTRATOR;
use crate::state::AppState;

/// One incident as the pages list it.
#[derive(Debug, Clone)]
pub struct IncidentLine {
    pub case: String,
    pub number: u32,
    pub office: String,
    pub step: String,
    pub cause: String,
    pub message: String,
    pub opened: String,
    pub resolved: String,
}

impl IncidentLine {
    pub fn new(state: &AppState, ctx: &Ctx, st: &CaseState, i: &Incident) -> IncidentLine {
        let lang = ctx.lang;
        IncidentLine {
            case: st.id.to_string(),
            number: i.id,
            office: office_name(state, lang, &st.office),
            step: step_name(Some(&st.process), &i.step, lang),
            cause: i18n::t(lang, &i.cause).to_string(),
            // The engine's own words are English: on other pages the cause says it.
            message: if lang == Lang::En {
                i.message.clone()
            } else {
                String::new()
            },
            opened: local_time(state, &st.office, Some(i.opened_at)),
            resolved: local_time(state, &st.office, i.resolved_at),
        }
    }
}

#[derive(Template)]
#[template(path = "incidents.html")]
struct IncidentsPage {
    page: Page,
    incidents: Vec<IncidentLine>,
    /// Cases whose history does not verify: (case, office, when found, what).
    held: Vec<(String, String, String, String)>,
    next: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct PageParams {
    after: Option<String>,
}

/// Cases per page of the list.
const PAGE: u32 = 100;

/// `GET /incidents`: the open incidents in the offices the caller administers.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageParams>,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    principal
        .grants()
        .list_incidents()
        .map_err(|d| ctx.problem(d.into()))?;
    let found = crate::api::incidents::open_incidents(&state, principal, q.after.as_deref(), PAGE)
        .await
        .map_err(|p| ctx.problem(p))?;
    let incidents = found
        .cases
        .iter()
        .flat_map(|st| {
            st.open_incidents()
                .map(|i| IncidentLine::new(&state, &ctx, st, i))
        })
        .collect();
    let held = found
        .held
        .into_iter()
        .map(|h| {
            (
                h.case,
                office_name(&state, ctx.lang, &h.office),
                local_time(&state, &h.office, Some(h.detected_at)),
                {
                    let what = format!("{} {}: {}", ctx.t("event"), h.seq, ctx.t(&h.kind));
                    // The finding's detail is the store's English; other pages say the kind.
                    if ctx.lang == Lang::En {
                        format!("{what} — {}", h.detail)
                    } else {
                        what
                    }
                },
            )
        })
        .collect();
    Ok(render(&IncidentsPage {
        page: ctx.page(ctx.t("incidents")),
        incidents,
        held,
        next: found.next,
    }))
}

/// Whether `ctx`'s user may retry the incidents of `st`.
pub fn may_retry(ctx: &Ctx, st: &CaseState) -> bool {
    ctx.principal
        .as_ref()
        .is_some_and(|p| p.grants().holds(ADMINISTRATOR, &st.office))
}

/// `POST /cases/{id}/incidents/{n}/retry`: `reason`, and `data` (a JSON object of corrected
/// fields, optional).
pub async fn retry(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, number)): Path<(String, u32)>,
    body: axum::body::Bytes,
) -> WebResult {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let st = visible_case(&state, &ctx, principal, &id).await?;
    let done = format!("/cases/{}?notice=incident_retried", st.id.as_str());
    // Resolved already (a double click): the page shows how it stands.
    if st
        .incidents
        .iter()
        .any(|i| i.id == number && i.resolved_at.is_some())
    {
        return Ok(super::redirect(&done));
    }
    let actor = principal
        .grants()
        .retry_incident(&st.office)
        .map_err(|d| ctx.problem(d.into()))?;
    let reason = form.text("reason").unwrap_or_default().trim().to_string();
    if reason.is_empty() {
        return Err(ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("reason_required")));
    }
    crate::limits::check_reason("/reason", Some(&reason)).map_err(|p| ctx.problem(p))?;
    let data = match form.text("data").map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => {
                crate::limits::check_data(
                    st.process
                        .regulation
                        .application_form
                        .as_ref()
                        .map(|f| &f.0),
                    &v,
                )
                .map_err(|p| ctx.problem(p))?;
                Some(v)
            }
            _ => {
                return Err(ctx.error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ctx.t("correction_not_object"),
                ));
            }
        },
    };
    let command = Command::RetryIncident {
        incident: number,
        reason,
        data,
    };
    match state
        .service
        .execute(&st.id, &command, &actor, state.now())
        .await
    {
        Ok(_) | Err(ServiceError::Command(CommandError::IncidentResolved(_))) => {
            Ok(super::redirect(&done))
        }
        Err(e) => Err(ctx.problem(e.into())),
    }
}

/// The incidents of a case for its page, oldest first.
pub fn lines(state: &AppState, ctx: &Ctx, st: &CaseState) -> Vec<IncidentLine> {
    st.incidents
        .iter()
        .map(|i| IncidentLine::new(state, ctx, st, i))
        .collect()
}

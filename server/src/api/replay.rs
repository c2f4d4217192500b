//! `GET /api/v1/cases/{id}/replay`: the audit of one case — its hash chain verified, its
//! events folded again on the regulation and calendar versions it is pinned to and compared
//! with the stored projections, its timeline with the working time each step took against
//! its statutory time and the breaches, and with `?at=` the case as it stood at an instant.
//!
//! The work is the engine's [`reglament_audit::replay`]; this handler only decides who
//! may ask (whoever may read the case: auditors everywhere, the office's own staff) and turns
//! its errors into problems. The response is the engine's `Replay`, serialised as it is (the
//! same JSON as `reglament replay CASE --format json`); [`ReplayDoc`] describes it in the
//! OpenAPI document.

use axum::extract::State;
use chrono::{DateTime, Utc};
use reglament_audit::replay::{Replay, ReplayOptions, replay as replay_case};
use reglament_audit::{AuditError, parse_instant};
use reglament_runtime::{CaseId, Clocks};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{ApiResult, valid_case_id};
use crate::auth::Principal;
use crate::problem::{FieldProblem, Path, Problem, ProblemDoc, Query, ReadErrors};
use crate::state::AppState;

/// Query of `GET /api/v1/cases/{id}/replay`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReplayParams {
    /// Also show the case as it stood at this instant: RFC 3339
    /// (`2026-04-06T10:00:00+05:00`), or a date (`2026-04-06`, its start in Kazakhstan time).
    pub at: Option<String>,
}

/// The hash chain's verdict.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = ReplayChain)]
pub struct ChainCheckDoc {
    /// Every event's hash recomputes, links to the one before, and the head matches the
    /// projection.
    pub intact: bool,
    /// The last event's hash.
    pub head: Option<String>,
    /// The first bad event when the chain is broken: `case`, `seq`, `kind` (`changed`,
    /// `deleted`, `inserted`, `reordered`, …) and `detail`.
    #[schema(value_type = Option<Object>)]
    pub problem: Option<Value>,
}

/// One task of the timeline.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = ReplayTimelineStep)]
pub struct TimelineStepDoc {
    /// The task's number in the case (1, 2, 3, …).
    pub task: u32,
    /// The step's id.
    pub step: String,
    /// The step's name in Kazakh, Russian and English (`kk`, `ru`, `en`).
    #[schema(value_type = Option<Object>)]
    pub name: Option<Value>,
    /// `task`, `system` or `dispatch`.
    pub kind: String,
    /// The role that holds it.
    pub role: String,
    pub opened_at: DateTime<Utc>,
    /// Who caused it to open.
    pub opened_by: String,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    /// `open`, `completed` or `cancelled`.
    pub status: String,
    pub closed_at: Option<DateTime<Utc>>,
    /// Who completed it.
    pub closed_by: Option<String>,
    pub outcome: Option<String>,
    pub reason: Option<String>,
    /// Working time from opening to closing (or to the audit while open) on the office's
    /// calendar, in minutes.
    pub working_minutes: Option<i64>,
    /// The same for people, e.g. `1 working day 2 h 5 min`.
    pub working_time: Option<String>,
    /// The step's statutory time for the channel, e.g. `1 working day`.
    pub statutory: Option<String>,
    /// Its due instant.
    pub due: Option<DateTime<Utc>>,
    /// Closed after its due instant, or open past it.
    pub breached: bool,
    /// The engine recorded the breach (`deadline_breached`).
    pub breach_recorded: bool,
    pub escalations: u32,
}

/// The audit of one case (the engine's `Replay`).
#[derive(Debug, Clone, ToSchema)]
#[schema(as = Replay)]
pub struct ReplayDoc {
    pub case: String,
    /// The regulation version the case is pinned to: `id`, `version`, `digest`.
    #[schema(value_type = Object)]
    pub regulation: Value,
    pub channel: String,
    pub office: String,
    /// The calendar version the case is pinned to.
    pub calendar_version: String,
    /// The office's IANA time zone, for showing instants locally.
    pub time_zone: Option<String>,
    /// Events in the case's log.
    pub events: u64,
    pub chain: ChainCheckDoc,
    /// The stored projections against the fold of the events: `matches` and `differences`
    /// (`table`, `task`, `field`, `stored`, `replayed`); null when the events do not fold.
    #[schema(value_type = Option<Object>)]
    pub projections: Option<Value>,
    /// Why the events do not fold, if they do not.
    pub fold_error: Option<String>,
    /// Recorded due instants recomputed on the pinned calendar: `recomputed`, `checked`,
    /// `mismatches` (`seq`, `target`, `recorded`, `recomputed`, `reason`).
    #[schema(value_type = Object)]
    pub deadlines: Value,
    /// `open`, `ended` or `cancelled`.
    pub status: String,
    /// The end's result (`granted`, `refused`, …).
    pub result: Option<String>,
    pub started_at: DateTime<Utc>,
    pub registered_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The statutory term of the case: `term`, `extended`, `registered_at`, `due`,
    /// `done_at`, `working_minutes`, `working_time`, `met` (null while open and not yet
    /// due), `breach_recorded`.
    #[schema(value_type = Option<Object>)]
    pub term: Option<Value>,
    /// Per task: who, when, outcome, working time against statutory time, breached or not.
    pub timeline: Vec<TimelineStepDoc>,
    /// Every event: `seq`, `at`, `type`, `user`, `role`, `summary`, `hash`.
    #[schema(value_type = Vec<Object>)]
    pub log: Vec<Value>,
    /// With `?at=`: the case as it stood then — `at`, `events`, `last_event`, `status`,
    /// `result`, `due`, `overdue`, `documents_missing`, `open_tasks`, `closed_tasks`.
    #[schema(value_type = Option<Object>)]
    pub state_at: Option<Value>,
    /// When the audit was made (open tasks are judged at it).
    pub as_of: DateTime<Utc>,
}

/// Replays a case: verifies its hash chain, folds its events again on the pinned regulation
/// and calendar and compares the result with the stored state, and lays out its timeline
/// with working time against statutory time and the breaches. For auditors, and for whoever
/// may read the case.
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/replay",
    tag = "audit",
    params(("id" = String, Path, description = "The case's id"), ReplayParams),
    responses(
        (status = 200, description = "The audit of the case", body = ReplayDoc),
        (status = 409, description = "The case's log cannot be replayed: an event cannot be read, or the log does not begin with `case_started`",
         body = ProblemDoc, content_type = "application/problem+json"),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn replay(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReplayParams>,
) -> ApiResult<axum::Json<Replay>> {
    let hidden = || Problem::not_found("no such case, or it is not visible to you");
    if !valid_case_id(&id) {
        return Err(hidden());
    }
    let at = match q.at.as_deref() {
        None => None,
        Some(text) => Some(parse_instant(text).map_err(|e| {
            Problem::bad_request("bad-instant", e.to_string())
                .with_errors(vec![FieldProblem::new("at", e.to_string())])
        })?),
    };
    let case = CaseId::new(&id);
    // The office from the projection, not from a fold: a damaged log is still audited.
    let view = state.store.case(&case).await?.ok_or_else(hidden)?;
    principal.grants().read_case(&view.office)?;
    let opts = ReplayOptions {
        at,
        now: state.now(),
        clocks: Some(&state.calendars as &dyn Clocks),
    };
    match replay_case(&state.store, &case, &opts).await {
        Ok(r) => Ok(axum::Json(r)),
        Err(e) => Err(problem(e)),
    }
}

fn problem(e: AuditError) -> Problem {
    match e {
        AuditError::NoSuchCase(_) => {
            Problem::not_found("no such case, or it is not visible to you")
        }
        AuditError::Store(s) => s.into(),
        e @ (AuditError::Unreadable { .. }
        | AuditError::NotStarted { .. }
        | AuditError::Fold { .. }) => Problem::conflict("log-unreadable", e.to_string()),
        other => Problem::internal(&other),
    }
}

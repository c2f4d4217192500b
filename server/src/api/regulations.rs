//! Regulations: the deployed ones and their versions, a version's swimlane diagram and its
//! BPMN 2.0 export, and
//! deploying a new version from its YAML (analysts). A deployment is checked completely
//! first, and every error comes back with its line and column; cases already running stay
//! on the version they started on.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, Utc};
use reglament_model::bpmn;
use reglament_model::compile::Process;
use reglament_model::diagnostic::Diagnostic;
use reglament_model::render;
use reglament_model::text::Lang;
use reglament_model::validate;
use reglament_store::RegulationInfo;
use reglament_store::versions::{Status, statuses};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::ApiResult;
use super::dto::TextDto;
use crate::auth::Principal;
use crate::problem::{AuthErrors, CreateErrors, FieldProblem, Path, Problem, Query, ReadErrors};
use crate::state::AppState;
use crate::versions::registration_day;

/// A deployed version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionDto {
    pub version: u32,
    pub digest: String,
    pub deployed_at: DateTime<Utc>,
    pub deployed_by: String,
    /// The first day the version applies: its `in_force_from`, else its `valid_from`.
    pub effective_from: NaiveDate,
    /// The first day it no longer applies: its own end (the day after `valid_to`, or the
    /// repeal's day) or the day the next version takes effect, whichever is earlier; none
    /// while it applies with no end in sight.
    pub effective_until: Option<NaiveDate>,
    /// Where it stands today in the regulation's region: `in_force` (new registrations start
    /// on it), `scheduled` (takes effect on `effective_from`), `superseded` (a later version
    /// took over, or replaced it before it applied), `ended` (its days ended with no
    /// successor: registrations are refused).
    pub status: VersionStatus,
}

/// Where a version stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    InForce,
    Scheduled,
    Superseded,
    Ended,
}

impl From<Status> for VersionStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::InForce => VersionStatus::InForce,
            Status::Scheduled => VersionStatus::Scheduled,
            Status::Superseded => VersionStatus::Superseded,
            Status::Ended => VersionStatus::Ended,
        }
    }
}

/// The versions of one regulation (oldest first) as they stand on `today`.
pub fn version_dtos(versions: &[RegulationInfo], today: NaiveDate) -> Vec<VersionDto> {
    let windows: Vec<_> = versions.iter().map(|r| r.window).collect();
    versions
        .iter()
        .zip(statuses(&windows, today))
        .map(|(r, (status, until))| VersionDto {
            version: r.version,
            digest: r.digest.clone(),
            deployed_at: r.deployed_at,
            deployed_by: r.deployed_by.clone(),
            effective_from: r.window.from,
            effective_until: until,
            status: status.into(),
        })
        .collect()
}

/// The version in force on `today`, if any.
fn in_force_version(versions: &[VersionDto]) -> Option<u32> {
    versions
        .iter()
        .find(|v| v.status == VersionStatus::InForce)
        .map(|v| v.version)
}

/// A regulation in the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegulationSummaryDto {
    pub id: String,
    pub title: TextDto,
    pub region: String,
    pub latest_version: u32,
    /// The version new registrations start on today, if any is in force.
    pub in_force_version: Option<u32>,
    /// The day the versions' statuses are for: today in the regulation's region.
    pub today: NaiveDate,
    /// Every deployed version, oldest first.
    pub versions: Vec<VersionDto>,
}

/// One version of a regulation in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegulationDto {
    pub id: String,
    pub version: u32,
    pub digest: String,
    pub title: TextDto,
    pub region: String,
    /// The version new registrations start on today, if any is in force.
    pub in_force_version: Option<u32>,
    /// The day the versions' statuses are for: today in the regulation's region.
    pub today: NaiveDate,
    pub versions: Vec<VersionDto>,
    /// The regulation as its typed model: roles, channels with terms, forms, steps
    /// (see regulations/schema/regulation.schema.json).
    #[schema(value_type = Object)]
    pub definition: Value,
}

/// A finding of the validator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DiagnosticDto {
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub pointer: String,
    pub help: Option<String>,
}

impl From<&Diagnostic> for DiagnosticDto {
    fn from(d: &Diagnostic) -> Self {
        DiagnosticDto {
            code: d.code.to_string(),
            severity: if d.is_error() { "error" } else { "warning" }.to_string(),
            line: d.location.line,
            column: d.location.column,
            message: d.message.clone(),
            pointer: d.pointer.clone(),
            help: d.help.clone(),
        }
    }
}

/// What a deployment did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeployedDto {
    pub id: String,
    pub version: u32,
    pub digest: String,
    /// False when exactly this content was deployed before (nothing changed).
    pub new: bool,
    /// The first day the version applies (`in_force_from`, else `valid_from`).
    pub effective_from: NaiveDate,
    /// `scheduled` when that day is still to come in the regulation's region (registrations
    /// start on it from then), `in_force` when it applies today, `superseded` or `ended`
    /// otherwise (see [`VersionDto::status`]).
    pub status: VersionStatus,
    /// The linter's warnings (they do not stop a deployment).
    pub warnings: Vec<DiagnosticDto>,
}

async fn versions_of(state: &AppState) -> Result<BTreeMap<String, Vec<RegulationInfo>>, Problem> {
    let mut map: BTreeMap<String, Vec<RegulationInfo>> = BTreeMap::new();
    for r in state.store.regulations().await? {
        map.entry(r.id.clone()).or_default().push(r);
    }
    Ok(map)
}

/// The deployed regulations, each with its versions.
#[utoipa::path(
    get,
    path = "/api/v1/regulations",
    tag = "regulations",
    responses((status = 200, description = "The regulations", body = Vec<RegulationSummaryDto>), AuthErrors),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    _principal: Principal,
) -> ApiResult<axum::Json<Vec<RegulationSummaryDto>>> {
    let mut out = Vec::new();
    for (id, versions) in versions_of(&state).await? {
        let Some(latest) = versions.last() else {
            continue;
        };
        let process = state.store.process(&latest.digest).await?;
        let today = registration_day(&state, None, Some(&process.regulation.region));
        let versions = version_dtos(&versions, today);
        out.push(RegulationSummaryDto {
            id,
            title: TextDto::from(&process.regulation.title),
            region: process.regulation.region.clone(),
            latest_version: latest.version,
            in_force_version: in_force_version(&versions),
            today,
            versions,
        });
    }
    Ok(axum::Json(out))
}

/// Which version.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VersionParams {
    /// A deployed version (the latest by default).
    #[param(minimum = 1)]
    pub version: Option<u32>,
}

async fn version_process(
    state: &AppState,
    id: &str,
    version: Option<u32>,
) -> Result<(Arc<Process>, RegulationInfo, Vec<RegulationInfo>), Problem> {
    let mut all = versions_of(state).await?;
    let versions = all
        .remove(id)
        .ok_or_else(|| Problem::not_found(format!("no regulation `{id}` is deployed")))?;
    let chosen = match version {
        None => versions.last(),
        Some(v) => versions.iter().find(|r| r.version == v),
    }
    .cloned()
    .ok_or_else(|| {
        Problem::not_found(format!(
            "regulation `{id}` has no deployed version {}",
            version.unwrap_or_default()
        ))
    })?;
    let process = state.store.process(&chosen.digest).await?;
    Ok((process, chosen, versions))
}

/// One version of a regulation (the latest by default) with the list of versions.
#[utoipa::path(
    get,
    path = "/api/v1/regulations/{id}",
    tag = "regulations",
    params(("id" = String, Path, description = "The regulation's id"), VersionParams),
    responses((status = 200, description = "The regulation", body = RegulationDto), ReadErrors),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    _principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<VersionParams>,
) -> ApiResult<axum::Json<RegulationDto>> {
    let (process, chosen, versions) = version_process(&state, &id, q.version).await?;
    let today = registration_day(&state, None, Some(&process.regulation.region));
    let versions = version_dtos(&versions, today);
    Ok(axum::Json(RegulationDto {
        id,
        version: chosen.version,
        digest: chosen.digest,
        title: TextDto::from(&process.regulation.title),
        region: process.regulation.region.clone(),
        in_force_version: in_force_version(&versions),
        today,
        versions,
        definition: serde_json::to_value(&process.regulation).unwrap_or(Value::Null),
    }))
}

/// The diagram's language.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LangParam {
    Kk,
    Ru,
    En,
}

/// What to draw.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiagramParams {
    /// A deployed version (the latest by default).
    #[param(minimum = 1)]
    pub version: Option<u32>,
    /// Only the steps this channel's cases can reach, with its durations.
    pub channel: Option<String>,
    /// Language of names and labels (default `ru`).
    pub lang: Option<LangParam>,
    /// Step ids to emphasise, separated by commas.
    pub highlight: Option<String>,
}

/// The process as an SVG swimlane diagram, one lane per role.
#[utoipa::path(
    get,
    path = "/api/v1/regulations/{id}/diagram.svg",
    tag = "regulations",
    params(("id" = String, Path, description = "The regulation's id"), DiagramParams),
    responses(
        (status = 200, description = "The diagram", content_type = "image/svg+xml", body = String),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn diagram(
    State(state): State<AppState>,
    _principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<DiagramParams>,
) -> ApiResult {
    let (process, _, _) = version_process(&state, &id, q.version).await?;
    let options = render::Options {
        lang: match q.lang {
            Some(LangParam::Kk) => Lang::Kk,
            Some(LangParam::En) => Lang::En,
            _ => Lang::Ru,
        },
        channel: q.channel,
        highlight: q
            .highlight
            .map(|h| {
                h.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    };
    options
        .check(&process)
        .map_err(|e| Problem::bad_request("bad-query", e.to_string()))?;
    // Layout of a large regulation takes milliseconds: off the async workers.
    let svg = tokio::task::spawn_blocking(move || render::svg(&process, &options))
        .await
        .map_err(|e| Problem::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=60"),
        ],
        svg,
    )
        .into_response())
}

/// Which version to export and in which language.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BpmnParams {
    /// A deployed version (the latest by default).
    #[param(minimum = 1)]
    pub version: Option<u32>,
    /// Language of the BPMN names (default `ru`); the Reglament extension elements carry all
    /// three.
    pub lang: Option<LangParam>,
}

/// The process as a BPMN 2.0 document with its diagram (BPMN DI): a collaboration with the
/// provider's pool (a lane per role) and the applicant's, the e-gov portal's, the ЦОН's and
/// the rural akim's pools where a channel involves them; deadlines as non-interrupting
/// boundary timers; what BPMN cannot hold in extension elements of the namespace
/// `urn:reglament:bpmn:1`. Opens in bpmn.io and Camunda Modeler; `reglament import-bpmn`
/// reads it back.
#[utoipa::path(
    get,
    path = "/api/v1/regulations/{id}/bpmn",
    tag = "regulations",
    params(("id" = String, Path, description = "The regulation's id"), BpmnParams),
    responses(
        (status = 200, description = "The BPMN 2.0 XML", content_type = "application/xml", body = String),
        ReadErrors,
    ),
    security(("bearer" = []))
)]
pub async fn bpmn(
    State(state): State<AppState>,
    _principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<BpmnParams>,
) -> ApiResult {
    let (process, _, _) = version_process(&state, &id, q.version).await?;
    let lang = match q.lang {
        Some(LangParam::Kk) => Lang::Kk,
        Some(LangParam::En) => Lang::En,
        _ => Lang::Ru,
    };
    // The layout of a large regulation takes milliseconds: off the async workers.
    let xml = tokio::task::spawn_blocking(move || bpmn::export(&process, lang))
        .await
        .map_err(|e| Problem::internal(&e))?;
    let disposition = format!("inline; filename=\"{id}.bpmn\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/xml; charset=utf-8".to_string(),
            ),
            (header::CACHE_CONTROL, "private, max-age=60".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        xml,
    )
        .into_response())
}

/// `POST /api/v1/regulations` with a JSON body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRegulation {
    /// The regulation's YAML text.
    pub source: String,
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The YAML text of a deployment: the body itself (`application/yaml`, `text/yaml`,
/// `text/plain`), or `source` in a JSON body.
fn deployment_text(headers: &HeaderMap, body: &Bytes) -> Result<String, Problem> {
    let media = media_type(headers);
    match media.as_str() {
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" | "text/plain" => {
            String::from_utf8(body.to_vec())
                .map_err(|_| Problem::bad_request("bad-body", "the YAML text is not UTF-8"))
        }
        "application/json" => {
            let parsed: DeployRegulation = serde_json::from_slice(body).map_err(|e| {
                if e.is_syntax() || e.is_eof() {
                    Problem::bad_request("bad-body", format!("the body is not JSON: {e}"))
                } else {
                    Problem::unprocessable(
                        "invalid-body",
                        format!("the JSON body does not fit: {e}"),
                    )
                    .with_errors(vec![FieldProblem::new("/source", e.to_string())])
                }
            })?;
            Ok(parsed.source)
        }
        _ => Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the regulation as application/yaml (or text/yaml), or as JSON {\"source\": \"…\"}",
        )),
    }
}

/// Deploys a new version of a regulation from its YAML (analysts). Deploying the same text
/// again changes nothing (200); a new version is 201. Errors come with line and column (422);
/// reusing a version number for other content, or going back to an older one, is 409. A
/// version whose `in_force_from` (else `valid_from`) is still to come is scheduled: new
/// registrations start on it from that day. Its days must follow the newest deployed
/// version's — the same first day or a later one, and exactly that version's end when it
/// names one — or it is refused with 409 `version-dates-conflict` naming both versions' days.
#[utoipa::path(
    post,
    path = "/api/v1/regulations",
    tag = "regulations",
    request_body(
        description = "The regulation's YAML text, or JSON `{\"source\": \"…\"}`",
        content(
            (String = "application/yaml"),
            (DeployRegulation = "application/json"),
        ),
    ),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses(
        (status = 201, description = "A new version was deployed", body = DeployedDto),
        (status = 200, description = "This exact text was deployed before", body = DeployedDto),
        CreateErrors,
    ),
    security(("bearer" = []))
)]
pub async fn deploy(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let actor = principal.grants().deploy()?;
    let source = deployment_text(&headers, &body)?;
    let check_state = state.clone();
    let checked_source = source.clone();
    let report = tokio::task::spawn_blocking(move || {
        validate::check_str(&checked_source, "regulation.yaml", Some(&check_state.known))
    })
    .await
    .map_err(|e| Problem::internal(&e))?;
    let warnings: Vec<DiagnosticDto> = report
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(DiagnosticDto::from)
        .collect();
    let (deployed, process) = state
        .store
        .deploy_validated(report, &actor.user, state.now())
        .await?;
    tracing::info!(
        id = %deployed.id,
        version = deployed.version,
        new = deployed.new,
        by = %actor.user,
        "regulation deployed"
    );
    let status = if deployed.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let all: Vec<RegulationInfo> = state
        .store
        .regulations()
        .await?
        .into_iter()
        .filter(|r| r.id == deployed.id)
        .collect();
    let today = registration_day(&state, None, Some(&process.regulation.region));
    let this = version_dtos(&all, today)
        .into_iter()
        .find(|v| v.version == deployed.version)
        .ok_or_else(|| Problem::internal(&"a deployed version is not listed"))?;
    let dto = DeployedDto {
        id: deployed.id,
        version: deployed.version,
        digest: deployed.digest,
        new: deployed.new,
        effective_from: this.effective_from,
        status: this.status,
        warnings,
    };
    Ok((status, axum::Json(dto)).into_response())
}

//! Errors as `application/problem+json` (RFC 9457): every error the server answers with,
//! including axum's own rejections (bad JSON, a wrong content type, a bad path), unknown
//! routes and methods, oversized bodies and panics.
//!
//! A problem carries `type`, `title`, `status` and `detail`, plus `code` — a stable machine
//! name (for engine refusals, [`CommandError::kind`]) — and, for 422, `errors`: one entry per
//! failing field or line. The request's data decides 4xx; only the server's own failures give
//! 5xx, and they are logged with what went wrong while the client sees a short detail.

use std::collections::BTreeMap;

use crate::accounts::AccountError;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reglament_calendar::CalendarError;
use reglament_model::diagnostic::Diagnostic;
use reglament_runtime::{CommandError, EngineError, FieldRule};
use reglament_store::{ServiceError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One failing field of a request (422), or one error in a regulation's text (with its line
/// and column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// JSON pointer into the request body (`/data/iin`), or into the regulation document.
    pub pointer: String,
    pub detail: String,
    /// 1-based line in the submitted text, for regulation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column (in characters), for regulation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// The diagnostic code (`E201`, ...), for regulation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The form rule broken, for the web pages to say it in the reader's language.
    #[serde(skip)]
    pub rule: Option<FieldRule>,
}

impl FieldProblem {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldProblem {
            pointer: pointer.into(),
            detail: detail.into(),
            line: None,
            column: None,
            code: None,
            rule: None,
        }
    }
}

/// An RFC 9457 problem. On the wire (see [`ProblemDoc`]): `type` (`urn:reglament:problem:<code>`),
/// `title`, `status`, `detail`, `code`, and `errors` when there are failing fields.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    /// A stable machine-readable name of the problem, e.g. `claimed-by-other`.
    pub code: &'static str,
    pub detail: String,
    /// The failing fields, for 422.
    pub errors: Vec<FieldProblem>,
    /// Headers to send with it (`WWW-Authenticate`, `Retry-After`, ...).
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The body of every error response (RFC 9457 `application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDoc {
    /// `urn:reglament:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// A stable machine-readable name, e.g. `claimed-by-other`, `invalid-data`,
    /// `task-not-open`; for refusals of the engine, its error kind.
    pub code: String,
    /// The failing fields (422): JSON pointer and detail; line and column for regulation text.
    pub errors: Option<Vec<FieldProblem>>,
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", &format!("urn:reglament:problem:{}", self.code))?;
        m.serialize_entry("title", self.title())?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("detail", &self.detail)?;
        m.serialize_entry("code", self.code)?;
        if !self.errors.is_empty() {
            m.serialize_entry("errors", &self.errors)?;
        }
        m.end()
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status: status.as_u16(),
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn title(&self) -> &'static str {
        title_of(self.status(), self.code)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn with_errors(mut self, errors: Vec<FieldProblem>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Problem {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
            .with_header(header::WWW_AUTHENTICATE, "Bearer realm=\"reglament\"")
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// A server-side failure: logged in full, answered briefly.
    pub fn internal(what: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %what, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle the request; the error is in its log",
        )
    }

    pub fn unavailable(what: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %what, "database unavailable");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable; try again shortly",
        )
        .with_header(header::RETRY_AFTER, "5")
    }
}

fn title_of(status: StatusCode, code: &str) -> &'static str {
    let specific = match code {
        "claimed-by-other" => "Claimed by someone else",
        "assigned-to-other" => "Assigned to someone else",
        "task-not-open" => "The task is no longer open",
        "case-closed" => "The case has ended",
        "invalid-data" => "The data does not fit the form",
        "invalid-regulation" => "The regulation does not validate",
        "version-dates-conflict" => "The version's dates do not follow the deployed versions",
        "regulation-not-in-force" => "The regulation is not in force",
        "rate-limited" => "Too many failed sign-ins",
        "password-change-required" => "The password must be changed first",
        "weak-password" => "The password is too weak",
        "id-not-allowed" => "Choosing a case id is not allowed",
        "not-a-system-step" => "Not a system step",
        "contention" => "The case kept changing",
        "beyond-calendar" => "Beyond the working calendar",
        _ => "",
    };
    if !specific.is_empty() {
        return specific;
    }
    status.canonical_reason().unwrap_or("Error")
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}

/// A computation that needs days the calendar does not have (after its horizon, or before
/// its first year): a 409, never a 500.
fn calendar_conflict(e: &CalendarError) -> bool {
    matches!(
        e,
        CalendarError::BeyondHorizon { .. } | CalendarError::OutOfRange { .. }
    )
}

/// The HTTP status of an engine refusal.
pub fn command_status(e: &CommandError) -> StatusCode {
    use CommandError as C;
    match e {
        C::NoSuchCase(_) | C::NoSuchTask(_) => StatusCode::NOT_FOUND,
        C::CaseExists(_)
        | C::CaseClosed
        | C::TaskNotOpen { .. }
        | C::NoTaskAtStep(_)
        | C::ClaimedByOther { .. }
        | C::AssignedToOther { .. }
        | C::NotClaimed { .. }
        | C::AlreadyMissing
        | C::AlreadySuspended(_)
        | C::NotSuspended(_)
        | C::TaskSuspended(_) => StatusCode::CONFLICT,
        C::NoSuchIncident(_) => StatusCode::NOT_FOUND,
        C::IncidentResolved(_) => StatusCode::CONFLICT,
        C::WrongRole { .. }
        | C::NotAllowedToReassign(_)
        | C::NotAllowedToCancel(_)
        | C::NotAllowedToRetry(_)
        | C::NotAllowedToSuspend(_)
        | C::NotAllowedToIntervene(_) => StatusCode::FORBIDDEN,
        // What the submitted data leads to: an outcome, a reason, a form, a branch.
        C::UnknownChannel { .. }
        | C::UnknownOutcome { .. }
        | C::OutcomeRequired { .. }
        | C::NoOutcomeExpected { .. }
        | C::ReasonRequired { .. }
        | C::InvalidData { .. }
        | C::CorrectionNotAnObject
        | C::SuspensionNotAllowed { .. }
        | C::NoBranch { .. }
        | C::InterventionRefused(_)
        | C::Condition { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        // A deadline the calendar cannot reach: the command conflicts with the calendar as
        // it stands (it goes through once the calendar is extended), and nothing changed.
        C::Calendar(c) if calendar_conflict(c) => StatusCode::CONFLICT,
        // A regulation that loops or calendar data that cannot be used: the server's.
        C::Runaway(_) | C::Calendar(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<CommandError> for Problem {
    fn from(e: CommandError) -> Self {
        let status = command_status(&e);
        if status.is_server_error() {
            tracing::error!(error = %e, "the engine could not run a command");
        } else if let CommandError::Calendar(c) = &e {
            // Not the caller's mistake: the operator must extend the calendar.
            tracing::warn!(error = %c, "a command needs days the calendar does not have");
        }
        let mut p = Problem::new(status, e.kind(), e.to_string());
        match &e {
            CommandError::InvalidData { errors } => {
                p.errors = errors
                    .iter()
                    .map(|f| FieldProblem {
                        rule: Some(f.rule.clone()),
                        ..FieldProblem::new(format!("/data{}", f.pointer), f.message.clone())
                    })
                    .collect();
            }
            CommandError::UnknownOutcome { .. } | CommandError::NoOutcomeExpected { .. } => {
                p.errors = vec![FieldProblem::new("/outcome", e.to_string())];
            }
            CommandError::OutcomeRequired { .. } => {
                p.errors = vec![FieldProblem::new("/outcome", e.to_string())];
            }
            CommandError::ReasonRequired { .. } => {
                p.errors = vec![FieldProblem::new("/reason", e.to_string())];
            }
            CommandError::UnknownChannel { .. } => {
                p.errors = vec![FieldProblem::new("/channel", e.to_string())];
            }
            _ => {}
        }
        p
    }
}

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Self {
        match &e {
            _ if e.is_unavailable() => Problem::unavailable(&e),
            StoreError::BadCursor(_) => Problem::bad_request(
                "bad-cursor",
                "`after` is not a cursor this server gave out; start from the first page",
            ),
            StoreError::Conflict { .. } => Problem::conflict("conflict", e.to_string()),
            StoreError::UnknownRegulation(_) => Problem::not_found(e.to_string()),
            StoreError::VersionTaken { .. } => Problem::conflict("version-taken", e.to_string()),
            StoreError::VersionTooLow { .. } => Problem::conflict("version-too-low", e.to_string()),
            StoreError::Succession { conflict, .. } => {
                Problem::conflict("version-dates-conflict", e.to_string())
                    .with_errors(succession_errors(conflict))
            }
            StoreError::InvalidRegulation { diagnostics } => invalid_regulation(diagnostics),
            // What was found is for administrators (GET /api/v1/incidents), not for every caller.
            StoreError::HistoryDoesNotVerify(_) => Problem::conflict(
                "history-does-not-verify",
                "this case's history does not verify, so nothing more is recorded on it; \
                 an administrator has it among the incidents",
            ),
            _ => Problem::internal(&e),
        }
    }
}

/// The two versions of a refused deployment whose days do not follow, each with its days: the
/// deployed one (pointer `/version`: not in the submitted text) and the submitted one (at the
/// date that decides its first day).
fn succession_errors(c: &reglament_store::versions::Succession) -> Vec<FieldProblem> {
    use reglament_store::versions::Succession;
    let new = |version: u32, from| {
        FieldProblem::new(
            "/in_force_from",
            format!("the submitted version {version} takes effect on {from}"),
        )
    };
    match *c {
        Succession::Earlier {
            previous,
            previous_from,
            version,
            from,
        } => vec![
            FieldProblem::new(
                "/version",
                format!("the deployed version {previous} takes effect on {previous_from}"),
            ),
            new(version, from),
        ],
        Succession::Gap {
            previous,
            previous_last,
            version,
            from,
            ..
        }
        | Succession::Overlap {
            previous,
            previous_last,
            version,
            from,
            ..
        } => vec![
            FieldProblem::new(
                "/version",
                format!("the deployed version {previous} applies until {previous_last}"),
            ),
            new(version, from),
        ],
    }
}

/// A regulation that does not validate: every error at its JSON pointer, line and column,
/// with its code, and the first one in the detail.
pub fn invalid_regulation(diagnostics: &[Diagnostic]) -> Problem {
    let errors: Vec<FieldProblem> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(FieldProblem::from)
        .collect();
    let detail = match errors.first() {
        Some(first) => format!(
            "{} error(s); the first at line {}, column {}: {}",
            errors.len(),
            first.line.unwrap_or(0),
            first.column.unwrap_or(0),
            first.detail
        ),
        None => "the regulation does not validate".to_string(),
    };
    Problem::unprocessable("invalid-regulation", detail).with_errors(errors)
}

impl From<&Diagnostic> for FieldProblem {
    fn from(d: &Diagnostic) -> Self {
        FieldProblem {
            pointer: d.pointer.clone(),
            detail: match &d.help {
                Some(h) => format!("{} ({h})", d.message),
                None => d.message.clone(),
            },
            line: Some(d.location.line),
            column: Some(d.location.column),
            code: Some(d.code.to_string()),
            rule: None,
        }
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Command(c) => c.into(),
            ServiceError::Store(s) => s.into(),
            ServiceError::Contention { .. } => {
                Problem::conflict("contention", e.to_string()).with_header(header::RETRY_AFTER, "1")
            }
            ServiceError::Engine(EngineError::Command(c)) => c.into(),
            ServiceError::Engine(EngineError::Calendar(c)) if calendar_conflict(&c) => {
                tracing::warn!(error = %c, "a command needs days the calendar does not have");
                Problem::conflict(c.kind(), c.to_string())
            }
            ServiceError::Engine(other) => Problem::internal(&other),
        }
    }
}

impl From<AccountError> for Problem {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::UserExists(_) => Problem::conflict("user-exists", e.to_string()),
            AccountError::NoSuchUser(_) => Problem::not_found(e.to_string()),
            AccountError::Store(s) => s.into(),
        }
    }
}

/// An axum rejection as a problem: `code` names the 400 or 422 case; the other statuses have
/// their own codes.
fn rejection(status: StatusCode, body: String, code: &'static str) -> Problem {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        s if s.is_server_error() => return Problem::internal(&body),
        _ => code,
    };
    Problem::new(status, code, body)
}

impl From<JsonRejection> for Problem {
    fn from(r: JsonRejection) -> Self {
        let status = match &r {
            // A body that is JSON but not of the expected shape is the caller's bad request
            // too; 422 is kept for data that fails a form or a rule.
            JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => r.status(),
        };
        let pointer = match &r {
            JsonRejection::JsonDataError(e) => data_error_path(&e.body_text()),
            _ => None,
        };
        let code = match status {
            StatusCode::UNPROCESSABLE_ENTITY => "invalid-body",
            _ => "bad-json",
        };
        let mut p = rejection(status, r.body_text(), code);
        if let Some(ptr) = pointer {
            p.errors = vec![FieldProblem::new(ptr, p.detail.clone())];
        }
        p
    }
}

/// The field serde complained about (`body.data.iin: invalid type ...` → `/data/iin`).
fn data_error_path(text: &str) -> Option<String> {
    let rest = text.split_once(": ")?.1;
    let (path, _) = rest.split_once(": ")?;
    if path.contains(' ') || path == "." {
        return None;
    }
    Some(format!(
        "/{}",
        path.split('.')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/")
    ))
}

impl From<PathRejection> for Problem {
    fn from(r: PathRejection) -> Self {
        rejection(StatusCode::BAD_REQUEST, r.body_text(), "bad-path")
    }
}

impl From<QueryRejection> for Problem {
    fn from(r: QueryRejection) -> Self {
        rejection(StatusCode::BAD_REQUEST, r.body_text(), "bad-query")
    }
}

impl From<BytesRejection> for Problem {
    fn from(r: BytesRejection) -> Self {
        rejection(r.status(), r.body_text(), "bad-body")
    }
}

/// `axum::Json` with problem+json rejections.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(Problem))]
pub struct Json<T>(pub T);

/// `axum::extract::Path` with problem+json rejections.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` with problem+json rejections.
#[derive(Debug, Clone, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct Query<T>(pub T);

/// The fallback for unknown routes.
pub async fn not_found() -> Problem {
    Problem::not_found("there is nothing at this address; the API is under /api/v1")
}

/// The fallback for a known route with another method (axum adds the `Allow` header).
pub async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this address does not accept this method; see the Allow header",
    )
}

/// The answer to a panic in a handler (tower-http's `CatchPanicLayer`).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Problem::internal(&"a handler panicked").into_response()
}

/// Middleware: any error response that is not problem+json yet (from a layer such as the
/// timeout, or a framework default) is rewritten as one, keeping its status and headers.
pub async fn ensure_problem_json(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "body-too-large",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        s if s.is_server_error() => "internal",
        _ => "bad-request",
    };
    let problem = Problem::new(status, code, title_of(status, code));
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Documented error responses: each listed status as problem+json.
fn problem_responses(
    statuses: &[(u16, &str)],
) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    statuses
        .iter()
        .map(|(status, description)| {
            (
                status.to_string(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(*description)
                        .content(
                            PROBLEM_JSON,
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build(),
                        )
                        .build(),
                ),
            )
        })
        .collect()
}

const E400: (u16, &str) = (400, "Malformed request: bad JSON, path or query");
const E401: (u16, &str) = (401, "Not signed in: no valid bearer token or session");
const E403: (u16, &str) = (
    403,
    "Signed in, but not allowed to do this (or, for a session, the password must be changed first: `password-change-required`)",
);
const E404: (u16, &str) = (404, "No such resource, or not visible to this user");
const E409: (u16, &str) = (
    409,
    "The state does not allow it: claimed by someone else, completed already, changed meanwhile",
);
const E413: (u16, &str) = (413, "The body is too large");
const E415: (u16, &str) = (415, "Unsupported content type");
const E422: (u16, &str) = (
    422,
    "The request is well-formed but its data fails: see `errors`",
);
const E429: (u16, &str) = (
    429,
    "Too many failed sign-ins for this login or from this address; see Retry-After",
);

macro_rules! responses {
    ($(#[$doc:meta])* $name:ident: $($e:ident),+) => {
        $(#[$doc])*
        pub struct $name;
        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                problem_responses(&[$($e),+])
            }
        }
    };
}

responses!(
    /// Errors of a read of a resource by id.
    ReadErrors: E400, E401, E403, E404
);
responses!(
    /// Errors of a read of a list.
    ListErrors: E400, E401, E403
);
responses!(
    /// Errors of a search: bad criteria are named in `errors`.
    SearchErrors: E400, E401, E403, E422
);
responses!(
    /// Errors of a command on a case or task.
    CommandErrors: E400, E401, E403, E404, E409, E413, E415, E422
);
responses!(
    /// Errors of starting a case or deploying a regulation.
    CreateErrors: E400, E401, E403, E404, E409, E413, E415, E422
);
responses!(
    /// Errors of signing in.
    LoginErrors: E400, E401, E403, E413, E415, E422, E429
);
responses!(
    /// Errors of a call that only needs a signed-in user.
    AuthErrors: E401
);
responses!(
    /// Errors of account administration.
    AdminErrors: E400, E401, E403, E404, E409, E413, E415, E422
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_paths_become_pointers() {
        assert_eq!(
            data_error_path(
                "Failed to deserialize the JSON body into the target type: data.iin: invalid type: integer `1`, expected a string at line 1 column 9"
            )
            .as_deref(),
            Some("/data/iin")
        );
        assert_eq!(
            data_error_path(
                "Failed to deserialize the JSON body into the target type: missing field `channel` at line 1 column 2"
            ),
            None
        );
    }

    #[test]
    fn every_refusal_of_the_engine_has_a_4xx_or_a_reason_for_5xx() {
        let e = CommandError::ClaimedByOther {
            task: reglament_runtime::TaskId(1),
            by: "x".into(),
        };
        let p = Problem::from(e);
        assert_eq!((p.status, p.code), (409, "claimed-by-other"));
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["type"], "urn:reglament:problem:claimed-by-other");
        assert_eq!(json["title"], "Claimed by someone else");
        assert!(json.get("errors").is_none());
    }
}

//! The JSON API under `/api/v1`, described by the OpenAPI 3.1 document served at
//! `/api/v1/openapi.json`, which is generated from these handlers and types (utoipa).
//!
//! Each module holds a few small handlers: authorisation is decided by
//! [`crate::auth::policy`], the work by the engine's [`Service`](reglament_store::Service)
//! and [`Store`](reglament_store::Store); errors are [`Problem`]s.

pub mod bulk;
pub mod cases;
pub mod deputies;
pub mod dto;
pub mod inbox;
pub mod incidents;
pub mod interventions;
pub mod migrations;
pub mod regulations;
pub mod replay;
pub mod search;
pub mod session;
pub mod system;
pub mod tasks;
pub mod users;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, LicenseBuilder, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CsrfHeaderRequired;
use crate::problem::{FieldProblem, Problem};
use crate::state::AppState;

/// The API's routes and the OpenAPI document built from them, as one router.
pub fn router(state: AppState) -> Router<AppState> {
    let (api, doc) = OpenApiRouter::<AppState>::new()
        .routes(routes!(cases::start))
        .routes(routes!(search::search))
        .routes(routes!(cases::get))
        .routes(routes!(cases::events))
        .routes(routes!(cases::system_result))
        .routes(routes!(cases::cancel))
        .routes(routes!(incidents::list))
        .routes(routes!(incidents::retry))
        .routes(routes!(replay::replay))
        .routes(routes!(inbox::inbox))
        .routes(routes!(tasks::claim))
        .routes(routes!(tasks::release))
        .routes(routes!(tasks::complete))
        .routes(routes!(tasks::reassign))
        .routes(routes!(tasks::suspend))
        .routes(routes!(tasks::resume))
        .routes(routes!(bulk::bulk))
        .routes(routes!(views::list, views::create))
        .routes(routes!(views::update, views::delete))
        .routes(routes!(regulations::list, regulations::deploy))
        .routes(routes!(regulations::get))
        .routes(routes!(regulations::diagram))
        .routes(routes!(regulations::bpmn))
        .routes(routes!(session::sign_in, session::sign_out))
        .routes(routes!(session::me))
        .routes(routes!(session::change_password))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::disable))
        .routes(routes!(system::healthz))
        .routes(routes!(system::metrics))
        .routes(routes!(
            crate::notify::api::get_settings,
            crate::notify::api::put_settings
        ))
        .routes(routes!(
            crate::notify::api::list_webhooks,
            crate::notify::api::add_webhook
        ))
        .routes(routes!(crate::notify::api::remove_webhook))
        .routes(routes!(crate::notify::api::case_notices))
        .routes(routes!(migrations::list, migrations::propose))
        .routes(routes!(migrations::get))
        .routes(routes!(migrations::approve))
        .routes(routes!(migrations::reject))
        .routes(routes!(interventions::preview))
        .routes(routes!(interventions::submit))
        .routes(routes!(interventions::list))
        .routes(routes!(interventions::get))
        .routes(routes!(interventions::approve))
        .routes(routes!(interventions::reject))
        .routes(routes!(deputies::list, deputies::create))
        .routes(routes!(deputies::get))
        .routes(routes!(deputies::end))
        .split_for_parts();
    let doc = Arc::new(document(doc));
    let openapi = Router::new().route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    );
    api.merge(openapi)
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::idempotency::middleware,
        ))
        // Cookie sessions must prove the request came from our page (see `auth`).
        .layer(axum::Extension(CsrfHeaderRequired))
}

/// The OpenAPI document: the paths from the handlers plus info and the security scheme.
pub fn document(mut doc: OpenApi) -> OpenApi {
    doc.info = InfoBuilder::new()
        .title("Reglament API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Runs Kazakhstan government service regulations as processes: start cases, work \
             role-based inboxes, record system results, deploy regulations. Every error is \
             application/problem+json (RFC 9457) with a stable `code`. State-changing POSTs \
             accept an `Idempotency-Key` header.",
        ))
        .license(Some(LicenseBuilder::new().name("Apache-2.0").build()))
        .build();
    constrain_idempotency_key(&mut doc);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token (`reglament token create`) or a session token from POST /api/v1/session",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "metrics",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The metrics token the server was started with (`--metrics-token`)",
                ))
                .build(),
        ),
    );
    use utoipa::PartialSchema as _;
    components
        .schemas
        .insert("Problem".to_string(), crate::problem::ProblemDoc::schema());
    components.schemas.insert(
        "FieldProblem".to_string(),
        crate::problem::FieldProblem::schema(),
    );
    // Query parameters of enum types refer to their schemas; the routes do not collect those.
    components.schemas.insert(
        "InboxStatusParam".to_string(),
        inbox::InboxStatusParam::schema(),
    );
    components
        .schemas
        .insert("LangParam".to_string(), regulations::LangParam::schema());
    doc
}

/// Gives every `Idempotency-Key` header parameter the rules the middleware checks
/// ([`crate::idempotency`]): 1 to 255 visible ASCII characters.
fn constrain_idempotency_key(doc: &mut OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            for p in op.parameters.iter_mut().flatten() {
                if let RefOr::T(p) = p
                    && p.name.eq_ignore_ascii_case(crate::idempotency::HEADER)
                {
                    p.schema = Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(255))
                            .pattern(Some("^[!-~]+$"))
                            .into(),
                    );
                }
            }
        }
    }
}

/// Case ids given by clients: letters, digits, `.`, `_`, `-`; 1 to 64 characters; not
/// starting with punctuation. `:` is left out because it separates case and task in task ids.
pub fn valid_case_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id.as_bytes()[0].is_ascii_alphanumeric()
}

/// A task's id in the API: `<case id>:<task number>`.
pub fn task_id(case: &str, task: u32) -> String {
    format!("{case}:{task}")
}

/// Splits a task id; `None` if it cannot be one (then there is no such task: 404).
pub fn parse_task_id(id: &str) -> Option<(String, u32)> {
    let (case, n) = id.rsplit_once(':')?;
    let n: u32 = n.parse().ok()?;
    (valid_case_id(case) && n > 0).then(|| (case.to_string(), n))
}

/// A 422 for one field.
pub fn field_error(code: &'static str, pointer: &str, detail: impl Into<String>) -> Problem {
    let detail = detail.into();
    Problem::unprocessable(code, detail.clone())
        .with_errors(vec![FieldProblem::new(pointer, detail)])
}

/// Handlers return this.
pub type ApiResult<T = Response> = Result<T, Problem>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_split_at_the_last_colon() {
        assert_eq!(parse_task_id("ATR-1.2:3"), Some(("ATR-1.2".into(), 3)));
        assert_eq!(parse_task_id("ATR:0"), None);
        assert_eq!(parse_task_id("a:b:3"), None);
        assert_eq!(parse_task_id("nocolon"), None);
        assert!(valid_case_id("DEMO-atyrau-city-1"));
        assert!(!valid_case_id("-x"));
        assert!(!valid_case_id("a/b"));
    }
}

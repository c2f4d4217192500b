//! `GET/POST /notifications`: the caller's own notification settings, the page the footer of
//! every notice e-mail points to. The rules are the API's (`PUT /api/v1/me/notifications`,
//! [`crate::notify::api::profile_of`]): an address lettre accepts, a language, and per kind
//! of notice when it comes (the digest only at the opening, or never).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use reglament_model::text::Lang;

use super::{Ctx, Page, WebResult, render_status};
use crate::notify::api::{SettingsDto, profile_of};
use crate::notify::tables::{self, DIGEST, Mode, Profile, STAFF_KINDS};
use crate::state::AppState;

/// One kind of notice on the page: its key, its label, and its modes (value, label, chosen).
pub struct KindRow {
    pub kind: &'static str,
    pub label: String,
    pub modes: Vec<(&'static str, String, bool)>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    page: Page,
    email: String,
    /// `(code, name, chosen)`.
    languages: Vec<(&'static str, &'static str, bool)>,
    kinds: Vec<KindRow>,
    errors: Vec<String>,
}

fn render(ctx: &Ctx, p: &Profile, errors: Vec<String>, status: StatusCode) -> Response {
    let kinds = STAFF_KINDS
        .iter()
        .map(|kind| {
            let chosen = p.mode(kind);
            let modes: &[Mode] = if *kind == DIGEST {
                &[Mode::Opening, Mode::Off]
            } else {
                &[Mode::Now, Mode::Opening, Mode::Off]
            };
            KindRow {
                kind,
                label: ctx.t(&format!("notify_kind_{kind}")).to_string(),
                modes: modes
                    .iter()
                    .map(|m| {
                        let key = format!("notify_mode_{}", m.as_str());
                        (m.as_str(), ctx.t(&key).to_string(), *m == chosen)
                    })
                    .collect(),
            }
        })
        .collect();
    let languages = [
        (Lang::Kk, "Қазақша"),
        (Lang::Ru, "Русский"),
        (Lang::En, "English"),
    ]
    .into_iter()
    .map(|(l, name)| (l.code(), name, l == p.language))
    .collect();
    render_status(
        status,
        &NotificationsPage {
            page: ctx.page(ctx.t("notify_title")),
            email: p.email.clone().unwrap_or_default(),
            languages,
            kinds,
            errors,
        },
    )
}

/// `GET /notifications`.
pub async fn form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let p = ctx.user()?;
    let profile = tables::profile(&state.store, &p.login)
        .await
        .map_err(|e| ctx.problem(e.into()))?;
    Ok(render(&ctx, &profile, Vec::new(), StatusCode::OK))
}

/// `POST /notifications`: `email`, `language`, and `mode_<kind>` for each kind.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let mut choices = std::collections::BTreeMap::new();
    for kind in STAFF_KINDS {
        if let Some(m) = form.get(&format!("mode_{kind}")).and_then(Mode::parse) {
            choices.insert(kind.to_string(), m);
        }
    }
    let dto = SettingsDto {
        email: form.get("email").map(str::to_string),
        language: form.get("language").unwrap_or_default().to_string(),
        choices,
    };
    let profile = match profile_of(dto.clone()) {
        Ok(p) => p,
        Err(_) => {
            // Shown back as typed: the address is what a person can get wrong in a form of
            // selects; anything else was not sent by this page.
            let shown = Profile {
                email: dto.email.clone(),
                language: Lang::parse(&dto.language).unwrap_or(ctx.lang),
                modes: STAFF_KINDS
                    .iter()
                    .map(|k| {
                        let m = dto
                            .choices
                            .get(*k)
                            .copied()
                            .unwrap_or_else(|| tables::default_mode(k));
                        (k.to_string(), m)
                    })
                    .collect(),
            };
            let bad_email = dto
                .email
                .as_deref()
                .map(str::trim)
                .is_some_and(|e| !e.is_empty() && !crate::notify::api::valid_email(e));
            let error = ctx
                .t(if bad_email {
                    "notify_bad_email"
                } else {
                    "bad_form"
                })
                .to_string();
            return Ok(render(
                &ctx,
                &shown,
                vec![error],
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    tables::set_profile(
        &state.store,
        &principal.login,
        &profile,
        reglament_store::rows::micros(state.now()),
    )
    .await
    .map_err(|e| ctx.problem(e.into()))?;
    Ok(super::redirect("/notifications?notice=notify_saved"))
}

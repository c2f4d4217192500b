//! The notification API: each user's own settings (`/api/v1/me/notifications`), the
//! webhook subscribers for administrators (`/api/v1/webhooks`, secrets never shown back),
//! and a case's notices with their deliveries (`/api/v1/cases/{id}/notices`, administrators).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use reglament_model::text::Lang;
use reglament_store::rows::{instant, micros};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tables::{self, Mode, Profile, STAFF_KINDS, WEBHOOK_EVENTS};
use crate::api::{ApiResult, field_error};
use crate::auth::Principal;
use crate::problem::{AdminErrors, AuthErrors, Json, Path, Problem, ReadErrors};
use crate::state::AppState;

/// A user's notification settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsDto {
    /// Where e-mail notices go; none without it.
    #[serde(default)]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// The language of the notices: `kk`, `ru` or `en`.
    pub language: String,
    /// Per kind of notice (`task`, `warning`, `breach`, `escalation`): `now`, `opening` (at
    /// the next opening of the office, the default) or `off`; and `digest`, the daily list of
    /// the office's overdue tasks at its opening: `opening` or `off` (the default).
    #[serde(default)]
    pub choices: BTreeMap<String, Mode>,
}

impl From<Profile> for SettingsDto {
    fn from(p: Profile) -> Self {
        SettingsDto {
            email: p.email,
            language: p.language.code().to_string(),
            choices: p.modes.into_iter().collect(),
        }
    }
}

/// An e-mail address as lettre reads it, without display name.
pub fn valid_email(e: &str) -> bool {
    e.len() <= 254 && e.parse::<lettre::Address>().is_ok()
}

/// Checks settings from a client and makes them a profile.
pub fn profile_of(dto: SettingsDto) -> Result<Profile, Problem> {
    let email = dto
        .email
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    if let Some(e) = &email
        && !valid_email(e)
    {
        return Err(field_error(
            "bad-email",
            "/email",
            "not an e-mail address such as name@example.kz",
        ));
    }
    let Some(language) = Lang::parse(&dto.language) else {
        return Err(field_error("bad-language", "/language", "kk, ru or en"));
    };
    if let Some(k) = dto
        .choices
        .keys()
        .find(|k| !STAFF_KINDS.contains(&k.as_str()))
    {
        return Err(field_error(
            "bad-choice",
            &format!("/choices/{k}"),
            format!("no kind of notice `{k}`: {}", STAFF_KINDS.join(", ")),
        ));
    }
    // The digest is made at the opening: "at once" has no meaning for it.
    if dto.choices.get(tables::DIGEST) == Some(&Mode::Now) {
        return Err(field_error(
            "bad-choice",
            "/choices/digest",
            "the digest comes at the opening of the office: `opening` or `off`",
        ));
    }
    let modes = STAFF_KINDS
        .iter()
        .map(|k| {
            (
                k.to_string(),
                dto.choices
                    .get(*k)
                    .copied()
                    .unwrap_or_else(|| tables::default_mode(k)),
            )
        })
        .collect();
    Ok(Profile {
        email,
        language,
        modes,
    })
}

/// The caller's notification settings.
#[utoipa::path(
    get,
    path = "/api/v1/me/notifications",
    tag = "notifications",
    responses((status = 200, description = "The settings", body = SettingsDto), AuthErrors),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<SettingsDto>> {
    let p = tables::profile(&state.store, &principal.login).await?;
    Ok(axum::Json(p.into()))
}

/// Replaces the caller's notification settings.
#[utoipa::path(
    put,
    path = "/api/v1/me/notifications",
    tag = "notifications",
    request_body = SettingsDto,
    responses((status = 200, description = "The settings as stored", body = SettingsDto), AdminErrors),
    security(("bearer" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<SettingsDto>,
) -> ApiResult<axum::Json<SettingsDto>> {
    let profile = profile_of(body)?;
    tables::set_profile(
        &state.store,
        &principal.login,
        &profile,
        micros(state.now()),
    )
    .await?;
    Ok(axum::Json(profile.into()))
}

/// A webhook subscriber as shown back: never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDto {
    pub id: String,
    pub url: String,
    /// What it hears: `registered`, `result_ready`, `cancelled`.
    pub events: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub reason: String,
}

impl From<tables::Webhook> for WebhookDto {
    fn from(w: tables::Webhook) -> Self {
        WebhookDto {
            events: w.events.split(',').map(str::to_string).collect(),
            id: w.id,
            url: w.url,
            created_by: w.created_by,
            created_at: instant(w.created_at),
            reason: w.reason,
        }
    }
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookDto {
    /// Lower-case letters, digits and `-`, 1 to 40 characters (e.g. `egov-portal`).
    pub id: String,
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    /// The key of the HMAC-SHA256 signature, shared with the subscriber: 16 to 256
    /// characters. Never shown back.
    #[schema(min_length = 16, max_length = 256)]
    pub secret: String,
    /// What it hears (all three when missing).
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// Why it is added (kept with it).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

fn valid_hook_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The webhook subscribers.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "notifications",
    responses((status = 200, description = "The subscribers (without their secrets)", body = Vec<WebhookDto>), AdminErrors),
    security(("bearer" = []))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<WebhookDto>>> {
    principal.grants().manage_users()?;
    let hooks = tables::webhooks(&state.store).await?;
    Ok(axum::Json(
        hooks.into_iter().map(WebhookDto::from).collect(),
    ))
}

/// Adds a webhook subscriber.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "notifications",
    request_body = NewWebhookDto,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first response")),
    responses((status = 201, description = "Added", body = WebhookDto), AdminErrors),
    security(("bearer" = []))
)]
pub async fn add_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewWebhookDto>,
) -> ApiResult {
    principal.grants().manage_users()?;
    if !valid_hook_id(&body.id) {
        return Err(field_error(
            "bad-webhook-id",
            "/id",
            "1 to 40 lower-case letters, digits or `-`",
        ));
    }
    if let Err(why) = super::webhook::valid_url(&body.url) {
        return Err(field_error("bad-url", "/url", why));
    }
    let secret_len = body.secret.chars().count();
    if !(16..=256).contains(&secret_len) || body.secret.chars().any(char::is_control) {
        return Err(field_error(
            "bad-secret",
            "/secret",
            "a secret is 16 to 256 characters, with no control characters",
        ));
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > crate::limits::MAX_REASON {
        return Err(field_error(
            "bad-reason",
            "/reason",
            "say why, in 1 to 2000 characters",
        ));
    }
    let events = body
        .events
        .unwrap_or_else(|| WEBHOOK_EVENTS.iter().map(|e| e.to_string()).collect());
    if let Some((i, e)) = events
        .iter()
        .enumerate()
        .find(|(_, e)| !WEBHOOK_EVENTS.contains(&e.as_str()))
    {
        return Err(field_error(
            "bad-event",
            &format!("/events/{i}"),
            format!("no event `{e}`: {}", WEBHOOK_EVENTS.join(", ")),
        ));
    }
    if events.is_empty() {
        return Err(field_error(
            "bad-event",
            "/events",
            "name at least one event",
        ));
    }
    let hook = tables::Webhook {
        id: body.id.clone(),
        url: body.url,
        secret: body.secret,
        events: events.join(","),
        created_by: principal.login.to_string(),
        created_at: micros(state.now()),
        reason: reason.to_string(),
    };
    if !tables::add_webhook(&state.store, &hook).await? {
        return Err(Problem::conflict(
            "webhook-exists",
            format!("a subscriber `{}` exists or existed", body.id),
        ));
    }
    tracing::info!(id = %hook.id, by = %principal.login, "webhook subscriber added");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/webhooks/{}", body.id))],
        axum::Json(WebhookDto::from(hook)),
    )
        .into_response())
}

/// Removes a webhook subscriber; what it has not received yet is given up.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "notifications",
    params(("id" = String, Path, description = "The subscriber")),
    responses((status = 204, description = "Removed"), AdminErrors),
    security(("bearer" = []))
)]
pub async fn remove_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult {
    principal.grants().manage_users()?;
    if !tables::remove_webhook(&state.store, &id, micros(state.now())).await? {
        return Err(Problem::not_found(format!("no subscriber `{id}`")));
    }
    tracing::info!(%id, by = %principal.login, "webhook subscriber removed");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A notice and its delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NoticeDto {
    /// Also the webhook's `Idempotency-Key` and the e-mail's Message-ID.
    pub id: String,
    pub kind: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// A login, or a subscriber's id.
    pub recipient: String,
    pub language: String,
    pub created_at: DateTime<Utc>,
    /// Not sent before (office hours).
    pub not_before: DateTime<Utc>,
    /// `pending`, `delivered`, `failed` (given up).
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<tables::Notice> for NoticeDto {
    fn from(n: tables::Notice) -> Self {
        NoticeDto {
            next_attempt_at: (n.status == "pending").then(|| instant(n.next_at)),
            id: n.id,
            kind: n.kind,
            channel: n.channel,
            recipient: n.recipient,
            language: n.language,
            created_at: instant(n.created_at),
            not_before: instant(n.not_before),
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error,
            delivered_at: n.delivered_at.map(instant),
        }
    }
}

/// A case's notices with their deliveries (administrators).
#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}/notices",
    tag = "notifications",
    params(("id" = String, Path, description = "The case")),
    responses((status = 200, description = "The notices, oldest first", body = Vec<NoticeDto>), ReadErrors),
    security(("bearer" = []))
)]
pub async fn case_notices(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<NoticeDto>>> {
    principal.grants().manage_users()?;
    let notices = tables::of_case(&state.store, &id).await?;
    Ok(axum::Json(
        notices.into_iter().map(NoticeDto::from).collect(),
    ))
}

//! Signing in and out with the session cookie, and the language switch.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{
    Ctx, LANG_COOKIE, LOGIN_CSRF_COOKIE, Page, WebResult, cookie, local_target, render_status,
};
use crate::auth::login::{self, ClientIp};
use crate::auth::secret;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    page: Page,
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

fn login_csrf_cookie(value: &str) -> String {
    format!("{LOGIN_CSRF_COOKIE}={value}; Path=/signin; HttpOnly; SameSite=Strict; Max-Age=3600")
}

fn signin_page(
    ctx: &Ctx,
    status: StatusCode,
    next: &str,
    login: &str,
    error: Option<String>,
) -> Response {
    let csrf = match secret::random_bytes(16) {
        Ok(b) => secret::hex(&b),
        Err(e) => {
            tracing::error!(error = %e, "no randomness for the sign-in form");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let page = SignInPage {
        page: ctx.page(ctx.t("sign_in")),
        csrf: csrf.clone(),
        next: next.to_string(),
        login: login.to_string(),
        error,
    };
    let mut r = render_status(status, &page);
    if let Ok(v) = login_csrf_cookie(&csrf).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET /signin`: the form (or on to the inbox when signed in already).
pub async fn form(ctx: Ctx, Query(q): Query<NextParam>) -> Response {
    let next = local_target(q.next.as_deref().unwrap_or("/inbox"));
    if ctx.principal.is_some() {
        return super::redirect(&next);
    }
    signin_page(&ctx, StatusCode::OK, &next, "", None)
}

/// `POST /signin`.
pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> WebResult {
    let form = ctx.form(&body)?;
    let next = local_target(form.get("next").unwrap_or("/inbox"));
    let login_text = form.get("login").unwrap_or_default().trim().to_string();
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let supplied = form.get("_csrf").unwrap_or_default();
    if expected.is_empty() || !secret::constant_time_eq(expected, supplied) {
        return Err(ctx.csrf_failed());
    }
    let password_text = form.get("password").unwrap_or_default();
    if login_text.is_empty() || login_text.len() > 128 || password_text.len() > 1024 {
        let msg = ctx.t("wrong_password").to_string();
        return Ok(signin_page(
            &ctx,
            StatusCode::UNAUTHORIZED,
            &next,
            &login_text,
            Some(msg),
        ));
    }
    let device = login::device_cookie(&headers);
    match login::sign_in(&state, &login_text, password_text, ip, device.as_deref()).await {
        Ok(session) => {
            let cookie = login::session_cookie(
                &session.secret,
                state.config.session_ttl,
                state.config.secure_cookies,
            );
            // A password someone else set is changed first; then on to `next`.
            let mut r = if session.principal.held_for_password_change() {
                let q = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                super::redirect(&format!("/password?{q}"))
            } else {
                super::redirect(&next)
            };
            let device_cookie =
                login::device_set_cookie(&session.device, state.config.secure_cookies);
            for c in [cookie, device_cookie] {
                if let Ok(v) = c.parse() {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            if let Ok(v) = format!("{LOGIN_CSRF_COOKIE}=; Path=/signin; Max-Age=0").parse() {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(p) => {
            let status = p.status();
            let key = if status == StatusCode::TOO_MANY_REQUESTS {
                "rate_limited"
            } else if status == StatusCode::UNAUTHORIZED {
                "wrong_password"
            } else {
                return Err(ctx.problem(p));
            };
            let msg = ctx.t(key).to_string();
            Ok(signin_page(&ctx, status, &next, &login_text, Some(msg)))
        }
    }
}

/// `POST /signout`.
pub async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult {
    let form = ctx.form(&body)?;
    let p = ctx.check_csrf(&form)?;
    login::sign_out(&state, p)
        .await
        .map_err(|e| ctx.problem(e))?;
    let mut r = super::redirect("/signin");
    if let Ok(v) = login::clear_cookie().parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Debug, Deserialize)]
pub struct BackParam {
    back: Option<String>,
}

/// `GET /lang/{code}?back=/path`: remembers the language in a cookie and goes back.
pub async fn set_lang(Path(code): Path<String>, Query(q): Query<BackParam>) -> Response {
    let back = local_target(q.back.as_deref().unwrap_or("/inbox"));
    let mut r = super::redirect(&back);
    if reglament_model::text::Lang::parse(&code).is_some()
        && let Ok(v) =
            format!("{LANG_COOKIE}={code}; Path=/; SameSite=Lax; Max-Age=31536000").parse()
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

//! Signing in with a password, with throttling ([`super::throttle`]), and signing out. The
//! API's `POST/DELETE /api/v1/session` and the web interface's sign-in form both call these.
//!
//! Every successful sign-in also gives the client a **device cookie** (`reglament_device`,
//! HTTP-only, a random secret of which only the hash is kept, with the login). Coming back
//! with it marks the attempt as from a known device, which throttling counts on its own.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};

use super::throttle::{Attempt, Refused};
use super::{Principal, Via, password, secret};
use crate::problem::Problem;
use crate::state::AppState;

/// The device cookie.
pub const DEVICE_COOKIE: &str = "reglament_device";
/// Prefix of device cookie secrets.
pub const DEVICE_PREFIX: &str = "rgd_";
/// How long a device stays known after its last successful sign-in.
pub const DEVICE_TTL: Duration = Duration::from_secs(180 * 86_400);
/// The most attempts read to decide on one (a bound on the work a flood can cause).
const ATTEMPTS_READ: i64 = 5_000;

/// A new session: the secret goes to the client once (cookie or bearer), only its hash is kept.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    pub principal: Principal,
    /// The device cookie's value to set (the one that came, or a new one).
    pub device: String,
}

fn throttled(r: Refused) -> Problem {
    let secs = r.retry_after.as_secs().max(1);
    let wait = if secs < 120 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    };
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        format!(
            "too many failed sign-ins for this login or from this address; try again in {wait}"
        ),
    )
    .with_header(header::RETRY_AFTER, &secs.to_string())
}

/// The device cookie of a request, if it has a well-formed one.
pub fn device_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| {
            v.strip_prefix(DEVICE_PREFIX)
                .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .map(str::to_string)
}

/// The `Set-Cookie` value for a device cookie.
pub fn device_set_cookie(secret: &str, secure: bool) -> String {
    format!(
        "{DEVICE_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        DEVICE_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// Checks a password and opens a session. `device` is the request's device cookie.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    password_text: &str,
    ip: IpAddr,
    device: Option<&str>,
) -> Result<NewSession, Problem> {
    let now = state.now();
    let throttle = state.config.throttle;
    let ip_text = ip.to_string();
    let device_hash = device.map(secret::sha256_hex);
    let seen_after = now - chrono::Duration::from_std(DEVICE_TTL).unwrap_or_default();
    let known = match &device_hash {
        Some(h) => state.accounts.known_device(h, login, seen_after).await?,
        None => false,
    };
    let known_hash = device_hash.as_deref().filter(|_| known);
    let since = now - chrono::Duration::from_std(throttle.window).unwrap_or_default();
    let attempts = state
        .accounts
        .login_attempts_since(login, &ip_text, since, ATTEMPTS_READ)
        .await?;
    let attempt = Attempt {
        login,
        ip: &ip_text,
        device: known_hash,
    };
    if let Err(refused) = throttle.check(attempt, &attempts, now) {
        state.metrics.count_throttled(refused.reason);
        tracing::warn!(
            login,
            ip = %ip_text,
            known_device = known,
            reason = refused.reason.as_str(),
            retry_after_s = refused.retry_after.as_secs(),
            "sign-in refused: throttled"
        );
        return Err(throttled(refused));
    }
    let user = state.accounts.user(login).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(password_text.to_string(), stored).await;
    let ok = matches && user.as_ref().is_some_and(|u| !u.disabled);
    state
        .accounts
        .record_login_attempt(login, &ip_text, known_hash, ok, now)
        .await?;
    state.metrics.count_login(ok);
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!(login, ip = %ip_text, known_device = known, "sign-in failed");
        return Err(Problem::unauthorized(
            "the login or the password is wrong, or the account is disabled",
        ));
    };
    let random = |e: secret::RandomError| Problem::internal(&e);
    let session = secret::new_secret(secret::SESSION_PREFIX).map_err(random)?;
    let csrf = secret::hex(&secret::random_bytes(16).map_err(random)?);
    let hash = secret::sha256_hex(&session);
    let expires_at = now + chrono::Duration::from_std(state.config.session_ttl).unwrap_or_default();
    state
        .accounts
        .create_session(&hash, &user.login, &csrf, now, expires_at)
        .await?;
    let device = match device {
        Some(d) => d.to_string(),
        None => secret::new_secret(DEVICE_PREFIX).map_err(random)?,
    };
    state
        .accounts
        .remember_device(&secret::sha256_hex(&device), &user.login, now)
        .await?;
    tracing::info!(login, ip = %ip_text, known_device = known, "signed in");
    let via = Via::Session {
        secret_hash: Arc::from(hash.as_str()),
        csrf: Arc::from(csrf.as_str()),
        cookie: false,
    };
    let acting = crate::deputies::acting(&state.store, &user.login, now).await?;
    Ok(NewSession {
        secret: session,
        csrf,
        expires_at,
        principal: Principal::from_user(user, acting, via),
        device,
    })
}

/// Ends the caller's session (a token caller has none to end).
pub async fn sign_out(state: &AppState, principal: &Principal) -> Result<(), Problem> {
    if let Via::Session { secret_hash, .. } = &principal.via {
        state.accounts.delete_session(secret_hash).await?;
        state.auth.forget(secret_hash);
    }
    Ok(())
}

/// The `Set-Cookie` value for a new session.
pub fn session_cookie(secret: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        super::SESSION_COOKIE,
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        super::SESSION_COOKIE
    )
}

/// The client's address: the connection's peer, or the first `X-Forwarded-For` entry when
/// the server is configured to trust its proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return Ok(ClientIp(ip));
        }
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(
            peer.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

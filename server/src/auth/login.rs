//! Signing in with a password, with rate limiting, and signing out. The API's `POST/DELETE
//! /api/v1/session` and the web interface's sign-in form both call these.
//!
//! Rate limiting counts failed attempts in the database over a sliding window, per login and
//! per client address, so it holds across restarts and across server processes sharing a
//! PostgreSQL database. Past either limit the answer is 429 with `Retry-After`, before any
//! password is checked (a guesser gets no signal and costs no argon2 work).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};

use super::{Principal, Via, password, secret};
use crate::app::AppState;
use crate::problem::Problem;

/// How many failed sign-ins are tolerated within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_login: i64,
    pub per_ip: i64,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_login: 5,
            per_ip: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// A new session: the secret goes to the client once (cookie or bearer), only its hash is kept.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    pub principal: Principal,
}

fn rate_limited(window: Duration) -> Problem {
    let secs = window.as_secs().max(1);
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        format!(
            "too many failed sign-ins for this login or from this address; try again in {} minutes",
            secs.div_ceil(60)
        ),
    )
    .with_header(header::RETRY_AFTER, &secs.to_string())
}

/// Checks a password and opens a session.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    password_text: &str,
    ip: IpAddr,
) -> Result<NewSession, Problem> {
    let now = state.now();
    let limits = state.config.login_limits;
    let window_start = now - chrono::Duration::from_std(limits.window).unwrap_or_default();
    let ip_text = ip.to_string();
    let (by_login, by_ip) = state
        .accounts
        .login_failures(login, &ip_text, window_start)
        .await?;
    if by_login >= limits.per_login || by_ip >= limits.per_ip {
        state.metrics.count_login(false, true);
        tracing::warn!(login, ip = %ip_text, "sign-in refused: rate limit");
        return Err(rate_limited(limits.window));
    }
    let user = state.accounts.user(login).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(password_text.to_string(), stored).await;
    let ok = matches && user.as_ref().is_some_and(|u| !u.disabled);
    state
        .accounts
        .record_login_attempt(login, &ip_text, ok, now)
        .await?;
    state.metrics.count_login(ok, false);
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!(login, ip = %ip_text, "sign-in failed");
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
    tracing::info!(login, ip = %ip_text, "signed in");
    let via = Via::Session {
        secret_hash: Arc::from(hash.as_str()),
        csrf: Arc::from(csrf.as_str()),
        cookie: false,
    };
    Ok(NewSession {
        secret: session,
        csrf,
        expires_at,
        principal: Principal::from_user(user, via),
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

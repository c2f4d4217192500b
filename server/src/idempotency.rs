//! `Idempotency-Key` on state-changing `POST`s: the first response to a key is kept for a day
//! (per user), and a retry with the same key and the same request gets that response again,
//! marked `Idempotency-Replayed: true`, instead of a second effect. The same key with a
//! different request is refused (422); a retry while the first is still running gets 409.
//!
//! Without a key, the engine's own rules still make double submissions harmless: a second
//! claim by the same user changes nothing, a second completion is a 409 (`task-not-open`).
//!
//! The request is handled on a task of its own once its key is taken, so a client that hangs
//! up halfway cannot leave the key taken with no answer recorded.

use crate::accounts::{IdempotencyBegin, StoredResponse};
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::auth::{Principal, secret};
use crate::problem::Problem;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotency-replayed";

/// Responses larger than this are not kept (none of the API's command answers come close).
const MAX_KEPT: usize = 4 * 1024 * 1024;

pub async fn middleware(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    if !request.headers().contains_key(HEADER) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    // Signing in is idempotent by nature and has nobody to keep the key for; a request
    // without valid credentials gets its 401 from the handler, before the key is looked at.
    let principal = match Principal::from_request_parts(&mut parts, &state).await {
        Ok(p) => p,
        Err(_) => return next.run(Request::from_parts(parts, body)).await,
    };
    let key = match parts.headers.get(HEADER).map(HeaderValue::to_str) {
        Some(Ok(k)) if valid_key(k) => k.to_string(),
        _ => {
            return Problem::bad_request(
                "bad-idempotency-key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    let bytes = match to_bytes(body, state.config.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                format!("the body is larger than {} bytes", state.config.body_limit),
            )
            .into_response();
        }
    };
    let fingerprint = {
        let mut h = Sha256::new();
        h.update(parts.method.as_str().as_bytes());
        h.update(b" ");
        h.update(parts.uri.path().as_bytes());
        h.update(b"?");
        h.update(parts.uri.query().unwrap_or_default().as_bytes());
        h.update(b"\n");
        h.update(&bytes);
        secret::hex(&h.finalize())
    };
    let now = state.now();
    let stale = now - chrono::Duration::from_std(state.config.idempotency_ttl).unwrap_or_default();
    let begun = match state
        .accounts
        .idempotency_begin(&principal.login, &key, &fingerprint, now, stale)
        .await
    {
        Ok(b) => b,
        Err(e) => return Problem::from(e).into_response(),
    };
    match begun {
        IdempotencyBegin::Replay(kept) => replay(kept),
        IdempotencyBegin::InFlight => Problem::conflict(
            "idempotency-key-in-flight",
            "a request with this Idempotency-Key is still being handled; retry shortly",
        )
        .with_header(header::RETRY_AFTER, "1")
        .into_response(),
        IdempotencyBegin::Mismatch => Problem::unprocessable(
            "idempotency-key-reused",
            "this Idempotency-Key was used for a different request; use a new key",
        )
        .into_response(),
        IdempotencyBegin::New => {
            let request = Request::from_parts(parts, Body::from(bytes));
            let login = principal.login.to_string();
            let task = tokio::spawn(async move {
                let response = next.run(request).await;
                keep(&state, &login, &key, response).await
            });
            task.await
                .unwrap_or_else(|_| Problem::internal(&"the request's task failed").into_response())
        }
    }
}

fn valid_key(k: &str) -> bool {
    (1..=255).contains(&k.len()) && k.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Records the response for the key (or gives the key back after a server error, so that
/// a retry runs again), and returns it.
async fn keep(state: &AppState, login: &str, key: &str, response: Response) -> Response {
    let status = response.status();
    if status.is_server_error() {
        if let Err(e) = state.accounts.idempotency_abort(login, key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_KEPT).await {
        Ok(b) => b,
        Err(e) => {
            let _ = state.accounts.idempotency_abort(login, key).await;
            return Problem::internal(&e).into_response();
        }
    };
    let header_text = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let kept = StoredResponse {
        status: status.as_u16(),
        content_type: header_text(header::CONTENT_TYPE),
        location: header_text(header::LOCATION),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    if let Err(e) = state.accounts.idempotency_finish(login, key, &kept).await {
        tracing::warn!(error = %e, "could not keep the response of an idempotent request");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(kept: StoredResponse) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut response = (status, kept.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, kept.content_type),
        (header::LOCATION, kept.location),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_visible_ascii() {
        assert!(super::valid_key("a-b_c.1"));
        assert!(!super::valid_key(""));
        assert!(!super::valid_key("with space"));
        assert!(!super::valid_key(&"x".repeat(256)));
    }
}

//! "Where is my application?": the public status page (`/status`, no sign-in). With the
//! receipt's registration number and the applicant's ИИН, anyone sees the case's status and
//! the due date of the result, and nothing else.
//!
//! - The ИИН travels in a POST body, never in a URL (which logs and browser histories keep).
//! - A wrong number and a wrong ИИН get the same page, byte for byte, and as far as timing
//!   goes the same work: the given ИИН's SHA-256 is compared in constant time with the
//!   case's, or with a stand-in when there is no such case, and every answer to a lookup is
//!   held back to [`FLOOR`] after the request came, which covers the difference between
//!   reading a case and finding none.
//! - Lookups are limited per client address ([`Limiter`], `--status-limit` per hour); over
//!   the limit the page answers 429 without looking.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use reglament_runtime::{CaseId, CaseStatus};
use serde_json::Value;
use sha2::Digest as _;

use super::{Ctx, Page, WebResult, render, render_status};
use crate::auth::login::ClientIp;
use crate::state::AppState;

/// The least time an answer to a lookup takes.
pub const FLOOR: Duration = Duration::from_millis(250);

/// Lookups per client address in a sliding hour; `Config::status_limit` overrides.
pub const DEFAULT_LIMIT: u32 = 30;
const WINDOW_MICROS: i64 = 3_600_000_000;

/// Lookups per client address: the instants of those in the last hour. Addresses whose
/// lookups all left the window are dropped as the map is visited.
#[derive(Debug, Default)]
pub struct Limiter {
    seen: Mutex<HashMap<IpAddr, Vec<i64>>>,
}

impl Limiter {
    /// Counts a lookup from `ip` at `now` (microseconds); `false`: over `limit`, refused and
    /// not counted.
    pub fn allow(&self, ip: IpAddr, now: i64, limit: u32) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() > 100_000 {
            seen.retain(|_, v| v.last().is_some_and(|t| now - t < WINDOW_MICROS));
        }
        let v = seen.entry(ip).or_default();
        v.retain(|t| now - t < WINDOW_MICROS);
        if v.len() >= limit as usize {
            return false;
        }
        v.push(now);
        true
    }
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    page: Page,
    number: String,
    /// The answer to a lookup: (status, due date).
    found: Option<(String, String)>,
    /// Why a lookup shows nothing (the one message for every failure).
    error: Option<String>,
}

/// `GET /status`: the form.
pub async fn form(
    ctx: Ctx,
    q: Result<axum::extract::Query<Prefill>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // The receipt's QR code opens this page with the number filled in; only the ИИН is asked.
    // A malformed query is only a page without the number.
    let number = q
        .ok()
        .and_then(|axum::extract::Query(q)| q.number)
        .filter(|n| {
            n.len() <= 64
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        })
        .unwrap_or_default();
    render(&StatusPage {
        page: ctx.page(ctx.t("status_title")),
        number,
        found: None,
        error: None,
    })
}

/// `GET /status?number=…`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Prefill {
    number: Option<String>,
}

/// `POST /status`: the lookup.
pub async fn lookup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let started = tokio::time::Instant::now();
    let form = ctx.form(&body)?;
    let number = form.get("number").unwrap_or_default().trim().to_string();
    let iin = form.get("iin").unwrap_or_default().trim().to_string();
    let page = ctx.page(ctx.t("status_title"));
    let limit = state.config.status_limit;
    let now = state.now();
    if !state
        .status_limiter
        .allow(ip, reglament_store::rows::micros(now), limit)
    {
        tokio::time::sleep_until(started + FLOOR).await;
        return Ok(render_status(
            StatusCode::TOO_MANY_REQUESTS,
            &StatusPage {
                page,
                number: String::new(),
                found: None,
                error: Some(ctx.t("status_too_many").to_string()),
            },
        ));
    }
    let found = find(&state, &ctx, &number, &iin).await;
    tokio::time::sleep_until(started + FLOOR).await;
    let error = found
        .is_none()
        .then(|| ctx.t("status_not_found").to_string());
    let status = if found.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    // The number is shown back only when it matched: a miss echoes nothing it was given.
    Ok(render_status(
        status,
        &StatusPage {
            page,
            number: if found.is_some() {
                number
            } else {
                String::new()
            },
            found,
            error,
        },
    ))
}

/// The SHA-256 of an ИИН as given (digits only; anything else cannot match).
fn iin_hash(iin: &str) -> [u8; 32] {
    sha2::Sha256::digest(iin.as_bytes()).into()
}

/// Equality of two hashes in time independent of where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The status and due date of the case `number` if its applicant's ИИН is `iin`.
async fn find(state: &AppState, ctx: &Ctx, number: &str, iin: &str) -> Option<(String, String)> {
    let given = iin_hash(iin);
    let well_formed = iin.len() == 12 && iin.bytes().all(|b| b.is_ascii_digit());
    let case = if crate::api::valid_case_id(number) {
        state.store.load(&CaseId::new(number)).await.ok().flatten()
    } else {
        None
    };
    let stored = case
        .as_ref()
        .and_then(|c| c.data.get("iin").and_then(Value::as_str))
        .map(iin_hash);
    // A stand-in when there is no case or no ИИН in it, so that the comparison is made anyway.
    let expected = stored.unwrap_or_else(|| iin_hash("no case has this ИИН"));
    let matches = same(&given, &expected) && stored.is_some() && well_formed;
    let case = case.filter(|_| matches)?;
    let status = match case.status {
        CaseStatus::Open => ctx.t("status_open").to_string(),
        CaseStatus::Ended(r) => format!(
            "{}: {}",
            ctx.t("status_ready"),
            ctx.t(match r.as_str() {
                "granted" => "granted",
                "refused" => "refused",
                "returned" => "returned",
                _ => "withdrawn",
            })
        ),
        CaseStatus::Cancelled => ctx.t("status_cancelled").to_string(),
    };
    let due = case
        .deadline
        .as_ref()
        .map(|d| local_date(state, &case.office, d.due))
        .unwrap_or_else(|| ctx.t("status_no_due").to_string());
    Some((status, due))
}

/// The day and hour in the office's time zone.
fn local_date(state: &AppState, office: &str, t: DateTime<Utc>) -> String {
    match state.calendars.clock(Some(office)) {
        Ok(c) => c.to_local(t).format("%d.%m.%Y %H:%M").to_string(),
        Err(_) => t.format("%d.%m.%Y %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_counts_per_address_within_the_hour() {
        let l = Limiter::default();
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        assert!(l.allow(a, 0, 2) && l.allow(a, 1, 2));
        assert!(!l.allow(a, 2, 2), "the third in the hour");
        assert!(l.allow(b, 2, 2), "another address has its own count");
        assert!(
            l.allow(a, WINDOW_MICROS + 1, 2),
            "the first left the window"
        );
    }

    #[test]
    fn hashes_compare_equal_only_when_equal() {
        let x = iin_hash("880101300123");
        assert!(same(&x, &iin_hash("880101300123")));
        assert!(!same(&x, &iin_hash("880101300124")));
    }
}

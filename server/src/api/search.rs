//! Finding a case: `GET /api/v1/cases` with the criteria as query parameters, answered with a
//! page of the cases the caller may read (staff: the cases that have been at their offices;
//! auditors and administrators: every case), newest registration first.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use reglament_store::search::{CaseSearch, FoundCase, Scope, StatusFilter, parse_cursor, words};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiResult;
use super::dto::TextDto;
use crate::auth::Principal;
use crate::problem::{FieldProblem, Problem, Query, SearchErrors};
use crate::state::AppState;

/// The criteria of `GET /api/v1/cases`; every one given must hold.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The start of the registration number (the case id).
    pub number: Option<String>,
    /// The applicant's ИИН: 12 digits, exactly.
    pub iin: Option<String>,
    /// Words of the applicant's name, each the start of a word of it, in any case, Kazakh
    /// letters or their Russian neighbours (`айгуль` finds `Айгүл`).
    pub name: Option<String>,
    /// A regulation's id.
    pub regulation: Option<String>,
    /// `open`, `ended` or `cancelled`.
    pub status: Option<String>,
    /// How an ended case ended: `granted`, `refused`, `returned`, `withdrawn`.
    pub result: Option<String>,
    /// Cases that have been at this office.
    pub office: Option<String>,
    /// Registered on or after: a date (`2026-03-01`) or an RFC 3339 instant.
    pub registered_from: Option<String>,
    /// Registered before this instant, or on or before this date.
    pub registered_to: Option<String>,
    /// Due on or after: a date or an instant.
    pub due_from: Option<String>,
    /// Due before this instant, or on or before this date.
    pub due_to: Option<String>,
    /// `true` or `false`.
    pub breached: Option<String>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<String>,
}

/// One case found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FoundCaseDto {
    pub id: String,
    pub regulation: String,
    /// The regulation's title (of its latest deployed version), when it is deployed.
    pub regulation_title: Option<TextDto>,
    /// Where the case was registered.
    pub office: String,
    /// `open`, `ended` or `cancelled`.
    pub status: String,
    pub result: Option<String>,
    pub applicant: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub breached: bool,
}

/// A page of found cases.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FoundPageDto {
    pub items: Vec<FoundCaseDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next: Option<String>,
}

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;
/// Longer text than this is no criterion anyone types.
const MAX_TEXT: usize = 200;

/// The criteria as a store search for this caller, or every failing field.
pub fn criteria(principal: &Principal, p: &SearchParams) -> Result<CaseSearch, Problem> {
    let mut errors: Vec<FieldProblem> = Vec::new();
    let mut fail = |field: &str, detail: &str| {
        errors.push(FieldProblem::new(format!("/{field}"), detail));
    };
    let scope = match principal.grants().readable_offices() {
        None => Scope::All,
        Some(list) => Scope::Offices(list),
    };
    let limit = match p.limit.as_deref().map(str::parse::<u32>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            fail("limit", "a whole number from 1 to 200");
            DEFAULT_LIMIT
        }
    };
    let mut q = CaseSearch::new(scope, limit);
    for (field, value) in [
        ("number", &p.number),
        ("name", &p.name),
        ("regulation", &p.regulation),
        ("office", &p.office),
        ("cursor", &p.cursor),
    ] {
        if text(value)
            .is_some_and(|v| v.chars().count() > MAX_TEXT || v.chars().any(char::is_control))
        {
            fail(field, "at most 200 characters, no control characters");
        }
    }
    q.number = text(&p.number).map(str::to_string);
    if let Some(iin) = text(&p.iin) {
        if iin.len() == 12 && iin.bytes().all(|b| b.is_ascii_digit()) {
            q.iin = Some(iin.to_string());
        } else {
            fail("iin", "an ИИН is 12 digits");
        }
    }
    if let Some(name) = text(&p.name) {
        let w = words(name);
        if w.is_empty() {
            fail("name", "no letter or digit in the name");
        } else if w.len() > 6 {
            fail("name", "at most 6 words");
        }
        q.name = Some(name.to_string());
    }
    q.regulation = text(&p.regulation).map(str::to_string);
    q.office = text(&p.office).map(str::to_string);
    q.status = match text(&p.status) {
        None => None,
        Some("open") => Some(StatusFilter::Open),
        Some("ended") => Some(StatusFilter::Ended),
        Some("cancelled") => Some(StatusFilter::Cancelled),
        Some(_) => {
            fail("status", "one of open, ended, cancelled");
            None
        }
    };
    q.result = match text(&p.result) {
        None => None,
        Some(r @ ("granted" | "refused" | "returned" | "withdrawn")) => Some(r.to_string()),
        Some(_) => {
            fail("result", "one of granted, refused, returned, withdrawn");
            None
        }
    };
    q.breached = match text(&p.breached) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            fail("breached", "true or false");
            None
        }
    };
    let mut instant = |field: &str, v: &Option<String>, end: bool| match text(v) {
        None => None,
        Some(s) => match parse_instant(s, end) {
            Some(t) => Some(t),
            None => {
                fail(field, "a date (2026-03-01) or an RFC 3339 instant");
                None
            }
        },
    };
    q.registered_from = instant("registered_from", &p.registered_from, false);
    q.registered_to = instant("registered_to", &p.registered_to, true);
    q.due_from = instant("due_from", &p.due_from, false);
    q.due_to = instant("due_to", &p.due_to, true);
    if let Some(c) = text(&p.cursor) {
        if parse_cursor(c).is_ok() {
            q.after = Some(c.to_string());
        } else {
            fail("cursor", "not a cursor this search gave");
        }
    }
    if errors.is_empty() {
        Ok(q)
    } else {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.pointer, e.detail))
            .collect::<Vec<_>>()
            .join("; ");
        Err(Problem::unprocessable("bad-search", detail).with_errors(errors))
    }
}

/// A parameter's text, trimmed; `None` when absent or blank.
fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A date or an instant; a date that ends a range takes in its whole day (UTC).
fn parse_instant(s: &str, end: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let d = if end {
        d.checked_add_signed(TimeDelta::days(1))?
    } else {
        d
    };
    Some(d.and_hms_opt(0, 0, 0)?.and_utc())
}

/// The cases the caller may read that meet every criterion, newest registration first.
#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    params(SearchParams),
    responses((status = 200, description = "A page of cases", body = FoundPageDto), SearchErrors),
    security(("bearer" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<SearchParams>,
) -> ApiResult<axum::Json<FoundPageDto>> {
    let q = criteria(&principal, &params)?;
    let page = state.store.search_cases(&q).await?;
    let items = with_titles(&state, page.items).await;
    Ok(axum::Json(FoundPageDto {
        items,
        next: page.next,
    }))
}

/// The found cases with their regulations' titles (a page names a handful of regulations).
pub async fn with_titles(state: &AppState, items: Vec<FoundCase>) -> Vec<FoundCaseDto> {
    let mut titles: HashMap<String, Option<TextDto>> = HashMap::new();
    for i in &items {
        if !titles.contains_key(&i.regulation) {
            let t = state
                .store
                .latest(&i.regulation)
                .await
                .ok()
                .map(|p| TextDto::from(&p.regulation.title));
            titles.insert(i.regulation.clone(), t);
        }
    }
    items
        .into_iter()
        .map(|i| FoundCaseDto {
            regulation_title: titles.get(&i.regulation).cloned().flatten(),
            id: i.case,
            regulation: i.regulation,
            office: i.office,
            status: i.status,
            result: i.result,
            applicant: i.applicant,
            registered_at: i.registered_at,
            due: i.due,
            breached: i.breached,
        })
        .collect()
}

//! Finding a case on the web (`/search`): the API's search ([`crate::api::search`]) as a form
//! that keeps its criteria in the address (so a search can be bookmarked, shared with a
//! colleague of the same office, and paged with the browser's back button), and a table of
//! the cases found, newest registration first, a page at a time.
//!
//! The same criteria, the same checks and the same scope as `GET /api/v1/cases`: staff find
//! the cases that have been at their offices (a deputy in force, those of the offices they
//! act in), auditors and administrators every case; a criterion that cannot be read is said
//! beside its field, in the reader's language, with a 422.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use reglament_model::text::Lang;

use super::{Ctx, Page, WebResult, local_time, office_name, render_status, text_lang};
use crate::api::search::{SearchParams, criteria};
use crate::auth::Principal;
use crate::state::AppState;

/// Cases on one page of results.
const PAGE_SIZE: &str = "25";

/// The criteria the form sends, in the order of the address.
const FIELDS: &[&str] = &[
    "number",
    "iin",
    "name",
    "regulation",
    "office",
    "status",
    "result",
    "breached",
    "registered_from",
    "registered_to",
    "due_from",
    "due_to",
];

/// A select's choice.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
    /// `lang` of a label a regulation gives in one language only.
    pub lang: &'static str,
}

/// One case found, as the table shows it.
#[derive(Debug, Clone)]
pub struct Line {
    pub id: String,
    pub applicant: String,
    pub service: String,
    pub service_lang: &'static str,
    pub office: String,
    pub registered: String,
    pub due: String,
    pub status_key: &'static str,
    pub status: String,
    pub breached: bool,
}

/// A criterion that cannot be read: its field and what is wrong, in the reader's language.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub label: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    page: Page,
    /// What the form was sent with (field → value), to show it again.
    values: BTreeMap<String, String>,
    regulations: Vec<Opt>,
    offices: Vec<Opt>,
    statuses: Vec<Opt>,
    results: Vec<Opt>,
    breached: Vec<Opt>,
    errors: Vec<FieldError>,
    /// Whether any criterion was given (else the page lists the latest cases).
    searched: bool,
    lines: Vec<Line>,
    /// The address of the next page, when there is one.
    next: Option<String>,
    /// The address of the first page, when this is a later one.
    first: Option<String>,
    /// Whether every case is searched (auditors, administrators) or the caller's offices'.
    everywhere: bool,
    /// The criteria beyond number, ИИН and name are shown: one of them is given or wrong.
    more_open: bool,
}

impl SearchPage {
    fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    fn error_of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }
}

/// The query's pairs, the first value of each known name; `lang`, `notice` and anything
/// else are the page's, not the search's.
fn read_query(raw: Option<&str>) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        if (FIELDS.contains(&k.as_str()) || k == "cursor") && !out.contains_key(&k) {
            out.insert(k, v);
        }
    }
    out
}

fn params(values: &BTreeMap<String, String>) -> SearchParams {
    let v = |k: &str| values.get(k).cloned();
    SearchParams {
        number: v("number"),
        iin: v("iin"),
        name: v("name"),
        regulation: v("regulation"),
        status: v("status"),
        result: v("result"),
        office: v("office"),
        registered_from: v("registered_from"),
        registered_to: v("registered_to"),
        due_from: v("due_from"),
        due_to: v("due_to"),
        breached: v("breached"),
        cursor: v("cursor"),
        limit: Some(PAGE_SIZE.to_string()),
    }
}

/// The address of this search with `cursor` (or none: the first page).
fn address(values: &BTreeMap<String, String>, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = FIELDS
        .iter()
        .filter_map(|f| {
            values
                .get(*f)
                .map(|v| (*f, v.as_str()))
                .filter(|(_, v)| !v.trim().is_empty())
        })
        .collect();
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    if q.is_empty() {
        "/search".to_string()
    } else {
        format!("/search?{q}")
    }
}

/// The words of a field's label, for its error.
fn label_key(field: &str) -> &'static str {
    match field {
        "number" => "search_number",
        "iin" => "search_iin",
        "name" => "search_name",
        "regulation" => "service",
        "office" => "office",
        "status" => "status",
        "result" => "result",
        "breached" => "search_deadline",
        "registered_from" => "search_registered_from",
        "registered_to" => "search_registered_to",
        "due_from" => "search_due_from",
        "due_to" => "search_due_to",
        _ => "search_page",
    }
}

/// What is wrong with a field, in the reader's language.
fn message_key(field: &str) -> &'static str {
    match field {
        "iin" => "search_bad_iin",
        "name" => "search_bad_name",
        "number" | "regulation" | "office" => "search_bad_text",
        "status" | "result" | "breached" => "search_bad_choice",
        "registered_from" | "registered_to" | "due_from" | "due_to" => "search_bad_date",
        _ => "search_bad_cursor",
    }
}

/// `open`, `ended` with its result, or `cancelled`, as a key of the words.
fn status_key(status: &str, result: Option<&str>) -> &'static str {
    match (status, result) {
        ("open", _) => "search_case_open",
        ("cancelled", _) => "search_case_cancelled",
        (_, Some("granted")) => "granted",
        (_, Some("refused")) => "refused",
        (_, Some("returned")) => "returned",
        (_, Some("withdrawn")) => "withdrawn",
        _ => "ended",
    }
}

fn choices(ctx: &Ctx, chosen: &str, any: &'static str, list: &[(&str, &'static str)]) -> Vec<Opt> {
    std::iter::once(("", any))
        .chain(list.iter().copied())
        .map(|(value, key)| Opt {
            value: value.to_string(),
            label: ctx.t(key).to_string(),
            selected: value == chosen,
            lang: "",
        })
        .collect()
}

/// Every deployed regulation's title (of its latest version) in `lang`, by id: read once a
/// page, for the select and for the rows found.
async fn regulation_titles(state: &AppState, lang: Lang) -> BTreeMap<String, String> {
    let ids: Vec<String> = state
        .store
        .regulations()
        .await
        .map(|rs| rs.into_iter().map(|r| r.id).collect())
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        let title = match state.store.latest(&id).await {
            Ok(p) => p.regulation.title.get(lang).to_string(),
            Err(_) => id.clone(),
        };
        out.insert(id, title);
    }
    out
}

/// The regulations for the select, by title.
fn regulation_choices(titles: &BTreeMap<String, String>, chosen: &str) -> Vec<Opt> {
    let mut out: Vec<Opt> = titles
        .iter()
        .map(|(id, title)| Opt {
            value: id.clone(),
            label: title.clone(),
            selected: id == chosen,
            lang: text_lang(title),
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// Whether any of `fields` is given (not blank).
fn given(values: &BTreeMap<String, String>, fields: &[&str]) -> bool {
    fields
        .iter()
        .any(|f| values.get(*f).is_some_and(|v| !v.trim().is_empty()))
}

/// The offices the caller may search in, by name.
fn office_choices(state: &AppState, ctx: &Ctx, p: &Principal, chosen: &str) -> Vec<Opt> {
    let ids: Vec<String> = match p.grants().readable_offices() {
        Some(list) => list,
        None => state
            .calendars
            .offices()
            .map(|o| o.data.id.clone())
            .collect(),
    };
    let mut out: Vec<Opt> = ids
        .into_iter()
        .map(|id| Opt {
            label: office_name(state, ctx.lang, &id),
            selected: id == chosen,
            value: id,
            lang: "",
        })
        .collect();
    out.sort_by(|a, b| a.label.cmp(&b.label));
    out
}

/// `GET /search`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let readable = principal.grants().readable_offices();
    if readable.as_ref().is_some_and(Vec::is_empty) {
        // An analyst reads regulations, not cases.
        return Err(ctx.error(StatusCode::FORBIDDEN, ctx.t("search_not_yours")));
    }
    let values = read_query(raw.as_deref());
    let searched = given(&values, FIELDS);
    let titles = regulation_titles(&state, ctx.lang).await;
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    let mut next = None;
    match criteria(principal, &params(&values)) {
        Err(problem) => {
            for e in &problem.errors {
                let field = e.pointer.trim_start_matches('/').to_string();
                if errors.iter().any(|x: &FieldError| x.field == field) {
                    continue;
                }
                errors.push(FieldError {
                    label: ctx.t(label_key(&field)).to_string(),
                    message: ctx.t(message_key(&field)).to_string(),
                    field,
                });
            }
        }
        Ok(q) => {
            let found = state
                .store
                .search_cases(&q)
                .await
                .map_err(|e| ctx.problem(e.into()))?;
            for c in found.items {
                let service = titles
                    .get(&c.regulation)
                    .cloned()
                    .unwrap_or_else(|| c.regulation.clone());
                let key = status_key(&c.status, c.result.as_deref());
                lines.push(Line {
                    service_lang: text_lang(&service),
                    service,
                    office: office_name(&state, ctx.lang, &c.office),
                    registered: local_time(&state, &c.office, Some(c.registered_at)),
                    due: if c.status == "open" {
                        local_time(&state, &c.office, c.due)
                    } else {
                        String::new()
                    },
                    status_key: key,
                    status: ctx.t(key).to_string(),
                    breached: c.breached,
                    applicant: c.applicant.unwrap_or_default(),
                    id: c.case,
                });
            }
            next = found.next.map(|c| address(&values, Some(&c)));
        }
    }
    let first = values
        .contains_key("cursor")
        .then(|| address(&values, None));
    let get = |k: &str| values.get(k).map_or("", String::as_str).to_string();
    let page = SearchPage {
        page: ctx.page(ctx.t("search_page")),
        regulations: regulation_choices(&titles, &get("regulation")),
        offices: office_choices(&state, &ctx, principal, &get("office")),
        statuses: choices(
            &ctx,
            &get("status"),
            "search_any",
            &[
                ("open", "search_case_open"),
                ("ended", "ended"),
                ("cancelled", "search_case_cancelled"),
            ],
        ),
        results: choices(
            &ctx,
            &get("result"),
            "search_any",
            &[
                ("granted", "granted"),
                ("refused", "refused"),
                ("returned", "returned"),
                ("withdrawn", "withdrawn"),
            ],
        ),
        breached: choices(
            &ctx,
            &get("breached"),
            "search_any",
            &[("true", "search_breached"), ("false", "search_kept")],
        ),
        everywhere: readable.is_none(),
        more_open: given(&values, &FIELDS[3..])
            || errors
                .iter()
                .any(|e| FIELDS[3..].contains(&e.field.as_str())),
        values,
        errors,
        searched,
        lines,
        next,
        first,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render_status(status, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_keeps_the_criteria_and_drops_the_rest() {
        let v = read_query(Some(
            "name=%D0%90%D0%B9&lang=kk&iin=&number=1&number=2&cursor=x&evil=1",
        ));
        assert_eq!(v.get("name").map(String::as_str), Some("Ай"));
        assert_eq!(v.get("number").map(String::as_str), Some("1"));
        assert!(!v.contains_key("lang") && !v.contains_key("evil"));
        assert_eq!(address(&v, None), "/search?number=1&name=%D0%90%D0%B9");
        assert_eq!(
            address(&v, Some("c2")),
            "/search?number=1&name=%D0%90%D0%B9&cursor=c2"
        );
        assert_eq!(address(&BTreeMap::new(), None), "/search");
        // A query that is not form-encoded is no criterion at all, not an error page.
        assert!(read_query(Some("%zz=%&name")).len() <= 1);
        assert!(read_query(Some("%zz=%")).is_empty());
    }

    #[test]
    fn every_field_has_words_for_its_label_and_its_error() {
        for f in FIELDS.iter().chain(["cursor", "limit"].iter()) {
            for lang in Lang::ALL {
                for key in [label_key(f), message_key(f)] {
                    assert_ne!(super::super::i18n::t(lang, key), key, "{f}: {key}");
                }
            }
        }
    }

    #[test]
    fn a_case_reads_as_open_as_its_result_or_as_cancelled() {
        assert_eq!(status_key("open", None), "search_case_open");
        assert_eq!(status_key("ended", Some("refused")), "refused");
        assert_eq!(status_key("ended", None), "ended");
        assert_eq!(
            status_key("cancelled", Some("withdrawn")),
            "search_case_cancelled"
        );
    }
}

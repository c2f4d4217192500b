//! The web interface: pages rendered on the server from templates compiled into the binary
//! (askama, `server/templates/`), in Kazakh, Russian and English, working without JavaScript.
//!
//! Every page goes through the same credentials ([`crate::auth`]) and the same access rules
//! ([`crate::auth::policy`]) as the JSON API, and through the same engine calls: a user of
//! another office gets the same 404 page for a case as for one that does not exist.
//!
//! - sessions: the `reglament_session` cookie (HttpOnly, SameSite=Lax), made by the sign-in
//!   form through [`crate::auth::login`]; every form carries the session's CSRF token in a
//!   hidden `_csrf` field, checked before anything is done (a bad one gives a 403 page). The
//!   sign-in form, before there is a session, uses a double-submit cookie instead.
//! - language: `?lang=kk|ru|en` on any page, or the `reglament_lang` cookie set by the
//!   language links; Russian by default.
//! - errors are HTML pages with the right status (403, 404, 409, 422), never problem+json.

pub mod bulk;
pub mod cases;
pub mod deputies;
pub mod expected;
pub mod forms;
pub mod i18n;
pub mod inbox;
pub mod incidents;
pub mod interventions;
pub mod lint_text;
pub mod migrations;
pub mod notifications;
pub mod password;
pub mod recorded;
pub mod register;
pub mod regulations;
pub mod search;
pub mod session;
pub mod status;
pub mod tasks;
pub mod views;
mod words;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use reglament_model::text::{Lang, Text};

use crate::auth::Principal;
use crate::auth::policy::{ADMINISTRATOR, ANALYST, AUDITOR, HEAD};
use crate::problem::Problem;
use crate::state::AppState;

/// The language cookie.
pub const LANG_COOKIE: &str = "reglament_lang";
/// The double-submit cookie of the sign-in form.
pub const LOGIN_CSRF_COOKIE: &str = "reglament_login_csrf";
/// Roles that register applications (the first step of a channel).
pub const REGISTERING_ROLES: &[&str] = &["registrar", "rural_akim", "centre_inspector", "executor"];

const STYLE: &str = include_str!("../../static/style.css");
const SCRIPT: &str = include_str!("../../static/app.js");

/// The web routes (mounted beside the API, outside its problem+json error layer).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/style.css", get(style))
        .route("/static/app.js", get(script))
        .route("/lang/{code}", get(session::set_lang))
        .route("/signin", get(session::form).post(session::submit))
        // Where people type by habit: the same sign-in page.
        .route("/login", get(to_signin))
        .route("/signout", post(session::sign_out))
        .route("/password", get(password::form).post(password::submit))
        .route(
            "/notifications",
            get(notifications::form).post(notifications::submit),
        )
        .route("/inbox", get(inbox::page))
        .route("/inbox/bulk", post(bulk::submit))
        .route("/inbox/views", post(views::create))
        .route("/inbox/views/{id}/delete", post(views::delete))
        .route("/tasks/{id}", get(tasks::page))
        .route("/tasks/{id}/claim", post(tasks::claim))
        .route("/tasks/{id}/complete", post(tasks::complete))
        .route("/tasks/{id}/release", post(tasks::release))
        .route("/tasks/{id}/reassign", post(tasks::reassign))
        .route("/tasks/{id}/suspend", post(tasks::suspend))
        .route("/tasks/{id}/resume", post(tasks::resume))
        .route("/register", get(register::choose).post(register::submit))
        .route("/register/{regulation}", get(register::form))
        .route("/search", get(search::page))
        .route("/cases/{id}", get(cases::page))
        .route("/cases/{id}/receipt", get(register::receipt))
        .route(
            "/cases/{id}/incidents/{number}/retry",
            post(incidents::retry),
        )
        .route("/incidents", get(incidents::page))
        .route("/deputies", get(deputies::list).post(deputies::create))
        .route(
            "/cases/{id}/intervene",
            get(interventions::form).post(interventions::submit),
        )
        .route(
            "/cases/{id}/intervene/preview",
            post(interventions::preview),
        )
        .route("/interventions", get(interventions::list))
        .route("/interventions/{id}", get(interventions::page))
        .route("/interventions/{id}/approve", post(interventions::approve))
        .route("/interventions/{id}/reject", post(interventions::reject))
        .route("/deputies/{id}/end", post(deputies::end))
        .route("/status", get(status::form).post(status::lookup))
        .route("/dashboard", get(cases::dashboard))
        .route("/report", get(cases::report))
        .route("/regulations", get(regulations::list))
        .route("/regulations/{id}", get(regulations::page))
        .route(
            "/analyst",
            get(regulations::analyst).post(regulations::analyst_submit),
        )
        .route(
            "/migrations",
            get(migrations::list).post(migrations::propose),
        )
        .route("/migrations/{id}", get(migrations::page))
        .route("/migrations/{id}/approve", post(migrations::approve))
        .route("/migrations/{id}/reject", post(migrations::reject))
        .method_not_allowed_fallback(crate::problem::method_not_allowed)
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

async fn to_signin() -> Response {
    redirect("/signin")
}

/// An address that is neither a page nor an API route: under `/api`, or for a caller that asks
/// for JSON, the problem+json the API answers; for a browser, the 404 page in its language.
pub async fn fallback(ctx: Ctx, uri: axum::http::Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("json") && !a.contains("text/html"));
    if path == "/api" || path.starts_with("/api/") || wants_json {
        return crate::problem::not_found().await.into_response();
    }
    ctx.not_found().into_response()
}

async fn home(ctx: Ctx) -> Response {
    match &ctx.principal {
        Some(_) => redirect("/inbox"),
        None => redirect("/signin"),
    }
}

/// The signed-in user as the pages show them.
#[derive(Debug, Clone)]
pub struct UserBox {
    pub login: String,
    pub display_name: String,
    pub roles: String,
}

/// A link of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: Lang,
    pub title: String,
    pub user: Option<UserBox>,
    pub csrf: String,
    pub nav: Vec<NavLink>,
    /// The language links: (code, href, current).
    pub langs: Vec<(&'static str, String, bool)>,
    pub notice: Option<String>,
    /// Said once, visibly, when the page shows a regulation's words that the regulation gives
    /// in another language only (its forms' titles, quotes of the paper).
    pub lang_note: Option<String>,
}

impl Page {
    /// The page, noting the languages `p` gives some of its words in only (see
    /// [`regulation_languages`]).
    pub fn noting_languages_of(mut self, p: &reglament_model::compile::Process) -> Page {
        let others: Vec<Lang> = regulation_languages(p)
            .into_iter()
            .filter(|l| *l != self.lang)
            .collect();
        if !others.is_empty() {
            let names: Vec<String> = others
                .iter()
                .map(|l| i18n::t(self.lang, &format!("in_{}", l.code())).to_string())
                .collect();
            self.lang_note = Some(
                i18n::t(self.lang, "regulation_words_only_in")
                    .replace("{langs}", &names.join(", ")),
            );
        }
        self
    }

    /// The interface's word for `key`.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }

    /// A regulation's text in the page's language.
    pub fn tx<'a>(&self, text: &'a Text) -> &'a str {
        text.get(self.lang)
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

/// The request as the pages see it: language, path, caller.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    /// Path and query of the request (to come back to after switching language or signing in).
    pub path: String,
    pub principal: Option<Principal>,
    pub notice: Option<String>,
    /// A GET (or HEAD): a page that can be come back to after signing in.
    pub reading: bool,
    /// The caller's roles and offices in `lang`, for the page header.
    pub roles: String,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// `?lang=` of a query string.
fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::parse(v))
}

fn query_notice(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == "notice")
        .map(|(_, v)| v.to_string())
        .filter(|v| i18n::known(v))
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        let query = parts.uri.query();
        let lang = query_lang(query)
            .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
            .unwrap_or_default();
        let notice = query_notice(query);
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
        let principal = match parts.extensions.get::<Principal>() {
            Some(p) => Some(p.clone()),
            None => state
                .auth
                .authenticate(&parts.headers, state.now())
                .await
                .ok(),
        };
        // One's own roles, then those held for someone under a deputy rule in force, named so.
        let roles = principal
            .as_ref()
            .map(|p| {
                let own = p.own_grants().grants.iter().map(|g| {
                    let role = i18n::role_word(lang, &g.role);
                    match g.office.as_deref() {
                        Some(office) => format!("{role}, {}", office_name(state, lang, office)),
                        None => role,
                    }
                });
                let acting = p.acting.iter().filter(|a| a.in_force).map(|a| {
                    format!(
                        "{}, {} ({})",
                        i18n::role_word(lang, &a.role),
                        office_name(state, lang, &a.office),
                        i18n::t(lang, "header_acting_for").replace("{name}", &a.principal)
                    )
                });
                own.chain(acting).collect::<Vec<_>>().join("; ")
            })
            .unwrap_or_default();
        Ok(Ctx {
            lang,
            path,
            principal,
            notice,
            roles,
            reading: matches!(
                parts.method,
                axum::http::Method::GET | axum::http::Method::HEAD
            ),
        })
    }
}

/// A page's answer when it cannot show what was asked: a redirect to sign in, or an HTML
/// error page with its status.
pub enum WebError {
    SignIn(String),
    /// The password must be changed first: to the change-password page, then back here.
    ChangePassword(String),
    Page {
        status: StatusCode,
        page: Box<Page>,
        detail: String,
    },
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: &'a Page,
    status: u16,
    detail: &'a str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn(next) => {
                let q = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                redirect(&format!("/signin?{q}"))
            }
            WebError::ChangePassword(next) => {
                let q = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
                redirect(&format!("/password?{q}"))
            }
            WebError::Page {
                status,
                page,
                detail,
            } => {
                let body = ErrorPage {
                    page: &page,
                    status: status.as_u16(),
                    detail: &detail,
                }
                .render()
                .unwrap_or_else(|_| detail.clone());
                (status, html_headers(), body).into_response()
            }
        }
    }
}

fn html_headers() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

/// Renders a page template as a 200 HTML response.
pub fn render(t: &impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

/// Renders a page template with a status.
pub fn render_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => (status, html_headers(), Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

impl Ctx {
    /// The signed-in caller, or a redirect to the sign-in page; a caller whose password
    /// must be changed first goes to the change-password page instead (signing out stays
    /// open to them).
    pub fn user(&self) -> Result<&Principal, WebError> {
        let p = self
            .principal
            .as_ref()
            .ok_or_else(|| WebError::SignIn(self.path.clone()))?;
        let route = self.path.split('?').next().unwrap_or_default();
        if p.held_for_password_change() && !matches!(route, "/password" | "/signout") {
            // Back to the page afterwards; a form posted meanwhile is not posted again.
            let next = if self.reading {
                self.path.clone()
            } else {
                FALLBACK_TARGET.to_string()
            };
            return Err(WebError::ChangePassword(next));
        }
        Ok(p)
    }

    /// A posted form, refused with a 400 page when it is not `application/x-www-form-urlencoded`
    /// text in UTF-8 (as the API refuses JSON that is not).
    pub fn form(&self, body: &[u8]) -> Result<forms::FormData, WebError> {
        forms::FormData::parse(body)
            .map_err(|_| self.error(StatusCode::BAD_REQUEST, self.t("bad_form")))
    }

    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        i18n::t(self.lang, key)
    }

    /// The layout's context for a page titled `title`.
    pub fn page(&self, title: &str) -> Page {
        let user = self.principal.as_ref().map(|p| UserBox {
            login: p.login.to_string(),
            display_name: p.display_name.to_string(),
            roles: self.roles.clone(),
        });
        let path = self.path.split('?').next().unwrap_or("/");
        let mut nav = Vec::new();
        if let Some(p) = &self.principal {
            let g = p.grants();
            let staff = p
                .grants
                .iter()
                .any(|g| !crate::auth::policy::GLOBAL_ROLES.contains(&&*g.role));
            let mut link = |href: &'static str, key: &str| {
                nav.push(NavLink {
                    href,
                    label: self.t(key).to_string(),
                    active: path == href || path.starts_with(&format!("{href}/")),
                });
            };
            if staff {
                link("/inbox", "inbox");
            }
            if REGISTERING_ROLES.iter().any(|r| g.holds_somewhere(r)) {
                link("/register", "register");
            }
            if g.readable_offices().is_none_or(|o| !o.is_empty()) {
                link("/search", "search_nav");
            }
            if g.holds_somewhere(HEAD)
                || g.holds_somewhere(ADMINISTRATOR)
                || g.holds_somewhere(AUDITOR)
            {
                link("/dashboard", "dashboard");
                link("/report", "report");
            }
            if g.holds_somewhere(ADMINISTRATOR) {
                link("/incidents", "incidents");
                link("/interventions", "iv_requests");
            }
            link("/regulations", "regulations");
            if g.holds_somewhere(ANALYST) {
                link("/analyst", "analyst");
            }
            if crate::migration_requests::may_view(p).is_ok() {
                link("/migrations", "migrations");
            }
            // Heads and administrators record deputies; a user acting for someone sees why.
            let own = p.own_grants();
            if own.holds_somewhere(HEAD)
                || own.holds_everywhere(ADMINISTRATOR)
                || p.acting.iter().any(|a| a.in_force)
            {
                link("/deputies", "deputies");
            }
        }
        let back =
            serde_urlencoded::to_string([("back", self.path_without_lang())]).unwrap_or_default();
        let langs = Lang::ALL
            .iter()
            .map(|l| {
                (
                    l.code(),
                    format!("/lang/{}?{back}", l.code()),
                    *l == self.lang,
                )
            })
            .collect();
        Page {
            lang: self.lang,
            title: title.to_string(),
            user,
            csrf: self
                .principal
                .as_ref()
                .and_then(|p| p.csrf_token())
                .unwrap_or_default()
                .to_string(),
            nav,
            langs,
            notice: self.notice.as_deref().map(|k| self.t(k).to_string()),
            lang_note: None,
        }
    }

    /// The request's path and query without `lang=` and `notice=`.
    fn path_without_lang(&self) -> String {
        let (path, query) = self
            .path
            .split_once('?')
            .unwrap_or((self.path.as_str(), ""));
        let rest: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang=") && !p.starts_with("notice="))
            .collect();
        if rest.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", rest.join("&"))
        }
    }

    /// An HTML error page.
    pub fn error(&self, status: StatusCode, detail: impl Into<String>) -> WebError {
        let key = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::CONFLICT => "conflict",
            _ => "error",
        };
        WebError::Page {
            status,
            page: Box::new(self.page(self.t(key))),
            detail: detail.into(),
        }
    }

    pub fn not_found(&self) -> WebError {
        self.error(StatusCode::NOT_FOUND, self.t("not_found_detail"))
    }

    /// The page for a case or task not shown: the 404 page, whether or not it exists.
    pub fn unseen(&self, why: crate::access::Unseen) -> WebError {
        match why {
            crate::access::Unseen::Hidden => self.not_found(),
            crate::access::Unseen::Failed(e) => self.problem(e.into()),
        }
    }

    /// The answer to a form whose CSRF token is missing or wrong.
    pub fn csrf_failed(&self) -> WebError {
        self.error(StatusCode::FORBIDDEN, self.t("csrf_failed"))
    }

    /// Checks a form's `_csrf` field against the session.
    pub fn check_csrf(&self, form: &forms::FormData) -> Result<&Principal, WebError> {
        let p = self.user()?;
        if p.check_csrf(form.get("_csrf")) {
            Ok(p)
        } else {
            Err(self.csrf_failed())
        }
    }

    /// A problem from the shared code as a page: 404 stays "not found" (without saying
    /// whether the thing exists), the rest keeps its status and detail.
    pub fn problem(&self, p: Problem) -> WebError {
        let status = p.status();
        if status == StatusCode::NOT_FOUND {
            return self.not_found();
        }
        if status == StatusCode::UNAUTHORIZED {
            return WebError::SignIn(self.path.clone());
        }
        if status.is_server_error() {
            tracing::error!(problem = %p, "a page failed");
        }
        self.error(status, self.refusal(&p))
    }

    /// A refusal in the reader's language: the words of its kind where it has some, else its
    /// (English) detail on an English page, else a general "not done".
    pub fn refusal(&self, p: &Problem) -> String {
        match i18n::problem_text(self.lang, p.code) {
            Some(text) => text.to_string(),
            None if self.lang == Lang::En => p.detail.clone(),
            None => self.t("action_refused").to_string(),
        }
    }
}

/// Where a redirect goes when the target asked for is not a path of this server.
pub const FALLBACK_TARGET: &str = "/inbox";

/// The one gate for redirect targets that come from a request (`next`, `back`): a path of
/// this server, normalised the way a browser would read it, or [`FALLBACK_TARGET`].
///
/// Browsers strip tab, CR and LF from a URL and read `\` as `/`, so `/\t/evil.example`
/// and `/\evil.example` are `//evil.example` to them: another site. Rather than list such
/// tricks, the target is refused when it has a control character anywhere (as sent, or once
/// percent-decoded), when it does not start with exactly one `/`, and when the WHATWG URL
/// parser (the `url` crate, the parser browsers implement) resolves it to another origin.
/// What comes back is the parser's serialisation (path and query), so it is always a valid
/// `Location` header.
pub fn local_target(input: &str) -> String {
    local_path(input).unwrap_or_else(|| FALLBACK_TARGET.to_string())
}

fn local_path(input: &str) -> Option<String> {
    const BASE: &str = "http://reglament.invalid/";
    if input.len() > 2048 {
        return None;
    }
    let rest = input.strip_prefix('/')?;
    if rest.starts_with(['/', '\\']) || input.chars().any(char::is_control) {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(input).decode_utf8_lossy();
    if decoded.chars().any(char::is_control)
        || decoded.starts_with("//")
        || decoded.starts_with("/\\")
    {
        return None;
    }
    let base = url::Url::parse(BASE).ok()?;
    let url = base.join(input).ok()?;
    if url.origin() != base.origin() || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let mut out = url.path().to_string();
    if !out.starts_with('/') || out.starts_with("//") {
        return None;
    }
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}

/// A 303 to `target`, which the server made up itself (not taken from the request; those go
/// through [`local_target`] first). A target that cannot be a `Location` header never
/// panics nor answers 500: it goes to [`FALLBACK_TARGET`].
pub fn redirect(target: &str) -> Response {
    let location =
        HeaderValue::from_str(target).unwrap_or_else(|_| HeaderValue::from_static(FALLBACK_TARGET));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The office's name in the page's language, or its id.
pub fn office_name(state: &AppState, lang: Lang, office: &str) -> String {
    state
        .calendars
        .office(office)
        .map(|o| o.data.name.get(lang).to_string())
        .unwrap_or_else(|_| office.to_string())
}

/// The languages of the words a regulation gives in one language only: the act's title, the
/// forms' field titles, the quotes of the paper.
pub fn regulation_languages(p: &reglament_model::compile::Process) -> Vec<Lang> {
    let mut texts: Vec<&str> = vec![p.regulation.source.act.as_str()];
    let titles = |schema: &serde_json::Value| -> Vec<String> {
        schema
            .get("properties")
            .and_then(|v| v.as_object())
            .map(|m| {
                m.values()
                    .filter_map(|f| f.get("title").and_then(|t| t.as_str()).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut owned: Vec<String> = p
        .regulation
        .application_form
        .as_ref()
        .map(|f| titles(&f.0))
        .unwrap_or_default();
    for s in &p.regulation.steps {
        if let reglament_model::model::Step::Task(t) = s {
            owned.extend(t.form.as_ref().map(|f| titles(&f.0)).unwrap_or_default());
        }
    }
    texts.extend(owned.iter().map(String::as_str));
    let mut langs: Vec<Lang> = texts
        .iter()
        .filter_map(|t| regulations::text_language(t))
        .collect();
    langs.sort_by_key(|l| l.code());
    langs.dedup();
    langs
}

/// The `lang` attribute for a text a regulation or an offices file gives in one language only
/// (a form's field titles, a quote of the paper, an address): the page marks it as such, so
/// that a reader (and a screen reader) knows it is not the page's language.
pub fn text_lang(text: &str) -> &'static str {
    regulations::text_language(text).map_or("", |l| l.code())
}

/// An instant that belongs to no one office (a deployment, a migration request), in
/// Kazakhstan's time (one zone, UTC+5, since 1 March 2024) and named so: `2026-04-15 10:00
/// (Astana time)`.
pub fn country_time(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{} ({})",
        at.with_timezone(&chrono_tz::Asia::Almaty)
            .format("%Y-%m-%d %H:%M"),
        i18n::t(lang, "astana_time")
    )
}

/// An instant in the office's local time, `2026-04-15 18:30`.
pub fn local_time(
    state: &AppState,
    office: &str,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    let Some(at) = at else {
        return String::new();
    };
    match state.calendars.clock(Some(office)) {
        Ok(c) => c.to_local(at).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// Working minutes in an office's working day, so that "1 working day" of time left or
/// taken is a day of that office: seven hours in a North Kazakhstan department, eight in an
/// Atyrau one. Eight hours for an office the calendars do not know.
pub fn day_minutes(state: &AppState, office: &str) -> i64 {
    state
        .calendars
        .clock(Some(office))
        .ok()
        .and_then(|c| c.schedule().day_minutes())
        .map_or(8 * 60, i64::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_target("/inbox?x=1"), "/inbox?x=1");
        assert_eq!(local_target("/tasks/A-1:2?lang=kk"), "/tasks/A-1:2?lang=kk");
        assert_eq!(local_target("/a/../cases/x"), "/cases/x");
        assert_eq!(local_target("/a b"), "/a%20b");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "/\\evil.example",
            "/\tevil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie:x=1",
            "/%09/evil.example",
            "/%0d%0aSet-Cookie:x=1",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/\u{85}x",
            "\t//evil.example",
            "inbox",
            "",
        ] {
            assert_eq!(local_target(bad), FALLBACK_TARGET, "{bad:?}");
        }
        assert!(HeaderValue::from_str(&local_target("/é?q=ü")).is_ok());
        assert_eq!(query_lang(Some("a=1&lang=kk")), Some(Lang::Kk));
        assert_eq!(query_lang(Some("lang=xx")), None);
    }
}

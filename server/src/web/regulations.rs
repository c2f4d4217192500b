//! Regulations: the list, one regulation's page (swimlane diagram, steps with durations per
//! channel, statutory terms, lint warnings, versions, and what changed between any two of
//! them: the semantic diff of [`reglament_model::diff`] with the new version's diagram marking
//! added and changed steps), and the analyst's page to validate a new text against its line
//! numbers and deploy it when clean.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use reglament_model::compile::Process;
use reglament_model::diff::{self, render_html};
use reglament_model::load::{Loaded, load_str};
use reglament_model::model::Step;
use reglament_model::render;
use reglament_model::text::Lang;
use reglament_model::validate;
use reglament_store::RegulationInfo;
use reglament_store::side::SqlArg;
use serde::Deserialize;

use super::inbox::{role_name, step_name};
use super::{Ctx, Page, WebResult, render, render_status};
use crate::state::AppState;

async fn versions(
    state: &AppState,
) -> Result<BTreeMap<String, Vec<RegulationInfo>>, crate::problem::Problem> {
    let mut out: BTreeMap<String, Vec<RegulationInfo>> = BTreeMap::new();
    for r in state.store.regulations().await? {
        out.entry(r.id.clone()).or_default().push(r);
    }
    for v in out.values_mut() {
        v.sort_by_key(|r| r.version);
    }
    Ok(out)
}

#[derive(Debug, Clone)]
pub struct RegLine {
    pub id: String,
    pub title: String,
    pub region: String,
    pub version: u32,
}

#[derive(Template)]
#[template(path = "regulations.html")]
struct ListPage {
    page: Page,
    regulations: Vec<RegLine>,
}

/// `GET /regulations`.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    ctx.user()?;
    let mut regulations = Vec::new();
    for (id, vs) in versions(&state).await.map_err(|e| ctx.problem(e))? {
        let Some(last) = vs.last() else { continue };
        let p = state
            .store
            .process(&last.digest)
            .await
            .map_err(|e| ctx.problem(e.into()))?;
        regulations.push(RegLine {
            title: p.regulation.title.get(ctx.lang).to_string(),
            region: p.regulation.region.clone(),
            version: last.version,
            id,
        });
    }
    Ok(render(&ListPage {
        page: ctx.page(ctx.t("regulations")),
        regulations,
    }))
}

#[derive(Debug, Clone)]
pub struct StepRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub kind: String,
    pub durations: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub id: String,
    pub name: String,
    pub term: String,
    pub extended: String,
}

#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: u32,
    pub deployed_at: String,
    pub deployed_by: String,
    pub current: bool,
    /// The version before it, to compare with.
    pub previous: Option<u32>,
}

/// What changed from another deployed version to the shown one, ready for the page. The
/// page's diagram (of the shown version) marks the steps added and changed.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub from: u32,
    pub to: u32,
    /// The versions to choose from.
    pub choices: Vec<u32>,
    /// The changes as an HTML table (escaped by the diff's writer).
    pub table: String,
    pub removed: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub code: String,
    pub message: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "regulation.html")]
struct RegulationPage {
    page: Page,
    /// An analyst: the page links to the analyst page with this version's text.
    may_edit: bool,
    id: String,
    title: String,
    act: String,
    version: u32,
    svg: String,
    channels: Vec<ChannelRow>,
    steps: Vec<StepRow>,
    warnings: Vec<Finding>,
    versions: Vec<VersionRow>,
    comparison: Option<Comparison>,
}

#[derive(Debug, Deserialize)]
pub struct VersionParam {
    version: Option<u32>,
    /// The version the shown one is compared with (default: the one before it). Read as text
    /// so that a mistyped one is a page that says not found, like a version not deployed.
    from: Option<String>,
}

fn source_text(s: Option<&reglament_model::model::SourceRef>) -> String {
    let Some(s) = s else { return String::new() };
    [
        s.appendix.as_ref().map(|v| format!("прил. {v}")),
        s.table.as_ref().map(|v| format!("табл. {v}")),
        s.action.as_ref().map(|v| format!("д. {v}")),
        s.paragraph.as_ref().map(|v| format!("п. {v}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// The YAML a version was deployed from, named `ID@VERSION` in the places of a diff.
async fn deployed(
    state: &AppState,
    id: &str,
    version: u32,
) -> Result<Loaded, crate::problem::Problem> {
    let rows: Vec<(String,)> = state
        .store
        .read_side(
            "SELECT source FROM regulations WHERE regulation_id = $1 AND version = $2",
            vec![
                SqlArg::Text(id.to_string()),
                SqlArg::Int(i64::from(version)),
            ],
        )
        .await?;
    let Some((source,)) = rows.into_iter().next() else {
        return Err(crate::problem::Problem::not_found(format!(
            "{id} version {version} is not deployed"
        )));
    };
    let name = format!("{id}@{version}");
    tokio::task::spawn_blocking(move || load_str(&source, &name))
        .await
        .map_err(|e| crate::problem::Problem::internal(&e))?
        // A deployed source was validated when deployed; one that no longer loads is the
        // store's business (`Store::process` says so), not a page error.
        .map_err(|d| {
            crate::problem::Problem::internal(&d.first().map(|d| d.header()).unwrap_or_default())
        })
}

/// The comparison of two deployed versions of `id`, and the marks it puts on the diagram of
/// the newer one (`to`).
async fn compare(
    state: &AppState,
    id: &str,
    (from, to): (u32, u32),
    choices: Vec<u32>,
    lang: Lang,
) -> Result<(Comparison, Vec<render::Mark>), crate::problem::Problem> {
    let old = deployed(state, id, from).await?;
    let new = deployed(state, id, to).await?;
    let d = tokio::task::spawn_blocking(move || diff::diff(&old, &new))
        .await
        .map_err(|e| crate::problem::Problem::internal(&e))?;
    Ok((
        Comparison {
            from,
            to,
            choices,
            table: render_html::table(&d, lang),
            removed: d.step_marks().removed.into_iter().collect(),
        },
        d.diagram_marks(lang),
    ))
}

/// The linter's warnings on a deployed regulation (its definition is checked again), in the
/// page's language.
fn lint_warnings(state: &AppState, p: &Process, lang: Lang) -> Vec<Finding> {
    let text = serde_json::to_string_pretty(&p.regulation).unwrap_or_default();
    validate::check_str(&text, "deployed.json", Some(&state.known))
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| {
            let code = d.code.to_string();
            Finding {
                message: super::lint_text::lint_text(lang, p, &code, &d.pointer, &d.message),
                // The linter's English, with its figures, for analysts reading in English.
                detail: if lang == Lang::En {
                    d.message.clone()
                } else {
                    String::new()
                },
                code,
            }
        })
        .collect()
}

/// `GET /regulations/{id}?version=N`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<VersionParam>,
) -> WebResult<Response> {
    let may_edit = ctx.user()?.grants().deploy().is_ok();
    let lang = ctx.lang;
    let all = versions(&state).await.map_err(|e| ctx.problem(e))?;
    let vs = all.get(&id).ok_or_else(|| ctx.not_found())?;
    let chosen = match q.version {
        Some(v) => vs.iter().find(|r| r.version == v),
        None => vs.last(),
    }
    .ok_or_else(|| ctx.not_found())?;
    let mut processes: Vec<Arc<Process>> = Vec::new();
    for v in vs {
        processes.push(
            state
                .store
                .process(&v.digest)
                .await
                .map_err(|e| ctx.problem(e.into()))?,
        );
    }
    let at = vs
        .iter()
        .position(|v| v.version == chosen.version)
        .unwrap_or(0);
    let p = processes[at].clone();
    // What changed from the version asked for (default: the one before) to the shown one.
    let from = match q.from.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => Some(v.parse::<u32>().map_err(|_| ctx.not_found())?),
        None => at.checked_sub(1).map(|i| vs[i].version),
    };
    let (comparison, marks) = match from {
        Some(from) => {
            if !vs.iter().any(|r| r.version == from) {
                return Err(ctx.not_found());
            }
            let choices = vs.iter().map(|v| v.version).collect();
            let (c, marks) = compare(&state, &id, (from, chosen.version), choices, lang)
                .await
                .map_err(|e| ctx.problem(e))?;
            (Some(c), marks)
        }
        None => (None, Vec::new()),
    };
    let for_render = p.clone();
    let options = render::Options {
        lang,
        channel: None,
        highlight: Vec::new(),
    };
    let svg =
        tokio::task::spawn_blocking(move || render::svg_marked(&for_render, &options, &marks))
            .await
            .unwrap_or_default();
    let channels: Vec<ChannelRow> = p
        .regulation
        .channels
        .iter()
        .map(|c| ChannelRow {
            id: c.id.clone(),
            name: c
                .name
                .as_ref()
                .map_or_else(|| c.id.clone(), |n| n.get(lang).to_string()),
            term: c
                .term
                .as_ref()
                .map(|t| term_cell(t, lang))
                .unwrap_or_else(|| ctx.t("no_term").to_string()),
            extended: c
                .extended_term
                .as_ref()
                .map(|t| term_cell(t, lang))
                .unwrap_or_default(),
        })
        .collect();
    let steps = p
        .regulation
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Step::Task(_) | Step::System(_) | Step::Dispatch(_)))
        .map(|(i, s)| StepRow {
            id: s.id().to_string(),
            name: step_name(Some(&p), s.id(), lang),
            role: s
                .role()
                .map(|r| role_name(Some(&p), r, lang))
                .unwrap_or_default(),
            kind: ctx.t(&format!("step_kind_{}", s.kind_name())).to_string(),
            durations: channels
                .iter()
                .map(|c| {
                    p.duration(i, &c.id)
                        .map(|d| reglament_model::render::term_in(d, lang))
                        .unwrap_or_default()
                })
                .collect(),
            source: source_text(s.source()),
        })
        .collect();
    let versions = vs
        .iter()
        .enumerate()
        .map(|(i, v)| VersionRow {
            version: v.version,
            deployed_at: super::country_time(lang, v.deployed_at),
            deployed_by: v.deployed_by.clone(),
            current: v.version == chosen.version,
            previous: i.checked_sub(1).map(|p| vs[p].version),
        })
        .collect();
    let warn_p = p.clone();
    let warn_state = state.clone();
    let warnings = tokio::task::spawn_blocking(move || lint_warnings(&warn_state, &warn_p, lang))
        .await
        .unwrap_or_default();
    Ok(render(&RegulationPage {
        page: ctx
            .page(p.regulation.title.get(lang))
            .noting_languages_of(&p),
        may_edit,
        id: id.clone(),
        title: p.regulation.title.get(lang).to_string(),
        act: p.regulation.source.act.clone(),
        version: chosen.version,
        svg,
        channels,
        steps,
        warnings,
        versions,
        comparison,
    }))
}

/// A line of submitted text, marked when a diagnostic points at it.
#[derive(Debug, Clone)]
pub struct SourceLine {
    pub number: usize,
    pub text: String,
    pub bad: bool,
}

#[derive(Debug, Clone)]
pub struct DiagnosticRow {
    pub line: usize,
    pub column: usize,
    pub code: String,
    pub error: bool,
    pub message: String,
}

#[derive(Template)]
#[template(path = "analyst.html")]
struct AnalystPage {
    page: Page,
    source: String,
    checked: bool,
    clean: bool,
    diagnostics: Vec<DiagnosticRow>,
    lines: Vec<SourceLine>,
    deployed: String,
    problem: String,
}

fn analyst_page(ctx: &Ctx, status: StatusCode, page: AnalystPage) -> Response {
    let _ = ctx;
    render_status(status, &page)
}

/// `GET /analyst`.
pub async fn analyst(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<EditParams>,
) -> WebResult<Response> {
    let p = ctx.user()?;
    p.grants().deploy().map_err(|d| ctx.problem(d.into()))?;
    // `?edit=ID` (and `&version=N`, default the newest): the deployed text to start from.
    let source = match q.edit.as_deref().filter(|id| !id.is_empty()) {
        None => String::new(),
        Some(id) => {
            let versions = state
                .store
                .regulations()
                .await
                .map_err(|e| ctx.problem(e.into()))?;
            let info = versions
                .iter()
                .filter(|v| v.id == id)
                .filter(|v| q.version.is_none_or(|n| v.version == n))
                .max_by_key(|v| v.version)
                .ok_or_else(|| ctx.not_found())?;
            state
                .store
                .source(&info.digest)
                .await
                .map_err(|e| ctx.problem(e.into()))?
        }
    };
    Ok(analyst_page(
        &ctx,
        StatusCode::OK,
        AnalystPage {
            page: ctx.page(ctx.t("analyst")),
            source,
            checked: false,
            clean: false,
            diagnostics: Vec::new(),
            lines: Vec::new(),
            deployed: String::new(),
            problem: String::new(),
        },
    ))
}

/// `GET /analyst?edit=ID&version=N`.
#[derive(Debug, Deserialize)]
pub struct EditParams {
    edit: Option<String>,
    version: Option<u32>,
}

/// `POST /analyst`: `source`, and `_action` = `validate` or `deploy`.
pub async fn analyst_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let actor = principal
        .grants()
        .deploy()
        .map_err(|d| ctx.problem(d.into()))?;
    let source = form.get("source").unwrap_or_default().replace("\r\n", "\n");
    let deploy = form.get("_action") == Some("deploy");
    let check_state = state.clone();
    let text = source.clone();
    let report = tokio::task::spawn_blocking(move || {
        validate::check_str(&text, "regulation.yaml", Some(&check_state.known))
    })
    .await
    .map_err(|e| ctx.problem(crate::problem::Problem::internal(&e)))?;
    let diagnostics: Vec<DiagnosticRow> = report
        .diagnostics
        .iter()
        .map(|d| DiagnosticRow {
            line: d.location.line,
            column: d.location.column,
            code: d.code.to_string(),
            error: d.is_error(),
            message: match &d.help {
                Some(h) => format!("{} ({h})", d.message),
                None => d.message.clone(),
            },
        })
        .collect();
    let bad: std::collections::HashSet<usize> = diagnostics
        .iter()
        .filter(|d| d.error)
        .map(|d| d.line)
        .collect();
    let lines = source
        .lines()
        .enumerate()
        .map(|(i, t)| SourceLine {
            number: i + 1,
            text: t.to_string(),
            bad: bad.contains(&(i + 1)),
        })
        .collect();
    let clean = report.errors() == 0;
    let mut status = if clean {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut deployed = String::new();
    let mut problem = String::new();
    if clean && deploy {
        match state
            .store
            .deploy_validated(report, &actor.user, state.now())
            .await
        {
            Ok((d, _)) => {
                tracing::info!(id = %d.id, version = d.version, new = d.new, by = %actor.user, "regulation deployed (web)");
                deployed = format!("{} v{}{}", d.id, d.version, if d.new { "" } else { " (=)" });
            }
            Err(e) => {
                let p: crate::problem::Problem = e.into();
                status = p.status();
                problem = p.detail;
            }
        }
    }
    Ok(analyst_page(
        &ctx,
        status,
        AnalystPage {
            page: ctx.page(ctx.t("analyst")),
            source,
            checked: true,
            clean,
            diagnostics,
            lines,
            deployed,
            problem,
        },
    ))
}

/// A statutory term in the page's language, with the paper's own words when they are in that
/// language (the seeds are in Russian, one in Kazakh: quoting them on a page in another
/// language would mix languages).
fn term_cell(t: &reglament_model::model::StatutoryTerm, lang: Lang) -> String {
    let term = reglament_model::render::term_in(t.duration, lang);
    if text_language(&t.text) == Some(lang) {
        format!("{term} («{}»)", t.text)
    } else {
        term
    }
}

/// The language a regulation's quoted words are in: Kazakh if they use a letter only Kazakh
/// has, Russian if Cyrillic, English if Latin; `None` for no letters.
pub fn text_language(text: &str) -> Option<Lang> {
    const KAZAKH: &str = "әғқңөұүһіӘҒҚҢӨҰҮҺІ";
    if text.chars().any(|c| KAZAKH.contains(c)) {
        Some(Lang::Kk)
    } else if text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)) {
        Some(Lang::Ru)
    } else if text.chars().any(|c| c.is_ascii_alphabetic()) {
        Some(Lang::En)
    } else {
        None
    }
}

//! Regulations: the list, one regulation's page (swimlane diagram, steps with durations per
//! channel, statutory terms, lint warnings, versions and what changed), and the analyst's
//! page to validate a new text against its line numbers and deploy it when clean.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use reglament_model::compile::Process;
use reglament_model::model::Step;
use reglament_model::render;
use reglament_model::text::Lang;
use reglament_model::validate;
use reglament_store::RegulationInfo;
use serde::Deserialize;
use serde_json::Value;

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
    pub changes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub code: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "regulation.html")]
struct RegulationPage {
    page: Page,
    id: String,
    title: String,
    act: String,
    version: u32,
    svg: String,
    channels: Vec<ChannelRow>,
    steps: Vec<StepRow>,
    warnings: Vec<Finding>,
    versions: Vec<VersionRow>,
}

#[derive(Debug, Deserialize)]
pub struct VersionParam {
    version: Option<u32>,
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

/// What changed from `old` to `new`: steps added, removed or changed, channel terms.
pub fn changes(old: &Process, new: &Process, lang: Lang) -> Vec<String> {
    let index = |p: &Process| -> BTreeMap<String, Value> {
        p.regulation
            .steps
            .iter()
            .map(|s| {
                (
                    s.id().to_string(),
                    serde_json::to_value(s).unwrap_or(Value::Null),
                )
            })
            .collect()
    };
    let (a, b) = (index(old), index(new));
    let mut out = Vec::new();
    for (id, v) in &b {
        match a.get(id) {
            None => out.push(format!("+ {}", step_name(Some(new), id, lang))),
            Some(o) if o != v => out.push(format!("~ {}", step_name(Some(new), id, lang))),
            _ => {}
        }
    }
    for id in a.keys().filter(|k| !b.contains_key(*k)) {
        out.push(format!("− {}", step_name(Some(old), id, lang)));
    }
    for c in &new.regulation.channels {
        let before = old
            .channel(&c.id)
            .and_then(|x| x.term.as_ref())
            .map(|t| t.duration.to_string());
        let after = c.term.as_ref().map(|t| t.duration.to_string());
        if before != after {
            out.push(format!(
                "{}: {} → {}",
                c.id,
                before.unwrap_or_else(|| "—".into()),
                after.unwrap_or_else(|| "—".into())
            ));
        }
    }
    out
}

/// The linter's warnings on a deployed regulation (its definition is checked again).
fn lint_warnings(state: &AppState, p: &Process) -> Vec<Finding> {
    let text = serde_json::to_string_pretty(&p.regulation).unwrap_or_default();
    validate::check_str(&text, "deployed.json", Some(&state.known))
        .diagnostics
        .iter()
        .filter(|d| !d.is_error())
        .map(|d| Finding {
            code: d.code.to_string(),
            message: d.message.clone(),
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
    ctx.user()?;
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
    let for_render = p.clone();
    let options = render::Options {
        lang,
        channel: None,
        highlight: Vec::new(),
    };
    let svg = tokio::task::spawn_blocking(move || render::svg(&for_render, &options))
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
                .map(|t| format!("{} — «{}»", t.duration, t.text))
                .unwrap_or_default(),
            extended: c
                .extended_term
                .as_ref()
                .map(|t| format!("{} — «{}»", t.duration, t.text))
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
            kind: s.kind_name().to_string(),
            durations: channels
                .iter()
                .map(|c| {
                    p.duration(i, &c.id)
                        .map(|d| d.to_string())
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
            deployed_at: v.deployed_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            deployed_by: v.deployed_by.clone(),
            current: v.version == chosen.version,
            changes: if i == 0 {
                Vec::new()
            } else {
                changes(&processes[i - 1], &processes[i], lang)
            },
        })
        .collect();
    let warn_p = p.clone();
    let warn_state = state.clone();
    let warnings = tokio::task::spawn_blocking(move || lint_warnings(&warn_state, &warn_p))
        .await
        .unwrap_or_default();
    Ok(render(&RegulationPage {
        page: ctx.page(p.regulation.title.get(lang)),
        id: id.clone(),
        title: p.regulation.title.get(lang).to_string(),
        act: p.regulation.source.act.clone(),
        version: chosen.version,
        svg,
        channels,
        steps,
        warnings,
        versions,
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
pub async fn analyst(ctx: Ctx) -> WebResult<Response> {
    let p = ctx.user()?;
    p.grants().deploy().map_err(|d| ctx.problem(d.into()))?;
    Ok(analyst_page(
        &ctx,
        StatusCode::OK,
        AnalystPage {
            page: ctx.page(ctx.t("analyst")),
            source: String::new(),
            checked: false,
            clean: false,
            diagnostics: Vec::new(),
            lines: Vec::new(),
            deployed: String::new(),
            problem: String::new(),
        },
    ))
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

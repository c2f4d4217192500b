//! Case pages: a case's data, tasks and history (staff of its office, heads, auditors).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use reglament_audit::replay::{ReplayOptions, replay};
use reglament_model::render;
use reglament_model::text::Lang;
use reglament_runtime::{CaseState, Clocks, EventKind, TaskId};
use reglament_store::rows::{NO_DUE, instant};
use reglament_store::scan::CaseFilter;

use super::inbox::{role_name, step_name};
use super::{Ctx, Page, WebError, WebResult, day_minutes, i18n, local_time, office_name, render};
use crate::access;
use crate::auth::Principal;
use crate::problem::Problem;
use crate::state::AppState;

/// One line of a case's history.
#[derive(Debug, Clone)]
pub struct HistoryLine {
    pub at: String,
    pub who: String,
    pub what: String,
    pub detail: String,
    pub breach: bool,
}

/// A term the audit gives as the regulation writes it (`1 working day`), in `lang`.
pub fn term_words(term: &str, lang: Lang) -> String {
    term.parse::<reglament_model::duration::Term>().map_or_else(
        |_| term.to_string(),
        |t| reglament_model::render::term_in(t, lang),
    )
}

/// An outcome of step `step` by its name in `lang` (its id when it has none).
pub fn outcome_word(
    p: &reglament_model::compile::Process,
    step: &str,
    outcome: &str,
    lang: Lang,
) -> String {
    p.step_index(step)
        .and_then(|i| match p.step(i) {
            reglament_model::model::Step::Task(ts) => ts
                .outcomes
                .iter()
                .find(|x| x.id == outcome)
                .and_then(|x| x.name.as_ref())
                .map(|n| n.get(lang).to_string()),
            _ => None,
        })
        .unwrap_or_else(|| outcome.to_string())
}

/// The case's events as lines to read, in the page's language.
pub async fn history(
    state: &AppState,
    st: &CaseState,
    lang: Lang,
) -> Result<Vec<HistoryLine>, Problem> {
    let events = state.store.events(&st.id).await?;
    let p = &st.process;
    let task_step = |t: TaskId| {
        st.task(t)
            .map(|t| step_name(Some(p), &t.step_id, lang))
            .unwrap_or_default()
    };
    let outcome_name = |t: TaskId, o: &str| -> String {
        st.task(t)
            .and_then(|t| p.step_index(&t.step_id))
            .and_then(|i| match p.step(i) {
                reglament_model::model::Step::Task(ts) => ts
                    .outcomes
                    .iter()
                    .find(|x| x.id == o)
                    .and_then(|x| x.name.as_ref())
                    .map(|n| n.get(lang).to_string()),
                _ => None,
            })
            .unwrap_or_else(|| o.to_string())
    };
    let suspension_name = |t: TaskId, reason: &str| -> String {
        st.task(t)
            .and_then(|t| p.step_index(&t.step_id))
            .and_then(|i| match p.step(i) {
                reglament_model::model::Step::Task(ts) => ts
                    .suspensions
                    .iter()
                    .find(|s| s.reason == reason)
                    .map(|s| s.name.get(lang).to_string()),
                _ => None,
            })
            .unwrap_or_else(|| reason.to_string())
    };
    let moved_text = |moved: &[reglament_runtime::Moved]| -> String {
        moved
            .iter()
            .map(|m| {
                let what = match m.target {
                    reglament_runtime::DeadlineTarget::Case => {
                        i18n::t(lang, "case_term").to_string()
                    }
                    reglament_runtime::DeadlineTarget::Task(t) => task_step(t),
                };
                format!(
                    "{what}: {} → {}",
                    local_time(state, &st.office, Some(m.from)),
                    local_time(state, &st.office, Some(m.to))
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Ok(events
        .iter()
        .map(|e| {
            let kind = e.event.kind.name();
            let mut breach = false;
            let detail = match &e.event.kind {
                EventKind::CaseStarted { channel, .. } => p
                    .channel(channel)
                    .and_then(|c| c.name.as_ref())
                    .map_or_else(|| channel.clone(), |n| n.get(lang).to_string()),
                EventKind::TaskOpened { task, .. }
                | EventKind::TaskReleased { task }
                | EventKind::TaskCancelled { task } => task_step(*task),
                EventKind::TaskClaimed { task, user } => format!("{} · {user}", task_step(*task)),
                EventKind::TaskReassigned { task, user, .. } => {
                    format!("{} → {}", task_step(*task), user.as_deref().unwrap_or("*"))
                }
                EventKind::TaskCompleted {
                    task,
                    outcome,
                    reason,
                    ..
                } => {
                    let mut d = task_step(*task);
                    if let Some(o) = outcome {
                        d.push_str(&format!(" · {}", outcome_name(*task, o)));
                    }
                    if let Some(r) = reason {
                        d.push_str(&format!(" · {r}"));
                    }
                    d
                }
                EventKind::BranchTaken { next, .. } => step_name(Some(p), next, lang),
                EventKind::Split { step }
                | EventKind::JoinArrived { step, .. }
                | EventKind::DispatchReleased { step } => step_name(Some(p), step, lang),
                EventKind::DispatchQueued { step, release_at } => format!(
                    "{} · {}",
                    step_name(Some(p), step, lang),
                    local_time(state, &st.office, Some(*release_at))
                ),
                EventKind::DocumentsMissing { note, .. } => note.clone().unwrap_or_default(),
                EventKind::DeadlineBreached { due, .. } => {
                    breach = true;
                    format!(
                        "{}: {}",
                        i18n::t(lang, "due"),
                        local_time(state, &st.office, Some(*due))
                    )
                }
                EventKind::EscalationNotified { role, .. } => role_name(Some(p), role, lang),
                EventKind::CaseEnded { result, reason, .. } => {
                    let mut d = i18n::t(lang, result.as_str()).to_string();
                    if let Some(r) = reason {
                        d.push_str(&format!(" · {r}"));
                    }
                    d
                }
                EventKind::CaseCancelled { reason } => reason.clone(),
                EventKind::IncidentOpened { step, cause, .. } => {
                    breach = true;
                    format!(
                        "{} · {}",
                        step_name(Some(p), step, lang),
                        i18n::t(lang, cause)
                    )
                }
                EventKind::IncidentResolved { reason, .. } => reason.clone(),
                EventKind::WarningsScheduled { task, warnings } => {
                    let at: Vec<String> = warnings
                        .iter()
                        .map(|w| {
                            format!(
                                "{} % — {}",
                                w.percent,
                                local_time(state, &st.office, Some(w.at))
                            )
                        })
                        .collect();
                    format!("{} · {}", task_step(*task), at.join(", "))
                }
                EventKind::DeadlineWarned { task, percent, due } => format!(
                    "{} · {percent} % · {}: {}",
                    task_step(*task),
                    i18n::t(lang, "due"),
                    local_time(state, &st.office, Some(*due))
                ),
                EventKind::CaseHandedOver { from, to, step } => {
                    let office = |id: &str| {
                        state
                            .calendars
                            .office(id)
                            .map(|o| o.data.name.get(lang).to_string())
                            .unwrap_or_else(|_| id.to_string())
                    };
                    format!(
                        "{} → {} · {}",
                        office(from),
                        office(to),
                        step_name(Some(p), step, lang)
                    )
                }
                EventKind::DeadlinesRescheduled { days, moved, .. } => {
                    let mut d = moved_text(moved);
                    if !days.is_empty() {
                        let days: Vec<String> = days
                            .iter()
                            .map(|d| d.format("%d.%m.%Y").to_string())
                            .collect();
                        d.push_str(&format!(
                            " · {}: {}",
                            i18n::t(lang, "days_changed"),
                            days.join(", ")
                        ));
                    }
                    d
                }
                EventKind::TaskSuspended {
                    task,
                    reason,
                    comment,
                    stops_case_term,
                } => {
                    let mut d =
                        format!("{} · {}", task_step(*task), suspension_name(*task, reason));
                    if *stops_case_term {
                        d.push_str(&format!(" · {}", i18n::t(lang, "case_term_stopped")));
                    }
                    if let Some(c) = comment {
                        d.push_str(&format!(" · {c}"));
                    }
                    d
                }
                EventKind::Intervened {
                    action,
                    reason,
                    legal_basis,
                    approved_by,
                    moved,
                } => {
                    let what = match action {
                        reglament_runtime::Intervention::MoveTo { step } => {
                            format!("→ {}", step_name(Some(p), step, lang))
                        }
                        reglament_runtime::Intervention::CancelTask { task } => {
                            format!("{} ✕", task_step(*task))
                        }
                        reglament_runtime::Intervention::ChangeDue { .. } => moved_text(moved),
                    };
                    let mut d = format!(
                        "{what} · {reason} · {}: {legal_basis}",
                        i18n::t(lang, "iv_legal_basis")
                    );
                    if let Some(second) = approved_by {
                        d.push_str(&format!(" · {}: {second}", i18n::t(lang, "iv_approved_by")));
                    }
                    d
                }
                EventKind::CaseMigrated {
                    from_version,
                    to_version,
                    act,
                    paragraph,
                    reason,
                    tasks,
                    case_due_before,
                    case_deadline,
                    ..
                } => {
                    let mut d = format!(
                        "{} {from_version} → {to_version} · {}: {act}, {paragraph} · {reason}",
                        i18n::t(lang, "version"),
                        i18n::t(lang, "migration_basis"),
                    );
                    for t in tasks {
                        let due = |x: Option<chrono::DateTime<chrono::Utc>>| {
                            local_time(state, &st.office, x)
                        };
                        d.push_str(&format!(
                            "; {}: {} → {}",
                            step_name(Some(p), &t.to_step, lang),
                            due(t.due_before),
                            due(t.deadline.as_ref().map(|x| x.due))
                        ));
                    }
                    let after = case_deadline.as_ref().map(|x| x.due);
                    if *case_due_before != after {
                        d.push_str(&format!(
                            "; {}: {} → {}",
                            i18n::t(lang, "case_term"),
                            local_time(state, &st.office, *case_due_before),
                            local_time(state, &st.office, after)
                        ));
                    }
                    d
                }
                EventKind::TaskResumed {
                    task,
                    comment,
                    suspended_seconds,
                    moved,
                } => {
                    let mut d = format!(
                        "{} · {}: {} · {}",
                        task_step(*task),
                        i18n::t(lang, "suspended_for"),
                        i18n::span(
                            lang,
                            (*suspended_seconds / 60) as i64,
                            day_minutes(state, st.task(*task).map_or(&st.office, |t| &t.office)),
                        ),
                        moved_text(moved)
                    );
                    if let Some(c) = comment {
                        d.push_str(&format!(" · {c}"));
                    }
                    d
                }
            };
            HistoryLine {
                at: local_time(state, &st.office, Some(e.event.at)),
                who: match &e.event.actor.on_behalf_of {
                    // Under a deputy rule: who acted, and for whom.
                    Some(principal) => format!(
                        "{} ({}) — {}",
                        e.event.actor.user,
                        role_name(Some(p), &e.event.actor.role, lang),
                        i18n::t(lang, "on_behalf_of").replace("{name}", principal),
                    ),
                    None => format!(
                        "{} ({})",
                        e.event.actor.user,
                        role_name(Some(p), &e.event.actor.role, lang)
                    ),
                },
                what: i18n::t(lang, kind).to_string(),
                detail,
                breach,
            }
        })
        .collect())
}

/// The state of a case the caller may see; the 404 page otherwise (whether or not it exists).
pub async fn visible_case(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    id: &str,
) -> Result<std::sync::Arc<CaseState>, WebError> {
    access::visible_case(state, principal, id)
        .await
        .map_err(|e| ctx.unseen(e))
}

/// A task of a case as the case page lists it.
#[derive(Debug, Clone)]
pub struct TaskLine {
    pub id: String,
    pub step: String,
    pub role: String,
    pub status: String,
    pub who: String,
    pub due: String,
    /// The due date was counted into a provisional calendar year.
    pub due_provisional: bool,
    pub breached: bool,
    /// While the task's time is stopped: the reason's name and since when.
    pub suspended: Option<(String, String)>,
    /// Working time the task was suspended in all (empty when never).
    pub suspended_for: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    page: Page,
    case: String,
    service: String,
    channel: String,
    office: String,
    status: String,
    result: String,
    registered: String,
    due: String,
    /// The regulation states no term for the case's channel: `due` is an expected date.
    no_statutory_term: bool,
    due_provisional: bool,
    /// Some task's due date was counted into a provisional calendar year.
    tasks_provisional: bool,
    breached: bool,
    data: Vec<(String, String)>,
    tasks: Vec<TaskLine>,
    /// What each completed step recorded.
    recorded: Vec<super::recorded::RecordedStep>,
    history: Vec<HistoryLine>,
    svg: String,
    timeline: Vec<TimelineLine>,
    /// The timeline as a chart (server-made SVG).
    timeline_chart: String,
    chain_ok: bool,
    chain_problem: String,
    term: String,
    term_taken: String,
    term_met: String,
    incidents: Vec<super::incidents::IncidentLine>,
    /// The caller administers the case's office, so may retry its open incidents.
    may_retry: bool,
    /// An administrator: the page links to the change by hand.
    may_intervene: bool,
}

/// One step of the audited timeline: who, when, working time against the step's time.
#[derive(Debug, Clone)]
pub struct TimelineLine {
    pub task: u32,
    pub step: String,
    pub role: String,
    pub opened: String,
    pub closed: String,
    pub who: String,
    pub outcome: String,
    pub taken: String,
    pub statutory: String,
    pub breached: bool,
}

/// `GET /cases/{id}`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let st = visible_case(&state, &ctx, principal, &id).await?;
    let lang = ctx.lang;
    let p = &st.process;
    let view = state
        .store
        .case(&st.id)
        .await
        .map_err(|e| ctx.problem(e.into()))?
        .ok_or_else(|| ctx.not_found())?;
    let pinned = state
        .service
        .case_clock(&st.office, &st.calendar_version)
        .await
        .ok();
    let provisional = |due: Option<chrono::DateTime<chrono::Utc>>| {
        crate::api::dto::due_provisional(pinned.as_ref(), due)
    };
    // Only what is still to do: finished tasks are in the timeline above.
    let tasks: Vec<TaskLine> = st
        .open_tasks()
        .map(|t| TaskLine {
            id: crate::api::task_id(st.id.as_str(), t.id.0),
            step: step_name(Some(p), &t.step_id, lang),
            role: role_name(Some(p), &t.role, lang),
            status: t.status.as_str().to_string(),
            who: t
                .closed_by
                .as_deref()
                .or(t.claimed_by.as_deref())
                .unwrap_or_default()
                .to_string(),
            due: local_time(&state, &t.office, t.deadline.as_ref().map(|d| d.due)),
            due_provisional: provisional(t.deadline.as_ref().map(|d| d.due)),
            breached: t.breached,
            suspended: t.suspended.as_ref().map(|s| {
                let name = match st.step_of(t) {
                    reglament_model::model::Step::Task(ts) => ts
                        .suspensions
                        .iter()
                        .find(|x| *x.reason == *s.reason)
                        .map(|x| x.name.get(lang).to_string()),
                    _ => None,
                };
                (
                    name.unwrap_or_else(|| s.reason.to_string()),
                    local_time(&state, &t.office, Some(s.since)),
                )
            }),
            suspended_for: if t.suspended_seconds > 0 {
                i18n::span(
                    lang,
                    (t.suspended_seconds / 60) as i64,
                    day_minutes(&state, &t.office),
                )
            } else {
                String::new()
            },
        })
        .collect();
    let tasks_provisional = tasks.iter().any(|t| t.due_provisional);
    // The audit: the chain verified, the timeline with working time against the statute.
    let opts = ReplayOptions {
        at: None,
        now: state.now(),
        clocks: Some(&state.calendars as &dyn Clocks),
    };
    let audit = replay(&state.store, &st.id, &opts)
        .await
        .map_err(|e| ctx.error(axum::http::StatusCode::CONFLICT, e.to_string()))?;
    // The same steps as a chart: working time used against the step's time, in working
    // minutes of the office that did it.
    let chart_steps: Vec<reglament_audit::svg::TimelineStep> = audit
        .timeline
        .iter()
        .filter(|t| t.kind != "dispatch")
        .map(|t| {
            let office = t.office.as_deref().unwrap_or(&st.office);
            reglament_audit::svg::TimelineStep {
                name: t
                    .name
                    .as_ref()
                    .map_or_else(|| t.step.clone(), |n| n.get(lang).to_string()),
                used_minutes: t.working_minutes.unwrap_or(0),
                allowed_minutes: p
                    .step_index(&t.step)
                    .and_then(|i| p.duration(i, &st.channel))
                    .map(|term| {
                        term.approx_working_minutes(
                            u32::try_from(day_minutes(&state, office)).unwrap_or(480),
                        )
                    }),
                late: t.breached,
            }
        })
        .collect();
    let timeline_chart = if chart_steps.is_empty() {
        String::new()
    } else {
        reglament_audit::svg::timeline_chart(&chart_steps, lang)
    };
    let timeline = audit
        .timeline
        .iter()
        .map(|t| TimelineLine {
            task: t.task,
            step: t
                .name
                .as_ref()
                .map_or_else(|| t.step.clone(), |n| n.get(lang).to_string()),
            role: role_name(Some(p), &t.role, lang),
            opened: local_time(
                &state,
                t.office.as_deref().unwrap_or(&st.office),
                Some(t.opened_at),
            ),
            closed: local_time(
                &state,
                t.office.as_deref().unwrap_or(&st.office),
                t.closed_at,
            ),
            who: t
                .closed_by
                .clone()
                .or(t.claimed_by.clone())
                .unwrap_or_default(),
            outcome: t
                .outcome
                .as_deref()
                .map(|o| outcome_word(p, &t.step, o, lang))
                .unwrap_or_default(),
            taken: t
                .working_minutes
                .map(|m| {
                    let office = t.office.as_deref().unwrap_or(&st.office);
                    i18n::span(lang, m, day_minutes(&state, office))
                })
                .unwrap_or_default(),
            statutory: t
                .statutory
                .as_deref()
                .map(|s| term_words(s, lang))
                .unwrap_or_default(),
            breached: t.breached,
        })
        .collect();
    let highlight: Vec<String> = st.open_tasks().map(|t| t.step_id.to_string()).collect();
    let for_render = st.process.clone();
    let options = render::Options {
        lang,
        channel: Some(st.channel.to_string()),
        highlight,
    };
    let svg = tokio::task::spawn_blocking(move || render::svg(&for_render, &options))
        .await
        .unwrap_or_default();
    let page = CasePage {
        page: ctx
            .page(&format!("{} · {}", ctx.t("case"), st.id.as_str()))
            .noting_languages_of(p),
        case: st.id.to_string(),
        service: p.regulation.title.get(lang).to_string(),
        channel: p
            .channel(&st.channel)
            .and_then(|c| c.name.as_ref())
            .map_or_else(|| st.channel.to_string(), |n| n.get(lang).to_string()),
        office: office_name(&state, lang, &st.office),
        status: view.status.clone(),
        result: view
            .result
            .as_deref()
            .map(|r| i18n::t(lang, r).to_string())
            .unwrap_or_default(),
        registered: local_time(&state, &st.office, Some(st.registered_at)),
        due: match super::expected::expected_result(&state, &st) {
            Some(at) => ctx
                .t("expected_on")
                .replace("{}", &local_time(&state, &st.office, Some(at))),
            None if st.deadline.is_none() => ctx.t("no_term").to_string(),
            None => local_time(&state, &st.office, st.deadline.as_ref().map(|d| d.due)),
        },
        no_statutory_term: st.deadline.is_none(),
        due_provisional: provisional(st.deadline.as_ref().map(|d| d.due)),
        tasks_provisional,
        breached: st.breached,
        data: super::forms::describe(
            p.regulation.application_form.as_ref().map(|f| &f.0),
            &st.data,
            lang,
        ),
        tasks,
        recorded: super::recorded::recorded(&state, &st, lang, super::recorded::Scope::All)
            .await
            .map_err(|e| ctx.problem(e))?,
        history: history(&state, &st, lang)
            .await
            .map_err(|e| ctx.problem(e))?,
        svg,
        timeline,
        timeline_chart,
        chain_ok: audit.chain.intact,
        chain_problem: audit
            .chain
            .problem
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        term: audit
            .term
            .as_ref()
            .map(|t| term_words(&t.term, lang))
            .unwrap_or_default(),
        term_taken: audit
            .term
            .as_ref()
            .and_then(|t| t.working_minutes)
            .map(|m| i18n::span(lang, m, day_minutes(&state, &st.office)))
            .unwrap_or_default(),
        term_met: match audit.term.as_ref().and_then(|t| t.met) {
            Some(true) => ctx.t("yes").to_string(),
            Some(false) => ctx.t("breach").to_string(),
            None => String::new(),
        },
        incidents: super::incidents::lines(&state, &ctx, &st),
        may_intervene: st.status == reglament_runtime::CaseStatus::Open
            && crate::interventions::may_intervene(principal).is_ok(),
        may_retry: st.status == reglament_runtime::CaseStatus::Open
            && super::incidents::may_retry(&ctx, &st),
    };
    Ok(render(&page))
}

/// One row of a dashboard table: a step or a person with open and overdue counts.
#[derive(Debug, Clone, Default)]
pub struct CountRow {
    pub label: String,
    pub open: usize,
    pub due_today: usize,
    pub overdue: usize,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    page: Page,
    offices: Vec<super::forms::Choice>,
    open_cases: usize,
    open_tasks: usize,
    due_today: usize,
    overdue: usize,
    per_step: Vec<CountRow>,
    per_person: Vec<CountRow>,
    /// The office's last six months as charts (server-made SVG).
    charts: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct OfficeParam {
    office: Option<String>,
}

/// The offices whose work `principal` oversees: as head (or administrator) of the office,
/// or everywhere as auditor or administrator.
fn supervised(state: &AppState, principal: &Principal) -> Vec<String> {
    use crate::auth::policy::{ADMINISTRATOR, AUDITOR, HEAD};
    let g = principal.grants();
    state
        .offices
        .iter()
        .filter(|o| g.holds(HEAD, o) || g.holds(ADMINISTRATOR, o) || g.holds(AUDITOR, o))
        .cloned()
        .collect()
}

/// `GET /dashboard?office=`: open cases and tasks of an office, due today, overdue, by step
/// and by person.
pub async fn dashboard(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OfficeParam>,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let lang = ctx.lang;
    let offices = supervised(&state, principal);
    if offices.is_empty() {
        return Err(ctx.error(axum::http::StatusCode::FORBIDDEN, ctx.t("forbidden")));
    }
    let office = match q.office.as_deref().filter(|o| !o.is_empty()) {
        Some(o) if offices.iter().any(|x| x == o) => o.to_string(),
        Some(_) => return Err(ctx.not_found()),
        None => offices[0].clone(),
    };
    let now = state.now();
    let clock = state.calendars.clock(Some(&office)).ok();
    let today = clock.as_ref().map(|c| c.to_local(now).date_naive());
    let filter = CaseFilter {
        office: Some(office.clone()),
        ..CaseFilter::default()
    };
    let mut open_cases: Vec<(String, String)> = Vec::new();
    let mut after = String::new();
    loop {
        let page = state
            .store
            .cases_page(&filter, &after, 1000)
            .await
            .map_err(|e| ctx.problem(e.into()))?;
        let Some(last) = page.last() else { break };
        after = last.case_id.clone();
        let full = page.len() == 1000;
        open_cases.extend(
            page.into_iter()
                .filter(|c| c.status == "open")
                .map(|c| (c.case_id, c.regulation_id)),
        );
        if !full {
            break;
        }
    }
    let regulation_of: BTreeMap<String, String> = open_cases.iter().cloned().collect();
    let ids: Vec<String> = open_cases.iter().map(|(c, _)| c.clone()).collect();
    let mut tasks = Vec::new();
    for chunk in ids.chunks(500) {
        tasks.extend(
            state
                .store
                .tasks_of(chunk)
                .await
                .map_err(|e| ctx.problem(e.into()))?
                .into_iter()
                .filter(|t| matches!(t.status.as_str(), "open" | "claimed")),
        );
    }
    let mut processes = super::inbox::Processes::new(&state);
    let mut per_step: BTreeMap<String, CountRow> = BTreeMap::new();
    let mut per_person: BTreeMap<String, CountRow> = BTreeMap::new();
    let (mut due_today, mut overdue) = (0, 0);
    for t in &tasks {
        let due = (t.due != NO_DUE).then(|| instant(t.due));
        let late = due.is_some_and(|d| d <= now);
        let today_due = !late
            && due.is_some_and(|d| clock.as_ref().map(|c| c.to_local(d).date_naive()) == today);
        overdue += usize::from(late);
        due_today += usize::from(today_due);
        let process = match regulation_of.get(&t.case_id) {
            Some(r) => processes.get(r).await,
            None => None,
        };
        let step = step_name(process.as_deref(), &t.step, lang);
        let person = t.claimed_by.clone().unwrap_or_else(|| {
            format!(
                "{} ({})",
                ctx.t("unclaimed"),
                role_name(process.as_deref(), &t.role, lang)
            )
        });
        for (map, key) in [(&mut per_step, step), (&mut per_person, person)] {
            let row = map.entry(key.clone()).or_insert_with(|| CountRow {
                label: key,
                ..CountRow::default()
            });
            row.open += 1;
            row.overdue += usize::from(late);
            row.due_today += usize::from(today_due);
        }
    }
    let sorted = |m: BTreeMap<String, CountRow>| {
        let mut v: Vec<CountRow> = m.into_values().collect();
        v.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then(b.open.cmp(&a.open))
                .then(a.label.cmp(&b.label))
        });
        v
    };
    // The last six months' trend and working time per step: what the head judges the
    // office by. A report that cannot be made leaves the charts out, not the page.
    let history = CaseFilter {
        office: Some(office.clone()),
        started_from: Some(now - chrono::Duration::days(183)),
        ..CaseFilter::default()
    };
    let charts = match reglament_audit::report::compliance(
        &state.store,
        &history,
        now,
        Some(&state.calendars as &dyn Clocks),
    )
    .await
    {
        Ok(r) => reglament_audit::report::charts_html_named(&r, lang, &|o: &str| {
            office_name(&state, lang, o)
        }),
        Err(e) => {
            tracing::warn!(error = %e, %office, "dashboard charts not made");
            String::new()
        }
    };
    Ok(render(&DashboardPage {
        charts,
        page: ctx.page(ctx.t("dashboard")),
        offices: offices
            .iter()
            .map(|o| super::forms::Choice {
                selected: *o == office,
                label: office_name(&state, lang, o),
                value: o.clone(),
            })
            .collect(),
        open_cases: open_cases.len(),
        open_tasks: tasks.len(),
        due_today,
        overdue,
        per_step: sorted(per_step),
        per_person: sorted(per_person),
    }))
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    page: Page,
    offices: Vec<super::forms::Choice>,
    report: String,
}

/// `GET /report?office=`: the engine's compliance report (tables and SVG charts) for an
/// office the caller oversees; auditors may also ask for every office at once.
pub async fn report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OfficeParam>,
) -> WebResult<Response> {
    use crate::auth::policy::{ADMINISTRATOR, AUDITOR};
    let principal = ctx.user()?;
    let lang = ctx.lang;
    let offices = supervised(&state, principal);
    if offices.is_empty() {
        return Err(ctx.error(axum::http::StatusCode::FORBIDDEN, ctx.t("forbidden")));
    }
    // Whoever sees every office (an auditor or administrator granted everywhere) may report
    // on all of them at once.
    let g = principal.grants();
    let everywhere = g.holds_everywhere(AUDITOR) || g.holds_everywhere(ADMINISTRATOR);
    let office = match q.office.as_deref().filter(|o| !o.is_empty()) {
        Some(o) if offices.iter().any(|x| x == o) => Some(o.to_string()),
        Some(_) => return Err(ctx.not_found()),
        None if everywhere => None,
        None => Some(offices[0].clone()),
    };
    let filter = CaseFilter {
        office: office.clone(),
        ..CaseFilter::default()
    };
    let r = reglament_audit::report::compliance(
        &state.store,
        &filter,
        state.now(),
        Some(&state.calendars as &dyn Clocks),
    )
    .await
    .map_err(|e| ctx.error(axum::http::StatusCode::CONFLICT, e.to_string()))?;
    let html =
        reglament_audit::report::to_html_named(&r, lang, &|o: &str| office_name(&state, lang, o));
    let mut choices = Vec::new();
    if everywhere {
        choices.push(super::forms::Choice {
            value: String::new(),
            label: ctx.t("all_offices").to_string(),
            selected: office.is_none(),
        });
    }
    choices.extend(offices.iter().map(|o| super::forms::Choice {
        selected: office.as_deref() == Some(o.as_str()),
        label: office_name(&state, lang, o),
        value: o.clone(),
    }));
    // The report keeps its own `<style>` (it is also a standalone document): allowed by hash.
    let policy = crate::headers::policy_allowing_styles(&html);
    let mut response = render(&ReportPage {
        page: ctx.page(ctx.t("report")),
        offices: choices,
        report: html,
    });
    response
        .headers_mut()
        .insert(axum::http::header::CONTENT_SECURITY_POLICY, policy);
    Ok(response)
}

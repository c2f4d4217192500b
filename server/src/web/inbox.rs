//! The inbox: the caller's open tasks across their roles and offices, most urgent first,
//! with the working time left on each office's calendar, filters, counts and a claim button.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use reglament_model::compile::Process;
use reglament_model::text::Lang;
use reglament_store::InboxStatus;
use serde::Deserialize;

use super::{Ctx, Page, WebResult, i18n, local_time, office_name, render};
use crate::api::task_id;
use crate::auth::Principal;
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::{self, ViewSort};

/// The most tasks one inbox page shows.
pub const PAGE_LIMIT: u32 = 1000;

/// The inbox's filters (`?role=&office=&status=open|claimed&overdue=on&sort=`), or a saved
/// view of an office (`?view=<id>`), whose filters then stand for the others.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    pub role: Option<String>,
    pub office: Option<String>,
    pub status: Option<String>,
    pub overdue: Option<String>,
    pub sort: Option<String>,
    pub view: Option<String>,
}

impl Filters {
    fn role(&self) -> Option<&str> {
        self.role.as_deref().filter(|r| !r.is_empty())
    }
    fn office(&self) -> Option<&str> {
        self.office.as_deref().filter(|r| !r.is_empty())
    }
    fn status(&self) -> &str {
        match self.status.as_deref() {
            Some("open") => "open",
            Some("claimed") => "claimed",
            _ => "",
        }
    }
    fn overdue(&self) -> bool {
        self.overdue.as_deref().is_some_and(|v| !v.is_empty())
    }
    fn sort(&self) -> ViewSort {
        self.sort
            .as_deref()
            .and_then(ViewSort::parse)
            .unwrap_or_default()
    }
    fn view(&self) -> Option<&str> {
        self.view.as_deref().filter(|v| !v.is_empty())
    }

    /// The filters a saved view stands for.
    fn of_view(row: &views::Row) -> Filters {
        Filters {
            role: row.role.clone(),
            office: Some(row.office.clone()),
            status: row.status.clone(),
            overdue: row.overdue().then(|| "on".to_string()),
            sort: Some(row.sort().as_str().to_string()),
            view: Some(row.id.clone()),
        }
    }
}

/// One row of the inbox.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub case: String,
    pub step: String,
    pub service: String,
    pub role: String,
    pub office: String,
    pub applicant: String,
    pub due: String,
    pub left: String,
    pub overdue: bool,
    /// The share of its working time, in percent, whose warning has passed.
    pub warning: Option<u8>,
    pub breached: bool,
    pub claimed_by_me: bool,
    pub claimed_by: String,
    /// The user a head handed the task to (only they may claim it).
    pub assigned_to: String,
    /// "Suspended since …" (the office's local time) while the task's time is stopped; such
    /// a row is neither overdue nor warned.
    pub suspended: Option<String>,
}

/// A select's choice.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Everything the inbox page shows.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub rows: Vec<Row>,
    pub total: usize,
    pub overdue: usize,
    pub claimed: usize,
    pub open: usize,
    pub more: bool,
    pub roles: Vec<Opt>,
    pub offices: Vec<Opt>,
    pub sorts: Vec<Opt>,
}

/// Process of a regulation id, looked up once per page.
pub struct Processes<'a> {
    state: &'a AppState,
    cache: HashMap<String, Option<Arc<Process>>>,
}

impl<'a> Processes<'a> {
    pub fn new(state: &'a AppState) -> Self {
        Processes {
            state,
            cache: HashMap::new(),
        }
    }

    pub async fn get(&mut self, regulation: &str) -> Option<Arc<Process>> {
        if let Some(p) = self.cache.get(regulation) {
            return p.clone();
        }
        let p = self.state.store.latest(regulation).await.ok();
        self.cache.insert(regulation.to_string(), p.clone());
        p
    }
}

/// A step's name in `lang` (its id when unknown).
pub fn step_name(process: Option<&Process>, step: &str, lang: Lang) -> String {
    process
        .and_then(|p| p.step_index(step).map(|i| p.step(i)))
        .and_then(|s| s.name())
        .map_or_else(|| step.to_string(), |n| n.get(lang).to_string())
}

/// A role's name in `lang` (its id when unknown).
pub fn role_name(process: Option<&Process>, role: &str, lang: Lang) -> String {
    process
        .and_then(|p| p.regulation.roles.iter().find(|r| r.id == role))
        .map_or_else(|| role.to_string(), |r| r.name.get(lang).to_string())
}

/// The caller's tasks under `filters`, as rows, most urgent first.
pub async fn load(
    state: &AppState,
    principal: &Principal,
    filters: &Filters,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<View, Problem> {
    let pairs = principal
        .grants()
        .inbox_pairs(filters.role(), filters.office(), &state.offices)?;
    let overdue_at = filters.overdue().then_some(now);
    let mut pages = Vec::new();
    if filters.status() != "claimed" {
        pages.push(
            state
                .store
                .inbox_of(&pairs, &InboxStatus::Open, overdue_at, None, PAGE_LIMIT)
                .await?,
        );
    }
    if filters.status() != "open" {
        // The caller's claims, and those of the users they act for (deputy rules).
        pages.extend(
            crate::deputies::claimed_pages(
                &state.store,
                principal,
                &pairs,
                overdue_at,
                None,
                PAGE_LIMIT,
            )
            .await?,
        );
    }
    let page = reglament_store::InboxPage::merge(pages, PAGE_LIMIT);
    let (mut items, more) = (page.items, page.next.is_some());
    filters.sort().apply(&mut items, |i| (i.due, i.opened_at));

    let mut processes = Processes::new(state);
    let mut clocks = HashMap::new();
    let mut offices_seen: HashMap<String, String> = HashMap::new();
    let mut view = View {
        more,
        ..View::default()
    };
    for i in items {
        // A suspended task's due instant moves when it resumes: it is not overdue.
        if filters.overdue() && i.suspended_since.is_some() {
            continue;
        }
        let process = processes.get(&i.regulation).await;
        let clock = clocks
            .entry(i.office.clone())
            .or_insert_with(|| state.calendars.clock(Some(&i.office)).ok());
        let suspended = i.suspended_since.map(|since| {
            i18n::t(lang, "suspended_since")
                .replace("{}", &local_time(state, &i.office, Some(since)))
        });
        let overdue = suspended.is_none() && i.due.is_some_and(|d| d <= now);
        // While suspended, the time left stands still at what was left when it stopped.
        let left_from = i.suspended_since.map_or(now, |s| s.min(now));
        let left = match (clock.as_ref(), i.due) {
            (Some(c), Some(due)) => c
                .elapsed_minutes(left_from, due)
                .map(|m| {
                    let day = c.schedule().day_minutes().map_or(8 * 60, i64::from);
                    i18n::working_time_left(lang, m, day)
                })
                .unwrap_or_default(),
            _ => i18n::t(lang, "no_term").to_string(),
        };
        let office = offices_seen
            .entry(i.office.clone())
            .or_insert_with(|| office_name(state, lang, &i.office))
            .clone();
        let claimed_by_me = i.claimed_by.as_deref() == Some(&*principal.login);
        view.overdue += usize::from(overdue);
        view.claimed += usize::from(claimed_by_me);
        view.open += usize::from(i.status == "open");
        view.rows.push(Row {
            id: task_id(&i.case, i.task),
            step: step_name(process.as_deref(), &i.step, lang),
            service: process.as_deref().map_or_else(
                || i.regulation.clone(),
                |p| p.regulation.title.get(lang).to_string(),
            ),
            role: role_name(process.as_deref(), &i.role, lang),
            due: local_time(state, &i.office, i.due),
            left,
            overdue,
            warning: crate::api::dto::warning_of(
                process.as_deref(),
                clock.as_ref(),
                i.opened_at,
                i.due,
                now,
            )
            .filter(|_| suspended.is_none()),
            suspended,
            breached: i.breached,
            claimed_by_me,
            claimed_by: i.claimed_by.clone().unwrap_or_default(),
            assigned_to: i.assigned_to.clone().unwrap_or_default(),
            applicant: i.applicant.unwrap_or_default(),
            office,
            case: i.case,
        });
    }
    view.total = view.rows.len();
    // The filter's choices: the caller's own roles and offices.
    let mut roles: Vec<String> = principal
        .grants
        .iter()
        .filter(|g| !crate::auth::policy::GLOBAL_ROLES.contains(&&*g.role))
        .map(|g| g.role.to_string())
        .collect();
    // A view may ask for a role the viewer supervises without holding it.
    roles.extend(filters.role().map(str::to_string));
    roles.sort();
    roles.dedup();
    view.roles = roles
        .into_iter()
        .map(|r| Opt {
            selected: filters.role() == Some(r.as_str()),
            label: i18n::role_word(lang, &r),
            value: r,
        })
        .collect();
    let mut offices: Vec<String> = pairs.iter().map(|(_, o)| o.clone()).collect();
    if let Some(o) = filters.office() {
        offices.push(o.to_string());
    }
    offices.sort();
    offices.dedup();
    view.offices = offices
        .into_iter()
        .map(|o| Opt {
            selected: filters.office() == Some(o.as_str()),
            label: office_name(state, lang, &o),
            value: o,
        })
        .collect();
    view.sorts = ViewSort::ALL
        .into_iter()
        .map(|s| Opt {
            value: s.as_str().to_string(),
            label: i18n::t(lang, &format!("sort_{}", s.as_str())).to_string(),
            selected: s == filters.sort(),
        })
        .collect();
    Ok(view)
}

#[derive(Template)]
#[template(path = "inbox.html")]
pub struct InboxPage {
    pub page: Page,
    pub view: View,
    pub status: String,
    pub overdue_only: bool,
    /// The saved views of the offices the caller works in, and the chosen one.
    pub views: super::views::Chooser,
    /// The bulk actions' bar, for heads and administrators.
    pub bulk: Option<super::bulk::Bar>,
}

/// The inbox page under `filters` (or the saved view they name).
async fn build(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    filters: &Filters,
) -> Result<InboxPage, Problem> {
    let chosen = match filters.view() {
        Some(id) => Some(views::visible(state, principal, id).await?),
        None => None,
    };
    let filters = chosen
        .as_ref()
        .map_or_else(|| filters.clone(), Filters::of_view);
    let view = load(state, principal, &filters, ctx.lang, state.now()).await?;
    let views =
        super::views::chooser(state, principal, &filters, chosen.as_ref(), ctx.lang).await?;
    let bulk = super::bulk::bar(state, principal, ctx.lang).await?;
    Ok(InboxPage {
        page: ctx.page(ctx.t("inbox")),
        view,
        status: filters.status().to_string(),
        overdue_only: filters.overdue(),
        views,
        bulk,
    })
}

/// Renders the inbox page to HTML (the benchmark calls this directly).
pub async fn render_inbox(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    filters: &Filters,
) -> Result<String, Problem> {
    let page = build(state, ctx, principal, filters).await?;
    page.render().map_err(|e| Problem::internal(&e))
}

/// `GET /inbox`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(filters): Query<Filters>,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let page = build(&state, &ctx, principal, &filters)
        .await
        .map_err(|e| ctx.problem(e))?;
    Ok(render(&page))
}

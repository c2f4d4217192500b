//! The caller's inbox: the tasks of their roles in their offices, most urgent first, a page
//! at a time, each with its due instant and the working time left on the office's calendar.

use std::collections::HashMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_store::{InboxPage, InboxStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{task_minutes_left, warning_of};
use super::{ApiResult, task_id};
use crate::auth::Principal;
use crate::problem::{Problem, Query, ReadErrors};
use crate::state::AppState;

/// Which tasks.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatusParam {
    /// Open tasks nobody has claimed.
    #[default]
    Open,
    /// Tasks the caller has claimed.
    Claimed,
}

/// Filters and paging of `GET /api/v1/inbox`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxParams {
    /// Only this role (by default: every role the caller works in). Heads may ask for the
    /// other roles of their office, auditors and administrators for any role.
    pub role: Option<String>,
    /// Only this office.
    pub office: Option<String>,
    /// `open` (default): unclaimed; `claimed`: claimed by the caller (and, for a deputy, by
    /// the users they act for in the rule's roles and office).
    pub status: Option<InboxStatusParam>,
    /// Only tasks whose due instant has passed (suspended tasks are not overdue).
    pub overdue: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// A saved view of an office the caller works in (`GET /api/v1/offices/{office}/views`):
    /// its office, and its role, status and overdue filters where the query gives none; its
    /// order applies to each page (pages follow one another by due instant). Another office's
    /// view is 404.
    #[param(max_length = 64)]
    pub view: Option<String>,
}

/// One task in an inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxTaskDto {
    /// `<case>:<number>`, for `/api/v1/tasks/{id}/…`.
    pub id: String,
    pub case: String,
    pub task: u32,
    pub step: String,
    pub role: String,
    pub office: String,
    /// `open` or `claimed`.
    pub status: String,
    pub claimed_by: Option<String>,
    /// A head handed it to this user: only they may claim it.
    pub assigned_to: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub breached: bool,
    /// The due instant has passed (never while the task is suspended: resuming moves it).
    pub overdue: bool,
    /// Working time left until the due instant on the office's calendar, in minutes
    /// (negative: overdue by that much working time); while the task is suspended, what was
    /// left when it was suspended.
    pub working_minutes_left: Option<i64>,
    /// The largest share of the task's working time, in percent, whose warning has passed
    /// (the regulation's `warnings`); absent before the first, once the task is overdue, and
    /// while it is suspended.
    pub warning: Option<u8>,
    pub regulation: String,
    pub applicant: Option<String>,
    /// Since when the task's time is stopped, while it is suspended.
    pub suspended_since: Option<DateTime<Utc>>,
}

/// A page of an inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxDto {
    pub items: Vec<InboxTaskDto>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// The caller's tasks, by due instant (then case, then task), with keyset pagination.
#[utoipa::path(
    get,
    path = "/api/v1/inbox",
    tag = "tasks",
    params(InboxParams),
    responses((status = 200, description = "A page of tasks", body = InboxDto), ReadErrors),
    security(("bearer" = []))
)]
pub async fn inbox(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<InboxParams>,
) -> ApiResult<axum::Json<InboxDto>> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::bad_request(
            "bad-query",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let view = match params.view.as_deref() {
        Some(id) => Some(crate::views::visible(&state, &principal, id).await?),
        None => None,
    };
    let chosen = view.as_ref();
    let pairs = principal.grants().inbox_pairs(
        params
            .role
            .as_deref()
            .or(chosen.and_then(|v| v.role.as_deref())),
        chosen.map_or(params.office.as_deref(), |v| Some(v.office.as_str())),
        &state.offices,
    )?;
    let now = state.now();
    let view_status = chosen.and_then(|v| match v.status.as_deref() {
        Some("claimed") => Some(InboxStatusParam::Claimed),
        Some("open") => Some(InboxStatusParam::Open),
        _ => None,
    });
    let overdue_only = params
        .overdue
        .or(chosen.map(crate::views::Row::overdue))
        .unwrap_or(false);
    let overdue_at = overdue_only.then_some(now);
    let after = params.after.as_deref();
    let page = match params.status.or(view_status).unwrap_or_default() {
        InboxStatusParam::Open => {
            state
                .store
                .inbox_of(&pairs, &InboxStatus::Open, overdue_at, after, limit)
                .await?
        }
        // The caller's claims, and those of the users they act for (deputy rules).
        InboxStatusParam::Claimed => InboxPage::merge(
            crate::deputies::claimed_pages(
                &state.store,
                &principal,
                &pairs,
                overdue_at,
                after,
                limit,
            )
            .await?,
            limit,
        ),
    };
    let (items, next) = (page.items, page.next);
    let mut clocks: HashMap<String, Option<OfficeClock>> = HashMap::new();
    // The regulations' warnings; a page names a handful of regulations.
    let mut processes: HashMap<String, Option<std::sync::Arc<Process>>> = HashMap::new();
    for i in &items {
        if !processes.contains_key(&i.regulation) {
            let p = state.store.latest(&i.regulation).await.ok();
            processes.insert(i.regulation.clone(), p);
        }
    }
    let mut items: Vec<InboxTaskDto> = items
        .into_iter()
        // A suspended task's due instant will move when it resumes: it is not overdue.
        .filter(|i| !(overdue_only && i.suspended_since.is_some()))
        .map(|i| {
            let clock = clocks
                .entry(i.office.clone())
                .or_insert_with(|| state.calendars.clock(Some(&i.office)).ok());
            let process = processes.get(&i.regulation).cloned().flatten();
            let suspended = i.suspended_since.is_some();
            InboxTaskDto {
                warning: warning_of(process.as_deref(), clock.as_ref(), i.opened_at, i.due, now)
                    .filter(|_| !suspended),
                id: task_id(&i.case, i.task),
                overdue: !suspended && i.due.is_some_and(|d| d <= now),
                working_minutes_left: task_minutes_left(
                    clock.as_ref(),
                    now,
                    i.due,
                    i.suspended_since,
                ),
                suspended_since: i.suspended_since,
                case: i.case,
                task: i.task,
                step: i.step,
                role: i.role,
                office: i.office,
                status: i.status,
                claimed_by: i.claimed_by,
                assigned_to: i.assigned_to,
                opened_at: i.opened_at,
                due: i.due,
                breached: i.breached,
                regulation: i.regulation,
                applicant: i.applicant,
            }
        })
        .collect();
    if let Some(v) = chosen {
        v.sort().apply(&mut items, |i| (i.due, i.opened_at));
    }
    Ok(axum::Json(InboxDto { items, next }))
}

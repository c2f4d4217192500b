//! Deputy rules on the web (`/deputies`): the rules the user may see — the ones they act
//! under or are acted for by, their offices' for a head, all for an administrator — the form a
//! head or an administrator records one with, and the form that ends one early with a reason.
//! The rules are the API's ([`crate::deputies`]).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;

use super::{Ctx, Page, WebResult, i18n, local_time, office_name, render_status};
use crate::auth::policy::{ADMINISTRATOR, GLOBAL_ROLES, HEAD};
use crate::deputies::{self, NewRule, Rule, RuleStatus};
use crate::problem::Problem;
use crate::state::AppState;
use reglament_store::rows::instant;

/// A rule as the list shows it.
#[derive(Debug, Clone)]
pub struct RuleLine {
    pub id: String,
    pub principal: String,
    pub deputy: String,
    pub office: String,
    pub roles: String,
    pub days: String,
    pub order_number: String,
    pub status_key: &'static str,
    pub status: String,
    pub recorded: String,
    pub ended: String,
    pub may_end: bool,
}

/// A choice in a select or a checkbox: value and label.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "deputies.html")]
struct DeputiesPage {
    page: Page,
    /// What the caller holds for others now: "role at office, for user, until day".
    acting: Vec<String>,
    rules: Vec<RuleLine>,
    may_record: bool,
    principals: Vec<Choice>,
    deputies: Vec<Choice>,
    offices: Vec<Choice>,
    roles: Vec<Choice>,
    form: Form,
    problem: String,
}

/// The form's values, kept when it comes back with an error.
#[derive(Debug, Clone, Default)]
struct Form {
    principal: String,
    deputy: String,
    office: String,
    roles: Vec<String>,
    valid_from: String,
    valid_to: String,
    order_number: String,
    note: String,
}

fn status_key(s: RuleStatus) -> &'static str {
    match s {
        RuleStatus::Scheduled => "dep_status_scheduled",
        RuleStatus::InForce => "dep_status_in_force",
        RuleStatus::Expired => "dep_status_expired",
        RuleStatus::Ended => "dep_status_ended",
    }
}

fn roles_text(ctx: &Ctx, roles: impl Iterator<Item = impl AsRef<str>>) -> String {
    roles
        .map(|r| i18n::role_word(ctx.lang, r.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    form: Form,
    problem: String,
) -> WebResult<Response> {
    let principal = ctx.user()?;
    let now = state.now();
    let rules = deputies::visible(state, principal)
        .await
        .map_err(|p| ctx.problem(p))?;
    let users = state
        .accounts
        .users()
        .await
        .map_err(|e| ctx.problem(Problem::from(e)))?;
    let name = |login: &str| {
        users
            .iter()
            .find(|u| u.login == login)
            .map_or_else(|| login.to_string(), |u| u.display_name.clone())
    };
    let lines = rules
        .iter()
        .map(|r: &Rule| {
            let s = r.status(now);
            RuleLine {
                id: r.id.clone(),
                principal: name(&r.principal),
                deputy: name(&r.deputy),
                office: office_name(state, ctx.lang, &r.office),
                roles: roles_text(ctx, r.roles()),
                days: format!("{} — {}", r.valid_from, r.valid_to),
                order_number: r.order_number.clone(),
                status_key: status_key(s),
                status: ctx.t(status_key(s)).to_string(),
                recorded: format!(
                    "{}, {}",
                    name(&r.created_by),
                    local_time(state, &r.office, Some(instant(r.created_at)))
                ),
                ended: match (&r.ended_by, r.ended_at) {
                    (Some(by), Some(at)) => format!(
                        "{}, {}: {}",
                        name(by),
                        local_time(state, &r.office, Some(instant(at))),
                        r.end_reason.clone().unwrap_or_default()
                    ),
                    _ => String::new(),
                },
                may_end: matches!(s, RuleStatus::Scheduled | RuleStatus::InForce)
                    && deputies::may_manage(principal, &r.office),
            }
        })
        .collect();
    let acting = principal
        .acting
        .iter()
        .filter(|a| a.in_force)
        .map(|a| {
            format!(
                "{} — {} — {}",
                name(&a.principal),
                i18n::role_word(ctx.lang, &a.role),
                office_name(state, ctx.lang, &a.office)
            )
        })
        .collect();
    // The offices the caller records rules for, and the people of those offices.
    let managed: Vec<&String> = state
        .offices
        .iter()
        .filter(|o| deputies::may_manage(principal, o))
        .collect();
    let works_in = |u: &crate::accounts::UserRecord| {
        !u.disabled
            && u.grants.iter().any(|g| {
                !GLOBAL_ROLES.contains(&g.role.as_str())
                    && (g.office == "*" || managed.iter().any(|o| **o == g.office))
            })
    };
    let person = |u: &crate::accounts::UserRecord, chosen: &str| Choice {
        value: u.login.clone(),
        label: format!("{} ({})", u.display_name, u.login),
        chosen: u.login == chosen,
    };
    let principals = users
        .iter()
        .filter(|u| works_in(u))
        .map(|u| person(u, &form.principal))
        .collect();
    let deputies_list = users
        .iter()
        .filter(|u| {
            !u.disabled
                && u.grants.iter().any(|g| {
                    !GLOBAL_ROLES.contains(&g.role.as_str()) && g.role != crate::demo::PORTAL_ROLE
                })
        })
        .map(|u| person(u, &form.deputy))
        .collect();
    let offices = managed
        .iter()
        .map(|o| Choice {
            value: o.to_string(),
            label: office_name(state, ctx.lang, o),
            chosen: **o == form.office,
        })
        .collect();
    let roles = crate::demo::STAFF_ROLES
        .iter()
        .map(|r| Choice {
            value: r.to_string(),
            label: i18n::role_word(ctx.lang, r),
            chosen: form.roles.iter().any(|f| f == r),
        })
        .collect();
    let g = principal.own_grants();
    Ok(render_status(
        status,
        &DeputiesPage {
            page: ctx.page(ctx.t("deputies")),
            acting,
            rules: lines,
            may_record: g.holds_somewhere(HEAD) || g.holds_everywhere(ADMINISTRATOR),
            principals,
            deputies: deputies_list,
            offices,
            roles,
            form,
            problem,
        },
    ))
}

/// `GET /deputies`.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    page(&state, &ctx, StatusCode::OK, Form::default(), String::new()).await
}

/// `POST /deputies`: records a rule; a refused one comes back with the form as it was.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let data = ctx.form(&body)?;
    let principal = ctx.check_csrf(&data)?;
    let text = |name: &str| data.text(name).unwrap_or_default().to_string();
    let form = Form {
        principal: text("principal"),
        deputy: text("deputy"),
        office: text("office"),
        roles: data.all("roles").map(str::to_string).collect(),
        valid_from: text("valid_from"),
        valid_to: text("valid_to"),
        order_number: text("order_number"),
        note: text("note"),
    };
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let (Some(valid_from), Some(valid_to)) = (day(&form.valid_from), day(&form.valid_to)) else {
        let problem = ctx.t("dep_dates_required").to_string();
        return page(
            &state,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            problem,
        )
        .await;
    };
    let new = NewRule {
        principal: form.principal.clone(),
        deputy: form.deputy.clone(),
        office: form.office.clone(),
        roles: form.roles.clone(),
        valid_from,
        valid_to,
        order_number: form.order_number.clone(),
        note: Some(form.note.clone()),
    };
    match deputies::create(&state, principal, new).await {
        Ok(_) => Ok(super::redirect("/deputies?notice=dep_recorded")),
        Err(p) if p.status().is_client_error() && p.status() != StatusCode::NOT_FOUND => {
            let status = p.status();
            let problem = ctx.refusal(&p);
            page(&state, &ctx, status, form, problem).await
        }
        Err(p) => Err(ctx.problem(p)),
    }
}

/// `POST /deputies/{id}/end`: `reason`.
pub async fn end(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult<Response> {
    let data = ctx.form(&body)?;
    let principal = ctx.check_csrf(&data)?;
    let reason = data.text("reason").unwrap_or_default().to_string();
    match deputies::end(&state, principal, &id, &reason).await {
        Ok(_) => Ok(super::redirect("/deputies?notice=dep_ended")),
        Err(p) if p.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let problem = ctx.t("reason_required").to_string();
            page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Form::default(),
                problem,
            )
            .await
        }
        Err(p) => Err(ctx.problem(p)),
    }
}

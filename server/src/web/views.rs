//! The inbox's saved views on the page: the chooser above the inbox (every view of the offices
//! the caller works in), and for a head (or an administrator) the forms that save the current
//! filters as a view of their office and remove a view. The rules are [`crate::views`].

use axum::extract::State;
use axum::http::StatusCode;
use reglament_model::text::Lang;

use super::inbox::{Filters, Opt};
use super::{Ctx, WebError, WebResult, office_name, redirect};
use crate::auth::Principal;
use crate::problem::{Path, Problem};
use crate::state::AppState;
use crate::views::{self, Row, ViewInput};

/// The views the inbox page offers.
#[derive(Debug, Clone, Default)]
pub struct Chooser {
    /// Every view of the offices the caller works in; the chosen one selected.
    pub options: Vec<Opt>,
    /// The view shown, if one was chosen.
    pub chosen: Option<Chosen>,
    /// The offices whose views the caller manages (the save form's choice); empty: no form.
    pub offices: Vec<Opt>,
    /// The current filters, carried by the save form.
    pub role: String,
    pub status: String,
    pub overdue: bool,
    pub sort: String,
}

/// The chosen view, as the page says it.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub id: String,
    pub name: String,
    pub office: String,
    pub changed_by: String,
    /// The caller may remove it.
    pub removable: bool,
}

/// What the inbox page offers under `filters` (those of `chosen`, when a view was chosen).
pub async fn chooser(
    state: &AppState,
    principal: &Principal,
    filters: &Filters,
    chosen: Option<&Row>,
    lang: Lang,
) -> Result<Chooser, Problem> {
    let grants = principal.grants();
    let rows: Vec<Row> = views::list_all(&state.store)
        .await?
        .into_iter()
        .filter(|r| grants.sees_office(&r.office))
        // Only views the caller can open: of a role they hold or supervise.
        .filter(|r| {
            grants
                .inbox_pairs(r.role.as_deref(), Some(&r.office), &state.offices)
                .is_ok()
        })
        .collect();
    let many_offices = rows.windows(2).any(|w| w[0].office != w[1].office);
    let options = rows
        .iter()
        .map(|r| Opt {
            value: r.id.clone(),
            label: if many_offices {
                format!("{} · {}", r.name, office_name(state, lang, &r.office))
            } else {
                r.name.clone()
            },
            selected: chosen.is_some_and(|c| c.id == r.id),
        })
        .collect();
    let managed: Vec<String> = state
        .offices
        .iter()
        .filter(|o| views::manages(principal, o))
        .cloned()
        .collect();
    // Administrators of every office would get a list of all of them: their own work is
    // elsewhere, and the API names any office.
    let offices = if managed.len() > 20 {
        Vec::new()
    } else {
        managed
            .into_iter()
            .map(|o| Opt {
                selected: filters.office.as_deref() == Some(o.as_str()),
                label: office_name(state, lang, &o),
                value: o,
            })
            .collect()
    };
    Ok(Chooser {
        options,
        chosen: chosen.map(|c| Chosen {
            id: c.id.clone(),
            name: c.name.clone(),
            office: c.office.clone(),
            changed_by: c.updated_by.clone(),
            removable: views::manages(principal, &c.office),
        }),
        offices,
        role: filters.role.clone().unwrap_or_default(),
        status: filters.status.clone().unwrap_or_default(),
        overdue: filters.overdue.as_deref().is_some_and(|v| !v.is_empty()),
        sort: filters.sort.clone().unwrap_or_default(),
    })
}

/// A refusal of the view rules as a page in the reader's language.
fn refused(ctx: &Ctx, p: Problem) -> WebError {
    let key = match p.code {
        "invalid-view" => "view_invalid",
        "view-name-taken" => "view_name_taken",
        "too-many-views" => "view_too_many",
        "not-allowed-to-manage-views" => "view_not_allowed",
        _ => return ctx.problem(p),
    };
    ctx.error(p.status(), ctx.t(key))
}

/// `POST /inbox/views`: `name`, `office`, and the filters `role`, `status`, `overdue`, `sort`.
pub async fn create(State(state): State<AppState>, ctx: Ctx, body: axum::body::Bytes) -> WebResult {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let office = form
        .text("office")
        .ok_or_else(|| ctx.error(StatusCode::UNPROCESSABLE_ENTITY, ctx.t("view_invalid")))?;
    let input = ViewInput {
        name: form.get("name").unwrap_or_default().to_string(),
        role: form.text("role").map(str::to_string),
        status: form.text("status").map(str::to_string),
        overdue: form.text("overdue").is_some(),
        sort: form.text("sort").map(str::to_string),
    };
    let row = views::create(&state, principal, office, &input)
        .await
        .map_err(|p| refused(&ctx, p))?;
    Ok(redirect(&format!(
        "/inbox?view={}&notice=view_saved",
        row.id
    )))
}

/// `POST /inbox/views/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let form = ctx.form(&body)?;
    let principal = ctx.check_csrf(&form)?;
    let row = views::visible(&state, principal, &id)
        .await
        .map_err(|p| ctx.problem(p))?;
    views::delete(&state, principal, &row.office, &id)
        .await
        .map_err(|p| refused(&ctx, p))?;
    Ok(redirect("/inbox?notice=view_removed"))
}

//! Inbox views shared within an office (migration `1005_inbox_views`): a head of the office,
//! or an administrator, names a set of the inbox's filters and its order; everyone working in
//! the office sees the office's views and may choose one, in the API (`GET /api/v1/inbox?view=`)
//! and on the inbox page. A view of an office the caller does not work in is answered as one
//! that does not exist (404). Who made a view and who changed it last, and when, stay on its row.

use chrono::{DateTime, Utc};
use reglament_store::rows::{instant, micros};
use reglament_store::side::SqlArg as Arg;
use reglament_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::policy::{ADMINISTRATOR, GLOBAL_ROLES, HEAD};
use crate::problem::{FieldProblem, Problem};
use crate::state::AppState;

/// The longest name of a view, in characters.
pub const NAME_MAX: usize = 100;
/// The most views an office keeps.
pub const PER_OFFICE_MAX: usize = 50;

/// The order of the tasks a view lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ViewSort {
    /// Most urgent first: the earliest due instant first (the inbox's own order).
    #[default]
    Due,
    /// The latest due instant first.
    DueDesc,
    /// The longest waiting first: the earliest opened first.
    Opened,
    /// The newest first.
    OpenedDesc,
}

impl ViewSort {
    pub const ALL: [ViewSort; 4] = [
        ViewSort::Due,
        ViewSort::DueDesc,
        ViewSort::Opened,
        ViewSort::OpenedDesc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ViewSort::Due => "due",
            ViewSort::DueDesc => "due_desc",
            ViewSort::Opened => "opened",
            ViewSort::OpenedDesc => "opened_desc",
        }
    }

    pub fn parse(text: &str) -> Option<ViewSort> {
        ViewSort::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Orders `items` by their due and opening instants; ties keep their order (the inbox's
    /// by case and task), and a task without a due instant comes last either way.
    pub fn apply<T>(
        self,
        items: &mut [T],
        key: impl Fn(&T) -> (Option<DateTime<Utc>>, DateTime<Utc>),
    ) {
        match self {
            ViewSort::Due => {}
            ViewSort::DueDesc => items.sort_by_key(|i| {
                let due = key(i).0;
                (due.is_none(), std::cmp::Reverse(due))
            }),
            ViewSort::Opened => items.sort_by_key(|i| key(i).1),
            ViewSort::OpenedDesc => items.sort_by_key(|i| std::cmp::Reverse(key(i).1)),
        }
    }
}

/// The statuses a view may filter on (what the inbox itself offers).
pub const STATUSES: [&str; 2] = ["open", "claimed"];

/// `POST /api/v1/offices/{office}/views` and `PUT …/views/{id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewInput {
    /// The view's name, in whatever language (1 to 100 characters, no control characters;
    /// unique within the office).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Only tasks of this role (one a deployed regulation declares); none: the viewer's own roles.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub role: Option<String>,
    /// `open` (unclaimed) or `claimed` (claimed by the viewer); none: both on the inbox page,
    /// `open` in the API.
    #[serde(default)]
    #[schema(pattern = "^(open|claimed)$")]
    pub status: Option<String>,
    /// Only tasks whose due instant has passed.
    #[serde(default)]
    pub overdue: bool,
    /// `due` (default: most urgent first), `due_desc`, `opened` (longest waiting first) or
    /// `opened_desc`.
    #[serde(default)]
    #[schema(pattern = "^(due|due_desc|opened|opened_desc)$")]
    pub sort: Option<String>,
}

/// A saved inbox view of an office.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViewDto {
    pub id: String,
    pub office: String,
    pub name: String,
    pub role: Option<String>,
    /// `open`, `claimed`, or none (both on the page, `open` in the API).
    pub status: Option<String>,
    pub overdue: bool,
    pub sort: ViewSort,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// A row of `inbox_views`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub office: String,
    pub name: String,
    pub role: Option<String>,
    pub status: Option<String>,
    pub overdue: i64,
    pub sort: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

impl Row {
    pub fn sort(&self) -> ViewSort {
        ViewSort::parse(&self.sort).unwrap_or_default()
    }

    pub fn overdue(&self) -> bool {
        self.overdue != 0
    }

    pub fn dto(&self) -> ViewDto {
        ViewDto {
            id: self.id.clone(),
            office: self.office.clone(),
            name: self.name.clone(),
            role: self.role.clone(),
            status: self.status.clone(),
            overdue: self.overdue(),
            sort: self.sort(),
            created_by: self.created_by.clone(),
            created_at: instant(self.created_at),
            updated_by: self.updated_by.clone(),
            updated_at: instant(self.updated_at),
        }
    }
}

macro_rules! select_views {
    ($rest:literal) => {
        concat!(
            "SELECT id, office, name, role, status, overdue, sort, created_by, created_at, \
             updated_by, updated_at FROM inbox_views ",
            $rest
        )
    };
}

/// An office's views, by name.
pub async fn list(store: &Store, office: &str) -> Result<Vec<Row>, StoreError> {
    store
        .read_side(
            select_views!("WHERE office = $1 ORDER BY name, id"),
            vec![Arg::Text(office.to_string())],
        )
        .await
}

/// Every office's views (few: at most [`PER_OFFICE_MAX`] an office), by office and name.
pub async fn list_all(store: &Store) -> Result<Vec<Row>, StoreError> {
    store
        .read_side(select_views!("ORDER BY office, name, id"), vec![])
        .await
}

async fn get(store: &Store, id: &str) -> Result<Option<Row>, StoreError> {
    Ok(store
        .read_side::<Row>(
            select_views!("WHERE id = $1"),
            vec![Arg::Text(id.to_string())],
        )
        .await?
        .into_iter()
        .next())
}

fn no_office() -> Problem {
    Problem::not_found("no such office, or you do not work in it")
}

fn no_view() -> Problem {
    Problem::not_found("no such view, or it is of an office you do not work in")
}

/// The office's views are for the caller: the office exists and they work in it (or see
/// every office). Otherwise 404, as for an office that does not exist.
pub fn may_see(state: &AppState, principal: &Principal, office: &str) -> Result<(), Problem> {
    if state.offices.iter().any(|o| o == office) && principal.grants().sees_office(office) {
        Ok(())
    } else {
        Err(no_office())
    }
}

/// Whether the caller may name, change and remove the office's views: its head, or an
/// administrator (who sees their offices' views in any case).
pub fn manages(principal: &Principal, office: &str) -> bool {
    let g = principal.grants();
    g.holds(HEAD, office) || g.holds(ADMINISTRATOR, office)
}

fn may_manage(state: &AppState, principal: &Principal, office: &str) -> Result<(), Problem> {
    may_see(state, principal, office)?;
    if manages(principal, office) {
        return Ok(());
    }
    Err(Problem::forbidden(
        "not-allowed-to-manage-views",
        format!("only the head of office `{office}` (or an administrator) may change its views"),
    ))
}

/// A view the caller may choose (of an office they work in), or 404.
pub async fn visible(state: &AppState, principal: &Principal, id: &str) -> Result<Row, Problem> {
    let row = get(&state.store, id).await?.ok_or_else(no_view)?;
    may_see(state, principal, &row.office).map_err(|_| no_view())?;
    Ok(row)
}

/// The view `id` of `office`, for changing it: 404 when it is of another office.
async fn of_office(
    state: &AppState,
    principal: &Principal,
    office: &str,
    id: &str,
) -> Result<Row, Problem> {
    may_manage(state, principal, office)?;
    get(&state.store, id)
        .await?
        .filter(|r| r.office == office)
        .ok_or_else(no_view)
}

/// A checked input: the name trimmed, the values known. Every failing field is named.
struct Checked {
    name: String,
    role: Option<String>,
    status: Option<String>,
    overdue: bool,
    sort: ViewSort,
}

async fn check(state: &AppState, input: &ViewInput) -> Result<Checked, Problem> {
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX || name.chars().any(char::is_control) {
        errors.push(FieldProblem::new(
            "/name",
            format!("a view's name is 1 to {NAME_MAX} characters, without control characters"),
        ));
    }
    let role = input
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(role) = role
        && !known_roles(state).await?.iter().any(|r| r == role)
    {
        errors.push(FieldProblem::new(
            "/role",
            format!("no deployed regulation has a staff role `{role}`"),
        ));
    }
    let status = input.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        errors.push(FieldProblem::new(
            "/status",
            format!("status must be `open` or `claimed`, not `{s}`"),
        ));
    }
    let sort = match input.sort.as_deref().filter(|s| !s.is_empty()) {
        None => ViewSort::Due,
        Some(s) => ViewSort::parse(s).unwrap_or_else(|| {
            errors.push(FieldProblem::new(
                "/sort",
                format!("sort must be `due`, `due_desc`, `opened` or `opened_desc`, not `{s}`"),
            ));
            ViewSort::Due
        }),
    };
    if !errors.is_empty() {
        let detail = errors
            .iter()
            .map(|e| e.detail.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Problem::unprocessable("invalid-view", detail).with_errors(errors));
    }
    Ok(Checked {
        name,
        role: role.map(str::to_string),
        status: status.map(str::to_string),
        overdue: input.overdue,
        sort,
    })
}

/// The staff roles of the deployed regulations (their latest versions).
pub async fn known_roles(state: &AppState) -> Result<Vec<String>, Problem> {
    let mut roles = Vec::new();
    for r in state.store.regulations().await? {
        if let Ok(p) = state.store.latest(&r.id).await {
            roles.extend(
                p.regulation
                    .roles
                    .iter()
                    .map(|r| r.id.to_string())
                    .filter(|r| !GLOBAL_ROLES.contains(&r.as_str())),
            );
        }
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// 409 when another view of the office has the name.
fn name_taken(rows: &[Row], name: &str, except: Option<&str>) -> Result<(), Problem> {
    let taken = rows
        .iter()
        .any(|r| r.name.to_lowercase() == name.to_lowercase() && Some(r.id.as_str()) != except);
    if taken {
        let detail = format!("the office has a view named `{name}` already");
        return Err(Problem::conflict("view-name-taken", detail.clone())
            .with_errors(vec![FieldProblem::new("/name", detail)]));
    }
    Ok(())
}

/// Names a new view of `office` (its head or an administrator).
pub async fn create(
    state: &AppState,
    principal: &Principal,
    office: &str,
    input: &ViewInput,
) -> Result<Row, Problem> {
    may_manage(state, principal, office)?;
    let c = check(state, input).await?;
    let existing = list(&state.store, office).await?;
    name_taken(&existing, &c.name, None)?;
    if existing.len() >= PER_OFFICE_MAX {
        return Err(Problem::conflict(
            "too-many-views",
            format!("an office keeps at most {PER_OFFICE_MAX} views; remove one first"),
        ));
    }
    let id = format!(
        "v-{}",
        crate::auth::secret::random_base32(10)
            .map_err(|e| Problem::internal(&e))?
            .to_ascii_lowercase()
    );
    let now = micros(state.now());
    let row = Row {
        id,
        office: office.to_string(),
        name: c.name,
        role: c.role,
        status: c.status,
        overdue: i64::from(c.overdue),
        sort: c.sort.as_str().to_string(),
        created_by: principal.login.to_string(),
        created_at: now,
        updated_by: principal.login.to_string(),
        updated_at: now,
    };
    state
        .store
        .write_side(vec![(
            "INSERT INTO inbox_views (id, office, name, role, status, overdue, sort, created_by, \
             created_at, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            vec![
                Arg::Text(row.id.clone()),
                Arg::Text(row.office.clone()),
                Arg::Text(row.name.clone()),
                Arg::OptText(row.role.clone()),
                Arg::OptText(row.status.clone()),
                Arg::Int(row.overdue),
                Arg::Text(row.sort.clone()),
                Arg::Text(row.created_by.clone()),
                Arg::Int(row.created_at),
                Arg::Text(row.updated_by.clone()),
                Arg::Int(row.updated_at),
            ],
        )])
        .await?;
    tracing::info!(id = %row.id, office, by = %row.created_by, "inbox view created");
    Ok(row)
}

/// Renames a view or changes its filters (the office's head or an administrator).
pub async fn update(
    state: &AppState,
    principal: &Principal,
    office: &str,
    id: &str,
    input: &ViewInput,
) -> Result<Row, Problem> {
    let mut row = of_office(state, principal, office, id).await?;
    let c = check(state, input).await?;
    name_taken(&list(&state.store, office).await?, &c.name, Some(id))?;
    row.name = c.name;
    row.role = c.role;
    row.status = c.status;
    row.overdue = i64::from(c.overdue);
    row.sort = c.sort.as_str().to_string();
    row.updated_by = principal.login.to_string();
    row.updated_at = micros(state.now());
    let changed = state
        .store
        .write_side(vec![(
            "UPDATE inbox_views SET name = $2, role = $3, status = $4, overdue = $5, sort = $6, \
             updated_by = $7, updated_at = $8 WHERE id = $1",
            vec![
                Arg::Text(row.id.clone()),
                Arg::Text(row.name.clone()),
                Arg::OptText(row.role.clone()),
                Arg::OptText(row.status.clone()),
                Arg::Int(row.overdue),
                Arg::Text(row.sort.clone()),
                Arg::Text(row.updated_by.clone()),
                Arg::Int(row.updated_at),
            ],
        )])
        .await?;
    if changed.first().copied().unwrap_or(0) == 0 {
        return Err(no_view());
    }
    tracing::info!(id, office, by = %row.updated_by, "inbox view changed");
    Ok(row)
}

/// Removes a view (the office's head or an administrator).
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    office: &str,
    id: &str,
) -> Result<(), Problem> {
    of_office(state, principal, office, id).await?;
    state
        .store
        .write_side(vec![(
            "DELETE FROM inbox_views WHERE id = $1",
            vec![Arg::Text(id.to_string())],
        )])
        .await?;
    tracing::info!(id, office, by = %principal.login, "inbox view removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_keep_ties_and_put_tasks_without_a_due_instant_last() {
        let t = |h: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-04-15T{h:02}:00:00Z"))
                .expect("instant")
                .with_timezone(&Utc)
        };
        // (id, due, opened)
        let items = vec![
            (1, Some(t(9)), t(3)),
            (2, None, t(1)),
            (3, Some(t(12)), t(2)),
        ];
        let order = |s: ViewSort| {
            let mut v = items.clone();
            s.apply(&mut v, |i| (i.1, i.2));
            v.iter().map(|i| i.0).collect::<Vec<_>>()
        };
        assert_eq!(order(ViewSort::Due), vec![1, 2, 3]);
        assert_eq!(order(ViewSort::DueDesc), vec![3, 1, 2]);
        assert_eq!(order(ViewSort::Opened), vec![2, 3, 1]);
        assert_eq!(order(ViewSort::OpenedDesc), vec![1, 3, 2]);
        assert_eq!(ViewSort::parse("opened_desc"), Some(ViewSort::OpenedDesc));
        assert_eq!(ViewSort::parse("name"), None);
    }
}

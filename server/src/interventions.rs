//! Changes to a case by hand (migration `1006_interventions`): an administrator moves a case
//! to a step, cancels a task (its step is skipped and its path goes on) or changes a due
//! instant — always with a written reason and the legal basis. Returning a case to a step it
//! was at applies at once. Skipping a step (moving on to a step the case has not been at, or
//! cancelling a task) and changing a due instant (every due instant comes from a term the
//! regulation states) need a second administrator: the proposal is kept with its what-if (the
//! case as it would be after, computed by the engine on a copy, nothing written), and another
//! administrator approves it — it is then applied once, as an `intervened` event whose actor
//! is the proposer and whose `approved_by` is the approver — or rejects it.

use chrono::{DateTime, Utc};
use reglament_runtime::{Actor, CaseId, CaseState, Command, Intervention, TaskStatus};
use reglament_store::rows::{instant, micros};
use reglament_store::side::SqlArg as Arg;
use reglament_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::field_error;
use crate::auth::Principal;
use crate::auth::policy::ADMINISTRATOR;
use crate::problem::Problem;
use crate::state::AppState;

/// Characters of a reason and of a legal basis.
const MAX_TEXT: usize = 2000;

/// A change by hand, as proposed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// `{"kind": "move_to", "step": "review"}`, `{"kind": "cancel_task", "task": 3}` or
    /// `{"kind": "change_due", "target": {"of": "case"} | {"of": "task", "task": 3}, "due":
    /// "2026-04-27T13:00:00Z"}`.
    #[schema(value_type = Object)]
    pub action: Intervention,
    /// Why, in 1 to 2,000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// The legal basis (an order's number, an article), in 1 to 2,000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub legal_basis: String,
}

/// A task of the case as it would be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PreviewTask {
    pub task: u32,
    pub step: String,
    pub role: String,
    pub office: String,
    pub due: Option<DateTime<Utc>>,
}

/// What-if: the case after the change, as the engine computes it on a copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Preview {
    /// Whether a second administrator must approve it.
    pub needs_approval: bool,
    /// The open tasks before and after.
    pub tasks_before: Vec<PreviewTask>,
    pub tasks_after: Vec<PreviewTask>,
    /// The case's statutory due instant before and after.
    pub case_due_before: Option<DateTime<Utc>>,
    pub case_due_after: Option<DateTime<Utc>>,
    /// Whether the case would be past its due instant at the time of the what-if.
    pub overdue_after: bool,
    /// The events the change would record, by kind.
    pub events: Vec<String>,
    pub at: DateTime<Utc>,
}

/// A row of `intervention_requests`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: String,
    pub case_id: String,
    pub action: String,
    pub reason: String,
    pub legal_basis: String,
    pub proposed_by: String,
    pub created_at: i64,
    pub preview: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_reason: Option<String>,
}

/// A change by hand waiting for (or past) a second administrator.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestDto {
    pub id: String,
    pub case: String,
    #[schema(value_type = Object)]
    pub action: Intervention,
    pub reason: String,
    pub legal_basis: String,
    pub proposed_by: String,
    pub created_at: DateTime<Utc>,
    /// `proposed`, `applied`, `rejected` or `failed` (the case had changed so that it no
    /// longer applied).
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub preview: Preview,
}

impl Row {
    pub fn action(&self) -> Result<Intervention, Problem> {
        serde_json::from_str(&self.action).map_err(|e| Problem::internal(&e))
    }

    pub fn preview(&self) -> Result<Preview, Problem> {
        serde_json::from_str(&self.preview).map_err(|e| Problem::internal(&e))
    }

    pub fn dto(&self) -> Result<RequestDto, Problem> {
        Ok(RequestDto {
            id: self.id.clone(),
            case: self.case_id.clone(),
            action: self.action()?,
            reason: self.reason.clone(),
            legal_basis: self.legal_basis.clone(),
            proposed_by: self.proposed_by.clone(),
            created_at: instant(self.created_at),
            status: self.status.clone(),
            decided_by: self.decided_by.clone(),
            decided_at: self.decided_at.map(instant),
            decision_reason: self.decision_reason.clone(),
            preview: self.preview()?,
        })
    }
}

macro_rules! select_requests {
    ($rest:literal) => {
        concat!(
            "SELECT id, case_id, action, reason, legal_basis, proposed_by, created_at, preview, \
             status, decided_by, decided_at, decision_reason FROM intervention_requests ",
            $rest
        )
    };
}

/// Only administrators change cases by hand.
pub fn may_intervene(caller: &Principal) -> Result<Actor, Problem> {
    if caller.own_grants().holds_everywhere(ADMINISTRATOR) {
        Ok(Actor::new(&*caller.login, ADMINISTRATOR))
    } else {
        Err(Problem::forbidden(
            "not-allowed-to-intervene",
            "only an administrator changes a case by hand",
        ))
    }
}

/// Whether `action` on `st` needs a second administrator: a changed due instant (each comes
/// from a term the regulation states), a cancelled task (its step is skipped), a move to a
/// step the case has not been at (a skip). A return to a step it was at does not.
pub fn needs_approval(st: &CaseState, action: &Intervention) -> bool {
    match action {
        Intervention::MoveTo { step } => !st.tasks.iter().any(|t| &*t.step_id == step.as_str()),
        Intervention::CancelTask { .. } | Intervention::ChangeDue { .. } => true,
    }
}

fn text(pointer: &str, value: &str) -> Result<String, Problem> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_TEXT {
        return Err(field_error(
            "bad-intervention",
            pointer,
            format!("1 to {MAX_TEXT} characters"),
        ));
    }
    Ok(v.to_string())
}

fn tasks(st: &CaseState) -> Vec<PreviewTask> {
    st.tasks
        .iter()
        .filter(|t| t.status == TaskStatus::Open)
        .map(|t| PreviewTask {
            task: t.id.0,
            step: t.step_id.to_string(),
            role: t.role.to_string(),
            office: t.office.to_string(),
            due: t.deadline.as_ref().map(|d| d.due),
        })
        .collect()
}

/// The what-if of `proposal` on case `id`, nothing written.
pub async fn preview(
    state: &AppState,
    caller: &Principal,
    id: &str,
    proposal: &Proposal,
) -> Result<(Preview, Command), Problem> {
    let actor = may_intervene(caller)?;
    let reason = text("/reason", &proposal.reason)?;
    let legal_basis = text("/legal_basis", &proposal.legal_basis)?;
    let before = match crate::access::visible_case(state, caller, id).await {
        Ok(st) => st,
        Err(crate::access::Unseen::Hidden) => {
            return Err(Problem::not_found("no such case"));
        }
        Err(crate::access::Unseen::Failed(e)) => return Err(e.into()),
    };
    let command = Command::Intervene {
        action: proposal.action.clone(),
        reason,
        legal_basis,
        approved_by: None,
    };
    let now = state.now();
    let (after, events) = state
        .service
        .dry_run(&CaseId::new(id), &command, &actor, now)
        .await?;
    Ok((
        Preview {
            needs_approval: needs_approval(&before, &proposal.action),
            tasks_before: tasks(&before),
            tasks_after: tasks(&after),
            case_due_before: before.deadline.as_ref().map(|d| d.due),
            case_due_after: after.deadline.as_ref().map(|d| d.due),
            overdue_after: after.deadline.as_ref().is_some_and(|d| d.due <= now),
            events: events.iter().map(|e| e.kind.name().to_string()).collect(),
            at: now,
        },
        command,
    ))
}

/// What a submission did.
pub enum Submitted {
    /// Applied at once: the events' kinds.
    Applied(Vec<String>),
    /// Waiting for a second administrator.
    Proposed(Box<Row>),
}

/// Applies `proposal` at once when it needs nobody else, else records it for a second
/// administrator with its what-if.
pub async fn submit(
    state: &AppState,
    caller: &Principal,
    id: &str,
    proposal: &Proposal,
) -> Result<Submitted, Problem> {
    let (preview, command) = preview(state, caller, id, proposal).await?;
    let actor = may_intervene(caller)?;
    let now = state.now();
    if !preview.needs_approval {
        let events = state
            .service
            .execute(&CaseId::new(id), &command, &actor, now)
            .await?;
        return Ok(Submitted::Applied(
            events
                .iter()
                .map(|e| e.event.kind.name().to_string())
                .collect(),
        ));
    }
    let Command::Intervene {
        reason,
        legal_basis,
        ..
    } = &command
    else {
        return Err(Problem::internal(&"not an intervention"));
    };
    let row = Row {
        id: format!(
            "iv-{}",
            crate::auth::secret::random_base32(10)
                .map_err(|e| Problem::internal(&e))?
                .to_ascii_lowercase()
        ),
        case_id: id.to_string(),
        action: serde_json::to_string(&proposal.action).map_err(|e| Problem::internal(&e))?,
        reason: reason.clone(),
        legal_basis: legal_basis.clone(),
        proposed_by: caller.login.to_string(),
        created_at: micros(now),
        preview: serde_json::to_string(&preview).map_err(|e| Problem::internal(&e))?,
        status: "proposed".into(),
        decided_by: None,
        decided_at: None,
        decision_reason: None,
    };
    state
        .store
        .write_side(vec![(
            "INSERT INTO intervention_requests (id, case_id, action, reason, legal_basis, \
             proposed_by, created_at, preview, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'proposed')",
            vec![
                Arg::Text(row.id.clone()),
                Arg::Text(row.case_id.clone()),
                Arg::Text(row.action.clone()),
                Arg::Text(row.reason.clone()),
                Arg::Text(row.legal_basis.clone()),
                Arg::Text(row.proposed_by.clone()),
                Arg::Int(row.created_at),
                Arg::Text(row.preview.clone()),
            ],
        )])
        .await?;
    Ok(Submitted::Proposed(Box::new(row)))
}

/// The requests, newest first.
pub async fn list(store: &Store, limit: i64) -> Result<Vec<Row>, StoreError> {
    store
        .read_side(
            select_requests!("ORDER BY created_at DESC, id DESC LIMIT $1"),
            vec![Arg::Int(limit)],
        )
        .await
}

/// One request, for an administrator (404 for anyone else and for an unknown id).
pub async fn visible(state: &AppState, caller: &Principal, id: &str) -> Result<Row, Problem> {
    may_intervene(caller)?;
    state
        .store
        .read_side::<Row>(
            select_requests!("WHERE id = $1"),
            vec![Arg::Text(id.to_string())],
        )
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Problem::not_found("no such intervention"))
}

/// Marks a proposed request decided, once: `false` when someone decided it first.
async fn decide(
    state: &AppState,
    id: &str,
    status: &str,
    by: &str,
    reason: Option<&str>,
) -> Result<bool, Problem> {
    let changed = state
        .store
        .write_side(vec![(
            "UPDATE intervention_requests SET status = $1, decided_by = $2, decided_at = $3, \
             decision_reason = $4 WHERE id = $5 AND status = 'proposed'",
            vec![
                Arg::Text(status.to_string()),
                Arg::Text(by.to_string()),
                Arg::Int(micros(state.now())),
                Arg::OptText(reason.map(str::to_string)),
                Arg::Text(id.to_string()),
            ],
        )])
        .await?;
    Ok(changed.first().copied().unwrap_or(0) == 1)
}

/// A second administrator approves: the change is applied once, as the proposer's, naming
/// the approver. The proposer may not approve their own change.
pub async fn approve(state: &AppState, caller: &Principal, id: &str) -> Result<Row, Problem> {
    let row = visible(state, caller, id).await?;
    if row.proposed_by == *caller.login {
        return Err(Problem::forbidden(
            "own-intervention",
            "the administrator who proposed a change cannot approve it: another must",
        ));
    }
    if row.status != "proposed" {
        return Err(Problem::conflict(
            "intervention-decided",
            format!("this change was {} already", row.status),
        ));
    }
    // Taken first, so that a second click or a second approver finds it decided.
    if !decide(state, id, "applied", &caller.login, None).await? {
        return Err(Problem::conflict(
            "intervention-decided",
            "this change was decided already",
        ));
    }
    let command = Command::Intervene {
        action: row.action()?,
        reason: row.reason.clone(),
        legal_basis: row.legal_basis.clone(),
        approved_by: Some(caller.login.to_string()),
    };
    let actor = Actor::new(&row.proposed_by, ADMINISTRATOR);
    let result = state
        .service
        .execute(&CaseId::new(&row.case_id), &command, &actor, state.now())
        .await;
    if let Err(e) = result {
        let p: Problem = e.into();
        state
            .store
            .write_side(vec![(
                "UPDATE intervention_requests SET status = 'failed', decision_reason = $1 \
                 WHERE id = $2",
                vec![Arg::Text(p.detail.clone()), Arg::Text(id.to_string())],
            )])
            .await?;
        return Err(Problem::conflict(
            "intervention-failed",
            format!(
                "the case changed since the proposal, and the change no longer applies: {}",
                p.detail
            ),
        ));
    }
    visible(state, caller, id).await
}

/// A second administrator (or the proposer, withdrawing it) rejects it, with a reason.
pub async fn reject(
    state: &AppState,
    caller: &Principal,
    id: &str,
    reason: &str,
) -> Result<Row, Problem> {
    let row = visible(state, caller, id).await?;
    let reason = text("/reason", reason)?;
    if row.status != "proposed"
        || !decide(state, id, "rejected", &caller.login, Some(&reason)).await?
    {
        return Err(Problem::conflict(
            "intervention-decided",
            format!("this change was {} already", row.status),
        ));
    }
    visible(state, caller, id).await
}

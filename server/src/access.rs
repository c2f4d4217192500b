//! "Which case may this caller see": the one answer the API and the web pages share. A case
//! that does not exist and a case the caller may not see are the same answer (a 404 in both
//! interfaces), so that nobody learns which ids exist.

use std::sync::Arc;

use reglament_runtime::{CaseId, CaseState, CommandError, TaskId};
use reglament_store::{ServiceError, StoreError};

use crate::api::{parse_task_id, valid_case_id};
use crate::auth::Principal;
use crate::state::AppState;

/// Why a case or task is not shown.
#[derive(Debug)]
pub enum Unseen {
    /// It does not exist, or the caller may not see it (never told apart).
    Hidden,
    /// Reading it failed (the store is down, a stored regulation does not compile).
    Failed(ServiceError),
}

/// Whether the caller may read this case: its tasks, events, timeline and documents.
pub fn may_read(principal: &Principal, case: &CaseState) -> bool {
    // Staff of every office the case has been at (where it was registered first).
    let grants = principal.grants();
    case.offices.iter().any(|o| grants.read_case(o).is_ok())
}

/// The state of a case the caller may see.
pub async fn visible_case(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<Arc<CaseState>, Unseen> {
    if !valid_case_id(id) {
        return Err(Unseen::Hidden);
    }
    let case = match state.service.case_state(&CaseId::new(id)).await {
        Ok(s) => s,
        Err(ServiceError::Command(CommandError::NoSuchCase(_))) => return Err(Unseen::Hidden),
        // A held case: its history cannot be trusted for its office, so the projection's is
        // asked, and a caller of another office learns nothing (not even that it is held).
        Err(e @ ServiceError::Store(StoreError::HistoryDoesNotVerify(_))) => {
            let office = match state.store.case(&CaseId::new(id)).await {
                Ok(Some(view)) => view.office,
                _ => return Err(Unseen::Hidden),
            };
            return if principal.grants().read_case(&office).is_ok() {
                Err(Unseen::Failed(e))
            } else {
                Err(Unseen::Hidden)
            };
        }
        Err(e) => return Err(Unseen::Failed(e)),
    };
    if may_read(principal, &case) {
        Ok(case)
    } else {
        Err(Unseen::Hidden)
    }
}

/// The case of a task (`<case>:<number>`) the caller may see, and the task's number.
pub async fn visible_task(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<(Arc<CaseState>, TaskId), Unseen> {
    let (case, n) = parse_task_id(id).ok_or(Unseen::Hidden)?;
    let case = visible_case(state, principal, &case).await?;
    if case.task(TaskId(n)).is_none() {
        return Err(Unseen::Hidden);
    }
    Ok((case, TaskId(n)))
}

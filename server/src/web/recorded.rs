//! What each completed step recorded — the head's resolution, the executor's decision number
//! and amount, a refusal's reason — shown where the next person needs it: on the task pages of
//! the steps that follow, on the case page, and on a completed task's own page. The data lives
//! only in the events (`task_completed`), so it is read from there.

use reglament_model::model::Step;
use reglament_model::text::Lang;
use reglament_runtime::{CaseState, EventKind, TaskId};

use super::inbox::{role_name, step_name};
use super::{forms, i18n, local_time};
use crate::problem::Problem;
use crate::state::AppState;

/// One completed step and what it recorded.
#[derive(Debug, Clone)]
pub struct RecordedStep {
    pub task: u32,
    pub step: String,
    /// Who completed it, in which role (and for whom, under a deputy rule).
    pub who: String,
    pub at: String,
    /// The outcome chosen, in the page's language; empty for a step with one way on.
    pub outcome: String,
    pub reason: String,
    /// The form's fields as (label, value).
    pub fields: Vec<(String, String)>,
}

/// Which records a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An open task's page: what was known when it reached its worker.
    BeforeOpening(TaskId),
    /// A completed task's page: up to and with its own record.
    ThroughCompletion(TaskId),
    /// The case page: every record.
    All,
}

/// The steps of `st` completed with something to read (data, an outcome or a reason), in the
/// order they were completed, as far as `scope` reaches.
pub async fn recorded(
    state: &AppState,
    st: &CaseState,
    lang: Lang,
    scope: Scope,
) -> Result<Vec<RecordedStep>, Problem> {
    let events = state.store.events(&st.id).await?;
    let p = &st.process;
    let mut out = Vec::new();
    // In the log's order (instants may be equal): up to the task's opening, or through its
    // completion.
    let mut past_own = false;
    for e in &events {
        match (&e.event.kind, scope) {
            (EventKind::TaskOpened { task, .. }, Scope::BeforeOpening(t)) if *task == t => break,
            (EventKind::TaskCompleted { task, .. }, Scope::ThroughCompletion(t)) if *task == t => {
                past_own = true;
            }
            _ if past_own => break,
            _ => {}
        }
        let EventKind::TaskCompleted {
            task,
            outcome,
            data,
            reason,
        } = &e.event.kind
        else {
            continue;
        };
        let Some(t) = st.task(*task) else { continue };
        let step = p.step_index(&t.step_id).map(|i| p.step(i));
        let (schema, outcome_name) = match step {
            Some(Step::Task(ts)) => (
                ts.form.as_ref().map(|f| &f.0),
                outcome.as_deref().map(|o| {
                    ts.outcomes
                        .iter()
                        .find(|x| x.id == o)
                        .and_then(|x| x.name.as_ref())
                        .map_or_else(|| o.to_string(), |n| n.get(lang).to_string())
                }),
            ),
            _ => (None, outcome.as_deref().map(str::to_string)),
        };
        let fields = forms::describe(schema, data, lang);
        if fields.is_empty() && outcome_name.is_none() && reason.is_none() {
            continue;
        }
        let actor = &e.event.actor;
        let role = role_name(Some(p), &actor.role, lang);
        out.push(RecordedStep {
            task: task.0,
            step: step_name(Some(p), &t.step_id, lang),
            who: match &actor.on_behalf_of {
                Some(principal) => format!(
                    "{} ({role}) — {}",
                    actor.user,
                    i18n::t(lang, "on_behalf_of").replace("{name}", principal)
                ),
                None => format!("{} ({role})", actor.user),
            },
            at: local_time(state, &t.office, Some(e.event.at)),
            outcome: outcome_name.unwrap_or_default(),
            reason: reason.clone().unwrap_or_default(),
            fields,
        });
    }
    Ok(out)
}

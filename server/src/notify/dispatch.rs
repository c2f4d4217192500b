//! From the outbox to notices: for each waiting row, who is told, in which language, when,
//! and what the text or the webhook's JSON says; then the notices and the row's "taken"
//! mark in one side transaction.
//!
//! Staff (by e-mail, to those who gave an address):
//! - `task_opened`, `task_reassigned` to the whole role: kind `task`, to everyone holding the
//!   task's role at the task's office; `task_reassigned` to a user: to that user;
//! - `deadline_warned`, `deadline_breached` of a task: kinds `warning`, `breach`, to whoever
//!   holds the task (claimed or assigned), else to the role at the office;
//! - `escalation_notified`: kind `escalation`, to the escalation's role (the head) at the
//!   task's office.
//!
//! Each is sent at once if the recipient chose `now` for its kind, at the next opening of the
//! task's office if it comes after hours (the default, `opening`), or not made (`off`).
//! Subscribers (webhooks): `case_started` → `registered`, `case_ended` → `result_ready`,
//! `case_cancelled` → `cancelled`.

use chrono::{DateTime, Utc};
use reglament_model::text::Lang;
use reglament_runtime::{DeadlineTarget, Event, EventKind};
use reglament_store::outbox::{self, OutboxItem};
use reglament_store::rows::{instant, micros};
use reglament_store::side::SqlArg as Arg;
use serde_json::json;
use sha2::Digest as _;

use super::NotifyError;
use super::tables::{self, Mode, Notice};
use super::texts::{self, Facts};
use crate::state::AppState;

/// Outbox rows taken per round.
const BATCH: u32 = 200;

/// Takes what waits in the outbox; returns (rows taken, notices made).
pub async fn run(state: &AppState) -> Result<(usize, usize), NotifyError> {
    let items = state.store.outbox_waiting(BATCH).await?;
    let mut taken = 0;
    let mut made = 0;
    for item in items {
        let now = micros(state.now());
        let notices = match plan(state, &item, now).await {
            Ok(n) => n,
            Err(error) => {
                // Left waiting: the next round tries again.
                tracing::error!(outbox = item.id, case = %item.case_id, %error, "notifications: cannot plan");
                continue;
            }
        };
        let mut statements: Vec<_> = notices.iter().map(tables::insert_notice).collect();
        statements.push((outbox::TAKE, vec![Arg::Int(now), Arg::Int(item.id)]));
        let changed = state.store.write_side(statements).await?;
        made += changed[..notices.len()].iter().filter(|c| **c == 1).count();
        taken += 1;
    }
    Ok((taken, made))
}

/// The stable id of a notice: its outbox row, its channel and its recipient (hashed, so the
/// id is plain ASCII fit for a header and a Message-ID whatever the login).
pub fn notice_id(outbox_id: i64, channel: &str, recipient: &str) -> String {
    let h = sha2::Sha256::digest(format!("{channel}\n{recipient}").as_bytes());
    let hex: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("n{outbox_id}-{}-{hex}", &channel[..1])
}

/// The notices one outbox row makes.
pub async fn plan(
    state: &AppState,
    item: &OutboxItem,
    now: i64,
) -> Result<Vec<Notice>, NotifyError> {
    let Some(row) = &item.event else {
        tracing::error!(outbox = item.id, case = %item.case_id, seq = item.seq, "notifications: the event is not in the log");
        return Ok(Vec::new());
    };
    let event: Event = match serde_json::from_str(&row.body) {
        Ok(e) => e,
        Err(error) => {
            tracing::error!(outbox = item.id, %error, "notifications: the event does not read");
            return Ok(Vec::new());
        }
    };
    let case = item.case_id.as_str();
    let (kind, task, to_user, to_role) = match &event.kind {
        EventKind::CaseStarted { .. } => return subscribers(state, item, "registered", now).await,
        EventKind::CaseEnded { .. } => return subscribers(state, item, "result_ready", now).await,
        EventKind::CaseCancelled { .. } => return subscribers(state, item, "cancelled", now).await,
        EventKind::TaskOpened { task, .. } => ("task", *task, None, None),
        EventKind::TaskReassigned { task, user, .. } => ("task", *task, user.clone(), None),
        EventKind::DeadlineWarned { task, .. } => ("warning", *task, None, None),
        EventKind::DeadlineBreached {
            target: DeadlineTarget::Task(task),
            ..
        } => ("breach", *task, None, None),
        EventKind::EscalationNotified { task, role } => {
            ("escalation", *task, None, Some(role.clone()))
        }
        _ => return Ok(Vec::new()),
    };
    let Some(t) = task_facts(state, case, task.0).await? else {
        return Ok(Vec::new());
    };
    let holder = t.claimed_by.clone().or(t.assigned_to.clone());
    // The role whose work it is: the escalation's, else the task's.
    let role = to_role.as_deref().unwrap_or(&t.role).to_string();
    let recipients = match (kind, to_user, to_role) {
        (_, Some(user), _) => vec![user.to_string()],
        (_, _, Some(role)) => tables::holders(&state.store, &role, &t.office).await?,
        ("warning" | "breach", _, _) if holder.is_some() => holder.into_iter().collect(),
        _ => tables::holders(&state.store, &t.role, &t.office).await?,
    };
    let process = state.store.process(&row.digest).await.ok();
    let clock = state.calendars.clock(Some(&t.office)).ok();
    let at = instant(row.at);
    // Whoever acts for a recipient at the time, in that role at the task's office, hears it too.
    let deputies =
        crate::deputies::standing_in(&state.store, &recipients, &role, &t.office, at).await?;
    // One notice a person: their own role first, else the first rule.
    let mut recipients: Vec<(String, Option<String>)> =
        recipients.into_iter().map(|r| (r, None)).collect();
    for (deputy, principal) in deputies {
        if !recipients.iter().any(|(l, _)| *l == deputy) {
            recipients.push((deputy, Some(principal)));
        }
    }
    let percent = match &event.kind {
        EventKind::DeadlineWarned { percent, .. } => Some(*percent),
        _ => None,
    };
    let mut out = Vec::new();
    for (login, acting_for) in recipients {
        if !tables::enabled(&state.store, &login).await? {
            continue;
        }
        let profile = tables::profile(&state.store, &login).await?;
        let Some(email) = profile.email.clone() else {
            continue;
        };
        let mode = profile.mode(kind);
        let not_before = match mode {
            Mode::Off => continue,
            Mode::Now => at,
            Mode::Opening => clock
                .as_ref()
                .and_then(|c| c.registration_instant(at).ok())
                .unwrap_or(at),
        };
        let lang = profile.language;
        let facts = Facts {
            kind,
            case: case.to_string(),
            task: task.0,
            step: crate::web::inbox::step_name(process.as_deref(), &t.step, lang),
            due: t.due.map(|d| local(clock.as_ref(), d)),
            percent,
            link: format!("/tasks/{}", crate::api::task_id(case, task.0)),
            acting_for,
        };
        let (subject, body) = texts::staff(lang, &facts);
        let id = notice_id(item.id, "email", &login);
        let not_before = micros(not_before);
        out.push(Notice {
            id,
            outbox_id: item.id,
            case_id: case.to_string(),
            kind: kind.to_string(),
            channel: "email".to_string(),
            recipient: login,
            target: email,
            language: lang.code().to_string(),
            subject,
            body,
            created_at: now,
            not_before,
            status: "pending".to_string(),
            attempts: 0,
            last_error: None,
            next_at: not_before,
            delivered_at: None,
            digest_office: None,
            digest_day: None,
        });
    }
    Ok(out)
}

fn local(clock: Option<&reglament_calendar::OfficeClock>, t: DateTime<Utc>) -> String {
    match clock {
        Some(c) => c.to_local(t).format("%Y-%m-%d %H:%M").to_string(),
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// A task as the projection has it.
#[derive(Debug, Clone)]
struct TaskFacts {
    step: String,
    role: String,
    office: String,
    claimed_by: Option<String>,
    assigned_to: Option<String>,
    due: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    step: String,
    role: String,
    office: String,
    claimed_by: Option<String>,
    assigned_to: Option<String>,
    due: i64,
}

async fn task_facts(
    state: &AppState,
    case: &str,
    task: u32,
) -> Result<Option<TaskFacts>, NotifyError> {
    let rows: Vec<TaskRow> = state
        .store
        .read_side(
            "SELECT step, role, office, claimed_by, assigned_to, due FROM tasks \
             WHERE case_id = $1 AND task = $2",
            vec![Arg::Text(case.to_string()), Arg::Int(i64::from(task))],
        )
        .await?;
    Ok(rows.into_iter().next().map(|r| TaskFacts {
        step: r.step,
        role: r.role,
        office: r.office,
        claimed_by: r.claimed_by,
        assigned_to: r.assigned_to,
        due: (r.due != reglament_store::rows::NO_DUE).then(|| instant(r.due)),
    }))
}

/// A webhook notice per subscriber of `event`: what the applicant's portal needs to tell
/// them, and nothing about the staff who worked the case.
async fn subscribers(
    state: &AppState,
    item: &OutboxItem,
    event: &str,
    now: i64,
) -> Result<Vec<Notice>, NotifyError> {
    let hooks: Vec<_> = tables::webhooks(&state.store)
        .await?
        .into_iter()
        .filter(|w| w.hears(event))
        .collect();
    if hooks.is_empty() {
        return Ok(Vec::new());
    }
    let Some(case) = state
        .store
        .case(&reglament_runtime::CaseId::new(&item.case_id))
        .await?
    else {
        return Ok(Vec::new());
    };
    let at = instant(item.at);
    let mut out = Vec::new();
    for hook in hooks {
        let id = notice_id(item.id, "webhook", &hook.id);
        let mut payload = json!({
            "id": id,
            "event": event,
            "case": case.case,
            "regulation": case.regulation,
            "office": case.office,
            "at": at,
        });
        match event {
            "registered" => {
                payload["registered_at"] = json!(case.registered_at);
                payload["due"] = json!(case.due);
            }
            "result_ready" => payload["result"] = json!(case.result),
            _ => {}
        }
        out.push(Notice {
            id,
            outbox_id: item.id,
            case_id: item.case_id.clone(),
            kind: event.to_string(),
            channel: "webhook".to_string(),
            recipient: hook.id.clone(),
            target: hook.url.clone(),
            language: Lang::default().code().to_string(),
            subject: event.to_string(),
            body: payload.to_string(),
            created_at: now,
            not_before: item.at.min(now),
            status: "pending".to_string(),
            attempts: 0,
            last_error: None,
            next_at: now,
            delivered_at: None,
            digest_office: None,
            digest_day: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_ids_are_stable_and_differ_by_row_channel_and_recipient() {
        let a = notice_id(7, "email", "ivanov");
        assert_eq!(a, notice_id(7, "email", "ivanov"));
        assert!(a.starts_with("n7-e-"));
        assert_ne!(a, notice_id(8, "email", "ivanov"));
        assert_ne!(a, notice_id(7, "email", "petrov"));
        assert_ne!(a, notice_id(7, "webhook", "ivanov"));
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
}

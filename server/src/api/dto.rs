//! The API's request and response bodies. They mirror the engine's views but are the API's
//! own, so that the OpenAPI document describes exactly what goes over the wire.

use chrono::{DateTime, Utc};
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::text::Text;
use reglament_store::{CaseView, StoredEvent, TaskView};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::task_id;

/// A name in the three languages (English may be missing).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TextDto {
    pub kk: String,
    pub ru: String,
    pub en: Option<String>,
}

impl From<&Text> for TextDto {
    fn from(t: &Text) -> Self {
        TextDto {
            kk: t.kk.clone(),
            ru: t.ru.clone(),
            en: t.en.clone(),
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorDto {
    pub user: String,
    pub role: String,
    /// The user acted for, under a deputy rule («исполняющий обязанности»).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

/// One event of a case's log with its place in the hash chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDto {
    /// 1, 2, 3, … within the case.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// `case_started`, `task_opened`, `task_completed`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub actor: ActorDto,
    /// The event as recorded (the hashed record's `event`), with `at`, `actor`, `type` and
    /// the fields of its type.
    #[schema(value_type = Object)]
    pub event: Value,
    /// SHA-256 of the previous event's record (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 of this event's record (see docs/hash-chain.md).
    pub hash: String,
}

impl From<&StoredEvent> for EventDto {
    fn from(e: &StoredEvent) -> Self {
        EventDto {
            seq: e.seq,
            at: e.event.at,
            kind: e.event.kind.name().to_string(),
            actor: ActorDto {
                user: e.event.actor.user.to_string(),
                role: e.event.actor.role.to_string(),
                on_behalf_of: e.event.actor.on_behalf_of.as_deref().map(str::to_string),
            },
            event: serde_json::to_value(&e.event).unwrap_or(Value::Null),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

/// What a command did: the events it appended (none when it changed nothing, e.g. a second
/// claim by the same user).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandResultDto {
    pub case: String,
    pub events: Vec<EventDto>,
}

impl CommandResultDto {
    pub fn new(case: &str, events: &[StoredEvent]) -> Self {
        CommandResultDto {
            case: case.to_string(),
            events: events.iter().map(EventDto::from).collect(),
        }
    }
}

/// Working time from `now` to `due` on the office's calendar, in minutes; negative when the
/// due instant has passed.
pub fn working_minutes_left(
    clock: Option<&OfficeClock>,
    now: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
) -> Option<i64> {
    clock?.elapsed_minutes(now, due?).ok()
}

/// A task of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskDto {
    /// `<case>:<task>`, for `/api/v1/tasks/{id}/…`.
    pub id: String,
    pub task: u32,
    pub step: String,
    pub step_name: Option<TextDto>,
    pub role: String,
    /// The office the task is in: staff of `role` there work it, on its hours (a case
    /// registered at a service centre passes to the provider's office and back).
    pub office: String,
    /// `open`, `claimed`, `completed` or `cancelled`.
    pub status: String,
    pub claimed_by: Option<String>,
    pub assigned_to: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    /// The due instant was counted into a provisional calendar year (generated from the
    /// rules of the law, not yet decreed): the decreed calendar may move it.
    pub due_provisional: bool,
    pub breached: bool,
    /// For an open task: working time left until its due instant (negative: overdue); while
    /// the task is suspended, what was left when it was suspended.
    pub working_minutes_left: Option<i64>,
    pub outcome: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    /// Since when the task's time is stopped (`POST /api/v1/tasks/{id}/suspend`), while it
    /// is suspended; then its due instant does not pass, and resuming moves it by the working
    /// time it was suspended.
    pub suspended_since: Option<DateTime<Utc>>,
    /// For an open task: the reasons its step allows suspending it for (none for a closed
    /// task, or a step that allows none).
    pub suspensions: Vec<SuspensionDto>,
}

/// A reason for which a step's task may be suspended, as the regulation allows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuspensionDto {
    /// The code to pass as `reason` to `POST /api/v1/tasks/{id}/suspend`.
    pub reason: String,
    pub name: TextDto,
    /// Whether the case's statutory term stops too (otherwise only the task's time stops).
    pub stops_case_term: bool,
}

impl From<&reglament_model::model::Suspension> for SuspensionDto {
    fn from(s: &reglament_model::model::Suspension) -> Self {
        SuspensionDto {
            reason: s.reason.clone(),
            name: TextDto::from(&s.name),
            stops_case_term: s.stops_case_term,
        }
    }
}

/// Working time left until `due` for a task that may be suspended: while it is, its time
/// stands still at what was left when it was suspended (`since`); otherwise as
/// [`working_minutes_left`].
pub fn task_minutes_left(
    clock: Option<&OfficeClock>,
    now: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    suspended_since: Option<DateTime<Utc>>,
) -> Option<i64> {
    working_minutes_left(clock, suspended_since.map_or(now, |s| s.min(now)), due)
}

/// A case as it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDto {
    pub id: String,
    pub regulation: String,
    pub regulation_version: u32,
    /// The regulation digest the case is pinned to.
    pub digest: String,
    pub channel: String,
    pub office: String,
    pub calendar_version: String,
    /// `open`, `ended` or `cancelled`.
    pub status: String,
    /// How an ended case ended: `granted`, `refused`, `returned`, `withdrawn`.
    pub result: Option<String>,
    pub applicant: Option<String>,
    pub started_at: DateTime<Utc>,
    /// When the statutory term started counting.
    pub registered_at: DateTime<Utc>,
    /// The statutory due instant in force.
    pub due: Option<DateTime<Utc>>,
    /// The due instant was counted into a provisional calendar year (generated from the
    /// rules of the law, not yet decreed): the decreed calendar may move it.
    pub due_provisional: bool,
    pub breached: bool,
    pub documents_missing: bool,
    pub ended_at: Option<DateTime<Utc>>,
    /// For an open case: working time left until the statutory due instant.
    pub working_minutes_left: Option<i64>,
    /// Events in the case's log.
    pub last_seq: u64,
    /// The hash of the last event: the head of the case's chain.
    pub last_hash: String,
    /// The application data the case was registered with.
    pub data: Value,
    pub tasks: Vec<TaskDto>,
    /// Every incident of the case, resolved ones included, oldest first.
    pub incidents: Vec<IncidentDto>,
}

/// A path of a case the engine could not take on: it waits at `step` until an administrator
/// retries it (`POST /api/v1/cases/{id}/incidents/{incident}/retry`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentDto {
    /// The case's id.
    pub case: String,
    /// Numbered from 1 within the case.
    pub incident: u32,
    /// The step the path waits at.
    pub step: String,
    /// `condition-failed`, `no-branch`, `beyond-calendar` or `before-calendar`.
    pub cause: String,
    /// What went wrong, as the engine put it.
    pub message: String,
    pub opened_at: DateTime<Utc>,
    /// When a retry took the path on; absent while the incident is open.
    pub resolved_at: Option<DateTime<Utc>>,
}

impl IncidentDto {
    pub fn new(case: &str, i: &reglament_runtime::Incident) -> IncidentDto {
        IncidentDto {
            case: case.to_string(),
            incident: i.id,
            step: i.step.to_string(),
            cause: i.cause.clone(),
            message: i.message.clone(),
            opened_at: i.opened_at,
            resolved_at: i.resolved_at,
        }
    }
}

impl CaseDto {
    /// `clock` is the office's loaded clock (for the working time left); `pinned` the one the
    /// case's deadlines were counted on.
    pub fn new(
        view: CaseView,
        data: Value,
        process: Option<&Process>,
        clock: Option<&OfficeClock>,
        pinned: Option<&OfficeClock>,
        now: DateTime<Utc>,
    ) -> CaseDto {
        let open = view.status == "open";
        let case = view.case.clone();
        let tasks = view
            .tasks
            .into_iter()
            .map(|t| task_dto(&case, t, process, clock, pinned, now))
            .collect();
        CaseDto {
            due_provisional: due_provisional(pinned.or(clock), view.due),
            working_minutes_left: if open {
                working_minutes_left(clock, now, view.due)
            } else {
                None
            },
            id: view.case,
            regulation: view.regulation,
            regulation_version: view.regulation_version,
            digest: view.digest,
            channel: view.channel,
            office: view.office,
            calendar_version: view.calendar_version,
            status: view.status,
            result: view.result,
            applicant: view.applicant,
            started_at: view.started_at,
            registered_at: view.registered_at,
            due: view.due,
            breached: view.breached,
            documents_missing: view.documents_missing,
            ended_at: view.ended_at,
            last_seq: view.last_seq,
            last_hash: view.last_hash,
            data,
            tasks,
            incidents: Vec::new(),
        }
    }
}

/// The largest share of a task's working time, in percent, whose warning (the regulation's
/// `warnings`) has passed at `now`: the same instants the timer warns at. `None` before the
/// first, for a task without a time limit, and once it is overdue (then it is late, not warned).
pub fn warning_of(
    process: Option<&Process>,
    clock: Option<&OfficeClock>,
    opened_at: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<u8> {
    let (p, clock, due) = (process?, clock?, due?);
    if p.regulation.warnings.is_empty() || due <= now {
        return None;
    }
    reglament_runtime::warning_instants(clock, opened_at, due, &p.regulation.warnings)
        .ok()?
        .into_iter()
        .rev()
        .find(|w| w.at <= now)
        .map(|w| w.percent)
}

/// Whether `due` lies in a provisional year of the clock's calendar.
pub fn due_provisional(clock: Option<&OfficeClock>, due: Option<DateTime<Utc>>) -> bool {
    clock.zip(due).is_some_and(|(c, d)| c.is_provisional(d))
}

fn task_dto(
    case: &str,
    t: TaskView,
    process: Option<&Process>,
    clock: Option<&OfficeClock>,
    pinned: Option<&OfficeClock>,
    now: DateTime<Utc>,
) -> TaskDto {
    let open = matches!(t.status.as_str(), "open" | "claimed");
    let step = process.and_then(|p| p.step_index(&t.step).map(|i| p.step(i)));
    let step_name = step.and_then(|s| s.name()).map(TextDto::from);
    let suspensions = match step {
        Some(reglament_model::model::Step::Task(ts)) if open => {
            ts.suspensions.iter().map(SuspensionDto::from).collect()
        }
        _ => Vec::new(),
    };
    TaskDto {
        due_provisional: due_provisional(pinned.or(clock), t.due),
        id: task_id(case, t.task),
        task: t.task,
        office: t.office.clone(),
        working_minutes_left: if open {
            task_minutes_left(clock, now, t.due, t.suspended_since)
        } else {
            None
        },
        suspended_since: t.suspended_since,
        suspensions,
        step: t.step,
        step_name,
        role: t.role,
        status: t.status,
        claimed_by: t.claimed_by,
        assigned_to: t.assigned_to,
        opened_at: t.opened_at,
        due: t.due,
        breached: t.breached,
        outcome: t.outcome,
        closed_at: t.closed_at,
        closed_by: t.closed_by,
    }
}

/// A role held in an office (`*`: every office).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct GrantDto {
    pub role: String,
    pub office: String,
}

impl From<&crate::auth::Grant> for GrantDto {
    fn from(g: &crate::auth::Grant) -> Self {
        GrantDto {
            role: g.role.to_string(),
            office: g.office_text().to_string(),
        }
    }
}

/// Query of `GET /api/v1/cases/{id}/events`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Also check the case's hash chain and its head in the projections.
    #[serde(default)]
    pub verify: Option<bool>,
}

/// The chain check of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChainDto {
    /// Every event's hash recomputes and links to the one before, and the head matches.
    pub verified: bool,
    /// The first problem found, if any.
    pub problem: Option<String>,
}

/// A case's log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventsDto {
    pub case: String,
    pub events: Vec<EventDto>,
    /// Present when `verify=true` was asked.
    pub chain: Option<ChainDto>,
}

//! Reading stored event bodies quickly.
//!
//! [`Event`] is a struct with its kind flattened into it, and the kind is tagged by its `type`
//! field; serde reads such a type by first copying every field of the body into a generic
//! tree (a `String` per key and per value), then reading the tree again. Replaying millions
//! of events spends most of its parsing there. [`parse_event`] reads the body once into a
//! struct that has every field any kind has, each with the type that kind gives it, and builds
//! the event from the fields its `type` needs.
//!
//! Whenever that way is not sure — an unknown `type`, a field of the kind missing, a field of
//! another kind present with a value of the wrong type, a `type` written with an escape — it
//! reads the body the ordinary way, so it gives exactly what `serde_json::from_str::<Event>`
//! gives, error or event.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::verify::utc_instant;
use reglament_model::model::CaseResult;
use reglament_runtime::{Actor, CaseId, Deadline, DeadlineTarget, Event, EventKind, Moved, TaskId};

/// Every field of every event kind, with the type its kind gives it (`Option` where a kind
/// may leave it out, or where kinds differ on whether it is required).
#[derive(Deserialize)]
struct Flat<'a> {
    #[serde(deserialize_with = "instant")]
    at: DateTime<Utc>,
    #[serde(borrow)]
    actor: FlatActor<'a>,
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    case: Option<CaseId>,
    regulation: Option<String>,
    version: Option<u32>,
    digest: Option<String>,
    channel: Option<String>,
    office: Option<String>,
    #[serde(default, deserialize_with = "some_instant")]
    registered_at: Option<DateTime<Utc>>,
    deadline: Option<Deadline>,
    calendar_version: Option<String>,
    /// `None` when absent, which the kinds that have `data` do not allow (`null` is allowed).
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    task: Option<TaskId>,
    #[serde(borrow)]
    step: Option<Cow<'a, str>>,
    #[serde(borrow)]
    role: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    outcome: Option<Cow<'a, str>>,
    reason: Option<String>,
    branch: Option<u32>,
    #[serde(borrow)]
    next: Option<Cow<'a, str>>,
    arrived: Option<u32>,
    expected: Option<u32>,
    #[serde(default, deserialize_with = "some_instant")]
    release_at: Option<DateTime<Utc>>,
    note: Option<String>,
    target: Option<DeadlineTarget>,
    #[serde(default, deserialize_with = "some_instant")]
    due: Option<DateTime<Utc>>,
    /// As the kind declares it: absent is empty, `null` is an error.
    #[serde(default)]
    escalate_at: Vec<DateTime<Utc>>,
    result: Option<CaseResult>,
    incident: Option<u32>,
    cause: Option<String>,
    message: Option<String>,
    warnings: Option<Vec<reglament_runtime::Warning>>,
    percent: Option<u8>,
    /// A calendar version (`deadlines_rescheduled`) or a regulation version (`case_migrated`).
    from_version: Option<VersionField>,
    to_version: Option<VersionField>,
    /// As the kind declares it: absent is empty, `null` is an error.
    #[serde(default)]
    days: Vec<NaiveDate>,
    moved: Option<Vec<Moved>>,
    comment: Option<String>,
    stops_case_term: Option<bool>,
    suspended_seconds: Option<u64>,
    /// As the kind declares it: absent is empty, `null` is an error.
    #[serde(default)]
    route: std::collections::BTreeMap<String, String>,
    #[serde(borrow)]
    from: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to: Option<Cow<'a, str>>,
    from_digest: Option<String>,
    to_digest: Option<String>,
    plan_digest: Option<String>,
    act: Option<String>,
    paragraph: Option<String>,
    /// As the kind declares it: absent is empty, `null` is an error.
    #[serde(default)]
    steps: std::collections::BTreeMap<String, String>,
    tasks: Option<Vec<reglament_runtime::MigratedTask>>,
    case_policy: Option<reglament_model::migration_plan::CasePolicy>,
    #[serde(default, deserialize_with = "some_instant")]
    case_due_before: Option<DateTime<Utc>>,
    case_deadline: Option<Deadline>,
    action: Option<reglament_runtime::Intervention>,
    legal_basis: Option<String>,
    approved_by: Option<String>,
}

/// `from_version`/`to_version`: a calendar version's text in `deadlines_rescheduled`, a
/// regulation version's number in `case_migrated`.
#[derive(Deserialize)]
#[serde(untagged)]
enum VersionField {
    Number(u32),
    Text(String),
}

impl VersionField {
    fn text(self) -> Option<String> {
        match self {
            VersionField::Text(s) => Some(s),
            VersionField::Number(_) => None,
        }
    }

    fn number(self) -> Option<u32> {
        match self {
            VersionField::Number(n) => Some(n),
            VersionField::Text(_) => None,
        }
    }
}

/// An instant as chrono's serde reads it, the engine's own form read without chrono.
fn instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 instant")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<DateTime<Utc>, E> {
            match utc_instant(s) {
                Some(t) => Ok(t),
                None => s
                    .parse::<DateTime<chrono::FixedOffset>>()
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(E::custom),
            }
        }
    }
    d.deserialize_str(Visitor)
}

/// [`instant`] for a field that kinds other than the one read may have (absent: `None`; a
/// `null` is refused, which sends the body the ordinary way, which then decides).
fn some_instant<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    instant(d).map(Some)
}

/// A field that is there, whatever its value (`null` included).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// [`Actor`] with its names borrowed from the body when they hold no escape.
#[derive(Deserialize)]
pub(super) struct FlatActor<'a> {
    #[serde(borrow)]
    pub user: Cow<'a, str>,
    #[serde(borrow)]
    pub role: Cow<'a, str>,
    #[serde(default, borrow)]
    pub on_behalf_of: Option<Cow<'a, str>>,
}

/// The event a stored body holds, as `serde_json::from_str::<Event>` reads it.
pub fn parse_event(body: &str) -> Result<Event, serde_json::Error> {
    EventReader::default().read(body)
}

/// Reads the events of one case: the names that recur in them (users, roles, steps) are
/// allocated once and shared, as the events of a case folded in memory share them.
#[derive(Default)]
pub struct EventReader {
    names: Vec<Arc<str>>,
}

/// Distinct names kept per reader; a case has a handful.
const NAMES: usize = 32;

impl EventReader {
    /// The event a stored body holds, as `serde_json::from_str::<Event>` reads it.
    pub fn read(&mut self, body: &str) -> Result<Event, serde_json::Error> {
        match serde_json::from_str::<Flat<'_>>(body)
            .ok()
            .and_then(|f| f.into_event(self))
        {
            Some(e) => Ok(e),
            None => serde_json::from_str(body),
        }
    }

    fn name(&mut self, s: &str) -> Arc<str> {
        if let Some(n) = self.names.iter().find(|n| ***n == *s) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(s);
        if self.names.len() < NAMES {
            self.names.push(n.clone());
        }
        n
    }
}

impl Flat<'_> {
    /// The event, or `None` when a field its kind requires is missing (the ordinary reading
    /// then says what is wrong).
    fn into_event(self, r: &mut EventReader) -> Option<Event> {
        let (escalate_at, days) = (self.escalate_at, self.days);
        let mut name = |s: Option<Cow<'_, str>>| s.map(|s| r.name(&s));
        let (step, role, user) = (name(self.step), name(self.role), name(self.user));
        let (outcome, next) = (name(self.outcome), name(self.next));
        let (from, to) = (name(self.from), name(self.to));
        let office = name(self.office.clone().map(Cow::Owned));
        let actor = Actor {
            user: r.name(&self.actor.user),
            role: r.name(&self.actor.role),
            on_behalf_of: self.actor.on_behalf_of.as_deref().map(|p| r.name(p)),
        };
        let kind = match self.kind {
            "case_started" => EventKind::CaseStarted {
                case: self.case?,
                regulation: self.regulation?,
                version: self.version?,
                digest: self.digest?,
                channel: self.channel?,
                office: self.office?,
                registered_at: self.registered_at?,
                deadline: self.deadline,
                calendar_version: self.calendar_version?,
                data: self.data?,
                route: self.route,
            },
            "task_opened" => EventKind::TaskOpened {
                task: self.task?,
                step: step?,
                role: role?,
                deadline: self.deadline,
                office,
            },
            "task_claimed" => EventKind::TaskClaimed {
                task: self.task?,
                user: user?,
            },
            "task_released" => EventKind::TaskReleased { task: self.task? },
            "task_reassigned" => EventKind::TaskReassigned {
                task: self.task?,
                user,
                role: role?,
            },
            "task_completed" => EventKind::TaskCompleted {
                task: self.task?,
                outcome,
                data: self.data?,
                reason: self.reason,
            },
            "task_cancelled" => EventKind::TaskCancelled { task: self.task? },
            "branch_taken" => EventKind::BranchTaken {
                step: step?,
                branch: self.branch,
                next: next?,
            },
            "split" => EventKind::Split { step: step? },
            "join_arrived" => EventKind::JoinArrived {
                step: step?,
                arrived: self.arrived?,
                expected: self.expected?,
            },
            "dispatch_queued" => EventKind::DispatchQueued {
                step: step?,
                release_at: self.release_at?,
            },
            "dispatch_released" => EventKind::DispatchReleased { step: step? },
            "documents_missing" => EventKind::DocumentsMissing {
                deadline: self.deadline,
                note: self.note,
            },
            "deadline_breached" => EventKind::DeadlineBreached {
                target: self.target?,
                due: self.due?,
                escalate_at,
            },
            "escalation_notified" => EventKind::EscalationNotified {
                task: self.task?,
                role: role?,
            },
            "case_ended" => EventKind::CaseEnded {
                result: self.result?,
                step,
                reason: self.reason,
            },
            "case_cancelled" => EventKind::CaseCancelled {
                reason: self.reason?,
            },
            "incident_opened" => EventKind::IncidentOpened {
                incident: self.incident?,
                step: step?,
                cause: self.cause?,
                message: self.message?,
            },
            "incident_resolved" => EventKind::IncidentResolved {
                incident: self.incident?,
                reason: self.reason?,
                // serde reads an `Option<Value>` of `null` as none.
                data: self.data.filter(|d| !d.is_null()),
            },
            "warnings_scheduled" => EventKind::WarningsScheduled {
                task: self.task?,
                warnings: self.warnings?,
            },
            "deadline_warned" => EventKind::DeadlineWarned {
                task: self.task?,
                percent: self.percent?,
                due: self.due?,
            },
            "deadlines_rescheduled" => EventKind::DeadlinesRescheduled {
                from_version: self.from_version?.text()?,
                to_version: self.to_version?.text()?,
                days,
                moved: self.moved?,
            },
            "task_suspended" => EventKind::TaskSuspended {
                task: self.task?,
                reason: self.reason?,
                comment: self.comment,
                stops_case_term: self.stops_case_term?,
            },
            "task_resumed" => EventKind::TaskResumed {
                task: self.task?,
                comment: self.comment,
                suspended_seconds: self.suspended_seconds?,
                moved: self.moved?,
            },
            "case_handed_over" => EventKind::CaseHandedOver {
                from: from?,
                to: to?,
                step: step?,
            },
            "case_migrated" => EventKind::CaseMigrated {
                regulation: self.regulation?,
                from_version: self.from_version?.number()?,
                from_digest: self.from_digest?,
                to_version: self.to_version?.number()?,
                to_digest: self.to_digest?,
                plan_digest: self.plan_digest?,
                act: self.act?,
                paragraph: self.paragraph?,
                reason: self.reason?,
                steps: self.steps,
                tasks: self.tasks?,
                case_policy: self.case_policy?,
                case_due_before: self.case_due_before,
                case_deadline: self.case_deadline,
            },
            "intervened" => EventKind::Intervened {
                action: self.action?,
                reason: self.reason?,
                legal_basis: self.legal_basis?,
                approved_by: self.approved_by.map(|a| r.name(&a)),
                moved: self.moved.unwrap_or_default(),
            },
            _ => return None,
        };
        Some(Event {
            at: self.at,
            actor,
            kind,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use reglament_model::duration::Term;
    use serde_json::json;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    fn deadline() -> Option<Deadline> {
        Some(Deadline {
            due: t("2026-04-10T13:00:00Z"),
            term: "10 working days".parse::<Term>().expect("term"),
            calendar_version: Arc::from("cal-1"),
        })
    }

    /// A sample of every kind of event (several of some).
    pub(crate) fn every_kind() -> Vec<EventKind> {
        let a: Arc<str> = Arc::from("intake");
        vec![
            EventKind::CaseStarted {
                case: CaseId::new("ATY-1"),
                regulation: "r".into(),
                version: 3,
                digest: "d".into(),
                channel: "online".into(),
                office: "o".into(),
                registered_at: t("2026-04-06T05:00:00Z"),
                deadline: deadline(),
                calendar_version: "cal-1".into(),
                data: json!({"b": [1, 2.5, null], "a": "é \"q\""}),
                route: Default::default(),
            },
            EventKind::CaseStarted {
                case: CaseId::new("ATY-2"),
                regulation: "r".into(),
                version: 3,
                digest: "d".into(),
                channel: "centre".into(),
                office: "tson".into(),
                registered_at: t("2026-04-06T05:00:00Z"),
                deadline: None,
                calendar_version: "cal-1".into(),
                data: json!({}),
                route: [
                    ("provider_office".to_string(), "ozsp".to_string()),
                    ("service_centre".to_string(), "tson".to_string()),
                ]
                .into_iter()
                .collect(),
            },
            EventKind::TaskOpened {
                task: TaskId(1),
                step: a.clone(),
                role: "clerk".into(),
                deadline: None,
                office: None,
            },
            EventKind::TaskOpened {
                task: TaskId(2),
                step: a.clone(),
                role: "executor".into(),
                deadline: deadline(),
                office: Some("ozsp".into()),
            },
            EventKind::CaseHandedOver {
                from: "tson".into(),
                to: "ozsp".into(),
                step: a.clone(),
            },
            EventKind::TaskClaimed {
                task: TaskId(1),
                user: "u".into(),
            },
            EventKind::TaskReleased { task: TaskId(1) },
            EventKind::TaskReassigned {
                task: TaskId(1),
                user: None,
                role: "head".into(),
            },
            EventKind::TaskReassigned {
                task: TaskId(2),
                user: Some("v".into()),
                role: "head".into(),
            },
            EventKind::TaskCompleted {
                task: TaskId(1),
                outcome: Some("ok".into()),
                data: Value::Null,
                reason: Some("because".into()),
            },
            EventKind::TaskCancelled { task: TaskId(4) },
            EventKind::BranchTaken {
                step: a.clone(),
                branch: Some(2),
                next: "b".into(),
            },
            EventKind::Split { step: a.clone() },
            EventKind::JoinArrived {
                step: a.clone(),
                arrived: 1,
                expected: 2,
            },
            EventKind::DispatchQueued {
                step: a.clone(),
                release_at: t("2026-04-07T04:00:00Z"),
            },
            EventKind::DispatchReleased { step: a.clone() },
            EventKind::DocumentsMissing {
                deadline: deadline(),
                note: None,
            },
            EventKind::DeadlineBreached {
                target: DeadlineTarget::Task(TaskId(3)),
                due: t("2026-04-07T04:00:00Z"),
                escalate_at: vec![t("2026-04-08T04:00:00Z")],
            },
            EventKind::DeadlineBreached {
                target: DeadlineTarget::Case,
                due: t("2026-04-07T04:00:00.123456Z"),
                escalate_at: Vec::new(),
            },
            EventKind::EscalationNotified {
                task: TaskId(3),
                role: "head".into(),
            },
            EventKind::CaseEnded {
                result: CaseResult::Granted,
                step: Some(a),
                reason: None,
            },
            EventKind::CaseCancelled {
                reason: "error".into(),
            },
            EventKind::IncidentOpened {
                incident: 1,
                step: "route".into(),
                cause: "condition-failed".into(),
                message: "exclusive choice `route`, branch 1: division by zero".into(),
            },
            EventKind::IncidentResolved {
                incident: 1,
                reason: "corrected".into(),
                data: Some(serde_json::json!({"family_size": 2})),
            },
            EventKind::IncidentResolved {
                incident: 2,
                reason: "calendar extended".into(),
                data: None,
            },
            EventKind::WarningsScheduled {
                task: TaskId(3),
                warnings: vec![
                    reglament_runtime::Warning {
                        percent: 50,
                        at: t("2026-04-08T09:00:00Z"),
                    },
                    reglament_runtime::Warning {
                        percent: 80,
                        at: t("2026-04-09T06:30:00Z"),
                    },
                ],
            },
            EventKind::DeadlineWarned {
                task: TaskId(3),
                percent: 80,
                due: t("2026-04-10T13:00:00Z"),
            },
            EventKind::DeadlinesRescheduled {
                from_version: "cal-1".into(),
                to_version: "cal-2".into(),
                days: vec![
                    NaiveDate::from_ymd_opt(2026, 4, 9).expect("date"),
                    NaiveDate::from_ymd_opt(2026, 4, 10).expect("date"),
                ],
                moved: vec![
                    Moved {
                        target: DeadlineTarget::Case,
                        from: t("2026-04-20T13:00:00Z"),
                        to: t("2026-04-21T13:00:00Z"),
                        warnings: Vec::new(),
                    },
                    Moved {
                        target: DeadlineTarget::Task(TaskId(3)),
                        from: t("2026-04-10T13:00:00Z"),
                        to: t("2026-04-13T13:00:00.5Z"),
                        warnings: vec![reglament_runtime::Warning {
                            percent: 80,
                            at: t("2026-04-13T06:30:00Z"),
                        }],
                    },
                ],
            },
            // No day named (the old calendar was not at hand), nothing moved.
            EventKind::DeadlinesRescheduled {
                from_version: "cal-2".into(),
                to_version: "cal-3".into(),
                days: Vec::new(),
                moved: Vec::new(),
            },
            EventKind::TaskSuspended {
                task: TaskId(3),
                reason: "awaiting_authority".into(),
                comment: Some("запрос в ЦОН №12".into()),
                stops_case_term: true,
            },
            EventKind::TaskSuspended {
                task: TaskId(4),
                reason: "incomplete_documents".into(),
                comment: None,
                stops_case_term: false,
            },
            EventKind::TaskResumed {
                task: TaskId(3),
                comment: Some("ответ получен".into()),
                suspended_seconds: 28_800,
                moved: vec![
                    Moved {
                        target: DeadlineTarget::Task(TaskId(3)),
                        from: t("2026-04-10T13:00:00Z"),
                        to: t("2026-04-13T13:00:00Z"),
                        warnings: vec![reglament_runtime::Warning {
                            percent: 50,
                            at: t("2026-04-13T04:00:00Z"),
                        }],
                    },
                    Moved {
                        target: DeadlineTarget::Case,
                        from: t("2026-04-20T13:00:00Z"),
                        to: t("2026-04-21T13:00:00Z"),
                        warnings: Vec::new(),
                    },
                ],
            },
            EventKind::TaskResumed {
                task: TaskId(4),
                comment: None,
                suspended_seconds: 0,
                moved: Vec::new(),
            },
            EventKind::CaseMigrated {
                regulation: "r".into(),
                from_version: 3,
                from_digest: "d".into(),
                to_version: 4,
                to_digest: "e".into(),
                plan_digest: "p".into(),
                act: "Постановление № 45".into(),
                paragraph: "п. 3".into(),
                reason: "срок сокращён".into(),
                steps: [("intake".to_string(), "receive".to_string())]
                    .into_iter()
                    .collect(),
                tasks: vec![reglament_runtime::MigratedTask {
                    task: TaskId(2),
                    from_step: "intake".into(),
                    to_step: "receive".into(),
                    role: "executor".into(),
                    policy: reglament_model::migration_plan::Policy::Restart,
                    due_before: Some(t("2026-04-10T13:00:00Z")),
                    deadline: deadline(),
                    warnings: vec![reglament_runtime::Warning {
                        percent: 50,
                        at: t("2026-04-08T04:00:00Z"),
                    }],
                }],
                case_policy: reglament_model::migration_plan::CasePolicy::Recompute,
                case_due_before: None,
                case_deadline: deadline(),
            },
            EventKind::Intervened {
                action: reglament_runtime::Intervention::MoveTo {
                    step: "review".into(),
                },
                reason: "the documents were lost in transit".into(),
                legal_basis: "order No. 12, paragraph 4".into(),
                approved_by: Some(Arc::from("admin2")),
                moved: Vec::new(),
            },
            EventKind::Intervened {
                action: reglament_runtime::Intervention::CancelTask { task: TaskId(2) },
                reason: "registered twice".into(),
                legal_basis: "order No. 13".into(),
                approved_by: None,
                moved: Vec::new(),
            },
            EventKind::Intervened {
                action: reglament_runtime::Intervention::ChangeDue {
                    target: DeadlineTarget::Case,
                    due: t("2026-04-20T13:00:00Z"),
                },
                reason: "court order".into(),
                legal_basis: "ruling of 10 April".into(),
                approved_by: Some(Arc::from("admin2")),
                moved: vec![Moved {
                    target: DeadlineTarget::Case,
                    from: t("2026-04-15T13:00:00Z"),
                    to: t("2026-04-20T13:00:00Z"),
                    warnings: Vec::new(),
                }],
            },
        ]
    }

    /// How many kinds [`EventKind`] has. The match below stops compiling when a kind is
    /// added: give it samples in [`every_kind`] and count it here.
    const KINDS: usize = 27;

    fn counted(k: &EventKind) {
        match k {
            EventKind::CaseStarted { .. }
            | EventKind::TaskOpened { .. }
            | EventKind::TaskClaimed { .. }
            | EventKind::TaskReleased { .. }
            | EventKind::TaskReassigned { .. }
            | EventKind::TaskCompleted { .. }
            | EventKind::TaskCancelled { .. }
            | EventKind::BranchTaken { .. }
            | EventKind::Split { .. }
            | EventKind::JoinArrived { .. }
            | EventKind::DispatchQueued { .. }
            | EventKind::DispatchReleased { .. }
            | EventKind::DocumentsMissing { .. }
            | EventKind::DeadlineBreached { .. }
            | EventKind::EscalationNotified { .. }
            | EventKind::CaseEnded { .. }
            | EventKind::CaseCancelled { .. }
            | EventKind::IncidentOpened { .. }
            | EventKind::IncidentResolved { .. }
            | EventKind::WarningsScheduled { .. }
            | EventKind::DeadlineWarned { .. }
            | EventKind::DeadlinesRescheduled { .. }
            | EventKind::TaskSuspended { .. }
            | EventKind::TaskResumed { .. }
            | EventKind::CaseHandedOver { .. }
            | EventKind::CaseMigrated { .. }
            | EventKind::Intervened { .. } => {}
        }
    }

    #[test]
    fn every_kind_has_a_sample() {
        let kinds = every_kind();
        kinds.iter().for_each(counted);
        let names: std::collections::BTreeSet<&str> = kinds.iter().map(EventKind::name).collect();
        assert_eq!(names.len(), KINDS, "{names:?}");
    }

    #[test]
    fn every_kind_reads_back_as_serde_reads_it() {
        for kind in every_kind() {
            let e = Event {
                at: t("2026-04-06T05:00:00Z"),
                actor: Actor::new("Айгүл", "clerk"),
                kind,
            };
            let text = serde_json::to_string(&e).expect("JSON");
            let canonical = reglament_store::canonical::canonical(
                &serde_json::from_str::<Value>(&text).expect("JSON"),
            );
            for body in [text, canonical] {
                let flat = serde_json::from_str::<Flat<'_>>(&body)
                    .ok()
                    .and_then(|f| f.into_event(&mut EventReader::default()));
                assert_eq!(flat.as_ref(), Some(&e), "{body}");
                assert_eq!(parse_event(&body).expect("reads"), e);
            }
        }
    }

    #[test]
    fn whatever_the_quick_way_is_unsure_of_gets_serdes_verdict() {
        let bodies = [
            // A field the kind requires is missing.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_claimed","task":1}"#,
            // `reason` is required for a cancellation; null is not a reason.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"case_cancelled","reason":null}"#,
            // An unknown kind.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_eaten","task":1}"#,
            // Another kind's field with a value of the wrong type: ignored by serde.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_released","task":1,"due":5}"#,
            // An escaped `type`.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_r\u0065leased","task":1}"#,
            // `escalate_at` may be left out but not null.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"deadline_breached","target":{"of":"case"},"due":"2026-04-06T05:00:00Z","escalate_at":null}"#,
            // A duplicate field.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_released","task":1,"task":2}"#,
            // Data left out reads as null.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_completed","task":1,"outcome":null}"#,
            // Options left out are none.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_reassigned","task":1,"role":"h"}"#,
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_opened","task":1,"role":"h","step":"s"}"#,
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_completed","task":1,"data":null}"#,
            // A correction of null is no correction.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"incident_resolved","incident":1,"reason":"r","data":null}"#,
            // `days` may be left out but not null; `moved` is required.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"deadlines_rescheduled","from_version":"a","to_version":"b","days":null,"moved":[]}"#,
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"deadlines_rescheduled","from_version":"a","to_version":"b"}"#,
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"deadlines_rescheduled","from_version":"a","to_version":"b","moved":[]}"#,
            // Whether the case's term stops is required; a comment of null is none.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_suspended","task":1,"reason":"r"}"#,
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_suspended","task":1,"reason":"r","comment":null,"stops_case_term":false}"#,
            // A negative number of seconds is not a duration.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_resumed","task":1,"suspended_seconds":-5,"moved":[]}"#,
            // A moved instant without its target.
            r#"{"actor":{"role":"c","user":"u"},"at":"2026-04-06T05:00:00Z","type":"task_resumed","task":1,"suspended_seconds":5,"moved":[{"from":"2026-04-06T05:00:00Z","to":"2026-04-06T06:00:00Z"}]}"#,
            "not JSON",
        ];
        for body in bodies {
            let ours = parse_event(body).map_err(|e| e.to_string());
            let serdes = serde_json::from_str::<Event>(body).map_err(|e| e.to_string());
            assert_eq!(ours, serdes, "{body}");
        }
    }
}

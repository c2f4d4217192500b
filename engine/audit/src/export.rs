//! The event log for process mining and for safekeeping.
//!
//! - **XES** (IEEE 1849-2016): a trace per case, with the case's regulation, version,
//!   channel, office, status and result as trace attributes; an event per task start
//!   (`task_opened` → `lifecycle:transition` `start`), completion (`task_completed` →
//!   `complete`) and cancellation (`task_cancelled` → `ate_abort`), plus the case's start
//!   and end. Each event has `concept:name` (the step's name in the chosen language; the
//!   case's start and end have fixed names), `time:timestamp`, `org:resource` (who did the
//!   task: the user who completed it, else the one who holds it), `org:role`, and the step
//!   id, task number, outcome and log `seq` as extra attributes. A task whose time was
//!   stopped has a `suspend` event (`task_suspended`, with the `reason` its step allows) and a
//!   `resume` event (`task_resumed`, with the working seconds it stood still,
//!   `suspended_seconds`, and the due instants that moved, `moved`); a new calendar that moved
//!   the case's due instants is a case event of its own (`deadlines_rescheduled`, with the
//!   `calendar_version` moved onto and `moved`). Every event names the office where it
//!   happened as `org:group` (the Organizational extension's group: PM4Py's default group
//!   key): a task's events its task's office, the case's start the office that registered
//!   it, its end the office it was at. A case that passes from one office to another has a
//!   case event "Case handed over" (`case_handed_over`) at the office that hands it on, with
//!   `to_office`. A case moved onto another regulation version by a migration plan has a
//!   case event "Case moved to a new regulation version" (`case_migrated`), with the act,
//!   paragraph and reason as `reason` and the versions, steps and due instants as `moved`.
//!   A change by hand is a case event "Case changed by hand by an administrator"
//!   (`intervened`): what it did as `outcome` (`move_to review`, `cancel_task 3`,
//!   `change_due case`), the legal basis and reason as `reason`, the due instants it moved as
//!   `moved`, the second administrator as `approved_by`; its effects follow as ordinary
//!   events. Work done under a deputy rule names the user acted for as `on_behalf_of`.
//!   ProM, PM4Py and Disco open it.
//! - **CSV**: the same events, one per row, for Disco, spreadsheets and pandas (`office` is
//!   the case's, `event_office` the event's, `to_office` a hand-over's; `on_behalf_of` and
//!   `approved_by` last).
//! - **JSON lines**: every stored event, whole, with its place in the chain: a line is the
//!   hashed record plus its `hash`, so `jq -cS 'del(.hash)' | sha256sum` recomputes it.
//! - **OCEL 2.0** (JSON): the same events as XES, related to three object types, the case,
//!   the user who did the work and the office where it was done (a hand-over to the office
//!   it goes to as well, qualified `to`; the user acted for, qualified `on_behalf_of`, and a
//!   change's second administrator, `approved_by`).
//!
//! Cases are read a page at a time and written as they come, so an export of millions of
//! events holds one page in memory (OCEL keeps the objects until the end).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::AuditError;
use super::report::csv_cell;
use reglament_model::compile::Process;
use reglament_model::markup::xml;
use reglament_model::text::Lang;
use reglament_runtime::{DeadlineTarget, Event, EventKind};
use reglament_store::Store;
use reglament_store::canonical::write_str;
use reglament_store::rows::{CaseRow, EventRow};
use reglament_store::scan::CaseFilter;

/// Cases per page.
const PAGE: u32 = 500;

/// Which file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Xes,
    Csv,
    Jsonl,
    Ocel,
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Cases (XES traces).
    pub traces: u64,
    /// Events written (XES events, CSV rows, JSON lines, OCEL events).
    pub events: u64,
    /// Events read from the log.
    pub log_events: u64,
    /// OCEL objects (cases and users); 0 for the other formats.
    pub objects: u64,
}

/// One event of the process-mining view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinedEvent {
    pub activity: String,
    /// `start`, `complete` or `ate_abort` (the XES standard lifecycle).
    pub lifecycle: &'static str,
    pub at: DateTime<Utc>,
    pub resource: Option<String>,
    pub role: Option<String>,
    pub step: Option<String>,
    pub task: Option<u32>,
    pub outcome: Option<String>,
    /// The task's deadline was breached.
    pub breached: bool,
    /// The event's place in the case's log.
    pub seq: u64,
    /// The log's event type.
    pub kind: &'static str,
    /// Why the task's time stopped (a suspension and its resumption: the step's reason code).
    pub reason: Option<String>,
    /// Working seconds the task's time stood still (a resumption).
    pub suspended_seconds: Option<u64>,
    /// The due instants that moved (`task 2: A → B; case: C → D`).
    pub moved: Option<String>,
    /// The calendar version the case was moved onto (a rescheduling).
    pub calendar_version: Option<String>,
    /// The office where it happened: a task's office; for the case's own events, the office
    /// the case was at (its registering office at the start).
    pub office: Option<String>,
    /// The office a hand-over passes the case to.
    pub to_office: Option<String>,
    /// The user the one who did it acted for, under a deputy rule.
    pub on_behalf_of: Option<String>,
    /// The second administrator who approved a change by hand.
    pub approved_by: Option<String>,
}

/// Names of the case's own events in the process-mining view.
fn case_activity(kind: &str, lang: Lang) -> &'static str {
    match (kind, lang) {
        ("case_started", Lang::Ru) => "Дело начато",
        ("case_started", Lang::Kk) => "Іс басталды",
        ("case_started", Lang::En) => "Case started",
        ("case_ended", Lang::Ru) => "Дело завершено",
        ("case_ended", Lang::Kk) => "Іс аяқталды",
        ("case_ended", Lang::En) => "Case ended",
        ("case_cancelled", Lang::Ru) => "Дело отменено",
        ("case_cancelled", Lang::Kk) => "Іс тоқтатылды",
        ("deadlines_rescheduled", Lang::Ru) => "Сроки пересчитаны по новому календарю",
        ("deadlines_rescheduled", Lang::Kk) => "Мерзімдер жаңа күнтізбе бойынша қайта есептелді",
        ("deadlines_rescheduled", Lang::En) => "Deadlines rescheduled on a new calendar",
        ("case_handed_over", Lang::Ru) => "Дело передано в другой офис",
        ("case_handed_over", Lang::Kk) => "Іс басқа кеңсеге берілді",
        ("case_handed_over", Lang::En) => "Case handed over",
        ("case_migrated", Lang::Ru) => "Дело переведено на новую версию регламента",
        ("case_migrated", Lang::Kk) => "Іс регламенттің жаңа нұсқасына ауыстырылды",
        ("case_migrated", Lang::En) => "Case moved to a new regulation version",
        ("intervened", Lang::Ru) => "Дело изменено администратором вручную",
        ("intervened", Lang::Kk) => "Іс әкімшінің қолымен өзгертілді",
        ("intervened", Lang::En) => "Case changed by hand by an administrator",
        _ => "Case cancelled",
    }
}

/// What a change by hand did: `move_to review`, `cancel_task 3`, `change_due task 2`.
fn action_text(action: &reglament_runtime::Intervention) -> String {
    use reglament_runtime::Intervention;
    match action {
        Intervention::MoveTo { step } => format!("move_to {step}"),
        Intervention::CancelTask { task } => format!("cancel_task {task}"),
        Intervention::ChangeDue {
            target: DeadlineTarget::Case,
            ..
        } => "change_due case".to_string(),
        Intervention::ChangeDue {
            target: DeadlineTarget::Task(t),
            ..
        } => format!("change_due task {t}"),
    }
}

/// `task 2: A → B; case: C → D`.
fn moved_text(moved: &[reglament_runtime::Moved]) -> String {
    moved
        .iter()
        .map(|m| {
            let what = match m.target {
                DeadlineTarget::Case => "case".to_string(),
                DeadlineTarget::Task(t) => format!("task {t}"),
            };
            format!(
                "{what}: {} → {}",
                super::rfc3339(m.from),
                super::rfc3339(m.to)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The process-mining view of one case's events (see the module documentation).
pub fn mined_events(process: Option<&Process>, events: &[Event], lang: Lang) -> Vec<MinedEvent> {
    // First the facts that belong to a task as a whole: who did it, was it breached.
    #[derive(Default)]
    struct TaskFacts {
        step: String,
        office: Option<String>,
        holder: Option<String>,
        performer: Option<String>,
        breached: bool,
    }
    let mut tasks: BTreeMap<u32, TaskFacts> = BTreeMap::new();
    let registered: Option<&str> = match events.first().map(|e| &e.kind) {
        Some(EventKind::CaseStarted { office, .. }) => Some(office),
        _ => None,
    };
    for e in events {
        match &e.kind {
            EventKind::TaskOpened {
                task, step, office, ..
            } => {
                tasks.insert(
                    task.0,
                    TaskFacts {
                        step: step.to_string(),
                        office: office.as_deref().or(registered).map(str::to_string),
                        ..Default::default()
                    },
                );
            }
            EventKind::TaskClaimed { task, user } => {
                if let Some(t) = tasks.get_mut(&task.0) {
                    t.holder = Some(user.to_string());
                }
            }
            EventKind::TaskReassigned { task, user, .. } => {
                if let Some(t) = tasks.get_mut(&task.0) {
                    t.holder = user.as_deref().map(str::to_string);
                }
            }
            EventKind::TaskCompleted { task, .. } => {
                if let Some(t) = tasks.get_mut(&task.0) {
                    t.performer = Some(e.actor.user.to_string());
                }
            }
            EventKind::DeadlineBreached {
                target: DeadlineTarget::Task(task),
                ..
            } => {
                if let Some(t) = tasks.get_mut(&task.0) {
                    t.breached = true;
                }
            }
            _ => {}
        }
    }
    let step_name = |step: &str| -> String {
        process
            .and_then(|p| p.step_index(step).map(|i| p.step(i)))
            .and_then(|s| s.name())
            .map(|t| t.get(lang).to_string())
            .unwrap_or_else(|| step.to_string())
    };
    let mut out = Vec::new();
    // The office the case is at.
    let mut at_office: Option<String> = registered.map(str::to_string);
    let mut roles: BTreeMap<u32, String> = BTreeMap::new();
    // The reason of each task's suspension, while it runs.
    let mut reasons: BTreeMap<u32, String> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let seq = i as u64 + 1;
        // Whom the one who did it acted for, under a deputy rule.
        let for_whom = e.actor.on_behalf_of.as_deref().map(str::to_string);
        let case_event = |kind: &'static str, outcome: Option<String>| MinedEvent {
            activity: case_activity(kind, lang).to_string(),
            lifecycle: "complete",
            at: e.at,
            resource: Some(e.actor.user.to_string()),
            role: Some(e.actor.role.to_string()),
            step: None,
            task: None,
            outcome,
            breached: false,
            seq,
            kind,
            reason: None,
            suspended_seconds: None,
            moved: None,
            calendar_version: None,
            office: at_office.clone(),
            to_office: None,
            on_behalf_of: for_whom.clone(),
            approved_by: None,
        };
        let task_event = |task: u32, lifecycle: &'static str, role: &str, outcome| {
            let facts = tasks.get(&task);
            MinedEvent {
                activity: facts.map(|f| step_name(&f.step)).unwrap_or_default(),
                lifecycle,
                at: e.at,
                resource: facts.and_then(|f| f.performer.clone().or_else(|| f.holder.clone())),
                role: Some(role.to_string()),
                step: facts.map(|f| f.step.clone()),
                task: Some(task),
                outcome,
                breached: facts.is_some_and(|f| f.breached),
                seq,
                kind: e.kind.name(),
                reason: None,
                suspended_seconds: None,
                moved: None,
                calendar_version: None,
                office: facts.and_then(|f| f.office.clone()),
                to_office: None,
                on_behalf_of: None,
                approved_by: None,
            }
        };
        match &e.kind {
            EventKind::CaseStarted { .. } => out.push(case_event("case_started", None)),
            EventKind::CaseEnded { result, .. } => {
                out.push(case_event("case_ended", Some(result.as_str().to_string())))
            }
            EventKind::CaseCancelled { .. } => out.push(case_event("case_cancelled", None)),
            EventKind::TaskOpened { task, role, .. } => {
                roles.insert(task.0, role.to_string());
                out.push(task_event(task.0, "start", role, None));
            }
            EventKind::TaskReassigned { task, role, .. } => {
                roles.insert(task.0, role.to_string());
            }
            EventKind::TaskCompleted { task, outcome, .. } => {
                let role = roles.get(&task.0).cloned().unwrap_or_default();
                out.push(MinedEvent {
                    on_behalf_of: for_whom.clone(),
                    ..task_event(
                        task.0,
                        "complete",
                        &role,
                        outcome.as_deref().map(str::to_string),
                    )
                });
            }
            EventKind::TaskCancelled { task } => {
                let role = roles.get(&task.0).cloned().unwrap_or_default();
                out.push(task_event(task.0, "ate_abort", &role, None));
            }
            // Who stopped the task's time, or let it run again, is the one who did it.
            EventKind::TaskSuspended { task, reason, .. } => {
                reasons.insert(task.0, reason.clone());
                out.push(MinedEvent {
                    resource: Some(e.actor.user.to_string()),
                    role: Some(e.actor.role.to_string()),
                    reason: Some(reason.clone()),
                    on_behalf_of: for_whom.clone(),
                    ..task_event(task.0, "suspend", "", None)
                });
            }
            EventKind::TaskResumed {
                task,
                suspended_seconds,
                moved,
                ..
            } => out.push(MinedEvent {
                resource: Some(e.actor.user.to_string()),
                role: Some(e.actor.role.to_string()),
                reason: reasons.remove(&task.0),
                suspended_seconds: Some(*suspended_seconds),
                moved: Some(moved_text(moved)).filter(|m| !m.is_empty()),
                on_behalf_of: for_whom.clone(),
                ..task_event(task.0, "resume", "", None)
            }),
            EventKind::DeadlinesRescheduled {
                to_version, moved, ..
            } => out.push(MinedEvent {
                moved: Some(moved_text(moved)).filter(|m| !m.is_empty()),
                calendar_version: Some(to_version.clone()),
                ..case_event("deadlines_rescheduled", None)
            }),
            // Moved onto another version: why (the act and paragraph) and what moved.
            EventKind::CaseMigrated {
                from_version,
                to_version,
                act,
                paragraph,
                reason,
                tasks,
                case_due_before,
                case_deadline,
                ..
            } => out.push(MinedEvent {
                reason: Some(format!("{act}, {paragraph}: {reason}")),
                moved: Some(super::replay::migrated_text(
                    *from_version,
                    *to_version,
                    &format!("{act}, {paragraph}"),
                    reason,
                    tasks,
                    (*case_due_before, case_deadline.as_ref().map(|d| d.due)),
                )),
                ..case_event("case_migrated", None)
            }),
            // A change by hand: what (as the outcome), on what basis and why, what moved, and
            // the second administrator; its effects follow as the ordinary events.
            EventKind::Intervened {
                action,
                reason,
                legal_basis,
                approved_by,
                moved,
            } => out.push(MinedEvent {
                reason: Some(format!("{legal_basis}: {reason}")),
                moved: Some(moved_text(moved)).filter(|m| !m.is_empty()),
                approved_by: approved_by.as_deref().map(str::to_string),
                ..case_event("intervened", Some(action_text(action)))
            }),
            // Handed on by the office it leaves (whoever finished the step before).
            EventKind::CaseHandedOver { from, to, .. } => {
                out.push(MinedEvent {
                    office: Some(from.to_string()),
                    to_office: Some(to.to_string()),
                    ..case_event("case_handed_over", None)
                });
                at_office = Some(to.to_string());
            }
            _ => {}
        }
    }
    out
}

/// An XES date: xs:dateTime in UTC to the millisecond.
fn xes_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

const XES_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
    <string key="lifecycle:transition" value="complete"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and lifecycle" keys="concept:name lifecycle:transition"/>
  <string key="concept:name" value="Reglament event log"/>
  <string key="lifecycle:model" value="standard"/>
"#;

/// Writes one case as an XES trace.
fn write_xes_trace(
    out: &mut dyn Write,
    case: &CaseRow,
    events: &[MinedEvent],
) -> std::io::Result<()> {
    let mut t = String::with_capacity(512 + events.len() * 400);
    t.push_str("  <trace>\n");
    let attr = |t: &mut String, key: &str, value: &str| {
        t.push_str(&format!(
            "    <string key=\"{key}\" value=\"{}\"/>\n",
            xml(value)
        ));
    };
    attr(&mut t, "concept:name", &case.case_id);
    attr(&mut t, "regulation", &case.regulation_id);
    t.push_str(&format!(
        "    <int key=\"regulation_version\" value=\"{}\"/>\n",
        case.regulation_version
    ));
    attr(&mut t, "channel", &case.channel);
    attr(&mut t, "office", &case.office);
    attr(&mut t, "status", &case.status);
    if let Some(r) = &case.result {
        attr(&mut t, "result", r);
    }
    t.push_str(&format!(
        "    <boolean key=\"breached\" value=\"{}\"/>\n",
        case.breached
    ));
    for e in events {
        t.push_str("    <event>\n");
        let ev = |t: &mut String, key: &str, value: &str| {
            t.push_str(&format!(
                "      <string key=\"{key}\" value=\"{}\"/>\n",
                xml(value)
            ));
        };
        ev(&mut t, "concept:name", &e.activity);
        t.push_str(&format!(
            "      <date key=\"time:timestamp\" value=\"{}\"/>\n",
            xes_date(e.at)
        ));
        if let Some(r) = &e.resource {
            ev(&mut t, "org:resource", r);
        }
        if let Some(r) = &e.role {
            ev(&mut t, "org:role", r);
        }
        if let Some(o) = &e.office {
            ev(&mut t, "org:group", o);
        }
        if let Some(p) = &e.on_behalf_of {
            ev(&mut t, "on_behalf_of", p);
        }
        if let Some(a) = &e.approved_by {
            ev(&mut t, "approved_by", a);
        }
        ev(&mut t, "lifecycle:transition", e.lifecycle);
        if let Some(s) = &e.step {
            ev(&mut t, "step", s);
        }
        if let Some(n) = e.task {
            t.push_str(&format!("      <int key=\"task\" value=\"{n}\"/>\n"));
        }
        if let Some(o) = &e.outcome {
            ev(&mut t, "outcome", o);
        }
        if e.task.is_some() {
            t.push_str(&format!(
                "      <boolean key=\"breached\" value=\"{}\"/>\n",
                e.breached
            ));
        }
        if let Some(r) = &e.reason {
            ev(&mut t, "reason", r);
        }
        if let Some(n) = e.suspended_seconds {
            t.push_str(&format!(
                "      <int key=\"suspended_seconds\" value=\"{n}\"/>\n"
            ));
        }
        if let Some(m) = &e.moved {
            ev(&mut t, "moved", m);
        }
        if let Some(v) = &e.calendar_version {
            ev(&mut t, "calendar_version", v);
        }
        if let Some(o) = &e.to_office {
            ev(&mut t, "to_office", o);
        }
        t.push_str(&format!("      <int key=\"seq\" value=\"{}\"/>\n", e.seq));
        t.push_str("    </event>\n");
    }
    t.push_str("  </trace>\n");
    out.write_all(t.as_bytes())
}

/// The CSV form's columns.
pub const CSV_COLUMNS: [&str; 25] = [
    "case_id",
    "activity",
    "lifecycle",
    "timestamp",
    "resource",
    "role",
    "step",
    "task",
    "outcome",
    "breached",
    "regulation",
    "regulation_version",
    "channel",
    "office",
    "result",
    "seq",
    "type",
    "reason",
    "suspended_seconds",
    "moved",
    "calendar_version",
    "event_office",
    "to_office",
    "on_behalf_of",
    "approved_by",
];

fn write_csv_rows(
    out: &mut dyn Write,
    case: &CaseRow,
    events: &[MinedEvent],
) -> std::io::Result<()> {
    let mut t = String::new();
    for e in events {
        let cells = [
            case.case_id.clone(),
            e.activity.clone(),
            e.lifecycle.to_string(),
            super::rfc3339(e.at),
            e.resource.clone().unwrap_or_default(),
            e.role.clone().unwrap_or_default(),
            e.step.clone().unwrap_or_default(),
            e.task.map(|t| t.to_string()).unwrap_or_default(),
            e.outcome.clone().unwrap_or_default(),
            if e.task.is_some() {
                e.breached.to_string()
            } else {
                String::new()
            },
            case.regulation_id.clone(),
            case.regulation_version.to_string(),
            case.channel.clone(),
            case.office.clone(),
            case.result.clone().unwrap_or_default(),
            e.seq.to_string(),
            e.kind.to_string(),
            e.reason.clone().unwrap_or_default(),
            e.suspended_seconds
                .map(|n| n.to_string())
                .unwrap_or_default(),
            e.moved.clone().unwrap_or_default(),
            e.calendar_version.clone().unwrap_or_default(),
            e.office.clone().unwrap_or_default(),
            e.to_office.clone().unwrap_or_default(),
            e.on_behalf_of.clone().unwrap_or_default(),
            e.approved_by.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        t.push_str(&line.join(","));
        t.push_str("\r\n");
    }
    out.write_all(t.as_bytes())
}

/// One stored event as a JSON line: the hashed record (the body as stored, byte for byte)
/// plus its hash.
fn write_jsonl(out: &mut dyn Write, rows: &[EventRow]) -> std::io::Result<()> {
    let mut t = String::new();
    for r in rows {
        t.push_str("{\"calendar_version\":");
        write_str(&r.calendar_version, &mut t);
        t.push_str(",\"case\":");
        write_str(&r.case_id, &mut t);
        t.push_str(",\"digest\":");
        write_str(&r.digest, &mut t);
        t.push_str(",\"event\":");
        t.push_str(&r.body);
        t.push_str(",\"hash\":");
        write_str(&r.hash, &mut t);
        t.push_str(",\"prev_hash\":");
        write_str(&r.prev_hash, &mut t);
        t.push_str(&format!(",\"seq\":{}}}\n", r.seq));
    }
    out.write_all(t.as_bytes())
}

/// OCEL objects gathered while the events stream out.
#[derive(Default)]
struct Ocel {
    cases: Vec<serde_json::Value>,
    users: BTreeSet<String>,
    offices: BTreeSet<String>,
    activities: BTreeSet<String>,
    first: bool,
}

fn ocel_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl Ocel {
    fn case_object(case: &CaseRow) -> serde_json::Value {
        let since = ocel_time(reglament_store::rows::instant(case.started_at));
        let mut attrs = vec![
            ("regulation", serde_json::json!(case.regulation_id)),
            (
                "regulation_version",
                serde_json::json!(case.regulation_version),
            ),
            ("channel", serde_json::json!(case.channel)),
            ("office", serde_json::json!(case.office)),
            ("status", serde_json::json!(case.status)),
        ];
        if let Some(r) = &case.result {
            attrs.push(("result", serde_json::json!(r)));
        }
        serde_json::json!({
            "id": format!("case:{}", case.case_id),
            "type": "case",
            "attributes": attrs
                .into_iter()
                .map(|(n, v)| serde_json::json!({"name": n, "time": since, "value": v}))
                .collect::<Vec<_>>(),
            "relationships": [],
        })
    }

    fn write_events(
        &mut self,
        out: &mut dyn Write,
        case: &CaseRow,
        events: &[MinedEvent],
    ) -> Result<(), AuditError> {
        self.cases.push(Ocel::case_object(case));
        for e in events {
            let mut rel = vec![serde_json::json!({
                "objectId": format!("case:{}", case.case_id),
                "qualifier": "case",
            })];
            if let Some(r) = &e.resource {
                self.users.insert(r.clone());
                rel.push(
                    serde_json::json!({"objectId": format!("user:{r}"), "qualifier": "resource"}),
                );
            }
            for (user, qualifier) in [
                (&e.on_behalf_of, "on_behalf_of"),
                (&e.approved_by, "approved_by"),
            ] {
                if let Some(u) = user {
                    self.users.insert(u.clone());
                    rel.push(
                        serde_json::json!({"objectId": format!("user:{u}"), "qualifier": qualifier}),
                    );
                }
            }
            for (office, qualifier) in [(&e.office, "office"), (&e.to_office, "to")] {
                if let Some(o) = office {
                    self.offices.insert(o.clone());
                    rel.push(
                        serde_json::json!({"objectId": format!("office:{o}"), "qualifier": qualifier}),
                    );
                }
            }
            self.activities.insert(e.activity.clone());
            let mut attrs = vec![
                serde_json::json!({"name": "lifecycle", "value": e.lifecycle}),
                serde_json::json!({"name": "seq", "value": e.seq}),
            ];
            if let Some(r) = &e.role {
                attrs.push(serde_json::json!({"name": "role", "value": r}));
            }
            if let Some(s) = &e.step {
                attrs.push(serde_json::json!({"name": "step", "value": s}));
            }
            if let Some(o) = &e.outcome {
                attrs.push(serde_json::json!({"name": "outcome", "value": o}));
            }
            if let Some(r) = &e.reason {
                attrs.push(serde_json::json!({"name": "reason", "value": r}));
            }
            if let Some(n) = e.suspended_seconds {
                attrs.push(serde_json::json!({"name": "suspended_seconds", "value": n}));
            }
            if let Some(m) = &e.moved {
                attrs.push(serde_json::json!({"name": "moved", "value": m}));
            }
            if let Some(v) = &e.calendar_version {
                attrs.push(serde_json::json!({"name": "calendar_version", "value": v}));
            }
            if let Some(o) = &e.office {
                attrs.push(serde_json::json!({"name": "office", "value": o}));
            }
            if let Some(o) = &e.to_office {
                attrs.push(serde_json::json!({"name": "to_office", "value": o}));
            }
            let v = serde_json::json!({
                "id": format!("{}/{}", case.case_id, e.seq),
                "type": e.activity,
                "time": ocel_time(e.at),
                "attributes": attrs,
                "relationships": rel,
            });
            if self.first {
                self.first = false;
            } else {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut *out, &v)?;
        }
        Ok(())
    }

    fn finish(self, out: &mut dyn Write) -> Result<u64, AuditError> {
        out.write_all(b"\n],\n\"objects\": [\n")?;
        let mut n = 0u64;
        for (i, c) in self.cases.iter().enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut *out, c)?;
            n += 1;
        }
        for u in &self.users {
            if n > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"id": format!("user:{u}"), "type": "user", "attributes": [], "relationships": []}),
            )?;
            n += 1;
        }
        for o in &self.offices {
            if n > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({"id": format!("office:{o}"), "type": "office", "attributes": [], "relationships": []}),
            )?;
            n += 1;
        }
        let string = |name: &str| serde_json::json!({"name": name, "type": "string"});
        let types = serde_json::json!({
            "objectTypes": [
                {"name": "case", "attributes": [string("regulation"), {"name": "regulation_version", "type": "integer"},
                    string("channel"), string("office"), string("status"), string("result")]},
                {"name": "user", "attributes": []},
                {"name": "office", "attributes": []},
            ],
            "eventTypes": self.activities.iter().map(|a| serde_json::json!({
                "name": a,
                "attributes": [string("lifecycle"), {"name": "seq", "type": "integer"},
                    string("role"), string("step"), string("outcome"), string("reason"),
                    {"name": "suspended_seconds", "type": "integer"}, string("moved"),
                    string("calendar_version"), string("office"), string("to_office")],
            })).collect::<Vec<_>>(),
        });
        out.write_all(b"\n],\n\"objectTypes\": ")?;
        serde_json::to_writer(&mut *out, &types["objectTypes"])?;
        out.write_all(b",\n\"eventTypes\": ")?;
        serde_json::to_writer(&mut *out, &types["eventTypes"])?;
        out.write_all(b"\n}\n")?;
        Ok(n)
    }
}

/// Writes the cases `filter` selects to `out` in `format`; names in `lang`.
pub async fn export(
    store: &Store,
    filter: &CaseFilter,
    format: ExportFormat,
    lang: Lang,
    out: &mut (dyn Write + Send),
) -> Result<ExportSummary, AuditError> {
    let mut summary = ExportSummary::default();
    let mut processes: BTreeMap<String, Option<Arc<Process>>> = BTreeMap::new();
    let mut ocel = Ocel {
        first: true,
        ..Default::default()
    };
    match format {
        ExportFormat::Xes => out.write_all(XES_HEAD.as_bytes())?,
        ExportFormat::Csv => {
            out.write_all(CSV_COLUMNS.join(",").as_bytes())?;
            out.write_all(b"\r\n")?;
        }
        ExportFormat::Jsonl => {}
        ExportFormat::Ocel => out.write_all(b"{\"events\": [\n")?,
    }
    let mut after = String::new();
    loop {
        let cases = store.cases_page(filter, &after, PAGE).await?;
        let Some(last) = cases.last() else { break };
        after = last.case_id.clone();
        let ids: Vec<String> = cases.iter().map(|c| c.case_id.clone()).collect();
        let rows = store.events_of(&ids).await?;
        summary.log_events += rows.len() as u64;
        let mut by_case: BTreeMap<&str, Vec<&EventRow>> = BTreeMap::new();
        for r in &rows {
            by_case.entry(r.case_id.as_str()).or_default().push(r);
        }
        for case in &cases {
            let case_rows: Vec<EventRow> = by_case
                .remove(case.case_id.as_str())
                .unwrap_or_default()
                .into_iter()
                .cloned()
                .collect();
            summary.traces += 1;
            if format == ExportFormat::Jsonl {
                write_jsonl(out, &case_rows)?;
                summary.events += case_rows.len() as u64;
                continue;
            }
            if !processes.contains_key(&case.digest) {
                // A regulation that no longer compiles still exports, with step ids as names.
                let p = store.process(&case.digest).await.ok();
                processes.insert(case.digest.clone(), p);
            }
            let process = processes.get(&case.digest).cloned().flatten();
            let events = super::replay::parse_events(&case.case_id, &case_rows)?;
            let mined = mined_events(process.as_deref(), &events, lang);
            summary.events += mined.len() as u64;
            match format {
                ExportFormat::Xes => write_xes_trace(out, case, &mined)?,
                ExportFormat::Csv => write_csv_rows(out, case, &mined)?,
                ExportFormat::Ocel => ocel.write_events(out, case, &mined)?,
                ExportFormat::Jsonl => {}
            }
        }
        if cases.len() < PAGE as usize {
            break;
        }
    }
    match format {
        ExportFormat::Xes => out.write_all(b"</log>\n")?,
        ExportFormat::Ocel => summary.objects = ocel.finish(out)?,
        _ => {}
    }
    out.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_kept_valid() {
        assert_eq!(xml("a<b & \"c\"\n"), "a&lt;b &amp; &quot;c&quot;&#10;");
        assert_eq!(xml("x\u{1}y"), "x\u{fffd}y");
    }

    #[test]
    fn xes_dates_are_utc_to_the_millisecond() {
        let t = DateTime::parse_from_rfc3339("2026-03-20T10:00:00.123456+05:00")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(xes_date(t), "2026-03-20T05:00:00.123+00:00");
    }
}

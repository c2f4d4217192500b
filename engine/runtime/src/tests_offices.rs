//! Cases that cross offices: a service centre (ЦОН) receives, the district's department
//! (ОЗСП) registers and reviews. Atyrau, +05: the centre works 09:00–20:00 without a break,
//! the department 09:00–18:00 with lunch 13:00–14:00.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::tests::{FIXTURE, calendars};
use super::*;
use reglament_model::compile::Process;
use reglament_model::validate;

const CENTRE: &str = "atyrau-tson-oblast";
const PROVIDER: &str = "atyrau-city-ozsp";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

/// The runtime fixture with its roles placed: the centre's inspector and accumulator at a
/// service centre, the executor and the head at the provider's office.
fn routed() -> Arc<Process> {
    let yaml = FIXTURE
        .replace(
            "{id: executor, kind: person,",
            "{id: executor, kind: person, office: provider_office,",
        )
        .replace(
            "{id: head, kind: person,",
            "{id: head, kind: person, office: provider_office,",
        )
        .replace(
            "{id: centre_inspector, kind: person,",
            "{id: centre_inspector, kind: person, office: service_centre,",
        )
        .replace(
            "{id: centre_accumulator, kind: person,",
            "{id: centre_accumulator, kind: person, office: service_centre,",
        );
    assert_eq!(yaml.matches("office: ").count(), 4, "the fixture changed");
    let report = validate::check_str(&yaml, "routed.yaml", None);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    Arc::new(report.process.expect("compiles"))
}

fn route() -> BTreeMap<String, String> {
    [
        ("service_centre".to_string(), CENTRE.to_string()),
        ("provider_office".to_string(), PROVIDER.to_string()),
    ]
    .into_iter()
    .collect()
}

fn act(e: &mut Engine, id: &CaseId, task: u32, who: &Actor, at: &str) -> Vec<Event> {
    e.execute(
        id,
        &Command::Complete {
            task: TaskId(task),
            outcome: None,
            data: json!({}),
            reason: None,
        },
        who,
        t(at),
    )
    .expect("completes")
}

#[test]
fn a_centre_case_is_handed_to_the_department_and_counts_on_each_office_s_hours() {
    let p = routed();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = CaseId::new("TSON-1");
    let inspector = Actor::new("inspector1", "centre_inspector");
    // Tuesday 14 April 2026, 12:50, at the centre.
    let started = e
        .start_routed(
            &p,
            NewCase {
                case: id.clone(),
                channel: "centre".into(),
                office: CENTRE.into(),
                data: json!({"full_name": "Айгүл Серікова", "iin": "900101400123"}),
            },
            &route(),
            &inspector,
            t("2026-04-14T12:50:00+05:00"),
        )
        .expect("starts");
    assert!(
        started
            .iter()
            .all(|e| !matches!(e.kind, EventKind::CaseHandedOver { .. })),
        "the first task is at the centre itself"
    );
    let s = e.case(&id).expect("case");
    let receive = s.task(TaskId(1)).expect("task");
    assert_eq!(&*receive.office, CENTRE);
    // 15 minutes on the centre's hours (no lunch): 13:05. At the department it would be 14:05.
    assert_eq!(
        receive.deadline.as_ref().map(|d| d.due),
        Some(t("2026-04-14T13:05:00+05:00"))
    );

    // Received at 12:55; the accumulator sends at 16:00; the department registers.
    act(&mut e, &id, 1, &inspector, "2026-04-14T12:55:00+05:00");
    let ticked = e.tick(t("2026-04-14T16:00:00+05:00"));
    let events: Vec<&Event> = ticked
        .events
        .iter()
        .filter(|(c, _)| c == &id)
        .map(|(_, e)| e)
        .collect();
    let handed = events.iter().find_map(|e| match &e.kind {
        EventKind::CaseHandedOver { from, to, step } => {
            Some((from.to_string(), to.to_string(), step.to_string()))
        }
        _ => None,
    });
    assert_eq!(
        handed,
        Some((CENTRE.into(), PROVIDER.into(), "register".into())),
        "{events:?}"
    );
    let s = e.case(&id).expect("case");
    let register = s.task(TaskId(2)).expect("register");
    assert_eq!(&*register.office, PROVIDER);
    assert_eq!(&*s.at_office, PROVIDER);
    assert_eq!(
        s.offices.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        [CENTRE, PROVIDER]
    );
    assert_eq!(
        register.deadline.as_ref().map(|d| d.due),
        Some(t("2026-04-14T16:15:00+05:00"))
    );
    // Registered at 17:55: the two checks (1 working day) end at the department's closing,
    // Wednesday 18:00 (the centre would have given 20:00).
    let clerk = Actor::new("clerk1", "executor");
    act(&mut e, &id, 2, &clerk, "2026-04-14T17:55:00+05:00");
    let s = e.case(&id).expect("case");
    for n in [3, 4] {
        let task = s.task(TaskId(n)).expect("check");
        assert_eq!(&*task.office, PROVIDER);
        assert_eq!(
            task.deadline.as_ref().map(|d| d.due),
            Some(t("2026-04-15T18:00:00+05:00"))
        );
    }
}

#[test]
fn without_a_route_every_task_stays_where_the_case_was_registered() {
    let p = routed();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = CaseId::new("TSON-2");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: PROVIDER.into(),
            data: json!({"full_name": "Айгүл Серікова", "iin": "900101400123"}),
        },
        &Actor::new("clerk1", "executor"),
        t("2026-04-14T10:00:00+05:00"),
    )
    .expect("starts");
    let s = e.case(&id).expect("case");
    assert!(s.tasks.iter().all(|t| &*t.office == PROVIDER));
    assert_eq!(s.offices.len(), 1);
}

#[test]
fn a_hand_off_before_a_holiday_counts_on_the_department_s_days_and_hours() {
    let p = routed();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = CaseId::new("TSON-3");
    let inspector = Actor::new("inspector1", "centre_inspector");
    // Thursday 30 April 2026 at the centre; 1 May is Unity Day, 2–3 May a weekend.
    e.start_routed(
        &p,
        NewCase {
            case: id.clone(),
            channel: "centre".into(),
            office: CENTRE.into(),
            data: json!({"full_name": "Айгүл Серікова", "iin": "900101400123"}),
        },
        &route(),
        &inspector,
        t("2026-04-30T10:00:00+05:00"),
    )
    .expect("starts");
    act(&mut e, &id, 1, &inspector, "2026-04-30T10:05:00+05:00");
    // The 11:00 dispatch leaves when the timer next runs (16:00); the department registers
    // at 17:55.
    e.tick(t("2026-04-30T16:00:00+05:00"));
    let clerk = Actor::new("clerk1", "executor");
    act(&mut e, &id, 2, &clerk, "2026-04-30T17:55:00+05:00");
    let s = e.case(&id).expect("case");
    // One working day after the holiday and the weekend: Monday 4 May at the department's
    // closing, 18:00 (the centre closes at 20:00).
    for n in [3, 4] {
        let task = s.task(TaskId(n)).expect("check");
        assert_eq!(&*task.office, PROVIDER);
        assert_eq!(
            task.deadline.as_ref().map(|d| d.due),
            Some(t("2026-05-04T18:00:00+05:00"))
        );
    }
}

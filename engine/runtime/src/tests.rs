//! Unit tests of the runtime on a small regulation with every kind of step.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use reglament_calendar::Calendars;
use reglament_model::compile::Process;
use reglament_model::model::CaseResult;
use reglament_model::validate;

pub(crate) const FIXTURE: &str = r#"
id: runtime-fixture
version: 1
valid_from: 2012-11-16
title: {kk: Сынақ, ru: Проверка}
source: {act: Тест}
region: atyrau
roles:
  - {id: executor, kind: person, name: {kk: Орындаушы, ru: Исполнитель}}
  - {id: head, kind: person, name: {kk: Басшы, ru: Руководитель}}
  - {id: centre_inspector, kind: person, name: {kk: Инспектор, ru: Инспектор}}
  - {id: centre_accumulator, kind: person, name: {kk: Жинақтаушы, ru: Накопитель}}
  - {id: portal, kind: system, name: {kk: Портал, ru: Портал}}
channels:
  - id: provider
    kind: provider_office
    start: register
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
    extended_term: {text: двадцать рабочих дней, duration: 20 working days}
  - id: portal
    kind: egov_portal
    start: authorize
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
  - id: centre
    kind: service_centre
    start: centre_receive
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
    counting: {receipt_and_issue_days_excluded: true}
application_form:
  type: object
  required: [full_name, iin]
  properties:
    full_name: {type: string, minLength: 1}
    iin: {type: string, pattern: "^[0-9]{12}$"}
    family_size: {type: integer, minimum: 1}
steps:
  - id: authorize
    kind: system
    name: {kk: Авторизация, ru: Авторизация}
    role: portal
    integration: egov.authorization
    source: {paragraph: "9"}
    outcomes:
      - {id: ok, next: register}
      - {id: failed, next: refused}
  - id: centre_receive
    kind: task
    name: {kk: Қабылдау, ru: Прием}
    role: centre_inspector
    duration: 15 minutes
    source: {paragraph: "9"}
    next: send
  - id: send
    kind: dispatch
    name: {kk: Жіберу, ru: Отправка}
    role: centre_accumulator
    at: ["11:00", "16:00"]
    source: {paragraph: "9"}
    next: register
  - id: register
    kind: task
    name: {kk: Тіркеу, ru: Регистрация}
    role: executor
    duration: 15 minutes
    source: {paragraph: "9"}
    next: checks
  - id: checks
    kind: parallel
    branches: [verify_income, verify_family]
  - id: verify_income
    kind: task
    name: {kk: Табыс, ru: Доходы}
    role: executor
    duration: 1 working day
    source: {paragraph: "9"}
    next: meet
  - id: verify_family
    kind: task
    name: {kk: Отбасы, ru: Семья}
    role: executor
    duration: 1 working day
    source: {paragraph: "9"}
    next: meet
  - id: meet
    kind: join
    next: review
  - id: review
    kind: task
    name: {kk: Қарау, ru: Рассмотрение}
    role: executor
    duration: 5 working days
    source: {paragraph: "9"}
    form:
      type: object
      properties:
        amount: {type: integer, minimum: 0}
    escalation:
      - {action: notify, role: head}
      - {action: reassign, role: head, after: 1 working day}
    outcomes:
      - {id: grant, next: sign}
      - {id: refuse, next: sign, requires_reason: true}
      - {id: return_documents, next: returned, requires_reason: true}
  - id: sign
    kind: task
    name: {kk: Қол қою, ru: Подписание}
    role: head
    duration: 1 working day
    source: {paragraph: "9"}
    next: route
  - id: route
    kind: exclusive
    branches:
      - {when: 'outcomes.review == "grant"', next: granted}
    default: refused
  - {id: granted, kind: end, name: {kk: Берілді, ru: Оказано}, result: granted}
  - {id: refused, kind: end, name: {kk: Бас тарту, ru: Отказ}, result: refused}
  - {id: returned, kind: end, name: {kk: Қайтарылды, ru: Возврат}, result: returned}
"#;

pub(crate) fn calendars() -> Arc<Calendars> {
    static CALENDARS: OnceLock<Arc<Calendars>> = OnceLock::new();
    CALENDARS
        .get_or_init(|| {
            let root = reglament_testkit::regulations_dir();
            Arc::new(Calendars::load(&root).expect("bundled calendars load"))
        })
        .clone()
}

pub(crate) fn fixture() -> Arc<Process> {
    let report = validate::check_str(FIXTURE, "fixture.yaml", None);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    Arc::new(report.process.expect("compiles"))
}

pub(crate) const OFFICE: &str = "atyrau-city-ozsp";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn engine() -> (Engine, Arc<Process>) {
    let mut e = Engine::new(calendars());
    let p = fixture();
    e.deploy(p.clone());
    (e, p)
}

fn applicant() -> serde_json::Value {
    json!({"full_name": "Айгүл Серікова", "iin": "900101400123", "family_size": 4})
}

fn clerk() -> Actor {
    Actor::new("clerk1", "executor")
}
fn head() -> Actor {
    Actor::new("head1", "head")
}

fn open_ids(state: &CaseState) -> Vec<(u32, String)> {
    state
        .open_tasks()
        .map(|t| (t.id.0, t.step_id.to_string()))
        .collect()
}

#[test]
fn a_case_runs_from_registration_to_grant_with_its_deadlines() {
    let (mut e, p) = engine();
    let id = CaseId::new("ATR-1");
    // Friday 20 March 2026, 10:00 in Atyrau (+05). Nauryz falls on 21–23 March and the two
    // weekend days move to 24–25, so the working days are 26, 27, 30, 31 March, 1, 2, 3, 6, 7
    // and 8 April: the term ends on Wednesday 8 April at 18:00.
    let events = e
        .start(
            &p,
            NewCase {
                case: id.clone(),
                channel: "provider".into(),
                office: OFFICE.into(),
                data: applicant(),
            },
            &clerk(),
            t("2026-03-20T10:00:00+05:00"),
        )
        .expect("starts");
    let EventKind::CaseStarted { deadline, .. } = &events[0].kind else {
        panic!("first event is case_started")
    };
    assert_eq!(
        deadline.as_ref().map(|d| d.due),
        Some(t("2026-04-08T18:00:00+05:00"))
    );
    let EventKind::TaskOpened {
        task,
        step,
        deadline,
        ..
    } = &events[1].kind
    else {
        panic!("then the first task opens")
    };
    assert_eq!((task.0, &**step), (1, "register"));
    assert_eq!(
        deadline.as_ref().map(|d| d.due),
        Some(t("2026-03-20T10:15:00+05:00"))
    );

    let now = t("2026-03-20T10:05:00+05:00");
    e.execute(
        &id,
        &Command::Complete {
            task: TaskId(1),
            outcome: None,
            data: json!({}),
            reason: None,
        },
        &clerk(),
        now,
    )
    .expect("register");
    let state = e.case(&id).expect("case");
    assert_eq!(
        open_ids(state),
        vec![(2, "verify_income".into()), (3, "verify_family".into())]
    );
    // One working day from Friday 10:05: the end of the next working day, Thursday 26 March.
    assert_eq!(
        state
            .task(TaskId(2))
            .and_then(|t| t.deadline.as_ref())
            .map(|d| d.due),
        Some(t("2026-03-26T18:00:00+05:00"))
    );

    for task in [2, 3] {
        e.execute(
            &id,
            &Command::Complete {
                task: TaskId(task),
                outcome: None,
                data: json!({}),
                reason: None,
            },
            &clerk(),
            t("2026-03-26T11:00:00+05:00"),
        )
        .expect("verify");
    }
    let state = e.case(&id).expect("case");
    assert_eq!(open_ids(state), vec![(4, "review".into())]);

    e.execute(
        &id,
        &Command::Complete {
            task: TaskId(4),
            outcome: Some("grant".into()),
            data: json!({"amount": 25000}),
            reason: None,
        },
        &clerk(),
        t("2026-03-27T12:00:00+05:00"),
    )
    .expect("review");
    let events = e
        .execute(
            &id,
            &Command::Complete {
                task: TaskId(5),
                outcome: None,
                data: json!({}),
                reason: None,
            },
            &head(),
            t("2026-03-30T09:30:00+05:00"),
        )
        .expect("sign");
    let names: Vec<&str> = events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        names,
        vec![
            "task_claimed",
            "task_completed",
            "branch_taken",
            "case_ended"
        ]
    );
    let state = e.case(&id).expect("case");
    assert_eq!(state.status, CaseStatus::Ended(CaseResult::Granted));
    assert_eq!(state.next_wakeup(), None);
    assert_eq!(e.pending_wakeups(), 0);
}

#[test]
fn illegal_commands_say_why_and_change_nothing() {
    let (mut e, p) = engine();
    let id = CaseId::new("ATR-2");
    let now = t("2026-03-20T10:00:00+05:00");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: applicant(),
        },
        &clerk(),
        now,
    )
    .expect("starts");
    let version = e.case(&id).map(|s| s.version);
    let complete = |task: u32,
                    outcome: Option<&str>,
                    data: serde_json::Value,
                    reason: Option<&str>| Command::Complete {
        task: TaskId(task),
        outcome: outcome.map(str::to_string),
        data,
        reason: reason.map(str::to_string),
    };
    let cases: Vec<(Command, Actor, &str)> = vec![
        (complete(1, None, json!({}), None), head(), "wrong-role"),
        (complete(9, None, json!({}), None), clerk(), "no-such-task"),
        (
            complete(1, Some("grant"), json!({}), None),
            clerk(),
            "no-outcome-expected",
        ),
        (
            Command::Reassign {
                task: TaskId(1),
                user: Some("x".into()),
            },
            clerk(),
            "not-allowed-to-reassign",
        ),
        (Command::Release { task: TaskId(1) }, clerk(), "not-claimed"),
        (
            Command::Cancel { reason: "x".into() },
            head(),
            "not-allowed-to-cancel",
        ),
        (
            Command::SystemResult {
                step: "authorize".into(),
                outcome: Some("ok".into()),
                data: json!({}),
                reason: None,
            },
            Actor::new("egov", "portal"),
            "no-task-at-step",
        ),
    ];
    for (cmd, actor, kind) in cases {
        let err = e.execute(&id, &cmd, &actor, now).expect_err(kind);
        match err {
            EngineError::Command(c) => assert_eq!(c.kind(), kind, "{c}"),
            other => panic!("{other}"),
        }
        assert_eq!(
            e.case(&id).map(|s| s.version),
            version,
            "{kind} changed the case"
        );
    }
    // Move to the review and try its outcomes.
    e.execute(&id, &complete(1, None, json!({}), None), &clerk(), now)
        .expect("register");
    e.execute(&id, &complete(2, None, json!({}), None), &clerk(), now)
        .expect("income");
    e.execute(&id, &complete(3, None, json!({}), None), &clerk(), now)
        .expect("family");
    let version = e.case(&id).map(|s| s.version);
    for (cmd, kind) in [
        (complete(4, None, json!({}), None), "outcome-required"),
        (
            complete(4, Some("approve"), json!({}), None),
            "unknown-outcome",
        ),
        (
            complete(4, Some("refuse"), json!({}), Some("  ")),
            "reason-required",
        ),
        (
            complete(4, Some("grant"), json!({"amount": -5}), None),
            "invalid-data",
        ),
    ] {
        let err = e.execute(&id, &cmd, &clerk(), now).expect_err(kind);
        let EngineError::Command(c) = err else {
            panic!("{err}")
        };
        assert_eq!(c.kind(), kind, "{c}");
        assert_eq!(e.case(&id).map(|s| s.version), version);
    }
    let err = e
        .execute(
            &id,
            &complete(4, Some("grant"), json!({"amount": -5}), None),
            &clerk(),
            now,
        )
        .expect_err("invalid");
    assert!(err.to_string().contains("/amount"), "{err}");
}

#[test]
fn bad_application_data_is_refused_with_the_failing_fields() {
    let (mut e, p) = engine();
    let err = e
        .start(
            &p,
            NewCase {
                case: CaseId::new("ATR-3"),
                channel: "provider".into(),
                office: OFFICE.into(),
                data: json!({"full_name": "", "iin": "12"}),
            },
            &clerk(),
            t("2026-03-20T10:00:00+05:00"),
        )
        .expect_err("invalid");
    let EngineError::Command(CommandError::InvalidData { errors }) = err else {
        panic!("{err}")
    };
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, vec!["/full_name", "/iin"]);
    assert!(e.is_empty());
    let err = e
        .start(
            &p,
            NewCase {
                case: CaseId::new("ATR-3"),
                channel: "provder".into(),
                office: OFFICE.into(),
                data: applicant(),
            },
            &clerk(),
            t("2026-03-20T10:00:00+05:00"),
        )
        .expect_err("channel");
    assert!(err.to_string().contains("did you mean `provider`"), "{err}");
}

#[test]
fn claims_have_one_winner_and_a_double_click_has_one_effect() {
    let (mut e, p) = engine();
    let id = CaseId::new("ATR-4");
    let now = t("2026-03-20T10:00:00+05:00");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: applicant(),
        },
        &clerk(),
        now,
    )
    .expect("starts");
    let a = Actor::new("a", "executor");
    let b = Actor::new("b", "executor");
    assert_eq!(
        e.execute(&id, &Command::Claim { task: TaskId(1) }, &a, now)
            .expect("a")
            .len(),
        1
    );
    assert!(
        e.execute(&id, &Command::Claim { task: TaskId(1) }, &a, now)
            .expect("again")
            .is_empty()
    );
    let err = e
        .execute(&id, &Command::Claim { task: TaskId(1) }, &b, now)
        .expect_err("b");
    assert!(
        matches!(
            err,
            EngineError::Command(CommandError::ClaimedByOther { .. })
        ),
        "{err}"
    );
    let complete = Command::Complete {
        task: TaskId(1),
        outcome: None,
        data: json!({}),
        reason: None,
    };
    e.execute(&id, &complete, &a, now).expect("done");
    let err = e.execute(&id, &complete, &a, now).expect_err("twice");
    assert!(
        matches!(err, EngineError::Command(CommandError::TaskNotOpen { .. })),
        "{err}"
    );
    // A head hands a task to a person; only they may take it.
    e.execute(
        &id,
        &Command::Reassign {
            task: TaskId(2),
            user: Some("b".into()),
        },
        &head(),
        now,
    )
    .expect("reassign");
    let err = e
        .execute(&id, &Command::Claim { task: TaskId(2) }, &a, now)
        .expect_err("not a's");
    assert!(
        matches!(
            err,
            EngineError::Command(CommandError::AssignedToOther { .. })
        ),
        "{err}"
    );
    e.execute(&id, &Command::Claim { task: TaskId(2) }, &b, now)
        .expect("b's");
}

#[test]
fn time_breaches_each_deadline_once_and_escalates() {
    let (mut e, p) = engine();
    let id = CaseId::new("ATR-5");
    let now = t("2026-03-20T10:00:00+05:00");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: applicant(),
        },
        &clerk(),
        now,
    )
    .expect("starts");
    for task in 1..=3 {
        e.execute(
            &id,
            &Command::Complete {
                task: TaskId(task),
                outcome: None,
                data: json!({}),
                reason: None,
            },
            &clerk(),
            now,
        )
        .expect("step");
    }
    // review: 5 working days from Friday 20 March (26, 27, 30, 31 March, 1 April).
    let due = e
        .case(&id)
        .and_then(|s| s.task(TaskId(4)))
        .and_then(|t| t.deadline.clone())
        .map(|d| d.due);
    assert_eq!(due, Some(t("2026-04-01T18:00:00+05:00")));
    let Ticked { events, failed } = e.tick(t("2026-04-01T17:59:59+05:00"));
    assert!(events.is_empty() && failed.is_empty());
    let events = e.tick(t("2026-04-01T18:00:00+05:00")).events;
    let names: Vec<&str> = events.iter().map(|(_, e)| e.kind.name()).collect();
    assert_eq!(names, vec!["deadline_breached", "escalation_notified"]);
    let events = e.tick(t("2026-04-02T09:00:00+05:00")).events;
    assert!(events.is_empty(), "no second breach: {events:?}");
    // The reassignment comes one working day after the breach at closing time: the breach
    // counts from the next opening (Thursday), so the close of Friday 3 April.
    let events = e.tick(t("2026-04-03T18:00:00+05:00")).events;
    let names: Vec<&str> = events.iter().map(|(_, e)| e.kind.name()).collect();
    assert_eq!(names, vec!["task_reassigned", "escalation_notified"]);
    assert_eq!(
        e.case(&id)
            .and_then(|s| s.task(TaskId(4)))
            .map(|t| t.role.to_string()),
        Some("head".into())
    );
    // The case's own term ends on 8 April.
    let events = e.tick(t("2026-04-08T18:00:00+05:00")).events;
    assert!(
        matches!(
            events[..],
            [(
                _,
                Event {
                    kind: EventKind::DeadlineBreached {
                        target: DeadlineTarget::Case,
                        ..
                    },
                    ..
                }
            )]
        ),
        "{events:?}"
    );
    let events = e.tick(t("2026-06-01T09:00:00+05:00")).events;
    assert!(events.is_empty());
}

#[test]
fn the_centre_dispatch_releases_collected_cases_together() {
    let (mut e, p) = engine();
    let inspector = Actor::new("insp", "centre_inspector");
    for (n, at) in [
        ("C-1", "2026-03-02T09:30:00+05:00"),
        ("C-2", "2026-03-02T10:40:00+05:00"),
        ("C-3", "2026-03-02T11:20:00+05:00"),
    ] {
        let id = CaseId::new(n);
        e.start(
            &p,
            NewCase {
                case: id.clone(),
                channel: "centre".into(),
                office: OFFICE.into(),
                data: applicant(),
            },
            &inspector,
            t(at),
        )
        .expect("start");
        e.execute(
            &id,
            &Command::Complete {
                task: TaskId(1),
                outcome: None,
                data: json!({}),
                reason: None,
            },
            &inspector,
            t(at),
        )
        .expect("receive");
    }
    let events = e.tick(t("2026-03-02T11:00:00+05:00")).events;
    let released: Vec<&str> = events
        .iter()
        .filter(|(_, e)| e.kind.name() == "dispatch_released")
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(released, vec!["C-1", "C-2"]);
    let events = e.tick(t("2026-03-02T16:00:00+05:00")).events;
    let released: Vec<&str> = events
        .iter()
        .filter(|(_, e)| e.kind.name() == "dispatch_released")
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(released, vec!["C-3"]);
    let state = e.case(&CaseId::new("C-3")).expect("case");
    assert_eq!(open_ids(state), vec![(2, "register".into())]);
    // «День приема и выдачи не входит в срок»: ten working days from Monday 2 March (9 March is
    // the day off for 8 March, a Sunday) end on Tuesday 17 March; the day of issue is not
    // counted either, so the close of Wednesday 18 March.
    assert_eq!(
        state.deadline.as_ref().map(|d| d.due),
        Some(t("2026-03-18T18:00:00+05:00"))
    );
}

#[test]
fn after_hours_portal_applications_count_from_the_next_opening() {
    let (mut e, p) = engine();
    let id = CaseId::new("P-1");
    // Saturday evening: registered at Monday 09:00.
    let events = e
        .start(
            &p,
            NewCase {
                case: id.clone(),
                channel: "portal".into(),
                office: OFFICE.into(),
                data: applicant(),
            },
            &Actor::new("egov", "portal"),
            t("2026-03-07T22:00:00+05:00"),
        )
        .expect("start");
    let EventKind::CaseStarted { registered_at, .. } = &events[0].kind else {
        panic!()
    };
    // Monday 9 March is the day off for 8 March (a Sunday), so Tuesday 10 March 09:00.
    assert_eq!(*registered_at, t("2026-03-10T09:00:00+05:00"));
    let err = e
        .execute(
            &id,
            &Command::SystemResult {
                step: "authorize".into(),
                outcome: Some("ok".into()),
                data: json!({}),
                reason: None,
            },
            &clerk(),
            t("2026-03-10T09:01:00+05:00"),
        )
        .expect_err("a clerk is not the portal");
    assert!(matches!(
        err,
        EngineError::Command(CommandError::WrongRole { .. })
    ));
    e.execute(
        &id,
        &Command::SystemResult {
            step: "authorize".into(),
            outcome: Some("failed".into()),
            data: json!({"code": 401}),
            reason: Some("ЭЦП не подтверждена".into()),
        },
        &Actor::new("egov", "portal"),
        t("2026-03-10T09:01:00+05:00"),
    )
    .expect("result");
    assert_eq!(
        e.case(&id).map(|s| s.status),
        Some(CaseStatus::Ended(CaseResult::Refused))
    );
}

#[test]
fn documents_missing_switches_to_the_extended_term() {
    let (mut e, p) = engine();
    let id = CaseId::new("M-1");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: applicant(),
        },
        &clerk(),
        t("2026-03-20T10:00:00+05:00"),
    )
    .expect("start");
    e.execute(
        &id,
        &Command::DocumentsMissing {
            note: Some("нет справки о доходах".into()),
        },
        &clerk(),
        t("2026-03-20T11:00:00+05:00"),
    )
    .expect("missing");
    let due = e.case(&id).and_then(|s| s.deadline.as_ref()).map(|d| d.due);
    // Twenty working days from 20 March: the tenth is 8 April, the twentieth Wednesday 22 April.
    assert_eq!(due, Some(t("2026-04-22T18:00:00+05:00")));
    let err = e
        .execute(
            &id,
            &Command::DocumentsMissing { note: None },
            &clerk(),
            t("2026-03-20T11:00:00+05:00"),
        )
        .expect_err("twice");
    assert!(matches!(
        err,
        EngineError::Command(CommandError::AlreadyMissing)
    ));
    e.execute(
        &id,
        &Command::Withdraw {
            reason: "заявитель отозвал".into(),
        },
        &clerk(),
        t("2026-03-23T11:00:00+05:00"),
    )
    .expect("withdraw");
    let state = e.case(&id).expect("case");
    assert_eq!(state.status, CaseStatus::Ended(CaseResult::Withdrawn));
    assert_eq!(state.open_tasks().count(), 0);
}

#[test]
fn folding_the_events_gives_the_live_state() {
    let (mut e, p) = engine();
    let id = CaseId::new("F-1");
    let mut log = e
        .start(
            &p,
            NewCase {
                case: id.clone(),
                channel: "provider".into(),
                office: OFFICE.into(),
                data: applicant(),
            },
            &clerk(),
            t("2026-03-20T10:00:00+05:00"),
        )
        .expect("start");
    for (task, outcome, actor) in [
        (1, None, clerk()),
        (2, None, clerk()),
        (3, None, clerk()),
        (4, Some("refuse"), clerk()),
    ] {
        log.extend(
            e.execute(
                &id,
                &Command::Complete {
                    task: TaskId(task),
                    outcome: outcome.map(str::to_string),
                    data: json!({}),
                    reason: Some("доход выше порога".into()),
                },
                &actor,
                t("2026-03-23T10:00:00+05:00"),
            )
            .expect("step"),
        );
    }
    log.extend(
        e.tick(t("2026-04-10T10:00:00+05:00"))
            .events
            .into_iter()
            .map(|(_, e)| e),
    );
    let live = e.case(&id).expect("case");
    let folded = CaseState::fold(&log, |d| (d == p.digest).then(|| p.clone())).expect("fold");
    assert_eq!(format!("{:?}", folded.tasks), format!("{:?}", live.tasks));
    assert_eq!(folded.version, live.version);
    assert_eq!(folded.deadline, live.deadline);
    assert_eq!(folded.breached, live.breached);
    // And through JSON, as the store keeps them.
    let json = serde_json::to_string(&log).expect("serialize");
    let back: Vec<Event> = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, log);
}

/// A case of `dividing` (a choice that divides by a field the applicant may give as zero)
/// whose registration is completed.
fn dividing_case(family_size: i64) -> (Engine, CaseId, Vec<Event>) {
    let report = validate::check_str(reglament_testkit::fixtures::DIVIDING, "dividing.yaml", None);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    let p = Arc::new(report.process.expect("compiles"));
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = CaseId::new("INC-1");
    let mut log = e
        .start(
            &p,
            NewCase {
                case: id.clone(),
                channel: "provider".into(),
                office: OFFICE.into(),
                data: json!({"income": 150, "family_size": family_size}),
            },
            &clerk(),
            t("2026-03-20T10:00:00+05:00"),
        )
        .expect("start");
    log.extend(
        e.execute(
            &id,
            &Command::Complete {
                task: TaskId(1),
                outcome: None,
                data: json!({}),
                reason: None,
            },
            &clerk(),
            t("2026-03-20T10:05:00+05:00"),
        )
        .expect("the completion stands although the choice after it fails"),
    );
    (e, id, log)
}

fn admin() -> Actor {
    Actor::new("admin", "administrator")
}

fn retry(incident: u32, data: Option<serde_json::Value>) -> Command {
    Command::RetryIncident {
        incident,
        reason: "the family size was entered as 0; corrected from the application".into(),
        data,
    }
}

#[test]
fn a_condition_that_fails_at_run_time_parks_the_case_at_an_incident() {
    let (e, id, log) = dividing_case(0);
    let kinds: Vec<&str> = log.iter().map(|ev| ev.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "case_started",
            "task_opened",
            "task_claimed",
            "task_completed",
            "incident_opened"
        ],
        "{log:#?}"
    );
    let EventKind::IncidentOpened {
        incident,
        step,
        cause,
        message,
    } = &log[4].kind
    else {
        unreachable!()
    };
    assert_eq!(
        (*incident, &**step, cause.as_str()),
        (1, "route", "condition-failed")
    );
    assert!(
        message.contains("exclusive choice `route`, branch 1"),
        "{message}"
    );
    let st = e.case(&id).expect("case");
    assert!(st.is_open());
    assert_eq!(st.open_tasks().count(), 0);
    assert_eq!(st.open_incidents().count(), 1);
    // The fold of the log is the live state.
    let folded = CaseState::fold(&log, |_| Some(st.process.clone())).expect("folds");
    assert_eq!(folded.incidents, st.incidents);
}

#[test]
fn a_retry_takes_the_path_on_once_the_cause_is_fixed_and_changes_nothing_before() {
    let (mut e, id, _) = dividing_case(0);
    let at = t("2026-03-20T11:00:00+05:00");
    // Only an administrator; a reason is required; the incident must exist.
    let err = e.execute(&id, &retry(1, None), &clerk(), at).unwrap_err();
    assert!(err.to_string().contains("only an administrator"), "{err}");
    let err = e.execute(&id, &retry(2, None), &admin(), at).unwrap_err();
    assert!(err.to_string().contains("no incident 2"), "{err}");
    // The same data fails the same way: nothing is written, the incident stays open.
    let before = e.case(&id).expect("case").version;
    let err = e.execute(&id, &retry(1, None), &admin(), at).unwrap_err();
    assert!(
        matches!(err, EngineError::Command(CommandError::Condition { .. })),
        "{err}"
    );
    assert_eq!(e.case(&id).expect("case").version, before);
    // Corrected data must still fit the form.
    let err = e
        .execute(
            &id,
            &retry(1, Some(json!({"family_size": "two"}))),
            &admin(),
            at,
        )
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Command(CommandError::InvalidData { .. })),
        "{err}"
    );
    // With the family size corrected, the choice is made: 150 / 2 = 75 < 100, granted.
    let events = e
        .execute(
            &id,
            &retry(1, Some(json!({"family_size": 2}))),
            &admin(),
            at,
        )
        .expect("retry");
    let kinds: Vec<&str> = events.iter().map(|ev| ev.kind.name()).collect();
    assert_eq!(kinds, ["incident_resolved", "branch_taken", "case_ended"]);
    let st = e.case(&id).expect("case");
    assert_eq!(st.status, CaseStatus::Ended(CaseResult::Granted));
    assert_eq!(st.data["family_size"], 2);
    assert_eq!(st.incidents[0].resolved_at, Some(at));
    // A second retry of the same incident is refused.
    let err = e.execute(&id, &retry(1, None), &admin(), at).unwrap_err();
    assert!(
        err.to_string().contains("case has ended") || err.to_string().contains("resolved"),
        "{err}"
    );
}

#[test]
fn a_case_that_meets_no_fault_opens_no_incident() {
    let (e, id, log) = dividing_case(3);
    assert!(
        log.iter()
            .all(|ev| !matches!(ev.kind, EventKind::IncidentOpened { .. }))
    );
    assert_eq!(
        e.case(&id).expect("case").status,
        CaseStatus::Ended(CaseResult::Granted)
    );
}

/// `register-review` with warnings at 50 % and 80 % of each task's working time.
fn warned_process() -> Arc<Process> {
    let yaml = reglament_testkit::fixtures::REGISTER_REVIEW
        .replace("\nsteps:\n", "\nwarnings: [80, 50]\nsteps:\n");
    let report = validate::check_str(&yaml, "warned.yaml", None);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    Arc::new(report.process.expect("compiles"))
}

fn warnings_of(events: &[Event]) -> Vec<(u8, DateTime<Utc>)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WarningsScheduled { warnings, .. } => Some(warnings.clone()),
            _ => None,
        })
        .flatten()
        .map(|w| (w.percent, w.at))
        .collect()
}

fn warned(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DeadlineWarned { percent, .. } => Some(*percent),
            _ => None,
        })
        .collect()
}

#[test]
fn warnings_fall_at_their_share_of_working_time_and_fire_once_each() {
    let p = warned_process();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = CaseId::new("WARN-1");
    // Tuesday 14 April 2026, 12:50 in Atyrau; the office works 09:00–18:00 with lunch
    // 13:00–14:00. Registration takes 15 working minutes: 10 before lunch, 5 after, due 14:05.
    // 50 % is 7 minutes (7.5 rounded down): 12:57; 80 % is 12 minutes: 10 before lunch and 2
    // after, 14:02.
    let log = e
        .start(
            &p,
            NewCase {
                case: id.clone(),
                channel: "provider".into(),
                office: OFFICE.into(),
                data: json!({"full_name": "Айгүл Серікова"}),
            },
            &clerk(),
            t("2026-04-14T12:50:00+05:00"),
        )
        .expect("start");
    assert_eq!(
        warnings_of(&log),
        [
            (50, t("2026-04-14T12:57:00+05:00")),
            (80, t("2026-04-14T14:02:00+05:00"))
        ]
    );
    let st = e.case(&id).expect("case");
    assert_eq!(st.next_wakeup(), Some(t("2026-04-14T12:57:00+05:00")));
    let tick = |e: &mut Engine, at: &str| -> Vec<Event> {
        e.tick(t(at)).events.into_iter().map(|(_, ev)| ev).collect()
    };
    assert!(warned(&tick(&mut e, "2026-04-14T12:56:59+05:00")).is_empty());
    let first = tick(&mut e, "2026-04-14T12:57:00+05:00");
    assert_eq!(warned(&first), [50]);
    assert_eq!(
        e.case(&id).expect("case").next_wakeup(),
        Some(t("2026-04-14T14:02:00+05:00"))
    );
    // Over lunch nothing more is due.
    assert!(tick(&mut e, "2026-04-14T13:30:00+05:00").is_empty());
    let second = tick(&mut e, "2026-04-14T14:03:00+05:00");
    assert_eq!(warned(&second), [80]);
    assert!(
        e.tick(t("2026-04-14T14:04:00+05:00")).events.is_empty(),
        "once each"
    );
    assert_eq!(
        e.case(&id).expect("case").next_wakeup(),
        Some(t("2026-04-14T14:05:00+05:00"))
    );

    // Folded again (a restart), the case has given both warnings and gives none again.
    let mut all = log.clone();
    all.extend(first);
    all.extend(second);
    let folded = CaseState::fold(all.iter(), |_| Some(p.clone())).expect("fold");
    let clock = calendars().clock(Some(OFFICE)).expect("clock");
    let again = crate::decide::tick(&folded, t("2026-04-14T14:04:00+05:00"), &clock).expect("tick");
    assert!(again.is_empty(), "{again:?}");
    let late = crate::decide::tick(&folded, t("2026-04-14T14:05:00+05:00"), &clock).expect("tick");
    assert!(
        late.iter()
            .any(|e| matches!(e.kind, EventKind::DeadlineBreached { .. })),
        "{late:?}"
    );
}

#[test]
fn warnings_missed_while_the_server_was_down_come_once_before_the_breach() {
    let p = warned_process();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = CaseId::new("WARN-2");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: json!({"full_name": "Айгүл Серікова"}),
        },
        &clerk(),
        t("2026-04-14T12:50:00+05:00"),
    )
    .expect("start");
    let events = e.tick(t("2026-04-14T15:00:00+05:00")).events;
    let kinds: Vec<&str> = events.iter().map(|(_, e)| e.kind.name()).collect();
    assert_eq!(
        kinds,
        ["deadline_warned", "deadline_warned", "deadline_breached"],
        "{events:?}"
    );
    // A case without warnings in its regulation schedules none.
    let (mut plain, fixture) = engine();
    let log = plain
        .start(
            &fixture,
            NewCase {
                case: CaseId::new("PLAIN-1"),
                channel: "provider".into(),
                office: OFFICE.into(),
                data: applicant(),
            },
            &clerk(),
            t("2026-04-14T12:50:00+05:00"),
        )
        .expect("start");
    assert!(warnings_of(&log).is_empty());
}

/// A deputy («исполняющий обязанности») takes over the tasks claimed by or handed to the user
/// they act for; every event records whom they acted for; anyone else is still refused.
#[test]
fn a_deputy_takes_over_the_principals_tasks_and_the_events_say_for_whom() {
    let (mut e, p) = engine();
    let id = CaseId::new("ATR-DEP");
    let now = t("2026-04-15T10:00:00+05:00");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: applicant(),
        },
        &clerk(),
        now,
    )
    .expect("starts");
    let claim = |task| Command::Claim { task: TaskId(task) };
    e.execute(&id, &claim(1), &clerk(), now)
        .expect("clerk1 claims");
    let deputy = Actor::on_behalf("clerk2", "executor", "clerk1");
    let stranger = Actor::new("clerk3", "executor");
    let err = e
        .execute(&id, &claim(1), &stranger, now)
        .expect_err("taken");
    assert!(
        matches!(
            err,
            EngineError::Command(CommandError::ClaimedByOther { .. })
        ),
        "{err}"
    );
    let events = e
        .execute(&id, &claim(1), &deputy, now)
        .expect("the deputy takes it over");
    assert_eq!(events.len(), 1);
    assert!(matches!(&events[0].kind, EventKind::TaskClaimed { user, .. } if &**user == "clerk2"));
    assert_eq!(events[0].actor.on_behalf_of.as_deref(), Some("clerk1"));
    // The record carries the principal; an actor without one writes what it always wrote.
    let body = serde_json::to_value(&events[0]).expect("json");
    assert_eq!(body["actor"]["on_behalf_of"], "clerk1");
    let own = serde_json::to_value(Actor::new("clerk1", "executor")).expect("json");
    assert_eq!(own, json!({"user": "clerk1", "role": "executor"}));
    // Once the deputy holds it, the principal acting for themselves is the other one.
    let err = e
        .execute(&id, &claim(1), &clerk(), now)
        .expect_err("now the deputy's");
    assert!(
        matches!(
            err,
            EngineError::Command(CommandError::ClaimedByOther { .. })
        ),
        "{err}"
    );
    let done = e
        .execute(
            &id,
            &Command::Complete {
                task: TaskId(1),
                outcome: None,
                data: json!({}),
                reason: None,
            },
            &deputy,
            now,
        )
        .expect("the deputy completes it");
    assert!(
        done.iter()
            .all(|ev| ev.actor.on_behalf_of.as_deref() == Some("clerk1"))
    );
    // A task the head handed to the principal: the deputy may claim it, a stranger may not.
    e.execute(
        &id,
        &Command::Reassign {
            task: TaskId(2),
            user: Some("clerk1".into()),
        },
        &head(),
        now,
    )
    .expect("handed to clerk1");
    let err = e
        .execute(&id, &claim(2), &stranger, now)
        .expect_err("not theirs");
    assert!(
        matches!(
            err,
            EngineError::Command(CommandError::AssignedToOther { .. })
        ),
        "{err}"
    );
    e.execute(&id, &claim(2), &deputy, now)
        .expect("the deputy claims it");
    let state = e.case(&id).expect("case");
    assert_eq!(
        state.task(TaskId(2)).and_then(|t| t.claimed_by.as_deref()),
        Some("clerk2")
    );
}

/// An administrator's changes by hand: each is one `intervened` event with the reason, the
/// legal basis and the approver, then the engine's ordinary events for its effect.
#[test]
fn an_administrator_moves_cancels_and_changes_due_instants_by_hand() {
    let (mut e, p) = engine();
    let id = CaseId::new("ATR-IV");
    // Wednesday 15 April 2026, 10:00 in Atyrau (+05), office hours 09:00–18:00 with lunch
    // 13:00–14:00 (the fixture's calendar).
    let now = t("2026-04-15T10:00:00+05:00");
    e.start(
        &p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: applicant(),
        },
        &clerk(),
        now,
    )
    .expect("starts");
    let intervene = |action: Intervention, approved: Option<&str>| Command::Intervene {
        action,
        reason: "the applicant's file was registered twice".into(),
        legal_basis: "order No. 45, p. 3".into(),
        approved_by: approved.map(str::to_string),
    };
    let refused = |e: &mut Engine, cmd: &Command, actor: &Actor| -> String {
        match e.execute(&id, cmd, actor, now).expect_err("refused") {
            EngineError::Command(c) => c.kind().to_string(),
            other => panic!("{other}"),
        }
    };
    let to_review = Intervention::MoveTo {
        step: "review".into(),
    };
    assert_eq!(
        refused(&mut e, &intervene(to_review.clone(), None), &head()),
        "not-allowed-to-intervene"
    );
    let unexplained = Command::Intervene {
        action: to_review.clone(),
        reason: "x".into(),
        legal_basis: " ".into(),
        approved_by: None,
    };
    assert_eq!(
        refused(&mut e, &unexplained, &admin()),
        "intervention-refused"
    );
    for step in ["nowhere", "checks"] {
        let cmd = intervene(Intervention::MoveTo { step: step.into() }, None);
        assert_eq!(
            refused(&mut e, &cmd, &admin()),
            "intervention-refused",
            "{step}"
        );
    }

    // Registered: the two checks run side by side. The family check is cancelled by hand:
    // its path goes on to the join as if it had been done.
    e.execute(
        &id,
        &Command::Complete {
            task: TaskId(1),
            outcome: None,
            data: json!({}),
            reason: None,
        },
        &clerk(),
        now,
    )
    .expect("registered");
    let events = e
        .execute(
            &id,
            &intervene(Intervention::CancelTask { task: TaskId(3) }, Some("admin2")),
            &admin(),
            now,
        )
        .expect("cancelled");
    let kinds: Vec<&str> = events.iter().map(|ev| ev.kind.name()).collect();
    assert_eq!(kinds[..2], ["intervened", "task_cancelled"], "{kinds:?}");
    let EventKind::Intervened {
        reason,
        legal_basis,
        approved_by,
        ..
    } = &events[0].kind
    else {
        panic!("intervened first")
    };
    assert_eq!(
        (
            reason.as_str(),
            legal_basis.as_str(),
            approved_by.as_deref()
        ),
        (
            "the applicant's file was registered twice",
            "order No. 45, p. 3",
            Some("admin2")
        )
    );
    assert_eq!(&*events[0].actor.user, "admin");
    assert_eq!(
        open_ids(e.case(&id).expect("case")),
        vec![(2, "verify_income".into())]
    );
    // Only one path left: the income check, done, meets the cancelled one at the join.
    e.execute(
        &id,
        &Command::Complete {
            task: TaskId(2),
            outcome: None,
            data: json!({}),
            reason: None,
        },
        &clerk(),
        now,
    )
    .expect("income checked");
    assert_eq!(
        open_ids(e.case(&id).expect("case")),
        vec![(4, "review".into())]
    );

    // The review's due instant, by hand: to Monday 27 April 18:00 (+05).
    let later = t("2026-04-27T18:00:00+05:00");
    let change = |due| {
        intervene(
            Intervention::ChangeDue {
                target: DeadlineTarget::Task(TaskId(4)),
                due,
            },
            Some("admin2"),
        )
    };
    assert_eq!(
        refused(&mut e, &change(t("2026-04-15T09:00:00+05:00")), &admin()),
        "intervention-refused"
    );
    let before = e
        .case(&id)
        .and_then(|s| s.task(TaskId(4)))
        .and_then(|t| t.deadline.as_ref())
        .map(|d| d.due)
        .expect("a due instant");
    let events = e
        .execute(&id, &change(later), &admin(), now)
        .expect("moved");
    let EventKind::Intervened { moved, .. } = &events[0].kind else {
        panic!("intervened")
    };
    assert_eq!((moved[0].from, moved[0].to), (before, later));
    let task = e.case(&id).and_then(|s| s.task(TaskId(4))).expect("review");
    assert_eq!(task.deadline.as_ref().map(|d| d.due), Some(later));
    assert!(
        task.warn_at.is_empty(),
        "the old warnings do not fire on the moved instant"
    );

    // Back to registration: the review is cancelled, a new registration task opens with its
    // own 15 minutes from now.
    let events = e
        .execute(
            &id,
            &intervene(
                Intervention::MoveTo {
                    step: "register".into(),
                },
                None,
            ),
            &admin(),
            now,
        )
        .expect("moved back");
    let kinds: Vec<&str> = events.iter().map(|ev| ev.kind.name()).collect();
    assert_eq!(
        kinds[..3],
        ["intervened", "task_cancelled", "task_opened"],
        "{kinds:?}"
    );
    let state = e.case(&id).expect("case");
    assert_eq!(open_ids(state), vec![(5, "register".into())]);
    assert_eq!(
        state
            .task(TaskId(5))
            .and_then(|t| t.deadline.as_ref())
            .map(|d| d.due),
        Some(t("2026-04-15T10:15:00+05:00"))
    );
}

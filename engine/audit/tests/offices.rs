//! The audit of cases that cross offices. A case received at a public service centre
//! (atyrau-tson-oblast: 09:00–20:00 without a break) is handed to the city's department
//! (atyrau-city-ozsp: 09:00–18:00, lunch 13:00–14:00), which registers and reviews it, and
//! back to the centre, which issues the result. Figures worked out by hand on both schedules
//! (Atyrau, +05:00; Tuesday 14 to Thursday 16 April 2026, no holiday):
//!
//! | task | step     | office | opened      | due (its office's hours)        | closed      | worked |
//! |------|----------|--------|-------------|----------------------------------|-------------|--------|
//! | 1    | receive  | centre | Tue 12:50   | 13:05 (15 min, no lunch)         | Tue 12:55   | 5 min  |
//! | 2    | register | dept.  | Tue 12:55   | 14:10 (5 min, lunch, 10 min)     | Tue 14:05   | 10 min |
//! | 3    | review   | dept.  | Tue 14:05   | Wed 18:00 (1 working day)        | Wed 10:00   | 295 min|
//! | 4    | issue    | centre | Wed 10:00   | Thu 20:00 (1 working day)        | Thu 11:00   | 720 min|
//!
//! On the centre's hours the register would be due at 13:10 and take 70 minutes, the review
//! due Wednesday 20:00 and take 415; on the department's the issue would take 540. The
//! replay recomputes each due instant on the clock of its own office (rebuilt from the
//! calendar version the store recorded) and finds no mismatch; the timeline and the
//! compliance report name each step's office; a what-if gives the draft's tasks the same
//! offices and clocks; the exports carry the office of every event (PM4Py reads `org:group`).

#[path = "../../store/tests/store_support/mod.rs"]
mod store_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reglament_audit::export::{self, ExportFormat};
use reglament_audit::replay::{ReplayOptions, replay, replay_rows_on};
use reglament_audit::report::{self, compliance};
use reglament_audit::whatif::{self, Change};
use reglament_model::compile::Process;
use reglament_model::text::Lang;
use reglament_runtime::{Actor, CaseId, Clocks, EventKind, NewCase};
use reglament_store::scan::CaseFilter;
use reglament_store::{Service, Store};
use serde_json::{Value, json};
use store_support::*;

both_backends!(a_case_across_two_offices_is_audited_on_each_office_s_hours);

const CENTRE: &str = "atyrau-tson-oblast";
const DEPARTMENT: &str = "atyrau-city-ozsp";

/// A centre channel whose reception and issue are the centre's and whose registration and
/// review are the department's; and a provider channel, registered at the department itself.
const REGULATION: &str = r#"
id: centre-review
version: 1
valid_from: 2012-11-16
title: {kk: Сынақ, ru: Проверка, en: Check}
source: {act: Тест}
region: atyrau
roles:
  - {id: centre_inspector, kind: person, office: service_centre, name: {kk: Инспектор, ru: Инспектор, en: Inspector}}
  - {id: executor, kind: person, office: provider_office, name: {kk: Орындаушы, ru: Исполнитель, en: Executor}}
channels:
  - id: centre
    kind: service_centre
    start: receive
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
  - id: provider
    kind: provider_office
    start: register
    term: {text: в течение десяти рабочих дней, duration: 10 working days}
application_form:
  type: object
  required: [full_name]
  properties:
    full_name: {type: string, minLength: 1}
steps:
  - id: receive
    kind: task
    name: {kk: Қабылдау, ru: Прием, en: Reception}
    role: centre_inspector
    duration: 15 minutes
    source: {paragraph: "9"}
    next: register
  - id: register
    kind: task
    name: {kk: Тіркеу, ru: Регистрация, en: Registration}
    role: executor
    duration: 15 minutes
    source: {paragraph: "9"}
    next: review
  - id: review
    kind: task
    name: {kk: Қарау, ru: Рассмотрение, en: Review}
    role: executor
    duration: 1 working day
    source: {paragraph: "9"}
    next: route
  - id: route
    kind: exclusive
    branches:
      - {when: 'channel == "centre"', next: issue}
    default: granted
  - id: issue
    kind: task
    name: {kk: Беру, ru: Выдача, en: Issue}
    role: centre_inspector
    duration: 1 working day
    source: {paragraph: "9"}
    next: granted
  - {id: granted, kind: end, name: {kk: Берілді, ru: Оказано, en: Granted}, result: granted}
"#;

/// Atyrau time.
fn at(s: &str) -> DateTime<Utc> {
    t(&format!("{s}:00+05:00"))
}

fn inspector() -> Actor {
    Actor::new("inspector1", "centre_inspector")
}

fn executor() -> Actor {
    Actor::new("executor1", "executor")
}

fn opts(now: DateTime<Utc>, clocks: Option<&dyn Clocks>) -> ReplayOptions<'_> {
    ReplayOptions {
        at: None,
        now,
        clocks,
    }
}

async fn run(service: &Service, case: &CaseId, task: u32, who: &Actor, when: &str) {
    service
        .execute(case, &complete(task, None, json!({})), who, at(when))
        .await
        .unwrap_or_else(|e| panic!("{case} task {task} at {when}: {e}"));
}

/// The centre's case, through all four tasks; and a case registered at the department.
async fn write_cases(service: &Service, process: &Arc<Process>) -> (CaseId, CaseId) {
    let crossing = CaseId::new("TSON-1");
    // The regional centre forwards to the department of the applicant's district: the city's.
    let route = calendars()
        .route_via(CENTRE, Some(DEPARTMENT))
        .expect("the centre forwards");
    assert_eq!(
        route.get("provider_office").map(String::as_str),
        Some(DEPARTMENT)
    );
    service
        .start_routed(
            process,
            NewCase {
                case: crossing.clone(),
                channel: "centre".into(),
                office: CENTRE.into(),
                data: json!({"full_name": "Айгүл Серікова"}),
            },
            &route,
            &inspector(),
            at("2026-04-14T12:50"),
        )
        .await
        .expect("starts at the centre");
    run(service, &crossing, 1, &inspector(), "2026-04-14T12:55").await;
    run(service, &crossing, 2, &executor(), "2026-04-14T14:05").await;
    run(service, &crossing, 3, &executor(), "2026-04-15T10:00").await;
    run(service, &crossing, 4, &inspector(), "2026-04-16T11:00").await;

    // Registered at the department itself at 10:00 on Tuesday; the review handed in on
    // Wednesday at 09:30 (1 working day: due Wednesday 18:00).
    let home = CaseId::new("OZSP-1");
    service
        .start(
            process,
            NewCase {
                case: home.clone(),
                channel: "provider".into(),
                office: DEPARTMENT.into(),
                data: json!({"full_name": "Ерлан Жаксылыков"}),
            },
            &executor(),
            at("2026-04-14T10:00"),
        )
        .await
        .expect("starts at the department");
    run(service, &home, 1, &executor(), "2026-04-14T10:20").await;
    run(service, &home, 2, &executor(), "2026-04-15T09:30").await;
    (crossing, home)
}

async fn a_case_across_two_offices_is_audited_on_each_office_s_hours(db: &TestDb) {
    let store = Store::open(&db.url).await.expect("store opens");
    let (_, process) = store
        .deploy(REGULATION, "analyst", t0())
        .await
        .expect("deploys");
    let service = Service::new(store.clone(), calendars());
    let (crossing, home) = write_cases(&service, &process).await;
    let now = at("2026-04-17T12:00");

    // What the engine recorded: two hand-overs, each task at its office, due on its hours.
    let events = store.events(&crossing).await.expect("events");
    let handed: Vec<(String, String, String)> = events
        .iter()
        .filter_map(|e| match &e.event.kind {
            EventKind::CaseHandedOver { from, to, step } => {
                Some((from.to_string(), to.to_string(), step.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        handed,
        [
            (CENTRE.into(), DEPARTMENT.into(), "register".into()),
            (DEPARTMENT.into(), CENTRE.into(), "issue".into()),
        ]
    );
    let opened: Vec<(Option<String>, Option<DateTime<Utc>>, String)> = events
        .iter()
        .filter_map(|e| match &e.event.kind {
            EventKind::TaskOpened {
                office, deadline, ..
            } => Some((
                office.as_deref().map(str::to_string),
                deadline.as_ref().map(|d| d.due),
                deadline
                    .as_ref()
                    .map(|d| d.calendar_version.to_string())
                    .unwrap_or_default(),
            )),
            _ => None,
        })
        .collect();
    let centre_clock = calendars().clock(Some(CENTRE)).expect("centre");
    let department_clock = calendars().clock(Some(DEPARTMENT)).expect("department");
    assert_ne!(centre_clock.version(), department_clock.version());
    assert_eq!(
        opened,
        [
            (
                None,
                Some(at("2026-04-14T13:05")),
                centre_clock.version().to_string()
            ),
            (
                Some(DEPARTMENT.into()),
                Some(at("2026-04-14T14:10")),
                department_clock.version().to_string()
            ),
            (
                Some(DEPARTMENT.into()),
                Some(at("2026-04-15T18:00")),
                department_clock.version().to_string()
            ),
            (
                None,
                Some(at("2026-04-16T20:00")),
                centre_clock.version().to_string()
            ),
        ]
    );

    // The replay: the department's clock is rebuilt from the calendar version the store
    // recorded (no loaded calendars are given), and every due instant agrees.
    let r = replay(&store, &crossing, &opts(now, None))
        .await
        .expect("replays");
    assert!(r.chain.intact, "{:?}", r.chain.problem);
    assert!(
        r.projections.as_ref().is_some_and(|p| p.matches),
        "{:#?}",
        r.projections
    );
    assert!(
        r.deadlines.mismatches.is_empty(),
        "{:#?}",
        r.deadlines.mismatches
    );
    assert!(r.deadlines.recomputed, "{:?}", r.deadlines.missing_versions);
    assert_eq!(r.deadlines.unchecked, 0);
    assert!(r.deadlines.checked >= 5, "{:?}", r.deadlines);
    assert!(r.is_clean());
    assert_eq!(r.office, CENTRE);
    assert_eq!(r.offices, [CENTRE, DEPARTMENT]);
    let steps: Vec<_> = r
        .timeline
        .iter()
        .map(|s| {
            (
                s.step.as_str(),
                s.office.as_deref(),
                s.working_minutes,
                s.due,
                s.breached,
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (
                "receive",
                Some(CENTRE),
                Some(5),
                Some(at("2026-04-14T13:05")),
                false
            ),
            (
                "register",
                Some(DEPARTMENT),
                Some(10),
                Some(at("2026-04-14T14:10")),
                false
            ),
            (
                "review",
                Some(DEPARTMENT),
                Some(295),
                Some(at("2026-04-15T18:00")),
                false
            ),
            (
                "issue",
                Some(CENTRE),
                Some(720),
                Some(at("2026-04-16T20:00")),
                false
            ),
        ]
    );
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["offices"], json!([CENTRE, DEPARTMENT]));
    assert_eq!(json["timeline"][2]["office"], DEPARTMENT);
    assert_eq!(json["timeline"][3]["office"], CENTRE);
    assert!(
        r.log.iter().any(|l| l.kind == "case_handed_over"
            && l.summary == format!("{CENTRE} → {DEPARTMENT}, for register")),
        "{:#?}",
        r.log
    );

    // As it stood on Wednesday at 09:30: the review open at the department, 3 h 55 min on
    // Tuesday and 30 minutes on Wednesday of its hours.
    let mid = replay(
        &store,
        &crossing,
        &ReplayOptions {
            at: Some(at("2026-04-15T09:30")),
            now,
            clocks: None,
        },
    )
    .await
    .expect("replays");
    let open = &mid.state_at.as_ref().expect("state at").open_tasks;
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(
        (open[0].step.as_str(), open[0].office.as_deref()),
        ("review", Some(DEPARTMENT))
    );
    assert_eq!(open[0].working_minutes, Some(265));

    // Without the department's clock, its deadlines are not checked (rather than found wrong
    // on the centre's hours), and the replay says which version it lacked.
    let rows = store.case_log_rows(&crossing).await.expect("rows");
    let projection = store.case_projection(&crossing).await.expect("projection");
    let only_centre: BTreeMap<String, _> =
        [(centre_clock.version().to_string(), centre_clock.clone())]
            .into_iter()
            .collect();
    let partial = replay_rows_on(
        crossing.as_str(),
        &rows,
        projection.as_ref(),
        &process,
        &only_centre,
        &opts(now, None),
    )
    .expect("replays");
    assert!(partial.deadlines.mismatches.is_empty(), "{partial:#?}");
    assert_eq!(partial.deadlines.unchecked, 2);
    assert_eq!(
        partial.deadlines.missing_versions,
        [department_clock.version().to_string()]
    );
    // The department's tasks have no working time then, rather than the centre's.
    assert_eq!(partial.timeline[2].working_minutes, None);
    // With the loaded calendars as the fallback, the working time is there again.
    let with_calendars = replay_rows_on(
        crossing.as_str(),
        &rows,
        projection.as_ref(),
        &process,
        &only_centre,
        &opts(now, Some(&*calendars() as &dyn Clocks)),
    )
    .expect("replays");
    assert_eq!(with_calendars.timeline[2].working_minutes, Some(295));
    assert_eq!(with_calendars.deadlines.unchecked, 2);

    // A case that stayed at one office: no office per step, in the timeline or its JSON.
    let h = replay(&store, &home, &opts(now, None))
        .await
        .expect("replays");
    assert!(h.is_clean(), "{h:#?}");
    assert!(h.timeline.iter().all(|s| s.office.is_none()));
    let hj = serde_json::to_value(&h).expect("json");
    assert!(hj.get("offices").is_none() && hj["timeline"][0].get("office").is_none());

    // The compliance report: each step under the office that did it, the department's with
    // the centre its cases came from; each task's time on its office's hours.
    let r = compliance(&store, &CaseFilter::default(), now, None)
        .await
        .expect("report");
    assert!(r.missing_calendars.is_empty(), "{:?}", r.missing_calendars);
    let rows: Vec<_> = r
        .steps
        .iter()
        .map(|s| {
            (
                s.office.as_str(),
                s.step.as_str(),
                s.cases_from.iter().map(String::as_str).collect(),
                s.tasks,
                s.median_minutes,
            )
        })
        .collect();
    // The department's own case: register 10:00–10:20 (20 min), review Tuesday 10:20 to
    // Wednesday 09:30 (2 h 40 min before lunch and 4 h after on Tuesday, 30 min on
    // Wednesday: 430 min). Medians by the nearest rank: the lower of two.
    assert_eq!(
        rows,
        [
            (DEPARTMENT, "register", vec![CENTRE], 2, Some(10)),
            (DEPARTMENT, "review", vec![CENTRE], 2, Some(295)),
            (CENTRE, "receive", vec![], 1, Some(5)),
            (CENTRE, "issue", vec![], 1, Some(720)),
        ]
    );
    let review = r.steps.iter().find(|s| s.step == "review").expect("review");
    assert_eq!(review.p90_minutes, Some(430));
    let case = r
        .cases
        .iter()
        .find(|c| c.case == crossing.as_str())
        .expect("the centre's case");
    assert_eq!(case.office, CENTRE);
    assert_eq!(case.offices, [CENTRE, DEPARTMENT]);
    assert_eq!(case.term_met, Some(true));
    // Statutory time on the centre's hours, where the case was registered: Tuesday 12:50 to
    // Thursday 11:00 is 430 + 660 + 120 minutes.
    assert_eq!(case.working_minutes, Some(1210));
    let csv = report::to_csv(&r, Lang::En);
    let head = csv.lines().next().expect("header");
    assert!(head.ends_with(",offices,cases_from"), "{head}");
    assert!(
        csv.lines().any(|l| l.starts_with("case,centre-review,")
            && l.contains(&format!("{CENTRE} → {DEPARTMENT}"))),
        "{csv}"
    );
    assert!(
        csv.lines().any(
            |l| l.starts_with(&format!("step,centre-review,{DEPARTMENT},review,"))
                && l.ends_with(&format!(",{CENTRE}"))
        ),
        "{csv}"
    );
    let html = report::to_html(&r, Lang::En);
    assert!(
        html.contains(&format!(
            " — {DEPARTMENT} <small>(cases received at: {CENTRE})</small></h4>"
        )),
        "{html}"
    );

    // A what-if under a draft whose review takes two working days: the draft's tasks open at
    // the same offices, and their due instants are on those offices' hours.
    let draft = whatif::compile_draft(
        &REGULATION.replace("version: 1", "version: 2").replace(
            "duration: 1 working day\n    source: {paragraph: \"9\"}\n    next: route",
            "duration: 2 working days\n    source: {paragraph: \"9\"}\n    next: route",
        ),
        "draft.yaml",
    )
    .expect("the draft compiles");
    let w = whatif::whatif(&store, &crossing, &draft, &opts(now, None))
        .await
        .expect("what-if");
    assert!(w.diverged.is_none(), "{:?}", w.diverged);
    let tasks: Vec<_> = w
        .deadlines
        .iter()
        .filter(|d| d.target == "task")
        .map(|d| {
            (
                d.office.as_deref(),
                d.draft_office.as_deref(),
                d.draft_due,
                d.change,
            )
        })
        .collect();
    assert_eq!(
        tasks,
        [
            (
                Some(CENTRE),
                Some(CENTRE),
                Some(at("2026-04-14T13:05")),
                Change::OnTime
            ),
            (
                Some(DEPARTMENT),
                Some(DEPARTMENT),
                Some(at("2026-04-14T14:10")),
                Change::OnTime
            ),
            // Two working days from Tuesday 14:05 on the department's hours: Thursday 18:00
            // (the centre's would give 20:00).
            (
                Some(DEPARTMENT),
                Some(DEPARTMENT),
                Some(at("2026-04-16T18:00")),
                Change::OnTime
            ),
            (
                Some(CENTRE),
                Some(CENTRE),
                Some(at("2026-04-16T20:00")),
                Change::OnTime
            ),
        ],
        "{:#?}",
        w.deadlines
    );

    // A department's report includes the cases the centre handed to it, as well as its own;
    // the centre's, only the case registered there.
    let of = |office: &str| CaseFilter {
        office: Some(office.into()),
        ..Default::default()
    };
    let dept = compliance(&store, &of(DEPARTMENT), now, None)
        .await
        .expect("report");
    let mut ids: Vec<&str> = dept.cases.iter().map(|c| c.case.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["OZSP-1", "TSON-1"]);
    let centre = compliance(&store, &of(CENTRE), now, None)
        .await
        .expect("report");
    let ids: Vec<&str> = centre.cases.iter().map(|c| c.case.as_str()).collect();
    assert_eq!(ids, ["TSON-1"]);

    // The exports: every event names its office; the hand-overs are events of their own.
    let crossing_only = CaseFilter {
        office: Some(CENTRE.into()),
        ..Default::default()
    };
    let mut xes = Vec::new();
    export::export(
        &store,
        &crossing_only,
        ExportFormat::Xes,
        Lang::En,
        &mut xes,
    )
    .await
    .expect("xes");
    let xes = String::from_utf8(xes).expect("utf-8");
    assert_eq!(
        xes.matches("<event>").count(),
        xes.matches("<string key=\"org:group\"").count(),
        "every event has its office:\n{xes}"
    );
    assert_eq!(
        xes.matches("value=\"Case handed over\"").count(),
        2,
        "{xes}"
    );
    assert!(xes.contains(&format!(
        "<string key=\"org:group\" value=\"{CENTRE}\"/>\n      <string key=\"lifecycle:transition\" value=\"complete\"/>\n      <string key=\"to_office\" value=\"{DEPARTMENT}\"/>"
    )), "{xes}");
    // The review's start and completion are the department's.
    let review_events: Vec<&str> = xes
        .split("<event>")
        .filter(|e| e.contains("<string key=\"step\" value=\"review\"/>"))
        .collect();
    assert_eq!(review_events.len(), 2);
    assert!(review_events.iter().all(|e| e.contains(&format!(
        "<string key=\"org:group\" value=\"{DEPARTMENT}\"/>"
    ))));
    let mut csv = Vec::new();
    export::export(
        &store,
        &CaseFilter::default(),
        ExportFormat::Csv,
        Lang::En,
        &mut csv,
    )
    .await
    .expect("csv");
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h
                .ends_with(",calendar_version,event_office,to_office,on_behalf_of,approved_by")),
        "{csv}"
    );
    assert!(
        csv.lines().any(|l| l.starts_with("TSON-1,Review,complete,")
            && l.ends_with(&format!(",{DEPARTMENT},,,"))),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("TSON-1,Case handed over,complete,")
                && l.ends_with(&format!(",{DEPARTMENT},{CENTRE},,"))),
        "{csv}"
    );
    let mut ocel = Vec::new();
    let summary = export::export(
        &store,
        &CaseFilter::default(),
        ExportFormat::Ocel,
        Lang::En,
        &mut ocel,
    )
    .await
    .expect("ocel");
    let ocel_text = String::from_utf8(ocel).expect("utf-8");
    let ocel: Value = serde_json::from_str(&ocel_text).expect("OCEL is JSON");
    let offices: Vec<&str> = ocel["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter(|o| o["type"] == "office")
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(
        offices,
        [format!("office:{DEPARTMENT}"), format!("office:{CENTRE}")]
    );
    assert_eq!(
        ocel["objects"].as_array().map(Vec::len),
        Some(summary.objects as usize)
    );
    if let Some(counts) = pm4py("xes", &xes) {
        assert_eq!(counts["groups"], json!([DEPARTMENT, CENTRE]), "{counts}");
        assert_eq!(
            counts["events"].as_u64(),
            Some(xes.matches("<event>").count() as u64)
        );
    }
    if let Some(counts) = pm4py("ocel", &ocel_text) {
        assert_eq!(counts["objects"], json!(summary.objects), "{counts}");
        assert_eq!(
            counts["object_types"],
            json!(["case", "office", "user"]),
            "{counts}"
        );
    }
    store.close().await;
}

/// What PM4Py reads from an export (`tests/pm4py_counts.py`), when it is installed (required
/// in CI).
fn pm4py(kind: &str, text: &str) -> Option<Value> {
    let dir = temp_dir();
    let path = dir.join(format!("log.{kind}"));
    std::fs::write(&path, text).expect("write");
    let python = std::env::var("REGLAMENT_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pm4py_counts.py");
    let ci = std::env::var("REGLAMENT_CI").is_ok_and(|v| v == "1");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(kind)
        .arg(&path)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let skip = |why: String| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***\n");
        None
    };
    match out {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).expect("JSON")),
        Ok(o) if o.status.code() == Some(3) && !ci => skip("pm4py is not installed".into()),
        Ok(o) => panic!(
            "{python}: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) if !ci => skip(format!("cannot run {python}: {e}")),
        Err(e) => panic!("REGLAMENT_CI=1 and {python} cannot run: {e}"),
    }
}

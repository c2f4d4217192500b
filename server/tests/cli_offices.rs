//! The command line on a case that crosses offices: received at a public service centre
//! (atyrau-tson-oblast: 09:00–20:00 without a break), registered and reviewed at the city's
//! department (atyrau-city-ozsp: 09:00–18:00, lunch 13:00–14:00), issued at the centre.
//!
//! - `reglament replay` names the offices the case went through and the office of every step
//!   (and of every open task with `--at`, every deadline of a what-if);
//! - `reglament report compliance` has each step under the office that did it, and each
//!   case's offices;
//! - `reglament export` gives every event its office (`org:group`);
//! - `reglament simulate --office` routes the case as registration does, and prints where
//!   each task is; `reglament inspect` the kind of office of every role and step.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use reglament_calendar::Calendars;
use reglament_runtime::{Actor, CaseId, Command as EngineCommand, NewCase, TaskId};
use reglament_store::Service;
use serde_json::{Value, json};

const CENTRE: &str = "atyrau-tson-oblast";
const DEPARTMENT: &str = "atyrau-city-ozsp";
/// The instant of the audit: Friday 17 April 2026, noon in Atyrau.
const NOW: &str = "2026-04-17T12:00:00+05:00";

/// Reception and issue at a service centre, registration and review at the provider's office.
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
    next: issue
  - id: issue
    kind: task
    name: {kk: Беру, ru: Выдача, en: Issue}
    role: centre_inspector
    duration: 1 working day
    source: {paragraph: "9"}
    next: granted
  - {id: granted, kind: end, name: {kk: Берілді, ru: Оказано, en: Granted}, result: granted}
"#;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn regulations_dir() -> PathBuf {
    reglament_testkit::regulations_dir()
}

struct Fixture {
    dir: PathBuf,
    db: String,
    regulation: PathBuf,
    draft: PathBuf,
}

/// Writes the case `TSON-1`: received Tuesday 14 April 2026 at 12:50 and 12:55 at the centre,
/// registered at the department at 14:05 (due 14:10 on its hours, after lunch), reviewed on
/// Wednesday at 10:00 (due Wednesday 18:00), issued at the centre on Thursday at 11:00.
async fn write_case(url: &str) {
    let store = reglament_server::accounts::open_store(url, Default::default())
        .await
        .expect("store opens");
    let (_, process) = store
        .deploy(REGULATION, "analyst", t("2026-04-01T09:00:00+05:00"))
        .await
        .expect("deploys");
    let calendars = Arc::new(Calendars::load(&regulations_dir()).expect("calendars load"));
    // The regional centre forwards to the department of the applicant's district: the city's.
    let route = calendars
        .route_via(CENTRE, Some(DEPARTMENT))
        .expect("the centre forwards");
    let service = Service::new(store.clone(), calendars);
    let case = CaseId::new("TSON-1");
    let inspector = Actor::new("inspector1", "centre_inspector");
    let executor = Actor::new("executor1", "executor");
    service
        .start_routed(
            &process,
            NewCase {
                case: case.clone(),
                channel: "centre".into(),
                office: CENTRE.into(),
                data: json!({"full_name": "Айгүл Серікова"}),
            },
            &route,
            &inspector,
            t("2026-04-14T12:50:00+05:00"),
        )
        .await
        .expect("starts");
    for (task, who, at) in [
        (1, &inspector, "2026-04-14T12:55:00+05:00"),
        (2, &executor, "2026-04-14T14:05:00+05:00"),
        (3, &executor, "2026-04-15T10:00:00+05:00"),
        (4, &inspector, "2026-04-16T11:00:00+05:00"),
    ] {
        service
            .execute(
                &case,
                &EngineCommand::Complete {
                    task: TaskId(task),
                    outcome: None,
                    data: json!({}),
                    reason: None,
                },
                who,
                t(at),
            )
            .await
            .unwrap_or_else(|e| panic!("task {task}: {e}"));
    }
    store.close().await;
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "reglament-cli-offices-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = format!("sqlite:{}", dir.join("offices.db").display());
        let regulation = dir.join("centre-review.yaml");
        std::fs::write(&regulation, REGULATION).expect("regulation");
        // A draft whose review takes two working days.
        let draft = dir.join("draft.yaml");
        std::fs::write(
            &draft,
            REGULATION.replace("version: 1", "version: 2").replace(
                "duration: 1 working day\n    source: {paragraph: \"9\"}\n    next: issue",
                "duration: 2 working days\n    source: {paragraph: \"9\"}\n    next: issue",
            ),
        )
        .expect("draft");
        let url = db.clone();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(write_case(&url))
        })
        .join()
        .expect("the database is written");
        Fixture {
            dir,
            db,
            regulation,
            draft,
        }
    })
}

fn run(args: &[&str]) -> Output {
    let f = fixture();
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .env_remove("REGLAMENT_DB")
        .env("REGLAMENT_REGULATIONS", regulations_dir())
        .env("REGLAMENT_DATA", f.dir.join("no-data-here"))
        .output()
        .expect("run reglament")
}

/// Succeeds (exit 0) and gives its standard output.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The line of the text table whose first cell is `n`.
fn row<'a>(text: &'a str, n: &str) -> &'a str {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(n) && l.contains('('))
        .unwrap_or_else(|| panic!("no row {n}:\n{text}"))
}

#[test]
fn replay_names_the_office_of_every_step() {
    let f = fixture();
    let text = ok(&[
        "replay", "TSON-1", "--db", &f.db, "--now", NOW, "--lang", "en",
    ]);
    for want in [
        "office atyrau-tson-oblast",
        "Offices atyrau-tson-oblast → atyrau-city-ozsp",
        "Hash chain    intact",
        "Projections   match the events",
        "5 recomputed on their calendars: all agree",
    ] {
        assert!(text.contains(want), "`{want}` missing:\n{text}");
    }
    let head = text
        .lines()
        .find(|l| l.starts_with("#  "))
        .unwrap_or_else(|| panic!("no table:\n{text}"));
    assert!(
        head.contains("  role  ") && head.contains("  office  "),
        "{head}"
    );
    // Each task with its office, and the working time on that office's hours: the
    // registration 10 minutes across the department's lunch, the review 4 h 55 min.
    for (n, office, wants) in [
        ("1", CENTRE, &["2026-04-14 12:50", "2026-04-14 13:05"][..]),
        ("2", DEPARTMENT, &["10 min", "2026-04-14 14:10"][..]),
        ("3", DEPARTMENT, &["4 h 55 min", "2026-04-15 18:00"][..]),
        ("4", CENTRE, &["2026-04-16 20:00"][..]),
    ] {
        let line = row(&text, n);
        assert!(line.contains(office), "{line}");
        for want in wants {
            assert!(line.contains(want), "`{want}` missing: {line}");
        }
    }

    // As it stood on Wednesday at 09:30: the review open at the department.
    let text = ok(&[
        "replay",
        "TSON-1",
        "--db",
        &f.db,
        "--now",
        NOW,
        "--lang",
        "en",
        "--at",
        "2026-04-15T09:30:00+05:00",
    ]);
    let open = text
        .lines()
        .skip_while(|l| !l.starts_with("#  open task"))
        .collect::<Vec<_>>();
    assert!(open[0].contains("  office  "), "{text}");
    assert!(
        open[1].starts_with("3 ") && open[1].contains(DEPARTMENT),
        "{text}"
    );

    // JSON: the offices, and each step's.
    let out = ok(&[
        "replay", "TSON-1", "--db", &f.db, "--now", NOW, "--format", "json",
    ]);
    let j: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(j["offices"], json!([CENTRE, DEPARTMENT]));
    let offices: Vec<&str> = j["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|s| s["office"].as_str())
        .collect();
    assert_eq!(offices, [CENTRE, DEPARTMENT, DEPARTMENT, CENTRE]);
}

#[test]
fn a_what_if_keeps_each_task_at_its_office() {
    let f = fixture();
    let draft = f.draft.display().to_string();
    let text = ok(&[
        "replay",
        "TSON-1",
        "--db",
        &f.db,
        "--now",
        NOW,
        "--lang",
        "en",
        "--against",
        &draft,
    ]);
    let head = text
        .lines()
        .find(|l| l.starts_with("deadline "))
        .unwrap_or_else(|| panic!("no table:\n{text}"));
    assert!(head.contains("  office  "), "{head}");
    let review = text
        .lines()
        .find(|l| l.starts_with("task 3 "))
        .unwrap_or_else(|| panic!("no task 3:\n{text}"));
    // Two working days on the department's hours: Thursday 18:00 (13:00 UTC).
    assert!(
        review.contains(DEPARTMENT)
            && !review.contains('→')
            && review.contains("2026-04-16 13:00Z"),
        "{review}"
    );
}

#[test]
fn the_report_and_the_export_name_the_offices() {
    let f = fixture();
    let csv = ok(&[
        "report",
        "compliance",
        "--db",
        &f.db,
        "--now",
        NOW,
        "--format",
        "csv",
        "--lang",
        "en",
    ]);
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
    let json: Value = serde_json::from_str(&ok(&[
        "report",
        "compliance",
        "--db",
        &f.db,
        "--now",
        NOW,
        "--format",
        "json",
    ]))
    .expect("JSON");
    let steps: Vec<(&str, &str)> = json["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| Some((s["office"].as_str()?, s["step"].as_str()?)))
        .collect();
    assert_eq!(
        steps,
        [
            (DEPARTMENT, "register"),
            (DEPARTMENT, "review"),
            (CENTRE, "receive"),
            (CENTRE, "issue"),
        ]
    );
    let xes = ok(&["export", "--format", "xes", "--db", &f.db, "--lang", "en"]);
    assert_eq!(
        xes.matches("<event>").count(),
        xes.matches("<string key=\"org:group\"").count(),
        "{xes}"
    );
    assert_eq!(xes.matches("value=\"Case handed over\"").count(), 2);
}

#[test]
fn simulate_routes_a_centre_case_and_inspect_shows_where_each_step_is_done() {
    let f = fixture();
    let path = f.regulation.display().to_string();
    let text = ok(&[
        "simulate",
        &path,
        "--channel",
        "centre",
        "--office",
        CENTRE,
        "--forward-to",
        DEPARTMENT,
        "--start",
        "2026-04-14T12:50:00+05:00",
    ]);
    // Each task done at its due instant: the registration opens at 13:05 and is due, on the
    // department's hours, after its lunch at 14:15.
    for want in [
        format!("route: {CENTRE} (service_centre) → {DEPARTMENT} (provider_office)"),
        format!("task 1 opened: receive [centre_inspector] at {CENTRE}; due Tue 2026-04-14 13:05"),
        format!("handed over from {CENTRE} to {DEPARTMENT}, for register"),
        format!(
            "task 2 opened: register [executor] at {DEPARTMENT}; due Tue 2026-04-14 14:15 (15 minutes)"
        ),
        format!("task 3 opened: review [executor] at {DEPARTMENT}; due Wed 2026-04-15 18:00"),
        format!("handed over from {DEPARTMENT} to {CENTRE}, for issue"),
        format!("task 4 opened: issue [centre_inspector] at {CENTRE}; due Thu 2026-04-16 20:00"),
        "case ended: granted".to_string(),
    ] {
        assert!(text.contains(&want), "`{want}` missing:\n{text}");
    }
    assert!(!text.contains("BREACH"), "{text}");
    let json: Value = serde_json::from_str(&ok(&[
        "simulate",
        &path,
        "--channel",
        "centre",
        "--office",
        CENTRE,
        "--forward-to",
        DEPARTMENT,
        "--start",
        "2026-04-14T12:50:00+05:00",
        "--format",
        "json",
    ]))
    .expect("JSON");
    assert_eq!(
        json["route"],
        json!({"provider_office": DEPARTMENT, "service_centre": CENTRE})
    );

    // Received at the department itself: no route, every task there.
    let text = ok(&[
        "simulate",
        &path,
        "--channel",
        "centre",
        "--office",
        DEPARTMENT,
        "--start",
        "2026-04-14T12:50:00+05:00",
    ]);
    assert!(!text.contains("handed over"), "{text}");
    let opened: Vec<&str> = text.lines().filter(|l| l.contains(" opened: ")).collect();
    assert_eq!(opened.len(), 4, "{text}");
    assert!(
        opened
            .iter()
            .all(|l| l.contains(&format!("] at {DEPARTMENT};"))),
        "{text}"
    );

    let text = ok(&["inspect", &path, "--lang", "en"]);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no line for {id}:\n{text}"))
    };
    assert!(
        line("centre_inspector").contains("service_centre"),
        "{text}"
    );
    assert!(line("executor").contains("provider_office"), "{text}");
    for (step, kind) in [
        ("receive", "service_centre"),
        ("register", "provider_office"),
        ("review", "provider_office"),
        ("issue", "service_centre"),
    ] {
        assert!(line(step).contains(kind), "{step}: {}", line(step));
    }
}

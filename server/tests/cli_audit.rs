//! `reglament replay`, `audit verify`, `report compliance` and `export` as an auditor runs
//! them, on a small SQLite database written by the engine's store in this test:
//!
//! - `A-1`: the review handed in within its working day (on time), granted;
//! - `A-2`: the review breached (the timer fired it) and handed in two days later, granted;
//! - `A-3`: registered, its review still open (and past its due instant at the audit).
//!
//! A second, identical database has one event of `A-2` rewritten behind the store's back.
//! A draft of the regulation with a two-hour review shows the breach `A-1` would have had.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use quick_xml::Reader;
use quick_xml::events::Event;
use reglament_calendar::Calendars;
use reglament_runtime::{Actor, CaseId, Command as EngineCommand, NewCase, TaskId};
use reglament_store::Service;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use reglament_testkit::fixtures::REGISTER_REVIEW as REGULATION;

use reglament_testkit::fixtures::OFFICE;
/// The instant of the audit: Friday 10 April 2026, noon in Atyrau.
const NOW: &str = "2026-04-10T12:00:00+05:00";

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
    good: String,
    tampered: String,
    /// The event of `A-2` that was rewritten in the tampered database.
    tampered_seq: u64,
    /// Events in the database.
    events: u64,
    /// The regulation with a two-hour review, as version 2.
    draft: PathBuf,
}

fn complete(task: u32, outcome: Option<&str>) -> EngineCommand {
    EngineCommand::Complete {
        task: TaskId(task),
        outcome: outcome.map(str::to_string),
        data: json!({}),
        reason: None,
    }
}

/// Writes the three cases into a new database at `url`; returns the number of events.
async fn write_cases(url: &str) -> u64 {
    let store = reglament_server::accounts::open_store(url, Default::default())
        .await
        .expect("store opens");
    let (_, process) = store
        .deploy(REGULATION, "analyst", t("2026-04-01T09:00:00+05:00"))
        .await
        .expect("deploys");
    let calendars = Arc::new(Calendars::load(&regulations_dir()).expect("calendars load"));
    let service = Service::new(store.clone(), calendars);
    let clerk = Actor::new("clerk1", "executor");
    let start = |id: &str| NewCase {
        case: CaseId::new(id),
        channel: "provider".into(),
        office: OFFICE.into(),
        data: json!({"full_name": "Айгүл Серікова"}),
    };
    // Monday 6 April 2026 (Atyrau: 09:00–18:00, lunch 13:00–14:00).
    let run = |id: &'static str, cmd: EngineCommand, at: &'static str| {
        let service = &service;
        let clerk = &clerk;
        async move {
            service
                .execute(&CaseId::new(id), &cmd, clerk, t(at))
                .await
                .unwrap_or_else(|e| panic!("{id} at {at}: {e}"));
        }
    };
    for (id, at) in [
        ("A-1", "2026-04-06T10:00:00+05:00"),
        ("A-2", "2026-04-06T10:00:00+05:00"),
        ("A-3", "2026-04-06T11:00:00+05:00"),
    ] {
        service
            .start(&process, start(id), &clerk, t(at))
            .await
            .expect("starts");
    }
    run("A-1", complete(1, None), "2026-04-06T10:05:00+05:00").await;
    run("A-2", complete(1, None), "2026-04-06T10:05:00+05:00").await;
    run("A-3", complete(1, None), "2026-04-06T11:10:00+05:00").await;
    // A-1's review: three working hours, within its working day.
    run(
        "A-1",
        complete(2, Some("grant")),
        "2026-04-06T14:05:00+05:00",
    )
    .await;
    // The reviews of fall due; the timer breaches them.
    service
        .tick(t("2026-04-07T18:00:00+05:00"))
        .await
        .expect("tick");
    run(
        "A-2",
        complete(2, Some("grant")),
        "2026-04-08T10:00:00+05:00",
    )
    .await;
    let mut events = 0;
    for id in ["A-1", "A-2", "A-3"] {
        events += store.head(&CaseId::new(id)).await.expect("head");
    }
    store.close().await;
    events
}

/// Rewrites, in place, the first event of `A-2` after its start that `clerk1` recorded, as
/// someone with write access to the database file would; returns its `seq`.
async fn tamper(url: &str) -> u64 {
    let store = reglament_server::accounts::open_store(url, Default::default())
        .await
        .expect("store opens");
    let seq = store
        .events(&CaseId::new("A-2"))
        .await
        .expect("events")
        .iter()
        .find(|e| e.seq > 1 && &*e.event.actor.user == "clerk1")
        .expect("an event by clerk1")
        .seq;
    store
        .execute_raw(
            "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;",
        )
        .await
        .expect("guards off");
    store
        .execute_raw(&format!(
            "UPDATE events SET body = replace(body, 'clerk1', 'clerk9') \
             WHERE case_id = 'A-2' AND seq = {seq}"
        ))
        .await
        .expect("rewrite");
    store.close().await;
    seq
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "reglament-cli-audit-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = format!("sqlite:{}", dir.join("good.db").display());
        let tampered = format!("sqlite:{}", dir.join("tampered.db").display());
        let draft = dir.join("draft.yaml");
        std::fs::write(
            &draft,
            REGULATION
                .replace("version: 1", "version: 2")
                .replace("duration: 1 working day", "duration: 2 hours"),
        )
        .expect("draft");
        let (g, tp) = (good.clone(), tampered.clone());
        let (events, tampered_seq) = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let events = write_cases(&g).await;
                assert_eq!(write_cases(&tp).await, events);
                (events, tamper(&tp).await)
            })
        })
        .join()
        .expect("the databases are written");
        Fixture {
            dir,
            good,
            tampered,
            tampered_seq,
            events,
            draft,
        }
    })
}

/// Runs `reglament` with the audit's usual environment (no `REGLAMENT_DB` from outside).
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

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

/// Succeeds (exit 0) and gives its standard output.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn json_of(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"))
}

/// Fails with exit 2, nothing on stdout and exactly one line on stderr, which is returned.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{args:?}: {err}");
    err
}

/// An argument clap refuses: exit 2, the error on one line, then at most clap's pointer to
/// `--help` (`For more information, try '--help'.`).
fn refused(args: &[&str]) -> String {
    let out = run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines[0].starts_with("error: "), "{args:?}: {err}");
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains("--help") || l.starts_with("Usage:") || l.starts_with("  ")),
        "{args:?}: {err}"
    );
    lines[0].to_string()
}

fn db(f: &Fixture) -> [&str; 2] {
    ["--db", f.good.as_str()]
}

#[test]
fn replay_shows_an_intact_case_step_by_step() {
    let f = fixture();
    let text = ok(&[
        "replay", "A-2", "--db", &f.good, "--now", NOW, "--lang", "en",
    ]);
    for want in [
        "Case A-2 — register-review v1",
        "office atyrau-city-ozsp",
        "Hash chain    intact",
        "Projections   match the events",
        "recomputed on their calendars: all agree",
        "Status ended (granted)",
        "Statutory term 10 working days",
        "register (Registration)",
        "review (Review)",
        "BREACHED",
    ] {
        assert!(text.contains(want), "`{want}` missing:\n{text}");
    }
    // One row per task, in the office's local time: the review opened at 10:05 on Monday,
    // was handed in on Wednesday at 10:00 by clerk1 with the outcome `grant`.
    let review = text
        .lines()
        .find(|l| l.starts_with("2 ") && l.contains("review"))
        .unwrap_or_else(|| panic!("no row of task 2:\n{text}"));
    for want in [
        "2026-04-06 10:05",
        "2026-04-08 10:00",
        "clerk1",
        "grant",
        "1 working day",
        "BREACHED",
    ] {
        assert!(review.contains(want), "`{want}` missing: {review}");
    }
    let register = text
        .lines()
        .find(|l| l.starts_with("1 ") && l.contains("register"))
        .expect("task 1");
    assert!(register.trim_end().ends_with("no"), "{register}");

    let j = json_of(&[
        "replay", "A-1", "--db", &f.good, "--now", NOW, "--format", "json",
    ]);
    assert_eq!(j["case"], "A-1");
    assert_eq!(j["chain"]["intact"], true);
    assert_eq!(j["chain"]["problem"], Value::Null);
    assert_eq!(j["projections"]["matches"], true);
    assert_eq!(j["deadlines"]["recomputed"], true);
    assert_eq!(j["deadlines"]["mismatches"], json!([]));
    assert_eq!(j["status"], "ended");
    assert_eq!(j["result"], "granted");
    assert_eq!(j["term"]["met"], true);
    let timeline = j["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), 2, "{timeline:#?}");
    // 10:05 to 14:05 with the lunch hour between: three working hours.
    assert_eq!(timeline[1]["step"], "review");
    assert_eq!(timeline[1]["working_minutes"], 180);
    assert_eq!(timeline[1]["statutory"], "1 working day");
    assert_eq!(timeline[1]["breached"], false);
    assert_eq!(timeline[1]["closed_by"], "clerk1");
    assert_eq!(timeline[1]["outcome"], "grant");
    // 10:00 to 10:05: five minutes of a fifteen-minute registration.
    assert_eq!(timeline[0]["working_minutes"], 5);
    assert_eq!(timeline[0]["breached"], false);
    let log = j["log"].as_array().expect("log");
    assert_eq!(log.len() as u64, j["events"].as_u64().expect("events"));

    // The late case: the breach the engine recorded is the one the replay finds.
    let j = json_of(&[
        "replay", "A-2", "--db", &f.good, "--now", NOW, "--format", "json",
    ]);
    let review = &j["timeline"][1];
    assert_eq!(
        (&review["breached"], &review["breach_recorded"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(review["due"], "2026-04-07T13:00:00Z");
    // Still on time for the case as a whole (ten working days).
    assert_eq!(j["term"]["met"], true);
}

#[test]
fn replay_at_an_instant_shows_the_case_as_it_stood() {
    let f = fixture();
    // Monday noon: A-1 registered, its review open for nearly two hours.
    let at = "2026-04-06T12:00:00+05:00";
    let j = json_of(&[
        "replay", "A-1", "--db", &f.good, "--now", NOW, "--at", at, "--format", "json",
    ]);
    let s = &j["state_at"];
    assert_eq!(s["at"], "2026-04-06T07:00:00Z");
    assert_eq!(s["status"], "open");
    let open = s["open_tasks"].as_array().expect("open tasks");
    assert_eq!(open.len(), 1, "{s:#}");
    assert_eq!(open[0]["step"], "review");
    assert_eq!(open[0]["overdue"], false);
    assert_eq!(s["closed_tasks"], 1);
    assert!(
        s["events"].as_u64().expect("events") < j["events"].as_u64().expect("all events"),
        "{s:#}"
    );
    // The whole history is still audited alongside.
    assert_eq!(j["status"], "ended");

    let text = ok(&["replay", "A-1", "--db", &f.good, "--now", NOW, "--at", at]);
    assert!(text.contains("At 2026-04-06 12:00: "), "{text}");
    assert!(text.contains("status open"), "{text}");
    assert!(text.contains("open task"), "{text}");
    // A date is the start of that day in Kazakhstan: before the case began.
    let j = json_of(&[
        "replay",
        "A-1",
        "--db",
        &f.good,
        "--now",
        NOW,
        "--at",
        "2026-04-05",
        "--format",
        "json",
    ]);
    assert_eq!(j["state_at"]["status"], "not started");
    assert_eq!(j["state_at"]["events"], 0);
}

#[test]
fn a_draft_shows_the_breach_the_deployed_version_does_not_have() {
    let f = fixture();
    let draft = f.draft.display().to_string();
    // In reality A-1's review was on time.
    let real = json_of(&[
        "replay", "A-1", "--db", &f.good, "--now", NOW, "--format", "json",
    ]);
    assert_eq!(real["timeline"][1]["breached"], false);

    let w = json_of(&[
        "replay",
        "A-1",
        "--db",
        &f.good,
        "--now",
        NOW,
        "--against",
        &draft,
        "--format",
        "json",
    ]);
    assert_eq!(w["draft"]["version"], 2);
    assert_eq!(w["diverged"], Value::Null);
    assert_eq!(w["summary"]["newly_breached"], 1, "{w:#}");
    assert_eq!(w["summary"]["no_longer_breached"], 0);
    let changes: Vec<&Value> = w["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .filter(|d| d["change"] == "newly_breached")
        .collect();
    assert_eq!(changes.len(), 1, "{w:#}");
    let d = changes[0];
    assert_eq!(d["step"], "review");
    assert_eq!(d["real_term"], "1 working day");
    assert_eq!(d["draft_term"], "2 hours");
    // Two working hours from 10:05 end at 12:05; the review was handed in at 14:05.
    assert_eq!(d["draft_due"], "2026-04-06T07:05:00Z");
    assert_eq!(d["done_at"], "2026-04-06T09:05:00Z");
    assert_eq!(
        (&d["real_breached"], &d["draft_breached"]),
        (&json!(false), &json!(true))
    );

    let text = ok(&[
        "replay",
        "A-1",
        "--db",
        &f.good,
        "--now",
        NOW,
        "--against",
        &draft,
    ]);
    assert!(text.contains("draft register-review v2"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("NEWLY BREACHED"))
        .unwrap_or_else(|| panic!("no newly breached deadline:\n{text}"));
    assert!(row.contains("review") && row.contains("2 hours"), "{row}");
    assert!(
        text.contains("newly breached 1, no longer breached 0"),
        "{text}"
    );
}

#[test]
fn audit_verify_passes_a_genuine_database_and_names_the_first_bad_event() {
    let f = fixture();
    let text = ok(&["audit", "verify", "--db", &f.good, "--quiet"]);
    assert!(
        text.contains(&format!("Checked {} events of 3 cases", f.events)),
        "{text}"
    );
    assert!(text.contains("Every chain is intact."), "{text}");
    let j = json_of(&["audit", "verify", "--db", &f.good, "--format", "json"]);
    assert_eq!(j["ok"], true);
    assert_eq!(
        (j["cases"].as_u64(), j["events"].as_u64()),
        (Some(3), Some(f.events))
    );
    assert_eq!(j["problems"], json!([]));

    let out = run(&["audit", "verify", "--db", &f.tampered, "--quiet"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("1 case(s) do not verify"), "{text}");
    let bad = format!("case `A-2`, event {}: changed", f.tampered_seq);
    assert!(text.contains(&bad), "`{bad}` missing:\n{text}");
    let out = run(&["audit", "verify", "--db", &f.tampered, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let j: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(j["ok"], false);
    let problems = j["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{j:#}");
    assert_eq!(problems[0]["case"], "A-2");
    assert_eq!(problems[0]["seq"], f.tampered_seq);
    assert_eq!(problems[0]["kind"], "changed");

    // Replaying the tampered case says so too, with exit status 1; the others are clean.
    let out = run(&["replay", "A-2", "--db", &f.tampered, "--now", NOW]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "Hash chain    BROKEN at event {}: changed",
            f.tampered_seq
        )),
        "{text}"
    );
    ok(&["replay", "A-1", "--db", &f.tampered, "--now", NOW]);
}

#[test]
fn the_compliance_report_in_json_csv_and_html() {
    let f = fixture();
    let [d, url] = db(f);
    let j = json_of(&["report", "compliance", d, url, "--now", NOW]);
    let cases: BTreeMap<String, &Value> = j["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| (c["case"].as_str().expect("id").to_string(), c))
        .collect();
    assert_eq!(cases.len(), 3);
    assert_eq!(cases["A-1"]["term_met"], true);
    assert_eq!(cases["A-1"]["breached_tasks"], 0);
    assert_eq!(cases["A-2"]["term_met"], true);
    assert_eq!(cases["A-2"]["breached_tasks"], 1);
    // Open, within its ten working days: pending, with its review past due.
    assert_eq!(cases["A-3"]["term_met"], Value::Null);
    assert_eq!(cases["A-3"]["breached_tasks"], 1);
    let regulations = j["regulations"].as_array().expect("regulations");
    assert_eq!(regulations.len(), 1);
    let r = &regulations[0];
    assert_eq!(
        (&r["cases"], &r["met"], &r["not_met"], &r["pending"]),
        (&json!(3), &json!(2), &json!(0), &json!(1))
    );
    let review = j["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == "review")
        .expect("the review's row");
    assert_eq!(
        (&review["tasks"], &review["completed"], &review["breaches"]),
        (&json!(3), &json!(2), &json!(2))
    );
    // A filter that leaves nothing.
    let none = json_of(&[
        "report",
        "compliance",
        d,
        url,
        "--now",
        NOW,
        "--office",
        "elsewhere",
    ]);
    assert_eq!(none["cases"], json!([]));

    let csv = ok(&[
        "report",
        "compliance",
        d,
        url,
        "--now",
        NOW,
        "--format",
        "csv",
    ]);
    let rows: Vec<Vec<&str>> = csv
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows[0][0], "section");
    let width = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == width), "{csv}");
    let case_rows: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == "case").collect();
    assert_eq!(case_rows.len(), 3, "{csv}");
    assert!(case_rows.iter().any(|r| r.contains(&"A-2")), "{csv}");

    let out_file = f.dir.join("report.html");
    let out = run(&[
        "report",
        "compliance",
        d,
        url,
        "--now",
        NOW,
        "--format",
        "html",
        "--output",
        &out_file.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("on 3 case(s)"), "{}", stderr(&out));
    let html = std::fs::read_to_string(&out_file).expect("the page");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<svg"), "the chart is drawn on the server");
    assert!(!html.contains("<script"), "no script");
    // A chart of the term per regulation and office, the office's months, and one of
    // working time per step.
    assert_eq!(html.matches("<svg").count(), 3, "{html}");
    assert!(
        html.contains("Дела, доля в срок и нарушения по месяцам"),
        "{html}"
    );
    // The review's row (in Russian by default): two breaches of three tasks.
    let review = &html[html
        .find("<td title=\"review\">")
        .expect("the review's row")..];
    let review = &review[..review.find("</tr>").expect("end of row")];
    assert!(review.contains("Рассмотрение"), "{review}");
    assert!(review.contains("<td class=\"n bad\">2</td>"), "{review}");
    assert!(review.contains("66.7 %"), "{review}");
    // No case missed its statutory term.
    assert!(html.contains("Нарушений нет."), "{html}");
}

/// The number of `<trace>` elements, and per `<event>` its attributes (key → value).
fn xes_events(xes: &str) -> (usize, Vec<BTreeMap<String, String>>) {
    let mut reader = Reader::from_str(xes);
    let (mut traces, mut events) = (0, Vec::new());
    let mut in_event = false;
    loop {
        let ev = reader.read_event().unwrap_or_else(|e| {
            panic!(
                "XES is not well-formed at {}: {e}",
                reader.buffer_position()
            )
        });
        match &ev {
            Event::Start(e) if e.name().as_ref() == "trace" => traces += 1,
            Event::Start(e) if e.name().as_ref() == "event" => {
                in_event = true;
                events.push(BTreeMap::new());
            }
            Event::End(e) if e.name().as_ref() == "event" => in_event = false,
            Event::Empty(e) if in_event => {
                let (mut key, mut value) = (String::new(), String::new());
                for a in e.attributes() {
                    let a = a.expect("attribute");
                    // Raw (escaped) text: the values compared here have nothing to escape.
                    let text = a.value.to_string();
                    match a.key.as_ref() {
                        "key" => key = text,
                        "value" => value = text,
                        _ => {}
                    }
                }
                events.last_mut().expect("event").insert(key, value);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (traces, events)
}

fn exported(summary: &str) -> (u64, u64) {
    // "Exported 3 case(s), 17 event(s)…"
    let words: Vec<&str> = summary.split_whitespace().collect();
    let n = |i: usize| {
        words[i]
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("{summary}"))
    };
    (n(1), n(3))
}

#[test]
fn the_event_log_exports_as_xes_csv_and_json_lines() {
    let f = fixture();
    let [d, url] = db(f);
    let out = run(&["export", "--format", "xes", d, url, "--lang", "en"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (traces, written) = exported(&stderr(&out));
    let xes = stdout(&out);
    assert!(xes.contains("<log xes.version="), "{xes}");
    let (n_traces, events) = xes_events(&xes);
    assert_eq!((n_traces as u64, events.len() as u64), (traces, written));
    assert_eq!(traces, 3);
    for e in &events {
        for k in ["concept:name", "time:timestamp", "lifecycle:transition"] {
            assert!(e.contains_key(k), "{k} missing in {e:?}");
        }
    }
    // Every completed task names who did it and in what role: clerk1, an executor.
    let completed: Vec<&BTreeMap<String, String>> = events
        .iter()
        .filter(|e| e.contains_key("task") && e["lifecycle:transition"] == "complete")
        .collect();
    // completed two tasks each, A-3 one.
    assert_eq!(completed.len(), 5, "{completed:#?}");
    for e in &completed {
        assert_eq!(
            e.get("org:resource").map(String::as_str),
            Some("clerk1"),
            "{e:?}"
        );
        assert_eq!(
            e.get("org:role").map(String::as_str),
            Some("executor"),
            "{e:?}"
        );
    }
    assert!(
        completed.iter().any(|e| e["concept:name"] == "Review"
            && e.get("outcome").map(String::as_str) == Some("grant")),
        "activities are the step names in English: {completed:#?}"
    );

    // CSV: the same events, one per row.
    let out = run(&["export", "--format", "csv", d, url]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = stdout(&out);
    let lines: Vec<&str> = csv.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len() as u64, written + 1, "{csv}");
    assert_eq!(exported(&stderr(&out)), (traces, written));

    // JSON lines: every stored event, whole, with its hash; filtered to one case.
    let file = f.dir.join("a2.jsonl");
    let out = run(&[
        "export",
        "--format",
        "jsonl",
        d,
        url,
        "--output",
        &file.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let all = std::fs::read_to_string(&file).expect("jsonl");
    let lines: Vec<Value> = all
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len() as u64, f.events);
    // Each line is the hashed record plus its hash: the hash recomputes from the rest.
    for (text, line) in all.lines().zip(&lines) {
        let mut record = line.clone();
        let hash = record
            .as_object_mut()
            .and_then(|o| o.shift_remove("hash"))
            .and_then(|h| h.as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("no hash: {text}"));
        let recomputed = Sha256::digest(format!("{record}\n").as_bytes());
        let hex: String = recomputed.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, hash, "{text}");
    }
    let since = run(&[
        "export",
        "--format",
        "jsonl",
        d,
        url,
        "--from",
        "2026-04-06T10:30:00+05:00",
    ]);
    assert_eq!(since.status.code(), Some(0));
    let a3: Vec<Value> = stdout(&since)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(!a3.is_empty());
    assert!(
        a3.iter().all(|l| l["case"] == "A-3"),
        "only A-3 started after 10:30"
    );
}

#[test]
fn bad_arguments_give_one_line_and_a_non_zero_exit() {
    let f = fixture();
    let missing = f.dir.join("missing.db").display().to_string();
    let err = fails(&["audit", "verify", "--db", &format!("sqlite:{missing}")]);
    assert!(
        err.contains("no database at") && err.contains("missing.db"),
        "{err}"
    );
    // Without --db the default database under REGLAMENT_DATA is looked for, and is not there.
    let err = fails(&["replay", "A-1"]);
    assert!(err.contains("no database at"), "{err}");
    let err = fails(&["replay", "NOPE-1", "--db", &f.good]);
    assert!(err.contains("no case `NOPE-1`"), "{err}");
    let err = fails(&[
        "replay",
        "A-1",
        "--db",
        &f.good,
        "--against",
        &f.dir.join("nowhere.yaml").display().to_string(),
    ]);
    assert!(err.contains("nowhere.yaml"), "{err}");
    let not_db = f.dir.join("not-a-db.txt");
    std::fs::write(&not_db, "hello, this is not SQLite\n".repeat(200)).expect("write");
    let err = fails(&[
        "export",
        "--format",
        "csv",
        "--db",
        &format!("sqlite:{}", not_db.display()),
    ]);
    assert!(err.contains("not-a-db.txt"), "{err}");
    let err = fails(&[
        "export",
        "--format",
        "csv",
        "--db",
        &f.good,
        "--output",
        &f.dir.join("no/such/dir/x.csv").display().to_string(),
    ]);
    assert!(err.contains("x.csv"), "{err}");

    // Refused by the argument parser: the value and what is wrong with it on the first line.
    let err = refused(&["replay", "A-1", "--db", &f.good, "--at", "yesterday"]);
    assert!(err.contains("`yesterday` is neither a date"), "{err}");
    let err = refused(&["replay", "A-1", "--db", &f.good, "--format", "pdf"]);
    assert!(err.contains("pdf"), "{err}");
    let err = refused(&["replay", "A-1", "--db", &f.good, "--lang", "de"]);
    assert!(err.contains("use kk, ru or en"), "{err}");
    let err = refused(&[
        "report",
        "compliance",
        "--db",
        &f.good,
        "--from",
        "2026-13-01",
    ]);
    assert!(err.contains("2026-13-01"), "{err}");
    let err = refused(&["export", "--format", "pdf", "--db", &f.good]);
    assert!(err.contains("pdf"), "{err}");
    refused(&["export", "--db", &f.good]);
    refused(&["audit", "check", "--db", &f.good]);
}

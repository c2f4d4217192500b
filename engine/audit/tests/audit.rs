//! The audit tools: replay, verification, what-if, the compliance report and the exports.
//!
//! - every case of a corpus (the nine regulations, several paths each, see `audit_support`)
//!   replays to exactly its stored state;
//! - a database tampered with in each of the four ways names the exact event, on SQLite and
//!   (with `REGLAMENT_TEST_POSTGRES`) on PostgreSQL;
//! - a hand-made draft with a shorter step shows the deadline that would have been breached;
//! - the report's figures match figures worked out by hand;
//! - the XES and OCEL exports are read back by PM4Py (an independent implementation).

mod audit_support;
#[path = "../../store/tests/store_support/mod.rs"]
mod store_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reglament_audit::AuditError;
use reglament_audit::export::{self, ExportFormat};
use reglament_audit::replay::{ReplayOptions, replay};
use reglament_audit::report::{self, compliance};
use reglament_audit::verify::verify_all;
use reglament_audit::whatif::{self, Change, compile_draft};
use reglament_model::text::Lang;
use reglament_runtime::{CaseId, Clocks};
use reglament_store::canonical::{self, RecordHeader};
use reglament_store::scan::CaseFilter;
use reglament_store::{BackendKind, Store, TamperKind};
use serde_json::{Value, json};
use store_support::*;

both_backends!(
    tampering_in_each_way_is_named_at_its_event,
    a_shorter_step_in_a_draft_shows_the_breach_it_would_have_caused,
    the_report_matches_figures_worked_out_by_hand,
);

fn opts(now: DateTime<Utc>) -> ReplayOptions<'static> {
    ReplayOptions {
        at: None,
        now,
        clocks: None,
    }
}

async fn open_corpus() -> (Store, &'static audit_support::Corpus) {
    let corpus = audit_support::corpus();
    let store = Store::open(&corpus.url).await.expect("corpus opens");
    (store, corpus)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_of_the_corpus_replays_to_its_stored_state() {
    let (store, corpus) = open_corpus().await;
    assert!(corpus.cases.len() >= 40, "{} cases", corpus.cases.len());
    let mut regulations = std::collections::BTreeSet::new();
    let (mut breaches, mut open, mut extended, mut events) = (0, 0, 0, 0);
    for case in &corpus.cases {
        let r = replay(&store, case, &opts(corpus.end))
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(r.chain.intact, "{case}: {:?}", r.chain.problem);
        let p = r.projections.as_ref().expect("folds");
        assert!(p.matches, "{case}: {:#?}", p.differences);
        assert!(
            r.deadlines.recomputed,
            "{case}: the pinned calendar is in the database"
        );
        assert!(
            r.deadlines.mismatches.is_empty(),
            "{case}: {:#?}",
            r.deadlines.mismatches
        );
        assert!(r.is_clean());
        // The timeline is the tasks of the projection, and it agrees with the engine on
        // which were breached (the corpus ticks before every piece of work).
        let view = store.case(case).await.expect("case").expect("exists");
        assert_eq!(r.timeline.len(), view.tasks.len(), "{case}");
        for (step, task) in r.timeline.iter().zip(&view.tasks) {
            assert_eq!(step.task, task.task);
            assert_eq!(step.step, task.step);
            assert_eq!(
                step.breached, step.breach_recorded,
                "{case} task {}",
                step.task
            );
            assert_eq!(
                step.breach_recorded, task.breached,
                "{case} task {}",
                step.task
            );
            assert!(step.working_minutes.is_some_and(|m| m >= 0), "{case}");
        }
        regulations.insert(r.regulation.id.clone());
        breaches += r.timeline.iter().filter(|s| s.breached).count();
        open += usize::from(r.status == "open");
        extended += usize::from(r.term.as_ref().is_some_and(|t| t.extended));
        events += r.events;
    }
    assert_eq!(
        regulations.len(),
        9,
        "all nine regulations are in the corpus"
    );
    assert!(
        breaches > 0 && open > 0 && extended > 0,
        "{breaches} {open} {extended}"
    );
    // The whole-database check agrees, event for event.
    let report = verify_all(&store, &mut |_| {}).await.expect("verify");
    assert!(report.is_ok(), "{:#?}", report.problems);
    assert_eq!(report.events, events);
    assert_eq!(report.cases, corpus.cases.len() as u64);
    assert_eq!(report, store.verify_all().await.expect("store verify"));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_at_an_instant_is_the_events_recorded_by_then() {
    let (store, corpus) = open_corpus().await;
    let case = corpus
        .cases
        .iter()
        .find(|c| c.as_str().starts_with("atyrau-child-benefit-"))
        .expect("a child benefit case");
    let full = replay(&store, case, &opts(corpus.end))
        .await
        .expect("replay");
    let second = full.timeline.get(1).expect("two tasks");
    // Just before the second task opened: one task, open or just done.
    let at = second.opened_at - chrono::Duration::seconds(1);
    let r = replay(
        &store,
        case,
        &ReplayOptions {
            at: Some(at),
            ..opts(corpus.end)
        },
    )
    .await
    .expect("replay at");
    let s = r.state_at.expect("state at");
    assert_eq!(s.status, "open");
    assert!(s.events < full.events);
    assert!(s.open_tasks.iter().all(|t| t.task == 1));
    assert_eq!(
        s.last_event.as_ref().map(|e| e.at <= at),
        Some(true),
        "{:?}",
        s.last_event
    );
    // Before the case began there is nothing.
    let before = replay(
        &store,
        case,
        &ReplayOptions {
            at: Some(full.started_at - chrono::Duration::days(1)),
            ..opts(corpus.end)
        },
    )
    .await
    .expect("replay before");
    assert_eq!(before.state_at.expect("state").status, "not started");
    assert!(matches!(
        replay(&store, &CaseId::new("no-such-case"), &opts(corpus.end)).await,
        Err(AuditError::NoSuchCase(_))
    ));
    store.close().await;
}

/// Turns the append-only triggers off, as an attacker with database access would.
async fn disable_guards(store: &Store) {
    let sql = match store.backend() {
        BackendKind::Sqlite => {
            "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;"
        }
        BackendKind::Postgres => "ALTER TABLE events DISABLE TRIGGER USER",
    };
    store.execute_raw(sql).await.expect("guards off");
}

/// A forged event at `seq` after `prev`, with a hash the forger computed correctly.
fn forge(case: &str, seq: u64, prev: &str, digest: &str, calver: &str) -> String {
    let body = canonical::canonical(&json!({
        "type": "task_released", "task": 2,
        "at": "2026-04-06T05:30:00Z", "actor": {"user": "mallory", "role": "executor"}
    }));
    let hash = canonical::event_hash(
        RecordHeader {
            case,
            seq,
            prev_hash: prev,
            digest,
            calendar_version: calver,
        },
        &body,
    );
    let at = chrono::DateTime::parse_from_rfc3339("2026-04-06T05:30:00Z")
        .expect("at")
        .timestamp_micros();
    format!(
        "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, digest, calendar_version, body, prev_hash, hash) \
         VALUES ('{case}', {seq}, 'task_released', {at}, 'mallory', 'executor', '{digest}', '{calver}', '{body}', '{prev}', '{hash}')"
    )
}

async fn tampering_in_each_way_is_named_at_its_event(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    let start = t("2026-04-06T10:00:00+05:00");
    // Five cases of eight events each: one per kind of tampering, one left alone.
    for name in ["CHANGED", "DELETED", "INSERTED", "REORDERED", "UNTOUCHED"] {
        let id = CaseId::new(name);
        service
            .start(&process, new_case(name), &clerk(), start)
            .await
            .expect("starts");
        service
            .execute(&id, &complete(1, None, json!({})), &clerk(), start)
            .await
            .expect("register");
        service
            .execute(&id, &complete(2, Some("again"), json!({})), &clerk(), start)
            .await
            .expect("again");
        assert_eq!(store.head(&id).await.expect("head"), 8);
    }
    let clean = verify_all(&store, &mut |_| {}).await.expect("verify");
    assert!(
        clean.is_ok() && clean.cases == 5 && clean.events == 40,
        "{clean:?}"
    );
    disable_guards(&store).await;
    let calver = service
        .case_state(&CaseId::new("UNTOUCHED"))
        .await
        .expect("state")
        .calendar_version
        .to_string();
    // Changed: an event's content rewritten in place.
    store
        .execute_raw(
            "UPDATE events SET body = replace(body, 'clerk1', 'clerk9') WHERE case_id = 'CHANGED' AND seq = 3",
        )
        .await
        .expect("change");
    // Deleted: an event taken out of the middle.
    store
        .execute_raw("DELETE FROM events WHERE case_id = 'DELETED' AND seq = 5")
        .await
        .expect("delete");
    // Inserted: a forged event put in at 3 with a correct hash, the later ones moved up.
    let second = store
        .events(&CaseId::new("INSERTED"))
        .await
        .expect("events")[1]
        .hash
        .clone();
    store
        .execute_raw(
            "UPDATE events SET seq = seq + 1000 WHERE case_id = 'INSERTED' AND seq >= 3; \
             UPDATE events SET seq = seq - 999 WHERE case_id = 'INSERTED' AND seq > 1000;",
        )
        .await
        .expect("make room");
    store
        .execute_raw(&forge("INSERTED", 3, &second, &process.digest, &calver))
        .await
        .expect("insert");
    // Reordered: events 6 and 7 swapped.
    store
        .execute_raw(
            "UPDATE events SET seq = 1006 WHERE case_id = 'REORDERED' AND seq = 6; \
             UPDATE events SET seq = 6 WHERE case_id = 'REORDERED' AND seq = 7; \
             UPDATE events SET seq = 7 WHERE case_id = 'REORDERED' AND seq = 1006;",
        )
        .await
        .expect("reorder");

    let mut pages = 0;
    let report = verify_all(&store, &mut |p| {
        pages += 1;
        assert!(p.events <= p.total);
    })
    .await
    .expect("verify");
    assert!(pages >= 1);
    let found: BTreeMap<String, (i64, TamperKind)> = report
        .problems
        .iter()
        .map(|p| (p.case.clone(), (p.seq, p.kind)))
        .collect();
    let want: BTreeMap<String, (i64, TamperKind)> = [
        ("CHANGED", (3, TamperKind::Changed)),
        ("DELETED", (5, TamperKind::Deleted)),
        ("INSERTED", (3, TamperKind::Inserted)),
        ("REORDERED", (6, TamperKind::Reordered)),
    ]
    .into_iter()
    .map(|(c, v)| (c.to_string(), v))
    .collect();
    assert_eq!(found, want, "{:#?}", report.problems);
    assert_eq!((report.cases, report.events), (5, 40));
    // The same verdicts as the store's own check, word for word.
    assert_eq!(report, store.verify_all().await.expect("store verify"));
    // Replay names the same event, and still folds what is there.
    for p in &report.problems {
        let r = replay(&store, &CaseId::new(&p.case), &opts(start))
            .await
            .expect("replay");
        assert!(!r.chain.intact);
        assert_eq!(r.chain.problem.as_ref(), Some(p));
        assert!(!r.is_clean());
    }
    let r = replay(&store, &CaseId::new("UNTOUCHED"), &opts(start))
        .await
        .expect("replay");
    assert!(r.is_clean(), "{r:#?}");
    // The changed event folds to a state the projections do not show.
    let r = replay(&store, &CaseId::new("CHANGED"), &opts(start))
        .await
        .expect("replay");
    let diffs = &r.projections.as_ref().expect("folds").differences;
    assert!(
        diffs
            .iter()
            .any(|d| d.table == "tasks" && d.field == "claimed_by"),
        "{diffs:#?}"
    );
    store.close().await;
}

/// The fixture regulation with the review's time changed.
fn draft(review: &str, version: u32) -> String {
    REGULATION
        .replace("version: 1", &format!("version: {version}"))
        .replace("duration: 1 working day", &format!("duration: {review}"))
}

async fn a_shorter_step_in_a_draft_shows_the_breach_it_would_have_caused(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    // Monday 6 April 2026 (Atyrau, 09:00–18:00, lunch 13:00–14:00).
    let start = t("2026-04-06T10:00:00+05:00");
    let on_time = CaseId::new("W-1");
    service
        .start(&process, new_case("W-1"), &clerk(), start)
        .await
        .expect("starts");
    service
        .execute(
            &on_time,
            &complete(1, None, json!({})),
            &clerk(),
            t("2026-04-06T10:05:00+05:00"),
        )
        .await
        .expect("register");
    // Three working hours for the review: within its working day, over two hours.
    service
        .execute(
            &on_time,
            &complete(2, Some("grant"), json!({})),
            &clerk(),
            t("2026-04-06T14:05:00+05:00"),
        )
        .await
        .expect("review");
    let late = CaseId::new("W-2");
    service
        .start(&process, new_case("W-2"), &clerk(), start)
        .await
        .expect("starts");
    service
        .execute(
            &late,
            &complete(1, None, json!({})),
            &clerk(),
            t("2026-04-06T10:05:00+05:00"),
        )
        .await
        .expect("register");
    // The review breaches its working day (due Tuesday 18:00) and is done on Wednesday.
    service
        .tick(t("2026-04-07T18:00:00+05:00"))
        .await
        .expect("tick");
    service
        .execute(
            &late,
            &complete(2, Some("grant"), json!({})),
            &clerk(),
            t("2026-04-08T10:00:00+05:00"),
        )
        .await
        .expect("review");
    let now = t("2026-04-10T12:00:00+05:00");
    let clocks: Arc<dyn Clocks> = calendars();
    let o = ReplayOptions {
        at: None,
        now,
        clocks: Some(clocks.as_ref()),
    };

    let shorter = compile_draft(&draft("2 hours", 2), "draft.yaml").expect("draft compiles");
    let w = whatif::whatif(&store, &on_time, &shorter, &o)
        .await
        .expect("what-if");
    assert!(w.diverged.is_none(), "{:?}", w.diverged);
    assert_eq!(w.draft.version, 2);
    let review: Vec<_> = w
        .deadlines
        .iter()
        .filter(|d| d.step.as_deref() == Some("review"))
        .collect();
    assert_eq!(review.len(), 1);
    let d = review[0];
    assert_eq!(d.change, Change::NewlyBreached, "{d:#?}");
    assert_eq!(d.real_due, Some(t("2026-04-07T18:00:00+05:00")));
    // Two working hours from 10:05 end at 12:05; the review was handed in at 14:05.
    assert_eq!(d.draft_due, Some(t("2026-04-06T12:05:00+05:00")));
    assert_eq!(d.done_at, Some(t("2026-04-06T14:05:00+05:00")));
    assert_eq!(
        (d.real_term.as_deref(), d.draft_term.as_deref()),
        (Some("1 working day"), Some("2 hours"))
    );
    assert_eq!(w.summary.newly_breached, 1);
    assert_eq!(w.summary.no_longer_breached, 0);
    assert_eq!(w.real_status, "granted");
    assert_eq!(w.draft_status, "granted");
    let register = w
        .deadlines
        .iter()
        .find(|d| d.step.as_deref() == Some("register"))
        .expect("register");
    assert_eq!(register.change, Change::OnTime);
    let case = w
        .deadlines
        .iter()
        .find(|d| d.target == "case")
        .expect("case term");
    assert_eq!(case.change, Change::OnTime);
    assert_eq!(case.real_due, case.draft_due);

    // A longer time forgives the real breach.
    let longer = compile_draft(&draft("3 working days", 3), "draft.yaml").expect("draft compiles");
    let w = whatif::whatif(&store, &late, &longer, &o)
        .await
        .expect("what-if");
    let d = w
        .deadlines
        .iter()
        .find(|d| d.step.as_deref() == Some("review"))
        .expect("review");
    assert_eq!(d.change, Change::NoLongerBreached, "{d:#?}");
    assert_eq!(d.draft_due, Some(t("2026-04-09T18:00:00+05:00")));
    assert_eq!(w.summary.no_longer_breached, 1);

    // A draft without the outcome people chose parts from the history there, and says so.
    let renamed = REGULATION
        .replace("version: 1", "version: 4")
        .replace("{id: grant, next: granted}", "{id: approve, next: granted}");
    let renamed = compile_draft(&renamed, "draft.yaml").expect("draft compiles");
    let w = whatif::whatif(&store, &on_time, &renamed, &o)
        .await
        .expect("what-if");
    let div = w.diverged.as_ref().expect("diverges");
    // The review's completion: the last event but one (the case's end follows from it).
    assert_eq!(
        div.seq,
        store.head(&on_time).await.expect("head") - 1,
        "{div:#?}"
    );
    assert!(
        div.decision.contains("grant") && div.reason.contains("grant"),
        "{div:#?}"
    );
    assert_eq!(w.draft_status, "open");

    // A draft that does not validate is refused with its errors.
    let broken = REGULATION.replace("next: review", "next: nowhere");
    match compile_draft(&broken, "broken.yaml") {
        Err(AuditError::InvalidDraft { errors }) => {
            assert!(errors.iter().any(|e| e.contains("nowhere")), "{errors:?}")
        }
        other => panic!("{:?}", other.map(|p| p.digest.clone())),
    }
    store.close().await;
}

async fn the_report_matches_figures_worked_out_by_hand(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    // (case, start, register done, review done or open) on the week of Monday 6 April 2026.
    let cases: [(&str, &str, &str, Option<&str>); 5] = [
        (
            "R-1",
            "2026-04-06T10:00",
            "2026-04-06T10:10",
            Some("2026-04-06T12:10"),
        ),
        (
            "R-2",
            "2026-04-06T11:00",
            "2026-04-06T11:30",
            Some("2026-04-07T15:30"),
        ),
        (
            "R-3",
            "2026-04-06T14:00",
            "2026-04-06T14:05",
            Some("2026-04-08T10:00"),
        ),
        ("R-4", "2026-04-06T15:00", "2026-04-06T15:15", None),
        (
            "R-5",
            "2026-04-06T16:00",
            "2026-04-06T16:10",
            Some("2026-04-21T10:00"),
        ),
    ];
    let at = |s: &str| t(&format!("{s}:00+05:00"));
    for (id, start, register, review) in cases {
        let case = CaseId::new(id);
        service
            .start(&process, new_case(id), &clerk(), at(start))
            .await
            .expect("starts");
        service
            .execute(&case, &complete(1, None, json!({})), &clerk(), at(register))
            .await
            .expect("register");
        if let Some(r) = review {
            service
                .execute(
                    &case,
                    &complete(2, Some("grant"), json!({})),
                    &clerk(),
                    at(r),
                )
                .await
                .expect("review");
        }
    }
    let now = t("2026-04-23T12:00:00+05:00");
    let r = compliance(&store, &CaseFilter::default(), now, None)
        .await
        .expect("report");
    assert!(r.missing_calendars.is_empty());
    assert_eq!(r.regulations.len(), 1);
    let g = &r.regulations[0];
    assert_eq!(
        (g.regulation.as_str(), g.office.as_str()),
        ("register-review-escalated", OFFICE)
    );
    assert_eq!((g.cases, g.open, g.ended, g.cancelled), (5, 1, 4, 0));
    // R-4 is open past its ten working days (due Monday 20 April), R-5 ended after them.
    assert_eq!((g.with_term, g.met, g.not_met, g.pending), (5, 3, 2, 0));
    assert_eq!(g.breach_rate, Some(0.4));
    // Cases' working time, registration to end: 130, 690, 780 and 4,980 minutes.
    assert_eq!((g.median_minutes, g.p90_minutes), (Some(690), Some(4980)));

    let step = |id: &str| r.steps.iter().find(|s| s.step == id).expect("step");
    let register = step("register");
    assert_eq!(
        (register.cases, register.tasks, register.completed),
        (5, 5, 5)
    );
    // 10, 30, 5, 15 and 10 minutes: nearest-rank median 10, 90th percentile 30.
    assert_eq!(
        (register.median_minutes, register.p90_minutes),
        (Some(10), Some(30))
    );
    // R-2 took 30 of its 15 minutes; R-4's 15 minutes are on time.
    assert_eq!((register.with_deadline, register.breaches), (5, 1));
    assert_eq!(register.breach_rate, Some(0.2));
    assert_eq!(register.statutory, vec!["15 minutes".to_string()]);
    let review = step("review");
    assert_eq!((review.cases, review.tasks, review.completed), (5, 5, 4));
    // 120, 660, 775 and 4,970 minutes.
    assert_eq!(
        (review.median_minutes, review.p90_minutes),
        (Some(660), Some(4970))
    );
    // late, R-4 still open past its due instant.
    assert_eq!((review.with_deadline, review.breaches), (5, 3));
    assert_eq!(review.breach_rate, Some(0.6));
    // Steps come in the regulation's order.
    assert_eq!(
        r.steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(),
        ["register", "review"]
    );

    let case = |id: &str| r.cases.iter().find(|c| c.case == id).expect("case");
    assert_eq!(case("R-1").term_met, Some(true));
    assert_eq!(case("R-1").working_minutes, Some(130));
    assert_eq!(case("R-4").term_met, Some(false));
    assert_eq!(case("R-5").term_met, Some(false));
    assert_eq!(case("R-5").due, Some(t("2026-04-20T18:00:00+05:00")));
    assert_eq!(case("R-3").breached_tasks, 1);

    // The filters narrow it down.
    let only = compliance(
        &store,
        &CaseFilter {
            started_from: Some(at("2026-04-06T14:00")),
            ..Default::default()
        },
        now,
        None,
    )
    .await
    .expect("report");
    assert_eq!(only.cases.len(), 3);
    let none = compliance(
        &store,
        &CaseFilter {
            office: Some("elsewhere".into()),
            ..Default::default()
        },
        now,
        None,
    )
    .await
    .expect("report");
    assert!(none.cases.is_empty() && none.regulations.is_empty());

    // The three forms.
    let csv = report::to_csv(&r, Lang::Ru);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 1 + 2 + 5);
    assert!(lines[0].starts_with("section,regulation,office,step"));
    assert!(lines.iter().any(|l| {
        l.starts_with("step,register-review-escalated,atyrau-city-ozsp,review,Рассмотрение,")
    }));
    let html = report::to_html_document(&r, Lang::Ru);
    // Drawn here: no script, nothing fetched.
    assert!(html.contains("<svg") && !html.contains("<script"));
    // (A pattern's `url(#id)` points inside the page.)
    assert!(
        !html.contains("src=")
            && !html.contains("<link")
            && !html.replace("url(#", "").contains("url(")
    );
    well_formed(&report::to_html(&r, Lang::En));
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["steps"][1]["breach_rate"], json!(0.6));
    store.close().await;
}

/// The fragment parses as XML (so the SVG in it is well formed).
fn well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well formed at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0);
}

/// Runs `tests/pm4py_counts.py` on a file; `None` (loudly) without PM4Py, unless CI.
fn pm4py_counts(kind: &str, path: &std::path::Path) -> Option<Value> {
    let python = std::env::var("REGLAMENT_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pm4py_counts.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(kind)
        .arg(path)
        .output();
    let ci = std::env::var("REGLAMENT_CI").is_ok_and(|v| v == "1");
    match out {
        Ok(o) if o.status.success() => {
            Some(serde_json::from_slice(&o.stdout).expect("the script prints JSON"))
        }
        Ok(o) if o.status.code() == Some(3) && !ci => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: pm4py is not installed for {python} — run .ci/pm4py.sh (or set REGLAMENT_PYTHON) ***\n"
            );
            None
        }
        Ok(o) => panic!(
            "{python} {}: {}\n{}",
            script.display(),
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) if !ci => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: cannot run {python}: {e} ***\n"
            );
            None
        }
        Err(e) => panic!("REGLAMENT_CI=1 and {python} cannot run: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exports_are_read_back_by_an_independent_implementation() {
    let (store, corpus) = open_corpus().await;
    let dir = temp_dir();
    let all = CaseFilter::default();
    let write = |format: ExportFormat, name: &str| {
        let path = dir.join(name);
        let store = store.clone();
        let all = all.clone();
        async move {
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("file"));
            let summary = export::export(&store, &all, format, Lang::Ru, &mut file)
                .await
                .expect("export");
            drop(file);
            (path, summary)
        }
    };
    let (xes, xs) = write(ExportFormat::Xes, "log.xes").await;
    let (csv, cs) = write(ExportFormat::Csv, "log.csv").await;
    let (jsonl, js) = write(ExportFormat::Jsonl, "log.jsonl").await;
    let (ocel, os) = write(ExportFormat::Ocel, "log.jsonocel").await;
    let cases = corpus.cases.len() as u64;
    assert_eq!(
        (xs.traces, cs.traces, js.traces, os.traces),
        (cases, cases, cases, cases)
    );
    assert_eq!(xs.events, cs.events);
    assert_eq!(xs.events, os.events);
    assert_eq!(js.events, js.log_events);

    // Our own reading: XML well formed, a trace per case, an event per mined event, and
    // every start with its complete or abort.
    let text = std::fs::read_to_string(&xes).expect("xes");
    well_formed(&text);
    assert_eq!(text.matches("<trace>").count() as u64, cases);
    assert_eq!(text.matches("<event>").count() as u64, xs.events);
    let starts = text.matches("value=\"start\"").count();
    let ends = text
        .matches("value=\"complete\"/>\n      <string key=\"step\"")
        .count()
        + text.matches("value=\"ate_abort\"").count();
    assert!(starts > 0 && starts >= ends, "{starts} {ends}");
    assert_eq!(
        std::fs::read_to_string(&csv).expect("csv").lines().count() as u64,
        xs.events + 1
    );
    // Every JSON line recomputes to its hash: the record is the line without `hash`.
    let lines = std::fs::read_to_string(&jsonl).expect("jsonl");
    let mut n = 0u64;
    for line in lines.lines() {
        let mut v: Value = serde_json::from_str(line).expect("a JSON line");
        let hash = v
            .as_object_mut()
            .and_then(|o| o.remove("hash"))
            .and_then(|h| h.as_str().map(str::to_string))
            .expect("hash");
        let record = format!("{}\n", canonical::canonical(&v));
        use sha2::Digest as _;
        assert_eq!(
            canonical::hex(&sha2::Sha256::digest(record.as_bytes())),
            hash
        );
        n += 1;
    }
    assert_eq!(n, js.events);

    // PM4Py reads the same numbers.
    if let Some(counts) = pm4py_counts("xes", &xes) {
        assert_eq!(counts["traces"], json!(cases), "{counts}");
        assert_eq!(counts["events"], json!(xs.events), "{counts}");
        assert_eq!(counts["starts"], json!(starts), "{counts}");
    }
    if let Some(counts) = pm4py_counts("ocel", &ocel) {
        assert_eq!(counts["events"], json!(os.events), "{counts}");
        assert_eq!(counts["objects"], json!(os.objects), "{counts}");
    }
    // A filtered export has fewer traces.
    let mut buf = Vec::new();
    let one = export::export(
        &store,
        &CaseFilter {
            regulation: Some("atyrau-wheelchair".into()),
            ..Default::default()
        },
        ExportFormat::Xes,
        Lang::En,
        &mut buf,
    )
    .await
    .expect("export");
    assert!(one.traces > 0 && one.traces < cases);
    let _ = std::fs::remove_dir_all(&dir);
    store.close().await;
}

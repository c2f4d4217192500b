//! The audit of cases whose time stopped or whose calendar changed:
//!
//! - a task suspended and resumed replays with no deadline mismatch, its due instants moved
//!   by exactly the suspended working time, and the compliance report counts that time apart
//!   (figures worked out by hand on the Atyrau office's hours, 09:00–18:00, lunch 13–14);
//! - a task still suspended is neither breached nor overdue, and its case's term is pending;
//! - a `deadlines_rescheduled` event (a decree made Tuesday 7 April 2026 a day off) replays
//!   clean on the clock of the new calendar, and is not checked (rather than found wrong)
//!   when that clock is missing;
//! - a rescheduling, a resumption or a breach written with a wrong instant (the log edited
//!   before it was hashed) is named at its event;
//! - the exports carry the suspensions and the rescheduling.

#[path = "../../store/tests/store_support/mod.rs"]
mod store_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use reglament_audit::export::{self, ExportFormat};
use reglament_audit::replay::{Replay, ReplayOptions, replay, replay_rows_on};
use reglament_audit::report::{self, compliance};
use reglament_calendar::{OfficeClock, national_from_str};
use reglament_model::compile::Process;
use reglament_model::text::Lang;
use reglament_runtime::{
    Actor, CaseId, Clocks, Command, DeadlineTarget, EngineError, Event, EventKind, TaskId,
    reschedule,
};
use reglament_store::scan::CaseFilter;
use reglament_store::{Service, Store};
use serde_json::{Value, json};
use store_support::*;

both_backends!(
    a_suspended_task_replays_clean_and_its_time_is_counted_apart,
    a_rescheduled_case_replays_on_its_new_calendar,
);

/// Atyrau time.
fn at(s: &str) -> DateTime<Utc> {
    t(&format!("{s}:00+05:00"))
}

/// The fixture regulation whose review may stop while another authority answers (the case's
/// term stops too).
fn suspendable() -> String {
    let escalation = "    escalation:\n      - {action: notify, role: head}\n";
    assert!(REGULATION.contains(escalation) && REGULATION.contains("\nversion: 1\n"));
    REGULATION
        .replace("\nversion: 1\n", "\nversion: 2\n")
        .replace(
            escalation,
            &format!(
                "{escalation}    suspensions:\n      - reason: awaiting_authority\n        name: \
             {{kk: Басқа органның жауабын күту, ru: Ожидание ответа другого органа, en: Awaiting \
             another authority}}\n        stops_case_term: true\n        source: {{paragraph: \
             \"10\"}}\n"
            ),
        )
}

fn opts(now: DateTime<Utc>, clocks: Option<&dyn Clocks>) -> ReplayOptions<'_> {
    ReplayOptions {
        at: None,
        now,
        clocks,
    }
}

fn suspend(task: u32) -> Command {
    Command::Suspend {
        task: TaskId(task),
        reason: "awaiting_authority".into(),
        comment: Some("запрос в департамент юстиции".into()),
    }
}

fn resume(task: u32) -> Command {
    Command::Resume {
        task: TaskId(task),
        comment: None,
    }
}

/// Starts a case at Monday 6 April 2026 10:00 and registers it at 10:05: the review (task 2,
/// one working day) is due Tuesday 18:00, the case (ten working days) Monday 20 April 18:00.
async fn start(service: &Service, process: &Arc<Process>, id: &str) -> CaseId {
    let case = CaseId::new(id);
    service
        .start(process, new_case(id), &clerk(), at("2026-04-06T10:00"))
        .await
        .expect("starts");
    service
        .execute(
            &case,
            &complete(1, None, json!({})),
            &clerk(),
            at("2026-04-06T10:05"),
        )
        .await
        .expect("register");
    case
}

/// Appends an event as if the engine had decided it: folded onto the case and hashed into its
/// chain (what someone editing the log before it is hashed would write).
async fn append(store: &Store, case: &CaseId, event: Event) {
    let state = store.load(case).await.expect("load").expect("exists");
    let mut after = state.clone();
    after.apply(&event).expect("folds");
    let head = store.head(case).await.expect("head");
    store
        .append(case, head, &[event], &after)
        .await
        .expect("appends");
}

fn assert_clean(r: &Replay) {
    assert!(r.chain.intact, "{}: {:?}", r.case, r.chain.problem);
    let p = r.projections.as_ref().expect("folds");
    assert!(p.matches, "{}: {:#?}", r.case, p.differences);
    assert!(
        r.deadlines.mismatches.is_empty(),
        "{}: {:#?}",
        r.case,
        r.deadlines.mismatches
    );
    assert!(r.is_clean());
}

async fn a_suspended_task_replays_clean_and_its_time_is_counted_apart(db: &TestDb) {
    let store = Store::open(&db.url).await.expect("store opens");
    let (_, process) = store
        .deploy(&suspendable(), "admin", t0())
        .await
        .expect("deploys");
    let service = Service::new(store.clone(), calendars());

    // S-1: the review stops on Monday at 11:00 and runs again on Wednesday at 11:00: 6 + 8 + 2
    // = 16 working hours stood still. Its due instant moves from Tuesday 18:00 by them, to
    // Thursday 18:00, and the case's from Monday 20 April 18:00 to Wednesday 22 April 18:00.
    let s1 = start(&service, &process, "S-1").await;
    service
        .execute(&s1, &claim(2), &clerk(), at("2026-04-06T10:10"))
        .await
        .expect("claim");
    service
        .execute(&s1, &suspend(2), &clerk(), at("2026-04-06T11:00"))
        .await
        .expect("suspend");
    // Past the review's due instant while it stands still: nothing is breached.
    let ticked = service.tick(at("2026-04-08T09:30")).await.expect("tick");
    assert!(ticked.failed.is_empty(), "{:?}", ticked.failed);
    service
        .execute(&s1, &resume(2), &clerk(), at("2026-04-08T11:00"))
        .await
        .expect("resume");
    let resumed = store.events(&s1).await.expect("events");
    let moved = resumed
        .iter()
        .find_map(|e| match &e.event.kind {
            EventKind::TaskResumed {
                suspended_seconds,
                moved,
                ..
            } => Some((*suspended_seconds, moved.clone())),
            _ => None,
        })
        .expect("a resumption");
    assert_eq!(moved.0, 16 * 3600);
    let due = |target| moved.1.iter().find(|m| m.target == target).map(|m| m.to);
    assert_eq!(
        due(DeadlineTarget::Task(TaskId(2))),
        Some(at("2026-04-09T18:00"))
    );
    assert_eq!(due(DeadlineTarget::Case), Some(at("2026-04-22T18:00")));
    // Handed in on Thursday at 10:00: on time by the moved instant, a day and a half late by
    // the first one.
    service
        .execute(
            &s1,
            &complete(2, Some("grant"), json!({})),
            &clerk(),
            at("2026-04-09T10:00"),
        )
        .await
        .expect("review");

    // S-2: the review stops on Monday at 11:00 and is still stopped at the audit.
    let s2 = start(&service, &process, "S-2").await;
    service
        .execute(&s2, &claim(2), &clerk(), at("2026-04-06T10:10"))
        .await
        .expect("claim");
    service
        .execute(&s2, &suspend(2), &clerk(), at("2026-04-06T11:00"))
        .await
        .expect("suspend");
    let ticked = service.tick(at("2026-04-23T12:00")).await.expect("tick");
    assert!(ticked.failed.is_empty(), "{:?}", ticked.failed);

    let now = at("2026-04-24T12:00");
    let r = replay(&store, &s1, &opts(now, None)).await.expect("replay");
    assert_clean(&r);
    assert!(r.deadlines.recomputed);
    // The start, two tasks opened, the resumption.
    assert_eq!(r.deadlines.checked, 4, "{:#?}", r.deadlines);
    let review = &r.timeline[1];
    assert_eq!(review.step, "review");
    assert_eq!(review.due, Some(at("2026-04-09T18:00")));
    assert!(!review.breached && !review.breach_recorded);
    // Monday 10:05 to Thursday 10:00 is 23 h 55 min of working time, 16 h of it stopped.
    assert_eq!(review.suspended_minutes, Some(960));
    assert_eq!(review.working_minutes, Some(23 * 60 + 55 - 960));
    assert_eq!(review.suspended_since, None);
    assert_eq!(r.timeline[0].suspended_minutes, None);
    let term = r.term.as_ref().expect("a term");
    assert_eq!(term.due, at("2026-04-22T18:00"));
    assert_eq!(term.met, Some(true));
    assert_eq!(term.stopped_minutes, Some(960));
    // Registration Monday 10:00 to Thursday 10:00: 24 working hours, 16 of them stopped.
    assert_eq!(term.working_minutes, Some(8 * 60));
    // The frozen histories' form: nothing new appears for a case never suspended.
    let json = serde_json::to_value(&r).expect("json");
    assert!(json["timeline"][0].get("suspended_minutes").is_none());
    assert!(json["deadlines"].get("missing_versions").is_none());

    let r2 = replay(&store, &s2, &opts(now, None)).await.expect("replay");
    assert_clean(&r2);
    let review = &r2.timeline[1];
    assert_eq!(review.suspended_since, Some(at("2026-04-06T11:00")));
    assert!(!review.breached, "stopped before it was due");
    assert_eq!(review.due, Some(at("2026-04-07T18:00")));
    // Monday 11:00 to Friday 24 April 12:00: 6 + 4 × 8 + 5 × 8 + 4 × 8 + 3 = 113 hours.
    assert_eq!(review.suspended_minutes, Some(113 * 60));
    assert_eq!(r2.term.as_ref().and_then(|t| t.met), None, "pending");
    assert_eq!(
        r2.term.as_ref().and_then(|t| t.stopped_minutes),
        Some(113 * 60)
    );

    // The compliance report counts the stopped time apart.
    let rep = compliance(&store, &CaseFilter::default(), now, None)
        .await
        .expect("report");
    let step = rep
        .steps
        .iter()
        .find(|s| s.step == "review")
        .expect("review");
    assert_eq!((step.tasks, step.completed), (2, 1));
    assert_eq!(step.suspended_tasks, 2);
    assert_eq!(step.suspended_minutes, 960 + 113 * 60);
    // The completed review's working time, less its suspension; neither review breached.
    assert_eq!(step.median_minutes, Some(23 * 60 + 55 - 960));
    assert_eq!((step.with_deadline, step.breaches), (2, 0));
    let register = rep
        .steps
        .iter()
        .find(|s| s.step == "register")
        .expect("register");
    assert_eq!(
        (register.suspended_tasks, register.suspended_minutes),
        (0, 0)
    );
    let case = |id: &str| rep.cases.iter().find(|c| c.case == id).expect("case");
    assert_eq!(case("S-1").suspended_minutes, 960);
    assert_eq!(case("S-1").term_stopped_minutes, 960);
    assert_eq!(case("S-1").working_minutes, Some(8 * 60));
    assert_eq!(case("S-1").term_met, Some(true));
    assert_eq!(case("S-1").due, Some(at("2026-04-22T18:00")));
    assert_eq!(case("S-2").suspended_minutes, 113 * 60);
    assert_eq!(case("S-2").term_met, None, "its term stands still");
    assert_eq!(case("S-2").breached_tasks, 0);
    let g = &rep.regulations[0];
    assert_eq!((g.met, g.not_met, g.pending), (1, 0, 1));
    // In each form.
    let json = serde_json::to_value(&rep).expect("json");
    assert_eq!(json["steps"][1]["suspended_minutes"], json!(960 + 113 * 60));
    assert_eq!(json["cases"][0]["term_stopped_minutes"], json!(960));
    let csv = report::to_csv(&rep, Lang::En);
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|c| *c == name).expect(name);
    let review_row: Vec<&str> = csv
        .lines()
        .find(|l| l.starts_with("step,") && l.contains(",review,"))
        .expect("the review's row")
        .split(',')
        .collect();
    assert_eq!(review_row[column("suspended_tasks")], "2");
    assert_eq!(
        review_row[column("suspended_minutes")],
        (960 + 113 * 60).to_string()
    );
    let html = report::to_html(&rep, Lang::Ru);
    assert!(html.contains("<th>Приостановлено</th>"), "{html}");
    well_formed(&html);

    // S-3: a breach written while the review stood still.
    let s3 = start(&service, &process, "S-3").await;
    service
        .execute(&s3, &claim(2), &clerk(), at("2026-04-06T10:10"))
        .await
        .expect("claim");
    service
        .execute(&s3, &suspend(2), &clerk(), at("2026-04-06T11:00"))
        .await
        .expect("suspend");
    append(
        &store,
        &s3,
        Event {
            at: at("2026-04-08T09:00"),
            actor: Actor::engine(),
            kind: EventKind::DeadlineBreached {
                target: DeadlineTarget::Task(TaskId(2)),
                due: at("2026-04-07T18:00"),
                escalate_at: Vec::new(),
            },
        },
    )
    .await;
    let r = replay(&store, &s3, &opts(now, None)).await.expect("replay");
    assert!(r.chain.intact && r.projections.as_ref().is_some_and(|p| p.matches));
    let head = store.head(&s3).await.expect("head");
    assert_eq!(r.deadlines.mismatches.len(), 1, "{:#?}", r.deadlines);
    let m = &r.deadlines.mismatches[0];
    assert_eq!((m.seq, m.target.as_str()), (head, "task 2"));
    assert!(m.reason.contains("suspended"), "{}", m.reason);
    assert!(!r.is_clean());

    // S-4: a resumption that claims an hour where sixteen stood still, and moves the instants
    // by that hour.
    let s4 = start(&service, &process, "S-4").await;
    service
        .execute(&s4, &claim(2), &clerk(), at("2026-04-06T10:10"))
        .await
        .expect("claim");
    service
        .execute(&s4, &suspend(2), &clerk(), at("2026-04-06T11:00"))
        .await
        .expect("suspend");
    let hour = |s: &str| reglament_runtime::Moved {
        target: DeadlineTarget::Task(TaskId(2)),
        from: at("2026-04-07T18:00"),
        to: at(s),
        warnings: Vec::new(),
    };
    append(
        &store,
        &s4,
        Event {
            at: at("2026-04-08T11:00"),
            actor: clerk(),
            kind: EventKind::TaskResumed {
                task: TaskId(2),
                comment: None,
                suspended_seconds: 3600,
                moved: vec![
                    hour("2026-04-08T10:00"),
                    reglament_runtime::Moved {
                        target: DeadlineTarget::Case,
                        from: at("2026-04-20T18:00"),
                        to: at("2026-04-21T10:00"),
                        warnings: Vec::new(),
                    },
                ],
            },
        },
    )
    .await;
    let r = replay(&store, &s4, &opts(now, None)).await.expect("replay");
    assert!(r.chain.intact && r.projections.as_ref().is_some_and(|p| p.matches));
    let head = store.head(&s4).await.expect("head");
    type Found<'a> = (u64, &'a str, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let found: Vec<Found<'_>> = r
        .deadlines
        .mismatches
        .iter()
        .map(|m| (m.seq, m.target.as_str(), m.recorded, m.recomputed))
        .collect();
    assert_eq!(
        found,
        [
            (head, "task 2", None, None),
            (
                head,
                "task 2",
                Some(at("2026-04-08T10:00")),
                Some(at("2026-04-09T18:00"))
            ),
            (
                head,
                "case",
                Some(at("2026-04-21T10:00")),
                Some(at("2026-04-22T18:00"))
            ),
        ],
        "{:#?}",
        r.deadlines.mismatches
    );
    assert!(
        r.deadlines.mismatches[0]
            .reason
            .contains("1 h of working time")
            && r.deadlines.mismatches[0].reason.contains("gives 16 h"),
        "{}",
        r.deadlines.mismatches[0].reason
    );

    // The exports: a suspend and a resume event for the review, with the reason and the
    // stopped time.
    let mut xes = Vec::new();
    let only = CaseFilter::default();
    export::export(&store, &only, ExportFormat::Xes, Lang::En, &mut xes)
        .await
        .expect("xes");
    let xes = String::from_utf8(xes).expect("utf-8");
    well_formed(&xes);
    assert_eq!(xes.matches("value=\"suspend\"").count(), 4, "S-1 to S-4");
    assert_eq!(xes.matches("value=\"resume\"").count(), 2, "S-1 and S-4");
    assert!(xes.contains("<string key=\"reason\" value=\"awaiting_authority\"/>"));
    assert!(xes.contains("<int key=\"suspended_seconds\" value=\"57600\"/>"));
    let mut csv = Vec::new();
    export::export(&store, &only, ExportFormat::Csv, Lang::En, &mut csv)
        .await
        .expect("csv");
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv.lines().next().is_some_and(|h| {
        h.ends_with(
            ",reason,suspended_seconds,moved,calendar_version,event_office,to_office,on_behalf_of,approved_by",
        )
    }));
    assert!(
        csv.lines()
            .any(|l| l.starts_with("S-1,Review,resume,") && l.contains(",57600,task 2: ")),
        "{csv}"
    );
    let mut ocel = Vec::new();
    let summary = export::export(&store, &only, ExportFormat::Ocel, Lang::En, &mut ocel)
        .await
        .expect("ocel");
    let ocel: Value = serde_json::from_slice(&ocel).expect("OCEL is JSON");
    assert_eq!(
        ocel["events"].as_array().map(Vec::len),
        Some(summary.events as usize)
    );
    pm4py_reads(&xes, "xes");
    store.close().await;
}

/// `kz.yaml` with Tuesday 7 April 2026 declared a day off.
fn decreed_clock() -> (OfficeClock, OfficeClock) {
    let old = calendars().clock(Some(OFFICE)).expect("the office's clock");
    let path = reglament_testkit::regulations_dir().join("calendars/kz.yaml");
    let text = std::fs::read_to_string(&path).expect("kz.yaml");
    let decree = "holidays:\n  - id: test-decree-day\n    name: {kk: Демалыс, ru: Выходной по \
                  постановлению, en: Decreed day off}\n    kind: religious\n    dates: [04-07]\n    \
                  years: [{from: 2026, to: 2026}]\n    source: {act: Тестовое постановление}\n";
    assert!(text.contains("\nholidays:\n"));
    let text = text.replacen("\nholidays:\n", &format!("\n{decree}"), 1);
    let national =
        national_from_str(&text, &path.display().to_string()).unwrap_or_else(|d| panic!("{d:#?}"));
    let new = OfficeClock::new(&national, old.schedule().clone(), old.zone()).expect("clock");
    assert_ne!(new.version(), old.version());
    (old, new)
}

/// The calendars as loaded after the decree: the new clock for the office, and any stored
/// version the bundled calendars still give.
struct Decreed(OfficeClock);

impl Clocks for Decreed {
    fn clock(&self, office: &str, version: Option<&str>) -> Result<OfficeClock, EngineError> {
        match version {
            None => Ok(self.0.clone()),
            Some(v) if v == self.0.version() => Ok(self.0.clone()),
            Some(v) => Clocks::clock(&*calendars(), office, Some(v)),
        }
    }
}

async fn a_rescheduled_case_replays_on_its_new_calendar(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    let (old, new) = decreed_clock();
    let decreed = Decreed(new.clone());
    let now = at("2026-04-24T12:00");

    // The review is due Tuesday 18:00 and the case Monday 20 April 18:00; with Tuesday off,
    // Wednesday 18:00 and Tuesday 21 April 18:00.
    let mut events = Vec::new();
    for id in ["D-1", "D-2"] {
        let case = start(&service, &process, id).await;
        let state = store.load(&case).await.expect("load").expect("exists");
        let kind = reschedule(&state, &new, Some(&old))
            .expect("recomputes")
            .expect("something moves");
        let EventKind::DeadlinesRescheduled {
            from_version,
            to_version,
            days,
            moved,
        } = &kind
        else {
            panic!("{kind:?}")
        };
        assert_eq!(
            (from_version.as_str(), to_version.as_str()),
            (old.version(), new.version())
        );
        assert_eq!(days, &[NaiveDate::from_ymd_opt(2026, 4, 7).expect("date")]);
        let to: BTreeMap<DeadlineTarget, DateTime<Utc>> =
            moved.iter().map(|m| (m.target, m.to)).collect();
        assert_eq!(
            to,
            BTreeMap::from([
                (DeadlineTarget::Case, at("2026-04-21T18:00")),
                (DeadlineTarget::Task(TaskId(2)), at("2026-04-08T18:00")),
            ])
        );
        events.push((case, kind));
    }
    let (d1, kind) = events.remove(0);
    append(
        &store,
        &d1,
        Event {
            at: at("2026-04-06T19:00"),
            actor: Actor::engine(),
            kind,
        },
    )
    .await;
    // D-2: the same rescheduling written with the review an hour later than the new
    // calendar gives.
    let (d2, mut kind) = events.remove(0);
    if let EventKind::DeadlinesRescheduled { moved, .. } = &mut kind {
        for m in moved.iter_mut() {
            if m.target == DeadlineTarget::Task(TaskId(2)) {
                m.to = at("2026-04-08T18:00") + chrono::Duration::hours(1);
            }
        }
    }
    append(
        &store,
        &d2,
        Event {
            at: at("2026-04-06T19:00"),
            actor: Actor::engine(),
            kind,
        },
    )
    .await;
    // D-3: the review stood still for an hour on Monday before the decree; D-4: it stands
    // still when the decree comes, and runs again on Wednesday at 11:00.
    let (_, suspendable) = store
        .deploy(&suspendable(), "admin", t0())
        .await
        .expect("deploys");
    let mut stopped = Vec::new();
    for id in ["D-3", "D-4"] {
        let case = start(&service, &suspendable, id).await;
        service
            .execute(&case, &claim(2), &clerk(), at("2026-04-06T10:10"))
            .await
            .expect("claim");
        service
            .execute(&case, &suspend(2), &clerk(), at("2026-04-06T11:00"))
            .await
            .expect("suspend");
        if id == "D-3" {
            service
                .execute(&case, &resume(2), &clerk(), at("2026-04-06T12:00"))
                .await
                .expect("resume");
        }
        let state = store.load(&case).await.expect("load").expect("exists");
        let kind = reschedule(&state, &new, Some(&old))
            .expect("recomputes")
            .expect("something moves");
        append(
            &store,
            &case,
            Event {
                at: at("2026-04-06T19:00"),
                actor: Actor::engine(),
                kind,
            },
        )
        .await;
        stopped.push(case);
    }
    // The cases go on under the new calendar (a service that loaded it follows it, and has
    // nothing left to move): D-1's review, handed in on Wednesday, is on time.
    let after = Service::new(store.clone(), Arc::new(Decreed(new.clone())));
    let ticked = after.tick(at("2026-04-07T18:30")).await.expect("tick");
    assert!(ticked.failed.is_empty(), "{:?}", ticked.failed);
    // D-4 resumes: Monday 11:00 to Wednesday 11:00 is 8 working hours on the new calendar.
    after
        .execute(&stopped[1], &resume(2), &clerk(), at("2026-04-08T11:00"))
        .await
        .expect("resume");
    // The rescheduling counts D-3's ended hour again on the new calendar; D-4's resumption
    // moves the instants recomputed on it by its 8 hours.
    for (case, review, term) in [
        (&stopped[0], "2026-04-09T10:00", "2026-04-22T10:00"),
        (&stopped[1], "2026-04-09T18:00", "2026-04-22T18:00"),
    ] {
        let r = replay(&store, case, &opts(now, Some(&decreed)))
            .await
            .expect("replay");
        assert_clean(&r);
        assert!(r.deadlines.recomputed, "{case}: {:#?}", r.deadlines);
        assert_eq!(r.timeline[1].due, Some(at(review)), "{case}");
        assert_eq!(r.term.as_ref().map(|t| t.due), Some(at(term)), "{case}");
    }
    after
        .execute(
            &d1,
            &complete(2, Some("again"), json!({})),
            &clerk(),
            at("2026-04-08T17:00"),
        )
        .await
        .expect("review");

    let r = replay(&store, &d1, &opts(now, Some(&decreed)))
        .await
        .expect("replay");
    assert_clean(&r);
    assert!(r.deadlines.recomputed, "{:#?}", r.deadlines);
    // The start, two tasks opened on the old calendar, the rescheduling, the review opened
    // again on the new one.
    assert_eq!(r.deadlines.checked, 5, "{:#?}", r.deadlines);
    assert_eq!(r.timeline[1].due, Some(at("2026-04-08T18:00")));
    assert!(!r.timeline[1].breached);
    // The review opened again on Wednesday 17:00 is due a working day later: Thursday 18:00.
    assert_eq!(r.timeline[2].due, Some(at("2026-04-09T18:00")));
    assert_eq!(r.term.as_ref().map(|t| t.due), Some(at("2026-04-21T18:00")));
    // Without the new calendar's clock the instants computed on it are not checked: not done,
    // rather than wrong.
    let rows = store.case_log_rows(&d1).await.expect("rows");
    let projection = store.case_projection(&d1).await.expect("projection");
    let pinned = BTreeMap::from([(old.version().to_string(), old.clone())]);
    let r = replay_rows_on(
        d1.as_str(),
        &rows,
        projection.as_ref(),
        &process,
        &pinned,
        &opts(now, None),
    )
    .expect("replay");
    assert!(r.deadlines.mismatches.is_empty(), "{:#?}", r.deadlines);
    assert!(!r.deadlines.recomputed);
    assert_eq!(r.deadlines.missing_versions, [new.version().to_string()]);
    assert_eq!((r.deadlines.checked, r.deadlines.unchecked), (3, 2));

    let r = replay(&store, &d2, &opts(now, Some(&decreed)))
        .await
        .expect("replay");
    assert!(r.chain.intact, "the forgery was hashed into the chain");
    assert!(r.projections.as_ref().is_some_and(|p| p.matches));
    let head = store.head(&d2).await.expect("head");
    assert_eq!(r.deadlines.mismatches.len(), 1, "{:#?}", r.deadlines);
    let m = &r.deadlines.mismatches[0];
    assert_eq!((m.seq, m.target.as_str()), (head, "task 2"));
    assert_eq!(m.recorded, Some(at("2026-04-08T19:00")));
    assert_eq!(m.recomputed, Some(at("2026-04-08T18:00")));
    assert!(!r.is_clean());

    // The export names the rescheduling.
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
    let line = csv
        .lines()
        .find(|l| l.starts_with("D-1,Deadlines rescheduled on a new calendar,complete,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        line.ends_with(&format!(",{},{OFFICE},,,", new.version())),
        "{line}"
    );
    assert!(
        line.contains("task 2: 2026-04-07T13:00:00Z → 2026-04-08T13:00:00Z"),
        "{line}"
    );
    store.close().await;
}

/// The text parses as XML.
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

/// PM4Py reads the export, when it is installed (`tests/pm4py_counts.py`; required in CI).
fn pm4py_reads(text: &str, kind: &str) {
    let dir = temp_dir();
    let path = dir.join(format!("log.{kind}"));
    std::fs::write(&path, text).expect("write");
    let python = std::env::var("REGLAMENT_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pm4py_counts.py");
    let ci = std::env::var("REGLAMENT_CI").is_ok_and(|v| v == "1");
    match std::process::Command::new(&python)
        .arg(&script)
        .arg(kind)
        .arg(&path)
        .output()
    {
        Ok(o) if o.status.success() => {
            let counts: Value = serde_json::from_slice(&o.stdout).expect("JSON");
            assert_eq!(
                counts["events"].as_u64(),
                Some(text.matches("<event>").count() as u64),
                "{counts}"
            );
        }
        Ok(o) if o.status.code() == Some(3) && !ci => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: pm4py is not installed ***\n"
            );
        }
        Ok(o) => panic!(
            "{python}: {}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) if !ci => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: cannot run {python}: {e} ***\n"
            );
        }
        Err(e) => panic!("REGLAMENT_CI=1 and {python} cannot run: {e}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

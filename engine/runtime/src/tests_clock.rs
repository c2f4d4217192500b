//! The statutory clock over time: suspensions and calendar decrees reaching running cases,
//! with instants computed by hand (Atyrau, +05; the office works 09:00–13:00 and
//! 14:00–18:00, Monday to Friday).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::json;

use super::tests::{OFFICE, calendars, fixture};
use super::*;
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::validate;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

/// The runtime fixture whose `review` step may be suspended while another authority answers
/// (the case's term stops too) or while the applicant corrects the documents (only the task).
fn suspendable() -> Arc<Process> {
    let yaml = super::tests::FIXTURE.replace(
        "    escalation:\n      - {action: notify, role: head}\n      - {action: reassign",
        "    suspensions:\n      - {reason: awaiting_authority, name: {kk: Жауап күту, ru: Ожидание ответа, en: Awaiting an answer}, stops_case_term: true, source: {paragraph: \"10\"}}\n      - {reason: applicant_correction, name: {kk: Түзету, ru: Исправление, en: Correction}}\n    escalation:\n      - {action: notify, role: head}\n      - {action: reassign",
    );
    assert_ne!(
        yaml,
        super::tests::FIXTURE,
        "the fixture changed: update the splice"
    );
    let report = validate::check_str(&yaml, "suspendable.yaml", None);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    Arc::new(report.process.expect("compiles"))
}

fn office_clock() -> OfficeClock {
    calendars().clock(Some(OFFICE)).expect("office clock")
}

/// The office's clock on the bundled calendar with `transfers` (YAML list items) decreed too.
fn decreed(transfers: &str) -> OfficeClock {
    let root = reglament_testkit::regulations_dir();
    let text = std::fs::read_to_string(root.join("calendars/kz.yaml")).expect("kz.yaml");
    let text = text.replacen("\ntransfers:\n", &format!("\ntransfers:\n{transfers}"), 1);
    let national = reglament_calendar::national_from_str(&text, "kz.yaml").expect("decree");
    let old = office_clock();
    OfficeClock::new(&national, old.schedule().clone(), old.zone()).expect("clock")
}

fn clerk() -> Actor {
    Actor::new("clerk1", "executor")
}

fn start(e: &mut Engine, p: &Arc<Process>, id: &str, at: &str) -> CaseId {
    let id = CaseId::new(id);
    e.start(
        p,
        NewCase {
            case: id.clone(),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: json!({"full_name": "Айгүл Серікова", "iin": "900101400123"}),
        },
        &clerk(),
        t(at),
    )
    .expect("start");
    id
}

fn complete(e: &mut Engine, id: &CaseId, task: u32, outcome: Option<&str>, at: DateTime<Utc>) {
    e.execute(
        id,
        &Command::Complete {
            task: TaskId(task),
            outcome: outcome.map(str::to_string),
            data: json!({}),
            reason: None,
        },
        &clerk(),
        at,
    )
    .expect("complete");
}

/// Registration, then both checks, done at `at`: the review (task 4) opens then.
fn to_review(e: &mut Engine, id: &CaseId, at: DateTime<Utc>) {
    complete(e, id, 1, None, at);
    complete(e, id, 2, None, at);
    complete(e, id, 3, None, at);
    assert_eq!(
        e.case(id)
            .and_then(|s| s.task(TaskId(4)))
            .map(|t| &*t.step_id),
        Some("review")
    );
}

fn due_of(s: &CaseState, task: u32) -> DateTime<Utc> {
    s.task(TaskId(task))
        .and_then(|t| t.deadline.as_ref())
        .map(|d| d.due)
        .expect("a task deadline")
}

fn case_due(s: &CaseState) -> DateTime<Utc> {
    s.deadline.as_ref().map(|d| d.due).expect("a case deadline")
}

fn suspend(reason: &str) -> Command {
    Command::Suspend {
        task: TaskId(4),
        reason: reason.into(),
        comment: Some("запрос в ЦОН".into()),
    }
}

fn resume() -> Command {
    Command::Resume {
        task: TaskId(4),
        comment: None,
    }
}

#[test]
fn a_suspension_of_three_working_days_moves_the_task_and_the_case_across_a_weekend_and_a_holiday() {
    let p = suspendable();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    // Monday 27 April 2026. The case's 10 working days start the day after: 28, 29, 30 April,
    // 4, 5, 6, 8, 12, 13, 14 May (1 May Unity Day, 7 May Defender's Day, 9 May Victory Day
    // falls on a Saturday and its day off moves to Monday 11 May): due Thursday 14 May 18:00.
    let id = start(&mut e, &p, "SUS-1", "2026-04-27T09:30:00+05:00");
    to_review(&mut e, &id, t("2026-04-27T10:00:00+05:00"));
    let s = e.case(&id).expect("case");
    // The review's 5 working days: 28, 29, 30 April, 4, 5 May.
    assert_eq!(due_of(s, 4), t("2026-05-05T18:00:00+05:00"));
    assert_eq!(case_due(s), t("2026-05-14T18:00:00+05:00"));

    e.execute(
        &id,
        &Command::Claim { task: TaskId(4) },
        &clerk(),
        t("2026-04-30T09:55:00+05:00"),
    )
    .expect("claim");
    e.execute(
        &id,
        &suspend("awaiting_authority"),
        &clerk(),
        t("2026-04-30T10:00:00+05:00"),
    )
    .expect("suspend");
    // While suspended nothing breaches, even long after the due instant.
    let ticked = e.tick(t("2026-05-20T12:00:00+05:00"));
    assert!(
        ticked.events.iter().all(|(c, _)| c != &id),
        "a stopped clock breaches nothing: {ticked:?}"
    );
    // A suspension the step does not list is refused with the ones it allows.
    let err = e
        .execute(
            &id,
            &Command::Complete {
                task: TaskId(4),
                outcome: Some("grant".into()),
                data: json!({}),
                reason: None,
            },
            &clerk(),
            t("2026-05-06T09:00:00+05:00"),
        )
        .expect_err("a suspended task cannot be completed");
    assert_eq!(
        err,
        EngineError::Command(CommandError::TaskSuspended(TaskId(4)))
    );

    // Resumed Wednesday 6 May 10:00. Stopped: 30 April 10:00–18:00 (7 h), 4 and 5 May (8 h
    // each), 6 May 09:00–10:00 (1 h): 24 working hours, 3 working days.
    let events = e
        .execute(&id, &resume(), &clerk(), t("2026-05-06T10:00:00+05:00"))
        .expect("resume");
    let EventKind::TaskResumed {
        suspended_seconds,
        moved,
        ..
    } = &events[0].kind
    else {
        panic!("{events:?}");
    };
    assert_eq!(*suspended_seconds, 24 * 3600);
    assert_eq!(moved.len(), 2, "{moved:?}");
    let s = e.case(&id).expect("case");
    // 5 May 18:00 plus 3 working days: 6, 8 and 12 May (7 and 11 May are days off).
    assert_eq!(due_of(s, 4), t("2026-05-12T18:00:00+05:00"));
    // 14 May 18:00 plus 3 working days: 15, 18, 19 May.
    assert_eq!(case_due(s), t("2026-05-19T18:00:00+05:00"));
    assert!(s.task(TaskId(4)).is_some_and(|t| t.suspended.is_none()));
}

#[test]
fn suspensions_are_checked_against_what_the_step_allows_and_who_holds_the_task() {
    let p = suspendable();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = start(&mut e, &p, "SUS-2", "2026-04-27T09:30:00+05:00");
    to_review(&mut e, &id, t("2026-04-27T10:00:00+05:00"));
    let at = t("2026-04-28T10:00:00+05:00");
    // Nobody holds the task: an executor may not stop its time, a head may.
    assert_eq!(
        e.execute(&id, &suspend("applicant_correction"), &clerk(), at),
        Err(EngineError::Command(CommandError::NotAllowedToSuspend(
            Arc::from("executor")
        )))
    );
    e.execute(&id, &Command::Claim { task: TaskId(4) }, &clerk(), at)
        .expect("claim");
    assert_eq!(
        e.execute(&id, &suspend("lunch"), &clerk(), at),
        Err(EngineError::Command(CommandError::SuspensionNotAllowed {
            step: "review".into(),
            reason: "lunch".into(),
            allowed: vec!["awaiting_authority".into(), "applicant_correction".into()],
        }))
    );
    assert_eq!(
        e.execute(&id, &resume(), &clerk(), at),
        Err(EngineError::Command(CommandError::NotSuspended(TaskId(4))))
    );
    let before = e.case(&id).map(case_due);
    e.execute(&id, &suspend("applicant_correction"), &clerk(), at)
        .expect("the holder suspends");
    // A double click is refused, not applied twice.
    assert_eq!(
        e.execute(&id, &suspend("applicant_correction"), &clerk(), at),
        Err(EngineError::Command(CommandError::AlreadySuspended(
            TaskId(4)
        )))
    );
    // Only the task's time stopped: the case's term still runs.
    e.execute(
        &id,
        &resume(),
        &Actor::new("head1", "head"),
        t("2026-04-29T10:00:00+05:00"),
    )
    .expect("a head resumes");
    let s = e.case(&id).expect("case");
    assert_eq!(Some(case_due(s)), before);
    // 8 working hours: the review moves from 5 May 18:00 to 6 May 18:00.
    assert_eq!(due_of(s, 4), t("2026-05-06T18:00:00+05:00"));
}

/// Two cases on the bundled calendar, and a decree that makes Friday 17 April 2026 a day off
/// (worked on Saturday 25 April).
#[test]
fn a_transfer_decree_moves_exactly_the_instants_that_cross_the_changed_days() {
    let p = fixture();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    // Monday 6 April: 10 working days from the 7th end on Monday 20 April, crossing the 17th.
    let crossing = start(&mut e, &p, "DEC-1", "2026-04-06T10:00:00+05:00");
    complete(&mut e, &crossing, 1, None, t("2026-04-06T10:05:00+05:00"));
    // Monday 1 June: 2–15 June, far from both changed days.
    let far = start(&mut e, &p, "DEC-2", "2026-06-01T10:00:00+05:00");
    let old = office_clock();
    let new = decreed(
        "  - day_off: 2026-04-17\n    work_day: 2026-04-25\n    source: {act: Постановление (тест)}\n",
    );
    assert_ne!(old.version(), new.version());

    let s = e.case(&crossing).expect("case");
    assert_eq!(case_due(s), t("2026-04-20T18:00:00+05:00"));
    // The two checks (1 working day from 6 April 10:05): Tuesday 7 April 18:00, untouched.
    assert_eq!(due_of(s, 2), t("2026-04-07T18:00:00+05:00"));
    let Some(EventKind::DeadlinesRescheduled {
        from_version,
        to_version,
        days,
        moved,
    }) = reschedule(s, &new, Some(&old)).expect("recompute")
    else {
        panic!("the case crosses the changed day");
    };
    assert_eq!(
        (from_version.as_str(), to_version.as_str()),
        (old.version(), new.version())
    );
    // Without 17 April: 7, 8, 9, 10, 13, 14, 15, 16, 20, 21 April.
    assert_eq!(
        moved,
        vec![Moved {
            target: DeadlineTarget::Case,
            from: t("2026-04-20T18:00:00+05:00"),
            to: t("2026-04-21T18:00:00+05:00"),
            warnings: Vec::new(),
        }]
    );
    assert_eq!(
        days,
        vec![chrono::NaiveDate::from_ymd_opt(2026, 4, 17).expect("date")]
    );
    // The other case's instants do not move: no event.
    let s = e.case(&far).expect("case");
    assert_eq!(reschedule(s, &new, Some(&old)).expect("recompute"), None);

    // Folded in, the event moves the case onto the new calendar.
    let event = Event {
        at: t("2026-04-09T12:00:00+05:00"),
        actor: Actor::engine(),
        kind: reschedule(e.case(&crossing).expect("case"), &new, Some(&old))
            .expect("recompute")
            .expect("moves"),
    };
    e.commit(&crossing, std::slice::from_ref(&event))
        .expect("fold");
    let s = e.case(&crossing).expect("case");
    assert_eq!(case_due(s), t("2026-04-21T18:00:00+05:00"));
    assert_eq!(&*s.calendar_version, new.version());
    assert_eq!(
        s.deadline.as_ref().map(|d| &*d.calendar_version),
        Some(new.version())
    );
    // Recomputing again on the same calendar moves nothing.
    assert_eq!(reschedule(s, &new, Some(&old)).expect("recompute"), None);
}

#[test]
fn an_extra_day_off_declared_for_tomorrow_moves_a_task_due_tomorrow_by_one_working_day() {
    let p = fixture();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = start(&mut e, &p, "DEC-3", "2026-04-06T10:00:00+05:00");
    complete(&mut e, &id, 1, None, t("2026-04-06T10:05:00+05:00"));
    let s = e.case(&id).expect("case");
    assert_eq!(due_of(s, 2), t("2026-04-07T18:00:00+05:00"));
    // Declared on Monday 6 April: Tuesday 7 April is a day off, with no working day for it.
    let new = decreed("  - day_off: 2026-04-07\n    source: {act: Постановление (тест)}\n");
    let Some(EventKind::DeadlinesRescheduled { moved, .. }) =
        reschedule(s, &new, Some(&office_clock())).expect("recompute")
    else {
        panic!("tomorrow moved");
    };
    let task = |n: u32| {
        moved
            .iter()
            .find(|m| m.target == DeadlineTarget::Task(TaskId(n)))
    };
    assert_eq!(task(2).map(|m| m.to), Some(t("2026-04-08T18:00:00+05:00")));
    assert_eq!(task(3).map(|m| m.to), Some(t("2026-04-08T18:00:00+05:00")));
    let case = moved.iter().find(|m| m.target == DeadlineTarget::Case);
    assert_eq!(case.map(|m| m.to), Some(t("2026-04-21T18:00:00+05:00")));
}

#[test]
fn a_suspension_across_a_calendar_change_counts_the_stopped_time_on_the_new_calendar() {
    let p = suspendable();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = start(&mut e, &p, "SUS-3", "2026-04-27T09:30:00+05:00");
    to_review(&mut e, &id, t("2026-04-27T10:00:00+05:00"));
    e.execute(
        &id,
        &Command::Claim { task: TaskId(4) },
        &clerk(),
        t("2026-04-28T09:00:00+05:00"),
    )
    .expect("claim");
    e.execute(
        &id,
        &suspend("applicant_correction"),
        &clerk(),
        t("2026-04-28T10:00:00+05:00"),
    )
    .expect("suspend");
    e.execute(&id, &resume(), &clerk(), t("2026-04-30T10:00:00+05:00"))
        .expect("resume");
    let s = e.case(&id).expect("case");
    // Stopped 28 April 10:00 – 30 April 10:00: 16 working hours; 5 May 18:00 + 2 days = 8 May.
    assert_eq!(due_of(s, 4), t("2026-05-08T18:00:00+05:00"));
    // Then 29 April is declared a day off: the review's own days are 28, 30 April, 4, 5, 6
    // May (due 6 May 18:00), and the stopped time, measured on the new calendar, is 28 April
    // 10:00–18:00 and 30 April 09:00–10:00: 8 working hours. 6 May 18:00 + 8 h = 8 May 18:00.
    let new = decreed("  - day_off: 2026-04-29\n    source: {act: Постановление (тест)}\n");
    let kind = reschedule(s, &new, Some(&office_clock())).expect("recompute");
    let Some(EventKind::DeadlinesRescheduled { moved, .. }) = kind else {
        panic!("the case term moves");
    };
    let task = moved
        .iter()
        .find(|m| m.target == DeadlineTarget::Task(TaskId(4)));
    assert_eq!(task, None, "the review's due does not move: {moved:?}");
    // The case (not stopped by this suspension): 28, 30 April, 4, 5, 6, 8, 12, 13, 14, 15 May.
    let case = moved.iter().find(|m| m.target == DeadlineTarget::Case);
    assert_eq!(case.map(|m| m.to), Some(t("2026-05-15T18:00:00+05:00")));
}

fn sum_working(clock: &OfficeClock, spans: &[(DateTime<Utc>, DateTime<Utc>)]) -> u64 {
    spans
        .iter()
        .map(|(a, b)| clock.elapsed_seconds(*a, *b).expect("elapsed").max(0) as u64)
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// For any sequence of suspensions and resumptions, the due instants are the original ones
    /// plus the working time suspended.
    #[test]
    fn due_instants_move_by_exactly_the_suspended_working_time(
        gaps in proptest::collection::vec((1i64..3_000, 1i64..6_000), 1..5)
    ) {
        let p = suspendable();
        let mut e = Engine::new(calendars());
        e.deploy(p.clone());
        let id = start(&mut e, &p, "PROP-S", "2026-04-27T09:30:00+05:00");
        to_review(&mut e, &id, t("2026-04-27T10:00:00+05:00"));
        let mut now = t("2026-04-27T10:00:00+05:00");
        e.execute(&id, &Command::Claim { task: TaskId(4) }, &clerk(), now).expect("claim");
        let s = e.case(&id).expect("case");
        let (task0, case0) = (due_of(s, 4), case_due(s));
        let mut spans = Vec::new();
        for (run, stop) in gaps {
            now += chrono::Duration::minutes(run);
            let from = now;
            e.execute(&id, &suspend("awaiting_authority"), &clerk(), now).expect("suspend");
            now += chrono::Duration::minutes(stop);
            e.execute(&id, &resume(), &clerk(), now).expect("resume");
            spans.push((from, now));
        }
        let clock = office_clock();
        let stopped = sum_working(&clock, &spans);
        let s = e.case(&id).expect("case");
        prop_assert_eq!(due_of(s, 4), clock.add_working_seconds(task0, stopped).expect("add"));
        prop_assert_eq!(case_due(s), clock.add_working_seconds(case0, stopped).expect("add"));
        prop_assert_eq!(s.task(TaskId(4)).map(|t| t.suspended_seconds), Some(stopped));
    }

    /// Recomputation after a calendar change equals a fresh computation on the new calendar:
    /// the same commands run from the start on it give the same due instants.
    #[test]
    fn recomputation_equals_a_fresh_computation_on_the_new_calendar(
        start_day in 0u64..200,
        start_minute in 0i64..(24 * 60),
        work in 1i64..4_000,
        off_day in 0u64..260,
    ) {
        let p = fixture();
        let day = |n: u64| chrono::NaiveDate::from_ymd_opt(2026, 1, 12).expect("date") + chrono::Days::new(n);
        let started = t(&format!("{}T00:00:00+05:00", day(start_day))) + chrono::Duration::minutes(start_minute);
        let registered = started + chrono::Duration::minutes(work);
        // A decree makes a working day a day off (a day off already is one: nothing to decree).
        prop_assume!(office_clock().is_working_day(day(off_day)).expect("in the calendar"));
        let new = decreed(&format!("  - day_off: {}\n    source: {{act: Постановление (тест)}}\n", day(off_day)));
        let run = |clocks: Arc<dyn Clocks>| {
            let mut e = Engine::new(clocks);
            e.deploy(p.clone());
            let id = start(&mut e, &p, "PROP-C", &started.to_rfc3339());
            complete(&mut e, &id, 1, None, registered);
            e
        };
        let old_engine = run(calendars());
        let fresh = run(Arc::new(new.clone()));
        let id = CaseId::new("PROP-C");
        let mut s = old_engine.case(&id).expect("case").clone();
        if let Some(kind) = reschedule(&s, &new, Some(&office_clock())).expect("recompute") {
            s.apply(&Event { at: registered, actor: Actor::engine(), kind }).expect("fold");
        }
        let f = fresh.case(&id).expect("case");
        prop_assert_eq!(case_due(&s), case_due(f));
        for task in s.open_tasks() {
            prop_assert_eq!(due_of(&s, task.id.0), due_of(f, task.id.0));
        }
    }
}

#[test]
fn an_office_s_warning_thresholds_apply_where_the_regulation_sets_none() {
    // The fixture sets no `warnings`; the office warns at half of each task's time.
    let p = fixture();
    assert!(p.regulation.warnings.is_empty());
    let mut e = Engine::new(Arc::new(office_clock().with_warnings(&[50])));
    e.deploy(p.clone());
    let id = start(&mut e, &p, "OFF-W", "2026-04-14T10:00:00+05:00");
    let s = e.case(&id).expect("case");
    // Registration: 15 working minutes from 10:00; half is 7 minutes (7.5 rounded down).
    let w: Vec<(u8, DateTime<Utc>)> = s
        .task(TaskId(1))
        .map(|t| t.warn_at.iter().map(|w| (w.percent, w.at)).collect())
        .unwrap_or_default();
    assert_eq!(w, [(50, t("2026-04-14T10:07:00+05:00"))]);
    // A regulation's own thresholds win over the office's.
    let own = super::tests::FIXTURE.replace("\nsteps:\n", "\nwarnings: [80]\nsteps:\n");
    let report = validate::check_str(&own, "own.yaml", None);
    let own = Arc::new(report.process.expect("compiles"));
    e.deploy(own.clone());
    let id = start(&mut e, &own, "OFF-W2", "2026-04-14T10:00:00+05:00");
    let s = e.case(&id).expect("case");
    let percents: Vec<u8> = s
        .task(TaskId(1))
        .map(|t| t.warn_at.iter().map(|w| w.percent).collect())
        .unwrap_or_default();
    assert_eq!(percents, [80]);
}

#[test]
fn the_extended_term_counts_the_time_the_term_already_stood_still() {
    let p = suspendable();
    let mut e = Engine::new(calendars());
    e.deploy(p.clone());
    let id = start(&mut e, &p, "SUS-4", "2026-04-27T09:30:00+05:00");
    to_review(&mut e, &id, t("2026-04-27T10:00:00+05:00"));
    e.execute(
        &id,
        &Command::Claim { task: TaskId(4) },
        &clerk(),
        t("2026-04-30T09:55:00+05:00"),
    )
    .expect("claim");
    e.execute(
        &id,
        &suspend("awaiting_authority"),
        &clerk(),
        t("2026-04-30T10:00:00+05:00"),
    )
    .expect("suspend");
    e.execute(&id, &resume(), &clerk(), t("2026-05-06T10:00:00+05:00"))
        .expect("resume");
    e.execute(
        &id,
        &Command::DocumentsMissing { note: None },
        &clerk(),
        t("2026-05-06T11:00:00+05:00"),
    )
    .expect("documents missing");
    // 20 working days from 28 April: 28, 29, 30 April, 4, 5, 6, 8, 12, 13, 14, 15, 18, 19,
    // 20, 21, 22, 25, 26, 28, 29 May (27 May is Kurban Ait): 29 May 18:00; plus the 3 working
    // days the term stood still: 1, 2, 3 June.
    let s = e.case(&id).expect("case");
    assert_eq!(case_due(s), t("2026-06-03T18:00:00+05:00"));
}

//! Every one of the bundled regulations driven through every path of every channel to its end:
//! granted, refused, returned, portal checks failing; with documents missing where the channel
//! has an extended term. Each task's due instant is checked against the calendar, and a few
//! are checked against dates worked out by hand.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reglament_calendar::{Calendars, OfficeClock, OfficeKind};
use reglament_model::compile::Process;
use reglament_model::model::{Counting, Step};
use reglament_model::paths::{self, DEFAULT_DAY_MINUTES};
use reglament_model::validate;
use reglament_runtime::simulate::{self, Pace, Scenario};
use reglament_runtime::{CaseStatus, EventKind};
use reglament_suite::regulations_dir;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn load_all() -> (Calendars, Vec<Arc<Process>>) {
    let calendars = Calendars::load(&regulations_dir()).expect("calendars");
    let files = validate::regulation_files(&[regulations_dir()]).expect("files");
    let processes = files
        .iter()
        .map(|f| {
            let report = validate::check_file(f, None);
            Arc::new(
                report
                    .process
                    .unwrap_or_else(|| panic!("{} does not compile", f.display())),
            )
        })
        .collect();
    (calendars, processes)
}

fn provider_office(calendars: &Calendars, region: &str) -> (String, OfficeClock) {
    let office = calendars
        .offices()
        .find(|o| o.region == region && o.data.kind == OfficeKind::ProviderOffice)
        .unwrap_or_else(|| panic!("region {region} has a provider office"));
    (office.data.id.clone(), office.clock.clone())
}

#[test]
fn every_path_of_every_regulation_runs_to_its_end() {
    let (calendars, processes) = load_all();
    assert_eq!(processes.len(), 9);
    let start = t("2026-03-20T10:00:00+05:00");
    let mut paths_run = 0;
    for p in &processes {
        let (office, clock) = provider_office(&calendars, &p.regulation.region);
        for channel in &p.regulation.channels {
            let (list, truncated) = paths::channel_paths(p, &channel.id, DEFAULT_DAY_MINUTES, 500);
            assert!(!truncated && !list.is_empty(), "{} {}", p.id(), channel.id);
            for path in &list {
                let decisions: BTreeMap<String, String> = path
                    .steps
                    .iter()
                    .zip(&path.outcomes)
                    .filter_map(|(&s, o)| Some((p.step(s).id().to_string(), o.clone()?)))
                    .collect();
                let scenario = Scenario {
                    channel: channel.id.clone(),
                    office: office.clone(),
                    start,
                    decisions,
                    data: None,
                    documents_missing: false,
                    pace: Pace::Due,
                };
                let label = format!(
                    "{} / {} / {:?}",
                    p.id(),
                    channel.id,
                    path.outcomes.iter().flatten().collect::<Vec<_>>()
                );
                let sim =
                    simulate::run(p, &clock, &scenario).unwrap_or_else(|e| panic!("{label}: {e}"));
                let Step::End(end) = p.step(*path.steps.last().expect("path")) else {
                    panic!("{label}: path ends at an end")
                };
                assert_eq!(sim.state.status, CaseStatus::Ended(end.result), "{label}");
                // The tasks opened are the path's tasks and system steps, in order.
                let opened: Vec<String> = sim
                    .events
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::TaskOpened { step, .. } => Some(step.to_string()),
                        _ => None,
                    })
                    .collect();
                let expected: Vec<String> = path
                    .steps
                    .iter()
                    .filter(|&&s| matches!(p.step(s), Step::Task(_) | Step::System(_)))
                    .map(|&s| p.step(s).id().to_string())
                    .collect();
                assert_eq!(opened, expected, "{label}");
                check_due_instants(p, &clock, &channel.id, &sim.events, &label);
                paths_run += 1;
            }
        }
    }
    assert!(paths_run >= 30, "only {paths_run} paths");
}

/// Each task's due is its step's duration for the channel, counted on the office's calendar
/// from when it opened (from registration for the first task); the case's is the channel's term.
fn check_due_instants(
    p: &Process,
    clock: &OfficeClock,
    channel: &str,
    events: &[reglament_runtime::Event],
    label: &str,
) {
    let mut registered = None;
    let mut first = true;
    for e in events {
        match &e.kind {
            EventKind::CaseStarted {
                registered_at,
                deadline,
                ..
            } => {
                registered = Some(*registered_at);
                let ch = p.channel(channel).expect("channel");
                let want = ch.term.as_ref().map(|term| {
                    clock
                        .due(e.at, term.duration, &ch.counting)
                        .expect("due")
                        .at
                });
                assert_eq!(
                    deadline.as_ref().map(|d| d.due),
                    want,
                    "{label}: statutory due"
                );
                if let Some(d) = deadline {
                    assert_eq!(&*d.calendar_version, clock.version(), "{label}");
                }
            }
            EventKind::TaskOpened { step, deadline, .. } => {
                let s = p.step_index(step).expect("step");
                let base = if first {
                    registered.expect("started")
                } else {
                    e.at
                };
                first = false;
                let want = p
                    .duration(s, channel)
                    .map(|term| clock.due(base, term, &Counting::default()).expect("due").at);
                assert_eq!(
                    deadline.as_ref().map(|d| d.due),
                    want,
                    "{label}: task {step}"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn hand_checked_dates_of_three_regulations() {
    let (calendars, processes) = load_all();
    let find = |id: &str| processes.iter().find(|p| p.id() == id).expect(id).clone();
    // Atyrau, individual assistant, provider office, Friday 20 March 2026 10:00 (+05):
    // Nauryz days off 23–25 March; ten working days end Wednesday 8 April 18:00.
    let p = find("atyrau-individual-assistant");
    let (office, clock) = provider_office(&calendars, "atyrau");
    let sim = simulate::run(
        &p,
        &clock,
        &Scenario {
            channel: "provider".into(),
            office,
            start: t("2026-03-20T10:00:00+05:00"),
            decisions: BTreeMap::new(),
            data: None,
            documents_missing: false,
            pace: Pace::Due,
        },
    )
    .expect("runs");
    let dues: Vec<(String, DateTime<Utc>)> = sim
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::TaskOpened { step, deadline, .. } => {
                Some((step.to_string(), deadline.as_ref()?.due))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        dues,
        vec![
            ("register".to_string(), t("2026-03-20T10:15:00+05:00")),
            (
                "assign_executor".to_string(),
                t("2026-03-20T10:30:00+05:00")
            ),
            // Ten working days from Friday 10:30: 26, 27, 30, 31 March, 1, 2, 3, 6, 7, 8 April.
            ("review".to_string(), t("2026-04-08T18:00:00+05:00")),
            // Fifteen minutes from the close of 8 April: Thursday 9 April 09:15.
            ("sign".to_string(), t("2026-04-09T09:15:00+05:00")),
            // One working day from 09:15 on Thursday: the close of Friday 10 April.
            ("issue".to_string(), t("2026-04-10T18:00:00+05:00")),
        ]
    );
    assert!(
        sim.events.iter().any(|e| matches!(&e.kind, EventKind::DeadlineBreached { due, .. } if *due == t("2026-04-08T18:00:00+05:00"))),
        "the paper's own durations breach its term: the linter's W100, seen in real dates"
    );

    // North Kazakhstan, portal, Saturday 7 March 2026 22:00 (+05): registered at the next
    // opening of the district office, Tuesday 10 March 09:00 (9 March is the day off for
    // 8 March, a Sunday). The office works 09:00–17:30 with lunch 13:00–14:30.
    let p = find("nko-social-assistance");
    let (office, clock) = provider_office(&calendars, "north-kazakhstan");
    let sim = simulate::run(
        &p,
        &clock,
        &Scenario {
            channel: "portal".into(),
            office,
            start: t("2026-03-07T22:00:00+05:00"),
            decisions: BTreeMap::new(),
            data: None,
            documents_missing: true,
            pace: Pace::Instant,
        },
    )
    .expect("runs");
    let EventKind::CaseStarted { registered_at, .. } = &sim.events[0].kind else {
        panic!()
    };
    assert_eq!(*registered_at, t("2026-03-10T09:00:00+05:00"));
    let extended = sim.events.iter().find_map(|e| match &e.kind {
        EventKind::DocumentsMissing { deadline, .. } => deadline.as_ref().map(|d| d.due),
        _ => None,
    });
    // Twenty working days, counted from the day after registration (Tuesday 10 March):
    // March 11–13 (3), 16–20 (8), 26–27 (10; 23–25 are Nauryz), 30–31 (12), April 1–3 (15),
    // 6–10 (20): Friday 10 April at 17:30.
    assert_eq!(extended, Some(t("2026-04-10T17:30:00+05:00")));
}

/// Path sums count each step on the working day of the office where it is done. In North
/// Kazakhstan a department works 7 hours (09:00–17:30, lunch 13:00–14:30) and a rural akim 8
/// (09:00–18:00, lunch 13:00–14:00); the akim channel's term runs at the akim's office, so its
/// path is counted in 8-hour days and the department's hours are shares of its 7-hour day.
#[test]
fn path_sums_count_each_step_on_its_own_office_day() {
    let (calendars, processes) = load_all();
    let nko = processes
        .iter()
        .find(|p| p.regulation.id == "nko-social-assistance")
        .expect("bundled");
    let days = calendars
        .regions()
        .find(|r| r.id() == "north-kazakhstan")
        .expect("region")
        .day_lengths();
    assert_eq!(days.kinds.get(&OfficeKind::ProviderOffice), Some(&420));
    assert_eq!(days.kinds.get(&OfficeKind::RuralAkim), Some(&480));

    // Provider channel, all at the department: 15 min + 2 h + 1 d + 5 d + 1 d + 30 min,
    // days of 420 minutes: 7 days 2 h 45 min (3,105 minutes).
    let provider = paths::longest_path(nko, "provider", &days).expect("path");
    assert_eq!(provider.minutes, 15 + 120 + 420 + 5 * 420 + 420 + 30);
    assert_eq!(
        paths::format_minutes(provider.minutes, paths::term_day(nko, "provider", &days)),
        "7 working days 2 h 45 min"
    );

    // Akim channel, in the akim's 480-minute days: akim 15 min + 2 d, department 15 min
    // (15·480/420 = 17.1 → 17), 2 h (137.1 → 137), 1 d, 4 d, 1 d, 30 min (34.3 → 34), akim
    // 30 min.
    let akim = paths::longest_path(nko, "rural_akim", &days).expect("path");
    assert_eq!(
        akim.minutes,
        15 + 960 + 17 + 137 + 480 + 1920 + 480 + 34 + 30
    );
    assert_eq!(paths::term_day(nko, "rural_akim", &days), 480);
    assert_eq!(
        paths::format_minutes(akim.minutes, 480),
        "8 working days 3 h 53 min"
    );

    // With one eight-hour day everywhere, as before, the department's hours count in full.
    let flat = paths::longest_path(nko, "rural_akim", DEFAULT_DAY_MINUTES).expect("path");
    assert_eq!(
        flat.minutes,
        15 + 960 + 15 + 120 + 480 + 1920 + 480 + 30 + 30
    );
}

/// The linter's W100 on a channel whose path crosses offices names each office's day, and
/// `validate` with the region's offices at hand uses them.
#[test]
fn lint_counts_a_service_centre_channel_on_the_centres_day() {
    let root = regulations_dir();
    let calendars = Calendars::load(&root).expect("calendars");
    let known = validate::Known {
        regions: calendars.regions().map(|r| r.id().to_string()).collect(),
        calendars: calendars.nationals().map(|c| c.id().to_string()).collect(),
        days: calendars.day_lengths(),
    };
    let report = validate::check_file(&root.join("atyrau/atyrau-child-benefit.yaml"), Some(&known));
    let w100 = report
        .diagnostics
        .iter()
        .find(|d| d.message.contains("channel `centre`"))
        .expect("the centre channel's path is over its term");
    let note = w100.notes.join("\n");
    assert!(
        note.contains("a working day (at a service_centre) is counted as 660 working minutes"),
        "{note}"
    );
    assert!(note.contains("provider_office 480"), "{note}");
}

//! Hand-checked deadlines on Kazakhstan's calendar. Every expected value was worked out by
//! hand from the tables in kz-calendar.md §2–3 (the dates off, the transfers, Kurban Ait,
//! the 2024 time-zone change) and the office hours in `regulations/offices/`.
//! Without an office the standard schedule applies: Mon–Fri 09:00–13:00, 14:00–18:00,
//! Asia/Almaty (+06 before 2024-03-01, +05 since).

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use reglament_calendar::{CalendarError, Calendars};
use reglament_model::duration::Term;
use reglament_model::model::Counting;

fn calendars() -> &'static Calendars {
    static CALS: OnceLock<Calendars> = OnceLock::new();
    CALS.get_or_init(|| {
        Calendars::load(&reglament_suite::regulations_dir()).unwrap_or_else(|e| {
            panic!(
                "{}",
                e.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
    })
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

const X: bool = true; // receipt_and_issue_days_excluded
const O: bool = false;

/// (office or "" for the standard schedule, arrival, term, excluded days, due in local time, why)
const DUE: &[(&str, &str, &str, bool, &str, &str)] = &[
    // New Year.
    (
        "",
        "2025-12-31T10:00:00+05:00",
        "1 working day",
        O,
        "2026-01-05T18:00:00+05:00",
        "Jan 1-2 Thu-Fri off, weekend",
    ),
    (
        "",
        "2025-12-31T10:00:00+05:00",
        "3 working days",
        O,
        "2026-01-08T18:00:00+05:00",
        "Jan 5, 6, (7 Christmas), 8",
    ),
    (
        "",
        "2024-12-30T12:00:00+05:00",
        "2 working days",
        O,
        "2025-01-05T18:00:00+05:00",
        "Dec 31, then the worked Sunday Jan 5",
    ),
    (
        "",
        "2024-12-31T17:59:00+05:00",
        "15 minutes",
        O,
        "2025-01-05T09:14:00+05:00",
        "1 min, then the worked Sunday",
    ),
    (
        "",
        "2025-01-03T10:00:00+05:00",
        "1 hour",
        O,
        "2025-01-05T10:00:00+05:00",
        "Jan 3 is the transferred day off",
    ),
    (
        "",
        "2025-01-05T12:00:00+05:00",
        "1 working day",
        O,
        "2025-01-06T18:00:00+05:00",
        "registered on the worked Sunday",
    ),
    (
        "",
        "2025-01-06T09:00:00+05:00",
        "1 working day",
        O,
        "2025-01-08T18:00:00+05:00",
        "Jan 7 Orthodox Christmas",
    ),
    (
        "",
        "2023-12-29T16:00:00+06:00",
        "4 hours",
        O,
        "2024-01-03T11:00:00+06:00",
        "2 h on Dec 29, Jan 1-2 off",
    ),
    (
        "",
        "2026-12-31T20:00:00+05:00",
        "1 working day",
        O,
        "2027-01-06T18:00:00+05:00",
        "Jan 2 2027 Sat moves to Mon Jan 4; registered Jan 5",
    ),
    (
        "",
        "2026-12-31T20:00:00+05:00",
        "2 working days",
        O,
        "2027-01-08T18:00:00+05:00",
        "Jan 6, (7 Christmas), 8",
    ),
    (
        "",
        "2012-01-03T10:00:00+06:00",
        "1 working day",
        O,
        "2012-01-05T18:00:00+06:00",
        "Jan 1 2012 Sun moves past Jan 2 to Jan 3",
    ),
    // Nauryz 2025: Fri 21 off, Sat 22 and Sun 23 stack onto Mon 24 and Tue 25; Mar 8 Sat gives Mon 10.
    (
        "",
        "2025-03-20T10:00:00+05:00",
        "1 working day",
        O,
        "2025-03-26T18:00:00+05:00",
        "21, 24, 25 off",
    ),
    (
        "",
        "2025-03-20T17:30:00+05:00",
        "1 hour",
        O,
        "2025-03-26T09:30:00+05:00",
        "30 min, then Mar 26",
    ),
    (
        "",
        "2025-03-20T12:00:00+05:00",
        "5 working days",
        O,
        "2025-04-01T18:00:00+05:00",
        "26, 27, 28, 31, Apr 1",
    ),
    (
        "",
        "2025-03-07T15:00:00+05:00",
        "1 working day",
        O,
        "2025-03-11T18:00:00+05:00",
        "Mon 10 moved from Sat 8",
    ),
    (
        "",
        "2025-03-21T11:00:00+05:00",
        "2 working days",
        O,
        "2025-03-28T18:00:00+05:00",
        "portal on a holiday: registered Mar 26",
    ),
    (
        "",
        "2025-03-19T10:00:00+05:00",
        "10 calendar days",
        O,
        "2025-03-31T18:00:00+05:00",
        "Mar 29 is a Saturday",
    ),
    (
        "",
        "2025-03-14T10:00:00+05:00",
        "10 calendar days",
        O,
        "2025-03-26T18:00:00+05:00",
        "Mar 24 off, 25 off",
    ),
    (
        "",
        "2025-03-14T10:00:00+05:00",
        "10 calendar days",
        X,
        "2025-03-27T18:00:00+05:00",
        "issue day after the term's last day (26)",
    ),
    (
        "",
        "2025-03-19T10:00:00+05:00",
        "5 working days",
        X,
        "2025-04-01T18:00:00+05:00",
        "20, 26, 27, 28, 31 + issue day",
    ),
    // Nauryz 2026: Sat 21 and Sun 22 move to Tue 24 and Wed 25; Mon 23 off.
    (
        "",
        "2026-03-20T17:45:00+05:00",
        "5 working days",
        O,
        "2026-04-01T18:00:00+05:00",
        "26, 27, 30, 31, Apr 1",
    ),
    (
        "",
        "2026-03-20T17:45:00+05:00",
        "30 calendar days",
        O,
        "2026-04-20T18:00:00+05:00",
        "Apr 19 is a Sunday",
    ),
    (
        "",
        "2026-03-20T17:45:00+05:00",
        "30 calendar days",
        X,
        "2026-04-21T18:00:00+05:00",
        "then the issue day",
    ),
    (
        "",
        "2026-03-20T17:45:00+05:00",
        "10 working days",
        X,
        "2026-04-09T18:00:00+05:00",
        "10th is Apr 8, issue Apr 9",
    ),
    // 2024: Sat May 4 worked, Wed May 8 off.
    (
        "",
        "2024-05-03T17:00:00+05:00",
        "2 hours",
        O,
        "2024-05-04T10:00:00+05:00",
        "the worked Saturday keeps Wednesday's hours",
    ),
    (
        "",
        "2024-05-03T12:00:00+05:00",
        "1 working day",
        O,
        "2024-05-04T18:00:00+05:00",
        "the worked Saturday",
    ),
    (
        "",
        "2024-05-04T12:00:00+05:00",
        "1 working day",
        O,
        "2024-05-06T18:00:00+05:00",
        "registered on the worked Saturday",
    ),
    (
        "",
        "2024-05-06T12:00:00+05:00",
        "1 working day",
        O,
        "2024-05-10T18:00:00+05:00",
        "May 7, 8 (transfer), 9 off",
    ),
    (
        "",
        "2024-04-30T12:00:00+05:00",
        "3 working days",
        O,
        "2024-05-04T18:00:00+05:00",
        "May 1 off; 2, 3, Sat 4",
    ),
    (
        "",
        "2024-05-04T08:00:00+05:00",
        "15 minutes",
        O,
        "2024-05-04T09:15:00+05:00",
        "before opening on the worked Saturday",
    ),
    (
        "",
        "2024-05-05T10:00:00+05:00",
        "15 minutes",
        O,
        "2024-05-06T09:15:00+05:00",
        "an ordinary Sunday",
    ),
    // 2025: Sun Jan 5 worked.
    (
        "",
        "2025-01-04T23:30:00+05:00",
        "1 working day",
        O,
        "2025-01-06T18:00:00+05:00",
        "portal on Saturday night: registered Sun Jan 5",
    ),
    // Kurban Ait.
    (
        "",
        "2024-06-14T12:00:00+05:00",
        "1 working day",
        O,
        "2024-06-17T18:00:00+05:00",
        "moved to Sun 06-16, so Mon 06-17 works",
    ),
    (
        "",
        "2024-06-14T17:30:00+05:00",
        "1 hour",
        O,
        "2024-06-17T09:30:00+05:00",
        "Mon 06-17 works",
    ),
    (
        "",
        "2025-06-05T12:00:00+05:00",
        "1 working day",
        O,
        "2025-06-09T18:00:00+05:00",
        "Fri 06-06 Kurban Ait",
    ),
    (
        "",
        "2026-05-26T12:00:00+05:00",
        "1 working day",
        O,
        "2026-05-28T18:00:00+05:00",
        "Wed 05-27 Kurban Ait",
    ),
    // 2026 without 30 August.
    (
        "",
        "2026-08-28T12:00:00+05:00",
        "1 working day",
        O,
        "2026-08-31T18:00:00+05:00",
        "Mon 08-31 is a working day in 2026",
    ),
    (
        "",
        "2026-08-28T17:00:00+05:00",
        "2 hours",
        O,
        "2026-08-31T10:00:00+05:00",
        "Mon 08-31 works",
    ),
    (
        "",
        "2025-08-29T12:00:00+05:00",
        "1 working day",
        O,
        "2025-09-02T18:00:00+05:00",
        "2025: Sat 08-30 gives Mon 09-01 off",
    ),
    // Lunch-break boundaries.
    (
        "",
        "2026-03-02T12:30:00+05:00",
        "30 minutes",
        O,
        "2026-03-02T13:00:00+05:00",
        "ends at the start of lunch",
    ),
    (
        "",
        "2026-03-02T12:30:00+05:00",
        "31 minutes",
        O,
        "2026-03-02T14:01:00+05:00",
        "one minute after lunch",
    ),
    (
        "",
        "2026-03-02T13:30:00+05:00",
        "15 minutes",
        O,
        "2026-03-02T14:15:00+05:00",
        "arrives at lunch",
    ),
    (
        "",
        "2026-03-02T13:00:00+05:00",
        "1 minute",
        O,
        "2026-03-02T14:01:00+05:00",
        "arrives as lunch starts",
    ),
    (
        "",
        "2026-03-02T14:00:00+05:00",
        "4 hours",
        O,
        "2026-03-02T18:00:00+05:00",
        "ends at closing",
    ),
    (
        "",
        "2026-03-02T09:00:00+05:00",
        "8 hours",
        O,
        "2026-03-02T18:00:00+05:00",
        "a full day",
    ),
    (
        "",
        "2026-03-02T09:00:00+05:00",
        "9 hours",
        O,
        "2026-03-03T10:00:00+05:00",
        "a day and an hour",
    ),
    // Starts at 17:59 and at 08:00.
    (
        "",
        "2026-03-02T17:59:00+05:00",
        "15 minutes",
        O,
        "2026-03-03T09:14:00+05:00",
        "1 min + 14 min",
    ),
    (
        "",
        "2026-03-02T08:00:00+05:00",
        "15 minutes",
        O,
        "2026-03-02T09:15:00+05:00",
        "starts at opening",
    ),
    (
        "",
        "2026-03-02T08:00:00+05:00",
        "1 working day",
        O,
        "2026-03-03T18:00:00+05:00",
        "registered Mon 09:00",
    ),
    (
        "",
        "2026-03-02T17:59:00+05:00",
        "1 working day",
        O,
        "2026-03-03T18:00:00+05:00",
        "registered Mon 17:59",
    ),
    (
        "",
        "2026-03-02T18:00:00+05:00",
        "1 working day",
        O,
        "2026-03-04T18:00:00+05:00",
        "at closing: registered Tue",
    ),
    (
        "",
        "2026-03-06T17:59:00+05:00",
        "2 hours",
        O,
        "2026-03-10T10:59:00+05:00",
        "Mon 03-09 moved from Sun 03-08",
    ),
    // After-hours portal submissions.
    (
        "",
        "2026-03-06T22:00:00+05:00",
        "1 working day",
        O,
        "2026-03-11T18:00:00+05:00",
        "registered Tue 03-10",
    ),
    (
        "",
        "2026-03-07T11:00:00+05:00",
        "15 minutes",
        O,
        "2026-03-10T09:15:00+05:00",
        "Saturday",
    ),
    (
        "",
        "2024-02-29T23:30:00+05:00",
        "15 minutes",
        O,
        "2024-03-01T09:15:00+05:00",
        "in the hour that happened twice",
    ),
    // The time-zone change of 2024-03-01 in Asia/Almaty.
    (
        "",
        "2024-02-29T17:00:00+06:00",
        "2 hours",
        O,
        "2024-03-01T10:00:00+05:00",
        "1 h at +06, 1 h at +05",
    ),
    (
        "",
        "2024-02-29T12:00:00+06:00",
        "1 working day",
        O,
        "2024-03-01T18:00:00+05:00",
        "closing in the new offset",
    ),
    (
        "",
        "2024-02-28T10:00:00+06:00",
        "3 working days",
        O,
        "2024-03-04T18:00:00+05:00",
        "Feb 29, Mar 1, Mar 4",
    ),
    (
        "atyrau-city-ozsp",
        "2024-02-29T17:30:00+05:00",
        "1 hour",
        O,
        "2024-03-01T09:30:00+05:00",
        "Atyrau stays at +05",
    ),
    // North Kazakhstan: provider offices 09:00-17:30, lunch 13:00-14:30; rural akims 09:00-18:00.
    (
        "nko-aiyrtau-ozsp",
        "2026-03-02T12:30:00+05:00",
        "1 hour",
        O,
        "2026-03-02T15:00:00+05:00",
        "30 min, lunch to 14:30, 30 min",
    ),
    (
        "nko-aiyrtau-ozsp",
        "2026-03-02T17:15:00+05:00",
        "30 minutes",
        O,
        "2026-03-03T09:15:00+05:00",
        "closes at 17:30",
    ),
    (
        "nko-aiyrtau-ozsp",
        "2026-03-02T17:30:00+05:00",
        "1 working day",
        O,
        "2026-03-04T17:30:00+05:00",
        "after closing: registered Tue",
    ),
    (
        "nko-aiyrtau-arykbalyk-akim",
        "2026-03-02T17:30:00+05:00",
        "1 working day",
        O,
        "2026-03-03T18:00:00+05:00",
        "the akim is open until 18:00",
    ),
    (
        "nko-petropavl-ozsp",
        "2023-06-27T12:00:00+06:00",
        "1 working day",
        O,
        "2023-06-29T17:30:00+06:00",
        "Kurban Ait 2023-06-28, +06 then",
    ),
    // Atyrau service centre (09:00-20:00; Saturday hours are reception only).
    (
        "atyrau-tson-oblast",
        "2026-03-20T19:30:00+05:00",
        "10 working days",
        X,
        "2026-04-09T20:00:00+05:00",
        "regulation 5: in the centre, days of receipt and issue excluded",
    ),
    (
        "atyrau-tson-oblast",
        "2026-03-28T10:00:00+05:00",
        "1 working day",
        O,
        "2026-03-31T20:00:00+05:00",
        "Saturday reception counts from Monday",
    ),
    // 2020-05-11: the decree cancelled the day off that Sat May 9 would have given.
    (
        "",
        "2020-05-08T10:00:00+06:00",
        "1 hour",
        O,
        "2020-05-11T10:00:00+06:00",
        "May 8 off by transfer, Mon 11 works",
    ),
    // A long term costs the same and crosses a year.
    (
        "",
        "2026-01-05T10:00:00+05:00",
        "250 working days",
        O,
        "2027-01-11T18:00:00+05:00",
        "246 left in 2026, then Jan 5, 6, 8, 11",
    ),
];

/// (office, from, to, working minutes)
const ELAPSED: &[(&str, &str, &str, i64)] = &[
    (
        "",
        "2026-03-02T09:00:00+05:00",
        "2026-03-02T18:00:00+05:00",
        480,
    ),
    (
        "",
        "2026-03-02T12:00:00+05:00",
        "2026-03-02T14:30:00+05:00",
        90,
    ),
    (
        "",
        "2026-03-20T17:00:00+05:00",
        "2026-03-26T10:00:00+05:00",
        120,
    ),
    (
        "",
        "2024-02-29T17:00:00+06:00",
        "2024-03-01T10:00:00+05:00",
        120,
    ),
    (
        "",
        "2025-01-03T00:00:00+05:00",
        "2025-01-06T00:00:00+05:00",
        480,
    ),
    (
        "",
        "2026-03-02T18:00:00+05:00",
        "2026-03-02T09:00:00+05:00",
        -480,
    ),
    (
        "",
        "2026-03-02T19:00:00+05:00",
        "2026-03-03T08:00:00+05:00",
        0,
    ),
    (
        "nko-aiyrtau-ozsp",
        "2026-03-02T12:00:00+05:00",
        "2026-03-02T15:00:00+05:00",
        90,
    ),
];

#[test]
fn hand_checked_due_instants() {
    let cals = calendars();
    let mut failures = Vec::new();
    for (office, from, term, excluded, want, why) in DUE {
        let office = (!office.is_empty()).then_some(*office);
        let clock = cals.clock(office).unwrap();
        let term: Term = term.parse().unwrap();
        let counting = Counting {
            receipt_and_issue_days_excluded: *excluded,
        };
        let got = clock
            .due(t(from), term, &counting)
            .map(|d| clock.to_local(d.at).to_rfc3339());
        if got.as_deref() != Ok(*want) {
            failures.push(format!(
                "{office:?} {from} + {term} ({why}): want {want}, got {got:?}"
            ));
        }
    }
    assert!(DUE.len() >= 60);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hand_checked_elapsed_time() {
    let cals = calendars();
    for (office, from, to, want) in ELAPSED {
        let clock = cals.clock((!office.is_empty()).then_some(*office)).unwrap();
        assert_eq!(
            clock.elapsed_minutes(t(from), t(to)),
            Ok(*want),
            "{office} {from} → {to}"
        );
    }
}

#[test]
fn registration_instants() {
    let clock = calendars().standard_clock().unwrap();
    for (at, want) in [
        ("2026-03-02T10:00:00+05:00", "2026-03-02T10:00:00+05:00"),
        ("2026-03-02T13:15:00+05:00", "2026-03-02T14:00:00+05:00"),
        ("2026-03-02T18:00:00+05:00", "2026-03-03T09:00:00+05:00"),
        ("2025-03-22T12:00:00+05:00", "2025-03-26T09:00:00+05:00"),
        ("2024-05-04T07:00:00+05:00", "2024-05-04T09:00:00+05:00"),
    ] {
        let got = clock.registration_instant(t(at)).unwrap();
        assert_eq!(clock.to_local(got).to_rfc3339(), want, "{at}");
    }
}

#[test]
fn outside_the_calendar_is_an_error() {
    let clock = calendars().standard_clock().unwrap();
    let none = Counting::default();
    // Past the decreed years the provisional ones count (and say so)…
    let due = clock
        .due(
            t("2027-12-20T10:00:00+05:00"),
            Term::working_days(10),
            &none,
        )
        .unwrap();
    assert!(due.provisional);
    // …to the end of the last one.
    let err = clock
        .due(
            t("2057-12-20T10:00:00+05:00"),
            Term::working_days(10),
            &none,
        )
        .unwrap_err();
    assert!(matches!(err, CalendarError::BeyondHorizon { .. }), "{err}");
    let err = clock
        .due(t("2011-12-30T10:00:00+06:00"), Term::minutes(15), &none)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "2011-12-30 is outside the years the calendar `kz` covers (2012–2057); add the year's holidays and transfers to the calendar data"
    );
    assert!(
        clock
            .due(
                t("2057-12-31T10:00:00+05:00"),
                Term::calendar_days(1),
                &none
            )
            .unwrap_err()
            .is_beyond_horizon()
    );
    assert!(
        clock
            .elapsed_minutes(
                t("2026-01-05T10:00:00+05:00"),
                t("2058-01-05T10:00:00+05:00")
            )
            .is_err()
    );
}

#[test]
fn due_carries_the_calendar_version() {
    let cals = calendars();
    let clock = cals.clock(Some("atyrau-city-ozsp")).unwrap();
    let due = clock
        .due(
            t("2026-03-02T10:00:00+05:00"),
            Term::hours(2),
            &Counting::default(),
        )
        .unwrap();
    assert_eq!(due.calendar_version, clock.version());
    assert_eq!(due.calendar_version.len(), 16);
    assert!(due.calendar_version.bytes().all(|b| b.is_ascii_hexdigit()));
}

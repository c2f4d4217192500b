//! The national calendar against two independent sources:
//! 1. the table «Historical non-working weekdays and working weekend days (2012–2026)» of
//!    kz-calendar.md §3 (python-holidays 0.109 plus its transfer table), copied here as
//!    literals so the test does not depend on the research notes being present;
//! 2. python's `holidays` package itself, run by `tests/oracle/kz_holidays.py`, for
//!    2019–2027. Every difference must be listed, with its reason, under
//!    `oracle_differences:` in `regulations/calendars/kz.yaml`;
//! 3. the same package for the provisional years 2028–2057, which we generate from the
//!    rules of the law as it does: every day agrees but Kurban Ait, which each side
//!    estimates with its own table, within a day.

use std::collections::BTreeSet;
use std::process::Command;

use chrono::{Datelike, NaiveDate, Weekday};
use reglament_calendar::{DayStatus, WorkCalendar, load_national};

fn kz() -> WorkCalendar {
    load_national(&reglament_suite::regulations_dir().join("calendars/kz.yaml")).unwrap_or_else(
        |e| {
            panic!(
                "{}",
                e.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        },
    )
}

/// (year, non-working weekdays, working weekend days, working days in the year)
const TABLE: &[(i32, &str, &str, u32)] = &[
    (
        2012,
        "01-02, 01-03, 03-08, 03-09, 03-21, 03-22, 03-23, 04-30, 05-01, 05-09, 07-06, 08-30, 10-26, 12-03, 12-17, 12-18, 12-31",
        "03-11, 04-28, 12-29",
        247,
    ),
    (
        2013,
        "01-01, 01-02, 01-07, 03-08, 03-21, 03-22, 03-25, 05-01, 05-07, 05-09, 05-10, 07-08, 08-30, 10-14, 10-15, 12-02, 12-16, 12-17",
        "05-04, 10-12, 12-28",
        246,
    ),
    (
        2014,
        "01-01, 01-02, 01-03, 01-07, 03-10, 03-21, 03-24, 03-25, 05-01, 05-02, 05-07, 05-08, 05-09, 07-07, 09-01, 12-01, 12-16, 12-17",
        "05-04, 05-11",
        245,
    ),
    (
        2015,
        "01-01, 01-02, 01-07, 03-09, 03-23, 03-24, 03-25, 05-01, 05-07, 05-11, 07-06, 08-31, 09-24, 12-01, 12-16, 12-17",
        "",
        245,
    ),
    (
        2016,
        "01-01, 01-04, 01-07, 03-07, 03-08, 03-21, 03-22, 03-23, 05-02, 05-09, 05-10, 07-06, 08-30, 09-12, 12-01, 12-16, 12-19",
        "03-05",
        245,
    ),
    (
        2017,
        "01-02, 01-03, 03-08, 03-20, 03-21, 03-22, 03-23, 05-01, 05-08, 05-09, 07-06, 07-07, 08-30, 09-01, 12-01, 12-18, 12-19",
        "03-18, 07-01",
        245,
    ),
    (
        2018,
        "01-01, 01-02, 03-08, 03-09, 03-21, 03-22, 03-23, 04-30, 05-01, 05-07, 05-08, 05-09, 07-06, 08-21, 08-30, 08-31, 12-03, 12-17, 12-18, 12-31",
        "03-03, 04-28, 05-05, 08-25, 12-29",
        246,
    ),
    (
        2019,
        "01-01, 01-02, 01-07, 03-08, 03-21, 03-22, 03-25, 05-01, 05-07, 05-09, 05-10, 07-08, 08-30, 12-02, 12-16, 12-17",
        "05-04",
        246,
    ),
    (
        2020,
        "01-01, 01-02, 01-03, 01-07, 03-09, 03-23, 03-24, 03-25, 05-01, 05-07, 05-08, 07-06, 07-31, 08-31, 12-01, 12-16, 12-17, 12-18",
        "01-05, 12-20",
        246,
    ),
    (
        2021,
        "01-01, 01-04, 01-07, 03-08, 03-22, 03-23, 03-24, 05-03, 05-07, 05-10, 07-05, 07-06, 07-20, 08-30, 12-01, 12-16, 12-17",
        "07-03",
        245,
    ),
    (
        2022,
        "01-03, 01-04, 01-07, 03-07, 03-08, 03-21, 03-22, 03-23, 05-02, 05-09, 05-10, 07-06, 08-29, 08-30, 10-24, 10-25, 12-16",
        "03-05, 08-27, 10-22",
        246,
    ),
    (
        2023,
        "01-02, 01-03, 03-08, 03-21, 03-22, 03-23, 05-01, 05-08, 05-09, 06-28, 07-06, 07-07, 08-30, 10-25, 12-18",
        "07-01",
        246,
    ),
    (
        2024,
        "01-01, 01-02, 03-08, 03-21, 03-22, 03-25, 05-01, 05-07, 05-08, 05-09, 07-08, 08-30, 10-25, 12-16",
        "05-04",
        249,
    ),
    (
        2025,
        "01-01, 01-02, 01-03, 01-07, 03-10, 03-21, 03-24, 03-25, 05-01, 05-07, 05-09, 06-06, 07-07, 09-01, 10-27, 12-16",
        "01-05",
        246,
    ),
    (
        2026,
        "01-01, 01-02, 01-07, 03-09, 03-23, 03-24, 03-25, 05-01, 05-07, 05-11, 05-27, 07-06, 10-26, 12-16",
        "",
        247,
    ),
];

fn weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn year_days(year: i32) -> impl Iterator<Item = NaiveDate> {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .unwrap()
        .iter_days()
        .take_while(move |d| d.year() == year)
}

/// Non-working weekdays, working weekend days and the number of working days, by our data.
fn ours(cal: &WorkCalendar, year: i32) -> (Vec<String>, Vec<String>, u32) {
    let (mut off, mut worked, mut n) = (Vec::new(), Vec::new(), 0);
    for d in year_days(year) {
        let working = cal.is_working_day(d).unwrap();
        n += u32::from(working);
        if weekend(d) && working {
            worked.push(d.format("%m-%d").to_string());
        } else if !weekend(d) && !working {
            off.push(d.format("%m-%d").to_string());
        }
    }
    (off, worked, n)
}

fn split(list: &str) -> Vec<String> {
    list.split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn matches_the_reference_table_2012_2026() {
    let cal = kz();
    for (year, off, worked, count) in TABLE {
        let (o, w, n) = ours(&cal, *year);
        assert_eq!(o, split(off), "{year}: non-working weekdays");
        assert_eq!(w, split(worked), "{year}: working weekend days");
        assert_eq!(n, *count, "{year}: working days");
    }
}

/// Runs python-holidays for `first..=last` (with `--eid`: the dates of Eid al-Adha too):
/// its version and its lines, or `None` (said loudly) when it is not installed outside CI.
fn oracle(first: i32, last: i32, eid: bool) -> Option<(String, Vec<String>)> {
    let script = reglament_suite::repo_root().join("tests/oracle/kz_holidays.py");
    let mut command = Command::new("python3");
    command
        .arg(&script)
        .args([first.to_string(), last.to_string()]);
    if eid {
        command.arg("--eid");
    }
    let output = command.output();
    // In CI the oracle is installed by .ci/calendar-oracle.sh: a skip there would hide a failure.
    let must_run = std::env::var("REGLAMENT_CI").is_ok_and(|v| v == "1");
    let output = match output {
        Ok(o) if o.status.success() => o,
        Ok(o) if must_run => panic!(
            "REGLAMENT_CI=1 but the oracle did not run: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) if must_run => panic!("REGLAMENT_CI=1 but python3 did not run: {e}"),
        Ok(o) => {
            eprintln!(
                "\n*** SKIPPED: python holidays not installed ({}) — run .ci/calendar-oracle.sh ***\n",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return None;
        }
        Err(e) => {
            eprintln!("\n*** SKIPPED: python holidays not installed (no python3: {e}) ***\n");
            return None;
        }
    };
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    let version = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("# holidays ")
        .to_string();
    Some((version, lines.map(str::to_string).collect()))
}

#[test]
fn matches_python_holidays_2019_2027_or_explains_why() {
    let Some((version, lines)) = oracle(2019, 2027, false) else {
        return;
    };
    let theirs: BTreeSet<NaiveDate> = lines.iter().map(|l| l.parse().unwrap()).collect();

    let cal = kz();
    let mut mine = BTreeSet::new();
    for year in 2019..=2027 {
        for d in year_days(year) {
            if !weekend(d) && !cal.is_working_day(d).unwrap() {
                mine.insert(d);
            }
        }
    }
    let explained: Vec<(NaiveDate, DayStatus)> = cal
        .data()
        .oracle_differences
        .iter()
        .map(|d| (d.date, d.oracle_says))
        .collect();
    let mut found = Vec::new();
    for d in theirs.difference(&mine) {
        found.push((*d, DayStatus::DayOff));
    }
    for d in mine.difference(&theirs) {
        found.push((*d, DayStatus::Working));
    }
    found.sort_by_key(|(d, _)| *d);
    let unexplained: Vec<_> = found.iter().filter(|f| !explained.contains(f)).collect();
    let stale: Vec<_> = explained.iter().filter(|e| !found.contains(e)).collect();
    assert!(
        unexplained.is_empty(),
        "python holidays ({version}) disagrees on {unexplained:?}: fix kz.yaml or explain each under `oracle_differences:`"
    );
    assert!(
        stale.is_empty(),
        "kz.yaml lists oracle differences that python holidays ({version}) no longer shows: {stale:?}"
    );
    eprintln!(
        "calendar oracle: python holidays {version}: {} non-working weekdays agree",
        mine.len()
    );
}

/// The provisional years (2028–2057), generated from the rules of the law, against
/// python-holidays, which applies the same rules (fixed-date holidays by year, the move of a
/// holiday on Saturday or Sunday to the next working day, religious days not moved). Both
/// estimate Kurban Ait, with different tables: ours is Umm al-Qura (ICU4X), theirs is its own;
/// they may differ by a day. So every year's Kurban Ait dates must pair up within a day, and
/// every other non-working weekday must be the same.
#[test]
fn provisional_years_match_python_holidays_but_for_kurban_ait_estimates() {
    let Some((version, lines)) = oracle(2028, 2057, true) else {
        return;
    };
    let cal = kz();
    assert_eq!((cal.decreed_until(), cal.horizon()), (2027, 2057));
    let mut theirs = BTreeSet::new();
    let mut their_eid = BTreeSet::new();
    for l in &lines {
        match l.strip_prefix("eid ") {
            Some(d) => their_eid.insert(d.parse::<NaiveDate>().unwrap()),
            None => theirs.insert(l.parse::<NaiveDate>().unwrap()),
        };
    }
    let mut mine = BTreeSet::new();
    let mut our_eid = BTreeSet::new();
    for year in 2028..=2057 {
        for d in year_days(year) {
            let info = cal.day_info(d).unwrap();
            assert!(info.provisional, "{d}");
            if !weekend(d) && !info.working {
                mine.insert(d);
            }
            if info.holiday.as_deref() == Some("kurban-ait") && !info.working {
                our_eid.insert(d);
            }
        }
    }
    // Kurban Ait on Nauryz (2032-03-22) is Nauryz for us.
    let kurban_on_nauryz: NaiveDate = "2032-03-22".parse().unwrap();
    our_eid.insert(kurban_on_nauryz);
    assert_eq!(
        our_eid.len(),
        their_eid.len(),
        "{our_eid:?} / {their_eid:?}"
    );
    let mut shifted = 0;
    for (a, b) in our_eid.iter().zip(&their_eid) {
        let gap = (*a - *b).num_days();
        assert!(
            gap.abs() <= 1,
            "Kurban Ait {a} here, {b} in python holidays {version}"
        );
        shifted += usize::from(gap != 0);
    }
    let estimates: BTreeSet<NaiveDate> = our_eid.union(&their_eid).copied().collect();
    let unexplained: Vec<_> = mine
        .symmetric_difference(&theirs)
        .filter(|d| !estimates.contains(d))
        .collect();
    assert!(
        unexplained.is_empty(),
        "python holidays ({version}) disagrees on provisional days other than Kurban Ait: {unexplained:?}"
    );
    eprintln!(
        "calendar oracle: python holidays {version}: 2028–2057 agree on {} non-working weekdays; Kurban Ait within a day every year ({shifted} of {} a day apart)",
        mine.intersection(&theirs).count(),
        our_eid.len()
    );
}

//! Unit tests of the calendar on the bundled Kazakhstan data.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::*;
use reglament_model::duration::Term;
use reglament_model::model::Counting;

const KZ: &str = include_str!("../../../regulations/calendars/kz.yaml");

fn kz() -> WorkCalendar {
    national_from_str(KZ, "kz.yaml").unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn the_bundled_calendar_loads() {
    let cal = kz();
    assert_eq!(cal.range(), (d("2012-01-01"), d("2027-12-31")));
    assert_eq!(cal.version().len(), 16);
    // Only the 2027 Kurban Ait estimate is unconfirmed.
    assert_eq!(cal.warnings().len(), 1, "{:?}", cal.warnings());
}

#[test]
fn classifies_days() {
    let cal = kz();
    let off = |s: &str| !cal.is_working_day(d(s)).unwrap();
    assert!(off("2025-03-24") && off("2025-03-25"));
    assert!(!off("2025-01-05"));
    assert!(!off("2024-06-17"));
    assert!(!off("2026-08-31"));
    assert!(!off("2020-05-11") && off("2020-05-08"));
    let info = cal.day_info(d("2025-03-25")).unwrap();
    assert_eq!(info.kind, DayKind::MovedDayOff);
    assert_eq!(
        info.reason.en.as_deref(),
        Some("Day off moved from Nauryz (2025-03-23)")
    );
    assert!(matches!(
        cal.is_working_day(d("2028-01-03")),
        Err(CalendarError::OutOfRange { .. })
    ));
}

#[test]
fn counts_working_days_per_year_as_the_ministry() {
    let cal = kz();
    for (year, want) in [(2024, 249), (2025, 246), (2026, 247)] {
        let mut n = 0;
        let mut day = d(&format!("{year}-01-01"));
        while day.year() == year {
            n += usize::from(cal.is_working_day(day).unwrap());
            day = day.succ_opt().unwrap();
        }
        assert_eq!(n, want, "{year}");
    }
}

#[test]
fn standard_clock_basics() {
    let clock = OfficeClock::standard(&kz()).unwrap();
    // 60 minutes from 17:00 with close at 18:00 is 18:00 the same day.
    let due = clock
        .add_working_minutes(t("2026-03-19T17:00:00+05:00"), 60)
        .unwrap();
    assert_eq!(due, t("2026-03-19T18:00:00+05:00"));
    let due = clock
        .due(
            t("2026-03-20T17:45:00+05:00"),
            Term::working_days(5),
            &Counting::default(),
        )
        .unwrap();
    // Fri 03-20; 03-23..25 are off (Nauryz and moved days): 26, 27, 30, 31, 04-01.
    assert_eq!(due.at, t("2026-04-01T18:00:00+05:00"));
    assert_eq!(due.calendar_version, clock.version());
}

#[test]
fn unknown_keys_get_a_place_and_a_suggestion() {
    let text = KZ.replacen(
        "weekend: [sat, sun]",
        "weekend: [sat, sun]\nweekends: [sat]",
        1,
    );
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    let line = KZ.lines().position(|l| l.starts_with("weekend:")).unwrap() + 2;
    assert_eq!(
        errs[0].to_string(),
        format!("kz.yaml:{line}:1: error: unknown key `weekends`; did you mean `weekend`?")
    );
}

#[test]
fn collects_several_mistakes() {
    let text = KZ
        .replacen("dates: [05-09]", "dates: [5-9]", 1)
        .replacen(
            "kind: religious\n    dates: [01-07]",
            "kind: religous\n    dates: [01-07]",
            1,
        )
        .replacen("  - day_off: 2024-05-08", "  - day_of: 2024-05-08", 1);
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 3, "{msgs:#?}");
    assert!(
        msgs[0].contains("`religous` is not allowed here; did you mean `religious`?"),
        "{msgs:#?}"
    );
    assert!(
        msgs[1]
            .contains("holidays[6].dates[0]: `5-9` is not valid: expected a month and day, MM-DD"),
        "{msgs:#?}"
    );
    assert!(
        msgs[2].contains("unknown key `day_of` in transfers[25]; did you mean `day_off`?"),
        "{msgs:#?}"
    );
}

#[test]
fn semantic_mistakes_are_placed() {
    let text = KZ.replacen("  - day_off: 2024-05-08", "  - day_off: 2024-05-09", 1);
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    let line = KZ
        .lines()
        .position(|l| l == "  - day_off: 2024-05-08")
        .unwrap()
        + 1;
    assert_eq!(
        errs[0].to_string(),
        format!("kz.yaml:{line}:14: error: 2024-05-09 is already a day off as `victory-day`")
    );
    let start = KZ.find("      - date: 2027-05-16").unwrap();
    let end = start + KZ[start..].find("\n\ntransfers:").unwrap();
    let text = format!("{}{}", &KZ[..start], &KZ[end + 1..]);
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    assert!(
        errs[0]
            .message
            .contains("`kurban-ait` has no date for 2027"),
        "{errs:?}"
    );
}

fn registry() -> Calendars {
    let root = reglament_testkit::regulations_dir();
    Calendars::load(&root).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn the_bundled_offices_load() {
    let cals = registry();
    assert_eq!(
        cals.offices()
            .filter(|o| o.region == "north-kazakhstan")
            .count(),
        18
    );
    assert_eq!(cals.offices().filter(|o| o.region == "atyrau").count(), 18);
    let aiyrtau = cals.office("nko-aiyrtau-ozsp").unwrap();
    assert_eq!(aiyrtau.clock.zone(), chrono_tz::Asia::Almaty);
    let err = cals.office("nko-aiyrtau-ozp").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown office `nko-aiyrtau-ozp`; did you mean `nko-aiyrtau-ozsp`?"
    );
    // Different schedules give different versions; the same schedule shares one.
    let a = cals.clock(Some("atyrau-city-ozsp")).unwrap();
    let b = cals.clock(Some("atyrau-inder-ozsp")).unwrap();
    let c = cals.clock(Some("atyrau-tson-oblast")).unwrap();
    assert_eq!(a.version(), b.version());
    assert_ne!(a.version(), c.version());
    assert_ne!(a.version(), cals.standard_clock().unwrap().version());
}

#[test]
fn offices_mistakes_are_placed() {
    let text = include_str!("../../../regulations/offices/atyrau.yaml")
        .replacen("time_zone: Asia/Atyrau", "time_zone: Asia/Atyrao", 1)
        .replacen("    schedule: ozsp\n", "    schedule: ozps\n", 1)
        .replacen(
            "breaks: [\"13:00-14:00\"]",
            "breaks: [\"12:00-14:00\", \"13:00-13:30\"]",
            1,
        );
    let errs = offices_from_str(&text, "atyrau.yaml").unwrap_err();
    let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    assert!(
        msgs[0].contains("unknown time zone `Asia/Atyrao`; did you mean `Asia/Atyrau`?"),
        "{msgs:#?}"
    );
    assert!(
        msgs[1].contains("the break 13:00-13:30 overlaps another break"),
        "{msgs:#?}"
    );
    assert!(
        msgs[2].contains("unknown schedule `ozps`; did you mean `ozsp`?"),
        "{msgs:#?}"
    );
}

#[test]
fn shared_types_are_send_sync_and_cheap_to_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<WorkCalendar>();
    check::<OfficeClock>();
    check::<Calendars>();
    check::<Due>();
    let clock = OfficeClock::standard(&kz()).unwrap();
    let copy = clock.clone();
    assert_eq!(copy.version(), clock.version());
}

#[test]
fn bad_values_are_worded_for_analysts() {
    let text = KZ
        .replacen("  - day_off: 2024-05-08", "  - day_off: 2024-13-08", 1)
        .replacen("  first_year: 2012", "  first_year: twenty-twelve", 1)
        .replacen("dates: [07-06]", "dates: [02-30]", 1);
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    let msgs: Vec<String> = errs.iter().map(|e| e.message.clone()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert_eq!(
        msgs[0],
        "covers.first_year: `twenty-twelve` should be a whole number"
    );
    assert!(
        msgs[1].starts_with("transfers[25].day_off: `2024-13-08` is not valid"),
        "{msgs:#?}"
    );
    // What the schema cannot say is caught when the data is read, still with a place.
    let text = KZ.replacen("dates: [07-06]", "dates: [02-30]", 1);
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    let line = KZ
        .lines()
        .position(|l| l.contains("dates: [07-06]"))
        .unwrap()
        + 1;
    assert_eq!((errs[0].line, errs[0].column), (line, 13), "{errs:?}");
    assert!(
        errs[0]
            .message
            .contains("`02-30`: there is no such day in the year"),
        "{errs:?}"
    );
    let missing = load_national(std::path::Path::new("/nonexistent/kz.yaml")).unwrap_err();
    assert!(
        missing[0]
            .to_string()
            .starts_with("/nonexistent/kz.yaml:1:1: error: cannot read the file")
    );
}

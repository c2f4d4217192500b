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
    // Decreed to 2027, then 30 provisional years.
    assert_eq!(cal.range(), (d("2012-01-01"), d("2057-12-31")));
    assert_eq!((cal.decreed_until(), cal.horizon()), (2027, 2057));
    assert_eq!(cal.version().len(), 16);
    // Only the 2027 Kurban Ait estimate is unconfirmed; the provisional years are not
    // warned about date by date.
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
        cal.is_working_day(d("2011-12-30")),
        Err(CalendarError::OutOfRange { .. })
    ));
    let beyond = cal.is_working_day(d("2058-01-03")).unwrap_err();
    assert!(beyond.is_beyond_horizon(), "{beyond:?}");
    assert_eq!(
        beyond,
        CalendarError::BeyondHorizon {
            date: d("2058-01-03"),
            calendar: "kz".into(),
            decreed_until: 2027,
            horizon: 2057
        }
    );
}

/// KZ without its provisional years: the calendar as it was before they existed.
fn decreed_only() -> WorkCalendar {
    let text = KZ.replacen("provisional: {years: 30}\n", "", 1);
    assert_ne!(text, KZ);
    national_from_str(&text, "kz.yaml").unwrap()
}

#[test]
fn provisional_years_are_generated_from_the_rules_of_the_law() {
    let cal = kz();
    let off = |s: &str| !cal.is_working_day(d(s)).unwrap();
    let kind = |s: &str| cal.day_info(d(s)).unwrap().kind;
    // Fixed-date holidays on their dates, in the years they apply.
    for s in [
        "2028-03-08", // International Women's Day, a Wednesday
        "2028-03-15", // Constitution Day (from 2027)
        "2028-03-21",
        "2028-03-22",
        "2028-03-23", // Nauryz
        "2028-05-01",
        "2028-05-09",
        "2028-07-06",
        "2028-10-25",
    ] {
        assert_eq!(kind(s), DayKind::Holiday, "{s}");
    }
    // 30 August is no longer a holiday (since 2026).
    assert!(!off("2028-08-30"));
    // A holiday on a weekly day of rest gives the next working day off (art. 5), and two in
    // a row stack: New Year 2028 is Sat 1 and Sun 2 January, so Mon 3 and Tue 4 are off.
    assert_eq!(kind("2028-01-03"), DayKind::MovedDayOff);
    assert_eq!(kind("2028-01-04"), DayKind::MovedDayOff);
    assert!(!off("2028-01-05"));
    // Defender of the Fatherland Day, Sun 2028-05-07 → Mon 05-08; Independence Day, Sat
    // 2028-12-16 → Mon 12-18.
    assert_eq!(kind("2028-05-08"), DayKind::MovedDayOff);
    assert_eq!(kind("2028-12-18"), DayKind::MovedDayOff);
    // Religious days off are never moved: Orthodox Christmas on Sun 2029-01-07, Kurban Ait
    // on Sat 2030-04-13; the Mondays after them work.
    assert_eq!(kind("2029-01-07"), DayKind::ReligiousDayOff);
    assert!(!off("2029-01-08"));
    assert_eq!(kind("2030-04-13"), DayKind::ReligiousDayOff);
    assert!(!off("2030-04-15"));
    // Kurban Ait on its computed dates, twice in 2039.
    for s in ["2028-05-05", "2039-01-05", "2039-12-26", "2057-06-13"] {
        assert_eq!(kind(s), DayKind::ReligiousDayOff, "{s}");
        assert_eq!(
            cal.day_info(d(s)).unwrap().holiday.as_deref(),
            Some("kurban-ait")
        );
    }
    // Kurban Ait on Nauryz (Mon 2032-03-22) adds no day; Nauryz's Sunday (03-21) moves past
    // 22 and 23 to Wed 03-24, and Thursday works.
    assert_eq!(kind("2032-03-22"), DayKind::Holiday);
    assert_eq!(kind("2032-03-24"), DayKind::MovedDayOff);
    assert!(!off("2032-03-25"));
    // A holiday of the last decreed year moves into the first provisional one when it must:
    // the table is one, so the rule does not stop at the boundary.
    let count = |year: i32| {
        let mut n = 0;
        let mut day = d(&format!("{year}-01-01"));
        while day.year() == year {
            n += usize::from(cal.is_working_day(day).unwrap());
            day = day.succ_opt().unwrap();
        }
        n
    };
    // 2028: 260 weekdays less 15 off: 3, 4 (moved) and 7 January, 8 and 15 March, Nauryz
    // (3), 1 May, Kurban Ait (5 May), 8 May (moved), 9 May, 6 July, 25 October, 18 December
    // (moved).
    assert_eq!(count(2028), 245);
    for y in 2028..=2057 {
        assert!((240..=252).contains(&count(y)), "{y}: {}", count(y));
    }
}

#[test]
fn years_are_decreed_or_provisional_and_answers_say_which() {
    let cal = kz();
    assert_eq!(cal.year_status(2011), None);
    assert_eq!(cal.year_status(2027), Some(YearStatus::Decreed));
    assert_eq!(cal.year_status(2028), Some(YearStatus::Provisional));
    assert_eq!(cal.year_status(2057), Some(YearStatus::Provisional));
    assert_eq!(cal.year_status(2058), None);
    assert_eq!(cal.last_decreed_day(), d("2027-12-31"));
    assert!(!cal.day_info(d("2027-12-31")).unwrap().provisional);
    assert!(cal.day_info(d("2028-01-03")).unwrap().provisional);
    let clock = OfficeClock::standard(&cal).unwrap();
    let counting = Counting::default();
    // Within the decreed years: not provisional.
    let due = clock
        .due(
            t("2027-12-01T10:00:00+05:00"),
            Term::working_days(5),
            &counting,
        )
        .unwrap();
    assert!(!due.provisional, "{due:?}");
    // From 28 December 2027 five working days reach into 2028: 29, 30, 31 December, then
    // 1–4 January are off (New Year on the weekend, moved to Mon 3 and Tue 4), so 5 and 6.
    let due = clock
        .due(
            t("2027-12-28T10:00:00+05:00"),
            Term::working_days(5),
            &counting,
        )
        .unwrap();
    assert_eq!(due.at, t("2028-01-06T18:00:00+05:00"));
    assert!(due.provisional, "{due:?}");
    // Registered in a provisional year.
    let due = clock
        .due(
            t("2028-03-01T10:00:00+05:00"),
            Term::working_days(10),
            &counting,
        )
        .unwrap();
    assert!(due.provisional);
    assert!(clock.is_provisional(due.at));
}

#[test]
fn beyond_the_horizon_is_a_typed_error_never_a_guess() {
    let clock = OfficeClock::standard(&kz()).unwrap();
    let counting = Counting::default();
    let from = t("2026-12-03T10:00:00+05:00");
    for term in [
        Term::working_days(4_000_000),
        Term::calendar_days(4_000_000),
        Term::hours(4_000_000),
        Term::minutes(u32::MAX),
    ] {
        let err = clock.due(from, term, &counting).unwrap_err();
        assert!(err.is_beyond_horizon(), "{term}: {err:?}");
    }
    // The longest term a regulation may state (E017) is reached, at every bundled office
    // (at least 7 working hours a day), from anywhere up to 18 years after the last decreed
    // year.
    let late = t("2045-12-31T17:00:00+05:00");
    for office in registry().offices() {
        for term in Term::LONGEST {
            let due = office.clock.due(late, term, &counting);
            assert!(
                due.as_ref().is_ok_and(|d| d.provisional),
                "{} {term}: {due:?}",
                office.data.id
            );
        }
    }
    // A calendar without provisional years ends where it is decreed, with the same error.
    let clock = OfficeClock::standard(&decreed_only()).unwrap();
    let err = clock
        .due(
            t("2027-12-28T10:00:00+05:00"),
            Term::working_days(5),
            &counting,
        )
        .unwrap_err();
    assert_eq!(
        err,
        CalendarError::BeyondHorizon {
            date: d("2028-01-01"),
            calendar: "kz".into(),
            decreed_until: 2027,
            horizon: 2027
        }
    );
}

#[test]
fn a_calendar_without_provisional_years_keeps_its_version() {
    // The standard clock's version on the bundled calendar before provisional years existed
    // (`reglament calendar due --format json` at f8426ff): every case recorded on it must
    // find its calendar again.
    let clock = OfficeClock::standard(&decreed_only()).unwrap();
    assert_eq!(clock.version(), "063306192d5f81e0");
    assert_eq!(decreed_only().range().1, d("2027-12-31"));
    // The provisional years make a different version.
    assert_ne!(
        OfficeClock::standard(&kz()).unwrap().version(),
        clock.version()
    );
}

#[test]
fn computed_dates_are_written_into_the_data_so_a_recorded_version_compiles_again() {
    let cal = kz();
    let kurban = cal
        .data()
        .holidays
        .iter()
        .find(|h| h.id == "kurban-ait")
        .unwrap();
    let computed: Vec<&Observance> = kurban
        .by_year
        .iter()
        .filter(|o| o.date.year() > 2027)
        .collect();
    // One per provisional year, and 2039's second.
    assert_eq!(computed.len(), 31);
    assert!(computed.iter().all(|o| !o.confirmed));
    // The data as written back (JSON is YAML) compiles to the same calendar, now without
    // computing anything: the dates are there.
    let again = national_from_str(&serde_json::to_string(cal.data()).unwrap(), "again").unwrap();
    assert_eq!(again.version(), cal.version());
    assert_eq!(again.data(), cal.data());
}

#[test]
fn mistakes_in_the_provisional_settings_are_placed() {
    let text = KZ.replacen("provisional: {years: 30}", "provisional: {years: 0}", 1);
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    assert!(errs[0].message.contains("years"), "{errs:?}");
    // A yearly holiday with no rule has no date in a provisional year.
    let text = KZ.replacen("    computed: eid_al_adha ", "   ", 1);
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    assert!(
        errs[0]
            .message
            .contains("`kurban-ait` has no date for 2028, a provisional year"),
        "{errs:?}"
    );
    // A date of its own in a provisional year wins over the computed one (ДУМК published
    // early), and two dates too close together in one year are still a mistake.
    let text = KZ.replacen(
        "        note: Estimate (python-holidays, Umm al-Qura); a Sunday either way. Replace with ДУМК's date.\n",
        "        note: Estimate (python-holidays, Umm al-Qura); a Sunday either way. Replace with ДУМК's date.\n      - {date: 2028-05-04}\n",
        1,
    );
    assert_ne!(text, KZ);
    let cal = national_from_str(&text, "kz.yaml").unwrap();
    assert_eq!(
        cal.day_info(d("2028-05-04")).unwrap().kind,
        DayKind::ReligiousDayOff
    );
    assert!(!cal.is_working_day(d("2028-05-04")).unwrap());
    assert!(cal.is_working_day(d("2028-05-05")).unwrap());
    let text = text.replacen(
        "      - {date: 2028-05-04}\n",
        "      - {date: 2028-05-04}\n      - {date: 2028-05-06}\n",
        1,
    );
    let errs = national_from_str(&text, "kz.yaml").unwrap_err();
    assert!(
        errs[0].message.contains("a second date for 2028"),
        "{errs:?}"
    );
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
        format!("kz.yaml:{line}:1: error[E010]: unknown key `weekends` in the calendar")
    );
    assert_eq!(errs[0].help.as_deref(), Some("did you mean `weekend`?"));
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
        msgs[0].ends_with("error[E013]: `religous` is not allowed for `kind`"),
        "{msgs:#?}"
    );
    assert_eq!(errs[0].help.as_deref(), Some("did you mean `religious`?"));
    assert!(
        msgs[1].ends_with(
            "error[E015]: `5-9` is not a month and day, MM-DD, e.g. 03-21 (item 1 of `dates`)"
        ),
        "{msgs:#?}"
    );
    assert!(
        msgs[2].ends_with("error[E010]: unknown key `day_of` in transfer 26"),
        "{msgs:#?}"
    );
    assert_eq!(errs[2].help.as_deref(), Some("did you mean `day_off`?"));
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
        format!("kz.yaml:{line}:14: error[E050]: 2024-05-09 is already a day off as `victory-day`")
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

/// A page in English names an office in English, not in the Russian it falls back to.
#[test]
fn every_bundled_office_is_named_in_kazakh_russian_and_english() {
    let cals = registry();
    for o in cals.offices() {
        let name = &o.data.name;
        assert!(
            name.en
                .as_deref()
                .is_some_and(|en| en.is_ascii() && !en.is_empty()),
            "{}: no English name",
            o.data.id
        );
        assert!(!name.kk.is_empty() && !name.ru.is_empty(), "{}", o.data.id);
    }
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
    assert_eq!(cals.offices().filter(|o| o.region == "atyrau").count(), 34);
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
    // The employment centres keep the departments' hours; the akimats have their own, and each
    // akimat forwards to its district's department.
    let centre = cals.clock(Some("atyrau-inder-employment-centre")).unwrap();
    let akimat = cals.clock(Some("atyrau-inder-akimat")).unwrap();
    assert_eq!(centre.version(), a.version());
    assert_ne!(akimat.version(), a.version());
    assert_ne!(akimat.version(), c.version());
    let route = cals.route("atyrau-inder-akimat").unwrap();
    assert_eq!(
        route.get("provider_office").map(String::as_str),
        Some("atyrau-inder-ozsp")
    );
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
        "`first_year` should be a whole number, found the text `twenty-twelve`"
    );
    assert!(
        msgs[1].starts_with("`2024-13-08` is not a date written YYYY-MM-DD"),
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
    assert_eq!(
        (errs[0].location.line, errs[0].location.column),
        (line, 13),
        "{errs:?}"
    );
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
            .starts_with("/nonexistent/kz.yaml:1:1: error[E001]: cannot read the file")
    );
}

#[test]
fn an_office_may_set_warning_thresholds_and_bad_ones_are_placed() {
    let text = include_str!("../../../regulations/offices/atyrau.yaml");
    let with = text.replacen(
        "    schedule: ozsp\n",
        "    schedule: ozsp\n    warnings: [50, 80]\n",
        1,
    );
    let region = offices_from_str(&with, "atyrau.yaml").expect("loads");
    let warned: Vec<&[u8]> = region
        .offices()
        .iter()
        .map(|o| o.warnings.as_slice())
        .filter(|w| !w.is_empty())
        .collect();
    assert_eq!(warned, [&[50u8, 80][..]]);
    let bad = text.replacen(
        "    schedule: ozsp\n",
        "    schedule: ozsp\n    warnings: [0, 100]\n",
        1,
    );
    let errs = offices_from_str(&bad, "atyrau.yaml").unwrap_err();
    assert!(!errs.is_empty());
    assert!(errs.iter().all(|d| d.location.line > 1), "{errs:#?}");
}

#[test]
fn a_centre_forwards_to_a_provider_office_of_its_region_and_a_wrong_one_is_placed() {
    let cals = Calendars::load(&reglament_testkit::regulations_dir()).expect("bundled");
    let route = cals.route("atyrau-tson-inder").expect("route");
    assert_eq!(
        route.get("provider_office").map(String::as_str),
        Some("atyrau-inder-ozsp")
    );
    assert_eq!(
        route.get("service_centre").map(String::as_str),
        Some("atyrau-tson-inder")
    );
    let text = include_str!("../../../regulations/offices/atyrau.yaml");
    let wrong = text.replacen(
        "forwards_to: atyrau-inder-ozsp",
        "forwards_to: atyrau-indre-ozsp",
        1,
    );
    let line = wrong
        .lines()
        .position(|l| l.contains("atyrau-indre-ozsp"))
        .expect("line")
        + 1;
    let dir = std::env::temp_dir().join(format!("reglament-forwards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("offices")).expect("dir");
    std::fs::create_dir_all(dir.join("calendars")).expect("dir");
    std::fs::write(dir.join("offices/atyrau.yaml"), &wrong).expect("write");
    std::fs::write(
        dir.join("calendars/kz.yaml"),
        include_str!("../../../regulations/calendars/kz.yaml"),
    )
    .expect("write");
    let errs = Calendars::load(&dir).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    let e = errs
        .iter()
        .find(|d| d.message.contains("atyrau-indre-ozsp"))
        .unwrap_or_else(|| panic!("{errs:#?}"));
    assert!(
        e.message.contains("not an office of region `atyrau`"),
        "{e}"
    );
    assert_eq!(e.location.line as usize, line);
}

#[test]
fn the_regional_centre_forwards_to_every_district_and_a_wrong_entry_is_placed_at_its_line() {
    let cals = Calendars::load(&reglament_testkit::regulations_dir()).expect("bundled");
    let targets = cals.forwards("atyrau-tson-oblast").expect("office");
    assert_eq!(targets.len(), 8, "{targets:?}");
    assert!(
        targets
            .iter()
            .all(|t| t.starts_with("atyrau-") && t.ends_with("-ozsp"))
    );
    // Several: the route names no provider office until one is chosen.
    let open = cals.route("atyrau-tson-oblast").expect("route");
    assert_eq!(open.get("provider_office"), None);
    let chosen = cals
        .route_via("atyrau-tson-oblast", Some("atyrau-makat-ozsp"))
        .expect("route");
    assert_eq!(
        chosen.get("provider_office").map(String::as_str),
        Some("atyrau-makat-ozsp")
    );
    let err = cals
        .route_via("atyrau-tson-inder", Some("atyrau-makat-ozsp"))
        .expect_err("not its department");
    assert!(
        err.to_string()
            .contains("it forwards to: atyrau-inder-ozsp"),
        "{err}"
    );

    let text = include_str!("../../../regulations/offices/atyrau.yaml");
    let wrong = text.replacen(
        "      - atyrau-makat-ozsp\n",
        "      - atyrau-tson-inder\n",
        1,
    );
    let line = wrong
        .lines()
        .position(|l| l == "      - atyrau-tson-inder")
        .expect("line")
        + 1;
    let dir = std::env::temp_dir().join(format!("reglament-forwards-list-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("offices")).expect("dir");
    std::fs::create_dir_all(dir.join("calendars")).expect("dir");
    std::fs::write(dir.join("offices/atyrau.yaml"), &wrong).expect("write");
    std::fs::write(
        dir.join("calendars/kz.yaml"),
        include_str!("../../../regulations/calendars/kz.yaml"),
    )
    .expect("write");
    let errs = Calendars::load(&dir).unwrap_err();
    let _ = std::fs::remove_dir_all(&dir);
    let e = errs
        .iter()
        .find(|d| d.message.contains("forwards to `atyrau-tson-inder`"))
        .unwrap_or_else(|| panic!("{errs:#?}"));
    assert!(e.message.contains("not a provider office"), "{e}");
    assert_eq!(e.location.line as usize, line);
}

#[test]
fn an_office_s_working_day_is_its_shortest_weekday() {
    let cals = Calendars::load(&reglament_testkit::regulations_dir()).expect("bundled");
    let day = |office: &str| {
        cals.clock(Some(office))
            .expect("office")
            .schedule()
            .day_minutes()
    };
    // North Kazakhstan's department: 09:00–17:30 with lunch 13:00–14:30.
    assert_eq!(day("nko-petropavl-ozsp"), Some(7 * 60));
    // Its rural akims, and Atyrau's department: 09:00–18:00 with lunch 13:00–14:00.
    assert_eq!(day("nko-kyzylzhar-beskol-akim"), Some(8 * 60));
    assert_eq!(day("atyrau-city-ozsp"), Some(8 * 60));
    // The standard schedule without an office.
    assert_eq!(crate::Schedule::standard().day_minutes(), Some(8 * 60));
}

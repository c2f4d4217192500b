//! Properties of working-time arithmetic, on the standard schedule and two seed offices.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use reglament_calendar::{Calendars, OfficeClock};
use reglament_model::duration::{Term, Unit};
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

fn clock(which: usize) -> OfficeClock {
    let cals = calendars();
    match which {
        0 => cals.standard_clock().unwrap(),
        1 => cals.clock(Some("nko-aiyrtau-ozsp")).unwrap(),
        _ => cals.clock(Some("atyrau-tson-oblast")).unwrap(),
    }
}

/// Instants from 2012-01-02 to 2026-06-30, to the second, so that a year of working time
/// added stays inside the covered years.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (1_325_440_800i64..1_782_777_600i64).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// Whether `at` is inside open hours with the end included (start, end].
fn inside_open_hours(clock: &OfficeClock, at: DateTime<Utc>) -> bool {
    let local = clock.to_local(at);
    let Ok(info) = clock.day_info(local.date_naive()) else {
        return false;
    };
    let minute = local
        .time()
        .signed_duration_since(chrono::NaiveTime::MIN)
        .num_seconds();
    info.working
        && info.hours.iter().any(|r| {
            let (s, e) = (
                i64::from(r.start.minutes()) * 60,
                i64::from(r.end.minutes()) * 60,
            );
            s < minute && minute <= e
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn adding_is_monotonic(which in 0usize..3, a in instant(), gap in 0i64..2_000_000, m in 0u64..50_000, k in 0u64..50_000) {
        let c = clock(which);
        let b = a + chrono::Duration::seconds(gap);
        prop_assert!(c.add_working_minutes(a, m).unwrap() <= c.add_working_minutes(b, m).unwrap());
        let (lo, hi) = (m.min(k), m.max(k));
        prop_assert!(c.add_working_minutes(a, lo).unwrap() <= c.add_working_minutes(a, hi).unwrap());
    }

    #[test]
    fn adding_a_then_b_is_adding_a_plus_b(which in 0usize..3, from in instant(), a in 0u64..60_000, b in 0u64..60_000) {
        let c = clock(which);
        let step = c.add_working_minutes(c.add_working_minutes(from, a).unwrap(), b).unwrap();
        prop_assert_eq!(step, c.add_working_minutes(from, a + b).unwrap());
    }

    #[test]
    fn a_due_instant_is_inside_open_hours(which in 0usize..3, from in instant(), amount in 1u32..300, unit in 0usize..4, excluded: bool) {
        let c = clock(which);
        let unit = [Unit::Minutes, Unit::Hours, Unit::WorkingDays, Unit::CalendarDays][unit];
        let counting = Counting { receipt_and_issue_days_excluded: excluded };
        let due = c.due(from, Term::new(amount, unit), &counting).unwrap();
        prop_assert!(inside_open_hours(&c, due.at), "{} + {} {:?} -> {}", from, amount, unit, c.to_local(due.at));
        prop_assert!(due.at > from);
        prop_assert!(due.registered_at >= from);
    }

    #[test]
    fn elapsed_undoes_adding(which in 0usize..3, from in instant(), d in 0u64..100_000) {
        let c = clock(which);
        let start = c.registration_instant(from).unwrap();
        let end = c.add_working_minutes(start, d).unwrap();
        prop_assert_eq!(c.elapsed_minutes(start, end).unwrap(), d as i64);
        // From any instant, not only inside open hours.
        prop_assert_eq!(c.elapsed_minutes(from, c.add_working_minutes(from, d).unwrap()).unwrap(), d as i64);
    }

    #[test]
    fn working_day_terms_add_up(from in instant(), a in 1u32..120, b in 1u32..120) {
        // N working days then M more from the close of the N-th day is N + M working days.
        let c = clock(0);
        let none = Counting::default();
        let first = c.due(from, Term::working_days(a), &none).unwrap();
        let chained = c.due(first.at, Term::working_days(b), &none).unwrap();
        // The N-th day's close is an instant outside open hours: registered next morning.
        let direct = c.due(from, Term::working_days(a + b + 1), &none).unwrap();
        prop_assert_eq!(chained.at, direct.at);
    }
}

//! How far the working calendars reach, for the operator: months of decreed calendar left
//! (the years whose holidays and transfer acts are known), and months until the end of the
//! provisional years generated after them (past which no deadline can be counted).
//!
//! Said at start-up (a warning in the log), in `/healthz` (still 200, with a warning) and in
//! `/metrics` (gauges), so that the decreed calendar of the next year is loaded before the
//! server has to count on a provisional one.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveDate, Utc};
use reglament_calendar::{Calendars, WorkCalendar};
use serde::Serialize;
use utoipa::ToSchema;

/// Fewer months of decreed calendar than this is a warning.
pub const WARN_MONTHS: u32 = 12;

/// One national calendar's reach at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Horizon {
    /// The calendar's id (`kz`).
    pub calendar: String,
    /// The last decreed year.
    pub decreed_until: i32,
    /// The last year deadlines can be counted in (the last provisional year).
    pub horizon: i32,
    /// Whole months from today to the end of the decreed years (0 once they are over).
    pub decreed_months_left: u32,
    /// Whole months from today to the end of the last provisional year.
    pub horizon_months_left: u32,
    /// Today is in a provisional year: new deadlines are counted on the calendar generated
    /// from the rules of the law, and say so.
    pub provisional_now: bool,
}

impl Horizon {
    pub fn of(calendar: &WorkCalendar, now: DateTime<Utc>) -> Horizon {
        let today = local_today(now);
        let decreed_end = calendar.last_decreed_day();
        let horizon_end = calendar.range().1;
        Horizon {
            calendar: calendar.id().to_string(),
            decreed_until: calendar.decreed_until(),
            horizon: calendar.horizon(),
            decreed_months_left: months_until(today, decreed_end),
            horizon_months_left: months_until(today, horizon_end),
            provisional_now: today > decreed_end,
        }
    }

    /// The warning to give, if fewer than [`WARN_MONTHS`] of decreed calendar are left.
    pub fn warning(&self) -> Option<String> {
        if self.decreed_months_left >= WARN_MONTHS {
            return None;
        }
        let Horizon {
            calendar,
            decreed_until,
            horizon,
            decreed_months_left: left,
            ..
        } = self;
        Some(if self.provisional_now {
            format!(
                "calendar `{calendar}` is decreed only to the end of {decreed_until}: deadlines are being counted on provisional years generated from the rules of the law (to the end of {horizon}); load the decreed calendar (regulations/calendars/{calendar}.yaml)"
            )
        } else {
            format!(
                "calendar `{calendar}` is decreed to the end of {decreed_until}: {left} month(s) of decreed calendar left, then deadlines are counted on provisional years (to the end of {horizon}); add the next year's holidays and transfers to regulations/calendars/{calendar}.yaml"
            )
        })
    }
}

/// Every national calendar's reach.
pub fn horizons(calendars: &Calendars, now: DateTime<Utc>) -> Vec<Horizon> {
    calendars.nationals().map(|c| Horizon::of(c, now)).collect()
}

/// The calendars' gauges in the Prometheus text format.
pub fn metrics(horizons: &[Horizon]) -> String {
    let mut out = String::new();
    out.push_str("# HELP reglament_calendar_decreed_months_left Whole months of decreed working calendar left (0 once today is in a provisional year); below 12 the server warns.\n");
    out.push_str("# TYPE reglament_calendar_decreed_months_left gauge\n");
    for h in horizons {
        let _ = writeln!(
            out,
            "reglament_calendar_decreed_months_left{{calendar=\"{}\"}} {}",
            h.calendar, h.decreed_months_left
        );
    }
    out.push_str("# HELP reglament_calendar_horizon_months_left Whole months until the end of the last provisional year, past which no deadline can be counted.\n");
    out.push_str("# TYPE reglament_calendar_horizon_months_left gauge\n");
    for h in horizons {
        let _ = writeln!(
            out,
            "reglament_calendar_horizon_months_left{{calendar=\"{}\"}} {}",
            h.calendar, h.horizon_months_left
        );
    }
    out.push_str("# HELP reglament_calendar_provisional 1 while today is in a provisional (generated, not decreed) year of the calendar.\n");
    out.push_str("# TYPE reglament_calendar_provisional gauge\n");
    for h in horizons {
        let _ = writeln!(
            out,
            "reglament_calendar_provisional{{calendar=\"{}\"}} {}",
            h.calendar,
            u8::from(h.provisional_now)
        );
    }
    out
}

/// Logs a warning for each calendar with fewer than [`WARN_MONTHS`] of decreed years left.
pub fn log_warnings(calendars: &Calendars, now: DateTime<Utc>) {
    for h in horizons(calendars, now) {
        match h.warning() {
            Some(w) => tracing::warn!(
                calendar = %h.calendar,
                decreed_months_left = h.decreed_months_left,
                decreed_until = h.decreed_until,
                horizon = h.horizon,
                "{w}"
            ),
            None => tracing::info!(
                calendar = %h.calendar,
                decreed_months_left = h.decreed_months_left,
                decreed_until = h.decreed_until,
                horizon = h.horizon,
                "calendar decreed ahead"
            ),
        }
    }
}

/// Today in Kazakhstan (UTC+5 in the whole country since 2024-03-01).
fn local_today(now: DateTime<Utc>) -> NaiveDate {
    let kz = FixedOffset::east_opt(5 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).unwrap());
    now.with_timezone(&kz).date_naive()
}

/// Whole months from `today` until the end of `last` (the day after it), 0 when it has passed.
fn months_until(today: NaiveDate, last: NaiveDate) -> u32 {
    let Some(end) = last.succ_opt() else {
        return 0;
    };
    if today >= end {
        return 0;
    }
    let rough = (end.year() - today.year()) * 12 + end.month() as i32 - today.month() as i32;
    let mut months = u32::try_from(rough.max(0)).unwrap_or(0);
    while months > 0
        && today
            .checked_add_months(Months::new(months))
            .is_none_or(|d| d > end)
    {
        months -= 1;
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_are_counted_whole_to_the_day_after_the_last() {
        let end = d("2027-12-31");
        assert_eq!(months_until(d("2027-01-01"), end), 12);
        assert_eq!(months_until(d("2026-12-03"), end), 12);
        assert_eq!(months_until(d("2027-01-02"), end), 11);
        assert_eq!(months_until(d("2027-12-01"), end), 1);
        assert_eq!(months_until(d("2027-12-28"), end), 0);
        assert_eq!(months_until(d("2028-03-01"), end), 0);
        assert_eq!(months_until(d("2028-03-01"), d("2057-12-31")), 358);
    }

    fn horizon(now: &str) -> Horizon {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../regulations");
        let calendars = Calendars::load(&root).expect("bundled calendars");
        let now = DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&Utc);
        let mut all = horizons(&calendars, now);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    #[test]
    fn fewer_than_twelve_months_of_decreed_calendar_is_a_warning() {
        let h = horizon("2026-12-03T10:00:00+05:00");
        assert_eq!((h.decreed_until, h.horizon), (2027, 2057));
        assert_eq!(h.decreed_months_left, 12);
        assert!(h.warning().is_none(), "{h:?}");
        let h = horizon("2027-02-15T10:00:00+05:00");
        assert_eq!(h.decreed_months_left, 10);
        let w = h.warning().expect("a warning");
        assert!(w.contains("10 month(s) of decreed calendar left"), "{w}");
        let h = horizon("2028-03-01T10:00:00+05:00");
        assert!(h.provisional_now);
        assert_eq!(h.decreed_months_left, 0);
        assert!(h.warning().expect("a warning").contains("provisional"));
        let text = metrics(&[h]);
        assert!(text.contains("reglament_calendar_decreed_months_left{calendar=\"kz\"} 0\n"));
        assert!(text.contains("reglament_calendar_horizon_months_left{calendar=\"kz\"} 358\n"));
        assert!(text.contains("reglament_calendar_provisional{calendar=\"kz\"} 1\n"));
    }
}

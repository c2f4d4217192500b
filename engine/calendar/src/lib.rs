//! The working-time calendar: Kazakhstan's days off, office hours, and statutory term
//! arithmetic.
//!
//! # Data
//! - `regulations/calendars/<id>.yaml` ([`NationalCalendarData`]): holidays with the years
//!   they apply, religious days off (never moved), Kurban Ait's yearly dates, transfers of
//!   days off by act, and the covered years. See `regulations/calendars/README.md`.
//! - `regulations/offices/<region>.yaml` ([`OfficesData`]): the region's IANA time zone,
//!   named weekly schedules with breaks, and its offices.
//!
//! Both are loaded from YAML with a `file:line:column` and a human message for every
//! mistake ([`load_national`], [`load_offices`], [`Calendars::load`]).
//!
//! # Arithmetic
//! [`WorkCalendar`] is the national calendar compiled into a day table. [`OfficeClock`]
//! adds an office's weekly hours and time zone and answers, without reading the clock or
//! any file:
//! - [`OfficeClock::due`]`(from, term, counting) -> Due` — the deadline of a [`Term`] with
//!   the calendar version that produced it;
//! - [`OfficeClock::add_working_minutes`], [`OfficeClock::elapsed_minutes`];
//! - [`OfficeClock::registration_instant`] — an arrival outside open hours (the e-gov
//!   portal at night) is registered at the next opening;
//! - [`OfficeClock::is_working_day`], [`OfficeClock::day_info`] (kind, reason in kk/ru/en,
//!   hours), [`OfficeClock::version`].
//!
//! Instants are `DateTime<Utc>`, taken to the second. Every operation is a handful of
//! binary searches over per-day arrays, so a 250-working-day term costs what a 1-day term
//! costs. A date outside the table is an error, never a guess: [`CalendarError::OutOfRange`]
//! before it, [`CalendarError::BeyondHorizon`] after it.
//!
//! # Decreed and provisional years
//! `covers` are the decreed years. With `provisional: {years: N}` the N years after them are
//! generated from the rules of the law alone: the fixed-date holidays by their `years`, the
//! art. 5 moves, and lunar dates by their `computed` rule (Kurban Ait: Umm al-Qura, in
//! `lunar.rs`), with no transfer acts. Each year is [`YearStatus::Decreed`] or
//! [`YearStatus::Provisional`]; [`DayInfo::provisional`] and [`Due::provisional`] say when an
//! answer rests on a provisional year. The computed dates are written into the data the
//! calendar keeps, so a recorded calendar version compiles to the same days again.
//!
//! The rules (kz-calendar.md §6.2; the interpretations marked there as inferred are ours):
//! - minutes and hours count only inside open hours; a due instant may be a closing time;
//! - working days: the term starts on the day after registration and ends at the office's
//!   closing time on the N-th working day;
//! - calendar days: closing time on the N-th calendar day after registration, or on the
//!   next working day if that day is not one;
//! - `receipt_and_issue_days_excluded`: one more working day — the due is the close of the
//!   working day after the term's last day.
//!
//! [`Term`]: reglament_model::duration::Term

#![forbid(unsafe_code)]

mod clock;
mod data;
mod error;
mod lunar;
mod national;
mod registry;
mod schedule;
pub mod schema;
mod yaml;

pub use clock::{Due, OfficeClock};
pub use data::{
    Act, ClockTime, Computation, Covers, DayStatus, ForwardsTo, Holiday, HolidayKind, HoursRule,
    MonthDay, NationalCalendarData, Observance, OfficeData, OfficeKind, OfficesData,
    OracleDifference, PortalData, PortalRegistration, ProvisionalYears, ScheduleData, TimeRange,
    Transfer, Weekday, YearSpan,
};
pub use error::CalendarError;
pub use national::{DayInfo, DayKind, WorkCalendar, YearStatus};
pub use registry::{
    Calendars, Office, Region, load_national, load_offices, national_from_str, offices_from_str,
};
pub use schedule::Schedule;

#[cfg(test)]
mod tests;

//! Errors of the calendar's computations, for callers, typed. Mistakes in the data files
//! are [`reglament_model::diagnostic::Diagnostic`]s, as for regulations.

use chrono::NaiveDate;
use thiserror::Error;

/// Why a computation on the calendar failed. Nothing here is a guess: when the data cannot
/// answer, the caller is told.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    /// The date lies before the years the calendar data covers.
    #[error(
        "{date} is outside the years the calendar `{calendar}` covers ({first}–{last}); add the year's holidays and transfers to the calendar data"
    )]
    OutOfRange {
        date: NaiveDate,
        calendar: String,
        first: i32,
        last: i32,
    },
    /// The date lies after the last year the calendar can count in (its horizon: the last
    /// provisional year, or the last decreed one). A deadline that far cannot be computed
    /// until the calendar is extended; the engine refuses the command rather than guess, and
    /// the caller turns it into a 409 (the API) or an incident on the case.
    #[error(
        "{date} is beyond the calendar `{calendar}`, which counts working time to the end of {horizon} (decreed to the end of {decreed_until}); a deadline that far cannot be computed until the calendar is extended"
    )]
    BeyondHorizon {
        date: NaiveDate,
        calendar: String,
        /// The last decreed year.
        decreed_until: i32,
        /// The last year of the calendar.
        horizon: i32,
    },
    /// An instant cannot be placed on a calendar day (beyond chrono's range).
    #[error("the instant is too far from the covered years to be placed on the calendar")]
    InstantOutOfRange,
    /// No office with this id in any offices file.
    #[error("unknown office `{id}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownOffice {
        id: String,
        suggestion: Option<String>,
    },
    /// No schedule with this id in the region.
    #[error(
        "`{office}` does not forward applications to `{to}`{}",
        if targets.is_empty() { ": it forwards to no office".to_string() } else { format!("; it forwards to: {targets}") }
    )]
    NotForwardedTo {
        office: String,
        to: String,
        targets: String,
    },
    #[error("unknown schedule `{id}`")]
    UnknownSchedule { id: String },
    /// No national calendar with this id.
    #[error("unknown calendar `{id}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownCalendar {
        id: String,
        suggestion: Option<String>,
    },
    /// The schedule has no open hours on any working day, so no working time can be counted.
    #[error("the schedule `{schedule}` has no open hours on any working day of the covered years")]
    NoWorkingTime { schedule: String },
    /// A clock change falls inside open hours; local times there would be ambiguous.
    #[error(
        "the time zone `{zone}` changes its offset during open hours of {date} (schedule `{schedule}`); split the schedule around the change"
    )]
    ZoneChangeInOpenHours {
        zone: String,
        date: NaiveDate,
        schedule: String,
    },
    /// An unknown IANA zone name.
    #[error("unknown time zone `{0}`: use an IANA name such as Asia/Almaty or Asia/Atyrau")]
    UnknownZone(String),
}

impl CalendarError {
    /// A computation ran past the calendar's last year: the data must be extended (or the
    /// case moved to a calendar that reaches further) before it can go on.
    pub fn is_beyond_horizon(&self) -> bool {
        matches!(self, CalendarError::BeyondHorizon { .. })
    }

    /// A stable, machine-readable name (for HTTP problem codes and metrics).
    pub fn kind(&self) -> &'static str {
        match self {
            CalendarError::BeyondHorizon { .. } => "beyond-calendar",
            CalendarError::OutOfRange { .. } => "before-calendar",
            _ => "calendar",
        }
    }
}

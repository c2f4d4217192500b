//! Audit: what happened to a case, when, by whom, was it on time by the statute, and is its
//! history genuine. For auditors, heads of offices and the analysts drafting a new version.
//!
//! - [`verify`] — every hash chain in the database, fast (a sequential scan with a
//!   canonical-text fast path), naming the first bad event of each broken case exactly as
//!   [`reglament_store::verify`] classifies it;
//! - [`replay`] — one case: its chain checked, its events folded again on the regulation
//!   digest and calendar version it was pinned to, the result compared with the stored
//!   projections, every recorded due instant recomputed, and its timeline with the working
//!   time each step took against its statutory time; optionally the state as it stood at T;
//! - [`whatif`] — the same human decisions at the same instants, run under another version
//!   of the regulation (a draft): which deadlines would have been breached, which no longer;
//! - [`report`] — compliance per regulation, office and step, and per case, as JSON, CSV or
//!   HTML with a chart drawn on the server (SVG, no script);
//! - [`export`] — the event log for process mining: IEEE XES, CSV, JSON lines, OCEL 2.0;
//! - [`checkpoint`] — signed checkpoints of every chain head (a Merkle root, Ed25519): how
//!   the server makes the next one, and the auditor's check of a database against them.
//!
//! Nothing here writes to the database: the audit tools only read, and they never repair
//! (the server stores the checkpoints [`checkpoint::next`] makes).
//! See `docs/audit.md` for what each command shows.

#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod events;
pub mod export;
pub mod replay;
pub mod report;
pub mod svg;
pub mod verify;
pub mod whatif;

use chrono::{DateTime, Utc};

use reglament_calendar::{CalendarError, OfficeClock};
use reglament_runtime::{Clocks, FoldError};
use reglament_store::{Store, StoreError, clocks};

/// Why an audit could not be carried out (as opposed to what it found, which is its report).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scan(#[from] reglament_store::scan::ScanError),
    #[error("no case `{0}` in the log")]
    NoSuchCase(String),
    #[error("{0}")]
    Checkpoint(String),
    #[error("case `{case}`: its log does not begin with `case_started`")]
    NotStarted { case: String },
    #[error("case `{case}`, event {seq}: the stored event cannot be read: {reason}")]
    Unreadable {
        case: String,
        seq: u64,
        reason: String,
    },
    #[error("case `{case}`: its events do not fold: {source}")]
    Fold {
        case: String,
        #[source]
        source: FoldError,
    },
    #[error(
        "case `{case}` is pinned to calendar version {version} of office `{office}`, which neither the \
         database nor the loaded calendars have"
    )]
    NoCalendar {
        case: String,
        office: String,
        version: String,
    },
    #[error("the regulation to compare with does not validate:\n{}", errors.join("\n"))]
    InvalidDraft { errors: Vec<String> },
    #[error("working-time arithmetic: {0}")]
    Calendar(#[from] CalendarError),
    #[error("writing the output: {0}")]
    Io(#[from] std::io::Error),
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The clock of a calendar version: rebuilt from the database's `calendar_versions` (which
/// keeps every version a case was started on), else taken from `fallback` (the calendar
/// files) when they still produce that version. `None` when neither has it.
pub async fn pinned_clock(
    store: &Store,
    office: &str,
    version: &str,
    fallback: Option<&dyn Clocks>,
) -> Result<Option<OfficeClock>, StoreError> {
    if let Some(data) = store.calendar_data(version).await? {
        return clocks::clock_from_data(version, &data).map(Some);
    }
    Ok(fallback.and_then(|c| c.clock(office, Some(version)).ok()))
}

/// Whether a deadline due at `due` was missed by work done at `done` (or, when not done, still
/// open at `as_of`). Work handed in at the due instant itself is on time; an open task is
/// breached from its due instant on, as the engine's `tick` breaches it.
pub fn late(due: DateTime<Utc>, done: Option<DateTime<Utc>>, as_of: DateTime<Utc>) -> bool {
    match done {
        Some(d) => d > due,
        None => due <= as_of,
    }
}

/// An instant given by a person (on the command line, in a query string) that is neither a
/// date nor an RFC 3339 instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither a date (2026-04-06) nor an instant (2026-04-06T10:00:00+05:00)")]
pub struct BadInstant(pub String);

/// Kazakhstan's time: one zone, UTC+05:00, since 1 March 2024.
const KZ_OFFSET_SECONDS: i32 = 5 * 3600;

/// An instant as people give it: RFC 3339 (`2026-04-06T10:00:00+05:00`), or a date
/// (`2026-04-06`), which is the start of that day in Kazakhstan time (UTC+05:00).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, BadInstant> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| BadInstant(s.to_string()))?;
    start_of_day(d).ok_or_else(|| BadInstant(s.to_string()))
}

/// The end of a period given by a person: a date includes its whole day (the result is the
/// start of the next day); an instant is taken as it is.
pub fn parse_until(s: &str) -> Result<DateTime<Utc>, BadInstant> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_days(chrono::Days::new(1)))
        .and_then(start_of_day)
        .ok_or_else(|| BadInstant(s.to_string()))
}

fn start_of_day(d: chrono::NaiveDate) -> Option<DateTime<Utc>> {
    use chrono::TimeZone as _;
    chrono::FixedOffset::east_opt(KZ_OFFSET_SECONDS)?
        .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// RFC 3339 in UTC to the second (or to the microsecond when there is a fraction), as the
/// engine writes instants.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// An instant as people in the office read it: `2026-04-06 10:00` in the IANA zone `zone`
/// (seconds shown when there are any), or in UTC with a `Z` when the zone is unknown.
pub fn local_time(t: DateTime<Utc>, zone: Option<&str>) -> String {
    let fmt = |seconds: bool| {
        if seconds {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%Y-%m-%d %H:%M"
        }
    };
    let seconds = t.timestamp() % 60 != 0;
    match zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => t.with_timezone(&tz).format(fmt(seconds)).to_string(),
        None => format!("{}Z", t.format(fmt(seconds))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_at_the_due_instant_is_on_time() {
        let due = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::hours(10);
        let second = chrono::Duration::seconds(1);
        assert!(!late(due, Some(due), due + second));
        assert!(late(due, Some(due + second), due));
        assert!(!late(due, None, due - second));
        assert!(late(due, None, due));
    }

    #[test]
    fn instants_are_rfc3339_or_dates_in_kazakhstan_time() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("t")
                .with_timezone(&Utc)
        };
        assert_eq!(
            parse_instant("2026-04-06T10:00:00+05:00"),
            Ok(t("2026-04-06T05:00:00Z"))
        );
        assert_eq!(parse_instant("2026-04-06"), Ok(t("2026-04-05T19:00:00Z")));
        assert_eq!(parse_until("2026-04-06"), Ok(t("2026-04-06T19:00:00Z")));
        assert_eq!(
            parse_until("2026-04-06T12:00:00Z"),
            Ok(t("2026-04-06T12:00:00Z"))
        );
        for bad in ["yesterday", "2026-13-01", "2026-04-06T25:00:00Z", ""] {
            assert_eq!(parse_instant(bad), Err(BadInstant(bad.to_string())));
            assert!(parse_until(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_times_are_in_the_offices_zone() {
        let t = DateTime::parse_from_rfc3339("2026-04-06T05:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(local_time(t, Some("Asia/Atyrau")), "2026-04-06 10:00");
        assert_eq!(local_time(t, None), "2026-04-06 05:00Z");
        assert_eq!(
            local_time(t + chrono::Duration::seconds(5), Some("Asia/Almaty")),
            "2026-04-06 10:00:05"
        );
    }
}

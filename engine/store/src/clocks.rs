//! Calendar versions: what is stored so that a case keeps the working-time arithmetic it
//! started on after the calendar files change (a new holiday transfer, new office hours).
//!
//! A calendar version ([`OfficeClock::version`]) is a content hash over the national day
//! table, the weekly hours and the zone's offsets. For each version a case was started on,
//! `calendar_versions` keeps the inputs that produced it, as canonical JSON:
//! `{"national": <NationalCalendarData>, "schedule": {"id", "name", "week"}, "zone": "Asia/Atyrau"}`.
//! [`clock_from_data`] compiles them again and checks that the version comes out the same, so
//! a clock is never silently replaced by a different one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::StoreError;
use reglament_calendar::{
    NationalCalendarData, OfficeClock, Schedule, TimeRange, national_from_str,
};
use reglament_model::text::Text;

/// A row of `calendar_versions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarRecord {
    pub version: String,
    pub calendar: String,
    pub schedule: String,
    pub zone: String,
    /// Canonical JSON of the inputs.
    pub data: String,
    pub recorded_at: i64,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    national: NationalCalendarData,
    schedule: ScheduleSnapshot,
    zone: String,
}

#[derive(Serialize, Deserialize)]
struct ScheduleSnapshot {
    id: String,
    name: Option<Text>,
    week: [Vec<TimeRange>; 7],
}

/// The record of the clock's version.
pub fn record(
    clock: &OfficeClock,
    now: DateTime<Utc>,
) -> Result<CalendarRecord, serde_json::Error> {
    let schedule = clock.schedule();
    let snapshot = Snapshot {
        national: clock.national().data().clone(),
        schedule: ScheduleSnapshot {
            id: schedule.id.clone(),
            name: schedule.name.clone(),
            week: schedule.week.clone(),
        },
        zone: clock.zone().name().to_string(),
    };
    let data = super::canonical::canonical(&serde_json::to_value(&snapshot)?);
    Ok(CalendarRecord {
        version: clock.version().to_string(),
        calendar: clock.national().id().to_string(),
        schedule: schedule.id.clone(),
        zone: clock.zone().name().to_string(),
        data,
        recorded_at: super::rows::micros(now),
    })
}

/// Compiles a stored calendar version again.
pub fn clock_from_data(version: &str, data: &str) -> Result<OfficeClock, StoreError> {
    let fail = |reason: String| StoreError::Calendar {
        version: version.to_string(),
        reason,
    };
    let snapshot: Snapshot =
        serde_json::from_str(data).map_err(|e| fail(format!("unreadable data: {e}")))?;
    // JSON is YAML, so the national calendar goes through its own loader and checks.
    let text = serde_json::to_string(&snapshot.national).map_err(|e| fail(e.to_string()))?;
    let national =
        national_from_str(&text, &format!("calendar_versions/{version}")).map_err(|diags| {
            fail(
                diags
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
    let zone: chrono_tz::Tz = snapshot
        .zone
        .parse()
        .map_err(|_| fail(format!("unknown time zone `{}`", snapshot.zone)))?;
    let schedule = Schedule {
        id: snapshot.schedule.id,
        name: snapshot.schedule.name,
        week: snapshot.schedule.week,
    };
    let clock = OfficeClock::new(&national, schedule, zone).map_err(|e| fail(e.to_string()))?;
    if clock.version() != version {
        return Err(fail(format!(
            "the stored data compiles to version {}, not {version}",
            clock.version()
        )));
    }
    Ok(clock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reglament_calendar::Calendars;

    #[test]
    fn an_office_clock_is_rebuilt_from_its_record_with_the_same_version() {
        let root = reglament_testkit::regulations_dir();
        let calendars = Calendars::load(&root).expect("bundled calendars");
        for office in ["atyrau-city-ozsp", "atyrau-tson-oblast"] {
            let clock = calendars.clock(Some(office)).expect("office");
            let rec = record(&clock, Utc::now()).expect("record");
            assert_eq!(rec.version, clock.version());
            let again = clock_from_data(&rec.version, &rec.data).expect("rebuilds");
            assert_eq!(again.version(), clock.version());
            assert!(clock_from_data("0000000000000000", &rec.data).is_err());
        }
    }
}

//! Calendar adoptions: which calendar version an office's open cases were moved onto when a
//! new calendar was deployed (a decree moved a day off, the office's hours changed).
//!
//! The log says everything about a case that moved: its `deadlines_rescheduled` event. A case
//! whose due instants the new calendar does not move has nothing to record in its chain; the
//! adoption row says that its office's open cases on the old version were all looked at, so a
//! restart does not look at them again.

use chrono::{DateTime, Utc};

use super::rows::{instant, micros};
use super::{Backend, Param, Store, StoreError};

/// One deployment of a calendar version to an office's open cases.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Adoption {
    pub office: String,
    pub from_version: String,
    pub to_version: String,
    pub adopted_at: DateTime<Utc>,
    /// Open cases looked at.
    pub cases: u64,
    /// Of them, those whose due instants moved (each with a `deadlines_rescheduled` event).
    pub rescheduled: u64,
}

/// Open cases of an office counting on one calendar version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarGroup {
    pub office: String,
    pub version: String,
    pub cases: u64,
}

impl Store {
    /// Every adoption, oldest first.
    pub async fn adoptions(&self) -> Result<Vec<Adoption>, StoreError> {
        let rows: Vec<(String, String, String, i64, i64, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT office, from_version, to_version, adopted_at, cases, rescheduled \
                 FROM calendar_adoptions ORDER BY adopted_at, office, from_version",
            )
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(office, from_version, to_version, at, cases, rescheduled)| Adoption {
                    office,
                    from_version,
                    to_version,
                    adopted_at: instant(at),
                    cases: cases.max(0) as u64,
                    rescheduled: rescheduled.max(0) as u64,
                },
            )
            .collect())
    }

    /// Records that an office's open cases on `from_version` were moved onto `to_version`
    /// (the first record of a pair stays: a second node doing the same pass changes nothing).
    pub async fn record_adoption(&self, a: &Adoption) -> Result<(), StoreError> {
        self.write_one(
            "INSERT INTO calendar_adoptions \
             (office, from_version, to_version, adopted_at, cases, rescheduled) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (office, from_version) DO NOTHING",
            vec![
                Param::Text(a.office.clone()),
                Param::Text(a.from_version.clone()),
                Param::Text(a.to_version.clone()),
                Param::Int(micros(a.adopted_at)),
                Param::Int(a.cases as i64),
                Param::Int(a.rescheduled as i64),
            ],
        )
        .await
    }

    /// Keeps a calendar version's data (a no-op when it is kept already), so that cases
    /// moved onto it can always be audited on it.
    pub async fn record_calendar(
        &self,
        r: &super::clocks::CalendarRecord,
    ) -> Result<(), StoreError> {
        self.write_one(
            "INSERT INTO calendar_versions (version, calendar, schedule, zone, data, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version) DO NOTHING",
            vec![
                Param::Text(r.version.clone()),
                Param::Text(r.calendar.clone()),
                Param::Text(r.schedule.clone()),
                Param::Text(r.zone.clone()),
                Param::Text(r.data.clone()),
                Param::Int(r.recorded_at),
            ],
        )
        .await
    }

    /// Open cases by office and the calendar version their projection row names.
    pub async fn open_calendar_groups(&self) -> Result<Vec<CalendarGroup>, StoreError> {
        let rows: Vec<(String, String, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT office, calendar_version, COUNT(*) FROM cases WHERE status = 'open' \
                 GROUP BY office, calendar_version ORDER BY office, calendar_version",
            )
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(office, version, cases)| CalendarGroup {
                office,
                version,
                cases: cases.max(0) as u64,
            })
            .collect())
    }

    /// A page of the open cases of `office` on calendar `version`, after case `after`.
    pub async fn open_cases_on(
        &self,
        office: &str,
        version: &str,
        after: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT case_id FROM cases WHERE status = 'open' AND office = $1 \
                 AND calendar_version = $2 AND case_id > $3 ORDER BY case_id LIMIT $4",
            )
            .bind(office)
            .bind(version)
            .bind(after)
            .bind(i64::from(limit.max(1)))
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }
}

//! Term arithmetic on one office's working time: the national day table, the office's weekly
//! hours and its time zone, compiled into arrays so that every operation is a few binary
//! searches, whatever the length of the term.
//!
//! Working time is a single number line: `position(t)` is the number of working seconds
//! from the start of the covered years to the instant `t`. Adding working time is
//! `instant_at(position(t) + d)`; elapsed working time is a difference of positions.
//! Per day we keep the UTC instant of local midnight, the office's open intervals (one
//! pattern per weekday), the working seconds before the day (prefix sums) and the number
//! of working days before the day.

use std::sync::Arc;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::data::{TimeRange, Weekday};
use super::error::CalendarError;
use super::national::{DayInfo, DayKind, WorkCalendar, hex16};
use super::schedule::Schedule;
use reglament_model::duration::{Term, Unit};
use reglament_model::model::Counting;

/// A computed deadline and the calendar version that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    /// The due instant: the end of the term.
    pub at: DateTime<Utc>,
    /// When the term started counting: the arrival, or the next opening if it came outside
    /// open hours.
    pub registered_at: DateTime<Utc>,
    /// Content hash of the calendar and schedule (see [`OfficeClock::version`]). Store it
    /// with the deadline: the same version always gives the same answer.
    pub calendar_version: String,
    /// The term was counted into a provisional year (generated from the rules of the law,
    /// not yet decreed): the decreed calendar of that year may move the due instant.
    pub provisional: bool,
}

#[derive(Debug)]
struct Pattern {
    /// Interval starts and ends, seconds after local midnight.
    starts: Vec<u32>,
    ends: Vec<u32>,
    /// Working seconds before each interval.
    cum: Vec<u64>,
    total: u64,
}

impl Pattern {
    fn new(ranges: &[TimeRange]) -> Pattern {
        let starts: Vec<u32> = ranges.iter().map(|r| r.start.minutes() * 60).collect();
        let ends: Vec<u32> = ranges.iter().map(|r| r.end.minutes() * 60).collect();
        let mut cum = Vec::with_capacity(ranges.len());
        let mut total = 0u64;
        for (s, e) in starts.iter().zip(&ends) {
            cum.push(total);
            total += u64::from(e - s);
        }
        Pattern {
            starts,
            ends,
            cum,
            total,
        }
    }

    /// Working seconds of the day before `sec` seconds after local midnight.
    fn worked_before(&self, sec: i64) -> u64 {
        let k = self.starts.partition_point(|&s| i64::from(s) <= sec);
        if k == 0 {
            return 0;
        }
        let k = k - 1;
        let len = u64::from(self.ends[k] - self.starts[k]);
        let into = u64::try_from(sec - i64::from(self.starts[k])).unwrap_or(0);
        self.cum[k] + into.min(len)
    }

    fn is_open(&self, sec: i64) -> bool {
        let k = self.starts.partition_point(|&s| i64::from(s) <= sec);
        k > 0 && sec < i64::from(self.ends[k - 1])
    }

    /// Seconds after midnight where `within` working seconds of the day have passed:
    /// the end of an interval when `inclusive` (a due instant), else the start of the next.
    fn at(&self, within: u64, inclusive: bool) -> u32 {
        let k = if inclusive {
            self.cum.partition_point(|&c| c < within)
        } else {
            self.cum.partition_point(|&c| c <= within)
        }
        .saturating_sub(1);
        self.starts[k] + u32::try_from(within - self.cum[k]).unwrap_or(0)
    }
}

#[derive(Debug)]
struct ClockInner {
    national: WorkCalendar,
    schedule: Schedule,
    zone: Tz,
    /// Pattern 0 is "closed"; 1 + w is weekday w's hours.
    patterns: Vec<Pattern>,
    day_pattern: Vec<u8>,
    /// UTC seconds of each local midnight, one more than the days (the end of the last).
    day_start: Vec<i64>,
    /// Working seconds before each day, one more than the days.
    work_prefix: Vec<u64>,
    /// The office's working days, as day indices.
    working_days: Vec<u32>,
    /// Number of the office's working days before each day, one more than the days.
    wd_before: Vec<u32>,
    version: String,
}

/// Working time of one office (or the standard schedule): the national calendar, weekly
/// hours and a time zone. `Send + Sync`; cloning is an `Arc` clone.
#[derive(Debug, Clone)]
pub struct OfficeClock {
    inner: Arc<ClockInner>,
    /// The office's warning thresholds (percent of a task's working time), for regulations
    /// that declare none. Not working time, so not part of the version.
    warnings: Arc<[u8]>,
}

impl OfficeClock {
    /// The standard schedule (Mon–Fri 09:00–18:00, lunch 13:00–14:00) in Asia/Almaty.
    pub fn standard(national: &WorkCalendar) -> Result<OfficeClock, CalendarError> {
        OfficeClock::new(national, Schedule::standard(), chrono_tz::Asia::Almaty)
    }

    /// Compiles the clock for the covered years of `national`.
    pub fn new(
        national: &WorkCalendar,
        schedule: Schedule,
        zone: Tz,
    ) -> Result<OfficeClock, CalendarError> {
        let n = national.len();
        let (first, _) = national.range();
        let mut patterns = vec![Pattern::new(&[])];
        patterns.extend(schedule.week.iter().map(|w| Pattern::new(w)));
        let mut day_pattern = Vec::with_capacity(n);
        let mut day_start = Vec::with_capacity(n + 1);
        let mut offsets = Vec::with_capacity(n + 1);
        for i in 0..=n {
            let date = first + Days::new(i as u64);
            let offset = offset_at_noon(zone, date);
            let midnight = date.and_hms_opt(0, 0, 0).map(|m| m.and_utc().timestamp());
            let Some(midnight) = midnight else {
                return Err(CalendarError::InstantOutOfRange);
            };
            day_start.push(midnight - i64::from(offset));
            offsets.push(offset);
            if i == n {
                break;
            }
            let e = national.entry(i);
            let p = if e.working {
                1 + e.hours_as.index() as u8
            } else {
                0
            };
            let pat = &patterns[p as usize];
            // Offsets are taken at noon; refuse a schedule whose hours straddle a clock change.
            for (s, e2) in pat.starts.iter().zip(&pat.ends) {
                for sec in [i64::from(*s), i64::from(*e2) - 1] {
                    let ts = day_start[i] + sec;
                    let actual = DateTime::from_timestamp(ts, 0).map(|u| {
                        zone.offset_from_utc_datetime(&u.naive_utc())
                            .fix()
                            .local_minus_utc()
                    });
                    if actual != Some(offset) {
                        return Err(CalendarError::ZoneChangeInOpenHours {
                            zone: zone.name().to_string(),
                            date,
                            schedule: schedule.id.clone(),
                        });
                    }
                }
            }
            day_pattern.push(p);
        }
        let mut work_prefix = Vec::with_capacity(n + 1);
        let mut wd_before = Vec::with_capacity(n + 1);
        let mut working_days = Vec::new();
        let mut total = 0u64;
        for (i, &p) in day_pattern.iter().enumerate() {
            work_prefix.push(total);
            wd_before.push(working_days.len() as u32);
            let t = patterns[p as usize].total;
            if t > 0 {
                working_days.push(i as u32);
            }
            total += t;
        }
        work_prefix.push(total);
        wd_before.push(working_days.len() as u32);
        if total == 0 {
            return Err(CalendarError::NoWorkingTime {
                schedule: schedule.id.clone(),
            });
        }
        let version = clock_version(national, &schedule, zone, &offsets);
        Ok(OfficeClock {
            inner: Arc::new(ClockInner {
                national: national.clone(),
                schedule,
                zone,
                patterns,
                day_pattern,
                day_start,
                work_prefix,
                working_days,
                wd_before,
                version,
            }),
            warnings: Arc::from(Vec::new()),
        })
    }

    /// The same clock with the office's warning thresholds.
    pub fn with_warnings(mut self, warnings: &[u8]) -> OfficeClock {
        self.warnings = Arc::from(warnings.to_vec());
        self
    }

    /// The office's warning thresholds, in percent of a task's working time (none unless the
    /// offices file gives them): they apply to the tasks of regulations that set none.
    pub fn warnings(&self) -> &[u8] {
        &self.warnings
    }

    /// Content hash (16 hex digits of SHA-256) of everything the answers depend on: the
    /// national day table, the weekly hours, the zone and its UTC offset on every day.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    pub fn national(&self) -> &WorkCalendar {
        &self.inner.national
    }

    pub fn schedule(&self) -> &Schedule {
        &self.inner.schedule
    }

    pub fn zone(&self) -> Tz {
        self.inner.zone
    }

    /// Whether the instant falls in a provisional year of the national calendar (in the
    /// office's local time). Counting is monotone, so a due instant in a decreed year was
    /// counted on decreed days only, and one in a provisional year was not.
    pub fn is_provisional(&self, t: DateTime<Utc>) -> bool {
        self.inner
            .national
            .is_provisional(t.with_timezone(&self.inner.zone).date_naive())
    }

    /// The instant in the office's local time, with its offset.
    pub fn to_local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.inner.zone).fixed_offset()
    }

    fn n(&self) -> usize {
        self.inner.day_pattern.len()
    }

    fn date_of(&self, i: usize) -> NaiveDate {
        self.inner.national.range().0 + Days::new(i as u64)
    }

    fn after_coverage(&self) -> CalendarError {
        let next = self.inner.national.range().1 + Days::new(1);
        self.inner.national.out_of_range(next)
    }

    /// The day index and seconds after that day's local midnight.
    fn locate(&self, t: DateTime<Utc>) -> Result<(usize, i64), CalendarError> {
        let ts = t.timestamp();
        let starts = &self.inner.day_start;
        let n = self.n();
        if ts < starts[0] || ts >= starts[n] {
            let date = t.with_timezone(&self.inner.zone).date_naive();
            return Err(self.inner.national.out_of_range(date));
        }
        // Days are 86 400 s long except across a clock change, so the quotient is at most
        // one day off: O(1) instead of a binary search.
        let mut i = (((ts - starts[0]) / 86_400) as usize).min(n - 1);
        while starts[i] > ts {
            i -= 1;
        }
        while starts[i + 1] <= ts {
            i += 1;
        }
        Ok((i, ts - starts[i]))
    }

    fn pattern(&self, i: usize) -> &Pattern {
        &self.inner.patterns[self.inner.day_pattern[i] as usize]
    }

    /// Working seconds from the start of the covered years to `t`.
    fn position(&self, t: DateTime<Utc>) -> Result<u64, CalendarError> {
        let (i, sec) = self.locate(t)?;
        Ok(self.inner.work_prefix[i] + self.pattern(i).worked_before(sec))
    }

    fn instant_at(&self, p: u64, inclusive: bool) -> Result<DateTime<Utc>, CalendarError> {
        let prefix = &self.inner.work_prefix;
        let n = self.n();
        let beyond = if inclusive {
            p > prefix[n]
        } else {
            p >= prefix[n]
        };
        if beyond {
            return Err(self.after_coverage());
        }
        let i = if inclusive {
            prefix.partition_point(|&x| x < p)
        } else {
            prefix.partition_point(|&x| x <= p)
        }
        .saturating_sub(1)
        .min(n - 1);
        let sec = self.pattern(i).at(p - prefix[i], inclusive);
        self.utc(self.inner.day_start[i] + i64::from(sec))
    }

    fn utc(&self, ts: i64) -> Result<DateTime<Utc>, CalendarError> {
        DateTime::from_timestamp(ts, 0).ok_or(CalendarError::InstantOutOfRange)
    }

    /// When an arrival at `at` is registered: at once inside open hours, otherwise at the
    /// next opening (the e-gov portal's rule for after-hours submissions).
    pub fn registration_instant(&self, at: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        let (i, sec) = self.locate(at)?;
        if self.pattern(i).is_open(sec) {
            return Ok(at);
        }
        let p = self.inner.work_prefix[i] + self.pattern(i).worked_before(sec);
        self.instant_at(p, false)
    }

    /// Adds working minutes. A start outside open hours begins at the next opening; the
    /// result may be a closing time (60 minutes from 17:00 with close at 18:00 is 18:00).
    pub fn add_working_minutes(
        &self,
        from: DateTime<Utc>,
        minutes: u64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if minutes == 0 {
            return self.registration_instant(from);
        }
        let p = self.position(from)?;
        self.instant_at(p.saturating_add(minutes.saturating_mul(60)), true)
    }

    /// Adds working seconds to an instant (`from` itself for none): how a suspension moves a
    /// due instant by exactly the working time it stopped.
    pub fn add_working_seconds(
        &self,
        from: DateTime<Utc>,
        seconds: u64,
    ) -> Result<DateTime<Utc>, CalendarError> {
        if seconds == 0 {
            return Ok(from);
        }
        let p = self.position(from)?;
        self.instant_at(p.saturating_add(seconds), true)
    }

    /// Working time between two instants, in whole minutes (negative when `to` is before `from`).
    pub fn elapsed_minutes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, CalendarError> {
        Ok(self.elapsed_seconds(from, to)? / 60)
    }

    /// Working time between two instants, in seconds (negative when `to` is before `from`).
    pub fn elapsed_seconds(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, CalendarError> {
        let a = self.position(from)? as i64;
        let b = self.position(to)? as i64;
        Ok(b - a)
    }

    /// The due instant of `term` for an arrival at `from`.
    ///
    /// - minutes and hours: working time from registration;
    /// - working days: the term starts the day after registration and ends at closing
    ///   time of the N-th working day;
    /// - calendar days: closing time of the N-th calendar day after registration, or of
    ///   the next working day when that day is not one;
    /// - `counting.receipt_and_issue_days_excluded`: the day of issue is not part of the
    ///   term either, so the due is closing time of the working day after the term's last
    ///   day (the day of receipt is already left out by the day-after rule).
    pub fn due(
        &self,
        from: DateTime<Utc>,
        term: Term,
        counting: &Counting,
    ) -> Result<Due, CalendarError> {
        let (at, registered_at) = self.due_parts(from, term, counting)?;
        Ok(Due {
            at,
            registered_at,
            calendar_version: self.inner.version.clone(),
            provisional: self.is_provisional(at),
        })
    }

    /// The due instant alone, as [`OfficeClock::due`] computes it: for the engine's hot path,
    /// which records the version once per case rather than once per deadline.
    pub fn due_at(
        &self,
        from: DateTime<Utc>,
        term: Term,
        counting: &Counting,
    ) -> Result<DateTime<Utc>, CalendarError> {
        Ok(self.due_parts(from, term, counting)?.0)
    }

    fn due_parts(
        &self,
        from: DateTime<Utc>,
        term: Term,
        counting: &Counting,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), CalendarError> {
        let registered_at = self.registration_instant(from)?;
        let extra = u32::from(counting.receipt_and_issue_days_excluded);
        let at = match term.unit {
            Unit::Minutes => self.add_working_minutes(registered_at, u64::from(term.amount))?,
            Unit::Hours => self.add_working_minutes(registered_at, u64::from(term.amount) * 60)?,
            Unit::WorkingDays => {
                let (d, _) = self.locate(registered_at)?;
                let rank =
                    u64::from(self.inner.wd_before[d]) + u64::from(term.amount) + u64::from(extra);
                self.close_of_working_day(rank)?
            }
            Unit::CalendarDays => {
                let (d, _) = self.locate(registered_at)?;
                let last = d as u64 + u64::from(term.amount);
                if last >= self.n() as u64 {
                    let date = self
                        .date_of(d)
                        .checked_add_days(Days::new(u64::from(term.amount)))
                        .unwrap_or(NaiveDate::MAX);
                    return Err(self.inner.national.out_of_range(date));
                }
                let rank = u64::from(self.inner.wd_before[last as usize]) + u64::from(extra);
                self.close_of_working_day(rank)?
            }
        };
        Ok((at, registered_at))
    }

    /// Closing time of the office's working day number `rank` (0-based) in the covered years.
    fn close_of_working_day(&self, rank: u64) -> Result<DateTime<Utc>, CalendarError> {
        let day = usize::try_from(rank)
            .ok()
            .and_then(|r| self.inner.working_days.get(r))
            .copied()
            .ok_or_else(|| self.after_coverage())? as usize;
        let close = self.pattern(day).ends.last().copied().unwrap_or(0);
        self.utc(self.inner.day_start[day] + i64::from(close))
    }

    /// Whether the office works on `date` (a national working day with open hours).
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        let i = self.inner.national.index(date)?;
        Ok(self.pattern(i).total > 0)
    }

    /// What the date is for this office, why, and its open hours.
    pub fn day_info(&self, date: NaiveDate) -> Result<DayInfo, CalendarError> {
        let i = self.inner.national.index(date)?;
        let mut info = self.inner.national.describe(i);
        let p = self.inner.day_pattern[i];
        if p == 0 {
            if info.working {
                info.working = false;
                info.kind = DayKind::OfficeClosed;
                info.reason = reglament_model::text::Text::new(
                    "Мекеме жұмыс істемейді",
                    "Учреждение не работает",
                    Some("The office is closed"),
                );
            }
        } else {
            info.hours = self.inner.schedule.week[usize::from(p - 1)].clone();
        }
        Ok(info)
    }

    /// The office's open hours on `date` (none on a day off): what [`OfficeClock::day_info`]
    /// says of them, without building its description (comparing two calendars day by day).
    pub fn open_hours(&self, date: NaiveDate) -> Result<&[TimeRange], CalendarError> {
        let i = self.inner.national.index(date)?;
        Ok(match self.inner.day_pattern[i] {
            0 => &[],
            p => &self.inner.schedule.week[usize::from(p - 1)],
        })
    }

    /// The open hours on `weekday` by the weekly schedule.
    pub fn weekly_hours(&self, weekday: Weekday) -> &[TimeRange] {
        self.inner.schedule.hours(weekday)
    }
}

fn offset_at_noon(zone: Tz, date: NaiveDate) -> i32 {
    let noon = date.and_hms_opt(12, 0, 0).unwrap_or_default();
    match zone.offset_from_local_datetime(&noon).earliest() {
        Some(o) => o.fix().local_minus_utc(),
        None => zone.offset_from_utc_datetime(&noon).fix().local_minus_utc(),
    }
}

fn clock_version(
    national: &WorkCalendar,
    schedule: &Schedule,
    zone: Tz,
    offsets: &[i32],
) -> String {
    let mut h = Sha256::new();
    h.update(b"reglament-office-clock-v1\n");
    h.update(national.version().as_bytes());
    h.update(b"\n");
    h.update(zone.name().as_bytes());
    h.update(b"\n");
    for day in &schedule.week {
        for r in day {
            h.update(r.start.0.to_le_bytes());
            h.update(r.end.0.to_le_bytes());
        }
        h.update(b";");
    }
    for o in offsets {
        h.update(o.to_le_bytes());
    }
    hex16(&h.finalize())
}

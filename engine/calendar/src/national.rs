//! The national calendar compiled into a table of days: which are working days and why.
//!
//! The order of the rules is the law's (kz-calendar.md §1–2):
//! 1. the five-day week;
//! 2. holidays and religious days off on their dates;
//! 3. the weekday days off given by transfer acts;
//! 4. art. 5 of Law 267-II: a праздничный день on a weekend day gives the next working day
//!    off; several in a row stack (chronological order, each taking the next free day), and
//!    the moved day skips every day off, religious ones and transferred ones included;
//! 5. the working days set by transfer acts, last, because the act's word is final: the
//!    2020 decree made Mon 2020-05-11 a working day although step 4 had given it off.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate};
use sha2::{Digest, Sha256};

use super::data::{Act, HolidayKind, NationalCalendarData, Observance, Weekday};
use super::error::CalendarError;
use super::lunar;
use super::yaml::Located;
use reglament_model::diagnostic::Diagnostic;
use reglament_model::text::Text;

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary working day.
    Working,
    /// A day of the weekly rest (Saturday, Sunday).
    Weekend,
    /// A праздничный день.
    Holiday,
    /// A religious day off (never moved).
    ReligiousDayOff,
    /// The day off given because a holiday fell on a weekend day (Law 267-II art. 5).
    MovedDayOff,
    /// A weekday off by a transfer act.
    TransferredDayOff,
    /// A working day by a transfer act (a Saturday, a Sunday, or a cancelled moved day off).
    TransferredWorkDay,
    /// A working day of the nation on which the office has no hours.
    OfficeClosed,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Working => "working",
            DayKind::Weekend => "weekend",
            DayKind::Holiday => "holiday",
            DayKind::ReligiousDayOff => "religious_day_off",
            DayKind::MovedDayOff => "moved_day_off",
            DayKind::TransferredDayOff => "transferred_day_off",
            DayKind::TransferredWorkDay => "transferred_work_day",
            DayKind::OfficeClosed => "office_closed",
        }
    }
}

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
pub(crate) struct DayEntry {
    pub working: bool,
    pub kind: DayKind,
    /// The weekday whose office hours apply (a worked Saturday keeps the hours of the
    /// weekday it was swapped with).
    pub hours_as: Weekday,
    /// Index into the holidays (for holidays and moved days off).
    holiday: u32,
    /// Index into the transfers.
    transfer: u32,
    /// Day index of the holiday a moved day off comes from, or where a weekend holiday's
    /// day off went.
    link: u32,
}

#[derive(Debug)]
pub(crate) struct NationalInner {
    pub data: NationalCalendarData,
    pub first: NaiveDate,
    pub days: Vec<DayEntry>,
    /// The last decreed year; the years after it, to `last_year`, are provisional.
    pub decreed_last: i32,
    /// The last year of the table (the horizon).
    pub last_year: i32,
    pub version: String,
    pub warnings: Vec<Diagnostic>,
}

/// Where a year of the table comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum YearStatus {
    /// In `covers`: holidays, transfers and Kurban Ait's date as the law and the acts set them.
    Decreed,
    /// After `covers.last_year`: generated from the rules of the law (fixed-date holidays, the
    /// art. 5 moves, Kurban Ait computed), with no transfer acts. The decreed calendar of the
    /// year replaces it; deadlines counted on it may then differ.
    Provisional,
}

/// The national calendar compiled into a day table: `Send + Sync`, cheap to clone.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    pub(crate) inner: Arc<NationalInner>,
}

/// A date as the calendar sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayInfo {
    pub date: NaiveDate,
    pub working: bool,
    pub kind: DayKind,
    /// Why, in Kazakh, Russian and English.
    pub reason: Text,
    /// The holiday's id, for holidays and the days off they give.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holiday: Option<String>,
    /// The act behind the day (law for holidays, the order for transfers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Act>,
    /// Open hours of the office that day (empty on a day off, and for the bare national calendar).
    pub hours: Vec<super::data::TimeRange>,
    /// The day is in a provisional year: generated from the rules of the law, not decreed.
    pub provisional: bool,
}

fn weekday_names(w: Weekday) -> (&'static str, &'static str, &'static str) {
    match w {
        Weekday::Mon => ("дүйсенбі", "понедельник", "Monday"),
        Weekday::Tue => ("сейсенбі", "вторник", "Tuesday"),
        Weekday::Wed => ("сәрсенбі", "среда", "Wednesday"),
        Weekday::Thu => ("бейсенбі", "четверг", "Thursday"),
        Weekday::Fri => ("жұма", "пятница", "Friday"),
        Weekday::Sat => ("сенбі", "суббота", "Saturday"),
        Weekday::Sun => ("жексенбі", "воскресенье", "Sunday"),
    }
}

impl WorkCalendar {
    /// Checks the data and compiles it. `located` places the diagnostics.
    pub(crate) fn compile(
        mut data: NationalCalendarData,
        located: &Located,
    ) -> Result<WorkCalendar, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let first_year = data.covers.first_year;
        let decreed_last = data.covers.last_year;
        if first_year > decreed_last {
            errors.push(located.error(
                "/covers/last_year",
                format!("the last year ({decreed_last}) is before the first ({first_year})"),
            ));
            return Err(errors);
        }
        // The table runs to the end of the provisional years, if any are generated.
        let last_year = match data.provisional {
            Some(p) if p.years < 1 => {
                errors.push(located.error(
                    "/provisional/years",
                    "generate at least one provisional year, or leave `provisional` out",
                ));
                return Err(errors);
            }
            Some(p) => decreed_last.saturating_add(p.years),
            None => decreed_last,
        };
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(first_year, 1, 1),
            NaiveDate::from_ymd_opt(last_year, 12, 31),
        ) else {
            errors.push(located.error("/covers", "the years are out of range"));
            return Err(errors);
        };
        let provisional = |y: i32| y > decreed_last;
        materialise_computed(&mut data, decreed_last, last_year, located, &mut errors);
        let n = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
        let index = |d: NaiveDate| -> Option<usize> {
            (d >= first && d <= last).then(|| (d - first).num_days() as usize)
        };
        let date_of = |i: usize| first + Days::new(i as u64);

        let mut seen = std::collections::HashSet::new();
        for (i, w) in data.weekend.iter().enumerate() {
            if !seen.insert(*w) {
                errors.push(located.error(&format!("/weekend/{i}"), "this day is listed twice"));
            }
        }
        let is_weekend = |d: NaiveDate| data.weekend.contains(&Weekday::from_chrono(d.weekday()));

        let mut days: Vec<DayEntry> = (0..n)
            .map(|i| {
                let d = date_of(i);
                let weekend = is_weekend(d);
                DayEntry {
                    working: !weekend,
                    kind: if weekend {
                        DayKind::Weekend
                    } else {
                        DayKind::Working
                    },
                    hours_as: Weekday::from_chrono(d.weekday()),
                    holiday: NONE,
                    transfer: NONE,
                    link: NONE,
                }
            })
            .collect();

        // 2. Holidays on their dates.
        let mut ids: HashMap<&str, usize> = HashMap::new();
        for (h, hol) in data.holidays.iter().enumerate() {
            let hp = format!("/holidays/{h}");
            if let Some(prev) = ids.insert(hol.id.as_str(), h) {
                errors.push(located.error(
                    &format!("{hp}/id"),
                    format!("the id `{}` is already used by holidays[{prev}]", hol.id),
                ));
            }
            for (k, span) in hol.years.iter().enumerate() {
                if span.to.is_some_and(|to| to < span.from) {
                    errors.push(located.error(&format!("{hp}/years/{k}"), "`to` is before `from`"));
                }
            }
            let applies = |y: i32| hol.years.is_empty() || hol.years.iter().any(|s| s.contains(y));
            let mut dates: Vec<(NaiveDate, String)> = Vec::new();
            match (hol.dates.is_empty(), hol.by_year.is_empty()) {
                (true, true) | (false, false) => errors.push(located.error(
                    &hp,
                    format!(
                        "holiday `{}`: give either `dates` (MM-DD, the same every year) or `by_year` (a date for each year), not both and not neither",
                        hol.id
                    ),
                )),
                (false, true) => {
                    for (k, md) in hol.dates.iter().enumerate() {
                        if md.month == 2 && md.day == 29 {
                            errors.push(located.error(
                                &format!("{hp}/dates/{k}"),
                                "02-29 is not in every year; use `by_year`",
                            ));
                            continue;
                        }
                        for y in first_year..=last_year {
                            if applies(y)
                                && let Some(d) = md.in_year(y)
                            {
                                dates.push((d, format!("{hp}/dates/{k}")));
                            }
                        }
                    }
                }
                (true, false) => {
                    let mut per_year: BTreeMap<i32, (usize, NaiveDate)> = BTreeMap::new();
                    for (k, obs) in hol.by_year.iter().enumerate() {
                        let op = format!("{hp}/by_year/{k}");
                        let y = obs.date.year();
                        // A lunar holiday comes round every 354 or 355 days, so twice in some
                        // years (Kurban Ait in 2039): a second date is a mistake only when
                        // it is too close to the first.
                        if let Some((prev, prev_date)) = per_year.insert(y, (k, obs.date))
                            && (obs.date - prev_date).num_days().abs() < LUNAR_YEAR_DAYS
                        {
                            errors.push(located.error(
                                &format!("{op}/date"),
                                format!("a second date for {y} (the first is by_year[{prev}])"),
                            ));
                        }
                        if y < first_year || y > last_year {
                            warnings.push(located.warning(
                                &format!("{op}/date"),
                                format!("{} is outside the covered years and is not used", obs.date),
                            ));
                            continue;
                        }
                        if !applies(y) {
                            errors.push(located.error(
                                &format!("{op}/date"),
                                format!("`{}` does not apply in {y} (see `years`)", hol.id),
                            ));
                            continue;
                        }
                        // A provisional year is an estimate as a whole; it is said once for
                        // the calendar, not once per date.
                        if !obs.confirmed && !provisional(y) {
                            warnings.push(located.warning(
                                &format!("{op}/date"),
                                format!(
                                    "the date of `{}` in {y} ({}) is not confirmed yet; update it when the act is out",
                                    hol.id, obs.date
                                ),
                            ));
                        }
                        dates.push((obs.date, format!("{op}/date")));
                    }
                    for y in first_year..=last_year {
                        if applies(y) && !per_year.contains_key(&y) {
                            let how = if provisional(y) {
                                "a provisional year: give the holiday a `computed:` rule, or a date"
                            } else {
                                "a covered year: add one (with `confirmed: false` if it is an estimate)"
                            };
                            errors.push(located.error(
                                &format!("{hp}/by_year"),
                                format!("`{}` has no date for {y}, {how}", hol.id),
                            ));
                        }
                    }
                }
            }
            for (d, pointer) in dates {
                let Some(i) = index(d) else { continue };
                if days[i].holiday != NONE && provisional(d.year()) {
                    // A computed lunar date on a fixed holiday (Kurban Ait on Nauryz, Monday
                    // 2032-03-22): the day is off either way, and the law moves only a
                    // holiday that falls on a weekly day of rest, so no day is added.
                    continue;
                }
                if days[i].holiday != NONE {
                    let other = &data.holidays[days[i].holiday as usize].id;
                    errors.push(
                        located.error(&pointer, format!("{d} is already a day off as `{other}`")),
                    );
                    continue;
                }
                days[i].holiday = h as u32;
                days[i].working = false;
                days[i].kind = match hol.kind {
                    HolidayKind::Public => DayKind::Holiday,
                    HolidayKind::Religious => DayKind::ReligiousDayOff,
                };
            }
        }

        // 3. Transfer days off.
        let mut transfer_dates: HashMap<NaiveDate, usize> = HashMap::new();
        for (t, tr) in data.transfers.iter().enumerate() {
            let tp = format!("/transfers/{t}");
            if tr.day_off.is_none() && tr.work_day.is_none() {
                errors
                    .push(located.error(&tp, "a transfer needs a `day_off`, a `work_day` or both"));
                continue;
            }
            for (field, d) in [("day_off", tr.day_off), ("work_day", tr.work_day)] {
                let Some(d) = d else { continue };
                if let Some(prev) = transfer_dates.insert(d, t) {
                    errors.push(located.error(
                        &format!("{tp}/{field}"),
                        format!("{d} is already in transfers[{prev}]"),
                    ));
                }
            }
            if let Some(d) = tr.work_day
                && is_weekend(d)
                && tr.day_off.is_none()
            {
                errors.push(located.error(
                    &format!("{tp}/work_day"),
                    format!("{d} is a weekend day: name the weekday it was swapped with (`day_off`), whose office hours it keeps"),
                ));
            }
            let Some(d) = tr.day_off else { continue };
            let Some(i) = index(d) else {
                warnings.push(located.warning(
                    &format!("{tp}/day_off"),
                    format!("{d} is outside the covered years and is not used"),
                ));
                continue;
            };
            if is_weekend(d) {
                errors.push(located.error(
                    &format!("{tp}/day_off"),
                    format!(
                        "{d} is a {}, already a day off",
                        weekday_names(Weekday::from_chrono(d.weekday())).2
                    ),
                ));
                continue;
            }
            if days[i].holiday != NONE {
                let other = &data.holidays[days[i].holiday as usize].id;
                errors.push(located.error(
                    &format!("{tp}/day_off"),
                    format!("{d} is already a day off as `{other}`"),
                ));
                continue;
            }
            days[i].working = false;
            days[i].kind = DayKind::TransferredDayOff;
            days[i].transfer = t as u32;
        }

        // 4. Art. 5 moves, in date order so that consecutive holidays stack.
        for i in 0..n {
            let e = days[i];
            if e.kind != DayKind::Holiday || !is_weekend(date_of(i)) {
                continue;
            }
            let mut j = i + 1;
            while j < n && !days[j].working {
                j += 1;
            }
            if j >= n {
                errors.push(located.error(
                    "/covers/last_year",
                    format!(
                        "the day off for {} on {} would fall after the covered years: cover the next year too",
                        data.holidays[e.holiday as usize].id,
                        date_of(i)
                    ),
                ));
                continue;
            }
            days[j].working = false;
            days[j].kind = DayKind::MovedDayOff;
            days[j].holiday = e.holiday;
            days[j].link = i as u32;
            days[i].link = j as u32;
        }

        // 5. Transfer working days: the act is final.
        for (t, tr) in data.transfers.iter().enumerate() {
            let Some(d) = tr.work_day else { continue };
            let Some(i) = index(d) else {
                warnings.push(located.warning(
                    &format!("/transfers/{t}/work_day"),
                    format!("{d} is outside the covered years and is not used"),
                ));
                continue;
            };
            if matches!(days[i].kind, DayKind::Holiday | DayKind::ReligiousDayOff) {
                let other = &data.holidays[days[i].holiday as usize].id;
                errors.push(located.error(
                    &format!("/transfers/{t}/work_day"),
                    format!("{d} is `{other}`; a holiday cannot be made a working day by transfer"),
                ));
                continue;
            }
            if days[i].kind == DayKind::MovedDayOff {
                // The moved day off is cancelled; the holiday no longer points at it.
                let from = days[i].link as usize;
                days[from].link = NONE;
            }
            days[i].working = true;
            days[i].kind = DayKind::TransferredWorkDay;
            days[i].transfer = t as u32;
            days[i].holiday = NONE;
            days[i].link = NONE;
            if let Some(off) = tr.day_off {
                days[i].hours_as = Weekday::from_chrono(off.weekday());
            }
        }

        if !errors.is_empty() {
            errors.extend(warnings);
            return Err(errors);
        }
        let version = national_version(&data, last_year, &days);
        Ok(WorkCalendar {
            inner: Arc::new(NationalInner {
                data,
                first,
                days,
                decreed_last,
                last_year,
                version,
                warnings,
            }),
        })
    }

    /// The calendar's id (`kz`).
    pub fn id(&self) -> &str {
        &self.inner.data.id
    }

    /// The data the calendar was compiled from.
    pub fn data(&self) -> &NationalCalendarData {
        &self.inner.data
    }

    /// The first and last covered dates.
    pub fn range(&self) -> (NaiveDate, NaiveDate) {
        let first = self.inner.first;
        (first, first + Days::new(self.inner.days.len() as u64 - 1))
    }

    /// Content hash of what the calendar decides (which days work, and with which weekday's
    /// hours) over the covered years. Names, notes and sources do not change it.
    pub fn version(&self) -> &str {
        &self.inner.version
    }

    /// Diagnostics that did not stop loading (unconfirmed dates, data outside the covered years).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.inner.warnings
    }

    pub(crate) fn index(&self, date: NaiveDate) -> Result<usize, CalendarError> {
        let (first, last) = self.range();
        if date < first || date > last {
            return Err(self.out_of_range(date));
        }
        Ok((date - first).num_days() as usize)
    }

    /// The error for a date the table does not hold: before it, or beyond its horizon.
    pub(crate) fn out_of_range(&self, date: NaiveDate) -> CalendarError {
        let inner = &self.inner;
        if date > self.range().1 {
            return CalendarError::BeyondHorizon {
                date,
                calendar: inner.data.id.clone(),
                decreed_until: inner.decreed_last,
                horizon: inner.last_year,
            };
        }
        CalendarError::OutOfRange {
            date,
            calendar: inner.data.id.clone(),
            first: inner.data.covers.first_year,
            last: inner.last_year,
        }
    }

    /// The last decreed year: the data is complete for it by law and by act.
    pub fn decreed_until(&self) -> i32 {
        self.inner.decreed_last
    }

    /// The last day of the last decreed year.
    pub fn last_decreed_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.inner.decreed_last, 12, 31).unwrap_or(self.range().1)
    }

    /// The last year the calendar can count in: the last provisional year, or the last
    /// decreed one when none are generated.
    pub fn horizon(&self) -> i32 {
        self.inner.last_year
    }

    /// Whether `year` is decreed or generated from the rules of the law; `None` outside the table.
    pub fn year_status(&self, year: i32) -> Option<YearStatus> {
        let inner = &self.inner;
        if year < inner.data.covers.first_year || year > inner.last_year {
            None
        } else if year > inner.decreed_last {
            Some(YearStatus::Provisional)
        } else {
            Some(YearStatus::Decreed)
        }
    }

    /// Whether `date` lies in a provisional year.
    pub fn is_provisional(&self, date: NaiveDate) -> bool {
        date.year() > self.inner.decreed_last
    }

    pub(crate) fn entry(&self, i: usize) -> &DayEntry {
        &self.inner.days[i]
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.days.len()
    }

    /// Whether `date` is a working day of the nation.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.inner.days[self.index(date)?].working)
    }

    /// What the date is and why (no office hours: see [`super::OfficeClock::day_info`]).
    pub fn day_info(&self, date: NaiveDate) -> Result<DayInfo, CalendarError> {
        let i = self.index(date)?;
        Ok(self.describe(i))
    }

    pub(crate) fn describe(&self, i: usize) -> DayInfo {
        let inner = &self.inner;
        let e = inner.days[i];
        let date = inner.first + Days::new(i as u64);
        let day = |j: u32| inner.first + Days::new(u64::from(j));
        let holiday = (e.holiday != NONE).then(|| &inner.data.holidays[e.holiday as usize]);
        let transfer = (e.transfer != NONE).then(|| &inner.data.transfers[e.transfer as usize]);
        let (wk, wr, we) = weekday_names(Weekday::from_chrono(date.weekday()));
        let reason = match (e.kind, holiday, transfer) {
            (DayKind::Holiday, Some(h), _) => {
                if e.link != NONE {
                    let to = day(e.link);
                    Text::new(
                        format!("{} ({wk}; демалыс {to} күніне ауыстырылды)", h.name.kk),
                        format!("{} ({wr}; выходной перенесён на {to})", h.name.ru),
                        Some(&format!(
                            "{} (a {we}; the day off moves to {to})",
                            h.name.get(reglament_model::text::Lang::En)
                        )),
                    )
                } else {
                    h.name.clone()
                }
            }
            (DayKind::ReligiousDayOff, Some(h), _) => {
                if e.working || !data_is_weekend(&inner.data, date) {
                    h.name.clone()
                } else {
                    Text::new(
                        format!("{} ({wk}; ауыстырылмайды)", h.name.kk),
                        format!("{} ({wr}; не переносится)", h.name.ru),
                        Some(&format!(
                            "{} (a {we}; religious days off are not moved)",
                            h.name.get(reglament_model::text::Lang::En)
                        )),
                    )
                }
            }
            (DayKind::MovedDayOff, Some(h), _) => {
                let from = day(e.link);
                Text::new(
                    format!(
                        "Демалыс күні: {} ({from}) мерекесінен ауыстырылған",
                        h.name.kk
                    ),
                    format!(
                        "Выходной день: перенос с праздника «{}» ({from})",
                        h.name.ru
                    ),
                    Some(&format!(
                        "Day off moved from {} ({from})",
                        h.name.get(reglament_model::text::Lang::En)
                    )),
                )
            }
            (DayKind::TransferredDayOff, _, Some(t)) => match t.work_day {
                Some(w) => Text::new(
                    format!("Ауыстырылған демалыс күні ({w} жұмыс күні)"),
                    format!("Перенесённый выходной день (рабочий день {w})"),
                    Some(&format!("Day off transferred by act (worked on {w})")),
                ),
                None => Text::new(
                    "Ауыстырылған демалыс күні",
                    "Перенесённый выходной день",
                    Some("Day off transferred by act"),
                ),
            },
            (DayKind::TransferredWorkDay, _, Some(t)) => match t.day_off {
                Some(o) => Text::new(
                    format!("Ауыстыру бойынша жұмыс күні ({wk}; демалыс {o})"),
                    format!("Рабочий день по переносу ({wr}; выходной {o})"),
                    Some(&format!(
                        "Working day by transfer act (a {we}; day off on {o})"
                    )),
                ),
                None => Text::new(
                    format!("Ауыстыру бойынша жұмыс күні ({wk})"),
                    format!("Рабочий день по переносу ({wr})"),
                    Some(&format!("Working day by transfer act (a {we})")),
                ),
            },
            (DayKind::Weekend, _, _) => Text::new(
                format!("Демалыс күні ({wk})"),
                format!("Выходной день ({wr})"),
                Some(&format!("Weekend ({we})")),
            ),
            _ => Text::new(
                format!("Жұмыс күні ({wk})"),
                format!("Рабочий день ({wr})"),
                Some(&format!("Working day ({we})")),
            ),
        };
        let source = match e.kind {
            DayKind::TransferredDayOff | DayKind::TransferredWorkDay => {
                transfer.map(|t| t.source.clone())
            }
            DayKind::ReligiousDayOff => holiday.map(|h| {
                h.by_year
                    .iter()
                    .find(|o| o.date == date)
                    .and_then(|o| o.source.clone())
                    .unwrap_or_else(|| h.source.clone())
            }),
            _ => holiday.map(|h| h.source.clone()),
        };
        DayInfo {
            date,
            working: e.working,
            kind: e.kind,
            reason,
            holiday: holiday.map(|h| h.id.clone()),
            source,
            hours: Vec::new(),
            provisional: date.year() > inner.decreed_last,
        }
    }
}

/// Days between two dates of a lunar holiday that can both fall in one year (354 or 355).
const LUNAR_YEAR_DAYS: i64 = 300;

/// Writes the computed dates of the provisional years into the data, as unconfirmed
/// `by_year` entries, so that the data carries every date it decides: a calendar version
/// recorded with a case then compiles again to the same days whatever a later release of
/// the computation would say. A year that has a date of its own keeps it.
fn materialise_computed(
    data: &mut NationalCalendarData,
    decreed_last: i32,
    last_year: i32,
    located: &Located,
    errors: &mut Vec<Diagnostic>,
) {
    for (h, hol) in data.holidays.iter_mut().enumerate() {
        let Some(rule) = hol.computed else { continue };
        if !hol.dates.is_empty() {
            errors.push(located.error(
                &format!("/holidays/{h}/computed"),
                format!(
                    "holiday `{}` has fixed `dates`; `computed` goes with `by_year`",
                    hol.id
                ),
            ));
            continue;
        }
        let applies = |y: i32| hol.years.is_empty() || hol.years.iter().any(|s| s.contains(y));
        let given: std::collections::HashSet<i32> =
            hol.by_year.iter().map(|o| o.date.year()).collect();
        for y in decreed_last.saturating_add(1)..=last_year {
            if !applies(y) || given.contains(&y) {
                continue;
            }
            for date in lunar::dates_in(rule, y) {
                hol.by_year.push(Observance {
                    date,
                    confirmed: false,
                    source: None,
                    note: Some(format!(
                        "computed ({}) for a provisional year",
                        rule.as_str()
                    )),
                });
            }
        }
    }
}

fn data_is_weekend(data: &NationalCalendarData, d: NaiveDate) -> bool {
    data.weekend.contains(&Weekday::from_chrono(d.weekday()))
}

fn national_version(data: &NationalCalendarData, last_year: i32, days: &[DayEntry]) -> String {
    let mut h = Sha256::new();
    h.update(b"reglament-national-calendar-v1\n");
    h.update(data.id.as_bytes());
    h.update(data.covers.first_year.to_le_bytes());
    h.update(data.covers.last_year.to_le_bytes());
    // Only calendars with provisional years hash this, so that every version recorded before
    // they existed compiles to the same hash again.
    if data.provisional.is_some() {
        h.update(b"provisional-to");
        h.update(last_year.to_le_bytes());
    }
    for d in days {
        h.update([u8::from(d.working), d.hours_as as u8]);
    }
    hex16(&h.finalize())
}

pub(crate) fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

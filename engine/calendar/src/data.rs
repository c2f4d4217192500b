//! The calendar files as analysts write them: `regulations/calendars/<id>.yaml` (a national
//! calendar) and `regulations/offices/<region>.yaml` (a region's offices and their hours).
//!
//! These types are the format: the JSON Schemas in `regulations/schema/` are generated from
//! them, and [`super::load`] maps the YAML onto them with positions for every mistake.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use reglament_model::text::Text;

/// A national calendar: which days are days off, by law and by act, over a range of years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Reglament national calendar")]
pub struct NationalCalendarData {
    /// Identifier the regulations refer to (`calendar: kz`); the file is `<id>.yaml`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]*$"))]
    pub id: String,
    pub name: Text,
    /// The decreed years: those the data is complete for, by law and by act.
    pub covers: Covers,
    /// Years after `covers.last_year` generated from the rules of the law alone (fixed-date
    /// holidays, the art. 5 moves, computed dates of lunar holidays), marked provisional
    /// until the decreed calendar replaces them. Without it a computation that needs a year
    /// after `covers.last_year` is an error, never a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisional: Option<ProvisionalYears>,
    /// The days of the week that are days off (a five-day week: `[sat, sun]`).
    #[schemars(length(min = 1))]
    pub weekend: Vec<Weekday>,
    /// Holidays and religious days off, each with the years it applies.
    pub holidays: Vec<Holiday>,
    /// Days off moved by act: a weekday off, a weekend day (or a weekday) worked.
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Dates where the independent implementation used in the cross-check (python
    /// `holidays`) disagrees with this data, and why. The cross-check test fails on any
    /// difference not listed here, and on any listed one that is not a difference.
    #[serde(default)]
    pub oracle_differences: Vec<OracleDifference>,
    /// Free remarks for the next analyst.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The first and last year the data covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Covers {
    #[schemars(range(min = 1991, max = 2200))]
    pub first_year: i32,
    #[schemars(range(min = 1991, max = 2200))]
    pub last_year: i32,
}

/// How many years after the decreed ones are generated from the rules of the law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionalYears {
    /// The number of years generated after `covers.last_year`, e.g. 30.
    #[schemars(range(min = 1, max = 100))]
    pub years: i32,
}

/// A holiday or a religious day off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// Identifier, lower case with hyphens, e.g. `nauryz`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]*$"))]
    pub id: String,
    pub name: Text,
    /// `public`: a праздничный день (Law 267-II art. 5): when it falls on a weekend day,
    /// the next working day is a day off. `religious`: a day off that is never moved
    /// (Labour Code art. 84 p.5: 7 January, the first day of Kurban Ait).
    pub kind: HolidayKind,
    /// Month and day (`MM-DD`) of a holiday on a fixed date; several for a holiday of
    /// several days (`[03-21, 03-22, 03-23]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<MonthDay>,
    /// Exact dates of a holiday whose date is set each year (Kurban Ait): one per decreed
    /// year (two in a year when a lunar holiday comes round twice, about 354 days apart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_year: Vec<Observance>,
    /// How the date of a `by_year` holiday is computed in provisional years that have no
    /// date of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed: Option<Computation>,
    /// The years the holiday is a day off. Leave out when it applies in every covered year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<YearSpan>,
    /// The act that makes it a day off.
    pub source: Act,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolidayKind {
    /// A праздничный день: moved to the next working day when it falls on a weekend day.
    Public,
    /// A religious day off: never moved.
    Religious,
}

/// A rule that computes a holiday's date for a provisional year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Computation {
    /// 10 Dhu al-Hijjah (the first day of Kurban Ait, Eid al-Adha) by the Umm al-Qura calendar
    /// (the KACST tables, as the ICU4X `icu_calendar` crate has them). ДУМК may publish a date
    /// one day off: a computed date is an estimate until the year is decreed.
    EidAlAdha,
}

impl Computation {
    pub fn as_str(self) -> &'static str {
        match self {
            Computation::EidAlAdha => "eid_al_adha",
        }
    }
}

/// One year's date of a holiday whose date is set each year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observance {
    pub date: NaiveDate,
    /// `false` while the date is an estimate (the loader warns about it).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub confirmed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Act>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A range of years, both ends included; an open end means "until further notice".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct YearSpan {
    pub from: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i32>,
}

impl YearSpan {
    pub fn contains(&self, year: i32) -> bool {
        year >= self.from && self.to.is_none_or(|to| year <= to)
    }
}

/// A legal act, as cited, and where it is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Act {
    /// The act as cited, e.g. «Приказ Министра труда и социальной защиты населения РК от 21.11.2024».
    pub act: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A transfer of a day off by act (Labour Code art. 85).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The weekday that becomes a day off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_off: Option<NaiveDate>,
    /// The day that becomes a working day: a Saturday, a Sunday, or a weekday that would
    /// otherwise have been a moved day off (2020-05-11). The act's word is final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_day: Option<NaiveDate>,
    pub source: Act,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A date where the cross-check oracle disagrees with this data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OracleDifference {
    pub date: NaiveDate,
    /// What the oracle says the day is.
    pub oracle_says: DayStatus,
    /// Why this data is right (cite the source).
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayStatus {
    Working,
    DayOff,
}

/// A region's offices, their weekly hours and time zone (`regulations/offices/<region>.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Reglament offices of a region")]
pub struct OfficesData {
    /// The region's id, as regulations refer to it (`region: atyrau`); the file is `<region>.yaml`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]*$"))]
    pub region: String,
    pub name: Text,
    /// The national calendar the offices follow.
    #[serde(default = "default_calendar")]
    pub calendar: String,
    /// The region's IANA time zone, e.g. `Asia/Almaty`, `Asia/Atyrau`.
    pub time_zone: String,
    /// Where the office list comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Act>,
    /// Named weekly schedules that offices refer to.
    pub schedules: BTreeMap<String, ScheduleData>,
    /// How the e-gov portal's submissions are registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<PortalData>,
    pub offices: Vec<OfficeData>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn default_calendar() -> String {
    "kz".to_string()
}

/// Weekly opening hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Opening hours by day of the week. A day not listed is closed.
    #[schemars(length(min = 1))]
    pub hours: Vec<HoursRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The hours of some days of the week: open to close, less the breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursRule {
    #[schemars(length(min = 1))]
    pub days: Vec<Weekday>,
    pub open: ClockTime,
    pub close: ClockTime,
    /// Lunch and other breaks, `HH:MM-HH:MM`, inside the open hours.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaks: Vec<TimeRange>,
}

/// An office where applications are received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficeData {
    /// Identifier, lower case with hyphens, prefixed by the region, e.g. `nko-aiyrtau-ozsp`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"))]
    pub id: String,
    pub kind: OfficeKind,
    pub name: Text,
    pub address: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The key of a schedule under `schedules:`.
    pub schedule: String,
    /// For a service centre or a rural akim: the provider office (of the same region) it hands
    /// applications to, and from which it gets the result back to issue. A list when the office
    /// receives applicants of several districts (a regional service centre): the applicant's
    /// district's office is then chosen at registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwards_to: Option<ForwardsTo>,
    /// Warnings before a breach for this office's tasks, in percent of each task's working
    /// time (e.g. `[50, 80]`), where the regulation sets none of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(range(min = 1, max = 99)), extend("uniqueItems" = true))]
    pub warnings: Vec<u8>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

// One kind of office for regulations (which office performs a role) and offices files.
pub use reglament_model::model::OfficeKind;

/// Where a service centre or a rural akim hands applications: one provider office, or one of
/// several (by the applicant's district).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ForwardsTo {
    One(String),
    /// Checked when loaded: at least one, none twice.
    Many(Vec<String>),
}

impl ForwardsTo {
    /// The provider offices, in the file's order.
    pub fn offices(&self) -> &[String] {
        match self {
            ForwardsTo::One(o) => std::slice::from_ref(o),
            ForwardsTo::Many(list) => list,
        }
    }
}

/// The e-gov portal: it accepts at any hour, but what arrives outside working hours is
/// registered at the next opening of the provider office the application is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalData {
    pub name: Text,
    pub url: String,
    /// When a submission counts as received.
    pub registration: PortalRegistration,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PortalRegistration {
    /// At once inside the provider office's open hours, otherwise at its next opening.
    NextOpeningOfProviderOffice,
}

/// A day of the week.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub fn from_chrono(w: chrono::Weekday) -> Self {
        match w {
            chrono::Weekday::Mon => Weekday::Mon,
            chrono::Weekday::Tue => Weekday::Tue,
            chrono::Weekday::Wed => Weekday::Wed,
            chrono::Weekday::Thu => Weekday::Thu,
            chrono::Weekday::Fri => Weekday::Fri,
            chrono::Weekday::Sat => Weekday::Sat,
            chrono::Weekday::Sun => Weekday::Sun,
        }
    }

    /// 0 for Monday to 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A month and day, written `MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

impl MonthDay {
    /// The date in `year`, if the month has the day.
    pub fn in_year(self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
    }
    pub fn of(date: NaiveDate) -> Self {
        MonthDay {
            month: date.month(),
            day: date.day(),
        }
    }
}

impl TryFrom<String> for MonthDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let bad = || format!("`{s}` is not a month and day; write MM-DD, e.g. 03-21");
        let (m, d) = s.split_once('-').ok_or_else(bad)?;
        if m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let month: u32 = m.parse().map_err(|_| bad())?;
        let day: u32 = d.parse().map_err(|_| bad())?;
        // 2000 is a leap year, so 02-29 passes here; the loader rejects it for fixed holidays.
        if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
            return Err(format!("`{s}`: there is no such day in the year"));
        }
        Ok(MonthDay { month, day })
    }
}

impl From<MonthDay> for String {
    fn from(md: MonthDay) -> String {
        md.to_string()
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl JsonSchema for MonthDay {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MonthDay".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A month and day, MM-DD, e.g. 03-21.",
            "pattern": "^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
        })
    }
}

/// A local time of day in minutes after midnight, written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(pub u16);

impl ClockTime {
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }
    pub fn hm(h: u16, m: u16) -> Self {
        ClockTime(h * 60 + m)
    }
}

fn parse_hm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl TryFrom<String> for ClockTime {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        parse_hm(&s)
            .map(ClockTime)
            .ok_or_else(|| format!("`{s}` is not a time of day; write HH:MM, e.g. 09:00"))
    }
}

impl From<ClockTime> for String {
    fn from(t: ClockTime) -> String {
        t.to_string()
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl JsonSchema for ClockTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ClockTime".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A local time of day, HH:MM (24-hour), e.g. 09:00.",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"
        })
    }
}

/// A stretch of a day, written `HH:MM-HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeRange {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl TryFrom<String> for TimeRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let bad = || format!("`{s}` is not a time range; write HH:MM-HH:MM, e.g. 13:00-14:00");
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let start = parse_hm(a).ok_or_else(bad)?;
        let end = parse_hm(b).ok_or_else(bad)?;
        Ok(TimeRange {
            start: ClockTime(start),
            end: ClockTime(end),
        })
    }
}

impl From<TimeRange> for String {
    fn from(r: TimeRange) -> String {
        r.to_string()
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

impl JsonSchema for TimeRange {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimeRange".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A stretch of the day, HH:MM-HH:MM, e.g. 13:00-14:00.",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_small_string_types() {
        assert_eq!(
            MonthDay::try_from("03-21".to_string()),
            Ok(MonthDay { month: 3, day: 21 })
        );
        assert!(MonthDay::try_from("02-30".to_string()).is_err());
        assert!(MonthDay::try_from("3-21".to_string()).is_err());
        assert_eq!(ClockTime::try_from("09:00".to_string()), Ok(ClockTime(540)));
        assert_eq!(ClockTime::try_from("9:30".to_string()), Ok(ClockTime(570)));
        assert!(ClockTime::try_from("24:00".to_string()).is_err());
        let r = TimeRange::try_from("13:00-14:30".to_string()).unwrap();
        assert_eq!((r.start.0, r.end.0), (780, 870));
        assert_eq!(r.to_string(), "13:00-14:30");
        assert!(
            YearSpan {
                from: 2013,
                to: None
            }
            .contains(2027)
        );
        assert!(
            !YearSpan {
                from: 2012,
                to: Some(2021)
            }
            .contains(2022)
        );
    }
}

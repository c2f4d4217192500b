//! Durations as analysts write them: `15 minutes`, `2 hours`, `1 working day`,
//! `10 working days`, `30 calendar days`, with Russian and Kazakh spellings as aliases.
//!
//! Minutes and hours are *working* time: they are counted only inside open hours.
//! Working days and calendar days follow the term-counting rules of the calendar.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The unit of a [`Term`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Minutes,
    Hours,
    WorkingDays,
    CalendarDays,
}

impl Unit {
    /// The canonical English spelling for `amount` of this unit.
    pub fn spelling(self, amount: u32) -> &'static str {
        let one = amount == 1;
        match (self, one) {
            (Unit::Minutes, true) => "minute",
            (Unit::Minutes, false) => "minutes",
            (Unit::Hours, true) => "hour",
            (Unit::Hours, false) => "hours",
            (Unit::WorkingDays, true) => "working day",
            (Unit::WorkingDays, false) => "working days",
            (Unit::CalendarDays, true) => "calendar day",
            (Unit::CalendarDays, false) => "calendar days",
        }
    }
}

/// A duration or statutory term: an amount of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Term {
    pub amount: u32,
    pub unit: Unit,
}

impl Term {
    pub const fn new(amount: u32, unit: Unit) -> Self {
        Term { amount, unit }
    }
    pub const fn minutes(n: u32) -> Self {
        Term::new(n, Unit::Minutes)
    }
    pub const fn hours(n: u32) -> Self {
        Term::new(n, Unit::Hours)
    }
    pub const fn working_days(n: u32) -> Self {
        Term::new(n, Unit::WorkingDays)
    }
    pub const fn calendar_days(n: u32) -> Self {
        Term::new(n, Unit::CalendarDays)
    }

    /// The longest term of each unit a regulation may state: about ten years of an office's
    /// working time. The national calendar generates 30 provisional years after its last
    /// decreed year (regulations/calendars/README.md), so every term up to these is counted
    /// from any instant in the 18 years after the last decreed year, at an office open at
    /// least 7 hours a working day; a longer one is refused by validation (E017) rather than
    /// left to fail when a case reaches it.
    pub const LONGEST: [Term; 4] = [
        Term::minutes(1_200_000),
        Term::hours(20_000),
        Term::working_days(2_500),
        Term::calendar_days(3_650),
    ];

    /// The longest term of this term's unit (see [`Term::LONGEST`]).
    pub fn longest_of_its_unit(self) -> Term {
        let i = match self.unit {
            Unit::Minutes => 0,
            Unit::Hours => 1,
            Unit::WorkingDays => 2,
            Unit::CalendarDays => 3,
        };
        Term::LONGEST[i]
    }

    /// Whether the calendar can be relied on to count this term (see [`Term::LONGEST`]).
    pub fn within_reach(self) -> bool {
        self.amount <= self.longest_of_its_unit().amount
    }

    /// The term in working minutes, given the length of a working day in minutes.
    /// Calendar days are converted at 5 working days per 7 calendar days (rounded up),
    /// which is only good for comparisons such as the linter's path sums.
    pub fn approx_working_minutes(self, day_minutes: u32) -> u64 {
        let n = u64::from(self.amount);
        let day = u64::from(day_minutes);
        match self.unit {
            Unit::Minutes => n,
            Unit::Hours => n * 60,
            Unit::WorkingDays => n * day,
            Unit::CalendarDays => (n * 5).div_ceil(7) * day,
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.unit.spelling(self.amount))
    }
}

/// Why a duration did not parse. The message is meant for an analyst.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TermError {
    #[error("empty duration: write an amount and a unit, e.g. `5 working days`")]
    Empty,
    #[error("a duration starts with a whole number, e.g. `5 working days`; found `{0}`")]
    NoAmount(String),
    #[error("the amount `{0}` is too large")]
    TooLarge(String),
    #[error("the duration `{0}` has no unit: write e.g. `{0} working days` or `{0} minutes`")]
    NoUnit(String),
    #[error("`{unit}` is ambiguous: write `working days` or `calendar days`")]
    AmbiguousDay { unit: String },
    #[error("unknown unit `{unit}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownUnit {
        unit: String,
        suggestion: Option<String>,
    },
    #[error("a duration of zero is not a duration")]
    Zero,
}

/// Every spelling accepted for each unit (lower case, single spaces).
/// Russian and Kazakh forms follow the seeds: «15 минут», «2 часа», «1 рабочий день»,
/// «10 рабочих дней», «30 календарных дней», «5 жұмыс күні», «30 күнтізбелік күн».
/// regulations/README.md lists them all for analysts; `tests/docs.rs` keeps the two in step.
pub const ALIASES: &[(&str, Unit)] = &[
    ("minute", Unit::Minutes),
    ("minutes", Unit::Minutes),
    ("min", Unit::Minutes),
    ("минута", Unit::Minutes),
    ("минуты", Unit::Minutes),
    ("минут", Unit::Minutes),
    ("мин", Unit::Minutes),
    ("hour", Unit::Hours),
    ("hours", Unit::Hours),
    ("working hour", Unit::Hours),
    ("working hours", Unit::Hours),
    ("час", Unit::Hours),
    ("часа", Unit::Hours),
    ("часов", Unit::Hours),
    ("рабочий час", Unit::Hours),
    ("рабочих часа", Unit::Hours),
    ("рабочих часов", Unit::Hours),
    ("сағат", Unit::Hours),
    ("жұмыс сағаты", Unit::Hours),
    ("working day", Unit::WorkingDays),
    ("working days", Unit::WorkingDays),
    ("business day", Unit::WorkingDays),
    ("business days", Unit::WorkingDays),
    ("рабочий день", Unit::WorkingDays),
    ("рабочих дня", Unit::WorkingDays),
    ("рабочих дней", Unit::WorkingDays),
    ("жұмыс күні", Unit::WorkingDays),
    ("жұмыс күн", Unit::WorkingDays),
    ("calendar day", Unit::CalendarDays),
    ("calendar days", Unit::CalendarDays),
    ("календарный день", Unit::CalendarDays),
    ("календарных дня", Unit::CalendarDays),
    ("календарных дней", Unit::CalendarDays),
    ("күнтізбелік күн", Unit::CalendarDays),
    ("күнтізбелік күні", Unit::CalendarDays),
];

const AMBIGUOUS: &[&str] = &["day", "days", "день", "дня", "дней", "күн", "күні"];

/// The canonical unit spellings, offered as suggestions.
pub const CANONICAL_UNITS: &[&str] = &[
    "minutes",
    "hours",
    "working days",
    "calendar days",
    "minute",
    "hour",
    "working day",
    "calendar day",
];

impl FromStr for Term {
    type Err = TermError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(TermError::Empty);
        }
        let digits_end = text
            .char_indices()
            .find(|(_, c)| !c.is_ascii_digit())
            .map_or(text.len(), |(i, _)| i);
        if digits_end == 0 {
            return Err(TermError::NoAmount(text.to_string()));
        }
        let amount: u32 = text[..digits_end]
            .parse()
            .map_err(|_| TermError::TooLarge(text[..digits_end].to_string()))?;
        // Analysts copy "5 (бес) жұмыс күні" and "10 (десяти) рабочих дней" from the paper.
        let mut rest = text[digits_end..].trim();
        if rest.starts_with('(')
            && let Some(close) = rest.find(')')
        {
            rest = rest[close + 1..].trim();
        }
        if rest.is_empty() {
            return Err(TermError::NoUnit(text[..digits_end].to_string()));
        }
        let unit_text = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some((_, unit)) = ALIASES.iter().find(|(alias, _)| *alias == unit_text) {
            if amount == 0 {
                return Err(TermError::Zero);
            }
            return Ok(Term::new(amount, *unit));
        }
        // Units are lower case so that the JSON Schema pattern an editor checks agrees with us.
        let lower = unit_text.to_lowercase();
        if let Some((alias, _)) = ALIASES.iter().find(|(alias, _)| *alias == lower) {
            return Err(TermError::UnknownUnit {
                unit: unit_text,
                suggestion: Some((*alias).to_string()),
            });
        }
        let unit_text = lower;
        if AMBIGUOUS.contains(&unit_text.as_str()) {
            return Err(TermError::AmbiguousDay { unit: unit_text });
        }
        let suggestion = suggest(&unit_text, ALIASES.iter().map(|(a, _)| *a))
            .map(|alias| canonical_for(alias, amount));
        Err(TermError::UnknownUnit {
            unit: unit_text,
            suggestion,
        })
    }
}

fn canonical_for(alias: &str, amount: u32) -> String {
    let unit = ALIASES
        .iter()
        .find(|(a, _)| *a == alias)
        .map(|(_, u)| *u)
        .unwrap_or(Unit::WorkingDays);
    unit.spelling(amount).to_string()
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Edit distance catches typos; Jaro-Winkler catches a word cut short or run on ("ending").
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let edit = strsim::normalized_damerau_levenshtein(word, c);
        let prefix = strsim::jaro_winkler(word, c) - 0.25;
        let score = edit.max(prefix);
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.6).map(|(_, c)| c)
}

/// The JSON Schema pattern that accepts exactly what [`Term::from_str`] accepts
/// (apart from the zero amount), so an editor flags a typo as the analyst types.
pub fn json_schema_pattern() -> String {
    let mut units: Vec<String> = ALIASES
        .iter()
        .map(|(alias, _)| alias.replace(' ', "\\s+"))
        .collect();
    // Longest first: "рабочих дней" must not be shadowed by a shorter prefix.
    units.sort_by_key(|u| std::cmp::Reverse(u.len()));
    units.dedup();
    format!(
        "^\\s*[0-9]+\\s*(\\([^)]*\\)\\s*)?({})\\s*$",
        units.join("|")
    )
}

impl schemars::JsonSchema for Term {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration: an amount and a unit, e.g. `15 minutes`, `2 hours`, `1 working day`, `10 working days`, `30 calendar days` (Russian and Kazakh spellings are accepted).",
            "pattern": json_schema_pattern(),
            "examples": ["15 minutes", "2 hours", "1 working day", "10 working days", "30 calendar days"]
        })
    }
}

impl Serialize for Term {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Term {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_english_forms() {
        assert_eq!("15 minutes".parse(), Ok(Term::minutes(15)));
        assert_eq!("2 hours".parse(), Ok(Term::hours(2)));
        assert_eq!("1 working day".parse(), Ok(Term::working_days(1)));
        assert_eq!("10 working  days".parse(), Ok(Term::working_days(10)));
        assert!(
            "10 Working Days"
                .parse::<Term>()
                .unwrap_err()
                .to_string()
                .contains("did you mean `working days`")
        );
        assert_eq!("30 calendar days".parse(), Ok(Term::calendar_days(30)));
    }

    #[test]
    fn parses_russian_and_kazakh_forms() {
        assert_eq!("15 минут".parse(), Ok(Term::minutes(15)));
        assert_eq!("2 часа".parse(), Ok(Term::hours(2)));
        assert_eq!("10 рабочих дней".parse(), Ok(Term::working_days(10)));
        assert_eq!("30 календарных дней".parse(), Ok(Term::calendar_days(30)));
        assert_eq!("5 (бес) жұмыс күні".parse(), Ok(Term::working_days(5)));
        assert_eq!("2 (екі) сағат".parse(), Ok(Term::hours(2)));
        assert_eq!("30 күнтізбелік күн".parse(), Ok(Term::calendar_days(30)));
    }

    #[test]
    fn typo_gets_a_suggestion() {
        let err = "5 workng days".parse::<Term>().unwrap_err();
        assert_eq!(
            err,
            TermError::UnknownUnit {
                unit: "workng days".into(),
                suggestion: Some("working days".into())
            }
        );
        assert_eq!(
            err.to_string(),
            "unknown unit `workng days`; did you mean `working days`?"
        );
        let err = "1 minnute".parse::<Term>().unwrap_err();
        assert!(err.to_string().contains("did you mean `minute`"), "{err}");
    }

    #[test]
    fn rejects_ambiguous_and_malformed() {
        assert!(matches!(
            "5 days".parse::<Term>(),
            Err(TermError::AmbiguousDay { .. })
        ));
        assert_eq!("".parse::<Term>(), Err(TermError::Empty));
        assert_eq!(
            "five days".parse::<Term>(),
            Err(TermError::NoAmount("five days".into()))
        );
        assert_eq!("5".parse::<Term>(), Err(TermError::NoUnit("5".into())));
        assert_eq!("0 minutes".parse::<Term>(), Err(TermError::Zero));
        assert!(matches!(
            "99999999999 minutes".parse::<Term>(),
            Err(TermError::TooLarge(_))
        ));
        assert!(matches!(
            "5 fortnights".parse::<Term>(),
            Err(TermError::UnknownUnit {
                suggestion: None,
                ..
            })
        ));
    }

    #[test]
    fn the_longest_terms_are_about_ten_years_in_every_unit() {
        assert!(Term::working_days(2_500).within_reach());
        assert!(!Term::working_days(2_501).within_reach());
        assert!(!Term::working_days(4_000_000).within_reach());
        assert!(Term::calendar_days(3_650).within_reach());
        assert!(!Term::calendar_days(3_651).within_reach());
        assert_eq!(Term::hours(7).longest_of_its_unit(), Term::hours(20_000));
        assert!(!Term::minutes(1_200_001).within_reach());
        // The same span, give or take, whatever the unit (8-hour days, 5 in 7).
        for t in Term::LONGEST {
            let days = t.approx_working_minutes(480) / 480;
            assert!((2_400..=2_610).contains(&days), "{t}: {days}");
        }
    }

    #[test]
    fn displays_canonically() {
        assert_eq!(Term::working_days(1).to_string(), "1 working day");
        assert_eq!(Term::calendar_days(30).to_string(), "30 calendar days");
    }

    #[test]
    fn converts_to_working_minutes_for_comparison() {
        assert_eq!(Term::working_days(10).approx_working_minutes(480), 4800);
        assert_eq!(Term::hours(2).approx_working_minutes(480), 120);
        assert_eq!(
            Term::calendar_days(30).approx_working_minutes(480),
            22 * 480
        );
    }
}

//! Weekly opening hours: the open intervals of each day of the week, breaks taken out.

use super::data::{ClockTime, HoursRule, ScheduleData, TimeRange, Weekday};
use super::yaml::Located;
use reglament_model::diagnostic::Diagnostic;
use reglament_model::text::Text;

/// A weekly schedule, compiled: for each weekday (Monday first) the open intervals in
/// minutes after local midnight, sorted and disjoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Schedule {
    pub id: String,
    pub name: Option<Text>,
    pub week: [Vec<TimeRange>; 7],
}

impl Schedule {
    /// The standard schedule used without an office: Monday to Friday 09:00–18:00 with
    /// lunch 13:00–14:00.
    pub fn standard() -> Schedule {
        let day = vec![
            TimeRange {
                start: ClockTime::hm(9, 0),
                end: ClockTime::hm(13, 0),
            },
            TimeRange {
                start: ClockTime::hm(14, 0),
                end: ClockTime::hm(18, 0),
            },
        ];
        Schedule {
            id: "standard".to_string(),
            name: Some(Text::new(
                "Стандартты кесте: дс–жм 09:00–18:00, түскі үзіліс 13:00–14:00",
                "Стандартный график: пн–пт 09:00–18:00, обед 13:00–14:00",
                Some("Standard: Mon–Fri 09:00–18:00, lunch 13:00–14:00"),
            )),
            week: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                Vec::new(),
                Vec::new(),
            ],
        }
    }

    /// The open intervals on `weekday`.
    pub fn hours(&self, weekday: Weekday) -> &[TimeRange] {
        &self.week[weekday.index()]
    }

    /// Minutes in this office's working day: its shortest open weekday, Monday to Friday
    /// (the days a term counts), so that "1 working day" is never more time than a day has.
    /// `None` for a schedule open on no weekday.
    pub fn day_minutes(&self) -> Option<u32> {
        self.week[..5]
            .iter()
            .map(|day| {
                day.iter()
                    .map(|r| r.end.minutes().saturating_sub(r.start.minutes()))
                    .sum::<u32>()
            })
            .filter(|&m| m > 0)
            .min()
    }

    /// Checks and compiles `data`, found at `pointer` in `located`.
    pub(crate) fn compile(
        id: &str,
        data: &ScheduleData,
        located: &Located,
        pointer: &str,
        errors: &mut Vec<Diagnostic>,
    ) -> Schedule {
        let mut week: [Vec<TimeRange>; 7] = Default::default();
        let mut owner: [Option<usize>; 7] = [None; 7];
        for (r, rule) in data.hours.iter().enumerate() {
            let rp = format!("{pointer}/hours/{r}");
            let intervals = match rule_intervals(rule) {
                Ok(v) => v,
                Err((field, msg)) => {
                    errors.push(located.error(&format!("{rp}/{field}"), msg));
                    continue;
                }
            };
            for (k, day) in rule.days.iter().enumerate() {
                let slot = &mut owner[day.index()];
                if let Some(prev) = slot {
                    errors.push(located.error(
                        &format!("{rp}/days/{k}"),
                        format!(
                            "{} already has hours in hours[{prev}]",
                            format!("{day:?}").to_lowercase()
                        ),
                    ));
                    continue;
                }
                *slot = Some(r);
                week[day.index()] = intervals.clone();
            }
        }
        if week.iter().all(Vec::is_empty) && errors.is_empty() {
            errors.push(located.error(
                &format!("{pointer}/hours"),
                format!("schedule `{id}` is never open"),
            ));
        }
        Schedule {
            id: id.to_string(),
            name: data.name.clone(),
            week,
        }
    }
}

/// `open`–`close` less the breaks. The error names the offending field.
fn rule_intervals(rule: &HoursRule) -> Result<Vec<TimeRange>, (String, String)> {
    if rule.open >= rule.close {
        return Err((
            "close".to_string(),
            format!(
                "closing time {} is not after opening time {}",
                rule.close, rule.open
            ),
        ));
    }
    let mut breaks = rule.breaks.clone();
    breaks.sort();
    let mut out = Vec::new();
    let mut cursor = rule.open;
    for (k, b) in breaks.iter().enumerate() {
        let field = format!(
            "breaks/{}",
            rule.breaks.iter().position(|x| x == b).unwrap_or(k)
        );
        if b.start >= b.end {
            return Err((field, format!("the break {b} ends before it starts")));
        }
        if b.start < rule.open || b.end > rule.close {
            return Err((
                field,
                format!(
                    "the break {b} is not inside the open hours {}-{}",
                    rule.open, rule.close
                ),
            ));
        }
        if b.start < cursor {
            return Err((field, format!("the break {b} overlaps another break")));
        }
        if b.start > cursor {
            out.push(TimeRange {
                start: cursor,
                end: b.start,
            });
        }
        cursor = b.end;
    }
    if cursor < rule.close {
        out.push(TimeRange {
            start: cursor,
            end: rule.close,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(open: &str, close: &str, breaks: &[&str]) -> HoursRule {
        HoursRule {
            days: vec![Weekday::Mon],
            open: ClockTime::try_from(open.to_string()).unwrap(),
            close: ClockTime::try_from(close.to_string()).unwrap(),
            breaks: breaks
                .iter()
                .map(|b| TimeRange::try_from(b.to_string()).unwrap())
                .collect(),
        }
    }

    #[test]
    fn breaks_split_the_day() {
        let v = rule_intervals(&rule("09:00", "17:30", &["13:00-14:30"])).unwrap();
        let s: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(s, ["09:00-13:00", "14:30-17:30"]);
        let v = rule_intervals(&rule("09:00", "19:00", &[])).unwrap();
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn bad_breaks_are_refused() {
        assert!(rule_intervals(&rule("09:00", "18:00", &["08:00-09:30"])).is_err());
        assert!(rule_intervals(&rule("09:00", "18:00", &["13:00-14:00", "13:30-14:30"])).is_err());
        assert!(rule_intervals(&rule("18:00", "09:00", &[])).is_err());
    }

    #[test]
    fn standard_is_40_hours() {
        let s = Schedule::standard();
        let minutes: u32 = s
            .week
            .iter()
            .flatten()
            .map(|r| r.end.minutes() - r.start.minutes())
            .sum();
        assert_eq!(minutes, 40 * 60);
    }
}

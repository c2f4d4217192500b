//! Timer expressions BPMN tools understand: ISO 8601 durations for deadlines (`PT15M`,
//! `PT2H`, `P10D`) and a cron expression for a dispatch's departure times. Working days have
//! no ISO 8601 form; they are written as days, and the Reglament extension keeps the term
//! as written (`10 working days`), which is what Reglament counts.

use crate::duration::{Term, Unit};
use crate::model::LocalTime;

/// The ISO 8601 duration of a term.
pub fn duration(t: Term) -> String {
    match t.unit {
        Unit::Minutes => format!("PT{}M", t.amount),
        Unit::Hours => format!("PT{}H", t.amount),
        Unit::WorkingDays | Unit::CalendarDays => format!("P{}D", t.amount),
    }
}

/// A term from an ISO 8601 duration of one component (`PT15M`, `PT2H`, `P10D`, `P2W`), read
/// as BPMN means it: clock time, so days are calendar days. `None` for anything else.
pub fn parse_duration(text: &str) -> Option<Term> {
    let s = text.trim().to_ascii_uppercase();
    let rest = s.strip_prefix('P')?;
    let (time, body) = match rest.strip_prefix('T') {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let unit = body.chars().last()?;
    let amount: u32 = body[..body.len() - 1].parse().ok()?;
    if amount == 0 {
        return None;
    }
    match (time, unit) {
        (true, 'M') => Some(Term::minutes(amount)),
        (true, 'H') => Some(Term::hours(amount)),
        (false, 'D') => Some(Term::calendar_days(amount)),
        (false, 'W') => amount.checked_mul(7).map(Term::calendar_days),
        _ => None,
    }
}

/// A cron expression (seconds, minutes, hours, day of month, month, day of week) for the
/// departure times on working days; times whose minutes differ get the first time's minutes
/// only (the extension keeps every time).
pub fn cron(at: &[LocalTime]) -> String {
    use chrono::Timelike as _;
    let Some(first) = at.first() else {
        return "0 0 9 * * MON-FRI".to_string();
    };
    let minute = first.0.minute();
    let mut hours: Vec<u32> = at
        .iter()
        .filter(|t| t.0.minute() == minute)
        .map(|t| t.0.hour())
        .collect();
    hours.dedup();
    let hours: Vec<String> = hours.iter().map(u32::to_string).collect();
    format!("0 {minute} {} * * MON-FRI", hours.join(","))
}

/// The times of day a cron expression of [`cron`]'s shape fires at, in order.
pub fn parse_cron(text: &str) -> Option<Vec<LocalTime>> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let (minutes, hours) = match fields.as_slice() {
        [_, m, h, ..] if fields.len() == 6 => (*m, *h),
        [m, h, _, _, _] => (*m, *h),
        _ => return None,
    };
    let list = |f: &str, max: u32| -> Option<Vec<u32>> {
        f.split(',')
            .map(|v| v.parse::<u32>().ok().filter(|n| *n <= max))
            .collect()
    };
    let mut times = Vec::new();
    for h in list(hours, 23)? {
        for m in list(minutes, 59)? {
            times.push(LocalTime(chrono::NaiveTime::from_hms_opt(h, m, 0)?));
        }
    }
    times.sort();
    (!times.is_empty()).then_some(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_become_iso_durations_and_back() {
        assert_eq!(duration(Term::minutes(15)), "PT15M");
        assert_eq!(duration(Term::hours(2)), "PT2H");
        assert_eq!(duration(Term::working_days(10)), "P10D");
        assert_eq!(parse_duration("PT15M"), Some(Term::minutes(15)));
        assert_eq!(parse_duration("pt2h"), Some(Term::hours(2)));
        assert_eq!(parse_duration("P10D"), Some(Term::calendar_days(10)));
        assert_eq!(parse_duration("P2W"), Some(Term::calendar_days(14)));
        for bad in [
            "", "P", "PT", "P1DT2H", "10 days", "P0D", "PT1.5H", "R/PT1H",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn dispatch_times_become_cron_and_back() {
        let t = |s: &str| LocalTime::try_from(s.to_string()).expect("time");
        let at = [t("11:00"), t("16:00")];
        assert_eq!(cron(&at), "0 0 11,16 * * MON-FRI");
        assert_eq!(parse_cron(&cron(&at)), Some(at.to_vec()));
        assert_eq!(parse_cron("30 9 * * 1-5"), Some(vec![t("09:30")]));
        assert_eq!(parse_cron("0 0/5 * * * ?"), None);
        assert_eq!(parse_cron("R/PT1H"), None);
    }
}

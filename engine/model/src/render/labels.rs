//! The words on a diagram: step names wrapped to fit a box, durations in the chosen language,
//! edge labels. Shared by every output format so the SVG, Mermaid and DOT say the same thing.

use crate::compile::{Edge, Process};
use crate::duration::{Term, Unit};
use crate::model::Step;
use crate::text::Lang;

/// Average advance of a character as a fraction of the font size. There are no font metrics
/// in-process, so widths are estimated; Cyrillic and Latin sans-serif letters average close to
/// this, and boxes leave some slack for the wider ones.
const CHAR_EM: f64 = 0.6;

/// Estimated width in pixels of `text` set at `font_size`.
pub fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().count() as f64 * font_size * CHAR_EM
}

/// Greedy word wrap to at most `max_lines` lines of at most `width` characters; a word longer
/// than a line is cut, and text that does not fit ends with an ellipsis.
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(2);
    let max_lines = max_lines.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut line_len = 0;
    let mut truncated = false;
    'words: for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let sep = usize::from(line_len > 0);
            if line_len + sep + word.len() <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                line_len += sep + word.len();
                continue 'words;
            }
            if line_len > 0 {
                lines.push(std::mem::take(&mut line));
                line_len = 0;
            } else {
                // A word longer than a whole line: cut it.
                let rest = word.split_off(width);
                lines.push(word.iter().collect());
                word = rest;
            }
            if lines.len() == max_lines {
                truncated = true;
                break 'words;
            }
        }
    }
    if !truncated && line_len > 0 {
        if lines.len() == max_lines {
            truncated = true;
        } else {
            lines.push(line);
        }
    }
    if truncated && let Some(last) = lines.last_mut() {
        let mut chars: Vec<char> = last.chars().collect();
        chars.truncate(width - 1);
        while chars.last().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.pop();
        }
        *last = chars.into_iter().chain(['…']).collect();
    }
    lines
}

/// `text` cut to `max` characters with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// The step's name in `lang`; steps that may go unnamed (choices, splits, joins) get nothing.
pub fn step_name(p: &Process, step: usize, lang: Lang) -> Option<String> {
    p.step(step).name().map(|t| t.get(lang).to_string())
}

/// The lines under a step's name: its duration (for the channel, or the default one followed
/// by the channel-specific ones), and a dispatch's departure times.
pub fn step_details(p: &Process, step: usize, channel: Option<&str>, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    let s = p.step(step);
    if let Step::Dispatch(d) = s {
        let times: Vec<String> = d.at.iter().map(|t| String::from(*t)).collect();
        out.push(times.join(", "));
    }
    match channel {
        Some(c) => out.extend(p.duration(step, c).map(|t| term(t, lang))),
        None => {
            let (default, overrides) = match s {
                Step::Task(t) => (t.duration, Some(&t.durations)),
                Step::System(t) => (t.duration, Some(&t.durations)),
                Step::Dispatch(d) => (d.duration, None),
                _ => (None, None),
            };
            out.extend(default.map(|t| term(t, lang)));
            for (c, t) in overrides.into_iter().flatten() {
                out.push(format!("{}: {}", channel_short(p, c, lang), term(*t, lang)));
            }
        }
    }
    out
}

/// A channel named by its kind in a word or two, as a step's box has room for: «via the akim:
/// 4 working days» rather than the channel's identifier or its full name.
fn channel_short(p: &Process, channel: &str, lang: Lang) -> String {
    use crate::model::ChannelKind as K;
    let Some(c) = p.regulation.channels.iter().find(|c| c.id == channel) else {
        return channel.to_string();
    };
    let words = match (c.kind, lang) {
        (K::ProviderOffice, Lang::Kk) => "қызмет беруші",
        (K::ProviderOffice, Lang::Ru) => "услугодатель",
        (K::ProviderOffice, Lang::En) => "provider",
        (K::RuralAkim, Lang::Kk) => "әкім арқылы",
        (K::RuralAkim, Lang::Ru) => "через акима",
        (K::RuralAkim, Lang::En) => "via the akim",
        (K::ServiceCentre, Lang::Kk) => "ХҚКО арқылы",
        (K::ServiceCentre, Lang::Ru) => "через ЦОН",
        (K::ServiceCentre, Lang::En) => "via a service centre",
        (K::EgovPortal, Lang::Kk) => "портал арқылы",
        (K::EgovPortal, Lang::Ru) => "через портал",
        (K::EgovPortal, Lang::En) => "via the portal",
    };
    words.to_string()
}

/// The label of an edge: the outcome's name, the branch's condition, «otherwise».
pub fn edge_label(p: &Process, from: usize, edge: &Edge, lang: Lang) -> Option<String> {
    match (edge, p.step(from)) {
        (Edge::Outcome(id), Step::Task(t)) => Some(outcome_name(&t.outcomes, id, lang)),
        (Edge::Outcome(id), Step::System(s)) => Some(outcome_name(&s.outcomes, id, lang)),
        (Edge::Branch(i), Step::Exclusive(x)) => x.branches.get(*i).map(|b| b.when.clone()),
        (Edge::Default, _) => Some(otherwise(lang).to_string()),
        _ => edge.label(),
    }
}

fn outcome_name(outcomes: &[crate::model::Outcome], id: &str, lang: Lang) -> String {
    outcomes
        .iter()
        .find(|o| o.id == id)
        .and_then(|o| o.name.as_ref())
        .map_or_else(|| id.to_string(), |n| n.get(lang).to_string())
}

fn otherwise(lang: Lang) -> &'static str {
    match lang {
        Lang::Kk => "әйтпесе",
        Lang::Ru => "иначе",
        Lang::En => "otherwise",
    }
}

/// The name of the lane for steps that no role's lane took.
pub fn process_lane(lang: Lang) -> &'static str {
    match lang {
        Lang::Kk => "Үдеріс",
        Lang::Ru => "Процесс",
        Lang::En => "Process",
    }
}

/// A duration as the language writes it: «15 минут», «2 рабочих дня», «10 жұмыс күні».
pub fn term(t: Term, lang: Lang) -> String {
    let n = t.amount;
    match lang {
        Lang::En => t.to_string(),
        Lang::Kk => {
            // Kazakh nouns stay singular after a numeral.
            let unit = match t.unit {
                Unit::Minutes => "минут",
                Unit::Hours => "сағат",
                Unit::WorkingDays => "жұмыс күні",
                Unit::CalendarDays => "күнтізбелік күн",
            };
            format!("{n} {unit}")
        }
        Lang::Ru => {
            let form = russian_form(n);
            let unit = match t.unit {
                Unit::Minutes => ["минута", "минуты", "минут"][form],
                Unit::Hours => ["час", "часа", "часов"][form],
                Unit::WorkingDays => ["рабочий день", "рабочих дня", "рабочих дней"][form],
                Unit::CalendarDays => {
                    ["календарный день", "календарных дня", "календарных дней"][form]
                }
            };
            format!("{n} {unit}")
        }
    }
}

/// Russian plural after a numeral: 0 for 1, 21, 31…; 1 for 2–4, 22–24…; 2 otherwise.
fn russian_form(n: u32) -> usize {
    let (d10, d100) = (n % 10, n % 100);
    if d10 == 1 && d100 != 11 {
        0
    } else if (2..=4).contains(&d10) && !(12..=14).contains(&d100) {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_on_words_and_marks_cut_text() {
        assert_eq!(wrap("one two three", 7, 3), ["one two", "three"]);
        assert_eq!(wrap("one two three four", 7, 2), ["one two", "three…"]);
        assert_eq!(wrap("abcdefghij", 4, 5), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10, 3), Vec::<String>::new());
        assert_eq!(wrap("Приём документов", 8, 1), ["Приём…"]);
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate("Отказать", 20), "Отказать");
        assert_eq!(truncate("Оформить уведомление", 10), "Оформить…");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(term(Term::minutes(15), Lang::Ru), "15 минут");
        assert_eq!(term(Term::working_days(1), Lang::Ru), "1 рабочий день");
        assert_eq!(term(Term::working_days(2), Lang::Ru), "2 рабочих дня");
        assert_eq!(term(Term::working_days(11), Lang::Ru), "11 рабочих дней");
        assert_eq!(term(Term::hours(21), Lang::Ru), "21 час");
        assert_eq!(
            term(Term::calendar_days(30), Lang::Kk),
            "30 күнтізбелік күн"
        );
        assert_eq!(term(Term::working_days(10), Lang::En), "10 working days");
    }
}

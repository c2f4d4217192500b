//! The compliance report's charts, drawn on the server as inline SVG: nothing to run in the
//! browser and nothing fetched, so the report reads the same saved to a file, printed, or
//! embedded in the web interface.

use reglament_model::markup::xml as esc;

use super::report::{ComplianceReport, StepRow};
use reglament_model::paths::DEFAULT_DAY_MINUTES;
use reglament_model::text::Lang;

const WIDTH: u32 = 760;
const LABEL: u32 = 290;
const BAR: u32 = 370;
const ROW: u32 = 24;

const GREEN: &str = "#2da44e";
const RED: &str = "#cf222e";
const GREY: &str = "#afb8c1";
const DARK: &str = "#0969da";
const LIGHT: &str = "#9cd0ff";

/// Characters that fit on one line of the label column at the charts' font size.
const LABEL_CHARS: usize = 40;
/// Height of one line of text.
const LINE: u32 = 14;
/// A generous width of one character at the charts' font size (12 px): legend boxes are
/// placed by it, so they never run into each other's text.
const CHAR_PX: f64 = 7.2;

/// A label broken at spaces into lines of at most `n` characters (a word longer than a line
/// is broken inside): the whole label is shown, never cut.
pub(crate) fn wrap(s: &str, n: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= n {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(n.max(1).min(word.len()));
            lines.push(word.into_iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `<text>` of several lines, the first baseline at `y`.
fn text_lines(x: u32, y: u32, lines: &[String]) -> String {
    let mut t = format!("<text x=\"{x}\" y=\"{y}\">");
    for (i, l) in lines.iter().enumerate() {
        if i == 0 {
            t.push_str(&format!("<tspan x=\"{x}\">{}</tspan>", esc(l)));
        } else {
            t.push_str(&format!(
                "<tspan x=\"{x}\" dy=\"{LINE}\">{}</tspan>",
                esc(l)
            ));
        }
    }
    t.push_str("</text>\n");
    t
}

/// A legend entry's mark.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mark<'a> {
    /// A filled box; `hatched` adds the diagonal pattern used for what is late.
    Box { fill: &'a str, hatched: bool },
    /// A short vertical line (a limit).
    Line(&'a str),
}

/// The legend's entries laid out left to right from `x`, each box followed by its text and a
/// gap: returns the SVG and each entry's span `(from, to)` in pixels.
pub(crate) fn legend(items: &[(Mark, &str)], x: u32, y: u32) -> (String, Vec<(f64, f64)>) {
    let mut s = String::new();
    let mut spans = Vec::new();
    let mut at = f64::from(x);
    for (mark, text) in items {
        let from = at;
        match mark {
            Mark::Box { fill, hatched } => {
                s.push_str(&format!(
                    "<rect x=\"{at:.1}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{fill}\"/>"
                ));
                if *hatched {
                    s.push_str(&format!(
                        "<rect x=\"{at:.1}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"url(#late-pattern)\"/>"
                    ));
                }
            }
            Mark::Line(colour) => s.push_str(&format!(
                "<line x1=\"{0:.1}\" y1=\"{y}\" x2=\"{0:.1}\" y2=\"{1}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
                at + 6.0,
                y + 12
            )),
        }
        let tx = at + 16.0;
        s.push_str(&format!(
            "<text x=\"{tx:.1}\" y=\"{}\">{}</text>\n",
            y + 10,
            esc(text)
        ));
        at = tx + CHAR_PX * text.chars().count() as f64;
        spans.push((from, at));
        at += 18.0;
    }
    (s, spans)
}

/// The diagonal hatching that marks what is late, so that it reads without colour.
const PATTERN: &str = "<defs><pattern id=\"late-pattern\" width=\"6\" height=\"6\" \
     patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
     <rect width=\"2\" height=\"6\" fill=\"#ffffff\" fill-opacity=\"0.7\"/></pattern></defs>\n";

/// The end of a chart: the hatching pattern gets an id of its own, taken from the chart's
/// content, so that several charts on one page do not share one id.
fn close(mut s: String) -> String {
    s.push_str("</svg>\n");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    s.replace("late-pattern", &format!("late-{h:016x}"))
}

/// The start of a chart: its size, its accessible name (`aria-label` and `<title>`).
fn open(width: u32, height: u32, name: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{0}\" \
         font-family=\"system-ui,sans-serif\" font-size=\"12\">\n<title>{0}</title>\n{PATTERN}",
        esc(name)
    )
}

/// The charts' own words in the page's language.
pub(crate) struct ChartWords {
    pub terms: &'static str,
    pub steps: &'static str,
    pub trend: &'static str,
    pub timeline: &'static str,
    pub working_hours: &'static str,
    pub cases: &'static str,
    pub on_time: &'static str,
    pub breached: &'static str,
    pub used: &'static str,
    pub allowed: &'static str,
    pub late: &'static str,
    pub h: &'static str,
    pub d: &'static str,
    /// Working minutes, in the tooltips.
    pub min: &'static str,
    pub months: [&'static str; 12],
}

pub(crate) fn chart_words(lang: Lang) -> ChartWords {
    match lang {
        Lang::Kk => ChartWords {
            terms: "Регламент және бөлім бойынша мерзімнің сақталуы",
            steps: "Қадам бойынша жұмыс уақыты рұқсат етілген уақытпен салыстырғанда",
            trend: "Айлар бойынша істер, мерзімінде орындалу үлесі және бұзушылықтар",
            timeline: "Қадамдар бойынша пайдаланылған және рұқсат етілген жұмыс уақыты",
            working_hours: "жұмыс сағаттары",
            cases: "істер",
            on_time: "мерзімінде, %",
            breached: "мерзімі бұзылған",
            used: "пайдаланылды",
            allowed: "рұқсат етілген уақыт",
            late: "кешікті",
            h: "сағ",
            d: "күн",
            min: "мин",
            months: [
                "қаң", "ақп", "нау", "сәу", "мам", "мау", "шіл", "там", "қыр", "қаз", "қар", "жел",
            ],
        },
        Lang::Ru => ChartWords {
            terms: "Соблюдение срока по регламентам и отделам",
            steps: "Рабочее время по шагам против допустимого",
            trend: "Дела, доля в срок и нарушения по месяцам",
            timeline: "Рабочее время по шагам: затрачено и допустимо",
            working_hours: "рабочие часы",
            cases: "дела",
            on_time: "в срок, %",
            breached: "с нарушением срока",
            used: "затрачено",
            allowed: "допустимое время",
            late: "просрочено",
            h: "ч",
            d: "дн",
            min: "мин",
            months: [
                "янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек",
            ],
        },
        Lang::En => ChartWords {
            terms: "Statutory term kept, by regulation and office",
            steps: "Working time per step against its allowed time",
            trend: "Cases, on-time rate and breaches per month",
            timeline: "Working time used and allowed per step",
            working_hours: "working hours",
            cases: "cases",
            on_time: "on time, %",
            breached: "term breached",
            used: "used",
            allowed: "allowed time",
            late: "late",
            h: "h",
            d: "d",
            min: "min",
            months: [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ],
        },
    }
}

/// A row's height for a label of `lines` lines.
fn row_height(lines: usize) -> u32 {
    ROW.max(LINE * lines as u32 + 10)
}

/// Per regulation and office, one bar of its cases with a term: met, not met (hatched),
/// pending; the breach rate at the end of the row.
pub(super) fn terms_chart(r: &ComplianceReport, lang: Lang, legend_words: &[&str; 3]) -> String {
    let cw = chart_words(lang);
    let rows: Vec<_> = r.regulations.iter().filter(|g| g.with_term > 0).collect();
    let labels: Vec<Vec<String>> = rows
        .iter()
        .map(|g| {
            let title = g
                .title
                .as_ref()
                .map(|t| t.get(lang))
                .unwrap_or(&g.regulation);
            wrap(&format!("{title} — {}", g.office), LABEL_CHARS)
        })
        .collect();
    let body: u32 = labels.iter().map(|l| row_height(l.len())).sum();
    let height = body + 30;
    let mut s = String::new();
    let mut y = 0u32;
    for (g, label) in rows.iter().zip(&labels) {
        let h = row_height(label.len());
        let total = g.with_term.max(1) as f64;
        s.push_str(&format!(
            "<g><title>{}: {} / {} / {}</title>\n",
            esc(&label.join(" ")),
            g.met,
            g.not_met,
            g.pending,
        ));
        s.push_str(&text_lines(0, y + 16, label));
        let mut x = f64::from(LABEL);
        for (n, colour, hatched) in [
            (g.met, GREEN, false),
            (g.not_met, RED, true),
            (g.pending, GREY, false),
        ] {
            let w = f64::from(BAR) * n as f64 / total;
            if w > 0.0 {
                s.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"{colour}\"/>\n",
                    y + 4
                ));
                if hatched {
                    s.push_str(&format!(
                        "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"url(#late-pattern)\"/>\n",
                        y + 4
                    ));
                }
            }
            x += w;
        }
        let rate = g
            .breach_rate
            .map(|r| format!("{:.1} %", r * 100.0))
            .unwrap_or_else(|| "—".into());
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\">{}</text>\n</g>\n",
            LABEL + BAR + 8,
            y + 16,
            esc(&rate)
        ));
        y += h;
    }
    let (l, _) = legend(
        &[
            (
                Mark::Box {
                    fill: GREEN,
                    hatched: false,
                },
                legend_words[0],
            ),
            (
                Mark::Box {
                    fill: RED,
                    hatched: true,
                },
                legend_words[1],
            ),
            (
                Mark::Box {
                    fill: GREY,
                    hatched: false,
                },
                legend_words[2],
            ),
        ],
        LABEL,
        body + 8,
    );
    let mut out = open(WIDTH, height, cw.terms);
    out.push_str(&s);
    out.push_str(&l);
    close(out)
}

/// A step of `max_minutes` scale: ticks every so many working hours, at most about six.
fn tick_hours(max_minutes: u64) -> u64 {
    let max_h = max_minutes.div_ceil(60).max(1);
    [1u64, 2, 4, 8, 16, 24, 40, 80, 160, 400, 800, 1600, 4000]
        .into_iter()
        .find(|t| max_h / t <= 6)
        .unwrap_or(8000)
}

/// The horizontal axis in working hours under bars drawn from `LABEL`: ticks, their labels
/// (days when the ticks are whole days) and the unit.
fn hours_axis(scale_max: u64, axis_y: u32, cw: &ChartWords) -> String {
    let tick = tick_hours(scale_max);
    let px = |m: u64| f64::from(BAR) * m as f64 / scale_max.max(1) as f64;
    let mut s = format!(
        "<line x1=\"{LABEL}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#57606a\"/>\n",
        LABEL + BAR
    );
    let day_hours = u64::from(DEFAULT_DAY_MINUTES / 60);
    let mut h = 0u64;
    while h * 60 <= scale_max {
        let x = f64::from(LABEL) + px(h * 60);
        let label = if h > 0 && h.is_multiple_of(day_hours) && tick >= day_hours {
            format!("{} {}", h / day_hours, cw.d)
        } else {
            format!("{h} {}", cw.h)
        };
        s.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#57606a\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            axis_y + 4,
            axis_y + 16,
            esc(&label)
        ));
        h += tick;
    }
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#57606a\">{}</text>\n",
        LABEL - 8,
        axis_y + 16,
        esc(&format!(
            "{} ({} = {} {})",
            cw.working_hours, cw.d, day_hours, cw.h
        ))
    ));
    s
}

/// A scale in whole ticks covering `max` minutes.
fn scale(max: u64) -> u64 {
    let tick = tick_hours(max.max(1));
    max.max(1).div_ceil(tick * 60) * tick * 60
}

/// Per step: the median and 90th-percentile working time as bars, the step's allowed time as
/// a mark, and the breach rate at the end of the row. One scale for the whole chart.
pub(super) fn steps_chart(
    subject: &str,
    rows: &[&StepRow],
    lang: Lang,
    legend_words: &[&str; 3],
) -> String {
    let cw = chart_words(lang);
    let max = rows
        .iter()
        .flat_map(|r| {
            [
                r.p90_minutes.map(|m| m.max(0) as u64),
                r.statutory_minutes,
                r.median_minutes.map(|m| m.max(0) as u64),
            ]
        })
        .flatten()
        .max()
        .unwrap_or(0);
    let scale_max = scale(max);
    let px = |m: u64| f64::from(BAR) * m as f64 / scale_max as f64;
    let labels: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            wrap(
                r.name.as_ref().map(|t| t.get(lang)).unwrap_or(&r.step),
                LABEL_CHARS,
            )
        })
        .collect();
    let top = 4u32;
    let body: u32 = labels.iter().map(|l| row_height(l.len())).sum();
    let axis_y = top + body + 2;
    let height = axis_y + 50;
    let mut s = open(WIDTH, height, &format!("{} — {subject}", cw.steps));
    let mut y = top;
    for (r, label) in rows.iter().zip(&labels) {
        s.push_str(&format!(
            "<g><title>{}: {} {}, {} {}, {} {}</title>\n",
            esc(&label.join(" ")),
            esc(legend_words[0]),
            r.median_minutes
                .map_or("—".into(), |m| format!("{m} {}", cw.min)),
            esc(legend_words[1]),
            r.p90_minutes
                .map_or("—".into(), |m| format!("{m} {}", cw.min)),
            esc(legend_words[2]),
            esc(&r.statutory.join(" / ")),
        ));
        s.push_str(&text_lines(0, y + 15, label));
        let late = |m: i64| r.statutory_minutes.is_some_and(|t| m.max(0) as u64 > t);
        if let Some(p) = r.p90_minutes {
            s.push_str(&format!(
                "<rect x=\"{LABEL}\" y=\"{}\" width=\"{:.1}\" height=\"16\" fill=\"{LIGHT}\"/>\n",
                y + 3,
                px(p.max(0) as u64)
            ));
            if late(p) {
                s.push_str(&format!(
                    "<rect x=\"{LABEL}\" y=\"{}\" width=\"{:.1}\" height=\"16\" fill=\"url(#late-pattern)\"/>\n",
                    y + 3,
                    px(p.max(0) as u64)
                ));
            }
        }
        if let Some(m) = r.median_minutes {
            s.push_str(&format!(
                "<rect x=\"{LABEL}\" y=\"{}\" width=\"{:.1}\" height=\"8\" fill=\"{DARK}\"/>\n",
                y + 7,
                px(m.max(0) as u64)
            ));
        }
        if let Some(t) = r.statutory_minutes {
            let x = f64::from(LABEL) + px(t);
            s.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"{RED}\" stroke-width=\"2\"/>\n",
                y + 1,
                y + 21
            ));
        }
        let rate = r
            .breach_rate
            .map(|b| format!("{:.1} %", b * 100.0))
            .unwrap_or_else(|| "—".into());
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\"{}>{}</text>\n</g>\n",
            LABEL + BAR + 8,
            y + 15,
            if r.breaches > 0 {
                format!(" fill=\"{RED}\" font-weight=\"bold\"")
            } else {
                String::new()
            },
            esc(&rate)
        ));
        y += row_height(label.len());
    }
    s.push_str(&hours_axis(scale_max, axis_y, &cw));
    let (l, _) = legend(
        &[
            (
                Mark::Box {
                    fill: DARK,
                    hatched: false,
                },
                legend_words[0],
            ),
            (
                Mark::Box {
                    fill: LIGHT,
                    hatched: false,
                },
                legend_words[1],
            ),
            (Mark::Line(RED), legend_words[2]),
            (
                Mark::Box {
                    fill: LIGHT,
                    hatched: true,
                },
                cw.late,
            ),
        ],
        LABEL,
        axis_y + 30,
    );
    s.push_str(&l);
    close(s)
}

/// One month of one office's cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Month {
    /// `(year, month 1–12)`.
    pub month: (i32, u32),
    pub cases: u64,
    /// Of the cases with a judged term, the share met.
    pub on_time: Option<f64>,
    /// Cases whose term or a task's time was breached.
    pub breached: u64,
}

/// Per month: a bar of cases (its breached part hatched), the on-time rate written above it
/// and drawn as a line on the right-hand scale in %.
pub fn trend_chart(office: &str, months: &[Month], lang: Lang) -> String {
    let cw = chart_words(lang);
    let (left, plot_w, plot_h, top) = (56u32, 560u32, 160u32, 24u32);
    let width = left + plot_w + 70;
    let max = months.iter().map(|m| m.cases).max().unwrap_or(0).max(1);
    let step = [1u64, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
        .into_iter()
        .find(|s| max.div_ceil(*s) <= 5)
        .unwrap_or(10_000);
    let top_value = max.div_ceil(step) * step;
    let y_of = |v: f64| f64::from(top + plot_h) - f64::from(plot_h) * v / top_value as f64;
    let base = top + plot_h;
    let height = base + 64;
    let mut s = open(width, height, &format!("{} — {office}", cw.trend));
    // Left axis: cases.
    let mut v = 0;
    while v <= top_value {
        let y = y_of(v as f64);
        s.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#d0d7de\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v}</text>\n",
            left + plot_w,
            left - 6,
            y + 4.0
        ));
        v += step;
    }
    s.push_str(&format!(
        "<text x=\"4\" y=\"{}\" fill=\"#57606a\">{}</text>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#57606a\">{}</text>\n",
        top - 10,
        esc(cw.cases),
        width - 4,
        top - 10,
        esc(cw.on_time)
    ));
    // Right axis: %.
    for p in [0u32, 50, 100] {
        let y = f64::from(base) - f64::from(plot_h) * f64::from(p) / 100.0;
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\">{p} %</text>\n",
            left + plot_w + 6,
            y + 4.0
        ));
    }
    let slot = f64::from(plot_w) / months.len().max(1) as f64;
    let bar = (slot * 0.6).min(48.0);
    let mut line = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let cx = f64::from(left) + slot * (i as f64 + 0.5);
        let x = cx - bar / 2.0;
        let name = format!(
            "{} {}",
            cw.months[(m.month.1.clamp(1, 12) - 1) as usize],
            m.month.0
        );
        let rate = m.on_time.map(|r| format!("{:.0} %", r * 100.0));
        s.push_str(&format!(
            "<g><title>{}: {} {}, {} {}, {} {}</title>\n",
            esc(&name),
            m.cases,
            esc(cw.cases),
            esc(cw.on_time),
            esc(rate.as_deref().unwrap_or("—")),
            esc(cw.breached),
            m.breached
        ));
        let y = y_of(m.cases as f64);
        s.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{LIGHT}\"/>\n",
            f64::from(base) - y
        ));
        if m.breached > 0 {
            let yb = y_of(m.breached as f64);
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{yb:.1}\" width=\"{bar:.1}\" height=\"{0:.1}\" fill=\"{RED}\"/>\
                 <rect x=\"{x:.1}\" y=\"{yb:.1}\" width=\"{bar:.1}\" height=\"{0:.1}\" fill=\"url(#late-pattern)\"/>\n",
                f64::from(base) - yb
            ));
        }
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            y - 4.0,
            m.cases
        ));
        s.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
             <text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">{}</text>\n</g>\n",
            base + 14,
            esc(&name),
            base + 28,
            esc(rate.as_deref().unwrap_or("—"))
        ));
        if let Some(r) = m.on_time {
            line.push(format!(
                "{cx:.1},{:.1}",
                f64::from(base) - f64::from(plot_h) * r
            ));
        }
    }
    if line.len() > 1 {
        s.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{GREEN}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\n",
            line.join(" ")
        ));
    }
    for p in &line {
        let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
        s.push_str(&format!(
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{GREEN}\"/>\n"
        ));
    }
    let (l, _) = legend(
        &[
            (
                Mark::Box {
                    fill: LIGHT,
                    hatched: false,
                },
                cw.cases,
            ),
            (
                Mark::Box {
                    fill: RED,
                    hatched: true,
                },
                cw.breached,
            ),
            (Mark::Line(GREEN), cw.on_time),
        ],
        left,
        base + 40,
    );
    s.push_str(&l);
    close(s)
}

/// One step of a case: its name, working minutes used and allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineStep {
    pub name: String,
    pub used_minutes: i64,
    pub allowed_minutes: Option<u64>,
    /// Breached (or still open past its due instant).
    pub late: bool,
}

/// A case's steps as bars of working time used, the allowed time as a mark; what was late is
/// hatched and says so in words.
pub fn timeline_chart(steps: &[TimelineStep], lang: Lang) -> String {
    let cw = chart_words(lang);
    let max = steps
        .iter()
        .flat_map(|t| [Some(t.used_minutes.max(0) as u64), t.allowed_minutes])
        .flatten()
        .max()
        .unwrap_or(0);
    let scale_max = scale(max);
    let px = |m: u64| f64::from(BAR) * m as f64 / scale_max as f64;
    let labels: Vec<Vec<String>> = steps.iter().map(|t| wrap(&t.name, LABEL_CHARS)).collect();
    let top = 4u32;
    let body: u32 = labels.iter().map(|l| row_height(l.len())).sum();
    let axis_y = top + body + 2;
    let height = axis_y + 50;
    let mut s = open(WIDTH, height, cw.timeline);
    let mut y = top;
    for (t, label) in steps.iter().zip(&labels) {
        let used = t.used_minutes.max(0) as u64;
        s.push_str(&format!(
            "<g><title>{}: {} {} {}{}</title>\n",
            esc(&label.join(" ")),
            esc(cw.used),
            used,
            cw.min,
            t.allowed_minutes
                .map(|a| format!(", {} {a} {}", esc(cw.allowed), cw.min))
                .unwrap_or_default()
        ));
        s.push_str(&text_lines(0, y + 15, label));
        let colour = if t.late { RED } else { DARK };
        s.push_str(&format!(
            "<rect x=\"{LABEL}\" y=\"{}\" width=\"{:.1}\" height=\"14\" fill=\"{colour}\"/>\n",
            y + 4,
            px(used).max(1.0)
        ));
        if t.late {
            s.push_str(&format!(
                "<rect x=\"{LABEL}\" y=\"{}\" width=\"{:.1}\" height=\"14\" fill=\"url(#late-pattern)\"/>\n\
                 <text x=\"{}\" y=\"{}\" fill=\"{RED}\" font-weight=\"bold\">{}</text>\n",
                y + 4,
                px(used).max(1.0),
                LABEL + BAR + 8,
                y + 15,
                esc(cw.late)
            ));
        }
        if let Some(a) = t.allowed_minutes {
            let x = f64::from(LABEL) + px(a);
            s.push_str(&format!(
                "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"{RED}\" stroke-width=\"2\"/>\n",
                y + 1,
                y + 21
            ));
        }
        s.push_str("</g>\n");
        y += row_height(label.len());
    }
    s.push_str(&hours_axis(scale_max, axis_y, &cw));
    let (l, _) = legend(
        &[
            (
                Mark::Box {
                    fill: DARK,
                    hatched: false,
                },
                cw.used,
            ),
            (Mark::Line(RED), cw.allowed),
            (
                Mark::Box {
                    fill: RED,
                    hatched: true,
                },
                cw.late,
            ),
        ],
        LABEL,
        axis_y + 30,
    );
    s.push_str(&l);
    close(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_few() {
        assert_eq!(tick_hours(30), 1);
        assert_eq!(tick_hours(8 * 60), 2);
        assert_eq!(tick_hours(10 * 8 * 60), 16);
    }

    #[test]
    fn long_labels_wrap_whole() {
        let name = "Назначение государственных пособий семьям, имеющим детей — atyrau-city-ozsp";
        let lines = wrap(name, LABEL_CHARS);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= LABEL_CHARS));
        assert_eq!(lines.join(" "), name);
        assert_eq!(wrap("abc", 4), ["abc"]);
        assert_eq!(wrap("abcdefgh", 4), ["abcd", "efgh"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn legend_boxes_stay_apart() {
        let words = chart_words(Lang::Kk);
        let (_, spans) = legend(
            &[
                (
                    Mark::Box {
                        fill: DARK,
                        hatched: false,
                    },
                    "90-процентиль",
                ),
                (Mark::Line(RED), words.allowed),
                (
                    Mark::Box {
                        fill: RED,
                        hatched: true,
                    },
                    words.breached,
                ),
            ],
            LABEL,
            0,
        );
        for w in spans.windows(2) {
            assert!(w[0].1 < w[1].0, "{spans:?}");
        }
        let last = spans.last().expect("spans").1;
        assert!(last > f64::from(LABEL) + 16.0);
    }

    fn month(m: u32, cases: u64, breached: u64) -> Month {
        Month {
            month: (2026, m),
            cases,
            on_time: Some(1.0 - breached as f64 / cases.max(1) as f64),
            breached,
        }
    }

    #[test]
    fn the_trend_names_months_units_and_itself_in_the_language() {
        let months = [month(6, 40, 2), month(7, 35, 0), month(8, 52, 5)];
        let ru = trend_chart("atyrau-city-ozsp", &months, Lang::Ru);
        for w in [
            "июн 2026",
            "авг 2026",
            "дела",
            "в срок, %",
            "с нарушением срока",
            "95 %",
        ] {
            assert!(ru.contains(w), "{w}: {ru}");
        }
        assert!(ru.contains(
            "aria-label=\"Дела, доля в срок и нарушения по месяцам — atyrau-city-ozsp\""
        ));
        assert!(ru.contains("<title>"));
        assert!(
            ru.contains("url(#late-"),
            "breaches are hatched, not only red"
        );
        // Two charts on one page do not share the pattern's id.
        let id = |svg: &str| {
            let from = svg.find("pattern id=\"").expect("a pattern") + 12;
            svg[from..from + 21].to_string()
        };
        let other = trend_chart("atyrau-zhylyoi-ozsp", &months, Lang::Ru);
        assert_ne!(id(&ru), id(&other));
        assert!(ru.contains(&format!("url(#{})", id(&ru))), "{ru}");
        let kk = trend_chart("x", &months, Lang::Kk);
        assert!(kk.contains("мау 2026") && kk.contains("істер"), "{kk}");
        let en = trend_chart("x", &months, Lang::En);
        assert!(en.contains("Aug 2026") && en.contains("on time, %"), "{en}");
    }

    #[test]
    fn the_timeline_shows_every_step_whole_and_says_late_in_words() {
        let steps = [
            TimelineStep {
                name: "Приём и регистрация заявления и документов, выдача расписки".into(),
                used_minutes: 20,
                allowed_minutes: Some(15),
                late: true,
            },
            TimelineStep {
                name: "Рассмотрение".into(),
                used_minutes: 600,
                allowed_minutes: Some(960),
                late: false,
            },
        ];
        let svg = timeline_chart(&steps, Lang::Ru);
        assert!(svg.contains(">Приём и регистрация заявления и"), "{svg}");
        assert!(svg.contains(">документов, выдача расписки<"), "{svg}");
        assert!(!svg.contains('…'));
        assert!(svg.contains(">просрочено<"));
        assert!(svg.contains("рабочие часы"));
        assert!(
            svg.contains("затрачено 600 мин, допустимое время 960 мин"),
            "{svg}"
        );
        assert!(!svg.contains(" min"), "no English unit on a Russian page");
        assert!(svg.contains("aria-label=\"Рабочее время по шагам: затрачено и допустимо\""));
    }
}

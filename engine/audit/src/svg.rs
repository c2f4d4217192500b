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

/// A label cut to `n` characters (the full text is in the row's `<title>`).
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Per regulation and office, one bar of its cases with a term: met, not met, pending.
pub(super) fn terms_chart(r: &ComplianceReport, lang: Lang, legend: &[&str; 3]) -> String {
    let rows: Vec<_> = r.regulations.iter().filter(|g| g.with_term > 0).collect();
    let height = ROW * rows.len() as u32 + 30;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"statutory term by regulation and office\" \
         font-family=\"system-ui,sans-serif\" font-size=\"12\">\n"
    );
    for (i, g) in rows.iter().enumerate() {
        let y = i as u32 * ROW;
        let total = g.with_term.max(1) as f64;
        let title = g
            .title
            .as_ref()
            .map(|t| t.get(lang))
            .unwrap_or(&g.regulation);
        let label = format!("{title} — {}", g.office);
        s.push_str(&format!(
            "<g><title>{}: {} / {} / {}</title>\n<text x=\"0\" y=\"{}\">{}</text>\n",
            esc(&label),
            g.met,
            g.not_met,
            g.pending,
            y + 16,
            esc(&cut(&label, 42))
        ));
        let mut x = f64::from(LABEL);
        for (n, colour) in [(g.met, GREEN), (g.not_met, RED), (g.pending, GREY)] {
            let w = f64::from(BAR) * n as f64 / total;
            if w > 0.0 {
                s.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"{colour}\"/>\n",
                    y + 4
                ));
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
    }
    // Legend.
    let y = ROW * rows.len() as u32 + 8;
    let mut x = LABEL;
    for (colour, text) in [(GREEN, legend[0]), (RED, legend[1]), (GREY, legend[2])] {
        s.push_str(&format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>\n",
            x + 16,
            y + 10,
            esc(text)
        ));
        x += 110;
    }
    s.push_str("</svg>\n");
    s
}

/// A step of `max_minutes` scale: ticks every so many working hours, at most about six.
fn tick_hours(max_minutes: u64) -> u64 {
    let max_h = max_minutes.div_ceil(60).max(1);
    [1u64, 2, 4, 8, 16, 24, 40, 80, 160, 400, 800, 1600, 4000]
        .into_iter()
        .find(|t| max_h / t <= 6)
        .unwrap_or(8000)
}

/// Per step: the median and 90th-percentile working time as bars, the statutory time as a
/// mark, and the breach rate at the end of the row. One scale for the whole chart.
pub(super) fn steps_chart(rows: &[&StepRow], lang: Lang, legend: &[&str; 3]) -> String {
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
        .unwrap_or(0)
        .max(1);
    let tick = tick_hours(max);
    let scale_max = max.div_ceil(tick * 60) * tick * 60;
    let px = |m: u64| f64::from(BAR) * m as f64 / scale_max as f64;
    let top = 4u32;
    let axis_y = top + ROW * rows.len() as u32 + 2;
    let height = axis_y + 44;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"working time by step\" \
         font-family=\"system-ui,sans-serif\" font-size=\"12\">\n"
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as u32 * ROW;
        let name = r.name.as_ref().map(|t| t.get(lang)).unwrap_or(&r.step);
        s.push_str(&format!(
            "<g><title>{}: median {} min, p90 {} min, statutory {}</title>\n\
             <text x=\"0\" y=\"{}\">{}</text>\n",
            esc(name),
            r.median_minutes.map_or("—".into(), |m| m.to_string()),
            r.p90_minutes.map_or("—".into(), |m| m.to_string()),
            esc(&r.statutory.join(" / ")),
            y + 15,
            esc(&cut(name, 40))
        ));
        if let Some(p) = r.p90_minutes {
            s.push_str(&format!(
                "<rect x=\"{LABEL}\" y=\"{}\" width=\"{:.1}\" height=\"16\" fill=\"{LIGHT}\"/>\n",
                y + 3,
                px(p.max(0) as u64)
            ));
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
                format!(" fill=\"{RED}\"")
            } else {
                String::new()
            },
            esc(&rate)
        ));
    }
    // The axis in working hours (a working day is 8 hours).
    s.push_str(&format!(
        "<line x1=\"{LABEL}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#57606a\"/>\n",
        LABEL + BAR
    ));
    let day_hours = u64::from(DEFAULT_DAY_MINUTES / 60);
    let mut h = 0u64;
    while h * 60 <= scale_max {
        let x = f64::from(LABEL) + px(h * 60);
        let label = if h > 0 && h.is_multiple_of(day_hours) && tick >= day_hours {
            format!("{} d", h / day_hours)
        } else {
            format!("{h} h")
        };
        s.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#57606a\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>\n",
            axis_y + 4,
            axis_y + 16
        ));
        h += tick;
    }
    let ly = axis_y + 26;
    s.push_str(&format!(
        "<rect x=\"{LABEL}\" y=\"{ly}\" width=\"12\" height=\"8\" fill=\"{DARK}\"/>\
         <text x=\"{}\" y=\"{}\">{}</text>\
         <rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{LIGHT}\"/>\
         <text x=\"{}\" y=\"{}\">{}</text>\
         <line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{RED}\" stroke-width=\"2\"/>\
         <text x=\"{}\" y=\"{}\">{}</text>\n",
        LABEL + 16,
        ly + 9,
        esc(legend[0]),
        LABEL + 110,
        ly - 2,
        LABEL + 126,
        ly + 9,
        esc(legend[1]),
        LABEL + 250,
        ly - 2,
        LABEL + 250,
        ly + 10,
        LABEL + 258,
        ly + 9,
        esc(legend[2]),
    ));
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_few_and_labels_are_cut() {
        assert_eq!(tick_hours(30), 1);
        assert_eq!(tick_hours(8 * 60), 2);
        assert_eq!(tick_hours(10 * 8 * 60), 16);
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}

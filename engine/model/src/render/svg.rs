//! The SVG writer: draws a [`Layout`] as a standalone document with inline presentation
//! attributes (so it looks the same opened directly, embedded with `<img>` or inlined).
//!
//! Structure, for styling and for the web interface: `<g class="lane" data-role=…>` per lane,
//! `<g class="edge" data-from=… data-to=…>` per edge, `<g class="step" data-step=…
//! data-kind=…>` per step, `data-highlight="true"` on highlighted steps.

use std::fmt::Write;

use crate::compile::Process;
use crate::model::CaseResult;

use super::labels::{text_width, truncate};
use super::layout::{
    BOX_PAD, CAPTION_FONT, CAPTION_GAP, CAPTION_LINE, DETAIL_FONT, DETAIL_GAP, DETAIL_LINE,
    EdgeLine, HEADER_FONT, HEADER_LINE, Lane, Layout, MARGIN, NAME_FONT, NAME_LINE, Node, Shape,
};
use super::route::LABEL_FONT;
use super::{Mark, Options};
use crate::markup::xml as esc;

const FONT: &str = "'Segoe UI', 'Noto Sans', 'DejaVu Sans', Arial, sans-serif";
const TITLE_FONT: f64 = 15.0;
const INK: &str = "#343a40";
const EDGE: &str = "#495057";
const LOOP: &str = "#ae3ec9";
const HIGHLIGHT: &str = "#e8590c";

/// The height of the legend under a marked diagram: one row of marks.
const LEGEND: f64 = 30.0;

pub fn write(process: &Process, layout: &Layout, options: &Options) -> String {
    write_marked(process, layout, options, &[])
}

/// [`write`] with marks on steps and their legend in a row under the lanes.
pub fn write_marked(
    process: &Process,
    layout: &Layout,
    options: &Options,
    marks: &[Mark],
) -> String {
    let used: Vec<&Mark> = marks
        .iter()
        .filter(|m| {
            m.steps
                .iter()
                .any(|s| layout.nodes.iter().any(|n| n.id == *s))
        })
        .collect();
    let legend = if used.is_empty() { 0.0 } else { LEGEND };
    // Roughly what the elements take, to avoid regrowing the buffer on large processes.
    let mut out = String::with_capacity(1024 + layout.nodes.len() * 900 + layout.edges.len() * 400);
    let (w, h) = (num(layout.width), num(layout.height + legend));
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{}" font-size="11">"#,
        esc(FONT)
    );
    let title = super::title(process, options);
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    out.push_str(concat!(
        "<defs>",
        r##"<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,1 L10,5 L0,9 z" fill="#495057"/></marker>"##,
        r##"<marker id="arrow-loop" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,1 L10,5 L0,9 z" fill="#ae3ec9"/></marker>"##,
        "</defs>\n"
    ));
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##
    );
    let room = ((layout.width - 2.0 * MARGIN) / (TITLE_FONT * 0.6)).max(10.0) as usize;
    let _ = writeln!(
        out,
        r#"<text x="{}" y="26" font-size="{}" font-weight="bold" fill="{INK}">{}</text>"#,
        num(MARGIN),
        num(TITLE_FONT),
        esc(&truncate(&title, room))
    );

    out.push_str("<g class=\"lanes\">\n");
    for (i, lane) in layout.lanes.iter().enumerate() {
        write_lane(&mut out, lane, i);
    }
    out.push_str("</g>\n<g class=\"edges\">\n");
    for edge in &layout.edges {
        write_edge(&mut out, layout, edge);
    }
    out.push_str("</g>\n<g class=\"steps\">\n");
    for node in &layout.nodes {
        let mark = used.iter().find(|m| m.steps.contains(&node.id)).copied();
        write_node(&mut out, node, mark);
    }
    out.push_str("</g>\n");
    if !used.is_empty() {
        write_legend(&mut out, layout.height, &used);
    }
    out.push_str("</svg>\n");
    out
}

fn write_lane(out: &mut String, lane: &Lane, index: usize) {
    let b = &lane.band;
    let h = &lane.header;
    let fill = if index.is_multiple_of(2) {
        "#f8f9fa"
    } else {
        "#ffffff"
    };
    let header_fill = if lane.system { "#e7f0fa" } else { "#e9ecef" };
    let class = if lane.role.is_some() {
        "lane"
    } else {
        "lane process"
    };
    let _ = writeln!(
        out,
        r#"<g class="{class}" data-role="{}"><title>{}</title>"#,
        esc(lane.role.as_deref().unwrap_or_default()),
        esc(&lane.name)
    );
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="#ced4da"/>"##,
        num(b.x),
        num(b.y),
        num(b.width),
        num(b.height)
    );
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{header_fill}" stroke="#ced4da"/>"##,
        num(h.x),
        num(h.y),
        num(h.width),
        num(h.height)
    );
    let style = if lane.system {
        r#" font-style="italic""#
    } else {
        ""
    };
    let top = h.y + (h.height - lane.lines.len() as f64 * HEADER_LINE) / 2.0;
    for (i, line) in lane.lines.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-size="{}" font-weight="bold"{style} text-anchor="middle" fill="{INK}">{}</text>"#,
            num(h.x + h.width / 2.0),
            num(top + (i as f64 + 1.0) * HEADER_LINE - 3.0),
            num(HEADER_FONT),
            esc(line)
        );
    }
    out.push_str("</g>\n");
}

fn write_edge(out: &mut String, layout: &Layout, edge: &EdgeLine) {
    let id = |n: usize| layout.nodes.get(n).map_or("", |node| node.id.as_str());
    let (class, colour, dash, marker) = if edge.back {
        (
            "edge loop",
            LOOP,
            r#" stroke-dasharray="6 4""#,
            "arrow-loop",
        )
    } else {
        ("edge", EDGE, "", "arrow")
    };
    let _ = write!(
        out,
        r#"<g class="{class}" data-from="{}" data-to="{}">"#,
        esc(id(edge.from)),
        esc(id(edge.to))
    );
    if let Some(label) = &edge.label {
        let _ = write!(out, "<title>{}</title>", esc(label));
    }
    let points: Vec<String> = edge
        .points
        .iter()
        .map(|p| format!("{},{}", num(p.x), num(p.y)))
        .collect();
    let _ = write!(
        out,
        r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.3"{dash} marker-end="url(#{marker})"/>"#,
        points.join(" ")
    );
    if let (Some(text), Some(at)) = (&edge.label_text, edge.label_at) {
        // A branch's condition is an expression, not words: it is not translated (and a page
        // in any language shows it as written).
        let code = if is_expression(text) {
            r#" translate="no""#
        } else {
            ""
        };
        // A white halo keeps the label legible where it crosses a line.
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="{}" fill="{}" stroke="#ffffff" stroke-width="3" paint-order="stroke"{code}>{}</text>"##,
            num(at.x),
            num(at.y),
            num(LABEL_FONT),
            if edge.back { LOOP } else { INK },
            esc(text)
        );
    }
    out.push_str("</g>\n");
}

fn write_node(out: &mut String, node: &Node, mark: Option<&Mark>) {
    let kind = match node.shape {
        Shape::Task => "task",
        Shape::System => "system",
        Shape::Dispatch => "dispatch",
        Shape::Exclusive => "exclusive",
        Shape::Parallel => "parallel",
        Shape::Join => "join",
        Shape::End(_) => "end",
    };
    let marked = mark.map_or(String::new(), |m| format!(" mark-{}", esc(&m.class)));
    let _ = write!(
        out,
        r#"<g class="step{marked}" id="step-{id}" data-step="{id}" data-kind="{kind}""#,
        id = esc(&node.id)
    );
    if let Some(m) = mark {
        let _ = write!(out, r#" data-mark="{}""#, esc(&m.class));
    }
    if let Shape::End(result) = node.shape {
        let _ = write!(out, r#" data-result="{}""#, result.as_str());
    }
    if node.highlighted {
        out.push_str(r#" data-highlight="true""#);
    }
    out.push('>');
    let mut tooltip = if node.name.is_empty() {
        node.id.clone()
    } else {
        format!("{} ({})", node.name, node.id)
    };
    for d in &node.details {
        tooltip.push('\n');
        tooltip.push_str(d);
    }
    let _ = writeln!(out, "<title>{}</title>", esc(&tooltip));
    let (stroke, width) = match mark {
        _ if node.highlighted => (Some(HIGHLIGHT), 3.5),
        Some(m) => (Some(m.colour.as_str()), 3.5),
        None => (None, 1.5),
    };
    let b = &node.body;
    let (x, y, w, h) = (num(b.x), num(b.y), num(b.width), num(b.height));
    let c = b.center();
    let (cx, cy) = (num(c.x), num(c.y));
    match node.shape {
        Shape::Task => {
            let _ = writeln!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="#ffffff" stroke="{}" stroke-width="{}"/>"##,
                stroke.unwrap_or(EDGE),
                num(width)
            );
        }
        Shape::System => {
            // A double border, as for integrated systems in the paper schemes.
            let _ = writeln!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="2" fill="#e7f0fa" stroke="{}" stroke-width="{}"/><rect x="{}" y="{}" width="{}" height="{}" rx="1" fill="none" stroke="#1c7ed6" stroke-width="0.8"/>"##,
                stroke.unwrap_or("#1c7ed6"),
                num(width),
                num(b.x + 3.0),
                num(b.y + 3.0),
                num(b.width - 6.0),
                num(b.height - 6.0)
            );
        }
        Shape::Dispatch => {
            let _ = writeln!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="#fff9db" stroke="{}" stroke-width="{}"/>"##,
                stroke.unwrap_or("#f08c00"),
                num(width)
            );
        }
        Shape::Exclusive | Shape::Parallel | Shape::Join => {
            let _ = writeln!(
                out,
                r##"<polygon points="{cx},{} {},{cy} {cx},{} {},{cy}" fill="#ffffff" stroke="{}" stroke-width="{}"/>"##,
                num(b.y),
                num(b.right()),
                num(b.bottom()),
                num(b.x),
                stroke.unwrap_or(EDGE),
                num(width)
            );
            if node.shape != Shape::Exclusive {
                let r = b.width / 4.0;
                let _ = writeln!(
                    out,
                    r#"<path d="M{},{cy} H{} M{cx},{} V{}" stroke="{EDGE}" stroke-width="2.5"/>"#,
                    num(c.x - r),
                    num(c.x + r),
                    num(c.y - r),
                    num(c.y + r)
                );
            }
        }
        Shape::End(result) => {
            let (fill, ring) = match result {
                CaseResult::Granted => ("#d3f9d8", "#2b8a3e"),
                CaseResult::Refused => ("#ffe3e3", "#c92a2a"),
                CaseResult::Returned => ("#fff3bf", "#e67700"),
                CaseResult::Withdrawn => ("#e9ecef", "#868e96"),
            };
            let _ = writeln!(
                out,
                r#"<circle cx="{cx}" cy="{cy}" r="{}" fill="{fill}" stroke="{}" stroke-width="{}"/>"#,
                num(b.width / 2.0),
                stroke.unwrap_or(ring),
                num(width + 1.5)
            );
        }
    }
    if node.shape.is_box() {
        write_box_text(out, node);
    } else {
        for (i, line) in node.lines.iter().enumerate() {
            let _ = writeln!(
                out,
                r#"<text x="{cx}" y="{}" font-size="{}" text-anchor="middle" fill="{INK}">{}</text>"#,
                num(b.bottom() + CAPTION_GAP + (i as f64 + 1.0) * CAPTION_LINE - 2.0),
                num(CAPTION_FONT),
                esc(line)
            );
        }
    }
    if let Some(m) = mark {
        write_badge(out, b.right(), b.y, m);
    }
    out.push_str("</g>\n");
}

/// A mark's sign in a circle of its colour, centred at (`x`, `y`).
fn write_badge(out: &mut String, x: f64, y: f64, mark: &Mark) {
    let _ = writeln!(
        out,
        r##"<g class="mark-sign"><circle cx="{}" cy="{}" r="8" fill="{}" stroke="#ffffff" stroke-width="1.5"/><text x="{}" y="{}" font-size="12" font-weight="bold" text-anchor="middle" fill="#ffffff">{}</text></g>"##,
        num(x),
        num(y),
        esc(&mark.colour),
        num(x),
        num(y + 4.0),
        esc(&mark.sign)
    );
}

/// The marks in a row under the lanes: each sign in its badge, then its words.
fn write_legend(out: &mut String, top: f64, marks: &[&Mark]) {
    out.push_str("<g class=\"legend\">\n");
    let mut x = MARGIN + 8.0;
    let y = top + LEGEND / 2.0;
    for m in marks {
        write_badge(out, x, y, m);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-size="12" fill="{INK}">{}</text>"#,
            num(x + 14.0),
            num(y + 4.0),
            esc(&m.legend)
        );
        x += 14.0 + text_width(&m.legend, 12.0) + 28.0;
    }
    out.push_str("</g>\n");
}

/// Whether an edge's label is a condition (`channel == "centre"`, `has(outcomes.x)`) rather
/// than an outcome's name.
fn is_expression(text: &str) -> bool {
    ["==", "!=", "&&", "||", "(", "\"", ">", "<"]
        .iter()
        .any(|op| text.contains(op))
}

/// The name, then the durations (and a dispatch's times behind a clock), centred in the box.
fn write_box_text(out: &mut String, node: &Node) {
    let b = &node.body;
    let cx = num(b.center().x);
    let details_h = if node.details.is_empty() {
        0.0
    } else {
        DETAIL_GAP + node.details.len() as f64 * DETAIL_LINE
    };
    let content = node.lines.len() as f64 * NAME_LINE + details_h;
    let top = b.y + ((b.height - content) / 2.0).max(BOX_PAD);
    for (i, line) in node.lines.iter().enumerate() {
        let _ = writeln!(
            out,
            r#"<text x="{cx}" y="{}" font-size="{}" text-anchor="middle" fill="{INK}">{}</text>"#,
            num(top + (i as f64 + 1.0) * NAME_LINE - 3.5),
            num(NAME_FONT),
            esc(line)
        );
    }
    let top = top + node.lines.len() as f64 * NAME_LINE + DETAIL_GAP;
    for (i, line) in node.details.iter().enumerate() {
        let baseline = top + (i as f64 + 1.0) * DETAIL_LINE - 3.0;
        if i == 0 && node.shape == Shape::Dispatch {
            let r = 5.0;
            let x = b.center().x - text_width(line, DETAIL_FONT) / 2.0 - r - 4.0;
            let y = baseline - 3.5;
            let _ = writeln!(
                out,
                r##"<g class="clock"><circle cx="{}" cy="{}" r="{}" fill="#ffffff" stroke="#f08c00" stroke-width="1.2"/><path d="M{},{} V{} H{}" fill="none" stroke="#f08c00" stroke-width="1.2"/></g>"##,
                num(x),
                num(y),
                num(r),
                num(x),
                num(y - r + 1.5),
                num(y),
                num(x + r - 1.5)
            );
        }
        let _ = writeln!(
            out,
            r##"<text x="{cx}" y="{}" font-size="{}" font-style="italic" text-anchor="middle" fill="#1864ab">{}</text>"##,
            num(baseline),
            num(DETAIL_FONT),
            esc(line)
        );
    }
}

/// A coordinate with at most one decimal, without a trailing `.0`.
fn num(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{:.1}", v);
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

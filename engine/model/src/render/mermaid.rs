//! Mermaid `flowchart LR`: a subgraph per lane, step shapes by kind, loops dotted.
//! Node ids are the step ids with an `s_` prefix, since Mermaid reserves words such as `end`.

use std::fmt::Write;

use crate::model::CaseResult;

use super::Options;
use super::layout::Shape;
use super::view::View;
use super::{labels, title};

pub fn write(view: &View, options: &Options) -> String {
    let p = view.process;
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(out, "  %% {}", one_line(&title(p, options)));
    for lane in 0..view.lanes.len() {
        let _ = writeln!(
            out,
            "  subgraph lane_{}[\"{}\"]",
            view.lane_role(lane).unwrap_or("process"),
            esc(&view.lane_name(lane, options.lang))
        );
        for n in (0..view.len()).filter(|&n| view.lane[n] == lane) {
            let _ = writeln!(out, "    {}", node(view, n, options));
        }
        out.push_str("  end\n");
    }
    for e in &view.edges {
        let from = p.step(view.steps[e.from]).id();
        let to = p.step(view.steps[e.to]).id();
        let arrow = if e.back { "-.->" } else { "-->" };
        match e.label() {
            Some(l) => {
                let _ = writeln!(out, "  s_{from} {arrow}|\"{}\"| s_{to}", esc(&l));
            }
            None => {
                let _ = writeln!(out, "  s_{from} {arrow} s_{to}");
            }
        }
    }
    classes(view, options, &mut out);
    out
}

fn node(view: &View, n: usize, options: &Options) -> String {
    let p = view.process;
    let step = view.steps[n];
    let id = p.step(step).id();
    let name = labels::step_name(p, step, options.lang).unwrap_or_default();
    let mut text = esc(&name);
    for d in labels::step_details(p, step, options.channel.as_deref(), options.lang) {
        text.push_str("<br/>");
        text.push_str(&esc(&d));
    }
    match Shape::of(p.step(step)) {
        Shape::Task => format!("s_{id}(\"{text}\")"),
        Shape::System => format!("s_{id}[[\"{text}\"]]"),
        Shape::Dispatch => format!("s_{id}[/\"{text}\"/]"),
        Shape::Exclusive if text.is_empty() => format!("s_{id}{{\"×\"}}"),
        Shape::Exclusive => format!("s_{id}{{\"{text}\"}}"),
        Shape::Parallel | Shape::Join if text.is_empty() => format!("s_{id}{{\"+\"}}"),
        Shape::Parallel | Shape::Join => format!("s_{id}{{\"+ {text}\"}}"),
        Shape::End(_) => format!("s_{id}([\"{text}\"])"),
    }
}

/// Colours by kind and result, and the highlight; only classes that are used are declared.
fn classes(view: &View, options: &Options, out: &mut String) {
    let p = view.process;
    let class_of = |n: usize| match Shape::of(p.step(view.steps[n])) {
        Shape::System => Some("system"),
        Shape::Dispatch => Some("dispatch"),
        Shape::End(CaseResult::Granted) => Some("granted"),
        Shape::End(CaseResult::Refused) => Some("refused"),
        Shape::End(CaseResult::Returned) => Some("returned"),
        Shape::End(CaseResult::Withdrawn) => Some("withdrawn"),
        _ => None,
    };
    let styles = [
        ("system", "fill:#e7f0fa,stroke:#1c7ed6"),
        ("dispatch", "fill:#fff9db,stroke:#f08c00"),
        ("granted", "fill:#d3f9d8,stroke:#2b8a3e"),
        ("refused", "fill:#ffe3e3,stroke:#c92a2a"),
        ("returned", "fill:#fff3bf,stroke:#e67700"),
        ("withdrawn", "fill:#e9ecef,stroke:#868e96"),
        ("highlight", "stroke:#e8590c,stroke-width:3px"),
    ];
    for (class, style) in styles {
        let members: Vec<String> = (0..view.len())
            .filter(|&n| {
                let id = p.step(view.steps[n]).id();
                if class == "highlight" {
                    options.highlight.iter().any(|h| h == id)
                } else {
                    class_of(n) == Some(class)
                }
            })
            .map(|n| format!("s_{}", p.step(view.steps[n]).id()))
            .collect();
        if !members.is_empty() {
            let _ = writeln!(out, "  classDef {class} {style}");
            let _ = writeln!(out, "  class {} {class}", members.join(","));
        }
    }
}

/// Escapes text inside a quoted Mermaid label with its entity codes (`#quot;`), so quotes,
/// brackets and `#` in names do not end the label or start markup.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A comment must stay on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

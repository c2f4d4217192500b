//! Graphviz DOT: a `cluster_` subgraph per lane (Graphviz draws clusters as boxes, which is
//! as close to swimlanes as it gets), loops dashed and left out of the ranking.

use std::fmt::Write;

use crate::model::CaseResult;

use super::Options;
use super::layout::Shape;
use super::view::View;
use super::{labels, title};

pub fn write(view: &View, options: &Options) -> String {
    let p = view.process;
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", esc(&p.regulation.id));
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, newrank=true, fontname=\"Helvetica\", labelloc=t, label=\"{}\"];",
        esc(&title(p, options))
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for lane in 0..view.lanes.len() {
        let _ = writeln!(
            out,
            "  subgraph \"cluster_{}\" {{",
            esc(view.lane_role(lane).unwrap_or("process"))
        );
        let _ = writeln!(
            out,
            "    label=\"{}\"; style=filled; fillcolor=\"#f8f9fa\"; color=\"#ced4da\";",
            esc(&view.lane_name(lane, options.lang))
        );
        for n in (0..view.len()).filter(|&n| view.lane[n] == lane) {
            let _ = writeln!(out, "    {}", node(view, n, options));
        }
        out.push_str("  }\n");
    }
    for e in &view.edges {
        let from = p.step(view.steps[e.from]).id();
        let to = p.step(view.steps[e.to]).id();
        let mut attrs = Vec::new();
        if let Some(l) = e.label() {
            attrs.push(format!("label=\"{}\"", esc(&l)));
        }
        if e.back {
            attrs.push("style=dashed, color=\"#ae3ec9\", constraint=false".to_string());
        }
        if attrs.is_empty() {
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\";");
        } else {
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\" [{}];", attrs.join(", "));
        }
    }
    out.push_str("}\n");
    out
}

fn node(view: &View, n: usize, options: &Options) -> String {
    let p = view.process;
    let step = view.steps[n];
    let id = p.step(step).id();
    let name = esc(&labels::step_name(p, step, options.lang).unwrap_or_default());
    let mut text = name.clone();
    for d in labels::step_details(p, step, options.channel.as_deref(), options.lang) {
        text.push_str("\\n");
        text.push_str(&esc(&d));
    }
    let mut attrs = match Shape::of(p.step(step)) {
        Shape::Task => {
            format!("label=\"{text}\", shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"")
        }
        Shape::System => format!(
            "label=\"{text}\", shape=box, style=filled, fillcolor=\"#e7f0fa\", color=\"#1c7ed6\", peripheries=2"
        ),
        Shape::Dispatch => format!(
            "label=\"{text}\", shape=box, style=\"rounded,filled\", fillcolor=\"#fff9db\", color=\"#f08c00\""
        ),
        Shape::Exclusive => {
            format!("label=\"\", xlabel=\"{name}\", shape=diamond, width=0.4, height=0.4")
        }
        Shape::Parallel | Shape::Join => {
            format!("label=\"+\", xlabel=\"{name}\", shape=diamond, width=0.4, height=0.4")
        }
        Shape::End(result) => {
            let (fill, ring) = match result {
                CaseResult::Granted => ("#d3f9d8", "#2b8a3e"),
                CaseResult::Refused => ("#ffe3e3", "#c92a2a"),
                CaseResult::Returned => ("#fff3bf", "#e67700"),
                CaseResult::Withdrawn => ("#e9ecef", "#868e96"),
            };
            format!(
                "label=\"\", xlabel=\"{name}\", shape=circle, width=0.3, style=filled, fillcolor=\"{fill}\", color=\"{ring}\", penwidth=2"
            )
        }
    };
    if options.highlight.iter().any(|h| h == id) {
        attrs.push_str(", penwidth=3, color=\"#e8590c\"");
    }
    format!("\"{id}\" [{attrs}];")
}

/// Escapes text inside a double-quoted DOT string.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

//! Diagrams of a process, drawn like the «схема функционального взаимодействия» of the paper
//! regulations: one horizontal lane per role, time flowing left to right.
//!
//! - [`layout`] computes coordinates (lanes, steps, edge polylines) without any external
//!   program; [`svg`] draws them. The same coordinates can serve a BPMN DI export and the web
//!   interface's highlighting of a case's current step.
//! - [`mermaid`] and [`dot`] write the same process as text for Mermaid and Graphviz, with the
//!   roles as subgraphs, for documents and wikis.
//!
//! Conventions shared by all three: lanes are the roles in declaration order; a step without
//! a role (a choice, split, join or end) sits in the lane of its first predecessor; columns
//! are longest-path layers with rework loops set aside, and loops are drawn dashed; edge
//! labels are the outcome names in the chosen language, a branch's condition, or «otherwise».
//! With a channel, only the steps its cases can reach are drawn (choices on the channel alone
//! decided) with that channel's durations; without one, every step with its default duration
//! followed by the channel-specific ones. Output is deterministic: the same process and
//! options give byte-identical text.

mod dot;
mod labels;
mod layout;
mod mermaid;
mod order;
mod route;
mod sketch;
mod svg;
mod view;

#[cfg(test)]
mod tests;

pub use labels::{term as term_in, truncate};
pub use layout::{EdgeLine, Lane, Layout, Node, Point, Rect, Shape, layout};
pub use sketch::{Sketch, SketchEdge, SketchLane, SketchNode, layout_sketch};

use crate::compile::Process;
use crate::text::Lang;

/// What to draw and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The language of names and labels.
    pub lang: Lang,
    /// Draw only the steps this channel's cases can reach, with its durations.
    pub channel: Option<String>,
    /// Step ids to draw emphasised, e.g. the current step of a case. Unknown ids are ignored.
    pub highlight: Vec<String>,
}

/// Options that do not fit the process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("unknown channel `{channel}`; the channels are: {}", known.join(", "))]
    UnknownChannel { channel: String, known: Vec<String> },
}

impl Options {
    /// Checks the options against the process. Rendering does not need this (an unknown
    /// channel simply reaches no steps) but a user who mistyped a channel deserves to know.
    pub fn check(&self, process: &Process) -> Result<(), RenderError> {
        match &self.channel {
            Some(c) if process.channel(c).is_none() => Err(RenderError::UnknownChannel {
                channel: c.clone(),
                known: process
                    .regulation
                    .channels
                    .iter()
                    .map(|c| c.id.clone())
                    .collect(),
            }),
            _ => Ok(()),
        }
    }
}

/// The swimlane diagram as a standalone SVG document.
pub fn svg(process: &Process, options: &Options) -> String {
    svg::write(process, &layout(process, options), options)
}

/// A mark drawn on some steps of a diagram (what a new version added or changed): a class
/// and an outline colour, a sign beside each marked step and a legend line in words, so the
/// mark never rests on colour alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// Added to the step's `class` (`step mark-{class}`) and given as `data-mark`.
    pub class: String,
    /// The outline colour, e.g. `#2b8a3e`.
    pub colour: String,
    /// A character or two drawn in a badge at the step's corner, e.g. `+`.
    pub sign: String,
    /// The legend's words for the mark.
    pub legend: String,
    /// The steps it marks; unknown ids are ignored. A step in two marks takes the first.
    pub steps: Vec<String>,
}

/// [`svg`] with marks on steps and, below the lanes, a legend of the marks used.
pub fn svg_marked(process: &Process, options: &Options, marks: &[Mark]) -> String {
    svg::write_marked(process, &layout(process, options), options, marks)
}

/// The process as a Mermaid `flowchart LR` with a subgraph per role.
pub fn mermaid(process: &Process, options: &Options) -> String {
    mermaid::write(&view::View::new(process, options), options)
}

/// The process as a Graphviz `digraph` with a `cluster_` subgraph per role.
pub fn dot(process: &Process, options: &Options) -> String {
    dot::write(&view::View::new(process, options), options)
}

/// The title line: the service's name, and the channel when one is chosen.
fn title(process: &Process, options: &Options) -> String {
    let mut title = process.regulation.title.get(options.lang).to_string();
    if let Some(c) = &options.channel {
        let name = process
            .channel(c)
            .and_then(|ch| ch.name.as_ref())
            .map_or(c.as_str(), |n| n.get(options.lang));
        title.push_str(" — ");
        title.push_str(name);
    }
    title
}

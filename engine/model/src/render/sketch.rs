//! The swimlane layout of a graph given node by node, for outputs that draw more than the
//! process's steps: BPMN adds start events, message events between pools and gateways for
//! outcomes, and places each in a lane it chooses. The rows, columns and edge routes are the
//! same as for the steps alone (see [`super::layout`]), so the promises hold: every node
//! inside its lane, no two nodes overlapping, edges orthogonal and crossing no node.

use crate::compile::Process;

use super::layout::{self, Layout, Shape};
use super::view::{View, ViewEdge};

/// A lane of a sketch, in the order drawn from the top.
#[derive(Debug, Clone, PartialEq)]
pub struct SketchLane {
    /// The role's id; `None` for a lane of no role.
    pub role: Option<String>,
    pub name: String,
    pub system: bool,
}

/// A node of a sketch.
#[derive(Debug, Clone, PartialEq)]
pub struct SketchNode {
    pub id: String,
    /// Index into `regulation.steps`, if the node is a step.
    pub step: Option<usize>,
    /// Boxes, diamonds (choices, splits, joins) and circles (`End`, for any event).
    pub shape: Shape,
    pub name: String,
    /// Lines under the name in a box.
    pub details: Vec<String>,
    /// Index into [`Sketch::lanes`].
    pub lane: usize,
    /// Height kept free under a box, inside its bounds, for what the output hangs there.
    pub below: f64,
}

/// An edge of a sketch; edges that loop back are found and routed as such.
#[derive(Debug, Clone, PartialEq)]
pub struct SketchEdge {
    pub from: usize,
    pub to: usize,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sketch {
    pub lanes: Vec<SketchLane>,
    pub nodes: Vec<SketchNode>,
    pub edges: Vec<SketchEdge>,
}

/// Lays a sketch out. The layout's nodes and edges are in the sketch's order; a node that
/// is no step has `step == usize::MAX`.
pub fn layout_sketch(process: &Process, sketch: &Sketch) -> Layout {
    let view = View::from_graph(
        process,
        sketch
            .nodes
            .iter()
            .map(|n| n.step.unwrap_or(usize::MAX))
            .collect(),
        sketch
            .edges
            .iter()
            .map(|e| ViewEdge {
                from: e.from,
                to: e.to,
                labels: e.label.iter().cloned().collect(),
                back: false,
            })
            .collect(),
        sketch.nodes.iter().map(|n| n.lane).collect(),
        sketch.lanes.len(),
    );
    let nodes = sketch
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            layout::sized_node(
                &view,
                i,
                n.id.clone(),
                n.shape,
                n.name.clone(),
                n.details.clone(),
                n.below,
            )
        })
        .collect();
    let lanes = sketch
        .lanes
        .iter()
        .map(|l| layout::new_lane(l.role.clone(), l.name.clone(), l.system))
        .collect();
    layout::arrange(&view, nodes, lanes)
}

//! The swimlane layout: one horizontal lane per role, time flowing left to right in ranks
//! (longest-path layers with rework loops set aside), steps stacked within a lane × rank cell.
//! The result is plain coordinates, so the SVG writer, a BPMN DI export and the web UI's
//! highlighting of the current step can all use it.

use crate::compile::Process;
use crate::model::{CaseResult, RoleKind, Step};

use super::Options;
use super::labels::{self, text_width, wrap};
use super::order;
use super::route::{self, Plan};
use super::view::View;

/// Outer margin of the drawing.
pub(super) const MARGIN: f64 = 16.0;
/// The band above the lanes that holds the title.
pub(super) const TITLE_H: f64 = 40.0;
/// Width of the lane headers on the left.
pub(super) const HEADER_W: f64 = 150.0;
const LANE_PAD_TOP: f64 = 18.0;
const ROW_GAP: f64 = 20.0;
const LANE_MIN_H: f64 = 76.0;
const HEADER_CHARS: usize = 17;
pub(super) const HEADER_FONT: f64 = 12.0;
pub(super) const HEADER_LINE: f64 = 15.0;

/// Boxes of tasks, system steps and dispatches.
const BOX_W: f64 = 180.0;
const BOX_CHARS: usize = 24;
const BOX_LINES: usize = 5;
pub(super) const BOX_PAD: f64 = 9.0;
pub(super) const NAME_FONT: f64 = 11.0;
pub(super) const NAME_LINE: f64 = 14.0;
pub(super) const DETAIL_FONT: f64 = 10.0;
pub(super) const DETAIL_LINE: f64 = 13.0;
pub(super) const DETAIL_GAP: f64 = 4.0;
const DETAIL_CHARS: usize = 30;
const BOX_MIN_H: f64 = 50.0;

/// Diamonds and circles, with their caption underneath.
const GATE: f64 = 40.0;
const END: f64 = 28.0;
const PORT_PITCH: f64 = 14.0;
const IN_PITCH: f64 = 9.0;
const MAX_PORTS_SIDE: f64 = 96.0;
const CAPTION_W: f64 = 130.0;
const CAPTION_CHARS: usize = 21;
const CAPTION_LINES: usize = 3;
pub(super) const CAPTION_FONT: f64 = 10.0;
pub(super) const CAPTION_LINE: f64 = 12.0;
pub(super) const CAPTION_GAP: f64 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.width
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }
    pub fn center(&self) -> Point {
        Point {
            x: self.x + self.width / 2.0,
            y: self.y + self.height / 2.0,
        }
    }
    /// Whether the two rectangles share any area.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }
    pub fn contains(&self, other: &Rect) -> bool {
        self.x <= other.x
            && self.y <= other.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }
}

/// How a step is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Task,
    System,
    Dispatch,
    Exclusive,
    Parallel,
    Join,
    End(CaseResult),
}

impl Shape {
    pub(super) fn of(step: &Step) -> Shape {
        match step {
            Step::Task(_) => Shape::Task,
            Step::System(_) => Shape::System,
            Step::Dispatch(_) => Shape::Dispatch,
            Step::Exclusive(_) => Shape::Exclusive,
            Step::Parallel(_) => Shape::Parallel,
            Step::Join(_) => Shape::Join,
            Step::End(e) => Shape::End(e.result),
        }
    }

    /// Boxes carry their text inside; diamonds and circles carry a caption underneath.
    pub fn is_box(self) -> bool {
        matches!(self, Shape::Task | Shape::System | Shape::Dispatch)
    }
}

/// A lane: a horizontal band with the role's name in a header on the left.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// The role's id; `None` for the process lane (steps no role's lane took).
    pub role: Option<String>,
    pub name: String,
    /// The role is a system (the portal, the signature service), not a person.
    pub system: bool,
    /// The whole band, header included.
    pub band: Rect,
    pub header: Rect,
    /// The name wrapped to the header's width.
    pub lines: Vec<String>,
}

/// A step's place in the drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Index into `regulation.steps`.
    pub step: usize,
    pub id: String,
    pub shape: Shape,
    /// Index into [`Layout::lanes`].
    pub lane: usize,
    /// Column, counted from the left.
    pub rank: usize,
    /// Row within the lane, counted from the top.
    pub slot: usize,
    /// The shape itself (box, diamond's or circle's bounding square).
    pub body: Rect,
    /// The shape with its caption: the area no other step may overlap.
    pub bounds: Rect,
    /// The full name in the chosen language (empty for an unnamed choice).
    pub name: String,
    /// The name wrapped: inside a box, or as the caption under a diamond or circle.
    pub lines: Vec<String>,
    /// Durations and dispatch times, shown under the name in a box.
    pub details: Vec<String>,
    pub highlighted: bool,
}

/// An edge drawn as a polyline of horizontal and vertical segments.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeLine {
    /// Indices into [`Layout::nodes`].
    pub from: usize,
    pub to: usize,
    /// From the source's border to the target's border; the arrowhead goes on the last point.
    pub points: Vec<Point>,
    /// The full label (outcome names, a branch's condition).
    pub label: Option<String>,
    /// The label as drawn (shortened when long), with its baseline's start.
    pub label_text: Option<String>,
    pub label_at: Option<Point>,
    /// A loop back for rework: drawn dashed, routed under the lane.
    pub back: bool,
}

/// Coordinates of everything on the diagram, in pixels from the top left.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub lanes: Vec<Lane>,
    pub nodes: Vec<Node>,
    pub edges: Vec<EdgeLine>,
}

impl Layout {
    /// The node of the step with this id, if it is shown.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// Lays the process out. Linear in the number of steps and edges apart from sorting.
pub fn layout(process: &Process, options: &Options) -> Layout {
    let view = View::new(process, options);
    let nodes = size_nodes(&view, options);
    let lanes = lanes(&view, options);
    arrange(&view, nodes, lanes)
}

/// Rows, columns and edge routes for nodes that have their size and lanes that have their
/// names.
pub(super) fn arrange(view: &View, mut nodes: Vec<Node>, mut lanes: Vec<Lane>) -> Layout {
    let arrangement = order::arrange(view);
    for (n, node) in nodes.iter_mut().enumerate() {
        node.slot = arrangement.slot[n];
    }
    let first_row = place_rows(&mut lanes, &mut nodes, &arrangement.rows);
    let mut plan = route::plan(view, &nodes, &lanes, &first_row);
    let width = place_columns(view, &mut nodes, &mut plan);
    for lane in &mut lanes {
        lane.band.width = width - 2.0 * MARGIN;
    }
    let edges = route::draw(view, &nodes, &lanes, &plan);
    let height = lanes.last().map_or(TITLE_H, |l| l.band.bottom()) + MARGIN;
    Layout {
        width,
        height,
        lanes,
        nodes,
        edges,
    }
}

/// Each node's shape, text and size; positions come later.
fn size_nodes(view: &View, options: &Options) -> Vec<Node> {
    let p = view.process;
    let channel = options.channel.as_deref();
    (0..view.len())
        .map(|n| {
            let step = view.steps[n];
            let s = p.step(step);
            let mut node = sized_node(
                view,
                n,
                s.id().to_string(),
                Shape::of(s),
                labels::step_name(p, step, options.lang).unwrap_or_default(),
                labels::step_details(p, step, channel, options.lang),
                0.0,
            );
            node.highlighted = options.highlight.iter().any(|h| h == s.id());
            node
        })
        .collect()
}

/// A node of `shape` with its text wrapped and its size, `below` pixels kept free under a
/// box (for what an output hangs under it), not yet placed.
pub(super) fn sized_node(
    view: &View,
    n: usize,
    id: String,
    shape: Shape,
    name: String,
    raw_details: Vec<String>,
    below: f64,
) -> Node {
    // Room for one port per edge along each side: labelled ways out need a label's
    // height apart, ways in only an arrowhead's. Capped, so an end that a hundred
    // refusals lead to stays a circle of reasonable size (its arrowheads then crowd).
    let ports = ((view.outgoing[n].len() + 1) as f64 * PORT_PITCH)
        .max((view.incoming[n].len() + 1) as f64 * IN_PITCH)
        .min(MAX_PORTS_SIDE);
    let (lines, details): (Vec<String>, Vec<String>);
    let (body, bounds): ((f64, f64), (f64, f64));
    if shape.is_box() {
        lines = wrap(&name, BOX_CHARS, BOX_LINES);
        details = raw_details
            .iter()
            .map(|d| labels::truncate(d, DETAIL_CHARS))
            .collect::<Vec<_>>();
        let detail_h = if details.is_empty() {
            0.0
        } else {
            DETAIL_GAP + details.len() as f64 * DETAIL_LINE
        };
        let h = (2.0 * BOX_PAD + lines.len() as f64 * NAME_LINE + detail_h)
            .max(BOX_MIN_H)
            .max(ports);
        body = (BOX_W, h);
        bounds = (BOX_W, h + below);
    } else {
        lines = wrap(&name, CAPTION_CHARS, CAPTION_LINES);
        details = Vec::new();
        let base = if matches!(shape, Shape::End(_)) {
            END
        } else {
            GATE
        };
        let side = base.max(ports);
        body = (side, side);
        let caption_w = lines
            .iter()
            .map(|l| text_width(l, CAPTION_FONT))
            .fold(0.0, f64::max);
        let caption_h = if lines.is_empty() {
            0.0
        } else {
            CAPTION_GAP + lines.len() as f64 * CAPTION_LINE
        };
        bounds = (side.max(caption_w.min(CAPTION_W)), side + caption_h);
    }
    Node {
        step: view.steps[n],
        id,
        shape,
        lane: view.lane[n],
        rank: view.rank[n],
        slot: 0,
        body: Rect {
            width: body.0,
            height: body.1,
            ..Rect::default()
        },
        bounds: Rect {
            width: bounds.0,
            height: bounds.1,
            ..Rect::default()
        },
        highlighted: false,
        name,
        lines,
        details,
    }
}

fn lanes(view: &View, options: &Options) -> Vec<Lane> {
    let roles = &view.process.regulation.roles;
    (0..view.lanes.len())
        .map(|l| {
            new_lane(
                view.lane_role(l).map(str::to_string),
                view.lane_name(l, options.lang),
                view.lanes[l]
                    .role
                    .is_some_and(|r| roles[r].kind == RoleKind::System),
            )
        })
        .collect()
}

/// A lane with its name wrapped for the header, not yet placed.
pub(super) fn new_lane(role: Option<String>, name: String, system: bool) -> Lane {
    Lane {
        role,
        system,
        lines: wrap(&name, HEADER_CHARS, 8),
        name,
        band: Rect::default(),
        header: Rect::default(),
    }
}

/// Stacks the lanes and their rows from the top and gives every node its y. Returns the
/// first row id of each lane (a row's id is the lane's first plus the slot).
fn place_rows(lanes: &mut [Lane], nodes: &mut [Node], rows: &[usize]) -> Vec<usize> {
    let mut first = Vec::with_capacity(lanes.len());
    let mut total = 0;
    for &r in rows {
        first.push(total);
        total += r;
    }
    // Per row: the most any shape reaches above and below its centre line.
    let mut above = vec![0.0f64; total];
    let mut below = vec![0.0f64; total];
    for node in nodes.iter() {
        let row = first[node.lane] + node.slot;
        let centre = node.body.height / 2.0;
        above[row] = above[row].max(centre);
        below[row] = below[row].max(node.bounds.height - centre);
    }
    let mut axis = vec![0.0; total];
    let mut y = TITLE_H;
    for (l, lane) in lanes.iter_mut().enumerate() {
        let range = first[l]..first[l] + rows[l];
        let content: f64 = range.clone().map(|r| above[r] + below[r]).sum::<f64>()
            + ROW_GAP * rows[l].saturating_sub(1) as f64;
        let header = 2.0 * 10.0 + lane.lines.len() as f64 * HEADER_LINE;
        let height = (LANE_PAD_TOP + content + route::LANE_TRACKS_H)
            .max(header)
            .max(LANE_MIN_H);
        // Spare height (from a tall header) is shared above and below the rows.
        let spare = height - (LANE_PAD_TOP + content + route::LANE_TRACKS_H);
        let mut row_top = y + LANE_PAD_TOP + spare / 2.0;
        for r in range {
            axis[r] = row_top + above[r];
            row_top += above[r] + below[r] + ROW_GAP;
        }
        lane.band = Rect {
            x: MARGIN,
            y,
            width: 0.0,
            height,
        };
        lane.header = Rect {
            x: MARGIN,
            y,
            width: HEADER_W,
            height,
        };
        y += height;
    }
    for node in nodes.iter_mut() {
        let centre = axis[first[node.lane] + node.slot];
        node.body.y = centre - node.body.height / 2.0;
        node.bounds.y = node.body.y;
    }
    first
}

/// Column widths and the gaps between them (wide enough for the labels and vertical
/// segments planned there), then every node's x. Returns the drawing's width.
fn place_columns(view: &View, nodes: &mut [Node], plan: &mut Plan) -> f64 {
    let columns = view.rank.iter().max().map_or(0, |r| r + 1);
    let mut width = vec![0.0f64; columns];
    for node in nodes.iter() {
        width[node.rank] = width[node.rank].max(node.bounds.width);
    }
    let gaps = plan.gap_widths(view, nodes, &width);
    let mut x = MARGIN + HEADER_W;
    let mut column_x = vec![0.0; columns];
    for (c, gap) in gaps.iter().enumerate() {
        plan.set_gap_x(c, x);
        x += gap;
        if let Some(w) = width.get(c) {
            column_x[c] = x;
            x += w;
        }
    }
    for node in nodes.iter_mut() {
        let c = node.rank;
        node.bounds.x = column_x[c] + (width[c] - node.bounds.width) / 2.0;
        node.body.x = column_x[c] + (width[c] - node.body.width) / 2.0;
    }
    x + MARGIN
}

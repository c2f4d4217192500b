//! Edge routing: orthogonal polylines whose vertical segments run only in the gaps between
//! columns (where no step stands) and whose horizontal segments run along a row that is free
//! between the two ends, or along a track under a lane. Loops back for rework always take the
//! track, so they read apart from the forward flow.
//!
//! Routing is planned before columns get their x (the plan decides which gap holds which
//! vertical and how much room the labels need there), then drawn.

use super::labels::{text_width, truncate};
use super::layout::{EdgeLine, Lane, Node, Point, Rect, Shape};
use super::view::View;

/// Tracks under each lane's rows, for loops and for edges whose rows are blocked.
const LANE_TRACKS: usize = 3;
const LANE_TRACK_STEP: f64 = 6.0;
const LANE_TRACK_TOP: f64 = 10.0;
pub(super) const LANE_TRACKS_H: f64 = LANE_TRACK_TOP + LANE_TRACKS as f64 * LANE_TRACK_STEP + 6.0;
/// Vertical tracks in a gap; more verticals than this share them.
const GAP_TRACKS: usize = 6;
const GAP_TRACK_STEP: f64 = 8.0;
const GAP_PAD: f64 = 12.0;
const GAP_MIN: f64 = 40.0;
pub(super) const LABEL_FONT: f64 = 10.0;
const LABEL_CHARS: usize = 34;
const LABEL_DX: f64 = 5.0;

/// Where an edge meets a shape: the y, and how far the border there stands in from the
/// shape's bounding box (a diamond's or circle's side recedes away from the middle).
#[derive(Debug, Clone, Copy, Default)]
struct Port {
    y: f64,
    inset: f64,
}

#[derive(Debug, Clone, Copy)]
enum Route {
    /// Source and target face each other on a free row.
    Straight,
    /// Along a free row, a vertical in a gap, along the other row.
    Bend { gap: usize, track: usize },
    /// Down to a track under the source's lane, along it, and up or down to the target.
    Under {
        out_gap: usize,
        out_track: usize,
        lane_track: usize,
        in_gap: usize,
        in_track: usize,
    },
}

#[derive(Debug)]
struct Planned {
    out: Port,
    inn: Port,
    route: Route,
    text: Option<String>,
    text_width: f64,
}

#[derive(Debug)]
pub(super) struct Plan {
    edges: Vec<Planned>,
    /// Verticals planned in each gap (gap `g` is left of column `g`).
    gap_verticals: Vec<usize>,
    /// Room the labels need at the left of each gap, then each gap's x.
    gap_labels: Vec<f64>,
    gap_x: Vec<f64>,
}

/// Decides ports and routes. Nodes must have their y (rows placed), not yet their x.
pub(super) fn plan(view: &View, nodes: &[Node], lanes: &[Lane], first_row: &[usize]) -> Plan {
    let columns = nodes.iter().map(|n| n.rank + 1).max().unwrap_or(0);
    let (out, inn) = ports(view, nodes, lanes);

    let row = |n: usize| first_row[nodes[n].lane] + nodes[n].slot;
    let rows = (0..nodes.len()).map(|n| row(n) + 1).max().unwrap_or(0);
    // The columns taken in each row, to tell whether a horizontal run along it is free.
    let mut occupied: Vec<Vec<usize>> = vec![Vec::new(); rows];
    for (n, node) in nodes.iter().enumerate() {
        occupied[row(n)].push(node.rank);
    }
    for r in &mut occupied {
        r.sort_unstable();
    }
    // Nothing stands in the row strictly between the two columns.
    let free = |r: usize, lo: usize, hi: usize| {
        occupied.get(r).is_none_or(|ranks| {
            let i = ranks.partition_point(|&k| k <= lo);
            ranks.get(i).is_none_or(|&k| k >= hi)
        })
    };

    let mut gap_verticals = vec![0usize; columns + 1];
    let mut vertical = |gap: usize| {
        let track = gap_verticals[gap];
        gap_verticals[gap] += 1;
        track
    };
    let mut lane_tracks = vec![0usize; first_row.len()];
    let edges = view
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (a, b) = (e.from, e.to);
            let (ra, rb) = (nodes[a].rank, nodes[b].rank);
            let route = if !e.back && free(row(a), ra, rb) {
                if row(a) == row(b) && (out[i].y - inn[i].y).abs() < 0.01 {
                    Route::Straight
                } else {
                    // Stay in the source's row as long as possible: the hand-over to another
                    // lane happens next to the step that receives it.
                    Route::Bend {
                        gap: rb,
                        track: vertical(rb),
                    }
                }
            } else if !e.back && free(row(b), ra, rb) {
                Route::Bend {
                    gap: ra + 1,
                    track: vertical(ra + 1),
                }
            } else {
                let lane = nodes[a].lane;
                let lane_track = lane_tracks[lane];
                lane_tracks[lane] += 1;
                Route::Under {
                    out_gap: ra + 1,
                    out_track: vertical(ra + 1),
                    lane_track,
                    in_gap: rb,
                    in_track: vertical(rb),
                }
            };
            let text = e.label().map(|l| truncate(&l, LABEL_CHARS));
            Planned {
                out: out[i],
                inn: inn[i],
                route,
                text_width: text.as_deref().map_or(0.0, |t| text_width(t, LABEL_FONT)),
                text,
            }
        })
        .collect();
    Plan {
        edges,
        gap_verticals,
        gap_labels: vec![0.0; columns + 1],
        gap_x: vec![0.0; columns + 1],
    }
}

impl Plan {
    /// The width of every gap, given the column widths: room for the labels of the edges that
    /// leave the column before it, then for its verticals.
    pub(super) fn gap_widths(&mut self, view: &View, nodes: &[Node], column: &[f64]) -> Vec<f64> {
        for (p, e) in self.edges.iter().zip(&view.edges) {
            if p.text.is_none() {
                continue;
            }
            let node = &nodes[e.from];
            let c = node.rank;
            // Labels start right of the shape, which may stand inside the column.
            let slack = (column[c] - node.body.width) / 2.0;
            let need = LABEL_DX + p.text_width + 4.0 - slack;
            self.gap_labels[c + 1] = self.gap_labels[c + 1].max(need);
        }
        self.gap_labels
            .iter()
            .zip(&self.gap_verticals)
            .map(|(label, &v)| {
                let tracks = v.min(GAP_TRACKS) as f64;
                (label + GAP_PAD + tracks * GAP_TRACK_STEP + GAP_PAD).max(GAP_MIN)
            })
            .collect()
    }

    pub(super) fn set_gap_x(&mut self, gap: usize, x: f64) {
        if let Some(g) = self.gap_x.get_mut(gap) {
            *g = x;
        }
    }

    fn track_x(&self, gap: usize, track: usize) -> f64 {
        self.gap_x[gap]
            + self.gap_labels[gap]
            + GAP_PAD
            + (track % GAP_TRACKS) as f64 * GAP_TRACK_STEP
    }
}

/// The polylines, once every node has its place.
pub(super) fn draw(view: &View, nodes: &[Node], lanes: &[Lane], plan: &Plan) -> Vec<EdgeLine> {
    plan.edges
        .iter()
        .zip(&view.edges)
        .map(|(p, e)| {
            let (a, b) = (&nodes[e.from], &nodes[e.to]);
            let s = Point {
                x: a.body.right() - p.out.inset,
                y: p.out.y,
            };
            let t = Point {
                x: b.body.x + p.inn.inset,
                y: p.inn.y,
            };
            let points = match p.route {
                Route::Straight => vec![s, t],
                Route::Bend { gap, track } => {
                    let x = plan.track_x(gap, track);
                    vec![s, Point { x, y: s.y }, Point { x, y: t.y }, t]
                }
                Route::Under {
                    out_gap,
                    out_track,
                    lane_track,
                    in_gap,
                    in_track,
                } => {
                    let x1 = plan.track_x(out_gap, out_track);
                    let x2 = plan.track_x(in_gap, in_track);
                    let y = lane_track_y(&lanes[a.lane].band, lane_track);
                    vec![
                        s,
                        Point { x: x1, y: s.y },
                        Point { x: x1, y },
                        Point { x: x2, y },
                        Point { x: x2, y: t.y },
                        t,
                    ]
                }
            };
            // A label under the line when the edge leaves below the middle, so the labels of
            // a fan of edges stack without touching and stay off a diamond's lower side.
            let below = p.out.y > a.body.center().y + 0.5;
            // All labels of a step start at one x, right of the shape's widest point.
            let label_at = p.text.as_ref().map(|_| Point {
                x: a.body.right() + LABEL_DX,
                y: if below {
                    s.y + LABEL_FONT + 1.0
                } else {
                    s.y - 4.0
                },
            });
            EdgeLine {
                from: e.from,
                to: e.to,
                points: simplify(points),
                label: e.label(),
                label_text: p.text.clone(),
                label_at,
                back: e.back,
            }
        })
        .collect()
}

fn lane_track_y(band: &Rect, track: usize) -> f64 {
    band.bottom() - LANE_TRACKS_H + LANE_TRACK_TOP + (track % LANE_TRACKS) as f64 * LANE_TRACK_STEP
}

/// Spreads each node's edges along its sides: outgoing on the right, ordered by where they
/// go, incoming on the left, ordered by where they come from, so they do not cross at the
/// node.
fn ports(view: &View, nodes: &[Node], lanes: &[Lane]) -> (Vec<Port>, Vec<Port>) {
    let mut out = vec![Port::default(); view.edges.len()];
    let mut inn = vec![Port::default(); view.edges.len()];
    let centre = |n: usize| nodes[n].body.center().y;
    for (n, node) in nodes.iter().enumerate() {
        let mut outgoing = view.outgoing[n].clone();
        // Loops head down to the track under the lane: they leave lowest.
        let key = |e: usize| {
            let edge = &view.edges[e];
            if edge.back {
                f64::INFINITY
            } else {
                centre(edge.to)
            }
        };
        outgoing.sort_by(|&x, &y| key(x).total_cmp(&key(y)).then(x.cmp(&y)));
        spread(node, &outgoing, &mut out);

        let mut incoming = view.incoming[n].clone();
        let key = |e: usize| {
            let edge = &view.edges[e];
            if edge.back {
                // A loop arrives from the track under its source's lane.
                lane_track_y(&lanes[nodes[edge.from].lane].band, 0)
            } else {
                centre(edge.from)
            }
        };
        incoming.sort_by(|&x, &y| key(x).total_cmp(&key(y)).then(x.cmp(&y)));
        spread(node, &incoming, &mut inn);
    }
    // Between two steps of one row, line the ports up so the edge is straight: a step with a
    // single way in takes the edge where its source put it, else a step with a single way out
    // sends it where the target expects it.
    let same_row = |a: &Node, b: &Node| a.lane == b.lane && a.slot == b.slot;
    for (i, e) in view.edges.iter().enumerate() {
        let (a, b) = (&nodes[e.from], &nodes[e.to]);
        if e.back || !same_row(a, b) {
            continue;
        }
        if view.incoming[e.to].len() == 1 && fits(b, out[i].y) {
            inn[i] = port(b, out[i].y);
        } else if view.outgoing[e.from].len() == 1 && fits(a, inn[i].y) {
            out[i] = port(a, inn[i].y);
        }
    }
    (out, inn)
}

/// Whether an edge may meet the node's side at `y`: not at a corner, nor at a diamond's or
/// circle's tip where it would be hard to see.
fn fits(node: &Node, y: f64) -> bool {
    let margin = if node.shape.is_box() {
        6.0
    } else {
        node.body.height / 4.0
    };
    y >= node.body.y + margin && y <= node.body.bottom() - margin
}

fn port(node: &Node, y: f64) -> Port {
    Port {
        y,
        inset: inset(node.shape, &node.body, y),
    }
}

fn spread(node: &Node, edges: &[usize], ports: &mut [Port]) {
    let k = edges.len() as f64;
    for (i, &e) in edges.iter().enumerate() {
        ports[e] = port(
            node,
            node.body.y + node.body.height * (i as f64 + 1.0) / (k + 1.0),
        );
    }
}

/// How far a shape's side at height `y` stands in from its bounding box.
fn inset(shape: Shape, body: &Rect, y: f64) -> f64 {
    let half_w = body.width / 2.0;
    let half_h = body.height / 2.0;
    let dy = (y - body.center().y).abs().min(half_h);
    match shape {
        Shape::Task | Shape::System | Shape::Dispatch => 0.0,
        Shape::End(_) => half_w - (half_w * half_w - dy * dy).max(0.0).sqrt(),
        Shape::Exclusive | Shape::Parallel | Shape::Join => {
            if half_h > 0.0 {
                half_w * dy / half_h
            } else {
                0.0
            }
        }
    }
}

/// Drops repeated points and the middle of three points on one line.
fn simplify(points: Vec<Point>) -> Vec<Point> {
    let close = |a: f64, b: f64| (a - b).abs() < 0.01;
    let mut out: Vec<Point> = Vec::with_capacity(points.len());
    for p in points {
        if out
            .last()
            .is_some_and(|q| close(q.x, p.x) && close(q.y, p.y))
        {
            continue;
        }
        if let [.., a, b] = out.as_slice()
            && ((close(a.x, b.x) && close(b.x, p.x)) || (close(a.y, b.y) && close(b.y, p.y)))
        {
            out.pop();
        }
        out.push(p);
    }
    out
}

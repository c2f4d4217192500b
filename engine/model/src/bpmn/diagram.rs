//! Coordinates for BPMN DI, from the swimlane layout: the plan's nodes and flows are laid out
//! as a sketch (so every node sits inside its lane and none overlaps another), then the lanes
//! are grouped into pools with a gap between pools, the applicant's pool goes on top, each
//! deadline's boundary event and the end event after it are hung under their task (in room
//! the sketch kept free there), and message flows run in the gaps between columns and
//! between pools, where no shape stands.

use crate::compile::Process;
use crate::model::Step;
use crate::render::{
    Point, Rect, Shape, Sketch, SketchEdge, SketchLane, SketchNode, layout_sketch,
};
use crate::text::Lang;

use super::plan::{NodeKind, Plan};
use super::words;

/// Outer margin (the layout's).
const MARGIN: f64 = 16.0;
/// The layout's band for its title, which BPMN does not draw.
const TITLE_H: f64 = 40.0;
/// The layout's lane header width, and the label strips BPMN draws instead (pool and lane).
const HEADER_W: f64 = 150.0;
const STRIP: f64 = 30.0;
const APPLICANT_H: f64 = 60.0;
const POOL_GAP: f64 = 30.0;
/// Under a task with deadlines: the boundary events on its lower side, their labels, and
/// the end events after them.
const BELOW: f64 = 92.0;
const EVENT: f64 = 36.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Diagram {
    pub width: f64,
    pub height: f64,
    pub applicant: Rect,
    /// Pools with a process, in `plan.orgs` order.
    pub pools: Vec<Rect>,
    pub lanes: Vec<Rect>,
    /// Each node's shape and, for events and gateways, its label under it.
    pub nodes: Vec<Rect>,
    pub labels: Vec<Option<Rect>>,
    pub flows: Vec<Vec<Point>>,
    /// Per deadline: the boundary event, its label, the end event, its label, the flow.
    pub boundaries: Vec<Rect>,
    pub boundary_labels: Vec<Rect>,
    pub breach_ends: Vec<Rect>,
    pub breach_labels: Vec<Rect>,
    pub breach_flows: Vec<Vec<Point>>,
    pub messages: Vec<Vec<Point>>,
}

fn shape(p: &Process, kind: NodeKind) -> Shape {
    let circle = Shape::End(crate::model::CaseResult::Granted);
    match kind {
        NodeKind::Step(s) => match p.step(s) {
            Step::Task(_) => Shape::Task,
            Step::System(_) => Shape::System,
            Step::Exclusive(_) => Shape::Exclusive,
            Step::Parallel(_) => Shape::Parallel,
            Step::Join(_) => Shape::Join,
            Step::Dispatch(_) | Step::End(_) => circle,
        },
        NodeKind::Outcomes(_) | NodeKind::Merge => Shape::Exclusive,
        NodeKind::EndCopy(_) | NodeKind::ChannelStart(_) | NodeKind::HandOut | NodeKind::HandIn => {
            circle
        }
    }
}

fn sketch(p: &Process, plan: &Plan, lang: Lang) -> Sketch {
    let roles = &p.regulation.roles;
    let lanes = plan
        .lanes
        .iter()
        .map(|l| match l.role {
            Some(r) => SketchLane {
                role: Some(roles[r].id.clone()),
                name: roles[r].name.get(lang).to_string(),
                system: roles[r].kind == crate::model::RoleKind::System,
            },
            None => SketchLane {
                role: None,
                name: words::process_lane(lang).to_string(),
                system: false,
            },
        })
        .collect();
    let mut has_deadline = vec![false; plan.nodes.len()];
    for d in &plan.deadlines {
        has_deadline[d.node] = true;
    }
    let nodes = plan
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| SketchNode {
            id: n.id.clone(),
            step: match n.kind {
                NodeKind::Step(s) => Some(s),
                _ => None,
            },
            shape: shape(p, n.kind),
            name: n.name.clone(),
            details: Vec::new(),
            lane: n.lane,
            below: if has_deadline[i] { BELOW } else { 0.0 },
        })
        .collect();
    let edges = plan
        .flows
        .iter()
        .map(|f| SketchEdge {
            from: f.from,
            to: f.to,
            label: f.name.clone(),
        })
        .collect();
    Sketch {
        lanes,
        nodes,
        edges,
    }
}

fn moved(r: Rect, dx: f64, dy: f64) -> Rect {
    Rect {
        x: r.x + dx,
        y: r.y + dy,
        ..r
    }
}

/// Lays the plan out.
pub fn diagram(p: &Process, plan: &Plan, lang: Lang) -> Diagram {
    let layout = layout_sketch(p, &sketch(p, plan, lang));
    let dx = 2.0 * STRIP - HEADER_W;
    let top = MARGIN + APPLICANT_H + POOL_GAP;
    let pool_of = |lane: usize| {
        plan.orgs
            .iter()
            .position(|o| *o == plan.lanes[lane].org)
            .unwrap_or(0)
    };
    let dy = |lane: usize| top - TITLE_H + pool_of(lane) as f64 * POOL_GAP;
    let width = layout.width + dx;

    let lanes: Vec<Rect> = layout
        .lanes
        .iter()
        .enumerate()
        .map(|(l, lane)| Rect {
            x: MARGIN + STRIP,
            y: lane.band.y + dy(l),
            width: width - 2.0 * MARGIN - STRIP,
            height: lane.band.height,
        })
        .collect();
    let pools: Vec<Rect> = plan
        .orgs
        .iter()
        .map(|org| {
            let mine: Vec<&Rect> = lanes
                .iter()
                .zip(&plan.lanes)
                .filter(|(_, l)| l.org == *org)
                .map(|(r, _)| r)
                .collect();
            let y = mine.iter().map(|r| r.y).fold(f64::MAX, f64::min);
            let bottom = mine.iter().map(|r| r.bottom()).fold(f64::MIN, f64::max);
            Rect {
                x: MARGIN,
                y,
                width: width - 2.0 * MARGIN,
                height: bottom - y,
            }
        })
        .collect();
    let applicant = Rect {
        x: MARGIN,
        y: MARGIN,
        width: width - 2.0 * MARGIN,
        height: APPLICANT_H,
    };

    let mut nodes = Vec::with_capacity(layout.nodes.len());
    let mut labels = Vec::with_capacity(layout.nodes.len());
    for n in &layout.nodes {
        let y = dy(n.lane);
        let body = moved(n.body, dx, y);
        nodes.push(body);
        let caption = n.bounds.height - n.body.height;
        labels.push((!n.shape.is_box() && caption > 1.0).then(|| Rect {
            x: n.bounds.x + dx,
            y: body.bottom() + 4.0,
            width: n.bounds.width,
            height: caption - 4.0,
        }));
    }
    let flows = layout
        .edges
        .iter()
        .map(|e| {
            let y = dy(layout.nodes[e.from].lane);
            e.points
                .iter()
                .map(|q| Point {
                    x: q.x + dx,
                    y: q.y + y,
                })
                .collect()
        })
        .collect();

    // Deadlines: boundary events along the task's lower side from the left, each with its
    // label to its right and its end event straight under it.
    let mut boundaries = Vec::new();
    let mut boundary_labels = Vec::new();
    let mut breach_ends = Vec::new();
    let mut breach_labels = Vec::new();
    let mut breach_flows = Vec::new();
    let mut index = 0;
    while index < plan.deadlines.len() {
        let node = plan.deadlines[index].node;
        let k = plan.deadlines[index..]
            .iter()
            .take_while(|d| d.node == node)
            .count();
        let b = nodes[node];
        let pitch = (b.width - 20.0) / k as f64;
        let d = EVENT.min(pitch - 4.0);
        for j in 0..k {
            let cx = b.x + 20.0 + j as f64 * pitch;
            boundaries.push(Rect {
                x: cx - d / 2.0,
                y: b.bottom() - d / 2.0,
                width: d,
                height: d,
            });
            let label_w = if j + 1 == k {
                b.right() - (cx + d / 2.0 + 4.0)
            } else {
                pitch - d - 4.0
            };
            boundary_labels.push(Rect {
                x: cx + d / 2.0 + 2.0,
                y: b.bottom() + 2.0,
                width: label_w.max(10.0),
                height: 28.0,
            });
            let ey = b.bottom() + 66.0;
            breach_ends.push(Rect {
                x: cx - d / 2.0,
                y: ey - d / 2.0,
                width: d,
                height: d,
            });
            breach_labels.push(Rect {
                x: cx + d / 2.0 + 4.0,
                y: ey - 20.0,
                width: label_w.max(10.0),
                height: 40.0,
            });
            breach_flows.push(vec![
                Point {
                    x: cx,
                    y: b.bottom() + d / 2.0,
                },
                Point {
                    x: cx,
                    y: ey - d / 2.0,
                },
            ]);
        }
        index += k;
    }

    // Message flows: out of a pool through the gap right of the sender's column, along the
    // gap between pools, and in through the gap left of the receiver's column.
    let columns = layout.nodes.iter().map(|n| n.rank + 1).max().unwrap_or(0);
    let mut left = vec![f64::MAX; columns];
    let mut right = vec![f64::MIN; columns];
    for n in &layout.nodes {
        left[n.rank] = left[n.rank].min(n.bounds.x + dx);
        right[n.rank] = right[n.rank].max(n.bounds.right() + dx);
    }
    let org_index = |node: usize| pool_of(plan.nodes[node].lane);
    let messages = plan
        .messages
        .iter()
        .map(|m| {
            let t = nodes[m.to];
            let x2 = left[layout.nodes[m.to].rank] - 6.0;
            let arrive = [
                Point {
                    x: x2,
                    y: t.center().y,
                },
                Point {
                    x: t.x,
                    y: t.center().y,
                },
            ];
            match m.from {
                None => {
                    let mut pts = vec![Point {
                        x: x2,
                        y: applicant.bottom(),
                    }];
                    pts.extend(arrive);
                    pts
                }
                Some(from) => {
                    let s = nodes[from];
                    let x1 = right[layout.nodes[from].rank] + 6.0;
                    let (po, pi) = (org_index(from), org_index(m.to));
                    let corridor = if pi > po {
                        pools[pi].y - POOL_GAP / 2.0
                    } else {
                        pools[pi].bottom() + POOL_GAP / 2.0
                    };
                    let mut pts = vec![
                        Point {
                            x: s.right(),
                            y: s.center().y,
                        },
                        Point {
                            x: x1,
                            y: s.center().y,
                        },
                        Point { x: x1, y: corridor },
                        Point { x: x2, y: corridor },
                    ];
                    pts.extend(arrive);
                    pts
                }
            }
        })
        .collect();

    let height = pools
        .last()
        .map_or(applicant.bottom(), |p| p.bottom())
        .max(applicant.bottom())
        + MARGIN;
    Diagram {
        width,
        height,
        applicant,
        pools,
        lanes,
        nodes,
        labels,
        flows,
        boundaries,
        boundary_labels,
        breach_ends,
        breach_labels,
        breach_flows,
        messages,
    }
}

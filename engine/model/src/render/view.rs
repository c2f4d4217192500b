//! What a diagram shows of a process, as a plain graph: the visible steps, their edges (with
//! parallel edges merged), which edges loop back, each step's rank (column) and lane.
//! Every output format starts from here, so they agree on what is drawn where.

use std::collections::{HashMap, VecDeque};

use crate::compile::Process;
use crate::paths::channel_successors;
use crate::text::Lang;

use super::Options;
use super::labels;

/// An edge between two shown steps. Outcomes of one step that lead to the same place
/// («grant» and «refuse» both go to signing) are drawn as one edge with both names.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewEdge {
    /// Node indices (positions in [`View::steps`]).
    pub from: usize,
    pub to: usize,
    pub labels: Vec<String>,
    /// The edge goes back to a step already on the way here: a loop for rework.
    pub back: bool,
}

impl ViewEdge {
    pub fn label(&self) -> Option<String> {
        (!self.labels.is_empty()).then(|| self.labels.join(" / "))
    }
}

/// A lane: a role's, or the process lane for steps no role's lane took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneInfo {
    /// Index into `regulation.roles`; `None` for the process lane.
    pub role: Option<usize>,
}

#[derive(Debug)]
pub struct View<'p> {
    pub process: &'p Process,
    /// Shown steps (indices into `regulation.steps`), in declaration order.
    pub steps: Vec<usize>,
    pub edges: Vec<ViewEdge>,
    /// Edge indices leaving and entering each node, in declaration order.
    pub outgoing: Vec<Vec<usize>>,
    pub incoming: Vec<Vec<usize>>,
    /// Longest-path layer of each node over the forward edges.
    pub rank: Vec<usize>,
    /// Index into `lanes` of each node.
    pub lane: Vec<usize>,
    pub lanes: Vec<LaneInfo>,
    /// Nodes in a topological order of the forward edges.
    pub topo: Vec<usize>,
}

impl<'p> View<'p> {
    pub fn new(process: &'p Process, options: &Options) -> View<'p> {
        let channel = options.channel.as_deref();
        let shown = shown_steps(process, channel);
        let steps: Vec<usize> = (0..shown.len()).filter(|&s| shown[s]).collect();
        let mut node_of = vec![usize::MAX; shown.len()];
        for (node, &step) in steps.iter().enumerate() {
            node_of[step] = node;
        }
        let edges = edges(process, &steps, &node_of, channel, options.lang);
        let mut outgoing = vec![Vec::new(); steps.len()];
        let mut incoming = vec![Vec::new(); steps.len()];
        for (i, e) in edges.iter().enumerate() {
            outgoing[e.from].push(i);
            incoming[e.to].push(i);
        }
        let mut view = View {
            process,
            steps,
            edges,
            outgoing,
            incoming,
            rank: Vec::new(),
            lane: Vec::new(),
            lanes: Vec::new(),
            topo: Vec::new(),
        };
        let roots = view.roots(channel, &node_of);
        view.mark_back_edges(&roots);
        view.rank_nodes();
        view.assign_lanes(channel.is_some());
        view
    }

    /// A view of a graph given node by node (see [`super::sketch`]): steps and the shapes an
    /// output adds around them, each already in its lane. `steps[n]` is `usize::MAX` for a
    /// node that is no step. Sources (nodes nothing leads to, such as start events) stand
    /// one column before the first node they lead to, not in the first column.
    pub(super) fn from_graph(
        process: &'p Process,
        nodes: Vec<usize>,
        edges: Vec<ViewEdge>,
        lane: Vec<usize>,
        lanes: usize,
    ) -> View<'p> {
        let mut outgoing = vec![Vec::new(); nodes.len()];
        let mut incoming = vec![Vec::new(); nodes.len()];
        for (i, e) in edges.iter().enumerate() {
            outgoing[e.from].push(i);
            incoming[e.to].push(i);
        }
        let roots: Vec<usize> = (0..nodes.len())
            .filter(|&n| incoming[n].is_empty())
            .chain(0..nodes.len())
            .collect();
        let mut view = View {
            process,
            steps: nodes,
            edges,
            outgoing,
            incoming,
            rank: Vec::new(),
            lane,
            lanes: vec![LaneInfo { role: None }; lanes],
            topo: Vec::new(),
        };
        view.mark_back_edges(&roots);
        view.rank_nodes();
        for i in (0..view.topo.len()).rev() {
            let node = view.topo[i];
            if view.forward_in(node).next().is_some() {
                continue;
            }
            let nearest = view.forward_out(node).map(|(_, to)| view.rank[to]).min();
            if let Some(r) = nearest {
                view.rank[node] = view.rank[node].max(r.saturating_sub(1));
            }
        }
        view
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Forward edges entering `node`, as (edge index, source node).
    pub fn forward_in(&self, node: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.incoming[node]
            .iter()
            .filter(|&&e| !self.edges[e].back)
            .map(|&e| (e, self.edges[e].from))
    }

    /// Forward edges leaving `node`, as (edge index, target node).
    pub fn forward_out(&self, node: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.outgoing[node]
            .iter()
            .filter(|&&e| !self.edges[e].back)
            .map(|&e| (e, self.edges[e].to))
    }

    /// The lane's heading in `lang`.
    pub fn lane_name(&self, lane: usize, lang: Lang) -> String {
        match self.lanes.get(lane).and_then(|l| l.role) {
            Some(r) => self.process.regulation.roles[r].name.get(lang).to_string(),
            None => labels::process_lane(lang).to_string(),
        }
    }

    /// The role id of a lane (`None` for the process lane).
    pub fn lane_role(&self, lane: usize) -> Option<&str> {
        self.lanes
            .get(lane)
            .and_then(|l| l.role)
            .map(|r| self.process.regulation.roles[r].id.as_str())
    }

    /// Where depth-first search starts: the channels' first steps, so the loops it finds are
    /// the rework loops as a case meets them, then whatever no channel reaches.
    fn roots(&self, channel: Option<&str>, node_of: &[usize]) -> Vec<usize> {
        let p = self.process;
        let starts = p
            .regulation
            .channels
            .iter()
            .filter(|c| channel.is_none_or(|want| c.id == want))
            .filter_map(|c| p.step_index(&c.start))
            .map(|s| node_of[s])
            .filter(|&n| n != usize::MAX);
        starts.chain(0..self.len()).collect()
    }

    /// Marks back edges (to a node still on the depth-first stack) and records the
    /// topological order of what remains (reverse post-order).
    fn mark_back_edges(&mut self, roots: &[usize]) {
        let n = self.len();
        // 0 unvisited, 1 on the stack, 2 finished.
        let mut state = vec![0u8; n];
        let mut post = Vec::with_capacity(n);
        // Iterative: a 5,000-step chain would overflow the call stack.
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for &root in roots {
            if state[root] != 0 {
                continue;
            }
            state[root] = 1;
            stack.push((root, 0));
            while let Some(top) = stack.last_mut() {
                let (node, cursor) = *top;
                if let Some(&e) = self.outgoing[node].get(cursor) {
                    top.1 += 1;
                    let to = self.edges[e].to;
                    match state[to] {
                        0 => {
                            state[to] = 1;
                            stack.push((to, 0));
                        }
                        1 => self.edges[e].back = true,
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    post.push(node);
                    stack.pop();
                }
            }
        }
        post.reverse();
        self.topo = post;
    }

    /// Longest-path layering. Reversing a back edge would only ask its source to stand right
    /// of its target, an ancestor it already follows, so leaving loops out is the same.
    fn rank_nodes(&mut self) {
        let mut rank = vec![0usize; self.len()];
        for &node in &self.topo {
            for (_, to) in self.forward_out(node) {
                rank[to] = rank[to].max(rank[node] + 1);
            }
        }
        self.rank = rank;
    }

    /// Steps with a role go in its lane. A step without one (a choice, split, join or end)
    /// goes in the lane of its first predecessor in declaration order, or, if it has none
    /// (a channel that starts at a choice), of its first successor; else in the process lane.
    fn assign_lanes(&mut self, drop_empty: bool) {
        let p = self.process;
        let roles: HashMap<&str, usize> = p
            .regulation
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut role_of: Vec<Option<usize>> = self
            .steps
            .iter()
            .map(|&s| p.step(s).role().and_then(|r| roles.get(r).copied()))
            .collect();
        let has_role: Vec<bool> = role_of.iter().map(Option::is_some).collect();
        for &node in &self.topo {
            if !has_role[node] {
                role_of[node] = self.forward_in(node).find_map(|(_, from)| role_of[from]);
            }
        }
        for &node in self.topo.iter().rev() {
            if role_of[node].is_none() {
                role_of[node] = self.forward_out(node).find_map(|(_, to)| role_of[to]);
            }
        }
        let mut used = vec![!drop_empty; p.regulation.roles.len()];
        for r in role_of.iter().flatten() {
            used[*r] = true;
        }
        let mut lane_of_role = vec![usize::MAX; used.len()];
        for (r, _) in used.iter().enumerate().filter(|(_, u)| **u) {
            lane_of_role[r] = self.lanes.len();
            self.lanes.push(LaneInfo { role: Some(r) });
        }
        let process_lane = self.lanes.len();
        if role_of.iter().any(Option::is_none) || self.lanes.is_empty() {
            self.lanes.push(LaneInfo { role: None });
        }
        self.lane = role_of
            .iter()
            .map(|r| r.map_or(process_lane, |r| lane_of_role[r]))
            .collect();
    }
}

/// The steps a channel's cases can reach (choices decided by the channel), or every step.
fn shown_steps(p: &Process, channel: Option<&str>) -> Vec<bool> {
    let n = p.regulation.steps.len();
    let Some(channel) = channel else {
        return vec![true; n];
    };
    let mut seen = vec![false; n];
    let Some(start) = p.channel(channel).and_then(|c| p.step_index(&c.start)) else {
        return seen;
    };
    seen[start] = true;
    let mut queue = VecDeque::from([start]);
    while let Some(s) = queue.pop_front() {
        for t in channel_successors(p, s, channel) {
            if !seen[t] {
                seen[t] = true;
                queue.push_back(t);
            }
        }
    }
    seen
}

fn edges(
    p: &Process,
    steps: &[usize],
    node_of: &[usize],
    channel: Option<&str>,
    lang: Lang,
) -> Vec<ViewEdge> {
    let mut out: Vec<ViewEdge> = Vec::new();
    for (from, &s) in steps.iter().enumerate() {
        let allowed = channel.map(|c| channel_successors(p, s, c));
        let first = out.len();
        for (edge, t) in p.next_steps(s) {
            let to = node_of[t];
            if to == usize::MAX || allowed.as_ref().is_some_and(|a| !a.contains(&t)) {
                continue;
            }
            let label = labels::edge_label(p, s, edge, lang);
            match out[first..].iter_mut().find(|e| e.to == to) {
                Some(existing) => existing.labels.extend(label),
                None => out.push(ViewEdge {
                    from,
                    to,
                    labels: label.into_iter().collect(),
                    back: false,
                }),
            }
        }
    }
    out
}

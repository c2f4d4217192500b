//! A validated regulation compiled into its process graph: the immutable, shared form the
//! runtime executes and the linter and renderers walk.

use rustc_hash::FxHashMap;
use std::sync::Arc;

use petgraph::Direction;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use sha2::{Digest, Sha256};

use crate::condition::Condition;
use crate::duration::Term;
use crate::model::{Channel, Regulation, Step};

/// Why an edge exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edge {
    /// The single way on from a task, system step, dispatch or join.
    Next,
    /// A named outcome of a task or system step.
    Outcome(String),
    /// The `i`-th conditional branch of an exclusive choice.
    Branch(usize),
    /// The default branch of an exclusive choice.
    Default,
    /// The `i`-th path of a parallel split.
    Split(usize),
}

impl Edge {
    /// A short label for diagrams.
    pub fn label(&self) -> Option<String> {
        match self {
            Edge::Next | Edge::Split(_) => None,
            Edge::Outcome(o) => Some(o.clone()),
            Edge::Branch(i) => Some(format!("#{}", i + 1)),
            Edge::Default => Some("default".to_string()),
        }
    }
}

/// A compiled regulation. Cheap to share: wrap it in an [`Arc`] (see [`Process::shared`]).
#[derive(Debug)]
pub struct Process {
    pub regulation: Regulation,
    /// Node weights are indices into `regulation.steps`.
    pub graph: DiGraph<usize, Edge>,
    nodes: Vec<NodeIndex>,
    /// Step index by id; looked up on every event folded, hence the fast hash.
    by_id: FxHashMap<String, usize>,
    /// Compiled branch conditions, by step index then branch index.
    conditions: FxHashMap<usize, Vec<Condition>>,
    /// For each parallel split (step index), its join (step index).
    join_of: FxHashMap<usize, usize>,
    /// For each join (step index), how many paths it waits for.
    join_arity: FxHashMap<usize, usize>,
    /// Compiled form schemas of tasks, by step index.
    forms: FxHashMap<usize, jsonschema::Validator>,
    /// The compiled application form.
    application_form: Option<jsonschema::Validator>,
    /// SHA-256 of the regulation's canonical JSON: the identity a case is pinned to.
    pub digest: String,
    /// Ways on from each step in declaration order, kept ready for the runtime's hot path.
    succ: Vec<Vec<(Edge, usize)>>,
    /// Step ids and roles as shared strings, so events name them without allocating.
    ids: Vec<Arc<str>>,
    roles: Vec<Option<Arc<str>>>,
}

/// A reference that does not resolve; [`crate::validate`] reports these with places first,
/// so reaching this from validated input is a bug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("step `{from}` leads to `{to}`, which is not a step")]
    UnknownStep { from: String, to: String },
    #[error("channel `{channel}` starts at `{to}`, which is not a step")]
    UnknownStart { channel: String, to: String },
    #[error("step `{step}`, branch {branch}: {message}")]
    Condition {
        step: String,
        branch: usize,
        message: String,
    },
    #[error("the paths of parallel split `{0}` never meet at one join")]
    UnjoinedSplit(String),
    #[error("the form of `{step}` is not a usable JSON Schema: {message}")]
    Form { step: String, message: String },
}

impl Process {
    /// Builds the graph. Fails on the first broken reference.
    pub fn compile(regulation: Regulation) -> Result<Process, CompileError> {
        let mut graph = DiGraph::with_capacity(regulation.steps.len(), regulation.steps.len() * 2);
        let nodes: Vec<NodeIndex> = (0..regulation.steps.len())
            .map(|i| graph.add_node(i))
            .collect();
        let by_id: FxHashMap<String, usize> = regulation
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id().to_string(), i))
            .collect();
        for channel in &regulation.channels {
            if !by_id.contains_key(&channel.start) {
                return Err(CompileError::UnknownStart {
                    channel: channel.id.clone(),
                    to: channel.start.clone(),
                });
            }
        }
        let mut conditions = FxHashMap::default();
        let mut forms = FxHashMap::default();
        let compile_form = |step: &str, schema: &serde_json::Value| {
            jsonschema::validator_for(schema).map_err(|e| CompileError::Form {
                step: step.to_string(),
                message: e.to_string(),
            })
        };
        let application_form = match &regulation.application_form {
            Some(f) => Some(compile_form("application_form", &f.0)?),
            None => None,
        };
        for (i, step) in regulation.steps.iter().enumerate() {
            if let Step::Task(t) = step
                && let Some(form) = &t.form
            {
                forms.insert(i, compile_form(&t.id, &form.0)?);
            }
            for (edge, target) in successors(step) {
                let to = *by_id.get(target).ok_or_else(|| CompileError::UnknownStep {
                    from: step.id().to_string(),
                    to: target.to_string(),
                })?;
                graph.add_edge(nodes[i], nodes[to], edge);
            }
            if let Step::Exclusive(x) = step {
                let compiled = x
                    .branches
                    .iter()
                    .enumerate()
                    .map(|(b, branch)| {
                        Condition::compile(&branch.when).map_err(|e| CompileError::Condition {
                            step: x.id.clone(),
                            branch: b + 1,
                            message: e.to_string(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                conditions.insert(i, compiled);
            }
        }
        let succ: Vec<Vec<(Edge, usize)>> = regulation
            .steps
            .iter()
            .map(|step| {
                successors(step)
                    .into_iter()
                    .filter_map(|(edge, target)| Some((edge, *by_id.get(target)?)))
                    .collect()
            })
            .collect();
        let ids = regulation.steps.iter().map(|s| Arc::from(s.id())).collect();
        let roles = regulation
            .steps
            .iter()
            .map(|s| s.role().map(Arc::from))
            .collect();
        let mut process = Process {
            digest: digest(&regulation),
            succ,
            ids,
            roles,
            regulation,
            graph,
            nodes,
            by_id,
            conditions,
            forms,
            application_form,
            join_of: FxHashMap::default(),
            join_arity: FxHashMap::default(),
        };
        process.pair_joins()?;
        Ok(process)
    }

    pub fn shared(self) -> Arc<Process> {
        Arc::new(self)
    }

    pub fn id(&self) -> &str {
        &self.regulation.id
    }

    pub fn version(&self) -> u32 {
        self.regulation.version
    }

    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn step(&self, index: usize) -> &Step {
        &self.regulation.steps[index]
    }

    pub fn node(&self, step: usize) -> NodeIndex {
        self.nodes[step]
    }

    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.regulation.channels.iter().find(|c| c.id == id)
    }

    /// Outgoing edges of a step as (edge, target step index), in declaration order.
    pub fn next_steps(&self, step: usize) -> Vec<(&Edge, usize)> {
        let mut out: Vec<(EdgeIndex, &Edge, usize)> = self
            .graph
            .edges_directed(self.nodes[step], Direction::Outgoing)
            .map(|e| (e.id(), e.weight(), self.graph[e.target()]))
            .collect();
        // petgraph lists a node's edges newest first; the declared order matters for branches.
        out.sort_by_key(|(id, _, _)| *id);
        out.into_iter().map(|(_, e, t)| (e, t)).collect()
    }

    /// Outgoing edges of a step in declaration order, without allocating.
    pub fn ways_on(&self, step: usize) -> &[(Edge, usize)] {
        self.succ.get(step).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The step's id as a shared string.
    pub fn step_id(&self, step: usize) -> &Arc<str> {
        &self.ids[step]
    }

    /// The step's role as a shared string (tasks, system steps and dispatches have one).
    pub fn step_role(&self, step: usize) -> Option<&Arc<str>> {
        self.roles.get(step).and_then(Option::as_ref)
    }

    /// The target of a step's outcome (or of its single `next` when `outcome` is `None`).
    pub fn follow(&self, step: usize, outcome: Option<&str>) -> Option<usize> {
        self.ways_on(step)
            .iter()
            .find(|(edge, _)| match (edge, outcome) {
                (Edge::Outcome(o), Some(want)) => o == want,
                (Edge::Next, None) => true,
                _ => false,
            })
            .map(|(_, t)| *t)
    }

    /// The compiled form of a task step, if it has one.
    pub fn form(&self, step: usize) -> Option<&jsonschema::Validator> {
        self.forms.get(&step)
    }

    /// The compiled application form, if the regulation has one.
    pub fn application_form(&self) -> Option<&jsonschema::Validator> {
        self.application_form.as_ref()
    }

    pub fn conditions(&self, step: usize) -> &[Condition] {
        self.conditions.get(&step).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn join_of(&self, split: usize) -> Option<usize> {
        self.join_of.get(&split).copied()
    }

    pub fn join_arity(&self, join: usize) -> usize {
        self.join_arity.get(&join).copied().unwrap_or(1)
    }

    /// The duration of a step for a channel: its channel-specific one, else its default.
    pub fn duration(&self, step: usize, channel: &str) -> Option<Term> {
        match &self.regulation.steps[step] {
            Step::Task(t) => t.durations.get(channel).copied().or(t.duration),
            Step::System(s) => s.durations.get(channel).copied().or(s.duration),
            Step::Dispatch(d) => d.duration,
            _ => None,
        }
    }

    /// Each parallel split's join: the first join every one of its paths reaches.
    fn pair_joins(&mut self) -> Result<(), CompileError> {
        for (i, step) in self.regulation.steps.iter().enumerate() {
            let Step::Parallel(split) = step else {
                continue;
            };
            let mut common: Option<Vec<usize>> = None;
            for (_, first) in self.next_steps(i) {
                let reach = self.joins_reachable(first);
                common = Some(match common {
                    None => reach,
                    Some(prev) => prev.into_iter().filter(|j| reach.contains(j)).collect(),
                });
            }
            // Joins are listed in breadth-first order, so the first common one is the nearest.
            let join = common
                .and_then(|c| c.into_iter().next())
                .ok_or_else(|| CompileError::UnjoinedSplit(split.id.clone()))?;
            self.join_of.insert(i, join);
            *self.join_arity.entry(join).or_insert(0) += split.branches.len();
        }
        Ok(())
    }

    /// Joins reachable from `start` (inclusive), nearest first.
    fn joins_reachable(&self, start: usize) -> Vec<usize> {
        let mut seen = vec![false; self.regulation.steps.len()];
        let mut queue = std::collections::VecDeque::from([start]);
        let mut out = Vec::new();
        seen[start] = true;
        while let Some(s) = queue.pop_front() {
            if matches!(self.regulation.steps[s], Step::Join(_)) {
                out.push(s);
            }
            for (_, t) in self.next_steps(s) {
                if !seen[t] {
                    seen[t] = true;
                    queue.push_back(t);
                }
            }
        }
        out
    }
}

/// The steps a step leads to, with the reason, in declaration order.
pub fn successors(step: &Step) -> Vec<(Edge, &str)> {
    match step {
        Step::Task(t) => outcome_edges(&t.outcomes, t.next.as_deref()),
        Step::System(s) => outcome_edges(&s.outcomes, s.next.as_deref()),
        Step::Dispatch(d) => vec![(Edge::Next, d.next.as_str())],
        Step::Exclusive(x) => {
            let mut out: Vec<(Edge, &str)> = x
                .branches
                .iter()
                .enumerate()
                .map(|(i, b)| (Edge::Branch(i), b.next.as_str()))
                .collect();
            if let Some(d) = &x.default {
                out.push((Edge::Default, d.as_str()));
            }
            out
        }
        Step::Parallel(p) => p
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| (Edge::Split(i), b.as_str()))
            .collect(),
        Step::Join(j) => vec![(Edge::Next, j.next.as_str())],
        Step::End(_) => Vec::new(),
    }
}

fn outcome_edges<'a>(
    outcomes: &'a [crate::model::Outcome],
    next: Option<&'a str>,
) -> Vec<(Edge, &'a str)> {
    let mut out: Vec<(Edge, &str)> = outcomes
        .iter()
        .map(|o| (Edge::Outcome(o.id.clone()), o.next.as_str()))
        .collect();
    if let Some(n) = next {
        out.push((Edge::Next, n));
    }
    out
}

/// SHA-256 over the regulation's canonical JSON (serde field order, no whitespace), so the
/// same regulation gives the same digest whatever its YAML layout or comments.
pub fn digest(regulation: &Regulation) -> String {
    let canonical = serde_json::to_vec(regulation).unwrap_or_default();
    let hash = Sha256::digest(&canonical);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Process>();
    }
}
